//! Any bytes as what the `cloudtrail` collector reads from a trail's bucket and from
//! ListPublicKeys: a stored (gzip) CloudTrail digest file, a log file to re-hash, and a public
//! key with a signature. Anyone who may write to the bucket chooses these bytes, so reading them
//! must answer, a digest or a reason, within the size caps, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soc2_evidence::judge::cloudtrail_digest as digest;

fuzz_target!(|data: &[u8]| {
    match digest::read_digest(data) {
        Ok((inflated, file)) => {
            assert!(inflated.len() as u64 <= digest::MAX_DIGEST_INFLATED);
            let signed = digest::signing_string(&file, &inflated);
            assert!(signed.ends_with(
                file.previous_digest_signature.as_deref().unwrap_or("null")
            ));
            let _ = digest::Previous::of(&file);
            let _ = digest::sample(file.log_files.len(), 3);
            let _ = digest::key_time(&file.digest_s3_object);
        }
        Err(reason) => assert!(!reason.to_string().is_empty()),
    }
    let mut hasher = digest::LogHasher::new();
    for chunk in data.chunks(4096) {
        if hasher.update(chunk).is_err() {
            break;
        }
    }
    let _ = hasher.finish();
    if let Ok(key) = digest::public_key(data) {
        let text = String::from_utf8_lossy(data);
        let _ = digest::verify(&key, "message", &text);
    }
    let _ = digest::unhex(&String::from_utf8_lossy(data));
});
