//! Configuration: what the parsed arguments mean, as plain values the run works from.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::aws::AwsSettings;
use crate::cli::CollectArgs;
use crate::collectors::CollectorSettings;
use crate::error::Error;
use crate::findings::documented::{self, DocumentedPolicy};
use crate::findings::exceptions::{self, ExceptionsFile};
use crate::registry::{self, CollectorSpec};
use crate::sign::SignWith;
use crate::vocab::{Severity, Thresholds};

/// Everything `collect` needs to know.
#[derive(Debug, Clone)]
pub struct CollectConfig {
    pub aws: AwsSettings,
    /// Regions asked for with --region (empty: the configured region).
    pub regions: Vec<String>,
    pub out: PathBuf,
    pub collectors: Vec<&'static CollectorSpec>,
    /// The ids asked for and skipped, as given, for the manifest.
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub concurrency: usize,
    pub settings: Arc<CollectorSettings>,
    /// Show a progress display on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
    /// The thresholds of the time-based findings rules.
    pub thresholds: Thresholds,
    /// Findings at or above this severity make a complete run exit with status 4.
    pub fail_on: Option<Severity>,
    /// Set for `--org` and for `--account ... --role-name`: many accounts, one org bundle.
    pub org: Option<OrgOptions>,
    /// The key that signs the manifest (README "Signing"), if any.
    pub sign: Option<SignWith>,
    /// Accepted risks (`--exceptions`), parsed before anything is collected.
    pub exceptions: Option<Arc<ExceptionsFile>>,
    /// The date exceptions are judged on, when not the account run's own start: an org run
    /// judges every account on the org run's start date.
    pub exceptions_as_of: Option<chrono::NaiveDate>,
    /// The config file the options came from, recorded in the manifest.
    pub config_file: Option<crate::bundle::manifest::ConfigRecord>,
    /// The company's documented requirements (`--documented-policy`); `thresholds` already
    /// holds its limits.
    pub documented: Option<Arc<DocumentedPolicy>>,
    /// `--trusted-account` and the documented policy's trusted accounts, sorted.
    pub trusted_accounts: Vec<String>,
}

/// What `collect` is told about the accounts of an org run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgOptions {
    /// `--org`: list the accounts with AWS Organizations. False: only the `--account` list.
    pub from_organization: bool,
    pub role_name: String,
    pub external_id: Option<String>,
    pub accounts: Vec<String>,
    pub skip_accounts: Vec<String>,
    pub ous: Vec<String>,
    /// (K, N), 1-based.
    pub shard: Option<(u32, u32)>,
}

impl CollectConfig {
    pub fn from_args(args: &CollectArgs, quiet: bool) -> Self {
        let mut settings = CollectorSettings::default();
        settings.credential_report.deadline = Duration::from_secs(args.credential_report_timeout);
        settings.lookback_days = args.lookback_days;
        settings.log_validation.hours = args.validation_hours;
        settings.log_validation.sample = args.validation_sample;
        CollectConfig {
            aws: AwsSettings {
                profile: args.profile.clone(),
                home_region: args.regions.first().cloned(),
                endpoint_url: args.endpoint_url.clone(),
                max_attempts: args.max_attempts,
                connect_timeout: Duration::from_secs(args.connect_timeout),
                read_timeout: Duration::from_secs(args.read_timeout),
                operation_timeout: Duration::from_secs(args.operation_timeout),
            },
            regions: args.regions.clone(),
            out: args.out.clone(),
            collectors: registry::select(&args.collectors, &args.skip),
            only: args.collectors.clone(),
            skip: args.skip.clone(),
            concurrency: usize::from(args.concurrency),
            settings: Arc::new(settings),
            progress: !quiet && !args.json,
            thresholds: args.analysis.thresholds(),
            fail_on: args.analysis.fail_on,
            org: org_options(&args.org),
            sign: args.sign.sign_with(),
            exceptions: None,
            exceptions_as_of: None,
            config_file: None,
            documented: None,
            trusted_accounts: trusted(&args.analysis.trusted_accounts, None),
        }
    }

    /// Applies the files `--exceptions` and `--documented-policy` named, read beforehand: the
    /// documented limits become the thresholds, its trusted accounts join the flag's.
    pub fn with_policy_files(mut self, files: PolicyFiles) -> Self {
        self.exceptions = files.exceptions.map(Arc::new);
        if let Some(documented) = files.documented {
            self.thresholds = documented.thresholds(self.thresholds);
            self.trusted_accounts = trusted(&self.trusted_accounts, Some(&documented));
            self.documented = Some(Arc::new(documented));
        }
        self
    }
}

/// The trusted accounts of a run: the flag's and the documented policy's, sorted, once each.
pub fn trusted(flag: &[String], documented: Option<&DocumentedPolicy>) -> Vec<String> {
    let mut all: Vec<String> = flag
        .iter()
        .chain(documented.iter().flat_map(|d| d.trusted_accounts.iter()))
        .cloned()
        .collect();
    all.sort();
    all.dedup();
    all
}

/// The policy files the findings stage is given, read and checked before anything runs.
#[derive(Debug, Clone, Default)]
pub struct PolicyFiles {
    pub exceptions: Option<ExceptionsFile>,
    pub documented: Option<DocumentedPolicy>,
}

/// Reads `--exceptions` and `--documented-policy`: a usage error naming the file, the line and
/// the cause when one cannot be used.
pub fn load_policy_files(args: &crate::cli::AnalysisArgs) -> Result<PolicyFiles, Error> {
    Ok(PolicyFiles {
        exceptions: args
            .exceptions
            .as_deref()
            .map(load_exceptions)
            .transpose()?,
        documented: args
            .documented_policy
            .as_deref()
            .map(load_documented)
            .transpose()?,
    })
}

/// Reads and parses a documented policy file.
pub fn load_documented(path: &Path) -> Result<DocumentedPolicy, Error> {
    let bytes = read_capped(path, "documented policy", documented::MAX_BYTES)?;
    documented::parse(&bytes, &path.display().to_string()).map_err(|e| {
        Error::Usage(format!(
            "the documented policy cannot be used: {e}\n  fix: correct that line (README \"Documented policy\" shows every key)"
        ))
    })
}

/// Reads a regular file of at most `max` bytes (one more is read, so a larger one is refused by
/// its parser), as a usage error naming `what` when it cannot be read.
pub(crate) fn read_capped(path: &Path, what: &str, max: usize) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read the {what} file {shown}: {e}\n  fix: give the path of a TOML file (README shows a complete example)"
        ))
    })?;
    if !file.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(Error::Usage(format!(
            "the {what} file {shown} is not a regular file"
        )));
    }
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Usage(format!("cannot read the {what} file {shown}: {e}")))?;
    Ok(bytes)
}

/// Whether `rule` is a rule of the tool: an account rule or an org rule.
pub fn known_rule(rule: &str) -> bool {
    crate::findings::rules().iter().any(|r| r.id == rule)
        || crate::findings::org_rules::ORG_RULES
            .iter()
            .any(|r| r.id == rule)
}

/// Reads and parses the exceptions file at `path`: a usage error naming the file, the line and
/// the cause when it cannot be used.
pub fn load_exceptions(path: &Path) -> Result<ExceptionsFile, Error> {
    let bytes = read_capped(path, "exceptions", exceptions::MAX_BYTES)?;
    exceptions::parse(&bytes, &path.display().to_string(), &known_rule).map_err(|e| {
        Error::Usage(format!(
            "the exceptions file cannot be used: {e}\n  fix: correct that line (README \"Accepting a finding\" shows a complete example)"
        ))
    })
}

/// The org options, when the arguments ask for many accounts.
fn org_options(args: &crate::cli::OrgArgs) -> Option<OrgOptions> {
    if !args.org && args.accounts.is_empty() {
        return None;
    }
    let mut accounts = args.accounts.clone();
    accounts.sort();
    accounts.dedup();
    Some(OrgOptions {
        from_organization: args.org,
        role_name: args.role_name.clone().unwrap_or_default(),
        external_id: args.external_id.clone(),
        accounts,
        skip_accounts: args.skip_accounts.clone(),
        ous: args.ous.clone(),
        shard: args.shard,
    })
}
