//! Writing bundle files: owner-only permissions, never overwriting, hashed as written.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// A file of the bundle as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FileRecord {
    /// Path relative to the bundle directory, `/`-separated.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    /// Records in the file (CSV data rows, JSON array items), where that means something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents, owner-only.
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// Whether `rel` is a plain `/`-separated relative path that stays inside the bundle: not
/// absolute, no `..`, `.` or empty component, no backslash or NUL. `None` when it is; else why not.
pub fn unsafe_path_reason(rel: &str) -> Option<&'static str> {
    if rel.is_empty() {
        Some("it is empty")
    } else if rel.starts_with('/') {
        Some("it is absolute")
    } else if rel.contains('\\') || rel.contains('\0') {
        Some("it holds a backslash or a NUL byte")
    } else if rel.split('/').any(|part| part == "..") {
        Some("it has a `..` component, which would leave the bundle")
    } else if rel.split('/').any(|part| part.is_empty() || part == ".") {
        Some("it has an empty or `.` component")
    } else {
        None
    }
}

/// Writes `bytes` to `root/rel` (a new file, owner-only) and returns its record. `rel` must be a
/// plain relative path inside the bundle (see [`unsafe_path_reason`]); any other is refused in
/// every build, before anything is created.
pub fn write_file(
    root: &Path,
    rel: &str,
    bytes: &[u8],
    rows: Option<u64>,
) -> Result<FileRecord, Error> {
    if let Some(reason) = unsafe_path_reason(rel) {
        return Err(Error::UnsafeBundlePath {
            path: rel.to_string(),
            reason: reason.to_string(),
        });
    }
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        create_dir_all(parent)
            .map_err(|e| conflict(root, rel).unwrap_or_else(|| Error::write(parent, e)))?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(&path)
        .map_err(|e| conflict(root, rel).unwrap_or_else(|| Error::write(&path, e)))?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::write(&path, e))?;
    Ok(FileRecord {
        path: rel.to_string(),
        sha256: sha256_hex(bytes),
        bytes: bytes.len() as u64,
        rows,
    })
}

/// Why `rel` cannot be written when the cause is the bundle's own names, not the disk: one of
/// its folders is already a file, or it already exists (as a file or a folder).
fn conflict(root: &Path, rel: &str) -> Option<Error> {
    let parts: Vec<&str> = rel.split('/').collect();
    for end in 1..parts.len() {
        let folder = parts[..end].join("/");
        if fs::symlink_metadata(root.join(&folder)).is_ok_and(|m| !m.is_dir()) {
            return Some(Error::BundlePathConflict {
                path: rel.to_string(),
                reason: format!(
                    "{folder} is already a file of the bundle, so it cannot also be the folder \
                     of {rel}: a file and a folder share a name"
                ),
            });
        }
    }
    let meta = fs::symlink_metadata(root.join(rel)).ok()?;
    let reason = if meta.is_dir() {
        format!("{rel} is already a folder of the bundle, so it cannot also be a file: a file and a folder share a name")
    } else {
        format!("{rel} was already written, and a bundle file is never overwritten: the same path is listed twice")
    };
    Some(Error::BundlePathConflict {
        path: rel.to_string(),
        reason,
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_owner_only_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let record = write_file(dir.path(), "evidence/x/a.json", b"{}\n", None).unwrap();
        assert_eq!(record.bytes, 3);
        assert_eq!(
            record.sha256,
            "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356"
        );
        let mode = fs::metadata(dir.path().join("evidence/x/a.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = fs::metadata(dir.path().join("evidence/x"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(write_file(dir.path(), "evidence/x/a.json", b"{}", None).is_err());
    }

    #[test]
    fn paths_that_are_not_plain_and_relative_are_refused_in_every_build() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir(&root).unwrap();
        for bad in [
            "",
            "/tmp/x",
            "evidence/../../x",
            "..",
            "evidence//x",
            "./x",
            "evidence\\..\\x",
            "x\0y",
        ] {
            match write_file(&root, bad, b"x", None) {
                Err(Error::UnsafeBundlePath { path, .. }) => assert_eq!(path, bad),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "nothing was written"
        );
        assert_eq!(
            fs::read_dir(&root).unwrap().count(),
            0,
            "nothing was written"
        );
    }

    #[test]
    fn a_file_and_a_folder_of_one_name_is_named_as_the_cause() {
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "evidence/a", b"x", None).unwrap();
        let err = write_file(dir.path(), "evidence/a/b", b"x", None).unwrap_err();
        assert!(matches!(err, Error::BundlePathConflict { .. }), "{err}");
        assert!(
            err.to_string().contains("a file and a folder share a name"),
            "{err}"
        );
        assert!(!err.to_string().contains("make room"), "{err}");

        write_file(dir.path(), "evidence/c/d", b"x", None).unwrap();
        let err = write_file(dir.path(), "evidence/c", b"x", None).unwrap_err();
        assert!(
            err.to_string().contains("a file and a folder share a name"),
            "{err}"
        );
    }
}
