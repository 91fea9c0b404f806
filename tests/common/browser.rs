//! Debian's chromium, headless, for the tests that render the tool's HTML pages.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::text;

pub fn chromium() -> PathBuf {
    let path = std::env::var_os("SOC2_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "no browser at {}: the index.html test renders the page in Debian's chromium. Run \
         scripts/test (it installs the `chromium` package when run as root), or `apt-get install \
         chromium`, or set SOC2_CHROMIUM to a Chromium binary",
        path.display()
    );
    path
}

/// The DOM chromium renders for a local file, as HTML text.
pub fn render(page: &Path) -> String {
    text(&headless(page, "--dump-dom"))
}

/// Runs headless chromium on a local file with one action flag; returns its stdout.
pub fn headless(page: &Path, action: &str) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            action,
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        text(&output.stderr)
    );
    output.stdout
}
