//! The files of the `s3-public-access` collector (see `crate::collectors::s3_public_access`).

use serde::{Deserialize, Serialize};

use super::cell;

super::contract! {
    id: "s3-public-access",
    tables: {
        BucketRow => "buckets.csv",
        BucketPolicyGrantRow => "bucket-policy-grants.csv",
    },
    documents: {
        AccountPublicAccessBlock => "account-public-access-block.json",
        BucketPolicies => "bucket-policies.json",
    },
}

/// `bucket-policies.json`: every bucket's policy document (GetBucketPolicy), decoded; a bucket
/// whose policy could not be read is left out (the manifest has the error).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketPolicies {
    pub buckets: Vec<super::resource_policy::ResourcePolicy>,
}

/// One row of `bucket-policy-grants.csv`: a grant of a bucket policy's Allow statement.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BucketPolicyGrantRow(pub super::resource_policy::GrantRow);

/// `account-public-access-block.json`: the account's S3 Block Public Access. All four flags
/// are false when no block is set; the file is not written when the call failed.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPublicAccessBlock {
    pub account_id: String,
    /// Whether the account has a block at all.
    pub present: bool,
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

/// One row of `buckets.csv`: a bucket and its public access facts. An empty cell means unknown
/// because a call failed (`failed_calls` names it).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketRow {
    pub name: String,
    /// Empty when the bucket's region could not be told.
    pub region: String,
    pub created: String,
    /// The bucket's own block: whether it has one, and its four flags.
    pub block_present: Option<bool>,
    pub block_public_acls: Option<bool>,
    pub ignore_public_acls: Option<bool>,
    pub block_public_policy: Option<bool>,
    pub restrict_public_buckets: Option<bool>,
    pub policy_present: Option<bool>,
    pub policy_is_public: Option<bool>,
    /// `AllUsers:READ;AuthenticatedUsers:WRITE`.
    pub acl_public_grants: cell::List,
    /// The block in effect: the bucket's flag OR the account's.
    pub effective_block_public_acls: Option<bool>,
    pub effective_ignore_public_acls: Option<bool>,
    pub effective_block_public_policy: Option<bool>,
    pub effective_restrict_public_buckets: Option<bool>,
    /// A public policy not restricted by the effective RestrictPublicBuckets, or a public ACL
    /// grant not neutralised by the effective IgnorePublicAcls.
    pub publicly_accessible: Option<bool>,
    /// The operations that failed for this bucket.
    pub failed_calls: cell::List,
}
