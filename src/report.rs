//! The evaluator's output: plain data that every renderer reads and JSON carries as-is.

use serde::Serialize;

use crate::matrix::{CheckedRange, RunsOn, Status, Support};

mod summary;
pub use summary::machine_summary;

pub const REPORT_SCHEMA: &str = "mlcompat.report/1";

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub schema: &'static str,
    pub machine: MachineSummary,
    pub summary: Summary,
    pub rows: Vec<Row>,
    pub recommendations: Vec<Recommendation>,
    /// The oldest and newest day the matrix's sources were read: how old this report's knowledge is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix_checked: Option<CheckedRange>,
}

/// What the header shows about the machine; each field is display text, absent when unknown.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct MachineSummary {
    pub id: Option<String>,
    pub name: String,
    /// `profile`, `facts` (a saved file) or `live`.
    pub origin: String,
    /// The host name the probe recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    pub gpu: Option<String>,
    pub memory: Option<String>,
    pub bandwidth: Option<String>,
    pub driver: Option<String>,
    pub os: Option<String>,
    pub python: Option<String>,
    /// Sections the probe could not read, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
    /// What the probe noticed on the way (an interpreter passed over and why, what a pyenv shim selects).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Facts the completion step derived rather than read, fact → where from (`nvidia.cuda_driver` →
    /// "from driver 570.86.10: …").
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub derived: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
    /// The rows that decide the exit status: installed software that fails (or warns, under `--strict`)
    /// and rows named with `--require`. Empty: exit 0.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Problem {
    pub id: String,
    pub status: Status,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Row {
    pub id: String,
    pub name: String,
    pub category: String,
    pub category_title: String,
    pub status: Status,
    pub support: Support,
    /// Installed version (or library name) when detected.
    pub installed: Option<String>,
    /// The matrix knows how to detect this software (a hardware fact such as native FP4 is not installed).
    #[serde(skip)]
    pub detectable: bool,
    /// Named with `--require`.
    pub required: bool,
    /// A few words for table cells.
    pub note: String,
    pub reason: String,
    pub fix: Option<String>,
    /// The deciding rule judged what is installed, so its fix is worth showing even on a ✅ row (a CUDA
    /// torch on a GPU-less box: the CPU wheel saves gigabytes).
    #[serde(skip)]
    pub fix_matters_when_ok: bool,
    pub source: String,
    /// The rule that decided this row (`import-failed` and `requires-<id>` are the evaluator's own).
    pub rule: String,
    /// Where the software computes here: the GPU, or the CPU where no GPU backend applies.
    pub runs_on: RunsOn,
    /// The fact that could not be read, when the row cannot be judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_fact: Option<String>,
    /// What the package printed on import (`doctor --deep`), e.g. torch's unsupported-GPU warning.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// For an installed Python package the matrix knows how to import: whether `--deep` imported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportCheck>,
    /// The known failure (`mlcompat explain` knows it by this id) the deciding rule predicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// What is known of an installed package's import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportCheck {
    /// Judged from its metadata only (a quick `doctor`); `--deep` would import it.
    NotTried,
    Ok,
    Failed,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Recommendation {
    pub status: Status,
    /// Software ids this step helps.
    pub software: Vec<String>,
    pub text: String,
}

impl Report {
    /// 1 when a problem row exists (installed software that fails, or a `--require`d row), else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.summary.problems.is_empty())
    }
}
