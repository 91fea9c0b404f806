//! IAM users' credentials (SPEC section 5): console users without MFA, passwords and access keys
//! unused beyond the inactivity threshold, active keys older than the rotation threshold, users
//! with two active keys. Judged from the credential report's user rows (not root's).
//!
//! Ages are counted to the run's start (`Input::now`), never to the wall clock, so a bundle
//! always gives the same findings; a credential never used is aged from when it was set.
//! Findings point at the user's ARN, region `global`.

use super::{date, unused_days, ACCESS, REPORT};
use crate::contract::iam_credential_report::ReportRow;
use crate::contract::Table;
use crate::findings::input::{days_between, Input};
use crate::findings::{Needs, Out, RuleSpec};
use crate::vocab::Severity;

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "user-console-no-mfa",
        title: "Console user without MFA",
        severity: Severity::High,
        controls: ACCESS,
        references: &["CIS 1.10", "IAM.5"],
        remediation: "Have the user enable an MFA device, or remove the console password if the \
                      user does not need the console; enforce MFA with a policy that denies \
                      actions when aws:MultiFactorAuthPresent is false.",
        needs: Needs::All(&[REPORT]),
        evaluate: user_console_no_mfa,
    },
    RuleSpec {
        id: "credentials-unused",
        title: "Password or access key unused beyond the inactivity threshold",
        severity: Severity::Medium,
        controls: ACCESS,
        references: &["CIS 1.12", "IAM.8"],
        remediation: "Remove the unused console password (`aws iam delete-login-profile`) or \
                      deactivate and delete the unused access key; remove the user if it is no \
                      longer needed.",
        needs: Needs::All(&[REPORT]),
        evaluate: credentials_unused,
    },
    RuleSpec {
        id: "access-key-age",
        title: "Active access key older than the rotation threshold",
        severity: Severity::Medium,
        controls: ACCESS,
        references: &["CIS 1.14", "IAM.3"],
        remediation: "Rotate the key: create a second key, move its users to it, deactivate the \
                      old key and delete it once nothing fails; better, replace long-lived keys \
                      with roles.",
        needs: Needs::All(&[REPORT]),
        evaluate: access_key_age,
    },
    RuleSpec {
        id: "two-active-keys",
        title: "User with two active access keys",
        severity: Severity::Low,
        controls: ACCESS,
        references: &["CIS 1.13"],
        remediation: "Keep one active access key per user: deactivate and delete the one no \
                      longer in use (outside a planned rotation).",
        needs: Needs::All(&[REPORT]),
        evaluate: two_active_keys,
    },
];

/// The report's rows for IAM users (without the root row).
fn users(input: &Input) -> Result<Vec<ReportRow>, String> {
    Ok(input
        .table::<ReportRow>()?
        .into_iter()
        .filter(|r| !r.is_root())
        .collect())
}

fn user_console_no_mfa(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for user in users(input)? {
        if user.password_enabled && !user.mfa_active {
            out.add(
                &user.arn,
                "global",
                format!("{} has a console password and no MFA device", user.user),
                ReportRow::PATH,
            );
        }
    }
    Ok(())
}

fn credentials_unused(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let limit = i64::from(input.thresholds.user_inactive_days);
    let label = input.limit_label(
        input.documented.as_ref().and_then(|d| d.user_inactive_days),
        input.thresholds.user_inactive_days,
    );
    for user in users(input)? {
        let created = user.created_time();
        let mut unused = Vec::new();
        if user.password_enabled {
            let set = [user.password_last_changed_time(), created];
            if let Some((days, how)) = unused_days(input.now, user.password_last_used_time(), &set)
            {
                if days > limit {
                    unused.push(format!("password {how} ({days} days)"));
                }
            }
        }
        for key in user.keys().into_iter().filter(|k| k.active) {
            let set = [key.last_rotated, created];
            if let Some((days, how)) = unused_days(input.now, key.last_used, &set) {
                if days > limit {
                    unused.push(format!("access key {} {how} ({days} days)", key.n));
                }
            }
        }
        if !unused.is_empty() {
            out.add(
                &user.arn,
                "global",
                format!("{}: {} ({label})", user.user, unused.join("; ")),
                ReportRow::PATH,
            );
        }
    }
    Ok(())
}

fn access_key_age(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let limit = i64::from(input.thresholds.key_max_age_days);
    let label = match input
        .documented
        .as_ref()
        .and_then(|d| d.access_key_max_age_days)
    {
        Some(_) => format!("documented limit {limit} days"),
        None => format!("threshold {limit}"),
    };
    for user in users(input)? {
        for key in user.keys() {
            let Some(rotated) = key.last_rotated.filter(|_| key.active) else {
                continue;
            };
            let days = days_between(rotated, input.now);
            if days > limit {
                out.add(
                    &user.arn,
                    "global",
                    format!(
                        "{}: active access key {} last rotated {} ({days} days ago, {label})",
                        user.user,
                        key.n,
                        date(rotated)
                    ),
                    ReportRow::PATH,
                );
            }
        }
    }
    Ok(())
}

fn two_active_keys(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for user in users(input)? {
        if user.keys().iter().all(|k| k.active) {
            out.add(
                &user.arn,
                "global",
                format!("{} has two active access keys", user.user),
                ReportRow::PATH,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::iam_test::{report_row, user, NO_KEY, OLD, RECENT};
    use super::*;
    use crate::findings::testkit::Bundle;
    use crate::findings::RuleStatus;
    use crate::vocab::CollectorStatus;

    fn report(rows: &[ReportRow]) -> Bundle {
        Bundle::new().table(rows).collected(REPORT)
    }

    fn resources(bundle: &Bundle, rule: &str) -> Vec<String> {
        let mut found: Vec<String> = bundle.hits(rule).into_iter().map(|(r, _)| r).collect();
        found.sort();
        found
    }

    #[test]
    fn console_users_without_mfa() {
        let bundle = report(&[
            report_row("nomfa", OLD, ("TRUE", RECENT), "FALSE", NO_KEY, NO_KEY),
            report_row("withmfa", OLD, ("true", RECENT), "true", NO_KEY, NO_KEY),
            report_row("api", OLD, ("false", "N/A"), "false", NO_KEY, NO_KEY),
        ]);
        assert_eq!(resources(&bundle, "user-console-no-mfa"), [user("nomfa")]);
    }

    #[test]
    fn the_report_as_aws_writes_it_with_upper_case_booleans() {
        // AWS's full header (certificates, last-used region and service, next rotation), and
        // booleans in another case: read by column name, case-insensitively.
        let header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
        let row = |name: &str, password: &str, mfa: &str| {
            format!(
                "{name},{},{OLD},{password},{RECENT},{OLD},N/A,{mfa},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
                user(name)
            )
        };
        let text = format!(
            "{header}\n{}\n{}\n",
            row("nomfa", "TRUE", "FALSE"),
            row("withmfa", "True", "TRUE")
        );
        let bundle = Bundle::new().file(ReportRow::PATH, &text).collected(REPORT);
        assert_eq!(resources(&bundle, "user-console-no-mfa"), [user("nomfa")]);
    }

    #[test]
    fn unused_credentials_with_sentinels_and_thresholds() {
        let mut bundle = report(&[
            // Password never used (no_information), set long ago.
            report_row(
                "stale-password",
                OLD,
                ("true", "no_information"),
                "true",
                NO_KEY,
                NO_KEY,
            ),
            // Used recently.
            report_row(
                "active",
                OLD,
                ("true", RECENT),
                "true",
                ("true", OLD, RECENT),
                NO_KEY,
            ),
            // Key active, never used (N/A), rotated long ago.
            report_row(
                "idle-key",
                OLD,
                ("false", "N/A"),
                "false",
                ("true", OLD, "N/A"),
                NO_KEY,
            ),
            // Inactive key unused: not a credential anyone can use.
            report_row(
                "off-key",
                OLD,
                ("false", "N/A"),
                "false",
                ("false", OLD, "N/A"),
                NO_KEY,
            ),
            // Created recently, never used.
            report_row(
                "new",
                RECENT,
                ("true", "no_information"),
                "true",
                ("true", RECENT, "N/A"),
                NO_KEY,
            ),
        ]);
        assert_eq!(
            resources(&bundle, "credentials-unused"),
            [user("idle-key"), user("stale-password")]
        );
        assert!(bundle
            .details("credentials-unused")
            .iter()
            .any(|(_, d)| d.contains("access key 1 never used, set 2025-01-01")));
        // A threshold of 10 days catches last use and creation three weeks ago too.
        bundle.thresholds.user_inactive_days = 10;
        assert_eq!(
            resources(&bundle, "credentials-unused"),
            [
                user("active"),
                user("idle-key"),
                user("new"),
                user("stale-password")
            ]
        );
    }

    #[test]
    fn key_age_and_two_active_keys() {
        let bundle = report(&[
            report_row(
                "old-key",
                OLD,
                ("false", "N/A"),
                "false",
                ("true", OLD, RECENT),
                NO_KEY,
            ),
            report_row(
                "old-but-inactive",
                OLD,
                ("false", "N/A"),
                "false",
                ("false", OLD, "N/A"),
                NO_KEY,
            ),
            report_row(
                "two",
                OLD,
                ("false", "N/A"),
                "false",
                ("true", RECENT, RECENT),
                ("true", RECENT, "N/A"),
            ),
        ]);
        assert_eq!(resources(&bundle, "access-key-age"), [user("old-key")]);
        assert_eq!(resources(&bundle, "two-active-keys"), [user("two")]);
        let mut lenient = bundle;
        lenient.thresholds.key_max_age_days = 3650;
        assert!(resources(&lenient, "access-key-age").is_empty());
    }

    #[test]
    fn a_failed_report_leaves_its_rules_not_evaluated() {
        let bundle = Bundle::new().global(REPORT, CollectorStatus::Failed, "GetCredentialReport");
        for rule in [
            "user-console-no-mfa",
            "credentials-unused",
            "access-key-age",
            "two-active-keys",
        ] {
            let (status, reason, findings) = bundle.outcome(rule);
            assert_eq!(status, RuleStatus::NotEvaluated, "{rule}");
            assert!(reason.contains("iam-credential-report failed"), "{reason}");
            assert!(findings.is_empty());
        }
    }
}
