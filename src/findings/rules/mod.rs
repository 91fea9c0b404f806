//! The rules of SPEC section 5, one family per file: each file holds its rule specs, their
//! functions and their tests together. Adding a rule is a change to one family file (or a new
//! file and a line below), like adding a collector.

use super::RuleSpec;

/// Every family, in SPEC order (the order of `rules.csv` and of findings of equal severity).
pub(super) static FAMILIES: &[&[RuleSpec]] = &[
    // IAM: root, password-policy, credentials, policies, roles.
    super::iam::RULES,
    // Regional services: access-analyzer, cloudtrail, guardduty, security-groups, s3, kms.
    access_analyzer::RULES,
    cloudtrail::RULES,
    guardduty::RULES,
    security_groups::RULES,
    s3::RULES,
    kms::RULES,
];

// ---- Shared by the IAM families ----

// ---- Shared by the regional families ----
//
// The rules over regional and account-wide services: IAM Access Analyzer, CloudTrail,
// GuardDuty, security groups, S3 public access and KMS key rotation. Each reads the tables its
// collector wrote, typed by the evidence contract. What they agree on:
// - A covered region the collector could not read (`Input::region_collected` false, or `failed`
//   in the collector's `regions.csv`) gives neither a finding nor a pass: it is skipped, and the
//   engine marks the rule partial from the collector's errors.
// - An empty cell means "unknown because a call failed" (the collectors' convention, an `Option`
//   of the contract): a row whose deciding cell is empty is skipped, never taken for `false`.
// - Account-wide findings (no multi-region trail, the account's S3 block) name the account root
//   (`arn:<partition>:iam::<account>:root`) with region `global`; a region-level gap (no
//   analyzer, no detector) names the service's region-level resource
//   (`arn:<partition>:guardduty:<region>:<account>:detector`).

mod access_analyzer;
mod cloudtrail;
mod guardduty;
mod kms;
mod s3;
mod security_groups;

/// An ARN of this account: `arn:<partition>:<service>:<region>:<account>:<resource>`.
fn arn(input: &super::Input, service: &str, region: &str, resource: &str) -> String {
    format!(
        "arn:{}:{service}:{region}:{}:{resource}",
        input.partition, input.account_id
    )
}

/// The resource of account-wide findings: the account root.
fn account_arn(input: &super::Input) -> String {
    format!("arn:{}:iam::{}:root", input.partition, input.account_id)
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The covered regions a regional collector read, from the (region, status) rows of its
/// `regions.csv`: regions the collector failed in (by the manifest or by the file) and regions
/// without a row are left out.
fn read_regions<'a>(
    input: &super::Input,
    collector: &str,
    rows: impl IntoIterator<Item = (&'a str, crate::vocab::CollectorStatus)>,
) -> Vec<String> {
    let rows: Vec<(&str, crate::vocab::CollectorStatus)> = rows.into_iter().collect();
    input
        .regions
        .iter()
        .filter(|region| input.region_collected(collector, region))
        .filter(|region| {
            rows.iter()
                .find(|(r, _)| *r == region.as_str())
                .is_some_and(|(_, status)| *status != crate::vocab::CollectorStatus::Failed)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod regional_tests {
    use super::*;
    use crate::findings::Needs;

    #[test]
    fn regional_rules_are_in_spec_order_with_their_collectors_controls() {
        let families: &[&[RuleSpec]] = &[
            access_analyzer::RULES,
            cloudtrail::RULES,
            guardduty::RULES,
            security_groups::RULES,
            s3::RULES,
            kms::RULES,
        ];
        let rules: Vec<&RuleSpec> = families.iter().flat_map(|f| f.iter()).collect();
        let ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
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
        // The regional families close FAMILIES, in this order.
        let all: Vec<&str> = FAMILIES
            .iter()
            .flat_map(|f| f.iter())
            .map(|r| r.id)
            .collect();
        assert!(all.ends_with(&ids), "{all:?}");
        // Each reads one collector (whose controls it has: see the registry's tests, which sit
        // above the rules).
        for rule in rules {
            assert!(
                matches!(rule.needs, Needs::All([_])),
                "{} reads one collector",
                rule.id
            );
        }
    }
}
