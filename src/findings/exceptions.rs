//! Accepted risks: findings a team has decided to live with, each with who accepted it, why,
//! and until when (README "Accepting a finding").
//!
//! An exceptions file is TOML, one `[[exception]]` table per accepted risk:
//!
//! ```toml
//! [[exception]]
//! rule = "admin-policy"                                   # a rule id (rules.csv)
//! resource = "arn:aws:iam::123456789012:role/break-glass" # exact, or a glob: * and ?
//! account = "123456789012"                                # optional
//! region = "global"                                       # optional
//! reason = "Break-glass role, used under the incident runbook"
//! approved_by = "jane.doe@example.com"
//! ticket = "SEC-142"                                      # optional
//! expires = 2027-03-31                                    # a date; required
//! ```
//!
//! A finding matched by an exception that has not expired stays in the findings with status
//! `accepted` and the exception's fields; it never counts towards `--fail-on`. An exception is
//! judged as of the UTC date the run started (the source run's, for `report`): it applies up to
//! and including its `expires` date. Each exception ends in one state: `applied` (it accepted at
//! least one finding), `expired`, `stale` (it matches no finding), `other_account` (it names
//! an account the bundle does not hold) or, in an account bundle, `org_level` (it names an org
//! rule, judged in the org bundle). When several exceptions match a finding, the first in
//! the file is the one recorded on it.
//!
//! The file is untrusted input (a bundle carries it, `report` reads it back): it must be UTF-8
//! TOML of at most 1 MiB, every key known, every rule a rule of the tool, no control or
//! invisible formatting character in any value. Anything else is refused with its line.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::Finding;

/// The copy of the exceptions file in a bundle.
pub const EXCEPTIONS_TOML: &str = "exceptions.toml";
/// Each exception with its state, in a bundle.
pub const EXCEPTIONS_CSV: &str = "exceptions.csv";
/// The largest exceptions file read.
pub const MAX_BYTES: usize = 1 << 20;
/// The most exceptions one file may hold.
pub const MAX_ENTRIES: usize = 1_000;
/// The longest resource pattern, in characters: with [`MAX_ENTRIES`] it bounds the work of
/// matching a file from an untrusted bundle (each pattern costs at most its length times the
/// resource's per finding of its rule).
const MAX_PATTERN_CHARS: usize = 512;
/// The longest value of one field, in characters.
const MAX_FIELD_CHARS: usize = 4096;

/// Whether a finding is open or an accepted risk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// Also what a finding of a bundle written before exceptions existed is.
    #[default]
    Open,
    Accepted,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Accepted => "accepted",
        }
    }
}

/// What an accepted finding carries of the exception that accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// The line of its `[[exception]]` table in the exceptions file.
    pub line: usize,
    pub reason: String,
    pub approved_by: String,
    #[serde(default)]
    pub ticket: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
}

/// One accepted risk, as the file states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// The line of its `[[exception]]` table.
    pub line: usize,
    pub rule: String,
    /// An exact resource, or a glob (`*` any run of characters, `?` one character).
    pub resource: String,
    pub account: Option<String>,
    pub region: Option<String>,
    pub reason: String,
    pub approved_by: String,
    pub ticket: Option<String>,
    /// The last day it applies.
    pub expires: NaiveDate,
}

impl Exception {
    /// Whether it matches `finding` of `account` (rule, resource, account and region).
    pub fn matches(&self, account: &str, finding: &Finding) -> bool {
        self.rule == finding.rule
            && glob_matches(&self.resource, &finding.resource)
            && self.account.as_deref().is_none_or(|a| a == account)
            && self.region.as_deref().is_none_or(|r| r == finding.region)
    }

    /// Whether it has expired on `as_of`: it applies up to and including `expires`.
    pub fn expired(&self, as_of: NaiveDate) -> bool {
        as_of > self.expires
    }

    fn acceptance(&self) -> Acceptance {
        Acceptance {
            line: self.line,
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
            ticket: self.ticket.clone().unwrap_or_default(),
            expires: self.expires.format("%Y-%m-%d").to_string(),
        }
    }
}

/// A parsed exceptions file with its bytes (copied into the bundle as they were given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionsFile {
    pub bytes: Vec<u8>,
    pub entries: Vec<Exception>,
}

/// Where the exceptions a bundle applies came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `--exceptions` (or the config file) of the run that collected the evidence.
    Run,
    /// The exceptions file recorded in the source bundle (`report`).
    Bundle,
    /// A file given anew to `report`, not the one the source bundle recorded.
    Given,
}

/// An exceptions file to judge findings with: where it came from and the date it is judged on.
#[derive(Debug, Clone, Copy)]
pub struct Judge<'a> {
    pub file: &'a ExceptionsFile,
    pub source: Source,
    pub as_of: NaiveDate,
}

impl Judge<'_> {
    /// Applies the file to `findings`, each paired with its account; `accounts` are the ones the
    /// bundle holds.
    pub fn apply<'f>(
        &self,
        accounts: &BTreeSet<&str>,
        findings: impl IntoIterator<Item = (&'f str, &'f mut Finding)>,
    ) -> Applied {
        Applied {
            file: self.file.clone(),
            source: self.source,
            as_of: self.as_of,
            outcomes: apply(self.file, self.as_of, accounts, findings),
        }
    }
}

/// What became of one exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Applied,
    Expired,
    Stale,
    OtherAccount,
    /// In an account bundle of an org run: it names an org rule, judged in the org bundle.
    OrgLevel,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Expired => "expired",
            State::Stale => "stale",
            State::OtherAccount => "other_account",
            State::OrgLevel => "org_level",
        }
    }
}

/// One exception and what it came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub exception: Exception,
    pub state: State,
    /// The findings it matches (accepted by it, or, when expired, the ones it would have).
    pub findings: usize,
}

/// The exceptions applied to one bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub file: ExceptionsFile,
    pub source: Source,
    pub as_of: NaiveDate,
    pub outcomes: Vec<Outcome>,
}

impl Applied {
    pub fn count(&self, state: State) -> usize {
        self.outcomes.iter().filter(|o| o.state == state).count()
    }
}

/// Parses an exceptions file. `origin` names it in errors (its path, or the bundle's copy);
/// `known_rule` says whether a rule id exists. The error names the line and what is wrong.
pub fn parse(
    bytes: &[u8],
    origin: &str,
    known_rule: &dyn Fn(&str) -> bool,
) -> Result<ExceptionsFile, String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "{origin}: {} bytes, more than the {} an exceptions file may hold",
            bytes.len(),
            MAX_BYTES
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = line_of(&bytes[..e.valid_up_to()], e.valid_up_to());
        format!("{origin}, line {line}: not UTF-8 text")
    })?;
    let line_at = |offset: usize| line_of(text.as_bytes(), offset);
    let raw: RawFile = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => format!(
            "{origin}, line {}: {}",
            line_at(span.start),
            e.message().trim_end()
        ),
        None => format!("{origin}: {}", e.message().trim_end()),
    })?;
    if raw.exception.len() > MAX_ENTRIES {
        return Err(format!(
            "{origin}: {} exceptions, more than the {MAX_ENTRIES} one file may hold",
            raw.exception.len()
        ));
    }
    let mut entries = Vec::with_capacity(raw.exception.len());
    for spanned in raw.exception {
        let line = line_at(spanned.span().start);
        let entry = spanned.into_inner();
        let at = |span: std::ops::Range<usize>| line_at(span.start);
        let fail = |line: usize, what: String| format!("{origin}, line {line}: {what}");
        let rule_line = at(entry.rule.span());
        let rule = entry.rule.into_inner();
        text_field("rule", &rule).map_err(|e| fail(rule_line, e))?;
        if !known_rule(&rule) {
            return Err(fail(
                rule_line,
                format!(
                    "unknown rule `{}`; the rule ids are the `rule` column of a bundle's rules.csv (README \"Findings rules\")",
                    crate::bundle::escape::escape_untrusted(&rule)
                ),
            ));
        }
        let resource_line = at(entry.resource.span());
        let resource = entry.resource.into_inner();
        text_field("resource", &resource).map_err(|e| fail(resource_line, e))?;
        if resource.chars().count() > MAX_PATTERN_CHARS {
            return Err(fail(
                resource_line,
                format!("`resource` is longer than {MAX_PATTERN_CHARS} characters"),
            ));
        }
        let account = match entry.account {
            None => None,
            Some(value) => {
                let account_line = at(value.span());
                let value = value.into_inner();
                if value.len() != 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(fail(
                        account_line,
                        format!(
                            "account `{}` is not a 12-digit AWS account id",
                            crate::bundle::escape::escape_untrusted(&value)
                        ),
                    ));
                }
                Some(value)
            }
        };
        for (name, value) in [
            ("region", entry.region.as_ref()),
            ("reason", Some(&entry.reason)),
            ("approved_by", Some(&entry.approved_by)),
            ("ticket", entry.ticket.as_ref()),
        ] {
            if let Some(value) = value {
                text_field(name, value.get_ref()).map_err(|e| fail(at(value.span()), e))?;
            }
        }
        let expires_line = at(entry.expires.span());
        let expires = date(entry.expires.get_ref()).ok_or_else(|| {
            fail(
                expires_line,
                "`expires` must be a date such as 2027-03-31 (a TOML date, or that text in quotes)"
                    .to_string(),
            )
        })?;
        entries.push(Exception {
            line,
            rule,
            resource,
            account,
            region: entry.region.map(Spanned::into_inner),
            reason: entry.reason.into_inner(),
            approved_by: entry.approved_by.into_inner(),
            ticket: entry.ticket.map(Spanned::into_inner),
            expires,
        });
    }
    Ok(ExceptionsFile {
        bytes: bytes.to_vec(),
        entries,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exception: Vec<Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    rule: Spanned<String>,
    resource: Spanned<String>,
    account: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    reason: Spanned<String>,
    approved_by: Spanned<String>,
    ticket: Option<Spanned<String>>,
    expires: Spanned<toml::Value>,
}

/// A TOML date (`2027-03-31`) or the same text quoted; never a time.
fn date(value: &toml::Value) -> Option<NaiveDate> {
    match value {
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
            let d = dt.date?;
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
        _ => None,
    }
}

/// A value shown to auditors and on terminals: not empty, not too long, and with no character
/// that could hide or forge text around it.
fn text_field(name: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("`{name}` is empty"));
    }
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(format!(
            "`{name}` is longer than {MAX_FIELD_CHARS} characters"
        ));
    }
    if crate::bundle::escape::escape_untrusted(value) != value.replace('\\', "\\\\") {
        return Err(format!(
            "`{name}` holds a control or invisible formatting character: `{}`",
            crate::bundle::escape::escape_untrusted(value)
        ));
    }
    Ok(())
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &[u8], offset: usize) -> usize {
    let end = offset.min(text.len());
    text[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (`/` and `:`
/// included) and `?` exactly one; every other character matches itself, case included.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // The last `*` seen and the text position it was tried at: backtracking to it only.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Applies `file` as of `as_of` to `findings`, each of the account it is paired with; `accounts`
/// are the accounts the bundle holds. A matched finding becomes `accepted` (an already accepted
/// one is judged anew); returns every exception's outcome, in file order.
pub fn apply<'a>(
    file: &ExceptionsFile,
    as_of: NaiveDate,
    accounts: &BTreeSet<&str>,
    findings: impl IntoIterator<Item = (&'a str, &'a mut Finding)>,
) -> Vec<Outcome> {
    let mut counts = vec![0usize; file.entries.len()];
    for (account, finding) in findings {
        finding.status = FindingStatus::Open;
        finding.exception = None;
        for (i, entry) in file.entries.iter().enumerate() {
            if !entry.matches(account, finding) {
                continue;
            }
            counts[i] += 1;
            if !entry.expired(as_of) && finding.exception.is_none() {
                finding.status = FindingStatus::Accepted;
                finding.exception = Some(entry.acceptance());
            }
        }
    }
    file.entries
        .iter()
        .zip(counts)
        .map(|(entry, findings)| {
            let state = if entry.expired(as_of) {
                State::Expired
            } else if findings > 0 {
                State::Applied
            } else if entry
                .account
                .as_deref()
                .is_some_and(|a| !accounts.contains(a))
            {
                State::OtherAccount
            } else {
                State::Stale
            };
            Outcome {
                exception: entry.clone(),
                state,
                findings,
            }
        })
        .collect()
}

/// One row of `exceptions.csv`.
#[derive(Debug, Default, Serialize)]
pub struct ExceptionRow<'a> {
    pub line: usize,
    pub state: &'static str,
    pub findings: usize,
    pub rule: &'a str,
    pub resource: &'a str,
    pub account: &'a str,
    pub region: &'a str,
    pub reason: &'a str,
    pub approved_by: &'a str,
    pub ticket: &'a str,
    pub expires: String,
}

/// The rows of `exceptions.csv`, in file order.
pub fn rows(applied: &Applied) -> Vec<ExceptionRow<'_>> {
    applied
        .outcomes
        .iter()
        .map(|o| {
            let e = &o.exception;
            ExceptionRow {
                line: e.line,
                state: o.state.as_str(),
                findings: o.findings,
                rule: &e.rule,
                resource: &e.resource,
                account: e.account.as_deref().unwrap_or_default(),
                region: e.region.as_deref().unwrap_or_default(),
                reason: &e.reason,
                approved_by: &e.approved_by,
                ticket: e.ticket.as_deref().unwrap_or_default(),
                expires: e.expires.format("%Y-%m-%d").to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Severity;

    fn known(rule: &str) -> bool {
        ["admin-policy", "root-mfa-disabled"].contains(&rule)
    }

    fn finding(rule: &str, resource: &str, region: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::High,
            controls: vec![],
            resource: resource.into(),
            region: region.into(),
            detail: String::new(),
            evidence: String::new(),
            references: vec![],
            remediation: String::new(),
            status: FindingStatus::Open,
            exception: None,
        }
    }

    const ONE: &str = r#"
# break glass
[[exception]]
rule = "admin-policy"
resource = "arn:aws:iam::123456789012:role/break-*"
reason = "Break-glass role"
approved_by = "jane@example.com"
ticket = "SEC-1"
expires = 2027-03-31
"#;

    #[test]
    fn a_file_parses_with_the_line_of_each_table() {
        let file = parse(ONE.as_bytes(), "x.toml", &known).unwrap();
        assert_eq!(file.entries.len(), 1);
        let e = &file.entries[0];
        assert_eq!(e.line, 3);
        assert_eq!(e.expires, NaiveDate::from_ymd_opt(2027, 3, 31).unwrap());
        assert_eq!(e.ticket.as_deref(), Some("SEC-1"));
        let quoted = ONE.replace("2027-03-31", "\"2027-03-31\"");
        assert_eq!(
            parse(quoted.as_bytes(), "x", &known).unwrap().entries[0].expires,
            e.expires
        );
        assert!(parse(b"", "x", &known).unwrap().entries.is_empty());
    }

    #[test]
    fn every_refusal_names_the_line_and_the_cause() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "rule = \"admin-policy\"",
                "rule = \"no-such-rule\"",
                "line 4: unknown rule `no-such-rule`",
            ),
            (
                "ticket = \"SEC-1\"",
                "ticket = \"SEC-1\"\nowner = \"x\"",
                "line 9: unknown field `owner`",
            ),
            (
                "expires = 2027-03-31",
                "",
                "line 3: missing field `expires`",
            ),
            (
                "expires = 2027-03-31",
                "expires = 2027-03-31T10:00:00Z",
                "line 9: `expires` must be a date",
            ),
            (
                "expires = 2027-03-31",
                "expires = \"next year\"",
                "line 9: `expires` must be a date",
            ),
            (
                "ticket = \"SEC-1\"",
                "ticket = \"SEC-1\"\naccount = \"12345\"",
                "line 9: account `12345` is not a 12-digit",
            ),
            (
                "reason = \"Break-glass role\"",
                "reason = \"  \"",
                "line 6: `reason` is empty",
            ),
            (
                "reason = \"Break-glass role\"",
                "reason = \"ok\\u001b[2J\"",
                "line 6: `reason` holds a control",
            ),
            (
                "reason = \"Break-glass role\"",
                "reason = \"ok\\u202e\"",
                "line 6: `reason` holds a control",
            ),
            ("[[exception]]", "[[exception]\n", "line 3:"),
        ];
        for (from, to, expected) in cases {
            let text = ONE.replace(from, to);
            let err = parse(text.as_bytes(), "x.toml", &known).unwrap_err();
            assert!(err.starts_with("x.toml, "), "{err}");
            assert!(err.contains(expected), "{to}: {err}");
        }
        let err = parse(b"a = \xff", "x.toml", &known).unwrap_err();
        assert!(err.contains("line 1: not UTF-8"), "{err}");
        let big = vec![b'#'; MAX_BYTES + 1];
        assert!(parse(&big, "x", &known).unwrap_err().contains("more than"));
    }

    #[test]
    fn globs_match_whole_resources() {
        assert!(glob_matches("arn:aws:s3:::www-*", "arn:aws:s3:::www-site"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a*b*c", "a/x:b/y/c"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "ac"));
        assert!(!glob_matches("arn:aws:s3:::www-*", "arn:aws:s3:::WWW-site"));
        assert!(!glob_matches("role/x", "role/x2"));
        assert!(!glob_matches(&"*a".repeat(50), &"a".repeat(40)));
    }

    #[test]
    fn applied_expired_stale_and_other_account() {
        let text = format!(
            "{ONE}\n[[exception]]\nrule = \"admin-policy\"\nresource = \"gone\"\nreason = \"r\"\napproved_by = \"a\"\nexpires = 2027-01-01\n\
             \n[[exception]]\nrule = \"root-mfa-disabled\"\nresource = \"*\"\nreason = \"r\"\napproved_by = \"a\"\nexpires = 2026-01-01\n\
             \n[[exception]]\nrule = \"admin-policy\"\nresource = \"*\"\naccount = \"999999999999\"\nreason = \"r\"\napproved_by = \"a\"\nexpires = 2027-01-01\n"
        );
        let file = parse(text.as_bytes(), "x", &known).unwrap();
        let mut findings = [
            finding(
                "admin-policy",
                "arn:aws:iam::123456789012:role/break-glass",
                "global",
            ),
            finding(
                "admin-policy",
                "arn:aws:iam::123456789012:role/other",
                "global",
            ),
            finding("root-mfa-disabled", "root", "global"),
        ];
        let accounts = BTreeSet::from(["123456789012"]);
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let outcomes = apply(
            &file,
            as_of,
            &accounts,
            findings.iter_mut().map(|f| ("123456789012", f)),
        );
        let states: Vec<(State, usize)> = outcomes.iter().map(|o| (o.state, o.findings)).collect();
        assert_eq!(
            states,
            [
                (State::Applied, 1),
                (State::Stale, 0),
                (State::Expired, 1),
                (State::OtherAccount, 0)
            ]
        );
        assert_eq!(findings[0].status, FindingStatus::Accepted);
        assert_eq!(findings[0].exception.as_ref().unwrap().line, 3);
        assert_eq!(findings[1].status, FindingStatus::Open);
        assert_eq!(findings[2].status, FindingStatus::Open);
        // The last day still applies; the day after does not.
        let last = NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
        let outcomes = apply(
            &file,
            last,
            &accounts,
            findings.iter_mut().map(|f| ("123456789012", f)),
        );
        assert_eq!(outcomes[0].state, State::Applied);
        let outcomes = apply(
            &file,
            last.succ_opt().unwrap(),
            &accounts,
            findings.iter_mut().map(|f| ("123456789012", f)),
        );
        assert_eq!(outcomes[0].state, State::Expired);
        assert_eq!(findings[0].status, FindingStatus::Open);
        assert!(findings[0].exception.is_none());
    }
}
