//! What mlcompat says about itself: shell completions (clap_complete), man pages (clap_mangen) and the
//! JSON Schemas of its outputs.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use super::AppError;
use crate::cli::{Cli, CompletionShell};
use crate::error::InputError;
use crate::schema;

pub(crate) fn completions(shell: CompletionShell, out: &mut dyn Write) -> Result<u8, AppError> {
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut command = Cli::command();
    let mut buffer = Vec::new();
    clap_complete::generate(shell, &mut command, "mlcompat", &mut buffer);
    out.write_all(&buffer)?;
    Ok(0)
}

/// `mlcompat.1` on stdout, or every page (`mlcompat.1`, `mlcompat-doctor.1`, …) written into `dir`.
pub(crate) fn man(dir: Option<&Path>, out: &mut dyn Write) -> Result<u8, AppError> {
    let command = Cli::command();
    match dir {
        None => {
            let mut buffer = Vec::new();
            clap_mangen::Man::new(command).render(&mut buffer)?;
            out.write_all(&buffer)?;
        }
        Some(dir) => {
            if !dir.is_dir() {
                return Err(
                    InputError::Usage(format!("--dir {}: not a folder", dir.display())).into(),
                );
            }
            clap_mangen::generate_to(command, dir)?;
            writeln!(out, "man pages written to {}", dir.display())?;
        }
    }
    Ok(0)
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
