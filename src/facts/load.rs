//! Reading facts back: `--facts FILE` (the JSON `mlcompat probe` prints, or YAML) and reference profiles.
//! The schema is checked first, so a report or some other JSON gets "wrong schema", not a list of keys.

use crate::error::{FileProblem, InputError};
use crate::facts::{Facts, FACTS_SCHEMA};
use crate::yaml::{self, from_node, Node, Problem, Problems};

/// Facts from a located YAML node; problems (all of them) go to `problems`.
pub(crate) fn facts_from_node(node: &Node, problems: &mut Vec<Problem>) -> Option<Facts> {
    if node.as_map().is_none() {
        problems.push(Problem::at(
            node.loc,
            format!(
                "expected a mapping with `schema: {FACTS_SCHEMA}`, found {}",
                node.describe()
            ),
        ));
        return None;
    }
    match node.get("schema").and_then(Node::as_str) {
        Some(FACTS_SCHEMA) => {}
        Some(other) => {
            let loc = node.get("schema").map_or(node.loc, |n| n.loc);
            problems.push(Problem::at(loc, format!("schema is `{other}`, expected `{FACTS_SCHEMA}` (a file written by `mlcompat probe`)")));
            return None;
        }
        None => {
            problems.push(Problem::at(
                node.loc,
                format!("no `schema: {FACTS_SCHEMA}` key: not a facts file"),
            ));
            return None;
        }
    }
    let collected = Problems::default();
    let facts = from_node::<Facts>(node, &collected);
    let found = collected.into_vec();
    let clean = found.is_empty();
    problems.extend(found);
    let mut facts = facts.filter(|_| clean)?;
    let out_of_range: Vec<Problem> = check_ranges(&mut facts)
        .into_iter()
        .map(|(path, message)| Problem {
            loc: locate(node, &path),
            message,
        })
        .collect();
    if !out_of_range.is_empty() {
        problems.extend(out_of_range);
        return None;
    }
    facts.normalize();
    Some(facts)
}

/// A step into a document: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

fn dotted(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Where `path` is in a located document.
fn locate(node: &Node, path: &[Step]) -> Option<yaml::Loc> {
    let mut at = node;
    for step in path {
        at = match step {
            Step::Key(k) => at.get(k)?,
            Step::Index(i) => at.as_seq()?.get(*i)?,
        };
    }
    Some(at.loc)
}

/// The range a number may take, by its key (and the key of the mapping holding it): `(min, min
/// allowed?, max, unit)`. Wide enough for a rack-scale system, narrow enough that no estimate divides by
/// zero, goes negative or overflows.
fn range_for(key: &str, parent: &str) -> Option<(f64, bool, f64, &'static str)> {
    Some(match key {
        _ if parent == "tflops" || key.ends_with("_tflops") => (0.0, false, 1e8, " TFLOPS"),
        "memory_gb" | "metal_limit_gb" => (0.0, false, 1e6, " GB"),
        _ if key.ends_with("bandwidth_gbs") => (0.0, false, 1e7, " GB/s"),
        "tdp_w" | "power_limit_w" => (0.0, false, 1e6, " W"),
        "price_usd" => (0.0, true, 1e9, " USD"),
        "cpu_cores" | "gpu_cores" => (1.0, true, 1e6, ""),
        "max_sm_clock_mhz" | "max_memory_clock_mhz" => (0.0, false, 1e6, " MHz"),
        "memory_bus_width_bits" => (0.0, false, 1e5, " bits"),
        _ if parent == "probe_times_ms" => (0.0, true, 1e9, " ms"),
        _ => return None,
    })
}

fn show_number(n: f64) -> String {
    if n != 0.0 && (n.abs() >= 1e9 || n.abs() < 1e-4) {
        format!("{n:e}")
    } else {
        format!("{n}")
    }
}

/// Every number of `facts` outside its range (or not finite), with its path and what was expected.
fn check_ranges(facts: &mut Facts) -> Vec<(Vec<Step>, String)> {
    // The Python section holds no numbers but maybe thousands of packages: left out of the walk.
    let python = facts.python.take();
    let value = serde_json::to_value(&*facts);
    facts.python = python;
    let Ok(value) = value else {
        return vec![];
    };
    let mut out = Vec::new();
    walk(&value, &mut Vec::new(), "", &mut out);
    out
}

fn walk(
    value: &serde_json::Value,
    path: &mut Vec<Step>,
    parent: &str,
    out: &mut Vec<(Vec<Step>, String)>,
) {
    match value {
        serde_json::Value::Object(map) => {
            let here = match path.last() {
                Some(Step::Key(k)) => k.clone(),
                _ => String::new(),
            };
            for (k, v) in map {
                path.push(Step::Key(k.clone()));
                walk(v, path, &here, out);
                path.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Step::Index(i));
                walk(v, path, parent, out);
                path.pop();
            }
        }
        // serde_json writes NaN and infinities as null: a number field holding null came from one.
        serde_json::Value::Null if !path.is_empty() => {
            out.push((
                path.clone(),
                format!("`{}` is not a finite number", dotted(path)),
            ));
        }
        serde_json::Value::Number(n) => {
            let Some(x) = n.as_f64() else { return };
            let key = match path.last() {
                Some(Step::Key(k)) => k.as_str(),
                _ => "",
            };
            if let Some((min, min_ok, max, unit)) = range_for(key, parent) {
                let low = if min_ok { x < min } else { x <= min };
                if low || x > max {
                    let lower = if min_ok { "at least" } else { "more than" };
                    out.push((
                        path.clone(),
                        format!(
                            "`{}` is {}: expected {lower} {} and at most {}{unit}",
                            dotted(path),
                            show_number(x),
                            show_number(min),
                            show_number(max)
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
}

/// Whether `text` means to be a facts document: a JSON object, or YAML with a `schema:` key (or one of the
/// facts' own sections opening a mapping). Only such text gets the parsers' errors with line and column.
pub fn looks_like_facts(text: &str) -> bool {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') {
        return true;
    }
    text.lines().any(|l| {
        let l = l.trim_end();
        l.starts_with("schema:")
            || [
                "machine:",
                "host:",
                "gpus:",
                "nvidia:",
                "cuda:",
                "apple:",
                "python:",
                "binaries:",
                "torch:",
            ]
            .contains(&l)
    })
}

/// Parses a facts file: JSON when it starts with `{`, YAML otherwise.
pub fn facts_from_text(file: &str, text: &str) -> Result<Facts, InputError> {
    if text.trim_start().starts_with('{') {
        return facts_from_json(file, text);
    }
    let node = yaml::parse(text).map_err(|p| InputError::Files(vec![FileProblem::new(file, p)]))?;
    let mut problems = Vec::new();
    match facts_from_node(&node, &mut problems) {
        Some(facts) if problems.is_empty() => Ok(facts),
        _ => Err(InputError::Files(
            problems
                .into_iter()
                .map(|p| FileProblem::new(file, p))
                .collect(),
        )),
    }
}

fn facts_from_json(file: &str, text: &str) -> Result<Facts, InputError> {
    let located = |e: serde_json::Error| {
        InputError::Files(vec![FileProblem {
            file: file.to_string(),
            loc: Some(yaml::Loc {
                line: e.line(),
                col: e.column(),
            }),
            message: format!("invalid facts JSON: {}", strip_position(&e.to_string())),
        }])
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(located)?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(FACTS_SCHEMA) => {}
        Some(other) => {
            return Err(InputError::file(file, format!("schema is `{other}`, expected `{FACTS_SCHEMA}` (a file written by `mlcompat probe`)")));
        }
        None => {
            return Err(InputError::file(
                file,
                format!("no `\"schema\": \"{FACTS_SCHEMA}\"` key: not a facts file"),
            ))
        }
    }
    let mut facts: Facts = serde_json::from_str(text).map_err(located)?;
    let out_of_range = check_ranges(&mut facts);
    if !out_of_range.is_empty() {
        // JSON is YAML too: the located reader finds each number's line and column.
        let node = yaml::parse(text).ok();
        return Err(InputError::Files(
            out_of_range
                .into_iter()
                .map(|(path, message)| FileProblem {
                    file: file.to_string(),
                    loc: node.as_ref().and_then(|n| locate(n, &path)),
                    message,
                })
                .collect(),
        ));
    }
    facts.normalize();
    Ok(facts)
}

/// serde_json appends " at line L column C"; the position is already in front of the message.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        facts_from_text("box.json", text).unwrap_err().to_string()
    }

    #[test]
    fn reads_json_and_yaml() {
        let f = facts_from_text("a.json", r#"{"schema":"mlcompat.facts/1","host":{"os":"linux","os_version":"24.04"},"python":{"packages":{"Flash_Attn":"2.7.4.post1"}}}"#).unwrap();
        assert_eq!(f.host.os_version.unwrap().to_string(), "24.04");
        assert!(f.python.unwrap().packages.contains_key("flash-attn"));
        let f = facts_from_text(
            "a.yaml",
            "schema: mlcompat.facts/1\nnvidia: {driver: 580.95.05}\n",
        )
        .unwrap();
        assert_eq!(f.nvidia.unwrap().driver.unwrap().to_string(), "580.95.05");
    }

    #[test]
    fn numbers_out_of_range_name_their_place() {
        let e = err("schema: mlcompat.facts/1\nhost:\n  memory_gb: -80\n");
        assert_eq!(
            e,
            "box.json:3:14: `host.memory_gb` is -80: expected more than 0 and at most 1000000 GB"
        );
        let e = err("schema: mlcompat.facts/1\ngpus:\n  - {vendor: nvidia, name: X, bandwidth_gbs: 0, memory_gb: nan}\n");
        assert!(
            e.contains("3:46: `gpus[0].bandwidth_gbs` is 0: expected more than 0")
                && e.contains("3:60: `gpus[0].memory_gb` is not a finite number"),
            "{e}"
        );
        let e = err("{\"schema\": \"mlcompat.facts/1\",\n \"host\": {\"memory_gb\": 1e308}}");
        assert_eq!(
            e,
            "box.json:2:24: `host.memory_gb` is 1e308: expected more than 0 and at most 1000000 GB"
        );
        let e = err("schema: mlcompat.facts/1\ngpus: [{vendor: nvidia, name: X, tflops: {fp4_dense: -1}}]\n");
        assert!(e.contains("`gpus[0].tflops.fp4_dense` is -1"), "{e}");
        assert!(facts_from_text(
            "ok.yaml",
            "schema: mlcompat.facts/1\nhost: {memory_gb: 128, cpu_cores: 20}\nmachine: {id: a, name: b, price_usd: 0}\n"
        )
        .is_ok());
    }

    #[test]
    fn what_looks_like_facts() {
        assert!(looks_like_facts("{\"schema\": 1"));
        assert!(looks_like_facts("# saved\nschema: mlcompat.facts/1\n"));
        assert!(looks_like_facts("host:\n  os: linux\n"));
        assert!(!looks_like_facts("hello world\n"));
        assert!(!looks_like_facts(
            "Python: 3.11.5\nNVIDIA Topology:\n\tGPU0\n"
        ));
        assert!(!looks_like_facts("OS: Ubuntu\nGCC version: 13\n"));
    }

    #[test]
    fn explains_bad_files() {
        assert!(err(r#"{"schema":"mlcompat.report/1","rows":[]}"#)
            .contains("schema is `mlcompat.report/1`"));
        assert!(err("hello world").starts_with("box.json:1:1: expected a mapping"));
        assert!(
            err("{\"schema\": \"mlcompat.facts/1\", \"host\": {\"os\": \"beos\"}}")
                .starts_with("box.json:1:")
        );
        assert!(err("{\"schema\": ").starts_with("box.json:1:"));
        let e = err("schema: mlcompat.facts/1\nnvidia:\n  driver: banana\n");
        assert_eq!(
            e,
            "box.json:3:11: invalid version `banana`: expected numbers such as 12.8 or 580.95.05"
        );
        let e = err("schema: mlcompat.facts/1\nhost: {os: linux, colour: red}\ngpus: 3\n");
        assert!(
            e.contains("2:19: unknown key `colour`") && e.contains("3:7: expected a list"),
            "{e}"
        );
    }
}
