//! Zips for hostile-bundle tests: a real bundle from an in-process run against mocked AWS, and
//! zips written byte by byte (every header field in the test's hands), for `tests/hostile.rs`
//! and `tests/hostile_report.rs`.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// A real bundle, from an in-process run against mocked AWS.

/// A complete bundle (one collector) written into `out`; returns (directory, zip).
pub fn real_bundle(out: &Path) -> (PathBuf, PathBuf) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let outcome = runtime.block_on(async {
        let policy = super::mock::password_policy();
        let identity = super::mock::caller_identity();
        let clients = super::mock::clients(&[&identity, &policy]);
        let config = super::mock::config(out, &["iam-password-policy"], &["us-east-1"]);
        soc2_evidence::run::collect_with(&config, clients)
            .await
            .expect("a bundle is written")
    });
    assert_eq!(outcome.exit_code().code(), 0, "the mocked run is complete");
    (outcome.paths.directory, outcome.paths.zip)
}

/// The entries of a zip in order: (name, content); folders end with `/` and have no content.
pub fn zip_entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().to_string(), bytes)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Zips written byte by byte.

/// One zip entry exactly as it will be written.
#[derive(Clone)]
pub struct RawEntry {
    pub name: Vec<u8>,
    /// The bytes stored in the zip (compressed when `method` is 8).
    pub data: Vec<u8>,
    /// 0 stored, 8 deflated.
    pub method: u16,
    pub crc32: u32,
    /// The uncompressed size both headers declare.
    pub declared: u32,
    /// Unix mode (file type and permissions) in the external attributes; 0 for none.
    pub mode: u32,
    /// The host in the central record's "version made by" (3 Unix, 0 DOS, 16 BeOS, ...).
    pub host: u8,
    /// Whether the entry's local header and data are written (false: the central record alone).
    pub local: bool,
    /// Whether the entry has a central-directory record (false: a hidden local entry).
    pub central: bool,
    /// Where the central record says the local header is; `None`: where it was written.
    pub offset: Option<u32>,
}

impl RawEntry {
    pub fn file(name: &str, content: &[u8]) -> RawEntry {
        RawEntry {
            name: name.as_bytes().to_vec(),
            data: content.to_vec(),
            method: 0,
            crc32: crc32(content),
            declared: content.len() as u32,
            mode: 0o100_600,
            host: 3,
            local: true,
            central: true,
            offset: None,
        }
    }

    pub fn folder(name: &str) -> RawEntry {
        RawEntry {
            mode: 0o040_700,
            ..RawEntry::file(name, b"")
        }
    }

    /// The entries of a real zip, re-encoded (stored) so they can be edited.
    pub fn all_of(zip: &[u8]) -> Vec<RawEntry> {
        zip_entries(zip)
            .iter()
            .map(|(name, bytes)| {
                if name.ends_with('/') {
                    RawEntry::folder(name)
                } else {
                    RawEntry::file(name, bytes)
                }
            })
            .collect()
    }
}

pub fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
pub fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A zip of `entries` in order, made on Unix; zip64 end records when there are more than 65534.
pub fn zip_bytes(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for e in entries {
        offsets.push(e.offset.unwrap_or(out.len() as u32));
        if !e.local {
            continue;
        }
        put32(&mut out, 0x0403_4b50);
        put16(&mut out, 20);
        put16(&mut out, 0x0800); // UTF-8 names
        put16(&mut out, e.method);
        put16(&mut out, 0);
        put16(&mut out, 0x21); // 1980-01-01
        put32(&mut out, e.crc32);
        put32(&mut out, e.data.len() as u32);
        put32(&mut out, e.declared);
        put16(&mut out, e.name.len() as u16);
        put16(&mut out, 0);
        out.extend_from_slice(&e.name);
        out.extend_from_slice(&e.data);
    }
    let cd_start = out.len();
    let mut count = 0;
    for (e, offset) in entries.iter().zip(offsets) {
        if !e.central {
            continue;
        }
        count += 1;
        put32(&mut out, 0x0201_4b50);
        put16(&mut out, (u16::from(e.host) << 8) | 20); // made by Unix, unless edited
        put16(&mut out, 20);
        put16(&mut out, 0x0800);
        put16(&mut out, e.method);
        put16(&mut out, 0);
        put16(&mut out, 0x21);
        put32(&mut out, e.crc32);
        put32(&mut out, e.data.len() as u32);
        put32(&mut out, e.declared);
        put16(&mut out, e.name.len() as u16);
        put16(&mut out, 0);
        put16(&mut out, 0);
        put16(&mut out, 0);
        put16(&mut out, 0);
        put32(&mut out, e.mode << 16);
        put32(&mut out, offset);
        out.extend_from_slice(&e.name);
    }
    let cd_len = out.len() - cd_start;
    if count >= 0xffff {
        let eocd64 = out.len();
        put32(&mut out, 0x0606_4b50);
        put64(&mut out, 44);
        put16(&mut out, 45);
        put16(&mut out, 45);
        put32(&mut out, 0);
        put32(&mut out, 0);
        put64(&mut out, count as u64);
        put64(&mut out, count as u64);
        put64(&mut out, cd_len as u64);
        put64(&mut out, cd_start as u64);
        put32(&mut out, 0x0706_4b50);
        put32(&mut out, 0);
        put64(&mut out, eocd64 as u64);
        put32(&mut out, 1);
    }
    let short = count.min(0xffff) as u16;
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, short);
    put16(&mut out, short);
    put32(&mut out, cd_len as u32);
    put32(&mut out, cd_start as u32);
    put16(&mut out, 0);
    out
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A temporary tree for hostile-bundle tests: the real bundle (its top folder name, zip bytes
/// and directory) and a `bundles/inner` folder two levels below the root, so that a `../../x`
/// written by a test lands inside the tree the test compares.
pub struct Sandbox {
    pub root: tempfile::TempDir,
    pub bundles: PathBuf,
    pub name: String,
    pub zip: Vec<u8>,
    pub real_dir: PathBuf,
    _out: tempfile::TempDir,
}

impl Sandbox {
    /// A sandbox with `folders` made below its root besides `bundles/inner`.
    pub fn with_folders(folders: &[&str]) -> Sandbox {
        let out = tempfile::tempdir().unwrap();
        let (dir, zip) = real_bundle(out.path());
        let root = tempfile::tempdir().unwrap();
        for sub in folders.iter().copied().chain(["bundles/inner"]) {
            std::fs::create_dir_all(root.path().join(sub)).unwrap();
        }
        Sandbox {
            bundles: root.path().join("bundles/inner"),
            root,
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            zip: std::fs::read(zip).unwrap(),
            real_dir: dir,
            _out: out,
        }
    }

    /// Writes `bytes` as a zip in the sandbox.
    pub fn zip_file(&self, file: &str, bytes: &[u8]) -> PathBuf {
        let path = self.bundles.join(file);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// A copy of the real bundle directory in the sandbox.
    pub fn dir_copy(&self, name: &str) -> PathBuf {
        let to = self.bundles.join(name);
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(&self.real_dir)
            .arg(&to)
            .status()
            .unwrap();
        assert!(status.success());
        to
    }
}
