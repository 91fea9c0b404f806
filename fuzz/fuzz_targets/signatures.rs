//! Any bytes as `manifest.json.sig` and as an `allowed_signers` file: `verify`, `timeline` and
//! the auditor's tooling read both from wherever a bundle or a file came from, so parsing (and
//! checking a parsed signature against parsed signers) must answer, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soc2_evidence::bundle::signature::{AllowedSigners, BundleSignature};

fuzz_target!(|data: &[u8]| {
    // The first two bytes (big-endian) say where the signature ends and the allowed_signers
    // file begins.
    if data.len() < 2 {
        return;
    }
    let (head, rest) = data.split_at(2);
    let at = usize::from(u16::from_be_bytes([head[0], head[1]])) % (rest.len() + 1);
    let (signature, signers) = rest.split_at(at);
    let parsed = BundleSignature::parse(signature);
    let allowed = AllowedSigners::parse(signers);
    if let Ok(sig) = &parsed {
        assert!(sig.fingerprint().starts_with("SHA256:"));
        if let Ok(allowed) = &allowed {
            let _ = sig.check(b"{}\n", allowed, None);
            let _ = sig.check(signers, allowed, Some("ci@example.com"));
        }
    }
    if let Err(reason) = parsed {
        assert!(!reason.is_empty());
    }
});
