//! Bundles over time: `diff` between two bundles of the seeded emulator account.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::seed::{
    collect_through_expecting, create_bucket, public_read, seed_findings, EVERYTHING_POLICY,
};
use common::{binary, csv_rows, run, sdk_config, text, Emulator};

/// What the seeded account gets before the first bundle: a public bucket to remove, a role to
/// make admin, a key to rotate.
async fn before(emulator: &Emulator) -> String {
    seed_findings(emulator).await;
    let config = sdk_config(emulator, "us-east-1");
    let s3 = aws_sdk_s3::Client::new(&config);
    create_bucket(&s3, "public-site", "us-east-1").await;
    public_read(&s3, "public-site").await;
    let iam = aws_sdk_iam::Client::new(&config);
    iam.create_role()
        .role_name("deployer")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let kms = aws_sdk_kms::Client::new(&config);
    let key = kms.create_key().send().await.unwrap();
    key.key_metadata().unwrap().key_id().to_string()
}

/// The changes between the two bundles: a console user without MFA, the public bucket
/// removed, an admin policy attached to the role, rotation enabled on the key.
async fn after(emulator: &Emulator, key: &str) {
    let config = sdk_config(emulator, "us-east-1");
    let iam = aws_sdk_iam::Client::new(&config);
    iam.create_user().user_name("erin").send().await.unwrap();
    iam.create_login_profile()
        .user_name("erin")
        .password("Correct-Horse-9-Battery")
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name("deploy-everything")
        .policy_document(EVERYTHING_POLICY)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("deployer")
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
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
