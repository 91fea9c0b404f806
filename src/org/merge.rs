//! `merge`: joins the shards of one `collect --org --shard K/N` run into one org bundle, and
//! fills accounts an org bundle could not collect with single-account bundles.
//!
//! Every input is opened once and verified from that handle (nested account bundles included);
//! one that is not intact is refused. The org inputs are either the shards of one run (one
//! organization and one shard count, each K exactly once, the same accounts) or one whole org
//! bundle. A single-account bundle (say, of an account whose role could not be assumed, collected
//! afterwards with that account's own credentials) fills its account when the account is in the
//! organization's list and no org input holds a bundle of it. No account may have two bundles. The org bundle holds every shard's account bundles byte for byte, the organization
//! as shard 1 listed it, each account's collection status from the shard that collected it,
//! and the org's findings, access review, `index.html` and manifest built by the same code as
//! a single `collect --org` run. Nothing is written on refusal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::bundle::files::{self, FileRecord};
use crate::bundle::manifest::{BundleStatus, Manifest, MANIFEST_FILE};
use crate::bundle::org_manifest::{
    account_dir, org_bundle_name, MergedFrom, OrgAccountRecord, OrgManifest, OrgRun, ORG_KIND,
};
use crate::bundle::Staging;
use crate::contract::organization::{
    status, AccountRow, DelegatedAdminRow, OrganizationFile, OuRow, PoliciesFile,
};
use crate::contract::{parse, parse_document, Document, Table};
use crate::error::Error;
use crate::report::SourceBundle;
use crate::sign::{self, Signer};
use crate::vocab::Severity;

use super::build::{self, OrgBuild};
use super::listing::OrgFacts;
use super::run::OrgOutcome;

/// What `merge` is asked to do.
#[derive(Debug, Clone)]
pub struct MergeConfig {
    pub shards: Vec<PathBuf>,
    pub out: PathBuf,
    pub fail_on: Option<Severity>,
    /// Signs the org bundle's manifest when set; an input's signature is never carried over.
    pub signer: Option<std::sync::Arc<Signer>>,
    /// The config file the options came from, recorded in the run options.
    pub config_file: Option<crate::bundle::manifest::ConfigRecord>,
}

struct Shard {
    source: SourceBundle,
    manifest: OrgManifest,
    index: u32,
}

fn refuse(path: &Path, reason: impl Into<String>) -> Error {
    Error::Merge {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Reads the organization files of a verified org bundle.
pub fn read_facts(source: &mut SourceBundle) -> Result<OrgFacts, Error> {
    let path = source.path().to_path_buf();
    let mut bytes_of = |rel: &str| -> Result<Vec<u8>, Error> {
        let record = source
            .files()
            .iter()
            .find(|f| f.path == rel)
            .cloned()
            .ok_or_else(|| refuse(&path, format!("it has no {rel}")))?;
        source.read_file(&record)
    };
    let bad = |rel: &str, e: String| refuse(&path, format!("{rel}: {e}"));
    let organization: OrganizationFile = parse_document(&bytes_of(OrganizationFile::PATH)?)
        .map_err(|e| bad(OrganizationFile::PATH, e))?;
    let accounts: Vec<AccountRow> =
        parse(&bytes_of(AccountRow::PATH)?).map_err(|e| bad(AccountRow::PATH, e))?;
    let ous: Vec<OuRow> = parse(&bytes_of(OuRow::PATH)?).map_err(|e| bad(OuRow::PATH, e))?;
    let policies: PoliciesFile =
        parse_document(&bytes_of(PoliciesFile::PATH)?).map_err(|e| bad(PoliciesFile::PATH, e))?;
    let delegated: Vec<DelegatedAdminRow> =
        parse(&bytes_of(DelegatedAdminRow::PATH)?).map_err(|e| bad(DelegatedAdminRow::PATH, e))?;
    Ok(OrgFacts {
        organization,
        accounts,
        ous,
        policies: policies.policies,
        delegated,
        errors: Vec::new(),
    })
}

pub fn merge(config: &MergeConfig) -> Result<OrgOutcome, Error> {
    let mut given = BTreeSet::new();
    for path in &config.shards {
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if !given.insert(key) {
            return Err(refuse(path, "it is given twice"));
        }
    }
    crate::bundle::writer::check_out_dir(&config.out)?;
    let mut shards = Vec::new();
    let mut singles: Vec<(SourceBundle, Manifest)> = Vec::new();
    for path in &config.shards {
        let source = SourceBundle::open(path)?;
        let kind = serde_json::from_slice::<serde_json::Value>(source.manifest_bytes())
            .ok()
            .and_then(|m| m.get("kind").and_then(|k| k.as_str()).map(str::to_string));
        if kind.as_deref() == Some(ORG_KIND) {
            let manifest: OrgManifest =
                serde_json::from_slice(source.manifest_bytes()).map_err(|e| {
                    refuse(
                        path,
                        format!("its org manifest cannot be read by this version: {e}"),
                    )
                })?;
            shards.push(Shard {
                source,
                index: manifest.shard.map_or(0, |s| s.index),
                manifest,
            });
        } else {
            let manifest: Manifest =
                serde_json::from_slice(source.manifest_bytes()).map_err(|e| {
                    refuse(
                        path,
                        format!("its manifest cannot be read by this version: {e}"),
                    )
                })?;
            singles.push((source, manifest));
        }
    }
    let Some(whole_or_first) = shards.first() else {
        return Err(refuse(
            &config.shards[0],
            "no org bundle among the inputs: merge needs the shards of `collect --org --shard K/N` \
             (or one org bundle), whose organization/ folder lists the accounts; single-account \
             bundles only fill accounts they did not collect",
        ));
    };
    if let Some(whole) = shards.iter().find(|s| s.manifest.shard.is_none()) {
        if shards.len() > 1 {
            return Err(refuse(
                whole.source.path(),
                "it is a whole org bundle (written without --shard K/N): merge takes either the \
                 shards of one run or one org bundle, with single-account bundles for the \
                 accounts it could not collect",
            ));
        }
    }
    let _ = whole_or_first;
    let whole = shards.iter().any(|s| s.manifest.shard.is_none());
    shards.sort_by_key(|s| s.index);

    // One organization, one shard count, each K once, the same accounts.
    let first = &shards[0];
    let org_id = first.manifest.organization.id.clone();
    let count = first.manifest.shard.map_or(1, |s| s.count);
    let mut indices = BTreeMap::new();
    for shard in &shards {
        let path = shard.source.path();
        if shard.manifest.organization.id != org_id
            || shard.manifest.organization.collected_from
                != first.manifest.organization.collected_from
        {
            return Err(refuse(
                path,
                format!(
                    "it is of organization {} (collected from {}), {} of {} (collected from {}): \
                     shards of different organizations or runs are never merged",
                    shard.manifest.organization.id,
                    shard.manifest.organization.collected_from,
                    first.source.path().display(),
                    org_id,
                    first.manifest.organization.collected_from
                ),
            ));
        }
        let Some(this) = shard.manifest.shard else {
            continue;
        };
        if this.count != count {
            return Err(refuse(
                path,
                format!(
                    "it is shard {}/{}, but {} is a shard of {count}",
                    this.index,
                    this.count,
                    first.source.path().display()
                ),
            ));
        }
        if let Some(other) = indices.insert(this.index, path.to_path_buf()) {
            return Err(refuse(
                path,
                format!(
                    "it is shard {}/{count}, like {}",
                    this.index,
                    other.display()
                ),
            ));
        }
    }
    if !whole {
        if let Some(missing) = (1..=count).find(|k| !indices.contains_key(k)) {
            return Err(refuse(
                &config.shards[0],
                format!("shard {missing}/{count} is not among the inputs: an org bundle holds every shard"),
            ));
        }
    }
    let ids = |m: &OrgManifest| -> BTreeSet<String> {
        m.accounts.iter().map(|a| a.account_id.clone()).collect()
    };
    let population = ids(&first.manifest);
    for shard in &shards[1..] {
        if ids(&shard.manifest) != population {
            return Err(refuse(
                shard.source.path(),
                format!(
                    "it lists other accounts than {}: the shards were not written by one run over one organization",
                    first.source.path().display()
                ),
            ));
        }
    }
    // No account collected (or attempted) by two shards.
    let mut owner: BTreeMap<String, (usize, OrgAccountRecord)> = BTreeMap::new();
    for (i, shard) in shards.iter().enumerate() {
        for account in &shard.manifest.accounts {
            let attempted = matches!(
                account.collection_status.as_str(),
                status::COLLECTED | status::PARTIAL | status::FAILED
            ) || account.bundle.is_some();
            if !attempted {
                continue;
            }
            if let Some((j, _)) = owner.get(&account.account_id) {
                return Err(refuse(
                    shard.source.path(),
                    format!(
                        "account {} is in it and in {}: shards never overlap",
                        account.account_id,
                        shards[*j].source.path().display()
                    ),
                ));
            }
            owner.insert(account.account_id.clone(), (i, account.clone()));
        }
    }

    // Single-account bundles fill accounts of the population that no org input collected.
    let mut filled: BTreeMap<String, usize> = BTreeMap::new();
    for (i, (source, manifest)) in singles.iter().enumerate() {
        let id = &manifest.account.id;
        let path = source.path();
        if !population.contains(id) {
            return Err(refuse(
                path,
                format!(
                    "it is a bundle of account {id}, which is not an account of {}",
                    first.source.path().display()
                ),
            ));
        }
        if let Some((j, record)) = owner.get(id) {
            if record.bundle.is_some() {
                return Err(refuse(
                    path,
                    format!(
                        "account {id} is already collected in {}: shards never overlap",
                        shards[*j].source.path().display()
                    ),
                ));
            }
        }
        if let Some(j) = filled.insert(id.clone(), i) {
            return Err(refuse(
                path,
                format!(
                    "it is a second bundle of account {id}, like {}",
                    singles[j].0.path().display()
                ),
            ));
        }
    }

    // The bundle takes the time of the earliest shard.
    let started = shards
        .iter()
        .filter_map(|s| chrono::DateTime::parse_from_rfc3339(&s.manifest.run.started_at).ok())
        .min()
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(chrono::Utc::now);
    let finished = shards
        .iter()
        .map(|s| s.manifest.run.finished_at.clone())
        .max()
        .unwrap_or_default();
    let name = if whole {
        // Never the name of the org bundle it completes.
        format!(
            "{}-merged-{}",
            org_bundle_name(
                if org_id.is_empty() {
                    "accounts"
                } else {
                    &org_id
                },
                started
            ),
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        )
    } else if org_id.is_empty() {
        format!(
            "soc2-evidence-accounts-{}-{}",
            first.manifest.organization.collected_from,
            started.format("%Y%m%dT%H%M%SZ")
        )
    } else {
        org_bundle_name(&org_id, started)
    };
    // The shards' exceptions file, the same in every shard, is judged again on the merged
    // bundle's start date over the union (the account bundles are kept as they were written).
    let mut recorded = Vec::with_capacity(shards.len());
    for shard in shards.iter_mut() {
        recorded.push(shard.source.recorded_exceptions("")?);
    }
    if let Some(i) = recorded.iter().position(|r| r != &recorded[0]) {
        return Err(refuse(
            shards[i].source.path(),
            format!(
                "it was collected with another exceptions file than {} (or without one): collect \
                 every shard with the same --exceptions",
                shards[0].source.path().display()
            ),
        ));
    }
    let exceptions = recorded.swap_remove(0);
    let first_manifest = shards[0].manifest.clone();
    let first_path = shards[0].source.path().to_path_buf();
    let mut facts = read_facts(&mut shards[0].source)?;
    // The accounts table and the manifest must name the same accounts: the table decides what
    // the merged bundle lists, the manifests which account folders it holds.
    let listed: BTreeSet<String> = facts
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    if listed != population {
        return Err(refuse(
            &first_path,
            "its organization/accounts.csv and its manifest name different accounts: the bundle was edited",
        ));
    }
    let staging = Staging::create(&config.out, &name)?;

    // Every shard's account bundles, byte for byte from the verified handles.
    for shard in &mut shards {
        let dirs: BTreeSet<String> = shard
            .manifest
            .accounts
            .iter()
            .filter_map(|a| a.bundle.clone())
            .collect();
        let records: Vec<FileRecord> = shard
            .source
            .files()
            .iter()
            .filter(|f| dirs.iter().any(|d| f.path.starts_with(&format!("{d}/"))))
            .cloned()
            .collect();
        for record in &records {
            shard.source.copy_file(record, staging.root())?;
        }
        shard.source.check_unchanged()?;
        facts.errors.extend(shard.manifest.errors.iter().cloned());
    }

    // Each single-account bundle, byte for byte, manifest included (its hash is chained as is).
    let mut single_records: BTreeMap<String, OrgAccountRecord> = BTreeMap::new();
    for (source, manifest) in &mut singles {
        let id = manifest.account.id.clone();
        let dir = account_dir(&id);
        for record in source.files().to_vec() {
            source.copy_file_as(&record, staging.root(), &format!("{dir}/{}", record.path))?;
        }
        let written = files::write_file(
            staging.root(),
            &format!("{dir}/{MANIFEST_FILE}"),
            source.manifest_bytes(),
            None,
        )?;
        source.check_unchanged()?;
        single_records.insert(
            id.clone(),
            OrgAccountRecord {
                account_id: id,
                collection_status: match manifest.status {
                    BundleStatus::Complete => status::COLLECTED,
                    BundleStatus::Incomplete => status::PARTIAL,
                }
                .to_string(),
                bundle: Some(dir),
                manifest_sha256: Some(written.sha256),
                manifest_bytes: Some(written.bytes),
                ..OrgAccountRecord::default()
            },
        );
    }

    // Each account as the shard that collected it recorded it.
    let mut accounts = Vec::new();
    for row in &mut facts.accounts {
        let filled = single_records
            .remove(&row.account_id)
            .map(|record| OrgAccountRecord {
                name: row.name.clone(),
                status: row.status.clone(),
                ..record
            });
        let record = match (filled, owner.get(&row.account_id)) {
            (Some(record), _) => record,
            (None, Some((_, record))) => {
                if let Some(dir) = &record.bundle {
                    if *dir != account_dir(&row.account_id) {
                        return Err(refuse(
                            &first_path,
                            format!("account {} has its bundle in {dir}", row.account_id),
                        ));
                    }
                }
                record.clone()
            }
            (None, None) => first_manifest
                .accounts
                .iter()
                .find(|a| a.account_id == row.account_id)
                .cloned()
                .unwrap_or_default(),
        };
        row.collection_status = record.collection_status.clone();
        row.error = record
            .error
            .as_ref()
            .map(|e| format!("{}: {}: {}", e.operation, e.code, e.message))
            .unwrap_or_default();
        accounts.push(record);
    }

    let merged_from = shards
        .iter()
        .map(|s| MergedFrom {
            bundle: s.source.name().to_string(),
            run_id: s.manifest.run.id.clone(),
            manifest_sha256: files::sha256_hex(s.source.manifest_bytes()),
            shard: s.manifest.shard,
        })
        .chain(singles.iter().map(|(source, manifest)| MergedFrom {
            bundle: source.name().to_string(),
            run_id: manifest.run.id.clone(),
            manifest_sha256: files::sha256_hex(source.manifest_bytes()),
            shard: None,
        }))
        .collect();
    let mut options = first_manifest.run.options.clone();
    options.fail_on = config.fail_on;
    options.config = config.config_file.clone();
    let built = build::write_org(OrgBuild {
        root: staging.root(),
        facts: &facts,
        accounts,
        identity: first_manifest.organization.clone(),
        run: OrgRun {
            id: crate::run::new_run_id(chrono::Utc::now()),
            started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            finished_at: finished,
            duration_ms: shards
                .iter()
                .map(|s| s.manifest.run.duration_ms)
                .max()
                .unwrap_or(0),
            api_calls: shards.iter().map(|s| s.manifest.run.api_calls).sum::<u64>()
                + singles.iter().map(|(_, m)| m.run.api_calls).sum::<u64>(),
            api_retries: shards
                .iter()
                .map(|s| s.manifest.run.api_retries)
                .sum::<u64>()
                + singles.iter().map(|(_, m)| m.run.api_retries).sum::<u64>(),
            options,
        },
        shard: None,
        merged_from,
        fail_on: config.fail_on,
        exceptions: exceptions
            .as_ref()
            .map(|file| crate::findings::exceptions::Judge {
                file,
                source: crate::findings::exceptions::Source::Run,
                as_of: started.date_naive(),
            }),
    })?;
    let paths = sign::finish_blocking(staging, &built.manifest, config.signer.as_deref())?;
    Ok(OrgOutcome {
        manifest: built.manifest,
        paths,
        findings: built.findings,
        rules: built.rules,
    })
}
