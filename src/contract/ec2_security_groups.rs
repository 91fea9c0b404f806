//! The files of the `ec2-security-groups` collector (see `crate::collectors::ec2_security_groups`).

use serde::{Deserialize, Serialize};

use super::cell;

super::contract! {
    id: "ec2-security-groups",
    tables: {
        GroupRow => "security-groups.csv",
        RuleRow => "rules.csv",
        OpenRow => "open-to-world.csv",
    },
    documents: {},
}

/// One row of `security-groups.csv`: a security group of a covered region.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub region: String,
    pub group_id: String,
    pub group_name: String,
    pub vpc_id: String,
    pub description: String,
    pub owner_id: String,
    /// The group's rows in `rules.csv`, by direction.
    pub ingress_rule_count: u64,
    pub egress_rule_count: u64,
}

/// Which traffic a rule admits; ingress sorts first.
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Ingress,
    Egress,
}

/// What the peer of a rule is; sorts in the order of its names.
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// An IPv4 range (`cidr-ipv4`).
    #[default]
    CidrIpv4,
    /// An IPv6 range (`cidr-ipv6`).
    CidrIpv6,
    /// A managed prefix list (`prefix-list`).
    PrefixList,
    /// Another security group (`security-group`).
    SecurityGroup,
}

/// One row of `rules.csv`: one peer of one permission of a group.
#[derive(Debug, Default, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RuleRow {
    pub region: String,
    pub group_id: String,
    pub group_name: String,
    pub direction: Direction,
    /// As the API gives it: `-1`, `tcp`, `6`, ...
    pub protocol: String,
    /// `all`, `tcp`, `udp`, `icmp`, `icmpv6` or the number.
    pub protocol_name: String,
    /// Empty when the API gives none.
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub source_kind: SourceKind,
    /// The CIDR, prefix list id or group id; for egress rows the destination.
    pub source: String,
    /// The referenced group's owner, for `security-group` rows.
    pub source_account: String,
    pub description: String,
}

/// One row of `open-to-world.csv`: an ingress rule from `0.0.0.0/0` or `::/0`. The last columns
/// are conveniences (see `crate::judge::network`); the rules recompute them from the protocol
/// and the port range.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRow {
    pub region: String,
    pub group_id: String,
    pub group_name: String,
    pub protocol: String,
    pub protocol_name: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub source: String,
    /// Protocol -1, or tcp/udp over 0-65535.
    pub all_traffic: bool,
    /// Which of 22 and 3389 the rule covers.
    pub admin_ports: cell::List,
    /// Which ports of SPEC section 7, the admin ports included, the rule covers.
    pub sensitive_ports: cell::List,
    pub description: String,
}
