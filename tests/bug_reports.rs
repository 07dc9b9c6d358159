//! The bug-report corpus: environment dumps copied verbatim from public issues whose thread established
//! the outcome (tests/fixtures/bug-reports/outcomes.yaml; sources in tests/fixtures/SOURCES.md). Each is
//! read exactly as `doctor --facts FILE` reads it — dump readers, then the completion step — and must
//! reach the thread's verdict on the rows concerned, and know every fact the dump states or implies.
//!
//! An entry the doctor cannot answer yet carries `known_gap: why`: it must still miss (so a fix is
//! noticed and the mark removed), and the score printed counts it as a miss.

use std::path::{Path, PathBuf};

use mlcompat::eval::evaluate;
use mlcompat::facts::keys::{FactKey, Lookup, Value};
use mlcompat::matrix::{embedded, Status};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Outcome {
    file: String,
    url: String,
    outcome: String,
    #[serde(default)]
    rows: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    facts: std::collections::BTreeMap<String, serde_yaml::Value>,
    #[serde(default)]
    known_gap: Option<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bug-reports")
}

fn outcomes() -> Vec<Outcome> {
    let path = corpus_dir().join("outcomes.yaml");
    let text = std::fs::read_to_string(&path).expect("outcomes.yaml");
    serde_yaml::from_str(&text).expect("outcomes.yaml parses")
}

fn show(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Version(v) => v.to_string(),
        Value::Py(v) => v.to_string(),
    }
}

fn yaml_text(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

/// Versions compare by their numbers ("12.0" is "12.0.0"); the rest as text.
fn same(expected: &str, got: &Value) -> bool {
    match got {
        Value::Version(v) => expected
            .parse::<mlcompat::version::ToolVersion>()
            .is_ok_and(|e| &e == v),
        Value::Number(n) => expected.parse::<f64>().is_ok_and(|e| (e - n).abs() < 0.5),
        other => show(other).eq_ignore_ascii_case(expected),
    }
}

/// Where the thread's verdict and the doctor's differ, one line each; empty when they agree.
fn misses(m: &mlcompat::matrix::Matrix, o: &Outcome) -> Vec<String> {
    let path = corpus_dir().join(&o.file);
    let facts = match mlcompat::app::read_facts_file(m, &path) {
        Ok(f) => f,
        Err(e) => return vec![format!("not read: {e}")],
    };
    let report = evaluate(m, &facts);
    let mut out = Vec::new();
    for (id, want) in &o.rows {
        let want = match want.as_str() {
            "ok" => Status::Ok,
            "warn" => Status::Warn,
            "fail" => Status::Fail,
            other => panic!("{}: unknown status `{other}` for {id}", o.file),
        };
        match report.rows.iter().find(|r| &r.id == id) {
            None => out.push(format!("row {id}: no such row")),
            Some(r) if r.status != want => out.push(format!(
                "row {id}: {:?} ({}; {}) where the thread says {want:?}",
                r.status, r.note, r.reason
            )),
            Some(_) => {}
        }
    }
    for (key, want) in &o.facts {
        let fact = FactKey::parse(key).unwrap_or_else(|e| panic!("{}: {e}", o.file));
        let found = fact.lookup(&facts);
        if want.is_null() {
            // The dump says it is not there (a CPU-only torch has no `torch.version.cuda`).
            if let Lookup::Known(v) = found {
                out.push(format!("fact {key}: {v} where the dump says there is none"));
            }
            continue;
        }
        let want = yaml_text(want);
        match found {
            Lookup::Known(v) if same(&want, &v) => {}
            Lookup::Known(v) => out.push(format!(
                "fact {key}: {} where the dump says {want}",
                show(&v)
            )),
            Lookup::Absent => out.push(format!("fact {key}: absent where the dump says {want}")),
            Lookup::Unknown(why) => out.push(format!(
                "fact {key}: unknown ({why}) where the dump says {want}"
            )),
        }
    }
    out
}

#[test]
fn every_dump_reaches_the_threads_verdict() {
    let m = embedded().unwrap();
    let all = outcomes();
    assert!(all.len() >= 30, "the corpus has {} dumps", all.len());
    let mut failures = Vec::new();
    let mut reached = 0;
    for o in &all {
        assert!(
            o.url.starts_with("https://github.com/"),
            "{}: {}",
            o.file,
            o.url
        );
        assert!(
            !o.outcome.trim().is_empty() && (!o.rows.is_empty() || !o.facts.is_empty()),
            "{}: nothing asserted",
            o.file
        );
        let missed = misses(&m, o);
        match (&o.known_gap, missed.is_empty()) {
            (None, true) => reached += 1,
            (None, false) => failures.push(format!("{} ({}):\n  {}", o.file, o.url, missed.join("\n  "))),
            (Some(why), true) => failures.push(format!("{}: marked known_gap ({why}) but now reaches the thread's verdict: remove the mark", o.file)),
            (Some(_), false) => {}
        }
    }
    eprintln!(
        "bug-report corpus: {reached} of {} dumps reach the thread's verdict",
        all.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// "Cannot tell" only where the dump does not hold the answer: no row of a dump that names an NVIDIA GPU
/// and its driver stays undecided for want of the driver's CUDA version or the GPU's compute capability.
#[test]
fn no_row_cannot_tell_what_the_dump_implies() {
    let m = embedded().unwrap();
    let mut found = Vec::new();
    for o in outcomes() {
        let Ok(facts) = mlcompat::app::read_facts_file(&m, &corpus_dir().join(&o.file)) else {
            continue;
        };
        let report = evaluate(&m, &facts);
        for r in &report.rows {
            if let Some(missing) = &r.missing_fact {
                let implied = (missing == "nvidia.cuda_driver"
                    && facts.nvidia.as_ref().is_some_and(|n| n.driver.is_some()))
                    || (missing == "gpu.compute_capability"
                        && facts
                            .primary_gpu()
                            .is_some_and(|g| m.gpus.find(&g.name).is_some()));
                if implied {
                    found.push(format!("{}: {} cannot tell ({missing})", o.file, r.id));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
