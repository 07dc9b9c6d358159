//! Known failures (`failures.yaml`): what an error says, why it happens and what fixes it, each from the
//! threads and docs that established it. `mlcompat explain` matches them against a pasted log; a rule of
//! `software.yaml` that predicts one from facts alone names it (`failure: ID`), so `doctor` and `explain`
//! give the same cause and the same fix.
//!
//! Patterns are regular expressions matched line by line. Here they are only parsed (to report a bad one
//! at its line and column without slowing every command's start); `explain` compiles them.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::condition::compile;
use super::{Condition, Day};
use crate::facts::keys::FactKey;
use crate::yaml::{self, from_node, Loc, Node, Problem, Problems};

pub const FAILURES_SCHEMA: &str = "mlcompat.failures/1";

/// Every known failure, in file order (the order `explain` lists matches that tie).
#[derive(Debug, Clone, Default)]
pub struct Failures {
    pub failures: Vec<Failure>,
    /// The file they came from, for `file:line:col` in audit findings.
    pub file: String,
}

impl Failures {
    pub fn get(&self, id: &str) -> Option<&Failure> {
        self.failures.iter().find(|f| f.id == id)
    }
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub id: String,
    /// A few words naming it ("torch has no kernels for this GPU").
    pub title: String,
    /// Regular expressions, any of which matching one line of a log is evidence of this failure.
    pub patterns: Vec<String>,
    /// Facts that must not contradict it (a GPU architecture, an OS): a false condition rules the
    /// failure out; an unknown one leaves it standing, unconfirmed.
    pub when: Option<Condition>,
    /// Failures this one explains better when both match (a specific `undefined symbol` over the
    /// generic one).
    pub instead_of: Vec<String>,
    /// The software rows concerned: their verdicts are shown with the match.
    pub rows: Vec<String>,
    /// One sentence; `{fact}` and `{match.NAME}` (a named group of the patterns) are filled in.
    pub cause: String,
    pub fix: FailureFix,
    pub source: String,
    pub checked: Day,
    pub loc: Loc,
}

/// How a failure is fixed.
#[derive(Debug, Clone)]
pub enum FailureFix {
    /// An installation: `install-plan ROW`'s steps for the machine, so the two never differ; `otherwise`
    /// where no plan can be made for it (too little is known of the machine).
    Install { row: String, otherwise: String },
    /// An action that is not an installation (a setting, a flag, a driver upgrade), with placeholders.
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFailure {
    id: String,
    title: String,
    patterns: Vec<String>,
    #[serde(default)]
    instead_of: Vec<String>,
    #[serde(default)]
    rows: Vec<String>,
    cause: String,
    source: String,
    // Read by hand (conditions, dates, the fix's two shapes); named here so an unknown key's message
    // lists every key.
    #[serde(default, rename = "when")]
    _when: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "fix")]
    _fix: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "checked")]
    _checked: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstall {
    install: String,
    otherwise: String,
}

/// Reads `failures.yaml`, adding every problem to `problems`; `checked` validates the dates as the rest
/// of the matrix does. Row ids are checked later, against the software rows.
pub(crate) fn load(
    text: &str,
    checked: super::gpus::CheckedDay<'_>,
    problems: &mut Vec<Problem>,
) -> Failures {
    let mut out = Failures::default();
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(p) => {
            problems.push(p);
            return out;
        }
    };
    match root.get("schema").and_then(Node::as_str) {
        Some(FAILURES_SCHEMA) => {}
        other => problems.push(Problem::at(
            root.get("schema").map_or(root.loc, |n| n.loc),
            format!(
                "schema is `{}`, expected `{FAILURES_SCHEMA}`",
                other.unwrap_or("(missing)")
            ),
        )),
    }
    for (k, _) in root.as_map().unwrap_or_default() {
        if !matches!(k.as_str(), Some("schema" | "failures")) {
            problems.push(Problem::at(
                k.loc,
                format!(
                    "unknown key `{}` (expected `schema` and `failures`)",
                    k.as_str().unwrap_or("?")
                ),
            ));
        }
    }
    let Some(entries) = root.get("failures").and_then(Node::as_seq) else {
        problems.push(Problem::at(root.loc, "expected a `failures:` list"));
        return out;
    };
    let collected = Problems::default();
    let mut seen: BTreeMap<String, Loc> = BTreeMap::new();
    for entry in entries {
        if let Some(failure) = load_one(entry, checked, &collected, &mut seen, problems) {
            out.failures.push(failure);
        }
    }
    problems.extend(collected.into_vec());
    // `instead_of` names failures of this file.
    for f in &out.failures {
        for other in &f.instead_of {
            if other == &f.id || out.get(other).is_none() {
                problems.push(Problem::at(
                    f.loc,
                    format!(
                        "failure `{}`: `instead_of` names `{other}`, which is not another failure",
                        f.id
                    ),
                ));
            }
        }
    }
    out
}

fn load_one(
    entry: &Node,
    checked: super::gpus::CheckedDay<'_>,
    collected: &Problems,
    seen: &mut BTreeMap<String, Loc>,
    problems: &mut Vec<Problem>,
) -> Option<Failure> {
    let raw = from_node::<RawFailure>(&entry.without(&["when", "checked", "fix"]), collected);
    let what = format!(
        "failure `{}`",
        entry.get("id").and_then(Node::as_str).unwrap_or("?")
    );
    let when = entry.get("when").map(|w| compile(w, problems));
    let checked = checked(entry, &what, problems);
    let fix = load_fix(entry, &what, collected, problems);
    let raw = raw?;
    let id_loc = entry.get("id").map_or(entry.loc, |n| n.loc);
    super::load::check_id(&raw.id, id_loc, "failure", seen, problems);
    let mut groups: Option<Vec<String>> = None;
    if raw.patterns.is_empty() {
        problems.push(Problem::at(
            entry.loc,
            format!("{what} needs at least one pattern"),
        ));
    }
    let pattern_nodes = entry
        .get("patterns")
        .and_then(Node::as_seq)
        .unwrap_or_default();
    for (i, pattern) in raw.patterns.iter().enumerate() {
        let loc = pattern_nodes.get(i).map_or(entry.loc, |n| n.loc);
        match pattern_groups(pattern) {
            Ok(names) => {
                // A placeholder must be filled whichever pattern matched: keep the groups all share.
                groups = Some(match groups {
                    None => names,
                    Some(before) => before.into_iter().filter(|n| names.contains(n)).collect(),
                });
            }
            Err(why) => problems.push(Problem::at(loc, format!("{what}: pattern: {why}"))),
        }
    }
    let groups = groups.unwrap_or_default();
    let mut texts = vec![("cause", raw.cause.as_str())];
    if let Some(FailureFix::Text(t) | FailureFix::Install { otherwise: t, .. }) = &fix {
        texts.push(("fix", t.as_str()));
    }
    for (field, text) in texts {
        let loc = entry.get(field).map_or(entry.loc, |n| n.loc);
        check_texts(text, &groups, loc, problems);
    }
    if raw.source.trim().is_empty() {
        problems.push(Problem::at(
            entry.get("source").map_or(entry.loc, |n| n.loc),
            format!("{what} needs a source"),
        ));
    }
    let when = match when {
        Some(Some(c)) => Some(c),
        Some(None) => return None,
        None => None,
    };
    Some(Failure {
        id: raw.id,
        title: raw.title,
        patterns: raw.patterns,
        when,
        instead_of: raw.instead_of,
        rows: raw.rows,
        cause: raw.cause,
        fix: fix?,
        source: raw.source,
        checked: checked?,
        loc: entry.loc,
    })
}

/// `fix: "text"` or `fix: {install: ROW, otherwise: "text"}`.
fn load_fix(
    entry: &Node,
    what: &str,
    collected: &Problems,
    problems: &mut Vec<Problem>,
) -> Option<FailureFix> {
    let Some(node) = entry.get("fix") else {
        problems.push(Problem::at(
            entry.loc,
            format!("{what} needs a `fix` (a text, or `{{install: ROW, otherwise: TEXT}}`)"),
        ));
        return None;
    };
    if let Some(text) = node.as_str() {
        if text.trim().is_empty() {
            problems.push(Problem::at(node.loc, format!("{what}: `fix` is empty")));
            return None;
        }
        return Some(FailureFix::Text(text.to_string()));
    }
    let raw = from_node::<RawInstall>(node, collected)?;
    Some(FailureFix::Install {
        row: raw.install,
        otherwise: raw.otherwise,
    })
}

/// The named groups of a pattern, or why it is not a regular expression `explain` can run.
pub fn pattern_groups(pattern: &str) -> Result<Vec<String>, String> {
    if pattern.trim().is_empty() {
        return Err("empty".into());
    }
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| {
            // The error's own rendering spans several lines; its kind and column are what matter.
            format!(
                "`{pattern}` is not a regular expression: {} (at character {})",
                e.kind(),
                e.span().start.column
            )
        })?;
    // The translation step catches what parsing alone accepts (an invalid class range, say).
    regex_syntax::hir::translate::Translator::new()
        .translate(pattern, &ast)
        .map_err(|e| format!("`{pattern}` is not a regular expression: {}", e.kind()))?;
    let mut names = Vec::new();
    collect_names(&ast, &mut names);
    Ok(names)
}

fn collect_names(ast: &regex_syntax::ast::Ast, names: &mut Vec<String>) {
    use regex_syntax::ast::{Ast, GroupKind};
    match ast {
        Ast::Group(g) => {
            if let GroupKind::CaptureName { name, .. } = &g.kind {
                names.push(name.name.clone());
            }
            collect_names(&g.ast, names);
        }
        Ast::Alternation(a) => a.asts.iter().for_each(|x| collect_names(x, names)),
        Ast::Concat(c) => c.asts.iter().for_each(|x| collect_names(x, names)),
        Ast::Repetition(r) => collect_names(&r.ast, names),
        _ => {}
    }
}

/// `{fact}` names a fact; `{match.NAME}` a named group every pattern of the failure has.
fn check_texts(text: &str, groups: &[String], loc: Loc, problems: &mut Vec<Problem>) {
    super::condition::check_placeholders_with(text, loc, problems, |name| {
        match name.strip_prefix("match.") {
            Some(group) if groups.iter().any(|g| g == group) => None,
            Some(group) => Some(format!(
                "`{{{name}}}`: not a named group of every pattern (`(?P<{group}>…)`)"
            )),
            None => FactKey::parse(name)
                .err()
                .map(|e| format!("in `{{{name}}}`: {e}")),
        }
    });
}

/// Every row a failure names exists (`rows`, `install`).
pub(crate) fn check_rows(failures: &Failures, software: &[&str], problems: &mut Vec<Problem>) {
    for f in &failures.failures {
        let mut named: Vec<&str> = f.rows.iter().map(String::as_str).collect();
        if let FailureFix::Install { row, .. } = &f.fix {
            named.push(row);
        }
        for id in named {
            if !software.contains(&id) {
                problems.push(Problem::at(
                    f.loc,
                    format!("failure `{}` names unknown software `{id}`", f.id),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> (Failures, Vec<String>) {
        let mut problems = Vec::new();
        let checked = |node: &Node, what: &str, problems: &mut Vec<Problem>| match node
            .get("checked")
            .and_then(Node::as_str)
            .map(Day::parse)
        {
            Some(Ok(d)) => Some(d),
            _ => {
                problems.push(Problem::at(node.loc, format!("{what}: no date")));
                None
            }
        };
        let f = load(text, &checked, &mut problems);
        let shown = problems
            .iter()
            .map(|p| format!("{}: {}", p.loc.unwrap_or_default(), p.message))
            .collect();
        (f, shown)
    }

    const GOOD: &str = r#"schema: mlcompat.failures/1
failures:
  - id: sm-missing
    title: "no kernels"
    patterns: ['capability sm_(?P<sm>\d+) is not compatible']
    when: {fact: gpu.vendor, is: nvidia}
    rows: [pytorch]
    cause: "no sm_{match.sm} in {package.torch}"
    fix: {install: pytorch, otherwise: "a wheel with sm_{match.sm}"}
    source: "https://example.org — 'words'"
    checked: 2026-12-04
"#;

    #[test]
    fn reads_a_failure() {
        let (f, problems) = load_text(GOOD);
        assert!(problems.is_empty(), "{problems:?}");
        let one = &f.failures[0];
        assert_eq!(one.id, "sm-missing");
        assert!(matches!(&one.fix, FailureFix::Install { row, .. } if row == "pytorch"));
        assert!(one.when.is_some());
    }

    #[test]
    fn bad_patterns_placeholders_and_keys_are_located() {
        let bad = GOOD
            .replace(r"sm_(?P<sm>\d+)", r"sm_(\d+")
            .replace("{package.torch}", "{package.torch} {gpu.cc}")
            .replace("    rows:", "    color: red\n    rows:");
        let (_, problems) = load_text(&bad);
        let all = problems.join("\n");
        assert!(all.contains("5:16: failure `sm-missing`: pattern: `capability sm_(\\d+ is not compatible` is not a regular expression"), "{all}");
        assert!(all.contains("unknown fact `gpu.cc`"), "{all}");
        assert!(all.contains("`{match.sm}`: not a named group"), "{all}");
        assert!(all.contains("color"), "{all}");
        let (_, problems) = load_text(&GOOD.replace("sm-missing", "Sm_Missing"));
        assert!(problems[0].contains("not kebab-case"), "{problems:?}");
        let (_, problems) =
            load_text(&GOOD.replace("    rows:", "    instead_of: [nope]\n    rows:"));
        assert!(
            problems[0].contains("`instead_of` names `nope`"),
            "{problems:?}"
        );
    }
}
