//! `aws-config`: whether AWS Config records configuration changes in every covered region, where
//! it delivers them, and which Config rules evaluate them with what compliance.
//!
//! Calls per region: `DescribeConfigurationRecorders` (the customer managed recorder; the
//! region's listing: when it fails the region is failed), then at once
//! `DescribeConfigurationRecorderStatus`, `DescribeDeliveryChannels` and `DescribeConfigRules`
//! (paginated), then, when the region has rules, `DescribeComplianceByConfigRule` (paginated;
//! every rule). None of these calls takes a page size.
//! Permissions: `config:DescribeConfigurationRecorders`,
//! `config:DescribeConfigurationRecorderStatus`, `config:DescribeDeliveryChannels`,
//! `config:DescribeConfigRules`, `config:DescribeComplianceByConfigRule`.
//! Controls: CC7.1, CC8.1.
//! Files (tables declared in `crate::contract::aws_config`): `recorders.csv` (one row per
//! recorder: role, recording group and strategy, recording frequency, whether it is recording,
//! the last status and error, last start/stop times) and `recorders.json` (the recorder and its
//! status as returned); `delivery-channels.csv`/`.json`; `config-rules.csv` (one row per rule:
//! source owner and identifier, state, compliance type, non-compliant resources and whether
//! AWS's cap was reached) and `config-rules.json` (the rule and its compliance as returned);
//! `regions.csv` (per covered region its status and counts). A failed status, channel, rule or
//! compliance call is an error of its region (partial) and leaves the cells it would have filled
//! empty: a rule whose compliance could not be read has empty compliance cells, never a guess.

use aws_sdk_config::types as api;
use serde::Serialize;

use super::{for_each_region, rfc3339, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use crate::contract::aws_config::{ConfigRuleRow, DeliveryChannelRow, RecorderRow, RegionRow};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::{CallError, Scope};

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::aws_config::ID,
    title: "AWS Config recorders, delivery channels and rules with their compliance",
    controls: &[Control::Cc7_1, Control::Cc8_1],
    scope: Scope::Regional,
    permissions: &[
        "config:DescribeComplianceByConfigRule",
        "config:DescribeConfigRules",
        "config:DescribeConfigurationRecorderStatus",
        "config:DescribeConfigurationRecorders",
        "config:DescribeDeliveryChannels",
    ],
    run,
    optional_permissions: &[],
};

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

// ---- The answers as returned (PascalCase, absent members left out) ----

fn text<T: AsRef<str>>(value: &Option<T>) -> Option<String> {
    value.as_ref().map(|v| v.as_ref().to_string())
}

/// A ConfigurationRecorder of DescribeConfigurationRecorders.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Recorder {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_group: Option<RecordingGroup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_mode: Option<RecordingMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_principal: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordingGroup {
    pub all_supported: bool,
    pub include_global_resource_types: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclusion_by_resource_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_strategy: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordingMode {
    pub recording_frequency: String,
    pub recording_mode_overrides: Vec<RecordingModeOverride>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordingModeOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub resource_types: Vec<String>,
    pub recording_frequency: String,
}

fn types(list: &Option<Vec<api::ResourceType>>) -> Option<Vec<String>> {
    list.as_ref()
        .map(|types| types.iter().map(|t| t.as_str().to_string()).collect())
}

impl From<&api::ConfigurationRecorder> for Recorder {
    fn from(r: &api::ConfigurationRecorder) -> Self {
        Recorder {
            arn: r.arn.clone(),
            name: r.name.clone(),
            role_arn: r.role_arn.clone(),
            recording_group: r.recording_group.as_ref().map(|g| RecordingGroup {
                all_supported: g.all_supported,
                include_global_resource_types: g.include_global_resource_types,
                resource_types: types(&g.resource_types),
                exclusion_by_resource_types: g
                    .exclusion_by_resource_types
                    .as_ref()
                    .and_then(|e| types(&e.resource_types)),
                recording_strategy: g
                    .recording_strategy
                    .as_ref()
                    .and_then(|s| s.use_only.as_ref())
                    .map(|u| u.as_str().to_string()),
            }),
            recording_mode: r.recording_mode.as_ref().map(|m| RecordingMode {
                recording_frequency: m.recording_frequency.as_str().to_string(),
                recording_mode_overrides: m
                    .recording_mode_overrides()
                    .iter()
                    .map(|o| RecordingModeOverride {
                        description: o.description.clone(),
                        resource_types: o
                            .resource_types
                            .iter()
                            .map(|t| t.as_str().to_string())
                            .collect(),
                        recording_frequency: o.recording_frequency.as_str().to_string(),
                    })
                    .collect(),
            }),
            recording_scope: text(&r.recording_scope),
            service_principal: r.service_principal.clone(),
        }
    }
}

/// A ConfigurationRecorderStatus of DescribeConfigurationRecorderStatus (times RFC 3339 UTC).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecorderStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_stop_time: Option<String>,
    pub recording: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status_change_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_principal: Option<String>,
}

impl From<&api::ConfigurationRecorderStatus> for RecorderStatus {
    fn from(s: &api::ConfigurationRecorderStatus) -> Self {
        let time = |t: &Option<aws_smithy_types::DateTime>| t.as_ref().map(rfc3339);
        RecorderStatus {
            arn: s.arn.clone(),
            name: s.name.clone(),
            last_start_time: time(&s.last_start_time),
            last_stop_time: time(&s.last_stop_time),
            recording: s.recording,
            last_status: text(&s.last_status),
            last_error_code: s.last_error_code.clone(),
            last_error_message: s.last_error_message.clone(),
            last_status_change_time: time(&s.last_status_change_time),
            service_principal: s.service_principal.clone(),
        }
    }
}

/// A DeliveryChannel of DescribeDeliveryChannels.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeliveryChannel {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_bucket_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_kms_key_arn: Option<String>,
    #[serde(rename = "SnsTopicARN", skip_serializing_if = "Option::is_none")]
    pub sns_topic_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_snapshot_delivery_properties: Option<SnapshotDelivery>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapshotDelivery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_frequency: Option<String>,
}

impl From<&api::DeliveryChannel> for DeliveryChannel {
    fn from(c: &api::DeliveryChannel) -> Self {
        DeliveryChannel {
            name: c.name.clone(),
            s3_bucket_name: c.s3_bucket_name.clone(),
            s3_key_prefix: c.s3_key_prefix.clone(),
            s3_kms_key_arn: c.s3_kms_key_arn.clone(),
            sns_topic_arn: c.sns_topic_arn.clone(),
            config_snapshot_delivery_properties: c
                .config_snapshot_delivery_properties
                .as_ref()
                .map(|p| SnapshotDelivery {
                    delivery_frequency: text(&p.delivery_frequency),
                }),
        }
    }
}

/// A ConfigRule of DescribeConfigRules (InputParameters kept as the JSON text AWS returns).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_rule_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_rule_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_rule_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<RuleScope>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<RuleSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_parameters: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_execution_frequency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_rule_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_modes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleScope {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compliance_resource_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compliance_resource_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleSource {
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identifier: Option<String>,
}

impl From<&api::ConfigRule> for ConfigRule {
    fn from(r: &api::ConfigRule) -> Self {
        ConfigRule {
            config_rule_name: r.config_rule_name.clone(),
            config_rule_arn: r.config_rule_arn.clone(),
            config_rule_id: r.config_rule_id.clone(),
            description: r.description.clone(),
            scope: r.scope.as_ref().map(|s| RuleScope {
                compliance_resource_types: s.compliance_resource_types.clone(),
                tag_key: s.tag_key.clone(),
                tag_value: s.tag_value.clone(),
                compliance_resource_id: s.compliance_resource_id.clone(),
            }),
            source: r.source.as_ref().map(|s| RuleSource {
                owner: s.owner.as_str().to_string(),
                source_identifier: s.source_identifier.clone(),
            }),
            input_parameters: r.input_parameters.clone(),
            maximum_execution_frequency: text(&r.maximum_execution_frequency),
            config_rule_state: text(&r.config_rule_state),
            created_by: r.created_by.clone(),
            evaluation_modes: r.evaluation_modes.as_ref().map(|modes| {
                modes
                    .iter()
                    .filter_map(|m| m.mode.as_ref().map(|m| m.as_str().to_string()))
                    .collect()
            }),
        }
    }
}

/// A rule's Compliance of DescribeComplianceByConfigRule.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Compliance {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compliance_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compliance_contributor_count: Option<ContributorCount>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContributorCount {
    pub capped_count: i32,
    pub cap_exceeded: bool,
}

impl From<&api::Compliance> for Compliance {
    fn from(c: &api::Compliance) -> Self {
        Compliance {
            compliance_type: text(&c.compliance_type),
            compliance_contributor_count: c.compliance_contributor_count.as_ref().map(|n| {
                ContributorCount {
                    capped_count: n.capped_count,
                    cap_exceeded: n.cap_exceeded,
                }
            }),
        }
    }
}

// ---- Files ----

/// One element of `recorders.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RecorderRecord {
    #[serde(skip)]
    row: RecorderRow,
    region: String,
    configuration_recorder: Recorder,
    /// `null` when DescribeConfigurationRecorderStatus failed or did not name the recorder.
    configuration_recorder_status: Option<RecorderStatus>,
}

/// One element of `delivery-channels.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ChannelRecord {
    #[serde(skip)]
    row: DeliveryChannelRow,
    region: String,
    delivery_channel: DeliveryChannel,
}

/// One element of `config-rules.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuleRecord {
    #[serde(skip)]
    row: ConfigRuleRow,
    region: String,
    config_rule: ConfigRule,
    /// `null` when DescribeComplianceByConfigRule failed or did not name the rule.
    compliance: Option<Compliance>,
}

/// What one region gave.
#[derive(Debug, Default)]
struct RegionFacts {
    recorders: Vec<RecorderRecord>,
    /// `None` when the listing failed.
    channels: Option<Vec<ChannelRecord>>,
    rules: Option<Vec<RuleRecord>>,
    /// Whether the recorders' status was read.
    status_read: bool,
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let regions = for_each_region(ctx, out, |region| read_region(ctx, region)).await?;
    let mut recorders: Vec<&RecorderRecord> = Vec::new();
    let mut channels: Vec<&ChannelRecord> = Vec::new();
    let mut rules: Vec<&RuleRecord> = Vec::new();
    for (_, facts) in &regions {
        recorders.extend(&facts.recorders);
        channels.extend(facts.channels.iter().flatten());
        rules.extend(facts.rules.iter().flatten());
    }
    recorders.sort_by(|a, b| (&a.row.region, &a.row.name).cmp(&(&b.row.region, &b.row.name)));
    channels.sort_by(|a, b| (&a.row.region, &a.row.name).cmp(&(&b.row.region, &b.row.name)));
    rules.sort_by(|a, b| (&a.row.region, &a.row.name).cmp(&(&b.row.region, &b.row.name)));
    out.table_with_twin(&recorders, |r| r.row.clone())?;
    out.table_with_twin(&channels, |c| c.row.clone())?;
    out.table_with_twin(&rules, |r| r.row.clone())?;
    let region_rows = out.region_table(&ctx.regions, &regions, |region, status, facts| {
        let mut row = RegionRow {
            region: region.to_string(),
            status,
            ..RegionRow::default()
        };
        if let Some(facts) = facts {
            row.recorders = Some(facts.recorders.len() as u64);
            row.recording_recorders = facts.status_read.then(|| {
                facts
                    .recorders
                    .iter()
                    .filter(|r| r.row.recording == Some(true))
                    .count() as u64
            });
            row.delivery_channels = facts.channels.as_ref().map(|c| c.len() as u64);
            row.config_rules = facts.rules.as_ref().map(|r| r.len() as u64);
        }
        row
    })?;
    let not_recording: Vec<&str> = region_rows
        .iter()
        .filter(|r| r.recording_recorders == Some(0))
        .map(|r| r.region.as_str())
        .collect();
    out.note("regions_without_recording_recorder", &not_recording);
    out.note("recorders", recorders.len());
    out.note("config_rules", rules.len());
    Ok(())
}

async fn read_region(
    ctx: &Context,
    region: String,
) -> Result<RegionOutput<RegionFacts>, CallError> {
    let config = ctx.clients.config(&region);
    let listed = config
        .describe_configuration_recorders()
        .send()
        .await
        .map_err(|e| CallError::from_sdk(&region, "DescribeConfigurationRecorders", &e))?;
    let (status, channels, rules) = tokio::join!(
        config.describe_configuration_recorder_status().send(),
        config.describe_delivery_channels().send(),
        config
            .describe_config_rules()
            .into_paginator()
            .items()
            .send()
            .try_collect(),
    );
    let mut errors = Vec::new();
    let statuses: Option<Vec<api::ConfigurationRecorderStatus>> = match status {
        Ok(output) => Some(output.configuration_recorders_status().to_vec()),
        Err(e) => {
            errors.push(CallError::from_sdk(
                &region,
                "DescribeConfigurationRecorderStatus",
                &e,
            ));
            None
        }
    };
    let recorders = listed
        .configuration_recorders()
        .iter()
        .map(|r| recorder_record(&region, r, statuses.as_deref()))
        .collect();
    let channels = match channels {
        Ok(output) => Some(
            output
                .delivery_channels()
                .iter()
                .map(|c| channel_record(&region, c))
                .collect(),
        ),
        Err(e) => {
            errors.push(CallError::from_sdk(&region, "DescribeDeliveryChannels", &e));
            None
        }
    };
    let rules: Option<Vec<api::ConfigRule>> = match rules {
        Ok(rules) => Some(rules),
        Err(e) => {
            errors.push(CallError::from_sdk(&region, "DescribeConfigRules", &e));
            None
        }
    };
    // Compliance of every rule, once the region is known to have some.
    let compliance: Option<Vec<api::ComplianceByConfigRule>> = match &rules {
        Some(list) if !list.is_empty() => {
            match config
                .describe_compliance_by_config_rule()
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
            {
                Ok(items) => Some(items),
                Err(e) => {
                    errors.push(CallError::from_sdk(
                        &region,
                        "DescribeComplianceByConfigRule",
                        &e,
                    ));
                    None
                }
            }
        }
        _ => Some(Vec::new()),
    };
    let rules = rules.map(|rules| {
        rules
            .iter()
            .map(|r| rule_record(&region, r, compliance.as_deref()))
            .collect()
    });
    Ok(RegionOutput {
        value: RegionFacts {
            recorders,
            channels,
            rules,
            status_read: statuses.is_some(),
        },
        errors,
    })
}

fn recorder_record(
    region: &str,
    recorder: &api::ConfigurationRecorder,
    statuses: Option<&[api::ConfigurationRecorderStatus]>,
) -> RecorderRecord {
    let recorder = Recorder::from(recorder);
    let status = statuses
        .and_then(|all| all.iter().find(|s| s.name == recorder.name))
        .map(RecorderStatus::from);
    let group = recorder.recording_group.as_ref();
    let list = |v: Option<&Vec<String>>| v.cloned().unwrap_or_default().into();
    let status_text = |f: fn(&RecorderStatus) -> &Option<String>| {
        status
            .as_ref()
            .and_then(|s| f(s).clone())
            .unwrap_or_default()
    };
    let row = RecorderRow {
        region: region.to_string(),
        name: recorder.name.clone().unwrap_or_default(),
        arn: recorder.arn.clone().unwrap_or_default(),
        role_arn: recorder.role_arn.clone().unwrap_or_default(),
        recording: status.as_ref().map(|s| s.recording),
        all_supported: group.map(|g| g.all_supported),
        include_global_resource_types: group.map(|g| g.include_global_resource_types),
        resource_types: list(group.and_then(|g| g.resource_types.as_ref())),
        recording_strategy: group
            .and_then(|g| g.recording_strategy.clone())
            .unwrap_or_default(),
        excluded_resource_types: list(group.and_then(|g| g.exclusion_by_resource_types.as_ref())),
        recording_frequency: recorder
            .recording_mode
            .as_ref()
            .map(|m| m.recording_frequency.clone())
            .unwrap_or_default(),
        last_status: status_text(|s| &s.last_status),
        last_error_code: status_text(|s| &s.last_error_code),
        last_error_message: status_text(|s| &s.last_error_message),
        last_start_time: status_text(|s| &s.last_start_time),
        last_stop_time: status_text(|s| &s.last_stop_time),
        last_status_change_time: status_text(|s| &s.last_status_change_time),
    };
    RecorderRecord {
        row,
        region: region.to_string(),
        configuration_recorder: recorder,
        configuration_recorder_status: status,
    }
}

fn channel_record(region: &str, channel: &api::DeliveryChannel) -> ChannelRecord {
    let channel = DeliveryChannel::from(channel);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    ChannelRecord {
        row: DeliveryChannelRow {
            region: region.to_string(),
            name: text(&channel.name),
            s3_bucket_name: text(&channel.s3_bucket_name),
            s3_key_prefix: text(&channel.s3_key_prefix),
            s3_kms_key_arn: text(&channel.s3_kms_key_arn),
            sns_topic_arn: text(&channel.sns_topic_arn),
            snapshot_delivery_frequency: channel
                .config_snapshot_delivery_properties
                .as_ref()
                .and_then(|p| p.delivery_frequency.clone())
                .unwrap_or_default(),
        },
        region: region.to_string(),
        delivery_channel: channel,
    }
}

fn rule_record(
    region: &str,
    rule: &api::ConfigRule,
    compliance: Option<&[api::ComplianceByConfigRule]>,
) -> RuleRecord {
    let rule = ConfigRule::from(rule);
    let compliance = compliance
        .and_then(|all| {
            all.iter()
                .find(|c| c.config_rule_name == rule.config_rule_name)
        })
        .and_then(|c| c.compliance.as_ref())
        .map(Compliance::from);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let count = compliance
        .as_ref()
        .and_then(|c| c.compliance_contributor_count.as_ref());
    RuleRecord {
        row: ConfigRuleRow {
            region: region.to_string(),
            name: text(&rule.config_rule_name),
            arn: text(&rule.config_rule_arn),
            id: text(&rule.config_rule_id),
            source_owner: rule
                .source
                .as_ref()
                .map(|s| s.owner.clone())
                .unwrap_or_default(),
            source_identifier: rule
                .source
                .as_ref()
                .and_then(|s| s.source_identifier.clone())
                .unwrap_or_default(),
            state: text(&rule.config_rule_state),
            compliance_type: compliance
                .as_ref()
                .and_then(|c| c.compliance_type.clone())
                .unwrap_or_default(),
            non_compliant_resources: count.map(|n| n.capped_count),
            non_compliant_cap_exceeded: count.map(|n| n.cap_exceeded),
        },
        region: region.to_string(),
        config_rule: rule,
        compliance,
    }
}
