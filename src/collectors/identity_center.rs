//! `identity-center`: IAM Identity Center, where most human access to AWS lives: its instances,
//! permission sets with what they grant, the accounts each is assigned in and to whom, and the
//! users, groups and group memberships of the instance's identity store.
//!
//! Calls: `sso-admin:ListInstances` in every covered region (Identity Center has one
//! organization instance, in one region; an account without one is collected with the note
//! `no_instance`, not an error). For each instance, in its region: `ListPermissionSets`, then
//! for every permission set `DescribePermissionSet`, `ListManagedPoliciesInPermissionSet`,
//! `ListCustomerManagedPolicyReferencesInPermissionSet`, `GetInlinePolicyForPermissionSet`,
//! `GetPermissionsBoundaryForPermissionSet` (ResourceNotFoundException: no boundary, an
//! answer) and `ListAccountsForProvisionedPermissionSet`, then `ListAccountAssignments` for
//! each (account, permission set); and `identitystore:ListUsers`, `ListGroups` and
//! `ListGroupMemberships` (per group) against the instance's identity store. Every list is
//! paginated with the largest page (100); the per-permission-set, per-assignment and per-group
//! calls fan out under `--concurrency`.
//! Permissions: `sso:ListInstances`, `sso:ListPermissionSets`, `sso:DescribePermissionSet`,
//! `sso:ListManagedPoliciesInPermissionSet`,
//! `sso:ListCustomerManagedPolicyReferencesInPermissionSet`,
//! `sso:GetInlinePolicyForPermissionSet`, `sso:GetPermissionsBoundaryForPermissionSet`,
//! `sso:ListAccountsForProvisionedPermissionSet`, `sso:ListAccountAssignments`,
//! `identitystore:ListUsers`, `identitystore:ListGroups`, `identitystore:ListGroupMemberships`.
//! Controls: CC6.1, CC6.2, CC6.3.
//! Files (declared in `crate::contract::identity_center`): `instances.csv`;
//! `permission-sets.csv` (session duration, relay state, managed policy ARNs, customer managed
//! references, inline policy present, boundary, provisioned accounts, `allows_admin`, failed
//! calls) and `permission-sets.json` (the API's answers, the inline document decoded);
//! `assignments.csv` (account, permission set name and ARN, principal type USER/GROUP, principal
//! id and name); `users.csv`, `groups.csv`, `group-memberships.csv`.
//! `allows_admin` is judged by `crate::judge::identity_center` (the IAM `admin-policy` test on
//! the inline document; AWS's `AdministratorAccess` by ARN; any other managed or customer
//! managed policy leaves it unknown, never false).
//!
//! A region whose ListInstances fails is failed; any other failed call is an error of the
//! instance's region (partial) and leaves what it would have filled empty. An instance listed
//! by several regions (a replicated instance) is read once, in its primary region when covered.
//! In an org run, only the account holding the organization's instance collects it; the others
//! record the collector as `skipped` with the reason (`CollectorSettings::identity_center_elsewhere`).

use std::collections::BTreeMap;

use aws_sdk_identitystore::types as store;
use aws_sdk_ssoadmin::types as api;
use futures_util::stream::{self, StreamExt};

use super::{for_each_region, rfc3339, Context, RegionOutput};
use super::{CollectFuture, CollectorSpec};
use crate::contract::identity_center::{
    calls, AssignmentRow, AttachedManagedPolicy, CustomerManagedPolicyReference, GroupRow,
    InstanceRow, MembershipRow, PermissionSetDetail, PermissionSetRecord, PermissionSetRow,
    PermissionSets, PermissionsBoundary, UserRow,
};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::judge::identity_center::allows_admin;
use crate::vocab::{CallError, CollectorStatus, Scope};

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::identity_center::ID,
    title: "IAM Identity Center permission sets, account assignments, users and groups",
    controls: &[Control::Cc6_1, Control::Cc6_2, Control::Cc6_3],
    scope: Scope::Regional,
    permissions: &[
        "identitystore:ListGroupMemberships",
        "identitystore:ListGroups",
        "identitystore:ListUsers",
        "sso:DescribePermissionSet",
        "sso:GetInlinePolicyForPermissionSet",
        "sso:GetPermissionsBoundaryForPermissionSet",
        "sso:ListAccountAssignments",
        "sso:ListAccountsForProvisionedPermissionSet",
        "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
        "sso:ListInstances",
        "sso:ListManagedPoliciesInPermissionSet",
        "sso:ListPermissionSets",
    ],
    run,
    optional_permissions: &[],
};

/// The largest page every list call of sso-admin and identitystore allows (MaxResults 1-100).
pub const PAGE_SIZE: i32 = 100;

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

/// What one instance gave.
#[derive(Default)]
struct InstanceOutcome {
    permission_sets: Vec<PermissionSetRecord>,
    assignments: Vec<AssignmentRow>,
    users: Vec<UserRow>,
    groups: Vec<GroupRow>,
    memberships: Vec<MembershipRow>,
    errors: Vec<CallError>,
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    if let Some(reason) = &ctx.settings.identity_center_elsewhere {
        out.note("skipped", reason);
        return Err(CollectError::Skipped(reason.clone()));
    }
    let listed = for_each_region(ctx, out, |region| async move {
        let instances: Vec<api::InstanceMetadata> = ctx
            .clients
            .ssoadmin(&region)
            .list_instances()
            .max_results(PAGE_SIZE)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| CallError::from_sdk(&region, "ListInstances", &e))?;
        Ok(RegionOutput::complete(instances))
    })
    .await?;

    // One entry per instance ARN: a replicated instance is read once, in its primary region
    // when that region listed it, else in the first region (in order) that did.
    let mut instances: BTreeMap<String, (String, api::InstanceMetadata)> = BTreeMap::new();
    for (region, list) in listed {
        for instance in list {
            let arn = instance.instance_arn.clone().unwrap_or_default();
            let primary = instance.primary_region.as_deref() == Some(region.as_str());
            match instances.get(&arn) {
                Some(_) if !primary => {}
                _ => {
                    instances.insert(arn, (region.clone(), instance));
                }
            }
        }
    }

    let outcomes = futures_util::future::join_all(
        instances
            .values()
            .map(|(region, instance)| collect_instance(ctx, region, instance)),
    )
    .await;

    let mut instance_rows: Vec<InstanceRow> = instances
        .values()
        .map(|(region, i)| InstanceRow {
            region: region.clone(),
            instance_arn: i.instance_arn.clone().unwrap_or_default(),
            identity_store_id: i.identity_store_id.clone().unwrap_or_default(),
            owner_account_id: i.owner_account_id.clone().unwrap_or_default(),
            name: i.name.clone().unwrap_or_default(),
            status: i
                .status
                .as_ref()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            created_date: i.created_date.as_ref().map(rfc3339).unwrap_or_default(),
        })
        .collect();
    instance_rows.sort_by(|a, b| (&a.region, &a.instance_arn).cmp(&(&b.region, &b.instance_arn)));

    let mut all = InstanceOutcome::default();
    for mut outcome in outcomes {
        all.permission_sets.append(&mut outcome.permission_sets);
        all.assignments.append(&mut outcome.assignments);
        all.users.append(&mut outcome.users);
        all.groups.append(&mut outcome.groups);
        all.memberships.append(&mut outcome.memberships);
        all.errors.append(&mut outcome.errors);
    }
    for error in all.errors {
        if out.region_status(&error.region) == CollectorStatus::Collected {
            out.region(&error.region, CollectorStatus::Partial);
        }
        out.error(error);
    }

    all.permission_sets.sort_by(|a, b| {
        let name = |r: &PermissionSetRecord| {
            r.permission_set
                .as_ref()
                .and_then(|d| d.name.clone())
                .unwrap_or_default()
        };
        (&a.region, &a.instance_arn, name(a), &a.permission_set_arn).cmp(&(
            &b.region,
            &b.instance_arn,
            name(b),
            &b.permission_set_arn,
        ))
    });
    let rows: Vec<PermissionSetRow> = all.permission_sets.iter().map(permission_set_row).collect();
    all.assignments.sort_by(|a, b| {
        (
            &a.region,
            &a.account_id,
            &a.permission_set_name,
            &a.permission_set_arn,
            &a.principal_type,
            &a.principal_name,
            &a.principal_id,
        )
            .cmp(&(
                &b.region,
                &b.account_id,
                &b.permission_set_name,
                &b.permission_set_arn,
                &b.principal_type,
                &b.principal_name,
                &b.principal_id,
            ))
    });
    all.users.sort_by(|a, b| {
        (&a.region, &a.identity_store_id, &a.user_name, &a.user_id).cmp(&(
            &b.region,
            &b.identity_store_id,
            &b.user_name,
            &b.user_id,
        ))
    });
    all.groups.sort_by(|a, b| {
        (
            &a.region,
            &a.identity_store_id,
            &a.display_name,
            &a.group_id,
        )
            .cmp(&(
                &b.region,
                &b.identity_store_id,
                &b.display_name,
                &b.group_id,
            ))
    });
    all.memberships.sort_by(|a, b| {
        (
            &a.region,
            &a.identity_store_id,
            &a.group_name,
            &a.group_id,
            &a.user_name,
            &a.user_id,
        )
            .cmp(&(
                &b.region,
                &b.identity_store_id,
                &b.group_name,
                &b.group_id,
                &b.user_name,
                &b.user_id,
            ))
    });

    out.table(&instance_rows)?;
    out.table(&rows)?;
    out.document(
        &PermissionSets {
            permission_sets: all.permission_sets,
        },
        Some(rows.len() as u64),
    )?;
    out.table(&all.assignments)?;
    out.table(&all.users)?;
    out.table(&all.groups)?;
    out.table(&all.memberships)?;
    out.note("instances", instance_rows.len());
    out.note("permission_sets", rows.len());
    out.note("assignments", all.assignments.len());
    out.note("users", all.users.len());
    out.note("groups", all.groups.len());
    if instance_rows.is_empty() {
        out.note(
            "no_instance",
            "no IAM Identity Center instance in any covered region that could be read (an \
             organization's instance is read from its management account or delegated \
             administrator, in the instance's region)",
        );
    }
    Ok(())
}

/// The row of `permission-sets.csv` of a record.
fn permission_set_row(r: &PermissionSetRecord) -> PermissionSetRow {
    let failed = |operation: &str| r.failed_calls.iter().any(|c| c == operation);
    let detail = r.permission_set.clone().unwrap_or_default();
    let text = |v: Option<String>| v.unwrap_or_default();
    PermissionSetRow {
        region: r.region.clone(),
        instance_arn: r.instance_arn.clone(),
        permission_set_arn: r.permission_set_arn.clone(),
        name: text(detail.name),
        description: text(detail.description),
        created_date: text(detail.created_date),
        session_duration: text(detail.session_duration),
        relay_state: text(detail.relay_state),
        managed_policy_arns: r
            .attached_managed_policies
            .iter()
            .flatten()
            .filter_map(|p| p.arn.clone())
            .collect(),
        customer_managed_policies: r
            .customer_managed_policy_references
            .iter()
            .flatten()
            .map(CustomerManagedPolicyReference::full_name)
            .collect(),
        has_inline_policy: (!failed(calls::INLINE)).then_some(r.inline_policy.is_some()),
        permissions_boundary: r
            .permissions_boundary
            .as_ref()
            .map(PermissionsBoundary::cell)
            .unwrap_or_default(),
        provisioned_accounts: r.provisioned_accounts.iter().flatten().cloned().collect(),
        allows_admin: allows_admin(r),
        failed_calls: r.failed_calls.iter().cloned().collect(),
    }
}

/// Everything of one instance, in its region: the permission sets (with their assignments)
/// and the identity store, side by side.
async fn collect_instance(
    ctx: &Context,
    region: &str,
    instance: &api::InstanceMetadata,
) -> InstanceOutcome {
    let mut outcome = InstanceOutcome::default();
    let Some(instance_arn) = instance.instance_arn.as_deref() else {
        return outcome;
    };
    let sso = ctx.clients.ssoadmin(region);
    let store_id = instance.identity_store_id.as_deref();
    let (sets, directory) = tokio::join!(
        permission_sets(ctx, &sso, region, instance_arn),
        identity_store(ctx, region, store_id),
    );
    let (records, raw_assignments, mut errors) = sets;
    let (users, groups, memberships, mut store_errors) = directory;
    outcome.errors.append(&mut errors);
    outcome.errors.append(&mut store_errors);

    let user_names: BTreeMap<&str, &str> = users
        .iter()
        .map(|u| (u.user_id.as_str(), u.user_name.as_str()))
        .collect();
    let group_names: BTreeMap<&str, &str> = groups
        .iter()
        .map(|g| (g.group_id.as_str(), g.display_name.as_str()))
        .collect();
    let set_names: BTreeMap<&str, String> = records
        .iter()
        .map(|r| {
            let name = r
                .permission_set
                .as_ref()
                .and_then(|d| d.name.clone())
                .unwrap_or_default();
            (r.permission_set_arn.as_str(), name)
        })
        .collect();
    outcome.assignments = raw_assignments
        .into_iter()
        .map(|a| {
            let principal_type = a
                .principal_type
                .as_ref()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default();
            let principal_id = a.principal_id.clone().unwrap_or_default();
            let names = match principal_type.as_str() {
                crate::contract::identity_center::USER => &user_names,
                _ => &group_names,
            };
            let permission_set_arn = a.permission_set_arn.clone().unwrap_or_default();
            AssignmentRow {
                region: region.to_string(),
                instance_arn: instance_arn.to_string(),
                account_id: a.account_id.clone().unwrap_or_default(),
                permission_set_name: set_names
                    .get(permission_set_arn.as_str())
                    .cloned()
                    .unwrap_or_default(),
                permission_set_arn,
                principal_name: names
                    .get(principal_id.as_str())
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                principal_type,
                principal_id,
            }
        })
        .collect();
    outcome.memberships = memberships
        .into_iter()
        .map(|mut m| {
            m.user_name = user_names
                .get(m.user_id.as_str())
                .map(|n| n.to_string())
                .unwrap_or_default();
            m.group_name = group_names
                .get(m.group_id.as_str())
                .map(|n| n.to_string())
                .unwrap_or_default();
            m
        })
        .collect();
    outcome.users = users;
    outcome.groups = groups;
    outcome.permission_sets = records;
    outcome
}

type SetsOutcome = (
    Vec<PermissionSetRecord>,
    Vec<api::AccountAssignment>,
    Vec<CallError>,
);

/// ListPermissionSets, then every permission set's calls and assignments.
async fn permission_sets(
    ctx: &Context,
    sso: &aws_sdk_ssoadmin::Client,
    region: &str,
    instance_arn: &str,
) -> SetsOutcome {
    let arns: Vec<String> = match sso
        .list_permission_sets()
        .instance_arn(instance_arn)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
    {
        Ok(arns) => arns,
        Err(e) => {
            return (
                Vec::new(),
                Vec::new(),
                vec![CallError::from_sdk(region, "ListPermissionSets", &e)],
            )
        }
    };
    let outcomes: Vec<(
        PermissionSetRecord,
        Vec<api::AccountAssignment>,
        Vec<CallError>,
    )> = stream::iter(arns)
        .map(|arn| permission_set(ctx, sso, region, instance_arn, arn))
        .buffer_unordered(ctx.concurrency.max(1))
        .collect()
        .await;
    let mut records = Vec::new();
    let mut assignments = Vec::new();
    let mut errors = Vec::new();
    for (record, mut found, mut failed) in outcomes {
        records.push(record);
        assignments.append(&mut found);
        errors.append(&mut failed);
    }
    (records, assignments, errors)
}

/// One permission set: its description, policies, boundary, accounts and, per account, its
/// assignments.
async fn permission_set(
    ctx: &Context,
    sso: &aws_sdk_ssoadmin::Client,
    region: &str,
    instance_arn: &str,
    arn: String,
) -> (
    PermissionSetRecord,
    Vec<api::AccountAssignment>,
    Vec<CallError>,
) {
    let mut errors = Vec::new();
    let mut record = PermissionSetRecord {
        region: region.to_string(),
        instance_arn: instance_arn.to_string(),
        permission_set_arn: arn.clone(),
        ..PermissionSetRecord::default()
    };
    let (described, managed, customer, inline, boundary, accounts) = tokio::join!(
        sso.describe_permission_set()
            .instance_arn(instance_arn)
            .permission_set_arn(&arn)
            .send(),
        sso.list_managed_policies_in_permission_set()
            .instance_arn(instance_arn)
            .permission_set_arn(&arn)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .items()
            .send()
            .try_collect(),
        sso.list_customer_managed_policy_references_in_permission_set()
            .instance_arn(instance_arn)
            .permission_set_arn(&arn)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .items()
            .send()
            .try_collect(),
        sso.get_inline_policy_for_permission_set()
            .instance_arn(instance_arn)
            .permission_set_arn(&arn)
            .send(),
        sso.get_permissions_boundary_for_permission_set()
            .instance_arn(instance_arn)
            .permission_set_arn(&arn)
            .send(),
        sso.list_accounts_for_provisioned_permission_set()
            .instance_arn(instance_arn)
            .permission_set_arn(&arn)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .items()
            .send()
            .try_collect(),
    );
    // (operation, error) of each call that failed.
    let mut fails: Vec<(&str, CallError)> = Vec::new();
    let mut failed = |operation: &'static str, error: CallError| fails.push((operation, error));
    match described {
        Ok(output) => {
            record.permission_set = output.permission_set.as_ref().map(|p| PermissionSetDetail {
                name: p.name.clone(),
                permission_set_arn: p.permission_set_arn.clone(),
                description: p.description.clone(),
                created_date: p.created_date.as_ref().map(rfc3339),
                session_duration: p.session_duration.clone(),
                relay_state: p.relay_state.clone(),
            })
        }
        Err(e) => {
            let op = "DescribePermissionSet";
            failed(op, CallError::from_sdk(region, op, &e));
        }
    }
    let managed: Result<Vec<api::AttachedManagedPolicy>, _> = managed;
    match managed {
        Ok(list) => {
            record.attached_managed_policies = Some(
                list.iter()
                    .map(|p| AttachedManagedPolicy {
                        name: p.name.clone(),
                        arn: p.arn.clone(),
                    })
                    .collect(),
            )
        }
        Err(e) => failed(
            calls::MANAGED,
            CallError::from_sdk(region, calls::MANAGED, &e),
        ),
    }
    let customer: Result<Vec<api::CustomerManagedPolicyReference>, _> = customer;
    match customer {
        Ok(list) => {
            record.customer_managed_policy_references =
                Some(list.iter().map(customer_reference).collect())
        }
        Err(e) => failed(
            calls::CUSTOMER_MANAGED,
            CallError::from_sdk(region, calls::CUSTOMER_MANAGED, &e),
        ),
    }
    match inline {
        Ok(output) => {
            record.inline_policy = output
                .inline_policy
                .filter(|text| !text.trim().is_empty())
                .map(
                    |text| match crate::judge::iam_policy::decode_document(&text) {
                        Ok(document) => document,
                        Err(_) => serde_json::Value::String(text),
                    },
                )
        }
        Err(e) => failed(
            calls::INLINE,
            CallError::from_sdk(region, calls::INLINE, &e),
        ),
    }
    match boundary {
        Ok(output) => {
            record.permissions_boundary =
                output
                    .permissions_boundary
                    .as_ref()
                    .map(|b| PermissionsBoundary {
                        customer_managed_policy_reference: b
                            .customer_managed_policy_reference
                            .as_ref()
                            .map(customer_reference),
                        managed_policy_arn: b.managed_policy_arn.clone(),
                    })
        }
        // No boundary is attached: an answer, not an error.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) => {}
        Err(e) => {
            let op = "GetPermissionsBoundaryForPermissionSet";
            failed(op, CallError::from_sdk(region, op, &e));
        }
    }
    let accounts: Result<Vec<String>, _> = accounts;
    let accounts = match accounts {
        Ok(mut accounts) => {
            accounts.sort();
            accounts.dedup();
            Some(accounts)
        }
        Err(e) => {
            let op = "ListAccountsForProvisionedPermissionSet";
            failed(op, CallError::from_sdk(region, op, &e));
            None
        }
    };
    for (operation, error) in fails {
        record.failed_calls.push(operation.to_string());
        errors.push(error);
    }
    record.provisioned_accounts = accounts.clone();
    let arn_ref = arn.as_str();
    let per_account: Vec<Result<Vec<api::AccountAssignment>, CallError>> =
        stream::iter(accounts.unwrap_or_default())
            .map(|account| async move {
                sso.list_account_assignments()
                    .instance_arn(instance_arn)
                    .account_id(&account)
                    .permission_set_arn(arn_ref)
                    .max_results(PAGE_SIZE)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(|e| CallError::from_sdk(region, "ListAccountAssignments", &e))
            })
            .buffer_unordered(ctx.concurrency.max(1))
            .collect()
            .await;
    let mut assignments = Vec::new();
    for result in per_account {
        match result {
            Ok(mut found) => assignments.append(&mut found),
            Err(error) => {
                if !record
                    .failed_calls
                    .iter()
                    .any(|c| c == "ListAccountAssignments")
                {
                    record
                        .failed_calls
                        .push("ListAccountAssignments".to_string());
                }
                errors.push(error);
            }
        }
    }
    record.failed_calls.sort();
    (record, assignments, errors)
}

fn customer_reference(r: &api::CustomerManagedPolicyReference) -> CustomerManagedPolicyReference {
    CustomerManagedPolicyReference {
        name: r.name.clone(),
        path: r.path.clone(),
    }
}

type StoreOutcome = (
    Vec<UserRow>,
    Vec<GroupRow>,
    Vec<MembershipRow>,
    Vec<CallError>,
);

/// The identity store's users, groups and each group's memberships.
async fn identity_store(ctx: &Context, region: &str, store_id: Option<&str>) -> StoreOutcome {
    let mut errors = Vec::new();
    let Some(store_id) = store_id else {
        return (Vec::new(), Vec::new(), Vec::new(), errors);
    };
    let client = ctx.clients.identitystore(region);
    let (users, groups) = tokio::join!(
        client
            .list_users()
            .identity_store_id(store_id)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .items()
            .send()
            .try_collect(),
        client
            .list_groups()
            .identity_store_id(store_id)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .items()
            .send()
            .try_collect(),
    );
    let users: Vec<store::User> = users.unwrap_or_else(|e| {
        errors.push(CallError::from_sdk(region, "ListUsers", &e));
        Vec::new()
    });
    let groups: Vec<store::Group> = groups.unwrap_or_else(|e| {
        errors.push(CallError::from_sdk(region, "ListGroups", &e));
        Vec::new()
    });
    let client = &client;
    let group_ids: Vec<String> = groups.iter().map(|g| g.group_id.clone()).collect();
    let listed: Vec<(String, Result<Vec<store::GroupMembership>, CallError>)> =
        stream::iter(group_ids)
            .map(|group_id| async move {
                let result = client
                    .list_group_memberships()
                    .identity_store_id(store_id)
                    .group_id(&group_id)
                    .max_results(PAGE_SIZE)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(|e| CallError::from_sdk(region, "ListGroupMemberships", &e));
                (group_id, result)
            })
            .buffer_unordered(ctx.concurrency.max(1))
            .collect()
            .await;
    let mut members: BTreeMap<String, u64> = BTreeMap::new();
    let mut memberships = Vec::new();
    for (group_id, result) in listed {
        match result {
            Ok(list) => {
                members.insert(group_id.clone(), list.len() as u64);
                memberships.extend(list.iter().map(|m| {
                    MembershipRow {
                        region: region.to_string(),
                        identity_store_id: m.identity_store_id.clone(),
                        group_id: m.group_id.clone().unwrap_or_else(|| group_id.clone()),
                        group_name: String::new(),
                        membership_id: m.membership_id.clone(),
                        user_id: m
                            .member_id
                            .as_ref()
                            .and_then(|id| id.as_user_id().ok())
                            .cloned()
                            .unwrap_or_default(),
                        user_name: String::new(),
                    }
                }));
            }
            Err(error) => errors.push(error),
        }
    }
    let time = |t: &Option<aws_smithy_types::DateTime>| t.as_ref().map(rfc3339).unwrap_or_default();
    let user_rows = users
        .iter()
        .map(|u| {
            let emails = u.emails.as_deref().unwrap_or_default();
            let email = emails
                .iter()
                .find(|e| e.primary)
                .or_else(|| emails.first())
                .and_then(|e| e.value.clone())
                .unwrap_or_default();
            UserRow {
                region: region.to_string(),
                identity_store_id: u.identity_store_id.clone(),
                user_id: u.user_id.clone(),
                user_name: u.user_name.clone().unwrap_or_default(),
                display_name: u.display_name.clone().unwrap_or_default(),
                email,
                status: u
                    .user_status
                    .as_ref()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                created_at: time(&u.created_at),
                updated_at: time(&u.updated_at),
            }
        })
        .collect();
    let group_rows = groups
        .iter()
        .map(|g| GroupRow {
            region: region.to_string(),
            identity_store_id: g.identity_store_id.clone(),
            group_id: g.group_id.clone(),
            display_name: g.display_name.clone().unwrap_or_default(),
            description: g.description.clone().unwrap_or_default(),
            members: members.get(&g.group_id).copied(),
            created_at: time(&g.created_at),
        })
        .collect();
    (user_rows, group_rows, memberships, errors)
}
