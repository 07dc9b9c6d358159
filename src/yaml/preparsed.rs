//! The embedded matrix parsed when mlcompat is built: scanning 900 KB of YAML was most of a cached
//! `doctor`'s time. The build script parses each embedded file with [`super::parse_text`] and stores the
//! tree in this compact form; at run time [`super::parse`] decodes it instead of scanning the text again,
//! so every position (file:line:col in errors) stays what the text says. Text that is not an embedded file
//! (a `--matrix DIR`, a facts file) is parsed as always.
//!
//! Format: a node is a tag byte, its line and column, then — a scalar — its plain flag and text, or — a
//! sequence or map — its length and its children; numbers are LEB128, text is length-prefixed UTF-8.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{Kind, Loc, Node};

const NULL: u8 = 0;
const SCALAR: u8 = 1;
const SEQ: u8 = 2;
const MAP: u8 = 3;

/// The embedded files' texts and their encoded trees, registered once (by the matrix loader).
static REGISTRY: OnceLock<HashMap<&'static str, &'static [u8]>> = OnceLock::new();

/// Registers pre-parsed trees for these texts; later registrations are ignored.
pub(crate) fn register(files: &'static [(&'static str, &'static [u8])]) {
    REGISTRY.get_or_init(|| files.iter().copied().collect());
}

/// The tree of `text`, when it is a registered embedded file and its encoding reads back.
pub(crate) fn lookup(text: &str) -> Option<Node> {
    let bytes = REGISTRY.get()?.get(text)?;
    decode(bytes)
}

// The encoder runs in build.rs (which includes this module) and in the tests.
#[allow(dead_code)]
pub(crate) fn encode(node: &Node) -> Vec<u8> {
    let mut out = Vec::new();
    put(node, &mut out);
    out
}

#[allow(dead_code)]
fn number(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[allow(dead_code)]
fn put(node: &Node, out: &mut Vec<u8>) {
    let tag = match &node.kind {
        Kind::Null => NULL,
        Kind::Scalar { .. } => SCALAR,
        Kind::Seq(_) => SEQ,
        Kind::Map(_) => MAP,
    };
    out.push(tag);
    number(node.loc.line, out);
    number(node.loc.col, out);
    match &node.kind {
        Kind::Null => {}
        Kind::Scalar { text, plain } => {
            out.push(u8::from(*plain));
            number(text.len(), out);
            out.extend_from_slice(text.as_bytes());
        }
        Kind::Seq(items) => {
            number(items.len(), out);
            for item in items {
                put(item, out);
            }
        }
        Kind::Map(entries) => {
            number(entries.len(), out);
            for (k, v) in entries {
                put(k, out);
                put(v, out);
            }
        }
    }
}

/// The tree back, or `None` if the bytes are not a whole, well-formed encoding (the text is then parsed).
pub(crate) fn decode(bytes: &[u8]) -> Option<Node> {
    let mut reader = Reader { bytes, at: 0 };
    let node = reader.node(0)?;
    (reader.at == bytes.len()).then_some(node)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn number(&mut self) -> Option<usize> {
        let mut n: usize = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= usize::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn node(&mut self, depth: usize) -> Option<Node> {
        if depth > super::MAX_DEPTH {
            return None;
        }
        let tag = self.byte()?;
        let loc = Loc {
            line: self.number()?,
            col: self.number()?,
        };
        let kind = match tag {
            NULL => Kind::Null,
            SCALAR => {
                let plain = self.byte()? != 0;
                let len = self.number()?;
                let end = self.at.checked_add(len)?;
                let text = std::str::from_utf8(self.bytes.get(self.at..end)?).ok()?;
                self.at = end;
                Kind::Scalar {
                    text: text.to_string(),
                    plain,
                }
            }
            SEQ => {
                let len = self.number()?;
                let mut items = Vec::with_capacity(len.min(self.bytes.len()));
                for _ in 0..len {
                    items.push(self.node(depth + 1)?);
                }
                Kind::Seq(items)
            }
            MAP => {
                let len = self.number()?;
                let mut entries = Vec::with_capacity(len.min(self.bytes.len()));
                for _ in 0..len {
                    let k = self.node(depth + 1)?;
                    let v = self.node(depth + 1)?;
                    entries.push((k, v));
                }
                Kind::Map(entries)
            }
            _ => return None,
        };
        Some(Node { kind, loc })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_read_back_as_they_were_parsed() {
        let text = "a: 1\nb: 'two'\nc: [x, {d: null}]\ne:\n  - |\n    block\n";
        let node = super::super::parse_text(text).expect("parses");
        assert_eq!(decode(&encode(&node)), Some(node));
    }

    #[test]
    fn damaged_bytes_are_refused_not_trusted() {
        let node = super::super::parse_text("a: [1, 2, 3]\n").expect("parses");
        let bytes = encode(&node);
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), None);
        }
        assert_eq!(decode(&[9, 1, 1]), None);
        assert_eq!(
            decode(&[SEQ, 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            None
        );
    }
}
