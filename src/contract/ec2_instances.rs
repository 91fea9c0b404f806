//! The files of the `ec2-instances` collector (see `crate::collectors::ec2_instances`).

use serde::{Deserialize, Serialize};

use super::cell;

super::contract! {
    id: "ec2-instances",
    tables: {
        InstanceRow => "instances.csv",
        EbsRegionRow => "ebs-encryption.csv",
    },
    documents: {},
}

/// One row of `instances.csv`: an instance of a covered region and how its instance metadata
/// service (IMDS) is reachable. Values DescribeInstances did not return stay empty.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRow {
    pub region: String,
    pub instance_id: String,
    /// The `Name` tag.
    pub name: String,
    /// `pending`, `running`, `stopping`, `stopped`, `shutting-down` or `terminated`.
    pub state: String,
    pub instance_type: String,
    pub launch_time: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub image_id: String,
    pub iam_instance_profile: String,
    pub public_ip: String,
    /// MetadataOptions.State: `pending` while a change is being applied, else `applied`.
    pub metadata_state: String,
    /// MetadataOptions.HttpEndpoint: `enabled` or `disabled`.
    pub http_endpoint: String,
    /// MetadataOptions.HttpTokens: `optional` (IMDSv1 allowed) or `required` (IMDSv2 only).
    pub http_tokens: String,
    pub http_put_response_hop_limit: Option<i32>,
    pub http_protocol_ipv6: String,
    pub instance_metadata_tags: String,
    /// Security group ids.
    pub security_groups: cell::List,
}

/// One row of `ebs-encryption.csv` per covered region whose regional calls were read:
/// whether DescribeInstances listed the region's instances and what GetEbsEncryptionByDefault
/// said (empty when that call failed; the manifest has the error).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EbsRegionRow {
    pub region: String,
    /// Whether every page of DescribeInstances was read for the region.
    pub instances_listed: bool,
    pub instance_count: Option<u64>,
    pub ebs_encryption_by_default: Option<bool>,
    /// GetEbsEncryptionByDefault's SseType, when given.
    pub sse_type: String,
}
