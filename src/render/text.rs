//! Terminal text helpers: status symbols (emoji or ASCII), optional color, width-aware padding.

use owo_colors::OwoColorize;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::matrix::Status;

/// How text output looks. JSON and Markdown ignore it (never colored).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub ascii: bool,
    /// Columns the text must fit: the terminal's, `COLUMNS`, or [`PIPED_WIDTH`].
    pub width: usize,
    /// Whether `width` is a terminal's (or `COLUMNS`), not the default for a pipe: a table meant for a
    /// file may then use all the columns it needs.
    pub width_known: bool,
}

/// Width when stdout is not a terminal and `COLUMNS` does not say: what a wide terminal and a log show.
pub const PIPED_WIDTH: usize = 100;
/// Narrower than this, nothing lays out: text is cut at it instead.
pub const MIN_WIDTH: usize = 40;

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            ascii: false,
            width: PIPED_WIDTH,
            width_known: false,
        }
    }
}

impl Style {
    pub fn symbol(self, status: Status) -> &'static str {
        match (self.ascii, status) {
            (false, Status::Ok) => "✅",
            (false, Status::Warn) => "⚠️",
            (false, Status::Fail) => "❌",
            (true, Status::Ok) => "OK",
            (true, Status::Warn) => "WARN",
            (true, Status::Fail) => "FAIL",
        }
    }

    /// The symbol padded to a fixed width, colored when color is on.
    pub fn status_cell(self, status: Status) -> String {
        let width = if self.ascii { 4 } else { 2 };
        let padded = pad(self.symbol(status), width);
        self.paint(status, &padded)
    }

    pub fn paint(self, status: Status, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        match status {
            Status::Ok => text.green().to_string(),
            Status::Warn => text.yellow().to_string(),
            Status::Fail => text.red().to_string(),
        }
    }

    pub fn bold(self, text: &str) -> String {
        if self.color {
            text.bold().to_string()
        } else {
            text.to_string()
        }
    }

    pub fn dim(self, text: &str) -> String {
        if self.color {
            text.dimmed().to_string()
        } else {
            text.to_string()
        }
    }
}

/// Columns a string takes in a terminal. Emoji with the presentation selector (⚠️) take two.
pub fn display_width(s: &str) -> usize {
    // Control characters are printed escaped (`crate::terminal`), so they take the escape's width.
    let s = &*crate::terminal::escape(s);
    let base = UnicodeWidthStr::width(s);
    // unicode-width counts U+26A0 as narrow; with U+FE0F terminals draw it wide.
    let extra = s.matches("\u{26A0}\u{FE0F}").count();
    if UnicodeWidthStr::width("\u{26A0}\u{FE0F}") >= 2 {
        base
    } else {
        base + extra
    }
}

/// Pads with spaces to `width` display columns.
pub fn pad(s: &str, width: usize) -> String {
    let w = display_width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// Cuts to at most `width` display columns, marking the cut with `…`.
pub fn truncate(s: &str, width: usize) -> String {
    if display_width(s) <= width {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        let mut next = out.clone();
        next.push(c);
        if display_width(&next) + 1 > width {
            break;
        }
        out = next;
    }
    out.push('…');
    out
}

/// Rows of (id, name, detail), the first two columns padded by display width (`list` commands).
pub fn three_columns(
    rows: &[(String, String, String)],
    width: usize,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let id_w = rows.iter().map(|r| display_width(&r.0)).max().unwrap_or(0);
    // The name column gives way before the id does (ids are what people type next), and shares the
    // width with the details when there are any.
    let has_detail = rows.iter().any(|r| !r.2.is_empty());
    let room = width.saturating_sub(id_w + 4);
    let name_w = rows
        .iter()
        .map(|r| display_width(&r.1))
        .max()
        .unwrap_or(0)
        .min(if has_detail { room / 2 } else { room })
        .max(8);
    let detail_at = id_w + 2 + name_w + 2;
    let detail_w = width.saturating_sub(detail_at);
    for (id, name, detail) in rows {
        let name = truncate(name, name_w);
        if detail.is_empty() {
            writeln!(out, "{}  {}", pad(id, id_w), name.trim_end())?;
            continue;
        }
        if detail_w < 16 {
            writeln!(out, "{}  {}", pad(id, id_w), name)?;
            writeln!(
                out,
                "{}{}",
                " ".repeat(4),
                truncate(detail, width.saturating_sub(4))
            )?;
            continue;
        }
        for (i, line) in wrap(detail, detail_w).iter().enumerate() {
            if i == 0 {
                writeln!(out, "{}  {}  {line}", pad(id, id_w), pad(&name, name_w))?;
            } else {
                writeln!(out, "{}{line}", " ".repeat(detail_at))?;
            }
        }
    }
    Ok(())
}

/// Text from facts, a log or data as one printed line: control characters and line breaks shown as
/// `\uXXXX`, never raw (a hostile facts file cannot forge a line).
pub(crate) fn clean(text: &str) -> String {
    crate::untrusted::one_line(text).into_owned()
}

/// `text` wrapped to `width` columns after `lead` (a label, `· `, `fix: `), which takes `lead_width`
/// columns — given, since a colored lead's bytes are not its width; the other lines are indented as far.
pub fn hanging(lead: &str, lead_width: usize, text: &str, width: usize) -> Vec<String> {
    wrap(text, width.saturating_sub(lead_width).max(20))
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{lead}{l}")
            } else {
                format!("{}{l}", " ".repeat(lead_width))
            }
        })
        .collect()
}

/// Wraps words into lines of at most `width` columns; a word longer than a line (a URL, a path) is cut
/// across lines, so nothing runs past the width.
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        if !line.is_empty() && display_width(&line) + 1 + display_width(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        if display_width(word) <= width.saturating_sub(display_width(&line)) {
            line.push_str(word);
            continue;
        }
        for c in word.chars() {
            let w = UnicodeWidthChar::width(c).unwrap_or(0);
            if display_width(&line) + w > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_are_two_columns() {
        for s in ["✅", "⚠️", "❌"] {
            assert_eq!(display_width(s), 2, "{s}");
        }
        assert_eq!(pad("⚠️", 4), "⚠️  ");
    }

    #[test]
    fn truncates_and_wraps_by_width() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(
            wrap("one two three four", 9),
            vec!["one two", "three", "four"]
        );
    }
}
