//! `timeline BUNDLE-OR-DIR...`: a control's state across a SOC 2 Type 2 observation period.
//!
//! Every bundle given (a zip, a bundle directory, or a folder holding bundles, such as a folder
//! of CI artifacts) is opened once and verified, on all cores. A bundle that is not intact or
//! cannot be read, and a bundle of another account or organization than the rest (the subject
//! most bundles share), is listed with the reason and excluded, never used silently. The others
//! are ordered by collection time and reduced to [`Snapshot`]s:
//! - per finding (account, rule, resource): first_seen, last_seen, whether it is open (present
//!   in the latest bundle), failing_since (the start of its latest unbroken run of bundles, when
//!   open) and days_open (failing_since to the latest bundle). A bundle in which the finding's
//!   rule could not be evaluated for its account neither breaks nor extends a run: it is a gap
//!   in the evidence, not a pass;
//! - per TSC criterion, its state in each bundle: the worst severity of its findings, `none`,
//!   or `not_evaluated` when one of its rules could not be evaluated there;
//! - coverage: the period covered, every gap between consecutive bundles longer than
//!   `--expect-every`, and the rules that could not be evaluated on some dates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;
use crate::findings::RuleStatus;
use crate::report::SourceBundle;
use crate::vocab::Severity;

use super::snapshot::{FindingKey, Snapshot};

/// What `timeline` is asked to do.
#[derive(Debug, Clone)]
pub struct TimelineConfig {
    /// Bundles (zip or directory) and folders of bundles.
    pub inputs: Vec<PathBuf>,
    /// Where timeline.csv, timeline.json and timeline.html go.
    pub out: Option<PathBuf>,
    /// The longest expected interval between two bundles, in days.
    pub expect_every_days: u32,
    /// Threads reading bundles (0: every core).
    pub threads: usize,
    /// With `--allowed-signers`: only bundles signed by these signers (for `signer`, when set)
    /// are used; unsigned and foreign-signed ones are left out, with the reason.
    pub trust: Option<(crate::bundle::signature::AllowedSigners, Option<String>)>,
}

/// A bundle left out, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Excluded {
    pub bundle: String,
    pub reason: String,
}

/// One bundle used.
#[derive(Debug, Clone, Serialize)]
pub struct Used {
    pub bundle: String,
    pub collected_at: String,
    pub findings: usize,
}

/// A finding's life over the period.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct FindingLife {
    pub account: String,
    pub rule: String,
    pub resource: String,
    /// Its severity in the latest bundle that holds it.
    pub severity: String,
    /// `open` (in the latest bundle), `accepted` (in the latest bundle, accepted by an
    /// exception) or `resolved`.
    pub status: String,
    pub first_seen: String,
    pub last_seen: String,
    /// When open: the start of its latest unbroken run.
    pub failing_since: String,
    /// When open: days from failing_since to the latest bundle.
    pub days_open: Option<i64>,
    /// How many bundles hold it.
    pub bundles_seen: usize,
    /// When accepted: who approved the exception and its expiry, in the latest bundle.
    pub accepted_by: String,
    pub accepted_until: String,
    /// When accepted: the first bundle of its latest unbroken run of acceptance.
    pub accepted_since: String,
}

/// A gap between two consecutive bundles longer than expected.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gap {
    pub from: String,
    pub to: String,
    pub days: f64,
}

/// A rule that could not be evaluated in some bundles.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NotEvaluated {
    pub account: String,
    pub rule: String,
    pub dates: Vec<String>,
}

/// The whole timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub subject: String,
    pub period_start: String,
    pub period_end: String,
    pub expect_every_days: u32,
    pub bundles: Vec<Used>,
    pub excluded: Vec<Excluded>,
    pub findings: Vec<FindingLife>,
    /// Criterion -> its state in each bundle, in bundle order.
    pub controls: BTreeMap<String, Vec<String>>,
    pub gaps: Vec<Gap>,
    pub not_evaluated: Vec<NotEvaluated>,
}

impl Timeline {
    /// 0 when every bundle was used and there is no gap; 3 when a bundle was excluded or the
    /// period has a gap (the evidence does not cover it as expected).
    pub fn exit_code(&self) -> crate::error::ExitCode {
        if self.excluded.is_empty() && self.gaps.is_empty() {
            crate::error::ExitCode::Success
        } else {
            crate::error::ExitCode::Incomplete
        }
    }
}

/// The bundles below `inputs`: a path with `manifest.json` or a file is a bundle; any other
/// folder is searched one level deep for bundle zips and bundle folders. A folder whose zip sits
/// beside it is read once, from the zip (its `.sha256` is checked too).
pub fn find_bundles(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut found = BTreeSet::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| Error::Report {
            path: input.clone(),
            reason: format!("cannot read it: {e}"),
        })?;
        if meta.is_file() || input.join("manifest.json").exists() {
            found.insert(input.clone());
            continue;
        }
        let entries = std::fs::read_dir(input).map_err(|e| Error::Report {
            path: input.clone(),
            reason: format!("cannot list it: {e}"),
        })?;
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        let zips: BTreeSet<PathBuf> = names
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "zip"))
            .cloned()
            .collect();
        for path in names {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !name.starts_with("soc2-evidence-") || name.starts_with('.') {
                continue;
            }
            if path.extension().is_some_and(|e| e == "zip") {
                found.insert(path);
            } else if path.is_dir() && !zips.contains(&path.with_extension("zip")) {
                let mut zip = path.clone().into_os_string();
                zip.push(".zip");
                if !zips.contains(&PathBuf::from(zip)) && path.join("manifest.json").exists() {
                    found.insert(path);
                }
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// Checks the signature of a verified bundle against the allowed signers: the signer's name, or
/// why the bundle cannot be trusted.
fn check_signature(
    source: &mut SourceBundle,
    trust: &(crate::bundle::signature::AllowedSigners, Option<String>),
) -> Result<String, Error> {
    use crate::bundle::signature::{BundleSignature, SIGNATURE_FILE};
    let refused = |source: &SourceBundle, reason: String| Error::Report {
        path: source.path().to_path_buf(),
        reason,
    };
    let Some(bytes) = source.read_signature()? else {
        return Err(refused(
            source,
            format!("it is not signed (no {SIGNATURE_FILE}), and --allowed-signers asks for signed bundles"),
        ));
    };
    let signature = BundleSignature::parse(&bytes).map_err(|e| refused(source, e))?;
    let manifest = source.manifest_bytes().to_vec();
    signature
        .check(&manifest, &trust.0, trust.1.as_deref())
        .map_err(|e| refused(source, format!("its signature is refused: {e}")))
}

/// Opens, verifies and reduces every bundle, on `threads` threads.
fn read_all(
    paths: &[PathBuf],
    threads: usize,
    trust: Option<&(crate::bundle::signature::AllowedSigners, Option<String>)>,
) -> Vec<(PathBuf, Result<Snapshot, String>)> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        threads
    }
    .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.min(paths.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(path) = paths.get(i) else { break };
                let result = SourceBundle::open(path)
                    .and_then(|mut source| {
                        if let Some(trust) = trust {
                            check_signature(&mut source, trust)?;
                        }
                        let snapshot = Snapshot::read(&mut source)?;
                        source.check_unchanged()?;
                        Ok(snapshot)
                    })
                    .map_err(|e| match e {
                        Error::Report { reason, .. } => reason,
                        other => other.to_string(),
                    });
                results
                    .lock()
                    .expect("never poisoned")
                    .push((path.clone(), result));
            });
        }
    });
    let mut results = results.into_inner().expect("never poisoned");
    results.sort_by(|a, b| a.0.cmp(&b.0));
    results
}

fn date_of(at: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Builds the timeline of `snapshots` (any order) as the module docs say.
pub fn build(
    mut snapshots: Vec<Snapshot>,
    mut excluded: Vec<Excluded>,
    expect_every_days: u32,
) -> Timeline {
    // The subject most bundles share; the others are foreign.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &snapshots {
        *counts.entry(s.subject.as_str()).or_default() += 1;
    }
    let subject = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(s, _)| s.to_string())
        .unwrap_or_default();
    snapshots.retain(|s| {
        if s.subject == subject {
            return true;
        }
        excluded.push(Excluded {
            bundle: s.name.clone(),
            reason: format!("a bundle of {}, not of {subject}", s.subject),
        });
        false
    });
    snapshots.retain(|s| {
        if date_of(&s.collected_at).is_some() {
            return true;
        }
        excluded.push(Excluded {
            bundle: s.name.clone(),
            reason: format!(
                "its collection time {:?} is not an RFC 3339 time",
                s.collected_at
            ),
        });
        false
    });
    snapshots.sort_by(|a, b| {
        date_of(&a.collected_at)
            .cmp(&date_of(&b.collected_at))
            .then(a.name.cmp(&b.name))
    });
    excluded.sort_by(|a, b| a.bundle.cmp(&b.bundle));

    // Findings: presence per bundle; `None` when the rule was not evaluated for the account.
    let keys: BTreeSet<&FindingKey> = snapshots.iter().flat_map(|s| s.findings.keys()).collect();
    let last = snapshots.len().saturating_sub(1);
    let mut findings = Vec::new();
    for key in keys {
        let (account, rule, resource) = key;
        let presence: Vec<Option<bool>> = snapshots
            .iter()
            .map(|s| {
                if s.findings.contains_key(key) {
                    Some(true)
                } else {
                    match s.rules.get(&(account.clone(), rule.clone())) {
                        Some(RuleStatus::Evaluated) | Some(RuleStatus::Partial) => Some(false),
                        _ => None,
                    }
                }
            })
            .collect();
        let seen: Vec<usize> = presence
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == Some(true))
            .map(|(i, _)| i)
            .collect();
        let (first, latest) = (seen[0], *seen.last().expect("seen once"));
        let open = latest == last;
        let mut since = latest;
        if open {
            // Walk back over bundles that hold it or could not say.
            let mut i = latest;
            while i > 0 && presence[i - 1] != Some(false) {
                i -= 1;
                if presence[i] == Some(true) {
                    since = i;
                }
            }
        }
        let at = |i: usize| snapshots[i].collected_at.clone();
        let accepted_in = |i: usize| {
            snapshots[i]
                .findings
                .get(key)
                .and_then(|f| f.accepted.clone())
        };
        let accepted = if open { accepted_in(latest) } else { None };
        let accepted_since = accepted.as_ref().map(|_| {
            let mut i = latest;
            while i > 0 && accepted_in(i - 1).is_some() {
                i -= 1;
            }
            at(i)
        });
        findings.push(FindingLife {
            account: account.clone(),
            rule: rule.clone(),
            resource: resource.clone(),
            severity: snapshots[latest].findings[key]
                .severity
                .as_str()
                .to_string(),
            status: match (open, &accepted) {
                (true, None) => "open",
                (true, Some(_)) => "accepted",
                (false, _) => "resolved",
            }
            .to_string(),
            first_seen: at(first),
            last_seen: at(latest),
            failing_since: if open { at(since) } else { String::new() },
            days_open: open.then(|| {
                (date_of(&at(last)).expect("checked") - date_of(&at(since)).expect("checked"))
                    .num_days()
            }),
            bundles_seen: seen.len(),
            accepted_by: accepted.as_ref().map(|a| a.0.clone()).unwrap_or_default(),
            accepted_until: accepted.as_ref().map(|a| a.1.clone()).unwrap_or_default(),
            accepted_since: accepted_since.unwrap_or_default(),
        });
    }
    findings.sort_by(|a, b| {
        (a.status != "open")
            .cmp(&(b.status != "open"))
            .then(severity_rank(&a.severity).cmp(&severity_rank(&b.severity)))
            .then(a.account.cmp(&b.account))
            .then(a.rule.cmp(&b.rule))
            .then(a.resource.cmp(&b.resource))
    });

    // Controls: worst severity per bundle, or not_evaluated.
    let all_controls: BTreeSet<String> = snapshots
        .iter()
        .flat_map(|s| s.rule_controls.values().flatten().cloned())
        .collect();
    let mut controls = BTreeMap::new();
    for control in all_controls {
        let states = snapshots
            .iter()
            .map(|s| {
                let worst = s
                    .findings
                    .values()
                    .filter(|f| f.accepted.is_none() && f.controls.contains(&control))
                    .map(|f| f.severity)
                    .min();
                let unevaluated = s.rules.iter().any(|((_, rule), status)| {
                    *status == RuleStatus::NotEvaluated
                        && s.rule_controls
                            .get(rule)
                            .is_some_and(|c| c.contains(&control))
                });
                match (worst, unevaluated) {
                    (Some(severity), _) => severity.as_str().to_string(),
                    (None, true) => "not_evaluated".to_string(),
                    (None, false) => "none".to_string(),
                }
            })
            .collect();
        controls.insert(control, states);
    }

    let mut gaps = Vec::new();
    for pair in snapshots.windows(2) {
        let (a, b) = (
            date_of(&pair[0].collected_at),
            date_of(&pair[1].collected_at),
        );
        if let (Some(a), Some(b)) = (a, b) {
            let days = (b - a).num_seconds() as f64 / 86_400.0;
            if days > f64::from(expect_every_days) {
                gaps.push(Gap {
                    from: pair[0].collected_at.clone(),
                    to: pair[1].collected_at.clone(),
                    days: (days * 10.0).round() / 10.0,
                });
            }
        }
    }

    let mut unevaluated: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for s in &snapshots {
        for ((account, rule), status) in &s.rules {
            if *status == RuleStatus::NotEvaluated {
                unevaluated
                    .entry((account.clone(), rule.clone()))
                    .or_default()
                    .push(s.collected_at.clone());
            }
        }
    }
    Timeline {
        subject,
        period_start: snapshots
            .first()
            .map(|s| s.collected_at.clone())
            .unwrap_or_default(),
        period_end: snapshots
            .last()
            .map(|s| s.collected_at.clone())
            .unwrap_or_default(),
        expect_every_days,
        bundles: snapshots
            .iter()
            .map(|s| Used {
                bundle: s.name.clone(),
                collected_at: s.collected_at.clone(),
                findings: s.findings.len(),
            })
            .collect(),
        excluded,
        findings,
        controls,
        gaps,
        not_evaluated: unevaluated
            .into_iter()
            .map(|((account, rule), dates)| NotEvaluated {
                account,
                rule,
                dates,
            })
            .collect(),
    }
}

fn severity_rank(severity: &str) -> usize {
    Severity::ALL
        .iter()
        .position(|s| s.as_str() == severity)
        .unwrap_or(Severity::ALL.len())
}

/// Runs `timeline`: finds, verifies and reads the bundles, builds the timeline and, with `out`,
/// writes its files.
pub fn timeline(config: &TimelineConfig) -> Result<(Timeline, Vec<PathBuf>), Error> {
    let paths = find_bundles(&config.inputs)?;
    if paths.is_empty() {
        return Err(Error::Usage(
            "no bundle found in the paths given: pass bundle zips, bundle directories, or folders holding them".into(),
        ));
    }
    let mut snapshots = Vec::new();
    let mut excluded = Vec::new();
    for (path, result) in read_all(&paths, config.threads, config.trust.as_ref()) {
        match result {
            Ok(snapshot) => snapshots.push(snapshot),
            Err(reason) => excluded.push(Excluded {
                bundle: path.display().to_string(),
                reason,
            }),
        }
    }
    let built = build(snapshots, excluded, config.expect_every_days);
    let written = match &config.out {
        Some(out) => write(out, &built)?,
        None => Vec::new(),
    };
    Ok((built, written))
}

fn write(out: &Path, timeline: &Timeline) -> Result<Vec<PathBuf>, Error> {
    let mut json = serde_json::to_vec_pretty(timeline).expect("timeline serializes");
    json.push(b'\n');
    let contents: [(&str, Vec<u8>); 3] = [
        (
            "timeline.csv",
            crate::contract::csv_bytes(&timeline.findings),
        ),
        ("timeline.json", json),
        (
            "timeline.html",
            super::html::render_timeline(timeline).into_bytes(),
        ),
    ];
    super::write_outputs(out, &contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::snapshot::Seen;

    const A: &str = "111122223333";

    fn snap(name: &str, day: u32, findings: &[(&str, &str)], unevaluated: &[&str]) -> Snapshot {
        let mut s = Snapshot {
            name: name.into(),
            collected_at: format!("2026-01-{day:02}T06:00:00Z"),
            subject: A.into(),
            ..Snapshot::default()
        };
        for rule in ["r1", "r2", "r3"] {
            let status = if unevaluated.contains(&rule) {
                RuleStatus::NotEvaluated
            } else {
                RuleStatus::Evaluated
            };
            s.rules.insert((A.into(), rule.into()), status);
            s.rule_controls.insert(rule.into(), vec!["CC6.1".into()]);
        }
        for (rule, resource) in findings {
            s.findings.insert(
                (A.into(), rule.to_string(), resource.to_string()),
                Seen {
                    severity: Severity::High,
                    region: "global".into(),
                    detail: String::new(),
                    controls: vec!["CC6.1".into()],
                    accepted: None,
                },
            );
        }
        s
    }

    fn life<'a>(t: &'a Timeline, rule: &str) -> &'a FindingLife {
        t.findings.iter().find(|f| f.rule == rule).unwrap()
    }

    #[test]
    fn runs_gaps_and_unevaluated_bundles() {
        let snapshots = vec![
            snap("b4", 6, &[("r1", "x"), ("r2", "y")], &[]),
            snap("b1", 1, &[("r1", "x")], &[]),
            snap("b2", 2, &[("r2", "y")], &[]),
            // r2 could not be evaluated: neither a pass nor a finding.
            snap("b3", 5, &[("r1", "x")], &["r2"]),
        ];
        let mut foreign = snap("other", 3, &[("r3", "z")], &[]);
        foreign.subject = "999988887777".into();
        let mut all = snapshots;
        all.push(foreign);
        let t = build(all, vec![], 1);
        assert_eq!(t.subject, A);
        assert_eq!(t.excluded.len(), 1);
        assert!(t.excluded[0].reason.contains("999988887777"));
        assert_eq!(
            t.bundles
                .iter()
                .map(|b| b.bundle.as_str())
                .collect::<Vec<_>>(),
            ["b1", "b2", "b3", "b4"]
        );

        // r1: in b1, absent in b2 (evaluated), back in b3 and b4: failing since b3.
        let r1 = life(&t, "r1");
        assert_eq!(r1.first_seen, "2026-01-01T06:00:00Z");
        assert_eq!(r1.last_seen, "2026-01-06T06:00:00Z");
        assert_eq!(r1.failing_since, "2026-01-05T06:00:00Z");
        assert_eq!(r1.days_open, Some(1));
        assert_eq!(r1.status, "open");
        assert_eq!(r1.bundles_seen, 3);
        // r2: b2, not evaluated in b3, b4: the run goes on through the unknown bundle.
        let r2 = life(&t, "r2");
        assert_eq!(r2.failing_since, "2026-01-02T06:00:00Z");
        assert_eq!(r2.days_open, Some(4));

        // The 3-day gap from b2 to b3 is longer than 1d.
        assert_eq!(t.gaps.len(), 1);
        assert_eq!(t.gaps[0].from, "2026-01-02T06:00:00Z");
        assert_eq!(t.gaps[0].days, 3.0);
        assert!(build(
            vec![snap("a", 1, &[], &[]), snap("b", 5, &[], &[])],
            vec![],
            7
        )
        .gaps
        .is_empty());
        assert_eq!(t.not_evaluated[0].rule, "r2");
        assert_eq!(t.not_evaluated[0].dates, ["2026-01-05T06:00:00Z"]);
        assert_eq!(t.controls["CC6.1"], ["high", "high", "high", "high"]);
        assert_eq!(t.exit_code(), crate::error::ExitCode::Incomplete);
    }

    #[test]
    fn a_resolved_finding_has_no_open_days() {
        let t = build(
            vec![snap("a", 1, &[("r1", "x")], &[]), snap("b", 2, &[], &[])],
            vec![],
            1,
        );
        let r1 = life(&t, "r1");
        assert_eq!(
            (r1.status.as_str(), r1.failing_since.as_str(), r1.days_open),
            ("resolved", "", None)
        );
        assert_eq!(t.controls["CC6.1"], ["high", "none"]);
    }
}
