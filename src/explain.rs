//! `mlcompat explain`: a pasted log, traceback or whole bug report, matched against the known failures of
//! `matrix/failures.yaml`. Pure: the text and the machine's facts in, an [`Explanation`] out.
//!
//! The facts are those of the environment dumps inside the paste (the readers `doctor --facts` uses),
//! or of a machine named on the command line, completed as every command completes them. A failure's
//! patterns find it; its fact conditions confirm it or rule it out; its fix is `install-plan`'s for that
//! machine where the fix is an installation, so the two cannot differ.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Serialize;

use crate::eval::logic::{self, Truth};
use crate::eval::{Installed, RowFacts};
use crate::facts::keys::{FactKey, Lookup};
use crate::facts::Facts;
use crate::matrix::failures::{Failure, FailureFix};
use crate::matrix::{Condition, Matrix, Status};
use crate::report::MachineSummary;

pub const EXPLAIN_SCHEMA: &str = "mlcompat.explain/1";

/// At most this many matching lines are kept as one failure's evidence (a log repeats its error).
const EVIDENCE_LINES: usize = 3;
/// A line of evidence is cut to this many characters.
const EVIDENCE_CHARS: usize = 300;

/// A log as read: its parts (all of it, or its head and tail when it was larger than the cap), each with
/// the number of its first line in the whole log.
#[derive(Debug, Clone)]
pub struct Log {
    /// What it was read from, for the report (`standard input`, a file name).
    pub name: String,
    pub parts: Vec<LogPart>,
    /// Its size in bytes.
    pub bytes: u64,
    /// How many lines it has.
    pub lines: u64,
    /// The bytes and lines between head and tail that were counted but not kept.
    pub skipped_bytes: u64,
    pub skipped_lines: u64,
    /// Reading stopped at [`crate::files::MAX_LOG_READ`] before the input ended.
    pub unfinished: bool,
}

#[derive(Debug, Clone)]
pub struct LogPart {
    pub first_line: u64,
    pub text: String,
}

impl Log {
    /// A log held whole.
    pub fn whole(name: &str, text: String) -> Log {
        let lines = text.lines().count() as u64;
        Log {
            name: name.to_string(),
            bytes: text.len() as u64,
            lines,
            skipped_bytes: 0,
            skipped_lines: 0,
            unfinished: false,
            parts: vec![LogPart {
                first_line: 1,
                text,
            }],
        }
    }
}

/// What `mlcompat explain --format json` prints.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Explanation {
    pub schema: &'static str,
    /// What was read.
    pub input: InputSummary,
    /// The machine the log came from, as far as it (or `--facts`/`--profile`) says.
    pub machine: MachineSummary,
    /// The known failures found, the confirmed ones first.
    pub matches: Vec<FailureMatch>,
    /// Failures whose patterns matched but whose facts rule them out here (the error text is shared
    /// with another cause).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ruled_out: Vec<RuledOut>,
    /// How many known failures were tried.
    pub known_failures: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct InputSummary {
    pub name: String,
    pub bytes: u64,
    pub lines: u64,
    /// The middle of a log larger than the cap, counted but not read for errors or dumps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<Skipped>,
    /// Set when reading stopped here, the input not ended (an endless stream such as `/dev/zero`); what
    /// came after was not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at_bytes: Option<u64>,
    /// The environment dumps read from it for facts (`nvidia-smi`, `pip list`, …).
    pub dumps: Vec<String>,
    /// Where the machine's facts came from: `the log`, a facts file, a profile.
    pub facts_from: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Skipped {
    pub from_line: u64,
    pub lines: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FailureMatch {
    /// The known failure's id in `matrix/failures.yaml` (doctor's rows cite the same id).
    pub id: String,
    pub title: String,
    /// Whether the machine's facts confirm it (`true`), or leave it open because they are not known.
    pub confirmed: bool,
    pub cause: String,
    /// The log's lines that matched.
    pub evidence: Vec<Evidence>,
    /// How many lines matched in all.
    pub matched_lines: usize,
    /// The facts that confirmed it.
    pub facts: Vec<DecidingFact>,
    /// Facts that would confirm it, not known here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_facts: Vec<String>,
    pub fix: String,
    /// `install-plan` when the fix is the install plan's for this machine, `failure` when it is the known
    /// failure's own advice.
    pub fix_from: FixFrom,
    /// What the install plan adds (a driver it assumes, a fresh environment).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fix_notes: Vec<String>,
    /// The verdicts of the rows concerned, on this machine.
    pub rows: Vec<RowVerdict>,
    pub source: String,
    pub checked: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FixFrom {
    InstallPlan,
    Failure,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Evidence {
    /// 1-based line number in the log.
    pub line: u64,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DecidingFact {
    pub fact: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RowVerdict {
    pub id: String,
    pub name: String,
    pub status: Status,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RuledOut {
    pub id: String,
    /// The facts that contradict it.
    pub because: Vec<DecidingFact>,
}

impl Explanation {
    /// 0 when a known failure matched, 1 when none did.
    pub fn exit_code(&self) -> u8 {
        if self.matches.is_empty() {
            1
        } else {
            0
        }
    }
}

/// The lines of a log as `explain` matches them: quoting (`> `) and terminal colours taken off.
fn cleaned(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        out.push_str(&crate::facts::dumps::clean_line(line));
        out.push('\n');
    }
    out
}

/// One pattern's hits in one part: the 1-based line numbers and the lines, and the first match's named
/// groups.
struct Hits {
    lines: Vec<(u64, String)>,
    count: usize,
    groups: BTreeMap<String, String>,
}

/// Matches every known failure against the log; `facts` are the machine's, completed.
pub fn explain(
    matrix: &Matrix,
    log: &Log,
    facts: &Facts,
    facts_from: &str,
    dumps: Vec<String>,
) -> Explanation {
    let failures = &matrix.failures.failures;
    let parts: Vec<(u64, String)> = log
        .parts
        .iter()
        .map(|p| (p.first_line, cleaned(&p.text)))
        .collect();
    let hits = find(failures, &parts);
    let report = crate::eval::evaluate(matrix, facts);
    let ctx = RowFacts {
        facts,
        installed: Installed::NotFound,
    };
    let mut matches = Vec::new();
    let mut ruled_out = Vec::new();
    for (failure, hits) in failures.iter().zip(hits) {
        let Some(hits) = hits else { continue };
        let truth = failure
            .when
            .as_ref()
            .map_or(Truth::True, |c| logic::eval(c, &ctx));
        let (confirmed, unknown_facts) = match &truth {
            Truth::False => {
                ruled_out.push(RuledOut {
                    id: failure.id.clone(),
                    because: deciding(failure.when.as_ref(), &ctx),
                });
                continue;
            }
            Truth::True => (true, Vec::new()),
            Truth::Unknown(missing) => (
                false,
                missing
                    .iter()
                    .map(|(k, _)| k.to_string())
                    .collect::<Vec<_>>(),
            ),
        };
        let fill = |text: &str| fill(text, &hits.groups, &ctx);
        let (fix, fix_from, fix_notes) = fix_for(matrix, failure, facts, &fill);
        let mut row_ids: Vec<&str> = failure.rows.iter().map(String::as_str).collect();
        for row in &report.rows {
            if row.failure.as_deref() == Some(failure.id.as_str())
                && !row_ids.contains(&row.id.as_str())
            {
                row_ids.push(&row.id);
            }
        }
        let rows = row_ids
            .iter()
            .filter_map(|id| report.rows.iter().find(|r| r.id == *id))
            .map(|r| RowVerdict {
                id: r.id.clone(),
                name: r.name.clone(),
                status: r.status,
                note: r.note.clone(),
            })
            .collect();
        matches.push(FailureMatch {
            id: failure.id.clone(),
            title: failure.title.clone(),
            confirmed,
            cause: fill(&failure.cause),
            matched_lines: hits.count,
            evidence: hits
                .lines
                .into_iter()
                .map(|(line, text)| Evidence { line, text })
                .collect(),
            facts: if confirmed {
                deciding(failure.when.as_ref(), &ctx)
            } else {
                Vec::new()
            },
            unknown_facts,
            fix,
            fix_from,
            fix_notes,
            rows,
            source: failure.source.clone(),
            checked: failure.checked.to_string(),
        });
    }
    // A failure that explains the same lines better replaces the generic one.
    let replaced: Vec<String> = matches
        .iter()
        .filter_map(|m| failures.iter().find(|f| f.id == m.id))
        .flat_map(|f| f.instead_of.iter().cloned())
        .collect();
    matches.retain(|m| !replaced.contains(&m.id));
    // Confirmed first, then in the order the log shows them.
    matches.sort_by_key(|m| (!m.confirmed, m.evidence.first().map_or(0, |e| e.line)));
    let skipped = (log.skipped_bytes > 0).then(|| Skipped {
        from_line: log
            .parts
            .first()
            .map_or(1, |p| p.first_line + p.text.lines().count() as u64),
        lines: log.skipped_lines,
        bytes: log.skipped_bytes,
    });
    Explanation {
        schema: EXPLAIN_SCHEMA,
        input: InputSummary {
            name: log.name.clone(),
            bytes: log.bytes,
            lines: log.lines,
            skipped,
            stopped_at_bytes: log.unfinished.then_some(log.bytes),
            dumps,
            facts_from: facts_from.to_string(),
        },
        machine: crate::report::machine_summary(facts),
        matches,
        ruled_out,
        known_failures: failures.len(),
    }
}

/// Each failure's hits, `None` for a failure no line matched. One pass over the text finds which
/// patterns match anywhere; only those are run again to find their lines.
fn find(failures: &[Failure], parts: &[(u64, String)]) -> Vec<Option<Hits>> {
    let mut owners: Vec<usize> = Vec::new();
    let mut patterns: Vec<String> = Vec::new();
    for (i, f) in failures.iter().enumerate() {
        for p in &f.patterns {
            owners.push(i);
            patterns.push(format!("(?m:{p})"));
        }
    }
    let mut out: Vec<Option<Hits>> = failures.iter().map(|_| None).collect();
    // The patterns were validated when the matrix loaded; one that still fails to build (a size limit)
    // is skipped rather than failing the command. Each is tried on its own, not as one RegexSet: on text
    // like random bytes the set's lazy DFA thrashes and falls back to its slowest engine (1.5 s for 2 MB,
    // 12 s for 16 MB measured), while each pattern alone is a literal search (90 ms for 16 MB).
    let compiled: Vec<Option<Regex>> = patterns.iter().map(|p| Regex::new(p).ok()).collect();
    for (first_line, text) in parts {
        let candidates: Vec<(usize, &Regex)> = compiled
            .iter()
            .enumerate()
            .filter_map(|(i, re)| re.as_ref().map(|re| (i, re)))
            .filter(|(_, re)| re.is_match(text))
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        for (index, re) in candidates {
            let hits = out[owners[index]].get_or_insert_with(|| Hits {
                lines: Vec::new(),
                count: 0,
                groups: BTreeMap::new(),
            });
            let mut last_line = None;
            for caps in re.captures_iter(text) {
                let Some(whole) = caps.get(0) else { continue };
                // Line by line: a match may not run across a line break.
                if whole.as_str().contains('\n') {
                    continue;
                }
                let index_of_line = starts.partition_point(|&s| s <= whole.start()) - 1;
                if last_line == Some(index_of_line) {
                    continue;
                }
                last_line = Some(index_of_line);
                let line_no = first_line + index_of_line as u64;
                if hits.lines.iter().any(|(n, _)| *n == line_no) {
                    continue;
                }
                hits.count += 1;
                if hits.groups.is_empty() {
                    for name in re.capture_names().flatten() {
                        if let Some(m) = caps.name(name) {
                            hits.groups.insert(name.to_string(), m.as_str().to_string());
                        }
                    }
                }
                if hits.lines.len() < EVIDENCE_LINES {
                    let end = starts.get(index_of_line + 1).map_or(text.len(), |e| e - 1);
                    let line = text[starts[index_of_line]..end].trim();
                    hits.lines.push((line_no, shorten(line)));
                }
            }
        }
    }
    for hits in out.iter_mut().flatten() {
        hits.lines.sort();
    }
    // A pattern the set found that matched only across lines leaves no hit.
    for slot in &mut out {
        if slot.as_ref().is_some_and(|h| h.count == 0) {
            *slot = None;
        }
    }
    out
}

fn shorten(line: &str) -> String {
    if line.chars().count() <= EVIDENCE_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(EVIDENCE_CHARS).collect();
    format!("{cut}…")
}

/// The facts a condition tests that are known, with their values (what confirmed or ruled out).
fn deciding(condition: Option<&Condition>, ctx: &RowFacts<'_>) -> Vec<DecidingFact> {
    let Some(condition) = condition else {
        return Vec::new();
    };
    let mut out: Vec<DecidingFact> = Vec::new();
    for key in condition.facts() {
        let value = match ctx.lookup(key) {
            Lookup::Known(v) => v.to_string(),
            Lookup::Absent => "none".to_string(),
            Lookup::Unknown(_) => continue,
        };
        if !out.iter().any(|d| d.fact == key.to_string()) {
            out.push(DecidingFact {
                fact: key.to_string(),
                value,
            });
        }
    }
    out
}

/// A failure's text with `{match.NAME}` from the log and `{fact}` from the machine.
fn fill(text: &str, groups: &BTreeMap<String, String>, ctx: &RowFacts<'_>) -> String {
    crate::eval::replace_placeholders(text, |name| match name.strip_prefix("match.") {
        Some(group) => Some(groups.get(group).map_or("?", String::as_str).to_string()),
        None => Some(ctx.interpolate(&format!("{{{name}}}"))),
    })
}

/// The fix for this machine: `install-plan`'s steps where the failure's fix is an installation and the
/// machine is known well enough to plan for (its GPU, or that it has none), else the failure's words.
fn fix_for(
    matrix: &Matrix,
    failure: &Failure,
    facts: &Facts,
    fill: &dyn Fn(&str) -> String,
) -> (String, FixFrom, Vec<String>) {
    match &failure.fix {
        FailureFix::Text(text) => (fill(text), FixFrom::Failure, Vec::new()),
        FailureFix::Install { row, otherwise } => {
            let gpu_known = facts.gpus.is_some()
                && !matches!(FactKey::GpuVendor.lookup(facts), Lookup::Unknown(_));
            if gpu_known {
                // The GPU side, as doctor asks it: a CPU-only plan is no fix for a GPU failure.
                if let Some((fix, notes)) =
                    crate::plan::fix_with_notes(matrix, facts, row, crate::matrix::RunsOn::Gpu)
                {
                    return (fix, FixFrom::InstallPlan, notes);
                }
            }
            (
                format!(
                    "{}  (`mlcompat install-plan {row}` on that machine names the exact build)",
                    fill(otherwise)
                ),
                FixFrom::Failure,
                Vec::new(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explained(text: &str, facts: &Facts) -> Explanation {
        let matrix = crate::matrix::embedded().expect("the embedded matrix loads");
        explain(
            &matrix,
            &Log::whole("log", text.to_string()),
            facts,
            "test",
            Vec::new(),
        )
    }

    #[test]
    fn the_specific_failure_replaces_the_generic_one_and_groups_fill_the_text() {
        let e = explained(
            "ImportError: /x/flash_attn_2_cuda.cpython-312-x86_64-linux-gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi\n\
             /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by ./gpud)\n",
            &Facts::default(),
        );
        let ids: Vec<&str> = e.matches.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["flash-attn-undefined-symbol", "glibc-too-old"]);
        assert!(
            e.matches[1].cause.contains("needs glibc 2.34"),
            "{}",
            e.matches[1].cause
        );
        assert_eq!(e.matches[1].evidence[0].line, 2);
        assert_eq!(e.exit_code(), 0);
    }

    #[test]
    fn a_match_across_lines_or_in_nothing_is_no_match() {
        let e = explained(
            "no kernel image is\navailable for execution on the device\n",
            &Facts::default(),
        );
        assert!(e.matches.is_empty());
        assert_eq!(e.exit_code(), 1);
        assert_eq!(e.input.lines, 2);
    }
}
