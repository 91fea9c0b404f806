//! `report BUNDLE`: re-derives the findings, the access review and `index.html` of an existing
//! bundle from its raw evidence alone, into a new bundle next to it.
//!
//! The source is verified first and never changed. Its `evidence/` files are copied byte for
//! byte (each copy is hashed again and must match the source manifest), the analysis runs on
//! the copy with the thresholds given, as of the source run's start time, and the new bundle is
//! written atomically like a collected one. Its manifest keeps the source's run, account and
//! collectors and says where it comes from (`derived_from`).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::bundle::files::{self, FileRecord};
use crate::bundle::manifest::{DerivedFrom, Manifest, MANIFEST_FILE};
use crate::bundle::{verify, Staging};
use crate::contract::Cells;
use crate::error::Error;
use crate::findings;
use crate::run::CollectOutcome;
use crate::vocab::{Severity, Thresholds};

/// What `report` is asked to do.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// The source bundle: its zip or its directory.
    pub bundle: PathBuf,
    /// Where the new bundle goes (default: beside the source).
    pub out: Option<PathBuf>,
    pub thresholds: Thresholds,
    pub fail_on: Option<Severity>,
}

/// The files of a bundle, read from its directory or from its zip.
enum Source {
    Dir(PathBuf),
    Zip {
        archive: Box<zip::ZipArchive<fs::File>>,
        top: String,
    },
}

impl Source {
    fn open(path: &Path) -> Result<(Source, String), Error> {
        let unreadable = |reason: String| Error::Report {
            path: path.to_path_buf(),
            reason,
        };
        let meta = fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
        if meta.is_dir() {
            let name = path
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .ok_or_else(|| unreadable("the directory has no name".into()))?;
            return Ok((Source::Dir(path.to_path_buf()), name));
        }
        let file = fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
        let archive = zip::ZipArchive::new(file).map_err(|e| unreadable(e.to_string()))?;
        // verify() already checked that every entry lies under one top folder.
        let top = archive
            .file_names()
            .next()
            .and_then(|n| n.split('/').next())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unreadable("the zip is empty".into()))?
            .to_string();
        Ok((
            Source::Zip {
                archive: Box::new(archive),
                top: top.clone(),
            },
            top,
        ))
    }

    /// Reads one file of the bundle, at most `limit` bytes (one more means the file grew).
    fn read(&mut self, rel: &str, limit: u64) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        match self {
            Source::Dir(root) => {
                fs::File::open(root.join(rel))?
                    .take(limit + 1)
                    .read_to_end(&mut bytes)?;
            }
            Source::Zip { archive, top } => {
                archive
                    .by_name(&format!("{top}/{rel}"))
                    .map_err(std::io::Error::other)?
                    .take(limit + 1)
                    .read_to_end(&mut bytes)?;
            }
        }
        Ok(bytes)
    }
}

/// Runs `report`: verifies the source, copies its evidence, analyses it and writes the new
/// bundle. The outcome's exit code is 0, or 4 when a finding is at or above `fail_on`.
pub fn report(config: &ReportConfig) -> Result<CollectOutcome, Error> {
    let path = &config.bundle;
    let failed = |reason: String| Error::Report {
        path: path.clone(),
        reason,
    };
    let check = verify::verify(path).map_err(|e| failed(e.to_string()))?;
    if !check.intact {
        let problems: Vec<String> = check.problems.iter().map(|p| p.to_string()).collect();
        return Err(failed(format!(
            "it is not intact, so its evidence cannot be trusted: {} (run `soc2-evidence verify` on it for details)",
            problems.join("; ")
        )));
    }
    let (mut source, name) = Source::open(path)?;
    let manifest_bytes = source
        .read(MANIFEST_FILE, verify::MAX_MANIFEST_BYTES)
        .map_err(|e| failed(format!("cannot read {MANIFEST_FILE}: {e}")))?;
    let mut manifest: Manifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
        failed(format!(
            "its {MANIFEST_FILE} is not a manifest this version can analyse: {e}"
        ))
    })?;
    let started_at = chrono::DateTime::parse_from_rfc3339(&manifest.run.started_at)
        .map_err(|e| failed(format!("run.started_at is not an RFC 3339 time: {e}")))?
        .with_timezone(&chrono::Utc);

    let out = match &config.out {
        Some(out) => out.clone(),
        None => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    crate::bundle::writer::check_out_dir(&out)?;
    if let (Some(source), Some(target)) = (resolved(path), resolved(&out)) {
        if path.is_dir() && target.starts_with(&source) {
            return Err(failed(format!(
                "--out {} lies inside the bundle, which must stay untouched; pass another --out",
                out.display()
            )));
        }
    }
    let reported_at = chrono::Utc::now();
    let base = format!(
        "{}-report-{}",
        source_stem(&name),
        reported_at.format("%Y%m%dT%H%M%SZ")
    );
    // Several reports within one second (other thresholds, say) get -2, -3, ...
    let mut attempt = 1;
    let staging = loop {
        let new_name = match attempt {
            1 => base.clone(),
            n => format!("{base}-{n}"),
        };
        match Staging::create(&out, &new_name) {
            Err(Error::BundleExists { .. }) if attempt < 100 => attempt += 1,
            other => break other?,
        }
    };

    // The raw evidence, byte for byte; everything derived is written again.
    let mut copied = Vec::new();
    for record in manifest
        .files
        .iter()
        .filter(|f| f.path.starts_with("evidence/"))
    {
        let bytes = source
            .read(&record.path, record.bytes)
            .map_err(|e| failed(format!("cannot read {}: {e}", record.path)))?;
        let written = files::write_file(staging.root(), &record.path, &bytes, record.rows)?;
        if written.sha256 != record.sha256 || written.bytes != record.bytes {
            return Err(failed(format!(
                "{} changed while it was being read (its hash no longer matches the manifest)",
                record.path
            )));
        }
        copied.push(written);
    }

    let input = findings::Input::new(
        staging.root(),
        manifest.account.id.clone(),
        manifest.account.partition.clone(),
        started_at,
        manifest.regions.clone(),
        manifest
            .collectors
            .iter()
            .map(crate::run::collector_state)
            .collect(),
        config.thresholds,
    );
    // A bundle written before the tables were spreadsheet-safe is read as it was written, and
    // the new manifest says its copied tables are kept that way.
    let input = match &manifest.table_cells {
        Some(_) => input,
        None => {
            let tables: Vec<String> = copied
                .iter()
                .map(|file| file.path.clone())
                .filter(|path| path.ends_with(".csv"))
                .collect();
            manifest.table_cells = Some(crate::run::table_cells(&tables));
            input.with_cells(Cells::Plain)
        }
    };
    let analysis = findings::analyze(&input);
    let analysis_files = findings::write::write_findings(staging.root(), &analysis)?;

    manifest.derived_from = Some(DerivedFrom {
        bundle: name,
        run_id: manifest.run.id.clone(),
        manifest_sha256: files::sha256_hex(&manifest_bytes),
        reported_at: reported_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source_tool_version: manifest.tool.version.clone(),
    });
    manifest.tool.version = env!("CARGO_PKG_VERSION").to_string();
    manifest.run.options.thresholds = config.thresholds;
    manifest.run.options.fail_on = config.fail_on;
    manifest.findings_summary = analysis.summary(config.fail_on);
    for (id, control) in manifest.controls.iter_mut() {
        control.findings = analysis.count_for_control(id) as u64;
    }
    let mut all: Vec<FileRecord> = copied;
    all.extend(analysis_files);
    all.sort_by(|a, b| a.path.cmp(&b.path));
    manifest.files = all;
    let index = findings::write::write_index(staging.root(), &manifest, &analysis)?;
    crate::run::add_file(&mut manifest, index);
    let paths = staging.finish(&manifest)?;
    Ok(CollectOutcome {
        manifest,
        paths,
        analysis,
    })
}

/// `path` made absolute with its links resolved, also when its last components do not exist
/// yet (they are appended to the nearest existing ancestor).
fn resolved(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return Some(rest.iter().rev().fold(real, |p: PathBuf, c| p.join(c)));
        }
        rest.push(existing.file_name()?.to_os_string());
        existing = existing.parent()?;
    }
}

/// The source's name without a previous `-report-...` suffix, so reports of reports do not
/// grow their names.
fn source_stem(name: &str) -> &str {
    name.find("-report-").map_or(name, |i| &name[..i])
}

#[cfg(test)]
mod tests {
    #[test]
    fn report_names_do_not_grow() {
        assert_eq!(
            super::source_stem("soc2-evidence-1-20261122T070509Z-report-20261123T000000Z"),
            "soc2-evidence-1-20261122T070509Z"
        );
        assert_eq!(
            super::source_stem("soc2-evidence-1-20261122T070509Z"),
            "soc2-evidence-1-20261122T070509Z"
        );
    }
}
