//! Bad input: each mistake ends `collect` with a message that names the cause and the fix, the
//! documented exit status, and nothing left in the output directory: no bundle, no temporary
//! entry. (No credentials and a refused endpoint are covered in tests/cli.rs.)

mod common;

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{binary, entry_names, iam_args, run, text, Emulator, ACCOUNT};

/// Loopback port 9 (discard): nothing listens, connections are refused at once. A test that
/// points here proves its check happens before any AWS call, or fails fast if it does not.
const REFUSED: &str = "http://127.0.0.1:9";

fn assert_message(output: &Output, code: i32, parts: &[&str]) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    for part in parts {
        assert!(stderr.contains(part), "{part:?} missing from:\n{stderr}");
    }
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    stderr
}

/// The names in `dir` (which must exist), sorted.
fn names(dir: &Path) -> Vec<String> {
    entry_names(dir).unwrap_or_else(|| panic!("{} cannot be read", dir.display()))
}

fn profile_files(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let config = dir.join("config");
    let credentials = dir.join("credentials");
    fs::write(
        &config,
        "[default]\nregion = us-east-1\n\n[profile audit]\nregion = eu-west-1\n",
    )
    .unwrap();
    fs::write(
        &credentials,
        "[ci]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    (config, credentials)
}

#[test]
fn an_unknown_profile_names_the_files_searched_and_the_profiles_there() {
    let work = tempfile::tempdir().unwrap();
    let (config, credentials) = profile_files(work.path());
    let out = work.path().join("evidence");
    // The environment holds credentials (binary() sets them): they must not stand in silently
    // for the profile that was asked for.
    let with_flag = run(binary()
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args(["collect", "--profile", "nope", "--endpoint-url", REFUSED])
        .arg("--out")
        .arg(&out));
    let with_env = run(binary()
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_PROFILE", "nope")
        .args(["collect", "--endpoint-url", REFUSED])
        .arg("--out")
        .arg(&out));
    for output in [with_flag, with_env] {
        assert_message(
            &output,
            1,
            &[
                "error: the AWS profile `nope` is not defined in the AWS config files",
                &format!(
                    "looked in {} and {}",
                    config.display(),
                    credentials.display()
                ),
                "profiles found: audit, ci, default",
                "fix: pass --profile (or set AWS_PROFILE to) one of the profiles found",
                "aws configure --profile nope",
            ],
        );
    }
    let missing = work.path().join("no-such-credentials");
    let output = run(binary()
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &missing)
        .args(["collect", "--profile", "nope", "--endpoint-url", REFUSED])
        .arg("--out")
        .arg(&out));
    assert_message(
        &output,
        1,
        &[
            &format!("{} (missing)", missing.display()),
            "profiles found: audit, default)",
        ],
    );
    assert!(
        !out.exists(),
        "nothing is created for a run that cannot start"
    );
}

#[test]
fn a_profile_defined_only_in_the_credentials_file_is_used() {
    let emulator = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let (config, credentials) = profile_files(work.path());
    let output = run(binary()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args([
            "collect",
            "--profile",
            "ci",
            "--endpoint-url",
            &emulator.url,
        ])
        .args([
            "--region",
            "us-east-1",
            "--collector",
            "iam-password-policy",
        ])
        .arg("--out")
        .arg(work.path().join("evidence")));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn a_region_outside_every_partition_is_a_usage_error() {
    let output = run(binary().args(["collect", "--region", "xx-nowhere-9"]));
    assert_message(
        &output,
        2,
        &[
            "`xx-nowhere-9` is in no AWS partition",
            "region names start with af, ap, ca, cn, eu, eusc, il, me, mx, sa, us",
            "aws ec2 describe-regions --all-regions",
        ],
    );
}

#[test]
fn an_unreachable_home_region_fails_fast_and_is_named() {
    // On AWS, a region that does not exist has no endpoint: its connections fail as these do.
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = run(binary()
        .args(["collect", "--region", "us-nowhere-9", "--max-attempts", "1"])
        .args(["--endpoint-url", REFUSED, "--out"])
        .arg(work.path()));
    assert_message(
        &output,
        1,
        &[
            "could not identify the AWS account (sts:GetCallerIdentity in us-nowhere-9 via http://127.0.0.1:9 failed",
            "is `us-nowhere-9` a region of your account",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(names(work.path()), Vec::<String>::new());
}

#[test]
fn a_region_the_endpoint_does_not_serve_costs_only_that_region() {
    // The emulator answers calls in a region it does not know with HTTP 500: the run finishes
    // promptly, that region's evidence is recorded as failed, the known region is collected.
    let emulator = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = run(binary()
        .args(["collect", "--json", "--max-attempts", "1"])
        .args(["--endpoint-url", &emulator.url])
        .args(["--region", "us-east-1", "--region", "us-nowhere-9"])
        .args(["--collector", "ec2-security-groups", "--out"])
        .arg(work.path()));
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(started.elapsed() < Duration::from_secs(60));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let dir = summary["bundle"]["directory"].as_str().unwrap();
    let manifest = common::read_json(&Path::new(dir).join("manifest.json"));
    let record = &manifest["collectors"][0];
    assert_eq!(record["status"], "partial", "{record:#}");
    let regions: Vec<(&str, &str)> = record["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["region"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        regions,
        [("us-east-1", "collected"), ("us-nowhere-9", "failed")]
    );
    assert_eq!(record["errors"][0]["region"], "us-nowhere-9");
}

#[test]
fn an_output_path_below_a_file_is_refused_before_any_call() {
    // Tests run as root, for whom permission bits do not stop a write; a path below a regular
    // file cannot be created by anyone, so it stands for an output directory nobody can write.
    let work = tempfile::tempdir().unwrap();
    let plain = work.path().join("plain");
    fs::write(&plain, "not a directory").unwrap();
    let out = plain.join("evidence");
    let output = run(binary()
        .args(["collect", "--endpoint-url", REFUSED, "--out"])
        .arg(&out));
    assert_message(
        &output,
        1,
        &[
            &format!(
                "error: output directory {} is not usable: {} is a file, not a directory",
                out.display(),
                plain.display()
            ),
            "fix: pass --out with a directory you can write to",
            "nothing was written",
        ],
    );
    assert_eq!(fs::read_to_string(&plain).unwrap(), "not a directory");
    assert_eq!(names(work.path()), ["plain"]);
}

#[test]
fn an_output_path_that_is_a_file_is_refused_before_any_call() {
    let work = tempfile::tempdir().unwrap();
    let plain = work.path().join("evidence");
    fs::write(&plain, "not a directory").unwrap();
    let output = run(binary()
        .args(["collect", "--endpoint-url", REFUSED, "--out"])
        .arg(&plain));
    assert_message(
        &output,
        1,
        &[
            &format!(
                "error: output directory {} is not usable: it is a file, not a directory",
                plain.display()
            ),
            "fix: pass --out with a directory you can write to",
        ],
    );
    assert_eq!(fs::read_to_string(&plain).unwrap(), "not a directory");
    assert_eq!(names(work.path()), ["evidence"]);
}

/// `collect` under a file size limit of `blocks` KiB (bash's `ulimit -f`): a write beyond it
/// fails with EFBIG, as on a full disk, and the kernel sends SIGXFSZ, which must not kill the run.
fn collect_with_file_limit(emulator: &Emulator, out: &Path, blocks: u32) -> Output {
    let base = binary();
    let mut cmd = Command::new("bash");
    for (key, value) in base.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd.args(["-c", &format!("ulimit -f {blocks} && exec \"$0\" \"$@\"")])
        .arg(base.get_program())
        .args(["collect", "--endpoint-url", &emulator.url])
        .args(["--region", "us-east-1", "--out"])
        .arg(out)
        .args(iam_args());
    run(&mut cmd)
}

fn assert_disk_full(output: &Output, file: &str, out: &Path) {
    assert_eq!(
        output.status.signal(),
        None,
        "killed by a signal: {}",
        text(&output.stderr)
    );
    let stderr = assert_message(
        output,
        1,
        &[
            "error: could not write the bundle file",
            "File too large (os error 27)",
            "fix: make room on the disk of the output directory (or raise the file size limit, `ulimit -f`)",
            "the partial bundle was removed and nothing was written under the bundle's final name",
        ],
    );
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: could not write the bundle file"))
        .unwrap();
    assert!(line.contains(file), "{file:?} not named in {line:?}");
    assert_eq!(
        names(out),
        Vec::<String>::new(),
        "left in {}",
        out.display()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_while_collectors_write_stops_the_run_and_leaves_nothing() {
    let emulator = Emulator::start();
    let iam = common::iam(&emulator).await;
    // Forty users make the credential report and the authorization details far larger than
    // the 4 KiB limit; the manifest is never reached.
    for i in 0..40 {
        iam.create_user()
            .user_name(format!("user-{i:02}"))
            .send()
            .await
            .unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let output = collect_with_file_limit(&emulator, work.path(), 4);
    assert_disk_full(&output, "/evidence/iam-", work.path());
}

#[test]
fn a_full_disk_after_collection_leaves_nothing() {
    // In an empty account every evidence file is under 1 KiB, and findings.json (all 32 rules
    // with their outcomes), written after the collectors and before the manifest and
    // index.html, is over 8 KiB.
    let emulator = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let output = collect_with_file_limit(&emulator, work.path(), 8);
    assert_disk_full(&output, "/findings.json", work.path());
}

/// Creates, for every second from 2 s ago to 2 min ahead, what a bundle named after that second
/// would be (`make` is given the path without extension), so the next run's name is taken.
fn take_the_next_names(out: &Path, make: impl Fn(&Path)) -> Vec<String> {
    let now = chrono::Utc::now();
    (-2..120)
        .map(|s| {
            let at = now + chrono::Duration::seconds(s);
            let name = format!("soc2-evidence-{ACCOUNT}-{}", at.format("%Y%m%dT%H%M%SZ"));
            make(&out.join(&name));
            name
        })
        .collect()
}

#[test]
fn an_existing_bundle_directory_is_never_overwritten() {
    let emulator = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let out = work.path();
    let taken = take_the_next_names(out, |path| {
        fs::create_dir(path).unwrap();
        fs::write(path.join("manifest.json"), "mine").unwrap();
    });
    let output = run(binary()
        .args(["collect", "--endpoint-url", &emulator.url])
        .args(["--region", "us-east-1", "--out"])
        .arg(out)
        .args(iam_args()));
    assert_message(
        &output,
        1,
        &[
            &format!(
                "error: a bundle named {}/soc2-evidence-{ACCOUNT}-",
                out.display()
            ),
            "already exists and is never overwritten; nothing was written",
            "fix: wait a second and run again, or pass another --out",
        ],
    );
    assert_eq!(names(out), taken, "nothing was added");
    for name in &taken {
        assert_eq!(
            fs::read_to_string(out.join(name).join("manifest.json")).unwrap(),
            "mine"
        );
        assert_eq!(names(&out.join(name)), ["manifest.json"]);
    }
}

#[test]
fn an_existing_bundle_zip_is_never_overwritten() {
    let emulator = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let out = work.path();
    let taken: Vec<String> = take_the_next_names(out, |path| {
        fs::write(path.with_extension("zip"), "my zip").unwrap();
    });
    let output = run(binary()
        .args(["collect", "--endpoint-url", &emulator.url])
        .args(["--region", "us-east-1", "--out"])
        .arg(out)
        .args(iam_args()));
    let stderr = assert_message(
        &output,
        1,
        &["already exists and is never overwritten; nothing was written"],
    );
    assert!(stderr.contains(".zip already exists"), "{stderr}");
    let zips: Vec<String> = taken.iter().map(|n| format!("{n}.zip")).collect();
    assert_eq!(names(out), zips, "nothing was added");
    for zip in &zips {
        assert_eq!(fs::read_to_string(out.join(zip)).unwrap(), "my zip");
    }
}
