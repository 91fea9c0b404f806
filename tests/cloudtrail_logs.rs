//! The CloudTrail log buckets and the sampled log file validation: the real binary against the
//! emulator, whose buckets hold digest and log files these tests write and sign themselves, in
//! AWS's published format, with an RSA key of their own. The emulator does not serve
//! cloudtrail:ListPublicKeys: the loopback proxy answers it with the test key.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use aws_sdk_cloudtrail::Client as CloudTrail;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use base64_free::encode as base64;
use chrono::{DateTime, Duration, Utc};
use common::proxy::{Answer, Proxy};
use common::{binary, bundle_dir, csv_rows, read_json, run, sdk_config, text, Emulator, ACCOUNT};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::{Digest, Sha256};

const REGION: &str = "us-east-1";

/// Base64 (standard alphabet, padded) without a crate: the JSON protocol's blob encoding.
mod base64_free {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// CloudTrail's signing key of the test: the private half signs digests, the public half is
/// what ListPublicKeys returns (DER PKCS #1), under a fingerprint of the test's choosing.
struct Key {
    signer: rsa::pkcs1v15::SigningKey<Sha256>,
    der: Vec<u8>,
    fingerprint: String,
}

impl Key {
    fn new() -> Key {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
        let der = private
            .to_public_key()
            .to_pkcs1_der()
            .unwrap()
            .as_bytes()
            .to_vec();
        let fingerprint = sha256(&der)[..32].to_string();
        Key {
            signer: rsa::pkcs1v15::SigningKey::new(private),
            der,
            fingerprint,
        }
    }

    /// The hex SHA256withRSA signature of a digest: over `end \n bucket/key \n
    /// hex(SHA-256(inflated)) \n previous signature` (`null` for a starting digest).
    fn sign(
        &self,
        end: &str,
        bucket: &str,
        key: &str,
        inflated: &[u8],
        previous: Option<&str>,
    ) -> String {
        let data = format!(
            "{end}\n{bucket}/{key}\n{}\n{}",
            sha256(inflated),
            previous.unwrap_or("null")
        );
        hex(&self.signer.sign(data.as_bytes()).to_vec())
    }

    /// ListPublicKeys' answer.
    fn answer(&self) -> Answer {
        let now = Utc::now().timestamp();
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/x-amz-json-1.1".into())],
            body: serde_json::json!({
                "PublicKeyList": [{
                    "Value": base64(&self.der),
                    "ValidityStartTime": now - 30 * 86_400,
                    "ValidityEndTime": now + 30 * 86_400,
                    "Fingerprint": self.fingerprint,
                }]
            })
            .to_string(),
        }
    }
}

fn s3(emulator: &Emulator) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk_config(emulator, REGION))
            .force_path_style(true)
            .build(),
    )
}

/// A logging trail of `REGION` with log file validation, writing to a new bucket of its own.
async fn trail(emulator: &Emulator, name: &str, bucket: &str, validation: bool) {
    s3(emulator)
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let cloudtrail = CloudTrail::new(&sdk_config(emulator, REGION));
    cloudtrail
        .create_trail()
        .name(name)
        .s3_bucket_name(bucket)
        .enable_log_file_validation(validation)
        .send()
        .await
        .unwrap();
    cloudtrail.start_logging().name(name).send().await.unwrap();
}

fn stamp(time: DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

fn iso(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A digest written to the bucket.
struct Written {
    key: String,
    signature: String,
    inflated: Vec<u8>,
    logs: Vec<String>,
}

/// Writes `hours` hourly digests of trail `name` ending 1..=hours hours before now, each
/// listing two log files (also written), chained from a starting digest, signed with `key`.
async fn write_chain(
    emulator: &Emulator,
    key: &Key,
    name: &str,
    bucket: &str,
    hours: i64,
) -> Vec<Written> {
    let s3 = s3(emulator);
    let now = Utc::now();
    let mut written: Vec<Written> = Vec::new();
    for h in (1..=hours).rev() {
        let end = now - Duration::hours(h);
        let start = end - Duration::hours(1);
        let day = end.format("%Y/%m/%d");
        let digest_key = format!(
            "AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/{day}/{ACCOUNT}_CloudTrail-Digest_{REGION}_{name}_{REGION}_{}.json.gz",
            stamp(end)
        );
        let mut log_files = Vec::new();
        let mut logs = Vec::new();
        for n in 0..2 {
            let log_key = format!(
                "AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{day}/{ACCOUNT}_CloudTrail_{REGION}_{}_{n}.json.gz",
                stamp(end)
            );
            let content = format!(
                r#"{{"Records":[{{"eventTime":"{}","eventName":"ListBuckets","n":{n}}}]}}"#,
                iso(start)
            );
            s3.put_object()
                .bucket(bucket)
                .key(&log_key)
                .body(ByteStream::from(gzip(content.as_bytes())))
                .send()
                .await
                .unwrap();
            log_files.push(serde_json::json!({
                "s3Bucket": bucket,
                "s3Object": log_key,
                "hashValue": sha256(content.as_bytes()),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": iso(start),
                "oldestEventTime": iso(start),
            }));
            logs.push(log_key);
        }
        let previous = written.last();
        let digest = serde_json::json!({
            "awsAccountId": ACCOUNT,
            "digestStartTime": iso(start),
            "digestEndTime": iso(end),
            "digestS3Bucket": bucket,
            "digestS3Object": digest_key,
            "digestPublicKeyFingerprint": key.fingerprint,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": iso(start),
            "oldestEventTime": iso(start),
            "previousDigestS3Bucket": previous.map(|_| bucket),
            "previousDigestS3Object": previous.map(|p| p.key.clone()),
            "previousDigestHashValue": previous.map(|p| sha256(&p.inflated)),
            "previousDigestHashAlgorithm": previous.map(|_| "SHA-256"),
            "previousDigestSignature": previous.map(|p| p.signature.clone()),
            "logFiles": log_files,
        });
        let inflated = digest.to_string().into_bytes();
        let signature = key.sign(
            &iso(end),
            bucket,
            &digest_key,
            &inflated,
            previous.map(|p| p.signature.as_str()),
        );
        s3.put_object()
            .bucket(bucket)
            .key(&digest_key)
            .body(ByteStream::from(gzip(&inflated)))
            .metadata("signature", &signature)
            .metadata("signature-algorithm", "SHA256withRSA")
            .send()
            .await
            .unwrap();
        written.push(Written {
            key: digest_key,
            signature,
            inflated,
            logs,
        });
    }
    written
}

/// `collect --json` through `url` (the emulator or a proxy before it) in `REGION`: (exit code,
/// summary).
fn collect_via(url: &str, out: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let output = run(binary()
        .args([
            "collect",
            "--json",
            "--max-attempts",
            "1",
            "--endpoint-url",
            url,
        ])
        .args(["--region", REGION])
        .arg("--out")
        .arg(out)
        .args(extra));
    let summary = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON summary ({e}): {}", text(&output.stderr)));
    (output.status.code().unwrap(), summary)
}

type Row = BTreeMap<String, String>;

fn by_trail(rows: Vec<Row>) -> BTreeMap<String, Row> {
    rows.into_iter()
        .map(|r| (r["trail_name"].clone(), r))
        .collect()
}

/// The rule outcomes of a bundle, by rule id.
fn rules(bundle: &Path) -> BTreeMap<String, Row> {
    csv_rows(&bundle.join("rules.csv"))
        .into_iter()
        .map(|r| (r["rule"].clone(), r))
        .collect()
}

fn findings_of<'a>(findings: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    findings["findings"]
        .as_array()
        .or_else(|| findings.as_array())
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trail_bucket_without_mfa_delete_and_encryption_is_reported() {
    let emulator = Emulator::start();
    trail(&emulator, "plain", "plain-trail-logs", false).await;
    s3(&emulator)
        .put_bucket_versioning()
        .bucket("plain-trail-logs")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, summary) = collect_via(
        &emulator.url,
        out.path(),
        &[
            "--collector",
            "cloudtrail",
            "--collector",
            "s3-public-access",
        ],
    );
    assert_eq!(code, 0, "{summary:#}");
    let bundle = bundle_dir(&summary);
    let manifest = read_json(&bundle.join("manifest.json"));
    let record = common::manifest_collector(&manifest, "cloudtrail");
    assert_eq!(record["status"], "collected", "{record:#}");

    let rows = csv_rows(&bundle.join("evidence/cloudtrail/trail-buckets.csv"));
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    for (column, value) in [
        ("trail_name", "plain"),
        ("bucket", "plain-trail-logs"),
        ("bucket_region", REGION),
        ("versioning", "Enabled"),
        ("mfa_delete", "false"),
        ("default_encryption", "none"),
        ("access_logging", "false"),
        ("failed_calls", ""),
        ("error", ""),
    ] {
        assert_eq!(row[column], value, "{column}");
    }
    let findings = read_json(&bundle.join("findings.json"));
    for rule in [
        "cloudtrail-bucket-no-mfa-delete",
        "cloudtrail-bucket-unencrypted",
    ] {
        let found = findings_of(&findings, rule);
        assert_eq!(found.len(), 1, "{rule}");
        assert_eq!(found[0]["resource"], "arn:aws:s3:::plain-trail-logs");
        assert_eq!(found[0]["region"], REGION);
    }
    assert_eq!(
        findings_of(&findings, "cloudtrail-bucket-no-mfa-delete")[0]["references"],
        serde_json::json!(["CIS 2.1.2", "S3.20"])
    );
    let outcomes = rules(&bundle);
    for rule in [
        "cloudtrail-bucket-public",
        "cloudtrail-bucket-no-mfa-delete",
        "cloudtrail-bucket-unencrypted",
    ] {
        assert_eq!(outcomes[rule]["status"], "evaluated", "{rule}");
    }
    assert!(findings_of(&findings, "cloudtrail-bucket-public").is_empty());
    // Validation disabled: nothing to validate, and no digest call.
    let validation = by_trail(csv_rows(
        &bundle.join("evidence/cloudtrail/trail-validation.csv"),
    ));
    assert_eq!(validation["plain"]["status"], "not_applicable");
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_digests_validate_and_every_kind_of_tampering_is_reported() {
    let emulator = Emulator::start();
    let key = Key::new();
    let mut chains = BTreeMap::new();
    for name in ["intact", "changed", "removed", "forged"] {
        let bucket = format!("{name}-trail-logs");
        trail(&emulator, name, &bucket, true).await;
        let chain = write_chain(&emulator, &key, name, &bucket, 3).await;
        chains.insert(name, (bucket, chain));
    }
    let s3 = s3(&emulator);
    // A log file changed after delivery.
    let (bucket, chain) = &chains["changed"];
    s3.put_object()
        .bucket(bucket)
        .key(&chain[1].logs[0])
        .body(ByteStream::from(gzip(br#"{"Records":[]}"#)))
        .send()
        .await
        .unwrap();
    // A digest deleted from the middle of the chain.
    let (bucket, chain) = &chains["removed"];
    s3.delete_object()
        .bucket(bucket)
        .key(&chain[1].key)
        .send()
        .await
        .unwrap();
    // The last digest re-signed by someone else's key.
    let (bucket, chain) = &chains["forged"];
    let other = Key::new();
    let last = chain.last().unwrap();
    let forged = other.sign(
        "2026-01-01T00:00:00Z",
        bucket,
        &last.key,
        &last.inflated,
        None,
    );
    s3.put_object()
        .bucket(bucket)
        .key(&last.key)
        .body(ByteStream::from(gzip(&last.inflated)))
        .metadata("signature", forged)
        .metadata("signature-algorithm", "SHA256withRSA")
        .send()
        .await
        .unwrap();

    let answer = key.answer();
    let body = answer.body.clone();
    let proxy = Proxy::start(&emulator.url, move |request| {
        (request.operation == "ListPublicKeys").then(|| Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/x-amz-json-1.1".into())],
            body: body.clone(),
        })
    });
    let out = tempfile::tempdir().unwrap();
    let (code, summary) = collect_via(
        &proxy.url,
        out.path(),
        &["--collector", "cloudtrail", "--validation-sample", "2"],
    );
    assert_eq!(code, 0, "{summary:#}");
    assert!(proxy.intercepted.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let bundle = bundle_dir(&summary);
    let rows = by_trail(csv_rows(
        &bundle.join("evidence/cloudtrail/trail-validation.csv"),
    ));

    let intact = &rows["intact"];
    for (column, value) in [
        ("status", "validated"),
        ("digests_checked", "3"),
        ("signatures_valid", "3"),
        ("signatures_invalid", "0"),
        ("digests_missing", "0"),
        ("chain_unbroken", "true"),
        ("log_files_listed", "6"),
        ("log_files_rehashed", "6"),
        ("log_files_matching", "6"),
        ("log_files_mismatching", "0"),
        ("problems", ""),
        ("reason", ""),
    ] {
        assert_eq!(intact[column], value, "intact {column}");
    }

    let changed = &rows["changed"];
    assert_eq!(changed["status"], "failed");
    assert_eq!(changed["signatures_valid"], "3");
    assert_eq!(changed["log_files_mismatching"], "1");
    assert_eq!(changed["log_files_matching"], "5");
    assert!(
        changed["problems"].contains(&chains["changed"].1[1].logs[0]),
        "{changed:#?}"
    );

    let removed = &rows["removed"];
    assert_eq!(removed["status"], "failed");
    assert_eq!(removed["digests_checked"], "2");
    assert_eq!(removed["digests_missing"], "1");
    assert_eq!(removed["chain_unbroken"], "false");
    assert!(
        removed["problems"].contains(&chains["removed"].1[1].key),
        "{removed:#?}"
    );

    let forged = &rows["forged"];
    assert_eq!(forged["status"], "failed");
    assert_eq!(forged["signatures_valid"], "2");
    assert_eq!(forged["signatures_invalid"], "1");
    assert!(
        forged["problems"].contains("the signature does not verify"),
        "{forged:#?}"
    );

    // The details per digest.
    let json = read_json(&bundle.join("evidence/cloudtrail/trail-validation.json"));
    let intact_json = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["trail_name"] == "intact")
        .unwrap();
    let digests = intact_json["digests"].as_array().unwrap();
    assert_eq!(digests.len(), 3);
    let chain: Vec<&str> = digests
        .iter()
        .map(|d| d["chain"].as_str().unwrap())
        .collect();
    assert_eq!(chain, ["start", "linked", "linked"]);
    assert!(digests.iter().all(|d| d["signature"] == "valid"));

    let findings = read_json(&bundle.join("findings.json"));
    let found = findings_of(&findings, "cloudtrail-log-validation-failed");
    let mut trails: Vec<&str> = found
        .iter()
        .map(|f| f["resource"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    trails.sort_unstable();
    assert_eq!(trails, ["changed", "forged", "removed"]);
    assert_eq!(
        rules(&bundle)["cloudtrail-log-validation-failed"]["status"],
        "evaluated"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_s3_get_object_the_validation_is_not_a_pass() {
    let emulator = Emulator::start();
    let key = Key::new();
    trail(&emulator, "intact", "intact-trail-logs", true).await;
    write_chain(&emulator, &key, "intact", "intact-trail-logs", 2).await;
    let body = key.answer().body;
    let proxy = Proxy::start(&emulator.url, move |request| {
        if request.operation == "ListPublicKeys" {
            return Some(Answer {
                status: 200,
                headers: vec![("Content-Type".into(), "application/x-amz-json-1.1".into())],
                body: body.clone(),
            });
        }
        (request.service == "s3" && request.operation == "GetObject").then(|| Answer {
            status: 403,
            headers: vec![("Content-Type".into(), "application/xml".into())],
            body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code>\
                   <Message>User is not authorized to perform: s3:GetObject</Message>\
                   <RequestId>1</RequestId></Error>"
                .into(),
        })
    });
    let out = tempfile::tempdir().unwrap();
    let (code, summary) = collect_via(&proxy.url, out.path(), &["--collector", "cloudtrail"]);
    // A refused optional permission is a recorded gap, not a failed collector.
    assert_eq!(code, 0, "{summary:#}");
    let bundle = bundle_dir(&summary);
    let manifest = read_json(&bundle.join("manifest.json"));
    let record = common::manifest_collector(&manifest, "cloudtrail");
    assert_eq!(record["notes"]["log_validation_gaps"], 1, "{record:#}");
    // Each refused call is in the manifest with its operation, region and code.
    let refused = record["notes"]["log_validation_refused"]
        .as_array()
        .unwrap();
    assert!(!refused.is_empty(), "{record:#}");
    for call in refused {
        assert_eq!(call["operation"], "GetObject", "{call:#}");
        assert_eq!(call["code"], "AccessDenied", "{call:#}");
        assert!(!call["region"].as_str().unwrap().is_empty(), "{call:#}");
    }
    let rows = by_trail(csv_rows(
        &bundle.join("evidence/cloudtrail/trail-validation.csv"),
    ));
    assert_eq!(rows["intact"]["status"], "not_validated");
    assert!(
        rows["intact"]["reason"].contains("GetObject refused"),
        "{:#?}",
        rows["intact"]
    );
    assert!(rows["intact"]["reason"].contains("AccessDenied"));
    let outcome = &rules(&bundle)["cloudtrail-log-validation-failed"];
    assert_eq!(outcome["status"], "not_evaluated", "{outcome:#?}");
    assert!(outcome["reason"].contains("AccessDenied"), "{outcome:#?}");
}
