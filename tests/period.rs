//! Bundles over time: `diff` between two bundles of the seeded emulator account.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::seed::{
    collect_through_expecting, create_bucket, public_read, seed_findings, EVERYTHING_POLICY,
};
use common::{binary, csv_rows, run, sdk_config, text, Emulator};

/// A user with a console password and no MFA.
async fn console_user_without_mfa(iam: &aws_sdk_iam::Client, name: &str) {
    iam.create_user().user_name(name).send().await.unwrap();
    iam.create_login_profile()
        .user_name(name)
        .password("Correct-Horse-9-Battery")
        .send()
        .await
        .unwrap();
}

/// A role the account itself may assume.
async fn create_role(iam: &aws_sdk_iam::Client, name: &str) {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
}

/// A new customer managed policy allowing `*` on `*`, attached to `role`.
async fn attach_admin_policy(iam: &aws_sdk_iam::Client, role: &str, policy_name: &str) {
    let policy = iam
        .create_policy()
        .policy_name(policy_name)
        .policy_document(EVERYTHING_POLICY)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name(role)
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
}

/// What the seeded account gets before the first bundle: a public bucket to remove, a role to
/// make admin, a key to rotate.
async fn before(emulator: &Emulator) -> String {
    seed_findings(emulator).await;
    let config = sdk_config(emulator, "us-east-1");
    let s3 = aws_sdk_s3::Client::new(&config);
    create_bucket(&s3, "public-site", "us-east-1").await;
    public_read(&s3, "public-site").await;
    let iam = aws_sdk_iam::Client::new(&config);
    create_role(&iam, "deployer").await;
    let kms = aws_sdk_kms::Client::new(&config);
    let key = kms.create_key().send().await.unwrap();
    key.key_metadata().unwrap().key_id().to_string()
}

/// The changes between the two bundles: a console user without MFA, the public bucket
/// removed, an admin policy attached to the role, rotation enabled on the key.
async fn after(emulator: &Emulator, key: &str) {
    let config = sdk_config(emulator, "us-east-1");
    let iam = aws_sdk_iam::Client::new(&config);
    console_user_without_mfa(&iam, "erin").await;
    attach_admin_policy(&iam, "deployer", "deploy-everything").await;
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.delete_bucket()
        .bucket("public-site")
        .send()
        .await
        .unwrap();
    let kms = aws_sdk_kms::Client::new(&config);
    kms.enable_key_rotation().key_id(key).send().await.unwrap();
}

fn zip_of(summary: &serde_json::Value) -> PathBuf {
    PathBuf::from(summary["bundle"]["zip"].as_str().unwrap())
}

fn diff(old: &Path, new: &Path, extra: &[&str]) -> (i32, String, String) {
    let output = run(binary().arg("diff").arg(old).arg(new).args(extra));
    (
        output.status.code().unwrap(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_reports_exactly_what_changed_between_two_runs() {
    let emulator = Emulator::start();
    let key = before(&emulator).await;
    let (_a, first, _) = collect_through_expecting(&emulator.url, &[], 3);
    after(&emulator, &key).await;
    let (_b, second, _) = collect_through_expecting(&emulator.url, &[], 3);
    let (old, new) = (zip_of(&first), zip_of(&second));

    let (code, stdout, stderr) = diff(&old, &new, &["--json"]);
    assert_eq!(code, 0, "{stderr}");
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let changes: BTreeSet<(String, String, String, String)> = result["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_string();
            (s("kind"), s("change"), s("subject"), s("field"))
        })
        .collect();
    let key_arn = format!("arn:aws:kms:us-east-1:123456789012:key/{key}");
    let expected: BTreeSet<(String, String, String, String)> = [
        (
            "finding",
            "new",
            "user-console-no-mfa arn:aws:iam::123456789012:user/erin",
            "",
        ),
        (
            "finding",
            "new",
            "admin-policy arn:aws:iam::123456789012:policy/deploy-everything",
            "",
        ),
        (
            "finding",
            "resolved",
            "s3-bucket-public arn:aws:s3:::public-site",
            "",
        ),
        (
            "finding",
            "resolved",
            "s3-bucket-public-access-block arn:aws:s3:::public-site",
            "",
        ),
        (
            "finding",
            "resolved",
            &format!("kms-rotation {key_arn}"),
            "",
        ),
        ("user", "added", "erin", ""),
        ("role", "changed", "deployer", "admin"),
        ("role", "changed", "deployer", "attached_policies"),
    ]
    .iter()
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
    .collect();
    assert_eq!(changes, expected, "{result:#}");
    assert_eq!(result["findings_new"], 2);
    assert_eq!(result["findings_resolved"], 3);
    let admin = result["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"] == "deployer" && c["field"] == "admin")
        .unwrap();
    assert_eq!(
        (admin["before"].as_str(), admin["after"].as_str()),
        (Some("false"), Some("true"))
    );

    // --fail-on sees only the new findings: the critical root-mfa finding is in both bundles.
    assert_eq!(diff(&old, &new, &["--fail-on", "critical"]).0, 0);
    assert_eq!(diff(&old, &new, &["--fail-on", "high"]).0, 4);
    // The other way round, what was resolved is new (the public bucket's findings are critical).
    let (code, stdout, _) = diff(&new, &old, &["--json", "--fail-on", "critical"]);
    assert_eq!(code, 4);
    let reverse: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (
            reverse["findings_new"].as_u64(),
            reverse["findings_resolved"].as_u64()
        ),
        (Some(3), Some(2))
    );
    // No change between a bundle and itself (its directory).
    let (code, stdout, _) = diff(&old, &old.with_extension(""), &["--json"]);
    assert_eq!(code, 0);
    let same: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(same["changes"].as_array().unwrap().len(), 0);

    // --out: diff.csv, diff.json and a self-contained diff.html that chromium renders.
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("diff");
    let (code, stdout, stderr) = diff(&old, &new, &["--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Findings: 2 new, 3 resolved"), "{stdout}");
    let rows = csv_rows(&out.join("diff.csv"));
    assert_eq!(rows.len(), expected.len());
    let html = std::fs::read_to_string(out.join("diff.html")).unwrap();
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("href=\"http") && !html.contains("src="));
    let dom = common::browser::render(&out.join("diff.html"));
    assert!(dom.contains("deploy-everything"), "{dom}");
    assert!(dom.contains("public-site"));
    // Never replaces what is there.
    let (code, _, stderr) = diff(&old, &new, &["--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("diff.csv"), "{stderr}");

    // A tampered bundle is refused; two accounts are not compared.
    let tampered = work.path().join("tampered");
    std::process::Command::new("cp")
        .arg("-a")
        .arg(old.with_extension(""))
        .arg(&tampered)
        .status()
        .unwrap();
    let users = tampered.join("access-review/users.csv");
    let mut bytes = std::fs::read(&users).unwrap();
    bytes.push(b'\n');
    std::fs::write(&users, bytes).unwrap();
    let (code, _, stderr) = diff(&tampered, &new, &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("not intact"), "{stderr}");
}

/// A copy of the bundle directory `from` named `soc2-evidence-<account>-<stamp>` in `dir`, its
/// manifest saying it was collected at `at`. The manifest is not among the files it lists, so
/// the copy stays intact: a stand-in for a bundle collected on that date.
fn dated_copy(from: &Path, dir: &Path, at: &str) -> PathBuf {
    let stamp: String = at.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let to = dir.join(format!("soc2-evidence-123456789012-{stamp}"));
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(&to)
        .status()
        .unwrap();
    assert!(status.success());
    let path = to.join("manifest.json");
    let mut manifest = common::read_json(&path);
    manifest["run"]["started_at"] = serde_json::json!(at);
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    to
}

#[tokio::test(flavor = "multi_thread")]
async fn timeline_follows_findings_across_the_period_reports_gaps_and_leaves_out_tampered_bundles()
{
    let emulator = Emulator::start();
    seed_findings(&emulator).await;
    let iam = aws_sdk_iam::Client::new(&sdk_config(&emulator, "us-east-1"));
    let args = common::iam_args();
    let (_a, first, _) = collect_through_expecting(&emulator.url, &args, 0);
    // Day 2: a console user without MFA, and an admin policy on a new role.
    console_user_without_mfa(&iam, "erin").await;
    create_role(&iam, "deployer").await;
    attach_admin_policy(&iam, "deployer", "deploy-everything").await;
    let (_b, second, _) = collect_through_expecting(&emulator.url, &args, 0);
    // Day 6: erin's console password is gone.
    iam.delete_login_profile()
        .user_name("erin")
        .send()
        .await
        .unwrap();
    let (_c, third, _) = collect_through_expecting(&emulator.url, &args, 0);

    let work = tempfile::tempdir().unwrap();
    let folder = work.path().join("artifacts");
    std::fs::create_dir(&folder).unwrap();
    let dir = |summary: &serde_json::Value| common::bundle_dir(summary);
    dated_copy(&dir(&first), &folder, "2026-01-01T06:00:00Z");
    dated_copy(&dir(&second), &folder, "2026-01-02T06:00:00Z");
    dated_copy(&dir(&second), &folder, "2026-01-05T06:00:00Z");
    dated_copy(&dir(&third), &folder, "2026-01-06T06:00:00Z");
    let tampered = dated_copy(&dir(&third), &folder, "2026-01-07T06:00:00Z");
    let users = tampered.join("access-review/users.csv");
    let mut bytes = std::fs::read(&users).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x01;
    std::fs::write(&users, bytes).unwrap();

    let out = work.path().join("timeline");
    let output = run(binary()
        .args(["timeline", "--expect-every", "1d", "--json", "--out"])
        .arg(&out)
        .arg(&folder));
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    let t: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(t["subject"], "123456789012");
    assert_eq!(t["bundles"].as_array().unwrap().len(), 4);
    assert_eq!(t["period_start"], "2026-01-01T06:00:00Z");
    assert_eq!(t["period_end"], "2026-01-06T06:00:00Z");
    let excluded = t["excluded"].as_array().unwrap();
    assert_eq!(excluded.len(), 1, "{t:#}");
    assert!(excluded[0]["bundle"]
        .as_str()
        .unwrap()
        .ends_with("20260107T060000Z"));
    assert!(excluded[0]["reason"]
        .as_str()
        .unwrap()
        .contains("not intact"));
    let gaps = t["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{t:#}");
    assert_eq!(gaps[0]["from"], "2026-01-02T06:00:00Z");
    assert_eq!(gaps[0]["to"], "2026-01-05T06:00:00Z");
    assert_eq!(gaps[0]["days"], 3.0);

    let life = |rule: &str, resource: &str| -> serde_json::Value {
        t["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["resource"] == resource)
            .unwrap_or_else(|| panic!("{rule} {resource} in {t:#}"))
            .clone()
    };
    let erin = life("user-console-no-mfa", "arn:aws:iam::123456789012:user/erin");
    assert_eq!(erin["first_seen"], "2026-01-02T06:00:00Z");
    assert_eq!(erin["last_seen"], "2026-01-05T06:00:00Z");
    assert_eq!(erin["status"], "resolved");
    assert_eq!(erin["failing_since"], "");
    assert_eq!(erin["bundles_seen"], 2);
    let deploy = life(
        "admin-policy",
        "arn:aws:iam::123456789012:policy/deploy-everything",
    );
    assert_eq!(deploy["first_seen"], "2026-01-02T06:00:00Z");
    assert_eq!(deploy["status"], "open");
    assert_eq!(deploy["failing_since"], "2026-01-02T06:00:00Z");
    assert_eq!(deploy["days_open"], 4);
    let dave = life("user-console-no-mfa", "arn:aws:iam::123456789012:user/dave");
    assert_eq!(dave["failing_since"], "2026-01-01T06:00:00Z");
    assert_eq!(dave["days_open"], 5);
    assert_eq!(dave["bundles_seen"], 4);
    // The criterion grid: one state per bundle.
    let cc61 = t["controls"]["CC6.1"].as_array().unwrap();
    assert_eq!(cc61.len(), 4);

    // The files: one CSV row per finding; the page renders without any external reference.
    assert_eq!(
        csv_rows(&out.join("timeline.csv")).len(),
        t["findings"].as_array().unwrap().len()
    );
    let html = std::fs::read_to_string(out.join("timeline.html")).unwrap();
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("src=") && !html.contains("href=\"http"));
    let dom = common::browser::render(&out.join("timeline.html"));
    assert!(
        dom.contains("deploy-everything") && dom.contains("2026-01-05"),
        "{dom}"
    );
    assert!(dom.contains("not intact"));

    // Without the tampered bundle and with a weekly expectation: nothing left out, no gap.
    std::fs::remove_dir_all(&tampered).unwrap();
    let output = run(binary()
        .args(["timeline", "--expect-every", "7d"])
        .arg(&folder));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("4 bundles from 2026-01-01T06:00:00Z"));
}
