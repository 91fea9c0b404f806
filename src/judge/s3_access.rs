//! What a bucket's public access comes to (pure): the four flags of a public access block, the
//! block in effect (the bucket's flag OR the account's, three-valued when a call failed),
//! whether a policy or an ACL makes the bucket public, and what GetBucketLocation's answer
//! means. The `s3-public-access` collector uses it for its convenience columns, and the S3 rules
//! to judge the block in effect again from the recorded blocks ([`Block::of_bucket`],
//! [`Block::of_account`]).

use crate::contract::s3_public_access::{AccountPublicAccessBlock, BucketRow};

/// Grantee group URIs that make an ACL grant public.
const PUBLIC_GROUPS: &[(&str, &str)] = &[
    (
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "AllUsers",
    ),
    (
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
        "AuthenticatedUsers",
    ),
];

/// The four settings of a public access block; an unset flag is false.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BlockFlags {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

/// What is known of a public access block (the account's or a bucket's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// The call failed.
    Unknown,
    /// NoSuchPublicAccessBlockConfiguration: no block is set.
    Absent,
    Present(BlockFlags),
}

impl Block {
    pub fn present(&self) -> Option<bool> {
        match self {
            Block::Unknown => None,
            Block::Absent => Some(false),
            Block::Present(_) => Some(true),
        }
    }

    /// The flags in force: none when absent, unknown when the call failed.
    pub fn flags(&self) -> Option<BlockFlags> {
        match self {
            Block::Unknown => None,
            Block::Absent => Some(BlockFlags::default()),
            Block::Present(flags) => Some(*flags),
        }
    }

    /// A bucket's own block as `buckets.csv` records it (unknown when its call failed).
    pub fn of_bucket(row: &BucketRow) -> Block {
        let flags = [
            row.block_public_acls,
            row.ignore_public_acls,
            row.block_public_policy,
            row.restrict_public_buckets,
        ];
        match (row.block_present, flags) {
            (Some(false), _) => Block::Absent,
            (Some(true), [Some(acls), Some(ignore), Some(policy), Some(restrict)]) => {
                Block::Present(BlockFlags {
                    block_public_acls: acls,
                    ignore_public_acls: ignore,
                    block_public_policy: policy,
                    restrict_public_buckets: restrict,
                })
            }
            _ => Block::Unknown,
        }
    }

    /// The account's block as `account-public-access-block.json` records it; `None` (the file
    /// is absent: the call failed) is unknown.
    pub fn of_account(document: Option<&AccountPublicAccessBlock>) -> Block {
        match document {
            None => Block::Unknown,
            Some(block) if !block.present => Block::Absent,
            Some(block) => Block::Present(BlockFlags {
                block_public_acls: block.block_public_acls,
                ignore_public_acls: block.ignore_public_acls,
                block_public_policy: block.block_public_policy,
                restrict_public_buckets: block.restrict_public_buckets,
            }),
        }
    }

    fn flag(&self, pick: fn(&BlockFlags) -> bool) -> Option<bool> {
        self.flags().map(|flags| pick(&flags))
    }
}

/// Three-valued OR: true wins over unknown, unknown wins over false.
pub fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// Three-valued AND: false wins over unknown, unknown wins over true.
pub fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// The block S3 applies to a bucket: each flag is the bucket's OR the account's.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    pub block_public_acls: Option<bool>,
    pub ignore_public_acls: Option<bool>,
    pub block_public_policy: Option<bool>,
    pub restrict_public_buckets: Option<bool>,
}

pub fn effective(bucket: &Block, account: &Block) -> Effective {
    let both = |pick: fn(&BlockFlags) -> bool| or(bucket.flag(pick), account.flag(pick));
    Effective {
        block_public_acls: both(|f| f.block_public_acls),
        ignore_public_acls: both(|f| f.ignore_public_acls),
        block_public_policy: both(|f| f.block_public_policy),
        restrict_public_buckets: both(|f| f.restrict_public_buckets),
    }
}

/// Public through a policy that RestrictPublicBuckets does not restrict, or through a public
/// ACL grant that IgnorePublicAcls does not neutralise. BlockPublicAcls and BlockPublicPolicy
/// only refuse new public ACLs and policies; they do not close existing ones.
pub fn publicly_accessible(
    policy_is_public: Option<bool>,
    acl_is_public: Option<bool>,
    effective: &Effective,
) -> Option<bool> {
    let not = |v: Option<bool>| v.map(|b| !b);
    or(
        and(policy_is_public, not(effective.restrict_public_buckets)),
        and(acl_is_public, not(effective.ignore_public_acls)),
    )
}

/// The public grants of an ACL, given as (grantee URI, permission) pairs, as sorted
/// `Group:PERMISSION` labels (`AllUsers:READ`).
pub fn public_grants<'a>(
    grants: impl IntoIterator<Item = (Option<&'a str>, &'a str)>,
) -> Vec<String> {
    let mut labels: Vec<String> = grants
        .into_iter()
        .filter_map(|(uri, permission)| {
            let uri = uri?.trim();
            PUBLIC_GROUPS
                .iter()
                .find(|(group_uri, _)| *group_uri == uri)
                .map(|(_, group)| format!("{group}:{permission}"))
        })
        .collect();
    labels.sort();
    labels.dedup();
    labels
}

/// The region of a GetBucketLocation answer: empty means us-east-1, the legacy `EU`
/// eu-west-1.
pub fn region_of_location(constraint: Option<&str>) -> String {
    match constraint.map(str::trim) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    }
}

/// What is known of a bucket policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// The call failed.
    Unknown,
    /// NoSuchBucketPolicy: no policy, so not public through one.
    Absent,
    /// GetBucketPolicyStatus's IsPublic (unknown if the answer left it out).
    Present { is_public: Option<bool> },
}

impl Policy {
    pub fn present(&self) -> Option<bool> {
        match self {
            Policy::Unknown => None,
            Policy::Absent => Some(false),
            Policy::Present { .. } => Some(true),
        }
    }

    pub fn is_public(&self) -> Option<bool> {
        match self {
            Policy::Unknown => None,
            Policy::Absent => Some(false),
            Policy::Present { is_public } => *is_public,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: BlockFlags = BlockFlags {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    fn only(pick: fn(&mut BlockFlags)) -> Block {
        let mut flags = BlockFlags::default();
        pick(&mut flags);
        Block::Present(flags)
    }

    #[test]
    fn three_valued_logic() {
        let (t, f, u) = (Some(true), Some(false), None);
        assert_eq!(or(t, u), t);
        assert_eq!(or(u, t), t);
        assert_eq!(or(f, f), f);
        assert_eq!(or(f, u), u);
        assert_eq!(and(f, u), f);
        assert_eq!(and(u, f), f);
        assert_eq!(and(t, t), t);
        assert_eq!(and(t, u), u);
    }

    #[test]
    fn the_account_block_covers_a_bucket_without_its_own_block() {
        let effective = effective(&Block::Absent, &Block::Present(ALL));
        assert_eq!(
            effective,
            Effective {
                block_public_acls: Some(true),
                ignore_public_acls: Some(true),
                block_public_policy: Some(true),
                restrict_public_buckets: Some(true),
            }
        );
        // A public policy and a public ACL are both closed by the account's block.
        assert_eq!(
            publicly_accessible(Some(true), Some(true), &effective),
            Some(false)
        );
    }

    #[test]
    fn each_effective_flag_is_the_bucket_flag_or_the_account_flag() {
        let bucket = only(|f| f.ignore_public_acls = true);
        let account = only(|f| f.restrict_public_buckets = true);
        let e = effective(&bucket, &account);
        assert_eq!(e.block_public_acls, Some(false));
        assert_eq!(e.ignore_public_acls, Some(true));
        assert_eq!(e.block_public_policy, Some(false));
        assert_eq!(e.restrict_public_buckets, Some(true));
        assert_eq!(
            effective(&Block::Present(ALL), &Block::Absent).ignore_public_acls,
            Some(true)
        );
        assert_eq!(
            effective(&Block::Absent, &Block::Absent),
            Effective {
                block_public_acls: Some(false),
                ignore_public_acls: Some(false),
                block_public_policy: Some(false),
                restrict_public_buckets: Some(false),
            }
        );
    }

    #[test]
    fn an_unknown_block_leaves_unset_flags_unknown() {
        let e = effective(&Block::Absent, &Block::Unknown);
        assert_eq!(e.restrict_public_buckets, None);
        // A bucket flag that is set is in effect whatever the account says.
        let e = effective(&only(|f| f.restrict_public_buckets = true), &Block::Unknown);
        assert_eq!(e.restrict_public_buckets, Some(true));
        assert_eq!(e.ignore_public_acls, None);
        assert_eq!(
            publicly_accessible(Some(true), Some(false), &e),
            Some(false)
        );
        assert_eq!(publicly_accessible(Some(false), Some(true), &e), None);
        assert_eq!(
            publicly_accessible(Some(false), Some(false), &e),
            Some(false)
        );
    }

    #[test]
    fn a_public_policy_is_closed_only_by_restrict_public_buckets() {
        let block_policy = effective(&only(|f| f.block_public_policy = true), &Block::Absent);
        assert_eq!(
            publicly_accessible(Some(true), Some(false), &block_policy),
            Some(true),
            "BlockPublicPolicy refuses new public policies, it does not close an existing one"
        );
        let restrict = effective(&only(|f| f.restrict_public_buckets = true), &Block::Absent);
        assert_eq!(
            publicly_accessible(Some(true), Some(false), &restrict),
            Some(false)
        );
        // Restricting the policy does nothing against a public ACL.
        assert_eq!(
            publicly_accessible(Some(false), Some(true), &restrict),
            Some(true)
        );
    }

    #[test]
    fn a_public_acl_is_neutralised_only_by_ignore_public_acls() {
        let block_acls = effective(&only(|f| f.block_public_acls = true), &Block::Absent);
        assert_eq!(
            publicly_accessible(Some(false), Some(true), &block_acls),
            Some(true)
        );
        let ignore = effective(&Block::Absent, &only(|f| f.ignore_public_acls = true));
        assert_eq!(
            publicly_accessible(Some(false), Some(true), &ignore),
            Some(false)
        );
        assert_eq!(
            publicly_accessible(Some(true), Some(true), &ignore),
            Some(true)
        );
    }

    #[test]
    fn unknown_policy_or_acl_makes_public_access_unknown_unless_something_is_public() {
        let none = effective(&Block::Absent, &Block::Absent);
        assert_eq!(publicly_accessible(None, Some(false), &none), None);
        assert_eq!(publicly_accessible(None, Some(true), &none), Some(true));
        assert_eq!(publicly_accessible(Some(false), None, &none), None);
    }

    #[test]
    fn policy_answers() {
        assert_eq!(Policy::Absent.present(), Some(false));
        assert_eq!(Policy::Absent.is_public(), Some(false));
        assert_eq!(
            Policy::Present {
                is_public: Some(true)
            }
            .is_public(),
            Some(true)
        );
        assert_eq!(Policy::Unknown.present(), None);
        assert_eq!(Block::Absent.flags(), Some(BlockFlags::default()));
        assert_eq!(Block::Unknown.present(), None);
    }

    #[test]
    fn only_grants_to_all_users_and_authenticated_users_are_public() {
        let all = "http://acs.amazonaws.com/groups/global/AllUsers";
        let auth = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
        let logs = "http://acs.amazonaws.com/groups/s3/LogDelivery";
        let grants = [
            (None, "FULL_CONTROL"), // the owner, by canonical id
            (Some(auth), "WRITE"),
            (Some(all), "READ"),
            (Some(logs), "WRITE"),
            (Some(all), "READ"),
        ];
        assert_eq!(
            public_grants(grants),
            ["AllUsers:READ", "AuthenticatedUsers:WRITE"]
        );
        assert!(public_grants([(None, "FULL_CONTROL")]).is_empty());
    }

    #[test]
    fn location_constraints_map_to_regions() {
        assert_eq!(region_of_location(None), "us-east-1");
        assert_eq!(region_of_location(Some("")), "us-east-1");
        assert_eq!(region_of_location(Some("EU")), "eu-west-1");
        assert_eq!(region_of_location(Some("eu-west-1")), "eu-west-1");
    }
}
