//! The config file (README "Config file") against the emulator: its values apply (paths from the
//! file's folder), flags win over it, an unknown key or a bad value is a usage error naming the
//! line and nothing is written, and its SHA-256 is in the manifest.

mod common;

use std::path::Path;

use common::seed::seed_findings;
use common::{binary, bundle_dir, read_json, run, sha256_hex, text, Emulator, ACCOUNT};
use serde_json::Value;

const CONFIG: &str = r#"# What every quarterly run repeats.
regions = ["us-east-1"]
collectors = ["iam-authorization-details"]
out = "evidence"
fail_on = "high"
exceptions = "accepted.toml"

[thresholds]
key_max_age_days = 30
"#;

fn accepted() -> String {
    format!(
        "[[exception]]\nrule = \"admin-policy\"\nresource = \"arn:aws:iam::{ACCOUNT}:policy/everything\"\nreason = \"Break-glass\"\napproved_by = \"jane.doe@example.com\"\nexpires = 2099-12-31\n"
    )
}

/// `collect --json` in `dir` against the emulator with `extra`: (exit code, summary, stderr).
fn collect_in(dir: &Path, emulator: &Emulator, extra: &[&str]) -> (i32, Value, String) {
    let output = run(binary()
        .current_dir(dir)
        .args(["collect", "--json", "--endpoint-url", &emulator.url])
        .args(extra));
    (
        output.status.code().unwrap(),
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
        text(&output.stderr),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_config_file_applies_flags_win_and_its_hash_is_recorded() {
    let emulator = Emulator::start();
    seed_findings(&emulator).await;
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path().join("job");
    std::fs::create_dir(&cwd).unwrap();
    std::fs::write(cwd.join("soc2-evidence.toml"), CONFIG).unwrap();
    std::fs::write(cwd.join("accepted.toml"), accepted()).unwrap();

    // Found in the working directory: every value applies. The one high finding is accepted
    // by the file's exceptions, so --fail-on high (from the file) passes.
    let (code, summary, stderr) = collect_in(&cwd, &emulator, &[]);
    assert_eq!(code, 0, "{stderr}\n{summary:#}");
    let bundle = cwd.join(bundle_dir(&summary));
    assert!(
        bundle.starts_with(cwd.join("evidence")),
        "{}",
        bundle.display()
    );
    let manifest = read_json(&bundle.join("manifest.json"));
    let options = &manifest["run"]["options"];
    assert_eq!(options["regions"], serde_json::json!(["us-east-1"]));
    assert_eq!(
        options["collectors"],
        serde_json::json!(["iam-authorization-details"])
    );
    assert_eq!(options["fail_on"], "high");
    assert_eq!(options["thresholds"]["key_max_age_days"], 30);
    assert_eq!(options["thresholds"]["user_inactive_days"], 90, "a default");
    assert_eq!(options["config"]["path"], "soc2-evidence.toml");
    assert_eq!(options["config"]["sha256"], sha256_hex(CONFIG.as_bytes()));
    assert_eq!(manifest["findings_summary"]["accepted"]["high"], 1);
    assert_eq!(
        std::fs::read_to_string(bundle.join("exceptions.toml")).unwrap(),
        accepted()
    );

    // Flags win over the file, each on its own; --config from elsewhere resolves the file's
    // paths from its own folder.
    let elsewhere = work.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let config = cwd.join("soc2-evidence.toml");
    // Bundles are named to the second: the second run writes into the same folder.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (code, summary, stderr) = collect_in(
        &elsewhere,
        &emulator,
        &[
            "--config",
            config.to_str().unwrap(),
            "--region",
            "eu-west-1",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(code, 0, "{stderr}\n{summary:#}");
    let bundle = bundle_dir(&summary);
    assert!(
        bundle.starts_with(cwd.join("evidence")),
        "{}",
        bundle.display()
    );
    let options = &read_json(&bundle.join("manifest.json"))["run"]["options"];
    assert_eq!(options["regions"], serde_json::json!(["eu-west-1"]));
    assert_eq!(options["fail_on"], "critical");
    assert_eq!(options["thresholds"]["key_max_age_days"], 30);
    assert_eq!(options["config"]["path"], config.to_str().unwrap());

    // --no-config: the working directory's file is not read.
    let out = work.path().join("plain");
    let (code, summary, stderr) = collect_in(
        &cwd,
        &emulator,
        &[
            "--no-config",
            "--region",
            "us-east-1",
            "--collector",
            "iam-password-policy",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let options = &read_json(&bundle_dir(&summary).join("manifest.json"))["run"]["options"];
    assert!(options.get("config").is_none(), "{options:#}");
    assert_eq!(options["fail_on"], Value::Null);
}

#[test]
fn a_bad_config_file_is_a_usage_error_naming_the_key_and_line_and_nothing_is_written() {
    let emulator = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    for (body, said) in [
        (
            "regions = [\"us-east-1\"]\n\n[thresholds]\nkey_max_age = 30\n",
            "line 4: unknown field `key_max_age`",
        ),
        (
            "fail_on = \"severe\"\n",
            "line 1: `fail_on`: invalid value 'severe'",
        ),
        (
            "regions = [\"us-east-1\"]\ncollectors = [\"no-such-collector\"]\n",
            "line 2: `collectors`:",
        ),
        ("out = 5\n", "line 1: `out` must be a path"),
    ] {
        std::fs::write(work.path().join("soc2-evidence.toml"), body).unwrap();
        let (code, _summary, stderr) = collect_in(work.path(), &emulator, &["--out", "written"]);
        assert_eq!(code, 2, "{body}: {stderr}");
        assert!(stderr.contains(said), "{body}: {stderr}");
        assert!(stderr.contains("soc2-evidence.toml"), "{stderr}");
        assert!(!work.path().join("written").exists());
        assert!(!work.path().join("evidence").exists());
    }
    // Values that only fail together with others: clap's reason, the file named.
    std::fs::write(
        work.path().join("soc2-evidence.toml"),
        "[org]\naccounts = [\"210987654321\"]\n",
    )
    .unwrap();
    let (code, _summary, stderr) = collect_in(work.path(), &emulator, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("soc2-evidence.toml") && stderr.contains("--role-name"),
        "{stderr}"
    );
    // A missing --config file.
    let (code, _summary, stderr) =
        collect_in(work.path(), &emulator, &["--config", "/nonexistent.toml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent.toml"), "{stderr}");
}
