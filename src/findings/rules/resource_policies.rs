//! Resource policies reviewed for unintended grants: S3 bucket policies and KMS key policies
//! that grant access to anyone, or to an account that is neither this one nor trusted
//! (`--trusted-account`, and the documented policy's `trust.trusted_accounts`).
//!
//! Judged from the documents themselves (`bucket-policies.json`, `key-policies.json`) with
//! `crate::judge::resource_policy`: a grant to `*` restricted by a condition on the caller's
//! account, organization, network or source is not to anyone (an account condition is judged
//! like an account principal); service principals are not judged external by themselves. One
//! finding per resource, every external statement quoted in the detail. A bundle written before
//! these documents existed leaves the rules not evaluated, never passed.

use crate::contract::kms_key_rotation::KeyPolicies;
use crate::contract::resource_policy::ResourcePolicy;
use crate::contract::s3_public_access::BucketPolicies;
use crate::contract::Document;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::judge::resource_policy::{external, grants};
use crate::vocab::Severity;

const S3: &str = crate::contract::s3_public_access::ID;
const KMS: &str = crate::contract::kms_key_rotation::ID;

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "s3-bucket-policy-external",
        title: "S3 bucket policy grants access to anyone or to an untrusted account",
        severity: Severity::High,
        controls: &[Control::Cc6_1, Control::Cc6_6],
        references: &["S3.6"],
        remediation: "Remove the statement, or narrow its principal to the accounts that need \
                      access and add them with --trusted-account (or to the documented \
                      policy's trusted accounts) once approved; restrict grants to `*` with a \
                      condition such as aws:PrincipalOrgID or aws:SourceVpce.",
        needs: Needs::All(&[S3]),
        evaluate: bucket_policies,
    },
    RuleSpec {
        id: "kms-key-policy-external",
        title: "KMS key policy grants access to anyone or to an untrusted account",
        severity: Severity::High,
        controls: &[Control::Cc6_1, Control::Cc6_7],
        references: &["KMS.5"],
        remediation: "Remove the statement from the key policy (`aws kms put-key-policy`), or \
                      narrow it to the accounts that need the key and add them with \
                      --trusted-account once approved; restrict grants to `*` with \
                      kms:CallerAccount or aws:PrincipalOrgID.",
        needs: Needs::All(&[KMS]),
        evaluate: key_policies,
    },
];

/// A bundle written before the policies were collected has no such file: said as it is.
fn present(input: &Input, path: &str, what: &str) -> Result<(), String> {
    if input.root().join(path).exists() {
        Ok(())
    } else {
        Err(format!(
            "{path} is not in this bundle (written before {what} were collected)"
        ))
    }
}

fn bucket_policies(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    present(input, BucketPolicies::PATH, "bucket policies")?;
    let file = input.document::<BucketPolicies>()?;
    judge(input, out, &file.buckets, "bucket", BucketPolicies::PATH);
    Ok(())
}

fn key_policies(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    present(input, KeyPolicies::PATH, "key policies")?;
    let file = input.document::<KeyPolicies>()?;
    judge(input, out, &file.keys, "key", KeyPolicies::PATH);
    Ok(())
}

fn judge(input: &Input, out: &mut Out<'_>, policies: &[ResourcePolicy], what: &str, path: &str) {
    let mut unreadable = Vec::new();
    for policy in policies {
        let Some(document) = &policy.policy else {
            if policy.present {
                unreadable.push(policy.name.clone());
            }
            continue;
        };
        let found: Vec<String> = grants(document)
            .iter()
            .filter_map(|g| {
                external(g, &input.account_id, &input.trusted_accounts)
                    .map(|why| format!("{why}: {}", g.statement))
            })
            .collect();
        if !found.is_empty() {
            let trusted = if input.trusted_accounts.is_empty() {
                "no trusted accounts given".to_string()
            } else {
                format!("trusted: {}", input.trusted_accounts.join(", "))
            };
            out.add(
                &policy.arn,
                &policy.region,
                format!(
                    "the policy of {what} {} ({trusted}): {}",
                    policy.name,
                    found.join("; ")
                ),
                path,
            );
        }
    }
    if !unreadable.is_empty() {
        out.partial(format!(
            "the policies of {} are not JSON and could not be judged",
            unreadable.join(", ")
        ));
    }
}
