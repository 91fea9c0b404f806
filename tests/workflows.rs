//! The example workflows parse as YAML and the quarterly evidence jobs do what README's "Run it
//! in CI" and "Collect a whole organization" promise; the member role template grants exactly
//! what `policy` prints. Read with the PyYAML that moto brings into `.venv` (no YAML crate
//! needed).

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use soc2_evidence::policy::DEFAULT_MEMBER_ROLE;

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
# The browser of the HTML tests: installed without root by a maintained action, handed to the
# tests through SOC2_CHROMIUM (GitHub's runners are not root; Ubuntu's chromium is a snap stub).
ci_steps = ci["jobs"]["test"]["steps"]
chrome = [s for s in ci_steps if s.get("uses", "").startswith("browser-actions/setup-chrome@")]
assert len(chrome) == 1 and chrome[0].get("id"), ci_steps
assert ci_steps[-1]["env"]["SOC2_CHROMIUM"] == "${{ steps.%s.outputs.chrome-path }}" % chrome[0]["id"]
assert ci_steps.index(chrome[0]) < len(ci_steps) - 1, "the browser is installed before the tests"
assert not any("sudo" in s.get("run", "") or "apt-get" in s.get("run", "") for s in ci_steps), \
    "no root assumed on GitHub's runners"
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
# Signs with the KMS key the repository variable names, and only then.
signing = next(s for s in steps if s.get("id") == "collect")
assert signing["env"]["SIGNING_KEY"] == "${{ vars.AWS_EVIDENCE_SIGNING_KEY }}", signing["env"]
assert 'if [ -n "$SIGNING_KEY" ]; then sign=(--sign-kms-key "$SIGNING_KEY"); fi' in run, run
assert '"${sign[@]}"' in run, run
upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
paths = upload["with"]["path"].split()
assert "evidence/*.zip" in paths and "evidence/*.zip.sha256" in paths, paths
assert upload["with"]["retention-days"] >= 365
assert upload["if"].startswith("always()"), "the bundle is kept when the job fails"
print("ok")
"#;

/// Runs a Python check in the repository's root with `args`; its output when it fails.
fn python_check(script: &str, args: &[&str]) -> String {
    let output = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_evidence_workflow_runs_quarterly_with_oidc_and_keeps_the_bundle() {
    python_check(CHECK, &[]);
}

/// The org workflow, checked like the one-account workflow, and: a shard matrix whose shards run
/// to their end, `collect --org --shard K/N` with the member role, each shard bundle kept, and a
/// merge job without AWS access that finds every shard artifact and keeps the org bundle.
const CHECK_ORG: &str = r#"
import fnmatch, sys, yaml
default_role = sys.argv[1]
wf = yaml.safe_load(open(".github/workflows/evidence-org.yml"))
on = wf[True]  # YAML 1.1 reads the key `on` as true
cron = on["schedule"][0]["cron"].split()
assert cron[2] == "1" and cron[3] == "1,4,7,10", cron  # first day of each quarter
inputs = on["workflow_dispatch"]["inputs"]
assert inputs["shards"]["type"] == "number" and inputs["shards"]["default"] >= 1, inputs
assert inputs["fail_on"]["default"] == "critical", inputs
assert wf["permissions"]["id-token"] == "write" and wf["permissions"]["contents"] == "read"
jobs = wf["jobs"]
assert set(jobs) == {"build", "collect", "merge"}, list(jobs)
for name, job in jobs.items():
    assert "vars.AWS_EVIDENCE_ORG_ROLE_ARN != ''" in job["if"], (name, job["if"])
    steps = job["steps"]
    assert not any("aws-access-key-id" in s.get("with", {}) for s in steps), "no stored keys"
    creds = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
    if name == "collect":
        assert len(creds) == 1, creds
        assert creds[0]["with"]["role-to-assume"] == "${{ vars.AWS_EVIDENCE_ORG_ROLE_ARN }}", creds
    elif name == "merge":  # AWS only to sign, only when a signing key is set
        assert len(creds) == 1 and creds[0]["if"] == "vars.AWS_EVIDENCE_SIGNING_KEY != ''", creds
    else:  # the build never talks to AWS
        assert not creds and "id-token" not in job["permissions"], (name, job)

def kept(steps):
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")
               and "evidence/*.zip" in s["with"]["path"].split()]
    assert len(uploads) == 1, uploads
    upload = uploads[0]
    paths = upload["with"]["path"].split()
    assert "evidence/*.zip" in paths and "evidence/*.zip.sha256" in paths, paths
    assert upload["with"]["retention-days"] >= 365
    assert upload["if"].startswith("always()"), "the bundle is kept when the job fails"
    return upload

collect = jobs["collect"]
assert collect["needs"] == "build"
assert collect["strategy"]["fail-fast"] is False, "one failed shard must not cancel the others"
assert collect["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.build.outputs.shards) }}"
step = next(s for s in collect["steps"] if s.get("id") == "collect")
run = " ".join(step["run"].replace("\\\n", " ").split())
for part in ["soc2-evidence collect --org", '--role-name "$MEMBER_ROLE"', '--shard "$SHARD"',
             "--json", '--fail-on "$FAIL_ON"']:
    assert part in run, (part, run)
assert step["env"]["MEMBER_ROLE"] == "${{ vars.AWS_EVIDENCE_MEMBER_ROLE || '%s' }}" % default_role
assert step["env"]["SHARD"] == "${{ matrix.shard }}/${{ needs.build.outputs.count }}", step["env"]
assert step["env"]["FAIL_ON"].endswith("'critical' }}")
shard_upload = kept(collect["steps"])

merge = jobs["merge"]
assert set(merge["needs"]) == {"build", "collect"}, merge["needs"]
assert merge["if"].startswith("always()") and "needs.build.result == 'success'" in merge["if"]
download = next(s for s in merge["steps"] if "pattern" in s.get("with", {}))
assert not download["with"].get("merge-multiple"), "shard bundles of one name must not collide"
def expand(name):
    return (name.replace("${{ matrix.shard }}", "3").replace("${{ needs.build.outputs.count }}", "4")
                .replace("${{ github.run_id }}", "42"))
assert fnmatch.fnmatchcase(expand(shard_upload["with"]["name"]), expand(download["with"]["pattern"])),     (shard_upload["with"]["name"], download["with"]["pattern"])
merged = next(s for s in merge["steps"] if s.get("id") == "merge")["run"]
assert "soc2-evidence merge shards/*/*.zip --out evidence" in merged, merged
for job_run in [run, merged]:
    assert 'if [ -n "$SIGNING_KEY" ]; then sign=(--sign-kms-key "$SIGNING_KEY"); fi' in job_run, job_run
    assert '"${sign[@]}"' in job_run, job_run
org_upload = kept(merge["steps"])
assert not fnmatch.fnmatchcase(expand(org_upload["with"]["name"]), expand(download["with"]["pattern"]))
print("ok")
"#;

#[test]
fn the_org_workflow_collects_shards_with_oidc_and_merges_them() {
    python_check(CHECK_ORG, &[DEFAULT_MEMBER_ROLE]);
}

/// A YAML file of the repository as JSON (PyYAML's safe loader: a short tag such as `!Sub`
/// fails here, as it would in any plain YAML parser).
fn yaml_as_json(path: &str) -> Value {
    let text = python_check(
        "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        &[path],
    );
    serde_json::from_str(&text).unwrap()
}

/// What `soc2-evidence policy ARGS` prints.
fn policy(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_soc2-evidence"))
        .arg("policy")
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_member_role_template_grants_exactly_what_policy_prints() {
    let template = yaml_as_json("deploy/member-role.yaml");
    let parameters = &template["Parameters"];
    assert_eq!(parameters["RoleName"]["Default"], DEFAULT_MEMBER_ROLE);
    assert_eq!(parameters["CollectingPrincipalArn"]["Type"], "String");
    assert_eq!(parameters["ExternalId"]["Default"], "");
    assert_eq!(
        template["Conditions"]["HasExternalId"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]})
    );

    let resources = template["Resources"].as_object().unwrap();
    assert_eq!(resources.len(), 1, "only the role: {resources:?}");
    let role = &resources["MemberRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let properties = &role["Properties"];
    assert_eq!(properties["RoleName"], json!({"Ref": "RoleName"}));
    // `policy --org` allows arn:aws:iam::*:role/NAME: no path.
    assert_eq!(properties["Path"], "/");
    assert!(properties["MaxSessionDuration"].as_u64().unwrap() >= 3600);
    assert!(properties.get("ManagedPolicyArns").is_none());

    // Trusted: the collecting principal only, with the external id only when one is given.
    let trust = properties["AssumeRolePolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(trust.len(), 1);
    assert_eq!(trust[0]["Effect"], "Allow");
    assert_eq!(trust[0]["Action"], "sts:AssumeRole");
    assert_eq!(
        trust[0]["Principal"],
        json!({"AWS": {"Ref": "CollectingPrincipalArn"}})
    );
    assert_eq!(
        trust[0]["Condition"],
        json!({"Fn::If": [
            "HasExternalId",
            {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
            {"Ref": "AWS::NoValue"}
        ]})
    );

    // Granted: exactly the read-only actions `policy` prints, nothing else.
    let policies = properties["Policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1);
    let statements = policies[0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(statements.len(), 1);
    let printed = &policy(&[])["Statement"][0];
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Resource"], "*");
    assert_eq!(
        statements[0]["Action"], printed["Action"],
        "deploy/member-role.yaml drifted from `soc2-evidence policy`: copy its Action list"
    );

    assert_eq!(
        template["Outputs"]["RoleArn"]["Value"],
        json!({"Fn::GetAtt": ["MemberRole", "Arn"]})
    );
}
