//! Any bytes as an exceptions file, a documented policy and a config file: `collect`, `report`
//! and `merge` read the first two from users and from untrusted bundles, and the config file
//! from the working directory, so parsing (and matching a parsed file against findings, and
//! comparing a documented policy) must answer with a reason, never panic or hang.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use soc2_evidence::findings::exceptions::{apply, parse, rows};
use soc2_evidence::findings::{Finding, FindingStatus, Severity};

fn finding(rule: &str, resource: &str) -> Finding {
    Finding {
        rule: rule.into(),
        severity: Severity::High,
        controls: vec!["CC6.1".into()],
        resource: resource.into(),
        region: "global".into(),
        detail: String::new(),
        evidence: String::new(),
        references: vec![],
        remediation: String::new(),
        status: FindingStatus::Open,
        exception: None,
    }
}

fuzz_target!(|data: &[u8]| {
    match parse(data, "fuzz.toml", &soc2_evidence::config::known_rule) {
        Ok(file) => {
            let mut findings = [
                finding("admin-policy", "arn:aws:iam::123456789012:policy/everything"),
                finding("root-mfa", "arn:aws:iam::123456789012:root"),
                finding("s3-bucket-public", "arn:aws:s3:::www-example"),
            ];
            let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
            let accounts = BTreeSet::from(["123456789012"]);
            let outcomes = apply(
                &file,
                as_of,
                &accounts,
                findings.iter_mut().map(|f| ("123456789012", f)),
            );
            assert_eq!(outcomes.len(), file.entries.len());
            for f in &findings {
                assert_eq!(f.exception.is_some(), f.status == FindingStatus::Accepted);
            }
            let applied = soc2_evidence::findings::exceptions::Applied {
                file,
                source: soc2_evidence::findings::exceptions::Source::Run,
                as_of,
                outcomes,
            };
            let _ = soc2_evidence::contract::csv_bytes(&rows(&applied));
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
    match soc2_evidence::findings::documented::parse(data, "fuzz.toml") {
        Ok(policy) => {
            let t = policy.thresholds(Default::default());
            assert!(t.key_max_age_days >= 1 && t.user_inactive_days >= 1);
            if let Some(password) = &policy.password {
                let _ = soc2_evidence::findings::documented::password_gaps(password, None);
            }
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
    if let Err(reason) = soc2_evidence::config_file::check_bytes(data) {
        assert!(!reason.is_empty());
    }
});
