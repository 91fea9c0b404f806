//! Whether a CloudWatch Logs metric filter pattern watches for one of the monitoring items of
//! CIS AWS Foundations v3.0 section 4 (Security Hub CloudWatch.1 to .14, and CIS 4.15).
//!
//! # The patterns
//!
//! [`ITEMS`] holds each item's pattern as published: CloudWatch.1 to .14 as the Security Hub
//! user guide's remediation steps give them ("Amazon CloudWatch controls",
//! `doc_source/cloudwatch-controls.md` of awsdocs/aws-security-hub-user-guide, which states that
//! the check fails unless "the exact metric filters prescribed by CIS are used"), and CIS 4.15
//! (AWS Organizations changes, no Security Hub control) as the CIS AWS Foundations Benchmark
//! v3.0.0 recommendation 4.15 gives it.
//!
//! # The syntax read
//!
//! A JSON filter pattern, `{ EXPRESSION }`, as CloudWatch Logs defines it: comparisons
//! `SELECTOR OP VALUE` with `OP` one of `=`, `!=`, `<`, `>`, `<=`, `>=`, and the forms
//! `SELECTOR IS NULL`, `SELECTOR IS TRUE`, `SELECTOR IS FALSE`, `SELECTOR NOT EXISTS`; joined by
//! `&&` and `||` (`&&` binds tighter, as in CloudWatch Logs' compound expressions) and grouped
//! with parentheses. A selector starts with `$` (`$.userIdentity.type`, `$.a[0].b`); a value is
//! a double-quoted string (backslash escapes), a bare word (`CreateVpc`, `kms.amazonaws.com`,
//! `123.123.*`) or a regular expression between `%`. Whitespace between tokens is ignored.
//! Anything else (a text pattern such as `ERROR`, a space-delimited `[...]` pattern, an empty
//! pattern, an unbalanced parenthesis, a missing value, nesting deeper than 32) is not a JSON
//! pattern this module can judge: [`parse`] says why, and such a filter covers no item.
//!
//! # The coverage rule
//!
//! A filter covers an item when it matches at least every event the item's pattern matches:
//! extra alternatives (`||`) are fine, an extra restriction (`&&`) is not. Decided exactly, as
//! propositional logic over the comparisons (the atoms), without evaluating any event:
//!
//! 1. Two comparisons are the same atom when their selector, operator and value are the same
//!    text, a quoted value being its unquoted content (`"Root"` and `Root` are one value; case
//!    counts, as it does in CloudWatch Logs' string comparisons). Whitespace, the order of the
//!    terms and redundant parentheses never matter.
//! 2. The item's pattern is written as alternatives of conjunctions (disjunctive normal form);
//!    each conjunction is one kind of event the item must catch.
//! 3. The filter covers the item when, for every such conjunction, the filter is true with the
//!    conjunction's atoms true and every other atom false. JSON filter patterns have no
//!    negation operator (`!=` is an atom of its own), so the filter is monotone in its atoms
//!    and this test is exact: it holds iff the item's pattern implies the filter.
//! 4. One implication between different atoms is used: a filter's `SELECTOR = VALUE` whose value
//!    holds `*` wildcards (and is not a `%regex%`) is true when the conjunction has an `=` on the
//!    same selector whose value the wildcard text matches (`$.eventName = *` holds whenever the
//!    event is one of named events; `$.errorCode = "Access*"` whenever `$.errorCode =
//!    "AccessDenied*"`, since every string the latter matches the former matches too). So a
//!    catch-all `{ $.eventName = * }` covers every item all of whose alternatives name an
//!    `eventName` (CloudWatch.4, .5, .10 to .14, ...), though not root usage, unauthorized calls
//!    or the sign-in items, which test other fields. No other implication is assumed: `!=`,
//!    `<`, `IS NULL`, `NOT EXISTS` and regular expressions are only ever the same atom as their
//!    own text.
//!
//! Consequences: reordered terms, extra whitespace, quoting and extra `||` alternatives keep a
//! filter covering; a missing event name, or an extra `&&` restriction (`&& $.awsRegion =
//! "us-east-1"`), make it not cover; a malformed or non-JSON pattern never covers.

use std::fmt;

/// One monitoring item of CIS AWS Foundations v3.0 section 4 and its pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// The Security Hub control id (`CloudWatch.1`), or `CIS 4.15` where there is none.
    pub id: &'static str,
    /// The CIS AWS Foundations v3.0 recommendation (`4.3`).
    pub cis: &'static str,
    pub title: &'static str,
    /// The filter pattern as published (see the module doc for the sources).
    pub pattern: &'static str,
}

/// The fifteen items, in Security Hub order, CIS 4.15 last.
pub static ITEMS: [Item; 15] = [
    Item {
        id: "CloudWatch.1",
        cis: "4.3",
        title: "usage of the root user",
        pattern: r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#,
    },
    Item {
        id: "CloudWatch.2",
        cis: "4.1",
        title: "unauthorized API calls",
        pattern: r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#,
    },
    Item {
        id: "CloudWatch.3",
        cis: "4.2",
        title: "Management Console sign-in without MFA",
        pattern: r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#,
    },
    Item {
        id: "CloudWatch.4",
        cis: "4.4",
        title: "IAM policy changes",
        pattern: "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || \
                  ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || \
                  ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || \
                  ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || \
                  ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || \
                  ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || \
                  ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || \
                  ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}",
    },
    Item {
        id: "CloudWatch.5",
        cis: "4.5",
        title: "CloudTrail configuration changes",
        pattern: "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || \
                  ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || \
                  ($.eventName=StopLogging)}",
    },
    Item {
        id: "CloudWatch.6",
        cis: "4.6",
        title: "Management Console authentication failures",
        pattern: r#"{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}"#,
    },
    Item {
        id: "CloudWatch.7",
        cis: "4.7",
        title: "disabling or scheduled deletion of customer managed keys",
        pattern: "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || \
                  ($.eventName=ScheduleKeyDeletion))}",
    },
    Item {
        id: "CloudWatch.8",
        cis: "4.8",
        title: "S3 bucket policy changes",
        pattern: "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || \
                  ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || \
                  ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || \
                  ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || \
                  ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",
    },
    Item {
        id: "CloudWatch.9",
        cis: "4.9",
        title: "AWS Config configuration changes",
        pattern: "{($.eventSource=config.amazonaws.com) && \
                  (($.eventName=StopConfigurationRecorder) || \
                  ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || \
                  ($.eventName=PutConfigurationRecorder))}",
    },
    Item {
        id: "CloudWatch.10",
        cis: "4.10",
        title: "security group changes",
        pattern: "{($.eventName=AuthorizeSecurityGroupIngress) || \
                  ($.eventName=AuthorizeSecurityGroupEgress) || \
                  ($.eventName=RevokeSecurityGroupIngress) || \
                  ($.eventName=RevokeSecurityGroupEgress) || \
                  ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
    },
    Item {
        id: "CloudWatch.11",
        cis: "4.11",
        title: "network ACL changes",
        pattern: "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || \
                  ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || \
                  ($.eventName=ReplaceNetworkAclEntry) || \
                  ($.eventName=ReplaceNetworkAclAssociation)}",
    },
    Item {
        id: "CloudWatch.12",
        cis: "4.12",
        title: "network gateway changes",
        pattern: "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || \
                  ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || \
                  ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
    },
    Item {
        id: "CloudWatch.13",
        cis: "4.13",
        title: "route table changes",
        pattern: "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || \
                  ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || \
                  ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || \
                  ($.eventName=DisassociateRouteTable)}",
    },
    Item {
        id: "CloudWatch.14",
        cis: "4.14",
        title: "VPC changes",
        pattern: "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || \
                  ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || \
                  ($.eventName=CreateVpcPeeringConnection) || \
                  ($.eventName=DeleteVpcPeeringConnection) || \
                  ($.eventName=RejectVpcPeeringConnection) || \
                  ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || \
                  ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
    },
    Item {
        id: "CIS 4.15",
        cis: "4.15",
        title: "AWS Organizations changes",
        pattern: r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#,
    },
];

/// A comparison's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// A comparison's value, as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    /// `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`.
    None,
    /// A quoted string (unquoted) or a bare word.
    Text(String),
    /// A regular expression, without its `%` delimiters.
    Regex(String),
}

/// One comparison: an atom of a pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Term {
    pub selector: String,
    pub op: Op,
    pub value: Value,
}

/// A parsed JSON filter pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Term(Term),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// Why a pattern is not a JSON filter pattern this module can judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Nesting of parentheses beyond this is refused (a pattern is at most 1024 characters; this
/// keeps a hostile one from exhausting the stack).
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    LParen,
    RParen,
    And,
    Or,
    Op(Op),
    Selector(String),
    Quoted(String),
    Regex(String),
    Word(String),
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '{' | '}' | '(' | ')' | '&' | '|' | '=' | '!' | '<' | '>')
}

fn tokenize(pattern: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let err = |what: String| Err(ParseError(what));
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '{' => {
                tokens.push(Token::Open);
                i += 1;
            }
            '}' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '(' => {
                tokens.push(Token::LParen);
                i += 1;
            }
            ')' => {
                tokens.push(Token::RParen);
                i += 1;
            }
            '&' if next == Some('&') => {
                tokens.push(Token::And);
                i += 2;
            }
            '|' if next == Some('|') => {
                tokens.push(Token::Or);
                i += 2;
            }
            '=' => {
                tokens.push(Token::Op(Op::Eq));
                i += 1;
            }
            '!' if next == Some('=') => {
                tokens.push(Token::Op(Op::Ne));
                i += 2;
            }
            '<' | '>' => {
                let op = match (c, next == Some('=')) {
                    ('<', true) => Op::Le,
                    ('<', false) => Op::Lt,
                    (_, true) => Op::Ge,
                    (_, false) => Op::Gt,
                };
                tokens.push(Token::Op(op));
                i += if next == Some('=') { 2 } else { 1 };
            }
            '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return err("a quoted value is not closed".into()),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => {
                            match chars.get(i + 1) {
                                Some(escaped) => text.push(*escaped),
                                None => return err("a quoted value is not closed".into()),
                            }
                            i += 2;
                        }
                        Some(other) => {
                            text.push(*other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Quoted(text));
            }
            '%' => {
                let start = i + 1;
                let Some(end) = chars[start..].iter().position(|&c| c == '%') else {
                    return err("a regular expression (`%...%`) is not closed".into());
                };
                tokens.push(Token::Regex(chars[start..start + end].iter().collect()));
                i = start + end + 1;
            }
            '&' | '|' | '!' => return err(format!("`{c}` is not an operator (`&&`, `||`, `!=`)")),
            _ => {
                let start = i;
                while i < chars.len() && !is_delimiter(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push(if word.starts_with('$') {
                    Token::Selector(word)
                } else {
                    Token::Word(word)
                });
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn or_expr(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut alternatives = vec![self.and_expr(depth)?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            alternatives.push(self.and_expr(depth)?);
        }
        Ok(flatten_or(alternatives))
    }

    fn and_expr(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut terms = vec![self.primary(depth)?];
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            terms.push(self.primary(depth)?);
        }
        Ok(flatten_and(terms))
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, ParseError> {
        match self.next() {
            Some(Token::LParen) => {
                if depth >= MAX_DEPTH {
                    return Err(ParseError(format!(
                        "parentheses nested deeper than {MAX_DEPTH}"
                    )));
                }
                let inner = self.or_expr(depth + 1)?;
                match self.next() {
                    Some(Token::RParen) => Ok(inner),
                    _ => Err(ParseError("a `(` is not closed".into())),
                }
            }
            Some(Token::Selector(selector)) => self.comparison(selector),
            Some(other) => Err(ParseError(format!(
                "expected a selector (`$.field`) or `(`, found {}",
                describe(&other)
            ))),
            None => Err(ParseError(
                "the pattern ends where a term was expected".into(),
            )),
        }
    }

    fn comparison(&mut self, selector: String) -> Result<Expr, ParseError> {
        if selector == "$" || selector.len() < 2 {
            return Err(ParseError(format!("`{selector}` selects no field")));
        }
        let term = |op: Op, value: Value| {
            Ok(Expr::Term(Term {
                selector: selector.clone(),
                op,
                value,
            }))
        };
        match self.next() {
            Some(Token::Op(op)) => match self.next() {
                Some(Token::Quoted(text)) | Some(Token::Word(text)) => term(op, Value::Text(text)),
                Some(Token::Regex(text)) => term(op, Value::Regex(text)),
                other => Err(ParseError(format!(
                    "`{selector}` is compared with no value (found {})",
                    other.as_ref().map_or("the end".to_string(), describe)
                ))),
            },
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("NULL") => {
                    term(Op::IsNull, Value::None)
                }
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("TRUE") => {
                    term(Op::IsTrue, Value::None)
                }
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("FALSE") => {
                    term(Op::IsFalse, Value::None)
                }
                _ => Err(ParseError(format!(
                    "`{selector} IS` must be followed by NULL, TRUE or FALSE"
                ))),
            },
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => {
                    term(Op::NotExists, Value::None)
                }
                _ => Err(ParseError(format!(
                    "`{selector} NOT` must be followed by EXISTS"
                ))),
            },
            other => Err(ParseError(format!(
                "`{selector}` has no operator (found {})",
                other.as_ref().map_or("the end".to_string(), describe)
            ))),
        }
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "`{`".into(),
        Token::Close => "`}`".into(),
        Token::LParen => "`(`".into(),
        Token::RParen => "`)`".into(),
        Token::And => "`&&`".into(),
        Token::Or => "`||`".into(),
        Token::Op(op) => format!("operator {op:?}"),
        Token::Selector(s) | Token::Word(s) => format!("`{s}`"),
        Token::Quoted(s) => format!("\"{s}\""),
        Token::Regex(s) => format!("%{s}%"),
    }
}

fn flatten_or(items: Vec<Expr>) -> Expr {
    let mut flat = Vec::new();
    for item in items {
        match item {
            Expr::Or(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if flat.len() == 1 {
        flat.pop().expect("one item")
    } else {
        Expr::Or(flat)
    }
}

fn flatten_and(items: Vec<Expr>) -> Expr {
    let mut flat = Vec::new();
    for item in items {
        match item {
            Expr::And(inner) => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if flat.len() == 1 {
        flat.pop().expect("one item")
    } else {
        Expr::And(flat)
    }
}

/// Parses a JSON filter pattern (`{ ... }`); anything else is an error saying why.
pub fn parse(pattern: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(pattern)?;
    if tokens.first() != Some(&Token::Open) {
        return Err(ParseError(
            "not a JSON filter pattern (it does not start with `{`)".into(),
        ));
    }
    if tokens.last() != Some(&Token::Close) || tokens.len() < 3 {
        return Err(ParseError(
            "not a JSON filter pattern (it does not end with `}` after a term)".into(),
        ));
    }
    let mut parser = Parser {
        tokens: tokens[1..tokens.len() - 1].to_vec(),
        at: 0,
    };
    let expr = parser.or_expr(0)?;
    match parser.peek() {
        None => Ok(expr),
        Some(token) => Err(ParseError(format!(
            "unexpected {} after a complete term",
            describe(token)
        ))),
    }
}

/// The expression as alternatives of conjunctions (each sorted, duplicates removed).
fn dnf(expr: &Expr) -> Vec<Vec<Term>> {
    match expr {
        Expr::Term(t) => vec![vec![t.clone()]],
        Expr::Or(items) => items.iter().flat_map(dnf).collect(),
        Expr::And(items) => {
            let mut acc: Vec<Vec<Term>> = vec![Vec::new()];
            for item in items {
                let alternatives = dnf(item);
                let mut next = Vec::with_capacity(acc.len() * alternatives.len());
                for left in &acc {
                    for right in &alternatives {
                        let mut cube = left.clone();
                        cube.extend(right.iter().cloned());
                        cube.sort();
                        cube.dedup();
                        next.push(cube);
                    }
                }
                acc = next;
            }
            acc
        }
    }
}

/// `*` wildcards of `pattern` matching the whole of `text` (every other character literal).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the filter's atom `term` is true when exactly the atoms of `cube` are.
fn atom_holds(term: &Term, cube: &[Term]) -> bool {
    cube.iter().any(|known| {
        if known.selector != term.selector {
            return false;
        }
        if known.op == term.op && known.value == term.value {
            return true;
        }
        match (&term.op, &term.value, &known.op, &known.value) {
            (Op::Eq, Value::Text(wild), Op::Eq, Value::Text(value)) if wild.contains('*') => {
                wildcard_match(wild, value)
            }
            _ => false,
        }
    })
}

fn holds(expr: &Expr, cube: &[Term]) -> bool {
    match expr {
        Expr::Term(t) => atom_holds(t, cube),
        Expr::And(items) => items.iter().all(|e| holds(e, cube)),
        Expr::Or(items) => items.iter().any(|e| holds(e, cube)),
    }
}

/// Whether `filter` matches at least every event `benchmark` matches (the module doc's rule).
pub fn implies(benchmark: &Expr, filter: &Expr) -> bool {
    dnf(benchmark).iter().all(|cube| holds(filter, cube))
}

/// Whether a metric filter's pattern covers `item`; `Err` when the pattern cannot be judged
/// (it then covers nothing).
pub fn covers(filter_pattern: &str, item: &Item) -> Result<bool, ParseError> {
    let filter = parse(filter_pattern)?;
    let benchmark = parse(item.pattern).expect("every item's pattern parses (tested)");
    Ok(implies(&benchmark, &filter))
}

/// The items a pattern covers, in [`ITEMS`] order; `Err` when it cannot be judged.
pub fn covered_items(filter_pattern: &str) -> Result<Vec<&'static Item>, ParseError> {
    let filter = parse(filter_pattern)?;
    Ok(ITEMS
        .iter()
        .filter(|item| {
            let benchmark = parse(item.pattern).expect("every item's pattern parses (tested)");
            implies(&benchmark, &filter)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> &'static Item {
        ITEMS.iter().find(|i| i.id == id).unwrap()
    }

    fn covers_ok(pattern: &str, id: &str) -> bool {
        covers(pattern, item(id)).unwrap()
    }

    #[test]
    fn every_item_parses_and_covers_itself_only_where_expected() {
        let mut ids = std::collections::BTreeSet::new();
        for it in &ITEMS {
            assert!(ids.insert(it.id), "{} twice", it.id);
            assert!(
                parse(it.pattern).is_ok(),
                "{}: {:?}",
                it.id,
                parse(it.pattern)
            );
            assert!(covers_ok(it.pattern, it.id), "{} covers itself", it.id);
        }
        // No item's published pattern covers another's.
        for a in &ITEMS {
            let covered: Vec<&str> = covered_items(a.pattern)
                .unwrap()
                .iter()
                .map(|i| i.id)
                .collect();
            assert_eq!(covered, [a.id], "{}", a.id);
        }
        // The sizes of the published patterns, as a check of the transcription.
        let alternatives = |id: &str| dnf(&parse(item(id).pattern).unwrap()).len();
        assert_eq!(alternatives("CloudWatch.4"), 16);
        assert_eq!(alternatives("CloudWatch.8"), 9);
        assert_eq!(alternatives("CloudWatch.14"), 11);
        assert_eq!(alternatives("CIS 4.15"), 18);
        assert_eq!(
            dnf(&parse(item("CloudWatch.3").pattern).unwrap())[0].len(),
            4
        );
    }

    #[test]
    fn reordered_terms_whitespace_and_quoting_do_not_matter() {
        let p = r#"{   ( $.eventName = "StopLogging" )||($.eventName=StartLogging)
            || ($.eventName = "DeleteTrail") || ( $.eventName = UpdateTrail ) ||
            ($.eventName="CreateTrail")}"#;
        assert!(covers_ok(p, "CloudWatch.5"));
        // Root usage, quoted and unquoted, terms reordered, parentheses added.
        let p = r#"{ ($.eventType != AwsServiceEvent) && (($.userIdentity.invokedBy NOT EXISTS) && $.userIdentity.type = Root) }"#;
        assert!(covers_ok(p, "CloudWatch.1"));
        // The CIS 4.7 pattern with the alternatives first.
        let p = "{ (($.eventName=ScheduleKeyDeletion)||($.eventName=DisableKey)) && \
                 ($.eventSource=\"kms.amazonaws.com\") }";
        assert!(covers_ok(p, "CloudWatch.7"));
    }

    #[test]
    fn a_missing_event_name_is_not_coverage() {
        let p = "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || \
                 ($.eventName=DeleteTrail) || ($.eventName=StartLogging)}";
        assert!(!covers_ok(p, "CloudWatch.5"));
        let p = "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || \
                 ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || \
                 ($.eventName=StopLogging) || ($.eventName=PutEventSelectors)}";
        assert!(covers_ok(p, "CloudWatch.5"), "an extra alternative is fine");
    }

    #[test]
    fn an_extra_and_restriction_is_not_coverage_but_a_missing_one_is() {
        let restricted = "{ (($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || \
                          ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || \
                          ($.eventName=StopLogging)) && ($.awsRegion = \"us-east-1\") }";
        assert!(!covers_ok(restricted, "CloudWatch.5"));
        // Dropping one of the benchmark's restrictions matches more events: it covers.
        let wider = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }"#;
        assert!(covers_ok(wider, "CloudWatch.1"));
        // Dropping the eventSource restriction of CloudWatch.7 too.
        assert!(covers_ok(
            "{($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion)}",
            "CloudWatch.7"
        ));
        // `&&` binds tighter than `||`: A || B && C is A || (B && C).
        let p = "{ $.errorCode = \"*UnauthorizedOperation\" || $.errorCode = \"AccessDenied*\" \
                 && $.eventName = Foo }";
        assert!(!covers_ok(p, "CloudWatch.2"));
        let p = "{ ($.errorCode = \"*UnauthorizedOperation\" || $.errorCode = \"AccessDenied*\") \
                 || $.eventName = Foo }";
        assert!(covers_ok(p, "CloudWatch.2"));
    }

    #[test]
    fn wildcards_in_the_filter_match_the_benchmark_values() {
        let all = "{ $.eventName = * }";
        let covered: Vec<&str> = covered_items(all).unwrap().iter().map(|i| i.id).collect();
        // Every item all of whose alternatives test `$.eventName =`; root usage and
        // unauthorized calls test other fields only, so the catch-all is not known to match
        // their events.
        assert_eq!(
            covered,
            [
                "CloudWatch.3",
                "CloudWatch.4",
                "CloudWatch.5",
                "CloudWatch.6",
                "CloudWatch.7",
                "CloudWatch.8",
                "CloudWatch.9",
                "CloudWatch.10",
                "CloudWatch.11",
                "CloudWatch.12",
                "CloudWatch.13",
                "CloudWatch.14",
                "CIS 4.15",
            ]
        );
        assert!(covers_ok(
            r#"{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "Access*" }"#,
            "CloudWatch.2"
        ));
        // A wildcard that does not match the benchmark's value does not cover.
        assert!(!covers_ok(
            r#"{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "Denied*" }"#,
            "CloudWatch.2"
        ));
        assert!(covers_ok("{ $.eventName = Create* || $.eventName = Delete* || $.eventName = Replace* || $.eventName = Disassociate* }", "CloudWatch.13"));
        // `!=` and regular expressions are only ever themselves.
        assert!(!covers_ok(
            r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "Aws*"}"#,
            "CloudWatch.1"
        ));
        assert!(!covers_ok(
            "{ $.eventName = %Trail|Logging% }",
            "CloudWatch.5"
        ));
        assert!(wildcard_match("a*b*c", "aXbYc"));
        assert!(!wildcard_match("a*b", "ab*c"));
        assert!(wildcard_match("**", ""));
    }

    #[test]
    fn malformed_or_non_json_patterns_are_errors_never_panics() {
        for bad in [
            "",
            "ERROR",
            "[ip, user, ...]",
            "{}",
            "{ $.eventName = }",
            "{ $.eventName CreateVpc }",
            "{ ($.eventName = CreateVpc }",
            "{ $.eventName = CreateVpc ) }",
            "{ $.eventName = \"CreateVpc }",
            "{ $.eventName = CreateVpc && }",
            "{ $.eventName = CreateVpc & $.a = b }",
            "{ $.eventName = %unclosed }",
            "{ $ = x }",
            "{ $.a IS MAYBE }",
            "{ $.a NOT THERE }",
            "{ $.eventName = CreateVpc } trailing",
            "{ $.eventName = CreateVpc",
            "{ \\",
            "{ \"a\\",
        ] {
            let result = parse(bad);
            assert!(result.is_err(), "{bad:?} parsed as {result:?}");
            assert!(covers(bad, &ITEMS[0]).is_err());
        }
        let deep = format!("{{ {}$.a = b{} }}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).unwrap_err().0.contains("deeper than 32"));
        let ok = format!("{{ {}$.a = b{} }}", "(".repeat(10), ")".repeat(10));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn the_other_forms_parse() {
        let p = parse(r#"{ $.a IS NULL || $.b is true || $.c IS FALSE || $.d >= 10 || $.e < -1 || $.f = %ab+c% || $.g[0].h != "x \"y\"" }"#).unwrap();
        let Expr::Or(items) = p else { panic!("{p:?}") };
        assert_eq!(items.len(), 7);
        assert_eq!(
            items[6],
            Expr::Term(Term {
                selector: "$.g[0].h".into(),
                op: Op::Ne,
                value: Value::Text("x \"y\"".into())
            })
        );
        assert_eq!(
            items[5],
            Expr::Term(Term {
                selector: "$.f".into(),
                op: Op::Eq,
                value: Value::Regex("ab+c".into())
            })
        );
    }
}
