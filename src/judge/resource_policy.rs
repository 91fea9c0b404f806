//! Who a resource policy (an S3 bucket policy, a KMS key policy) grants access to.
//!
//! Pure functions over the policy document as JSON: the collectors use them for the grants
//! tables, the rules `s3-bucket-policy-external` and `kms-key-policy-external` to judge the raw
//! documents (so `report` applies the current logic to an old bundle).
//!
//! - Only `Allow` statements grant. Each principal of a statement is one grant: `"*"` and
//!   `{"AWS": "*"}` are anyone; an AWS principal is an account (`123456789012`,
//!   `arn:aws:iam::123456789012:root`, or any ARN of that account: a role, a user); `Service`,
//!   `Federated` and `CanonicalUser` principals are kept with their kind. An `Allow` with
//!   `NotPrincipal` grants everyone but the listed principals: anyone.
//! - A grant to anyone is restricted when the statement has a condition on who or where the
//!   caller is: `aws:SourceAccount`, `aws:SourceOwner`, `aws:SourceArn`, `aws:PrincipalAccount`,
//!   `aws:PrincipalArn`, `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:SourceVpc`,
//!   `aws:SourceVpce`, `aws:SourceIp`, `kms:CallerAccount` (keys compared case-insensitively,
//!   with any operator). Accounts named by an account condition (`aws:SourceAccount`,
//!   `aws:PrincipalAccount`, `kms:CallerAccount`, `aws:SourceOwner`) are then judged like
//!   account principals.
//! - External: a grant to anyone unrestricted, or to an account that is neither the resource's
//!   own nor trusted. Service principals are listed, never judged external by themselves.

use std::collections::BTreeSet;

use serde_json::Value;

/// What kind of principal a grant names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Anyone,
    Account(String),
    Service,
    Federated,
    CanonicalUser,
}

impl Kind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Anyone => "anyone",
            Kind::Account(_) => "account",
            Kind::Service => "service",
            Kind::Federated => "federated",
            Kind::CanonicalUser => "canonical_user",
        }
    }
}

/// One principal of one `Allow` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The statement's `Sid`, or its position (`#1`) when it has none.
    pub sid: String,
    /// The principal as written.
    pub principal: String,
    pub kind: Kind,
    pub actions: Vec<String>,
    /// Every condition of the statement, as `operator key`.
    pub conditions: Vec<String>,
    /// The condition keys that restrict who or where the caller is.
    pub restricted_by: Vec<String>,
    /// Accounts an account condition names.
    pub condition_accounts: Vec<String>,
    /// The statement, as compact JSON, for the finding's detail.
    pub statement: String,
}

const RESTRICTING: [&str; 11] = [
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcearn",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "kms:calleraccount",
];

const ACCOUNT_KEYS: [&str; 4] = [
    "aws:sourceaccount",
    "aws:principalaccount",
    "kms:calleraccount",
    "aws:sourceowner",
];

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The account of an AWS principal: a bare 12-digit id, or the account field of an ARN.
pub fn account_of(principal: &str) -> Option<String> {
    let is_id = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_id(principal) {
        return Some(principal.to_string());
    }
    let account = principal.split(':').nth(4)?;
    is_id(account).then(|| account.to_string())
}

/// Every grant of the document's `Allow` statements; empty when it is not a policy.
pub fn grants(document: &Value) -> Vec<Grant> {
    let statements: Vec<&serde_json::Map<String, Value>> = match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(one)) => vec![one],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for (i, statement) in statements.iter().enumerate() {
        let allow = statement
            .get("Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case("Allow"));
        if !allow {
            continue;
        }
        let sid = statement
            .get("Sid")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map_or_else(|| format!("#{}", i + 1), str::to_string);
        let mut actions = strings(statement.get("Action"));
        actions.extend(
            strings(statement.get("NotAction"))
                .into_iter()
                .map(|a| format!("NotAction {a}")),
        );
        let mut conditions = Vec::new();
        let mut restricted_by = BTreeSet::new();
        let mut condition_accounts = BTreeSet::new();
        if let Some(Value::Object(operators)) = statement.get("Condition") {
            for (operator, keys) in operators {
                let Value::Object(keys) = keys else { continue };
                for (key, values) in keys {
                    conditions.push(format!("{operator} {key}"));
                    let lower = key.to_ascii_lowercase();
                    if RESTRICTING.contains(&lower.as_str()) {
                        restricted_by.insert(key.clone());
                    }
                    if ACCOUNT_KEYS.contains(&lower.as_str()) {
                        for v in strings(Some(values)) {
                            condition_accounts.insert(v);
                        }
                    }
                }
            }
        }
        let text = serde_json::to_string(&Value::Object((*statement).clone())).unwrap_or_default();
        let grant = |principal: String, kind: Kind| Grant {
            sid: sid.clone(),
            principal,
            kind,
            actions: actions.clone(),
            conditions: conditions.clone(),
            restricted_by: restricted_by.iter().cloned().collect(),
            condition_accounts: condition_accounts.iter().cloned().collect(),
            statement: text.clone(),
        };
        if statement.contains_key("NotPrincipal") {
            out.push(grant("NotPrincipal".to_string(), Kind::Anyone));
            continue;
        }
        match statement.get("Principal") {
            Some(Value::String(s)) if s == "*" => out.push(grant("*".into(), Kind::Anyone)),
            Some(Value::Object(map)) => {
                for (kind, values) in map {
                    for value in strings(Some(values)) {
                        let kind = match kind.as_str() {
                            "AWS" if value == "*" => Kind::Anyone,
                            "AWS" => match account_of(&value) {
                                Some(account) => Kind::Account(account),
                                // Unique ids (AIDA..., AROA...) of deleted principals: nobody.
                                None => continue,
                            },
                            "Service" => Kind::Service,
                            "Federated" => Kind::Federated,
                            "CanonicalUser" => Kind::CanonicalUser,
                            _ => continue,
                        };
                        out.push(grant(value, kind));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Why a grant reaches outside `own` and `trusted`, or `None`.
pub fn external(grant: &Grant, own: &str, trusted: &[String]) -> Option<String> {
    let outside = |account: &str| account != own && !trusted.iter().any(|t| t == account);
    match &grant.kind {
        Kind::Anyone if grant.restricted_by.is_empty() => Some(format!(
            "statement {} grants {} to anyone ({}) with no condition on the caller's account, \
             organization, network or source",
            grant.sid,
            grant.actions.join(", "),
            grant.principal
        )),
        Kind::Anyone => {
            let foreign: Vec<&String> = grant
                .condition_accounts
                .iter()
                .filter(|a| outside(a))
                .collect();
            (!foreign.is_empty()).then(|| {
                format!(
                    "statement {} grants {} to anyone from account(s) {} (by {}), neither this \
                     account nor a trusted one",
                    grant.sid,
                    grant.actions.join(", "),
                    foreign
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    grant.restricted_by.join(", ")
                )
            })
        }
        Kind::Account(account) if outside(account) => Some(format!(
            "statement {} grants {} to account {account} ({}), neither this account nor a \
             trusted one",
            grant.sid,
            grant.actions.join(", "),
            grant.principal
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OWN: &str = "123456789012";

    fn external_of(document: Value, trusted: &[&str]) -> Vec<String> {
        let trusted: Vec<String> = trusted.iter().map(|s| s.to_string()).collect();
        grants(&document)
            .iter()
            .filter_map(|g| external(g, OWN, &trusted))
            .collect()
    }

    #[test]
    fn principals_are_read_in_every_form() {
        let doc = json!({"Statement": [
            {"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:*"},
            {"Effect": "Allow", "Principal": {"AWS": ["444455556666", "arn:aws:iam::777788889999:role/x", "AROAEXAMPLE"]}, "Action": ["s3:GetObject"]},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*"},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
        ]});
        let g = grants(&doc);
        let kinds: Vec<(&str, &str)> = g
            .iter()
            .map(|g| (g.sid.as_str(), g.kind.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Own", "account"),
                ("#2", "account"),
                ("#2", "account"),
                ("#3", "service"),
                ("#5", "anyone")
            ]
        );
        assert_eq!(g[2].kind, Kind::Account("777788889999".into()));
    }

    #[test]
    fn external_grants_and_what_restricts_them() {
        // Another account: external unless trusted.
        let other = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "s3:GetObject"}});
        assert_eq!(external_of(other.clone(), &[]).len(), 1);
        assert!(external_of(other, &["444455556666"]).is_empty());
        // Anyone, unrestricted.
        let anyone = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject"}});
        assert!(external_of(anyone, &[])[0].contains("to anyone"));
        // Anyone, but only from this organization or VPC endpoint: not external.
        let org = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}});
        assert!(external_of(org, &[]).is_empty());
        // Anyone, restricted to a source account: judged as that account.
        let source = |account: &str| {
            json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
            "Condition": {"StringEquals": {"kms:CallerAccount": account}}}})
        };
        assert!(external_of(source(OWN), &[]).is_empty());
        assert!(external_of(source("444455556666"), &[])[0].contains("444455556666"));
        // A service principal alone is not external.
        let service = json!({"Statement": {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject"}});
        assert!(external_of(service, &[]).is_empty());
        // NotPrincipal with Allow: everyone else.
        let not = json!({"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:*"}});
        assert_eq!(external_of(not, &[]).len(), 1);
        // Not a policy: nothing.
        assert!(grants(&json!("text")).is_empty());
    }
}
