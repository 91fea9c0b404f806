//! `iam-authorization-details`: the real binary against a seeded emulated account (moto), and
//! `aws-smithy-mocks` for what moto cannot show (several pages, user permissions boundaries,
//! AccessDenied).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use aws_sdk_iam::operation::get_account_authorization_details::{
    GetAccountAuthorizationDetailsError, GetAccountAuthorizationDetailsOutput,
};
use aws_sdk_iam::primitives::DateTime;
use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy, GroupDetail, ManagedPolicyDetail,
    PermissionsBoundaryAttachmentType, PolicyDetail, PolicyVersion, RoleDetail, RoleLastUsed,
    UserDetail,
};
use aws_sdk_iam::Client as Iam;
use aws_smithy_mocks::mock;
use common::{
    collect_expecting, csv_rows, find_by, manifest_collector, read_json, strings_of, Emulator,
    ACCOUNT,
};
use futures_util::StreamExt;
use serde_json::{json, Value};
use soc2_evidence::collectors::iam_authorization_details;
use soc2_evidence::evidence::{CollectError, Evidence};
use soc2_evidence::vocab::CollectorStatus;

const ID: &str = "iam-authorization-details";

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
}

fn doc(value: Value) -> String {
    value.to_string()
}

fn trust(principal: Value, condition: Option<Value>) -> String {
    let mut statement =
        json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"});
    if let Some(condition) = condition {
        statement["Condition"] = condition;
    }
    doc(json!({"Version": "2012-10-17", "Statement": [statement]}))
}

/// The seeded account:
/// - policies: admin-star (`*` on `*` as strings), admin-list (`["*"]` on `["*"]`), read-s3,
///   boundary-s3 (used only as a role's boundary);
/// - groups: admins (admin-star attached), devs (read-s3 attached, inline `devs-logs`), empty;
/// - users: alice (admins, devs), bob (devs), carol (read-s3 attached directly), dave (inline
///   `dave-inline`, allowing `*` on `*`), erin (nothing);
/// - roles: ops (same-account root, admin-list, boundary-s3 as boundary), vendor (another
///   account, no ExternalId, inline `vendor-read`), vendor-safe (another account with
///   ExternalId), lambda-exec (service), github (federated), and a service-linked role.
async fn seed(emulator: &Emulator) {
    let iam = common::iam(emulator).await;
    let policies = [
        (
            "admin-star",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        ),
        (
            "admin-list",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}),
        ),
        (
            "read-s3",
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}}),
        ),
        (
            "boundary-s3",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        ),
    ];
    for (name, document) in policies {
        iam.create_policy()
            .policy_name(name)
            .policy_document(doc(document))
            .send()
            .await
            .unwrap();
    }
    for group in ["admins", "devs", "empty"] {
        iam.create_group().group_name(group).send().await.unwrap();
    }
    iam.attach_group_policy()
        .group_name("admins")
        .policy_arn(arn("policy", "admin-star"))
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("devs")
        .policy_arn(arn("policy", "read-s3"))
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("devs")
        .policy_name("devs-logs")
        .policy_document(doc(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:Get*", "Resource": "*"}]})))
        .send()
        .await
        .unwrap();
    for user in ["alice", "bob", "carol", "dave", "erin"] {
        iam.create_user().user_name(user).send().await.unwrap();
    }
    for (user, group) in [("alice", "admins"), ("alice", "devs"), ("bob", "devs")] {
        iam.add_user_to_group()
            .user_name(user)
            .group_name(group)
            .send()
            .await
            .unwrap();
    }
    iam.attach_user_policy()
        .user_name("carol")
        .policy_arn(arn("policy", "read-s3"))
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("dave")
        .policy_name("dave-inline")
        .policy_document(doc(json!({"Version": "2012-10-17", "Statement": [{"Sid": "Everything 100%", "Effect": "Allow", "Action": ["*"], "Resource": "*"}]})))
        .send()
        .await
        .unwrap();

    let roles = [
        (
            "ops",
            "/",
            trust(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}), None),
        ),
        (
            "vendor",
            "/",
            trust(json!({"AWS": "arn:aws:iam::999988887777:root"}), None),
        ),
        (
            "vendor-safe",
            "/",
            trust(
                json!({"AWS": "arn:aws:iam::444455556666:root"}),
                Some(json!({"StringEquals": {"sts:ExternalId": "s3cr3t-but-not-a-credential"}})),
            ),
        ),
        (
            "lambda-exec",
            "/service/",
            trust(json!({"Service": "lambda.amazonaws.com"}), None),
        ),
        (
            "github",
            "/",
            trust(
                json!({"Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com")}),
                None,
            ),
        ),
        (
            "AWSServiceRoleForSupport",
            "/aws-service-role/support.amazonaws.com/",
            trust(json!({"Service": "support.amazonaws.com"}), None),
        ),
    ];
    for (name, path, document) in roles {
        iam.create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(document)
            .send()
            .await
            .unwrap();
    }
    iam.attach_role_policy()
        .role_name("ops")
        .policy_arn(arn("policy", "admin-list"))
        .send()
        .await
        .unwrap();
    iam.put_role_permissions_boundary()
        .role_name("ops")
        .permissions_boundary(arn("policy", "boundary-s3"))
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("vendor")
        .policy_name("vendor-read")
        .policy_document(doc(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::shared/*"}]})))
        .send()
        .await
        .unwrap();
}

/// Selected columns of every row, for exact comparison.
fn columns(rows: &[BTreeMap<String, String>], names: &[&str]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| {
            names
                .iter()
                .map(|name| {
                    row.get(*name)
                        .unwrap_or_else(|| panic!("no column {name} in {row:?}"))
                        .clone()
                })
                .collect()
        })
        .collect()
}

fn strings(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| row.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tables_hold_exactly_the_seeded_account() {
    let emulator = Emulator::start();
    seed(&emulator).await;
    let (_out, _, dir) = collect_expecting(&emulator, &["--collector", ID], 0);
    let manifest = read_json(&dir.join("manifest.json"));
    let entry = manifest_collector(&manifest, ID);
    assert_eq!(entry["status"], "collected", "{entry:#}");
    assert_eq!(entry["scope"], "global");
    assert_eq!(entry["controls"], json!(["CC6.1", "CC6.2", "CC6.3"]));
    assert_eq!(entry["api_calls"], 1, "one page holds this account");
    assert_eq!(entry["notes"]["users"], 5);
    assert_eq!(entry["notes"]["roles"], 6);
    assert_eq!(entry["notes"]["groups"], 3);
    assert_eq!(entry["notes"]["managed_policies"], 4);
    assert!(
        entry["notes"].get("unparsed_documents").is_none(),
        "{entry:#}"
    );
    let mut files = strings_of(&entry["files"], "path");
    files.sort();
    assert_eq!(
        files,
        [
            "evidence/iam-authorization-details/authorization-details.json",
            "evidence/iam-authorization-details/groups.csv",
            "evidence/iam-authorization-details/policies.csv",
            "evidence/iam-authorization-details/roles.csv",
            "evidence/iam-authorization-details/users.csv",
        ]
    );
    let evidence = dir.join("evidence").join(ID);

    let users = csv_rows(&evidence.join("users.csv"));
    let policy = |name: &str| arn("policy", name);
    assert_eq!(
        columns(
            &users,
            &[
                "user_name",
                "arn",
                "path",
                "groups",
                "attached_policy_arns",
                "inline_policy_names",
                "permissions_boundary_arn",
                "allows_admin",
            ]
        ),
        strings(&[
            &[
                "alice",
                &arn("user", "alice"),
                "/",
                "admins;devs",
                "",
                "",
                "",
                "true"
            ],
            &["bob", &arn("user", "bob"), "/", "devs", "", "", "", "false"],
            &[
                "carol",
                &arn("user", "carol"),
                "/",
                "",
                &policy("read-s3"),
                "",
                "",
                "false"
            ],
            &[
                "dave",
                &arn("user", "dave"),
                "/",
                "",
                "",
                "dave-inline",
                "",
                "true"
            ],
            &["erin", &arn("user", "erin"), "/", "", "", "", "", "false"],
        ])
    );
    for user in &users {
        assert!(!user["user_id"].is_empty(), "{user:?}");
        let created = &user["created"];
        assert!(
            chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'),
            "{created}"
        );
    }

    let groups = csv_rows(&evidence.join("groups.csv"));
    assert_eq!(
        columns(
            &groups,
            &[
                "group_name",
                "arn",
                "attached_policy_arns",
                "inline_policy_names",
                "member_count",
                "members",
                "allows_admin",
            ]
        ),
        strings(&[
            &[
                "admins",
                &arn("group", "admins"),
                &policy("admin-star"),
                "",
                "1",
                "alice",
                "true"
            ],
            &[
                "devs",
                &arn("group", "devs"),
                &policy("read-s3"),
                "devs-logs",
                "2",
                "alice;bob",
                "false"
            ],
            &["empty", &arn("group", "empty"), "", "", "0", "", "false"],
        ])
    );

    let roles = csv_rows(&evidence.join("roles.csv"));
    let root = format!("AWS:arn:aws:iam::{ACCOUNT}:root");
    let oidc = format!(
        "Federated:arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    );
    assert_eq!(
        columns(
            &roles,
            &[
                "role_name",
                "path",
                "service_linked",
                "trust_policy_parsed",
                "trust_principals",
                "trust_external_principals",
                "trust_external_without_external_id",
                "trust_external_id_required",
                "attached_policy_arns",
                "inline_policy_names",
                "permissions_boundary_arn",
                "allows_admin",
            ]
        ),
        strings(&[
            &[
                "AWSServiceRoleForSupport",
                "/aws-service-role/support.amazonaws.com/",
                "true",
                "true",
                "Service:support.amazonaws.com",
                "",
                "",
                "",
                "",
                "",
                "",
                "false",
            ],
            &["github", "/", "false", "true", &oidc, "", "", "", "", "", "", "false"],
            &[
                "lambda-exec",
                "/service/",
                "false",
                "true",
                "Service:lambda.amazonaws.com",
                "",
                "",
                "",
                "",
                "",
                "",
                "false",
            ],
            &[
                "ops",
                "/",
                "false",
                "true",
                &root,
                "",
                "",
                "",
                &policy("admin-list"),
                "",
                &policy("boundary-s3"),
                "true",
            ],
            &[
                "vendor",
                "/",
                "false",
                "true",
                "AWS:arn:aws:iam::999988887777:root",
                "AWS:arn:aws:iam::999988887777:root",
                "AWS:arn:aws:iam::999988887777:root",
                "false",
                "",
                "vendor-read",
                "",
                "false",
            ],
            &[
                "vendor-safe",
                "/",
                "false",
                "true",
                "AWS:arn:aws:iam::444455556666:root",
                "AWS:arn:aws:iam::444455556666:root",
                "",
                "true",
                "",
                "",
                "",
                "false",
            ],
        ])
    );
    for role in &roles {
        assert_eq!(
            role["arn"],
            arn(
                "role",
                &format!("{}{}", &role["path"][1..], role["role_name"])
            )
        );
        assert!(role["created"].ends_with('Z'), "{role:?}");
        // moto never records a role's use.
        assert_eq!(role["role_last_used_date"], "");
        assert_eq!(role["role_last_used_region"], "");
    }

    let policies = csv_rows(&evidence.join("policies.csv"));
    let g = |name: &str| arn("group", name);
    let u = |name: &str| arn("user", name);
    let r = |name: &str| arn("role", name);
    let cm = "customer-managed";
    assert_eq!(
        columns(
            &policies,
            &[
                "principal_type",
                "principal_name",
                "principal_arn",
                "via",
                "policy_name",
                "policy_arn",
                "kind",
                "default_version_id",
                "allows_admin",
            ]
        ),
        strings(&[
            &[
                "group",
                "admins",
                &g("admins"),
                "direct",
                "admin-star",
                &policy("admin-star"),
                cm,
                "v1",
                "true"
            ],
            &[
                "group",
                "devs",
                &g("devs"),
                "direct",
                "devs-logs",
                "",
                "inline",
                "",
                "false"
            ],
            &[
                "group",
                "devs",
                &g("devs"),
                "direct",
                "read-s3",
                &policy("read-s3"),
                cm,
                "v1",
                "false"
            ],
            &[
                "role",
                "ops",
                &r("ops"),
                "direct",
                "admin-list",
                &policy("admin-list"),
                cm,
                "v1",
                "true"
            ],
            &[
                "role",
                "vendor",
                &r("vendor"),
                "direct",
                "vendor-read",
                "",
                "inline",
                "",
                "false"
            ],
            &[
                "user",
                "alice",
                &u("alice"),
                "group:admins",
                "admin-star",
                &policy("admin-star"),
                cm,
                "v1",
                "true"
            ],
            &[
                "user",
                "alice",
                &u("alice"),
                "group:devs",
                "devs-logs",
                "",
                "inline",
                "",
                "false"
            ],
            &[
                "user",
                "alice",
                &u("alice"),
                "group:devs",
                "read-s3",
                &policy("read-s3"),
                cm,
                "v1",
                "false"
            ],
            &[
                "user",
                "bob",
                &u("bob"),
                "group:devs",
                "devs-logs",
                "",
                "inline",
                "",
                "false"
            ],
            &[
                "user",
                "bob",
                &u("bob"),
                "group:devs",
                "read-s3",
                &policy("read-s3"),
                cm,
                "v1",
                "false"
            ],
            &[
                "user",
                "carol",
                &u("carol"),
                "direct",
                "read-s3",
                &policy("read-s3"),
                cm,
                "v1",
                "false"
            ],
            &[
                "user",
                "dave",
                &u("dave"),
                "direct",
                "dave-inline",
                "",
                "inline",
                "",
                "true"
            ],
        ])
    );

    // The raw JSON: decoded documents, names derived where moto leaves them out, sorted lists.
    let details = read_json(&evidence.join("authorization-details.json"));
    let names = |list: &str, key: &str| -> Vec<String> {
        details[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[key].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names("UserDetailList", "UserName"),
        ["alice", "bob", "carol", "dave", "erin"]
    );
    assert_eq!(
        names("GroupDetailList", "GroupName"),
        ["admins", "devs", "empty"]
    );
    assert_eq!(names("RoleDetailList", "RoleName").len(), 6);
    assert_eq!(
        names("Policies", "PolicyName"),
        ["admin-list", "admin-star", "boundary-s3", "read-s3"]
    );
    let dave = &details["UserDetailList"][3];
    assert_eq!(
        dave["UserPolicyList"][0]["PolicyDocument"],
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "Everything 100%", "Effect": "Allow", "Action": ["*"], "Resource": "*"}]})
    );
    let read_s3 = &details["Policies"][3];
    assert_eq!(read_s3["Arn"], policy("read-s3"));
    assert_eq!(read_s3["AttachmentCount"], 2);
    assert_eq!(read_s3["PolicyVersionList"][0]["IsDefaultVersion"], true);
    assert_eq!(
        read_s3["PolicyVersionList"][0]["Document"],
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}})
    );
    let vendor_safe = find_by(&details["RoleDetailList"], "RoleName", "vendor-safe");
    assert_eq!(
        vendor_safe["AssumeRolePolicyDocument"]["Statement"][0]["Condition"],
        json!({"StringEquals": {"sts:ExternalId": "s3cr3t-but-not-a-credential"}})
    );
    assert_eq!(
        find_by(&details["RoleDetailList"], "RoleName", "ops")["PermissionsBoundary"]
            ["PermissionsBoundaryArn"],
        policy("boundary-s3")
    );
    assert_eq!(
        entry["notes"]["policy_names_derived_from_arn"], 4,
        "moto omits PolicyName in Policies[]"
    );
}

/// Creates users `prefix-0..n` and roles `prefix-0..m` concurrently.
async fn seed_many(emulator: &Emulator, prefix: &str, users: usize, roles: usize) {
    let iam = common::iam(emulator).await;
    let trust = trust(json!({"Service": "ec2.amazonaws.com"}), None);
    let user_calls = (0..users).map(|i| {
        let iam = iam.clone();
        async move {
            iam.create_user()
                .user_name(format!("{prefix}-user-{i:03}"))
                .send()
                .await
                .map(|_| ())
        }
    });
    let role_calls = (0..roles).map(|i| {
        let iam = iam.clone();
        let trust = trust.clone();
        async move {
            iam.create_role()
                .role_name(format!("{prefix}-role-{i:03}"))
                .assume_role_policy_document(trust)
                .send()
                .await
                .map(|_| ())
        }
    });
    let results: Vec<_> = futures_util::stream::iter(user_calls)
        .buffer_unordered(16)
        .collect()
        .await;
    for result in results {
        result.unwrap();
    }
    let results: Vec<_> = futures_util::stream::iter(role_calls)
        .buffer_unordered(16)
        .collect()
        .await;
    for result in results {
        result.unwrap();
    }
}

fn collect_calls(emulator: &Emulator) -> (u64, usize, usize) {
    let (_out, _, dir) = collect_expecting(emulator, &["--collector", ID], 0);
    let manifest = read_json(&dir.join("manifest.json"));
    let entry = manifest_collector(&manifest, ID);
    assert_eq!(entry["status"], "collected");
    let evidence = dir.join("evidence").join(ID);
    (
        entry["api_calls"].as_u64().unwrap(),
        csv_rows(&evidence.join("users.csv")).len(),
        csv_rows(&evidence.join("roles.csv")).len(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_do_not_grow_with_users_and_roles() {
    let emulator = Emulator::start();
    seed_many(&emulator, "small", 2, 0).await;
    let (small_calls, users, roles) = collect_calls(&emulator);
    assert_eq!((users, roles), (2, 0));

    seed_many(&emulator, "large", 198, 100).await;
    let (large_calls, users, roles) = collect_calls(&emulator);
    assert_eq!((users, roles), (200, 100));
    assert_eq!(
        large_calls, small_calls,
        "200 users and 100 roles cost no more calls than 2 users"
    );
    assert_eq!(large_calls, 1, "moto serves everything in one page");
}

// ---- Mocked: pages, encodings and errors moto does not produce ----

/// A document exactly as IAM sends it: RFC 3986 percent-encoded (everything but unreserved
/// characters).
fn encode(document: &str) -> String {
    const RFC3986: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(document, RFC3986).to_string()
}

const TRICKY_DOCUMENT: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Grant 100% + ünïcode & \"quotes\"","Effect":"Allow","Action":["*"],"Resource":"*","Condition":{"StringLike":{"aws:userid":"AIDA*:a/b?c=d"}}}]}"#;

fn user(name: &str) -> UserDetail {
    UserDetail::builder()
        .user_name(name)
        .user_id(format!("AIDA{}", name.to_uppercase()))
        .arn(arn("user", name))
        .path("/")
        .create_date(DateTime::from_secs(1_700_000_000))
        .build()
}

fn pages() -> [GetAccountAuthorizationDetailsOutput; 3] {
    let boundary = "arn:aws:iam::aws:policy/PowerUserAccess";
    let page_1 = GetAccountAuthorizationDetailsOutput::builder()
        .user_detail_list(
            UserDetail::builder()
                .user_name("ann")
                .user_id("AIDAANN")
                .arn(arn("user", "ann"))
                .path("/people/")
                .create_date(DateTime::from_secs(1_700_000_000))
                .group_list("ops")
                .permissions_boundary(
                    AttachedPermissionsBoundary::builder()
                        .permissions_boundary_type(PermissionsBoundaryAttachmentType::Policy)
                        .permissions_boundary_arn(boundary)
                        .build(),
                )
                .build(),
        )
        .group_detail_list(
            GroupDetail::builder()
                .group_name("ops")
                .group_id("AGPAOPS")
                .arn(arn("group", "ops"))
                .path("/")
                .group_policy_list(
                    PolicyDetail::builder()
                        .policy_name("ops-tricky")
                        .policy_document(encode(TRICKY_DOCUMENT))
                        .build(),
                )
                .build(),
        )
        .is_truncated(true)
        .marker("page-2")
        .build();
    let page_2 = GetAccountAuthorizationDetailsOutput::builder()
        .user_detail_list(user("ben"))
        .role_detail_list(
            RoleDetail::builder()
                .role_name("deployer")
                .role_id("AROADEPLOYER")
                .arn(arn("role", "deployer"))
                .path("/")
                .create_date(DateTime::from_secs(1_700_000_000))
                .assume_role_policy_document(encode(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::999988887777:root","arn:aws:iam::123456789012:root"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}"#,
                ))
                .attached_managed_policies(
                    AttachedPolicy::builder()
                        .policy_name("AdministratorAccess")
                        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
                        .build(),
                )
                .role_last_used(
                    RoleLastUsed::builder()
                        .last_used_date(DateTime::from_secs(1_763_000_000))
                        .region("eu-central-1")
                        .build(),
                )
                .build(),
        )
        .is_truncated(true)
        .marker("page-3")
        .build();
    let managed = |name: &str, attachments: i32, boundary_uses: i32, document: &str| {
        ManagedPolicyDetail::builder()
            .policy_name(name)
            .policy_id(format!("ANPA{}", name.to_uppercase()))
            .arn(format!("arn:aws:iam::aws:policy/{name}"))
            .path("/")
            .default_version_id("v2")
            .attachment_count(attachments)
            .permissions_boundary_usage_count(boundary_uses)
            .is_attachable(true)
            .policy_version_list(
                PolicyVersion::builder()
                    .version_id("v1")
                    .is_default_version(false)
                    .document(encode(r#"{"Version":"2012-10-17","Statement":[]}"#))
                    .build(),
            )
            .policy_version_list(
                PolicyVersion::builder()
                    .version_id("v2")
                    .is_default_version(true)
                    .document(encode(document))
                    .build(),
            )
            .build()
    };
    let admin = common::seed::EVERYTHING_POLICY;
    let page_3 = GetAccountAuthorizationDetailsOutput::builder()
        .user_detail_list(user("cat"))
        .policies(managed("AdministratorAccess", 1, 0, admin))
        .policies(managed(
            "PowerUserAccess",
            0,
            1,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*"],"Resource":"*"}]}"#,
        ))
        .policies(managed("ReadOnlyAccess", 0, 0, admin))
        .is_truncated(false)
        .build();
    [page_1, page_2, page_3]
}

fn read(root: &Path, name: &str) -> PathBuf {
    root.join("evidence").join(ID).join(name)
}

#[tokio::test]
async fn three_pages_are_read_with_their_markers_and_merged() {
    let [page_1, page_2, page_3] = pages();
    let markers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = markers.clone();
    let rule = mock!(Iam::get_account_authorization_details)
        .match_requests(move |input| {
            seen.lock().unwrap().push((
                input.marker().map(str::to_string),
                input.max_items(),
                input.filter().len(),
            ));
            true
        })
        .sequence()
        .output(move || page_1.clone())
        .output(move || page_2.clone())
        .output(move || page_3.clone())
        .build();
    let clients = common::mock::clients(&[&rule]);
    let ctx = common::mock::context(&clients, &["us-east-1"]);
    let root = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(root.path(), ID);
    iam_authorization_details::collect(&ctx, &mut out)
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 3);
    assert_eq!(
        *markers.lock().unwrap(),
        [
            (None, Some(1000), 5),
            (Some("page-2".to_string()), Some(1000), 5),
            (Some("page-3".to_string()), Some(1000), 5),
        ],
        "each page asks for the next marker, the largest page and all five entity types"
    );
    assert!(out.errors().is_empty());
    assert_eq!(ctx.clients.counts(), [("global".to_string(), 3, 0)]);

    // Entities from every page are in the tables.
    let users = csv_rows(&read(root.path(), "users.csv"));
    assert_eq!(
        columns(
            &users,
            &[
                "user_name",
                "path",
                "groups",
                "permissions_boundary_arn",
                "allows_admin"
            ]
        ),
        strings(&[
            &[
                "ann",
                "/people/",
                "ops",
                "arn:aws:iam::aws:policy/PowerUserAccess",
                "true"
            ],
            &["ben", "/", "", "", "false"],
            &["cat", "/", "", "", "false"],
        ])
    );
    assert_eq!(users[0]["created"], "2023-11-14T22:13:20Z");
    let roles = csv_rows(&read(root.path(), "roles.csv"));
    assert_eq!(
        columns(
            &roles,
            &[
                "role_name",
                "trust_principals",
                "trust_external_principals",
                "trust_external_without_external_id",
                "trust_external_id_required",
                "role_last_used_date",
                "role_last_used_region",
                "attached_policy_arns",
                "allows_admin",
            ]
        ),
        strings(&[&[
            "deployer",
            "AWS:arn:aws:iam::123456789012:root;AWS:arn:aws:iam::999988887777:root",
            "AWS:arn:aws:iam::999988887777:root",
            "",
            "true",
            "2025-11-13T02:13:20Z",
            "eu-central-1",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "true",
        ]])
    );
    let groups = csv_rows(&read(root.path(), "groups.csv"));
    assert_eq!(
        columns(
            &groups,
            &["group_name", "member_count", "members", "allows_admin"]
        ),
        strings(&[&["ops", "1", "ann", "true"]])
    );
    let policies = csv_rows(&read(root.path(), "policies.csv"));
    assert_eq!(
        columns(
            &policies,
            &[
                "principal_type",
                "principal_name",
                "via",
                "policy_name",
                "kind",
                "default_version_id",
                "allows_admin"
            ]
        ),
        strings(&[
            &["group", "ops", "direct", "ops-tricky", "inline", "", "true"],
            &[
                "role",
                "deployer",
                "direct",
                "AdministratorAccess",
                "aws-managed",
                "v2",
                "true"
            ],
            &[
                "user",
                "ann",
                "group:ops",
                "ops-tricky",
                "inline",
                "",
                "true"
            ],
        ])
    );

    // The percent-encoded document is decoded exactly.
    let details = read_json(&read(root.path(), "authorization-details.json"));
    let expected: Value = serde_json::from_str(TRICKY_DOCUMENT).unwrap();
    assert_eq!(
        details["GroupDetailList"][0]["GroupPolicyList"][0]["PolicyDocument"],
        expected
    );
    assert_eq!(
        expected["Statement"][0]["Sid"],
        "Grant 100% + ünïcode & \"quotes\""
    );
    // AWS managed policies: the attached one and the boundary are kept, the unused one is not.
    let arns = strings_of(&details["Policies"], "Arn");
    assert_eq!(
        arns,
        [
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/PowerUserAccess",
        ]
    );
    assert_eq!(
        details["Policies"][0]["PolicyVersionList"][1]["Document"],
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    );
    let parts = out.into_parts();
    assert_eq!(parts.notes["pages"], 3);
    assert_eq!(parts.notes["aws_managed_policies_not_in_use_omitted"], 1);
    assert!(!parts.notes.contains_key("policy_names_derived_from_arn"));
    assert_eq!(parts.files.len(), 5);
}

#[tokio::test]
async fn a_document_that_is_not_json_is_kept_and_noted() {
    let rule = mock!(Iam::get_account_authorization_details).then_output(|| {
        GetAccountAuthorizationDetailsOutput::builder()
            .user_detail_list(
                UserDetail::builder()
                    .user_name("ann")
                    .arn(arn("user", "ann"))
                    .user_policy_list(
                        PolicyDetail::builder()
                            .policy_name("garbled")
                            .policy_document(encode("{\"Statement\": [truncated"))
                            .build(),
                    )
                    .build(),
            )
            .is_truncated(false)
            .build()
    });
    let clients = common::mock::clients(&[&rule]);
    let ctx = common::mock::context(&clients, &["us-east-1"]);
    let root = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(root.path(), ID);
    iam_authorization_details::collect(&ctx, &mut out)
        .await
        .unwrap();
    let details = read_json(&read(root.path(), "authorization-details.json"));
    assert_eq!(
        details["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"],
        "{\"Statement\": [truncated"
    );
    let policies = csv_rows(&read(root.path(), "policies.csv"));
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0]["allows_admin"], "", "unknown, not false");
    let parts = out.into_parts();
    assert!(parts.errors.is_empty(), "the call succeeded");
    let unparsed = &parts.notes["unparsed_documents"];
    assert_eq!(unparsed[0]["entity"], "user/ann");
    assert_eq!(unparsed[0]["document"], "garbled");
    assert!(unparsed[0]["error"].as_str().unwrap().contains("not JSON"));
}

#[tokio::test]
async fn an_empty_account_writes_empty_tables_with_headers() {
    let rule = mock!(Iam::get_account_authorization_details).then_output(|| {
        GetAccountAuthorizationDetailsOutput::builder()
            .is_truncated(false)
            .build()
    });
    let clients = common::mock::clients(&[&rule]);
    let ctx = common::mock::context(&clients, &["us-east-1"]);
    let root = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(root.path(), ID);
    iam_authorization_details::collect(&ctx, &mut out)
        .await
        .unwrap();
    let header = |name: &str| {
        fs::read_to_string(read(root.path(), name))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        header("policies.csv"),
        ["policy_name,policy_arn,kind,principal_type,principal_name,principal_arn,via,default_version_id,allows_admin"]
    );
    assert_eq!(header("users.csv").len(), 1);
    assert!(header("users.csv")[0].starts_with("user_name,arn,user_id,path,created,groups,"));
    assert_eq!(header("roles.csv").len(), 1);
    assert_eq!(header("groups.csv").len(), 1);
    let details = read_json(&read(root.path(), "authorization-details.json"));
    assert_eq!(
        details,
        json!({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []})
    );
    assert!(out.into_parts().notes.contains_key("empty"));
}

#[tokio::test]
async fn access_denied_fails_the_collector_and_names_the_operation() {
    let denied = mock!(Iam::get_account_authorization_details).then_error(|| {
        GetAccountAuthorizationDetailsError::generic(common::mock::meta("AccessDenied"))
    });
    let clients = common::mock::clients(&[&denied]);
    let ctx = common::mock::context(&clients, &["us-east-1"]);
    let root = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(root.path(), ID);
    let err = iam_authorization_details::collect(&ctx, &mut out)
        .await
        .unwrap_err();
    let CollectError::Call(err) = err else {
        panic!("expected a call error, got {err:?}");
    };
    assert_eq!(err.operation, "GetAccountAuthorizationDetails");
    assert_eq!(err.code, "AccessDenied");
    assert_eq!(err.region, "global");
    assert_eq!(denied.num_calls(), 1);
    assert!(out.files().is_empty(), "nothing half-written");

    // Through the whole run: the collector is failed and the bundle incomplete.
    let denied = mock!(Iam::get_account_authorization_details).then_error(|| {
        GetAccountAuthorizationDetailsError::generic(common::mock::meta("AccessDenied"))
    });
    let identity = common::mock::caller_identity();
    let clients = common::mock::clients(&[&identity, &denied]);
    let bundle = tempfile::tempdir().unwrap();
    let config = common::mock::config(bundle.path(), &[ID], &["us-east-1"]);
    let outcome = soc2_evidence::run::collect_with(&config, clients)
        .await
        .expect("a bundle is written");
    assert_eq!(outcome.exit_code().code(), 3);
    let entry = outcome
        .manifest
        .collectors
        .iter()
        .find(|c| c.id == ID)
        .unwrap();
    assert_eq!(entry.status, CollectorStatus::Failed);
    assert_eq!(entry.errors.len(), 1);
    assert_eq!(entry.errors[0].operation, "GetAccountAuthorizationDetails");
    assert_eq!(entry.errors[0].code, "AccessDenied");
}

#[test]
fn the_registry_entry_declares_the_one_permission_and_three_controls() {
    let spec = soc2_evidence::registry::find(ID).unwrap();
    assert_eq!(spec.permissions, ["iam:GetAccountAuthorizationDetails"]);
    let controls: Vec<&str> = spec.controls.iter().map(|c| c.id()).collect();
    assert_eq!(controls, ["CC6.1", "CC6.2", "CC6.3"]);
}
