//! Builds the org-level files of an org bundle whose `accounts/<id>/` bundles are in place:
//! `organization/`, the org's findings (every account's, with an `account` column, and the org
//! rules'), the access review union, `index.html` and the org manifest. `collect --org` and
//! `merge` both end here, so a merged bundle is built exactly like a single run's.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bundle::files::{self, FileRecord};
use crate::bundle::manifest::{BundleStatus, FindingsSummary, Tool, SCHEMA_VERSION};
use crate::bundle::org_manifest::{
    MergedFrom, OrgAccountRecord, OrgIdentity, OrgManifest, OrgRun, ShardRecord, ORG_KIND,
};
use crate::contract::organization::{
    status, AccountRow, DelegatedAdminRow, OrganizationFile, OuRow, PoliciesFile, PolicyRow,
};
use crate::contract::{csv_bytes, Document, Table};
use crate::error::Error;
use crate::findings::exceptions::Judge;
use crate::findings::org_rules::{self, OrgAnalysis};
use crate::findings::write::{
    FINDINGS_CSV, FINDINGS_JSON, INDEX_HTML, ROLES_REVIEW, RULES_CSV, USERS_REVIEW,
};
use crate::findings::{Finding, FindingStatus, RuleOutcome, RuleStatus};
use crate::vocab::{CallError, Severity};

use super::listing::OrgFacts;

/// Everything the org-level files are built from.
pub struct OrgBuild<'a> {
    pub root: &'a Path,
    /// The organization; its accounts carry their collection status and error.
    pub facts: &'a OrgFacts,
    pub accounts: Vec<OrgAccountRecord>,
    pub identity: OrgIdentity,
    pub run: OrgRun,
    pub shard: Option<ShardRecord>,
    pub merged_from: Vec<MergedFrom>,
    pub fail_on: Option<Severity>,
    /// The exceptions file, where it came from, and the date it is judged on: applied to every
    /// account's findings and the org rules' (README "Accepting a finding").
    pub exceptions: Option<Judge<'a>>,
}

/// What was built: the manifest (to be written by the staging) and the findings.
pub struct OrgBuilt {
    pub manifest: OrgManifest,
    pub findings: Vec<(String, Finding)>,
    pub rules: Vec<RuleOutcome>,
}

/// What the org reads of an account's `findings.json`.
#[derive(Deserialize)]
struct AccountFindings {
    findings: Vec<Finding>,
}

fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("serializes");
    bytes.push(b'\n');
    bytes
}

/// Writes the `organization/` folder.
fn write_organization(root: &Path, facts: &OrgFacts) -> Result<Vec<FileRecord>, Error> {
    let policy_rows: Vec<PolicyRow> = facts
        .policies
        .iter()
        .map(|p| PolicyRow {
            policy_id: p.id.clone(),
            name: p.name.clone(),
            kind: p.kind.clone(),
            aws_managed: p.aws_managed,
            description: p.description.clone(),
            targets: p.targets.iter().map(|t| t.id.clone()).collect(),
        })
        .collect();
    let policies = PoliciesFile {
        policies: facts.policies.clone(),
    };
    Ok(vec![
        files::write_file(
            root,
            OrganizationFile::PATH,
            &json_bytes(&facts.organization),
            None,
        )?,
        files::write_file(
            root,
            AccountRow::PATH,
            &csv_bytes(&facts.accounts),
            Some(facts.accounts.len() as u64),
        )?,
        files::write_file(
            root,
            OuRow::PATH,
            &csv_bytes(&facts.ous),
            Some(facts.ous.len() as u64),
        )?,
        files::write_file(
            root,
            PolicyRow::PATH,
            &csv_bytes(&policy_rows),
            Some(policy_rows.len() as u64),
        )?,
        files::write_file(
            root,
            PoliciesFile::PATH,
            &json_bytes(&policies),
            Some(policies.policies.len() as u64),
        )?,
        files::write_file(
            root,
            DelegatedAdminRow::PATH,
            &csv_bytes(&facts.delegated),
            Some(facts.delegated.len() as u64),
        )?,
    ])
}

/// The union of the accounts' tables at `rel` (already spreadsheet-safe): the header with
/// `account` first, then each account's rows behind its id, cells copied unchanged.
fn union_table(
    root: &Path,
    accounts: &[&OrgAccountRecord],
    rel: &str,
) -> Result<(Vec<u8>, u64), Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Option<csv::StringRecord> = None;
    let mut rows = 0u64;
    for account in accounts {
        let Some(dir) = &account.bundle else { continue };
        let path = root.join(dir).join(rel);
        // Every account bundle has its review tables: one that cannot be read is an error, never
        // an account silently missing from the org's review.
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::Usage(format!(
                "{} cannot be read ({e}): account {}'s access review would be missing from the org's",
                path.display(),
                account.account_id
            ))
        })?;
        let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        let this_header = reader.headers().map_err(|e| csv_error(&path, e))?.clone();
        if header.is_none() {
            let mut first = csv::StringRecord::from(vec!["account"]);
            first.extend(this_header.iter());
            writer.write_record(&first).expect("in-memory writer");
            header = Some(this_header.clone());
        }
        if header.as_ref() != Some(&this_header) {
            return Err(Error::Usage(format!(
                "{} has other columns than the other accounts' {rel}: the account bundles come from different tool versions",
                path.display()
            )));
        }
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(&path, e))?;
            let mut row = csv::StringRecord::from(vec![account.account_id.as_str()]);
            row.extend(record.iter());
            writer.write_record(&row).expect("in-memory writer");
            rows += 1;
        }
    }
    if header.is_none() {
        writer.write_record(["account"]).expect("in-memory writer");
    }
    Ok((writer.into_inner().expect("in-memory writer"), rows))
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::Usage(format!("{} cannot be read: {e}", path.display()))
}

/// Builds and writes every org-level file but the manifest, and returns the manifest.
pub fn write_org(build: OrgBuild<'_>) -> Result<OrgBuilt, Error> {
    let OrgBuild {
        root,
        facts,
        accounts,
        identity,
        run,
        shard,
        merged_from,
        fail_on,
        exceptions: given,
    } = build;
    let mut written = write_organization(root, facts)?;

    // Every account's findings, behind its id.
    let with_bundle: Vec<&OrgAccountRecord> =
        accounts.iter().filter(|a| a.bundle.is_some()).collect();
    let mut findings: Vec<(String, Finding)> = Vec::new();
    for account in &with_bundle {
        let dir = account.bundle.as_ref().expect("filtered");
        let path = root.join(dir).join(FINDINGS_JSON);
        let bytes = std::fs::read(&path).map_err(|e| Error::write(&path, e))?;
        let parsed: AccountFindings = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Usage(format!("{} is not a findings file: {e}", path.display())))?;
        findings.extend(parsed.findings.into_iter().map(|mut f| {
            // The evidence path from the org bundle's top.
            if !f.evidence.is_empty() {
                f.evidence = format!("{dir}/{}", f.evidence);
            }
            (account.account_id.clone(), f)
        }));
    }
    let OrgAnalysis {
        outcomes: rules,
        findings: org_findings,
    } = org_rules::evaluate(root);
    findings.extend(org_findings.into_iter().map(|f| (f.account, f.finding)));
    // The same file, judged on the same date, as each account's own bundle: an account's
    // findings come out as they are there, and the org rules' are judged the same way.
    let applied = given.map(|judge| {
        let held: BTreeSet<&str> = with_bundle.iter().map(|a| a.account_id.as_str()).collect();
        judge.apply(
            &held,
            findings
                .iter_mut()
                .map(|(account, f)| (account.as_str(), f)),
        )
    });
    findings.sort_by(|(a, x), (b, y)| {
        x.severity
            .cmp(&y.severity)
            .then(a.cmp(b))
            .then(x.rule.cmp(&y.rule))
            .then(x.region.cmp(&y.region))
            .then(x.resource.cmp(&y.resource))
    });

    written.push(files::write_file(
        root,
        FINDINGS_CSV,
        &crate::findings::write::org_finding_rows_csv(&findings),
        Some(findings.len() as u64),
    )?);
    let json_findings: Vec<serde_json::Value> = findings
        .iter()
        .map(|(account, f)| {
            let mut value = serde_json::json!({ "account": account });
            if let (Some(map), Ok(serde_json::Value::Object(fields))) =
                (value.as_object_mut(), serde_json::to_value(f))
            {
                map.extend(fields);
            }
            value
        })
        .collect();
    written.push(files::write_file(
        root,
        FINDINGS_JSON,
        &json_bytes(&serde_json::json!({ "findings": json_findings, "rules": rules })),
        Some(findings.len() as u64),
    )?);
    let rule_rows = crate::findings::write::rule_rows(&rules);
    written.push(files::write_file(
        root,
        RULES_CSV,
        &csv_bytes(&rule_rows),
        Some(rule_rows.len() as u64),
    )?);
    for rel in [USERS_REVIEW, ROLES_REVIEW] {
        let (bytes, rows) = union_table(root, &with_bundle, rel)?;
        written.push(files::write_file(root, rel, &bytes, Some(rows))?);
    }

    let incomplete = !facts.errors.is_empty()
        || accounts.iter().any(|a| {
            a.collection_status == status::FAILED || a.collection_status == status::PARTIAL
        });
    written.extend(crate::findings::write::write_exceptions(
        root,
        applied.as_ref(),
    )?);
    let open = || {
        findings
            .iter()
            .filter(|(_, f)| f.status == FindingStatus::Open)
    };
    let count = |severity: Severity| open().filter(|(_, f)| f.severity == severity).count() as u64;
    let rules_with = |s: RuleStatus| rules.iter().filter(|r| r.status == s).count() as u64;
    let summary = FindingsSummary {
        evaluated: true,
        critical: count(Severity::Critical),
        high: count(Severity::High),
        medium: count(Severity::Medium),
        low: count(Severity::Low),
        total: open().count() as u64,
        accepted: crate::findings::accepted_counts(findings.iter().map(|(_, f)| f)),
        exceptions: applied.as_ref().map(crate::findings::exceptions_record),
        rules_evaluated: rules_with(RuleStatus::Evaluated),
        rules_partial: rules_with(RuleStatus::Partial),
        rules_not_evaluated: rules_with(RuleStatus::NotEvaluated),
        fail_on,
    };
    let mut manifest = OrgManifest {
        schema_version: SCHEMA_VERSION,
        kind: ORG_KIND.to_string(),
        tool: Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        run,
        organization: identity,
        shard,
        derived_from: None,
        merged_from,
        status: if incomplete {
            BundleStatus::Incomplete
        } else {
            BundleStatus::Complete
        },
        accounts,
        errors: facts.errors.clone(),
        files: Vec::new(),
        findings_summary: summary,
    };
    written.sort_by(|a, b| a.path.cmp(&b.path));
    manifest.files = written;
    let page = crate::findings::org_html::render(
        &manifest,
        &crate::findings::org_html::OrgPage {
            accounts: &facts.accounts,
            findings: &findings,
            rules: &rules,
        },
    );
    let index = files::write_file(root, INDEX_HTML, page.as_bytes(), None)?;
    manifest.files.push(index);
    manifest.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(OrgBuilt {
        manifest,
        findings,
        rules,
    })
}

/// The record of an account that could not be collected.
pub fn failed_account(row: &AccountRow, error: CallError) -> OrgAccountRecord {
    OrgAccountRecord {
        account_id: row.account_id.clone(),
        name: row.name.clone(),
        status: row.status.clone(),
        collection_status: status::FAILED.to_string(),
        error: Some(error),
        ..OrgAccountRecord::default()
    }
}
