//! `policy`: the least-privilege IAM policy for the selected collectors, derived from the
//! registry so it can never miss an action a collector calls.

use serde_json::{json, Value};

use crate::registry::CollectorSpec;
use crate::vocab::Scope;

/// What the run itself needs when a regional collector runs without --region: the list of the
/// account's enabled regions. (sts:GetCallerIdentity needs no permission.)
pub const REGIONAL_RUN_PERMISSIONS: &[&str] = &["ec2:DescribeRegions"];

/// An identity-based policy allowing exactly the actions of `collectors`, sorted and unique.
pub fn policy_for(collectors: &[&CollectorSpec]) -> Value {
    let regional = collectors.iter().any(|spec| spec.scope == Scope::Regional);
    let mut actions: Vec<&str> = collectors
        .iter()
        .flat_map(|spec| spec.permissions.iter().copied())
        .chain(
            REGIONAL_RUN_PERMISSIONS
                .iter()
                .copied()
                .filter(|_| regional),
        )
        .collect();
    actions.sort_unstable();
    actions.dedup();
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Soc2EvidenceReadOnly",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*"
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{select, REGISTRY};

    #[test]
    fn every_registry_permission_is_in_the_full_policy() {
        let policy = policy_for(&select(&[], &[]));
        let actions = policy["Statement"][0]["Action"].as_array().unwrap();
        for spec in REGISTRY {
            for permission in spec.permissions {
                assert!(
                    actions.iter().any(|a| a == permission),
                    "{permission} missing"
                );
            }
        }
        let mut sorted = actions.clone();
        sorted.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        sorted.dedup();
        assert_eq!(&sorted, actions);
    }

    #[test]
    fn read_only_actions_only() {
        let policy = policy_for(&select(&[], &[]));
        for action in policy["Statement"][0]["Action"].as_array().unwrap() {
            let action = action.as_str().unwrap().split(':').nth(1).unwrap();
            assert!(
                ["Get", "List", "Describe", "Generate"]
                    .iter()
                    .any(|verb| action.starts_with(verb)),
                "{action} is not a read action"
            );
        }
    }
}
