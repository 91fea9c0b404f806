//! SDK-level tests with `aws-smithy-mocks`: the credential report state machine, and failure
//! isolation across collectors, which the emulator cannot produce (it has no AccessDenied).

mod common;

use std::time::Duration;

use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::operation::generate_credential_report::{
    GenerateCredentialReportError, GenerateCredentialReportOutput,
};
use aws_sdk_iam::operation::get_account_password_policy::GetAccountPasswordPolicyError;
use aws_sdk_iam::operation::get_account_summary::{
    GetAccountSummaryError, GetAccountSummaryOutput,
};
use aws_sdk_iam::operation::get_credential_report::{
    GetCredentialReportError, GetCredentialReportOutput,
};
use aws_sdk_iam::operation::list_account_aliases::ListAccountAliasesOutput;
use aws_sdk_iam::operation::list_virtual_mfa_devices::{
    ListVirtualMFADevicesError, ListVirtualMfaDevicesOutput,
};
use aws_sdk_iam::primitives::{Blob, DateTime};
use aws_sdk_iam::types::error::{
    CredentialReportExpiredException, CredentialReportNotPresentException,
    CredentialReportNotReadyException, LimitExceededException, NoSuchEntityException,
};
use aws_sdk_iam::types::{ReportFormatType, ReportStateType, SummaryKeyType};
use aws_sdk_iam::Client as Iam;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use common::mock::{meta, not_authorized};
use common::read_json;
use soc2_evidence::bundle::manifest::BundleStatus;
use soc2_evidence::collectors::iam_credential_report::{fetch, ReportTiming};
use soc2_evidence::error::ExitCode;
use soc2_evidence::vocab::CollectorStatus;
use tokio::time::Instant;

const REPORT: &[u8] = include_bytes!("../fixtures/credential-report.csv");

/// The run's credential report timing: 60 s deadline, backoff from 1 s up to 8 s.
fn timing() -> ReportTiming {
    common::mock::settings().credential_report
}

fn state(state: ReportStateType) -> GenerateCredentialReportOutput {
    GenerateCredentialReportOutput::builder()
        .state(state)
        .build()
}

fn report() -> GetCredentialReportOutput {
    GetCredentialReportOutput::builder()
        .content(Blob::new(REPORT))
        .report_format(ReportFormatType::TextCsv)
        .generated_time(DateTime::from_secs(1_763_800_000))
        .build()
}

fn iam_client(rules: &[&Rule]) -> Iam {
    mock_client!(aws_sdk_iam, RuleMode::Sequential, rules, |c| c
        .retry_config(RetryConfig::disabled()))
}

#[tokio::test(start_paused = true)]
async fn report_is_polled_from_started_through_inprogress_to_complete() {
    let generate = mock!(Iam::generate_credential_report)
        .sequence()
        .output(|| state(ReportStateType::Started))
        .output(|| state(ReportStateType::Inprogress))
        .output(|| state(ReportStateType::Complete))
        .build();
    let get = mock!(Iam::get_credential_report).then_output(report);
    let iam = iam_client(&[&generate, &get]);
    let started = Instant::now();
    let fetched = fetch(&iam, &timing()).await.unwrap();
    assert_eq!(fetched.content, REPORT);
    assert_eq!(fetched.format.as_deref(), Some("text/csv"));
    assert_eq!(generate.num_calls(), 3);
    assert_eq!(get.num_calls(), 1);
    // Two waits with exponential backoff: 1 s, then 2 s.
    assert_eq!(started.elapsed().as_secs(), 3);
}

#[tokio::test(start_paused = true)]
async fn absent_and_expired_reports_lead_to_a_new_generation() {
    let complete = || state(ReportStateType::Complete);
    let generate_1 = mock!(Iam::generate_credential_report).then_output(complete);
    let not_present = mock!(Iam::get_credential_report).then_error(|| {
        GetCredentialReportError::CredentialReportNotPresentException(
            CredentialReportNotPresentException::builder()
                .meta(meta("ReportNotPresent"))
                .build(),
        )
    });
    let generate_2 = mock!(Iam::generate_credential_report).then_output(complete);
    let expired = mock!(Iam::get_credential_report).then_error(|| {
        GetCredentialReportError::CredentialReportExpiredException(
            CredentialReportExpiredException::builder()
                .meta(meta("ReportExpired"))
                .build(),
        )
    });
    let generate_3 = mock!(Iam::generate_credential_report).then_output(complete);
    let get = mock!(Iam::get_credential_report).then_output(report);
    let rules = [
        &generate_1,
        &not_present,
        &generate_2,
        &expired,
        &generate_3,
        &get,
    ];
    let iam = iam_client(&rules);
    let fetched = fetch(&iam, &timing()).await.unwrap();
    assert_eq!(fetched.content, REPORT);
    for rule in rules {
        assert_eq!(rule.num_calls(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn a_report_in_progress_is_waited_for() {
    let generate =
        mock!(Iam::generate_credential_report).then_output(|| state(ReportStateType::Complete));
    let get = mock!(Iam::get_credential_report)
        .sequence()
        .error(|| {
            GetCredentialReportError::CredentialReportNotReadyException(
                CredentialReportNotReadyException::builder()
                    .meta(meta("ReportInProgress"))
                    .build(),
            )
        })
        .times(2)
        .output(report)
        .build();
    let iam = iam_client(&[&generate, &get]);
    let started = Instant::now();
    fetch(&iam, &timing()).await.unwrap();
    assert_eq!(
        generate.num_calls(),
        1,
        "a report in progress needs no new generation"
    );
    assert_eq!(get.num_calls(), 3);
    assert_eq!(started.elapsed().as_secs(), 3);
}

#[tokio::test(start_paused = true)]
async fn limit_exceeded_backs_off_exponentially_up_to_the_cap() {
    let generate = mock!(Iam::generate_credential_report)
        .sequence()
        .error(|| {
            GenerateCredentialReportError::LimitExceededException(
                LimitExceededException::builder()
                    .meta(meta("LimitExceeded"))
                    .build(),
            )
        })
        .times(5)
        .output(|| state(ReportStateType::Complete))
        .build();
    let get = mock!(Iam::get_credential_report).then_output(report);
    let iam = iam_client(&[&generate, &get]);
    let started = Instant::now();
    fetch(&iam, &timing()).await.unwrap();
    assert_eq!(generate.num_calls(), 6);
    // 1 + 2 + 4 + 8 + 8: doubling, capped at max_backoff.
    assert_eq!(started.elapsed().as_secs(), 23);
}

#[tokio::test(start_paused = true)]
async fn a_report_that_never_completes_stops_at_the_deadline() {
    let generate = mock!(Iam::generate_credential_report)
        .sequence()
        .output(|| state(ReportStateType::Inprogress))
        .repeatedly()
        .build();
    let iam = iam_client(&[&generate]);
    let started = Instant::now();
    let err = fetch(&iam, &timing()).await.unwrap_err();
    assert_eq!(err.code, "Timeout");
    assert_eq!(err.operation, "GenerateCredentialReport");
    assert!(err.message.contains("state INPROGRESS"), "{}", err.message);
    assert!(started.elapsed() <= Duration::from_secs(60));
    assert!(started.elapsed() >= Duration::from_secs(40));
}

#[tokio::test(start_paused = true)]
async fn access_denied_is_not_retried_and_names_the_operation() {
    let generate = mock!(Iam::generate_credential_report)
        .then_error(|| GenerateCredentialReportError::generic(meta("AccessDenied")));
    let iam = iam_client(&[&generate]);
    let err = fetch(&iam, &timing()).await.unwrap_err();
    assert_eq!(err.code, "AccessDenied");
    assert_eq!(err.operation, "GenerateCredentialReport");
    assert_eq!(err.region, "global");
    assert_eq!(generate.num_calls(), 1);
}

// ---- The whole run, in process, with every call mocked ----

fn healthy_account_rules() -> Vec<Rule> {
    vec![
        common::mock::caller_identity(),
        mock!(Iam::generate_credential_report).then_output(|| state(ReportStateType::Complete)),
        mock!(Iam::get_credential_report).then_output(report),
        mock!(Iam::get_account_summary).then_output(|| {
            GetAccountSummaryOutput::builder()
                .summary_map(SummaryKeyType::AccountMfaEnabled, 1)
                .summary_map(SummaryKeyType::AccountAccessKeysPresent, 0)
                .summary_map(SummaryKeyType::Users, 3)
                .build()
        }),
        // The largest page, so that the calls do not grow with the number of MFA devices.
        mock!(Iam::list_virtual_mfa_devices)
            .match_requests(|input| input.max_items() == Some(1000))
            .then_output(|| {
                ListVirtualMfaDevicesOutput::builder()
                    .set_virtual_mfa_devices(Some(vec![]))
                    .build()
                    .unwrap()
            }),
        mock!(Iam::list_account_aliases).then_output(|| {
            ListAccountAliasesOutput::builder()
                .account_aliases("example-prod")
                .build()
                .unwrap()
        }),
        common::mock::password_policy(),
    ]
}

/// A JSON file of the bundle a run wrote, by its path in the bundle.
fn bundle_json(outcome: &soc2_evidence::run::CollectOutcome, path: &str) -> serde_json::Value {
    read_json(&outcome.paths.directory.join(path))
}

/// `overrides` come first, so they win over the healthy account's rules for the same call.
async fn run_with(
    overrides: Vec<Rule>,
    out: &std::path::Path,
) -> soc2_evidence::run::CollectOutcome {
    let healthy = healthy_account_rules();
    let rules: Vec<&Rule> = overrides.iter().chain(healthy.iter()).collect();
    let clients = common::mock::clients(&rules);
    let config = common::mock::config(out, &common::IAM_ACCOUNT, &["us-east-1"]);
    soc2_evidence::run::collect_with(&config, clients)
        .await
        .expect("a bundle is written")
}

#[tokio::test(start_paused = true)]
async fn a_healthy_account_is_collected_completely() {
    let out = tempfile::tempdir().unwrap();
    let outcome = run_with(vec![], out.path()).await;
    assert_eq!(outcome.exit_code(), ExitCode::Success);
    let m = &outcome.manifest;
    assert_eq!(m.account.aliases, Some(vec!["example-prod".to_string()]));
    assert_eq!(
        m.account.caller_arn,
        "arn:aws:sts::123456789012:assumed-role/audit-readonly/ci"
    );
    for c in &m.collectors {
        assert_eq!(c.status, CollectorStatus::Collected, "{}", c.id);
    }
    // 1 STS + 2 credential report + 3 account summary + 1 password policy.
    assert_eq!(m.run.api_calls, 7);
    let root: serde_json::Value =
        bundle_json(&outcome, "evidence/iam-account-summary/root-account.json");
    assert_eq!(root["mfa_enabled"], true);
    assert_eq!(root["mfa_device"], "hardware");
}

#[tokio::test(start_paused = true)]
async fn access_denied_fails_one_collector_and_the_others_are_collected() {
    let out = tempfile::tempdir().unwrap();
    let denied = mock!(Iam::get_account_summary).then_error(|| {
        GetAccountSummaryError::generic(not_authorized("AccessDenied", "iam:GetAccountSummary"))
    });
    let outcome = run_with(vec![denied], out.path()).await;
    assert_eq!(outcome.exit_code(), ExitCode::Incomplete);
    assert_eq!(outcome.exit_code().code(), 3);
    let m = &outcome.manifest;
    assert_eq!(m.status, BundleStatus::Incomplete);
    let by_id = |id: &str| m.collectors.iter().find(|c| c.id == id).unwrap();
    let failed = by_id("iam-account-summary");
    assert_eq!(failed.status, CollectorStatus::Failed);
    assert_eq!(failed.errors.len(), 1);
    assert_eq!(failed.errors[0].operation, "GetAccountSummary");
    assert_eq!(failed.errors[0].code, "AccessDenied");
    assert_eq!(failed.errors[0].region, "global");
    assert!(failed.errors[0].message.contains("not authorized"));
    assert!(failed.files.is_empty());
    assert_eq!(
        m.account.aliases, None,
        "unknown, not empty, when the collector failed"
    );
    for id in ["iam-credential-report", "iam-password-policy"] {
        assert_eq!(by_id(id).status, CollectorStatus::Collected, "{id}");
        assert!(!by_id(id).files.is_empty());
    }
    // The incomplete bundle is still a whole, verifiable bundle that says what is missing.
    let report = soc2_evidence::bundle::verify::verify(&outcome.paths.zip).unwrap();
    assert!(report.intact, "{:?}", report.problems);
    let written = bundle_json(&outcome, "manifest.json");
    assert_eq!(
        written["collectors"][1]["errors"][0]["code"],
        "AccessDenied"
    );
    assert_eq!(written["status"], "incomplete");
}

#[tokio::test(start_paused = true)]
async fn a_failed_side_call_makes_the_collector_partial() {
    let out = tempfile::tempdir().unwrap();
    let denied = mock!(Iam::list_virtual_mfa_devices)
        .then_error(|| ListVirtualMFADevicesError::generic(meta("AccessDenied")));
    let outcome = run_with(vec![denied], out.path()).await;
    assert_eq!(outcome.exit_code(), ExitCode::Incomplete);
    let summary = &outcome.manifest.collectors[1];
    assert_eq!(summary.status, CollectorStatus::Partial);
    assert_eq!(summary.errors[0].operation, "ListVirtualMFADevices");
    let root: serde_json::Value =
        bundle_json(&outcome, "evidence/iam-account-summary/root-account.json");
    // Without the device list the kind of root MFA cannot be told: said so, not guessed.
    assert_eq!(root["mfa_device"], "unknown");
    assert_eq!(root["virtual_mfa_list_read"], false);
}

#[tokio::test(start_paused = true)]
async fn no_password_policy_is_collected_as_no_policy() {
    let out = tempfile::tempdir().unwrap();
    let absent = mock!(Iam::get_account_password_policy).then_error(|| {
        GetAccountPasswordPolicyError::NoSuchEntityException(
            NoSuchEntityException::builder()
                .message("The Password Policy with domain name 123456789012 cannot be found.")
                .meta(meta("NoSuchEntity"))
                .build(),
        )
    });
    let outcome = run_with(vec![absent], out.path()).await;
    assert_eq!(outcome.exit_code(), ExitCode::Success);
    let policy = &outcome.manifest.collectors[2];
    assert_eq!(policy.status, CollectorStatus::Collected);
    assert!(policy.errors.is_empty());
    assert_eq!(policy.notes["policy_present"], false);
    let file = bundle_json(
        &outcome,
        "evidence/iam-password-policy/password-policy.json",
    );
    assert_eq!(file["PolicyPresent"], false);
}
