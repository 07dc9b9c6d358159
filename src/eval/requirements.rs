//! Declared requirements that the environment does not meet (what `pip check` reports): a row whose
//! distribution, or a distribution it needs, is broken this way does not work as installed. One fix per
//! root cause — the distribution whose requirement is unmet — so that PEFT, Transformers and PyTorch broken
//! by one missing `sympy` get the same single command.

use std::collections::BTreeMap;

use crate::facts::{normalize_package, Facts, UnmetRequirement};
use crate::matrix::{Matrix, Status, Support};
use crate::report::Row;

/// The unmet requirements that break `dist`: its own, then those of what it needs.
pub(crate) fn breaking<'a>(facts: &'a Facts, dist: &str) -> Vec<&'a UnmetRequirement> {
    let dist = normalize_package(dist);
    let unmet = unmet_of(facts);
    let mut out: Vec<&UnmetRequirement> = unmet.iter().filter(|u| u.dist == dist).collect();
    out.extend(unmet.iter().filter(|u| u.needed_by.contains(&dist)));
    out
}

/// The unmet requirements of distributions an error text names (`operator torchvision::nms does not
/// exist` names torchvision), by distribution or module name.
pub(crate) fn named_in<'a>(facts: &'a Facts, error: &str) -> Vec<&'a UnmetRequirement> {
    let unmet = unmet_of(facts);
    let words: Vec<String> = error
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| w.len() > 2)
        .map(normalize_package)
        .collect();
    unmet.iter().filter(|u| words.contains(&u.dist)).collect()
}

/// Whether some declared requirement of `dist` is unmet (a plain `pip install dist` then does something).
pub(crate) fn has_unmet(facts: &Facts, dist: &str) -> bool {
    let dist = normalize_package(dist);
    unmet_of(facts).iter().any(|u| u.dist == dist)
}

/// What the facts say is unmet; nothing when they were not checked.
fn unmet_of(facts: &Facts) -> &[UnmetRequirement] {
    facts
        .python
        .as_ref()
        .and_then(|p| p.unmet_requirements.as_deref())
        .unwrap_or_default()
}

/// Makes an installed row ❌ when its distribution's requirements, or those of a distribution it needs,
/// are unmet. A rule that failed the row already keeps its diagnosis and gains this one's facts.
pub(crate) fn gate(matrix: &Matrix, dist: &str, facts: &Facts, row: &mut Row) {
    let broken = breaking(facts, dist);
    if broken.is_empty() {
        companions_gate(matrix, dist, facts, row);
        return;
    }
    let fix = fix_for(matrix, &broken);
    let own = normalize_package(dist);
    let list = describe_all(&broken);
    let culprits: Vec<&str> = dedup(broken.iter().map(|u| u.dist.as_str()));
    let note = if culprits == [own.as_str()] {
        let missing = broken.iter().filter(|u| u.installed.is_none()).count();
        let conflicts = broken.len() - missing;
        match (missing, conflicts) {
            (0, _) => "installed; a requirement's version is wrong".to_string(),
            (m, 0) => format!("installed; {m} requirement{} missing", plural(m)),
            (m, c) => format!(
                "installed; {m} requirement{} missing, {c} at the wrong version",
                plural(m)
            ),
        }
    } else {
        format!(
            "installed; {} is broken",
            culprits
                .iter()
                .find(|c| **c != own)
                .copied()
                .unwrap_or(culprits[0])
        )
    };
    // A rule that failed the row for the platform keeps its diagnosis; one that failed it on a broken
    // import gives way: unmet requirements are why the import breaks.
    if row.status == Status::Fail && !row.rule.ends_with("import-failed") {
        row.reason = format!(
            "{} Its declared requirements are not met: {list}.",
            row.reason
        );
        return;
    }
    let import_error = (row.status == Status::Fail).then(|| row.reason.clone());
    row.status = Status::Fail;
    row.support = Support::Yes;
    row.note = note;
    row.reason = format!(
        "{} {} is installed, but declared requirements are not met (as `pip check` would say): {list}. Code that needs them fails when it imports them, often only at first use.",
        row.name,
        row.installed.clone().unwrap_or_default()
    );
    if let Some(error) = import_error {
        row.reason = format!("{} {error}", row.reason);
    }
    row.fix = Some(fix);
    row.fix_matters_when_ok = false;
    row.rule = "requirements-unmet".into();
    row.source =
        "the installed distributions' METADATA (Requires-Dist), checked as `pip check` does".into();
    row.missing_fact = None;
}

/// A companion built for another release of this row's package (torchvision 0.24.0, built for torch
/// 2.9.0, beside torch 2.15.0): the package works, but whatever imports the companion fails
/// (`RuntimeError: operator torchvision::nms does not exist`).
fn companions_gate(matrix: &Matrix, dist: &str, facts: &Facts, row: &mut Row) {
    let own = normalize_package(dist);
    let unmet = unmet_of(facts);
    let mismatched: Vec<&UnmetRequirement> = unmet
        .iter()
        .filter(|u| {
            u.installed.is_some()
                && normalize_package(u.required_name()) == own
                && is_companion(matrix, &u.dist, &own)
        })
        .collect();
    if mismatched.is_empty() || row.status == Status::Fail {
        return;
    }
    let names: Vec<&str> = dedup(mismatched.iter().map(|u| u.dist.as_str()));
    let list: Vec<String> = mismatched.iter().map(|u| u.describe()).collect();
    row.status = Status::Warn;
    row.note = format!("{} does not match it", names.join(", "));
    row.reason = format!(
        "{} {} works, but {}: {} is built for one exact release of it, so importing it fails (an `operator … does not exist` or undefined-symbol error), and so does what imports it: vision models, image processors and datasets in Transformers, Diffusers and others.",
        row.name,
        row.installed.clone().unwrap_or_default(),
        list.join("; "),
        names.join(", ")
    );
    row.fix = Some(fix_for(matrix, &mismatched));
    row.fix_matters_when_ok = false;
    row.rule = "companion-mismatch".into();
    row.source =
        "the installed distributions' METADATA (Requires-Dist), checked as `pip check` does".into();
}

/// Conflicts in full (they say which version is wrong), then what is missing, by requirer, the first few
/// named: "vllm 0.34.0 has requirement torch==2.14.0, but torch 2.15.0 is installed; vllm 0.34.0
/// requires 63 distributions that are not installed: aiohttp>=3.14.4, anthropic>=0.71.0, … and 60 more".
fn describe_all(broken: &[&UnmetRequirement]) -> String {
    const NAMED: usize = 4;
    let mut parts: Vec<String> = broken
        .iter()
        .filter(|u| u.installed.is_some())
        .map(|u| u.describe())
        .collect();
    let mut by_dist: Vec<(&UnmetRequirement, Vec<&str>)> = Vec::new();
    for u in broken.iter().filter(|u| u.installed.is_none()) {
        match by_dist.iter_mut().find(|(first, _)| first.dist == u.dist) {
            Some((_, list)) => list.push(&u.requires),
            None => by_dist.push((u, vec![&u.requires])),
        }
    }
    for (first, missing) in by_dist {
        if missing.len() == 1 {
            parts.push(first.describe());
            continue;
        }
        let named = missing[..missing.len().min(NAMED)].join(", ");
        let more = missing.len().saturating_sub(NAMED);
        let tail = if more > 0 {
            format!(", … and {more} more")
        } else {
            String::new()
        };
        parts.push(format!(
            "{} {} requires {} distributions that are not installed: {named}{tail}",
            first.dist,
            first.version,
            missing.len()
        ));
    }
    parts.join("; ")
}

/// One command per root cause, for the distributions whose requirements are unmet:
/// - several problems of one distribution: reinstall it at its version, which makes pip install what is
///   missing and move what conflicts to what it declares (`pip install 'vllm==0.34.0'`);
/// - one missing requirement: install it (`pip install 'sympy>=1.13.3'`);
/// - a companion built for one exact release of what it pins (torchvision for torch): move the companion
///   to the release that matches what is installed, from the same index;
/// - otherwise: install what the requirement asks for (`pip install 'torch==2.14.0'`).
pub(crate) fn fix_for(matrix: &Matrix, broken: &[&UnmetRequirement]) -> String {
    let mut by_dist: BTreeMap<&str, Vec<&UnmetRequirement>> = BTreeMap::new();
    for u in broken {
        by_dist.entry(u.dist.as_str()).or_default().push(u);
    }
    let mut plain: Vec<String> = Vec::new();
    let mut special: Vec<String> = Vec::new();
    for (dist, problems) in &by_dist {
        match problems.as_slice() {
            [one] if one.installed.is_none() => plain.push(quote(&one.requires)),
            [one] => {
                let required = normalize_package(one.required_name());
                let installed = one.installed.clone().unwrap_or_default();
                if is_companion(matrix, dist, &required) {
                    let index = index_for_local(&installed);
                    special.push(format!(
                        "pip install -U {dist} {}{index}",
                        quote(&format!("{required}=={installed}"))
                    ));
                } else {
                    plain.push(quote(&one.requires));
                }
            }
            many => plain.push(quote(&format!(
                "{dist}=={}",
                many.first().map_or("", |u| u.version.as_str())
            ))),
        }
    }
    let mut commands = Vec::new();
    if !plain.is_empty() {
        commands.push(format!("pip install {}", plain.join(" ")));
    }
    commands.extend(special);
    commands.join(" && ")
}

/// Whether `dist` is built for one exact release of `of` (torchvision for torch): the matrix row that
/// detects `of` lists it among its companions.
fn is_companion(matrix: &Matrix, dist: &str, of: &str) -> bool {
    matrix.software.iter().any(|sw| {
        sw.detect.python.iter().any(|p| normalize_package(p) == of)
            && sw
                .detect
                .companions
                .iter()
                .any(|c| normalize_package(c) == dist)
    })
}

/// A local version tag names the index a build came from: `2.15.0+cu126` → the cu126 index.
fn index_for_local(version: &str) -> String {
    match version.split_once('+') {
        Some((_, tag))
            if tag == "cpu"
                || tag.starts_with("cu")
                || tag.starts_with("rocm")
                || tag.starts_with("xpu") =>
        {
            format!(" --index-url https://download.pytorch.org/whl/{tag}")
        }
        _ => String::new(),
    }
}

fn quote(requirement: &str) -> String {
    if requirement.contains(['<', '>', '=', '!', '~', '[', ' ', ';']) {
        format!("'{requirement}'")
    } else {
        requirement.to_string()
    }
}

fn dedup<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmet(
        dist: &str,
        version: &str,
        requires: &str,
        installed: Option<&str>,
    ) -> UnmetRequirement {
        UnmetRequirement {
            dist: dist.into(),
            version: version.into(),
            requires: requires.into(),
            installed: installed.map(str::to_string),
            ..UnmetRequirement::default()
        }
    }

    #[test]
    fn one_fix_per_root_cause() {
        let matrix = crate::matrix::embedded().unwrap();
        let sympy = unmet("torch", "2.15.0", "sympy>=1.13.3", None);
        assert_eq!(fix_for(&matrix, &[&sympy]), "pip install 'sympy>=1.13.3'");
        let pin = unmet("vllm", "0.34.0", "torch==2.14.0", Some("2.15.0"));
        assert_eq!(fix_for(&matrix, &[&pin]), "pip install 'torch==2.14.0'");
        let cloud = unmet("vllm", "0.34.0", "cloudpickle", None);
        assert_eq!(
            fix_for(&matrix, &[&cloud, &pin]),
            "pip install 'vllm==0.34.0'"
        );
        let tv = unmet("torchvision", "0.24.0", "torch==2.9.0", Some("2.15.0"));
        assert_eq!(
            fix_for(&matrix, &[&tv]),
            "pip install -U torchvision 'torch==2.15.0'"
        );
        let tv = unmet(
            "torchvision",
            "0.24.0",
            "torch==2.9.0",
            Some("2.15.0+cu126"),
        );
        assert_eq!(
            fix_for(&matrix, &[&tv, &sympy]),
            "pip install 'sympy>=1.13.3' && pip install -U torchvision 'torch==2.15.0+cu126' --index-url https://download.pytorch.org/whl/cu126"
        );
    }
}
