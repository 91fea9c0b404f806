//! `vpc-network`: every VPC of each covered region with its flow logs, and every network ACL
//! with its entries and the remote administration ports it opens to the internet.
//!
//! Calls per region, concurrently: `DescribeVpcs`, `DescribeFlowLogs` and
//! `DescribeNetworkAcls`, each paginated with the largest page (1000).
//! Permissions: `ec2:DescribeVpcs`, `ec2:DescribeFlowLogs`, `ec2:DescribeNetworkAcls`.
//! Controls: CC6.6, CC7.2.
//! Files (tables declared in `crate::contract::vpc_network`):
//! - `vpcs.csv`: region, vpc_id, name (its `Name` tag), state, is_default, cidr_block,
//!   ipv6_cidr_blocks, owner_id, active_flow_logs (the ACTIVE flow logs whose resource is the
//!   VPC).
//! - `flow-logs.csv`: region, flow_log_id, resource_id, flow_log_status, deliver_logs_status,
//!   deliver_logs_error_message, traffic_type, log_destination_type, log_destination,
//!   log_group_name, creation_time, max_aggregation_interval.
//! - `network-acls.csv`: region, network_acl_id, vpc_id, name, is_default, subnets,
//!   ingress_entries, egress_entries, admin_ports_open_to_world (`crate::judge::nacl`: the
//!   entries evaluated in rule-number order as AWS does, e.g. `0.0.0.0/0 tcp/22 (rule 100)`).
//! - `network-acl-entries.csv`: one row per entry: region, network_acl_id, vpc_id, direction,
//!   rule_number, protocol (as the API gives it) and protocol_name, rule_action, cidr (IPv4 or
//!   IPv6), from_port, to_port, icmp_type, icmp_code.
//! - `regions.csv`: per covered region, which of the three listings were read whole
//!   (vpcs_listed, flow_logs_listed, network_acls_listed).
//!
//! The three listings of a region stand apart: a failed one is an error of the region
//! (partial) that `regions.csv` names, and the rules over the others still judge the region.

use aws_sdk_ec2::types::{FlowLog, NetworkAcl, Tag, Vpc};

use super::{for_each_region, rfc3339, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use crate::contract::vpc_network::{
    FlowLogRow, NaclEntryRow, NetworkAclRow, NetworkRegionRow, VpcRow,
};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::judge::nacl::{from_row, open_admin_ports, Entry};
use crate::judge::network::Protocol;
use crate::vocab::CallError;
use crate::vocab::Scope;

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::vpc_network::ID,
    title: "VPCs and their flow logs, network ACLs and the admin ports they open",
    controls: &[Control::Cc6_6, Control::Cc7_2],
    scope: Scope::Regional,
    permissions: &[
        "ec2:DescribeFlowLogs",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeVpcs",
    ],
    run,
    optional_permissions: &[],
};

/// The largest page the three listings allow.
const PAGE_SIZE: i32 = 1000;

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

fn text(value: Option<&str>) -> String {
    value.unwrap_or_default().to_string()
}

fn name_tag(tags: &[Tag]) -> String {
    text(
        tags.iter()
            .find(|t| t.key() == Some("Name"))
            .and_then(|t| t.value()),
    )
}

fn vpc_row(region: &str, vpc: &Vpc, flow_logs: &[FlowLogRow]) -> VpcRow {
    let vpc_id = text(vpc.vpc_id());
    VpcRow {
        region: region.to_string(),
        name: name_tag(vpc.tags()),
        state: text(vpc.state().map(|s| s.as_str())),
        is_default: vpc.is_default(),
        cidr_block: text(vpc.cidr_block()),
        ipv6_cidr_blocks: vpc
            .ipv6_cidr_block_association_set()
            .iter()
            .filter_map(|a| a.ipv6_cidr_block())
            .collect(),
        owner_id: text(vpc.owner_id()),
        active_flow_logs: flow_logs
            .iter()
            .filter(|f| f.resource_id == vpc_id && f.flow_log_status == "ACTIVE")
            .map(|f| f.flow_log_id.as_str())
            .collect(),
        vpc_id,
    }
}

fn flow_log_row(region: &str, f: &FlowLog) -> FlowLogRow {
    FlowLogRow {
        region: region.to_string(),
        flow_log_id: text(f.flow_log_id()),
        resource_id: text(f.resource_id()),
        flow_log_status: text(f.flow_log_status()),
        deliver_logs_status: text(f.deliver_logs_status()),
        deliver_logs_error_message: text(f.deliver_logs_error_message()),
        traffic_type: text(f.traffic_type().map(|t| t.as_str())),
        log_destination_type: text(f.log_destination_type().map(|t| t.as_str())),
        log_destination: text(f.log_destination()),
        log_group_name: text(f.log_group_name()),
        creation_time: f.creation_time().map(rfc3339).unwrap_or_default(),
        max_aggregation_interval: f.max_aggregation_interval(),
    }
}

fn entry_rows(region: &str, acl: &NetworkAcl) -> Vec<NaclEntryRow> {
    let mut rows: Vec<NaclEntryRow> = acl
        .entries()
        .iter()
        .map(|e| {
            let protocol = text(e.protocol());
            NaclEntryRow {
                region: region.to_string(),
                network_acl_id: text(acl.network_acl_id()),
                vpc_id: text(acl.vpc_id()),
                direction: if e.egress() == Some(true) {
                    "egress"
                } else {
                    "ingress"
                }
                .to_string(),
                rule_number: e.rule_number(),
                protocol_name: Protocol::parse(&protocol).name().to_string(),
                protocol,
                rule_action: text(e.rule_action().map(|a| a.as_str())),
                cidr: text(e.cidr_block().or(e.ipv6_cidr_block())),
                from_port: e.port_range().and_then(|p| p.from()),
                to_port: e.port_range().and_then(|p| p.to()),
                icmp_type: e.icmp_type_code().and_then(|c| c.r#type()),
                icmp_code: e.icmp_type_code().and_then(|c| c.code()),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.direction.as_str(), a.rule_number).cmp(&(b.direction.as_str(), b.rule_number))
    });
    rows
}

fn acl_row(region: &str, acl: &NetworkAcl, entries: &[NaclEntryRow]) -> NetworkAclRow {
    let judged: Vec<Entry> = entries.iter().map(from_row).collect();
    let mut subnets: Vec<&str> = acl
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id())
        .collect();
    subnets.sort_unstable();
    NetworkAclRow {
        region: region.to_string(),
        network_acl_id: text(acl.network_acl_id()),
        vpc_id: text(acl.vpc_id()),
        name: name_tag(acl.tags()),
        is_default: acl.is_default(),
        subnets: subnets.into_iter().collect(),
        ingress_entries: entries.iter().filter(|e| e.direction == "ingress").count() as u64,
        egress_entries: entries.iter().filter(|e| e.direction == "egress").count() as u64,
        admin_ports_open_to_world: open_admin_ports(&judged)
            .iter()
            .map(|o| o.describe())
            .collect(),
    }
}

#[derive(Default)]
struct RegionTables {
    status: NetworkRegionRow,
    vpcs: Vec<VpcRow>,
    flow_logs: Vec<FlowLogRow>,
    acls: Vec<NetworkAclRow>,
    entries: Vec<NaclEntryRow>,
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let regions = for_each_region(ctx, out, |region| async move {
        let ec2 = ctx.clients.ec2(&region);
        let (vpcs, flow_logs, acls) = tokio::join!(
            ec2.describe_vpcs()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .items()
                .send()
                .try_collect(),
            ec2.describe_flow_logs()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .items()
                .send()
                .try_collect(),
            ec2.describe_network_acls()
                .into_paginator()
                .page_size(PAGE_SIZE)
                .items()
                .send()
                .try_collect(),
        );
        let mut errors = Vec::new();
        let mut tables = RegionTables::default();
        tables.status.region = region.clone();
        match flow_logs {
            Ok(flow_logs) => {
                let flow_logs: Vec<FlowLog> = flow_logs;
                tables.flow_logs = flow_logs.iter().map(|f| flow_log_row(&region, f)).collect();
                tables
                    .flow_logs
                    .sort_by(|a, b| a.flow_log_id.cmp(&b.flow_log_id));
                tables.status.flow_logs_listed = true;
            }
            Err(e) => errors.push(CallError::from_sdk(&region, "DescribeFlowLogs", &e)),
        }
        match vpcs {
            Ok(vpcs) => {
                let vpcs: Vec<Vpc> = vpcs;
                tables.vpcs = vpcs
                    .iter()
                    .map(|v| vpc_row(&region, v, &tables.flow_logs))
                    .collect();
                tables.vpcs.sort_by(|a, b| a.vpc_id.cmp(&b.vpc_id));
                tables.status.vpcs_listed = true;
            }
            Err(e) => errors.push(CallError::from_sdk(&region, "DescribeVpcs", &e)),
        }
        match acls {
            Ok(acls) => {
                let acls: Vec<NetworkAcl> = acls;
                for acl in &acls {
                    let entries = entry_rows(&region, acl);
                    tables.acls.push(acl_row(&region, acl, &entries));
                    tables.entries.extend(entries);
                }
                tables
                    .acls
                    .sort_by(|a, b| a.network_acl_id.cmp(&b.network_acl_id));
                tables.entries.sort_by(|a, b| {
                    (&a.network_acl_id, &a.direction, a.rule_number).cmp(&(
                        &b.network_acl_id,
                        &b.direction,
                        b.rule_number,
                    ))
                });
                tables.status.network_acls_listed = true;
            }
            Err(e) => errors.push(CallError::from_sdk(&region, "DescribeNetworkAcls", &e)),
        }
        Ok(RegionOutput {
            value: tables,
            errors,
        })
    })
    .await?;
    let mut all = RegionTables::default();
    let mut statuses = Vec::new();
    for (_, mut tables) in regions {
        statuses.push(tables.status);
        all.vpcs.append(&mut tables.vpcs);
        all.flow_logs.append(&mut tables.flow_logs);
        all.acls.append(&mut tables.acls);
        all.entries.append(&mut tables.entries);
    }
    out.table(&all.vpcs)?;
    out.table(&all.flow_logs)?;
    out.table(&all.acls)?;
    out.table(&all.entries)?;
    out.table(&statuses)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{NetworkAclEntry, PortRange, RuleAction};

    fn nacl_entry(number: i32, protocol: &str, allow: bool, cidr: &str) -> NetworkAclEntry {
        NetworkAclEntry::builder()
            .rule_number(number)
            .protocol(protocol)
            .egress(false)
            .rule_action(if allow {
                RuleAction::Allow
            } else {
                RuleAction::Deny
            })
            .cidr_block(cidr)
            .build()
    }

    #[test]
    fn an_acl_row_names_what_its_entries_open() {
        let acl = NetworkAcl::builder()
            .network_acl_id("acl-1")
            .vpc_id("vpc-1")
            .is_default(false)
            .entries(nacl_entry(100, "-1", true, "0.0.0.0/0"))
            .entries(
                NetworkAclEntry::builder()
                    .port_range(PortRange::builder().from(22).to(22).build())
                    .set_ipv6_cidr_block(Some("::/0".into()))
                    .rule_number(90)
                    .protocol("6")
                    .egress(false)
                    .rule_action(RuleAction::Deny)
                    .build(),
            )
            .entries(
                NetworkAclEntry::builder()
                    .rule_number(100)
                    .egress(true)
                    .build(),
            )
            .build();
        let entries = entry_rows("us-east-1", &acl);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].direction, "egress");
        assert_eq!(
            (
                entries[1].rule_number,
                entries[1].cidr.as_str(),
                entries[1].from_port
            ),
            (Some(90), "::/0", Some(22))
        );
        assert_eq!(entries[1].protocol_name, "tcp");
        let row = acl_row("us-east-1", &acl, &entries);
        assert_eq!((row.ingress_entries, row.egress_entries), (2, 1));
        assert_eq!(row.admin_ports_open_to_world.len(), 4);
        assert!(row
            .admin_ports_open_to_world
            .iter()
            .all(|o| o.starts_with("0.0.0.0/0 ")));
    }

    #[test]
    fn a_vpc_lists_only_its_active_flow_logs() {
        let flow = |id: &str, resource: &str, status: &str| FlowLogRow {
            flow_log_id: id.into(),
            resource_id: resource.into(),
            flow_log_status: status.into(),
            ..FlowLogRow::default()
        };
        let flows = [
            flow("fl-1", "vpc-1", "ACTIVE"),
            flow("fl-2", "vpc-2", "ACTIVE"),
            flow("fl-3", "vpc-1", "INACTIVE"),
            flow("fl-4", "subnet-1", "ACTIVE"),
        ];
        let row = vpc_row("us-east-1", &Vpc::builder().vpc_id("vpc-1").build(), &flows);
        assert_eq!(row.active_flow_logs.iter().collect::<Vec<_>>(), ["fl-1"]);
    }
}
