//! AWS configuration, built once per run, and the clients handed to collectors.
//!
//! One `SdkConfig` carries the credential chain, region, endpoint override, retry mode and
//! timeouts. Each collector receives clients built from it with a counting interceptor of its
//! own, so every request the tool sends is attributed to the collector that sent it.
//!
//! Every request goes through one [`BoundedHttpClient`]: at most `--concurrency` attempts are
//! on the wire at once, and each attempt (send, wait for the answer, read it to the last byte)
//! gets `--operation-timeout` from the moment it holds a slot. Waiting for a slot does not
//! count: in a large account thousands of calls queue behind the bound, and a timer that
//! started in the queue would fail them without a byte sent. `--connect-timeout` bounds
//! connecting and `--read-timeout` the wait for the answer's first byte, inside the attempt.
//! Timeouts have a budget of their own ([`crate::timeout_budget`]): a call stops at its second
//! timed-out attempt, and an endpoint that has gone silent is probed one request at a time
//! instead of being waited for by every call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::timeout::TimeoutConfig;

use crate::timeout_budget::{Admission, AfterTimeout, Budget};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::endpoint::EndpointFuture;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::endpoint::Endpoint;
use tokio::sync::Semaphore;

use crate::retry::RetrySettings;

/// The region used for global services when nothing else names one.
pub const DEFAULT_HOME_REGION: &str = "us-east-1";

/// How to reach AWS; every field is optional and falls back to the standard AWS chain.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub profile: Option<String>,
    /// Region for global services (IAM, STS). Default: the chain's region, else us-east-1.
    pub home_region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Attempts per call, first included, from `--max-attempts`; without it
    /// [`crate::retry::resolve`] consults `AWS_MAX_ATTEMPTS`, the profile, then the default.
    pub max_attempts: Option<u32>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub operation_timeout: Duration,
}

/// Loads the SDK configuration: credential chain (env, profile, SSO, web identity, IMDS),
/// region, endpoint, the resolved retry settings and timeouts.
pub async fn load_sdk_config(settings: &AwsSettings, retry: &RetrySettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.home_region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader = loader.retry_config(retry.retry_config());
    loader = loader.timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .operation_attempt_timeout(settings.operation_timeout)
            .build(),
    );
    // Request bodies are a few hundred bytes sent at once; what stalls them is waiting for a
    // permit of the run's request bound (BoundedConnector), which the upload stall protection
    // would take for a stalled upload after its 5 s grace period and fail the call, however
    // healthy the endpoint. Answers keep their protection, and every attempt is bounded by
    // the attempt timeout once it holds its permit.
    loader = loader.stalled_stream_protection(
        aws_config::stalled_stream_protection::StalledStreamProtectionConfig::enabled()
            .upload_enabled(false)
            .build(),
    );
    let config = loader.load().await;
    if config.region().is_none() {
        return config
            .to_builder()
            .region(Region::new(DEFAULT_HOME_REGION))
            .build();
    }
    config
}

/// Fails unless the profile chosen with `--profile` or `AWS_PROFILE` is defined in the AWS config
/// or credentials file. Without this check the credential chain would quietly fall through to
/// other credentials (environment variables come first), and the evidence would describe an
/// account nobody asked for. `default` is not checked: its absence is normal when credentials
/// come from the environment or instance metadata.
pub async fn check_profile(settings: &AwsSettings) -> Result<(), crate::error::Error> {
    use aws_types::os_shim_internal::{Env, Fs};

    let env = Env::real();
    let Some(profile) = settings
        .profile
        .clone()
        .or_else(|| env.get("AWS_PROFILE").ok())
        .filter(|p| !p.is_empty() && p != "default")
    else {
        return Ok(());
    };
    let set = aws_config::profile::load(
        &Fs::real(),
        &env,
        // The SDK's default files: AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, or ~/.aws.
        &Default::default(),
        Some(profile.clone().into()),
    )
    .await
    .map_err(|e| crate::error::Error::ProfileFiles {
        profile: profile.clone(),
        detail: crate::error::chain(&e),
    })?;
    if set.get_profile(&profile).is_some() {
        return Ok(());
    }
    let mut found: Vec<String> = set.profiles().map(str::to_string).collect();
    found.sort();
    let files = [
        ("AWS_CONFIG_FILE", ".aws/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"),
    ]
    .into_iter()
    .map(|(var, default)| {
        let path = profile_file_path(env.get(var).ok(), env.get("HOME").ok(), default);
        let exists = path.is_file();
        (path, exists)
    })
    .collect();
    Err(crate::error::Error::UnknownProfile {
        profile,
        files,
        found,
    })
}

/// Where the SDK reads a profile file: the variable's path (with a leading `~/` expanded),
/// else `$HOME/<default>`.
fn profile_file_path(var: Option<String>, home: Option<String>, default: &str) -> PathBuf {
    let home = home.unwrap_or_else(|| "~".to_string());
    match var {
        Some(path) => match path.strip_prefix("~/") {
            Some(rest) => Path::new(&home).join(rest),
            None => PathBuf::from(path),
        },
        None => Path::new(&home).join(default),
    }
}

/// Requests and operations sent through the clients of one collector (or of the run itself).
#[derive(Debug, Default)]
pub struct CallCounter {
    operations: AtomicU64,
    requests: AtomicU64,
}

impl CallCounter {
    /// Requests sent, every retry included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Requests that repeated a failed attempt of the same operation.
    pub fn retries(&self) -> u64 {
        self.requests()
            .saturating_sub(self.operations.load(Ordering::Relaxed))
    }
}

#[derive(Debug)]
struct CountingInterceptor(Arc<CallCounter>);

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "soc2-evidence call counter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.operations.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.requests.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Bounds the requests in flight across the whole run: every client's HTTP connector waits for
/// a permit, so regions, buckets and keys can all be worked on at once without a flood, and no
/// task ever holds a permit while it waits for another one. With the permit held, an attempt
/// sends its request and reads the whole answer within the attempt timeout, so the bound covers
/// the answer's transfer too and the timeout never counts time spent queueing.
#[derive(Debug, Clone)]
struct BoundedHttpClient {
    inner: SharedHttpClient,
    limit: Arc<Semaphore>,
    attempt_timeout: Option<Duration>,
    budget: Arc<Budget>,
}

impl HttpClient for BoundedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(BoundedConnector {
            inner: self.inner.http_connector(settings, components),
            limit: self.limit.clone(),
            attempt_timeout: self.attempt_timeout,
            budget: self.budget.clone(),
        })
    }
}

#[derive(Debug)]
struct BoundedConnector {
    inner: SharedHttpConnector,
    limit: Arc<Semaphore>,
    attempt_timeout: Option<Duration>,
    budget: Arc<Budget>,
}

impl HttpConnector for BoundedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limit = self.limit.clone();
        let attempt_timeout = self.attempt_timeout;
        let budget = self.budget.clone();
        let host = authority(request.uri()).to_string();
        let invocation = request
            .headers()
            .get("amz-sdk-invocation-id")
            .map(str::to_string);
        HttpConnectorFuture::new(async move {
            let _permit = limit
                .acquire_owned()
                .await
                .expect("the request bound stays open");
            // A silent endpoint is not waited for again (README "Timeouts").
            let probe = match budget.admit(&host, Instant::now()) {
                Admission::Send { probe } => probe,
                Admission::Refuse(reason) => {
                    return Err(ConnectorError::other(Box::new(reason), None));
                }
            };
            let exchange = async move {
                let mut response = inner.call(request).await?;
                // Read to the last byte here, under the permit and the timeout; a connection
                // that breaks or stalls mid-answer is a failed attempt the SDK retries.
                let body = ByteStream::new(response.take_body())
                    .collect()
                    .await
                    .map_err(|e| ConnectorError::io(e.into()))?;
                *response.body_mut() = SdkBody::from(body.into_bytes());
                Ok(response)
            };
            let result = match attempt_timeout {
                Some(limit) => tokio::time::timeout(limit, exchange)
                    .await
                    .unwrap_or_else(|_| {
                        Err(ConnectorError::timeout(
                            format!(
                                "no complete answer within the operation attempt timeout of {}s (--operation-timeout)",
                                limit.as_secs_f64()
                            )
                            .into(),
                        ))
                    }),
                None => exchange.await,
            };
            match result {
                Ok(response) => {
                    budget.answered(&host, invocation.as_deref(), probe, Instant::now());
                    Ok(response)
                }
                Err(e) if e.is_timeout() => {
                    let why = crate::vocab::chain(&e);
                    match budget.timed_out(&host, invocation.as_deref(), probe, &why) {
                        AfterTimeout::Retry => Err(e),
                        // Not retryable: the SDK records the call as it stands.
                        AfterTimeout::Stop(reason) => {
                            Err(ConnectorError::other(Box::new(reason), None))
                        }
                    }
                }
                Err(e) => {
                    budget.failed(&host, probe);
                    Err(e)
                }
            }
        })
    }
}

/// The `host[:port]` of a request URI (the endpoint the timeout budget keeps apart).
fn authority(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // Credentials in a URI are never part of the key.
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// The HTTPS client the SDK would pick by itself (hyper 1.x with rustls, honouring
/// `HTTPS_PROXY`), so that it can be wrapped in the bound.
fn default_http_client() -> Option<SharedHttpClient> {
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
    let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(
        BehaviorVersion::latest(),
    )?;
    plugin
        .runtime_components(&RuntimeComponentsBuilder::new("soc2-evidence"))
        .http_client()
}

/// Sends s3control requests to the endpoint override unchanged. The SDK's own rules put the
/// account id in front of the host (`123456789012.127.0.0.1`), which emulators cannot serve.
#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}

/// Builds service clients from the one `SdkConfig` of the run.
#[derive(Debug, Clone)]
pub struct Clients {
    sdk: SdkConfig,
    extra_interceptors: Vec<SharedInterceptor>,
}

impl Clients {
    /// Clients over `sdk` with at most `max_in_flight` requests on the wire at once. The
    /// operation attempt timeout of `sdk` moves into the bound (see [`BoundedHttpClient`]).
    pub fn new(sdk: SdkConfig, max_in_flight: usize) -> Self {
        let inner = sdk.http_client().or_else(default_http_client);
        let sdk = match inner {
            Some(inner) => {
                let timeouts = sdk
                    .timeout_config()
                    .cloned()
                    .unwrap_or_else(TimeoutConfig::disabled);
                let bounded = BoundedHttpClient {
                    inner,
                    limit: Arc::new(Semaphore::new(max_in_flight.max(1))),
                    attempt_timeout: timeouts.operation_attempt_timeout(),
                    budget: Arc::new(Budget::new(
                        timeouts.read_timeout(),
                        timeouts.operation_attempt_timeout(),
                    )),
                };
                sdk.to_builder()
                    .http_client(bounded)
                    .timeout_config(
                        timeouts
                            .to_builder()
                            .disable_operation_attempt_timeout()
                            .build(),
                    )
                    .build()
            }
            None => sdk,
        };
        Clients {
            sdk,
            extra_interceptors: Vec::new(),
        }
    }

    /// The same clients with other credentials (a member account's assumed role): requests
    /// still go through the one HTTP client, so every account shares the one `--concurrency`
    /// bound.
    pub fn with_credentials(
        &self,
        provider: aws_credential_types::provider::SharedCredentialsProvider,
    ) -> Clients {
        Clients {
            sdk: self.sdk.to_builder().credentials_provider(provider).build(),
            extra_interceptors: self.extra_interceptors.clone(),
        }
    }

    /// Adds an interceptor to every client (tests use it to serve mocked responses).
    pub fn with_interceptor(mut self, interceptor: SharedInterceptor) -> Self {
        self.extra_interceptors.push(interceptor);
        self
    }

    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }

    /// The region global services are called in.
    pub fn home_region(&self) -> String {
        self.sdk
            .region()
            .map_or(DEFAULT_HOME_REGION.to_string(), |r| r.to_string())
    }

    /// The clients of one collector: each region's requests land on that region's counter.
    pub fn counted(&self) -> CountedClients {
        CountedClients {
            clients: self.clone(),
            counters: Arc::default(),
        }
    }
}

/// Clients whose requests are counted per region (`global` for global services).
#[derive(Debug, Clone)]
pub struct CountedClients {
    clients: Clients,
    counters: Arc<Mutex<BTreeMap<String, Arc<CallCounter>>>>,
}

/// The counter label of calls to global services (IAM, STS, the S3 account block).
pub const GLOBAL_LABEL: &str = crate::vocab::GLOBAL;

macro_rules! global_client {
    ($(#[$doc:meta])* $name:ident, $krate:ident) => {
        $(#[$doc])*
        pub fn $name(&self) -> $krate::Client {
            let builder = $krate::config::Builder::from(&self.clients.sdk);
            $krate::Client::from_conf(self.finish(builder, GLOBAL_LABEL, $krate::config::Builder::push_interceptor).build())
        }
    };
}

macro_rules! regional_client {
    ($(#[$doc:meta])* $name:ident, $krate:ident) => {
        $(#[$doc])*
        pub fn $name(&self, region: &str) -> $krate::Client {
            let builder = $krate::config::Builder::from(&self.clients.sdk)
                .region($krate::config::Region::new(region.to_string()));
            $krate::Client::from_conf(self.finish(builder, region, $krate::config::Builder::push_interceptor).build())
        }
    };
}

impl CountedClients {
    global_client!(iam, aws_sdk_iam);
    global_client!(sts, aws_sdk_sts);
    global_client!(
        /// AWS Organizations, a global service answered in the home region.
        organizations,
        aws_sdk_organizations
    );
    regional_client!(ec2, aws_sdk_ec2);
    regional_client!(kms, aws_sdk_kms);
    regional_client!(cloudtrail, aws_sdk_cloudtrail);
    regional_client!(guardduty, aws_sdk_guardduty);
    regional_client!(accessanalyzer, aws_sdk_accessanalyzer);
    regional_client!(config, aws_sdk_config);
    regional_client!(cloudwatch, aws_sdk_cloudwatch);
    regional_client!(logs, aws_sdk_cloudwatchlogs);
    regional_client!(sns, aws_sdk_sns);
    regional_client!(
        /// IAM Identity Center's administration API, in the region of the instance.
        ssoadmin,
        aws_sdk_ssoadmin
    );
    regional_client!(identitystore, aws_sdk_identitystore);

    /// S3 in `region`, path-style when an endpoint override is set (emulators have no
    /// per-bucket host names).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let mut builder = aws_sdk_s3::config::Builder::from(&self.clients.sdk)
            .region(aws_sdk_s3::config::Region::new(region.to_string()));
        if self.clients.sdk.endpoint_url().is_some() {
            builder = builder.force_path_style(true);
        }
        let builder = self.finish(
            builder,
            region,
            aws_sdk_s3::config::Builder::push_interceptor,
        );
        aws_sdk_s3::Client::from_conf(builder.build())
    }

    /// S3 Control (the account-level public access block), counted as global. With an endpoint
    /// override, requests go to that endpoint unchanged.
    pub fn s3control(&self) -> aws_sdk_s3control::Client {
        let mut builder = aws_sdk_s3control::config::Builder::from(&self.clients.sdk);
        if let Some(url) = self.clients.sdk.endpoint_url() {
            builder = builder.endpoint_resolver(FixedEndpoint(url.to_string()));
        }
        let builder = self.finish(
            builder,
            GLOBAL_LABEL,
            aws_sdk_s3control::config::Builder::push_interceptor,
        );
        aws_sdk_s3control::Client::from_conf(builder.build())
    }

    /// Adds the region's counting interceptor and any extra interceptors to a config builder.
    fn finish<B>(
        &self,
        mut builder: B,
        region: &str,
        push: fn(&mut B, SharedInterceptor) -> &mut B,
    ) -> B {
        push(
            &mut builder,
            SharedInterceptor::new(CountingInterceptor(self.counter(region))),
        );
        for interceptor in &self.clients.extra_interceptors {
            push(&mut builder, interceptor.clone());
        }
        builder
    }

    /// The counter of `region`, created on first use.
    pub fn counter(&self, region: &str) -> Arc<CallCounter> {
        self.counters
            .lock()
            .expect("counter map is never poisoned")
            .entry(region.to_string())
            .or_default()
            .clone()
    }

    /// (region, requests, retries) for every region a request was sent to, sorted by region.
    pub fn counts(&self) -> Vec<(String, u64, u64)> {
        self.counters
            .lock()
            .expect("counter map is never poisoned")
            .iter()
            .map(|(region, c)| (region.clone(), c.requests(), c.retries()))
            .collect()
    }

    pub fn home_region(&self) -> String {
        self.clients.home_region()
    }
}

/// Who the run talks to: from one sts:GetCallerIdentity call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account_id: String,
    pub caller_arn: String,
    pub partition: String,
}

impl Identity {
    /// The partition is the second field of the caller's ARN (`arn:aws-us-gov:...`).
    pub fn new(account_id: String, caller_arn: String) -> Self {
        let partition = caller_arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_string();
        Identity {
            account_id,
            caller_arn,
            partition,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_files_follow_the_sdk_rules() {
        let home = Some("/home/a".to_string());
        assert_eq!(
            profile_file_path(None, home.clone(), ".aws/config"),
            PathBuf::from("/home/a/.aws/config")
        );
        assert_eq!(
            profile_file_path(Some("~/x/config".into()), home.clone(), ".aws/config"),
            PathBuf::from("/home/a/x/config")
        );
        assert_eq!(
            profile_file_path(Some("/etc/aws".into()), home, ".aws/config"),
            PathBuf::from("/etc/aws")
        );
    }

    #[test]
    fn partition_comes_from_the_caller_arn() {
        let id = Identity::new(
            "123456789012".into(),
            "arn:aws-us-gov:sts::123456789012:assumed-role/audit/x".into(),
        );
        assert_eq!(id.partition, "aws-us-gov");
        assert_eq!(Identity::new("1".into(), "garbage".into()).partition, "aws");
    }
}
