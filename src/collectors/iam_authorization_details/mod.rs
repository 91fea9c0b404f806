//! `iam-authorization-details`: who may do what in IAM. Every user, group and role with its
//! group memberships, attached managed policies, inline policy documents, permissions boundary,
//! trust policy and last use, and every managed policy in use with its versions' documents.
//!
//! Calls: `GetAccountAuthorizationDetails` only, paginated with Marker/IsTruncated (page size
//! 1000, the maximum) for the entity types User, Group, Role, LocalManagedPolicy and
//! AWSManagedPolicy. One call family replaces per-user and per-role calls: the number of calls
//! grows with the pages (about one per thousand entities), never with users or roles.
//! Permissions: `iam:GetAccountAuthorizationDetails`.
//! Controls: CC6.1, CC6.2, CC6.3.
//! Files (declared in [`crate::contract::iam_authorization_details`]):
//! - `authorization-details.json`: the four detail lists (UserDetailList, GroupDetailList,
//!   RoleDetailList, Policies), PascalCase as the API names them, each sorted by name (policies
//!   by ARN), with every policy document URL-decoded into a JSON object. A document that cannot
//!   be decoded or parsed is kept as its decoded text and listed in the manifest notes
//!   (`unparsed_documents`). Customer managed policies are all kept; AWS managed policies only
//!   when in use (attached, used as a permissions boundary, or referenced by an entity in the
//!   lists): the others are the same in every account and carry no evidence.
//! - `users.csv`, `groups.csv`, `roles.csv`: one row per entity (see the row types).
//! - `policies.csv`: one row per (policy, principal that has it), users also through their
//!   groups (`via` = `group:<name>`), with `allows_admin`
//!   ([`crate::judge::iam_policy::allows_admin`] says the rule).
//!
//! The tables are built from the decoded lists alone by [`crate::judge::iam_tables::Tables`],
//! which the rules use too; this module only calls the API and converts its answer
//! ([`decode`]).
//!
//! What the API does not return is not invented: a role's maximum session duration is not part
//! of RoleDetail (it would need one ListRoles call family more), so it is not in `roles.csv`.

mod decode;

use aws_sdk_iam::types::EntityType;

use super::Context;
use super::{CollectFuture, CollectorSpec};
use crate::contract::iam_authorization_details::AuthorizationDetails;
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::judge::iam_tables::Tables;
use crate::vocab::Scope;
use crate::vocab::{CallError, GLOBAL};
use decode::Decoder;

pub use decode::UnparsedDocument;

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::iam_authorization_details::ID,
    title: "IAM authorization details (users, groups, roles, policies and their documents)",
    controls: &[Control::Cc6_1, Control::Cc6_2, Control::Cc6_3],
    scope: Scope::Global,
    permissions: &["iam:GetAccountAuthorizationDetails"],
    run,
    optional_permissions: &[],
};

/// The largest page the API serves: the fewest calls.
const PAGE_SIZE: i32 = 1000;

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let iam = ctx.clients.iam();
    let mut paginator = iam
        .get_account_authorization_details()
        .set_filter(Some(vec![
            EntityType::User,
            EntityType::Group,
            EntityType::Role,
            EntityType::LocalManagedPolicy,
            EntityType::AwsManagedPolicy,
        ]))
        .into_paginator()
        .page_size(PAGE_SIZE)
        .send();

    // Each page is converted as it arrives and dropped: the SDK's copy of a large account is
    // never held next to ours.
    let mut decoder = Decoder::default();
    let mut details = AuthorizationDetails::default();
    let mut pages = 0usize;
    while let Some(page) = paginator.next().await {
        let page =
            page.map_err(|e| CallError::from_sdk(GLOBAL, "GetAccountAuthorizationDetails", &e))?;
        pages += 1;
        decoder.add_page(&page, &mut details);
    }
    let omitted = decode::keep_policies_in_use(&mut details);
    decode::sort(&mut details);

    let tables = Tables::build(&details, &ctx.identity.account_id);
    let entities = details.user_detail_list.len()
        + details.group_detail_list.len()
        + details.role_detail_list.len()
        + details.policies.len();
    out.document(&details, Some(entities as u64))?;
    out.table(&tables.users)?;
    out.table(&tables.groups)?;
    out.table(&tables.roles)?;
    out.table(&tables.policies)?;

    out.note("pages", pages);
    out.note("users", details.user_detail_list.len());
    out.note("groups", details.group_detail_list.len());
    out.note("roles", details.role_detail_list.len());
    out.note("managed_policies", details.policies.len());
    out.note("aws_managed_policies_not_in_use_omitted", omitted);
    if decoder.names_from_arn > 0 {
        out.note("policy_names_derived_from_arn", decoder.names_from_arn);
    }
    if !decoder.unparsed.is_empty() {
        tracing::warn!(
            count = decoder.unparsed.len(),
            "policy documents that are not JSON are kept as text"
        );
        out.note("unparsed_documents", &decoder.unparsed);
    }
    if !tables.attached_without_details.is_empty() {
        out.note(
            "attached_policies_without_details",
            &tables.attached_without_details,
        );
    }
    if entities == 0 {
        out.note(
            "empty",
            "the account has no IAM users, groups, roles or managed policies",
        );
    }
    Ok(())
}
