//! The files of the `vpc-network` collector (see `crate::collectors::vpc_network`).

use serde::{Deserialize, Serialize};

use super::cell;

super::contract! {
    id: "vpc-network",
    tables: {
        VpcRow => "vpcs.csv",
        FlowLogRow => "flow-logs.csv",
        NetworkAclRow => "network-acls.csv",
        NaclEntryRow => "network-acl-entries.csv",
        NetworkRegionRow => "regions.csv",
    },
    documents: {},
}

/// One row of `vpcs.csv`: a VPC of a covered region.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcRow {
    pub region: String,
    pub vpc_id: String,
    /// The `Name` tag.
    pub name: String,
    pub state: String,
    pub is_default: Option<bool>,
    pub cidr_block: String,
    pub ipv6_cidr_blocks: cell::List,
    pub owner_id: String,
    /// The ids of the flow logs whose resource is this VPC and whose status is `ACTIVE` (from
    /// `flow-logs.csv`; empty also when DescribeFlowLogs failed, which `regions.csv` says).
    pub active_flow_logs: cell::List,
}

/// One row of `flow-logs.csv`: a flow log of a covered region (of a VPC, subnet, network
/// interface or transit gateway resource).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowLogRow {
    pub region: String,
    pub flow_log_id: String,
    pub resource_id: String,
    /// `ACTIVE` when the flow log is on.
    pub flow_log_status: String,
    /// `SUCCESS` or `FAILED`: whether its logs are being delivered.
    pub deliver_logs_status: String,
    pub deliver_logs_error_message: String,
    /// `ACCEPT`, `REJECT` or `ALL`.
    pub traffic_type: String,
    /// `cloud-watch-logs`, `s3` or `kinesis-data-firehose`.
    pub log_destination_type: String,
    pub log_destination: String,
    pub log_group_name: String,
    pub creation_time: String,
    pub max_aggregation_interval: Option<i32>,
}

/// One row of `network-acls.csv`: a network ACL of a covered region, and the admin ports its
/// ingress entries open to the world (`crate::judge::nacl`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAclRow {
    pub region: String,
    pub network_acl_id: String,
    pub vpc_id: String,
    pub name: String,
    pub is_default: Option<bool>,
    /// The subnets it is associated with.
    pub subnets: cell::List,
    pub ingress_entries: u64,
    pub egress_entries: u64,
    /// Each opening as `0.0.0.0/0 tcp/22 (rule 100)`.
    pub admin_ports_open_to_world: cell::List,
}

/// One row of `network-acl-entries.csv`: one entry of a network ACL.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NaclEntryRow {
    pub region: String,
    pub network_acl_id: String,
    pub vpc_id: String,
    /// `ingress` or `egress`.
    pub direction: String,
    pub rule_number: Option<i32>,
    /// As the API gives it: `-1` (all), `6` (tcp), `17` (udp), ...
    pub protocol: String,
    pub protocol_name: String,
    /// `allow` or `deny`.
    pub rule_action: String,
    /// The IPv4 or IPv6 CIDR of the entry.
    pub cidr: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub icmp_type: Option<i32>,
    pub icmp_code: Option<i32>,
}

/// One row of `regions.csv` per covered region that was read: which of the region's three
/// listings were read whole (a failed one is in the manifest; its table has no rows of the
/// region).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRegionRow {
    pub region: String,
    pub vpcs_listed: bool,
    pub flow_logs_listed: bool,
    pub network_acls_listed: bool,
}
