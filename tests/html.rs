//! `index.html` of a real bundle: self-contained, every link a file of the bundle, and rendered
//! by a real browser (Debian's chromium, headless) with the control matrix and every finding
//! and rule in the page it draws.

mod common;

use std::collections::BTreeSet;

use common::browser::{chromium, headless, render};
use common::seed::{collect_through, seed};
use common::{csv_rows, Emulator};

/// Every `href`/`src` attribute value of a page.
fn references(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        let mut rest = page;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap();
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// HTML-escapes like the page does, to find account strings in the rendered DOM.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[tokio::test(flavor = "multi_thread")]
async fn index_html_is_self_contained_links_inside_the_bundle_and_renders_in_a_browser() {
    let browser = chromium();
    let emulator = Emulator::start();
    seed(&emulator).await;
    let out = tempfile::tempdir().unwrap();
    let (_, summary) = collect_through(&emulator.url, out.path(), &[]);
    let dir = common::bundle_dir(&summary);
    let manifest = common::read_json(&dir.join("manifest.json"));
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();

    // Self-contained: no script, no URL of any other host, no CSS fetch.
    let lower = page.to_lowercase();
    for forbidden in [
        "<script",
        "http://",
        "https://",
        "url(",
        "@import",
        "src=\"//",
        "href=\"//",
    ] {
        assert!(
            !lower.contains(forbidden),
            "index.html contains {forbidden}"
        );
    }
    // Every link is an anchor of the page, or a relative path to a file the manifest lists.
    let listed: BTreeSet<String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .chain(["manifest.json".to_string()])
        .collect();
    let links = references(&page);
    assert!(links.len() > 20, "the page links its files: {links:?}");
    for link in &links {
        if let Some(anchor) = link.strip_prefix('#') {
            assert!(
                page.contains(&format!("id=\"{anchor}\"")),
                "dangling anchor {link}"
            );
            continue;
        }
        let path = percent_decode(link);
        assert!(listed.contains(&path), "{link} is not a file of the bundle");
        assert!(dir.join(&path).is_file(), "{link} does not resolve");
    }
    for needed in ["findings.csv", "access-review/users.csv", "manifest.json"] {
        assert!(links.iter().any(|l| l == needed), "no link to {needed}");
    }

    // A real browser draws it: the control matrix, every finding and every rule are there.
    assert!(browser.is_file());
    let dom = render(&dir.join("index.html"));
    assert!(dom.contains("Control matrix"), "{dom}");
    for criterion in manifest["controls"].as_object().unwrap().keys() {
        assert!(
            dom.contains(&format!("id=\"control-{criterion}\"")),
            "criterion {criterion} missing from the rendered page"
        );
    }
    let findings = csv_rows(&dir.join("findings.csv"));
    assert!(!findings.is_empty(), "the seeded account has findings");
    for f in &findings {
        assert!(
            dom.contains(&f["rule"]),
            "finding rule {} not rendered",
            f["rule"]
        );
        assert!(
            dom.contains(&escaped(&f["resource"])),
            "finding resource {} not rendered",
            f["resource"]
        );
    }
    for r in csv_rows(&dir.join("rules.csv")) {
        assert!(dom.contains(&r["rule"]), "rule {} not rendered", r["rule"]);
    }
    // The collectors' errors (moto lacks Access Analyzer) are shown, not hidden.
    assert!(dom.contains("ListAnalyzers"), "errors are rendered");

    // It prints: chromium's print path lays the page out into a PDF.
    let pdf_dir = tempfile::tempdir().unwrap();
    let pdf = pdf_dir.path().join("index.pdf");
    headless(
        &dir.join("index.html"),
        &format!("--print-to-pdf={}", pdf.display()),
    );
    let bytes = std::fs::read(&pdf).expect("chromium printed the page to PDF");
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    assert!(
        bytes.len() > 10_000,
        "a printed page of {} bytes",
        bytes.len()
    );
}
