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
        "<h2 id=\"summary\">Findings</h2><p>{} new, {} resolved, {} changed severity, {} unchanged.{}</p>",
        diff.findings_new,
        diff.findings_resolved,
        diff.findings_changed,
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
