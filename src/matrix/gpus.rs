//! The GPU table (`matrix/gpus.yaml`): what a GPU's name says about it — vendor, compute capability and
//! datasheet figures — for every GPU people own, not only the reference profiles'. A pasted `nvidia-smi`
//! or `collect_env` names the GPU and nothing more; the completion step ([`super::complete`]) reads the
//! rest from here. Exact names win; a series prefix ("GeForce RTX 40") gives the compute capability of
//! the variants the table does not list one by one.

use serde::Deserialize;

use super::Day;
use crate::facts::{Tflops, Vendor};
use crate::version::ToolVersion;
use crate::yaml::{self, from_node, Loc, Node, Problem, Problems};

pub const GPUS_SCHEMA: &str = "mlcompat.gpus/1";

#[derive(Debug, Clone, Default)]
pub struct GpuTable {
    pub gpus: Vec<GpuSpec>,
    pub series: Vec<GpuSeries>,
    /// The file the table came from (empty when there is none).
    pub file: String,
}

/// One GPU model, by the names drivers print for it, with its datasheet figures.
#[derive(Debug, Clone)]
pub struct GpuSpec {
    pub id: String,
    pub vendor: Vendor,
    /// As NVML, nvidia-smi, PyTorch or rocminfo print them.
    pub names: Vec<String>,
    /// The same, as [`normalize_name`] makes them (computed once, at load).
    pub normalized: Vec<String>,
    pub compute_capability: Option<ToolVersion>,
    /// As the datasheet states it (GiB-sized, as vendors count GPU memory).
    pub memory_gb: Option<f64>,
    pub unified_memory: Option<bool>,
    pub bandwidth_gbs: Option<f64>,
    pub tflops: Option<Tflops>,
    pub source: String,
    pub checked: Day,
    pub loc: Loc,
}

/// A family whose every member shares a compute capability ("GeForce RTX 40": 8.9).
#[derive(Debug, Clone)]
pub struct GpuSeries {
    pub id: String,
    pub vendor: Vendor,
    pub prefixes: Vec<String>,
    /// The same, as [`normalize_name`] makes them (computed once, at load).
    pub normalized: Vec<String>,
    pub compute_capability: Option<ToolVersion>,
    pub source: String,
    pub checked: Day,
    pub loc: Loc,
}

/// What the table knows about one name.
#[derive(Debug, Clone, Copy)]
pub enum GpuMatch<'a> {
    Exact(&'a GpuSpec),
    Series(&'a GpuSeries),
}

impl GpuMatch<'_> {
    pub fn vendor(self) -> Vendor {
        match self {
            GpuMatch::Exact(g) => g.vendor,
            GpuMatch::Series(s) => s.vendor,
        }
    }

    pub fn id(self) -> String {
        match self {
            GpuMatch::Exact(g) => g.id.clone(),
            GpuMatch::Series(s) => s.id.clone(),
        }
    }

    pub fn source(self) -> String {
        match self {
            GpuMatch::Exact(g) => g.source.clone(),
            GpuMatch::Series(s) => s.source.clone(),
        }
    }
}

/// A GPU name as the table compares it: lower case, without a leading "NVIDIA", runs of spaces, `-`
/// and `_` as one space ("Tesla V100-SXM2-32GB" → "tesla v100 sxm2 32gb").
pub fn normalize_name(name: &str) -> String {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .collect();
    let words = match words.first() {
        Some(&"nvidia") => &words[1..],
        _ => &words[..],
    };
    words.join(" ")
}

impl GpuTable {
    /// The entry for `name`: an exact name first, else the longest series prefix. A trailing note in
    /// parentheses that a reader added ("AMD Radeon 8060S Graphics (gfx1151)") is tried without it.
    pub fn find(&self, name: &str) -> Option<GpuMatch<'_>> {
        let found = self.find_exact(name);
        match name
            .trim_end()
            .strip_suffix(')')
            .and_then(|n| n.rsplit_once('('))
        {
            Some((bare, _)) if found.is_none() => self.find_exact(bare),
            _ => found,
        }
    }

    fn find_exact(&self, name: &str) -> Option<GpuMatch<'_>> {
        let wanted = normalize_name(name);
        if wanted.is_empty() {
            return None;
        }
        if let Some(g) = self.gpus.iter().find(|g| g.normalized.contains(&wanted)) {
            return Some(GpuMatch::Exact(g));
        }
        self.series
            .iter()
            .flat_map(|s| s.normalized.iter().map(move |p| (s, p)))
            .filter(|(_, p)| starts_with_words(&wanted, p))
            .max_by_key(|(_, p)| p.len())
            .map(|(s, _)| GpuMatch::Series(s))
    }
}

/// Whether `name` starts with `prefix` ("geforce rtx 40" matches "geforce rtx 4090 laptop gpu"); a
/// prefix may end inside a model number, which is how families are named.
fn starts_with_words(name: &str, prefix: &str) -> bool {
    !prefix.is_empty() && name.starts_with(prefix)
}

// ---------------------------------------------------------------------------------------------------
// Loading

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGpu {
    id: String,
    vendor: Vendor,
    names: Vec<String>,
    compute_capability: Option<String>,
    memory_gb: Option<f64>,
    unified_memory: Option<bool>,
    bandwidth_gbs: Option<f64>,
    tflops: Option<Tflops>,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeries {
    id: String,
    vendor: Vendor,
    prefixes: Vec<String>,
    compute_capability: Option<String>,
    source: String,
}

/// Reads `gpus.yaml`; `checked` reads each entry's date (the loader's date rules). Every problem is
/// collected.
/// Reads an entry's `checked:` day (the loader's date rules), or records why it cannot.
pub(crate) type CheckedDay<'a> = &'a dyn Fn(&Node, &str, &mut Vec<Problem>) -> Option<Day>;

pub(crate) fn load(text: &str, checked: CheckedDay<'_>, problems: &mut Vec<Problem>) -> GpuTable {
    let mut table = GpuTable::default();
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(p) => {
            problems.push(p);
            return table;
        }
    };
    match root.get("schema").and_then(Node::as_str) {
        Some(GPUS_SCHEMA) => {}
        other => problems.push(Problem::at(
            root.get("schema").map_or(root.loc, |n| n.loc),
            format!(
                "schema is `{}`, expected `{GPUS_SCHEMA}`",
                other.unwrap_or("(missing)")
            ),
        )),
    }
    for (k, _) in root.as_map().unwrap_or_default() {
        if !matches!(k.as_str(), Some("schema" | "gpus" | "series")) {
            problems.push(Problem::at(
                k.loc,
                format!(
                    "unknown key `{}` (expected `schema`, `gpus` and `series`)",
                    k.as_str().unwrap_or("?")
                ),
            ));
        }
    }
    let collected = Problems::default();
    let mut ids: Vec<(String, Loc)> = Vec::new();
    let mut check_id = |id: &str, loc: Loc, problems: &mut Vec<Problem>| {
        let kebab = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !kebab {
            problems.push(Problem::at(
                loc,
                format!("id `{id}` must be kebab-case (a-z, 0-9, -)"),
            ));
        }
        if let Some((_, first)) = ids.iter().find(|(i, _)| i == id) {
            problems.push(Problem::at(
                loc,
                format!("duplicate GPU id `{id}` (first at line {})", first.line),
            ));
        } else {
            ids.push((id.to_string(), loc));
        }
    };
    for node in root.get("gpus").and_then(Node::as_seq).unwrap_or_default() {
        let Some(raw) = from_node::<RawGpu>(&node.without(&["checked"]), &collected) else {
            continue;
        };
        let what = format!("GPU `{}`", raw.id);
        let day = checked(node, &what, problems);
        let at = |field: &str| node.get(field).map_or(node.loc, |n| n.loc);
        check_id(&raw.id, at("id"), problems);
        let cc = capability(
            raw.compute_capability.as_deref(),
            raw.vendor,
            &what,
            at("compute_capability"),
            problems,
        );
        check_source(&raw.source, &what, at("source"), problems);
        if raw.names.iter().all(|n| normalize_name(n).is_empty()) {
            problems.push(Problem::at(
                at("names"),
                format!("{what} needs at least one name"),
            ));
        }
        for (field, value) in [
            ("memory_gb", raw.memory_gb),
            ("bandwidth_gbs", raw.bandwidth_gbs),
        ] {
            if value.is_some_and(|v| !(v.is_finite() && v > 0.0 && v < 1e7)) {
                problems.push(Problem::at(
                    at(field),
                    format!("{what}: `{field}` must be a positive number"),
                ));
            }
        }
        if let Some(day) = day {
            table.gpus.push(GpuSpec {
                id: raw.id,
                vendor: raw.vendor,
                normalized: raw.names.iter().map(|n| normalize_name(n)).collect(),
                names: raw.names,
                compute_capability: cc,
                memory_gb: raw.memory_gb,
                unified_memory: raw.unified_memory,
                bandwidth_gbs: raw.bandwidth_gbs,
                tflops: raw.tflops,
                source: raw.source,
                checked: day,
                loc: node.loc,
            });
        }
    }
    for node in root
        .get("series")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let Some(raw) = from_node::<RawSeries>(&node.without(&["checked"]), &collected) else {
            continue;
        };
        let what = format!("GPU series `{}`", raw.id);
        let day = checked(node, &what, problems);
        let at = |field: &str| node.get(field).map_or(node.loc, |n| n.loc);
        check_id(&raw.id, at("id"), problems);
        let cc = capability(
            raw.compute_capability.as_deref(),
            raw.vendor,
            &what,
            at("compute_capability"),
            problems,
        );
        check_source(&raw.source, &what, at("source"), problems);
        if raw.prefixes.iter().any(|p| normalize_name(p).len() < 3) {
            problems.push(Problem::at(
                at("prefixes"),
                format!("{what}: every prefix needs at least 3 characters"),
            ));
        }
        if let Some(day) = day {
            table.series.push(GpuSeries {
                id: raw.id,
                vendor: raw.vendor,
                normalized: raw.prefixes.iter().map(|p| normalize_name(p)).collect(),
                prefixes: raw.prefixes,
                compute_capability: cc,
                source: raw.source,
                checked: day,
                loc: node.loc,
            });
        }
    }
    problems.extend(collected.into_vec());
    check_names(&table, problems);
    table
}

fn capability(
    text: Option<&str>,
    vendor: Vendor,
    what: &str,
    loc: Loc,
    problems: &mut Vec<Problem>,
) -> Option<ToolVersion> {
    match (text, vendor) {
        (None, Vendor::Nvidia) => {
            problems.push(Problem::at(
                loc,
                format!("{what}: an NVIDIA GPU needs `compute_capability`"),
            ));
            None
        }
        (None, _) => None,
        (Some(_), v) if v != Vendor::Nvidia => {
            problems.push(Problem::at(
                loc,
                format!("{what}: `compute_capability` is for NVIDIA GPUs only"),
            ));
            None
        }
        (Some(t), _) => t
            .parse::<ToolVersion>()
            .map_err(|e| problems.push(Problem::at(loc, format!("{what}: {e}"))))
            .ok(),
    }
}

fn check_source(source: &str, what: &str, loc: Loc, problems: &mut Vec<Problem>) {
    if !(source.contains("http") && source.contains('\'')) {
        problems.push(Problem::at(
            loc,
            format!("{what}: `source` must name the page and quote its words ('…')"),
        ));
    }
}

/// No name listed twice, and no series prefix that claims a listed GPU of another compute capability
/// (a prefix "A10" would catch the A100).
fn check_names(table: &GpuTable, problems: &mut Vec<Problem>) {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for g in &table.gpus {
        for (name, n) in g.names.iter().zip(&g.normalized) {
            match seen.get(n.as_str()) {
                Some(first) => problems.push(Problem::at(
                    g.loc,
                    format!(
                        "GPU name `{name}` is listed by both `{first}` and `{}`",
                        g.id
                    ),
                )),
                None => {
                    seen.insert(n, &g.id);
                }
            }
        }
    }
    for s in &table.series {
        for (prefix, p) in s.prefixes.iter().zip(&s.normalized) {
            for g in &table.gpus {
                let caught = g.normalized.iter().any(|n| starts_with_words(n, p));
                if caught && g.compute_capability != s.compute_capability {
                    problems.push(Problem::at(
                        s.loc,
                        format!(
                            "series `{}`: prefix `{prefix}` also matches GPU `{}`, whose compute capability differs",
                            s.id, g.id
                        ),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> (GpuTable, Vec<Problem>) {
        let mut problems = Vec::new();
        let day = |_: &Node, _: &str, _: &mut Vec<Problem>| Day::parse("2026-12-04").ok();
        let t = load(text, &day, &mut problems);
        (t, problems)
    }

    const TEXT: &str = r#"
schema: mlcompat.gpus/1
gpus:
  - id: a800-sxm4-80gb
    vendor: nvidia
    names: ["NVIDIA A800-SXM4-80GB"]
    compute_capability: "8.0"
    memory_gb: 80
    bandwidth_gbs: 2039
    source: "https://example.com/a800 — 'A800 80GB SXM: 2,039 GB/s'"
    checked: 2026-12-04
  - id: rtx-4090
    vendor: nvidia
    names: ["NVIDIA GeForce RTX 4090"]
    compute_capability: "8.9"
    source: "https://developer.nvidia.com/cuda-gpus — 'GeForce RTX 4090 8.9'"
    checked: 2026-12-04
series:
  - id: geforce-rtx-40
    vendor: nvidia
    prefixes: ["GeForce RTX 40"]
    compute_capability: "8.9"
    source: "https://developer.nvidia.com/cuda-gpus — 'GeForce RTX 4050 8.9'"
    checked: 2026-12-04
"#;

    #[test]
    fn names_match_as_drivers_print_them() {
        let (t, problems) = table(TEXT);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            normalize_name("Tesla V100-SXM2-32GB"),
            "tesla v100 sxm2 32gb"
        );
        assert_eq!(normalize_name("NVIDIA  A800_SXM4-80GB"), "a800 sxm4 80gb");
        assert!(
            matches!(t.find("A800-SXM4-80GB"), Some(GpuMatch::Exact(g)) if g.id == "a800-sxm4-80gb")
        );
        assert!(
            matches!(t.find("NVIDIA GeForce RTX 4050 Laptop GPU"), Some(GpuMatch::Series(s)) if s.id == "geforce-rtx-40")
        );
        assert!(matches!(
            t.find("NVIDIA GeForce RTX 4090"),
            Some(GpuMatch::Exact(_))
        ));
        assert!(t.find("NVIDIA GeForce RTX 5070").is_none());
        assert!(t.find("").is_none());
        assert!(matches!(
            t.find("NVIDIA A800-SXM4-80GB (sm_80)"),
            Some(GpuMatch::Exact(_))
        ));
    }

    #[test]
    fn bad_tables_say_where() {
        let bad = TEXT
            .replace(
                "prefixes: [\"GeForce RTX 40\"]",
                "prefixes: [\"GeForce RTX\"]",
            )
            .replace("compute_capability: \"8.0\"", "compute_capability: \"8.x\"")
            .replace(
                "names: [\"NVIDIA GeForce RTX 4090\"]",
                "names: [\"NVIDIA GeForce RTX 4090\"]\n    colour: red",
            );
        let (_, problems) = table(&bad);
        let text: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
        assert!(text.iter().any(|m| m.contains("colour")), "{text:?}");
        assert!(text.iter().any(|m| m.contains("8.x")), "{text:?}");
        assert!(problems.iter().all(|p| p.loc.is_some()), "{problems:?}");
        let clash = TEXT.replace("prefixes: [\"GeForce RTX 40\"]", "prefixes: [\"A80\"]");
        let (_, problems) = table(&clash);
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("also matches GPU `a800-sxm4-80gb`")),
            "{problems:?}"
        );
    }
}
