//! `access-review/identity-center.csv`: the access people have through IAM Identity Center,
//! one row per (user, account, permission set), for the same quarterly review as `users.csv`
//! and `roles.csv`.
//!
//! Built from the `identity-center` collector's raw evidence alone: `assignments.csv` (a
//! permission set in an account for a user or a group), `group-memberships.csv` (a group's
//! assignment reaches each member), `users.csv` (name, display name, email, status) and
//! `permission-sets.json`, whose policies are judged again with
//! [`crate::judge::identity_center::allows_admin`] (so `report` applies the current logic).
//! `via` is `direct` when the user is assigned themself, and the name of each group (its id when
//! the store did not name it) the access comes through, `;`-separated, `direct` first.
//! `allows_admin` is empty when it cannot be known (see the judge). A group assigned but with no
//! member gives no row: the review is of people.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::contract::identity_center::{
    AssignmentRow, MembershipRow, PermissionSets, UserRow, GROUP, USER,
};
use crate::findings::Input;
use crate::judge::identity_center::allows_admin;

/// One row of `access-review/identity-center.csv`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCenterReview {
    pub user_name: String,
    pub display_name: String,
    pub email: String,
    pub user_id: String,
    /// `ENABLED` or `DISABLED`, when the identity store says.
    pub user_status: String,
    pub account_id: String,
    pub permission_set_name: String,
    pub permission_set_arn: String,
    /// `direct` and/or the groups the access comes through, `;`-separated.
    pub via: String,
    /// Whether the permission set allows `*` on `*`; empty when unknown.
    pub allows_admin: Option<bool>,
    pub reviewer: String,
    pub decision: String,
    pub notes: String,
}

/// The review rows, or why they cannot be built (a file missing or of another shape). A
/// `permission-sets.json` that cannot be read leaves `allows_admin` empty and says so in
/// `gaps`.
pub(super) fn rows(
    input: &Input,
    gaps: &mut Vec<String>,
) -> Result<Vec<IdentityCenterReview>, String> {
    let assignments = input.table::<AssignmentRow>()?;
    let memberships = input.table::<MembershipRow>()?;
    let users = input.table::<UserRow>()?;
    let admin: BTreeMap<String, Option<bool>> = match input.document::<PermissionSets>() {
        Ok(sets) => sets
            .permission_sets
            .iter()
            .map(|r| (r.permission_set_arn.clone(), allows_admin(r)))
            .collect(),
        Err(e) => {
            gaps.push(format!(
                "{e}: the identity-center review's allows_admin is empty"
            ));
            BTreeMap::new()
        }
    };
    // (region, group id) -> its members' user ids.
    let mut members: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for m in &memberships {
        members
            .entry((m.region.as_str(), m.group_id.as_str()))
            .or_default()
            .push(m.user_id.as_str());
    }
    // (region, user id, account, permission set ARN) -> (permission set name, direct, groups).
    type Key<'a> = (&'a str, &'a str, &'a str, &'a str);
    let mut access: BTreeMap<Key<'_>, (&str, bool, BTreeSet<&str>)> = BTreeMap::new();
    for a in &assignments {
        let (region, account, set_arn) = (
            a.region.as_str(),
            a.account_id.as_str(),
            a.permission_set_arn.as_str(),
        );
        match a.principal_type.as_str() {
            USER => {
                let entry = access
                    .entry((region, a.principal_id.as_str(), account, set_arn))
                    .or_insert((a.permission_set_name.as_str(), false, BTreeSet::new()));
                entry.1 = true;
            }
            GROUP => {
                let group = match a.principal_name.as_str() {
                    "" => a.principal_id.as_str(),
                    name => name,
                };
                for user in members
                    .get(&(region, a.principal_id.as_str()))
                    .into_iter()
                    .flatten()
                {
                    access
                        .entry((region, *user, account, set_arn))
                        .or_insert((a.permission_set_name.as_str(), false, BTreeSet::new()))
                        .2
                        .insert(group);
                }
            }
            _ => {}
        }
    }
    let by_id: BTreeMap<(&str, &str), &UserRow> = users
        .iter()
        .map(|u| ((u.region.as_str(), u.user_id.as_str()), u))
        .collect();
    let mut rows: Vec<IdentityCenterReview> = access
        .into_iter()
        .map(
            |((region, user_id, account, set_arn), (set_name, direct, groups))| {
                let user = by_id.get(&(region, user_id));
                let text =
                    |f: fn(&UserRow) -> &String| user.map(|u| f(u).clone()).unwrap_or_default();
                let via: Vec<&str> = direct
                    .then_some("direct")
                    .into_iter()
                    .chain(groups)
                    .collect();
                IdentityCenterReview {
                    user_name: text(|u| &u.user_name),
                    display_name: text(|u| &u.display_name),
                    email: text(|u| &u.email),
                    user_id: user_id.to_string(),
                    user_status: text(|u| &u.status),
                    account_id: account.to_string(),
                    permission_set_name: set_name.to_string(),
                    permission_set_arn: set_arn.to_string(),
                    via: via.join(";"),
                    allows_admin: admin.get(set_arn).copied().flatten(),
                    ..IdentityCenterReview::default()
                }
            },
        )
        .collect();
    rows.sort_by(|a, b| {
        (
            &a.user_name,
            &a.user_id,
            &a.account_id,
            &a.permission_set_name,
            &a.permission_set_arn,
        )
            .cmp(&(
                &b.user_name,
                &b.user_id,
                &b.account_id,
                &b.permission_set_name,
                &b.permission_set_arn,
            ))
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::identity_center::{
        AttachedManagedPolicy, PermissionSetRecord, ID as IDENTITY_CENTER,
    };
    use crate::contract::Document;
    use crate::findings::access_review::build;
    use crate::findings::testkit::{Bundle, EAST};
    use crate::vocab::CollectorStatus;
    use serde_json::json;

    const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-1111111111111111";
    const ADMIN: &str = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-admin";
    const READ: &str = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-read";
    const OTHER: &str = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-other";

    fn assignment(
        account: &str,
        set: (&str, &str),
        kind: &str,
        id: &str,
        name: &str,
    ) -> AssignmentRow {
        AssignmentRow {
            region: EAST.into(),
            instance_arn: INSTANCE.into(),
            account_id: account.into(),
            permission_set_arn: set.0.into(),
            permission_set_name: set.1.into(),
            principal_type: kind.into(),
            principal_id: id.into(),
            principal_name: name.into(),
        }
    }

    fn user(id: &str, name: &str) -> UserRow {
        UserRow {
            region: EAST.into(),
            identity_store_id: "d-1".into(),
            user_id: id.into(),
            user_name: name.into(),
            display_name: format!("{name} Doe"),
            email: format!("{name}@example.com"),
            status: "ENABLED".into(),
            ..UserRow::default()
        }
    }

    fn member(group: &str, name: &str, user: &str) -> MembershipRow {
        MembershipRow {
            region: EAST.into(),
            identity_store_id: "d-1".into(),
            group_id: group.into(),
            group_name: name.into(),
            membership_id: format!("m-{group}-{user}"),
            user_id: user.into(),
            user_name: String::new(),
        }
    }

    fn set(arn: &str, managed: &[&str], inline: Option<serde_json::Value>) -> PermissionSetRecord {
        PermissionSetRecord {
            region: EAST.into(),
            instance_arn: INSTANCE.into(),
            permission_set_arn: arn.into(),
            attached_managed_policies: Some(
                managed
                    .iter()
                    .map(|a| AttachedManagedPolicy {
                        name: None,
                        arn: Some(a.to_string()),
                    })
                    .collect(),
            ),
            customer_managed_policy_references: Some(Vec::new()),
            inline_policy: inline,
            ..PermissionSetRecord::default()
        }
    }

    fn bundle() -> Bundle {
        let read =
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]});
        Bundle::new()
            .table(&[
                assignment("111111111111", (ADMIN, "Admin"), USER, "u-a", "alice"),
                assignment("111111111111", (ADMIN, "Admin"), GROUP, "g-ops", "ops"),
                assignment("222222222222", (READ, "Read"), GROUP, "g-ops", "ops"),
                assignment("222222222222", (READ, "Read"), GROUP, "g-audit", ""),
                assignment("222222222222", (OTHER, "Other"), GROUP, "g-empty", "empty"),
                assignment("333333333333", (OTHER, "Other"), USER, "u-gone", ""),
            ])
            .table(&[
                member("g-ops", "ops", "u-a"),
                member("g-ops", "ops", "u-b"),
                member("g-audit", "", "u-b"),
            ])
            .table(&[user("u-a", "alice"), user("u-b", "bob")])
            .document(&PermissionSets {
                permission_sets: vec![
                    set(
                        ADMIN,
                        &["arn:aws:iam::aws:policy/AdministratorAccess"],
                        None,
                    ),
                    set(READ, &[], Some(read)),
                    set(OTHER, &["arn:aws:iam::aws:policy/ReadOnlyAccess"], None),
                ],
            })
    }

    #[test]
    fn one_row_per_user_account_and_permission_set_with_how_it_is_reached() {
        let review = build(&bundle().collected(IDENTITY_CENTER).input());
        // The IAM sources were not run; nothing is missing of Identity Center's.
        assert!(
            !review.gaps.iter().any(|g| g.contains("identity-center")),
            "{:?}",
            review.gaps
        );
        let rows: Vec<(&str, &str, &str, &str, Option<bool>)> = review
            .identity_center
            .iter()
            .map(|r| {
                (
                    r.user_id.as_str(),
                    r.account_id.as_str(),
                    r.permission_set_name.as_str(),
                    r.via.as_str(),
                    r.allows_admin,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                // A user the store did not list: no name, sorted first.
                ("u-gone", "333333333333", "Other", "direct", None),
                ("u-a", "111111111111", "Admin", "direct;ops", Some(true)),
                ("u-a", "222222222222", "Read", "ops", Some(false)),
                ("u-b", "111111111111", "Admin", "ops", Some(true)),
                // A group without a name is named by its id.
                ("u-b", "222222222222", "Read", "g-audit;ops", Some(false)),
            ]
        );
        let alice = &review.identity_center[1];
        assert_eq!(
            (
                alice.user_name.as_str(),
                alice.display_name.as_str(),
                alice.email.as_str(),
                alice.user_status.as_str()
            ),
            ("alice", "alice Doe", "alice@example.com", "ENABLED")
        );
        assert_eq!(alice.permission_set_arn, ADMIN);
        assert_eq!(
            (
                alice.reviewer.as_str(),
                alice.decision.as_str(),
                alice.notes.as_str()
            ),
            ("", "", "")
        );
    }

    #[test]
    fn without_the_collector_the_review_is_empty_and_says_why() {
        let review = build(&bundle().input());
        assert!(review.identity_center.is_empty());
        assert!(
            review
                .gaps
                .iter()
                .any(|g| g == "identity-center was not run: its columns are empty"),
            "{:?}",
            review.gaps
        );
        let review = build(
            &bundle()
                .state_with(IDENTITY_CENTER, CollectorStatus::Skipped, vec![], vec![])
                .input(),
        );
        assert!(review.identity_center.is_empty());
        assert!(
            review
                .gaps
                .iter()
                .any(|g| g.contains("identity-center skipped")),
            "{:?}",
            review.gaps
        );
    }

    #[test]
    fn unreadable_permission_sets_leave_admin_unknown_never_false() {
        let bundle = bundle()
            .file(PermissionSets::PATH, "[not json")
            .collected(IDENTITY_CENTER);
        let review = build(&bundle.input());
        assert_eq!(review.identity_center.len(), 5);
        assert!(review
            .identity_center
            .iter()
            .all(|r| r.allows_admin.is_none()));
        assert!(
            review
                .gaps
                .iter()
                .any(|g| g.contains("permission-sets.json") && g.contains("allows_admin is empty")),
            "{:?}",
            review.gaps
        );
    }
}
