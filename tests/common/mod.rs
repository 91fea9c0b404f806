//! Test harness: a real AWS emulator (moto) on 127.0.0.1, one per test, and the real binary.
//!
//! moto is installed by `scripts/test` into `.venv`; `SOC2_MOTO_SERVER` may point elsewhere.
//! [`Emulator::start`] runs stock moto, so the tests see exactly what moto serves and what it
//! lacks; [`Emulator::start_extended`] runs the project's test emulator (`scripts/emulator`,
//! moto plus the calls it lacks), with the venv's python (`SOC2_PYTHON` may point elsewhere).
//! A test that cannot start the emulator fails and says why: it is never skipped.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const ACCOUNT: &str = "123456789012";

/// The account-level IAM collectors that complete against the emulator (exit 0) and quickly,
/// but for `iam-authorization-details` (see [`iam_args`]).
pub const IAM_ACCOUNT: [&str; 3] = [
    "iam-credential-report",
    "iam-account-summary",
    "iam-password-policy",
];

/// `--collector ID` for each of `ids`, in order.
pub fn collector_args(ids: &[&'static str]) -> Vec<&'static str> {
    ids.iter().flat_map(|id| ["--collector", *id]).collect()
}

/// `--collector` arguments for every account-level IAM collector: [`IAM_ACCOUNT`] and
/// `iam-authorization-details`.
pub fn iam_args() -> Vec<&'static str> {
    let mut ids = IAM_ACCOUNT.to_vec();
    ids.push("iam-authorization-details");
    collector_args(&ids)
}

/// A fresh scratch directory, and inside it the path of an output directory `evidence` that
/// does not exist yet.
pub fn fresh_out() -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("evidence");
    (work, out)
}

/// The names in `dir`, sorted; None when it cannot be read (it does not exist, say).
pub fn entry_names(dir: &Path) -> Option<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Some(names)
}

pub struct Emulator {
    child: Child,
    pub url: String,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

fn moto_server() -> PathBuf {
    let path = std::env::var_os("SOC2_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"));
    assert!(
        path.is_file(),
        "the AWS emulator is not installed at {}: run `scripts/test`, which installs moto into \
         .venv, or set SOC2_MOTO_SERVER to a moto_server executable",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

fn http_get_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// The python that runs the test emulator: `SOC2_PYTHON`, or the one of the venv that holds
/// `moto_server`.
fn emulator_python() -> PathBuf {
    let path = std::env::var_os("SOC2_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| moto_server().with_file_name("python"));
    assert!(
        path.is_file(),
        "no python for the test emulator at {}: run `scripts/test`, which installs moto into \
         .venv, or set SOC2_PYTHON to the python of a venv with moto",
        path.display()
    );
    path
}

impl Emulator {
    /// Starts a fresh stock moto (an empty account) on a free loopback port.
    pub fn start() -> Emulator {
        Emulator::spawn(|| Command::new(moto_server()), "moto_server")
    }

    /// Starts a fresh test emulator (`scripts/emulator/server.py`: moto and the calls it lacks)
    /// on a free loopback port.
    pub fn start_extended() -> Emulator {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/emulator/server.py");
        Emulator::spawn(
            || {
                let mut command = Command::new(emulator_python());
                command.arg(&script);
                command
            },
            "the test emulator",
        )
    }

    fn spawn(command: impl Fn() -> Command, server: &str) -> Emulator {
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port();
            let log_dir = tempfile::tempdir().unwrap();
            let log = log_dir.path().join("moto.log");
            let log_file = std::fs::File::create(&log).unwrap();
            let mut child = command()
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().unwrap())
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {server}: {e}"));
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if http_get_ok(port, "/moto-api/") {
                    return Emulator {
                        child,
                        url: format!("http://127.0.0.1:{port}"),
                        log,
                        _log_dir: log_dir,
                    };
                }
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!(
            "the emulator did not become ready on 127.0.0.1 after 3 tries; its log:\n{last_log}"
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Stopped by its own process id, never by name.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An IAM client for seeding the emulator (dummy credentials, loopback only).
pub async fn iam(emulator: &Emulator) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .endpoint_url(&emulator.url)
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

/// The binary with an environment that can only reach the emulator: dummy credentials, no
/// profile files, no instance metadata.
pub fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_soc2-evidence"));
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent/soc2-evidence-tests/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/soc2-evidence-tests/credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("COLUMNS", "100")
        .stdin(Stdio::null());
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `collect --json` against the emulator and returns (exit code, JSON summary).
pub fn collect(emulator: &Emulator, out: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let output = run(binary()
        .args([
            "collect",
            "--json",
            "--endpoint-url",
            &emulator.url,
            "--region",
            "us-east-1",
        ])
        .arg("--out")
        .arg(out)
        .args(extra));
    let code = output.status.code().expect("exited");
    let summary = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "collect printed no JSON summary ({e}); exit {code}\nstdout:\n{}\nstderr:\n{}\nemulator log:\n{}",
            text(&output.stdout),
            text(&output.stderr),
            emulator.log()
        )
    });
    (code, summary)
}

/// What [`collect_expecting`] returns: the output directory (the bundle lives as long as it
/// does), the JSON summary and the bundle directory.
pub type Collected = (tempfile::TempDir, serde_json::Value, PathBuf);

/// A run into `out` that ended with `code` and `summary`: checks that it exited `expected` and
/// finds its bundle.
pub fn expect_exit(
    out: tempfile::TempDir,
    (code, summary): (i32, serde_json::Value),
    expected: i32,
) -> Collected {
    assert_eq!(code, expected, "summary: {summary:#}");
    let dir = bundle_dir(&summary);
    (out, summary, dir)
}

/// [`collect`] against the emulator into a fresh directory, which must exit with `expected`.
pub fn collect_expecting(emulator: &Emulator, extra: &[&str], expected: i32) -> Collected {
    let out = tempfile::tempdir().unwrap();
    let result = collect(emulator, out.path(), extra);
    expect_exit(out, result, expected)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Rows of a CSV file as maps keyed by header.
pub fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The bundle directory a `--json` summary (of `collect` or `report`) names.
pub fn bundle_dir(summary: &serde_json::Value) -> PathBuf {
    PathBuf::from(
        summary["bundle"]["directory"]
            .as_str()
            .unwrap_or_else(|| panic!("no bundle directory in {summary:#}")),
    )
}

/// A JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The elements of a JSON array; fails, showing the value, when it is not one.
pub fn elements(array: &serde_json::Value) -> &[serde_json::Value] {
    array
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {array:#}"))
}

/// The element of the JSON array `array` whose `key` equals `value`; fails, showing the array,
/// when there is none.
pub fn find_by<'a>(array: &'a serde_json::Value, key: &str, value: &str) -> &'a serde_json::Value {
    elements(array)
        .iter()
        .find(|e| e[key] == value)
        .unwrap_or_else(|| panic!("no element with {key} = {value:?} in {array:#}"))
}

/// The string `key` of every element of the JSON array `array`, in order.
pub fn strings_of<'a>(array: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    elements(array)
        .iter()
        .map(|e| {
            e[key]
                .as_str()
                .unwrap_or_else(|| panic!("no string {key} in {e:#}"))
        })
        .collect()
}

/// A collector's entry of a manifest.
pub fn manifest_collector<'a>(manifest: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    find_by(&manifest["collectors"], "id", id)
}

/// The record of `region` in a collector's manifest entry.
pub fn region_record<'a>(entry: &'a serde_json::Value, region: &str) -> &'a serde_json::Value {
    find_by(&entry["regions"], "region", region)
}

/// The row of a CSV table (see [`csv_rows`]) whose `key` column holds `value`.
pub fn csv_row<'a>(
    table: &'a [std::collections::BTreeMap<String, String>],
    key: &str,
    value: &str,
) -> &'a std::collections::BTreeMap<String, String> {
    table
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value} in {table:#?}"))
}

/// Every file below `root`, as bundle paths with `/`, sorted.
pub fn files_below(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                let parts: Vec<_> = rel.iter().map(|p| p.to_string_lossy()).collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    out
}

pub mod browser;
pub mod faults;
pub mod mock;
pub mod org;
pub mod proxy;
pub mod seed;
pub mod zipkit;

/// SDK configuration for seeding the emulator in `region` (dummy credentials, loopback only).
pub fn sdk_config(emulator: &Emulator, region: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(&emulator.url)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("testing", "testing", None, None, "tests"),
            ),
        )
        .build()
}

/// `report --json BUNDLE --out OUT EXTRA...`, which must exit with `expected`: the new bundle's
/// directory.
pub fn report_expecting(bundle: &Path, out: &Path, extra: &[&str], expected: i32) -> PathBuf {
    let output = run(binary()
        .args(["report", "--json"])
        .arg(bundle)
        .arg("--out")
        .arg(out)
        .args(extra));
    assert_eq!(
        output.status.code(),
        Some(expected),
        "report {}: {}",
        bundle.display(),
        text(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("report printed no JSON summary ({e})"));
    bundle_dir(&summary)
}
