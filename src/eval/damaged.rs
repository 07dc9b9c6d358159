//! An import that fails (often by a signal: SIGBUS on a truncated library) while installed files are not
//! the size their wheel's RECORD lists: the damaged distributions are the cause, and reinstalling exactly
//! those — not the package that happened to load them — is the fix.

use crate::facts::{DamagedFile, Facts};
use crate::matrix::Status;
use crate::report::Row;

pub(crate) fn gate(facts: &Facts, row: &mut Row) {
    let failed_import = row.status == Status::Fail && row.rule.ends_with("import-failed");
    let Some(damaged) = facts
        .python
        .as_ref()
        .and_then(|p| p.damaged_files.as_deref())
        .filter(|d| !d.is_empty())
    else {
        return;
    };
    if !failed_import {
        return;
    }
    let mut dists: Vec<(&str, &str)> = Vec::new();
    for d in damaged {
        if !dists.contains(&(d.dist.as_str(), d.version.as_str())) {
            dists.push((&d.dist, &d.version));
        }
    }
    let shown: Vec<String> = damaged.iter().take(3).map(describe).collect();
    let more = damaged.len().saturating_sub(shown.len());
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    row.reason = format!(
        "{} Installed files are not what their wheels installed: {}{tail}.",
        row.reason,
        shown.join("; ")
    );
    row.fix = Some(format!(
        "pip install --force-reinstall --no-deps {}  (puts back the damaged files; a truncated library makes an import die of SIGBUS)",
        dists
            .iter()
            .map(|(d, v)| format!("'{d}=={v}'"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
}

fn describe(d: &DamagedFile) -> String {
    let file = d.path.rsplit('/').next().unwrap_or(&d.path);
    format!(
        "{file} of {} {} is {} bytes where its RECORD says {}",
        d.dist, d.version, d.bytes, d.expected_bytes
    )
}
