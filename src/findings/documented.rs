//! The company's documented requirements (README "Documented policy"): what its written security
//! policy says, which the auditor compares with what AWS enforces.
//!
//! ```toml
//! [password]
//! minimum_length = 12
//! require_uppercase = true
//! require_lowercase = true
//! require_numbers = true
//! require_symbols = false
//! reuse_prevention = 24
//! max_age_days = 90
//!
//! [access_keys]
//! max_age_days = 90
//!
//! [inactivity]
//! user_days = 90
//! role_days = 180
//!
//! [trust]
//! trusted_accounts = ["111122223333"]
//! ```
//!
//! Every key is optional; a requirement the file leaves out is judged as without it. Given
//! with `--documented-policy FILE`, the file is copied into the bundle (`documented-policy.toml`,
//! hashed), `documented-policy.csv` compares each requirement with what the account has, the
//! `password-policy` rule judges against the documented values instead of CIS 1.8/1.9, and the
//! access key age and inactivity limits replace `--key-max-age-days`, `--user-inactive-days`
//! and `--role-inactive-days`. Findings say which baseline they used.
//!
//! The file is untrusted input (a bundle carries it, `report` reads it back): UTF-8 TOML of at
//! most 64 KiB, every key known, every number within what AWS allows; anything else is refused
//! with its line.

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The copy in a bundle.
pub const DOCUMENTED_TOML: &str = "documented-policy.toml";
/// The comparison table in a bundle.
pub const DOCUMENTED_CSV: &str = "documented-policy.csv";
/// The largest file read.
pub const MAX_BYTES: usize = 64 * 1024;

/// The documented requirements, as the file states them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentedPolicy {
    /// The file as given.
    pub bytes: Vec<u8>,
    pub password: Option<Password>,
    pub access_key_max_age_days: Option<u32>,
    pub user_inactive_days: Option<u32>,
    pub role_inactive_days: Option<u32>,
    pub trusted_accounts: Vec<String>,
}

/// The documented password requirements; `None` where the file says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Password {
    pub minimum_length: Option<u32>,
    pub require_uppercase: Option<bool>,
    pub require_lowercase: Option<bool>,
    pub require_numbers: Option<bool>,
    pub require_symbols: Option<bool>,
    pub reuse_prevention: Option<u32>,
    pub max_age_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    password: Option<RawPassword>,
    access_keys: Option<RawKeys>,
    inactivity: Option<RawInactivity>,
    trust: Option<RawTrust>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPassword {
    minimum_length: Option<Spanned<i64>>,
    require_uppercase: Option<bool>,
    require_lowercase: Option<bool>,
    require_numbers: Option<bool>,
    require_symbols: Option<bool>,
    reuse_prevention: Option<Spanned<i64>>,
    max_age_days: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    max_age_days: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInactivity {
    user_days: Option<Spanned<i64>>,
    role_days: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrust {
    trusted_accounts: Option<Spanned<Vec<String>>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses the file; `origin` names it in errors, which give the line and the cause.
pub fn parse(bytes: &[u8], origin: &str) -> Result<DocumentedPolicy, String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "{origin}: {} bytes, more than the {MAX_BYTES} a documented policy may hold",
            bytes.len()
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        format!("{origin}, line {line}: not UTF-8 text")
    })?;
    let raw: RawFile = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => format!(
            "{origin}, line {}: {}",
            line_of(text, span.start),
            e.message().trim_end()
        ),
        None => format!("{origin}: {}", e.message().trim_end()),
    })?;
    // A number within the range AWS (or common sense, for the tool's own limits) allows.
    let number = |value: Option<Spanned<i64>>, key: &str, range: std::ops::RangeInclusive<i64>| {
        value
            .map(|v| {
                let line = line_of(text, v.span().start);
                let n = *v.get_ref();
                if range.contains(&n) {
                    Ok(n as u32)
                } else {
                    Err(format!(
                        "{origin}, line {line}: `{key}` is {n}, not a number from {} to {}",
                        range.start(),
                        range.end()
                    ))
                }
            })
            .transpose()
    };
    let password = match raw.password {
        None => None,
        Some(p) => Some(Password {
            // IAM: 6 to 128 characters, 1 to 24 passwords remembered, 1 to 1095 days.
            minimum_length: number(p.minimum_length, "password.minimum_length", 6..=128)?,
            require_uppercase: p.require_uppercase,
            require_lowercase: p.require_lowercase,
            require_numbers: p.require_numbers,
            require_symbols: p.require_symbols,
            reuse_prevention: number(p.reuse_prevention, "password.reuse_prevention", 1..=24)?,
            max_age_days: number(p.max_age_days, "password.max_age_days", 1..=1095)?,
        }),
    };
    let keys = raw.access_keys.map(|k| k.max_age_days).unwrap_or_default();
    let (users, roles) = raw
        .inactivity
        .map(|i| (i.user_days, i.role_days))
        .unwrap_or_default();
    let mut trusted_accounts = Vec::new();
    if let Some(list) = raw.trust.and_then(|t| t.trusted_accounts) {
        let line = line_of(text, list.span().start);
        for account in list.into_inner() {
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "{origin}, line {line}: trusted account `{}` is not a 12-digit AWS account id",
                    crate::bundle::escape::escape_untrusted(&account)
                ));
            }
            trusted_accounts.push(account);
        }
        trusted_accounts.sort();
        trusted_accounts.dedup();
    }
    Ok(DocumentedPolicy {
        bytes: bytes.to_vec(),
        password,
        access_key_max_age_days: number(keys, "access_keys.max_age_days", 1..=3650)?,
        user_inactive_days: number(users, "inactivity.user_days", 1..=3650)?,
        role_inactive_days: number(roles, "inactivity.role_days", 1..=3650)?,
        trusted_accounts,
    })
}

impl DocumentedPolicy {
    /// The thresholds of the time-based rules: the documented limits where the file gives them,
    /// else `base` (the flags or their defaults).
    pub fn thresholds(&self, base: crate::vocab::Thresholds) -> crate::vocab::Thresholds {
        crate::vocab::Thresholds {
            user_inactive_days: self.user_inactive_days.unwrap_or(base.user_inactive_days),
            role_inactive_days: self.role_inactive_days.unwrap_or(base.role_inactive_days),
            key_max_age_days: self
                .access_key_max_age_days
                .unwrap_or(base.key_max_age_days),
            finding_sla_days: base.finding_sla_days,
        }
    }
}

/// One row of `documented-policy.csv`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ComparisonRow {
    /// e.g. `password.minimum_length`.
    pub requirement: String,
    pub documented: String,
    /// What the account has (the password policy's setting, or the worst case found).
    pub configured: String,
    /// `true`, `false`, or empty when the evidence to judge it is missing.
    pub meets: String,
    pub evidence: String,
}

/// The password policy as configured, for the comparison: `None` when there is no policy.
#[derive(Debug, Clone, Default)]
pub struct Configured {
    pub minimum_length: Option<i64>,
    pub require_uppercase: Option<bool>,
    pub require_lowercase: Option<bool>,
    pub require_numbers: Option<bool>,
    pub require_symbols: Option<bool>,
    pub reuse_prevention: Option<i64>,
    pub max_age_days: Option<i64>,
}

/// The documented password requirements the configured policy does not meet, as
/// `requirement: documented X, configured Y`; `configured` `None` means no policy at all.
pub fn password_gaps(documented: &Password, configured: Option<&Configured>) -> Vec<String> {
    password_rows(documented, configured, "")
        .into_iter()
        .filter(|r| r.meets == "false")
        .map(|r| {
            format!(
                "{}: documented {}, configured {}",
                r.requirement, r.documented, r.configured
            )
        })
        .collect()
}

/// The comparison rows of the password requirements the file states.
pub fn password_rows(
    documented: &Password,
    configured: Option<&Configured>,
    evidence: &str,
) -> Vec<ComparisonRow> {
    let none = Configured::default();
    let c = configured.unwrap_or(&none);
    let shown = |v: Option<i64>| v.map_or_else(|| "not set".to_string(), |n| n.to_string());
    let mut rows = Vec::new();
    let mut row = |requirement: &str, documented: String, configured: String, meets: bool| {
        rows.push(ComparisonRow {
            requirement: requirement.to_string(),
            documented,
            configured,
            meets: meets.to_string(),
            evidence: evidence.to_string(),
        })
    };
    if let Some(min) = documented.minimum_length {
        // IAM's default without a policy is 8 characters.
        let have = c.minimum_length.or(configured.is_none().then_some(8));
        row(
            "password.minimum_length",
            min.to_string(),
            shown(have),
            have.unwrap_or(0) >= i64::from(min),
        );
    }
    for (name, wanted, have) in [
        (
            "password.require_uppercase",
            documented.require_uppercase,
            c.require_uppercase,
        ),
        (
            "password.require_lowercase",
            documented.require_lowercase,
            c.require_lowercase,
        ),
        (
            "password.require_numbers",
            documented.require_numbers,
            c.require_numbers,
        ),
        (
            "password.require_symbols",
            documented.require_symbols,
            c.require_symbols,
        ),
    ] {
        if let Some(wanted) = wanted {
            let have = have.unwrap_or(false);
            row(name, wanted.to_string(), have.to_string(), !wanted || have);
        }
    }
    if let Some(reuse) = documented.reuse_prevention {
        row(
            "password.reuse_prevention",
            reuse.to_string(),
            shown(c.reuse_prevention),
            c.reuse_prevention.unwrap_or(0) >= i64::from(reuse),
        );
    }
    if let Some(age) = documented.max_age_days {
        // No maximum age configured means passwords never expire: longer than any limit.
        row(
            "password.max_age_days",
            age.to_string(),
            shown(c.max_age_days),
            c.max_age_days.is_some_and(|have| have <= i64::from(age)),
        );
    }
    rows
}

/// Every row of `documented-policy.csv`: the password requirements against the configured
/// policy (`password` is `Err` with the reason when its evidence is missing), then the access key
/// age and inactivity limits against the worst case the access review found, then the trusted
/// accounts.
pub fn comparison(
    documented: &DocumentedPolicy,
    password: Result<Option<Configured>, String>,
    review: &super::AccessReview,
) -> Vec<ComparisonRow> {
    let mut rows = Vec::new();
    if let Some(p) = &documented.password {
        let evidence = "evidence/iam-password-policy/password-policy.json";
        match &password {
            Ok(configured) => rows.extend(password_rows(p, configured.as_ref(), evidence)),
            Err(why) => rows.extend(password_rows(p, None, evidence).into_iter().map(|mut r| {
                r.configured = format!("unknown: {why}");
                r.meets = String::new();
                r
            })),
        }
    }
    let review_evidence = "access-review/users.csv";
    let mut worst =
        |requirement: &str, limit: Option<u32>, found: Option<(i64, String)>, evidence: &str| {
            if let Some(limit) = limit {
                rows.push(ComparisonRow {
                    requirement: requirement.to_string(),
                    documented: limit.to_string(),
                    configured: found.as_ref().map_or_else(
                        || "none found".to_string(),
                        |(d, who)| format!("{d} ({who})"),
                    ),
                    meets: found
                        .as_ref()
                        .is_none_or(|(d, _)| *d <= i64::from(limit))
                        .to_string(),
                    evidence: evidence.to_string(),
                });
            }
        };
    let oldest_key = review
        .users
        .iter()
        .flat_map(|u| {
            [
                (&u.key_1_status, u.key_1_age_days, &u.user_name),
                (&u.key_2_status, u.key_2_age_days, &u.user_name),
            ]
        })
        .filter(|(status, _, _)| status.as_str() == "active")
        .filter_map(|(_, age, user)| age.map(|a| (a, format!("oldest active key: {user}"))))
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    worst(
        "access_keys.max_age_days",
        documented.access_key_max_age_days,
        oldest_key,
        review_evidence,
    );
    let idlest_user = review
        .users
        .iter()
        .filter_map(|u| {
            u.days_inactive
                .map(|d| (d, format!("most inactive user: {}", u.user_name)))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    worst(
        "inactivity.user_days",
        documented.user_inactive_days,
        idlest_user,
        review_evidence,
    );
    let idlest_role = review
        .roles
        .iter()
        .filter(|r| !r.service_linked)
        .filter_map(|r| {
            r.days_inactive
                .map(|d| (d, format!("most inactive role: {}", r.role_name)))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    worst(
        "inactivity.role_days",
        documented.role_inactive_days,
        idlest_role,
        "access-review/roles.csv",
    );
    if !documented.trusted_accounts.is_empty() {
        rows.push(ComparisonRow {
            requirement: "trust.trusted_accounts".to_string(),
            documented: documented.trusted_accounts.join(";"),
            configured: "judged by s3-bucket-policy-external and kms-key-policy-external".into(),
            meets: String::new(),
            evidence: String::new(),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "[password]\nminimum_length = 12\nrequire_uppercase = true\nrequire_symbols = false\nreuse_prevention = 24\nmax_age_days = 90\n\n[access_keys]\nmax_age_days = 60\n\n[inactivity]\nuser_days = 45\n\n[trust]\ntrusted_accounts = [\"111122223333\", \"111122223333\"]\n";

    #[test]
    fn a_file_parses_and_sets_the_thresholds_it_names() {
        let p = parse(FULL.as_bytes(), "d.toml").unwrap();
        let password = p.password.clone().unwrap();
        assert_eq!(password.minimum_length, Some(12));
        assert_eq!(password.require_lowercase, None);
        assert_eq!(p.trusted_accounts, ["111122223333"]);
        let t = p.thresholds(crate::vocab::Thresholds::default());
        assert_eq!(
            (
                t.key_max_age_days,
                t.user_inactive_days,
                t.role_inactive_days
            ),
            (60, 45, 180)
        );
        assert_eq!(parse(b"", "d").unwrap().password, None);
    }

    #[test]
    fn refusals_name_the_line() {
        for (text, said) in [
            (
                "[password]\nminimum_length = 4\n",
                "line 2: `password.minimum_length` is 4",
            ),
            (
                "[password]\nmin_length = 12\n",
                "line 2: unknown field `min_length`",
            ),
            ("[passwords]\n", "line 1: unknown field `passwords`"),
            (
                "[trust]\ntrusted_accounts = [\"12\"]\n",
                "line 2: trusted account `12`",
            ),
            ("[access_keys]\nmax_age_days = \"90\"\n", "line 2:"),
        ] {
            let err = parse(text.as_bytes(), "d.toml").unwrap_err();
            assert!(err.contains(said), "{text}: {err}");
        }
    }

    #[test]
    fn the_comparison_meets_or_not_requirement_by_requirement() {
        let p = parse(FULL.as_bytes(), "d").unwrap().password.unwrap();
        let configured = Configured {
            minimum_length: Some(8),
            require_uppercase: Some(true),
            reuse_prevention: Some(24),
            ..Configured::default()
        };
        let gaps = password_gaps(&p, Some(&configured));
        assert_eq!(
            gaps,
            [
                "password.minimum_length: documented 12, configured 8",
                "password.max_age_days: documented 90, configured not set",
            ]
        );
        // No policy at all: IAM's defaults (8 characters, nothing required).
        let gaps = password_gaps(&p, None);
        assert_eq!(gaps.len(), 4, "{gaps:?}");
        assert!(gaps[0].contains("configured 8"));
    }
}
