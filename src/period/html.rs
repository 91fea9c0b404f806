//! `diff.html`: self-contained like `index.html` (inline CSS, no script, no external reference,
//! every string escaped), printable.

use std::fmt::Write;

use crate::findings::html::{badge, escape, STYLE};

use super::diff::Diff;

pub fn render_diff(diff: &Diff) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>SOC 2 evidence: changes of {}</title>\n<style>{STYLE}.badge{{white-space:nowrap}}</style>\n</head>\n<body>\n",
        escape(&diff.new.subject)
    );
    let _ = writeln!(
        page,
        "<header><h1>Changes of <span class=\"mono\">{}</span></h1>\
         <p>From bundle <span class=\"mono\">{}</span> (collected {}) to <span class=\"mono\">{}</span> \
         (collected {}). Both bundles were verified intact before they were compared.</p></header>",
        escape(&diff.new.subject),
        escape(&diff.old.bundle),
        escape(&diff.old.collected_at),
        escape(&diff.new.bundle),
        escape(&diff.new.collected_at),
    );
    let _ = writeln!(
        page,
        "<h2 id=\"summary\">Findings</h2><p>{} new, {} resolved, {} changed severity, {} \
         accepted as risks, {} reopened (their exception expired or was removed), {} unchanged.{}</p>",
        diff.findings_new,
        diff.findings_resolved,
        diff.findings_changed,
        diff.findings_accepted,
        diff.findings_reopened,
        diff.findings_unchanged,
        match diff.fail_on {
            Some(level) => format!(
                " {} new finding(s) at or above {}.",
                diff.new_at_or_above_fail_on,
                level.as_str()
            ),
            None => String::new(),
        }
    );
    page.push_str(
        "<h2 id=\"controls\">Findings per criterion</h2><table><thead><tr><th>Criterion</th>\
         <th>Before</th><th>After</th></tr></thead><tbody>\n",
    );
    for c in &diff.controls {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&c.control),
            c.before,
            c.after
        );
    }
    page.push_str("</tbody></table>\n");
    page.push_str(
        "<h2 id=\"changes\">Every change</h2>\n<table><thead><tr><th>Kind</th><th>Change</th>\
         <th>Account</th><th>Subject</th><th>Field</th><th>Before</th><th>After</th><th>Detail</th>\
         </tr></thead><tbody>\n",
    );
    if diff.changes.is_empty() {
        page.push_str("<tr><td colspan=\"8\">No change.</td></tr>\n");
    }
    for c in &diff.changes {
        let change = match (c.kind.as_str(), c.change.as_str()) {
            ("finding", "new") => badge(&c.severity, &format!("new {}", c.severity)),
            ("finding", "resolved") => badge("collected", "resolved"),
            (_, other) => escape(other),
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{change}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&c.kind),
            escape(&c.account),
            escape(&c.subject),
            escape(&c.field),
            escape(&c.before),
            escape(&c.after),
            escape(&c.detail),
        );
    }
    page.push_str("</tbody></table>\n</body>\n</html>\n");
    page
}

/// `timeline.html`: the criterion x date grid coloured by worst severity, the findings' lives,
/// the coverage and the bundles left out. No script: readable as is and printable.
pub fn render_timeline(t: &super::timeline::Timeline) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>SOC 2 evidence: observation period of {}</title>\n<style>{STYLE}\
         .badge{{white-space:nowrap}}td.cell{{text-align:center;font-size:.8em;padding:.15em}}\
         .none{{background:#dff0d8;color:#1d5e20}}</style>\n</head>\n<body>\n",
        escape(&t.subject)
    );
    let _ = writeln!(
        page,
        "<header><h1>Observation period of <span class=\"mono\">{}</span></h1>\
         <p>{} bundles from {} to {}, each verified intact before use; {} left out (listed \
         below). Expected a bundle at least every {} day(s): {} gap(s).</p></header>",
        escape(&t.subject),
        t.bundles.len(),
        escape(&t.period_start),
        escape(&t.period_end),
        t.excluded.len(),
        t.expect_every_days,
        t.gaps.len(),
    );
    page.push_str(
        "<nav><a href=\"#grid\">Criteria over time</a><a href=\"#findings\">Findings</a>\
         <a href=\"#coverage\">Coverage</a><a href=\"#excluded\">Left out</a></nav>\n",
    );
    page.push_str(
        "<h2 id=\"grid\">Criteria over time</h2><p>Each cell: the most serious finding of the \
         criterion in that bundle; <em>none</em>: no finding; <em>not_evaluated</em>: one of its \
         rules could not be evaluated there.</p><table><thead><tr><th>Criterion</th>",
    );
    for b in &t.bundles {
        let date = b.collected_at.get(..10).unwrap_or(&b.collected_at);
        let _ = write!(
            page,
            "<th title=\"{}\">{}</th>",
            escape(&b.bundle),
            escape(date)
        );
    }
    page.push_str("</tr></thead><tbody>\n");
    for (control, states) in &t.controls {
        let _ = write!(page, "<tr><td>{}</td>", escape(control));
        for state in states {
            // The state names are the page's classes (severities, none, not_evaluated).
            let _ = write!(
                page,
                "<td class=\"cell {}\">{}</td>",
                escape(state),
                escape(state)
            );
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody></table>\n");
    page.push_str(
        "<h2 id=\"findings\">Findings over the period</h2><table><thead><tr><th>Severity</th>\
         <th>Status</th><th>Account</th><th>Rule</th><th>Resource</th><th>First seen</th>\
         <th>Last seen</th><th>Failing since</th><th>Days open</th></tr></thead><tbody>\n",
    );
    for f in &t.findings {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td><code>{}</code></td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            badge(&f.severity, &f.severity),
            if f.status == "accepted" {
                format!(
                    "accepted since {} by {} until {}",
                    escape(&f.accepted_since),
                    escape(&f.accepted_by),
                    escape(&f.accepted_until)
                )
            } else {
                escape(&f.status)
            },
            escape(&f.account),
            escape(&f.rule),
            escape(&f.resource),
            escape(&f.first_seen),
            escape(&f.last_seen),
            escape(&f.failing_since),
            f.days_open.map(|d| d.to_string()).unwrap_or_default(),
        );
    }
    page.push_str("</tbody></table>\n<h2 id=\"coverage\">Coverage</h2>\n");
    if t.gaps.is_empty() {
        page.push_str("<p>No gap longer than expected.</p>\n");
    } else {
        page.push_str("<ul>\n");
        for g in &t.gaps {
            let _ = writeln!(
                page,
                "<li>{} days without a bundle: {} to {}</li>",
                g.days,
                escape(&g.from),
                escape(&g.to)
            );
        }
        page.push_str("</ul>\n");
    }
    if !t.not_evaluated.is_empty() {
        page.push_str("<p>Rules that could not be evaluated on some dates:</p><ul>\n");
        for n in &t.not_evaluated {
            let _ = writeln!(
                page,
                "<li><code>{}</code> ({}): {}</li>",
                escape(&n.rule),
                escape(&n.account),
                escape(&n.dates.join(", "))
            );
        }
        page.push_str("</ul>\n");
    }
    page.push_str("<h2 id=\"excluded\">Bundles left out</h2>\n");
    if t.excluded.is_empty() {
        page.push_str("<p>None: every bundle given was used.</p>\n");
    } else {
        page.push_str("<table><thead><tr><th>Bundle</th><th>Why</th></tr></thead><tbody>\n");
        for e in &t.excluded {
            let _ = writeln!(
                page,
                "<tr><td class=\"mono\">{}</td><td>{}</td></tr>",
                escape(&e.bundle),
                escape(&e.reason)
            );
        }
        page.push_str("</tbody></table>\n");
    }
    page.push_str("</body>\n</html>\n");
    page
}
