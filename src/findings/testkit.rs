//! The one test-bundle builder of the rule families: evidence files written through the
//! evidence contract (or as raw text, for files of another shape), the collectors' states as a
//! manifest records them, and the rules run through the engine.

use chrono::{DateTime, TimeZone, Utc};

use super::input::{CollectorState, Input, RegionState};
use super::{analyze, Finding, RuleStatus};
use crate::contract::{self, Document, Table};
use crate::vocab::{CallError, CollectorStatus, Thresholds};

pub const ACCOUNT: &str = "123456789012";
pub const EAST: &str = "us-east-1";
pub const WEST: &str = "eu-west-1";

/// The run's start, the reference time of the time-based rules.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap()
}

/// `arn:aws:iam::<ACCOUNT>:<what>`.
pub fn iam_arn(what: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{what}")
}

/// A bundle of evidence files and collector states covering [`WEST`] and [`EAST`].
pub struct Bundle {
    pub dir: tempfile::TempDir,
    pub collectors: Vec<CollectorState>,
    pub thresholds: Thresholds,
}

impl Default for Bundle {
    fn default() -> Self {
        Self::new()
    }
}

impl Bundle {
    pub fn new() -> Self {
        Bundle {
            dir: tempfile::tempdir().unwrap(),
            collectors: Vec::new(),
            thresholds: Thresholds::default(),
        }
    }

    /// Writes a bundle file as raw text (for files of another shape than the contract's).
    pub fn file(self, path: &str, text: &str) -> Self {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// Writes a table of the contract, as its collector does.
    pub fn table<T: Table>(self, rows: &[T]) -> Self {
        let bytes = contract::csv_bytes(rows);
        self.file(T::PATH, &String::from_utf8(bytes).unwrap())
    }

    /// Writes a document of the contract.
    pub fn document<T: Document>(self, value: &T) -> Self {
        let text = serde_json::to_string_pretty(value).unwrap();
        self.file(T::PATH, &text)
    }

    /// Records a collector as collected in every region.
    pub fn collected(self, id: &str) -> Self {
        self.state(id, CollectorStatus::Collected, &[])
    }

    /// Records a collector with a status and the regions that failed (each with an
    /// `AccessDenied` error; a failed collector without failed regions gets one in [`EAST`]).
    pub fn state(self, id: &str, status: CollectorStatus, failed: &[&str]) -> Self {
        let regions = [WEST, EAST]
            .iter()
            .map(|region| RegionState {
                region: region.to_string(),
                status: if failed.contains(region) {
                    CollectorStatus::Failed
                } else {
                    CollectorStatus::Collected
                },
            })
            .collect();
        let errors = failed
            .iter()
            .map(|region| CallError::new(*region, "List", "AccessDenied", "denied"))
            .chain(
                (status == CollectorStatus::Failed && failed.is_empty())
                    .then(|| CallError::new(EAST, "List", "AccessDenied", "denied")),
            )
            .collect();
        self.state_with(id, status, errors, regions)
    }

    /// Records a global collector (region `global`); a failed one with an error of `operation`.
    pub fn global(self, id: &str, status: CollectorStatus, operation: &str) -> Self {
        let errors = if status == CollectorStatus::Failed {
            vec![CallError::new("global", operation, "AccessDenied", "no")]
        } else {
            vec![]
        };
        let regions = vec![RegionState {
            region: "global".into(),
            status,
        }];
        self.state_with(id, status, errors, regions)
    }

    pub fn state_with(
        mut self,
        id: &str,
        status: CollectorStatus,
        errors: Vec<CallError>,
        regions: Vec<RegionState>,
    ) -> Self {
        self.collectors.push(CollectorState {
            id: id.to_string(),
            status,
            errors,
            regions,
        });
        self
    }

    pub fn input(&self) -> Input {
        Input::new(
            self.dir.path(),
            ACCOUNT,
            "aws",
            now(),
            vec![WEST.to_string(), EAST.to_string()],
            self.collectors.clone(),
            self.thresholds,
        )
    }

    /// A rule's status, reason and findings, through the engine.
    pub fn outcome(&self, rule: &str) -> (RuleStatus, String, Vec<Finding>) {
        let analysis = analyze(&self.input());
        let o = analysis
            .rules
            .iter()
            .find(|o| o.rule == rule)
            .unwrap_or_else(|| panic!("no rule {rule}"));
        let findings = analysis
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .cloned()
            .collect();
        (o.status, o.reason.clone(), findings)
    }

    /// (resource, region) of a rule's findings; the rule must have been evaluated (fully or
    /// partly).
    pub fn hits(&self, rule: &str) -> Vec<(String, String)> {
        let (status, reason, findings) = self.outcome(rule);
        assert_ne!(status, RuleStatus::NotEvaluated, "{rule}: {reason}");
        findings
            .into_iter()
            .map(|f| (f.resource, f.region))
            .collect()
    }

    /// (resource, detail) of a rule's findings; the rule must have been evaluated.
    pub fn details(&self, rule: &str) -> Vec<(String, String)> {
        let (status, reason, findings) = self.outcome(rule);
        assert_ne!(status, RuleStatus::NotEvaluated, "{rule}: {reason}");
        findings
            .into_iter()
            .map(|f| (f.resource, f.detail))
            .collect()
    }
}

/// `(resource, region)` as [`Bundle::hits`] gives them.
pub fn pair(resource: &str, region: &str) -> (String, String) {
    (resource.to_string(), region.to_string())
}
