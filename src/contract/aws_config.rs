//! The files of the `aws-config` collector (see `crate::collectors::aws_config`).

use serde::{Deserialize, Serialize};

use super::cell;
use crate::vocab::CollectorStatus;

super::contract! {
    id: "aws-config",
    tables: {
        RecorderRow => "recorders.csv",
        DeliveryChannelRow => "delivery-channels.csv",
        ConfigRuleRow => "config-rules.csv",
        RegionRow => "regions.csv",
    },
    documents: {},
}

/// One row of `recorders.csv`: a configuration recorder of a covered region
/// (DescribeConfigurationRecorders) with its status (DescribeConfigurationRecorderStatus; the
/// status cells are empty when that call failed or did not name the recorder).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecorderRow {
    pub region: String,
    pub name: String,
    pub arn: String,
    pub role_arn: String,
    /// Whether the recorder is recording now; empty when unknown.
    pub recording: Option<bool>,
    /// The recording group: every supported resource type, global types (IAM) included.
    pub all_supported: Option<bool>,
    pub include_global_resource_types: Option<bool>,
    /// The resource types recorded when not all supported ones are.
    pub resource_types: cell::List,
    /// `ALL_SUPPORTED_RESOURCE_TYPES`, `INCLUSION_BY_RESOURCE_TYPES` or
    /// `EXCLUSION_BY_RESOURCE_TYPES`.
    pub recording_strategy: String,
    pub excluded_resource_types: cell::List,
    /// `CONTINUOUS` or `DAILY`.
    pub recording_frequency: String,
    /// `Pending`, `Success` or `Failure`: the last delivery of configuration items.
    pub last_status: String,
    pub last_error_code: String,
    pub last_error_message: String,
    pub last_start_time: String,
    pub last_stop_time: String,
    pub last_status_change_time: String,
}

/// One row of `delivery-channels.csv`: where a region's recorder delivers.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryChannelRow {
    pub region: String,
    pub name: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: String,
    pub s3_kms_key_arn: String,
    pub sns_topic_arn: String,
    /// How often configuration snapshots are delivered (`TwentyFour_Hours`, ...).
    pub snapshot_delivery_frequency: String,
}

/// One row of `config-rules.csv`: a Config rule (DescribeConfigRules) and its compliance
/// (DescribeComplianceByConfigRule; the compliance cells are empty when that call failed).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigRuleRow {
    pub region: String,
    pub name: String,
    pub arn: String,
    pub id: String,
    /// `AWS` (a managed rule), `CUSTOM_LAMBDA` or `CUSTOM_POLICY`.
    pub source_owner: String,
    /// The managed rule's identifier (`S3_BUCKET_VERSIONING_ENABLED`) or the Lambda's ARN.
    pub source_identifier: String,
    /// `ACTIVE`, `DELETING`, `EVALUATING`...
    pub state: String,
    /// `COMPLIANT`, `NON_COMPLIANT`, `NOT_APPLICABLE` or `INSUFFICIENT_DATA`.
    pub compliance_type: String,
    /// Resources not compliant, as AWS counts them (capped at 100).
    pub non_compliant_resources: Option<i32>,
    /// Whether the count reached AWS's cap (there may be more).
    pub non_compliant_cap_exceeded: Option<bool>,
}

/// One row of `regions.csv`: a covered region, how it went, and its recorders (counts empty
/// when the region could not be read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRow {
    pub region: String,
    pub status: CollectorStatus,
    pub recorders: Option<u64>,
    /// Recorders reported as recording; empty when their status could not be read.
    pub recording_recorders: Option<u64>,
    pub delivery_channels: Option<u64>,
    pub config_rules: Option<u64>,
}

impl Default for RegionRow {
    /// A region that could not be read.
    fn default() -> Self {
        RegionRow {
            region: String::new(),
            status: CollectorStatus::Failed,
            recorders: None,
            recording_recorders: None,
            delivery_channels: None,
            config_rules: None,
        }
    }
}
