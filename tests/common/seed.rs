//! A two-region emulated account with a little of every service, for whole runs (full_run.rs,
//! faults.rs).

use std::path::Path;

use super::{binary, run, sdk_config, text, Collected, Emulator};

/// The regions [`seed`] fills; the first one serves global services.
pub const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// A policy document allowing every action on every resource.
pub const EVERYTHING_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// An ingress permission without a description: `protocol` (`-1` for all traffic) on the port
/// range `ports` (None for every port) from `cidr` (IPv6 when it holds a `:`).
pub fn open_to(
    protocol: &str,
    ports: Option<(i32, i32)>,
    cidr: &str,
) -> aws_sdk_ec2::types::IpPermission {
    use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range};
    let permission = IpPermission::builder()
        .ip_protocol(protocol)
        .set_from_port(ports.map(|(from, _)| from))
        .set_to_port(ports.map(|(_, to)| to));
    if cidr.contains(':') {
        permission.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).build())
    } else {
        permission.ip_ranges(IpRange::builder().cidr_ip(cidr).build())
    }
    .build()
}

/// Creates bucket `name` in `region` (with the location constraint S3 wants outside
/// us-east-1).
pub async fn create_bucket(s3: &aws_sdk_s3::Client, name: &str, region: &str) {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let mut create = s3.create_bucket().bucket(name);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    create.send().await.unwrap();
}

/// Makes bucket `name` readable by everyone (the public-read canned ACL).
pub async fn public_read(s3: &aws_sdk_s3::Client, name: &str) {
    s3.put_bucket_acl()
        .bucket(name)
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
}

/// Creates security group `name` in `vpc` (the region's default VPC when None) admitting
/// `rules`; returns its id.
pub async fn security_group(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    description: &str,
    vpc: Option<&str>,
    rules: Vec<aws_sdk_ec2::types::IpPermission>,
) -> String {
    let id = ec2
        .create_security_group()
        .group_name(name)
        .description(description)
        .set_vpc_id(vpc.map(String::from))
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&id)
        .set_ip_permissions(Some(rules))
        .send()
        .await
        .unwrap();
    id
}

/// A little of everything, in both regions: a user, security groups, KMS keys, a multi-region
/// trail and buckets. No GuardDuty detector and no Access Analyzer (moto has none).
pub async fn seed(emulator: &Emulator) {
    let iam = aws_sdk_iam::Client::new(&sdk_config(emulator, "us-east-1"));
    iam.create_user().user_name("alice").send().await.unwrap();
    for region in REGIONS {
        let config = sdk_config(emulator, region);
        let ec2 = aws_sdk_ec2::Client::new(&config);
        let ssh = open_to("tcp", Some((22, 22)), "0.0.0.0/0");
        security_group(&ec2, "ssh-open", "ssh from anywhere", None, vec![ssh]).await;
        let kms = aws_sdk_kms::Client::new(&config);
        let key = kms.create_key().send().await.unwrap();
        kms.enable_key_rotation()
            .key_id(key.key_metadata().unwrap().key_id())
            .send()
            .await
            .unwrap();
        let s3 = aws_sdk_s3::Client::new(&config);
        create_bucket(&s3, &format!("logs-{region}"), region).await;
    }
    let trail = aws_sdk_cloudtrail::Client::new(&sdk_config(emulator, "us-east-1"));
    trail
        .create_trail()
        .name("org-audit")
        .s3_bucket_name("logs-us-east-1")
        .is_multi_region_trail(true)
        .send()
        .await
        .unwrap();
}

/// The common two-region account plus what makes the IAM, S3 and network rules fire: a console
/// user without MFA holding an admin policy directly, a role trusting another account without
/// an external id, a bucket readable by everyone and a security group open to all traffic over
/// IPv6. (The least-privilege rules' policies are [`seed_privilege`]'s, kept apart so tests that
/// count this account's high findings keep their counts.)
pub async fn seed_findings(emulator: &Emulator) {
    seed(emulator).await;
    let iam = aws_sdk_iam::Client::new(&sdk_config(emulator, "us-east-1"));
    iam.create_user().user_name("dave").send().await.unwrap();
    iam.create_login_profile()
        .user_name("dave")
        .password("Correct-Horse-9-Battery")
        .send()
        .await
        .unwrap();
    let admin = iam
        .create_policy()
        .policy_name("everything")
        .policy_document(EVERYTHING_POLICY)
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("dave")
        .policy_arn(admin.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("vendor-access")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();

    let s3 = aws_sdk_s3::Client::new(&sdk_config(emulator, "us-east-1"));
    public_read(&s3, "logs-us-east-1").await;

    let ec2 = aws_sdk_ec2::Client::new(&sdk_config(emulator, "eu-west-1"));
    let everything = open_to("-1", None, "::/0");
    let description = "everything from anywhere";
    security_group(&ec2, "wide-open", description, None, vec![everything]).await;
}

/// A document allowing `actions` on every resource.
fn allow_all(actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]
    })
    .to_string()
}

/// The customer managed policies [`seed_privilege`] creates: one per family of
/// privilege-escalation methods (the `privilege-escalation` rule's catalogue), one that allows
/// everything but IAM (`NotAction`), one that combines with an inline policy, and one scoped to
/// named roles (no finding).
const PRIVILEGE_POLICIES: [(&str, &[&str]); 10] = [
    // Credentials of other users.
    ("key-helper", &["iam:CreateAccessKey", "iam:ListAccessKeys"]),
    // Group membership.
    (
        "group-manager",
        &["iam:AddUserToGroup", "iam:RemoveUserFromGroup"],
    ),
    // Policy versions.
    (
        "policy-editor",
        &["iam:CreatePolicyVersion", "iam:DeletePolicyVersion"],
    ),
    // Attaching or writing policies.
    ("permissions-manager", &["iam:Attach*Policy"]),
    // Role trust.
    (
        "trust-editor",
        &["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"],
    ),
    // Passing a role to a new resource.
    (
        "lambda-deployer",
        &[
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:InvokeFunction",
        ],
    ),
    // Updating an existing resource.
    (
        "glue-maintainer",
        &["glue:UpdateDevEndpoint", "glue:GetDevEndpoints"],
    ),
    // Everything but IAM.
    ("all-but-iam", &[]),
    // Half of pass-role-cloudformation; grace's inline policy has the other half.
    ("stack-creator", &["cloudformation:CreateStack"]),
    // PassRole on named roles only: no finding.
    ("scoped-pass", &[]),
];

/// The document of a [`PRIVILEGE_POLICIES`] entry.
fn privilege_document(name: &str, actions: &[&str]) -> String {
    match name {
        "all-but-iam" => {
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}"#.to_string()
        }
        "scoped-pass" => {
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PassRole","lambda:*"],"Resource":["arn:aws:iam::123456789012:role/app-*","arn:aws:lambda:us-east-1:123456789012:function:app-*"]}]}"#.to_string()
        }
        _ => allow_all(actions),
    }
}

/// Policies that let their holders escalate, spread over every way of holding one:
/// - group `iam-helpers` (key-helper, group-manager) with member `frank`, a console user
///   without MFA;
/// - role `automation` (policy-editor, permissions-manager, trust-editor, lambda-deployer,
///   glue-maintainer, scoped-pass, and an inline `secrets-reader`);
/// - role `power-user` (all-but-iam);
/// - user `grace` (stack-creator attached, inline `pass-roles`): a method only the two
///   together complete.
pub async fn seed_privilege(emulator: &Emulator) {
    let iam = aws_sdk_iam::Client::new(&sdk_config(emulator, "us-east-1"));
    let mut arns = std::collections::BTreeMap::new();
    for (name, actions) in PRIVILEGE_POLICIES {
        let created = iam
            .create_policy()
            .policy_name(name)
            .policy_document(privilege_document(name, actions))
            .send()
            .await
            .unwrap();
        arns.insert(name, created.policy().unwrap().arn().unwrap().to_string());
    }
    let trust_account = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

    iam.create_group()
        .group_name("iam-helpers")
        .send()
        .await
        .unwrap();
    for policy in ["key-helper", "group-manager"] {
        iam.attach_group_policy()
            .group_name("iam-helpers")
            .policy_arn(&arns[policy])
            .send()
            .await
            .unwrap();
    }
    iam.create_user().user_name("frank").send().await.unwrap();
    iam.create_login_profile()
        .user_name("frank")
        .password("Correct-Horse-9-Battery")
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("iam-helpers")
        .user_name("frank")
        .send()
        .await
        .unwrap();

    for (role, policies) in [
        (
            "automation",
            &[
                "policy-editor",
                "permissions-manager",
                "trust-editor",
                "lambda-deployer",
                "glue-maintainer",
                "scoped-pass",
            ][..],
        ),
        ("power-user", &["all-but-iam"][..]),
    ] {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(trust_account)
            .send()
            .await
            .unwrap();
        for policy in policies {
            iam.attach_role_policy()
                .role_name(role)
                .policy_arn(&arns[policy])
                .send()
                .await
                .unwrap();
        }
    }
    iam.put_role_policy()
        .role_name("automation")
        .policy_name("secrets-reader")
        .policy_document(allow_all(&["secretsmanager:GetSecretValue", "kms:Decrypt"]))
        .send()
        .await
        .unwrap();

    iam.create_user().user_name("grace").send().await.unwrap();
    iam.attach_user_policy()
        .user_name("grace")
        .policy_arn(&arns["stack-creator"])
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("grace")
        .policy_name("pass-roles")
        .policy_document(allow_all(&["iam:PassRole"]))
        .send()
        .await
        .unwrap();
}

/// [`seed_findings`] and [`seed_privilege`] plus what the golden copies (tests/golden.rs) also
/// pin down: a group with a path (`/ops/`) holding an inline `*`-on-`*` policy and a member, an
/// access key and a weak password policy.
pub async fn seed_golden(emulator: &Emulator) {
    seed_findings(emulator).await;
    seed_privilege(emulator).await;
    let iam = aws_sdk_iam::Client::new(&sdk_config(emulator, "us-east-1"));
    iam.create_group()
        .group_name("ops-admins")
        .path("/ops/")
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("ops-admins")
        .policy_name("ops-everything")
        .policy_document(EVERYTHING_POLICY)
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("erin").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("ops-admins")
        .user_name("erin")
        .send()
        .await
        .unwrap();
    iam.create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    iam.update_account_password_policy()
        .minimum_password_length(8)
        .send()
        .await
        .unwrap();
}

/// `collect --json --max-attempts 1` over both [`REGIONS`] against `url` (the emulator, or a
/// proxy in front of it): (exit code, JSON summary).
pub fn collect_through(url: &str, out: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let output = run(binary()
        .args([
            "collect",
            "--json",
            "--max-attempts",
            "1",
            "--endpoint-url",
            url,
        ])
        .args(["--region", REGIONS[0], "--region", REGIONS[1]])
        .arg("--out")
        .arg(out)
        .args(extra));
    let summary = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON summary ({e}): {}", text(&output.stderr)));
    (output.status.code().unwrap(), summary)
}

/// [`collect_through`] `url` into a fresh directory, which must exit with `expected`.
pub fn collect_through_expecting(url: &str, extra: &[&str], expected: i32) -> Collected {
    let out = tempfile::tempdir().unwrap();
    let result = collect_through(url, out.path(), extra);
    super::expect_exit(out, result, expected)
}
