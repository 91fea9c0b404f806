//! `collect --org`, `collect --account ... --role-name`, `merge` and `verify` of org bundles,
//! against an organization seeded in the emulator (see `common::org`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::org::{org_args, seed_org, SeededOrg, MANAGEMENT, ROLE};
use common::proxy::{Answer, Proxy};
use common::{binary, bundle_dir, collect, csv_rows, files_below, read_json, run, text, Emulator};

fn started() -> (Emulator, SeededOrg) {
    let emulator = Emulator::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let org = runtime.block_on(seed_org(&emulator));
    (emulator, org)
}

/// `collect` with `extra` against `url` into a fresh directory: (work dir, exit code, summary).
fn org_run(url: &str, extra: &[&str]) -> (tempfile::TempDir, i32, serde_json::Value) {
    let out = tempfile::tempdir().unwrap();
    let output = run(binary()
        .args([
            "collect",
            "--json",
            "--endpoint-url",
            url,
            "--region",
            "us-east-1",
        ])
        .arg("--out")
        .arg(out.path())
        .args(extra));
    let code = output.status.code().unwrap();
    let summary = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON summary ({e}); exit {code}\nstdout:\n{}\nstderr:\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    });
    (out, code, summary)
}

/// The `column` values of a CSV file.
fn column(path: &Path, column: &str) -> BTreeSet<String> {
    csv_rows(path)
        .into_iter()
        .map(|row| row[column].clone())
        .collect()
}

/// Account ids of the org findings of `rule`.
fn accounts_with(bundle: &Path, rule: &str) -> BTreeSet<String> {
    csv_rows(&bundle.join("findings.csv"))
        .into_iter()
        .filter(|row| row["rule"] == rule)
        .map(|row| row["account"].clone())
        .collect()
}

fn ids(members: &[&common::org::Member]) -> BTreeSet<String> {
    members.iter().map(|m| m.id.clone()).collect()
}

#[test]
fn every_account_bundle_holds_exactly_its_own_facts_and_the_org_is_exact() {
    let (emulator, org) = started();
    let (_out, code, summary) = org_run(&emulator.url, &org_args());
    assert_eq!(code, 0, "{summary:#}");
    let bundle = bundle_dir(&summary);
    let name = bundle.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("soc2-evidence-org-{}-", org.org_id)),
        "{name}"
    );

    // Each member's bundle holds its own user, bucket and group, and nobody else's.
    for member in &org.members {
        let dir = bundle.join("accounts").join(&member.id);
        let manifest = read_json(&dir.join("manifest.json"));
        assert_eq!(manifest["account"]["id"], member.id.as_str());
        let evidence = dir.join("evidence");
        assert_eq!(
            column(
                &evidence.join("iam-authorization-details/users.csv"),
                "user_name"
            ),
            BTreeSet::from([member.user.clone()])
        );
        assert_eq!(
            column(&evidence.join("s3-public-access/buckets.csv"), "name"),
            BTreeSet::from([member.bucket.clone()])
        );
        let groups = column(
            &evidence.join("ec2-security-groups/security-groups.csv"),
            "group_name",
        );
        for other in &org.members {
            assert_eq!(
                groups.contains(&other.security_group),
                other.id == member.id,
                "{}: {groups:?}",
                member.id
            );
        }
        // The account folder is a bundle of its own.
        let verified = run(binary().arg("verify").arg(&dir));
        assert!(verified.status.success(), "{}", text(&verified.stdout));
    }
    // The management account is collected with the caller's credentials and holds no member's
    // facts.
    let management = bundle.join("accounts").join(MANAGEMENT);
    assert!(column(
        &management.join("evidence/iam-authorization-details/users.csv"),
        "user_name"
    )
    .iter()
    .all(|u| !u.starts_with("user-of-member")));
    // The suspended account is listed, not collected.
    assert!(!bundle.join("accounts").join(&org.suspended).exists());
    let mut folders = common::entry_names(&bundle.join("accounts")).unwrap();
    folders.sort();
    let mut expected: Vec<String> = org.members.iter().map(|m| m.id.clone()).collect();
    expected.push(MANAGEMENT.to_string());
    expected.sort();
    assert_eq!(folders, expected);

    // accounts.csv: every account, its OU path and what the run made of it.
    let rows: BTreeMap<String, BTreeMap<String, String>> =
        csv_rows(&bundle.join("organization/accounts.csv"))
            .into_iter()
            .map(|row| (row["account_id"].clone(), row))
            .collect();
    assert_eq!(rows.len(), 7);
    for member in &org.members {
        let row = &rows[&member.id];
        assert_eq!(row["name"], member.name);
        assert_eq!(row["email"], member.email);
        assert_eq!(row["status"], "ACTIVE");
        assert_eq!(row["ou_path"], member.ou_path);
        assert_eq!(row["collection_status"], "collected");
        assert_eq!(row["error"], "");
    }
    assert_eq!(
        rows[&org.members[3].id]["ou_ids"],
        format!("{};{};{}", org.root, org.workloads_ou, org.prod_ou)
    );
    assert_eq!(rows[&org.suspended]["status"], "SUSPENDED");
    assert_eq!(rows[&org.suspended]["collection_status"], "not_collected");
    assert_eq!(rows[MANAGEMENT]["collection_status"], "collected");

    // The OU tree and the SCPs with their documents and targets.
    let ous = csv_rows(&bundle.join("organization/organizational-units.csv"));
    let paths: BTreeSet<(String, String)> = ous
        .iter()
        .map(|r| (r["id"].clone(), r["path"].clone()))
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            (org.root.clone(), "Root".to_string()),
            (org.security_ou.clone(), "Root/Security".to_string()),
            (org.workloads_ou.clone(), "Root/Workloads".to_string()),
            (org.prod_ou.clone(), "Root/Workloads/Prod".to_string()),
        ])
    );
    let policies = read_json(&bundle.join("organization/policies.json"));
    let policy = |id: &str| {
        policies["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {policies:#}"))
            .clone()
    };
    let leave = policy(&org.deny_leave);
    assert_eq!(leave["name"], "deny-leave");
    assert_eq!(leave["type"], "SERVICE_CONTROL_POLICY");
    assert_eq!(
        leave["document"],
        serde_json::from_str::<serde_json::Value>(common::org::DENY_LEAVE).unwrap()
    );
    let targets: Vec<&str> = leave["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(targets, vec![org.root.as_str()]);
    let trail = policy(&org.protect_trail);
    assert_eq!(
        trail["document"],
        serde_json::from_str::<serde_json::Value>(common::org::PROTECT_TRAIL).unwrap()
    );
    assert_eq!(trail["targets"][0]["id"], org.workloads_ou.as_str());
    assert_eq!(trail["targets"][0]["type"], "ORGANIZATIONAL_UNIT");
    assert_eq!(trail["targets"][0]["name"], "Workloads");
    assert_eq!(trail["targets"].as_array().unwrap().len(), 1);

    // The org rules, as seeded: SCPs are on; the root SCP denies leaving for everyone; only the
    // Workloads OU (and Prod below it) protects CloudTrail; nothing protects the security
    // services; only member 0 has a trail of its own and there is no organization trail.
    let m = &org.members;
    assert!(accounts_with(&bundle, "org-scps-disabled").is_empty());
    assert!(accounts_with(&bundle, "org-scp-leave-organization").is_empty());
    assert_eq!(
        accounts_with(&bundle, "org-scp-cloudtrail-unprotected"),
        ids(&[&m[0], &m[4]])
    );
    assert_eq!(
        accounts_with(&bundle, "org-scp-security-services-unprotected"),
        ids(&[&m[0], &m[1], &m[2], &m[3], &m[4]])
    );
    assert_eq!(
        accounts_with(&bundle, "org-no-organization-trail"),
        ids(&[&m[1], &m[2], &m[3], &m[4]])
    );
    let rules = csv_rows(&bundle.join("rules.csv"));
    assert!(
        rules.iter().all(|r| r["status"] == "evaluated"),
        "{rules:?}"
    );

    // Every account's findings are in the org's, behind the account, with paths from the top.
    for member in &org.members {
        let own = csv_rows(
            &bundle
                .join("accounts")
                .join(&member.id)
                .join("findings.csv"),
        );
        let in_org: Vec<_> = csv_rows(&bundle.join("findings.csv"))
            .into_iter()
            .filter(|r| r["account"] == member.id && !r["rule"].starts_with("org-"))
            .collect();
        assert_eq!(own.len(), in_org.len(), "{}", member.id);
        for row in &in_org {
            assert!(row["evidence"].starts_with(&format!("accounts/{}/", member.id)));
            assert!(
                bundle.join(&row["evidence"]).is_file(),
                "{}",
                row["evidence"]
            );
        }
    }
    let review = column(&bundle.join("access-review/users.csv"), "user_name");
    for member in &org.members {
        assert!(review.contains(&member.user));
    }

    // The index links to every collected account's own page.
    let index = std::fs::read_to_string(bundle.join("index.html")).unwrap();
    for member in &org.members {
        assert!(index.contains(&format!("href=\"accounts/{}/index.html\"", member.id)));
    }
    assert!(index.contains("CC5.2"));
    // Self-contained like the account page: no script, every link a file of the bundle.
    assert!(!index.to_lowercase().contains("<script"));
    for link in index.split("href=\"").skip(1) {
        let target = &link[..link.find('"').unwrap()];
        if target.starts_with('#') {
            continue; // the page's own sections
        }
        assert!(!target.contains(':'), "{target}");
        assert!(
            bundle.join(target).is_file(),
            "{target} is not a file of the bundle"
        );
    }

    // report derives the org bundle again from its evidence: the same findings and rules.
    let reported = run(binary()
        .args(["report", "--json"])
        .arg(summary["bundle"]["zip"].as_str().unwrap()));
    assert_eq!(
        reported.status.code(),
        Some(0),
        "{}",
        text(&reported.stderr)
    );
    let report_summary: serde_json::Value = serde_json::from_slice(&reported.stdout).unwrap();
    let derived = bundle_dir(&report_summary);
    for rel in [
        "findings.csv",
        "rules.csv",
        "organization/accounts.csv",
        "organization/policies.json",
        "access-review/users.csv",
    ] {
        assert_eq!(
            std::fs::read(bundle.join(rel)).unwrap(),
            std::fs::read(derived.join(rel)).unwrap(),
            "{rel}"
        );
    }
    assert_eq!(files_below(&bundle), files_below(&derived));
    let derived_manifest = read_json(&derived.join("manifest.json"));
    assert_eq!(
        derived_manifest["derived_from"]["bundle"],
        bundle.file_name().unwrap().to_string_lossy().as_ref()
    );
    let nested = read_json(
        &derived
            .join("accounts")
            .join(&org.members[0].id)
            .join("manifest.json"),
    );
    assert!(nested["derived_from"]["bundle"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/accounts/{}", org.members[0].id)));
    let verified = run(binary().arg("verify").arg(&derived));
    assert!(verified.status.success(), "{}", text(&verified.stdout));

    // verify: the zip and the directory, every nested file counted.
    for target in [
        PathBuf::from(summary["bundle"]["zip"].as_str().unwrap()),
        bundle.clone(),
    ] {
        let out = run(binary().arg("verify").arg("--json").arg(&target));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["intact"], true, "{report:#}");
        assert_eq!(
            report["files_verified"].as_u64().unwrap() as usize,
            files_below(&bundle).len() - 1,
            "every file but the org manifest"
        );
    }
}

#[test]
fn a_refused_role_is_recorded_with_its_error_and_every_other_account_is_collected() {
    let (emulator, org) = started();
    let refused = org.members[2].id.clone();
    let needle = format!("{refused}%3Arole%2F{ROLE}");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let record = seen.clone();
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = requests.clone();
    let proxy = Proxy::start(&emulator.url, move |request| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if matches!(request.service.as_str(), "organizations" | "sts") {
            let action = format!("{}:{}", request.service, request.operation);
            record.lock().unwrap().insert(action);
        }
        (request.operation == "AssumeRole" && request.body.contains(&needle)).then(|| Answer {
            status: 403,
            headers: vec![("Content-Type".into(), "text/xml".into())],
            body: "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                   <Message>not authorized to perform sts:AssumeRole</Message></Error>\
                   <RequestId>1</RequestId></ErrorResponse>"
                .into(),
        })
    });
    let (_out, code, summary) = org_run(&proxy.url, &org_args());
    assert_eq!(code, 3, "{summary:#}");
    assert!(proxy.intercepted.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    // Every Organizations and STS call the run made is allowed by `policy --org` (STS's
    // GetCallerIdentity needs no permission).
    let policy = run(binary().args(["policy", "--org", "--role-name", ROLE]));
    let policy = text(&policy.stdout);
    let seen = seen.lock().unwrap().clone();
    assert!(seen.contains("organizations:ListAccounts"), "{seen:?}");
    assert!(seen.contains("sts:AssumeRole"), "{seen:?}");
    for action in seen.iter().filter(|a| *a != "sts:GetCallerIdentity") {
        assert!(
            policy.contains(&format!("\"{action}\"")),
            "{action} is not in policy --org"
        );
    }
    let bundle = bundle_dir(&summary);
    let rows: BTreeMap<String, BTreeMap<String, String>> =
        csv_rows(&bundle.join("organization/accounts.csv"))
            .into_iter()
            .map(|row| (row["account_id"].clone(), row))
            .collect();
    assert_eq!(rows[&refused]["collection_status"], "failed");
    assert_eq!(
        rows[&refused]["error"],
        "AssumeRole: AccessDenied: not authorized to perform sts:AssumeRole"
    );
    assert!(!bundle.join("accounts").join(&refused).exists());
    for member in org.members.iter().filter(|m| m.id != refused) {
        assert_eq!(rows[&member.id]["collection_status"], "collected");
        assert!(bundle
            .join("accounts")
            .join(&member.id)
            .join("manifest.json")
            .is_file());
    }
    // The suspended account is no error.
    assert_eq!(rows[&org.suspended]["collection_status"], "not_collected");
    let manifest = read_json(&bundle.join("manifest.json"));
    assert_eq!(manifest["status"], "incomplete");
    // Every request is counted once (--max-attempts 1: one request per call).
    assert_eq!(
        manifest["run"]["api_calls"].as_u64().unwrap(),
        requests.load(std::sync::atomic::Ordering::SeqCst)
    );
    let record = manifest["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == refused.as_str())
        .unwrap();
    assert_eq!(record["error"]["operation"], "AssumeRole");
    assert_eq!(record["error"]["code"], "AccessDenied");
    assert!(record.get("bundle").is_none());
    let index = std::fs::read_to_string(bundle.join("index.html")).unwrap();
    assert!(index.contains("not authorized to perform sts:AssumeRole"));
    // The trail rule knows it could not judge the refused account.
    let rules = csv_rows(&bundle.join("rules.csv"));
    let trail = rules
        .iter()
        .find(|r| r["rule"] == "org-no-organization-trail")
        .unwrap();
    assert_eq!(trail["status"], "partial", "{trail:?}");
    assert!(trail["reason"].contains(&refused));

    // The refused account, collected afterwards with its own credentials, fills the gap.
    let org_zip = PathBuf::from(summary["bundle"]["zip"].as_str().unwrap());
    let (_single_out, single_zip) = collect_as(&emulator, &refused);
    let (_merged_out, code, stdout, stderr) = merge(&[org_zip.clone(), single_zip], &["--json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let merged = bundle_dir(&serde_json::from_str(&stdout).unwrap());
    assert!(merged
        .file_name()
        .unwrap()
        .to_string_lossy()
        .contains("-merged-"));
    let rows = csv_rows(&merged.join("organization/accounts.csv"));
    let row = rows.iter().find(|r| r["account_id"] == refused).unwrap();
    assert_eq!(row["collection_status"], "collected");
    assert_eq!(row["error"], "");
    assert_eq!(
        column(
            &merged
                .join("accounts")
                .join(&refused)
                .join("evidence/iam-authorization-details/users.csv"),
            "user_name"
        ),
        BTreeSet::from([org.members[2].user.clone()])
    );
    let manifest = read_json(&merged.join("manifest.json"));
    assert_eq!(manifest["status"], "complete");
    let rules = csv_rows(&merged.join("rules.csv"));
    assert!(
        rules.iter().all(|r| r["status"] == "evaluated"),
        "{rules:?}"
    );
    let verified = run(binary().arg("verify").arg(&merged));
    assert!(verified.status.success(), "{}", text(&verified.stdout));

    // A bundle of an account outside the organization fills nothing.
    let (_stranger_out, stranger_zip) = collect_as(&emulator, "999988887777");
    let (_, code, _, stderr) = merge(&[org_zip, stranger_zip], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("account 999988887777, which is not an account of"),
        "{stderr}"
    );
}

/// A single-account `collect` of `account` with credentials assumed into it (the collectors of
/// [`org_args`]): (work dir, its zip).
fn collect_as(emulator: &Emulator, account: &str) -> (tempfile::TempDir, PathBuf) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = runtime.block_on(common::org::member_config(emulator, account, "us-east-1"));
    let credentials = runtime.block_on(async {
        use aws_credential_types::provider::ProvideCredentials;
        config
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap()
    });
    let out = tempfile::tempdir().unwrap();
    let args: Vec<&str> = org_args().into_iter().skip(3).collect();
    let output = run(binary()
        .env("AWS_ACCESS_KEY_ID", credentials.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key())
        .env("AWS_SESSION_TOKEN", credentials.session_token().unwrap())
        .args([
            "collect",
            "--json",
            "--endpoint-url",
            &emulator.url,
            "--region",
            "us-east-1",
        ])
        .arg("--out")
        .arg(out.path())
        .args(args));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["account"]["id"], account);
    let zip = PathBuf::from(summary["bundle"]["zip"].as_str().unwrap());
    (out, zip)
}

/// Files of an org bundle that hold the facts of one run (times, ids, counts, durations).
fn is_run_fact(path: &str) -> bool {
    path.ends_with("manifest.json") || path.ends_with("index.html")
}

/// A file's bytes without the values that are the time of the asking: the trail's latest
/// delivery, which the emulator (like AWS) reports as of each GetTrailStatus call.
fn without_ask_times(rel: &str, bytes: Vec<u8>) -> Vec<u8> {
    if rel.ends_with("cloudtrail/trails.csv") {
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let headers = reader.headers().unwrap().clone();
        let keep: Vec<usize> = (0..headers.len())
            .filter(|&i| !headers[i].starts_with("latest_delivery"))
            .collect();
        let mut out = Vec::new();
        for record in std::iter::once(Ok(headers)).chain(reader.records()) {
            let record = record.unwrap();
            let cells: Vec<&str> = keep.iter().map(|&i| &record[i]).collect();
            out.push(cells.join(","));
        }
        return out.join("\n").into_bytes();
    }
    if rel.ends_with("cloudtrail/trails.json") {
        fn strip(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::Object(map) => {
                    map.retain(|k, _| !k.starts_with("LatestDelivery"));
                    map.values_mut().for_each(strip);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
                _ => {}
            }
        }
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        strip(&mut value);
        return serde_json::to_vec(&value).unwrap();
    }
    bytes
}

/// `merge` of `shards` into a fresh directory: (work dir, exit code, stdout+stderr).
fn merge(shards: &[PathBuf], extra: &[&str]) -> (tempfile::TempDir, i32, String, String) {
    let out = tempfile::tempdir().unwrap();
    let output = run(binary()
        .arg("merge")
        .args(shards)
        .arg("--out")
        .arg(out.path().join("merged"))
        .args(extra));
    (
        out,
        output.status.code().unwrap(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

#[test]
fn three_shards_merged_equal_one_org_run_and_merge_refuses_what_does_not_fit() {
    let (emulator, org) = started();
    let (_whole_out, code, whole) = org_run(&emulator.url, &org_args());
    assert_eq!(code, 0);
    let whole = bundle_dir(&whole);

    let mut shard_outs = Vec::new();
    let mut shard_zips = Vec::new();
    let mut collected = BTreeSet::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let mut args = org_args();
        args.extend(["--shard", &shard]);
        let (out, code, summary) = org_run(&emulator.url, &args);
        assert_eq!(code, 0, "{summary:#}");
        let dir = bundle_dir(&summary);
        assert!(dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with(&format!("-shard-{k}-of-3")));
        for account in common::entry_names(&dir.join("accounts")).unwrap() {
            assert!(collected.insert(account.clone()), "{account} in two shards");
        }
        shard_zips.push(PathBuf::from(summary["bundle"]["zip"].as_str().unwrap()));
        shard_outs.push(out);
    }
    assert_eq!(
        collected.len(),
        org.members.len() + 1,
        "the shards cover every account"
    );

    let (merged_out, code, stdout, stderr) = merge(&shard_zips, &["--json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let merged = bundle_dir(&summary);
    let _keep = merged_out;

    // The same files, byte for byte, apart from the run facts.
    let files = files_below(&whole);
    assert_eq!(files, files_below(&merged));
    for rel in &files {
        if is_run_fact(rel) {
            continue;
        }
        let a = without_ask_times(rel, std::fs::read(whole.join(rel)).unwrap());
        let b = without_ask_times(rel, std::fs::read(merged.join(rel)).unwrap());
        assert!(
            a == b,
            "{rel} differs between the org run and the merged shards"
        );
    }
    // Account manifests list the same evidence with the same hashes.
    for account in &collected {
        let listed = |root: &Path| -> Vec<serde_json::Value> {
            read_json(&root.join("accounts").join(account).join("manifest.json"))["files"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| {
                    f["path"] != "index.html"
                        && !f["path"]
                            .as_str()
                            .unwrap()
                            .starts_with("evidence/cloudtrail/trails.")
                })
                .cloned()
                .collect()
        };
        assert_eq!(listed(&whole), listed(&merged), "{account}");
    }
    // diff and timeline read org bundles: the merged shards hold what the org run held.
    let compared = run(binary().args(["diff", "--json"]).arg(&whole).arg(&merged));
    assert_eq!(
        compared.status.code(),
        Some(0),
        "{}",
        text(&compared.stderr)
    );
    let compared: serde_json::Value = serde_json::from_slice(&compared.stdout).unwrap();
    assert_eq!(compared["old"]["subject"], org.org_id.as_str());
    assert_eq!(
        compared["changes"].as_array().unwrap().len(),
        0,
        "{compared:#}"
    );
    assert!(compared["findings_unchanged"].as_u64().unwrap() > 10);
    let period = run(binary()
        .args(["timeline", "--json", "--expect-every", "1d"])
        .arg(&whole)
        .arg(&merged));
    assert_eq!(period.status.code(), Some(0), "{}", text(&period.stdout));
    let period: serde_json::Value = serde_json::from_slice(&period.stdout).unwrap();
    assert_eq!(period["bundles"].as_array().unwrap().len(), 2);
    let trail = period["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule"] == "org-no-organization-trail" && f["account"] == org.members[1].id.as_str()
        })
        .expect("the org rules' findings are followed too");
    assert_eq!(trail["bundles_seen"], 2);

    let manifest = read_json(&merged.join("manifest.json"));
    assert!(manifest.get("shard").is_none());
    assert_eq!(manifest["merged_from"].as_array().unwrap().len(), 3);
    let verified = run(binary().arg("verify").arg(&merged));
    assert!(verified.status.success(), "{}", text(&verified.stdout));

    // Refusals: a missing shard, a shard twice, a tampered shard, another organization.
    let (out, code, _, stderr) = merge(&shard_zips[..2], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("shard 3/3 is not among the inputs"),
        "{stderr}"
    );
    assert!(common::entry_names(&out.path().join("merged")).is_none_or(|n| n.is_empty()));

    let again = vec![
        shard_zips[0].clone(),
        shard_zips[1].clone(),
        shard_zips[1].clone(),
    ];
    let (_, code, _, stderr) = merge(&again, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("given twice"), "{stderr}");

    // Shard 2 of another run of the same organization: the same index twice.
    let (_other_out, code, other) = org_run(&emulator.url, &{
        let mut args = org_args();
        args.extend(["--shard", "2/3"]);
        args
    });
    assert_eq!(code, 0);
    let other_zip = PathBuf::from(other["bundle"]["zip"].as_str().unwrap());
    let mixed = vec![
        shard_zips[0].clone(),
        shard_zips[1].clone(),
        other_zip,
        shard_zips[2].clone(),
    ];
    let (_, code, _, stderr) = merge(&mixed, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("it is shard 2/3, like"), "{stderr}");

    // One changed byte in an account file of a shard directory.
    let shard_dir = shard_zips[0].with_extension("");
    let account = common::entry_names(&shard_dir.join("accounts")).unwrap()[0].clone();
    let victim = shard_dir
        .join("accounts")
        .join(&account)
        .join("evidence/iam-authorization-details/users.csv");
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&victim, bytes).unwrap();
    let dirs = vec![shard_dir, shard_zips[1].clone(), shard_zips[2].clone()];
    let (_, code, _, stderr) = merge(&dirs, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not intact"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "accounts/{account}/evidence/iam-authorization-details/users.csv"
        )),
        "{stderr}"
    );

    // Shard 1 re-hashed after a row of its accounts.csv was dropped: intact, but its table and
    // its manifest disagree.
    let forged = shard_zips[0].with_extension("");
    let table = forged.join("organization/accounts.csv");
    let text_of = std::fs::read_to_string(&table).unwrap();
    let kept: Vec<&str> = text_of
        .lines()
        .filter(|l| !l.starts_with(&org.suspended))
        .collect();
    let forged_bytes = format!("{}\n", kept.join("\n")).into_bytes();
    std::fs::write(&table, &forged_bytes).unwrap();
    let manifest_path = forged.join("manifest.json");
    let mut manifest = read_json(&manifest_path);
    for file in manifest["files"].as_array_mut().unwrap() {
        if file["path"] == "organization/accounts.csv" {
            file["sha256"] = serde_json::json!(common::sha256_hex(&forged_bytes));
            file["bytes"] = serde_json::json!(forged_bytes.len());
        }
    }
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    // The byte changed earlier is put back, so only the table is off.
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&victim, bytes).unwrap();
    let dirs = vec![forged, shard_zips[1].clone(), shard_zips[2].clone()];
    let (_, code, _, stderr) = merge(&dirs, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("name different accounts"), "{stderr}");

    // A shard of another organization (another emulator, another org id).
    let (other_emulator, other_org) = started();
    assert_ne!(other_org.org_id, org.org_id);
    let (_foreign_out, code, foreign) = org_run(&other_emulator.url, &{
        let mut args = org_args();
        args.extend(["--shard", "3/3"]);
        args
    });
    assert_eq!(code, 0);
    let foreign_zip = PathBuf::from(foreign["bundle"]["zip"].as_str().unwrap());
    let foreign_mix = vec![shard_zips[0].clone(), shard_zips[1].clone(), foreign_zip];
    let (_, code, _, stderr) = merge(&foreign_mix, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("different organizations"), "{stderr}");
    // A single-account bundle is not a shard.
    let (_single_out, single) = {
        let out = tempfile::tempdir().unwrap();
        let (code, summary) = collect(
            &emulator,
            out.path(),
            &common::collector_args(&["iam-password-policy"]),
        );
        assert_eq!(code, 0);
        (out, summary)
    };
    let single_zip = PathBuf::from(single["bundle"]["zip"].as_str().unwrap());
    let (_, code, _, stderr) = merge(std::slice::from_ref(&single_zip), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("no org bundle among the inputs"),
        "{stderr}"
    );
    // ... nor fill an account a shard already holds (here the management account).
    let mut with_single = shard_zips.clone();
    with_single.push(single_zip);
    let (_, code, _, stderr) = merge(&with_single, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is already collected in"), "{stderr}");
}

#[test]
fn verify_catches_a_changed_byte_in_a_nested_account_and_a_removed_account_folder() {
    let (emulator, org) = started();
    let (_out, code, summary) = org_run(&emulator.url, &org_args());
    assert_eq!(code, 0);
    let bundle = bundle_dir(&summary);
    let work = tempfile::tempdir().unwrap();

    let copy = |name: &str| -> PathBuf {
        let to = work.path().join(name);
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(&bundle)
            .arg(&to)
            .status()
            .unwrap();
        assert!(status.success());
        to
    };
    let member = &org.members[1].id;

    let changed = copy("changed");
    let file = format!("accounts/{member}/evidence/s3-public-access/buckets.csv");
    let mut bytes = std::fs::read(changed.join(&file)).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x20;
    std::fs::write(changed.join(&file), bytes).unwrap();
    let out = run(binary().arg("verify").arg("--json").arg(&changed));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["problems"][0]["path"], file.as_str(), "{report:#}");
    assert_eq!(
        report["problems"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );

    // The account's manifest edited to match: the org manifest's hash of it no longer does.
    let rehashed = copy("rehashed");
    let manifest_path = rehashed.join(format!("accounts/{member}/manifest.json"));
    let mut manifest = read_json(&manifest_path);
    manifest["account"]["aliases"] = serde_json::json!(["edited"]);
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let out = run(binary().arg("verify").arg(&rehashed));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(&format!("accounts/{member}/manifest.json")));

    let removed = copy("removed");
    std::fs::remove_dir_all(removed.join("accounts").join(member)).unwrap();
    let out = run(binary().arg("verify").arg("--json").arg(&removed));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report:#}");
    assert_eq!(problems[0]["problem"], "missing");
    assert_eq!(
        problems[0]["path"],
        format!("accounts/{member}/manifest.json").as_str()
    );

    // An org finding that does not read, in a bundle re-hashed so that it verifies: diff and
    // timeline refuse the bundle rather than drop the finding.
    let garbled = copy("garbled");
    let findings_path = garbled.join("findings.json");
    let mut findings = read_json(&findings_path);
    let first = findings["findings"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["rule"].as_str().unwrap().starts_with("org-"))
        .expect("an org finding");
    first["severity"] = serde_json::json!("catastrophic");
    let bytes = serde_json::to_vec_pretty(&findings).unwrap();
    std::fs::write(&findings_path, &bytes).unwrap();
    let manifest_path = garbled.join("manifest.json");
    let mut manifest = read_json(&manifest_path);
    for file in manifest["files"].as_array_mut().unwrap() {
        if file["path"] == "findings.json" {
            file["sha256"] = serde_json::json!(common::sha256_hex(&bytes));
            file["bytes"] = serde_json::json!(bytes.len());
        }
    }
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    assert!(run(binary().arg("verify").arg(&garbled)).status.success());
    let out = run(binary().arg("diff").arg(&bundle).arg(&garbled));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("a finding of findings.json does not read"),
        "{}",
        text(&out.stderr)
    );

    // An account folder the org manifest does not chain is extra.
    let extra = copy("extra");
    std::fs::create_dir_all(extra.join("accounts/999999999999")).unwrap();
    std::fs::write(extra.join("accounts/999999999999/manifest.json"), b"{}").unwrap();
    let out = run(binary().arg("verify").arg(&extra));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("accounts/999999999999/manifest.json"));
}

#[test]
fn accounts_given_without_org_are_collected_without_organizations() {
    let (emulator, org) = started();
    let wanted = [&org.members[1], &org.members[3]];
    // Organizations is refused outright: the run must not need it.
    let proxy = Proxy::start(&emulator.url, |request| {
        (request.service == "organizations").then(|| Answer {
            status: 400,
            headers: vec![("Content-Type".into(), "application/x-amz-json-1.1".into())],
            body: r#"{"__type":"AccessDeniedException","message":"no"}"#.into(),
        })
    });
    let (_out, code, summary) = org_run(
        &proxy.url,
        &[
            "--account",
            &wanted[0].id,
            "--account",
            &wanted[1].id,
            "--role-name",
            ROLE,
            "--max-attempts",
            "1",
            "--collector",
            "iam-authorization-details",
        ],
    );
    assert_eq!(code, 0, "{summary:#}");
    assert_eq!(
        proxy.intercepted.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    let bundle = bundle_dir(&summary);
    assert!(bundle
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(&format!("soc2-evidence-accounts-{MANAGEMENT}-")));
    let mut expected: Vec<String> = wanted.iter().map(|m| m.id.clone()).collect();
    expected.sort();
    assert_eq!(
        common::entry_names(&bundle.join("accounts")).unwrap(),
        expected
    );
    for member in wanted {
        assert_eq!(
            column(
                &bundle
                    .join("accounts")
                    .join(&member.id)
                    .join("evidence/iam-authorization-details/users.csv"),
                "user_name"
            ),
            BTreeSet::from([member.user.clone()])
        );
    }
    let organization = read_json(&bundle.join("organization/organization.json"));
    assert_eq!(organization["accounts_only"], true);
    let rules = csv_rows(&bundle.join("rules.csv"));
    assert!(
        rules.iter().all(|r| r["status"] == "not_evaluated"),
        "{rules:?}"
    );
    let verified = run(binary().arg("verify").arg(&bundle));
    assert!(verified.status.success());
}

#[test]
fn names_outside_the_organization_are_usage_errors_and_nothing_is_written() {
    let (emulator, _org) = started();
    for (extra, said) in [
        (
            vec!["--account", "999999999999"],
            "account 999999999999 is not an account of organization",
        ),
        (
            vec!["--ou", "ou-zzzz-zzzzzzzz"],
            "ou-zzzz-zzzzzzzz is not an OU or root",
        ),
    ] {
        let out = tempfile::tempdir().unwrap();
        let mut args = org_args();
        args.extend(extra);
        let output = run(binary()
            .args([
                "collect",
                "--endpoint-url",
                &emulator.url,
                "--region",
                "us-east-1",
            ])
            .arg("--out")
            .arg(out.path().join("evidence"))
            .args(&args));
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
        assert!(
            text(&output.stderr).contains(said),
            "{}",
            text(&output.stderr)
        );
        assert!(common::entry_names(&out.path().join("evidence")).is_none_or(|n| n.is_empty()));
    }
    // --skip-account and --ou narrow the population; the others are listed as excluded.
    let (emulator2, org2) = (emulator, _org);
    let mut args = org_args();
    args.extend([
        "--ou",
        &org2.workloads_ou,
        "--skip-account",
        &org2.members[2].id,
    ]);
    let (_out, code, summary) = org_run(&emulator2.url, &args);
    assert_eq!(code, 0, "{summary:#}");
    let bundle = bundle_dir(&summary);
    let mut expected = vec![org2.members[1].id.clone(), org2.members[3].id.clone()];
    expected.sort();
    assert_eq!(
        common::entry_names(&bundle.join("accounts")).unwrap(),
        expected
    );
    let rows = csv_rows(&bundle.join("organization/accounts.csv"));
    let excluded: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["collection_status"] == "excluded")
        .map(|r| r["account_id"].clone())
        .collect();
    assert_eq!(
        excluded,
        BTreeSet::from([
            MANAGEMENT.to_string(),
            org2.members[0].id.clone(),
            org2.members[2].id.clone(),
            org2.members[4].id.clone()
        ])
    );
}

#[test]
fn exceptions_apply_to_every_account_and_to_the_org_rules() {
    let (emulator, org) = started();
    let m = &org.members;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("exceptions.toml");
    let body = format!(
        "[[exception]]\nrule = \"org-scp-security-services-unprotected\"\nresource = \"*\"\naccount = \"{}\"\nreason = \"Sandbox account, no security services by design\"\napproved_by = \"ciso@example.com\"\nexpires = 2099-12-31\n\n\
         [[exception]]\nrule = \"org-no-organization-trail\"\nresource = \"*\"\naccount = \"{}\"\nreason = \"Trail of its own\"\napproved_by = \"ciso@example.com\"\nexpires = 2099-12-31\n\n\
         [[exception]]\nrule = \"admin-policy\"\nresource = \"*\"\naccount = \"999999999999\"\nreason = \"Another organization's account\"\napproved_by = \"ciso@example.com\"\nexpires = 2099-12-31\n",
        m[1].id, m[2].id
    );
    std::fs::write(&file, &body).unwrap();
    let mut args = org_args();
    args.extend(["--exceptions", file.to_str().unwrap()]);
    let (_out, code, summary) = org_run(&emulator.url, &args);
    assert_eq!(code, 0, "{summary:#}");
    let bundle = bundle_dir(&summary);

    // The org findings: each exception accepts its own account's finding only.
    let status = |rule: &str, account: &str| -> String {
        csv_rows(&bundle.join("findings.csv"))
            .into_iter()
            .find(|r| r["rule"] == rule && r["account"] == account)
            .unwrap_or_else(|| panic!("no {rule} finding for {account}"))["status"]
            .clone()
    };
    assert_eq!(
        status("org-scp-security-services-unprotected", &m[1].id),
        "accepted"
    );
    assert_eq!(
        status("org-scp-security-services-unprotected", &m[0].id),
        "open"
    );
    assert_eq!(status("org-no-organization-trail", &m[2].id), "accepted");
    assert_eq!(status("org-no-organization-trail", &m[3].id), "open");
    let states: Vec<String> = csv_rows(&bundle.join("exceptions.csv"))
        .into_iter()
        .map(|r| format!("{} {} {}", r["line"], r["state"], r["findings"]))
        .collect();
    assert_eq!(states, ["1 applied 1", "9 applied 1", "17 other_account 0"]);
    let manifest = read_json(&bundle.join("manifest.json"));
    let findings = &manifest["findings_summary"];
    assert_eq!(findings["accepted"]["total"], 2, "{findings:#}");
    assert_eq!(findings["exceptions"]["source"], "run");
    assert_eq!(
        std::fs::read_to_string(bundle.join("exceptions.toml")).unwrap(),
        body
    );
    // Every account bundle holds the file and judges it on its own findings; the org rules'
    // exceptions are left to the org bundle.
    let member = bundle.join("accounts").join(&m[1].id);
    assert_eq!(
        std::fs::read_to_string(member.join("exceptions.toml")).unwrap(),
        body
    );
    let member_states: Vec<String> = csv_rows(&member.join("exceptions.csv"))
        .into_iter()
        .map(|r| r["state"].clone())
        .collect();
    assert_eq!(
        member_states,
        ["org_level", "other_account", "other_account"]
    );
    let page = std::fs::read_to_string(bundle.join("index.html")).unwrap();
    assert!(
        page.contains("Accepted risks: 2 finding(s)"),
        "no accepted line"
    );
    let verified = run(binary().arg("verify").arg(&bundle));
    assert!(verified.status.success(), "{}", text(&verified.stdout));

    // report of the org bundle applies the recorded file again: the same org findings.
    let report_dir = common::report_expecting(&bundle, &work.path().join("reports"), &[], 0);
    assert_eq!(
        std::fs::read(report_dir.join("findings.csv")).unwrap(),
        std::fs::read(bundle.join("findings.csv")).unwrap()
    );
    assert_eq!(
        read_json(&report_dir.join("manifest.json"))["findings_summary"]["exceptions"]["source"],
        "bundle"
    );
}
