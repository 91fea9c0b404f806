//! The quarterly access review (SPEC section 5): `access-review/users.csv` and
//! `access-review/roles.csv`, one row per user and role with what a team lead needs to confirm
//! or revoke access, and empty `reviewer`, `decision` and `notes` columns to fill in.
//!
//! Read from the credential report's user rows and from the raw `authorization-details.json`
//! through the table builder of [`crate::judge::iam_tables`], so `admin`, the trust
//! principals, the escalation methods and the exposure categories are judged with the current
//! logic, also when `report` reads an old bundle.
//!
//! The last two columns of both tables (after the reviewer's) say what a principal's policies
//! give beyond "admin yes/no": `escalation_methods`, the privilege-escalation methods they
//! complete, alone or together (the catalogue of the `privilege-escalation` rule; `id
//! (conditional)` when an action of it is granted only under a condition, a `NotResource`
//! exception or a deny that may refuse it; an admin has them all), and `exposure`, the
//! categories of sensitive actions they allow on every resource (`data-exfiltration`,
//! `credentials-exposure`). Both are `;`-separated and empty when there is none (or when the
//! authorization details could not be read).

mod identity_center;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::input::days_between;
use super::rules::{role_inactive_days, Privileges, Summary};
use super::Input;
use crate::contract::iam_authorization_details::{AuthorizationDetails, RoleRow, UserRow};
use crate::contract::iam_credential_report::ReportRow;
use crate::contract::{Document, Table};
use crate::judge::iam_tables::{service_linked, Tables};
use crate::vocab::CollectorStatus;
pub use identity_center::IdentityCenterReview;

/// Both review tables, plus why they may be incomplete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReview {
    pub users: Vec<UserReview>,
    pub roles: Vec<RoleReview>,
    /// `access-review/identity-center.csv`: one row per (user, account, permission set) of IAM
    /// Identity Center (module `identity_center`).
    #[serde(default)]
    pub identity_center: Vec<IdentityCenterReview>,
    /// What could not be read (a collector failed or was skipped), one sentence each.
    pub gaps: Vec<String>,
}

/// One row of `access-review/users.csv`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserReview {
    pub user_name: String,
    pub arn: String,
    pub created: String,
    pub console_access: bool,
    pub password_last_used: String,
    pub mfa_active: bool,
    /// `;`-separated.
    pub groups: String,
    pub attached_policies: String,
    pub inline_policies: String,
    /// Whether any policy reaching the user (direct or through a group) allows `*` on `*`.
    pub admin: bool,
    /// `active`, `inactive` or empty when there is no key.
    pub key_1_status: String,
    pub key_1_age_days: Option<i64>,
    pub key_1_last_used: String,
    pub key_2_status: String,
    pub key_2_age_days: Option<i64>,
    pub key_2_last_used: String,
    /// Days since the last use of the password or an active key (never used: since created).
    pub days_inactive: Option<i64>,
    /// `days_inactive` above the user-inactive threshold.
    pub inactive: bool,
    pub reviewer: String,
    pub decision: String,
    pub notes: String,
    /// `;`-separated privilege-escalation methods the user's policies complete (module docs).
    pub escalation_methods: String,
    /// `;`-separated exposure categories the user's policies allow on every resource.
    pub exposure: String,
}

/// One row of `access-review/roles.csv`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleReview {
    pub role_name: String,
    pub arn: String,
    pub path: String,
    pub created: String,
    /// Path `/aws-service-role/`: listed, never flagged inactive.
    pub service_linked: bool,
    /// `;`-separated trust policy principals.
    pub trust_principals: String,
    pub last_used_date: String,
    pub last_used_region: String,
    pub attached_policies: String,
    pub inline_policies: String,
    pub admin: bool,
    /// Days since last use (never used: since created).
    pub days_inactive: Option<i64>,
    /// `days_inactive` above the role-inactive threshold (never for service-linked roles).
    pub inactive: bool,
    pub reviewer: String,
    pub decision: String,
    pub notes: String,
    /// `;`-separated privilege-escalation methods the role's policies complete (module docs).
    pub escalation_methods: String,
    /// `;`-separated exposure categories the role's policies allow on every resource.
    pub exposure: String,
}

/// Builds the review tables from the credential report and the authorization details. What
/// cannot be read leaves its columns empty and a sentence in `gaps`; it is never guessed.
///
/// The users and roles come from the raw `authorization-details.json`, through the table
/// builder the collector uses: `admin`, the trust principals, the escalation methods and the
/// exposure categories are judged with the current logic, also on an old bundle.
pub fn build(input: &Input) -> AccessReview {
    let mut review = AccessReview::default();
    let report = read_source(
        input,
        ReportRow::COLLECTOR,
        |i| i.table::<ReportRow>(),
        &mut review.gaps,
    );
    let authz = read_source(
        input,
        AuthorizationDetails::COLLECTOR,
        |i| {
            let details = i.document::<AuthorizationDetails>()?;
            let tables = Tables::build(&details, &i.account_id);
            let privileges = Privileges::build(&details, &tables);
            Ok((tables, privileges))
        },
        &mut review.gaps,
    );
    review.gaps.dedup();
    let (tables, privileges) = match authz {
        Some((tables, privileges)) => (Some(tables), privileges),
        None => (None, Privileges::default()),
    };
    review.users = user_rows(
        input,
        report.as_deref(),
        tables.as_ref().map(|t| t.users.as_slice()),
        &privileges,
    );
    review.roles = role_rows(
        input,
        tables.as_ref().map_or(&[], |t| t.roles.as_slice()),
        &privileges,
    );
    let (rows, mut gaps) = read_source(
        input,
        crate::contract::identity_center::ID,
        |i| {
            let mut gaps = Vec::new();
            identity_center::rows(i, &mut gaps).map(|rows| (rows, gaps))
        },
        &mut review.gaps,
    )
    .unwrap_or_default();
    review.identity_center = rows;
    review.gaps.append(&mut gaps);
    review
}

/// The escalation and exposure cells of a principal.
fn privilege_cells(privileges: &Privileges, arn: &str) -> (String, String) {
    let Summary { methods, exposure } = privileges.summary(arn);
    (methods.join(";"), exposure.join(";"))
}

/// Reads a source of the review, or records why it cannot be.
fn read_source<T>(
    input: &Input,
    collector: &str,
    read: impl Fn(&Input) -> Result<T, String>,
    gaps: &mut Vec<String>,
) -> Option<T> {
    match input.status(collector) {
        Some(CollectorStatus::Collected | CollectorStatus::Partial) => match read(input) {
            Ok(rows) => Some(rows),
            Err(e) => {
                gaps.push(e);
                None
            }
        },
        Some(status) => {
            gaps.push(format!(
                "{collector} {}: its columns are empty",
                status.as_str()
            ));
            None
        }
        None => {
            gaps.push(format!("{collector} was not run: its columns are empty"));
            None
        }
    }
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// A last-use cell: the date, `never` for a credential never used, empty when not applicable.
fn last_use(t: Option<DateTime<Utc>>, applies: bool) -> String {
    match (t, applies) {
        (Some(t), _) => date(t),
        (None, true) => "never".to_string(),
        (None, false) => String::new(),
    }
}

fn user_rows(
    input: &Input,
    report: Option<&[ReportRow]>,
    authz: Option<&[UserRow]>,
    privileges: &Privileges,
) -> Vec<UserReview> {
    let limit = i64::from(input.thresholds.user_inactive_days);
    let by_name: BTreeMap<&str, &UserRow> = authz
        .unwrap_or_default()
        .iter()
        .map(|u| (u.user_name.as_str(), u))
        .collect();
    let mut rows: BTreeMap<String, UserReview> = BTreeMap::new();
    for u in authz.unwrap_or_default() {
        rows.insert(
            u.user_name.clone(),
            UserReview {
                user_name: u.user_name.clone(),
                arn: u.arn.clone(),
                created: u.created.clone(),
                ..UserReview::default()
            },
        );
    }
    for r in report.unwrap_or_default().iter().filter(|r| !r.is_root()) {
        let row = rows.entry(r.user.clone()).or_insert_with(|| UserReview {
            user_name: r.user.clone(),
            arn: r.arn.clone(),
            created: r.created.clone(),
            ..UserReview::default()
        });
        row.console_access = r.password_enabled;
        let password_used = r.password_last_used_time();
        row.password_last_used = last_use(password_used, row.console_access);
        row.mfa_active = r.mfa_active;
        let mut last_activity = if row.console_access {
            password_used
        } else {
            None
        };
        for key in r.keys() {
            if !key.exists() {
                continue;
            }
            let status = if key.active { "active" } else { "inactive" };
            let age = key.last_rotated.map(|t| days_between(t, input.now));
            let used = last_use(key.last_used, true);
            match key.n {
                1 => {
                    row.key_1_status = status.into();
                    row.key_1_age_days = age;
                    row.key_1_last_used = used;
                }
                _ => {
                    row.key_2_status = status.into();
                    row.key_2_age_days = age;
                    row.key_2_last_used = used;
                }
            }
            if key.active {
                last_activity = last_activity.max(key.last_used);
            }
        }
        let since = last_activity.or_else(|| r.created_time());
        row.days_inactive = since.map(|t| days_between(t, input.now));
        row.inactive = row.days_inactive.is_some_and(|d| d > limit);
    }
    for row in rows.values_mut() {
        if let Some(u) = by_name.get(row.user_name.as_str()) {
            row.groups = u.groups.joined();
            row.attached_policies = u.attached_policy_arns.joined();
            row.inline_policies = u.inline_policy_names.joined();
            row.admin = u.allows_admin == Some(true);
            (row.escalation_methods, row.exposure) = privilege_cells(privileges, &u.arn);
        }
    }
    rows.into_values().collect()
}

fn role_rows(input: &Input, roles: &[RoleRow], privileges: &Privileges) -> Vec<RoleReview> {
    let limit = i64::from(input.thresholds.role_inactive_days);
    let mut rows: Vec<RoleReview> = roles
        .iter()
        .map(|r| {
            let service_linked = service_linked(r);
            let days_inactive = role_inactive_days(r, input.now).map(|(d, _)| d);
            let (escalation_methods, exposure) = privilege_cells(privileges, &r.arn);
            RoleReview {
                role_name: r.role_name.clone(),
                arn: r.arn.clone(),
                path: r.path.clone(),
                created: r.created.clone(),
                service_linked,
                trust_principals: r.trust_principals.joined(),
                last_used_date: last_use(r.last_used_time(), true),
                last_used_region: r.role_last_used_region.clone(),
                attached_policies: r.attached_policy_arns.joined(),
                inline_policies: r.inline_policy_names.joined(),
                admin: r.allows_admin == Some(true),
                days_inactive,
                inactive: !service_linked && days_inactive.is_some_and(|d| d > limit),
                escalation_methods,
                exposure,
                ..RoleReview::default()
            }
        })
        .collect();
    rows.sort_by(|a, b| (&a.role_name, &a.arn).cmp(&(&b.role_name, &b.arn)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::iam_authorization_details::{Attached, Group, InlinePolicy, Role, User};
    use crate::contract::iam_credential_report::ROOT_USER;
    use crate::findings::rules::iam_test::{admin_doc, authz, managed, report_row, NO_KEY};
    use crate::findings::testkit::iam_arn;
    use serde_json::json;

    const OLD: &str = "2025-01-01T00:00:00+00:00";
    const RECENT: &str = "2026-11-01T00:00:00+00:00";

    fn iam_user(name: &str) -> User {
        User {
            path: "/".into(),
            user_name: name.into(),
            arn: iam_arn(&format!("user/{name}")),
            create_date: Some("2025-01-01T00:00:00Z".into()),
            ..User::default()
        }
    }

    #[test]
    fn users_join_the_report_and_the_authorization_details() {
        let details = AuthorizationDetails {
            user_detail_list: vec![
                User {
                    group_list: vec!["admins".into()],
                    ..iam_user("alice")
                },
                User {
                    attached_managed_policies: vec![Attached {
                        policy_name: "Deploy".into(),
                        policy_arn: iam_arn("policy/Deploy"),
                    }],
                    user_policy_list: vec![InlinePolicy {
                        policy_name: "bob-inline".into(),
                        policy_document: json!({"Statement": []}),
                    }],
                    ..iam_user("bob")
                },
            ],
            group_detail_list: vec![Group {
                path: "/".into(),
                group_name: "admins".into(),
                arn: iam_arn("group/admins"),
                group_policy_list: vec![InlinePolicy {
                    policy_name: "everything".into(),
                    policy_document: admin_doc(),
                }],
                ..Group::default()
            }],
            policies: vec![managed(
                &iam_arn("policy/Deploy"),
                json!({"Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}),
            )],
            ..AuthorizationDetails::default()
        };
        #[rustfmt::skip]
        let bundle = authz(&details)
            .table(&[
                report_row(ROOT_USER, OLD, ("not_supported", "N/A"), "true", NO_KEY, NO_KEY),
                report_row("alice", OLD, ("true", RECENT), "true", ("false", OLD, "N/A"), NO_KEY),
                report_row("bob", OLD, ("false", "N/A"), "false", ("true", OLD, "N/A"), ("true", RECENT, RECENT)),
                report_row("zed", OLD, ("true", "no_information"), "false", NO_KEY, NO_KEY),
            ])
            .collected(ReportRow::COLLECTOR);
        let review = build(&bundle.input());
        // Only the Identity Center review, whose collector was not run, is said to be empty.
        assert_eq!(
            review.gaps,
            ["identity-center was not run: its columns are empty"]
        );
        let names: Vec<&str> = review.users.iter().map(|u| u.user_name.as_str()).collect();
        assert_eq!(names, ["alice", "bob", "zed"], "no root row, sorted");
        let alice = &review.users[0];
        assert!(alice.console_access && alice.mfa_active && alice.admin);
        assert_eq!(alice.groups, "admins");
        assert_eq!(alice.password_last_used, "2026-11-01");
        assert_eq!(alice.key_1_status, "inactive");
        assert_eq!(alice.days_inactive, Some(21));
        assert!(!alice.inactive);
        let bob = &review.users[1];
        assert!(!bob.admin);
        assert_eq!(bob.password_last_used, "");
        assert_eq!(
            (bob.key_1_status.as_str(), bob.key_1_last_used.as_str()),
            ("active", "never")
        );
        assert_eq!(bob.key_1_age_days, Some(690));
        assert_eq!(bob.key_2_last_used, "2026-11-01");
        assert_eq!(
            bob.days_inactive,
            Some(21),
            "the latest use of an active key counts"
        );
        assert_eq!(
            bob.attached_policies,
            "arn:aws:iam::123456789012:policy/Deploy"
        );
        assert_eq!(bob.inline_policies, "bob-inline");
        let zed = &review.users[2];
        assert_eq!(zed.password_last_used, "never");
        assert_eq!(zed.days_inactive, Some(690), "never used: since creation");
        assert!(zed.inactive);
        assert_eq!((zed.reviewer.as_str(), zed.decision.as_str()), ("", ""));
    }

    #[test]
    fn roles_flag_inactivity_but_never_service_linked_roles() {
        let role = |path: &str, name: &str, created: &str, trust: serde_json::Value| Role {
            path: path.into(),
            role_name: name.into(),
            arn: iam_arn(&format!("role{path}{name}")),
            create_date: Some(created.into()),
            assume_role_policy_document: trust,
            ..Role::default()
        };
        let idle = Role {
            role_policy_list: vec![InlinePolicy {
                policy_name: "everything".into(),
                policy_document: admin_doc(),
            }],
            ..role(
                "/",
                "idle",
                "2025-01-01T00:00:00Z",
                json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}),
            )
        };
        let service = role(
            "/aws-service-role/x/",
            "AWSServiceRoleForX",
            "2020-01-01T00:00:00Z",
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "x.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        );
        let details = AuthorizationDetails {
            role_detail_list: vec![idle, service],
            ..AuthorizationDetails::default()
        };
        let bundle = authz(&details).global(
            ReportRow::COLLECTOR,
            CollectorStatus::Failed,
            "GetCredentialReport",
        );
        let review = build(&bundle.input());
        assert_eq!(review.roles.len(), 2);
        let service = &review.roles[0];
        assert!(service.service_linked && !service.inactive);
        assert_eq!(service.trust_principals, "Service:x.amazonaws.com");
        let idle = &review.roles[1];
        assert!(idle.inactive && idle.admin);
        assert_eq!(idle.last_used_date, "never");
        assert_eq!(idle.trust_principals, "AWS:arn:aws:iam::123456789012:root");
        assert!(
            review
                .gaps
                .iter()
                .any(|g| g.contains("iam-credential-report failed")),
            "{:?}",
            review.gaps
        );
    }

    #[test]
    fn users_and_roles_show_their_escalation_methods_and_exposure() {
        let allow = |actions: &[&str]| json!({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]});
        let details = AuthorizationDetails {
            user_detail_list: vec![
                User {
                    group_list: vec!["builders".into()],
                    user_policy_list: vec![InlinePolicy {
                        policy_name: "pass".into(),
                        policy_document: allow(&["iam:PassRole"]),
                    }],
                    ..iam_user("lee")
                },
                iam_user("max"),
            ],
            group_detail_list: vec![Group {
                path: "/".into(),
                group_name: "builders".into(),
                arn: iam_arn("group/builders"),
                group_policy_list: vec![InlinePolicy {
                    policy_name: "lambda".into(),
                    policy_document: allow(&["lambda:*", "secretsmanager:GetSecretValue"]),
                }],
                ..Group::default()
            }],
            role_detail_list: vec![Role {
                path: "/".into(),
                role_name: "ci".into(),
                arn: iam_arn("role/ci"),
                role_policy_list: vec![InlinePolicy {
                    policy_name: "ecr".into(),
                    policy_document: allow(&[
                        "ecr:GetAuthorizationToken",
                        "iam:CreatePolicyVersion",
                    ]),
                }],
                ..Role::default()
            }],
            ..AuthorizationDetails::default()
        };
        let review = build(&authz(&details).input());
        let lee = &review.users[0];
        assert!(!lee.admin);
        assert_eq!(
            lee.escalation_methods,
            "pass-role-lambda-invoke;pass-role-lambda-dynamodb;update-lambda-code"
        );
        assert_eq!(lee.exposure, "data-exfiltration");
        let max = &review.users[1];
        assert_eq!(
            (max.escalation_methods.as_str(), max.exposure.as_str()),
            ("", "")
        );
        let ci = &review.roles[0];
        assert_eq!(ci.escalation_methods, "create-policy-version");
        assert_eq!(ci.exposure, "credentials-exposure");
    }

    #[test]
    fn admin_is_judged_from_the_documents_not_the_collector_s_column() {
        // An old bundle whose users.csv says false for a user with a `*` document.
        let details = AuthorizationDetails {
            user_detail_list: vec![User {
                user_policy_list: vec![InlinePolicy {
                    policy_name: "everything".into(),
                    policy_document: admin_doc(),
                }],
                ..iam_user("zoe")
            }],
            ..AuthorizationDetails::default()
        };
        let mut tables = Tables::build(&details, crate::findings::testkit::ACCOUNT);
        tables.users[0].allows_admin = Some(false);
        let bundle = authz(&details).table(&tables.users);
        let review = build(&bundle.input());
        assert!(review.users[0].admin);
    }
}
