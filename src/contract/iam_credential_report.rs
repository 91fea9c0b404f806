//! The files of the `iam-credential-report` collector (see `crate::collectors::iam_credential_report`).
//!
//! `credential-report.csv` is AWS's own file, kept byte for byte: [`ReportRow`] declares the
//! columns of it that the collector requires and the rules read (AWS's column names, renamed
//! where a shorter field name reads better). Other columns (certificates, last-used region and
//! service, next rotation) are kept in the file and ignored here.
//!
//! AWS's cells: booleans `true`/`false` (read in any case; `not_supported`, root's password
//! column, reads as false), times RFC 3339 text or the sentinels `N/A`, `no_information`,
//! `not_supported`, which [`cell::parse_time`] reads as no time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::cell;

super::contract! {
    id: "iam-credential-report",
    tables: {},
    as_received: {
        ReportRow => "credential-report.csv",
    },
    documents: {},
}

/// The credential report's name for the root user.
pub const ROOT_USER: &str = "<root_account>";

/// One row of `credential-report.csv`: one user, or root ([`ROOT_USER`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    pub user: String,
    pub arn: String,
    #[serde(rename = "user_creation_time")]
    pub created: String,
    #[serde(deserialize_with = "flag")]
    pub password_enabled: bool,
    pub password_last_used: String,
    pub password_last_changed: String,
    #[serde(deserialize_with = "flag")]
    pub mfa_active: bool,
    #[serde(rename = "access_key_1_active", deserialize_with = "flag")]
    pub key_1_active: bool,
    #[serde(rename = "access_key_1_last_rotated")]
    pub key_1_last_rotated: String,
    #[serde(rename = "access_key_1_last_used_date")]
    pub key_1_last_used: String,
    #[serde(rename = "access_key_2_active", deserialize_with = "flag")]
    pub key_2_active: bool,
    #[serde(rename = "access_key_2_last_rotated")]
    pub key_2_last_rotated: String,
    #[serde(rename = "access_key_2_last_used_date")]
    pub key_2_last_used: String,
}

/// A boolean cell of AWS's report: `true` in any case is true, anything else false.
fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let cell = String::deserialize(deserializer)?;
    Ok(cell.trim().eq_ignore_ascii_case("true"))
}

/// An access key of a report row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// 1 or 2.
    pub n: u8,
    pub active: bool,
    pub last_rotated: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
}

impl Key {
    /// The key exists: AWS writes N/A as its rotation date when there is none.
    pub fn exists(&self) -> bool {
        self.active || self.last_rotated.is_some()
    }
}

impl ReportRow {
    /// The root user's row (emulators omit it).
    pub fn is_root(&self) -> bool {
        self.user == ROOT_USER
    }

    pub fn created_time(&self) -> Option<DateTime<Utc>> {
        cell::parse_time(&self.created)
    }

    pub fn password_last_used_time(&self) -> Option<DateTime<Utc>> {
        cell::parse_time(&self.password_last_used)
    }

    pub fn password_last_changed_time(&self) -> Option<DateTime<Utc>> {
        cell::parse_time(&self.password_last_changed)
    }

    /// Both access keys, in order.
    pub fn keys(&self) -> [Key; 2] {
        [
            Key {
                n: 1,
                active: self.key_1_active,
                last_rotated: cell::parse_time(&self.key_1_last_rotated),
                last_used: cell::parse_time(&self.key_1_last_used),
            },
            Key {
                n: 2,
                active: self.key_2_active,
                last_rotated: cell::parse_time(&self.key_2_last_rotated),
                last_used: cell::parse_time(&self.key_2_last_used),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract;

    const REPORT: &str = include_str!("../../fixtures/credential-report.csv");

    #[test]
    fn the_report_reads_by_aws_column_names_with_sentinels() {
        let rows = contract::parse::<ReportRow>(REPORT.as_bytes()).unwrap();
        assert_eq!(rows.len(), 4);
        let root = &rows[0];
        assert!(root.is_root());
        assert!(!root.password_enabled, "not_supported is not a password");
        assert!(root.mfa_active);
        assert!(root.password_last_used_time().is_some());
        let carol = &rows[3];
        let [k1, k2] = carol.keys();
        assert!(k1.active && k2.active && k1.last_used.is_some());
        let bob = &rows[2];
        assert_eq!(bob.password_last_used_time(), None, "no_information");
        assert!(bob.keys()[0].exists() && !bob.keys()[1].exists());
    }

    #[test]
    fn booleans_read_in_any_case() {
        let mut header = contract::columns::<ReportRow>().join(",");
        header.push('\n');
        let text = format!("{header}x,a,t,TRUE,N/A,N/A,False,true,N/A,N/A,FALSE,N/A,N/A\n");
        let rows = contract::parse::<ReportRow>(text.as_bytes()).unwrap();
        assert!(rows[0].password_enabled && rows[0].key_1_active);
        assert!(!rows[0].mfa_active && !rows[0].key_2_active);
    }
}
