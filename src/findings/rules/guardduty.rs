//! GuardDuty: a region without an enabled detector, and unarchived findings of high or
//! critical severity. Read from the `guardduty` collector's `regions.csv`, `detectors.csv`,
//! `findings.csv` and `finding-counts.csv`.
//!
//! A finding's severity follows GuardDuty's band of its score (`crate::judge::detection::Band`):
//! critical findings are critical, high ones high. Findings the statistics count but whose
//! details were not collected give one finding per detector and band, from the counts.

use std::collections::BTreeMap;

use super::{and_list, arn, read_regions};
use crate::contract::guardduty::{CountRow, DetectorRow, FindingRow, RegionRow};
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::judge::detection::Band;
use crate::vocab::Severity;

const GUARDDUTY: &str = crate::contract::guardduty::ID;

const CONTROLS: &[Control] = &[Control::Cc7_2, Control::Cc7_3];

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "guardduty-disabled",
        title: "Region without an enabled GuardDuty detector",
        severity: Severity::High,
        controls: CONTROLS,
        references: &["GuardDuty.1"],
        remediation: "Enable GuardDuty in every region in use (`aws guardduty create-detector \
                      --enable`, or `update-detector --enable` for a disabled detector), \
                      preferably for every account through the organization's delegated \
                      administrator.",
        needs: Needs::All(&[GUARDDUTY]),
        evaluate: guardduty_disabled,
    },
    RuleSpec {
        id: "guardduty-high-findings",
        title: "Unarchived GuardDuty findings of high or critical severity",
        severity: Severity::High,
        controls: CONTROLS,
        references: &[],
        remediation: "Investigate each finding with the GuardDuty remediation guidance for its \
                      type and contain the affected resource, then archive the finding with the \
                      outcome recorded.",
        needs: Needs::All(&[GUARDDUTY]),
        evaluate: guardduty_high_findings,
    },
    RuleSpec {
        id: "guardduty-finding-overdue",
        title: "High or critical GuardDuty finding unarchived past the review deadline",
        severity: Severity::Medium,
        controls: CONTROLS,
        references: &[],
        remediation: "Review the finding, act on it, and archive it with the outcome recorded;                       high and critical findings must be reviewed within --finding-sla-days of                       being raised.",
        needs: Needs::All(&[GUARDDUTY]),
        evaluate: guardduty_finding_overdue,
    },
];

fn guardduty_finding_overdue(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let sla = i64::from(input.thresholds.finding_sla_days);
    for row in &input.table::<FindingRow>()? {
        let region = row.region.as_str();
        // Archived is reviewed; an unknown archive state is not judged.
        if !input.region_collected(GUARDDUTY, region)
            || row.archived != Some(false)
            || guardduty_severity(Band::of(row.severity)).is_none()
        {
            continue;
        }
        let Some(created) = crate::contract::cell::parse_time(&row.created_at) else {
            continue;
        };
        let days = crate::findings::input::days_between(created, input.now);
        if days > sla {
            let account = match row.account_id.as_str() {
                "" => input.account_id.as_str(),
                account => account,
            };
            out.add(
                format!(
                    "arn:{}:guardduty:{region}:{account}:detector/{}/finding/{}",
                    input.partition, row.detector_id, row.id
                ),
                region,
                format!(
                    "{} (severity {:.1}) has been unarchived for {days} days since {} (deadline \
                     {sla} days)",
                    row.finding_type, row.severity, row.created_at
                ),
                FindingRow::PATH,
            );
        }
    }
    Ok(())
}

fn guardduty_disabled(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let regions = input.table::<RegionRow>()?;
    let detectors = input.table::<DetectorRow>()?;
    let read = regions.iter().map(|r| (r.region.as_str(), r.status));
    for region in read_regions(input, GUARDDUTY, read) {
        let here: Vec<&DetectorRow> = detectors.iter().filter(|d| d.region == region).collect();
        if here
            .iter()
            .any(|d| d.status.eq_ignore_ascii_case("ENABLED"))
        {
            continue;
        }
        // A detector whose GetDetector failed may be enabled: unknown, not a finding.
        if here.iter().any(|d| d.status.trim().is_empty()) {
            continue;
        }
        let detail = if here.is_empty() {
            format!("GuardDuty has no detector in {region}.")
        } else {
            let listed: Vec<String> = here
                .iter()
                .map(|d| format!("{} is {}", d.detector_id, d.status))
                .collect();
            format!(
                "No GuardDuty detector is enabled in {region}: detector {}.",
                and_list(&listed)
            )
        };
        out.add(
            arn(input, "guardduty", &region, "detector"),
            region.as_str(),
            detail,
            RegionRow::PATH,
        );
    }
    Ok(())
}

/// The finding's severity by GuardDuty's band: `None` below High.
fn guardduty_severity(band: Band) -> Option<Severity> {
    match band {
        Band::Critical => Some(Severity::Critical),
        Band::High => Some(Severity::High),
        Band::Medium | Band::Low => None,
    }
}

fn guardduty_high_findings(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let findings = input.table::<FindingRow>()?;
    let counts = input.table::<CountRow>()?;
    // Findings detailed per (region, detector, band), to tell which counted ones lack details.
    let mut detailed: BTreeMap<(&str, &str, Band), u64> = BTreeMap::new();
    for row in &findings {
        let region = row.region.as_str();
        if !input.region_collected(GUARDDUTY, region) || row.archived == Some(true) {
            continue;
        }
        let severity = row.severity;
        let band = Band::of(severity);
        let Some(level) = guardduty_severity(band) else {
            continue;
        };
        *detailed
            .entry((region, row.detector_id.as_str(), band))
            .or_default() += 1;
        let account = match row.account_id.as_str() {
            "" => input.account_id.as_str(),
            account => account,
        };
        let resource = format!(
            "arn:{}:guardduty:{region}:{account}:detector/{}/finding/{}",
            input.partition, row.detector_id, row.id
        );
        let affected = match (row.resource_type.as_str(), row.resource_id.as_str()) {
            ("", "") => String::new(),
            (kind, "") => format!("; resource: {kind}"),
            (kind, id) => format!("; resource: {kind} {id}"),
        };
        let seen = match (row.count, row.updated_at.as_str()) {
            (None, "") => String::new(),
            (None, updated) => format!("; last updated {updated}"),
            (Some(count), "") => format!("; seen {count} time(s)"),
            (Some(count), updated) => format!("; seen {count} time(s), last updated {updated}"),
        };
        let detail = format!(
            "{} GuardDuty finding {} (severity {severity:.1}): {}{affected}{seen}.",
            capitalized(band.as_str()),
            row.finding_type,
            row.title.trim_end_matches('.'),
        );
        out.add_with_severity(level, resource, region, detail, FindingRow::PATH);
    }
    // Counted findings without details (ListFindings or GetFindings failed): one finding per
    // detector and band, from the counts.
    for row in &counts {
        let region = row.region.as_str();
        if !input.region_collected(GUARDDUTY, region) {
            continue;
        }
        let detector = row.detector_id.as_str();
        for (band, counted) in [(Band::Critical, row.critical), (Band::High, row.high)] {
            let Some(counted) = counted else {
                continue;
            };
            let listed = detailed
                .get(&(region, detector, band))
                .copied()
                .unwrap_or(0);
            if counted <= listed {
                continue;
            }
            let missing = counted - listed;
            let level = guardduty_severity(band).unwrap_or(Severity::High);
            let detail = format!(
                "Detector {detector} counts {counted} unarchived {} finding(s) (GuardDuty \
                 statistics); the details of {missing} of them were not collected.",
                band.as_str()
            );
            out.add_with_severity(
                level,
                arn(input, "guardduty", region, &format!("detector/{detector}")),
                region,
                detail,
                CountRow::PATH,
            );
        }
    }
    Ok(())
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testkit::{Bundle, EAST, WEST};
    use crate::findings::RuleStatus;
    use crate::vocab::CollectorStatus;

    fn region(name: &str, detectors: u64, enabled: u64) -> RegionRow {
        RegionRow {
            region: name.into(),
            status: CollectorStatus::Collected,
            detectors: Some(detectors),
            enabled_detectors: Some(enabled),
        }
    }

    fn regions() -> [RegionRow; 2] {
        [region(WEST, 1, 0), region(EAST, 1, 1)]
    }

    fn detector(region: &str, id: &str, status: &str) -> DetectorRow {
        DetectorRow {
            region: region.into(),
            detector_id: id.into(),
            status: status.into(),
            ..DetectorRow::default()
        }
    }

    fn detectors() -> Vec<DetectorRow> {
        vec![
            detector(WEST, "d-west", "DISABLED"),
            detector(EAST, "d-east", "ENABLED"),
        ]
    }

    #[test]
    fn guardduty_disabled_per_region_without_an_enabled_detector() {
        let bundle = Bundle::new()
            .table(&regions())
            .table(&detectors())
            .collected(GUARDDUTY);
        let (_, _, found) = bundle.outcome("guardduty-disabled");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].resource,
            "arn:aws:guardduty:eu-west-1:123456789012:detector"
        );
        assert!(found[0].detail.contains("d-west is DISABLED"));
        assert_eq!(found[0].evidence, RegionRow::PATH);

        // No detector at all in eu-west-1: a finding too; both enabled: none.
        let bundle = Bundle::new()
            .table(&regions())
            .table(&[detector(EAST, "d-east", "ENABLED")])
            .collected(GUARDDUTY);
        assert_eq!(bundle.hits("guardduty-disabled").len(), 1);
        let bundle = Bundle::new()
            .table(&regions())
            .table(&[
                detector(WEST, "d-west", "ENABLED"),
                detector(EAST, "d-east", "ENABLED"),
            ])
            .collected(GUARDDUTY);
        assert!(bundle.hits("guardduty-disabled").is_empty());

        // A detector whose status could not be read may be enabled: no finding.
        let bundle = Bundle::new()
            .table(&regions())
            .table(&[
                detector(WEST, "d-west", ""),
                detector(EAST, "d-east", "ENABLED"),
            ])
            .collected(GUARDDUTY);
        assert!(bundle.hits("guardduty-disabled").is_empty());
    }

    #[test]
    fn a_failed_region_gives_no_finding_and_a_partial_rule() {
        // The failed region is neither a finding nor a pass.
        let failed = RegionRow {
            region: WEST.into(),
            ..RegionRow::default()
        };
        let bundle = Bundle::new()
            .table(&[failed, region(EAST, 1, 1)])
            .table(&detectors())
            .state(GUARDDUTY, CollectorStatus::Partial, &[WEST]);
        let (status, _, found) = bundle.outcome("guardduty-disabled");
        assert_eq!(status, RuleStatus::Partial);
        assert!(found.is_empty(), "{found:?}");
    }

    /// A finding row: id, type, severity, title, resource id, count, updated, archived.
    #[allow(clippy::too_many_arguments)]
    fn finding(
        id: &str,
        kind: &str,
        severity: f64,
        title: &str,
        resource_id: &str,
        count: i32,
        updated: &str,
        archived: bool,
    ) -> FindingRow {
        FindingRow {
            region: EAST.into(),
            detector_id: "d-east".into(),
            id: id.into(),
            finding_type: kind.into(),
            severity,
            severity_band: Band::of(severity).as_str().into(),
            title: title.into(),
            resource_type: "Instance".into(),
            resource_id: resource_id.into(),
            account_id: "123456789012".into(),
            updated_at: updated.into(),
            count: Some(count),
            archived: Some(archived),
            ..FindingRow::default()
        }
    }

    fn counts(region: &str, detector: &str, bands: [u64; 4], severe: Option<u64>) -> CountRow {
        CountRow {
            region: region.into(),
            detector_id: detector.into(),
            low: Some(bands[0]),
            medium: Some(bands[1]),
            high: Some(bands[2]),
            critical: Some(bands[3]),
            total: Some(bands.iter().sum()),
            severe_listed: severe,
        }
    }

    #[test]
    fn an_unarchived_severe_finding_older_than_the_deadline_is_overdue() {
        let mut rows = vec![
            finding(
                "young",
                "Recon:EC2/Portscan",
                8.0,
                "Young",
                "i-1",
                1,
                "",
                false,
            ),
            finding(
                "old-open",
                "Recon:EC2/Portscan",
                9.0,
                "Old",
                "i-2",
                1,
                "",
                false,
            ),
            finding(
                "old-archived",
                "Recon:EC2/Portscan",
                8.0,
                "Old",
                "i-3",
                1,
                "",
                true,
            ),
            finding(
                "old-medium",
                "Recon:EC2/Portscan",
                5.0,
                "Old",
                "i-4",
                1,
                "",
                false,
            ),
        ];
        for row in rows.iter_mut() {
            row.created_at = if row.id == "young" {
                "2026-11-10T00:00:00Z".into()
            } else {
                "2026-08-01T00:00:00Z".into()
            };
        }
        let bundle = Bundle::new()
            .table(&rows)
            .table(&Vec::<CountRow>::new())
            .collected(GUARDDUTY);
        let (_, _, found) = bundle.outcome("guardduty-finding-overdue");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].resource.ends_with("/finding/old-open"));
        assert!(
            found[0].detail.contains("unarchived for 113 days"),
            "{}",
            found[0].detail
        );
    }

    #[test]
    fn guardduty_high_findings_by_band_and_from_counts_without_details() {
        let findings = [
            finding(
                "f-high",
                "Recon:EC2/PortProbeUnprotectedPort",
                7.5,
                "Port probe",
                "i-1",
                3,
                "2026-11-21T00:00:00Z",
                false,
            ),
            finding(
                "f-crit",
                "CryptoCurrency:EC2/BitcoinTool.B!DNS",
                9.2,
                "Bitcoin",
                "i-2",
                1,
                "",
                false,
            ),
            finding(
                "f-old",
                "Recon:EC2/Portscan",
                8.0,
                "Old",
                "i-3",
                1,
                "",
                true,
            ),
            finding(
                "f-med",
                "Recon:EC2/Portscan",
                5.0,
                "Medium",
                "i-4",
                1,
                "",
                false,
            ),
        ];
        let bundle = Bundle::new()
            .table(&findings)
            .table(&[
                counts(WEST, "d-west", [0, 0, 2, 0], None),
                counts(EAST, "d-east", [0, 1, 1, 1], Some(2)),
            ])
            .collected(GUARDDUTY);
        let (_, _, found) = bundle.outcome("guardduty-high-findings");
        let got: Vec<(Severity, &str)> = found
            .iter()
            .map(|f| (f.severity, f.resource.as_str()))
            .collect();
        // Critical first, then by region.
        assert_eq!(
            got,
            [
                (
                    Severity::Critical,
                    "arn:aws:guardduty:us-east-1:123456789012:detector/d-east/finding/f-crit"
                ),
                // eu-west-1 counts two High findings whose details are absent.
                (
                    Severity::High,
                    "arn:aws:guardduty:eu-west-1:123456789012:detector/d-west"
                ),
                (
                    Severity::High,
                    "arn:aws:guardduty:us-east-1:123456789012:detector/d-east/finding/f-high"
                ),
            ]
        );
        assert!(found[2]
            .detail
            .contains("Recon:EC2/PortProbeUnprotectedPort"));
        assert!(found[2].detail.contains("severity 7.5"));
        assert!(found[2]
            .detail
            .contains("resource: Instance i-1; seen 3 time(s), last updated 2026-11-21T00:00:00Z"));
        assert!(found[1].detail.contains("2 unarchived high"));
        assert_eq!(found[1].evidence, CountRow::PATH);
        assert_eq!(found[0].evidence, FindingRow::PATH);

        // Nothing at or above 7: no finding.
        let bundle = Bundle::new()
            .table::<FindingRow>(&[])
            .table(&[counts(EAST, "d-east", [4, 1, 0, 0], Some(0))])
            .collected(GUARDDUTY);
        assert!(bundle.hits("guardduty-high-findings").is_empty());
    }
}
