//! `manifest.json`, schema version 1 (SPEC section 3): what was collected, how, and the SHA-256
//! of every other file of the bundle.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::files::FileRecord;
use crate::evidence::CallError;

pub const SCHEMA_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, Serialize)]
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
    pub findings_summary: FindingsSummary,
    /// TSC criterion -> the collectors, files and findings that support it.
    pub controls: BTreeMap<String, ControlRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Default, Serialize)]
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
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub partition: String,
    pub caller_arn: String,
    /// `null` when the aliases could not be read.
    pub aliases: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BundleStatus {
    Complete,
    Incomplete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectorStatus {
    Collected,
    Partial,
    Failed,
    Skipped,
}

impl CollectorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CollectorStatus::Collected => "collected",
            CollectorStatus::Partial => "partial",
            CollectorStatus::Failed => "failed",
            CollectorStatus::Skipped => "skipped",
        }
    }

    /// Whether this status leaves a gap in the evidence. A skipped collector was not asked for.
    pub fn is_gap(self) -> bool {
        matches!(self, CollectorStatus::Partial | CollectorStatus::Failed)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectorRecord {
    pub id: String,
    pub title: String,
    pub controls: Vec<crate::controls::Control>,
    pub scope: crate::registry::Scope,
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

#[derive(Debug, Clone, Serialize)]
pub struct RegionRecord {
    pub region: String,
    pub status: CollectorStatus,
    pub api_calls: u64,
    pub api_retries: u64,
    /// How many of the collector's errors happened in this region.
    pub errors: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingsSummary {
    /// False until the findings stage has run over the evidence.
    pub evaluated: bool,
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlRecord {
    pub title: String,
    pub collectors: Vec<String>,
    pub files: Vec<String>,
    pub findings: u64,
}
