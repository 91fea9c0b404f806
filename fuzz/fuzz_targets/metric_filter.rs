//! Any text as a CloudWatch Logs metric filter pattern, as the `cis-monitoring` rule reads it
//! from a bundle's `metric-filters.csv` (a bundle is untrusted input, and so is whatever an
//! account's administrators typed into their filters): judging it against every CIS monitoring
//! item must answer, covered or not or a reason, never panic or recurse without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soc2_evidence::judge::metric_filter::{covered_items, covers, parse, ITEMS};

fuzz_target!(|data: &[u8]| {
    let pattern = String::from_utf8_lossy(data);
    match parse(&pattern) {
        Ok(_) => {
            let covered = covered_items(&pattern).expect("a pattern that parses is judged");
            for item in &ITEMS {
                let one = covers(&pattern, item).expect("a pattern that parses is judged");
                assert_eq!(one, covered.iter().any(|c| c.id == item.id));
            }
        }
        Err(reason) => {
            assert!(!reason.to_string().is_empty());
            assert!(covered_items(&pattern).is_err());
        }
    }
});
