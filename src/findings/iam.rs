//! The IAM rules of SPEC section 5: root account, password policy, users' credentials, policies
//! and roles. They read the credential report, the account summary, the password policy and the
//! authorization details tables.
//!
//! What the rules agree on:
//! - The credential report is parsed by header name; booleans compare case-insensitively; the
//!   sentinels `N/A`, `no_information` and `not_supported` mean "never" or "not applicable".
//! - Ages are counted to the run's start (`Input::now`), never to the wall clock, so a bundle
//!   always gives the same findings. A credential never used is aged from when it was set.
//! - Root facts come from the report's `<root_account>` row and from the account summary; a
//!   root rule is evaluated when either says something, and fires when either shows the problem.
//! - Findings on a user or role name its ARN, with region `global`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::input::{days_between, Input, Row};
use super::{Needs, Out, RuleSpec};
use crate::controls::Control;
use crate::vocab::CollectorStatus;
use crate::vocab::Severity;

pub(super) const REPORT: &str = "iam-credential-report";
pub(super) const SUMMARY: &str = "iam-account-summary";
const PASSWORD_POLICY: &str = "iam-password-policy";
pub(super) const AUTHZ: &str = "iam-authorization-details";

pub(super) const REPORT_CSV: &str = "evidence/iam-credential-report/credential-report.csv";
const ROOT_JSON: &str = "evidence/iam-account-summary/root-account.json";
const PASSWORD_POLICY_JSON: &str = "evidence/iam-password-policy/password-policy.json";
pub(super) const USERS_CSV: &str = "evidence/iam-authorization-details/users.csv";
pub(super) const ROLES_CSV: &str = "evidence/iam-authorization-details/roles.csv";
const POLICIES_CSV: &str = "evidence/iam-authorization-details/policies.csv";

/// The credential report's name for the root user.
pub(super) const ROOT_USER: &str = "<root_account>";

const ACCESS: &[Control] = &[Control::Cc6_1, Control::Cc6_2];
const LEAST_PRIVILEGE: &[Control] = &[Control::Cc6_1, Control::Cc6_3];
const ROLES: &[Control] = &[Control::Cc6_2, Control::Cc6_3];
const TRUST: &[Control] = &[Control::Cc6_3, Control::Cc6_6];

/// Root use within this many days is `root-used-recently` (CIS 1.7).
const ROOT_RECENT_DAYS: i64 = 30;
/// CIS 1.8 and 1.9.
const MIN_PASSWORD_LENGTH: i64 = 14;
const MIN_PASSWORD_REUSE: i64 = 24;

/// The columns every rule over the credential report needs.
pub(super) const REPORT_COLUMNS: &[&str] = &[
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
];

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
    RuleSpec {
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
    },
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
    RuleSpec {
        id: "user-direct-policy",
        title: "User with policies attached directly",
        severity: Severity::Low,
        controls: LEAST_PRIVILEGE,
        references: &["CIS 1.15", "IAM.2"],
        remediation: "Grant permissions through groups or roles: add the user to a group that \
                      has the policy, then detach the user's managed policies and delete its \
                      inline policies.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: user_direct_policy,
    },
    RuleSpec {
        id: "admin-policy",
        title: "Policy in use allowing every action on every resource",
        severity: Severity::High,
        controls: LEAST_PRIVILEGE,
        references: &["CIS 1.16", "IAM.1"],
        remediation: "Replace `\"Action\": \"*\"` on `\"Resource\": \"*\"` with the actions and \
                      resources the holders need; keep full administrator access to a few \
                      break-glass roles with MFA.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: admin_policy,
    },
    RuleSpec {
        id: "role-unused",
        title: "Role unused beyond the inactivity threshold",
        severity: Severity::Low,
        controls: ROLES,
        references: &[],
        remediation: "Confirm with the role's owner in the quarterly access review \
                      (access-review/roles.csv) and delete the role if it is no longer needed.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: role_unused,
    },
    RuleSpec {
        id: "external-trust",
        title: "Role trusting another account without an external id",
        severity: Severity::Medium,
        controls: TRUST,
        references: &[],
        remediation: "Add a condition requiring `sts:ExternalId` to the trust policy statement \
                      that lets the other account in (the confused deputy protection third \
                      parties document), or remove the statement if the access is not needed.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: external_trust,
    },
];

/// Whether a collector's evidence is there to read (collected, or partial).
fn usable(input: &Input, collector: &str) -> bool {
    matches!(
        input.status(collector),
        Some(CollectorStatus::Collected | CollectorStatus::Partial)
    )
}

fn root_arn(input: &Input) -> String {
    format!("arn:{}:iam::{}:root", input.partition, input.account_id)
}

/// The credential report's rows.
pub(super) fn report(input: &Input) -> Result<Vec<Row>, String> {
    input.csv(REPORT_CSV, REPORT_COLUMNS)
}

fn is_root(row: &Row) -> bool {
    row.get("user") == ROOT_USER
}

/// The report's rows for IAM users (without the root row).
fn users(input: &Input) -> Result<Vec<Row>, String> {
    Ok(report(input)?.into_iter().filter(|r| !is_root(r)).collect())
}

fn root_row(input: &Input) -> Result<Option<Row>, String> {
    Ok(report(input)?.into_iter().find(is_root))
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// A root fact from both sources: what each says (`Some(true)` = the problem is there).
struct RootFacts {
    /// (detail, evidence path) of each source showing the problem.
    hits: Vec<(String, &'static str)>,
    /// Some source said something.
    known: bool,
}

fn root_facts(
    input: &Input,
    from_report: impl Fn(&Row) -> Option<String>,
    from_summary: impl Fn(&serde_json::Value) -> Option<Option<String>>,
) -> Result<RootFacts, String> {
    let mut facts = RootFacts {
        hits: Vec::new(),
        known: false,
    };
    if usable(input, REPORT) {
        if let Some(root) = root_row(input)? {
            facts.known = true;
            if let Some(detail) = from_report(&root) {
                facts.hits.push((detail, REPORT_CSV));
            }
        }
    }
    if usable(input, SUMMARY) && input.exists(ROOT_JSON) {
        let root = input.json(ROOT_JSON)?;
        if let Some(answer) = from_summary(&root) {
            facts.known = true;
            if let Some(detail) = answer {
                facts.hits.push((detail, ROOT_JSON));
            }
        }
    }
    Ok(facts)
}

fn add_root_finding(input: &Input, out: &mut Out<'_>, facts: RootFacts) -> Result<(), String> {
    if !facts.known {
        return Err(format!(
            "neither the credential report's {ROOT_USER} row nor the account summary's \
             root-account.json could be read"
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
            let active: Vec<&str> = ["1", "2"]
                .into_iter()
                .filter(|n| root.flag(&format!("access_key_{n}_active")))
                .collect();
            (!active.is_empty()).then(|| {
                format!(
                    "the credential report shows root access key {} active",
                    active.join(" and ")
                )
            })
        },
        |summary| {
            summary["access_keys_present"].as_bool().map(|present| {
                present.then(|| {
                    "the account summary reports root access keys present \
                     (AccountAccessKeysPresent = 1)"
                        .to_string()
                })
            })
        },
    )?;
    add_root_finding(input, out, facts)
}

fn root_mfa(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let facts = root_facts(
        input,
        |root| {
            (!root.flag("mfa_active"))
                .then(|| "the credential report shows mfa_active false for root".to_string())
        },
        |summary| {
            summary["mfa_enabled"].as_bool().map(|enabled| {
                (!enabled).then(|| {
                    "the account summary reports root MFA off (AccountMFAEnabled = 0)".to_string()
                })
            })
        },
    )?;
    add_root_finding(input, out, facts)
}

fn root_hardware_mfa(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let root = input.json(ROOT_JSON)?;
    let enabled = root["mfa_enabled"]
        .as_bool()
        .ok_or_else(|| format!("{ROOT_JSON} has no mfa_enabled"))?;
    if !enabled {
        // No MFA at all is root-mfa's finding.
        return Ok(());
    }
    match root["mfa_device"].as_str() {
        Some("virtual") => {
            let serial = root["root_virtual_mfa_serial"].as_str().unwrap_or("");
            out.add(
                root_arn(input),
                "global",
                format!("root MFA is the virtual device {serial}"),
                ROOT_JSON,
            );
            Ok(())
        }
        Some("hardware") => Ok(()),
        other => Err(format!(
            "the kind of root MFA device is {} (the virtual MFA device list could not be read)",
            other.unwrap_or("missing")
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
    let mut uses = Vec::new();
    for (column, what) in [
        ("password_last_used", "password"),
        ("access_key_1_last_used_date", "access key 1"),
        ("access_key_2_last_used_date", "access key 2"),
    ] {
        if let Some(t) = root.time(column) {
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
            REPORT_CSV,
        );
    }
    Ok(())
}

fn password_policy(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let doc = input.json(PASSWORD_POLICY_JSON)?;
    let present = doc["PolicyPresent"]
        .as_bool()
        .ok_or_else(|| format!("{PASSWORD_POLICY_JSON} has no PolicyPresent"))?;
    if !present {
        out.add(
            root_arn(input),
            "global",
            "no account password policy is set (IAM defaults apply: 8 characters, no reuse \
             prevention)",
            PASSWORD_POLICY_JSON,
        );
        return Ok(());
    }
    let policy = &doc["PasswordPolicy"];
    let mut gaps = Vec::new();
    let length = policy["MinimumPasswordLength"].as_i64().unwrap_or(0);
    if length < MIN_PASSWORD_LENGTH {
        gaps.push(format!("minimum length {length} (< {MIN_PASSWORD_LENGTH})"));
    }
    let reuse = policy["PasswordReusePrevention"].as_i64().unwrap_or(0);
    if reuse < MIN_PASSWORD_REUSE {
        gaps.push(format!("reuse prevention {reuse} (< {MIN_PASSWORD_REUSE})"));
    }
    for (field, what) in [
        ("RequireUppercaseCharacters", "upper case"),
        ("RequireLowercaseCharacters", "lower case"),
        ("RequireNumbers", "numbers"),
        ("RequireSymbols", "symbols"),
    ] {
        if policy[field].as_bool() != Some(true) {
            gaps.push(format!("{what} not required"));
        }
    }
    if !gaps.is_empty() {
        out.add(
            root_arn(input),
            "global",
            format!(
                "the password policy is weaker than CIS: {}",
                gaps.join(", ")
            ),
            PASSWORD_POLICY_JSON,
        );
    }
    Ok(())
}

fn user_console_no_mfa(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for user in users(input)? {
        if user.flag("password_enabled") && !user.flag("mfa_active") {
            out.add(
                user.get("arn"),
                "global",
                format!(
                    "{} has a console password and no MFA device",
                    user.get("user")
                ),
                REPORT_CSV,
            );
        }
    }
    Ok(())
}

/// Days since a credential was last used, or since it was set when never used; with the words
/// for the detail. `None` when neither date is known.
fn unused_days(
    row: &Row,
    now: DateTime<Utc>,
    last_used: &str,
    set: &[&str],
) -> Option<(i64, String)> {
    if let Some(t) = row.time(last_used) {
        return Some((days_between(t, now), format!("last used {}", date(t))));
    }
    set.iter().find_map(|column| {
        row.time(column)
            .map(|t| (days_between(t, now), format!("never used, set {}", date(t))))
    })
}

/// What an access key is in a report row: `n` = 1 or 2.
pub(super) struct Key {
    pub n: u8,
    pub active: bool,
    pub last_rotated: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
}

impl Key {
    /// The key exists: AWS writes N/A as its rotation date when there is none.
    pub fn exists(&self) -> bool {
        self.active || self.last_rotated.is_some()
    }
}

pub(super) fn keys(row: &Row) -> [Key; 2] {
    [1u8, 2].map(|n| Key {
        n,
        active: row.flag(&format!("access_key_{n}_active")),
        last_rotated: row.time(&format!("access_key_{n}_last_rotated")),
        last_used: row.time(&format!("access_key_{n}_last_used_date")),
    })
}

fn credentials_unused(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let limit = i64::from(input.thresholds.user_inactive_days);
    for user in users(input)? {
        let mut unused = Vec::new();
        if user.flag("password_enabled") {
            if let Some((days, how)) = unused_days(
                &user,
                input.now,
                "password_last_used",
                &["password_last_changed", "user_creation_time"],
            ) {
                if days > limit {
                    unused.push(format!("password {how} ({days} days)"));
                }
            }
        }
        for n in [1, 2] {
            if !user.flag(&format!("access_key_{n}_active")) {
                continue;
            }
            let rotated = format!("access_key_{n}_last_rotated");
            if let Some((days, how)) = unused_days(
                &user,
                input.now,
                &format!("access_key_{n}_last_used_date"),
                &[rotated.as_str(), "user_creation_time"],
            ) {
                if days > limit {
                    unused.push(format!("access key {n} {how} ({days} days)"));
                }
            }
        }
        if !unused.is_empty() {
            out.add(
                user.get("arn"),
                "global",
                format!(
                    "{}: {} (threshold {limit} days)",
                    user.get("user"),
                    unused.join("; ")
                ),
                REPORT_CSV,
            );
        }
    }
    Ok(())
}

fn access_key_age(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let limit = i64::from(input.thresholds.key_max_age_days);
    for user in users(input)? {
        for key in keys(&user) {
            let Some(rotated) = key.last_rotated.filter(|_| key.active) else {
                continue;
            };
            let days = days_between(rotated, input.now);
            if days > limit {
                out.add(
                    user.get("arn"),
                    "global",
                    format!(
                        "{}: active access key {} last rotated {} ({days} days ago, threshold \
                         {limit})",
                        user.get("user"),
                        key.n,
                        date(rotated)
                    ),
                    REPORT_CSV,
                );
            }
        }
    }
    Ok(())
}

fn two_active_keys(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for user in users(input)? {
        if user.flag("access_key_1_active") && user.flag("access_key_2_active") {
            out.add(
                user.get("arn"),
                "global",
                format!("{} has two active access keys", user.get("user")),
                REPORT_CSV,
            );
        }
    }
    Ok(())
}

fn user_direct_policy(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let rows = input.csv(
        USERS_CSV,
        &[
            "user_name",
            "arn",
            "attached_policy_arns",
            "inline_policy_names",
        ],
    )?;
    for user in rows {
        let attached = user.list("attached_policy_arns");
        let inline = user.list("inline_policy_names");
        if attached.is_empty() && inline.is_empty() {
            continue;
        }
        let mut parts = Vec::new();
        if !attached.is_empty() {
            parts.push(format!("attached {}", attached.join(", ")));
        }
        if !inline.is_empty() {
            parts.push(format!("inline {}", inline.join(", ")));
        }
        out.add(
            user.get("arn"),
            "global",
            format!(
                "{} has policies of its own: {}",
                user.get("user_name"),
                parts.join("; ")
            ),
            USERS_CSV,
        );
    }
    Ok(())
}

fn admin_policy(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let rows = input.csv(
        POLICIES_CSV,
        &[
            "policy_name",
            "policy_arn",
            "kind",
            "principal_type",
            "principal_name",
            "principal_arn",
            "via",
            "allows_admin",
        ],
    )?;
    // A document the collector could not parse leaves allows_admin empty: not judged.
    let mut unknown: Vec<String> = rows
        .iter()
        .filter(|r| r.get("allows_admin").is_empty())
        .map(|r| match r.get("policy_arn") {
            "" => format!("{} of {}", r.get("policy_name"), r.get("principal_name")),
            arn => arn.to_string(),
        })
        .collect();
    unknown.sort();
    unknown.dedup();
    if !unknown.is_empty() {
        out.partial(format!(
            "the documents of {} could not be read as JSON (see the collector's notes)",
            unknown.join(", ")
        ));
    }
    // One finding per policy: a managed policy by its ARN, an inline policy by its holder.
    let mut policies: BTreeMap<(String, String), Vec<&Row>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.flag("allows_admin")) {
        let key = if row.get("kind") == "inline" {
            let owner = if row.get("via") == "direct" {
                row.get("principal_arn").to_string()
            } else {
                // A user reached through a group's inline policy: the group holds it.
                let group = row.get("via").trim_start_matches("group:");
                format!(
                    "arn:{}:iam::{}:group/{group}",
                    input.partition, input.account_id
                )
            };
            (owner, row.get("policy_name").to_string())
        } else {
            (row.get("policy_arn").to_string(), String::new())
        };
        policies.entry(key).or_default().push(row);
    }
    for ((resource, inline_name), holders) in policies {
        let mut direct = Vec::new();
        let mut through = Vec::new();
        for h in &holders {
            let who = format!("{} {}", h.get("principal_type"), h.get("principal_name"));
            if h.get("via") == "direct" {
                direct.push(who);
            } else {
                through.push(format!(
                    "{who} (through {})",
                    h.get("via").replace(':', " ")
                ));
            }
        }
        let what = if inline_name.is_empty() {
            format!("managed policy {}", holders[0].get("policy_name"))
        } else {
            format!("inline policy {inline_name}")
        };
        let mut detail = format!("{what} allows every action on every resource");
        if !direct.is_empty() {
            detail.push_str(&format!("; held by {}", direct.join(", ")));
        }
        if !through.is_empty() {
            detail.push_str(&format!("; reaches {}", through.join(", ")));
        }
        out.add(resource, "global", detail, POLICIES_CSV);
    }
    Ok(())
}

/// A role row is service-linked (never flagged): the column, or its path.
pub(super) fn service_linked(role: &Row) -> bool {
    role.flag("service_linked") || role.get("path").starts_with("/aws-service-role/")
}

/// Days since the role was last used, or since its creation when never used.
pub(super) fn role_inactive_days(role: &Row, now: DateTime<Utc>) -> Option<(i64, String)> {
    unused_days(role, now, "role_last_used_date", &["created"])
}

const ROLE_COLUMNS: &[&str] = &[
    "role_name",
    "arn",
    "path",
    "created",
    "service_linked",
    "role_last_used_date",
    "trust_external_without_external_id",
];

fn role_unused(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let limit = i64::from(input.thresholds.role_inactive_days);
    for role in input.csv(ROLES_CSV, ROLE_COLUMNS)? {
        if service_linked(&role) {
            continue;
        }
        if let Some((days, how)) = role_inactive_days(&role, input.now) {
            if days > limit {
                out.add(
                    role.get("arn"),
                    "global",
                    format!(
                        "{} {how} ({days} days, threshold {limit})",
                        role.get("role_name")
                    ),
                    ROLES_CSV,
                );
            }
        }
    }
    Ok(())
}

fn external_trust(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for role in input.csv(ROLES_CSV, ROLE_COLUMNS)? {
        let principals = role.list("trust_external_without_external_id");
        if principals.is_empty() {
            continue;
        }
        out.add(
            role.get("arn"),
            "global",
            format!(
                "{} can be assumed by {} without sts:ExternalId",
                role.get("role_name"),
                principals.join(", ")
            ),
            ROLES_CSV,
        );
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::findings::input::{CollectorState, RegionState};
    use crate::findings::{analyze, RuleStatus, Thresholds};
    use crate::vocab::CallError;

    pub const ACCOUNT: &str = "123456789012";
    pub const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap()
    }

    /// A credential report row: (user, created, password (enabled, last used), mfa,
    /// key 1 (active, rotated, used), key 2 (active, rotated, used)).
    #[allow(clippy::too_many_arguments)]
    pub fn report_row(
        user: &str,
        created: &str,
        password: (&str, &str),
        mfa: &str,
        key1: (&str, &str, &str),
        key2: (&str, &str, &str),
    ) -> String {
        let arn = if user == ROOT_USER {
            format!("arn:aws:iam::{ACCOUNT}:root")
        } else {
            format!("arn:aws:iam::{ACCOUNT}:user/{user}")
        };
        format!(
            "{user},{arn},{created},{},{},{created},N/A,{mfa},{},{},{},N/A,N/A,{},{},{},N/A,N/A,false,N/A,false,N/A",
            password.0, password.1, key1.0, key1.1, key1.2, key2.0, key2.1, key2.2
        )
    }

    pub const NO_KEY: (&str, &str, &str) = ("false", "N/A", "N/A");

    /// A bundle of fixture files and collector states.
    pub struct Bundle {
        pub dir: tempfile::TempDir,
        pub collectors: Vec<CollectorState>,
        pub thresholds: Thresholds,
    }

    impl Bundle {
        pub fn new() -> Self {
            Bundle {
                dir: tempfile::tempdir().unwrap(),
                collectors: Vec::new(),
                thresholds: Thresholds::default(),
            }
        }

        pub fn file(self, path: &str, text: &str) -> Self {
            let path = self.dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
            self
        }

        pub fn report(self, rows: &[String]) -> Self {
            let text = format!("{HEADER}\n{}\n", rows.join("\n"));
            self.file(REPORT_CSV, &text)
                .state(REPORT, CollectorStatus::Collected)
        }

        pub fn state(mut self, id: &str, status: CollectorStatus) -> Self {
            let errors = if status == CollectorStatus::Failed {
                vec![CallError::new(
                    "global",
                    "GetCredentialReport",
                    "AccessDenied",
                    "no",
                )]
            } else {
                vec![]
            };
            self.collectors.push(CollectorState {
                id: id.to_string(),
                status,
                errors,
                regions: vec![RegionState {
                    region: "global".into(),
                    status,
                }],
            });
            self
        }

        pub fn input(&self) -> Input {
            Input::new(
                self.dir.path(),
                ACCOUNT,
                "aws",
                now(),
                vec!["us-east-1".into()],
                self.collectors.clone(),
                self.thresholds,
            )
        }
    }

    /// (resource, detail) of a rule's findings, through the engine, with its status.
    fn run(bundle: &Bundle, rule: &str) -> (RuleStatus, String, Vec<(String, String)>) {
        let analysis = analyze(&bundle.input());
        let outcome = analysis.rules.iter().find(|r| r.rule == rule).unwrap();
        let hits = analysis
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| (f.resource.clone(), f.detail.clone()))
            .collect();
        (outcome.status, outcome.reason.clone(), hits)
    }

    fn resources(bundle: &Bundle, rule: &str) -> Vec<String> {
        let (status, reason, hits) = run(bundle, rule);
        assert_ne!(status, RuleStatus::NotEvaluated, "{rule}: {reason}");
        hits.into_iter().map(|(r, _)| r).collect()
    }

    fn user(name: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{name}")
    }

    const ROOT: &str = "arn:aws:iam::123456789012:root";
    const OLD: &str = "2025-01-01T00:00:00+00:00";
    const RECENT: &str = "2026-11-01T00:00:00+00:00";

    fn root_json(keys: bool, mfa: bool, device: &str) -> String {
        format!(
            r#"{{"access_keys_present": {keys}, "mfa_device": "{device}", "mfa_enabled": {mfa}, "root_virtual_mfa_serial": "arn:aws:iam::123456789012:mfa/root-account-mfa-device", "virtual_mfa_list_read": true}}"#
        )
    }

    fn summary(keys: bool, mfa: bool, device: &str) -> Bundle {
        Bundle::new()
            .file(ROOT_JSON, &root_json(keys, mfa, device))
            .state(SUMMARY, CollectorStatus::Collected)
    }

    #[test]
    fn rules_are_in_spec_order() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "root-access-key",
                "root-mfa",
                "root-hardware-mfa",
                "root-used-recently",
                "password-policy",
                "user-console-no-mfa",
                "credentials-unused",
                "access-key-age",
                "two-active-keys",
                "user-direct-policy",
                "admin-policy",
                "role-unused",
                "external-trust",
            ]
        );
    }

    #[test]
    fn root_access_key_from_either_source() {
        assert_eq!(
            resources(&summary(true, true, "hardware"), "root-access-key"),
            [ROOT]
        );
        assert!(resources(&summary(false, true, "hardware"), "root-access-key").is_empty());
        let root_key = report_row(
            ROOT_USER,
            OLD,
            ("not_supported", "N/A"),
            "true",
            ("TRUE", OLD, "N/A"),
            NO_KEY,
        );
        let bundle = summary(false, true, "hardware").report(&[root_key]);
        let (_, _, hits) = run(&bundle, "root-access-key");
        assert_eq!(hits.len(), 1);
        assert!(hits[0].1.contains("root access key 1 active"), "{hits:?}");
        // The report alone without a root row (moto) and no summary: not evaluated.
        let bundle = Bundle::new().report(&[report_row(
            "alice",
            OLD,
            ("false", "N/A"),
            "false",
            NO_KEY,
            NO_KEY,
        )]);
        let (status, reason, _) = run(&bundle, "root-access-key");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains(ROOT_USER), "{reason}");
    }

    #[test]
    fn root_mfa_and_hardware_mfa() {
        assert_eq!(
            resources(&summary(false, false, "none"), "root-mfa"),
            [ROOT]
        );
        assert!(resources(&summary(false, false, "none"), "root-hardware-mfa").is_empty());
        assert!(resources(&summary(false, true, "virtual"), "root-mfa").is_empty());
        assert_eq!(
            resources(&summary(false, true, "virtual"), "root-hardware-mfa"),
            [ROOT]
        );
        assert!(resources(&summary(false, true, "hardware"), "root-hardware-mfa").is_empty());
        let (status, reason, _) = run(&summary(false, true, "unknown"), "root-hardware-mfa");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("could not be read"), "{reason}");
    }

    #[test]
    fn root_used_recently_needs_the_root_row() {
        let root = |used: &str| {
            report_row(
                ROOT_USER,
                OLD,
                ("not_supported", used),
                "true",
                NO_KEY,
                NO_KEY,
            )
        };
        assert_eq!(
            resources(&Bundle::new().report(&[root(RECENT)]), "root-used-recently"),
            [ROOT]
        );
        assert!(resources(&Bundle::new().report(&[root(OLD)]), "root-used-recently").is_empty());
        assert!(resources(
            &Bundle::new().report(&[root("no_information")]),
            "root-used-recently"
        )
        .is_empty());
        let (status, reason, _) = run(&Bundle::new().report(&[]), "root-used-recently");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains(ROOT_USER), "{reason}");
    }

    #[test]
    fn password_policy_missing_weak_and_strong() {
        let policy = |json: &str| {
            Bundle::new()
                .file(PASSWORD_POLICY_JSON, json)
                .state(PASSWORD_POLICY, CollectorStatus::Collected)
        };
        let (_, _, hits) = run(&policy(r#"{"PolicyPresent": false}"#), "password-policy");
        assert_eq!(hits.len(), 1);
        assert!(hits[0].1.contains("no account password policy"));
        let weak = r#"{"PolicyPresent": true, "PasswordPolicy": {"MinimumPasswordLength": 8, "RequireUppercaseCharacters": true, "RequireLowercaseCharacters": true, "RequireNumbers": true, "RequireSymbols": false}}"#;
        let (_, _, hits) = run(&policy(weak), "password-policy");
        assert_eq!(hits.len(), 1);
        for gap in [
            "minimum length 8",
            "reuse prevention 0",
            "symbols not required",
        ] {
            assert!(hits[0].1.contains(gap), "{gap}: {}", hits[0].1);
        }
        assert!(!hits[0].1.contains("numbers"));
        let strong = r#"{"PolicyPresent": true, "PasswordPolicy": {"MinimumPasswordLength": 14, "PasswordReusePrevention": 24, "RequireUppercaseCharacters": true, "RequireLowercaseCharacters": true, "RequireNumbers": true, "RequireSymbols": true}}"#;
        assert!(resources(&policy(strong), "password-policy").is_empty());
        let (status, _, _) = run(
            &Bundle::new().state(PASSWORD_POLICY, CollectorStatus::Failed),
            "password-policy",
        );
        assert_eq!(status, RuleStatus::NotEvaluated);
    }

    #[test]
    fn console_users_without_mfa() {
        let bundle = Bundle::new().report(&[
            report_row("nomfa", OLD, ("TRUE", RECENT), "FALSE", NO_KEY, NO_KEY),
            report_row("withmfa", OLD, ("true", RECENT), "true", NO_KEY, NO_KEY),
            report_row("api", OLD, ("false", "N/A"), "false", NO_KEY, NO_KEY),
        ]);
        assert_eq!(resources(&bundle, "user-console-no-mfa"), [user("nomfa")]);
    }

    #[test]
    fn unused_credentials_with_sentinels_and_thresholds() {
        let mut bundle = Bundle::new().report(&[
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
        let mut hits = resources(&bundle, "credentials-unused");
        hits.sort();
        assert_eq!(hits, [user("idle-key"), user("stale-password")]);
        let (_, _, found) = run(&bundle, "credentials-unused");
        assert!(found
            .iter()
            .any(|(_, d)| d.contains("access key 1 never used, set 2025-01-01")));
        // A threshold of 10 days catches last use and creation three weeks ago too.
        bundle.thresholds.user_inactive_days = 10;
        let mut hits = resources(&bundle, "credentials-unused");
        hits.sort();
        assert_eq!(
            hits,
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
        let bundle = Bundle::new().report(&[
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

    pub const USERS_HEADER: &str = "user_name,arn,user_id,path,created,groups,attached_policy_arns,inline_policy_names,permissions_boundary_arn,tags_count,allows_admin";
    pub const ROLES_HEADER: &str = "role_name,arn,role_id,path,created,service_linked,trust_policy_parsed,trust_principals,trust_external_principals,trust_external_without_external_id,trust_external_id_required,role_last_used_date,role_last_used_region,attached_policy_arns,inline_policy_names,permissions_boundary_arn,instance_profiles,tags_count,allows_admin";
    const POLICIES_HEADER: &str = "policy_name,policy_arn,kind,principal_type,principal_name,principal_arn,via,default_version_id,allows_admin";

    fn authz(users: &[&str], roles: &[&str], policies: &[&str]) -> Bundle {
        Bundle::new()
            .file(
                USERS_CSV,
                &format!("{USERS_HEADER}\n{}\n", users.join("\n")),
            )
            .file(
                ROLES_CSV,
                &format!("{ROLES_HEADER}\n{}\n", roles.join("\n")),
            )
            .file(
                POLICIES_CSV,
                &format!("{POLICIES_HEADER}\n{}\n", policies.join("\n")),
            )
            .state(AUTHZ, CollectorStatus::Collected)
    }

    #[test]
    fn direct_policies_and_admin_policies() {
        let bundle = authz(
            &[
                "alice,arn:aws:iam::123456789012:user/alice,A,/,2025-01-01T00:00:00Z,admins,,,,0,true",
                "carol,arn:aws:iam::123456789012:user/carol,C,/,2025-01-01T00:00:00Z,,,carol-inline,,0,true",
                "dave,arn:aws:iam::123456789012:user/dave,D,/,2025-01-01T00:00:00Z,,arn:aws:iam::123456789012:policy/Reports,,,0,false",
            ],
            &[],
            &[
                "Admin,arn:aws:iam::123456789012:policy/Admin,customer-managed,group,admins,arn:aws:iam::123456789012:group/admins,direct,v1,true",
                "Admin,arn:aws:iam::123456789012:policy/Admin,customer-managed,user,alice,arn:aws:iam::123456789012:user/alice,group:admins,v1,true",
                "carol-inline,,inline,user,carol,arn:aws:iam::123456789012:user/carol,direct,,true",
                "Reports,arn:aws:iam::123456789012:policy/Reports,customer-managed,user,dave,arn:aws:iam::123456789012:user/dave,direct,v1,false",
                "Unknown,arn:aws:iam::123456789012:policy/Unknown,customer-managed,user,dave,arn:aws:iam::123456789012:user/dave,direct,v1,",
            ],
        );
        let mut direct = resources(&bundle, "user-direct-policy");
        direct.sort();
        assert_eq!(direct, [user("carol"), user("dave")]);
        let (_, _, hits) = run(&bundle, "admin-policy");
        let found: Vec<&str> = hits.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(
            found,
            [
                "arn:aws:iam::123456789012:policy/Admin",
                "arn:aws:iam::123456789012:user/carol"
            ]
        );
        assert!(hits[0].1.contains("held by group admins"), "{}", hits[0].1);
        assert!(
            hits[0].1.contains("user alice (through group admins)"),
            "{}",
            hits[0].1
        );
        assert!(
            hits[1].1.contains("inline policy carol-inline"),
            "{}",
            hits[1].1
        );
    }

    #[test]
    fn unused_roles_and_external_trust() {
        let mut bundle = authz(
            &[],
            &[
                "idle,arn:aws:iam::123456789012:role/idle,R1,/,2025-01-01T00:00:00Z,false,true,AWS:arn:aws:iam::123456789012:root,,,,2025-02-01T00:00:00Z,us-east-1,,,,,0,false",
                "never,arn:aws:iam::123456789012:role/never,R2,/,2025-01-01T00:00:00Z,false,true,,,,,,,,,,,0,false",
                "busy,arn:aws:iam::123456789012:role/busy,R3,/,2025-01-01T00:00:00Z,false,true,,,,,2026-11-20T00:00:00Z,eu-west-1,,,,,0,false",
                "AWSServiceRoleForX,arn:aws:iam::123456789012:role/aws-service-role/x/AWSServiceRoleForX,R4,/aws-service-role/x/,2020-01-01T00:00:00Z,true,true,,,,,,,,,,,0,false",
                "vendor,arn:aws:iam::123456789012:role/vendor,R5,/,2026-11-01T00:00:00Z,false,true,AWS:arn:aws:iam::444455556666:root,AWS:arn:aws:iam::444455556666:root,AWS:arn:aws:iam::444455556666:root,false,,,,,,,0,false",
                "partner,arn:aws:iam::123456789012:role/partner,R6,/,2026-11-01T00:00:00Z,false,true,AWS:arn:aws:iam::777788889999:root,AWS:arn:aws:iam::777788889999:root,,true,,,,,,,0,false",
            ],
            &[],
        );
        let role = |n: &str| format!("arn:aws:iam::{ACCOUNT}:role/{n}");
        let mut unused = resources(&bundle, "role-unused");
        unused.sort();
        assert_eq!(unused, [role("idle"), role("never")]);
        assert_eq!(resources(&bundle, "external-trust"), [role("vendor")]);
        bundle.thresholds.role_inactive_days = 3650;
        assert!(resources(&bundle, "role-unused").is_empty());
    }

    #[test]
    fn a_failed_report_leaves_its_rules_not_evaluated() {
        let bundle = Bundle::new().state(REPORT, CollectorStatus::Failed);
        for rule in [
            "user-console-no-mfa",
            "credentials-unused",
            "access-key-age",
        ] {
            let (status, reason, hits) = run(&bundle, rule);
            assert_eq!(status, RuleStatus::NotEvaluated, "{rule}");
            assert!(reason.contains("iam-credential-report failed"), "{reason}");
            assert!(hits.is_empty());
        }
    }
}
