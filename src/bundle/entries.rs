//! What a zip entry may be, judged from its central-directory record as every unzip tool reads
//! it: a name that means the same file everywhere (UTF-8 as flagged, no control character, not
//! equal to another after Unicode NFC and case folding) and a Unix file type (whatever host the
//! zip claims) of a regular file or a folder.

use std::collections::{BTreeMap, BTreeSet};

use unicode_normalization::UnicodeNormalization;

use super::central_directory;

/// Unix file-type bits of a zip entry's external attributes.
pub const S_IFMT: u32 = 0o170_000;
pub const S_IFREG: u32 = 0o100_000;
pub const S_IFDIR: u32 = 0o040_000;
pub const S_IFLNK: u32 = 0o120_000;
/// General-purpose flag bit 11: the entry's name is UTF-8.
const FLAG_UTF8: u16 = 1 << 11;

/// Checks each central-directory record as written: no name twice, no two names one file on a
/// case-insensitive or normalising file system, no control character, a name every tool decodes
/// alike, and a Unix file type (whatever host the zip claims) of a regular file or a folder.
pub fn check_records(records: &[central_directory::Record]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut folds: BTreeMap<String, String> = BTreeMap::new();
    for record in records {
        let shown = record.shown_name();
        let mut refuse = |reason: String| problems.push((shown.clone(), reason));
        if !seen.insert(record.name.as_slice()) {
            refuse("duplicate entry name (an unzip tool may extract either copy)".to_string());
            continue;
        }
        let Ok(name) = std::str::from_utf8(&record.name) else {
            refuse("a name that is not UTF-8 (unzip tools decode it differently)".to_string());
            continue;
        };
        if !name.is_ascii() && record.flags & FLAG_UTF8 == 0 {
            refuse(
                "a non-ASCII name without the UTF-8 flag (unzip tools decode it differently)"
                    .to_string(),
            );
            continue;
        }
        if name.chars().any(char::is_control) {
            refuse("a control character in the name".to_string());
            continue;
        }
        let is_dir_name = name.ends_with('/');
        let file_type = record.unix_mode() & S_IFMT;
        let type_problem = match file_type {
            0 => None,
            S_IFREG if !is_dir_name => None,
            S_IFDIR if is_dir_name => None,
            S_IFREG => Some("a regular file by its attributes but a folder by its name".into()),
            S_IFDIR => Some("a folder by its attributes but a file by its name".into()),
            S_IFLNK => Some(format!(
                "symbolic link (Unix file type {S_IFLNK:o} in its external attributes; the zip \
                 says host {}, and unzip tools honour it)",
                record.host
            )),
            other => Some(format!(
                "not a regular file or folder (a device, FIFO or socket: Unix file type {other:o} \
                 in its external attributes)"
            )),
        };
        if let Some(reason) = type_problem {
            refuse(reason);
            continue;
        }
        let trimmed = name.strip_suffix('/').unwrap_or(name);
        match folds.get(&folded(trimmed)) {
            Some(other) if other != trimmed => refuse(format!(
                "the same file as {other} on case-insensitive or Unicode-normalising file \
                 systems (equal after NFC and case folding)"
            )),
            Some(_) => {}
            None => {
                folds.insert(folded(trimmed), trimmed.to_string());
            }
        }
    }
    problems
}

/// A name as common file systems compare it: Unicode NFC (macOS stores NFD) and case-folded
/// (Windows and macOS ignore case by default).
pub fn folded(name: &str) -> String {
    name.nfc()
        .collect::<String>()
        .to_lowercase()
        .nfc()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_joins_case_and_normalisation_forms() {
        assert_eq!(folded("Caf\u{e9}.JSON"), folded("cafe\u{301}.json"));
        assert_ne!(folded("a.json"), folded("b.json"));
    }
}
