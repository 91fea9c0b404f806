//! The files of the `identity-center` collector (see `crate::collectors::identity_center`).
//!
//! Every table has a `region` column: the region of the Identity Center instance (its identity
//! store lives there too). Values AWS did not return, and values of a call that failed, stay
//! empty; `failed_calls` (permission sets) and the manifest say which.

use serde::{Deserialize, Serialize};

use super::cell;

super::contract! {
    id: "identity-center",
    tables: {
        InstanceRow => "instances.csv",
        PermissionSetRow => "permission-sets.csv",
        AssignmentRow => "assignments.csv",
        UserRow => "users.csv",
        GroupRow => "groups.csv",
        MembershipRow => "group-memberships.csv",
    },
    documents: {
        PermissionSets => "permission-sets.json",
    },
}

/// The principal type of an assignment to a user (ListAccountAssignments `PrincipalType`).
pub const USER: &str = "USER";
/// The principal type of an assignment to a group.
pub const GROUP: &str = "GROUP";

/// One row of `instances.csv`: an Identity Center instance (ListInstances), in the region that
/// listed it.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRow {
    pub region: String,
    pub instance_arn: String,
    pub identity_store_id: String,
    pub owner_account_id: String,
    pub name: String,
    /// `ACTIVE`, `CREATE_IN_PROGRESS`, `DELETE_IN_PROGRESS`, ...
    pub status: String,
    pub created_date: String,
}

/// One row of `permission-sets.csv`: a permission set with what it grants.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionSetRow {
    pub region: String,
    pub instance_arn: String,
    pub permission_set_arn: String,
    pub name: String,
    pub description: String,
    pub created_date: String,
    /// ISO 8601 duration, e.g. `PT1H`.
    pub session_duration: String,
    pub relay_state: String,
    /// AWS managed (or other) policies attached by ARN.
    pub managed_policy_arns: cell::List,
    /// Customer managed policy references, `path` + `name` (e.g. `/app/ReadReports`): the
    /// policy of that name in each account the permission set is provisioned to.
    pub customer_managed_policies: cell::List,
    /// Whether the permission set has an inline policy; empty when it could not be read.
    pub has_inline_policy: Option<bool>,
    /// The permissions boundary: a policy ARN, or `customer-managed:` + path + name; empty
    /// when there is none (or it could not be read: see `failed_calls`).
    pub permissions_boundary: String,
    /// The accounts it is provisioned to (ListAccountsForProvisionedPermissionSet).
    pub provisioned_accounts: cell::List,
    /// Whether it allows every action on every resource (module `crate::judge::identity_center`):
    /// empty when that cannot be known from what was collected.
    pub allows_admin: Option<bool>,
    /// The calls for this permission set that failed (the manifest has their errors).
    pub failed_calls: cell::List,
}

/// One row of `assignments.csv`: a permission set assigned to a user or a group in an account.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentRow {
    pub region: String,
    pub instance_arn: String,
    pub account_id: String,
    pub permission_set_arn: String,
    pub permission_set_name: String,
    /// `USER` or `GROUP`.
    pub principal_type: String,
    pub principal_id: String,
    /// The user's name or the group's display name, from the identity store; empty when the
    /// store did not list the principal.
    pub principal_name: String,
}

/// One row of `users.csv`: a user of the instance's identity store (ListUsers).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub region: String,
    pub identity_store_id: String,
    pub user_id: String,
    pub user_name: String,
    pub display_name: String,
    /// The primary email, else the first listed.
    pub email: String,
    /// `ENABLED` or `DISABLED` when the store reports it.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

/// One row of `groups.csv`: a group of the identity store (ListGroups).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub region: String,
    pub identity_store_id: String,
    pub group_id: String,
    pub display_name: String,
    pub description: String,
    /// Members listed by ListGroupMemberships; empty when that call failed.
    pub members: Option<u64>,
    pub created_at: String,
}

/// One row of `group-memberships.csv`: a user in a group (ListGroupMemberships).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipRow {
    pub region: String,
    pub identity_store_id: String,
    pub group_id: String,
    pub group_name: String,
    pub membership_id: String,
    pub user_id: String,
    /// From `users.csv`; empty when the store did not list the user.
    pub user_name: String,
}

/// `permission-sets.json`: every permission set as the API described it, its policies (the
/// inline document decoded) and boundary.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionSets {
    pub permission_sets: Vec<PermissionSetRecord>,
}

/// One permission set of `permission-sets.json`. `null` members were not returned or their
/// call failed (named in `FailedCalls`).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PermissionSetRecord {
    pub region: String,
    pub instance_arn: String,
    pub permission_set_arn: String,
    /// DescribePermissionSet's `PermissionSet`.
    pub permission_set: Option<PermissionSetDetail>,
    /// ListManagedPoliciesInPermissionSet.
    pub attached_managed_policies: Option<Vec<AttachedManagedPolicy>>,
    /// ListCustomerManagedPolicyReferencesInPermissionSet.
    pub customer_managed_policy_references: Option<Vec<CustomerManagedPolicyReference>>,
    /// GetInlinePolicyForPermissionSet, decoded into JSON (a JSON string when the document is
    /// not JSON); `null` when there is none.
    pub inline_policy: Option<serde_json::Value>,
    /// GetPermissionsBoundaryForPermissionSet; `null` when there is none.
    pub permissions_boundary: Option<PermissionsBoundary>,
    /// ListAccountsForProvisionedPermissionSet.
    pub provisioned_accounts: Option<Vec<String>>,
    /// The operations that failed for this permission set.
    pub failed_calls: Vec<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PermissionSetDetail {
    pub name: Option<String>,
    pub permission_set_arn: Option<String>,
    pub description: Option<String>,
    pub created_date: Option<String>,
    pub session_duration: Option<String>,
    pub relay_state: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AttachedManagedPolicy {
    pub name: Option<String>,
    pub arn: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CustomerManagedPolicyReference {
    pub name: String,
    pub path: Option<String>,
}

impl CustomerManagedPolicyReference {
    /// `path` + `name`, the path `/` when none is given (as IAM defaults it).
    pub fn full_name(&self) -> String {
        format!("{}{}", self.path.as_deref().unwrap_or("/"), self.name)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PermissionsBoundary {
    pub customer_managed_policy_reference: Option<CustomerManagedPolicyReference>,
    pub managed_policy_arn: Option<String>,
}

impl PermissionsBoundary {
    /// The `permissions_boundary` cell: the ARN, or `customer-managed:` + path + name.
    pub fn cell(&self) -> String {
        match (
            &self.managed_policy_arn,
            &self.customer_managed_policy_reference,
        ) {
            (Some(arn), _) => arn.clone(),
            (None, Some(reference)) => format!("customer-managed:{}", reference.full_name()),
            (None, None) => String::new(),
        }
    }
}

/// The operation names `FailedCalls` uses for the calls the admin judgement depends on.
pub mod calls {
    pub const MANAGED: &str = "ListManagedPoliciesInPermissionSet";
    pub const CUSTOMER_MANAGED: &str = "ListCustomerManagedPolicyReferencesInPermissionSet";
    pub const INLINE: &str = "GetInlinePolicyForPermissionSet";
}
