//! `mlcompat doctor`: the header, one summary line that agrees with the exit status, then problems first,
//! the software installed here, what is not installed in a few lines, and what to do next. `--all` lists
//! every row with its reason, as the catalogue; JSON always carries every row.

use std::io::{self, Write};

use super::text::{display_width, hanging, pad, truncate, wrap, Style};
use crate::matrix::Status;
use crate::report::{Report, Row};

/// How many next steps the text shows; the rest are counted, and JSON lists them all.
const SHOWN_STEPS: usize = 8;

/// The widths a row line lays out with.
struct Layout {
    name_w: usize,
    inst_w: usize,
    indent: String,
    /// Wrapped text lines fit in this (the terminal's width less the indent).
    text_w: usize,
}

impl Layout {
    fn of<'a>(rows: impl Iterator<Item = &'a Row> + Clone, style: Style) -> Layout {
        let name_w = rows
            .clone()
            .map(|r| display_width(&r.name))
            .chain([display_width("Software")])
            .max()
            .unwrap_or(0)
            .min(style.width / 3);
        let inst_w = rows
            .map(|r| display_width(installed_text(r.installed.as_deref())))
            .chain([display_width("Installed")])
            .max()
            .unwrap_or(0)
            .min(24);
        let symbol_w = if style.ascii { 4 } else { 2 };
        let indent = " ".repeat(2 + symbol_w + 2);
        Layout {
            name_w,
            inst_w,
            text_w: style.width.saturating_sub(indent.len()).max(20),
            indent,
        }
    }
}

pub fn doctor_text(
    report: &Report,
    style: Style,
    all: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let m = &report.machine;
    // Every header field is one line: text from a facts file must not start lines of its own.
    let line = |s: &str| crate::untrusted::one_line(s).into_owned();
    let title = match (&m.id, &m.hostname) {
        (Some(id), _) if m.origin == "profile" => {
            format!("{} (profile {})", line(&m.name), line(id))
        }
        (_, Some(host)) if m.name == crate::facts::THIS_MACHINE => {
            format!("{} ({})", m.name, line(host))
        }
        _ => line(&m.name),
    };
    for line in wrap(&format!("mlcompat doctor — {title}"), style.width) {
        writeln!(out, "{}", style.bold(&line))?;
    }
    let unknown = "unknown".to_string();
    let lines = [
        ("GPU", &m.gpu),
        ("Memory", &m.memory),
        ("Bandwidth", &m.bandwidth),
        ("Driver", &m.driver),
        ("OS", &m.os),
        ("Python", &m.python),
    ]
    .into_iter()
    .map(|(label, value)| (label, line(value.as_ref().unwrap_or(&unknown)), false))
    .chain(m.unknown.iter().map(|l| ("Not read", line(l), true)))
    .chain(m.notes.iter().map(|l| ("Note", line(l), true)));
    let value_w = style.width.saturating_sub(13).max(20);
    for (label, value, dim) in lines {
        for (i, line) in wrap(&value, value_w).iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            let line = if dim { style.dim(line) } else { line.clone() };
            writeln!(out, "  {}  {line}", pad(label, 9))?;
        }
    }
    writeln!(out)?;
    for line in wrap(&summary_line(report, style), style.width) {
        writeln!(out, "{line}")?;
    }
    if all {
        every_row(report, style, out)?;
    } else {
        short(report, style, out)?;
    }
    writeln!(out)?;
    next_steps(report, style, out)?;
    if !all {
        writeln!(out)?;
        for line in wrap(
            "`mlcompat doctor --all` lists every row with its reason and fix; `--format json` carries them all.",
            style.width,
        ) {
            writeln!(out, "{}", style.dim(&line))?;
        }
    }
    if let Some(range) = report.matrix_checked {
        writeln!(out)?;
        for line in wrap(&format!("{range}."), style.width) {
            writeln!(out, "{}", style.dim(&line))?;
        }
    }
    Ok(())
}

/// The catalogue: every row under its category, with the reason and fix of every one that is not ✅.
fn every_row(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let layout = Layout::of(report.rows.iter(), style);
    writeln!(out)?;
    header_line(&layout, style, out)?;
    let mut category = "";
    for row in &report.rows {
        if row.category != category {
            category = &row.category;
            writeln!(out)?;
            writeln!(out, "{}", style.bold(&row.category_title))?;
        }
        row_lines(row, &layout, style, out)?;
    }
    Ok(())
}

/// Problems first, then what is installed, then what is not in a few lines.
fn short(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let problem = |r: &Row| report.summary.problems.iter().any(|p| p.id == r.id);
    let problems: Vec<&Row> = report.rows.iter().filter(|r| problem(r)).collect();
    let installed: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| r.installed.is_some() && !problem(r))
        .collect();
    let layout = Layout::of(problems.iter().chain(&installed).copied(), style);
    if !problems.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Problems (the exit status is 1)"))?;
        for row in &problems {
            row_lines(row, &layout, style, out)?;
        }
    }
    if !installed.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Installed here"))?;
        for row in &installed {
            row_lines(row, &layout, style, out)?;
        }
    }
    let absent: Vec<&Row> = report
        .rows
        .iter()
        .filter(|r| r.installed.is_none() && !problem(r))
        .collect();
    if absent.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let heading = if report.machine.origin == "profile" {
        "On this machine (a reference profile has nothing installed)"
    } else {
        "Not installed"
    };
    writeln!(out, "{}", style.bold(heading))?;
    let names = |status: Status| -> Vec<&str> {
        absent
            .iter()
            .filter(|r| r.status == status)
            .map(|r| r.name.as_str())
            .collect()
    };
    // Each line leads with the status mark, 2 or 4 columns wide (colored or not), between two spaces.
    let lead = |status: Status| format!("  {}  ", style.status_cell(status));
    let lead_w = 2 + if style.ascii { 4 } else { 2 } + 2;
    let listed = |status: Status, words: &str, out: &mut dyn Write| -> io::Result<()> {
        let list = names(status);
        if list.is_empty() {
            return Ok(());
        }
        let text = format!("{words} ({}): {}", list.len(), list.join(", "));
        for line in hanging(&lead(status), lead_w, &text, style.width) {
            writeln!(out, "{line}")?;
        }
        Ok(())
    };
    listed(Status::Ok, "would run here", out)?;
    // What needs care is worth a line each: the note says what.
    for row in absent.iter().filter(|r| r.status == Status::Warn) {
        let text = format!("{} — {}", row.name, row.note);
        for line in hanging(&lead(Status::Warn), lead_w, &text, style.width) {
            writeln!(out, "{line}")?;
        }
    }
    listed(Status::Fail, "not for this machine", out)?;
    Ok(())
}

fn header_line(layout: &Layout, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let symbol_w = if style.ascii { 4 } else { 2 };
    writeln!(
        out,
        "{}",
        style.dim(&format!(
            "  {}  {}  {}  Verdict here",
            pad("", symbol_w),
            pad("Software", layout.name_w),
            pad("Installed", layout.inst_w)
        ))
    )
}

/// One row: its line (cut to the width), then — unless ✅ — its reason, fix, known failure and warnings.
fn row_lines(row: &Row, layout: &Layout, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let symbol_w = if style.ascii { 4 } else { 2 };
    let lead_w = 2 + symbol_w + 2 + layout.name_w + 2 + layout.inst_w + 2;
    let note_w = style.width.saturating_sub(lead_w);
    let note = if note_w >= 12 {
        truncate(&row.note, note_w)
    } else {
        String::new()
    };
    let line = format!(
        "  {}  {}  {}  {note}",
        style.status_cell(row.status),
        pad(&truncate(&row.name, layout.name_w), layout.name_w),
        pad(
            &truncate(installed_text(row.installed.as_deref()), layout.inst_w),
            layout.inst_w
        ),
    );
    writeln!(out, "{}", line.trim_end())?;
    let indent = &layout.indent;
    let text_w = layout.text_w;
    if note_w < 12 && !row.note.is_empty() {
        for line in wrap(&row.note, text_w) {
            writeln!(out, "{indent}{line}")?;
        }
    }
    if row.import == Some(crate::report::ImportCheck::NotTried) {
        writeln!(
            out,
            "{indent}{}",
            style.dim("installed; import not tried (--deep imports it)")
        )?;
    }
    if row.status != Status::Ok {
        for line in wrap(&row.reason, text_w) {
            writeln!(out, "{indent}{}", style.dim(&line))?;
        }
    }
    let show_fix = row.status != Status::Ok || (row.fix_matters_when_ok && row.installed.is_some());
    if let Some(fix) = row.fix.as_ref().filter(|_| show_fix) {
        if row.status == Status::Ok {
            for line in wrap(&row.reason, text_w) {
                writeln!(out, "{indent}{}", style.dim(&line))?;
            }
        }
        for (i, line) in wrap(fix, text_w.saturating_sub(5).max(15))
            .iter()
            .enumerate()
        {
            let lead = if i == 0 { "fix: " } else { "     " };
            writeln!(out, "{indent}{lead}{line}")?;
        }
    }
    if let Some(failure) = row.failure.as_ref().filter(|_| row.status != Status::Ok) {
        for line in wrap(
            &format!(
                "known failure {failure} (`mlcompat explain` names it from the error it prints)"
            ),
            text_w,
        ) {
            writeln!(out, "{indent}{}", style.dim(&line))?;
        }
    }
    for warning in &row.warnings {
        for (i, line) in wrap(warning, text_w.saturating_sub(7).max(15))
            .iter()
            .enumerate()
        {
            let lead = if i == 0 { "warns: " } else { "       " };
            writeln!(out, "{indent}{}", style.dim(&format!("{lead}{line}")))?;
        }
    }
    Ok(())
}

/// "What to do next", or why there is nothing to do.
fn next_steps(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let width = style.width;
    if report.recommendations.is_empty() {
        let text = match report.machine.origin.as_str() {
            "profile" => format!(
                "What to do next: nothing to fix on a reference profile, which has nothing installed. \
                 Rows marked {} or {} say what each software needs on this machine; `--require ID` \
                 plans for the software you need.",
                style.symbol(Status::Warn),
                style.symbol(Status::Fail)
            ),
            _ if report.rows.iter().any(|r| r.installed.is_some()) => {
                "What to do next: nothing — the software installed here works as far as mlcompat can \
                 tell; `mlcompat install-plan ID` gives the commands for software that is not installed."
                    .to_string()
            }
            _ => "What to do next: nothing installed to check. `mlcompat install-plan ID` gives the \
                  commands for the software you need; `--require ID` names what must work here."
                .to_string(),
        };
        for line in wrap(&text, width) {
            writeln!(out, "{}", style.bold(&line))?;
        }
        return Ok(());
    }
    writeln!(out, "{}", style.bold("What to do next"))?;
    for (i, rec) in report.recommendations.iter().take(SHOWN_STEPS).enumerate() {
        let lines = wrap(&rec.text, width.saturating_sub(8).max(20));
        for (j, line) in lines.iter().enumerate() {
            if j == 0 {
                writeln!(
                    out,
                    "  {}. {} {line}",
                    i + 1,
                    style.paint(rec.status, style.symbol(rec.status))
                )?;
            } else {
                writeln!(out, "     {line}")?;
            }
        }
    }
    let more = report.recommendations.len().saturating_sub(SHOWN_STEPS);
    if more > 0 {
        for line in wrap(
            &format!("… and {more} more (each row shows its fix; --format json lists every step)"),
            width.saturating_sub(2),
        ) {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

fn installed_text(installed: Option<&str>) -> &str {
    installed.unwrap_or("not installed")
}

/// One line that agrees with the exit status: ✅ when nothing decides it (exit 0), ❌ with the number of
/// problems otherwise; then installed and working / with warnings / broken, and what is not installed split
/// into what would run here, what needs care and what is not for this machine.
fn summary_line(report: &Report, style: Style) -> String {
    let problems = report.summary.problems.len();
    let count = |f: &dyn Fn(&Row) -> bool| report.rows.iter().filter(|r| f(r)).count();
    let working = count(&|r| r.installed.is_some() && r.status == Status::Ok);
    let warned = count(&|r| r.installed.is_some() && r.status == Status::Warn);
    let broken = count(&|r| r.installed.is_some() && r.status == Status::Fail);
    let absent = |s: Status| count(&|r| r.installed.is_none() && r.status == s);
    let head = if problems == 0 {
        format!(
            "{} No problems",
            style.paint(Status::Ok, style.symbol(Status::Ok))
        )
    } else {
        format!(
            "{} {problems} problem{} (exit status 1)",
            style.paint(Status::Fail, style.symbol(Status::Fail)),
            if problems == 1 { "" } else { "s" }
        )
    };
    let installed = if working + warned + broken == 0 {
        "nothing installed that mlcompat checks".to_string()
    } else {
        format!("installed: {working} working, {warned} with warnings, {broken} broken")
    };
    format!(
        "{head} — {installed}; not installed: {} would run here, {} need care, {} not for this machine ({} rows)",
        absent(Status::Ok),
        absent(Status::Warn),
        absent(Status::Fail),
        report.rows.len()
    )
}

pub fn doctor_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// GitHub-flavored Markdown: a header list, then one table.
pub fn doctor_markdown(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let style = Style {
        color: false,
        ..style
    };
    let m = &report.machine;
    writeln!(out, "## {}", escape(&m.name))?;
    writeln!(out)?;
    for (label, value) in [
        ("GPU", &m.gpu),
        ("Memory", &m.memory),
        ("Bandwidth", &m.bandwidth),
        ("Driver", &m.driver),
        ("OS", &m.os),
        ("Python", &m.python),
    ] {
        writeln!(
            out,
            "- **{label}:** {}",
            escape(value.as_deref().unwrap_or("unknown"))
        )?;
    }
    for (label, lines) in [("Not read", &m.unknown), ("Note", &m.notes)] {
        for line in lines {
            writeln!(out, "- **{label}:** {}", escape(line))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", summary_line(report, style))?;
    writeln!(out)?;
    writeln!(
        out,
        "| | Software | Category | Installed | Verdict | Fix | Source |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for row in &report.rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            style.symbol(row.status),
            escape(&row.name),
            escape(&row.category_title),
            escape(row.installed.as_deref().unwrap_or("—")),
            escape(&row.reason),
            escape(row.fix.as_deref().unwrap_or("")),
            source_link(&row.source),
        )?;
    }
    for row in report.rows.iter().filter(|r| !r.warnings.is_empty()) {
        writeln!(out)?;
        writeln!(out, "{} warns on import:", escape(&row.name))?;
        for w in &row.warnings {
            writeln!(out, "- {}", escape(w))?;
        }
    }
    if !report.recommendations.is_empty() {
        writeln!(out)?;
        writeln!(out, "### What to do next")?;
        writeln!(out)?;
        for (i, rec) in report.recommendations.iter().enumerate() {
            writeln!(out, "{}. {}", i + 1, escape(&rec.text))?;
        }
    }
    if let Some(range) = report.matrix_checked {
        writeln!(out, "\n_{range}._")?;
    }
    Ok(())
}

/// Escapes text for a GFM table cell: `|` would end the cell, newlines the row; `<` could open HTML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}

/// A source as a Markdown link when it starts with a URL (`URL — quote`).
pub(crate) fn source_link(source: &str) -> String {
    let (url, rest) = source.split_once(' ').unwrap_or((source, ""));
    if url.starts_with("http://") || url.starts_with("https://") {
        let host = url.split('/').nth(2).unwrap_or(url);
        let quote = rest.trim_start_matches([' ', '—', '-']).trim();
        if quote.is_empty() {
            format!(
                "[{}]({})",
                escape(host),
                url.replace(')', "%29").replace('|', "%7C")
            )
        } else {
            format!(
                "[{}]({}) {}",
                escape(host),
                url.replace(')', "%29").replace('|', "%7C"),
                escape(quote)
            )
        }
    } else {
        escape(source)
    }
}
