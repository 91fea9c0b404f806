//! `s3-public-access`: the account's S3 Block Public Access settings, and for every bucket its
//! own block, whether its policy is public, its public ACL grants, the block in effect
//! (bucket OR account) and whether the bucket is publicly accessible.
//!
//! Calls: s3control `GetPublicAccessBlock` (the account's block) and `ListBuckets` (paginated
//! with the largest page) in the home region; `GetBucketLocation` only for buckets the listing
//! gives no `BucketRegion` for; then per bucket, in the bucket's own region and concurrently:
//! `GetPublicAccessBlock`, `GetBucketPolicyStatus` (then `GetBucketPolicy` for a bucket that
//! has a policy), `GetBucketAcl`.
//! NoSuchPublicAccessBlockConfiguration (no block) and NoSuchBucketPolicy (no policy, so not
//! public) are answers, not errors. A call failing for one bucket is recorded with the bucket's
//! region (the home region for GetBucketLocation) and the bucket named in the error message;
//! the other buckets are still read and the collector is partial. Without the account block
//! the collector is partial too; without ListBuckets it fails.
//! Permissions: `s3:GetAccountPublicAccessBlock` (the IAM action of s3control
//! GetPublicAccessBlock), `s3:ListAllMyBuckets`, `s3:GetBucketLocation`,
//! `s3:GetBucketPublicAccessBlock`, `s3:GetBucketPolicyStatus`, `s3:GetBucketPolicy`,
//! `s3:GetBucketAcl`.
//! Controls: CC6.1, CC6.6.
//! Files (their tables declared in `crate::contract::s3_public_access`):
//! - `account-public-access-block.json`: account_id, present, and the four flags (all false
//!   when no block is set). Not written when the call failed (the manifest has the error).
//! - `buckets.csv`: name, region, created, block_present, block_public_acls,
//!   ignore_public_acls, block_public_policy, restrict_public_buckets, policy_present,
//!   policy_is_public, acl_public_grants (`AllUsers:READ;AuthenticatedUsers:WRITE`),
//!   effective_block_public_acls, effective_ignore_public_acls, effective_block_public_policy,
//!   effective_restrict_public_buckets (bucket flag OR account flag), publicly_accessible
//!   (a public policy not restricted by the effective RestrictPublicBuckets, or a public ACL
//!   grant not neutralised by the effective IgnorePublicAcls), failed_calls (operations that
//!   failed for this bucket, `;`-joined). An empty cell means unknown because a call failed.
//! - `buckets.json`: the same per bucket, plus the ACL owner and every grant.
//! - `bucket-policies.json`: every bucket's policy document, decoded (`present` false for a
//!   bucket without one); a bucket whose policy could not be read is left out.
//! - `bucket-policy-grants.csv`: one row per principal of each policy's Allow statements: who
//!   (anyone, an account, a service...), which actions, under which conditions, and whether it
//!   reaches outside the account (`crate::judge::resource_policy`).
//!
//! What the facts come to (the block in effect, public access) is pure logic, in `access`.

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{Bucket, Grant};
use futures_util::StreamExt;
use serde::Serialize;

use super::{rfc3339, Context};
use super::{CollectFuture, CollectorSpec};
use crate::contract::s3_public_access::{
    AccountPublicAccessBlock, BucketPolicies, BucketPolicyGrantRow, BucketRow,
};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::Scope;
use crate::vocab::{CallError, GLOBAL};

use crate::judge::s3_access::{
    effective, public_grants, publicly_accessible, region_of_location, Block, BlockFlags, Policy,
};

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::s3_public_access::ID,
    title: "S3 Block Public Access (account and buckets), public bucket policies and ACLs",
    controls: &[Control::Cc6_1, Control::Cc6_6],
    scope: Scope::Global,
    permissions: &[
        "s3:GetAccountPublicAccessBlock",
        "s3:GetBucketAcl",
        "s3:GetBucketLocation",
        "s3:GetBucketPolicy",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketPublicAccessBlock",
        "s3:ListAllMyBuckets",
    ],
    run,
    optional_permissions: &[],
};

/// The largest page ListBuckets allows (MaxBuckets). Sending MaxBuckets also makes AWS include
/// each bucket's `BucketRegion`, which it leaves out of a request without parameters.
const PAGE_SIZE: i32 = 10_000;

const NO_BLOCK: &str = "NoSuchPublicAccessBlockConfiguration";
const NO_POLICY: &str = "NoSuchBucketPolicy";

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

// ---- Files ----

/// A row of `buckets.csv` with what the JSON adds.
#[derive(Debug, Serialize)]
struct BucketJson {
    #[serde(flatten)]
    row: BucketRow,
    /// The ACL's owner and every grant (`null` when GetBucketAcl failed).
    acl_owner: Option<GranteeJson>,
    acl_grants: Option<Vec<GrantJson>>,
}

#[derive(Debug, Clone, Serialize)]
struct GranteeJson {
    id: Option<String>,
    display_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct GrantJson {
    grantee_type: String,
    grantee_id: Option<String>,
    grantee_uri: Option<String>,
    grantee_display_name: Option<String>,
    grantee_email_address: Option<String>,
    permission: Option<String>,
}

impl GrantJson {
    fn of(grant: &Grant) -> GrantJson {
        let grantee = grant.grantee();
        GrantJson {
            grantee_type: grantee
                .map(|g| g.r#type().as_str().to_string())
                .unwrap_or_default(),
            grantee_id: grantee.and_then(|g| g.id()).map(str::to_string),
            grantee_uri: grantee.and_then(|g| g.uri()).map(str::to_string),
            grantee_display_name: grantee.and_then(|g| g.display_name()).map(str::to_string),
            grantee_email_address: grantee.and_then(|g| g.email_address()).map(str::to_string),
            permission: grant.permission().map(|p| p.as_str().to_string()),
        }
    }
}

// ---- Calls ----

/// A bucket as listed, with its region once known.
#[derive(Debug)]
struct Listed {
    name: String,
    created: String,
    region: Option<String>,
}

impl Listed {
    fn of(bucket: &Bucket) -> Listed {
        Listed {
            name: bucket.name().unwrap_or_default().to_string(),
            created: bucket.creation_date().map(rfc3339).unwrap_or_default(),
            region: bucket
                .bucket_region()
                .filter(|r| !r.is_empty())
                .map(str::to_string),
        }
    }
}

/// What the per-bucket calls told.
#[derive(Debug)]
struct Inspected {
    block: Block,
    policy: Policy,
    /// The policy document as GetBucketPolicy returned it: `Some(None)` when there is none,
    /// `None` when unknown (a call failed).
    policy_document: Option<Option<String>>,
    acl: Option<(Option<GranteeJson>, Vec<GrantJson>)>,
    errors: Vec<CallError>,
}

impl Inspected {
    fn unknown() -> Inspected {
        Inspected {
            block: Block::Unknown,
            policy: Policy::Unknown,
            policy_document: None,
            acl: None,
            errors: Vec::new(),
        }
    }
}

fn bucket_error<E>(
    region: &str,
    bucket: &str,
    operation: &str,
    err: &aws_sdk_s3::error::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut error = CallError::from_sdk(region, operation, err);
    error.message = format!("bucket {bucket}: {}", error.message);
    error
}

fn service_code<E: ProvideErrorMetadata, R>(
    err: &aws_sdk_s3::error::SdkError<E, R>,
) -> Option<&str> {
    err.as_service_error().and_then(|e| e.code())
}

fn flags_of(
    block_public_acls: Option<bool>,
    ignore_public_acls: Option<bool>,
    block_public_policy: Option<bool>,
    restrict_public_buckets: Option<bool>,
) -> BlockFlags {
    BlockFlags {
        block_public_acls: block_public_acls.unwrap_or(false),
        ignore_public_acls: ignore_public_acls.unwrap_or(false),
        block_public_policy: block_public_policy.unwrap_or(false),
        restrict_public_buckets: restrict_public_buckets.unwrap_or(false),
    }
}

async fn account_block(ctx: &Context) -> Result<Block, CallError> {
    let result = ctx
        .clients
        .s3control()
        .get_public_access_block()
        .account_id(&ctx.identity.account_id)
        .send()
        .await;
    match result {
        Ok(output) => Ok(match output.public_access_block_configuration() {
            Some(c) => Block::Present(flags_of(
                c.block_public_acls(),
                c.ignore_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets(),
            )),
            None => Block::Absent,
        }),
        Err(err)
            if err.as_service_error().is_some_and(|e| {
                e.is_no_such_public_access_block_configuration() || e.code() == Some(NO_BLOCK)
            }) =>
        {
            Ok(Block::Absent)
        }
        Err(err) => {
            let mut error = CallError::from_sdk(GLOBAL, "GetPublicAccessBlock", &err);
            error.message = format!(
                "account {} (s3control): {}",
                ctx.identity.account_id, error.message
            );
            Err(error)
        }
    }
}

async fn locate(
    s3: &aws_sdk_s3::Client,
    home: &str,
    mut bucket: Listed,
) -> (Listed, Option<CallError>) {
    if bucket.region.is_some() {
        return (bucket, None);
    }
    match s3.get_bucket_location().bucket(&bucket.name).send().await {
        Ok(output) => {
            bucket.region = Some(region_of_location(
                output.location_constraint().map(|c| c.as_str()),
            ));
            (bucket, None)
        }
        Err(err) => {
            let error = bucket_error(home, &bucket.name, "GetBucketLocation", &err);
            (bucket, Some(error))
        }
    }
}

async fn inspect(s3: &aws_sdk_s3::Client, region: &str, bucket: &str) -> Inspected {
    let block = async {
        match s3.get_public_access_block().bucket(bucket).send().await {
            Ok(output) => Ok(match output.public_access_block_configuration() {
                Some(c) => Block::Present(flags_of(
                    c.block_public_acls(),
                    c.ignore_public_acls(),
                    c.block_public_policy(),
                    c.restrict_public_buckets(),
                )),
                None => Block::Absent,
            }),
            Err(err) if service_code(&err) == Some(NO_BLOCK) => Ok(Block::Absent),
            Err(err) => Err(bucket_error(region, bucket, "GetPublicAccessBlock", &err)),
        }
    };
    // The status first; the document only for a bucket that has a policy.
    let policy = async {
        let status = match s3.get_bucket_policy_status().bucket(bucket).send().await {
            Ok(output) => Ok(Policy::Present {
                is_public: output.policy_status().and_then(|s| s.is_public()),
            }),
            Err(err) if service_code(&err) == Some(NO_POLICY) => Ok(Policy::Absent),
            Err(err) => Err(bucket_error(region, bucket, "GetBucketPolicyStatus", &err)),
        };
        let document = match &status {
            Ok(Policy::Present { .. }) => {
                Some(match s3.get_bucket_policy().bucket(bucket).send().await {
                    Ok(output) => Ok(output.policy().map(str::to_string)),
                    Err(err) if service_code(&err) == Some(NO_POLICY) => Ok(None),
                    Err(err) => Err(bucket_error(region, bucket, "GetBucketPolicy", &err)),
                })
            }
            Ok(_) => Some(Ok(None)),
            Err(_) => None,
        };
        (status, document)
    };
    let acl = async {
        match s3.get_bucket_acl().bucket(bucket).send().await {
            Ok(output) => Ok((
                output.owner().map(|o| GranteeJson {
                    id: o.id().map(str::to_string),
                    display_name: o.display_name().map(str::to_string),
                }),
                output
                    .grants()
                    .iter()
                    .map(GrantJson::of)
                    .collect::<Vec<_>>(),
            )),
            Err(err) => Err(bucket_error(region, bucket, "GetBucketAcl", &err)),
        }
    };
    let (block, policy, acl) = futures_util::future::join3(block, policy, acl).await;
    let mut inspected = Inspected::unknown();
    match block {
        Ok(block) => inspected.block = block,
        Err(e) => inspected.errors.push(e),
    }
    let (status, document) = policy;
    match status {
        Ok(policy) => inspected.policy = policy,
        Err(e) => inspected.errors.push(e),
    }
    match document {
        Some(Ok(document)) => inspected.policy_document = Some(document),
        Some(Err(e)) => inspected.errors.push(e),
        None => {}
    }
    match acl {
        Ok(acl) => inspected.acl = Some(acl),
        Err(e) => inspected.errors.push(e),
    }
    inspected
}

fn bucket_json(
    bucket: Listed,
    inspected: Inspected,
    account: &Block,
    failed: &[&str],
) -> BucketJson {
    let bucket_flags = inspected.block.flags();
    let flag = |pick: fn(&BlockFlags) -> bool| bucket_flags.map(|f| pick(&f));
    let effective = effective(&inspected.block, account);
    let public = inspected.acl.as_ref().map(|(_, grants)| {
        public_grants(grants.iter().map(|g| {
            (
                g.grantee_uri.as_deref(),
                g.permission.as_deref().unwrap_or(""),
            )
        }))
    });
    let policy_is_public = inspected.policy.is_public();
    let acl_is_public = public.as_ref().map(|labels| !labels.is_empty());
    let row = BucketRow {
        name: bucket.name,
        region: bucket.region.unwrap_or_default(),
        created: bucket.created,
        block_present: inspected.block.present(),
        block_public_acls: flag(|f| f.block_public_acls),
        ignore_public_acls: flag(|f| f.ignore_public_acls),
        block_public_policy: flag(|f| f.block_public_policy),
        restrict_public_buckets: flag(|f| f.restrict_public_buckets),
        policy_present: inspected.policy.present(),
        policy_is_public,
        acl_public_grants: public.unwrap_or_default().into(),
        effective_block_public_acls: effective.block_public_acls,
        effective_ignore_public_acls: effective.ignore_public_acls,
        effective_block_public_policy: effective.block_public_policy,
        effective_restrict_public_buckets: effective.restrict_public_buckets,
        publicly_accessible: publicly_accessible(policy_is_public, acl_is_public, &effective),
        failed_calls: failed.iter().copied().collect(),
    };
    let (acl_owner, acl_grants) = match inspected.acl {
        Some((owner, grants)) => (owner, Some(grants)),
        None => (None, None),
    };
    BucketJson {
        row,
        acl_owner,
        acl_grants,
    }
}

/// One S3 client per bucket region, built the first time a bucket of that region comes up.
struct RegionClients<'a> {
    ctx: &'a Context,
    clients: std::sync::Mutex<BTreeMap<String, aws_sdk_s3::Client>>,
}

impl<'a> RegionClients<'a> {
    fn new(ctx: &'a Context, home: &str, s3_home: aws_sdk_s3::Client) -> Self {
        RegionClients {
            ctx,
            clients: std::sync::Mutex::new(BTreeMap::from([(home.to_string(), s3_home)])),
        }
    }

    fn get(&self, region: &str) -> aws_sdk_s3::Client {
        self.clients
            .lock()
            .expect("the client map is never poisoned")
            .entry(region.to_string())
            .or_insert_with(|| self.ctx.clients.s3(region))
            .clone()
    }
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let home = ctx.clients.home_region();
    let s3_home = ctx.clients.s3(&home);
    let listing = async {
        s3_home
            .list_buckets()
            .into_paginator()
            .page_size(PAGE_SIZE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| CallError::from_sdk(&home, "ListBuckets", &e))
    };
    let (account, listed) = futures_util::future::join(account_block(ctx), listing).await;

    let account = match account {
        Ok(block) => {
            let flags = block.flags().unwrap_or_default();
            let file = AccountPublicAccessBlock {
                account_id: ctx.identity.account_id.clone(),
                present: block.present() == Some(true),
                block_public_acls: flags.block_public_acls,
                ignore_public_acls: flags.ignore_public_acls,
                block_public_policy: flags.block_public_policy,
                restrict_public_buckets: flags.restrict_public_buckets,
            };
            out.document(&file, None)?;
            out.note("account_block_present", file.present);
            block
        }
        Err(error) => {
            out.error(error);
            Block::Unknown
        }
    };
    let listed = listed?;

    // Per bucket, one chain: its region (from the listing, else GetBucketLocation), then its
    // three reads in that region. No stage waits for every bucket to finish the one before, so
    // locating some buckets overlaps reading others.
    let clients = RegionClients::new(ctx, &home, s3_home.clone());
    let clients = &clients;
    let s3_home = &s3_home;
    let home = home.as_str();
    let mut results: Vec<(Listed, Inspected)> =
        futures_util::stream::iter(listed.iter().map(Listed::of))
            .map(|bucket| async move {
                let (bucket, location_error) = locate(s3_home, home, bucket).await;
                let mut inspected = match (&bucket.region, location_error) {
                    (Some(region), _) => inspect(&clients.get(region), region, &bucket.name).await,
                    (None, error) => {
                        let mut inspected = Inspected::unknown();
                        inspected.errors.extend(error);
                        inspected
                    }
                };
                inspected
                    .errors
                    .sort_by(|a, b| a.operation.cmp(&b.operation));
                (bucket, inspected)
            })
            .buffer_unordered(ctx.concurrency.max(1))
            .collect()
            .await;
    results.sort_by(|a, b| a.0.name.cmp(&b.0.name));

    let mut docs = Vec::with_capacity(results.len());
    let mut policies = Vec::new();
    for (bucket, mut inspected) in results {
        if let (Some(document), Some(region)) = (inspected.policy_document.take(), &bucket.region) {
            policies.push(super::resource_policy(
                &bucket.name,
                &format!("arn:{}:s3:::{}", ctx.identity.partition, bucket.name),
                region,
                document,
            ));
        }
        let errors = std::mem::take(&mut inspected.errors);
        let failed: Vec<&str> = errors.iter().map(|e| e.operation.as_str()).collect();
        docs.push(bucket_json(bucket, inspected, &account, &failed));
        for error in errors {
            out.error(error);
        }
    }
    out.note("buckets", docs.len());
    out.note(
        "publicly_accessible_buckets",
        docs.iter()
            .filter(|d| d.row.publicly_accessible == Some(true))
            .count(),
    );
    out.table_with_twin(&docs, |d| d.row.clone())?;
    let grants: Vec<BucketPolicyGrantRow> = policies
        .iter()
        .flat_map(|p| super::grant_rows(p, &ctx.identity.account_id))
        .map(BucketPolicyGrantRow)
        .collect();
    out.note(
        "buckets_with_policy",
        policies.iter().filter(|p| p.present).count(),
    );
    out.document(&BucketPolicies { buckets: policies }, None)?;
    out.table(&grants)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_row_joins_its_facts() {
        let grants = vec![GrantJson {
            grantee_type: "Group".into(),
            grantee_id: None,
            grantee_uri: Some("http://acs.amazonaws.com/groups/global/AllUsers".into()),
            grantee_display_name: None,
            grantee_email_address: None,
            permission: Some("READ".into()),
        }];
        let listed = Listed {
            name: "b".into(),
            created: "2026-01-01T00:00:00Z".into(),
            region: Some("eu-west-1".into()),
        };
        let inspected = Inspected {
            block: Block::Absent,
            policy: Policy::Unknown,
            policy_document: None,
            acl: Some((None, grants)),
            errors: Vec::new(),
        };
        let account = Block::Present(BlockFlags {
            ignore_public_acls: true,
            ..BlockFlags::default()
        });
        let doc = bucket_json(listed, inspected, &account, &["GetBucketPolicyStatus"]);
        let row = &doc.row;
        assert_eq!(row.block_present, Some(false));
        assert_eq!(row.block_public_acls, Some(false));
        assert_eq!(row.policy_present, None);
        assert_eq!(row.acl_public_grants.joined(), "AllUsers:READ");
        assert_eq!(row.effective_ignore_public_acls, Some(true));
        // The ACL is neutralised, but the policy could not be read.
        assert_eq!(row.publicly_accessible, None);
        assert_eq!(row.failed_calls.joined(), "GetBucketPolicyStatus");
    }
}
