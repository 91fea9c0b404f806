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

/// Writes `bytes` to `root/rel` (a new file, owner-only) and returns its record.
pub fn write_file(
    root: &Path,
    rel: &str,
    bytes: &[u8],
    rows: Option<u64>,
) -> Result<FileRecord, Error> {
    debug_assert!(!rel.starts_with('/') && !rel.split('/').any(|part| part == ".."));
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(&path)
        .map_err(|e| Error::write(&path, e))?;
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
}
