//! Untrusted text never reaches the terminal raw. Facts files, matrix and profile names, a failing
//! program's stderr, `--deep` import errors and echoed arguments can carry escape sequences that clear the
//! screen, set the window title or plant OSC 8 links. Everything mlcompat prints goes through one choke
//! point, [`SafeWriter`] (stdout) or [`escape`] (stderr lines), which writes every C0/C1 control character,
//! DEL and every bidirectional override as a visible `\uXXXX` escape — the only exceptions are newline,
//! tab, and, when color is on, the exact SGR color sequences `render::Style` emits.
//!
//! `\uXXXX` is also JSON's escape, so a JSON document stays valid and means the same after passing through
//! (serde_json already escapes C0; a C1 or bidi character can only stand inside a string there).

use std::io::{self, Write};

use crate::matrix::Status;
use crate::render::Style;

pub use crate::untrusted::{escape, is_unsafe};

/// One line on standard error, escaped, and never a panic: with stderr closed (`2>&1 | head -c1`) there
/// is nowhere to say anything, so nothing is said (`eprintln!` would panic there).
pub fn to_stderr(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{}", escape(line));
}

/// The SGR sequences `style` emits (none without color): the only escape sequences let through.
pub fn style_sequences(style: Style) -> Vec<Vec<u8>> {
    if !style.color {
        return Vec::new();
    }
    const MARK: &str = "\u{0}";
    let painted = [
        style.paint(Status::Ok, MARK),
        style.paint(Status::Warn, MARK),
        style.paint(Status::Fail, MARK),
        style.bold(MARK),
        style.dim(MARK),
    ];
    let mut out: Vec<Vec<u8>> = Vec::new();
    for text in painted {
        for part in text.split(MARK) {
            if part.starts_with('\u{1b}') && !out.iter().any(|s| s == part.as_bytes()) {
                out.push(part.as_bytes().to_vec());
            }
        }
    }
    out
}

/// A writer that escapes unsafe characters on their way to `inner`, letting through only the exact
/// sequences in `allowed`. Writes may split a character or a sequence anywhere: the undecided tail is held
/// back until the next write or `flush`.
pub struct SafeWriter<W: Write> {
    inner: W,
    allowed: Vec<Vec<u8>>,
    pending: Vec<u8>,
}

impl<W: Write> SafeWriter<W> {
    pub fn new(inner: W, allowed: Vec<Vec<u8>>) -> Self {
        SafeWriter {
            inner,
            allowed,
            pending: Vec::new(),
        }
    }

    /// The writer underneath (what has been written so far).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Writes out `pending` as far as it can be decided; with `end`, all of it.
    fn drain(&mut self, end: bool) -> io::Result<()> {
        let bytes = std::mem::take(&mut self.pending);
        let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == 0x1b {
                let rest = &bytes[i..];
                if let Some(seq) = self.allowed.iter().find(|s| rest.starts_with(s)) {
                    out.extend_from_slice(seq);
                    i += seq.len();
                    continue;
                }
                if !end && self.allowed.iter().any(|s| s.starts_with(rest)) {
                    break;
                }
            }
            if b < 0x80 {
                if is_unsafe(char::from(b)) {
                    out.extend_from_slice(format!("\\u{:04x}", b).as_bytes());
                } else {
                    out.push(b);
                }
                i += 1;
                continue;
            }
            let len = match b {
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf4 => 4,
                _ => 0,
            };
            if len > 0 && i + len > bytes.len() && !end {
                break;
            }
            match bytes
                .get(i..i + len)
                .and_then(|s| std::str::from_utf8(s).ok())
            {
                Some(s) if len > 0 => {
                    let c = s.chars().next().unwrap_or('\u{fffd}');
                    if is_unsafe(c) {
                        out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes());
                    } else {
                        out.extend_from_slice(s.as_bytes());
                    }
                    i += len;
                }
                // Not UTF-8: shown as the byte, never passed on.
                _ => {
                    out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
                    i += 1;
                }
            }
        }
        self.pending = bytes[i..].to_vec();
        self.inner.write_all(&out)
    }
}

impl<W: Write> Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.drain(false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain(true)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for SafeWriter<W> {
    fn drop(&mut self) {
        // What an unflushed writer still holds (an unfinished sequence) is written escaped.
        let _ = self.drain(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn through(chunks: &[&[u8]], allowed: Vec<Vec<u8>>) -> String {
        let mut w = SafeWriter::new(Vec::new(), allowed);
        for c in chunks {
            w.write_all(c).unwrap();
        }
        w.flush().unwrap();
        String::from_utf8(w.inner.clone()).unwrap()
    }

    #[test]
    fn escapes_controls_c1_and_bidi() {
        assert_eq!(
            escape("a\u{1b}]0;title\u{7}b\u{9b}2Jc\u{202e}d\re"),
            "a\\u001b]0;title\\u0007b\\u009b2Jc\\u202ed\\u000de"
        );
        assert!(matches!(escape("plain ✅ text\n\t"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_writer_lets_only_our_sgr_through_even_when_split() {
        let color = Style {
            color: true,
            ..Default::default()
        };
        let seqs = style_sequences(color);
        assert!(seqs.contains(&b"\x1b[32m".to_vec()), "{seqs:?}");
        let painted = color.paint(Status::Ok, "ok");
        let hostile = "\u{1b}[2J\u{1b}]8;;http://x\u{7}";
        let text = format!("{painted} {hostile}\n");
        let bytes = text.as_bytes();
        for split in 0..bytes.len() {
            let out = through(&[&bytes[..split], &bytes[split..]], seqs.clone());
            assert_eq!(
                out,
                format!("{painted} \\u001b[2J\\u001b]8;;http://x\\u0007\n"),
                "split at {split}"
            );
        }
        // Without color nothing passes.
        let out = through(&[painted.as_bytes()], style_sequences(Style::default()));
        assert!(!out.contains('\u{1b}'), "{out}");
    }

    #[test]
    fn widths_count_what_is_shown() {
        // A control character is shown as its 6-column escape, so columns still line up.
        assert_eq!(crate::render::display_width("a\u{1b}b"), 8);
        assert_eq!(crate::render::display_width("\u{202e}x"), 7);
        assert_eq!(crate::render::display_width("✅ ok"), 5);
    }

    #[test]
    fn split_utf8_and_invalid_bytes() {
        let s = "é\u{85}✅".as_bytes();
        for split in 0..s.len() {
            assert_eq!(through(&[&s[..split], &s[split..]], vec![]), "é\\u0085✅");
        }
        assert_eq!(through(&[b"a\xffb"], vec![]), "a\\xffb");
        assert_eq!(through(&[b"a\xe2\x9c"], vec![]), "a\\xe2\\x9c");
    }

    #[test]
    fn json_stays_valid_and_equal() {
        let value = serde_json::json!({"name": "x\u{9b}y\u{202e}z\u{1b}"});
        let text = serde_json::to_string(&value).unwrap();
        let out = through(&[text.as_bytes()], vec![]);
        assert!(!out.chars().any(is_unsafe));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, value);
    }
}
