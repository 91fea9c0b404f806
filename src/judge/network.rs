//! Network logic: which ports a security group rule opens, which sources are the world.
//!
//! A rule covers a port when its protocol is -1 (all), or tcp/udp (`tcp`/`6`, `udp`/`17`) with
//! FromPort <= port <= ToPort; ICMP and other protocols never cover a port. The
//! `ec2-security-groups` collector uses it for the convenience columns of `open-to-world.csv`
//! (`all_traffic`, `admin_ports`, `sensitive_ports`); the security group rules judge each rule
//! from its protocol and port range with it, so `report` applies this logic to an old bundle.

/// Remote administration ports (CIS 5.2/5.3, Security Hub EC2.13/EC2.14).
pub const ADMIN_PORTS: &[u16] = &[22, 3389];

/// Every port of SPEC section 7 (Security Hub EC2.19 and public tools), admin ports included.
pub const SENSITIVE_PORTS: &[u16] = &[
    20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 1521, 2483, 3000, 3306, 3389, 4333, 5000,
    5432, 5500, 5601, 6379, 7199, 8080, 8088, 8888, 9092, 9160, 9200, 9300, 11211, 27017, 27018,
];

/// The CIDRs that mean "the whole internet".
pub const WORLD_CIDRS: &[&str] = &["0.0.0.0/0", "::/0"];

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

    /// Whether the protocol has ports (tcp and udp).
    pub fn has_ports(&self) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn join(ports: &[u16]) -> String {
        ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(";")
    }

    fn open(protocol: &str, from: Option<i32>, to: Option<i32>) -> (bool, String, String) {
        (
            is_all_traffic(protocol, from, to),
            join(&covered_ports(protocol, from, to, ADMIN_PORTS)),
            join(&covered_ports(protocol, from, to, SENSITIVE_PORTS)),
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
        assert_eq!(sensitive, join(SENSITIVE_PORTS));
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
        assert_eq!(sensitive, join(SENSITIVE_PORTS));
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
}
