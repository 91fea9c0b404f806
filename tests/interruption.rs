//! Interruption: SIGINT and SIGTERM stop `collect` cleanly (the temporary bundle is removed, a
//! message says what happened, exit 130 or 143), SIGKILL at any moment never leaves a partial
//! bundle under a final name, and the next run removes what a killed run left behind.
//!
//! Each test runs the real binary against the emulator through a loopback proxy that holds
//! chosen requests back, so a signal lands at a known moment of the run: while the account is
//! being identified (nothing written yet) or while collectors work (the temporary bundle exists).

mod common;

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::proxy::Proxy;
use common::{binary, entry_names, fresh_out, iam_args, Emulator};

use soc2_evidence::bundle::writer;

/// The prefix of the temporary entries a run keeps in the output directory while it works.
const TEMP_PREFIX: &str = writer::TEMP_PREFIX;

/// How long the proxy holds a request back: far longer than any test waits after a signal.
const HOLD: Duration = Duration::from_secs(20);

/// A proxy that holds back every request to `service` (`sts` or `iam`) for [`HOLD`], and a flag
/// that is set once the first such request has arrived.
fn holding_proxy(emulator: &Emulator, service: &'static str) -> (Proxy, Arc<AtomicBool>) {
    let arrived = Arc::new(AtomicBool::new(false));
    let flag = arrived.clone();
    let proxy = Proxy::start(&emulator.url, move |request| {
        if request.service == service {
            flag.store(true, Ordering::SeqCst);
            std::thread::sleep(HOLD);
        }
        None
    });
    (proxy, arrived)
}

/// `collect` of the IAM collectors into `out`, through a proxy that holds back the requests to
/// `service` (see [`holding_proxy`]), returned once the first of them has arrived: the run is
/// caught at a known moment. The proxy must outlive the run.
fn held_run(emulator: &Emulator, service: &'static str, out: &Path) -> (Proxy, Running) {
    let (proxy, arrived) = holding_proxy(emulator, service);
    let mut running = Running::start(&proxy.url, out, &iam_args());
    let moment = match service {
        "sts" => "the account was being identified",
        "iam" => "a collector called IAM",
        _ => service,
    };
    running.wait_for(&arrived, moment);
    (proxy, running)
}

/// The binary running `collect` in the background, its output going to files.
struct Running {
    child: Child,
    logs: tempfile::TempDir,
}

/// How a run ended.
#[derive(Debug)]
struct Ended {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Running {
    fn start(url: &str, out: &Path, extra: &[&str]) -> Running {
        let logs = tempfile::tempdir().unwrap();
        let child = binary()
            .args(["collect", "--json", "--endpoint-url", url])
            .args(["--region", "us-east-1", "--max-attempts", "1"])
            .arg("--out")
            .arg(out)
            .args(extra)
            .stdout(fs::File::create(logs.path().join("stdout")).unwrap())
            .stderr(fs::File::create(logs.path().join("stderr")).unwrap())
            .spawn()
            .expect("the binary starts");
        Running { child, logs }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr(&self) -> String {
        fs::read_to_string(self.logs.path().join("stderr")).unwrap_or_default()
    }

    /// Waits until `flag` is set; fails if the run ends first or it takes longer than 60 s.
    fn wait_for(&mut self, flag: &AtomicBool, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !flag.load(Ordering::SeqCst) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the run ended ({status}) before {what}; stderr:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{what} did not happen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends a signal by process id with kill(1).
    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -{name} {} failed", self.pid());
    }

    /// Waits for the run to end, at most `limit`.
    fn wait(mut self, limit: Duration) -> Ended {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the run did not end within {limit:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        Ended {
            code: status.code(),
            signal: status.signal(),
            stdout: fs::read_to_string(self.logs.path().join("stdout")).unwrap(),
            stderr: self.stderr(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Stopped by its own process id, never by name.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The names in `dir` (none when it does not exist), sorted.
fn entries(dir: &Path) -> Vec<String> {
    entry_names(dir).unwrap_or_default()
}

fn temporary(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|n| n.starts_with(TEMP_PREFIX))
        .collect()
}

/// Final names: everything but temporary entries and the marker files the tests put there.
fn finals(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|n| n.starts_with("soc2-evidence-"))
        .collect()
}

/// What the run said and left: exit `code`, the message, and nothing in `out`. `temporary` is
/// the temporary bundle the message must name as removed, or None when none was started.
fn assert_interrupted(ended: &Ended, signal: &str, code: i32, out: &Path, temporary: Option<&str>) {
    assert_eq!(ended.code, Some(code), "{ended:#?}");
    let removed = match temporary {
        Some(name) => format!(
            "its temporary bundle {} was removed and nothing was written",
            out.join(name).display()
        ),
        None => "nothing had been written yet".to_string(),
    };
    for part in [
        &format!("error: interrupted by {signal}: the run was stopped before the bundle was complete; {removed}"),
        "fix: run `soc2-evidence collect` again for a complete bundle",
    ] {
        assert!(
            ended.stderr.contains(part),
            "{part:?} missing from:\n{}",
            ended.stderr
        );
    }
    assert_eq!(ended.stdout, "", "no summary for a run that wrote nothing");
    assert_eq!(
        entries(out),
        Vec::<String>::new(),
        "left in {}",
        out.display()
    );
}

/// Sends SIG`signal` to a run held while its collectors work (its temporary bundle exists, and
/// is the only one) and checks that it was interrupted cleanly with exit `code` (see
/// [`assert_interrupted`]). Returns the scratch directory, the output directory and how long the
/// run took to end after the signal.
fn interrupt_while_collecting(signal: &str, code: i32) -> (tempfile::TempDir, PathBuf, Duration) {
    let emulator = Emulator::start();
    let (work, out) = fresh_out();
    let (_proxy, running) = held_run(&emulator, "iam", &out);
    let temp = temporary(&out);
    assert_eq!(temp.len(), 1, "the temporary bundle exists: {temp:?}");
    assert!(out.join(&temp[0]).is_dir());

    running.signal(signal);
    let signalled = Instant::now();
    let ended = running.wait(Duration::from_secs(15));
    let took = signalled.elapsed();
    assert_interrupted(&ended, &format!("SIG{signal}"), code, &out, Some(&temp[0]));
    (work, out, took)
}

#[test]
fn sigint_while_collectors_work_removes_the_temporary_bundle_and_exits_130() {
    let (_work, out, took) = interrupt_while_collecting("INT", 130);
    // The collectors waiting on held-back requests are stopped, not waited for.
    assert!(took < HOLD / 4, "took {took:?}");
    assert!(out.is_dir(), "the output directory itself stays");
}

#[test]
fn sigterm_stops_the_run_the_same_way_and_exits_143() {
    interrupt_while_collecting("TERM", 143);
}

#[test]
fn sigint_while_member_accounts_are_collected_removes_the_org_bundle_and_exits_130() {
    let emulator = Emulator::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(common::org::seed_org(&emulator));
    let (_work, out) = fresh_out();
    let (_proxy, arrived) = holding_proxy(&emulator, "iam");
    // Running::start gives --max-attempts itself.
    let args: Vec<&str> = common::org::org_args()
        .into_iter()
        .filter(|a| *a != "--max-attempts" && *a != "1")
        .collect();
    let mut running = Running::start(&_proxy.url, &out, &args);
    running.wait_for(&arrived, "an account's collector called IAM");
    let temp = temporary(&out);
    assert_eq!(temp.len(), 1, "the temporary org bundle exists: {temp:?}");
    assert!(out.join(&temp[0]).join("accounts").is_dir());

    running.signal("INT");
    let signalled = Instant::now();
    let ended = running.wait(Duration::from_secs(15));
    assert!(
        signalled.elapsed() < HOLD / 4,
        "took {:?}",
        signalled.elapsed()
    );
    assert_interrupted(&ended, "SIGINT", 130, &out, Some(&temp[0]));
}

#[test]
fn sigint_before_the_bundle_is_started_writes_nothing_and_exits_130() {
    let emulator = Emulator::start();
    let (_work, out) = fresh_out();
    let (_proxy, running) = held_run(&emulator, "sts", &out);

    running.signal("INT");
    let ended = running.wait(Duration::from_secs(15));
    assert_interrupted(&ended, "SIGINT", 130, &out, None);
    assert!(!out.exists(), "the output directory was never created");
}

/// The final names present must be a complete bundle's, in the order they are placed (zip,
/// checksum, directory), and a zip present must verify intact.
fn assert_no_partial_bundle(out: &Path) {
    let finals = finals(out);
    let mut by_bundle: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
    for name in &finals {
        let (bundle, kind) = if let Some(b) = name.strip_suffix(".zip.sha256") {
            (b, "sha256")
        } else if let Some(b) = name.strip_suffix(".zip") {
            (b, "zip")
        } else {
            (name.as_str(), "dir")
        };
        by_bundle.entry(bundle.to_string()).or_default().push(kind);
    }
    for (bundle, mut kinds) in by_bundle {
        kinds.sort();
        assert!(
            [
                vec!["zip"],
                vec!["sha256", "zip"],
                vec!["dir", "sha256", "zip"]
            ]
            .contains(&kinds),
            "{bundle}: a partial set of final names {kinds:?} in {finals:?}"
        );
        let verify = common::run(
            binary()
                .arg("verify")
                .arg(out.join(format!("{bundle}.zip"))),
        );
        assert_eq!(
            verify.status.code(),
            Some(0),
            "{bundle}.zip under its final name must be complete: {}",
            common::text(&verify.stdout)
        );
    }
}

/// Kills the run with SIGKILL the moment its temporary bundle holds a manifest or a temporary
/// zip appears, i.e. while the bundle is being finished. Returns whether the kill landed before
/// anything was placed under a final name.
fn kill_while_finishing(emulator: &Emulator, out: &Path) -> bool {
    let mut running = Running::start(&emulator.url, out, &iam_args());
    let before = finals(out);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let temp = temporary(out);
        let finishing = temp.iter().any(|n| n.ends_with(".zip"))
            || temp
                .iter()
                .any(|n| out.join(n).join("manifest.json").exists());
        if finishing {
            running.child.kill().unwrap();
            break;
        }
        if running.child.try_wait().unwrap().is_some() {
            // Finished before the poll saw it: nothing to kill this time.
            break;
        }
        assert!(Instant::now() < deadline, "the run did not finish in 60 s");
        std::hint::spin_loop();
    }
    let ended = running.wait(Duration::from_secs(15));
    ended.signal == Some(9) && finals(out) == before
}

#[test]
fn sigkill_at_any_moment_never_leaves_a_partial_bundle_and_the_next_run_cleans_up() {
    let emulator = Emulator::start();
    let (_work, out) = fresh_out();
    let mut killed_pids = Vec::new();

    // 1. While the account is being identified: nothing exists yet.
    {
        let (_proxy, mut running) = held_run(&emulator, "sts", &out);
        running.child.kill().unwrap();
        assert_eq!(running.wait(Duration::from_secs(15)).signal, Some(9));
        assert!(!out.exists());
    }
    // 2. While collectors work: the temporary bundle stays behind, under its temporary name.
    {
        let (_proxy, mut running) = held_run(&emulator, "iam", &out);
        killed_pids.push(running.pid());
        running.child.kill().unwrap();
        assert_eq!(running.wait(Duration::from_secs(15)).signal, Some(9));
        let temp = temporary(&out);
        assert_eq!(temp.len(), 1, "{temp:?}");
        assert!(
            temp[0].ends_with(&format!("-{}", killed_pids[0])),
            "{temp:?}"
        );
        assert_eq!(finals(&out), Vec::<String>::new());
    }
    // 3. While the bundle is being finished (manifest, zip, checksum, renames). The moment is
    // found by polling, so it is tried until a kill lands before the first final name: at most
    // five runs. Whatever the moment, a final name only ever holds a complete bundle.
    let mut landed = false;
    for attempt in 1..=5 {
        landed = kill_while_finishing(&emulator, &out);
        eprintln!(
            "SIGKILL while finishing, attempt {attempt}: landed before any final name: {landed}"
        );
        assert_no_partial_bundle(&out);
        if landed {
            break;
        }
    }
    assert!(
        landed,
        "in five runs, no SIGKILL landed between the manifest and the first final name"
    );
    assert!(
        !temporary(&out).is_empty(),
        "the killed runs left their temporary entries: {:?}",
        entries(&out)
    );
    let finals_before = finals(&out);
    if !finals_before.is_empty() {
        // A run that finished before the kill named its bundle after its second: start the
        // next one in a later second, or it would rightly refuse to overwrite that bundle.
        std::thread::sleep(Duration::from_millis(1100));
    }

    // The next run removes every leftover of the killed runs and writes its bundle.
    let output = common::run(
        binary()
            .args(["collect", "--json", "--endpoint-url", &emulator.url])
            .args(["--region", "us-east-1", "--out"])
            .arg(&out)
            .args(iam_args()),
    );
    let stderr = common::text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        temporary(&out),
        Vec::<String>::new(),
        "leftovers remain; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("left by an interrupted run"),
        "the cleanup is reported:\n{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let zip = PathBuf::from(summary["bundle"]["zip"].as_str().unwrap());
    let new: Vec<String> = finals(&out)
        .into_iter()
        .filter(|n| !finals_before.contains(n))
        .collect();
    let name = zip.file_stem().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        new,
        vec![
            name.clone(),
            format!("{name}.zip"),
            format!("{name}.zip.sha256")
        ]
    );
    assert_no_partial_bundle(&out);
}

/// A pid that no process has: a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} was reused at once; run the test again"
    );
    pid
}

#[test]
fn leftovers_of_a_live_process_and_foreign_entries_are_never_touched() {
    let emulator = Emulator::start();
    let (_work, out) = fresh_out();
    fs::create_dir_all(&out).unwrap();
    let dead = dead_pid();
    // A process that is alive for the whole test: another run at work, as far as anyone knows.
    let mut alive = Command::new("sleep")
        .arg("120")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let live = alive.id();
    let stem = |pid: u32| format!("{TEMP_PREFIX}soc2-evidence-123456789012-20260101T000000Z-{pid}");
    for pid in [dead, live] {
        fs::create_dir_all(out.join(stem(pid)).join("evidence")).unwrap();
        fs::write(out.join(stem(pid)).join("evidence/x.json"), "{}").unwrap();
        // The marker every run writes into its temporary bundle: leftovers are known by it.
        let marker = out.join(stem(pid)).join(writer::STAGING_MARKER);
        fs::write(marker, writer::MARKER_TEXT).unwrap();
        fs::write(out.join(format!("{}.zip", stem(pid))), "zip").unwrap();
        fs::write(out.join(format!("{}.zip.sha256", stem(pid))), "sum").unwrap();
    }
    let foreign = [
        format!("{TEMP_PREFIX}notes"),
        format!("{TEMP_PREFIX}something-else-{dead}"),
        "README.txt".to_string(),
    ];
    for name in &foreign {
        fs::write(out.join(name), "kept").unwrap();
    }

    let output = common::run(
        binary()
            .args(["collect", "--endpoint-url", &emulator.url])
            .args(["--region", "us-east-1", "--out"])
            .arg(&out)
            .args(iam_args()),
    );
    let _ = alive.kill();
    let _ = alive.wait();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        common::text(&output.stderr)
    );

    let left = entries(&out);
    for suffix in ["", ".zip", ".zip.sha256"] {
        let dead_entry = format!("{}{suffix}", stem(dead));
        let live_entry = format!("{}{suffix}", stem(live));
        assert!(!left.contains(&dead_entry), "{dead_entry} was not removed");
        assert!(left.contains(&live_entry), "{live_entry} was removed");
    }
    assert!(out.join(stem(live)).join("evidence/x.json").is_file());
    for name in &foreign {
        assert_eq!(
            fs::read_to_string(out.join(name)).unwrap(),
            "kept",
            "{name}"
        );
    }
}
