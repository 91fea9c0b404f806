//! `verify`: re-hashes a bundle (zip or directory) against its manifest and reports every
//! changed, missing or extra file.
//!
//! A bundle may come from anywhere, so `verify` treats it as hostile: it writes nothing, extracts
//! nothing and follows no link. A zip is read in place; an entry is refused unread when its name
//! could escape the bundle (absolute, `..`, backslash, outside the single top folder), when it is
//! a link or another non-regular file, when its name appears twice, or when the size the zip
//! declares differs from the manifest's. An entry is never read past the manifest's size + 1
//! byte, so an entry that inflates beyond what it declares (a zip bomb) costs at most that much.
//! The manifest is read only up to [`MAX_MANIFEST_BYTES`], and a zip of more than [`MAX_ENTRIES`]
//! entries is refused. Memory stays bounded by those limits and the zip's central directory.
//!
//! "Intact" means that any conforming unzip tool extracts the same tree, safely: every entry's
//! Unix file type (the high 16 bits of its external attributes, whatever host the zip claims)
//! is a regular file or a folder, every local header repeats its central-directory record, the
//! entries and the directory fill the file with nothing before, between, over or after them
//! (see [`central_directory`]), and no two names (entries or manifest paths) are equal once
//! Unicode-normalised (NFC) and case-folded, or hold a control character. Every untrusted string
//! a report shows (names, paths, reasons quoting the manifest) passes [`escape_untrusted`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::central_directory;
use super::entries::{check_records, folded, S_IFDIR, S_IFMT, S_IFREG};
pub use super::escape::escape_untrusted;
use super::files::{self, FileRecord};
use super::manifest::{MANIFEST_FILE, SCHEMA_VERSION};
use super::org_manifest::{account_dir, OrgAccountRecord, ACCOUNTS_DIR, ORG_KIND};
use super::signature::{AllowedSigners, BundleSignature, MAX_SIGNATURE_BYTES, SIGNATURE_FILE};
use super::writer::list_files;

/// The largest `manifest.json` `verify` reads (a real one is a few hundred KiB at most).
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// The most entries a bundle zip may hold (a real one holds hundreds to a few thousand).
pub const MAX_ENTRIES: usize = 100_000;
/// The largest `.zip.sha256` file read: one line of 64 hex digits and a name.
const MAX_SIDECAR_BYTES: u64 = 4096;

/// One reason a bundle is not intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum Problem {
    /// The file's content differs from the manifest's hash or size.
    Changed {
        path: String,
        expected_sha256: String,
        actual_sha256: String,
    },
    /// The zip entry declares another size than the manifest lists; it was not read.
    SizeMismatch {
        path: String,
        expected_bytes: u64,
        declared_bytes: u64,
    },
    /// The manifest lists the file but the bundle lacks it.
    Missing { path: String },
    /// The bundle holds a file the manifest does not list.
    Extra { path: String },
    /// A file could not be read (a corrupt zip entry, a permission error, not a zip at all).
    Unreadable { path: String, reason: String },
    /// The manifest itself is missing, unparseable or of an unknown schema.
    Manifest { reason: String },
    /// An entry that could write outside the bundle or that is not a plain file.
    UnsafeEntry { path: String, reason: String },
    /// The bundle exceeds a limit `verify` keeps to bound its memory and time.
    Limit { reason: String },
    /// The zip does not match its `.zip.sha256` file.
    ZipChecksum { expected: String, actual: String },
}

impl Problem {
    /// The same problem with every string passed through [`escape_untrusted`].
    pub fn escaped(&self) -> Problem {
        let e = |s: &String| escape_untrusted(s);
        match self {
            Problem::Changed {
                path,
                expected_sha256,
                actual_sha256,
            } => Problem::Changed {
                path: e(path),
                expected_sha256: e(expected_sha256),
                actual_sha256: e(actual_sha256),
            },
            Problem::SizeMismatch {
                path,
                expected_bytes,
                declared_bytes,
            } => Problem::SizeMismatch {
                path: e(path),
                expected_bytes: *expected_bytes,
                declared_bytes: *declared_bytes,
            },
            Problem::Missing { path } => Problem::Missing { path: e(path) },
            Problem::Extra { path } => Problem::Extra { path: e(path) },
            Problem::Unreadable { path, reason } => Problem::Unreadable {
                path: e(path),
                reason: e(reason),
            },
            Problem::Manifest { reason } => Problem::Manifest { reason: e(reason) },
            Problem::UnsafeEntry { path, reason } => Problem::UnsafeEntry {
                path: e(path),
                reason: e(reason),
            },
            Problem::Limit { reason } => Problem::Limit { reason: e(reason) },
            Problem::ZipChecksum { expected, actual } => Problem::ZipChecksum {
                expected: e(expected),
                actual: e(actual),
            },
        }
    }
}

/// Shows the problem on one line, its untrusted strings escaped ([`escape_untrusted`]).
impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.escaped() {
            Problem::Changed {
                path,
                expected_sha256,
                actual_sha256,
            } => write!(
                f,
                "changed: {path} (manifest sha256 {expected_sha256}, found {actual_sha256})"
            ),
            Problem::SizeMismatch {
                path,
                expected_bytes,
                declared_bytes,
            } => write!(
                f,
                "changed: {path} (the manifest lists {expected_bytes} bytes, the zip entry \
                 declares {declared_bytes}; not read)"
            ),
            Problem::Missing { path } => write!(f, "missing: {path} (listed in the manifest)"),
            Problem::Extra { path } => write!(f, "extra: {path} (not listed in the manifest)"),
            Problem::Unreadable { path, reason } => write!(f, "unreadable: {path}: {reason}"),
            Problem::Manifest { reason } => write!(f, "manifest: {reason}"),
            Problem::UnsafeEntry { path, reason } => write!(f, "unsafe entry: {path}: {reason}"),
            Problem::Limit { reason } => write!(f, "limit: {reason}"),
            Problem::ZipChecksum { expected, actual } => write!(
                f,
                "zip checksum: the .zip.sha256 file says {expected}, the zip hashes to {actual}"
            ),
        }
    }
}

/// The outcome of `verify`. Serialized (`--json`), its path and problems are escaped as in the
/// human report ([`escape_untrusted`]).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    #[serde(serialize_with = "escaped_path")]
    pub bundle: PathBuf,
    pub kind: &'static str,
    /// Every file matches the manifest (hashes only: the signature is [`Report::signature`]).
    pub intact: bool,
    /// Files whose hash matched the manifest.
    pub files_verified: usize,
    #[serde(serialize_with = "escaped_problems")]
    pub problems: Vec<Problem>,
    /// What the bundle's `manifest.json.sig` says, checked or not.
    #[serde(serialize_with = "escaped_signature")]
    pub signature: SignatureCheck,
}

/// The signature of a bundle as `verify` found it. Without allowed signers it is only read
/// (`not-checked`); with them, anything but `verified` is `refused`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SignatureCheck {
    /// No `manifest.json.sig`.
    Absent,
    /// A readable signature, not checked against allowed signers.
    NotChecked {
        fingerprint: String,
        algorithm: String,
        namespace: String,
    },
    /// A signature file that is not a readable SSH signature (not checked).
    Unreadable { reason: String },
    /// Checked: made by a key the allowed signers list for this identity and namespace.
    Verified {
        signer: String,
        fingerprint: String,
        algorithm: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
    },
    /// Checked and refused, with the reason.
    Refused {
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        fingerprint: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
    },
}

impl SignatureCheck {
    /// The same check with every untrusted string escaped ([`escape_untrusted`]).
    pub fn escaped(&self) -> SignatureCheck {
        let e = |s: &String| escape_untrusted(s);
        let all = |v: &Vec<String>| v.iter().map(e).collect();
        match self {
            SignatureCheck::Absent => SignatureCheck::Absent,
            SignatureCheck::NotChecked {
                fingerprint,
                algorithm,
                namespace,
            } => SignatureCheck::NotChecked {
                fingerprint: e(fingerprint),
                algorithm: e(algorithm),
                namespace: e(namespace),
            },
            SignatureCheck::Unreadable { reason } => {
                SignatureCheck::Unreadable { reason: e(reason) }
            }
            SignatureCheck::Verified {
                signer,
                fingerprint,
                algorithm,
                notes,
            } => SignatureCheck::Verified {
                signer: e(signer),
                fingerprint: e(fingerprint),
                algorithm: e(algorithm),
                notes: all(notes),
            },
            SignatureCheck::Refused {
                reason,
                fingerprint,
                notes,
            } => SignatureCheck::Refused {
                reason: e(reason),
                fingerprint: fingerprint.as_ref().map(e),
                notes: all(notes),
            },
        }
    }
}

/// Whose signatures count: `verify --allowed-signers FILE [--signer IDENTITY]`.
#[derive(Debug, Clone, Copy)]
pub struct Trust<'a> {
    pub signers: &'a AllowedSigners,
    pub identity: Option<&'a str>,
}

/// What the walk of a bundle keeps for the signature check.
#[derive(Default)]
struct Captured {
    manifest: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
}

fn signature_check(captured: &Captured, trust: Option<&Trust>) -> SignatureCheck {
    let notes = trust.map(|t| t.signers.notes.clone()).unwrap_or_default();
    let refused = |reason: String, fingerprint: Option<String>| SignatureCheck::Refused {
        reason,
        fingerprint,
        notes: notes.clone(),
    };
    let Some(bytes) = &captured.signature else {
        return match trust {
            Some(_) => refused(
                format!("the bundle has no {SIGNATURE_FILE}: it is not signed"),
                None,
            ),
            None => SignatureCheck::Absent,
        };
    };
    let sig = match BundleSignature::parse(bytes) {
        Ok(sig) => sig,
        Err(reason) => {
            return match trust {
                Some(_) => refused(reason, None),
                None => SignatureCheck::Unreadable { reason },
            }
        }
    };
    let Some(trust) = trust else {
        return SignatureCheck::NotChecked {
            fingerprint: sig.fingerprint(),
            algorithm: sig.algorithm(),
            namespace: sig.namespace().to_string(),
        };
    };
    let Some(manifest) = &captured.manifest else {
        return refused(
            format!("{MANIFEST_FILE} could not be read, so its signature cannot be checked"),
            Some(sig.fingerprint()),
        );
    };
    match sig.check(manifest, trust.signers, trust.identity) {
        Ok(signer) => SignatureCheck::Verified {
            signer,
            fingerprint: sig.fingerprint(),
            algorithm: sig.algorithm(),
            notes,
        },
        Err(reason) => refused(reason, Some(sig.fingerprint())),
    }
}

fn escaped_path<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&escape_untrusted(&path.to_string_lossy()))
}

fn escaped_signature<S: Serializer>(
    check: &SignatureCheck,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    check.escaped().serialize(serializer)
}

fn escaped_problems<S: Serializer>(problems: &[Problem], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(problems.iter().map(Problem::escaped))
}

impl Report {
    fn new(
        bundle: &Path,
        kind: &'static str,
        (problems, verified): Checked,
        captured: &Captured,
        trust: Option<&Trust>,
    ) -> Report {
        Report {
            bundle: bundle.to_path_buf(),
            kind,
            intact: problems.is_empty(),
            files_verified: verified,
            problems,
            signature: signature_check(captured, trust),
        }
    }

    /// Intact, and the signature verified when it was checked: `verify`'s exit status 0.
    pub fn passed(&self) -> bool {
        self.intact && !matches!(self.signature, SignatureCheck::Refused { .. })
    }
}

/// Problems found, and how many files matched.
type Checked = (Vec<Problem>, usize);

#[derive(Deserialize)]
struct ManifestView {
    schema_version: u32,
    files: Vec<FileRecord>,
}

/// What `verify` reads of an org manifest beyond its files: the account bundles it chains.
#[derive(Deserialize)]
struct OrgView {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    accounts: Vec<OrgAccountRecord>,
}

/// The account bundles an org manifest chains to, as (folder, record of its manifest); empty
/// for a single-account manifest. Refuses folders that are not `accounts/<12 digits>`, a folder
/// named twice, and org files listed inside `accounts/`.
pub fn chained_accounts(
    bytes: &[u8],
    org_files: &[FileRecord],
) -> Result<Vec<(String, FileRecord)>, Problem> {
    let refuse = |reason: String| Problem::Manifest { reason };
    let view: OrgView = serde_json::from_slice(bytes)
        .map_err(|e| refuse(format!("{MANIFEST_FILE} is not a readable manifest: {e}")))?;
    if view.kind.as_deref() != Some(ORG_KIND) {
        return Ok(Vec::new());
    }
    if let Some(file) = org_files
        .iter()
        .find(|f| f.path.starts_with(&format!("{ACCOUNTS_DIR}/")))
    {
        return Err(refuse(format!(
            "the org manifest lists {} among its own files, inside the account bundles' \
             folder: the bundle was edited",
            file.path
        )));
    }
    let mut seen = BTreeSet::new();
    let mut chained = Vec::new();
    for account in &view.accounts {
        let Some(bundle) = &account.bundle else {
            continue;
        };
        let id = &account.account_id;
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) || *bundle != account_dir(id) {
            return Err(refuse(format!(
                "the org manifest chains account \"{id}\" to the folder \"{bundle}\"; \
                 an account's folder is accounts/<its 12-digit id>: the bundle was edited"
            )));
        }
        if !seen.insert(id.clone()) {
            return Err(refuse(format!(
                "the org manifest lists account {id} twice: the bundle was edited"
            )));
        }
        let record = account.manifest_record().ok_or_else(|| {
            refuse(format!(
                "the org manifest gives account {id} a folder but no hash of its manifest: \
                 the bundle was edited"
            ))
        })?;
        chained.push((bundle.clone(), record));
    }
    Ok(chained)
}

/// [`expand_org`] for a reader of a bundle already verified: the whole list of an org bundle's
/// files (nested manifests and their files included), or the single manifest's list as it is.
pub fn all_files(
    bytes: &[u8],
    listed: Vec<FileRecord>,
    read: impl FnMut(&str) -> Result<Vec<u8>, Problem>,
) -> Result<Vec<FileRecord>, Problem> {
    let mut problems = Vec::new();
    let (all, _) = expand_org(bytes, listed, read, &mut problems)?;
    match problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(all),
    }
}

/// Extends an org manifest's own files with every chained account bundle's: its manifest (with
/// the hash the org manifest holds) and the files that manifest lists, below its folder. Each
/// account manifest is read through `read` (a bundle path; an error when it cannot be read).
/// A manifest that cannot be read is left to the comparison (reported missing or unreadable);
/// one that does not parse is a problem of its own.
fn expand_org(
    bytes: &[u8],
    listed: Vec<FileRecord>,
    mut read: impl FnMut(&str) -> Result<Vec<u8>, Problem>,
    problems: &mut Vec<Problem>,
) -> Result<(Vec<FileRecord>, usize), Problem> {
    let chained = chained_accounts(bytes, &listed)?;
    let accounts = chained.len();
    let mut all = listed;
    for (dir, record) in chained {
        if let Ok(nested) = read(&record.path) {
            match parse_manifest(&nested) {
                Ok(files) => all.extend(files.into_iter().map(|f| FileRecord {
                    path: format!("{dir}/{}", f.path),
                    ..f
                })),
                Err(problem) => problems.push(Problem::Manifest {
                    reason: format!("{}: {problem}", record.path),
                }),
            }
        }
        all.push(record);
    }
    Ok((all, accounts))
}

/// Verifies the bundle at `path`: a bundle directory, or a bundle zip. An `Err` means the path
/// itself could not be read (it does not exist, or it is neither a directory nor a regular file).
/// A signature is read but not checked.
pub fn verify(path: &Path) -> std::io::Result<Report> {
    verify_with(path, None)
}

/// [`verify`], checking the signature against `trust` when given.
pub fn verify_with(path: &Path, trust: Option<&Trust>) -> std::io::Result<Report> {
    let meta = fs::metadata(path)?;
    let mut captured = Captured::default();
    if meta.is_dir() {
        let checked = verify_dir(path, &mut captured);
        return Ok(Report::new(path, "directory", checked, &captured, trust));
    }
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is neither a directory nor a regular file",
        ));
    }
    let mut file = fs::File::open(path)?;
    let mut problems = Vec::new();
    check_sidecar(path, &mut file, &mut problems)?;
    let (more, verified) = check_zip(file, &zip_label(path), &mut captured);
    problems.extend(more);
    Ok(Report::new(
        path,
        "zip",
        (problems, verified),
        &captured,
        trust,
    ))
}

/// Verifies a bundle zip held by any reader (a file, bytes in memory) against the manifest
/// inside it. `bundle` only names it in the report. Nothing is written anywhere.
pub fn verify_zip_reader<R: Read + Seek>(reader: R, bundle: &Path) -> Report {
    let mut captured = Captured::default();
    let checked = check_zip(reader, &zip_label(bundle), &mut captured);
    Report::new(bundle, "zip", checked, &captured, None)
}

fn zip_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Parses `manifest.json` and returns its files, refusing unknown schemas and any listed path
/// that is not a plain `/`-separated path inside the bundle.
pub fn parse_manifest(bytes: &[u8]) -> Result<Vec<FileRecord>, Problem> {
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(manifest_too_large(bytes.len() as u64));
    }
    let view: ManifestView = serde_json::from_slice(bytes).map_err(|e| Problem::Manifest {
        reason: format!("{MANIFEST_FILE} is not a readable manifest: {e}"),
    })?;
    if view.schema_version != SCHEMA_VERSION {
        return Err(Problem::Manifest {
            reason: format!(
                "schema_version {} is not supported (this tool reads {SCHEMA_VERSION}); \
                 verify it with the soc2-evidence version that wrote it",
                view.schema_version
            ),
        });
    }
    let mut seen = BTreeSet::new();
    let mut folds: BTreeMap<String, &str> = BTreeMap::new();
    for record in &view.files {
        if record.path.chars().any(char::is_control) {
            return Err(Problem::Manifest {
                reason: format!(
                    "lists a path with a control character, \"{}\": the bundle was edited",
                    record.path
                ),
            });
        }
        if !is_safe_relative(&record.path) || record.path == MANIFEST_FILE {
            return Err(Problem::Manifest {
                reason: format!(
                    "lists an unsafe path \"{}\" (absolute, `..`, `.`, backslash or empty \
                     component, or the manifest itself): the bundle was edited",
                    record.path
                ),
            });
        }
        if !seen.insert(record.path.as_str()) {
            return Err(Problem::Manifest {
                reason: format!("lists {} twice: the bundle was edited", record.path),
            });
        }
        if let Some(other) = folds.insert(folded(&record.path), &record.path) {
            return Err(Problem::Manifest {
                reason: format!(
                    "lists {} and {other}, one file on case-insensitive or Unicode-normalising \
                     file systems (equal after NFC and case folding): the bundle was edited",
                    record.path
                ),
            });
        }
    }
    Ok(view.files)
}

fn manifest_too_large(bytes: u64) -> Problem {
    Problem::Limit {
        reason: format!(
            "{MANIFEST_FILE} is {bytes} bytes, more than the {MAX_MANIFEST_BYTES} a manifest \
             may have; refused unread"
        ),
    }
}

/// A `/`-separated path that stays inside the bundle.
fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains('\0')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// What the bundle holds at one path.
enum Found {
    /// Hashed: (sha256, bytes read).
    Hashed(String, u64),
    /// Could not be read.
    Failed(String),
    /// Not read on purpose; the problem is already recorded.
    Refused,
    /// Present but not listed, so not read.
    Unlisted,
}

/// Compares what the bundle holds with what the manifest lists.
fn compare(
    listed: &[FileRecord],
    mut found: BTreeMap<String, Found>,
    problems: &mut Vec<Problem>,
) -> usize {
    let mut verified = 0;
    for record in listed {
        match found.remove(&record.path) {
            // Every listed path that is present is read, so `Unlisted` cannot occur here.
            None | Some(Found::Unlisted) => problems.push(Problem::Missing {
                path: record.path.clone(),
            }),
            Some(Found::Refused) => {}
            Some(Found::Failed(reason)) => problems.push(Problem::Unreadable {
                path: record.path.clone(),
                reason,
            }),
            Some(Found::Hashed(sha, bytes)) => {
                if sha == record.sha256 && bytes == record.bytes {
                    verified += 1;
                } else {
                    problems.push(Problem::Changed {
                        path: record.path.clone(),
                        expected_sha256: record.sha256.clone(),
                        actual_sha256: sha,
                    });
                }
            }
        }
    }
    for (path, found) in found {
        if !matches!(found, Found::Refused) {
            problems.push(Problem::Extra { path });
        }
    }
    verified
}

/// Hashes at most `limit` bytes of `reader`.
fn hash_reader(reader: impl Read, limit: u64) -> Result<(String, u64), String> {
    let mut hasher = Sha256::new();
    let mut limited = reader.take(limit);
    let bytes = std::io::copy(&mut limited, &mut hasher).map_err(|e| e.to_string())?;
    Ok((files::hex(&hasher.finalize()), bytes))
}

/// Reads at most [`MAX_MANIFEST_BYTES`] of a manifest, refusing a longer one.
fn read_manifest(reader: impl Read) -> Result<Vec<u8>, Problem> {
    let mut buf = Vec::new();
    reader
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Problem::Manifest {
            reason: format!("cannot read {MANIFEST_FILE}: {e}"),
        })?;
    if buf.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(manifest_too_large(buf.len() as u64));
    }
    Ok(buf)
}

fn verify_dir(dir: &Path, captured: &mut Captured) -> Checked {
    let mut problems = Vec::new();
    let listed = match read_dir_manifest(&dir.join(MANIFEST_FILE)).and_then(|bytes| {
        let listed = parse_manifest(&bytes)?;
        captured.manifest = Some(bytes.clone());
        let read = |rel: &str| read_nested_dir_manifest(dir, rel);
        expand_org(&bytes, listed, read, &mut problems).map(|(all, _)| all)
    }) {
        Ok(listed) => listed,
        Err(problem) => return (vec![problem], 0),
    };
    let sizes: BTreeMap<&str, u64> = listed.iter().map(|r| (r.path.as_str(), r.bytes)).collect();
    let mut found = BTreeMap::new();
    match list_files(dir) {
        Ok(paths) => {
            for rel in paths.into_iter().filter(|p| p != MANIFEST_FILE) {
                let path = dir.join(&rel);
                if rel == SIGNATURE_FILE {
                    match read_dir_signature(&path) {
                        Ok(bytes) => captured.signature = Some(bytes),
                        Err(problem) => problems.push(problem),
                    }
                    continue;
                }
                // Never follow a link, never open a FIFO or a device: only regular files are read.
                let kind = fs::symlink_metadata(&path).map(|m| m.file_type());
                let refused = match &kind {
                    Ok(t) if t.is_symlink() => Some("a symbolic link (verify never follows links)"),
                    Ok(t) if !t.is_file() => Some("not a regular file (a FIFO, socket or device)"),
                    _ => None,
                };
                let result = if let Some(reason) = refused {
                    problems.push(Problem::UnsafeEntry {
                        path: rel.clone(),
                        reason: reason.to_string(),
                    });
                    Found::Refused
                } else if let Some(&size) = sizes.get(rel.as_str()) {
                    let hashed = fs::File::open(&path)
                        .map_err(|e| e.to_string())
                        .and_then(|f| hash_reader(f, size.saturating_add(1)));
                    match hashed {
                        Ok((sha, bytes)) => Found::Hashed(sha, bytes),
                        Err(reason) => Found::Failed(reason),
                    }
                } else {
                    Found::Unlisted
                };
                found.insert(rel, result);
            }
        }
        Err(e) => problems.push(Problem::Unreadable {
            path: dir.display().to_string(),
            reason: e.to_string(),
        }),
    }
    let verified = compare(&listed, found, &mut problems);
    (problems, verified)
}

/// Reads a directory bundle's signature: a regular file, not a link, of bounded size.
fn read_dir_signature(path: &Path) -> Result<Vec<u8>, Problem> {
    let unsafe_entry = |reason: &str| Problem::UnsafeEntry {
        path: SIGNATURE_FILE.to_string(),
        reason: reason.to_string(),
    };
    let meta = fs::symlink_metadata(path).map_err(|e| Problem::Unreadable {
        path: SIGNATURE_FILE.to_string(),
        reason: e.to_string(),
    })?;
    if meta.file_type().is_symlink() {
        return Err(unsafe_entry("a symbolic link (verify never follows links)"));
    }
    if !meta.is_file() {
        return Err(unsafe_entry(
            "not a regular file (a FIFO, socket or device)",
        ));
    }
    if meta.len() > MAX_SIGNATURE_BYTES {
        return Err(signature_too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(MAX_SIGNATURE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| Problem::Unreadable {
            path: SIGNATURE_FILE.to_string(),
            reason: e.to_string(),
        })?;
    if bytes.len() as u64 > MAX_SIGNATURE_BYTES {
        return Err(signature_too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn signature_too_large(bytes: u64) -> Problem {
    Problem::Limit {
        reason: format!(
            "{SIGNATURE_FILE} is {bytes} bytes, more than the {MAX_SIGNATURE_BYTES} a signature \
             may have; refused unread"
        ),
    }
}

/// Reads an account bundle's manifest inside an org bundle directory, through real folders
/// only: a linked folder on the way is never followed (the walk reports it).
fn read_nested_dir_manifest(dir: &Path, rel: &str) -> Result<Vec<u8>, Problem> {
    let mut at = dir.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        at.push(part);
        let real_dir = fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_dir());
        if !real_dir {
            return Err(Problem::Missing {
                path: rel.to_string(),
            });
        }
    }
    read_dir_manifest(&dir.join(rel))
}

/// Reads a directory bundle's manifest: a regular file, not a link, of bounded size.
fn read_dir_manifest(path: &Path) -> Result<Vec<u8>, Problem> {
    let refuse = |reason: String| Problem::Manifest { reason };
    let meta = fs::symlink_metadata(path)
        .map_err(|e| refuse(format!("cannot read {MANIFEST_FILE}: {e}")))?;
    if meta.file_type().is_symlink() {
        return Err(refuse(format!(
            "{MANIFEST_FILE} is a symbolic link; verify never follows links in a bundle"
        )));
    }
    if !meta.is_file() {
        return Err(refuse(format!("{MANIFEST_FILE} is not a regular file")));
    }
    if meta.len() > MAX_MANIFEST_BYTES {
        return Err(manifest_too_large(meta.len()));
    }
    let file =
        fs::File::open(path).map_err(|e| refuse(format!("cannot read {MANIFEST_FILE}: {e}")))?;
    read_manifest(file)
}

/// One zip entry as the central directory describes it.
struct EntryInfo {
    index: usize,
    declared_bytes: u64,
}

fn check_zip<R: Read + Seek>(mut reader: R, label: &str, captured: &mut Captured) -> Checked {
    let unreadable = |reason: String| {
        (
            vec![Problem::Unreadable {
                path: label.to_string(),
                reason,
            }],
            0,
        )
    };
    let file_len = match reader.seek(SeekFrom::End(0)) {
        Ok(0) => return unreadable("the file is empty, not a bundle zip".to_string()),
        Ok(len) => len,
        Err(e) => return unreadable(e.to_string()),
    };
    let not_a_zip = |e: zip::result::ZipError| {
        unreadable(format!(
            "not a readable zip archive ({e}); pass the bundle's .zip file or its directory"
        ))
    };
    let archive = match zip::ZipArchive::new(reader) {
        Ok(archive) => archive,
        Err(e) => return not_a_zip(e),
    };
    if archive.len() > MAX_ENTRIES {
        return limit_entries(archive.len());
    }

    // The zip crate keeps one entry per name and reads Unix modes only from some hosts: walk
    // the records to see every name and attribute as written, then the bytes around them.
    let start = archive.central_directory_start();
    let mut reader = archive.into_inner();
    let (records, end) = match central_directory::records(&mut reader, start, MAX_ENTRIES + 1) {
        Ok(records) => records,
        Err(e) => return unreadable(format!("cannot read the zip's central directory: {e}")),
    };
    if records.len() > MAX_ENTRIES {
        return limit_entries(records.len());
    }
    let mut problems: Vec<Problem> = check_records(&records)
        .into_iter()
        .map(|(path, reason)| Problem::UnsafeEntry { path, reason })
        .collect();
    if problems.is_empty() {
        for flaw in central_directory::check_layout(&mut reader, &records, start, end, file_len) {
            problems.push(Problem::UnsafeEntry {
                path: flaw.entry.unwrap_or_else(|| label.to_string()),
                reason: flaw.reason,
            });
        }
    }
    let mut archive = match zip::ZipArchive::new(reader) {
        Ok(archive) => archive,
        Err(e) => return not_a_zip(e),
    };
    if problems.is_empty() && records.len() != archive.len() {
        problems.push(Problem::UnsafeEntry {
            path: label.to_string(),
            reason: format!(
                "the central directory holds {} entry records but the zip reads as {} entries: \
                 names are shared or the directory is inconsistent",
                records.len(),
                archive.len()
            ),
        });
    }
    if !problems.is_empty() {
        return (problems, 0);
    }

    let entries = match check_entries(&mut archive) {
        Ok(entries) => entries,
        Err(problems) => return (problems, 0),
    };
    let Some(manifest_entry) = entries.get(MANIFEST_FILE) else {
        return (
            vec![Problem::Manifest {
                reason: format!("the zip has no {MANIFEST_FILE} in its top folder"),
            }],
            0,
        );
    };
    if manifest_entry.declared_bytes > MAX_MANIFEST_BYTES {
        return (vec![manifest_too_large(manifest_entry.declared_bytes)], 0);
    }
    let mut problems = Vec::new();
    let listed = match archive
        .by_index(manifest_entry.index)
        .map_err(|e| Problem::Manifest {
            reason: format!("cannot read {MANIFEST_FILE}: {e}"),
        })
        .and_then(read_manifest)
        .and_then(|bytes| {
            let listed = parse_manifest(&bytes)?;
            captured.manifest = Some(bytes.clone());
            let read = |rel: &str| {
                let entry = entries.get(rel).ok_or_else(|| Problem::Missing {
                    path: rel.to_string(),
                })?;
                let index = entry.index;
                archive
                    .by_index(index)
                    .map_err(|e| Problem::Manifest {
                        reason: format!("cannot read {rel}: {e}"),
                    })
                    .and_then(read_manifest)
            };
            expand_org(&bytes, listed, read, &mut problems).map(|(all, _)| all)
        }) {
        Ok(listed) => listed,
        Err(problem) => return (vec![problem], 0),
    };

    let sizes: BTreeMap<&str, u64> = listed.iter().map(|r| (r.path.as_str(), r.bytes)).collect();
    let mut found = BTreeMap::new();
    for (rel, entry) in entries {
        if rel == MANIFEST_FILE {
            continue;
        }
        if rel == SIGNATURE_FILE {
            if entry.declared_bytes > MAX_SIGNATURE_BYTES {
                problems.push(signature_too_large(entry.declared_bytes));
                continue;
            }
            let mut bytes = Vec::new();
            match archive
                .by_index(entry.index)
                .map_err(|e| e.to_string())
                .and_then(|e| {
                    e.take(MAX_SIGNATURE_BYTES + 1)
                        .read_to_end(&mut bytes)
                        .map_err(|e| e.to_string())
                }) {
                Ok(_) if bytes.len() as u64 > MAX_SIGNATURE_BYTES => {
                    problems.push(signature_too_large(bytes.len() as u64))
                }
                Ok(_) => captured.signature = Some(bytes),
                Err(reason) => problems.push(Problem::Unreadable {
                    path: rel.clone(),
                    reason,
                }),
            }
            continue;
        }
        let result = match sizes.get(rel.as_str()) {
            // Refused unread when the sizes disagree; otherwise read at most one byte past the
            // listed size, so an entry that inflates beyond its declared size cannot cost more.
            Some(&size) if size != entry.declared_bytes => {
                problems.push(Problem::SizeMismatch {
                    path: rel.clone(),
                    expected_bytes: size,
                    declared_bytes: entry.declared_bytes,
                });
                Found::Refused
            }
            Some(&size) => {
                match archive
                    .by_index(entry.index)
                    .map_err(|e| e.to_string())
                    .and_then(|e| hash_reader(e, size.saturating_add(1)))
                {
                    Ok((sha, bytes)) => Found::Hashed(sha, bytes),
                    Err(reason) => Found::Failed(reason),
                }
            }
            None => Found::Unlisted,
        };
        found.insert(rel, result);
    }
    let verified = compare(&listed, found, &mut problems);
    (problems, verified)
}

fn limit_entries(count: usize) -> Checked {
    (
        vec![Problem::Limit {
            reason: format!(
                "the zip holds {count} or more entries, more than the {MAX_ENTRIES} a bundle may \
                 have; refused unread"
            ),
        }],
        0,
    )
}

/// Checks every entry's name and type without reading any content: every entry must be a plain
/// file or folder below one top folder, the bundle's name. Returns the files by their path
/// inside that folder, or every problem found.
fn check_entries<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
) -> Result<BTreeMap<String, EntryInfo>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut top: Option<String> = None;
    let mut entries = BTreeMap::new();
    for index in 0..archive.len() {
        let entry = match archive.by_index_raw(index) {
            Ok(entry) => entry,
            Err(e) => {
                problems.push(Problem::Unreadable {
                    path: format!("zip entry #{index}"),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let name = entry.name().to_string();
        let mut refuse = |reason: &str| {
            problems.push(Problem::UnsafeEntry {
                path: name.clone(),
                reason: reason.to_string(),
            })
        };
        let trimmed = name.strip_suffix('/').unwrap_or(&name);
        if !is_safe_relative(trimmed) {
            refuse("absolute path, `..` or `.`, or an empty, backslash or NUL component");
            continue;
        }
        if entry.is_symlink() {
            refuse("symbolic link");
            continue;
        }
        let file_type = entry.unix_mode().unwrap_or(0) & S_IFMT;
        if ![0, S_IFREG, S_IFDIR].contains(&file_type) {
            refuse("not a regular file or folder (a device, FIFO or socket)");
            continue;
        }
        let (head, rest) = match trimmed.split_once('/') {
            Some((head, rest)) => (head, Some(rest)),
            None => (trimmed, None),
        };
        match &top {
            None => top = Some(head.to_string()),
            Some(t) if t != head => {
                refuse("outside the bundle's single top folder");
                continue;
            }
            Some(_) => {}
        }
        if entry.is_dir() {
            continue;
        }
        let Some(rel) = rest else {
            refuse("a file beside the bundle's top folder");
            continue;
        };
        let info = EntryInfo {
            index,
            declared_bytes: entry.size(),
        };
        if entries.insert(rel.to_string(), info).is_some() {
            refuse("duplicate entry name");
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

/// Checks `<zip>.sha256`, when present beside the zip, and leaves `zip` where it found it.
fn check_sidecar(
    zip_path: &Path,
    zip: &mut fs::File,
    problems: &mut Vec<Problem>,
) -> std::io::Result<()> {
    let mut sidecar = zip_path.as_os_str().to_owned();
    sidecar.push(".sha256");
    let sidecar = PathBuf::from(sidecar);
    if fs::symlink_metadata(&sidecar).is_err() {
        return Ok(()); // none: the zip alone is checked
    }
    // Only a regular file, and only its first line's worth: never /dev/zero or a FIFO.
    let unreadable = |reason: String| Problem::Unreadable {
        path: zip_label(&sidecar),
        reason,
    };
    match fs::metadata(&sidecar) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            problems.push(unreadable("not a regular file; not read".to_string()));
            return Ok(());
        }
        Err(e) => {
            problems.push(unreadable(e.to_string()));
            return Ok(());
        }
    }
    let mut text = Vec::new();
    if let Err(e) =
        fs::File::open(&sidecar).and_then(|f| f.take(MAX_SIDECAR_BYTES).read_to_end(&mut text))
    {
        problems.push(unreadable(e.to_string()));
        return Ok(());
    }
    let text = String::from_utf8_lossy(&text);
    let expected = text.split_whitespace().next().unwrap_or("").to_lowercase();
    let (actual, _) = hash_reader(&mut *zip, u64::MAX).map_err(std::io::Error::other)?;
    zip.rewind()?;
    if expected != actual {
        problems.push(Problem::ZipChecksum { expected, actual });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org_manifest(accounts: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "schema_version": SCHEMA_VERSION, "kind": "organization", "files": [],
            "accounts": accounts,
        }))
        .unwrap()
    }

    fn chained(accounts: serde_json::Value) -> Result<Vec<(String, FileRecord)>, Problem> {
        chained_accounts(&org_manifest(accounts), &[])
    }

    #[test]
    fn org_manifests_chain_only_accounts_folders_of_twelve_digits_once() {
        let ok = chained(serde_json::json!([
            {"account_id": "111122223333", "bundle": "accounts/111122223333",
             "manifest_sha256": "ab", "manifest_bytes": 2},
            {"account_id": "444455556666", "collection_status": "failed"},
        ]))
        .unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].1.path, "accounts/111122223333/manifest.json");
        for (hostile, said) in [
            (
                serde_json::json!([{"account_id": "../../etc", "bundle": "accounts/../../etc",
               "manifest_sha256": "ab", "manifest_bytes": 2}]),
                "12-digit",
            ),
            (
                serde_json::json!([{"account_id": "111122223333", "bundle": "evidence",
               "manifest_sha256": "ab", "manifest_bytes": 2}]),
                "12-digit",
            ),
            (
                serde_json::json!([{"account_id": "111122223333", "bundle": "accounts/111122223333"}]),
                "no hash",
            ),
            (
                serde_json::json!([
                {"account_id": "111122223333", "bundle": "accounts/111122223333",
                 "manifest_sha256": "ab", "manifest_bytes": 2},
                {"account_id": "111122223333", "bundle": "accounts/111122223333",
                 "manifest_sha256": "ab", "manifest_bytes": 2}]),
                "twice",
            ),
        ] {
            let problem = chained(hostile).unwrap_err().to_string();
            assert!(problem.contains(said), "{problem}");
        }
        // An org file listed inside the account folders would let one hash cover another's file.
        let inside = FileRecord {
            path: "accounts/111122223333/x.csv".into(),
            sha256: "ab".into(),
            bytes: 1,
            rows: None,
        };
        let problem = chained_accounts(&org_manifest(serde_json::json!([])), &[inside])
            .unwrap_err()
            .to_string();
        assert!(
            problem.contains("inside the account bundles' folder"),
            "{problem}"
        );
        // A single-account manifest chains nothing.
        assert!(chained_accounts(br#"{"schema_version":1,"files":[]}"#, &[])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn safe_paths_stay_inside() {
        assert!(is_safe_relative(
            "evidence/iam-password-policy/password-policy.json"
        ));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a\\b",
            "./a",
        ] {
            assert!(!is_safe_relative(bad), "{bad:?} should be refused");
        }
    }

    #[test]
    fn untrusted_text_is_escaped_to_one_inert_line() {
        assert_eq!(
            escape_untrusted("a\nb\r\t\\\u{1b}[2K\u{9b}\u{7f}\u{202e}\u{2028}é"),
            "a\\nb\\r\\t\\\\\\u{1b}[2K\\u{9b}\\u{7f}\\u{202e}\\u{2028}é"
        );
        let problem = Problem::Extra {
            path: "x\nintact: 1 files match".to_string(),
        };
        assert_eq!(problem.to_string().lines().count(), 1);
        let json = serde_json::to_string(&Report::new(
            Path::new("b\u{1b}.zip"),
            "zip",
            (vec![problem], 0),
            &Captured::default(),
            None,
        ))
        .unwrap();
        assert!(json.contains(r#""path":"x\\nintact"#), "{json}");
        assert!(json.contains(r#""bundle":"b\\u{1b}.zip""#), "{json}");
    }

    #[test]
    fn manifest_of_unknown_schema_is_refused() {
        let err = parse_manifest(br#"{"schema_version": 9, "files": []}"#).unwrap_err();
        assert!(err.to_string().contains("schema_version 9"), "{err}");
    }

    #[test]
    fn manifest_with_escaping_path_is_refused() {
        let bytes =
            br#"{"schema_version": 1, "files": [{"path": "../x", "sha256": "", "bytes": 0}]}"#;
        assert!(parse_manifest(bytes).is_err());
    }
}
