//! Findings (SPEC section 5): what auditors flag, derived after collection from the collected
//! evidence alone.
//!
//! The analysis is a pure function of the bundle's evidence files and of the collectors' states
//! recorded in the manifest: it makes no API call, so `report` can re-derive every finding from
//! an existing bundle, and tests run each rule on fixture files.
//!
//! A rule whose evidence was not collected never passes silently: its outcome says it was not
//! evaluated (or only partly, e.g. some regions failed) and why.

pub mod access_review;
pub mod documented;
pub mod exceptions;
pub mod html;
pub mod input;
pub mod org_html;
pub mod org_rules;
mod rules;
#[cfg(test)]
mod testkit;
pub mod write;

use serde::{Deserialize, Serialize};

use crate::bundle::manifest::FindingsSummary;
use crate::controls::Control;
pub use crate::vocab::{Severity, Thresholds};
pub use access_review::AccessReview;
pub use exceptions::FindingStatus;
pub use input::Input;

/// One finding, as `findings.csv` / `findings.json` hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub controls: Vec<String>,
    /// The ARN of the resource, or its name where it has no ARN (e.g. the password policy).
    pub resource: String,
    /// The resource's region, `global` for IAM and the account-wide settings.
    pub region: String,
    /// What was found, with the facts that make it a finding.
    pub detail: String,
    /// The bundle path of the evidence file the finding comes from.
    pub evidence: String,
    /// CIS AWS Foundations Benchmark v3.0 numbers and Security Hub control ids.
    pub references: Vec<String>,
    pub remediation: String,
    /// `open`, or `accepted` by an exception (README "Accepting a finding").
    #[serde(default)]
    pub status: FindingStatus,
    /// The exception that accepted it, when accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<exceptions::Acceptance>,
}

impl Finding {
    /// A finding with every field empty (the probe row of an empty table's header).
    pub(crate) fn empty() -> Finding {
        Finding {
            rule: String::new(),
            severity: Severity::Low,
            controls: Vec::new(),
            resource: String::new(),
            region: String::new(),
            detail: String::new(),
            evidence: String::new(),
            references: Vec::new(),
            remediation: String::new(),
            status: FindingStatus::Open,
            exception: None,
        }
    }
}

/// Whether a rule could be evaluated on the collected evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// Evaluated on complete evidence: no finding means the condition holds nowhere.
    Evaluated,
    /// Evaluated on what was collected; part of its evidence is missing (see the reason).
    Partial,
    /// Not evaluated: its evidence was not collected (see the reason). Never a pass.
    NotEvaluated,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Evaluated => "evaluated",
            RuleStatus::Partial => "partial",
            RuleStatus::NotEvaluated => "not_evaluated",
        }
    }
}

/// What a rule's evaluation came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOutcome {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub controls: Vec<String>,
    pub references: Vec<String>,
    pub status: RuleStatus,
    pub findings: usize,
    /// Why the rule is partial or not evaluated; empty when evaluated.
    pub reason: String,
}

/// Which collectors' evidence a rule reads.
#[derive(Debug, Clone, Copy)]
pub enum Needs {
    /// Every one of these collectors.
    All(&'static [&'static str]),
    /// At least one of these collectors (the rule uses whichever was collected).
    Any(&'static [&'static str]),
}

/// A rule's evaluation: adds its findings through `out`, or says why it cannot be evaluated.
/// A region or resource whose evidence is missing is skipped (never a finding, never a pass);
/// the engine marks the rule partial from the collectors' recorded errors.
pub type Evaluate = fn(&Input, &mut Out<'_>) -> Result<(), String>;

/// A rule of SPEC section 5.
pub struct RuleSpec {
    pub id: &'static str,
    pub title: &'static str,
    /// The severity of its findings (a rule may raise or lower one finding's, e.g. GuardDuty's
    /// critical band).
    pub severity: Severity,
    pub controls: &'static [Control],
    /// CIS AWS Foundations v3.0 numbers (`CIS 1.4`) and Security Hub ids (`IAM.4`).
    pub references: &'static [&'static str],
    pub remediation: &'static str,
    pub needs: Needs,
    pub evaluate: Evaluate,
}

impl std::fmt::Debug for RuleSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSpec").field("id", &self.id).finish()
    }
}

impl RuleSpec {
    fn controls(&self) -> Vec<String> {
        self.controls.iter().map(|c| c.id().to_string()).collect()
    }

    fn references(&self) -> Vec<String> {
        self.references.iter().map(|r| r.to_string()).collect()
    }
}

/// Where a rule puts its findings; fills in what the rule's spec fixes.
pub struct Out<'a> {
    spec: &'a RuleSpec,
    findings: Vec<Finding>,
    /// Why part of the evidence could not be judged, though its collector succeeded (e.g. a
    /// policy document that could not be parsed): the rule is then `partial`.
    gaps: Vec<String>,
}

impl<'a> Out<'a> {
    pub fn new(spec: &'a RuleSpec) -> Self {
        Out {
            spec,
            findings: Vec::new(),
            gaps: Vec::new(),
        }
    }

    /// Records that some of the evidence could not be judged: the rule becomes `partial`.
    pub fn partial(&mut self, reason: impl Into<String>) {
        self.gaps.push(reason.into());
    }

    /// Adds a finding with the rule's own severity.
    pub fn add(
        &mut self,
        resource: impl Into<String>,
        region: impl Into<String>,
        detail: impl Into<String>,
        evidence: impl Into<String>,
    ) {
        let severity = self.spec.severity;
        self.add_with_severity(severity, resource, region, detail, evidence);
    }

    /// Adds a finding with another severity than the rule's (GuardDuty's critical band).
    pub fn add_with_severity(
        &mut self,
        severity: Severity,
        resource: impl Into<String>,
        region: impl Into<String>,
        detail: impl Into<String>,
        evidence: impl Into<String>,
    ) {
        self.findings.push(Finding {
            rule: self.spec.id.to_string(),
            severity,
            controls: self.spec.controls(),
            resource: resource.into(),
            region: region.into(),
            detail: detail.into(),
            evidence: evidence.into(),
            references: self.spec.references(),
            remediation: self.spec.remediation.to_string(),
            status: FindingStatus::Open,
            exception: None,
        });
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}

/// Every rule, in SPEC order.
pub fn rules() -> Vec<&'static RuleSpec> {
    rules::FAMILIES
        .iter()
        .flat_map(|family| family.iter())
        .collect()
}

/// The findings, the rules' outcomes and the access review of one bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub thresholds: Thresholds,
    /// Sorted by severity, then rule order, region and resource.
    pub findings: Vec<Finding>,
    /// One per rule, in rule order.
    pub rules: Vec<RuleOutcome>,
    pub access_review: AccessReview,
    /// The exceptions applied to the findings, when a file was given.
    #[serde(skip)]
    pub exceptions: Option<exceptions::Applied>,
    /// The documented requirements and their comparison with the account, when given.
    #[serde(skip)]
    pub documented: Option<(
        std::sync::Arc<documented::DocumentedPolicy>,
        Vec<documented::ComparisonRow>,
    )>,
}

impl Analysis {
    /// Open findings of `severity` (accepted ones are counted by [`Analysis::accepted`]).
    pub fn count(&self, severity: Severity) -> usize {
        self.open().filter(|f| f.severity == severity).count()
    }

    /// The findings not accepted by an exception.
    pub fn open(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.status == FindingStatus::Open)
    }

    /// Accepted findings of `severity`.
    pub fn accepted(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.status == FindingStatus::Accepted && f.severity == severity)
            .count()
    }

    /// The most serious severity of an open finding, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.open().map(|f| f.severity).min()
    }

    /// Applies an exceptions file to the findings of `account`.
    pub fn accept(&mut self, judge: exceptions::Judge<'_>, account: &str) {
        let accounts = std::collections::BTreeSet::from([account]);
        let mut applied = judge.apply(&accounts, self.findings.iter_mut().map(|f| (account, f)));
        // An org rule's findings are only in the org bundle: not stale here.
        for outcome in &mut applied.outcomes {
            if outcome.state == exceptions::State::Stale
                && !self.rules.iter().any(|r| r.rule == outcome.exception.rule)
            {
                outcome.state = exceptions::State::OrgLevel;
            }
        }
        self.exceptions = Some(applied);
    }

    /// The counts `manifest.json` records of this analysis.
    pub fn summary(&self, fail_on: Option<Severity>) -> FindingsSummary {
        let analysis = self;
        let rules = |status: RuleStatus| {
            analysis.rules.iter().filter(|r| r.status == status).count() as u64
        };
        FindingsSummary {
            evaluated: true,
            critical: analysis.count(Severity::Critical) as u64,
            high: analysis.count(Severity::High) as u64,
            medium: analysis.count(Severity::Medium) as u64,
            low: analysis.count(Severity::Low) as u64,
            total: analysis.open().count() as u64,
            accepted: accepted_counts(&analysis.findings),
            exceptions: analysis.exceptions.as_ref().map(exceptions_record),
            rules_evaluated: rules(RuleStatus::Evaluated),
            rules_partial: rules(RuleStatus::Partial),
            rules_not_evaluated: rules(RuleStatus::NotEvaluated),
            fail_on,
        }
    }

    /// Open findings for one TSC criterion (e.g. `CC6.1`).
    pub fn count_for_control(&self, control: &str) -> usize {
        self.open()
            .filter(|f| f.controls.iter().any(|c| c == control))
            .count()
    }
}

/// The accepted findings among `findings`, per severity.
pub fn accepted_counts<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
) -> crate::bundle::manifest::SeverityCounts {
    let mut counts = crate::bundle::manifest::SeverityCounts::default();
    for f in findings {
        if f.status != FindingStatus::Accepted {
            continue;
        }
        counts.total += 1;
        match f.severity {
            Severity::Critical => counts.critical += 1,
            Severity::High => counts.high += 1,
            Severity::Medium => counts.medium += 1,
            Severity::Low => counts.low += 1,
        }
    }
    counts
}

/// What the manifest records of applied exceptions.
pub fn exceptions_record(
    applied: &exceptions::Applied,
) -> crate::bundle::manifest::ExceptionsRecord {
    use exceptions::State;
    crate::bundle::manifest::ExceptionsRecord {
        file: exceptions::EXCEPTIONS_TOML.to_string(),
        sha256: crate::bundle::files::sha256_hex(&applied.file.bytes),
        source: match applied.source {
            exceptions::Source::Run => "run",
            exceptions::Source::Bundle => "bundle",
            exceptions::Source::Given => "given",
        }
        .to_string(),
        as_of: applied.as_of.format("%Y-%m-%d").to_string(),
        exceptions: applied.outcomes.len() as u64,
        applied: applied.count(State::Applied) as u64,
        expired: applied.count(State::Expired) as u64,
        stale: applied.count(State::Stale) as u64,
        other_account: applied.count(State::OtherAccount) as u64,
    }
}

/// Runs every rule over the evidence and builds the access review.
pub fn analyze(input: &Input) -> Analysis {
    let specs = rules();
    let mut findings = Vec::new();
    let mut outcomes = Vec::new();
    for spec in &specs {
        let (status, reason) = match input.gaps(spec.needs) {
            input::Gaps::Missing(reason) => (RuleStatus::NotEvaluated, reason),
            input::Gaps::Partial(reason) => (RuleStatus::Partial, reason),
            input::Gaps::None => (RuleStatus::Evaluated, String::new()),
        };
        let mut out = Out::new(spec);
        let (status, reason) = match status {
            RuleStatus::NotEvaluated => (status, reason),
            _ => match (spec.evaluate)(input, &mut out) {
                Ok(()) => (status, reason),
                Err(why) => {
                    out = Out::new(spec);
                    (RuleStatus::NotEvaluated, why)
                }
            },
        };
        let (status, reason) = match (status, out.gaps.is_empty()) {
            (RuleStatus::NotEvaluated, _) | (_, true) => (status, reason),
            (_, false) => {
                let mut all: Vec<String> = out.gaps.clone();
                if !reason.is_empty() {
                    all.insert(0, reason);
                }
                (RuleStatus::Partial, all.join("; "))
            }
        };
        let mine = out.into_findings();
        outcomes.push(RuleOutcome {
            rule: spec.id.to_string(),
            title: spec.title.to_string(),
            severity: spec.severity,
            controls: spec.controls(),
            references: spec.references(),
            status,
            findings: mine.len(),
            reason,
        });
        findings.extend(mine);
    }
    let order = |rule: &str| {
        specs
            .iter()
            .position(|s| s.id == rule)
            .unwrap_or(usize::MAX)
    };
    findings.sort_by(|a, b| {
        (
            a.severity,
            order(&a.rule),
            &a.region,
            &a.resource,
            &a.detail,
        )
            .cmp(&(
                b.severity,
                order(&b.rule),
                &b.region,
                &b.resource,
                &b.detail,
            ))
    });
    let access_review = access_review::build(input);
    let documented = input.documented.as_ref().map(|policy| {
        let password = input
            .document::<crate::contract::iam_password_policy::PasswordPolicyFile>()
            .map(|file| {
                file.policy_present.then(|| {
                    rules::password_configured(file.password_policy.clone().unwrap_or_default())
                })
            });
        let rows = documented::comparison(policy, password, &access_review);
        (policy.clone(), rows)
    });
    Analysis {
        thresholds: input.thresholds,
        findings,
        rules: outcomes,
        access_review,
        exceptions: None,
        documented,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_kebab_case_with_controls_and_remediation() {
        let specs = rules();
        let mut ids: Vec<&str> = specs.iter().map(|s| s.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), specs.len(), "duplicate rule id");
        for spec in specs {
            assert!(
                spec.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                spec.id
            );
            assert!(!spec.controls.is_empty(), "{} has no control", spec.id);
            assert!(
                !spec.remediation.is_empty(),
                "{} has no remediation",
                spec.id
            );
            assert!(!spec.title.is_empty(), "{} has no title", spec.id);
            let needs = match spec.needs {
                Needs::All(ids) | Needs::Any(ids) => ids,
            };
            assert!(!needs.is_empty(), "{} reads no evidence", spec.id);
        }
    }

    #[test]
    fn severities_order_from_critical_to_low() {
        assert!(Severity::Critical.at_least(Severity::High));
        assert!(Severity::High.at_least(Severity::High));
        assert!(!Severity::Medium.at_least(Severity::High));
        let mut all = vec![Severity::Low, Severity::Critical, Severity::Medium];
        all.sort();
        assert_eq!(all, [Severity::Critical, Severity::Medium, Severity::Low]);
    }
}
