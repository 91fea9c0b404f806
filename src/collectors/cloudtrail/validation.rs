//! Log file integrity validation, sampled: what `aws cloudtrail validate-logs` does, for the
//! window of `--validation-hours` before the run. For each logging trail with validation
//! enabled, per region whose digests it delivers: the digest keys of each day of the window
//! (ListObjectsV2 with the trail's digest key prefix), each digest (GetObject: gzip, size
//! capped, with its `signature` metadata), CloudTrail's public keys of that region
//! (ListPublicKeys, only when there is a digest to check), then the signatures, the chain and
//! `--validation-sample` log files of each validly signed digest, re-hashed (GetObject,
//! streamed). The checks themselves are pure, in `crate::judge::cloudtrail_digest`.
//!
//! s3:ListBucket, s3:GetObject and cloudtrail:ListPublicKeys are optional permissions: a call
//! refused (AccessDenied) is recorded as the trail's gap (`not_validated` with the refused call
//! in `reason`, the `log_validation_gaps` note, and the call with its operation, region and
//! code in the `log_validation_refused` note), not as a collector error; any other failed
//! call is a collector error too. Neither is ever a pass.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};

use super::Context;
use crate::contract::cloudtrail::{
    ChainLink, DigestCheck, LogFileCheck, LogFileOutcome, SignatureCheck, TrailValidation,
    ValidationRow, ValidationStatus,
};
use crate::judge::cloudtrail_digest as digest;
use crate::vocab::CallError;

/// The most digest keys read per trail and region (a day holds 24, or a few more backfills).
const MAX_KEYS: usize = 5_000;

/// `--validation-hours` and `--validation-sample`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogValidation {
    pub hours: u32,
    pub sample: u32,
}

impl Default for LogValidation {
    fn default() -> Self {
        LogValidation {
            hours: 24,
            sample: 3,
        }
    }
}

/// What the collector knows of a trail when it validates its logs.
#[derive(Debug, Clone)]
pub struct Trail {
    pub arn: String,
    pub name: String,
    pub home_region: String,
    pub bucket: String,
    pub key_prefix: String,
    pub organization_trail: bool,
    pub validation_enabled: Option<bool>,
    pub logging: Option<bool>,
    /// The regions whose digests to read.
    pub regions: Vec<String>,
    /// The bucket's region, or why it is unknown.
    pub bucket_region: Result<String, String>,
}

/// A call that did not give its answer: refused (an optional permission missing) or failed.
#[derive(Debug)]
enum Gap {
    Refused(CallError),
    Failed(CallError),
}

impl Gap {
    fn of<E>(region: &str, operation: &str, what: &str, err: &SdkError<E, HttpResponse>) -> Gap
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut error = CallError::from_sdk(region, operation, err);
        error.message = format!("{what}: {}", error.message);
        if is_refusal(&error.code) {
            Gap::Refused(error)
        } else {
            Gap::Failed(error)
        }
    }

    fn error(&self) -> &CallError {
        match self {
            Gap::Refused(e) | Gap::Failed(e) => e,
        }
    }

    fn describe(&self) -> String {
        let e = self.error();
        let how = match self {
            Gap::Refused(_) => "refused",
            Gap::Failed(_) => "failed",
        };
        format!(
            "{} {how} ({}): {}: {}",
            e.operation, e.region, e.code, e.message
        )
    }
}

fn is_refusal(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "Forbidden" | "Http403"
    )
}

/// Validates every trail, one after the other (each fans out within the concurrency bound).
/// Returns the records, the calls that failed, and the calls refused for want of an optional
/// permission (recorded in the manifest's notes, not as errors).
pub async fn validate_all(
    ctx: &Context,
    trails: &[Trail],
    now: DateTime<Utc>,
) -> (Vec<TrailValidation>, Vec<CallError>, Vec<CallError>) {
    let settings = ctx.settings.log_validation;
    let start = now - chrono::Duration::hours(i64::from(settings.hours));
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut refused = Vec::new();
    for trail in trails {
        let mut gaps = Vec::new();
        let mut record =
            validate(ctx, trail, start, now, settings.sample as usize, &mut gaps).await;
        if !gaps.is_empty() {
            let reasons: Vec<String> = gaps.iter().map(Gap::describe).collect();
            if record.row.status != ValidationStatus::Failed {
                record.row.status = ValidationStatus::NotValidated;
            }
            record.row.reason = reasons.join("; ");
        }
        for gap in gaps {
            match gap {
                Gap::Failed(error) => errors.push(error),
                Gap::Refused(error) => refused.push(error),
            }
        }
        records.push(record);
    }
    (records, errors, refused)
}

/// A time as the manifest note writes it.
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

async fn validate(
    ctx: &Context,
    trail: &Trail,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    sample: usize,
    gaps: &mut Vec<Gap>,
) -> TrailValidation {
    let mut row = ValidationRow {
        trail_arn: trail.arn.clone(),
        trail_name: trail.name.clone(),
        home_region: trail.home_region.clone(),
        bucket: trail.bucket.clone(),
        window_hours: ctx.settings.log_validation.hours,
        ..ValidationRow::default()
    };
    let not = |mut row: ValidationRow, status: ValidationStatus, reason: String| {
        row.status = status;
        row.reason = reason;
        TrailValidation {
            row,
            digests: Vec::new(),
        }
    };
    match (trail.validation_enabled, trail.logging) {
        (Some(false), _) => {
            return not(
                row,
                ValidationStatus::NotApplicable,
                "log file validation is disabled".into(),
            )
        }
        (_, Some(false)) => {
            return not(
                row,
                ValidationStatus::NotApplicable,
                "the trail is not logging: no digest is due".into(),
            )
        }
        (None, _) | (_, None) => {
            return not(
                row,
                ValidationStatus::NotValidated,
                "whether the trail logs with validation enabled is unknown (GetTrailStatus failed)"
                    .into(),
            )
        }
        (Some(true), Some(true)) => {}
    }
    if trail.bucket.is_empty() {
        return not(
            row,
            ValidationStatus::NotValidated,
            "the trail names no S3 bucket".into(),
        );
    }
    let bucket_region = match &trail.bucket_region {
        Ok(region) => region.clone(),
        Err(why) => {
            return not(
                row,
                ValidationStatus::NotValidated,
                format!("the bucket's region is unknown: {why}"),
            )
        }
    };
    let s3 = ctx.clients.s3(&bucket_region);
    let account = trail.arn.split(':').nth(4).unwrap_or_default().to_string();

    let organization = if trail.organization_trail {
        match organization_folder(&s3, &bucket_region, trail).await {
            Ok(Some(org)) => Some(org),
            Ok(None) => {
                return not(
                    row,
                    ValidationStatus::NoDigests,
                    "no organization folder (AWSLogs/o-...) in the bucket".into(),
                )
            }
            Err(gap) => {
                gaps.push(gap);
                return not(row, ValidationStatus::NotValidated, String::new());
            }
        }
    } else {
        None
    };

    // The digest keys of the window, per region.
    row.regions = trail.regions.clone().into();
    let mut listed: Vec<(String, String, DateTime<Utc>, bool)> = Vec::new();
    for region in &trail.regions {
        for day in digest::days(start, end) {
            let prefix = digest::digest_day_prefix(
                &trail.key_prefix,
                organization.as_deref(),
                &account,
                region,
                day,
                &trail.name,
                &trail.home_region,
            );
            match list_keys(&s3, &bucket_region, &trail.bucket, &prefix).await {
                Ok(keys) => {
                    for key in keys {
                        if let Some((time, backfill)) = digest::key_time(&key) {
                            if time >= start && time <= end {
                                listed.push((region.clone(), key, time, backfill));
                            }
                        }
                    }
                }
                Err(gap) => {
                    gaps.push(gap);
                    return not(row, ValidationStatus::NotValidated, String::new());
                }
            }
        }
    }
    if listed.is_empty() {
        return not(
            row,
            ValidationStatus::NoDigests,
            format!(
                "no digest file of the trail in s3://{} in the window",
                trail.bucket
            ),
        );
    }
    listed.sort_by(|a, b| (&a.0, a.2, &a.1).cmp(&(&b.0, b.2, &b.1)));

    // The public keys of each region with digests.
    let regions: BTreeSet<String> = listed.iter().map(|l| l.0.clone()).collect();
    let mut keys: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    for region in &regions {
        match public_keys(ctx, region, start, end).await {
            Ok(found) => {
                keys.insert(region.clone(), found);
            }
            Err(gap) => gaps.push(gap),
        }
    }

    // Every digest, read and checked.
    let fetched: Vec<Fetched> = stream::iter(listed.iter().cloned())
        .map(|(region, key, _, backfill)| {
            let s3 = &s3;
            let bucket = trail.bucket.clone();
            let bucket_region = bucket_region.clone();
            async move { fetch_digest(s3, &bucket_region, &bucket, region, key, backfill).await }
        })
        .buffered(ctx.concurrency.max(1))
        .collect()
        .await;
    let mut checks = Vec::new();
    let mut links = Vec::new();
    let mut parsed = Vec::new();
    for fetched in fetched {
        let (check, link, digest_file) = judge_digest(fetched, &trail.bucket, &keys, gaps);
        checks.push(check);
        links.push(link);
        parsed.push(digest_file);
    }

    // The chain, per region (backfill digests are not part of it).
    let mut missing_digests = Vec::new();
    for region in &regions {
        let idx: Vec<usize> = (0..listed.len())
            .filter(|&i| checks[i].region == *region && !listed[i].3)
            .collect();
        let region_links: Vec<digest::Link> = idx.iter().map(|&i| links[i].clone()).collect();
        let (outcomes, missing) = digest::chain(&region_links, start);
        for (&i, (link, why)) in idx.iter().zip(outcomes) {
            checks[i].chain = link;
            if !why.is_empty() && link != ChainLink::Start {
                append(&mut checks[i].detail, &why);
            }
        }
        for (name, named_by) in missing {
            let key = name
                .strip_prefix(&format!("s3://{}/", trail.bucket))
                .unwrap_or(&name)
                .to_string();
            missing_digests.push(DigestCheck {
                region: region.clone(),
                bucket: trail.bucket.clone(),
                key,
                digest_start_time: None,
                digest_end_time: None,
                public_key_fingerprint: None,
                signature_algorithm: None,
                signature: SignatureCheck::Missing,
                previous_key: None,
                chain: ChainLink::Unknown,
                log_files_listed: 0,
                log_files: Vec::new(),
                detail: format!("named as the previous digest by {named_by}, not in the bucket"),
            });
        }
    }
    for check in missing_digests {
        checks.push(check);
        parsed.push(None);
    }

    // A sample of each validly signed digest's log files, re-hashed.
    for (check, digest_file) in checks.iter_mut().zip(&parsed) {
        let Some(digest_file) = digest_file else {
            continue;
        };
        check.log_files_listed = digest_file.log_files.len() as u64;
        if check.signature != SignatureCheck::Valid {
            continue;
        }
        let picked: Vec<digest::LogFileEntry> = digest::sample(digest_file.log_files.len(), sample)
            .into_iter()
            .map(|i| digest_file.log_files[i].clone())
            .collect();
        let s3 = &s3;
        let bucket_region = bucket_region.as_str();
        check.log_files = stream::iter(picked)
            .map(|entry| async move { rehash(s3, bucket_region, entry).await })
            .buffered(ctx.concurrency.max(1))
            .collect::<Vec<(LogFileCheck, Option<Gap>)>>()
            .await
            .into_iter()
            .map(|(file, gap)| {
                gaps.extend(gap);
                file
            })
            .collect();
    }

    summarize(&mut row, &checks);
    TrailValidation {
        row,
        digests: checks,
    }
}

fn append(detail: &mut String, more: &str) {
    if !detail.is_empty() {
        detail.push_str("; ");
    }
    detail.push_str(more);
}

/// The counts, the status and the problems of a trail from its digests.
fn summarize(row: &mut ValidationRow, checks: &[DigestCheck]) {
    let mut problems = Vec::new();
    let mut chain_unbroken = true;
    let mut unchecked = false;
    for check in checks {
        let name = format!("s3://{}/{}", check.bucket, check.key);
        match check.signature {
            SignatureCheck::Valid => {
                row.digests_checked += 1;
                row.signatures_valid += 1;
            }
            SignatureCheck::Invalid | SignatureCheck::NoPublicKey | SignatureCheck::Unsigned => {
                row.digests_checked += 1;
                row.signatures_invalid += 1;
                problems.push(format!("{name}: {}", check.detail));
            }
            SignatureCheck::Unreadable => {
                row.digests_checked += 1;
                row.digests_unreadable += 1;
                problems.push(format!("{name}: {}", check.detail));
            }
            SignatureCheck::Missing => {
                row.digests_missing += 1;
                chain_unbroken = false;
                problems.push(format!("{name}: missing ({})", check.detail));
            }
            SignatureCheck::NotChecked => unchecked = true,
        }
        match check.chain {
            ChainLink::PreviousMismatch => {
                chain_unbroken = false;
                problems.push(format!("{name}: {}", check.detail));
            }
            ChainLink::PreviousMissing => chain_unbroken = false,
            _ => {}
        }
        row.log_files_listed += if check.signature == SignatureCheck::Valid {
            check.log_files_listed
        } else {
            0
        };
        for file in &check.log_files {
            let file_name = format!("s3://{}/{}", file.bucket, file.key);
            match file.outcome {
                LogFileOutcome::Matching => {
                    row.log_files_rehashed += 1;
                    row.log_files_matching += 1;
                }
                LogFileOutcome::Mismatching => {
                    row.log_files_rehashed += 1;
                    row.log_files_mismatching += 1;
                    problems.push(format!("{file_name}: {}", file.detail));
                }
                LogFileOutcome::Missing => {
                    row.log_files_missing += 1;
                    problems.push(format!("{file_name}: {}", file.detail));
                }
                LogFileOutcome::Unreadable => {
                    row.log_files_rehashed += 1;
                    row.log_files_mismatching += 1;
                    problems.push(format!("{file_name}: {}", file.detail));
                }
                LogFileOutcome::NotChecked => unchecked = true,
            }
        }
    }
    row.chain_unbroken = (!checks.is_empty()).then_some(chain_unbroken);
    row.status = if !problems.is_empty() {
        ValidationStatus::Failed
    } else if unchecked {
        ValidationStatus::NotValidated
    } else {
        ValidationStatus::Validated
    };
    row.problems = problems.into();
}

/// The organization folder (`o-...`) under `[prefix/]AWSLogs/` of an organization trail.
async fn organization_folder(
    s3: &aws_sdk_s3::Client,
    region: &str,
    trail: &Trail,
) -> Result<Option<String>, Gap> {
    let prefix = match trail.key_prefix.trim_end_matches('/') {
        "" => "AWSLogs/".to_string(),
        p => format!("{p}/AWSLogs/"),
    };
    let output = s3
        .list_objects_v2()
        .bucket(&trail.bucket)
        .prefix(&prefix)
        .delimiter("/")
        .send()
        .await
        .map_err(|e| {
            Gap::of(
                region,
                "ListObjectsV2",
                &format!("s3://{}/{prefix}", trail.bucket),
                &e,
            )
        })?;
    Ok(output
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .filter_map(|p| p.strip_prefix(&prefix))
        .map(|p| p.trim_end_matches('/'))
        .find(|p| p.starts_with("o-"))
        .map(str::to_string))
}

/// Every key under `prefix`, paginated, up to [`MAX_KEYS`].
async fn list_keys(
    s3: &aws_sdk_s3::Client,
    region: &str,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, Gap> {
    let mut keys = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            Gap::of(
                region,
                "ListObjectsV2",
                &format!("s3://{bucket}/{prefix}"),
                &e,
            )
        })?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_string),
        );
        if keys.len() >= MAX_KEYS {
            keys.truncate(MAX_KEYS);
            break;
        }
    }
    Ok(keys)
}

/// CloudTrail's public keys of `region` valid in the window, by fingerprint.
async fn public_keys(
    ctx: &Context,
    region: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<BTreeMap<String, Vec<u8>>, Gap> {
    let client = ctx.clients.cloudtrail(region);
    let mut keys = BTreeMap::new();
    let mut pages = client
        .list_public_keys()
        .start_time(aws_smithy_types::DateTime::from_secs(
            (start - chrono::Duration::hours(1)).timestamp(),
        ))
        .end_time(aws_smithy_types::DateTime::from_secs(end.timestamp()))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Gap::of(region, "ListPublicKeys", "public keys", &e))?;
        for key in page.public_key_list() {
            if let (Some(fingerprint), Some(value)) = (key.fingerprint(), key.value()) {
                keys.insert(fingerprint.to_string(), value.as_ref().to_vec());
            }
        }
        if keys.len() > 1_000 {
            break;
        }
    }
    Ok(keys)
}

/// A digest's stored bytes with its `signature` and `signature-algorithm` metadata.
type Stored = (Vec<u8>, Option<String>, Option<String>);

/// One digest as read from the bucket.
struct Fetched {
    region: String,
    key: String,
    /// What was read, or why not.
    result: Result<Stored, FetchFailure>,
}

enum FetchFailure {
    /// Not in the bucket (any more).
    Missing,
    /// Too large: not read.
    TooLarge(u64),
    Gap(Gap),
}

async fn fetch_digest(
    s3: &aws_sdk_s3::Client,
    region: &str,
    bucket: &str,
    digest_region: String,
    key: String,
    _backfill: bool,
) -> Fetched {
    let what = format!("s3://{bucket}/{key}");
    let result = async {
        let output = match s3.get_object().bucket(bucket).key(&key).send().await {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Err(FetchFailure::Missing)
            }
            Err(e) => return Err(FetchFailure::Gap(Gap::of(region, "GetObject", &what, &e))),
        };
        if output
            .content_length()
            .is_some_and(|n| n as u64 > digest::MAX_DIGEST_BYTES)
        {
            return Err(FetchFailure::TooLarge(digest::MAX_DIGEST_BYTES));
        }
        let metadata = output.metadata().cloned().unwrap_or_default();
        let mut body = output.body;
        let mut bytes = Vec::new();
        loop {
            match body.try_next().await {
                Ok(Some(chunk)) => {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() as u64 > digest::MAX_DIGEST_BYTES {
                        return Err(FetchFailure::TooLarge(digest::MAX_DIGEST_BYTES));
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let error = CallError {
                        region: region.to_string(),
                        operation: "GetObject".into(),
                        code: "ReadFailure".into(),
                        message: format!("{what}: the body could not be read: {e}"),
                    };
                    return Err(FetchFailure::Gap(Gap::Failed(error)));
                }
            }
        }
        let find = |name: &str| {
            metadata
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        Ok((bytes, find("signature"), find("signature-algorithm")))
    }
    .await;
    Fetched {
        region: digest_region,
        key,
        result,
    }
}

/// A read digest checked: its record, its link for the chain, and its parsed content when
/// readable.
fn judge_digest(
    fetched: Fetched,
    bucket: &str,
    keys: &BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    gaps: &mut Vec<Gap>,
) -> (DigestCheck, digest::Link, Option<digest::DigestFile>) {
    let mut check = DigestCheck {
        region: fetched.region.clone(),
        bucket: bucket.to_string(),
        key: fetched.key.clone(),
        digest_start_time: None,
        digest_end_time: None,
        public_key_fingerprint: None,
        signature_algorithm: None,
        signature: SignatureCheck::NotChecked,
        previous_key: None,
        chain: ChainLink::Unknown,
        log_files_listed: 0,
        log_files: Vec::new(),
        detail: String::new(),
    };
    let mut link = digest::Link {
        bucket: bucket.to_string(),
        key: fetched.key.clone(),
        signature: None,
        sha256: None,
        previous: None,
    };
    let (stored, signature, algorithm) = match fetched.result {
        Ok(found) => found,
        Err(FetchFailure::Missing) => {
            check.signature = SignatureCheck::Missing;
            check.detail = "listed, then not found (NoSuchKey)".into();
            return (check, link, None);
        }
        Err(FetchFailure::TooLarge(limit)) => {
            check.signature = SignatureCheck::Unreadable;
            check.detail = format!("larger than the {limit} bytes read");
            return (check, link, None);
        }
        Err(FetchFailure::Gap(gap)) => {
            check.detail = gap.describe();
            gaps.push(gap);
            return (check, link, None);
        }
    };
    check.signature_algorithm = algorithm.clone();
    link.signature = signature.clone();
    let (inflated, file) = match digest::read_digest(&stored) {
        Ok(read) => read,
        Err(e) => {
            check.signature = SignatureCheck::Unreadable;
            check.detail = e.to_string();
            return (check, link, None);
        }
    };
    link.sha256 = Some(digest::sha256_hex(&inflated));
    link.previous = Some(digest::Previous::of(&file));
    check.digest_start_time = Some(file.digest_start_time.clone());
    check.digest_end_time = Some(file.digest_end_time.clone());
    check.public_key_fingerprint = Some(file.digest_public_key_fingerprint.clone());
    check.previous_key = file.previous_digest_s3_object.clone();
    if file.digest_s3_bucket != bucket || file.digest_s3_object != fetched.key {
        check.signature = SignatureCheck::Unreadable;
        check.detail = format!(
            "moved from its original location s3://{}/{}",
            file.digest_s3_bucket, file.digest_s3_object
        );
        return (check, link, None);
    }
    let Some(signature) = signature else {
        check.signature = SignatureCheck::Unsigned;
        check.detail = "the object has no signature metadata".into();
        return (check, link, Some(file));
    };
    if algorithm.as_deref() != Some(digest::SIGNATURE_ALGORITHM) {
        check.signature = SignatureCheck::Unsigned;
        check.detail = format!(
            "signature-algorithm {:?} is not {}",
            algorithm.unwrap_or_default(),
            digest::SIGNATURE_ALGORITHM
        );
        return (check, link, Some(file));
    }
    let Some(region_keys) = keys.get(&fetched.region) else {
        // ListPublicKeys of the region was refused or failed (recorded as a gap).
        check.detail = "not checked: the region's public keys could not be read".into();
        return (check, link, Some(file));
    };
    let Some(der) = region_keys.get(&file.digest_public_key_fingerprint) else {
        check.signature = SignatureCheck::NoPublicKey;
        check.detail = format!(
            "no public key of {} has the fingerprint {}",
            fetched.region, file.digest_public_key_fingerprint
        );
        return (check, link, Some(file));
    };
    let verified = digest::public_key(der).and_then(|key| {
        digest::verify(&key, &digest::signing_string(&file, &inflated), &signature)
    });
    match verified {
        Ok(()) => check.signature = SignatureCheck::Valid,
        Err(why) => {
            check.signature = SignatureCheck::Invalid;
            check.detail = why;
        }
    }
    (check, link, Some(file))
}

/// Re-hashes one log file a digest lists.
async fn rehash(
    s3: &aws_sdk_s3::Client,
    region: &str,
    entry: digest::LogFileEntry,
) -> (LogFileCheck, Option<Gap>) {
    let mut check = LogFileCheck {
        bucket: entry.s3_bucket.clone(),
        key: entry.s3_object.clone(),
        expected_sha256: entry.hash_value.clone(),
        actual_sha256: None,
        outcome: LogFileOutcome::NotChecked,
        detail: String::new(),
    };
    let algorithm = entry
        .hash_algorithm
        .as_deref()
        .unwrap_or(digest::HASH_ALGORITHM);
    if algorithm != digest::HASH_ALGORITHM {
        check.outcome = LogFileOutcome::Unreadable;
        check.detail = format!(
            "hash algorithm {algorithm:?} is not {}",
            digest::HASH_ALGORITHM
        );
        return (check, None);
    }
    let what = format!("s3://{}/{}", entry.s3_bucket, entry.s3_object);
    let output = match s3
        .get_object()
        .bucket(&entry.s3_bucket)
        .key(&entry.s3_object)
        .send()
        .await
    {
        Ok(output) => output,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
            check.outcome = LogFileOutcome::Missing;
            check.detail = "listed by a validly signed digest, not in the bucket".into();
            return (check, None);
        }
        Err(e) => {
            let gap = Gap::of(region, "GetObject", &what, &e);
            check.detail = gap.describe();
            return (check, Some(gap));
        }
    };
    let mut body = output.body;
    let mut hasher = digest::LogHasher::new();
    loop {
        match body.try_next().await {
            Ok(Some(chunk)) => {
                if let Err(e) = hasher.update(&chunk) {
                    check.outcome = LogFileOutcome::Unreadable;
                    check.detail = e.to_string();
                    return (check, None);
                }
            }
            Ok(None) => break,
            Err(e) => {
                let error = CallError {
                    region: region.to_string(),
                    operation: "GetObject".into(),
                    code: "ReadFailure".into(),
                    message: format!("{what}: the body could not be read: {e}"),
                };
                check.detail = format!("the body could not be read: {e}");
                return (check, Some(Gap::Failed(error)));
            }
        }
    }
    match hasher.finish() {
        Ok(actual) => {
            if actual.eq_ignore_ascii_case(entry.hash_value.trim()) {
                check.outcome = LogFileOutcome::Matching;
            } else {
                check.outcome = LogFileOutcome::Mismatching;
                check.detail = format!(
                    "SHA-256 {actual} differs from the digest's {}",
                    entry.hash_value
                );
            }
            check.actual_sha256 = Some(actual);
        }
        Err(e) => {
            check.outcome = LogFileOutcome::Unreadable;
            check.detail = e.to_string();
        }
    }
    (check, None)
}
