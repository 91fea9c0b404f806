//! S3 public access: the account's Block Public Access, public buckets, buckets without a full
//! block. Read from the `s3-public-access` collector's `account-public-access-block.json` and
//! `buckets.csv`.
//!
//! A bucket row with `failed_calls` is skipped whole (its facts are incomplete), as is a bucket
//! of a region that was not read. The bucket rules judge from the block in effect, worked out
//! again from the recorded blocks (the bucket's flag OR the account's, `judge::s3_access`), not
//! from the collector's `effective_*` columns; an unknown setting in effect (the account block
//! could not be read) may be on, so only a setting known to be off is a gap.

use super::{account_arn, and_list};
use crate::contract::s3_public_access::{AccountPublicAccessBlock, BucketRow};
use crate::contract::{Document, Table};
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::judge::s3_access::{effective, Block, Effective};
use crate::vocab::Severity;

const S3: &str = crate::contract::s3_public_access::ID;

const CONTROLS: &[Control] = &[Control::Cc6_1, Control::Cc6_6];

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "s3-account-public-access-block",
        title: "Account-level S3 Block Public Access missing or incomplete",
        severity: Severity::Medium,
        controls: CONTROLS,
        references: &["CIS 2.1.4", "S3.1"],
        remediation: "Turn on all four settings for the account: `aws s3control \
                      put-public-access-block --account-id ACCOUNT \
                      --public-access-block-configuration BlockPublicAcls=true,\
                      IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true`.",
        needs: Needs::All(&[S3]),
        evaluate: s3_account_public_access_block,
    },
    RuleSpec {
        id: "s3-bucket-public",
        title: "S3 bucket publicly accessible",
        severity: Severity::Critical,
        controls: CONTROLS,
        references: &["S3.2", "S3.3"],
        remediation: "Remove the public statements of the bucket policy and the AllUsers and \
                      AuthenticatedUsers ACL grants, or turn on Block Public Access for the \
                      bucket; serve content meant to be public through CloudFront with origin \
                      access control.",
        needs: Needs::All(&[S3]),
        evaluate: s3_bucket_public,
    },
    RuleSpec {
        id: "s3-bucket-public-access-block",
        title: "S3 bucket without a full Block Public Access",
        severity: Severity::Medium,
        controls: CONTROLS,
        references: &["S3.8"],
        remediation: "Turn on all four Block Public Access settings for the bucket (`aws s3api \
                      put-public-access-block --bucket BUCKET`) or for the whole account.",
        needs: Needs::All(&[S3]),
        evaluate: s3_bucket_public_access_block,
    },
];

/// The four Block Public Access settings of the account's block, as AWS names them.
fn account_flags(block: &AccountPublicAccessBlock) -> [(bool, &'static str); 4] {
    [
        (block.block_public_acls, "BlockPublicAcls"),
        (block.ignore_public_acls, "IgnorePublicAcls"),
        (block.block_public_policy, "BlockPublicPolicy"),
        (block.restrict_public_buckets, "RestrictPublicBuckets"),
    ]
}

/// The four settings of a bucket's own block (`None`: unknown), as AWS names them.
fn bucket_flags(bucket: &BucketRow) -> [(Option<bool>, &'static str); 4] {
    [
        (bucket.block_public_acls, "BlockPublicAcls"),
        (bucket.ignore_public_acls, "IgnorePublicAcls"),
        (bucket.block_public_policy, "BlockPublicPolicy"),
        (bucket.restrict_public_buckets, "RestrictPublicBuckets"),
    ]
}

/// The four settings in effect for a bucket (its own OR the account's), as AWS names them.
fn effective_flags(effective: &Effective) -> [(Option<bool>, &'static str); 4] {
    [
        (effective.block_public_acls, "BlockPublicAcls"),
        (effective.ignore_public_acls, "IgnorePublicAcls"),
        (effective.block_public_policy, "BlockPublicPolicy"),
        (effective.restrict_public_buckets, "RestrictPublicBuckets"),
    ]
}

/// The account's block as recorded: unknown when its file is absent (the call failed).
fn account_block(input: &Input) -> Result<Block, String> {
    if !input.exists(AccountPublicAccessBlock::PATH) {
        return Ok(Block::of_account(None));
    }
    let document = input.document::<AccountPublicAccessBlock>()?;
    Ok(Block::of_account(Some(&document)))
}

fn s3_account_public_access_block(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let path = AccountPublicAccessBlock::PATH;
    if !input.exists(path) {
        return Err(format!(
            "{path} is absent: the account's public access block could not be read \
             (s3control GetPublicAccessBlock failed, see the collector's errors)"
        ));
    }
    let block = input.document::<AccountPublicAccessBlock>()?;
    let detail = if !block.present {
        "The account has no S3 Block Public Access configuration.".to_string()
    } else {
        let off: Vec<String> = account_flags(&block)
            .into_iter()
            .filter(|(on, _)| !on)
            .map(|(_, name)| name.to_string())
            .collect();
        if off.is_empty() {
            return Ok(());
        }
        format!(
            "The account's S3 Block Public Access leaves {} off.",
            and_list(&off)
        )
    };
    out.add(account_arn(input), "global", detail, path);
    Ok(())
}

/// The bucket rows whose facts are complete, in regions that were read, each with the block in
/// effect for it.
pub(super) fn buckets(input: &Input) -> Result<Vec<(BucketRow, Effective)>, String> {
    let rows = input.table::<BucketRow>()?;
    let account = account_block(input)?;
    Ok(rows
        .into_iter()
        .filter(|row| row.failed_calls.is_empty())
        .filter(|row| input.region_collected(S3, &row.region))
        .map(|row| {
            let in_effect = effective(&Block::of_bucket(&row), &account);
            (row, in_effect)
        })
        .collect())
}

fn bucket_region(row: &BucketRow) -> &str {
    match row.region.as_str() {
        "" => "global",
        region => region,
    }
}

/// How a bucket is publicly accessible given the block in effect (empty: it is not).
pub(super) fn public_ways(bucket: &BucketRow, in_effect: &Effective) -> Vec<String> {
    let mut how = Vec::new();
    if bucket.policy_is_public == Some(true) && in_effect.restrict_public_buckets == Some(false) {
        how.push(
            "its bucket policy is public and RestrictPublicBuckets is off for the bucket \
             and the account"
                .to_string(),
        );
    }
    let grants = &bucket.acl_public_grants;
    if !grants.is_empty() && in_effect.ignore_public_acls == Some(false) {
        how.push(format!(
            "its ACL grants {} and IgnorePublicAcls is off for the bucket and the account",
            grants.iter().collect::<Vec<_>>().join(", ")
        ));
    }
    how
}

fn s3_bucket_public(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for (bucket, in_effect) in buckets(input)? {
        let how = public_ways(&bucket, &in_effect);
        if how.is_empty() {
            continue;
        }
        let name = &bucket.name;
        out.add(
            format!("arn:{}:s3:::{name}", input.partition),
            bucket_region(&bucket),
            format!("Bucket {name} is publicly accessible: {}.", how.join("; ")),
            BucketRow::PATH,
        );
    }
    Ok(())
}

fn s3_bucket_public_access_block(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for (bucket, in_effect) in buckets(input)? {
        let own = match bucket.block_present {
            None => continue,
            Some(false) => None,
            Some(true) => Some(
                bucket_flags(&bucket)
                    .into_iter()
                    .filter(|(on, _)| *on == Some(false))
                    .map(|(_, name)| name.to_string())
                    .collect::<Vec<_>>(),
            ),
        };
        if own.as_ref().is_some_and(Vec::is_empty) {
            continue;
        }
        // The account block covers the bucket when every setting is on in effect.
        // An unknown effective setting (the account block could not be read and the bucket's
        // own is off) may be on: only a setting known to be off is a gap.
        let effective_off: Vec<String> = effective_flags(&in_effect)
            .into_iter()
            .filter(|(on, _)| *on == Some(false))
            .map(|(_, name)| name.to_string())
            .collect();
        if effective_off.is_empty() {
            continue;
        }
        let name = &bucket.name;
        let own = match own {
            None => format!("Bucket {name} has no public access block of its own"),
            Some(off) => format!(
                "Bucket {name}'s public access block leaves {} off",
                and_list(&off)
            ),
        };
        out.add(
            format!("arn:{}:s3:::{name}", input.partition),
            bucket_region(&bucket),
            format!(
                "{own}, and the account block does not cover it: {} in effect.",
                if effective_off.len() == 1 {
                    format!("{} is off", effective_off[0])
                } else {
                    format!("{} are off", and_list(&effective_off))
                }
            ),
            BucketRow::PATH,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testkit::{pair, Bundle, EAST, WEST};
    use crate::findings::RuleStatus;
    use crate::vocab::CollectorStatus;

    fn account_block(present: bool, flags: [bool; 4]) -> AccountPublicAccessBlock {
        AccountPublicAccessBlock {
            account_id: "123456789012".into(),
            present,
            block_public_acls: flags[0],
            ignore_public_acls: flags[1],
            block_public_policy: flags[2],
            restrict_public_buckets: flags[3],
        }
    }

    fn s3_bundle(account: Option<AccountPublicAccessBlock>, buckets: &[BucketRow]) -> Bundle {
        let bundle = Bundle::new().table(buckets);
        match account {
            Some(block) => bundle.document(&block).collected(S3),
            None => bundle.state(S3, CollectorStatus::Partial, &[]),
        }
    }

    /// A bucket row from its facts: the bucket's own block (present, then four flags), the
    /// policy (public), the public ACL grants, and the four flags in effect.
    fn bucket(
        name: &str,
        region: &str,
        own: (Option<bool>, [Option<bool>; 4]),
        policy_is_public: Option<bool>,
        grants: &[&str],
        effective: [Option<bool>; 4],
    ) -> BucketRow {
        let (block_present, flags) = own;
        BucketRow {
            name: name.into(),
            region: region.into(),
            block_present,
            block_public_acls: flags[0],
            ignore_public_acls: flags[1],
            block_public_policy: flags[2],
            restrict_public_buckets: flags[3],
            policy_present: policy_is_public,
            policy_is_public,
            acl_public_grants: grants.iter().copied().collect(),
            effective_block_public_acls: effective[0],
            effective_ignore_public_acls: effective[1],
            effective_block_public_policy: effective[2],
            effective_restrict_public_buckets: effective[3],
            ..BucketRow::default()
        }
    }

    const T: Option<bool> = Some(true);
    const F: Option<bool> = Some(false);
    const NONE: (Option<bool>, [Option<bool>; 4]) = (F, [F, F, F, F]);

    #[test]
    fn s3_account_block_missing_or_incomplete() {
        let root = "arn:aws:iam::123456789012:root";
        let bundle = s3_bundle(Some(account_block(false, [false; 4])), &[]);
        let (_, _, found) = bundle.outcome("s3-account-public-access-block");
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].resource.as_str(), found[0].region.as_str()),
            (root, "global")
        );
        assert!(found[0].detail.contains("no S3 Block Public Access"));
        assert_eq!(found[0].evidence, AccountPublicAccessBlock::PATH);

        let bundle = s3_bundle(Some(account_block(true, [true, false, true, false])), &[]);
        let (_, _, found) = bundle.outcome("s3-account-public-access-block");
        assert!(found[0]
            .detail
            .contains("leaves IgnorePublicAcls and RestrictPublicBuckets off"));

        let bundle = s3_bundle(Some(account_block(true, [true; 4])), &[]);
        assert!(bundle.hits("s3-account-public-access-block").is_empty());

        // The s3control call failed: the file is absent and the rule is not evaluated.
        let bundle = s3_bundle(None, &[]);
        let (status, reason, found) = bundle.outcome("s3-account-public-access-block");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("GetPublicAccessBlock"), "{reason}");
        assert!(found.is_empty());
    }

    #[test]
    fn the_block_in_effect_is_judged_from_the_recorded_blocks_not_the_effective_columns() {
        // The columns claim every setting is on in effect; the blocks say none is.
        let claimed_on = bucket("open", EAST, NONE, T, &["AllUsers:READ"], [T, T, T, T]);
        let bundle = s3_bundle(Some(account_block(false, [false; 4])), &[claimed_on]);
        assert_eq!(
            bundle.hits("s3-bucket-public"),
            [pair("arn:aws:s3:::open", EAST)]
        );
        assert_eq!(
            bundle.hits("s3-bucket-public-access-block"),
            [pair("arn:aws:s3:::open", EAST)]
        );
        // The columns claim every setting is off; the account block turns them all on.
        let claimed_off = bucket("covered", EAST, NONE, T, &["AllUsers:READ"], [F, F, F, F]);
        let bundle = s3_bundle(Some(account_block(true, [true; 4])), &[claimed_off]);
        assert!(bundle.hits("s3-bucket-public").is_empty());
        assert!(bundle.hits("s3-bucket-public-access-block").is_empty());
    }

    #[test]
    fn s3_bucket_public_unless_the_effective_block_neutralises_it() {
        let bundle = s3_bundle(
            Some(account_block(true, [true, false, false, false])),
            &[
                // A public policy, not restricted: public.
                bucket("policy", EAST, NONE, T, &[], [T, F, F, F]),
                // A public policy restricted by the bucket's own block: not public.
                bucket("restricted", EAST, (T, [F, F, F, T]), T, &[], [T, F, F, T]),
                // A public ACL, not ignored: public.
                bucket("acl", WEST, NONE, F, &["AllUsers:READ"], [T, F, F, F]),
                // A public ACL ignored: not public.
                bucket(
                    "ignored",
                    WEST,
                    (T, [F, T, F, F]),
                    F,
                    &["AllUsers:READ"],
                    [T, T, F, F],
                ),
                // Facts incomplete: skipped.
                BucketRow {
                    failed_calls: ["GetBucketPolicyStatus"].into_iter().collect(),
                    ..bucket(
                        "partial",
                        EAST,
                        NONE,
                        None,
                        &["AllUsers:READ"],
                        [T, F, F, F],
                    )
                },
            ],
        );
        // Critical findings sort by region: eu-west-1 first.
        assert_eq!(
            bundle.hits("s3-bucket-public"),
            [
                pair("arn:aws:s3:::acl", WEST),
                pair("arn:aws:s3:::policy", EAST)
            ]
        );
        let (_, _, found) = bundle.outcome("s3-bucket-public");
        assert!(found[0].detail.contains("AllUsers:READ"));
        assert!(found[1].detail.contains("its bucket policy is public"));
        assert_eq!(found[0].severity, Severity::Critical);
    }

    #[test]
    fn s3_bucket_block_needed_unless_the_account_block_covers_the_bucket() {
        // The account block has all four settings: a bucket without its own is covered.
        let bundle = s3_bundle(
            Some(account_block(true, [true; 4])),
            &[bucket("bare", EAST, NONE, F, &[], [T, T, T, T])],
        );
        assert!(bundle.hits("s3-bucket-public-access-block").is_empty());

        let bundle = s3_bundle(
            Some(account_block(true, [true, false, false, false])),
            &[
                bucket("bare", EAST, NONE, F, &[], [T, F, F, F]),
                bucket("half", WEST, (T, [T, T, F, F]), F, &[], [T, T, F, F]),
                bucket("full", WEST, (T, [T, T, T, T]), F, &[], [T, T, T, T]),
            ],
        );
        let (_, _, found) = bundle.outcome("s3-bucket-public-access-block");
        let resources: Vec<&str> = found.iter().map(|f| f.resource.as_str()).collect();
        // By region: eu-west-1 first.
        assert_eq!(resources, ["arn:aws:s3:::half", "arn:aws:s3:::bare"]);
        assert!(found[1]
            .detail
            .contains("no public access block of its own"));
        assert!(found[0]
            .detail
            .contains("leaves BlockPublicPolicy and RestrictPublicBuckets off"));
        assert!(found[0]
            .detail
            .contains("BlockPublicPolicy and RestrictPublicBuckets are off in effect"));
        assert!(found[1]
            .detail
            .contains("IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets are off"));
    }
}
