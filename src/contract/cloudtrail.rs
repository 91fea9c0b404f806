//! The files of the `cloudtrail` collector (see `crate::collectors::cloudtrail`).

use serde::{Deserialize, Serialize};

use super::cell;

super::contract! {
    id: "cloudtrail",
    tables: {
        TrailRow => "trails.csv",
        RegionRow => "regions.csv",
    },
    documents: {
        Vec<TrailRecord> => "trails.json",
    },
}

/// Which form of selectors a trail uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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

/// One row of `trails.csv`: a unique trail (deduplicated by ARN, in its home region), its
/// configuration, status and derived event coverage.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailRow {
    pub home_region: String,
    pub name: String,
    pub trail_arn: String,
    pub is_multi_region_trail: Option<bool>,
    pub is_organization_trail: Option<bool>,
    pub include_global_service_events: Option<bool>,
    pub log_file_validation_enabled: Option<bool>,
    /// Empty when the trail's logs are not encrypted with SSE-KMS.
    pub kms_key_id: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: String,
    pub sns_topic_arn: String,
    pub cloudwatch_logs_log_group_arn: String,
    pub cloudwatch_logs_role_arn: String,
    /// Covered regions whose DescribeTrails listed the trail.
    pub seen_in_regions: cell::List,
    /// Empty when GetTrailStatus failed (like the status columns after it).
    pub is_logging: Option<bool>,
    /// RFC 3339 times (read with [`cell::parse_time`]).
    pub latest_delivery_time: String,
    pub latest_delivery_error: String,
    pub latest_delivery_attempt_time: String,
    pub latest_delivery_attempt_succeeded: String,
    pub latest_cloudwatch_logs_delivery_time: String,
    pub latest_cloudwatch_logs_delivery_error: String,
    pub start_logging_time: String,
    pub stop_logging_time: String,
    /// Empty (like the columns after it) when GetEventSelectors failed.
    pub selector_kind: Option<SelectorKind>,
    pub management_events: Option<ManagementEvents>,
    pub management_read_events: Option<bool>,
    pub management_write_events: Option<bool>,
    pub management_excluded_sources: cell::List,
    pub data_events: Option<bool>,
    pub data_resource_types: cell::List,
    pub has_insight_selectors: Option<bool>,
}

/// One row of `regions.csv`: what a covered region's DescribeTrails showed (a region whose
/// DescribeTrails failed has no row).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRow {
    pub region: String,
    pub trails_visible: u64,
    /// Trails homed in this region.
    pub home_trails: u64,
    /// Trails homed elsewhere (multi-region or organization trails seen from here).
    pub shadow_trails: u64,
    pub trail_arns: cell::List,
}

// ---- trails.json: the answers as the API returned them (PascalCase, absent members left out) ----

/// One element of `trails.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailRecord {
    /// Its row of `trails.csv` (not part of the JSON).
    #[serde(skip)]
    pub row: TrailRow,
    pub trail: TrailDescription,
    pub seen_in_regions: Vec<String>,
    /// `null` when GetTrailStatus failed.
    pub trail_status: Option<TrailStatus>,
    /// `null` when GetEventSelectors failed.
    pub event_selectors: Option<EventSelectors>,
    /// What the selectors record; `null` when they could not be read.
    pub coverage: Option<Coverage>,
}

/// The events a trail's selectors record, whatever their form. Selectors are a union: an event
/// is recorded when any selector matches it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
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

/// One entry of DescribeTrails' trailList (the deprecated SnsTopicName is left out: SnsTopicARN
/// names the topic).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// GetTrailStatus as returned (times as RFC 3339 UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// GetEventSelectors as returned: basic or advanced selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelectors {
    #[serde(rename = "TrailARN", skip_serializing_if = "Option::is_none")]
    pub trail_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_selectors: Option<Vec<BasicSelector>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_event_selectors: Option<Vec<AdvancedSelector>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataResource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
