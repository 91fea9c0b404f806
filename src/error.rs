//! The errors that end a command, each with the exit status it maps to.
//!
//! Errors of single API calls do not live here: they are evidence of a gap, recorded in the
//! manifest by [`crate::evidence::CallError`], and never stop the run.

use std::path::PathBuf;

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
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// A fatal error: the command cannot produce what it was asked for.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no AWS credentials could be loaded: {detail}\n  fix: set AWS_PROFILE or pass --profile, run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    NoCredentials { detail: String },

    #[error("could not identify the AWS account (sts:GetCallerIdentity failed: {code}: {message})\n  fix: check that the credentials are valid and not expired, and that the endpoint and region are reachable")]
    CallerIdentity { code: String, message: String },

    #[error("could not list the account's enabled regions (ec2:DescribeRegions failed: {code}: {message})\n  fix: allow ec2:DescribeRegions (see `soc2-evidence policy`), or name the regions with --region")]
    Regions { code: String, message: String },

    #[error("output directory {path} is not usable: {source}\n  fix: pass --out with a directory you can write to")]
    OutputDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("a bundle named {path} already exists and is never overwritten\n  fix: wait a second and run again, or pass another --out")]
    BundleExists { path: PathBuf },

    #[error("could not write the bundle file {path}: {source}\n  fix: check free disk space and permissions of the output directory; nothing was left under the bundle's final name")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) => ExitCode::Usage,
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

/// An error and its sources as one line of prose, without debug dumps: each source is added
/// unless the message before it already says it.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
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
