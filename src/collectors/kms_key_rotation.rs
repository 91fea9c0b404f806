//! `kms-key-rotation`: every KMS key of every covered region, whether automatic rotation
//! applies to it and, where it does, whether it is on.
//!
//! Calls per region: `ListKeys` and `ListAliases` (both paginated with the largest pages, 1000
//! keys and 100 aliases; one alias listing serves all keys of the region), then for every key
//! `DescribeKey`, and `GetKeyRotationStatus` only for the keys rotation applies to, fanned out
//! concurrently. Rotation applies to keys with KeyManager CUSTOMER, KeySpec SYMMETRIC_DEFAULT,
//! Origin AWS_KMS and KeyState Enabled; every other key is listed with the reason it is out of
//! scope.
//! For every customer managed key, also `GetKeyPolicy` (policy `default`).
//! Permissions: `kms:ListKeys`, `kms:ListAliases`, `kms:DescribeKey`, `kms:GetKeyRotationStatus`,
//! `kms:GetKeyPolicy`.
//! Controls: CC6.1, CC6.7.
//! Files: `keys.csv` (one row per key: region, id, aliases, metadata, scope and rotation;
//! declared in `crate::contract::kms_key_rotation`) and `keys.json` (per key the DescribeKey
//! metadata, its alias entries and the GetKeyRotationStatus response as returned);
//! `key-policies.json` (the key policy of every customer managed key, decoded) and
//! `key-policy-grants.csv` (one row per principal of each policy's Allow statements, as for S3
//! bucket policies). A region
//! whose ListKeys fails is failed; a failed ListAliases, DescribeKey or GetKeyRotationStatus is
//! an error of that region (partial) and leaves the cells it would have filled empty. Values AWS
//! did not return stay empty: nothing is guessed.

use std::collections::BTreeMap;

use aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput;
use aws_sdk_kms::types as api;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use super::{for_each_region, rfc3339, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use crate::contract::kms_key_rotation::{KeyPolicies, KeyPolicyGrantRow, KeyRow};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::judge::kms::{rotation_scope, RotationScope};
use crate::vocab::CallError;
use crate::vocab::Scope;

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::kms_key_rotation::ID,
    title: "KMS keys and automatic rotation of customer managed keys",
    controls: &[Control::Cc6_1, Control::Cc6_7],
    scope: Scope::Regional,
    permissions: &[
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListKeys",
    ],
    run,
    optional_permissions: &[],
};

/// The largest pages ListKeys and ListAliases allow (Limit); the defaults (100 and 50) would
/// make the listings grow by a call per 100 keys or 50 aliases.
const KEYS_PAGE_SIZE: i32 = 1000;
const ALIASES_PAGE_SIZE: i32 = 100;

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

// ---- Whether rotation applies (pure) ----

// ---- Responses as the API returned them (PascalCase, absent members left out) ----

/// DescribeKey's KeyMetadata (the deprecated CustomerMasterKeySpec is left out: KeySpec holds the
/// same value).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    #[serde(rename = "AWSAccountId", skip_serializing_if = "Option::is_none")]
    pub aws_account_id: Option<String>,
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_deletion_window_in_days: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_key_store_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_hsm_cluster_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_manager: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_spec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_algorithms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region_configuration: Option<MultiRegionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xks_key_configuration: Option<XksKeyConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_key_material_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region_key_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<MultiRegionKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_keys: Option<Vec<MultiRegionKey>>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct XksKeyConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

fn names<T, F: Fn(&T) -> &str>(list: &Option<Vec<T>>, name: F) -> Option<Vec<String>> {
    list.as_ref()
        .map(|items| items.iter().map(|i| name(i).to_string()).collect())
}

impl From<&api::KeyMetadata> for KeyMetadata {
    fn from(m: &api::KeyMetadata) -> Self {
        let time = |t: &Option<aws_smithy_types::DateTime>| t.as_ref().map(rfc3339);
        let region_key = |k: &api::MultiRegionKey| MultiRegionKey {
            arn: k.arn.clone(),
            region: k.region.clone(),
        };
        KeyMetadata {
            aws_account_id: m.aws_account_id.clone(),
            key_id: m.key_id.clone(),
            arn: m.arn.clone(),
            creation_date: time(&m.creation_date),
            enabled: m.enabled,
            description: m.description.clone(),
            key_usage: m.key_usage.as_ref().map(|v| v.as_str().to_string()),
            key_state: m.key_state.as_ref().map(|v| v.as_str().to_string()),
            deletion_date: time(&m.deletion_date),
            pending_deletion_window_in_days: m.pending_deletion_window_in_days,
            valid_to: time(&m.valid_to),
            origin: m.origin.as_ref().map(|v| v.as_str().to_string()),
            custom_key_store_id: m.custom_key_store_id.clone(),
            cloud_hsm_cluster_id: m.cloud_hsm_cluster_id.clone(),
            expiration_model: m.expiration_model.as_ref().map(|v| v.as_str().to_string()),
            key_manager: m.key_manager.as_ref().map(|v| v.as_str().to_string()),
            key_spec: m.key_spec.as_ref().map(|v| v.as_str().to_string()),
            encryption_algorithms: names(&m.encryption_algorithms, |v| v.as_str()),
            signing_algorithms: names(&m.signing_algorithms, |v| v.as_str()),
            key_agreement_algorithms: names(&m.key_agreement_algorithms, |v| v.as_str()),
            mac_algorithms: names(&m.mac_algorithms, |v| v.as_str()),
            multi_region: m.multi_region,
            multi_region_configuration: m.multi_region_configuration.as_ref().map(|c| {
                MultiRegionConfiguration {
                    multi_region_key_type: c
                        .multi_region_key_type
                        .as_ref()
                        .map(|v| v.as_str().to_string()),
                    primary_key: c.primary_key.as_ref().map(region_key),
                    replica_keys: c
                        .replica_keys
                        .as_ref()
                        .map(|keys| keys.iter().map(region_key).collect()),
                }
            }),
            xks_key_configuration: m
                .xks_key_configuration
                .as_ref()
                .map(|x| XksKeyConfiguration { id: x.id.clone() }),
            current_key_material_id: m.current_key_material_id.clone(),
        }
    }
}

/// One entry of ListAliases.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_date: Option<String>,
}

impl From<&api::AliasListEntry> for AliasEntry {
    fn from(a: &api::AliasListEntry) -> Self {
        AliasEntry {
            alias_name: a.alias_name.clone(),
            alias_arn: a.alias_arn.clone(),
            target_key_id: a.target_key_id.clone(),
            creation_date: a.creation_date.as_ref().map(rfc3339),
            last_updated_date: a.last_updated_date.as_ref().map(rfc3339),
        }
    }
}

/// GetKeyRotationStatus as returned.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    pub key_rotation_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_rotation_start_date: Option<String>,
}

impl From<&GetKeyRotationStatusOutput> for RotationStatus {
    fn from(r: &GetKeyRotationStatusOutput) -> Self {
        RotationStatus {
            key_id: r.key_id.clone(),
            key_rotation_enabled: r.key_rotation_enabled,
            rotation_period_in_days: r.rotation_period_in_days,
            next_rotation_date: r.next_rotation_date.as_ref().map(rfc3339),
            on_demand_rotation_start_date: r.on_demand_rotation_start_date.as_ref().map(rfc3339),
        }
    }
}

// ---- Files ----

/// One element of `keys.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyRecord {
    /// Its row of `keys.csv` (not part of the JSON).
    #[serde(skip)]
    row: KeyRow,
    region: String,
    key_id: String,
    key_arn: Option<String>,
    aliases: Vec<AliasEntry>,
    /// `null` when DescribeKey failed.
    key_metadata: Option<KeyMetadata>,
    in_scope: Option<bool>,
    out_of_scope_reason: Option<String>,
    /// `null` when rotation does not apply or GetKeyRotationStatus failed.
    key_rotation_status: Option<RotationStatus>,
}

struct KeyOutcome {
    record: KeyRecord,
    /// The key policy, for a customer managed key whose policy could be read.
    policy: Option<crate::contract::resource_policy::ResourcePolicy>,
    errors: Vec<CallError>,
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let regions = for_each_region(ctx, out, |region| async move {
        let kms = ctx.clients.kms(&region);
        let (keys, aliases) = tokio::join!(
            kms.list_keys()
                .limit(KEYS_PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
            kms.list_aliases()
                .limit(ALIASES_PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
        );
        let keys: Vec<api::KeyListEntry> =
            keys.map_err(|e| CallError::from_sdk(&region, "ListKeys", &e))?;
        let mut errors = Vec::new();
        let aliases: Vec<api::AliasListEntry> = aliases.unwrap_or_else(|e| {
            errors.push(CallError::from_sdk(&region, "ListAliases", &e));
            Vec::new()
        });
        let mut by_key: BTreeMap<String, Vec<AliasEntry>> = BTreeMap::new();
        for alias in &aliases {
            if let Some(target) = &alias.target_key_id {
                by_key
                    .entry(target.clone())
                    .or_default()
                    .push(AliasEntry::from(alias));
            }
        }
        let kms = &kms;
        let region = region.as_str();
        let by_key = &by_key;
        let mut outcomes: Vec<KeyOutcome> = stream::iter(keys)
            .map(|entry| async move {
                let key_id = entry
                    .key_id
                    .clone()
                    .or_else(|| entry.key_arn.clone())
                    .unwrap_or_default();
                let mut aliases = by_key.get(&key_id).cloned().unwrap_or_default();
                aliases.sort_by(|a, b| a.alias_name.cmp(&b.alias_name));
                key_outcome(kms, region, key_id, entry.key_arn, aliases).await
            })
            .buffer_unordered(ctx.concurrency.max(1))
            .collect()
            .await;
        outcomes.sort_by(|a, b| a.record.row.key_id.cmp(&b.record.row.key_id));
        for outcome in &mut outcomes {
            errors.append(&mut outcome.errors);
        }
        Ok(RegionOutput {
            value: outcomes,
            errors,
        })
    })
    .await?;

    let outcomes: Vec<KeyOutcome> = regions
        .into_iter()
        .flat_map(|(_, outcomes)| outcomes)
        .collect();
    let mut policies = Vec::new();
    let mut records = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        policies.extend(outcome.policy);
        records.push(outcome.record);
    }
    out.table_with_twin(&records, |r| r.row.clone())?;
    let grants: Vec<KeyPolicyGrantRow> = policies
        .iter()
        .flat_map(|p| super::grant_rows(p, &ctx.identity.account_id))
        .map(KeyPolicyGrantRow)
        .collect();
    out.document(&KeyPolicies { keys: policies }, None)?;
    out.table(&grants)?;
    out.note("keys", records.len());
    out.note(
        "in_scope_keys",
        records
            .iter()
            .filter(|r| r.row.in_scope == Some(true))
            .count(),
    );
    if records.is_empty() {
        out.note(
            "no_keys",
            "no KMS key in any covered region that could be read",
        );
    }
    Ok(())
}

/// DescribeKey, then GetKeyRotationStatus when rotation applies; a failure of either is the
/// key's own error and leaves the key listed with what is known.
async fn key_outcome(
    kms: &aws_sdk_kms::Client,
    region: &str,
    key_id: String,
    key_arn: Option<String>,
    aliases: Vec<AliasEntry>,
) -> KeyOutcome {
    let mut errors = Vec::new();
    let mut row = KeyRow {
        region: region.to_string(),
        key_id: key_id.clone(),
        arn: key_arn.clone().unwrap_or_default(),
        aliases: aliases
            .iter()
            .filter_map(|a| a.alias_name.clone())
            .collect(),
        ..KeyRow::default()
    };
    let metadata = match kms.describe_key().key_id(&key_id).send().await {
        Ok(output) => output.key_metadata.as_ref().map(KeyMetadata::from),
        Err(e) => {
            errors.push(CallError::from_sdk(region, "DescribeKey", &e));
            None
        }
    };
    let mut rotation = None;
    let mut scope_reason = None;
    // The key policy of a customer managed key (AWS managed keys' policies are AWS's).
    let mut policy = None;
    if let Some(m) = metadata
        .as_ref()
        .filter(|m| m.key_manager.as_deref() == Some("CUSTOMER"))
    {
        match kms
            .get_key_policy()
            .key_id(&key_id)
            .policy_name("default")
            .send()
            .await
        {
            Ok(output) => {
                policy = Some(super::resource_policy(
                    &key_id,
                    m.arn.as_deref().or(key_arn.as_deref()).unwrap_or_default(),
                    region,
                    output.policy().map(str::to_string),
                ))
            }
            Err(e) => errors.push(CallError::from_sdk(region, "GetKeyPolicy", &e)),
        }
    }
    if let Some(m) = &metadata {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        if let Some(arn) = &m.arn {
            row.arn = arn.clone();
        }
        row.description = text(&m.description);
        row.key_manager = text(&m.key_manager);
        row.key_spec = text(&m.key_spec);
        row.key_usage = text(&m.key_usage);
        row.origin = text(&m.origin);
        row.key_state = text(&m.key_state);
        row.multi_region = m.multi_region;
        row.creation_date = text(&m.creation_date);
        row.deletion_date = text(&m.deletion_date);
        let scope = rotation_scope(
            m.key_manager.as_deref(),
            m.key_spec.as_deref(),
            m.origin.as_deref(),
            m.key_state.as_deref(),
        );
        match scope {
            RotationScope::InScope => {
                row.in_scope = Some(true);
                match kms.get_key_rotation_status().key_id(&key_id).send().await {
                    Ok(output) => rotation = Some(RotationStatus::from(&output)),
                    Err(e) => errors.push(CallError::from_sdk(region, "GetKeyRotationStatus", &e)),
                }
            }
            RotationScope::OutOfScope(reason) => {
                row.in_scope = Some(false);
                scope_reason = Some(reason);
            }
            RotationScope::Undetermined(reason) => scope_reason = Some(reason),
        }
    }
    if let Some(r) = &rotation {
        row.rotation_enabled = Some(r.key_rotation_enabled);
        row.rotation_period_days = r.rotation_period_in_days;
        row.next_rotation_date = r.next_rotation_date.clone().unwrap_or_default();
    }
    row.out_of_scope_reason = scope_reason.clone().unwrap_or_default();
    KeyOutcome {
        policy,
        record: KeyRecord {
            region: region.to_string(),
            key_id,
            key_arn,
            aliases,
            key_metadata: metadata,
            in_scope: row.in_scope,
            out_of_scope_reason: scope_reason,
            key_rotation_status: rotation,
            row,
        },
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keeps_the_api_member_names_and_leaves_out_absent_ones() {
        let json = serde_json::to_value(KeyMetadata {
            aws_account_id: Some("123456789012".into()),
            key_id: "k".into(),
            cloud_hsm_cluster_id: Some("c".into()),
            ..KeyMetadata::default()
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "AWSAccountId": "123456789012",
                "KeyId": "k",
                "CloudHsmClusterId": "c",
                "Enabled": false,
            })
        );
    }
}
