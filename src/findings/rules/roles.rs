//! IAM roles (SPEC section 5): roles unused beyond the inactivity threshold (service-linked
//! roles never), and roles that another account can assume without an external id.
//!
//! `role-unused` reads `roles.csv` (last use, creation, path). `external-trust` judges the raw
//! trust policies of `authorization-details.json` with
//! [`crate::judge::iam_policy::analyse_trust`], never the collector's `trust_*` columns, so
//! `report` applies the current logic to an old bundle; its findings cite `roles.csv`. A trust
//! policy that is not JSON is not judged (the collector notes it). Findings point at the role's
//! ARN, region `global`.

use super::{role_inactive_days, AUTHZ};
use crate::contract::iam_authorization_details::{AuthorizationDetails, RoleRow};
use crate::contract::Table;
use crate::controls::Control;
use crate::findings::input::Input;
use crate::findings::{Needs, Out, RuleSpec};
use crate::judge::iam_policy::analyse_trust;
use crate::judge::iam_tables::service_linked;
use crate::vocab::Severity;

const ROLES: &[Control] = &[Control::Cc6_2, Control::Cc6_3];
const TRUST: &[Control] = &[Control::Cc6_3, Control::Cc6_6];

pub(super) static RULES: &[RuleSpec] = &[
    RuleSpec {
        id: "role-unused",
        title: "Role unused beyond the inactivity threshold",
        severity: Severity::Low,
        controls: ROLES,
        references: &[],
        remediation: "Confirm with the role's owner in the quarterly access review \
                      (access-review/roles.csv) and delete the role if it is no longer needed.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: role_unused,
    },
    RuleSpec {
        id: "external-trust",
        title: "Role trusting another account without an external id",
        severity: Severity::Medium,
        controls: TRUST,
        references: &[],
        remediation: "Add a condition requiring `sts:ExternalId` to the trust policy statement \
                      that lets the other account in (the confused deputy protection third \
                      parties document), or remove the statement if the access is not needed.",
        needs: Needs::All(&[AUTHZ]),
        evaluate: external_trust,
    },
];

fn role_unused(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let limit = i64::from(input.thresholds.role_inactive_days);
    let label = match input.documented.as_ref().and_then(|d| d.role_inactive_days) {
        Some(_) => format!("documented limit {limit} days"),
        None => format!("threshold {limit}"),
    };
    for role in input.table::<RoleRow>()? {
        if service_linked(&role) {
            continue;
        }
        if let Some((days, how)) = role_inactive_days(&role, input.now) {
            if days > limit {
                out.add(
                    &role.arn,
                    "global",
                    format!("{} {how} ({days} days, {label})", role.role_name),
                    RoleRow::PATH,
                );
            }
        }
    }
    Ok(())
}

fn external_trust(input: &Input, out: &mut Out<'_>) -> Result<(), String> {
    let details = input.document::<AuthorizationDetails>()?;
    for role in &details.role_detail_list {
        let Some(trust) = analyse_trust(&role.assume_role_policy_document, &input.account_id)
        else {
            continue;
        };
        if trust.external_without_external_id.is_empty() {
            continue;
        }
        let principals: Vec<&str> = trust
            .external_without_external_id
            .iter()
            .map(String::as_str)
            .collect();
        out.add(
            &role.arn,
            "global",
            format!(
                "{} can be assumed by {} without sts:ExternalId",
                role.role_name,
                principals.join(", ")
            ),
            RoleRow::PATH,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::iam_test::authz;
    use super::*;
    use crate::contract::iam_authorization_details::{Role, RoleLastUsed};
    use crate::findings::testkit::{iam_arn, ACCOUNT};
    use serde_json::{json, Value};

    fn trust(principal: &str, condition: Option<Value>) -> Value {
        let mut statement =
            json!({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"});
        if let Some(condition) = condition {
            statement["Condition"] = condition;
        }
        json!({"Version": "2012-10-17", "Statement": [statement]})
    }

    fn role(path: &str, name: &str, created: &str, last_used: Option<&str>, trust: Value) -> Role {
        Role {
            path: path.into(),
            role_name: name.into(),
            arn: iam_arn(&format!("role{path}{name}")),
            create_date: Some(created.into()),
            assume_role_policy_document: trust,
            role_last_used: last_used.map(|date| RoleLastUsed {
                last_used_date: Some(date.into()),
                region: Some("us-east-1".into()),
            }),
            ..Role::default()
        }
    }

    fn resources(bundle: &crate::findings::testkit::Bundle, rule: &str) -> Vec<String> {
        let mut found: Vec<String> = bundle.hits(rule).into_iter().map(|(r, _)| r).collect();
        found.sort();
        found
    }

    #[test]
    fn unused_roles_and_external_trust() {
        let own = format!("arn:aws:iam::{ACCOUNT}:root");
        let details = AuthorizationDetails {
            role_detail_list: vec![
                role(
                    "/",
                    "idle",
                    "2025-01-01T00:00:00Z",
                    Some("2025-02-01T00:00:00Z"),
                    trust(&own, None),
                ),
                role(
                    "/",
                    "never",
                    "2025-01-01T00:00:00Z",
                    None,
                    json!({"Statement": []}),
                ),
                role(
                    "/",
                    "busy",
                    "2025-01-01T00:00:00Z",
                    Some("2026-11-20T00:00:00Z"),
                    json!({"Statement": []}),
                ),
                role(
                    "/aws-service-role/x/",
                    "AWSServiceRoleForX",
                    "2020-01-01T00:00:00Z",
                    None,
                    json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "x.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
                ),
                role(
                    "/",
                    "vendor",
                    "2026-11-01T00:00:00Z",
                    None,
                    trust("arn:aws:iam::444455556666:root", None),
                ),
                role(
                    "/",
                    "partner",
                    "2026-11-01T00:00:00Z",
                    None,
                    trust(
                        "arn:aws:iam::777788889999:root",
                        Some(json!({"StringEquals": {"sts:ExternalId": "abc"}})),
                    ),
                ),
            ],
            ..AuthorizationDetails::default()
        };
        let mut bundle = authz(&details);
        let role = |n: &str| iam_arn(&format!("role/{n}"));
        assert_eq!(
            resources(&bundle, "role-unused"),
            [role("idle"), role("never")]
        );
        let trust_hits = bundle.details("external-trust");
        assert_eq!(trust_hits.len(), 1);
        assert_eq!(trust_hits[0].0, role("vendor"));
        assert!(
            trust_hits[0]
                .1
                .contains("vendor can be assumed by AWS:arn:aws:iam::444455556666:root"),
            "{}",
            trust_hits[0].1
        );
        bundle.thresholds.role_inactive_days = 3650;
        assert!(resources(&bundle, "role-unused").is_empty());
    }

    #[test]
    fn trust_is_judged_from_the_trust_policy_not_the_collector_s_columns() {
        // An old bundle whose roles.csv lists no external principal: the document decides.
        let details = AuthorizationDetails {
            role_detail_list: vec![role(
                "/",
                "vendor",
                "2026-11-01T00:00:00Z",
                None,
                trust("arn:aws:iam::444455556666:root", None),
            )],
            ..AuthorizationDetails::default()
        };
        let mut tables = crate::judge::iam_tables::Tables::build(&details, ACCOUNT);
        for row in &mut tables.roles {
            row.trust_external_without_external_id = Default::default();
        }
        let bundle = authz(&details).table(&tables.roles);
        assert_eq!(
            resources(&bundle, "external-trust"),
            [iam_arn("role/vendor")]
        );
    }
}
