//! `guardduty`: whether each region has a GuardDuty detector and it is enabled, how many
//! unarchived findings it holds per severity band, and the details of the High and Critical ones.
//!
//! Calls, per region: `ListDetectors` (paginated); for each detector, concurrently,
//! `GetDetector`, `GetFindingsStatistics` twice (unarchived findings grouped by severity, and
//! every finding updated in the last `--lookback-days`, archived included) and `ListFindings`
//! twice (paginated: unarchived with severity >= 7, and archived with severity >= 7 updated in
//! the lookback window), then `GetFindings` for those ids in batches of at most 50 (the API's
//! limit), the batches concurrently. An archived finding is a reviewed one; its `updated_at`
//! says when it was last touched.
//! Permissions: `guardduty:ListDetectors`, `guardduty:GetDetector`,
//! `guardduty:GetFindingsStatistics`, `guardduty:ListFindings`, `guardduty:GetFindings`.
//! Controls: CC7.2, CC7.3.
//! Files (their tables declared in `crate::contract::guardduty`):
//! - `detectors.csv`/`.json`: region, detector id, status (`ENABLED`/`DISABLED`; empty when
//!   GetDetector failed, see the manifest's errors), created, updated, finding publishing
//!   frequency, service role, and a `NAME=STATUS;...` summary of the protection features. The JSON
//!   adds every feature with its additional configuration, and the tags.
//! - `finding-counts.csv`/`.json`: region, detector id, unarchived findings per band (low,
//!   medium, high, critical) and total, empty when GetFindingsStatistics failed; and
//!   `severe_listed`, how many severity >= 7 findings ListFindings returned (a cross-check of
//!   high + critical; empty when ListFindings failed). The JSON adds the statistics as returned
//!   (severity value, count, last generated) and `lookback`: the window's start and its findings
//!   per band, archived included (the period's summary).
//! - `findings.csv`/`.json`: each finding with severity >= 7.0, unarchived or archived within
//!   the lookback window: region, detector id,
//!   id, type, severity and band, title, resource type, resource id (instance, key, bucket,
//!   cluster, function... when the finding names one), account, created, updated, count,
//!   archived. The JSON adds the description, ARN and first/last seen times.
//! - `regions.csv`: every covered region with its status (collected, partial, failed), its
//!   detectors and enabled detectors; counts are empty for a region that could not be read. A
//!   region without detector is collected, not an error; the manifest notes the regions without
//!   an enabled detector.

use std::collections::BTreeMap;

use aws_sdk_guardduty::operation::get_detector::GetDetectorOutput;
use aws_sdk_guardduty::types::{Condition, DetectorStatus, Finding, FindingCriteria, GroupByType};
use futures_util::StreamExt;
use serde::Serialize;

use super::{for_each_region, rfc3339, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use crate::contract::cell;
use crate::contract::guardduty::{CountRow, DetectorRow, FindingRow, RegionRow};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::judge::detection::{Band, BandCounts};
use crate::vocab::CallError;
use crate::vocab::Scope;

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::guardduty::ID,
    title: "GuardDuty detectors, finding counts by severity, High and Critical findings",
    controls: &[Control::Cc7_2, Control::Cc7_3],
    scope: Scope::Regional,
    permissions: &[
        "guardduty:GetDetector",
        "guardduty:GetFindings",
        "guardduty:GetFindingsStatistics",
        "guardduty:ListDetectors",
        "guardduty:ListFindings",
    ],
    run,
    optional_permissions: &[],
};

/// The note listing the covered regions (read successfully) without an enabled detector.
pub const NO_ENABLED_DETECTOR_NOTE: &str = "regions_without_enabled_detector";

/// GetFindings takes at most 50 finding ids per call.
pub const GET_FINDINGS_BATCH: usize = 50;

/// Findings at or above this severity are listed one by one (High and Critical).
pub const DETAIL_MIN_SEVERITY: i64 = 7;

/// GetFindingsStatistics returns at most 100 groups; severities have one decimal between 1.0
/// and 10.0, so all distinct values fit.
const STATISTICS_MAX_GROUPS: i32 = 100;

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

#[derive(Debug, Serialize)]
struct FeatureRecord {
    name: String,
    status: String,
    additional_configuration: Vec<AdditionalConfigurationRecord>,
}

#[derive(Debug, Serialize)]
struct AdditionalConfigurationRecord {
    name: String,
    status: String,
}

#[derive(Debug, Serialize)]
struct DetectorRecord {
    #[serde(flatten)]
    row: DetectorRow,
    features: Vec<FeatureRecord>,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct SeverityGroup {
    severity: f64,
    total_findings: u64,
    last_generated_at: String,
}

#[derive(Debug, Serialize)]
struct CountRecord {
    #[serde(flatten)]
    row: CountRow,
    /// GetFindingsStatistics' groups as returned; `null` when the call failed.
    severity_groups: Option<Vec<SeverityGroup>>,
    /// Every finding updated in the lookback window (`--lookback-days`), archived or not, per
    /// band: the period's summary. `null` when the call failed.
    lookback: Option<WindowCounts>,
}

#[derive(Debug, Serialize)]
struct FindingRecord {
    #[serde(flatten)]
    row: FindingRow,
    arn: String,
    description: String,
    event_first_seen: String,
    event_last_seen: String,
}

/// What one region gave.
struct RegionDetectors {
    detectors: Vec<DetectorRecord>,
    counts: Vec<CountRecord>,
    findings: Vec<FindingRecord>,
}

/// What one detector gave.
struct DetectorFacts {
    detector: DetectorRecord,
    counts: CountRecord,
    findings: Vec<FindingRecord>,
    errors: Vec<CallError>,
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let regions = for_each_region(ctx, out, |region| read_region(ctx, region)).await?;

    let mut detectors: Vec<&DetectorRecord> =
        regions.iter().flat_map(|(_, v)| &v.detectors).collect();
    let mut counts: Vec<&CountRecord> = regions.iter().flat_map(|(_, v)| &v.counts).collect();
    let mut findings: Vec<&FindingRecord> = regions.iter().flat_map(|(_, v)| &v.findings).collect();
    detectors.sort_by(|a, b| {
        (&a.row.region, &a.row.detector_id).cmp(&(&b.row.region, &b.row.detector_id))
    });
    counts.sort_by(|a, b| {
        (&a.row.region, &a.row.detector_id).cmp(&(&b.row.region, &b.row.detector_id))
    });
    findings.sort_by(|a, b| {
        (&a.row.region, &a.row.detector_id, &a.row.id).cmp(&(
            &b.row.region,
            &b.row.detector_id,
            &b.row.id,
        ))
    });
    out.table_with_twin(&detectors, |d| d.row.clone())?;
    out.table_with_twin(&counts, |c| c.row.clone())?;
    out.table_with_twin(&findings, |f| f.row.clone())?;
    let region_rows = out.region_table(&ctx.regions, &regions, |region, status, value| {
        let mut row = RegionRow {
            region: region.to_string(),
            status,
            ..RegionRow::default()
        };
        if let Some(value) = value {
            row.detectors = Some(value.detectors.len() as u64);
            row.enabled_detectors = Some(
                value
                    .detectors
                    .iter()
                    .filter(|d| d.row.status == DetectorStatus::Enabled.as_str())
                    .count() as u64,
            );
        }
        row
    })?;
    let without_enabled: Vec<&str> = region_rows
        .iter()
        .filter(|row| row.enabled_detectors == Some(0))
        .map(|row| row.region.as_str())
        .collect();
    out.note(NO_ENABLED_DETECTOR_NOTE, &without_enabled);
    Ok(())
}

/// One region: its detectors, then each detector's settings, counts and severe findings.
async fn read_region(
    ctx: &Context,
    region: String,
) -> Result<RegionOutput<RegionDetectors>, CallError> {
    let client = ctx.clients.guardduty(&region);
    let ids: Vec<String> = client
        .list_detectors()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| CallError::from_sdk(&region, "ListDetectors", &e))?;

    let since = chrono::Utc::now() - chrono::Duration::days(i64::from(ctx.settings.lookback_days));
    let mut facts: Vec<DetectorFacts> = futures_util::stream::iter(ids)
        .map(|id| read_detector(ctx.concurrency, client.clone(), region.clone(), id, since))
        .buffer_unordered(ctx.concurrency.max(1))
        .collect()
        .await;
    facts.sort_by(|a, b| a.detector.row.detector_id.cmp(&b.detector.row.detector_id));

    let mut value = RegionDetectors {
        detectors: Vec::new(),
        counts: Vec::new(),
        findings: Vec::new(),
    };
    let mut errors = Vec::new();
    for fact in facts {
        value.detectors.push(fact.detector);
        value.counts.push(fact.counts);
        value.findings.extend(fact.findings);
        errors.extend(fact.errors);
    }
    // A failed call of a detector is an error of the region: `for_each_region` records the
    // region as partial.
    Ok(RegionOutput { value, errors })
}

fn unarchived() -> Condition {
    Condition::builder().equals("false").build()
}

fn archived() -> Condition {
    Condition::builder().equals("true").build()
}

/// Updated at or after `since` (GuardDuty compares epoch milliseconds).
fn updated_since(since: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::builder()
        .greater_than_or_equal(since.timestamp_millis())
        .build()
}

/// The findings of the lookback window, archived or not, per severity band.
#[derive(Debug, Serialize)]
struct WindowCounts {
    /// The window's start (RFC 3339).
    since: String,
    low: u64,
    medium: u64,
    high: u64,
    critical: u64,
    total: u64,
}

/// One detector: GetDetector, GetFindingsStatistics and ListFindings (then GetFindings) at once.
/// Each failure is recorded and leaves its part empty; the others go on.
async fn read_detector(
    concurrency: usize,
    client: aws_sdk_guardduty::Client,
    region: String,
    id: String,
    since: chrono::DateTime<chrono::Utc>,
) -> DetectorFacts {
    let region = region.as_str();
    let detector = client.get_detector().detector_id(&id).send();
    let statistics = client
        .get_findings_statistics()
        .detector_id(&id)
        .finding_criteria(
            FindingCriteria::builder()
                .criterion("service.archived", unarchived())
                .build(),
        )
        .group_by(GroupByType::Severity)
        .max_results(STATISTICS_MAX_GROUPS)
        .send();
    // The lookback window: every finding updated since `since`, archived or not.
    let window = client
        .get_findings_statistics()
        .detector_id(&id)
        .finding_criteria(
            FindingCriteria::builder()
                .criterion("updatedAt", updated_since(since))
                .build(),
        )
        .group_by(GroupByType::Severity)
        .max_results(STATISTICS_MAX_GROUPS)
        .send();
    let severe = severe_findings(
        concurrency,
        client.clone(),
        region.to_string(),
        id.clone(),
        since,
    );
    let (detector, (statistics, window), severe) = futures_util::future::join3(
        detector,
        futures_util::future::join(statistics, window),
        severe,
    )
    .await;

    let mut errors = Vec::new();
    let detector = match detector {
        Ok(output) => detector_record(region, &id, &output),
        Err(e) => {
            errors.push(CallError::from_sdk(region, "GetDetector", &e));
            DetectorRecord {
                row: DetectorRow {
                    region: region.to_string(),
                    detector_id: id.clone(),
                    ..DetectorRow::default()
                },
                features: Vec::new(),
                tags: BTreeMap::new(),
            }
        }
    };
    let mut counts = CountRecord {
        row: CountRow {
            region: region.to_string(),
            detector_id: id.clone(),
            ..CountRow::default()
        },
        severity_groups: None,
        lookback: None,
    };
    match window {
        Ok(output) => {
            let groups = output
                .finding_statistics()
                .map(|s| s.grouped_by_severity())
                .unwrap_or_default();
            let bands = BandCounts::from_groups(groups.iter().map(|g| {
                (
                    g.severity().unwrap_or_default(),
                    g.total_findings().unwrap_or_default().max(0) as u64,
                )
            }));
            counts.lookback = Some(WindowCounts {
                since: since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                low: bands.low,
                medium: bands.medium,
                high: bands.high,
                critical: bands.critical,
                total: bands.total(),
            });
        }
        Err(e) => errors.push(CallError::from_sdk(region, "GetFindingsStatistics", &e)),
    }
    match statistics {
        Ok(output) => {
            let groups: Vec<SeverityGroup> = output
                .finding_statistics()
                .map(|s| s.grouped_by_severity())
                .unwrap_or_default()
                .iter()
                .map(|g| SeverityGroup {
                    severity: g.severity().unwrap_or_default(),
                    total_findings: g.total_findings().unwrap_or_default().max(0) as u64,
                    last_generated_at: g.last_generated_at().map(rfc3339).unwrap_or_default(),
                })
                .collect();
            let bands =
                BandCounts::from_groups(groups.iter().map(|g| (g.severity, g.total_findings)));
            counts.row.low = Some(bands.low);
            counts.row.medium = Some(bands.medium);
            counts.row.high = Some(bands.high);
            counts.row.critical = Some(bands.critical);
            counts.row.total = Some(bands.total());
            counts.severity_groups = Some(groups);
        }
        Err(e) => errors.push(CallError::from_sdk(region, "GetFindingsStatistics", &e)),
    }
    let (listed, findings, finding_errors) = severe;
    counts.row.severe_listed = listed.map(|n| n as u64);
    errors.extend(finding_errors);
    DetectorFacts {
        detector,
        counts,
        findings,
        errors,
    }
}

/// The findings with severity >= 7, unarchived ones and those archived within the lookback
/// window: their ids (ListFindings, one listing each), then their details
/// (GetFindings, 50 ids per call). Returns how many unarchived ids were listed (`None` when
/// that listing failed), the details that could be read, and the failed calls.
async fn severe_findings(
    concurrency: usize,
    client: aws_sdk_guardduty::Client,
    region: String,
    detector_id: String,
    since: chrono::DateTime<chrono::Utc>,
) -> (Option<usize>, Vec<FindingRecord>, Vec<CallError>) {
    let (region, detector_id) = (region.as_str(), detector_id.as_str());
    let severe = || {
        Condition::builder()
            .greater_than_or_equal(DETAIL_MIN_SEVERITY)
            .build()
    };
    let list = |criteria: FindingCriteria| {
        client
            .list_findings()
            .detector_id(detector_id)
            .finding_criteria(criteria)
            .into_paginator()
            .items()
            .send()
            .try_collect()
    };
    // Open ones whatever their age; archived (reviewed) ones of the lookback window.
    let (open, reviewed) = futures_util::future::join(
        list(
            FindingCriteria::builder()
                .criterion("service.archived", unarchived())
                .criterion("severity", severe())
                .build(),
        ),
        list(
            FindingCriteria::builder()
                .criterion("service.archived", archived())
                .criterion("severity", severe())
                .criterion("updatedAt", updated_since(since))
                .build(),
        ),
    )
    .await;
    // Each listing stands on its own: a failed one is recorded, and the other's findings are
    // still read.
    let mut errors = Vec::new();
    let mut listed = |result: Result<Vec<String>, _>| match result {
        Ok(ids) => Some(ids),
        Err(e) => {
            errors.push(CallError::from_sdk(region, "ListFindings", &e));
            None
        }
    };
    let (open, reviewed): (Option<Vec<String>>, Option<Vec<String>>) =
        (listed(open), listed(reviewed));
    let listed_open = open.as_ref().map(Vec::len);
    let mut ids: Vec<String> = open.into_iter().chain(reviewed).flatten().collect();
    ids.sort();
    ids.dedup();
    let batches: Vec<Vec<String>> = ids
        .chunks(GET_FINDINGS_BATCH)
        .map(|batch| batch.to_vec())
        .collect();
    let batches: Vec<_> = futures_util::stream::iter(batches)
        .map(|batch| {
            client
                .get_findings()
                .detector_id(detector_id)
                .set_finding_ids(Some(batch))
                .send()
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut findings = Vec::new();
    for batch in batches {
        match batch {
            Ok(output) => findings.extend(
                output
                    .findings()
                    .iter()
                    .map(|f| finding_record(region, detector_id, f)),
            ),
            Err(e) => errors.push(CallError::from_sdk(region, "GetFindings", &e)),
        }
    }
    (listed_open, findings, errors)
}

fn detector_record(region: &str, id: &str, output: &GetDetectorOutput) -> DetectorRecord {
    let features: Vec<FeatureRecord> = output
        .features()
        .iter()
        .map(|f| FeatureRecord {
            name: f.name().map(|n| n.as_str().to_string()).unwrap_or_default(),
            status: f
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            additional_configuration: f
                .additional_configuration()
                .iter()
                .map(|c| AdditionalConfigurationRecord {
                    name: c.name().map(|n| n.as_str().to_string()).unwrap_or_default(),
                    status: c
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    let mut summary: Vec<String> = features
        .iter()
        .map(|f| format!("{}={}", f.name, f.status))
        .collect();
    summary.sort();
    DetectorRecord {
        row: DetectorRow {
            region: region.to_string(),
            detector_id: id.to_string(),
            status: output
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            created_at: output.created_at().unwrap_or_default().to_string(),
            updated_at: output.updated_at().unwrap_or_default().to_string(),
            finding_publishing_frequency: output
                .finding_publishing_frequency()
                .map(|f| f.as_str().to_string())
                .unwrap_or_default(),
            service_role: output.service_role().unwrap_or_default().to_string(),
            features: cell::List::from(summary),
        },
        features,
        tags: output
            .tags()
            .map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }
}

/// The identifier of the resource a finding is about, for the resource types that have one.
pub fn resource_id(resource: &aws_sdk_guardduty::types::Resource) -> String {
    let candidates = [
        resource.instance_details().and_then(|d| d.instance_id()),
        resource
            .access_key_details()
            .and_then(|d| d.access_key_id()),
        resource.s3_bucket_details().first().and_then(|d| d.name()),
        resource.eks_cluster_details().and_then(|d| d.name()),
        resource.ecs_cluster_details().and_then(|d| d.name()),
        resource.lambda_details().and_then(|d| d.function_name()),
        resource
            .rds_db_instance_details()
            .and_then(|d| d.db_instance_identifier()),
        resource
            .rds_limitless_db_details()
            .and_then(|d| d.db_shard_group_identifier()),
        resource.container_details().and_then(|d| d.name()),
        resource
            .ebs_snapshot_details()
            .and_then(|d| d.snapshot_arn()),
        resource
            .recovery_point_details()
            .and_then(|d| d.recovery_point_arn()),
    ];
    candidates
        .into_iter()
        .flatten()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn finding_record(region: &str, detector_id: &str, finding: &Finding) -> FindingRecord {
    let severity = finding.severity().unwrap_or_default();
    let service = finding.service();
    FindingRecord {
        row: FindingRow {
            region: region.to_string(),
            detector_id: detector_id.to_string(),
            id: finding.id().unwrap_or_default().to_string(),
            finding_type: finding.r#type().unwrap_or_default().to_string(),
            severity,
            severity_band: Band::of(severity).as_str().to_string(),
            title: finding.title().unwrap_or_default().to_string(),
            resource_type: finding
                .resource()
                .and_then(|r| r.resource_type())
                .unwrap_or_default()
                .to_string(),
            resource_id: finding.resource().map(resource_id).unwrap_or_default(),
            account_id: finding.account_id().unwrap_or_default().to_string(),
            created_at: finding.created_at().unwrap_or_default().to_string(),
            updated_at: finding.updated_at().unwrap_or_default().to_string(),
            count: service.and_then(|s| s.count()),
            archived: service.and_then(|s| s.archived()),
        },
        arn: finding.arn().unwrap_or_default().to_string(),
        description: finding.description().unwrap_or_default().to_string(),
        event_first_seen: service
            .and_then(|s| s.event_first_seen())
            .unwrap_or_default()
            .to_string(),
        event_last_seen: service
            .and_then(|s| s.event_last_seen())
            .unwrap_or_default()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_guardduty::types::{
        AccessKeyDetails, DetectorFeatureConfigurationResult, DetectorFeatureResult, FeatureStatus,
        FindingPublishingFrequency, InstanceDetails, Resource, S3BucketDetail, Service,
    };

    #[test]
    fn the_resource_id_is_the_one_the_resource_type_names() {
        let instance = Resource::builder()
            .resource_type("Instance")
            .instance_details(InstanceDetails::builder().instance_id("i-0abc").build())
            .build();
        assert_eq!(resource_id(&instance), "i-0abc");
        let key = Resource::builder()
            .resource_type("AccessKey")
            .access_key_details(
                AccessKeyDetails::builder()
                    .access_key_id("AKIAEXAMPLE")
                    .user_name("alice")
                    .build(),
            )
            .build();
        assert_eq!(resource_id(&key), "AKIAEXAMPLE");
        let bucket = Resource::builder()
            .resource_type("S3Bucket")
            .s3_bucket_details(S3BucketDetail::builder().name("logs").build())
            .build();
        assert_eq!(resource_id(&bucket), "logs");
        assert_eq!(resource_id(&Resource::builder().build()), "");
    }

    #[test]
    fn a_finding_record_keeps_band_count_and_resource() {
        let finding = Finding::builder()
            .id("f1")
            .r#type("UnauthorizedAccess:EC2/SSHBruteForce")
            .severity(8.0)
            .title("SSH brute force")
            .account_id("123456789012")
            .created_at("2026-11-01T10:00:00.000Z")
            .updated_at("2026-11-02T10:00:00.000Z")
            .resource(
                Resource::builder()
                    .resource_type("Instance")
                    .instance_details(InstanceDetails::builder().instance_id("i-1").build())
                    .build(),
            )
            .service(Service::builder().count(12).archived(false).build())
            .build();
        let record = finding_record("eu-west-1", "d1", &finding);
        assert_eq!(record.row.severity_band, "high");
        assert_eq!(record.row.resource_id, "i-1");
        assert_eq!(record.row.count, Some(12));
        assert_eq!(record.row.archived, Some(false));
        assert_eq!(
            record.row.finding_type,
            "UnauthorizedAccess:EC2/SSHBruteForce"
        );
    }

    #[test]
    fn features_are_summarised_sorted() {
        let output = GetDetectorOutput::builder()
            .status(DetectorStatus::Enabled)
            .finding_publishing_frequency(FindingPublishingFrequency::SixHours)
            .features(
                DetectorFeatureConfigurationResult::builder()
                    .name(DetectorFeatureResult::S3DataEvents)
                    .status(FeatureStatus::Disabled)
                    .build(),
            )
            .features(
                DetectorFeatureConfigurationResult::builder()
                    .name(DetectorFeatureResult::CloudTrail)
                    .status(FeatureStatus::Enabled)
                    .build(),
            )
            .build();
        let record = detector_record("us-east-1", "d1", &output);
        assert_eq!(record.row.status, "ENABLED");
        assert_eq!(record.row.finding_publishing_frequency, "SIX_HOURS");
        assert_eq!(
            record.row.features.joined(),
            "CLOUD_TRAIL=ENABLED;S3_DATA_EVENTS=DISABLED"
        );
        assert_eq!(record.features.len(), 2);
    }
}
