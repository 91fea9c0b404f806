//! `verify`: re-hashes a bundle (zip or directory) against its manifest and reports every
//! changed, missing or extra file. Nothing is extracted: zip entries are hashed as they stream.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::files::{self, FileRecord};
use super::manifest::{MANIFEST_FILE, SCHEMA_VERSION};
use super::writer::list_files;

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
    /// The manifest lists the file but the bundle lacks it.
    Missing { path: String },
    /// The bundle holds a file the manifest does not list.
    Extra { path: String },
    /// A file could not be read (a corrupt zip entry, a permission error).
    Unreadable { path: String, reason: String },
    /// The manifest itself is missing, unparseable or of an unknown schema.
    Manifest { reason: String },
    /// A zip entry that could write outside the bundle or that is not a plain file.
    UnsafeEntry { path: String, reason: String },
    /// The zip does not match its `.zip.sha256` file.
    ZipChecksum { expected: String, actual: String },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Changed {
                path,
                expected_sha256,
                actual_sha256,
            } => write!(
                f,
                "changed: {path} (manifest sha256 {expected_sha256}, found {actual_sha256})"
            ),
            Problem::Missing { path } => write!(f, "missing: {path} (listed in the manifest)"),
            Problem::Extra { path } => write!(f, "extra: {path} (not listed in the manifest)"),
            Problem::Unreadable { path, reason } => write!(f, "unreadable: {path}: {reason}"),
            Problem::Manifest { reason } => write!(f, "manifest: {reason}"),
            Problem::UnsafeEntry { path, reason } => write!(f, "unsafe entry: {path}: {reason}"),
            Problem::ZipChecksum { expected, actual } => write!(
                f,
                "zip checksum: the .zip.sha256 file says {expected}, the zip hashes to {actual}"
            ),
        }
    }
}

/// The outcome of `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub bundle: PathBuf,
    pub kind: &'static str,
    pub intact: bool,
    /// Files whose hash matched the manifest.
    pub files_verified: usize,
    pub problems: Vec<Problem>,
}

#[derive(Deserialize)]
struct ManifestView {
    schema_version: u32,
    files: Vec<FileRecord>,
}

/// Verifies the bundle at `path`: a bundle directory, or a bundle zip.
pub fn verify(path: &Path) -> std::io::Result<Report> {
    let meta = fs::metadata(path)?;
    let (kind, problems, verified) = if meta.is_dir() {
        let (p, v) = verify_dir(path);
        ("directory", p, v)
    } else {
        let (p, v) = verify_zip(path)?;
        ("zip", p, v)
    };
    Ok(Report {
        bundle: path.to_path_buf(),
        kind,
        intact: problems.is_empty(),
        files_verified: verified,
        problems,
    })
}

fn parse_manifest(bytes: &[u8]) -> Result<Vec<FileRecord>, Problem> {
    let view: ManifestView = serde_json::from_slice(bytes).map_err(|e| Problem::Manifest {
        reason: format!("{MANIFEST_FILE} is not a readable manifest: {e}"),
    })?;
    if view.schema_version != SCHEMA_VERSION {
        return Err(Problem::Manifest {
            reason: format!(
                "schema_version {} is not supported (this tool reads {SCHEMA_VERSION})",
                view.schema_version
            ),
        });
    }
    let mut seen = BTreeSet::new();
    for record in &view.files {
        if !is_safe_relative(&record.path) || record.path == MANIFEST_FILE {
            return Err(Problem::Manifest {
                reason: format!("lists an invalid path {:?}", record.path),
            });
        }
        if !seen.insert(record.path.clone()) {
            return Err(Problem::Manifest {
                reason: format!("lists {} twice", record.path),
            });
        }
    }
    Ok(view.files)
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

/// Compares what the bundle holds (path -> hash result) with what the manifest lists.
fn compare(
    listed: &[FileRecord],
    mut found: BTreeMap<String, Result<(String, u64), String>>,
    problems: &mut Vec<Problem>,
) -> usize {
    let mut verified = 0;
    for record in listed {
        match found.remove(&record.path) {
            None => problems.push(Problem::Missing {
                path: record.path.clone(),
            }),
            Some(Err(reason)) => problems.push(Problem::Unreadable {
                path: record.path.clone(),
                reason,
            }),
            Some(Ok((sha, bytes))) => {
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
    for path in found.into_keys() {
        problems.push(Problem::Extra { path });
    }
    verified
}

fn hash_reader(reader: impl Read, limit: u64) -> Result<(String, u64), String> {
    let mut hasher = Sha256::new();
    let mut limited = reader.take(limit);
    let bytes = std::io::copy(&mut limited, &mut hasher).map_err(|e| e.to_string())?;
    Ok((files::hex(&hasher.finalize()), bytes))
}

fn verify_dir(dir: &Path) -> (Vec<Problem>, usize) {
    let mut problems = Vec::new();
    let listed = match fs::read(dir.join(MANIFEST_FILE)) {
        Ok(bytes) => match parse_manifest(&bytes) {
            Ok(listed) => listed,
            Err(problem) => return (vec![problem], 0),
        },
        Err(e) => {
            return (
                vec![Problem::Manifest {
                    reason: format!("cannot read {MANIFEST_FILE}: {e}"),
                }],
                0,
            )
        }
    };
    let sizes: BTreeMap<&str, u64> = listed.iter().map(|r| (r.path.as_str(), r.bytes)).collect();
    let mut found = BTreeMap::new();
    match list_files(dir) {
        Ok(paths) => {
            for rel in paths.into_iter().filter(|p| p != MANIFEST_FILE) {
                let path = dir.join(&rel);
                let is_file = fs::symlink_metadata(&path)
                    .map(|m| m.file_type().is_file())
                    .unwrap_or(false);
                let result = if !is_file {
                    Err("not a regular file".to_string())
                } else if let Some(&size) = sizes.get(rel.as_str()) {
                    fs::File::open(&path)
                        .map_err(|e| e.to_string())
                        .and_then(|f| hash_reader(f, size.saturating_add(1)))
                } else {
                    Ok((String::new(), 0))
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

fn verify_zip(zip_path: &Path) -> std::io::Result<(Vec<Problem>, usize)> {
    let mut problems = Vec::new();
    let file = fs::File::open(zip_path)?;
    check_sidecar(zip_path, &mut problems)?;
    let mut archive = match zip::ZipArchive::new(file) {
        Ok(archive) => archive,
        Err(e) => {
            problems.push(Problem::Manifest {
                reason: format!("not a readable zip: {e}"),
            });
            return Ok((problems, 0));
        }
    };

    // Every entry must sit below one top folder, the bundle's name, and stay inside it.
    let mut top: Option<String> = None;
    let mut entries: BTreeMap<String, usize> = BTreeMap::new();
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
        let unsafe_entry = |reason: &str| Problem::UnsafeEntry {
            path: name.clone(),
            reason: reason.to_string(),
        };
        let trimmed = name.strip_suffix('/').unwrap_or(&name);
        if !is_safe_relative(trimmed) {
            problems.push(unsafe_entry(
                "absolute path, `..`, or an empty or backslash component",
            ));
            continue;
        }
        if entry.is_symlink() {
            problems.push(unsafe_entry("symbolic link"));
            continue;
        }
        let (head, rest) = match trimmed.split_once('/') {
            Some((head, rest)) => (head, Some(rest)),
            None => (trimmed, None),
        };
        match &top {
            None => top = Some(head.to_string()),
            Some(t) if t != head => {
                problems.push(unsafe_entry("outside the bundle's single top folder"));
                continue;
            }
            Some(_) => {}
        }
        if entry.is_dir() {
            continue;
        }
        let Some(rel) = rest else {
            problems.push(unsafe_entry("a file beside the bundle's top folder"));
            continue;
        };
        if entries.insert(rel.to_string(), index).is_some() {
            problems.push(unsafe_entry("duplicate entry name"));
        }
    }
    if !problems.is_empty()
        && problems
            .iter()
            .any(|p| matches!(p, Problem::UnsafeEntry { .. }))
    {
        return Ok((problems, 0));
    }

    let Some(&manifest_index) = entries.get(MANIFEST_FILE) else {
        problems.push(Problem::Manifest {
            reason: format!("the zip has no {MANIFEST_FILE} in its top folder"),
        });
        return Ok((problems, 0));
    };
    let manifest_bytes = {
        let mut buf = Vec::new();
        let read = archive
            .by_index(manifest_index)
            .map_err(std::io::Error::other)
            .and_then(|e| e.take(64 << 20).read_to_end(&mut buf));
        if let Err(e) = read {
            problems.push(Problem::Manifest {
                reason: format!("cannot read {MANIFEST_FILE}: {e}"),
            });
            return Ok((problems, 0));
        }
        buf
    };
    let listed = match parse_manifest(&manifest_bytes) {
        Ok(listed) => listed,
        Err(problem) => {
            problems.push(problem);
            return Ok((problems, 0));
        }
    };
    let sizes: BTreeMap<&str, u64> = listed.iter().map(|r| (r.path.as_str(), r.bytes)).collect();
    let mut found = BTreeMap::new();
    for (rel, index) in entries {
        if rel == MANIFEST_FILE {
            continue;
        }
        let result = match sizes.get(rel.as_str()) {
            // Read at most one byte past the declared size: a lying entry cannot inflate.
            Some(&size) => match archive.by_index(index) {
                Ok(entry) => hash_reader(entry, size.saturating_add(1)),
                Err(e) => Err(e.to_string()),
            },
            None => Ok((String::new(), 0)),
        };
        found.insert(rel, result);
    }
    let verified = compare(&listed, found, &mut problems);
    Ok((problems, verified))
}

/// Checks `<zip>.sha256`, when present beside the zip.
fn check_sidecar(zip_path: &Path, problems: &mut Vec<Problem>) -> std::io::Result<()> {
    let mut sidecar = zip_path.as_os_str().to_owned();
    sidecar.push(".sha256");
    let Ok(text) = fs::read_to_string(PathBuf::from(sidecar)) else {
        return Ok(());
    };
    let expected = text.split_whitespace().next().unwrap_or("").to_lowercase();
    let (actual, _) =
        hash_reader(fs::File::open(zip_path)?, u64::MAX).map_err(std::io::Error::other)?;
    if expected != actual {
        problems.push(Problem::ZipChecksum { expected, actual });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
