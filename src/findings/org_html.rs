//! `index.html` of an org bundle: the accounts x controls matrix (findings by severity and the
//! collection status in each cell, each account linking to its own `index.html`), the org
//! rules, the accounts that could not be collected and why. Self-contained like the account
//! page: inline CSS, no script, no external reference, every string escaped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::html::{badge, escape, href, with_code, STYLE};
use super::{Finding, RuleOutcome};
use crate::bundle::manifest::{BundleStatus, MANIFEST_FILE};
use crate::bundle::org_manifest::OrgManifest;
use crate::contract::organization::{status, AccountRow};
use crate::controls::Control;
use crate::vocab::Severity;

/// The org page's own rules: badges never break inside a word, and the findings table keeps to
/// the page's width.
const ORG_STYLE: &str = "
.badge{white-space:nowrap}
table.org-findings{table-layout:fixed}table.org-findings td code{white-space:normal}
";

/// What the page shows besides the manifest.
pub struct OrgPage<'a> {
    pub accounts: &'a [AccountRow],
    /// (account, finding): every account's findings and the org rules'.
    pub findings: &'a [(String, Finding)],
    pub rules: &'a [RuleOutcome],
}

fn severity_cells(counts: [usize; 4]) -> String {
    let mut cell = String::new();
    for (severity, n) in Severity::ALL.iter().zip(counts) {
        if n > 0 {
            let _ = write!(
                cell,
                "{} ",
                badge(severity.as_str(), &format!("{n} {}", severity.as_str()))
            );
        }
    }
    if cell.is_empty() {
        cell.push_str("<span class=\"muted\">none</span>");
    }
    cell
}

fn counts<'a>(findings: impl Iterator<Item = &'a Finding>) -> [usize; 4] {
    let mut counts = [0; 4];
    for f in findings {
        if let Some(i) = Severity::ALL.iter().position(|s| *s == f.severity) {
            counts[i] += 1;
        }
    }
    counts
}

pub fn render(manifest: &OrgManifest, page_data: &OrgPage<'_>) -> String {
    let org = &manifest.organization;
    let title = if org.id.is_empty() {
        format!("accounts collected from {}", org.collected_from)
    } else {
        format!("AWS Organization {}", org.id)
    };
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>SOC 2 evidence: {}</title>\n<style>{STYLE}{ORG_STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let bundle_status = match manifest.status {
        BundleStatus::Complete => badge("complete", "complete"),
        BundleStatus::Incomplete => badge("incomplete", "incomplete"),
    };
    let collected = page_data
        .accounts
        .iter()
        .filter(|a| {
            a.collection_status == status::COLLECTED || a.collection_status == status::PARTIAL
        })
        .count();
    let shard = manifest
        .shard
        .map(|s| {
            format!(
                " This is shard {} of {}: the other shards' accounts are in their own bundles.",
                s.index, s.count
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        page,
        "<header><h1>SOC 2 evidence: {}</h1>\
         <p>Org bundle {bundle_status}, collected {} from account <span class=\"mono\">{}</span> \
         by {} {}: {collected} of {} accounts collected.{} Each account below links to its own \
         complete bundle; <a href=\"{}\">{}</a> chains every account's manifest by its SHA-256.</p></header>",
        escape(&title),
        escape(&manifest.run.started_at),
        escape(&org.collected_from),
        escape(&manifest.tool.name),
        escape(&manifest.tool.version),
        page_data.accounts.len(),
        escape(&shard),
        href(MANIFEST_FILE),
        MANIFEST_FILE,
    );
    page.push_str(
        "<nav><a href=\"#matrix\">Accounts x controls</a><a href=\"#org-rules\">Organization rules</a>\
         <a href=\"#not-collected\">Not collected</a><a href=\"#files\">Files</a></nav>\n",
    );
    if let Some(x) = &manifest.findings_summary.exceptions {
        let _ = writeln!(
            page,
            "<p>Accepted risks: {} finding(s) accepted by {} exception(s) of \
             <a href=\"{}\">{}</a> (judged as of {}), counted apart from the matrix below and \
             never towards <code>--fail-on</code>; {} expired, {} stale. \
             <a href=\"{}\">{}</a> lists every exception with its state, each account's \
             <code>findings.csv</code> the accepted findings with reason, approver and expiry.</p>",
            manifest.findings_summary.accepted.total,
            x.applied,
            href(&x.file),
            escape(&x.file),
            escape(&x.as_of),
            x.expired,
            x.stale,
            href(crate::findings::exceptions::EXCEPTIONS_CSV),
            crate::findings::exceptions::EXCEPTIONS_CSV,
        );
    }
    matrix_section(&mut page, manifest, page_data);
    rules_section(&mut page, page_data);
    not_collected_section(&mut page, manifest, page_data);
    files_section(&mut page, manifest);
    page.push_str("</body>\n</html>\n");
    page
}

fn matrix_section(page: &mut String, manifest: &OrgManifest, data: &OrgPage<'_>) {
    let mut by_account: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    // Accepted findings are shown apart (the org findings table and exceptions.csv).
    for (account, finding) in data.findings {
        if finding.status == crate::findings::FindingStatus::Open {
            by_account.entry(account).or_default().push(finding);
        }
    }
    let bundles: BTreeSet<&str> = manifest
        .accounts
        .iter()
        .filter_map(|a| a.bundle.as_ref().map(|_| a.account_id.as_str()))
        .collect();
    page.push_str(
        "<h2 id=\"matrix\">Accounts x controls</h2>\n<p>Findings by severity for each account and \
         Trust Services Criterion (the account's own rules and the organization rules).</p>\n\
         <table><thead><tr><th>Account</th><th>OU path</th><th>Collection</th>",
    );
    for control in Control::ALL {
        let _ = write!(page, "<th>{}</th>", escape(control.id()));
    }
    page.push_str("</tr></thead><tbody>\n");
    for account in data.accounts {
        let id = account.account_id.as_str();
        let label = if account.name.is_empty() {
            id.to_string()
        } else {
            format!("{id} ({})", account.name)
        };
        let link = if bundles.contains(id) {
            format!(
                "<a href=\"{}\">{}</a>",
                href(&format!("accounts/{id}/index.html")),
                escape(&label)
            )
        } else {
            escape(&label)
        };
        let _ = write!(
            page,
            "<tr><td class=\"mono\">{link}</td><td>{}</td><td>{}</td>",
            escape(&account.ou_path),
            badge(
                match account.collection_status.as_str() {
                    status::COLLECTED => "collected",
                    status::PARTIAL => "partial",
                    status::FAILED => "failed",
                    _ => "skipped",
                },
                &account.collection_status
            )
        );
        let findings = by_account.get(id).map(Vec::as_slice).unwrap_or_default();
        for control in Control::ALL {
            let in_control = findings
                .iter()
                .copied()
                .filter(|f| f.controls.iter().any(|c| c == control.id()));
            let cell = if bundles.contains(id) || !findings.is_empty() {
                severity_cells(counts(in_control))
            } else {
                "<span class=\"muted\">no evidence</span>".to_string()
            };
            let _ = write!(page, "<td>{cell}</td>");
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table>\n");
}

fn rules_section(page: &mut String, data: &OrgPage<'_>) {
    page.push_str(
        "<h2 id=\"org-rules\">Organization rules</h2>\n<table><thead><tr><th>Rule</th>\
         <th>Severity</th><th>Status</th><th>Findings</th><th>Controls</th><th>References</th>\
         </tr></thead><tbody>\n",
    );
    for rule in data.rules {
        let reason = if rule.reason.is_empty() {
            String::new()
        } else {
            format!("<div class=\"fix\">{}</div>", escape(&rule.reason))
        };
        let _ = writeln!(
            page,
            "<tr><td><code>{}</code><div>{}</div></td><td>{}</td><td>{}{reason}</td>\
             <td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&rule.rule),
            escape(&rule.title),
            badge(rule.severity.as_str(), rule.severity.as_str()),
            badge(rule.status.as_str(), rule.status.as_str()),
            rule.findings,
            escape(&rule.controls.join(", ")),
            escape(&rule.references.join(", ")),
        );
    }
    page.push_str("</tbody></table>\n");
    let org_rule_ids: BTreeSet<&str> = data.rules.iter().map(|r| r.rule.as_str()).collect();
    let org_findings: Vec<&(String, Finding)> = data
        .findings
        .iter()
        .filter(|(_, f)| org_rule_ids.contains(f.rule.as_str()))
        .collect();
    if !org_findings.is_empty() {
        page.push_str(
            "<table class=\"org-findings\"><colgroup><col style=\"width:7em\">\
             <col style=\"width:9em\"><col style=\"width:18em\"><col></colgroup>\
             <thead><tr><th>Severity</th><th>Account</th><th>Rule</th><th>Detail</th>\
             </tr></thead><tbody>\n",
        );
        for (account, f) in org_findings {
            let _ = writeln!(
                page,
                "<tr><td>{}{}</td><td class=\"mono\">{}</td><td><code>{}</code></td><td>{}\
                 <div class=\"fix\">{}</div></td></tr>",
                badge(f.severity.as_str(), f.severity.as_str()),
                match &f.exception {
                    Some(e) => format!(
                        "<br>{} {} until {}",
                        badge("skipped", "accepted"),
                        escape(&e.approved_by),
                        escape(&e.expires)
                    ),
                    None => String::new(),
                },
                escape(account),
                escape(&f.rule),
                escape(&f.detail),
                with_code(&f.remediation),
            );
        }
        page.push_str("</tbody></table>\n");
    }
}

fn not_collected_section(page: &mut String, manifest: &OrgManifest, data: &OrgPage<'_>) {
    page.push_str("<h2 id=\"not-collected\">Accounts not collected</h2>\n");
    let missing: Vec<&AccountRow> = data
        .accounts
        .iter()
        .filter(|a| a.collection_status != status::COLLECTED)
        .collect();
    if missing.is_empty() && manifest.errors.is_empty() {
        page.push_str("<p>Every account was collected completely.</p>\n");
        return;
    }
    page.push_str(
        "<table><thead><tr><th>Account</th><th>Status</th><th>Collection</th><th>Why</th>\
         </tr></thead><tbody>\n",
    );
    for account in missing {
        let why = if account.error.is_empty() {
            match account.collection_status.as_str() {
                status::NOT_COLLECTED => "not ACTIVE: listed, not collected".to_string(),
                status::EXCLUDED => "left out by --account, --skip-account or --ou".to_string(),
                status::OTHER_SHARD => "collected by another shard".to_string(),
                status::PARTIAL => "its bundle is incomplete: see its index.html".to_string(),
                _ => String::new(),
            }
        } else {
            account.error.clone()
        };
        let _ = writeln!(
            page,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&account.account_id),
            escape(&account.status),
            escape(&account.collection_status),
            escape(&why),
        );
    }
    page.push_str("</tbody></table>\n");
    if !manifest.errors.is_empty() {
        page.push_str("<p>Calls about the organization that failed:</p>\n<ul>\n");
        for e in &manifest.errors {
            let _ = writeln!(
                page,
                "<li><code>{}</code>: {}: {}</li>",
                escape(&e.operation),
                escape(&e.code),
                escape(&e.message)
            );
        }
        page.push_str("</ul>\n");
    }
}

fn files_section(page: &mut String, manifest: &OrgManifest) {
    page.push_str("<h2 id=\"files\">Files of the organization</h2>\n<ul class=\"files\">\n");
    for file in &manifest.files {
        let _ = writeln!(
            page,
            "<li><a href=\"{}\">{}</a></li>",
            href(&file.path),
            escape(&file.path)
        );
    }
    page.push_str("</ul>\n");
}
