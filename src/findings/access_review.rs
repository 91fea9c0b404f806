//! The quarterly access review (SPEC section 5): `access-review/users.csv` and
//! `access-review/roles.csv`, one row per user and role with what a team lead needs to confirm
//! or revoke access, and empty `reviewer`, `decision` and `notes` columns to fill in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::iam::{self, AUTHZ, REPORT, ROLES_CSV, ROOT_USER, USERS_CSV};
use super::input::{days_between, Row};
use super::Input;
use crate::vocab::CollectorStatus;

/// Both review tables, plus why they may be incomplete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReview {
    pub users: Vec<UserReview>,
    pub roles: Vec<RoleReview>,
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
}

/// Builds the review tables from the credential report and the authorization details. What
/// cannot be read leaves its columns empty and a sentence in `gaps`; it is never guessed.
pub fn build(input: &Input) -> AccessReview {
    let mut review = AccessReview::default();
    let report = read_source(input, REPORT, iam::report, &mut review.gaps);
    let users = read_source(
        input,
        AUTHZ,
        |i| i.csv(USERS_CSV, &["user_name", "arn", "created", "groups"]),
        &mut review.gaps,
    );
    let roles = read_source(
        input,
        AUTHZ,
        |i| i.csv(ROLES_CSV, &["role_name", "arn", "path", "created"]),
        &mut review.gaps,
    );
    review.gaps.dedup();
    review.users = user_rows(input, report.as_deref(), users.as_deref());
    review.roles = role_rows(input, roles.as_deref().unwrap_or_default());
    review
}

/// Reads a source of the review, or records why it cannot be.
fn read_source(
    input: &Input,
    collector: &str,
    read: impl Fn(&Input) -> Result<Vec<Row>, String>,
    gaps: &mut Vec<String>,
) -> Option<Vec<Row>> {
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

fn user_rows(input: &Input, report: Option<&[Row]>, authz: Option<&[Row]>) -> Vec<UserReview> {
    let limit = i64::from(input.thresholds.user_inactive_days);
    let by_name: BTreeMap<&str, &Row> = authz
        .unwrap_or_default()
        .iter()
        .map(|r| (r.get("user_name"), r))
        .collect();
    let mut rows: BTreeMap<String, UserReview> = BTreeMap::new();
    for u in authz.unwrap_or_default() {
        rows.insert(
            u.get("user_name").to_string(),
            UserReview {
                user_name: u.get("user_name").to_string(),
                arn: u.get("arn").to_string(),
                created: u.get("created").to_string(),
                ..UserReview::default()
            },
        );
    }
    for r in report
        .unwrap_or_default()
        .iter()
        .filter(|r| r.get("user") != ROOT_USER)
    {
        let row = rows
            .entry(r.get("user").to_string())
            .or_insert_with(|| UserReview {
                user_name: r.get("user").to_string(),
                arn: r.get("arn").to_string(),
                created: r.get("user_creation_time").to_string(),
                ..UserReview::default()
            });
        row.console_access = r.flag("password_enabled");
        let password_used = r.time("password_last_used");
        row.password_last_used = last_use(password_used, row.console_access);
        row.mfa_active = r.flag("mfa_active");
        let mut last_activity = if row.console_access {
            password_used
        } else {
            None
        };
        for key in iam::keys(r) {
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
        let since = last_activity.or_else(|| r.time("user_creation_time"));
        row.days_inactive = since.map(|t| days_between(t, input.now));
        row.inactive = row.days_inactive.is_some_and(|d| d > limit);
    }
    for row in rows.values_mut() {
        if let Some(u) = by_name.get(row.user_name.as_str()) {
            row.groups = u.get("groups").to_string();
            row.attached_policies = u.get("attached_policy_arns").to_string();
            row.inline_policies = u.get("inline_policy_names").to_string();
            row.admin = u.flag("allows_admin");
        }
    }
    rows.into_values().collect()
}

fn role_rows(input: &Input, roles: &[Row]) -> Vec<RoleReview> {
    let limit = i64::from(input.thresholds.role_inactive_days);
    let mut rows: Vec<RoleReview> = roles
        .iter()
        .map(|r| {
            let service_linked = iam::service_linked(r);
            let days_inactive = iam::role_inactive_days(r, input.now).map(|(d, _)| d);
            RoleReview {
                role_name: r.get("role_name").to_string(),
                arn: r.get("arn").to_string(),
                path: r.get("path").to_string(),
                created: r.get("created").to_string(),
                service_linked,
                trust_principals: r.get("trust_principals").to_string(),
                last_used_date: last_use(r.time("role_last_used_date"), true),
                last_used_region: r.get("role_last_used_region").to_string(),
                attached_policies: r.get("attached_policy_arns").to_string(),
                inline_policies: r.get("inline_policy_names").to_string(),
                admin: r.flag("allows_admin"),
                days_inactive,
                inactive: !service_linked && days_inactive.is_some_and(|d| d > limit),
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
    use crate::findings::iam::tests::{report_row, Bundle, NO_KEY, ROLES_HEADER, USERS_HEADER};

    const OLD: &str = "2025-01-01T00:00:00+00:00";
    const RECENT: &str = "2026-11-01T00:00:00+00:00";

    #[test]
    fn users_join_the_report_and_the_authorization_details() {
        let bundle = Bundle::new()
            .report(&[
                report_row(ROOT_USER, OLD, ("not_supported", "N/A"), "true", NO_KEY, NO_KEY),
                report_row("alice", OLD, ("true", RECENT), "true", ("false", OLD, "N/A"), NO_KEY),
                report_row("bob", OLD, ("false", "N/A"), "false", ("true", OLD, "N/A"), ("true", RECENT, RECENT)),
                report_row("zed", OLD, ("true", "no_information"), "false", NO_KEY, NO_KEY),
            ])
            .file(
                USERS_CSV,
                &format!(
                    "{USERS_HEADER}\nalice,arn:aws:iam::123456789012:user/alice,A,/,2025-01-01T00:00:00Z,admins,,,,0,true\nbob,arn:aws:iam::123456789012:user/bob,B,/,2025-01-01T00:00:00Z,,arn:aws:iam::123456789012:policy/Deploy,bob-inline,,0,false\n"
                ),
            )
            .file(ROLES_CSV, &format!("{ROLES_HEADER}\n"))
            .state(AUTHZ, CollectorStatus::Collected);
        let review = build(&bundle.input());
        assert!(review.gaps.is_empty(), "{:?}", review.gaps);
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
        assert_eq!(bob.inline_policies, "bob-inline");
        let zed = &review.users[2];
        assert_eq!(zed.password_last_used, "never");
        assert_eq!(zed.days_inactive, Some(690), "never used: since creation");
        assert!(zed.inactive);
        assert_eq!((zed.reviewer.as_str(), zed.decision.as_str()), ("", ""));
    }

    #[test]
    fn roles_flag_inactivity_but_never_service_linked_roles() {
        let bundle = Bundle::new()
            .file(USERS_CSV, &format!("{USERS_HEADER}\n"))
            .file(
                ROLES_CSV,
                &format!("{ROLES_HEADER}\nidle,arn:aws:iam::123456789012:role/idle,R1,/,2025-01-01T00:00:00Z,false,true,AWS:arn:aws:iam::123456789012:root,,,,,,,,,,0,true\nAWSServiceRoleForX,arn:aws:iam::123456789012:role/aws-service-role/x/AWSServiceRoleForX,R2,/aws-service-role/x/,2020-01-01T00:00:00Z,true,true,Service:x.amazonaws.com,,,,,,,,,,0,false\n"),
            )
            .state(AUTHZ, CollectorStatus::Collected)
            .state(REPORT, CollectorStatus::Failed);
        let review = build(&bundle.input());
        assert_eq!(review.roles.len(), 2);
        let service = &review.roles[0];
        assert!(service.service_linked && !service.inactive);
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
}
