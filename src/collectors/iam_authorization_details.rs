//! `iam-authorization-details`: who may do what in IAM. Every user, group and role with its
//! group memberships, attached managed policies, inline policy documents, permissions boundary,
//! trust policy and last use, and every managed policy in use with its versions' documents.
//!
//! Calls: `GetAccountAuthorizationDetails` only, paginated with Marker/IsTruncated (page size
//! 1000, the maximum) for the entity types User, Group, Role, LocalManagedPolicy and
//! AWSManagedPolicy. One call family replaces per-user and per-role calls: the number of calls
//! grows with the pages (about one per thousand entities), never with users or roles.
//! Permissions: `iam:GetAccountAuthorizationDetails`.
//! Controls: CC6.1, CC6.2, CC6.3.
//! Files:
//! - `authorization-details.json`: the four detail lists (UserDetailList, GroupDetailList,
//!   RoleDetailList, Policies), PascalCase as the API names them, each sorted by name (policies
//!   by ARN), with every policy document URL-decoded into a JSON object. A document that cannot
//!   be decoded or parsed is kept as its decoded text and listed in the manifest notes
//!   (`unparsed_documents`). Customer managed policies are all kept; AWS managed policies only
//!   when in use (attached, used as a permissions boundary, or referenced by an entity in the
//!   lists): the others are the same in every account and carry no evidence.
//! - `users.csv`, `groups.csv`, `roles.csv`: one row per entity (see the row types).
//! - `policies.csv`: one row per (policy, principal that has it), users also through their
//!   groups (`via` = `group:<name>`), with `allows_admin` ([`allows_admin`] says the rule).
//!
//! What the API does not return is not invented: a role's maximum session duration is not part
//! of RoleDetail (it would need one ListRoles call family more), so it is not in `roles.csv`.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy, EntityType, GroupDetail, ManagedPolicyDetail,
    PolicyDetail, RoleDetail, UserDetail,
};
use serde::Serialize;
use serde_json::Value;

use super::{rfc3339, Context};
use super::{CollectFuture, CollectorSpec};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::Scope;
use crate::vocab::{CallError, GLOBAL};

pub const SPEC: CollectorSpec = CollectorSpec {
    id: "iam-authorization-details",
    title: "IAM authorization details (users, groups, roles, policies and their documents)",
    controls: &[Control::Cc6_1, Control::Cc6_2, Control::Cc6_3],
    scope: Scope::Global,
    permissions: &["iam:GetAccountAuthorizationDetails"],
    run,
};

/// The largest page the API serves: the fewest calls.
const PAGE_SIZE: i32 = 1000;

/// The path of service-linked roles.
const SERVICE_LINKED_PATH: &str = "/aws-service-role/";

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let iam = ctx.clients.iam();
    let mut paginator = iam
        .get_account_authorization_details()
        .set_filter(Some(vec![
            EntityType::User,
            EntityType::Group,
            EntityType::Role,
            EntityType::LocalManagedPolicy,
            EntityType::AwsManagedPolicy,
        ]))
        .into_paginator()
        .page_size(PAGE_SIZE)
        .send();

    // Each page is converted as it arrives and dropped: the SDK's copy of a large account is
    // never held next to ours.
    let mut decoder = Decoder::default();
    let mut details = AuthorizationDetails::default();
    let mut pages = 0usize;
    while let Some(page) = paginator.next().await {
        let page =
            page.map_err(|e| CallError::from_sdk(GLOBAL, "GetAccountAuthorizationDetails", &e))?;
        pages += 1;
        details.user_detail_list.extend(
            page.user_detail_list()
                .iter()
                .map(|u| User::from_sdk(u, &mut decoder)),
        );
        details.group_detail_list.extend(
            page.group_detail_list()
                .iter()
                .map(|g| Group::from_sdk(g, &mut decoder)),
        );
        details.role_detail_list.extend(
            page.role_detail_list()
                .iter()
                .map(|r| Role::from_sdk(r, &mut decoder)),
        );
        details.policies.extend(
            page.policies()
                .iter()
                .map(|p| ManagedPolicy::from_sdk(p, &mut decoder)),
        );
    }
    let omitted = details.keep_policies_in_use();
    details.sort();

    let tables = Tables::build(&details, &ctx.identity.account_id);
    let entities = details.user_detail_list.len()
        + details.group_detail_list.len()
        + details.role_detail_list.len()
        + details.policies.len();
    out.json(
        "authorization-details.json",
        &details,
        Some(entities as u64),
    )?;
    out.csv("users.csv", &tables.users)?;
    out.csv("groups.csv", &tables.groups)?;
    out.csv("roles.csv", &tables.roles)?;
    out.csv("policies.csv", &tables.policies)?;

    out.note("pages", pages);
    out.note("users", details.user_detail_list.len());
    out.note("groups", details.group_detail_list.len());
    out.note("roles", details.role_detail_list.len());
    out.note("managed_policies", details.policies.len());
    out.note("aws_managed_policies_not_in_use_omitted", omitted);
    if decoder.names_from_arn > 0 {
        out.note("policy_names_derived_from_arn", decoder.names_from_arn);
    }
    if !decoder.unparsed.is_empty() {
        tracing::warn!(
            count = decoder.unparsed.len(),
            "policy documents that are not JSON are kept as text"
        );
        out.note("unparsed_documents", &decoder.unparsed);
    }
    if !tables.attached_without_details.is_empty() {
        out.note(
            "attached_policies_without_details",
            &tables.attached_without_details,
        );
    }
    if entities == 0 {
        out.note(
            "empty",
            "the account has no IAM users, groups, roles or managed policies",
        );
    }
    Ok(())
}

// ---- Policy documents ----

/// A policy document that could not be read as JSON, for the manifest notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnparsedDocument {
    /// `user/<name>`, `group/<name>`, `role/<name>` or the policy ARN.
    pub entity: String,
    /// The inline policy name, `AssumeRolePolicyDocument`, or the version id.
    pub document: String,
    pub error: String,
}

/// Decodes documents and remembers the ones that did not parse.
#[derive(Debug, Default)]
struct Decoder {
    unparsed: Vec<UnparsedDocument>,
    names_from_arn: usize,
}

impl Decoder {
    fn document(&mut self, raw: Option<&str>, entity: &str, document: &str) -> Value {
        let Some(raw) = raw else {
            return Value::Null;
        };
        match decode_document(raw) {
            Ok(value) => value,
            Err(unparsed) => {
                self.unparsed.push(UnparsedDocument {
                    entity: entity.to_string(),
                    document: document.to_string(),
                    error: unparsed.error,
                });
                Value::String(unparsed.text)
            }
        }
    }
}

/// A document that is not JSON: its URL-decoded text and why it did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unparsed {
    pub text: String,
    pub error: String,
}

/// Decodes a policy document as IAM returns it (RFC 3986 percent-encoded JSON) into JSON.
///
/// The percent-decoded text is parsed first. When that fails the raw text is tried as JSON as
/// it stands, because some sources (moto's trust policies) send documents unencoded, and a
/// literal `%` in such a document would otherwise spoil it. A document that is neither is
/// returned as its decoded text with the parse error, never dropped.
pub fn decode_document(raw: &str) -> Result<Value, Unparsed> {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let first_error = match serde_json::from_str::<Value>(&decoded) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    if decoded != raw {
        if let Ok(value) = serde_json::from_str::<Value>(raw) {
            return Ok(value);
        }
    }
    Err(Unparsed {
        text: decoded.into_owned(),
        error: format!("not JSON after URL-decoding: {first_error}"),
    })
}

/// A statement list as policies write it: one object, or an array of them.
fn statements(document: &Value) -> Vec<&serde_json::Map<String, Value>> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(one)) => vec![one],
        _ => Vec::new(),
    }
}

/// A string-or-list element (`Action`, `Resource`, principal values) as its strings.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_allow(statement: &serde_json::Map<String, Value>) -> bool {
    statement
        .get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|effect| effect.eq_ignore_ascii_case("Allow"))
}

/// Whether a policy document grants full administrative access, the rule of CIS 1.16 and
/// Security Hub IAM.1: some statement has `Effect` `Allow`, `Action` `*` (the string, or `*`
/// among a list) and `Resource` `*` (likewise).
///
/// - `Statement` may be one object or an array.
/// - Only the exact wildcard `*` counts; `iam:*`, `*:*` or `s3:*` do not.
/// - `NotAction` / `NotResource` never count (an `Allow` with `NotAction` is broad but is not
///   this rule); neither does a statement without `Action` or `Resource`.
/// - A `Condition` does not exempt the statement, and `Deny` statements elsewhere in the
///   document do not cancel it: the policy still grants `*` on `*` where it applies.
///
/// `None` when the document is not a JSON object (it could not be parsed, or is absent).
pub fn allows_admin(document: &Value) -> Option<bool> {
    if !document.is_object() {
        return None;
    }
    Some(statements(document).into_iter().any(|statement| {
        is_allow(statement)
            && strings(statement.get("Action")).contains(&"*")
            && strings(statement.get("Resource")).contains(&"*")
    }))
}

/// What a role's trust policy lets in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// Every principal of an `Allow` statement, `Type:value` (`AWS:...`, `Service:...`,
    /// `Federated:...`, `CanonicalUser:...`), `*` for `"Principal": "*"`, and
    /// `NotPrincipal:Type:value` for an `Allow` with `NotPrincipal`.
    pub principals: BTreeSet<String>,
    /// Principals outside the account: `AWS` principals of another account (ARN or account
    /// id) or `*`, and `*` for `"Principal": "*"` and for `NotPrincipal`. Service and
    /// federated principals are not counted: `sts:ExternalId` does not apply to them.
    pub external: BTreeSet<String>,
    /// The external principals allowed by a statement without an `sts:ExternalId` condition.
    pub external_without_external_id: BTreeSet<String>,
}

/// Reads a trust policy (`AssumeRolePolicyDocument`). `None` when it is not a JSON object.
///
/// A statement requires an external id when its `Condition` tests the key `sts:ExternalId`
/// (keys compare case-insensitively) with `StringEquals`, `StringEqualsIgnoreCase` or
/// `StringLike`, optionally prefixed `ForAnyValue:`. `...IfExists` and `ForAllValues:` forms
/// match when the key is absent, so they do not require it; neither do negated operators.
pub fn analyse_trust(document: &Value, account_id: &str) -> Option<Trust> {
    if !document.is_object() {
        return None;
    }
    let mut trust = Trust::default();
    for statement in statements(document) {
        if !is_allow(statement) {
            continue;
        }
        let mut external = Vec::new();
        match statement.get("Principal") {
            Some(Value::String(any)) => {
                trust.principals.insert(any.clone());
                if any == "*" {
                    external.push("*".to_string());
                }
            }
            Some(Value::Object(by_type)) => {
                for (kind, values) in by_type {
                    for value in strings(Some(values)) {
                        trust.principals.insert(format!("{kind}:{value}"));
                        if kind == "AWS" && is_outside_account(value, account_id) {
                            external.push(format!("{kind}:{value}"));
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(not_principal) = statement.get("NotPrincipal") {
            match not_principal {
                Value::Object(by_type) => {
                    for (kind, values) in by_type {
                        for value in strings(Some(values)) {
                            trust
                                .principals
                                .insert(format!("NotPrincipal:{kind}:{value}"));
                        }
                    }
                }
                other => {
                    for value in strings(Some(other)) {
                        trust.principals.insert(format!("NotPrincipal:{value}"));
                    }
                }
            }
            external.push("*".to_string());
        }
        let requires_external_id = requires_external_id(statement.get("Condition"));
        for principal in external {
            if !requires_external_id {
                trust.external_without_external_id.insert(principal.clone());
            }
            trust.external.insert(principal);
        }
    }
    Some(trust)
}

/// An `AWS` principal outside `account_id`: `*`, another account's id, or an ARN whose account
/// field is another account. Unique ids (`AROA...`, left when a trusted role was deleted) name
/// no account and are not counted.
fn is_outside_account(principal: &str, account_id: &str) -> bool {
    if principal == "*" {
        return true;
    }
    if principal.len() == 12 && principal.chars().all(|c| c.is_ascii_digit()) {
        return principal != account_id;
    }
    if principal.starts_with("arn:") {
        return principal
            .split(':')
            .nth(4)
            .is_some_and(|account| account != account_id);
    }
    false
}

fn requires_external_id(condition: Option<&Value>) -> bool {
    let Some(Value::Object(operators)) = condition else {
        return false;
    };
    operators.iter().any(|(operator, keys)| {
        let base = operator.strip_prefix("ForAnyValue:").unwrap_or(operator);
        let requiring = ["StringEquals", "StringEqualsIgnoreCase", "StringLike"]
            .iter()
            .any(|op| base.eq_ignore_ascii_case(op));
        requiring
            && keys.as_object().is_some_and(|keys| {
                keys.keys()
                    .any(|key| key.eq_ignore_ascii_case("sts:ExternalId"))
            })
    })
}

// ---- The raw detail lists, decoded (authorization-details.json) ----

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthorizationDetails {
    pub user_detail_list: Vec<User>,
    pub group_detail_list: Vec<Group>,
    pub role_detail_list: Vec<Role>,
    pub policies: Vec<ManagedPolicy>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    pub policy_name: String,
    pub policy_document: Value,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attached {
    pub policy_name: String,
    pub policy_arn: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Boundary {
    pub permissions_boundary_type: Option<String>,
    pub permissions_boundary_arn: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub path: String,
    pub user_name: String,
    pub user_id: String,
    pub arn: String,
    pub create_date: Option<String>,
    pub user_policy_list: Vec<InlinePolicy>,
    pub group_list: Vec<String>,
    pub attached_managed_policies: Vec<Attached>,
    pub permissions_boundary: Option<Boundary>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleLastUsed {
    pub last_used_date: Option<String>,
    pub region: Option<String>,
}

/// An instance profile of a role; its `Roles` are named, not repeated in full (the full role
/// is the entry this profile belongs to).
#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileRole {
    pub path: String,
    pub role_name: String,
    pub role_id: String,
    pub arn: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    pub path: String,
    pub role_name: String,
    pub role_id: String,
    pub arn: String,
    pub create_date: Option<String>,
    pub assume_role_policy_document: Value,
    pub instance_profile_list: Vec<InstanceProfile>,
    pub role_policy_list: Vec<InlinePolicy>,
    pub attached_managed_policies: Vec<Attached>,
    pub permissions_boundary: Option<Boundary>,
    pub tags: Vec<Tag>,
    pub role_last_used: Option<RoleLastUsed>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersion {
    pub document: Value,
    pub version_id: String,
    pub is_default_version: bool,
    pub create_date: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
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

fn text(value: Option<&str>) -> String {
    value.unwrap_or_default().to_string()
}

fn inline_policies(
    list: &[PolicyDetail],
    entity: &str,
    decoder: &mut Decoder,
) -> Vec<InlinePolicy> {
    let mut policies: Vec<InlinePolicy> = list
        .iter()
        .map(|p| {
            let name = text(p.policy_name());
            InlinePolicy {
                policy_document: decoder.document(p.policy_document(), entity, &name),
                policy_name: name,
            }
        })
        .collect();
    policies.sort_by(|a, b| a.policy_name.cmp(&b.policy_name));
    policies
}

fn attached(list: &[AttachedPolicy]) -> Vec<Attached> {
    let mut policies: Vec<Attached> = list
        .iter()
        .map(|p| Attached {
            policy_name: text(p.policy_name()),
            policy_arn: text(p.policy_arn()),
        })
        .collect();
    policies.sort_by(|a, b| a.policy_arn.cmp(&b.policy_arn));
    policies
}

fn boundary(boundary: Option<&AttachedPermissionsBoundary>) -> Option<Boundary> {
    boundary.map(|b| Boundary {
        permissions_boundary_type: b
            .permissions_boundary_type()
            .map(|t| t.as_str().to_string()),
        permissions_boundary_arn: text(b.permissions_boundary_arn()),
    })
}

fn tags(list: &[aws_sdk_iam::types::Tag]) -> Vec<Tag> {
    let mut tags: Vec<Tag> = list
        .iter()
        .map(|t| Tag {
            key: t.key().to_string(),
            value: t.value().to_string(),
        })
        .collect();
    tags.sort_by(|a, b| a.key.cmp(&b.key));
    tags
}

impl User {
    fn from_sdk(user: &UserDetail, decoder: &mut Decoder) -> User {
        let name = text(user.user_name());
        let mut groups = user.group_list().to_vec();
        groups.sort();
        User {
            path: text(user.path()),
            user_id: text(user.user_id()),
            arn: text(user.arn()),
            create_date: user.create_date().map(rfc3339),
            user_policy_list: inline_policies(
                user.user_policy_list(),
                &format!("user/{name}"),
                decoder,
            ),
            group_list: groups,
            attached_managed_policies: attached(user.attached_managed_policies()),
            permissions_boundary: boundary(user.permissions_boundary()),
            tags: tags(user.tags()),
            user_name: name,
        }
    }
}

impl Group {
    fn from_sdk(group: &GroupDetail, decoder: &mut Decoder) -> Group {
        let name = text(group.group_name());
        Group {
            path: text(group.path()),
            group_id: text(group.group_id()),
            arn: text(group.arn()),
            create_date: group.create_date().map(rfc3339),
            group_policy_list: inline_policies(
                group.group_policy_list(),
                &format!("group/{name}"),
                decoder,
            ),
            attached_managed_policies: attached(group.attached_managed_policies()),
            group_name: name,
        }
    }
}

impl Role {
    fn from_sdk(role: &RoleDetail, decoder: &mut Decoder) -> Role {
        let name = text(role.role_name());
        let entity = format!("role/{name}");
        let mut profiles: Vec<InstanceProfile> = role
            .instance_profile_list()
            .iter()
            .map(|p| InstanceProfile {
                path: p.path().to_string(),
                instance_profile_name: p.instance_profile_name().to_string(),
                instance_profile_id: p.instance_profile_id().to_string(),
                arn: p.arn().to_string(),
                create_date: rfc3339(p.create_date()),
                roles: p
                    .roles()
                    .iter()
                    .map(|r| ProfileRole {
                        path: r.path().to_string(),
                        role_name: r.role_name().to_string(),
                        role_id: r.role_id().to_string(),
                        arn: r.arn().to_string(),
                    })
                    .collect(),
                tags: tags(p.tags()),
            })
            .collect();
        profiles.sort_by(|a, b| a.arn.cmp(&b.arn));
        Role {
            path: text(role.path()),
            role_id: text(role.role_id()),
            arn: text(role.arn()),
            create_date: role.create_date().map(rfc3339),
            assume_role_policy_document: decoder.document(
                role.assume_role_policy_document(),
                &entity,
                "AssumeRolePolicyDocument",
            ),
            instance_profile_list: profiles,
            role_policy_list: inline_policies(role.role_policy_list(), &entity, decoder),
            attached_managed_policies: attached(role.attached_managed_policies()),
            permissions_boundary: boundary(role.permissions_boundary()),
            tags: tags(role.tags()),
            role_last_used: role.role_last_used().map(|used| RoleLastUsed {
                last_used_date: used.last_used_date().map(rfc3339),
                region: used.region().map(str::to_string),
            }),
            role_name: name,
        }
    }
}

/// The policy name at the end of a policy ARN (`arn:aws:iam::aws:policy/service-role/X` -> X).
pub fn name_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Whether a policy ARN is an AWS managed policy (account field `aws`).
pub fn is_aws_managed(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws")
}

impl ManagedPolicy {
    fn from_sdk(policy: &ManagedPolicyDetail, decoder: &mut Decoder) -> ManagedPolicy {
        let arn = text(policy.arn());
        // AWS always returns PolicyName; moto omits it (and PolicyId) in Policies[], so the
        // name is derived from the ARN, whose last segment is the name.
        let policy_name = match policy.policy_name() {
            Some(name) => name.to_string(),
            None => {
                decoder.names_from_arn += 1;
                name_from_arn(&arn).to_string()
            }
        };
        let mut versions: Vec<PolicyVersion> = policy
            .policy_version_list()
            .iter()
            .map(|v| {
                let version_id = text(v.version_id());
                PolicyVersion {
                    document: decoder.document(v.document(), &arn, &version_id),
                    version_id,
                    is_default_version: v.is_default_version(),
                    create_date: v.create_date().map(rfc3339),
                }
            })
            .collect();
        versions.sort_by(|a, b| version_order(&a.version_id).cmp(&version_order(&b.version_id)));
        ManagedPolicy {
            policy_name,
            policy_id: policy.policy_id().map(str::to_string),
            path: policy.path().map(str::to_string),
            default_version_id: policy.default_version_id().map(str::to_string),
            attachment_count: policy.attachment_count(),
            permissions_boundary_usage_count: policy.permissions_boundary_usage_count(),
            is_attachable: policy.is_attachable(),
            description: policy.description().map(str::to_string),
            create_date: policy.create_date().map(rfc3339),
            update_date: policy.update_date().map(rfc3339),
            policy_version_list: versions,
            arn,
        }
    }

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

/// `v10` after `v9`: by the number after the `v`, then by the text.
fn version_order(id: &str) -> (u64, &str) {
    let number = id
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(u64::MAX);
    (number, id)
}

impl AuthorizationDetails {
    /// Drops the AWS managed policies nobody uses: neither attached, nor a permissions
    /// boundary, nor referenced by an entity in the lists. Returns how many were dropped.
    fn keep_policies_in_use(&mut self) -> usize {
        let mut referenced = BTreeSet::new();
        let attachments = self
            .user_detail_list
            .iter()
            .flat_map(|u| &u.attached_managed_policies)
            .chain(
                self.group_detail_list
                    .iter()
                    .flat_map(|g| &g.attached_managed_policies),
            )
            .chain(
                self.role_detail_list
                    .iter()
                    .flat_map(|r| &r.attached_managed_policies),
            );
        for policy in attachments {
            referenced.insert(policy.policy_arn.clone());
        }
        let boundaries = self
            .user_detail_list
            .iter()
            .filter_map(|u| u.permissions_boundary.as_ref())
            .chain(
                self.role_detail_list
                    .iter()
                    .filter_map(|r| r.permissions_boundary.as_ref()),
            );
        for boundary in boundaries {
            referenced.insert(boundary.permissions_boundary_arn.clone());
        }
        let before = self.policies.len();
        self.policies.retain(|p| {
            !is_aws_managed(&p.arn)
                || p.attachment_count.unwrap_or(0) > 0
                || p.permissions_boundary_usage_count.unwrap_or(0) > 0
                || referenced.contains(&p.arn)
        });
        before - self.policies.len()
    }

    fn sort(&mut self) {
        self.user_detail_list
            .sort_by(|a, b| (&a.user_name, &a.arn).cmp(&(&b.user_name, &b.arn)));
        self.group_detail_list
            .sort_by(|a, b| (&a.group_name, &a.arn).cmp(&(&b.group_name, &b.arn)));
        self.role_detail_list
            .sort_by(|a, b| (&a.role_name, &a.arn).cmp(&(&b.role_name, &b.arn)));
        self.policies.sort_by(|a, b| a.arn.cmp(&b.arn));
    }
}

// ---- Tables ----

/// `users.csv`: one row per user. Lists are `;`-joined and sorted.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    pub user_name: String,
    pub arn: String,
    pub user_id: String,
    pub path: String,
    pub created: String,
    pub groups: String,
    pub attached_policy_arns: String,
    pub inline_policy_names: String,
    pub permissions_boundary_arn: String,
    pub tags_count: usize,
    /// Some policy the user has, directly or through a group, allows `*` on `*`; empty when
    /// unknown (a document could not be read) and none is known to.
    pub allows_admin: Option<bool>,
}

/// `groups.csv`: one row per group.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRow {
    pub group_name: String,
    pub arn: String,
    pub group_id: String,
    pub path: String,
    pub created: String,
    pub attached_policy_arns: String,
    pub inline_policy_names: String,
    pub member_count: usize,
    pub members: String,
    pub allows_admin: Option<bool>,
}

/// `roles.csv`: one row per role.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
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
    /// [`Trust::principals`], `;`-joined.
    pub trust_principals: String,
    /// [`Trust::external`]: principals outside the account.
    pub trust_external_principals: String,
    /// [`Trust::external_without_external_id`]: what the external-trust finding flags.
    pub trust_external_without_external_id: String,
    /// Every statement that lets in an external principal requires `sts:ExternalId`; empty when
    /// there is no external principal (or the trust policy could not be read).
    pub trust_external_id_required: Option<bool>,
    pub role_last_used_date: String,
    pub role_last_used_region: String,
    pub attached_policy_arns: String,
    pub inline_policy_names: String,
    pub permissions_boundary_arn: String,
    pub instance_profiles: String,
    pub tags_count: usize,
    pub allows_admin: Option<bool>,
}

/// `policies.csv`: one row per (policy, principal that has it), sorted by principal.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
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
    /// [`allows_admin`] of the document (the default version's for managed policies); empty
    /// when the document could not be read or the policy's details were not returned.
    pub allows_admin: Option<bool>,
}

impl PolicyRow {
    fn sort_key(&self) -> impl Ord + '_ {
        (
            (
                &self.principal_type,
                &self.principal_name,
                &self.principal_arn,
            ),
            (&self.via, &self.policy_name, &self.policy_arn, &self.kind),
        )
    }
}

/// The four tables, derived from the decoded lists alone.
#[derive(Debug, Default)]
pub struct Tables {
    pub users: Vec<UserRow>,
    pub groups: Vec<GroupRow>,
    pub roles: Vec<RoleRow>,
    pub policies: Vec<PolicyRow>,
    /// Managed policies attached to someone that are missing from Policies[].
    pub attached_without_details: BTreeSet<String>,
}

fn joined<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let set: BTreeSet<&str> = items.into_iter().collect();
    set.into_iter().collect::<Vec<_>>().join(";")
}

/// `Some(true)` when any is true, `Some(false)` when all are known false, else `None`.
fn any_admin<'a>(flags: impl IntoIterator<Item = &'a Option<bool>>) -> Option<bool> {
    let mut result = Some(false);
    for flag in flags {
        match flag {
            Some(true) => return Some(true),
            Some(false) => {}
            None => result = None,
        }
    }
    result
}

/// The policies one principal holds itself (not through groups), as rows.
struct Holder<'a> {
    principal_type: &'static str,
    name: &'a str,
    arn: &'a str,
    attached: &'a [Attached],
    inline: &'a [InlinePolicy],
}

impl Tables {
    pub fn build(details: &AuthorizationDetails, account_id: &str) -> Tables {
        let mut tables = Tables::default();
        let managed: BTreeMap<&str, &ManagedPolicy> = details
            .policies
            .iter()
            .map(|p| (p.arn.as_str(), p))
            .collect();
        let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for user in &details.user_detail_list {
            for group in &user.group_list {
                members
                    .entry(group.as_str())
                    .or_default()
                    .push(user.user_name.as_str());
            }
        }

        let mut missing = BTreeSet::new();
        let mut rows_of = |holder: &Holder<'_>, via: &str| -> Vec<PolicyRow> {
            let mut rows = Vec::new();
            for policy in holder.attached {
                let details = managed.get(policy.policy_arn.as_str());
                if details.is_none() {
                    missing.insert(policy.policy_arn.clone());
                }
                rows.push(PolicyRow {
                    principal_type: holder.principal_type.to_string(),
                    principal_name: holder.name.to_string(),
                    principal_arn: holder.arn.to_string(),
                    via: via.to_string(),
                    policy_name: policy.policy_name.clone(),
                    policy_arn: policy.policy_arn.clone(),
                    kind: if is_aws_managed(&policy.policy_arn) {
                        "aws-managed"
                    } else {
                        "customer-managed"
                    }
                    .to_string(),
                    default_version_id: details
                        .and_then(|p| p.default_version_id.clone())
                        .unwrap_or_default(),
                    allows_admin: details
                        .and_then(|p| p.default_document())
                        .and_then(allows_admin),
                });
            }
            for policy in holder.inline {
                rows.push(PolicyRow {
                    principal_type: holder.principal_type.to_string(),
                    principal_name: holder.name.to_string(),
                    principal_arn: holder.arn.to_string(),
                    via: via.to_string(),
                    policy_name: policy.policy_name.clone(),
                    policy_arn: String::new(),
                    kind: "inline".to_string(),
                    default_version_id: String::new(),
                    allows_admin: allows_admin(&policy.policy_document),
                });
            }
            rows
        };

        let mut group_rows: BTreeMap<&str, Vec<PolicyRow>> = BTreeMap::new();
        for group in &details.group_detail_list {
            let holder = Holder {
                principal_type: "group",
                name: &group.group_name,
                arn: &group.arn,
                attached: &group.attached_managed_policies,
                inline: &group.group_policy_list,
            };
            let rows = rows_of(&holder, "direct");
            let group_members = members
                .get(group.group_name.as_str())
                .cloned()
                .unwrap_or_default();
            tables.groups.push(GroupRow {
                group_name: group.group_name.clone(),
                arn: group.arn.clone(),
                group_id: group.group_id.clone(),
                path: group.path.clone(),
                created: group.create_date.clone().unwrap_or_default(),
                attached_policy_arns: joined(
                    group
                        .attached_managed_policies
                        .iter()
                        .map(|p| p.policy_arn.as_str()),
                ),
                inline_policy_names: joined(
                    group
                        .group_policy_list
                        .iter()
                        .map(|p| p.policy_name.as_str()),
                ),
                member_count: group_members.len(),
                members: joined(group_members),
                allows_admin: any_admin(rows.iter().map(|r| &r.allows_admin)),
            });
            group_rows.insert(group.group_name.as_str(), rows);
        }

        let mut policy_rows: Vec<PolicyRow> = group_rows.values().flatten().cloned().collect();
        for user in &details.user_detail_list {
            let holder = Holder {
                principal_type: "user",
                name: &user.user_name,
                arn: &user.arn,
                attached: &user.attached_managed_policies,
                inline: &user.user_policy_list,
            };
            let mut rows = rows_of(&holder, "direct");
            for group in &user.group_list {
                for row in group_rows.get(group.as_str()).into_iter().flatten() {
                    rows.push(PolicyRow {
                        principal_type: "user".to_string(),
                        principal_name: user.user_name.clone(),
                        principal_arn: user.arn.clone(),
                        via: format!("group:{group}"),
                        ..row.clone()
                    });
                }
            }
            tables.users.push(UserRow {
                user_name: user.user_name.clone(),
                arn: user.arn.clone(),
                user_id: user.user_id.clone(),
                path: user.path.clone(),
                created: user.create_date.clone().unwrap_or_default(),
                groups: joined(user.group_list.iter().map(String::as_str)),
                attached_policy_arns: joined(
                    user.attached_managed_policies
                        .iter()
                        .map(|p| p.policy_arn.as_str()),
                ),
                inline_policy_names: joined(
                    user.user_policy_list.iter().map(|p| p.policy_name.as_str()),
                ),
                permissions_boundary_arn: user
                    .permissions_boundary
                    .as_ref()
                    .map(|b| b.permissions_boundary_arn.clone())
                    .unwrap_or_default(),
                tags_count: user.tags.len(),
                allows_admin: any_admin(rows.iter().map(|r| &r.allows_admin)),
            });
            policy_rows.extend(rows);
        }

        for role in &details.role_detail_list {
            let holder = Holder {
                principal_type: "role",
                name: &role.role_name,
                arn: &role.arn,
                attached: &role.attached_managed_policies,
                inline: &role.role_policy_list,
            };
            let rows = rows_of(&holder, "direct");
            let trust = analyse_trust(&role.assume_role_policy_document, account_id);
            let join_set = |set: &BTreeSet<String>| joined(set.iter().map(String::as_str));
            let last_used = role.role_last_used.as_ref();
            tables.roles.push(RoleRow {
                role_name: role.role_name.clone(),
                arn: role.arn.clone(),
                role_id: role.role_id.clone(),
                path: role.path.clone(),
                created: role.create_date.clone().unwrap_or_default(),
                service_linked: role.path.starts_with(SERVICE_LINKED_PATH),
                trust_policy_parsed: trust.is_some(),
                trust_principals: trust
                    .as_ref()
                    .map(|t| join_set(&t.principals))
                    .unwrap_or_default(),
                trust_external_principals: trust
                    .as_ref()
                    .map(|t| join_set(&t.external))
                    .unwrap_or_default(),
                trust_external_without_external_id: trust
                    .as_ref()
                    .map(|t| join_set(&t.external_without_external_id))
                    .unwrap_or_default(),
                trust_external_id_required: trust
                    .as_ref()
                    .filter(|t| !t.external.is_empty())
                    .map(|t| t.external_without_external_id.is_empty()),
                role_last_used_date: last_used
                    .and_then(|u| u.last_used_date.clone())
                    .unwrap_or_default(),
                role_last_used_region: last_used.and_then(|u| u.region.clone()).unwrap_or_default(),
                attached_policy_arns: joined(
                    role.attached_managed_policies
                        .iter()
                        .map(|p| p.policy_arn.as_str()),
                ),
                inline_policy_names: joined(
                    role.role_policy_list.iter().map(|p| p.policy_name.as_str()),
                ),
                permissions_boundary_arn: role
                    .permissions_boundary
                    .as_ref()
                    .map(|b| b.permissions_boundary_arn.clone())
                    .unwrap_or_default(),
                instance_profiles: joined(
                    role.instance_profile_list
                        .iter()
                        .map(|p| p.instance_profile_name.as_str()),
                ),
                tags_count: role.tags.len(),
                allows_admin: any_admin(rows.iter().map(|r| &r.allows_admin)),
            });
            policy_rows.extend(rows);
        }

        policy_rows.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        tables.policies = policy_rows;
        tables.attached_without_details = missing;
        tables.users.sort_by(|a, b| a.user_name.cmp(&b.user_name));
        tables
            .groups
            .sort_by(|a, b| a.group_name.cmp(&b.group_name));
        tables.roles.sort_by(|a, b| a.role_name.cmp(&b.role_name));
        tables
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ACCOUNT: &str = "123456789012";

    #[test]
    fn admin_needs_allow_star_action_on_star_resource_as_string_or_in_a_list() {
        let cases = [
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": "*"}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": ["*"]}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["arn:aws:s3:::b", "*"]}]}),
                true,
            ),
            // A single statement object instead of an array.
            (
                json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
                true,
            ),
            // A condition does not exempt the statement.
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
                true,
            ),
            // Another statement's Deny does not cancel the grant.
            (
                json!({"Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}, {"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
                true,
            ),
        ];
        for (document, expected) in cases {
            assert_eq!(allows_admin(&document), Some(expected), "{document}");
        }
    }

    #[test]
    fn deny_partial_wildcards_and_not_action_are_not_admin() {
        let cases = [
            json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}),
            json!({"Statement": {"Effect": "Deny", "Action": ["*"], "Resource": ["*"]}}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::b"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*"}]}),
            json!({"Statement": []}),
            json!({"Version": "2012-10-17"}),
        ];
        for document in cases {
            assert_eq!(allows_admin(&document), Some(false), "{document}");
        }
    }

    #[test]
    fn an_unreadable_document_is_unknown_not_safe() {
        assert_eq!(allows_admin(&Value::String("{not json".into())), None);
        assert_eq!(allows_admin(&Value::Null), None);
    }

    #[test]
    fn documents_are_percent_decoded_into_json() {
        let raw = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Amy%20bucket%2F%2A%22%7D%5D%7D";
        let value = decode_document(raw).unwrap();
        assert_eq!(
            value,
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my bucket/*"}]})
        );
        // RFC 3986: `+` is a plus, not a space.
        let value = decode_document("%7B%22a%22%3A%22x+y%22%7D").unwrap();
        assert_eq!(value, json!({"a": "x+y"}));
    }

    #[test]
    fn an_unencoded_document_is_read_as_it_stands() {
        // moto sends trust policies unencoded: without `%` decoding changes nothing.
        let plain = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert_eq!(
            decode_document(plain).unwrap()["Statement"][0]["Principal"]["Service"],
            "ec2.amazonaws.com"
        );
        assert_eq!(
            decode_document(r#"{"Sid":"100%"}"#).unwrap(),
            json!({"Sid": "100%"})
        );
        // Decoding `%22` would break the JSON: the raw text, which is JSON, is used.
        assert_eq!(
            decode_document(r#"{"Sid":"%22"}"#).unwrap(),
            json!({"Sid": "%22"})
        );
    }

    #[test]
    fn a_document_that_is_not_json_is_kept_as_decoded_text() {
        let err = decode_document("%7Bnot%20json").unwrap_err();
        assert_eq!(err.text, "{not json");
        assert!(err.error.contains("not JSON"), "{}", err.error);
        let mut decoder = Decoder::default();
        let value = decoder.document(Some("%7Bnot%20json"), "user/alice", "inline-1");
        assert_eq!(value, Value::String("{not json".into()));
        assert_eq!(decoder.unparsed.len(), 1);
        assert_eq!(decoder.unparsed[0].entity, "user/alice");
        assert_eq!(decoder.unparsed[0].document, "inline-1");
    }

    fn trust(statements: Value) -> Trust {
        analyse_trust(
            &json!({"Version": "2012-10-17", "Statement": statements}),
            ACCOUNT,
        )
        .unwrap()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn trust_lists_principals_and_finds_the_external_ones() {
        let t = trust(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::999988887777:role/ci", "111122223333"]}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"},
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"}
        ]));
        assert_eq!(
            t.principals,
            set(&[
                "AWS:111122223333",
                "AWS:arn:aws:iam::123456789012:root",
                "AWS:arn:aws:iam::999988887777:role/ci",
                "Federated:arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
                "Service:lambda.amazonaws.com",
            ])
        );
        let external = set(&["AWS:111122223333", "AWS:arn:aws:iam::999988887777:role/ci"]);
        assert_eq!(t.external, external);
        assert_eq!(t.external_without_external_id, external);
    }

    #[test]
    fn external_id_conditions_are_read_exactly() {
        let with = |condition: Value| {
            trust(json!({
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                "Action": "sts:AssumeRole",
                "Condition": condition
            }))
        };
        for required in [
            json!({"StringEquals": {"sts:ExternalId": "abc"}}),
            json!({"StringLike": {"sts:externalid": "abc*"}}),
            json!({"ForAnyValue:StringEquals": {"sts:ExternalId": ["a", "b"]}}),
            json!({"StringEquals": {"sts:ExternalId": "abc", "aws:PrincipalTag/x": "y"}}),
        ] {
            let t = with(required.clone());
            assert_eq!(t.external.len(), 1, "{required}");
            assert!(t.external_without_external_id.is_empty(), "{required}");
        }
        for not_required in [
            json!({"StringEqualsIfExists": {"sts:ExternalId": "abc"}}),
            json!({"StringNotEquals": {"sts:ExternalId": "abc"}}),
            json!({"ForAllValues:StringEquals": {"sts:ExternalId": "abc"}}),
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-123"}}),
            json!({"Null": {"sts:ExternalId": "false"}}),
        ] {
            let t = with(not_required.clone());
            assert_eq!(
                t.external_without_external_id,
                set(&["AWS:arn:aws:iam::999988887777:root"]),
                "{not_required}"
            );
        }
    }

    #[test]
    fn everyone_and_not_principal_count_as_external() {
        let t = trust(json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}));
        assert_eq!(t.principals, set(&["*"]));
        assert_eq!(t.external_without_external_id, set(&["*"]));
        let t = trust(
            json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}),
        );
        assert_eq!(t.external, set(&["AWS:*"]));
        let t = trust(
            json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}),
        );
        assert_eq!(
            t.principals,
            set(&["NotPrincipal:AWS:arn:aws:iam::123456789012:root"])
        );
        assert_eq!(t.external, set(&["*"]));
        // Same account in every form, and a deleted role's unique id, are not external.
        let t = trust(
            json!({"Effect": "Allow", "Principal": {"AWS": ["123456789012", "arn:aws:sts::123456789012:assumed-role/x/y", "AROAEXAMPLEID"]}, "Action": "sts:AssumeRole"}),
        );
        assert!(t.external.is_empty());
        assert_eq!(analyse_trust(&Value::String("x".into()), ACCOUNT), None);
    }

    #[test]
    fn policy_arns_name_the_policy_and_its_owner() {
        assert_eq!(
            name_from_arn("arn:aws:iam::aws:policy/service-role/AWSConfigRole"),
            "AWSConfigRole"
        );
        assert_eq!(
            name_from_arn("arn:aws:iam::123456789012:policy/ops/admin"),
            "admin"
        );
        assert!(is_aws_managed(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(is_aws_managed(
            "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"
        ));
        assert!(!is_aws_managed("arn:aws:iam::123456789012:policy/aws"));
    }

    #[test]
    fn versions_sort_by_number() {
        let mut ids = vec!["v10", "v2", "v1"];
        ids.sort_by_key(|id| version_order(id));
        assert_eq!(ids, ["v1", "v2", "v10"]);
    }

    fn managed(arn: &str, attachments: i32, document: Value) -> ManagedPolicy {
        ManagedPolicy {
            policy_name: name_from_arn(arn).to_string(),
            policy_id: None,
            arn: arn.to_string(),
            path: Some("/".into()),
            default_version_id: Some("v2".into()),
            attachment_count: Some(attachments),
            permissions_boundary_usage_count: None,
            is_attachable: true,
            description: None,
            create_date: None,
            update_date: None,
            policy_version_list: vec![
                PolicyVersion {
                    document: json!({"Statement": []}),
                    version_id: "v1".into(),
                    is_default_version: false,
                    create_date: None,
                },
                PolicyVersion {
                    document,
                    version_id: "v2".into(),
                    is_default_version: true,
                    create_date: None,
                },
            ],
        }
    }

    fn attach(arn: &str) -> Attached {
        Attached {
            policy_name: name_from_arn(arn).to_string(),
            policy_arn: arn.to_string(),
        }
    }

    fn admin_doc() -> Value {
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    }

    fn sample() -> AuthorizationDetails {
        let admin = "arn:aws:iam::123456789012:policy/admin";
        let read = "arn:aws:iam::aws:policy/ReadOnlyAccess";
        AuthorizationDetails {
            user_detail_list: vec![
                User {
                    path: "/".into(),
                    user_name: "bob".into(),
                    user_id: "AIDB".into(),
                    arn: "arn:aws:iam::123456789012:user/bob".into(),
                    create_date: Some("2026-01-01T00:00:00Z".into()),
                    user_policy_list: vec![InlinePolicy {
                        policy_name: "broken".into(),
                        policy_document: Value::String("{oops".into()),
                    }],
                    group_list: vec![],
                    attached_managed_policies: vec![attach(read)],
                    permissions_boundary: Some(Boundary {
                        permissions_boundary_type: Some("PermissionsBoundaryPolicy".into()),
                        permissions_boundary_arn: read.into(),
                    }),
                    tags: vec![],
                },
                User {
                    path: "/".into(),
                    user_name: "alice".into(),
                    user_id: "AIDA".into(),
                    arn: "arn:aws:iam::123456789012:user/alice".into(),
                    create_date: None,
                    user_policy_list: vec![],
                    group_list: vec!["admins".into()],
                    attached_managed_policies: vec![],
                    permissions_boundary: None,
                    tags: vec![],
                },
            ],
            group_detail_list: vec![Group {
                path: "/".into(),
                group_name: "admins".into(),
                group_id: "AGPA".into(),
                arn: "arn:aws:iam::123456789012:group/admins".into(),
                create_date: None,
                group_policy_list: vec![InlinePolicy {
                    policy_name: "read-logs".into(),
                    policy_document: json!({"Statement": {"Effect": "Allow", "Action": "logs:Get*", "Resource": "*"}}),
                }],
                attached_managed_policies: vec![attach(admin)],
            }],
            role_detail_list: vec![Role {
                path: "/aws-service-role/".into(),
                role_name: "AWSServiceRoleForSupport".into(),
                role_id: "AROA".into(),
                arn: "arn:aws:iam::123456789012:role/aws-service-role/AWSServiceRoleForSupport"
                    .into(),
                create_date: None,
                assume_role_policy_document: json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "support.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
                instance_profile_list: vec![],
                role_policy_list: vec![],
                attached_managed_policies: vec![attach(
                    "arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy",
                )],
                permissions_boundary: None,
                tags: vec![],
                role_last_used: Some(RoleLastUsed {
                    last_used_date: Some("2026-11-01T00:00:00Z".into()),
                    region: Some("eu-west-1".into()),
                }),
            }],
            policies: vec![
                managed(admin, 1, admin_doc()),
                managed(
                    read,
                    1,
                    json!({"Statement": [{"Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*"}]}),
                ),
                managed(
                    "arn:aws:iam::aws:policy/AdministratorAccess",
                    0,
                    admin_doc(),
                ),
                managed("arn:aws:iam::123456789012:policy/unused", 0, admin_doc()),
            ],
        }
    }

    #[test]
    fn unused_aws_managed_policies_are_dropped_and_customer_ones_kept() {
        let mut details = sample();
        assert_eq!(details.keep_policies_in_use(), 1);
        let arns: Vec<&str> = details.policies.iter().map(|p| p.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:iam::123456789012:policy/admin",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "arn:aws:iam::123456789012:policy/unused",
            ]
        );
        // In use only as a boundary (count 0 but referenced) is in use.
        let mut details = sample();
        details.policies[1].attachment_count = Some(0);
        assert_eq!(details.keep_policies_in_use(), 1);
        assert!(details
            .policies
            .iter()
            .any(|p| p.policy_name == "ReadOnlyAccess"));
    }

    /// principal type, principal name, via, policy name, kind, allows_admin.
    type PolicyRowView<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, Option<bool>);

    #[test]
    fn tables_hold_each_principal_with_its_policies_direct_and_through_groups() {
        let mut details = sample();
        details.keep_policies_in_use();
        details.sort();
        let tables = Tables::build(&details, ACCOUNT);

        let users: Vec<(&str, &str, Option<bool>)> = tables
            .users
            .iter()
            .map(|u| (u.user_name.as_str(), u.groups.as_str(), u.allows_admin))
            .collect();
        // alice is admin through her group; bob's broken inline document makes his unknown.
        assert_eq!(users, [("alice", "admins", Some(true)), ("bob", "", None)]);
        assert_eq!(
            tables.users[1].permissions_boundary_arn,
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        );
        assert_eq!(tables.users[1].inline_policy_names, "broken");
        assert_eq!(tables.groups[0].member_count, 1);
        assert_eq!(tables.groups[0].members, "alice");
        assert_eq!(tables.groups[0].allows_admin, Some(true));

        let role = &tables.roles[0];
        assert!(role.service_linked);
        assert!(role.trust_policy_parsed);
        assert_eq!(role.trust_principals, "Service:support.amazonaws.com");
        assert_eq!(role.trust_external_id_required, None);
        assert_eq!(role.role_last_used_region, "eu-west-1");
        assert_eq!(
            role.allows_admin, None,
            "its AWS managed policy was not returned"
        );
        assert_eq!(
            tables.attached_without_details,
            set(&["arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy"])
        );

        let rows: Vec<PolicyRowView<'_>> = tables
            .policies
            .iter()
            .map(|r| {
                (
                    r.principal_type.as_str(),
                    r.principal_name.as_str(),
                    r.via.as_str(),
                    r.policy_name.as_str(),
                    r.kind.as_str(),
                    r.allows_admin,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "group",
                    "admins",
                    "direct",
                    "admin",
                    "customer-managed",
                    Some(true)
                ),
                (
                    "group",
                    "admins",
                    "direct",
                    "read-logs",
                    "inline",
                    Some(false)
                ),
                (
                    "role",
                    "AWSServiceRoleForSupport",
                    "direct",
                    "AWSSupportServiceRolePolicy",
                    "aws-managed",
                    None
                ),
                (
                    "user",
                    "alice",
                    "group:admins",
                    "admin",
                    "customer-managed",
                    Some(true)
                ),
                (
                    "user",
                    "alice",
                    "group:admins",
                    "read-logs",
                    "inline",
                    Some(false)
                ),
                (
                    "user",
                    "bob",
                    "direct",
                    "ReadOnlyAccess",
                    "aws-managed",
                    Some(false)
                ),
                ("user", "bob", "direct", "broken", "inline", None),
            ]
        );
        let admin_row = &tables.policies[0];
        assert_eq!(
            admin_row.policy_arn,
            "arn:aws:iam::123456789012:policy/admin"
        );
        assert_eq!(admin_row.default_version_id, "v2");
        assert_eq!(tables.policies[1].policy_arn, "");
        assert_eq!(tables.policies[1].default_version_id, "");
    }

    #[test]
    fn the_default_version_decides_admin() {
        let mut policy = managed("arn:aws:iam::123456789012:policy/p", 1, admin_doc());
        assert_eq!(policy.default_document().and_then(allows_admin), Some(true));
        policy.policy_version_list[1].is_default_version = false;
        policy.policy_version_list[0].is_default_version = true;
        assert_eq!(
            policy.default_document().and_then(allows_admin),
            Some(false)
        );
        // No flag at all: DefaultVersionId names the version.
        policy.policy_version_list[0].is_default_version = false;
        assert_eq!(policy.default_document().and_then(allows_admin), Some(true));
    }
}
