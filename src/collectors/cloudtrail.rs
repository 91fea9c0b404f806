//! `cloudtrail`: every trail that records the account's API activity, whether it is logging,
//! where its logs go, and which events it selects.
//!
//! Calls: `DescribeTrails` (includeShadowTrails, no pagination) in every covered region; the
//! trails are deduplicated by TrailARN, since a multi-region or organization trail shows up as a
//! "shadow trail" in every region. Then, for each unique trail, `GetTrailStatus` and
//! `GetEventSelectors` with its full ARN in its home region (also when that region is not
//! covered). Selectors may be basic (EventSelectors) or advanced (AdvancedEventSelectors); both
//! are read into the same management/data coverage.
//! Permissions: `cloudtrail:DescribeTrails`, `cloudtrail:GetTrailStatus`,
//! `cloudtrail:GetEventSelectors`.
//! Controls: CC7.2, CC7.3.
//! Files: `trails.csv` (one row per unique trail: configuration, status, derived event coverage),
//! `trails.json` (per trail the DescribeTrails entry, the GetTrailStatus and GetEventSelectors
//! responses as returned, and the derived coverage), `regions.csv` (per covered region the trails
//! visible there and how many of them are shadows of trails homed elsewhere). A region whose
//! DescribeTrails fails is recorded as failed; a trail whose status or selectors cannot be read
//! keeps its row with those cells empty, and the collector is partial.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
use aws_sdk_cloudtrail::types as api;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use super::{for_each_region, rfc3339, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::CallError;
use crate::vocab::CollectorStatus;
use crate::vocab::Scope;

pub const SPEC: CollectorSpec = CollectorSpec {
    id: "cloudtrail",
    title: "CloudTrail trails (multi-region, logging, validation, encryption, event selectors)",
    controls: &[Control::Cc7_2, Control::Cc7_3],
    scope: Scope::Regional,
    permissions: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetTrailStatus",
    ],
    run,
};

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

// ---- Responses as the API returned them (PascalCase, absent members left out) ----

/// One entry of DescribeTrails' trailList (the deprecated SnsTopicName is left out: SnsTopicARN
/// names the topic).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailDescription {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "TrailARN", skip_serializing_if = "Option::is_none")]
    pub trail_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_multi_region_trail: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_organization_trail: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_global_service_events: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_file_validation_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_bucket_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    #[serde(rename = "SnsTopicARN", skip_serializing_if = "Option::is_none")]
    pub sns_topic_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_log_group_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logs_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_custom_event_selectors: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_insight_selectors: Option<bool>,
}

impl From<&api::Trail> for TrailDescription {
    fn from(t: &api::Trail) -> Self {
        TrailDescription {
            name: t.name.clone(),
            trail_arn: t.trail_arn.clone(),
            home_region: t.home_region.clone(),
            is_multi_region_trail: t.is_multi_region_trail,
            is_organization_trail: t.is_organization_trail,
            include_global_service_events: t.include_global_service_events,
            log_file_validation_enabled: t.log_file_validation_enabled,
            kms_key_id: t.kms_key_id.clone(),
            s3_bucket_name: t.s3_bucket_name.clone(),
            s3_key_prefix: t.s3_key_prefix.clone(),
            sns_topic_arn: t.sns_topic_arn.clone(),
            cloud_watch_logs_log_group_arn: t.cloud_watch_logs_log_group_arn.clone(),
            cloud_watch_logs_role_arn: t.cloud_watch_logs_role_arn.clone(),
            has_custom_event_selectors: t.has_custom_event_selectors,
            has_insight_selectors: t.has_insight_selectors,
        }
    }
}

/// GetTrailStatus as returned (times as RFC 3339 UTC).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_logging: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_delivery_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_notification_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_delivery_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_notification_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_logging_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_logging_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_cloud_watch_logs_delivery_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_cloud_watch_logs_delivery_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_digest_delivery_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_digest_delivery_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_delivery_attempt_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_notification_attempt_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_notification_attempt_succeeded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_delivery_attempt_succeeded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_logging_started: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_logging_stopped: Option<String>,
}

impl From<&GetTrailStatusOutput> for TrailStatus {
    fn from(s: &GetTrailStatusOutput) -> Self {
        let time = |t: &Option<aws_smithy_types::DateTime>| t.as_ref().map(rfc3339);
        TrailStatus {
            is_logging: s.is_logging,
            latest_delivery_error: s.latest_delivery_error.clone(),
            latest_notification_error: s.latest_notification_error.clone(),
            latest_delivery_time: time(&s.latest_delivery_time),
            latest_notification_time: time(&s.latest_notification_time),
            start_logging_time: time(&s.start_logging_time),
            stop_logging_time: time(&s.stop_logging_time),
            latest_cloud_watch_logs_delivery_error: s
                .latest_cloud_watch_logs_delivery_error
                .clone(),
            latest_cloud_watch_logs_delivery_time: time(&s.latest_cloud_watch_logs_delivery_time),
            latest_digest_delivery_time: time(&s.latest_digest_delivery_time),
            latest_digest_delivery_error: s.latest_digest_delivery_error.clone(),
            latest_delivery_attempt_time: s.latest_delivery_attempt_time.clone(),
            latest_notification_attempt_time: s.latest_notification_attempt_time.clone(),
            latest_notification_attempt_succeeded: s.latest_notification_attempt_succeeded.clone(),
            latest_delivery_attempt_succeeded: s.latest_delivery_attempt_succeeded.clone(),
            time_logging_started: s.time_logging_started.clone(),
            time_logging_stopped: s.time_logging_stopped.clone(),
        }
    }
}

/// GetEventSelectors as returned: basic or advanced selectors.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelectors {
    #[serde(rename = "TrailARN", skip_serializing_if = "Option::is_none")]
    pub trail_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_selectors: Option<Vec<BasicSelector>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_event_selectors: Option<Vec<AdvancedSelector>>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BasicSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_write_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_management_events: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_resources: Option<Vec<DataResource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_management_event_sources: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataResource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FieldSelector {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equals: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_starts_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_ends_with: Option<Vec<String>>,
}

impl From<&GetEventSelectorsOutput> for EventSelectors {
    fn from(o: &GetEventSelectorsOutput) -> Self {
        EventSelectors {
            trail_arn: o.trail_arn.clone(),
            event_selectors: o.event_selectors.as_ref().map(|list| {
                list.iter()
                    .map(|s| BasicSelector {
                        read_write_type: s.read_write_type.as_ref().map(|t| t.as_str().to_string()),
                        include_management_events: s.include_management_events,
                        data_resources: s.data_resources.as_ref().map(|resources| {
                            resources
                                .iter()
                                .map(|r| DataResource {
                                    r#type: r.r#type.clone(),
                                    values: r.values.clone(),
                                })
                                .collect()
                        }),
                        exclude_management_event_sources: s
                            .exclude_management_event_sources
                            .clone(),
                    })
                    .collect()
            }),
            advanced_event_selectors: o.advanced_event_selectors.as_ref().map(|list| {
                list.iter()
                    .map(|s| AdvancedSelector {
                        name: s.name.clone(),
                        field_selectors: s
                            .field_selectors
                            .iter()
                            .map(|f| FieldSelector {
                                field: f.field.clone(),
                                equals: f.equals.clone(),
                                starts_with: f.starts_with.clone(),
                                ends_with: f.ends_with.clone(),
                                not_equals: f.not_equals.clone(),
                                not_starts_with: f.not_starts_with.clone(),
                                not_ends_with: f.not_ends_with.clone(),
                            })
                            .collect(),
                    })
                    .collect()
            }),
        }
    }
}

// ---- What the selectors mean (pure) ----

/// Which form of selectors a trail uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SelectorKind {
    Basic,
    Advanced,
    /// GetEventSelectors returned no selector of either form: the trail records no event.
    #[default]
    None,
}

impl SelectorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SelectorKind::Basic => "basic",
            SelectorKind::Advanced => "advanced",
            SelectorKind::None => "none",
        }
    }
}

/// Which management events a trail records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ManagementEvents {
    #[default]
    None,
    Read,
    Write,
    All,
}

impl ManagementEvents {
    pub fn from_flags(read: bool, write: bool) -> Self {
        match (read, write) {
            (true, true) => ManagementEvents::All,
            (true, false) => ManagementEvents::Read,
            (false, true) => ManagementEvents::Write,
            (false, false) => ManagementEvents::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ManagementEvents::None => "none",
            ManagementEvents::Read => "read",
            ManagementEvents::Write => "write",
            ManagementEvents::All => "all",
        }
    }
}

/// The events a trail's selectors record, whatever their form. Selectors are a union: an event
/// is recorded when any selector matches it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Coverage {
    pub selector_kind: SelectorKind,
    pub management_events: ManagementEvents,
    pub management_read_events: bool,
    pub management_write_events: bool,
    /// Event sources a management selector leaves out (ExcludeManagementEventSources, or an
    /// advanced `eventSource` NotEquals), e.g. `kms.amazonaws.com`.
    pub management_excluded_sources: Vec<String>,
    /// Whether any selector records data events.
    pub data_events: bool,
    /// The resource types of the selected data events (`AWS::S3::Object`, ...).
    pub data_resource_types: Vec<String>,
}

/// Reads a GetEventSelectors response. AWS returns one form or the other; should both come
/// back, the basic form is read, as AWS replaces the advanced form when basic selectors are put.
pub fn coverage(selectors: &EventSelectors) -> Coverage {
    let basic = selectors.event_selectors.as_deref().unwrap_or_default();
    let advanced = selectors
        .advanced_event_selectors
        .as_deref()
        .unwrap_or_default();
    if !basic.is_empty() {
        basic_coverage(basic)
    } else if !advanced.is_empty() {
        advanced_coverage(advanced)
    } else {
        Coverage::default()
    }
}

/// Basic selectors. An absent IncludeManagementEvents means true and an absent ReadWriteType
/// means All: the defaults the CloudTrail API documents for EventSelector.
pub fn basic_coverage(selectors: &[BasicSelector]) -> Coverage {
    let mut read = false;
    let mut write = false;
    let mut excluded = BTreeSet::new();
    let mut data_types = BTreeSet::new();
    let mut data = false;
    for selector in selectors {
        let read_write = selector.read_write_type.as_deref().unwrap_or("All");
        if selector.include_management_events.unwrap_or(true) {
            read |= matches!(read_write, "All" | "ReadOnly");
            write |= matches!(read_write, "All" | "WriteOnly");
            excluded.extend(
                selector
                    .exclude_management_event_sources
                    .iter()
                    .flatten()
                    .cloned(),
            );
        }
        for resource in selector.data_resources.iter().flatten() {
            data = true;
            if let Some(kind) = &resource.r#type {
                data_types.insert(kind.clone());
            }
        }
    }
    Coverage {
        selector_kind: SelectorKind::Basic,
        management_events: ManagementEvents::from_flags(read, write),
        management_read_events: read,
        management_write_events: write,
        management_excluded_sources: excluded.into_iter().collect(),
        data_events: data,
        data_resource_types: data_types.into_iter().collect(),
    }
}

fn fields<'a>(
    selector: &'a AdvancedSelector,
    name: &'a str,
) -> impl Iterator<Item = &'a FieldSelector> + 'a {
    selector
        .field_selectors
        .iter()
        .filter(move |f| f.field.eq_ignore_ascii_case(name))
}

fn contains(values: &Option<Vec<String>>, wanted: &str) -> bool {
    values
        .iter()
        .flatten()
        .any(|v| v.eq_ignore_ascii_case(wanted))
}

/// Advanced selectors: a selector with `eventCategory` Equals `Management` records management
/// events, read-only ones unless `readOnly` excludes them (Equals `false`) and write ones unless
/// it excludes those (Equals `true`); without a `readOnly` field it records both. A selector
/// with `eventCategory` Equals `Data` records data events of its `resources.type`.
pub fn advanced_coverage(selectors: &[AdvancedSelector]) -> Coverage {
    let mut read = false;
    let mut write = false;
    let mut excluded = BTreeSet::new();
    let mut data_types = BTreeSet::new();
    let mut data = false;
    for selector in selectors {
        let categories: Vec<&FieldSelector> = fields(selector, "eventCategory").collect();
        if categories.iter().any(|f| contains(&f.equals, "Management")) {
            let (mut r, mut w) = (true, true);
            for read_only in fields(selector, "readOnly") {
                if read_only.equals.is_some() {
                    r &= contains(&read_only.equals, "true");
                    w &= contains(&read_only.equals, "false");
                }
                r &= !contains(&read_only.not_equals, "true");
                w &= !contains(&read_only.not_equals, "false");
            }
            read |= r;
            write |= w;
            for source in fields(selector, "eventSource") {
                excluded.extend(source.not_equals.iter().flatten().cloned());
            }
        }
        if categories.iter().any(|f| contains(&f.equals, "Data")) {
            data = true;
            for kind in fields(selector, "resources.type") {
                data_types.extend(kind.equals.iter().flatten().cloned());
            }
        }
    }
    Coverage {
        selector_kind: SelectorKind::Advanced,
        management_events: ManagementEvents::from_flags(read, write),
        management_read_events: read,
        management_write_events: write,
        management_excluded_sources: excluded.into_iter().collect(),
        data_events: data,
        data_resource_types: data_types.into_iter().collect(),
    }
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

/// One row of `trails.csv`: a unique trail.
#[derive(Debug, Default, Serialize)]
pub struct TrailRow {
    pub home_region: String,
    pub name: String,
    pub trail_arn: String,
    pub is_multi_region_trail: Option<bool>,
    pub is_organization_trail: Option<bool>,
    pub include_global_service_events: Option<bool>,
    pub log_file_validation_enabled: Option<bool>,
    pub kms_key_id: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: String,
    pub sns_topic_arn: String,
    pub cloudwatch_logs_log_group_arn: String,
    pub cloudwatch_logs_role_arn: String,
    /// Covered regions whose DescribeTrails listed the trail, `;`-joined.
    pub seen_in_regions: String,
    /// Empty when GetTrailStatus failed.
    pub is_logging: Option<bool>,
    pub latest_delivery_time: String,
    pub latest_delivery_error: String,
    pub latest_delivery_attempt_time: String,
    pub latest_delivery_attempt_succeeded: String,
    pub latest_cloudwatch_logs_delivery_time: String,
    pub latest_cloudwatch_logs_delivery_error: String,
    pub start_logging_time: String,
    pub stop_logging_time: String,
    /// `basic`, `advanced` or `none`; empty (like the columns after it) when GetEventSelectors
    /// failed.
    pub selector_kind: String,
    /// `none`, `read`, `write` or `all`.
    pub management_events: String,
    pub management_read_events: Option<bool>,
    pub management_write_events: Option<bool>,
    pub management_excluded_sources: String,
    pub data_events: Option<bool>,
    pub data_resource_types: String,
    pub has_insight_selectors: Option<bool>,
}

/// One row of `regions.csv`: what a covered region's DescribeTrails showed.
#[derive(Debug, Default, Serialize)]
pub struct RegionRow {
    pub region: String,
    pub trails_visible: usize,
    /// Trails homed in this region.
    pub home_trails: usize,
    /// Trails homed elsewhere (multi-region or organization trails seen from here).
    pub shadow_trails: usize,
    pub trail_arns: String,
}

/// One element of `trails.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TrailRecord {
    trail: TrailDescription,
    seen_in_regions: Vec<String>,
    /// `null` when GetTrailStatus failed.
    trail_status: Option<TrailStatus>,
    /// `null` when GetEventSelectors failed.
    event_selectors: Option<EventSelectors>,
    /// What the selectors record; `null` when they could not be read.
    coverage: Option<Coverage>,
}

/// A unique trail as discovered, before its status and selectors are read.
struct Discovered {
    description: TrailDescription,
    home_region: String,
    seen_in: BTreeSet<String>,
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let listed = for_each_region(ctx, out, |region| async move {
        let client = ctx.clients.cloudtrail(&region);
        // DescribeTrails has no pagination: one call returns every trail of the region.
        let output = client
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
    .await?;

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
            trails_visible: list.len(),
            home_trails: home_count,
            shadow_trails: list.len() - home_count,
            trail_arns: arns.into_iter().collect::<Vec<_>>().join(";"),
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
    let mut collected = Vec::new();
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
            trail: trail.description.clone(),
            seen_in_regions: trail.seen_in.iter().cloned().collect(),
            trail_status: status,
            event_selectors: selectors,
            coverage,
        };
        collected.push((row, record));
    }
    collected.sort_by(|(a, _), (b, _)| {
        (&a.home_region, &a.trail_arn).cmp(&(&b.home_region, &b.trail_arn))
    });
    let (rows, records): (Vec<TrailRow>, Vec<TrailRecord>) = collected.into_iter().unzip();

    out.csv("trails.csv", &rows)?;
    out.json("trails.json", &records, Some(records.len() as u64))?;
    out.csv("regions.csv", &region_rows)?;
    out.note("trails", rows.len());
    if rows.is_empty() {
        out.note(
            "no_trail",
            "no trail is visible in any covered region that could be read",
        );
    }
    Ok(())
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
        seen_in_regions: trail.seen_in.iter().cloned().collect::<Vec<_>>().join(";"),
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
        selector_kind: coverage
            .map(|c| c.selector_kind.as_str().to_string())
            .unwrap_or_default(),
        management_events: coverage
            .map(|c| c.management_events.as_str().to_string())
            .unwrap_or_default(),
        management_read_events: coverage.map(|c| c.management_read_events),
        management_write_events: coverage.map(|c| c.management_write_events),
        management_excluded_sources: coverage
            .map(|c| c.management_excluded_sources.join(";"))
            .unwrap_or_default(),
        data_events: coverage.map(|c| c.data_events),
        data_resource_types: coverage
            .map(|c| c.data_resource_types.join(";"))
            .unwrap_or_default(),
        has_insight_selectors: d.has_insight_selectors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(read_write: Option<&str>, management: Option<bool>) -> BasicSelector {
        BasicSelector {
            read_write_type: read_write.map(str::to_string),
            include_management_events: management,
            data_resources: Some(vec![]),
            exclude_management_event_sources: None,
        }
    }

    fn field(name: &str, equals: &[&str]) -> FieldSelector {
        FieldSelector {
            field: name.to_string(),
            equals: Some(equals.iter().map(|v| v.to_string()).collect()),
            ..FieldSelector::default()
        }
    }

    fn advanced(fields: Vec<FieldSelector>) -> AdvancedSelector {
        AdvancedSelector {
            name: Some("selector".into()),
            field_selectors: fields,
        }
    }

    fn management(c: &Coverage) -> (ManagementEvents, bool, bool) {
        (
            c.management_events,
            c.management_read_events,
            c.management_write_events,
        )
    }

    #[test]
    fn basic_all_readonly_writeonly_and_management_off() {
        let all = basic_coverage(&[basic(Some("All"), Some(true))]);
        assert_eq!(management(&all), (ManagementEvents::All, true, true));
        assert_eq!(all.selector_kind, SelectorKind::Basic);
        assert!(!all.data_events);
        assert_eq!(
            management(&basic_coverage(&[basic(Some("ReadOnly"), Some(true))])),
            (ManagementEvents::Read, true, false)
        );
        assert_eq!(
            management(&basic_coverage(&[basic(Some("WriteOnly"), Some(true))])),
            (ManagementEvents::Write, false, true)
        );
        assert_eq!(
            management(&basic_coverage(&[basic(Some("All"), Some(false))])),
            (ManagementEvents::None, false, false)
        );
        // The API's documented defaults: ReadWriteType All, IncludeManagementEvents true.
        assert_eq!(
            management(&basic_coverage(&[basic(None, None)])),
            (ManagementEvents::All, true, true)
        );
        // Selectors are a union.
        assert_eq!(
            management(&basic_coverage(&[
                basic(Some("ReadOnly"), Some(true)),
                basic(Some("WriteOnly"), Some(true)),
            ])),
            (ManagementEvents::All, true, true)
        );
    }

    #[test]
    fn basic_data_resources_and_excluded_sources() {
        let mut selector = basic(Some("All"), Some(true));
        selector.data_resources = Some(vec![
            DataResource {
                r#type: Some("AWS::S3::Object".into()),
                values: Some(vec!["arn:aws:s3".into()]),
            },
            DataResource {
                r#type: Some("AWS::Lambda::Function".into()),
                values: Some(vec!["arn:aws:lambda".into()]),
            },
        ]);
        selector.exclude_management_event_sources = Some(vec!["kms.amazonaws.com".into()]);
        let c = basic_coverage(&[selector]);
        assert!(c.data_events);
        assert_eq!(
            c.data_resource_types,
            ["AWS::Lambda::Function", "AWS::S3::Object"]
        );
        assert_eq!(c.management_excluded_sources, ["kms.amazonaws.com"]);

        // Data events only: management off, data on.
        let mut data_only = basic(Some("All"), Some(false));
        data_only.data_resources = Some(vec![DataResource {
            r#type: Some("AWS::S3::Object".into()),
            values: Some(vec!["arn:aws:s3".into()]),
        }]);
        data_only.exclude_management_event_sources = Some(vec!["ignored".into()]);
        let c = basic_coverage(&[data_only]);
        assert_eq!(c.management_events, ManagementEvents::None);
        assert!(c.data_events);
        assert!(c.management_excluded_sources.is_empty());
    }

    #[test]
    fn advanced_management_with_read_only_true_false_and_absent() {
        let absent = advanced_coverage(&[advanced(vec![field("eventCategory", &["Management"])])]);
        assert_eq!(management(&absent), (ManagementEvents::All, true, true));
        assert_eq!(absent.selector_kind, SelectorKind::Advanced);
        let read_only = advanced_coverage(&[advanced(vec![
            field("eventCategory", &["Management"]),
            field("readOnly", &["true"]),
        ])]);
        assert_eq!(
            management(&read_only),
            (ManagementEvents::Read, true, false)
        );
        let write_only = advanced_coverage(&[advanced(vec![
            field("eventCategory", &["Management"]),
            field("readOnly", &["false"]),
        ])]);
        assert_eq!(
            management(&write_only),
            (ManagementEvents::Write, false, true)
        );
        // Two selectors, read-only and write-only: together all management events.
        let both = advanced_coverage(&[
            advanced(vec![
                field("eventCategory", &["Management"]),
                field("readOnly", &["true"]),
            ]),
            advanced(vec![
                field("eventCategory", &["Management"]),
                field("readOnly", &["false"]),
            ]),
        ]);
        assert_eq!(management(&both), (ManagementEvents::All, true, true));
        // NotEquals true on readOnly leaves the write events.
        let not_read = advanced_coverage(&[advanced(vec![
            field("eventCategory", &["Management"]),
            FieldSelector {
                field: "readOnly".into(),
                not_equals: Some(vec!["true".into()]),
                ..FieldSelector::default()
            },
        ])]);
        assert_eq!(
            management(&not_read),
            (ManagementEvents::Write, false, true)
        );
    }

    #[test]
    fn advanced_data_only_records_no_management_events() {
        let c = advanced_coverage(&[advanced(vec![
            field("eventCategory", &["Data"]),
            field("resources.type", &["AWS::S3::Object"]),
        ])]);
        assert_eq!(c.management_events, ManagementEvents::None);
        assert!(c.data_events);
        assert_eq!(c.data_resource_types, ["AWS::S3::Object"]);

        let c = advanced_coverage(&[advanced(vec![
            field("eventCategory", &["Management"]),
            FieldSelector {
                field: "eventSource".into(),
                not_equals: Some(vec![
                    "rdsdata.amazonaws.com".into(),
                    "kms.amazonaws.com".into(),
                ]),
                ..FieldSelector::default()
            },
        ])]);
        assert_eq!(c.management_events, ManagementEvents::All);
        assert!(!c.data_events);
        assert_eq!(
            c.management_excluded_sources,
            ["kms.amazonaws.com", "rdsdata.amazonaws.com"]
        );
    }

    #[test]
    fn no_selectors_record_nothing_and_basic_wins_over_advanced() {
        let none = coverage(&EventSelectors::default());
        assert_eq!(none.selector_kind, SelectorKind::None);
        assert_eq!(none.management_events, ManagementEvents::None);
        let empty_lists = coverage(&EventSelectors {
            trail_arn: None,
            event_selectors: Some(vec![]),
            advanced_event_selectors: Some(vec![]),
        });
        assert_eq!(empty_lists.selector_kind, SelectorKind::None);
        let advanced_only = coverage(&EventSelectors {
            trail_arn: None,
            event_selectors: Some(vec![]),
            advanced_event_selectors: Some(vec![advanced(vec![field(
                "eventCategory",
                &["Management"],
            )])]),
        });
        assert_eq!(advanced_only.selector_kind, SelectorKind::Advanced);
        let both = coverage(&EventSelectors {
            trail_arn: None,
            event_selectors: Some(vec![basic(Some("ReadOnly"), Some(true))]),
            advanced_event_selectors: Some(vec![advanced(vec![field(
                "eventCategory",
                &["Management"],
            )])]),
        });
        assert_eq!(both.selector_kind, SelectorKind::Basic);
        assert_eq!(both.management_events, ManagementEvents::Read);
    }

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

    #[test]
    fn raw_responses_keep_the_api_member_names() {
        let json = serde_json::to_value(TrailDescription {
            trail_arn: Some("arn".into()),
            sns_topic_arn: Some("topic".into()),
            cloud_watch_logs_log_group_arn: Some("group".into()),
            s3_bucket_name: Some("bucket".into()),
            ..TrailDescription::default()
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "TrailARN": "arn",
                "SnsTopicARN": "topic",
                "CloudWatchLogsLogGroupArn": "group",
                "S3BucketName": "bucket",
            })
        );
        let status = serde_json::to_value(TrailStatus {
            latest_cloud_watch_logs_delivery_error: Some("x".into()),
            ..TrailStatus::default()
        })
        .unwrap();
        assert_eq!(
            status,
            serde_json::json!({"LatestCloudWatchLogsDeliveryError": "x"})
        );
        let data = serde_json::to_value(DataResource {
            r#type: Some("AWS::S3::Object".into()),
            values: None,
        })
        .unwrap();
        assert_eq!(data, serde_json::json!({"Type": "AWS::S3::Object"}));
    }
}
