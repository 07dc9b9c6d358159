//! Errors that stop a command. Everything else — a missing driver, a Python that hangs — is a fact.
//! All of these are the user's input to fix, and exit with status 2.

use std::fmt;

use crate::yaml::{Loc, Problem};

/// One problem in one file, printed as `file:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    pub file: String,
    pub loc: Option<Loc>,
    pub message: String,
}

impl FileProblem {
    pub(crate) fn new(file: &str, problem: Problem) -> Self {
        FileProblem {
            file: file.to_string(),
            loc: problem.loc,
            message: problem.message,
        }
    }

    pub fn whole(file: &str, message: impl Into<String>) -> Self {
        FileProblem {
            file: file.to_string(),
            loc: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.loc {
            Some(loc) => write!(f, "{}:{}: {}", self.file, loc, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Every problem found in the input files, one per line — the first [`SHOWN_PROBLEMS`] of them.
    #[error("{}", problems_text(.0))]
    Files(Vec<FileProblem>),
    #[error("unknown profile `{}` (known: {known})", capped(name))]
    UnknownProfile { name: String, known: String },
    #[error("{}", capped(.0))]
    Usage(String),
}

/// Problems listed before the rest are counted: a file with 100,000 unknown keys is one screen, not
/// 100,000 lines.
pub const SHOWN_PROBLEMS: usize = 50;
/// The longest message printed whole: an argument of 100 kB is not echoed back whole.
const MESSAGE_MAX: usize = 2000;

fn problems_text(problems: &[FileProblem]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(|p| capped(&p.to_string()))
        .collect();
    if problems.len() > SHOWN_PROBLEMS {
        lines.push(format!(
            "… and {} more problems (the first {SHOWN_PROBLEMS} are shown; fix them and run again)",
            problems.len() - SHOWN_PROBLEMS
        ));
    }
    lines.join("\n")
}

/// `text`, cut at [`MESSAGE_MAX`] characters with the count of the rest.
fn capped(text: &str) -> String {
    let count = text.chars().count();
    if count <= MESSAGE_MAX {
        return text.to_string();
    }
    let head: String = text.chars().take(MESSAGE_MAX).collect();
    format!("{head}… ({} more characters)", count - MESSAGE_MAX)
}

impl InputError {
    pub fn exit_code(&self) -> u8 {
        2
    }

    pub fn file(file: &str, message: impl Into<String>) -> Self {
        InputError::Files(vec![FileProblem::whole(file, message)])
    }
}

impl From<Vec<FileProblem>> for InputError {
    fn from(problems: Vec<FileProblem>) -> Self {
        InputError::Files(problems)
    }
}

/// Largest input file read (a facts file with thousands of packages is well under 1 MiB).
pub const MAX_INPUT_BYTES: u64 = crate::files::MAX_INPUT_BYTES;

/// Reads a text input file (`--facts`, a matrix file) with a clear message for each way it can fail: a
/// FIFO, a device or a folder is refused without blocking, and nothing past the 16 MiB cap is read.
pub fn read_input(path: &std::path::Path) -> Result<String, InputError> {
    // `-` is standard input (`ssh box mlcompat probe | mlcompat doctor --facts -`): asked for by name, so
    // it is read as it comes, through the same cap.
    if path.as_os_str() == "-" {
        let name = "standard input";
        let bytes = crate::files::read_capped(std::io::stdin().lock(), MAX_INPUT_BYTES)
            .map_err(|e| InputError::file(name, e.to_string()))?;
        return String::from_utf8(bytes).map_err(|e| {
            InputError::file(
                name,
                format!(
                    "not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        });
    }
    let name = path.display().to_string();
    crate::files::read_text(path, MAX_INPUT_BYTES, crate::files::Links::Follow)
        .map_err(|e| InputError::file(&name, e.to_string()))
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
