//! Mocked AWS for in-process tests: every client of the run answers from `aws-smithy-mocks`
//! rules (MatchAny: the first rule that matches the request and still has responses wins).

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_iam::config::retry::RetryConfig;
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextMut, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextMut, FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use soc2_evidence::aws::{AwsSettings, Clients, Identity};
use soc2_evidence::collectors::iam_credential_report::ReportTiming;
use soc2_evidence::collectors::{CollectorSettings, Context};
use soc2_evidence::config::CollectConfig;
use soc2_evidence::registry;

pub const ACCOUNT: &str = "123456789012";
pub const CALLER: &str = "arn:aws:sts::123456789012:assumed-role/audit-readonly/ci";

/// Clients for the whole run whose every call is served by `rules` (retries disabled, so each
/// rule response is one call).
pub fn clients(rules: &[&Rule]) -> Clients {
    Clients::new(mock_sdk_config(), 4).with_interceptor(SharedInterceptor::new(interceptor(rules)))
}

/// Clients whose calls in each region are answered by that region's rules only, so one region
/// can refuse while another answers, whatever order the regions run in.
pub fn regional_clients(regions: &[(&'static str, Vec<&Rule>)]) -> Clients {
    regions.iter().fold(
        Clients::new(mock_sdk_config(), 4),
        |clients, (region, rules)| {
            clients.with_interceptor(SharedInterceptor::new(InRegion {
                region,
                inner: interceptor(rules),
            }))
        },
    )
}

fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    interceptor
}

/// The region of the client a request comes from ("" when it has none).
fn region_of(cfg: &ConfigBag) -> String {
    cfg.load::<aws_types::region::Region>()
        .map(|r| r.to_string())
        .unwrap_or_default()
}

/// Serves mocked responses only to the clients of one region.
#[derive(Debug)]
struct InRegion {
    region: &'static str,
    inner: MockResponseInterceptor,
}

impl InRegion {
    fn applies(&self, cfg: &ConfigBag) -> bool {
        region_of(cfg) == self.region
    }
}

impl Intercept for InRegion {
    fn name(&self) -> &'static str {
        "mocked responses of one region"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.applies(cfg) {
            self.inner
                .read_before_serialization(context, components, cfg)?;
        }
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.applies(cfg) {
            self.inner
                .modify_before_transmit(context, components, cfg)?;
        }
        Ok(())
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.applies(cfg) {
            self.inner
                .modify_before_attempt_completion(context, components, cfg)?;
        }
        Ok(())
    }
}

thread_local! {
    /// The region of the request being matched (tests run on a current-thread runtime).
    static REQUEST_REGION: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Tells mock rules which region a request goes to: it runs before the mock interceptor
/// picks a rule (every `modify_before_serialization` hook runs before any
/// `read_before_serialization` hook).
#[derive(Debug)]
struct RecordRegion;

impl Intercept for RecordRegion {
    fn name(&self) -> &'static str {
        "records the region of the request for mock rules"
    }

    fn modify_before_serialization(
        &self,
        _context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        REQUEST_REGION.with(|current| *current.borrow_mut() = region_of(cfg));
        Ok(())
    }
}

/// The region of the request a rule is matching (see [`clients_telling_region`]).
pub fn request_region() -> String {
    REQUEST_REGION.with(|current| current.borrow().clone())
}

/// Clients like [`clients`] whose rules can ask [`request_region`] where the request goes
/// (`match_requests(|_| request_region() == "eu-west-1")`), on a current-thread runtime.
pub fn clients_telling_region(rules: &[&Rule]) -> Clients {
    clients(rules).with_interceptor(SharedInterceptor::new(RecordRegion))
}

/// Region us-east-1, dummy credentials, the mock HTTP client, no retries.
fn mock_sdk_config() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDMOCK",
            "mock-secret",
            None,
            None,
            "mock",
        )))
        .http_client(create_mock_http_client())
        .retry_config(RetryConfig::disabled())
        .build()
}

pub fn settings() -> CollectorSettings {
    CollectorSettings {
        credential_report: ReportTiming {
            deadline: Duration::from_secs(60),
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(8),
        },
        ..CollectorSettings::default()
    }
}

/// The context one collector receives, for calling its `collect` function directly.
pub fn context(clients: &Clients, regions: &[&str]) -> Context {
    Context {
        identity: Identity::new(ACCOUNT.to_string(), CALLER.to_string()),
        clients: clients.counted(),
        settings: Arc::new(settings()),
        regions: Arc::new(regions.iter().map(|r| r.to_string()).collect()),
        concurrency: 4,
    }
}

/// A `collect` configuration writing into `out`; no collector ids means all of them.
pub fn config(out: &Path, collectors: &[&str], regions: &[&str]) -> CollectConfig {
    let only: Vec<String> = collectors.iter().map(|c| c.to_string()).collect();
    CollectConfig {
        sign: None,
        aws: AwsSettings::default(),
        regions: regions.iter().map(|r| r.to_string()).collect(),
        out: out.to_path_buf(),
        collectors: registry::select(&only, &[]),
        only,
        skip: vec![],
        concurrency: 4,
        settings: Arc::new(settings()),
        progress: false,
        thresholds: Default::default(),
        fail_on: None,
        org: None,
        exceptions: None,
        exceptions_as_of: None,
        config_file: None,
        documented: None,
        trusted_accounts: Vec::new(),
    }
}

/// sts:GetCallerIdentity as every run starts with it.
pub fn caller_identity() -> Rule {
    mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
        aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput::builder()
            .account(ACCOUNT)
            .arn(CALLER)
            .user_id("AROAEXAMPLE:ci")
            .build()
    })
}

/// Error metadata as AWS sends it, e.g. `meta("AccessDenied")`.
pub fn meta(code: &str) -> aws_sdk_iam::error::ErrorMetadata {
    aws_sdk_iam::error::ErrorMetadata::builder()
        .code(code)
        .message(format!("{code} (mocked)"))
        .build()
}

/// Error metadata of a refusal as AWS words it: `code` (`AccessDenied`,
/// `AccessDeniedException`, ...) and a message saying that [`CALLER`] may not perform `action`
/// (`iam:GetAccountSummary`, say).
pub fn not_authorized(code: &str, action: &str) -> aws_sdk_iam::error::ErrorMetadata {
    aws_sdk_iam::error::ErrorMetadata::builder()
        .code(code)
        .message(format!(
            "User: {CALLER} is not authorized to perform: {action}"
        ))
        .build()
}

/// iam:GetAccountPasswordPolicy answering a policy that asks for 14 characters and nothing
/// else.
pub fn password_policy() -> Rule {
    use aws_sdk_iam::operation::get_account_password_policy::GetAccountPasswordPolicyOutput;
    mock!(aws_sdk_iam::Client::get_account_password_policy).then_output(|| {
        GetAccountPasswordPolicyOutput::builder()
            .password_policy(
                aws_sdk_iam::types::PasswordPolicy::builder()
                    .minimum_password_length(14)
                    .build(),
            )
            .build()
    })
}
