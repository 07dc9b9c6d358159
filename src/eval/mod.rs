//! The evaluator: a pure function from (matrix, facts) to a report. No I/O, no clock.

mod logic;
mod summary;

use std::collections::BTreeMap;

use crate::facts::keys::{FactKey, Lookup, Value};
use crate::facts::{normalize_package, Facts};
use crate::matrix::{Matrix, Rule, Software, Status, Support};
use crate::report::{Recommendation, Report, Row, Summary, REPORT_SCHEMA};

pub use logic::Truth;
pub use summary::machine_summary;

/// How many next steps a report suggests.
const MAX_RECOMMENDATIONS: usize = 5;

pub fn evaluate(matrix: &Matrix, facts: &Facts) -> Report {
    let rows: Vec<Row> = matrix
        .software
        .iter()
        .map(|sw| evaluate_row(matrix, sw, facts))
        .collect();
    let mut summary = Summary::default();
    for row in &rows {
        match row.status {
            Status::Ok => summary.ok += 1,
            Status::Warn => summary.warn += 1,
            Status::Fail => summary.fail += 1,
        }
    }
    let recommendations = recommend(matrix, &rows);
    Report {
        schema: REPORT_SCHEMA,
        machine: summary::machine_summary(facts),
        summary,
        rows,
        recommendations,
    }
}

/// Whether a row's software was found, and its version.
#[derive(Debug, Clone)]
pub(crate) enum Installed {
    Found {
        shown: String,
        version: Option<Value>,
    },
    NotFound,
    Unknown(String),
}

pub(crate) fn detect(sw: &Software, facts: &Facts) -> Installed {
    let mut unknown = None;
    if !sw.detect.python.is_empty() {
        match &facts.python {
            None => {
                unknown = Some(format!(
                    "no Python environment: {}",
                    facts.why_unknown("python")
                ))
            }
            Some(py) => {
                for name in &sw.detect.python {
                    if let Some(v) = py.packages.get(&normalize_package(name)) {
                        return Installed::Found {
                            shown: v.to_string(),
                            version: Some(Value::Py(v.clone())),
                        };
                    }
                }
            }
        }
    }
    if !sw.detect.binaries.is_empty() {
        match &facts.binaries {
            None => {
                unknown = unknown.or_else(|| {
                    Some(format!(
                        "programs on PATH unknown: {}",
                        facts.why_unknown("binaries")
                    ))
                })
            }
            Some(bins) => {
                for name in &sw.detect.binaries {
                    if let Some(b) = bins.get(name) {
                        return Installed::Found {
                            shown: b
                                .version
                                .as_ref()
                                .map_or_else(|| name.clone(), ToString::to_string),
                            version: b.version.clone().map(Value::Version),
                        };
                    }
                }
            }
        }
    }
    if !sw.detect.libraries.is_empty() {
        match &facts.libraries {
            None => {
                unknown = unknown.or_else(|| {
                    Some(format!(
                        "libraries unknown: {}",
                        facts.why_unknown("libraries")
                    ))
                })
            }
            Some(libs) => {
                for name in &sw.detect.libraries {
                    if let Some(path) = libs.get(name) {
                        let file = path.rsplit('/').next().unwrap_or(path).to_string();
                        return Installed::Found {
                            shown: file,
                            version: None,
                        };
                    }
                }
            }
        }
    }
    unknown.map_or(Installed::NotFound, Installed::Unknown)
}

/// Facts as one row's rules see them: the machine's, plus `installed` for this row.
pub(crate) struct RowFacts<'a> {
    pub facts: &'a Facts,
    pub installed: Installed,
}

impl RowFacts<'_> {
    pub fn lookup(&self, key: &FactKey) -> Lookup {
        match (key, &self.installed) {
            (FactKey::Installed, Installed::Found { .. }) => Lookup::Known(Value::Bool(true)),
            (FactKey::Installed, Installed::NotFound) => Lookup::Known(Value::Bool(false)),
            (
                FactKey::InstalledVersion,
                Installed::Found {
                    version: Some(v), ..
                },
            ) => Lookup::Known(v.clone()),
            (FactKey::InstalledVersion, Installed::Found { .. }) => {
                Lookup::Unknown("installed version not reported".into())
            }
            (FactKey::InstalledVersion, Installed::NotFound) => Lookup::Absent,
            (FactKey::Installed | FactKey::InstalledVersion, Installed::Unknown(why)) => {
                Lookup::Unknown(why.clone())
            }
            _ => key.lookup(self.facts),
        }
    }

    /// Replaces `{fact}` in a rule's text with the fact's value.
    pub fn interpolate(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            let name = &rest[start + 1..start + len];
            match FactKey::parse(name) {
                Ok(key) => match self.lookup(&key) {
                    Lookup::Known(v) => out.push_str(&v.to_string()),
                    Lookup::Absent => out.push_str("none"),
                    Lookup::Unknown(_) => out.push_str("unknown"),
                },
                Err(_) => out.push_str(&rest[start..=start + len]),
            }
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// The first of the row's programs found on PATH whose `--version` failed (`failed.binaries.NAME`).
fn broken_binary(sw: &Software, facts: &Facts) -> Option<String> {
    let bins = facts.binaries.as_ref()?;
    sw.detect.binaries.iter().find_map(|name| {
        bins.get(name)?;
        let failure = facts.failed.get(&format!("binaries.{name}"))?;
        Some(format!(
            "{name} is on PATH but `{name} --version` failed ({failure})"
        ))
    })
}

fn evaluate_row(matrix: &Matrix, sw: &Software, facts: &Facts) -> Row {
    let ctx = RowFacts {
        facts,
        installed: detect(sw, facts),
    };
    let installed = match &ctx.installed {
        Installed::Found { shown, .. } => Some(shown.clone()),
        _ => None,
    };
    let row =
        |rule: &Rule, status, support, note: String, reason: String, fix: Option<String>| Row {
            id: sw.id.clone(),
            name: sw.name.clone(),
            category: sw.category.clone(),
            category_title: matrix.category_title(&sw.category).to_string(),
            status,
            support,
            installed: installed.clone(),
            note,
            reason,
            fix,
            source: rule.source.clone(),
            rule: rule.id.clone(),
        };
    for rule in &sw.rules {
        let truth = rule
            .when
            .as_ref()
            .map_or(Truth::True, |c| logic::eval(c, &ctx));
        match truth {
            Truth::False => continue,
            Truth::Unknown(missing) if missing.iter().all(|(k, _)| k.is_environment()) => continue,
            Truth::Unknown(missing) => {
                let (key, why) = missing
                    .iter()
                    .find(|(k, _)| !k.is_environment())
                    .unwrap_or(&missing[0]);
                return row(
                    rule,
                    Status::Warn,
                    Support::Unknown,
                    format!("cannot tell ({key} unknown)"),
                    format!("Cannot tell: `{key}` is unknown ({why}); it decides \"{}\".", rule.note),
                    Some("Run `mlcompat doctor` on the machine itself, or record the missing fact in the facts file.".into()),
                );
            }
            Truth::True => {
                let mut found = row(
                    rule,
                    rule.status,
                    rule.support,
                    rule.note.clone(),
                    ctx.interpolate(&rule.reason),
                    rule.fix.as_deref().map(|f| ctx.interpolate(f)),
                );
                // An installed program that hangs or crashes on `--version` is not ✅, whatever the
                // platform supports.
                if let Some(why) = broken_binary(sw, facts) {
                    if found.status == Status::Ok {
                        found.status = Status::Warn;
                        found.note = "installed, but broken?".into();
                    }
                    found.reason = format!("{why}. {}", found.reason);
                }
                return found;
            }
        }
    }
    // Validation guarantees a fallback rule without `when`, so this is only reached by a hand-built matrix.
    Row {
        id: sw.id.clone(),
        name: sw.name.clone(),
        category: sw.category.clone(),
        category_title: matrix.category_title(&sw.category).to_string(),
        status: Status::Warn,
        support: Support::Unknown,
        installed,
        note: "no rule applies".into(),
        reason: "No rule of the matrix applies to this machine.".into(),
        fix: None,
        source: String::new(),
        rule: String::new(),
    }
}

/// The few most useful next steps: failures before warnings, broken installations before software that
/// is merely absent, in matrix order; the same fix for several rows is said once.
fn recommend(matrix: &Matrix, rows: &[Row]) -> Vec<Recommendation> {
    let category_rank: BTreeMap<&str, usize> = matrix
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut candidates: Vec<(usize, &Row)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status != Status::Ok && r.fix.is_some() && r.support != Support::Unknown)
        .collect();
    candidates.sort_by_key(|(i, r)| {
        (
            std::cmp::Reverse(r.status),
            r.installed.is_none(),
            category_rank
                .get(r.category.as_str())
                .copied()
                .unwrap_or(usize::MAX),
            *i,
        )
    });
    let mut out: Vec<Recommendation> = Vec::new();
    for (_, row) in candidates {
        let fix = row.fix.clone().unwrap_or_default();
        if let Some(existing) = out.iter_mut().find(|r| r.text.ends_with(&fix)) {
            existing.software.push(row.id.clone());
            continue;
        }
        if out.len() == MAX_RECOMMENDATIONS {
            continue;
        }
        out.push(Recommendation {
            status: row.status,
            software: vec![row.id.clone()],
            text: format!("{}: {fix}", row.name),
        });
    }
    out
}
