//! The root user (SPEC section 5): an active access key, no MFA, a virtual MFA device, use in
//! the last 30 days. Judged from the credential report's `<root_account>` row and the account
//! summary's `root-account.json`: a root rule is evaluated when either says something, and
//! fires when either shows the problem. Findings point at the root ARN, region `global`.

use super::{date, root_arn, ACCESS, REPORT};
use crate::contract::iam_account_summary::{MfaDevice, RootAccount};
use crate::contract::iam_credential_report::{ReportRow, ROOT_USER};
use crate::contract::{self, Document, Table};
use crate::findings::input::{days_between, Input};
use crate::findings::{Needs, Out, RuleSpec};
use crate::vocab::{CollectorStatus, Severity};

const SUMMARY: &str = RootAccount::COLLECTOR;

/// Root use within this many days is `root-used-recently` (CIS 1.7).
const ROOT_RECENT_DAYS: i64 = 30;

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "root-access-key",
        title: "Root user has an active access key",
        severity: Severity::Critical,
        controls: ACCESS,
        references: &["CIS 1.4", "IAM.4"],
        remediation: "Sign in as root, delete its access keys (Security credentials page), and \
                      use IAM roles or users for programmatic access.",
        needs: Needs::Any(&[REPORT, SUMMARY]),
        evaluate: root_access_key,
    },
    RuleSpec {
        id: "root-mfa",
        title: "Root user without MFA",
        severity: Severity::Critical,
        controls: ACCESS,
        references: &["CIS 1.5", "IAM.9"],
        remediation: "Sign in as root and assign an MFA device (a hardware key for production \
                      accounts); keep it where at least two people can reach it.",
        needs: Needs::Any(&[REPORT, SUMMARY]),
        evaluate: root_mfa,
    },
    RuleSpec {
        id: "root-hardware-mfa",
        title: "Root user MFA is a virtual device",
        severity: Severity::Medium,
        controls: ACCESS,
        references: &["CIS 1.6", "IAM.6"],
        remediation: "Replace the root user's virtual MFA device with a hardware MFA device or \
                      a FIDO security key.",
        needs: Needs::All(&[SUMMARY]),
        evaluate: root_hardware_mfa,
    },
    RuleSpec {
        id: "root-used-recently",
        title: "Root user used in the last 30 days",
        severity: Severity::Medium,
        controls: ACCESS,
        references: &["CIS 1.7"],
        remediation: "Find out who used the root user and why (CloudTrail events with \
                      userIdentity.type Root); move that work to IAM roles and keep root for \
                      the few tasks that need it.",
        needs: Needs::All(&[REPORT]),
        evaluate: root_used_recently,
    },
];

/// Whether a collector's evidence is there to read (collected, or partial).
fn usable(input: &Input, collector: &str) -> bool {
    matches!(
        input.status(collector),
        Some(CollectorStatus::Collected | CollectorStatus::Partial)
    )
}

/// The credential report's root row, if the report has one.
fn root_row(input: &Input) -> Result<Option<ReportRow>, String> {
    Ok(input
        .table::<ReportRow>()?
        .into_iter()
        .find(ReportRow::is_root))
}

/// A root fact from both sources.
struct RootFacts {
    /// (detail, evidence path) of each source showing the problem.
    hits: Vec<(String, &'static str)>,
    /// Some source said something.
    known: bool,
}

/// What each source says: the detail when it shows the problem.
fn root_facts(
    input: &Input,
    from_report: impl Fn(&ReportRow) -> Option<String>,
    from_summary: impl Fn(&RootAccount) -> Option<String>,
) -> Result<RootFacts, String> {
    let mut facts = RootFacts {
        hits: Vec::new(),
        known: false,
    };
    if usable(input, REPORT) {
        if let Some(root) = root_row(input)? {
            facts.known = true;
            if let Some(detail) = from_report(&root) {
                facts.hits.push((detail, ReportRow::PATH));
            }
        }
    }
    if usable(input, SUMMARY) && input.exists(RootAccount::PATH) {
        let root = input.document::<RootAccount>()?;
        facts.known = true;
        if let Some(detail) = from_summary(&root) {
            facts.hits.push((detail, RootAccount::PATH));
        }
    }
    Ok(facts)
}

fn add_root_finding(input: &Input, out: &mut Out<'_>, facts: RootFacts) -> Result<(), String> {
    if !facts.known {
        return Err(format!(
            "neither the credential report's {ROOT_USER} row nor the account summary's \
             {} could be read",
            contract::file_name(RootAccount::PATH)
        ));
    }
    if let Some((_, evidence)) = facts.hits.first() {
        let detail = facts
            .hits
            .iter()
            .map(|(d, _)| d.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        out.add(root_arn(input), "global", detail, *evidence);
    }
    Ok(())
}

fn root_access_key(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let facts = root_facts(
        input,
        |root| {
            let active: Vec<String> = root
                .keys()
                .iter()
                .filter(|k| k.active)
                .map(|k| k.n.to_string())
                .collect();
            (!active.is_empty()).then(|| {
                format!(
                    "the credential report shows root access key {} active",
                    active.join(" and ")
                )
            })
        },
        |summary| {
            summary.access_keys_present.then(|| {
                "the account summary reports root access keys present \
                 (AccountAccessKeysPresent = 1)"
                    .to_string()
            })
        },
    )?;
    add_root_finding(input, out, facts)
}

fn root_mfa(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let facts = root_facts(
        input,
        |root| {
            (!root.mfa_active)
                .then(|| "the credential report shows mfa_active false for root".to_string())
        },
        |summary| {
            (!summary.mfa_enabled).then(|| {
                "the account summary reports root MFA off (AccountMFAEnabled = 0)".to_string()
            })
        },
    )?;
    add_root_finding(input, out, facts)
}

fn root_hardware_mfa(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let root = input.document::<RootAccount>()?;
    if !root.mfa_enabled {
        // No MFA at all is root-mfa's finding.
        return Ok(());
    }
    match root.mfa_device {
        MfaDevice::Virtual => {
            let serial = root.root_virtual_mfa_serial.as_deref().unwrap_or("");
            out.add(
                root_arn(input),
                "global",
                format!("root MFA is the virtual device {serial}"),
                RootAccount::PATH,
            );
            Ok(())
        }
        MfaDevice::Hardware => Ok(()),
        other => Err(format!(
            "the kind of root MFA device is {} (the virtual MFA device list could not be read)",
            other.as_str()
        )),
    }
}

fn root_used_recently(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let root = root_row(input)?.ok_or_else(|| {
        format!(
            "the credential report has no {ROOT_USER} row (emulators omit it), so root's last \
             use is unknown"
        )
    })?;
    let [key_1, key_2] = root.keys();
    let mut uses = Vec::new();
    for (time, what) in [
        (root.password_last_used_time(), "password"),
        (key_1.last_used, "access key 1"),
        (key_2.last_used, "access key 2"),
    ] {
        if let Some(t) = time {
            if t <= input.now && days_between(t, input.now) < ROOT_RECENT_DAYS {
                uses.push(format!("{what} on {}", date(t)));
            }
        }
    }
    if !uses.is_empty() {
        out.add(
            root_arn(input),
            "global",
            format!(
                "root used within {ROOT_RECENT_DAYS} days before the collection: {}",
                uses.join(", ")
            ),
            ReportRow::PATH,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::iam_test::{report_row, NO_KEY, OLD, RECENT, ROOT};
    use super::*;
    use crate::findings::testkit::{iam_arn, Bundle};
    use crate::findings::RuleStatus;

    fn summary(keys: bool, mfa: bool, device: MfaDevice) -> Bundle {
        Bundle::new()
            .document(&RootAccount {
                access_keys_present: keys,
                mfa_device: device,
                mfa_enabled: mfa,
                root_virtual_mfa_serial: Some(iam_arn("mfa/root-account-mfa-device")),
                virtual_mfa_list_read: true,
            })
            .collected(SUMMARY)
    }

    fn resources(bundle: &Bundle, rule: &str) -> Vec<String> {
        bundle.hits(rule).into_iter().map(|(r, _)| r).collect()
    }

    #[test]
    fn root_access_key_from_either_source() {
        assert_eq!(
            resources(&summary(true, true, MfaDevice::Hardware), "root-access-key"),
            [ROOT]
        );
        assert!(resources(
            &summary(false, true, MfaDevice::Hardware),
            "root-access-key"
        )
        .is_empty());
        let root_key = report_row(
            ROOT_USER,
            OLD,
            ("not_supported", "N/A"),
            "true",
            ("TRUE", OLD, "N/A"),
            NO_KEY,
        );
        let bundle = summary(false, true, MfaDevice::Hardware)
            .table(&[root_key])
            .collected(REPORT);
        let hits = bundle.details("root-access-key");
        assert_eq!(hits.len(), 1);
        assert!(hits[0].1.contains("root access key 1 active"), "{hits:?}");
        // The report alone without a root row (moto) and no summary: not evaluated.
        let bundle = Bundle::new()
            .table(&[report_row(
                "alice",
                OLD,
                ("false", "N/A"),
                "false",
                NO_KEY,
                NO_KEY,
            )])
            .collected(REPORT);
        let (status, reason, _) = bundle.outcome("root-access-key");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains(ROOT_USER), "{reason}");
        assert!(reason.contains("root-account.json"), "{reason}");
    }

    #[test]
    fn root_mfa_and_hardware_mfa() {
        assert_eq!(
            resources(&summary(false, false, MfaDevice::None), "root-mfa"),
            [ROOT]
        );
        assert!(resources(&summary(false, false, MfaDevice::None), "root-hardware-mfa").is_empty());
        assert!(resources(&summary(false, true, MfaDevice::Virtual), "root-mfa").is_empty());
        assert_eq!(
            resources(
                &summary(false, true, MfaDevice::Virtual),
                "root-hardware-mfa"
            ),
            [ROOT]
        );
        assert!(resources(
            &summary(false, true, MfaDevice::Hardware),
            "root-hardware-mfa"
        )
        .is_empty());
        let (status, reason, _) =
            summary(false, true, MfaDevice::Unknown).outcome("root-hardware-mfa");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("could not be read"), "{reason}");
    }

    #[test]
    fn root_used_recently_needs_the_root_row() {
        let root = |used: &str| {
            Bundle::new()
                .table(&[report_row(
                    ROOT_USER,
                    OLD,
                    ("not_supported", used),
                    "true",
                    NO_KEY,
                    NO_KEY,
                )])
                .collected(REPORT)
        };
        assert_eq!(resources(&root(RECENT), "root-used-recently"), [ROOT]);
        assert!(resources(&root(OLD), "root-used-recently").is_empty());
        assert!(resources(&root("no_information"), "root-used-recently").is_empty());
        let empty = Bundle::new().table::<ReportRow>(&[]).collected(REPORT);
        let (status, reason, _) = empty.outcome("root-used-recently");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains(ROOT_USER), "{reason}");
    }
}
