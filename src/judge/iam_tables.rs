//! The tables of `iam-authorization-details`, built from the raw detail lists alone: one row per
//! user, group and role, and one per (policy, principal that has it), users also through their
//! groups. The collector writes them; the rules build them again from
//! `authorization-details.json` to judge each policy and trust policy with the current logic.

use std::collections::{BTreeMap, BTreeSet};

use super::iam_policy::{allows_admin, analyse_trust, is_aws_managed};
use crate::contract::cell::List;
use crate::contract::iam_authorization_details::{
    through_group, Attached, AuthorizationDetails, Boundary, GroupRow, InlinePolicy, ManagedPolicy,
    PolicyRow, RoleRow, UserRow, DIRECT, INLINE,
};

/// The path of service-linked roles.
const SERVICE_LINKED_PATH: &str = "/aws-service-role/";

/// A role is service-linked (never flagged inactive): the column says so, or its path does.
pub fn service_linked(role: &RoleRow) -> bool {
    role.service_linked || role.path.starts_with(SERVICE_LINKED_PATH)
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
    /// Group name -> the group's ARN (with its path), to name who holds a policy that a user
    /// has through a group.
    group_arns: BTreeMap<String, String>,
}

/// A list cell: the items sorted, without duplicates.
fn sorted_list<'a>(items: impl IntoIterator<Item = &'a str>) -> List {
    let set: BTreeSet<&str> = items.into_iter().collect();
    set.into_iter().collect()
}

/// The ARNs of attached managed policies, as a list cell.
fn attached_arns(attached: &[Attached]) -> List {
    sorted_list(attached.iter().map(|p| p.policy_arn.as_str()))
}

/// The names of inline policies, as a list cell.
fn inline_names(inline: &[InlinePolicy]) -> List {
    sorted_list(inline.iter().map(|p| p.policy_name.as_str()))
}

/// The permissions boundary's ARN, empty when there is none.
fn boundary_arn(boundary: Option<&Boundary>) -> String {
    boundary
        .map(|b| b.permissions_boundary_arn.clone())
        .unwrap_or_default()
}

/// `policies.csv` order: by principal, then by how it has the policy and the policy.
fn sort_key(row: &PolicyRow) -> impl Ord + '_ {
    (
        (&row.principal_type, &row.principal_name, &row.principal_arn),
        (&row.via, &row.policy_name, &row.policy_arn, &row.kind),
    )
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
            // One row of `policies.csv` for a policy this holder has.
            let row =
                |name: &str, arn: &str, kind: &str, version: Option<String>, admin| PolicyRow {
                    principal_type: holder.principal_type.to_string(),
                    principal_name: holder.name.to_string(),
                    principal_arn: holder.arn.to_string(),
                    via: via.to_string(),
                    policy_name: name.to_string(),
                    policy_arn: arn.to_string(),
                    kind: kind.to_string(),
                    default_version_id: version.unwrap_or_default(),
                    allows_admin: admin,
                };
            let mut rows = Vec::new();
            for policy in holder.attached {
                let details = managed.get(policy.policy_arn.as_str());
                if details.is_none() {
                    missing.insert(policy.policy_arn.clone());
                }
                let kind = if is_aws_managed(&policy.policy_arn) {
                    "aws-managed"
                } else {
                    "customer-managed"
                };
                rows.push(row(
                    &policy.policy_name,
                    &policy.policy_arn,
                    kind,
                    details.and_then(|p| p.default_version_id.clone()),
                    details
                        .and_then(|p| p.default_document())
                        .and_then(allows_admin),
                ));
            }
            for policy in holder.inline {
                rows.push(row(
                    &policy.policy_name,
                    "",
                    INLINE,
                    None,
                    allows_admin(&policy.policy_document),
                ));
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
            let rows = rows_of(&holder, DIRECT);
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
                attached_policy_arns: attached_arns(&group.attached_managed_policies),
                inline_policy_names: inline_names(&group.group_policy_list),
                member_count: group_members.len(),
                members: sorted_list(group_members),
                allows_admin: any_admin(rows.iter().map(|r| &r.allows_admin)),
            });
            group_rows.insert(group.group_name.as_str(), rows);
            tables
                .group_arns
                .insert(group.group_name.clone(), group.arn.clone());
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
            let mut rows = rows_of(&holder, DIRECT);
            for group in &user.group_list {
                for row in group_rows.get(group.as_str()).into_iter().flatten() {
                    rows.push(PolicyRow {
                        principal_type: "user".to_string(),
                        principal_name: user.user_name.clone(),
                        principal_arn: user.arn.clone(),
                        via: through_group(group),
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
                groups: sorted_list(user.group_list.iter().map(String::as_str)),
                attached_policy_arns: attached_arns(&user.attached_managed_policies),
                inline_policy_names: inline_names(&user.user_policy_list),
                permissions_boundary_arn: boundary_arn(user.permissions_boundary.as_ref()),
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
            let rows = rows_of(&holder, DIRECT);
            let trust = analyse_trust(&role.assume_role_policy_document, account_id);
            let join_set = |set: &BTreeSet<String>| sorted_list(set.iter().map(String::as_str));
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
                attached_policy_arns: attached_arns(&role.attached_managed_policies),
                inline_policy_names: inline_names(&role.role_policy_list),
                permissions_boundary_arn: boundary_arn(role.permissions_boundary.as_ref()),
                instance_profiles: sorted_list(
                    role.instance_profile_list
                        .iter()
                        .map(|p| p.instance_profile_name.as_str()),
                ),
                tags_count: role.tags.len(),
                allows_admin: any_admin(rows.iter().map(|r| &r.allows_admin)),
            });
            policy_rows.extend(rows);
        }

        policy_rows.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        tables.policies = policy_rows;
        tables.attached_without_details = missing;
        tables.users.sort_by(|a, b| a.user_name.cmp(&b.user_name));
        tables
            .groups
            .sort_by(|a, b| a.group_name.cmp(&b.group_name));
        tables.roles.sort_by(|a, b| a.role_name.cmp(&b.role_name));
        tables
    }

    /// The ARN of the principal that holds a row's policy itself: the row's principal, or for a
    /// user who has it through a group, that group (its real ARN, with its path).
    pub fn holder_arn<'a>(&'a self, row: &'a PolicyRow) -> &'a str {
        match row.via_group() {
            Some(group) => self
                .group_arns
                .get(group)
                .map_or(row.principal_arn.as_str(), String::as_str),
            None => &row.principal_arn,
        }
    }
}

/// The sample account of the tests of the tables and of the collector's decoding.
#[cfg(test)]
pub(crate) mod sample {
    use serde_json::{json, Value};

    use crate::contract::iam_authorization_details::*;
    use crate::judge::iam_policy::name_from_arn;

    pub fn managed(arn: &str, attachments: i32, document: Value) -> ManagedPolicy {
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

    pub fn attach(arn: &str) -> Attached {
        Attached {
            policy_name: name_from_arn(arn).to_string(),
            policy_arn: arn.to_string(),
        }
    }

    pub fn admin_doc() -> Value {
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    }

    pub fn sample() -> AuthorizationDetails {
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
}

#[cfg(test)]
mod tests {
    use super::sample::*;
    use super::*;
    use crate::judge::iam_policy::allows_admin;

    const ACCOUNT: &str = "123456789012";

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// principal type, principal name, via, policy name, kind, allows_admin.
    type PolicyRowView<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, Option<bool>);

    #[test]
    fn tables_hold_each_principal_with_its_policies_direct_and_through_groups() {
        let tables = Tables::build(&sample(), ACCOUNT);

        let users: Vec<(&str, String, Option<bool>)> = tables
            .users
            .iter()
            .map(|u| (u.user_name.as_str(), u.groups.joined(), u.allows_admin))
            .collect();
        // alice is admin through her group; bob's broken inline document makes his unknown.
        assert_eq!(
            users,
            [
                ("alice", "admins".to_string(), Some(true)),
                ("bob", String::new(), None)
            ]
        );
        assert_eq!(
            tables.users[1].permissions_boundary_arn,
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        );
        assert_eq!(tables.users[1].inline_policy_names.joined(), "broken");
        assert_eq!(tables.groups[0].member_count, 1);
        assert_eq!(tables.groups[0].members.joined(), "alice");
        assert_eq!(tables.groups[0].allows_admin, Some(true));

        let role = &tables.roles[0];
        assert!(role.service_linked);
        assert!(role.trust_policy_parsed);
        assert_eq!(
            role.trust_principals.joined(),
            "Service:support.amazonaws.com"
        );
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

    #[test]
    fn a_policy_reached_through_a_group_is_held_by_the_group_s_real_arn() {
        let mut details = sample();
        details.group_detail_list[0].path = "/ops/".into();
        details.group_detail_list[0].arn = "arn:aws:iam::123456789012:group/ops/admins".into();
        let tables = Tables::build(&details, ACCOUNT);
        let holders: Vec<(&str, &str, &str)> = tables
            .policies
            .iter()
            .filter(|r| r.policy_name == "read-logs")
            .map(|r| {
                (
                    r.principal_arn.as_str(),
                    r.via.as_str(),
                    tables.holder_arn(r),
                )
            })
            .collect();
        let group = "arn:aws:iam::123456789012:group/ops/admins";
        assert_eq!(
            holders,
            [
                (group, "direct", group),
                (
                    "arn:aws:iam::123456789012:user/alice",
                    "group:admins",
                    group
                ),
            ]
        );
    }

    #[test]
    fn service_linked_roles_by_column_or_path() {
        let role = |path: &str, column: bool| RoleRow {
            path: path.into(),
            service_linked: column,
            ..RoleRow::default()
        };
        assert!(service_linked(&role("/aws-service-role/x/", false)));
        assert!(service_linked(&role("/", true)));
        assert!(!service_linked(&role("/", false)));
    }
}
