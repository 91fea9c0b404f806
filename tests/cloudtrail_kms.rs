//! The `cloudtrail` and `kms-key-rotation` collectors: the real binary against a seeded emulator
//! in two regions, and `aws-smithy-mocks` for what the emulator lacks (delivery errors, rotation
//! periods, pagination, AccessDenied in one region or for one key).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use aws_sdk_cloudtrail::operation::describe_trails::{DescribeTrailsError, DescribeTrailsOutput};
use aws_sdk_cloudtrail::operation::get_event_selectors::{
    GetEventSelectorsError, GetEventSelectorsOutput,
};
use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector, ReadWriteType, Trail,
};
use aws_sdk_cloudtrail::Client as CloudTrail;
use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
use aws_sdk_kms::operation::get_key_policy::GetKeyPolicyOutput;
use aws_sdk_kms::operation::get_key_rotation_status::{
    GetKeyRotationStatusError, GetKeyRotationStatusOutput,
};
use aws_sdk_kms::operation::list_aliases::ListAliasesOutput;
use aws_sdk_kms::operation::list_keys::{ListKeysError, ListKeysOutput};
use aws_sdk_kms::types::{
    AliasListEntry, KeyListEntry, KeyManagerType, KeyMetadata, KeySpec, KeyState, KeyUsageType,
    OriginType,
};
use aws_sdk_kms::Client as Kms;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::DateTime;
use common::mock::{meta, request_region};
use common::{
    collect_expecting, csv_rows, manifest_collector, read_json, sdk_config, Emulator, ACCOUNT,
};
use serde_json::Value;
use soc2_evidence::collectors::{cloudtrail, kms_key_rotation};
use soc2_evidence::evidence::Evidence;
use soc2_evidence::vocab::CallError;
use soc2_evidence::vocab::CollectorStatus;

type Row = BTreeMap<String, String>;

// ---- Emulator ----

fn by(rows: Vec<Row>, column: &str) -> BTreeMap<String, Row> {
    rows.into_iter().map(|r| (r[column].clone(), r)).collect()
}

fn trail_arn(region: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}")
}

/// A multi-region trail homed in us-east-1 (logging, validation, SSE-KMS, basic selectors with
/// S3 data events) and a single-region trail in eu-west-1 (not logging, advanced selectors for
/// write-only management events, CloudWatch Logs).
async fn seed_trails(emulator: &Emulator, kms_key_arn: &str) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk_config(emulator, "us-east-1"))
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("trail-logs")
        .send()
        .await
        .unwrap();

    let us = CloudTrail::new(&sdk_config(emulator, "us-east-1"));
    us.create_trail()
        .name("org-wide")
        .s3_bucket_name("trail-logs")
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .include_global_service_events(true)
        .kms_key_id(kms_key_arn)
        .send()
        .await
        .unwrap();
    us.start_logging().name("org-wide").send().await.unwrap();
    us.put_event_selectors()
        .trail_name("org-wide")
        .event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::All)
                .include_management_events(true)
                .data_resources(
                    DataResource::builder()
                        .r#type("AWS::S3::Object")
                        .values("arn:aws:s3:::trail-logs/")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    let eu = CloudTrail::new(&sdk_config(emulator, "eu-west-1"));
    eu.create_trail()
        .name("eu-only")
        .s3_bucket_name("trail-logs")
        .is_multi_region_trail(false)
        .enable_log_file_validation(false)
        .cloud_watch_logs_log_group_arn(format!(
            "arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:trail:*"
        ))
        .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/trail-to-logs"))
        .send()
        .await
        .unwrap();
    eu.put_event_selectors()
        .trail_name("eu-only")
        .advanced_event_selectors(
            AdvancedEventSelector::builder()
                .name("write management events")
                .field_selectors(
                    AdvancedFieldSelector::builder()
                        .field("eventCategory")
                        .equals("Management")
                        .build()
                        .unwrap(),
                )
                .field_selectors(
                    AdvancedFieldSelector::builder()
                        .field("readOnly")
                        .equals("false")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// Key ids of the seeded KMS keys.
struct Keys {
    rotated: String,
    rotated_arn: String,
    signing: String,
    unrotated: String,
    disabled: String,
}

/// us-east-1: a symmetric key with rotation and an RSA_2048 signing key; eu-west-1: a symmetric
/// key without rotation (two aliases) and a disabled symmetric key.
async fn seed_keys(emulator: &Emulator) -> Keys {
    let us = Kms::new(&sdk_config(emulator, "us-east-1"));
    let eu = Kms::new(&sdk_config(emulator, "eu-west-1"));
    let create =
        |kms: &Kms, description: &str| kms.create_key().description(description.to_string());
    let rotated = create(&us, "application data").send().await.unwrap();
    let rotated = rotated.key_metadata().unwrap();
    us.enable_key_rotation()
        .key_id(rotated.key_id())
        .send()
        .await
        .unwrap();
    let signing = create(&us, "release signing")
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let signing = signing.key_metadata().unwrap().key_id().to_string();
    let unrotated = create(&eu, "eu customer data")
        .multi_region(false)
        .send()
        .await
        .unwrap();
    let unrotated = unrotated.key_metadata().unwrap().key_id().to_string();
    let disabled = create(&eu, "retired").send().await.unwrap();
    let disabled = disabled.key_metadata().unwrap().key_id().to_string();
    eu.disable_key().key_id(&disabled).send().await.unwrap();

    for (kms, alias, key) in [
        (&us, "alias/app-data", rotated.key_id()),
        (&us, "alias/release-signing", signing.as_str()),
        (&eu, "alias/eu-data", unrotated.as_str()),
        (&eu, "alias/eu-data-legacy", unrotated.as_str()),
    ] {
        kms.create_alias()
            .alias_name(alias)
            .target_key_id(key)
            .send()
            .await
            .unwrap();
    }
    Keys {
        rotated: rotated.key_id().to_string(),
        rotated_arn: rotated.arn().unwrap().to_string(),
        signing,
        unrotated,
        disabled,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn trails_are_listed_once_with_status_and_selectors_from_their_home_region() {
    let emulator = Emulator::start();
    let keys = seed_keys(&emulator).await;
    seed_trails(&emulator, &keys.rotated_arn).await;
    let (_out, _, dir) = collect_expecting(
        &emulator,
        &["--collector", "cloudtrail", "--region", "eu-west-1"],
        0,
    );
    let manifest = read_json(&dir.join("manifest.json"));
    let record = manifest_collector(&manifest, "cloudtrail");
    assert_eq!(record["status"], "collected", "{record:#}");
    assert_eq!(record["errors"], serde_json::json!([]));
    // One DescribeTrails per region, then status and selectors once per unique trail; the
    // shared log bucket once (GetBucketLocation, then versioning, encryption and logging); the
    // digest listing of the one logging trail with validation, per region it is seen in and
    // per day of the 24-hour window (two days).
    assert_eq!(record["api_calls"], 14, "{record:#}");
    assert_eq!(record["notes"]["trails"], 2);

    let evidence = dir.join("evidence/cloudtrail");
    let rows = csv_rows(&evidence.join("trails.csv"));
    // The multi-region trail is seen from both regions but listed once; rows sorted by
    // (home region, ARN).
    let arns: Vec<&str> = rows.iter().map(|r| r["trail_arn"].as_str()).collect();
    let org_arn = trail_arn("us-east-1", "org-wide");
    let eu_arn = trail_arn("eu-west-1", "eu-only");
    assert_eq!(arns, [eu_arn.as_str(), org_arn.as_str()]);

    let eu = &rows[0];
    let expect_eu = [
        ("home_region", "eu-west-1"),
        ("name", "eu-only"),
        ("is_multi_region_trail", "false"),
        ("is_organization_trail", "false"),
        ("log_file_validation_enabled", "false"),
        ("kms_key_id", ""),
        ("s3_bucket_name", "trail-logs"),
        (
            "cloudwatch_logs_log_group_arn",
            "arn:aws:logs:eu-west-1:123456789012:log-group:trail:*",
        ),
        ("seen_in_regions", "eu-west-1"),
        ("is_logging", "false"),
        ("latest_delivery_time", ""),
        ("latest_delivery_error", ""),
        ("start_logging_time", ""),
        ("stop_logging_time", ""),
        ("selector_kind", "advanced"),
        ("management_events", "write"),
        ("management_read_events", "false"),
        ("management_write_events", "true"),
        ("management_excluded_sources", ""),
        ("data_events", "false"),
        ("data_resource_types", ""),
    ];
    for (column, value) in expect_eu {
        assert_eq!(eu[column], value, "eu-only {column}");
    }

    let org = &rows[1];
    let expect_org = [
        ("home_region", "us-east-1"),
        ("name", "org-wide"),
        ("is_multi_region_trail", "true"),
        ("log_file_validation_enabled", "true"),
        ("include_global_service_events", "true"),
        ("kms_key_id", keys.rotated_arn.as_str()),
        ("s3_bucket_name", "trail-logs"),
        ("cloudwatch_logs_log_group_arn", ""),
        ("seen_in_regions", "eu-west-1;us-east-1"),
        ("is_logging", "true"),
        ("latest_delivery_error", ""),
        ("stop_logging_time", ""),
        ("selector_kind", "basic"),
        ("management_events", "all"),
        ("management_read_events", "true"),
        ("management_write_events", "true"),
        ("data_events", "true"),
        ("data_resource_types", "AWS::S3::Object"),
    ];
    for (column, value) in expect_org {
        assert_eq!(org[column], value, "org-wide {column}");
    }
    for column in ["latest_delivery_time", "start_logging_time"] {
        assert!(
            org[column].ends_with('Z') && org[column].len() == "2026-01-01T00:00:00Z".len(),
            "org-wide {column}: {:?}",
            org[column]
        );
    }

    let regions = csv_rows(&evidence.join("regions.csv"));
    let expect_regions: Vec<Row> = [
        ("eu-west-1", "2", "1", "1", format!("{eu_arn};{org_arn}")),
        ("us-east-1", "1", "1", "0", org_arn.clone()),
    ]
    .into_iter()
    .map(|(region, visible, home, shadow, arns)| {
        [
            ("region", region.to_string()),
            ("trails_visible", visible.to_string()),
            ("home_trails", home.to_string()),
            ("shadow_trails", shadow.to_string()),
            ("trail_arns", arns),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    })
    .collect();
    assert_eq!(regions, expect_regions);

    // The JSON twin keeps the responses as the API returned them.
    let json = read_json(&evidence.join("trails.json"));
    let records = json.as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["Trail"]["TrailARN"], eu_arn.as_str());
    assert_eq!(records[0]["Trail"]["HomeRegion"], "eu-west-1");
    assert_eq!(
        records[0]["EventSelectors"]["AdvancedEventSelectors"][0]["FieldSelectors"][1],
        serde_json::json!({"Field": "readOnly", "Equals": ["false"]})
    );
    assert_eq!(records[0]["TrailStatus"]["IsLogging"], false);
    assert_eq!(
        records[1]["SeenInRegions"],
        serde_json::json!(["eu-west-1", "us-east-1"])
    );
    assert_eq!(
        records[1]["EventSelectors"]["EventSelectors"][0],
        serde_json::json!({
            "ReadWriteType": "All",
            "IncludeManagementEvents": true,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::trail-logs/"]}],
        })
    );
    assert_eq!(records[1]["Coverage"]["ManagementEvents"], "all");
    assert_eq!(records[1]["TrailStatus"]["IsLogging"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_key_is_listed_with_its_scope_and_rotation() {
    let emulator = Emulator::start();
    let keys = seed_keys(&emulator).await;
    let (_out, _, dir) = collect_expecting(
        &emulator,
        &["--collector", "kms-key-rotation", "--region", "eu-west-1"],
        0,
    );
    let manifest = read_json(&dir.join("manifest.json"));
    let record = manifest_collector(&manifest, "kms-key-rotation");
    assert_eq!(record["status"], "collected", "{record:#}");
    // Per region ListKeys + ListAliases + DescribeKey per key (2), GetKeyRotationStatus only
    // for the one in-scope key of each region, and GetKeyPolicy for every customer managed key
    // (all four).
    assert_eq!(record["api_calls"], 14, "{record:#}");
    assert_eq!(record["notes"]["keys"], 4);
    assert_eq!(record["notes"]["in_scope_keys"], 2);

    let evidence = dir.join("evidence/kms-key-rotation");
    let rows = csv_rows(&evidence.join("keys.csv"));
    assert_eq!(rows.len(), 4, "exactly the seeded keys: {rows:#?}");
    let sorted: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r["region"].clone(), r["key_id"].clone()))
        .collect();
    let mut expected_order = sorted.clone();
    expected_order.sort();
    assert_eq!(sorted, expected_order, "rows sorted by region, key id");
    let rows = by(rows, "key_id");

    // (key, region, aliases, description, spec, usage, state, multi-region, in scope, reason,
    // rotation)
    let expected = [
        (
            &keys.rotated,
            "us-east-1",
            "alias/app-data",
            "application data",
            "SYMMETRIC_DEFAULT",
            // moto reports KeyUsage only when it was given at CreateKey: absent stays empty.
            "",
            "Enabled",
            "",
            "true",
            "",
            "true",
        ),
        (
            &keys.signing,
            "us-east-1",
            "alias/release-signing",
            "release signing",
            "RSA_2048",
            "SIGN_VERIFY",
            "Enabled",
            "",
            "false",
            "asymmetric key spec RSA_2048",
            "",
        ),
        (
            &keys.unrotated,
            "eu-west-1",
            "alias/eu-data;alias/eu-data-legacy",
            "eu customer data",
            "SYMMETRIC_DEFAULT",
            "",
            "Enabled",
            "false",
            "true",
            "",
            "false",
        ),
        (
            &keys.disabled,
            "eu-west-1",
            "",
            "retired",
            "SYMMETRIC_DEFAULT",
            "",
            "Disabled",
            "",
            "false",
            "key state Disabled",
            "",
        ),
    ];
    for (key, region, aliases, description, spec, usage, state, multi, scope, reason, rotation) in
        expected
    {
        let row = &rows[key];
        let want = [
            ("region", region.to_string()),
            ("arn", format!("arn:aws:kms:{region}:{ACCOUNT}:key/{key}")),
            ("aliases", aliases.to_string()),
            ("description", description.to_string()),
            ("key_manager", "CUSTOMER".to_string()),
            ("key_spec", spec.to_string()),
            ("key_usage", usage.to_string()),
            ("origin", "AWS_KMS".to_string()),
            ("key_state", state.to_string()),
            ("multi_region", multi.to_string()),
            ("deletion_date", String::new()),
            ("in_scope", scope.to_string()),
            ("out_of_scope_reason", reason.to_string()),
            ("rotation_enabled", rotation.to_string()),
            // moto's GetKeyRotationStatus returns neither period nor next date.
            ("rotation_period_days", String::new()),
            ("next_rotation_date", String::new()),
        ];
        for (column, value) in want {
            assert_eq!(row[column], value, "{description}: {column}");
        }
        assert!(row["creation_date"].ends_with('Z'), "{description}");
    }

    let json = read_json(&evidence.join("keys.json"));
    let records = json.as_array().unwrap();
    assert_eq!(records.len(), 4);
    let rotated = records
        .iter()
        .find(|r| r["KeyId"] == keys.rotated.as_str())
        .unwrap();
    assert_eq!(rotated["KeyRotationStatus"]["KeyRotationEnabled"], true);
    assert_eq!(rotated["KeyMetadata"]["KeyManager"], "CUSTOMER");
    assert!(rotated["KeyMetadata"].get("KeyUsage").is_none());
    assert_eq!(rotated["Aliases"][0]["AliasName"], "alias/app-data");
    let signing = records
        .iter()
        .find(|r| r["KeyId"] == keys.signing.as_str())
        .unwrap();
    assert_eq!(signing["KeyRotationStatus"], Value::Null);
    assert_eq!(signing["OutOfScopeReason"], "asymmetric key spec RSA_2048");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_without_trails_or_keys_is_collected_as_empty_tables() {
    let emulator = Emulator::start();
    let both = common::collector_args(&["cloudtrail", "kms-key-rotation"]);
    let (_out, _, dir) = collect_expecting(&emulator, &both, 0);
    let manifest = read_json(&dir.join("manifest.json"));
    for id in ["cloudtrail", "kms-key-rotation"] {
        assert_eq!(
            manifest_collector(&manifest, id)["status"],
            "collected",
            "{id}"
        );
    }
    assert!(manifest_collector(&manifest, "cloudtrail")["notes"]["no_trail"].is_string());
    assert!(manifest_collector(&manifest, "kms-key-rotation")["notes"]["no_keys"].is_string());
    let header = |path: &str| {
        std::fs::read_to_string(dir.join(path))
            .unwrap()
            .lines()
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(header("evidence/cloudtrail/trails.csv")
        .starts_with("home_region,name,trail_arn,is_multi_region_trail,"));
    assert_eq!(header("evidence/cloudtrail/trails.json"), "[]");
    assert_eq!(
        header("evidence/cloudtrail/regions.csv"),
        "region,trails_visible,home_trails,shadow_trails,trail_arns\nus-east-1,0,0,0,"
    );
    assert_eq!(
        header("evidence/kms-key-rotation/keys.csv"),
        "region,key_id,arn,aliases,description,key_manager,key_spec,key_usage,origin,key_state,\
         multi_region,creation_date,deletion_date,in_scope,out_of_scope_reason,rotation_enabled,\
         rotation_period_days,next_rotation_date"
    );
}

// ---- Mocks ----

/// Runs one collector in process and returns its evidence folder and sink.
async fn run_collector<F, Fut>(
    id: &str,
    rules: &[&Rule],
    regions: &[&str],
    run: F,
) -> (
    tempfile::TempDir,
    PathBuf,
    Evidence,
    Vec<(String, u64, u64)>,
)
where
    F: FnOnce(soc2_evidence::collectors::Context, Evidence) -> Fut,
    Fut: std::future::Future<Output = Evidence>,
{
    let clients = common::mock::clients_telling_region(rules);
    let ctx = common::mock::context(&clients, regions);
    let counts = ctx.clients.clone();
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("evidence").join(id);
    let out = run(ctx, Evidence::new(root.path(), id)).await;
    (root, folder, out, counts.counts())
}

/// A trail as DescribeTrails lists it, without an S3 bucket: these tests are about status and
/// selectors (the log bucket and the log file validation are tested in tests/cloudtrail_logs.rs).
fn trail(name: &str, home: &str, multi_region: bool) -> Trail {
    Trail::builder()
        .name(name)
        .trail_arn(trail_arn(home, name))
        .home_region(home)
        .is_multi_region_trail(multi_region)
        .is_organization_trail(false)
        .log_file_validation_enabled(true)
        .build()
}

fn basic_selectors(arn: &str, read_write: ReadWriteType) -> GetEventSelectorsOutput {
    GetEventSelectorsOutput::builder()
        .trail_arn(arn)
        .event_selectors(
            EventSelector::builder()
                .read_write_type(read_write)
                .include_management_events(true)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn describe_trails_denied_in_one_region_leaves_the_other_region_collected() {
    let denied = mock!(CloudTrail::describe_trails)
        .match_requests(|_| request_region() == "eu-west-1")
        .then_error(|| DescribeTrailsError::generic(meta("AccessDeniedException")));
    let listed = mock!(CloudTrail::describe_trails)
        .match_requests(|input| {
            request_region() == "us-east-1" && input.include_shadow_trails() == Some(true)
        })
        .then_output(|| {
            DescribeTrailsOutput::builder()
                .trail_list(trail("main", "us-east-1", true))
                .build()
        });
    let arn = trail_arn("us-east-1", "main");
    let status = mock!(CloudTrail::get_trail_status)
        .match_requests({
            let arn = arn.clone();
            move |input| input.name() == Some(arn.as_str())
        })
        .then_output(|| {
            GetTrailStatusOutput::builder()
                .is_logging(true)
                .latest_delivery_time(DateTime::from_secs(1_763_800_000))
                .build()
        });
    let selectors = mock!(CloudTrail::get_event_selectors)
        .match_requests({
            let arn = arn.clone();
            move |input| input.trail_name() == Some(arn.as_str())
        })
        .then_output({
            let arn = arn.clone();
            move || basic_selectors(&arn, ReadWriteType::All)
        });

    let (_root, folder, out, counts) = run_collector(
        "cloudtrail",
        &[&denied, &listed, &status, &selectors],
        &["eu-west-1", "us-east-1"],
        |ctx, mut out| async move {
            cloudtrail::collect(&ctx, &mut out)
                .await
                .expect("one region is enough to collect");
            out
        },
    )
    .await;
    // DescribeTrails has no pagination: one call per region.
    assert_eq!(denied.num_calls(), 1);
    assert_eq!(listed.num_calls(), 1);
    assert_eq!(status.num_calls(), 1);
    assert_eq!(selectors.num_calls(), 1);
    assert_eq!(
        counts,
        [
            ("eu-west-1".to_string(), 1, 0),
            ("us-east-1".to_string(), 3, 0)
        ]
    );
    assert_eq!(
        out.errors(),
        [CallError::new(
            "eu-west-1",
            "DescribeTrails",
            "AccessDeniedException",
            "AccessDeniedException (mocked)"
        )]
    );
    let parts = out.into_parts();
    assert_eq!(parts.regions["eu-west-1"], CollectorStatus::Failed);
    assert_eq!(parts.regions["us-east-1"], CollectorStatus::Collected);

    let rows = csv_rows(&folder.join("trails.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["trail_arn"], arn);
    assert_eq!(rows[0]["seen_in_regions"], "us-east-1");
    assert_eq!(rows[0]["is_logging"], "true");
    assert_eq!(rows[0]["latest_delivery_time"], "2025-11-22T08:26:40Z");
    assert_eq!(rows[0]["management_events"], "all");
    let regions = csv_rows(&folder.join("regions.csv"));
    assert_eq!(regions.len(), 1, "a failed region has no row: {regions:?}");
    assert_eq!(regions[0]["region"], "us-east-1");
}

#[tokio::test]
async fn a_trail_homed_outside_the_covered_regions_is_read_in_its_home_region() {
    let org_arn = trail_arn("ap-southeast-2", "organization");
    let local_arn = trail_arn("us-east-1", "local");
    let listed = mock!(CloudTrail::describe_trails).then_output(|| {
        let mut organization = trail("organization", "ap-southeast-2", true);
        organization.is_organization_trail = Some(true);
        organization.kms_key_id = Some("arn:aws:kms:ap-southeast-2:123456789012:key/k".into());
        let mut local = trail("local", "us-east-1", false);
        local.log_file_validation_enabled = Some(false);
        DescribeTrailsOutput::builder()
            .trail_list(organization)
            .trail_list(local)
            .build()
    });
    // moto never reports delivery errors: the status of a trail whose bucket refuses delivery.
    let org_status = mock!(CloudTrail::get_trail_status)
        .match_requests({
            let arn = org_arn.clone();
            move |input| input.name() == Some(arn.as_str()) && request_region() == "ap-southeast-2"
        })
        .then_output(|| {
            GetTrailStatusOutput::builder()
                .is_logging(true)
                .latest_delivery_error("AccessDenied")
                .latest_delivery_time(DateTime::from_secs(1_763_000_000))
                .latest_delivery_attempt_time("2025-11-22T08:26:40Z")
                .latest_delivery_attempt_succeeded("2025-11-13T02:13:20Z")
                .latest_cloud_watch_logs_delivery_error("CloudWatchLogsRoleArn is invalid")
                .start_logging_time(DateTime::from_secs(1_700_000_000))
                .build()
        });
    let org_selectors = mock!(CloudTrail::get_event_selectors)
        .match_requests({
            let arn = org_arn.clone();
            move |input| input.trail_name() == Some(arn.as_str())
        })
        .then_error(|| GetEventSelectorsError::generic(meta("AccessDeniedException")));
    let local_status = mock!(CloudTrail::get_trail_status)
        .match_requests({
            let arn = local_arn.clone();
            move |input| input.name() == Some(arn.as_str()) && request_region() == "us-east-1"
        })
        .then_output(|| {
            GetTrailStatusOutput::builder()
                .is_logging(false)
                .stop_logging_time(DateTime::from_secs(1_760_000_000))
                .build()
        });
    let local_selectors = mock!(CloudTrail::get_event_selectors)
        .match_requests({
            let arn = local_arn.clone();
            move |input| input.trail_name() == Some(arn.as_str())
        })
        .then_output({
            let arn = local_arn.clone();
            move || basic_selectors(&arn, ReadWriteType::ReadOnly)
        });

    let (_root, folder, out, counts) = run_collector(
        "cloudtrail",
        &[
            &listed,
            &org_status,
            &org_selectors,
            &local_status,
            &local_selectors,
        ],
        &["us-east-1"],
        |ctx, mut out| async move {
            cloudtrail::collect(&ctx, &mut out).await.unwrap();
            out
        },
    )
    .await;
    assert_eq!(org_status.num_calls(), 1);
    assert_eq!(org_selectors.num_calls(), 1);
    assert_eq!(local_status.num_calls(), 1);
    assert_eq!(local_selectors.num_calls(), 1);
    assert_eq!(
        counts,
        [
            ("ap-southeast-2".to_string(), 2, 0),
            ("us-east-1".to_string(), 3, 0)
        ]
    );
    // The selectors of the organization trail could not be read: an error of its home region;
    // the covered region itself was read completely.
    assert_eq!(
        out.errors(),
        [CallError::new(
            "ap-southeast-2",
            "GetEventSelectors",
            "AccessDeniedException",
            "AccessDeniedException (mocked)"
        )]
    );
    assert_eq!(
        out.into_parts().regions,
        BTreeMap::from([("us-east-1".to_string(), CollectorStatus::Collected)])
    );

    let rows = by(csv_rows(&folder.join("trails.csv")), "trail_arn");
    assert_eq!(rows.len(), 2);
    let org = &rows[&org_arn];
    for (column, value) in [
        ("home_region", "ap-southeast-2"),
        ("is_organization_trail", "true"),
        ("is_multi_region_trail", "true"),
        (
            "kms_key_id",
            "arn:aws:kms:ap-southeast-2:123456789012:key/k",
        ),
        ("seen_in_regions", "us-east-1"),
        ("is_logging", "true"),
        ("latest_delivery_error", "AccessDenied"),
        ("latest_delivery_time", "2025-11-13T02:13:20Z"),
        ("latest_delivery_attempt_time", "2025-11-22T08:26:40Z"),
        (
            "latest_cloudwatch_logs_delivery_error",
            "CloudWatchLogsRoleArn is invalid",
        ),
        ("start_logging_time", "2023-11-14T22:13:20Z"),
        // Unknown, not "none": the selectors could not be read.
        ("selector_kind", ""),
        ("management_events", ""),
        ("management_read_events", ""),
        ("management_write_events", ""),
        ("data_events", ""),
    ] {
        assert_eq!(org[column], value, "organization {column}");
    }
    let local = &rows[&local_arn];
    for (column, value) in [
        ("home_region", "us-east-1"),
        ("log_file_validation_enabled", "false"),
        ("is_logging", "false"),
        ("stop_logging_time", "2025-10-09T08:53:20Z"),
        ("selector_kind", "basic"),
        ("management_events", "read"),
        ("management_read_events", "true"),
        ("management_write_events", "false"),
    ] {
        assert_eq!(local[column], value, "local {column}");
    }
    let regions = csv_rows(&folder.join("regions.csv"));
    assert_eq!(regions.len(), 1);
    assert_eq!(regions[0]["trails_visible"], "2");
    assert_eq!(regions[0]["home_trails"], "1");
    assert_eq!(regions[0]["shadow_trails"], "1");

    let json = read_json(&folder.join("trails.json"));
    let org = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Trail"]["TrailARN"] == org_arn.as_str())
        .unwrap();
    assert_eq!(org["EventSelectors"], Value::Null);
    assert_eq!(org["Coverage"], Value::Null);
    assert_eq!(org["TrailStatus"]["LatestDeliveryError"], "AccessDenied");
}

// ---- KMS mocks ----

fn key_entry(id: &str) -> KeyListEntry {
    KeyListEntry::builder()
        .key_id(id)
        .key_arn(format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}"))
        .build()
}

fn alias(name: &str, target: &str) -> AliasListEntry {
    AliasListEntry::builder()
        .alias_name(name)
        .alias_arn(format!("arn:aws:kms:us-east-1:{ACCOUNT}:{name}"))
        .target_key_id(target)
        .build()
}

/// DescribeKey for the mocked keys: `aws-*` ids are AWS managed, the others customer keys.
fn describe(id: &str) -> DescribeKeyOutput {
    let manager = if id.starts_with("aws-") {
        KeyManagerType::Aws
    } else {
        KeyManagerType::Customer
    };
    DescribeKeyOutput::builder()
        .key_metadata(
            KeyMetadata::builder()
                .key_id(id)
                .arn(format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}"))
                .aws_account_id(ACCOUNT)
                .creation_date(DateTime::from_secs(1_700_000_000))
                .enabled(true)
                .description(format!("key {id}"))
                .key_manager(manager)
                .key_spec(KeySpec::SymmetricDefault)
                .key_usage(KeyUsageType::EncryptDecrypt)
                .origin(OriginType::AwsKms)
                .key_state(KeyState::Enabled)
                .multi_region(false)
                .build()
                .unwrap(),
        )
        .build()
}

#[tokio::test]
async fn keys_and_aliases_are_read_across_pages_and_a_denied_rotation_status_is_the_keys_error() {
    let keys_page_1 = mock!(Kms::list_keys)
        .match_requests(|input| input.marker().is_none() && input.limit() == Some(1000))
        .then_output(|| {
            ListKeysOutput::builder()
                .keys(key_entry("k1"))
                .keys(key_entry("k2"))
                .next_marker("keys-2")
                .truncated(true)
                .build()
        });
    let keys_page_2 = mock!(Kms::list_keys)
        .match_requests(|input| input.marker() == Some("keys-2") && input.limit() == Some(1000))
        .then_output(|| {
            ListKeysOutput::builder()
                .keys(key_entry("aws-ebs"))
                .truncated(false)
                .build()
        });
    let aliases_page_1 = mock!(Kms::list_aliases)
        .match_requests(|input| {
            input.marker().is_none() && input.key_id().is_none() && input.limit() == Some(100)
        })
        .then_output(|| {
            ListAliasesOutput::builder()
                .aliases(alias("alias/one", "k1"))
                .next_marker("aliases-2")
                .truncated(true)
                .build()
        });
    let aliases_page_2 = mock!(Kms::list_aliases)
        .match_requests(|input| input.marker() == Some("aliases-2") && input.limit() == Some(100))
        .then_output(|| {
            ListAliasesOutput::builder()
                .aliases(alias("alias/aws/ebs", "aws-ebs"))
                .aliases(alias("alias/another", "k1"))
                // A predefined AWS alias not yet bound to a key.
                .aliases(
                    AliasListEntry::builder()
                        .alias_name("alias/aws/rds")
                        .build(),
                )
                .truncated(false)
                .build()
        });
    let describe_key = mock!(Kms::describe_key)
        .then_compute_output(|input| describe(input.key_id().unwrap_or_default()));
    let rotation_denied = mock!(Kms::get_key_rotation_status)
        .match_requests(|input| input.key_id() == Some("k2"))
        .then_error(|| GetKeyRotationStatusError::generic(meta("AccessDeniedException")));
    let rotation = mock!(Kms::get_key_rotation_status)
        .match_requests(|input| input.key_id() == Some("k1"))
        .then_output(|| {
            GetKeyRotationStatusOutput::builder()
                .key_id(format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"))
                .key_rotation_enabled(true)
                .rotation_period_in_days(180)
                .next_rotation_date(DateTime::from_secs(1_780_000_000))
                .build()
        });

    let key_policy = mock!(Kms::get_key_policy).then_compute_output(|input| {
        GetKeyPolicyOutput::builder()
            .policy(format!(
                r#"{{"Statement":[{{"Sid":"Own","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},{{"Sid":"Partner-{}","Effect":"Allow","Principal":{{"AWS":"444455556666"}},"Action":"kms:Decrypt","Resource":"*"}}]}}"#,
                input.key_id().unwrap_or_default()
            ))
            .build()
    });
    let (_root, folder, out, _) = run_collector(
        "kms-key-rotation",
        &[
            &keys_page_1,
            &keys_page_2,
            &aliases_page_1,
            &aliases_page_2,
            &describe_key,
            &rotation_denied,
            &rotation,
            &key_policy,
        ],
        &["us-east-1"],
        |ctx, mut out| async move {
            kms_key_rotation::collect(&ctx, &mut out).await.unwrap();
            out
        },
    )
    .await;
    assert_eq!(keys_page_1.num_calls(), 1);
    assert_eq!(keys_page_2.num_calls(), 1);
    assert_eq!(aliases_page_1.num_calls(), 1);
    assert_eq!(aliases_page_2.num_calls(), 1);
    assert_eq!(describe_key.num_calls(), 3);
    // Never for the AWS managed key.
    assert_eq!(rotation.num_calls(), 1);
    assert_eq!(rotation_denied.num_calls(), 1);
    // The key policies of the customer managed keys only, and their grants.
    assert_eq!(key_policy.num_calls(), 2);
    let grants = csv_rows(&folder.join("key-policy-grants.csv"));
    let partner: Vec<(&str, &str, &str)> = grants
        .iter()
        .filter(|g| g["principal_account"] == "444455556666")
        .map(|g| {
            (
                g["name"].as_str(),
                g["sid"].as_str(),
                g["outside_account"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        partner,
        [("k1", "Partner-k1", "true"), ("k2", "Partner-k2", "true")]
    );
    let policies = read_json(&folder.join("key-policies.json"));
    assert_eq!(policies["keys"].as_array().unwrap().len(), 2);

    assert_eq!(
        out.errors(),
        [CallError::new(
            "us-east-1",
            "GetKeyRotationStatus",
            "AccessDeniedException",
            "AccessDeniedException (mocked)"
        )]
    );
    assert_eq!(
        out.into_parts().regions["us-east-1"],
        CollectorStatus::Partial
    );

    let rows = csv_rows(&folder.join("keys.csv"));
    let ids: Vec<&str> = rows.iter().map(|r| r["key_id"].as_str()).collect();
    assert_eq!(ids, ["aws-ebs", "k1", "k2"]);
    let rows = by(rows, "key_id");
    for (key, column, value) in [
        ("k1", "aliases", "alias/another;alias/one"),
        ("k1", "in_scope", "true"),
        ("k1", "rotation_enabled", "true"),
        ("k1", "rotation_period_days", "180"),
        ("k1", "next_rotation_date", "2026-05-28T20:26:40Z"),
        ("k1", "key_usage", "ENCRYPT_DECRYPT"),
        ("k1", "multi_region", "false"),
        ("k1", "creation_date", "2023-11-14T22:13:20Z"),
        // Denied: in scope, rotation unknown.
        ("k2", "aliases", ""),
        ("k2", "in_scope", "true"),
        ("k2", "rotation_enabled", ""),
        ("k2", "rotation_period_days", ""),
        ("aws-ebs", "aliases", "alias/aws/ebs"),
        ("aws-ebs", "key_manager", "AWS"),
        ("aws-ebs", "in_scope", "false"),
        ("aws-ebs", "out_of_scope_reason", "AWS managed key"),
        ("aws-ebs", "rotation_enabled", ""),
    ] {
        assert_eq!(rows[key][column], value, "{key} {column}");
    }
    let json = read_json(&folder.join("keys.json"));
    assert_eq!(
        json[1]["KeyRotationStatus"],
        serde_json::json!({
            "KeyId": "arn:aws:kms:us-east-1:123456789012:key/k1",
            "KeyRotationEnabled": true,
            "RotationPeriodInDays": 180,
            "NextRotationDate": "2026-05-28T20:26:40Z",
        })
    );
    assert_eq!(json[2]["KeyRotationStatus"], Value::Null);
    assert_eq!(json[2]["InScope"], true);
}

#[tokio::test]
async fn list_keys_denied_in_one_region_leaves_the_other_region_collected() {
    let denied = mock!(Kms::list_keys)
        .match_requests(|_| request_region() == "eu-west-1")
        .then_error(|| ListKeysError::generic(meta("AccessDeniedException")));
    let keys = mock!(Kms::list_keys).then_output(|| {
        ListKeysOutput::builder()
            .keys(key_entry("k1"))
            .truncated(false)
            .build()
    });
    let aliases = mock!(Kms::list_aliases).then_output(|| {
        ListAliasesOutput::builder()
            .set_aliases(Some(vec![]))
            .truncated(false)
            .build()
    });
    let describe_key = mock!(Kms::describe_key)
        .then_compute_output(|input| describe(input.key_id().unwrap_or_default()));
    let rotation = mock!(Kms::get_key_rotation_status).then_output(|| {
        GetKeyRotationStatusOutput::builder()
            .key_rotation_enabled(false)
            .build()
    });
    let key_policy = mock!(Kms::get_key_policy)
        .then_output(|| GetKeyPolicyOutput::builder().policy("{}").build());
    let (_root, folder, out, _) = run_collector(
        "kms-key-rotation",
        &[
            &denied,
            &keys,
            &aliases,
            &describe_key,
            &rotation,
            &key_policy,
        ],
        &["eu-west-1", "us-east-1"],
        |ctx, mut out| async move {
            kms_key_rotation::collect(&ctx, &mut out).await.unwrap();
            out
        },
    )
    .await;
    assert_eq!(denied.num_calls(), 1);
    assert_eq!(keys.num_calls(), 1);
    assert_eq!(out.errors().len(), 1);
    assert_eq!(out.errors()[0].region, "eu-west-1");
    assert_eq!(out.errors()[0].operation, "ListKeys");
    assert_eq!(out.errors()[0].code, "AccessDeniedException");
    let regions = out.into_parts().regions;
    assert_eq!(regions["eu-west-1"], CollectorStatus::Failed);
    assert_eq!(regions["us-east-1"], CollectorStatus::Collected);
    let rows = csv_rows(&folder.join("keys.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["region"], "us-east-1");
    assert_eq!(rows[0]["rotation_enabled"], "false");
}
