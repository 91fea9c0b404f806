//! Credentials of a member account: sts:AssumeRole into its read-only role, made with the
//! caller's credentials, and made again whenever the SDK's credential cache finds them about to
//! expire (a run longer than the role session keeps working).

use std::sync::Mutex;

use aws_credential_types::provider::{self, error::CredentialsError, ProvideCredentials};
use aws_credential_types::Credentials;

use crate::vocab::{CallError, GLOBAL};

/// How the tool names its role sessions in the member accounts' CloudTrail.
pub fn session_name(started: chrono::DateTime<chrono::Utc>) -> String {
    format!("soc2-evidence-{}", started.format("%Y%m%dT%H%M%SZ"))
}

/// The role to assume in an account.
#[derive(Debug, Clone)]
pub struct Role {
    pub arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
}

impl Role {
    pub fn new(
        partition: &str,
        account_id: &str,
        role_name: &str,
        session_name: &str,
        external_id: Option<&str>,
    ) -> Role {
        Role {
            arn: format!("arn:{partition}:iam::{account_id}:role/{role_name}"),
            session_name: session_name.to_string(),
            external_id: external_id.map(str::to_string),
        }
    }
}

/// Assumes `role` once; a refusal is the call's error, as the manifest records it.
pub async fn assume(sts: &aws_sdk_sts::Client, role: &Role) -> Result<Credentials, CallError> {
    let out = sts
        .assume_role()
        .role_arn(&role.arn)
        .role_session_name(&role.session_name)
        .set_external_id(role.external_id.clone())
        .send()
        .await
        .map_err(|e| CallError::from_sdk(GLOBAL, "AssumeRole", &e))?;
    let Some(c) = out.credentials() else {
        return Err(CallError::new(
            GLOBAL,
            "AssumeRole",
            "MissingCredentials",
            "the answer to AssumeRole held no credentials",
        ));
    };
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "soc2-evidence-assume-role",
    ))
}

/// A credentials provider over [`assume`]: hands out the credentials of the first AssumeRole
/// (made before the account's run, so a refusal is recorded once and cleanly), then assumes the
/// role again each time the SDK asks (it asks when the cached credentials near expiry).
#[derive(Debug)]
pub struct RoleProvider {
    sts: aws_sdk_sts::Client,
    role: Role,
    first: Mutex<Option<Credentials>>,
}

impl RoleProvider {
    pub fn new(sts: aws_sdk_sts::Client, role: Role, first: Credentials) -> RoleProvider {
        RoleProvider {
            sts,
            role,
            first: Mutex::new(Some(first)),
        }
    }

    async fn fetch(&self) -> provider::Result {
        let first = self.first.lock().expect("never poisoned").take();
        if let Some(credentials) = first {
            let fresh = credentials
                .expiry()
                .and_then(|t| t.duration_since(std::time::SystemTime::now()).ok())
                .is_none_or(|left| left > std::time::Duration::from_secs(300));
            if fresh {
                return Ok(credentials);
            }
        }
        assume(&self.sts, &self.role).await.map_err(|e| {
            CredentialsError::provider_error(format!(
                "sts:AssumeRole into {} failed again: {}: {}",
                self.role.arn, e.code, e.message
            ))
        })
    }
}

impl ProvideCredentials for RoleProvider {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(self.fetch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_sessions_are_named_for_the_partition_and_the_tool() {
        let t = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let role = Role::new(
            "aws-us-gov",
            "111122223333",
            "reader",
            &session_name(t),
            None,
        );
        assert_eq!(role.arn, "arn:aws-us-gov:iam::111122223333:role/reader");
        assert!(role.session_name.starts_with("soc2-evidence-2026"));
        assert!(role.session_name.len() <= 64);
    }

    fn answer(key: &'static str) -> aws_smithy_mocks::Rule {
        aws_smithy_mocks::mock!(aws_sdk_sts::Client::assume_role).then_output(move || {
            let expires = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
            aws_sdk_sts::operation::assume_role::AssumeRoleOutput::builder()
                .credentials(
                    aws_sdk_sts::types::Credentials::builder()
                        .access_key_id(key)
                        .secret_access_key("secret")
                        .session_token("token")
                        .expiration(aws_smithy_types::DateTime::from(expires))
                        .build()
                        .unwrap(),
                )
                .build()
        })
    }

    fn first(key: &str, valid_for: u64) -> Credentials {
        let expiry = std::time::SystemTime::now() + std::time::Duration::from_secs(valid_for);
        Credentials::new(key, "secret", Some("token".into()), Some(expiry), "test")
    }

    fn role() -> Role {
        Role::new(
            "aws",
            "111122223333",
            "reader",
            "soc2-evidence-test",
            Some("ext"),
        )
    }

    #[tokio::test]
    async fn the_first_credentials_serve_once_then_the_role_is_assumed_again() {
        let rule = answer("AGAIN");
        let sts = aws_smithy_mocks::mock_client!(aws_sdk_sts, [&rule]);
        let provider = RoleProvider::new(sts, role(), first("FIRST", 3600));
        assert_eq!(
            provider
                .provide_credentials()
                .await
                .unwrap()
                .access_key_id(),
            "FIRST"
        );
        assert_eq!(rule.num_calls(), 0);
        // The SDK asks again only when the cached credentials near expiry: assume again.
        assert_eq!(
            provider
                .provide_credentials()
                .await
                .unwrap()
                .access_key_id(),
            "AGAIN"
        );
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn first_credentials_about_to_expire_are_never_handed_out() {
        let rule = answer("FRESH");
        let sts = aws_smithy_mocks::mock_client!(aws_sdk_sts, [&rule]);
        let provider = RoleProvider::new(sts, role(), first("STALE", 60));
        assert_eq!(
            provider
                .provide_credentials()
                .await
                .unwrap()
                .access_key_id(),
            "FRESH"
        );
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_refusal_names_the_role_and_the_code() {
        let rule = aws_smithy_mocks::mock!(aws_sdk_sts::Client::assume_role)
            .sequence()
            .error(|| {
                aws_sdk_sts::operation::assume_role::AssumeRoleError::generic(
                    aws_sdk_sts::error::ErrorMetadata::builder()
                        .code("AccessDenied")
                        .message("not allowed")
                        .build(),
                )
            })
            .repeatedly()
            .build();
        let sts = aws_smithy_mocks::mock_client!(aws_sdk_sts, [&rule]);
        let err = assume(&sts, &role()).await.unwrap_err();
        assert_eq!(err.operation, "AssumeRole");
        assert_eq!(err.code, "AccessDenied");
        assert_eq!(err.message, "not allowed");
        let provider = RoleProvider::new(sts, role(), first("STALE", 1));
        let refused = provider.provide_credentials().await.unwrap_err();
        let detail = crate::error::chain(&refused);
        assert!(
            detail.contains("arn:aws:iam::111122223333:role/reader"),
            "{detail}"
        );
        assert!(detail.contains("AccessDenied"), "{detail}");
    }
}
