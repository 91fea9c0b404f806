//! `ec2-security-groups`: every security group and every rule in each covered region, and the
//! ingress rules open to the whole internet with the ports they expose.
//!
//! Calls: `DescribeSecurityGroups` per region (paginated with the largest page, 1000 groups).
//! Permissions: `ec2:DescribeSecurityGroups`.
//! Controls: CC6.6.
//! Files:
//! - `security-groups.csv`: region, group_id, group_name, vpc_id, description, owner_id,
//!   ingress_rule_count, egress_rule_count (counts of the group's rows in `rules.csv`).
//! - `security-groups.json`: the groups as the API returned them (PascalCase), with `Region`.
//! - `rules.csv`: one row per rule and peer (each IPv4 range, IPv6 range, prefix list and
//!   referenced group of a permission is its own row): region, group_id, group_name, direction
//!   (`ingress`/`egress`), protocol (as the API gives it: `-1`, `tcp`, `6`, ...), protocol_name
//!   (`all`, `tcp`, `udp`, `icmp`, `icmpv6` or the number), from_port, to_port (empty when the
//!   API gives none), source_kind (`cidr-ipv4`, `cidr-ipv6`, `prefix-list`, `security-group`),
//!   source (the CIDR, prefix list id or group id; for egress rows the destination),
//!   source_account (the referenced group's owner, for `security-group` rows), description.
//! - `open-to-world.csv`: ingress rows from `0.0.0.0/0` or `::/0`: region, group_id, group_name,
//!   protocol, protocol_name, from_port, to_port, source, all_traffic (protocol -1, or tcp/udp
//!   over 0-65535), admin_ports (which of 22 and 3389 the rule covers), sensitive_ports (which
//!   ports of SPEC section 7, the admin ports included, it covers), both `;`-joined, and
//!   description.
//!
//! A rule covers a port when its protocol is -1 (all), or tcp/udp (`tcp`/`6`, `udp`/`17`) with
//! FromPort <= port <= ToPort; ICMP and other protocols never cover a port.

use aws_sdk_ec2::types::{IpPermission, SecurityGroup};
use serde::Serialize;

use super::{for_each_region, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::CallError;
use crate::vocab::Scope;

pub const SPEC: CollectorSpec = CollectorSpec {
    id: "ec2-security-groups",
    title: "EC2 security groups and rules open to the internet",
    controls: &[Control::Cc6_6],
    scope: Scope::Regional,
    permissions: &["ec2:DescribeSecurityGroups"],
    run,
};

/// The largest page DescribeSecurityGroups allows.
const PAGE_SIZE: i32 = 1000;

/// Remote administration ports (CIS 5.2/5.3, Security Hub EC2.13/EC2.14).
pub const ADMIN_PORTS: &[u16] = &[22, 3389];

/// Every port of SPEC section 7 (Security Hub EC2.19 and public tools), admin ports included.
pub const SENSITIVE_PORTS: &[u16] = &[
    20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 1521, 2483, 3000, 3306, 3389, 4333, 5000,
    5432, 5500, 5601, 6379, 7199, 8080, 8088, 8888, 9092, 9160, 9200, 9300, 11211, 27017, 27018,
];

/// The CIDRs that mean "the whole internet".
pub const WORLD_CIDRS: &[&str] = &["0.0.0.0/0", "::/0"];

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

// ---- Pure rule logic ----

/// A rule's IP protocol, from the name or number the API gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    All,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Other(String),
}

impl Protocol {
    pub fn parse(raw: &str) -> Protocol {
        match raw.trim().to_ascii_lowercase().as_str() {
            "-1" | "all" => Protocol::All,
            "tcp" | "6" => Protocol::Tcp,
            "udp" | "17" => Protocol::Udp,
            "icmp" | "1" => Protocol::Icmp,
            "icmpv6" | "58" => Protocol::Icmpv6,
            other => Protocol::Other(other.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Protocol::All => "all",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::Icmpv6 => "icmpv6",
            Protocol::Other(other) => other,
        }
    }

    fn has_ports(&self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }
}

/// The port range of a tcp/udp rule; a missing bound (never sent by AWS for tcp/udp) is read
/// as the widest one, so a malformed rule is never taken for a narrow one.
fn port_range(from: Option<i32>, to: Option<i32>) -> (i32, i32) {
    (from.unwrap_or(0), to.unwrap_or(65535))
}

/// Whether a rule with this protocol and port range lets traffic to `port` through.
pub fn covers_port(protocol: &str, from: Option<i32>, to: Option<i32>, port: u16) -> bool {
    let protocol = Protocol::parse(protocol);
    match protocol {
        Protocol::All => true,
        p if p.has_ports() => {
            let (from, to) = port_range(from, to);
            from <= i32::from(port) && i32::from(port) <= to
        }
        _ => false,
    }
}

/// Protocol -1, or tcp/udp over every port.
pub fn is_all_traffic(protocol: &str, from: Option<i32>, to: Option<i32>) -> bool {
    match Protocol::parse(protocol) {
        Protocol::All => true,
        p if p.has_ports() => {
            let (from, to) = port_range(from, to);
            from <= 0 && to >= 65535
        }
        _ => false,
    }
}

/// The ports of `ports` the rule covers, in the order given.
pub fn covered_ports(
    protocol: &str,
    from: Option<i32>,
    to: Option<i32>,
    ports: &[u16],
) -> Vec<u16> {
    ports
        .iter()
        .copied()
        .filter(|&port| covers_port(protocol, from, to, port))
        .collect()
}

/// Whether a CIDR stands for every address (`0.0.0.0/0` or `::/0`).
pub fn is_world(cidr: &str) -> bool {
    WORLD_CIDRS.contains(&cidr.trim())
}

pub fn join_ports(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(";")
}

// ---- Files ----

#[derive(Debug, Default, Clone, Serialize)]
struct GroupRow {
    region: String,
    group_id: String,
    group_name: String,
    vpc_id: String,
    description: String,
    owner_id: String,
    ingress_rule_count: usize,
    egress_rule_count: usize,
}

/// Which traffic a rule admits; ingress sorts first.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
enum Direction {
    #[default]
    Ingress,
    Egress,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct RuleRow {
    region: String,
    group_id: String,
    group_name: String,
    direction: Direction,
    protocol: String,
    protocol_name: String,
    from_port: Option<i32>,
    to_port: Option<i32>,
    source_kind: &'static str,
    source: String,
    source_account: String,
    description: String,
}

#[derive(Debug, Default, Clone, Serialize)]
struct OpenRow {
    region: String,
    group_id: String,
    group_name: String,
    protocol: String,
    protocol_name: String,
    from_port: Option<i32>,
    to_port: Option<i32>,
    source: String,
    all_traffic: bool,
    admin_ports: String,
    sensitive_ports: String,
    description: String,
}

impl OpenRow {
    fn of(rule: &RuleRow) -> OpenRow {
        let (protocol, from, to) = (rule.protocol.as_str(), rule.from_port, rule.to_port);
        OpenRow {
            region: rule.region.clone(),
            group_id: rule.group_id.clone(),
            group_name: rule.group_name.clone(),
            protocol: rule.protocol.clone(),
            protocol_name: rule.protocol_name.clone(),
            from_port: from,
            to_port: to,
            source: rule.source.clone(),
            all_traffic: is_all_traffic(protocol, from, to),
            admin_ports: join_ports(&covered_ports(protocol, from, to, ADMIN_PORTS)),
            sensitive_ports: join_ports(&covered_ports(protocol, from, to, SENSITIVE_PORTS)),
            description: rule.description.clone(),
        }
    }
}

/// A group as DescribeSecurityGroups returned it, with its region.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupJson {
    region: String,
    group_id: Option<String>,
    group_name: Option<String>,
    vpc_id: Option<String>,
    description: Option<String>,
    owner_id: Option<String>,
    security_group_arn: Option<String>,
    tags: Vec<TagJson>,
    ip_permissions: Vec<PermissionJson>,
    ip_permissions_egress: Vec<PermissionJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagJson {
    key: Option<String>,
    value: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PermissionJson {
    ip_protocol: Option<String>,
    from_port: Option<i32>,
    to_port: Option<i32>,
    ip_ranges: Vec<CidrJson>,
    ipv6_ranges: Vec<CidrJson>,
    prefix_list_ids: Vec<PrefixListJson>,
    user_id_group_pairs: Vec<GroupPairJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CidrJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    cidr_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cidr_ipv6: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PrefixListJson {
    prefix_list_id: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupPairJson {
    group_id: Option<String>,
    group_name: Option<String>,
    user_id: Option<String>,
    vpc_id: Option<String>,
    vpc_peering_connection_id: Option<String>,
    peering_status: Option<String>,
    description: Option<String>,
}

fn owned(value: Option<&str>) -> Option<String> {
    value.map(str::to_string)
}

fn permission_json(p: &IpPermission) -> PermissionJson {
    PermissionJson {
        ip_protocol: owned(p.ip_protocol()),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ip_ranges: p
            .ip_ranges()
            .iter()
            .map(|r| CidrJson {
                cidr_ip: owned(r.cidr_ip()),
                cidr_ipv6: None,
                description: owned(r.description()),
            })
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .map(|r| CidrJson {
                cidr_ip: None,
                cidr_ipv6: owned(r.cidr_ipv6()),
                description: owned(r.description()),
            })
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .map(|l| PrefixListJson {
                prefix_list_id: owned(l.prefix_list_id()),
                description: owned(l.description()),
            })
            .collect(),
        user_id_group_pairs: p
            .user_id_group_pairs()
            .iter()
            .map(|g| GroupPairJson {
                group_id: owned(g.group_id()),
                group_name: owned(g.group_name()),
                user_id: owned(g.user_id()),
                vpc_id: owned(g.vpc_id()),
                vpc_peering_connection_id: owned(g.vpc_peering_connection_id()),
                peering_status: owned(g.peering_status()),
                description: owned(g.description()),
            })
            .collect(),
    }
}

fn group_json(region: &str, g: &SecurityGroup) -> GroupJson {
    GroupJson {
        region: region.to_string(),
        group_id: owned(g.group_id()),
        group_name: owned(g.group_name()),
        vpc_id: owned(g.vpc_id()),
        description: owned(g.description()),
        owner_id: owned(g.owner_id()),
        security_group_arn: owned(g.security_group_arn()),
        tags: g
            .tags()
            .iter()
            .map(|t| TagJson {
                key: owned(t.key()),
                value: owned(t.value()),
            })
            .collect(),
        ip_permissions: g.ip_permissions().iter().map(permission_json).collect(),
        ip_permissions_egress: g
            .ip_permissions_egress()
            .iter()
            .map(permission_json)
            .collect(),
    }
}

/// One row per peer of each permission: every IPv4 range, IPv6 range, prefix list and
/// referenced group is its own rule.
fn rule_rows(region: &str, group: &SecurityGroup, direction: Direction) -> Vec<RuleRow> {
    let permissions = match direction {
        Direction::Ingress => group.ip_permissions(),
        Direction::Egress => group.ip_permissions_egress(),
    };
    let mut rows = Vec::new();
    for p in permissions {
        let protocol = p.ip_protocol().unwrap_or_default().to_string();
        let base = RuleRow {
            region: region.to_string(),
            group_id: group.group_id().unwrap_or_default().to_string(),
            group_name: group.group_name().unwrap_or_default().to_string(),
            direction,
            protocol_name: Protocol::parse(&protocol).name().to_string(),
            protocol,
            from_port: p.from_port(),
            to_port: p.to_port(),
            ..RuleRow::default()
        };
        let peer = |kind: &'static str, source: Option<&str>, description: Option<&str>| RuleRow {
            source_kind: kind,
            source: source.unwrap_or_default().to_string(),
            description: description.unwrap_or_default().to_string(),
            ..base.clone()
        };
        rows.extend(
            p.ip_ranges()
                .iter()
                .map(|r| peer("cidr-ipv4", r.cidr_ip(), r.description())),
        );
        rows.extend(
            p.ipv6_ranges()
                .iter()
                .map(|r| peer("cidr-ipv6", r.cidr_ipv6(), r.description())),
        );
        rows.extend(
            p.prefix_list_ids()
                .iter()
                .map(|l| peer("prefix-list", l.prefix_list_id(), l.description())),
        );
        rows.extend(p.user_id_group_pairs().iter().map(|g| RuleRow {
            source_account: g.user_id().unwrap_or_default().to_string(),
            ..peer(
                "security-group",
                g.group_id().or(g.group_name()),
                g.description(),
            )
        }));
    }
    rows
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let regions = for_each_region(ctx, out, |region| async move {
        let ec2 = ctx.clients.ec2(&region);
        let groups: Vec<SecurityGroup> = ec2
            .describe_security_groups()
            .into_paginator()
            .page_size(PAGE_SIZE)
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| CallError::from_sdk(&region, "DescribeSecurityGroups", &e))?;
        Ok(RegionOutput::complete(groups))
    })
    .await?;

    let mut groups = Vec::new();
    let mut group_docs = Vec::new();
    let mut rules = Vec::new();
    for (region, mut region_groups) in regions {
        region_groups.sort_by(|a, b| a.group_id().cmp(&b.group_id()));
        for group in &region_groups {
            let ingress = rule_rows(&region, group, Direction::Ingress);
            let egress = rule_rows(&region, group, Direction::Egress);
            groups.push(GroupRow {
                region: region.clone(),
                group_id: group.group_id().unwrap_or_default().to_string(),
                group_name: group.group_name().unwrap_or_default().to_string(),
                vpc_id: group.vpc_id().unwrap_or_default().to_string(),
                description: group.description().unwrap_or_default().to_string(),
                owner_id: group.owner_id().unwrap_or_default().to_string(),
                ingress_rule_count: ingress.len(),
                egress_rule_count: egress.len(),
            });
            group_docs.push(group_json(&region, group));
            rules.extend(ingress);
            rules.extend(egress);
        }
    }
    // Sorted by region, group, direction (ingress first), then the rule itself.
    rules.sort();
    let open: Vec<OpenRow> = rules
        .iter()
        .filter(|r| r.direction == Direction::Ingress && is_world(&r.source))
        .map(OpenRow::of)
        .collect();

    if groups.is_empty() {
        out.note("security_groups", "none in the regions read");
    }
    out.note("open_to_world_rules", open.len());
    out.csv("security-groups.csv", &groups)?;
    out.json(
        "security-groups.json",
        &group_docs,
        Some(group_docs.len() as u64),
    )?;
    out.csv("rules.csv", &rules)?;
    out.csv("open-to-world.csv", &open)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(protocol: &str, from: Option<i32>, to: Option<i32>) -> (bool, String, String) {
        (
            is_all_traffic(protocol, from, to),
            join_ports(&covered_ports(protocol, from, to, ADMIN_PORTS)),
            join_ports(&covered_ports(protocol, from, to, SENSITIVE_PORTS)),
        )
    }

    #[test]
    fn a_range_covering_22_exposes_ssh_and_the_sensitive_ports_in_it() {
        assert_eq!(
            open("tcp", Some(20), Some(25)),
            (false, "22".into(), "20;21;22;23;25".into())
        );
        assert!(covers_port("6", Some(22), Some(22), 22));
        assert!(!covers_port("tcp", Some(23), Some(3388), 22));
        assert!(!covers_port("tcp", Some(23), Some(3388), 3389));
    }

    #[test]
    fn protocol_minus_one_covers_everything() {
        let (all, admin, sensitive) = open("-1", None, None);
        assert!(all);
        assert_eq!(admin, "22;3389");
        assert_eq!(sensitive, join_ports(SENSITIVE_PORTS));
        assert!(covers_port("-1", Some(-1), Some(-1), 0));
        assert!(covers_port("-1", None, None, 65535));
    }

    #[test]
    fn the_ipv6_world_counts_as_the_world() {
        assert!(is_world("::/0"));
        assert!(is_world("0.0.0.0/0"));
        assert!(!is_world("10.0.0.0/8"));
        assert!(!is_world("::/1"));
        assert!(!is_world("0.0.0.0/1"));
        assert!(!is_world("pl-12345678"));
    }

    #[test]
    fn icmp_never_covers_a_port() {
        for protocol in ["icmp", "1", "icmpv6", "58", "ICMP"] {
            assert_eq!(
                open(protocol, Some(-1), Some(-1)),
                (false, String::new(), String::new())
            );
            // ICMP type 22 / code 22 is not port 22.
            assert!(!covers_port(protocol, Some(22), Some(22), 22));
            assert!(!covers_port(protocol, Some(0), Some(65535), 3389));
        }
    }

    #[test]
    fn udp_ranges_cover_ports_like_tcp() {
        assert_eq!(
            open("udp", Some(3389), Some(3389)),
            (false, "3389".into(), "3389".into())
        );
        assert!(covers_port("17", Some(11211), Some(11211), 11211));
        assert!(!covers_port("udp", Some(53), Some(53), 22));
    }

    #[test]
    fn port_0_to_65535_is_all_traffic() {
        let (all, admin, sensitive) = open("tcp", Some(0), Some(65535));
        assert!(all);
        assert_eq!(admin, "22;3389");
        assert_eq!(sensitive, join_ports(SENSITIVE_PORTS));
        assert!(is_all_traffic("udp", Some(0), Some(65535)));
        assert!(!is_all_traffic("tcp", Some(1), Some(65535)));
        assert!(!is_all_traffic("icmp", Some(-1), Some(-1)));
    }

    #[test]
    fn a_single_port_covers_only_itself() {
        assert_eq!(
            open("tcp", Some(443), Some(443)),
            (false, String::new(), String::new())
        );
        assert_eq!(
            open("tcp", Some(5432), Some(5432)),
            (false, String::new(), "5432".into())
        );
        assert!(covers_port("tcp", Some(443), Some(443), 443));
        assert!(!covers_port("tcp", Some(443), Some(443), 444));
    }

    #[test]
    fn other_protocols_cover_no_port() {
        // ESP (50) has no ports; only -1 means every protocol.
        assert!(!covers_port("50", None, None, 22));
        assert!(!is_all_traffic("50", None, None));
        assert_eq!(Protocol::parse("50").name(), "50");
        assert_eq!(Protocol::parse("-1").name(), "all");
        assert_eq!(Protocol::parse("6").name(), "tcp");
    }

    #[test]
    fn the_sensitive_ports_are_those_of_spec_section_7() {
        assert_eq!(SENSITIVE_PORTS.len(), 33);
        assert!(SENSITIVE_PORTS.windows(2).all(|w| w[0] < w[1]));
        for port in ADMIN_PORTS {
            assert!(SENSITIVE_PORTS.contains(port));
        }
    }

    #[test]
    fn every_peer_of_a_permission_is_its_own_rule() {
        use aws_sdk_ec2::types::{IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};
        let group = SecurityGroup::builder()
            .group_id("sg-1")
            .group_name("web")
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(443)
                    .to_port(443)
                    .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .ip_ranges(
                        IpRange::builder()
                            .cidr_ip("10.0.0.0/8")
                            .description("office")
                            .build(),
                    )
                    .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
                    .prefix_list_ids(PrefixListId::builder().prefix_list_id("pl-1").build())
                    .user_id_group_pairs(
                        UserIdGroupPair::builder()
                            .group_id("sg-2")
                            .user_id("111122223333")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let rows = rule_rows("us-east-1", &group, Direction::Ingress);
        let peers: Vec<_> = rows
            .iter()
            .map(|r| (r.source_kind, r.source.as_str(), r.source_account.as_str()))
            .collect();
        assert_eq!(
            peers,
            [
                ("cidr-ipv4", "0.0.0.0/0", ""),
                ("cidr-ipv4", "10.0.0.0/8", ""),
                ("cidr-ipv6", "::/0", ""),
                ("prefix-list", "pl-1", ""),
                ("security-group", "sg-2", "111122223333"),
            ]
        );
        assert_eq!(rows[1].description, "office");
        assert!(rows.iter().all(|r| r.from_port == Some(443)
            && r.protocol_name == "tcp"
            && r.group_name == "web"));
        assert!(rule_rows("us-east-1", &group, Direction::Egress).is_empty());
    }
}
