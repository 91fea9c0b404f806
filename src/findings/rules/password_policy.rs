//! The account password policy (SPEC section 5): missing, or weaker than CIS 1.8 and 1.9
//! (length, reuse prevention, character classes). Judged from `password-policy.json`; the
//! finding points at the root ARN (the account), region `global`.

use super::root_arn;
use crate::contract::iam_password_policy::PasswordPolicyFile;
use crate::contract::Document;
use crate::controls::Control;
use crate::findings::input::Input;
use crate::findings::{Needs, Out, RuleSpec};
use crate::vocab::Severity;

const PASSWORD_POLICY: &str = PasswordPolicyFile::COLLECTOR;

/// CIS 1.8 and 1.9.
const MIN_PASSWORD_LENGTH: i32 = 14;
const MIN_PASSWORD_REUSE: i32 = 24;

pub(super) static RULES: &[RuleSpec] = &[RuleSpec {
    id: "password-policy",
    title: "Password policy missing or weaker than CIS",
    severity: Severity::Medium,
    controls: &[Control::Cc6_1],
    references: &["CIS 1.8", "CIS 1.9", "IAM.15", "IAM.16"],
    remediation: "Set an account password policy with a minimum length of 14, reuse \
                  prevention of 24 and upper case, lower case, numbers and symbols required: \
                  `aws iam update-account-password-policy --minimum-password-length 14 \
                  --password-reuse-prevention 24 --require-uppercase-characters \
                  --require-lowercase-characters --require-numbers --require-symbols`.",
    needs: Needs::All(&[PASSWORD_POLICY]),
    evaluate: password_policy,
}];

fn password_policy(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let file = input.document::<PasswordPolicyFile>()?;
    // The documented policy's password requirements, when the file states any, are the baseline.
    if let Some(documented) = input.documented.as_ref().and_then(|d| d.password.as_ref()) {
        let configured = file
            .policy_present
            .then(|| configured(file.password_policy.clone().unwrap_or_default()));
        let gaps = crate::findings::documented::password_gaps(documented, configured.as_ref());
        if !gaps.is_empty() {
            let what = if file.policy_present {
                "the password policy does not meet the documented policy"
            } else {
                "no account password policy is set (IAM defaults apply), against the documented policy"
            };
            out.add(
                root_arn(input),
                "global",
                format!(
                    "{what} (baseline: {}): {}",
                    crate::findings::documented::DOCUMENTED_TOML,
                    gaps.join("; ")
                ),
                PasswordPolicyFile::PATH,
            );
        }
        return Ok(());
    }
    if !file.policy_present {
        out.add(
            root_arn(input),
            "global",
            "no account password policy is set (IAM defaults apply: 8 characters, no reuse \
             prevention)",
            PasswordPolicyFile::PATH,
        );
        return Ok(());
    }
    // A policy without its settings requires nothing.
    let policy = file.password_policy.clone().unwrap_or_default();
    let mut gaps = Vec::new();
    let length = policy.minimum_password_length.unwrap_or(0);
    if length < MIN_PASSWORD_LENGTH {
        gaps.push(format!("minimum length {length} (< {MIN_PASSWORD_LENGTH})"));
    }
    let reuse = policy.password_reuse_prevention.unwrap_or(0);
    if reuse < MIN_PASSWORD_REUSE {
        gaps.push(format!("reuse prevention {reuse} (< {MIN_PASSWORD_REUSE})"));
    }
    for (required, what) in [
        (policy.require_uppercase_characters, "upper case"),
        (policy.require_lowercase_characters, "lower case"),
        (policy.require_numbers, "numbers"),
        (policy.require_symbols, "symbols"),
    ] {
        if !required {
            gaps.push(format!("{what} not required"));
        }
    }
    if !gaps.is_empty() {
        out.add(
            root_arn(input),
            "global",
            format!(
                "the password policy is weaker than CIS (baseline: CIS 1.8, 1.9): {}",
                gaps.join(", ")
            ),
            PasswordPolicyFile::PATH,
        );
    }
    Ok(())
}

/// The configured policy as the documented comparison reads it.
pub(crate) fn configured(
    policy: crate::contract::iam_password_policy::PasswordPolicy,
) -> crate::findings::documented::Configured {
    crate::findings::documented::Configured {
        minimum_length: policy.minimum_password_length.map(i64::from),
        require_uppercase: Some(policy.require_uppercase_characters),
        require_lowercase: Some(policy.require_lowercase_characters),
        require_numbers: Some(policy.require_numbers),
        require_symbols: Some(policy.require_symbols),
        reuse_prevention: policy.password_reuse_prevention.map(i64::from),
        max_age_days: policy
            .max_password_age
            .filter(|_| policy.expire_passwords)
            .map(i64::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::iam_password_policy::PasswordPolicy;
    use crate::findings::testkit::Bundle;
    use crate::findings::RuleStatus;
    use crate::vocab::CollectorStatus;

    fn policy(policy: Option<PasswordPolicy>) -> Bundle {
        Bundle::new()
            .document(&PasswordPolicyFile {
                policy_present: policy.is_some(),
                password_policy: policy,
            })
            .collected(PASSWORD_POLICY)
    }

    #[test]
    fn password_policy_missing_weak_and_strong() {
        let hits = policy(None).details("password-policy");
        assert_eq!(hits.len(), 1);
        assert!(hits[0].1.contains("no account password policy"));
        let weak = PasswordPolicy {
            minimum_password_length: Some(8),
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            require_numbers: true,
            require_symbols: false,
            ..PasswordPolicy::default()
        };
        let hits = policy(Some(weak)).details("password-policy");
        assert_eq!(hits.len(), 1);
        for gap in [
            "minimum length 8",
            "reuse prevention 0",
            "symbols not required",
        ] {
            assert!(hits[0].1.contains(gap), "{gap}: {}", hits[0].1);
        }
        assert!(!hits[0].1.contains("numbers"));
        let strong = PasswordPolicy {
            minimum_password_length: Some(14),
            password_reuse_prevention: Some(24),
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            require_numbers: true,
            require_symbols: true,
            ..PasswordPolicy::default()
        };
        assert!(policy(Some(strong)).hits("password-policy").is_empty());
        let (status, _, _) = Bundle::new()
            .global(
                PASSWORD_POLICY,
                CollectorStatus::Failed,
                "GetAccountPasswordPolicy",
            )
            .outcome("password-policy");
        assert_eq!(status, RuleStatus::NotEvaluated);
    }
}
