//! `report BUNDLE`: re-derives the findings, the access review and `index.html` of an existing
//! bundle from its raw evidence alone, into a new bundle next to it.
//!
//! The source is untrusted input, and it is read once, through one open handle: a zip is opened
//! once, verified from that handle (its `.zip.sha256` included), and its entries are read from
//! the same handle; a directory is opened once and every file is opened relative to that handle,
//! one component at a time, never following a link and never blocking on a FIFO. Swapping the
//! path for another bundle after it was opened changes nothing. The manifest is read once and
//! parsed with every check of `verify` ([`verify::parse_manifest`]); each `evidence/` file is
//! copied byte for byte, hashed again as it is copied and refused unless it matches that
//! manifest, and the bundle writer refuses any path that is not a plain relative path inside
//! the bundle. Any failure removes the new bundle's staging folder: nothing is left behind.
//!
//! The analysis runs on the copy with the thresholds given, as of the source run's start time,
//! and the new bundle is written atomically like a collected one. Its manifest keeps the
//! source's run, account and collectors and says where it comes from (`derived_from`).

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Seek};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::bundle::files::{self, FileRecord};
use crate::bundle::manifest::{DerivedFrom, Manifest, MANIFEST_FILE};
use crate::bundle::{verify, writer, Staging};
use crate::contract::Cells;
use crate::error::Error;
use crate::findings;
use crate::run::CollectOutcome;
use crate::sign::{self, Signer};
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
    /// Signs the new bundle's manifest when set; a source's signature is never carried over.
    pub signer: Option<Arc<Signer>>,
    /// `--exceptions`: a file given anew, applied instead of the one the source recorded.
    pub exceptions: Option<findings::exceptions::ExceptionsFile>,
    /// The config file the options came from, recorded in the run options.
    pub config_file: Option<crate::bundle::manifest::ConfigRecord>,
    /// `--documented-policy`: a file given anew, applied instead of the one the source recorded.
    pub documented: Option<findings::documented::DocumentedPolicy>,
    /// `--trusted-account`: replaces the source run's trusted accounts when given.
    pub trusted_accounts: Vec<String>,
}

/// The largest `.zip.sha256` file read: one line of 64 hex digits and a name.
const MAX_SIDECAR_BYTES: u64 = 4096;

/// Where the files of the source bundle are read from: handles opened once.
enum Handle {
    /// The directory, opened once; files are opened below it.
    Dir(fs::File),
    /// The zip, opened once, with the SHA-256 it had when it was verified.
    Zip {
        archive: Box<zip::ZipArchive<fs::File>>,
        /// The same open file as the archive's (a duplicate of its descriptor), to hash it again.
        file: fs::File,
        top: String,
        sha256: String,
    },
}

/// A source bundle opened once and verified from the handle that is then read: its name, its
/// checked manifest, and the way to copy its files.
pub struct SourceBundle {
    path: PathBuf,
    handle: Handle,
    name: String,
    manifest_bytes: Vec<u8>,
    files: Vec<FileRecord>,
}

impl SourceBundle {
    /// Opens the bundle at `path` (a zip or a directory) once, verifies it from that handle like
    /// `verify` does, and reads and checks its manifest. Fails unless the bundle is intact.
    pub fn open(path: &Path) -> Result<SourceBundle, Error> {
        let failed = |reason: String| report_error(path, reason);
        // O_NONBLOCK: a FIFO named as the bundle is refused, not waited on.
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| failed(format!("cannot open it: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| failed(format!("cannot read it: {e}")))?;
        let (handle, check) = if meta.is_dir() {
            // `verify` reads the very directory this handle holds, through /proc where there is
            // one (elsewhere by its path; every file is checked again as it is copied anyway).
            let through = fd_path(&file).unwrap_or_else(|| path.to_path_buf());
            let check = verify::verify(&through).map_err(|e| failed(e.to_string()))?;
            (Handle::Dir(file), check)
        } else if meta.is_file() {
            let mut file = file;
            let (sha256, mut problems) = check_sidecar(path, &mut file)
                .map_err(|e| failed(format!("cannot read it: {e}")))?;
            let mut check = verify::verify_zip_reader(&mut file, path);
            problems.append(&mut check.problems);
            check.intact = problems.is_empty();
            check.problems = problems;
            file.rewind()
                .map_err(|e| failed(format!("cannot read it: {e}")))?;
            let again = file
                .try_clone()
                .map_err(|e| failed(format!("cannot read it: {e}")))?;
            let archive = zip::ZipArchive::new(file)
                .map_err(|e| failed(format!("not a readable zip archive: {e}")))?;
            // The verification just made, on this handle, checked that every entry lies under
            // one top folder.
            let top = archive
                .file_names()
                .next()
                .and_then(|n| n.split('/').next())
                .unwrap_or_default()
                .to_string();
            let handle = Handle::Zip {
                archive: Box::new(archive),
                file: again,
                top,
                sha256,
            };
            (handle, check)
        } else {
            return Err(failed(
                "it is neither a directory nor a regular file (a FIFO, socket or device)".into(),
            ));
        };
        if !check.intact {
            let problems: Vec<String> = check.problems.iter().map(|p| p.to_string()).collect();
            return Err(failed(format!(
                "it is not intact, so its evidence cannot be trusted: {} (run `soc2-evidence verify` on it for details)",
                problems.join("; ")
            )));
        }
        let name = match &handle {
            Handle::Zip { top, .. } => top.clone(),
            Handle::Dir(_) => path
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .ok_or_else(|| failed("the directory has no name".into()))?,
        };
        if name.is_empty() {
            return Err(failed("the zip is empty".into()));
        }
        let mut source = SourceBundle {
            path: path.to_path_buf(),
            handle,
            name,
            manifest_bytes: Vec::new(),
            files: Vec::new(),
        };
        let bytes = source
            .read(MANIFEST_FILE, verify::MAX_MANIFEST_BYTES)
            .map_err(|e| failed(format!("cannot read {MANIFEST_FILE}: {e}")))?;
        if bytes.len() as u64 > verify::MAX_MANIFEST_BYTES {
            return Err(failed(format!(
                "its {MANIFEST_FILE} is larger than the {} bytes a manifest may have",
                verify::MAX_MANIFEST_BYTES
            )));
        }
        let listed = verify::parse_manifest(&bytes).map_err(|p| failed(p.to_string()))?;
        // An org bundle: its account bundles' files too, through their chained manifests.
        source.files = verify::all_files(&bytes, listed, |rel| {
            source
                .read(rel, verify::MAX_MANIFEST_BYTES)
                .map_err(|e| verify::Problem::Manifest {
                    reason: format!("cannot read {rel}: {e}"),
                })
        })
        .map_err(|p| failed(p.to_string()))?;
        source.manifest_bytes = bytes;
        Ok(source)
    }

    /// The bundle's name: its directory's, or its zip's top folder's.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The files its manifest lists, every path checked as `verify` checks them.
    pub fn files(&self) -> &[FileRecord] {
        &self.files
    }

    /// The manifest's bytes, as read once.
    pub fn manifest_bytes(&self) -> &[u8] {
        &self.manifest_bytes
    }

    /// Copies the file `record` lists into the bundle being written at `root`, from the handle
    /// opened in [`SourceBundle::open`], and fails unless its content matches the record's hash
    /// and size (a file changed since it was verified) or its path is not a plain relative path
    /// inside the bundle (the writer refuses it).
    pub fn copy_file(&mut self, record: &FileRecord, root: &Path) -> Result<FileRecord, Error> {
        self.copy_file_as(record, root, &record.path)
    }

    /// [`SourceBundle::copy_file`] to the bundle path `dest` (an org bundle's account file,
    /// written at the top of that account's own bundle).
    pub fn copy_file_as(
        &mut self,
        record: &FileRecord,
        root: &Path,
        dest: &str,
    ) -> Result<FileRecord, Error> {
        if let Some(reason) = files::unsafe_path_reason(dest) {
            return Err(Error::UnsafeBundlePath {
                path: dest.to_string(),
                reason: reason.to_string(),
            });
        }
        if let Some(reason) = files::unsafe_path_reason(&record.path) {
            return Err(Error::UnsafeBundlePath {
                path: record.path.clone(),
                reason: reason.to_string(),
            });
        }
        let bytes = self.read_file(record)?;
        let written = files::write_file(root, dest, &bytes, record.rows)?;
        debug_assert_eq!(written.sha256, record.sha256);
        Ok(written)
    }

    /// The bytes of the file `record` lists, checked against its hash and size.
    /// A policy file the bundle recorded below `prefix` (`name`), parsed by `parse`; the bundle
    /// is refused, naming the file, when it holds one that cannot be used.
    fn recorded<T>(
        &mut self,
        prefix: &str,
        name: &str,
        what: &str,
        flag: &str,
        parse: impl Fn(&[u8], &str) -> Result<T, String>,
    ) -> Result<Option<T>, Error> {
        let rel = format!("{prefix}{name}");
        let Some(record) = self.files.iter().find(|f| f.path == rel).cloned() else {
            return Ok(None);
        };
        let bytes = self.read_file(&record)?;
        parse(&bytes, &rel).map(Some).map_err(|e| {
            report_error(
                &self.path,
                format!("its {what} cannot be used: {e} (give a file of your own with {flag})"),
            )
        })
    }

    /// The exceptions file the bundle recorded below `prefix` (`exceptions.toml`), parsed.
    pub fn recorded_exceptions(
        &mut self,
        prefix: &str,
    ) -> Result<Option<crate::findings::exceptions::ExceptionsFile>, Error> {
        self.recorded(
            prefix,
            crate::findings::exceptions::EXCEPTIONS_TOML,
            "exceptions file",
            "--exceptions",
            |bytes, rel| crate::findings::exceptions::parse(bytes, rel, &crate::config::known_rule),
        )
    }

    /// The documented policy the bundle recorded below `prefix` (`documented-policy.toml`).
    pub fn recorded_documented(
        &mut self,
        prefix: &str,
    ) -> Result<Option<crate::findings::documented::DocumentedPolicy>, Error> {
        self.recorded(
            prefix,
            crate::findings::documented::DOCUMENTED_TOML,
            "documented policy",
            "--documented-policy",
            crate::findings::documented::parse,
        )
    }

    pub fn read_file(&mut self, record: &FileRecord) -> Result<Vec<u8>, Error> {
        let bytes = self
            .read(&record.path, record.bytes)
            .map_err(|e| report_error(&self.path, format!("cannot read {}: {e}", record.path)))?;
        if bytes.len() as u64 != record.bytes || files::sha256_hex(&bytes) != record.sha256 {
            return Err(report_error(
                &self.path,
                format!(
                    "{} changed after the bundle was verified (its content no longer matches the \
                     hash in the manifest): the bundle is being modified",
                    record.path
                ),
            ));
        }
        Ok(bytes)
    }

    /// The bundle's `manifest.json.sig`, through the verified handle; `None` when unsigned.
    pub fn read_signature(&mut self) -> Result<Option<Vec<u8>>, Error> {
        use crate::bundle::signature::{MAX_SIGNATURE_BYTES, SIGNATURE_FILE};
        let present = match &mut self.handle {
            Handle::Dir(_) => true,
            Handle::Zip { archive, top, .. } => archive
                .index_for_name(&format!("{top}/{SIGNATURE_FILE}"))
                .is_some(),
        };
        if !present {
            return Ok(None);
        }
        match self.read(SIGNATURE_FILE, MAX_SIGNATURE_BYTES) {
            Ok(bytes) if bytes.len() as u64 > MAX_SIGNATURE_BYTES => Err(report_error(
                &self.path,
                format!("its {SIGNATURE_FILE} is larger than a signature may be"),
            )),
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(report_error(
                &self.path,
                format!("cannot read {SIGNATURE_FILE}: {e}"),
            )),
        }
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fails if the zip changed in place since it was verified (a directory's files are each
    /// checked as they are copied).
    pub fn check_unchanged(&mut self) -> Result<(), Error> {
        if let Handle::Zip { file, sha256, .. } = &mut self.handle {
            let now = file
                .rewind()
                .and_then(|()| hash_reader(file))
                .map_err(|e| report_error(&self.path, format!("cannot read it again: {e}")))?;
            if &now != sha256 {
                return Err(report_error(
                    &self.path,
                    "the zip changed while it was being read: the bundle is being modified".into(),
                ));
            }
        }
        Ok(())
    }

    /// Reads one file of the bundle, at most `limit` bytes (one more means the file grew).
    fn read(&mut self, rel: &str, limit: u64) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        match &mut self.handle {
            Handle::Dir(root) => {
                open_below(root, &self.path, rel)?
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut bytes)?;
            }
            Handle::Zip { archive, top, .. } => {
                let entry = archive
                    .by_name(&format!("{top}/{rel}"))
                    .map_err(std::io::Error::other)?;
                if !entry.is_file() || entry.is_symlink() {
                    return Err(std::io::Error::other(
                        "not a regular file in the zip; refused unread",
                    ));
                }
                entry
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut bytes)?;
            }
        }
        Ok(bytes)
    }
}

fn report_error(path: &Path, reason: String) -> Error {
    Error::Report {
        path: path.to_path_buf(),
        reason,
    }
}

/// `/proc/self/fd/<fd>`: a path that names the open file itself, not whatever its original
/// path names now. `None` where there is no such file system.
fn fd_path(file: &fs::File) -> Option<PathBuf> {
    let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    fs::symlink_metadata(&path).is_ok().then_some(path)
}

/// Opens the regular file `rel` below the directory `root` (opened from `root_path`), one
/// component at a time, each relative to the folder opened before it (through /proc, like
/// openat(2); by path where there is no /proc): no link is followed at any component, and a
/// FIFO, socket or device is refused without blocking.
fn open_below(root: &fs::File, root_path: &Path, rel: &str) -> std::io::Result<fs::File> {
    let parts: Vec<&str> = rel.split('/').collect();
    if let Some(reason) = files::unsafe_path_reason(rel) {
        return Err(std::io::Error::other(format!(
            "not a plain path inside the bundle: {reason}"
        )));
    }
    let mut dir = root.try_clone()?;
    let mut dir_path = root_path.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let base = fd_path(&dir).unwrap_or_else(|| dir_path.clone());
        let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK | if last { 0 } else { libc::O_DIRECTORY };
        let opened = fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(base.join(part))
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => std::io::Error::other(
                    "a symbolic link (report never follows links in a bundle); refused unread",
                ),
                Some(libc::ENOTDIR) => std::io::Error::other(format!(
                    "{} is not a folder (a link or a file); refused unread",
                    parts[..=i].join("/")
                )),
                _ => e,
            })?;
        let kind = opened.metadata()?.file_type();
        if last {
            if !kind.is_file() {
                return Err(std::io::Error::other(
                    "not a regular file (a FIFO, socket, device or folder); refused unread",
                ));
            }
            return Ok(opened);
        }
        if !kind.is_dir() {
            return Err(std::io::Error::other(format!(
                "{} is not a folder; refused unread",
                parts[..=i].join("/")
            )));
        }
        dir = opened;
        dir_path.push(part);
    }
    Err(std::io::Error::other("an empty path"))
}

fn hash_reader(mut reader: impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut reader, &mut hasher)?;
    Ok(files::hex(&hasher.finalize()))
}

/// Hashes the zip through its handle and checks it against `<zip>.sha256` when that file is
/// present beside it (as `verify` does). Returns the zip's SHA-256 and the problem found, if any.
fn check_sidecar(
    zip_path: &Path,
    zip: &mut fs::File,
) -> std::io::Result<(String, Vec<verify::Problem>)> {
    let actual = hash_reader(&mut *zip)?;
    zip.rewind()?;
    let mut sidecar = zip_path.as_os_str().to_owned();
    sidecar.push(".sha256");
    let sidecar = PathBuf::from(sidecar);
    if fs::symlink_metadata(&sidecar).is_err() {
        return Ok((actual, Vec::new())); // none: the zip alone is checked
    }
    let label = sidecar
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let unreadable = |reason: String| verify::Problem::Unreadable {
        path: label.clone(),
        reason,
    };
    let opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&sidecar);
    let mut text = Vec::new();
    match opened {
        Ok(file) if file.metadata().is_ok_and(|m| m.is_file()) => {
            if let Err(e) = file.take(MAX_SIDECAR_BYTES).read_to_end(&mut text) {
                return Ok((actual, vec![unreadable(e.to_string())]));
            }
        }
        Ok(_) => {
            return Ok((
                actual,
                vec![unreadable("not a regular file; not read".into())],
            ))
        }
        Err(e) => return Ok((actual, vec![unreadable(e.to_string())])),
    }
    let text = String::from_utf8_lossy(&text);
    let expected = text.split_whitespace().next().unwrap_or("").to_lowercase();
    let problems = if expected == actual {
        Vec::new()
    } else {
        vec![verify::Problem::ZipChecksum {
            expected,
            actual: actual.clone(),
        }]
    };
    Ok((actual, problems))
}

/// Refuses a list in which one path is a folder of another (`evidence/a` and `evidence/a/b`):
/// no file system can hold both, so the bundle was built or edited by hand.
fn check_no_file_is_a_folder(paths: &[&str]) -> Result<(), String> {
    let all: BTreeSet<&str> = paths.iter().copied().collect();
    for path in paths {
        let mut folder = *path;
        while let Some((parent, _)) = folder.rsplit_once('/') {
            if all.contains(parent) {
                return Err(format!(
                    "its manifest lists {parent} as a file and {path} inside it, as if {parent} \
                     were a folder: a file and a folder cannot share a name, so the bundle was \
                     built or edited by hand"
                ));
            }
            folder = parent;
        }
    }
    Ok(())
}

/// Runs `report`: verifies the source, copies its evidence, analyses it and writes the new
/// bundle. The outcome's exit code is 0, or 4 when a finding is at or above `fail_on`.
pub fn report(config: &ReportConfig) -> Result<CollectOutcome, Error> {
    let source = SourceBundle::open(&config.bundle)?;
    report_source(source, config)
}

/// [`report`] of a source already opened and verified.
pub fn report_source(
    mut source: SourceBundle,
    config: &ReportConfig,
) -> Result<CollectOutcome, Error> {
    let (staging, reported_at) = report_staging(config, &source)?;
    let name = source.name().to_string();
    let recorded = match &config.exceptions {
        Some(_) => None,
        None => source.recorded_exceptions("")?,
    };
    let exceptions = match (&config.exceptions, &recorded) {
        (Some(file), _) => Some((file, findings::exceptions::Source::Given)),
        (None, Some(file)) => Some((file, findings::exceptions::Source::Bundle)),
        (None, None) => None,
    }
    .map(|(file, source)| Recorded {
        file,
        source,
        as_of: None,
    });
    let (manifest, analysis) = derive_account(
        &mut source,
        "",
        staging.root(),
        config,
        &name,
        reported_at,
        exceptions,
    )?;
    source.check_unchanged()?;
    let paths = sign::finish_blocking(staging, &manifest, config.signer.as_deref())?;
    Ok(CollectOutcome {
        manifest,
        paths,
        analysis,
    })
}

/// The staging of the new bundle of a report on `source`: beside it (or in `--out`), named
/// after it with `-report-<time>`; and that time.
pub fn report_staging(
    config: &ReportConfig,
    source: &SourceBundle,
) -> Result<(Staging, chrono::DateTime<chrono::Utc>), Error> {
    let path = &config.bundle;
    let failed = |reason: String| report_error(path, reason);
    let out = match &config.out {
        Some(out) => out.clone(),
        None => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    writer::check_out_dir(&out)?;
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
        output_stem(source.name()),
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
    Ok((staging, reported_at))
}

/// The exceptions a report applies: the file, where it came from, and the date to judge it on
/// (`None`: the source run's start).
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    pub file: &'a findings::exceptions::ExceptionsFile,
    pub source: findings::exceptions::Source,
    pub as_of: Option<chrono::NaiveDate>,
}

/// Derives one account bundle of `source` again into `root`: the bundle at the top (`prefix`
/// empty) or an org bundle's account folder (`prefix` `accounts/<id>/`). Copies its raw
/// evidence byte for byte from the verified handle, analyses it as of its collection, writes
/// the findings, access review and `index.html`, and returns its new manifest (not written).
pub fn derive_account(
    source: &mut SourceBundle,
    prefix: &str,
    root: &Path,
    config: &ReportConfig,
    source_name: &str,
    reported_at: chrono::DateTime<chrono::Utc>,
    exceptions: Option<Recorded<'_>>,
) -> Result<(Manifest, findings::Analysis), Error> {
    let path = config.bundle.clone();
    let failed = |reason: String| report_error(&path, reason);
    let manifest_bytes = if prefix.is_empty() {
        source.manifest_bytes().to_vec()
    } else {
        let rel = format!("{prefix}{MANIFEST_FILE}");
        let record = source
            .files()
            .iter()
            .find(|f| f.path == rel)
            .cloned()
            .ok_or_else(|| failed(format!("it has no {rel}")))?;
        source.read_file(&record)?
    };
    let mut manifest: Manifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
        failed(format!(
            "its {prefix}{MANIFEST_FILE} is not a manifest this version can analyse: {e}"
        ))
    })?;
    // The list `verify` checked, not a second reading of it.
    let listed: Vec<(FileRecord, String)> = source
        .files()
        .iter()
        .filter_map(|f| {
            let rel = f.path.strip_prefix(prefix)?;
            (prefix.is_empty() || !rel.is_empty()).then(|| (f.clone(), rel.to_string()))
        })
        .filter(|(_, rel)| prefix.is_empty() || *rel != MANIFEST_FILE)
        .collect();
    manifest.files = listed
        .iter()
        .map(|(f, rel)| FileRecord {
            path: rel.clone(),
            ..f.clone()
        })
        .collect();
    let started_at = chrono::DateTime::parse_from_rfc3339(&manifest.run.started_at)
        .map_err(|e| failed(format!("run.started_at is not an RFC 3339 time: {e}")))?
        .with_timezone(&chrono::Utc);
    // The documented policy given anew, else the one the source recorded; its limits are the
    // thresholds. Trusted accounts: the ones given (with the policy's), else the source run's.
    let documented = match &config.documented {
        Some(given) => Some(given.clone()),
        None => source.recorded_documented(prefix)?,
    };
    let thresholds = documented
        .as_ref()
        .map_or(config.thresholds, |d| d.thresholds(config.thresholds));
    let trusted_accounts = if config.trusted_accounts.is_empty() && config.documented.is_none() {
        manifest.run.options.trusted_accounts.clone()
    } else {
        crate::config::trusted(&config.trusted_accounts, documented.as_ref())
    };
    let documented = documented.map(std::sync::Arc::new);
    let evidence: Vec<&(FileRecord, String)> = listed
        .iter()
        .filter(|(_, rel)| rel.starts_with("evidence/"))
        .collect();
    let evidence_paths: Vec<&str> = evidence.iter().map(|(_, rel)| rel.as_str()).collect();
    check_no_file_is_a_folder(&evidence_paths).map_err(failed)?;

    // The raw evidence, byte for byte, from the handle that was verified; everything derived is
    // written again. Any error drops the caller's staging, which removes everything written.
    let mut copied = Vec::new();
    for (record, rel) in &evidence {
        copied.push(source.copy_file_as(record, root, rel)?);
    }

    let input = findings::Input::new(
        root,
        manifest.account.id.clone(),
        manifest.account.partition.clone(),
        started_at,
        manifest.regions.clone(),
        manifest
            .collectors
            .iter()
            .map(crate::run::collector_state)
            .collect(),
        thresholds,
    )
    .with_policy(documented.clone(), trusted_accounts.clone());
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
    let mut analysis = findings::analyze(&input);
    if let Some(Recorded {
        file,
        source,
        as_of,
    }) = exceptions
    {
        analysis.accept(
            findings::exceptions::Judge {
                file,
                source,
                as_of: as_of.unwrap_or_else(|| started_at.date_naive()),
            },
            &manifest.account.id,
        );
    }
    let analysis_files = findings::write::write_findings(root, &analysis)?;

    manifest.derived_from = Some(DerivedFrom {
        bundle: format!(
            "{source_name}{}",
            prefix
                .strip_suffix('/')
                .map(|p| format!("/{p}"))
                .unwrap_or_default()
        ),
        run_id: manifest.run.id.clone(),
        manifest_sha256: files::sha256_hex(&manifest_bytes),
        reported_at: reported_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source_tool_version: manifest.tool.version.clone(),
    });
    manifest.tool.version = env!("CARGO_PKG_VERSION").to_string();
    manifest.run.options.thresholds = thresholds;
    manifest.run.options.documented_policy = documented
        .as_ref()
        .map(|d| crate::run::documented_record(&d.bytes));
    manifest.run.options.trusted_accounts = trusted_accounts;
    manifest.run.options.fail_on = config.fail_on;
    manifest.run.options.config = config.config_file.clone();
    manifest.findings_summary = analysis.summary(config.fail_on);
    for (id, control) in manifest.controls.iter_mut() {
        control.findings = analysis.count_for_control(id) as u64;
    }
    let mut all: Vec<FileRecord> = copied;
    all.extend(analysis_files);
    all.sort_by(|a, b| a.path.cmp(&b.path));
    manifest.files = all;
    let index = findings::write::write_index(root, &manifest, &analysis)?;
    crate::run::add_file(&mut manifest, index);
    Ok((manifest, analysis))
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

/// The stem of the new bundle's name: the source's, without leading dots. A source named like a
/// hidden entry, or like the tool's temporary folders (`.soc2-evidence-partial-...`), never
/// makes a hidden bundle that looks like a leftover.
fn output_stem(name: &str) -> &str {
    let stem = source_stem(name).trim_start_matches('.');
    if stem.is_empty() {
        "bundle"
    } else {
        stem
    }
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

    #[test]
    fn hidden_and_temporary_looking_sources_make_visible_names() {
        let temp = format!(
            "{}soc2-evidence-1-20261122T070509Z-4242",
            crate::bundle::writer::TEMP_PREFIX
        );
        assert_eq!(
            super::output_stem(&temp),
            "soc2-evidence-partial-soc2-evidence-1-20261122T070509Z-4242"
        );
        assert_eq!(super::output_stem("..."), "bundle");
        assert_eq!(super::output_stem(".x-report-1"), "x");
    }

    #[test]
    fn a_file_listed_as_a_folder_of_another_is_named_as_the_cause() {
        let err = super::check_no_file_is_a_folder(&["evidence/a", "evidence/a/b/c"]).unwrap_err();
        assert!(
            err.contains("a file and a folder cannot share a name"),
            "{err}"
        );
        assert!(super::check_no_file_is_a_folder(&["evidence/a/b", "evidence/ab"]).is_ok());
    }
}
