//! The real binary against a real emulated AWS account (moto on 127.0.0.1), asserting on the
//! bundle it writes.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::collect_expecting;
use common::{
    binary, bundle_dir, collect, collector_args, csv_rows, files_below, read_json, run, sha256_hex,
    text, Emulator, ACCOUNT, IAM_ACCOUNT,
};
use serde_json::Value;

/// What the seeded account holds, for assertions (and secrets that must never leak).
struct Seeded {
    secrets: Vec<String>,
}

/// alice: console password and MFA; bob: console password, no MFA; carol: no console, one
/// active access key; plus a password policy when `policy` is set.
async fn seed(emulator: &Emulator, policy: bool) -> Seeded {
    let iam = common::iam(emulator).await;
    let mut secrets = Vec::new();
    for user in ["alice", "bob", "carol"] {
        iam.create_user().user_name(user).send().await.unwrap();
    }
    for user in ["alice", "bob"] {
        iam.create_login_profile()
            .user_name(user)
            .password("Correct-Horse-Battery-9")
            .send()
            .await
            .unwrap();
    }
    secrets.push("Correct-Horse-Battery-9".to_string());
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("alice")
        .send()
        .await
        .unwrap();
    let device = device.virtual_mfa_device().unwrap();
    if let Some(seed) = device.base32_string_seed() {
        secrets.push(String::from_utf8_lossy(seed.as_ref()).into_owned());
    }
    iam.enable_mfa_device()
        .user_name("alice")
        .serial_number(device.serial_number())
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("carol")
        .send()
        .await
        .unwrap();
    secrets.push(key.access_key().unwrap().secret_access_key().to_string());
    if policy {
        iam.update_account_password_policy()
            .minimum_password_length(14)
            .require_symbols(true)
            .require_numbers(true)
            .require_uppercase_characters(true)
            .require_lowercase_characters(false)
            .allow_users_to_change_password(true)
            .max_password_age(90)
            .password_reuse_prevention(24)
            .send()
            .await
            .unwrap();
    }
    Seeded { secrets }
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_writes_a_complete_verified_bundle() {
    let emulator = Emulator::start();
    let seeded = seed(&emulator, true).await;
    let out = tempfile::tempdir().unwrap();
    let (code, summary) = collect(&emulator, out.path(), &collector_args(&IAM_ACCOUNT));
    assert_eq!(code, 0, "summary: {summary:#}");
    assert_eq!(summary["status"], "complete");
    assert_eq!(summary["exit_code"], 0);

    let dir = bundle_dir(&summary);
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("soc2-evidence-{ACCOUNT}-")),
        "{name}"
    );
    assert_eq!(
        name.len(),
        "soc2-evidence-123456789012-20261122T070509Z".len()
    );
    assert!(name.ends_with('Z'));

    // The directory, the zip and its checksum, and nothing else (no temporary leftovers).
    let mut entries: Vec<String> = fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        [
            name.clone(),
            format!("{name}.zip"),
            format!("{name}.zip.sha256")
        ]
    );

    let manifest = read_json(&dir.join("manifest.json"));
    assert_eq!(manifest["schema_version"], 1);
    assert_eq!(manifest["tool"]["name"], "soc2-evidence");
    assert_eq!(manifest["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["account"]["id"], ACCOUNT);
    assert_eq!(manifest["account"]["partition"], "aws");
    assert!(manifest["account"]["caller_arn"]
        .as_str()
        .unwrap()
        .starts_with(&format!("arn:aws:sts::{ACCOUNT}:")));
    assert_eq!(manifest["account"]["aliases"], serde_json::json!([]));
    assert_eq!(manifest["regions"], serde_json::json!(["us-east-1"]));
    assert_eq!(manifest["status"], "complete");
    let run_info = &manifest["run"];
    assert_eq!(run_info["id"].as_str().unwrap().len(), 36);
    for time in ["started_at", "finished_at"] {
        let t = run_info[time].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'),
            "{t}"
        );
    }
    assert_eq!(
        run_info["options"]["regions"],
        serde_json::json!(["us-east-1"])
    );
    assert!(run_info["options"]["endpoint_url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));

    let collectors = manifest["collectors"].as_array().unwrap();
    let ids: Vec<&str> = collectors
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "iam-credential-report",
            "iam-account-summary",
            "iam-password-policy"
        ]
    );
    let mut calls_sum = 0;
    for c in collectors {
        assert_eq!(c["status"], "collected", "{c:#}");
        assert_eq!(c["errors"], serde_json::json!([]));
        assert_eq!(c["scope"], "global");
        assert!(c["controls"]
            .as_array()
            .unwrap()
            .contains(&Value::from("CC6.1")));
        assert!(c["api_calls"].as_u64().unwrap() >= 1);
        calls_sum += c["api_calls"].as_u64().unwrap();
        for f in c["files"].as_array().unwrap() {
            assert!(f["path"]
                .as_str()
                .unwrap()
                .starts_with(&format!("evidence/{}/", c["id"].as_str().unwrap())));
        }
    }
    // The run's own sts:GetCallerIdentity is counted too.
    assert_eq!(run_info["api_calls"].as_u64().unwrap(), calls_sum + 1);
    assert_eq!(summary["run"]["api_calls"], run_info["api_calls"]);

    // files[] lists every file but the manifest, with the right hash and size.
    let listed: Vec<String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    let mut on_disk = files_below(&dir);
    on_disk.retain(|p| p != "manifest.json");
    assert_eq!(listed, on_disk);
    for f in manifest["files"].as_array().unwrap() {
        let bytes = fs::read(dir.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(f["sha256"].as_str().unwrap(), sha256_hex(&bytes), "{f}");
        assert_eq!(f["bytes"].as_u64().unwrap(), bytes.len() as u64);
    }
    for expected in [
        "evidence/iam-credential-report/credential-report.csv",
        "evidence/iam-credential-report/credential-report.json",
        "evidence/iam-account-summary/account-summary.json",
        "evidence/iam-account-summary/root-account.json",
        "evidence/iam-account-summary/virtual-mfa-devices.csv",
        "evidence/iam-password-policy/password-policy.json",
    ] {
        assert!(
            listed.iter().any(|p| p == expected),
            "{expected} missing from {listed:?}"
        );
    }
    let control = &manifest["controls"]["CC6.1"];
    assert_eq!(control["collectors"].as_array().unwrap().len(), 3);
    assert!(control["files"].as_array().unwrap().len() >= 6);
    assert_eq!(manifest["findings_summary"]["evaluated"], true);

    // Owner-only permissions on everything written.
    for rel in files_below(&dir) {
        let mode = fs::metadata(dir.join(&rel)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{rel}");
    }
    for d in [
        dir.clone(),
        dir.join("evidence"),
        dir.join("evidence/iam-credential-report"),
    ] {
        assert_eq!(
            fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700,
            "{}",
            d.display()
        );
    }
    let zip = out.path().join(format!("{name}.zip"));
    assert_eq!(
        fs::metadata(&zip).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // The .sha256 file is in `sha256sum -c` format and matches the zip.
    let line = fs::read_to_string(out.path().join(format!("{name}.zip.sha256"))).unwrap();
    assert_eq!(
        line,
        format!("{}  {name}.zip\n", sha256_hex(&fs::read(&zip).unwrap()))
    );
    assert_eq!(
        summary["bundle"]["zip_sha256"].as_str().unwrap(),
        &line[..64]
    );

    // The zip holds the same tree under one folder, with fixed entry times.
    let mut archive = zip::ZipArchive::new(fs::File::open(&zip).unwrap()).unwrap();
    let mut zipped = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index(i).unwrap();
        assert!(
            entry.name().starts_with(&format!("{name}/")),
            "{}",
            entry.name()
        );
        let t = entry.last_modified().unwrap();
        assert_eq!((t.year(), t.month(), t.day()), (1980, 1, 1));
        if !entry.is_dir() {
            zipped.push(entry.name()[name.len() + 1..].to_string());
        }
    }
    zipped.sort();
    assert_eq!(zipped, files_below(&dir));

    // No secret of the account reaches the bundle.
    let mut everything = Vec::new();
    for rel in files_below(&dir) {
        everything.extend(fs::read(dir.join(rel)).unwrap());
    }
    let everything = String::from_utf8_lossy(&everything);
    for secret in &seeded.secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret leaked into the bundle"
        );
    }

    // verify agrees, on both forms.
    for target in [&dir, &zip] {
        let output = run(binary().arg("verify").arg(target));
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
        assert!(
            // 8 evidence files, findings.csv/.json, rules.csv, three access-review tables
            // (users, roles, identity-center) and index.html.
            text(&output.stdout).contains("intact: 15 files"),
            "{}",
            text(&output.stdout)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn credential_report_and_password_policy_hold_the_seeded_facts() {
    let emulator = Emulator::start();
    seed(&emulator, true).await;
    let (_out, _, dir) = collect_expecting(&emulator, &collector_args(&IAM_ACCOUNT), 0);
    let evidence = dir.join("evidence");

    let rows = csv_rows(&evidence.join("iam-credential-report/credential-report.csv"));
    let by_user: BTreeMap<&str, &BTreeMap<String, String>> =
        rows.iter().map(|r| (r["user"].as_str(), r)).collect();
    let expect = [
        ("alice", "true", "true", "false"),
        ("bob", "true", "false", "false"),
        ("carol", "false", "false", "true"),
    ];
    assert_eq!(by_user.len(), expect.len(), "{rows:?}");
    for (user, password, mfa, key) in expect {
        let row = by_user
            .get(user)
            .unwrap_or_else(|| panic!("{user} missing"));
        assert_eq!(row["password_enabled"].to_lowercase(), password, "{user}");
        assert_eq!(row["mfa_active"].to_lowercase(), mfa, "{user}");
        assert_eq!(row["access_key_1_active"].to_lowercase(), key, "{user}");
        assert_eq!(row["arn"], format!("arn:aws:iam::{ACCOUNT}:user/{user}"));
    }
    // The parsed JSON twin holds the same rows, booleans typed.
    let json = read_json(&evidence.join("iam-credential-report/credential-report.json"));
    let bob = common::find_by(&json, "user", "bob");
    assert_eq!(bob["password_enabled"], true);
    assert_eq!(bob["mfa_active"], false);
    let manifest = read_json(&dir.join("manifest.json"));
    let report = &manifest["collectors"][0];
    assert!(report["notes"]["generated_time"].as_str().is_some());
    assert_eq!(report["notes"]["users"], 3);
    assert_eq!(report["files"][0]["rows"], 3);

    let policy = read_json(&evidence.join("iam-password-policy/password-policy.json"));
    assert_eq!(policy["PolicyPresent"], true);
    let p = &policy["PasswordPolicy"];
    assert_eq!(p["MinimumPasswordLength"], 14);
    assert_eq!(p["RequireSymbols"], true);
    assert_eq!(p["RequireNumbers"], true);
    assert_eq!(p["RequireUppercaseCharacters"], true);
    assert_eq!(p["RequireLowercaseCharacters"], false);
    assert_eq!(p["MaxPasswordAge"], 90);
    assert_eq!(p["PasswordReusePrevention"], 24);
    assert_eq!(p["ExpirePasswords"], true);

    let devices = csv_rows(&evidence.join("iam-account-summary/virtual-mfa-devices.csv"));
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["UserName"], "alice");
    assert_eq!(devices[0]["IsRootDevice"], "false");
    let root = read_json(&evidence.join("iam-account-summary/root-account.json"));
    // moto always reports root MFA off and no root keys (SPEC section 9).
    assert_eq!(root["mfa_enabled"], false);
    assert_eq!(root["mfa_device"], "none");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_without_password_policy_is_collected_as_no_policy() {
    let emulator = Emulator::start();
    seed(&emulator, false).await;
    let (_out, _, dir) = collect_expecting(&emulator, &["--collector", "iam-password-policy"], 0);
    let policy = read_json(&dir.join("evidence/iam-password-policy/password-policy.json"));
    assert_eq!(policy["PolicyPresent"], false);
    assert_eq!(policy["PasswordPolicy"], Value::Null);
    let manifest = read_json(&dir.join("manifest.json"));
    assert_eq!(manifest["collectors"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["collectors"][0]["status"], "collected");
    assert_eq!(
        manifest["run"]["options"]["collectors"],
        serde_json::json!(["iam-password-policy"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runs_of_an_unchanged_account_hold_identical_evidence() {
    let emulator = Emulator::start();
    seed(&emulator, true).await;
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, first) = collect(&emulator, a.path(), &collector_args(&IAM_ACCOUNT));
    let (_, second) = collect(&emulator, b.path(), &collector_args(&IAM_ACCOUNT));
    // Every file but index.html, which shows the run's id, times and call counts as the
    // manifest does: evidence, findings and access review are byte-identical.
    let files = |s: &Value| -> Vec<Value> {
        read_json(&bundle_dir(s).join("manifest.json"))["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"] != "index.html")
            .cloned()
            .collect()
    };
    assert_eq!(files(&first), files(&second));
    assert!(files(&first).iter().any(|f| f["path"] == "findings.json"));
}

/// Copies a bundle (directory and zip, without the .sha256) so each case breaks its own copy.
fn fresh_copy(dir: &Path, work: &Path) -> (PathBuf, PathBuf) {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let target = work.join(&name);
    for rel in files_below(dir) {
        let to = target.join(&rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(dir.join(&rel), to).unwrap();
    }
    let zip = work.join(format!("{name}.zip"));
    let original_zip = dir.parent().unwrap().join(format!("{name}.zip"));
    fs::copy(original_zip, &zip).unwrap();
    (target, zip)
}

/// Rewrites a zip entry by entry: `edit` may change an entry's bytes or drop it (None), and
/// `extra` entries are appended.
fn rewrite_zip(
    zip: &Path,
    edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>,
    extra: &[(&str, &[u8])],
) {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(fs::File::open(zip).unwrap()).unwrap();
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        entries.push((entry.name().to_string(), entry.is_dir(), bytes));
    }
    let top = entries[0].0.clone();
    let mut writer = zip::ZipWriter::new(fs::File::create(zip).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for (name, is_dir, bytes) in entries {
        if is_dir {
            writer.add_directory(name, options).unwrap();
        } else if let Some(bytes) = edit(&name, bytes) {
            writer.start_file(name, options).unwrap();
            writer.write_all(&bytes).unwrap();
        }
    }
    for (rel, bytes) in extra {
        writer.start_file(format!("{top}{rel}"), options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
}

fn verify_fails_with(target: &Path, expected: &str) {
    let output = run(binary().arg("verify").arg(target));
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}: {stdout}",
        target.display()
    );
    assert!(
        stdout.contains(expected),
        "expected {expected:?} in:\n{stdout}"
    );
    assert!(stdout.contains("NOT INTACT"), "{stdout}");
}

/// `verify` of a [`fresh_copy`] of the bundle directory `dir`, changed by `edit`, fails naming
/// `expected`.
fn copy_edited_fails(dir: &Path, edit: impl FnOnce(&Path), expected: &str) {
    let work = tempfile::tempdir().unwrap();
    let (copy, _) = fresh_copy(dir, work.path());
    edit(&copy);
    verify_fails_with(&copy, expected);
}

/// `verify` of a [`fresh_copy`] of the zip of `dir`, rewritten by [`rewrite_zip`] with `edit`
/// and `extra`, fails naming `expected`.
fn zip_rewritten_fails(
    dir: &Path,
    edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>,
    extra: &[(&str, &[u8])],
    expected: &str,
) {
    let work = tempfile::tempdir().unwrap();
    let (_, zip) = fresh_copy(dir, work.path());
    rewrite_zip(&zip, edit, extra);
    verify_fails_with(&zip, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_reports_changed_missing_and_extra_files() {
    let emulator = Emulator::start();
    seed(&emulator, true).await;
    let out = tempfile::tempdir().unwrap();
    let (_, summary) = collect(&emulator, out.path(), &collector_args(&IAM_ACCOUNT));
    let dir = bundle_dir(&summary);
    let policy = "evidence/iam-password-policy/password-policy.json";
    let report = "evidence/iam-credential-report/credential-report.csv";

    // Directory: one changed byte, one removed file, one added file.
    copy_edited_fails(
        &dir,
        |copy| {
            let mut bytes = fs::read(copy.join(policy)).unwrap();
            bytes[5] ^= 0x01;
            fs::write(copy.join(policy), bytes).unwrap();
        },
        &format!("changed: {policy}"),
    );
    copy_edited_fails(
        &dir,
        |copy| fs::remove_file(copy.join(report)).unwrap(),
        &format!("missing: {report}"),
    );
    copy_edited_fails(
        &dir,
        |copy| fs::write(copy.join("evidence/notes.txt"), "added later").unwrap(),
        "extra: evidence/notes.txt",
    );
    copy_edited_fails(
        &dir,
        |copy| fs::write(copy.join("manifest.json"), "{ not json").unwrap(),
        "manifest: manifest.json is not a readable manifest",
    );

    // Zip: the same three edits, entry by entry.
    zip_rewritten_fails(
        &dir,
        |name, mut bytes| {
            if name.ends_with(policy) {
                bytes[5] ^= 0x01;
            }
            Some(bytes)
        },
        &[],
        &format!("changed: {policy}"),
    );
    zip_rewritten_fails(
        &dir,
        |name, bytes| (!name.ends_with(report)).then_some(bytes),
        &[],
        &format!("missing: {report}"),
    );
    zip_rewritten_fails(
        &dir,
        |_, bytes| Some(bytes),
        &[("evidence/notes.txt", b"added later")],
        "extra: evidence/notes.txt",
    );

    // A changed byte of the zip file itself is caught by the .zip.sha256 beside it.
    let work = tempfile::tempdir().unwrap();
    let (_, zip) = fresh_copy(&dir, work.path());
    let name = zip.file_name().unwrap().to_string_lossy().into_owned();
    fs::copy(
        out.path().join(format!("{name}.sha256")),
        work.path().join(format!("{name}.sha256")),
    )
    .unwrap();
    let mut bytes = fs::read(&zip).unwrap();
    let last = bytes.len() - 30;
    bytes[last] ^= 0xff;
    fs::write(&zip, bytes).unwrap();
    let output = run(binary().arg("verify").arg(&zip));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));

    // Entries that would escape the bundle are refused.
    let work = tempfile::tempdir().unwrap();
    let (_, zip) = fresh_copy(&dir, work.path());
    rewrite_zip(&zip, |_, bytes| Some(bytes), &[("../../escape.txt", b"x")]);
    verify_fails_with(&zip, "unsafe entry");

    // The original is still intact after all that.
    let output = run(binary().arg("verify").arg(&dir));
    assert_eq!(output.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_call_fails_its_collector_only_and_exits_3() {
    let emulator = Emulator::start();
    seed(&emulator, true).await;
    // A proxy in front of the emulator refuses iam:GetAccountSummary the way AWS does.
    let proxy = common::proxy::Proxy::start(&emulator.url, |request| {
        (request.service == "iam" && request.operation == "GetAccountSummary")
            .then(|| common::proxy::query_access_denied("iam:GetAccountSummary"))
    });
    let out = tempfile::tempdir().unwrap();
    let output = run(binary()
        .args([
            "collect",
            "--json",
            "--max-attempts",
            "1",
            "--region",
            "us-east-1",
            "--endpoint-url",
            &proxy.url,
        ])
        .args(collector_args(&IAM_ACCOUNT))
        .arg("--out")
        .arg(out.path()));
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["status"], "incomplete");
    assert_eq!(
        proxy.intercepted.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    let manifest = read_json(&bundle_dir(&summary).join("manifest.json"));
    for c in manifest["collectors"].as_array().unwrap() {
        if c["id"] == "iam-account-summary" {
            assert_eq!(c["status"], "failed");
            let error = &c["errors"][0];
            assert_eq!(error["operation"], "GetAccountSummary");
            assert_eq!(error["code"], "AccessDenied");
            assert_eq!(error["region"], "global");
            assert!(error["message"]
                .as_str()
                .unwrap()
                .contains("not authorized"));
        } else {
            assert_eq!(c["status"], "collected", "{c:#}");
        }
    }
    // The incomplete bundle is whole and verifiable.
    let zip = PathBuf::from(summary["bundle"]["zip"].as_str().unwrap());
    assert_eq!(run(binary().arg("verify").arg(&zip)).status.code(), Some(0));
}
