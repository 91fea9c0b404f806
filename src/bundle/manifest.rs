//! `manifest.json`, schema version 1 (SPEC section 3): what was collected, how, and the SHA-256
//! of every other file of the bundle.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::files::FileRecord;
use crate::vocab::{CallError, CollectorStatus, Severity};

pub const SCHEMA_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";

// Every field but `schema_version` may be missing or `null`: bundles written by older versions
// (e.g. `max_attempts: null`, no `retry_mode`) stay readable by `report`. A missing value takes
// its type's default; a missing collector or region status is taken as `failed`, so a rule is
// never evaluated as passed on evidence whose collection nothing vouches for.

/// A value missing or `null` in the manifest: its type's default.
fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn failed() -> CollectorStatus {
    CollectorStatus::Failed
}

fn status_or_failed<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<CollectorStatus, D::Error> {
    Ok(Option::deserialize(deserializer)?.unwrap_or_else(failed))
}

fn global() -> crate::vocab::Scope {
    crate::vocab::Scope::Global
}

fn scope_or_global<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<crate::vocab::Scope, D::Error> {
    Ok(Option::deserialize(deserializer)?.unwrap_or_else(global))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, deserialize_with = "or_default")]
    pub tool: Tool,
    #[serde(default, deserialize_with = "or_default")]
    pub run: Run,
    #[serde(default, deserialize_with = "or_default")]
    pub account: Account,
    /// The regions the run covered.
    #[serde(default, deserialize_with = "or_default")]
    pub regions: Vec<String>,
    /// `complete`, or `incomplete` when a collector or collector/region failed.
    #[serde(default, deserialize_with = "or_default")]
    pub status: BundleStatus,
    #[serde(default, deserialize_with = "or_default")]
    pub collectors: Vec<CollectorRecord>,
    /// Every file of the bundle but the manifest itself, sorted by path.
    #[serde(default, deserialize_with = "or_default")]
    pub files: Vec<FileRecord>,
    #[serde(default, deserialize_with = "or_default")]
    pub findings_summary: FindingsSummary,
    /// TSC criterion -> the collectors, files and findings that support it.
    #[serde(default, deserialize_with = "or_default")]
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
    #[serde(default, deserialize_with = "or_default")]
    pub encoding: String,
    /// The rule, in words, and how to get a value back.
    #[serde(default, deserialize_with = "or_default")]
    pub rule: String,
    /// Tables whose cells are kept as they were written, not made safe: AWS's own credential
    /// report, and in a bundle written by `report` from an older bundle, that bundle's tables.
    #[serde(default, deserialize_with = "or_default")]
    pub as_written: Vec<String>,
}

/// The encoding [`TableCells::encoding`] names.
pub const SPREADSHEET_SAFE: &str = "spreadsheet-safe";

/// Where the evidence of a bundle written by `report` comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DerivedFrom {
    /// The source bundle's name (its directory, or the top folder of its zip).
    #[serde(default, deserialize_with = "or_default")]
    pub bundle: String,
    /// The source bundle's run id.
    #[serde(default, deserialize_with = "or_default")]
    pub run_id: String,
    /// SHA-256 of the source bundle's manifest.json: with it, the copied evidence files are
    /// tied to the source's hashes.
    #[serde(default, deserialize_with = "or_default")]
    pub manifest_sha256: String,
    /// When `report` ran (RFC 3339 UTC).
    #[serde(default, deserialize_with = "or_default")]
    pub reported_at: String,
    /// The tool version that collected the source bundle.
    #[serde(default, deserialize_with = "or_default")]
    pub source_tool_version: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Tool {
    #[serde(default, deserialize_with = "or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "or_default")]
    pub version: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Run {
    #[serde(default, deserialize_with = "or_default")]
    pub id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub started_at: String,
    #[serde(default, deserialize_with = "or_default")]
    pub finished_at: String,
    #[serde(default, deserialize_with = "or_default")]
    pub duration_ms: u64,
    /// Requests sent to AWS by the whole run, retries included.
    #[serde(default, deserialize_with = "or_default")]
    pub api_calls: u64,
    /// Of those, requests that were retries of a failed attempt.
    #[serde(default, deserialize_with = "or_default")]
    pub api_retries: u64,
    #[serde(default, deserialize_with = "or_default")]
    pub options: RunOptions,
}

/// What the run was asked to do (never a credential).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunOptions {
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    pub regions: Vec<String>,
    #[serde(default, deserialize_with = "or_default")]
    pub collectors: Vec<String>,
    #[serde(default, deserialize_with = "or_default")]
    pub skipped: Vec<String>,
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Attempts per call the run allowed (from --max-attempts, AWS_MAX_ATTEMPTS, the profile,
    /// or the default).
    #[serde(default, deserialize_with = "or_default")]
    pub max_attempts: u32,
    /// `standard` or `adaptive` (AWS_RETRY_MODE or the profile's retry_mode).
    #[serde(default, deserialize_with = "or_default")]
    pub retry_mode: String,
    #[serde(default, deserialize_with = "or_default")]
    pub concurrency: usize,
    /// The thresholds of the time-based rules.
    #[serde(default, deserialize_with = "or_default")]
    pub thresholds: crate::vocab::Thresholds,
    /// Findings at or above this severity make the exit status 4.
    #[serde(default)]
    pub fail_on: Option<Severity>,
    /// The config file the options came from, if any (README "Config file").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigRecord>,
    /// The documented policy the findings were judged against, if any: its copy in the bundle
    /// (`documented-policy.toml`) and SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documented_policy: Option<ConfigRecord>,
    /// Accounts whose grants in resource policies are expected (`--trusted-account` and the
    /// documented policy's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_accounts: Vec<String>,
}

/// A config file the run read: its path as given and its SHA-256.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigRecord {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Account {
    #[serde(default, deserialize_with = "or_default")]
    pub id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub partition: String,
    #[serde(default, deserialize_with = "or_default")]
    pub caller_arn: String,
    /// `null` when the aliases could not be read.
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BundleStatus {
    Complete,
    /// Also what a manifest without a status is taken to be: nothing says it is complete.
    #[default]
    Incomplete,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectorRecord {
    #[serde(default, deserialize_with = "or_default")]
    pub id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub title: String,
    #[serde(default, deserialize_with = "or_default")]
    pub controls: Vec<crate::controls::Control>,
    #[serde(default = "global", deserialize_with = "scope_or_global")]
    pub scope: crate::vocab::Scope,
    #[serde(default = "failed", deserialize_with = "status_or_failed")]
    pub status: CollectorStatus,
    #[serde(default, deserialize_with = "or_default")]
    pub api_calls: u64,
    #[serde(default, deserialize_with = "or_default")]
    pub api_retries: u64,
    #[serde(default, deserialize_with = "or_default")]
    pub duration_ms: u64,
    #[serde(default, deserialize_with = "or_default")]
    pub errors: Vec<CallError>,
    /// Status and calls per region (`global` for global services), sorted by region.
    #[serde(default, deserialize_with = "or_default")]
    pub regions: Vec<RegionRecord>,
    #[serde(default, deserialize_with = "or_default")]
    pub files: Vec<FileRecord>,
    /// Facts about the collection itself (e.g. the credential report's generation time).
    #[serde(default, deserialize_with = "or_default")]
    pub notes: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegionRecord {
    #[serde(default, deserialize_with = "or_default")]
    pub region: String,
    #[serde(default = "failed", deserialize_with = "status_or_failed")]
    pub status: CollectorStatus,
    #[serde(default, deserialize_with = "or_default")]
    pub api_calls: u64,
    #[serde(default, deserialize_with = "or_default")]
    pub api_retries: u64,
    /// How many of the collector's errors happened in this region.
    #[serde(default, deserialize_with = "or_default")]
    pub errors: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FindingsSummary {
    /// Whether the findings stage ran over the evidence.
    pub evaluated: bool,
    /// Open findings (accepted ones are counted apart, in `accepted`).
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub total: u64,
    /// Findings accepted by an exception: never counted towards `--fail-on`.
    pub accepted: SeverityCounts,
    /// The exceptions file the findings were judged with, if any.
    pub exceptions: Option<ExceptionsRecord>,
    /// Rules evaluated on complete evidence, on part of it, and not at all (their evidence was
    /// not collected: see `rules.csv` for why). A rule not evaluated is never a pass.
    pub rules_evaluated: u64,
    pub rules_partial: u64,
    pub rules_not_evaluated: u64,
    /// The --fail-on severity the run was given, if any.
    pub fail_on: Option<Severity>,
}

/// Findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeverityCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub total: u64,
}

/// The exceptions file of a bundle (README "Accepting a finding"): its copy in the bundle and
/// what its exceptions came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExceptionsRecord {
    /// The copy's path in the bundle (`exceptions.toml`), listed and hashed in `files`.
    pub file: String,
    pub sha256: String,
    /// `run` (given to the collecting run), `bundle` (`report`: the source bundle's) or
    /// `given` (`report --exceptions`: a file given anew).
    pub source: String,
    /// The date expiry was judged on (the run's start, UTC).
    pub as_of: String,
    pub exceptions: u64,
    pub applied: u64,
    pub expired: u64,
    pub stale: u64,
    pub other_account: u64,
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
    #[serde(default, deserialize_with = "or_default")]
    pub title: String,
    #[serde(default, deserialize_with = "or_default")]
    pub collectors: Vec<String>,
    #[serde(default, deserialize_with = "or_default")]
    pub files: Vec<String>,
    #[serde(default, deserialize_with = "or_default")]
    pub findings: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_with_null_and_missing_fields_reads_with_defaults() {
        let manifest: Manifest = serde_json::from_str(
            r#"{"schema_version": 1, "run": {"id": "r", "options": {"max_attempts": null}},
                "collectors": [{"id": "c", "status": null, "regions": [{"region": "global"}]}],
                "files": null}"#,
        )
        .unwrap();
        assert_eq!(manifest.run.options.max_attempts, 0);
        assert_eq!(manifest.run.options.retry_mode, "");
        assert_eq!(manifest.status, BundleStatus::Incomplete);
        assert_eq!(manifest.collectors[0].status, CollectorStatus::Failed);
        assert_eq!(
            manifest.collectors[0].regions[0].status,
            CollectorStatus::Failed
        );
        assert!(manifest.files.is_empty());
    }
}
