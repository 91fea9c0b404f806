//! Security groups open to the internet: on an admin port, on a sensitive port, to all traffic.
//! Read from the `ec2-security-groups` collector's `open-to-world.csv`.
//!
//! The rules compute which ports a rule opens from its protocol and port range
//! (`crate::judge::network`, the definition the collector uses too), not from the precomputed
//! columns, so `report` applies the current logic to an old bundle. A rule open to all traffic
//! fires all three rules (distinct benchmark controls); a port is counted under the admin rule
//! (22, 3389) or the sensitive rule (the other ports of SPEC section 7), never both.

use std::collections::BTreeMap;

use super::arn;
use crate::contract::ec2_security_groups::OpenRow;
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::{Input, Needs, Out, RuleSpec};
use crate::judge::network::{
    covered_ports, is_all_traffic, is_world, Protocol, ADMIN_PORTS, SENSITIVE_PORTS,
};
use crate::vocab::Severity;

const SECURITY_GROUPS: &str = crate::contract::ec2_security_groups::ID;

const CONTROLS: &[Control] = &[Control::Cc6_6];

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "sg-admin-port-open",
        title: "Security group open to the internet on 22 or 3389",
        severity: Severity::High,
        controls: CONTROLS,
        references: &["CIS 5.2", "CIS 5.3", "EC2.13", "EC2.14"],
        remediation: "Remove the ingress rules from 0.0.0.0/0 and ::/0 on ports 22 and 3389; \
                      reach instances through Systems Manager Session Manager, or allow only \
                      known administrative address ranges.",
        needs: Needs::All(&[SECURITY_GROUPS]),
        evaluate: sg_admin_port_open,
    },
    RuleSpec {
        id: "sg-sensitive-port-open",
        title: "Security group open to the internet on a sensitive port",
        severity: Severity::High,
        controls: CONTROLS,
        references: &["EC2.19"],
        remediation: "Restrict the ingress rules on these ports to the networks or security \
                      groups that need them; databases, caches and management consoles should \
                      not be reachable from the internet.",
        needs: Needs::All(&[SECURITY_GROUPS]),
        evaluate: sg_sensitive_port_open,
    },
    RuleSpec {
        id: "sg-all-traffic-open",
        title: "Security group open to all traffic from the internet",
        severity: Severity::Critical,
        controls: CONTROLS,
        references: &[],
        remediation: "Replace the rule that admits all traffic from 0.0.0.0/0 or ::/0 with rules \
                      for the protocols, ports and sources the workload needs.",
        needs: Needs::All(&[SECURITY_GROUPS]),
        evaluate: sg_all_traffic_open,
    },
];

/// One ingress rule open to the world, as the security group rules read it.
struct OpenRule {
    protocol: String,
    from: Option<i32>,
    to: Option<i32>,
    source: String,
}

impl OpenRule {
    /// `tcp 22 from 0.0.0.0/0`, `udp 20-25 from ::/0`, `all traffic from 0.0.0.0/0`.
    fn text(&self) -> String {
        let protocol = Protocol::parse(&self.protocol);
        let what = match protocol {
            Protocol::All => "all traffic".to_string(),
            Protocol::Tcp | Protocol::Udp => match (self.from, self.to) {
                (Some(from), Some(to)) if from == to => format!("{} {from}", protocol.name()),
                (Some(from), Some(to)) => format!("{} {from}-{to}", protocol.name()),
                _ => format!("{} on every port", protocol.name()),
            },
            other => format!("protocol {}", other.name()),
        };
        format!("{what} from {}", self.source)
    }

    fn ports(&self, ports: &[u16]) -> Vec<u16> {
        covered_ports(&self.protocol, self.from, self.to, ports)
    }

    fn all_traffic(&self) -> bool {
        is_all_traffic(&self.protocol, self.from, self.to)
    }
}

/// A security group with its ingress rules open to the world.
struct OpenGroup {
    region: String,
    id: String,
    name: String,
    rules: Vec<OpenRule>,
}

impl OpenGroup {
    /// The finding on this group: it admits `what`, through the `offending` rules.
    fn report(&self, input: &Input, out: &mut Out<'_>, what: &str, offending: &[String]) {
        out.add(
            arn(
                input,
                "ec2",
                &self.region,
                &format!("security-group/{}", self.id),
            ),
            self.region.as_str(),
            format!(
                "Security group {} ({}) admits {what}: {}.",
                self.name,
                self.id,
                offending.join("; ")
            ),
            OpenRow::PATH,
        );
    }
}

/// The groups of `open-to-world.csv` in covered regions that were read, by region and id.
fn open_groups(input: &Input) -> Result<Vec<OpenGroup>, String> {
    let rows = input.table::<OpenRow>()?;
    let mut groups: BTreeMap<(String, String), OpenGroup> = BTreeMap::new();
    for row in rows {
        if !input.region_collected(SECURITY_GROUPS, &row.region) || !is_world(&row.source) {
            continue;
        }
        let rule = OpenRule {
            protocol: row.protocol,
            from: row.from_port,
            to: row.to_port,
            source: row.source.trim().to_string(),
        };
        groups
            .entry((row.region.clone(), row.group_id.clone()))
            .or_insert_with(|| OpenGroup {
                region: row.region,
                id: row.group_id,
                name: row.group_name,
                rules: Vec::new(),
            })
            .rules
            .push(rule);
    }
    Ok(groups.into_values().collect())
}

fn join_ports(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One finding per group with a rule opening one of `ports` to the world; the detail lists
/// each such rule with the ports of `ports` it opens.
fn sg_ports_rule(
    input: &Input,
    out: &mut Out<'_>,
    ports: &[u16],
    what: &str,
) -> Result<(), String> {
    for group in open_groups(input)? {
        let mut offending = Vec::new();
        for rule in &group.rules {
            let covered = rule.ports(ports);
            if covered.is_empty() {
                continue;
            }
            // The two admin ports are listed; a rule covering every one of the many sensitive
            // ports (all traffic) says so instead of listing 31 numbers.
            let listed = if covered.len() == ports.len() && ports.len() > ADMIN_PORTS.len() {
                format!("all {} {what}", ports.len())
            } else {
                join_ports(&covered)
            };
            offending.push(format!("{} ({listed})", rule.text()));
        }
        if offending.is_empty() {
            continue;
        }
        group.report(input, out, &format!("the internet to {what}"), &offending);
    }
    Ok(())
}

fn sg_admin_port_open(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    sg_ports_rule(input, out, ADMIN_PORTS, "remote administration ports")
}

/// The sensitive ports of SPEC section 7 without the admin ones (those are the admin rule's).
fn sensitive_ports() -> Vec<u16> {
    SENSITIVE_PORTS
        .iter()
        .copied()
        .filter(|p| !ADMIN_PORTS.contains(p))
        .collect()
}

fn sg_sensitive_port_open(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    sg_ports_rule(input, out, &sensitive_ports(), "sensitive ports")
}

fn sg_all_traffic_open(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for group in open_groups(input)? {
        let offending: Vec<String> = group
            .rules
            .iter()
            .filter(|rule| rule.all_traffic())
            .map(OpenRule::text)
            .collect();
        if offending.is_empty() {
            continue;
        }
        group.report(input, out, "all traffic from the internet", &offending);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::testkit::{Bundle, EAST};

    /// An open-to-world row with the precomputed columns left empty: the rules compute the
    /// ports themselves.
    fn open(id: &str, protocol: &str, from: Option<i32>, to: Option<i32>, source: &str) -> OpenRow {
        OpenRow {
            region: EAST.into(),
            group_id: format!("sg-{id}"),
            group_name: id.into(),
            protocol: protocol.into(),
            protocol_name: Protocol::parse(protocol).name().into(),
            from_port: from,
            to_port: to,
            source: source.into(),
            ..OpenRow::default()
        }
    }

    fn sg_bundle(rows: &[OpenRow]) -> Bundle {
        Bundle::new().table(rows).collected(SECURITY_GROUPS)
    }

    fn sg(id: &str) -> String {
        format!("arn:aws:ec2:us-east-1:123456789012:security-group/{id}")
    }

    #[test]
    fn sensitive_ports_never_include_the_admin_ones() {
        assert!(sensitive_ports().iter().all(|p| !ADMIN_PORTS.contains(p)));
        assert_eq!(
            sensitive_ports().len() + ADMIN_PORTS.len(),
            SENSITIVE_PORTS.len()
        );
    }

    #[test]
    fn sg_rules_compute_ports_from_protocol_and_range() {
        let bundle = sg_bundle(&[
            open("range", "tcp", Some(20), Some(25), "0.0.0.0/0"),
            open("all", "-1", None, None, "0.0.0.0/0"),
            open("v6", "6", Some(3389), Some(3389), "::/0"),
            open("icmp", "icmp", Some(-1), Some(-1), "0.0.0.0/0"),
            open("icmp6", "58", Some(-1), Some(-1), "::/0"),
            open("wide", "tcp", Some(0), Some(65535), "0.0.0.0/0"),
            open("udp", "17", Some(5432), Some(5432), "::/0"),
            open("web", "tcp", Some(443), Some(443), "0.0.0.0/0"),
            open("inside", "tcp", Some(22), Some(22), "10.0.0.0/8"),
        ]);
        let ids = |rule: &str| -> Vec<String> {
            bundle
                .hits(rule)
                .into_iter()
                .map(|(resource, _)| resource.rsplit('/').next().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            ids("sg-admin-port-open"),
            ["sg-all", "sg-range", "sg-v6", "sg-wide"]
        );
        assert_eq!(
            ids("sg-sensitive-port-open"),
            ["sg-all", "sg-range", "sg-udp", "sg-wide"]
        );
        assert_eq!(ids("sg-all-traffic-open"), ["sg-all", "sg-wide"]);

        let detail = |rule: &str, id: &str| {
            bundle
                .details(rule)
                .into_iter()
                .find(|(resource, _)| *resource == sg(id))
                .unwrap()
                .1
        };
        // 20-25: 22 is the admin rule's; 20, 21, 23 and 25 are sensitive.
        assert!(detail("sg-admin-port-open", "sg-range").contains("tcp 20-25 from 0.0.0.0/0 (22)"));
        assert!(detail("sg-sensitive-port-open", "sg-range")
            .contains("tcp 20-25 from 0.0.0.0/0 (20, 21, 23, 25)"));
        assert!(detail("sg-admin-port-open", "sg-v6").contains("tcp 3389 from ::/0 (3389)"));
        assert!(detail("sg-admin-port-open", "sg-all")
            .contains("all traffic from 0.0.0.0/0 (22, 3389)"));
        assert!(detail("sg-sensitive-port-open", "sg-all").contains("all 31 sensitive ports"));
        assert!(detail("sg-all-traffic-open", "sg-wide").contains("tcp 0-65535 from 0.0.0.0/0"));
        assert_eq!(bundle.hits("sg-admin-port-open")[0].1, EAST);
        let (_, _, found) = bundle.outcome("sg-admin-port-open");
        assert_eq!(found[0].evidence, OpenRow::PATH);
    }

    #[test]
    fn sg_rules_give_one_finding_per_group_listing_every_offending_rule() {
        let bundle = sg_bundle(&[
            open("1", "tcp", Some(22), Some(22), "0.0.0.0/0"),
            open("1", "tcp", Some(22), Some(22), "::/0"),
            open("1", "-1", None, None, "::/0"),
        ]);
        let found = bundle.details("sg-admin-port-open");
        assert_eq!(found.len(), 1);
        assert!(found[0].1.contains(
            "tcp 22 from 0.0.0.0/0 (22); tcp 22 from ::/0 (22); all traffic from ::/0 (22, 3389)"
        ));
        let (_, _, found) = bundle.outcome("sg-all-traffic-open");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].detail.contains("all traffic from ::/0"));

        // No world-open rule: nothing.
        let bundle = sg_bundle(&[]);
        for rule in [
            "sg-admin-port-open",
            "sg-sensitive-port-open",
            "sg-all-traffic-open",
        ] {
            assert!(bundle.hits(rule).is_empty(), "{rule}");
        }
    }
}
