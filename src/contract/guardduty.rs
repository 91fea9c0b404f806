//! The files of the `guardduty` collector (see `crate::collectors::guardduty`).

use serde::{Deserialize, Serialize};

use super::cell;
use crate::vocab::CollectorStatus;

super::contract! {
    id: "guardduty",
    tables: {
        DetectorRow => "detectors.csv",
        CountRow => "finding-counts.csv",
        FindingRow => "findings.csv",
        RegionRow => "regions.csv",
    },
    documents: {},
}

/// One row of `detectors.csv`: a detector of a covered region.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorRow {
    pub region: String,
    pub detector_id: String,
    /// `ENABLED` or `DISABLED`; empty when GetDetector failed.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub finding_publishing_frequency: String,
    pub service_role: String,
    /// The protection features as `NAME=STATUS` items, sorted.
    pub features: cell::List,
}

/// One row of `finding-counts.csv`: a detector's unarchived findings per severity band (empty
/// when GetFindingsStatistics failed).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountRow {
    pub region: String,
    pub detector_id: String,
    pub low: Option<u64>,
    pub medium: Option<u64>,
    pub high: Option<u64>,
    pub critical: Option<u64>,
    pub total: Option<u64>,
    /// Unarchived findings with severity >= 7 that ListFindings returned (their details are in
    /// `findings.csv`); a cross-check of `high` + `critical`. Empty when ListFindings failed.
    pub severe_listed: Option<u64>,
}

/// One row of `findings.csv`: an unarchived finding with severity >= 7.0.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRow {
    pub region: String,
    pub detector_id: String,
    pub id: String,
    #[serde(rename = "type")]
    pub finding_type: String,
    pub severity: f64,
    /// `low`, `medium`, `high` or `critical`: the band of `severity` (see
    /// `crate::judge::detection::Band`).
    pub severity_band: String,
    pub title: String,
    pub resource_type: String,
    /// The instance, key, bucket, cluster, function... when the finding names one.
    pub resource_id: String,
    pub account_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub count: Option<i32>,
    pub archived: Option<bool>,
}

/// One row of `regions.csv`: a covered region, how it went, and its detectors (counts empty
/// when the region could not be read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRow {
    pub region: String,
    pub status: CollectorStatus,
    pub detectors: Option<u64>,
    pub enabled_detectors: Option<u64>,
}

impl Default for RegionRow {
    /// A region that could not be read.
    fn default() -> Self {
        RegionRow {
            region: String::new(),
            status: CollectorStatus::Failed,
            detectors: None,
            enabled_detectors: None,
        }
    }
}
