//! `access-analyzer`: which IAM Access Analyzer analyzers each region has, and their active
//! findings (external access, internal access, unused access).
//!
//! Calls, per region: `ListAnalyzers` (paginated, every analyzer type), then for each ACTIVE
//! analyzer `ListFindingsV2` (paginated, one listing per analyzer, analyzers of a region listed
//! concurrently). Every ACTIVE finding is kept, and the ARCHIVED and RESOLVED ones updated in
//! the last `--lookback-days` (365): evidence that findings are resolved, and when.
//! Permissions: `access-analyzer:ListAnalyzers`, `access-analyzer:ListFindings`. There is no
//! `access-analyzer:ListFindingsV2` action: "ListFindings and ListFindingsV2 both use
//! access-analyzer:ListFindings in the Action element of an IAM policy statement"
//! (<https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_ListFindingsV2.html>).
//! Controls: CC6.3, CC6.6.
//! Files (their tables declared in `crate::contract::access_analyzer`):
//! - `analyzers.csv`/`.json`: region, name, arn, type, kind (external-access, internal-access,
//!   unused-access), status, status reason, created, last resource analyzed (and when), the
//!   unused-access age of unused-access analyzers, and the number of active findings (empty
//!   when the analyzer is not ACTIVE or its findings could not be listed). The JSON adds tags.
//! - `findings.csv`/`.json`: one row per finding (ACTIVE, or closed within the lookback): region,
//!   analyzer arn and type, id,
//!   finding type (`ExternalAccess`, `InternalAccess`, `UnusedIAMRole`, `UnusedPermission`...),
//!   resource, resource type, resource owner account, status, created, updated, analyzed, error.
//!   ListFindingsV2 says nothing about public access or the external principal (only ListFindings
//!   and GetFindingV2 do); the finding type is what tells external access from unused access.
//!   The JSON adds `days_open`: to the run (ACTIVE) or to the last update (closed).
//! - `regions.csv`: every covered region with its status (collected, partial, failed), its
//!   analyzers, ACTIVE analyzers and ACTIVE external-access analyzers (ACCOUNT or ORGANIZATION,
//!   what CIS 1.20 asks for); counts are empty for a region that could not be read. A region
//!   without analyzer is collected, not an error; the manifest notes the regions without an
//!   ACTIVE analyzer.

use std::collections::BTreeMap;

use aws_sdk_accessanalyzer::types::{
    AnalyzerStatus, AnalyzerSummary, FindingStatus, FindingSummaryV2,
};
use futures_util::StreamExt;
use serde::Serialize;

use super::{for_each_region, rfc3339, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use crate::contract::access_analyzer::{AnalyzerRow, FindingRow, RegionRow};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::judge::detection::{analyzer_kind, AnalyzerKind};
use crate::vocab::CallError;
use crate::vocab::Scope;

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::access_analyzer::ID,
    title: "IAM Access Analyzer analyzers and active findings",
    controls: &[Control::Cc6_3, Control::Cc6_6],
    scope: Scope::Regional,
    permissions: &[
        "access-analyzer:ListAnalyzers",
        "access-analyzer:ListFindings",
    ],
    run,
    optional_permissions: &[],
};

/// The note listing the covered regions (read successfully) without an ACTIVE analyzer.
pub const NO_ACTIVE_ANALYZER_NOTE: &str = "regions_without_active_analyzer";

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

/// A row of `analyzers.csv` with what the JSON adds.
#[derive(Debug, Serialize)]
struct AnalyzerRecord {
    #[serde(flatten)]
    row: AnalyzerRow,
    tags: BTreeMap<String, String>,
}

/// A row of `findings.csv` with what the JSON adds: the days it has been (or was) open, as of
/// the run (ACTIVE) or its last update (ARCHIVED, RESOLVED).
#[derive(Debug, Clone, Serialize)]
struct FindingRecord {
    #[serde(flatten)]
    row: FindingRow,
    days_open: Option<i64>,
}

/// What one region gave.
struct RegionAnalyzers {
    analyzers: Vec<AnalyzerRecord>,
    findings: Vec<FindingRecord>,
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let regions = for_each_region(ctx, out, |region| read_region(ctx, region)).await?;

    let mut analyzers: Vec<&AnalyzerRecord> =
        regions.iter().flat_map(|(_, v)| &v.analyzers).collect();
    let mut findings: Vec<&FindingRecord> = regions.iter().flat_map(|(_, v)| &v.findings).collect();
    analyzers.sort_by(|a, b| {
        (&a.row.region, &a.row.name, &a.row.arn).cmp(&(&b.row.region, &b.row.name, &b.row.arn))
    });
    findings.sort_by(|a, b| {
        (&a.row.region, &a.row.analyzer_arn, &a.row.id).cmp(&(
            &b.row.region,
            &b.row.analyzer_arn,
            &b.row.id,
        ))
    });
    out.table_with_twin(&analyzers, |a| a.row.clone())?;
    out.table_with_twin(&findings, |f| f.row.clone())?;
    out.note("lookback_days", ctx.settings.lookback_days);
    let region_rows = out.region_table(&ctx.regions, &regions, |region, status, value| {
        let mut row = RegionRow {
            region: region.to_string(),
            status,
            ..RegionRow::default()
        };
        if let Some(value) = value {
            let active: Vec<&AnalyzerRow> = value
                .analyzers
                .iter()
                .map(|a| &a.row)
                .filter(|row| row.status == AnalyzerStatus::Active.as_str())
                .collect();
            row.analyzers = Some(value.analyzers.len() as u64);
            row.active_analyzers = Some(active.len() as u64);
            row.active_external_access_analyzers = Some(
                active
                    .iter()
                    .filter(|row| analyzer_kind(&row.analyzer_type) == AnalyzerKind::ExternalAccess)
                    .count() as u64,
            );
        }
        row
    })?;
    let without_active: Vec<&str> = region_rows
        .iter()
        .filter(|row| row.active_analyzers == Some(0))
        .map(|row| row.region.as_str())
        .collect();
    out.note(NO_ACTIVE_ANALYZER_NOTE, &without_active);
    Ok(())
}

/// One region: its analyzers, then the active findings of each ACTIVE analyzer.
async fn read_region(
    ctx: &Context,
    region: String,
) -> Result<RegionOutput<RegionAnalyzers>, CallError> {
    let client = ctx.clients.accessanalyzer(&region);
    let summaries: Vec<AnalyzerSummary> = client
        .list_analyzers()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| CallError::from_sdk(&region, "ListAnalyzers", &e))?;

    // Owned inputs for the stream: borrowed ones defeat the `Send` proof of the whole future.
    let active: Vec<String> = summaries
        .iter()
        .filter(|a| *a.status() == AnalyzerStatus::Active)
        .map(|a| a.arn().to_string())
        .collect();
    let now = chrono::Utc::now();
    let cutoff = now - chrono::Duration::days(i64::from(ctx.settings.lookback_days));
    let listings: Vec<(String, Result<Vec<FindingSummaryV2>, CallError>)> =
        futures_util::stream::iter(active)
            .map(|arn| recent_findings(client.clone(), region.clone(), arn, cutoff))
            .buffer_unordered(ctx.concurrency.max(1))
            .collect()
            .await;

    let mut errors = Vec::new();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut findings = Vec::new();
    let types: BTreeMap<&str, &str> = summaries
        .iter()
        .map(|a| (a.arn(), a.r#type().as_str()))
        .collect();
    for (arn, listed) in listings {
        match listed {
            Ok(list) => {
                let active = list
                    .iter()
                    .filter(|f| *f.status() == FindingStatus::Active)
                    .count();
                counts.insert(arn.clone(), active as u64);
                let analyzer_type = types.get(arn.as_str()).copied().unwrap_or_default();
                findings.extend(list.iter().map(|f| FindingRecord {
                    row: finding_row(&region, &arn, analyzer_type, f),
                    days_open: days_open(f, now),
                }));
            }
            Err(error) => errors.push(error),
        }
    }
    let analyzers = summaries
        .iter()
        .map(|a| analyzer_record(&region, a, counts.get(a.arn()).copied()))
        .collect();
    // A failed findings listing is an error of the region: `for_each_region` records the
    // region as partial.
    let value = RegionAnalyzers {
        analyzers,
        findings,
    };
    Ok(RegionOutput { value, errors })
}

/// The findings of one analyzer, every page: every ACTIVE one, and the ARCHIVED and RESOLVED
/// ones updated since `cutoff` (the listing has no date filter: the older ones are dropped
/// here, and the manifest notes the lookback).
async fn recent_findings(
    client: aws_sdk_accessanalyzer::Client,
    region: String,
    analyzer_arn: String,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> (String, Result<Vec<FindingSummaryV2>, CallError>) {
    let listed: Result<Vec<FindingSummaryV2>, CallError> = client
        .list_findings_v2()
        .analyzer_arn(&analyzer_arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| CallError::from_sdk(&region, "ListFindingsV2", &e));
    let cutoff = cutoff.timestamp();
    let kept = listed.map(|all| {
        all.into_iter()
            .filter(|f| *f.status() == FindingStatus::Active || f.updated_at().secs() >= cutoff)
            .collect()
    });
    (analyzer_arn, kept)
}

/// Days from creation to `now` (ACTIVE) or to the last update (closed).
fn days_open(finding: &FindingSummaryV2, now: chrono::DateTime<chrono::Utc>) -> Option<i64> {
    let created = finding.created_at().secs();
    let end = if *finding.status() == FindingStatus::Active {
        now.timestamp()
    } else {
        finding.updated_at().secs()
    };
    (end >= created).then(|| (end - created) / 86_400)
}

fn analyzer_record(
    region: &str,
    analyzer: &AnalyzerSummary,
    active_findings: Option<u64>,
) -> AnalyzerRecord {
    let analyzer_type = analyzer.r#type().as_str().to_string();
    let row = AnalyzerRow {
        region: region.to_string(),
        name: analyzer.name().to_string(),
        arn: analyzer.arn().to_string(),
        kind: analyzer_kind(&analyzer_type).as_str().to_string(),
        analyzer_type,
        status: analyzer.status().as_str().to_string(),
        status_reason: analyzer
            .status_reason()
            .map(|r| r.code().as_str().to_string())
            .unwrap_or_default(),
        created_at: rfc3339(analyzer.created_at()),
        last_resource_analyzed: analyzer
            .last_resource_analyzed()
            .unwrap_or_default()
            .to_string(),
        last_resource_analyzed_at: analyzer
            .last_resource_analyzed_at()
            .map(rfc3339)
            .unwrap_or_default(),
        unused_access_age_days: analyzer
            .configuration()
            .and_then(|c| c.as_unused_access().ok())
            .and_then(|u| u.unused_access_age()),
        active_findings,
    };
    AnalyzerRecord {
        row,
        tags: analyzer
            .tags()
            .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }
}

fn finding_row(
    region: &str,
    analyzer_arn: &str,
    analyzer_type: &str,
    finding: &FindingSummaryV2,
) -> FindingRow {
    FindingRow {
        region: region.to_string(),
        analyzer_arn: analyzer_arn.to_string(),
        analyzer_type: analyzer_type.to_string(),
        id: finding.id().to_string(),
        finding_type: finding
            .finding_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        resource: finding.resource().unwrap_or_default().to_string(),
        resource_type: finding.resource_type().as_str().to_string(),
        resource_owner_account: finding.resource_owner_account().to_string(),
        status: finding.status().as_str().to_string(),
        created_at: rfc3339(finding.created_at()),
        updated_at: rfc3339(finding.updated_at()),
        analyzed_at: rfc3339(finding.analyzed_at()),
        error: finding.error().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_accessanalyzer::primitives::DateTime;
    use aws_sdk_accessanalyzer::types::{
        AnalyzerConfiguration, FindingStatus, FindingType, ReasonCode, ResourceType, StatusReason,
        Type, UnusedAccessConfiguration,
    };

    #[test]
    fn every_analyzer_type_of_the_sdk_has_a_kind() {
        for t in Type::values() {
            assert_ne!(analyzer_kind(t), AnalyzerKind::Unknown, "{t}");
        }
    }

    #[test]
    fn an_unused_access_analyzer_keeps_its_age_and_status_reason() {
        let summary = AnalyzerSummary::builder()
            .arn("arn:aws:access-analyzer:eu-west-1:123456789012:analyzer/unused")
            .name("unused")
            .r#type(Type::AccountUnusedAccess)
            .created_at(DateTime::from_secs(1_700_000_000))
            .status(AnalyzerStatus::Failed)
            .status_reason(
                StatusReason::builder()
                    .code(ReasonCode::ServiceLinkedRoleCreationFailed)
                    .build()
                    .unwrap(),
            )
            .configuration(AnalyzerConfiguration::UnusedAccess(
                UnusedAccessConfiguration::builder()
                    .unused_access_age(90)
                    .build(),
            ))
            .tags("team", "security")
            .build()
            .unwrap();
        let record = analyzer_record("eu-west-1", &summary, None);
        assert_eq!(record.row.kind, "unused-access");
        assert_eq!(record.row.status, "FAILED");
        assert_eq!(
            record.row.status_reason,
            "SERVICE_LINKED_ROLE_CREATION_FAILED"
        );
        assert_eq!(record.row.unused_access_age_days, Some(90));
        assert_eq!(record.row.created_at, "2023-11-14T22:13:20Z");
        assert_eq!(record.row.active_findings, None);
        assert_eq!(record.tags["team"], "security");
    }

    #[test]
    fn a_finding_row_carries_its_type_and_resource() {
        let finding = FindingSummaryV2::builder()
            .id("f-1")
            .resource("arn:aws:s3:::shared-bucket")
            .resource_type(ResourceType::AwsS3Bucket)
            .resource_owner_account("123456789012")
            .status(FindingStatus::Active)
            .finding_type(FindingType::ExternalAccess)
            .created_at(DateTime::from_secs(1_700_000_000))
            .updated_at(DateTime::from_secs(1_700_000_060))
            .analyzed_at(DateTime::from_secs(1_700_000_030))
            .build()
            .unwrap();
        let row = finding_row("us-east-1", "arn:a", "ACCOUNT", &finding);
        assert_eq!(row.finding_type, "ExternalAccess");
        assert_eq!(row.resource_type, "AWS::S3::Bucket");
        assert_eq!(row.status, "ACTIVE");
        assert_eq!(row.updated_at, "2023-11-14T22:14:20Z");
        assert_eq!(row.error, "");
    }
}
