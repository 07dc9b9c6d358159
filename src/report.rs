//! The evaluator's output: plain data that every renderer reads and JSON carries as-is.

use serde::Serialize;

use crate::matrix::{CheckedRange, Status, Support};

pub const REPORT_SCHEMA: &str = "mlcompat.report/1";

#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Default, Serialize)]
pub struct MachineSummary {
    pub id: Option<String>,
    pub name: String,
    /// `profile`, `facts` (a saved file) or `live`.
    pub origin: String,
    pub gpu: Option<String>,
    pub memory: Option<String>,
    pub bandwidth: Option<String>,
    pub driver: Option<String>,
    pub os: Option<String>,
    pub python: Option<String>,
    /// Sections the probe could not read, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: String,
    pub name: String,
    pub category: String,
    pub category_title: String,
    pub status: Status,
    pub support: Support,
    /// Installed version (or library name) when detected.
    pub installed: Option<String>,
    /// A few words for table cells.
    pub note: String,
    pub reason: String,
    pub fix: Option<String>,
    pub source: String,
    /// The rule that decided this row.
    pub rule: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub status: Status,
    /// Software ids this step helps.
    pub software: Vec<String>,
    pub text: String,
}

impl Report {
    /// 0 when nothing fails, 1 when a row fails (or warns, with `strict`).
    pub fn exit_code(&self, strict: bool) -> u8 {
        u8::from(self.summary.fail > 0 || (strict && self.summary.warn > 0))
    }
}
