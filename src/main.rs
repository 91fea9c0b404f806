//! The `soc2-evidence` binary: parses arguments, sets up logging, runs the command, and turns
//! the outcome into an exit status. Everything else lives in the library.

use std::io::Write;

use soc2_evidence::cli::{Cli, Command};
use soc2_evidence::config::CollectConfig;
use soc2_evidence::error::ExitCode;
use soc2_evidence::sign::Signer;
use soc2_evidence::{bundle, interrupt, output, policy, registry, run};

fn main() {
    // The config file (README "Config file") fills in the flags the command line did not give.
    let (cli, config_file) =
        match soc2_evidence::config_file::parse_args(std::env::args_os().collect()) {
            Ok(parsed) => parsed,
            Err(err) => {
                eprintln!("error: {err}");
                std::process::exit(err.exit_code().code());
            }
        };
    init_logging(cli.verbose, cli.quiet);
    let code = match &cli.command {
        Command::Collect(args) => {
            let mut config = CollectConfig::from_args(args, cli.quiet);
            config.config_file = config_file.clone();
            match soc2_evidence::config::load_policy_files(&args.analysis) {
                Ok(files) => {
                    let config = config.with_policy_files(files);
                    if config.org.is_some() {
                        collect_org(config, args.json, cli.quiet)
                    } else {
                        collect(config, args.json, cli.quiet)
                    }
                }
                Err(err) => {
                    eprintln!("error: {err}");
                    err.exit_code()
                }
            }
        }
        Command::Merge(args) => match open_signer(&args.sign) {
            Ok(signer) => org_result(
                soc2_evidence::org::merge::merge(&soc2_evidence::org::merge::MergeConfig {
                    shards: args.shards.clone(),
                    out: args.out.clone(),
                    fail_on: args.fail_on,
                    signer,
                    config_file: config_file.clone(),
                }),
                None,
                args.json,
                cli.quiet,
            ),
            Err(code) => code,
        },
        Command::Diff(args) => diff(
            &soc2_evidence::period::diff::DiffConfig {
                old: args.old.clone(),
                new: args.new.clone(),
                out: args.out.clone(),
                fail_on: args.fail_on,
            },
            args.json,
        ),
        Command::Timeline(args) => match args
            .allowed_signers
            .as_deref()
            .map(allowed_signers)
            .transpose()
        {
            Ok(signers) => timeline(
                &soc2_evidence::period::timeline::TimelineConfig {
                    inputs: args.inputs.clone(),
                    out: args.out.clone(),
                    expect_every_days: args.expect_every,
                    threads: 0,
                    trust: signers.map(|s| (s, args.signer.clone())),
                },
                args.json,
            ),
            Err(reason) => {
                eprintln!(
                    "error: cannot read the allowed signers file {}: {}\n  fix: pass a file of lines `IDENTITY namespaces=\"soc2-evidence\" <public key>` (`soc2-evidence signer` prints one)",
                    args.allowed_signers.as_deref().unwrap_or(std::path::Path::new("")).display(),
                    bundle::verify::escape_untrusted(&reason)
                );
                ExitCode::Failure
            }
        },
        Command::Completions(args) => {
            use clap::CommandFactory;
            clap_complete::generate(
                args.shell,
                &mut Cli::command(),
                "soc2-evidence",
                &mut std::io::stdout(),
            );
            ExitCode::Success
        }
        Command::Man(args) => man(args.out.as_deref()),
        Command::Verify(args) => verify(args),
        Command::Report(args) => match (
            open_signer(&args.sign),
            soc2_evidence::config::load_policy_files(&args.analysis),
        ) {
            (Ok(signer), Ok(files)) => report(
                &soc2_evidence::report::ReportConfig {
                    bundle: args.bundle.clone(),
                    out: args.out.clone(),
                    thresholds: args.analysis.thresholds(),
                    fail_on: args.analysis.fail_on,
                    signer,
                    exceptions: files.exceptions,
                    documented: files.documented,
                    trusted_accounts: args.analysis.trusted_accounts.clone(),
                    config_file: config_file.clone(),
                },
                args.json,
                cli.quiet,
            ),
            (Err(code), _) => code,
            (_, Err(err)) => {
                eprintln!("error: {err}");
                err.exit_code()
            }
        },
        Command::Signer(args) => signer(args),
        Command::List(args) => {
            if args.json {
                print_json(&output::list_json(registry::REGISTRY));
            } else {
                print!("{}", output::list_table(registry::REGISTRY));
            }
            ExitCode::Success
        }
        Command::Policy(args) => {
            let collectors = registry::select(&args.collectors, &args.skip);
            let printed = if args.org {
                policy::org_policy_for(&collectors, &args.role_name)
            } else {
                policy::policy_for(&collectors)
            };
            print_json(&if args.with_optional {
                policy::with_optional(printed, &collectors)
            } else {
                printed
            });
            ExitCode::Success
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code.code());
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        // The SDK's own warnings (a region not found in IMDS, ...) are noise at the default level.
        (false, 0) => "error,soc2_evidence=warn",
        (false, 1) => "warn,soc2_evidence=info",
        (false, _) => "info,soc2_evidence=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values serialize")
    );
}

/// Runs `work` on a runtime with SIGINT/SIGTERM handlers installed before it starts, so a
/// signal at any moment is caught; the run stops itself and removes its temporary bundle
/// before this returns. Also returns the signal, if one came.
fn run_interruptible<T, F>(
    work: impl FnOnce(interrupt::Stop) -> F,
) -> (T, Option<interrupt::Signal>)
where
    F: std::future::Future<Output = T>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let result = runtime.block_on(async {
        let stop = interrupt::listen().unwrap_or_else(|e| {
            tracing::warn!("cannot handle SIGINT/SIGTERM ({e}); an interrupted run may leave a temporary bundle behind");
            interrupt::Stop::never()
        });
        let result = work(stop.clone()).await;
        (result, stop.received())
    });
    // Nothing is left that writes: end the runtime without waiting on idle connections.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

fn note_late_signal(stopped_by: Option<interrupt::Signal>) {
    if let Some(signal) = stopped_by {
        eprintln!(
            "note: {} arrived while the finished bundle was being written; it was completed rather than left half-written",
            signal.name()
        );
    }
}

fn collect(config: CollectConfig, json: bool, quiet: bool) -> ExitCode {
    let (result, stopped_by) =
        run_interruptible(|stop| async move { run::collect_until(&config, &stop).await });
    match result {
        Ok(outcome) => {
            note_late_signal(stopped_by);
            if json {
                print_json(&output::collect_json(&outcome, outcome.exit_code()));
            } else if quiet {
                println!("{}", outcome.paths.directory.display());
            } else {
                print!("{}", output::collect_summary(&outcome));
            }
            outcome.exit_code()
        }
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

fn collect_org(config: CollectConfig, json: bool, quiet: bool) -> ExitCode {
    let (result, stopped_by) = run_interruptible(|stop| async move {
        soc2_evidence::org::collect_org_until(&config, &stop).await
    });
    org_result(result, stopped_by, json, quiet)
}

fn org_result(
    result: Result<soc2_evidence::org::OrgOutcome, soc2_evidence::error::Error>,
    stopped_by: Option<interrupt::Signal>,
    json: bool,
    quiet: bool,
) -> ExitCode {
    match result {
        Ok(outcome) => {
            note_late_signal(stopped_by);
            if json {
                print_json(&output::org_json(&outcome));
            } else if quiet {
                println!("{}", outcome.paths.directory.display());
            } else {
                print!("{}", output::org_summary(&outcome));
            }
            outcome.exit_code()
        }
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

fn report(config: &soc2_evidence::report::ReportConfig, json: bool, quiet: bool) -> ExitCode {
    use soc2_evidence::org::report::ReportOutcome;
    match soc2_evidence::org::report::report(config) {
        Ok(ReportOutcome::Account(outcome)) => {
            if json {
                print_json(&output::collect_json(&outcome, outcome.report_exit_code()));
            } else if quiet {
                println!("{}", outcome.paths.directory.display());
            } else {
                print!("{}", output::collect_summary(&outcome));
            }
            outcome.report_exit_code()
        }
        Ok(ReportOutcome::Org(outcome)) => org_result(Ok(*outcome), None, json, quiet),
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

/// Opens the signer of `report` and `merge` (a KMS key through the standard AWS chain) before
/// any work, so a wrong key costs nothing.
fn open_signer(
    args: &soc2_evidence::cli::SignArgs,
) -> Result<Option<std::sync::Arc<Signer>>, ExitCode> {
    let Some(with) = args.sign_with() else {
        return Ok(None);
    };
    Signer::open_blocking(&with)
        .map(|s| Some(std::sync::Arc::new(s)))
        .map_err(|err| {
            eprintln!("error: {err}");
            err.exit_code()
        })
}

fn signer(args: &soc2_evidence::cli::SignerArgs) -> ExitCode {
    let Some(with) = args.sign.sign_with() else {
        eprintln!("error: name the key: --sign-key FILE, --sign-key-env VAR or --sign-kms-key KEY");
        return ExitCode::Usage;
    };
    match Signer::open_blocking(&with).and_then(|s| s.allowed_signers_line(&args.identity)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::Success
        }
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

/// Reads the allowed signers file (bounded), or says why not.
fn allowed_signers(path: &std::path::Path) -> Result<bundle::signature::AllowedSigners, String> {
    use std::io::Read;
    let limit = bundle::signature::MAX_ALLOWED_SIGNERS_BYTES;
    let mut bytes = Vec::new();
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    bundle::signature::AllowedSigners::parse(&bytes)
}

fn diff(config: &soc2_evidence::period::diff::DiffConfig, json: bool) -> ExitCode {
    match soc2_evidence::period::diff::diff(config) {
        Ok((result, written)) => {
            if json {
                print_json(&serde_json::to_value(&result).expect("diff serializes"));
            } else {
                print!("{}", output::diff_text(&result, &written));
            }
            result.exit_code()
        }
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

fn timeline(config: &soc2_evidence::period::timeline::TimelineConfig, json: bool) -> ExitCode {
    match soc2_evidence::period::timeline::timeline(config) {
        Ok((result, written)) => {
            if json {
                print_json(&serde_json::to_value(&result).expect("timeline serializes"));
            } else {
                print!("{}", output::timeline_text(&result, &written));
            }
            result.exit_code()
        }
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

/// The manual: the main page and one page per command, printed in turn or written into `out`.
fn man(out: Option<&std::path::Path>) -> ExitCode {
    use clap::CommandFactory;
    let top = Cli::command().name("soc2-evidence");
    let mut pages = vec![("soc2-evidence".to_string(), top.clone())];
    for sub in top.get_subcommands() {
        let name = format!("soc2-evidence-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    let mut written = Vec::new();
    for (name, command) in pages {
        let mut page = Vec::new();
        if let Err(e) = clap_mangen::Man::new(command).render(&mut page) {
            eprintln!("error: cannot render the manual page {name}: {e}");
            return ExitCode::Failure;
        }
        match out {
            None => {
                let _ = std::io::stdout().write_all(&page);
            }
            Some(dir) => {
                let path = dir.join(format!("{name}.1"));
                let result =
                    std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, &page));
                if let Err(e) = result {
                    eprintln!(
                        "error: cannot write {}: {e}\n  fix: pass --out with a directory you can write to",
                        path.display()
                    );
                    return ExitCode::Failure;
                }
                written.push(path);
            }
        }
    }
    for path in written {
        println!("{}", path.display());
    }
    ExitCode::Success
}

fn verify(args: &soc2_evidence::cli::VerifyArgs) -> ExitCode {
    let path = &args.bundle;
    let signers = match args
        .allowed_signers
        .as_deref()
        .map(allowed_signers)
        .transpose()
    {
        Ok(signers) => signers,
        Err(reason) => {
            eprintln!(
                "error: cannot read the allowed signers file {}: {}\n  fix: pass a file of lines `IDENTITY namespaces=\"soc2-evidence\" <public key>` (`soc2-evidence signer` prints one)",
                args.allowed_signers.as_deref().unwrap_or(path).display(),
                bundle::verify::escape_untrusted(&reason)
            );
            return ExitCode::Failure;
        }
    };
    let trust = signers.as_ref().map(|signers| bundle::verify::Trust {
        signers,
        identity: args.signer.as_deref(),
    });
    match bundle::verify::verify_with(path, trust.as_ref()) {
        Ok(report) => {
            if args.json {
                print_json(&serde_json::to_value(&report).expect("reports serialize"));
            } else {
                print!("{}", output::verify_text(&report));
            }
            if report.passed() {
                ExitCode::Success
            } else {
                ExitCode::Failure
            }
        }
        Err(err) => {
            eprintln!(
                "error: cannot read the bundle {}: {err}\n  fix: pass the bundle's .zip file or its directory",
                path.display()
            );
            ExitCode::Failure
        }
    }
}
