//! Bucket and key policies reviewed (README "Findings"): against the emulator, a bucket policy
//! granting another account, one granting `*` with and without a source condition, and a key
//! policy granting another account. The documents and their grants are in the bundle; grants
//! to anyone or to untrusted accounts are findings; `--trusted-account` accepts an account;
//! `report` re-derives the findings from the documents with the recorded trusted accounts.

mod common;

use std::path::Path;

use common::seed::create_bucket;
use common::{binary, bundle_dir, csv_rows, read_json, run, sdk_config, text, Emulator, ACCOUNT};
use serde_json::Value;

const PARTNER: &str = "444455556666";

fn bucket_policy(bucket: &str, principal: &str, condition: Option<&str>) -> String {
    let condition = condition
        .map(|c| format!(r#","Condition":{c}"#))
        .unwrap_or_default();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Read","Effect":"Allow","Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"{condition}}}]}}"#
    )
}

async fn seed(emulator: &Emulator) -> String {
    let config = sdk_config(emulator, "us-east-1");
    let s3 = aws_sdk_s3::Client::new(&config);
    for (bucket, principal, condition) in [
        (
            "partner-share",
            format!(r#"{{"AWS":"arn:aws:iam::{PARTNER}:root"}}"#),
            None,
        ),
        ("public-site", r#""*""#.to_string(), None),
        (
            "org-only",
            r#""*""#.to_string(),
            Some(r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#),
        ),
    ] {
        create_bucket(&s3, bucket, "us-east-1").await;
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(bucket_policy(bucket, &principal, condition))
            .send()
            .await
            .unwrap();
    }
    create_bucket(&s3, "no-policy", "us-east-1").await;
    let kms = aws_sdk_kms::Client::new(&config);
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Own","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},{{"Sid":"PartnerDecrypt","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{PARTNER}:root"}},"Action":"kms:Decrypt","Resource":"*"}}]}}"#
    );
    let key = kms.create_key().policy(policy).send().await.unwrap();
    key.key_metadata().unwrap().key_id().to_string()
}

fn collect(emulator: &Emulator, out: &Path, extra: &[&str]) -> (i32, Value, String) {
    let output = run(binary()
        .args(["collect", "--json", "--endpoint-url", &emulator.url])
        .args(["--region", "us-east-1"])
        .args(["--collector", "s3-public-access"])
        .args(["--collector", "kms-key-rotation"])
        .arg("--out")
        .arg(out)
        .args(extra));
    (
        output.status.code().unwrap(),
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
        text(&output.stderr),
    )
}

/// (rule, resource) -> detail of the resource-policy findings.
fn external(dir: &Path) -> Vec<(String, String, String)> {
    let mut found: Vec<(String, String, String)> = csv_rows(&dir.join("findings.csv"))
        .into_iter()
        .filter(|f| f["rule"].ends_with("-policy-external"))
        .map(|f| {
            (
                f["rule"].clone(),
                f["resource"].clone(),
                f["detail"].clone(),
            )
        })
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn grants_to_anyone_and_to_untrusted_accounts_are_findings() {
    let emulator = Emulator::start();
    let key_id = seed(&emulator).await;
    let work = tempfile::tempdir().unwrap();

    let (code, summary, stderr) = collect(&emulator, &work.path().join("a"), &[]);
    assert_eq!(code, 0, "{stderr}\n{summary:#}");
    let dir = bundle_dir(&summary);

    // The documents and their grants.
    let policies = read_json(&dir.join("evidence/s3-public-access/bucket-policies.json"));
    let names: Vec<(&str, bool)> = policies["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["name"].as_str().unwrap(), b["present"].as_bool().unwrap()))
        .collect();
    assert!(names.contains(&("no-policy", false)), "{names:?}");
    assert!(names.contains(&("partner-share", true)), "{names:?}");
    let grants = csv_rows(&dir.join("evidence/s3-public-access/bucket-policy-grants.csv"));
    let org = grants.iter().find(|g| g["name"] == "org-only").unwrap();
    assert_eq!(org["principal_kind"], "anyone");
    assert_eq!(org["restricted_by"], "aws:PrincipalOrgID");
    assert_eq!(org["outside_account"], "false");
    let partner = grants
        .iter()
        .find(|g| g["name"] == "partner-share")
        .unwrap();
    assert_eq!(partner["principal_account"], PARTNER);
    assert_eq!(partner["outside_account"], "true");
    let key_grants = csv_rows(&dir.join("evidence/kms-key-rotation/key-policy-grants.csv"));
    let sids: Vec<(&str, &str)> = key_grants
        .iter()
        .map(|g| (g["sid"].as_str(), g["outside_account"].as_str()))
        .collect();
    assert_eq!(sids, [("Own", "false"), ("PartnerDecrypt", "true")]);

    // Findings: the partner bucket, the public one and the key; not the org-only bucket.
    let found = external(&dir);
    let resources: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
    let key_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}");
    assert_eq!(
        resources,
        [
            key_arn.as_str(),
            "arn:aws:s3:::partner-share",
            "arn:aws:s3:::public-site"
        ],
        "{found:#?}"
    );
    let public = &found[2].2;
    assert!(
        public.contains("to anyone") && public.contains(r#""Sid":"Read""#),
        "{public}"
    );
    assert!(
        found[1].2.contains(&format!("to account {PARTNER}")),
        "{found:#?}"
    );

    // The partner trusted: only the public bucket remains.
    let (code, summary, stderr) = collect(
        &emulator,
        &work.path().join("b"),
        &["--trusted-account", PARTNER],
    );
    assert_eq!(code, 0, "{stderr}");
    let trusted_dir = bundle_dir(&summary);
    let found = external(&trusted_dir);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, "arn:aws:s3:::public-site");
    assert!(found[0].2.contains(&format!("trusted: {PARTNER}")));
    let options = &read_json(&trusted_dir.join("manifest.json"))["run"]["options"];
    assert_eq!(options["trusted_accounts"], serde_json::json!([PARTNER]));

    // report keeps the recorded trusted accounts, and judges the documents again.
    let report_dir = common::report_expecting(&trusted_dir, &work.path().join("reports"), &[], 0);
    assert_eq!(external(&report_dir), external(&trusted_dir));
}
