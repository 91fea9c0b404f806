//! The documented policy (README "Documented policy") against the emulator: a documented
//! password policy stricter than the configured one gives exactly the mismatching requirements,
//! the documented limits become the thresholds, the file and its comparison are in the bundle,
//! `report` re-derives them, and a bad file is a usage error naming its line.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{binary, bundle_dir, csv_rows, read_json, run, sdk_config, text, Emulator};
use serde_json::Value;

const DOCUMENTED: &str = "# The written policy, section 4.2
[password]
minimum_length = 12
require_uppercase = true
require_lowercase = true
require_numbers = true
require_symbols = false
reuse_prevention = 5
max_age_days = 90

[access_keys]
max_age_days = 60

[inactivity]
user_days = 45
";

fn collect(emulator: &Emulator, out: &Path, extra: &[&str]) -> (i32, Value, String) {
    let output = run(binary()
        .args(["collect", "--json", "--endpoint-url", &emulator.url])
        .args(["--region", "us-east-1"])
        .args(["--collector", "iam-password-policy"])
        .args(["--collector", "iam-credential-report"])
        .args(["--collector", "iam-authorization-details"])
        .arg("--out")
        .arg(out)
        .args(extra));
    (
        output.status.code().unwrap(),
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
        text(&output.stderr),
    )
}

/// requirement -> (documented, configured, meets).
fn comparison(dir: &Path) -> BTreeMap<String, (String, String, String)> {
    csv_rows(&dir.join("documented-policy.csv"))
        .into_iter()
        .map(|r| {
            (
                r["requirement"].clone(),
                (
                    r["documented"].clone(),
                    r["configured"].clone(),
                    r["meets"].clone(),
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stricter_documented_policy_gives_exactly_the_mismatching_requirements() {
    let emulator = Emulator::start();
    let iam = aws_sdk_iam::Client::new(&sdk_config(&emulator, "us-east-1"));
    // Configured: 8 characters, upper and lower case and numbers, 5 remembered, no expiry.
    iam.update_account_password_policy()
        .minimum_password_length(8)
        .require_uppercase_characters(true)
        .require_lowercase_characters(true)
        .require_numbers(true)
        .password_reuse_prevention(5)
        .send()
        .await
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("documented.toml");
    std::fs::write(&file, DOCUMENTED).unwrap();

    let (code, summary, stderr) = collect(
        &emulator,
        &work.path().join("out"),
        &["--documented-policy", file.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}\n{summary:#}");
    let dir = bundle_dir(&summary);

    // The comparison, requirement by requirement.
    let rows = comparison(&dir);
    let row = |r: &str| rows.get(r).unwrap_or_else(|| panic!("no {r} in {rows:#?}"));
    assert_eq!(
        row("password.minimum_length"),
        &("12".into(), "8".into(), "false".into())
    );
    assert_eq!(
        row("password.require_numbers"),
        &("true".into(), "true".into(), "true".into())
    );
    assert_eq!(
        row("password.require_symbols"),
        &("false".into(), "false".into(), "true".into())
    );
    assert_eq!(
        row("password.reuse_prevention"),
        &("5".into(), "5".into(), "true".into())
    );
    assert_eq!(
        row("password.max_age_days"),
        &("90".into(), "not set".into(), "false".into())
    );
    assert_eq!(row("access_keys.max_age_days").0, "60");
    assert_eq!(row("inactivity.user_days").0, "45");
    assert!(!rows.contains_key("inactivity.role_days"), "not documented");

    // The finding names exactly the two requirements not met, and its baseline.
    let findings = csv_rows(&dir.join("findings.csv"));
    let password: Vec<_> = findings
        .iter()
        .filter(|f| f["rule"] == "password-policy")
        .collect();
    assert_eq!(password.len(), 1, "{findings:#?}");
    let detail = &password[0]["detail"];
    assert!(
        detail.contains("baseline: documented-policy.toml"),
        "{detail}"
    );
    assert!(
        detail.contains("password.minimum_length: documented 12, configured 8")
            && detail.contains("password.max_age_days: documented 90, configured not set"),
        "{detail}"
    );
    assert_eq!(detail.matches(", configured").count(), 2, "{detail}");

    // The limits became the thresholds; the file is in the bundle, hashed.
    let manifest = read_json(&dir.join("manifest.json"));
    let options = &manifest["run"]["options"];
    assert_eq!(options["thresholds"]["key_max_age_days"], 60);
    assert_eq!(options["thresholds"]["user_inactive_days"], 45);
    assert_eq!(
        options["thresholds"]["role_inactive_days"], 180,
        "the default"
    );
    assert_eq!(
        options["documented_policy"]["sha256"],
        common::sha256_hex(DOCUMENTED.as_bytes())
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("documented-policy.toml")).unwrap(),
        DOCUMENTED
    );
    assert!(manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "documented-policy.csv"));

    // Without the file: CIS is the baseline, and the finding says so.
    let (code, summary, stderr) = collect(&emulator, &work.path().join("cis"), &[]);
    assert_eq!(code, 0, "{stderr}");
    let cis = csv_rows(&bundle_dir(&summary).join("findings.csv"));
    let detail = &cis.iter().find(|f| f["rule"] == "password-policy").unwrap()["detail"];
    assert!(detail.contains("baseline: CIS 1.8, 1.9"), "{detail}");

    // report applies the recorded file: the same comparison and findings.
    let report_dir = common::report_expecting(&dir, &work.path().join("reports"), &[], 0);
    for file in [
        "documented-policy.csv",
        "findings.csv",
        "documented-policy.toml",
    ] {
        assert_eq!(
            std::fs::read(report_dir.join(file)).unwrap(),
            std::fs::read(dir.join(file)).unwrap(),
            "{file}"
        );
    }
    let options = &read_json(&report_dir.join("manifest.json"))["run"]["options"];
    assert_eq!(options["thresholds"]["key_max_age_days"], 60);

    // A bad file: exit 2, the line named, nothing written.
    std::fs::write(&file, "[password]\nminimum_length = 3\n").unwrap();
    let out = work.path().join("never");
    let (code, _summary, stderr) = collect(
        &emulator,
        &out,
        &["--documented-policy", file.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("line 2: `password.minimum_length` is 3"),
        "{stderr}"
    );
    assert!(!out.exists());
}
