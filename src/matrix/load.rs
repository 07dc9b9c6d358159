//! Reads the matrix from the embedded copy or a directory and validates all of it, collecting every
//! problem (file, line, column) before giving up.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::audit::Version;
use super::condition::{check_placeholders, compile};
use super::{
    Category, Day, Detect, Figure, Matrix, Profile, Release, Requirement, Rule, RunsOn, Software,
    Status, Support, LATEST_SCHEMA, MATRIX_SCHEMA,
};
use crate::error::{read_input, FileProblem, InputError};
use crate::facts::load::facts_from_node;
use crate::yaml::{self, from_node, Kind, Node, Problem, Problems};

mod embedded_files {
    include!(concat!(env!("OUT_DIR"), "/embedded_matrix.rs"));
}

/// The matrix compiled into the binary from `matrix/`. Its `checked` dates are not compared with the
/// clock here: a wrong system clock must not break `doctor` (the test suite checks them against today).
pub fn embedded() -> Result<Matrix, InputError> {
    static TREES: std::sync::OnceLock<Vec<(&'static str, &'static [u8])>> =
        std::sync::OnceLock::new();
    let trees = TREES.get_or_init(|| {
        embedded_files::FILES
            .iter()
            .map(|(_, text, tree)| (*text, *tree))
            .collect()
    });
    yaml::preparsed::register(trees);
    let files: Vec<(String, String)> = embedded_files::FILES
        .iter()
        .map(|(name, text, _)| (format!("matrix/{name}"), (*text).to_string()))
        .collect();
    from_files_on(&files, None)
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
    for optional in [
        "workloads.yaml",
        "latest.yaml",
        "gpus.yaml",
        "failures.yaml",
    ] {
        // Optional, but when present it is read (a FIFO or device there is refused by name, not skipped).
        let path = dir.join(optional);
        if std::fs::symlink_metadata(&path).is_ok() {
            files.push((path.display().to_string(), read_input(&path)?));
        }
    }
    for sub in ["profiles", "releases"] {
        let folder = dir.join(sub);
        if std::fs::symlink_metadata(&folder).is_err() {
            continue;
        }
        if !folder.is_dir() {
            // Read as empty, every profile a workload names would be "unknown".
            return Err(InputError::file(
                &folder.display().to_string(),
                "not a folder",
            ));
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
/// `profiles/` folder. `checked` dates after today (by the system clock) are refused.
pub fn from_files(files: &[(String, String)]) -> Result<Matrix, InputError> {
    from_files_on(files, Some(Day::today()))
}

/// `from_files` with the clock given: `checked` dates later than the day after `today` are refused (the
/// one day of slack is for authors east of UTC); `None` skips that check.
pub fn from_files_on(files: &[(String, String)], today: Option<Day>) -> Result<Matrix, InputError> {
    let mut problems: Vec<FileProblem> = Vec::new();
    let mut warnings = Vec::new();
    let mut matrix = Matrix {
        categories: vec![],
        software: vec![],
        profiles: vec![],
        workloads: Default::default(),
        latest: vec![],
        software_file: String::new(),
        latest_file: String::new(),
        releases: Default::default(),
        gpus: Default::default(),
        failures: Default::default(),
        warnings: vec![],
    };
    let dates = Dates { today };
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
            if let Some(profile) = load_profile(stem, name, text, dates, &mut file_problems) {
                matrix.profiles.push(profile);
            }
        } else if base == "software.yaml" {
            found_software = true;
            matrix.software_file = name.clone();
            load_software(text, dates, &mut matrix, &mut file_problems, &mut warnings);
        } else if base == "latest.yaml" {
            matrix.latest_file = name.clone();
            matrix.latest = load_latest(text, dates, &mut file_problems);
            for r in &mut matrix.latest {
                r.file = name.clone();
            }
        } else if base == "workloads.yaml" {
            workloads_file = Some((name, text));
        } else if base == "gpus.yaml" {
            let checked = |node: &Node, what: &str, problems: &mut Vec<Problem>| {
                dates.of(node, what, problems)
            };
            matrix.gpus = super::gpus::load(text, &checked, &mut file_problems);
            matrix.gpus.file = name.clone();
        } else if base == "failures.yaml" {
            let checked = |node: &Node, what: &str, problems: &mut Vec<Problem>| {
                dates.of(node, what, problems)
            };
            matrix.failures = super::failures::load(text, &checked, &mut file_problems);
            matrix.failures.file = name.clone();
        }
        file_problems.sort_by_key(|p| p.loc);
        file_problems.dedup();
        problems.extend(file_problems.into_iter().map(|p| FileProblem::new(name, p)));
        for w in warnings.drain(..) {
            matrix.warnings.push(FileProblem::new(name, w));
        }
    }
    // A software.yaml that did not parse leaves no rows: every file that names one would report each
    // name as unknown. Its own problem is the one to fix; the rest would be noise.
    if found_software && matrix.software.is_empty() && !problems.is_empty() {
        return Err(InputError::Files(problems));
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
    // Release data and known failures name software rows, so they are checked after them; a rule names
    // a known failure.
    let mut failure_problems = Vec::new();
    let mut rule_problems = Vec::new();
    link_rule_failures(&mut matrix, &mut rule_problems);
    problems.extend(
        rule_problems
            .into_iter()
            .map(|p| FileProblem::new(&matrix.software_file, p)),
    );
    let software: Vec<&str> = matrix.software.iter().map(|s| s.id.as_str()).collect();
    super::failures::check_rows(&matrix.failures, &software, &mut failure_problems);
    problems.extend(
        failure_problems
            .into_iter()
            .map(|p| FileProblem::new(&matrix.failures.file, p)),
    );
    let mut release_problems = Vec::new();
    matrix.releases = super::releases::load(&release_files, &software, &mut release_problems);
    problems.extend(
        release_problems
            .into_iter()
            .map(|(file, p)| FileProblem::new(&file, p)),
    );
    derive_latest(&mut matrix);
    if !found_software {
        problems.push(FileProblem::whole(
            "software.yaml",
            "missing from the matrix directory",
        ));
    }
    // Each file's problems in line order, the files in the order they were first reported.
    let mut order: Vec<String> = Vec::new();
    for p in &problems {
        if !order.contains(&p.file) {
            order.push(p.file.clone());
        }
    }
    problems.sort_by_key(|p| (order.iter().position(|f| f == &p.file), p.loc));
    if problems.is_empty() {
        // Profiles are facts like any other: completed once, as every command then reads them.
        let mut profiles = std::mem::take(&mut matrix.profiles);
        for p in &mut profiles {
            super::complete::complete(&matrix, &mut p.facts);
        }
        matrix.profiles = profiles;
        Ok(matrix)
    } else {
        Err(InputError::Files(problems))
    }
}

/// How `checked:` values are validated: against `today` when there is one.
#[derive(Debug, Clone, Copy)]
struct Dates {
    today: Option<Day>,
}

impl Dates {
    /// The `checked:` day of `owner` (a rule, figure or release node), or a problem saying what is wrong.
    fn of(self, owner: &Node, what: &str, problems: &mut Vec<Problem>) -> Option<Day> {
        let Some(node) = owner.get("checked") else {
            problems.push(Problem::at(
                owner.loc,
                format!("{what} needs `checked: YYYY-MM-DD`, the day its source was read"),
            ));
            return None;
        };
        let day = match node.as_str().map(Day::parse) {
            Some(Ok(day)) => day,
            Some(Err(why)) => {
                problems.push(Problem::at(node.loc, format!("{what}: `checked`: {why}")));
                return None;
            }
            None => {
                problems.push(Problem::at(
                    node.loc,
                    format!(
                        "{what}: `checked` must be a date YYYY-MM-DD, found {}",
                        node.describe()
                    ),
                ));
                return None;
            }
        };
        if let Some(today) = self.today {
            if today.days_until(day) > 1 {
                problems.push(Problem::at(
                    node.loc,
                    format!("{what}: `checked: {day}` is in the future (today is {today})"),
                ));
                return None;
            }
        }
        Some(day)
    }
}

fn load_profile(
    stem: &str,
    file: &str,
    text: &str,
    dates: Dates,
    problems: &mut Vec<Problem>,
) -> Option<Profile> {
    let mut node = yaml::parse(text).map_err(|p| problems.push(p)).ok()?;
    let figures = take_figure_sources(&mut node, dates, problems);
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
            file: file.to_string(),
            figures,
        }),
    }
}

/// In a profile, `machine.sources` maps each figure to `{ source: "URL — words", checked: YYYY-MM-DD }`.
/// The dated entries are taken out here and replaced by their source text, so the facts schema (which
/// `mlcompat probe` also writes) keeps plain strings.
fn take_figure_sources(root: &mut Node, dates: Dates, problems: &mut Vec<Problem>) -> Vec<Figure> {
    let mut figures = Vec::new();
    let Some(sources) = map_value_mut(root, "machine").and_then(|m| map_value_mut(m, "sources"))
    else {
        return figures;
    };
    let Kind::Map(entries) = &mut sources.kind else {
        return figures;
    };
    for (key, value) in entries.iter_mut() {
        let Some(name) = key.as_str().map(str::to_string) else {
            continue;
        };
        let what = format!("figure `{name}`");
        if value.as_str().is_some() {
            problems.push(Problem::at(
                value.loc,
                format!("{what} needs a date: write `{name}: {{ source: \"URL — its words\", checked: YYYY-MM-DD }}`"),
            ));
            continue;
        }
        let Some(entries) = value.as_map() else {
            problems.push(Problem::at(
                value.loc,
                format!(
                    "{what}: expected a mapping with `source` and `checked`, found {}",
                    value.describe()
                ),
            ));
            continue;
        };
        for (k, _) in entries {
            let known = matches!(k.as_str(), Some("source" | "checked"));
            if !known {
                problems.push(Problem::at(
                    k.loc,
                    format!(
                        "{what}: unknown key `{}` (expected `source` and `checked`)",
                        k.as_str().unwrap_or("?")
                    ),
                ));
            }
        }
        let source = value
            .get("source")
            .and_then(Node::as_str)
            .map(str::to_string);
        let checked = dates.of(value, &what, problems);
        match source {
            Some(source) if !source.trim().is_empty() => {
                if let Some(checked) = checked {
                    figures.push(Figure {
                        key: name,
                        source: source.clone(),
                        checked,
                        loc: value.loc,
                    });
                }
                *value = Node {
                    kind: Kind::Scalar {
                        text: source,
                        plain: false,
                    },
                    loc: value.loc,
                };
            }
            _ => problems.push(Problem::at(
                value.loc,
                format!("{what} needs a `source:` (the page and its words)"),
            )),
        }
    }
    figures
}

fn map_value_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut node.kind {
        Kind::Map(entries) => entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelease {
    project: String,
    names: Vec<String>,
    version: String,
    source: String,
}

/// `latest.yaml`: the newest release of each project whose version the audit watches.
fn load_latest(text: &str, dates: Dates, problems: &mut Vec<Problem>) -> Vec<Release> {
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(p) => {
            problems.push(p);
            return vec![];
        }
    };
    match root.get("schema").and_then(Node::as_str) {
        Some(LATEST_SCHEMA) => {}
        other => problems.push(Problem::at(
            root.get("schema").map_or(root.loc, |n| n.loc),
            format!(
                "schema is `{}`, expected `{LATEST_SCHEMA}`",
                other.unwrap_or("(missing)")
            ),
        )),
    }
    for (k, _) in root.as_map().unwrap_or_default() {
        if !matches!(k.as_str(), Some("schema" | "latest")) {
            problems.push(Problem::at(
                k.loc,
                format!(
                    "unknown key `{}` (expected `schema` and `latest`)",
                    k.as_str().unwrap_or("?")
                ),
            ));
        }
    }
    let Some(nodes) = root.get("latest").and_then(Node::as_seq) else {
        problems.push(Problem::at(root.loc, "expected a `latest:` list"));
        return vec![];
    };
    let collected = Problems::default();
    let mut seen: BTreeMap<String, yaml::Loc> = BTreeMap::new();
    let mut releases = Vec::new();
    for node in nodes {
        let raw = from_node::<RawRelease>(&node.without(&["checked"]), &collected);
        let what = format!(
            "release `{}`",
            node.get("project").and_then(Node::as_str).unwrap_or("?")
        );
        let checked = dates.of(node, &what, problems);
        let Some(raw) = raw else { continue };
        check_id(
            &raw.project,
            node.get("project").map_or(node.loc, |n| n.loc),
            "project",
            &mut seen,
            problems,
        );
        let at = |key: &str| node.get(key).map_or(node.loc, |n| n.loc);
        if Version::parse(&raw.version).is_none() {
            problems.push(Problem::at(
                at("version"),
                format!(
                    "{what}: version `{}` is not numeric (like 2.15.0)",
                    raw.version
                ),
            ));
        }
        if raw.names.iter().all(|n| n.trim().is_empty()) {
            problems.push(Problem::at(
                at("names"),
                format!("{what} needs the names it goes by in sources"),
            ));
        }
        if raw.source.trim().is_empty() {
            problems.push(Problem::at(at("source"), format!("{what} needs a source")));
        }
        if let Some(checked) = checked {
            releases.push(Release {
                project: raw.project,
                names: raw.names,
                version: raw.version,
                checked,
                source: raw.source,
                loc: node.loc,
                file: String::new(),
            });
        }
    }
    problems.extend(collected.into_vec());
    releases
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
    /// Optional where `failure` names a known failure: its cause is the reason.
    reason: Option<String>,
    fix: Option<String>,
    source: Option<String>,
    /// A known failure (`failures.yaml`) these facts predict; its cause, fix and source fill what the rule
    /// leaves out, and doctor cites it.
    failure: Option<String>,
    #[serde(default)]
    runs_on: RunsOn,
}

fn load_software(
    text: &str,
    dates: Dates,
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
        let rules = load_rules(
            entry,
            dates,
            &collected,
            problems,
            warnings,
            &mut seen_rules,
        );
        let Some(raw) = raw else { continue };
        let id_loc = entry.get("id").map_or(entry.loc, |n| n.loc);
        check_id(&raw.id, id_loc, "software", &mut seen_software, problems);
        // A software id is a Node Feature Discovery label name too (`doctor --format nfd`): at most 63
        // characters, and none of the labels the file writes besides the rows.
        if raw.id.len() > super::LABEL_MAX {
            problems.push(Problem::at(
                id_loc,
                format!(
                    "software id `{}` is {} characters; a label name (doctor --format nfd) holds at most {}",
                    raw.id,
                    raw.id.len(),
                    super::LABEL_MAX
                ),
            ));
        }
        if super::RESERVED_LABELS.contains(&raw.id.as_str()) {
            problems.push(Problem::at(
                id_loc,
                format!(
                    "software id `{}` is a label doctor --format nfd writes for itself ({}): choose another",
                    raw.id,
                    super::RESERVED_LABELS.join(", ")
                ),
            ));
        }
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
        for (dist, statement) in &raw.detect.imports {
            if !raw.detect.python.iter().any(|p| p == dist) {
                problems.push(Problem::at(
                    detect_loc,
                    format!("`imports` names `{dist}`, which is not in `python` (the distributions detected)"),
                ));
            }
            if let Err(e) = statement.parse::<super::ImportStatement>() {
                let loc = entry
                    .get("detect")
                    .and_then(|d| d.get("imports"))
                    .and_then(|i| i.get(dist))
                    .map_or(detect_loc, |n| n.loc);
                problems.push(Problem::at(loc, format!("`imports` of `{dist}`: {e}")));
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
                without: None,
            });
            continue;
        }
        let id = item.get("id").and_then(Node::as_str);
        let known_keys = item.as_map().is_some_and(|m| {
            m.iter()
                .all(|(k, _)| matches!(k.as_str(), Some("id" | "when" | "without" | "source")))
        });
        match (id, known_keys) {
            (Some(id), true) => {
                let when = item.get("when").map(|w| compile(w, problems));
                if let Some(None) = when {
                    continue;
                }
                let without = match item.get("without") {
                    None => None,
                    Some(w) => match w.as_str() {
                        Some(text) if !text.trim().is_empty() => Some(text.to_string()),
                        _ => {
                            problems.push(Problem::at(
                                w.loc,
                                "`without` says in words what the row still does without it",
                            ));
                            continue;
                        }
                    },
                };
                let source = item.get("source").and_then(Node::as_str).map(str::to_string);
                if without.is_some() && source.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    problems.push(Problem::at(
                        item.loc,
                        "an optional requirement (`without`) needs a `source` saying so",
                    ));
                    continue;
                }
                out.push(Requirement {
                    id: id.to_string(),
                    when: when.flatten(),
                    without: without.map(|w| (w, source.unwrap_or_default())),
                });
            }
            _ => problems.push(Problem::at(
                item.loc,
                "a requirement is a software id, or `{id: ID, when: CONDITION, without: WHAT IT STILL DOES, source: WHERE IT SAYS SO}`",
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
    dates: Dates,
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
        let raw = from_node::<RawRule>(&node.without(&["when", "checked"]), collected);
        let when = node.get("when").map(|w| compile(w, problems));
        let what = format!(
            "rule `{}`",
            node.get("id").and_then(Node::as_str).unwrap_or("?")
        );
        let checked = dates.of(node, &what, problems);
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
            ("reason", raw.reason.as_ref()),
            ("fix", raw.fix.as_ref()),
        ] {
            if let (Some(text), Some(n)) = (text, node.get(field)) {
                check_placeholders(text, n, problems);
            }
        }
        if raw.failure.is_none() {
            for (field, text) in [("reason", &raw.reason), ("source", &raw.source)] {
                if text.as_deref().is_none_or(|t| t.trim().is_empty()) {
                    problems.push(Problem::at(
                        node.get(field).map_or(node.loc, |n| n.loc),
                        format!(
                            "rule `{}` needs a {field} (or `failure:`, a known failure that gives it)",
                            raw.id
                        ),
                    ));
                }
            }
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
        let Some(checked) = checked else { continue };
        rules.push(Rule {
            id: raw.id,
            when,
            support: raw.support.unwrap_or(raw.status.default_support()),
            status: raw.status,
            note: raw.note,
            reason: raw.reason.unwrap_or_default(),
            fix: raw.fix,
            source: raw.source.unwrap_or_default(),
            failure: raw.failure,
            runs_on: raw.runs_on,
            checked,
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

/// The newest release of each project with pip release data, for `matrix audit`'s outdated-version check:
/// derived from `releases/*.yaml`, so the audit's idea of "current" is the data's; `latest.yaml` keeps
/// only projects without release data (cuDNN). Named by its pip package and its software row's name.
fn derive_latest(matrix: &mut Matrix) {
    let mut derived = Vec::new();
    for project in &matrix.releases.projects {
        let (Some(package), Some(newest)) = (&project.package, project.releases.first()) else {
            continue;
        };
        let known = matrix.latest.iter().any(|r| {
            r.project == project.id || r.names.iter().any(|n| n.eq_ignore_ascii_case(package))
        });
        if known {
            continue;
        }
        let mut names = vec![package.clone()];
        if let Some(sw) = matrix.software.iter().find(|s| s.id == project.id) {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(&sw.name)) {
                names.push(sw.name.clone());
            }
        }
        let Some(checked) = newest
            .builds
            .iter()
            .filter_map(|b| Day::parse(&b.checked).ok())
            .max()
        else {
            continue;
        };
        derived.push(Release {
            project: project.id.clone(),
            names,
            version: newest.version.to_string(),
            checked,
            source: format!(
                "https://pypi.org/project/{package}/ — {package} {}, the newest release in {}",
                newest.version, project.file
            ),
            loc: Default::default(),
            file: project.file.clone(),
        });
    }
    matrix.latest.extend(derived);
}

/// A rule's `failure:` names a known failure whose texts need nothing from a log (`{match.…}`); what the
/// rule leaves out — reason, fix, source — is the failure's, so doctor and `explain` say the same.
fn link_rule_failures(matrix: &mut Matrix, problems: &mut Vec<Problem>) {
    let failures = &matrix.failures;
    for sw in &mut matrix.software {
        for rule in &mut sw.rules {
            let Some(id) = rule.failure.clone() else {
                continue;
            };
            let Some(failure) = failures.get(&id) else {
                let hint = if failures.failures.is_empty() {
                    " (the matrix has no failures.yaml)"
                } else {
                    ""
                };
                problems.push(Problem::at(
                    rule.loc,
                    format!("rule `{}` names unknown failure `{id}`{hint}", rule.id),
                ));
                continue;
            };
            let fix = match &failure.fix {
                super::failures::FailureFix::Text(t) => t,
                super::failures::FailureFix::Install { otherwise, .. } => otherwise,
            };
            if failure.cause.contains("{match.") || fix.contains("{match.") {
                problems.push(Problem::at(
                    rule.loc,
                    format!(
                        "rule `{}` names failure `{id}`, whose texts quote the log (`{{match.…}}`), which a rule has not",
                        rule.id
                    ),
                ));
                continue;
            }
            if rule.reason.trim().is_empty() {
                rule.reason = failure.cause.clone();
            }
            if rule.fix.is_none() {
                rule.fix = Some(fix.clone());
            }
            if rule.source.trim().is_empty() {
                rule.source = failure.source.clone();
            }
        }
    }
}

pub(super) fn check_id(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The trees built into the binary are the trees the text parses to, position for position: errors
    /// and verdicts read the same either way.
    #[test]
    fn every_embedded_file_carries_its_parsed_tree() {
        for (name, text, tree) in embedded_files::FILES {
            assert!(!tree.is_empty(), "{name}: no tree built");
            let parsed = yaml::parse_text(text).expect("the embedded matrix parses");
            assert_eq!(
                yaml::preparsed::decode(tree).as_ref(),
                Some(&parsed),
                "{name}"
            );
        }
    }
}
