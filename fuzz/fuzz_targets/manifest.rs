//! Any bytes as `manifest.json`: the parser must answer without panicking, accept only paths that
//! stay inside the bundle, and `verify` of a zip carrying that manifest must answer too.
#![no_main]

use std::io::{Cursor, Write};
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use soc2_evidence::bundle::verify::{chained_accounts, parse_manifest, verify_zip_reader};

const TOP: &str = "soc2-evidence-123456789012-20261122T070509Z";
const EVIDENCE: &[u8] = b"{\"MinimumPasswordLength\": 14}\n";

fuzz_target!(|data: &[u8]| {
    if let Ok(files) = parse_manifest(data) {
        for file in &files {
            assert!(!file.path.is_empty() && !file.path.starts_with('/'));
            assert!(!file.path.contains('\\'));
            assert!(file.path.split('/').all(|p| !p.is_empty() && p != "." && p != ".."));
        }
        // As an org manifest: it may chain only accounts/<12 digits>/manifest.json.
        if let Ok(chained) = chained_accounts(data, &files) {
            for (dir, record) in chained {
                let id = dir.strip_prefix("accounts/").expect("below accounts/");
                assert!(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()), "{dir}");
                assert_eq!(record.path, format!("{dir}/manifest.json"));
            }
        }
    }
    // The same bytes as the manifest of a zip bundle holding one evidence file.
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored);
    zip.start_file(format!("{TOP}/manifest.json"), options).unwrap();
    zip.write_all(data).unwrap();
    zip.start_file(format!("{TOP}/evidence/iam-password-policy/password-policy.json"), options)
        .unwrap();
    zip.write_all(EVIDENCE).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let report = verify_zip_reader(Cursor::new(bytes), Path::new("fuzz.zip"));
    assert_eq!(report.intact, report.problems.is_empty());
    assert!(report.files_verified <= 1);
});
