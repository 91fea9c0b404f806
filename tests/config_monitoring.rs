//! The `aws-config` and `cis-monitoring` collectors: the real binary against a seeded emulator
//! in two regions (asserting the tables and findings exactly as stock moto makes them, its
//! Http errors included), the monitoring collector in process against the emulator with only
//! CloudWatch's DescribeAlarms mocked (moto does not serve the SDK's protocol), and
//! `aws-smithy-mocks` for compliance, pages and refusals.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_sdk_cloudwatch::operation::describe_alarms::{DescribeAlarmsError, DescribeAlarmsOutput};
use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};
use aws_sdk_cloudwatchlogs::operation::describe_metric_filters::DescribeMetricFiltersOutput;
use aws_sdk_cloudwatchlogs::types::{MetricFilter, MetricTransformation};
use aws_sdk_config::operation::describe_compliance_by_config_rule::DescribeComplianceByConfigRuleOutput;
use aws_sdk_config::operation::describe_config_rules::DescribeConfigRulesOutput;
use aws_sdk_config::operation::describe_configuration_recorder_status::DescribeConfigurationRecorderStatusOutput;
use aws_sdk_config::operation::describe_configuration_recorders::{
    DescribeConfigurationRecordersError, DescribeConfigurationRecordersOutput,
};
use aws_sdk_config::operation::describe_delivery_channels::DescribeDeliveryChannelsOutput;
use aws_sdk_config::types::{
    Compliance, ComplianceByConfigRule, ComplianceContributorCount, ComplianceType, ConfigRule,
    ConfigRuleState, ConfigurationRecorder, ConfigurationRecorderStatus, DeliveryChannel, Owner,
    RecorderStatus, RecordingGroup, Source,
};
use aws_sdk_sns::operation::list_subscriptions_by_topic::ListSubscriptionsByTopicOutput;
use aws_sdk_sns::types::Subscription;
use aws_smithy_mocks::{mock, MockResponseInterceptor, Rule, RuleMode};
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use common::mock::{not_authorized, request_region};
use common::{collect_expecting, csv_rows, manifest_collector, read_json, sdk_config, Emulator};
use soc2_evidence::collectors::{aws_config, cis_monitoring, Context};
use soc2_evidence::evidence::Evidence;
use soc2_evidence::vocab::{CallError, CollectorStatus};

type Row = BTreeMap<String, String>;

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";
const ACCOUNT: &str = common::ACCOUNT;

fn rows(dir: &Path, collector: &str, file: &str) -> Vec<Row> {
    csv_rows(&dir.join("evidence").join(collector).join(file))
}

/// A row as (column, value) pairs, for exact comparison.
fn row(pairs: &[(&str, &str)]) -> Row {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The findings of one rule in a bundle: (resource, region, detail).
fn findings(dir: &Path, rule: &str) -> Vec<(String, String, String)> {
    let all = read_json(&dir.join("findings.json"));
    common::elements(&all["findings"])
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            (
                f["resource"].as_str().unwrap().to_string(),
                f["region"].as_str().unwrap().to_string(),
                f["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A rule's (status, reason) in `rules.csv`.
fn rule_status(dir: &Path, rule: &str) -> (String, String) {
    let rules = csv_rows(&dir.join("rules.csv"));
    let r = common::csv_row(&rules, "rule", rule);
    (r["status"].clone(), r["reason"].clone())
}

// ---- Emulator: aws-config ----

const RECORDER_ROLE: &str = "arn:aws:iam::123456789012:role/config-recorder";

/// us-east-1: a recorder recording everything (global types included), a delivery channel and
/// two managed rules; eu-west-1: a recorder that was never started.
async fn seed_config(emulator: &Emulator) {
    let us = aws_sdk_config::Client::new(&sdk_config(emulator, EAST));
    let recorder = |name: &str, all: bool| {
        ConfigurationRecorder::builder()
            .name(name)
            .role_arn(RECORDER_ROLE)
            .recording_group(
                RecordingGroup::builder()
                    .all_supported(all)
                    .include_global_resource_types(all)
                    .build(),
            )
            .build()
    };
    us.put_configuration_recorder()
        .configuration_recorder(recorder("default", true))
        .send()
        .await
        .unwrap();
    us.put_delivery_channel()
        .delivery_channel(
            DeliveryChannel::builder()
                .name("default")
                .s3_bucket_name("config-history")
                .s3_key_prefix("config")
                .build(),
        )
        .send()
        .await
        .unwrap();
    us.start_configuration_recorder()
        .configuration_recorder_name("default")
        .send()
        .await
        .unwrap();
    for (name, identifier) in [
        ("s3-versioning", "S3_BUCKET_VERSIONING_ENABLED"),
        ("cloudtrail-enabled", "CLOUD_TRAIL_ENABLED"),
    ] {
        us.put_config_rule()
            .config_rule(
                ConfigRule::builder()
                    .config_rule_name(name)
                    .source(
                        Source::builder()
                            .owner(Owner::Aws)
                            .source_identifier(identifier)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let eu = aws_sdk_config::Client::new(&sdk_config(emulator, WEST));
    eu.put_configuration_recorder()
        .configuration_recorder(recorder("eu-recorder", true))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn config_on_the_emulator_reads_recorders_channels_rules_and_records_the_compliance_gap() {
    let emulator = Emulator::start();
    seed_config(&emulator).await;
    let (_out, _, dir) = collect_expecting(
        &emulator,
        &[
            "--collector",
            "aws-config",
            "--region",
            WEST,
            "--max-attempts",
            "1",
        ],
        3,
    );
    let manifest = read_json(&dir.join("manifest.json"));
    let record = manifest_collector(&manifest, "aws-config");
    assert_eq!(record["status"], "partial", "{record:#}");
    // moto answers DescribeComplianceByConfigRule with an HTML 500, no AWS error: recorded with
    // its status, not hidden.
    let errors = common::elements(&record["errors"]);
    assert_eq!(errors.len(), 1, "{record:#}");
    assert_eq!(errors[0]["operation"], "DescribeComplianceByConfigRule");
    assert_eq!(errors[0]["code"], "Http500");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("the endpoint answered HTTP 500 with a body that is no AWS error"),
        "{record:#}"
    );
    assert_eq!(errors[0]["region"], EAST);
    // us-east-1: recorders, status, channels, rules, compliance; eu-west-1 has no rule, so no
    // compliance call.
    assert_eq!(record["api_calls"], 9, "{record:#}");
    assert_eq!(
        record["notes"]["regions_without_recording_recorder"],
        serde_json::json!([WEST])
    );

    let recorders = rows(&dir, "aws-config", "recorders.csv");
    assert_eq!(recorders.len(), 2, "{recorders:#?}");
    let eu = &recorders[0];
    let us = &recorders[1];
    for (r, region, name, recording) in [
        (eu, WEST, "eu-recorder", "false"),
        (us, EAST, "default", "true"),
    ] {
        for (column, value) in [
            ("region", region),
            ("name", name),
            ("role_arn", RECORDER_ROLE),
            ("recording", recording),
            ("all_supported", "true"),
            ("include_global_resource_types", "true"),
            ("resource_types", ""),
            ("last_error_code", ""),
            ("last_error_message", ""),
        ] {
            assert_eq!(r[column], value, "{name} {column}");
        }
    }
    // moto's status stays PENDING once started.
    assert_eq!(us["last_status"], "PENDING");
    assert!(us["last_start_time"].ends_with('Z'), "{us:?}");
    assert_eq!(eu["last_start_time"], "");

    let channels = rows(&dir, "aws-config", "delivery-channels.csv");
    assert_eq!(
        channels,
        [row(&[
            ("region", EAST),
            ("name", "default"),
            ("s3_bucket_name", "config-history"),
            ("s3_key_prefix", "config"),
            ("s3_kms_key_arn", ""),
            ("sns_topic_arn", ""),
            ("snapshot_delivery_frequency", ""),
        ])]
    );

    let rules = rows(&dir, "aws-config", "config-rules.csv");
    let names: Vec<(&str, &str, &str, &str)> = rules
        .iter()
        .map(|r| {
            (
                r["name"].as_str(),
                r["source_owner"].as_str(),
                r["source_identifier"].as_str(),
                r["state"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("cloudtrail-enabled", "AWS", "CLOUD_TRAIL_ENABLED", "ACTIVE"),
            (
                "s3-versioning",
                "AWS",
                "S3_BUCKET_VERSIONING_ENABLED",
                "ACTIVE"
            ),
        ]
    );
    for r in &rules {
        assert_eq!(r["region"], EAST);
        assert!(r["arn"].starts_with("arn:aws:config:us-east-1:123456789012:config-rule/"));
        // The compliance call failed: unknown, not "compliant".
        assert_eq!(r["compliance_type"], "", "{r:?}");
        assert_eq!(r["non_compliant_resources"], "");
        assert_eq!(r["non_compliant_cap_exceeded"], "");
    }
    let regions = rows(&dir, "aws-config", "regions.csv");
    assert_eq!(
        regions,
        [
            row(&[
                ("region", WEST),
                ("status", "collected"),
                ("recorders", "1"),
                ("recording_recorders", "0"),
                ("delivery_channels", "0"),
                ("config_rules", "0"),
            ]),
            row(&[
                ("region", EAST),
                ("status", "partial"),
                ("recorders", "1"),
                ("recording_recorders", "1"),
                ("delivery_channels", "1"),
                ("config_rules", "2"),
            ]),
        ]
    );
    // The JSON twins keep the answers as returned.
    let json = common::read_json(&dir.join("evidence/aws-config/recorders.json"));
    assert_eq!(
        json[1]["ConfigurationRecorder"]["RecordingGroup"]["AllSupported"],
        true
    );
    assert_eq!(json[1]["ConfigurationRecorderStatus"]["Recording"], true);
    let json = common::read_json(&dir.join("evidence/aws-config/config-rules.json"));
    assert_eq!(json[0]["Compliance"], serde_json::Value::Null);
    assert_eq!(json[0]["ConfigRule"]["Source"]["Owner"], "AWS");

    assert_eq!(
        findings(&dir, "config-recorder-missing"),
        [(
            "arn:aws:config:eu-west-1:123456789012:configuration-recorder".to_string(),
            WEST.to_string(),
            "No AWS Config recorder is recording in eu-west-1: recorder eu-recorder is not \
             recording."
                .to_string()
        )]
    );
    let (status, reason) = rule_status(&dir, "config-recorder-missing");
    assert_eq!(status, "partial");
    assert!(
        reason.contains("DescribeComplianceByConfigRule Http500 in us-east-1"),
        "{reason}"
    );
}

// ---- Emulator: cis-monitoring ----

const LOG_GROUP: &str = "cloudtrail-logs";
const TOPIC_NAME: &str = "security-alerts";

fn topic_arn() -> String {
    format!("arn:aws:sns:{EAST}:{ACCOUNT}:{TOPIC_NAME}")
}

fn trail_arn(region: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}")
}

fn group_arn(region: &str, group: &str) -> String {
    format!("arn:aws:logs:{region}:{ACCOUNT}:log-group:{group}:*")
}

/// The patterns seeded on the trail's log group: root usage as Security Hub gives it, IAM policy
/// changes reordered and respaced, CloudTrail changes restricted to one region (an extra `&&`:
/// not a cover).
const ROOT_PATTERN: &str = r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#;
const IAM_PATTERN: &str = "{ ($.eventName = DetachGroupPolicy) || ($.eventName = AttachGroupPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachRolePolicy) || ($.eventName = DeletePolicyVersion) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteGroupPolicy) }";
const TRAIL_PATTERN: &str = r#"{ (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging)) && ($.awsRegion = "us-east-1") }"#;
const SG_PATTERN: &str = "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}";

/// A multi-region trail homed in us-east-1, logging to `cloudtrail-logs`, with filters for root
/// usage, IAM policy changes and (restricted) CloudTrail changes; a single-region trail in
/// eu-west-1 sending to its own log group; a security-group filter on an application log group
/// no trail uses; an SNS topic with an e-mail subscription.
async fn seed_monitoring(emulator: &Emulator) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk_config(emulator, EAST))
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket("trail-logs")
        .send()
        .await
        .unwrap();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(emulator, EAST));
    for group in [LOG_GROUP, "app-logs"] {
        logs.create_log_group()
            .log_group_name(group)
            .send()
            .await
            .unwrap();
    }
    for (group, name, pattern, metric) in [
        (LOG_GROUP, "root-usage", ROOT_PATTERN, "RootUsage"),
        (
            LOG_GROUP,
            "iam-policy-changes",
            IAM_PATTERN,
            "IAMPolicyChanges",
        ),
        (LOG_GROUP, "trail-changes-us", TRAIL_PATTERN, "TrailChanges"),
        ("app-logs", "sg-changes", SG_PATTERN, "SecurityGroupChanges"),
    ] {
        logs.put_metric_filter()
            .log_group_name(group)
            .filter_name(name)
            .filter_pattern(pattern)
            .metric_transformations(
                MetricTransformation::builder()
                    .metric_name(metric)
                    .metric_namespace("CISBenchmark")
                    .metric_value("1")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    let us = aws_sdk_cloudtrail::Client::new(&sdk_config(emulator, EAST));
    us.create_trail()
        .name("main")
        .s3_bucket_name("trail-logs")
        .is_multi_region_trail(true)
        .cloud_watch_logs_log_group_arn(group_arn(EAST, LOG_GROUP))
        .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/trail-to-logs"))
        .send()
        .await
        .unwrap();
    us.start_logging().name("main").send().await.unwrap();
    let eu = aws_sdk_cloudtrail::Client::new(&sdk_config(emulator, WEST));
    eu.create_trail()
        .name("eu-only")
        .s3_bucket_name("trail-logs")
        .is_multi_region_trail(false)
        .cloud_watch_logs_log_group_arn(group_arn(WEST, "eu-trail"))
        .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/trail-to-logs"))
        .send()
        .await
        .unwrap();
    eu.start_logging().name("eu-only").send().await.unwrap();
    let sns = aws_sdk_sns::Client::new(&sdk_config(emulator, EAST));
    let topic = sns.create_topic().name(TOPIC_NAME).send().await.unwrap();
    sns.subscribe()
        .topic_arn(topic.topic_arn().unwrap())
        .protocol("email")
        .endpoint("security@example.com")
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn monitoring_on_the_emulator_reads_trails_and_filters_and_records_the_alarms_gap() {
    let emulator = Emulator::start();
    seed_monitoring(&emulator).await;
    let (_out, _, dir) = collect_expecting(
        &emulator,
        &[
            "--collector",
            "cis-monitoring",
            "--region",
            WEST,
            "--max-attempts",
            "1",
        ],
        3,
    );
    let manifest = read_json(&dir.join("manifest.json"));
    let record = manifest_collector(&manifest, "cis-monitoring");
    assert_eq!(record["status"], "partial", "{record:#}");
    // The current CloudWatch SDK speaks rpc-v2-cbor, which moto answers 404: recorded.
    let errors = common::elements(&record["errors"]);
    assert_eq!(errors.len(), 1, "{record:#}");
    assert_eq!(errors[0]["operation"], "DescribeAlarms");
    assert_eq!(errors[0]["code"], "Http404");
    assert_eq!(errors[0]["region"], EAST);
    // DescribeTrails per region, GetTrailStatus of the multi-region trail only, the filters
    // of the one monitored log group, the alarms of its region.
    assert_eq!(record["api_calls"], 5, "{record:#}");
    assert_eq!(record["notes"]["items_covered"], 0);
    assert_eq!(record["notes"]["items_unknown"], 2);
    assert_eq!(record["notes"]["items_not_covered"], 13);

    let trails = rows(&dir, "cis-monitoring", "trails.csv");
    let eu_group = group_arn(WEST, "eu-trail");
    let main_group = group_arn(EAST, LOG_GROUP);
    let eu_arn = trail_arn(WEST, "eu-only");
    let main_arn = trail_arn(EAST, "main");
    assert_eq!(
        trails,
        [
            row(&[
                ("home_region", WEST),
                ("name", "eu-only"),
                ("trail_arn", &eu_arn),
                ("is_multi_region_trail", "false"),
                ("is_organization_trail", "false"),
                // Not asked: a single-region trail is never the monitored one.
                ("is_logging", ""),
                ("cloudwatch_logs_log_group_arn", &eu_group),
                ("log_group_region", WEST),
                ("log_group_name", "eu-trail"),
            ]),
            row(&[
                ("home_region", EAST),
                ("name", "main"),
                ("trail_arn", &main_arn),
                ("is_multi_region_trail", "true"),
                ("is_organization_trail", "false"),
                ("is_logging", "true"),
                ("cloudwatch_logs_log_group_arn", &main_group),
                ("log_group_region", EAST),
                ("log_group_name", LOG_GROUP),
            ]),
        ]
    );

    // Only the monitored log group's filters, sorted by name; the application log group's
    // filter is not read.
    let filters = rows(&dir, "cis-monitoring", "metric-filters.csv");
    let summary: Vec<(&str, &str, &str, &str)> = filters
        .iter()
        .map(|f| {
            (
                f["log_group_name"].as_str(),
                f["filter_name"].as_str(),
                f["metric_name"].as_str(),
                f["filter_pattern"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                LOG_GROUP,
                "iam-policy-changes",
                "IAMPolicyChanges",
                IAM_PATTERN
            ),
            (LOG_GROUP, "root-usage", "RootUsage", ROOT_PATTERN),
            (LOG_GROUP, "trail-changes-us", "TrailChanges", TRAIL_PATTERN),
        ]
    );
    for f in &filters {
        assert_eq!(f["region"], EAST);
        assert_eq!(f["metric_namespace"], "CISBenchmark");
        assert_eq!(f["metric_value"], "1");
    }
    assert!(rows(&dir, "cis-monitoring", "alarms.csv").is_empty());
    assert!(rows(&dir, "cis-monitoring", "subscriptions.csv").is_empty());

    let items = rows(&dir, "cis-monitoring", "monitoring-items.csv");
    assert_eq!(items.len(), 15);
    let by_item: BTreeMap<&str, &Row> = items.iter().map(|i| (i["item"].as_str(), i)).collect();
    let root = by_item["CloudWatch.1"];
    assert_eq!(
        *root,
        row(&[
            ("item", "CloudWatch.1"),
            ("cis", "4.3"),
            ("title", "usage of the root user"),
            ("coverage", "unknown"),
            ("trail_arn", &main_arn),
            ("log_group", LOG_GROUP),
            ("filter_name", "root-usage"),
            ("metric", "CISBenchmark/RootUsage"),
            ("alarm_name", ""),
            ("topic_arn", ""),
            (
                "detail",
                "metric filter root-usage covers the item, but the alarms of us-east-1 could \
                 not be read; so far: metric filter root-usage covers the item, but no alarm \
                 with enabled actions watches its metric CISBenchmark/RootUsage in us-east-1"
            ),
        ])
    );
    assert_eq!(by_item["CloudWatch.4"]["coverage"], "unknown");
    assert_eq!(by_item["CloudWatch.4"]["filter_name"], "iam-policy-changes");
    let trail_item = by_item["CloudWatch.5"];
    assert_eq!(trail_item["coverage"], "not_covered");
    assert_eq!(trail_item["filter_name"], "");
    assert_eq!(
        trail_item["detail"],
        "no metric filter of log group cloudtrail-logs (3 filters) matches every event of the \
         item's pattern"
    );
    assert_eq!(by_item["CloudWatch.10"]["coverage"], "not_covered");

    // Findings: every item known not covered; the two unknown ones make the rule partial.
    let found = findings(&dir, "monitoring-alarm-missing");
    let resources: Vec<&str> = found.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(
        resources,
        [
            "CIS 4.15",
            "CloudWatch.10",
            "CloudWatch.11",
            "CloudWatch.12",
            "CloudWatch.13",
            "CloudWatch.14",
            "CloudWatch.2",
            "CloudWatch.3",
            "CloudWatch.5",
            "CloudWatch.6",
            "CloudWatch.7",
            "CloudWatch.8",
            "CloudWatch.9",
        ]
    );
    assert!(found.iter().all(|(_, region, _)| region == "global"));
    let (status, reason) = rule_status(&dir, "monitoring-alarm-missing");
    assert_eq!(status, "partial");
    assert!(
        reason.contains("DescribeAlarms Http404 in us-east-1"),
        "{reason}"
    );
    assert!(
        reason.contains(
            "CloudWatch.4 (IAM policy changes): metric filter iam-policy-changes \
                         covers the item, but the alarms of us-east-1 could not be read"
        ),
        "{reason}"
    );
}

/// Clients that reach the emulator for every call but DescribeAlarms, which `alarms` answer.
fn emulator_with_mocked_alarms(
    emulator: &Emulator,
    alarms: &[&Rule],
) -> soc2_evidence::aws::Clients {
    let mut interceptor = MockResponseInterceptor::new()
        .rule_mode(RuleMode::MatchAny)
        .allow_passthrough();
    for rule in alarms {
        interceptor = interceptor.with_rule(rule);
    }
    soc2_evidence::aws::Clients::new(sdk_config(emulator, EAST), 4)
        .with_interceptor(SharedInterceptor::new(interceptor))
}

fn metric_alarm(name: &str, namespace: &str, metric: &str, actions: &[&str]) -> MetricAlarm {
    MetricAlarm::builder()
        .alarm_name(name)
        .alarm_arn(format!("arn:aws:cloudwatch:{EAST}:{ACCOUNT}:alarm:{name}"))
        .namespace(namespace)
        .metric_name(metric)
        .actions_enabled(true)
        .set_alarm_actions(Some(actions.iter().map(|a| a.to_string()).collect()))
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
        )
        .threshold(1.0)
        .evaluation_periods(1)
        .period(300)
        .state_value(StateValue::Ok)
        .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_alarms_the_subscriptions_are_read_from_the_emulator_and_cover_the_item() {
    let emulator = Emulator::start();
    seed_monitoring(&emulator).await;
    let topic = topic_arn();
    // Two pages: the root-usage alarm and an unrelated one, then an alarm on the IAM metric
    // that notifies a Lambda function only.
    let first = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|i| i.next_token().is_none() && i.max_records() == Some(100))
        .then_output({
            let topic = topic.clone();
            move || {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(metric_alarm(
                        "root-usage",
                        "CISBenchmark",
                        "RootUsage",
                        &[&topic],
                    ))
                    .metric_alarms(metric_alarm(
                        "cpu-high",
                        "AWS/EC2",
                        "CPUUtilization",
                        &[&topic],
                    ))
                    .next_token("page-2")
                    .build()
            }
        });
    let second = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|i| i.next_token() == Some("page-2"))
        .then_output(|| {
            DescribeAlarmsOutput::builder()
                .metric_alarms(metric_alarm(
                    "iam-changes",
                    "CISBenchmark",
                    "IAMPolicyChanges",
                    &["arn:aws:lambda:us-east-1:123456789012:function:notify"],
                ))
                .build()
        });
    let clients = emulator_with_mocked_alarms(&emulator, &[&first, &second]);
    let ctx = common::mock::context(&clients, &[EAST, WEST]);
    let root = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(root.path(), "cis-monitoring");
    cis_monitoring::collect(&ctx, &mut out).await.unwrap();
    assert_eq!(first.num_calls(), 1);
    assert_eq!(second.num_calls(), 1);
    let parts = out.into_parts();
    assert_eq!(parts.errors, []);
    assert_eq!(parts.regions[EAST], CollectorStatus::Collected);

    let alarms = rows(root.path(), "cis-monitoring", "alarms.csv");
    let names: Vec<&str> = alarms.iter().map(|a| a["alarm_name"].as_str()).collect();
    assert_eq!(
        names,
        ["iam-changes", "root-usage"],
        "the CPU alarm is not a filter's"
    );
    assert_eq!(
        alarms[1],
        row(&[
            ("region", EAST),
            ("alarm_name", "root-usage"),
            (
                "alarm_arn",
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:root-usage"
            ),
            ("metric_namespace", "CISBenchmark"),
            ("metric_name", "RootUsage"),
            ("dimensions", ""),
            ("statistic", "Sum"),
            ("comparison_operator", "GreaterThanOrEqualToThreshold"),
            ("threshold", "1.0"),
            ("evaluation_periods", "1"),
            ("period", "300"),
            ("actions_enabled", "true"),
            ("alarm_actions", &topic),
            ("state_value", "OK"),
        ])
    );
    // The topic's subscription, from the emulator (moto confirms every subscription).
    let subscriptions = rows(root.path(), "cis-monitoring", "subscriptions.csv");
    assert_eq!(subscriptions.len(), 1, "{subscriptions:#?}");
    assert_eq!(subscriptions[0]["topic_arn"], topic);
    assert_eq!(subscriptions[0]["protocol"], "email");
    assert_eq!(subscriptions[0]["endpoint"], "security@example.com");
    assert!(subscriptions[0]["subscription_arn"].starts_with(&format!("{topic}:")));

    let items = rows(root.path(), "cis-monitoring", "monitoring-items.csv");
    let root_item = &items[0];
    assert_eq!(root_item["coverage"], "covered");
    assert_eq!(root_item["alarm_name"], "root-usage");
    assert_eq!(root_item["topic_arn"], topic);
    assert_eq!(root_item["detail"], "");
    let iam = items.iter().find(|i| i["item"] == "CloudWatch.4").unwrap();
    assert_eq!(iam["coverage"], "not_covered");
    assert_eq!(
        iam["detail"],
        "alarm iam-changes watches metric CISBenchmark/IAMPolicyChanges, but notifies no SNS \
         topic"
    );
}

// ---- Mocks ----

/// Runs one collector in process against mocked AWS; its evidence folder, errors and regions.
async fn run_mocked(
    id: &'static str,
    rules: &[&Rule],
    regions: &[&str],
) -> (
    tempfile::TempDir,
    PathBuf,
    Vec<CallError>,
    BTreeMap<String, CollectorStatus>,
) {
    let clients = common::mock::clients_telling_region(rules);
    let ctx: Context = common::mock::context(&clients, regions);
    let root = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(root.path(), id);
    match id {
        "aws-config" => aws_config::collect(&ctx, &mut out).await.unwrap(),
        _ => cis_monitoring::collect(&ctx, &mut out).await.unwrap(),
    }
    let folder = root.path().join("evidence").join(id);
    let parts = out.into_parts();
    (root, folder, parts.errors, parts.regions)
}

fn config_rule(name: &str, identifier: &str) -> ConfigRule {
    ConfigRule::builder()
        .config_rule_name(name)
        .config_rule_arn(format!(
            "arn:aws:config:us-east-1:123456789012:config-rule/config-rule-{name}"
        ))
        .config_rule_id(format!("config-rule-{name}"))
        .source(
            Source::builder()
                .owner(Owner::Aws)
                .source_identifier(identifier)
                .build()
                .unwrap(),
        )
        .config_rule_state(ConfigRuleState::Active)
        .build()
}

fn compliance(
    name: &str,
    kind: ComplianceType,
    count: Option<(i32, bool)>,
) -> ComplianceByConfigRule {
    let mut c = Compliance::builder().compliance_type(kind);
    if let Some((n, capped)) = count {
        c = c.compliance_contributor_count(
            ComplianceContributorCount::builder()
                .capped_count(n)
                .cap_exceeded(capped)
                .build(),
        );
    }
    ComplianceByConfigRule::builder()
        .config_rule_name(name)
        .compliance(c.build())
        .build()
}

#[tokio::test]
async fn compliance_and_rules_are_read_over_two_pages_each() {
    let recorders =
        mock!(aws_sdk_config::Client::describe_configuration_recorders).then_output(|| {
            DescribeConfigurationRecordersOutput::builder()
                .configuration_recorders(
                    ConfigurationRecorder::builder()
                        .name("default")
                        .role_arn(RECORDER_ROLE)
                        .build(),
                )
                .build()
        });
    let status =
        mock!(aws_sdk_config::Client::describe_configuration_recorder_status).then_output(|| {
            DescribeConfigurationRecorderStatusOutput::builder()
                .configuration_recorders_status(
                    ConfigurationRecorderStatus::builder()
                        .name("default")
                        .recording(true)
                        .last_status(RecorderStatus::Success)
                        .build(),
                )
                .build()
        });
    let channels = mock!(aws_sdk_config::Client::describe_delivery_channels)
        .then_output(|| DescribeDeliveryChannelsOutput::builder().build());
    let rules_1 = mock!(aws_sdk_config::Client::describe_config_rules)
        .match_requests(|i| i.next_token().is_none())
        .then_output(|| {
            DescribeConfigRulesOutput::builder()
                .config_rules(config_rule("versioning", "S3_BUCKET_VERSIONING_ENABLED"))
                .next_token("rules-2")
                .build()
        });
    let rules_2 = mock!(aws_sdk_config::Client::describe_config_rules)
        .match_requests(|i| i.next_token() == Some("rules-2"))
        .then_output(|| {
            DescribeConfigRulesOutput::builder()
                .config_rules(config_rule("mfa", "ROOT_ACCOUNT_MFA_ENABLED"))
                .config_rules(config_rule("unevaluated", "CLOUD_TRAIL_ENABLED"))
                .build()
        });
    let compliance_1 = mock!(aws_sdk_config::Client::describe_compliance_by_config_rule)
        .match_requests(|i| i.next_token().is_none())
        .then_output(|| {
            DescribeComplianceByConfigRuleOutput::builder()
                .compliance_by_config_rules(compliance(
                    "versioning",
                    ComplianceType::NonCompliant,
                    Some((100, true)),
                ))
                .next_token("compliance-2")
                .build()
        });
    let compliance_2 = mock!(aws_sdk_config::Client::describe_compliance_by_config_rule)
        .match_requests(|i| i.next_token() == Some("compliance-2"))
        .then_output(|| {
            DescribeComplianceByConfigRuleOutput::builder()
                .compliance_by_config_rules(compliance("mfa", ComplianceType::Compliant, None))
                .build()
        });
    let (_root, folder, errors, regions) = run_mocked(
        "aws-config",
        &[
            &recorders,
            &status,
            &channels,
            &rules_1,
            &rules_2,
            &compliance_1,
            &compliance_2,
        ],
        &[EAST],
    )
    .await;
    assert_eq!(errors, []);
    assert_eq!(regions[EAST], CollectorStatus::Collected);
    for rule in [&rules_1, &rules_2, &compliance_1, &compliance_2] {
        assert_eq!(rule.num_calls(), 1);
    }
    let table: Vec<(String, String, String, String)> = csv_rows(&folder.join("config-rules.csv"))
        .into_iter()
        .map(|r| {
            (
                r["name"].clone(),
                r["compliance_type"].clone(),
                r["non_compliant_resources"].clone(),
                r["non_compliant_cap_exceeded"].clone(),
            )
        })
        .collect();
    let s = |v: &str| v.to_string();
    assert_eq!(
        table,
        [
            (s("mfa"), s("COMPLIANT"), s(""), s("")),
            // AWS gave no compliance for it: empty, not a guess.
            (s("unevaluated"), s(""), s(""), s("")),
            (s("versioning"), s("NON_COMPLIANT"), s("100"), s("true")),
        ]
    );
    let recorders = csv_rows(&folder.join("recorders.csv"));
    assert_eq!(recorders[0]["recording"], "true");
    assert_eq!(recorders[0]["last_status"], "Success");
    // A recorder without a recording group: unknown, not false.
    assert_eq!(recorders[0]["all_supported"], "");
}

#[tokio::test]
async fn an_access_denied_recorder_listing_fails_its_region_only_and_is_recorded() {
    let denied = mock!(aws_sdk_config::Client::describe_configuration_recorders)
        .match_requests(|_| request_region() == WEST)
        .then_error(|| {
            DescribeConfigurationRecordersError::generic(not_authorized(
                "AccessDeniedException",
                "config:DescribeConfigurationRecorders",
            ))
        });
    let listed = mock!(aws_sdk_config::Client::describe_configuration_recorders)
        .match_requests(|_| request_region() == EAST)
        .then_output(|| DescribeConfigurationRecordersOutput::builder().build());
    let status = mock!(aws_sdk_config::Client::describe_configuration_recorder_status)
        .then_output(|| DescribeConfigurationRecorderStatusOutput::builder().build());
    let channels = mock!(aws_sdk_config::Client::describe_delivery_channels)
        .then_output(|| DescribeDeliveryChannelsOutput::builder().build());
    let rules = mock!(aws_sdk_config::Client::describe_config_rules)
        .then_output(|| DescribeConfigRulesOutput::builder().build());
    let (_root, folder, errors, regions) = run_mocked(
        "aws-config",
        &[&denied, &listed, &status, &channels, &rules],
        &[WEST, EAST],
    )
    .await;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].region, WEST);
    assert_eq!(errors[0].operation, "DescribeConfigurationRecorders");
    assert_eq!(errors[0].code, "AccessDeniedException");
    assert!(errors[0]
        .message
        .contains("config:DescribeConfigurationRecorders"));
    assert_eq!(regions[WEST], CollectorStatus::Failed);
    assert_eq!(regions[EAST], CollectorStatus::Collected);
    let table = csv_rows(&folder.join("regions.csv"));
    assert_eq!(table[0]["region"], WEST);
    assert_eq!(table[0]["status"], "failed");
    assert_eq!(table[0]["recorders"], "", "not read: unknown, not zero");
    assert_eq!(table[1]["recorders"], "0");
}

#[tokio::test]
async fn metric_filters_alarms_and_subscriptions_are_read_over_two_pages() {
    use aws_sdk_cloudtrail::operation::describe_trails::DescribeTrailsOutput;
    use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
    use aws_sdk_cloudtrail::types::Trail;
    let main = trail_arn(EAST, "main");
    let trails = mock!(aws_sdk_cloudtrail::Client::describe_trails).then_output({
        let main = main.clone();
        move || {
            DescribeTrailsOutput::builder()
                .trail_list(
                    Trail::builder()
                        .name("main")
                        .trail_arn(&main)
                        .home_region(EAST)
                        .is_multi_region_trail(true)
                        .is_organization_trail(false)
                        .cloud_watch_logs_log_group_arn(group_arn(EAST, LOG_GROUP))
                        .build(),
                )
                .build()
        }
    });
    let status = mock!(aws_sdk_cloudtrail::Client::get_trail_status)
        .then_output(|| GetTrailStatusOutput::builder().is_logging(true).build());
    let filter = |name: &str, pattern: &str, metric: &str| {
        MetricFilter::builder()
            .filter_name(name)
            .filter_pattern(pattern)
            .log_group_name(LOG_GROUP)
            .creation_time(1_763_800_000_000)
            .metric_transformations(
                MetricTransformation::builder()
                    .metric_name(metric)
                    .metric_namespace("CIS")
                    .metric_value("1")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let filters_1 = mock!(aws_sdk_cloudwatchlogs::Client::describe_metric_filters)
        .match_requests(|i| {
            i.next_token().is_none()
                && i.log_group_name() == Some(LOG_GROUP)
                && i.limit() == Some(50)
        })
        .then_output(move || {
            DescribeMetricFiltersOutput::builder()
                .metric_filters(filter("root", ROOT_PATTERN, "Root"))
                .next_token("filters-2")
                .build()
        });
    let filters_2 = mock!(aws_sdk_cloudwatchlogs::Client::describe_metric_filters)
        .match_requests(|i| i.next_token() == Some("filters-2"))
        .then_output(move || {
            DescribeMetricFiltersOutput::builder()
                .metric_filters(filter("sg", SG_PATTERN, "SG"))
                .build()
        });
    let confirmed_topic = topic_arn();
    let pending_topic = format!("arn:aws:sns:{EAST}:{ACCOUNT}:pending");
    let alarms_1 = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|i| i.next_token().is_none())
        .then_output({
            let t = confirmed_topic.clone();
            move || {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(metric_alarm("root-alarm", "CIS", "Root", &[&t]))
                    .next_token("alarms-2")
                    .build()
            }
        });
    let alarms_2 = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|i| i.next_token() == Some("alarms-2"))
        .then_output({
            let t = pending_topic.clone();
            move || {
                DescribeAlarmsOutput::builder()
                    .metric_alarms(metric_alarm("sg-alarm", "CIS", "SG", &[&t]))
                    .build()
            }
        });
    let subscription = |topic: &str, arn: &str, protocol: &str, endpoint: &str| {
        Subscription::builder()
            .topic_arn(topic)
            .subscription_arn(arn)
            .protocol(protocol)
            .endpoint(endpoint)
            .owner(ACCOUNT)
            .build()
    };
    let subs_1 = mock!(aws_sdk_sns::Client::list_subscriptions_by_topic)
        .match_requests({
            let t = confirmed_topic.clone();
            move |i| i.topic_arn() == Some(t.as_str()) && i.next_token().is_none()
        })
        .then_output({
            let t = confirmed_topic.clone();
            move || {
                ListSubscriptionsByTopicOutput::builder()
                    .subscriptions(subscription(
                        &t,
                        "PendingConfirmation",
                        "email",
                        "a@example.com",
                    ))
                    .next_token("subs-2")
                    .build()
            }
        });
    let subs_2 = mock!(aws_sdk_sns::Client::list_subscriptions_by_topic)
        .match_requests(|i| i.next_token() == Some("subs-2"))
        .then_output({
            let t = confirmed_topic.clone();
            move || {
                ListSubscriptionsByTopicOutput::builder()
                    .subscriptions(subscription(
                        &t,
                        &format!("{t}:0001"),
                        "https",
                        "https://events.pagerduty.com/integration/SECRETKEY/enqueue",
                    ))
                    .build()
            }
        });
    let pending = mock!(aws_sdk_sns::Client::list_subscriptions_by_topic)
        .match_requests({
            let t = pending_topic.clone();
            move |i| i.topic_arn() == Some(t.as_str())
        })
        .then_output({
            let t = pending_topic.clone();
            move || {
                ListSubscriptionsByTopicOutput::builder()
                    .subscriptions(subscription(
                        &t,
                        "PendingConfirmation",
                        "email",
                        "b@example.com",
                    ))
                    .build()
            }
        });
    let (_root, folder, errors, _) = run_mocked(
        "cis-monitoring",
        &[
            &trails, &status, &filters_1, &filters_2, &alarms_1, &alarms_2, &subs_1, &subs_2,
            &pending,
        ],
        &[EAST],
    )
    .await;
    assert_eq!(errors, []);
    for rule in [
        &filters_1, &filters_2, &alarms_1, &alarms_2, &subs_1, &subs_2, &pending,
    ] {
        assert_eq!(rule.num_calls(), 1);
    }
    let filters = csv_rows(&folder.join("metric-filters.csv"));
    let names: Vec<&str> = filters.iter().map(|f| f["filter_name"].as_str()).collect();
    assert_eq!(names, ["root", "sg"]);
    assert_eq!(filters[0]["creation_time"], "2025-11-22T08:26:40Z");
    let subs = csv_rows(&folder.join("subscriptions.csv"));
    let endpoints: Vec<&str> = subs.iter().map(|s| s["endpoint"].as_str()).collect();
    assert_eq!(
        endpoints,
        // Sorted by topic, then subscription ARN (`PendingConfirmation` before `arn:`).
        [
            "b@example.com",
            "a@example.com",
            "https://events.pagerduty.com"
        ],
        "the webhook's path (its key) is not kept"
    );
    let bundle_text = std::fs::read_to_string(folder.join("subscriptions.json")).unwrap();
    assert!(!bundle_text.contains("SECRETKEY"));

    let items = csv_rows(&folder.join("monitoring-items.csv"));
    let by_item: BTreeMap<&str, &Row> = items.iter().map(|i| (i["item"].as_str(), i)).collect();
    // Covered by the confirmed https subscription on page 2.
    assert_eq!(by_item["CloudWatch.1"]["coverage"], "covered");
    // The security-group alarm's topic has only a pending subscription.
    let sg = by_item["CloudWatch.10"];
    assert_eq!(sg["coverage"], "not_covered");
    assert_eq!(sg["topic_arn"], pending_topic);
    assert_eq!(
        sg["detail"],
        format!(
            "alarm sg-alarm notifies topic {pending_topic}, which has no confirmed subscription \
             (1 pending confirmation)"
        )
    );
}

#[tokio::test]
async fn a_denied_alarm_listing_is_recorded_and_leaves_the_items_unknown() {
    use aws_sdk_cloudtrail::operation::describe_trails::DescribeTrailsOutput;
    use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
    use aws_sdk_cloudtrail::types::Trail;
    let trails = mock!(aws_sdk_cloudtrail::Client::describe_trails).then_output(|| {
        DescribeTrailsOutput::builder()
            .trail_list(
                Trail::builder()
                    .name("main")
                    .trail_arn(trail_arn(EAST, "main"))
                    .home_region(EAST)
                    .is_multi_region_trail(true)
                    .cloud_watch_logs_log_group_arn(group_arn(EAST, LOG_GROUP))
                    .build(),
            )
            .build()
    });
    let status = mock!(aws_sdk_cloudtrail::Client::get_trail_status)
        .then_output(|| GetTrailStatusOutput::builder().is_logging(true).build());
    let filters =
        mock!(aws_sdk_cloudwatchlogs::Client::describe_metric_filters).then_output(|| {
            DescribeMetricFiltersOutput::builder()
                .metric_filters(
                    MetricFilter::builder()
                        .filter_name("root")
                        .filter_pattern(ROOT_PATTERN)
                        .metric_transformations(
                            MetricTransformation::builder()
                                .metric_name("Root")
                                .metric_namespace("CIS")
                                .metric_value("1")
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
        });
    let denied = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_error(|| {
        DescribeAlarmsError::generic(not_authorized("AccessDenied", "cloudwatch:DescribeAlarms"))
    });
    let (_root, folder, errors, regions) = run_mocked(
        "cis-monitoring",
        &[&trails, &status, &filters, &denied],
        &[EAST],
    )
    .await;
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (
            errors[0].operation.as_str(),
            errors[0].code.as_str(),
            errors[0].region.as_str()
        ),
        ("DescribeAlarms", "AccessDenied", EAST)
    );
    assert!(errors[0].message.contains("cloudwatch:DescribeAlarms"));
    assert_eq!(regions[EAST], CollectorStatus::Partial);
    let items = csv_rows(&folder.join("monitoring-items.csv"));
    assert_eq!(items[0]["coverage"], "unknown");
    assert_eq!(items[1]["coverage"], "not_covered");
}
