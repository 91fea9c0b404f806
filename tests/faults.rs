//! Faults on the wire never cost evidence silently: the real binary, both regions and every
//! collector moto implements, against the emulator behind the fault-injecting proxy of
//! `tests/common/faults.rs` (throttling, 5xx, resets, delays and stalls, decided from a seed).
//!
//! - 20% transient faults: every collector still ends `collected`, the evidence files are the
//!   same bytes as a fault-free run's, and every failed attempt is a counted retry.
//! - One operation failing for good: exactly that collector (and region) is a gap, with the
//!   operation and error code in the manifest; exit 3.
//! - A server that stops answering: timeouts end every attempt, the run finishes, the manifest
//!   says `Timeout` with the operation and region.
//! - `--max-attempts`, `AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE` and the profile's settings decide how
//!   many requests a failing call makes, as the proxy counts them.
//! - The concurrency bound holds on the wire, and time spent queueing for it is no timeout.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::faults::{answer, request_key, Fault, FaultProxy, Plan, Target};
use common::proxy::{parse_request, RequestInfo};
use common::seed::{seed, REGIONS};
use common::{binary, text, Emulator};
use serde_json::Value;

/// The faults of the 20% runs: one of each kind that a client can meet on the wire.
const TRANSIENT: [Fault; 4] = [
    Fault::Throttle,
    Fault::ServerError,
    Fault::Reset,
    Fault::Delay(Duration::from_millis(100)),
];

struct Run {
    code: i32,
    summary: Value,
    manifest: Value,
    elapsed: Duration,
    stderr: String,
}

impl Run {
    fn collector(&self, id: &str) -> &Value {
        common::manifest_collector(&self.manifest, id)
    }

    /// The summary and the messages, for failure messages.
    fn context(&self) -> String {
        format!("{:#}\n{}", self.summary, self.stderr)
    }

    /// The run ended incomplete (exit 3) within `limit`; returns [`Run::context`].
    fn assert_incomplete_within(&self, limit: Duration) -> String {
        let context = self.context();
        assert_eq!(self.code, 3, "{context}");
        assert!(self.elapsed < limit, "took {:?}", self.elapsed);
        context
    }

    fn collectors(&self) -> &Vec<Value> {
        self.manifest["collectors"].as_array().unwrap()
    }

    fn region<'a>(&'a self, id: &str, region: &str) -> &'a Value {
        common::region_record(self.collector(id), region)
    }

    /// path -> sha256 of every evidence file.
    /// Path -> SHA-256 of every file but index.html, which shows the run's own facts (id, times,
    /// calls and retries) like the manifest does.
    fn hashes(&self) -> BTreeMap<String, String> {
        self.manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"] != "index.html")
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["sha256"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// id -> (status, per-region statuses) of every collector.
    fn statuses(&self) -> BTreeMap<String, (Value, Vec<(Value, Value)>)> {
        self.collectors()
            .iter()
            .map(|c| {
                let regions = c["regions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| (r["region"].clone(), r["status"].clone()))
                    .collect();
                (
                    c["id"].as_str().unwrap().to_string(),
                    (c["status"].clone(), regions),
                )
            })
            .collect()
    }

    fn u64_at(&self, pointer: &str) -> u64 {
        self.manifest
            .pointer(pointer)
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("manifest has no number at {pointer}"))
    }
}

/// `collect --json` over both regions through `url`, Access Analyzer skipped (moto has none).
fn collect_via(url: &str, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = binary();
    cmd.args(["collect", "--json", "--endpoint-url", url])
        .args(["--region", REGIONS[0], "--region", REGIONS[1]])
        .args(["--skip", "access-analyzer"])
        .arg("--out")
        .arg(out)
        .args(extra);
    for (name, value) in env {
        cmd.env(name, value);
    }
    let start = Instant::now();
    let output = cmd.output().expect("the binary runs");
    let elapsed = start.elapsed();
    let stderr = text(&output.stderr);
    let code = output.status.code().expect("exited");
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("collect printed no JSON summary ({e}); exit {code}\nstderr:\n{stderr}")
    });
    let dir = common::bundle_dir(&summary);
    let manifest = common::read_json(&dir.join("manifest.json"));
    Run {
        code,
        summary,
        manifest,
        elapsed,
        stderr,
    }
}

/// More buckets and keys than [`seed`], so that a run makes about a hundred calls, and a
/// credential report generated up front, so that every run makes the same calls.
async fn seed_more(emulator: &Emulator) {
    for region in REGIONS {
        let config = common::sdk_config(emulator, region);
        let kms = aws_sdk_kms::Client::new(&config);
        let s3 = aws_sdk_s3::Client::new(&config);
        for i in 0..5 {
            kms.create_key()
                .description(format!("key {i}"))
                .send()
                .await
                .unwrap();
            common::seed::create_bucket(&s3, &format!("data-{i}-{region}"), region).await;
        }
    }
    let iam = aws_sdk_iam::Client::new(&common::sdk_config(emulator, "us-east-1"));
    for _ in 0..50 {
        let state = iam.generate_credential_report().send().await.unwrap();
        if state.state() == Some(&aws_sdk_iam::types::ReportStateType::Complete) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the emulator never completed the credential report");
}

fn info(service: &str, operation: &str, region: &str) -> RequestInfo {
    RequestInfo {
        method: "POST".into(),
        path: "/".into(),
        region: region.into(),
        service: service.into(),
        operation: operation.into(),
        body: String::new(),
    }
}

// ---- The proxy itself ----

#[test]
fn faults_are_a_function_of_seed_request_and_attempt() {
    let plan = Plan::transient(42, 0.2, &TRANSIENT);
    let requests: Vec<(RequestInfo, Vec<u8>)> = (0..10_000)
        .map(|i| {
            let body = format!("{{\"KeyId\":\"key-{i}\"}}").into_bytes();
            (info("kms", "DescribeKey", "eu-west-1"), body)
        })
        .collect();
    let decide = |plan: &Plan, attempt| -> Vec<Option<Fault>> {
        requests
            .iter()
            .map(|(info, body)| plan.decide(info, request_key(info, body), attempt))
            .collect()
    };
    let first = decide(&plan, 1);
    // The same request, seed and attempt: the same fault, whatever the order of arrival.
    assert_eq!(first, decide(&plan, 1));
    let share = first.iter().filter(|f| f.is_some()).count() as f64 / first.len() as f64;
    assert!((0.18..=0.22).contains(&share), "share {share}");
    for kind in TRANSIENT {
        let n = first.iter().filter(|f| **f == Some(kind)).count() as f64;
        let of_faults = n / (share * first.len() as f64);
        assert!((0.2..=0.3).contains(&of_faults), "{kind:?}: {of_faults}");
    }
    // Another attempt of the same request is drawn afresh: about 0.2 x 0.2 fail both times.
    let second = decide(&plan, 2);
    let both = first
        .iter()
        .zip(&second)
        .filter(|(a, b)| a.is_some() && b.is_some())
        .count() as f64
        / first.len() as f64;
    assert!(
        (0.03..=0.05).contains(&both),
        "both attempts faulted: {both}"
    );
    // Another seed, other faults.
    let other = decide(&Plan::transient(43, 0.2, &TRANSIENT), 1);
    let same = first.iter().zip(&other).filter(|(a, b)| a == b).count();
    assert!(same < 9_000, "seeds 42 and 43 agree on {same} of 10000");
    // The key covers the body: two requests differing only there are different keys.
    let (a, b) = (&requests[0], &requests[1]);
    assert_ne!(request_key(&a.0, &a.1), request_key(&b.0, &b.1));

    // A permanent fault hits its operation on every attempt, in its region only.
    let plan = Plan::permanent(
        Target::new("kms", "ListKeys", Some("eu-west-1")),
        Fault::Throttle,
    );
    for attempt in 1..=20 {
        let hit = info("kms", "ListKeys", "eu-west-1");
        assert_eq!(plan.decide(&hit, 1, attempt), Some(Fault::Throttle));
        let other_region = info("kms", "ListKeys", "us-east-1");
        assert_eq!(plan.decide(&other_region, 1, attempt), None);
        let other_operation = info("kms", "ListAliases", "eu-west-1");
        assert_eq!(plan.decide(&other_operation, 1, attempt), None);
    }
}

#[test]
fn faults_are_answered_in_each_protocol_as_aws_answers_them() {
    let cases = [
        ("iam", Fault::Throttle, 400, "<Code>Throttling</Code>"),
        (
            "sts",
            Fault::ServerError,
            500,
            "<Code>ServiceFailure</Code>",
        ),
        (
            "ec2",
            Fault::Throttle,
            503,
            "<Code>RequestLimitExceeded</Code>",
        ),
        ("ec2", Fault::ServerError, 500, "<Code>InternalError</Code>"),
        (
            "kms",
            Fault::Throttle,
            429,
            r#""__type":"ThrottlingException""#,
        ),
        ("guardduty", Fault::Throttle, 429, "ThrottlingException"),
        ("cloudtrail", Fault::ServerError, 500, "InternalFailure"),
        ("s3", Fault::Throttle, 503, "<Code>SlowDown</Code>"),
        ("s3control", Fault::Throttle, 503, "<Code>SlowDown</Code>"),
        ("s3", Fault::ServerError, 500, "<Code>InternalError</Code>"),
    ];
    for (service, fault, status, code) in cases {
        let reply = answer(fault, &info(service, "Op", "us-east-1"));
        assert_eq!(reply.status, status, "{service} {fault:?}");
        assert!(reply.body.contains(code), "{service}: {}", reply.body);
    }
}

#[test]
fn requests_are_named_by_service_region_and_operation() {
    let auth = |region: &str, service: &str| {
        format!(
            "Authorization: AWS4-HMAC-SHA256 Credential=testing/20261122/{region}/{service}/aws4_request, SignedHeaders=host, Signature=00\r\n"
        )
    };
    let request = |line: &str, headers: String, body: &str| {
        let raw = format!(
            "{line}\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let parsed = parse_request(raw.as_bytes()).expect("a whole request");
        assert_eq!(parsed.len, raw.len());
        assert!(
            parse_request(&raw.as_bytes()[..raw.len() - 1]).is_none(),
            "an incomplete request is not parsed"
        );
        (
            parsed.info.service,
            parsed.info.region,
            parsed.info.operation,
        )
    };
    let named = |s: &str, r: &str, o: &str| (s.to_string(), r.to_string(), o.to_string());
    assert_eq!(
        request(
            "POST / HTTP/1.1",
            auth("eu-west-1", "kms") + "X-Amz-Target: TrentService.ListKeys\r\n",
            "{}"
        ),
        named("kms", "eu-west-1", "ListKeys")
    );
    assert_eq!(
        request(
            "POST / HTTP/1.1",
            auth("us-east-1", "iam"),
            "Action=GetAccountSummary&Version=2010-05-08"
        ),
        named("iam", "us-east-1", "GetAccountSummary")
    );
    assert_eq!(
        request("GET /logs/?acl HTTP/1.1", auth("eu-west-1", "s3"), ""),
        named("s3", "eu-west-1", "GetBucketAcl")
    );
    assert_eq!(
        request(
            "GET /?x-id=ListBuckets&max-buckets=10000 HTTP/1.1",
            auth("us-east-1", "s3"),
            ""
        ),
        named("s3", "us-east-1", "ListBuckets")
    );
    assert_eq!(
        request(
            "GET /v20180820/configuration/publicAccessBlock HTTP/1.1",
            auth("us-east-1", "s3"),
            ""
        ),
        named("s3control", "us-east-1", "GetPublicAccessBlock")
    );
    assert_eq!(
        request(
            "POST /detector/abc/findings/statistics HTTP/1.1",
            auth("us-east-1", "guardduty"),
            "{}"
        ),
        named("guardduty", "us-east-1", "GetFindingsStatistics")
    );
}

// ---- The tool behind the proxy ----

/// README "Timeouts": an endpoint that falls silent mid-run, with the default attempts (8).
/// The read timeout is scaled down to 3 s (the attempt timeout to twice that, as by default)
/// so that the documented bound, about 3 x the read timeout after the silence, is 9 s; the run
/// must end within twice that, where one round of 8 attempts per call would take 24 s for each
/// call in turn. `SOC2_SILENT_READ_TIMEOUT=30` runs it with the default timeouts.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_falls_silent_mid_run_costs_about_three_read_timeouts() {
    let emulator = Emulator::start();
    seed(&emulator).await;
    // The clean run's request count, to fall silent halfway through it.
    let clean = FaultProxy::start(&emulator.url, Plan::transient(0, 0.0, &[]));
    let out = tempfile::tempdir().unwrap();
    let run = collect_via(&clean.url, out.path(), &[], &[]);
    assert_eq!(run.code, 0, "{}", run.context());
    let requests = clean.seen().len();
    assert!(requests > 20, "{requests} requests");

    let proxy = FaultProxy::start(&emulator.url, Plan::silent_after(requests / 2));
    let out = tempfile::tempdir().unwrap();
    let read: u64 = std::env::var("SOC2_SILENT_READ_TIMEOUT").map_or(3, |v| {
        v.parse()
            .expect("SOC2_SILENT_READ_TIMEOUT is a number of seconds")
    });
    let (read_arg, attempt_arg) = (read.to_string(), (2 * read).to_string());
    let run = collect_via(
        &proxy.url,
        out.path(),
        &[
            "--read-timeout",
            &read_arg,
            "--operation-timeout",
            &attempt_arg,
        ],
        &[],
    );
    eprintln!(
        "silent after {} of {requests} requests: the run took {:?}",
        requests / 2,
        run.elapsed
    );
    let context = run.assert_incomplete_within(Duration::from_secs(6 * read));
    // Every call that did not get through is recorded as a timeout, with its operation and
    // region; none is dropped.
    let mut timeouts = 0;
    for c in run.collectors() {
        for e in c["errors"].as_array().unwrap() {
            assert_eq!(e["code"], "Timeout", "{e:#}\n{context}");
            assert!(!e["operation"].as_str().unwrap().is_empty(), "{e:#}");
            assert!(!e["region"].as_str().unwrap().is_empty(), "{e:#}");
            timeouts += 1;
        }
    }
    assert!(timeouts > 0, "{context}");
    let messages: Vec<String> = run
        .collectors()
        .iter()
        .flat_map(|c| c["errors"].as_array().unwrap().clone())
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("has answered nothing for")),
        "no call was cut short as silent: {messages:#?}"
    );
    // No call was tried more than twice after the silence began.
    let silent: Vec<_> = proxy.seen().into_iter().skip(requests / 2).collect();
    assert!(silent.iter().all(|s| s.attempt <= 2), "{silent:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_percent_transient_faults_change_nothing_but_the_retry_counts() {
    let emulator = Emulator::start();
    seed(&emulator).await;
    seed_more(&emulator).await;

    // The fault-free run goes through the proxy too, so that it counts the calls.
    let clean_proxy = FaultProxy::start(&emulator.url, Plan::transient(0, 0.0, &[]));
    let out = tempfile::tempdir().unwrap();
    let clean = collect_via(&clean_proxy.url, out.path(), &[], &[]);
    assert_eq!(clean.code, 0, "{:#}\n{}", clean.summary, clean.stderr);
    for c in clean.collectors() {
        assert_eq!(c["status"], "collected", "{c:#}");
    }
    assert_eq!(clean.u64_at("/run/api_retries"), 0);
    let calls = clean.u64_at("/run/api_calls");
    assert_eq!(calls as usize, clean_proxy.seen().len());
    assert!(
        calls >= 90,
        "the account makes {calls} calls, expected about 100"
    );
    // Calls less retries: the operations each collector made, the same in every run.
    let operations = |run: &Run| -> BTreeMap<String, u64> {
        run.collectors()
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap().to_string(),
                    c["api_calls"].as_u64().unwrap() - c["api_retries"].as_u64().unwrap(),
                )
            })
            .collect()
    };

    let mut kinds_seen = std::collections::BTreeSet::new();
    let mut services_faulted = std::collections::BTreeSet::new();
    let mut deepest = 0;
    // Seeds whose faults hit some call on three attempts in a row: the SDK's default of three
    // attempts would have lost evidence there.
    for seed in [4, 5, 9] {
        let proxy = FaultProxy::start(&emulator.url, Plan::transient(seed, 0.2, &TRANSIENT));
        let out = tempfile::tempdir().unwrap();
        // The tool's default retry settings: nothing passed.
        let run = collect_via(&proxy.url, out.path(), &[], &[]);
        let context = format!("seed {seed}: {}", run.context());
        assert_eq!(run.code, 0, "{context}");
        assert_eq!(run.manifest["status"], "complete", "{context}");
        assert_eq!(run.manifest["run"]["options"]["max_attempts"], 8);

        // The evidence is the same, byte for byte, and so is every status.
        assert_eq!(run.hashes(), clean.hashes(), "{context}");
        for c in run.collectors() {
            let id = c["id"].as_str().unwrap();
            let before = clean.collector(id);
            assert_eq!(c["files"], before["files"], "{id}, seed {seed}");
            assert_eq!(c["errors"], serde_json::json!([]), "{id}, seed {seed}");
        }
        assert_eq!(run.statuses(), clean.statuses(), "{context}");
        assert_eq!(operations(&run), operations(&clean), "{context}");

        // Every failed attempt was retried, and every retry is counted: in the run, in its
        // collector and in its region.
        let seen = proxy.seen();
        let failed = proxy.failed_attempts() as u64;
        deepest = seen
            .iter()
            .filter(|s| s.fault.is_some_and(Fault::fails_attempt))
            .map(|s| s.attempt)
            .fold(deepest, u32::max);
        assert!(
            failed >= 10,
            "seed {seed}: only {failed} faults in {} requests",
            seen.len()
        );
        assert_eq!(run.u64_at("/run/api_calls"), seen.len() as u64, "{context}");
        assert_eq!(run.u64_at("/run/api_retries"), failed, "{context}");
        assert_eq!(
            run.summary["run"]["api_retries"], failed,
            "the JSON summary agrees"
        );
        let identity_retries = seen
            .iter()
            .filter(|s| s.info.operation == "GetCallerIdentity")
            .filter(|s| s.fault.is_some_and(Fault::fails_attempt))
            .count() as u64;
        let by_collectors: u64 = run
            .collectors()
            .iter()
            .map(|c| c["api_retries"].as_u64().unwrap())
            .sum();
        assert_eq!(by_collectors + identity_retries, failed, "{context}");
        for c in run.collectors() {
            let regions = c["regions"].as_array().unwrap();
            let sum = |key: &str| {
                regions
                    .iter()
                    .map(|r| r[key].as_u64().unwrap())
                    .sum::<u64>()
            };
            assert_eq!(
                sum("api_retries"),
                c["api_retries"].as_u64().unwrap(),
                "{c:#}"
            );
            assert_eq!(sum("api_calls"), c["api_calls"].as_u64().unwrap(), "{c:#}");
        }
        let run_calls: u64 = run
            .collectors()
            .iter()
            .map(|c| c["api_calls"].as_u64().unwrap())
            .sum();
        assert_eq!(run_calls + 1 + identity_retries, seen.len() as u64);

        for s in &seen {
            if let Some(fault) = s.fault {
                kinds_seen.insert(format!("{fault:?}"));
                services_faulted.insert(s.info.service.clone());
            }
        }
        // And the bundle is whole.
        let zip = PathBuf::from(run.summary["bundle"]["zip"].as_str().unwrap());
        let verify = binary().arg("verify").arg(&zip).output().unwrap();
        assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
    }
    assert!(
        deepest >= 3,
        "no call failed three attempts in a row (deepest {deepest}): choose seeds whose faults \
         would defeat the SDK's default of three attempts, or the test proves little"
    );
    // The runs met every kind of fault, across the services.
    assert_eq!(
        kinds_seen.into_iter().collect::<Vec<_>>(),
        ["Delay(100ms)", "Reset", "ServerError", "Throttle"]
    );
    for service in ["cloudtrail", "ec2", "iam", "kms", "s3"] {
        assert!(
            services_faulted.contains(service),
            "no fault hit {service}: {services_faulted:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operation_that_always_fails_costs_exactly_its_collector_and_region() {
    let emulator = Emulator::start();
    seed(&emulator).await;
    struct Case {
        target: Target,
        fault: Fault,
        collector: &'static str,
        /// The region the manifest records, its status there, the code and the collector's
        /// status.
        region: &'static str,
        region_status: &'static str,
        code: &'static str,
        status: &'static str,
    }
    let cases = [
        Case {
            target: Target::new("kms", "ListKeys", Some("eu-west-1")),
            fault: Fault::Throttle,
            collector: "kms-key-rotation",
            region: "eu-west-1",
            region_status: "failed",
            code: "ThrottlingException",
            status: "partial",
        },
        Case {
            target: Target::new("s3", "GetBucketAcl", Some("eu-west-1")),
            fault: Fault::ServerError,
            collector: "s3-public-access",
            region: "eu-west-1",
            region_status: "partial",
            code: "InternalError",
            status: "partial",
        },
        Case {
            target: Target::new("iam", "GetAccountSummary", None),
            fault: Fault::Reset,
            collector: "iam-account-summary",
            region: "global",
            region_status: "failed",
            code: "DispatchFailure",
            status: "failed",
        },
    ];
    for case in cases {
        let (service, operation) = (case.target.service.clone(), case.target.operation.clone());
        let proxy = FaultProxy::start(&emulator.url, Plan::permanent(case.target, case.fault));
        let out = tempfile::tempdir().unwrap();
        // Three attempts keep the test quick; the default would only wait longer.
        let run = collect_via(&proxy.url, out.path(), &["--max-attempts", "3"], &[]);
        let context = format!("{operation}: {}", run.context());
        assert_eq!(run.code, 3, "{context}");
        assert_eq!(run.manifest["status"], "incomplete");
        for c in run.collectors() {
            if c["id"] != case.collector {
                assert_eq!(c["status"], "collected", "{operation}: {c:#}");
                assert_eq!(c["errors"], serde_json::json!([]), "{operation}: {c:#}");
            }
        }
        let gap = run.collector(case.collector);
        assert_eq!(gap["status"], case.status, "{context}");
        let errors = gap["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0]["region"], case.region);
        assert_eq!(errors[0]["operation"], operation.as_str());
        assert_eq!(errors[0]["code"], case.code, "{:#}", errors[0]);
        // The failing region (or the global label) is the only one not collected.
        for r in gap["regions"].as_array().unwrap() {
            let expected = if r["region"] == case.region {
                case.region_status
            } else {
                "collected"
            };
            assert_eq!(r["status"], expected, "{}: {r}", case.collector);
        }
        // Three attempts, each one sent and counted.
        let requests = proxy.requests(&service, &operation, region_of_request(case.region));
        assert_eq!(requests, 3, "{operation}");
        assert_eq!(
            run.region(case.collector, case.region)["api_retries"]
                .as_u64()
                .unwrap(),
            2,
            "{context}"
        );
    }
}

/// The SigV4 region of calls recorded under `region` (global calls are signed for us-east-1).
fn region_of_request(region: &str) -> &str {
    if region == "global" {
        "us-east-1"
    } else {
        region
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_stops_answering_does_not_hang_the_run() {
    let emulator = Emulator::start();
    seed(&emulator).await;
    let out = tempfile::tempdir().unwrap();
    // Low, but well above what the emulator needs on a busy machine.
    let timeouts = [
        "--read-timeout",
        "2",
        "--operation-timeout",
        "4",
        "--max-attempts",
        "2",
    ];

    // One call is never answered, another is cut off in the middle of its answer.
    let plan = Plan::permanent(
        Target::new("kms", "ListKeys", Some("eu-west-1")),
        Fault::Stall,
    )
    .and_permanent(
        Target::new("s3", "GetBucketAcl", Some("us-east-1")),
        Fault::StallMidResponse,
    );
    let proxy = FaultProxy::start(&emulator.url, plan);
    let run = collect_via(&proxy.url, out.path(), &timeouts, &[]);
    let context = run.assert_incomplete_within(Duration::from_secs(40));
    let kms = &run.collector("kms-key-rotation")["errors"][0];
    assert_eq!(kms["region"], "eu-west-1", "{context}");
    assert_eq!(kms["operation"], "ListKeys");
    assert_eq!(kms["code"], "Timeout", "{kms:#}");
    let s3 = &run.collector("s3-public-access")["errors"][0];
    assert_eq!(s3["region"], "us-east-1", "{context}");
    assert_eq!(s3["operation"], "GetBucketAcl");
    assert_eq!(s3["code"], "Timeout", "{s3:#}");
    // No byte of an answer: the read timeout ends the attempt. Half an answer: the operation
    // attempt timeout does.
    let message = |e: &Value| e["message"].as_str().unwrap().to_string();
    assert!(message(kms).contains("read timeout"), "{kms:#}");
    assert!(message(s3).contains("--operation-timeout"), "{s3:#}");
    assert_eq!(proxy.requests("kms", "ListKeys", "eu-west-1"), 2);
    assert_eq!(proxy.requests("s3", "GetBucketAcl", "us-east-1"), 2);
    for c in run.collectors() {
        if !["kms-key-rotation", "s3-public-access"].contains(&c["id"].as_str().unwrap()) {
            assert_eq!(c["status"], "collected", "{c:#}");
        }
    }
    assert_eq!(
        run.region("kms-key-rotation", "eu-west-1")["status"],
        "failed"
    );
    assert_eq!(
        run.region("kms-key-rotation", "us-east-1")["status"],
        "collected"
    );

    // The whole endpoint stops answering after the account is identified: every collector
    // records its timeouts and the bundle is still written, in bounded time.
    let plan = [
        "iam",
        "ec2",
        "kms",
        "s3",
        "s3control",
        "cloudtrail",
        "guardduty",
        // identity-center: sso-admin signs as `sso`.
        "sso",
        "identitystore",
        "config",
        "logs",
        "monitoring",
        "sns",
    ]
    .into_iter()
    .fold(Plan::transient(0, 0.0, &[]), |plan, service| {
        plan.and_permanent(Target::new(service, "*", None), Fault::Stall)
    });
    let proxy = FaultProxy::start(&emulator.url, plan);
    let out = tempfile::tempdir().unwrap();
    let run = collect_via(&proxy.url, out.path(), &timeouts, &[]);
    run.assert_incomplete_within(Duration::from_secs(60));
    for c in run.collectors() {
        assert_ne!(c["status"], "collected", "{c:#}");
        let errors = c["errors"].as_array().unwrap();
        assert!(!errors.is_empty(), "{c:#}");
        for e in errors {
            assert_eq!(e["code"], "Timeout", "{e:#}");
            assert!(!e["operation"].as_str().unwrap().is_empty(), "{e:#}");
            assert!(!e["region"].as_str().unwrap().is_empty(), "{e:#}");
        }
    }
    assert!(proxy.seen().iter().all(|s| s.attempt <= 2));

    // An endpoint that never answers at all: the run cannot identify the account and says so,
    // in bounded time, with no bundle.
    let proxy = FaultProxy::start(
        &emulator.url,
        Plan::permanent(Target::new("*", "*", None), Fault::Stall),
    );
    let out = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let output = binary()
        .args(["collect", "--endpoint-url", &proxy.url])
        .args(["--region", REGIONS[0]])
        .args(timeouts)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert!(
        stderr.contains("sts:GetCallerIdentity in us-east-1 via")
            && stderr.contains("failed: Timeout"),
        "{stderr}"
    );
    assert_eq!(proxy.requests("sts", "GetCallerIdentity", "us-east-1"), 2);
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn max_attempts_and_the_aws_retry_settings_are_honoured() {
    let emulator = Emulator::start();
    seed(&emulator).await;
    let config_dir = tempfile::tempdir().unwrap();
    let config_file = config_dir.path().join("config");
    std::fs::write(
        &config_file,
        "[profile audit]\nmax_attempts = 2\nretry_mode = adaptive\n",
    )
    .unwrap();
    let config_file = config_file.to_str().unwrap().to_string();

    /// Flags and environment, and the attempts and mode the run must use.
    struct Case<'a> {
        flags: Vec<&'a str>,
        env: Vec<(&'a str, &'a str)>,
        attempts: u64,
        mode: &'a str,
        /// How ListKeys in eu-west-1 fails on every attempt (throttling unless said).
        fault: Fault,
    }
    let case = |flags, env, attempts, mode| Case {
        flags,
        env,
        attempts,
        mode,
        fault: Fault::Throttle,
    };
    let cases = [
        case(vec!["--max-attempts", "4"], vec![], 4, "standard"),
        case(vec![], vec![("AWS_MAX_ATTEMPTS", "2")], 2, "standard"),
        // The flag wins over the environment.
        case(
            vec!["--max-attempts", "1"],
            vec![("AWS_MAX_ATTEMPTS", "5")],
            1,
            "standard",
        ),
        case(
            vec![],
            vec![("AWS_MAX_ATTEMPTS", "3"), ("AWS_RETRY_MODE", "adaptive")],
            3,
            "adaptive",
        ),
        // The profile's settings, and the environment over the profile.
        case(
            vec!["--profile", "audit"],
            vec![("AWS_CONFIG_FILE", config_file.as_str())],
            2,
            "adaptive",
        ),
        case(
            vec!["--profile", "audit"],
            vec![
                ("AWS_CONFIG_FILE", config_file.as_str()),
                ("AWS_MAX_ATTEMPTS", "3"),
                ("AWS_RETRY_MODE", "standard"),
            ],
            3,
            "standard",
        ),
        // The AWS CLI's `legacy` mode is standard here, not a crash.
        case(
            vec![],
            vec![("AWS_MAX_ATTEMPTS", "2"), ("AWS_RETRY_MODE", "legacy")],
            2,
            "standard",
        ),
        // Nothing said: the tool's default, for throttling and for a 5xx.
        case(vec![], vec![], 8, "standard"),
        Case {
            fault: Fault::ServerError,
            ..case(vec![], vec![], 8, "standard")
        },
    ];
    // The cases run at once: most of their time is backoff.
    std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| {
                let url = &emulator.url;
                scope.spawn(move || {
                    check_attempts(
                        url,
                        case.fault,
                        &case.flags,
                        &case.env,
                        case.attempts,
                        case.mode,
                    )
                })
            })
            .collect();
        for handle in handles {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// Runs kms-key-rotation with ListKeys in eu-west-1 failing with `fault` on every attempt and
/// checks that the proxy saw `attempts` requests for it, as the manifest says.
fn check_attempts(
    url: &str,
    fault: Fault,
    flags: &[&str],
    env: &[(&str, &str)],
    attempts: u64,
    mode: &str,
) {
    let proxy = FaultProxy::start(
        url,
        Plan::permanent(Target::new("kms", "ListKeys", Some("eu-west-1")), fault),
    );
    let out = tempfile::tempdir().unwrap();
    let mut extra = vec!["--collector", "kms-key-rotation"];
    extra.extend(flags);
    let run = collect_via(&proxy.url, out.path(), &extra, env);
    let context = format!("{fault:?} {flags:?} {env:?}: {}", run.context());
    assert_eq!(run.code, 3, "{context}");
    assert_eq!(
        proxy.requests("kms", "ListKeys", "eu-west-1") as u64,
        attempts,
        "{context}"
    );
    let options = &run.manifest["run"]["options"];
    assert_eq!(options["max_attempts"], attempts, "{context}");
    assert_eq!(options["retry_mode"], mode, "{context}");
    // The manifest counts what the proxy saw: every attempt, all but the first as retries.
    let region = run.region("kms-key-rotation", "eu-west-1");
    let in_region = proxy
        .seen()
        .iter()
        .filter(|s| s.info.service == "kms" && s.info.region == "eu-west-1")
        .count() as u64;
    assert_eq!(region["api_calls"], in_region, "{context}");
    assert_eq!(region["api_retries"], attempts - 1, "{context}");
    assert_eq!(region["status"], "failed");
    let error = &run.collector("kms-key-rotation")["errors"][0];
    let code = if fault == Fault::Throttle {
        "ThrottlingException"
    } else {
        "InternalFailure"
    };
    assert_eq!(error["code"], code, "{context}");
    if fault == Fault::ServerError {
        // Errors other than throttling back off from 50 ms: 8 attempts in a few seconds.
        assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
    }
}

#[test]
fn retry_settings_the_tool_cannot_use_are_usage_errors_that_name_the_fix() {
    for (name, value, expected) in [
        (
            "AWS_MAX_ATTEMPTS",
            "0",
            "error: AWS_MAX_ATTEMPTS is `0`, not a number of attempts from 1 to 20\n  \
             fix: set it to a number from 1 to 20, unset it, or pass --max-attempts\n",
        ),
        (
            "AWS_RETRY_MODE",
            "fast",
            "error: AWS_RETRY_MODE is `fast`, not a retry mode\n  \
             fix: set it to `standard` or `adaptive`, or unset it\n",
        ),
    ] {
        let out = tempfile::tempdir().unwrap();
        let output = binary()
            .args(["collect", "--endpoint-url", "http://127.0.0.1:9"])
            .arg("--out")
            .arg(out.path())
            .env(name, value)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}={value}");
        assert_eq!(text(&output.stderr), expected);
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_concurrency_bound_holds_on_the_wire_and_queueing_is_no_timeout() {
    let emulator = Emulator::start();
    seed(&emulator).await;
    // Every answer takes 500 ms and two may be in flight: most calls queue far longer than the
    // three-second attempt timeout before they are sent, and none of them may time out for it.
    let proxy = FaultProxy::start(
        &emulator.url,
        Plan::transient(0, 1.0, &[Fault::Delay(Duration::from_millis(500))]),
    );
    let out = tempfile::tempdir().unwrap();
    let run = collect_via(
        &proxy.url,
        out.path(),
        &[
            "--concurrency",
            "2",
            "--operation-timeout",
            "3",
            "--max-attempts",
            "1",
        ],
        &[],
    );
    let context = run.context();
    assert_eq!(run.code, 0, "{context}");
    for c in run.collectors() {
        assert_eq!(c["status"], "collected", "{c:#}");
    }
    assert_eq!(proxy.max_in_flight(), 2, "{context}");
    // The queue was real: two at a time, the calls took several times the attempt timeout.
    let calls = proxy.seen().len() as u32;
    assert!(calls >= 30, "{calls} calls");
    assert!(
        run.elapsed >= Duration::from_millis(500) * calls / 2,
        "{:?}",
        run.elapsed
    );
    assert!(
        run.elapsed > Duration::from_secs(3 * 2),
        "{:?}",
        run.elapsed
    );
}
