//! Package lists: `pip list` and `uv pip list` (a `Package  Version` header over a rule of dashes, then
//! `name version [location]` rows), `pip freeze` (`name==version`) and `conda list` (`name version build
//! [channel]` under `# packages in environment at …`). A prompt's command names a list whose header was
//! not pasted (`conda list | grep torch`).

use crate::facts::{normalize_package, Facts, Python, UnmetRequirement};
use crate::version::PyVersion;

use super::DumpKind;

/// `----- -----`: pip's rule under the header, two or three runs of dashes.
fn is_rule(t: &str) -> bool {
    let runs: Vec<&str> = t.split_whitespace().collect();
    (2..=3).contains(&runs.len())
        && runs
            .iter()
            .all(|r| r.len() >= 3 && r.bytes().all(|b| b == b'-'))
}

fn is_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `name==version` (pip freeze).
fn freeze_row(t: &str) -> Option<(&str, &str)> {
    let (n, v) = t.split_once("==")?;
    (is_name(n) && !v.is_empty() && !v.contains(char::is_whitespace)).then_some((n, v))
}

/// `name  version  build  [channel]` (conda list).
fn conda_row(t: &str) -> Option<Vec<&str>> {
    let cols: Vec<&str> = t.split_whitespace().collect();
    ((3..=4).contains(&cols.len())
        && is_name(cols[0])
        && cols[1].starts_with(|c: char| c.is_ascii_digit()))
    .then_some(cols)
}

pub(super) fn detect(text: &str, command: Option<&str>) -> Vec<DumpKind> {
    let command = command.unwrap_or_default();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut kinds = Vec::new();
    let pip_header = lines.windows(2).any(|w| {
        let mut words = w[0].split_whitespace();
        words.next() == Some("Package") && words.next() == Some("Version") && is_rule(w[1])
    });
    // A rule over rows, its header lost in the paste, or a list a prompt names.
    let rule_rows = lines.iter().position(|l| is_rule(l)).is_some_and(|i| {
        lines[i + 1..]
            .iter()
            .take(3)
            .filter(|l| list_row(l).is_some())
            .count()
            >= 2
    });
    let asked = command.contains("pip list") || command.contains("pip3 list");
    if pip_header || rule_rows || (asked && lines.iter().any(|l| list_row(l).is_some())) {
        kinds.push(DumpKind::PipList);
    }
    let frozen = lines.iter().filter(|l| freeze_row(l).is_some()).count();
    let other = lines
        .iter()
        .filter(|l| !l.is_empty() && freeze_row(l).is_none() && !l.starts_with('#'))
        .count();
    if (frozen >= 3 && frozen > other) || (command.contains("freeze") && frozen >= 1) {
        kinds.push(DumpKind::PipFreeze);
    }
    if lines.iter().any(|l| pip_check_line(l).is_some()) {
        kinds.push(DumpKind::PipCheck);
    }
    let conda_header = lines.iter().any(|l| {
        l.starts_with("# packages in environment at")
            || (l.starts_with("# Name") && l.contains("Version") && l.contains("Build"))
    });
    if conda_header
        || (command.contains("conda list") && lines.iter().any(|l| conda_row(l).is_some()))
    {
        kinds.push(DumpKind::CondaList);
    }
    kinds
}

/// `name version [editable location]` under pip's rule.
fn list_row(t: &str) -> Option<(&str, &str)> {
    let mut cols = t.split_whitespace();
    let (n, v) = (cols.next()?, cols.next()?);
    (is_name(n) && v.starts_with(|c: char| c.is_ascii_digit()) && v.parse::<PyVersion>().is_ok())
        .then_some((n, v))
}

pub(super) fn read(kind: DumpKind, text: &str, facts: &mut Facts) {
    let mut python = Python::default();
    let mut add = |name: &str, version: &str| {
        if let Ok(v) = version.parse::<PyVersion>() {
            python.packages.entry(normalize_package(name)).or_insert(v);
        }
    };
    let lines = text.lines().map(str::trim);
    match kind {
        DumpKind::PipList => {
            for l in lines {
                if let Some((n, v)) = list_row(l) {
                    add(n, v);
                }
            }
        }
        DumpKind::PipFreeze => {
            for l in lines {
                if let Some((n, v)) = freeze_row(l) {
                    add(n, v);
                }
            }
        }
        DumpKind::CondaList => {
            let mut interpreter = None;
            for l in lines {
                let Some(cols) = conda_row(l) else { continue };
                // Only a Python package names its Python in the build (`py38_0`, `pyhd8ed1ab_0`) or comes
                // from PyPI; conda's own (blas, cudatoolkit) are not Python distributions.
                let python_build = cols[2].starts_with("py") || cols.get(3) == Some(&"pypi");
                match cols[0] {
                    "python" => interpreter = cols[1].parse::<PyVersion>().ok(),
                    // conda's name for the torch distribution.
                    "pytorch" if python_build => add("torch", cols[1]),
                    name if python_build => add(name, cols[1]),
                    _ => {}
                }
            }
            python.version = interpreter;
            facts.failed.insert(
                "python.packages".into(),
                "conda list shows the Python packages conda installed by their conda names".into(),
            );
        }
        _ => {}
    }
    facts.python = Some(python);
}

/// One line of `pip check`: `vllm 0.34.0 requires cloudpickle, which is not installed.`,
/// `vllm 0.34.0 has requirement torch==2.14.0, but you have torch 2.15.0.`, or its all-clear (`None`
/// inside: nothing unmet).
fn pip_check_line(line: &str) -> Option<Option<UnmetRequirement>> {
    let line = line.trim();
    if line == "No broken requirements found." {
        return Some(None);
    }
    let line = line.strip_suffix('.')?;
    let mut words = line.splitn(3, ' ');
    let (dist, version, rest) = (words.next()?, words.next()?, words.next()?);
    if !is_name(dist) || version.parse::<PyVersion>().is_err() {
        return None;
    }
    let unmet = if let Some(req) = rest
        .strip_prefix("requires ")
        .and_then(|r| r.strip_suffix(", which is not installed"))
    {
        UnmetRequirement {
            dist: normalize_package(dist),
            version: version.to_string(),
            requires: req.to_string(),
            ..UnmetRequirement::default()
        }
    } else {
        let (req, have) = rest
            .strip_prefix("has requirement ")?
            .split_once(", but you have ")?;
        let installed = have.split_whitespace().nth(1)?;
        installed.parse::<PyVersion>().ok()?;
        UnmetRequirement {
            dist: normalize_package(dist),
            version: version.to_string(),
            requires: req.to_string(),
            installed: Some(installed.to_string()),
            ..UnmetRequirement::default()
        }
    };
    Some(Some(unmet))
}

/// `pip check`'s findings: the requirements that are not met, and the distributions it names with their
/// versions (installed, as it says).
pub(super) fn read_pip_check(text: &str, facts: &mut Facts) {
    let mut python = Python::default();
    let mut unmet = Vec::new();
    for line in text.lines() {
        let Some(found) = pip_check_line(line) else {
            continue;
        };
        let Some(u) = found else { continue };
        if let Ok(v) = u.version.parse::<PyVersion>() {
            python.packages.entry(u.dist.clone()).or_insert(v);
        }
        if let Some(have) = u
            .installed
            .as_ref()
            .and_then(|h| h.parse::<PyVersion>().ok())
        {
            python
                .packages
                .entry(normalize_package(u.required_name()))
                .or_insert(have);
        }
        if !unmet.contains(&u) {
            unmet.push(u);
        }
    }
    python.unmet_requirements = Some(unmet);
    facts.python = Some(python);
}
