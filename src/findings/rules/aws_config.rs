//! AWS Config: a covered region where no configuration recorder is recording. Read from the
//! `aws-config` collector's `regions.csv` and `recorders.csv`.
//!
//! A region the collector could not read (its recorder listing failed) is skipped: the rule is
//! then partial, never a pass. A recorder whose status could not be read (`recording` empty)
//! may be recording: its region gives no finding and the rule says it is partial.

use super::{and_list, arn, read_regions};
use crate::contract::aws_config::{RecorderRow, RegionRow};
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::vocab::Severity;

const CONFIG: &str = crate::contract::aws_config::ID;

const CONTROLS: &[Control] = &[Control::Cc7_1, Control::Cc8_1];

pub(super) static RULES: &[RuleSpec] = &[RuleSpec {
    id: "config-recorder-missing",
    title: "Region without an AWS Config recorder that is recording",
    severity: Severity::Medium,
    controls: CONTROLS,
    references: &["CIS 3.3", "Config.1"],
    remediation: "Record configuration changes in every region in use: create a configuration \
                  recorder and a delivery channel (`aws configservice \
                  put-configuration-recorder`, `put-delivery-channel`) and start it (`aws \
                  configservice start-configuration-recorder`), preferably for every account \
                  and region at once through the organization (CloudFormation StackSets or AWS \
                  Control Tower).",
    needs: Needs::All(&[CONFIG]),
    evaluate: config_recorder_missing,
}];

fn config_recorder_missing(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let regions = input.table::<RegionRow>()?;
    let recorders = input.table::<RecorderRow>()?;
    let read = regions.iter().map(|r| (r.region.as_str(), r.status));
    for region in read_regions(input, CONFIG, read) {
        let here: Vec<&RecorderRow> = recorders.iter().filter(|r| r.region == region).collect();
        if here.iter().any(|r| r.recording == Some(true)) {
            continue;
        }
        let unknown: Vec<String> = here
            .iter()
            .filter(|r| r.recording.is_none())
            .map(|r| r.name.clone())
            .collect();
        if !unknown.is_empty() {
            out.partial(format!(
                "whether recorder {} in {region} is recording is not known (its status could \
                 not be read)",
                and_list(&unknown)
            ));
            continue;
        }
        let detail = if here.is_empty() {
            format!("AWS Config has no configuration recorder in {region}.")
        } else {
            let listed: Vec<String> = here
                .iter()
                .map(|r| {
                    let mut s = format!("{} is not recording", r.name);
                    if !r.last_status.is_empty() {
                        s.push_str(&format!(" (last status {}", r.last_status));
                        if !r.last_error_code.is_empty() {
                            s.push_str(&format!(", error {}", r.last_error_code));
                        }
                        s.push(')');
                    }
                    s
                })
                .collect();
            format!(
                "No AWS Config recorder is recording in {region}: recorder {}.",
                and_list(&listed)
            )
        };
        out.add(
            arn(input, "config", &region, "configuration-recorder"),
            region.as_str(),
            detail,
            RecorderRow::PATH,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testkit::{pair, Bundle, EAST, WEST};
    use crate::findings::RuleStatus;
    use crate::vocab::CollectorStatus;

    const RULE: &str = "config-recorder-missing";

    fn recorder(region: &str, name: &str, recording: Option<bool>) -> RecorderRow {
        RecorderRow {
            region: region.into(),
            name: name.into(),
            recording,
            all_supported: Some(true),
            include_global_resource_types: Some(true),
            last_status: if recording == Some(true) {
                "SUCCESS".into()
            } else {
                "FAILURE".into()
            },
            last_error_code: if recording == Some(true) {
                String::new()
            } else {
                "AccessDenied".into()
            },
            ..RecorderRow::default()
        }
    }

    fn region(name: &str, status: CollectorStatus, recorders: Option<u64>) -> RegionRow {
        RegionRow {
            region: name.into(),
            status,
            recorders,
            ..RegionRow::default()
        }
    }

    fn both_read() -> Vec<RegionRow> {
        vec![
            region(WEST, CollectorStatus::Collected, Some(1)),
            region(EAST, CollectorStatus::Collected, Some(0)),
        ]
    }

    #[test]
    fn fires_for_a_region_without_a_recorder_or_with_one_stopped() {
        let bundle = Bundle::new()
            .table(&both_read())
            .table(&[recorder(WEST, "default", Some(true))])
            .collected(CONFIG);
        let (status, _, found) = bundle.outcome(RULE);
        assert_eq!(status, RuleStatus::Evaluated);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].resource,
            "arn:aws:config:us-east-1:123456789012:configuration-recorder"
        );
        assert_eq!(found[0].region, EAST);
        assert_eq!(
            found[0].detail,
            "AWS Config has no configuration recorder in us-east-1."
        );
        assert_eq!(found[0].evidence, RecorderRow::PATH);
        assert_eq!(found[0].references, ["CIS 3.3", "Config.1"]);
        assert_eq!(found[0].controls, ["CC7.1", "CC8.1"]);

        let bundle = Bundle::new()
            .table(&both_read())
            .table(&[
                recorder(WEST, "default", Some(false)),
                recorder(EAST, "default", Some(true)),
            ])
            .collected(CONFIG);
        let found = bundle.details(RULE);
        assert_eq!(
            found,
            [(
                "arn:aws:config:eu-west-1:123456789012:configuration-recorder".to_string(),
                "No AWS Config recorder is recording in eu-west-1: recorder default is not \
                 recording (last status FAILURE, error AccessDenied)."
                    .to_string()
            )]
        );
    }

    #[test]
    fn does_not_fire_where_a_recorder_is_recording() {
        let bundle = Bundle::new()
            .table(&both_read())
            .table(&[
                recorder(WEST, "default", Some(true)),
                recorder(EAST, "old", Some(false)),
                recorder(EAST, "main", Some(true)),
            ])
            .collected(CONFIG);
        assert!(bundle.hits(RULE).is_empty());
    }

    #[test]
    fn a_region_not_read_or_a_status_not_read_is_partial_never_a_pass() {
        // eu-west-1's listing failed: only us-east-1 is judged.
        let regions = vec![
            region(WEST, CollectorStatus::Failed, None),
            region(EAST, CollectorStatus::Collected, Some(0)),
        ];
        let bundle = Bundle::new()
            .table(&regions)
            .table::<RecorderRow>(&[])
            .state(CONFIG, CollectorStatus::Partial, &[WEST]);
        let (status, reason, found) = bundle.outcome(RULE);
        assert_eq!(status, RuleStatus::Partial);
        assert!(
            reason.contains("List AccessDenied in eu-west-1"),
            "{reason}"
        );
        assert_eq!(
            found
                .iter()
                .map(|f| (f.resource.clone(), f.region.clone()))
                .collect::<Vec<_>>(),
            [pair(
                "arn:aws:config:us-east-1:123456789012:configuration-recorder",
                EAST
            )]
        );
        // A recorder whose status is unknown: no finding, partial, saying which.
        let bundle = Bundle::new()
            .table(&both_read())
            .table(&[
                recorder(WEST, "default", None),
                recorder(EAST, "default", Some(true)),
            ])
            .collected(CONFIG);
        let (status, reason, found) = bundle.outcome(RULE);
        assert_eq!(status, RuleStatus::Partial);
        assert!(
            reason.contains("recorder default in eu-west-1 is recording is not known"),
            "{reason}"
        );
        assert!(found.is_empty());
    }

    #[test]
    fn not_run_is_not_evaluated() {
        let (status, reason, _) = Bundle::new().outcome(RULE);
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("aws-config was not run"), "{reason}");
    }

    #[test]
    fn a_file_of_another_shape_is_not_evaluated_rather_than_passed() {
        let bundle = Bundle::new()
            .table(&both_read())
            .file(RecorderRow::PATH, "region,name\nus-east-1,default\n")
            .collected(CONFIG);
        let (status, reason, _) = bundle.outcome(RULE);
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(
            reason.contains("recording")
                && reason.contains("missing in evidence/aws-config/recorders.csv"),
            "{reason}"
        );
    }
}
