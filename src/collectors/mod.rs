//! The collectors: I/O only. Each module is one collector, named after its id, exposing a
//! `SPEC` for the registry and a plain async `collect` function. Analysis of what they gather
//! happens later, as pure functions over the written evidence.

use std::sync::Arc;
use std::time::Duration;

use crate::aws::{CountedClients, Identity};

pub mod iam_account_summary;
pub mod iam_credential_report;
pub mod iam_password_policy;

/// What every collector receives: who the account is, its own counted clients, and settings.
#[derive(Debug, Clone)]
pub struct Context {
    pub identity: Identity,
    pub clients: CountedClients,
    pub settings: Arc<CollectorSettings>,
}

/// Tunables of individual collectors.
#[derive(Debug, Clone)]
pub struct CollectorSettings {
    pub credential_report: iam_credential_report::ReportTiming,
}

impl Default for CollectorSettings {
    fn default() -> Self {
        CollectorSettings {
            credential_report: iam_credential_report::ReportTiming {
                deadline: Duration::from_secs(300),
                first_backoff: Duration::from_secs(1),
                max_backoff: Duration::from_secs(16),
            },
        }
    }
}

/// Formats an SDK timestamp as RFC 3339 UTC, the format of every time in the bundle.
pub fn rfc3339(time: &aws_smithy_types::DateTime) -> String {
    time.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| time.secs().to_string())
}
