//! The rules over regional and account-wide services of SPEC section 5: IAM Access Analyzer,
//! CloudTrail, GuardDuty, security groups, S3 public access and KMS key rotation.
//!
//! Each rule reads the tables its collector wrote. What the rules agree on:
//! - A covered region the collector could not read (`Input::region_collected` false, or
//!   `failed` in the collector's `regions.csv`) gives neither a finding nor a pass: it is
//!   skipped, and the engine marks the rule partial from the collector's errors.
//! - An empty cell means "unknown because a call failed" (the collectors' convention): a row
//!   whose deciding cell is empty is skipped, never taken for `false`. A bucket row with
//!   `failed_calls` is skipped whole.
//! - Account-wide findings (no multi-region trail, the account's S3 block) name the account
//!   root (`arn:<partition>:iam::<account>:root`) with region `global`; a region-level gap (no
//!   analyzer, no detector) names the service's region-level resource
//!   (`arn:<partition>:guardduty:<region>:<account>:detector`).
//! - `trails.csv` holds each trail once (deduplicated by ARN, in its home region), so the
//!   per-trail rules give one finding per trail, never one per region it is seen in.
//! - `cloudtrail-delivery` judges logging trails only: a stopped trail delivers nothing by
//!   design, and a stopped trail matters when no other trail covers the account, which
//!   `cloudtrail-multi-region` reports already. A logging trail gets a finding when its latest
//!   delivery failed, or when it has logged for more than 24 hours before the run without a
//!   delivery in the last 24 hours.
//! - The security group rules compute which ports a rule opens from its protocol and port
//!   range (the same definition the collector uses), not from the precomputed columns. A rule
//!   open to all traffic fires all three rules (distinct benchmark controls); a port is counted
//!   under the admin rule (22, 3389) or the sensitive rule (the other ports of SPEC section 7),
//!   never both.

use std::collections::BTreeMap;

use super::input::{Input, Row};
use super::{Needs, Out, RuleSpec};
use crate::controls::Control;
use crate::judge::detection::{analyzer_kind, Band};
use crate::judge::network::{
    covered_ports, is_all_traffic, is_world, Protocol, ADMIN_PORTS, SENSITIVE_PORTS,
};
use crate::vocab::Severity;

const ACCESS_ANALYZER: &str = "access-analyzer";
const CLOUDTRAIL: &str = "cloudtrail";
const GUARDDUTY: &str = "guardduty";
const SECURITY_GROUPS: &str = "ec2-security-groups";
const S3: &str = "s3-public-access";
const KMS: &str = "kms-key-rotation";

const ANALYZERS_CSV: &str = "evidence/access-analyzer/analyzers.csv";
const ANALYZER_FINDINGS_CSV: &str = "evidence/access-analyzer/findings.csv";
const ANALYZER_REGIONS_CSV: &str = "evidence/access-analyzer/regions.csv";
const TRAILS_CSV: &str = "evidence/cloudtrail/trails.csv";
const DETECTORS_CSV: &str = "evidence/guardduty/detectors.csv";
const FINDING_COUNTS_CSV: &str = "evidence/guardduty/finding-counts.csv";
const GUARDDUTY_FINDINGS_CSV: &str = "evidence/guardduty/findings.csv";
const GUARDDUTY_REGIONS_CSV: &str = "evidence/guardduty/regions.csv";
const OPEN_TO_WORLD_CSV: &str = "evidence/ec2-security-groups/open-to-world.csv";
const ACCOUNT_BLOCK_JSON: &str = "evidence/s3-public-access/account-public-access-block.json";
const BUCKETS_CSV: &str = "evidence/s3-public-access/buckets.csv";
const KEYS_CSV: &str = "evidence/kms-key-rotation/keys.csv";

const ANALYZER_CONTROLS: &[Control] = &[Control::Cc6_3, Control::Cc6_6];
const MONITORING_CONTROLS: &[Control] = &[Control::Cc7_2, Control::Cc7_3];
const NETWORK_CONTROLS: &[Control] = &[Control::Cc6_6];
const S3_CONTROLS: &[Control] = &[Control::Cc6_1, Control::Cc6_6];
const KMS_CONTROLS: &[Control] = &[Control::Cc6_1, Control::Cc6_7];

/// A logging trail must have delivered within this many hours before the run.
const DELIVERY_MAX_HOURS: i64 = 24;

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "access-analyzer-missing",
        title: "Region without an active IAM Access Analyzer analyzer",
        severity: Severity::Low,
        controls: ANALYZER_CONTROLS,
        references: &["CIS 1.20"],
        remediation: "Create an analyzer in every region in use, e.g. `aws accessanalyzer \
                      create-analyzer --analyzer-name account --type ACCOUNT --region REGION` \
                      (type ORGANIZATION from the organization's delegated administrator).",
        needs: Needs::All(&[ACCESS_ANALYZER]),
        evaluate: access_analyzer_missing,
    },
    RuleSpec {
        id: "access-analyzer-finding",
        title: "Active IAM Access Analyzer external access finding",
        severity: Severity::High,
        controls: ANALYZER_CONTROLS,
        references: &[],
        remediation: "Remove the policy statement or grant that shares the resource outside the \
                      account if the access is not intended; if it is, archive the finding with \
                      an archive rule that records why the access is approved.",
        needs: Needs::All(&[ACCESS_ANALYZER]),
        evaluate: access_analyzer_finding,
    },
    RuleSpec {
        id: "cloudtrail-multi-region",
        title: "No multi-region trail logging read and write management events",
        severity: Severity::High,
        controls: MONITORING_CONTROLS,
        references: &["CIS 3.1", "CloudTrail.1"],
        remediation: "Create or update a trail with `--is-multi-region-trail` whose event \
                      selectors record read and write management events, and start it with \
                      `aws cloudtrail start-logging --name TRAIL`.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_multi_region,
    },
    RuleSpec {
        id: "cloudtrail-validation",
        title: "Trail without log file validation",
        severity: Severity::Medium,
        controls: MONITORING_CONTROLS,
        references: &["CIS 3.2", "CloudTrail.4"],
        remediation: "Enable log file integrity validation: `aws cloudtrail update-trail --name \
                      TRAIL --enable-log-file-validation`.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_validation,
    },
    RuleSpec {
        id: "cloudtrail-kms",
        title: "Trail logs not encrypted with SSE-KMS",
        severity: Severity::Medium,
        controls: MONITORING_CONTROLS,
        references: &["CIS 3.5", "CloudTrail.2"],
        remediation: "Encrypt the trail's log files with a customer managed KMS key whose key \
                      policy allows CloudTrail to use it: `aws cloudtrail update-trail --name \
                      TRAIL --kms-key-id KEY`.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_kms,
    },
    RuleSpec {
        id: "cloudtrail-delivery",
        title: "Trail log delivery failing or stale",
        severity: Severity::Medium,
        controls: MONITORING_CONTROLS,
        references: &[],
        remediation: "Fix what blocks delivery (usually the S3 bucket policy, a deleted bucket or \
                      a KMS key policy that does not let CloudTrail write), then check with `aws \
                      cloudtrail get-trail-status` that LatestDeliveryTime advances and \
                      LatestDeliveryError is empty.",
        needs: Needs::All(&[CLOUDTRAIL]),
        evaluate: cloudtrail_delivery,
    },
    RuleSpec {
        id: "guardduty-disabled",
        title: "Region without an enabled GuardDuty detector",
        severity: Severity::High,
        controls: MONITORING_CONTROLS,
        references: &["GuardDuty.1"],
        remediation: "Enable GuardDuty in every region in use (`aws guardduty create-detector \
                      --enable`, or `update-detector --enable` for a disabled detector), \
                      preferably for every account through the organization's delegated \
                      administrator.",
        needs: Needs::All(&[GUARDDUTY]),
        evaluate: guardduty_disabled,
    },
    RuleSpec {
        id: "guardduty-high-findings",
        title: "Unarchived GuardDuty findings of high or critical severity",
        severity: Severity::High,
        controls: MONITORING_CONTROLS,
        references: &[],
        remediation: "Investigate each finding with the GuardDuty remediation guidance for its \
                      type and contain the affected resource, then archive the finding with the \
                      outcome recorded.",
        needs: Needs::All(&[GUARDDUTY]),
        evaluate: guardduty_high_findings,
    },
    RuleSpec {
        id: "sg-admin-port-open",
        title: "Security group open to the internet on 22 or 3389",
        severity: Severity::High,
        controls: NETWORK_CONTROLS,
        references: &["CIS 5.2", "CIS 5.3", "EC2.13", "EC2.14"],
        remediation: "Remove the ingress rules from 0.0.0.0/0 and ::/0 on ports 22 and 3389; \
                      reach instances through Systems Manager Session Manager, or allow only \
                      known administrative address ranges.",
        needs: Needs::All(&[SECURITY_GROUPS]),
        evaluate: sg_admin_port_open,
    },
    RuleSpec {
        id: "sg-sensitive-port-open",
        title: "Security group open to the internet on a sensitive port",
        severity: Severity::High,
        controls: NETWORK_CONTROLS,
        references: &["EC2.19"],
        remediation: "Restrict the ingress rules on these ports to the networks or security \
                      groups that need them; databases, caches and management consoles should \
                      not be reachable from the internet.",
        needs: Needs::All(&[SECURITY_GROUPS]),
        evaluate: sg_sensitive_port_open,
    },
    RuleSpec {
        id: "sg-all-traffic-open",
        title: "Security group open to all traffic from the internet",
        severity: Severity::Critical,
        controls: NETWORK_CONTROLS,
        references: &[],
        remediation: "Replace the rule that admits all traffic from 0.0.0.0/0 or ::/0 with rules \
                      for the protocols, ports and sources the workload needs.",
        needs: Needs::All(&[SECURITY_GROUPS]),
        evaluate: sg_all_traffic_open,
    },
    RuleSpec {
        id: "s3-account-public-access-block",
        title: "Account-level S3 Block Public Access missing or incomplete",
        severity: Severity::Medium,
        controls: S3_CONTROLS,
        references: &["CIS 2.1.4", "S3.1"],
        remediation: "Turn on all four settings for the account: `aws s3control \
                      put-public-access-block --account-id ACCOUNT \
                      --public-access-block-configuration BlockPublicAcls=true,\
                      IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true`.",
        needs: Needs::All(&[S3]),
        evaluate: s3_account_public_access_block,
    },
    RuleSpec {
        id: "s3-bucket-public",
        title: "S3 bucket publicly accessible",
        severity: Severity::Critical,
        controls: S3_CONTROLS,
        references: &["S3.2", "S3.3"],
        remediation: "Remove the public statements of the bucket policy and the AllUsers and \
                      AuthenticatedUsers ACL grants, or turn on Block Public Access for the \
                      bucket; serve content meant to be public through CloudFront with origin \
                      access control.",
        needs: Needs::All(&[S3]),
        evaluate: s3_bucket_public,
    },
    RuleSpec {
        id: "s3-bucket-public-access-block",
        title: "S3 bucket without a full Block Public Access",
        severity: Severity::Medium,
        controls: S3_CONTROLS,
        references: &["S3.8"],
        remediation: "Turn on all four Block Public Access settings for the bucket (`aws s3api \
                      put-public-access-block --bucket BUCKET`) or for the whole account.",
        needs: Needs::All(&[S3]),
        evaluate: s3_bucket_public_access_block,
    },
    RuleSpec {
        id: "kms-rotation",
        title: "Customer managed KMS key without automatic rotation",
        severity: Severity::Medium,
        controls: KMS_CONTROLS,
        references: &["CIS 3.6", "KMS.4"],
        remediation: "Enable automatic rotation of the key: `aws kms enable-key-rotation \
                      --key-id KEY`.",
        needs: Needs::All(&[KMS]),
        evaluate: kms_rotation,
    },
];

// ---- Shared helpers ----

/// An ARN of this account: `arn:<partition>:<service>:<region>:<account>:<resource>`.
fn arn(input: &Input, service: &str, region: &str, resource: &str) -> String {
    format!(
        "arn:{}:{service}:{region}:{}:{resource}",
        input.partition, input.account_id
    )
}

/// The resource of account-wide findings: the account root.
fn account_arn(input: &Input) -> String {
    format!("arn:{}:iam::{}:root", input.partition, input.account_id)
}

/// A boolean cell: `Some` for `true`/`false` (any case), `None` for an empty (unknown) cell.
fn tri(row: &Row, column: &str) -> Option<bool> {
    let value = row.get(column).trim();
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A count cell: `None` when empty (the call failed); an error when it is not a number.
fn count(row: &Row, column: &str, path: &str) -> Result<Option<u64>, String> {
    let value = row.get(column).trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| format!("{path}: {column} {value:?} is not a count"))
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The covered regions a regional collector read, each with its `regions.csv` row: regions
/// the collector failed in (by the manifest or by the file) are left out.
fn read_regions<'a>(input: &'a Input, collector: &str, rows: &'a [Row]) -> Vec<(&'a str, &'a Row)> {
    input
        .regions
        .iter()
        .filter(|region| input.region_collected(collector, region))
        .filter_map(|region| {
            rows.iter()
                .find(|row| row.get("region") == region.as_str())
                .filter(|row| !row.get("status").eq_ignore_ascii_case("failed"))
                .map(|row| (region.as_str(), row))
        })
        .collect()
}

// ---- IAM Access Analyzer ----

fn access_analyzer_missing(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let regions = input.csv(ANALYZER_REGIONS_CSV, &["region", "status"])?;
    let analyzers = input.csv(ANALYZERS_CSV, &["region", "name", "type", "status"])?;
    for (region, _) in read_regions(input, ACCESS_ANALYZER, &regions) {
        let here: Vec<&Row> = analyzers
            .iter()
            .filter(|a| a.get("region") == region)
            .collect();
        if here
            .iter()
            .any(|a| a.get("status").eq_ignore_ascii_case("ACTIVE"))
        {
            continue;
        }
        let detail = if here.is_empty() {
            format!("No IAM Access Analyzer analyzer exists in {region}.")
        } else {
            let listed: Vec<String> = here
                .iter()
                .map(|a| format!("{} ({}, {})", a.get("name"), a.get("type"), a.get("status")))
                .collect();
            format!("No analyzer is ACTIVE in {region}: {}.", and_list(&listed))
        };
        out.add(
            arn(input, "access-analyzer", region, "analyzer"),
            region,
            detail,
            ANALYZER_REGIONS_CSV,
        );
    }
    Ok(())
}

fn access_analyzer_finding(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let findings = input.csv(
        ANALYZER_FINDINGS_CSV,
        &[
            "region",
            "analyzer_arn",
            "analyzer_type",
            "id",
            "finding_type",
            "resource",
            "resource_type",
            "status",
        ],
    )?;
    for row in &findings {
        let region = row.get("region");
        if !input.region_collected(ACCESS_ANALYZER, region)
            || !row.get("status").eq_ignore_ascii_case("ACTIVE")
        {
            continue;
        }
        // Unused-access (and internal-access) findings are not external access.
        let external = match row.get("finding_type") {
            "" => analyzer_kind(row.get("analyzer_type")).as_str() == "external-access",
            kind => kind == "ExternalAccess",
        };
        if !external {
            continue;
        }
        let resource = match row.get("resource") {
            "" => format!("{}/finding/{}", row.get("analyzer_arn"), row.get("id")),
            resource => resource.to_string(),
        };
        let since = match row.get("created_at") {
            "" => String::new(),
            created => format!(" since {created}"),
        };
        let detail = format!(
            "{} {resource} is accessible from outside the account (active finding {} of \
             analyzer {}{since}).",
            row.get("resource_type"),
            row.get("id"),
            row.get("analyzer_arn"),
        );
        out.add(resource, region, detail, ANALYZER_FINDINGS_CSV);
    }
    Ok(())
}

// ---- CloudTrail ----

const TRAIL_COLUMNS: &[&str] = &[
    "home_region",
    "name",
    "trail_arn",
    "is_multi_region_trail",
    "log_file_validation_enabled",
    "kms_key_id",
    "is_logging",
    "latest_delivery_time",
    "latest_delivery_error",
    "start_logging_time",
    "management_read_events",
    "management_write_events",
];

fn trails(input: &Input) -> Result<Vec<Row>, String> {
    input.csv(TRAILS_CSV, TRAIL_COLUMNS)
}

/// Why a trail does not give the account-wide coverage CIS 3.1 asks for (`None` when it
/// does), or `Err` when it might but a cell is unknown.
fn multi_region_gap(trail: &Row) -> Result<Option<String>, ()> {
    let mut gaps = Vec::new();
    let mut unknown = false;
    let mut check = |value: Option<bool>, gap: &str| match value {
        Some(true) => {}
        Some(false) => gaps.push(gap.to_string()),
        None => unknown = true,
    };
    check(tri(trail, "is_multi_region_trail"), "single-region");
    check(tri(trail, "is_logging"), "not logging");
    match (
        tri(trail, "management_read_events"),
        tri(trail, "management_write_events"),
    ) {
        (Some(false), Some(false)) => check(Some(false), "no management events"),
        (read, write) => {
            check(read, "no read management events");
            check(write, "no write management events");
        }
    }
    if !gaps.is_empty() {
        Ok(Some(gaps.join(", ")))
    } else if unknown {
        Err(())
    } else {
        Ok(None)
    }
}

fn cloudtrail_multi_region(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let trails = trails(input)?;
    let mut gaps = Vec::new();
    let mut unknown = Vec::new();
    for trail in &trails {
        match multi_region_gap(trail) {
            Ok(None) => return Ok(()),
            Ok(Some(gap)) => gaps.push(format!("{} ({gap})", trail.get("name"))),
            Err(()) => unknown.push(trail.get("name").to_string()),
        }
    }
    if !unknown.is_empty() {
        // One of them may qualify: saying "none" would be a guess.
        return Err(format!(
            "the status or event selectors of trail(s) {} could not be read, so whether a \
             trail covers every region cannot be decided",
            unknown.join(", ")
        ));
    }
    let detail = if gaps.is_empty() {
        "No CloudTrail trail is visible in the covered regions that could be read.".to_string()
    } else {
        format!(
            "No trail is multi-region, logging and recording read and write management events: \
             {}.",
            gaps.join("; ")
        )
    };
    out.add(account_arn(input), "global", detail, TRAILS_CSV);
    Ok(())
}

/// The trail's description for details: `name (multi-region, home region R)`.
fn trail_label(trail: &Row) -> String {
    let scope = match tri(trail, "is_multi_region_trail") {
        Some(true) => "multi-region",
        Some(false) => "single-region",
        None => "scope unknown",
    };
    format!(
        "Trail {} ({scope}, home region {})",
        trail.get("name"),
        trail.get("home_region")
    )
}

fn cloudtrail_validation(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for trail in &trails(input)? {
        if tri(trail, "log_file_validation_enabled") == Some(false) {
            out.add(
                trail.get("trail_arn"),
                trail.get("home_region"),
                format!(
                    "{} has log file validation disabled: changes to or deletion of its log \
                     files cannot be detected.",
                    trail_label(trail)
                ),
                TRAILS_CSV,
            );
        }
    }
    Ok(())
}

fn cloudtrail_kms(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for trail in &trails(input)? {
        if trail.get("kms_key_id").trim().is_empty() {
            out.add(
                trail.get("trail_arn"),
                trail.get("home_region"),
                format!(
                    "{} delivers its logs to s3://{} without SSE-KMS (no KmsKeyId).",
                    trail_label(trail),
                    trail.get("s3_bucket_name")
                ),
                TRAILS_CSV,
            );
        }
    }
    Ok(())
}

fn cloudtrail_delivery(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let window = chrono::Duration::hours(DELIVERY_MAX_HOURS);
    for trail in &trails(input)? {
        // Stopped trails (and trails whose status is unknown) are not judged: see the module
        // comment.
        if tri(trail, "is_logging") != Some(true) {
            continue;
        }
        let delivered = trail.time("latest_delivery_time");
        let last = match delivered {
            Some(t) => format!("last delivery {}", t.format("%Y-%m-%dT%H:%M:%SZ")),
            None => "no delivery recorded".to_string(),
        };
        let error = trail.get("latest_delivery_error").trim();
        let detail = if !error.is_empty() {
            format!(
                "{} reports delivery error {error} ({last}).",
                trail_label(trail)
            )
        } else {
            // The delivery clock starts at the later of the last delivery and the start of
            // logging: a trail started an hour ago has not missed a day yet.
            let since = match (delivered, trail.time("start_logging_time")) {
                (Some(d), Some(s)) => Some(d.max(s)),
                (d, s) => d.or(s),
            };
            match since {
                Some(since) if input.now - since <= window => continue,
                Some(_) => format!(
                    "{} is logging but has not delivered logs in the {DELIVERY_MAX_HOURS} \
                     hours before {} ({last}).",
                    trail_label(trail),
                    input.now.format("%Y-%m-%dT%H:%M:%SZ")
                ),
                None => format!(
                    "{} is logging but no log delivery is recorded.",
                    trail_label(trail)
                ),
            }
        };
        out.add(
            trail.get("trail_arn"),
            trail.get("home_region"),
            detail,
            TRAILS_CSV,
        );
    }
    Ok(())
}

// ---- GuardDuty ----

fn guardduty_disabled(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let regions = input.csv(GUARDDUTY_REGIONS_CSV, &["region", "status"])?;
    let detectors = input.csv(DETECTORS_CSV, &["region", "detector_id", "status"])?;
    for (region, _) in read_regions(input, GUARDDUTY, &regions) {
        let here: Vec<&Row> = detectors
            .iter()
            .filter(|d| d.get("region") == region)
            .collect();
        if here
            .iter()
            .any(|d| d.get("status").eq_ignore_ascii_case("ENABLED"))
        {
            continue;
        }
        // A detector whose GetDetector failed may be enabled: unknown, not a finding.
        if here.iter().any(|d| d.get("status").trim().is_empty()) {
            continue;
        }
        let detail = if here.is_empty() {
            format!("GuardDuty has no detector in {region}.")
        } else {
            let listed: Vec<String> = here
                .iter()
                .map(|d| format!("{} is {}", d.get("detector_id"), d.get("status")))
                .collect();
            format!(
                "No GuardDuty detector is enabled in {region}: detector {}.",
                and_list(&listed)
            )
        };
        out.add(
            arn(input, "guardduty", region, "detector"),
            region,
            detail,
            GUARDDUTY_REGIONS_CSV,
        );
    }
    Ok(())
}

/// The finding's severity by GuardDuty's band: `None` below High.
fn guardduty_severity(band: Band) -> Option<Severity> {
    match band {
        Band::Critical => Some(Severity::Critical),
        Band::High => Some(Severity::High),
        Band::Medium | Band::Low => None,
    }
}

fn guardduty_high_findings(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let findings = input.csv(
        GUARDDUTY_FINDINGS_CSV,
        &[
            "region",
            "detector_id",
            "id",
            "type",
            "severity",
            "title",
            "resource_type",
            "resource_id",
            "archived",
        ],
    )?;
    let counts = input.csv(
        FINDING_COUNTS_CSV,
        &["region", "detector_id", "high", "critical"],
    )?;
    // Findings detailed per (region, detector, band), to tell which counted ones lack details.
    let mut detailed: BTreeMap<(String, String, Band), u64> = BTreeMap::new();
    for row in &findings {
        let region = row.get("region");
        if !input.region_collected(GUARDDUTY, region) || tri(row, "archived") == Some(true) {
            continue;
        }
        let value = row.get("severity").trim();
        let severity: f64 = value
            .parse()
            .map_err(|_| format!("{GUARDDUTY_FINDINGS_CSV}: severity {value:?} is not a number"))?;
        let band = Band::of(severity);
        let Some(level) = guardduty_severity(band) else {
            continue;
        };
        *detailed
            .entry((region.to_string(), row.get("detector_id").to_string(), band))
            .or_default() += 1;
        let account = match row.get("account_id") {
            "" => input.account_id.as_str(),
            account => account,
        };
        let resource = format!(
            "arn:{}:guardduty:{region}:{account}:detector/{}/finding/{}",
            input.partition,
            row.get("detector_id"),
            row.get("id")
        );
        let affected = match (row.get("resource_type"), row.get("resource_id")) {
            ("", "") => String::new(),
            (kind, "") => format!("; resource: {kind}"),
            (kind, id) => format!("; resource: {kind} {id}"),
        };
        let seen = match (row.get("count"), row.get("updated_at")) {
            ("", "") => String::new(),
            ("", updated) => format!("; last updated {updated}"),
            (count, "") => format!("; seen {count} time(s)"),
            (count, updated) => format!("; seen {count} time(s), last updated {updated}"),
        };
        let detail = format!(
            "{} GuardDuty finding {} (severity {severity:.1}): {}{affected}{seen}.",
            capitalized(band.as_str()),
            row.get("type"),
            row.get("title").trim_end_matches('.'),
        );
        out.add_with_severity(level, resource, region, detail, GUARDDUTY_FINDINGS_CSV);
    }
    // Counted findings without details (ListFindings or GetFindings failed): one finding per
    // detector and band, from the counts.
    for row in &counts {
        let region = row.get("region");
        if !input.region_collected(GUARDDUTY, region) {
            continue;
        }
        let detector = row.get("detector_id");
        for (band, column) in [(Band::Critical, "critical"), (Band::High, "high")] {
            let Some(counted) = count(row, column, FINDING_COUNTS_CSV)? else {
                continue;
            };
            let listed = detailed
                .get(&(region.to_string(), detector.to_string(), band))
                .copied()
                .unwrap_or(0);
            if counted <= listed {
                continue;
            }
            let missing = counted - listed;
            let level = guardduty_severity(band).unwrap_or(Severity::High);
            let detail = format!(
                "Detector {detector} counts {counted} unarchived {} finding(s) (GuardDuty \
                 statistics); the details of {missing} of them were not collected.",
                band.as_str()
            );
            out.add_with_severity(
                level,
                arn(input, "guardduty", region, &format!("detector/{detector}")),
                region,
                detail,
                FINDING_COUNTS_CSV,
            );
        }
    }
    Ok(())
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---- Security groups ----

/// One ingress rule open to the world, as the security group rules read it.
struct OpenRule {
    protocol: String,
    from: Option<i32>,
    to: Option<i32>,
    source: String,
}

impl OpenRule {
    /// `tcp 22 from 0.0.0.0/0`, `udp 20-25 from ::/0`, `all traffic from 0.0.0.0/0`.
    fn text(&self) -> String {
        let protocol = Protocol::parse(&self.protocol);
        let what = match protocol {
            Protocol::All => "all traffic".to_string(),
            Protocol::Tcp | Protocol::Udp => match (self.from, self.to) {
                (Some(from), Some(to)) if from == to => format!("{} {from}", protocol.name()),
                (Some(from), Some(to)) => format!("{} {from}-{to}", protocol.name()),
                _ => format!("{} on every port", protocol.name()),
            },
            other => format!("protocol {}", other.name()),
        };
        format!("{what} from {}", self.source)
    }

    fn ports(&self, ports: &[u16]) -> Vec<u16> {
        covered_ports(&self.protocol, self.from, self.to, ports)
    }

    fn all_traffic(&self) -> bool {
        is_all_traffic(&self.protocol, self.from, self.to)
    }
}

/// A security group with its ingress rules open to the world.
struct OpenGroup {
    region: String,
    id: String,
    name: String,
    rules: Vec<OpenRule>,
}

fn port_cell(row: &Row, column: &str) -> Result<Option<i32>, String> {
    let value = row.get(column).trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| format!("{OPEN_TO_WORLD_CSV}: {column} {value:?} is not a port number"))
}

/// The groups of `open-to-world.csv` in covered regions that were read, by region and id.
fn open_groups(input: &Input) -> Result<Vec<OpenGroup>, String> {
    let rows = input.csv(
        OPEN_TO_WORLD_CSV,
        &[
            "region",
            "group_id",
            "group_name",
            "protocol",
            "from_port",
            "to_port",
            "source",
        ],
    )?;
    let mut groups: BTreeMap<(String, String), OpenGroup> = BTreeMap::new();
    for row in &rows {
        let region = row.get("region");
        if !input.region_collected(SECURITY_GROUPS, region) || !is_world(row.get("source")) {
            continue;
        }
        let rule = OpenRule {
            protocol: row.get("protocol").to_string(),
            from: port_cell(row, "from_port")?,
            to: port_cell(row, "to_port")?,
            source: row.get("source").trim().to_string(),
        };
        groups
            .entry((region.to_string(), row.get("group_id").to_string()))
            .or_insert_with(|| OpenGroup {
                region: region.to_string(),
                id: row.get("group_id").to_string(),
                name: row.get("group_name").to_string(),
                rules: Vec::new(),
            })
            .rules
            .push(rule);
    }
    Ok(groups.into_values().collect())
}

fn join_ports(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One finding per group with a rule opening one of `ports` to the world; the detail lists
/// each such rule with the ports of `ports` it opens.
fn sg_ports_rule(
    input: &Input,
    out: &mut Out<'_>,
    ports: &[u16],
    what: &str,
) -> Result<(), String> {
    for group in open_groups(input)? {
        let mut offending = Vec::new();
        for rule in &group.rules {
            let covered = rule.ports(ports);
            if covered.is_empty() {
                continue;
            }
            // The two admin ports are listed; a rule covering every one of the many sensitive
            // ports (all traffic) says so instead of listing 31 numbers.
            let listed = if covered.len() == ports.len() && ports.len() > ADMIN_PORTS.len() {
                format!("all {} {what}", ports.len())
            } else {
                join_ports(&covered)
            };
            offending.push(format!("{} ({listed})", rule.text()));
        }
        if offending.is_empty() {
            continue;
        }
        out.add(
            arn(
                input,
                "ec2",
                &group.region,
                &format!("security-group/{}", group.id),
            ),
            group.region.as_str(),
            format!(
                "Security group {} ({}) admits the internet to {what}: {}.",
                group.name,
                group.id,
                offending.join("; ")
            ),
            OPEN_TO_WORLD_CSV,
        );
    }
    Ok(())
}

fn sg_admin_port_open(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    sg_ports_rule(input, out, ADMIN_PORTS, "remote administration ports")
}

/// The sensitive ports of SPEC section 7 without the admin ones (those are the admin rule's).
fn sensitive_ports() -> Vec<u16> {
    SENSITIVE_PORTS
        .iter()
        .copied()
        .filter(|p| !ADMIN_PORTS.contains(p))
        .collect()
}

fn sg_sensitive_port_open(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    sg_ports_rule(input, out, &sensitive_ports(), "sensitive ports")
}

fn sg_all_traffic_open(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for group in open_groups(input)? {
        let offending: Vec<String> = group
            .rules
            .iter()
            .filter(|rule| rule.all_traffic())
            .map(OpenRule::text)
            .collect();
        if offending.is_empty() {
            continue;
        }
        out.add(
            arn(
                input,
                "ec2",
                &group.region,
                &format!("security-group/{}", group.id),
            ),
            group.region.as_str(),
            format!(
                "Security group {} ({}) admits all traffic from the internet: {}.",
                group.name,
                group.id,
                offending.join("; ")
            ),
            OPEN_TO_WORLD_CSV,
        );
    }
    Ok(())
}

// ---- S3 ----

/// The four Block Public Access settings: (column/key, name as AWS spells it).
const BLOCK_FLAGS: [(&str, &str); 4] = [
    ("block_public_acls", "BlockPublicAcls"),
    ("ignore_public_acls", "IgnorePublicAcls"),
    ("block_public_policy", "BlockPublicPolicy"),
    ("restrict_public_buckets", "RestrictPublicBuckets"),
];

fn s3_account_public_access_block(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    if !input.exists(ACCOUNT_BLOCK_JSON) {
        return Err(format!(
            "{ACCOUNT_BLOCK_JSON} is absent: the account's public access block could not be \
             read (s3control GetPublicAccessBlock failed, see the collector's errors)"
        ));
    }
    let block = input.json(ACCOUNT_BLOCK_JSON)?;
    let flag = |key: &str| {
        block
            .get(key)
            .and_then(serde_json::Value::as_bool)
            .ok_or_else(|| format!("{ACCOUNT_BLOCK_JSON}: {key} is not a boolean"))
    };
    let detail = if !flag("present")? {
        "The account has no S3 Block Public Access configuration.".to_string()
    } else {
        let mut off = Vec::new();
        for (key, name) in BLOCK_FLAGS {
            if !flag(key)? {
                off.push(name.to_string());
            }
        }
        if off.is_empty() {
            return Ok(());
        }
        format!(
            "The account's S3 Block Public Access leaves {} off.",
            and_list(&off)
        )
    };
    out.add(account_arn(input), "global", detail, ACCOUNT_BLOCK_JSON);
    Ok(())
}

const BUCKET_COLUMNS: &[&str] = &[
    "name",
    "region",
    "block_present",
    "block_public_acls",
    "ignore_public_acls",
    "block_public_policy",
    "restrict_public_buckets",
    "policy_is_public",
    "acl_public_grants",
    "effective_block_public_acls",
    "effective_ignore_public_acls",
    "effective_block_public_policy",
    "effective_restrict_public_buckets",
    "failed_calls",
];

/// The bucket rows whose facts are complete, in regions that were read.
fn buckets(input: &Input) -> Result<Vec<Row>, String> {
    let rows = input.csv(BUCKETS_CSV, BUCKET_COLUMNS)?;
    Ok(rows
        .into_iter()
        .filter(|row| row.get("failed_calls").trim().is_empty())
        .filter(|row| input.region_collected(S3, row.get("region")))
        .collect())
}

fn bucket_region(row: &Row) -> &str {
    match row.get("region") {
        "" => "global",
        region => region,
    }
}

fn s3_bucket_public(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for bucket in buckets(input)? {
        let mut how = Vec::new();
        if tri(&bucket, "policy_is_public") == Some(true)
            && tri(&bucket, "effective_restrict_public_buckets") == Some(false)
        {
            how.push(
                "its bucket policy is public and RestrictPublicBuckets is off for the bucket \
                 and the account"
                    .to_string(),
            );
        }
        let grants = bucket.list("acl_public_grants");
        if !grants.is_empty() && tri(&bucket, "effective_ignore_public_acls") == Some(false) {
            how.push(format!(
                "its ACL grants {} and IgnorePublicAcls is off for the bucket and the account",
                grants.join(", ")
            ));
        }
        if how.is_empty() {
            continue;
        }
        let name = bucket.get("name");
        out.add(
            format!("arn:{}:s3:::{name}", input.partition),
            bucket_region(&bucket),
            format!("Bucket {name} is publicly accessible: {}.", how.join("; ")),
            BUCKETS_CSV,
        );
    }
    Ok(())
}

fn s3_bucket_public_access_block(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    for bucket in buckets(input)? {
        let own = match tri(&bucket, "block_present") {
            None => continue,
            Some(false) => None,
            Some(true) => {
                let mut off = Vec::new();
                for (column, name) in BLOCK_FLAGS {
                    match tri(&bucket, column) {
                        Some(true) => {}
                        Some(false) => off.push(name.to_string()),
                        None => continue,
                    }
                }
                Some(off)
            }
        };
        if own.as_ref().is_some_and(Vec::is_empty) {
            continue;
        }
        // The account block covers the bucket when every setting is on in effect.
        // An unknown effective setting (the account block could not be read and the bucket's
        // own is off) may be on: only a setting known to be off is a gap.
        let effective_off: Vec<String> = BLOCK_FLAGS
            .iter()
            .filter(|(column, _)| tri(&bucket, &format!("effective_{column}")) == Some(false))
            .map(|(_, name)| name.to_string())
            .collect();
        if effective_off.is_empty() {
            continue;
        }
        let name = bucket.get("name");
        let own = match own {
            None => format!("Bucket {name} has no public access block of its own"),
            Some(off) => format!(
                "Bucket {name}'s public access block leaves {} off",
                and_list(&off)
            ),
        };
        out.add(
            format!("arn:{}:s3:::{name}", input.partition),
            bucket_region(&bucket),
            format!(
                "{own}, and the account block does not cover it: {} in effect.",
                if effective_off.len() == 1 {
                    format!("{} is off", effective_off[0])
                } else {
                    format!("{} are off", and_list(&effective_off))
                }
            ),
            BUCKETS_CSV,
        );
    }
    Ok(())
}

// ---- KMS ----

fn kms_rotation(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let keys = input.csv(
        KEYS_CSV,
        &[
            "region",
            "key_id",
            "arn",
            "aliases",
            "in_scope",
            "rotation_enabled",
        ],
    )?;
    for key in &keys {
        let region = key.get("region");
        // Out of scope keys (AWS managed, asymmetric, imported, disabled, pending deletion)
        // never fire; an unknown rotation status (the call failed) is not a finding.
        if !input.region_collected(KMS, region)
            || tri(key, "in_scope") != Some(true)
            || tri(key, "rotation_enabled") != Some(false)
        {
            continue;
        }
        let aliases = key.list("aliases");
        let named = if aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", aliases.join(", "))
        };
        let resource = match key.get("arn") {
            "" => arn(input, "kms", region, &format!("key/{}", key.get("key_id"))),
            arn => arn.to_string(),
        };
        out.add(
            resource,
            region,
            format!(
                "Customer managed key {}{named} has automatic key rotation disabled.",
                key.get("key_id")
            ),
            KEYS_CSV,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::findings::input::{CollectorState, RegionState};
    use crate::findings::{analyze, Finding, RuleStatus, Thresholds};
    use crate::vocab::CallError;
    use crate::vocab::CollectorStatus;

    const ACCOUNT: &str = "123456789012";
    const EAST: &str = "us-east-1";
    const WEST: &str = "eu-west-1";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap()
    }

    /// A bundle of fixture evidence files and the collectors' states.
    struct Bundle {
        dir: tempfile::TempDir,
        collectors: Vec<CollectorState>,
    }

    impl Bundle {
        fn new() -> Self {
            Bundle {
                dir: tempfile::tempdir().unwrap(),
                collectors: Vec::new(),
            }
        }

        /// Writes a bundle file (`evidence/...`).
        fn file(self, path: &str, text: &str) -> Self {
            let path = self.dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
            self
        }

        /// Records a collector as collected in both regions.
        fn collected(self, id: &str) -> Self {
            self.state(id, CollectorStatus::Collected, &[])
        }

        /// Records a collector with a status and the regions that failed.
        fn state(mut self, id: &str, status: CollectorStatus, failed: &[&str]) -> Self {
            let regions = [EAST, WEST]
                .iter()
                .map(|region| RegionState {
                    region: region.to_string(),
                    status: if failed.contains(region) {
                        CollectorStatus::Failed
                    } else {
                        CollectorStatus::Collected
                    },
                })
                .collect();
            let errors = failed
                .iter()
                .map(|region| CallError::new(*region, "List", "AccessDenied", "denied"))
                .chain(
                    (status == CollectorStatus::Failed && failed.is_empty())
                        .then(|| CallError::new(EAST, "List", "AccessDenied", "denied")),
                )
                .collect();
            self.collectors.push(CollectorState {
                id: id.to_string(),
                status,
                errors,
                regions,
            });
            self
        }

        fn input(&self) -> Input {
            Input::new(
                self.dir.path(),
                ACCOUNT,
                "aws",
                now(),
                vec![WEST.to_string(), EAST.to_string()],
                self.collectors.clone(),
                Thresholds::default(),
            )
        }
    }

    /// The findings of one rule, or why it could not be evaluated.
    fn eval(bundle: &Bundle, rule: &str) -> Result<Vec<Finding>, String> {
        let spec = RULES.iter().find(|s| s.id == rule).unwrap();
        let mut out = Out::new(spec);
        (spec.evaluate)(&bundle.input(), &mut out)?;
        Ok(out.into_findings())
    }

    /// (resource, region) of one rule's findings.
    fn hits(bundle: &Bundle, rule: &str) -> Vec<(String, String)> {
        eval(bundle, rule)
            .unwrap_or_else(|e| panic!("{rule}: {e}"))
            .into_iter()
            .map(|f| (f.resource, f.region))
            .collect()
    }

    /// The rule's status and reason and its findings, through the engine.
    fn outcome(bundle: &Bundle, rule: &str) -> (RuleStatus, String, Vec<Finding>) {
        let analysis = analyze(&bundle.input());
        let o = analysis.rules.iter().find(|o| o.rule == rule).unwrap();
        let findings = analysis
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .cloned()
            .collect();
        (o.status, o.reason.clone(), findings)
    }

    fn pair(resource: &str, region: &str) -> (String, String) {
        (resource.to_string(), region.to_string())
    }

    #[test]
    fn rules_are_in_spec_order_with_the_collectors_controls() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "access-analyzer-missing",
                "access-analyzer-finding",
                "cloudtrail-multi-region",
                "cloudtrail-validation",
                "cloudtrail-kms",
                "cloudtrail-delivery",
                "guardduty-disabled",
                "guardduty-high-findings",
                "sg-admin-port-open",
                "sg-sensitive-port-open",
                "sg-all-traffic-open",
                "s3-account-public-access-block",
                "s3-bucket-public",
                "s3-bucket-public-access-block",
                "kms-rotation",
            ]
        );
        // A rule's controls are those of the collector whose evidence it reads.
        for rule in RULES {
            let Needs::All([collector]) = rule.needs else {
                panic!("{} reads one collector", rule.id);
            };
            let spec = crate::registry::find(collector).unwrap();
            assert_eq!(rule.controls, spec.controls, "{}", rule.id);
        }
        // Sensitive ports never include the admin ones.
        assert!(sensitive_ports().iter().all(|p| !ADMIN_PORTS.contains(p)));
        assert_eq!(
            sensitive_ports().len() + ADMIN_PORTS.len(),
            SENSITIVE_PORTS.len()
        );
    }

    // ---- Access Analyzer ----

    const AA_REGIONS: &str =
        "region,status,analyzers,active_analyzers,active_external_access_analyzers\n\
        eu-west-1,collected,1,0,0\n\
        us-east-1,collected,1,1,1\n";
    const AA_ANALYZERS: &str = "region,name,arn,type,kind,status,status_reason,created_at,last_resource_analyzed,last_resource_analyzed_at,unused_access_age_days,active_findings\n\
        eu-west-1,old,arn:aws:access-analyzer:eu-west-1:123456789012:analyzer/old,ACCOUNT,external-access,DISABLED,,2026-01-01T00:00:00Z,,,,\n\
        us-east-1,main,arn:aws:access-analyzer:us-east-1:123456789012:analyzer/main,ACCOUNT,external-access,ACTIVE,,2026-01-01T00:00:00Z,,,,2\n";
    const AA_FINDINGS: &str = "region,analyzer_arn,analyzer_type,id,finding_type,resource,resource_type,resource_owner_account,status,created_at,updated_at,analyzed_at,error\n\
        us-east-1,arn:aws:access-analyzer:us-east-1:123456789012:analyzer/main,ACCOUNT,f-1,ExternalAccess,arn:aws:s3:::shared,AWS::S3::Bucket,123456789012,ACTIVE,2026-11-01T00:00:00Z,,,\n\
        us-east-1,arn:aws:access-analyzer:us-east-1:123456789012:analyzer/unused,ACCOUNT_UNUSED_ACCESS,f-2,UnusedIAMRole,arn:aws:iam::123456789012:role/old,AWS::IAM::Role,123456789012,ACTIVE,2026-11-01T00:00:00Z,,,\n\
        us-east-1,arn:aws:access-analyzer:us-east-1:123456789012:analyzer/main,ACCOUNT,f-3,ExternalAccess,arn:aws:s3:::gone,AWS::S3::Bucket,123456789012,RESOLVED,2026-11-01T00:00:00Z,,,\n";

    fn analyzer_bundle() -> Bundle {
        Bundle::new()
            .file(ANALYZER_REGIONS_CSV, AA_REGIONS)
            .file(ANALYZERS_CSV, AA_ANALYZERS)
            .file(ANALYZER_FINDINGS_CSV, AA_FINDINGS)
    }

    #[test]
    fn access_analyzer_missing_in_a_region_without_an_active_analyzer() {
        let bundle = analyzer_bundle().collected(ACCESS_ANALYZER);
        let found = eval(&bundle, "access-analyzer-missing").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].resource,
            "arn:aws:access-analyzer:eu-west-1:123456789012:analyzer"
        );
        assert_eq!(found[0].region, WEST);
        assert!(found[0].detail.contains("old (ACCOUNT, DISABLED)"));
        assert_eq!(found[0].evidence, ANALYZER_REGIONS_CSV);

        // Both regions with an active analyzer: no finding.
        let bundle = Bundle::new()
            .file(
                ANALYZER_REGIONS_CSV,
                &AA_REGIONS.replace("collected,1,0,0", "collected,1,1,1"),
            )
            .file(ANALYZERS_CSV, &AA_ANALYZERS.replace("DISABLED", "ACTIVE"))
            .collected(ACCESS_ANALYZER);
        assert!(hits(&bundle, "access-analyzer-missing").is_empty());
    }

    #[test]
    fn a_failed_region_gives_no_finding_and_a_partial_rule() {
        let bundle = Bundle::new()
            .file(
                ANALYZER_REGIONS_CSV,
                &AA_REGIONS.replace("eu-west-1,collected,1,0,0", "eu-west-1,failed,,,"),
            )
            .file(
                ANALYZERS_CSV,
                &AA_ANALYZERS.replace("eu-west-1,old", "x,old"),
            )
            .file(ANALYZER_FINDINGS_CSV, AA_FINDINGS)
            .state(ACCESS_ANALYZER, CollectorStatus::Partial, &[WEST]);
        let (status, reason, found) = outcome(&bundle, "access-analyzer-missing");
        assert_eq!(status, RuleStatus::Partial);
        assert!(reason.contains("eu-west-1"), "{reason}");
        assert!(found.is_empty(), "{found:?}");

        // The same with GuardDuty: the failed region is neither a finding nor a pass.
        let bundle = Bundle::new()
            .file(
                GUARDDUTY_REGIONS_CSV,
                "region,status,detectors,enabled_detectors\neu-west-1,failed,,\nus-east-1,collected,1,1\n",
            )
            .file(DETECTORS_CSV, GD_DETECTORS)
            .state(GUARDDUTY, CollectorStatus::Partial, &[WEST]);
        let (status, _, found) = outcome(&bundle, "guardduty-disabled");
        assert_eq!(status, RuleStatus::Partial);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn access_analyzer_finding_fires_on_active_external_access_only() {
        let bundle = analyzer_bundle().collected(ACCESS_ANALYZER);
        // f-2 is unused access, f-3 is resolved.
        assert_eq!(
            hits(&bundle, "access-analyzer-finding"),
            [pair("arn:aws:s3:::shared", EAST)]
        );
        let bundle = analyzer_bundle()
            .file(ANALYZER_FINDINGS_CSV, AA_FINDINGS.lines().next().unwrap())
            .collected(ACCESS_ANALYZER);
        assert!(hits(&bundle, "access-analyzer-finding").is_empty());
    }

    #[test]
    fn a_failed_collector_leaves_its_rules_not_evaluated() {
        let bundle = analyzer_bundle().state(ACCESS_ANALYZER, CollectorStatus::Failed, &[]);
        for rule in ["access-analyzer-missing", "access-analyzer-finding"] {
            let (status, reason, found) = outcome(&bundle, rule);
            assert_eq!(status, RuleStatus::NotEvaluated, "{rule}");
            assert!(reason.contains("access-analyzer failed"), "{reason}");
            assert!(found.is_empty());
        }
        // Not run at all: not evaluated either.
        let (status, reason, _) = outcome(&Bundle::new(), "kms-rotation");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("kms-key-rotation was not run"), "{reason}");
    }

    // ---- CloudTrail ----

    const TRAIL_HEADER: &str = "home_region,name,trail_arn,is_multi_region_trail,is_organization_trail,include_global_service_events,log_file_validation_enabled,kms_key_id,s3_bucket_name,s3_key_prefix,sns_topic_arn,cloudwatch_logs_log_group_arn,cloudwatch_logs_role_arn,seen_in_regions,is_logging,latest_delivery_time,latest_delivery_error,latest_delivery_attempt_time,latest_delivery_attempt_succeeded,latest_cloudwatch_logs_delivery_time,latest_cloudwatch_logs_delivery_error,start_logging_time,stop_logging_time,selector_kind,management_events,management_read_events,management_write_events,management_excluded_sources,data_events,data_resource_types,has_insight_selectors";

    /// A trail row: name, home region, multi-region, validation, kms key, logging, last
    /// delivery, delivery error, management read, management write.
    #[allow(clippy::too_many_arguments)]
    fn trail(
        name: &str,
        home: &str,
        multi: &str,
        validation: &str,
        kms: &str,
        logging: &str,
        delivered: &str,
        error: &str,
        read: &str,
        write: &str,
    ) -> String {
        let seen = if multi == "true" {
            "eu-west-1;us-east-1"
        } else {
            home
        };
        format!(
            "{home},{name},arn:aws:cloudtrail:{home}:123456789012:trail/{name},{multi},false,true,\
             {validation},{kms},logs,,,,,{seen},{logging},{delivered},{error},,,,,\
             2026-11-01T00:00:00Z,,basic,all,{read},{write},,false,,false"
        )
    }

    fn trails_bundle(rows: &[String]) -> Bundle {
        let mut text = format!("{TRAIL_HEADER}\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        Bundle::new().file(TRAILS_CSV, &text).collected(CLOUDTRAIL)
    }

    const FRESH: &str = "2026-11-22T07:55:00Z";
    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/k";

    fn good_trail(name: &str) -> String {
        trail(
            name, EAST, "true", "true", KEY, "true", FRESH, "", "true", "true",
        )
    }

    #[test]
    fn cloudtrail_multi_region_needs_one_multi_region_logging_trail_with_read_and_write() {
        // A good trail among bad ones: no finding.
        let bundle = trails_bundle(&[
            good_trail("org"),
            trail(
                "app", WEST, "false", "true", KEY, "true", FRESH, "", "true", "true",
            ),
        ]);
        assert!(hits(&bundle, "cloudtrail-multi-region").is_empty());

        // Multi-region but stopped, multi-region but write-only, single-region: a finding.
        let bundle = trails_bundle(&[
            trail(
                "stopped", EAST, "true", "true", KEY, "false", FRESH, "", "true", "true",
            ),
            trail(
                "writes", EAST, "true", "true", KEY, "true", FRESH, "", "false", "true",
            ),
            trail(
                "app", WEST, "false", "true", KEY, "true", FRESH, "", "true", "true",
            ),
        ]);
        let found = eval(&bundle, "cloudtrail-multi-region").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].resource, "arn:aws:iam::123456789012:root");
        assert_eq!(found[0].region, "global");
        assert!(found[0].detail.contains("stopped (not logging)"));
        assert!(found[0]
            .detail
            .contains("writes (no read management events)"));
        assert!(found[0].detail.contains("app (single-region)"));

        // No trail at all: a finding.
        assert_eq!(
            hits(&trails_bundle(&[]), "cloudtrail-multi-region").len(),
            1
        );

        // A multi-region trail whose status could not be read may qualify: not evaluated.
        let bundle = trails_bundle(&[trail(
            "org", EAST, "true", "true", KEY, "", "", "", "true", "true",
        )]);
        let error = eval(&bundle, "cloudtrail-multi-region").unwrap_err();
        assert!(error.contains("org"), "{error}");
    }

    #[test]
    fn a_shadow_trail_is_one_finding_in_its_home_region() {
        // A multi-region trail seen from both regions is one row of trails.csv.
        let bundle = trails_bundle(&[trail(
            "org", EAST, "true", "false", "", "true", FRESH, "", "true", "true",
        )]);
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org";
        assert_eq!(hits(&bundle, "cloudtrail-validation"), [pair(arn, EAST)]);
        assert_eq!(hits(&bundle, "cloudtrail-kms"), [pair(arn, EAST)]);
        assert!(hits(&bundle, "cloudtrail-multi-region").is_empty());

        let bundle = trails_bundle(&[good_trail("org")]);
        assert!(hits(&bundle, "cloudtrail-validation").is_empty());
        assert!(hits(&bundle, "cloudtrail-kms").is_empty());
    }

    #[test]
    fn cloudtrail_delivery_flags_errors_and_stale_delivery_of_logging_trails() {
        let row = |name: &str, logging: &str, delivered: &str, error: &str| {
            trail(
                name, EAST, "true", "true", KEY, logging, delivered, error, "true", "true",
            )
        };
        let bundle = trails_bundle(&[
            row("fresh", "true", FRESH, ""),
            row("failing", "true", FRESH, "AccessDenied"),
            row("stale", "true", "2026-11-20T08:00:00Z", ""),
            row("never", "true", "", ""),
            // Stopped: judged by cloudtrail-multi-region, not here.
            row("stopped", "false", "2026-10-01T00:00:00Z", "NoSuchBucket"),
            // Status unknown: skipped.
            row("unknown", "", "", ""),
        ]);
        let found = eval(&bundle, "cloudtrail-delivery").unwrap();
        let names: Vec<&str> = found
            .iter()
            .map(|f| f.resource.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(names, ["failing", "stale", "never"]);
        assert!(found[0].detail.contains("AccessDenied"));
        assert!(found[1].detail.contains("2026-11-20T08:00:00Z"));

        // Logging restarted an hour ago after a long stop: not yet a day without delivery.
        let restarted = format!(
            "{TRAIL_HEADER}\n{}",
            row("restarted", "true", "2026-10-01T00:00:00Z", "")
                .replace("2026-11-01T00:00:00Z", "2026-11-22T07:00:00Z")
        );
        let bundle = Bundle::new()
            .file(TRAILS_CSV, &restarted)
            .collected(CLOUDTRAIL);
        assert!(hits(&bundle, "cloudtrail-delivery").is_empty());
    }

    // ---- GuardDuty ----

    const GD_REGIONS: &str = "region,status,detectors,enabled_detectors\n\
        eu-west-1,collected,1,0\n\
        us-east-1,collected,1,1\n";
    const GD_DETECTORS: &str = "region,detector_id,status,created_at,updated_at,finding_publishing_frequency,service_role,features\n\
        eu-west-1,d-west,DISABLED,,,,,\n\
        us-east-1,d-east,ENABLED,,,,,\n";
    const GD_FINDINGS_HEADER: &str = "region,detector_id,id,type,severity,severity_band,title,resource_type,resource_id,account_id,created_at,updated_at,count,archived";
    const GD_COUNTS_HEADER: &str =
        "region,detector_id,low,medium,high,critical,total,severe_listed";

    #[test]
    fn guardduty_disabled_per_region_without_an_enabled_detector() {
        let bundle = Bundle::new()
            .file(GUARDDUTY_REGIONS_CSV, GD_REGIONS)
            .file(DETECTORS_CSV, GD_DETECTORS)
            .collected(GUARDDUTY);
        let found = eval(&bundle, "guardduty-disabled").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].resource,
            "arn:aws:guardduty:eu-west-1:123456789012:detector"
        );
        assert!(found[0].detail.contains("d-west is DISABLED"));

        // No detector at all in eu-west-1: a finding too; both enabled: none.
        let bundle = Bundle::new()
            .file(GUARDDUTY_REGIONS_CSV, GD_REGIONS)
            .file(
                DETECTORS_CSV,
                &GD_DETECTORS.replace("eu-west-1,d-west,DISABLED,,,,,\n", ""),
            )
            .collected(GUARDDUTY);
        assert_eq!(hits(&bundle, "guardduty-disabled").len(), 1);
        let bundle = Bundle::new()
            .file(GUARDDUTY_REGIONS_CSV, GD_REGIONS)
            .file(DETECTORS_CSV, &GD_DETECTORS.replace("DISABLED", "ENABLED"))
            .collected(GUARDDUTY);
        assert!(hits(&bundle, "guardduty-disabled").is_empty());
    }

    #[test]
    fn guardduty_high_findings_by_band_and_from_counts_without_details() {
        let findings = format!(
            "{GD_FINDINGS_HEADER}\n\
             us-east-1,d-east,f-high,Recon:EC2/PortProbeUnprotectedPort,7.5,high,Port probe,Instance,i-1,123456789012,,2026-11-21T00:00:00Z,3,false\n\
             us-east-1,d-east,f-crit,CryptoCurrency:EC2/BitcoinTool.B!DNS,9.2,critical,Bitcoin,Instance,i-2,123456789012,,,1,false\n\
             us-east-1,d-east,f-old,Recon:EC2/Portscan,8.0,high,Old,Instance,i-3,123456789012,,,1,true\n\
             us-east-1,d-east,f-med,Recon:EC2/Portscan,5.0,medium,Medium,Instance,i-4,123456789012,,,1,false\n"
        );
        let counts = format!(
            "{GD_COUNTS_HEADER}\n\
             eu-west-1,d-west,0,0,2,0,2,\n\
             us-east-1,d-east,0,1,1,1,3,2\n"
        );
        let bundle = Bundle::new()
            .file(GUARDDUTY_FINDINGS_CSV, &findings)
            .file(FINDING_COUNTS_CSV, &counts)
            .collected(GUARDDUTY);
        let found = eval(&bundle, "guardduty-high-findings").unwrap();
        let got: Vec<(Severity, &str)> = found
            .iter()
            .map(|f| (f.severity, f.resource.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    Severity::High,
                    "arn:aws:guardduty:us-east-1:123456789012:detector/d-east/finding/f-high"
                ),
                (
                    Severity::Critical,
                    "arn:aws:guardduty:us-east-1:123456789012:detector/d-east/finding/f-crit"
                ),
                // eu-west-1 counts two High findings whose details are absent.
                (
                    Severity::High,
                    "arn:aws:guardduty:eu-west-1:123456789012:detector/d-west"
                ),
            ]
        );
        assert!(found[0]
            .detail
            .contains("Recon:EC2/PortProbeUnprotectedPort"));
        assert!(found[0].detail.contains("severity 7.5"));
        assert!(found[2].detail.contains("2 unarchived high"));
        assert_eq!(found[2].evidence, FINDING_COUNTS_CSV);

        // Nothing at or above 7: no finding.
        let bundle = Bundle::new()
            .file(GUARDDUTY_FINDINGS_CSV, GD_FINDINGS_HEADER)
            .file(
                FINDING_COUNTS_CSV,
                &format!("{GD_COUNTS_HEADER}\nus-east-1,d-east,4,1,0,0,5,0\n"),
            )
            .collected(GUARDDUTY);
        assert!(hits(&bundle, "guardduty-high-findings").is_empty());
    }

    // ---- Security groups ----

    const OPEN_HEADER: &str = "region,group_id,group_name,protocol,protocol_name,from_port,to_port,source,all_traffic,admin_ports,sensitive_ports,description";

    fn sg_bundle(rows: &[&str]) -> Bundle {
        let mut text = format!("{OPEN_HEADER}\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        Bundle::new()
            .file(OPEN_TO_WORLD_CSV, &text)
            .collected(SECURITY_GROUPS)
    }

    fn sg(id: &str) -> String {
        format!("arn:aws:ec2:us-east-1:123456789012:security-group/{id}")
    }

    #[test]
    fn sg_rules_compute_ports_from_protocol_and_range() {
        // The precomputed columns are left empty: the rules compute the ports themselves.
        let bundle = sg_bundle(&[
            "us-east-1,sg-range,range,tcp,tcp,20,25,0.0.0.0/0,,,,",
            "us-east-1,sg-all,all,-1,all,,,0.0.0.0/0,,,,",
            "us-east-1,sg-v6,v6,6,tcp,3389,3389,::/0,,,,",
            "us-east-1,sg-icmp,icmp,icmp,icmp,-1,-1,0.0.0.0/0,,,,",
            "us-east-1,sg-icmp6,icmp6,58,icmpv6,-1,-1,::/0,,,,",
            "us-east-1,sg-wide,wide,tcp,tcp,0,65535,0.0.0.0/0,,,,",
            "us-east-1,sg-udp,udp,17,udp,5432,5432,::/0,,,,",
            "us-east-1,sg-web,web,tcp,tcp,443,443,0.0.0.0/0,,,,",
            "us-east-1,sg-inside,inside,tcp,tcp,22,22,10.0.0.0/8,,,,",
        ]);
        let ids = |rule: &str| -> Vec<String> {
            hits(&bundle, rule)
                .into_iter()
                .map(|(resource, _)| resource.rsplit('/').next().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            ids("sg-admin-port-open"),
            ["sg-all", "sg-range", "sg-v6", "sg-wide"]
        );
        assert_eq!(
            ids("sg-sensitive-port-open"),
            ["sg-all", "sg-range", "sg-udp", "sg-wide"]
        );
        assert_eq!(ids("sg-all-traffic-open"), ["sg-all", "sg-wide"]);

        let detail = |rule: &str, id: &str| {
            eval(&bundle, rule)
                .unwrap()
                .into_iter()
                .find(|f| f.resource == sg(id))
                .unwrap()
                .detail
        };
        // 20-25: 22 is the admin rule's; 20, 21, 23 and 25 are sensitive.
        assert!(detail("sg-admin-port-open", "sg-range").contains("tcp 20-25 from 0.0.0.0/0 (22)"));
        assert!(detail("sg-sensitive-port-open", "sg-range")
            .contains("tcp 20-25 from 0.0.0.0/0 (20, 21, 23, 25)"));
        assert!(detail("sg-admin-port-open", "sg-v6").contains("tcp 3389 from ::/0 (3389)"));
        assert!(detail("sg-admin-port-open", "sg-all")
            .contains("all traffic from 0.0.0.0/0 (22, 3389)"));
        assert!(detail("sg-sensitive-port-open", "sg-all").contains("all 31 sensitive ports"));
        assert!(detail("sg-all-traffic-open", "sg-wide").contains("tcp 0-65535 from 0.0.0.0/0"));
        assert_eq!(eval(&bundle, "sg-admin-port-open").unwrap()[0].region, EAST);
    }

    #[test]
    fn sg_rules_give_one_finding_per_group_listing_every_offending_rule() {
        let bundle = sg_bundle(&[
            "us-east-1,sg-1,web,tcp,tcp,22,22,0.0.0.0/0,,,,",
            "us-east-1,sg-1,web,tcp,tcp,22,22,::/0,,,,",
            "us-east-1,sg-1,web,-1,all,,,::/0,,,,",
        ]);
        let found = eval(&bundle, "sg-admin-port-open").unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].detail.contains(
            "tcp 22 from 0.0.0.0/0 (22); tcp 22 from ::/0 (22); all traffic from ::/0 (22, 3389)"
        ));
        let found = eval(&bundle, "sg-all-traffic-open").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(found[0].detail.contains("all traffic from ::/0"));

        // No world-open rule: nothing.
        let bundle = sg_bundle(&[]);
        for rule in [
            "sg-admin-port-open",
            "sg-sensitive-port-open",
            "sg-all-traffic-open",
        ] {
            assert!(hits(&bundle, rule).is_empty(), "{rule}");
        }
    }

    // ---- S3 ----

    const BUCKET_HEADER: &str = "name,region,created,block_present,block_public_acls,ignore_public_acls,block_public_policy,restrict_public_buckets,policy_present,policy_is_public,acl_public_grants,effective_block_public_acls,effective_ignore_public_acls,effective_block_public_policy,effective_restrict_public_buckets,publicly_accessible,failed_calls";

    fn account_block(present: bool, flags: [bool; 4]) -> String {
        format!(
            r#"{{"account_id":"123456789012","present":{present},"block_public_acls":{},"ignore_public_acls":{},"block_public_policy":{},"restrict_public_buckets":{}}}"#,
            flags[0], flags[1], flags[2], flags[3]
        )
    }

    fn s3_bundle(account: Option<String>, buckets: &[&str]) -> Bundle {
        let mut text = format!("{BUCKET_HEADER}\n");
        for row in buckets {
            text.push_str(row);
            text.push('\n');
        }
        let bundle = Bundle::new().file(BUCKETS_CSV, &text);
        match account {
            Some(json) => bundle.file(ACCOUNT_BLOCK_JSON, &json).collected(S3),
            None => bundle.state(S3, CollectorStatus::Partial, &[]),
        }
    }

    #[test]
    fn s3_account_block_missing_or_incomplete() {
        let root = "arn:aws:iam::123456789012:root";
        let bundle = s3_bundle(Some(account_block(false, [false; 4])), &[]);
        let found = eval(&bundle, "s3-account-public-access-block").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].resource.as_str(), found[0].region.as_str()),
            (root, "global")
        );
        assert!(found[0].detail.contains("no S3 Block Public Access"));

        let bundle = s3_bundle(Some(account_block(true, [true, false, true, false])), &[]);
        let found = eval(&bundle, "s3-account-public-access-block").unwrap();
        assert!(found[0]
            .detail
            .contains("leaves IgnorePublicAcls and RestrictPublicBuckets off"));

        let bundle = s3_bundle(Some(account_block(true, [true; 4])), &[]);
        assert!(hits(&bundle, "s3-account-public-access-block").is_empty());

        // The s3control call failed: the file is absent and the rule is not evaluated.
        let bundle = s3_bundle(None, &[]);
        let (status, reason, found) = outcome(&bundle, "s3-account-public-access-block");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("GetPublicAccessBlock"), "{reason}");
        assert!(found.is_empty());
    }

    #[test]
    fn s3_bucket_public_unless_the_effective_block_neutralises_it() {
        let bundle = s3_bundle(
            Some(account_block(true, [true, false, false, false])),
            &[
                // A public policy, not restricted: public.
                "policy,us-east-1,,false,false,false,false,false,true,true,,true,false,false,false,true,",
                // A public policy restricted by the bucket's own block: not public.
                "restricted,us-east-1,,true,false,false,false,true,true,true,,true,false,false,true,false,",
                // A public ACL, not ignored: public.
                "acl,eu-west-1,,false,false,false,false,false,false,false,AllUsers:READ,true,false,false,false,true,",
                // A public ACL ignored: not public.
                "ignored,eu-west-1,,true,false,true,false,false,false,false,AllUsers:READ,true,true,false,false,false,",
                // Facts incomplete: skipped.
                "partial,us-east-1,,false,false,false,false,false,,,AllUsers:READ,true,false,false,false,,GetBucketPolicyStatus",
            ],
        );
        assert_eq!(
            hits(&bundle, "s3-bucket-public"),
            [
                pair("arn:aws:s3:::policy", EAST),
                pair("arn:aws:s3:::acl", WEST)
            ]
        );
        let found = eval(&bundle, "s3-bucket-public").unwrap();
        assert!(found[1].detail.contains("AllUsers:READ"));
        assert_eq!(found[0].severity, Severity::Critical);
    }

    #[test]
    fn s3_bucket_block_needed_unless_the_account_block_covers_the_bucket() {
        // The account block has all four settings: a bucket without its own is covered.
        let bundle = s3_bundle(
            Some(account_block(true, [true; 4])),
            &["bare,us-east-1,,false,false,false,false,false,false,false,,true,true,true,true,false,"],
        );
        assert!(hits(&bundle, "s3-bucket-public-access-block").is_empty());

        let bundle = s3_bundle(
            Some(account_block(true, [true, false, false, false])),
            &[
                "bare,us-east-1,,false,false,false,false,false,false,false,,true,false,false,false,false,",
                "half,eu-west-1,,true,true,true,false,false,false,false,,true,true,false,false,false,",
                "full,eu-west-1,,true,true,true,true,true,false,false,,true,true,true,true,false,",
            ],
        );
        let found = eval(&bundle, "s3-bucket-public-access-block").unwrap();
        let resources: Vec<&str> = found.iter().map(|f| f.resource.as_str()).collect();
        assert_eq!(resources, ["arn:aws:s3:::bare", "arn:aws:s3:::half"]);
        assert!(found[0]
            .detail
            .contains("no public access block of its own"));
        assert!(found[1]
            .detail
            .contains("leaves BlockPublicPolicy and RestrictPublicBuckets off"));
    }

    // ---- KMS ----

    #[test]
    fn kms_rotation_only_for_in_scope_keys_with_rotation_off() {
        let keys = "region,key_id,arn,aliases,description,key_manager,key_spec,key_usage,origin,key_state,multi_region,creation_date,deletion_date,in_scope,out_of_scope_reason,rotation_enabled,rotation_period_days,next_rotation_date\n\
            us-east-1,k-off,arn:aws:kms:us-east-1:123456789012:key/k-off,alias/legacy,,CUSTOMER,SYMMETRIC_DEFAULT,,AWS_KMS,Enabled,,,,true,,false,,\n\
            us-east-1,k-on,arn:aws:kms:us-east-1:123456789012:key/k-on,alias/app,,CUSTOMER,SYMMETRIC_DEFAULT,,AWS_KMS,Enabled,,,,true,,true,365,\n\
            us-east-1,k-unknown,arn:aws:kms:us-east-1:123456789012:key/k-unknown,,,CUSTOMER,SYMMETRIC_DEFAULT,,AWS_KMS,Enabled,,,,true,,,,\n\
            eu-west-1,k-rsa,arn:aws:kms:eu-west-1:123456789012:key/k-rsa,,,CUSTOMER,RSA_2048,,AWS_KMS,Enabled,,,,false,asymmetric key spec RSA_2048,,,\n\
            eu-west-1,k-aws,arn:aws:kms:eu-west-1:123456789012:key/k-aws,alias/aws/s3,,AWS,SYMMETRIC_DEFAULT,,AWS_KMS,Enabled,,,,false,AWS managed key,false,,\n\
            eu-west-1,k-ext,arn:aws:kms:eu-west-1:123456789012:key/k-ext,,,CUSTOMER,SYMMETRIC_DEFAULT,,EXTERNAL,Enabled,,,,false,imported key material,,,\n\
            eu-west-1,k-off2,arn:aws:kms:eu-west-1:123456789012:key/k-off2,,,CUSTOMER,SYMMETRIC_DEFAULT,,AWS_KMS,Disabled,,,,false,key state Disabled,,,\n";
        let bundle = Bundle::new().file(KEYS_CSV, keys).collected(KMS);
        let found = eval(&bundle, "kms-rotation").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].resource,
            "arn:aws:kms:us-east-1:123456789012:key/k-off"
        );
        assert!(found[0].detail.contains("alias/legacy"));

        let bundle = Bundle::new()
            .file(
                KEYS_CSV,
                &keys.replace(",true,,false,,\n", ",true,,true,,\n"),
            )
            .collected(KMS);
        assert!(hits(&bundle, "kms-rotation").is_empty());
    }

    #[test]
    fn a_file_of_another_shape_is_not_evaluated_rather_than_passed() {
        let bundle = Bundle::new()
            .file(KEYS_CSV, "region,key_id\nus-east-1,k\n")
            .collected(KMS);
        let (status, reason, _) = outcome(&bundle, "kms-rotation");
        assert_eq!(status, RuleStatus::NotEvaluated);
        assert!(reason.contains("missing column"), "{reason}");
    }
}
