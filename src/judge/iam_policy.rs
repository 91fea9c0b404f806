//! IAM policy logic: documents decoded, statements that allow everything, trust analysis.
//!
//! Pure functions over policy documents as JSON values and plain strings: the collector uses
//! them for the convenience columns of its tables, the rules to judge the raw documents of
//! `authorization-details.json` (so `report` applies the current logic to an old bundle).

use std::collections::BTreeSet;

use serde_json::Value;

/// A document that is not JSON: its URL-decoded text and why it did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unparsed {
    pub text: String,
    pub error: String,
}

/// Decodes a policy document as IAM returns it (RFC 3986 percent-encoded JSON) into JSON.
///
/// The percent-decoded text is parsed first. When that fails the raw text is tried as JSON as
/// it stands, because some sources (moto's trust policies) send documents unencoded, and a
/// literal `%` in such a document would otherwise spoil it. A document that is neither is
/// returned as its decoded text with the parse error, never dropped.
pub fn decode_document(raw: &str) -> Result<Value, Unparsed> {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let first_error = match serde_json::from_str::<Value>(&decoded) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    if decoded != raw {
        if let Ok(value) = serde_json::from_str::<Value>(raw) {
            return Ok(value);
        }
    }
    Err(Unparsed {
        text: decoded.into_owned(),
        error: format!("not JSON after URL-decoding: {first_error}"),
    })
}

/// A statement list as policies write it: one object, or an array of them.
fn statements(document: &Value) -> Vec<&serde_json::Map<String, Value>> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(one)) => vec![one],
        _ => Vec::new(),
    }
}

/// A string-or-list element (`Action`, `Resource`, principal values) as its strings.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_allow(statement: &serde_json::Map<String, Value>) -> bool {
    statement
        .get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|effect| effect.eq_ignore_ascii_case("Allow"))
}

/// Whether a policy document grants full administrative access, the rule of CIS 1.16 and
/// Security Hub IAM.1: some statement has `Effect` `Allow`, `Action` `*` (the string, or `*`
/// among a list) and `Resource` `*` (likewise).
///
/// - `Statement` may be one object or an array.
/// - Only the exact wildcard `*` counts; `iam:*`, `*:*` or `s3:*` do not.
/// - `NotAction` / `NotResource` never count (an `Allow` with `NotAction` is broad but is not
///   this rule); neither does a statement without `Action` or `Resource`.
/// - A `Condition` does not exempt the statement, and `Deny` statements elsewhere in the
///   document do not cancel it: the policy still grants `*` on `*` where it applies.
///
/// `None` when the document is not a JSON object (it could not be parsed, or is absent).
pub fn allows_admin(document: &Value) -> Option<bool> {
    if !document.is_object() {
        return None;
    }
    Some(statements(document).into_iter().any(|statement| {
        is_allow(statement)
            && strings(statement.get("Action")).contains(&"*")
            && strings(statement.get("Resource")).contains(&"*")
    }))
}

/// What a role's trust policy lets in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// Every principal of an `Allow` statement, `Type:value` (`AWS:...`, `Service:...`,
    /// `Federated:...`, `CanonicalUser:...`), `*` for `"Principal": "*"`, and
    /// `NotPrincipal:Type:value` for an `Allow` with `NotPrincipal`.
    pub principals: BTreeSet<String>,
    /// Principals outside the account: `AWS` principals of another account (ARN or account
    /// id) or `*`, and `*` for `"Principal": "*"` and for `NotPrincipal`. Service and
    /// federated principals are not counted: `sts:ExternalId` does not apply to them.
    pub external: BTreeSet<String>,
    /// The external principals allowed by a statement without an `sts:ExternalId` condition.
    pub external_without_external_id: BTreeSet<String>,
}

/// Reads a trust policy (`AssumeRolePolicyDocument`). `None` when it is not a JSON object.
///
/// A statement requires an external id when its `Condition` tests the key `sts:ExternalId`
/// (keys compare case-insensitively) with `StringEquals`, `StringEqualsIgnoreCase` or
/// `StringLike`, optionally prefixed `ForAnyValue:`. `...IfExists` and `ForAllValues:` forms
/// match when the key is absent, so they do not require it; neither do negated operators.
pub fn analyse_trust(document: &Value, account_id: &str) -> Option<Trust> {
    if !document.is_object() {
        return None;
    }
    let mut trust = Trust::default();
    for statement in statements(document) {
        if !is_allow(statement) {
            continue;
        }
        let mut external = Vec::new();
        match statement.get("Principal") {
            Some(Value::String(any)) => {
                trust.principals.insert(any.clone());
                if any == "*" {
                    external.push("*".to_string());
                }
            }
            Some(Value::Object(by_type)) => {
                for (kind, values) in by_type {
                    for value in strings(Some(values)) {
                        trust.principals.insert(format!("{kind}:{value}"));
                        if kind == "AWS" && is_outside_account(value, account_id) {
                            external.push(format!("{kind}:{value}"));
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(not_principal) = statement.get("NotPrincipal") {
            match not_principal {
                Value::Object(by_type) => {
                    for (kind, values) in by_type {
                        for value in strings(Some(values)) {
                            trust
                                .principals
                                .insert(format!("NotPrincipal:{kind}:{value}"));
                        }
                    }
                }
                other => {
                    for value in strings(Some(other)) {
                        trust.principals.insert(format!("NotPrincipal:{value}"));
                    }
                }
            }
            external.push("*".to_string());
        }
        let requires_external_id = requires_external_id(statement.get("Condition"));
        for principal in external {
            if !requires_external_id {
                trust.external_without_external_id.insert(principal.clone());
            }
            trust.external.insert(principal);
        }
    }
    Some(trust)
}

/// An `AWS` principal outside `account_id`: `*`, another account's id, or an ARN whose account
/// field is another account. Unique ids (`AROA...`, left when a trusted role was deleted) name
/// no account and are not counted.
fn is_outside_account(principal: &str, account_id: &str) -> bool {
    if principal == "*" {
        return true;
    }
    if principal.len() == 12 && principal.chars().all(|c| c.is_ascii_digit()) {
        return principal != account_id;
    }
    if principal.starts_with("arn:") {
        return principal
            .split(':')
            .nth(4)
            .is_some_and(|account| account != account_id);
    }
    false
}

fn requires_external_id(condition: Option<&Value>) -> bool {
    let Some(Value::Object(operators)) = condition else {
        return false;
    };
    operators.iter().any(|(operator, keys)| {
        let base = operator.strip_prefix("ForAnyValue:").unwrap_or(operator);
        let requiring = ["StringEquals", "StringEqualsIgnoreCase", "StringLike"]
            .iter()
            .any(|op| base.eq_ignore_ascii_case(op));
        requiring
            && keys.as_object().is_some_and(|keys| {
                keys.keys()
                    .any(|key| key.eq_ignore_ascii_case("sts:ExternalId"))
            })
    })
}

/// The policy name at the end of a policy ARN (`arn:aws:iam::aws:policy/service-role/X` -> X).
pub fn name_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Whether a policy ARN is an AWS managed policy (account field `aws`).
pub fn is_aws_managed(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ACCOUNT: &str = "123456789012";

    #[test]
    fn admin_needs_allow_star_action_on_star_resource_as_string_or_in_a_list() {
        let cases = [
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": "*"}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": ["*"]}]}),
                true,
            ),
            (
                json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["arn:aws:s3:::b", "*"]}]}),
                true,
            ),
            // A single statement object instead of an array.
            (
                json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
                true,
            ),
            // A condition does not exempt the statement.
            (
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
                true,
            ),
            // Another statement's Deny does not cancel the grant.
            (
                json!({"Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}, {"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
                true,
            ),
        ];
        for (document, expected) in cases {
            assert_eq!(allows_admin(&document), Some(expected), "{document}");
        }
    }

    #[test]
    fn deny_partial_wildcards_and_not_action_are_not_admin() {
        let cases = [
            json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}),
            json!({"Statement": {"Effect": "Deny", "Action": ["*"], "Resource": ["*"]}}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket/*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::b"}]}),
            json!({"Statement": [{"Effect": "Allow", "Action": "*"}]}),
            json!({"Statement": []}),
            json!({"Version": "2012-10-17"}),
        ];
        for document in cases {
            assert_eq!(allows_admin(&document), Some(false), "{document}");
        }
    }

    #[test]
    fn an_unreadable_document_is_unknown_not_safe() {
        assert_eq!(allows_admin(&Value::String("{not json".into())), None);
        assert_eq!(allows_admin(&Value::Null), None);
    }

    #[test]
    fn documents_are_percent_decoded_into_json() {
        let raw = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Amy%20bucket%2F%2A%22%7D%5D%7D";
        let value = decode_document(raw).unwrap();
        assert_eq!(
            value,
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my bucket/*"}]})
        );
        // RFC 3986: `+` is a plus, not a space.
        let value = decode_document("%7B%22a%22%3A%22x+y%22%7D").unwrap();
        assert_eq!(value, json!({"a": "x+y"}));
    }

    #[test]
    fn an_unencoded_document_is_read_as_it_stands() {
        // moto sends trust policies unencoded: without `%` decoding changes nothing.
        let plain = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert_eq!(
            decode_document(plain).unwrap()["Statement"][0]["Principal"]["Service"],
            "ec2.amazonaws.com"
        );
        assert_eq!(
            decode_document(r#"{"Sid":"100%"}"#).unwrap(),
            json!({"Sid": "100%"})
        );
        // Decoding `%22` would break the JSON: the raw text, which is JSON, is used.
        assert_eq!(
            decode_document(r#"{"Sid":"%22"}"#).unwrap(),
            json!({"Sid": "%22"})
        );
    }

    #[test]
    fn a_document_that_is_not_json_is_kept_as_decoded_text() {
        let err = decode_document("%7Bnot%20json").unwrap_err();
        assert_eq!(err.text, "{not json");
        assert!(err.error.contains("not JSON"), "{}", err.error);
    }

    fn trust(statements: Value) -> Trust {
        analyse_trust(
            &json!({"Version": "2012-10-17", "Statement": statements}),
            ACCOUNT,
        )
        .unwrap()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn trust_lists_principals_and_finds_the_external_ones() {
        let t = trust(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::999988887777:role/ci", "111122223333"]}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, "Action": "sts:AssumeRoleWithWebIdentity"},
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"}
        ]));
        assert_eq!(
            t.principals,
            set(&[
                "AWS:111122223333",
                "AWS:arn:aws:iam::123456789012:root",
                "AWS:arn:aws:iam::999988887777:role/ci",
                "Federated:arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
                "Service:lambda.amazonaws.com",
            ])
        );
        let external = set(&["AWS:111122223333", "AWS:arn:aws:iam::999988887777:role/ci"]);
        assert_eq!(t.external, external);
        assert_eq!(t.external_without_external_id, external);
    }

    #[test]
    fn external_id_conditions_are_read_exactly() {
        let with = |condition: Value| {
            trust(json!({
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                "Action": "sts:AssumeRole",
                "Condition": condition
            }))
        };
        for required in [
            json!({"StringEquals": {"sts:ExternalId": "abc"}}),
            json!({"StringLike": {"sts:externalid": "abc*"}}),
            json!({"ForAnyValue:StringEquals": {"sts:ExternalId": ["a", "b"]}}),
            json!({"StringEquals": {"sts:ExternalId": "abc", "aws:PrincipalTag/x": "y"}}),
        ] {
            let t = with(required.clone());
            assert_eq!(t.external.len(), 1, "{required}");
            assert!(t.external_without_external_id.is_empty(), "{required}");
        }
        for not_required in [
            json!({"StringEqualsIfExists": {"sts:ExternalId": "abc"}}),
            json!({"StringNotEquals": {"sts:ExternalId": "abc"}}),
            json!({"ForAllValues:StringEquals": {"sts:ExternalId": "abc"}}),
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-123"}}),
            json!({"Null": {"sts:ExternalId": "false"}}),
        ] {
            let t = with(not_required.clone());
            assert_eq!(
                t.external_without_external_id,
                set(&["AWS:arn:aws:iam::999988887777:root"]),
                "{not_required}"
            );
        }
    }

    #[test]
    fn everyone_and_not_principal_count_as_external() {
        let t = trust(json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}));
        assert_eq!(t.principals, set(&["*"]));
        assert_eq!(t.external_without_external_id, set(&["*"]));
        let t = trust(
            json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}),
        );
        assert_eq!(t.external, set(&["AWS:*"]));
        let t = trust(
            json!({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}),
        );
        assert_eq!(
            t.principals,
            set(&["NotPrincipal:AWS:arn:aws:iam::123456789012:root"])
        );
        assert_eq!(t.external, set(&["*"]));
        // Same account in every form, and a deleted role's unique id, are not external.
        let t = trust(
            json!({"Effect": "Allow", "Principal": {"AWS": ["123456789012", "arn:aws:sts::123456789012:assumed-role/x/y", "AROAEXAMPLEID"]}, "Action": "sts:AssumeRole"}),
        );
        assert!(t.external.is_empty());
        assert_eq!(analyse_trust(&Value::String("x".into()), ACCOUNT), None);
    }

    #[test]
    fn policy_arns_name_the_policy_and_its_owner() {
        assert_eq!(
            name_from_arn("arn:aws:iam::aws:policy/service-role/AWSConfigRole"),
            "AWSConfigRole"
        );
        assert_eq!(
            name_from_arn("arn:aws:iam::123456789012:policy/ops/admin"),
            "admin"
        );
        assert!(is_aws_managed(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(is_aws_managed(
            "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"
        ));
        assert!(!is_aws_managed("arn:aws:iam::123456789012:policy/aws"));
    }
}
