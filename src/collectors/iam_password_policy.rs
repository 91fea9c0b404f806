//! `iam-password-policy`: the account's IAM password policy.
//!
//! Calls: `GetAccountPasswordPolicy`. NoSuchEntity means no policy is set: that is evidence
//! (collected, `PolicyPresent: false`), not an error.
//! Permissions: `iam:GetAccountPasswordPolicy`.
//! Controls: CC6.1, CC6.2.
//! Files: `password-policy.json` ([`PasswordPolicyFile`]).

use super::Context;
use super::{CollectFuture, CollectorSpec};
use crate::contract::iam_password_policy::{PasswordPolicy, PasswordPolicyFile};
use crate::controls::Control;
use crate::evidence::{CollectError, Evidence};
use crate::vocab::Scope;
use crate::vocab::{CallError, GLOBAL};

pub const SPEC: CollectorSpec = CollectorSpec {
    id: crate::contract::iam_password_policy::ID,
    title: "IAM password policy",
    controls: &[Control::Cc6_1, Control::Cc6_2],
    scope: Scope::Global,
    permissions: &["iam:GetAccountPasswordPolicy"],
    run,
    optional_permissions: &[],
};

fn run<'a>(ctx: &'a Context, out: &'a mut Evidence) -> CollectFuture<'a> {
    Box::pin(collect(ctx, out))
}

pub async fn collect(ctx: &Context, out: &mut Evidence) -> Result<(), CollectError> {
    let iam = ctx.clients.iam();
    let policy = match iam.get_account_password_policy().send().await {
        Ok(output) => output.password_policy().map(|p| PasswordPolicy {
            minimum_password_length: p.minimum_password_length(),
            require_symbols: p.require_symbols(),
            require_numbers: p.require_numbers(),
            require_uppercase_characters: p.require_uppercase_characters(),
            require_lowercase_characters: p.require_lowercase_characters(),
            allow_users_to_change_password: p.allow_users_to_change_password(),
            expire_passwords: p.expire_passwords(),
            max_password_age: p.max_password_age(),
            password_reuse_prevention: p.password_reuse_prevention(),
            hard_expiry: p.hard_expiry(),
        }),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(err) => {
            return Err(CallError::from_sdk(GLOBAL, "GetAccountPasswordPolicy", &err).into())
        }
    };
    out.note("policy_present", policy.is_some());
    out.document(
        &PasswordPolicyFile {
            policy_present: policy.is_some(),
            password_policy: policy,
        },
        None,
    )?;
    Ok(())
}
