//! Signed bundles (README "Signing"): what the tool signs, stock `ssh-keygen -Y verify` accepts
//! (ed25519, ECDSA P-256, RSA and a KMS ECC_NIST_P256 key in the emulator); what `ssh-keygen -Y
//! sign` signs, `verify --allowed-signers` accepts; and every way a signature can be wrong is
//! refused with its reason. `report` and `merge` sign only their own output.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{binary, bundle_dir, collect, run, text, Emulator, ACCOUNT};

const SIG: &str = "manifest.json.sig";

fn ssh_keygen() -> Command {
    let path = std::env::var_os("SOC2_SSH_KEYGEN").unwrap_or_else(|| "ssh-keygen".into());
    let mut cmd = Command::new(path);
    cmd.stdin(Stdio::null());
    cmd
}

/// A fresh unencrypted key of this type (`ed25519`, `ecdsa`, `rsa`) in `dir`.
fn keygen(dir: &Path, kind: &str) -> PathBuf {
    let key = dir.join(format!("key-{kind}"));
    let out = ssh_keygen()
        .args(["-q", "-t", kind, "-N", "", "-C", "test", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen runs (scripts/test installs openssh-client)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    key
}

/// `soc2-evidence signer ... --identity ID` appended to `allowed` (created if missing).
fn allow(allowed: &Path, identity: &str, key_args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = binary();
    cmd.args(["signer", "--identity", identity]).args(key_args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd);
    assert!(out.status.success(), "signer: {}", text(&out.stderr));
    let line = text(&out.stdout);
    let mut all = std::fs::read_to_string(allowed).unwrap_or_default();
    all.push_str(&line);
    std::fs::write(allowed, all).unwrap();
    line
}

/// Stock OpenSSH's check, exactly as README gives it; returns (success, output).
fn ssh_verify(bundle: &Path, allowed: &Path, identity: &str) -> (bool, String) {
    let manifest = std::fs::File::open(bundle.join("manifest.json")).unwrap();
    let out = ssh_keygen()
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", identity, "-n", "soc2-evidence", "-s"])
        .arg(bundle.join(SIG))
        .stdin(manifest)
        .output()
        .unwrap();
    (out.status.success(), text(&out.stdout) + &text(&out.stderr))
}

/// `verify` with extra arguments: (exit code, stdout+stderr).
fn verify(bundle: &Path, extra: &[&str]) -> (i32, String) {
    let out = run(binary().arg("verify").arg(bundle).args(extra));
    (
        out.status.code().unwrap(),
        text(&out.stdout) + &text(&out.stderr),
    )
}

fn zip_of(dir: &Path) -> PathBuf {
    dir.with_extension("zip")
}

fn zip_entry(zip: &Path, name: &str) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let top = dir_name(zip);
    let mut entry = archive.by_name(&format!("{top}/{name}")).ok()?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    Some(bytes)
}

fn dir_name(zip: &Path) -> String {
    zip.file_stem().unwrap().to_string_lossy().into_owned()
}

/// `report` of `source` into `out` with extra arguments; the new bundle's directory.
fn report(source: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let output = run(binary()
        .args(["report", "--json", "--out"])
        .arg(out)
        .arg(source)
        .args(extra));
    assert!(output.status.success(), "report: {}", text(&output.stderr));
    bundle_dir(&serde_json::from_slice(&output.stdout).unwrap())
}

fn quick_collect(emulator: &Emulator, out: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec!["--collector", "iam-password-policy"];
    args.extend_from_slice(extra);
    let (code, summary) = collect(emulator, out, &args);
    assert_eq!(code, 0, "{summary:#}");
    bundle_dir(&summary)
}

/// The fingerprint `ssh-keygen -l` gives a key.
fn fingerprint(key: &Path) -> String {
    let out = ssh_keygen().arg("-lf").arg(key).output().unwrap();
    text(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

#[test]
fn ed25519_ecdsa_and_rsa_signatures_of_collect_and_report_verify_with_stock_ssh_keygen() {
    let emulator = Emulator::start();
    let keys = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let allowed = keys.path().join("allowed_signers");
    let [ed, ecdsa, rsa] = ["ed25519", "ecdsa", "rsa"].map(|k| keygen(keys.path(), k));
    let ed_s = ed.to_str().unwrap();
    allow(&allowed, "ed@example.com", &["--sign-key", ed_s], &[]);
    let line = allow(
        &allowed,
        "ecdsa@example.com",
        &["--sign-key-env", "SOC2_TEST_KEY"],
        &[("SOC2_TEST_KEY", &std::fs::read_to_string(&ecdsa).unwrap())],
    );
    assert!(
        line.starts_with("ecdsa@example.com namespaces=\"soc2-evidence\" ecdsa-sha2-nistp256 "),
        "{line}"
    );
    allow(
        &allowed,
        "rsa@example.com",
        &["--sign-key", rsa.to_str().unwrap()],
        &[],
    );

    // collect, signed with a key file.
    let collected = quick_collect(&emulator, out.path(), &["--sign-key", ed_s]);
    let (ok, said) = ssh_verify(&collected, &allowed, "ed@example.com");
    assert!(ok, "{said}");
    assert!(
        said.contains("Good \"soc2-evidence\" signature for ed@example.com"),
        "{said}"
    );
    // The zip holds the same signature, and its checksum covers it.
    let zip = zip_of(&collected);
    assert_eq!(
        zip_entry(&zip, SIG).unwrap(),
        std::fs::read(collected.join(SIG)).unwrap()
    );
    let sums = std::fs::read_to_string(zip.with_extension("zip.sha256")).unwrap();
    assert!(sums.starts_with(&common::sha256_hex(&std::fs::read(&zip).unwrap())));
    // Not listed in the manifest: it signs the manifest.
    assert!(!std::fs::read_to_string(collected.join("manifest.json"))
        .unwrap()
        .contains(SIG));
    for bundle in [&collected, &zip] {
        let (code, said) = verify(bundle, &[]);
        assert_eq!(code, 0, "{said}");
        assert!(
            said.contains(&format!(
                "signed by {} (ssh-ed25519) (not checked",
                fingerprint(&ed)
            )),
            "{said}"
        );
        let (code, said) = verify(bundle, &["--allowed-signers", allowed.to_str().unwrap()]);
        assert_eq!(code, 0, "{said}");
        assert!(
            said.contains("verified, signed by ed@example.com"),
            "{said}"
        );
        let (code, json) = verify(bundle, &["--json"]);
        assert_eq!(code, 0);
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["signature"]["status"], "not-checked");
        assert_eq!(json["signature"]["fingerprint"], fingerprint(&ed).as_str());
    }

    // report, signed with the key in a variable (ECDSA) and with RSA: each its own signature,
    // never the source's.
    let reports = tempfile::tempdir().unwrap();
    let by_env = {
        let output = run(binary()
            .args([
                "report",
                "--json",
                "--sign-key-env",
                "SOC2_TEST_KEY",
                "--out",
            ])
            .arg(reports.path())
            .arg(&zip)
            .env("SOC2_TEST_KEY", std::fs::read_to_string(&ecdsa).unwrap()));
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(!text(&output.stderr).contains("PRIVATE KEY"));
        bundle_dir(&serde_json::from_slice(&output.stdout).unwrap())
    };
    let (ok, said) = ssh_verify(&by_env, &allowed, "ecdsa@example.com");
    assert!(ok, "{said}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let by_rsa = report(
        &collected,
        reports.path(),
        &["--sign-key", rsa.to_str().unwrap()],
    );
    let (ok, said) = ssh_verify(&by_rsa, &allowed, "rsa@example.com");
    assert!(ok, "{said}");
    let (_, said) = verify(&zip_of(&by_rsa), &[]);
    assert!(said.contains("(rsa-sha2-512)"), "{said}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let unsigned = report(&zip, reports.path(), &[]);
    assert!(!unsigned.join(SIG).exists());
    assert!(zip_entry(&zip_of(&unsigned), SIG).is_none());
    let (code, said) = verify(&unsigned, &[]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("signature: none"), "{said}");
    // With allowed signers, an unsigned bundle fails.
    let (code, said) = verify(&unsigned, &["--allowed-signers", allowed.to_str().unwrap()]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("it is not signed"), "{said}");
}

#[test]
fn a_kms_key_signs_through_kms_sign_and_ssh_keygen_verifies_it() {
    let emulator = Emulator::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let key_id = runtime.block_on(async {
        let kms = aws_sdk_kms::Client::new(&common::sdk_config(&emulator, "us-east-1"));
        kms.create_key()
            .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
            .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
            .send()
            .await
            .unwrap()
            .key_metadata()
            .unwrap()
            .key_id()
            .to_string()
    });
    let keys = tempfile::tempdir().unwrap();
    let allowed = keys.path().join("allowed_signers");
    let line = allow(
        &allowed,
        "kms@example.com",
        &["--sign-kms-key", &key_id],
        &[("AWS_ENDPOINT_URL", &emulator.url)],
    );
    assert!(line.contains(" ecdsa-sha2-nistp256 "), "{line}");
    let out = tempfile::tempdir().unwrap();
    let bundle = quick_collect(&emulator, out.path(), &["--sign-kms-key", &key_id]);
    let (ok, said) = ssh_verify(&bundle, &allowed, "kms@example.com");
    assert!(ok, "{said}");
    let (code, said) = verify(
        &zip_of(&bundle),
        &[
            "--allowed-signers",
            allowed.to_str().unwrap(),
            "--signer",
            "kms@example.com",
        ],
    );
    assert_eq!(code, 0, "{said}");

    // A key that cannot sign is refused before anything is collected.
    let out = tempfile::tempdir().unwrap();
    let output = run(binary()
        .args([
            "collect",
            "--collector",
            "iam-password-policy",
            "--sign-kms-key",
            "alias/none",
        ])
        .args([
            "--endpoint-url",
            &emulator.url,
            "--region",
            "us-east-1",
            "--out",
        ])
        .arg(out.path()));
    assert_eq!(output.status.code(), Some(1));
    let said = text(&output.stderr);
    assert!(
        said.contains("kms:GetPublicKey failed: NotFoundException"),
        "{said}"
    );
    assert_eq!(common::files_below(out.path()), Vec::<String>::new());
}

/// A directory bundle signed by `ssh-keygen -Y sign` with `key` (namespace `ns`).
fn ssh_sign(bundle: &Path, key: &Path, ns: &str) {
    let _ = std::fs::remove_file(bundle.join(SIG));
    let out = ssh_keygen()
        .args(["-Y", "sign", "-n", ns, "-f"])
        .arg(key)
        .arg(bundle.join("manifest.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn ssh_keygen_signatures_verify_with_the_tool_and_every_wrong_signature_is_refused_with_its_reason()
{
    let emulator = Emulator::start();
    let keys = tempfile::tempdir().unwrap();
    let [ed, other] = ["ed25519", "ecdsa"].map(|k| keygen(keys.path(), k));
    let allowed = keys.path().join("allowed_signers");
    allow(
        &allowed,
        "auditee@example.com",
        &["--sign-key", ed.to_str().unwrap()],
        &[],
    );
    let allowed_arg = allowed.to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let bundle = quick_collect(&emulator, out.path(), &[]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = quick_collect(&emulator, out.path(), &[]);

    ssh_sign(&bundle, &ed, "soc2-evidence");
    let (code, said) = verify(&bundle, &["--allowed-signers", allowed_arg]);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("verified, signed by auditee@example.com"),
        "{said}"
    );
    let (code, said) = verify(
        &bundle,
        &[
            "--allowed-signers",
            allowed_arg,
            "--signer",
            "auditee@example.com",
        ],
    );
    assert_eq!(code, 0, "{said}");
    let (code, said) = verify(
        &bundle,
        &[
            "--allowed-signers",
            allowed_arg,
            "--signer",
            "someone@example.com",
        ],
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("not for \"someone@example.com\""), "{said}");
    let good = std::fs::read(bundle.join(SIG)).unwrap();

    let refused = |why: &str, expect: &str| {
        let (code, said) = verify(&bundle, &["--allowed-signers", allowed_arg]);
        assert_eq!(code, 1, "{why}: {said}");
        assert!(said.contains("SIGNATURE REFUSED"), "{why}: {said}");
        assert!(
            said.contains(expect),
            "{why}: expected {expect:?} in {said}"
        );
        let (code, json) = verify(&bundle, &["--allowed-signers", allowed_arg, "--json"]);
        assert_eq!(code, 1);
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["signature"]["status"], "refused", "{why}");
    };

    // One changed byte of the manifest (the files still match: intact, but not signed so).
    let manifest_path = bundle.join("manifest.json");
    let manifest = std::fs::read(&manifest_path).unwrap();
    let mut changed = manifest.clone();
    let at = changed.len() - 3;
    changed[at] = if changed[at] == b' ' { b'\t' } else { b' ' };
    std::fs::write(&manifest_path, &changed).unwrap();
    refused("changed byte", "does not match manifest.json");
    std::fs::write(&manifest_path, &manifest).unwrap();

    // A key not in the file.
    ssh_sign(&bundle, &other, "soc2-evidence");
    refused("foreign key", "is not in the allowed signers file");

    // Another namespace.
    ssh_sign(&bundle, &ed, "git");
    refused("namespace", "namespace \"git\"");

    // A truncated signature, and garbage: refused when checked, reported when not.
    std::fs::write(bundle.join(SIG), &good[..good.len() / 2]).unwrap();
    refused("truncated", "not a readable SSH signature");
    let (code, said) = verify(&bundle, &[]);
    assert_eq!(code, 0, "hashes still match: {said}");
    assert!(
        said.contains("signature: unreadable (not checked)"),
        "{said}"
    );

    // Another bundle's signature.
    ssh_sign(&second, &ed, "soc2-evidence");
    std::fs::copy(second.join(SIG), bundle.join(SIG)).unwrap();
    refused("another bundle's", "the signature is another bundle's");

    // A namespaces= restriction in allowed_signers is respected.
    std::fs::write(bundle.join(SIG), &good).unwrap();
    let restricted = keys.path().join("restricted");
    let line = std::fs::read_to_string(&allowed)
        .unwrap()
        .replace("namespaces=\"soc2-evidence\"", "namespaces=\"git\"");
    std::fs::write(&restricted, line).unwrap();
    let (code, said) = verify(
        &bundle,
        &["--allowed-signers", restricted.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("restricts the key"), "{said}");

    // The signature file is accepted only as a regular file at the top.
    std::fs::remove_file(bundle.join(SIG)).unwrap();
    std::os::unix::fs::symlink(second.join(SIG), bundle.join(SIG)).unwrap();
    let (code, said) = verify(&bundle, &[]);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("manifest.json.sig: a symbolic link"),
        "{said}"
    );
    std::fs::remove_file(bundle.join(SIG)).unwrap();
    std::fs::write(bundle.join("evidence").join(SIG), &good).unwrap();
    let (code, said) = verify(&bundle, &[]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("extra: evidence/manifest.json.sig"), "{said}");
}

#[test]
fn org_bundles_sign_their_top_manifest_and_merge_signs_only_its_own_output() {
    let emulator = Emulator::start();
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "ed25519");
    let key_s = key.to_str().unwrap();
    let allowed = keys.path().join("allowed_signers");
    allow(&allowed, "org@example.com", &["--sign-key", key_s], &[]);
    let out = tempfile::tempdir().unwrap();
    let (code, summary) = collect(
        &emulator,
        out.path(),
        &[
            "--collector",
            "iam-password-policy",
            "--account",
            ACCOUNT,
            "--role-name",
            "soc2-evidence-reader",
            "--sign-key",
            key_s,
        ],
    );
    assert_eq!(code, 0, "{summary:#}");
    let org = bundle_dir(&summary);
    let (ok, said) = ssh_verify(&org, &allowed, "org@example.com");
    assert!(ok, "{said}");
    assert!(!org.join("accounts").join(ACCOUNT).join(SIG).exists());
    let (code, said) = verify(
        &zip_of(&org),
        &["--allowed-signers", allowed.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{said}");

    let merged_out = tempfile::tempdir().unwrap();
    let merge = |extra: &[&str]| {
        let output = run(binary()
            .args(["merge", "--json", "--out"])
            .arg(merged_out.path())
            .arg(zip_of(&org))
            .args(extra));
        assert!(output.status.success(), "merge: {}", text(&output.stderr));
        bundle_dir(&serde_json::from_slice(&output.stdout).unwrap())
    };
    let unsigned = merge(&[]);
    assert!(
        !unsigned.join(SIG).exists(),
        "merge never carries a source's signature"
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let signed = merge(&["--sign-key", key_s]);
    let (ok, said) = ssh_verify(&signed, &allowed, "org@example.com");
    assert!(ok, "{said}");
    assert_ne!(
        std::fs::read(signed.join(SIG)).unwrap(),
        std::fs::read(org.join(SIG)).unwrap()
    );
}

#[test]
fn encrypted_and_missing_keys_are_refused_before_any_work() {
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("encrypted");
    let out = ssh_keygen()
        .args(["-q", "-t", "ed25519", "-N", "a passphrase", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let output = run(binary()
        .args(["signer", "--identity", "x", "--sign-key"])
        .arg(&key));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("encrypted with a passphrase"),
        "{}",
        text(&output.stderr)
    );
    let output = run(binary()
        .args([
            "signer",
            "--identity",
            "x",
            "--sign-key-env",
            "SOC2_NO_SUCH_VAR",
        ])
        .env_remove("SOC2_NO_SUCH_VAR"));
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("not set"));
    let output = run(binary().args(["signer", "--identity", "x"]));
    assert_eq!(output.status.code(), Some(2));
    let output = run(binary().args(["collect", "--sign-key", "a", "--sign-kms-key", "b"]));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
}

#[test]
fn timeline_with_allowed_signers_uses_only_bundles_signed_by_them() {
    let emulator = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let ours = keygen(work.path(), "ed25519");
    let theirs = {
        let dir = work.path().join("theirs");
        std::fs::create_dir(&dir).unwrap();
        keygen(&dir, "ed25519")
    };
    let allowed = work.path().join("allowed_signers");
    allow(
        &allowed,
        "ci@example.com",
        &["--sign-key", ours.to_str().unwrap()],
        &[],
    );

    let folder = work.path().join("artifacts");
    let signed = quick_collect(&emulator, &folder, &["--sign-key", ours.to_str().unwrap()]);
    // One second apart: bundle names carry the time.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let unsigned = quick_collect(&emulator, &folder, &[]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let foreign = quick_collect(
        &emulator,
        &folder,
        &["--sign-key", theirs.to_str().unwrap()],
    );

    let timeline = |extra: &[&str]| -> serde_json::Value {
        let out = run(binary()
            .args(["timeline", "--json", "--expect-every", "1d"])
            .arg(&folder)
            .args(extra));
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "{}",
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // Without the option every intact bundle is used.
    assert_eq!(timeline(&[])["bundles"].as_array().unwrap().len(), 3);
    let t = timeline(&[
        "--allowed-signers",
        allowed.to_str().unwrap(),
        "--signer",
        "ci@example.com",
    ]);
    let used: Vec<&str> = t["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bundle"].as_str().unwrap())
        .collect();
    assert_eq!(used, vec![dir_name(&zip_of(&signed))]);
    let excluded = t["excluded"].as_array().unwrap();
    assert_eq!(excluded.len(), 2, "{t:#}");
    let reason = |bundle: &Path| -> String {
        excluded
            .iter()
            .find(|e| {
                e["bundle"]
                    .as_str()
                    .unwrap()
                    .contains(&dir_name(&zip_of(bundle)))
            })
            .unwrap_or_else(|| panic!("{} in {t:#}", bundle.display()))["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        reason(&unsigned).contains("not signed"),
        "{}",
        reason(&unsigned)
    );
    assert!(
        reason(&foreign).contains("not in the allowed signers file"),
        "{}",
        reason(&foreign)
    );
    // Another identity: the signed bundle is refused too.
    let t = timeline(&[
        "--allowed-signers",
        allowed.to_str().unwrap(),
        "--signer",
        "other@example.com",
    ]);
    assert_eq!(t["bundles"].as_array().unwrap().len(), 0);
}
