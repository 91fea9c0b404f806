//! Spreadsheet-safe tables: no value an account holder controls can run as a formula when an
//! auditor opens a table of the bundle in a spreadsheet, the JSON twins keep every value exactly,
//! and the findings (also as `report` re-derives them) are those of the values themselves.

mod common;

use std::path::Path;

use common::seed::{open_to, security_group};
use common::{
    binary, bundle_dir, collect_expecting, files_below, iam, read_json, run, sdk_config, text,
    Emulator,
};

const SG_DESCRIPTION: &str = "=HYPERLINK(\"http://evil.example/x\",\"click me\")";
const USER: &str = "=cmd+x";
const ADMIN_USER: &str = "@ops";
const ROLE: &str = "+deploy";
const TAG_VALUE: &str = "-1+1";

/// What a spreadsheet could run: a cell starting with one of these, unless a plain number.
fn runnable(cell: &str) -> bool {
    let plain_number = {
        let digits = cell.strip_prefix('-').unwrap_or(cell);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
    };
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !plain_number
}

/// Every cell of a CSV file, header included.
fn cells(path: &Path) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

async fn seed(emulator: &Emulator) {
    let iam = iam(emulator).await;
    for user in [USER, ADMIN_USER] {
        iam.create_user()
            .user_name(user)
            .tags(
                aws_sdk_iam::types::Tag::builder()
                    .key("team")
                    .value(TAG_VALUE)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    // A finding on a user whose name a spreadsheet would run: a console password without MFA.
    iam.create_login_profile()
        .user_name(USER)
        .password("Correct-Horse-9-Battery")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name(ROLE)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let ec2 = aws_sdk_ec2::Client::new(&sdk_config(emulator, "us-east-1"));
    security_group(
        &ec2,
        "formula",
        SG_DESCRIPTION,
        None,
        vec![open_to("tcp", Some((22, 22)), "0.0.0.0/0")],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_table_cell_can_run_in_a_spreadsheet_and_every_value_survives_exactly() {
    let emulator = Emulator::start();
    seed(&emulator).await;
    let (_out, _summary, dir) = collect_expecting(&emulator, &[], 3);

    // No table the tool writes for people holds a cell a spreadsheet would run.
    let mut tables = 0;
    for file in files_below(&dir) {
        if !file.ends_with(".csv") || file == "evidence/iam-credential-report/credential-report.csv"
        {
            continue;
        }
        tables += 1;
        for cell in cells(&dir.join(&file)) {
            assert!(!runnable(&cell), "{file}: {cell:?} could run as a formula");
        }
    }
    assert!(tables >= 15, "only {tables} tables");

    // The values are there, behind one apostrophe.
    let users = cells(&dir.join("evidence/iam-authorization-details/users.csv"));
    assert!(users.contains(&format!("'{USER}")), "{users:?}");
    assert!(users.contains(&format!("'{ADMIN_USER}")), "{users:?}");
    let roles = cells(&dir.join("evidence/iam-authorization-details/roles.csv"));
    assert!(roles.contains(&format!("'{ROLE}")), "{roles:?}");
    let groups = cells(&dir.join("evidence/ec2-security-groups/security-groups.csv"));
    assert!(groups.contains(&format!("'{SG_DESCRIPTION}")), "{groups:?}");
    let review = cells(&dir.join("access-review/users.csv"));
    assert!(review.contains(&format!("'{USER}")), "{review:?}");
    // Ports that are negative by nature stay numbers.
    let rules = cells(&dir.join("evidence/ec2-security-groups/rules.csv"));
    assert!(rules.iter().any(|c| c == "-1"), "protocol -1 as a number");

    // AWS's own credential report stays AWS's bytes.
    let report =
        std::fs::read_to_string(dir.join("evidence/iam-credential-report/credential-report.csv"))
            .unwrap();
    assert!(report.contains(&format!("\n{USER},")), "{report}");

    // The JSON keeps every value exactly.
    let details =
        read_json(&dir.join("evidence/iam-authorization-details/authorization-details.json"));
    let text_of = |v: &serde_json::Value| v.to_string();
    let all = text_of(&details);
    for value in [USER, ADMIN_USER, ROLE, TAG_VALUE] {
        assert!(
            all.contains(&format!("\"{value}\"")),
            "{value} in authorization-details.json"
        );
    }
    let groups_json = text_of(&read_json(
        &dir.join("evidence/ec2-security-groups/security-groups.json"),
    ));
    assert!(groups_json.contains(&serde_json::to_string(SG_DESCRIPTION).unwrap()));
    let findings = read_json(&dir.join("findings.json"));
    let resources: Vec<&str> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"].as_str().unwrap())
        .collect();
    assert!(resources.contains(&format!("arn:aws:iam::123456789012:user/{USER}").as_str()));
    assert!(resources.contains(&format!("arn:aws:iam::123456789012:role/{ROLE}").as_str()));

    // The manifest says how the tables are written and which are kept as AWS wrote them.
    let manifest = read_json(&dir.join("manifest.json"));
    let cells_record = &manifest["table_cells"];
    assert_eq!(cells_record["encoding"], "spreadsheet-safe");
    assert!(cells_record["rule"]
        .as_str()
        .unwrap()
        .contains("drop that first '"));
    assert_eq!(
        cells_record["as_written"],
        serde_json::json!(["evidence/iam-credential-report/credential-report.csv"])
    );

    // `report` reads the neutralised tables back as the values: the same findings, byte for byte.
    let again = tempfile::tempdir().unwrap();
    let output = run(binary()
        .arg("report")
        .arg(&dir)
        .arg("--out")
        .arg(again.path())
        .arg("--json"));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("report printed no JSON ({e}): {}", text(&output.stderr)));
    let derived = bundle_dir(&summary);
    for file in [
        "findings.csv",
        "findings.json",
        "rules.csv",
        "access-review/users.csv",
        "access-review/roles.csv",
    ] {
        assert_eq!(
            std::fs::read(derived.join(file)).unwrap(),
            std::fs::read(dir.join(file)).unwrap(),
            "{file} re-derived by report"
        );
    }
    assert_eq!(
        read_json(&derived.join("manifest.json"))["table_cells"],
        *cells_record
    );
}
