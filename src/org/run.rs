//! `collect --org` (and `collect --account ... --role-name`): every selected account collected
//! into one org bundle.
//!
//! The caller's own account is collected with the caller's credentials; every other account
//! through sts:AssumeRole into its `--role-name` role. Accounts run side by side (at most
//! [`ACCOUNTS_AT_ONCE`]), and all of them share the one HTTP client and so the one
//! `--concurrency` bound on requests in flight. Each account's bundle is written into
//! `accounts/<id>/` as it finishes and dropped from memory. An account whose role cannot be
//! assumed (or whose run cannot identify it) is recorded with the call's error and the others
//! are collected; suspended and closed accounts are listed and not collected.

use std::collections::BTreeSet;
use std::time::Instant;

use aws_credential_types::provider::SharedCredentialsProvider;
use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::aws::{Clients, Identity};
use crate::bundle::files;
use crate::bundle::manifest::{BundleStatus, MANIFEST_FILE};
use crate::bundle::org_manifest::{
    account_dir, org_bundle_name, OrgAccountRecord, OrgIdentity, OrgManifest, OrgOptionsRecord,
    OrgRun, ShardRecord,
};
use crate::bundle::{BundlePaths, Staging};
use crate::config::{CollectConfig, OrgOptions};
use crate::contract::organization::{status, AccountRow, OrganizationFile};
use crate::error::{Error, ExitCode};
use crate::findings::{Finding, RuleOutcome};
use crate::interrupt::Stop;
use crate::run::{self, AccountStart};
use crate::sign;
use crate::vocab::{CallError, GLOBAL};

use super::build::{self, failed_account, OrgBuild};
use super::credentials::{self, Role, RoleProvider};
use super::listing::{self, OrgFacts};

/// How many accounts are collected at once. Requests are bounded by `--concurrency` whatever
/// this is; it bounds how many accounts' evidence is held in memory at once.
pub const ACCOUNTS_AT_ONCE: usize = 8;

/// The result of an org run (or `merge`) that wrote an org bundle.
#[derive(Debug)]
pub struct OrgOutcome {
    pub manifest: OrgManifest,
    pub paths: BundlePaths,
    pub findings: Vec<(String, Finding)>,
    pub rules: Vec<RuleOutcome>,
}

impl OrgOutcome {
    /// 3 when an account could not be collected (or its bundle is incomplete), 4 when complete
    /// but a finding is at or above `--fail-on`, else 0. For a bundle written by `report`, only
    /// `--fail-on` counts (its new bundle is always whole), as for a single bundle.
    pub fn exit_code(&self) -> ExitCode {
        let status = match self.manifest.derived_from {
            Some(_) => BundleStatus::Complete,
            None => self.manifest.status,
        };
        match status {
            BundleStatus::Incomplete => ExitCode::Incomplete,
            BundleStatus::Complete => match self.manifest.findings_summary.fail_on {
                Some(threshold) if self.manifest.findings_summary.at_least(threshold) > 0 => {
                    ExitCode::Findings
                }
                _ => ExitCode::Success,
            },
        }
    }
}

/// Loads the AWS configuration and runs the org collection.
pub async fn collect_org_until(config: &CollectConfig, stop: &Stop) -> Result<OrgOutcome, Error> {
    let clients = run::connect(config, stop).await?;
    collect_org_with_until(config, clients, stop).await
}

/// The org collection with the given clients (the caller's).
pub async fn collect_org_with_until(
    config: &CollectConfig,
    clients: Clients,
    stop: &Stop,
) -> Result<OrgOutcome, Error> {
    let options = config
        .org
        .clone()
        .ok_or_else(|| Error::Usage("an org run needs --org or --account".into()))?;
    let signer = run::open_signer(config, &clients, stop).await?;
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let run_clients = clients.counted();
    let caller = run::caller_identity(config, &run_clients, stop).await?;

    let mut facts = if options.from_organization {
        stop.guard(listing::list(&run_clients, &caller.account_id))
            .await??
    } else {
        accounts_only(&options, &caller)
    };
    let selected = select(&mut facts, &options)?;
    let identity_center = options
        .from_organization
        .then(|| identity_center_holder(&facts));

    let name = if let Some((k, n)) = options.shard {
        // A shard's name never collides with the merged bundle's.
        format!(
            "{}-shard-{k}-of-{n}",
            org_bundle_name(&facts.organization.id, started_at)
        )
    } else if options.from_organization {
        org_bundle_name(&facts.organization.id, started_at)
    } else {
        format!(
            "soc2-evidence-accounts-{}-{}",
            caller.account_id,
            started_at.format("%Y%m%dT%H%M%SZ")
        )
    };
    let staging = Staging::create(&config.out, &name)?;

    let progress = if config.progress {
        ProgressBar::with_draw_target(Some(selected.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{pos}/{len}] accounts done {wide_msg}")
            .expect("valid progress template"),
    );
    progress.enable_steady_tick(std::time::Duration::from_millis(120));

    let mut account_config = config.clone();
    account_config.progress = false;
    account_config.org = None;
    account_config.exceptions_as_of = Some(started_at.date_naive());
    let session = credentials::session_name(started_at);
    let sts = run_clients.sts();
    let context = AccountContext {
        config: &account_config,
        options: &options,
        clients: &clients,
        sts: &sts,
        caller: &caller,
        session: &session,
        root: staging.root(),
        stop,
        identity_center: identity_center.as_ref(),
    };
    let rows: Vec<AccountRow> = facts
        .accounts
        .iter()
        .filter(|a| selected.contains(&a.account_id))
        .cloned()
        .collect();
    let mut results: Vec<Result<Collected, Error>> = stream::iter(rows)
        .map(|row| {
            let context = &context;
            let progress = &progress;
            async move {
                let result = if stop.received().is_some() {
                    Err(Error::Interrupted {
                        signal: stop.received().expect("just checked"),
                        temporary: Some(context.root.to_path_buf()),
                    })
                } else {
                    one_account(context, &row).await
                };
                progress.inc(1);
                if let Ok(done) = &result {
                    progress.set_message(format!(
                        "{} {}",
                        done.record.account_id, done.record.collection_status
                    ));
                }
                result
            }
        })
        .buffer_unordered(ACCOUNTS_AT_ONCE)
        .collect()
        .await;
    progress.finish_and_clear();
    if let Some(signal) = stop.received() {
        return Err(Error::Interrupted {
            signal,
            temporary: Some(staging.root().to_path_buf()),
        });
    }
    if let Some(pos) = results.iter().position(Result::is_err) {
        return Err(results.swap_remove(pos).err().expect("is an error"));
    }
    let collected: Vec<Collected> = results.into_iter().map(|r| r.expect("no error")).collect();

    let mut api_calls: u64 = collected.iter().map(|c| c.api_calls).sum();
    let mut api_retries: u64 = collected.iter().map(|c| c.api_retries).sum();
    let accounts = records(&mut facts, collected);
    for (_, calls, retries) in run_clients.counts() {
        api_calls += calls;
        api_retries += retries;
    }
    let rfc3339 =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let built = build::write_org(OrgBuild {
        exceptions: config
            .exceptions
            .as_deref()
            .map(|file| crate::findings::exceptions::Judge {
                file,
                source: crate::findings::exceptions::Source::Run,
                as_of: started_at.date_naive(),
            }),
        root: staging.root(),
        facts: &facts,
        accounts,
        identity: OrgIdentity {
            id: facts.organization.id.clone(),
            management_account_id: facts.organization.management_account_id.clone(),
            collected_from: caller.account_id.clone(),
            caller_arn: caller.caller_arn.clone(),
            partition: caller.partition.clone(),
        },
        run: OrgRun {
            id: run::new_run_id(started_at),
            started_at: rfc3339(started_at),
            finished_at: rfc3339(chrono::Utc::now()),
            duration_ms: clock.elapsed().as_millis() as u64,
            api_calls,
            api_retries,
            options: options_record(config, &options),
        },
        shard: options
            .shard
            .map(|(index, count)| ShardRecord { index, count }),
        merged_from: Vec::new(),
        fail_on: config.fail_on,
    })?;
    let paths = sign::finish(staging, &built.manifest, signer.as_ref()).await?;
    Ok(OrgOutcome {
        manifest: built.manifest,
        paths,
        findings: built.findings,
        rules: built.rules,
    })
}

/// The org facts of a run without Organizations access: only the accounts asked for.
fn accounts_only(options: &OrgOptions, caller: &Identity) -> OrgFacts {
    OrgFacts {
        organization: OrganizationFile {
            collected_from: caller.account_id.clone(),
            accounts_only: true,
            ..OrganizationFile::default()
        },
        accounts: options
            .accounts
            .iter()
            .map(|id| AccountRow {
                account_id: id.clone(),
                ..AccountRow::default()
            })
            .collect(),
        ..OrgFacts::default()
    }
}

/// Marks every account that will not be collected with why (not active, left out, another
/// shard's) and returns the ids to collect. Names that are not in the organization are usage
/// errors: a typo must not silently shrink the population.
fn select(facts: &mut OrgFacts, options: &OrgOptions) -> Result<BTreeSet<String>, Error> {
    let known: BTreeSet<&str> = facts
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    let org = &facts.organization.id;
    for id in options.accounts.iter().chain(&options.skip_accounts) {
        if !known.contains(id.as_str()) {
            return Err(Error::Usage(format!(
                "account {id} is not an account of organization {org} (organizations:ListAccounts)\n  fix: check the id; `aws organizations list-accounts` lists them"
            )));
        }
    }
    let ous: BTreeSet<&str> = facts.ous.iter().map(|o| o.id.as_str()).collect();
    for ou in &options.ous {
        if !ous.contains(ou.as_str()) {
            return Err(Error::Usage(format!(
                "{ou} is not an OU or root of organization {org}\n  fix: check the id; `aws organizations list-organizational-units-for-parent --parent-id <root-id>` lists them"
            )));
        }
    }
    let mut in_scope = Vec::new();
    for account in &mut facts.accounts {
        let active = !options.from_organization || account.status == "ACTIVE";
        let chosen = (options.accounts.is_empty()
            || options.accounts.contains(&account.account_id))
            && !options.skip_accounts.contains(&account.account_id)
            && (options.ous.is_empty() || options.ous.iter().any(|ou| account.ou_ids.contains(ou)));
        account.collection_status = if !active {
            status::NOT_COLLECTED
        } else if !chosen {
            status::EXCLUDED
        } else {
            in_scope.push(account.account_id.clone());
            ""
        }
        .to_string();
    }
    in_scope.sort();
    let mut selected = BTreeSet::new();
    for (i, id) in in_scope.into_iter().enumerate() {
        let mine = match options.shard {
            Some((k, n)) => (i as u32) % n + 1 == k,
            None => true,
        };
        if mine {
            selected.insert(id);
        } else if let Some(row) = facts.accounts.iter_mut().find(|a| a.account_id == id) {
            row.collection_status = status::OTHER_SHARD.to_string();
        }
    }
    Ok(selected)
}

/// What one account's collection came to.
struct Collected {
    record: OrgAccountRecord,
    api_calls: u64,
    api_retries: u64,
}

struct AccountContext<'a> {
    config: &'a CollectConfig,
    options: &'a OrgOptions,
    clients: &'a Clients,
    sts: &'a aws_sdk_sts::Client,
    caller: &'a Identity,
    session: &'a str,
    root: &'a std::path::Path,
    stop: &'a Stop,
    /// The account that collects IAM Identity Center for the organization, and why it is that
    /// one; `None` without the organization's listing (then every account collects it).
    identity_center: Option<&'a (String, String)>,
}

/// The account holding the organization's IAM Identity Center instance, which alone collects
/// `identity-center` in an org run: the delegated administrator for `sso.amazonaws.com` when
/// the listing found one, else the management account (which can always read the instance).
/// When that account is not collected by this run or a sibling shard (an `--account`, `--skip-account`
/// or `--ou` selection left it out, or it is not active), the reason says so and how to include
/// it, since no other account can read the instance.
fn identity_center_holder(facts: &OrgFacts) -> (String, String) {
    let (holder, why) = match facts
        .delegated
        .iter()
        .find(|d| d.service_principal == "sso.amazonaws.com")
    {
        Some(admin) => (
            admin.account_id.clone(),
            "the delegated administrator for sso.amazonaws.com".to_string(),
        ),
        None => (
            facts.organization.management_account_id.clone(),
            "the management account".to_string(),
        ),
    };
    let covered = facts.accounts.iter().any(|a| {
        a.account_id == holder
            && (a.collection_status.is_empty() || a.collection_status == status::OTHER_SHARD)
    });
    let why = if covered {
        why
    } else {
        format!(
            "{why}; this run does not collect that account, so Identity Center is not in this \
             bundle: include it (`--account {holder}`) to collect it"
        )
    };
    (holder, why)
}

/// Why `account` does not collect `identity-center` in this org run, when it does not.
fn identity_center_elsewhere(holder: Option<&(String, String)>, account: &str) -> Option<String> {
    let (holder, why) = holder?;
    (holder != account).then(|| {
        format!(
            "IAM Identity Center is collected once for the organization, from account {holder} \
             ({why}), which holds the organization's instance"
        )
    })
}

fn failed(row: &AccountRow, error: CallError, api_calls: u64) -> Result<Collected, Error> {
    tracing::warn!(account = %row.account_id, error = %error, "account not collected");
    Ok(Collected {
        record: failed_account(row, error),
        api_calls,
        api_retries: 0,
    })
}

/// Collects one account into `accounts/<id>/`. Only a local failure (writing, an interruption)
/// is an `Err`; an AWS refusal is the account's recorded error.
async fn one_account(ctx: &AccountContext<'_>, row: &AccountRow) -> Result<Collected, Error> {
    let id = &row.account_id;
    let clients = if *id == ctx.caller.account_id {
        ctx.clients.clone()
    } else {
        let role = Role::new(
            &ctx.caller.partition,
            id,
            &ctx.options.role_name,
            ctx.session,
            ctx.options.external_id.as_deref(),
        );
        match ctx.stop.guard(credentials::assume(ctx.sts, &role)).await? {
            Ok(first) => {
                ctx.clients
                    .with_credentials(SharedCredentialsProvider::new(RoleProvider::new(
                        ctx.sts.clone(),
                        role,
                        first,
                    )))
            }
            Err(error) => return failed(row, error, 0),
        }
    };
    let run_clients = clients.counted();
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let counted = |run_clients: &crate::aws::CountedClients| -> u64 {
        run_clients.counts().iter().map(|(_, c, _)| c).sum()
    };
    let (identity, regions) = match run::identify(ctx.config, &run_clients, ctx.stop).await {
        Ok(found) => found,
        Err(Error::CallerIdentity { code, message, .. }) => {
            let error = CallError::new(GLOBAL, "GetCallerIdentity", code, message);
            return failed(row, error, counted(&run_clients));
        }
        Err(Error::Regions { code, message }) => {
            let error = CallError::new(GLOBAL, "DescribeRegions", code, message);
            return failed(row, error, counted(&run_clients));
        }
        Err(other) => return Err(other),
    };
    if identity.account_id != *id {
        let error = CallError::new(
            GLOBAL,
            "GetCallerIdentity",
            "WrongAccount",
            format!(
                "the credentials for account {id} belong to account {} ({}): nothing of it was collected",
                identity.account_id, identity.caller_arn
            ),
        );
        return failed(row, error, counted(&run_clients));
    }
    let dir_rel = account_dir(id);
    let dir = ctx.root.join(&dir_rel);
    let elsewhere_config;
    let config = match identity_center_elsewhere(ctx.identity_center, id) {
        Some(reason) => {
            let mut config = ctx.config.clone();
            let mut settings = (*config.settings).clone();
            settings.identity_center_elsewhere = Some(reason);
            config.settings = std::sync::Arc::new(settings);
            elsewhere_config = config;
            &elsewhere_config
        }
        None => ctx.config,
    };
    files::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
    let start = AccountStart {
        identity,
        regions,
        run_clients,
        started_at,
        clock,
    };
    let (manifest, _analysis) =
        run::collect_account(config, &clients, start, &dir, ctx.stop).await?;
    let mut bytes = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    bytes.push(b'\n');
    let written = files::write_file(&dir, MANIFEST_FILE, &bytes, None)?;
    Ok(Collected {
        record: OrgAccountRecord {
            account_id: id.clone(),
            name: row.name.clone(),
            status: row.status.clone(),
            collection_status: match manifest.status {
                BundleStatus::Complete => status::COLLECTED,
                BundleStatus::Incomplete => status::PARTIAL,
            }
            .to_string(),
            bundle: Some(dir_rel),
            manifest_sha256: Some(written.sha256),
            manifest_bytes: Some(written.bytes),
            error: None,
        },
        // The AssumeRole call is counted on the run's own STS client.
        api_calls: manifest.run.api_calls,
        api_retries: manifest.run.api_retries,
    })
}

/// Every account's record, in account order, and the accounts table updated with what the run
/// made of each.
fn records(facts: &mut OrgFacts, collected: Vec<Collected>) -> Vec<OrgAccountRecord> {
    let mut by_id: std::collections::BTreeMap<String, OrgAccountRecord> = collected
        .into_iter()
        .map(|c| (c.record.account_id.clone(), c.record))
        .collect();
    facts
        .accounts
        .iter_mut()
        .map(|row| {
            let record = by_id
                .remove(&row.account_id)
                .unwrap_or_else(|| OrgAccountRecord {
                    account_id: row.account_id.clone(),
                    name: row.name.clone(),
                    status: row.status.clone(),
                    collection_status: row.collection_status.clone(),
                    ..OrgAccountRecord::default()
                });
            row.collection_status = record.collection_status.clone();
            row.error = record
                .error
                .as_ref()
                .map(|e| format!("{}: {}: {}", e.operation, e.code, e.message))
                .unwrap_or_default();
            record
        })
        .collect()
}

fn options_record(config: &CollectConfig, options: &OrgOptions) -> OrgOptionsRecord {
    OrgOptionsRecord {
        org: options.from_organization,
        role_name: options.role_name.clone(),
        external_id: options.external_id.is_some(),
        accounts: options.accounts.clone(),
        skip_accounts: options.skip_accounts.clone(),
        ous: options.ous.clone(),
        regions: config.regions.clone(),
        collectors: config.only.clone(),
        skipped: config.skip.clone(),
        concurrency: config.concurrency,
        fail_on: config.fail_on,
        config: config.config_file.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::organization::DelegatedAdminRow;

    fn facts(delegated: &[(&str, &str)]) -> OrgFacts {
        OrgFacts {
            organization: OrganizationFile {
                management_account_id: "111111111111".into(),
                ..OrganizationFile::default()
            },
            delegated: delegated
                .iter()
                .map(|(account, service)| DelegatedAdminRow {
                    account_id: account.to_string(),
                    service_principal: service.to_string(),
                    ..DelegatedAdminRow::default()
                })
                .collect(),
            // Every account of the tests is collected by the run, but 555555555555, left out.
            accounts: [
                "111111111111",
                "222222222222",
                "444444444444",
                "555555555555",
            ]
            .iter()
            .map(|id| crate::contract::organization::AccountRow {
                account_id: id.to_string(),
                collection_status: if *id == "555555555555" {
                    status::EXCLUDED.to_string()
                } else {
                    String::new()
                },
                ..Default::default()
            })
            .collect(),
            ..OrgFacts::default()
        }
    }

    #[test]
    fn identity_center_is_collected_by_its_delegated_administrator_else_the_management_account() {
        let holder = identity_center_holder(&facts(&[("333333333333", "guardduty.amazonaws.com")]));
        assert_eq!(holder.0, "111111111111");
        assert_eq!(
            identity_center_elsewhere(Some(&holder), "111111111111"),
            None
        );
        assert_eq!(
            identity_center_elsewhere(Some(&holder), "222222222222").as_deref(),
            Some(
                "IAM Identity Center is collected once for the organization, from account \
                 111111111111 (the management account), which holds the organization's instance"
            )
        );
        let holder = identity_center_holder(&facts(&[
            ("333333333333", "guardduty.amazonaws.com"),
            ("444444444444", "sso.amazonaws.com"),
        ]));
        assert_eq!(holder.0, "444444444444");
        assert!(identity_center_elsewhere(Some(&holder), "111111111111")
            .unwrap()
            .contains("444444444444 (the delegated administrator for sso.amazonaws.com)"));
        assert_eq!(
            identity_center_elsewhere(Some(&holder), "444444444444"),
            None
        );
        // Without the organization's listing, every account collects it.
        assert_eq!(identity_center_elsewhere(None, "222222222222"), None);
        // A holder the selection left out: the other accounts say so and how to include it.
        let holder = identity_center_holder(&facts(&[("555555555555", "sso.amazonaws.com")]));
        let reason = identity_center_elsewhere(Some(&holder), "222222222222").unwrap();
        assert!(
            reason.contains("this run does not collect that account")
                && reason.contains("`--account 555555555555`"),
            "{reason}"
        );
    }
}
