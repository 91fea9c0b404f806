//! IAM policies (SPEC section 5): users with policies of their own (attached or inline, not
//! through a group), and policies in use that allow every action on every resource.
//!
//! `user-direct-policy` reads `users.csv`. `admin-policy` judges the raw documents of
//! `authorization-details.json` with [`crate::judge::iam_policy::allows_admin`] (through the
//! table builder of [`crate::judge::iam_tables`]), never the collector's `allows_admin`
//! column, so `report` applies the current logic to an old bundle; its findings cite
//! `policies.csv`, where each holder of the policy is a row. One finding per policy: a
//! managed policy by its ARN, an inline policy by the real ARN of the principal that holds it.

use std::collections::BTreeMap;

use super::AUTHZ;
use crate::contract::iam_authorization_details::{
    AuthorizationDetails, PolicyRow, UserRow, DIRECT, INLINE,
};
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::input::Input;
use crate::findings::{Needs, Out, RuleSpec};
use crate::judge::iam_tables::Tables;
use crate::vocab::Severity;

const LEAST_PRIVILEGE: &[Control] = &[Control::Cc6_1, Control::Cc6_3];

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "user-direct-policy",
        title: "User with policies attached directly",
        severity: Severity::Low,
        controls: LEAST_PRIVILEGE,
        references: &["CIS 1.15", "IAM.2"],
        remediation: "Grant permissions through groups or roles: add the user to a group that \
                      has the policy, then detach the user's managed policies and delete its \
                      inline policies.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: user_direct_policy,
    },
    RuleSpec {
        id: "admin-policy",
        title: "Policy in use allowing every action on every resource",
        severity: Severity::High,
        controls: LEAST_PRIVILEGE,
        references: &["CIS 1.16", "IAM.1"],
        remediation: "Replace `\"Action\": \"*\"` on `\"Resource\": \"*\"` with the actions and \
                      resources the holders need; keep full administrator access to a few \
                      break-glass roles with MFA.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: admin_policy,
    },
];

fn user_direct_policy(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for user in input.table::<UserRow>()? {
        let attached = &user.attached_policy_arns;
        let inline = &user.inline_policy_names;
        if attached.is_empty() && inline.is_empty() {
            continue;
        }
        let mut parts = Vec::new();
        if !attached.is_empty() {
            parts.push(format!("attached {}", attached.0.join(", ")));
        }
        if !inline.is_empty() {
            parts.push(format!("inline {}", inline.0.join(", ")));
        }
        out.add(
            &user.arn,
            "global",
            format!(
                "{} has policies of its own: {}",
                user.user_name,
                parts.join("; ")
            ),
            UserRow::PATH,
        );
    }
    Ok(())
}

fn admin_policy(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let details = input.document::<AuthorizationDetails>()?;
    let tables = Tables::build(&details, &input.account_id);
    let rows = &tables.policies;
    // A document that is not JSON (kept as text) or a policy whose details were not returned:
    // not judged.
    let mut unknown: Vec<String> = rows
        .iter()
        .filter(|r| r.allows_admin.is_none())
        .map(|r| match r.policy_arn.as_str() {
            "" => format!("{} of {}", r.policy_name, r.principal_name),
            arn => arn.to_string(),
        })
        .collect();
    unknown.sort();
    unknown.dedup();
    if !unknown.is_empty() {
        out.partial(format!(
            "the documents of {} could not be read as JSON (see the collector's notes)",
            unknown.join(", ")
        ));
    }
    // One finding per policy: a managed policy by its ARN, an inline policy by its holder.
    let mut policies: BTreeMap<(String, String), Vec<&PolicyRow>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.allows_admin == Some(true)) {
        let key = if row.kind == INLINE {
            // A user reached through a group's inline policy: the group holds it.
            let holder = tables.holder_arn(row).to_string();
            (holder, row.policy_name.clone())
        } else {
            (row.policy_arn.clone(), String::new())
        };
        policies.entry(key).or_default().push(row);
    }
    for ((resource, inline_name), holders) in policies {
        let mut direct = Vec::new();
        let mut through = Vec::new();
        for h in &holders {
            let who = format!("{} {}", h.principal_type, h.principal_name);
            if h.via == DIRECT {
                direct.push(who);
            } else {
                through.push(format!("{who} (through {})", h.via.replace(':', " ")));
            }
        }
        let what = if inline_name.is_empty() {
            format!("managed policy {}", holders[0].policy_name)
        } else {
            format!("inline policy {inline_name}")
        };
        let mut detail = format!("{what} allows every action on every resource");
        if !direct.is_empty() {
            detail.push_str(&format!("; held by {}", direct.join(", ")));
        }
        if !through.is_empty() {
            detail.push_str(&format!("; reaches {}", through.join(", ")));
        }
        out.add(resource, "global", detail, PolicyRow::PATH);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::iam_test::{admin_doc, authz, managed, user};
    use super::*;
    use crate::contract::iam_authorization_details::{Attached, Group, InlinePolicy, User};
    use crate::findings::testkit::iam_arn;
    use crate::findings::RuleStatus;
    use serde_json::{json, Value};

    fn inline(name: &str, document: Value) -> InlinePolicy {
        InlinePolicy {
            policy_name: name.into(),
            policy_document: document,
        }
    }

    fn attached(name: &str) -> Attached {
        Attached {
            policy_name: name.into(),
            policy_arn: iam_arn(&format!("policy/{name}")),
        }
    }

    fn iam_user(name: &str, groups: &[&str]) -> User {
        User {
            path: "/".into(),
            user_name: name.into(),
            arn: user(name),
            group_list: groups.iter().map(|g| g.to_string()).collect(),
            ..User::default()
        }
    }

    fn group(path: &str, name: &str) -> Group {
        Group {
            path: path.into(),
            group_name: name.into(),
            arn: iam_arn(&format!("group{path}{name}")),
            ..Group::default()
        }
    }

    /// alice reaches Admin through her group; carol has an inline `*` policy; dave has a
    /// harmless managed policy and one whose document is not JSON.
    fn account() -> AuthorizationDetails {
        let carol = User {
            user_policy_list: vec![inline("carol-inline", admin_doc())],
            ..iam_user("carol", &[])
        };
        let dave = User {
            attached_managed_policies: vec![attached("Reports"), attached("Unknown")],
            ..iam_user("dave", &[])
        };
        let admins = Group {
            attached_managed_policies: vec![attached("Admin")],
            ..group("/", "admins")
        };
        AuthorizationDetails {
            user_detail_list: vec![iam_user("alice", &["admins"]), carol, dave],
            group_detail_list: vec![admins],
            role_detail_list: vec![],
            policies: vec![
                managed(&iam_arn("policy/Admin"), admin_doc()),
                managed(
                    &iam_arn("policy/Reports"),
                    json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
                ),
                managed(
                    &iam_arn("policy/Unknown"),
                    Value::String("{not json".into()),
                ),
            ],
        }
    }

    #[test]
    fn direct_policies_and_admin_policies() {
        let bundle = authz(&account());
        let mut direct: Vec<String> = bundle
            .hits("user-direct-policy")
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        direct.sort();
        assert_eq!(direct, [user("carol"), user("dave")]);
        let hits = bundle.details("admin-policy");
        let found: Vec<&str> = hits.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(
            found,
            [
                "arn:aws:iam::123456789012:policy/Admin",
                "arn:aws:iam::123456789012:user/carol"
            ]
        );
        assert!(hits[0].1.contains("held by group admins"), "{}", hits[0].1);
        assert!(
            hits[0].1.contains("user alice (through group admins)"),
            "{}",
            hits[0].1
        );
        assert!(
            hits[1].1.contains("inline policy carol-inline"),
            "{}",
            hits[1].1
        );
        // The document that is not JSON is not judged: the rule says so.
        let (status, reason, _) = bundle.outcome("admin-policy");
        assert_eq!(status, RuleStatus::Partial);
        assert!(reason.contains("policy/Unknown"), "{reason}");
    }

    #[test]
    fn an_inline_policy_of_a_group_with_a_path_is_one_finding_on_the_group() {
        let ops = Group {
            group_policy_list: vec![inline("ops-everything", admin_doc())],
            ..group("/ops/", "ops-admins")
        };
        let details = AuthorizationDetails {
            user_detail_list: vec![iam_user("erin", &["ops-admins"])],
            group_detail_list: vec![ops],
            ..AuthorizationDetails::default()
        };
        let hits = authz(&details).details("admin-policy");
        assert_eq!(
            hits,
            [(
                "arn:aws:iam::123456789012:group/ops/ops-admins".to_string(),
                "inline policy ops-everything allows every action on every resource; held by \
                 group ops-admins; reaches user erin (through group ops-admins)"
                    .to_string()
            )]
        );
    }

    #[test]
    fn admin_is_judged_from_the_documents_not_the_collector_s_column() {
        // An old bundle whose policies.csv says false (or nothing) for a `*` document: the
        // document decides.
        let details = AuthorizationDetails {
            user_detail_list: vec![User {
                user_policy_list: vec![inline("everything", admin_doc())],
                ..iam_user("zoe", &[])
            }],
            ..AuthorizationDetails::default()
        };
        let mut tables = Tables::build(&details, crate::findings::testkit::ACCOUNT);
        for row in &mut tables.policies {
            row.allows_admin = Some(false);
        }
        let bundle = authz(&details).table(&tables.policies);
        assert_eq!(
            bundle.hits("admin-policy"),
            [(user("zoe"), "global".to_string())]
        );
    }
}
