//! `manifest.json`, schema version 1 (SPEC section 3): what was collected, how, and the SHA-256
//! of every other file of the bundle.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::files::FileRecord;
use crate::vocab::{CallError, CollectorStatus, Severity};

pub const SCHEMA_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub tool: Tool,
    pub run: Run,
    pub account: Account,
    /// The regions the run covered.
    pub regions: Vec<String>,
    /// `complete`, or `incomplete` when a collector or collector/region failed.
    pub status: BundleStatus,
    pub collectors: Vec<CollectorRecord>,
    /// Every file of the bundle but the manifest itself, sorted by path.
    pub files: Vec<FileRecord>,
    #[serde(default)]
    pub findings_summary: FindingsSummary,
    /// TSC criterion -> the collectors, files and findings that support it.
    pub controls: BTreeMap<String, ControlRecord>,
    /// Set by `report`: the bundle whose evidence this one re-analyses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<DerivedFrom>,
    /// How the text cells of the CSV tables are written; absent in bundles written before the
    /// tables were spreadsheet-safe, whose cells hold the values as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_cells: Option<TableCells>,
}

/// How the text cells of the bundle's CSV tables are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCells {
    /// `spreadsheet-safe`.
    pub encoding: String,
    /// The rule, in words, and how to get a value back.
    pub rule: String,
    /// Tables whose cells are kept as they were written, not made safe: AWS's own credential
    /// report, and in a bundle written by `report` from an older bundle, that bundle's tables.
    pub as_written: Vec<String>,
}

/// The encoding [`TableCells::encoding`] names.
pub const SPREADSHEET_SAFE: &str = "spreadsheet-safe";

/// Where the evidence of a bundle written by `report` comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DerivedFrom {
    /// The source bundle's name (its directory, or the top folder of its zip).
    pub bundle: String,
    /// The source bundle's run id.
    pub run_id: String,
    /// SHA-256 of the source bundle's manifest.json: with it, the copied evidence files are
    /// tied to the source's hashes.
    pub manifest_sha256: String,
    /// When `report` ran (RFC 3339 UTC).
    pub reported_at: String,
    /// The tool version that collected the source bundle.
    pub source_tool_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    /// Requests sent to AWS by the whole run, retries included.
    pub api_calls: u64,
    /// Of those, requests that were retries of a failed attempt.
    pub api_retries: u64,
    pub options: RunOptions,
}

/// What the run was asked to do (never a credential).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunOptions {
    pub profile: Option<String>,
    pub regions: Vec<String>,
    pub collectors: Vec<String>,
    pub skipped: Vec<String>,
    pub endpoint_url: Option<String>,
    /// Attempts per call the run allowed (from --max-attempts, AWS_MAX_ATTEMPTS, the profile,
    /// or the default).
    pub max_attempts: u32,
    /// `standard` or `adaptive` (AWS_RETRY_MODE or the profile's retry_mode).
    pub retry_mode: String,
    pub concurrency: usize,
    /// The thresholds of the time-based rules.
    #[serde(default)]
    pub thresholds: crate::vocab::Thresholds,
    /// Findings at or above this severity make the exit status 4.
    #[serde(default)]
    pub fail_on: Option<Severity>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub partition: String,
    pub caller_arn: String,
    /// `null` when the aliases could not be read.
    pub aliases: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BundleStatus {
    Complete,
    Incomplete,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectorRecord {
    pub id: String,
    pub title: String,
    pub controls: Vec<crate::controls::Control>,
    pub scope: crate::vocab::Scope,
    pub status: CollectorStatus,
    pub api_calls: u64,
    pub api_retries: u64,
    pub duration_ms: u64,
    pub errors: Vec<CallError>,
    /// Status and calls per region (`global` for global services), sorted by region.
    pub regions: Vec<RegionRecord>,
    pub files: Vec<FileRecord>,
    /// Facts about the collection itself (e.g. the credential report's generation time).
    pub notes: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegionRecord {
    pub region: String,
    pub status: CollectorStatus,
    pub api_calls: u64,
    pub api_retries: u64,
    /// How many of the collector's errors happened in this region.
    pub errors: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FindingsSummary {
    /// Whether the findings stage ran over the evidence.
    pub evaluated: bool,
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub total: u64,
    /// Rules evaluated on complete evidence, on part of it, and not at all (their evidence was
    /// not collected: see `rules.csv` for why). A rule not evaluated is never a pass.
    pub rules_evaluated: u64,
    pub rules_partial: u64,
    pub rules_not_evaluated: u64,
    /// The --fail-on severity the run was given, if any.
    pub fail_on: Option<Severity>,
}

impl FindingsSummary {
    /// How many findings are at or above `severity`.
    pub fn at_least(&self, severity: Severity) -> u64 {
        [
            (Severity::Critical, self.critical),
            (Severity::High, self.high),
            (Severity::Medium, self.medium),
            (Severity::Low, self.low),
        ]
        .iter()
        .filter(|(s, _)| s.at_least(severity))
        .map(|(_, n)| n)
        .sum()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ControlRecord {
    pub title: String,
    pub collectors: Vec<String>,
    pub files: Vec<String>,
    pub findings: u64,
}
