//! `mlcompat doctor`: header, summary line, rows grouped by category, then what to do next.

use std::io::{self, Write};

use super::text::{display_width, pad, truncate, wrap, Style};
use crate::matrix::Status;
use crate::report::Report;

/// Width of wrapped reason/fix lines.
const TEXT_WIDTH: usize = 96;

/// How many next steps the text shows; the rest are counted, and JSON lists them all.
const SHOWN_STEPS: usize = 8;

pub fn doctor_text(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let m = &report.machine;
    let title = match &m.id {
        Some(id) if m.origin == "profile" => format!("{} (profile {id})", m.name),
        _ => m.name.clone(),
    };
    writeln!(out, "{}", style.bold(&format!("mlcompat doctor — {title}")))?;
    let unknown = "unknown".to_string();
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
            "  {}  {}",
            pad(label, 9),
            value.as_ref().unwrap_or(&unknown)
        )?;
    }
    for line in &m.unknown {
        writeln!(out, "  {}  {}", pad("Not read", 9), style.dim(line))?;
    }
    for line in &m.notes {
        writeln!(out, "  {}  {}", pad("Note", 9), style.dim(line))?;
    }
    writeln!(out)?;
    writeln!(out, "{}", summary_line(report, style))?;

    let name_w = report
        .rows
        .iter()
        .map(|r| display_width(&r.name))
        .chain([display_width("Software")])
        .max()
        .unwrap_or(0);
    let inst_w = report
        .rows
        .iter()
        .map(|r| display_width(installed_text(r.installed.as_deref())))
        .chain([display_width("Installed")])
        .max()
        .unwrap_or(0)
        .min(24);
    let symbol_w = if style.ascii { 4 } else { 2 };
    let indent = " ".repeat(2 + symbol_w + 2);
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        style.dim(&format!(
            "  {}  {}  {}  Verdict here",
            pad("", symbol_w),
            pad("Software", name_w),
            pad("Installed", inst_w)
        ))
    )?;
    let mut category = "";
    for row in &report.rows {
        if row.category != category {
            category = &row.category;
            writeln!(out)?;
            writeln!(out, "{}", style.bold(&row.category_title))?;
        }
        writeln!(
            out,
            "  {}  {}  {}  {}",
            style.status_cell(row.status),
            pad(&row.name, name_w),
            pad(
                &truncate(installed_text(row.installed.as_deref()), 24),
                inst_w
            ),
            row.note
        )?;
        if row.import == Some(crate::report::ImportCheck::NotTried) {
            writeln!(
                out,
                "{indent}{}",
                style.dim("installed; import not tried (--deep imports it)")
            )?;
        }
        if row.status != Status::Ok {
            for line in wrap(&row.reason, TEXT_WIDTH) {
                writeln!(out, "{indent}{}", style.dim(&line))?;
            }
        }
        let show_fix =
            row.status != Status::Ok || (row.fix_matters_when_ok && row.installed.is_some());
        if let Some(fix) = row.fix.as_ref().filter(|_| show_fix) {
            if row.status == Status::Ok {
                for line in wrap(&row.reason, TEXT_WIDTH) {
                    writeln!(out, "{indent}{}", style.dim(&line))?;
                }
            }
            for (i, line) in wrap(fix, TEXT_WIDTH - 5).iter().enumerate() {
                let lead = if i == 0 { "fix: " } else { "     " };
                writeln!(out, "{indent}{lead}{line}")?;
            }
        }
        if let Some(failure) = row.failure.as_ref().filter(|_| row.status != Status::Ok) {
            writeln!(
                out,
                "{indent}{}",
                style.dim(&format!(
                    "known failure {failure} (`mlcompat explain` names it from the error it prints)"
                ))
            )?;
        }
        for warning in &row.warnings {
            for (i, line) in wrap(warning, TEXT_WIDTH - 7).iter().enumerate() {
                let lead = if i == 0 { "warns: " } else { "       " };
                writeln!(out, "{indent}{}", style.dim(&format!("{lead}{line}")))?;
            }
        }
    }
    writeln!(out)?;
    next_steps(report, style, out)?;
    if let Some(range) = report.matrix_checked {
        writeln!(out, "\n{}", style.dim(&format!("{range}.")))?;
    }
    Ok(())
}

/// "What to do next", or why there is nothing to do.
fn next_steps(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
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
                 tell; rows for software that is not installed say how to get it."
                    .to_string()
            }
            _ => "What to do next: nothing installed to check. Rows for each software say how to get \
                  it; `--require ID` names what must work here."
                .to_string(),
        };
        for line in wrap(&text, TEXT_WIDTH) {
            writeln!(out, "{}", style.bold(&line))?;
        }
        return Ok(());
    }
    writeln!(out, "{}", style.bold("What to do next"))?;
    for (i, rec) in report.recommendations.iter().take(SHOWN_STEPS).enumerate() {
        let lines = wrap(&rec.text, TEXT_WIDTH);
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
        writeln!(
            out,
            "  … and {more} more (the rows above show each fix; --format json lists every step)"
        )?;
    }
    Ok(())
}

fn installed_text(installed: Option<&str>) -> &str {
    installed.unwrap_or("—")
}

fn summary_line(report: &Report, style: Style) -> String {
    let s = &report.summary;
    format!(
        "{} {} ok, {} {} warn, {} {} fail ({} checked)",
        style.paint(Status::Ok, style.symbol(Status::Ok)),
        s.ok,
        style.paint(Status::Warn, style.symbol(Status::Warn)),
        s.warn,
        style.paint(Status::Fail, style.symbol(Status::Fail)),
        s.fail,
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
