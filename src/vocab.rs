//! The shared vocabulary: the types every layer speaks (a collector's status and scope, a failed
//! call, a finding's severity, the thresholds of the time-based rules).
//!
//! It sits below every other module and imports none of them, so the bundle, the collectors and
//! the findings can all use it without pointing at each other.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};

/// The region recorded for calls to global services such as IAM.
pub const GLOBAL: &str = "global";

/// How a collector (or one region of it) went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectorStatus {
    Collected,
    Partial,
    Failed,
    Skipped,
}

impl CollectorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CollectorStatus::Collected => "collected",
            CollectorStatus::Partial => "partial",
            CollectorStatus::Failed => "failed",
            CollectorStatus::Skipped => "skipped",
        }
    }

    /// Whether this status leaves a gap in the evidence. A skipped collector was not asked for.
    pub fn is_gap(self) -> bool {
        matches!(self, CollectorStatus::Partial | CollectorStatus::Failed)
    }
}

/// Whether a collector reads a global service once or each covered region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Global,
    Regional,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Regional => "regional",
        }
    }
}

/// One failed API call, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallError {
    pub region: String,
    pub operation: String,
    pub code: String,
    pub message: String,
}

impl CallError {
    pub fn new(
        region: impl Into<String>,
        operation: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        CallError {
            region: region.into(),
            operation: operation.into(),
            code: code.into(),
            message: message.into(),
        }
    }

    /// Records an SDK error with the most precise code it carries: the service's error code, or
    /// the kind of transport failure (timeout, dispatch, unparseable response). An answer without
    /// an AWS error code (an endpoint that does not implement the operation, a proxy's error page)
    /// is recorded with its HTTP status, so it is never mistaken for an AWS refusal.
    pub fn from_sdk<E>(region: &str, operation: &str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (code, message) = match err {
            SdkError::ServiceError(service) => match service.err().code() {
                Some(code) => (
                    code.to_string(),
                    service
                        .err()
                        .message()
                        .map_or_else(|| chain(err), str::to_string),
                ),
                None => {
                    let status = service.raw().status().as_u16();
                    (
                        format!("Http{status}"),
                        format!(
                            "the endpoint answered HTTP {status} without an AWS error code (does it implement {operation}?)"
                        ),
                    )
                }
            },
            SdkError::TimeoutError(_) => ("Timeout".to_string(), chain(err)),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                ("Timeout".to_string(), chain(err))
            }
            SdkError::DispatchFailure(_) if cut_by_timeout_budget(err) => {
                ("Timeout".to_string(), chain(err))
            }
            SdkError::DispatchFailure(_) => ("DispatchFailure".to_string(), chain(err)),
            // An error status whose body is no AWS error at all (an HTML page, say): as for a
            // service error without a code, the status is what is known.
            SdkError::ResponseError(response) if response.raw().status().as_u16() >= 400 => {
                let status = response.raw().status().as_u16();
                (
                    format!("Http{status}"),
                    format!(
                        "the endpoint answered HTTP {status} with a body that is no AWS error \
                         (does it implement {operation}?): {}",
                        chain(err)
                    ),
                )
            }
            SdkError::ResponseError(response) => (
                "UnparseableResponse".to_string(),
                format!(
                    "HTTP {}: the response could not be read as a {operation} answer: {}",
                    response.raw().status().as_u16(),
                    chain(err)
                ),
            ),
            SdkError::ConstructionFailure(_) => {
                ("RequestConstructionFailure".to_string(), chain(err))
            }
            _ => ("Unknown".to_string(), chain(err)),
        };
        CallError::new(region, operation, code, message)
    }
}

/// Whether the timeout budget (README "Timeouts") ended the call: a timeout all the same.
fn cut_by_timeout_budget(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = err.source();
    while let Some(cause) = source {
        if cause.downcast_ref::<TimeoutBudget>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A call the timeout budget ended (README "Timeouts"): its second attempt timed out, or its
/// endpoint is silent and the request was not sent. Recorded with code `Timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutBudget {
    pub message: String,
}

impl std::fmt::Display for TimeoutBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TimeoutBudget {}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} in {}: {}: {}",
            self.operation, self.region, self.code, self.message
        )
    }
}

/// How serious a finding is. Ordered from the most to the least serious, so sorting puts
/// critical findings first.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// Whether this severity is `threshold` or more serious (for `--fail-on`).
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The thresholds of the time-based rules, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// A password or active key unused for longer is `credentials-unused` (default 90).
    pub user_inactive_days: u32,
    /// A role unused for longer is `role-unused` (default 180).
    pub role_inactive_days: u32,
    /// An active key rotated longer ago is `access-key-age` (default 90).
    pub key_max_age_days: u32,
    /// An open Access Analyzer external-access finding or unarchived High/Critical GuardDuty
    /// finding older than this is overdue (default 30). Absent from older manifests.
    #[serde(default = "default_finding_sla_days")]
    pub finding_sla_days: u32,
}

fn default_finding_sla_days() -> u32 {
    30
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            user_inactive_days: 90,
            role_inactive_days: 180,
            key_max_age_days: 90,
            finding_sla_days: default_finding_sla_days(),
        }
    }
}

/// An error and its sources as one line of prose, without debug dumps: each source is added
/// unless the message before it already says it.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// The signal that asked the run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C in a terminal.
    Interrupt,
    /// SIGTERM: `kill`, or a CI system cancelling a job.
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}
