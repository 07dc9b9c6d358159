//! `mlcompat explain`: read the log through the cap, take the machine's facts from it (or from the
//! command line), match the known failures, render.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use super::AppError;
use crate::cli::{ExplainArgs, ExplainFormat};
use crate::error::InputError;
use crate::explain::{Log, LogPart};
use crate::facts::Facts;
use crate::matrix::Matrix;
use crate::render::{self, Style};

/// Of the 16 MiB read from a larger log: its start (where environments are printed) and its end (where
/// the error is).
const HEAD_BYTES: usize = 4 * 1024 * 1024;
const TAIL_BYTES: usize = 12 * 1024 * 1024;

pub(super) fn explain(
    matrix: &Matrix,
    args: &ExplainArgs,
    style: Style,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let log = read_log(args.file.as_deref())?;
    let whole: String = log
        .parts
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let (facts, facts_from, dumps) = machine(matrix, args, dump_region(&whole), &log.name)?;
    let explanation = crate::explain::explain(matrix, &log, &facts, &facts_from, dumps);
    match args.format {
        ExplainFormat::Text => render::explain_text(&explanation, style, out)?,
        ExplainFormat::Markdown => render::explain_markdown(&explanation, out)?,
        ExplainFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &explanation).map_err(io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(explanation.exit_code())
}

/// Where environment dumps are looked for in a long log: its first and last MiB, where a program prints
/// its environment and a reporter pastes theirs (the error lines are searched in all of what was read).
pub(crate) fn dump_region(text: &str) -> std::borrow::Cow<'_, str> {
    const EDGE: usize = 1024 * 1024;
    if text.len() <= 2 * EDGE {
        return std::borrow::Cow::Borrowed(text);
    }
    // Cut at line breaks, which are never inside a character.
    let head_end = text.as_bytes()[..EDGE]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let from = text.len() - EDGE;
    let tail_start = text.as_bytes()[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| from + i + 1);
    std::borrow::Cow::Owned(format!("{}\n{}", &text[..head_end], &text[tail_start..]))
}

/// The log: a file, or standard input for `-` or no file.
fn read_log(path: Option<&Path>) -> Result<Log, InputError> {
    let (name, excerpt) = match path {
        None => read_stdin()?,
        Some(p) if p.as_os_str() == "-" => read_stdin()?,
        Some(p) => {
            let name = p.display().to_string();
            let file = crate::files::open_regular(p, crate::files::Links::Follow)
                .map_err(|e| InputError::file(&name, e.to_string()))?;
            let excerpt = crate::files::read_excerpt(
                file,
                HEAD_BYTES,
                TAIL_BYTES,
                crate::files::MAX_LOG_READ,
            )
            .map_err(|e| InputError::file(&name, e.to_string()))?;
            (name, excerpt)
        }
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let lines_in = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count() as u64;
    let head_lines = lines_in(&excerpt.head);
    let mut parts = vec![LogPart {
        first_line: 1,
        text: text(&excerpt.head),
    }];
    if !excerpt.tail.is_empty() {
        parts.push(LogPart {
            first_line: head_lines + excerpt.skipped_lines + 1,
            text: text(&excerpt.tail),
        });
    }
    let all_lines = head_lines + excerpt.skipped_lines + lines_in(&excerpt.tail);
    let ends_open = excerpt
        .tail
        .last()
        .or(excerpt.head.last())
        .is_some_and(|&c| c != b'\n');
    Ok(Log {
        name,
        parts,
        bytes: excerpt.total,
        lines: all_lines + u64::from(ends_open),
        skipped_bytes: excerpt.skipped_bytes,
        skipped_lines: excerpt.skipped_lines,
        unfinished: excerpt.unfinished,
    })
}

fn read_stdin() -> Result<(String, crate::files::Excerpt), InputError> {
    let name = "standard input".to_string();
    if io::stdin().is_terminal() {
        crate::terminal::to_stderr(
            "mlcompat explain: paste the log, then press Ctrl-D (or give a file: mlcompat explain FILE)",
        );
    }
    let excerpt = crate::files::read_excerpt(
        io::stdin().lock(),
        HEAD_BYTES,
        TAIL_BYTES,
        crate::files::MAX_LOG_READ,
    )
    .map_err(|e| InputError::file(&name, e.to_string()))?;
    Ok((name, excerpt))
}

/// The machine the log came from: named on the command line, else what the log's dumps say (completed
/// like every command's facts), else nothing known.
fn machine(
    matrix: &Matrix,
    args: &ExplainArgs,
    text: std::borrow::Cow<'_, str>,
    name: &str,
) -> Result<(Facts, String, Vec<String>), InputError> {
    let text = text.as_ref();
    if let Some(id) = &args.profile {
        return Ok((
            matrix.profile(id)?.facts.clone(),
            format!("profile {id}"),
            Vec::new(),
        ));
    }
    if let Some(path) = &args.facts {
        let facts = super::fleet::read_facts_file(matrix, path)?;
        return Ok((facts, format!("facts file {}", path.display()), Vec::new()));
    }
    if args.here {
        let flags = crate::cli::ProbeFlags {
            python: None,
            deep: false,
            timeout: 5.0,
            import_timeout: 60.0,
            no_cache: false,
            gpu_timeout: 120.0,
        };
        let mut options = super::probe_options(&flags)?;
        options.imports = Vec::new();
        let mut facts = crate::probe::probe(&options);
        crate::matrix::complete::complete(matrix, &mut facts);
        return Ok((facts, "this machine (probed)".into(), Vec::new()));
    }
    Ok(machine_in_log(matrix, text, name))
}

/// The machine a log describes: its environment dumps, else the OS its file paths name, completed like
/// every command's facts. Also what the `explain` fuzz target runs.
pub(crate) fn machine_in_log(
    matrix: &Matrix,
    text: &str,
    name: &str,
) -> (Facts, String, Vec<String>) {
    let stem = Path::new(name)
        .file_stem()
        .map_or_else(|| "log".to_string(), |s| s.to_string_lossy().into_owned());
    let mut dumps = Vec::new();
    let (mut facts, mut from) = match crate::facts::dumps::facts_and_kinds(text, &stem) {
        Some((facts, kinds)) => {
            dumps = kinds.iter().map(|k| k.as_str().to_string()).collect();
            (facts, "the log's environment dumps".to_string())
        }
        None => {
            let mut facts = Facts::default();
            facts.machine = Some(crate::facts::Machine {
                id: stem.clone(),
                name: format!("{stem} (no environment dump in it)"),
                kind: crate::facts::MachineKind::Saved,
                ..crate::facts::Machine::default()
            });
            (facts, "none: the log holds no environment dump".to_string())
        }
    };
    // A traceback's paths say which OS it ran on (C:\Users\…, /Users/…), where no dump did; the dump
    // readers do the same when there is a dump.
    if facts.host.os.is_none() {
        if let Some(os) = crate::facts::dumps::os_from_paths(text) {
            facts.host.os = Some(os);
            facts
                .derived
                .insert("os".into(), "from the file paths in the paste".into());
        }
    }
    if facts.derived.contains_key("os") && facts.derived["os"].contains("file paths") {
        from.push_str("; the OS from its file paths");
    }
    crate::matrix::complete::complete(matrix, &mut facts);
    (facts, from, dumps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dump_region_of_a_long_log_is_its_edges_in_whole_lines() {
        // Multi-byte characters across every cut.
        let line = "é".repeat(1000) + "\n";
        let text = line.repeat(2000);
        let region = dump_region(&text);
        assert!(region.len() < text.len() && region.len() > 1024 * 1024);
        assert!(region
            .split('\n')
            .all(|l| l.is_empty() || l == "é".repeat(1000)));
        let short = "a\nb\n";
        assert!(matches!(dump_region(short), std::borrow::Cow::Borrowed(_)));
    }
}
