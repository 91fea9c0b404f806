//! IAM Access Analyzer: a region without an active analyzer, and active external access
//! findings. Read from the `access-analyzer` collector's `regions.csv`, `analyzers.csv` and
//! `findings.csv`.

use super::{and_list, arn, read_regions};
use crate::contract::access_analyzer::{AnalyzerRow, FindingRow, RegionRow};
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::judge::detection::{analyzer_kind, AnalyzerKind};
use crate::vocab::Severity;

const ACCESS_ANALYZER: &str = crate::contract::access_analyzer::ID;

const CONTROLS: &[Control] = &[Control::Cc6_3, Control::Cc6_6];

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "access-analyzer-missing",
        title: "Region without an active IAM Access Analyzer analyzer",
        severity: Severity::Low,
        controls: CONTROLS,
        references: &["CIS 1.20"],
        remediation: "Create an analyzer in every region in use, e.g. `aws accessanalyzer \
                      create-analyzer --analyzer-name account --type ACCOUNT --region REGION` \
                      (type ORGANIZATION from the organization's delegated administrator).",
        needs: Needs::All(&[ACCESS_ANALYZER]),
        evaluate: access_analyzer_missing,
    },
    RuleSpec {
        id: "access-analyzer-finding",
        title: "Active IAM Access Analyzer external access finding",
        severity: Severity::High,
        controls: CONTROLS,
        references: &[],
        remediation: "Remove the policy statement or grant that shares the resource outside the \
                      account if the access is not intended; if it is, archive the finding with \
                      an archive rule that records why the access is approved.",
        needs: Needs::All(&[ACCESS_ANALYZER]),
        evaluate: access_analyzer_finding,
    },
    RuleSpec {
        id: "access-analyzer-finding-overdue",
        title: "IAM Access Analyzer external access finding open past the resolution deadline",
        severity: Severity::Medium,
        controls: CONTROLS,
        references: &[],
        remediation: "Resolve the finding (remove the unintended access) or archive it with the                       reason the access is approved; findings must be closed within                       --finding-sla-days of being raised.",
        needs: Needs::All(&[ACCESS_ANALYZER]),
        evaluate: access_analyzer_finding_overdue,
    },
];

/// Whether a finding is about external access (not unused or internal access).
fn is_external(row: &FindingRow) -> bool {
    match row.finding_type.as_str() {
        "" => analyzer_kind(&row.analyzer_type) == AnalyzerKind::ExternalAccess,
        kind => kind == "ExternalAccess",
    }
}

fn access_analyzer_finding_overdue(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let sla = i64::from(input.thresholds.finding_sla_days);
    for row in &input.table::<FindingRow>()? {
        let region = row.region.as_str();
        if !input.region_collected(ACCESS_ANALYZER, region)
            || !row.status.eq_ignore_ascii_case("ACTIVE")
            || !is_external(row)
        {
            continue;
        }
        // An unknown creation time is not judged.
        let Some(created) = crate::contract::cell::parse_time(&row.created_at) else {
            continue;
        };
        let days = crate::findings::input::days_between(created, input.now);
        if days > sla {
            let resource = match row.resource.as_str() {
                "" => format!("{}/finding/{}", row.analyzer_arn, row.id),
                resource => resource.to_string(),
            };
            out.add(
                resource,
                region,
                format!(
                    "finding {} ({} {}) has been active for {days} days since {} (deadline {sla} days)",
                    row.id, row.resource_type, row.resource, row.created_at
                ),
                FindingRow::PATH,
            );
        }
    }
    Ok(())
}

fn access_analyzer_missing(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let regions = input.table::<RegionRow>()?;
    let analyzers = input.table::<AnalyzerRow>()?;
    let read = regions.iter().map(|r| (r.region.as_str(), r.status));
    for region in read_regions(input, ACCESS_ANALYZER, read) {
        let here: Vec<&AnalyzerRow> = analyzers.iter().filter(|a| a.region == region).collect();
        if here.iter().any(|a| a.status.eq_ignore_ascii_case("ACTIVE")) {
            continue;
        }
        let detail = if here.is_empty() {
            format!("No IAM Access Analyzer analyzer exists in {region}.")
        } else {
            let listed: Vec<String> = here
                .iter()
                .map(|a| format!("{} ({}, {})", a.name, a.analyzer_type, a.status))
                .collect();
            format!("No analyzer is ACTIVE in {region}: {}.", and_list(&listed))
        };
        out.add(
            arn(input, "access-analyzer", &region, "analyzer"),
            region.as_str(),
            detail,
            RegionRow::PATH,
        );
    }
    Ok(())
}

fn access_analyzer_finding(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for row in &input.table::<FindingRow>()? {
        let region = row.region.as_str();
        if !input.region_collected(ACCESS_ANALYZER, region)
            || !row.status.eq_ignore_ascii_case("ACTIVE")
        {
            continue;
        }
        // Unused-access (and internal-access) findings are not external access.
        if !is_external(row) {
            continue;
        }
        let resource = match row.resource.as_str() {
            "" => format!("{}/finding/{}", row.analyzer_arn, row.id),
            resource => resource.to_string(),
        };
        let since = match row.created_at.as_str() {
            "" => String::new(),
            created => format!(" since {created}"),
        };
        let detail = format!(
            "{} {resource} is accessible from outside the account (active finding {} of \
             analyzer {}{since}).",
            row.resource_type, row.id, row.analyzer_arn,
        );
        out.add(resource, region, detail, FindingRow::PATH);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testkit::{pair, Bundle, EAST, WEST};
    use crate::findings::RuleStatus;
    use crate::vocab::CollectorStatus;

    fn region(name: &str, counts: [u64; 3]) -> RegionRow {
        RegionRow {
            region: name.into(),
            status: CollectorStatus::Collected,
            analyzers: Some(counts[0]),
            active_analyzers: Some(counts[1]),
            active_external_access_analyzers: Some(counts[2]),
        }
    }

    fn analyzer(region: &str, name: &str, status: &str) -> AnalyzerRow {
        AnalyzerRow {
            region: region.into(),
            name: name.into(),
            arn: format!("arn:aws:access-analyzer:{region}:123456789012:analyzer/{name}"),
            analyzer_type: "ACCOUNT".into(),
            kind: "external-access".into(),
            status: status.into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            ..AnalyzerRow::default()
        }
    }

    fn finding(analyzer: &str, analyzer_type: &str, id: &str, kind: &str) -> FindingRow {
        FindingRow {
            region: EAST.into(),
            analyzer_arn: format!(
                "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/{analyzer}"
            ),
            analyzer_type: analyzer_type.into(),
            id: id.into(),
            finding_type: kind.into(),
            resource_owner_account: "123456789012".into(),
            status: "ACTIVE".into(),
            created_at: "2026-11-01T00:00:00Z".into(),
            ..FindingRow::default()
        }
    }

    fn findings() -> Vec<FindingRow> {
        vec![
            FindingRow {
                resource: "arn:aws:s3:::shared".into(),
                resource_type: "AWS::S3::Bucket".into(),
                ..finding("main", "ACCOUNT", "f-1", "ExternalAccess")
            },
            FindingRow {
                resource: "arn:aws:iam::123456789012:role/old".into(),
                resource_type: "AWS::IAM::Role".into(),
                ..finding("unused", "ACCOUNT_UNUSED_ACCESS", "f-2", "UnusedIAMRole")
            },
            FindingRow {
                resource: "arn:aws:s3:::gone".into(),
                resource_type: "AWS::S3::Bucket".into(),
                status: "RESOLVED".into(),
                ..finding("main", "ACCOUNT", "f-3", "ExternalAccess")
            },
        ]
    }

    fn analyzer_bundle() -> Bundle {
        Bundle::new()
            .table(&[region(WEST, [1, 0, 0]), region(EAST, [1, 1, 1])])
            .table(&[
                analyzer(WEST, "old", "DISABLED"),
                AnalyzerRow {
                    active_findings: Some(2),
                    ..analyzer(EAST, "main", "ACTIVE")
                },
            ])
            .table(&findings())
    }

    #[test]
    fn access_analyzer_missing_in_a_region_without_an_active_analyzer() {
        let bundle = analyzer_bundle().collected(ACCESS_ANALYZER);
        let (_, _, found) = bundle.outcome("access-analyzer-missing");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].resource,
            "arn:aws:access-analyzer:eu-west-1:123456789012:analyzer"
        );
        assert_eq!(found[0].region, WEST);
        assert!(found[0].detail.contains("old (ACCOUNT, DISABLED)"));
        assert_eq!(found[0].evidence, RegionRow::PATH);

        // Both regions with an active analyzer: no finding.
        let bundle = Bundle::new()
            .table(&[region(WEST, [1, 1, 1]), region(EAST, [1, 1, 1])])
            .table(&[
                analyzer(WEST, "old", "ACTIVE"),
                analyzer(EAST, "main", "ACTIVE"),
            ])
            .collected(ACCESS_ANALYZER);
        assert!(bundle.hits("access-analyzer-missing").is_empty());
    }

    #[test]
    fn a_failed_region_gives_no_finding_and_a_partial_rule() {
        let failed = RegionRow {
            region: WEST.into(),
            ..RegionRow::default()
        };
        let bundle = Bundle::new()
            .table(&[failed, region(EAST, [1, 1, 1])])
            .table(&[
                analyzer("x", "old", "DISABLED"),
                analyzer(EAST, "main", "ACTIVE"),
            ])
            .table(&findings())
            .state(ACCESS_ANALYZER, CollectorStatus::Partial, &[WEST]);
        let (status, reason, found) = bundle.outcome("access-analyzer-missing");
        assert_eq!(status, RuleStatus::Partial);
        assert!(reason.contains("eu-west-1"), "{reason}");
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn an_active_external_finding_older_than_the_deadline_is_overdue() {
        let old = |id: &str, status: &str, kind: &str, analyzer_type: &str| FindingRow {
            resource: format!("arn:aws:s3:::{id}"),
            resource_type: "AWS::S3::Bucket".into(),
            status: status.into(),
            created_at: "2026-09-01T00:00:00Z".into(),
            ..finding("main", analyzer_type, id, kind)
        };
        let mut rows = findings();
        rows.push(old("old-open", "ACTIVE", "ExternalAccess", "ACCOUNT"));
        rows.push(old("old-archived", "ARCHIVED", "ExternalAccess", "ACCOUNT"));
        rows.push(old(
            "old-unused",
            "ACTIVE",
            "UnusedIAMRole",
            "ACCOUNT_UNUSED_ACCESS",
        ));
        let bundle = Bundle::new()
            .table(&[region(WEST, [1, 0, 0]), region(EAST, [1, 1, 1])])
            .table(&[analyzer(EAST, "main", "ACTIVE")])
            .table(&rows)
            .collected(ACCESS_ANALYZER);
        // f-1 is 21 days old (within 30); the old archived and unused ones are not judged.
        let (_, _, found) = bundle.outcome("access-analyzer-finding-overdue");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].resource, "arn:aws:s3:::old-open");
        assert!(
            found[0].detail.contains("active for 82 days")
                && found[0].detail.contains("deadline 30 days"),
            "{}",
            found[0].detail
        );
        // A longer deadline: nothing overdue.
        let mut lenient = bundle;
        lenient.thresholds.finding_sla_days = 90;
        assert!(lenient.hits("access-analyzer-finding-overdue").is_empty());
    }

    #[test]
    fn access_analyzer_finding_fires_on_active_external_access_only() {
        let bundle = analyzer_bundle().collected(ACCESS_ANALYZER);
        // f-2 is unused access, f-3 is resolved.
        assert_eq!(
            bundle.hits("access-analyzer-finding"),
            [pair("arn:aws:s3:::shared", EAST)]
        );
        let (_, _, found) = bundle.outcome("access-analyzer-finding");
        assert!(found[0].detail.contains("active finding f-1"), "{found:?}");
        assert!(found[0].detail.contains("since 2026-11-01T00:00:00Z"));
        assert_eq!(found[0].evidence, FindingRow::PATH);

        // Without a finding type, the analyzer's type tells: an unused-access analyzer's
        // finding is not external access.
        let untyped: Vec<FindingRow> = findings()
            .into_iter()
            .map(|f| FindingRow {
                finding_type: String::new(),
                ..f
            })
            .collect();
        let bundle = analyzer_bundle().table(&untyped).collected(ACCESS_ANALYZER);
        assert_eq!(
            bundle.hits("access-analyzer-finding"),
            [pair("arn:aws:s3:::shared", EAST)]
        );

        let bundle = analyzer_bundle()
            .table::<FindingRow>(&[])
            .collected(ACCESS_ANALYZER);
        assert!(bundle.hits("access-analyzer-finding").is_empty());
    }

    #[test]
    fn a_failed_collector_leaves_its_rules_not_evaluated() {
        let bundle = analyzer_bundle().state(ACCESS_ANALYZER, CollectorStatus::Failed, &[]);
        for rule in ["access-analyzer-missing", "access-analyzer-finding"] {
            let (status, reason, found) = bundle.outcome(rule);
            assert_eq!(status, RuleStatus::NotEvaluated, "{rule}");
            assert!(reason.contains("access-analyzer failed"), "{reason}");
            assert!(found.is_empty());
        }
    }
}
