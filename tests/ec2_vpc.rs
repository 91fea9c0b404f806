//! `ec2-instances` and `vpc-network`: the real binary against moto over two regions, and
//! `aws-smithy-mocks` for pagination and for a listing that fails while the others are read.

mod common;

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    FlowLogsResourceType, HttpTokensState, InstanceMetadataEndpointState,
    InstanceMetadataOptionsRequest, LogDestinationType, PortRange, RuleAction, TrafficType,
};
use common::{collect_expecting, csv_rows, manifest_collector, read_json, Emulator};

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";

fn ec2(emulator: &Emulator, region: &str) -> aws_sdk_ec2::Client {
    soc2_evidence::aws::Clients::new(common::sdk_config(emulator, region), 4)
        .counted()
        .ec2(region)
}

/// Runs one instance with the given metadata tokens setting (None: the API's default) and a
/// Name tag; returns its id.
async fn instance(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
    tokens: Option<HttpTokensState>,
) -> String {
    let mut request = ec2
        .run_instances()
        .image_id("ami-12345678")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("Name")
                        .value(name)
                        .build(),
                )
                .build(),
        );
    if let Some(tokens) = tokens {
        request = request.metadata_options(
            InstanceMetadataOptionsRequest::builder()
                .http_tokens(tokens)
                .http_endpoint(InstanceMetadataEndpointState::Enabled)
                .build(),
        );
    }
    let out = request.send().await.unwrap();
    out.instances()[0].instance_id().unwrap().to_string()
}

async fn vpc(ec2: &aws_sdk_ec2::Client, cidr: &str, name: &str) -> String {
    let out = ec2
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Vpc)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("Name")
                        .value(name)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    out.vpc().unwrap().vpc_id().unwrap().to_string()
}

/// Creates a network ACL (no entries but the `*` denies) in the VPC; returns its id.
async fn network_acl(ec2: &aws_sdk_ec2::Client, vpc: &str) -> String {
    let out = ec2.create_network_acl().vpc_id(vpc).send().await.unwrap();
    out.network_acl()
        .unwrap()
        .network_acl_id()
        .unwrap()
        .to_string()
}

async fn acl_entry(
    ec2: &aws_sdk_ec2::Client,
    acl: &str,
    number: i32,
    protocol: &str,
    action: RuleAction,
    ports: Option<(i32, i32)>,
) {
    let mut request = ec2
        .create_network_acl_entry()
        .network_acl_id(acl)
        .rule_number(number)
        .protocol(protocol)
        .rule_action(action)
        .egress(false)
        .cidr_block("0.0.0.0/0");
    if let Some((from, to)) = ports {
        request = request.port_range(PortRange::builder().from(from).to(to).build());
    }
    request.send().await.unwrap();
}

fn by(
    rows: Vec<BTreeMap<String, String>>,
    key: &str,
) -> BTreeMap<String, BTreeMap<String, String>> {
    rows.into_iter().map(|r| (r[key].clone(), r)).collect()
}

/// (rule, resource) of every row of findings.csv of `rules`, sorted.
fn findings_of(dir: &std::path::Path, rules: &[&str]) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = csv_rows(&dir.join("findings.csv"))
        .into_iter()
        .filter(|row| rules.contains(&row["rule"].as_str()))
        .map(|row| (row["rule"].clone(), row["resource"].clone()))
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn instances_and_networks_hold_exactly_the_seeded_facts_and_findings() {
    let emulator = Emulator::start();
    let east = ec2(&emulator, EAST);
    let west = ec2(&emulator, WEST);

    // Instances: one answering IMDSv1 (the API default, tokens optional), one IMDSv2-only.
    let v1 = instance(&east, "legacy", None).await;
    let v2 = instance(&east, "hardened", Some(HttpTokensState::Required)).await;
    // EBS encryption by default: on in the west only.
    west.enable_ebs_encryption_by_default()
        .send()
        .await
        .unwrap();

    // VPCs: one with an active flow log (to CloudWatch Logs), one without; each region also has
    // moto's default VPC, without flow logs.
    let logged = vpc(&east, "10.1.0.0/16", "logged").await;
    let bare = vpc(&east, "10.2.0.0/16", "bare").await;
    let created = east
        .create_flow_logs()
        .resource_ids(&logged)
        .resource_type(FlowLogsResourceType::Vpc)
        .traffic_type(TrafficType::All)
        .log_destination_type(LogDestinationType::CloudWatchLogs)
        .log_group_name("vpc-flow")
        .deliver_logs_permission_arn("arn:aws:iam::123456789012:role/flow")
        .send()
        .await
        .unwrap();
    assert!(created.unsuccessful().is_empty(), "{created:?}");
    let flow_log = created.flow_log_ids()[0].clone();

    // A network ACL denying 22 at rule 90 before an allow-all at 100: 3389 stays open.
    let acl = network_acl(&east, &bare).await;
    acl_entry(&east, &acl, 90, "6", RuleAction::Deny, Some((22, 22))).await;
    acl_entry(&east, &acl, 100, "-1", RuleAction::Allow, None).await;
    // One denying every protocol first: nothing open.
    let closed = network_acl(&east, &logged).await;
    acl_entry(&east, &closed, 50, "-1", RuleAction::Deny, None).await;
    acl_entry(&east, &closed, 100, "-1", RuleAction::Allow, None).await;

    let args = [
        "--region",
        WEST,
        "--collector",
        "ec2-instances",
        "--collector",
        "vpc-network",
    ];
    let (_out, _, dir) = collect_expecting(&emulator, &args, 0);
    let manifest = read_json(&dir.join("manifest.json"));
    for id in ["ec2-instances", "vpc-network"] {
        let entry = manifest_collector(&manifest, id);
        assert_eq!(entry["status"], "collected", "{id}: {entry:#}");
    }

    // ---- ec2-instances ----
    let evidence = dir.join("evidence/ec2-instances");
    let instances = by(csv_rows(&evidence.join("instances.csv")), "instance_id");
    assert_eq!(instances.len(), 2);
    let legacy = &instances[&v1];
    assert_eq!(
        (
            legacy["region"].as_str(),
            legacy["name"].as_str(),
            legacy["state"].as_str(),
            legacy["http_endpoint"].as_str(),
            legacy["http_tokens"].as_str(),
            legacy["http_put_response_hop_limit"].as_str(),
            legacy["instance_type"].as_str(),
        ),
        (EAST, "legacy", "running", "enabled", "optional", "1", "t3.micro")
    );
    assert_eq!(instances[&v2]["http_tokens"], "required");
    let json = read_json(&evidence.join("instances.json"));
    let first = common::find_by(&json, "InstanceId", &v1);
    assert_eq!(first["MetadataOptions"]["HttpTokens"], "optional");
    let ebs = by(csv_rows(&evidence.join("ebs-encryption.csv")), "region");
    assert_eq!(ebs[EAST]["ebs_encryption_by_default"], "false");
    assert_eq!(ebs[WEST]["ebs_encryption_by_default"], "true");
    assert_eq!(
        (
            ebs[EAST]["instance_count"].as_str(),
            ebs[WEST]["instance_count"].as_str()
        ),
        ("2", "0")
    );
    assert!(ebs.values().all(|r| r["instances_listed"] == "true"));

    // ---- vpc-network ----
    let evidence = dir.join("evidence/vpc-network");
    let vpcs = by(csv_rows(&evidence.join("vpcs.csv")), "vpc_id");
    // Two seeded plus one default VPC per region.
    assert_eq!(vpcs.len(), 4);
    assert_eq!(vpcs[&logged]["active_flow_logs"], flow_log);
    assert_eq!(vpcs[&logged]["name"], "logged");
    assert_eq!(vpcs[&bare]["active_flow_logs"], "");
    let mut defaults: Vec<&str> = vpcs
        .values()
        .filter(|v| v["is_default"] == "true")
        .map(|v| v["region"].as_str())
        .collect();
    defaults.sort_unstable();
    assert_eq!(defaults, [WEST, EAST]);
    let flows = csv_rows(&evidence.join("flow-logs.csv"));
    assert_eq!(flows.len(), 1);
    assert_eq!(
        (
            flows[0]["resource_id"].as_str(),
            flows[0]["flow_log_status"].as_str(),
            flows[0]["log_destination_type"].as_str(),
            flows[0]["log_group_name"].as_str(),
        ),
        (logged.as_str(), "ACTIVE", "cloud-watch-logs", "vpc-flow")
    );
    let acls = by(
        csv_rows(&evidence.join("network-acls.csv")),
        "network_acl_id",
    );
    assert_eq!(
        acls[&acl]["admin_ports_open_to_world"],
        "0.0.0.0/0 tcp/3389 (rule 100);0.0.0.0/0 udp/22 (rule 100);0.0.0.0/0 udp/3389 (rule 100)"
    );
    assert_eq!(acls[&closed]["admin_ports_open_to_world"], "");
    assert_eq!(acls[&acl]["ingress_entries"], "2");
    let entries: Vec<_> = csv_rows(&evidence.join("network-acl-entries.csv"))
        .into_iter()
        .filter(|e| e["network_acl_id"] == acl)
        .map(|e| {
            (
                e["rule_number"].clone(),
                e["protocol_name"].clone(),
                e["rule_action"].clone(),
                e["from_port"].clone(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("90".into(), "tcp".into(), "deny".into(), "22".into()),
            ("100".into(), "all".into(), "allow".into(), String::new()),
        ]
    );
    let regions = by(csv_rows(&evidence.join("regions.csv")), "region");
    assert_eq!(regions.len(), 2);
    assert!(regions.values().all(|r| r["vpcs_listed"] == "true"
        && r["flow_logs_listed"] == "true"
        && r["network_acls_listed"] == "true"));

    // ---- findings ----
    let arn = |region: &str, what: &str| format!("arn:aws:ec2:{region}:123456789012:{what}");
    let default_acls: Vec<(String, String)> = acls
        .values()
        .filter(|a| a["is_default"] == "true")
        .map(|a| {
            (
                "nacl-admin-port-open".to_string(),
                arn(
                    &a["region"],
                    &format!("network-acl/{}", a["network_acl_id"]),
                ),
            )
        })
        .collect();
    // moto's default network ACLs (one per VPC) allow all ingress at rule 100, as AWS's do.
    assert_eq!(default_acls.len(), 4);
    let mut expected = default_acls;
    expected.push((
        "nacl-admin-port-open".into(),
        arn(EAST, &format!("network-acl/{acl}")),
    ));
    for v in vpcs.values().filter(|v| v["vpc_id"] != logged) {
        expected.push((
            "vpc-flow-logs-missing".into(),
            arn(&v["region"], &format!("vpc/{}", v["vpc_id"])),
        ));
    }
    expected.push((
        "ec2-imdsv1-allowed".into(),
        arn(EAST, &format!("instance/{v1}")),
    ));
    expected.push((
        "ebs-default-encryption-off".into(),
        "arn:aws:iam::123456789012:root".into(),
    ));
    expected.sort();
    let rules = [
        "ec2-imdsv1-allowed",
        "ebs-default-encryption-off",
        "vpc-flow-logs-missing",
        "nacl-admin-port-open",
    ];
    assert_eq!(findings_of(&dir, &rules), expected);
    let outcomes = by(csv_rows(&dir.join("rules.csv")), "rule");
    for rule in rules {
        assert_eq!(
            outcomes[rule]["status"], "evaluated",
            "{rule}: {:?}",
            outcomes[rule]
        );
    }
}

mod mocked {
    use super::*;
    use aws_sdk_ec2::operation::describe_flow_logs::DescribeFlowLogsError;
    use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
    use aws_sdk_ec2::operation::describe_network_acls::DescribeNetworkAclsOutput;
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
    use aws_sdk_ec2::operation::get_ebs_encryption_by_default::GetEbsEncryptionByDefaultError;
    use aws_sdk_ec2::types::{
        Instance, InstanceMetadataOptionsResponse, NetworkAcl, NetworkAclEntry, Reservation, Vpc,
    };
    use aws_smithy_mocks::mock;
    use soc2_evidence::collectors::ec2_instances;
    use soc2_evidence::evidence::Evidence;
    use soc2_evidence::vocab::CollectorStatus;

    fn denied() -> aws_sdk_ec2::error::ErrorMetadata {
        aws_sdk_ec2::error::ErrorMetadata::builder()
            .code("UnauthorizedOperation")
            .message("You are not authorized to perform this operation.")
            .build()
    }

    fn reservation(id: &str, tokens: HttpTokensState) -> Reservation {
        Reservation::builder()
            .instances(
                Instance::builder()
                    .instance_id(id)
                    .metadata_options(
                        InstanceMetadataOptionsResponse::builder()
                            .http_tokens(tokens)
                            .http_endpoint(InstanceMetadataEndpointState::Enabled)
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn instances_are_read_over_every_page_and_a_refused_ebs_call_is_recorded() {
        let first = mock!(aws_sdk_ec2::Client::describe_instances)
            .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(1000))
            .then_output(|| {
                DescribeInstancesOutput::builder()
                    .reservations(reservation("i-b", HttpTokensState::Optional))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(aws_sdk_ec2::Client::describe_instances)
            .match_requests(|r| r.next_token() == Some("page-2") && r.max_results() == Some(1000))
            .then_output(|| {
                DescribeInstancesOutput::builder()
                    .reservations(reservation("i-a", HttpTokensState::Required))
                    .build()
            });
        let ebs = mock!(aws_sdk_ec2::Client::get_ebs_encryption_by_default)
            .then_error(|| GetEbsEncryptionByDefaultError::generic(denied()));
        let clients = common::mock::clients(&[&first, &second, &ebs]);
        let ctx = common::mock::context(&clients, &[EAST]);
        let dir = tempfile::tempdir().unwrap();
        let mut out = Evidence::new(dir.path(), "ec2-instances");
        ec2_instances::collect(&ctx, &mut out).await.unwrap();
        assert_eq!(
            (first.num_calls(), second.num_calls(), ebs.num_calls()),
            (1, 1, 1)
        );
        let errors = out.errors().to_vec();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (
                errors[0].region.as_str(),
                errors[0].operation.as_str(),
                errors[0].code.as_str()
            ),
            (EAST, "GetEbsEncryptionByDefault", "UnauthorizedOperation")
        );
        let evidence = dir.path().join("evidence/ec2-instances");
        let ids: Vec<String> = csv_rows(&evidence.join("instances.csv"))
            .into_iter()
            .map(|r| format!("{} {}", r["instance_id"], r["http_tokens"]))
            .collect();
        assert_eq!(ids, ["i-a required", "i-b optional"]);
        let regions = csv_rows(&evidence.join("ebs-encryption.csv"));
        assert_eq!(
            (
                regions[0]["instances_listed"].as_str(),
                regions[0]["instance_count"].as_str(),
                regions[0]["ebs_encryption_by_default"].as_str()
            ),
            ("true", "2", "")
        );
        assert_eq!(out.into_parts().regions[EAST], CollectorStatus::Partial);
    }

    #[tokio::test]
    async fn network_listings_page_and_a_refused_one_leaves_the_others_judged() {
        let vpcs_1 = mock!(aws_sdk_ec2::Client::describe_vpcs)
            .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(1000))
            .then_output(|| {
                DescribeVpcsOutput::builder()
                    .vpcs(Vpc::builder().vpc_id("vpc-1").is_default(true).build())
                    .next_token("v2")
                    .build()
            });
        let vpcs_2 = mock!(aws_sdk_ec2::Client::describe_vpcs)
            .match_requests(|r| r.next_token() == Some("v2"))
            .then_output(|| {
                DescribeVpcsOutput::builder()
                    .vpcs(Vpc::builder().vpc_id("vpc-2").build())
                    .build()
            });
        let flows = mock!(aws_sdk_ec2::Client::describe_flow_logs)
            .then_error(|| DescribeFlowLogsError::generic(denied()));
        let acl = |id: &str, allow: bool| {
            NetworkAcl::builder()
                .network_acl_id(id)
                .vpc_id("vpc-1")
                .entries(
                    NetworkAclEntry::builder()
                        .rule_number(100)
                        .protocol("-1")
                        .egress(false)
                        .rule_action(if allow {
                            RuleAction::Allow
                        } else {
                            RuleAction::Deny
                        })
                        .cidr_block("0.0.0.0/0")
                        .build(),
                )
                .build()
        };
        let acls_1 = mock!(aws_sdk_ec2::Client::describe_network_acls)
            .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(1000))
            .then_output(move || {
                DescribeNetworkAclsOutput::builder()
                    .network_acls(acl("acl-open", true))
                    .next_token("a2")
                    .build()
            });
        let acls_2 = mock!(aws_sdk_ec2::Client::describe_network_acls)
            .match_requests(|r| r.next_token() == Some("a2"))
            .then_output(move || {
                DescribeNetworkAclsOutput::builder()
                    .network_acls(acl("acl-shut", false))
                    .build()
            });
        let caller = common::mock::caller_identity();
        let clients = common::mock::clients(&[&caller, &vpcs_1, &vpcs_2, &flows, &acls_1, &acls_2]);
        let out = tempfile::tempdir().unwrap();
        let config = common::mock::config(out.path(), &["vpc-network"], &[EAST]);
        let outcome = soc2_evidence::run::collect_with(&config, clients)
            .await
            .expect("a bundle is written");
        assert_eq!(
            (
                vpcs_1.num_calls(),
                vpcs_2.num_calls(),
                acls_1.num_calls(),
                acls_2.num_calls()
            ),
            (1, 1, 1, 1)
        );
        let record = &outcome.manifest.collectors[0];
        assert_eq!(record.status, CollectorStatus::Partial);
        assert_eq!(record.errors.len(), 1);
        assert_eq!(record.errors[0].operation, "DescribeFlowLogs");
        assert_eq!(record.errors[0].code, "UnauthorizedOperation");
        let dir = &outcome.paths.directory;
        let evidence = dir.join("evidence/vpc-network");
        let vpcs: Vec<String> = csv_rows(&evidence.join("vpcs.csv"))
            .into_iter()
            .map(|r| r["vpc_id"].clone())
            .collect();
        assert_eq!(vpcs, ["vpc-1", "vpc-2"]);
        let regions = csv_rows(&evidence.join("regions.csv"));
        assert_eq!(
            (
                regions[0]["vpcs_listed"].as_str(),
                regions[0]["flow_logs_listed"].as_str(),
                regions[0]["network_acls_listed"].as_str()
            ),
            ("true", "false", "true")
        );
        // The NACL rule judged the region (partial, as every rule over a partial collector);
        // the flow log rule could not, and says which listing it lacks.
        assert_eq!(
            findings_of(dir, &["nacl-admin-port-open", "vpc-flow-logs-missing"]),
            [(
                "nacl-admin-port-open".to_string(),
                "arn:aws:ec2:us-east-1:123456789012:network-acl/acl-open".to_string()
            )]
        );
        let outcomes = by(csv_rows(&dir.join("rules.csv")), "rule");
        let nacl = &outcomes["nacl-admin-port-open"];
        assert_eq!(nacl["status"], "partial");
        assert!(!nacl["reason"].contains("was not read"), "{nacl:?}");
        let flow_rule = &outcomes["vpc-flow-logs-missing"];
        assert_eq!(flow_rule["status"], "partial");
        assert!(
            flow_rule["reason"].contains("us-east-1: DescribeFlowLogs was not read"),
            "{flow_rule:?}"
        );
    }
}

mod flow_log_pages {
    use super::*;
    use aws_sdk_ec2::operation::describe_flow_logs::DescribeFlowLogsOutput;
    use aws_sdk_ec2::operation::describe_network_acls::DescribeNetworkAclsOutput;
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
    use aws_sdk_ec2::types::{FlowLog, Vpc};
    use aws_smithy_mocks::mock;
    use soc2_evidence::collectors::vpc_network;
    use soc2_evidence::evidence::Evidence;

    #[tokio::test]
    async fn flow_logs_are_read_over_every_page_and_give_each_vpc_its_active_ones() {
        let vpcs = mock!(aws_sdk_ec2::Client::describe_vpcs).then_output(|| {
            DescribeVpcsOutput::builder()
                .vpcs(Vpc::builder().vpc_id("vpc-1").build())
                .vpcs(Vpc::builder().vpc_id("vpc-2").build())
                .build()
        });
        let flow = |id: &str, vpc: &str, status: &str| {
            FlowLog::builder()
                .flow_log_id(id)
                .resource_id(vpc)
                .flow_log_status(status)
                .build()
        };
        let first = mock!(aws_sdk_ec2::Client::describe_flow_logs)
            .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(1000))
            .then_output(move || {
                DescribeFlowLogsOutput::builder()
                    .flow_logs(flow("fl-1", "vpc-1", "ACTIVE"))
                    .next_token("f2")
                    .build()
            });
        let second = mock!(aws_sdk_ec2::Client::describe_flow_logs)
            .match_requests(|r| r.next_token() == Some("f2") && r.max_results() == Some(1000))
            .then_output(move || {
                DescribeFlowLogsOutput::builder()
                    .flow_logs(flow("fl-2", "vpc-2", "INACTIVE"))
                    .flow_logs(flow("fl-3", "vpc-1", "ACTIVE"))
                    .build()
            });
        let acls = mock!(aws_sdk_ec2::Client::describe_network_acls)
            .then_output(|| DescribeNetworkAclsOutput::builder().build());
        let clients = common::mock::clients(&[&vpcs, &first, &second, &acls]);
        let ctx = common::mock::context(&clients, &[EAST]);
        let dir = tempfile::tempdir().unwrap();
        let mut out = Evidence::new(dir.path(), "vpc-network");
        vpc_network::collect(&ctx, &mut out).await.unwrap();
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
        assert!(out.errors().is_empty());
        let evidence = dir.path().join("evidence/vpc-network");
        let flows: Vec<String> = csv_rows(&evidence.join("flow-logs.csv"))
            .into_iter()
            .map(|r| r["flow_log_id"].clone())
            .collect();
        assert_eq!(flows, ["fl-1", "fl-2", "fl-3"]);
        let active: Vec<(String, String)> = csv_rows(&evidence.join("vpcs.csv"))
            .into_iter()
            .map(|r| (r["vpc_id"].clone(), r["active_flow_logs"].clone()))
            .collect();
        assert_eq!(
            active,
            [
                ("vpc-1".to_string(), "fl-1;fl-3".to_string()),
                ("vpc-2".to_string(), String::new())
            ]
        );
    }
}
