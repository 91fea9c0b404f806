//! How untrusted text (entry names, paths, manifest strings) is shown on a terminal and in
//! `--json`.

/// `text` as it may be shown on a terminal or in `--json`: control characters (newlines, ESC,
/// C1 controls such as CSI), bidirectional overrides and invisible separators become `\u{..}`
/// (`\n`, `\r`, `\t` for the common three), and a backslash is doubled, so an untrusted name
/// can neither start a line of its own (forging an "intact" line), move the cursor or recolour
/// the terminal (hiding a "NOT INTACT" one), nor pass for an escape. Every other character is
/// kept. The one function every untrusted string in a `verify` report goes through.
pub fn escape_untrusted(text: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_invisible_format(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Characters that reorder or hide the text around them on a terminal: bidirectional marks,
/// embeddings, overrides and isolates, zero-width characters and line/paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}
