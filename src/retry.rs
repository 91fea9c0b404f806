//! How often and how a failed AWS call is tried again: from `--max-attempts`, the environment
//! (`AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE`), the AWS profile (`max_attempts`, `retry_mode`), or the
//! tool's defaults, in that order, each setting on its own.
//!
//! The tool resolves these itself instead of leaving them to `aws-config`, which panics on a
//! value it cannot parse (`AWS_RETRY_MODE=legacy`, which the AWS CLI accepts, or
//! `AWS_MAX_ATTEMPTS=0`): here a bad value is a usage error that names the variable and the fix.
//!
//! The default is 8 attempts, not the SDK's 3: an evidence run is worth more complete than
//! fast. With 8 attempts a call survives 7 failures in a row; at a sustained 20% fault rate a
//! call is lost with probability 0.2^8 (about 1 in 390,000) instead of 0.2^3 (1 in 125, which
//! the fault tests saw happen to runs of a hundred calls). Backoff is exponential with full
//! jitter, capped at 20 s between attempts, and starts from what the error asks for:
//! - throttling (`Throttling`, `ThrottlingException`, `SlowDown`, `RequestLimitExceeded`...):
//!   1 s, doubling, so a throttled call waits at most 71 s in all (35 s on average) before it
//!   is recorded; the service asked the tool to slow down;
//! - other transient errors (5xx, connection resets, timeouts): 50 ms, doubling, as in the
//!   SDK's newer retry behaviour (2.1), so a call that keeps failing that way costs at most
//!   6.4 s of backoff, not 71 s.
//!
//! Errors that retrying cannot fix (AccessDenied, validation) are never retried. The SDK's retry
//! quota (500 tokens per service and region, 5 per retry, 10 per timeout retry, given back by
//! successes) stays in force, so a service that fails every call stops being retried.

use std::ops::RangeInclusive;
use std::time::Duration;

use aws_config::retry::{RetryConfig, RetryMode};
use aws_smithy_types::retry::RetrySpec;

use crate::error::Error;

/// Attempts per call when nothing else says.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// First backoff after a transient error that is not throttling (throttling: 1 s).
pub const TRANSIENT_INITIAL_BACKOFF: Duration = Duration::from_millis(50);

/// What `--max-attempts`, `AWS_MAX_ATTEMPTS` and a profile's `max_attempts` may say.
pub const MAX_ATTEMPTS: RangeInclusive<u32> = 1..=20;

/// The retry settings of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    pub mode: RetryMode,
}

impl RetrySettings {
    /// The SDK's retry configuration: standard (exponential backoff with jitter, retry quota)
    /// or adaptive (the same, plus client-side rate limiting after throttling), with the
    /// backoffs of the module documentation.
    pub fn retry_config(&self) -> RetryConfig {
        match self.mode {
            RetryMode::Adaptive => RetryConfig::adaptive(),
            _ => RetryConfig::standard(),
        }
        .with_max_attempts(self.max_attempts)
        .with_retry_spec(
            RetrySpec::v2_0().with_non_throttling_initial_backoff(TRANSIENT_INITIAL_BACKOFF),
        )
    }
}

/// One raw setting and where it was found, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    pub value: String,
    /// e.g. "AWS_MAX_ATTEMPTS" or "max_attempts in AWS profile `audit`".
    pub origin: String,
}

/// The raw settings of one source (the environment, or the selected profile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub max_attempts: Option<Raw>,
    pub retry_mode: Option<Raw>,
}

/// Resolves the settings: the flag, else the environment, else the profile, else the default,
/// separately for attempts and mode.
pub fn resolve(flag: Option<u32>, env: &Source, profile: &Source) -> Result<RetrySettings, Error> {
    let max_attempts = match flag {
        Some(n) => n,
        None => match env.max_attempts.as_ref().or(profile.max_attempts.as_ref()) {
            Some(raw) => parse_attempts(raw)?,
            None => DEFAULT_MAX_ATTEMPTS,
        },
    };
    let mode = match env.retry_mode.as_ref().or(profile.retry_mode.as_ref()) {
        Some(raw) => parse_mode(raw)?,
        None => RetryMode::Standard,
    };
    Ok(RetrySettings { max_attempts, mode })
}

fn parse_attempts(raw: &Raw) -> Result<u32, Error> {
    match raw.value.trim().parse::<u32>() {
        Ok(n) if MAX_ATTEMPTS.contains(&n) => Ok(n),
        _ => Err(Error::Usage(format!(
            "{} is `{}`, not a number of attempts from {} to {}\n  fix: set it to a number from {} to {}, unset it, or pass --max-attempts",
            raw.origin,
            raw.value,
            MAX_ATTEMPTS.start(),
            MAX_ATTEMPTS.end(),
            MAX_ATTEMPTS.start(),
            MAX_ATTEMPTS.end(),
        ))),
    }
}

fn parse_mode(raw: &Raw) -> Result<RetryMode, Error> {
    let value = raw.value.trim();
    if value.eq_ignore_ascii_case("legacy") {
        // The AWS CLI and boto3 know `legacy`; the Rust SDK does not. Its standard mode is the
        // successor (same backoff idea, with a retry quota), so use it and say so.
        tracing::warn!(
            "{} is `legacy`, which the AWS SDK for Rust does not have; using `standard`",
            raw.origin
        );
        return Ok(RetryMode::Standard);
    }
    value.parse::<RetryMode>().map_err(|_| {
        Error::Usage(format!(
            "{} is `{}`, not a retry mode\n  fix: set it to `standard` or `adaptive`, or unset it",
            raw.origin, raw.value
        ))
    })
}

/// `AWS_MAX_ATTEMPTS` and `AWS_RETRY_MODE` from the process environment (empty means unset).
pub fn from_environment() -> Source {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|value| Raw {
                value,
                origin: name.to_string(),
            })
    };
    Source {
        max_attempts: var("AWS_MAX_ATTEMPTS"),
        retry_mode: var("AWS_RETRY_MODE"),
    }
}

/// `max_attempts` and `retry_mode` of the selected profile (`profile`, else `AWS_PROFILE`, else
/// `default`) in the AWS config files. Files that are missing or do not parse give nothing here;
/// the SDK's own loaders report them.
pub async fn from_profile(profile: Option<&str>) -> Source {
    use aws_types::os_shim_internal::{Env, Fs};
    let Ok(set) = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        // The standard files (~/.aws/config and ~/.aws/credentials, or AWS_CONFIG_FILE and
        // AWS_SHARED_CREDENTIALS_FILE).
        &Default::default(),
        profile.map(|p| std::borrow::Cow::Owned(p.to_string())),
    )
    .await
    else {
        return Source::default();
    };
    let name = set.selected_profile().to_string();
    let get = |key: &str| {
        set.get(key).map(|value| Raw {
            value: value.to_string(),
            origin: format!("{key} in AWS profile `{name}`"),
        })
    };
    Source {
        max_attempts: get("max_attempts"),
        retry_mode: get("retry_mode"),
    }
}

/// The lowercase name of a retry mode, for the manifest.
pub fn mode_name(mode: RetryMode) -> &'static str {
    match mode {
        RetryMode::Adaptive => "adaptive",
        _ => "standard",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(value: &str, origin: &str) -> Option<Raw> {
        Some(Raw {
            value: value.into(),
            origin: origin.into(),
        })
    }

    fn source(attempts: Option<&str>, mode: Option<&str>, origin: &str) -> Source {
        Source {
            max_attempts: attempts.and_then(|v| raw(v, &format!("{origin} attempts"))),
            retry_mode: mode.and_then(|v| raw(v, &format!("{origin} mode"))),
        }
    }

    #[test]
    fn flag_then_environment_then_profile_then_default_each_on_its_own() {
        let none = Source::default();
        let env = source(Some("4"), None, "env");
        let profile = source(Some("6"), Some("adaptive"), "profile");
        let settings = |flag, env: &Source, profile: &Source| resolve(flag, env, profile).unwrap();
        assert_eq!(
            settings(None, &none, &none),
            RetrySettings {
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                mode: RetryMode::Standard
            }
        );
        assert_eq!(settings(Some(2), &env, &profile).max_attempts, 2);
        assert_eq!(settings(None, &env, &profile).max_attempts, 4);
        assert_eq!(settings(None, &none, &profile).max_attempts, 6);
        // The environment says nothing about the mode, so the profile's applies.
        assert_eq!(settings(None, &env, &profile).mode, RetryMode::Adaptive);
        let standard = source(None, Some(" Standard "), "env");
        assert_eq!(
            settings(None, &standard, &profile).mode,
            RetryMode::Standard
        );
    }

    #[test]
    fn legacy_means_standard() {
        let env = source(None, Some("legacy"), "env");
        let settings = resolve(None, &env, &Source::default()).unwrap();
        assert_eq!(settings.mode, RetryMode::Standard);
    }

    #[test]
    fn bad_values_name_their_origin_and_the_fix() {
        let none = Source::default();
        for bad in ["0", "21", "x", "-1", "3.5"] {
            let env = Source {
                max_attempts: raw(bad, "AWS_MAX_ATTEMPTS"),
                retry_mode: None,
            };
            let message = resolve(None, &env, &none).unwrap_err().to_string();
            assert_eq!(
                message,
                format!(
                    "AWS_MAX_ATTEMPTS is `{bad}`, not a number of attempts from 1 to 20\n  \
                     fix: set it to a number from 1 to 20, unset it, or pass --max-attempts"
                )
            );
        }
        // A flag makes a bad environment value irrelevant.
        let env = Source {
            max_attempts: raw("0", "AWS_MAX_ATTEMPTS"),
            retry_mode: None,
        };
        assert_eq!(resolve(Some(3), &env, &none).unwrap().max_attempts, 3);

        let profile = Source {
            max_attempts: None,
            retry_mode: raw("turbo", "retry_mode in AWS profile `audit`"),
        };
        let err = resolve(None, &none, &profile).unwrap_err();
        assert!(matches!(err, Error::Usage(_)));
        assert_eq!(
            err.to_string(),
            "retry_mode in AWS profile `audit` is `turbo`, not a retry mode\n  \
             fix: set it to `standard` or `adaptive`, or unset it"
        );
    }

    #[test]
    fn the_sdk_configuration_carries_attempts_and_mode() {
        let config = RetrySettings {
            max_attempts: 5,
            mode: RetryMode::Adaptive,
        }
        .retry_config();
        assert_eq!(config.max_attempts(), 5);
        assert_eq!(config.mode(), RetryMode::Adaptive);
        assert_eq!(config.initial_backoff(), Duration::from_secs(1));
        assert_eq!(config.max_backoff(), Duration::from_secs(20));
        assert_eq!(
            config
                .retry_spec()
                .map(RetrySpec::non_throttling_initial_backoff),
            Some(TRANSIENT_INITIAL_BACKOFF)
        );
        assert_eq!(mode_name(config.mode()), "adaptive");
    }
}
