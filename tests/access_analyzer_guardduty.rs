//! The detection collectors, `access-analyzer` and `guardduty`: the emulator where moto
//! implements the calls (GuardDuty detectors), `aws-smithy-mocks` for the rest (all of Access
//! Analyzer, GuardDuty statistics and findings), for pagination and for AccessDenied.
//!
//! The mocked responses are scoped to a region: a region's rules answer only that region's
//! clients, so one region can deny while another answers, whatever order the regions run in.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_accessanalyzer::operation::list_analyzers::{ListAnalyzersError, ListAnalyzersOutput};
use aws_sdk_accessanalyzer::operation::list_findings_v2::{
    ListFindingsV2Input, ListFindingsV2Output,
};
use aws_sdk_accessanalyzer::primitives::DateTime;
use aws_sdk_accessanalyzer::types::{
    AnalyzerConfiguration, AnalyzerStatus, AnalyzerSummary, FindingStatus, FindingSummaryV2,
    FindingType, ReasonCode, ResourceType, StatusReason, Type, UnusedAccessConfiguration,
};
use aws_sdk_accessanalyzer::Client as AccessAnalyzer;
use aws_sdk_guardduty::operation::get_detector::GetDetectorOutput;
use aws_sdk_guardduty::operation::get_findings::{GetFindingsInput, GetFindingsOutput};
use aws_sdk_guardduty::operation::get_findings_statistics::{
    GetFindingsStatisticsError, GetFindingsStatisticsInput, GetFindingsStatisticsOutput,
};
use aws_sdk_guardduty::operation::list_detectors::{ListDetectorsError, ListDetectorsOutput};
use aws_sdk_guardduty::operation::list_findings::{ListFindingsInput, ListFindingsOutput};
use aws_sdk_guardduty::types::{
    AccessKeyDetails, DetectorFeatureConfigurationResult, DetectorFeatureResult, DetectorStatus,
    FeatureStatus, Finding, FindingPublishingFrequency, FindingStatistics, GroupByType,
    InstanceDetails, Resource, Service, SeverityStatistics,
};
use aws_sdk_guardduty::Client as GuardDuty;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::error::ErrorMetadata;
use common::{collect, csv_row, csv_rows, Emulator};
use soc2_evidence::bundle::manifest::BundleStatus;
use soc2_evidence::collectors::{access_analyzer, guardduty};
use soc2_evidence::error::ExitCode;
use soc2_evidence::evidence::{Evidence, EvidenceParts};
use soc2_evidence::vocab::CallError;
use soc2_evidence::vocab::CollectorStatus;

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";

// ---------------------------------------------------------------------------------------------
// Region-scoped mocks

fn denied(operation: &str) -> ErrorMetadata {
    common::mock::not_authorized("AccessDeniedException", operation)
}

fn rows(dir: &Path, collector: &str, file: &str) -> Vec<BTreeMap<String, String>> {
    csv_rows(&dir.join("evidence").join(collector).join(file))
}

fn headers(dir: &Path, collector: &str, file: &str) -> Vec<String> {
    let mut reader =
        csv::Reader::from_path(dir.join("evidence").join(collector).join(file)).unwrap();
    reader.headers().unwrap().iter().map(String::from).collect()
}

fn read_json(dir: &Path, collector: &str, file: &str) -> serde_json::Value {
    common::read_json(&dir.join("evidence").join(collector).join(file))
}

// ---------------------------------------------------------------------------------------------
// Access Analyzer fixtures (shapes as ListAnalyzers and ListFindingsV2 return them)

const ACCOUNT_ANALYZER: &str =
    "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/ConsoleAnalyzer-3f2c";
const UNUSED_ANALYZER: &str =
    "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/UnusedAccess-90d";
const ORG_ANALYZER: &str = "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/org-wide";
const WEST_ANALYZER: &str =
    "arn:aws:access-analyzer:eu-west-1:123456789012:analyzer/ConsoleAnalyzer-9a1b";

fn analyzer(arn: &str, analyzer_type: Type, status: AnalyzerStatus) -> AnalyzerSummary {
    AnalyzerSummary::builder()
        .arn(arn)
        .name(arn.rsplit('/').next().unwrap())
        .r#type(analyzer_type)
        .created_at(DateTime::from_secs(1_735_689_600)) // 2025-01-01T00:00:00Z
        .last_resource_analyzed("arn:aws:s3:::acme-public-assets")
        .last_resource_analyzed_at(DateTime::from_secs(1_763_769_600))
        .status(status)
        .build()
        .unwrap()
}

fn aa_finding(
    id: &str,
    finding_type: FindingType,
    resource: &str,
    resource_type: ResourceType,
) -> FindingSummaryV2 {
    FindingSummaryV2::builder()
        .id(id)
        .finding_type(finding_type)
        .resource(resource)
        .resource_type(resource_type)
        .resource_owner_account("123456789012")
        .status(FindingStatus::Active)
        .created_at(DateTime::from_secs(1_761_955_200)) // 2025-11-01T00:00:00Z
        .updated_at(DateTime::from_secs(1_762_041_600))
        .analyzed_at(DateTime::from_secs(1_762_041_600))
        .build()
        .unwrap()
}

/// The request asks for every finding of `arn`: every status (the closed ones outside the
/// lookback are dropped by the collector, the listing has no date filter).
fn asks_findings_of(input: &ListFindingsV2Input, arn: &str) -> bool {
    input.analyzer_arn() == Some(arn) && input.filter().is_none_or(|f| f.is_empty())
}

/// A closed finding, last updated `days_ago` days before now.
fn closed_finding(id: &str, status: FindingStatus, days_ago: i64) -> FindingSummaryV2 {
    let updated = chrono::Utc::now().timestamp() - days_ago * 86_400;
    FindingSummaryV2::builder()
        .id(id)
        .finding_type(FindingType::ExternalAccess)
        .resource(format!("arn:aws:s3:::closed-{id}"))
        .resource_type(ResourceType::AwsS3Bucket)
        .resource_owner_account("123456789012")
        .status(status)
        .created_at(DateTime::from_secs(updated - 20 * 86_400))
        .updated_at(DateTime::from_secs(updated))
        .analyzed_at(DateTime::from_secs(updated))
        .build()
        .unwrap()
}

#[tokio::test]
async fn analyzers_of_every_type_and_their_active_findings_over_pages() {
    // us-east-1: two pages of analyzers (external access, unused access, a failed
    // organization analyzer), two pages of findings for the account analyzer.
    let list_east = mock!(AccessAnalyzer::list_analyzers)
        .sequence()
        .output(|| {
            ListAnalyzersOutput::builder()
                .analyzers(analyzer(
                    ACCOUNT_ANALYZER,
                    Type::Account,
                    AnalyzerStatus::Active,
                ))
                .next_token("page-2")
                .build()
                .unwrap()
        })
        .output(|| {
            let unused = AnalyzerSummary::builder()
                .arn(UNUSED_ANALYZER)
                .name("UnusedAccess-90d")
                .r#type(Type::AccountUnusedAccess)
                .created_at(DateTime::from_secs(1_735_689_600))
                .status(AnalyzerStatus::Active)
                .configuration(AnalyzerConfiguration::UnusedAccess(
                    UnusedAccessConfiguration::builder()
                        .unused_access_age(90)
                        .build(),
                ))
                .build()
                .unwrap();
            let org = AnalyzerSummary::builder()
                .arn(ORG_ANALYZER)
                .name("org-wide")
                .r#type(Type::Organization)
                .created_at(DateTime::from_secs(1_735_689_600))
                .status(AnalyzerStatus::Failed)
                .status_reason(
                    StatusReason::builder()
                        .code(ReasonCode::AwsServiceAccessDisabled)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap();
            ListAnalyzersOutput::builder()
                .analyzers(unused)
                .analyzers(org)
                .build()
                .unwrap()
        })
        .build();
    let external_findings =
        mock!(AccessAnalyzer::list_findings_v2)
            .match_requests(|input| asks_findings_of(input, ACCOUNT_ANALYZER))
            .sequence()
            .output(|| {
                ListFindingsV2Output::builder()
                    .findings(aa_finding(
                        "1c9e6f4a-0b6d-4d55-9d7e-2f3b1a111111",
                        FindingType::ExternalAccess,
                        "arn:aws:s3:::acme-public-assets",
                        ResourceType::AwsS3Bucket,
                    ))
                    .findings(aa_finding(
                        "1c9e6f4a-0b6d-4d55-9d7e-2f3b1a222222",
                        FindingType::ExternalAccess,
                        "arn:aws:iam::123456789012:role/partner-readonly",
                        ResourceType::AwsIamRole,
                    ))
                    .next_token("findings-2")
                    .build()
                    .unwrap()
            })
            .output(|| {
                ListFindingsV2Output::builder()
                .findings(aa_finding(
                    "1c9e6f4a-0b6d-4d55-9d7e-2f3b1a333333",
                    FindingType::ExternalAccess,
                    "arn:aws:kms:us-east-1:123456789012:key/0d1f7b52-5e3c-4a8e-9d61-7e2b9c3a4f10",
                    ResourceType::AwsKmsKey,
                ))
                // Archived 10 days ago: kept (within the 365-day lookback); resolved two
                // years ago: dropped.
                .findings(closed_finding("archived-recent", FindingStatus::Archived, 10))
                .findings(closed_finding("resolved-old", FindingStatus::Resolved, 730))
                .build()
                .unwrap()
            })
            .build();
    let unused_findings = mock!(AccessAnalyzer::list_findings_v2)
        .match_requests(|input| asks_findings_of(input, UNUSED_ANALYZER))
        .then_output(|| {
            ListFindingsV2Output::builder()
                .findings(aa_finding(
                    "7e0b5c1d-aaaa-4d55-9d7e-2f3b1a444444",
                    FindingType::UnusedIamRole,
                    "arn:aws:iam::123456789012:role/legacy-deployer",
                    ResourceType::AwsIamRole,
                ))
                .findings(aa_finding(
                    "7e0b5c1d-aaaa-4d55-9d7e-2f3b1a555555",
                    FindingType::UnusedPermission,
                    "arn:aws:iam::123456789012:role/ci-builder",
                    ResourceType::AwsIamRole,
                ))
                .build()
                .unwrap()
        });
    // eu-west-1: no analyzer at all.
    let list_west = mock!(AccessAnalyzer::list_analyzers).then_output(|| {
        ListAnalyzersOutput::builder()
            .set_analyzers(Some(vec![]))
            .build()
            .unwrap()
    });

    let clients = common::mock::regional_clients(&[
        (EAST, vec![&list_east, &external_findings, &unused_findings]),
        (WEST, vec![&list_west]),
    ]);
    let ctx = common::mock::context(&clients, &[EAST, WEST]);
    let dir = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(dir.path(), "access-analyzer");
    access_analyzer::collect(&ctx, &mut out).await.unwrap();
    let EvidenceParts {
        errors,
        notes,
        regions,
        files,
    } = out.into_parts();

    assert_eq!(list_east.num_calls(), 2, "both pages of analyzers");
    assert_eq!(external_findings.num_calls(), 2, "both pages of findings");
    assert_eq!(unused_findings.num_calls(), 1);
    assert_eq!(list_west.num_calls(), 1);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(regions[EAST], CollectorStatus::Collected);
    assert_eq!(regions[WEST], CollectorStatus::Collected);
    assert_eq!(
        notes[access_analyzer::NO_ACTIVE_ANALYZER_NOTE],
        serde_json::json!([WEST])
    );
    let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        names,
        [
            "evidence/access-analyzer/analyzers.csv",
            "evidence/access-analyzer/analyzers.json",
            "evidence/access-analyzer/findings.csv",
            "evidence/access-analyzer/findings.json",
            "evidence/access-analyzer/regions.csv",
        ]
    );

    let analyzers = rows(dir.path(), "access-analyzer", "analyzers.csv");
    assert_eq!(analyzers.len(), 3, "{analyzers:#?}");
    let account = csv_row(&analyzers, "arn", ACCOUNT_ANALYZER);
    assert_eq!(account["region"], EAST);
    assert_eq!(account["name"], "ConsoleAnalyzer-3f2c");
    assert_eq!(account["type"], "ACCOUNT");
    assert_eq!(account["kind"], "external-access");
    assert_eq!(account["status"], "ACTIVE");
    assert_eq!(account["created_at"], "2025-01-01T00:00:00Z");
    assert_eq!(account["active_findings"], "3");
    let unused = csv_row(&analyzers, "arn", UNUSED_ANALYZER);
    assert_eq!(unused["type"], "ACCOUNT_UNUSED_ACCESS");
    assert_eq!(unused["kind"], "unused-access");
    assert_eq!(unused["unused_access_age_days"], "90");
    assert_eq!(unused["active_findings"], "2");
    let org = csv_row(&analyzers, "arn", ORG_ANALYZER);
    assert_eq!(org["status"], "FAILED");
    assert_eq!(org["status_reason"], "AWS_SERVICE_ACCESS_DISABLED");
    assert_eq!(
        org["active_findings"], "",
        "an inactive analyzer is not listed"
    );

    let findings = rows(dir.path(), "access-analyzer", "findings.csv");
    assert_eq!(findings.len(), 6, "{findings:#?}");
    assert!(findings.iter().all(|f| f["region"] == EAST));
    let archived = csv_row(&findings, "id", "archived-recent");
    assert_eq!(archived["status"], "ARCHIVED");
    assert!(
        !findings.iter().any(|f| f["id"] == "resolved-old"),
        "closed before the lookback"
    );
    assert_eq!(
        findings.iter().filter(|f| f["status"] == "ACTIVE").count(),
        5
    );
    let bucket = csv_row(&findings, "resource", "arn:aws:s3:::acme-public-assets");
    assert_eq!(bucket["finding_type"], "ExternalAccess");
    assert_eq!(bucket["resource_type"], "AWS::S3::Bucket");
    assert_eq!(bucket["analyzer_arn"], ACCOUNT_ANALYZER);
    assert_eq!(bucket["analyzer_type"], "ACCOUNT");
    assert_eq!(bucket["resource_owner_account"], "123456789012");
    assert_eq!(bucket["created_at"], "2025-11-01T00:00:00Z");
    let unused_role = csv_row(
        &findings,
        "resource",
        "arn:aws:iam::123456789012:role/legacy-deployer",
    );
    assert_eq!(unused_role["finding_type"], "UnusedIAMRole");
    assert_eq!(unused_role["analyzer_type"], "ACCOUNT_UNUSED_ACCESS");
    let ids: Vec<&str> = findings.iter().map(|f| f["id"].as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| {
        let f = csv_row(&findings, "id", id);
        (
            f["region"].clone(),
            f["analyzer_arn"].clone(),
            id.to_string(),
        )
    });
    assert_eq!(ids, sorted, "rows sorted by region, analyzer, id");

    let regions_table = rows(dir.path(), "access-analyzer", "regions.csv");
    assert_eq!(regions_table.len(), 2);
    let east = csv_row(&regions_table, "region", EAST);
    assert_eq!(east["status"], "collected");
    assert_eq!(east["analyzers"], "3");
    assert_eq!(east["active_analyzers"], "2");
    assert_eq!(east["active_external_access_analyzers"], "1");
    let west = csv_row(&regions_table, "region", WEST);
    assert_eq!(west["status"], "collected");
    assert_eq!(west["analyzers"], "0");
    assert_eq!(west["active_analyzers"], "0");
    assert_eq!(west["active_external_access_analyzers"], "0");

    let json = read_json(dir.path(), "access-analyzer", "findings.json");
    assert_eq!(json.as_array().unwrap().len(), 6);
    let archived = json
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "archived-recent")
        .unwrap();
    assert_eq!(
        archived["days_open"], 20,
        "created 20 days before it was archived"
    );
    assert_eq!(notes["lookback_days"], 365);
    let json = read_json(dir.path(), "access-analyzer", "analyzers.json");
    assert_eq!(json[0]["arn"], ACCOUNT_ANALYZER);
}

#[tokio::test]
async fn a_region_without_analyzer_is_collected_with_empty_tables() {
    let empty = mock!(AccessAnalyzer::list_analyzers).then_output(|| {
        ListAnalyzersOutput::builder()
            .set_analyzers(Some(vec![]))
            .build()
            .unwrap()
    });
    let clients = common::mock::regional_clients(&[(EAST, vec![&empty])]);
    let ctx = common::mock::context(&clients, &[EAST]);
    let dir = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(dir.path(), "access-analyzer");
    access_analyzer::collect(&ctx, &mut out).await.unwrap();
    let parts = out.into_parts();
    assert!(parts.errors.is_empty());
    assert_eq!(parts.regions[EAST], CollectorStatus::Collected);
    assert_eq!(
        parts.notes["regions_without_active_analyzer"],
        serde_json::json!([EAST])
    );
    for file in ["analyzers.csv", "findings.csv"] {
        assert!(
            rows(dir.path(), "access-analyzer", file).is_empty(),
            "{file}"
        );
    }
    assert_eq!(
        headers(dir.path(), "access-analyzer", "analyzers.csv"),
        [
            "region",
            "name",
            "arn",
            "type",
            "kind",
            "status",
            "status_reason",
            "created_at",
            "last_resource_analyzed",
            "last_resource_analyzed_at",
            "unused_access_age_days",
            "active_findings"
        ]
    );
    assert_eq!(
        headers(dir.path(), "access-analyzer", "findings.csv"),
        [
            "region",
            "analyzer_arn",
            "analyzer_type",
            "id",
            "finding_type",
            "resource",
            "resource_type",
            "resource_owner_account",
            "status",
            "created_at",
            "updated_at",
            "analyzed_at",
            "error"
        ]
    );
    assert_eq!(
        read_json(dir.path(), "access-analyzer", "findings.json"),
        serde_json::json!([])
    );
    let regions = rows(dir.path(), "access-analyzer", "regions.csv");
    assert_eq!(regions.len(), 1);
    assert_eq!(regions[0]["status"], "collected");
    assert_eq!(regions[0]["analyzers"], "0");
    assert_eq!(regions[0]["active_analyzers"], "0");
}

#[tokio::test]
async fn access_analyzer_denied_in_one_region_is_partial_and_names_region_and_operation() {
    let denied_east = mock!(AccessAnalyzer::list_analyzers)
        .then_error(|| ListAnalyzersError::generic(denied("access-analyzer:ListAnalyzers")));
    let list_west = mock!(AccessAnalyzer::list_analyzers).then_output(|| {
        ListAnalyzersOutput::builder()
            .analyzers(analyzer(
                WEST_ANALYZER,
                Type::Account,
                AnalyzerStatus::Active,
            ))
            .build()
            .unwrap()
    });
    let findings_west = mock!(AccessAnalyzer::list_findings_v2)
        .match_requests(|input| asks_findings_of(input, WEST_ANALYZER))
        .then_output(|| {
            ListFindingsV2Output::builder()
                .set_findings(Some(vec![]))
                .build()
                .unwrap()
        });
    let identity = common::mock::caller_identity();
    let clients = common::mock::regional_clients(&[
        (EAST, vec![&identity, &denied_east]),
        (WEST, vec![&list_west, &findings_west]),
    ]);
    let out = tempfile::tempdir().unwrap();
    let config = common::mock::config(out.path(), &["access-analyzer"], &[EAST, WEST]);
    let outcome = soc2_evidence::run::collect_with(&config, clients)
        .await
        .unwrap();

    assert_eq!(outcome.exit_code(), ExitCode::Incomplete);
    assert_eq!(outcome.manifest.status, BundleStatus::Incomplete);
    let record = &outcome.manifest.collectors[0];
    assert_eq!(record.id, "access-analyzer");
    assert_eq!(record.status, CollectorStatus::Partial);
    assert_eq!(record.errors.len(), 1, "{:?}", record.errors);
    let error: &CallError = &record.errors[0];
    assert_eq!(error.region, EAST);
    assert_eq!(error.operation, "ListAnalyzers");
    assert_eq!(error.code, "AccessDeniedException");
    assert!(
        error.message.contains("not authorized"),
        "{}",
        error.message
    );
    assert_eq!(denied_east.num_calls(), 1, "AccessDenied is not retried");
    assert_eq!(findings_west.num_calls(), 1);
    let status: BTreeMap<&str, CollectorStatus> = record
        .regions
        .iter()
        .map(|r| (r.region.as_str(), r.status))
        .collect();
    assert_eq!(status[EAST], CollectorStatus::Failed);
    assert_eq!(status[WEST], CollectorStatus::Collected);

    let dir = &outcome.paths.directory;
    let regions = rows(dir, "access-analyzer", "regions.csv");
    let east = csv_row(&regions, "region", EAST);
    assert_eq!(east["status"], "failed");
    assert_eq!(east["analyzers"], "", "unknown, not zero");
    assert_eq!(east["active_analyzers"], "");
    let west = csv_row(&regions, "region", WEST);
    assert_eq!(west["status"], "collected");
    assert_eq!(west["active_analyzers"], "1");
    let analyzers = rows(dir, "access-analyzer", "analyzers.csv");
    assert_eq!(analyzers.len(), 1);
    assert_eq!(analyzers[0]["region"], WEST);
    assert_eq!(analyzers[0]["active_findings"], "0");
    assert_eq!(
        record.notes["regions_without_active_analyzer"],
        serde_json::json!([]),
        "a region that could not be read is not reported as without analyzer"
    );
}

#[tokio::test]
async fn findings_denied_for_one_analyzer_keeps_the_analyzers() {
    let list = mock!(AccessAnalyzer::list_analyzers).then_output(|| {
        ListAnalyzersOutput::builder()
            .analyzers(analyzer(
                ACCOUNT_ANALYZER,
                Type::Account,
                AnalyzerStatus::Active,
            ))
            .build()
            .unwrap()
    });
    let findings = mock!(AccessAnalyzer::list_findings_v2).then_error(|| {
        aws_sdk_accessanalyzer::operation::list_findings_v2::ListFindingsV2Error::generic(denied(
            "access-analyzer:ListFindings",
        ))
    });
    let clients = common::mock::regional_clients(&[(EAST, vec![&list, &findings])]);
    let ctx = common::mock::context(&clients, &[EAST]);
    let dir = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(dir.path(), "access-analyzer");
    access_analyzer::collect(&ctx, &mut out).await.unwrap();
    let parts = out.into_parts();
    assert_eq!(parts.errors.len(), 1);
    assert_eq!(parts.errors[0].operation, "ListFindingsV2");
    assert_eq!(parts.errors[0].region, EAST);
    assert_eq!(parts.regions[EAST], CollectorStatus::Partial);
    let analyzers = rows(dir.path(), "access-analyzer", "analyzers.csv");
    assert_eq!(analyzers.len(), 1);
    assert_eq!(analyzers[0]["active_findings"], "", "unknown, not zero");
    let regions = rows(dir.path(), "access-analyzer", "regions.csv");
    assert_eq!(regions[0]["status"], "partial");
    assert_eq!(regions[0]["active_analyzers"], "1");
}

// ---------------------------------------------------------------------------------------------
// GuardDuty fixtures

const DETECTOR: &str = "6ab8e0b1a2c34d5e6f7a8b9c0d1e2f3a";
const WEST_DETECTOR: &str = "1cb8e0b1a2c34d5e6f7a8b9c0d1e2f99";

fn enabled_detector() -> GetDetectorOutput {
    GetDetectorOutput::builder()
        .created_at("2024-03-12T09:15:22.123Z")
        .updated_at("2025-10-01T17:02:11.456Z")
        .status(DetectorStatus::Enabled)
        .finding_publishing_frequency(FindingPublishingFrequency::FifteenMinutes)
        .service_role(
            "arn:aws:iam::123456789012:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
        )
        .features(
            DetectorFeatureConfigurationResult::builder()
                .name(DetectorFeatureResult::CloudTrail)
                .status(FeatureStatus::Enabled)
                .build(),
        )
        .features(
            DetectorFeatureConfigurationResult::builder()
                .name(DetectorFeatureResult::S3DataEvents)
                .status(FeatureStatus::Enabled)
                .build(),
        )
        .features(
            DetectorFeatureConfigurationResult::builder()
                .name(DetectorFeatureResult::EksAuditLogs)
                .status(FeatureStatus::Disabled)
                .build(),
        )
        .tags("owner", "secops")
        .build()
}

fn is_unarchived(
    criterion: Option<&std::collections::HashMap<String, aws_sdk_guardduty::types::Condition>>,
) -> bool {
    criterion
        .and_then(|c| c.get("service.archived"))
        .is_some_and(|c| c.equals() == ["false"])
}

fn stats_asked_right(input: &GetFindingsStatisticsInput) -> bool {
    input.group_by() == Some(&GroupByType::Severity)
        && is_unarchived(input.finding_criteria().and_then(|c| c.criterion()))
}

/// The lookback window's statistics: every finding updated since a date, archived or not.
fn window_stats_asked(input: &GetFindingsStatisticsInput) -> bool {
    let criterion = input.finding_criteria().and_then(|c| c.criterion());
    input.group_by() == Some(&GroupByType::Severity)
        && criterion
            .and_then(|c| c.get("updatedAt"))
            .is_some_and(|c| c.greater_than_or_equal().is_some())
        && criterion.is_some_and(|c| !c.contains_key("service.archived"))
}

/// The archived (reviewed) severe findings of the lookback window.
fn archived_list_asked(input: &ListFindingsInput) -> bool {
    let criterion = input.finding_criteria().and_then(|c| c.criterion());
    criterion
        .and_then(|c| c.get("service.archived"))
        .is_some_and(|c| c.equals() == ["true"])
        && criterion
            .and_then(|c| c.get("severity"))
            .is_some_and(|c| c.greater_than_or_equal() == Some(7))
        && criterion
            .and_then(|c| c.get("updatedAt"))
            .is_some_and(|c| c.greater_than_or_equal().is_some())
}

fn list_asked_right(input: &ListFindingsInput) -> bool {
    let criterion = input.finding_criteria().and_then(|c| c.criterion());
    is_unarchived(criterion)
        && criterion
            .and_then(|c| c.get("severity"))
            .is_some_and(|c| c.greater_than_or_equal() == Some(7))
}

fn finding_ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:03}")).collect()
}

/// A finding as GetFindings returns it: ids ending in 0 are Critical (9.0) attack sequences on
/// an access key, the others High (8.0) SSH brute force against an instance.
fn gd_finding(id: &str) -> Finding {
    let critical = id.ends_with('0');
    let resource = if critical {
        Resource::builder()
            .resource_type("AccessKey")
            .access_key_details(
                AccessKeyDetails::builder()
                    .access_key_id("ASIAEXAMPLEKEY")
                    .principal_id("AROAEXAMPLE:ci")
                    .user_name("ci")
                    .user_type("AssumedRole")
                    .build(),
            )
            .build()
    } else {
        Resource::builder()
            .resource_type("Instance")
            .instance_details(
                InstanceDetails::builder()
                    .instance_id("i-0a1b2c3d4e5f67890")
                    .build(),
            )
            .build()
    };
    Finding::builder()
        .account_id("123456789012")
        .arn(format!(
            "arn:aws:guardduty:us-east-1:123456789012:detector/{DETECTOR}/finding/{id}"
        ))
        .created_at("2025-11-20T08:00:00.000Z")
        .updated_at("2025-11-21T08:00:00.000Z")
        .id(id)
        .partition("aws")
        .region(EAST)
        .schema_version("2.0")
        .severity(if critical { 9.0 } else { 8.0 })
        .title(if critical {
            "Potential data compromise of S3 buckets."
        } else {
            "198.51.100.7 is performing SSH brute force attacks against i-0a1b2c3d4e5f67890."
        })
        .r#type(if critical {
            "AttackSequence:S3/CompromisedData"
        } else {
            "UnauthorizedAccess:EC2/SSHBruteForce"
        })
        .description("Sample description.")
        .resource(resource)
        .service(
            Service::builder()
                .archived(id.starts_with("archived"))
                .count(3)
                .detector_id(DETECTOR)
                .event_first_seen("2025-11-20T07:55:00.000Z")
                .event_last_seen("2025-11-21T07:55:00.000Z")
                .service_name("guardduty")
                .build(),
        )
        .build()
}

fn severity(value: f64, findings: i32) -> SeverityStatistics {
    SeverityStatistics::builder()
        .severity(value)
        .total_findings(findings)
        .last_generated_at(DateTime::from_secs(1_763_712_000))
        .build()
}

fn no_detector() -> Rule {
    mock!(GuardDuty::list_detectors).then_output(|| {
        ListDetectorsOutput::builder()
            .set_detector_ids(Some(vec![]))
            .build()
    })
}

#[tokio::test]
async fn detector_counts_by_band_and_high_findings_over_pages_and_batches() {
    // Two pages of detector ids (the second empty, as AWS may answer), 72 severe findings over
    // two ListFindings pages, fetched by GetFindings 50 at most at a time.
    let list_detectors = mock!(GuardDuty::list_detectors)
        .sequence()
        .output(|| {
            ListDetectorsOutput::builder()
                .detector_ids(DETECTOR)
                .next_token("page-2")
                .build()
        })
        .output(|| {
            ListDetectorsOutput::builder()
                .set_detector_ids(Some(vec![]))
                .build()
        })
        .build();
    let get_detector = mock!(GuardDuty::get_detector)
        .match_requests(|input| input.detector_id() == Some(DETECTOR))
        .then_output(enabled_detector);
    let statistics = mock!(GuardDuty::get_findings_statistics)
        .match_requests(|input| input.detector_id() == Some(DETECTOR) && stats_asked_right(input))
        .then_output(|| {
            GetFindingsStatisticsOutput::builder()
                .finding_statistics(
                    FindingStatistics::builder()
                        .grouped_by_severity(severity(9.0, 8))
                        .grouped_by_severity(severity(8.0, 64))
                        .grouped_by_severity(severity(5.0, 11))
                        .grouped_by_severity(severity(6.9, 1))
                        .grouped_by_severity(severity(2.0, 30))
                        .build(),
                )
                .build()
        });
    let window = mock!(GuardDuty::get_findings_statistics)
        .match_requests(|input| input.detector_id() == Some(DETECTOR) && window_stats_asked(input))
        .then_output(|| {
            GetFindingsStatisticsOutput::builder()
                .finding_statistics(
                    FindingStatistics::builder()
                        .grouped_by_severity(severity(9.0, 9))
                        .grouped_by_severity(severity(8.0, 70))
                        .grouped_by_severity(severity(3.0, 40))
                        .build(),
                )
                .build()
        });
    let archived_list = mock!(GuardDuty::list_findings)
        .match_requests(|input| input.detector_id() == Some(DETECTOR) && archived_list_asked(input))
        .then_output(|| {
            ListFindingsOutput::builder()
                .finding_ids("archived-high-001")
                .build()
        });
    let ids = finding_ids("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c", 72);
    let (first, second) = (ids[..50].to_vec(), ids[50..].to_vec());
    let list_findings = mock!(GuardDuty::list_findings)
        .match_requests(|input| input.detector_id() == Some(DETECTOR) && list_asked_right(input))
        .sequence()
        .output(move || {
            ListFindingsOutput::builder()
                .set_finding_ids(Some(first.clone()))
                .next_token("findings-2")
                .build()
        })
        .output(move || {
            ListFindingsOutput::builder()
                .set_finding_ids(Some(second.clone()))
                .build()
        })
        .build();
    let get_findings = mock!(GuardDuty::get_findings)
        .match_requests(|input: &GetFindingsInput| input.detector_id() == Some(DETECTOR))
        .then_compute_output(|input| {
            let ids = input.finding_ids();
            assert!(
                !ids.is_empty() && ids.len() <= 50,
                "GetFindings takes 1 to 50 ids, got {}",
                ids.len()
            );
            GetFindingsOutput::builder()
                .set_findings(Some(ids.iter().map(|id| gd_finding(id)).collect()))
                .build()
        });
    let west = no_detector();

    let clients = common::mock::regional_clients(&[
        (
            EAST,
            vec![
                &list_detectors,
                &get_detector,
                &statistics,
                &window,
                &list_findings,
                &archived_list,
                &get_findings,
            ],
        ),
        (WEST, vec![&west]),
    ]);
    let ctx = common::mock::context(&clients, &[EAST, WEST]);
    let dir = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(dir.path(), "guardduty");
    guardduty::collect(&ctx, &mut out).await.unwrap();
    let parts = out.into_parts();

    assert_eq!(list_detectors.num_calls(), 2, "both pages of detectors");
    assert_eq!(get_detector.num_calls(), 1);
    assert_eq!(statistics.num_calls(), 1);
    assert_eq!(window.num_calls(), 1);
    assert_eq!(list_findings.num_calls(), 2, "both pages of finding ids");
    assert_eq!(archived_list.num_calls(), 1);
    assert_eq!(get_findings.num_calls(), 2, "73 ids = batches of 50 and 23");
    assert_eq!(west.num_calls(), 1);
    assert!(parts.errors.is_empty(), "{:?}", parts.errors);
    assert_eq!(parts.regions[EAST], CollectorStatus::Collected);
    assert_eq!(parts.regions[WEST], CollectorStatus::Collected);
    assert_eq!(
        parts.notes[guardduty::NO_ENABLED_DETECTOR_NOTE],
        serde_json::json!([WEST])
    );

    let detectors = rows(dir.path(), "guardduty", "detectors.csv");
    assert_eq!(detectors.len(), 1);
    let d = &detectors[0];
    assert_eq!(d["region"], EAST);
    assert_eq!(d["detector_id"], DETECTOR);
    assert_eq!(d["status"], "ENABLED");
    assert_eq!(d["created_at"], "2024-03-12T09:15:22.123Z");
    assert_eq!(d["updated_at"], "2025-10-01T17:02:11.456Z");
    assert_eq!(d["finding_publishing_frequency"], "FIFTEEN_MINUTES");
    assert_eq!(
        d["features"],
        "CLOUD_TRAIL=ENABLED;EKS_AUDIT_LOGS=DISABLED;S3_DATA_EVENTS=ENABLED"
    );
    let json = read_json(dir.path(), "guardduty", "detectors.json");
    assert_eq!(json[0]["tags"]["owner"], "secops");
    assert_eq!(json[0]["features"].as_array().unwrap().len(), 3);

    let counts = rows(dir.path(), "guardduty", "finding-counts.csv");
    assert_eq!(counts.len(), 1);
    let c = &counts[0];
    assert_eq!(c["detector_id"], DETECTOR);
    assert_eq!(
        (
            c["low"].as_str(),
            c["medium"].as_str(),
            c["high"].as_str(),
            c["critical"].as_str(),
            c["total"].as_str()
        ),
        ("30", "12", "64", "8", "114")
    );
    assert_eq!(
        c["severe_listed"], "72",
        "high + critical, as listed one by one"
    );
    let json = read_json(dir.path(), "guardduty", "finding-counts.json");
    assert_eq!(json[0]["severity_groups"].as_array().unwrap().len(), 5);
    let lookback = &json[0]["lookback"];
    assert_eq!(
        (
            &lookback["low"],
            &lookback["high"],
            &lookback["critical"],
            &lookback["total"]
        ),
        (
            &serde_json::json!(40),
            &serde_json::json!(70),
            &serde_json::json!(9),
            &serde_json::json!(119)
        ),
        "{lookback:#}"
    );
    assert!(lookback["since"].as_str().unwrap().ends_with('Z'));

    let findings = rows(dir.path(), "guardduty", "findings.csv");
    assert_eq!(findings.len(), 73);
    let listed: Vec<&str> = findings.iter().map(|f| f["id"].as_str()).collect();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.push("archived-high-001");
    assert_eq!(listed, expected, "every id once, sorted");
    let reviewed = csv_row(&findings, "id", "archived-high-001");
    assert_eq!(reviewed["archived"], "true");
    let critical = csv_row(&findings, "id", &ids[10]);
    assert_eq!(critical["severity"], "9.0");
    assert_eq!(critical["severity_band"], "critical");
    assert_eq!(critical["type"], "AttackSequence:S3/CompromisedData");
    assert_eq!(critical["resource_type"], "AccessKey");
    assert_eq!(critical["resource_id"], "ASIAEXAMPLEKEY");
    let high = csv_row(&findings, "id", &ids[11]);
    assert_eq!(high["severity"], "8.0");
    assert_eq!(high["severity_band"], "high");
    assert_eq!(high["type"], "UnauthorizedAccess:EC2/SSHBruteForce");
    assert_eq!(high["resource_id"], "i-0a1b2c3d4e5f67890");
    assert_eq!(high["count"], "3");
    assert_eq!(high["archived"], "false");
    assert_eq!(high["account_id"], "123456789012");
    assert_eq!(high["created_at"], "2025-11-20T08:00:00.000Z");
    let json = read_json(dir.path(), "guardduty", "findings.json");
    assert_eq!(json.as_array().unwrap().len(), 73);
    assert_eq!(json[0]["event_last_seen"], "2025-11-21T07:55:00.000Z");

    let regions = rows(dir.path(), "guardduty", "regions.csv");
    assert_eq!(regions.len(), 2);
    let east = csv_row(&regions, "region", EAST);
    assert_eq!(
        (
            east["status"].as_str(),
            east["detectors"].as_str(),
            east["enabled_detectors"].as_str()
        ),
        ("collected", "1", "1")
    );
    let west_row = csv_row(&regions, "region", WEST);
    assert_eq!(
        (
            west_row["status"].as_str(),
            west_row["detectors"].as_str(),
            west_row["enabled_detectors"].as_str()
        ),
        ("collected", "0", "0")
    );
}

#[tokio::test]
async fn a_region_without_detector_is_collected_with_empty_tables() {
    let none = no_detector();
    let clients = common::mock::regional_clients(&[(EAST, vec![&none])]);
    let ctx = common::mock::context(&clients, &[EAST]);
    let dir = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(dir.path(), "guardduty");
    guardduty::collect(&ctx, &mut out).await.unwrap();
    let parts = out.into_parts();
    assert!(parts.errors.is_empty());
    assert_eq!(parts.regions[EAST], CollectorStatus::Collected);
    assert_eq!(
        parts.notes["regions_without_enabled_detector"],
        serde_json::json!([EAST])
    );
    for (file, expected) in [
        (
            "detectors.csv",
            &[
                "region",
                "detector_id",
                "status",
                "created_at",
                "updated_at",
                "finding_publishing_frequency",
                "service_role",
                "features",
            ][..],
        ),
        (
            "finding-counts.csv",
            &[
                "region",
                "detector_id",
                "low",
                "medium",
                "high",
                "critical",
                "total",
                "severe_listed",
            ][..],
        ),
        (
            "findings.csv",
            &[
                "region",
                "detector_id",
                "id",
                "type",
                "severity",
                "severity_band",
                "title",
                "resource_type",
                "resource_id",
                "account_id",
                "created_at",
                "updated_at",
                "count",
                "archived",
            ][..],
        ),
    ] {
        assert!(rows(dir.path(), "guardduty", file).is_empty(), "{file}");
        assert_eq!(headers(dir.path(), "guardduty", file), expected, "{file}");
    }
    let regions = rows(dir.path(), "guardduty", "regions.csv");
    assert_eq!(regions.len(), 1);
    assert_eq!(regions[0]["status"], "collected");
    assert_eq!(regions[0]["detectors"], "0");
    assert_eq!(regions[0]["enabled_detectors"], "0");
}

#[tokio::test]
async fn guardduty_denied_in_one_region_is_partial_and_names_region_and_operation() {
    let denied_east = mock!(GuardDuty::list_detectors)
        .then_error(|| ListDetectorsError::generic(denied("guardduty:ListDetectors")));
    let list_west = mock!(GuardDuty::list_detectors).then_output(|| {
        ListDetectorsOutput::builder()
            .detector_ids(WEST_DETECTOR)
            .build()
    });
    let detector_west = mock!(GuardDuty::get_detector).then_output(|| {
        GetDetectorOutput::builder()
            .created_at("2024-03-12T09:15:22.123Z")
            .status(DetectorStatus::Disabled)
            .finding_publishing_frequency(FindingPublishingFrequency::SixHours)
            .build()
    });
    let stats_west = mock!(GuardDuty::get_findings_statistics).then_output(|| {
        GetFindingsStatisticsOutput::builder()
            .finding_statistics(FindingStatistics::builder().build())
            .build()
    });
    let list_west_findings = mock!(GuardDuty::list_findings).then_output(|| {
        ListFindingsOutput::builder()
            .set_finding_ids(Some(vec![]))
            .build()
    });
    let identity = common::mock::caller_identity();
    let clients = common::mock::regional_clients(&[
        (EAST, vec![&identity, &denied_east]),
        (
            WEST,
            vec![&list_west, &detector_west, &stats_west, &list_west_findings],
        ),
    ]);
    let out = tempfile::tempdir().unwrap();
    let config = common::mock::config(out.path(), &["guardduty"], &[EAST, WEST]);
    let outcome = soc2_evidence::run::collect_with(&config, clients)
        .await
        .unwrap();

    assert_eq!(outcome.exit_code(), ExitCode::Incomplete);
    let record = &outcome.manifest.collectors[0];
    assert_eq!(record.id, "guardduty");
    assert_eq!(record.status, CollectorStatus::Partial);
    assert_eq!(record.errors.len(), 1, "{:?}", record.errors);
    assert_eq!(record.errors[0].region, EAST);
    assert_eq!(record.errors[0].operation, "ListDetectors");
    assert_eq!(record.errors[0].code, "AccessDeniedException");
    let status: BTreeMap<&str, CollectorStatus> = record
        .regions
        .iter()
        .map(|r| (r.region.as_str(), r.status))
        .collect();
    assert_eq!(status[EAST], CollectorStatus::Failed);
    assert_eq!(status[WEST], CollectorStatus::Collected);
    assert_eq!(
        record.notes["regions_without_enabled_detector"],
        serde_json::json!([WEST]),
        "the disabled detector counts as none enabled; the unread region is not claimed"
    );

    let dir = &outcome.paths.directory;
    let regions = rows(dir, "guardduty", "regions.csv");
    let east = csv_row(&regions, "region", EAST);
    assert_eq!(east["status"], "failed");
    assert_eq!(east["detectors"], "", "unknown, not zero");
    let west = csv_row(&regions, "region", WEST);
    assert_eq!(
        (
            west["status"].as_str(),
            west["detectors"].as_str(),
            west["enabled_detectors"].as_str()
        ),
        ("collected", "1", "0")
    );
    let detectors = rows(dir, "guardduty", "detectors.csv");
    assert_eq!(detectors.len(), 1);
    assert_eq!(detectors[0]["status"], "DISABLED");
    let counts = rows(dir, "guardduty", "finding-counts.csv");
    assert_eq!(counts[0]["total"], "0");
}

#[tokio::test]
async fn statistics_denied_keeps_the_detector_and_the_findings() {
    let list = mock!(GuardDuty::list_detectors).then_output(|| {
        ListDetectorsOutput::builder()
            .detector_ids(DETECTOR)
            .build()
    });
    let detector = mock!(GuardDuty::get_detector).then_output(enabled_detector);
    let stats = mock!(GuardDuty::get_findings_statistics).then_error(|| {
        GetFindingsStatisticsError::generic(denied("guardduty:GetFindingsStatistics"))
    });
    let ids = mock!(GuardDuty::list_findings)
        .then_output(|| ListFindingsOutput::builder().finding_ids("f001").build());
    let details = mock!(GuardDuty::get_findings).then_compute_output(|input| {
        GetFindingsOutput::builder()
            .set_findings(Some(
                input
                    .finding_ids()
                    .iter()
                    .map(|id| gd_finding(id))
                    .collect(),
            ))
            .build()
    });
    let clients =
        common::mock::regional_clients(&[(EAST, vec![&list, &detector, &stats, &ids, &details])]);
    let ctx = common::mock::context(&clients, &[EAST]);
    let dir = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(dir.path(), "guardduty");
    guardduty::collect(&ctx, &mut out).await.unwrap();
    let parts = out.into_parts();
    // Both statistics (the unarchived counts and the lookback window's) are refused.
    assert_eq!(parts.errors.len(), 2, "{:?}", parts.errors);
    assert!(parts
        .errors
        .iter()
        .all(|e| e.operation == "GetFindingsStatistics"));
    assert_eq!(parts.errors[0].region, EAST);
    assert_eq!(parts.errors[0].code, "AccessDeniedException");
    assert_eq!(parts.regions[EAST], CollectorStatus::Partial);
    let counts = rows(dir.path(), "guardduty", "finding-counts.csv");
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0]["high"], "", "unknown, not zero");
    assert_eq!(counts[0]["total"], "");
    assert_eq!(
        rows(dir.path(), "guardduty", "detectors.csv")[0]["status"],
        "ENABLED"
    );
    let findings = rows(dir.path(), "guardduty", "findings.csv");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["severity_band"], "high");
    assert_eq!(
        rows(dir.path(), "guardduty", "regions.csv")[0]["status"],
        "partial"
    );
}

// ---------------------------------------------------------------------------------------------
// GuardDuty against the emulator: moto has detectors, but neither statistics nor findings.

async fn seed_detector(emulator: &Emulator, region: &str) -> String {
    let config = aws_sdk_guardduty::Config::builder()
        .behavior_version(aws_sdk_guardduty::config::BehaviorVersion::latest())
        .region(aws_sdk_guardduty::config::Region::new(region.to_string()))
        .endpoint_url(&emulator.url)
        .credentials_provider(aws_sdk_guardduty::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .build();
    let client = GuardDuty::from_conf(config);
    client
        .create_detector()
        .enable(true)
        .finding_publishing_frequency(FindingPublishingFrequency::OneHour)
        .features(
            aws_sdk_guardduty::types::DetectorFeatureConfiguration::builder()
                .name(aws_sdk_guardduty::types::DetectorFeature::S3DataEvents)
                .status(FeatureStatus::Enabled)
                .build(),
        )
        .tags("owner", "secops")
        .send()
        .await
        .unwrap()
        .detector_id()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn guardduty_on_the_emulator_reads_detectors_and_records_what_moto_lacks() {
    let emulator = Emulator::start();
    let detector = seed_detector(&emulator, EAST).await;
    let out = tempfile::tempdir().unwrap();
    let (code, summary) = collect(
        &emulator,
        out.path(),
        &[
            "--region",
            WEST,
            "--collector",
            "guardduty",
            "--max-attempts",
            "1",
        ],
    );
    assert_eq!(code, 3, "{summary:#}");
    assert_eq!(summary["status"], "incomplete");
    let collector = &summary["collectors"][0];
    assert_eq!(collector["id"], "guardduty");
    assert_eq!(collector["status"], "partial", "{summary:#}");

    // moto answers GetFindingsStatistics and ListFindings with an error page: each call
    // (unarchived and lookback statistics, open and archived listings) recorded,
    // with operation and region, and only in the region that has a detector.
    let errors = collector["errors"].as_array().unwrap();
    let failed: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap(),
                e["region"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            ("GetFindingsStatistics", EAST),
            ("GetFindingsStatistics", EAST),
            ("ListFindings", EAST),
            ("ListFindings", EAST)
        ],
        "GetDetector and ListDetectors work on moto: {errors:#?}"
    );

    let dir = Path::new(summary["bundle"]["directory"].as_str().unwrap());
    let detectors = rows(dir, "guardduty", "detectors.csv");
    assert_eq!(detectors.len(), 1, "{detectors:#?}");
    let d = &detectors[0];
    assert_eq!(d["region"], EAST);
    assert_eq!(d["detector_id"], detector);
    assert_eq!(d["status"], "ENABLED");
    assert_eq!(d["finding_publishing_frequency"], "ONE_HOUR");
    assert_eq!(d["features"], "S3_DATA_EVENTS=ENABLED");
    assert!(!d["created_at"].is_empty());

    let regions = rows(dir, "guardduty", "regions.csv");
    assert_eq!(regions.len(), 2);
    let east = csv_row(&regions, "region", EAST);
    assert_eq!(
        (
            east["status"].as_str(),
            east["detectors"].as_str(),
            east["enabled_detectors"].as_str()
        ),
        ("partial", "1", "1")
    );
    let west = csv_row(&regions, "region", WEST);
    assert_eq!(
        (
            west["status"].as_str(),
            west["detectors"].as_str(),
            west["enabled_detectors"].as_str()
        ),
        ("collected", "0", "0")
    );
    let counts = rows(dir, "guardduty", "finding-counts.csv");
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0]["detector_id"], detector);
    assert_eq!(counts[0]["total"], "", "statistics unknown, not zero");
    assert_eq!(
        counts[0]["severe_listed"], "",
        "listing failed: unknown, not zero"
    );
    assert!(rows(dir, "guardduty", "findings.csv").is_empty());

    let manifest = common::read_json(&dir.join("manifest.json"));
    let record = &manifest["collectors"][0];
    assert_eq!(
        record["notes"]["regions_without_enabled_detector"],
        serde_json::json!([WEST])
    );
    let region_status: BTreeMap<&str, &str> = record["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["region"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(region_status[EAST], "partial");
    assert_eq!(region_status[WEST], "collected");
    assert_eq!(
        record["api_retries"], 0,
        "--max-attempts 1: no retry of moto's errors"
    );
}

#[tokio::test]
async fn a_denied_archived_listing_keeps_the_open_findings_and_is_recorded() {
    let list = mock!(GuardDuty::list_detectors).then_output(|| {
        ListDetectorsOutput::builder()
            .detector_ids(DETECTOR)
            .build()
    });
    let detector = mock!(GuardDuty::get_detector).then_output(enabled_detector);
    let stats = mock!(GuardDuty::get_findings_statistics).then_output(|| {
        GetFindingsStatisticsOutput::builder()
            .finding_statistics(FindingStatistics::builder().build())
            .build()
    });
    let archived_denied = mock!(GuardDuty::list_findings)
        .match_requests(archived_list_asked)
        .then_error(|| {
            aws_sdk_guardduty::operation::list_findings::ListFindingsError::generic(denied(
                "guardduty:ListFindings",
            ))
        });
    let open = mock!(GuardDuty::list_findings)
        .match_requests(list_asked_right)
        .then_output(|| ListFindingsOutput::builder().finding_ids("f001").build());
    let details = mock!(GuardDuty::get_findings).then_compute_output(|input| {
        GetFindingsOutput::builder()
            .set_findings(Some(
                input
                    .finding_ids()
                    .iter()
                    .map(|id| gd_finding(id))
                    .collect(),
            ))
            .build()
    });
    let clients = common::mock::regional_clients(&[(
        EAST,
        vec![&list, &detector, &stats, &archived_denied, &open, &details],
    )]);
    let ctx = common::mock::context(&clients, &[EAST]);
    let dir = tempfile::tempdir().unwrap();
    let mut out = Evidence::new(dir.path(), "guardduty");
    guardduty::collect(&ctx, &mut out).await.unwrap();
    let parts = out.into_parts();
    assert_eq!(parts.errors.len(), 1, "{:?}", parts.errors);
    assert_eq!(parts.errors[0].operation, "ListFindings");
    assert_eq!(parts.errors[0].region, EAST);
    assert_eq!(parts.regions[EAST], CollectorStatus::Partial);
    let findings = rows(dir.path(), "guardduty", "findings.csv");
    let ids: Vec<&str> = findings.iter().map(|f| f["id"].as_str()).collect();
    assert_eq!(ids, ["f001"], "the open finding is kept");
    assert_eq!(
        rows(dir.path(), "guardduty", "finding-counts.csv")[0]["severe_listed"],
        "1"
    );
}
