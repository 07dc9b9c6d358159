//! `--ascii`: everything written becomes plain ASCII. The renderers use typographic punctuation (— × ·
//! … ≈ ≥ →) and machine names may carry any character; a terminal or log that cannot show UTF-8 gets
//! readable equivalents instead, from one place, whatever the command.

use std::io::{self, Write};

/// The ASCII spelling of a character that has one; anything else non-ASCII becomes `?`.
fn ascii_of(c: char) -> &'static str {
    match c {
        '—' | '–' | '−' | '‐' => "-",
        '×' => "x",
        '·' | '•' => "*",
        '…' => "...",
        '≈' | '∼' => "~",
        '≥' => ">=",
        '≤' => "<=",
        '→' => "->",
        '←' => "<-",
        '²' => "^2",
        '³' => "^3",
        'µ' | 'μ' => "u",
        '°' => " deg",
        '‘' | '’' | '′' => "'",
        '“' | '”' | '″' => "\"",
        '✅' => "OK",
        '⚠' => "WARN",
        '❌' => "FAIL",
        '\u{FE0F}' | '\u{200B}' | '\u{200D}' => "",
        '\u{A0}' | '\u{2009}' | '\u{202F}' => " ",
        _ => "?",
    }
}

/// Transliterates a string to ASCII.
pub fn to_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(ascii_of(c));
        }
    }
    out
}

/// A writer that passes only ASCII on; a UTF-8 character split across two writes is held until whole.
pub struct AsciiWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> AsciiWriter<W> {
    pub fn new(inner: W) -> Self {
        AsciiWriter {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for AsciiWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(s) => s.len(),
            // An incomplete sequence at the end waits for the next write; an invalid one is replaced.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let text = String::from_utf8_lossy(&self.pending[..valid]).into_owned();
        self.inner.write_all(to_ascii(&text).as_bytes())?;
        self.pending.drain(..valid);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let rest = String::from_utf8_lossy(&self.pending).into_owned();
            self.inner.write_all(to_ascii(&rest).as_bytes())?;
            self.pending.clear();
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typography_becomes_ascii() {
        assert_eq!(
            to_ascii("mlcompat doctor — 2× faster · 3.0 GB… ≈ 5 ≥ 4 → ok ✅ ⚠️"),
            "mlcompat doctor - 2x faster * 3.0 GB... ~ 5 >= 4 -> ok OK WARN"
        );
        assert_eq!(to_ascii("GB10 Grace™"), "GB10 Grace?");
    }

    #[test]
    fn split_characters_are_joined() {
        let mut w = AsciiWriter::new(Vec::new());
        let bytes = "a—b".as_bytes();
        w.write_all(&bytes[..2]).unwrap();
        w.write_all(&bytes[2..]).unwrap();
        w.flush().unwrap();
        assert_eq!(w.inner, b"a-b");
    }
}
