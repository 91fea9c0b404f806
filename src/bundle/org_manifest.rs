//! The manifest of an organization bundle (`collect --org`, `merge`).
//!
//! An org bundle holds one complete single-account bundle per collected account, under
//! `accounts/<account-id>/`, each with its own `manifest.json`. The org manifest lists the
//! org-level files (`organization/`, findings, access review, `index.html`) with their SHA-256
//! in `files`, and for each account its status and the SHA-256 of its own manifest: one hash
//! chain covers the whole tree, and every account folder stays a bundle an auditor can verify
//! on its own.

use serde::{Deserialize, Serialize};

use super::files::FileRecord;
use super::manifest::{BundleStatus, FindingsSummary, Tool};
use crate::vocab::{CallError, Severity};

/// The `kind` of an org manifest; a single-account manifest has none.
pub const ORG_KIND: &str = "organization";

/// The folder of the account bundles.
pub const ACCOUNTS_DIR: &str = "accounts";

/// The bundle path of an account's folder.
pub fn account_dir(account_id: &str) -> String {
    format!("{ACCOUNTS_DIR}/{account_id}")
}

/// The org bundle's name: `soc2-evidence-org-<org-id>-<YYYYMMDDTHHMMSSZ>` (for `--account` runs
/// without Organizations access, `soc2-evidence-accounts-<caller-account>-<time>`).
pub fn org_bundle_name(org_id: &str, started: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "soc2-evidence-org-{org_id}-{}",
        started.format("%Y%m%dT%H%M%SZ")
    )
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgManifest {
    /// The same schema version as single-account manifests.
    pub schema_version: u32,
    /// Always [`ORG_KIND`].
    pub kind: String,
    pub tool: Tool,
    pub run: OrgRun,
    pub organization: OrgIdentity,
    /// Set on a partial org bundle written with `--shard K/N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// Set by `report`: the org bundle whose evidence this one re-analyses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<super::manifest::DerivedFrom>,
    /// Set by `merge`: the shards the bundle was built from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<MergedFrom>,
    /// `complete`, or `incomplete` when an account could not be collected or its bundle is
    /// incomplete, or a call about the organization failed.
    pub status: BundleStatus,
    /// Every account of the organization, with what the run made of it.
    pub accounts: Vec<OrgAccountRecord>,
    /// Failed calls about the organization itself (listing policies, delegated administrators).
    #[serde(default)]
    pub errors: Vec<CallError>,
    /// The org-level files (everything outside `accounts/`), sorted by path.
    pub files: Vec<FileRecord>,
    /// The org's findings: the accounts' and the org rules', counted together.
    pub findings_summary: FindingsSummary,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrgRun {
    pub id: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    /// Every request of the run: the Organizations and STS calls and every account's.
    pub api_calls: u64,
    pub api_retries: u64,
    pub options: OrgOptionsRecord,
}

/// The org options the run was given, as given.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrgOptionsRecord {
    /// True for `--org`; false for a list of `--account` without Organizations access.
    pub org: bool,
    pub role_name: String,
    /// Whether an external id was given (never its value).
    pub external_id: bool,
    pub accounts: Vec<String>,
    pub skip_accounts: Vec<String>,
    pub ous: Vec<String>,
    pub regions: Vec<String>,
    pub collectors: Vec<String>,
    pub skipped: Vec<String>,
    pub concurrency: usize,
    pub fail_on: Option<Severity>,
    /// The config file the options came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<super::manifest::ConfigRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgIdentity {
    /// `o-...`; empty for `--account` runs without Organizations access.
    pub id: String,
    pub management_account_id: String,
    /// The account the run was made from, and the caller's ARN.
    pub collected_from: String,
    pub caller_arn: String,
    pub partition: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergedFrom {
    pub bundle: String,
    pub run_id: String,
    pub manifest_sha256: String,
    pub shard: Option<ShardRecord>,
}

/// One account of the organization.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgAccountRecord {
    pub account_id: String,
    pub name: String,
    /// AWS's status: ACTIVE, SUSPENDED, PENDING_CLOSURE.
    pub status: String,
    /// As in `organization/accounts.csv` (see `contract::organization::status`).
    pub collection_status: String,
    /// The account's bundle folder, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// SHA-256 and size of the account bundle's `manifest.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_bytes: Option<u64>,
    /// Why the account could not be collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CallError>,
}

impl OrgAccountRecord {
    /// The record of the account manifest in the org's hash chain, when it has a bundle.
    pub fn manifest_record(&self) -> Option<FileRecord> {
        let dir = self.bundle.as_ref()?;
        Some(FileRecord {
            path: format!("{dir}/{}", super::manifest::MANIFEST_FILE),
            sha256: self.manifest_sha256.clone()?,
            bytes: self.manifest_bytes?,
            rows: None,
        })
    }
}
