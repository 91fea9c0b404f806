//! The API's answer converted into the contract's raw lists (`authorization-details.json`):
//! every policy document decoded into JSON (the ones that are not JSON noted), lists sorted,
//! and the AWS managed policies nobody uses dropped.

use std::collections::BTreeSet;

use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy, GroupDetail, ManagedPolicyDetail, PolicyDetail,
    RoleDetail, UserDetail,
};
use serde::Serialize;
use serde_json::Value;

use crate::collectors::rfc3339;
use crate::contract::iam_authorization_details::{
    Attached, AuthorizationDetails, Boundary, Group, InlinePolicy, InstanceProfile, ManagedPolicy,
    PolicyVersion, ProfileRole, Role, RoleLastUsed, Tag, User,
};
use crate::judge::iam_policy::{decode_document, is_aws_managed, name_from_arn};

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
pub struct Decoder {
    pub unparsed: Vec<UnparsedDocument>,
    /// Managed policies whose name was taken from their ARN (moto omits PolicyName).
    pub names_from_arn: usize,
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

    /// Converts one page and adds it to the lists.
    pub fn add_page(
        &mut self,
        page: &GetAccountAuthorizationDetailsOutput,
        details: &mut AuthorizationDetails,
    ) {
        details
            .user_detail_list
            .extend(page.user_detail_list().iter().map(|u| user(u, self)));
        details
            .group_detail_list
            .extend(page.group_detail_list().iter().map(|g| group(g, self)));
        details
            .role_detail_list
            .extend(page.role_detail_list().iter().map(|r| role(r, self)));
        details
            .policies
            .extend(page.policies().iter().map(|p| managed_policy(p, self)));
    }
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

fn user(user: &UserDetail, decoder: &mut Decoder) -> User {
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

fn group(group: &GroupDetail, decoder: &mut Decoder) -> Group {
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

fn role(role: &RoleDetail, decoder: &mut Decoder) -> Role {
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

fn managed_policy(policy: &ManagedPolicyDetail, decoder: &mut Decoder) -> ManagedPolicy {
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

/// `v10` after `v9`: by the number after the `v`, then by the text.
fn version_order(id: &str) -> (u64, &str) {
    let number = id
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(u64::MAX);
    (number, id)
}

/// Drops the AWS managed policies nobody uses: neither attached, nor a permissions boundary,
/// nor referenced by an entity in the lists. Returns how many were dropped.
pub fn keep_policies_in_use(details: &mut AuthorizationDetails) -> usize {
    let mut referenced = BTreeSet::new();
    let attachments = details
        .user_detail_list
        .iter()
        .flat_map(|u| &u.attached_managed_policies)
        .chain(
            details
                .group_detail_list
                .iter()
                .flat_map(|g| &g.attached_managed_policies),
        )
        .chain(
            details
                .role_detail_list
                .iter()
                .flat_map(|r| &r.attached_managed_policies),
        );
    for policy in attachments {
        referenced.insert(policy.policy_arn.clone());
    }
    let boundaries = details
        .user_detail_list
        .iter()
        .filter_map(|u| u.permissions_boundary.as_ref())
        .chain(
            details
                .role_detail_list
                .iter()
                .filter_map(|r| r.permissions_boundary.as_ref()),
        );
    for boundary in boundaries {
        referenced.insert(boundary.permissions_boundary_arn.clone());
    }
    let before = details.policies.len();
    details.policies.retain(|p| {
        !is_aws_managed(&p.arn)
            || p.attachment_count.unwrap_or(0) > 0
            || p.permissions_boundary_usage_count.unwrap_or(0) > 0
            || referenced.contains(&p.arn)
    });
    before - details.policies.len()
}

/// Sorts each list by name (policies by ARN).
pub fn sort(details: &mut AuthorizationDetails) {
    details
        .user_detail_list
        .sort_by(|a, b| (&a.user_name, &a.arn).cmp(&(&b.user_name, &b.arn)));
    details
        .group_detail_list
        .sort_by(|a, b| (&a.group_name, &a.arn).cmp(&(&b.group_name, &b.arn)));
    details
        .role_detail_list
        .sort_by(|a, b| (&a.role_name, &a.arn).cmp(&(&b.role_name, &b.arn)));
    details.policies.sort_by(|a, b| a.arn.cmp(&b.arn));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::iam_tables::sample::sample;

    #[test]
    fn a_document_that_is_not_json_is_kept_as_decoded_text_and_noted() {
        let mut decoder = Decoder::default();
        let value = decoder.document(Some("%7Bnot%20json"), "user/alice", "inline-1");
        assert_eq!(value, Value::String("{not json".into()));
        assert_eq!(decoder.unparsed.len(), 1);
        assert_eq!(decoder.unparsed[0].entity, "user/alice");
        assert_eq!(decoder.unparsed[0].document, "inline-1");
    }

    #[test]
    fn versions_sort_by_number() {
        let mut ids = vec!["v10", "v2", "v1"];
        ids.sort_by_key(|id| version_order(id));
        assert_eq!(ids, ["v1", "v2", "v10"]);
    }

    #[test]
    fn unused_aws_managed_policies_are_dropped_and_customer_ones_kept() {
        let mut details = sample();
        assert_eq!(keep_policies_in_use(&mut details), 1);
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
        assert_eq!(keep_policies_in_use(&mut details), 1);
        assert!(details
            .policies
            .iter()
            .any(|p| p.policy_name == "ReadOnlyAccess"));
    }
}
