//! The policy evaluation core: which actions one identity policy document allows on every
//! resource (`"Resource": "*"`), after the document's own `Deny` statements.
//!
//! Pure functions over a decoded document (a `serde_json::Value`), as `authorization-details.json`
//! keeps it, so `report` applies the current logic to an old bundle. The rules ask about the
//! concrete actions they know (the privilege-escalation methods and the exposure tables of
//! `findings::rules::privilege`); every statement's patterns are matched against each of them.
//!
//! What the evaluation reads, statement by statement:
//! - `Effect` `Allow` or `Deny` (case-insensitive); anything else is not a grant.
//! - `Action` patterns match an action as IAM does: case-insensitively, `*` for any run of
//!   characters and `?` for one, anywhere in the pattern (`*`, `iam:*`, `iam:Create*`,
//!   `*:PassRole`, `iam:?ass*`). `NotAction` matches every action that none of its patterns
//!   matches.
//! - An `Allow` counts for "every resource" when its `Resource` holds the wildcard `*` itself.
//!   A resource pattern naming ARNs (even with wildcards, `arn:aws:iam::*:role/app-*`) is a
//!   scoped grant and does not count. An `Allow` with `NotResource` grants on every resource but
//!   the listed ones: it counts, and the exception is named (unless `NotResource` lists `*`,
//!   which leaves nothing).
//! - A `Deny` of the action on `*` without a condition removes it; so does an unconditional
//!   `Deny` with `NotResource` (what it leaves allowed is only the listed resources, not every
//!   resource). A `Deny` with a condition, or on named resources only, does not remove the
//!   action: it stays granted, with the deny named as a limit.
//! - A `Condition` on an `Allow` is never taken as no restriction, nor as a refusal: the action
//!   is granted "if" the condition, and the condition is named (operator, key and values).
//!
//! Only this one document is judged: permissions boundaries, service control policies, other
//! policies' denies and resource policies are not (the rules say so in their docs).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

type Statement = Map<String, Value>;

/// How one document allows one action on every resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    /// The restrictions of the `Allow` statements that grant it, one entry per statement in
    /// words (`if StringEquals iam:PassedToService lambda.amazonaws.com`, `except on
    /// arn:...`); any one of them grants it. Empty when a statement grants it without
    /// restriction.
    pub only: BTreeSet<String>,
    /// `Deny` statements of the same document that may still refuse it (`denied if ...`,
    /// `denied on arn:...`).
    pub unless: BTreeSet<String>,
}

impl Grant {
    /// Granted on every resource with no condition and no deny that could refuse it.
    pub fn is_unrestricted(&self) -> bool {
        self.only.is_empty() && self.unless.is_empty()
    }

    /// The restrictions in words, empty when there is none: `if A, or if B; denied if C`.
    pub fn limits(&self) -> String {
        let mut parts = Vec::new();
        if !self.only.is_empty() {
            parts.push(self.only.iter().cloned().collect::<Vec<_>>().join(", or "));
        }
        parts.extend(self.unless.iter().cloned());
        parts.join("; ")
    }
}

/// An `Allow` with `NotAction` that applies to every resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotActionAllow {
    /// The statement's position in the document (1-based), and its `Sid` when it has one.
    pub statement: String,
    /// The `NotAction` patterns: everything else is allowed.
    pub excluded_actions: Vec<String>,
    /// The resources excluded by `NotResource`; empty for `"Resource": "*"`.
    pub excluded_resources: Vec<String>,
    /// The statement's condition in words; empty without one.
    pub condition: String,
}

/// Whether an action pattern of a policy matches the action `action` (`service:Name`):
/// case-insensitive, `*` matching any run of characters and `?` exactly one.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let text: Vec<char> = action.to_ascii_lowercase().chars().collect();
    // Iterative glob matching with backtracking to the last `*`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// A statement list as policies write it: one object, or an array of them.
fn statements(document: &Value) -> Vec<&Statement> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(one)) => vec![one],
        _ => Vec::new(),
    }
}

/// A string-or-list element as its strings.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn effect_is(statement: &Statement, effect: &str) -> bool {
    statement
        .get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case(effect))
}

/// Whether the statement's `Action` (or `NotAction`) covers `action`.
fn covers_action(statement: &Statement, action: &str) -> bool {
    if let Some(patterns) = statement.get("Action") {
        strings(Some(patterns))
            .iter()
            .any(|p| action_matches(p, action))
    } else if let Some(patterns) = statement.get("NotAction") {
        !strings(Some(patterns))
            .iter()
            .any(|p| action_matches(p, action))
    } else {
        false
    }
}

/// Which resources a statement applies to, as far as "every resource" is concerned.
enum Scope {
    /// `"Resource": "*"` (alone or among others).
    Everything,
    /// `NotResource` without `*`: every resource but these.
    AllBut(Vec<String>),
    /// Named resources only (or `NotResource` listing `*`, or nothing): not every resource.
    Named(Vec<String>),
}

fn scope(statement: &Statement) -> Scope {
    if statement.get("Resource").is_some() {
        let resources = strings(statement.get("Resource"));
        if resources.contains(&"*") {
            return Scope::Everything;
        }
        return Scope::Named(resources.into_iter().map(String::from).collect());
    }
    if statement.get("NotResource").is_some() {
        let excluded = strings(statement.get("NotResource"));
        if excluded.contains(&"*") {
            return Scope::Named(Vec::new());
        }
        return Scope::AllBut(excluded.into_iter().map(String::from).collect());
    }
    Scope::Named(Vec::new())
}

/// A statement's `Condition` in words: `Operator key value[, value]`, several joined by
/// ` and `, in the document's order; empty without a condition.
pub fn describe_condition(condition: Option<&Value>) -> String {
    match condition {
        None | Some(Value::Null) => String::new(),
        Some(Value::Object(operators)) if operators.is_empty() => String::new(),
        Some(Value::Object(operators)) => {
            let mut parts = Vec::new();
            for (operator, keys) in operators {
                match keys {
                    Value::Object(keys) => {
                        for (key, values) in keys {
                            let values = match values {
                                Value::Array(list) => {
                                    list.iter().map(scalar).collect::<Vec<_>>().join(", ")
                                }
                                other => scalar(other),
                            };
                            parts.push(format!("{operator} {key} {values}"));
                        }
                    }
                    other => parts.push(format!("{operator} {other}")),
                }
            }
            parts.join(" and ")
        }
        Some(other) => format!("condition {other}"),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn has_condition(statement: &Statement) -> bool {
    !describe_condition(statement.get("Condition")).is_empty()
}

/// The actions among `actions` that `document` allows on every resource, each with its
/// restrictions; `None` when the document is not a JSON object (it could not be read).
///
/// Actions come back under the spelling given in `actions`.
pub fn grants(document: &Value, actions: &[&str]) -> Option<BTreeMap<String, Grant>> {
    if !document.is_object() {
        return None;
    }
    let statements = statements(document);
    let mut granted = BTreeMap::new();
    for &action in actions {
        if let Some(grant) = grant(&statements, action) {
            granted.insert(action.to_string(), grant);
        }
    }
    Some(granted)
}

fn grant(statements: &[&Statement], action: &str) -> Option<Grant> {
    let mut ways: Vec<Vec<String>> = Vec::new();
    for statement in statements
        .iter()
        .filter(|s| effect_is(s, "Allow") && covers_action(s, action))
    {
        let mut restrictions = Vec::new();
        match scope(statement) {
            Scope::Everything => {}
            Scope::AllBut(excluded) => {
                restrictions.push(format!("except on {} (NotResource)", excluded.join(", ")))
            }
            Scope::Named(_) => continue,
        }
        let condition = describe_condition(statement.get("Condition"));
        if !condition.is_empty() {
            restrictions.insert(0, format!("if {condition}"));
        }
        ways.push(restrictions);
    }
    if ways.is_empty() {
        return None;
    }
    let mut grant = Grant::default();
    if !ways.iter().any(Vec::is_empty) {
        grant.only = ways.into_iter().map(|w| w.join(" and ")).collect();
    }
    for statement in statements
        .iter()
        .filter(|s| effect_is(s, "Deny") && covers_action(s, action))
    {
        let condition = describe_condition(statement.get("Condition"));
        let conditional = has_condition(statement);
        match scope(statement) {
            Scope::Everything | Scope::AllBut(_) if !conditional => return None,
            Scope::Everything => {
                grant.unless.insert(format!("denied if {condition}"));
            }
            Scope::AllBut(kept) => {
                grant.unless.insert(format!(
                    "denied if {condition}, except on {}",
                    kept.join(", ")
                ));
            }
            Scope::Named(resources) if resources.is_empty() => {}
            Scope::Named(resources) => {
                let mut limit = format!("denied on {}", resources.join(", "));
                if conditional {
                    limit.push_str(&format!(" if {condition}"));
                }
                grant.unless.insert(limit);
            }
        }
    }
    Some(grant)
}

/// The `Allow` statements with `NotAction` that apply to every resource (`"Resource": "*"`,
/// or `NotResource` without `*`): each grants every action but the listed ones. `None` when
/// the document is not a JSON object.
pub fn not_action_allows(document: &Value) -> Option<Vec<NotActionAllow>> {
    if !document.is_object() {
        return None;
    }
    let mut found = Vec::new();
    for (index, statement) in statements(document).into_iter().enumerate() {
        if !effect_is(statement, "Allow") || statement.get("NotAction").is_none() {
            continue;
        }
        let excluded_resources = match scope(statement) {
            Scope::Everything => Vec::new(),
            Scope::AllBut(excluded) => excluded,
            Scope::Named(_) => continue,
        };
        let mut name = format!("statement {}", index + 1);
        if let Some(sid) = statement.get("Sid").and_then(Value::as_str) {
            if !sid.is_empty() {
                name.push_str(&format!(" ({sid})"));
            }
        }
        found.push(NotActionAllow {
            statement: name,
            excluded_actions: strings(statement.get("NotAction"))
                .into_iter()
                .map(String::from)
                .collect(),
            excluded_resources,
            condition: describe_condition(statement.get("Condition")),
        });
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn allowed(document: &Value, action: &str) -> Option<Grant> {
        grants(document, &[action]).unwrap().remove(action)
    }

    #[test]
    fn wildcards_match_at_every_position_case_insensitively() {
        let action = "iam:CreatePolicyVersion";
        for pattern in [
            "*",
            "iam:*",
            "IAM:*",
            "iam:Create*",
            "iam:create*",
            "iam:*Version",
            "iam:*Policy*",
            "*:CreatePolicyVersion",
            "i*:C*P*V*",
            "iam:CreatePolicyVersio?",
            "iam:?reatePolicyVersion",
            "iam:createpolicyversion",
            "iam:CreatePolicyVersion*",
            "*:*",
        ] {
            assert!(action_matches(pattern, action), "{pattern}");
        }
        for pattern in [
            "iam:Create",
            "iam:Delete*",
            "s3:*",
            "iam:CreatePolicyVersion?",
            "iam:?CreatePolicyVersion",
            "iam:*Versions",
            "am:*",
            "",
        ] {
            assert!(!action_matches(pattern, action), "{pattern}");
        }
    }

    #[test]
    fn an_allow_on_star_grants_and_a_scoped_allow_does_not() {
        let document = doc(json!([
            {"Effect": "Allow", "Action": ["iam:PassRole", "lambda:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::123456789012:user/ci"},
            {"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": ["arn:aws:iam::*:user/*"]},
            {"Effect": "Allow", "Action": "ec2:RunInstances"}
        ]));
        let got = grants(
            &document,
            &[
                "iam:PassRole",
                "lambda:CreateFunction",
                "lambda:InvokeFunction",
                "iam:CreateAccessKey",
                "iam:AttachUserPolicy",
                "ec2:RunInstances",
                "s3:GetObject",
            ],
        )
        .unwrap();
        let keys: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "iam:PassRole",
                "lambda:CreateFunction",
                "lambda:InvokeFunction"
            ]
        );
        assert!(got.values().all(Grant::is_unrestricted));
    }

    #[test]
    fn a_deny_on_star_in_the_same_document_removes_the_action() {
        let document = doc(json!([
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:Create*", "Resource": "*"}
        ]));
        assert_eq!(allowed(&document, "iam:CreateAccessKey"), None);
        assert_eq!(allowed(&document, "iam:CreatePolicyVersion"), None);
        assert!(allowed(&document, "iam:AttachUserPolicy")
            .unwrap()
            .is_unrestricted());
        // An unconditional Deny with NotResource leaves only the listed resources.
        let document = doc(json!([
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:PassRole", "NotResource": "arn:aws:iam::123456789012:role/app"}
        ]));
        assert_eq!(allowed(&document, "iam:PassRole"), None);
        // A Deny with NotAction denies everything else.
        let document = doc(json!([
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}
        ]));
        assert_eq!(allowed(&document, "iam:PassRole"), None);
        assert!(allowed(&document, "s3:GetObject").is_some());
    }

    #[test]
    fn a_conditional_or_scoped_deny_is_named_not_applied() {
        let document = doc(json!([
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}},
            {"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::123456789012:user/root-like"}
        ]));
        let grant = allowed(&document, "iam:CreateAccessKey").unwrap();
        assert!(!grant.is_unrestricted());
        assert!(grant.only.is_empty());
        assert_eq!(
            grant.limits(),
            "denied if Bool aws:MultiFactorAuthPresent false; denied on \
             arn:aws:iam::123456789012:user/root-like"
        );
    }

    #[test]
    fn conditions_are_kept_and_named() {
        // As AWSLambda_FullAccess passes roles: only to Lambda.
        let document = doc(json!([
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}, "Bool": {"aws:SecureTransport": true}}}
        ]));
        let pass = allowed(&document, "iam:PassRole").unwrap();
        assert_eq!(
            pass.limits(),
            "if StringEquals iam:PassedToService lambda.amazonaws.com"
        );
        let assume = allowed(&document, "sts:AssumeRole").unwrap();
        assert_eq!(
            assume.limits(),
            "if StringEquals aws:RequestedRegion eu-west-1, us-east-1 and Bool \
             aws:SecureTransport true"
        );
        // An unconditional statement for the same action lifts the condition.
        let document = doc(json!([
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}
        ]));
        assert!(allowed(&document, "iam:PassRole")
            .unwrap()
            .is_unrestricted());
        // Two conditional statements: either grants it.
        let document = doc(json!([
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}
        ]));
        assert_eq!(
            allowed(&document, "iam:PassRole").unwrap().limits(),
            "if StringEquals iam:PassedToService ec2.amazonaws.com, or if StringEquals \
             iam:PassedToService lambda.amazonaws.com"
        );
    }

    #[test]
    fn not_action_allows_everything_else() {
        // As PowerUserAccess: everything but IAM, Organizations and Account.
        let document = doc(json!([
            {"Sid": "Power", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole", "iam:ListRoles"], "Resource": "*"}
        ]));
        assert!(allowed(&document, "lambda:CreateFunction").is_some());
        assert!(allowed(&document, "s3:GetObject").is_some());
        assert_eq!(allowed(&document, "iam:PassRole"), None);
        assert_eq!(allowed(&document, "IAM:PASSROLE"), None);
        let found = not_action_allows(&document).unwrap();
        assert_eq!(
            found,
            [NotActionAllow {
                statement: "statement 1 (Power)".into(),
                excluded_actions: vec![
                    "iam:*".into(),
                    "organizations:*".into(),
                    "account:*".into()
                ],
                excluded_resources: vec![],
                condition: String::new(),
            }]
        );
        // A NotAction on named resources only, and a Deny with NotAction, are not counted.
        let scoped = doc(json!([
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}
        ]));
        assert_eq!(not_action_allows(&scoped).unwrap(), []);
        assert_eq!(allowed(&scoped, "s3:GetObject"), None);
    }

    #[test]
    fn not_resource_grants_all_but_the_listed_resources_and_says_so() {
        let document = doc(json!({
            "Effect": "Allow",
            "Action": "iam:CreateAccessKey",
            "NotResource": ["arn:aws:iam::123456789012:user/breakglass"]
        }));
        let grant = allowed(&document, "iam:CreateAccessKey").unwrap();
        assert_eq!(
            grant.limits(),
            "except on arn:aws:iam::123456789012:user/breakglass (NotResource)"
        );
        let with_condition = doc(json!({
            "Effect": "Allow",
            "NotAction": "iam:*",
            "NotResource": "arn:aws:s3:::vault/*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        }));
        assert_eq!(
            allowed(&with_condition, "s3:GetObject").unwrap().limits(),
            "if Bool aws:MultiFactorAuthPresent true and except on arn:aws:s3:::vault/* \
             (NotResource)"
        );
        let found = not_action_allows(&with_condition).unwrap();
        assert_eq!(found[0].excluded_resources, ["arn:aws:s3:::vault/*"]);
        assert_eq!(found[0].condition, "Bool aws:MultiFactorAuthPresent true");
        // NotResource listing `*` excludes everything.
        let nothing = doc(json!({"Effect": "Allow", "Action": "*", "NotResource": "*"}));
        assert_eq!(allowed(&nothing, "iam:PassRole"), None);
    }

    #[test]
    fn statements_without_action_resource_or_allow_grant_nothing() {
        for document in [
            doc(json!({"Effect": "Allow", "Resource": "*"})),
            doc(json!({"Effect": "allow", "Action": "iam:PassRole"})),
            doc(json!({"Effect": "Audit", "Action": "*", "Resource": "*"})),
            doc(json!({"Action": "*", "Resource": "*"})),
            doc(json!([])),
            json!({"Version": "2012-10-17"}),
        ] {
            assert_eq!(allowed(&document, "iam:PassRole"), None, "{document}");
        }
        // Effect is read case-insensitively, and one statement object works like a list.
        let lower = doc(json!({"Effect": "allow", "Action": "iam:passrole", "Resource": "*"}));
        assert!(allowed(&lower, "iam:PassRole").is_some());
    }

    #[test]
    fn an_unreadable_document_is_unknown() {
        assert_eq!(
            grants(&Value::String("{oops".into()), &["iam:PassRole"]),
            None
        );
        assert_eq!(not_action_allows(&Value::Null), None);
    }
}
