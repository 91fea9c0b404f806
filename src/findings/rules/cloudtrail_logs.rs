//! The CloudTrail logs themselves: the trails' S3 log buckets (public, MFA delete, default
//! encryption) and the sampled log file integrity validation. Read from the `cloudtrail`
//! collector's `trail-buckets.csv` and `trail-validation.csv` (and, for public access, the
//! `s3-public-access` collector's `buckets.csv`, judged as `s3-bucket-public` judges it).
//!
//! - One finding per bucket, naming every trail that writes to it.
//! - A bucket or trail whose facts are unknown (a call failed or was refused, or the bucket
//!   is another account's) is never a pass: the rule is partial, saying which and why.
//! - `cloudtrail-log-validation-failed` reports a trail whose digests or sampled log files do
//!   not hold (an invalid signature, a missing digest, a broken chain, a changed or missing log
//!   file), and a logging trail with validation enabled that has no digest in the window (unless
//!   it started logging less than two hours before the run: no digest is due yet).

use std::collections::BTreeMap;

use super::and_list;
use super::s3::{buckets, public_ways};
use crate::contract::cell::parse_time;
use crate::contract::cloudtrail::{TrailBucketRow, TrailRow, ValidationRow, ValidationStatus};
use crate::contract::s3_public_access::BucketRow;
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::vocab::Severity;

const CLOUDTRAIL: &str = crate::contract::cloudtrail::ID;
const S3: &str = crate::contract::s3_public_access::ID;

const CONTROLS: &[Control] = &[Control::Cc7_2, Control::Cc7_3];

/// A trail that started logging this recently has no digest due yet.
const FIRST_DIGEST_HOURS: i64 = 2;

/// How many problems a finding's detail quotes (the rest are in the evidence file).
const QUOTED_PROBLEMS: usize = 5;

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "cloudtrail-bucket-public",
        title: "CloudTrail log bucket publicly accessible",
        severity: Severity::Critical,
        controls: CONTROLS,
        references: &["CloudTrail.6"],
        remediation: "Remove the public statements of the log bucket's policy and its AllUsers \
                      and AuthenticatedUsers ACL grants, and turn on all four Block Public \
                      Access settings for the bucket (`aws s3api put-public-access-block \
                      --bucket BUCKET`).",
        needs: Needs::All(&[CLOUDTRAIL, S3]),
        evaluate: cloudtrail_bucket_public,
    },
    RuleSpec {
        id: "cloudtrail-bucket-no-mfa-delete",
        title: "CloudTrail log bucket without MFA delete",
        severity: Severity::Low,
        controls: CONTROLS,
        references: &["CIS 2.1.2", "S3.20"],
        remediation: "As the root user with its MFA device, enable versioning with MFA delete: \
                      `aws s3api put-bucket-versioning --bucket BUCKET \
                      --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa \
                      \"arn:aws:iam::ACCOUNT:mfa/root-account-mfa-device CODE\"`.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_bucket_no_mfa_delete,
    },
    RuleSpec {
        id: "cloudtrail-bucket-unencrypted",
        title: "CloudTrail log bucket without default encryption",
        severity: Severity::Medium,
        controls: CONTROLS,
        references: &[],
        remediation: "Set default encryption on the log bucket, preferably SSE-KMS with a \
                      customer managed key: `aws s3api put-bucket-encryption --bucket BUCKET \
                      --server-side-encryption-configuration '{\"Rules\": \
                      [{\"ApplyServerSideEncryptionByDefault\": {\"SSEAlgorithm\": \"aws:kms\", \
                      \"KMSMasterKeyID\": \"KEY\"}}]}'`.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_bucket_unencrypted,
    },
    RuleSpec {
        id: "cloudtrail-log-validation-failed",
        title: "CloudTrail log file validation failed",
        severity: Severity::High,
        controls: CONTROLS,
        references: &[],
        remediation: "Find out who changed or deleted the files named (S3 server access logs, \
                      CloudTrail data events on the bucket), restore them from a copy or \
                      version, protect the bucket (versioning with MFA delete, Object Lock, a \
                      bucket policy denying deletes), and check again with `aws cloudtrail \
                      validate-logs --trail-arn TRAIL --start-time START`.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_log_validation_failed,
    },
];

/// The log buckets, each with the rows of the trails writing to it.
fn by_bucket(input: &Input) -> Result<BTreeMap<String, Vec<TrailBucketRow>>, String> {
    let mut buckets: BTreeMap<String, Vec<TrailBucketRow>> = BTreeMap::new();
    for row in input.table::<TrailBucketRow>()? {
        buckets.entry(row.bucket.clone()).or_default().push(row);
    }
    Ok(buckets)
}

/// `log bucket of trail a` / `log bucket of trails a and b`.
fn trails_of(rows: &[TrailBucketRow]) -> String {
    let mut names: Vec<String> = rows.iter().map(|r| r.trail_name.clone()).collect();
    names.sort();
    names.dedup();
    let plural = if names.len() == 1 { "" } else { "s" };
    format!("log bucket of trail{plural} {}", and_list(&names))
}

fn bucket_arn(input: &Input, bucket: &str) -> String {
    format!("arn:{}:s3:::{bucket}", input.partition)
}

fn bucket_region(rows: &[TrailBucketRow]) -> String {
    match rows[0].bucket_region.as_str() {
        "" => "global".to_string(),
        region => region.to_string(),
    }
}

/// Why a bucket's fact is unknown: its failed calls and errors.
fn unknown(bucket: &str, rows: &[TrailBucketRow], what: &str) -> String {
    let error = rows[0].error.trim();
    let why = if error.is_empty() {
        "its call failed".to_string()
    } else {
        error.to_string()
    };
    format!("bucket {bucket}: {what} unknown ({why})")
}

fn cloudtrail_bucket_public(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let judged = buckets(input)?;
    let listed = input.table::<BucketRow>()?;
    for (bucket, rows) in by_bucket(input)? {
        match judged.iter().find(|(row, _)| row.name == bucket) {
            Some((row, in_effect)) => {
                let how = public_ways(row, in_effect);
                if !how.is_empty() {
                    out.add(
                        bucket_arn(input, &bucket),
                        bucket_region(&rows),
                        format!(
                            "Bucket {bucket} ({}) is publicly accessible: {}.",
                            trails_of(&rows),
                            how.join("; ")
                        ),
                        BucketRow::PATH,
                    );
                }
            }
            None if listed.iter().any(|row| row.name == bucket) => out.partial(format!(
                "bucket {bucket}: its public access facts are incomplete in {}",
                BucketRow::PATH
            )),
            None => out.partial(format!(
                "bucket {bucket} is not among the account's buckets in {} (another account's \
                 bucket?): its public access was not judged",
                BucketRow::PATH
            )),
        }
    }
    Ok(())
}

fn cloudtrail_bucket_no_mfa_delete(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for (bucket, rows) in by_bucket(input)? {
        match rows[0].mfa_delete {
            Some(true) => {}
            Some(false) => {
                let versioning = match rows[0].versioning.as_str() {
                    "Enabled" => "versioning is enabled but MFA delete is not".to_string(),
                    "Suspended" => "versioning is suspended and MFA delete off".to_string(),
                    _ => "versioning and MFA delete are off".to_string(),
                };
                out.add(
                    bucket_arn(input, &bucket),
                    bucket_region(&rows),
                    format!(
                        "Bucket {bucket} ({}): {versioning}, so log files and their versions \
                         can be deleted without a second factor.",
                        trails_of(&rows)
                    ),
                    TrailBucketRow::PATH,
                );
            }
            None => out.partial(unknown(&bucket, &rows, "MFA delete")),
        }
    }
    Ok(())
}

fn cloudtrail_bucket_unencrypted(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for (bucket, rows) in by_bucket(input)? {
        match rows[0].default_encryption.as_str() {
            "" => out.partial(unknown(&bucket, &rows, "default encryption")),
            "none" => out.add(
                bucket_arn(input, &bucket),
                bucket_region(&rows),
                format!(
                    "Bucket {bucket} ({}) has no default encryption \
                     (ServerSideEncryptionConfigurationNotFoundError).",
                    trails_of(&rows)
                ),
                TrailBucketRow::PATH,
            ),
            _ => {}
        }
    }
    Ok(())
}

/// The problems of a trail for a detail: the first few, and how many more.
fn quoted(problems: &[String]) -> String {
    let mut shown: Vec<String> = problems.iter().take(QUOTED_PROBLEMS).cloned().collect();
    if problems.len() > QUOTED_PROBLEMS {
        shown.push(format!(
            "and {} more (see {})",
            problems.len() - QUOTED_PROBLEMS,
            ValidationRow::PATH
        ));
    }
    shown.join("; ")
}

fn cloudtrail_log_validation_failed(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let rows = input.table::<ValidationRow>()?;
    let trails = input.table::<TrailRow>()?;
    let mut gaps = Vec::new();
    let mut judged = 0;
    for row in &rows {
        let label = format!("Trail {} (home region {})", row.trail_name, row.home_region);
        let window = format!("the {} hours before the run", row.window_hours);
        match row.status {
            ValidationStatus::Validated => judged += 1,
            ValidationStatus::NotApplicable => {}
            ValidationStatus::NotValidated => gaps.push(format!(
                "trail {}: log files not validated: {}",
                row.trail_name, row.reason
            )),
            ValidationStatus::Failed => {
                judged += 1;
                let problems: Vec<String> = row.problems.iter().map(str::to_string).collect();
                out.add(
                    row.trail_arn.as_str(),
                    row.home_region.as_str(),
                    format!(
                        "{label}: log file validation of {window} failed ({} of {} digests \
                         validly signed, {} missing, chain {}; {} of {} sampled log files \
                         matching): {}.",
                        row.signatures_valid,
                        row.digests_checked,
                        row.digests_missing,
                        match row.chain_unbroken {
                            Some(true) => "unbroken",
                            Some(false) => "broken",
                            None => "not checked",
                        },
                        row.log_files_matching,
                        row.log_files_rehashed + row.log_files_missing,
                        quoted(&problems)
                    ),
                    ValidationRow::PATH,
                );
            }
            ValidationStatus::NoDigests => {
                judged += 1;
                let started = trails
                    .iter()
                    .find(|t| t.trail_arn == row.trail_arn)
                    .and_then(|t| parse_time(&t.start_logging_time));
                if started
                    .is_some_and(|t| input.now - t < chrono::Duration::hours(FIRST_DIGEST_HOURS))
                {
                    continue;
                }
                out.add(
                    row.trail_arn.as_str(),
                    row.home_region.as_str(),
                    format!(
                        "{label} logs with log file validation enabled, but no digest file \
                         lies in s3://{} for {window}: the integrity of its logs cannot be \
                         shown.",
                        row.bucket
                    ),
                    ValidationRow::PATH,
                );
            }
        }
    }
    if judged == 0 && !gaps.is_empty() {
        return Err(gaps.join("; "));
    }
    for gap in gaps {
        out.partial(gap);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::s3_public_access::AccountPublicAccessBlock;
    use crate::findings::testkit::{pair, Bundle, EAST};
    use crate::findings::RuleStatus;

    fn bucket_row(
        trail: &str,
        bucket: &str,
        mfa: Option<bool>,
        encryption: &str,
    ) -> TrailBucketRow {
        TrailBucketRow {
            trail_arn: format!("arn:aws:cloudtrail:{EAST}:123456789012:trail/{trail}"),
            trail_name: trail.into(),
            home_region: EAST.into(),
            bucket: bucket.into(),
            bucket_region: if mfa.is_some() {
                EAST.into()
            } else {
                String::new()
            },
            versioning: if mfa.is_some() {
                "Enabled".into()
            } else {
                String::new()
            },
            mfa_delete: mfa,
            default_encryption: encryption.into(),
            error: if mfa.is_none() {
                "GetBucketLocation: AccessDenied: bucket x: denied".into()
            } else {
                String::new()
            },
            ..TrailBucketRow::default()
        }
    }

    #[test]
    fn mfa_delete_and_encryption_per_bucket_never_passing_the_unknown() {
        let bundle = Bundle::new()
            .table(&[
                bucket_row("org", "shared-logs", Some(false), "none"),
                bucket_row("app", "shared-logs", Some(false), "none"),
                bucket_row("safe", "safe-logs", Some(true), "aws:kms"),
                bucket_row("other", "foreign-logs", None, ""),
            ])
            .collected(CLOUDTRAIL);
        for rule in [
            "cloudtrail-bucket-no-mfa-delete",
            "cloudtrail-bucket-unencrypted",
        ] {
            let (status, reason, found) = bundle.outcome(rule);
            assert_eq!(status, RuleStatus::Partial, "{rule}");
            assert!(
                reason.contains("foreign-logs") && reason.contains("AccessDenied"),
                "{reason}"
            );
            assert_eq!(found.len(), 1, "{rule}: one finding per bucket");
            assert_eq!(
                (found[0].resource.as_str(), found[0].region.as_str()),
                ("arn:aws:s3:::shared-logs", EAST)
            );
            assert!(
                found[0].detail.contains("trails app and org"),
                "{}",
                found[0].detail
            );
        }
    }

    fn s3_bucket(name: &str, public_policy: bool) -> BucketRow {
        BucketRow {
            name: name.into(),
            region: EAST.into(),
            block_present: Some(false),
            policy_present: Some(public_policy),
            policy_is_public: Some(public_policy),
            ..BucketRow::default()
        }
    }

    #[test]
    fn a_public_log_bucket_is_judged_from_the_s3_evidence() {
        let trails = [
            bucket_row("org", "open-logs", Some(true), "AES256"),
            bucket_row("app", "closed-logs", Some(true), "AES256"),
        ];
        let account = AccountPublicAccessBlock {
            account_id: "123456789012".into(),
            present: false,
            ..AccountPublicAccessBlock::default()
        };
        let bundle = Bundle::new()
            .table(&trails)
            .table(&[
                s3_bucket("open-logs", true),
                s3_bucket("closed-logs", false),
            ])
            .document(&account)
            .collected(CLOUDTRAIL)
            .collected(S3);
        assert_eq!(
            bundle.hits("cloudtrail-bucket-public"),
            [pair("arn:aws:s3:::open-logs", EAST)]
        );
        let (status, _, _) = bundle.outcome("cloudtrail-bucket-public");
        assert_eq!(status, RuleStatus::Evaluated);

        // A log bucket of another account is not in the S3 evidence: partial, not a pass.
        let bundle = Bundle::new()
            .table(&[bucket_row("org", "elsewhere", Some(true), "AES256")])
            .table(&[s3_bucket("open-logs", true)])
            .document(&account)
            .collected(CLOUDTRAIL)
            .collected(S3);
        let (status, reason, found) = bundle.outcome("cloudtrail-bucket-public");
        assert_eq!(status, RuleStatus::Partial);
        assert!(reason.contains("elsewhere"), "{reason}");
        assert!(found.is_empty());

        // Without the S3 collector: not evaluated.
        let bundle = Bundle::new().table(&trails).collected(CLOUDTRAIL);
        let (status, _, _) = bundle.outcome("cloudtrail-bucket-public");
        assert_eq!(status, RuleStatus::NotEvaluated);
    }

    fn validation(trail: &str, status: ValidationStatus, problems: &[&str]) -> ValidationRow {
        ValidationRow {
            trail_arn: format!("arn:aws:cloudtrail:{EAST}:123456789012:trail/{trail}"),
            trail_name: trail.into(),
            home_region: EAST.into(),
            bucket: "logs".into(),
            status,
            reason: if status == ValidationStatus::NotValidated {
                "GetObject refused (us-east-1): AccessDenied: denied".into()
            } else {
                String::new()
            },
            window_hours: 24,
            digests_checked: 3,
            signatures_valid: 2,
            chain_unbroken: Some(false),
            problems: problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .into(),
            ..ValidationRow::default()
        }
    }

    fn trail(name: &str, started: &str) -> TrailRow {
        TrailRow {
            trail_arn: format!("arn:aws:cloudtrail:{EAST}:123456789012:trail/{name}"),
            name: name.into(),
            home_region: EAST.into(),
            start_logging_time: started.into(),
            ..TrailRow::default()
        }
    }

    #[test]
    fn validation_failures_and_missing_digests_are_findings_and_gaps_are_not_passes() {
        let rows = [
            validation("good", ValidationStatus::Validated, &[]),
            validation("off", ValidationStatus::NotApplicable, &[]),
            validation(
                "bad",
                ValidationStatus::Failed,
                &["s3://logs/d1: the signature does not verify"],
            ),
            validation("quiet", ValidationStatus::NoDigests, &[]),
            validation("new", ValidationStatus::NoDigests, &[]),
            validation("denied", ValidationStatus::NotValidated, &[]),
        ];
        let trails = [
            trail("quiet", "2026-11-01T00:00:00Z"),
            trail("new", "2026-11-22T07:30:00Z"),
        ];
        let bundle = Bundle::new()
            .table(&rows)
            .table(&trails)
            .collected(CLOUDTRAIL);
        let (status, reason, found) = bundle.outcome("cloudtrail-log-validation-failed");
        assert_eq!(status, RuleStatus::Partial);
        assert!(
            reason.contains("denied") && reason.contains("GetObject"),
            "{reason}"
        );
        let names: Vec<&str> = found
            .iter()
            .map(|f| f.resource.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(names, ["bad", "quiet"]);
        assert!(found[0].detail.contains("signature does not verify"));
        assert!(found[0].detail.contains("chain broken"));
        assert!(found[1].detail.contains("no digest file"));

        // Nothing could be validated: not evaluated, with the reason.
        let bundle = Bundle::new()
            .table(&[validation("denied", ValidationStatus::NotValidated, &[])])
            .table(&trails)
            .collected(CLOUDTRAIL);
        let (status, reason, _) = bundle.outcome("cloudtrail-log-validation-failed");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("AccessDenied"), "{reason}");
    }

    #[test]
    fn long_problem_lists_are_cut_in_the_detail() {
        let problems: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
        let text = quoted(&problems);
        assert!(text.starts_with("p0; p1; p2; p3; p4; and 3 more"), "{text}");
    }
}
