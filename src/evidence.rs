//! What a collector produces: files under `evidence/<collector-id>/`, the errors of the calls
//! that failed, and a few facts for the manifest.
//!
//! Collectors never write to disk themselves and never swallow an error: every file goes through
//! [`Evidence`], which hashes it as it is written, and every failed call becomes a [`CallError`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::bundle::files::{self, FileRecord};
use crate::contract::{self, Document, Table};
use crate::error::Error;
use crate::vocab::{CallError, CollectorStatus};

pub const GLOBAL: &str = "global";

/// Why a collector stopped early.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A call the collector cannot do without failed: the collector is `failed`.
    #[error("{0}")]
    Call(CallError),
    /// Every region failed; the errors are already recorded in the sink.
    #[error("every region failed")]
    AllRegionsFailed,
    /// Not collected in this account, on purpose and for the reason given (another account of
    /// an org run collects it): the collector is `skipped`, not a gap.
    #[error("skipped: {0}")]
    Skipped(String),
    /// Writing the bundle failed: fatal for the whole run.
    #[error(transparent)]
    Write(#[from] Error),
}

impl From<CallError> for CollectError {
    fn from(err: CallError) -> Self {
        CollectError::Call(err)
    }
}

/// The sink of one collector: its folder in the bundle, what it wrote and what went wrong.
#[derive(Debug)]
pub struct Evidence {
    root: PathBuf,
    prefix: String,
    files: Vec<FileRecord>,
    errors: Vec<CallError>,
    notes: BTreeMap<String, serde_json::Value>,
    regions: BTreeMap<String, CollectorStatus>,
}

impl Evidence {
    /// A sink writing below `root` (the bundle's staging directory) into
    /// `evidence/<collector_id>/`.
    pub fn new(root: impl Into<PathBuf>, collector_id: &str) -> Self {
        Evidence {
            root: root.into(),
            prefix: format!("evidence/{collector_id}"),
            files: Vec::new(),
            errors: Vec::new(),
            notes: BTreeMap::new(),
            regions: BTreeMap::new(),
        }
    }

    /// Writes `value` as pretty, key-sorted JSON. `rows` is the number of records it holds,
    /// where that means something.
    pub fn json<T: Serialize>(
        &mut self,
        name: &str,
        value: &T,
        rows: Option<u64>,
    ) -> Result<(), Error> {
        // Through `Value` with every object's keys sorted, so files are deterministic whatever
        // map type a collector used (serde_json keeps insertion order in this build).
        let value = sorted(serde_json::to_value(value).expect("evidence types serialize to JSON"));
        let mut bytes = serde_json::to_vec_pretty(&value).expect("JSON values serialize");
        bytes.push(b'\n');
        self.bytes(name, &bytes, rows)
    }

    /// Writes typed rows as CSV (UTF-8, header row, RFC 4180). An empty table still gets its
    /// header, taken from the row type's default value.
    pub fn csv<T: Serialize + Default>(&mut self, name: &str, rows: &[T]) -> Result<(), Error> {
        let bytes = crate::contract::csv_bytes(rows);
        self.bytes(name, &bytes, Some(rows.len() as u64))
    }

    /// Writes a table of the evidence contract to its declared file.
    pub fn table<T: Table>(&mut self, rows: &[T]) -> Result<(), Error> {
        self.check_owner(T::COLLECTOR, T::PATH);
        self.csv(contract::file_name(T::PATH), rows)
    }

    /// Writes a table and its JSON twin (the same name with `.json`): the table from each
    /// record's row, the twin from the whole records (the raw API answer and what the row
    /// leaves out).
    pub fn table_with_twin<R: Serialize, T: Table>(
        &mut self,
        records: &[R],
        row: impl Fn(&R) -> T,
    ) -> Result<(), Error> {
        let rows: Vec<T> = records.iter().map(row).collect();
        self.table(&rows)?;
        let twin = contract::file_name(T::PATH).replace(".csv", ".json");
        self.json(&twin, &records, Some(records.len() as u64))
    }

    /// Writes a document of the evidence contract to its declared file.
    pub fn document<T: Document>(&mut self, value: &T, rows: Option<u64>) -> Result<(), Error> {
        self.check_owner(T::COLLECTOR, T::PATH);
        self.json(contract::file_name(T::PATH), value, rows)
    }

    /// A collector writes only its own contract's files: a mix-up is a bug, caught in every
    /// build.
    fn check_owner(&self, collector: &str, path: &str) {
        assert!(
            self.prefix == format!("evidence/{collector}") && path.starts_with(&self.prefix),
            "{} cannot write {path} of {collector}",
            self.prefix
        );
    }

    /// Writes bytes exactly as given.
    pub fn bytes(&mut self, name: &str, bytes: &[u8], rows: Option<u64>) -> Result<(), Error> {
        let record =
            files::write_file(&self.root, &format!("{}/{name}", self.prefix), bytes, rows)?;
        self.files.push(record);
        Ok(())
    }

    /// Records a failed call that the collector could work around: the collector ends
    /// `partial`, not `collected`.
    pub fn error(&mut self, error: CallError) {
        tracing::info!(%error, "call failed");
        self.errors.push(error);
    }

    /// A fact about the collection itself (report age, what was absent) for the manifest.
    pub fn note(&mut self, key: &str, value: impl Serialize) {
        let value = serde_json::to_value(value).expect("notes serialize to JSON");
        self.notes.insert(key.to_string(), value);
    }

    /// How one region went for a regional collector.
    pub fn region(&mut self, region: &str, status: CollectorStatus) {
        self.regions.insert(region.to_string(), status);
    }

    /// How a covered region went, as recorded with [`Evidence::region`]: `failed` when nothing
    /// was recorded (the region was not read).
    pub fn region_status(&self, region: &str) -> CollectorStatus {
        self.regions
            .get(region)
            .copied()
            .unwrap_or(CollectorStatus::Failed)
    }

    /// Writes a regional collector's per-region status table (`regions.csv`): one row per
    /// covered region, in region order, made by `row` from the region, its recorded status
    /// ([`Evidence::region_status`]) and what the region gave when it was read (`None` for a
    /// region that failed, whose counts stay empty). `read` is what `for_each_region` returned.
    /// Returns the rows, for the collector's notes.
    pub fn region_table<V, T: Table>(
        &mut self,
        covered: &[String],
        read: &[(String, V)],
        row: impl Fn(&str, CollectorStatus, Option<&V>) -> T,
    ) -> Result<Vec<T>, Error> {
        let mut covered: Vec<&str> = covered.iter().map(String::as_str).collect();
        covered.sort_unstable();
        covered.dedup();
        let rows: Vec<T> = covered
            .into_iter()
            .map(|region| {
                let value = read.iter().find(|(r, _)| r == region).map(|(_, v)| v);
                row(region, self.region_status(region), value)
            })
            .collect();
        self.table(&rows)?;
        Ok(rows)
    }

    pub fn files(&self) -> &[FileRecord] {
        &self.files
    }

    pub fn errors(&self) -> &[CallError] {
        &self.errors
    }

    pub fn into_parts(self) -> EvidenceParts {
        EvidenceParts {
            files: self.files,
            errors: self.errors,
            notes: self.notes,
            regions: self.regions,
        }
    }
}

/// `value` with the keys of every object, at any depth, in sorted order.
pub fn sorted(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// What a finished collector leaves for the manifest.
#[derive(Debug)]
pub struct EvidenceParts {
    pub files: Vec<FileRecord>,
    pub errors: Vec<CallError>,
    pub notes: BTreeMap<String, serde_json::Value>,
    pub regions: BTreeMap<String, CollectorStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_files_have_sorted_keys_at_every_depth() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Evidence::new(dir.path(), "x");
        let value = serde_json::json!({"b": 1, "a": [{"z": 1, "y": {"d": 0, "c": 0}}]});
        out.json("v.json", &value, None).unwrap();
        let text = std::fs::read_to_string(dir.path().join("evidence/x/v.json")).unwrap();
        let compact: String = text.split_whitespace().collect();
        assert_eq!(compact, r#"{"a":[{"y":{"c":0,"d":0},"z":1}],"b":1}"#);
    }

    #[test]
    fn the_region_table_has_every_covered_region_with_its_recorded_status() {
        use crate::contract::guardduty::RegionRow;
        let dir = tempfile::tempdir().unwrap();
        let mut out = Evidence::new(dir.path(), "guardduty");
        out.region("us-east-1", CollectorStatus::Partial);
        out.region("eu-west-1", CollectorStatus::Failed);
        out.region("ap-south-1", CollectorStatus::Collected);
        let covered = ["us-east-1", "eu-west-1", "ap-south-1"].map(String::from);
        let read = vec![
            ("ap-south-1".to_string(), 0_u64),
            ("us-east-1".to_string(), 2),
        ];
        let rows = out
            .region_table(&covered, &read, |region, status, detectors| RegionRow {
                region: region.to_string(),
                status,
                detectors: detectors.copied(),
                enabled_detectors: detectors.map(|_| 0),
            })
            .unwrap();
        assert_eq!(rows.len(), 3);
        let text =
            std::fs::read_to_string(dir.path().join("evidence/guardduty/regions.csv")).unwrap();
        assert_eq!(
            text,
            "region,status,detectors,enabled_detectors\n\
             ap-south-1,collected,0,0\n\
             eu-west-1,failed,,\n\
             us-east-1,partial,2,0\n"
        );
        assert_eq!(out.region_status("sa-east-1"), CollectorStatus::Failed);
    }
}
