//! Command-line arguments. Parsing only: [`crate::config`] turns them into configuration.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{ArgAction, Args, Parser, Subcommand};

use crate::registry;
use crate::sign::SignWith;
use crate::vocab::{Severity, Thresholds};

/// Requests in flight by default. Every collector, region, bucket and key is worked on at once,
/// so the bound, not the number of tasks, sets the pace: wall time is about calls x round trip /
/// bound. 32 keeps a 16-region account with ~2,000 calls at ~50 ms round trips within a few
/// seconds (see README, Speed) while staying far below the per-region request quotas of the
/// APIs called per entity (KMS DescribeKey 2,000/s, GetKeyRotationStatus 1,000/s, ListKeys and
/// ListAliases 500/s; S3 bucket reads thousands per second): 32 requests of >= 20 ms each can
/// send at most 1,600 per second across all regions and services, and throttling that still
/// happens is retried with backoff.
pub const DEFAULT_CONCURRENCY: u16 = 32;

const ABOUT: &str = "Collect the AWS evidence a SOC 2 auditor asks for into a verified bundle";

const LONG_ABOUT: &str = "\
Collect the AWS evidence a SOC 2 auditor asks for into a verified bundle.

soc2-evidence reads an AWS account with read-only calls (IAM credential report, root account
status, password policy, ...), tags every piece of evidence with the Trust Services Criteria it
supports, and writes a timestamped bundle: a directory, the same tree as a zip, and the zip's
SHA-256. The bundle's manifest.json lists every file with its hash, every collector with its
status, and every call that failed, so gaps are never silent. Findings (root account, MFA,
unused credentials, admin policies, CloudTrail, GuardDuty, open security groups, public
buckets, key rotation, ...) and a quarterly access review are derived from the evidence alone;
index.html is the auditor's entry page.

Credentials come from the standard AWS chain: environment, --profile / AWS_PROFILE, SSO, web
identity (OIDC) or instance metadata. Nothing is ever written to AWS.";

const AFTER_HELP: &str = "\
Examples:
  soc2-evidence collect --profile audit-readonly
  soc2-evidence collect --json --fail-on critical
  soc2-evidence verify evidence/soc2-evidence-123456789012-20261122T070509Z.zip
  soc2-evidence report evidence/soc2-evidence-123456789012-20261122T070509Z.zip --user-inactive-days 45
  soc2-evidence list
  soc2-evidence policy > soc2-evidence-policy.json";

#[derive(Debug, Parser)]
#[command(
    name = "soc2-evidence",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More detail on stderr: -v for progress messages, -vv for debugging (RUST_LOG overrides)
    // Listed last in every command's help, wherever clap would otherwise slot a global option.
    #[arg(short, long, action = ArgAction::Count, global = true, display_order = 900)]
    pub verbose: u8,

    /// Print only errors and the result (no summary table, no progress display)
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        display_order = 901
    )]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collectors against one AWS account (or every account of an organization, with
    /// --org) and write an evidence bundle
    #[command(after_help = COLLECT_EXAMPLES, after_long_help = COLLECT_LONG)]
    Collect(Box<CollectArgs>),
    /// Re-hash a bundle (zip or directory) against its manifest and report every mismatch
    #[command(after_help = VERIFY_EXAMPLES, after_long_help = VERIFY_LONG)]
    Verify(VerifyArgs),
    /// Re-derive the findings, access review and index.html of a bundle into a new bundle
    #[command(after_help = REPORT_EXAMPLES, after_long_help = REPORT_LONG)]
    Report(ReportArgs),
    /// List the collectors: id, scope, TSC controls, IAM permissions and title
    #[command(after_help = "Examples:\n  soc2-evidence list\n  soc2-evidence list --json")]
    List(ListArgs),
    /// Print the least-privilege IAM policy the selected collectors need
    #[command(after_help = POLICY_EXAMPLES)]
    Policy(PolicyArgs),
    /// Join the shards of `collect --org --shard K/N` into one org bundle
    #[command(after_help = MERGE_EXAMPLES, after_long_help = MERGE_LONG)]
    Merge(MergeArgs),
    /// Print the allowed_signers line of a signing key (for `verify --allowed-signers` and
    /// `ssh-keygen -Y verify`)
    #[command(after_help = SIGNER_EXAMPLES)]
    Signer(SignerArgs),
    /// Compare two bundles of one account or organization: findings, access, statuses
    #[command(after_help = DIFF_EXAMPLES, after_long_help = DIFF_LONG)]
    Diff(DiffArgs),
    /// Follow findings and controls across many bundles of an observation period
    #[command(after_help = TIMELINE_EXAMPLES, after_long_help = TIMELINE_LONG)]
    Timeline(TimelineArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell)
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command with --out
    #[command(after_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  soc2-evidence completions bash > ~/.local/share/bash-completion/completions/soc2-evidence
  soc2-evidence completions zsh > \"${fpath[1]}/_soc2-evidence\"
  soc2-evidence completions fish > ~/.config/fish/completions/soc2-evidence.fish
  soc2-evidence completions powershell >> $PROFILE";

const MAN_EXAMPLES: &str = "\
Examples:
  soc2-evidence man | man -l -
  soc2-evidence man --out /usr/local/share/man/man1";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write soc2-evidence.1 and one soc2-evidence-<command>.1 per command into this directory
    /// (created if missing) instead of printing the pages
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

const SIGNER_EXAMPLES: &str = "\
Examples:
  soc2-evidence signer --sign-key soc2-signing-key --identity evidence@example.com >> allowed_signers
  soc2-evidence signer --sign-kms-key alias/soc2-evidence-signing --identity ci@example.com

The line reads `IDENTITY namespaces=\"soc2-evidence\" <public key>`. For a KMS key the public key
comes from kms:GetPublicKey (credentials, region and endpoint from the standard AWS chain).";

#[derive(Debug, Args)]
pub struct SignerArgs {
    /// The name the auditor checks the signature against (`ssh-keygen -Y verify -I`), such as
    /// an e-mail address
    #[arg(long, value_name = "NAME", value_parser = identity_name)]
    pub identity: String,

    #[command(flatten)]
    pub sign: SignArgs,
}

/// An allowed_signers principal: printable, without spaces, quotes or commas.
fn identity_name(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value.len() <= 256
        && value
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | ',' | '#' | '*' | '?' | '!'));
    if ok {
        Ok(value.to_string())
    } else {
        Err(
            "1 to 256 printable ASCII characters without spaces, quotes, commas, #, *, ? or !"
                .into(),
        )
    }
}

const TIMELINE_EXAMPLES: &str = "\
Examples:
  soc2-evidence timeline artifacts/ --expect-every 90d --out period-2026";

const TIMELINE_LONG: &str = "\
Examples:
  Every quarterly bundle of a year (a folder of CI artifacts), a bundle expected every 90 days:
    soc2-evidence timeline artifacts/ --expect-every 90d --out period-2026
  Daily bundles, as JSON:
    soc2-evidence timeline daily/ --expect-every 1d --json
  Only bundles signed by the CI's key:
    soc2-evidence timeline artifacts/ --allowed-signers allowed_signers --signer ci@example.com

Each path is a bundle (zip or directory) or a folder holding bundles (searched one level deep;
a folder whose zip sits beside it is read from the zip). Every bundle is verified first, on all
cores; one that is not intact, cannot be read, or is of another account or organization than
the rest is listed with the reason and left out, never used silently; with --allowed-signers, so
is an unsigned or foreign-signed bundle. The others are ordered by
collection time. For each finding (account, rule, resource): first_seen, last_seen, open or
resolved, failing_since and days_open (its latest unbroken run; a bundle where its rule could not
be evaluated is a gap in the evidence, neither a pass nor a finding). For each TSC criterion its
state in each bundle (worst severity, none, not_evaluated). Coverage: the period, every gap
between consecutive bundles longer than --expect-every, and the rules not evaluated on some
dates. With --out: timeline.csv (one row per finding), timeline.json and timeline.html (a
criterion x date grid coloured by worst severity; no script, printable).

Exit status:
  0  every bundle used, no gap longer than --expect-every
  1  nothing could be read or written
  2  usage error (no bundle found, say)
  3  a bundle was left out, or the period has a gap";

/// `--expect-every`: `1d`, `7d`, `30d`, `90d` (any whole number of days).
fn days(value: &str) -> Result<u32, String> {
    value
        .strip_suffix('d')
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=3660).contains(n))
        .ok_or_else(|| "a number of days such as 1d, 7d, 30d or 90d".to_string())
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Bundles (zip or directory) and folders of bundles
    #[arg(value_name = "BUNDLE-OR-DIR", required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,

    /// The longest expected interval between two bundles: 1d, 7d, 30d, 90d (any number of days)
    #[arg(long, value_name = "DAYS", default_value = "90d", value_parser = days)]
    pub expect_every: u32,

    /// Write timeline.csv, timeline.json and timeline.html into this directory (created if
    /// missing; existing files are never replaced)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Use only bundles whose manifest.json.sig is by a key in this allowed_signers file;
    /// unsigned and foreign-signed bundles are listed and left out
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,

    /// With --allowed-signers: the signatures must be by a key listed for this identity
    #[arg(long, value_name = "IDENTITY", requires = "allowed_signers")]
    pub signer: Option<String>,

    /// Print the timeline as JSON
    #[arg(long)]
    pub json: bool,
}

const DIFF_EXAMPLES: &str = "\
Examples:
  soc2-evidence diff evidence/2026-Q3.zip evidence/2026-Q4.zip
  soc2-evidence diff OLD.zip NEW.zip --fail-on high --out diff-q4";

const DIFF_LONG: &str = "\
Examples:
  What changed between two quarterly runs:
    soc2-evidence diff evidence/soc2-evidence-123456789012-20260701T060000Z.zip \\
      evidence/soc2-evidence-123456789012-20261001T060000Z.zip
  In CI, fail on regressions only (new findings at or above high), keeping the report:
    soc2-evidence diff OLD.zip NEW.zip --fail-on high --out diff

Both bundles (zip or directory) are verified first; one that is not intact is refused. Findings
are matched by (account, rule, resource): new, resolved, changed severity, unchanged. Access
changes: users and roles added or removed; console access, MFA, admin, access keys, groups,
attached and inline policies of users; admin, policies and trust principals of roles. Collector
and rule statuses that changed (evaluated -> not_evaluated is a change), and per TSC criterion
the findings before and after. With --out, diff.csv, diff.json and diff.html (self-contained,
like index.html) are written there.

Exit status:
  0  compared (whatever changed)
  1  a bundle is not intact or cannot be read; nothing written
  2  usage error (two bundles of different accounts, say)
  4  a new finding at or above --fail-on";

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier bundle: its .zip file or its directory
    #[arg(value_name = "OLD")]
    pub old: PathBuf,

    /// The later bundle: its .zip file or its directory
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// Write diff.csv, diff.json and diff.html into this directory (created if missing; existing
    /// files are never replaced)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Exit with status 4 when a new finding (not one already in OLD) is of this severity or a
    /// more serious one
    #[arg(long, value_name = "SEVERITY", value_enum)]
    pub fail_on: Option<Severity>,

    /// Print the comparison as JSON
    #[arg(long)]
    pub json: bool,
}

const MERGE_EXAMPLES: &str = "\
Examples:
  soc2-evidence merge shards/*.zip --out evidence";

const MERGE_LONG: &str = "\
Examples:
  Three CI jobs each ran `collect --org --role-name soc2-evidence-reader --shard K/3`:
    soc2-evidence merge shard-1/*.zip shard-2/*.zip shard-3/*.zip --out evidence
  An account whose role could not be assumed, collected afterwards with its own credentials:
    soc2-evidence merge evidence/soc2-evidence-org-o-abc123def4-20270101T060000Z.zip \\
      late/soc2-evidence-222222222222-20270102T090000Z.zip --out evidence

Every input is verified first (one that is not intact is refused) and never changed. The org
inputs are the shards of one run (one organization, one shard count, each K once, the same
accounts) or one org bundle. A single-account bundle fills its account when the organization
lists it and no org input holds a bundle of it. No account may have two bundles. The org bundle
holds every account bundle unchanged, the organization as the first shard listed it, and the
org's findings, access review and index.html built again.

Exit status:
  0  org bundle written and complete
  1  fatal error, nothing written (a shard is not intact, shards overlap, ...)
  2  usage error
  3  org bundle written but incomplete: an account could not be collected
  4  complete, but a finding at or above --fail-on";

const COLLECT_EXAMPLES: &str = "\
Examples:
  soc2-evidence collect --profile audit-readonly --out ./evidence
  soc2-evidence collect --json --fail-on critical
  soc2-evidence collect --endpoint-url http://127.0.0.1:5000 --region us-east-1";

const COLLECT_LONG: &str = "\
Examples:
  Collect everything with a read-only profile:
    soc2-evidence collect --profile audit-readonly --out ./evidence
  Only the credential report, with a JSON summary:
    soc2-evidence collect --collector iam-credential-report --json
  In CI, failing on critical findings (exit 4) and on incomplete evidence (exit 3):
    soc2-evidence collect --json --fail-on critical
  Stricter access review thresholds:
    soc2-evidence collect --user-inactive-days 45 --role-inactive-days 90
  Against a local emulator (moto, LocalStack):
    soc2-evidence collect --endpoint-url http://127.0.0.1:5000 --region us-east-1
  Every account of the organization, from the management account, into one org bundle:
    soc2-evidence collect --org --role-name soc2-evidence-reader --out ./evidence
  The second of three CI shards (join them with `soc2-evidence merge`):
    soc2-evidence collect --org --role-name soc2-evidence-reader --shard 2/3
  Two accounts without Organizations access:
    soc2-evidence collect --account 111122223333 --account 444455556666 --role-name soc2-evidence-reader

Exit status:
  0  bundle written and complete
  1  fatal error, no bundle written (no credentials, output not writable, ...)
  2  usage error
  3  bundle written but incomplete: a collector failed (see manifest.json, collectors[].errors);
     for an org bundle, also an account whose role could not be assumed (organization/accounts.csv)
  4  bundle complete, but a finding at or above --fail-on (see findings.csv)
  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM: the partial bundle was removed, nothing written";

const REPORT_EXAMPLES: &str = "\
Examples:
  soc2-evidence report evidence/soc2-evidence-123456789012-20261122T070509Z.zip
  soc2-evidence report evidence/soc2-evidence-123456789012-20261122T070509Z --user-inactive-days 45";

const REPORT_LONG: &str = "\
Examples:
  soc2-evidence report evidence/soc2-evidence-123456789012-20261122T070509Z.zip
  soc2-evidence report evidence/soc2-evidence-123456789012-20261122T070509Z --user-inactive-days 45

The bundle is verified first (a bundle that is not intact is refused) and never changed. Its raw
evidence is copied into a new bundle next to it, named after it with `-report-<time>`, with
findings, access review and index.html derived again from that evidence alone (no AWS call),
with the thresholds given here. Time-based rules are judged as of the original collection.

Exit status:
  0  new bundle written
  1  fatal error (the bundle is not intact or unreadable, output not writable, ...)
  2  usage error
  4  new bundle written, and a finding at or above --fail-on";

const VERIFY_EXAMPLES: &str = "\
Examples:
  soc2-evidence verify evidence/soc2-evidence-123456789012-20261122T070509Z.zip
  soc2-evidence verify evidence/soc2-evidence-123456789012-20261122T070509Z";

const VERIFY_LONG: &str = "\
Examples:
  soc2-evidence verify evidence/soc2-evidence-123456789012-20261122T070509Z.zip
  soc2-evidence verify evidence/soc2-evidence-123456789012-20261122T070509Z

A bundle is read in place and nothing is written: no entry is extracted, no link followed.
Entries with absolute paths, `..`, links or duplicate names are refused, and no entry is
read past the size the manifest lists for it, so a zip bomb is cut short.
When <BUNDLE>.zip.sha256 lies beside the zip, the zip's own hash is checked too.

Exit status:
  0  intact: every file matches the manifest
  1  not intact (a changed, missing or extra file) or unreadable
  2  usage error";

const POLICY_EXAMPLES: &str = "\
Examples:
  soc2-evidence policy > soc2-evidence-policy.json
  soc2-evidence policy --collector iam-credential-report
  soc2-evidence policy --org > soc2-evidence-org-policy.json
  soc2-evidence policy --org --role-name audit-reader
  soc2-evidence policy --with-optional

Without --org: what `collect` needs in one account, and what the read-only role in every
member account of an organization needs (deploy/member-role.yaml creates that role with
exactly these actions, through CloudFormation StackSets). The AWS managed policy
SecurityAudit also grants every action listed.

With --org: what the principal running `collect --org` needs, in the management account or
a delegated administrator account: the same read-only actions (its own account is collected
with its own credentials), the AWS Organizations read actions, and sts:AssumeRole on the
member role (--role-name) in every account. For aws-cn or aws-us-gov, replace `arn:aws:`.

With --with-optional: also a statement of the actions the tool can do without (reading the
trails' CloudTrail digest and log files and CloudTrail's public keys, for the sampled log file
validation); narrow its Resource to the log buckets. Without them that validation is recorded
as not done (the rule cloudtrail-log-validation-failed is partial), never as passed.";

fn collector_id() -> PossibleValuesParser {
    PossibleValuesParser::new(registry::ids())
}

/// The first word of a region name in each AWS partition: `aws` (af, ap, ca, eu, il, me, mx,
/// sa, us), `aws-cn`, `aws-us-gov` and the isolated partitions (us-, eu-), and `aws-eusc`. From
/// the `regionRegex` of every partition in the SDK's endpoint rules (partitions.json). A name
/// outside them cannot be reached: the SDK would send its calls to a host that does not exist.
const PARTITION_PREFIXES: [&str; 11] = [
    "af", "ap", "ca", "cn", "eu", "eusc", "il", "me", "mx", "sa", "us",
];

fn region_name(value: &str) -> Result<String, String> {
    let parts: Vec<&str> = value.split('-').collect();
    let valid = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if !valid {
        return Err(format!(
            "`{value}` is not an AWS region name (expected something like us-east-1 or eu-west-2)"
        ));
    }
    if !PARTITION_PREFIXES.contains(&parts[0]) {
        return Err(format!(
            "`{value}` is in no AWS partition: region names start with {} (see `aws ec2 describe-regions --all-regions`)",
            PARTITION_PREFIXES.join(", ")
        ));
    }
    Ok(value.to_string())
}

fn endpoint_url(value: &str) -> Result<String, String> {
    if (value.starts_with("http://") || value.starts_with("https://")) && value.len() > 8 {
        Ok(value.trim_end_matches('/').to_string())
    } else {
        Err(format!(
            "`{value}` is not an http(s) URL (expected something like http://127.0.0.1:5000)"
        ))
    }
}

/// Where the command's options may also come from (README "Config file").
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Config file")]
pub struct ConfigArgs {
    /// Read options from this TOML file (default: soc2-evidence.toml in the working directory,
    /// when present). Flags given on the command line win over the file
    #[arg(long, value_name = "FILE", display_order = 800)]
    pub config: Option<PathBuf>,

    /// Ignore soc2-evidence.toml in the working directory
    #[arg(long, conflicts_with = "config", display_order = 801)]
    pub no_config: bool,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// AWS profile from ~/.aws/config to use (default: AWS_PROFILE, or the default chain)
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Region to cover; repeat for several (e.g. --region us-east-1 --region eu-west-1).
    /// The first one also serves global services. Default: every region enabled in the account
    /// (ec2:DescribeRegions)
    #[arg(long = "region", value_name = "REGION", value_parser = region_name)]
    pub regions: Vec<String>,

    /// Directory the bundle is written into; created if missing
    #[arg(long, value_name = "DIR", default_value = "evidence")]
    pub out: PathBuf,

    /// Run only this collector; repeat for several (see `soc2-evidence list`)
    #[arg(long = "collector", value_name = "ID", value_parser = collector_id())]
    pub collectors: Vec<String>,

    /// Do not run this collector; repeat for several
    #[arg(long = "skip", value_name = "ID", value_parser = collector_id())]
    pub skip: Vec<String>,

    /// Send every AWS request to this endpoint instead of AWS, for emulators such as moto or
    /// LocalStack (e.g. http://127.0.0.1:5000)
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL", value_parser = endpoint_url)]
    pub endpoint_url: Option<String>,

    /// How many AWS requests may be in flight at once, across all collectors, regions, buckets
    /// and keys (every collector and region starts at once; this bounds the traffic)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Attempts per AWS call, the first included; throttling, 5xx answers, resets and timeouts
    /// are retried with exponential backoff (default: AWS_MAX_ATTEMPTS, the profile's
    /// max_attempts, or 8). AWS_RETRY_MODE or the profile's retry_mode chooses standard or
    /// adaptive retries
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,

    /// Seconds to wait for a connection to AWS
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub connect_timeout: u64,

    /// Seconds to wait for the first byte of an answer once the request is sent
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout: u64,

    /// Seconds one attempt of one AWS call may take, from sending the request to the last byte
    /// of the answer (waiting for a free slot under --concurrency does not count)
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub operation_timeout: u64,

    /// Seconds to wait for AWS to generate the IAM credential report
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub credential_report_timeout: u64,

    /// How far back to read IAM Access Analyzer findings that were archived or resolved, and
    /// GuardDuty findings (archived included): their updates of the last DAYS days. Open
    /// findings are read whatever their age
    #[arg(long, value_name = "DAYS", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub lookback_days: u32,
    /// Hours of CloudTrail digest files to validate, back from the run's start (log file
    /// integrity, sampled: the signatures, the chain and a few log files of each digest)
    #[arg(long, value_name = "HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=2160))]
    pub validation_hours: u32,

    /// Log files to re-hash per digest file in the log file validation (0: the digests'
    /// signatures and chain only)
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub validation_sample: u32,

    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// Print one JSON summary on stdout instead of the table (for CI)
    #[arg(long)]
    pub json: bool,

    // Last: their help headings would also take the options after them.
    #[command(flatten)]
    pub org: OrgArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub sign: SignArgs,
}

/// Signing the manifest (README "Signing"): at most one key.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Signing (manifest.json.sig, checked with ssh-keygen -Y verify)")]
#[group(id = "sign_key_source", multiple = false)]
pub struct SignArgs {
    /// Sign manifest.json with this OpenSSH private key (ed25519, ECDSA P-256 or RSA, without a
    /// passphrase) into manifest.json.sig, an SSHSIG of namespace soc2-evidence
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,

    /// The same, with the private key's text in this environment variable (for CI secrets; the
    /// key is never logged or written)
    #[arg(long, value_name = "VAR")]
    pub sign_key_env: Option<String>,

    /// Sign with this asymmetric AWS KMS key (id, alias or ARN; ECC_NIST_P256 or RSA) through
    /// kms:Sign, so the private key never leaves KMS (needs kms:Sign and kms:GetPublicKey on it)
    #[arg(long, value_name = "KEY")]
    pub sign_kms_key: Option<String>,
}

impl SignArgs {
    /// The key given, if any.
    pub fn sign_with(&self) -> Option<SignWith> {
        if let Some(path) = &self.sign_key {
            return Some(SignWith::KeyFile(path.clone()));
        }
        if let Some(var) = &self.sign_key_env {
            return Some(SignWith::KeyEnv(var.clone()));
        }
        self.sign_kms_key.clone().map(SignWith::Kms)
    }
}

/// Collecting many accounts into one org bundle (README "Collect a whole organization").
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Organization (many accounts, one org bundle)")]
pub struct OrgArgs {
    /// Collect every ACTIVE account of the AWS Organization, run from the management account or
    /// a delegated administrator: each member account through the role --role-name, the
    /// caller's own account with the caller's credentials. Writes one org bundle
    #[arg(long, requires = "role_name")]
    pub org: bool,

    /// The read-only role to assume in each member account (deploy/member-role.yaml creates it)
    #[arg(long, value_name = "NAME", value_parser = iam_role_name)]
    pub role_name: Option<String>,

    /// The external id the member roles' trust requires (sts:ExternalId)
    #[arg(long, value_name = "ID", requires = "role_name")]
    pub external_id: Option<String>,

    /// Only this account; repeat for several. Without --org: the accounts to collect, with no
    /// Organizations access needed (requires --role-name)
    #[arg(long = "account", value_name = "ACCOUNT-ID", value_parser = account_id, requires = "role_name")]
    pub accounts: Vec<String>,

    /// Leave this account out; repeat for several (with --org)
    #[arg(long = "skip-account", value_name = "ACCOUNT-ID", value_parser = account_id, requires = "org")]
    pub skip_accounts: Vec<String>,

    /// Only the accounts below this OU, at any depth; repeat for several (with --org)
    #[arg(long = "ou", value_name = "OU-ID", value_parser = ou_id, requires = "org")]
    pub ous: Vec<String>,

    /// Collect only the K-th of N disjoint slices of the selected accounts (by account id) into
    /// a partial org bundle; `merge` joins the N shards (with --org)
    #[arg(long, value_name = "K/N", value_parser = shard, requires = "org")]
    pub shard: Option<(u32, u32)>,
}

fn account_id(value: &str) -> Result<String, String> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_string())
    } else {
        Err("an AWS account id: 12 digits".into())
    }
}

fn ou_id(value: &str) -> Result<String, String> {
    let ok = (value.starts_with("ou-") || value.starts_with("r-"))
        && value.len() <= 68
        && value[2..]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(value.to_string())
    } else {
        Err("an OU id such as ou-ab12-34cd56ef (or a root id such as r-ab12)".into())
    }
}

fn shard(value: &str) -> Result<(u32, u32), String> {
    let parsed = value
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse::<u32>().ok()?, n.parse::<u32>().ok()?)));
    match parsed {
        Some((k, n)) if (1..=n).contains(&k) && n <= 1000 => Ok((k, n)),
        _ => Err("K/N with 1 <= K <= N <= 1000, e.g. 2/3 for the second of three shards".into()),
    }
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards of one `collect --org --shard K/N` run (or one org bundle), and single-account
    /// bundles of accounts they could not collect: .zip files or directories, each verified
    /// first and never changed
    #[arg(value_name = "SHARD", required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,

    /// Directory the org bundle is written into; created if missing
    #[arg(long, value_name = "DIR", default_value = "evidence")]
    pub out: PathBuf,

    /// Exit with status 4 when the org has a finding of this severity or a more serious one
    #[arg(long, value_name = "SEVERITY", value_enum)]
    pub fail_on: Option<Severity>,

    /// Print one JSON summary on stdout instead of the table (for CI)
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub sign: SignArgs,

    #[command(flatten)]
    pub config: ConfigArgs,
}

/// The options of the findings stage, shared by `collect` and `report`.
#[derive(Debug, Clone, Args)]
pub struct AnalysisArgs {
    /// Exit with status 4 when there is a finding of this severity or a more serious one
    /// (critical > high > medium > low). For collect, incomplete evidence (status 3) wins
    #[arg(long, value_name = "SEVERITY", value_enum)]
    pub fail_on: Option<Severity>,

    /// A console password or active access key unused for more days than this is a finding
    /// (credentials-unused); never used: counted from when it was set
    #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub user_inactive_days: u32,

    /// A role unused for more days than this is a finding (role-unused); never used: counted
    /// from its creation. Service-linked roles are never flagged
    #[arg(long, value_name = "DAYS", default_value_t = 180, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub role_inactive_days: u32,

    /// An active access key last rotated more days ago than this is a finding (access-key-age)
    #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub key_max_age_days: u32,

    /// An open IAM Access Analyzer external-access finding, or an unarchived High or Critical
    /// GuardDuty finding, created more days ago than this is overdue
    /// (access-analyzer-finding-overdue, guardduty-finding-overdue)
    #[arg(long, value_name = "DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub finding_sla_days: u32,

    /// Accepted risks: a TOML file of [[exception]] tables (rule, resource or glob, optional
    /// account and region, reason, approved_by, optional ticket, expires). A matching finding
    /// stays in the findings as `accepted` and never counts towards --fail-on; the file is
    /// copied into the bundle. For report: replaces the file the bundle recorded. See README
    /// "Accepting a finding"
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,

    /// The company's documented requirements: a TOML file of [password], [access_keys],
    /// [inactivity] and [trust] values. The password policy is judged against it instead of
    /// CIS, its limits replace the three thresholds above, and the bundle keeps it with a
    /// comparison table (documented-policy.csv). For report: replaces the file the bundle
    /// recorded. See README "Documented policy"
    #[arg(long, value_name = "FILE")]
    pub documented_policy: Option<PathBuf>,

    /// An account whose grants in S3 bucket and KMS key policies are expected (repeat for
    /// several; also [trust] trusted_accounts of the documented policy). Grants to any other
    /// account, or to anyone, are findings
    #[arg(long = "trusted-account", value_name = "ACCOUNT-ID", value_parser = account_id)]
    pub trusted_accounts: Vec<String>,
}

impl AnalysisArgs {
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            user_inactive_days: self.user_inactive_days,
            role_inactive_days: self.role_inactive_days,
            key_max_age_days: self.key_max_age_days,
            finding_sla_days: self.finding_sla_days,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The bundle to analyse again: its .zip file or its directory (it is verified first and
    /// never changed)
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,

    /// Directory the new bundle is written into (default: the directory holding BUNDLE)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// Print one JSON summary on stdout instead of the table (for CI)
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub sign: SignArgs,

    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle: its .zip file or its directory
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,

    /// Check manifest.json.sig against this allowed_signers file (ssh-keygen(1) format) and name
    /// the signer; a missing, foreign or broken signature then fails
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,

    /// With --allowed-signers: the signature must be by a key listed for this identity
    #[arg(long, value_name = "IDENTITY", requires = "allowed_signers")]
    pub signer: Option<String>,

    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the collectors as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Only the permissions of this collector; repeat for several
    #[arg(long = "collector", value_name = "ID", value_parser = collector_id())]
    pub collectors: Vec<String>,

    /// Leave out the permissions of this collector; repeat for several
    #[arg(long = "skip", value_name = "ID", value_parser = collector_id())]
    pub skip: Vec<String>,

    /// Print the policy of the principal that runs `collect --org` (management account or
    /// delegated administrator): the read-only actions, the AWS Organizations reads, and
    /// sts:AssumeRole on the member role in every account
    #[arg(long)]
    pub org: bool,

    /// Add a statement of the optional actions (s3:GetObject, s3:ListBucket and
    /// cloudtrail:ListPublicKeys, for the sampled CloudTrail log file validation), whose
    /// Resource you may narrow to the trails' log buckets; without them that validation is
    /// recorded as not done, never as passed
    #[arg(long)]
    pub with_optional: bool,

    /// With --org: the name of the read-only role in every member account (the role
    /// deploy/member-role.yaml creates; the same name as `collect --org --role-name`)
    #[arg(
        long,
        value_name = "NAME",
        default_value = "soc2-evidence-reader",
        requires = "org",
        value_parser = iam_role_name
    )]
    pub role_name: String,
}

/// An IAM role name as IAM allows it: 1 to 64 letters, digits and `+=,.@_-`. Anything else (a
/// path, a `*`) would make the printed ARN match other roles, or none.
fn iam_role_name(value: &str) -> Result<String, String> {
    let valid = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if valid {
        Ok(value.to_string())
    } else {
        Err(format!(
            "`{value}` is not an IAM role name (1 to 64 letters, digits and +=,.@_-, without a path)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn region_names_are_checked() {
        for ok in [
            "us-east-1",
            "eu-west-2",
            "us-gov-west-1",
            "ap-southeast-4",
            "cn-northwest-1",
            "il-central-1",
            "mx-central-1",
            "eusc-de-east-1",
            "us-isob-east-1",
        ] {
            assert!(region_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "useast1",
            "us-east-1a",
            "-east-1",
            "xx-nowhere-9",
            "moon-base-1",
        ] {
            assert!(region_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_names_are_checked() {
        for ok in [
            "soc2-evidence-reader",
            "a",
            "Audit+Reader=1,x.y@z_w",
            &"r".repeat(64),
        ] {
            assert!(iam_role_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "audit/reader", "soc2-*", "a b", &"r".repeat(65)] {
            assert!(iam_role_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        assert_eq!(
            endpoint_url("http://127.0.0.1:5000/").unwrap(),
            "http://127.0.0.1:5000"
        );
        assert!(endpoint_url("127.0.0.1:5000").is_err());
    }
}
