//! The cell encodings of every table, defined once.
//!
//! - A boolean is `true` or `false`; an `Option<bool>` cell is empty when the value is unknown
//!   (the call that would tell failed).
//! - A number is written in decimal; an `Option` number cell is empty when unknown.
//! - A list is its items `;`-joined ([`List`]), without empty items.
//! - A time is RFC 3339 UTC text, read with [`parse_time`]; the credential report's sentinels
//!   (`N/A`, `no_information`, `not_supported`) read as no time.
//! - Every text cell is spreadsheet-safe ([`neutralise`], OWASP's guidance on CSV injection): a
//!   cell that a spreadsheet would run as a formula, one starting with `=`, `+`, `-`, `@`, a tab
//!   or a carriage return, is written behind a `'`, unless it is a plain number such as `-1`; a
//!   cell that starts with `'` gets one more, so [`restore`] gives back every value exactly.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A `;`-joined list cell.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct List(pub Vec<String>);

impl List {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn contains(&self, item: &str) -> bool {
        self.0.iter().any(|i| i == item)
    }

    /// The cell's text: the items `;`-joined.
    pub fn joined(&self) -> String {
        self.0.join(";")
    }

    /// Reads a cell: items split at `;`, trimmed, empty ones dropped.
    pub fn parse(cell: &str) -> List {
        List(
            cell.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }
}

impl From<Vec<String>> for List {
    fn from(items: Vec<String>) -> Self {
        List(items)
    }
}

impl<S: Into<String>> FromIterator<S> for List {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        List(iter.into_iter().map(Into::into).collect())
    }
}

impl Serialize for List {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.joined())
    }
}

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let cell = String::deserialize(deserializer)?;
        Ok(List::parse(&cell))
    }
}

/// What the manifest says of the tables' text cells.
pub const SPREADSHEET_SAFE_RULE: &str = "a text cell starting with =, +, -, @, a tab or a \
    carriage return (other than a plain number such as -1), or with ', is written with one \
    more ' in front, which a spreadsheet shows as text; drop that first ' to get the value";

/// Whether a spreadsheet could take the cell for a formula (or for one neutralised already).
fn needs_quote(cell: &str) -> bool {
    match cell.chars().next() {
        Some('\'') => true,
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        Some('-') => !is_plain_number(cell),
        _ => false,
    }
}

/// `-12` or `-1.5`: a number a spreadsheet reads as a number, not a formula.
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// A cell as the tables hold it: behind a `'` when a spreadsheet could run it as a formula
/// (or when it starts with `'` itself), as it is otherwise.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_quote(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The value of a neutralised cell: [`neutralise`] undone.
pub fn restore(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

/// Parses the timestamps the evidence holds: RFC 3339 with or without fractions and offset
/// (`2026-11-22T07:57:33+00:00`, `...Z`, `...12345Z`) or a bare date. Sentinels and anything
/// else give `None`.
pub fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_join_and_split_without_empty_items() {
        let list: List = ["a", "b"].into_iter().collect();
        assert_eq!(list.joined(), "a;b");
        assert_eq!(List::parse(" a ;; b;"), list);
        assert!(List::parse("").is_empty());
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised_and_restored_exactly() {
        for (value, cell) in [
            (
                "=HYPERLINK(\"http://evil.example/x\",\"click me\")",
                "'=HYPERLINK(\"http://evil.example/x\",\"click me\")",
            ),
            ("+cmd", "'+cmd"),
            ("-2+3", "'-2+3"),
            ("-", "'-"),
            ("--x", "'--x"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("'", "''"),
            ("line one\n=two", "line one\n=two"),
            ("a=b", "a=b"),
            ("say \"hi\"", "say \"hi\""),
            ("-1", "-1"),
            ("-1.5", "-1.5"),
            ("-1.", "'-1."),
            ("-.5", "'-.5"),
            ("0", "0"),
            ("", ""),
        ] {
            assert_eq!(neutralise(value), cell, "{value:?}");
            assert_eq!(restore(&neutralise(value)), value, "{value:?}");
        }
    }

    #[test]
    fn times_and_sentinels() {
        assert!(parse_time("2026-11-22T07:57:33+00:00").is_some());
        assert!(parse_time("2026-11-22T07:57:33.715647Z").is_some());
        assert!(parse_time("2026-11-22").is_some());
        for sentinel in ["N/A", "no_information", "not_supported", ""] {
            assert_eq!(parse_time(sentinel), None);
        }
    }
}
