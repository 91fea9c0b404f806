//! `verify` against hostile bundles: edited manifests, zip entries that would escape the bundle,
//! links, duplicate names, zip bombs, broken files. Each is refused with a clear reason and exit
//! status 1, quickly and within a memory limit, and `verify` writes nothing: every test runs the
//! binary inside a sandbox tree (its bundle, working directory, TMPDIR and HOME) whose every
//! entry is compared before and after.
//!
//! Hostile zips are written byte by byte here ([`RawEntry`], [`zip_bytes`]) because the zip crate
//! refuses to write most of them. The real bundle they start from comes from an in-process run
//! against mocked AWS (no emulator needed).

mod common;

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::zipkit::{real_bundle, zip_bytes, zip_entries, RawEntry, Sandbox};
use common::{binary, sha256_hex, text};
use soc2_evidence::bundle::verify::{
    parse_manifest, verify_zip_reader, MAX_ENTRIES, MAX_MANIFEST_BYTES,
};

const POLICY: &str = "evidence/iam-password-policy/password-policy.json";
const GIB: u64 = 1 << 30;
/// Far more than any hostile case needs when handled right, far less than reading 1 GiB takes.
const TIME_LIMIT: Duration = Duration::from_secs(20);
/// The address-space limit `verify` runs under in the zip bomb tests: a bomb held in memory
/// (1 GiB) or a manifest read without its bound would not fit.
const MEMORY_LIMIT_KIB: u64 = 512 * 1024;

/// A raw deflate stream that inflates to `len` copies of `byte` (< 144): one fixed-Huffman
/// block of a literal and then matches of 258 bytes at distance 1, 13 bits each, so 1 GiB takes
/// about 6.6 MB. This is what a zip bomb entry holds.
fn deflate_repeated(byte: u8, len: u64) -> Vec<u8> {
    assert!(byte < 144 && len >= 1);
    let mut w = BitWriter::default();
    w.bits(1, 1); // final block
    w.bits(1, 2); // fixed Huffman codes
    w.code(0x30 + u32::from(byte), 8);
    let mut left = len - 1;
    while left >= 258 {
        w.code(0b1100_0101, 8); // length symbol 285: 258 bytes
        w.code(0, 5); // distance symbol 0: distance 1
        left -= 258;
    }
    for _ in 0..left {
        w.code(0x30 + u32::from(byte), 8);
    }
    w.code(0, 7); // end of block
    w.finish()
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    /// `n` bits of `value`, least significant first (deflate's header fields).
    fn bits(&mut self, value: u32, n: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code of `n` bits, most significant first.
    fn code(&mut self, code: u32, n: u32) {
        self.bits(code.reverse_bits() >> (32 - n), n);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A deflated entry inflating to `len` bytes of `byte` that declares `declared` bytes.
fn bomb(name: &str, byte: u8, len: u64, declared: u32) -> RawEntry {
    RawEntry {
        name: name.as_bytes().to_vec(),
        data: deflate_repeated(byte, len),
        method: 8,
        crc32: 0,
        declared,
        mode: 0o100_600,
        host: 3,
        local: true,
        central: true,
        offset: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The sandbox: everything `verify` could touch, compared before and after.

/// What one `verify` run printed.
struct Verified {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox::with_folders(&["cwd", "tmp", "home"])
    }

    /// The real zip's entries, re-encoded, with the manifest's JSON replaced by `edit`'s.
    fn entries_with_manifest(&self, edit: impl Fn(&mut serde_json::Value)) -> Vec<RawEntry> {
        let manifest_name = format!("{}/manifest.json", self.name);
        zip_entries(&self.zip)
            .into_iter()
            .map(|(name, bytes)| {
                if name == manifest_name {
                    let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    edit(&mut json);
                    RawEntry::file(&name, &serde_json::to_vec_pretty(&json).unwrap())
                } else if name.ends_with('/') {
                    RawEntry::folder(&name)
                } else {
                    RawEntry::file(&name, &bytes)
                }
            })
            .collect()
    }

    fn manifest(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.real_dir.join("manifest.json")).unwrap())
            .unwrap()
    }

    /// Every entry below the root: kind, size, modification time, content hash, link target.
    fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut seen = BTreeMap::new();
        let mut stack = vec![self.root.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                let kind = meta.file_type();
                let detail = if kind.is_dir() {
                    stack.push(path.clone());
                    "dir".to_string()
                } else if kind.is_symlink() {
                    format!("link -> {}", std::fs::read_link(&path).unwrap().display())
                } else if kind.is_file() {
                    format!("file {}", sha256_hex(&std::fs::read(&path).unwrap()))
                } else {
                    "special".to_string()
                };
                let modified = meta.modified().unwrap();
                seen.insert(
                    path,
                    format!("{detail} {} bytes, modified {modified:?}", meta.len()),
                );
            }
        }
        seen
    }

    /// Runs `verify ARGS TARGET` inside the sandbox, bounded in time and (optionally) address
    /// space, and asserts that nothing in the sandbox changed.
    fn verify(&self, target: &Path, args: &[&str], memory_kib: Option<u64>) -> Verified {
        let before = self.snapshot();
        let mut cmd = match memory_kib {
            Some(kib) => {
                let mut sh = Command::new("bash");
                sh.arg("-c")
                    .arg(format!("ulimit -v {kib} && exec \"$@\""))
                    .arg("verify-under-ulimit")
                    .arg(env!("CARGO_BIN_EXE_soc2-evidence"));
                sh
            }
            None => binary(),
        };
        if memory_kib.is_some() {
            cmd.env("AWS_EC2_METADATA_DISABLED", "true")
                .stdin(Stdio::null());
        }
        cmd.arg("verify")
            .args(args)
            .arg(target)
            .current_dir(self.root.path().join("cwd"))
            .env("TMPDIR", self.root.path().join("tmp"))
            .env("HOME", self.root.path().join("home"));
        let out = run_bounded(&mut cmd, TIME_LIMIT);
        let after = self.snapshot();
        assert_eq!(
            before, after,
            "verify changed the sandbox around the bundle"
        );
        out
    }
}

/// Runs `cmd` and kills it (by its process id) when it outlives `limit`.
fn run_bounded(cmd: &mut Command, limit: Duration) -> Verified {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("verify did not finish within {limit:?}: it must refuse hostile input fast");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Verified {
        code: status.code(),
        stdout: text(&out.join().unwrap()),
        stderr: text(&err.join().unwrap()),
    }
}

/// Asserts that `verify` refused with exit status 1 and printed `reason`.
fn assert_refused(out: &Verified, reason: &str) {
    let both = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(out.code, Some(1), "verify must exit 1; it printed:\n{both}");
    assert!(
        both.contains(reason),
        "expected {reason:?} in what verify printed:\n{both}"
    );
    assert!(
        out.stdout.contains("NOT INTACT") || out.stderr.contains("error: cannot read the bundle"),
        "{both}"
    );
}

// ---------------------------------------------------------------------------------------------
// The baseline: the harness itself accepts a real bundle.

#[test]
fn a_real_bundle_verifies_intact_in_both_forms_and_is_left_unchanged() {
    let sandbox = Sandbox::new();
    let zip = sandbox.zip_file("bundle.zip", &sandbox.zip);
    let dir = sandbox.dir_copy("bundle");
    for target in [&zip, &dir] {
        let out = sandbox.verify(target, &[], None);
        assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("intact: "), "{}", out.stdout);
    }
    // The re-encoded entries (as every hostile zip below is written) are a valid bundle too,
    // so each refusal below is caused by its one edit.
    let rebuilt = sandbox.zip_file("rebuilt.zip", &zip_bytes(&RawEntry::all_of(&sandbox.zip)));
    let out = sandbox.verify(&rebuilt, &[], Some(MEMORY_LIMIT_KIB));
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
}

// ---------------------------------------------------------------------------------------------
// Edited manifests.

#[test]
fn a_manifest_with_a_changed_hash_is_refused_in_both_forms() {
    let sandbox = Sandbox::new();
    let edit = |m: &mut serde_json::Value| {
        for f in m["files"].as_array_mut().unwrap() {
            if f["path"] == POLICY {
                f["sha256"] = "0".repeat(64).into();
            }
        }
    };
    let zip = sandbox.zip_file("hash.zip", &zip_bytes(&sandbox.entries_with_manifest(edit)));
    let out = sandbox.verify(&zip, &[], None);
    assert_refused(
        &out,
        &format!("changed: {POLICY} (manifest sha256 {}", "0".repeat(64)),
    );

    let dir = sandbox.dir_copy("hash");
    let mut manifest = sandbox.manifest();
    edit(&mut manifest);
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    assert_refused(
        &sandbox.verify(&dir, &[], None),
        &format!("changed: {POLICY}"),
    );
}

#[test]
fn a_manifest_with_a_file_entry_removed_reports_the_file_as_extra() {
    let sandbox = Sandbox::new();
    let zip = sandbox.zip_file(
        "removed.zip",
        &zip_bytes(&sandbox.entries_with_manifest(|m| {
            m["files"]
                .as_array_mut()
                .unwrap()
                .retain(|f| f["path"] != POLICY);
        })),
    );
    assert_refused(
        &sandbox.verify(&zip, &[], None),
        &format!("extra: {POLICY} (not listed in the manifest)"),
    );
}

#[test]
fn a_manifest_of_another_schema_version_is_refused() {
    let sandbox = Sandbox::new();
    let zip = sandbox.zip_file(
        "schema.zip",
        &zip_bytes(&sandbox.entries_with_manifest(|m| m["schema_version"] = 2.into())),
    );
    assert_refused(
        &sandbox.verify(&zip, &[], None),
        "manifest: schema_version 2 is not supported (this tool reads 1)",
    );
    let zip = sandbox.zip_file(
        "schema-text.zip",
        &zip_bytes(&sandbox.entries_with_manifest(|m| m["schema_version"] = "1".into())),
    );
    assert_refused(
        &sandbox.verify(&zip, &[], None),
        "manifest: manifest.json is not a readable manifest",
    );
}

#[test]
fn a_manifest_listing_escaping_or_absolute_paths_is_refused_before_anything_is_read() {
    let sandbox = Sandbox::new();
    for (i, bad) in [
        "../../escape.txt",
        "evidence/../../../escape.txt",
        "/etc/passwd",
        "evidence\\..\\..\\escape.txt",
        "./manifest.json",
        "manifest.json",
    ]
    .into_iter()
    .enumerate()
    {
        let edit = |m: &mut serde_json::Value| {
            m["files"].as_array_mut().unwrap().push(serde_json::json!({
                "path": bad, "sha256": "0".repeat(64), "bytes": 1
            }));
        };
        let zip = sandbox.zip_file(
            &format!("paths-{i}.zip"),
            &zip_bytes(&sandbox.entries_with_manifest(edit)),
        );
        let out = sandbox.verify(&zip, &[], None);
        assert_refused(&out, "manifest: lists an unsafe path");
        assert!(out.stdout.contains(&format!("{bad:?}")), "{}", out.stdout);

        let dir = sandbox.dir_copy(&format!("paths-{i}"));
        let mut manifest = sandbox.manifest();
        edit(&mut manifest);
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
        assert_refused(
            &sandbox.verify(&dir, &[], None),
            "manifest: lists an unsafe path",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Zip entries that could escape the bundle or are not plain files.

/// The real bundle's entries plus `extra`, which verify must refuse with `reason`, naming it.
fn refuses_extra_entry(sandbox: &Sandbox, file: &str, extra: RawEntry, reason: &str) -> Verified {
    // As verify shows names: a backslash doubled (control characters are not in these names).
    let shown = String::from_utf8_lossy(&extra.name).replace('\\', "\\\\");
    let mut entries = RawEntry::all_of(&sandbox.zip);
    entries.push(extra);
    let zip = sandbox.zip_file(file, &zip_bytes(&entries));
    let out = sandbox.verify(&zip, &[], None);
    assert_refused(&out, &format!("unsafe entry: {shown}: {reason}"));
    assert!(
        out.stdout.contains("0 files matched"),
        "nothing is read: {}",
        out.stdout
    );
    out
}

#[test]
fn entries_with_dot_dot_absolute_or_backslash_paths_are_refused_and_nothing_is_written() {
    let sandbox = Sandbox::new();
    let top = &sandbox.name;
    let absolute = std::env::temp_dir().join(format!(
        "soc2-evidence-hostile-{}-absolute.txt",
        std::process::id()
    ));
    let escaping = "absolute path, `..` or `.`";
    for (file, name) in [
        ("dotdot.zip", format!("{top}/../../escape.txt")),
        (
            "dotdot-deep.zip",
            format!("{top}/evidence/../../../escape.txt"),
        ),
        ("leading-dotdot.zip", "../escape.txt".to_string()),
        ("absolute.zip", absolute.display().to_string()),
        ("backslash.zip", format!("{top}\\..\\..\\escape.txt")),
        ("dot.zip", format!("{top}/./evidence/x.json")),
        ("empty-component.zip", format!("{top}//x.json")),
    ] {
        refuses_extra_entry(&sandbox, file, RawEntry::file(&name, b"pwned"), escaping);
    }
    assert!(!absolute.exists(), "{} was written", absolute.display());
    assert!(!sandbox.root.path().join("bundles/escape.txt").exists());
    assert!(!sandbox.root.path().join("escape.txt").exists());
}

#[test]
fn symbolic_links_devices_and_fifos_in_a_zip_are_refused() {
    let sandbox = Sandbox::new();
    let top = &sandbox.name;
    let link = |name: &str, target: &str| RawEntry {
        mode: 0o120_777,
        ..RawEntry::file(name, target.as_bytes())
    };
    refuses_extra_entry(
        &sandbox,
        "link.zip",
        link(&format!("{top}/evidence/passwd.json"), "/etc/passwd"),
        "symbolic link",
    );
    refuses_extra_entry(
        &sandbox,
        "link-dir.zip",
        link(&format!("{top}/evidence/up"), "../../.."),
        "symbolic link",
    );
    // A link in place of a listed evidence file, not an extra one.
    let mut entries = RawEntry::all_of(&sandbox.zip);
    let policy = format!("{top}/{POLICY}");
    for e in &mut entries {
        if e.name == policy.as_bytes() {
            e.mode = 0o120_777;
        }
    }
    let zip = sandbox.zip_file("link-listed.zip", &zip_bytes(&entries));
    assert_refused(
        &sandbox.verify(&zip, &[], None),
        &format!("unsafe entry: {policy}: symbolic link"),
    );
    for (file, mode) in [("fifo.zip", 0o010_600), ("device.zip", 0o060_600)] {
        refuses_extra_entry(
            &sandbox,
            file,
            RawEntry {
                mode,
                ..RawEntry::file(&format!("{top}/evidence/special"), b"")
            },
            "not a regular file or folder",
        );
    }
}

#[test]
fn duplicate_entry_names_are_refused_even_though_the_zip_crate_keeps_one() {
    let sandbox = Sandbox::new();
    let policy = format!("{}/{POLICY}", sandbox.name);
    // The genuine entry first and a forged one of the same name after it: a reader that keeps
    // the last copy and an unzip tool that keeps the first would see different evidence.
    let mut entries = RawEntry::all_of(&sandbox.zip);
    entries.push(RawEntry::file(&policy, b"{\"MinimumPasswordLength\": 6}"));
    let zip = sandbox.zip_file("duplicate.zip", &zip_bytes(&entries));
    let out = sandbox.verify(&zip, &[], None);
    assert_refused(
        &out,
        &format!("unsafe entry: {policy}: duplicate entry name"),
    );

    // The same, with the forged copy first.
    let mut entries = RawEntry::all_of(&sandbox.zip);
    entries.insert(
        1,
        RawEntry::file(&policy, b"{\"MinimumPasswordLength\": 6}"),
    );
    let zip = sandbox.zip_file("duplicate-first.zip", &zip_bytes(&entries));
    assert_refused(
        &sandbox.verify(&zip, &[], None),
        &format!("unsafe entry: {policy}: duplicate entry name"),
    );

    // A duplicated manifest.json, which could otherwise swap the list of hashes itself.
    let mut entries = RawEntry::all_of(&sandbox.zip);
    let manifest = format!("{}/manifest.json", sandbox.name);
    entries.push(RawEntry::file(
        &manifest,
        b"{\"schema_version\": 1, \"files\": []}",
    ));
    let zip = sandbox.zip_file("duplicate-manifest.zip", &zip_bytes(&entries));
    assert_refused(
        &sandbox.verify(&zip, &[], None),
        &format!("unsafe entry: {manifest}: duplicate entry name"),
    );
}

#[test]
fn entries_outside_the_single_top_folder_are_refused() {
    let sandbox = Sandbox::new();
    refuses_extra_entry(
        &sandbox,
        "other-top.zip",
        RawEntry::file("another-folder/evidence.json", b"{}"),
        "outside the bundle's single top folder",
    );
    refuses_extra_entry(
        &sandbox,
        "other-top-dir.zip",
        RawEntry::folder("another-folder/"),
        "outside the bundle's single top folder",
    );
    // A file named like the top folder, beside it rather than in it.
    let mut entries = vec![RawEntry::file(&sandbox.name, b"{}")];
    entries.extend(RawEntry::all_of(&sandbox.zip));
    let zip = sandbox.zip_file("beside.zip", &zip_bytes(&entries));
    assert_refused(
        &sandbox.verify(&zip, &[], None),
        "a file beside the bundle's top folder",
    );
}

#[test]
fn more_entries_than_a_bundle_may_have_are_refused_unread() {
    let sandbox = Sandbox::new();
    let top = &sandbox.name;
    let mut entries = RawEntry::all_of(&sandbox.zip);
    let filler: Vec<RawEntry> = (0..MAX_ENTRIES)
        .map(|i| RawEntry::file(&format!("{top}/f/{i:06}"), b""))
        .collect();
    entries.extend(filler);
    let zip = sandbox.zip_file("many.zip", &zip_bytes(&entries));
    let out = sandbox.verify(&zip, &["--json"], Some(MEMORY_LIMIT_KIB));
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["problems"][0]["problem"], "limit");
    let reason = report["problems"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("more than the {MAX_ENTRIES} a bundle may have")),
        "{reason}"
    );
}

// ---------------------------------------------------------------------------------------------
// Zips that two conforming unzip tools could extract as two different trees.

/// Where `name`'s local header starts in `zip` (the first copy of a name is in its header).
fn local_header(zip: &[u8], name: &str) -> usize {
    let at = zip
        .windows(name.len())
        .position(|w| w == name.as_bytes())
        .expect("the name is in the zip")
        - 30;
    assert_eq!(
        zip[at..at + 4],
        [0x50, 0x4b, 3, 4],
        "{name} has a local header"
    );
    at
}

/// The bytes `entry`'s local header and data take.
fn local_len(entry: &RawEntry) -> usize {
    30 + entry.name.len() + entry.data.len()
}

#[test]
fn links_recorded_by_non_unix_hosts_are_refused() {
    let sandbox = Sandbox::new();
    let top = &sandbox.name;
    // The zip crate reads Unix modes only from DOS and Unix hosts; unzip honours them from
    // BeOS (16), Atari (5), OS X (19) and others too, and makes the link.
    for host in [16u8, 5, 30, 19, 0] {
        let link = RawEntry {
            mode: 0o120_777,
            host,
            ..RawEntry::file(&format!("{top}/evidence/link"), b"../../../../outside")
        };
        refuses_extra_entry(&sandbox, &format!("link-{host}.zip"), link, "symbolic link");
    }
    // In place of a listed evidence file, with its true bytes: nothing else is wrong with it.
    let policy = format!("{top}/{POLICY}");
    let mut entries = RawEntry::all_of(&sandbox.zip);
    for e in &mut entries {
        if e.name == policy.as_bytes() {
            e.mode = 0o120_777;
            e.host = 16;
        }
    }
    let zip = sandbox.zip_file("link-listed-16.zip", &zip_bytes(&entries));
    assert_refused(
        &sandbox.verify(&zip, &[], None),
        &format!("unsafe entry: {policy}: symbolic link"),
    );
    refuses_extra_entry(
        &sandbox,
        "fifo-16.zip",
        RawEntry {
            mode: 0o010_600,
            host: 16,
            ..RawEntry::file(&format!("{top}/evidence/fifo"), b"")
        },
        "not a regular file or folder",
    );
}

#[test]
fn local_headers_that_disagree_with_their_central_record_are_refused() {
    let sandbox = Sandbox::new();
    let policy = format!("{}/{POLICY}", sandbox.name);
    let good = zip_bytes(&RawEntry::all_of(&sandbox.zip));
    let at = local_header(&good, &policy);
    let size = listed_size(&sandbox, POLICY) as u32;
    // (zip, field offset in the local header, its new bytes, what the message names)
    let cases: Vec<(&str, usize, Vec<u8>, &str)> = vec![
        (
            "local-name.zip",
            30 + policy.len() - 6,
            b"X".to_vec(),
            "name",
        ),
        (
            "local-size.zip",
            22,
            (size + 1).to_le_bytes().to_vec(),
            "size",
        ),
        (
            "local-compressed.zip",
            18,
            (size - 1).to_le_bytes().to_vec(),
            "compressed size",
        ),
        ("local-crc.zip", 14, 0u32.to_le_bytes().to_vec(), "CRC-32"),
        ("local-method.zip", 8, 8u16.to_le_bytes().to_vec(), "method"),
        (
            "local-flags.zip",
            6,
            0x0808u16.to_le_bytes().to_vec(),
            "flags",
        ),
    ];
    for (file, field, bytes, what) in cases {
        let mut zip = good.clone();
        zip[at + field..at + field + bytes.len()].copy_from_slice(&bytes);
        let out = sandbox.verify(&sandbox.zip_file(file, &zip), &[], None);
        assert_refused(
            &out,
            &format!("unsafe entry: {policy}: its local header's {what} ("),
        );
        assert!(out.stdout.contains("0 files matched"), "{}", out.stdout);
    }
}

#[test]
fn data_before_between_over_or_after_the_entries_is_refused() {
    let sandbox = Sandbox::new();
    let top = &sandbox.name;
    let entries = RawEntry::all_of(&sandbox.zip);
    let good = zip_bytes(&entries);
    let hidden = RawEntry {
        central: false,
        ..RawEntry::file(
            &format!("{top}/evidence/hidden.json"),
            b"{\"forged\": true}",
        )
    };
    let with_hidden = |index: usize| {
        let mut all = entries.clone();
        all.insert(index, hidden.clone());
        zip_bytes(&all)
    };
    // A stub before the zip, offsets as written (the zip crate finds the zip all the same);
    // a second complete bundle appended (tools differ on which copy they read); junk appended.
    let mut stub = b"#!/bin/sh\necho this is not evidence\n".to_vec();
    stub.extend_from_slice(&good);
    let doubled = [good.clone(), good.clone()].concat();
    let junk = [good.clone(), b"trailing junk".to_vec()].concat();
    // Two names for the same bytes: an entry whose local header lies inside another's data.
    let inner = RawEntry::file(&format!("{top}/evidence/inner.json"), b"{}");
    let inner_local = zip_bytes(std::slice::from_ref(&inner))[..local_len(&inner)].to_vec();
    let outer = RawEntry::file(&format!("{top}/evidence/outer.json"), &inner_local);
    let outer_at: usize = entries.iter().map(local_len).sum();
    let pointing = RawEntry {
        local: false,
        offset: Some((outer_at + 30 + outer.name.len()) as u32),
        ..inner.clone()
    };
    let overlapping = zip_bytes(&[entries.clone(), vec![outer, pointing]].concat());
    let first = String::from_utf8_lossy(&entries[0].name).into_owned();
    let second = String::from_utf8_lossy(&entries[1].name).into_owned();
    let last = String::from_utf8_lossy(&entries.last().unwrap().name).into_owned();
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "stub.zip",
            stub,
            "bytes of data before the zip's first entry (a prepended stub".to_string(),
        ),
        (
            "doubled.zip",
            doubled,
            format!(
                "{} bytes after the end-of-central-directory record (an appended zip",
                good.len()
            ),
        ),
        (
            "junk.zip",
            junk,
            "13 bytes after the end-of-central-directory record".to_string(),
        ),
        (
            "hidden-first.zip",
            with_hidden(0),
            format!("unsafe entry: {first}: {} bytes before the first entry that no central-directory record points to", local_len(&hidden)),
        ),
        (
            "hidden-between.zip",
            with_hidden(2),
            format!("bytes between it and the entry before, {second}, that no central-directory record points to"),
        ),
        (
            "hidden-last.zip",
            with_hidden(entries.len()),
            format!("unsafe entry: {last}: {} bytes between the last entry and the central directory", local_len(&hidden)),
        ),
        (
            "overlapping.zip",
            overlapping,
            format!("unsafe entry: {top}/evidence/inner.json: overlaps the entry {top}/evidence/outer.json"),
        ),
    ];
    for (file, bytes, reason) in cases {
        let out = sandbox.verify(&sandbox.zip_file(file, &bytes), &[], None);
        assert_refused(&out, &reason);
        // The same through the library, as `report` reads it.
        let report = verify_zip_reader(Cursor::new(&bytes), Path::new(file));
        assert!(!report.intact, "{file}");
    }
}

#[test]
fn names_equal_after_unicode_normalisation_or_case_folding_are_refused() {
    let sandbox = Sandbox::new();
    let top = &sandbox.name;
    let content = b"{}";
    // Both names present and listed with their true hashes: nothing else is wrong.
    let pairs = [
        (
            POLICY.to_string(),
            POLICY.replace("password-policy.json", "Password-Policy.JSON"),
        ),
        (
            "evidence/caf\u{e9}.json".to_string(),
            "evidence/cafe\u{301}.json".to_string(),
        ),
    ];
    for (i, (first, second)) in pairs.iter().enumerate() {
        let added: Vec<&String> = [first, second]
            .into_iter()
            .filter(|p| *p != POLICY)
            .collect();
        let mut entries = sandbox.entries_with_manifest(|m| {
            for path in &added {
                m["files"].as_array_mut().unwrap().push(serde_json::json!({
                    "path": path, "sha256": sha256_hex(content), "bytes": content.len()
                }));
            }
        });
        for path in &added {
            entries.push(RawEntry::file(&format!("{top}/{path}"), content));
        }
        let zip = sandbox.zip_file(&format!("fold-{i}.zip"), &zip_bytes(&entries));
        assert_refused(
            &sandbox.verify(&zip, &[], None),
            &format!(
                "unsafe entry: {top}/{second}: the same file as {top}/{first} on \
                 case-insensitive or Unicode-normalising file systems"
            ),
        );

        // A directory bundle holding both (Linux keeps them apart), both listed.
        let dir = sandbox.dir_copy(&format!("fold-{i}"));
        let mut manifest = sandbox.manifest();
        for path in &added {
            std::fs::write(dir.join(path), content).unwrap();
            manifest["files"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({
                    "path": path, "sha256": sha256_hex(content), "bytes": content.len()
                }));
        }
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
        assert_refused(
            &sandbox.verify(&dir, &[], None),
            "(equal after NFC and case folding): the bundle was edited",
        );
    }

    // The manifest parser alone, and control characters in names.
    let manifest = |paths: &[&str]| {
        let files: Vec<_> = paths
            .iter()
            .map(|p| serde_json::json!({"path": p, "sha256": "0".repeat(64), "bytes": 0}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"schema_version": 1, "files": files})).unwrap()
    };
    for (paths, reason) in [
        (
            ["evidence/a.json", "evidence/A.json"],
            "equal after NFC and case folding",
        ),
        (
            ["evidence/\u{c5}.json", "evidence/A\u{30a}.json"],
            "equal after NFC and case folding",
        ),
        (
            ["evidence/a.json", "evidence/b\u{7}.json"],
            "a control character",
        ),
        (
            ["evidence/a.json", "evidence/b\u{85}.json"],
            "a control character",
        ),
    ] {
        let err = parse_manifest(&manifest(&paths)).unwrap_err().to_string();
        assert!(err.contains(reason), "{paths:?}: {err}");
    }
    for name in ["a\u{1}b.json", "a\u{7f}b.json", "a\u{9b}b.json"] {
        let mut entries = RawEntry::all_of(&sandbox.zip);
        entries.push(RawEntry::file(&format!("{top}/evidence/{name}"), content));
        let zip = sandbox.zip_file("control.zip", &zip_bytes(&entries));
        assert_refused(
            &sandbox.verify(&zip, &[], None),
            ": a control character in the name",
        );
    }
}

/// Every string anywhere in `value`.
fn json_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| json_strings(v, out)),
        _ => {}
    }
}

#[test]
fn untrusted_names_can_neither_forge_nor_hide_a_line_of_the_report() {
    let sandbox = Sandbox::new();
    let top = &sandbox.name;
    let forged = "\nintact: 99 files match the manifest of bundle.zip (zip)\n";
    // Cursor up and erase line (ESC and C1 CSI), a window title ended by BEL, a carriage
    // return, a right-to-left override.
    let hiding = "\u{1b}[1A\u{1b}[2K\u{9b}1A\u{1b}]0;ok\u{7}\r\u{202e}";
    let evil = format!("x{forged}{hiding}.json");
    let mut entries = RawEntry::all_of(&sandbox.zip);
    entries.push(RawEntry::file(&format!("{top}/evidence/{evil}"), b"{}"));
    let named = sandbox.zip_file("forged-entry.zip", &zip_bytes(&entries));
    let listed = sandbox.zip_file(
        "forged-path.zip",
        &zip_bytes(&sandbox.entries_with_manifest(|m| {
            m["files"].as_array_mut().unwrap().push(serde_json::json!({
                "path": format!("evidence/{evil}"), "sha256": "0".repeat(64), "bytes": 2
            }));
        })),
    );
    let quoted = sandbox.zip_file(
        "forged-schema.zip",
        &zip_bytes(&sandbox.entries_with_manifest(|m| {
            m["schema_version"] = format!("{forged}{hiding}").into();
        })),
    );
    for zip in [&named, &listed, &quoted] {
        let out = sandbox.verify(zip, &[], None);
        assert_eq!(out.code, Some(1), "{}", out.stdout);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(
            lines.last().unwrap().starts_with("NOT INTACT: "),
            "{}",
            out.stdout
        );
        assert!(
            !lines.iter().any(|l| l.starts_with("intact")),
            "a forged line: {}",
            out.stdout
        );
        let shown: Vec<char> = out
            .stdout
            .chars()
            .filter(|c| *c != '\n' && (c.is_control() || *c == '\u{202e}'))
            .collect();
        assert!(shown.is_empty(), "raw {shown:?} in {:?}", out.stdout);
        assert!(out.stdout.contains("\\n"), "{}", out.stdout);
        if zip != &quoted {
            assert!(
                out.stdout.contains("\\u{1b}[1A\\u{1b}[2K\\u{9b}1A"),
                "{}",
                out.stdout
            );
        }

        let out = sandbox.verify(zip, &["--json"], None);
        let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let mut strings = Vec::new();
        json_strings(&report, &mut strings);
        for s in strings {
            assert!(
                !s.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{s:?} in {}",
                out.stdout
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Zip bombs: declared sizes far from the real ones, entries that inflate hugely.

/// The real bundle with the password policy entry replaced by `entry` (same name).
fn with_policy_entry(sandbox: &Sandbox, entry: RawEntry) -> Vec<u8> {
    let policy = format!("{}/{POLICY}", sandbox.name);
    let mut entries = RawEntry::all_of(&sandbox.zip);
    for e in &mut entries {
        if e.name == policy.as_bytes() {
            *e = RawEntry {
                name: e.name.clone(),
                ..entry.clone()
            };
        }
    }
    zip_bytes(&entries)
}

fn listed_size(sandbox: &Sandbox, path: &str) -> u64 {
    common::find_by(&sandbox.manifest()["files"], "path", path)["bytes"]
        .as_u64()
        .unwrap()
}

#[test]
fn an_entry_that_inflates_to_a_gibibyte_while_declaring_its_listed_size_is_read_no_further() {
    let sandbox = Sandbox::new();
    let size = listed_size(&sandbox, POLICY);
    let entry = bomb("x", b'{', GIB, size as u32);
    assert!(
        entry.data.len() < 8 << 20,
        "the bomb is small: {}",
        entry.data.len()
    );
    let zip = sandbox.zip_file("bomb.zip", &with_policy_entry(&sandbox, entry));
    let started = Instant::now();
    let out = sandbox.verify(&zip, &[], Some(MEMORY_LIMIT_KIB));
    // Only size + 1 bytes are read: the hash differs, and that is known in moments.
    assert_refused(&out, &format!("changed: {POLICY} (manifest sha256"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_entry_declaring_a_gibibyte_against_a_small_listed_size_is_refused_unread() {
    let sandbox = Sandbox::new();
    let size = listed_size(&sandbox, POLICY);
    let zip = sandbox.zip_file(
        "bomb-declared.zip",
        &with_policy_entry(&sandbox, bomb("x", b'{', GIB, GIB as u32 - 1)),
    );
    let out = sandbox.verify(&zip, &["--json"], Some(MEMORY_LIMIT_KIB));
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        report["problems"],
        serde_json::json!([{
            "problem": "size-mismatch",
            "path": POLICY,
            "expected_bytes": size,
            "declared_bytes": GIB - 1,
        }])
    );
    let out = sandbox.verify(&zip, &[], Some(MEMORY_LIMIT_KIB));
    assert_refused(
        &out,
        &format!(
            "changed: {POLICY} (the manifest lists {size} bytes, the zip entry declares {}; \
             not read)",
            GIB - 1
        ),
    );

    // Sizes declared far beyond the real content, agreeing with an edited manifest: the entry
    // ends long before, and the shortfall is reported as a change.
    let mut entries = sandbox.entries_with_manifest(|m| {
        for f in m["files"].as_array_mut().unwrap() {
            if f["path"] == POLICY {
                f["bytes"] = (GIB - 1).into();
            }
        }
    });
    let policy = format!("{}/{POLICY}", sandbox.name);
    for e in &mut entries {
        if e.name == policy.as_bytes() {
            e.declared = GIB as u32 - 1;
        }
    }
    let zip = sandbox.zip_file("declared-large.zip", &zip_bytes(&entries));
    let out = sandbox.verify(&zip, &[], Some(MEMORY_LIMIT_KIB));
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!("{POLICY}: "))
            || out.stdout.contains(&format!("changed: {POLICY}")),
        "{}",
        out.stdout
    );
}

#[test]
fn a_manifest_that_inflates_or_declares_past_its_limit_is_refused() {
    let sandbox = Sandbox::new();
    let manifest = format!("{}/manifest.json", sandbox.name);
    let replace_manifest = |entry: RawEntry| {
        let mut entries = RawEntry::all_of(&sandbox.zip);
        for e in &mut entries {
            if e.name == manifest.as_bytes() {
                *e = entry.clone();
            }
        }
        zip_bytes(&entries)
    };
    // 1 GiB of spaces declaring 100 bytes: read up to the limit + 1 byte, then refused.
    let zip = sandbox.zip_file(
        "manifest-bomb.zip",
        &replace_manifest(bomb(&manifest, b' ', GIB, 100)),
    );
    let out = sandbox.verify(&zip, &[], Some(MEMORY_LIMIT_KIB));
    assert_refused(
        &out,
        &format!(
            "limit: manifest.json is {} bytes, more than the {MAX_MANIFEST_BYTES} a manifest may have",
            MAX_MANIFEST_BYTES + 1
        ),
    );
    // A manifest declaring 1 GiB: refused from the central directory alone.
    let zip = sandbox.zip_file(
        "manifest-declared.zip",
        &replace_manifest(bomb(&manifest, b' ', 1000, GIB as u32)),
    );
    assert_refused(
        &sandbox.verify(&zip, &[], Some(MEMORY_LIMIT_KIB)),
        &format!("limit: manifest.json is {GIB} bytes"),
    );
}

// ---------------------------------------------------------------------------------------------
// Directory bundles: links and special files are never followed or opened.

#[test]
fn a_directory_bundle_with_links_pointing_outside_is_refused_without_following_them() {
    use std::os::unix::fs::symlink;
    let sandbox = Sandbox::new();
    let secret = sandbox.root.path().join("home/secret.txt");
    std::fs::write(&secret, "not evidence").unwrap();

    // An extra link to a file outside, and a link to a folder outside.
    let dir = sandbox.dir_copy("links");
    symlink(&secret, dir.join("evidence/secret.json")).unwrap();
    symlink("/", dir.join("evidence/root")).unwrap();
    let out = sandbox.verify(&dir, &[], None);
    assert_refused(
        &out,
        "unsafe entry: evidence/secret.json: a symbolic link (verify never follows links)",
    );
    assert!(
        out.stdout
            .contains("unsafe entry: evidence/root: a symbolic link"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("extra:"), "{}", out.stdout);

    // A listed evidence file replaced by a link to a copy of itself outside: same bytes, refused.
    let dir = sandbox.dir_copy("listed-link");
    let outside = sandbox.root.path().join("home/policy-copy.json");
    std::fs::copy(dir.join(POLICY), &outside).unwrap();
    std::fs::remove_file(dir.join(POLICY)).unwrap();
    symlink(&outside, dir.join(POLICY)).unwrap();
    let out = sandbox.verify(&dir, &[], None);
    assert_refused(&out, &format!("unsafe entry: {POLICY}: a symbolic link"));
    assert!(!out.stdout.contains("missing:"), "{}", out.stdout);

    // manifest.json itself a link, even to a valid manifest, and a link to /dev/zero.
    for (name, target) in [
        ("manifest-link", sandbox.real_dir.join("manifest.json")),
        ("manifest-zero", PathBuf::from("/dev/zero")),
    ] {
        let dir = sandbox.dir_copy(name);
        std::fs::remove_file(dir.join("manifest.json")).unwrap();
        symlink(&target, dir.join("manifest.json")).unwrap();
        assert_refused(
            &sandbox.verify(&dir, &[], Some(MEMORY_LIMIT_KIB)),
            "manifest: manifest.json is a symbolic link; verify never follows links",
        );
    }
}

#[test]
fn fifos_are_never_opened_so_verify_cannot_hang_on_them() {
    let sandbox = Sandbox::new();
    let mkfifo = |path: &Path| {
        let status = Command::new("mkfifo").arg(path).status().unwrap();
        assert!(status.success(), "mkfifo {}", path.display());
    };
    let dir = sandbox.dir_copy("fifo");
    std::fs::remove_file(dir.join(POLICY)).unwrap();
    mkfifo(&dir.join(POLICY));
    assert_refused(
        &sandbox.verify(&dir, &[], None),
        &format!("unsafe entry: {POLICY}: not a regular file"),
    );

    let dir = sandbox.dir_copy("fifo-manifest");
    std::fs::remove_file(dir.join("manifest.json")).unwrap();
    mkfifo(&dir.join("manifest.json"));
    assert_refused(
        &sandbox.verify(&dir, &[], None),
        "manifest: manifest.json is not a regular file",
    );

    // The bundle path itself, and the zip's .sha256 file beside it.
    let fifo = sandbox.bundles.join("bundle-fifo.zip");
    mkfifo(&fifo);
    assert_refused(
        &sandbox.verify(&fifo, &[], None),
        "it is neither a directory nor a regular file",
    );
    let zip = sandbox.zip_file("sidecar.zip", &sandbox.zip);
    mkfifo(&sandbox.bundles.join("sidecar.zip.sha256"));
    assert_refused(
        &sandbox.verify(&zip, &[], None),
        "unreadable: sidecar.zip.sha256: not a regular file",
    );
}

// ---------------------------------------------------------------------------------------------
// Files that are not bundle zips at all.

#[test]
fn a_non_zip_a_truncated_zip_and_an_empty_file_are_refused_with_the_reason() {
    let sandbox = Sandbox::new();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "text.zip",
            b"this is not a zip\n".to_vec(),
            "not a readable zip archive",
        ),
        (
            "empty.zip",
            Vec::new(),
            "the file is empty, not a bundle zip",
        ),
        (
            "half.zip",
            sandbox.zip[..sandbox.zip.len() / 2].to_vec(),
            "not a readable zip archive",
        ),
        (
            "no-end.zip",
            sandbox.zip[..sandbox.zip.len() - 10].to_vec(),
            "not a readable zip archive",
        ),
        (
            "no-start.zip",
            sandbox.zip[sandbox.zip.len() / 2..].to_vec(),
            "unreadable: ",
        ),
    ];
    for (file, bytes, reason) in cases {
        let zip = sandbox.zip_file(file, &bytes);
        let out = sandbox.verify(&zip, &[], Some(MEMORY_LIMIT_KIB));
        assert_refused(&out, reason);
        assert!(out.stdout.contains(file), "names the file: {}", out.stdout);
    }
}

#[test]
fn a_changed_sidecar_checksum_is_reported_and_a_huge_sidecar_is_read_only_in_part() {
    let sandbox = Sandbox::new();
    let zip = sandbox.zip_file("sum.zip", &sandbox.zip);
    let good = sha256_hex(&sandbox.zip);
    std::fs::write(
        sandbox.bundles.join("sum.zip.sha256"),
        format!("{good}  sum.zip\n"),
    )
    .unwrap();
    let out = sandbox.verify(&zip, &[], None);
    assert_eq!(out.code, Some(0), "{}", out.stdout);

    std::fs::write(
        sandbox.bundles.join("sum.zip.sha256"),
        format!("{}  sum.zip\n", "f".repeat(64)),
    )
    .unwrap();
    assert_refused(
        &sandbox.verify(&zip, &[], None),
        &format!("zip checksum: the .zip.sha256 file says {}", "f".repeat(64)),
    );
    // 64 MiB of digits: only the first 4 KiB are read.
    let mut huge = std::fs::File::create(sandbox.bundles.join("sum.zip.sha256")).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..64 {
        huge.write_all(&chunk).unwrap();
    }
    drop(huge);
    assert_refused(
        &sandbox.verify(&zip, &[], Some(MEMORY_LIMIT_KIB)),
        "zip checksum: the .zip.sha256 file says aaaa",
    );
}

// ---------------------------------------------------------------------------------------------
// Properties over many mutated inputs: verify always answers, never panics, and never calls a
// damaged bundle intact. (The cargo-fuzz targets in fuzz/ explore the same space for longer.)

/// A deterministic generator (xorshift64*), so a failure names its case and reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One mutation of `bytes`: flipped bits, overwritten runs, interesting values at zip header
/// fields, truncation, duplicated or removed spans.
fn mutate(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..1 + rng.below(4) {
        if out.is_empty() {
            out.push(0);
        }
        let at = rng.below(out.len());
        match rng.below(6) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => out[at] = rng.next() as u8,
            2 => {
                let value = [0u32, 1, 0xff, 0xffff, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff]
                    [rng.below(7)]
                .to_le_bytes();
                for (i, b) in value.iter().enumerate() {
                    if let Some(slot) = out.get_mut(at + i) {
                        *slot = *b;
                    }
                }
            }
            3 => out.truncate(at),
            4 => {
                let end = (at + rng.below(64)).min(out.len());
                let span = out[at..end].to_vec();
                let to = rng.below(out.len());
                out.splice(to..to, span);
            }
            _ => {
                let end = (at + rng.below(64)).min(out.len());
                out.drain(at..end);
            }
        }
    }
    out
}

#[test]
fn thousands_of_mutated_bundle_zips_always_get_an_answer() {
    let sandbox = Sandbox::new();
    let original = verify_zip_reader(Cursor::new(&sandbox.zip), Path::new("original.zip"));
    assert!(original.intact, "{:?}", original.problems);
    let files = original.files_verified;
    // Also from a stored (uncompressed) copy, whose mutations reach the manifest's JSON.
    let stored = zip_bytes(&RawEntry::all_of(&sandbox.zip));
    let started = Instant::now();
    let mut refused = 0;
    for (seed_name, seed) in [("deflated", &sandbox.zip), ("stored", &stored)] {
        let mut rng = Rng(0x5eed_0000_0000_0001 ^ seed.len() as u64);
        for case in 0..2500 {
            let input = mutate(&mut rng, seed);
            let report = std::panic::catch_unwind(|| {
                verify_zip_reader(Cursor::new(&input), Path::new("mutated.zip"))
            })
            .unwrap_or_else(|_| panic!("verify panicked on {seed_name} mutation #{case}"));
            assert_eq!(report.intact, report.problems.is_empty());
            if report.intact {
                // Only a mutation of bytes no file's content depends on (times, attributes,
                // padding) may leave a bundle intact, and then every file still matches.
                assert_eq!(report.files_verified, files, "{seed_name} #{case}");
            } else {
                refused += 1;
            }
        }
    }
    assert!(
        refused > 4000,
        "most mutations must be caught: {refused} of 5000"
    );
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "5000 verifications took {:?}",
        started.elapsed()
    );
}

#[test]
fn thousands_of_mutated_manifests_always_get_an_answer() {
    let sandbox = Sandbox::new();
    let manifest = std::fs::read(sandbox.real_dir.join("manifest.json")).unwrap();
    assert!(parse_manifest(&manifest).is_ok());
    let mut rng = Rng(0x6d61_6e69_6665_7374);
    for case in 0..3000 {
        let input = mutate(&mut rng, &manifest);
        let parsed = std::panic::catch_unwind(|| parse_manifest(&input))
            .unwrap_or_else(|_| panic!("parse_manifest panicked on mutation #{case}"));
        if let Ok(files) = parsed {
            for f in files {
                assert!(
                    !f.path.starts_with('/')
                        && !f.path.split('/').any(|p| p == ".." || p.is_empty()),
                    "#{case} accepted {:?}",
                    f.path
                );
            }
        }
    }
}

/// The committed fixture that seeds the fuzz targets (scripts/fuzz) is a valid bundle, so the
/// fuzzer starts deep inside `verify`. `SOC2_REGENERATE_FIXTURES=1` rewrites it from a fresh
/// mocked run first (after a schema change).
#[test]
fn the_fuzz_seed_fixture_is_a_valid_bundle() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundle.zip");
    if std::env::var_os("SOC2_REGENERATE_FIXTURES").is_some_and(|v| v == "1") {
        let out = tempfile::tempdir().unwrap();
        let (_, zip) = real_bundle(out.path());
        std::fs::copy(zip, &fixture).unwrap();
    }
    let bytes = std::fs::read(&fixture).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; regenerate it with SOC2_REGENERATE_FIXTURES=1 cargo test --test hostile",
            fixture.display()
        )
    });
    let report = verify_zip_reader(Cursor::new(&bytes), &fixture);
    assert!(
        report.intact && report.files_verified >= 1,
        "the fixture is no longer a valid bundle ({:?}); regenerate it with \
         SOC2_REGENERATE_FIXTURES=1 cargo test --test hostile the_fuzz_seed_fixture",
        report.problems
    );
}
