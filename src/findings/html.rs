//! `index.html`, the auditor's entry page: self-contained (inline CSS, no external reference,
//! no JavaScript), printable, every link a file inside the bundle.
//!
//! It shows the run, the findings summary, the control matrix (criterion -> collectors -> files
//! -> findings by severity), the findings, every rule with whether it could be evaluated, the
//! collectors with their errors, and the access review summary. Every string from the account
//! is escaped; every link is a relative path to a file the manifest lists (or the manifest).

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{Analysis, Finding, RuleStatus};
use crate::bundle::manifest::{BundleStatus, Manifest, MANIFEST_FILE};
use crate::vocab::{CollectorStatus, Severity};

pub(crate) const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#111;background:#fff;margin:0 auto;max-width:1200px;padding:1.5em}
h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.25em;margin:1.8em 0 .5em;border-bottom:2px solid #333;padding-bottom:.15em}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em}th,td{border:1px solid #bbb;padding:.3em .45em;text-align:left;vertical-align:top}
th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
td{overflow-wrap:anywhere}td code{white-space:nowrap}.fix{color:#333;margin-top:.3em}
.badge{display:inline-block;padding:0 .45em;border-radius:3px;font-weight:600;font-size:.9em;border:1px solid transparent}
.critical{background:#7a0010;color:#fff}.high{background:#c0392b;color:#fff}.medium{background:#e6a100;color:#111}.low{background:#dde6f0;color:#111}
.collected,.evaluated,.complete{background:#dff0d8;color:#1d5e20;border-color:#1d5e20}
.partial{background:#fff3cd;color:#7a5a00;border-color:#7a5a00}
.failed,.not_evaluated,.incomplete{background:#f8d7da;color:#7a0010;border-color:#7a0010}
.skipped{background:#eee;color:#444;border-color:#888}
.muted{color:#555}ul.files{margin:0;padding-left:1.1em}dl.run{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em}dl.run dt{font-weight:600}dl.run dd{margin:0}
nav a{margin-right:1em}
@media print{body{max-width:none;padding:0;font-size:10pt}nav{display:none}a{color:#111;text-decoration:none}
tr,li{break-inside:avoid}h2{break-after:avoid}thead{display:table-header-group}
.badge{border:1px solid #111}}
";

/// Escapes text for HTML content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes text and shows its `backticked` commands as code (remediations name commands that
/// way); an unpaired backtick stays as it is.
pub fn with_code(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return escape(text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

/// A bundle path as a relative URL: every byte outside unreserved characters and `/` is
/// percent-encoded, so a link can only ever name that file.
pub fn href(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The files a link may point to: those the manifest lists, and the manifest.
struct Links<'a> {
    files: BTreeSet<&'a str>,
}

impl<'a> Links<'a> {
    fn new(manifest: &'a Manifest) -> Self {
        let mut files: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
        files.insert(MANIFEST_FILE);
        Links { files }
    }

    /// A link to a bundle file, or its escaped name when the bundle does not hold it.
    fn to(&self, path: &str, label: &str) -> String {
        if self.files.contains(path) && is_relative(path) {
            format!("<a href=\"{}\">{}</a>", href(path), escape(label))
        } else {
            format!(
                "{} <span class=\"muted\">(not in the bundle)</span>",
                escape(label)
            )
        }
    }
}

fn is_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains(':')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

pub(crate) fn badge(class: &str, text: &str) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        escape(class),
        escape(text)
    )
}

fn severity_counts(analysis: &Analysis, control: Option<&str>) -> [usize; 4] {
    Severity::ALL.map(|s| {
        analysis
            .open()
            .filter(|f| f.severity == s)
            .filter(|f| control.is_none_or(|c| f.controls.iter().any(|x| x == c)))
            .count()
    })
}

/// Renders the entry page of a bundle.
pub fn render(manifest: &Manifest, analysis: &Analysis) -> String {
    let links = Links::new(manifest);
    let mut page = String::new();
    let account = &manifest.account;
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>SOC 2 evidence: AWS account {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&account.id)
    );
    let status = match manifest.status {
        BundleStatus::Complete => badge("complete", "complete"),
        BundleStatus::Incomplete => badge("incomplete", "incomplete"),
    };
    let _ = writeln!(
        page,
        "<header><h1>SOC 2 evidence: AWS account <span class=\"mono\">{}</span></h1>\
         <p>Evidence bundle {status}, collected {} by {} {}. Start here, then open the CSV files \
         in a spreadsheet; {} lists every file with its SHA-256.</p></header>",
        escape(&account.id),
        escape(&manifest.run.started_at),
        escape(&manifest.tool.name),
        escape(&manifest.tool.version),
        links.to(MANIFEST_FILE, MANIFEST_FILE),
    );
    page.push_str(
        "<nav><a href=\"#run\">Run</a><a href=\"#summary\">Findings summary</a>\
         <a href=\"#controls\">Control matrix</a><a href=\"#findings\">Findings</a>\
         <a href=\"#rules\">Rules</a><a href=\"#collectors\">Collectors</a>\
         <a href=\"#access-review\">Access review</a>",
    );
    if analysis.exceptions.is_some() {
        page.push_str("<a href=\"#accepted\">Accepted risks</a>");
    }
    page.push_str("</nav>\n");
    run_section(&mut page, manifest, analysis);
    summary_section(&mut page, manifest, analysis, &links);
    controls_section(&mut page, manifest, analysis, &links);
    findings_section(&mut page, analysis, &links);
    rules_section(&mut page, analysis);
    collectors_section(&mut page, manifest, &links);
    access_review_section(&mut page, analysis, &links);
    if let Some(applied) = &analysis.exceptions {
        accepted_section(&mut page, analysis, applied, &links);
    }
    page.push_str("</body>\n</html>\n");
    page
}

fn run_section(page: &mut String, manifest: &Manifest, analysis: &Analysis) {
    let m = manifest;
    let aliases = match &m.account.aliases {
        Some(a) if !a.is_empty() => a.join(", "),
        Some(_) => "(none)".to_string(),
        None => "(could not be read)".to_string(),
    };
    let t = &analysis.thresholds;
    let fail_on = m
        .findings_summary
        .fail_on
        .map_or("(not set)".to_string(), |s| s.to_string());
    let rows: Vec<(&str, String)> = vec![
        ("Account", m.account.id.clone()),
        ("Aliases", aliases),
        ("Partition", m.account.partition.clone()),
        ("Collected by", m.account.caller_arn.clone()),
        ("Started", m.run.started_at.clone()),
        ("Finished", m.run.finished_at.clone()),
        (
            "Duration",
            format!("{:.1} s", m.run.duration_ms as f64 / 1000.0),
        ),
        (
            "API calls",
            format!("{} ({} retries)", m.run.api_calls, m.run.api_retries),
        ),
        ("Regions", m.regions.join(", ")),
        ("Tool", format!("{} {}", m.tool.name, m.tool.version)),
        ("Run id", m.run.id.clone()),
        (
            "Thresholds",
            format!(
                "users inactive > {} days, roles inactive > {} days, access keys older than {} days",
                t.user_inactive_days, t.role_inactive_days, t.key_max_age_days
            ),
        ),
        ("--fail-on", fail_on),
    ];
    page.push_str("<section id=\"run\"><h2>Run</h2><dl class=\"run\">\n");
    for (name, value) in rows {
        let _ = writeln!(page, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(&value));
    }
    if let Some(source) = &m.derived_from {
        let _ = writeln!(
            page,
            "<dt>Derived from</dt><dd>findings re-derived on {} from the evidence of bundle \
             <span class=\"mono\">{}</span> (run {}, manifest SHA-256 <span class=\"mono\">{}</span>)</dd>",
            escape(&source.reported_at),
            escape(&source.bundle),
            escape(&source.run_id),
            escape(&source.manifest_sha256)
        );
    }
    page.push_str("</dl></section>\n");
}

fn summary_section(page: &mut String, manifest: &Manifest, analysis: &Analysis, links: &Links) {
    let counts = severity_counts(analysis, None);
    page.push_str("<section id=\"summary\"><h2>Findings summary</h2><p>");
    for (severity, n) in Severity::ALL.iter().zip(counts) {
        let _ = write!(
            page,
            "{} {n} &nbsp; ",
            badge(severity.as_str(), severity.as_str())
        );
    }
    let _ = writeln!(
        page,
        "</p><p>{} open findings in all ({}, {}){}. {} of {} rules evaluated on complete evidence, {} \
         partly, {} not evaluated (their evidence could not be collected: see Rules; a rule not \
         evaluated is never a pass).</p>",
        analysis.open().count(),
        links.to("findings.csv", "findings.csv"),
        links.to("findings.json", "findings.json"),
        match &analysis.exceptions {
            Some(_) => format!(
                "; {} accepted as risks, shown apart under <a href=\"#accepted\">Accepted risks</a>",
                analysis.findings.len() - analysis.open().count()
            ),
            None => String::new(),
        },
        manifest.findings_summary.rules_evaluated,
        analysis.rules.len(),
        manifest.findings_summary.rules_partial,
        manifest.findings_summary.rules_not_evaluated,
    );
    page.push_str("</section>\n");
}

fn controls_section(page: &mut String, manifest: &Manifest, analysis: &Analysis, links: &Links) {
    page.push_str(
        "<section id=\"controls\"><h2>Control matrix</h2>\
         <p>Each Trust Services Criterion, the collectors whose evidence supports it, their files, \
         and the findings raised against it.</p>\
         <table><thead><tr><th>Criterion</th><th>Collectors</th><th>Evidence files</th>\
         <th>Critical</th><th>High</th><th>Medium</th><th>Low</th></tr></thead><tbody>\n",
    );
    for (id, control) in &manifest.controls {
        let collectors: Vec<String> = control
            .collectors
            .iter()
            .map(|c| {
                let status = manifest
                    .collectors
                    .iter()
                    .find(|r| &r.id == c)
                    .map_or(CollectorStatus::Skipped, |r| r.status);
                format!(
                    "<a href=\"#collector-{}\">{}</a> {}",
                    href(c),
                    escape(c),
                    badge(status.as_str(), status.as_str())
                )
            })
            .collect();
        let files: Vec<String> = control
            .files
            .iter()
            .map(|f| format!("<li>{}</li>", links.to(f, f)))
            .collect();
        let counts = severity_counts(analysis, Some(id));
        let _ = write!(
            page,
            "<tr id=\"control-{}\"><td><strong>{}</strong><br><span class=\"muted\">{}</span></td>\
             <td>{}</td><td><ul class=\"files\">{}</ul></td>",
            href(id),
            escape(id),
            escape(&control.title),
            collectors.join("<br>"),
            files.join("")
        );
        for n in counts {
            let _ = write!(page, "<td class=\"n\">{n}</td>");
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table></section>\n");
}

fn findings_section(page: &mut String, analysis: &Analysis, links: &Links) {
    page.push_str("<section id=\"findings\"><h2>Findings</h2>\n");
    if analysis.open().next().is_none() {
        page.push_str("<p>No finding among the rules that could be evaluated.</p></section>\n");
        return;
    }
    page.push_str(
        "<table><thead><tr><th>Severity</th><th>Rule</th><th>Resource and region</th>\
         <th>Detail and remediation</th><th>Evidence</th><th>Controls / references</th>\
         </tr></thead><tbody>\n",
    );
    for f in analysis.open() {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td><code>{}</code></td><td><span class=\"mono\">{}</span><br>{}</td>\
             <td>{}<div class=\"fix\"><strong>Fix:</strong> {}</div></td><td>{}</td>\
             <td>{}<br><span class=\"muted\">{}</span></td></tr>",
            badge(f.severity.as_str(), f.severity.as_str()),
            escape(&f.rule),
            escape(&f.resource),
            escape(&f.region),
            escape(&f.detail),
            with_code(&f.remediation),
            links.to(&f.evidence, &f.evidence),
            escape(&f.controls.join(", ")),
            escape(&f.references.join(", ")),
        );
    }
    page.push_str("</tbody></table></section>\n");
}

/// The accepted findings with who accepted them, why and until when, then every exception of
/// the file with what it came to (expired and stale ones stand out).
fn accepted_section(
    page: &mut String,
    analysis: &Analysis,
    applied: &super::exceptions::Applied,
    links: &Links,
) {
    use super::exceptions::{State, EXCEPTIONS_CSV, EXCEPTIONS_TOML};
    let _ = writeln!(
        page,
        "<section id=\"accepted\"><h2>Accepted risks</h2><p>Findings the organisation has \
         accepted, each by an exception of {} ({}, judged as of {}): they stay in {} with status \
         <code>accepted</code> and never count towards <code>--fail-on</code>. {} lists every \
         exception with its state.</p>",
        links.to(EXCEPTIONS_TOML, EXCEPTIONS_TOML),
        match applied.source {
            super::exceptions::Source::Run => "given to the run",
            super::exceptions::Source::Bundle => "recorded in the source bundle",
            super::exceptions::Source::Given => "given anew to report",
        },
        applied.as_of.format("%Y-%m-%d"),
        links.to("findings.csv", "findings.csv"),
        links.to(EXCEPTIONS_CSV, EXCEPTIONS_CSV),
    );
    let accepted: Vec<&Finding> = analysis
        .findings
        .iter()
        .filter(|f| f.status == super::FindingStatus::Accepted)
        .collect();
    if accepted.is_empty() {
        page.push_str("<p>No finding is accepted.</p>\n");
    } else {
        page.push_str(
            "<table><thead><tr><th>Severity</th><th>Rule</th><th>Resource and region</th>\
             <th>Detail</th><th>Reason</th><th>Approved by</th><th>Ticket</th><th>Expires</th>\
             </tr></thead><tbody>\n",
        );
        for f in accepted {
            let e = f
                .exception
                .as_ref()
                .expect("accepted findings carry their exception");
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td><code>{}</code></td><td><span class=\"mono\">{}</span><br>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                badge(f.severity.as_str(), f.severity.as_str()),
                escape(&f.rule),
                escape(&f.resource),
                escape(&f.region),
                escape(&f.detail),
                escape(&e.reason),
                escape(&e.approved_by),
                escape(&e.ticket),
                escape(&e.expires),
            );
        }
        page.push_str("</tbody></table>\n");
    }
    page.push_str(
        "<h3>Exceptions</h3><table><thead><tr><th>Line</th><th>State</th><th>Findings</th>\
         <th>Rule</th><th>Resource</th><th>Account / region</th><th>Approved by</th>\
         <th>Expires</th></tr></thead><tbody>\n",
    );
    for o in &applied.outcomes {
        let e = &o.exception;
        let class = match o.state {
            State::Applied => "complete",
            State::Expired | State::Stale => "incomplete",
            State::OtherAccount | State::OrgLevel => "skipped",
        };
        let _ = writeln!(
            page,
            "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td><code>{}</code></td>\
             <td><span class=\"mono\">{}</span></td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
            e.line,
            badge(class, o.state.as_str()),
            o.findings,
            escape(&e.rule),
            escape(&e.resource),
            escape(e.account.as_deref().unwrap_or("any account")),
            escape(e.region.as_deref().unwrap_or("any region")),
            escape(&e.approved_by),
            escape(&e.expires.format("%Y-%m-%d").to_string()),
        );
    }
    page.push_str("</tbody></table></section>\n");
}

fn rules_section(page: &mut String, analysis: &Analysis) {
    page.push_str(
        "<section id=\"rules\"><h2>Rules</h2><p>Every rule, and whether the evidence allowed \
         evaluating it.</p><table><thead><tr><th>Rule</th><th>Checks</th><th>Severity</th>\
         <th>Status</th><th>Findings</th><th>Why not fully evaluated</th></tr></thead><tbody>\n",
    );
    for r in &analysis.rules {
        let status = match r.status {
            RuleStatus::Evaluated => "evaluated",
            RuleStatus::Partial => "partial",
            RuleStatus::NotEvaluated => "not evaluated",
        };
        let _ = writeln!(
            page,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td>\
             <td>{}</td></tr>",
            escape(&r.rule),
            escape(&r.title),
            badge(r.severity.as_str(), r.severity.as_str()),
            badge(r.status.as_str(), status),
            r.findings,
            escape(&r.reason)
        );
    }
    page.push_str("</tbody></table></section>\n");
}

fn collectors_section(page: &mut String, manifest: &Manifest, links: &Links) {
    page.push_str(
        "<section id=\"collectors\"><h2>Collectors</h2><table><thead><tr><th>Collector</th>\
         <th>Status</th><th>Regions</th><th>API calls</th><th>Errors</th><th>Files</th></tr>\
         </thead><tbody>\n",
    );
    for c in &manifest.collectors {
        let regions: Vec<String> = c
            .regions
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    escape(&r.region),
                    badge(r.status.as_str(), r.status.as_str())
                )
            })
            .collect();
        let errors: Vec<String> = c
            .errors
            .iter()
            .map(|e| {
                format!(
                    "<li><code>{}</code> {} in {}: {}</li>",
                    escape(&e.code),
                    escape(&e.operation),
                    escape(if e.region.is_empty() { "-" } else { &e.region }),
                    escape(&e.message)
                )
            })
            .collect();
        let files: Vec<String> = c
            .files
            .iter()
            .map(|f| format!("<li>{}</li>", links.to(&f.path, &f.path)))
            .collect();
        let _ = writeln!(
            page,
            "<tr id=\"collector-{}\"><td><strong>{}</strong><br><span class=\"muted\">{}</span><br>{}</td>\
             <td>{}</td><td>{}</td><td class=\"n\">{}</td><td><ul class=\"files\">{}</ul></td>\
             <td><ul class=\"files\">{}</ul></td></tr>",
            href(&c.id),
            escape(&c.id),
            escape(&c.title),
            escape(
                &c.controls
                    .iter()
                    .map(|x| x.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            badge(c.status.as_str(), c.status.as_str()),
            regions.join("<br>"),
            c.api_calls,
            errors.join(""),
            files.join("")
        );
    }
    page.push_str("</tbody></table></section>\n");
}

fn access_review_section(page: &mut String, analysis: &Analysis, links: &Links) {
    let review = &analysis.access_review;
    let users = &review.users;
    let roles = &review.roles;
    let sso = &review.identity_center;
    let count = |pred: &dyn Fn(usize) -> bool, n: usize| (0..n).filter(|i| pred(*i)).count();
    let rows: Vec<(&str, usize)> = vec![
        ("Users", users.len()),
        (
            "with console access",
            count(&|i| users[i].console_access, users.len()),
        ),
        (
            "with console access and no MFA",
            count(
                &|i| users[i].console_access && !users[i].mfa_active,
                users.len(),
            ),
        ),
        (
            "with administrator access",
            count(&|i| users[i].admin, users.len()),
        ),
        (
            "inactive beyond the threshold",
            count(&|i| users[i].inactive, users.len()),
        ),
        ("Roles", roles.len()),
        (
            "service-linked",
            count(&|i| roles[i].service_linked, roles.len()),
        ),
        (
            "with administrator access",
            count(&|i| roles[i].admin, roles.len()),
        ),
        (
            "inactive beyond the threshold",
            count(&|i| roles[i].inactive, roles.len()),
        ),
        (
            "Identity Center accesses (user, account, permission set)",
            sso.len(),
        ),
        (
            "with administrator access",
            count(&|i| sso[i].allows_admin == Some(true), sso.len()),
        ),
        (
            "assigned to the user directly",
            count(&|i| sso[i].via.split(';').any(|v| v == "direct"), sso.len()),
        ),
    ];
    let _ = writeln!(
        page,
        "<section id=\"access-review\"><h2>Access review</h2><p>One row per user ({}), per \
         role ({}) and per IAM Identity Center user, account and permission set ({}), with \
         empty <em>reviewer</em>, <em>decision</em> and <em>notes</em> columns for team leads \
         to confirm or revoke each access.</p><table><tbody>",
        links.to("access-review/users.csv", "access-review/users.csv"),
        links.to("access-review/roles.csv", "access-review/roles.csv"),
        links.to(
            "access-review/identity-center.csv",
            "access-review/identity-center.csv"
        ),
    );
    for (name, n) in rows {
        let _ = writeln!(
            page,
            "<tr><th>{}</th><td class=\"n\">{n}</td></tr>",
            escape(name)
        );
    }
    page.push_str("</tbody></table>");
    if !review.gaps.is_empty() {
        page.push_str("<p>Incomplete:</p><ul>");
        for gap in &review.gaps {
            let _ = write!(page, "<li>{}</li>", escape(gap));
        }
        page.push_str("</ul>");
    }
    page.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::bundle::files::FileRecord;
    use crate::bundle::manifest::{
        Account, CollectorRecord, ControlRecord, FindingsSummary, Run, RunOptions, Tool,
    };
    use crate::controls::Control;
    use crate::findings::access_review::{AccessReview, UserReview};
    use crate::findings::{Finding, RuleOutcome, Thresholds};
    use crate::vocab::CallError;

    fn file(path: &str) -> FileRecord {
        FileRecord {
            path: path.to_string(),
            sha256: "0".repeat(64),
            bytes: 1,
            rows: None,
        }
    }

    fn fixture() -> (Manifest, Analysis) {
        let hostile = "<script>alert('x')</script> & \"quoted\"";
        let finding = Finding {
            rule: "sg-admin-port-open".into(),
            severity: Severity::High,
            controls: vec!["CC6.6".into()],
            resource: "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1".into(),
            region: "us-east-1".into(),
            detail: format!("group {hostile} opens 22 to 0.0.0.0/0"),
            evidence: "evidence/ec2-security-groups/open-to-world.csv".into(),
            references: vec!["CIS 5.2".into(), "EC2.13".into()],
            remediation: "Close it.".into(),
            status: Default::default(),
            exception: None,
        };
        let analysis = Analysis {
            thresholds: Thresholds::default(),
            findings: vec![finding],
            rules: vec![
                RuleOutcome {
                    rule: "sg-admin-port-open".into(),
                    title: "Admin port open".into(),
                    severity: Severity::High,
                    controls: vec!["CC6.6".into()],
                    references: vec![],
                    status: RuleStatus::Evaluated,
                    findings: 1,
                    reason: String::new(),
                },
                RuleOutcome {
                    rule: "access-analyzer-missing".into(),
                    title: "No analyzer".into(),
                    severity: Severity::Low,
                    controls: vec!["CC6.3".into()],
                    references: vec![],
                    status: RuleStatus::NotEvaluated,
                    findings: 0,
                    reason: "access-analyzer failed (ListAnalyzers AccessDenied in us-east-1)"
                        .into(),
                },
            ],
            access_review: AccessReview {
                users: vec![UserReview {
                    user_name: hostile.into(),
                    console_access: true,
                    ..UserReview::default()
                }],
                roles: vec![],
                identity_center: vec![],
                gaps: vec![],
            },
            exceptions: None,
            documented: None,
        };
        let files = vec![
            file("evidence/ec2-security-groups/open-to-world.csv"),
            file("findings.csv"),
            file("access-review/users.csv"),
        ];
        let manifest = Manifest {
            schema_version: 1,
            tool: Tool {
                name: "soc2-evidence".into(),
                version: "0.1.0".into(),
            },
            run: Run {
                id: "run-1".into(),
                started_at: "2026-11-22T08:00:00Z".into(),
                finished_at: "2026-11-22T08:00:05Z".into(),
                duration_ms: 5000,
                api_calls: 10,
                api_retries: 0,
                options: RunOptions::default(),
            },
            account: Account {
                id: "123456789012".into(),
                partition: "aws".into(),
                caller_arn: format!("arn:aws:sts::123456789012:assumed-role/{hostile}"),
                aliases: Some(vec![hostile.into()]),
            },
            regions: vec!["us-east-1".into()],
            status: BundleStatus::Incomplete,
            collectors: vec![CollectorRecord {
                id: "ec2-security-groups".into(),
                title: "Security groups".into(),
                controls: vec![Control::Cc6_6],
                scope: crate::vocab::Scope::Regional,
                status: CollectorStatus::Partial,
                api_calls: 2,
                api_retries: 0,
                duration_ms: 10,
                errors: vec![CallError::new(
                    "eu-west-1",
                    "DescribeSecurityGroups",
                    "AccessDenied",
                    hostile,
                )],
                regions: vec![],
                files: vec![file("evidence/ec2-security-groups/open-to-world.csv")],
                notes: BTreeMap::new(),
            }],
            files,
            findings_summary: FindingsSummary::default(),
            controls: BTreeMap::from([(
                "CC6.6".to_string(),
                ControlRecord {
                    title: "Protection against threats from outside".into(),
                    collectors: vec!["ec2-security-groups".into()],
                    files: vec![
                        "evidence/ec2-security-groups/open-to-world.csv".into(),
                        "evidence/elsewhere/missing.csv".into(),
                    ],
                    findings: 1,
                },
            )]),
            derived_from: None,
            table_cells: None,
        };
        (manifest, analysis)
    }

    /// Every `href="..."` and `src="..."` value of a page.
    pub fn references(page: &str) -> Vec<String> {
        let mut out = Vec::new();
        for attr in ["href=\"", "src=\""] {
            let mut rest = page;
            while let Some(i) = rest.find(attr) {
                rest = &rest[i + attr.len()..];
                let end = rest.find('"').unwrap();
                out.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
        out
    }

    #[test]
    fn escaping_and_link_encoding() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(href("evidence/a b/c\"d.csv"), "evidence/a%20b/c%22d.csv");
        assert_eq!(
            with_code("run `aws x --y <z>` now"),
            "run <code>aws x --y &lt;z&gt;</code> now"
        );
        assert_eq!(with_code("odd ` tick <"), "odd ` tick &lt;");
        assert!(!is_relative("../x"));
        assert!(!is_relative("/etc/passwd"));
        assert!(!is_relative("https://example.com/x"));
        assert!(is_relative("evidence/x/y.csv"));
    }

    #[test]
    fn the_page_shows_the_matrix_findings_and_rules_and_links_only_inside_the_bundle() {
        let (manifest, analysis) = fixture();
        let page = render(&manifest, &analysis);
        for needle in [
            "CC6.6",
            "sg-admin-port-open",
            "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1",
            "access-analyzer-missing",
            "not evaluated",
            "ListAnalyzers AccessDenied in us-east-1",
            "DescribeSecurityGroups",
            "Access review",
        ] {
            assert!(page.contains(needle), "{needle} missing");
        }
        // Hostile names are escaped wherever they appear.
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        // No script, no external reference; every link is a bundle file or an anchor.
        assert!(!page.to_lowercase().contains("<script"));
        assert!(!page.contains("http://") && !page.contains("https://"));
        assert!(!page.contains("url("));
        let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
        for link in references(&page) {
            if let Some(anchor) = link.strip_prefix('#') {
                assert!(page.contains(&format!("id=\"{anchor}\"")), "{link}");
            } else {
                assert!(
                    link == MANIFEST_FILE || listed.contains(link.as_str()),
                    "{link} is not a bundle file"
                );
            }
        }
        // A file the manifest does not list is named, not linked.
        assert!(page
            .contains("evidence/elsewhere/missing.csv <span class=\"muted\">(not in the bundle)"));
    }

    #[test]
    fn the_page_is_deterministic() {
        let (manifest, analysis) = fixture();
        assert_eq!(render(&manifest, &analysis), render(&manifest, &analysis));
    }
}
