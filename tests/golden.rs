//! Golden copies: what the tool writes is pinned down file by file, so a restructuring of the
//! code that should not change the bundle is checked to leave it unchanged.
//!
//! - The seeded emulator account (both regions): every file of the bundle but `manifest.json`
//!   (the run's own facts) is compared with `tests/golden/seeded/`, after the values the
//!   emulator makes up anew on every run (resource ids, times, hashes) are masked. Lines are
//!   compared sorted, because the order of rows keyed by a random id changes from run to run.
//! - `report` over the raw seeded bundle kept in `tests/golden/seeded-bundle/`, written by the
//!   tool as it was before the evidence contract: the re-derived findings, rules, access review
//!   and `index.html` are compared byte for byte (the run facts of `index.html` masked), since
//!   `report` judges as of the source run's start and nothing in it varies. (`tests/hostile_report.rs`
//!   checks that `report` also reads the older `fixtures/bundle.zip`.)
//!
//! `SOC2_UPDATE_GOLDEN=1 cargo test --test golden` rewrites the copies; review the diff.
//! `SOC2_UPDATE_GOLDEN_RAW=1` also replaces the stored raw bundle, which should stay one written
//! by an earlier version (so `report` is checked to read old bundles).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::seed::seed_golden;
use common::{binary, bundle_dir, files_below, read_json, run, text, Emulator};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

fn updating() -> bool {
    std::env::var_os("SOC2_UPDATE_GOLDEN").is_some()
}

/// A part made up by the emulator: eight or more letters and digits mixing both, sixteen or
/// more capitals and digits (IAM unique ids such as `AROA...`, which may hold no digit), or
/// eight or more digits that are not a twelve-digit account id.
fn is_made_up(part: &str) -> bool {
    let digits = part.chars().all(|c| c.is_ascii_digit());
    if part.len() >= 16
        && part
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return true;
    }
    part.len() >= 8
        && if digits {
            part.len() != 12
        } else {
            part.chars().any(|c| c.is_ascii_digit())
        }
}

/// `token` with every UUID (8-4-4-4-12 hex digits between `-`) replaced by `<uuid>`.
fn mask_uuids(token: &str) -> String {
    token
        .split(':')
        .map(|piece| {
            let parts: Vec<&str> = piece.split('-').collect();
            let mut out: Vec<String> = Vec::new();
            let mut i = 0;
            while i < parts.len() {
                let is_uuid = i + 5 <= parts.len()
                    && parts[i..i + 5]
                        .iter()
                        .zip([8, 4, 4, 4, 12])
                        .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()));
                if is_uuid {
                    out.push("<uuid>".to_string());
                    i += 5;
                } else {
                    out.push(parts[i].to_string());
                    i += 1;
                }
            }
            out.join("-")
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// Masks what the emulator makes up on each run: times (`2026-11-29T13:20:11Z`, dates,
/// `20261129T132011Z`), UUIDs and every token of eight or more letters and digits that mixes
/// both (resource ids, access key ids, hashes). Account ids, ports, counts and names stay.
fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_ascii_alphanumeric() {
            out.push(c);
            i += 1;
            continue;
        }
        // A token of letters and digits, with the `-`, `:` and `.` inside times and UUIDs.
        let mut j = i;
        while j < chars.len()
            && (chars[j].is_ascii_alphanumeric() || matches!(chars[j], '-' | ':' | '.' | '+'))
        {
            j += 1;
        }
        let token: String = chars[i..j].iter().collect();
        out.push_str(&mask_token(&token));
        i = j;
    }
    out
}

fn mask_token(token: &str) -> String {
    // A time or date: starts with a year and a dash or a compact date.
    let bytes = token.as_bytes();
    let starts_with_year =
        bytes.len() >= 10 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-';
    let compact =
        bytes.len() >= 15 && bytes[..8].iter().all(u8::is_ascii_digit) && bytes[8] == b'T';
    if starts_with_year || compact {
        return "<time>".to_string();
    }
    // Otherwise mask each part between separators on its own, so ARNs keep their shape.
    let token = mask_uuids(token);
    let mut out = String::new();
    let mut part = String::new();
    let mut previous = String::new();
    for c in token.chars() {
        if c.is_ascii_alphanumeric() {
            part.push(c);
        } else {
            out.push_str(if made_up_after(&previous, &part) {
                "<id>"
            } else {
                &part
            });
            previous = std::mem::take(&mut part);
            out.push(c);
        }
    }
    out.push_str(if made_up_after(&previous, &part) {
        "<id>"
    } else {
        &part
    });
    out
}

/// [`is_made_up`], and the ids of IAM Identity Center that may hold no digit: an identity
/// store (`d-` and ten letters or digits) and an instance (`ssoins-` and sixteen).
fn made_up_after(previous: &str, part: &str) -> bool {
    is_made_up(part)
        || (previous == "d" && part.len() == 10)
        || (previous == "ssoins" && part.len() == 16)
}

/// The masked text of a file, its lines sorted.
fn normalized(bytes: &[u8]) -> String {
    let masked = mask(&String::from_utf8_lossy(bytes));
    let mut lines: Vec<&str> = masked.lines().collect();
    lines.sort();
    lines.join("\n") + "\n"
}

/// `index.html` without the lines that show the run's own facts (id, times, durations, calls).
fn without_run_facts(html: &str) -> String {
    html.lines()
        .map(|line| {
            let lower = line.to_ascii_lowercase();
            if lower.contains("<time") || lower.contains("duration") || lower.contains("calls") {
                "<run fact>".to_string()
            } else {
                mask(line)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Compares `actual` with the golden file `name`, or writes it when updating.
fn check(name: &str, actual: &str, problems: &mut Vec<String>) {
    let path = PathBuf::from(GOLDEN).join(name);
    if updating() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => {
            let e: BTreeSet<&str> = expected.lines().collect();
            let a: BTreeSet<&str> = actual.lines().collect();
            problems.push(format!(
                "{name} differs from its golden copy\n  only in the golden copy: {:#?}\n  only now: {:#?}",
                e.difference(&a).take(10).collect::<Vec<_>>(),
                a.difference(&e).take(10).collect::<Vec<_>>()
            ));
        }
        Err(e) => problems.push(format!(
            "{name}: no golden copy ({e}); run with SOC2_UPDATE_GOLDEN=1"
        )),
    }
}

fn assert_no_problems(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seeded_account_bundle_matches_its_golden_copy() {
    let emulator = Emulator::start();
    seed_golden(&emulator).await;
    let (_out, _, dir) = common::seed::collect_through_expecting(&emulator.url, &[], 3);
    let files: Vec<String> = files_below(&dir)
        .into_iter()
        .filter(|f| f != "manifest.json")
        .collect();

    let mut problems = Vec::new();
    check("seeded/FILES", &(files.join("\n") + "\n"), &mut problems);
    for file in &files {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let actual = if file == "index.html" {
            normalized(without_run_facts(&text(&bytes)).as_bytes())
        } else {
            normalized(&bytes)
        };
        check(&format!("seeded/{file}"), &actual, &mut problems);
    }
    if std::env::var_os("SOC2_UPDATE_GOLDEN_RAW").is_some() {
        // The raw bundle, for report_rederives_the_golden_bundles_byte_for_byte: kept as an
        // earlier version wrote it, so replace it only on purpose.
        let keep = PathBuf::from(GOLDEN).join("seeded-bundle");
        let _ = std::fs::remove_dir_all(&keep);
        let target = keep.join(dir.file_name().unwrap());
        for file in files_below(&dir) {
            let to = target.join(&file);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(dir.join(&file), to).unwrap();
        }
    }
    assert_no_problems(problems);
}

/// `report SOURCE` into a fresh folder: the new bundle's directory.
fn report(source: &Path, out: &Path) -> PathBuf {
    let output = run(binary()
        .arg("report")
        .arg(source)
        .arg("--out")
        .arg(out)
        .arg("--json"));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("report printed no JSON ({e}): {}", text(&output.stderr)));
    bundle_dir(&summary)
}

#[test]
fn report_rederives_the_golden_bundles_byte_for_byte() {
    let seeded = std::fs::read_dir(PathBuf::from(GOLDEN).join("seeded-bundle"))
        .expect("tests/golden/seeded-bundle exists (SOC2_UPDATE_GOLDEN_RAW=1 writes it)")
        .next()
        .expect("one bundle in tests/golden/seeded-bundle")
        .unwrap()
        .path();
    // Every file of the old bundle that the evidence contract declares reads as its type.
    let contract = soc2_evidence::contract::files();
    let mut read = 0;
    for file in files_below(&seeded) {
        if let Some(spec) = contract.iter().find(|spec| spec.path == file) {
            let bytes = std::fs::read(seeded.join(&file)).unwrap();
            (spec.read)(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
            read += 1;
        }
    }
    assert!(
        read >= 15,
        "only {read} contract files in the stored bundle"
    );
    let sources = [("report-seeded", seeded)];
    let mut problems = Vec::new();
    for (name, source) in sources {
        let out = tempfile::tempdir().unwrap();
        let dir = report(&source, out.path());
        for file in files_below(&dir) {
            if file == "manifest.json" || file.starts_with("evidence/") {
                continue;
            }
            let bytes = std::fs::read(dir.join(&file)).unwrap();
            let actual = if file == "index.html" {
                without_run_facts(&text(&bytes))
            } else {
                text(&bytes)
            };
            check(&format!("{name}/{file}"), &actual, &mut problems);
        }
        // The source predates spreadsheet-safe tables: its tables were read as written, and
        // the new manifest says they are kept so.
        let kept = &read_json(&dir.join("manifest.json"))["table_cells"]["as_written"];
        let kept: Vec<&str> = kept
            .as_array()
            .unwrap_or_else(|| panic!("table_cells.as_written in the new manifest: {kept}"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            kept.contains(&"evidence/iam-authorization-details/users.csv"),
            "{kept:?}"
        );
        assert!(
            kept.contains(&"evidence/iam-credential-report/credential-report.csv"),
            "{kept:?}"
        );
    }
    assert_no_problems(problems);
}

#[test]
fn masking_keeps_names_ports_and_accounts_and_hides_ids_and_times() {
    assert_eq!(
        mask("sg-0a1b2c3d4e5f67890,ssh-open,22,123456789012,2026-11-29T13:20:11.5Z"),
        "sg-<id>,ssh-open,22,123456789012,<time>"
    );
    assert_eq!(
        mask("arn:aws:kms:us-east-1:123456789012:key/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"),
        "arn:aws:kms:us-east-1:123456789012:key/<uuid>"
    );
    assert_eq!(
        mask("arn:aws:sso:::instance/ssoins-abcdefghijklmnop,d-abcdefghij,d-two"),
        "arn:aws:sso:::instance/ssoins-<id>,d-<id>,d-two"
    );
}
