//! `mlcompat explain`: what was read, then each known failure found — cause, evidence, the fix for that
//! machine, the rows concerned, the source; or that none matched and what was read. Markdown is a reply
//! a maintainer or a bot can post on the issue: the log's text only inside code blocks or escaped.

use std::io::{self, Write};

use super::text::{clean, hanging, pad, wrap, Style};
use crate::explain::{Explanation, FailureMatch, FixFrom};
use crate::matrix::Status;

const LABEL: usize = 9;

/// `   Label      text` (a match's fields), the text wrapped under itself.
fn labelled(out: &mut dyn Write, width: usize, label: &str, text: &str) -> io::Result<()> {
    lead_text(out, width, &format!("   {}  ", pad(label, LABEL)), text)
}

/// A header field: `  Label      value`, the value wrapped under itself.
fn field(out: &mut dyn Write, width: usize, label: &str, value: &str) -> io::Result<()> {
    lead_text(out, width, &format!("  {}  ", pad(label, LABEL)), value)
}

fn lead_text(out: &mut dyn Write, width: usize, lead: &str, text: &str) -> io::Result<()> {
    for line in hanging(lead, lead.chars().count(), &clean(text), width) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn what_was_read(e: &Explanation) -> String {
    let size = if e.input.bytes >= 10 * 1024 {
        format!("{} KiB", e.input.bytes / 1024)
    } else {
        format!("{} bytes", e.input.bytes)
    };
    let mut text = format!("{} lines, {size}", e.input.lines);
    match &e.input.skipped {
        // Within one long line: no line numbers to give.
        Some(s) if s.lines == 0 => text.push_str(&format!(
            "; {} MiB between its head and tail were not read",
            s.bytes / (1024 * 1024)
        )),
        Some(s) => text.push_str(&format!(
            "; lines {}–{} ({} MiB) between its head and tail were not read",
            s.from_line,
            s.from_line + s.lines.saturating_sub(1),
            s.bytes / (1024 * 1024)
        )),
        None => {}
    }
    if let Some(at) = e.input.stopped_at_bytes {
        text.push_str(&format!(
            "; reading stopped at {} MiB, the input not ended",
            at / (1024 * 1024)
        ));
    }
    text
}

pub fn explain_text(e: &Explanation, style: Style, out: &mut dyn Write) -> io::Result<()> {
    for line in wrap(
        &format!("mlcompat explain — {}", clean(&e.input.name)),
        style.width,
    ) {
        writeln!(out, "{}", style.bold(&line))?;
    }
    field(out, style.width, "Read", &what_was_read(e))?;
    let dumps = if e.input.dumps.is_empty() {
        "none".to_string()
    } else {
        e.input.dumps.join(", ")
    };
    field(out, style.width, "Dumps", &dumps)?;
    field(out, style.width, "Facts", &e.input.facts_from)?;
    let m = &e.machine;
    for (label, value) in [
        ("GPU", &m.gpu),
        ("Driver", &m.driver),
        ("OS", &m.os),
        ("Python", &m.python),
    ] {
        if let Some(v) = value {
            field(out, style.width, label, v)?;
        }
    }
    writeln!(out)?;
    if e.matches.is_empty() {
        writeln!(
            out,
            "No known failure matched ({} known failures tried).",
            e.known_failures
        )?;
        for r in &e.ruled_out {
            let text = format!(
                "{} matched the text, but this machine rules it out ({})",
                r.id,
                deciding_text(&r.because)
            );
            for line in wrap(&text, style.width.saturating_sub(2).max(20)) {
                writeln!(out, "  {line}")?;
            }
        }
        for line in wrap(
            "If the log came from a machine mlcompat can see, `mlcompat doctor --deep` there judges what is installed.",
            style.width,
        ) {
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    let count = e.matches.len();
    writeln!(
        out,
        "{}",
        style.bold(&format!(
            "{count} known failure{} found",
            if count == 1 { "" } else { "s" }
        ))
    )?;
    for m in &e.matches {
        writeln!(out)?;
        match_text(m, style, out)?;
    }
    Ok(())
}

fn deciding_text(facts: &[crate::explain::DecidingFact]) -> String {
    facts
        .iter()
        .map(|d| format!("{} = {}", d.fact, clean(&d.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn match_text(m: &FailureMatch, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let status = if m.confirmed {
        Status::Fail
    } else {
        Status::Warn
    };
    let title = format!("{} {}  [{}]", style.symbol(status), clean(&m.title), m.id);
    for line in wrap(&title, style.width) {
        writeln!(out, "{}", style.bold(&line))?;
    }
    labelled(out, style.width, "Cause", &m.cause)?;
    for (i, ev) in m.evidence.iter().enumerate() {
        let label = if i == 0 { "Evidence" } else { "" };
        labelled(
            out,
            style.width,
            label,
            &format!("line {}: {}", ev.line, ev.text),
        )?;
    }
    if m.matched_lines > m.evidence.len() {
        labelled(
            out,
            style.width,
            "",
            &format!("({} matching lines in all)", m.matched_lines),
        )?;
    }
    if !m.facts.is_empty() {
        labelled(
            out,
            style.width,
            "",
            &format!("confirmed by {}", deciding_text(&m.facts)),
        )?;
    }
    if !m.unknown_facts.is_empty() {
        labelled(out, style.width,
            "",
            &format!(
                "not confirmed: the log does not say {} (`--facts FILE` or `--here` adds the machine)",
                m.unknown_facts.join(", ")
            ),
        )?;
    }
    labelled(out, style.width, "Fix", &m.fix)?;
    if m.fix_from == FixFrom::InstallPlan {
        labelled(out, style.width,
            "",
            "(install-plan's steps for this machine; `mlcompat install-plan` lists them with sources)",
        )?;
        for note in &m.fix_notes {
            labelled(out, style.width, "", &format!("note: {note}"))?;
        }
    }
    for (i, r) in m.rows.iter().enumerate() {
        let label = if i == 0 { "Rows" } else { "" };
        let first = format!("   {}  ", pad(label, LABEL));
        writeln!(
            out,
            "{first}{} {} — {}",
            style.symbol(r.status),
            clean(&r.name),
            clean(&r.note)
        )?;
    }
    labelled(
        out,
        style.width,
        "Source",
        &format!(
            "{} (checked {}; --format json quotes them)",
            urls(&m.source).join(" "),
            m.checked
        ),
    )?;
    Ok(())
}

/// The addresses a source cites, in order, each once: enough to find them; JSON has the words.
fn urls(source: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for (at, _) in source.match_indices("https://") {
        let url = source[at..]
            .split(|c: char| c.is_whitespace() || c == '\'' || c == ',' || c == ';')
            .next()
            .unwrap_or_default()
            .trim_end_matches(['.', ')']);
        if !out.contains(&url) {
            out.push(url);
        }
    }
    if out.is_empty() {
        out.push(source);
    }
    out
}

/// Text safe inline in Markdown: what could open a link, an image, HTML, a mention or emphasis is
/// escaped.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clean(text).chars() {
        if "\\`*_[]<>#|@!~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A fenced block that the text cannot close: a fence longer than any run of backticks in it.
fn fenced(out: &mut dyn Write, info: &str, lines: &[String]) -> io::Result<()> {
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    writeln!(out, "{fence}{info}")?;
    for l in lines {
        writeln!(out, "{}", clean(l))?;
    }
    writeln!(out, "{fence}")
}

pub fn explain_markdown(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    if e.matches.is_empty() {
        writeln!(
            out,
            "**mlcompat explain:** no known failure matched ({} tried; read {}).",
            e.known_failures,
            what_was_read(e)
        )?;
        return Ok(());
    }
    for (i, m) in e.matches.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "### {} (`{}`)", md(&m.title), m.id)?;
        writeln!(out)?;
        if !m.confirmed {
            writeln!(
                out,
                "_Matched by the error text; the report does not say {}, which would confirm it._",
                md(&m.unknown_facts.join(", "))
            )?;
            writeln!(out)?;
        }
        writeln!(out, "**Cause.** {}", md(&m.cause))?;
        writeln!(out)?;
        let from = match m.fix_from {
            FixFrom::InstallPlan => "for the machine in this report, from `mlcompat install-plan`",
            FixFrom::Failure => "",
        };
        if from.is_empty() {
            writeln!(out, "**Fix.**")?;
        } else {
            writeln!(out, "**Fix** ({from}):")?;
        }
        writeln!(out)?;
        fenced(out, "", std::slice::from_ref(&m.fix))?;
        for note in &m.fix_notes {
            writeln!(out, "- {}", md(note))?;
        }
        writeln!(out)?;
        writeln!(out, "<details><summary>Evidence</summary>")?;
        writeln!(out)?;
        let lines: Vec<String> = m
            .evidence
            .iter()
            .map(|ev| format!("{}: {}", ev.line, ev.text))
            .collect();
        fenced(out, "text", &lines)?;
        if !m.facts.is_empty() {
            writeln!(out)?;
            writeln!(out, "Confirmed by: {}", md(&deciding_text(&m.facts)))?;
        }
        for r in &m.rows {
            writeln!(
                out,
                "- {} {}: {}",
                Style::default().symbol(r.status),
                md(&r.name),
                md(&r.note)
            )?;
        }
        writeln!(out)?;
        writeln!(out, "</details>")?;
        writeln!(out)?;
        writeln!(out, "Source: {} (checked {})", md(&m.source), m.checked)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "<sub>Generated by `mlcompat explain` from {} known failures.</sub>",
        e.known_failures
    )?;
    Ok(())
}
