//! EC2 instance hardening: instances that still answer IMDSv1, and regions where new EBS
//! volumes are not encrypted by default. Read from the `ec2-instances` collector's
//! `instances.csv` and `ebs-encryption.csv`.
//!
//! A region is judged only when its row of `ebs-encryption.csv` says the call behind the rule
//! was read (`instances_listed`, `ebs_encryption_by_default` not empty); otherwise the rule is
//! partial for that region, never a pass.

use super::arn;
use crate::contract::ec2_instances::{EbsRegionRow, InstanceRow};
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::vocab::Severity;

const EC2: &str = crate::contract::ec2_instances::ID;

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "ec2-imdsv1-allowed",
        title: "EC2 instance allows IMDSv1 (metadata tokens optional)",
        severity: Severity::High,
        controls: &[Control::Cc6_1, Control::Cc6_6],
        references: &["CIS 5.6", "EC2.8"],
        remediation: "Require IMDSv2: `aws ec2 modify-instance-metadata-options --instance-id ID \
                      --http-tokens required --http-endpoint enabled` (check first that the \
                      instance's software uses IMDSv2), and set it in launch templates.",
        needs: Needs::All(&[EC2]),
        evaluate: imdsv1_allowed,
    },
    RuleSpec {
        id: "ebs-default-encryption-off",
        title: "EBS encryption by default is off in a region",
        severity: Severity::Medium,
        controls: &[Control::Cc6_1, Control::Cc6_7],
        references: &["CIS 2.2.1", "EC2.7"],
        remediation: "Turn on EBS encryption by default in the region: `aws ec2 \
                      enable-ebs-encryption-by-default --region REGION`.",
        needs: Needs::All(&[EC2]),
        evaluate: ebs_default_encryption_off,
    },
];

/// The region rows of the regions the collector read.
fn region_rows(input: &Input, out: &mut Out<'_>) -> Result<Vec<EbsRegionRow>, String> {
    let rows = input.table::<EbsRegionRow>()?;
    let mut read = Vec::new();
    for region in &input.regions {
        if !input.region_collected(EC2, region) {
            continue;
        }
        match rows.iter().find(|r| &r.region == region) {
            Some(row) => read.push(row.clone()),
            None => out.partial(format!("{region}: no row in {}", EbsRegionRow::PATH)),
        }
    }
    Ok(read)
}

/// States in which an instance no longer exists or is going away.
const GONE: &[&str] = &["shutting-down", "terminated"];

fn imdsv1_allowed(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let regions = region_rows(input, out)?;
    let instances = input.table::<InstanceRow>()?;
    for region in regions {
        let name = region.region.as_str();
        if !region.instances_listed {
            out.partial(format!("{name}: DescribeInstances was not read"));
            continue;
        }
        for i in instances.iter().filter(|i| i.region == name) {
            if GONE.contains(&i.state.as_str()) {
                continue;
            }
            if i.http_endpoint.is_empty() || i.http_tokens.is_empty() {
                out.partial(format!(
                    "instance {} in {name}: no metadata options were reported",
                    i.instance_id
                ));
                continue;
            }
            if i.http_endpoint != "enabled" || i.http_tokens != "optional" {
                continue;
            }
            let named = if i.name.is_empty() {
                String::new()
            } else {
                format!(" ({})", i.name)
            };
            out.add(
                arn(input, "ec2", name, &format!("instance/{}", i.instance_id)),
                name,
                format!(
                    "Instance {}{named}, {}, has its metadata endpoint enabled with tokens \
                     optional: IMDSv1 requests without a session token are answered.",
                    i.instance_id, i.state
                ),
                InstanceRow::PATH,
            );
        }
    }
    Ok(())
}

fn ebs_default_encryption_off(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for region in region_rows(input, out)? {
        let name = region.region.as_str();
        match region.ebs_encryption_by_default {
            None => out.partial(format!("{name}: GetEbsEncryptionByDefault was not read")),
            Some(true) => {}
            Some(false) => out.add(
                super::account_arn(input),
                name,
                format!(
                    "EBS encryption by default is off in {name}: new volumes and snapshot \
                     copies are created unencrypted unless each request asks otherwise."
                ),
                EbsRegionRow::PATH,
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testkit::{pair, Bundle, EAST, WEST};
    use crate::findings::RuleStatus;
    use crate::vocab::CollectorStatus;

    fn instance(region: &str, id: &str, state: &str, endpoint: &str, tokens: &str) -> InstanceRow {
        InstanceRow {
            region: region.into(),
            instance_id: id.into(),
            state: state.into(),
            http_endpoint: endpoint.into(),
            http_tokens: tokens.into(),
            ..InstanceRow::default()
        }
    }

    fn region(name: &str, listed: bool, ebs: Option<bool>) -> EbsRegionRow {
        EbsRegionRow {
            region: name.into(),
            instances_listed: listed,
            instance_count: listed.then_some(0),
            ebs_encryption_by_default: ebs,
            sse_type: String::new(),
        }
    }

    fn instances() -> Vec<InstanceRow> {
        vec![
            instance(EAST, "i-v1", "running", "enabled", "optional"),
            instance(EAST, "i-v2", "running", "enabled", "required"),
            instance(EAST, "i-off", "running", "disabled", "optional"),
            instance(EAST, "i-gone", "terminated", "enabled", "optional"),
            instance(WEST, "i-stopped", "stopped", "enabled", "optional"),
        ]
    }

    #[test]
    fn imdsv1_fires_for_enabled_endpoints_with_optional_tokens_only() {
        let bundle = Bundle::new()
            .table(&instances())
            .table(&[
                region(EAST, true, Some(true)),
                region(WEST, true, Some(true)),
            ])
            .collected(EC2);
        let mut hits = bundle.hits("ec2-imdsv1-allowed");
        hits.sort();
        assert_eq!(
            hits,
            [
                pair(
                    "arn:aws:ec2:eu-west-1:123456789012:instance/i-stopped",
                    WEST
                ),
                pair("arn:aws:ec2:us-east-1:123456789012:instance/i-v1", EAST),
            ]
        );
        let (status, _, found) = bundle.outcome("ec2-imdsv1-allowed");
        assert_eq!(status, RuleStatus::Evaluated);
        assert!(found.iter().all(|f| f.evidence == InstanceRow::PATH));
        // All instances on IMDSv2: nothing.
        let safe = [instance(EAST, "i-v2", "running", "enabled", "required")];
        let bundle = Bundle::new()
            .table(&safe)
            .table(&[
                region(EAST, true, Some(true)),
                region(WEST, true, Some(true)),
            ])
            .collected(EC2);
        assert!(bundle.hits("ec2-imdsv1-allowed").is_empty());
    }

    #[test]
    fn a_region_not_listed_or_an_instance_without_options_is_partial() {
        let mut rows = instances();
        rows.push(instance(EAST, "i-unknown", "running", "", ""));
        let bundle = Bundle::new()
            .table(&rows)
            .table(&[region(EAST, true, Some(false)), region(WEST, false, None)])
            .collected(EC2);
        let (status, reason, found) = bundle.outcome("ec2-imdsv1-allowed");
        assert_eq!(status, RuleStatus::Partial);
        assert!(
            reason.contains("eu-west-1: DescribeInstances was not read"),
            "{reason}"
        );
        assert!(
            reason.contains("instance i-unknown in us-east-1"),
            "{reason}"
        );
        // The west region's rows are not judged: its listing was not read whole.
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].region, EAST);
    }

    #[test]
    fn ebs_default_encryption_fires_per_region_that_has_it_off() {
        let bundle = Bundle::new()
            .table::<InstanceRow>(&[])
            .table(&[
                region(EAST, true, Some(false)),
                region(WEST, true, Some(true)),
            ])
            .collected(EC2);
        assert_eq!(
            bundle.hits("ebs-default-encryption-off"),
            [pair("arn:aws:iam::123456789012:root", EAST)]
        );
        let bundle = Bundle::new()
            .table::<InstanceRow>(&[])
            .table(&[region(EAST, true, Some(true)), region(WEST, true, None)])
            .collected(EC2);
        let (status, reason, found) = bundle.outcome("ebs-default-encryption-off");
        assert_eq!(status, RuleStatus::Partial);
        assert!(reason.contains("eu-west-1: GetEbsEncryptionByDefault was not read"));
        assert!(found.is_empty());
        // A covered region without a row is partial too, never a pass.
        let bundle = Bundle::new()
            .table::<InstanceRow>(&[])
            .table(&[region(EAST, true, Some(true))])
            .collected(EC2);
        let (status, reason, _) = bundle.outcome("ebs-default-encryption-off");
        assert_eq!(status, RuleStatus::Partial);
        assert!(reason.contains("eu-west-1: no row"), "{reason}");
    }

    #[test]
    fn a_failed_region_is_skipped_and_not_run_is_not_evaluated() {
        let bundle = Bundle::new()
            .table(&instances())
            .table(&[region(EAST, true, Some(true))])
            .state(EC2, CollectorStatus::Partial, &[WEST]);
        let (status, _, found) = bundle.outcome("ec2-imdsv1-allowed");
        assert_eq!(status, RuleStatus::Partial);
        assert!(found.iter().all(|f| f.region == EAST));
        let (status, reason, _) = Bundle::new().outcome("ebs-default-encryption-off");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("ec2-instances was not run"), "{reason}");
    }

    #[test]
    fn a_file_of_another_shape_is_not_evaluated() {
        let bundle = Bundle::new()
            .file(InstanceRow::PATH, "region,instance_id\nus-east-1,i-1\n")
            .table(&[
                region(EAST, true, Some(true)),
                region(WEST, true, Some(true)),
            ])
            .collected(EC2);
        let (status, reason, _) = bundle.outcome("ec2-imdsv1-allowed");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("http_tokens"), "{reason}");
    }
}
