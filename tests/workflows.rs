//! The example workflows parse as YAML and the quarterly evidence job does what README's "Run it
//! in CI" promises. Read with the PyYAML that moto brings into `.venv` (no YAML crate needed).

use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    let server = std::env::var_os("SOC2_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"));
    let python = server.with_file_name("python");
    assert!(
        python.exists(),
        "{} not found: run scripts/test, which installs .venv with moto (and PyYAML)",
        python.display()
    );
    python
}

const CHECK: &str = r#"
import sys, yaml
ci = yaml.safe_load(open(".github/workflows/ci.yml"))
assert ci["jobs"]["test"]["steps"][-1]["run"] == "bash .ci/run", ci["jobs"]["test"]["steps"][-1]
wf = yaml.safe_load(open(".github/workflows/evidence.yml"))
on = wf[True]  # YAML 1.1 reads the key `on` as true
cron = on["schedule"][0]["cron"].split()
assert cron[2] == "1" and cron[3] == "1,4,7,10", cron  # first day of each quarter
assert "workflow_dispatch" in on
assert wf["permissions"]["id-token"] == "write" and wf["permissions"]["contents"] == "read"
steps = wf["jobs"]["collect"]["steps"]
creds = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
assert len(creds) == 1 and "role-to-assume" in creds[0]["with"], creds
assert not any("aws-access-key-id" in s.get("with", {}) for s in steps), "no stored keys"
run = next(s for s in steps if s.get("id") == "collect")["run"]
assert "collect" in run and "--json" in run and "--fail-on" in run, run
assert next(s for s in steps if s.get("id") == "collect")["env"]["FAIL_ON"].endswith("'critical' }}")
upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
paths = upload["with"]["path"].split()
assert "evidence/*.zip" in paths and "evidence/*.zip.sha256" in paths, paths
assert upload["with"]["retention-days"] >= 365
assert upload["if"].startswith("always()"), "the bundle is kept when the job fails"
print("ok")
"#;

#[test]
fn the_evidence_workflow_runs_quarterly_with_oidc_and_keeps_the_bundle() {
    let output = Command::new(python())
        .arg("-c")
        .arg(CHECK)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
