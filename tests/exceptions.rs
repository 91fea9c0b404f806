//! Accepted risks end to end (README "Accepting a finding"): the real binary against the seeded
//! emulator account with an exceptions file. A matched finding stays, `accepted`, with the
//! exception's fields; accepted findings never reach `--fail-on`; expired and stale exceptions
//! are reported; a bad file is a usage error naming its line and writes nothing; the file is in
//! the bundle, hashed, so `verify` catches a change; `report`, `diff` and `timeline` carry the
//! acceptance.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::seed::{seed_findings, EVERYTHING_POLICY};
use common::{binary, bundle_dir, csv_rows, read_json, run, sdk_config, text, Emulator, ACCOUNT};
use serde_json::Value;

/// Only the authorization details: the run completes against the emulator, and its high
/// findings are admin-policy ones.
const ARGS: [&str; 6] = [
    "--collector",
    "iam-authorization-details",
    "--fail-on",
    "high",
    "--region",
    "us-east-1",
];

fn policy(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

/// Three roles, each holding its own admin policy `break-glass-N`.
async fn seed_break_glass(emulator: &Emulator) {
    let iam = aws_sdk_iam::Client::new(&sdk_config(emulator, "us-east-1"));
    for n in 1..=3 {
        let role = format!("break-glass-{n}");
        iam.create_role()
            .role_name(&role)
            .assume_role_policy_document(format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
            ))
            .send()
            .await
            .unwrap();
        let created = iam
            .create_policy()
            .policy_name(&role)
            .policy_document(EVERYTHING_POLICY)
            .send()
            .await
            .unwrap();
        iam.attach_role_policy()
            .role_name(&role)
            .policy_arn(created.policy().unwrap().arn().unwrap())
            .send()
            .await
            .unwrap();
    }
}

fn exception(rule: &str, resource: &str, expires: &str, extra: &str) -> String {
    format!(
        "[[exception]]\nrule = \"{rule}\"\nresource = \"{resource}\"\nreason = \"Break-glass access, used under the incident runbook\"\napproved_by = \"jane.doe@example.com\"\nexpires = {expires}\n{extra}\n"
    )
}

struct Run {
    code: i32,
    summary: Value,
    stderr: String,
}

fn collect(emulator: &Emulator, out: &Path, extra: &[&str]) -> Run {
    let output = run(binary()
        .args(["collect", "--json", "--endpoint-url", &emulator.url])
        .args(ARGS)
        .arg("--out")
        .arg(out)
        .args(extra));
    Run {
        code: output.status.code().unwrap(),
        summary: serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
        stderr: text(&output.stderr),
    }
}

/// (rule, resource) -> the row of findings.csv.
fn findings(dir: &Path) -> BTreeMap<(String, String), BTreeMap<String, String>> {
    csv_rows(&dir.join("findings.csv"))
        .into_iter()
        .map(|row| ((row["rule"].clone(), row["resource"].clone()), row))
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn accepted_findings_are_kept_apart_and_never_fail_the_run() {
    let emulator = Emulator::start();
    seed_findings(&emulator).await;
    seed_break_glass(&emulator).await;
    let work = tempfile::tempdir().unwrap();

    // Only the break-glass policies accepted: policy/everything stays a high finding -> 4.
    let glob = exception(
        "admin-policy",
        &format!("arn:aws:iam::{ACCOUNT}:policy/break-glass-*"),
        "2099-12-31",
        "ticket = \"SEC-142\"",
    );
    let partial = write(work.path(), "partial.toml", &glob);
    let out_b = work.path().join("b");
    let b = collect(
        &emulator,
        &out_b,
        &["--exceptions", partial.to_str().unwrap()],
    );
    assert_eq!(b.code, 4, "{}\n{:#}", b.stderr, b.summary);
    let dir_b = bundle_dir(&b.summary);
    let rows = findings(&dir_b);
    for n in 1..=3 {
        let row = &rows[&("admin-policy".into(), policy(&format!("break-glass-{n}")))];
        assert_eq!(row["status"], "accepted", "{row:?}");
        assert_eq!(row["accepted_by"], "jane.doe@example.com");
        assert_eq!(row["accepted_ticket"], "SEC-142");
        assert_eq!(row["accepted_until"], "2099-12-31");
        assert_eq!(row["accepted_line"], "1");
        assert!(row["accepted_reason"].starts_with("Break-glass access"));
    }
    let everything = &rows[&("admin-policy".into(), policy("everything"))];
    assert_eq!(everything["status"], "open");
    assert_eq!(everything["accepted_by"], "");
    let summary = &b.summary["findings_summary"];
    assert_eq!(summary["high"], 1, "{summary:#}");
    assert_eq!(summary["accepted"]["high"], 3, "{summary:#}");

    // The whole file: the high finding accepted too -> 0; one exception has expired (its
    // finding stays open) and one matches nothing (stale).
    let everything_exception = exception("admin-policy", &policy("everything"), "2099-12-31", "");
    let expired = exception(
        "user-direct-policy",
        &format!("arn:aws:iam::{ACCOUNT}:user/dave"),
        "2020-01-01",
        "",
    );
    let stale = exception(
        "external-trust",
        &format!("arn:aws:iam::{ACCOUNT}:role/nobody"),
        "\"2099-12-31\"",
        "account = \"123456789012\"\nregion = \"global\"",
    );
    let full_text = format!("{glob}\n{everything_exception}\n{expired}\n{stale}");
    let full = write(work.path(), "full.toml", &full_text);
    // Bundles are ordered in time by their start, to the second: A starts after B.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out_a = work.path().join("a");
    let a = collect(&emulator, &out_a, &["--exceptions", full.to_str().unwrap()]);
    assert_eq!(a.code, 0, "{}\n{:#}", a.stderr, a.summary);
    let dir_a = bundle_dir(&a.summary);
    let rows = findings(&dir_a);
    assert_eq!(
        rows[&("admin-policy".into(), policy("everything"))]["status"],
        "accepted"
    );
    let dave = &rows[&(
        "user-direct-policy".into(),
        format!("arn:aws:iam::{ACCOUNT}:user/dave"),
    )];
    assert_eq!(
        dave["status"], "open",
        "an expired exception does not apply"
    );
    let accepted = rows.values().filter(|r| r["status"] == "accepted").count();
    assert_eq!(accepted, 4);

    // The file is in the bundle as given, listed and hashed; each exception has its state.
    assert_eq!(
        std::fs::read_to_string(dir_a.join("exceptions.toml")).unwrap(),
        full_text
    );
    let manifest = read_json(&dir_a.join("manifest.json"));
    let listed = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "exceptions.toml")
        .expect("exceptions.toml is listed");
    assert_eq!(listed["sha256"], common::sha256_hex(full_text.as_bytes()));
    let record = &manifest["findings_summary"]["exceptions"];
    assert_eq!(record["source"], "run", "{record:#}");
    assert_eq!(record["sha256"], listed["sha256"]);
    assert_eq!(
        (&record["applied"], &record["expired"], &record["stale"]),
        (&Value::from(2), &Value::from(1), &Value::from(1)),
        "{record:#}"
    );
    assert_eq!(manifest["findings_summary"]["accepted"]["high"], 4);
    assert_eq!(manifest["findings_summary"]["high"], 0);
    let states: Vec<(String, String, String)> = csv_rows(&dir_a.join("exceptions.csv"))
        .into_iter()
        .map(|r| (r["line"].clone(), r["state"].clone(), r["findings"].clone()))
        .collect();
    assert_eq!(
        states,
        [
            ("1".into(), "applied".into(), "3".into()),
            ("9".into(), "applied".into(), "1".into()),
            ("17".into(), "expired".into(), "1".into()),
            ("25".into(), "stale".into(), "0".into()),
        ]
    );
    // index.html shows the accepted findings apart, with reason, approver and expiry.
    let page = std::fs::read_to_string(dir_a.join("index.html")).unwrap();
    let accepted_part = &page[page
        .find("<section id=\"accepted\">")
        .expect("accepted section")..];
    assert!(accepted_part.contains("break-glass-2") && accepted_part.contains("2099-12-31"));
    assert!(accepted_part.contains("jane.doe@example.com"));
    let open_part = &page[page.find("<section id=\"findings\">").unwrap()
        ..page.find("<section id=\"rules\">").unwrap()];
    assert!(
        !open_part.contains("break-glass-2"),
        "accepted shown as open"
    );

    // The terminal summary names the expired and the stale exception by line.
    let output = run(binary()
        .args(["collect", "--endpoint-url", &emulator.url])
        .args(ARGS)
        .arg("--out")
        .arg(work.path().join("plain"))
        .args(["--exceptions", full.to_str().unwrap()]));
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("Accepted: 4 finding(s)"), "{stdout}");
    assert!(
        stdout.contains("exception at line 17") && stdout.contains("EXPIRED on 2020-01-01"),
        "{stdout}"
    );
    assert!(
        stdout.contains("exception at line 25") && stdout.contains("STALE"),
        "{stdout}"
    );

    // verify catches a change to the copied file.
    let verified = run(binary().arg("verify").arg(&dir_a));
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stdout)
    );
    let copy = work.path().join("tampered");
    copy_dir(&dir_a, &copy);
    std::fs::write(
        copy.join("exceptions.toml"),
        full_text.replace("2099-12-31", "2199-12-31"),
    )
    .unwrap();
    let tampered = run(binary().arg("verify").arg(&copy));
    assert_ne!(tampered.status.code(), Some(0));
    assert!(
        text(&tampered.stdout).contains("exceptions.toml"),
        "{}",
        text(&tampered.stdout)
    );

    // report applies the recorded file: the same findings, byte for byte.
    let report_dir = common::report_expecting(
        &dir_a,
        &work.path().join("reports"),
        &["--fail-on", "high"],
        0,
    );
    assert_eq!(
        std::fs::read(report_dir.join("findings.csv")).unwrap(),
        std::fs::read(dir_a.join("findings.csv")).unwrap()
    );
    let record = &read_json(&report_dir.join("manifest.json"))["findings_summary"]["exceptions"];
    assert_eq!(record["source"], "bundle", "{record:#}");
    // ... or a file given anew, recorded as such.
    let given_dir = common::report_expecting(
        &dir_a,
        &work.path().join("reports"),
        &[
            "--fail-on",
            "high",
            "--exceptions",
            partial.to_str().unwrap(),
        ],
        4,
    );
    let record = &read_json(&given_dir.join("manifest.json"))["findings_summary"]["exceptions"];
    assert_eq!(record["source"], "given", "{record:#}");
    assert_eq!(
        std::fs::read_to_string(given_dir.join("exceptions.toml")).unwrap(),
        glob
    );

    // diff shows the acceptance as a change of its own; timeline as the finding's state.
    let diffed = run(binary().args(["diff", "--json"]).arg(&dir_b).arg(&dir_a));
    assert_eq!(diffed.status.code(), Some(0), "{}", text(&diffed.stderr));
    let diff: Value = serde_json::from_slice(&diffed.stdout).unwrap();
    assert_eq!(diff["findings_accepted"], 1, "{diff:#}");
    let change = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["change"] == "accepted")
        .expect("an accepted change");
    assert_eq!(
        change["subject"],
        format!("admin-policy {}", policy("everything"))
    );
    assert_eq!(change["before"], "open");
    assert_eq!(
        change["after"],
        "accepted by jane.doe@example.com until 2099-12-31"
    );
    let timeline = run(binary()
        .args(["timeline", "--json"])
        .arg(&dir_b)
        .arg(&dir_a)
        .arg("--out")
        .arg(work.path().join("timeline")));
    assert_eq!(
        timeline.status.code(),
        Some(0),
        "{}",
        text(&timeline.stderr)
    );
    let timeline: Value = serde_json::from_slice(&timeline.stdout).unwrap();
    let life = timeline["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"] == policy("everything"))
        .expect("policy/everything over the period");
    assert_eq!(life["status"], "accepted", "{life:#}");
    assert_eq!(life["accepted_since"], a.summary["run"]["started_at"]);
    assert_eq!(life["accepted_until"], "2099-12-31");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_exceptions_file_is_a_usage_error_naming_the_line_and_nothing_is_written() {
    let emulator = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let good = exception("admin-policy", "*", "2099-12-31", "");
    for (name, body, expected) in [
        (
            "malformed.toml",
            format!("{good}\n[[exception]\nrule = \"x\""),
            "malformed.toml, line 9:",
        ),
        (
            "unknown-rule.toml",
            format!(
                "{good}\n{}",
                exception("no-such-rule", "*", "2099-12-31", "")
            ),
            "line 10: unknown rule `no-such-rule`",
        ),
        (
            "no-expiry.toml",
            good.replace("expires = 2099-12-31\n", ""),
            "line 1: missing field `expires`",
        ),
    ] {
        let path = write(work.path(), name, &body);
        let out = work.path().join(name.replace(".toml", ""));
        let run = collect(&emulator, &out, &["--exceptions", path.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
        assert!(run.stderr.contains("fix:"), "{}", run.stderr);
        assert!(!out.exists(), "{name}: something was written");
    }
    let missing = collect(
        &emulator,
        &work.path().join("m"),
        &["--exceptions", "/nonexistent.toml"],
    );
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("/nonexistent.toml"),
        "{}",
        missing.stderr
    );
    // report refuses the same way, before reading any bundle.
    let output = run(binary()
        .args(["report", "/nonexistent-bundle", "--exceptions"])
        .arg(work.path().join("unknown-rule.toml")));
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown rule"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
