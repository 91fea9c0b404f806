//! What one bundle says, reduced to what comparisons over time need: its findings keyed by
//! (account, rule, resource), each rule's and collector's status, the access review's users and
//! roles, and per control the findings counted. Read from a bundle opened once and verified
//! ([`SourceBundle`]): a single-account bundle or an org bundle (its accounts' bundles and the
//! org rules).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::bundle::files::FileRecord;
use crate::bundle::manifest::{Manifest, MANIFEST_FILE};
use crate::bundle::org_manifest::{OrgManifest, ORG_KIND};
use crate::contract::cell::restore;
use crate::error::Error;
use crate::findings::write::{FINDINGS_JSON, ROLES_REVIEW, USERS_REVIEW};
use crate::findings::{Finding, RuleOutcome, RuleStatus};
use crate::report::SourceBundle;
use crate::vocab::{CollectorStatus, Severity};

/// The account an org-level rule's status is filed under.
pub const ORGANIZATION: &str = "organization";

/// A finding as comparisons see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub severity: Severity,
    pub region: String,
    pub detail: String,
    pub controls: Vec<String>,
    /// The exception that accepted it (`approved_by`, `expires`); `None` when open.
    pub accepted: Option<(String, String)>,
}

/// (account, rule, resource).
pub type FindingKey = (String, String, String);

/// One bundle, reduced.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The bundle's name (its folder, or its zip's top folder).
    pub name: String,
    /// The collection's start (RFC 3339 UTC), which orders bundles in time.
    pub collected_at: String,
    /// The account, or the organization (`o-...`), the bundle is of.
    pub subject: String,
    pub findings: BTreeMap<FindingKey, Seen>,
    /// (account, rule) -> status; org rules under [`ORGANIZATION`].
    pub rules: BTreeMap<(String, String), RuleStatus>,
    /// (account, collector) -> status.
    pub collectors: BTreeMap<(String, String), CollectorStatus>,
    /// (account, user name) -> the access review row, column -> value.
    pub users: BTreeMap<(String, String), BTreeMap<String, String>>,
    /// (account, role name) -> the access review row.
    pub roles: BTreeMap<(String, String), BTreeMap<String, String>>,
    /// Every TSC criterion a rule of the bundle maps to -> its findings.
    pub controls: BTreeMap<String, usize>,
    /// Rule -> the TSC criteria it maps to (from the rules' outcomes).
    pub rule_controls: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct FindingsFile {
    #[serde(default)]
    findings: Vec<Finding>,
    #[serde(default)]
    rules: Vec<RuleOutcome>,
}

fn failed(source: &SourceBundle, reason: String) -> Error {
    Error::Report {
        path: source.path().to_path_buf(),
        reason,
    }
}

/// The bytes of `rel`, checked against the verified manifest; `None` when the bundle has no
/// such file.
fn read(source: &mut SourceBundle, rel: &str) -> Result<Option<Vec<u8>>, Error> {
    let Some(record): Option<FileRecord> = source.files().iter().find(|f| f.path == rel).cloned()
    else {
        return Ok(None);
    };
    source.read_file(&record).map(Some)
}

/// A CSV table as rows of column -> value, cells restored when the bundle's tables are
/// spreadsheet-safe.
fn rows(bytes: &[u8], safe: bool) -> Result<Vec<BTreeMap<String, String>>, String> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        out.push(
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| {
                    let value = if safe { restore(v) } else { v };
                    (h.to_string(), value.to_string())
                })
                .collect(),
        );
    }
    Ok(out)
}

impl Snapshot {
    /// Reads the bundle `source` (already opened and verified).
    pub fn read(source: &mut SourceBundle) -> Result<Snapshot, Error> {
        let manifest_bytes = source.manifest_bytes().to_vec();
        let value: serde_json::Value = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| failed(source, format!("{MANIFEST_FILE} does not parse: {e}")))?;
        let mut snapshot = Snapshot {
            name: source.name().to_string(),
            ..Snapshot::default()
        };
        if value.get("kind").and_then(|k| k.as_str()) == Some(ORG_KIND) {
            let org: OrgManifest = serde_json::from_value(value)
                .map_err(|e| failed(source, format!("its org manifest cannot be read: {e}")))?;
            snapshot.collected_at = org.run.started_at.clone();
            snapshot.subject = if org.organization.id.is_empty() {
                org.organization.collected_from.clone()
            } else {
                org.organization.id.clone()
            };
            for account in &org.accounts {
                if let Some(dir) = &account.bundle {
                    snapshot.add_account(source, &format!("{dir}/"))?;
                }
            }
            // The org rules: their findings carry the account they concern.
            if let Some(bytes) = read(source, FINDINGS_JSON)? {
                #[derive(Deserialize)]
                struct OrgFindings {
                    #[serde(default)]
                    findings: Vec<serde_json::Value>,
                    #[serde(default)]
                    rules: Vec<RuleOutcome>,
                }
                let parsed: OrgFindings = serde_json::from_slice(&bytes)
                    .map_err(|e| failed(source, format!("{FINDINGS_JSON} does not parse: {e}")))?;
                for rule in &parsed.rules {
                    snapshot
                        .rules
                        .insert((ORGANIZATION.to_string(), rule.rule.clone()), rule.status);
                    snapshot
                        .rule_controls
                        .insert(rule.rule.clone(), rule.controls.clone());
                }
                for value in parsed.findings {
                    let account = value
                        .get("account")
                        .and_then(|a| a.as_str())
                        .unwrap_or_default()
                        .to_string();
                    // A finding that does not read fails the bundle: never one dropped unseen.
                    let finding = serde_json::from_value::<Finding>(value).map_err(|e| {
                        failed(
                            source,
                            format!("a finding of {FINDINGS_JSON} does not read: {e}"),
                        )
                    })?;
                    if parsed.rules.iter().any(|r| r.rule == finding.rule) {
                        snapshot.add_finding(&account, finding);
                    }
                }
            }
        } else {
            let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
                .map_err(|e| failed(source, format!("its manifest cannot be read: {e}")))?;
            snapshot.collected_at = manifest.run.started_at.clone();
            snapshot.subject = manifest.account.id.clone();
            snapshot.add_account_from(source, "", &manifest)?;
        }
        Ok(snapshot)
    }

    fn add_account(&mut self, source: &mut SourceBundle, prefix: &str) -> Result<(), Error> {
        let rel = format!("{prefix}{MANIFEST_FILE}");
        let bytes =
            read(source, &rel)?.ok_or_else(|| failed(source, format!("it has no {rel}")))?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| failed(source, format!("{rel} cannot be read: {e}")))?;
        self.add_account_from(source, prefix, &manifest)
    }

    fn add_account_from(
        &mut self,
        source: &mut SourceBundle,
        prefix: &str,
        manifest: &Manifest,
    ) -> Result<(), Error> {
        let account = manifest.account.id.clone();
        for collector in &manifest.collectors {
            self.collectors
                .insert((account.clone(), collector.id.clone()), collector.status);
        }
        let rel = format!("{prefix}{FINDINGS_JSON}");
        if let Some(bytes) = read(source, &rel)? {
            let parsed: FindingsFile = serde_json::from_slice(&bytes)
                .map_err(|e| failed(source, format!("{rel} does not parse: {e}")))?;
            for rule in parsed.rules {
                self.rule_controls
                    .insert(rule.rule.clone(), rule.controls.clone());
                self.rules.insert((account.clone(), rule.rule), rule.status);
            }
            for finding in parsed.findings {
                self.add_finding(&account, finding);
            }
        }
        let safe = manifest.table_cells.is_some();
        for (table, target) in [(USERS_REVIEW, true), (ROLES_REVIEW, false)] {
            let rel = format!("{prefix}{table}");
            let Some(bytes) = read(source, &rel)? else {
                continue;
            };
            let key = if target { "user_name" } else { "role_name" };
            for row in rows(&bytes, safe).map_err(|e| failed(source, format!("{rel}: {e}")))? {
                let name = row.get(key).cloned().unwrap_or_default();
                let entry = (account.clone(), name);
                if target {
                    self.users.insert(entry, row);
                } else {
                    self.roles.insert(entry, row);
                }
            }
        }
        Ok(())
    }

    fn add_finding(&mut self, account: &str, finding: Finding) {
        // The criteria count open findings, as the bundle's own control matrix does.
        if finding.status == crate::findings::FindingStatus::Open {
            for control in &finding.controls {
                *self.controls.entry(control.clone()).or_default() += 1;
            }
        }
        let key = (account.to_string(), finding.rule, finding.resource);
        // Several findings of one rule on one resource (regions): the most serious stands.
        let seen = Seen {
            severity: finding.severity,
            region: finding.region,
            detail: finding.detail,
            controls: finding.controls,
            accepted: match finding.status {
                crate::findings::FindingStatus::Accepted => Some(
                    finding
                        .exception
                        .map(|e| (e.approved_by, e.expires))
                        .unwrap_or_default(),
                ),
                crate::findings::FindingStatus::Open => None,
            },
        };
        // An open one stands over an accepted one of the same rule and resource.
        match self.findings.get(&key) {
            Some(old)
                if (old.accepted.is_none(), std::cmp::Reverse(old.severity))
                    >= (seen.accepted.is_none(), std::cmp::Reverse(seen.severity)) => {}
            _ => {
                self.findings.insert(key, seen);
            }
        }
    }
}
