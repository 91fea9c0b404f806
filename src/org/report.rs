//! `report` of an org bundle: every account bundle derived again like a single bundle (into
//! `accounts/<id>/` of the new org bundle), then the org rules, the org findings, access review,
//! `index.html` and manifest built again by the code of `collect --org`. No AWS call.

use crate::bundle::files;
use crate::bundle::manifest::{DerivedFrom, MANIFEST_FILE};
use crate::bundle::org_manifest::{account_dir, OrgManifest, ORG_KIND};
use crate::error::Error;
use crate::findings::exceptions::{Judge, Source};
use crate::report::{self, ReportConfig, SourceBundle};
use crate::run::CollectOutcome;
use crate::sign;

use super::build::{self, OrgBuild};
use super::merge::read_facts;
use super::run::OrgOutcome;

/// What `report` wrote: a single bundle, or an org bundle.
#[derive(Debug)]
pub enum ReportOutcome {
    Account(Box<CollectOutcome>),
    Org(Box<OrgOutcome>),
}

/// `report` of any bundle: the source is opened and verified once, then derived as what it is.
pub fn report(config: &ReportConfig) -> Result<ReportOutcome, Error> {
    let source = SourceBundle::open(&config.bundle)?;
    let is_org = serde_json::from_slice::<serde_json::Value>(source.manifest_bytes())
        .ok()
        .and_then(|m| {
            m.get("kind")
                .and_then(|k| k.as_str())
                .map(|k| k == ORG_KIND)
        })
        .unwrap_or(false);
    if is_org {
        report_org(source, config).map(|o| ReportOutcome::Org(Box::new(o)))
    } else {
        report::report_source(source, config).map(|o| ReportOutcome::Account(Box::new(o)))
    }
}

fn report_org(mut source: SourceBundle, config: &ReportConfig) -> Result<OrgOutcome, Error> {
    let failed = |reason: String| Error::Report {
        path: config.bundle.clone(),
        reason,
    };
    let mut org: OrgManifest = serde_json::from_slice(source.manifest_bytes()).map_err(|e| {
        failed(format!(
            "its {MANIFEST_FILE} is not an org manifest this version can analyse: {e}"
        ))
    })?;
    let (staging, reported_at) = report::report_staging(config, &source)?;
    let name = source.name().to_string();
    // The org run judged every account on its own start date; so does its report.
    let as_of = chrono::DateTime::parse_from_rfc3339(&org.run.started_at)
        .map(|t| t.with_timezone(&chrono::Utc).date_naive())
        .map_err(|e| failed(format!("its run.started_at is not a time: {e}")))?;
    let recorded = match &config.exceptions {
        Some(_) => None,
        None => source.recorded_exceptions("")?,
    };
    let exceptions = match (&config.exceptions, &recorded) {
        (Some(given), _) => Some((given, Source::Given)),
        (None, Some(recorded)) => Some((recorded, Source::Bundle)),
        (None, None) => None,
    };
    for account in &mut org.accounts {
        let Some(dir) = account.bundle.clone() else {
            continue;
        };
        if dir != account_dir(&account.account_id) {
            return Err(failed(format!(
                "its manifest puts account {} in {dir}",
                account.account_id
            )));
        }
        let root = staging.root().join(&dir);
        files::create_dir_all(&root).map_err(|e| Error::write(&root, e))?;
        let (manifest, _analysis) = report::derive_account(
            &mut source,
            &format!("{dir}/"),
            &root,
            config,
            &name,
            reported_at,
            exceptions.map(|(file, source)| report::Recorded {
                file,
                source,
                as_of: Some(as_of),
            }),
        )?;
        let mut bytes = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
        bytes.push(b'\n');
        let written = files::write_file(&root, MANIFEST_FILE, &bytes, None)?;
        account.manifest_sha256 = Some(written.sha256);
        account.manifest_bytes = Some(written.bytes);
    }
    let mut facts = read_facts(&mut source)?;
    facts.errors = org.errors.clone();
    source.check_unchanged()?;
    let mut run = org.run.clone();
    run.options.fail_on = config.fail_on;
    run.options.config = config.config_file.clone();
    let built = build::write_org(OrgBuild {
        root: staging.root(),
        facts: &facts,
        accounts: org.accounts.clone(),
        identity: org.organization.clone(),
        run,
        shard: org.shard,
        merged_from: org.merged_from.clone(),
        fail_on: config.fail_on,
        exceptions: exceptions.map(|(file, source)| Judge {
            file,
            source,
            as_of,
        }),
    })?;
    let mut manifest = built.manifest;
    manifest.derived_from = Some(DerivedFrom {
        bundle: name,
        run_id: org.run.id.clone(),
        manifest_sha256: files::sha256_hex(source.manifest_bytes()),
        reported_at: reported_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source_tool_version: org.tool.version.clone(),
    });
    let paths = sign::finish_blocking(staging, &manifest, config.signer.as_deref())?;
    Ok(OrgOutcome {
        manifest,
        paths,
        findings: built.findings,
        rules: built.rules,
    })
}
