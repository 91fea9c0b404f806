//! The files of the `iam-authorization-details` collector (see `crate::collectors::iam_authorization_details`).
//!
//! - `authorization-details.json` ([`AuthorizationDetails`]): the raw detail lists, PascalCase
//!   as the API names them, every policy document decoded into JSON (a document that is not
//!   JSON is its decoded text, a JSON string). The rules judge policies and trust from these
//!   documents, so `report` applies the current logic to an old bundle.
//! - `users.csv`, `groups.csv`, `roles.csv`, `policies.csv`: one row per entity, and per
//!   (policy, principal that has it); derived from the lists alone by
//!   `crate::judge::iam_tables::Tables::build`. Lists are `;`-joined, sorted, without
//!   duplicates. `allows_admin` and the `trust_*` columns are conveniences for the reader of the
//!   bundle: no rule reads them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{cell, cell::List};

super::contract! {
    id: "iam-authorization-details",
    tables: {
        UserRow => "users.csv",
        GroupRow => "groups.csv",
        RoleRow => "roles.csv",
        PolicyRow => "policies.csv",
    },
    documents: {
        AuthorizationDetails => "authorization-details.json",
    },
}

// ---- authorization-details.json ----

/// `authorization-details.json`: the four detail lists of GetAccountAuthorizationDetails, each
/// sorted by name (policies by ARN).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthorizationDetails {
    pub user_detail_list: Vec<User>,
    pub group_detail_list: Vec<Group>,
    pub role_detail_list: Vec<Role>,
    pub policies: Vec<ManagedPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    pub policy_name: String,
    /// The decoded document; a JSON string when it was not JSON.
    pub policy_document: Value,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attached {
    pub policy_name: String,
    pub policy_arn: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Boundary {
    pub permissions_boundary_type: Option<String>,
    pub permissions_boundary_arn: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub path: String,
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    pub create_date: Option<String>,
    pub user_policy_list: Vec<InlinePolicy>,
    /// Group names.
    pub group_list: Vec<String>,
    pub attached_managed_policies: Vec<Attached>,
    pub permissions_boundary: Option<Boundary>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Group {
    pub path: String,
    pub group_name: String,
    pub group_id: String,
    pub arn: String,
    pub create_date: Option<String>,
    pub group_policy_list: Vec<InlinePolicy>,
    pub attached_managed_policies: Vec<Attached>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleLastUsed {
    pub last_used_date: Option<String>,
    pub region: Option<String>,
}

/// An instance profile of a role; its `Roles` are named, not repeated in full (the full role
/// is the entry this profile belongs to).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceProfile {
    pub path: String,
    pub instance_profile_name: String,
    pub instance_profile_id: String,
    pub arn: String,
    pub create_date: String,
    pub roles: Vec<ProfileRole>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileRole {
    pub path: String,
    pub role_name: String,
    pub role_id: String,
    pub arn: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    pub path: String,
    pub role_name: String,
    pub role_id: String,
    pub arn: String,
    pub create_date: Option<String>,
    /// The trust policy, decoded; a JSON string when it was not JSON.
    pub assume_role_policy_document: Value,
    pub instance_profile_list: Vec<InstanceProfile>,
    pub role_policy_list: Vec<InlinePolicy>,
    pub attached_managed_policies: Vec<Attached>,
    pub permissions_boundary: Option<Boundary>,
    pub tags: Vec<Tag>,
    pub role_last_used: Option<RoleLastUsed>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersion {
    pub document: Value,
    pub version_id: String,
    pub is_default_version: bool,
    pub create_date: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicy {
    pub policy_name: String,
    pub policy_id: Option<String>,
    pub arn: String,
    pub path: Option<String>,
    pub default_version_id: Option<String>,
    pub attachment_count: Option<i32>,
    pub permissions_boundary_usage_count: Option<i32>,
    pub is_attachable: bool,
    pub description: Option<String>,
    pub create_date: Option<String>,
    pub update_date: Option<String>,
    pub policy_version_list: Vec<PolicyVersion>,
}

impl ManagedPolicy {
    /// The document of the default version: the version flagged default, else the one named
    /// by DefaultVersionId.
    pub fn default_document(&self) -> Option<&Value> {
        self.policy_version_list
            .iter()
            .find(|v| v.is_default_version)
            .or_else(|| {
                self.policy_version_list
                    .iter()
                    .find(|v| Some(&v.version_id) == self.default_version_id.as_ref())
            })
            .map(|v| &v.document)
    }
}

// ---- The tables ----

/// `users.csv`: one row per user.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub user_name: String,
    pub arn: String,
    pub user_id: String,
    pub path: String,
    pub created: String,
    /// Group names.
    pub groups: List,
    pub attached_policy_arns: List,
    pub inline_policy_names: List,
    pub permissions_boundary_arn: String,
    pub tags_count: usize,
    /// Some policy the user has, directly or through a group, allows `*` on `*`; empty when
    /// unknown (a document could not be read) and none is known to.
    pub allows_admin: Option<bool>,
}

/// `groups.csv`: one row per group.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub group_name: String,
    pub arn: String,
    pub group_id: String,
    pub path: String,
    pub created: String,
    pub attached_policy_arns: List,
    pub inline_policy_names: List,
    pub member_count: usize,
    /// User names.
    pub members: List,
    pub allows_admin: Option<bool>,
}

/// `roles.csv`: one row per role.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    pub role_name: String,
    pub arn: String,
    pub role_id: String,
    pub path: String,
    pub created: String,
    /// The path is `/aws-service-role/`.
    pub service_linked: bool,
    /// The trust policy was read as JSON; when false the trust columns are empty.
    pub trust_policy_parsed: bool,
    /// Every principal of the trust policy's `Allow` statements (`judge::iam_policy::Trust`).
    pub trust_principals: List,
    /// The principals outside the account.
    pub trust_external_principals: List,
    /// The external principals allowed without `sts:ExternalId`.
    pub trust_external_without_external_id: List,
    /// Every statement that lets in an external principal requires `sts:ExternalId`; empty when
    /// there is no external principal (or the trust policy could not be read).
    pub trust_external_id_required: Option<bool>,
    pub role_last_used_date: String,
    pub role_last_used_region: String,
    pub attached_policy_arns: List,
    pub inline_policy_names: List,
    pub permissions_boundary_arn: String,
    /// Instance profile names.
    pub instance_profiles: List,
    pub tags_count: usize,
    pub allows_admin: Option<bool>,
}

impl RoleRow {
    pub fn created_time(&self) -> Option<DateTime<Utc>> {
        cell::parse_time(&self.created)
    }

    /// When the role was last used; `None` when never (or unknown).
    pub fn last_used_time(&self) -> Option<DateTime<Utc>> {
        cell::parse_time(&self.role_last_used_date)
    }
}

/// `policies.csv`: one row per (policy, principal that has it), sorted by principal.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRow {
    pub policy_name: String,
    /// Empty for inline policies.
    pub policy_arn: String,
    /// `aws-managed`, `customer-managed` or `inline`.
    pub kind: String,
    /// `user`, `group` or `role`.
    pub principal_type: String,
    pub principal_name: String,
    pub principal_arn: String,
    /// `direct`, or `group:<name>` for a user who has the policy through a group.
    pub via: String,
    /// The managed policy's default version; empty for inline policies.
    pub default_version_id: String,
    /// Whether the document (the default version's for managed policies) allows `*` on `*`;
    /// empty when the document could not be read or the policy's details were not returned.
    pub allows_admin: Option<bool>,
}

/// `PolicyRow::via` of a policy the principal holds itself.
pub const DIRECT: &str = "direct";
/// `PolicyRow::kind` of an inline policy.
pub const INLINE: &str = "inline";

/// `PolicyRow::via` of a policy a user has through the group `name`.
pub fn through_group(name: &str) -> String {
    format!("{VIA_GROUP}{name}")
}

const VIA_GROUP: &str = "group:";

impl PolicyRow {
    /// The group through which a user has the policy; `None` when held directly.
    pub fn via_group(&self) -> Option<&str> {
        self.via.strip_prefix(VIA_GROUP)
    }
}
