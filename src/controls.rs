//! Trust Services Criteria the evidence supports, as typed values attached to collectors.
//!
//! A control is never a free string: collectors name them by variant, so the control matrix of
//! the manifest cannot hold a dangling id.

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Control {
    Cc5_2,
    Cc6_1,
    Cc6_2,
    Cc6_3,
    Cc6_6,
    Cc6_7,
    Cc7_1,
    Cc7_2,
    Cc7_3,
    Cc8_1,
}

impl Control {
    pub const ALL: [Control; 10] = [
        Control::Cc5_2,
        Control::Cc6_1,
        Control::Cc6_2,
        Control::Cc6_3,
        Control::Cc6_6,
        Control::Cc6_7,
        Control::Cc7_1,
        Control::Cc7_2,
        Control::Cc7_3,
        Control::Cc8_1,
    ];

    /// The criterion's id as the AICPA writes it, e.g. `CC6.1`.
    pub fn id(self) -> &'static str {
        match self {
            Control::Cc5_2 => "CC5.2",
            Control::Cc6_1 => "CC6.1",
            Control::Cc6_2 => "CC6.2",
            Control::Cc6_3 => "CC6.3",
            Control::Cc6_6 => "CC6.6",
            Control::Cc6_7 => "CC6.7",
            Control::Cc7_1 => "CC7.1",
            Control::Cc7_2 => "CC7.2",
            Control::Cc7_3 => "CC7.3",
            Control::Cc8_1 => "CC8.1",
        }
    }

    /// A short description of what the criterion asks for.
    pub fn title(self) -> &'static str {
        match self {
            Control::Cc5_2 => "General control activities over technology",
            Control::Cc6_1 => "Logical access security over protected information assets",
            Control::Cc6_2 => "User registration, authorization and removal",
            Control::Cc6_3 => "Role-based access, least privilege and access changes",
            Control::Cc6_6 => "Protection against threats from outside the system boundary",
            Control::Cc6_7 => "Protection of information in transmission and at rest",
            Control::Cc7_1 => "Detection of configuration changes that introduce vulnerabilities",
            Control::Cc7_2 => "Monitoring of system components for anomalies",
            Control::Cc7_3 => "Evaluation of security events",
            Control::Cc8_1 => "Authorization, tracking and approval of changes",
        }
    }
}

impl std::fmt::Display for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for Control {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Control::ALL
            .into_iter()
            .find(|c| c.id() == id)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown TSC criterion `{id}`")))
    }
}

impl Serialize for Control {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sorted_like_the_enum() {
        let ids: Vec<&str> = Control::ALL.iter().map(|c| c.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn serializes_as_the_criterion_id() {
        assert_eq!(serde_json::to_string(&Control::Cc6_7).unwrap(), "\"CC6.7\"");
    }
}
