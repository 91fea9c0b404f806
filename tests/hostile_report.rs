//! `report` against hostile bundles: a source swapped or changed after it was verified, paths
//! with `..` reaching the writer, FIFOs, links, names like the tool's temporary folders, old
//! manifests, and a file and a folder of one name.
//!
//! The race of the original bug (the source replaced while `report` verified it) cannot be
//! timed from a test. These tests exercise the structure that closes it, deterministically: the
//! source is opened and verified once ([`SourceBundle::open`]), then changed or swapped on disk,
//! then copied from the handle that was verified. Zips are built byte by byte as in
//! `tests/hostile.rs` (the helpers below are copied from there).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::zipkit::{self, zip_entries, RawEntry, Sandbox};
use common::{binary, run, sha256_hex, text};
use soc2_evidence::bundle::files::{self, FileRecord};
use soc2_evidence::bundle::writer::{STAGING_MARKER, TEMP_PREFIX};
use soc2_evidence::bundle::Staging;
use soc2_evidence::error::Error;
use soc2_evidence::report::SourceBundle;

const POLICY: &str = "evidence/iam-password-policy/password-policy.json";
const NAME: &str = "soc2-evidence-123456789012-20261122T070509Z-report-20261122T070509Z";

// ---------------------------------------------------------------------------------------------
// Zips written byte by byte (stored entries, Unix modes), with the builder tests/hostile.rs uses.

/// A zip of `entries` (name, content) in order; names ending with `/` are folders.
fn zip_bytes(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let raw: Vec<RawEntry> = entries
        .iter()
        .map(|(name, data)| {
            if name.ends_with('/') {
                RawEntry::folder(name)
            } else {
                RawEntry::file(name, data)
            }
        })
        .collect();
    zipkit::zip_bytes(&raw)
}

// ---------------------------------------------------------------------------------------------
// The sandbox: bundles two levels below its root, so `../../x` lands inside it.

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox::with_folders(&["out", "outside"])
    }

    fn out(&self) -> PathBuf {
        self.root.path().join("out")
    }

    fn outside(&self) -> PathBuf {
        self.root.path().join("outside")
    }

    /// The real zip rebuilt under the top folder `top`, with `extra` files added (and listed in
    /// the manifest with their true hashes), byte by byte.
    fn zip_with(&self, top: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
        let mut entries = Vec::new();
        for (name, bytes) in zip_entries(&self.zip) {
            let rel = name.strip_prefix(&self.name).unwrap();
            let name = format!("{top}{rel}");
            if rel == "/manifest.json" {
                let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                let files = json["files"].as_array_mut().unwrap();
                for (path, content) in extra {
                    files.push(serde_json::json!({
                        "path": path, "sha256": sha256_hex(content), "bytes": content.len(),
                    }));
                }
                entries.push((name, serde_json::to_vec_pretty(&json).unwrap()));
            } else {
                entries.push((name, bytes));
            }
        }
        for (path, content) in extra {
            entries.push((format!("{top}/{path}"), content.to_vec()));
        }
        zip_bytes(&entries)
    }
}

/// Every path below `dir`, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut seen = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if std::fs::symlink_metadata(&path).unwrap().is_dir() {
                stack.push(path.clone());
            }
            seen.push(path.strip_prefix(dir).unwrap().display().to_string());
        }
    }
    seen.sort();
    seen
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn policy_record(source: &SourceBundle) -> FileRecord {
    source
        .files()
        .iter()
        .find(|f| f.path == POLICY)
        .unwrap()
        .clone()
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

// ---------------------------------------------------------------------------------------------
// Item 1: one handle, checked once; the writer refuses escaping paths in every build.

#[test]
fn the_writer_refuses_a_dot_dot_path_in_every_build_and_writes_nothing_outside() {
    // Before, this was a debug_assert: a panic in debug builds, a write outside in release.
    let sandbox = Sandbox::new();
    let out = sandbox.out();
    let staging = Staging::create(&out, NAME).unwrap();
    let escaping = "evidence/../../../outside/PWNED";
    let result =
        std::panic::catch_unwind(|| files::write_file(staging.root(), escaping, b"owned", None));
    match result {
        Ok(Err(Error::UnsafeBundlePath { path, reason })) => {
            assert_eq!(path, escaping);
            assert!(reason.contains(".."), "{reason}");
        }
        Ok(other) => panic!("the writer must refuse {escaping:?}: {other:?}"),
        Err(_) => panic!("the writer panicked (a debug_assert) instead of refusing"),
    }
    drop(staging);
    assert_eq!(tree(&sandbox.outside()), Vec::<String>::new());
    assert_eq!(names(&out), Vec::<String>::new(), "nothing left behind");
}

#[test]
fn a_dot_dot_record_is_refused_by_the_copy_and_a_zip_listing_one_by_report() {
    // A record with `..` handed to the copy (as a manifest that got past the checks would):
    // refused, nothing written outside.
    let sandbox = Sandbox::new();
    let escaping = "evidence/../../../outside/PWNED";
    let real = sandbox.zip_file("real.zip", &sandbox.zip);
    let mut source = SourceBundle::open(&real).unwrap();
    let record = FileRecord {
        path: escaping.to_string(),
        sha256: sha256_hex(b"owned"),
        bytes: 5,
        rows: None,
    };
    let staging = Staging::create(&sandbox.out(), NAME).unwrap();
    let err = source.copy_file(&record, staging.root()).unwrap_err();
    assert!(err.to_string().contains(escaping), "{err}");
    drop(staging);
    assert_eq!(tree(&sandbox.outside()), Vec::<String>::new());
    assert_eq!(names(&sandbox.out()), Vec::<String>::new());

    // A zip whose manifest lists that path with a matching hash, and holds an entry of that
    // name: `report` refuses it with exit 1 and writes nothing, outside --out or in it.
    let mut entries = zip_entries(&sandbox.zip);
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sandbox.real_dir.join("manifest.json")).unwrap())
            .unwrap();
    json["files"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "path": escaping, "sha256": sha256_hex(b"owned"), "bytes": 5,
        }));
    let manifest_name = format!("{}/manifest.json", sandbox.name);
    for entry in entries.iter_mut() {
        if entry.0 == manifest_name {
            entry.1 = serde_json::to_vec_pretty(&json).unwrap();
        }
    }
    entries.push((format!("{}/{escaping}", sandbox.name), b"owned".to_vec()));
    let hostile = sandbox.zip_file("hostile.zip", &zip_bytes(&entries));
    let output = run(binary()
        .arg("report")
        .arg(&hostile)
        .arg("--out")
        .arg(sandbox.out()));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(tree(&sandbox.outside()), Vec::<String>::new());
    assert_eq!(names(&sandbox.out()), Vec::<String>::new());
}

#[test]
fn a_zip_replaced_after_it_was_opened_is_still_read_from_the_handle_that_was_verified() {
    let sandbox = Sandbox::new();
    let path = sandbox.zip_file("bundle.zip", &sandbox.zip);
    let mut source = SourceBundle::open(&path).unwrap();
    // The path now names another zip, whose policy file differs (and whose manifest agrees).
    let other = sandbox.zip_with(&sandbox.name, &[("evidence/extra.json", b"{}")]);
    let swapped = sandbox.zip_file("swapped.zip", &other);
    std::fs::rename(&swapped, &path).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sandbox.real_dir.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(
        source.files().len(),
        manifest["files"].as_array().unwrap().len(),
        "the manifest is the one read once, before the swap"
    );
    assert!(source
        .files()
        .iter()
        .all(|f| f.path != "evidence/extra.json"));
    let staging = Staging::create(&sandbox.out(), NAME).unwrap();
    let record = policy_record(&source);
    let copied = source.copy_file(&record, staging.root()).unwrap();
    assert_eq!(copied, record);
    assert_eq!(
        std::fs::read(staging.root().join(POLICY)).unwrap(),
        std::fs::read(sandbox.real_dir.join(POLICY)).unwrap()
    );
    source.check_unchanged().unwrap();
}

#[test]
fn a_zip_changed_in_place_after_it_was_verified_fails_the_report_and_leaves_nothing() {
    let sandbox = Sandbox::new();
    let path = sandbox.zip_file("bundle.zip", &sandbox.zip);
    let mut source = SourceBundle::open(&path).unwrap();
    // Same inode, other bytes: a rebuilt zip written over the open one.
    let other = sandbox.zip_with(&sandbox.name, &[("evidence/extra.json", b"{}")]);
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &other))
        .unwrap();
    let staging = Staging::create(&sandbox.out(), NAME).unwrap();
    let record = policy_record(&source);
    // The entry now reads as garbage or other bytes, or the same; in every case the report
    // fails (exit 1), through the copy's re-hash or the zip's.
    let failed = source
        .copy_file(&record, staging.root())
        .and_then(|_| source.check_unchanged())
        .unwrap_err();
    assert_eq!(failed.exit_code().code(), 1);
    let err = failed.to_string();
    assert!(
        err.contains("changed") || err.contains("cannot read evidence/"),
        "{err}"
    );
    drop(staging);
    assert_eq!(
        names(&sandbox.out()),
        Vec::<String>::new(),
        "nothing left behind"
    );

    // The zip's own re-hash catches the change even when no entry read showed it.
    let path = sandbox.zip_file("again.zip", &sandbox.zip);
    let mut source = SourceBundle::open(&path).unwrap();
    std::fs::write(&path, &other).unwrap();
    let err = source.check_unchanged().unwrap_err().to_string();
    assert!(
        err.contains("the zip changed while it was being read"),
        "{err}"
    );
}

#[test]
fn a_directory_file_changed_after_verification_is_rehashed_on_copy_and_refused() {
    let sandbox = Sandbox::new();
    let dir = sandbox.dir_copy("changed");
    let mut source = SourceBundle::open(&dir).unwrap();
    let record = policy_record(&source);
    // Same size, other bytes.
    let mut bytes = std::fs::read(dir.join(POLICY)).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(dir.join(POLICY), &bytes).unwrap();
    let staging = Staging::create(&sandbox.out(), NAME).unwrap();
    let err = source.copy_file(&record, staging.root()).unwrap_err();
    let err = err.to_string();
    assert!(
        err.contains("changed after the bundle was verified"),
        "{err}"
    );
    assert!(err.contains(POLICY), "{err}");
    drop(staging);
    assert_eq!(
        names(&sandbox.out()),
        Vec::<String>::new(),
        "nothing left behind"
    );
}

#[test]
fn a_directory_whose_folder_is_swapped_for_a_link_outside_is_not_followed() {
    // The evidence folder replaced, after verification, by a link to a folder outside the
    // bundle that holds a file of the very same bytes (so the hash alone would not tell).
    let sandbox = Sandbox::new();
    let dir = sandbox.dir_copy("linked");
    let mut source = SourceBundle::open(&dir).unwrap();
    let record = policy_record(&source);
    let folder = dir.join("evidence/iam-password-policy");
    let outside = sandbox.outside().join("iam-password-policy");
    std::fs::rename(&folder, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &folder).unwrap();
    let staging = Staging::create(&sandbox.out(), NAME).unwrap();
    let err = source
        .copy_file(&record, staging.root())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a folder") || err.contains("symbolic link"),
        "{err}"
    );

    // The file itself a link to a copy outside: refused the same way.
    std::fs::remove_file(&folder).unwrap();
    std::fs::rename(&outside, &folder).unwrap();
    let copy = sandbox.outside().join("policy.json");
    std::fs::rename(dir.join(POLICY), &copy).unwrap();
    std::os::unix::fs::symlink(&copy, dir.join(POLICY)).unwrap();
    let err = source
        .copy_file(&record, staging.root())
        .unwrap_err()
        .to_string();
    assert!(err.contains("symbolic link"), "{err}");
    drop(staging);
    assert_eq!(names(&sandbox.out()), Vec::<String>::new());
}

#[test]
fn a_fifo_swapped_in_for_an_evidence_file_fails_at_once_and_removes_the_staging_folder() {
    let sandbox = Sandbox::new();
    let dir = sandbox.dir_copy("fifo");
    let mut source = SourceBundle::open(&dir).unwrap();
    let record = policy_record(&source);
    std::fs::remove_file(dir.join(POLICY)).unwrap();
    mkfifo(&dir.join(POLICY));
    let out = sandbox.out();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let staging = Staging::create(&out, NAME).unwrap();
        let result = source.copy_file(&record, staging.root()).map(|_| ());
        drop(staging);
        let _ = send.send(result.map_err(|e| e.to_string()));
    });
    let err = receive
        .recv_timeout(Duration::from_secs(20))
        .expect("copying a FIFO must not block")
        .unwrap_err();
    assert!(err.contains("not a regular file"), "{err}");
    assert!(err.contains(POLICY), "{err}");
    assert_eq!(
        names(&sandbox.out()),
        Vec::<String>::new(),
        "staging removed"
    );
}

#[test]
fn report_of_a_fifo_named_as_the_bundle_fails_without_hanging() {
    let sandbox = Sandbox::new();
    let fifo = sandbox.bundles.join("bundle.zip");
    mkfifo(&fifo);
    let mut child = binary()
        .arg("report")
        .arg(&fifo)
        .arg("--out")
        .arg(sandbox.out())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("report blocked on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(1));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("neither a directory nor a regular file"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Item 6: names like the tool's temporary folders.

/// A pid that no process has: a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn a_source_named_like_a_temporary_folder_makes_a_visible_bundle_and_unmarked_lookalikes_are_kept()
{
    let sandbox = Sandbox::new();
    let dead = dead_pid();
    let top = format!("{TEMP_PREFIX}soc2-evidence-123456789012-20261122T070509Z-{dead}");
    let zip = sandbox.zip_file("hidden.zip", &sandbox.zip_with(&top, &[]));
    let out = sandbox.out();
    // A bundle someone keeps, named like a leftover of a process that is gone, without the
    // marker a run writes into its temporary folder.
    let lookalike =
        format!("{TEMP_PREFIX}soc2-evidence-123456789012-20261122T070509Z-report-x-{dead}");
    std::fs::create_dir_all(out.join(&lookalike).join("evidence")).unwrap();
    std::fs::write(out.join(format!("{lookalike}.zip")), "kept").unwrap();

    for _ in 0..2 {
        let output = run(binary().arg("report").arg(&zip).arg("--out").arg(&out));
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
    let all = names(&out);
    let made: Vec<&String> = all.iter().filter(|n| !n.starts_with(&lookalike)).collect();
    assert_eq!(made.len(), 6, "two bundles of three names each: {all:?}");
    for name in &made {
        assert!(
            !name.starts_with('.'),
            "a hidden bundle was written: {name}"
        );
        assert!(
            name.starts_with("soc2-evidence-partial-soc2-evidence-123456789012-"),
            "{name}"
        );
    }
    assert!(
        all.contains(&lookalike),
        "an unmarked lookalike was removed: {all:?}"
    );
    assert!(all.contains(&format!("{lookalike}.zip")), "{all:?}");

    // A marked leftover of a gone process is still cleaned up.
    let leftover = format!("{TEMP_PREFIX}soc2-evidence-123456789012-20261122T070509Z-{dead}");
    std::fs::create_dir_all(out.join(&leftover)).unwrap();
    std::fs::write(
        out.join(&leftover).join(STAGING_MARKER),
        soc2_evidence::bundle::writer::MARKER_TEXT,
    )
    .unwrap();
    let output = run(binary().arg("report").arg(&zip).arg("--out").arg(&out));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        !names(&out).contains(&leftover),
        "the marked leftover stays"
    );
    assert!(names(&out).contains(&lookalike));
}

// ---------------------------------------------------------------------------------------------
// Item 7: old bundles stay readable.

#[test]
fn report_reads_the_repository_fixture_with_null_max_attempts_and_no_retry_mode() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundle.zip");
    let out = tempfile::tempdir().unwrap();
    let output = run(binary()
        .arg("report")
        .arg(&fixture)
        .arg("--json")
        .arg("--out")
        .arg(out.path()));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let zip = PathBuf::from(summary["bundle"]["zip"].as_str().unwrap());
    assert!(zip.starts_with(out.path()), "{zip:?}");
    assert_eq!(names(out.path()).len(), 3, "{:?}", names(out.path()));
    let verified = run(binary().arg("verify").arg(&zip));
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stdout)
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(zip.with_extension("").join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest["derived_from"]["bundle"],
        "soc2-evidence-123456789012-20261122T082238Z"
    );
}

// ---------------------------------------------------------------------------------------------
// Item 8: a file and a folder of one name.

#[test]
fn a_file_and_a_folder_of_one_name_is_named_as_the_cause_not_the_disk() {
    let sandbox = Sandbox::new();
    let zip = sandbox.zip_file(
        "clash.zip",
        &sandbox.zip_with(
            &sandbox.name,
            &[
                ("evidence/clash", b"a file"),
                ("evidence/clash/inner.json", b"{}"),
            ],
        ),
    );
    let output = run(binary()
        .arg("report")
        .arg(&zip)
        .arg("--out")
        .arg(sandbox.out()));
    let err = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("a file and a folder cannot share a name"),
        "{err}"
    );
    assert!(err.contains("evidence/clash"), "{err}");
    assert!(!err.contains("make room on the disk"), "{err}");
    assert_eq!(names(&sandbox.out()), Vec::<String>::new());

    // The writer names the cause too, whatever order the two come in.
    let dir = tempfile::tempdir().unwrap();
    files::write_file(dir.path(), "evidence/clash/inner.json", b"{}", None).unwrap();
    let err = files::write_file(dir.path(), "evidence/clash", b"x", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("a file and a folder share a name"), "{err}");
    assert!(!err.contains("make room on the disk"), "{err}");
}

#[test]
fn a_bundle_whose_exceptions_file_is_hostile_is_refused_naming_it_and_nothing_is_written() {
    let sandbox = Sandbox::new();
    let good = b"[[exception]]\nrule = \"root-mfa\"\nresource = \"*\"\nreason = \"r\"\napproved_by = \"a\"\nexpires = 2099-12-31\n";
    // A well-formed file is applied as recorded.
    let zip = sandbox.zip_with(&sandbox.name, &[("exceptions.toml", good)]);
    let source = sandbox.zip_file("good.zip", &zip);
    let output = run(binary()
        .args(["report", "--json"])
        .arg(&source)
        .arg("--out")
        .arg(sandbox.out()));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        summary["findings_summary"]["exceptions"]["source"], "bundle",
        "{summary:#}"
    );
    std::fs::remove_dir_all(sandbox.out()).unwrap();
    std::fs::create_dir(sandbox.out()).unwrap();

    let escape = String::from_utf8(good.to_vec())
        .unwrap()
        .replace("reason = \"r\"", "reason = \"ok\\u001b[2Jforged\"");
    let long = String::from_utf8(good.to_vec()).unwrap().replace(
        "resource = \"*\"",
        &format!("resource = \"{}\"", "*a".repeat(300)),
    );
    for (case, bytes, said) in [
        ("not TOML", b"[[exception]\n".to_vec(), "line 1"),
        (
            "a terminal escape",
            escape.into_bytes(),
            "`reason` holds a control",
        ),
        (
            "a runaway glob",
            long.into_bytes(),
            "longer than 512 characters",
        ),
        (
            "an unknown rule",
            String::from_utf8(good.to_vec())
                .unwrap()
                .replace("root-mfa", "root-mfa-x")
                .into_bytes(),
            "unknown rule `root-mfa-x`",
        ),
    ] {
        let zip = sandbox.zip_with(&sandbox.name, &[("exceptions.toml", &bytes)]);
        let hostile = sandbox.zip_file("hostile.zip", &zip);
        let output = run(binary()
            .arg("report")
            .arg(&hostile)
            .arg("--out")
            .arg(sandbox.out()));
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{case}: {stderr}");
        assert!(
            stderr.contains("exceptions file cannot be used") && stderr.contains(said),
            "{case}: {stderr}"
        );
        assert!(
            !stderr.contains('\u{1b}'),
            "{case}: an escape reached the terminal"
        );
        assert_eq!(names(&sandbox.out()), Vec::<String>::new(), "{case}");
    }
}

#[test]
fn a_bundle_whose_documented_policy_is_hostile_is_refused_naming_it_and_nothing_is_written() {
    let sandbox = Sandbox::new();
    for (case, bytes, said) in [
        ("not TOML", b"[password\n".to_vec(), "line 1"),
        (
            "out of range",
            b"[password]\nminimum_length = 4000000000\n".to_vec(),
            "`password.minimum_length` is 4000000000",
        ),
        (
            "a forged account",
            b"[trust]\ntrusted_accounts = [\"1\\u001b[2J\"]\n".to_vec(),
            "not a 12-digit AWS account id",
        ),
        (
            "too large",
            vec![b'#'; 64 * 1024 + 1],
            "more than the 65536",
        ),
    ] {
        let zip = sandbox.zip_with(&sandbox.name, &[("documented-policy.toml", &bytes)]);
        let hostile = sandbox.zip_file("hostile.zip", &zip);
        let output = run(binary()
            .arg("report")
            .arg(&hostile)
            .arg("--out")
            .arg(sandbox.out()));
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{case}: {stderr}");
        assert!(
            stderr.contains("documented policy cannot be used") && stderr.contains(said),
            "{case}: {stderr}"
        );
        assert!(
            !stderr.contains('\u{1b}'),
            "{case}: an escape reached the terminal"
        );
        assert_eq!(names(&sandbox.out()), Vec::<String>::new(), "{case}");
    }
}
