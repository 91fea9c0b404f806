//! The errors that end a command, each with the exit status it maps to.
//!
//! Errors of single API calls do not live here: they are evidence of a gap, recorded in the
//! manifest by [`crate::vocab::CallError`], and never stop the run.

use std::path::PathBuf;

pub use crate::vocab::chain;
use crate::vocab::Signal;

/// Exit statuses shared by every command (SPEC section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Bundle written and complete; `verify`: bundle intact.
    Success = 0,
    /// Fatal: no bundle written; `verify`: bundle not intact or unreadable.
    Failure = 1,
    /// Usage error (clap reports these itself with the same status).
    Usage = 2,
    /// Bundle written but incomplete: a collector, or a collector in a region, failed.
    Incomplete = 3,
    /// Bundle complete, but a finding at or above `--fail-on`.
    Findings = 4,
    /// Stopped by SIGINT (Ctrl-C): 128 + 2, as shells report it. No bundle written.
    Interrupted = 130,
    /// Stopped by SIGTERM: 128 + 15. No bundle written.
    Terminated = 143,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// A fatal error: the command cannot produce what it was asked for.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the AWS profile `{profile}` is not defined in the AWS config files (looked in {}; profiles found: {})\n  fix: pass --profile (or set AWS_PROFILE to) one of the profiles found, or add it with `aws configure --profile {profile}` or `aws configure sso --profile {profile}`; AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE choose other files", looked_in(.files), names_or_none(.found))]
    UnknownProfile {
        profile: String,
        /// The files read, with whether each exists.
        files: Vec<(PathBuf, bool)>,
        found: Vec<String>,
    },

    #[error("the AWS config files could not be read while looking for profile `{profile}`: {detail}\n  fix: correct the file named above (its format: https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html)")]
    ProfileFiles { profile: String, detail: String },

    #[error("no AWS credentials could be loaded: {detail}\n  fix: set AWS_PROFILE or pass --profile, run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    NoCredentials { detail: String },

    #[error("could not identify the AWS account (sts:GetCallerIdentity in {region} via {endpoint} failed: {code}: {message})\n  fix: check that the credentials are valid and not expired, and that the endpoint and region are reachable (is `{region}` a region of your account, see `aws ec2 describe-regions`?)")]
    CallerIdentity {
        code: String,
        message: String,
        region: String,
        /// The endpoint override, or "AWS".
        endpoint: String,
    },

    #[error("could not list the account's enabled regions (ec2:DescribeRegions failed: {code}: {message})\n  fix: allow ec2:DescribeRegions (see `soc2-evidence policy`), or name the regions with --region")]
    Regions { code: String, message: String },

    #[error("output directory {path} is not usable: {reason}\n  fix: pass --out with a directory you can write to (it is created if missing); nothing was written")]
    OutputDir { path: PathBuf, reason: String },

    #[error("a bundle named {path} already exists and is never overwritten; nothing was written\n  fix: wait a second and run again, or pass another --out")]
    BundleExists { path: PathBuf },

    #[error("could not write the bundle file {path}: {source}\n  fix: make room on the disk of the output directory (or raise the file size limit, `ulimit -f`), or pass --out on another disk, then run again; the partial bundle was removed and nothing was written under the bundle's final name")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("refused to write {path:?} into the bundle: {reason}; a bundle file must be a plain relative path inside the bundle; nothing was written\n  fix: if the path comes from a bundle given to `report`, that bundle's manifest was edited: report on the bundle as `soc2-evidence collect` wrote it")]
    UnsafeBundlePath { path: String, reason: String },

    #[error("could not write the bundle file {path}: {reason}; the partial bundle was removed and nothing was written\n  fix: if the names come from a bundle given to `report`, that bundle was built or edited by hand: report on the bundle as `soc2-evidence collect` wrote it")]
    BundlePathConflict { path: String, reason: String },

    #[error("interrupted by {}: the run was stopped before the bundle was complete; {}\n  fix: run `soc2-evidence collect` again for a complete bundle", .signal.name(), what_was_removed(.temporary))]
    Interrupted {
        signal: Signal,
        /// The temporary bundle, when the run had started one (it is removed before the error
        /// reaches the user).
        temporary: Option<PathBuf>,
    },

    #[error("cannot report on the bundle {path}: {reason}\n  fix: pass the .zip of a bundle written by `soc2-evidence collect` (or its directory), as it was written; nothing was written")]
    Report { path: PathBuf, reason: String },

    #[error("could not list the organization (organizations:{operation} failed: {code}: {message})\n  fix: run `collect --org` with credentials of the management account or of a delegated administrator for AWS Organizations, allowed the calls `soc2-evidence policy --org` prints; without Organizations access, name the accounts with --account ID --role-name NAME; nothing was written")]
    Organization {
        operation: String,
        code: String,
        message: String,
    },

    #[error("cannot merge {path}: {reason}\n  fix: pass the shards of one `collect --org --shard K/N` run (each K once, as they were written); nothing was written")]
    Merge { path: PathBuf, reason: String },

    #[error("cannot sign with {key}: {reason}; nothing was written\n  fix: {fix}")]
    Signing {
        key: String,
        reason: String,
        fix: String,
    },

    #[error("{0}")]
    Usage(String),
}

fn looked_in(files: &[(PathBuf, bool)]) -> String {
    files
        .iter()
        .map(|(path, exists)| {
            if *exists {
                path.display().to_string()
            } else {
                format!("{} (missing)", path.display())
            }
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

fn what_was_removed(temporary: &Option<PathBuf>) -> String {
    match temporary {
        Some(path) => format!(
            "its temporary bundle {} was removed and nothing was written",
            path.display()
        ),
        None => "nothing had been written yet".to_string(),
    }
}

fn names_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) => ExitCode::Usage,
            Error::Interrupted { signal, .. } => match signal {
                Signal::Interrupt => ExitCode::Interrupted,
                Signal::Terminate => ExitCode::Terminated,
            },
            _ => ExitCode::Failure,
        }
    }

    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Write {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chains_join_sources_once() {
        let err = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(chain(&err), "outer failed: disk on fire");
    }
}
