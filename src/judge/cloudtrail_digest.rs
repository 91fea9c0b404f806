//! CloudTrail log file integrity validation (pure): what `aws cloudtrail validate-logs` checks,
//! over bytes the `cloudtrail` collector read from a trail's bucket.
//!
//! The format and procedure are AWS's, as the CloudTrail User Guide publishes them ("CloudTrail
//! digest file structure" and "Custom implementations of CloudTrail log file integrity
//! validation"):
//! - A digest file lies at `[prefix/]AWSLogs/[o-id/]<account>/CloudTrail-Digest/<region>/
//!   <YYYY>/<MM>/<DD>/<account>_CloudTrail-Digest_<region>_<trail>_<home-region>_
//!   <YYYYMMDDTHHMMSSZ>.json.gz` (`_backfill` before `.json.gz` for a backfill digest); it is
//!   gzip, and its inflated content is JSON.
//! - Its signature is the hex `signature` metadata of the S3 object (`x-amz-meta-signature`),
//!   with `signature-algorithm` `SHA256withRSA`: an RSA PKCS #1 v1.5 signature over the SHA-256 of
//!   the data-signing string `digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256 of the
//!   inflated digest) \n previousDigestSignature` (`null` for a starting digest, which has no
//!   previous one).
//! - The public key is the ListPublicKeys entry, in the digest's own region, whose `Fingerprint`
//!   equals the digest's `digestPublicKeyFingerprint`; its `Value` is a DER RSA public key
//!   (PKCS #1; the guide's samples also show the X.509 SubjectPublicKeyInfo form, also read).
//! - Each digest names the previous one (`previousDigestS3Bucket`, `previousDigestS3Object`,
//!   with its signature and the hex SHA-256 of its inflated content): a deleted digest breaks
//!   the chain.
//! - Each `logFiles` entry has the hex SHA-256 (`hashAlgorithm` `SHA-256`) of the inflated log
//!   file.
//!
//! Everything here reads untrusted bytes (anyone who may write to the bucket can put a file
//! there): nothing panics, every size is capped, gzip output included, and every refusal says
//! why.

use std::io::Write;

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::contract::cloudtrail::ChainLink;

/// The largest digest file read (compressed). A busy region's hourly digest lists a few
/// thousand log files, well under a megabyte.
pub const MAX_DIGEST_BYTES: u64 = 8 << 20;
/// The largest inflated digest accepted: a gzip bomb stops here.
pub const MAX_DIGEST_INFLATED: u64 = 64 << 20;
/// The largest log file read (compressed); it is streamed, never held whole.
pub const MAX_LOG_BYTES: u64 = 512 << 20;
/// The largest inflated log file hashed.
pub const MAX_LOG_INFLATED: u64 = 4 << 30;
/// The largest public key accepted (an RSA-4096 key is about 550 bytes of DER).
pub const MAX_PUBLIC_KEY_BYTES: usize = 16 << 10;
/// The longest hex signature accepted (RSA-8192 is 2048 hex digits).
const MAX_SIGNATURE_HEX: usize = 4096;

/// The only signature algorithm CloudTrail documents.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";
/// The only hash algorithm CloudTrail documents for log files and previous digests.
pub const HASH_ALGORITHM: &str = "SHA-256";

/// A digest file's content, as far as validation reads it (other members are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestFile {
    #[serde(default)]
    pub aws_account_id: Option<String>,
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    pub digest_public_key_fingerprint: String,
    #[serde(default)]
    pub digest_signature_algorithm: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_bucket: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_algorithm: Option<String>,
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    #[serde(default)]
    pub log_files: Vec<LogFileEntry>,
}

/// One `logFiles` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFileEntry {
    pub s3_bucket: String,
    pub s3_object: String,
    pub hash_value: String,
    #[serde(default)]
    pub hash_algorithm: Option<String>,
}

/// Why a digest (or log) file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("larger than the {limit} bytes read")]
    TooLarge { limit: u64 },
    #[error("inflates past the {limit} bytes accepted")]
    InflatesTooLarge { limit: u64 },
    #[error("not gzip: {0}")]
    NotGzip(String),
    #[error("not a digest file: {0}")]
    NotDigest(String),
}

/// A `Write` that refuses to take more than `limit` bytes in total.
struct Capped<W> {
    inner: W,
    written: u64,
    limit: u64,
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written + buf.len() as u64 > self.limit {
            return Err(std::io::Error::other(CAP_HIT));
        }
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

const CAP_HIT: &str = "inflated size cap reached";

fn gzip_error(e: std::io::Error, limit: u64) -> ReadError {
    if e.to_string() == CAP_HIT {
        ReadError::InflatesTooLarge { limit }
    } else {
        ReadError::NotGzip(e.to_string())
    }
}

/// Inflates gzip `bytes` (every member) up to `limit` bytes of output.
pub fn inflate(bytes: &[u8], limit: u64) -> Result<Vec<u8>, ReadError> {
    let sink = Capped {
        inner: Vec::new(),
        written: 0,
        limit,
    };
    let mut decoder = flate2::write::MultiGzDecoder::new(sink);
    decoder
        .write_all(bytes)
        .and_then(|()| decoder.try_finish())
        .map_err(|e| gzip_error(e, limit))?;
    let sink = decoder.finish().map_err(|e| gzip_error(e, limit))?;
    if bytes.is_empty() {
        return Err(ReadError::NotGzip("empty file".into()));
    }
    Ok(sink.inner)
}

/// Parses an inflated digest file.
pub fn parse_digest(inflated: &[u8]) -> Result<DigestFile, ReadError> {
    serde_json::from_slice(inflated).map_err(|e| ReadError::NotDigest(e.to_string()))
}

/// A digest file as stored: its inflated bytes and what they say. The fuzz target's entry.
pub fn read_digest(stored: &[u8]) -> Result<(Vec<u8>, DigestFile), ReadError> {
    if stored.len() as u64 > MAX_DIGEST_BYTES {
        return Err(ReadError::TooLarge {
            limit: MAX_DIGEST_BYTES,
        });
    }
    let inflated = inflate(stored, MAX_DIGEST_INFLATED)?;
    let digest = parse_digest(&inflated)?;
    Ok((inflated, digest))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex (either case) to bytes; `None` for an odd length or a non-hex digit.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The data-signing string of a digest: its end time, `bucket/key`, the hex SHA-256 of its
/// inflated content and the previous digest's signature (`null` for a starting digest).
pub fn signing_string(digest: &DigestFile, inflated: &[u8]) -> String {
    format!(
        "{}\n{}/{}\n{}\n{}",
        digest.digest_end_time,
        digest.digest_s3_bucket,
        digest.digest_s3_object,
        sha256_hex(inflated),
        digest
            .previous_digest_signature
            .as_deref()
            .unwrap_or("null")
    )
}

/// A ListPublicKeys `Value`: DER PKCS #1 RSAPublicKey, or X.509 SubjectPublicKeyInfo.
pub fn public_key(der: &[u8]) -> Result<rsa::RsaPublicKey, String> {
    if der.len() > MAX_PUBLIC_KEY_BYTES {
        return Err(format!(
            "the public key is larger than {MAX_PUBLIC_KEY_BYTES} bytes"
        ));
    }
    rsa::RsaPublicKey::from_pkcs1_der(der)
        .or_else(|_| rsa::RsaPublicKey::from_public_key_der(der))
        .map_err(|e| format!("not a DER RSA public key (PKCS #1 or X.509): {e}"))
}

/// Checks a hex SHA256withRSA signature over `message`.
pub fn verify(key: &rsa::RsaPublicKey, message: &str, signature_hex: &str) -> Result<(), String> {
    if signature_hex.len() > MAX_SIGNATURE_HEX {
        return Err(format!(
            "the signature is longer than {MAX_SIGNATURE_HEX} hex digits"
        ));
    }
    let bytes = unhex(signature_hex).ok_or("the signature is not hex")?;
    let signature = rsa::pkcs1v15::Signature::try_from(bytes.as_slice())
        .map_err(|e| format!("not an RSA signature: {e}"))?;
    rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone())
        .verify(message.as_bytes(), &signature)
        .map_err(|_| "the signature does not verify".to_string())
}

/// Streams a gzip log file through SHA-256 of its inflated content, with both sizes capped.
pub struct LogHasher {
    decoder: flate2::write::MultiGzDecoder<Capped<Sha256Sink>>,
    read: u64,
}

struct Sha256Sink(Sha256);

impl Write for Sha256Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Default for LogHasher {
    fn default() -> Self {
        LogHasher::new()
    }
}

impl LogHasher {
    pub fn new() -> Self {
        LogHasher {
            decoder: flate2::write::MultiGzDecoder::new(Capped {
                inner: Sha256Sink(Sha256::new()),
                written: 0,
                limit: MAX_LOG_INFLATED,
            }),
            read: 0,
        }
    }

    /// Takes the next compressed chunk.
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), ReadError> {
        self.read += chunk.len() as u64;
        if self.read > MAX_LOG_BYTES {
            return Err(ReadError::TooLarge {
                limit: MAX_LOG_BYTES,
            });
        }
        self.decoder
            .write_all(chunk)
            .map_err(|e| gzip_error(e, MAX_LOG_INFLATED))
    }

    /// The hex SHA-256 of the inflated content.
    pub fn finish(mut self) -> Result<String, ReadError> {
        if self.read == 0 {
            return Err(ReadError::NotGzip("empty file".into()));
        }
        self.decoder
            .try_finish()
            .map_err(|e| gzip_error(e, MAX_LOG_INFLATED))?;
        let sink = self
            .decoder
            .finish()
            .map_err(|e| gzip_error(e, MAX_LOG_INFLATED))?;
        Ok(hex(&sink.inner.0.finalize()))
    }
}

// ---- Where digests lie ----

/// The key prefix of one trail's digests delivered by `region` on one day (`YYYY/MM/DD`):
/// `[prefix/]AWSLogs/[o-id/]<account>/CloudTrail-Digest/<region>/<day>/<account>_CloudTrail-
/// Digest_<region>_<trail>_<home>_`.
pub fn digest_day_prefix(
    key_prefix: &str,
    organization: Option<&str>,
    account: &str,
    region: &str,
    day: chrono::NaiveDate,
    trail: &str,
    home: &str,
) -> String {
    let mut key = String::new();
    let key_prefix = key_prefix.trim_end_matches('/');
    if !key_prefix.is_empty() {
        key.push_str(key_prefix);
        key.push('/');
    }
    key.push_str("AWSLogs/");
    if let Some(org) = organization {
        key.push_str(org);
        key.push('/');
    }
    key.push_str(&format!(
        "{account}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{trail}_{home}_",
        day.format("%Y/%m/%d")
    ));
    key
}

/// The end time a digest key carries (`..._YYYYMMDDTHHMMSSZ.json.gz`, or
/// `..._YYYYMMDDTHHMMSSZ_backfill.json.gz`), and whether it is a backfill digest.
pub fn key_time(key: &str) -> Option<(chrono::DateTime<chrono::Utc>, bool)> {
    let stem = key.strip_suffix(".json.gz")?;
    let (stem, backfill) = match stem.strip_suffix("_backfill") {
        Some(stem) => (stem, true),
        None => (stem, false),
    };
    let stamp = stem.rsplit('_').next()?;
    let time = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").ok()?;
    Some((time.and_utc(), backfill))
}

/// The days (UTC) from `start` to `end`, both included.
pub fn days(
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> Vec<chrono::NaiveDate> {
    let mut day = start.date_naive();
    let mut all = Vec::new();
    while day <= end.date_naive() && all.len() < 400 {
        all.push(day);
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    all
}

// ---- The chain ----

/// What the chain needs to know of one digest of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub bucket: String,
    pub key: String,
    /// Its S3 metadata signature and hex SHA-256 of its inflated content, when it was read.
    pub signature: Option<String>,
    pub sha256: Option<String>,
    /// What it says of its previous digest, when it was read and parsed: `None` inside for a
    /// starting digest.
    pub previous: Option<Option<Previous>>,
}

/// A digest's record of its previous digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    pub bucket: String,
    pub key: String,
    pub signature: Option<String>,
    pub sha256: Option<String>,
}

impl Previous {
    /// The previous digest a parsed digest names; `None` for a starting digest.
    pub fn of(digest: &DigestFile) -> Option<Previous> {
        let key = digest.previous_digest_s3_object.clone()?;
        Some(Previous {
            bucket: digest
                .previous_digest_s3_bucket
                .clone()
                .unwrap_or_else(|| digest.digest_s3_bucket.clone()),
            key,
            signature: digest.previous_digest_signature.clone(),
            sha256: digest.previous_digest_hash_value.clone(),
        })
    }
}

/// What [`chain`] finds: per digest its link and why (empty when linked), and the missing
/// previous digests with the digest that names each (`s3://bucket/key` both).
pub type Chain = (Vec<(ChainLink, String)>, Vec<(String, String)>);

/// How each digest links to the previous one, and the previous digests that are missing
/// (in the window by their key's time, named by a later digest, absent from the listing).
/// `window_start` is the earliest digest end time read.
pub fn chain(links: &[Link], window_start: chrono::DateTime<chrono::Utc>) -> Chain {
    let mut missing = Vec::new();
    let outcomes = links
        .iter()
        .map(|link| {
            let previous = match &link.previous {
                None => return (ChainLink::Unknown, String::new()),
                Some(None) => {
                    return (
                        ChainLink::Start,
                        "a starting digest: validation or logging was (re)started".to_string(),
                    )
                }
                Some(Some(previous)) => previous,
            };
            let found = links
                .iter()
                .find(|l| l.bucket == previous.bucket && l.key == previous.key);
            match found {
                Some(found) => {
                    let mut differs = Vec::new();
                    if let (Some(recorded), Some(actual)) = (&previous.signature, &found.signature)
                    {
                        if !recorded.trim().eq_ignore_ascii_case(actual.trim()) {
                            differs.push("signature");
                        }
                    }
                    if let (Some(recorded), Some(actual)) = (&previous.sha256, &found.sha256) {
                        if !recorded.trim().eq_ignore_ascii_case(actual) {
                            differs.push("SHA-256");
                        }
                    }
                    if differs.is_empty() {
                        (ChainLink::Linked, String::new())
                    } else {
                        (
                            ChainLink::PreviousMismatch,
                            format!(
                                "the {} it records for its previous digest s3://{}/{} differs \
                                 from that digest's",
                                differs.join(" and "),
                                previous.bucket,
                                previous.key
                            ),
                        )
                    }
                }
                None => match key_time(&previous.key) {
                    Some((time, _)) if time < window_start => {
                        (ChainLink::BeforeWindow, String::new())
                    }
                    _ => {
                        let name = format!("s3://{}/{}", previous.bucket, previous.key);
                        missing.push((name.clone(), format!("s3://{}/{}", link.bucket, link.key)));
                        (
                            ChainLink::PreviousMissing,
                            format!("its previous digest {name} is not in the bucket"),
                        )
                    }
                },
            }
        })
        .collect();
    (outcomes, missing)
}

/// Which of `count` log files to re-hash: `sample` of them, spread evenly over the list (all
/// when the list is shorter).
pub fn sample(count: usize, sample: usize) -> Vec<usize> {
    if sample >= count {
        return (0..count).collect();
    }
    let mut picked: Vec<usize> = (0..sample).map(|i| i * count / sample).collect();
    picked.dedup();
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::EncodePublicKey;
    use rsa::signature::{SignatureEncoding, Signer};

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    const KEY: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/\
                       111122223333_CloudTrail-Digest_us-east-2_trail_us-east-2_20150817T150131Z.json.gz";

    fn sample_digest(previous: Option<&str>) -> String {
        serde_json::json!({
            "awsAccountId": "111122223333",
            "digestStartTime": "2015-08-17T14:01:31Z",
            "digestEndTime": "2015-08-17T15:01:31Z",
            "digestS3Bucket": "logs",
            "digestS3Object": KEY,
            "digestPublicKeyFingerprint": "31e8b5433410dfb61a9dc45cc65b22ff",
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": null,
            "previousDigestS3Bucket": previous.map(|_| "logs"),
            "previousDigestS3Object": previous.map(|_| "AWSLogs/prev.json.gz"),
            "previousDigestHashValue": previous.map(|_| "ab"),
            "previousDigestHashAlgorithm": previous.map(|_| "SHA-256"),
            "previousDigestSignature": previous,
            "logFiles": [{
                "s3Bucket": "logs",
                "s3Object": "AWSLogs/log.json.gz",
                "hashValue": "9bb6",
                "hashAlgorithm": "SHA-256",
                "newestEventTime": "2015-08-17T14:52:27Z"
            }]
        })
        .to_string()
    }

    #[test]
    fn a_digest_reads_from_gzip_and_json() {
        let json = sample_digest(Some("50887c"));
        let (inflated, digest) = read_digest(&gzip(json.as_bytes())).unwrap();
        assert_eq!(inflated, json.as_bytes());
        assert_eq!(digest.digest_end_time, "2015-08-17T15:01:31Z");
        assert_eq!(digest.digest_s3_object, KEY);
        assert_eq!(
            digest.digest_public_key_fingerprint,
            "31e8b5433410dfb61a9dc45cc65b22ff"
        );
        assert_eq!(digest.previous_digest_signature.as_deref(), Some("50887c"));
        assert_eq!(digest.log_files.len(), 1);
        assert_eq!(digest.log_files[0].hash_value, "9bb6");
        assert_eq!(
            digest.log_files[0].hash_algorithm.as_deref(),
            Some("SHA-256")
        );
        let start = read_digest(&gzip(sample_digest(None).as_bytes()))
            .unwrap()
            .1;
        assert_eq!(start.previous_digest_signature, None);
        assert_eq!(Previous::of(&start), None);
    }

    #[test]
    fn bad_digests_are_refused_with_the_reason() {
        assert!(matches!(
            read_digest(b"{\"not\": \"gzip\"}"),
            Err(ReadError::NotGzip(_))
        ));
        assert!(matches!(read_digest(b""), Err(ReadError::NotGzip(_))));
        assert!(matches!(
            read_digest(&gzip(b"[1, 2]")),
            Err(ReadError::NotDigest(_))
        ));
        assert!(matches!(
            read_digest(&gzip(b"{\"digestEndTime\": \"x\"}")),
            Err(ReadError::NotDigest(e)) if e.contains("digestStartTime")
        ));
        // A gzip bomb: a small file that inflates past the cap.
        let bomb = gzip(&vec![b' '; (MAX_DIGEST_INFLATED + 1) as usize]);
        assert!(bomb.len() < 1 << 20);
        assert_eq!(
            read_digest(&bomb).unwrap_err(),
            ReadError::InflatesTooLarge {
                limit: MAX_DIGEST_INFLATED
            }
        );
        assert!(matches!(
            read_digest(&vec![0u8; (MAX_DIGEST_BYTES + 1) as usize]),
            Err(ReadError::TooLarge { .. })
        ));
        // Truncated gzip.
        let whole = gzip(sample_digest(None).as_bytes());
        assert!(read_digest(&whole[..whole.len() / 2]).is_err());
    }

    #[test]
    fn the_signing_string_is_awss_format() {
        let json = sample_digest(Some("6e8540"));
        let (inflated, digest) = read_digest(&gzip(json.as_bytes())).unwrap();
        assert_eq!(
            signing_string(&digest, &inflated),
            format!(
                "2015-08-17T15:01:31Z\nlogs/{KEY}\n{}\n6e8540",
                sha256_hex(json.as_bytes())
            )
        );
        // A starting digest signs the word `null` for the previous signature.
        let json = sample_digest(None);
        let (inflated, digest) = read_digest(&gzip(json.as_bytes())).unwrap();
        assert!(signing_string(&digest, &inflated).ends_with("\nnull"));
    }

    fn key_pair() -> (rsa::RsaPrivateKey, rsa::RsaPublicKey) {
        let mut rng = rsa::rand_core::OsRng;
        let private = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap();
        let public = private.to_public_key();
        (private, public)
    }

    #[test]
    fn signatures_verify_with_pkcs1_and_x509_keys_and_fail_when_changed() {
        let (private, public) = key_pair();
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(private);
        let message = "2015-08-17T15:01:31Z\nlogs/key\nabc\nnull";
        let signature = hex(&signer.sign(message.as_bytes()).to_vec());
        for der in [
            public.to_pkcs1_der().unwrap().as_bytes().to_vec(),
            public.to_public_key_der().unwrap().as_bytes().to_vec(),
        ] {
            let key = public_key(&der).unwrap();
            assert_eq!(verify(&key, message, &signature), Ok(()));
            assert_eq!(
                verify(&key, &message.replace("abc", "abd"), &signature),
                Err("the signature does not verify".to_string())
            );
            assert_eq!(
                verify(&key, message, &signature.to_uppercase()),
                Ok(()),
                "hex in either case"
            );
        }
        let key = public_key(public.to_pkcs1_der().unwrap().as_bytes()).unwrap();
        assert!(verify(&key, message, "zz").is_err());
        assert!(verify(&key, message, "abc").is_err());
        assert!(verify(&key, message, &"ab".repeat(3000)).is_err());
        assert!(public_key(b"not a key").is_err());
        assert!(public_key(&[0u8; MAX_PUBLIC_KEY_BYTES + 1]).is_err());
    }

    #[test]
    fn log_files_hash_their_inflated_content_in_chunks() {
        let content = b"{\"Records\": []}".repeat(1000);
        let stored = gzip(&content);
        let mut hasher = LogHasher::new();
        for chunk in stored.chunks(7) {
            hasher.update(chunk).unwrap();
        }
        assert_eq!(hasher.finish().unwrap(), sha256_hex(&content));
        let mut hasher = LogHasher::new();
        hasher.update(b"plain text").unwrap_or(());
        assert!(hasher.finish().is_err());
        assert!(LogHasher::new().finish().is_err());
    }

    #[test]
    fn digest_keys_carry_their_time_and_day_prefix() {
        let day = chrono::NaiveDate::from_ymd_opt(2015, 8, 17).unwrap();
        assert_eq!(
            digest_day_prefix(
                "",
                None,
                "111122223333",
                "us-east-2",
                day,
                "trail",
                "us-east-2"
            ),
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/\
             111122223333_CloudTrail-Digest_us-east-2_trail_us-east-2_"
        );
        assert_eq!(
            digest_day_prefix(
                "p/q/",
                Some("o-abc"),
                "1",
                "eu-west-1",
                day,
                "t",
                "us-east-1"
            ),
            "p/q/AWSLogs/o-abc/1/CloudTrail-Digest/eu-west-1/2015/08/17/\
             1_CloudTrail-Digest_eu-west-1_t_us-east-1_"
        );
        let (time, backfill) = key_time(KEY).unwrap();
        assert_eq!(time.to_rfc3339(), "2015-08-17T15:01:31+00:00");
        assert!(!backfill);
        let backfill = KEY.replace(".json.gz", "_backfill.json.gz");
        assert!(key_time(&backfill).unwrap().1);
        assert_eq!(key_time("AWSLogs/x.json"), None);
        assert_eq!(key_time("AWSLogs/x_2015.json.gz"), None);
        let start = time - chrono::Duration::hours(24);
        assert_eq!(days(start, time).len(), 2);
    }

    fn link(key: &str, signature: &str, previous: Option<(&str, &str)>) -> Link {
        Link {
            bucket: "logs".into(),
            key: key.into(),
            signature: Some(signature.into()),
            sha256: Some(format!("sha-{key}")),
            previous: Some(previous.map(|(key, signature)| Previous {
                bucket: "logs".into(),
                key: key.into(),
                signature: Some(signature.into()),
                sha256: Some(format!("sha-{key}")),
            })),
        }
    }

    fn at(hour: u32) -> String {
        format!("d_20260101T{hour:02}0000Z.json.gz")
    }

    #[test]
    fn the_chain_links_each_digest_to_the_one_before() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(1, 0, 0)
            .unwrap()
            .and_utc();
        let intact = [
            link(&at(1), "s1", Some((&at(0), "s0"))),
            link(&at(2), "s2", Some((&at(1), "s1"))),
            link(&at(3), "s3", Some((&at(2), "s2"))),
        ];
        let (links, missing) = chain(&intact, start);
        let kinds: Vec<ChainLink> = links.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            [
                ChainLink::BeforeWindow,
                ChainLink::Linked,
                ChainLink::Linked
            ]
        );
        assert!(missing.is_empty());

        // The middle digest removed: the last one names it, and it is in the window.
        let removed = [intact[0].clone(), intact[2].clone()];
        let (links, missing) = chain(&removed, start);
        assert_eq!(links[1].0, ChainLink::PreviousMissing);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].0, format!("s3://logs/{}", at(2)));

        // A digest replaced by another (its signature differs from what the next one recorded).
        let mut replaced = intact.clone();
        replaced[1].signature = Some("forged".into());
        let (links, _) = chain(&replaced, start);
        assert_eq!(links[2].0, ChainLink::PreviousMismatch);
        assert!(links[2].1.contains("signature"), "{}", links[2].1);
        let mut rehashed = intact.clone();
        rehashed[1].sha256 = Some("other".into());
        assert_eq!(chain(&rehashed, start).0[2].0, ChainLink::PreviousMismatch);

        // A restart, and a digest that could not be read.
        let mut restarted = intact.clone();
        restarted[1].previous = Some(None);
        restarted[0].previous = None;
        let (links, missing) = chain(&restarted, start);
        assert_eq!(links[0].0, ChainLink::Unknown);
        assert_eq!(links[1].0, ChainLink::Start);
        assert!(missing.is_empty());
    }

    #[test]
    fn samples_spread_over_the_list() {
        assert_eq!(sample(10, 3), [0, 3, 6]);
        assert_eq!(sample(2, 3), [0, 1]);
        assert_eq!(sample(5, 0), Vec::<usize>::new());
        assert_eq!(sample(0, 3), Vec::<usize>::new());
        assert_eq!(sample(4, 4), [0, 1, 2, 3]);
    }
}
