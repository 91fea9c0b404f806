//! Whether an IAM Identity Center permission set allows every action on every resource.
//!
//! The same test as IAM's `admin-policy` ([`crate::judge::iam_policy::allows_admin`]: an `Allow`
//! of `Action` `*` on `Resource` `*`, string or list, conditions not exempting it), applied to
//! what a permission set grants:
//!
//! - its **inline policy**: the decoded document is judged; a document that is not JSON is
//!   unknown;
//! - its **managed policies**, attached by ARN: the permission set's answers carry no document,
//!   so only what is known for certain counts: AWS's `AdministratorAccess`
//!   (`arn:<partition>:iam::aws:policy/AdministratorAccess`) is admin; any other managed policy
//!   is unknown (never taken as not admin);
//! - its **customer managed policy references**: the policy of that name lives in each account
//!   the permission set is provisioned to and is not read here: unknown.
//!
//! The answer is `Some(true)` when any of them is admin, `Some(false)` only when every one is
//! known not to be (no policy at all, or only an inline policy without `*` on `*`), and `None`
//! (an empty cell) otherwise, also when a call for the policies failed. As for IAM users and
//! roles, the permissions boundary, SCPs and resource policies are not evaluated: a boundary is
//! listed beside the permission set for the reviewer.

use crate::contract::identity_center::{calls, PermissionSetRecord};

/// The AWS managed policy known, for certain, to allow `*` on `*`.
const ADMINISTRATOR_ACCESS: &str = ":iam::aws:policy/AdministratorAccess";

/// Whether a managed policy attached by ARN is admin: `Some(true)` for AWS's
/// `AdministratorAccess` in any partition, `None` (not known) for every other.
pub fn managed_policy_is_admin(arn: &str) -> Option<bool> {
    let admin = arn.starts_with("arn:")
        && arn
            .split_once(ADMINISTRATOR_ACCESS)
            .is_some_and(|(partition, rest)| {
                rest.is_empty() && partition.matches(':').count() == 1
            });
    admin.then_some(true)
}

/// Whether the permission set allows `*` on `*` (module docs).
pub fn allows_admin(record: &PermissionSetRecord) -> Option<bool> {
    let failed = |operation: &str| record.failed_calls.iter().any(|c| c == operation);
    let mut flags: Vec<Option<bool>> = Vec::new();
    if failed(calls::INLINE) {
        flags.push(None);
    } else if let Some(document) = &record.inline_policy {
        flags.push(crate::judge::iam_policy::allows_admin(document));
    }
    match &record.attached_managed_policies {
        Some(policies) if !failed(calls::MANAGED) => flags.extend(
            policies
                .iter()
                .map(|p| p.arn.as_deref().and_then(managed_policy_is_admin)),
        ),
        _ => flags.push(None),
    }
    match &record.customer_managed_policy_references {
        Some(references) if !failed(calls::CUSTOMER_MANAGED) => {
            flags.extend(references.iter().map(|_| None))
        }
        _ => flags.push(None),
    }
    let mut result = Some(false);
    for flag in flags {
        match flag {
            Some(true) => return Some(true),
            Some(false) => {}
            None => result = None,
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::identity_center::{AttachedManagedPolicy, CustomerManagedPolicyReference};
    use serde_json::json;

    fn record(
        managed: &[&str],
        customer: &[&str],
        inline: Option<serde_json::Value>,
    ) -> PermissionSetRecord {
        PermissionSetRecord {
            attached_managed_policies: Some(
                managed
                    .iter()
                    .map(|arn| AttachedManagedPolicy {
                        name: arn.rsplit('/').next().map(str::to_string),
                        arn: Some(arn.to_string()),
                    })
                    .collect(),
            ),
            customer_managed_policy_references: Some(
                customer
                    .iter()
                    .map(|name| CustomerManagedPolicyReference {
                        name: name.to_string(),
                        path: None,
                    })
                    .collect(),
            ),
            inline_policy: inline,
            ..PermissionSetRecord::default()
        }
    }

    const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
    const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

    #[test]
    fn administrator_access_is_admin_in_every_partition_and_nothing_else_is_known() {
        assert_eq!(managed_policy_is_admin(ADMIN), Some(true));
        assert_eq!(
            managed_policy_is_admin("arn:aws-us-gov:iam::aws:policy/AdministratorAccess"),
            Some(true)
        );
        assert_eq!(managed_policy_is_admin(READ_ONLY), None);
        // A customer's policy of the same name, or a longer name, is not AWS's.
        assert_eq!(
            managed_policy_is_admin("arn:aws:iam::123456789012:policy/AdministratorAccess"),
            None
        );
        assert_eq!(
            managed_policy_is_admin("arn:aws:iam::aws:policy/AdministratorAccess-Amplify"),
            None
        );
        assert_eq!(
            managed_policy_is_admin("arn:aws:iam::aws:policy/job-function/AdministratorAccess"),
            None
        );
    }

    #[test]
    fn admin_is_known_true_known_false_or_unknown_never_guessed() {
        let star = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}});
        let read =
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]});
        assert_eq!(allows_admin(&record(&[ADMIN], &[], None)), Some(true));
        assert_eq!(
            allows_admin(&record(&[READ_ONLY, ADMIN], &["x"], None)),
            Some(true)
        );
        assert_eq!(allows_admin(&record(&[], &[], Some(star))), Some(true));
        assert_eq!(
            allows_admin(&record(&[], &[], Some(read.clone()))),
            Some(false)
        );
        assert_eq!(allows_admin(&record(&[], &[], None)), Some(false));
        // A managed policy without its document, a customer managed reference, a document that
        // is not JSON: unknown.
        assert_eq!(
            allows_admin(&record(&[READ_ONLY], &[], Some(read.clone()))),
            None
        );
        assert_eq!(allows_admin(&record(&[], &["Reports"], None)), None);
        assert_eq!(
            allows_admin(&record(&[], &[], Some(json!("not json {")))),
            None
        );
        // A failed call leaves it unknown, also when what was read says no.
        let mut failed = record(&[], &[], Some(read));
        failed.failed_calls = vec![calls::MANAGED.to_string()];
        assert_eq!(allows_admin(&failed), None);
        let mut failed = record(&[], &[], None);
        failed.failed_calls = vec![calls::INLINE.to_string()];
        assert_eq!(allows_admin(&failed), None);
        let mut unread = record(&[], &[], None);
        unread.customer_managed_policy_references = None;
        assert_eq!(allows_admin(&unread), None);
    }
}
