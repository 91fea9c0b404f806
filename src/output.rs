//! Terminal output: the summary table after `collect`, the JSON summary for CI, the `list`
//! table and the `verify` report. Plain functions returning strings, so they are testable.

use std::fmt::Write;

use serde::Serialize;
use serde_json::json;

use crate::bundle::verify::{escape_untrusted, Report};
use crate::error::ExitCode;
use crate::registry::CollectorSpec;
use crate::run::CollectOutcome;

/// Pads columns to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                let _ = write!(out, "{cell:<w$}  ", w = widths[i]);
            }
        }
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// The human summary printed after `collect`.
pub fn collect_summary(outcome: &CollectOutcome) -> String {
    let m = &outcome.manifest;
    let mut head = String::new();
    if let Some(source) = &m.derived_from {
        let _ = writeln!(
            head,
            "Findings derived again from the evidence of {} (run {}, collected {}):\n",
            source.bundle, source.run_id, m.run.started_at
        );
    }
    let rows: Vec<Vec<String>> = m
        .collectors
        .iter()
        .map(|c| {
            let regions = match c.scope {
                crate::vocab::Scope::Global => "global".to_string(),
                crate::vocab::Scope::Regional => {
                    let covered: Vec<_> = c
                        .regions
                        .iter()
                        .filter(|r| m.regions.contains(&r.region))
                        .collect();
                    let ok = covered
                        .iter()
                        .filter(|r| r.status == crate::vocab::CollectorStatus::Collected)
                        .count();
                    format!("{ok}/{} ok", covered.len())
                }
            };
            vec![
                c.id.clone(),
                c.status.as_str().to_string(),
                regions,
                c.files.len().to_string(),
                c.api_calls.to_string(),
                format!("{:.1}s", c.duration_ms as f64 / 1000.0),
            ]
        })
        .collect();
    let mut out = head;
    out.push_str(&table(
        &["COLLECTOR", "STATUS", "REGIONS", "FILES", "CALLS", "TIME"],
        &rows,
    ));
    for c in &m.collectors {
        for e in &c.errors {
            let _ = writeln!(out, "  {}: {e}", c.id);
        }
    }
    out.push_str(&findings_summary(outcome));
    let _ = writeln!(
        out,
        "\nAccount {} ({}), {} API calls in {:.1}s",
        m.account.id,
        m.account.caller_arn,
        m.run.api_calls,
        m.run.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(out, "Bundle:  {}", outcome.paths.directory.display());
    let _ = writeln!(out, "Zip:     {}", outcome.paths.zip.display());
    let _ = writeln!(out, "SHA-256: {}", outcome.paths.zip_sha256);
    match m.status {
        crate::bundle::manifest::BundleStatus::Complete => match m.findings_summary.fail_on {
            Some(level) if m.findings_summary.at_least(level) > 0 => {
                let _ = writeln!(
                    out,
                    "Status:  complete, but {} finding(s) at or above --fail-on {level}",
                    m.findings_summary.at_least(level)
                );
            }
            _ => {
                let _ = writeln!(out, "Status:  complete");
            }
        },
        crate::bundle::manifest::BundleStatus::Incomplete => {
            let _ = writeln!(
                out,
                "Status:  INCOMPLETE: some evidence could not be collected (errors above and in manifest.json)"
            );
        }
    }
    out
}

/// Findings counts by severity, the most serious findings, and the rules that could not be
/// evaluated, for the terminal.
fn findings_summary(outcome: &CollectOutcome) -> String {
    use crate::findings::RuleStatus;
    use crate::vocab::Severity;
    const SHOWN: usize = 10;
    let a = &outcome.analysis;
    let mut out = String::new();
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|s| format!("{} {s}", a.count(*s)))
        .collect();
    let _ = writeln!(
        out,
        "\nFindings: {} open ({}; all in findings.csv)",
        a.open().count(),
        counts.join(", ")
    );
    if let Some(applied) = &a.exceptions {
        out.push_str(&exceptions_summary(a, applied));
    }
    let serious: Vec<_> = a
        .open()
        .filter(|f| f.severity.at_least(Severity::High))
        .collect();
    for f in serious.iter().take(SHOWN) {
        let _ = writeln!(
            out,
            "  {:<8}  {}  {} ({})",
            f.severity.as_str().to_uppercase(),
            f.rule,
            f.resource,
            f.region
        );
    }
    if serious.len() > SHOWN {
        let _ = writeln!(
            out,
            "  ... and {} more critical/high findings",
            serious.len() - SHOWN
        );
    }
    for r in a.rules.iter().filter(|r| r.status != RuleStatus::Evaluated) {
        let what = match r.status {
            RuleStatus::NotEvaluated => "NOT EVALUATED",
            _ => "partly evaluated",
        };
        let _ = writeln!(out, "  rule {} {what}: {}", r.rule, r.reason);
    }
    out
}

/// The accepted findings' count, and the exceptions that did not apply: expired ones (their
/// findings are open again) and stale ones (they match nothing), each with its line.
fn exceptions_summary(
    a: &crate::findings::Analysis,
    applied: &crate::findings::exceptions::Applied,
) -> String {
    use crate::findings::exceptions::State;
    let mut out = String::new();
    let accepted = a.findings.len() - a.open().count();
    let _ = writeln!(
        out,
        "Accepted: {accepted} finding(s) by {} exception(s) of exceptions.toml (judged as of {}; never counted for --fail-on)",
        applied.count(State::Applied),
        applied.as_of.format("%Y-%m-%d"),
    );
    for o in &applied.outcomes {
        let e = &o.exception;
        let what = match o.state {
            State::Expired => format!(
                "EXPIRED on {}, not applied ({} finding(s) stay open)",
                e.expires.format("%Y-%m-%d"),
                o.findings
            ),
            State::Stale => "STALE: matches no finding".to_string(),
            State::OtherAccount | State::OrgLevel | State::Applied => continue,
        };
        let _ = writeln!(
            out,
            "  exception at line {} ({} on {}): {what}",
            e.line,
            crate::bundle::escape::escape_untrusted(&e.rule),
            crate::bundle::escape::escape_untrusted(&e.resource),
        );
    }
    out
}

#[derive(Serialize)]
struct CollectorLine<'a> {
    id: &'a str,
    status: &'a str,
    files: usize,
    api_calls: u64,
    duration_ms: u64,
    errors: &'a [crate::vocab::CallError],
}

/// The one JSON document `collect --json` (and `report --json`) prints on stdout; `exit_code` is
/// the status the command exits with.
pub fn collect_json(outcome: &CollectOutcome, exit_code: ExitCode) -> serde_json::Value {
    let m = &outcome.manifest;
    let collectors: Vec<CollectorLine> = m
        .collectors
        .iter()
        .map(|c| CollectorLine {
            id: &c.id,
            status: c.status.as_str(),
            files: c.files.len(),
            api_calls: c.api_calls,
            duration_ms: c.duration_ms,
            errors: &c.errors,
        })
        .collect();
    json!({
        "status": m.status,
        "exit_code": exit_code.code(),
        "bundle": outcome.paths,
        "run": { "id": m.run.id, "started_at": m.run.started_at, "duration_ms": m.run.duration_ms,
                 "api_calls": m.run.api_calls, "api_retries": m.run.api_retries },
        "account": m.account,
        "regions": m.regions,
        "collectors": collectors,
        "findings_summary": m.findings_summary,
        "findings": outcome.analysis.findings.iter().map(|f| json!({
            "severity": f.severity, "rule": f.rule, "resource": f.resource, "region": f.region,
            "status": f.status,
        })).collect::<Vec<_>>(),
        "rules_not_fully_evaluated": outcome.analysis.rules.iter()
            .filter(|r| r.status != crate::findings::RuleStatus::Evaluated)
            .map(|r| json!({ "rule": r.rule, "status": r.status, "reason": r.reason }))
            .collect::<Vec<_>>(),
    })
}

/// The `list` table.
pub fn list_table(specs: &[CollectorSpec]) -> String {
    let rows: Vec<Vec<String>> = specs
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.scope.as_str().to_string(),
                s.controls
                    .iter()
                    .map(|c| c.id())
                    .collect::<Vec<_>>()
                    .join(","),
                s.permissions.join(","),
                s.title.to_string(),
            ]
        })
        .collect();
    table(&["ID", "SCOPE", "CONTROLS", "PERMISSIONS", "TITLE"], &rows)
}

/// `list --json`.
pub fn list_json(specs: &[CollectorSpec]) -> serde_json::Value {
    serde_json::Value::Array(
        specs
            .iter()
            .map(|s| {
                json!({
                    "id": s.id,
                    "title": s.title,
                    "controls": s.controls,
                    "scope": s.scope,
                    "permissions": s.permissions,
                })
            })
            .collect(),
    )
}

/// The human `verify` report. Every problem shows its untrusted strings escaped (see
/// `Problem`'s `Display`), and so does the bundle's path: no line of it can be forged or hidden.
pub fn verify_text(report: &Report) -> String {
    let bundle = escape_untrusted(&report.bundle.to_string_lossy());
    let mut out = String::new();
    for problem in &report.problems {
        let _ = writeln!(out, "{problem}");
    }
    // The signature before the verdict, which stays the last line.
    out.push_str(&signature_line(&report.signature.escaped()));
    if report.intact {
        let _ = writeln!(
            out,
            "intact: {} files match the manifest of {} ({})",
            report.files_verified, bundle, report.kind
        );
    } else {
        let _ = writeln!(
            out,
            "NOT INTACT: {} problem(s) in {} ({}); {} files matched",
            report.problems.len(),
            bundle,
            report.kind,
            report.files_verified
        );
    }
    out
}

/// One line (and its notes) on the bundle's signature.
fn signature_line(check: &crate::bundle::verify::SignatureCheck) -> String {
    use crate::bundle::verify::SignatureCheck;
    let mut out = String::new();
    let notes = match check {
        SignatureCheck::Absent => {
            out.push_str("signature: none (manifest.json.sig absent)\n");
            &Vec::new()
        }
        SignatureCheck::NotChecked {
            fingerprint,
            algorithm,
            ..
        } => {
            let _ = writeln!(
                out,
                "signature: signed by {fingerprint} ({algorithm}) (not checked: pass --allowed-signers)"
            );
            &Vec::new()
        }
        SignatureCheck::Unreadable { reason } => {
            let _ = writeln!(out, "signature: unreadable (not checked): {reason}");
            &Vec::new()
        }
        SignatureCheck::Verified {
            signer,
            fingerprint,
            algorithm,
            notes,
        } => {
            let _ = writeln!(
                out,
                "signature: verified, signed by {signer} with {fingerprint} ({algorithm})"
            );
            notes
        }
        SignatureCheck::Refused { reason, notes, .. } => {
            let _ = writeln!(out, "SIGNATURE REFUSED: {reason}");
            notes
        }
    };
    for note in notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out
}

/// The terminal summary of `collect --org` and `merge`: one line per account, the org's
/// findings, and where the org bundle is.
pub fn org_summary(outcome: &crate::org::OrgOutcome) -> String {
    use crate::vocab::Severity;
    let m = &outcome.manifest;
    let mut per_account: std::collections::BTreeMap<&str, [usize; 4]> = Default::default();
    for (account, f) in &outcome.findings {
        if f.status != crate::findings::FindingStatus::Open {
            continue;
        }
        if let Some(i) = Severity::ALL.iter().position(|s| *s == f.severity) {
            per_account.entry(account.as_str()).or_default()[i] += 1;
        }
    }
    let rows: Vec<Vec<String>> = m
        .accounts
        .iter()
        .map(|a| {
            let counts = per_account
                .get(a.account_id.as_str())
                .copied()
                .unwrap_or_default();
            vec![
                a.account_id.clone(),
                escape_untrusted(&a.name),
                a.collection_status.clone(),
                if a.bundle.is_some() {
                    format!("{}/{}/{}/{}", counts[0], counts[1], counts[2], counts[3])
                } else {
                    "-".to_string()
                },
                a.error
                    .as_ref()
                    .map(|e| {
                        escape_untrusted(&format!("{}: {}: {}", e.operation, e.code, e.message))
                    })
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "ACCOUNT",
            "NAME",
            "COLLECTION",
            "CRIT/HIGH/MED/LOW",
            "ERROR",
        ],
        &rows,
    );
    for e in &m.errors {
        let _ = writeln!(out, "  organization: {}", escape_untrusted(&e.to_string()));
    }
    let s = &m.findings_summary;
    let _ = writeln!(
        out,
        "\nFindings: {} open ({} critical, {} high, {} medium, {} low; all in findings.csv)",
        s.total, s.critical, s.high, s.medium, s.low
    );
    if let Some(x) = &s.exceptions {
        let _ = writeln!(
            out,
            "Accepted: {} finding(s) by {} exception(s) of exceptions.toml (judged as of {}); {} expired, {} stale: see exceptions.csv",
            s.accepted.total, x.applied, x.as_of, x.expired, x.stale
        );
    }
    for r in &outcome.rules {
        if r.status != crate::findings::RuleStatus::Evaluated {
            let _ = writeln!(
                out,
                "  org rule {} {}: {}",
                r.rule,
                r.status.as_str(),
                r.reason
            );
        } else if r.findings > 0 {
            let _ = writeln!(out, "  org rule {}: {} finding(s)", r.rule, r.findings);
        }
    }
    let org = if m.organization.id.is_empty() {
        "Accounts".to_string()
    } else {
        format!("Organization {}", m.organization.id)
    };
    let shard = m
        .shard
        .map(|s| {
            format!(
                " (shard {}/{}: join the shards with `soc2-evidence merge`)",
                s.index, s.count
            )
        })
        .unwrap_or_default();
    let collected = m.accounts.iter().filter(|a| a.bundle.is_some()).count();
    let _ = writeln!(
        out,
        "\n{org}{shard}: {collected} of {} accounts collected from {}, {} API calls in {:.1}s",
        m.accounts.len(),
        m.organization.collected_from,
        m.run.api_calls,
        m.run.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(out, "Bundle:  {}", outcome.paths.directory.display());
    let _ = writeln!(out, "Zip:     {}", outcome.paths.zip.display());
    let _ = writeln!(out, "SHA-256: {}", outcome.paths.zip_sha256);
    let status = match (m.status, outcome.exit_code()) {
        (crate::bundle::manifest::BundleStatus::Incomplete, _) => {
            "INCOMPLETE: some accounts or calls could not be collected (see above and manifest.json)".to_string()
        }
        (_, ExitCode::Findings) => format!(
            "complete, but finding(s) at or above --fail-on {}",
            s.fail_on.map(|f| f.as_str()).unwrap_or_default()
        ),
        _ => "complete".to_string(),
    };
    let _ = writeln!(out, "Status:  {status}");
    out
}

/// The JSON document `collect --org --json` and `merge --json` print.
pub fn org_json(outcome: &crate::org::OrgOutcome) -> serde_json::Value {
    let m = &outcome.manifest;
    json!({
        "status": m.status,
        "exit_code": outcome.exit_code().code(),
        "bundle": outcome.paths,
        "organization": m.organization,
        "shard": m.shard,
        "run": { "id": m.run.id, "started_at": m.run.started_at, "duration_ms": m.run.duration_ms,
                 "api_calls": m.run.api_calls, "api_retries": m.run.api_retries },
        "accounts": m.accounts,
        "errors": m.errors,
        "findings_summary": m.findings_summary,
        "findings": outcome.findings.iter().map(|(account, f)| json!({
            "account": account, "severity": f.severity, "rule": f.rule, "resource": f.resource, "region": f.region,
            "status": f.status,
        })).collect::<Vec<_>>(),
        "org_rules": outcome.rules.iter()
            .map(|r| json!({ "rule": r.rule, "status": r.status, "findings": r.findings, "reason": r.reason }))
            .collect::<Vec<_>>(),
    })
}

/// The terminal summary of `diff`.
pub fn diff_text(diff: &crate::period::diff::Diff, written: &[std::path::PathBuf]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} (collected {}) -> {} (collected {})",
        escape_untrusted(&diff.new.subject),
        escape_untrusted(&diff.old.bundle),
        escape_untrusted(&diff.old.collected_at),
        escape_untrusted(&diff.new.bundle),
        escape_untrusted(&diff.new.collected_at)
    );
    let _ = writeln!(
        out,
        "Findings: {} new, {} resolved, {} changed severity, {} accepted, {} reopened, {} unchanged",
        diff.findings_new,
        diff.findings_resolved,
        diff.findings_changed,
        diff.findings_accepted,
        diff.findings_reopened,
        diff.findings_unchanged
    );
    let rows: Vec<Vec<String>> = diff
        .changes
        .iter()
        .map(|c| {
            let what = if c.kind == "finding" {
                format!("{} {}", c.change, c.severity)
            } else {
                c.change.clone()
            };
            let field = if c.field.is_empty() {
                String::new()
            } else {
                format!("{}: {} -> {}", c.field, c.before, c.after)
            };
            vec![
                c.kind.clone(),
                what,
                c.account.clone(),
                escape_untrusted(&c.subject),
                escape_untrusted(&field),
            ]
        })
        .collect();
    if rows.is_empty() {
        out.push_str("No change.\n");
    } else {
        out.push_str(&table(
            &["KIND", "CHANGE", "ACCOUNT", "SUBJECT", "FIELD"],
            &rows,
        ));
    }
    let moved: Vec<String> = diff
        .controls
        .iter()
        .filter(|c| c.before != c.after)
        .map(|c| format!("{} {} -> {}", c.control, c.before, c.after))
        .collect();
    if !moved.is_empty() {
        let _ = writeln!(out, "Findings per criterion: {}", moved.join(", "));
    }
    for path in written {
        let _ = writeln!(out, "Wrote {}", path.display());
    }
    if let Some(level) = diff.fail_on {
        let _ = writeln!(
            out,
            "{} new finding(s) at or above --fail-on {}",
            diff.new_at_or_above_fail_on,
            level.as_str()
        );
    }
    out
}

/// The terminal summary of `timeline`.
pub fn timeline_text(
    t: &crate::period::timeline::Timeline,
    written: &[std::path::PathBuf],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} bundles from {} to {}",
        escape_untrusted(&t.subject),
        t.bundles.len(),
        escape_untrusted(&t.period_start),
        escape_untrusted(&t.period_end)
    );
    for e in &t.excluded {
        let _ = writeln!(
            out,
            "  left out {}: {}",
            escape_untrusted(&e.bundle),
            escape_untrusted(&e.reason)
        );
    }
    for g in &t.gaps {
        let _ = writeln!(
            out,
            "  gap of {} days (more than {}d): {} -> {}",
            g.days, t.expect_every_days, g.from, g.to
        );
    }
    let open = t.findings.iter().filter(|f| f.status == "open").count();
    let accepted = t.findings.iter().filter(|f| f.status == "accepted").count();
    let _ = writeln!(
        out,
        "Findings: {} over the period, {open} open and {accepted} accepted as risks in the latest bundle",
        t.findings.len()
    );
    let rows: Vec<Vec<String>> = t
        .findings
        .iter()
        .filter(|f| f.status == "open")
        .take(20)
        .map(|f| {
            vec![
                f.severity.clone(),
                f.account.clone(),
                f.rule.clone(),
                escape_untrusted(&f.resource),
                f.failing_since.clone(),
                f.days_open.map(|d| d.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        out.push_str(&table(
            &[
                "SEVERITY",
                "ACCOUNT",
                "RULE",
                "RESOURCE",
                "FAILING SINCE",
                "DAYS",
            ],
            &rows,
        ));
    }
    for n in &t.not_evaluated {
        let _ = writeln!(
            out,
            "  rule {} ({}) not evaluated on {} date(s)",
            n.rule,
            n.account,
            n.dates.len()
        );
    }
    for path in written {
        let _ = writeln!(out, "Wrote {}", path.display());
    }
    out
}
