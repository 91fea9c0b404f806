//! What the rules read: the bundle's evidence files (by bundle path) and the collectors' states
//! as the manifest records them.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::Needs;
use crate::contract::{self, Cells, Document, Table};
use crate::vocab::CallError;
use crate::vocab::CollectorStatus;
use crate::vocab::Thresholds;

/// A collector's state, as the manifest records it.
#[derive(Debug, Clone, Deserialize)]
pub struct CollectorState {
    pub id: String,
    pub status: CollectorStatus,
    #[serde(default)]
    pub errors: Vec<CallError>,
    /// Status per region (`global` for global services).
    #[serde(default)]
    pub regions: Vec<RegionState>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RegionState {
    pub region: String,
    pub status: CollectorStatus,
}

/// The evidence of one bundle, as the rules see it.
#[derive(Debug, Clone)]
pub struct Input {
    root: PathBuf,
    pub account_id: String,
    pub partition: String,
    /// The reference time of the time-based rules: when the run started (so `report` on an old
    /// bundle judges it as of its collection, not as of today).
    pub now: DateTime<Utc>,
    /// The regions the run covered.
    pub regions: Vec<String>,
    /// By collector id; a collector that was not run is absent.
    pub collectors: BTreeMap<String, CollectorState>,
    pub thresholds: Thresholds,
    /// The company's documented requirements (`--documented-policy`), when given: the
    /// password policy is judged against them, and `thresholds` already holds their limits.
    pub documented: Option<Arc<super::documented::DocumentedPolicy>>,
    /// Accounts whose grants in resource policies are expected (`--trusted-account` and the
    /// documented policy's `trust.trusted_accounts`).
    pub trusted_accounts: Vec<String>,
    /// How the bundle's table cells were written.
    cells: Cells,
    /// Documents already read, by path: several rules and the access review read the same
    /// (large) `authorization-details.json`, which is parsed once.
    documents: DocumentCache,
}

/// What [`Input::document`] has read, shared by the clones of one input.
#[derive(Clone, Default)]
struct DocumentCache(Arc<Mutex<HashMap<&'static str, Arc<dyn Any + Send + Sync>>>>);

impl std::fmt::Debug for DocumentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DocumentCache")
    }
}

/// What is missing of the evidence a rule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gaps {
    None,
    /// Some of it (a region, a bucket, a side call) failed: the reason names what.
    Partial(String),
    /// None of it: the reason names the collector and why.
    Missing(String),
}

impl Input {
    pub fn new(
        root: impl Into<PathBuf>,
        account_id: impl Into<String>,
        partition: impl Into<String>,
        now: DateTime<Utc>,
        regions: Vec<String>,
        collectors: Vec<CollectorState>,
        thresholds: Thresholds,
    ) -> Self {
        Input {
            root: root.into(),
            account_id: account_id.into(),
            partition: partition.into(),
            now,
            regions,
            collectors: collectors.into_iter().map(|c| (c.id.clone(), c)).collect(),
            thresholds,
            documented: None,
            trusted_accounts: Vec::new(),
            cells: Cells::SpreadsheetSafe,
            documents: DocumentCache::default(),
        }
    }

    /// The same input for a bundle whose table cells were written as `cells` says (`Plain` for
    /// a bundle written before the tables were spreadsheet-safe).
    pub fn with_cells(mut self, cells: Cells) -> Self {
        self.cells = cells;
        self
    }

    /// The same input judged against documented requirements and trusted accounts.
    pub fn with_policy(
        mut self,
        documented: Option<Arc<super::documented::DocumentedPolicy>>,
        trusted_accounts: Vec<String>,
    ) -> Self {
        self.documented = documented;
        self.trusted_accounts = trusted_accounts;
        self
    }

    /// How a time limit is named in a finding: `documented limit N days` when the documented
    /// policy set it, else `threshold N days` (the flag or its default).
    pub fn limit_label(&self, documented: Option<u32>, days: u32) -> String {
        match documented {
            Some(_) => format!("documented limit {days} days"),
            None => format!("threshold {days} days"),
        }
    }

    /// The bundle directory the evidence paths are relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The status of a collector, `None` when it was not run.
    pub fn status(&self, collector: &str) -> Option<CollectorStatus> {
        self.collectors.get(collector).map(|c| c.status)
    }

    /// Whether a collector's evidence for `region` is there: the collector ran and neither it
    /// nor that region failed. Rules skip regions where this is false.
    pub fn region_collected(&self, collector: &str, region: &str) -> bool {
        let Some(state) = self.collectors.get(collector) else {
            return false;
        };
        if matches!(
            state.status,
            CollectorStatus::Failed | CollectorStatus::Skipped
        ) {
            return false;
        }
        match state.regions.iter().find(|r| r.region == region) {
            Some(r) => r.status != CollectorStatus::Failed,
            // A region the collector recorded nothing for: its status is the collector's.
            None => true,
        }
    }

    /// What is missing of the evidence the rule needs.
    pub fn gaps(&self, needs: Needs) -> Gaps {
        let (ids, any) = match needs {
            Needs::All(ids) => (ids, false),
            Needs::Any(ids) => (ids, true),
        };
        let mut missing = Vec::new();
        let mut partial = Vec::new();
        for id in ids {
            match self.collectors.get(*id) {
                None => missing.push(format!("{id} was not run")),
                Some(state) => match state.status {
                    CollectorStatus::Collected => {}
                    CollectorStatus::Skipped => missing.push(format!("{id} was skipped")),
                    CollectorStatus::Failed => {
                        missing.push(format!("{id} failed ({})", errors_text(&state.errors)))
                    }
                    CollectorStatus::Partial => {
                        partial.push(format!("{id} is partial ({})", errors_text(&state.errors)))
                    }
                },
            }
        }
        let usable = ids.len() - missing.len();
        if (any && usable == 0) || (!any && !missing.is_empty()) {
            return Gaps::Missing(missing.join("; "));
        }
        if any && !missing.is_empty() && partial.is_empty() {
            // One source is enough; the other's absence is worth saying, not a gap.
            return Gaps::None;
        }
        if !partial.is_empty() {
            return Gaps::Partial(partial.join("; "));
        }
        Gaps::None
    }

    /// The bytes of a bundle file, or why they cannot be read.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.root.join(path)).map_err(|e| format!("cannot read {path}: {e}"))
    }

    /// Whether a bundle file exists (collectors do not write some files, e.g. when a side call
    /// failed).
    pub fn exists(&self, path: &str) -> bool {
        self.root.join(path).is_file()
    }

    /// A table of the evidence contract, typed. A missing file, a missing column or a cell that
    /// does not decode is an error naming them: the rule is then not evaluated.
    pub fn table<T: Table>(&self) -> Result<Vec<T>, String> {
        let bytes = self.read(T::PATH)?;
        contract::parse_cells(&bytes, self.cells)
    }

    /// A document of the evidence contract, typed.
    pub fn document<T: Document + Send + Sync + 'static>(&self) -> Result<Arc<T>, String> {
        let cached = self
            .documents
            .0
            .lock()
            .expect("no panic while held")
            .get(T::PATH)
            .cloned();
        if let Some(document) = cached.and_then(|d| d.downcast::<T>().ok()) {
            return Ok(document);
        }
        let bytes = self.read(T::PATH)?;
        let document = Arc::new(contract::parse_document::<T>(&bytes)?);
        self.documents
            .0
            .lock()
            .expect("no panic while held")
            .insert(T::PATH, document.clone());
        Ok(document)
    }
}

pub use crate::contract::cell::parse_time;

/// Whole days from `then` to `now` (0 when `then` is in the future).
pub fn days_between(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_days().max(0)
}

/// The errors of a collector as one line: `Operation Code in region; ...` (at most five).
pub fn errors_text(errors: &[CallError]) -> String {
    if errors.is_empty() {
        return "no error recorded".to_string();
    }
    let mut parts: Vec<String> = errors
        .iter()
        .take(5)
        .map(|e| {
            if e.region.is_empty() {
                format!("{} {}", e.operation, e.code)
            } else {
                format!("{} {} in {}", e.operation, e.code, e.region)
            }
        })
        .collect();
    if errors.len() > 5 {
        parts.push(format!("and {} more", errors.len() - 5));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(id: &str, status: CollectorStatus) -> CollectorState {
        CollectorState {
            id: id.to_string(),
            status,
            errors: vec![CallError::new(
                "eu-west-1",
                "ListDetectors",
                "AccessDenied",
                "no",
            )],
            regions: vec![RegionState {
                region: "eu-west-1".into(),
                status: CollectorStatus::Failed,
            }],
        }
    }

    #[test]
    fn a_document_is_read_and_parsed_once() {
        use crate::contract::iam_password_policy::PasswordPolicyFile;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PasswordPolicyFile::PATH);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"PolicyPresent": false}"#).unwrap();
        let i = Input::new(
            dir.path(),
            "123456789012",
            "aws",
            Utc::now(),
            vec![],
            vec![],
            Thresholds::default(),
        );
        let first = i.document::<PasswordPolicyFile>().unwrap();
        std::fs::remove_file(&path).unwrap();
        let again = i.clone().document::<PasswordPolicyFile>().unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // A file that is not there is an error naming it, and is not cached as one.
        let other = Input::new(
            dir.path(),
            "1",
            "aws",
            Utc::now(),
            vec![],
            vec![],
            Thresholds::default(),
        );
        let err = other.document::<PasswordPolicyFile>().unwrap_err();
        assert!(err.contains(PasswordPolicyFile::PATH), "{err}");
    }

    fn input(collectors: Vec<CollectorState>) -> Input {
        Input::new(
            "/nonexistent",
            "123456789012",
            "aws",
            Utc::now(),
            vec!["eu-west-1".into(), "us-east-1".into()],
            collectors,
            Thresholds::default(),
        )
    }

    #[test]
    fn gaps_follow_the_collectors_states() {
        let i = input(vec![
            state("guardduty", CollectorStatus::Partial),
            state("cloudtrail", CollectorStatus::Failed),
        ]);
        assert!(
            matches!(i.gaps(Needs::All(&["guardduty"])), Gaps::Partial(r) if r.contains("ListDetectors AccessDenied in eu-west-1"))
        );
        assert!(
            matches!(i.gaps(Needs::All(&["cloudtrail"])), Gaps::Missing(r) if r.contains("cloudtrail failed"))
        );
        assert!(
            matches!(i.gaps(Needs::All(&["kms-key-rotation"])), Gaps::Missing(r) if r.contains("was not run"))
        );
        assert!(matches!(
            i.gaps(Needs::Any(&["cloudtrail", "guardduty"])),
            Gaps::Partial(_)
        ));
        assert!(!i.region_collected("guardduty", "eu-west-1"));
        assert!(i.region_collected("guardduty", "us-east-1"));
        assert!(!i.region_collected("cloudtrail", "us-east-1"));
    }
}
