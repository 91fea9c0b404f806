//! The files of an organization bundle's `organization/` folder: what AWS Organizations says of
//! the organization, written by `collect --org` (and carried by `merge`), read by the org rules.
//!
//! Unlike a collector's files these live at the top of the org bundle, in `organization/`, not
//! in `evidence/<collector>/`; [`COLLECTOR`] names them in messages.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cell::List;
use super::{Document, FileSpec, Table};

/// The name the org files go by in messages ("column X missing in organization/accounts.csv").
pub const COLLECTOR: &str = "organization";
/// The folder of the org files in an org bundle.
pub const FOLDER: &str = "organization";

/// The policy types of AWS Organizations, in the order the bundle lists them.
pub const POLICY_TYPES: &[&str] = &[
    "SERVICE_CONTROL_POLICY",
    "RESOURCE_CONTROL_POLICY",
    "TAG_POLICY",
    "BACKUP_POLICY",
    "AISERVICES_OPT_OUT_POLICY",
    "CHATBOT_POLICY",
    "DECLARATIVE_POLICY_EC2",
];

/// `organization/organization.json`: DescribeOrganization and ListRoots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationFile {
    /// `o-...`; for `--account` runs without Organizations access, empty.
    pub id: String,
    pub arn: String,
    pub feature_set: String,
    pub management_account_id: String,
    pub management_account_email: String,
    pub roots: Vec<RootRecord>,
    /// The account that collected (the management account or a delegated administrator).
    pub collected_from: String,
    /// True when the run had no Organizations access (`--account` without `--org`): only the
    /// accounts asked for are known, without names, OUs or policies.
    pub accounts_only: bool,
}

/// One root of the organization (there is exactly one today) and its policy types.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRecord {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub policy_types: Vec<PolicyTypeRecord>,
}

/// A policy type of a root: `ENABLED`, `PENDING_ENABLE` or `PENDING_DISABLE`. A type not listed
/// is disabled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyTypeRecord {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
}

/// `organization/accounts.csv`: every account of the organization (every status), its place in
/// the OU tree, and what the run made of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub account_id: String,
    pub name: String,
    pub email: String,
    /// ACTIVE, SUSPENDED, PENDING_CLOSURE (the account's `State`, else its `Status`).
    pub status: String,
    /// The names from the root down, `/`-joined: `Root/Workloads/Prod`.
    pub ou_path: String,
    /// The ids on the same path, root first: `r-ab12;ou-ab12-11111111`.
    pub ou_ids: List,
    /// When it joined, RFC 3339 UTC.
    pub joined: String,
    /// `collected`, `partial` (its bundle is incomplete), `failed` (no bundle: the role could
    /// not be assumed, or the account's run failed), `not_collected` (suspended or closed),
    /// `excluded` (left out by `--account`, `--skip-account`, `--ou`), or `other_shard`
    /// (another shard's).
    pub collection_status: String,
    /// For `failed`: the operation, error code and message.
    pub error: String,
}

/// `organization/organizational-units.csv`: the OU tree, one row per root and OU.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OuRow {
    pub id: String,
    pub name: String,
    /// Empty for the root.
    pub parent_id: String,
    pub path: String,
    pub arn: String,
}

/// `organization/policies.csv`: every policy of every enabled policy type, with its targets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRow {
    pub policy_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub aws_managed: bool,
    pub description: String,
    /// Target ids (root, OU, account).
    pub targets: List,
}

/// `organization/policies.json`: the same policies with their documents decoded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoliciesFile {
    pub policies: Vec<PolicyRecord>,
}

/// One policy and where it is attached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub id: String,
    pub arn: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub aws_managed: bool,
    pub description: String,
    /// The document as JSON; a document that is not JSON is kept as a string.
    pub document: Value,
    pub targets: Vec<TargetRecord>,
}

/// A target of a policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    pub id: String,
    /// ROOT, ORGANIZATIONAL_UNIT or ACCOUNT.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
}

/// `organization/delegated-administrators.csv`: one row per delegated account and service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatedAdminRow {
    pub account_id: String,
    pub name: String,
    pub service_principal: String,
    /// When the delegation was made, RFC 3339 UTC; empty when unknown.
    pub delegated: String,
}

impl Table for AccountRow {
    const COLLECTOR: &'static str = COLLECTOR;
    const PATH: &'static str = "organization/accounts.csv";
}

impl Table for OuRow {
    const COLLECTOR: &'static str = COLLECTOR;
    const PATH: &'static str = "organization/organizational-units.csv";
}

impl Table for PolicyRow {
    const COLLECTOR: &'static str = COLLECTOR;
    const PATH: &'static str = "organization/policies.csv";
}

impl Table for DelegatedAdminRow {
    const COLLECTOR: &'static str = COLLECTOR;
    const PATH: &'static str = "organization/delegated-administrators.csv";
}

impl Document for OrganizationFile {
    const COLLECTOR: &'static str = COLLECTOR;
    const PATH: &'static str = "organization/organization.json";
}

impl Document for PoliciesFile {
    const COLLECTOR: &'static str = COLLECTOR;
    const PATH: &'static str = "organization/policies.json";
}

/// Every file of `organization/`.
pub static FILES: &[FileSpec] = &[
    super::document::<OrganizationFile>(),
    super::table::<AccountRow>(),
    super::table::<OuRow>(),
    super::table::<PolicyRow>(),
    super::document::<PoliciesFile>(),
    super::table::<DelegatedAdminRow>(),
];

/// `collection_status` values of [`AccountRow`].
pub mod status {
    pub const COLLECTED: &str = "collected";
    pub const PARTIAL: &str = "partial";
    pub const FAILED: &str = "failed";
    pub const NOT_COLLECTED: &str = "not_collected";
    pub const EXCLUDED: &str = "excluded";
    pub const OTHER_SHARD: &str = "other_shard";
}
