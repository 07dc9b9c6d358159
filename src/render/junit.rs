//! `doctor --format junit`: JUnit XML, one test case per software row, for the test reporters of GitLab,
//! Jenkins and GitHub Actions.
//!
//! The structure follows the JUnit schema those tools read (Jenkins xunit-plugin `junit-10.xsd`):
//! `<testsuites name tests failures errors>` holding one `<testsuite name tests failures errors
//! skipped>` with `<properties>` and `<testcase name classname>`, whose children are `<failure>`,
//! `<skipped>` and `<system-out>`.
//!
//! A test case fails exactly when its row is in `summary.problems` — the rows that make `doctor` exit 1
//! (installed software that fails; a `--require`d row that fails or is missing; with `--strict`, such
//! rows that warn). The report and the exit status never disagree: Jenkins marks a build unstable for
//! any failed test, and a Mac should not go unstable because TensorRT-LLM needs an NVIDIA GPU. Every
//! other row that is not ✅ is skipped, with its verdict and reason as the message.

use std::fmt::Write as _;

use crate::matrix::Status;
use crate::report::Report;

/// When the report was made and how long it took: the `timestamp` and `time` strict JUnit schemas require.
#[derive(Debug, Clone, Copy)]
pub struct RunTime {
    /// Seconds since 1970-01-01 UTC.
    pub started_unix_s: u64,
    pub seconds: f64,
}

/// `2026-12-04T18:50:07`: ISO 8601 in UTC without a zone, as the Ant JUnit schema's `timestamp` wants.
fn iso8601(unix_s: u64) -> String {
    let days = i64::try_from(unix_s / 86_400).unwrap_or(0);
    let day = crate::matrix::Day::from_days_since_epoch(days);
    let rest = unix_s % 86_400;
    format!(
        "{day}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

pub fn junit_xml(report: &Report, run: RunTime) -> String {
    let problem = |id: &str| report.summary.problems.iter().find(|p| p.id == id);
    let tests = report.rows.len();
    let failures = report
        .rows
        .iter()
        .filter(|r| problem(&r.id).is_some())
        .count();
    let skipped = report
        .rows
        .iter()
        .filter(|r| r.status != Status::Ok && problem(&r.id).is_none())
        .count();
    let m = &report.machine;
    let suite = format!("mlcompat doctor: {}", m.name);
    let mut out = String::new();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let time = format!("{:.3}", run.seconds.max(0.0));
    let timestamp = iso8601(run.started_unix_s);
    // A reference profile or a saved file is named by itself; a live run by the host it ran on.
    let hostname = m
        .hostname
        .clone()
        .or_else(|| m.id.clone())
        .unwrap_or_else(|| "localhost".to_string());
    let _ = writeln!(
        out,
        r#"<testsuites name="mlcompat" tests="{tests}" failures="{failures}" errors="0" time="{time}">"#
    );
    let _ = writeln!(
        out,
        r#"  <testsuite name="{}" package="mlcompat" id="0" hostname="{}" timestamp="{timestamp}" time="{time}" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}">"#,
        attr(&suite),
        attr(&hostname)
    );
    let _ = writeln!(out, "    <properties>");
    let mut property = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            let _ = writeln!(
                out,
                r#"      <property name="{}" value="{}"/>"#,
                attr(name),
                attr(v)
            );
        }
    };
    property("mlcompat.version", Some(env!("CARGO_PKG_VERSION")));
    let checked = report
        .matrix_checked
        .map(|r| format!("{} to {}", r.oldest, r.newest));
    property("matrix.checked", checked.as_deref());
    property("machine", Some(&m.name));
    property("machine.origin", Some(&m.origin));
    property("gpu", m.gpu.as_deref());
    property("memory", m.memory.as_deref());
    property("driver", m.driver.as_deref());
    property("os", m.os.as_deref());
    property("python", m.python.as_deref());
    // Required rows are named here, not in the test names: a test keeps its identity in CI history
    // whether or not a run requires it.
    let required: Vec<&str> = report
        .rows
        .iter()
        .filter(|r| r.required)
        .map(|r| r.id.as_str())
        .collect();
    if !required.is_empty() {
        property("mlcompat.required", Some(&required.join(",")));
    }
    let _ = writeln!(out, "    </properties>");
    for row in &report.rows {
        let name = format!("{} ({})", row.name, row.id);
        let _ = write!(
            out,
            r#"    <testcase name="{}" classname="mlcompat.{}" time="0""#,
            attr(&name),
            attr(&row.category)
        );
        let verdict = match row.status {
            Status::Ok => "OK",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        // Each field one line (a facts file's text may hold line breaks): the lines here are the report's.
        let line = |s: &str| crate::untrusted::one_line(s).into_owned();
        let mut details = format!("{verdict}: {}", line(&row.reason));
        if let Some(fix) = row.fix.as_ref().filter(|_| row.status != Status::Ok) {
            details.push_str(&format!("\nfix: {}", line(fix)));
        }
        details.push_str(&format!("\nsource: {}", row.source));
        let mut body = String::new();
        if let Some(p) = problem(&row.id) {
            let _ = writeln!(
                body,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                verdict.to_ascii_lowercase(),
                attr(&p.why),
                text(&details)
            );
        } else if row.status != Status::Ok {
            let why = match (row.installed.is_some(), row.required) {
                (true, true) => "installed, required",
                (true, false) => "installed",
                (false, true) => "not installed, required",
                (false, false) => "not installed, not required",
            };
            let _ = writeln!(
                body,
                r#"      <skipped message="{}"/>"#,
                attr(&format!("{verdict} ({why}): {}", row.note))
            );
            let _ = writeln!(body, "      <system-out>{}</system-out>", text(&details));
        }
        let mut out_lines = Vec::new();
        if let Some(installed) = &row.installed {
            out_lines.push(format!("installed: {}", line(installed)));
        }
        for w in &row.warnings {
            out_lines.push(format!("warns on import: {}", line(w)));
        }
        if !out_lines.is_empty() && !body.contains("<system-out>") {
            let _ = writeln!(
                body,
                "      <system-out>{}</system-out>",
                text(&out_lines.join("\n"))
            );
        }
        if body.is_empty() {
            let _ = writeln!(out, "/>");
        } else {
            let _ = writeln!(out, ">");
            out.push_str(&body);
            let _ = writeln!(out, "    </testcase>");
        }
    }
    let _ = writeln!(out, "  </testsuite>");
    let _ = writeln!(out, "</testsuites>");
    out
}

/// Text XML 1.0 can carry: a character it forbids (C0 controls other than tab, newline and return —
/// an escape sequence in an import warning — and U+FFFE/U+FFFF) becomes U+FFFD.
fn xml_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().map(|c| match c {
        '\t' | '\n' | '\r' => c,
        c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
        c => c,
    })
}

/// Escapes element text.
fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value.
fn attr(s: &str) -> String {
    escape(s, true)
}

/// `&`, `<` and `>` always; in an attribute also `"`, and newlines and tabs as character references so
/// they survive attribute-value normalization.
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in xml_chars(s) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' if attribute => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_xml_forbids() {
        assert_eq!(text("a<b & \u{1b}[31m"), "a&lt;b &amp; \u{FFFD}[31m");
        assert_eq!(attr("\"x\"\n"), "&quot;x&quot;&#10;");
    }
}
