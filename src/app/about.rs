//! What mlcompat says about itself: shell completions (clap_complete), man pages (clap_mangen) and the
//! JSON Schemas of its outputs.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use super::AppError;
use crate::cli::{Cli, CompletionShell};
use crate::error::InputError;
use crate::matrix::Matrix;
use crate::schema;

pub(crate) fn completions(
    shell: CompletionShell,
    matrix: &Matrix,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    use clap_complete::Shell;
    let generator = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut command = with_known_names(Cli::command(), &known_names(matrix));
    let mut buffer = Vec::new();
    clap_complete::generate(generator, &mut command, "mlcompat", &mut buffer);
    let script = String::from_utf8_lossy(&buffer);
    let script = without_hidden(&script, shell, &hidden_longs(&command));
    let script = match shell {
        CompletionShell::Fish => with_fish_positionals(&script, &command),
        _ => script,
    };
    out.write_all(script.as_bytes())?;
    Ok(0)
}

/// The names each kind of argument takes, from the matrix: what completion offers instead of files.
fn known_names(matrix: &Matrix) -> Vec<(&'static str, Vec<String>)> {
    let ids = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<String>>();
    let profiles = ids(&mut matrix.profiles.iter().map(|p| p.id.clone()));
    let software = ids(&mut matrix.software.iter().map(|s| s.id.clone()));
    let mut workloads = ids(&mut matrix.workloads.workloads.iter().map(|w| w.id.clone()));
    workloads.push("all".into());
    let models = ids(&mut matrix.workloads.models.iter().map(|m| m.id.clone()));
    let quants = ids(&mut matrix.workloads.quants.iter().map(|q| q.id.clone()));
    let engines = ids(&mut matrix.workloads.engines.iter().map(|e| e.id.clone()));
    let mut schemas: Vec<String> = schema::SCHEMAS.iter().map(|s| s.name.to_string()).collect();
    schemas.push("list".into());
    vec![
        ("profile", profiles.clone()),
        ("profiles", profiles.clone()),
        ("a", profiles.clone()),
        ("b", profiles),
        ("require", software.clone()),
        ("ids", software),
        ("workloads", workloads),
        ("model", models),
        ("quant", quants),
        ("engine", engines),
        ("name", schemas),
    ]
}

/// The command with every argument whose id is in `names` offering those values (for the completion
/// scripts only: this command never parses).
fn with_known_names(
    mut command: clap::Command,
    names: &[(&'static str, Vec<String>)],
) -> clap::Command {
    let ids: Vec<String> = command
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for (id, values) in names {
        if ids.iter().any(|i| i == id) {
            let values = values.clone();
            command = command.mut_arg(*id, move |a| {
                a.value_parser(clap::builder::PossibleValuesParser::new(values))
            });
        }
    }
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in subcommands {
        command = command.mut_subcommand(name, |c| with_known_names(c, names));
    }
    command
}

/// Long flags of hidden arguments, anywhere in the command tree (internal: never completed).
fn hidden_longs(command: &clap::Command) -> Vec<String> {
    let mut out: Vec<String> = command
        .get_arguments()
        .filter(|a| a.is_hide_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    for c in command.get_subcommands() {
        out.extend(hidden_longs(c));
    }
    out.sort();
    out.dedup();
    out
}

/// The script without the hidden flags: clap_complete writes them in all four shells.
fn without_hidden(script: &str, shell: CompletionShell, hidden: &[String]) -> String {
    let mut out = String::with_capacity(script.len());
    let mut skip = 0usize;
    for line in script.split_inclusive('\n') {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        let trimmed = line.trim();
        let names_hidden = |flag: &String| match shell {
            // `--gpu-worker)` opens a four-line case branch.
            CompletionShell::Bash => trimmed == format!("{flag})"),
            CompletionShell::Zsh => {
                trimmed.starts_with(&format!("'{flag}="))
                    || trimmed.starts_with(&format!("'*{flag}="))
                    || trimmed.starts_with(&format!("'{flag}["))
            }
            CompletionShell::Fish => line.contains(&format!(" -l {} ", &flag[2..])),
            CompletionShell::Powershell => line.contains(&format!("::new('{flag}'")),
        };
        if hidden.iter().any(names_hidden) {
            if shell == CompletionShell::Bash {
                skip = 3;
            }
            continue;
        }
        if shell == CompletionShell::Bash && trimmed.starts_with("opts=\"") {
            let mut kept = line.to_string();
            for flag in hidden {
                kept = kept.replace(&format!(" {flag} "), " ");
            }
            out.push_str(&kept);
            continue;
        }
        out.push_str(line);
    }
    out
}

/// Fish offers files for a positional argument unless told what it takes: each subcommand's positional
/// values (`list software`, `completions fish`, `check all`) with `-f`, files left off.
fn with_fish_positionals(script: &str, command: &clap::Command) -> String {
    let mut out = script.to_string();
    for sub in command.get_subcommands() {
        for arg in sub.get_positionals() {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if values.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "complete -c mlcompat -n \"__fish_mlcompat_using_subcommand {}\" -f -a \"{}\"\n",
                sub.get_name(),
                values.join(" ")
            ));
        }
    }
    out
}

/// `mlcompat.1` on stdout, or every page (`mlcompat.1`, `mlcompat-doctor.1`, …) written into `dir`.
pub(crate) fn man(dir: Option<&Path>, out: &mut dyn Write) -> Result<u8, AppError> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    match dir {
        None => out.write_all(&man_page(&command)?)?,
        Some(dir) => {
            if !dir.is_dir() {
                return Err(
                    InputError::Usage(format!("--dir {}: not a folder", dir.display())).into(),
                );
            }
            write_pages(&command, dir)?;
            writeln!(out, "man pages written to {}", dir.display())?;
        }
    }
    Ok(0)
}

/// One page per command and subcommand (`mlcompat.1`, `mlcompat-doctor.1`, …), as clap_mangen names them.
fn write_pages(command: &clap::Command, dir: &Path) -> std::io::Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    let name = clap_mangen::Man::new(command.clone()).get_filename();
    std::fs::write(dir.join(name), man_page(command)?)
}

/// A page: clap_mangen's sections, with the exit codes of `--help` as an EXIT STATUS section (man-pages(7)
/// order) where clap_mangen would print them under EXTRA.
fn man_page(command: &clap::Command) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    if command.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut page)?;
    }
    let codes = command
        .get_after_help()
        .map(|h| exit_codes(&h.to_string()))
        .unwrap_or_default();
    if !codes.is_empty() {
        use clap_mangen::roff::{bold, roman, Roff};
        let mut roff = Roff::default();
        roff.control("SH", ["EXIT STATUS"]);
        for (code, meaning) in &codes {
            roff.control("TP", []);
            roff.text([bold(code.to_string())]);
            roff.text([roman(meaning.as_str())]);
        }
        roff.to_writer(&mut page)?;
    }
    if command.get_version().is_some() {
        man.render_version_section(&mut page)?;
    }
    Ok(page)
}

/// The exit codes of an `after_help` text in the house layout (`Exit status…:`, then `  N  meaning`
/// lines, continued by lines indented five spaces): the one table `--help` and the man pages print.
pub(crate) fn exit_codes(help: &str) -> Vec<(u8, String)> {
    let mut codes: Vec<(u8, String)> = Vec::new();
    for line in help.lines() {
        let body = line.strip_prefix("  ");
        let code = body.and_then(|b| {
            let (n, rest) = b.split_once("  ")?;
            Some((n.trim().parse::<u8>().ok()?, rest))
        });
        match (code, line.strip_prefix("     ")) {
            (Some((n, rest)), _) => codes.push((n, rest.trim().to_string())),
            (None, Some(more)) => {
                if let Some(last) = codes.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(more.trim());
                }
            }
            _ => {}
        }
    }
    codes
}

pub(crate) fn schema_cmd(name: &str, out: &mut dyn Write) -> Result<u8, AppError> {
    if name == "list" {
        for s in schema::SCHEMAS {
            writeln!(out, "{:<10} {:<22} {}", s.name, s.id, s.printed_by)?;
        }
        return Ok(0);
    }
    let info = schema::find(name).ok_or_else(|| {
        let known: Vec<&str> = schema::SCHEMAS.iter().map(|s| s.name).collect();
        InputError::Usage(format!(
            "unknown schema `{name}` (known: {}, or list)",
            known.join(", ")
        ))
    })?;
    out.write_all(schema::schema_text(info).as_bytes())?;
    Ok(0)
}
