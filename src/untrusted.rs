//! Text that came from outside (facts files, program output, names in a matrix) as it may be shown: the
//! characters that must never reach a terminal raw, escaped as `\uXXXX`. No dependencies, so every
//! layer can use it; `terminal` applies it to everything printed, `one_line` to fields that are one line.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        // Bidirectional marks, embeddings, overrides and isolates (the "Trojan Source" set), and the
        // Unicode line and paragraph separators.
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            true
        }
        '\u{2028}' | '\u{2029}' => true,
        _ => false,
    }
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let _ = write!(out, "\\u{:04x}", u32::from(c));
}

/// `text` with every unsafe character written as `\uXXXX`; borrowed when nothing needed escaping.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` as one line: newlines, tabs and carriage returns escaped as well as every unsafe character, so
/// a field (a machine's name, a GPU's) cannot start a line of its own and forge a report's lines.
pub fn one_line(text: &str) -> Cow<'_, str> {
    let breaks = |c: char| matches!(c, '\n' | '\t' | '\r');
    if !text.chars().any(|c| is_unsafe(c) || breaks(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) || breaks(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_fields_cannot_break_lines() {
        assert_eq!(super::one_line("GB10"), "GB10");
        assert_eq!(
            super::one_line("box\n\n✅ 26 ok\r\u{1b}[2J"),
            "box\\u000a\\u000a✅ 26 ok\\u000d\\u001b[2J"
        );
    }
}
