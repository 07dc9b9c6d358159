//! `mlcompat install-plan`: the machine, what was resolved, the preconditions, the numbered steps (each
//! with why and where that comes from), then notes and alternatives; or, when nothing fits, the
//! blockers with their sources and the alternatives.

use std::io::{self, Write};

use super::text::{clean, hanging, pad, wrap, Style};
use crate::matrix::Status;
use crate::plan::Plan;

/// The first address in a source, or its first words: enough to find it; JSON has all of it.
fn short_source(source: &str) -> String {
    let first = source.split(" | ").next().unwrap_or(source);
    match first.find("https://") {
        Some(at) => first[at..]
            .split([' ', ',', ';', '\''])
            .next()
            .unwrap_or_default()
            .to_string(),
        None => {
            let head = first.split(": ").next().unwrap_or(first);
            if head.chars().count() > 90 {
                head.chars().take(89).chain(['…']).collect()
            } else {
                head.to_string()
            }
        }
    }
}

/// `text` after `first`, continued under it.
fn wrapped(out: &mut dyn Write, width: usize, first: &str, text: &str) -> io::Result<()> {
    for line in hanging(first, first.chars().count(), &clean(text), width) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `command` in lines of at most `width` columns, each but the last ending in ` \` (a shell line
/// continuation), broken only at spaces outside quotes; a word longer than a line stays whole.
fn shell_lines(command: &str, width: usize) -> Vec<String> {
    if command.chars().count() <= width {
        return vec![command.to_string()];
    }
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (None, ' ') => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    let room = width.saturating_sub(2).max(20);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for w in words {
        if !line.is_empty() && line.chars().count() + 1 + w.chars().count() > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&w);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    let last = lines.len().saturating_sub(1);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| if i < last { format!("{l} \\") } else { l })
        .collect()
}

pub fn plan_text(plan: &Plan, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let m = &plan.machine;
    let title = match &m.id {
        Some(id) if m.origin == "profile" => format!("{} (profile {id})", m.name),
        _ => m.name.clone(),
    };
    let heading = format!(
        "mlcompat install-plan {} — {}",
        plan.request.join(" "),
        clean(&title)
    );
    for line in wrap(&heading, style.width) {
        writeln!(out, "{}", style.bold(&line))?;
    }
    let unknown = "unknown".to_string();
    let python = match (&plan.python.have, &plan.python.need) {
        (Some(have), Some(need)) => format!("{have} (these wheels need {need})"),
        (Some(have), None) => have.clone(),
        (None, Some(need)) => format!("not known here (these wheels need {need})"),
        (None, None) => m.python.clone().unwrap_or_else(|| unknown.clone()),
    };
    for (label, value) in [
        ("GPU", m.gpu.clone().unwrap_or_else(|| unknown.clone())),
        (
            "Driver",
            m.driver.clone().unwrap_or_else(|| unknown.clone()),
        ),
        ("OS", m.os.clone().unwrap_or_else(|| unknown.clone())),
        ("Python", python),
    ] {
        wrapped(out, style.width, &format!("  {}  ", pad(label, 7)), &value)?;
    }
    writeln!(out)?;
    let (status, verdict) = if !plan.possible {
        (Status::Fail, "no consistent set fits this machine")
    } else if plan.resolved.is_empty() && !plan.not_planned.is_empty() {
        (
            Status::Warn,
            "not planned here: no release data (not impossible)",
        )
    } else if plan.preconditions.is_empty() {
        (Status::Ok, "ready to install")
    } else {
        (Status::Warn, "possible after the preconditions below")
    };
    writeln!(
        out,
        "{} {verdict}",
        style.paint(status, style.symbol(status))
    )?;
    if !plan.resolved.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Resolved"))?;
        let id_w = plan.resolved.keys().map(|k| k.len()).max().unwrap_or(0);
        let ver_w = plan
            .resolved
            .values()
            .map(|r| r.version.chars().count())
            .max()
            .unwrap_or(0);
        for (id, r) in &plan.resolved {
            let what = match (&r.cuda, r.accelerator) {
                (Some(cuda), "cuda") => format!("{}, CUDA {cuda}, {}", r.variant, r.method),
                (_, "cpu") if r.variant != "cpu" => {
                    format!("{}, {}, runs on the CPU", r.variant, r.method)
                }
                _ => format!("{}, {}", r.variant, r.method),
            };
            let pinned = if r.requested {
                ""
            } else {
                "  (pinned by the above)"
            };
            writeln!(
                out,
                "  {}  {}  {what}{pinned}",
                pad(id, id_w),
                pad(&r.version, ver_w)
            )?;
        }
    }
    if !plan.not_planned.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Not planned here"))?;
        for n in &plan.not_planned {
            let install = n
                .install
                .as_ref()
                .map(|i| format!(" Installed as usual: {i}; then `mlcompat doctor --deep --require {}` judges it.", n.id))
                .unwrap_or_default();
            wrapped(
                out,
                style.width,
                "  - ",
                &format!("{}: {}.{install}", n.id, n.why),
            )?;
        }
    }
    if !plan.preconditions.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Before you install"))?;
        for p in &plan.preconditions {
            wrapped(
                out,
                style.width,
                "  - ",
                &format!("{}: needs {}; this machine: {}", p.kind, p.need, p.have),
            )?;
        }
    }
    if !plan.steps.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Steps"))?;
        for (i, step) in plan.steps.iter().enumerate() {
            let number = format!("  {}. ", i + 1);
            let indent = " ".repeat(number.chars().count());
            // A command longer than the line is continued with ` \` at spaces outside quotes: it still
            // pastes into a shell as one command.
            for (j, line) in shell_lines(
                &clean(&step.command),
                style.width.saturating_sub(number.len()),
            )
            .iter()
            .enumerate()
            {
                writeln!(out, "{}{line}", if j == 0 { &number } else { &indent })?;
            }
            if !step.why.is_empty() {
                wrapped(out, style.width, &format!("{indent}why: "), &step.why)?;
            }
            if !step.source.is_empty() {
                let source = format!("source: {}", clean(&short_source(&step.source)));
                for line in wrap(&source, style.width.saturating_sub(indent.len()).max(20)) {
                    writeln!(out, "{indent}{}", style.dim(&line))?;
                }
            }
        }
    }
    if !plan.blockers.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Why not"))?;
        for b in &plan.blockers {
            wrapped(out, style.width, "  - ", &b.constraint)?;
            if !b.source.is_empty() {
                writeln!(
                    out,
                    "    {}",
                    style.dim(&format!("source: {}", clean(&short_source(&b.source))))
                )?;
            }
        }
    }
    if !plan.notes.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Notes"))?;
        for n in &plan.notes {
            wrapped(out, style.width, "  - ", n)?;
        }
    }
    if !plan.alternatives.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Alternatives"))?;
        for a in &plan.alternatives {
            wrapped(out, style.width, "  - ", &a.text)?;
        }
    }
    writeln!(out)?;
    let footer = format!(
        "Release data checked {}; `--format json` has every source in full.",
        plan.data_checked
    );
    for line in wrap(&footer, style.width) {
        writeln!(out, "{}", style.dim(&line))?;
    }
    Ok(())
}

pub fn plan_json(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, plan)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_shorten_to_their_address() {
        assert_eq!(
            short_source("PyPI x.whl: Requires-Dist y | https://a.example/b — words"),
            "PyPI x.whl"
        );
        assert_eq!(
            short_source("https://github.com/x/y/blob/main/README.md — 'quote'"),
            "https://github.com/x/y/blob/main/README.md"
        );
        assert_eq!(clean("a\u{1b}[31mb\nc"), "a\\u001b[31mb\\u000ac");
    }
}
