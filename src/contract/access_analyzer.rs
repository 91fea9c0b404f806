//! The files of the `access-analyzer` collector (see `crate::collectors::access_analyzer`).

use serde::{Deserialize, Serialize};

use crate::vocab::CollectorStatus;

super::contract! {
    id: "access-analyzer",
    tables: {
        AnalyzerRow => "analyzers.csv",
        FindingRow => "findings.csv",
        RegionRow => "regions.csv",
    },
    documents: {},
}

/// One row of `analyzers.csv`: an analyzer of a covered region.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyzerRow {
    pub region: String,
    pub name: String,
    pub arn: String,
    #[serde(rename = "type")]
    pub analyzer_type: String,
    /// What the type looks at: `external-access`, `internal-access`, `unused-access` (or
    /// `unknown`), see `crate::judge::detection::analyzer_kind`.
    pub kind: String,
    /// `ACTIVE`, `CREATING`, `DISABLED` or `FAILED`.
    pub status: String,
    pub status_reason: String,
    pub created_at: String,
    pub last_resource_analyzed: String,
    pub last_resource_analyzed_at: String,
    /// Unused-access analyzers only.
    pub unused_access_age_days: Option<i32>,
    /// Empty when the analyzer is not ACTIVE or its findings could not be listed.
    pub active_findings: Option<u64>,
}

/// One row of `findings.csv`: an ACTIVE finding of an ACTIVE analyzer.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRow {
    pub region: String,
    pub analyzer_arn: String,
    pub analyzer_type: String,
    pub id: String,
    /// `ExternalAccess`, `InternalAccess`, `UnusedIAMRole`, `UnusedPermission`...; empty when
    /// the API did not say.
    pub finding_type: String,
    pub resource: String,
    pub resource_type: String,
    pub resource_owner_account: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub analyzed_at: String,
    pub error: String,
}

/// One row of `regions.csv`: a covered region, how it went, and its analyzers (counts empty
/// when the region could not be read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRow {
    pub region: String,
    pub status: CollectorStatus,
    pub analyzers: Option<u64>,
    pub active_analyzers: Option<u64>,
    /// ACTIVE analyzers of type ACCOUNT or ORGANIZATION (what CIS 1.20 asks for).
    pub active_external_access_analyzers: Option<u64>,
}

impl Default for RegionRow {
    /// A region that could not be read.
    fn default() -> Self {
        RegionRow {
            region: String::new(),
            status: CollectorStatus::Failed,
            analyzers: None,
            active_analyzers: None,
            active_external_access_analyzers: None,
        }
    }
}
