//! `iam-credential-report`: the IAM credential report, every user's (and root's) password, MFA,
//! access key and certificate status in one CSV.
//!
//! Calls: `GenerateCredentialReport` until it answers COMPLETE, then `GetCredentialReport`;
//! ReportNotPresent / ReportExpired start a new generation, ReportInProgress waits, and
//! LimitExceeded / Throttling back off, all under one overall deadline (SPEC section 6).
//! Permissions: `iam:GenerateCredentialReport`, `iam:GetCredentialReport`.
//! Controls: CC6.1, CC6.2.
//! Files: `credential-report.csv` (byte-exact as AWS returned it; the columns it must have are
//! those of [`ReportRow`]) and `credential-report.json` (one object per row, keyed by column
//! header, every column, `true`/`false` as booleans).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::ReportStateType;
use serde_json::Value;
use tokio::time::Instant;

use super::{rfc3339, Context};
use super::{CollectFuture, CollectorSpec};
use crate::contract::iam_credential_report::{ReportRow, ROOT_USER};
use crate::contract::{self, Table};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::Scope;
use crate::vocab::{CallError, GLOBAL};

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::iam_credential_report::ID,
    title: "IAM credential report (users, passwords, MFA, access keys)",
    controls: &[Control::Cc6_1, Control::Cc6_2],
    scope: Scope::Global,
    permissions: &["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
    run,
    optional_permissions: &[],
};

/// AWS regenerates a report at most every four hours; an older one is called stale.
pub const STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(4);

/// How long to wait for the report, and how to back off between polls.
#[derive(Debug, Clone)]
pub struct ReportTiming {
    pub deadline: Duration,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let iam = ctx.clients.iam();
    let report = fetch(&iam, &ctx.settings.credential_report).await?;
    if let Some(format) = &report.format {
        if format != "text/csv" {
            return Err(CallError::new(
                GLOBAL,
                "GetCredentialReport",
                "UnexpectedReportFormat",
                format!("the report came as {format}, not text/csv"),
            )
            .into());
        }
    }
    // Parsed first only to count rows: the raw CSV is written unchanged even when it cannot be
    // parsed, so the evidence survives a format we do not understand.
    let parsed = parse(&report.content);
    let row_count = parsed.as_ref().ok().map(|rows| rows.len() as u64);
    let csv_name = contract::file_name(ReportRow::PATH);
    out.bytes(csv_name, &report.content, row_count)?;
    let rows = parsed.map_err(|message| {
        CallError::new(GLOBAL, "GetCredentialReport", "UnparseableReport", message)
    })?;
    out.json(&csv_name.replace(".csv", ".json"), &rows, row_count)?;

    let root_present = rows
        .iter()
        .any(|row| row.get("user").and_then(Value::as_str) == Some(ROOT_USER));
    out.note("users", rows.len());
    out.note("root_row_present", root_present);
    match report.generated_time {
        Some(generated) => {
            out.note("generated_time", rfc3339(&generated));
            let generated = chrono::DateTime::from_timestamp(generated.secs(), 0);
            if let Some(generated) = generated {
                let age = chrono::Utc::now() - generated;
                out.note("age_hours", age.num_hours());
                out.note("stale", age > STALE_AFTER);
                if age > STALE_AFTER {
                    tracing::warn!(
                        "the credential report was generated {} hours ago (AWS regenerates it at most every 4 hours)",
                        age.num_hours()
                    );
                }
            }
        }
        None => out.note("generated_time", Value::Null),
    }
    Ok(())
}

/// A report as GetCredentialReport returned it.
#[derive(Debug)]
pub struct Report {
    pub content: Vec<u8>,
    pub format: Option<String>,
    pub generated_time: Option<aws_smithy_types::DateTime>,
}

/// Runs the generate/poll/get state machine until a report arrives or the deadline passes.
pub async fn fetch(iam: &aws_sdk_iam::Client, timing: &ReportTiming) -> Result<Report, CallError> {
    let started = Instant::now();
    let mut backoff = timing.first_backoff;
    let mut generated = false;
    // What the last wait was for, to say in the timeout error.
    let mut waiting_for: String;
    loop {
        if !generated {
            match iam.generate_credential_report().send().await {
                Ok(output) if output.state() == Some(&ReportStateType::Complete) => {
                    generated = true;
                    continue;
                }
                Ok(output) => {
                    waiting_for = format!(
                        "report generation (state {})",
                        output.state().map_or("unknown", |s| s.as_str())
                    );
                }
                Err(err) => {
                    let throttled = err.as_service_error().is_some_and(|e| {
                        e.is_limit_exceeded_exception() || is_throttling(e.code())
                    });
                    if !throttled {
                        return Err(CallError::from_sdk(
                            GLOBAL,
                            "GenerateCredentialReport",
                            &err,
                        ));
                    }
                    waiting_for = "GenerateCredentialReport after throttling".to_string();
                }
            }
        } else {
            match iam.get_credential_report().send().await {
                Ok(output) => {
                    return Ok(Report {
                        content: output
                            .content()
                            .map(|blob| blob.as_ref().to_vec())
                            .unwrap_or_default(),
                        format: output.report_format().map(|f| f.as_str().to_string()),
                        generated_time: output.generated_time().copied(),
                    })
                }
                Err(err) => {
                    let Some(service) = err.as_service_error() else {
                        return Err(CallError::from_sdk(GLOBAL, "GetCredentialReport", &err));
                    };
                    if service.is_credential_report_not_present_exception()
                        || service.is_credential_report_expired_exception()
                    {
                        // Nothing to wait for: ask for a new report straight away.
                        tracing::debug!("credential report absent or expired; generating again");
                        generated = false;
                        continue;
                    } else if service.is_credential_report_not_ready_exception() {
                        waiting_for = "the report to be ready (ReportInProgress)".to_string();
                    } else if is_throttling(service.code()) {
                        waiting_for = "GetCredentialReport after throttling".to_string();
                    } else {
                        return Err(CallError::from_sdk(GLOBAL, "GetCredentialReport", &err));
                    }
                }
            }
        }

        let elapsed = started.elapsed();
        if elapsed + backoff > timing.deadline {
            return Err(CallError::new(
                GLOBAL,
                if generated {
                    "GetCredentialReport"
                } else {
                    "GenerateCredentialReport"
                },
                "Timeout",
                format!(
                    "gave up after {} s waiting for {waiting_for}; the deadline is {} s",
                    elapsed.as_secs(),
                    timing.deadline.as_secs()
                ),
            ));
        }
        tracing::debug!(?backoff, "waiting for {waiting_for}");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(timing.max_backoff);
    }
}

fn is_throttling(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("Throttling" | "ThrottlingException" | "LimitExceeded" | "LimitExceededException")
    )
}

/// Parses the report by header name: one map per row, `true`/`false` (any case) as booleans,
/// everything else (dates and the sentinels `N/A`, `no_information`, `not_supported`) verbatim.
/// Every column of [`ReportRow`] must be there.
pub fn parse(csv_bytes: &[u8]) -> Result<Vec<BTreeMap<String, Value>>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("the report's header row cannot be read: {e}"))?
        .clone();
    for column in contract::columns::<ReportRow>() {
        if !headers.iter().any(|h| h == column) {
            return Err(format!("the report has no `{column}` column"));
        }
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {} cannot be read: {e}", index + 2))?;
        let row = headers
            .iter()
            .zip(record.iter())
            .map(|(header, value)| {
                let value = if value.eq_ignore_ascii_case("true") {
                    Value::Bool(true)
                } else if value.eq_ignore_ascii_case("false") {
                    Value::Bool(false)
                } else {
                    Value::String(value.to_string())
                };
                (header.to_string(), value)
            })
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = include_str!("../../fixtures/credential-report.csv");

    #[test]
    fn parses_by_header_with_sentinels_kept() {
        let rows = parse(REPORT.as_bytes()).unwrap();
        assert_eq!(rows.len(), 4);
        let root = &rows[0];
        assert_eq!(root["user"], "<root_account>");
        assert_eq!(root["password_enabled"], "not_supported");
        assert_eq!(root["mfa_active"], true);
        let bob = rows.iter().find(|r| r["user"] == "bob").unwrap();
        assert_eq!(bob["password_enabled"], true);
        assert_eq!(bob["mfa_active"], false);
        assert_eq!(bob["password_last_used"], "no_information");
        assert_eq!(bob["access_key_1_last_used_date"], "N/A");
    }

    /// A report of the required columns in `order`, one row with `cells` in that order.
    fn report(order: &[&str], cells: &[&str]) -> Vec<u8> {
        let mut columns = contract::columns::<ReportRow>();
        let mut values: Vec<String> = columns.iter().map(|_| "N/A".to_string()).collect();
        for (name, cell) in order.iter().zip(cells) {
            let i = columns.iter().position(|c| c == name).unwrap();
            values[i] = cell.to_string();
        }
        // The named columns first, in `order`, then the others.
        let mut named: Vec<(String, String)> = Vec::new();
        for name in order {
            let i = columns.iter().position(|c| c == name).unwrap();
            named.push((columns.remove(i), values.remove(i)));
        }
        named.extend(columns.into_iter().zip(values));
        let (header, row): (Vec<String>, Vec<String>) = named.into_iter().unzip();
        format!("{}\n{}\n", header.join(","), row.join(",")).into_bytes()
    }

    #[test]
    fn uppercase_booleans_are_booleans() {
        let bytes = report(
            &[
                "user",
                "password_enabled",
                "mfa_active",
                "access_key_1_active",
                "access_key_2_active",
            ],
            &["x", "TRUE", "False", "false", "FALSE"],
        );
        let rows = parse(&bytes).unwrap();
        assert_eq!(rows[0]["password_enabled"], true);
        assert_eq!(rows[0]["mfa_active"], false);
    }

    #[test]
    fn columns_are_found_by_name_not_position() {
        let bytes = report(
            &[
                "arn",
                "user",
                "mfa_active",
                "user_creation_time",
                "password_enabled",
            ],
            &["a", "x", "true", "t", "false"],
        );
        let rows = parse(&bytes).unwrap();
        assert_eq!(rows[0]["user"], "x");
        assert_eq!(rows[0]["mfa_active"], true);
    }

    #[test]
    fn a_report_without_required_columns_is_refused() {
        let err = parse(b"user,arn\nx,y\n").unwrap_err();
        assert!(err.contains("user_creation_time"), "{err}");
        // Every column the rules read is required, as the contract declares them.
        let full = report(&["user"], &["x"]);
        let text = String::from_utf8(full).unwrap();
        let without = text.replacen("password_last_changed", "something_else", 1);
        let err = parse(without.as_bytes()).unwrap_err();
        assert!(err.contains("password_last_changed"), "{err}");
    }
}
