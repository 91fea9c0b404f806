//! The collectors: I/O only. Each module is one collector, named after its id, exposing a
//! `SPEC` for the registry and a plain async `collect` function. Analysis of what they gather
//! happens later, as pure functions over the written evidence.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::aws::{CountedClients, Identity};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::CallError;
use crate::vocab::{CollectorStatus, Scope};

pub mod access_analyzer;
pub mod aws_config;
pub mod cis_monitoring;
pub mod cloudtrail;
pub mod ec2_instances;
pub mod ec2_security_groups;
pub mod guardduty;
pub mod iam_account_summary;
pub mod iam_authorization_details;
pub mod iam_credential_report;
pub mod iam_password_policy;
pub mod identity_center;
pub mod kms_key_rotation;
pub mod s3_public_access;
pub mod vpc_network;

/// What every collector receives: who the account is, its own counted clients, the regions
/// the run covers, and settings.
#[derive(Debug, Clone)]
pub struct Context {
    pub identity: Identity,
    pub clients: CountedClients,
    pub settings: Arc<CollectorSettings>,
    /// The regions the run covers, sorted.
    pub regions: Arc<Vec<String>>,
    /// How many independent calls to keep in flight when fanning out over buckets or keys
    /// (the HTTP layer enforces the same bound for the whole run).
    pub concurrency: usize,
}

pub type CollectFuture<'a> = Pin<Box<dyn Future<Output = Result<(), CollectError>> + Send + 'a>>;

/// A collector's entry point: a plain async function over the shared context, writing into its
/// own evidence sink.
pub type CollectFn = for<'a> fn(&'a Context, &'a mut Evidence) -> CollectFuture<'a>;

/// One collector as the registry declares it.
pub struct CollectorSpec {
    /// Stable kebab-case id; also the module name (with `_`) and the evidence folder.
    pub id: &'static str,
    pub title: &'static str,
    pub controls: &'static [Control],
    pub scope: Scope,
    /// IAM actions the collector's calls need, for `policy`.
    pub permissions: &'static [&'static str],
    pub run: CollectFn,
    /// IAM actions of calls the collector makes but can do without: refused, they leave a gap
    /// the collector records (and the rules over it are partial), never a pass. `policy
    /// --with-optional` prints them.
    pub optional_permissions: &'static [&'static str],
}

impl std::fmt::Debug for CollectorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectorSpec")
            .field("id", &self.id)
            .finish()
    }
}

/// What one region gave: its value and the calls that failed without spoiling the rest.
#[derive(Debug)]
pub struct RegionOutput<T> {
    pub value: T,
    pub errors: Vec<CallError>,
}

impl<T> RegionOutput<T> {
    pub fn complete(value: T) -> Self {
        RegionOutput {
            value,
            errors: Vec::new(),
        }
    }
}

/// Runs `per_region` for every covered region at once and records how each went. A region
/// whose call failed is recorded with its error and left out of the result; the collector
/// fails only when every region failed. Results come sorted by region.
pub async fn for_each_region<T, F, Fut>(
    ctx: &Context,
    out: &mut Evidence,
    per_region: F,
) -> Result<Vec<(String, T)>, CollectError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<RegionOutput<T>, CallError>>,
{
    let work = ctx.regions.iter().map(|region| {
        let future = per_region(region.clone());
        async move { (region.clone(), future.await) }
    });
    let mut results = futures_util::future::join_all(work).await;
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut values = Vec::new();
    for (region, result) in results {
        match result {
            Ok(output) => {
                let status = if output.errors.is_empty() {
                    CollectorStatus::Collected
                } else {
                    CollectorStatus::Partial
                };
                for error in output.errors {
                    out.error(error);
                }
                out.region(&region, status);
                values.push((region, output.value));
            }
            Err(error) => {
                out.error(error);
                out.region(&region, CollectorStatus::Failed);
            }
        }
    }
    if values.is_empty() && !ctx.regions.is_empty() {
        return Err(CollectError::AllRegionsFailed);
    }
    Ok(values)
}

/// Tunables of individual collectors.
#[derive(Debug, Clone)]
pub struct CollectorSettings {
    pub credential_report: iam_credential_report::ReportTiming,
    /// How far back archived and resolved findings are read (`--lookback-days`).
    pub lookback_days: u32,
    pub log_validation: cloudtrail::LogValidation,
    /// In an org run, why this account does not collect `identity-center` (another account
    /// holds the organization's instance): the collector is then `skipped` with this reason.
    pub identity_center_elsewhere: Option<String>,
}

impl Default for CollectorSettings {
    fn default() -> Self {
        CollectorSettings {
            credential_report: iam_credential_report::ReportTiming {
                deadline: Duration::from_secs(300),
                first_backoff: Duration::from_secs(1),
                max_backoff: Duration::from_secs(16),
            },
            lookback_days: 365,
            log_validation: cloudtrail::LogValidation::default(),
            identity_center_elsewhere: None,
        }
    }
}

/// A resource's policy as the `*-policies.json` files keep it: decoded when it is JSON, as
/// text otherwise; `document` `None` means the resource has no policy.
pub fn resource_policy(
    name: &str,
    arn: &str,
    region: &str,
    document: Option<String>,
) -> crate::contract::resource_policy::ResourcePolicy {
    let (policy, text) = match &document {
        Some(raw) => match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(value) => (Some(value), String::new()),
            Err(_) => (None, raw.clone()),
        },
        None => (None, String::new()),
    };
    crate::contract::resource_policy::ResourcePolicy {
        name: name.to_string(),
        arn: arn.to_string(),
        region: region.to_string(),
        present: document.is_some(),
        policy,
        text,
    }
}

/// The grants rows of a resource policy (`crate::judge::resource_policy`).
pub fn grant_rows(
    policy: &crate::contract::resource_policy::ResourcePolicy,
    own_account: &str,
) -> Vec<crate::contract::resource_policy::GrantRow> {
    use crate::judge::resource_policy::{external, grants, Kind};
    let Some(document) = &policy.policy else {
        return Vec::new();
    };
    grants(document)
        .into_iter()
        .map(|g| crate::contract::resource_policy::GrantRow {
            name: policy.name.clone(),
            region: policy.region.clone(),
            outside_account: external(&g, own_account, &[]).is_some(),
            principal_account: match &g.kind {
                Kind::Account(a) => a.clone(),
                _ => String::new(),
            },
            principal_kind: g.kind.as_str().to_string(),
            sid: g.sid,
            principal: g.principal,
            actions: g.actions.into(),
            conditions: g.conditions.into(),
            restricted_by: g.restricted_by.into(),
        })
        .collect()
}

/// Formats an SDK timestamp as RFC 3339 UTC, the format of every time in the bundle.
pub fn rfc3339(time: &aws_smithy_types::DateTime) -> String {
    time.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| time.secs().to_string())
}
