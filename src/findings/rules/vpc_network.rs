//! VPC network hardening: VPCs without an active flow log, and network ACLs whose ingress
//! entries let the whole internet reach a remote administration port. Read from the
//! `vpc-network` collector's tables.
//!
//! `nacl-admin-port-open` judges each network ACL again from `network-acl-entries.csv` with
//! `crate::judge::nacl` (entries in rule-number order, the first matching entry for the world
//! CIDR deciding, a lower-numbered deny winning), so `report` applies the current logic to an old
//! bundle. A region is judged only when `regions.csv` says the listings behind the rule were
//! read; otherwise the rule is partial for that region, never a pass.

use super::arn;
use crate::contract::vpc_network::{
    FlowLogRow, NaclEntryRow, NetworkAclRow, NetworkRegionRow, VpcRow,
};
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::judge::nacl::{from_row, open_admin_ports, Entry};
use crate::vocab::Severity;

const VPC: &str = crate::contract::vpc_network::ID;

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "vpc-flow-logs-missing",
        title: "VPC without an active flow log",
        severity: Severity::Medium,
        controls: &[Control::Cc7_2],
        references: &["CIS 3.7", "EC2.6"],
        remediation: "Create a flow log for the VPC (at least rejected traffic) to CloudWatch \
                      Logs or S3: `aws ec2 create-flow-logs --resource-type VPC --resource-ids \
                      VPC --traffic-type REJECT --log-destination-type s3 --log-destination \
                      arn:aws:s3:::BUCKET`.",
        needs: Needs::All(&[VPC]),
        evaluate: flow_logs_missing,
    },
    RuleSpec {
        id: "nacl-admin-port-open",
        title: "Network ACL allows the internet to reach port 22 or 3389",
        severity: Severity::Medium,
        controls: &[Control::Cc6_6],
        references: &["CIS 5.1", "EC2.21"],
        remediation: "Add a deny entry for 0.0.0.0/0 (and ::/0) to ports 22 and 3389 numbered \
                      below the allow entry, or narrow the allow entry to known ranges: `aws ec2 \
                      create-network-acl-entry --network-acl-id ACL --ingress --rule-number N \
                      --protocol tcp --port-range From=22,To=22 --cidr-block 0.0.0.0/0 \
                      --rule-action deny`.",
        needs: Needs::All(&[VPC]),
        evaluate: nacl_admin_port_open,
    },
];

/// The status rows of the covered regions the collector read.
fn region_rows(input: &Input, out: &mut Out<'_>) -> Result<Vec<NetworkRegionRow>, String> {
    let rows = input.table::<NetworkRegionRow>()?;
    let mut read = Vec::new();
    for region in &input.regions {
        if !input.region_collected(VPC, region) {
            continue;
        }
        match rows.iter().find(|r| &r.region == region) {
            Some(row) => read.push(row.clone()),
            None => out.partial(format!("{region}: no row in {}", NetworkRegionRow::PATH)),
        }
    }
    Ok(read)
}

fn named(id: &str, name: &str) -> String {
    if name.is_empty() {
        id.to_string()
    } else {
        format!("{id} ({name})")
    }
}

fn flow_logs_missing(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let regions = region_rows(input, out)?;
    let vpcs = input.table::<VpcRow>()?;
    let flow_logs = input.table::<FlowLogRow>()?;
    for region in regions {
        let name = region.region.as_str();
        if !region.vpcs_listed || !region.flow_logs_listed {
            let missing = if region.vpcs_listed {
                "DescribeFlowLogs"
            } else {
                "DescribeVpcs"
            };
            out.partial(format!("{name}: {missing} was not read"));
            continue;
        }
        for vpc in vpcs.iter().filter(|v| v.region == name) {
            let mine: Vec<&FlowLogRow> = flow_logs
                .iter()
                .filter(|f| f.region == name && f.resource_id == vpc.vpc_id)
                .collect();
            if mine.iter().any(|f| f.flow_log_status == "ACTIVE") {
                continue;
            }
            let inactive = if mine.is_empty() {
                "no flow log".to_string()
            } else {
                let ids: Vec<String> = mine
                    .iter()
                    .map(|f| format!("{} ({})", f.flow_log_id, f.flow_log_status))
                    .collect();
                format!("no active flow log (only {})", ids.join(", "))
            };
            let default = if vpc.is_default == Some(true) {
                "Default VPC"
            } else {
                "VPC"
            };
            out.add(
                arn(input, "ec2", name, &format!("vpc/{}", vpc.vpc_id)),
                name,
                format!(
                    "{default} {} has {inactive}: its network traffic is not recorded.",
                    named(&vpc.vpc_id, &vpc.name)
                ),
                VpcRow::PATH,
            );
        }
    }
    Ok(())
}

fn nacl_admin_port_open(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let regions = region_rows(input, out)?;
    let acls = input.table::<NetworkAclRow>()?;
    let entries = input.table::<NaclEntryRow>()?;
    for region in regions {
        let name = region.region.as_str();
        if !region.network_acls_listed {
            out.partial(format!("{name}: DescribeNetworkAcls was not read"));
            continue;
        }
        for acl in acls.iter().filter(|a| a.region == name) {
            let judged: Vec<Entry> = entries
                .iter()
                .filter(|e| e.region == name && e.network_acl_id == acl.network_acl_id)
                .map(from_row)
                .collect();
            let open = open_admin_ports(&judged);
            if open.is_empty() {
                continue;
            }
            let list: Vec<String> = open.iter().map(|o| o.describe()).collect();
            let default = if acl.is_default == Some(true) {
                "Default network ACL"
            } else {
                "Network ACL"
            };
            let subnets = match acl.subnets.iter().count() {
                0 => "no subnet".to_string(),
                1 => "1 subnet".to_string(),
                n => format!("{n} subnets"),
            };
            out.add(
                arn(
                    input,
                    "ec2",
                    name,
                    &format!("network-acl/{}", acl.network_acl_id),
                ),
                name,
                format!(
                    "{default} {} of {} (associated with {subnets}) allows ingress from the \
                     internet to an admin port: {}.",
                    named(&acl.network_acl_id, &acl.name),
                    acl.vpc_id,
                    list.join(", ")
                ),
                NaclEntryRow::PATH,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testkit::{pair, Bundle, EAST, WEST};
    use crate::findings::RuleStatus;

    fn status(region: &str, listed: bool) -> NetworkRegionRow {
        NetworkRegionRow {
            region: region.into(),
            vpcs_listed: true,
            flow_logs_listed: listed,
            network_acls_listed: listed,
        }
    }

    fn vpc(region: &str, id: &str, default: bool) -> VpcRow {
        VpcRow {
            region: region.into(),
            vpc_id: id.into(),
            is_default: Some(default),
            ..VpcRow::default()
        }
    }

    fn flow(region: &str, id: &str, resource: &str, status: &str) -> FlowLogRow {
        FlowLogRow {
            region: region.into(),
            flow_log_id: id.into(),
            resource_id: resource.into(),
            flow_log_status: status.into(),
            ..FlowLogRow::default()
        }
    }

    fn acl(region: &str, id: &str) -> NetworkAclRow {
        NetworkAclRow {
            region: region.into(),
            network_acl_id: id.into(),
            vpc_id: "vpc-1".into(),
            ..NetworkAclRow::default()
        }
    }

    fn entry(
        region: &str,
        acl: &str,
        number: i32,
        protocol: &str,
        action: &str,
        ports: Option<(i32, i32)>,
    ) -> NaclEntryRow {
        NaclEntryRow {
            region: region.into(),
            network_acl_id: acl.into(),
            vpc_id: "vpc-1".into(),
            direction: "ingress".into(),
            rule_number: Some(number),
            protocol: protocol.into(),
            rule_action: action.into(),
            cidr: "0.0.0.0/0".into(),
            from_port: ports.map(|p| p.0),
            to_port: ports.map(|p| p.1),
            ..NaclEntryRow::default()
        }
    }

    fn network(statuses: &[NetworkRegionRow]) -> Bundle {
        Bundle::new()
            .table(&[
                vpc(EAST, "vpc-logged", false),
                vpc(EAST, "vpc-bare", true),
                vpc(WEST, "vpc-inactive", false),
            ])
            .table(&[
                flow(EAST, "fl-1", "vpc-logged", "ACTIVE"),
                flow(WEST, "fl-2", "vpc-inactive", "INACTIVE"),
                flow(WEST, "fl-3", "subnet-1", "ACTIVE"),
            ])
            .table(&[
                acl(EAST, "acl-open"),
                acl(EAST, "acl-guarded"),
                acl(WEST, "acl-w"),
            ])
            .table(&[
                entry(EAST, "acl-open", 100, "-1", "allow", None),
                entry(EAST, "acl-guarded", 90, "6", "deny", Some((22, 22))),
                entry(EAST, "acl-guarded", 91, "-1", "deny", None),
                entry(EAST, "acl-guarded", 100, "-1", "allow", None),
                entry(WEST, "acl-w", 100, "6", "allow", Some((443, 443))),
            ])
            .table(statuses)
            .collected(VPC)
    }

    #[test]
    fn flow_logs_missing_fires_for_vpcs_without_an_active_flow_log() {
        let bundle = network(&[status(EAST, true), status(WEST, true)]);
        let details = bundle.details("vpc-flow-logs-missing");
        assert_eq!(
            details,
            [
                (
                    "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-inactive".to_string(),
                    "VPC vpc-inactive has no active flow log (only fl-2 (INACTIVE)): its \
                     network traffic is not recorded."
                        .to_string()
                ),
                (
                    "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-bare".to_string(),
                    "Default VPC vpc-bare has no flow log: its network traffic is not recorded."
                        .to_string()
                ),
            ]
        );
        let (status_, _, _) = bundle.outcome("vpc-flow-logs-missing");
        assert_eq!(status_, RuleStatus::Evaluated);
    }

    #[test]
    fn nacl_rule_fires_only_when_the_first_matching_world_entry_allows() {
        let bundle = network(&[status(EAST, true), status(WEST, true)]);
        assert_eq!(
            bundle.hits("nacl-admin-port-open"),
            [pair(
                "arn:aws:ec2:us-east-1:123456789012:network-acl/acl-open",
                EAST
            )]
        );
        let (_, detail) = &bundle.details("nacl-admin-port-open")[0];
        assert!(
            detail.contains("0.0.0.0/0 tcp/22 (rule 100), 0.0.0.0/0 tcp/3389 (rule 100)"),
            "{detail}"
        );
        assert!(detail.contains("no subnet"), "{detail}");
    }

    #[test]
    fn a_region_whose_listing_failed_is_partial() {
        let bundle = network(&[status(EAST, true), status(WEST, false)]);
        for rule in ["vpc-flow-logs-missing", "nacl-admin-port-open"] {
            let (state, reason, found) = bundle.outcome(rule);
            assert_eq!(state, RuleStatus::Partial, "{rule}");
            assert!(reason.contains("eu-west-1: Describe"), "{rule}: {reason}");
            assert!(found.iter().all(|f| f.region == EAST), "{rule}");
        }
        let bundle = network(&[status(EAST, true)]);
        let (state, reason, _) = bundle.outcome("vpc-flow-logs-missing");
        assert_eq!(state, RuleStatus::Partial);
        assert!(reason.contains("eu-west-1: no row in"), "{reason}");
    }

    #[test]
    fn not_run_or_another_shape_is_not_evaluated() {
        let (state, reason, _) = Bundle::new().outcome("nacl-admin-port-open");
        assert_eq!(state, RuleStatus::NotEvaluated);
        assert!(reason.contains("vpc-network was not run"), "{reason}");
        let bundle = Bundle::new()
            .file(
                NaclEntryRow::PATH,
                "region,network_acl_id\nus-east-1,acl-1\n",
            )
            .table(&[acl(EAST, "acl-1")])
            .table(&[status(EAST, true), status(WEST, true)])
            .collected(VPC);
        let (state, reason, _) = bundle.outcome("nacl-admin-port-open");
        assert_eq!(state, RuleStatus::NotEvaluated);
        assert!(reason.contains("rule_action"), "{reason}");
    }
}
