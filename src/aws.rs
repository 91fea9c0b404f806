//! AWS configuration, built once per run, and the clients handed to collectors.
//!
//! One `SdkConfig` carries the credential chain, region, endpoint override, retry mode and
//! timeouts. Each collector receives clients built from it with a counting interceptor of its
//! own, so every request the tool sends is attributed to the collector that sent it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The region used for global services when nothing else names one.
pub const DEFAULT_HOME_REGION: &str = "us-east-1";

/// How to reach AWS; every field is optional and falls back to the standard AWS chain.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub profile: Option<String>,
    /// Region for global services (IAM, STS). Default: the chain's region, else us-east-1.
    pub home_region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Attempts per call, first included. Default: `AWS_MAX_ATTEMPTS`, the profile, or 3.
    pub max_attempts: Option<u32>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub operation_timeout: Duration,
}

/// Loads the SDK configuration: credential chain (env, profile, SSO, web identity, IMDS),
/// region, endpoint, standard retries and timeouts.
pub async fn load_sdk_config(settings: &AwsSettings) -> SdkConfig {
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
    if let Some(attempts) = settings.max_attempts {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(attempts));
    }
    loader = loader.timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .operation_attempt_timeout(settings.operation_timeout)
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

/// Builds service clients from the one `SdkConfig` of the run.
#[derive(Debug, Clone)]
pub struct Clients {
    sdk: SdkConfig,
    extra_interceptors: Vec<SharedInterceptor>,
}

impl Clients {
    pub fn new(sdk: SdkConfig) -> Self {
        Clients {
            sdk,
            extra_interceptors: Vec::new(),
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

    /// The clients of one collector, counted by `counter`.
    pub fn counted(&self, counter: Arc<CallCounter>) -> CountedClients {
        CountedClients {
            clients: self.clone(),
            counter,
        }
    }
}

/// Clients whose requests all land on one counter.
#[derive(Debug, Clone)]
pub struct CountedClients {
    clients: Clients,
    counter: Arc<CallCounter>,
}

macro_rules! service_client {
    ($name:ident, $krate:ident) => {
        pub fn $name(&self) -> $krate::Client {
            let mut builder = $krate::config::Builder::from(&self.clients.sdk);
            builder.push_interceptor(SharedInterceptor::new(CountingInterceptor(
                self.counter.clone(),
            )));
            for interceptor in &self.clients.extra_interceptors {
                builder.push_interceptor(interceptor.clone());
            }
            $krate::Client::from_conf(builder.build())
        }
    };
}

impl CountedClients {
    service_client!(iam, aws_sdk_iam);
    service_client!(sts, aws_sdk_sts);

    pub fn counter(&self) -> &Arc<CallCounter> {
        &self.counter
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
    fn partition_comes_from_the_caller_arn() {
        let id = Identity::new(
            "123456789012".into(),
            "arn:aws-us-gov:sts::123456789012:assumed-role/audit/x".into(),
        );
        assert_eq!(id.partition, "aws-us-gov");
        assert_eq!(Identity::new("1".into(), "garbage".into()).partition, "aws");
    }
}
