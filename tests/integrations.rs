//! `doctor --format nfd|prometheus|junit`, each read back by its consumer's own rules:
//!
//! - NFD: a validator written from node-feature-discovery's feature-file parser (source/local/local.go:
//!   `# +` directives, `expiry-time` in RFC 3339 applying to the lines after it, `key[=value]` lines,
//!   65536-byte limit) and nfd-master's label checks (pkg/apis/nfd/validate/validate.go, which calls
//!   Kubernetes' `IsQualifiedName` and `IsValidLabelValue`; `kubernetes.io` namespaces refused), plus the
//!   labels NVIDIA GPU Feature Discovery already publishes (docs/gpu-feature-discovery/README.md).
//! - Prometheus: parsed by the official Python client's text parser (`prometheus_client.parser`, installed
//!   by scripts/test), and checked for what node_exporter's textfile collector needs beyond it (no
//!   timestamps, one HELP/TYPE per metric, samples grouped); `promtool check metrics` too when present.
//! - JUnit: parsed as XML (roxmltree) and checked against the structure of the JUnit schema Jenkins and
//!   GitLab read (jenkinsci/xunit-plugin `junit-10.xsd`): allowed elements and attributes, required
//!   attributes, counts that match the test cases.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{fixture, mlcompat, pipe, program};

/// Exit status and stdout.
fn run(args: &[&str]) -> (i32, String) {
    let out = mlcompat().args(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 output"),
    )
}

/// Facts of a GB10 box after `doctor --deep`: measured bandwidth and a verified FP4 kernel.
const BENCHED: &str = r#"{
  "schema": "mlcompat.facts/1",
  "host": {"os": "linux", "os_version": "24.04", "arch": "aarch64", "memory_gb": 128, "glibc": "2.39"},
  "gpus": [{"vendor": "nvidia", "name": "NVIDIA GB10", "compute_capability": "12.1", "memory_gb": 128,
            "unified_memory": true, "bandwidth_gbs": 273}],
  "nvidia": {"driver": "580.95.05", "cuda_driver": "13.0"},
  "python": {"version": "3.12.3", "packages": {"torch": "2.9.0+cu130"}},
  "benchmarks": {"gpu_bandwidth_gbs": 221.4, "cpu_bandwidth_gbs": 110.2, "fp4_native_verified": true,
                 "fp4_native_tflops": 401.5, "fp4_emulated_tflops": 11.2}
}"#;

/// A box whose torch import fails, with an import warning full of characters XML and terminals choke on.
fn hostile_facts(dir: &Path) -> String {
    let text = std::fs::read_to_string(fixture(
        "facts/cpu-box-torch-2.15.0-cu132-import-fails.json",
    ))
    .expect("fixture");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    v["import_warnings"] = serde_json::json!({
        "torch": ["\u{1b}[31mUserWarning\u{1b}[0m: <sm_121> & \"quotes\" ]]> \u{7}\u{0} end"]
    });
    let path = dir.join("hostile.json");
    std::fs::write(&path, v.to_string()).expect("writable");
    path.display().to_string()
}

fn benched(dir: &Path) -> String {
    let path = dir.join("gb10-benched.json");
    std::fs::write(&path, BENCHED).expect("writable");
    path.display().to_string()
}

// ---------------------------------------------------------------------------------------------------
// Node Feature Discovery

mod nfd {
    use super::*;

    /// NFD's `MaxFeatureFileSize`.
    const MAX_FILE: usize = 65536;

    /// Labels NVIDIA GPU Feature Discovery publishes (its README's "Generated Labels"), under nvidia.com.
    pub const GFD_LABELS: &[&str] = &[
        "cuda.driver.major",
        "cuda.driver.minor",
        "cuda.driver.rev",
        "cuda.driver-version.major",
        "cuda.driver-version.minor",
        "cuda.driver-version.revision",
        "cuda.driver-version.full",
        "cuda.runtime.major",
        "cuda.runtime.minor",
        "cuda.runtime-version.major",
        "cuda.runtime-version.minor",
        "cuda.runtime-version.full",
        "gfd.timestamp",
        "gpu.compute.major",
        "gpu.compute.minor",
        "gpu.count",
        "gpu.family",
        "gpu.machine",
        "gpu.memory",
        "gpu.product",
        "gpu.replicas",
        "gpu.mode",
        "gpu.clique",
        "mig.strategy",
    ];

    /// k8s.io/apimachinery IsDNS1123Subdomain.
    fn dns1123_subdomain(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= 253
            && s.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && part.as_bytes()[0].is_ascii_alphanumeric()
                    && part.as_bytes()[part.len() - 1].is_ascii_alphanumeric()
            })
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters (qualified name part and label
    /// value share it; a value may also be empty).
    fn qualified_part(s: &str) -> bool {
        let b = s.as_bytes();
        !s.is_empty()
            && s.len() <= 63
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    }

    /// k8s IsQualifiedName.
    fn qualified_name(key: &str) -> Result<(), String> {
        match key.split('/').collect::<Vec<_>>().as_slice() {
            [name] if qualified_part(name) => Ok(()),
            [prefix, name] if dns1123_subdomain(prefix) && qualified_part(name) => Ok(()),
            _ => Err(format!("`{key}` is not a qualified name")),
        }
    }

    /// Seconds since the epoch of an RFC 3339 time, as Go's `time.Parse(time.RFC3339, …)` accepts it.
    pub fn rfc3339(s: &str) -> Option<i64> {
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = s.get(r)?;
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let (y, mo, d, h, mi, se) = (
            num(0..4)?,
            num(5..7)?,
            num(8..10)?,
            num(11..13)?,
            num(14..16)?,
            num(17..19)?,
        );
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 59 {
            return None;
        }
        let mut rest = &s[19..];
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            rest = &frac[digits..];
        }
        let offset = match rest {
            "Z" => 0,
            o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
                let sign = if o.starts_with('-') { -1 } else { 1 };
                sign * (o[1..3].parse::<i64>().ok()? * 3600 + o[4..6].parse::<i64>().ok()? * 60)
            }
            _ => return None,
        };
        // days_from_civil (Howard Hinnant).
        let y2 = if mo <= 2 { y - 1 } else { y };
        let era = y2.div_euclid(400);
        let yoe = y2 - era * 400;
        let mp = (mo + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
    }

    /// Reads a feature file as nfd-worker's `local` source and nfd-master would: the labels that would land
    /// on the node, or every rule the file breaks.
    pub fn validate(text: &str, now: i64) -> Result<BTreeMap<String, String>, Vec<String>> {
        let mut problems = Vec::new();
        if text.len() > MAX_FILE {
            problems.push(format!("{} bytes > {MAX_FILE}", text.len()));
        }
        let mut expiry = now;
        let mut saw_expiry = false;
        let mut labels = BTreeMap::new();
        for raw in text.split('\n') {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('#') {
                if let Some(directive) = line.strip_prefix("# +") {
                    let (key, value) = directive.split_once('=').unwrap_or((directive, ""));
                    match key {
                        "expiry-time" => match rfc3339(value.trim()) {
                            Some(t) => {
                                expiry = t;
                                saw_expiry = true;
                            }
                            None => problems.push(format!("unparsable expiry-time `{value}`")),
                        },
                        "no-label" | "no-feature" => {}
                        other => problems.push(format!("unknown directive `{other}`")),
                    }
                }
                continue;
            }
            if !saw_expiry {
                problems.push(format!("`{line}` comes before any expiry-time directive"));
            }
            if expiry < now {
                problems.push(format!("`{line}` has already expired"));
                continue;
            }
            let (key, value) = line.split_once('=').unwrap_or((line, "true"));
            if let Err(e) = qualified_name(key) {
                problems.push(e);
            }
            let ns = key.split_once('/').map(|(ns, _)| ns).unwrap_or_default();
            if ns.is_empty() {
                problems.push(format!("`{key}` has no namespace"));
            }
            let sub = |root: &str| ns == root || ns.ends_with(&format!(".{root}"));
            // nfd-master's rule (denyLabelNs): kubernetes.io and its sub-namespaces are dropped, except
            // feature.node.kubernetes.io, profile.node.kubernetes.io and theirs.
            if sub("kubernetes.io")
                && !sub("feature.node.kubernetes.io")
                && !sub("profile.node.kubernetes.io")
            {
                problems.push(format!("namespace `{ns}` is not allowed"));
            }
            if !(value.is_empty() || qualified_part(value)) {
                problems.push(format!("`{value}` is not a valid label value"));
            }
            if value.starts_with('@') {
                problems.push(format!("`{value}` would be read as a dynamic value"));
            }
            if labels.insert(key.to_string(), value.to_string()).is_some() {
                problems.push(format!("`{key}` appears twice"));
            }
        }
        if problems.is_empty() {
            Ok(labels)
        } else {
            Err(problems)
        }
    }

    pub fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }
}

#[test]
fn nfd_validator_refuses_what_nfd_refuses() {
    let now = nfd::now();
    let ok = "# +expiry-time=2099-01-01T00:00:00Z\nvendor.io/x=ok\n";
    assert!(nfd::validate(ok, now).is_ok());
    for bad in [
        "vendor.io/x=ok\n",                                          // no expiry before it
        "# +expiry-time=2001-01-01T00:00:00Z\nvendor.io/x=ok\n",     // expired
        "# +expiry-time=tomorrow\nvendor.io/x=ok\n",                 // not RFC 3339
        "# +expiry-time=2099-01-01T00:00:00Z\nkubernetes.io/x=ok\n", // reserved
        "# +expiry-time=2099-01-01T00:00:00Z\nnode.kubernetes.io/x=ok\n", // reserved
        "# +expiry-time=2099-01-01T00:00:00Z\nx=ok\n",               // no namespace
        "# +expiry-time=2099-01-01T00:00:00Z\nvendor.io/x=o k\n",    // space in value
        "# +expiry-time=2099-01-01T00:00:00Z\nvendor.io/x=-ok\n",    // must start alphanumeric
        "# +expiry-time=2099-01-01T00:00:00Z\nVendor.io/x=ok\n",     // prefix is lowercase
        "# +expiry-time=2099-01-01T00:00:00Z\nvendor.io/x=@a.b.c\n", // dynamic value
        "# +frobnicate\n",                                           // unknown directive
    ] {
        assert!(nfd::validate(bad, now).is_err(), "{bad}");
    }
    let long = format!(
        "# +expiry-time=2099-01-01T00:00:00Z\nvendor.io/{}=ok\n",
        "a".repeat(64)
    );
    assert!(nfd::validate(&long, now).is_err());
    assert_eq!(nfd::rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
    assert_eq!(nfd::rfc3339("2026-11-28T12:34:56.5Z"), Some(1_795_869_296));
}

#[test]
fn nfd_files_are_accepted_by_nfd() {
    let dir = tempfile::tempdir().expect("temp dir");
    let benched = benched(dir.path());
    let hostile = hostile_facts(dir.path());
    let now = nfd::now();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--profile", "dgx-spark"],
        vec!["--profile", "mac-studio-m3-ultra"],
        vec!["--profile", "linux-cpu-only"],
        vec![
            "--profile",
            "h100-sxm",
            "--nfd-prefix",
            "gpu.feature.node.kubernetes.io",
        ],
        vec!["--facts", &benched],
        vec!["--facts", &hostile, "--nfd-expiry", "0.5"],
    ];
    for case in cases {
        let mut args = vec!["doctor", "--format", "nfd"];
        args.extend(&case);
        let (code, text) = run(&args);
        assert!(code == 0 || code == 1, "{args:?} exited {code}");
        let labels =
            nfd::validate(&text, now).unwrap_or_else(|e| panic!("{args:?}: {e:?}\n{text}"));
        let prefix = case
            .iter()
            .position(|a| *a == "--nfd-prefix")
            .map_or("mlcompat.io", |i| case[i + 1]);
        // One label per software row, with its verdict.
        let (_, json) = run(&[&["doctor", "--format", "json"][..], &case[..]].concat());
        let report: serde_json::Value = serde_json::from_str(&json).expect("report JSON");
        for row in report["rows"].as_array().expect("rows") {
            let key = format!("{prefix}/{}", row["id"].as_str().expect("id"));
            assert_eq!(
                labels.get(&key).map(String::as_str),
                row["status"].as_str(),
                "{key}"
            );
        }
        // Nothing GPU Feature Discovery already says.
        for key in labels.keys() {
            let name = key.split_once('/').map_or(key.as_str(), |(_, n)| n);
            assert!(!nfd::GFD_LABELS.contains(&name), "{key} repeats GFD");
            assert!(!key.starts_with("nvidia.com/"));
        }
        // The expiry lies ahead by --nfd-expiry (24 h by default).
        let expiry = text
            .lines()
            .find_map(|l| l.strip_prefix("# +expiry-time="))
            .and_then(nfd::rfc3339)
            .expect("expiry");
        let hours = if case.contains(&"0.5") { 0.5 } else { 24.0 };
        assert!(
            (expiry - now - (hours * 3600.0) as i64).abs() < 120,
            "{expiry}"
        );
    }
    // Measured figures appear when the facts have them.
    let (_, text) = run(&["doctor", "--format", "nfd", "--facts", &benched]);
    let labels = nfd::validate(&text, now).expect("valid");
    assert_eq!(labels["mlcompat.io/fp4-verified"], "true");
    assert_eq!(labels["mlcompat.io/fp4-native"], "true");
    assert_eq!(labels["mlcompat.io/gpu-bandwidth-gbs"], "221");
    assert_eq!(labels["mlcompat.io/cpu-bandwidth-gbs"], "110");
    assert_eq!(labels["mlcompat.io/native-fp4"], "ok");
    let (_, text) = run(&["doctor", "--format", "nfd", "--profile", "h100-sxm"]);
    let labels = nfd::validate(&text, now).expect("valid");
    assert_eq!(labels["mlcompat.io/fp4-native"], "false");
    assert!(!labels.contains_key("mlcompat.io/gpu-bandwidth-gbs"));
}

#[test]
fn nfd_refuses_prefixes_nfd_would_drop() {
    let bad_prefixes = [
        "kubernetes.io",
        "node.kubernetes.io",
        "Mlcompat.io",
        "a_b.io",
        "",
    ];
    let bad_expiries = ["0", "-1", "nan", "1000000"];
    let cases = bad_prefixes
        .iter()
        .map(|p| ("--nfd-prefix", *p))
        .chain(bad_expiries.iter().map(|h| ("--nfd-expiry", *h)));
    for (flag, value) in cases {
        let out = mlcompat()
            .args(["doctor", "--profile", "dgx-spark", "--format", "nfd"])
            .arg(format!("{flag}={value}"))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(flag));
        assert!(out.stdout.is_empty());
    }
    // What nfd-master keeps is accepted: its own two namespaces and theirs, and k8s.io (not denied).
    for prefix in [
        "feature.node.kubernetes.io",
        "profile.node.kubernetes.io",
        "gpu.profile.node.kubernetes.io",
        "k8s.io",
    ] {
        let out = mlcompat()
            .args(["doctor", "--profile", "dgx-spark", "--format", "nfd"])
            .arg(format!("--nfd-prefix={prefix}"))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{prefix}");
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("\n{prefix}/pytorch=")));
    }
}

/// A software id NFD would confuse with another label (a `problems` row, an id past 63 characters) is
/// refused when the matrix loads, at its line.
#[test]
fn software_ids_that_would_collide_as_labels_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    common::copy_matrix(dir.path());
    let software = dir.path().join("software.yaml");
    let text = std::fs::read_to_string(&software).expect("software.yaml");
    let long = "a".repeat(70);
    let changed = text
        .replacen("  - id: jax\n", "  - id: problems\n", 1)
        .replacen("  - id: mlx\n", &format!("  - id: {long}\n"), 1);
    assert_ne!(changed, text);
    std::fs::write(&software, changed).expect("write");
    let out = mlcompat()
        .args([
            "--matrix",
            &dir.path().display().to_string(),
            "matrix",
            "validate",
        ])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("software.yaml:") && err.contains("`problems`"),
        "{err}"
    );
    assert!(err.contains("at most 63"), "{err}");
}

// ---------------------------------------------------------------------------------------------------
// Prometheus

/// The Python that has `prometheus_client`: scripts/test installs it into `$MLCOMPAT_PY_TOOLS`.
fn prometheus_parser() -> Option<Command> {
    let tools = std::env::var_os("MLCOMPAT_PY_TOOLS");
    let mut cmd = program("python3");
    if let Some(dir) = &tools {
        cmd.env("PYTHONPATH", dir);
    }
    let found = program("python3")
        .envs(tools.iter().map(|d| ("PYTHONPATH", d)))
        .args(["-c", "import prometheus_client.parser"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            tools.is_none(),
            "MLCOMPAT_PY_TOOLS is set but prometheus_client cannot be imported from it"
        );
        eprintln!("skipped: prometheus_client not installed (scripts/test installs it)");
        return None;
    }
    Some(cmd)
}

const PARSE_PROMETHEUS: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation, "samples": [
        {"name": s.name, "labels": s.labels, "value": s.value, "timestamp": s.timestamp} for s in f.samples]})
print(json.dumps(out))
"#;

/// Families as the official client parses them.
fn parse_prometheus(text: &str) -> Option<serde_json::Value> {
    let mut cmd = prometheus_parser()?;
    cmd.args(["-c", PARSE_PROMETHEUS]);
    let out = pipe(cmd, text);
    assert!(
        out.status.success(),
        "prometheus_client refused the text: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("JSON from the parser"))
}

/// The rules of the text format (exposition_formats.md) the Python parser lets through, and the
/// textfile collector's own: every sample under its metric's single `# HELP` and `# TYPE`, samples of a
/// metric together, no timestamp, no series twice, a final newline.
fn textfile_rules(text: &str) -> Result<(), String> {
    let name_ok = |n: &str| {
        let b = n.as_bytes();
        !b.is_empty()
            && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b':')
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
    };
    if !text.ends_with('\n') {
        return Err("no final newline".into());
    }
    let mut typed: BTreeSet<String> = BTreeSet::new();
    let mut helped: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current = String::new();
    let mut series = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line
            .strip_prefix("# HELP ")
            .or_else(|| line.strip_prefix("# TYPE "))
        {
            let name = rest.split(' ').next().unwrap_or_default();
            let seen = if line.starts_with("# HELP") {
                &mut helped
            } else {
                &mut typed
            };
            if !seen.insert(name.to_string()) {
                return Err(format!("second HELP/TYPE for {name}"));
            }
            if line.starts_with("# TYPE")
                && !rest.ends_with(" gauge")
                && !rest.ends_with(" counter")
            {
                return Err(format!("unexpected type in `{line}`"));
            }
            continue;
        }
        let (series_key, value) = match line.find('{') {
            Some(i) => {
                let close = line.rfind('}').ok_or(format!("unclosed labels: {line}"))?;
                let labels = &line[i + 1..close];
                let mut rest = labels;
                while !rest.is_empty() {
                    let (k, after) = rest
                        .split_once("=\"")
                        .ok_or(format!("bad label in {line}"))?;
                    if !name_ok(k) || k.contains(':') {
                        return Err(format!("bad label name `{k}`"));
                    }
                    let mut end = None;
                    let mut escaped = false;
                    for (j, c) in after.char_indices() {
                        match (escaped, c) {
                            (true, '\\' | '"' | 'n') => escaped = false,
                            (true, _) => return Err(format!("bad escape in {line}")),
                            (false, '\\') => escaped = true,
                            (false, '"') => {
                                end = Some(j);
                                break;
                            }
                            _ => {}
                        }
                    }
                    let end = end.ok_or(format!("unterminated value in {line}"))?;
                    rest = after[end + 1..].trim_start_matches(',');
                }
                (line[..close + 1].to_string(), line[close + 1..].trim())
            }
            None => {
                let (n, v) = line.split_once(' ').ok_or(format!("no value: {line}"))?;
                (n.to_string(), v.trim())
            }
        };
        let name = series_key.split('{').next().unwrap_or_default().to_string();
        if !name_ok(&name) || !name.starts_with("mlcompat_") {
            return Err(format!("bad metric name `{name}`"));
        }
        if value.contains(' ') {
            return Err(format!("a timestamp or extra field: `{line}`"));
        }
        value
            .parse::<f64>()
            .map_err(|_| format!("bad value `{value}`"))?;
        if !typed.contains(&name) || !helped.contains(&name) {
            return Err(format!("{name} has no HELP/TYPE before its samples"));
        }
        if name != current {
            if finished.contains(&name) {
                return Err(format!("samples of {name} are not together"));
            }
            finished.insert(std::mem::replace(&mut current, name.clone()));
        }
        if !series.insert(series_key.clone()) {
            return Err(format!("{series_key} twice"));
        }
    }
    Ok(())
}

#[test]
fn textfile_rules_refuse_what_node_exporter_refuses() {
    let ok = "# HELP mlcompat_a a\n# TYPE mlcompat_a gauge\nmlcompat_a{id=\"x\\\"y\"} 1\n";
    assert!(textfile_rules(ok).is_ok());
    for bad in [
        "# HELP mlcompat_a a\n# TYPE mlcompat_a gauge\nmlcompat_a 1 1700000000\n",
        "mlcompat_a 1\n",
        "# HELP mlcompat_a a\n# TYPE mlcompat_a gauge\nmlcompat_a{id=\"\\q\"} 1\n",
        "# HELP mlcompat_a a\n# TYPE mlcompat_a gauge\nmlcompat_a 1\nmlcompat_a 2\n",
        "# HELP mlcompat_a a\n# TYPE mlcompat_a gauge\nmlcompat_a 1",
    ] {
        assert!(textfile_rules(bad).is_err(), "{bad}");
    }
}

#[test]
fn prometheus_text_parses_as_prometheus() {
    let dir = tempfile::tempdir().expect("temp dir");
    let benched = benched(dir.path());
    let hostile = hostile_facts(dir.path());
    for machine in [
        vec!["--profile", "dgx-spark"],
        vec!["--profile", "mac-studio-m3-ultra"],
        vec!["--facts", &benched],
        vec!["--facts", &hostile],
    ] {
        let args = [&["doctor", "--format", "prometheus"][..], &machine[..]].concat();
        let (code, text) = run(&args);
        textfile_rules(&text).unwrap_or_else(|e| panic!("{args:?}: {e}\n{text}"));
        let (_, json) = run(&[&["doctor", "--format", "json"][..], &machine[..]].concat());
        let report: serde_json::Value = serde_json::from_str(&json).expect("report JSON");
        assert_eq!(
            code,
            if report["summary"]["problems"]
                .as_array()
                .expect("problems")
                .is_empty()
            {
                0
            } else {
                1
            }
        );
        if let Some(tools) = promtool() {
            let mut cmd = program(tools);
            cmd.args(["check", "metrics"]);
            let out = pipe(cmd, &text);
            assert!(
                out.status.success(),
                "promtool: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let Some(families) = parse_prometheus(&text) else {
            continue;
        };
        let family = |name: &str| {
            families
                .as_array()
                .expect("families")
                .iter()
                .find(|f| f["name"] == name)
                .unwrap_or_else(|| panic!("no {name}"))
                .clone()
        };
        for f in families.as_array().expect("families") {
            assert_eq!(f["type"], "gauge");
            assert!(!f["help"].as_str().unwrap_or_default().is_empty());
            for s in f["samples"].as_array().expect("samples") {
                assert!(s["timestamp"].is_null(), "timestamp in {s}");
            }
        }
        assert_eq!(
            family("mlcompat_build_info")["samples"][0]["labels"]["version"],
            env!("CARGO_PKG_VERSION")
        );
        let status = family("mlcompat_check_status");
        let rows = report["rows"].as_array().expect("rows");
        assert_eq!(
            status["samples"].as_array().expect("samples").len(),
            rows.len()
        );
        for row in rows {
            let sample = status["samples"]
                .as_array()
                .expect("samples")
                .iter()
                .find(|s| s["labels"]["id"] == row["id"])
                .expect("a sample per row");
            let want = match row["status"].as_str() {
                Some("ok") => 0.0,
                Some("warn") => 1.0,
                _ => 2.0,
            };
            assert_eq!(sample["value"].as_f64(), Some(want), "{}", row["id"]);
            assert_eq!(sample["labels"]["category"], row["category"]);
        }
        assert_eq!(
            family("mlcompat_problems")["samples"][0]["value"].as_f64(),
            Some(
                report["summary"]["problems"]
                    .as_array()
                    .expect("problems")
                    .len() as f64
            )
        );
    }
    // Base units: 221.4 GB/s measured is 2.214e11 bytes per second.
    let (_, text) = run(&["doctor", "--format", "prometheus", "--facts", &benched]);
    assert!(text.contains("mlcompat_memory_bandwidth_bytes_per_second{device=\"gpu\",source=\"measured\"} 221400000000\n"), "{text}");
    assert!(text.contains("mlcompat_memory_bandwidth_bytes_per_second{device=\"gpu\",source=\"datasheet\"} 273000000000\n"));
    assert!(text.contains("mlcompat_fp4_native_verified 1\n"));
    assert!(text.contains("mlcompat_fp4_flops_per_second{path=\"native\"} 401500000000000\n"));
}

/// `promtool` from `$MLCOMPAT_PROMTOOL` or PATH, when there is one.
fn promtool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MLCOMPAT_PROMTOOL") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("promtool"))
            .find(|p| p.is_file())
    })
}

// ---------------------------------------------------------------------------------------------------
// JUnit

/// Elements of junit-10.xsd and, for each, the attributes it declares (required ones marked `!`) and the
/// children it allows.
fn junit_element(name: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match name {
        "testsuites" => (
            &["name", "time", "tests", "failures", "errors"],
            &["testsuite"],
        ),
        "testsuite" => (
            &[
                "!name",
                "!tests",
                "!failures",
                "!errors",
                "group",
                "time",
                "skipped",
                "timestamp",
                "hostname",
                "id",
                "package",
                "file",
                "log",
                "url",
                "version",
            ],
            &[
                "testsuite",
                "properties",
                "testcase",
                "system-out",
                "system-err",
            ],
        ),
        "properties" => (&[], &["property"]),
        "property" => (&["!name", "!value"], &[]),
        "testcase" => (
            &["!name", "time", "classname", "group"],
            &[
                "skipped",
                "error",
                "failure",
                "rerunFailure",
                "rerunError",
                "flakyFailure",
                "flakyError",
                "system-out",
                "system-err",
            ],
        ),
        "failure" | "error" | "skipped" => (&["type", "message"], &[]),
        "system-out" | "system-err" => (&[], &[]),
        _ => return None,
    })
}

fn check_junit_node(node: roxmltree::Node, problems: &mut Vec<String>) {
    let name = node.tag_name().name();
    let Some((attrs, children)) = junit_element(name) else {
        problems.push(format!("unknown element <{name}>"));
        return;
    };
    for a in node.attributes() {
        if !attrs.iter().any(|d| d.trim_start_matches('!') == a.name()) {
            problems.push(format!("<{name}> has undeclared attribute {}", a.name()));
        }
    }
    for required in attrs.iter().filter_map(|a| a.strip_prefix('!')) {
        if node.attribute(required).is_none() {
            problems.push(format!("<{name}> lacks {required}"));
        }
    }
    if let Some(t) = node.attribute("time") {
        if !t
            .bytes()
            .all(|c| c.is_ascii_digit() || c == b'.' || c == b',')
        {
            problems.push(format!("time `{t}` is not SUREFIRE_TIME"));
        }
    }
    for child in node.children().filter(|c| c.is_element()) {
        if !children.contains(&child.tag_name().name()) {
            problems.push(format!("<{}> inside <{name}>", child.tag_name().name()));
        }
        check_junit_node(child, problems);
    }
}

/// Checks a JUnit document and returns, per test case name, its outcome (`passed`, `failure`, `skipped`).
fn check_junit(xml: &str) -> BTreeMap<String, String> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let mut problems = Vec::new();
    check_junit_node(root, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    let count = |n: roxmltree::Node, attr: &str| -> usize {
        n.attribute(attr)
            .and_then(|v| v.parse().ok())
            .expect("a count")
    };
    let mut outcomes = BTreeMap::new();
    let mut total = (0, 0);
    for suite in root.children().filter(|c| c.has_tag_name("testsuite")) {
        let cases: Vec<_> = suite
            .children()
            .filter(|c| c.has_tag_name("testcase"))
            .collect();
        let with = |child: &str| {
            cases
                .iter()
                .filter(|c| c.children().any(|k| k.has_tag_name(child)))
                .count()
        };
        assert_eq!(count(suite, "tests"), cases.len());
        assert_eq!(count(suite, "failures"), with("failure"));
        assert_eq!(count(suite, "errors"), with("error"));
        assert_eq!(count(suite, "skipped"), with("skipped"));
        total.0 += cases.len();
        total.1 += with("failure");
        for case in cases {
            let outcome = ["failure", "error", "skipped"]
                .into_iter()
                .find(|o| case.children().any(|k| k.has_tag_name(*o)))
                .unwrap_or("passed");
            outcomes.insert(
                case.attribute("name").expect("name").to_string(),
                outcome.to_string(),
            );
        }
    }
    assert_eq!(count(root, "tests"), total.0);
    assert_eq!(count(root, "failures"), total.1);
    outcomes
}

#[test]
fn junit_xml_follows_the_schema_ci_systems_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hostile = hostile_facts(dir.path());
    let benched = benched(dir.path());
    for machine in [
        vec!["--profile", "dgx-spark"],
        vec!["--profile", "mac-studio-m3-ultra", "--require", "vllm,mlx"],
        vec!["--facts", &hostile],
        vec!["--facts", &hostile, "--require", "vllm", "--strict"],
        vec!["--facts", &benched, "--require", "pytorch"],
    ] {
        let args = [&["doctor", "--format", "junit"][..], &machine[..]].concat();
        let (code, xml) = run(&args);
        let outcomes = check_junit(&xml);
        let (json_code, json) = run(&[&["doctor", "--format", "json"][..], &machine[..]].concat());
        assert_eq!(
            code, json_code,
            "the exit status does not depend on the format"
        );
        let report: serde_json::Value = serde_json::from_str(&json).expect("report JSON");
        let problems: BTreeSet<&str> = report["summary"]["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .map(|p| p["id"].as_str().expect("id"))
            .collect();
        assert_eq!(code, i32::from(!problems.is_empty()));
        let rows = report["rows"].as_array().expect("rows");
        assert_eq!(outcomes.len(), rows.len());
        for row in rows {
            let id = row["id"].as_str().expect("id");
            // The name does not change when a run requires the row: CI history keeps one test.
            let name = format!("{} ({id})", row["name"].as_str().expect("name"));
            let want = if problems.contains(id) {
                "failure"
            } else if row["status"] == "ok" {
                "passed"
            } else {
                "skipped"
            };
            assert_eq!(
                outcomes.get(&name).map(String::as_str),
                Some(want),
                "{args:?} {name}"
            );
        }
    }
    // Strict schemas (Ant's JUnit XSD) want time, timestamp and hostname on the suite, time on each case;
    // required rows are a suite property.
    let (_, xml) = run(&[
        "doctor",
        "--format",
        "junit",
        "--profile",
        "dgx-spark",
        "--require",
        "vllm,pytorch",
    ]);
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("suite");
    assert!(suite
        .attribute("time")
        .is_some_and(|t| t.parse::<f64>().is_ok()));
    let stamp = suite.attribute("timestamp").expect("timestamp");
    assert!(
        stamp.len() == 19
            && stamp.as_bytes()[10] == b'T'
            && stamp[..4].parse::<u32>().is_ok_and(|y| y >= 2026),
        "{stamp}"
    );
    assert_eq!(suite.attribute("hostname"), Some("dgx-spark"));
    assert!(doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .all(|n| n.attribute("time") == Some("0")
            && !n.attribute("name").unwrap_or("").contains('[')));
    let required = doc
        .descendants()
        .find(|n| n.has_tag_name("property") && n.attribute("name") == Some("mlcompat.required"))
        .and_then(|n| n.attribute("value"));
    assert!(
        matches!(required, Some("pytorch,vllm" | "vllm,pytorch")),
        "{required:?}"
    );
    // The broken torch import is a failure, and its warning arrives intact minus the control characters.
    let (code, xml) = run(&["doctor", "--format", "junit", "--facts", &hostile]);
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    let torch = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("PyTorch (pytorch)"))
        .expect("torch case");
    assert!(torch.children().any(|c| c.has_tag_name("failure")));
    let out: String = torch
        .children()
        .filter(|c| c.has_tag_name("system-out"))
        .filter_map(|c| c.text())
        .collect();
    assert!(out.contains("<sm_121> & \"quotes\" ]]>"), "{out}");
    assert!(!out.contains('\u{1b}'));
}
