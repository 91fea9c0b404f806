//! The command line as users meet it: help text and `list` (snapshots), usage errors, and fatal
//! errors that name the cause and the fix.

mod common;

use common::{binary, run, text};

fn help(args: &[&str]) -> String {
    let output = run(binary().args(args));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    text(&output.stdout)
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!(help(&["--help"]));
}

#[test]
fn collect_help() {
    insta::assert_snapshot!(help(&["collect", "--help"]));
}

#[test]
fn verify_help() {
    insta::assert_snapshot!(help(&["verify", "--help"]));
}

#[test]
fn report_help() {
    insta::assert_snapshot!(help(&["report", "--help"]));
}

#[test]
fn policy_help() {
    insta::assert_snapshot!(help(&["policy", "--help"]));
}

#[test]
fn short_help_names_every_collect_option() {
    let short = help(&["collect", "-h"]);
    for option in [
        "--profile",
        "--region",
        "--out",
        "--collector",
        "--skip",
        "--endpoint-url",
        "--concurrency",
        "--max-attempts",
        "--fail-on",
        "--user-inactive-days",
        "--role-inactive-days",
        "--key-max-age-days",
        "--json",
        "Examples:",
    ] {
        assert!(short.contains(option), "{option} missing from:\n{short}");
    }
}

#[test]
fn list_table() {
    insta::assert_snapshot!(help(&["list"]));
}

#[test]
fn list_json_matches_the_table() {
    let listed: serde_json::Value = serde_json::from_str(&help(&["list", "--json"])).unwrap();
    let table = help(&["list"]);
    for entry in listed.as_array().unwrap() {
        let id = entry["id"].as_str().unwrap();
        assert!(table.contains(id));
        assert!(!entry["controls"].as_array().unwrap().is_empty());
        assert!(!entry["permissions"].as_array().unwrap().is_empty());
    }
}

#[test]
fn policy_is_a_read_only_iam_policy() {
    insta::assert_snapshot!(help(&["policy"]));
    let narrow: serde_json::Value =
        serde_json::from_str(&help(&["policy", "--collector", "iam-password-policy"])).unwrap();
    assert_eq!(
        narrow["Statement"][0]["Action"],
        serde_json::json!(["iam:GetAccountPasswordPolicy"])
    );
}

#[test]
fn policy_org_adds_organizations_reads_and_assume_role_on_the_member_role() {
    use soc2_evidence::policy::{DEFAULT_MEMBER_ROLE, ORGANIZATIONS_ACTIONS};
    let json = |args: &[&str]| -> serde_json::Value { serde_json::from_str(&help(args)).unwrap() };
    insta::assert_snapshot!("policy_org", help(&["policy", "--org"]));
    let account = json(&["policy"]);
    let org = json(&["policy", "--org", "--role-name", "audit-reader"]);
    let statements = org["Statement"].as_array().unwrap();
    // The caller's own account is collected with its own credentials: today's statement first.
    assert_eq!(statements[0], account["Statement"][0]);
    let granted = |action: &str| {
        statements.iter().any(|s| {
            s["Resource"] == "*" && s["Action"].as_array().unwrap().iter().any(|a| a == action)
        })
    };
    for action in ORGANIZATIONS_ACTIONS {
        assert!(granted(action), "{action} missing from {org:#}");
    }
    let assume: Vec<&serde_json::Value> = statements
        .iter()
        .filter(|s| s["Action"] == "sts:AssumeRole")
        .collect();
    assert_eq!(assume.len(), 1, "{org:#}");
    assert_eq!(assume[0]["Effect"], "Allow");
    assert_eq!(assume[0]["Resource"], "arn:aws:iam::*:role/audit-reader");
    // Without --role-name: the default member role, the name deploy/member-role.yaml uses.
    assert_eq!(
        json(&["policy", "--org"]),
        json(&["policy", "--org", "--role-name", DEFAULT_MEMBER_ROLE])
    );
    assert!(help(&["policy", "--help"]).contains(&format!("[default: {DEFAULT_MEMBER_ROLE}]")));
    // --collector and --skip narrow the read-only statement only.
    let narrow = json(&["policy", "--org", "--collector", "iam-password-policy"]);
    assert_eq!(
        narrow["Statement"][0]["Action"],
        serde_json::json!(["iam:GetAccountPasswordPolicy"])
    );
    let full = json(&["policy", "--org"]);
    assert_eq!(
        narrow["Statement"].as_array().unwrap()[1..],
        full["Statement"].as_array().unwrap()[1..]
    );
}

#[test]
fn policy_role_name_needs_org_and_is_an_iam_role_name() {
    usage_error(
        &["policy", "--role-name", "audit-reader"],
        &["--org", "Usage:"],
    );
    usage_error(
        &["policy", "--org", "--role-name", "audit/reader"],
        &["`audit/reader` is not an IAM role name"],
    );
    usage_error(
        &["policy", "--org", "--role-name", "soc2-*"],
        &["`soc2-*` is not an IAM role name"],
    );
}

fn usage_error(args: &[&str], expected: &[&str]) {
    let output = run(binary().args(args));
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    for part in expected {
        assert!(
            stderr.contains(part),
            "{args:?}: expected {part:?} in:\n{stderr}"
        );
    }
    assert!(output.stdout.is_empty());
}

#[test]
fn bad_options_exit_2_with_a_clear_message() {
    usage_error(
        &["collect", "--bogus"],
        &["unexpected argument '--bogus'", "Usage:"],
    );
    usage_error(
        &["collect", "--collector", "iam-everything"],
        &["invalid value 'iam-everything'", "iam-credential-report"],
    );
    usage_error(
        &["collect", "--region", "moon-1"],
        &["`moon-1` is not an AWS region name", "us-east-1"],
    );
    usage_error(
        &["collect", "--endpoint-url", "127.0.0.1:5000"],
        &["not an http(s) URL"],
    );
    usage_error(&["collect", "--concurrency", "0"], &["--concurrency"]);
    usage_error(&["verify"], &["<BUNDLE>"]);
    usage_error(&["report"], &["<BUNDLE>"]);
    usage_error(
        &["collect", "--fail-on", "severe"],
        &["invalid value 'severe'", "critical, high, medium, low"],
    );
    usage_error(
        &["collect", "--user-inactive-days", "0"],
        &["--user-inactive-days"],
    );
    usage_error(&["frobnicate"], &["unrecognized subcommand"]);
}

#[test]
fn missing_credentials_are_fatal_with_a_fix_and_leave_nothing_behind() {
    let out = tempfile::tempdir().unwrap();
    let output = run(binary()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["collect", "--endpoint-url", "http://127.0.0.1:9", "--out"])
        .arg(out.path().join("bundles")));
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no AWS credentials could be loaded"),
        "{stderr}"
    );
    assert!(stderr.contains("fix:"), "{stderr}");
    assert!(!out.path().join("bundles").exists());
}

#[test]
fn an_unreachable_endpoint_fails_fast_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    let started = std::time::Instant::now();
    let output = run(binary()
        .args([
            "collect",
            "--max-attempts",
            "1",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--out",
        ])
        .arg(out.path()));
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("could not identify the AWS account"),
        "{stderr}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn verify_of_a_path_that_does_not_exist_says_so() {
    let output = run(binary().args(["verify", "/nonexistent/bundle.zip"]));
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("cannot read the bundle /nonexistent/bundle.zip"),
        "{stderr}"
    );
}

/// Every subcommand and every long option of every command, as the parser defines them.
fn every_name() -> (Vec<String>, Vec<String>) {
    use clap::CommandFactory;
    let top = soc2_evidence::cli::Cli::command();
    let mut commands = Vec::new();
    let mut options: Vec<String> = top
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    for sub in top.get_subcommands() {
        commands.push(sub.get_name().to_string());
        options.extend(
            sub.get_arguments()
                .filter_map(|a| a.get_long().map(|l| format!("--{l}"))),
        );
    }
    options.sort();
    options.dedup();
    (commands, options)
}

#[test]
fn completions_name_every_command_and_option_in_every_shell() {
    let (commands, options) = every_name();
    assert!(
        commands.contains(&"timeline".to_string())
            && options.contains(&"--sign-kms-key".to_string())
    );
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run(binary().args(["completions", shell]));
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for name in commands.iter().chain(&options) {
            // fish and powershell name long options without their dashes.
            let bare = name.trim_start_matches('-');
            assert!(
                script.contains(name.as_str())
                    || script.contains(&format!("-l {bare}"))
                    || script.contains(&format!("'{name}'")),
                "{shell} completion lacks {name}"
            );
        }
    }
    let out = run(binary().args(["completions", "tcsh"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_man_pages_name_every_command_and_option() {
    let (commands, options) = every_name();
    let out = run(binary().arg("man"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    // roff writes a hyphen as `\-`.
    let pages = text(&out.stdout).replace("\\-", "-");
    assert!(
        pages.starts_with(".ie") || pages.contains(".TH soc2-evidence 1"),
        "{}",
        &pages[..200.min(pages.len())]
    );
    for name in commands.iter().chain(&options) {
        assert!(pages.contains(name.as_str()), "the manual lacks {name}");
    }
    for command in &commands {
        assert!(
            pages.contains(&format!(".TH soc2-evidence-{command} 1")),
            "no page for {command}"
        );
    }
    // --out writes one page per command.
    let dir = tempfile::tempdir().unwrap();
    let out = run(binary().arg("man").arg("--out").arg(dir.path()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut files = common::entry_names(dir.path()).unwrap();
    files.sort();
    assert_eq!(files.len(), commands.len() + 1);
    assert!(files.contains(&"soc2-evidence.1".to_string()));
    assert!(files.contains(&"soc2-evidence-collect.1".to_string()));
}
