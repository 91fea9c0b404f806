//! The rules of SPEC section 5, one family per file: each file holds its rule specs, their
//! functions and their tests together. Adding a rule is a change to one family file (or a new
//! file and a line below), like adding a collector.

mod credentials;
mod password_policy;
pub(crate) use password_policy::configured as password_configured;
mod policies;
mod privilege;
mod resource_policies;
mod roles;
mod root;

use super::RuleSpec;

/// Every family, in SPEC order (the order of `rules.csv` and of findings of equal severity).
pub(super) static FAMILIES: &[&[RuleSpec]] = &[
    // IAM: root, password-policy, credentials, policies, privilege, roles.
    root::RULES,
    password_policy::RULES,
    credentials::RULES,
    policies::RULES,
    privilege::RULES,
    roles::RULES,
    // IAM Identity Center.
    identity_center::RULES,
    // Regional services: access-analyzer, cloudtrail, guardduty, security-groups, networks and
    // instances, s3, kms, resource policies, Config, CIS monitoring.
    access_analyzer::RULES,
    cloudtrail::RULES,
    cloudtrail_logs::RULES,
    guardduty::RULES,
    security_groups::RULES,
    vpc_network::RULES,
    ec2_instances::RULES,
    s3::RULES,
    kms::RULES,
    resource_policies::RULES,
    aws_config::RULES,
    cis_monitoring::RULES,
];

// ---- Shared by the IAM families ----

use chrono::{DateTime, Utc};

use super::input::{days_between, Input};
use crate::contract::iam_authorization_details::RoleRow;
use crate::contract::iam_credential_report::ReportRow;
use crate::contract::Table;
use crate::controls::Control;

const REPORT: &str = ReportRow::COLLECTOR;
const AUTHZ: &str = RoleRow::COLLECTOR;

/// Who may sign in and with what: the controls of the root and credential rules.
const ACCESS: &[Control] = &[Control::Cc6_1, Control::Cc6_2];

/// The root user's ARN: where account-wide IAM findings point.
fn root_arn(input: &Input) -> String {
    format!("arn:{}:iam::{}:root", input.partition, input.account_id)
}

/// A date as the details write it.
fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Days from a credential's last use to `now`, or from when it was set (the first known of
/// `set`) when it was never used; with the words for the detail. `None` when no date is known.
fn unused_days(
    now: DateTime<Utc>,
    last_used: Option<DateTime<Utc>>,
    set: &[Option<DateTime<Utc>>],
) -> Option<(i64, String)> {
    if let Some(t) = last_used {
        return Some((days_between(t, now), format!("last used {}", date(t))));
    }
    set.iter()
        .flatten()
        .next()
        .map(|&t| (days_between(t, now), format!("never used, set {}", date(t))))
}

/// What each principal's policies let it do beyond admin (the access review's escalation and
/// exposure columns).
pub(super) use privilege::{Privileges, Summary};

/// Days since the role was last used, or since its creation when never used (`role-unused`
/// and the access review).
pub(super) fn role_inactive_days(role: &RoleRow, now: DateTime<Utc>) -> Option<(i64, String)> {
    unused_days(now, role.last_used_time(), &[role.created_time()])
}

/// The fixtures of the IAM families' tests (and the access review's).
#[cfg(test)]
pub(super) mod iam_test {
    use serde_json::{json, Value};

    use crate::contract::iam_authorization_details::{
        AuthorizationDetails, ManagedPolicy, PolicyVersion,
    };
    use crate::contract::iam_credential_report::{ReportRow, ROOT_USER};
    use crate::findings::testkit::{iam_arn, Bundle};
    use crate::judge::iam_tables::Tables;

    pub const ROOT: &str = "arn:aws:iam::123456789012:root";
    pub const OLD: &str = "2025-01-01T00:00:00+00:00";
    pub const RECENT: &str = "2026-11-01T00:00:00+00:00";
    /// A key that does not exist: (active, last rotated, last used).
    pub const NO_KEY: (&str, &str, &str) = ("false", "N/A", "N/A");

    pub fn user(name: &str) -> String {
        iam_arn(&format!("user/{name}"))
    }

    /// A credential report row: (user, created, password (enabled, last used), mfa,
    /// key 1 (active, rotated, used), key 2 (active, rotated, used)); flags as AWS writes them
    /// (`true` in any case is true).
    pub fn report_row(
        name: &str,
        created: &str,
        password: (&str, &str),
        mfa: &str,
        key1: (&str, &str, &str),
        key2: (&str, &str, &str),
    ) -> ReportRow {
        let flag = |cell: &str| cell.eq_ignore_ascii_case("true");
        ReportRow {
            user: name.into(),
            arn: if name == ROOT_USER {
                ROOT.into()
            } else {
                user(name)
            },
            created: created.into(),
            password_enabled: flag(password.0),
            password_last_used: password.1.into(),
            password_last_changed: created.into(),
            mfa_active: flag(mfa),
            key_1_active: flag(key1.0),
            key_1_last_rotated: key1.1.into(),
            key_1_last_used: key1.2.into(),
            key_2_active: flag(key2.0),
            key_2_last_rotated: key2.1.into(),
            key_2_last_used: key2.2.into(),
        }
    }

    pub fn admin_doc() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    }

    /// A customer managed policy with one version, the default.
    pub fn managed(arn: &str, document: Value) -> ManagedPolicy {
        ManagedPolicy {
            policy_name: arn.rsplit('/').next().unwrap().into(),
            arn: arn.into(),
            path: Some("/".into()),
            default_version_id: Some("v1".into()),
            attachment_count: Some(1),
            is_attachable: true,
            policy_version_list: vec![PolicyVersion {
                document,
                version_id: "v1".into(),
                is_default_version: true,
                create_date: None,
            }],
            ..ManagedPolicy::default()
        }
    }

    /// A bundle with the collector's files for `details`: the document and its tables,
    /// collected.
    pub fn authz(details: &AuthorizationDetails) -> Bundle {
        let tables = Tables::build(details, crate::findings::testkit::ACCOUNT);
        Bundle::new()
            .document(details)
            .table(&tables.users)
            .table(&tables.groups)
            .table(&tables.roles)
            .table(&tables.policies)
            .collected(super::AUTHZ)
    }
}

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
mod aws_config;
mod cis_monitoring;
mod cloudtrail;
mod cloudtrail_logs;
mod ec2_instances;
mod guardduty;
mod identity_center;
mod kms;
mod s3;
mod security_groups;
mod vpc_network;

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
mod tests {
    use super::*;
    use crate::findings::Needs;

    #[test]
    fn rules_are_in_spec_order() {
        let ids: Vec<&str> = FAMILIES
            .iter()
            .flat_map(|family| family.iter())
            .map(|r| r.id)
            .collect();
        assert_eq!(
            ids,
            [
                "root-access-key",
                "root-mfa",
                "root-hardware-mfa",
                "root-used-recently",
                "password-policy",
                "user-console-no-mfa",
                "credentials-unused",
                "access-key-age",
                "two-active-keys",
                "user-direct-policy",
                "admin-policy",
                "privilege-escalation",
                "sensitive-actions-all-resources",
                "admin-without-mfa",
                "not-action-allow",
                "role-unused",
                "external-trust",
                "sso-direct-user-assignment",
                "access-analyzer-missing",
                "access-analyzer-finding",
                "access-analyzer-finding-overdue",
                "cloudtrail-multi-region",
                "cloudtrail-validation",
                "cloudtrail-kms",
                "cloudtrail-delivery",
                "cloudtrail-bucket-public",
                "cloudtrail-bucket-no-mfa-delete",
                "cloudtrail-bucket-unencrypted",
                "cloudtrail-log-validation-failed",
                "guardduty-disabled",
                "guardduty-high-findings",
                "guardduty-finding-overdue",
                "sg-admin-port-open",
                "sg-sensitive-port-open",
                "sg-all-traffic-open",
                "vpc-flow-logs-missing",
                "nacl-admin-port-open",
                "ec2-imdsv1-allowed",
                "ebs-default-encryption-off",
                "s3-account-public-access-block",
                "s3-bucket-public",
                "s3-bucket-public-access-block",
                "kms-rotation",
                "s3-bucket-policy-external",
                "kms-key-policy-external",
                "config-recorder-missing",
                "monitoring-alarm-missing",
            ]
        );
    }

    /// Each regional rule reads one collector (whose controls it has: see the registry's
    /// tests, which sit above the rules), but for `cloudtrail-bucket-public`, which judges the
    /// trails' buckets from the S3 evidence and needs both.
    #[test]
    fn regional_rules_read_one_collector() {
        for family in &FAMILIES[6..] {
            for rule in family.iter() {
                if rule.id == "cloudtrail-bucket-public" {
                    assert!(
                        matches!(rule.needs, Needs::All(["cloudtrail", "s3-public-access"])),
                        "{} reads the trails and the buckets",
                        rule.id
                    );
                    continue;
                }
                assert!(
                    matches!(rule.needs, Needs::All([_])),
                    "{} reads one collector",
                    rule.id
                );
            }
        }
    }
}
