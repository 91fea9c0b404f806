//! An AWS Organization in the emulator: the management account (the tests' caller, 123456789012),
//! five ACTIVE member accounts over two OUs (one nested), one suspended account, and SCPs
//! attached to the root and to an OU. Each member account is seeded through sts:AssumeRole with
//! facts of its own (a user, a bucket, a security group; the first also a multi-region trail),
//! so a test can tell whose evidence landed where.

use super::{sdk_config, Emulator, ACCOUNT};

/// The role the org runs assume (moto does not check that it exists).
pub const ROLE: &str = "soc2-evidence-reader";

/// `collect` options of an org run that complete against the emulator: the collectors that
/// show whose account is whose, in one region.
pub fn org_args() -> Vec<&'static str> {
    vec![
        "--org",
        "--role-name",
        ROLE,
        "--max-attempts",
        "1",
        "--collector",
        "iam-authorization-details",
        "--collector",
        "s3-public-access",
        "--collector",
        "ec2-security-groups",
        "--collector",
        "cloudtrail",
    ]
}

#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub email: String,
    /// Names from the root down, `Root/Workloads/Prod`.
    pub ou_path: String,
    pub user: String,
    pub bucket: String,
    pub security_group: String,
}

#[derive(Debug, Clone)]
pub struct SeededOrg {
    pub org_id: String,
    pub root: String,
    pub security_ou: String,
    pub workloads_ou: String,
    pub prod_ou: String,
    /// Five ACTIVE members: [0] in Security (with its own multi-region trail), [1] and [2] in
    /// Workloads, [3] in Workloads/Prod, [4] at the root.
    pub members: Vec<Member>,
    pub suspended: String,
    /// Attached to the root: denies organizations:LeaveOrganization.
    pub deny_leave: String,
    /// Attached to Workloads: denies cloudtrail:StopLogging and cloudtrail:DeleteTrail.
    pub protect_trail: String,
}

pub const DENY_LEAVE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoLeaving","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#;
pub const PROTECT_TRAIL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:DeleteTrail"],"Resource":"*"}]}"#;

/// SDK configuration with the credentials of `account` (AssumeRole from the management account).
pub async fn member_config(
    emulator: &Emulator,
    account: &str,
    region: &str,
) -> aws_config::SdkConfig {
    let sts = aws_sdk_sts::Client::new(&sdk_config(emulator, "us-east-1"));
    let assumed = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/seeder"))
        .role_session_name("seed")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    sdk_config(emulator, region)
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    c.access_key_id(),
                    c.secret_access_key(),
                    Some(c.session_token().to_string()),
                    None,
                    "seed",
                ),
            ),
        )
        .build()
}

async fn create_ou(org: &aws_sdk_organizations::Client, parent: &str, name: &str) -> String {
    org.create_organizational_unit()
        .parent_id(parent)
        .name(name)
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string()
}

async fn create_scp(
    org: &aws_sdk_organizations::Client,
    name: &str,
    document: &str,
    target: &str,
) -> String {
    use aws_sdk_organizations::types::PolicyType;
    let id = org
        .create_policy()
        .name(name)
        .description(format!("{name} guardrail"))
        .r#type(PolicyType::ServiceControlPolicy)
        .content(document)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    org.attach_policy()
        .policy_id(&id)
        .target_id(target)
        .send()
        .await
        .unwrap();
    id
}

/// Seeds the organization described in the module docs.
pub async fn seed_org(emulator: &Emulator) -> SeededOrg {
    use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType};
    let org = aws_sdk_organizations::Client::new(&sdk_config(emulator, "us-east-1"));
    let created = org
        .create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let org_id = created.organization().unwrap().id().unwrap().to_string();
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    org.enable_policy_type()
        .root_id(&root)
        .policy_type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    let security_ou = create_ou(&org, &root, "Security").await;
    let workloads_ou = create_ou(&org, &root, "Workloads").await;
    let prod_ou = create_ou(&org, &workloads_ou, "Prod").await;

    let places = [
        (&security_ou, "Root/Security"),
        (&workloads_ou, "Root/Workloads"),
        (&workloads_ou, "Root/Workloads"),
        (&prod_ou, "Root/Workloads/Prod"),
        (&root, "Root"),
    ];
    let mut members = Vec::new();
    for (i, (parent, path)) in places.iter().enumerate() {
        let name = format!("member-{i}");
        let email = format!("member-{i}@example.com");
        let status = org
            .create_account()
            .account_name(&name)
            .email(&email)
            .send()
            .await
            .unwrap();
        let id = status
            .create_account_status()
            .unwrap()
            .account_id()
            .unwrap()
            .to_string();
        if *parent != &root {
            org.move_account()
                .account_id(&id)
                .source_parent_id(&root)
                .destination_parent_id(*parent)
                .send()
                .await
                .unwrap();
        }
        members.push(Member {
            user: format!("user-of-member-{i}"),
            bucket: format!("bucket-of-member-{i}-{id}"),
            security_group: format!("sg-of-member-{i}"),
            id,
            name,
            email,
            ou_path: path.to_string(),
        });
    }
    let suspended = org
        .create_account()
        .account_name("closed")
        .email("closed@example.com")
        .send()
        .await
        .unwrap()
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_string();
    org.close_account()
        .account_id(&suspended)
        .send()
        .await
        .unwrap();

    let deny_leave = create_scp(&org, "deny-leave", DENY_LEAVE, &root).await;
    let protect_trail = create_scp(&org, "protect-trail", PROTECT_TRAIL, &workloads_ou).await;

    for (i, member) in members.iter().enumerate() {
        let config = member_config(emulator, &member.id, "us-east-1").await;
        let iam = aws_sdk_iam::Client::new(&config);
        iam.create_user()
            .user_name(&member.user)
            .send()
            .await
            .unwrap();
        let s3 = aws_sdk_s3::Client::new(&config);
        super::seed::create_bucket(&s3, &member.bucket, "us-east-1").await;
        let ec2 = aws_sdk_ec2::Client::new(&config);
        let ssh = super::seed::open_to("tcp", Some((22, 22)), "0.0.0.0/0");
        super::seed::security_group(&ec2, &member.security_group, "ssh", None, vec![ssh]).await;
        if i == 0 {
            let trail = aws_sdk_cloudtrail::Client::new(&config);
            trail
                .create_trail()
                .name("own-trail")
                .s3_bucket_name(&member.bucket)
                .is_multi_region_trail(true)
                .send()
                .await
                .unwrap();
            use aws_sdk_cloudtrail::types::{EventSelector, ReadWriteType};
            trail
                .put_event_selectors()
                .trail_name("own-trail")
                .event_selectors(
                    EventSelector::builder()
                        .read_write_type(ReadWriteType::All)
                        .include_management_events(true)
                        .build(),
                )
                .send()
                .await
                .unwrap();
            trail
                .start_logging()
                .name("own-trail")
                .send()
                .await
                .unwrap();
        }
    }
    SeededOrg {
        org_id,
        root,
        security_ou,
        workloads_ou,
        prod_ou,
        members,
        suspended,
        deny_leave,
        protect_trail,
    }
}

/// The management account: the tests' caller.
pub const MANAGEMENT: &str = ACCOUNT;
