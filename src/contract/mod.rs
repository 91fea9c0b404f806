//! The evidence contract: every bundle file a collector writes and a rule (or `report`) reads,
//! declared once, with its typed rows.
//!
//! One module per collector, named after it, declares its tables (CSV) and the documents
//! (JSON) that the findings stage reads, as types that serialize (the collector writes through
//! [`crate::evidence::Evidence::table`]) and deserialize (the rules read through
//! `findings::Input::table`). A renamed or removed column is therefore a compile error in the
//! rules, and a column missing from an older bundle is a clear "column X missing in FILE", never
//! a silent pass.
//!
//! The cell encodings are defined once, in [`cell`]: booleans are `true`/`false`, an empty cell
//! is "unknown" (`Option`), lists are `;`-joined ([`cell::List`]).
//!
//! This module depends on the shared vocabulary only.

/// Declares a collector's part of the contract, in its module: the collector id (`ID`), the
/// [`Table`] and [`Document`] implementations of its files (named within its folder
/// `evidence/<id>/`; `as_received` tables are AWS's own files, kept byte for byte), and `FILES`,
/// the list [`files`] gathers.
macro_rules! contract {
    (
        id: $id:literal,
        tables: { $($table:ty => $table_file:literal),* $(,)? },
        $(as_received: { $($received:ty => $received_file:literal),* $(,)? },)?
        documents: { $($document:ty => $document_file:literal),* $(,)? } $(,)?
    ) => {
        /// The collector id: its evidence folder, its registry entry and what rules name.
        pub const ID: &str = $id;

        $(
            impl $crate::contract::Table for $table {
                const COLLECTOR: &'static str = ID;
                const PATH: &'static str = concat!("evidence/", $id, "/", $table_file);
            }
        )*

        $($(
            impl $crate::contract::Table for $received {
                const COLLECTOR: &'static str = ID;
                const PATH: &'static str = concat!("evidence/", $id, "/", $received_file);
                const AS_RECEIVED: bool = true;
            }
        )*)?

        $(
            impl $crate::contract::Document for $document {
                const COLLECTOR: &'static str = ID;
                const PATH: &'static str = concat!("evidence/", $id, "/", $document_file);
            }
        )*

        /// Every file of this collector that the contract declares.
        pub static FILES: &[$crate::contract::FileSpec] = &[
            $($crate::contract::table::<$table>(),)*
            $($($crate::contract::table::<$received>(),)*)?
            $($crate::contract::document::<$document>(),)*
        ];
    };
}
use contract;

pub mod cell;

pub mod access_analyzer;
pub mod aws_config;
pub mod cis_monitoring;
pub mod cloudtrail;
pub mod ec2_instances;
pub mod ec2_security_groups;
pub mod guardduty;
pub mod iam_account_summary;
pub mod iam_authorization_details;
pub mod iam_credential_report;
pub mod iam_password_policy;
pub mod identity_center;
pub mod kms_key_rotation;
pub mod organization;
pub mod resource_policy;
pub mod s3_public_access;
pub mod vpc_network;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A CSV table of the bundle: one typed row per line, a header of the field names.
pub trait Table: Serialize + DeserializeOwned + Default {
    /// The collector that writes it.
    const COLLECTOR: &'static str;
    /// Its bundle path, `evidence/<collector>/<file>.csv`.
    const PATH: &'static str;
    /// The file is kept exactly as AWS returned it (the credential report), so its cells are
    /// not spreadsheet-safe and are read as they are.
    const AS_RECEIVED: bool = false;
}

/// How the text cells of a bundle's tables were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cells {
    /// Spreadsheet-safe ([`cell::neutralise`]): every bundle since the tables became so, which
    /// its manifest's `table_cells` says.
    #[default]
    SpreadsheetSafe,
    /// As the values are: a bundle written before, read as it was written.
    Plain,
}

/// A JSON document of the bundle that the findings stage reads.
pub trait Document: Serialize + DeserializeOwned {
    const COLLECTOR: &'static str;
    /// Its bundle path, `evidence/<collector>/<file>.json`.
    const PATH: &'static str;
}

/// One file of the contract, for what must hold of every file: its path, its collector, and a
/// reader of its bytes as its type (rows read, or 1 for a document).
pub struct FileSpec {
    pub path: &'static str,
    pub collector: &'static str,
    /// AWS's own file, kept byte for byte ([`Table::AS_RECEIVED`]).
    pub as_received: bool,
    pub read: fn(&[u8]) -> Result<usize, String>,
}

impl std::fmt::Debug for FileSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.path)
    }
}

fn read_table<T: Table>(bytes: &[u8]) -> Result<usize, String> {
    parse::<T>(bytes).map(|rows| rows.len())
}

fn read_document<T: Document>(bytes: &[u8]) -> Result<usize, String> {
    parse_document::<T>(bytes).map(|_| 1)
}

/// The [`FileSpec`] of a table.
pub const fn table<T: Table>() -> FileSpec {
    FileSpec {
        path: T::PATH,
        collector: T::COLLECTOR,
        as_received: T::AS_RECEIVED,
        read: read_table::<T>,
    }
}

/// The [`FileSpec`] of a document.
pub const fn document<T: Document>() -> FileSpec {
    FileSpec {
        path: T::PATH,
        collector: T::COLLECTOR,
        as_received: false,
        read: read_document::<T>,
    }
}

/// Every file of the contract, collector by collector.
pub fn files() -> Vec<&'static FileSpec> {
    [
        access_analyzer::FILES,
        aws_config::FILES,
        cis_monitoring::FILES,
        cloudtrail::FILES,
        ec2_security_groups::FILES,
        ec2_instances::FILES,
        guardduty::FILES,
        iam_account_summary::FILES,
        iam_authorization_details::FILES,
        iam_credential_report::FILES,
        iam_password_policy::FILES,
        identity_center::FILES,
        kms_key_rotation::FILES,
        vpc_network::FILES,
        s3_public_access::FILES,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The file name of a bundle path within its collector's folder.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Serializes typed rows as CSV with a header row, also when there are no rows. Every text cell
/// is spreadsheet-safe ([`cell::neutralise`]): this is the one writer of the tables people open.
pub fn csv_bytes<T: Serialize + Default>(rows: &[T]) -> Vec<u8> {
    let plain = plain_csv_bytes(rows);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(plain.as_slice());
    let mut writer = csv::Writer::from_writer(Vec::new());
    for (i, record) in reader.records().enumerate() {
        let record = record.expect("the CSV just written reads back");
        if i == 0 {
            writer.write_record(&record)
        } else {
            writer.write_record(record.iter().map(|c| cell::neutralise(c).into_owned()))
        }
        .expect("in-memory writer");
    }
    writer.into_inner().expect("in-memory writer")
}

/// The rows as serde and the csv crate write them, before the cells are made safe.
fn plain_csv_bytes<T: Serialize + Default>(rows: &[T]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if rows.is_empty() {
        // The csv crate writes headers with the first record; take them from a default row.
        let mut probe = csv::Writer::from_writer(Vec::new());
        probe
            .serialize(T::default())
            .expect("row types serialize to CSV");
        let probe = probe.into_inner().expect("in-memory writer");
        let header_end = probe
            .iter()
            .position(|&b| b == b'\n')
            .map_or(probe.len(), |i| i + 1);
        return probe[..header_end].to_vec();
    }
    for row in rows {
        writer.serialize(row).expect("row types serialize to CSV");
    }
    writer.into_inner().expect("in-memory writer")
}

/// The header of a table: its columns in order.
pub fn columns<T: Table>() -> Vec<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .serialize(T::default())
        .expect("row types serialize to CSV");
    let bytes = writer.into_inner().expect("in-memory writer");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    reader
        .headers()
        .expect("the header just written")
        .iter()
        .map(str::to_string)
        .collect()
}

/// Reads a table's bytes. Every column of `T` must be in the header (extra columns are
/// ignored); a missing column or a cell that does not decode is an error naming the file, the
/// column and the line.
pub fn parse<T: Table>(bytes: &[u8]) -> Result<Vec<T>, String> {
    parse_cells(bytes, Cells::SpreadsheetSafe)
}

/// [`parse`] for a bundle whose cells were written as `cells` says.
pub fn parse_cells<T: Table>(bytes: &[u8], cells: Cells) -> Result<Vec<T>, String> {
    let restore = cells == Cells::SpreadsheetSafe && !T::AS_RECEIVED;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{}: unreadable header: {e}", T::PATH))?
        .iter()
        .map(str::to_string)
        .collect();
    let missing: Vec<String> = columns::<T>()
        .into_iter()
        .filter(|c| !header.contains(c))
        .collect();
    if !missing.is_empty() {
        let plural = if missing.len() == 1 { "" } else { "s" };
        return Err(format!(
            "column{plural} {} missing in {}",
            missing.join(", "),
            T::PATH
        ));
    }
    let header_record = csv::StringRecord::from(header.clone());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line_of = |e: &csv::Error| e.position().map_or(i as u64 + 2, |p| p.line());
        let record = record.map_err(|e| format!("{} line {}: {e}", T::PATH, line_of(&e)))?;
        let line = record.position().map_or(i as u64 + 2, |p| p.line());
        let record = if restore {
            record.iter().map(cell::restore).collect()
        } else {
            record
        };
        let row = record.deserialize::<T>(Some(&header_record)).map_err(|e| {
            let why = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                    Some(field) => format!(
                        "column {}: {}",
                        header.get(field as usize).map_or("?", String::as_str),
                        err.kind()
                    ),
                    None => err.kind().to_string(),
                },
                _ => e.to_string(),
            };
            format!("{} line {line}: {why}", T::PATH)
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// Reads a document's bytes.
pub fn parse_document<T: Document>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes)
        .map_err(|e| format!("{} does not hold the expected document: {e}", T::PATH))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Demo {
        name: String,
        on: Option<bool>,
        tags: cell::List,
        count: Option<u64>,
    }

    impl Table for Demo {
        const COLLECTOR: &'static str = "demo";
        const PATH: &'static str = "evidence/demo/demo.csv";
    }

    #[derive(Serialize, Default)]
    struct Row {
        name: String,
        count: u32,
    }

    #[test]
    fn empty_tables_keep_their_header() {
        assert_eq!(csv_bytes::<Row>(&[]), b"name,count\n");
    }

    #[test]
    fn rows_are_quoted_per_rfc_4180() {
        let rows = [Row {
            name: "a,\"b\"".into(),
            count: 2,
        }];
        assert_eq!(csv_bytes(&rows), b"name,count\n\"a,\"\"b\"\"\",2\n");
    }

    #[test]
    fn every_file_lies_in_its_collectors_folder_once() {
        let mut paths = std::collections::BTreeSet::new();
        for file in files() {
            assert!(paths.insert(file.path), "{} declared twice", file.path);
            let folder = format!("evidence/{}/", file.collector);
            let name = file.path.strip_prefix(&folder).unwrap_or_else(|| {
                panic!("{} is not in {folder}", file.path);
            });
            assert!(
                !name.contains('/') && (name.ends_with(".csv") || name.ends_with(".json")),
                "{}",
                file.path
            );
        }
    }

    #[test]
    fn the_writer_makes_every_text_cell_spreadsheet_safe_and_the_reader_restores_it() {
        let names = [
            "=1+1",
            "+cmd",
            "-2+3",
            "@SUM(A1)",
            "\ttab",
            "\rreturn",
            "'quoted",
            "say \"hi\", then =go",
            "two\nlines",
            "=two\nlines",
            "plain",
            "-1",
        ];
        let rows: Vec<Demo> = names
            .iter()
            .map(|name| Demo {
                name: name.to_string(),
                on: None,
                tags: cell::List::from(vec!["=x".to_string(), "y".to_string()]),
                count: Some(1),
            })
            .collect();
        let bytes = csv_bytes(&rows);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes.as_slice());
        let written: Vec<String> = reader
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
        assert_eq!(
            written,
            [
                "'=1+1",
                "'+cmd",
                "'-2+3",
                "'@SUM(A1)",
                "'\ttab",
                "'\rreturn",
                "''quoted",
                "say \"hi\", then =go",
                "two\nlines",
                "'=two\nlines",
                "plain",
                "-1",
            ]
        );
        // A list cell is one text cell: neutralised as a whole.
        assert!(String::from_utf8_lossy(&bytes).contains(",'=x;y,"));
        // Read back as the values, and as written when the bundle predates safe cells.
        assert_eq!(parse::<Demo>(&bytes).unwrap(), rows);
        let plain = parse_cells::<Demo>(&bytes, Cells::Plain).unwrap();
        assert_eq!(plain[0].name, "'=1+1");
    }

    #[test]
    fn tables_read_back_what_they_wrote() {
        let rows = vec![
            Demo {
                name: "a".into(),
                on: Some(true),
                tags: cell::List::from(vec!["x".to_string(), "y".to_string()]),
                count: Some(3),
            },
            Demo::default(),
        ];
        let bytes = csv_bytes(&rows);
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "name,on,tags,count\na,true,x;y,3\n,,,\n"
        );
        assert_eq!(parse::<Demo>(&bytes).unwrap(), rows);
        assert_eq!(columns::<Demo>(), ["name", "on", "tags", "count"]);
    }

    #[test]
    fn a_missing_column_or_a_bad_cell_is_named() {
        assert_eq!(
            parse::<Demo>(b"name,on,count\na,true,1\n").unwrap_err(),
            "column tags missing in evidence/demo/demo.csv"
        );
        let err = parse::<Demo>(b"name,on,tags,count\na,maybe,,1\n").unwrap_err();
        assert!(
            err.starts_with("evidence/demo/demo.csv line 2: column on:"),
            "{err}"
        );
    }
}
