//! The config file (README "Config file"): what a CI job would otherwise repeat on every
//! command line, in TOML, from `--config FILE` or, without it, `soc2-evidence.toml` in the
//! working directory (`--no-config` ignores that one).
//!
//! ```toml
//! regions = ["us-east-1", "eu-west-1"]
//! skip = ["guardduty"]
//! out = "evidence"
//! fail_on = "high"
//! exceptions = "exceptions.toml"
//!
//! [thresholds]
//! key_max_age_days = 90
//!
//! [signing]
//! kms_key = "alias/soc2-evidence-signing"
//!
//! [org]
//! enabled = true
//! role_name = "soc2-evidence-reader"
//! ```
//!
//! Every key stands for one flag (the table [`KEYS`]) and is checked by that flag's own
//! parser, so a value the flag would refuse is refused here too, with the file's line. A flag
//! given on the command line wins over the file; the file wins over the flag's default.
//! Relative paths are relative to the file's folder. An unknown key, a wrong type or a bad
//! value is a usage error naming the key and its line; nothing is collected then. A command
//! takes the keys of the flags it has (`report` its thresholds, `fail_on`, exceptions,
//! documented policy, trusted accounts and signing key; `merge` its `out`, `fail_on` and signing key) and leaves the others.
//!
//! The file's path and SHA-256 are recorded in the manifest's run options.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory};
use serde::Deserialize;
use toml::Spanned;

use crate::bundle::manifest::ConfigRecord;
use crate::cli::Cli;
use crate::error::Error;

/// The file read from the working directory when no `--config` is given.
pub const DEFAULT_FILE: &str = "soc2-evidence.toml";
/// The largest config file read.
const MAX_BYTES: u64 = 1 << 20;

/// How a key's value becomes arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One value: `--flag VALUE`.
    One,
    /// A list: `--flag V` for each.
    Many,
    /// A path, relative to the config file's folder.
    Path,
    /// `true` gives `--flag`; `false` nothing.
    Switch,
}

/// A key of the file: its name (`section.key` inside a table), the id of the argument it
/// stands for, that flag, and how its value is passed.
struct Key {
    name: &'static str,
    id: &'static str,
    flag: &'static str,
    kind: Kind,
}

const fn key(name: &'static str, id: &'static str, flag: &'static str, kind: Kind) -> Key {
    Key {
        name,
        id,
        flag,
        kind,
    }
}

/// Every key, with the flag it stands for.
const KEYS: &[Key] = &[
    key("profile", "profile", "--profile", Kind::One),
    key("regions", "regions", "--region", Kind::Many),
    key("collectors", "collectors", "--collector", Kind::Many),
    key("skip", "skip", "--skip", Kind::Many),
    key("out", "out", "--out", Kind::Path),
    key("concurrency", "concurrency", "--concurrency", Kind::One),
    key("max_attempts", "max_attempts", "--max-attempts", Kind::One),
    key("fail_on", "fail_on", "--fail-on", Kind::One),
    key("exceptions", "exceptions", "--exceptions", Kind::Path),
    key(
        "documented_policy",
        "documented_policy",
        "--documented-policy",
        Kind::Path,
    ),
    key(
        "trusted_accounts",
        "trusted_accounts",
        "--trusted-account",
        Kind::Many,
    ),
    key(
        "thresholds.user_inactive_days",
        "user_inactive_days",
        "--user-inactive-days",
        Kind::One,
    ),
    key(
        "thresholds.role_inactive_days",
        "role_inactive_days",
        "--role-inactive-days",
        Kind::One,
    ),
    key(
        "thresholds.key_max_age_days",
        "key_max_age_days",
        "--key-max-age-days",
        Kind::One,
    ),
    key(
        "thresholds.finding_sla_days",
        "finding_sla_days",
        "--finding-sla-days",
        Kind::One,
    ),
    key(
        "lookback_days",
        "lookback_days",
        "--lookback-days",
        Kind::One,
    ),
    key("signing.key", "sign_key", "--sign-key", Kind::Path),
    key(
        "signing.key_env",
        "sign_key_env",
        "--sign-key-env",
        Kind::One,
    ),
    key(
        "signing.kms_key",
        "sign_kms_key",
        "--sign-kms-key",
        Kind::One,
    ),
    key("org.enabled", "org", "--org", Kind::Switch),
    key("org.role_name", "role_name", "--role-name", Kind::One),
    key("org.external_id", "external_id", "--external-id", Kind::One),
    key("org.accounts", "accounts", "--account", Kind::Many),
    key(
        "org.skip_accounts",
        "skip_accounts",
        "--skip-account",
        Kind::Many,
    ),
    key("org.ous", "ous", "--ou", Kind::Many),
];

/// The subcommands that read the config file.
const READERS: [&str; 3] = ["collect", "report", "merge"];

/// A value as the file gives it: a string, a number, a boolean or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Value {
    Bool(bool),
    Int(i64),
    Text(String),
    List(Vec<String>),
}

/// The file, table by table; every key is optional and every other key is refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    profile: Option<Spanned<Value>>,
    regions: Option<Spanned<Value>>,
    collectors: Option<Spanned<Value>>,
    skip: Option<Spanned<Value>>,
    out: Option<Spanned<Value>>,
    concurrency: Option<Spanned<Value>>,
    max_attempts: Option<Spanned<Value>>,
    lookback_days: Option<Spanned<Value>>,
    validation_hours: Option<Spanned<Value>>,
    validation_sample: Option<Spanned<Value>>,
    fail_on: Option<Spanned<Value>>,
    exceptions: Option<Spanned<Value>>,
    documented_policy: Option<Spanned<Value>>,
    trusted_accounts: Option<Spanned<Value>>,
    thresholds: Option<Thresholds>,
    signing: Option<Signing>,
    org: Option<Org>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Thresholds {
    user_inactive_days: Option<Spanned<Value>>,
    role_inactive_days: Option<Spanned<Value>>,
    key_max_age_days: Option<Spanned<Value>>,
    finding_sla_days: Option<Spanned<Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Signing {
    key: Option<Spanned<Value>>,
    key_env: Option<Spanned<Value>>,
    kms_key: Option<Spanned<Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Org {
    enabled: Option<Spanned<Value>>,
    role_name: Option<Spanned<Value>>,
    external_id: Option<Spanned<Value>>,
    accounts: Option<Spanned<Value>>,
    skip_accounts: Option<Spanned<Value>>,
    ous: Option<Spanned<Value>>,
}

impl File {
    /// (key name, value) of every key the file sets, in [`KEYS`] order.
    fn entries(self) -> Vec<(&'static str, Spanned<Value>)> {
        let t = self.thresholds.unwrap_or_default();
        let s = self.signing.unwrap_or_default();
        let o = self.org.unwrap_or_default();
        let all = [
            ("profile", self.profile),
            ("regions", self.regions),
            ("collectors", self.collectors),
            ("skip", self.skip),
            ("out", self.out),
            ("concurrency", self.concurrency),
            ("max_attempts", self.max_attempts),
            ("lookback_days", self.lookback_days),
            ("validation_hours", self.validation_hours),
            ("validation_sample", self.validation_sample),
            ("fail_on", self.fail_on),
            ("exceptions", self.exceptions),
            ("documented_policy", self.documented_policy),
            ("trusted_accounts", self.trusted_accounts),
            ("thresholds.user_inactive_days", t.user_inactive_days),
            ("thresholds.role_inactive_days", t.role_inactive_days),
            ("thresholds.key_max_age_days", t.key_max_age_days),
            ("thresholds.finding_sla_days", t.finding_sla_days),
            ("signing.key", s.key),
            ("signing.key_env", s.key_env),
            ("signing.kms_key", s.kms_key),
            ("org.enabled", o.enabled),
            ("org.role_name", o.role_name),
            ("org.external_id", o.external_id),
            ("org.accounts", o.accounts),
            ("org.skip_accounts", o.skip_accounts),
            ("org.ous", o.ous),
        ];
        all.into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .collect()
    }
}

/// One key's value as the arguments it stands for, checked; the error names the key.
fn arguments(key: &Key, value: &Value, base: &Path) -> Result<Vec<OsString>, String> {
    let wrong = |expected: &str| format!("`{}` must be {expected}", key.name);
    let texts: Vec<String> = match (key.kind, value) {
        (Kind::Switch, Value::Bool(true)) => return Ok(vec![key.flag.into()]),
        (Kind::Switch, Value::Bool(false)) => return Ok(Vec::new()),
        (Kind::Switch, _) => return Err(wrong("true or false")),
        (Kind::Many, Value::List(list)) => list.clone(),
        (Kind::Many, _) => return Err(wrong("a list of strings, e.g. [\"a\", \"b\"]")),
        (Kind::One, Value::Text(text)) => vec![text.clone()],
        (Kind::One, Value::Int(n)) => vec![n.to_string()],
        (Kind::One, _) => return Err(wrong("a string or a number")),
        (Kind::Path, Value::Text(text)) => {
            vec![base.join(text).to_string_lossy().into_owned()]
        }
        (Kind::Path, _) => return Err(wrong("a path (a string)")),
    };
    let mut out = Vec::new();
    for text in texts {
        out.push(OsString::from(key.flag));
        out.push(OsString::from(text));
    }
    Ok(out)
}

/// Checks one flag value with the flag's own parser (the `collect` command has every flag):
/// the flag alone, without its relations to other flags, parses the value.
fn check(key: &Key, value: &OsString) -> Result<(), String> {
    let cli = Cli::command();
    let collect = cli.find_subcommand("collect").expect("collect exists");
    let arg = collect
        .get_arguments()
        .find(|a| a.get_id() == key.id)
        .unwrap_or_else(|| panic!("config key {} names no collect argument", key.name))
        .clone()
        .required(false)
        .requires(clap::builder::Resettable::<clap::Id>::Reset)
        .conflicts_with(clap::builder::Resettable::<clap::Id>::Reset);
    clap::Command::new("config")
        .no_binary_name(true)
        .arg(arg)
        .try_get_matches_from([OsString::from(key.flag), value.clone()])
        .map(|_| ())
        .map_err(|e| format!("`{}`: {}", key.name, clap_reason(&e)))
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The config file's arguments: `(arg id, arguments)` per key, checked, in [`KEYS`] order.
/// `shown` names the file in errors; `base` is its folder.
fn parse(
    bytes: &[u8],
    shown: &str,
    base: &Path,
) -> Result<Vec<(&'static str, Vec<OsString>)>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "{shown}, line {}: not UTF-8 text",
            line_of(&String::from_utf8_lossy(bytes), e.valid_up_to())
        )
    })?;
    let file: File = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => format!(
            "{shown}, line {}: {}",
            line_of(text, span.start),
            e.message().trim_end()
        ),
        None => format!("{shown}: {}", e.message().trim_end()),
    })?;
    let mut out = Vec::new();
    for (name, value) in file.entries() {
        let key = KEYS
            .iter()
            .find(|k| k.name == name)
            .expect("every entry is a key");
        let line = line_of(text, value.span().start);
        let args = arguments(key, value.get_ref(), base)
            .map_err(|e| format!("{shown}, line {line}: {e}"))?;
        for pair in args.chunks(2) {
            if let [_, value] = pair {
                check(key, value).map_err(|e| format!("{shown}, line {line}: {e}"))?;
            }
        }
        out.push((key.id, args));
    }
    Ok(out)
}

/// Reads the config file at `path`.
fn read(path: &Path) -> Result<Vec<u8>, Error> {
    let bytes = crate::config::read_capped(path, "config", MAX_BYTES as usize)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Error::Usage(format!(
            "the config file {} is larger than {MAX_BYTES} bytes",
            path.display()
        )));
    }
    Ok(bytes)
}

/// The arguments `argv` stand for once the config file is applied, and its record for the
/// manifest (`None` when no file was read). `matches` are `argv` as parsed without the file.
pub fn apply(
    argv: &[OsString],
    matches: &ArgMatches,
) -> Result<(Vec<OsString>, Option<ConfigRecord>), Error> {
    let Some((command, sub)) = matches.subcommand() else {
        return Ok((argv.to_vec(), None));
    };
    if !READERS.contains(&command) {
        return Ok((argv.to_vec(), None));
    }
    let given = sub.get_one::<PathBuf>("config").cloned();
    let path = match given {
        Some(path) => path,
        None if sub.get_flag("no_config") => return Ok((argv.to_vec(), None)),
        None if Path::new(DEFAULT_FILE).is_file() => PathBuf::from(DEFAULT_FILE),
        None => return Ok((argv.to_vec(), None)),
    };
    let bytes = read(&path)?;
    let shown = path.display().to_string();
    // Empty for a file in the working directory: its paths stay as written.
    let base = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let entries = parse(&bytes, &shown, &base).map_err(|e| {
        Error::Usage(format!(
            "the config file cannot be used: {e}\n  fix: correct that line (README \"Config file\" lists every key)"
        ))
    })?;
    // The keys of flags this command has, unless the command line gave the flag.
    let mut cli = Cli::command();
    let this = cli.find_subcommand_mut(command).expect("parsed");
    let mut extra: Vec<OsString> = Vec::new();
    for (id, args) in entries {
        let has = this.get_arguments().any(|a| a.get_id() == id);
        let from_command_line = has && sub.value_source(id) == Some(ValueSource::CommandLine);
        if has && !from_command_line {
            extra.extend(args);
        }
    }
    // The file's arguments go right after the command's name, before the command line's own.
    let at = argv
        .iter()
        .position(|a| a == command)
        .map_or(argv.len(), |i| i + 1);
    let mut merged = argv[..at].to_vec();
    merged.extend(extra);
    merged.extend_from_slice(&argv[at..]);
    Ok((
        merged,
        Some(ConfigRecord {
            path: shown,
            sha256: crate::bundle::files::sha256_hex(&bytes),
        }),
    ))
}

/// The parsed arguments with the config file applied: clap's own errors (and `--help`) end
/// the process as without a file; the file's errors are returned.
pub fn parse_args(argv: Vec<OsString>) -> Result<(Cli, Option<ConfigRecord>), Error> {
    use clap::FromArgMatches;
    let matches = Cli::command().get_matches_from(&argv);
    let (merged, record) = apply(&argv, &matches)?;
    if record.is_none() {
        let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        return Ok((cli, None));
    }
    match Cli::command().try_get_matches_from(&merged) {
        Ok(matches) => {
            let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
            Ok((cli, record))
        }
        Err(e) => Err(Error::Usage(format!(
            "the options of the config file {} do not fit the command line: {}\n  fix: add what is missing to the file or the command line",
            record.map(|r| r.path).unwrap_or_default(),
            clap_reason(&e)
        ))),
    }
}

/// clap's message without its `error:` prefix and usage lines, on one line.
fn clap_reason(e: &clap::Error) -> String {
    let shown = e.to_string();
    let body = shown
        .split("\n\nUsage:")
        .next()
        .unwrap_or_default()
        .split("\n\nFor more information")
        .next()
        .unwrap_or_default();
    body.trim_start_matches("error: ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses a config file's bytes the way `--config` does (the fuzz target's entry): `Ok` with
/// how many keys it sets, or the reason it is refused.
pub fn check_bytes(bytes: &[u8]) -> Result<usize, String> {
    parse(bytes, "config", Path::new(".")).map(|entries| entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(text: &str) -> Result<Vec<(&'static str, Vec<String>)>, String> {
        parse(text.as_bytes(), "c.toml", Path::new("/etc/audit")).map(|entries| {
            entries
                .into_iter()
                .map(|(id, args)| {
                    (
                        id,
                        args.into_iter()
                            .map(|a| a.to_string_lossy().into_owned())
                            .collect(),
                    )
                })
                .collect()
        })
    }

    #[test]
    fn every_key_stands_for_an_argument_of_collect() {
        let cli = Cli::command();
        let collect = cli.find_subcommand("collect").unwrap();
        for key in KEYS {
            let arg = collect
                .get_arguments()
                .find(|a| a.get_id() == key.id)
                .unwrap_or_else(|| panic!("{} has no argument", key.name));
            assert_eq!(
                format!("--{}", arg.get_long().unwrap()),
                key.flag,
                "{}",
                key.name
            );
        }
    }

    #[test]
    fn values_become_the_flags_they_stand_for() {
        let got = keys_of(
            "regions = [\"us-east-1\", \"eu-west-1\"]\nfail_on = \"high\"\nexceptions = \"x.toml\"\n\
             [thresholds]\nkey_max_age_days = 30\n[org]\nenabled = true\nrole_name = \"reader\"\n",
        )
        .unwrap();
        assert_eq!(
            got,
            [
                (
                    "regions",
                    vec!["--region", "us-east-1", "--region", "eu-west-1"]
                        .into_iter()
                        .map(String::from)
                        .collect()
                ),
                ("fail_on", vec!["--fail-on".into(), "high".into()]),
                (
                    "exceptions",
                    vec!["--exceptions".into(), "/etc/audit/x.toml".into()]
                ),
                (
                    "key_max_age_days",
                    vec!["--key-max-age-days".into(), "30".into()]
                ),
                ("org", vec!["--org".into()]),
                ("role_name", vec!["--role-name".into(), "reader".into()]),
            ]
        );
    }

    #[test]
    fn refusals_name_the_line_and_the_key() {
        for (text, expected) in [
            (
                "regions = [\"us-east-1\"]\nregoins = []\n",
                "line 2: unknown field `regoins`",
            ),
            ("[org]\nrole = \"x\"\n", "line 2: unknown field `role`"),
            (
                "fail_on = \"severe\"\n",
                "line 1: `fail_on`: invalid value 'severe'",
            ),
            ("\n\nregions = [\"not a region\"]\n", "line 3: `regions`:"),
            ("concurrency = 0\n", "line 1: `concurrency`:"),
            (
                "regions = \"us-east-1\"\n",
                "line 1: `regions` must be a list",
            ),
            (
                "[org]\nenabled = \"yes\"\n",
                "line 2: `org.enabled` must be true or false",
            ),
            ("[[org]]\n", "line 1:"),
            ("out = [\"a\"]\n", "line 1: `out` must be a path"),
        ] {
            let err = keys_of(text).unwrap_err();
            assert!(err.starts_with("c.toml, "), "{err}");
            assert!(err.contains(expected), "{text:?}: {err}");
        }
        assert!(check_bytes(b"\xff").unwrap_err().contains("not UTF-8"));
        assert_eq!(check_bytes(b"").unwrap(), 0);
    }
}
