//! The files of the `iam-password-policy` collector (see `crate::collectors::iam_password_policy`).

use serde::{Deserialize, Serialize};

super::contract! {
    id: "iam-password-policy",
    tables: {},
    documents: {
        PasswordPolicyFile => "password-policy.json",
    },
}

/// `password-policy.json`: whether a policy is set, and the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicyFile {
    /// False when GetAccountPasswordPolicy answered NoSuchEntity: IAM's defaults apply.
    pub policy_present: bool,
    pub password_policy: Option<PasswordPolicy>,
}

/// The policy as the API returns it (absent numbers stay `null`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    pub minimum_password_length: Option<i32>,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    pub expire_passwords: bool,
    pub max_password_age: Option<i32>,
    pub password_reuse_prevention: Option<i32>,
    pub hard_expiry: Option<bool>,
}
