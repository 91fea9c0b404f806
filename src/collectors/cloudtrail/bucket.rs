//! The trails' S3 log buckets: where each lies and how it is protected (versioning and MFA
//! delete, default encryption, server access logging), each call in the bucket's own region.
//! Whether the bucket is public is judged by the rule from the `s3-public-access` evidence.

use std::collections::BTreeMap;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use super::Context;
use crate::judge::s3_access::region_of_location;
use crate::vocab::CallError;

const NO_ENCRYPTION: &str = "ServerSideEncryptionConfigurationNotFoundError";

/// What the calls told of one bucket; `None` where the call failed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BucketFacts {
    pub region: Option<String>,
    /// `Enabled`, `Suspended` or `Off`.
    pub versioning: Option<String>,
    pub mfa_delete: Option<bool>,
    /// Every default encryption rule: (SSE algorithm, KMS key, bucket key enabled); empty: none.
    pub encryption: Option<Vec<EncryptionRule>>,
    /// The access log target `s3://bucket/prefix`, `Some(None)` when logging is off.
    pub logging: Option<Option<String>>,
    #[serde(skip)]
    pub errors: Vec<CallError>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EncryptionRule {
    pub sse_algorithm: String,
    pub kms_master_key_id: Option<String>,
    pub bucket_key_enabled: Option<bool>,
}

fn bucket_error<E>(
    region: &str,
    bucket: &str,
    operation: &str,
    err: &SdkError<E, HttpResponse>,
) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut error = CallError::from_sdk(region, operation, err);
    error.message = format!("bucket {bucket}: {}", error.message);
    error
}

/// Reads every bucket of `buckets` (name -> the home region of a trail writing to it), with
/// at most `ctx.concurrency` buckets at once.
pub async fn inspect_all(
    ctx: &Context,
    buckets: BTreeMap<String, String>,
) -> BTreeMap<String, BucketFacts> {
    stream::iter(buckets)
        .map(|(bucket, home)| async move {
            let facts = inspect(ctx, &bucket, &home).await;
            (bucket, facts)
        })
        .buffer_unordered(ctx.concurrency.max(1))
        .collect()
        .await
}

async fn inspect(ctx: &Context, bucket: &str, home: &str) -> BucketFacts {
    let mut facts = BucketFacts::default();
    let located = ctx
        .clients
        .s3(home)
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await;
    let region = match located {
        Ok(output) => region_of_location(output.location_constraint().map(|c| c.as_str())),
        Err(err) => {
            // Another account's bucket, or one the caller may not read: every fact unknown.
            facts
                .errors
                .push(bucket_error(home, bucket, "GetBucketLocation", &err));
            return facts;
        }
    };
    facts.region = Some(region.clone());
    let s3 = ctx.clients.s3(&region);
    let (versioning, encryption, logging) = tokio::join!(
        s3.get_bucket_versioning().bucket(bucket).send(),
        s3.get_bucket_encryption().bucket(bucket).send(),
        s3.get_bucket_logging().bucket(bucket).send(),
    );
    match versioning {
        Ok(output) => {
            facts.versioning = Some(output.status().map_or("Off", |s| s.as_str()).to_string());
            facts.mfa_delete = Some(
                output
                    .mfa_delete()
                    .is_some_and(|m| m.as_str().eq_ignore_ascii_case("Enabled")),
            );
        }
        Err(err) => match lenient_versioning(&err) {
            Some((status, mfa_delete)) => {
                facts.versioning = Some(status);
                facts.mfa_delete = Some(mfa_delete);
            }
            None => facts
                .errors
                .push(bucket_error(&region, bucket, "GetBucketVersioning", &err)),
        },
    }
    match encryption {
        Ok(output) => {
            let rules = output
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default();
            facts.encryption = Some(
                rules
                    .iter()
                    .filter_map(|rule| {
                        let default = rule.apply_server_side_encryption_by_default()?;
                        Some(EncryptionRule {
                            sse_algorithm: default.sse_algorithm().as_str().to_string(),
                            kms_master_key_id: default.kms_master_key_id().map(str::to_string),
                            bucket_key_enabled: rule.bucket_key_enabled(),
                        })
                    })
                    .collect(),
            );
        }
        Err(err) if err.as_service_error().and_then(|e| e.code()) == Some(NO_ENCRYPTION) => {
            facts.encryption = Some(Vec::new());
        }
        Err(err) => facts
            .errors
            .push(bucket_error(&region, bucket, "GetBucketEncryption", &err)),
    }
    match logging {
        Ok(output) => {
            facts.logging = Some(
                output
                    .logging_enabled()
                    .map(|l| format!("s3://{}/{}", l.target_bucket(), l.target_prefix())),
            );
        }
        Err(err) => facts
            .errors
            .push(bucket_error(&region, bucket, "GetBucketLogging", &err)),
    }
    facts
}

/// moto (the emulator the tests use) answers GetBucketVersioning under the root element
/// `GetBucketVersioningResponse` instead of `VersioningConfiguration` (SPEC section 9), which
/// the SDK refuses to parse. Such an answer, and only such an answer, is read by its `Status`
/// and `MfaDelete` elements: (status, MFA delete).
fn lenient_versioning<E>(err: &SdkError<E, HttpResponse>) -> Option<(String, bool)> {
    let raw = err.raw_response()?;
    if raw.status().as_u16() != 200 {
        return None;
    }
    let body = std::str::from_utf8(raw.body().bytes()?).ok()?;
    let root = body
        .trim_start()
        .strip_prefix("<?xml")
        .and_then(|rest| rest.split_once("?>"))
        .map_or(body.trim_start(), |(_, rest)| rest.trim_start());
    if !root.starts_with("<GetBucketVersioningResponse") {
        return None;
    }
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = root.find(&open)? + open.len();
        let end = root[start..].find('<')? + start;
        Some(root[start..end].trim().to_string())
    };
    let status = match element("Status").as_deref() {
        Some("Enabled") => "Enabled",
        Some("Suspended") => "Suspended",
        Some(_) => return None,
        None => "Off",
    };
    let mfa_delete = element("MfaDelete").is_some_and(|m| m == "Enabled");
    Some((status.to_string(), mfa_delete))
}
