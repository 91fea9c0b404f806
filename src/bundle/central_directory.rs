//! The zip's structure as written, byte by byte: its central-directory records, its local
//! headers and its end records.
//!
//! The zip crate keeps one entry per name (a later record of the same name silently replaces an
//! earlier one), reads a Unix mode only from zips made on DOS or Unix, and trusts the central
//! directory where other tools read the local headers (a streaming unzip) or tolerate data
//! around the archive (a prepended stub, an appended zip). So `verify` walks the records itself
//! to see every name and every attribute, and [`check_layout`] refuses any zip whose bytes two
//! conforming tools could read as two different trees: every local header must repeat its
//! central record, and the entries, the central directory and its end records must tile the file
//! from its first byte to its last, with nothing before, between, over or after them.

use std::io::{self, Read, Seek, SeekFrom};

const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const DESCRIPTOR_SIGNATURE: u32 = 0x0807_4b50;
const END_SIGNATURE: u32 = 0x0605_4b50;
const END64_SIGNATURE: u32 = 0x0606_4b50;
const LOCATOR64_SIGNATURE: u32 = 0x0706_4b50;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;
const END_LEN: usize = 22;
const LOCATOR64_LEN: u64 = 20;
/// General-purpose flag bit 3: CRC and sizes follow the data in a data descriptor.
const FLAG_DESCRIPTOR: u16 = 1 << 3;
/// Extra field holding the 64-bit sizes and offset.
const ZIP64_EXTRA: u16 = 0x0001;

/// One central-directory record, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub name: Vec<u8>,
    /// The high byte of "version made by": the host whose attributes these are.
    pub host: u8,
    pub flags: u16,
    pub method: u16,
    pub crc32: u32,
    pub compressed: u64,
    pub uncompressed: u64,
    pub local_offset: u64,
    pub external: u32,
}

impl Record {
    /// The name for messages (not escaped: the caller's report escapes it when shown).
    pub fn shown_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// The Unix mode in the high 16 bits of the external attributes, whatever the host.
    pub fn unix_mode(&self) -> u32 {
        self.external >> 16
    }
}

/// The central directory records starting at `start`, in order, up to `limit` records, and the
/// position right after the last one. The walk stops at the first bytes that are not a record.
pub(crate) fn records<R: Read + Seek>(
    reader: &mut R,
    start: u64,
    limit: usize,
) -> io::Result<(Vec<Record>, u64)> {
    reader.seek(SeekFrom::Start(start))?;
    let mut records = Vec::new();
    let mut position = start;
    let mut fixed = [0u8; CENTRAL_LEN];
    while records.len() < limit {
        if read_full(reader, &mut fixed)? < CENTRAL_LEN || le32(&fixed[0..4]) != CENTRAL_SIGNATURE {
            break;
        }
        let name_len = usize::from(le16(&fixed[28..30]));
        let extra_len = usize::from(le16(&fixed[30..32]));
        let comment_len = le16(&fixed[32..34]);
        let mut name = vec![0u8; name_len];
        reader.read_exact(&mut name)?;
        let mut extra = vec![0u8; extra_len];
        reader.read_exact(&mut extra)?;
        reader.seek(SeekFrom::Current(i64::from(comment_len)))?;
        position += (CENTRAL_LEN + name_len + extra_len) as u64 + u64::from(comment_len);

        let mut record = Record {
            name,
            host: fixed[5],
            flags: le16(&fixed[8..10]),
            method: le16(&fixed[10..12]),
            crc32: le32(&fixed[16..20]),
            compressed: u64::from(le32(&fixed[20..24])),
            uncompressed: u64::from(le32(&fixed[24..28])),
            local_offset: u64::from(le32(&fixed[42..46])),
            external: le32(&fixed[38..42]),
        };
        // The zip64 extra field holds, in this order, each of these that is 0xFFFFFFFF here.
        if let Some(mut field) = extra_field(&extra, ZIP64_EXTRA) {
            for value in [
                &mut record.uncompressed,
                &mut record.compressed,
                &mut record.local_offset,
            ] {
                if *value == u64::from(u32::MAX) && field.len() >= 8 {
                    *value = le64(&field[..8]);
                    field = &field[8..];
                }
            }
        }
        records.push(record);
    }
    Ok((records, position))
}

/// One way the zip's bytes disagree with its central directory: the entry it concerns (or the
/// zip itself, `None`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flaw {
    pub entry: Option<String>,
    pub reason: String,
}

fn flaw(entry: Option<&Record>, reason: String) -> Flaw {
    Flaw {
        entry: entry.map(Record::shown_name),
        reason,
    }
}

/// Checks that `records` (walked from `start` to `end`) describe the whole file of `file_len`
/// bytes and nothing else: the end records follow the directory and end the file, every local
/// header repeats its central record (name, flags, method, CRC and sizes, the latter two from
/// the data descriptor when flag bit 3 says so), and the entries follow one another from byte 0
/// up to the directory without a gap or an overlap.
pub(crate) fn check_layout<R: Read + Seek>(
    reader: &mut R,
    records: &[Record],
    start: u64,
    end: u64,
    file_len: u64,
) -> Vec<Flaw> {
    let mut flaws = Vec::new();
    if let Err(reason) = check_end_records(reader, records.len() as u64, start, end, file_len) {
        // Every offset is then in doubt: the entries' own flaws would only repeat this one.
        return vec![flaw(None, reason)];
    }
    let mut spans = Vec::new();
    for record in records {
        match local_span(reader, record, start) {
            Ok(span) => spans.push((span, record)),
            Err(reason) => flaws.push(flaw(Some(record), reason)),
        }
    }
    if !flaws.is_empty() {
        return flaws;
    }
    spans.sort_by_key(|((from, to), _)| (*from, *to));
    let mut covered = 0u64;
    let mut previous: Option<&Record> = None;
    for ((from, to), record) in spans {
        if from > covered {
            let reason = match previous {
                None => format!(
                    "{from} bytes before the first entry that no central-directory record \
                     points to (a prepended stub or a hidden entry)"
                ),
                Some(p) => format!(
                    "{} bytes between it and the entry before, {}, that no central-directory \
                     record points to (a hidden local entry)",
                    from - covered,
                    p.shown_name()
                ),
            };
            flaws.push(flaw(Some(record), reason));
        } else if from < covered {
            let other = previous.map(Record::shown_name).unwrap_or_default();
            flaws.push(flaw(
                Some(record),
                format!("overlaps the entry {other} (two names for the same bytes)"),
            ));
        }
        covered = covered.max(to);
        previous = Some(record);
    }
    if covered < start {
        flaws.push(flaw(
            previous,
            format!(
                "{} bytes between the last entry and the central directory that no record \
                 points to (a hidden local entry)",
                start - covered
            ),
        ));
    }
    flaws
}

/// Reads the end-of-central-directory record (and its zip64 companions) that must follow the
/// records directly, agree with them and end the file.
fn check_end_records<R: Read + Seek>(
    reader: &mut R,
    count: u64,
    start: u64,
    end: u64,
    file_len: u64,
) -> Result<(), String> {
    let io = |e: io::Error| format!("cannot read the end of the central directory: {e}");
    let mut position = end;
    let mut sig = [0u8; 4];
    reader.seek(SeekFrom::Start(position)).map_err(io)?;
    reader.read_exact(&mut sig).map_err(io)?;
    let mut zip64: Option<(u64, u64, u64)> = None;
    if le32(&sig) == END64_SIGNATURE {
        let mut fixed = [0u8; 52];
        reader.read_exact(&mut fixed).map_err(io)?;
        let record_len = le64(&fixed[0..8]).saturating_add(12);
        // (count on this disk, total count, directory size, directory offset)
        let total = le64(&fixed[28..36]);
        let size = le64(&fixed[36..44]);
        let offset = le64(&fixed[44..52]);
        zip64 = Some((total, size, offset));
        let locator = position.saturating_add(record_len);
        reader.seek(SeekFrom::Start(locator)).map_err(io)?;
        let mut loc = [0u8; LOCATOR64_LEN as usize];
        reader.read_exact(&mut loc).map_err(io)?;
        if le32(&loc[0..4]) != LOCATOR64_SIGNATURE || le64(&loc[8..16]) != position {
            return Err(
                "the zip64 end record is not followed by a locator pointing back at it".into(),
            );
        }
        position = locator + LOCATOR64_LEN;
        reader.seek(SeekFrom::Start(position)).map_err(io)?;
        reader.read_exact(&mut sig).map_err(io)?;
    }
    if le32(&sig) != END_SIGNATURE {
        return Err(format!(
            "unexpected bytes at {position}, after the central directory's {count} records, \
             where the end-of-central-directory record belongs"
        ));
    }
    let mut fixed = [0u8; END_LEN - 4];
    reader.read_exact(&mut fixed).map_err(io)?;
    let total = u64::from(le16(&fixed[6..8]));
    let size = u64::from(le32(&fixed[8..12]));
    let offset = u64::from(le32(&fixed[12..16]));
    let comment_end = position + END_LEN as u64 + u64::from(le16(&fixed[16..18]));
    let (total, size, offset) = match zip64 {
        Some((t64, s64, o64)) => (
            if total == 0xffff { t64 } else { total },
            if size == u64::from(u32::MAX) {
                s64
            } else {
                size
            },
            if offset == u64::from(u32::MAX) {
                o64
            } else {
                offset
            },
        ),
        None => (total, size, offset),
    };
    if comment_end < file_len {
        return Err(format!(
            "{} bytes after the end-of-central-directory record (an appended zip or other data)",
            file_len - comment_end
        ));
    }
    if comment_end > file_len {
        return Err("the end-of-central-directory comment runs past the end of the file".into());
    }
    if offset < start && size == end - start && total == count {
        return Err(format!(
            "{} bytes of data before the zip's first entry (a prepended stub or another zip) \
             that the zip's offsets do not count",
            start - offset
        ));
    }
    if offset != start || size != end - start || total != count {
        return Err(format!(
            "the end-of-central-directory record places {total} records ({size} bytes) at \
             offset {offset}, but {count} records ({} bytes) are at offset {start} (data was \
             added before or inside the zip)",
            end - start
        ));
    }
    Ok(())
}

/// Reads the local header (and data descriptor) of `record`, compares them with the record and
/// returns the bytes the entry spans: header, data and descriptor.
fn local_span<R: Read + Seek>(
    reader: &mut R,
    record: &Record,
    directory_start: u64,
) -> Result<(u64, u64), String> {
    let io = |e: io::Error| format!("cannot read its local header: {e}");
    if record.local_offset >= directory_start {
        return Err(format!(
            "its local header offset {} is not before the central directory",
            record.local_offset
        ));
    }
    reader
        .seek(SeekFrom::Start(record.local_offset))
        .map_err(io)?;
    let mut fixed = [0u8; LOCAL_LEN];
    reader.read_exact(&mut fixed).map_err(io)?;
    if le32(&fixed[0..4]) != LOCAL_SIGNATURE {
        return Err(format!(
            "no local header at offset {} where its central record points",
            record.local_offset
        ));
    }
    let flags = le16(&fixed[6..8]);
    let method = le16(&fixed[8..10]);
    let crc32 = le32(&fixed[14..18]);
    let mut compressed = u64::from(le32(&fixed[18..22]));
    let mut uncompressed = u64::from(le32(&fixed[22..26]));
    let name_len = usize::from(le16(&fixed[26..28]));
    let extra_len = usize::from(le16(&fixed[28..30]));
    let mut name = vec![0u8; name_len];
    reader.read_exact(&mut name).map_err(io)?;
    let mut extra = vec![0u8; extra_len];
    reader.read_exact(&mut extra).map_err(io)?;
    let differs = |what: &str, local: String, central: String| {
        Err(format!(
            "its local header's {what} ({local}) differs from its central-directory record's \
             ({central}); unzip tools would disagree on it"
        ))
    };
    if name != record.name {
        return differs(
            "name",
            String::from_utf8_lossy(&name).into_owned(),
            record.shown_name(),
        );
    }
    if flags != record.flags {
        return differs(
            "flags",
            format!("{flags:#06x}"),
            format!("{:#06x}", record.flags),
        );
    }
    if method != record.method {
        return differs("method", method.to_string(), record.method.to_string());
    }
    // The local zip64 extra field holds both sizes, uncompressed first, when either is marked.
    let zip64 = extra_field(&extra, ZIP64_EXTRA);
    if let Some(field) = zip64 {
        if uncompressed == u64::from(u32::MAX) && field.len() >= 8 {
            uncompressed = le64(&field[0..8]);
        }
        if compressed == u64::from(u32::MAX) && field.len() >= 16 {
            compressed = le64(&field[8..16]);
        }
    }
    let data_start = record.local_offset + (LOCAL_LEN + name_len + extra_len) as u64;
    let data_end = data_start.saturating_add(record.compressed);
    let descriptor = flags & FLAG_DESCRIPTOR != 0;
    // With a data descriptor the local values may be 0 (or must agree when they are not).
    let same = |local: u64, central: u64| local == central || (descriptor && local == 0);
    if !same(u64::from(crc32), u64::from(record.crc32)) {
        return differs(
            "CRC-32",
            format!("{crc32:08x}"),
            format!("{:08x}", record.crc32),
        );
    }
    if !same(compressed, record.compressed) {
        return differs(
            "compressed size",
            compressed.to_string(),
            record.compressed.to_string(),
        );
    }
    if !same(uncompressed, record.uncompressed) {
        return differs(
            "size",
            uncompressed.to_string(),
            record.uncompressed.to_string(),
        );
    }
    let mut span_end = data_end;
    if descriptor {
        let wide = zip64.is_some()
            || record.compressed > u64::from(u32::MAX)
            || record.uncompressed > u64::from(u32::MAX);
        span_end = check_descriptor(reader, record, data_end, wide)?;
    }
    if span_end > directory_start {
        return Err(format!(
            "its data runs past the start of the central directory (offset {directory_start})"
        ));
    }
    Ok((record.local_offset, span_end))
}

/// Compares the data descriptor at `at` with `record`; returns where it ends.
fn check_descriptor<R: Read + Seek>(
    reader: &mut R,
    record: &Record,
    at: u64,
    wide: bool,
) -> Result<u64, String> {
    let io = |e: io::Error| format!("cannot read its data descriptor: {e}");
    let sizes_len = if wide { 16 } else { 8 };
    let mut buf = [0u8; 24];
    reader.seek(SeekFrom::Start(at)).map_err(io)?;
    let got = read_full(reader, &mut buf[..8 + sizes_len]).map_err(io)?;
    let parse = |b: &[u8]| -> (u32, u64, u64) {
        let crc = le32(&b[0..4]);
        if wide {
            (crc, le64(&b[4..12]), le64(&b[12..20]))
        } else {
            (crc, u64::from(le32(&b[4..8])), u64::from(le32(&b[8..12])))
        }
    };
    let expected = (record.crc32, record.compressed, record.uncompressed);
    // The descriptor's signature is optional: with it first, then without.
    if got >= 8 + sizes_len
        && le32(&buf[0..4]) == DESCRIPTOR_SIGNATURE
        && parse(&buf[4..]) == expected
    {
        return Ok(at + 8 + sizes_len as u64);
    }
    if got >= 4 + sizes_len && parse(&buf) == expected {
        return Ok(at + 4 + sizes_len as u64);
    }
    Err(
        "its data descriptor (flag bit 3) is missing or differs from its central-directory \
         record's CRC-32 and sizes; unzip tools would disagree on it"
            .to_string(),
    )
}

/// The data of the first extra field with `id` in a zip extra-field block.
fn extra_field(mut extra: &[u8], id: u16) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let field_id = le16(&extra[0..2]);
        let len = usize::from(le16(&extra[2..4]));
        let data = extra.get(4..4 + len)?;
        if field_id == id {
            return Some(data);
        }
        extra = &extra[4 + len..];
    }
    None
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

fn le64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn written(large_file: bool) -> (Cursor<Vec<u8>>, u64) {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().large_file(large_file);
        writer.add_directory("top/", options).unwrap();
        for name in ["top/a", "top/b/c.json"] {
            writer.start_file(name, options).unwrap();
            writer.write_all(b"x").unwrap();
        }
        let mut cursor = writer.finish().unwrap();
        let start = zip::ZipArchive::new(&mut cursor)
            .unwrap()
            .central_directory_start();
        (cursor, start)
    }

    #[test]
    fn every_record_is_seen_in_order() {
        let (mut cursor, start) = written(false);
        let (walked, _) = records(&mut cursor, start, 10).unwrap();
        let names: Vec<_> = walked.iter().map(|r| r.name.clone()).collect();
        assert_eq!(
            names,
            vec![
                b"top/".to_vec(),
                b"top/a".to_vec(),
                b"top/b/c.json".to_vec()
            ]
        );
        assert_eq!(walked[1].uncompressed, 1);
        assert_eq!(records(&mut cursor, start, 1).unwrap().0.len(), 1);
    }

    #[test]
    fn the_zip_crate_s_own_zips_have_a_clean_layout_with_and_without_zip64() {
        for large_file in [false, true] {
            let (mut cursor, start) = written(large_file);
            let len = cursor.get_ref().len() as u64;
            let (records, end) = records(&mut cursor, start, 10).unwrap();
            assert_eq!(
                check_layout(&mut cursor, &records, start, end, len),
                vec![],
                "large_file {large_file}"
            );
        }
    }

    /// A one-entry zip of "hello", stored, with CRC and sizes in a data descriptor (as a
    /// streaming writer makes it); `signature` says whether the descriptor has its signature.
    fn streamed(signature: bool, descriptor_size: u32) -> Vec<u8> {
        let (crc, name, data) = (0x3610_a686u32, b"top/a", b"hello");
        let mut out = Vec::new();
        put(&mut out, &LOCAL_SIGNATURE.to_le_bytes());
        put(&mut out, &[20, 0, 8, 0, 0, 0, 0, 0, 0x21, 0]); // version, flags (bit 3), stored, time, date
        put(&mut out, &[0; 12]); // CRC and sizes: in the descriptor
        put(&mut out, &(name.len() as u16).to_le_bytes());
        put(&mut out, &[0, 0]);
        put(&mut out, name);
        put(&mut out, data);
        if signature {
            put(&mut out, &DESCRIPTOR_SIGNATURE.to_le_bytes());
        }
        put(&mut out, &crc.to_le_bytes());
        put(&mut out, &descriptor_size.to_le_bytes());
        put(&mut out, &descriptor_size.to_le_bytes());
        let start = out.len() as u32;
        put(&mut out, &CENTRAL_SIGNATURE.to_le_bytes());
        put(&mut out, &[20, 3, 20, 0, 8, 0, 0, 0, 0, 0, 0x21, 0]);
        put(&mut out, &crc.to_le_bytes());
        put(&mut out, &5u32.to_le_bytes());
        put(&mut out, &5u32.to_le_bytes());
        put(&mut out, &(name.len() as u16).to_le_bytes());
        put(&mut out, &[0; 8]); // extra, comment, disk, internal attributes
        put(&mut out, &(0o100_600u32 << 16).to_le_bytes());
        put(&mut out, &0u32.to_le_bytes());
        put(&mut out, name);
        let size = out.len() as u32 - start;
        put(&mut out, &END_SIGNATURE.to_le_bytes());
        put(&mut out, &[0, 0, 0, 0, 1, 0, 1, 0]);
        put(&mut out, &size.to_le_bytes());
        put(&mut out, &start.to_le_bytes());
        put(&mut out, &[0, 0]);
        out
    }

    fn put(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(bytes);
    }

    fn layout_of(bytes: Vec<u8>) -> Vec<Flaw> {
        let len = bytes.len() as u64;
        let mut cursor = Cursor::new(bytes);
        let start = zip::ZipArchive::new(&mut cursor)
            .unwrap()
            .central_directory_start();
        let (records, end) = records(&mut cursor, start, 10).unwrap();
        check_layout(&mut cursor, &records, start, end, len)
    }

    #[test]
    fn a_data_descriptor_is_compared_instead_of_zero_local_values() {
        assert_eq!(layout_of(streamed(true, 5)), vec![]);
        assert_eq!(layout_of(streamed(false, 5)), vec![]);
        let flaws = layout_of(streamed(true, 4));
        assert_eq!(flaws.len(), 1, "{flaws:?}");
        assert!(flaws[0].reason.contains("data descriptor"), "{flaws:?}");
    }
}
