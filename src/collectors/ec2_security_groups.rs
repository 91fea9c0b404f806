//! `ec2-security-groups`: every security group and every rule in each covered region, and the
//! ingress rules open to the whole internet with the ports they expose.
//!
//! Calls: `DescribeSecurityGroups` per region (paginated with the largest page, 1000 groups).
//! Permissions: `ec2:DescribeSecurityGroups`.
//! Controls: CC6.6.
//! Files (their tables declared in `crate::contract::ec2_security_groups`):
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
//! FromPort <= port <= ToPort; ICMP and other protocols never cover a port
//! (`crate::judge::network`, which the security group rules use too).

use aws_sdk_ec2::types::{IpPermission, SecurityGroup};
use serde::Serialize;

use super::{for_each_region, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use crate::contract::cell;
use crate::contract::ec2_security_groups::{Direction, GroupRow, OpenRow, RuleRow, SourceKind};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::judge::network::{
    covered_ports, is_all_traffic, is_world, Protocol, ADMIN_PORTS, SENSITIVE_PORTS,
};
use crate::vocab::CallError;
use crate::vocab::Scope;

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::ec2_security_groups::ID,
    title: "EC2 security groups and rules open to the internet",
    controls: &[Control::Cc6_6],
    scope: Scope::Regional,
    permissions: &["ec2:DescribeSecurityGroups"],
    run,
    optional_permissions: &[],
};

/// The largest page DescribeSecurityGroups allows.
const PAGE_SIZE: i32 = 1000;

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

// ---- Files ----

/// The `;`-joined cell of a list of ports.
fn ports_cell(ports: &[u16]) -> cell::List {
    ports.iter().map(u16::to_string).collect()
}

fn open_row(rule: &RuleRow) -> OpenRow {
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
        admin_ports: ports_cell(&covered_ports(protocol, from, to, ADMIN_PORTS)),
        sensitive_ports: ports_cell(&covered_ports(protocol, from, to, SENSITIVE_PORTS)),
        description: rule.description.clone(),
    }
}

/// A group as DescribeSecurityGroups returned it, with its region (and its row of
/// `security-groups.csv`, not part of the JSON).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupJson {
    #[serde(skip)]
    row: GroupRow,
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

fn group_json(region: &str, g: &SecurityGroup, row: GroupRow) -> GroupJson {
    GroupJson {
        row,
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
        let peer = |kind: SourceKind, source: Option<&str>, description: Option<&str>| RuleRow {
            source_kind: kind,
            source: source.unwrap_or_default().to_string(),
            description: description.unwrap_or_default().to_string(),
            ..base.clone()
        };
        rows.extend(
            p.ip_ranges()
                .iter()
                .map(|r| peer(SourceKind::CidrIpv4, r.cidr_ip(), r.description())),
        );
        rows.extend(
            p.ipv6_ranges()
                .iter()
                .map(|r| peer(SourceKind::CidrIpv6, r.cidr_ipv6(), r.description())),
        );
        rows.extend(
            p.prefix_list_ids()
                .iter()
                .map(|l| peer(SourceKind::PrefixList, l.prefix_list_id(), l.description())),
        );
        rows.extend(p.user_id_group_pairs().iter().map(|g| RuleRow {
            source_account: g.user_id().unwrap_or_default().to_string(),
            ..peer(
                SourceKind::SecurityGroup,
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
    let mut rules = Vec::new();
    for (region, mut region_groups) in regions {
        region_groups.sort_by(|a, b| a.group_id().cmp(&b.group_id()));
        for group in &region_groups {
            let ingress = rule_rows(&region, group, Direction::Ingress);
            let egress = rule_rows(&region, group, Direction::Egress);
            let row = GroupRow {
                region: region.clone(),
                group_id: group.group_id().unwrap_or_default().to_string(),
                group_name: group.group_name().unwrap_or_default().to_string(),
                vpc_id: group.vpc_id().unwrap_or_default().to_string(),
                description: group.description().unwrap_or_default().to_string(),
                owner_id: group.owner_id().unwrap_or_default().to_string(),
                ingress_rule_count: ingress.len() as u64,
                egress_rule_count: egress.len() as u64,
            };
            groups.push(group_json(&region, group, row));
            rules.extend(ingress);
            rules.extend(egress);
        }
    }
    // Sorted by region, group, direction (ingress first), then the rule itself.
    rules.sort();
    let open: Vec<OpenRow> = rules
        .iter()
        .filter(|r| r.direction == Direction::Ingress && is_world(&r.source))
        .map(open_row)
        .collect();

    if groups.is_empty() {
        out.note("security_groups", "none in the regions read");
    }
    out.note("open_to_world_rules", open.len());
    out.table_with_twin(&groups, |g| g.row.clone())?;
    out.table(&rules)?;
    out.table(&open)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
                (SourceKind::CidrIpv4, "0.0.0.0/0", ""),
                (SourceKind::CidrIpv4, "10.0.0.0/8", ""),
                (SourceKind::CidrIpv6, "::/0", ""),
                (SourceKind::PrefixList, "pl-1", ""),
                (SourceKind::SecurityGroup, "sg-2", "111122223333"),
            ]
        );
        assert_eq!(rows[1].description, "office");
        assert!(rows.iter().all(|r| r.from_port == Some(443)
            && r.protocol_name == "tcp"
            && r.group_name == "web"));
        assert!(rule_rows("us-east-1", &group, Direction::Egress).is_empty());
    }
}
