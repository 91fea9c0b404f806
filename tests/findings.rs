//! The findings stage end to end: the real binary against the seeded emulator account writes
//! exactly the expected findings, `--fail-on` turns them into exit status 4, and `report`
//! re-derives the same findings from the bundle alone, leaving the source untouched.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::seed::{collect_through, collect_through_expecting, seed_findings, seed_privilege};
use common::{
    binary, bundle_dir, csv_rows, read_json, run, sha256_hex, strings_of, text, Emulator, ACCOUNT,
};
use serde_json::Value;

/// What the findings stage writes into a bundle from its evidence alone: `report` writes these
/// again, byte for byte.
const DERIVED: [&str; 5] = [
    "findings.csv",
    "findings.json",
    "rules.csv",
    "access-review/users.csv",
    "access-review/roles.csv",
];

fn collect(emulator: &Emulator, out: &Path, extra: &[&str]) -> (i32, Value) {
    collect_through(&emulator.url, out, extra)
}

/// (rule, resource) of every row of findings.csv.
fn findings_of(dir: &Path) -> BTreeSet<(String, String)> {
    csv_rows(&dir.join("findings.csv"))
        .into_iter()
        .map(|row| (row["rule"].clone(), row["resource"].clone()))
        .collect()
}

fn rule_status(dir: &Path) -> Vec<(String, String, String)> {
    csv_rows(&dir.join("rules.csv"))
        .into_iter()
        .map(|row| {
            (
                row["rule"].clone(),
                row["status"].clone(),
                row["reason"].clone(),
            )
        })
        .collect()
}

fn security_group_arn(dir: &Path, region: &str, name: &str) -> String {
    let row = csv_rows(&dir.join("evidence/ec2-security-groups/security-groups.csv"))
        .into_iter()
        .find(|r| r["region"] == region && r["group_name"] == name)
        .unwrap_or_else(|| panic!("no group {name} in {region}"));
    format!(
        "arn:aws:ec2:{region}:{ACCOUNT}:security-group/{}",
        row["group_id"]
    )
}

fn expected_findings(dir: &Path) -> BTreeSet<(String, String)> {
    let iam = |what: &str| format!("arn:aws:iam::{ACCOUNT}:{what}");
    let ssh_east = security_group_arn(dir, "us-east-1", "ssh-open");
    let ssh_west = security_group_arn(dir, "eu-west-1", "ssh-open");
    let open_west = security_group_arn(dir, "eu-west-1", "wide-open");
    let trail = format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-audit");
    [
        // moto reports root MFA off (GetAccountSummary AccountMFAEnabled 0).
        ("root-mfa", iam("root")),
        ("password-policy", iam("root")),
        ("user-console-no-mfa", iam("user/dave")),
        ("user-console-no-mfa", iam("user/frank")),
        ("user-direct-policy", iam("user/dave")),
        ("user-direct-policy", iam("user/grace")),
        ("admin-policy", iam("policy/everything")),
        // seed_privilege: one policy per family of escalation methods, the policy that allows
        // everything but IAM, and two principals that complete a method only by combining
        // policies (grace: stack-creator and pass-roles; automation: permissions-manager's
        // AttachRolePolicy and trust-editor's AssumeRole). scoped-pass gives nothing.
        ("privilege-escalation", iam("policy/key-helper")),
        ("privilege-escalation", iam("policy/group-manager")),
        ("privilege-escalation", iam("policy/policy-editor")),
        ("privilege-escalation", iam("policy/permissions-manager")),
        ("privilege-escalation", iam("policy/trust-editor")),
        ("privilege-escalation", iam("policy/lambda-deployer")),
        ("privilege-escalation", iam("policy/glue-maintainer")),
        ("privilege-escalation", iam("policy/all-but-iam")),
        ("privilege-escalation", iam("user/grace")),
        ("privilege-escalation", iam("role/automation")),
        ("sensitive-actions-all-resources", iam("policy/key-helper")),
        (
            "sensitive-actions-all-resources",
            iam("policy/trust-editor"),
        ),
        ("sensitive-actions-all-resources", iam("policy/all-but-iam")),
        ("sensitive-actions-all-resources", iam("role/automation")),
        ("admin-without-mfa", iam("user/dave")),
        ("admin-without-mfa", iam("user/frank")),
        ("not-action-allow", iam("policy/all-but-iam")),
        ("external-trust", iam("role/vendor-access")),
        // The trail is multi-region but not logging: no trail qualifies.
        (
            "cloudtrail-multi-region",
            format!("arn:aws:iam::{ACCOUNT}:root"),
        ),
        ("cloudtrail-validation", trail.clone()),
        ("cloudtrail-kms", trail.clone()),
        // The trail writes to logs-us-east-1, which is public (see s3-bucket-public), without
        // MFA delete and without default encryption (moto sets none). The trail is not
        // logging: no digest is due, so no log validation finding.
        (
            "cloudtrail-bucket-public",
            "arn:aws:s3:::logs-us-east-1".to_string(),
        ),
        (
            "cloudtrail-bucket-no-mfa-delete",
            "arn:aws:s3:::logs-us-east-1".to_string(),
        ),
        (
            "cloudtrail-bucket-unencrypted",
            "arn:aws:s3:::logs-us-east-1".to_string(),
        ),
        (
            "guardduty-disabled",
            format!("arn:aws:guardduty:eu-west-1:{ACCOUNT}:detector"),
        ),
        (
            "guardduty-disabled",
            format!("arn:aws:guardduty:us-east-1:{ACCOUNT}:detector"),
        ),
        ("sg-admin-port-open", ssh_east),
        ("sg-admin-port-open", ssh_west),
        ("sg-admin-port-open", open_west.clone()),
        ("sg-sensitive-port-open", open_west.clone()),
        ("sg-all-traffic-open", open_west),
        ("s3-account-public-access-block", iam("root")),
        (
            "s3-bucket-public",
            "arn:aws:s3:::logs-us-east-1".to_string(),
        ),
        (
            "s3-bucket-public-access-block",
            "arn:aws:s3:::logs-us-east-1".to_string(),
        ),
        (
            "s3-bucket-public-access-block",
            "arn:aws:s3:::logs-eu-west-1".to_string(),
        ),
        // moto starts EBS encryption by default off in every region.
        ("ebs-default-encryption-off", iam("root")),
        // No Config recorder anywhere.
        (
            "config-recorder-missing",
            format!("arn:aws:config:eu-west-1:{ACCOUNT}:configuration-recorder"),
        ),
        (
            "config-recorder-missing",
            format!("arn:aws:config:us-east-1:{ACCOUNT}:configuration-recorder"),
        ),
    ]
    .into_iter()
    // The trail sends to no CloudWatch Logs log group: every CIS section 4 item is missing.
    .chain(
        soc2_evidence::judge::metric_filter::ITEMS
            .iter()
            .map(|item| ("monitoring-alarm-missing", item.id.to_string())),
    )
    .map(|(rule, resource)| (rule.to_string(), resource))
    .chain(default_network_findings(dir))
    .collect()
}

/// Each region's default VPC (no flow log) and its default network ACL (allow-all at rule
/// 100), which moto creates as AWS does: exactly one of each per region.
fn default_network_findings(dir: &Path) -> Vec<(String, String)> {
    let evidence = dir.join("evidence/vpc-network");
    let mut found = Vec::new();
    for (file, id, kind, rule) in [
        ("vpcs.csv", "vpc_id", "vpc", "vpc-flow-logs-missing"),
        (
            "network-acls.csv",
            "network_acl_id",
            "network-acl",
            "nacl-admin-port-open",
        ),
    ] {
        let rows = csv_rows(&evidence.join(file));
        assert_eq!(rows.len(), 2, "{file}: {rows:#?}");
        for row in rows {
            assert_eq!(row["is_default"], "true", "{row:?}");
            found.push((
                rule.to_string(),
                format!("arn:aws:ec2:{}:{ACCOUNT}:{kind}/{}", row["region"], row[id]),
            ));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seeded_account_yields_exactly_the_expected_findings_and_report_reproduces_them() {
    let emulator = Emulator::start();
    seed_findings(&emulator).await;
    seed_privilege(&emulator).await;
    // moto has no Access Analyzer: incomplete evidence (3) wins over findings (4).
    let (_out, summary, dir) =
        collect_through_expecting(&emulator.url, &["--fail-on", "critical"], 3);

    let found = findings_of(&dir);
    let expected = expected_findings(&dir);
    assert_eq!(
        found,
        expected,
        "unexpected: {:#?}\nmissing: {:#?}",
        found.difference(&expected).collect::<Vec<_>>(),
        expected.difference(&found).collect::<Vec<_>>()
    );

    // Rules whose evidence is missing are not evaluated, with the reason; never a pass.
    let rules = rule_status(&dir);
    assert_eq!(
        rules.len(),
        soc2_evidence::findings::rules().len(),
        "every rule has an outcome"
    );
    for (rule, status, reason) in &rules {
        match rule.as_str() {
            "access-analyzer-missing"
            | "access-analyzer-finding"
            | "access-analyzer-finding-overdue" => {
                assert_eq!(status, "not_evaluated", "{rule}");
                assert!(
                    reason.contains("access-analyzer failed") && reason.contains("Http500"),
                    "{rule}: {reason}"
                );
            }
            // moto's credential report has no <root_account> row.
            "root-used-recently" => {
                assert_eq!(status, "not_evaluated", "{rule}");
                assert!(reason.contains("<root_account>"), "{reason}");
            }
            _ => assert_eq!(status, "evaluated", "{rule}: {reason}"),
        }
    }

    // The manifest counts them by severity and per criterion; the summary shows them.
    let manifest = read_json(&dir.join("manifest.json"));
    let fs = &manifest["findings_summary"];
    let rows = csv_rows(&dir.join("findings.csv"));
    for severity in ["critical", "high", "medium", "low"] {
        let n = rows.iter().filter(|r| r["severity"] == severity).count() as u64;
        assert_eq!(fs[severity], n, "{severity}");
        assert_eq!(summary["findings_summary"][severity], n, "{severity}");
    }
    assert_eq!(fs["total"], rows.len() as u64);
    assert_eq!(fs["rules_not_evaluated"], 4);
    assert_eq!(fs["fail_on"], "critical");
    let cc66 = rows
        .iter()
        .filter(|r| r["controls"].split(';').any(|c| c == "CC6.6"))
        .count() as u64;
    assert_eq!(manifest["controls"]["CC6.6"]["findings"], cc66);
    assert!(cc66 > 0);
    let listed = strings_of(&manifest["files"], "path");
    for path in DERIVED.into_iter().chain(["index.html"]) {
        assert!(listed.contains(&path), "{path} is listed in the manifest");
    }
    // Every finding points at an evidence file of the bundle.
    for row in &rows {
        assert!(
            dir.join(&row["evidence"]).is_file(),
            "{}: {}",
            row["rule"],
            row["evidence"]
        );
        assert!(!row["remediation"].is_empty(), "{}", row["rule"]);
    }

    privilege_findings_name_their_methods_and_holders(&dir);

    // `report` on the zip re-derives the same findings from the evidence alone.
    let zip = PathBuf::from(summary["bundle"]["zip"].as_str().unwrap());
    let zip_hash = sha256_hex(&std::fs::read(&zip).unwrap());
    let reports = tempfile::tempdir().unwrap();
    let output = run(binary()
        .args(["report", "--json", "--out"])
        .arg(reports.path())
        .arg(&zip));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["exit_code"], 0,
        "the summary says what the process exits with"
    );
    let again = bundle_dir(&report);
    assert_ne!(again, dir);
    for path in DERIVED {
        assert_eq!(
            std::fs::read(dir.join(path)).unwrap(),
            std::fs::read(again.join(path)).unwrap(),
            "{path} differs between collect and report"
        );
    }
    let derived = read_json(&again.join("manifest.json"));
    assert_eq!(derived["derived_from"]["run_id"], manifest["run"]["id"]);
    assert_eq!(
        derived["derived_from"]["manifest_sha256"],
        sha256_hex(&std::fs::read(dir.join("manifest.json")).unwrap())
    );
    // The evidence files are the source's, hash for hash.
    for file in manifest["files"].as_array().unwrap() {
        let path = file["path"].as_str().unwrap();
        if path.starts_with("evidence/") {
            assert!(
                derived["files"].as_array().unwrap().contains(file),
                "{path} copied unchanged"
            );
        }
    }
    // The new bundle verifies; the source is untouched.
    let verify = run(binary()
        .arg("verify")
        .arg(PathBuf::from(report["bundle"]["zip"].as_str().unwrap())));
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
    assert_eq!(sha256_hex(&std::fs::read(&zip).unwrap()), zip_hash);

    // --out inside the source directory would change it: refused, nothing written there.
    let output = run(binary()
        .arg("report")
        .arg("--out")
        .arg(dir.join("derived"))
        .arg(&dir));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("lies inside the bundle"),
        "{}",
        text(&output.stderr)
    );
    assert!(!dir.join("derived").exists());

    // Other thresholds and --fail-on: the report's exit status follows its own findings.
    let output = run(binary()
        .args([
            "report",
            "-q",
            "--fail-on",
            "high",
            "--role-inactive-days",
            "30",
        ])
        .arg("--out")
        .arg(reports.path())
        .arg(&dir));
    assert_eq!(output.status.code(), Some(4), "{}", text(&output.stderr));
    let third = PathBuf::from(text(&output.stdout).trim());
    let m = common::read_json(&third.join("manifest.json"));
    assert_eq!(m["run"]["options"]["thresholds"]["role_inactive_days"], 30);
}

/// The details of the findings of `seed_privilege`, and the access review's columns for them.
fn privilege_findings_name_their_methods_and_holders(dir: &Path) {
    let rows = csv_rows(&dir.join("findings.csv"));
    let detail = |rule: &str, what: &str| -> String {
        let resource = format!("arn:aws:iam::{ACCOUNT}:{what}");
        rows.iter()
            .find(|r| r["rule"] == rule && r["resource"] == resource)
            .unwrap_or_else(|| panic!("no {rule} finding on {resource}"))["detail"]
            .clone()
    };
    let escalation = "privilege-escalation";
    // One method family per policy, each named with its actions.
    for (policy, method) in [
        ("key-helper", "create-access-key (iam:CreateAccessKey)"),
        ("group-manager", "add-user-to-group (iam:AddUserToGroup)"),
        (
            "policy-editor",
            "create-policy-version (iam:CreatePolicyVersion)",
        ),
        (
            "permissions-manager",
            "attach-user-policy (iam:AttachUserPolicy)",
        ),
        (
            "trust-editor",
            "update-assume-role-policy (iam:UpdateAssumeRolePolicy, sts:AssumeRole)",
        ),
        (
            "lambda-deployer",
            "pass-role-lambda-invoke (iam:PassRole, lambda:CreateFunction, \
             lambda:InvokeFunction)",
        ),
        (
            "glue-maintainer",
            "update-glue-dev-endpoint (glue:UpdateDevEndpoint)",
        ),
        (
            "all-but-iam",
            "update-lambda-code (lambda:UpdateFunctionCode)",
        ),
    ] {
        let text = detail(escalation, &format!("policy/{policy}"));
        assert!(
            text.starts_with(&format!("managed policy {policy} completes")),
            "{text}"
        );
        assert!(text.contains(method), "{policy}: {text}");
    }
    let helpers = detail(escalation, "policy/key-helper");
    assert!(
        helpers.ends_with(
            "; held by group iam-helpers; reaches user frank (through group iam-helpers)"
        ),
        "{helpers}"
    );
    assert_eq!(
        detail(escalation, "user/grace"),
        "user grace completes pass-role-cloudformation only by combining policies: \
         iam:PassRole from inline policy pass-roles; cloudformation:CreateStack from managed \
         policy stack-creator"
    );
    assert_eq!(
        detail(escalation, "role/automation"),
        "role automation completes attach-role-policy only by combining policies: \
         iam:AttachRolePolicy from managed policy permissions-manager; sts:AssumeRole from \
         managed policy trust-editor"
    );
    assert_eq!(
        detail("not-action-allow", "policy/all-but-iam"),
        "managed policy all-but-iam allows every action but iam:*, organizations:* on every \
         resource (statement 1); held by role power-user"
    );
    assert!(
        detail("sensitive-actions-all-resources", "role/automation").starts_with(
            "inline policy secrets-reader allows on every resource data-exfiltration \
         secretsmanager:GetSecretValue, kms:Decrypt"
        )
    );
    assert!(detail("admin-without-mfa", "user/frank").starts_with(
        "frank has a console password and no MFA device and holds managed policy \
         group-manager (through group iam-helpers) (privilege escalation: add-user-to-group)"
    ));
    for row in rows.iter().filter(|r| r["rule"] == "admin-without-mfa") {
        assert_eq!(row["severity"], "critical");
    }

    // The access review shows what each principal's policies give.
    let users = csv_rows(&dir.join("access-review/users.csv"));
    let user = |name: &str| users.iter().find(|u| u["user_name"] == name).unwrap();
    assert_eq!(
        user("frank")["escalation_methods"],
        "create-access-key;add-user-to-group"
    );
    assert_eq!(user("frank")["exposure"], "credentials-exposure");
    assert_eq!(
        user("grace")["escalation_methods"],
        "pass-role-cloudformation"
    );
    assert_eq!(user("alice")["escalation_methods"], "");
    let roles = csv_rows(&dir.join("access-review/roles.csv"));
    let automation = roles
        .iter()
        .find(|r| r["role_name"] == "automation")
        .unwrap();
    assert_eq!(
        automation["escalation_methods"],
        "create-policy-version;attach-user-policy;attach-group-policy;attach-role-policy;\
         update-assume-role-policy;pass-role-lambda-invoke;update-glue-dev-endpoint"
    );
    assert_eq!(
        automation["exposure"],
        "data-exfiltration;credentials-exposure"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_on_sets_exit_status_4_only_at_or_above_the_severity() {
    let emulator = Emulator::start();
    // No password policy: one medium finding from the only collector run. Each run writes into
    // its own directory (two runs within a second would have the same bundle name).
    let run_with = |extra: &[&str]| {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec!["--collector", "iam-password-policy"];
        args.extend_from_slice(extra);
        let (code, summary) = collect(&emulator, out.path(), &args);
        (code, summary, out)
    };
    let (code, summary, _out) = run_with(&["--fail-on", "high"]);
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(summary["findings_summary"]["medium"], 1);
    let (code, summary, _out) = run_with(&["--fail-on", "medium"]);
    assert_eq!(code, 4, "{summary:#}");
    assert_eq!(summary["exit_code"], 4);
    assert_eq!(summary["findings"][0]["rule"], "password-policy");
    let (code, _, _out) = run_with(&["--fail-on", "low"]);
    assert_eq!(code, 4);
    let (code, summary, _out) = run_with(&[]);
    assert_eq!(code, 0, "no --fail-on: findings alone never fail the run");
    // Rules of collectors that were not run are not evaluated, and say so.
    let rules = rule_status(&bundle_dir(&summary));
    let (_, status, reason) = rules.iter().find(|r| r.0 == "kms-rotation").unwrap();
    assert_eq!(status, "not_evaluated");
    assert!(reason.contains("kms-key-rotation was not run"), "{reason}");
}

#[test]
fn report_refuses_a_bundle_that_is_not_intact_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir
        .path()
        .join("soc2-evidence-123456789012-20261122T070509Z");
    std::fs::create_dir(&bundle).unwrap();
    std::fs::write(
        bundle.join("manifest.json"),
        b"{\"schema_version\": 1, \"files\": []}",
    )
    .unwrap();
    std::fs::write(bundle.join("extra.csv"), b"a\n1\n").unwrap();
    let output = run(binary().arg("report").arg(&bundle));
    assert_eq!(output.status.code(), Some(1));
    let err = text(&output.stderr);
    assert!(err.contains("not intact"), "{err}");
    assert!(err.contains("extra.csv"), "{err}");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "nothing written beside the bundle");

    let output = run(binary().arg("report").arg(dir.path().join("missing.zip")));
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("missing.zip"));
}
