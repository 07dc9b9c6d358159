//! Reads the matrix from the embedded copy or a directory and validates all of it, collecting every
//! problem (file, line, column) before giving up.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::condition::{check_placeholders, compile};
use super::{
    Category, Detect, Matrix, Profile, Requirement, Rule, RunsOn, Software, Status, Support,
    MATRIX_SCHEMA,
};
use crate::error::{read_input, FileProblem, InputError};
use crate::facts::load::facts_from_node;
use crate::yaml::{self, from_node, Node, Problem, Problems};

mod embedded_files {
    include!(concat!(env!("OUT_DIR"), "/embedded_matrix.rs"));
}

/// The matrix compiled into the binary from `matrix/`.
pub fn embedded() -> Result<Matrix, InputError> {
    let files: Vec<(String, String)> = embedded_files::FILES
        .iter()
        .map(|(name, text)| (format!("matrix/{name}"), (*text).to_string()))
        .collect();
    from_files(&files)
}

/// Reads `DIR/software.yaml`, `DIR/workloads.yaml`, `DIR/profiles/*.yaml` and `DIR/releases/*.yaml`.
pub fn from_dir(dir: &Path) -> Result<Matrix, InputError> {
    let shown = dir.display().to_string();
    if !dir.is_dir() {
        return Err(InputError::file(&shown, "matrix directory not found"));
    }
    let mut files = vec![];
    let software = dir.join("software.yaml");
    files.push((software.display().to_string(), read_input(&software)?));
    let workloads = dir.join("workloads.yaml");
    if workloads.is_file() {
        files.push((workloads.display().to_string(), read_input(&workloads)?));
    }
    for sub in ["profiles", "releases"] {
        let folder = dir.join(sub);
        if !folder.is_dir() {
            continue;
        }
        let entries = std::fs::read_dir(&folder).map_err(|e| {
            InputError::file(&folder.display().to_string(), crate::error::io_reason(&e))
        })?;
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = read_input(&path)?;
            files.push((path.display().to_string(), text));
        }
    }
    from_files(&files)
}

/// Validates a set of (file name, text); `software.yaml` must be among them, profiles are files under a
/// `profiles/` folder.
pub fn from_files(files: &[(String, String)]) -> Result<Matrix, InputError> {
    let mut problems: Vec<FileProblem> = Vec::new();
    let mut warnings = Vec::new();
    let mut matrix = Matrix {
        categories: vec![],
        software: vec![],
        profiles: vec![],
        workloads: Default::default(),
        releases: Default::default(),
        warnings: vec![],
    };
    let mut found_software = false;
    let mut workloads_file = None;
    let mut release_files: Vec<(&str, &str)> = Vec::new();
    for (name, text) in files {
        let base = Path::new(name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(name);
        let folder = Path::new(name).parent().and_then(|p| p.file_name());
        let in_profiles = folder.is_some_and(|p| p == "profiles");
        if folder.is_some_and(|p| p == "releases") {
            release_files.push((name, text));
            continue;
        }
        let mut file_problems = Vec::new();
        if in_profiles {
            let stem = base.trim_end_matches(".yaml").trim_end_matches(".yml");
            if let Some(profile) = load_profile(stem, text, &mut file_problems) {
                matrix.profiles.push(profile);
            }
        } else if base == "software.yaml" {
            found_software = true;
            load_software(text, &mut matrix, &mut file_problems, &mut warnings);
        } else if base == "workloads.yaml" {
            workloads_file = Some((name, text));
        }
        file_problems.sort_by_key(|p| p.loc);
        file_problems.dedup();
        problems.extend(file_problems.into_iter().map(|p| FileProblem::new(name, p)));
        for w in warnings.drain(..) {
            matrix.warnings.push(FileProblem::new(name, w));
        }
    }
    // Workloads name software rows and profiles, so they are read last.
    if let Some((name, text)) = workloads_file {
        let software: Vec<&str> = matrix.software.iter().map(|s| s.id.as_str()).collect();
        let profiles: Vec<&str> = matrix.profiles.iter().map(|p| p.id.as_str()).collect();
        let mut file_problems = Vec::new();
        let loaded = super::workloads::load(text, &software, &profiles, &mut file_problems);
        file_problems.sort_by_key(|p| p.loc);
        problems.extend(file_problems.into_iter().map(|p| FileProblem::new(name, p)));
        matrix.workloads = loaded;
    }
    // Release data names software rows, so it is read after them.
    let software: Vec<&str> = matrix.software.iter().map(|s| s.id.as_str()).collect();
    let mut release_problems = Vec::new();
    matrix.releases = super::releases::load(&release_files, &software, &mut release_problems);
    problems.extend(
        release_problems
            .into_iter()
            .map(|(file, p)| FileProblem::new(&file, p)),
    );
    if !found_software {
        problems.push(FileProblem::whole(
            "software.yaml",
            "missing from the matrix directory",
        ));
    }
    if problems.is_empty() {
        Ok(matrix)
    } else {
        Err(InputError::Files(problems))
    }
}

fn load_profile(stem: &str, text: &str, problems: &mut Vec<Problem>) -> Option<Profile> {
    let node = yaml::parse(text).map_err(|p| problems.push(p)).ok()?;
    let mut facts = facts_from_node(&node, problems)?;
    if let Some(m) = &mut facts.machine {
        m.kind = crate::facts::MachineKind::Profile;
    }
    match &facts.machine {
        None => {
            problems.push(Problem::at(
                node.loc,
                "a profile needs a `machine:` block with its id and name",
            ));
            None
        }
        Some(m) if m.id != stem => {
            let loc = node
                .get("machine")
                .and_then(|m| m.get("id"))
                .map_or(node.loc, |n| n.loc);
            problems.push(Problem::at(
                loc,
                format!("machine id `{}` differs from the file name `{stem}`", m.id),
            ));
            None
        }
        Some(m) => Some(Profile {
            id: m.id.clone(),
            facts,
        }),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    schema: String,
    categories: Vec<Category>,
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            id: String,
            title: String,
        }
        let raw = Raw::deserialize(d)?;
        Ok(Category {
            id: raw.id,
            title: raw.title,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSoftware {
    id: String,
    name: String,
    category: String,
    homepage: Option<String>,
    #[serde(default)]
    detect: Detect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    status: Status,
    support: Option<Support>,
    note: String,
    reason: String,
    fix: Option<String>,
    source: String,
    #[serde(default)]
    runs_on: RunsOn,
}

fn load_software(
    text: &str,
    matrix: &mut Matrix,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) {
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(p) => return problems.push(p),
    };
    let collected = Problems::default();
    if let Some(header) = from_node::<RawHeader>(&root.without(&["software"]), &collected) {
        if header.schema != MATRIX_SCHEMA {
            let loc = root.get("schema").map_or(root.loc, |n| n.loc);
            problems.push(Problem::at(
                loc,
                format!("schema is `{}`, expected `{MATRIX_SCHEMA}`", header.schema),
            ));
        }
        matrix.categories = header.categories;
    }
    let mut category_ids: HashMap<&str, ()> = HashMap::new();
    for c in &matrix.categories {
        category_ids.insert(c.id.as_str(), ());
    }
    let Some(entries) = root.get("software").and_then(Node::as_seq) else {
        problems.push(Problem::at(root.loc, "expected a `software:` list"));
        problems.extend(collected.into_vec());
        return;
    };
    let mut seen_software: BTreeMap<String, yaml::Loc> = BTreeMap::new();
    let mut seen_rules: BTreeMap<String, yaml::Loc> = BTreeMap::new();
    for entry in entries {
        let raw = from_node::<RawSoftware>(&entry.without(&["rules", "requires"]), &collected);
        let requires = load_requires(entry, problems);
        let rules = load_rules(entry, &collected, problems, warnings, &mut seen_rules);
        let Some(raw) = raw else { continue };
        let id_loc = entry.get("id").map_or(entry.loc, |n| n.loc);
        check_id(&raw.id, id_loc, "software", &mut seen_software, problems);
        if !category_ids.contains_key(raw.category.as_str()) {
            let loc = entry.get("category").map_or(entry.loc, |n| n.loc);
            let known: Vec<&str> = matrix.categories.iter().map(|c| c.id.as_str()).collect();
            problems.push(Problem::at(
                loc,
                format!(
                    "unknown category `{}` (known: {})",
                    raw.category,
                    known.join(", ")
                ),
            ));
        }
        let detect_loc = entry.get("detect").map_or(entry.loc, |n| n.loc);
        for dist in raw.detect.imports.keys() {
            if !raw.detect.python.iter().any(|p| p == dist) {
                problems.push(Problem::at(
                    detect_loc,
                    format!("`imports` names `{dist}`, which is not in `python` (the distributions detected)"),
                ));
            }
        }
        matrix.software.push(Software {
            id: raw.id,
            name: raw.name,
            category: raw.category,
            homepage: raw.homepage,
            detect: raw.detect,
            requires,
            rules,
            loc: entry.loc,
        });
    }
    check_requires(&matrix.software, problems);
    problems.extend(collected.into_vec());
}

/// `requires: [pytorch, {id: bitsandbytes, when: {fact: gpu.vendor, is: nvidia}}]`.
fn load_requires(entry: &Node, problems: &mut Vec<Problem>) -> Vec<Requirement> {
    let Some(node) = entry.get("requires") else {
        return vec![];
    };
    let Some(items) = node.as_seq() else {
        problems.push(Problem::at(
            node.loc,
            "`requires` must be a list of software ids",
        ));
        return vec![];
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(id) = item.as_str() {
            out.push(Requirement {
                id: id.to_string(),
                when: None,
            });
            continue;
        }
        let id = item.get("id").and_then(Node::as_str);
        let known_keys = item.as_map().is_some_and(|m| {
            m.iter()
                .all(|(k, _)| matches!(k.as_str(), Some("id" | "when")))
        });
        match (id, known_keys) {
            (Some(id), true) => {
                let when = item.get("when").map(|w| compile(w, problems));
                if let Some(None) = when {
                    continue;
                }
                out.push(Requirement {
                    id: id.to_string(),
                    when: when.flatten(),
                });
            }
            _ => problems.push(Problem::at(
                item.loc,
                "a requirement is a software id, or `{id: ID, when: CONDITION}`",
            )),
        }
    }
    out
}

/// Every `requires` names a known row, and no row needs itself through others.
fn check_requires(software: &[Software], problems: &mut Vec<Problem>) {
    let ids: Vec<&str> = software.iter().map(|s| s.id.as_str()).collect();
    for sw in software {
        let loc = sw.loc;
        for need in &sw.requires {
            if !ids.contains(&need.id.as_str()) {
                problems.push(Problem::at(
                    loc,
                    format!("`requires` names unknown software `{}`", need.id),
                ));
            }
        }
        let mut seen = vec![sw.id.as_str()];
        let mut frontier: Vec<&str> = sw.requires.iter().map(|r| r.id.as_str()).collect();
        while let Some(id) = frontier.pop() {
            if id == sw.id {
                problems.push(Problem::at(
                    loc,
                    format!(
                        "`{}` requires itself (through {})",
                        sw.id,
                        seen[1..].join(", ")
                    ),
                ));
                break;
            }
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            if let Some(next) = software.iter().find(|s| s.id == id) {
                frontier.extend(next.requires.iter().map(|r| r.id.as_str()));
            }
        }
    }
}

fn load_rules(
    entry: &Node,
    collected: &Problems,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
    seen: &mut BTreeMap<String, yaml::Loc>,
) -> Vec<Rule> {
    let Some(nodes) = entry
        .get("rules")
        .and_then(Node::as_seq)
        .filter(|r| !r.is_empty())
    else {
        problems.push(Problem::at(entry.loc, "expected a non-empty `rules:` list"));
        return vec![];
    };
    let mut rules = Vec::new();
    let mut fallback_seen = false;
    for node in nodes {
        let raw = from_node::<RawRule>(&node.without(&["when"]), collected);
        let when = node.get("when").map(|w| compile(w, problems));
        let Some(raw) = raw else { continue };
        check_id(
            &raw.id,
            node.get("id").map_or(node.loc, |n| n.loc),
            "rule",
            seen,
            problems,
        );
        for (field, text) in [
            ("note", Some(&raw.note)),
            ("reason", Some(&raw.reason)),
            ("fix", raw.fix.as_ref()),
        ] {
            if let (Some(text), Some(n)) = (text, node.get(field)) {
                check_placeholders(text, n, problems);
            }
        }
        if raw.source.trim().is_empty() {
            problems.push(Problem::at(
                node.get("source").map_or(node.loc, |n| n.loc),
                format!("rule `{}` needs a source", raw.id),
            ));
        }
        if fallback_seen {
            warnings.push(Problem::at(
                node.loc,
                format!(
                    "rule `{}` can never apply: an earlier rule has no `when`",
                    raw.id
                ),
            ));
        }
        let when = match when {
            Some(Some(c)) => Some(c),
            Some(None) => continue,
            None => {
                fallback_seen = true;
                None
            }
        };
        rules.push(Rule {
            id: raw.id,
            when,
            support: raw.support.unwrap_or(raw.status.default_support()),
            status: raw.status,
            note: raw.note,
            reason: raw.reason,
            fix: raw.fix,
            source: raw.source,
            runs_on: raw.runs_on,
            loc: node.loc,
        });
    }
    if !fallback_seen {
        problems.push(Problem::at(
            nodes[nodes.len() - 1].loc,
            "the last rule must have no `when` (the fallback when nothing else applies)",
        ));
    }
    rules
}

fn check_id(
    id: &str,
    loc: yaml::Loc,
    what: &str,
    seen: &mut BTreeMap<String, yaml::Loc>,
    problems: &mut Vec<Problem>,
) {
    let kebab = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--");
    if !kebab {
        problems.push(Problem::at(
            loc,
            format!("{what} id `{id}` is not kebab-case (a-z, 0-9, single dashes)"),
        ));
    }
    if let Some(first) = seen.get(id) {
        problems.push(Problem::at(
            loc,
            format!("duplicate {what} id `{id}` (first at line {})", first.line),
        ));
    } else {
        seen.insert(id.to_string(), loc);
    }
}
