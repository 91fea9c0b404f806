//! The files of the `kms-key-rotation` collector (see `crate::collectors::kms_key_rotation`).

use serde::{Deserialize, Serialize};

use super::cell;

super::contract! {
    id: "kms-key-rotation",
    tables: {
        KeyRow => "keys.csv",
        KeyPolicyGrantRow => "key-policy-grants.csv",
    },
    documents: {
        KeyPolicies => "key-policies.json",
    },
}

/// `key-policies.json`: the key policy (GetKeyPolicy, policy `default`) of every customer
/// managed key, decoded; a key whose policy could not be read is left out (the manifest has the
/// error).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyPolicies {
    pub keys: Vec<super::resource_policy::ResourcePolicy>,
}

/// One row of `key-policy-grants.csv`: a grant of a key policy's Allow statement.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyPolicyGrantRow(pub super::resource_policy::GrantRow);

/// One row of `keys.csv`: a key of a covered region, whether rotation applies to it and, where
/// it does, whether it is on. Values AWS did not return stay empty.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub region: String,
    pub key_id: String,
    pub arn: String,
    /// Alias names.
    pub aliases: cell::List,
    pub description: String,
    pub key_manager: String,
    pub key_spec: String,
    pub key_usage: String,
    pub origin: String,
    pub key_state: String,
    pub multi_region: Option<bool>,
    pub creation_date: String,
    pub deletion_date: String,
    /// Empty when DescribeKey failed or did not say enough.
    pub in_scope: Option<bool>,
    pub out_of_scope_reason: String,
    /// Empty when rotation does not apply or GetKeyRotationStatus failed.
    pub rotation_enabled: Option<bool>,
    pub rotation_period_days: Option<i32>,
    pub next_rotation_date: String,
}
