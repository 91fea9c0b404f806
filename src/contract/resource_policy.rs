//! What the S3 and KMS collectors keep of resource policies (bucket policies, key policies):
//! the documents as decoded, and one row per grant of an `Allow` statement. The rules judge the
//! documents (`crate::judge::resource_policy`); the grants tables are for people.

use serde::{Deserialize, Serialize};

use super::cell;

/// One resource's policy, as its `*-policies.json` file holds it.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourcePolicy {
    /// The bucket name, or the key id.
    pub name: String,
    /// The bucket's or key's ARN.
    pub arn: String,
    pub region: String,
    /// Whether the resource has a policy (a bucket may have none).
    pub present: bool,
    /// The document, decoded; `None` when absent or not JSON (see `text`).
    #[serde(default)]
    pub policy: Option<serde_json::Value>,
    /// The document as returned, when it is not JSON.
    #[serde(default)]
    pub text: String,
}

/// One grant of a resource policy's `Allow` statement: one row per principal.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRow {
    /// The bucket name, or the key id.
    pub name: String,
    pub region: String,
    /// The statement's Sid, or `#N` (its position).
    pub sid: String,
    pub principal: String,
    /// `anyone`, `account`, `service`, `federated`, `canonical_user`.
    pub principal_kind: String,
    /// The principal's account, for account principals.
    pub principal_account: String,
    pub actions: cell::List,
    /// `operator key` of every condition of the statement.
    pub conditions: cell::List,
    /// The condition keys restricting who or where the caller is (see the judge).
    pub restricted_by: cell::List,
    /// Granted to anyone without restriction, or to another account (trusted accounts are
    /// judged by the rules, not here).
    pub outside_account: bool,
}
