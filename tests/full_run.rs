//! One run of every collector over a two-region emulated account: the manifest's accounting of
//! regions and calls, and a region refused for one collector leaving everything else collected.

mod common;

use std::path::PathBuf;

use common::seed::{collect_through_expecting, seed, REGIONS};
use common::{
    binary, elements, manifest_collector, read_json, region_record, run, strings_of, Emulator,
};

#[tokio::test(flavor = "multi_thread")]
async fn every_collector_runs_and_the_manifest_accounts_for_regions_and_calls() {
    let emulator = Emulator::start();
    seed(&emulator).await;
    // moto implements no Access Analyzer: that collector fails, visibly, and nothing else.
    let (_out, summary, dir) = collect_through_expecting(&emulator.url, &[], 3);
    let manifest = read_json(&dir.join("manifest.json"));
    let ids = strings_of(&manifest["collectors"], "id");
    let registry: Vec<&str> = soc2_evidence::registry::ids();
    assert_eq!(ids, registry, "every collector, in registry order");
    assert_eq!(
        manifest["regions"],
        serde_json::json!(["eu-west-1", "us-east-1"])
    );

    let mut calls = 0;
    for c in elements(&manifest["collectors"]) {
        let id = c["id"].as_str().unwrap();
        let expected = if id == "access-analyzer" {
            "failed"
        } else {
            "collected"
        };
        assert_eq!(c["status"], expected, "{c:#}");
        let regions = strings_of(&c["regions"], "region");
        if c["scope"] == "regional" {
            // Each covered region is accounted for, with its own calls.
            for region in REGIONS {
                assert!(
                    regions.contains(&region),
                    "{id} has no record for {region}: {regions:?}"
                );
                let record = region_record(c, region);
                assert!(record["api_calls"].as_u64().unwrap() >= 1, "{id} {record}");
                assert_eq!(record["status"], expected, "{id} {record}");
            }
        }
        let region_calls: u64 = elements(&c["regions"])
            .iter()
            .map(|r| r["api_calls"].as_u64().unwrap())
            .sum();
        assert_eq!(region_calls, c["api_calls"].as_u64().unwrap(), "{id}");
        calls += c["api_calls"].as_u64().unwrap();
    }
    let analyzer = manifest_collector(&manifest, "access-analyzer");
    let errors = &analyzer["errors"];
    assert_eq!(errors.as_array().unwrap().len(), 2, "{errors:#}");
    for error in errors.as_array().unwrap() {
        assert_eq!(error["operation"], "ListAnalyzers");
        assert!(
            error["code"].as_str().unwrap().starts_with("Http"),
            "{error}"
        );
    }
    // The run's own calls: GetCallerIdentity (regions were given, so no DescribeRegions).
    assert_eq!(manifest["run"]["api_calls"].as_u64().unwrap(), calls + 1);
    assert_eq!(summary["run"]["api_calls"], manifest["run"]["api_calls"]);

    let zip = PathBuf::from(summary["bundle"]["zip"].as_str().unwrap());
    assert_eq!(run(binary().arg("verify").arg(&zip)).status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_refused_for_one_collector_leaves_every_other_collector_and_region_collected() {
    let emulator = Emulator::start();
    seed(&emulator).await;
    // KMS in eu-west-1 answers AccessDenied on the wire; everything else reaches the emulator.
    let proxy = common::proxy::Proxy::start(&emulator.url, |request| {
        (request.service == "kms" && request.region == "eu-west-1")
            .then(|| common::proxy::json_access_denied("kms:ListKeys"))
    });
    let skip = ["--skip", "access-analyzer"];
    let (_out, summary, dir) = collect_through_expecting(&proxy.url, &skip, 3);
    let manifest = read_json(&dir.join("manifest.json"));
    for c in elements(&manifest["collectors"]) {
        if c["id"] != "kms-key-rotation" {
            assert_eq!(c["status"], "collected", "{c:#}");
            continue;
        }
        assert_eq!(c["status"], "partial");
        let errors = c["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0]["region"], "eu-west-1");
        assert_eq!(errors[0]["operation"], "ListKeys");
        assert_eq!(errors[0]["code"], "AccessDeniedException");
        let status_of = |region: &str| region_record(c, region)["status"].clone();
        assert_eq!(status_of("eu-west-1"), "failed");
        assert_eq!(status_of("us-east-1"), "collected");
        // The refused region's key is absent, the other region's key is there.
        let keys = common::csv_rows(&dir.join("evidence/kms-key-rotation/keys.csv"));
        assert_eq!(keys.len(), 1, "{keys:?}");
        assert_eq!(keys[0]["region"], "us-east-1");
    }
    assert_eq!(summary["status"], "incomplete");
}

/// The demo's account on the test emulator (`scripts/emulator`: moto plus the calls it lacks),
/// seeded by `scripts/seed.py` as `scripts/demo` seeds it: every collector is collected, every
/// rule is evaluated on complete evidence, and collect exits 0.
#[test]
fn every_collector_is_collected_and_every_rule_evaluated_on_the_test_emulator() {
    let emulator = Emulator::start_extended();
    let python = std::env::var_os("SOC2_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let seeded = run(std::process::Command::new(python)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/seed.py"))
        .args(["--endpoint-url", &emulator.url])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing"));
    assert!(
        seeded.status.success(),
        "scripts/seed.py failed:\n{}\n{}\nemulator log:\n{}",
        common::text(&seeded.stdout),
        common::text(&seeded.stderr),
        emulator.log()
    );
    let (_out, summary, dir) = common::collect_expecting(&emulator, &["--region", "eu-west-1"], 0);
    let manifest = read_json(&dir.join("manifest.json"));
    let ids = strings_of(&manifest["collectors"], "id");
    assert_eq!(ids, soc2_evidence::registry::ids(), "every collector ran");
    for c in elements(&manifest["collectors"]) {
        assert_eq!(c["status"], "collected", "{c:#}");
        assert!(elements(&c["errors"]).is_empty(), "{c:#}");
    }
    assert_eq!(summary["status"], "complete", "{summary:#}");
    let rules = common::csv_rows(&dir.join("rules.csv"));
    assert_eq!(rules.len(), soc2_evidence::findings::rules().len());
    for rule in &rules {
        assert_eq!(rule["status"], "evaluated", "{rule:?}");
    }
    // The seeded facts the stock emulator cannot give are there.
    let findings = common::csv_rows(&dir.join("findings.csv"));
    let fired = |rule: &str| findings.iter().any(|f| f["rule"] == rule);
    for rule in [
        "access-analyzer-finding",
        "guardduty-high-findings",
        "ec2-imdsv1-allowed",
        "vpc-flow-logs-missing",
        "nacl-admin-port-open",
    ] {
        assert!(fired(rule), "{rule} did not fire: {findings:#?}");
    }
}
