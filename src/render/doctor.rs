//! `mlcompat doctor`: header, summary line, rows grouped by category, then what to do next.

use std::io::{self, Write};

use super::text::{display_width, pad, truncate, wrap, Style};
use crate::matrix::Status;
use crate::report::Report;

/// Width of wrapped reason/fix lines.
const TEXT_WIDTH: usize = 96;

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
    writeln!(out)?;
    writeln!(out, "{}", summary_line(report, style))?;

    let name_w = report
        .rows
        .iter()
        .map(|r| display_width(&r.name))
        .max()
        .unwrap_or(0);
    let inst_w = report
        .rows
        .iter()
        .map(|r| display_width(installed_text(r.installed.as_deref())))
        .max()
        .unwrap_or(0)
        .min(24);
    let indent = " ".repeat(2 + if style.ascii { 4 } else { 2 } + 2);
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
        if row.status != Status::Ok {
            for line in wrap(&row.reason, TEXT_WIDTH) {
                writeln!(out, "{indent}{}", style.dim(&line))?;
            }
            if let Some(fix) = &row.fix {
                for (i, line) in wrap(fix, TEXT_WIDTH - 5).iter().enumerate() {
                    let lead = if i == 0 { "fix: " } else { "     " };
                    writeln!(out, "{indent}{lead}{line}")?;
                }
            }
        }
    }
    writeln!(out)?;
    if report.recommendations.is_empty() {
        writeln!(
            out,
            "{}",
            style.bold("What to do next: nothing — every row is fine.")
        )?;
    } else {
        writeln!(out, "{}", style.bold("What to do next"))?;
        for (i, rec) in report.recommendations.iter().enumerate() {
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
    }
    if let Some(range) = report.matrix_checked {
        writeln!(out, "\n{}", style.dim(&format!("{range}.")))?;
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
