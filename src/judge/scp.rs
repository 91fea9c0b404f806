//! Service control policy (SCP) logic (pure): which SCPs are in effect for an account, and
//! whether an SCP document denies an action. The org rules (`findings::org_rules`) judge the
//! decoded documents of `organization/policies.json` with it, so `report` applies the current
//! logic to an old org bundle.
//!
//! # In effect
//!
//! An SCP is in effect for an account when it is attached to the organization's root, to an OU
//! on the account's path (`accounts.csv`'s `ou_ids`: the root id, then every OU down to the
//! account's parent), or to the account itself ([`in_effect`]). Only policies of type
//! `SERVICE_CONTROL_POLICY` count, and only while that type is `ENABLED` on the root
//! ([`scps_enabled`]; `PENDING_ENABLE` and `PENDING_DISABLE` count as not enabled). SCPs never
//! apply to the management account, whatever is attached to it: the callers leave it out.
//!
//! # Denies
//!
//! A document denies an action ([`denial`]) when one of its statements
//! - has `"Effect": "Deny"`;
//! - covers the action: an `Action` pattern (a string or a list of strings) matches it, or it
//!   has a `NotAction` (string or list) none of whose patterns matches it. Patterns are IAM's:
//!   the whole `service:Action` name, case-insensitive, `*` for any run of characters and `?`
//!   for one (`*`, `cloudtrail:*`, `cloudtrail:Stop*`, `cloudtrail:StopLoggin?`);
//! - applies to every resource: `Resource` is `"*"` or a list that holds `"*"`. A statement
//!   limited to some resources (a trail's ARN, `arn:aws:cloudtrail:*:*:trail/org-*`) protects
//!   only those and does not count; a statement with `NotResource` never counts (it denies on
//!   every resource but the ones it names, which may be the ones that matter).
//!
//! A statement with a `Condition` still counts, as a deny that applies only when its
//! conditions hold: [`Denial::When`] keeps, per such statement, each condition's key, operator
//! and values, so a finding can say "denied only when aws:PrincipalARN ArnNotLike
//! arn:aws:iam::*:role/BreakGlass". A statement without a condition (or with an empty one) is
//! [`Denial::Always`], which wins over conditional ones.
//!
//! `Allow` statements are ignored: SCPs grant nothing, and an allow cannot undo a deny.
//!
//! A document or statement that does not have this shape (not a JSON object, no `Statement`,
//! a statement that is not an object, an `Effect` other than `Allow`/`Deny`, both or neither of
//! `Action`/`NotAction` or `Resource`/`NotResource`, a list item or condition that is not a
//! string, number or boolean) never counts as a deny and never panics; [`problems`] says what
//! is wrong, so a rule can name the policy it could not judge.

use serde_json::{Map, Value};

use crate::contract::organization::{AccountRow, PolicyRecord, RootRecord, TargetRecord};

/// The policy type of SCPs.
pub const SERVICE_CONTROL_POLICY: &str = "SERVICE_CONTROL_POLICY";
/// The status of an enabled policy type on a root.
pub const ENABLED: &str = "ENABLED";

/// Whether SCPs are enabled on a root: its `SERVICE_CONTROL_POLICY` type is `ENABLED`.
pub fn scps_enabled(root: &RootRecord) -> bool {
    root.policy_types
        .iter()
        .any(|t| t.kind == SERVICE_CONTROL_POLICY && t.status == ENABLED)
}

/// Where a policy is attached on the account's path (the root, an OU above it, the account
/// itself), if anywhere: the first of its targets that is. Empty target ids never match.
pub fn attached_at<'a>(policy: &'a PolicyRecord, account: &AccountRow) -> Option<&'a TargetRecord> {
    policy.targets.iter().find(|target| {
        !target.id.is_empty()
            && (target.id == account.account_id || account.ou_ids.contains(&target.id))
    })
}

/// The SCPs in effect for an account, each with the target it is in effect through, in the
/// order of `policies`. The caller checks that SCPs are enabled and that the account is not the
/// management account.
pub fn in_effect<'a>(
    policies: &'a [PolicyRecord],
    account: &AccountRow,
) -> Vec<(&'a PolicyRecord, &'a TargetRecord)> {
    policies
        .iter()
        .filter(|p| p.kind == SERVICE_CONTROL_POLICY)
        .filter_map(|p| attached_at(p, account).map(|target| (p, target)))
        .collect()
}

/// Whether an IAM action pattern matches an action: case-insensitive, `*` any run of
/// characters (none included), `?` exactly one.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let action: Vec<char> = action.to_lowercase().chars().collect();
    glob(&pattern, &action)
}

/// Wildcard matching with backtracking to the last `*` (linear in practice, never recursive).
fn glob(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// One condition of a statement: `"Condition": {operator: {key: values}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    /// Strings as they are; numbers and booleans as their JSON text.
    pub values: Vec<String>,
}

impl std::fmt::Display for Condition {
    /// `aws:PrincipalARN ArnNotLike arn:aws:iam::*:role/A, arn:aws:iam::*:role/B`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.key,
            self.operator,
            self.values.join(", ")
        )
    }
}

/// How a document (or several) denies an action on every resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// A statement without condition denies it.
    Always,
    /// Only statements with conditions deny it: it is denied when all the conditions of one
    /// of them hold. One entry per statement, in document order.
    When(Vec<Vec<Condition>>),
}

impl Denial {
    /// Both denials together (a deny anywhere applies): `Always` wins, conditions add up.
    pub fn or(self, other: Denial) -> Denial {
        match (self, other) {
            (Denial::Always, _) | (_, Denial::Always) => Denial::Always,
            (Denial::When(mut a), Denial::When(b)) => {
                for conditions in b {
                    if !a.contains(&conditions) {
                        a.push(conditions);
                    }
                }
                Denial::When(a)
            }
        }
    }

    /// `denied` or `denied only when K OP V and K2 OP V2, or when K3 OP V3`.
    pub fn describe(&self) -> String {
        match self {
            Denial::Always => "denied".to_string(),
            Denial::When(statements) => {
                let whens: Vec<String> = statements
                    .iter()
                    .map(|conditions| {
                        let each: Vec<String> = conditions.iter().map(|c| c.to_string()).collect();
                        format!("when {}", each.join(" and "))
                    })
                    .collect();
                format!("denied only {}", whens.join(", or "))
            }
        }
    }
}

/// Whether `document` denies `action` on every resource (see the module docs), and under
/// which conditions.
pub fn denial(document: &Value, action: &str) -> Option<Denial> {
    let statements = statements(document).ok()?;
    statements
        .iter()
        .filter_map(|s| statement(s).ok())
        .filter(|s| s.denies(action))
        .map(|s| match s.conditions.is_empty() {
            true => Denial::Always,
            false => Denial::When(vec![s.conditions]),
        })
        .reduce(Denial::or)
}

/// What keeps part of a document from being judged, one entry per problem (empty when the
/// whole document has the shape [`denial`] reads). `Allow` statements are not checked further
/// than their `Effect`: they never deny.
pub fn problems(document: &Value) -> Vec<String> {
    let statements = match statements(document) {
        Ok(statements) => statements,
        Err(why) => return vec![why],
    };
    statements
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            statement(s)
                .err()
                .map(|why| format!("statement {}: {why}", i + 1))
        })
        .collect()
}

/// The statements of a document: `Statement` as a list, or a single statement.
fn statements(document: &Value) -> Result<Vec<&Value>, String> {
    let object = match document {
        Value::Object(object) => object,
        Value::String(_) => return Err("the document is not JSON".to_string()),
        _ => return Err("the document is not a JSON object".to_string()),
    };
    match object.get("Statement") {
        Some(Value::Array(list)) => Ok(list.iter().collect()),
        Some(one @ Value::Object(_)) => Ok(vec![one]),
        Some(_) => Err("Statement is neither a statement nor a list of them".to_string()),
        None => Err("the document has no Statement".to_string()),
    }
}

/// What a statement names its actions or resources by.
#[derive(Debug)]
enum Names {
    /// `Action` / `Resource`: the ones named.
    Listed(Vec<String>),
    /// `NotAction` / `NotResource`: all but the ones named.
    AllBut(Vec<String>),
}

/// A statement read for judging a deny (an `Allow` is read no further than its `Effect`: it
/// never denies).
#[derive(Debug)]
struct Statement {
    deny: bool,
    actions: Names,
    resources: Names,
    conditions: Vec<Condition>,
}

impl Statement {
    fn denies(&self, action: &str) -> bool {
        let covered = match &self.actions {
            Names::Listed(patterns) => patterns.iter().any(|p| action_matches(p, action)),
            Names::AllBut(patterns) => !patterns.iter().any(|p| action_matches(p, action)),
        };
        let everywhere = match &self.resources {
            Names::Listed(resources) => resources.iter().any(|r| r == "*"),
            Names::AllBut(_) => false,
        };
        self.deny && covered && everywhere
    }
}

fn statement(value: &Value) -> Result<Statement, String> {
    let Value::Object(object) = value else {
        return Err("not an object".to_string());
    };
    let deny = match object.get("Effect") {
        Some(Value::String(effect)) if effect == "Deny" => true,
        Some(Value::String(effect)) if effect == "Allow" => false,
        Some(other) => return Err(format!("Effect {other} is neither Allow nor Deny")),
        None => return Err("no Effect".to_string()),
    };
    if !deny {
        return Ok(Statement {
            deny,
            actions: Names::Listed(Vec::new()),
            resources: Names::Listed(Vec::new()),
            conditions: Vec::new(),
        });
    }
    Ok(Statement {
        deny,
        actions: names(object, "Action", "NotAction")?,
        resources: names(object, "Resource", "NotResource")?,
        conditions: conditions(object.get("Condition"))?,
    })
}

/// `listed` or `all_but` (exactly one of them), as a string or a non-empty list of strings.
fn names(object: &Map<String, Value>, listed: &str, all_but: &str) -> Result<Names, String> {
    match (object.get(listed), object.get(all_but)) {
        (Some(value), None) => Ok(Names::Listed(strings(value, listed)?)),
        (None, Some(value)) => Ok(Names::AllBut(strings(value, all_but)?)),
        (Some(_), Some(_)) => Err(format!("both {listed} and {all_but}")),
        (None, None) => Err(format!("neither {listed} nor {all_but}")),
    }
}

fn strings(value: &Value, element: &str) -> Result<Vec<String>, String> {
    let list = match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("{element} holds {other}, not a string")),
            })
            .collect::<Result<_, _>>()?,
        other => return Err(format!("{element} is {other}, not a string or a list")),
    };
    if list.is_empty() {
        return Err(format!("{element} is an empty list"));
    }
    Ok(list)
}

/// `"Condition": {operator: {key: value or [values]}}`; absent or empty: no condition.
fn conditions(value: Option<&Value>) -> Result<Vec<Condition>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Value::Object(operators) = value else {
        return Err(format!("Condition is {value}, not an object"));
    };
    let mut all = Vec::new();
    for (operator, keys) in operators {
        let Value::Object(keys) = keys else {
            return Err(format!("Condition {operator} is {keys}, not an object"));
        };
        for (key, values) in keys {
            let scalar = |v: &Value| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Number(_) | Value::Bool(_) => Ok(v.to_string()),
                other => Err(format!("Condition {operator} {key} holds {other}")),
            };
            let values = match values {
                Value::Array(items) => items.iter().map(scalar).collect::<Result<_, _>>()?,
                one => vec![scalar(one)?],
            };
            all.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                values,
            });
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::cell::List;
    use crate::contract::organization::PolicyTypeRecord;
    use serde_json::json;

    fn deny(action: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": action, "Resource": "*"}
        ]})
    }

    fn always(document: &Value, action: &str) -> bool {
        denial(document, action) == Some(Denial::Always)
    }

    #[test]
    fn an_exact_action_is_denied_and_no_other() {
        let doc = deny(json!("cloudtrail:StopLogging"));
        assert!(always(&doc, "cloudtrail:StopLogging"));
        assert_eq!(denial(&doc, "cloudtrail:DeleteTrail"), None);
        assert_eq!(denial(&doc, "cloudtrail:StopLoggingX"), None);
        assert!(problems(&doc).is_empty());
    }

    #[test]
    fn service_and_full_wildcards_cover_every_action_of_their_scope() {
        let doc = deny(json!("cloudtrail:*"));
        assert!(always(&doc, "cloudtrail:StopLogging"));
        assert!(always(&doc, "cloudtrail:DeleteTrail"));
        assert_eq!(denial(&doc, "guardduty:DeleteDetector"), None);
        let doc = deny(json!("*"));
        assert!(always(&doc, "organizations:LeaveOrganization"));
    }

    #[test]
    fn prefix_wildcards_and_question_marks_match_as_iam_does() {
        let doc = deny(json!("cloudtrail:Stop*"));
        assert!(always(&doc, "cloudtrail:StopLogging"));
        assert_eq!(denial(&doc, "cloudtrail:DeleteTrail"), None);
        let doc = deny(json!("cloudtrail:StopLoggin?"));
        assert!(always(&doc, "cloudtrail:StopLogging"));
        assert_eq!(denial(&doc, "cloudtrail:StopLoggin"), None);
        assert_eq!(denial(&doc, "cloudtrail:StopLoggingg"), None);
        let doc = deny(json!("*:Delete*"));
        assert!(always(&doc, "guardduty:DeleteDetector"));
        assert!(action_matches("a*b*c", "aXXbYYc"));
        assert!(!action_matches("a*b*c", "aXXbYY"));
        assert!(action_matches("**", ""));
        assert!(!action_matches("?", ""));
    }

    #[test]
    fn matching_ignores_case() {
        let doc = deny(json!("CloudTrail:stoplogging"));
        assert!(always(&doc, "cloudtrail:StopLogging"));
        assert!(always(
            &deny(json!("CLOUDTRAIL:STOP*")),
            "cloudtrail:StopLogging"
        ));
    }

    #[test]
    fn an_action_list_works_like_a_string() {
        let doc = deny(json!([
            "guardduty:DeleteDetector",
            "cloudtrail:StopLogging"
        ]));
        assert!(always(&doc, "cloudtrail:StopLogging"));
        assert!(always(&doc, "guardduty:DeleteDetector"));
        assert_eq!(denial(&doc, "cloudtrail:DeleteTrail"), None);
    }

    #[test]
    fn not_action_denies_every_action_it_does_not_name() {
        let doc = json!({"Statement": {
            "Effect": "Deny", "NotAction": ["iam:*", "cloudtrail:Describe*"], "Resource": "*"
        }});
        assert!(always(&doc, "cloudtrail:StopLogging"));
        assert_eq!(denial(&doc, "cloudtrail:DescribeTrails"), None);
        assert_eq!(denial(&doc, "iam:CreateUser"), None);
        let doc = json!({"Statement": {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}});
        assert!(always(&doc, "organizations:LeaveOrganization"));
    }

    #[test]
    fn a_deny_limited_to_some_resources_does_not_count() {
        let doc = json!({"Statement": [{
            "Effect": "Deny", "Action": "cloudtrail:StopLogging",
            "Resource": "arn:aws:cloudtrail:*:*:trail/org-trail"
        }]});
        assert_eq!(denial(&doc, "cloudtrail:StopLogging"), None);
        assert!(problems(&doc).is_empty());
        let doc = json!({"Statement": [{
            "Effect": "Deny", "Action": "cloudtrail:StopLogging",
            "Resource": ["arn:aws:cloudtrail:*:*:trail/a", "*"]
        }]});
        assert!(always(&doc, "cloudtrail:StopLogging"));
    }

    #[test]
    fn not_resource_never_counts() {
        let doc = json!({"Statement": [{
            "Effect": "Deny", "Action": "cloudtrail:StopLogging",
            "NotResource": "arn:aws:cloudtrail:*:*:trail/sandbox"
        }]});
        assert_eq!(denial(&doc, "cloudtrail:StopLogging"), None);
        assert!(problems(&doc).is_empty());
    }

    #[test]
    fn a_conditional_deny_counts_with_its_conditions() {
        let doc = json!({"Statement": [{
            "Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalARN": [
                "arn:aws:iam::*:role/BreakGlass", "arn:aws:iam::*:role/Admin"
            ]}, "Bool": {"aws:MultiFactorAuthPresent": false}}
        }]});
        let got = denial(&doc, "cloudtrail:StopLogging").unwrap();
        let Denial::When(statements) = &got else {
            panic!("{got:?}")
        };
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0][0],
            Condition {
                operator: "ArnNotLike".into(),
                key: "aws:PrincipalARN".into(),
                values: vec![
                    "arn:aws:iam::*:role/BreakGlass".into(),
                    "arn:aws:iam::*:role/Admin".into()
                ],
            }
        );
        assert_eq!(
            got.describe(),
            "denied only when aws:PrincipalARN ArnNotLike arn:aws:iam::*:role/BreakGlass, \
             arn:aws:iam::*:role/Admin and aws:MultiFactorAuthPresent Bool false"
        );
    }

    #[test]
    fn an_unconditional_deny_wins_and_conditional_ones_add_up() {
        let conditional = |role: &str| {
            json!({"Effect": "Deny", "Action": "cloudtrail:*", "Resource": "*",
                   "Condition": {"ArnNotLike": {"aws:PrincipalARN": role}}})
        };
        let doc = json!({"Statement": [conditional("a"), conditional("b")]});
        let got = denial(&doc, "cloudtrail:StopLogging").unwrap();
        assert_eq!(
            got.describe(),
            "denied only when aws:PrincipalARN ArnNotLike a, or when aws:PrincipalARN ArnNotLike b"
        );
        let doc = json!({"Statement": [conditional("a"),
            {"Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "*", "Condition": {}}]});
        assert!(always(&doc, "cloudtrail:StopLogging"));
        assert_eq!(Denial::Always.describe(), "denied");
        let one = Denial::When(vec![vec![]]);
        assert_eq!(one.clone().or(one.clone()), one);
    }

    #[test]
    fn allow_statements_are_ignored() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "cloudtrail:StopLogging", "Resource": "*"}
        ]});
        assert_eq!(denial(&doc, "cloudtrail:StopLogging"), None);
        assert!(problems(&doc).is_empty());
        // An Allow is not checked further: its odd shape is no problem of a deny.
        let doc = json!({"Statement": {"Effect": "Allow", "Action": 3}});
        assert!(problems(&doc).is_empty());
    }

    #[test]
    fn malformed_documents_never_count_and_say_why() {
        let cases = [
            (json!("{not json"), "the document is not JSON"),
            (json!(null), "the document is not a JSON object"),
            (json!([1, 2]), "the document is not a JSON object"),
            (json!({}), "the document has no Statement"),
            (
                json!({"Statement": "Deny"}),
                "Statement is neither a statement nor a list of them",
            ),
            (json!({"Statement": [7]}), "statement 1: not an object"),
            (
                json!({"Statement": [{"Action": "*", "Resource": "*"}]}),
                "statement 1: no Effect",
            ),
            (
                json!({"Statement": [{"Effect": "deny", "Action": "*", "Resource": "*"}]}),
                "statement 1: Effect \"deny\" is neither Allow nor Deny",
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Resource": "*"}]}),
                "statement 1: neither Action nor NotAction",
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Action": "*", "NotAction": "s3:*",
                                      "Resource": "*"}]}),
                "statement 1: both Action and NotAction",
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Action": "*"}]}),
                "statement 1: neither Resource nor NotResource",
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Action": ["*", 1], "Resource": "*"}]}),
                "statement 1: Action holds 1, not a string",
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Action": [], "Resource": "*"}]}),
                "statement 1: Action is an empty list",
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Action": {"a": 1}, "Resource": "*"}]}),
                "statement 1: Action is {\"a\":1}, not a string or a list",
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                                      "Condition": "x"}]}),
                "statement 1: Condition is \"x\", not an object",
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                                      "Condition": {"Bool": true}}]}),
                "statement 1: Condition Bool is true, not an object",
            ),
            (
                json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                                      "Condition": {"Bool": {"k": {"x": 1}}}}]}),
                "statement 1: Condition Bool k holds {\"x\":1}",
            ),
        ];
        for (doc, why) in cases {
            assert_eq!(denial(&doc, "cloudtrail:StopLogging"), None, "{doc}");
            assert_eq!(problems(&doc), [why], "{doc}");
        }
        // A bad statement does not spoil a good one beside it.
        let doc = json!({"Statement": [
            {"Effect": "Deny", "Action": 1, "Resource": "*"},
            {"Effect": "Deny", "Action": "cloudtrail:StopLogging", "Resource": "*"}
        ]});
        assert!(always(&doc, "cloudtrail:StopLogging"));
        assert_eq!(problems(&doc).len(), 1);
    }

    fn policy(kind: &str, targets: &[&str]) -> PolicyRecord {
        PolicyRecord {
            id: "p-1".into(),
            name: "Guardrails".into(),
            kind: kind.into(),
            targets: targets
                .iter()
                .map(|id| TargetRecord {
                    id: id.to_string(),
                    ..TargetRecord::default()
                })
                .collect(),
            ..PolicyRecord::default()
        }
    }

    fn account() -> AccountRow {
        AccountRow {
            account_id: "111111111111".into(),
            status: "ACTIVE".into(),
            ou_ids: List::from(vec!["r-ab12".to_string(), "ou-ab12-prod".to_string()]),
            ..AccountRow::default()
        }
    }

    #[test]
    fn a_policy_is_in_effect_through_the_root_an_ou_on_the_path_or_the_account() {
        let account = account();
        for target in ["r-ab12", "ou-ab12-prod", "111111111111"] {
            let policies = [policy(SERVICE_CONTROL_POLICY, &["ou-other", target])];
            let got = in_effect(&policies, &account);
            assert_eq!(got.len(), 1, "{target}");
            assert_eq!(got[0].1.id, target);
        }
        for targets in [&["ou-ab12-dev"][..], &["222222222222"], &[""], &[]] {
            let policies = [policy(SERVICE_CONTROL_POLICY, targets)];
            assert!(in_effect(&policies, &account).is_empty(), "{targets:?}");
        }
        // Only SCPs count.
        let policies = [policy("TAG_POLICY", &["r-ab12"])];
        assert!(in_effect(&policies, &account).is_empty());
    }

    #[test]
    fn scps_are_enabled_only_when_their_type_is_enabled() {
        let root = |status: &str| RootRecord {
            policy_types: vec![PolicyTypeRecord {
                kind: SERVICE_CONTROL_POLICY.into(),
                status: status.into(),
            }],
            ..RootRecord::default()
        };
        assert!(scps_enabled(&root("ENABLED")));
        assert!(!scps_enabled(&root("PENDING_ENABLE")));
        assert!(!scps_enabled(&root("PENDING_DISABLE")));
        assert!(!scps_enabled(&RootRecord::default()));
    }
}
