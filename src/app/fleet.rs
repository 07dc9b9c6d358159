//! Many machines: facts files of every kind (`mlcompat probe` JSON or YAML, collect-env and nvidia-smi
//! dumps) read as machines, `table` over saved facts and profiles, and `compare` over either.

use std::io::Write;
use std::path::Path;

use super::AppError;
use crate::cli::{TableArgs, TableFormat};
use crate::error::{read_input, InputError};
use crate::facts::dumps::{facts_from_dump, RECOGNIZED};
use crate::facts::load::{facts_from_text, looks_like_facts};
use crate::facts::{Facts, Machine, MachineKind, FACTS_SCHEMA};
use crate::matrix::Matrix;
use crate::render::{self, Grid, Style};

/// The reference profiles that `table` shows when it is given no machine.
const DEFAULT_PROFILES: &[&str] = &["dgx-spark", "mac-studio-m3-ultra"];

/// A facts file: a dump pasted from a bug report (detected by its content), else mlcompat's own JSON or
/// YAML facts — then completed (`matrix::complete`), as every command reads facts. Text that is neither
/// gets one line saying what mlcompat reads, not a YAML parser's complaint about a paste it was never
/// meant to parse.
pub fn read_facts_file(matrix: &Matrix, path: &Path) -> Result<Facts, InputError> {
    let text = read_input(path)?;
    let name = path.display().to_string();
    let mut facts = match facts_from_dump(&text, &file_stem(path)) {
        Some(facts) => facts,
        // An empty file is told so by the facts reader.
        None if text.trim().is_empty() || looks_like_facts(&text) => facts_from_text(&name, &text)?,
        None => {
            return Err(InputError::file(
                &name,
                format!(
                    "neither a facts file (JSON or YAML with `schema: {FACTS_SCHEMA}`) nor a dump mlcompat \
                     reads ({RECOGNIZED})"
                ),
            ))
        }
    };
    crate::matrix::complete::complete(matrix, &mut facts);
    Ok(facts)
}

/// A machine named on the command line: a reference profile id, else a facts file.
pub(crate) fn machine(matrix: &Matrix, arg: &str) -> Result<Facts, InputError> {
    if let Some(profile) = matrix.profile_by_id(arg) {
        return Ok(profile.facts.clone());
    }
    // A facts file by that name comes before a profile the name might mean.
    let path = Path::new(arg);
    if path.exists() {
        return Ok(named_after_file(read_facts_file(matrix, path)?, path));
    }
    match matrix.profile(arg) {
        Ok(profile) => Ok(profile.facts.clone()),
        Err(InputError::UnknownProfile { .. }) => Err(InputError::Usage(format!(
            "unknown profile `{arg}`, and no facts file by that name (profiles: {})",
            matrix.profile_ids().join(", ")
        ))),
        Err(e) => Err(e),
    }
}

/// Facts from `mlcompat probe` call themselves "this machine": in a fleet every column would. A name the
/// file gives (`machine.name`) stands; else the host name `probe` recorded, else the file's name
/// (`gpu-node-3.json` → `gpu-node-3`) tells them apart.
fn named_after_file(mut facts: Facts, path: &Path) -> Facts {
    let generic = facts
        .machine
        .as_ref()
        .is_none_or(|m| m.name.trim().is_empty() || m.name == crate::facts::THIS_MACHINE);
    let live = facts
        .machine
        .as_ref()
        .is_none_or(|m| m.kind == MachineKind::Live);
    if generic || live {
        let name = match (generic, &facts.host.hostname) {
            (false, _) => facts
                .machine
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default(),
            (true, Some(host)) => host.clone(),
            (true, None) => file_stem(path),
        };
        let machine = facts.machine.get_or_insert_with(Machine::default);
        machine.id = name.clone();
        machine.name = name;
        machine.kind = MachineKind::Saved;
    }
    facts
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| path.display().to_string())
}

pub(crate) fn table(
    matrix: &Matrix,
    args: &TableArgs,
    style: Style,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let mut machines: Vec<Facts> = Vec::new();
    for path in &args.facts {
        machines.push(named_after_file(read_facts_file(matrix, path)?, path));
    }
    let named: Vec<&String> = args
        .profiles
        .iter()
        .filter(|p| !p.trim().is_empty())
        .collect();
    if !args.profiles.is_empty() && named.is_empty() {
        return Err(InputError::Usage(
            "--profiles: no profile named (`mlcompat list profiles` lists them)".into(),
        )
        .into());
    }
    let profiles: Vec<String> = if args.profiles.is_empty() && args.facts.is_empty() {
        DEFAULT_PROFILES.iter().map(|s| s.to_string()).collect()
    } else {
        named.into_iter().cloned().collect()
    };
    for id in profiles.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        machines.push(matrix.profile(id)?.facts.clone());
    }
    let reports: Vec<_> = machines
        .iter()
        .map(|f| crate::eval::evaluate(matrix, f))
        .collect();
    let grid = Grid::from_reports(&reports);
    match args.format {
        // A table piped to a file keeps all its columns (it is read in an editor or a doc, not a
        // terminal); on a terminal or with COLUMNS it fits.
        TableFormat::Table => {
            let width = if style.width_known {
                style.width
            } else {
                usize::MAX
            };
            render::grid_text_fit(&grid, style, width, out)?
        }
        TableFormat::Markdown => render::grid_markdown(&grid, style, out)?,
        TableFormat::Html => render::grid_html(&grid, out)?,
        TableFormat::Json => render::grid_json(&grid, out)?,
    }
    Ok(0)
}
