//! A YAML reader that remembers where every node came from.
//!
//! serde_yaml reports only the first error and forgets positions once parsing is done, so semantic checks
//! (duplicate ids, unknown facts) could not say where the problem is. This module parses YAML events with
//! `saphyr-parser` into a small tree of located nodes; `de` deserializes typed values from it, collecting
//! unknown keys instead of stopping at the first. Anchors, aliases and tags are refused (no alias bombs),
//! and nesting is bounded.

mod de;
pub(crate) mod preparsed;

use std::collections::HashSet;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle};

pub(crate) use de::{from_node, Problems};

/// The deepest nesting accepted; real matrix and facts files stay under 10.
const MAX_DEPTH: usize = 64;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Loc {
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One problem found in a file, with its position when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub loc: Option<Loc>,
    pub message: String,
}

impl Problem {
    pub fn at(loc: Loc, message: impl Into<String>) -> Self {
        Problem {
            loc: Some(loc),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Null,
    /// Text as written; `plain` is false for quoted and block scalars, which are always strings.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    pub loc: Loc,
}

impl Node {
    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A copy of this mapping without `keys` (to deserialize the rest separately).
    pub fn without(&self, keys: &[&str]) -> Node {
        match &self.kind {
            Kind::Map(entries) => Node {
                kind: Kind::Map(
                    entries
                        .iter()
                        .filter(|(k, _)| !k.as_str().is_some_and(|k| keys.contains(&k)))
                        .cloned()
                        .collect(),
                ),
                loc: self.loc,
            },
            _ => self.clone(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// What kind of node this is, for error messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "nothing (null)",
            Kind::Scalar { .. } => "a scalar",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

enum Open {
    Seq(Loc, Vec<Node>),
    /// A mapping being read: its entries, the key waiting for its value, and the keys seen so far (a set,
    /// so duplicate detection stays linear: 100k keys took 35 s with a scan of the entries).
    Map(Loc, Vec<(Node, Node)>, Option<Node>, HashSet<String>),
}

/// Parses one YAML document into a located tree. An empty file is an error: every file we read needs content.
pub(crate) fn parse(text: &str) -> Result<Node, Problem> {
    if let Some(node) = preparsed::lookup(text) {
        return Ok(node);
    }
    parse_text(text)
}

/// [`parse`] without the pre-parsed files: what the build script runs on the embedded matrix.
pub(crate) fn parse_text(text: &str) -> Result<Node, Problem> {
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| Problem {
            loc: Some(Loc {
                line: e.marker().line(),
                col: e.marker().col() + 1,
            }),
            message: format!("invalid YAML: {}", e.info()),
        })?;
        let loc = Loc {
            line: span.start.line(),
            col: span.start.col() + 1,
        };
        let node = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(Problem::at(loc, "more than one YAML document in the file"));
                }
                continue;
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::Alias(_) => {
                return Err(Problem::at(loc, "YAML aliases (*name) are not allowed"));
            }
            Event::Scalar(text, style, anchor, tag) => {
                refuse_anchor_and_tag(anchor, tag.is_some(), loc)?;
                let plain = style == ScalarStyle::Plain;
                let kind = if plain && matches!(&*text, "" | "~" | "null" | "Null" | "NULL") {
                    Kind::Null
                } else {
                    Kind::Scalar {
                        text: text.into_owned(),
                        plain,
                    }
                };
                Node { kind, loc }
            }
            Event::SequenceStart(anchor, tag) => {
                refuse_anchor_and_tag(anchor, tag.is_some(), loc)?;
                push(&mut stack, Open::Seq(loc, Vec::new()), loc)?;
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                refuse_anchor_and_tag(anchor, tag.is_some(), loc)?;
                push(
                    &mut stack,
                    Open::Map(loc, Vec::new(), None, HashSet::new()),
                    loc,
                )?;
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Seq(start, items)) => Node {
                    kind: Kind::Seq(items),
                    loc: start,
                },
                _ => return Err(Problem::at(loc, "unbalanced YAML sequence")),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Open::Map(start, entries, None, _)) => Node {
                    kind: Kind::Map(entries),
                    loc: start,
                },
                _ => return Err(Problem::at(loc, "unbalanced YAML mapping")),
            },
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending, seen)) => match pending.take() {
                None => {
                    let Some(key) = node.as_str() else {
                        return Err(Problem::at(node.loc, "mapping keys must be plain text"));
                    };
                    if !seen.insert(key.to_string()) {
                        return Err(Problem::at(node.loc, format!("duplicate key `{key}`")));
                    }
                    *pending = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
        }
    }
    match root {
        Some(node) if node.kind != Kind::Null => Ok(node),
        _ => Err(Problem {
            loc: None,
            message: "the file is empty".into(),
        }),
    }
}

fn push(stack: &mut Vec<Open>, open: Open, loc: Loc) -> Result<(), Problem> {
    if stack.len() >= MAX_DEPTH {
        return Err(Problem::at(
            loc,
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    stack.push(open);
    Ok(())
}

fn refuse_anchor_and_tag(anchor: usize, tagged: bool, loc: Loc) -> Result<(), Problem> {
    if anchor != 0 {
        return Err(Problem::at(loc, "YAML anchors (&name) are not allowed"));
    }
    if tagged {
        return Err(Problem::at(loc, "YAML tags (!tag) are not allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_text() {
        let node = parse("a: 1\nb:\n  - 12.10\n  - 'x'\n").unwrap();
        let b = node.get("b").unwrap();
        assert_eq!(b.loc, Loc { line: 3, col: 3 });
        let items = b.as_seq().unwrap();
        assert_eq!(items[0].as_str(), Some("12.10"));
        assert_eq!(items[1].loc, Loc { line: 4, col: 5 });
    }

    #[test]
    fn refuses_aliases_anchors_and_duplicates() {
        assert!(parse("a: &x 1\nb: *x\n")
            .unwrap_err()
            .message
            .contains("anchors"));
        let dup = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(dup.loc, Some(Loc { line: 2, col: 1 }));
        assert!(dup.message.contains("duplicate key `a`"));
    }

    #[test]
    fn many_keys_and_a_late_duplicate() {
        let mut text: String = (0..100_000).map(|i| format!("k{i}: {i}\n")).collect();
        let node = parse(&text).unwrap();
        assert_eq!(node.as_map().unwrap().len(), 100_000);
        text.push_str("k5: again\n");
        let e = parse(&text).unwrap_err();
        assert_eq!(
            e.loc,
            Some(Loc {
                line: 100_001,
                col: 1
            })
        );
        assert_eq!(e.message, "duplicate key `k5`");
    }

    #[test]
    fn bounds_nesting_and_rejects_empty() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("recursion limit"), "{e:?}");
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&deep)
            .unwrap_err()
            .message
            .contains("nested deeper than 64"));
        assert_eq!(parse("").unwrap_err().message, "the file is empty");
        assert_eq!(
            parse("# only a comment\n").unwrap_err().message,
            "the file is empty"
        );
    }
}
