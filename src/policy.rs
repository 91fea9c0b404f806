//! `policy`: the least-privilege IAM policies, derived from the registry so they can never miss
//! an action a collector calls.
//!
//! One account: [`policy_for`], the read-only actions of the selected collectors. It is also
//! what every member role of an organization needs (`deploy/member-role.yaml` grants exactly
//! these actions; `tests/workflows.rs` holds them equal). A whole organization:
//! [`org_policy_for`], the policy of the principal that runs `collect --org` from the
//! management account or a delegated administrator: the same read-only actions (its own account
//! is collected with its own credentials), [`ORGANIZATIONS_ACTIONS`], and `sts:AssumeRole` on
//! the member role in every account.

use serde_json::{json, Value};

use crate::registry::CollectorSpec;
use crate::vocab::Scope;

/// What the run itself needs when a regional collector runs without --region: the list of the
/// account's enabled regions. (sts:GetCallerIdentity needs no permission.)
pub const REGIONAL_RUN_PERMISSIONS: &[&str] = &["ec2:DescribeRegions"];

/// Every AWS Organizations call of `collect --org`, sorted: the organization and its roots, the
/// OU tree and its accounts, the policies with their targets, the delegated administrators and
/// their services. Only the collecting principal needs them, never a member role.
pub const ORGANIZATIONS_ACTIONS: &[&str] = &[
    "organizations:DescribeOrganization",
    "organizations:DescribePolicy",
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListDelegatedAdministrators",
    "organizations:ListDelegatedServicesForAccount",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListPolicies",
    "organizations:ListRoots",
    "organizations:ListTargetsForPolicy",
];

/// The name of the read-only role `collect --org` assumes in every member account, unless
/// `--role-name` says otherwise; `deploy/member-role.yaml` creates it under this name by default.
pub const DEFAULT_MEMBER_ROLE: &str = "soc2-evidence-reader";

/// The ARN pattern of the member role in every account of the `aws` partition. (In `aws-cn` or
/// `aws-us-gov`, replace `arn:aws:` in the printed policy.)
pub fn member_role_arns(role_name: &str) -> String {
    format!("arn:aws:iam::*:role/{role_name}")
}

/// An identity-based policy allowing exactly the actions of `collectors`, sorted and unique.
pub fn policy_for(collectors: &[&CollectorSpec]) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [read_only_statement(collectors)]
    })
}

/// The policy of the principal that runs `collect --org`: [`policy_for`]'s statement for its
/// own account, the Organizations read actions, and `sts:AssumeRole` on the role `role_name` in
/// every account (the member roles' trust decides which accounts actually let it in).
pub fn org_policy_for(collectors: &[&CollectorSpec], role_name: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            read_only_statement(collectors),
            {
                "Sid": "Soc2EvidenceOrganizationsRead",
                "Effect": "Allow",
                "Action": ORGANIZATIONS_ACTIONS,
                "Resource": "*"
            },
            {
                "Sid": "Soc2EvidenceAssumeMemberRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": member_role_arns(role_name)
            }
        ]
    })
}

/// `policy` with `--with-optional`: the policy plus a statement of the actions the collectors
/// can do without ([`CollectorSpec::optional_permissions`]: today the reads of CloudTrail's
/// digest and log files and public keys, for the sampled log file validation). A statement of
/// its own, so that its `Resource` can be narrowed (to the trails' log buckets). Unchanged
/// when the collectors have no optional action.
pub fn with_optional(mut policy: Value, collectors: &[&CollectorSpec]) -> Value {
    let mut actions: Vec<&str> = collectors
        .iter()
        .flat_map(|spec| spec.optional_permissions.iter().copied())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    if actions.is_empty() {
        return policy;
    }
    if let Some(statements) = policy["Statement"].as_array_mut() {
        statements.push(json!({
            "Sid": OPTIONAL_SID,
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*"
        }));
    }
    policy
}

/// The statement id of the optional actions.
pub const OPTIONAL_SID: &str = "Soc2EvidenceOptionalReads";

fn read_only_statement(collectors: &[&CollectorSpec]) -> Value {
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
        "Sid": "Soc2EvidenceReadOnly",
        "Effect": "Allow",
        "Action": actions,
        "Resource": "*"
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

    fn is_read_action(action: &str) -> bool {
        let verb = action.split(':').nth(1).unwrap();
        ["Get", "List", "Describe", "Generate"]
            .iter()
            .any(|read| verb.starts_with(read))
    }

    #[test]
    fn read_only_actions_only() {
        let policy = policy_for(&select(&[], &[]));
        for action in policy["Statement"][0]["Action"].as_array().unwrap() {
            let action = action.as_str().unwrap();
            assert!(is_read_action(action), "{action} is not a read action");
        }
    }

    #[test]
    fn organizations_actions_are_sorted_unique_reads_of_organizations() {
        let mut sorted = ORGANIZATIONS_ACTIONS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, ORGANIZATIONS_ACTIONS);
        for action in ORGANIZATIONS_ACTIONS {
            assert!(action.starts_with("organizations:"), "{action}");
            assert!(is_read_action(action), "{action} is not a read action");
        }
    }

    #[test]
    fn optional_actions_are_a_statement_of_their_own_only_when_asked_for() {
        let collectors = select(&[], &[]);
        let plain = policy_for(&collectors);
        let required = plain["Statement"][0]["Action"].as_array().unwrap().clone();
        let with = with_optional(plain.clone(), &collectors);
        let statements = with["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0], plain["Statement"][0]);
        assert_eq!(statements[1]["Sid"], OPTIONAL_SID);
        let optional: Vec<&str> = statements[1]["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            optional,
            ["cloudtrail:ListPublicKeys", "s3:GetObject", "s3:ListBucket"]
        );
        for action in &optional {
            assert!(is_read_action(action), "{action}");
            assert!(
                !required.iter().any(|a| a == action),
                "{action} is optional and required"
            );
        }
        // Collectors without optional actions: the policy as it was.
        let narrow = select(&["iam-password-policy".to_string()], &[]);
        assert_eq!(
            with_optional(policy_for(&narrow), &narrow),
            policy_for(&narrow)
        );
        for spec in REGISTRY {
            let mut sorted = spec.optional_permissions.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted, spec.optional_permissions, "{}", spec.id);
        }
    }

    #[test]
    fn the_org_policy_adds_organizations_reads_and_assume_role_to_the_account_policy() {
        let collectors = select(&[], &[]);
        let org = org_policy_for(&collectors, "audit-reader");
        let statements = org["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 3);
        // The caller's own account is collected with its own credentials: the same statement.
        assert_eq!(statements[0], policy_for(&collectors)["Statement"][0]);
        assert_eq!(statements[1]["Action"], json!(ORGANIZATIONS_ACTIONS));
        assert_eq!(statements[1]["Resource"], "*");
        assert_eq!(statements[2]["Action"], "sts:AssumeRole");
        assert_eq!(
            statements[2]["Resource"],
            "arn:aws:iam::*:role/audit-reader"
        );
        let sids: Vec<&str> = statements
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        let mut unique = sids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), sids.len(), "{sids:?}");
        assert!(statements.iter().all(|s| s["Effect"] == "Allow"));
    }
}
