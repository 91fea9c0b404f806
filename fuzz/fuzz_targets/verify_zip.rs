//! Any bytes as a bundle zip: `verify` must answer (a report, never a panic, a hang or unbounded
//! memory) and must never call a bundle with a problem intact. When it does call a zip intact,
//! the zip's bytes are read again here, through the zip crate's view and the local headers, the
//! way a streaming unzip would: the entries must start at byte 0, follow one another without
//! overlapping, and each local header must repeat its central record's name, method, flags, CRC
//! and sizes. And whatever the verdict, no line of the report may carry a control character.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use soc2_evidence::bundle::verify::verify_zip_reader;

fuzz_target!(|data: &[u8]| {
    let report = verify_zip_reader(Cursor::new(data), Path::new("fuzz.zip"));
    assert_eq!(report.intact, report.problems.is_empty());
    assert_eq!(report.kind, "zip");
    for problem in &report.problems {
        let shown = problem.to_string();
        assert!(!shown.is_empty());
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
    }
    if report.intact {
        check_local_headers(data);
    }
});

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Asserts that every local header of an intact zip agrees with the zip crate's central view
/// and that the entries tile the file from byte 0 up to the central directory.
fn check_local_headers(data: &[u8]) {
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).expect("an intact zip opens");
    assert_eq!(archive.offset(), 0, "an intact zip has nothing before it");
    let directory = archive.central_directory_start();
    let mut spans = Vec::new();
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .expect("an intact zip's entries open");
        let at = entry.header_start() as usize;
        let header = data
            .get(at..at + 30)
            .expect("a local header inside the file");
        assert_eq!(
            le32(&header[0..4]),
            0x0403_4b50,
            "a local header where the record points"
        );
        let flags = le16(&header[6..8]);
        let (name_len, extra_len) = (
            le16(&header[26..28]) as usize,
            le16(&header[28..30]) as usize,
        );
        let name = &data[at + 30..at + 30 + name_len];
        assert_eq!(name, entry.name_raw(), "local and central names agree");
        let method: u16 = match entry.compression() {
            zip::CompressionMethod::Stored => 0,
            zip::CompressionMethod::Deflated => 8,
            _ => le16(&header[8..10]),
        };
        assert_eq!(
            le16(&header[8..10]),
            method,
            "local and central methods agree"
        );
        let end = (at + 30 + name_len + extra_len) as u64 + entry.compressed_size();
        if flags & (1 << 3) == 0 {
            assert_eq!(
                le32(&header[14..18]),
                entry.crc32(),
                "local and central CRCs agree"
            );
            for (field, size) in [(18, entry.compressed_size()), (22, entry.size())] {
                let local = le32(&header[field..field + 4]);
                if local != u32::MAX {
                    assert_eq!(u64::from(local), size, "local and central sizes agree");
                }
            }
            spans.push((at as u64, Some(end)));
        } else {
            // A data descriptor follows the data; its length (12 to 24 bytes) is verify's to check.
            spans.push((at as u64, None));
        }
    }
    spans.sort();
    // `next`: where the next entry may start; `exact`: whether it must start right there.
    let (mut next, mut exact) = (0u64, true);
    for (start, end) in spans {
        assert!(start >= next, "entries do not overlap");
        assert!(
            !exact || start == next,
            "nothing lies before or between entries"
        );
        (next, exact) = match end {
            Some(end) => (end, true),
            None => (start + 1, false),
        };
    }
    assert!(
        next <= directory,
        "the entries end before the central directory"
    );
}
