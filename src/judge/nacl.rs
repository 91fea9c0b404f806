//! Network ACLs: whether a network ACL's ingress entries let the whole internet reach a remote
//! administration port (Security Hub EC2.21, CIS 5.1).
//!
//! A network ACL is evaluated as AWS evaluates it: its entries of one direction in ascending
//! rule number, the first entry that matches the traffic deciding. For each address family
//! (IPv4 entries with `0.0.0.0/0`, IPv6 entries with `::/0`), each transport (tcp and udp) and
//! each admin port (22, 3389), the entries are walked in rule-number order and the first entry
//! that applies to that transport and port (protocol `-1`, or the transport with a port range
//! holding the port) and whose CIDR is of that family decides:
//! - a `deny` for the world CIDR closes the port to everyone: not open;
//! - an `allow` for the world CIDR opens it: open, naming that entry;
//! - an entry for a narrower CIDR (allow or deny) decides only for part of the internet and
//!   never for all of it, so the walk goes on to the next entry (a lower-numbered deny of one
//!   range does not close the port to the rest of the world).
//!
//! When no entry decides, the port is closed (every network ACL ends with the `*` deny).

use super::network::{Protocol, ADMIN_PORTS, WORLD_CIDRS};
use crate::contract::vpc_network::NaclEntryRow;

/// One entry of a network ACL, as the `vpc-network` collector lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub rule_number: i32,
    pub egress: bool,
    /// As the API gives it: `-1`, `6`, `17`, ...
    pub protocol: &'a str,
    pub allow: bool,
    /// The IPv4 or IPv6 CIDR of the entry.
    pub cidr: &'a str,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
}

/// A port the world can reach: the family's world CIDR, the transport, the port and the entry
/// that lets it through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub cidr: &'static str,
    pub transport: &'static str,
    pub port: u16,
    pub rule_number: i32,
}

impl Opening {
    /// `0.0.0.0/0 tcp/22 (rule 100)`.
    pub fn describe(&self) -> String {
        format!(
            "{} {}/{} (rule {})",
            self.cidr, self.transport, self.port, self.rule_number
        )
    }
}

/// An entry as `network-acl-entries.csv` lists it (an entry without a rule number sorts
/// last).
pub fn from_row(row: &NaclEntryRow) -> Entry<'_> {
    Entry {
        rule_number: row.rule_number.unwrap_or(i32::MAX),
        egress: row.direction == "egress",
        protocol: &row.protocol,
        allow: row.rule_action == "allow",
        cidr: &row.cidr,
        from_port: row.from_port,
        to_port: row.to_port,
    }
}

fn is_ipv6(cidr: &str) -> bool {
    cidr.contains(':')
}

/// Whether the entry applies to `transport` traffic to `port`.
fn applies(entry: &Entry, transport: &Protocol, port: u16) -> bool {
    match Protocol::parse(entry.protocol) {
        Protocol::All => true,
        p if p == *transport => {
            // A tcp/udp entry without a port range is read as every port (AWS always sends one).
            let from = entry.from_port.unwrap_or(0);
            let to = entry.to_port.unwrap_or(65535);
            from <= i32::from(port) && i32::from(port) <= to
        }
        _ => false,
    }
}

/// The admin ports the ingress entries open to the world, in the order family, transport, port.
pub fn open_admin_ports(entries: &[Entry]) -> Vec<Opening> {
    let mut ingress: Vec<&Entry> = entries.iter().filter(|e| !e.egress).collect();
    ingress.sort_by_key(|e| e.rule_number);
    let mut open = Vec::new();
    for &world in WORLD_CIDRS {
        let family: Vec<&&Entry> = ingress
            .iter()
            .filter(|e| is_ipv6(e.cidr) == is_ipv6(world))
            .collect();
        for (transport, name) in [(Protocol::Tcp, "tcp"), (Protocol::Udp, "udp")] {
            for &port in ADMIN_PORTS {
                let decided = family
                    .iter()
                    .filter(|e| applies(e, &transport, port))
                    .find(|e| e.cidr.trim() == world);
                if let Some(entry) = decided.filter(|e| e.allow) {
                    open.push(Opening {
                        cidr: world,
                        transport: name,
                        port,
                        rule_number: entry.rule_number,
                    });
                }
            }
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        rule_number: i32,
        protocol: &'static str,
        allow: bool,
        cidr: &'static str,
        ports: Option<(i32, i32)>,
    ) -> Entry<'static> {
        Entry {
            rule_number,
            egress: false,
            protocol,
            allow,
            cidr,
            from_port: ports.map(|p| p.0),
            to_port: ports.map(|p| p.1),
        }
    }

    fn described(entries: &[Entry]) -> Vec<String> {
        open_admin_ports(entries)
            .iter()
            .map(Opening::describe)
            .collect()
    }

    #[test]
    fn an_allow_all_opens_every_admin_port_of_its_family() {
        // moto's and AWS's default network ACL: rule 100 allows all, `*` (32767) denies.
        let default = [
            entry(100, "-1", true, "0.0.0.0/0", None),
            entry(32767, "-1", false, "0.0.0.0/0", None),
        ];
        assert_eq!(
            described(&default),
            [
                "0.0.0.0/0 tcp/22 (rule 100)",
                "0.0.0.0/0 tcp/3389 (rule 100)",
                "0.0.0.0/0 udp/22 (rule 100)",
                "0.0.0.0/0 udp/3389 (rule 100)",
            ]
        );
    }

    #[test]
    fn a_lower_numbered_deny_wins_whatever_the_order_given() {
        let entries = [
            entry(100, "-1", true, "0.0.0.0/0", None),
            entry(90, "6", false, "0.0.0.0/0", Some((22, 22))),
        ];
        assert_eq!(
            described(&entries),
            [
                "0.0.0.0/0 tcp/3389 (rule 100)",
                "0.0.0.0/0 udp/22 (rule 100)",
                "0.0.0.0/0 udp/3389 (rule 100)",
            ]
        );
        // A deny numbered after the allow does not close anything.
        let late = [
            entry(100, "-1", true, "0.0.0.0/0", None),
            entry(110, "-1", false, "0.0.0.0/0", None),
        ];
        assert_eq!(described(&late).len(), 4);
    }

    #[test]
    fn a_narrower_deny_leaves_the_rest_of_the_world_open() {
        let entries = [
            entry(90, "6", false, "203.0.113.0/24", Some((22, 22))),
            entry(100, "6", true, "0.0.0.0/0", Some((0, 1024))),
        ];
        assert_eq!(described(&entries), ["0.0.0.0/0 tcp/22 (rule 100)"]);
        // A narrower allow opens the port to part of the internet only: not the world.
        let office = [entry(100, "6", true, "198.51.100.0/24", Some((22, 22)))];
        assert!(described(&office).is_empty());
    }

    #[test]
    fn families_transports_and_ranges_are_told_apart() {
        let entries = [
            // An IPv4 deny does not close IPv6.
            entry(10, "-1", false, "0.0.0.0/0", None),
            entry(20, "6", true, "::/0", Some((3389, 3389))),
            // udp only, outside the admin ports.
            entry(30, "17", true, "::/0", Some((23, 3388))),
            // icmp never covers a port.
            entry(40, "1", true, "::/0", None),
        ];
        assert_eq!(described(&entries), ["::/0 tcp/3389 (rule 20)"]);
        // Egress entries are not ingress.
        let egress = [Entry {
            egress: true,
            ..entry(100, "-1", true, "0.0.0.0/0", None)
        }];
        assert!(described(&egress).is_empty());
        // Nothing decides: closed.
        assert!(described(&[]).is_empty());
    }
}
