//! Writes what the analysis produced into the bundle: `findings.csv`, `findings.json`,
//! `rules.csv`, `access-review/users.csv`, `access-review/roles.csv` and
//! `access-review/identity-center.csv`. `index.html` is
//! written by [`write_index`] once the manifest (which it shows) is known.

use std::path::Path;

use serde::Serialize;

use super::{Analysis, Finding};
use crate::bundle::files::{self, FileRecord};
use crate::bundle::manifest::Manifest;
use crate::error::Error;

pub const FINDINGS_CSV: &str = "findings.csv";
pub const FINDINGS_JSON: &str = "findings.json";
pub const RULES_CSV: &str = "rules.csv";
pub const USERS_REVIEW: &str = "access-review/users.csv";
pub const ROLES_REVIEW: &str = "access-review/roles.csv";
pub const IDENTITY_CENTER_REVIEW: &str = "access-review/identity-center.csv";
pub const INDEX_HTML: &str = "index.html";

/// One row of `findings.csv`: lists joined with `;`.
#[derive(Debug, Default, Serialize)]
pub(crate) struct FindingRow<'a> {
    /// Only in an org bundle's union: the account the finding is of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<&'a str>,
    severity: &'a str,
    /// `open`, or `accepted` by an exception (then the `accepted_*` columns say by which).
    status: &'a str,
    rule: &'a str,
    resource: &'a str,
    region: &'a str,
    detail: &'a str,
    controls: String,
    references: String,
    evidence: &'a str,
    remediation: &'a str,
    accepted_reason: &'a str,
    accepted_by: &'a str,
    accepted_ticket: &'a str,
    accepted_until: &'a str,
    /// The line of the exception in `exceptions.toml`.
    accepted_line: String,
}

impl<'a> From<&'a Finding> for FindingRow<'a> {
    fn from(f: &'a Finding) -> Self {
        FindingRow {
            account: None,
            severity: f.severity.as_str(),
            rule: &f.rule,
            resource: &f.resource,
            region: &f.region,
            detail: &f.detail,
            controls: f.controls.join(";"),
            references: f.references.join(";"),
            evidence: &f.evidence,
            remediation: &f.remediation,
            status: f.status.as_str(),
            accepted_reason: f.exception.as_ref().map_or("", |e| e.reason.as_str()),
            accepted_by: f.exception.as_ref().map_or("", |e| e.approved_by.as_str()),
            accepted_ticket: f.exception.as_ref().map_or("", |e| e.ticket.as_str()),
            accepted_until: f.exception.as_ref().map_or("", |e| e.expires.as_str()),
            accepted_line: f
                .exception
                .as_ref()
                .map_or_else(String::new, |e| e.line.to_string()),
        }
    }
}

/// One row of `rules.csv`: every rule with whether it could be evaluated.
#[derive(Debug, Default, Serialize)]
pub(crate) struct RuleRow<'a> {
    rule: &'a str,
    title: &'a str,
    severity: &'a str,
    status: &'a str,
    findings: usize,
    controls: String,
    references: String,
    reason: &'a str,
}

/// The rows of `rules.csv`, one per rule outcome.
pub(crate) fn rule_rows(rules: &[super::RuleOutcome]) -> Vec<RuleRow<'_>> {
    rules
        .iter()
        .map(|r| RuleRow {
            rule: &r.rule,
            title: &r.title,
            severity: r.severity.as_str(),
            status: r.status.as_str(),
            findings: r.findings,
            controls: r.controls.join(";"),
            references: r.references.join(";"),
            reason: &r.reason,
        })
        .collect()
}

/// The rows of an org bundle's `findings.csv`: the account, then an account bundle's columns.
/// Written with a header also when there is no finding.
pub(crate) fn org_finding_rows_csv(findings: &[(String, Finding)]) -> Vec<u8> {
    let empty = [(String::new(), Finding::empty())];
    let (rows, none): (Vec<FindingRow>, bool) = if findings.is_empty() {
        (rows_with_account(&empty), true)
    } else {
        (rows_with_account(findings), false)
    };
    let bytes = crate::contract::csv_bytes(&rows);
    if none {
        // Keep the header only.
        let end = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        bytes[..end].to_vec()
    } else {
        bytes
    }
}

fn rows_with_account(findings: &[(String, Finding)]) -> Vec<FindingRow<'_>> {
    findings
        .iter()
        .map(|(account, f)| FindingRow {
            account: Some(account),
            ..FindingRow::from(f)
        })
        .collect()
}

/// Writes the findings and the access review; returns their file records.
pub fn write_findings(root: &Path, analysis: &Analysis) -> Result<Vec<FileRecord>, Error> {
    let rows: Vec<FindingRow> = analysis.findings.iter().map(FindingRow::from).collect();
    let rules = rule_rows(&analysis.rules);
    let json = serde_json::json!({
        "thresholds": analysis.thresholds,
        "findings": analysis.findings,
        "rules": analysis.rules,
    });
    let mut json_bytes = serde_json::to_vec_pretty(&json).expect("findings serialize");
    json_bytes.push(b'\n');
    let review = &analysis.access_review;
    let mut written = write_exceptions(root, analysis.exceptions.as_ref())?;
    if let Some((policy, rows)) = &analysis.documented {
        use super::documented::{DOCUMENTED_CSV, DOCUMENTED_TOML};
        written.push(files::write_file(
            root,
            DOCUMENTED_TOML,
            &policy.bytes,
            None,
        )?);
        written.push(files::write_file(
            root,
            DOCUMENTED_CSV,
            &crate::contract::csv_bytes(rows),
            Some(rows.len() as u64),
        )?);
    }
    written.extend([
        files::write_file(
            root,
            FINDINGS_CSV,
            &crate::contract::csv_bytes(&rows),
            Some(rows.len() as u64),
        )?,
        files::write_file(
            root,
            FINDINGS_JSON,
            &json_bytes,
            Some(analysis.findings.len() as u64),
        )?,
        files::write_file(
            root,
            RULES_CSV,
            &crate::contract::csv_bytes(&rules),
            Some(rules.len() as u64),
        )?,
        files::write_file(
            root,
            USERS_REVIEW,
            &crate::contract::csv_bytes(&review.users),
            Some(review.users.len() as u64),
        )?,
        files::write_file(
            root,
            ROLES_REVIEW,
            &crate::contract::csv_bytes(&review.roles),
            Some(review.roles.len() as u64),
        )?,
        files::write_file(
            root,
            IDENTITY_CENTER_REVIEW,
            &crate::contract::csv_bytes(&review.identity_center),
            Some(review.identity_center.len() as u64),
        )?,
    ]);
    Ok(written)
}

/// Writes the exceptions file as it was given (`exceptions.toml`) and each exception's state
/// (`exceptions.csv`), when exceptions were applied.
pub fn write_exceptions(
    root: &Path,
    applied: Option<&super::exceptions::Applied>,
) -> Result<Vec<FileRecord>, Error> {
    use super::exceptions::{rows, EXCEPTIONS_CSV, EXCEPTIONS_TOML};
    let Some(applied) = applied else {
        return Ok(Vec::new());
    };
    let rows = rows(applied);
    Ok(vec![
        files::write_file(root, EXCEPTIONS_TOML, &applied.file.bytes, None)?,
        files::write_file(
            root,
            EXCEPTIONS_CSV,
            &crate::contract::csv_bytes(&rows),
            Some(rows.len() as u64),
        )?,
    ])
}

/// Writes `index.html` for the manifest (whose `files` it links to) and the analysis.
pub fn write_index(
    root: &Path,
    manifest: &Manifest,
    analysis: &Analysis,
) -> Result<FileRecord, Error> {
    let page = super::html::render(manifest, analysis);
    files::write_file(root, INDEX_HTML, page.as_bytes(), None)
}
