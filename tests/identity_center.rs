//! The `identity-center` collector: the real binary against a seeded emulator (stock moto:
//! every account has an ACTIVE instance in every region, the identity store is created on first
//! use, a permission set lists an account only once provisioned, and permissions boundaries are
//! not served), its access review and rule; an org run collecting it once; and
//! `aws-smithy-mocks` for what moto lacks: provisioned accounts, two or more pages of every
//! list, and a refused call.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use aws_sdk_identitystore::operation::list_group_memberships::{
    ListGroupMembershipsError, ListGroupMembershipsOutput,
};
use aws_sdk_identitystore::operation::list_groups::ListGroupsOutput;
use aws_sdk_identitystore::operation::list_users::ListUsersOutput;
use aws_sdk_identitystore::types::{Email, Group, GroupMembership, MemberId, User};
use aws_sdk_identitystore::Client as IdentityStore;
use aws_sdk_ssoadmin::operation::describe_permission_set::DescribePermissionSetOutput;
use aws_sdk_ssoadmin::operation::get_inline_policy_for_permission_set::GetInlinePolicyForPermissionSetOutput;
use aws_sdk_ssoadmin::operation::get_permissions_boundary_for_permission_set::{
    GetPermissionsBoundaryForPermissionSetError, GetPermissionsBoundaryForPermissionSetOutput,
};
use aws_sdk_ssoadmin::operation::list_account_assignments::ListAccountAssignmentsOutput;
use aws_sdk_ssoadmin::operation::list_accounts_for_provisioned_permission_set::ListAccountsForProvisionedPermissionSetOutput;
use aws_sdk_ssoadmin::operation::list_customer_managed_policy_references_in_permission_set::ListCustomerManagedPolicyReferencesInPermissionSetOutput;
use aws_sdk_ssoadmin::operation::list_instances::ListInstancesOutput;
use aws_sdk_ssoadmin::operation::list_managed_policies_in_permission_set::ListManagedPoliciesInPermissionSetOutput;
use aws_sdk_ssoadmin::operation::list_permission_sets::ListPermissionSetsOutput;
use aws_sdk_ssoadmin::types::{
    AccountAssignment, AttachedManagedPolicy, CustomerManagedPolicyReference, InstanceMetadata,
    InstanceStatus, PermissionSet, PermissionsBoundary, PrincipalType, TargetType,
};
use aws_sdk_ssoadmin::Client as SsoAdmin;
use aws_smithy_mocks::{mock, Rule};
use common::mock::meta;
use common::{
    collect_expecting, csv_rows, manifest_collector, read_json, sdk_config, Emulator, ACCOUNT,
};
use serde_json::{json, Value};
use soc2_evidence::collectors::identity_center;
use soc2_evidence::evidence::Evidence;
use soc2_evidence::vocab::{CallError, CollectorStatus};

type Row = BTreeMap<String, String>;

/// The columns of `rows` named, in order, as tuples of text.
fn cells(rows: &[Row], columns: &[&str]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| columns.iter().map(|c| r[*c].clone()).collect())
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---- Emulator ----

struct Seeded {
    instance_arn: String,
    store_id: String,
    admin_set: String,
    read_set: String,
    reports_set: String,
    alice: String,
    bob: String,
    carol: String,
    admins: String,
}

const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#;

/// In us-east-1's instance: `Admin` (AdministratorAccess, PT4H), `ReadOnly` (an inline
/// read-only policy, a relay state) and `Reports` (a customer managed policy reference); users
/// alice, bob and carol, group `admins` with bob and carol. `Admin` is assigned to alice
/// directly and `ReadOnly` to the group, both provisioned; `Reports` is assigned to carol but
/// never provisioned, so moto lists no account for it.
async fn seed(emulator: &Emulator) -> Seeded {
    let config = sdk_config(emulator, "us-east-1");
    let sso = SsoAdmin::new(&config);
    let instances = sso.list_instances().send().await.unwrap();
    let instance = &instances.instances()[0];
    let instance_arn = instance.instance_arn().unwrap().to_string();
    let store_id = instance.identity_store_id().unwrap().to_string();

    let create = |name: &'static str| {
        let sso = sso.clone();
        let instance_arn = instance_arn.clone();
        async move {
            let mut request = sso
                .create_permission_set()
                .instance_arn(&instance_arn)
                .name(name)
                .description(format!("{name} access"));
            // Every duration given: moto's default is the number 3600, not an ISO 8601
            // duration, which the SDK cannot read.
            request = match name {
                "Admin" => request.session_duration("PT4H"),
                "ReadOnly" => request
                    .session_duration("PT1H")
                    .relay_state("https://console.aws.amazon.com/s3"),
                _ => request.session_duration("PT2H"),
            };
            request
                .send()
                .await
                .unwrap()
                .permission_set()
                .unwrap()
                .permission_set_arn()
                .unwrap()
                .to_string()
        }
    };
    let admin_set = create("Admin").await;
    let read_set = create("ReadOnly").await;
    let reports_set = create("Reports").await;
    sso.attach_managed_policy_to_permission_set()
        .instance_arn(&instance_arn)
        .permission_set_arn(&admin_set)
        .managed_policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    sso.put_inline_policy_to_permission_set()
        .instance_arn(&instance_arn)
        .permission_set_arn(&read_set)
        .inline_policy(READ_ONLY)
        .send()
        .await
        .unwrap();
    sso.attach_customer_managed_policy_reference_to_permission_set()
        .instance_arn(&instance_arn)
        .permission_set_arn(&reports_set)
        .customer_managed_policy_reference(
            CustomerManagedPolicyReference::builder()
                .name("ReportsReader")
                .path("/app/")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let store = IdentityStore::new(&config);
    let user = |name: &'static str| {
        let store = store.clone();
        let store_id = store_id.clone();
        async move {
            store
                .create_user()
                .identity_store_id(&store_id)
                .user_name(name)
                .display_name(format!("{} Example", name.to_uppercase()))
                .name(
                    aws_sdk_identitystore::types::Name::builder()
                        .given_name(name)
                        .family_name("Example")
                        .build(),
                )
                .emails(
                    Email::builder()
                        .value(format!("{name}@example.com"))
                        .primary(true)
                        .build(),
                )
                .send()
                .await
                .unwrap()
                .user_id()
                .to_string()
        }
    };
    let alice = user("alice").await;
    let bob = user("bob").await;
    let carol = user("carol").await;
    let admins = store
        .create_group()
        .identity_store_id(&store_id)
        .display_name("admins")
        .description("Platform administrators")
        .send()
        .await
        .unwrap()
        .group_id()
        .to_string();
    for member in [&bob, &carol] {
        store
            .create_group_membership()
            .identity_store_id(&store_id)
            .group_id(&admins)
            .member_id(MemberId::UserId(member.clone()))
            .send()
            .await
            .unwrap();
    }

    for (set, kind, principal) in [
        (&admin_set, PrincipalType::User, &alice),
        (&read_set, PrincipalType::Group, &admins),
        (&reports_set, PrincipalType::User, &carol),
    ] {
        sso.create_account_assignment()
            .instance_arn(&instance_arn)
            .target_id(ACCOUNT)
            .target_type(TargetType::AwsAccount)
            .permission_set_arn(set)
            .principal_type(kind)
            .principal_id(principal)
            .send()
            .await
            .unwrap();
    }
    for set in [&admin_set, &read_set] {
        sso.provision_permission_set()
            .instance_arn(&instance_arn)
            .permission_set_arn(set)
            .target_id(ACCOUNT)
            .target_type(aws_sdk_ssoadmin::types::ProvisionTargetType::AwsAccount)
            .send()
            .await
            .unwrap();
    }
    Seeded {
        instance_arn,
        store_id,
        admin_set,
        read_set,
        reports_set,
        alice,
        bob,
        carol,
        admins,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn permission_sets_assignments_and_the_identity_store_as_stock_moto_serves_them() {
    let emulator = Emulator::start();
    let s = seed(&emulator).await;
    // moto does not serve GetPermissionsBoundaryForPermissionSet: each permission set's call
    // fails (recorded, not retried), so the collector is partial and the run exits 3.
    let (_out, _, dir) = collect_expecting(
        &emulator,
        &[
            "--collector",
            "identity-center",
            "--region",
            "eu-west-1",
            "--max-attempts",
            "1",
        ],
        3,
    );
    let manifest = read_json(&dir.join("manifest.json"));
    let record = manifest_collector(&manifest, "identity-center");
    assert_eq!(record["status"], "partial", "{record:#}");
    let errors: Vec<(String, String, String)> = record["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["region"].as_str().unwrap().to_string(),
                e["operation"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let boundary_error = (
        "us-east-1".to_string(),
        "GetPermissionsBoundaryForPermissionSet".to_string(),
        BOUNDARY_CODE.to_string(),
    );
    assert_eq!(errors, vec![boundary_error; 3], "{record:#}");
    let notes = &record["notes"];
    // moto gives each region its own instance; eu-west-1's has nothing in it.
    assert_eq!(
        (
            &notes["instances"],
            &notes["permission_sets"],
            &notes["assignments"]
        ),
        (&json!(2), &json!(3), &json!(2)),
        "{notes:#}"
    );
    let regions: Vec<(&str, &str)> = record["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["region"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        regions,
        [("eu-west-1", "collected"), ("us-east-1", "partial")]
    );

    let evidence = dir.join("evidence/identity-center");
    let instances = csv_rows(&evidence.join("instances.csv"));
    let us: Vec<&Row> = instances
        .iter()
        .filter(|r| r["region"] == "us-east-1")
        .collect();
    assert_eq!(instances.len(), 2);
    assert_eq!(us[0]["instance_arn"], s.instance_arn);
    assert_eq!(us[0]["identity_store_id"], s.store_id);
    assert_eq!(us[0]["owner_account_id"], ACCOUNT);
    assert_eq!(us[0]["status"], "ACTIVE");

    let sets = csv_rows(&evidence.join("permission-sets.csv"));
    assert_eq!(
        cells(
            &sets,
            &[
                "name",
                "permission_set_arn",
                "session_duration",
                "relay_state",
                "managed_policy_arns",
                "customer_managed_policies",
                "has_inline_policy",
                "permissions_boundary",
                "provisioned_accounts",
                "allows_admin",
                "failed_calls",
            ]
        ),
        [
            strings(&[
                "Admin",
                &s.admin_set,
                "PT4H",
                "",
                "arn:aws:iam::aws:policy/AdministratorAccess",
                "",
                "false",
                "",
                ACCOUNT,
                "true",
                "GetPermissionsBoundaryForPermissionSet",
            ]),
            strings(&[
                "ReadOnly",
                &s.read_set,
                "PT1H",
                "https://console.aws.amazon.com/s3",
                "",
                "",
                "true",
                "",
                ACCOUNT,
                "false",
                "GetPermissionsBoundaryForPermissionSet",
            ]),
            // A customer managed policy is read in each account, not here: admin unknown.
            strings(&[
                "Reports",
                &s.reports_set,
                "PT2H",
                "",
                "",
                "/app/ReportsReader",
                "false",
                "",
                "",
                "",
                "GetPermissionsBoundaryForPermissionSet",
            ]),
        ]
    );
    let json_sets = read_json(&evidence.join("permission-sets.json"));
    let read_only = json_sets["permission_sets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["PermissionSetArn"] == s.read_set.as_str())
        .unwrap();
    assert_eq!(
        read_only["InlinePolicy"],
        serde_json::from_str::<Value>(READ_ONLY).unwrap(),
        "the inline document decoded"
    );
    assert_eq!(read_only["PermissionSet"]["Description"], "ReadOnly access");

    // Reports was never provisioned: moto lists no account for it, so none of its assignments.
    let assignments = csv_rows(&evidence.join("assignments.csv"));
    assert_eq!(
        cells(
            &assignments,
            &[
                "account_id",
                "permission_set_name",
                "permission_set_arn",
                "principal_type",
                "principal_id",
                "principal_name"
            ]
        ),
        [
            strings(&[ACCOUNT, "Admin", &s.admin_set, "USER", &s.alice, "alice"]),
            strings(&[
                ACCOUNT,
                "ReadOnly",
                &s.read_set,
                "GROUP",
                &s.admins,
                "admins"
            ]),
        ]
    );

    let users = csv_rows(&evidence.join("users.csv"));
    assert_eq!(
        cells(&users, &["user_id", "user_name", "display_name", "email"]),
        [
            strings(&[&s.alice, "alice", "ALICE Example", "alice@example.com"]),
            strings(&[&s.bob, "bob", "BOB Example", "bob@example.com"]),
            strings(&[&s.carol, "carol", "CAROL Example", "carol@example.com"]),
        ]
    );
    let groups = csv_rows(&evidence.join("groups.csv"));
    assert_eq!(
        cells(
            &groups,
            &["group_id", "display_name", "description", "members"]
        ),
        [strings(&[
            &s.admins,
            "admins",
            "Platform administrators",
            "2"
        ])]
    );
    let memberships = csv_rows(&evidence.join("group-memberships.csv"));
    assert_eq!(
        cells(
            &memberships,
            &["group_id", "group_name", "user_id", "user_name"]
        ),
        [
            strings(&[&s.admins, "admins", &s.bob, "bob"]),
            strings(&[&s.admins, "admins", &s.carol, "carol"]),
        ]
    );

    // The access review: one row per (user, account, permission set).
    let review = csv_rows(&dir.join("access-review/identity-center.csv"));
    assert_eq!(
        cells(
            &review,
            &[
                "user_name",
                "email",
                "account_id",
                "permission_set_name",
                "via",
                "allows_admin",
                "reviewer",
                "decision",
                "notes"
            ]
        ),
        [
            strings(&[
                "alice",
                "alice@example.com",
                ACCOUNT,
                "Admin",
                "direct",
                "true",
                "",
                "",
                ""
            ]),
            strings(&[
                "bob",
                "bob@example.com",
                ACCOUNT,
                "ReadOnly",
                "admins",
                "false",
                "",
                "",
                ""
            ]),
            strings(&[
                "carol",
                "carol@example.com",
                ACCOUNT,
                "ReadOnly",
                "admins",
                "false",
                "",
                "",
                ""
            ]),
        ]
    );
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&"access-review/identity-center.csv"),
        "{listed:?}"
    );

    // The rule: alice's direct assignment, evaluated partly (the boundary calls failed).
    let findings = csv_rows(&dir.join("findings.csv"));
    let direct: Vec<Vec<String>> = cells(
        &findings
            .into_iter()
            .filter(|f| f["rule"] == "sso-direct-user-assignment")
            .collect::<Vec<_>>(),
        &["severity", "resource", "region", "detail", "evidence"],
    );
    assert_eq!(
        direct,
        [strings(&[
            "low",
            &s.admin_set,
            "us-east-1",
            &format!(
                "Permission set Admin is assigned directly to user alice ({}) in account {ACCOUNT}, not through a group.",
                s.alice
            ),
            "evidence/identity-center/assignments.csv",
        ])]
    );
    let rules = csv_rows(&dir.join("rules.csv"));
    let rule = rules
        .iter()
        .find(|r| r["rule"] == "sso-direct-user-assignment")
        .unwrap();
    assert_eq!(rule["status"], "partial", "{rule:?}");

    // `report` re-derives the review and the findings from the raw evidence.
    let out = tempfile::tempdir().unwrap();
    let derived = common::report_expecting(&dir, out.path(), &[], 0);
    for file in ["access-review/identity-center.csv", "findings.csv"] {
        assert_eq!(
            std::fs::read(derived.join(file)).unwrap(),
            std::fs::read(dir.join(file)).unwrap(),
            "{file}"
        );
    }
}

/// What the Rust SDK records for an operation moto does not serve.
const BOUNDARY_CODE: &str = "Http500";

#[tokio::test(flavor = "multi_thread")]
async fn an_org_run_collects_identity_center_once_from_the_management_account() {
    let emulator = Emulator::start();
    let org = common::org::seed_org(&emulator).await;
    let out = tempfile::tempdir().unwrap();
    let output = common::run(
        common::binary()
            .args(["collect", "--json", "--endpoint-url", &emulator.url])
            .args([
                "--region",
                "us-east-1",
                "--org",
                "--role-name",
                common::org::ROLE,
            ])
            .args(["--max-attempts", "1", "--collector", "identity-center"])
            .arg("--out")
            .arg(out.path()),
    );
    let summary: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", common::text(&output.stderr)));
    assert_eq!(output.status.code(), Some(0), "{summary:#}");
    let bundle = common::bundle_dir(&summary);
    let management = read_json(&bundle.join(format!("accounts/{ACCOUNT}/manifest.json")));
    let record = manifest_collector(&management, "identity-center");
    assert_eq!(record["status"], "collected", "{record:#}");
    assert_eq!(record["notes"]["instances"], 1);
    for member in &org.members {
        let manifest = read_json(&bundle.join(format!("accounts/{}/manifest.json", member.id)));
        assert_eq!(manifest["status"], "complete");
        let record = manifest_collector(&manifest, "identity-center");
        assert_eq!(record["status"], "skipped", "{record:#}");
        assert_eq!(record["api_calls"], 0);
        assert_eq!(
            record["notes"]["skipped"],
            format!(
                "IAM Identity Center is collected once for the organization, from account {ACCOUNT} (the management account), which holds the organization's instance"
            )
        );
        let rules = csv_rows(&bundle.join(format!("accounts/{}/rules.csv", member.id)));
        let rule = rules
            .iter()
            .find(|r| r["rule"] == "sso-direct-user-assignment")
            .unwrap();
        assert_eq!(
            (rule["status"].as_str(), rule["reason"].as_str()),
            ("not_evaluated", "identity-center was skipped")
        );
    }
}

// ---- Mocks ----

const INSTANCE: &str = "arn:aws:sso:::instance/ssoins-7223e8a1d2f3b4c5";
const STORE: &str = "d-9067c1a2b3";

fn set_arn(id: &str) -> String {
    format!("arn:aws:sso:::permissionSet/ssoins-7223e8a1d2f3b4c5/ps-{id}")
}

/// Runs the collector in process over us-east-1: its evidence folder and sink.
async fn run_collector(rules: &[&Rule]) -> (tempfile::TempDir, PathBuf, Evidence) {
    let clients = common::mock::clients(rules);
    let ctx = common::mock::context(&clients, &["us-east-1"]);
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("evidence/identity-center");
    let mut out = Evidence::new(root.path(), "identity-center");
    identity_center::collect(&ctx, &mut out).await.unwrap();
    (root, folder, out)
}

fn instances() -> Rule {
    mock!(SsoAdmin::list_instances)
        .match_requests(|input| input.max_results() == Some(100))
        .then_output(|| {
            ListInstancesOutput::builder()
                .instances(
                    InstanceMetadata::builder()
                        .instance_arn(INSTANCE)
                        .identity_store_id(STORE)
                        .owner_account_id(ACCOUNT)
                        .status(InstanceStatus::Active)
                        .build(),
                )
                .build()
        })
}

/// The per-permission-set answers: named after its id, no policy but the inline one of
/// `ps-1` (AdministratorAccess by ARN for `ps-2`), no boundary.
fn permission_set_answers() -> Vec<Rule> {
    vec![
        mock!(SsoAdmin::describe_permission_set).then_compute_output(|input| {
            let arn = input.permission_set_arn().unwrap_or_default().to_string();
            let name = format!("Set-{}", arn.rsplit("ps-").next().unwrap_or_default());
            DescribePermissionSetOutput::builder()
                .permission_set(
                    PermissionSet::builder()
                        .name(name)
                        .permission_set_arn(arn)
                        .session_duration("PT8H")
                        .build(),
                )
                .build()
        }),
        mock!(SsoAdmin::list_managed_policies_in_permission_set)
            .match_requests(|input| input.permission_set_arn() == Some(set_arn("2").as_str()))
            .then_output(|| {
                ListManagedPoliciesInPermissionSetOutput::builder()
                    .attached_managed_policies(
                        AttachedManagedPolicy::builder()
                            .name("AdministratorAccess")
                            .arn("arn:aws:iam::aws:policy/AdministratorAccess")
                            .build(),
                    )
                    .build()
            }),
        mock!(SsoAdmin::list_managed_policies_in_permission_set)
            .then_output(|| ListManagedPoliciesInPermissionSetOutput::builder().build()),
        mock!(SsoAdmin::list_customer_managed_policy_references_in_permission_set).then_output(
            || ListCustomerManagedPolicyReferencesInPermissionSetOutput::builder().build(),
        ),
        mock!(SsoAdmin::get_inline_policy_for_permission_set)
            .match_requests(|input| input.permission_set_arn() == Some(set_arn("1").as_str()))
            .then_output(|| {
                GetInlinePolicyForPermissionSetOutput::builder()
                    .inline_policy(READ_ONLY)
                    .build()
            }),
        mock!(SsoAdmin::get_inline_policy_for_permission_set).then_output(|| {
            GetInlinePolicyForPermissionSetOutput::builder()
                .inline_policy("")
                .build()
        }),
        mock!(SsoAdmin::get_permissions_boundary_for_permission_set)
            .match_requests(|input| input.permission_set_arn() == Some(set_arn("1").as_str()))
            .then_output(|| {
                GetPermissionsBoundaryForPermissionSetOutput::builder()
                    .permissions_boundary(
                        PermissionsBoundary::builder()
                            .managed_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
                            .build(),
                    )
                    .build()
            }),
        mock!(SsoAdmin::get_permissions_boundary_for_permission_set).then_error(|| {
            GetPermissionsBoundaryForPermissionSetError::ResourceNotFoundException(
                aws_sdk_ssoadmin::types::error::ResourceNotFoundException::builder()
                    .message("no permissions boundary")
                    .build(),
            )
        }),
    ]
}

fn user(id: &str, name: &str) -> User {
    User::builder()
        .identity_store_id(STORE)
        .user_id(id)
        .user_arn(format!("arn:aws:identitystore:::user/{id}"))
        .revision("1")
        .user_name(name)
        .emails(
            Email::builder()
                .value(format!("{name}@example.com"))
                .primary(true)
                .build(),
        )
        .build()
        .unwrap()
}

fn membership(id: &str, group: &str, user: &str) -> GroupMembership {
    GroupMembership::builder()
        .identity_store_id(STORE)
        .membership_id(id)
        .membership_arn(format!("arn:aws:identitystore:::membership/{id}"))
        .group_id(group)
        .member_id(MemberId::UserId(user.to_string()))
        .build()
        .unwrap()
}

fn assignment(account: &str, set: &str, kind: PrincipalType, id: &str) -> AccountAssignment {
    AccountAssignment::builder()
        .account_id(account)
        .permission_set_arn(set)
        .principal_type(kind)
        .principal_id(id)
        .build()
}

#[tokio::test]
async fn every_list_is_read_across_pages_and_each_account_of_a_permission_set_is_asked() {
    let instances = instances();
    let sets_1 = mock!(SsoAdmin::list_permission_sets)
        .match_requests(|input| {
            input.next_token().is_none()
                && input.max_results() == Some(100)
                && input.instance_arn() == Some(INSTANCE)
        })
        .then_output(|| {
            ListPermissionSetsOutput::builder()
                .permission_sets(set_arn("1"))
                .next_token("sets-2")
                .build()
        });
    let sets_2 = mock!(SsoAdmin::list_permission_sets)
        .match_requests(|input| input.next_token() == Some("sets-2"))
        .then_output(|| {
            ListPermissionSetsOutput::builder()
                .permission_sets(set_arn("2"))
                .build()
        });
    let accounts_1 = mock!(SsoAdmin::list_accounts_for_provisioned_permission_set)
        .match_requests(|input| {
            input.permission_set_arn() == Some(set_arn("1").as_str())
                && input.next_token().is_none()
                && input.max_results() == Some(100)
        })
        .then_output(|| {
            ListAccountsForProvisionedPermissionSetOutput::builder()
                .account_ids("222222222222")
                .account_ids("111111111111")
                .next_token("accounts-2")
                .build()
        });
    let accounts_2 = mock!(SsoAdmin::list_accounts_for_provisioned_permission_set)
        .match_requests(|input| input.next_token() == Some("accounts-2"))
        .then_output(|| {
            ListAccountsForProvisionedPermissionSetOutput::builder()
                .account_ids("333333333333")
                .build()
        });
    let accounts_other = mock!(SsoAdmin::list_accounts_for_provisioned_permission_set)
        .match_requests(|input| input.permission_set_arn() == Some(set_arn("2").as_str()))
        .then_output(|| {
            ListAccountsForProvisionedPermissionSetOutput::builder()
                .account_ids("111111111111")
                .build()
        });
    // Two pages for (111111111111, ps-1); one for each other (account, permission set).
    let assignments_1 = mock!(SsoAdmin::list_account_assignments)
        .match_requests(|input| {
            input.account_id() == Some("111111111111")
                && input.permission_set_arn() == Some(set_arn("1").as_str())
                && input.next_token().is_none()
                && input.max_results() == Some(100)
        })
        .then_output(|| {
            ListAccountAssignmentsOutput::builder()
                .account_assignments(assignment(
                    "111111111111",
                    &set_arn("1"),
                    PrincipalType::Group,
                    "g-ops",
                ))
                .next_token("assignments-2")
                .build()
        });
    let assignments_2 = mock!(SsoAdmin::list_account_assignments)
        .match_requests(|input| input.next_token() == Some("assignments-2"))
        .then_output(|| {
            ListAccountAssignmentsOutput::builder()
                .account_assignments(assignment(
                    "111111111111",
                    &set_arn("1"),
                    PrincipalType::User,
                    "u-1",
                ))
                .build()
        });
    let assignments_admin = mock!(SsoAdmin::list_account_assignments)
        .match_requests(|input| input.permission_set_arn() == Some(set_arn("2").as_str()))
        .then_output(|| {
            ListAccountAssignmentsOutput::builder()
                .account_assignments(assignment(
                    "111111111111",
                    &set_arn("2"),
                    PrincipalType::User,
                    "u-2",
                ))
                .build()
        });
    let assignments_none = mock!(SsoAdmin::list_account_assignments)
        .then_output(|| ListAccountAssignmentsOutput::builder().build());
    let users_1 = mock!(IdentityStore::list_users)
        .match_requests(|input| {
            input.next_token().is_none()
                && input.max_results() == Some(100)
                && input.identity_store_id() == Some(STORE)
        })
        .then_output(|| {
            ListUsersOutput::builder()
                .users(user("u-1", "ana"))
                .next_token("users-2")
                .build()
                .unwrap()
        });
    let users_2 = mock!(IdentityStore::list_users)
        .match_requests(|input| input.next_token() == Some("users-2"))
        .then_output(|| {
            ListUsersOutput::builder()
                .users(user("u-2", "ben"))
                .users(user("u-3", "cy"))
                .build()
                .unwrap()
        });
    let groups = mock!(IdentityStore::list_groups)
        .match_requests(|input| input.max_results() == Some(100))
        .then_output(|| {
            ListGroupsOutput::builder()
                .groups(
                    Group::builder()
                        .identity_store_id(STORE)
                        .group_id("g-ops")
                        .group_arn("arn:aws:identitystore:::group/g-ops")
                        .revision("1")
                        .display_name("ops")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        });
    let members_1 = mock!(IdentityStore::list_group_memberships)
        .match_requests(|input| {
            input.group_id() == Some("g-ops")
                && input.next_token().is_none()
                && input.max_results() == Some(100)
        })
        .then_output(|| {
            ListGroupMembershipsOutput::builder()
                .group_memberships(membership("m-1", "g-ops", "u-1"))
                .next_token("members-2")
                .build()
                .unwrap()
        });
    let members_2 = mock!(IdentityStore::list_group_memberships)
        .match_requests(|input| input.next_token() == Some("members-2"))
        .then_output(|| {
            ListGroupMembershipsOutput::builder()
                .group_memberships(membership("m-3", "g-ops", "u-3"))
                .build()
                .unwrap()
        });
    let answers = permission_set_answers();
    let mut rules: Vec<&Rule> = vec![
        &instances,
        &sets_1,
        &sets_2,
        &accounts_1,
        &accounts_2,
        &accounts_other,
        &assignments_1,
        &assignments_2,
        &assignments_admin,
        &assignments_none,
        &users_1,
        &users_2,
        &groups,
        &members_1,
        &members_2,
    ];
    rules.extend(answers.iter());
    let (_root, folder, out) = run_collector(&rules).await;
    assert_eq!(out.errors(), []);
    for (rule, calls) in [
        (&instances, 1),
        (&sets_1, 1),
        (&sets_2, 1),
        (&accounts_1, 1),
        (&accounts_2, 1),
        (&accounts_other, 1),
        (&assignments_1, 1),
        (&assignments_2, 1),
        (&assignments_admin, 1),
        // (222222222222, ps-1) and (333333333333, ps-1).
        (&assignments_none, 2),
        (&users_1, 1),
        (&users_2, 1),
        (&groups, 1),
        (&members_1, 1),
        (&members_2, 1),
    ] {
        assert_eq!(rule.num_calls(), calls);
    }

    let sets = csv_rows(&folder.join("permission-sets.csv"));
    assert_eq!(
        cells(
            &sets,
            &[
                "name",
                "session_duration",
                "provisioned_accounts",
                "has_inline_policy",
                "permissions_boundary",
                "allows_admin"
            ]
        ),
        [
            strings(&[
                "Set-1",
                "PT8H",
                "111111111111;222222222222;333333333333",
                "true",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "false"
            ]),
            strings(&["Set-2", "PT8H", "111111111111", "false", "", "true"]),
        ]
    );
    let assignments = csv_rows(&folder.join("assignments.csv"));
    assert_eq!(
        cells(
            &assignments,
            &[
                "account_id",
                "permission_set_name",
                "principal_type",
                "principal_id",
                "principal_name"
            ]
        ),
        [
            strings(&["111111111111", "Set-1", "GROUP", "g-ops", "ops"]),
            strings(&["111111111111", "Set-1", "USER", "u-1", "ana"]),
            strings(&["111111111111", "Set-2", "USER", "u-2", "ben"]),
        ]
    );
    let users = csv_rows(&folder.join("users.csv"));
    assert_eq!(
        cells(&users, &["user_id", "user_name", "email"]),
        [
            strings(&["u-1", "ana", "ana@example.com"]),
            strings(&["u-2", "ben", "ben@example.com"]),
            strings(&["u-3", "cy", "cy@example.com"]),
        ]
    );
    let memberships = csv_rows(&folder.join("group-memberships.csv"));
    assert_eq!(
        cells(&memberships, &["group_name", "membership_id", "user_name"]),
        [
            strings(&["ops", "m-1", "ana"]),
            strings(&["ops", "m-3", "cy"])
        ]
    );
    let groups = csv_rows(&folder.join("groups.csv"));
    assert_eq!(groups[0]["members"], "2");
}

#[tokio::test]
async fn a_refused_call_is_recorded_with_its_operation_code_and_region_and_the_rest_is_kept() {
    let instances = instances();
    let sets = mock!(SsoAdmin::list_permission_sets).then_output(|| {
        ListPermissionSetsOutput::builder()
            .permission_sets(set_arn("1"))
            .build()
    });
    let accounts = mock!(SsoAdmin::list_accounts_for_provisioned_permission_set)
        .then_output(|| ListAccountsForProvisionedPermissionSetOutput::builder().build());
    let users = mock!(IdentityStore::list_users).then_output(|| {
        ListUsersOutput::builder()
            .users(user("u-1", "ana"))
            .build()
            .unwrap()
    });
    let groups = mock!(IdentityStore::list_groups).then_output(|| {
        ListGroupsOutput::builder()
            .groups(
                Group::builder()
                    .identity_store_id(STORE)
                    .group_id("g-ops")
                    .group_arn("arn:aws:identitystore:::group/g-ops")
                    .revision("1")
                    .display_name("ops")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    });
    let denied = mock!(IdentityStore::list_group_memberships)
        .then_error(|| ListGroupMembershipsError::generic(meta("AccessDeniedException")));
    let answers = permission_set_answers();
    let mut rules: Vec<&Rule> = vec![&instances, &sets, &accounts, &users, &groups, &denied];
    rules.extend(answers.iter());
    let (_root, folder, out) = run_collector(&rules).await;
    assert_eq!(denied.num_calls(), 1);
    assert_eq!(
        out.errors(),
        [CallError::new(
            "us-east-1",
            "ListGroupMemberships",
            "AccessDeniedException",
            "AccessDeniedException (mocked)"
        )]
    );
    // The group is listed, its member count unknown (empty), never 0.
    let groups = csv_rows(&folder.join("groups.csv"));
    assert_eq!(
        cells(&groups, &["display_name", "members"]),
        [strings(&["ops", ""])]
    );
    assert_eq!(csv_rows(&folder.join("users.csv")).len(), 1);
    assert_eq!(csv_rows(&folder.join("permission-sets.csv")).len(), 1);
    assert_eq!(
        out.into_parts().regions["us-east-1"],
        CollectorStatus::Partial
    );
}

#[tokio::test]
async fn an_account_without_an_instance_is_collected_with_a_note() {
    let none =
        mock!(SsoAdmin::list_instances).then_output(|| ListInstancesOutput::builder().build());
    let (_root, folder, out) = run_collector(&[&none]).await;
    assert_eq!(out.errors(), []);
    assert_eq!(csv_rows(&folder.join("instances.csv")).len(), 0);
    let parts = out.into_parts();
    assert_eq!(parts.regions["us-east-1"], CollectorStatus::Collected);
    assert!(
        parts.notes["no_instance"]
            .as_str()
            .unwrap()
            .starts_with("no IAM Identity Center instance"),
        "{:?}",
        parts.notes
    );
}
