//! The library entry point: runs a whole `collect` and returns what happened, without touching
//! the terminal. `main` and the tests both call it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinSet;

use crate::aws::{self, Clients, Identity};
use crate::bundle::manifest::{
    Account, BundleStatus, CollectorRecord, CollectorStatus, ControlRecord, FindingsSummary,
    Manifest, RegionRecord, Run, RunOptions, Tool, SCHEMA_VERSION,
};
use crate::bundle::{self, BundlePaths, Staging};
use crate::collectors::{iam_account_summary, Context};
use crate::config::CollectConfig;
use crate::controls::Control;
use crate::error::{Error, ExitCode};
use crate::evidence::{CallError, CollectError, Evidence, EvidenceParts};
use crate::registry::{CollectorSpec, Scope};
use crate::retry;

/// The result of a `collect` that wrote a bundle.
#[derive(Debug)]
pub struct CollectOutcome {
    pub manifest: Manifest,
    pub paths: BundlePaths,
}

impl CollectOutcome {
    /// 0 when complete, 3 when a collector (or collector/region) failed.
    pub fn exit_code(&self) -> ExitCode {
        match self.manifest.status {
            BundleStatus::Complete => ExitCode::Success,
            BundleStatus::Incomplete => ExitCode::Incomplete,
        }
    }
}

/// Loads the AWS configuration from the environment and runs `collect`.
pub async fn collect(config: &CollectConfig) -> Result<CollectOutcome, Error> {
    let retry = retry::resolve(
        config.aws.max_attempts,
        &retry::from_environment(),
        &retry::from_profile(config.aws.profile.as_deref()).await,
    )?;
    let sdk = aws::load_sdk_config(&config.aws, &retry).await;
    // Resolve credentials once up front: a missing chain is a clear fatal error, not three
    // failed collectors.
    let Some(provider) = sdk.credentials_provider() else {
        return Err(Error::NoCredentials {
            detail: "no credential provider is configured".into(),
        });
    };
    use aws_credential_types::provider::ProvideCredentials;
    provider
        .provide_credentials()
        .await
        .map_err(|e| Error::NoCredentials {
            detail: crate::error::chain(&e),
        })?;
    collect_with(config, Clients::new(sdk, config.concurrency)).await
}

/// Runs `collect` with the given clients (tests pass clients with mocked responses).
pub async fn collect_with(
    config: &CollectConfig,
    clients: Clients,
) -> Result<CollectOutcome, Error> {
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let run_clients = clients.counted();

    let sts = run_clients.sts();
    let caller = sts.get_caller_identity().send().await.map_err(|e| {
        let err = CallError::from_sdk("", "GetCallerIdentity", &e);
        Error::CallerIdentity {
            code: err.code,
            message: err.message,
        }
    })?;
    let identity = Identity::new(
        caller.account().unwrap_or_default().to_string(),
        caller.arn().unwrap_or_default().to_string(),
    );
    let regions = covered_regions(config, &run_clients).await?;
    tracing::info!(account = %identity.account_id, caller = %identity.caller_arn, "identified account");

    let name = bundle::bundle_name(&identity.account_id, started_at);
    let staging = Staging::create(&config.out, &name)?;

    let records = run_collectors(config, &clients, &identity, &regions, &staging).await?;

    let finished_at = chrono::Utc::now();
    let manifest = build_manifest(ManifestInput {
        config,
        identity: &identity,
        regions,
        records,
        run_clients: &run_clients,
        retry: clients.sdk_config().retry_config(),
        started_at,
        finished_at,
        duration_ms: clock.elapsed().as_millis() as u64,
    });
    let paths = staging.finish(&manifest)?;
    Ok(CollectOutcome { manifest, paths })
}

/// The regions to cover: those asked for, else the account's enabled regions
/// (ec2:DescribeRegions without AllRegions, keeping opted-in and opt-in-not-required ones).
async fn covered_regions(
    config: &CollectConfig,
    run_clients: &aws::CountedClients,
) -> Result<Vec<String>, Error> {
    let mut regions = if !config.regions.is_empty() {
        config.regions.clone()
    } else if !config.collectors.iter().any(|s| s.scope == Scope::Regional) {
        // Only global collectors: no need to ask which regions are enabled.
        vec![run_clients.home_region()]
    } else {
        let home = run_clients.home_region();
        let output = run_clients
            .ec2(&home)
            .describe_regions()
            .send()
            .await
            .map_err(|e| {
                let err = CallError::from_sdk(&home, "DescribeRegions", &e);
                Error::Regions {
                    code: err.code,
                    message: err.message,
                }
            })?;
        output
            .regions()
            .iter()
            .filter(|r| {
                r.opt_in_status()
                    .is_none_or(|s| s == "opt-in-not-required" || s == "opted-in")
            })
            .filter_map(|r| r.region_name().map(str::to_string))
            .collect()
    };
    regions.sort();
    regions.dedup();
    Ok(regions)
}

async fn run_collectors(
    config: &CollectConfig,
    clients: &Clients,
    identity: &Identity,
    regions: &[String],
    staging: &Staging,
) -> Result<Vec<CollectorRecord>, Error> {
    let progress = if config.progress {
        ProgressBar::with_draw_target(
            Some(config.collectors.len() as u64),
            ProgressDrawTarget::stderr(),
        )
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] collectors done {wide_msg}")
            .expect("valid progress template"),
    );
    progress.enable_steady_tick(std::time::Duration::from_millis(120));

    // Every collector starts at once; the HTTP layer bounds the requests in flight.
    let regions = Arc::new(regions.to_vec());
    let mut tasks = JoinSet::new();
    let mut task_specs = HashMap::new();
    for spec in config.collectors.iter().copied() {
        let ctx = Context {
            identity: identity.clone(),
            clients: clients.counted(),
            settings: config.settings.clone(),
            regions: regions.clone(),
            concurrency: config.concurrency,
        };
        let root = staging.root().to_path_buf();
        let handle = tasks.spawn(async move {
            let clock = Instant::now();
            let mut evidence = Evidence::new(root, spec.id);
            let result = (spec.run)(&ctx, &mut evidence).await;
            (result, evidence, ctx.clients, clock.elapsed())
        });
        task_specs.insert(handle.id(), spec);
    }

    let mut records = Vec::new();
    while let Some(joined) = tasks.join_next_with_id().await {
        let (spec, result) = match joined {
            Ok((id, output)) => (task_specs[&id], Ok(output)),
            Err(join_error) => (task_specs[&join_error.id()], Err(join_error)),
        };
        let record = match result {
            Ok((Err(CollectError::Write(err)), ..)) => {
                tasks.abort_all();
                progress.finish_and_clear();
                return Err(err);
            }
            Ok((result, evidence, counter, elapsed)) => record_of(
                spec,
                result.err(),
                evidence,
                &counter,
                elapsed.as_millis() as u64,
            ),
            Err(join_error) => {
                // A panic is a bug of ours, but it still must not cost the other evidence.
                let message = if join_error.is_panic() {
                    "the collector panicked; please report this as a bug".to_string()
                } else {
                    join_error.to_string()
                };
                let mut record = record_of(
                    spec,
                    None,
                    Evidence::new("", spec.id),
                    &clients.counted(),
                    0,
                );
                record.status = CollectorStatus::Failed;
                record
                    .errors
                    .push(CallError::new("", "(collector)", "InternalError", message));
                record
            }
        };
        progress.inc(1);
        progress.set_message(format!("{} {}", record.id, record.status.as_str()));
        records.push(record);
    }
    progress.finish_and_clear();
    let order: HashMap<&str, usize> = config
        .collectors
        .iter()
        .enumerate()
        .map(|(i, spec)| (spec.id, i))
        .collect();
    records.sort_by_key(|record| order[record.id.as_str()]);
    Ok(records)
}

fn record_of(
    spec: &CollectorSpec,
    fatal: Option<CollectError>,
    evidence: Evidence,
    counted: &aws::CountedClients,
    duration_ms: u64,
) -> CollectorRecord {
    let EvidenceParts {
        mut files,
        mut errors,
        notes,
        regions: region_status,
    } = evidence.into_parts();
    if let Some(CollectError::Call(err)) = &fatal {
        tracing::warn!(collector = spec.id, error = %err, "collector failed");
        errors.push(err.clone());
    }
    let status = if fatal.is_some() {
        CollectorStatus::Failed
    } else if !errors.is_empty()
        || region_status
            .values()
            .any(|s| *s != CollectorStatus::Collected)
    {
        CollectorStatus::Partial
    } else {
        CollectorStatus::Collected
    };

    // One entry per region that was worked on or called, with its calls and errors.
    let counts = counted.counts();
    let mut names: Vec<String> = region_status.keys().cloned().collect();
    names.extend(counts.iter().map(|(region, ..)| region.clone()));
    names.extend(
        errors
            .iter()
            .map(|e| e.region.clone())
            .filter(|r| !r.is_empty()),
    );
    names.sort();
    names.dedup();
    let regions = names
        .into_iter()
        .map(|region| {
            let (api_calls, api_retries) = counts
                .iter()
                .find(|(r, ..)| *r == region)
                .map_or((0, 0), |(_, calls, retries)| (*calls, *retries));
            let error_count = errors.iter().filter(|e| e.region == region).count();
            let status = region_status.get(&region).copied().unwrap_or(
                match (fatal.is_some(), error_count) {
                    (true, n) if n > 0 => CollectorStatus::Failed,
                    (_, 0) => CollectorStatus::Collected,
                    _ => CollectorStatus::Partial,
                },
            );
            RegionRecord {
                region,
                status,
                api_calls,
                api_retries,
                errors: error_count,
            }
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    CollectorRecord {
        id: spec.id.to_string(),
        title: spec.title.to_string(),
        controls: spec.controls.to_vec(),
        scope: spec.scope,
        status,
        api_calls: counts.iter().map(|(_, calls, _)| calls).sum(),
        api_retries: counts.iter().map(|(_, _, retries)| retries).sum(),
        duration_ms,
        errors,
        regions,
        files,
        notes,
    }
}

struct ManifestInput<'a> {
    config: &'a CollectConfig,
    identity: &'a Identity,
    regions: Vec<String>,
    records: Vec<CollectorRecord>,
    run_clients: &'a aws::CountedClients,
    /// The retry configuration the clients used.
    retry: Option<&'a aws_config::retry::RetryConfig>,
    started_at: chrono::DateTime<chrono::Utc>,
    finished_at: chrono::DateTime<chrono::Utc>,
    duration_ms: u64,
}

fn build_manifest(input: ManifestInput<'_>) -> Manifest {
    let ManifestInput {
        config,
        identity,
        regions,
        records,
        run_clients,
        retry,
        started_at,
        finished_at,
        duration_ms,
    } = input;
    let mut files: Vec<_> = records.iter().flat_map(|r| r.files.clone()).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));

    let mut controls = BTreeMap::new();
    for control in Control::ALL {
        let supporting: Vec<&CollectorRecord> = records
            .iter()
            .filter(|r| r.controls.contains(&control))
            .collect();
        if supporting.is_empty() {
            continue;
        }
        controls.insert(
            control.id().to_string(),
            ControlRecord {
                title: control.title().to_string(),
                collectors: supporting.iter().map(|r| r.id.clone()).collect(),
                files: supporting
                    .iter()
                    .flat_map(|r| r.files.iter().map(|f| f.path.clone()))
                    .collect(),
                findings: 0,
            },
        );
    }

    let aliases = records
        .iter()
        .find(|r| r.id == iam_account_summary::SPEC.id)
        .and_then(|r| r.notes.get(iam_account_summary::ALIASES_NOTE))
        .and_then(|v| serde_json::from_value(v.clone()).ok());

    let status = if records.iter().any(|r| r.status.is_gap()) {
        BundleStatus::Incomplete
    } else {
        BundleStatus::Complete
    };
    let rfc3339 =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Manifest {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        run: Run {
            id: run_id(started_at),
            started_at: rfc3339(started_at),
            finished_at: rfc3339(finished_at),
            duration_ms,
            api_calls: run_clients.counts().iter().map(|(_, c, _)| c).sum::<u64>()
                + records.iter().map(|r| r.api_calls).sum::<u64>(),
            api_retries: run_clients.counts().iter().map(|(_, _, r)| r).sum::<u64>()
                + records.iter().map(|r| r.api_retries).sum::<u64>(),
            options: RunOptions {
                profile: config.aws.profile.clone(),
                regions: config.regions.clone(),
                collectors: config.only.clone(),
                skipped: config.skip.clone(),
                endpoint_url: config.aws.endpoint_url.clone(),
                max_attempts: retry.map_or(1, |r| r.max_attempts()),
                retry_mode: retry
                    .map_or("standard", |r| retry::mode_name(r.mode()))
                    .to_string(),
                concurrency: config.concurrency,
            },
        },
        account: Account {
            id: identity.account_id.clone(),
            partition: identity.partition.clone(),
            caller_arn: identity.caller_arn.clone(),
            aliases,
        },
        regions,
        status,
        collectors: records,
        files,
        findings_summary: FindingsSummary {
            evaluated: false,
            critical: 0,
            high: 0,
            medium: 0,
            low: 0,
        },
        controls,
    }
}

/// A random run id in UUID v4 form, without another dependency: the standard library's
/// randomly keyed hasher mixed with the time and process id.
fn run_id(started_at: chrono::DateTime<chrono::Utc>) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut words = [0u64; 2];
    for (i, word) in words.iter_mut().enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_i64(started_at.timestamp_nanos_opt().unwrap_or_default());
        hasher.write_u32(std::process::id());
        hasher.write_usize(i);
        *word = hasher.finish();
    }
    let (a, b) = (words[0], words[1]);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_ids_look_like_uuid_v4_and_differ() {
        let t = chrono::Utc::now();
        let a = super::run_id(t);
        let b = super::run_id(t);
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
