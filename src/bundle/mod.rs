//! The evidence bundle: files, manifest, zip and checksum (SPEC section 3), and `verify`.

mod central_directory;
mod entries;
pub mod escape;
pub mod files;
pub mod manifest;
pub mod org_manifest;
pub mod signature;
pub mod verify;
pub mod writer;

pub use writer::{BundlePaths, Staging};

/// The bundle's name: `soc2-evidence-<account-id>-<YYYYMMDDTHHMMSSZ>`.
pub fn bundle_name(account_id: &str, started: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "soc2-evidence-{account_id}-{}",
        started.format("%Y%m%dT%H%M%SZ")
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn names_carry_account_and_utc_time() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 11, 22, 7, 5, 9).unwrap();
        assert_eq!(
            super::bundle_name("123456789012", t),
            "soc2-evidence-123456789012-20261122T070509Z"
        );
    }
}
