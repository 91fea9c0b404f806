//! The library entry point: runs a whole `collect` and returns what happened, without touching
//! the terminal. `main` and the tests both call it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinSet;

use crate::aws::{self, Clients, Identity};
use crate::bundle::manifest::{
    Account, BundleStatus, CollectorRecord, ControlRecord, Manifest, RegionRecord, Run, RunOptions,
    TableCells, Tool, SCHEMA_VERSION, SPREADSHEET_SAFE,
};
use crate::bundle::{self, BundlePaths, Staging};
use crate::collectors::{iam_account_summary, Context};
use crate::config::CollectConfig;
use crate::controls::Control;
use crate::error::{Error, ExitCode};
use crate::evidence::{CollectError, Evidence, EvidenceParts};
use crate::findings::{self, Analysis};
use crate::interrupt::Stop;
use crate::registry::CollectorSpec;
use crate::retry;
use crate::sign::{self, Signer};
use crate::vocab::CallError;
use crate::vocab::{CollectorStatus, Scope};

/// The result of a `collect` (or `report`) that wrote a bundle.
#[derive(Debug)]
pub struct CollectOutcome {
    pub manifest: Manifest,
    pub paths: BundlePaths,
    pub analysis: Analysis,
}

impl CollectOutcome {
    /// 0 when complete, 3 when a collector (or collector/region) failed, 4 when complete but a
    /// finding is at or above `--fail-on` (3 wins over 4).
    pub fn exit_code(&self) -> ExitCode {
        match self.manifest.status {
            BundleStatus::Incomplete => ExitCode::Incomplete,
            BundleStatus::Complete => match self.manifest.findings_summary.fail_on {
                Some(threshold) if self.manifest.findings_summary.at_least(threshold) > 0 => {
                    ExitCode::Findings
                }
                _ => ExitCode::Success,
            },
        }
    }

    /// The exit code of `report`: its new bundle is always written whole, so only `--fail-on`
    /// matters (4), whatever the source's completeness (shown in the summary).
    pub fn report_exit_code(&self) -> ExitCode {
        match self.manifest.findings_summary.fail_on {
            Some(threshold) if self.manifest.findings_summary.at_least(threshold) > 0 => {
                ExitCode::Findings
            }
            _ => ExitCode::Success,
        }
    }
}

/// Loads the AWS configuration from the environment and runs `collect`.
pub async fn collect(config: &CollectConfig) -> Result<CollectOutcome, Error> {
    collect_until(config, &Stop::never()).await
}

/// Like [`collect`], but ends with [`Error::Interrupted`] as soon as `stop` fires (`main` passes
/// the SIGINT/SIGTERM request): the collectors are stopped, and once none of them can write any
/// more, the temporary bundle is removed. A stop that comes while the finished bundle is being
/// zipped and moved into place waits for that to end: the bundle is then complete.
pub async fn collect_until(config: &CollectConfig, stop: &Stop) -> Result<CollectOutcome, Error> {
    let clients = connect(config, stop).await?;
    collect_with_until(config, clients, stop).await
}

/// What every run does before its first AWS call that counts: checks the output directory and
/// the profile, resolves the retry settings, loads the SDK configuration and the credentials.
/// Local mistakes come first: they cost no AWS call and no waiting.
pub async fn connect(config: &CollectConfig, stop: &Stop) -> Result<Clients, Error> {
    bundle::writer::check_out_dir(&config.out)?;
    aws::check_profile(&config.aws).await?;
    let retry = retry::resolve(
        config.aws.max_attempts,
        &retry::from_environment(),
        &retry::from_profile(config.aws.profile.as_deref()).await,
    )?;
    let sdk = stop
        .guard(aws::load_sdk_config(&config.aws, &retry))
        .await?;
    // Resolve credentials once up front: a missing chain is a clear fatal error, not three
    // failed collectors.
    let Some(provider) = sdk.credentials_provider() else {
        return Err(Error::NoCredentials {
            detail: "no credential provider is configured".into(),
        });
    };
    use aws_credential_types::provider::ProvideCredentials;
    stop.guard(provider.provide_credentials())
        .await?
        .map_err(|e| Error::NoCredentials {
            detail: crate::error::chain(&e),
        })?;
    Ok(Clients::new(sdk, config.concurrency))
}

/// Runs `collect` with the given clients (tests pass clients with mocked responses).
pub async fn collect_with(
    config: &CollectConfig,
    clients: Clients,
) -> Result<CollectOutcome, Error> {
    collect_with_until(config, clients, &Stop::never()).await
}

/// [`collect_with`] that `stop` can interrupt, as [`collect_until`] describes.
pub async fn collect_with_until(
    config: &CollectConfig,
    clients: Clients,
    stop: &Stop,
) -> Result<CollectOutcome, Error> {
    let signer = open_signer(config, &clients, stop).await?;
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let run_clients = clients.counted();
    let (identity, regions) = identify(config, &run_clients, stop).await?;

    let name = bundle::bundle_name(&identity.account_id, started_at);
    // From here on, the temporary bundle exists; dropping `staging` removes it, on every path.
    let staging = Staging::create(&config.out, &name)?;
    let account = AccountStart {
        identity,
        regions,
        run_clients,
        started_at,
        clock,
    };
    let (manifest, analysis) =
        collect_account(config, &clients, account, staging.root(), stop).await?;
    let paths = sign::finish(staging, &manifest, signer.as_ref()).await?;
    Ok(CollectOutcome {
        manifest,
        paths,
        analysis,
    })
}

/// Opens the signer of `--sign-key`/`--sign-key-env`/`--sign-kms-key` before anything is
/// collected, so a wrong key or a missing KMS permission costs no collection.
pub async fn open_signer(
    config: &CollectConfig,
    clients: &Clients,
    stop: &Stop,
) -> Result<Option<Signer>, Error> {
    match &config.sign {
        Some(with) => Ok(Some(
            stop.guard(Signer::open(with, Some(clients.sdk_config())))
                .await??,
        )),
        None => Ok(None),
    }
}

/// What is known of an account once it is identified: who, which regions, since when.
pub struct AccountStart {
    pub identity: Identity,
    pub regions: Vec<String>,
    /// The clients the run's own calls (identification, regions) were counted on.
    pub run_clients: aws::CountedClients,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub clock: Instant,
}

/// Identifies the account behind `run_clients` (sts:GetCallerIdentity) and the regions to cover
/// in it.
pub async fn identify(
    config: &CollectConfig,
    run_clients: &aws::CountedClients,
    stop: &Stop,
) -> Result<(Identity, Vec<String>), Error> {
    let identity = caller_identity(config, run_clients, stop).await?;
    let regions = stop.guard(covered_regions(config, run_clients)).await??;
    tracing::info!(account = %identity.account_id, caller = %identity.caller_arn, "identified account");
    Ok((identity, regions))
}

/// Who the credentials of `run_clients` are (sts:GetCallerIdentity).
pub async fn caller_identity(
    config: &CollectConfig,
    run_clients: &aws::CountedClients,
    stop: &Stop,
) -> Result<Identity, Error> {
    let sts = run_clients.sts();
    let caller = stop
        .guard(sts.get_caller_identity().send())
        .await?
        .map_err(|e| {
            let err = CallError::from_sdk("", "GetCallerIdentity", &e);
            Error::CallerIdentity {
                code: err.code,
                message: err.message,
                region: run_clients.home_region(),
                endpoint: config
                    .aws
                    .endpoint_url
                    .clone()
                    .unwrap_or_else(|| "AWS".to_string()),
            }
        })?;
    Ok(Identity::new(
        caller.account().unwrap_or_default().to_string(),
        caller.arn().unwrap_or_default().to_string(),
    ))
}

/// Collects one identified account into `root` (an existing, empty directory): its evidence,
/// findings, access review and `index.html`. Returns the manifest, which the caller writes
/// (with the zip for a bundle of its own; as is inside an org bundle).
pub async fn collect_account(
    config: &CollectConfig,
    clients: &Clients,
    account: AccountStart,
    root: &std::path::Path,
    stop: &Stop,
) -> Result<(Manifest, Analysis), Error> {
    let AccountStart {
        identity,
        regions,
        run_clients,
        started_at,
        clock,
    } = account;
    let records = run_collectors(config, clients, &identity, &regions, root, stop).await?;
    if let Some(signal) = stop.received() {
        return Err(Error::Interrupted {
            signal,
            temporary: Some(root.to_path_buf()),
        });
    }

    // Findings: a pure function of the evidence just written and the collectors' states.
    let input = findings::Input::new(
        root,
        identity.account_id.clone(),
        identity.partition.clone(),
        started_at,
        regions.clone(),
        records.iter().map(collector_state).collect(),
        config.thresholds,
    )
    .with_policy(config.documented.clone(), config.trusted_accounts.clone());
    let mut analysis = findings::analyze(&input);
    if let Some(file) = &config.exceptions {
        analysis.accept(
            findings::exceptions::Judge {
                file,
                source: findings::exceptions::Source::Run,
                as_of: config
                    .exceptions_as_of
                    .unwrap_or_else(|| started_at.date_naive()),
            },
            &identity.account_id,
        );
    }
    let analysis_files = findings::write::write_findings(root, &analysis)?;

    let finished_at = chrono::Utc::now();
    let mut manifest = build_manifest(ManifestInput {
        config,
        identity: &identity,
        regions,
        records,
        run_clients: &run_clients,
        retry: clients.sdk_config().retry_config(),
        started_at,
        finished_at,
        duration_ms: clock.elapsed().as_millis() as u64,
        analysis: &analysis,
        analysis_files,
    });
    let index = findings::write::write_index(root, &manifest, &analysis)?;
    add_file(&mut manifest, index);
    Ok((manifest, analysis))
}

/// What the run options record of a documented policy: its copy's path and SHA-256.
pub(crate) fn documented_record(bytes: &[u8]) -> crate::bundle::manifest::ConfigRecord {
    crate::bundle::manifest::ConfigRecord {
        path: findings::documented::DOCUMENTED_TOML.to_string(),
        sha256: crate::bundle::files::sha256_hex(bytes),
    }
}

/// A collector's state as the findings stage reads it.
pub(crate) fn collector_state(record: &CollectorRecord) -> findings::input::CollectorState {
    findings::input::CollectorState {
        id: record.id.clone(),
        status: record.status,
        errors: record.errors.clone(),
        regions: record
            .regions
            .iter()
            .map(|r| findings::input::RegionState {
                region: r.region.clone(),
                status: r.status,
            })
            .collect(),
    }
}

/// Adds a file written after the manifest was built (`index.html`) to its file list.
pub(crate) fn add_file(manifest: &mut Manifest, file: crate::bundle::files::FileRecord) {
    manifest.files.push(file);
    manifest.files.sort_by(|a, b| a.path.cmp(&b.path));
}

/// The regions to cover: those asked for, else the account's enabled regions
/// (ec2:DescribeRegions without AllRegions, keeping opted-in and opt-in-not-required ones).
pub async fn covered_regions(
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
    root: &std::path::Path,
    stop: &Stop,
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
        let root = root.to_path_buf();
        let handle = tasks.spawn(async move {
            let clock = Instant::now();
            let mut evidence = Evidence::new(root, spec.id);
            let result = (spec.run)(&ctx, &mut evidence).await;
            (result, evidence, ctx.clients, clock.elapsed())
        });
        task_specs.insert(handle.id(), spec);
    }

    let mut records = Vec::new();
    loop {
        let joined = tokio::select! {
            biased;
            signal = stop.wait() => {
                stop_all(&mut tasks).await;
                progress.finish_and_clear();
                return Err(Error::Interrupted {
                    signal,
                    temporary: Some(root.to_path_buf()),
                });
            }
            joined = tasks.join_next_with_id() => match joined {
                Some(joined) => joined,
                None => break,
            },
        };
        let (spec, result) = match joined {
            Ok((id, output)) => (task_specs[&id], Ok(output)),
            Err(join_error) => (task_specs[&join_error.id()], Err(join_error)),
        };
        let record = match result {
            Ok((Err(CollectError::Write(err)), ..)) => {
                stop_all(&mut tasks).await;
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

/// Aborts every collector and waits until each has stopped, so that none can still write into
/// the temporary bundle while it is being removed (an abort takes effect at the task's next
/// await, not in the middle of a write).
async fn stop_all<T: 'static>(tasks: &mut JoinSet<T>) {
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
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
    let status = if let Some(CollectError::Skipped(_)) = &fatal {
        CollectorStatus::Skipped
    } else if fatal.is_some() {
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
    analysis: &'a Analysis,
    /// The files the findings stage wrote (findings, rules, access review).
    analysis_files: Vec<crate::bundle::files::FileRecord>,
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
        analysis,
        analysis_files,
    } = input;
    let mut files: Vec<_> = records.iter().flat_map(|r| r.files.clone()).collect();
    files.extend(analysis_files);
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
                findings: analysis.count_for_control(control.id()) as u64,
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
                thresholds: config.thresholds,
                fail_on: config.fail_on,
                config: config.config_file.clone(),
                documented_policy: config
                    .documented
                    .as_ref()
                    .map(|d| documented_record(&d.bytes)),
                trusted_accounts: config.trusted_accounts.clone(),
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
        findings_summary: analysis.summary(config.fail_on),
        controls,
        derived_from: None,
        table_cells: Some(table_cells(&[])),
    }
}

/// What the manifest says of the tables' cells: spreadsheet-safe, but for AWS's own files of the
/// contract and the tables listed in `as_written` (kept as an older bundle wrote them).
pub fn table_cells(as_written: &[String]) -> TableCells {
    let mut kept: Vec<String> = crate::contract::files()
        .into_iter()
        .filter(|file| file.as_received)
        .map(|file| file.path.to_string())
        .chain(as_written.iter().cloned())
        .collect();
    kept.sort();
    kept.dedup();
    TableCells {
        encoding: SPREADSHEET_SAFE.to_string(),
        rule: crate::contract::cell::SPREADSHEET_SAFE_RULE.to_string(),
        as_written: kept,
    }
}

/// A new random run id (UUID v4 form).
pub fn new_run_id(started_at: chrono::DateTime<chrono::Utc>) -> String {
    run_id(started_at)
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
