//! The zip's central directory as written, record by record.
//!
//! The zip crate keeps one entry per name (a later record of the same name silently replaces an
//! earlier one), so a zip that lists a name twice would look clean through it while an unzip tool
//! may extract either copy. `verify` walks the records itself to see every name.

use std::io::{self, Read, Seek, SeekFrom};

const SIGNATURE: u32 = 0x0201_4b50;
const FIXED_LEN: usize = 46;

/// The names of the central directory records starting at `start`, in order, up to `limit`
/// records. The walk stops at the first bytes that are not a record header.
pub(crate) fn record_names<R: Read + Seek>(
    reader: &mut R,
    start: u64,
    limit: usize,
) -> io::Result<Vec<Vec<u8>>> {
    reader.seek(SeekFrom::Start(start))?;
    let mut names = Vec::new();
    let mut fixed = [0u8; FIXED_LEN];
    while names.len() < limit {
        if read_full(reader, &mut fixed)? < FIXED_LEN || le32(&fixed[0..4]) != SIGNATURE {
            break;
        }
        let name_len = le16(&fixed[28..30]);
        let skip = i64::from(le16(&fixed[30..32])) + i64::from(le16(&fixed[32..34]));
        let mut name = vec![0u8; usize::from(name_len)];
        reader.read_exact(&mut name)?;
        reader.seek(SeekFrom::Current(skip))?;
        names.push(name);
    }
    Ok(names)
}

/// Reads until `buf` is full or the reader ends; returns how much was read.
fn read_full<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn le16(bytes: &[u8]) -> u16 {
    u16::from_le_bytes([bytes[0], bytes[1]])
}

fn le32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    #[test]
    fn every_record_is_seen_in_order() {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for name in ["top/a", "top/b/c.json"] {
            writer.start_file(name, options).unwrap();
            writer.write_all(b"x").unwrap();
        }
        let mut cursor = writer.finish().unwrap();
        let start = zip::ZipArchive::new(&mut cursor)
            .unwrap()
            .central_directory_start();
        let names = record_names(&mut cursor, start, 10).unwrap();
        assert_eq!(names, vec![b"top/a".to_vec(), b"top/b/c.json".to_vec()]);
        assert_eq!(record_names(&mut cursor, start, 1).unwrap().len(), 1);
    }
}
