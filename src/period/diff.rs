//! `diff OLD NEW`: what changed between two bundles of one account or organization.
//!
//! Both bundles are opened once and verified (one that is not intact is refused), then reduced
//! to [`Snapshot`]s and compared:
//! - findings keyed by (account, rule, resource): new, resolved, unchanged (a finding whose
//!   severity changed is listed as changed);
//! - access: users and roles added or removed; for users present in both, console access, MFA,
//!   admin, access keys, groups, attached and inline policies; for roles, admin, attached and
//!   inline policies and trust principals;
//! - collector and rule statuses (evaluated -> not evaluated is a change);
//! - per TSC criterion, the findings counted before and after.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::report::SourceBundle;
use crate::vocab::Severity;

use super::snapshot::{Seen, Snapshot};

/// What `diff` is asked to do.
#[derive(Debug, Clone)]
pub struct DiffConfig {
    pub old: PathBuf,
    pub new: PathBuf,
    /// Where diff.csv, diff.json and diff.html go, when given.
    pub out: Option<PathBuf>,
    /// Exit 4 when a *new* finding is at or above this severity.
    pub fail_on: Option<Severity>,
}

/// One side of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub bundle: String,
    pub collected_at: String,
    pub subject: String,
}

/// One change, as `diff.csv` holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `finding`, `user`, `role`, `collector`, `rule`.
    pub kind: String,
    /// `new`, `resolved`, `changed`, `accepted`, `reopened` (findings); `added`, `removed`,
    /// `changed` (the others).
    pub change: String,
    pub account: String,
    /// The rule and resource, the user, the role, the collector or the rule.
    pub subject: String,
    /// The field that changed, for `changed`.
    pub field: String,
    pub before: String,
    pub after: String,
    /// A finding's severity (its new one when it changed).
    pub severity: String,
    pub detail: String,
}

/// A TSC criterion's findings before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlCount {
    pub control: String,
    pub before: usize,
    pub after: usize,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub old: Side,
    pub new: Side,
    pub findings_new: usize,
    pub findings_resolved: usize,
    pub findings_changed: usize,
    pub findings_unchanged: usize,
    /// Findings in both bundles, open before and accepted by an exception after.
    pub findings_accepted: usize,
    /// Findings in both bundles, accepted before and open again after (the exception expired
    /// or was removed).
    pub findings_reopened: usize,
    /// Every change, findings first, in a stable order.
    pub changes: Vec<Change>,
    pub controls: Vec<ControlCount>,
    pub fail_on: Option<Severity>,
    /// New findings at or above `fail_on`.
    pub new_at_or_above_fail_on: usize,
}

impl Diff {
    /// 4 when a new finding reaches `--fail-on`, else 0.
    pub fn exit_code(&self) -> crate::error::ExitCode {
        if self.new_at_or_above_fail_on > 0 {
            crate::error::ExitCode::Findings
        } else {
            crate::error::ExitCode::Success
        }
    }
}

/// Users' fields that make an access change.
const USER_FIELDS: &[&str] = &[
    "console_access",
    "mfa_active",
    "admin",
    "key_1_status",
    "key_2_status",
    "groups",
    "attached_policies",
    "inline_policies",
];
/// Roles' fields that make an access change.
const ROLE_FIELDS: &[&str] = &[
    "admin",
    "attached_policies",
    "inline_policies",
    "trust_principals",
];

fn side(snapshot: &Snapshot) -> Side {
    Side {
        bundle: snapshot.name.clone(),
        collected_at: snapshot.collected_at.clone(),
        subject: snapshot.subject.clone(),
    }
}

fn finding_change(change: &str, key: &(String, String, String), seen: &Seen) -> Change {
    Change {
        kind: "finding".into(),
        change: change.into(),
        account: key.0.clone(),
        subject: format!("{} {}", key.1, key.2),
        severity: seen.severity.as_str().into(),
        detail: seen.detail.clone(),
        ..Change::default()
    }
}

/// Compares two snapshots of one subject.
pub fn compare(old: &Snapshot, new: &Snapshot, fail_on: Option<Severity>) -> Diff {
    let mut changes = Vec::new();
    let (mut added, mut resolved, mut changed, mut unchanged) = (0, 0, 0, 0);
    let (mut accepted, mut reopened) = (0, 0);
    let mut new_serious = 0;
    let status = |seen: &Seen| match &seen.accepted {
        Some((by, until)) => format!("accepted by {by} until {until}"),
        None => "open".to_string(),
    };
    for (key, seen) in &new.findings {
        match old.findings.get(key) {
            None => {
                added += 1;
                // An accepted risk never reaches --fail-on, new or not.
                if seen.accepted.is_none() && fail_on.is_some_and(|f| seen.severity.at_least(f)) {
                    new_serious += 1;
                }
                let mut change = finding_change("new", key, seen);
                if seen.accepted.is_some() {
                    change.field = "status".into();
                    change.after = status(seen);
                }
                changes.push(change);
            }
            Some(before) if before.accepted.is_some() != seen.accepted.is_some() => {
                let kind = if seen.accepted.is_some() {
                    accepted += 1;
                    "accepted"
                } else {
                    reopened += 1;
                    "reopened"
                };
                let mut change = finding_change(kind, key, seen);
                change.field = "status".into();
                change.before = status(before);
                change.after = status(seen);
                changes.push(change);
            }
            Some(before) if before.severity != seen.severity => {
                changed += 1;
                let mut change = finding_change("changed", key, seen);
                change.field = "severity".into();
                change.before = before.severity.as_str().into();
                change.after = seen.severity.as_str().into();
                changes.push(change);
            }
            Some(_) => unchanged += 1,
        }
    }
    for (key, seen) in &old.findings {
        if !new.findings.contains_key(key) {
            resolved += 1;
            changes.push(finding_change("resolved", key, seen));
        }
    }
    for (kind, fields, before, after) in [
        ("user", USER_FIELDS, &old.users, &new.users),
        ("role", ROLE_FIELDS, &old.roles, &new.roles),
    ] {
        let names: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
        for key in names {
            let change = |change: &str, field: &str, b: &str, a: &str| Change {
                kind: kind.into(),
                change: change.into(),
                account: key.0.clone(),
                subject: key.1.clone(),
                field: field.into(),
                before: b.into(),
                after: a.into(),
                ..Change::default()
            };
            match (before.get(key), after.get(key)) {
                (None, Some(_)) => changes.push(change("added", "", "", "")),
                (Some(_), None) => changes.push(change("removed", "", "", "")),
                (Some(b), Some(a)) => {
                    for field in fields.iter() {
                        let (vb, va) = (
                            b.get(*field).map_or("", String::as_str),
                            a.get(*field).map_or("", String::as_str),
                        );
                        if vb != va {
                            changes.push(change("changed", field, vb, va));
                        }
                    }
                }
                (None, None) => {}
            }
        }
    }
    for (kind, before, after) in [
        (
            "collector",
            status_names(&old.collectors, |s| s.as_str()),
            status_names(&new.collectors, |s| s.as_str()),
        ),
        (
            "rule",
            status_names(&old.rules, |s| s.as_str()),
            status_names(&new.rules, |s| s.as_str()),
        ),
    ] {
        let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
        for key in keys {
            let (b, a) = (
                before.get(key).copied().unwrap_or("absent"),
                after.get(key).copied().unwrap_or("absent"),
            );
            if a != b {
                changes.push(Change {
                    kind: kind.into(),
                    change: "changed".into(),
                    account: key.0.clone(),
                    subject: key.1.clone(),
                    field: "status".into(),
                    before: b.into(),
                    after: a.into(),
                    ..Change::default()
                });
            }
        }
    }
    let control_ids: BTreeSet<&String> = old.controls.keys().chain(new.controls.keys()).collect();
    let mut controls: Vec<ControlCount> = crate::controls::Control::ALL
        .iter()
        .map(|c| c.id().to_string())
        .chain(control_ids.into_iter().cloned())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .map(|control| ControlCount {
            before: old.controls.get(&control).copied().unwrap_or(0),
            after: new.controls.get(&control).copied().unwrap_or(0),
            control,
        })
        .collect();
    controls.sort_by(|a, b| a.control.cmp(&b.control));
    Diff {
        old: side(old),
        new: side(new),
        findings_new: added,
        findings_resolved: resolved,
        findings_changed: changed,
        findings_unchanged: unchanged,
        findings_accepted: accepted,
        findings_reopened: reopened,
        changes,
        controls,
        fail_on,
        new_at_or_above_fail_on: new_serious,
    }
}

fn status_names<S: Copy>(
    map: &BTreeMap<(String, String), S>,
    name: fn(S) -> &'static str,
) -> BTreeMap<(String, String), &'static str> {
    map.iter().map(|(k, s)| (k.clone(), name(*s))).collect()
}

/// Runs `diff`: both bundles verified and compared; with `out`, the three files written.
pub fn diff(config: &DiffConfig) -> Result<(Diff, Vec<PathBuf>), Error> {
    let mut old_source = SourceBundle::open(&config.old)?;
    let mut new_source = SourceBundle::open(&config.new)?;
    let old = Snapshot::read(&mut old_source)?;
    let new = Snapshot::read(&mut new_source)?;
    old_source.check_unchanged()?;
    new_source.check_unchanged()?;
    if old.subject != new.subject {
        return Err(Error::Usage(format!(
            "{} is a bundle of {} and {} of {}: diff compares two bundles of one account or organization",
            config.old.display(),
            old.subject,
            config.new.display(),
            new.subject
        )));
    }
    let result = compare(&old, &new, config.fail_on);
    let written = match &config.out {
        Some(out) => write(out, &result)?,
        None => Vec::new(),
    };
    Ok((result, written))
}

/// `diff.csv`, `diff.json` and `diff.html` into `out` (created if missing; existing files are
/// never replaced: nothing is written then).
fn write(out: &Path, diff: &Diff) -> Result<Vec<PathBuf>, Error> {
    let mut json = serde_json::to_vec_pretty(diff).expect("diff serializes");
    json.push(b'\n');
    let html = super::html::render_diff(diff);
    let contents: [(&str, Vec<u8>); 3] = [
        ("diff.csv", crate::contract::csv_bytes(&diff.changes)),
        ("diff.json", json),
        ("diff.html", html.into_bytes()),
    ];
    super::write_outputs(out, &contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::RuleStatus;
    use crate::vocab::CollectorStatus;

    fn seen(severity: Severity) -> Seen {
        Seen {
            severity,
            region: "global".into(),
            detail: "d".into(),
            controls: vec!["CC6.1".into()],
            accepted: None,
        }
    }

    fn accepted(severity: Severity) -> Seen {
        Seen {
            accepted: Some(("jane@example.com".into(), "2027-03-31".into())),
            ..seen(severity)
        }
    }

    #[test]
    fn acceptance_is_a_state_of_its_own() {
        let mut old = Snapshot::default();
        let mut new = Snapshot::default();
        old.findings.insert(key("a", "1"), seen(Severity::High));
        new.findings.insert(key("a", "1"), accepted(Severity::High));
        old.findings.insert(key("b", "2"), accepted(Severity::High));
        new.findings.insert(key("b", "2"), seen(Severity::High));
        old.findings.insert(key("c", "3"), accepted(Severity::High));
        new.findings.insert(key("c", "3"), accepted(Severity::High));
        // New, but accepted from the start: never a new finding at --fail-on.
        new.findings
            .insert(key("d", "4"), accepted(Severity::Critical));
        let diff = compare(&old, &new, Some(Severity::High));
        assert_eq!(
            (
                diff.findings_new,
                diff.findings_accepted,
                diff.findings_reopened,
                diff.findings_unchanged
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(diff.new_at_or_above_fail_on, 0);
        let a = diff.changes.iter().find(|c| c.subject == "a 1").unwrap();
        assert_eq!(
            (a.change.as_str(), a.field.as_str()),
            ("accepted", "status")
        );
        assert_eq!(a.before, "open");
        assert_eq!(a.after, "accepted by jane@example.com until 2027-03-31");
        let b = diff.changes.iter().find(|c| c.subject == "b 2").unwrap();
        assert_eq!(b.change, "reopened");
        assert_eq!(b.after, "open");
        let d = diff.changes.iter().find(|c| c.subject == "d 4").unwrap();
        assert_eq!((d.change.as_str(), d.field.as_str()), ("new", "status"));
    }

    fn key(rule: &str, resource: &str) -> (String, String, String) {
        ("111122223333".into(), rule.into(), resource.into())
    }

    fn user(mfa: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("user_name".to_string(), "alice".to_string()),
            ("mfa_active".to_string(), mfa.to_string()),
            (
                "password_last_used".to_string(),
                "changes every day".to_string(),
            ),
        ])
    }

    #[test]
    fn findings_access_and_statuses_are_compared_by_key() {
        let account = "111122223333".to_string();
        let mut old = Snapshot {
            subject: account.clone(),
            ..Snapshot::default()
        };
        let mut new = old.clone();
        old.findings.insert(key("a", "x"), seen(Severity::High));
        old.findings.insert(key("b", "y"), seen(Severity::Low));
        old.findings.insert(key("c", "z"), seen(Severity::Medium));
        new.findings.insert(key("a", "x"), seen(Severity::High));
        new.findings.insert(key("c", "z"), seen(Severity::High));
        new.findings.insert(key("d", "w"), seen(Severity::Critical));
        old.users
            .insert((account.clone(), "alice".into()), user("true"));
        new.users.insert((account.clone(), "alice".into()), {
            let mut u = user("false");
            u.insert("password_last_used".into(), "another day".into());
            u
        });
        new.users
            .insert((account.clone(), "bob".into()), user("false"));
        old.rules
            .insert((account.clone(), "r".into()), RuleStatus::Evaluated);
        new.rules
            .insert((account.clone(), "r".into()), RuleStatus::NotEvaluated);
        old.collectors
            .insert((account.clone(), "c".into()), CollectorStatus::Collected);
        new.collectors
            .insert((account.clone(), "c".into()), CollectorStatus::Collected);

        let diff = compare(&old, &new, Some(Severity::High));
        assert_eq!(
            (
                diff.findings_new,
                diff.findings_resolved,
                diff.findings_changed,
                diff.findings_unchanged
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(diff.new_at_or_above_fail_on, 1);
        let summary: Vec<(String, String, String, String)> = diff
            .changes
            .iter()
            .map(|c| {
                (
                    c.kind.clone(),
                    c.change.clone(),
                    c.subject.clone(),
                    c.field.clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "finding".into(),
                    "changed".into(),
                    "c z".into(),
                    "severity".into()
                ),
                ("finding".into(), "new".into(), "d w".into(), "".into()),
                ("finding".into(), "resolved".into(), "b y".into(), "".into()),
                (
                    "user".into(),
                    "changed".into(),
                    "alice".into(),
                    "mfa_active".into()
                ),
                ("user".into(), "added".into(), "bob".into(), "".into()),
                ("rule".into(), "changed".into(), "r".into(), "status".into()),
            ]
        );
        // A new finding below --fail-on does not count; no --fail-on, nothing counts.
        assert_eq!(
            compare(&old, &new, Some(Severity::Critical)).new_at_or_above_fail_on,
            1
        );
        assert_eq!(
            compare(&old, &new, None).exit_code(),
            crate::error::ExitCode::Success
        );
        // Nothing changed: nothing reported.
        let same = compare(&old, &old, Some(Severity::Low));
        assert!(same.changes.is_empty());
        assert_eq!(same.findings_unchanged, 3);
    }
}
