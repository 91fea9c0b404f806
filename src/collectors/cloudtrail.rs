//! `cloudtrail`: every trail that records the account's API activity, whether it is logging,
//! where its logs go, and which events it selects.
//!
//! Calls: `DescribeTrails` (includeShadowTrails, no pagination) in every covered region; the
//! trails are deduplicated by TrailARN, since a multi-region or organization trail shows up as a
//! "shadow trail" in every region. Then, for each unique trail, `GetTrailStatus` and
//! `GetEventSelectors` with its full ARN in its home region (also when that region is not
//! covered). Selectors may be basic (EventSelectors) or advanced (AdvancedEventSelectors); both
//! are read into the same management/data coverage.
//! Then each trail's S3 log bucket, once per bucket (`bucket`): GetBucketLocation (in the
//! trail's home region), then in the bucket's own region GetBucketVersioning (status and MFA
//! delete), GetBucketEncryption (ServerSideEncryptionConfigurationNotFoundError is an answer:
//! none) and GetBucketLogging. A bucket of another account, or one the caller may not read,
//! fails its calls: recorded as errors, the bucket's row says so. Last, the sampled log file
//! validation of each logging trail with validation enabled (`validation`: digest listing and
//! reading, ListPublicKeys, log files re-hashed), over `--validation-hours` with
//! `--validation-sample` log files per digest.
//! Permissions: `cloudtrail:DescribeTrails`, `cloudtrail:GetTrailStatus`,
//! `cloudtrail:GetEventSelectors`, `s3:GetBucketLocation`, `s3:GetBucketVersioning`,
//! `s3:GetEncryptionConfiguration`, `s3:GetBucketLogging`; optional (the validation records
//! their refusal as its gap): `s3:ListBucket`, `s3:GetObject`, `cloudtrail:ListPublicKeys`.
//! Controls: CC7.2, CC7.3.
//! Files (their tables declared in `crate::contract::cloudtrail`): `trails.csv` (one row per
//! unique trail: configuration, status, derived event coverage), `trails.json` (per trail the
//! DescribeTrails entry, the GetTrailStatus and GetEventSelectors responses as returned, and the
//! derived coverage), `regions.csv` (per covered region read the trails visible there and how
//! many of them are shadows of trails homed elsewhere). A region whose DescribeTrails fails is
//! recorded as failed (in the manifest; it has no row in `regions.csv`); a trail whose status or
//! selectors cannot be read keeps its row with those cells empty, and the collector is partial.
//! `trail-buckets.csv` (+ `.json` with every encryption rule): per trail, its bucket's region,
//! versioning, MFA delete, default encryption, access logging and the failed calls.
//! `trail-validation.csv`: per trail, the validation's status (validated, failed, no_digests,
//! not_validated, not_applicable) with the counts of digests, signatures, chain, re-hashed log
//! files and every problem; `trail-validation.json` adds the check of each digest and sampled
//! log file.
//!
//! The answers as returned are typed in the evidence contract (`trails.json`) and converted in
//! `api`; what the selectors record is pure logic, in `crate::judge::cloudtrail`.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};

use super::{for_each_region, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use serde::Serialize;

use crate::contract::cloudtrail::{
    Coverage, EventSelectors, RegionRow, TrailBucketRow, TrailDescription, TrailRecord, TrailRow,
    TrailStatus, ValidationStatus,
};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::CallError;
use crate::vocab::CollectorStatus;
use crate::vocab::Scope;

use crate::judge::cloudtrail::coverage;

mod api;
mod bucket;
mod validation;

pub use validation::LogValidation;

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::cloudtrail::ID,
    title: "CloudTrail trails (multi-region, logging, validation, encryption, event selectors), \
            their log buckets, and their log files validated on a sample",
    controls: &[Control::Cc7_2, Control::Cc7_3],
    scope: Scope::Regional,
    permissions: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetTrailStatus",
        "s3:GetBucketLocation",
        "s3:GetBucketLogging",
        "s3:GetBucketVersioning",
        "s3:GetEncryptionConfiguration",
    ],
    run,
    optional_permissions: &["cloudtrail:ListPublicKeys", "s3:GetObject", "s3:ListBucket"],
};

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

/// A trail's home region: as DescribeTrails states it, else the region field of its ARN, else
/// the region it was seen in.
pub fn home_region(trail: &TrailDescription, seen_in: &str) -> String {
    if let Some(home) = trail.home_region.as_deref().filter(|h| !h.is_empty()) {
        return home.to_string();
    }
    trail
        .trail_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(3))
        .filter(|r| !r.is_empty())
        .unwrap_or(seen_in)
        .to_string()
}

// ---- Files ----

/// A unique trail as discovered, before its status and selectors are read.
struct Discovered {
    description: TrailDescription,
    home_region: String,
    seen_in: BTreeSet<String>,
}

/// DescribeTrails (shadow trails included) in every covered region, each region's outcome
/// recorded in `out`: the trails each region lists, by region. `cis-monitoring` lists trails
/// the same way.
pub(super) async fn describe_trails(
    ctx: &Context,
    out: &mut Evidence,
) -> Result<Vec<(String, Vec<TrailDescription>)>, CollectError> {
    for_each_region(ctx, out, |region| async move {
        // DescribeTrails has no pagination: one call returns every trail of the region.
        let output = ctx
            .clients
            .cloudtrail(&region)
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| CallError::from_sdk(&region, "DescribeTrails", &e))?;
        let trails: Vec<TrailDescription> = output
            .trail_list()
            .iter()
            .map(TrailDescription::from)
            .collect();
        Ok(RegionOutput::complete(trails))
    })
    .await
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let listed = describe_trails(ctx, out).await?;

    // Deduplicate by ARN; keep the home region's view of a trail when it was read.
    let mut trails: BTreeMap<String, Discovered> = BTreeMap::new();
    let mut region_rows = Vec::new();
    for (region, list) in &listed {
        let mut arns = BTreeSet::new();
        let mut home_count = 0;
        for description in list {
            let key = description
                .trail_arn
                .clone()
                .or_else(|| description.name.clone())
                .unwrap_or_default();
            let home = home_region(description, region);
            if home == *region {
                home_count += 1;
            }
            arns.insert(key.clone());
            let entry = trails.entry(key).or_insert_with(|| Discovered {
                description: description.clone(),
                home_region: home.clone(),
                seen_in: BTreeSet::new(),
            });
            if home == *region {
                entry.description = description.clone();
            }
            entry.seen_in.insert(region.clone());
        }
        region_rows.push(RegionRow {
            region: region.clone(),
            trails_visible: list.len() as u64,
            home_trails: home_count,
            shadow_trails: list.len() as u64 - home_count,
            trail_arns: arns.into_iter().collect(),
        });
    }

    // Status and selectors of each unique trail, in its home region, with its full ARN.
    let clients: BTreeMap<String, aws_sdk_cloudtrail::Client> = trails
        .values()
        .map(|t| t.home_region.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|region| {
            let client = ctx.clients.cloudtrail(&region);
            (region, client)
        })
        .collect();
    let work: Vec<(String, String)> = trails
        .iter()
        .map(|(arn, t)| (arn.clone(), t.home_region.clone()))
        .collect();
    let clients = &clients;
    let mut details: Vec<_> = stream::iter(work)
        .map(|(arn, home)| async move { trail_details(&clients[&home], arn, home).await })
        .buffer_unordered(ctx.concurrency.max(1))
        .collect()
        .await;
    // Completion order varies; errors are recorded in ARN order.
    details.sort_by(|a, b| a.0.cmp(&b.0));

    let read_regions: BTreeSet<&str> = listed.iter().map(|(r, _)| r.as_str()).collect();
    let mut records = Vec::new();
    for (arn, status, selectors) in details {
        let trail = &trails[&arn];
        let status = match status {
            Ok(status) => Some(status),
            Err(error) => {
                mark_partial(out, &read_regions, &error.region);
                out.error(error);
                None
            }
        };
        let selectors = match selectors {
            Ok(selectors) => Some(selectors),
            Err(error) => {
                mark_partial(out, &read_regions, &error.region);
                out.error(error);
                None
            }
        };
        let coverage = selectors.as_ref().map(coverage);
        let row = trail_row(&arn, trail, status.as_ref(), coverage.as_ref());
        let record = TrailRecord {
            row,
            trail: trail.description.clone(),
            seen_in_regions: trail.seen_in.iter().cloned().collect(),
            trail_status: status,
            event_selectors: selectors,
            coverage,
        };
        records.push(record);
    }
    records.sort_by(|a, b| {
        (&a.row.home_region, &a.row.trail_arn).cmp(&(&b.row.home_region, &b.row.trail_arn))
    });

    out.table_with_twin(&records, |r| r.row.clone())?;
    out.table(&region_rows)?;

    // The log buckets, each read once, in its own region.
    let buckets: BTreeMap<String, String> = records
        .iter()
        .filter(|r| !r.row.s3_bucket_name.is_empty())
        .map(|r| (r.row.s3_bucket_name.clone(), r.row.home_region.clone()))
        .collect();
    let facts = bucket::inspect_all(ctx, buckets).await;
    for bucket_facts in facts.values() {
        for error in &bucket_facts.errors {
            mark_partial(out, &read_regions, &error.region);
            out.error(error.clone());
        }
    }
    let bucket_records: Vec<TrailBucketRecord> = records
        .iter()
        .filter(|r| !r.row.s3_bucket_name.is_empty())
        .map(|r| trail_bucket(&r.row, &facts[&r.row.s3_bucket_name]))
        .collect();
    out.table_with_twin(&bucket_records, |r| r.row.clone())?;

    // Log file integrity, sampled.
    let now = chrono::Utc::now();
    let to_validate: Vec<validation::Trail> = records
        .iter()
        .map(|r| validation_trail(r, &trails, &facts))
        .collect();
    let (validations, errors, refused) = validation::validate_all(ctx, &to_validate, now).await;
    for error in errors {
        mark_partial(out, &read_regions, &error.region);
        out.error(error);
    }
    // Refused optional calls are gaps, not errors, but each is in the manifest all the same.
    if !refused.is_empty() {
        out.note("log_validation_refused", &refused);
    }
    let gaps = validations
        .iter()
        .filter(|v| v.row.status == ValidationStatus::NotValidated)
        .count();
    if gaps > 0 {
        out.note("log_validation_gaps", gaps);
    }
    let hours = i64::from(ctx.settings.log_validation.hours);
    out.note(
        "log_validation_window",
        format!(
            "{}/{}",
            validation::rfc3339(now - chrono::Duration::hours(hours)),
            validation::rfc3339(now)
        ),
    );
    out.table_with_twin(&validations, |v| v.row.clone())?;
    out.note("trails", records.len());
    if records.is_empty() {
        out.note(
            "no_trail",
            "no trail is visible in any covered region that could be read",
        );
    }
    Ok(())
}

/// A row of `trail-buckets.csv` and what its JSON twin adds.
#[derive(Debug, Serialize)]
struct TrailBucketRecord {
    #[serde(flatten)]
    row: TrailBucketRow,
    /// Every default encryption rule (`null` when GetBucketEncryption failed).
    encryption_rules: Option<Vec<bucket::EncryptionRule>>,
}

fn trail_bucket(trail: &TrailRow, facts: &bucket::BucketFacts) -> TrailBucketRecord {
    let encryption = facts.encryption.as_ref();
    TrailBucketRecord {
        row: TrailBucketRow {
            trail_arn: trail.trail_arn.clone(),
            trail_name: trail.name.clone(),
            home_region: trail.home_region.clone(),
            bucket: trail.s3_bucket_name.clone(),
            bucket_region: facts.region.clone().unwrap_or_default(),
            versioning: facts.versioning.clone().unwrap_or_default(),
            mfa_delete: facts.mfa_delete,
            default_encryption: encryption
                .map(|rules| match rules.first() {
                    Some(rule) => rule.sse_algorithm.clone(),
                    None => "none".to_string(),
                })
                .unwrap_or_default(),
            encryption_kms_key: encryption
                .and_then(|rules| rules.first())
                .and_then(|rule| rule.kms_master_key_id.clone())
                .unwrap_or_default(),
            access_logging: facts.logging.as_ref().map(Option::is_some),
            logging_target: facts.logging.clone().flatten().unwrap_or_default(),
            failed_calls: facts
                .errors
                .iter()
                .map(|e| e.operation.clone())
                .collect::<Vec<_>>()
                .into(),
            error: facts
                .errors
                .iter()
                .map(|e| format!("{}: {}: {}", e.operation, e.code, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        },
        encryption_rules: facts.encryption.clone(),
    }
}

/// What the log file validation needs of a trail: digests are read for every covered region
/// the trail is seen in (a multi-region trail delivers digests per region), or its home region.
fn validation_trail(
    record: &TrailRecord,
    trails: &BTreeMap<String, Discovered>,
    facts: &BTreeMap<String, bucket::BucketFacts>,
) -> validation::Trail {
    let row = &record.row;
    let mut regions: Vec<String> = trails
        .get(&row.trail_arn)
        .map(|t| t.seen_in.iter().cloned().collect())
        .unwrap_or_default();
    if regions.is_empty() {
        regions.push(row.home_region.clone());
    }
    let bucket_region = match facts.get(&row.s3_bucket_name) {
        Some(f) => match &f.region {
            Some(region) => Ok(region.clone()),
            None => Err(f
                .errors
                .first()
                .map(|e| format!("{}: {}: {}", e.operation, e.code, e.message))
                .unwrap_or_default()),
        },
        None => Err("the trail names no bucket".to_string()),
    };
    validation::Trail {
        arn: row.trail_arn.clone(),
        name: row.name.clone(),
        home_region: row.home_region.clone(),
        bucket: row.s3_bucket_name.clone(),
        key_prefix: row.s3_key_prefix.clone(),
        organization_trail: row.is_organization_trail == Some(true),
        validation_enabled: row.log_file_validation_enabled,
        logging: row.is_logging,
        regions,
        bucket_region,
    }
}

/// GetTrailStatus and GetEventSelectors of one trail, with its full ARN, in its home region.
async fn trail_details(
    client: &aws_sdk_cloudtrail::Client,
    arn: String,
    home: String,
) -> (
    String,
    Result<TrailStatus, CallError>,
    Result<EventSelectors, CallError>,
) {
    let (status, selectors) = tokio::join!(
        client.get_trail_status().name(&arn).send(),
        client.get_event_selectors().trail_name(&arn).send()
    );
    let status = status
        .map(|s| TrailStatus::from(&s))
        .map_err(|e| CallError::from_sdk(&home, "GetTrailStatus", &e));
    let selectors = selectors
        .map(|s| EventSelectors::from(&s))
        .map_err(|e| CallError::from_sdk(&home, "GetEventSelectors", &e));
    (arn, status, selectors)
}

/// A covered region that was read but one of its trail calls failed is partial, not collected.
fn mark_partial(out: &mut Evidence, read_regions: &BTreeSet<&str>, region: &str) {
    if read_regions.contains(region) {
        out.region(region, CollectorStatus::Partial);
    }
}

fn trail_row(
    arn: &str,
    trail: &Discovered,
    status: Option<&TrailStatus>,
    coverage: Option<&Coverage>,
) -> TrailRow {
    let d = &trail.description;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let status_text = |f: fn(&TrailStatus) -> &Option<String>| status.and_then(|s| f(s).clone());
    TrailRow {
        home_region: trail.home_region.clone(),
        name: text(&d.name),
        trail_arn: arn.to_string(),
        is_multi_region_trail: d.is_multi_region_trail,
        is_organization_trail: d.is_organization_trail,
        include_global_service_events: d.include_global_service_events,
        log_file_validation_enabled: d.log_file_validation_enabled,
        kms_key_id: text(&d.kms_key_id),
        s3_bucket_name: text(&d.s3_bucket_name),
        s3_key_prefix: text(&d.s3_key_prefix),
        sns_topic_arn: text(&d.sns_topic_arn),
        cloudwatch_logs_log_group_arn: text(&d.cloud_watch_logs_log_group_arn),
        cloudwatch_logs_role_arn: text(&d.cloud_watch_logs_role_arn),
        seen_in_regions: trail.seen_in.iter().cloned().collect(),
        is_logging: status.and_then(|s| s.is_logging),
        latest_delivery_time: status_text(|s| &s.latest_delivery_time).unwrap_or_default(),
        latest_delivery_error: status_text(|s| &s.latest_delivery_error).unwrap_or_default(),
        latest_delivery_attempt_time: status_text(|s| &s.latest_delivery_attempt_time)
            .unwrap_or_default(),
        latest_delivery_attempt_succeeded: status_text(|s| &s.latest_delivery_attempt_succeeded)
            .unwrap_or_default(),
        latest_cloudwatch_logs_delivery_time: status_text(|s| {
            &s.latest_cloud_watch_logs_delivery_time
        })
        .unwrap_or_default(),
        latest_cloudwatch_logs_delivery_error: status_text(|s| {
            &s.latest_cloud_watch_logs_delivery_error
        })
        .unwrap_or_default(),
        start_logging_time: status_text(|s| &s.start_logging_time).unwrap_or_default(),
        stop_logging_time: status_text(|s| &s.stop_logging_time).unwrap_or_default(),
        selector_kind: coverage.map(|c| c.selector_kind),
        management_events: coverage.map(|c| c.management_events),
        management_read_events: coverage.map(|c| c.management_read_events),
        management_write_events: coverage.map(|c| c.management_write_events),
        management_excluded_sources: coverage
            .map(|c| c.management_excluded_sources.iter().cloned().collect())
            .unwrap_or_default(),
        data_events: coverage.map(|c| c.data_events),
        data_resource_types: coverage
            .map(|c| c.data_resource_types.iter().cloned().collect())
            .unwrap_or_default(),
        has_insight_selectors: d.has_insight_selectors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_region_comes_from_the_trail_then_its_arn() {
        let mut trail = TrailDescription {
            trail_arn: Some("arn:aws:cloudtrail:eu-west-1:123456789012:trail/t".into()),
            home_region: Some("us-east-1".into()),
            ..TrailDescription::default()
        };
        assert_eq!(home_region(&trail, "ap-south-1"), "us-east-1");
        trail.home_region = None;
        assert_eq!(home_region(&trail, "ap-south-1"), "eu-west-1");
        trail.trail_arn = None;
        assert_eq!(home_region(&trail, "ap-south-1"), "ap-south-1");
    }
}
