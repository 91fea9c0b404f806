//! The files of the `cloudtrail` collector (see `crate::collectors::cloudtrail`).

use serde::{Deserialize, Serialize};

use super::cell;

super::contract! {
    id: "cloudtrail",
    tables: {
        TrailRow => "trails.csv",
        RegionRow => "regions.csv",
    },
    documents: {},
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
