//! Any bytes as a bundle zip: `verify` must answer (a report, never a panic, a hang or unbounded
//! memory) and must never call a bundle with a problem intact.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use soc2_evidence::bundle::verify::verify_zip_reader;

fuzz_target!(|data: &[u8]| {
    let report = verify_zip_reader(Cursor::new(data), Path::new("fuzz.zip"));
    assert_eq!(report.intact, report.problems.is_empty());
    assert_eq!(report.kind, "zip");
    for problem in &report.problems {
        assert!(!problem.to_string().is_empty());
    }
});
