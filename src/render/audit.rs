//! `mlcompat matrix audit`: one line per finding (`file:line:col: kind: subject: message`), then a summary.

use std::io::{self, Write};

use serde::Serialize;

use crate::matrix::audit::{AuditOptions, Finding, FindingKind};

pub const AUDIT_SCHEMA: &str = "mlcompat.audit/1";

pub fn audit_text(
    findings: &[Finding],
    options: AuditOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    for f in findings {
        let at = match (f.line, f.column) {
            (Some(line), Some(col)) => format!("{}:{line}:{col}", printable(&f.file)),
            _ => printable(&f.file),
        };
        writeln!(
            out,
            "{at}: {}: {}: {}",
            f.kind.as_str(),
            printable(&f.subject),
            printable(&f.message)
        )?;
    }
    let count = |kind| findings.iter().filter(|f| f.kind == kind).count();
    if findings.is_empty() {
        writeln!(
            out,
            "matrix audit: nothing listed (as of {}, limit {} days)",
            options.today, options.older_than_days
        )
    } else {
        writeln!(
            out,
            "matrix audit: {} listed — {} stale, {} not specific, {} outdated version, {} release data (as of {}, limit {} days)",
            findings.len(),
            count(FindingKind::Stale),
            count(FindingKind::NotSpecific),
            count(FindingKind::OutdatedVersion),
            count(FindingKind::ReleaseData),
            options.today,
            options.older_than_days
        )
    }
}

/// Matrix text comes from files the user points at: control characters (an escape sequence in a source)
/// are shown escaped, never sent to the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct AuditJson<'a> {
    pub schema: &'static str,
    /// The day the ages are counted to.
    pub today: String,
    pub older_than_days: u32,
    pub findings: &'a [Finding],
}

pub fn audit_json(
    findings: &[Finding],
    options: AuditOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let doc = AuditJson {
        schema: AUDIT_SCHEMA,
        today: options.today.to_string(),
        older_than_days: options.older_than_days,
        findings,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\nc");
        assert_eq!(printable("CUDA 13 — 580"), "CUDA 13 — 580");
    }
}
