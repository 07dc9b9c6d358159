//! `doctor --deep`: import the heavy packages, each in its own child Python with its own timeout, so a
//! broken or slow package cannot take the doctor down. The import error text becomes a fact
//! (`import.flash_attn`), and torch reports its CUDA build, devices and architecture list.

use std::collections::BTreeMap;
use std::path::Path;
use std::thread;
use std::time::Duration;

use serde::Deserialize;

use crate::exec;
use crate::facts::{normalize_package, Python, Torch};
use crate::matrix::ImportStatement;

const IMPORT_SCRIPT: &str = include_str!("../../probes/deep_import.py");

#[derive(Debug, Deserialize, PartialEq)]
pub struct ImportResult {
    pub module: String,
    pub import: String,
    #[serde(default)]
    pub torch: Option<TorchReport>,
    /// Python warnings raised while importing and inspecting the module.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Where a failing import raised: the last frames, `file:line; …`.
    #[serde(default, rename = "where")]
    pub at: String,
}

#[derive(Debug, Deserialize, PartialEq)]
pub struct TorchReport {
    pub version: String,
    pub cuda: Option<String>,
    pub cuda_available: bool,
    pub device_count: u32,
    pub device_capability: Option<String>,
    pub arch_list: Vec<String>,
    pub mps_available: bool,
}

pub struct DeepProbe {
    pub imports: BTreeMap<String, String>,
    /// Module → warnings its import printed (Python warnings and warning lines on stderr).
    pub warnings: BTreeMap<String, Vec<String>>,
    pub torch: Option<Torch>,
}

/// Imports each module of `modules` (distribution, module) whose distribution is installed, with
/// `interpreter` — the one the Python probe chose and ran, never a path read back from facts or the cache.
pub fn probe(
    python: &Python,
    interpreter: &crate::probe::python::Chosen,
    modules: &[(String, String)],
    timeout: Duration,
) -> DeepProbe {
    let mut deep = DeepProbe {
        imports: BTreeMap::new(),
        warnings: BTreeMap::new(),
        torch: None,
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    // One import per module (onnxruntime and onnxruntime-gpu run the same one); the matrix validated
    // each statement at load.
    let mut wanted: Vec<ImportStatement> = Vec::new();
    for (dist, statement) in modules {
        if !python.packages.contains_key(&normalize_package(dist)) {
            continue;
        }
        let Ok(statement) = statement.parse::<ImportStatement>() else {
            continue;
        };
        if !wanted.iter().any(|w| w.module == statement.module) {
            wanted.push(statement);
        }
    }
    wanted.sort_by(|a, b| a.module.cmp(&b.module));
    // A few children at a time: each one may import torch, and ten at once on a small machine time out.
    let workers = std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .clamp(2, 8);
    let queue = std::sync::Mutex::new(wanted);
    let results = std::sync::Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..workers {
            // With no thread to be had, the first "worker" drains the queue here.
            crate::threads::scoped_or_here(s, || loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(statement) = next else { break };
                let result = import(interpreter, &cwd, &statement, timeout);
                if let Ok(mut r) = results.lock() {
                    r.push((statement.module, result));
                }
            });
        }
    });
    for (module, result) in results.into_inner().unwrap_or_default() {
        match result {
            Ok((r, stderr)) => {
                if let Some(t) = &r.torch {
                    deep.torch = Some(to_torch(t));
                }
                let warnings = warnings_of(&r.warnings, &stderr);
                if !warnings.is_empty() {
                    deep.warnings.insert(module.clone(), warnings);
                }
                deep.imports.insert(module, r.import);
            }
            Err(e) => {
                deep.imports.insert(module, e);
            }
        }
    }
    deep
}

fn import(
    python: &crate::probe::python::Chosen,
    cwd: &Path,
    statement: &ImportStatement,
    timeout: Duration,
) -> Result<(ImportResult, String), String> {
    // Isolated from the current folder: `./torch.py` is never what gets imported.
    let out = crate::probe::python::isolated(python, cwd)
        .args(["-c", IMPORT_SCRIPT, &statement.module])
        .args(&statement.names)
        .run(&exec::Budget::new(timeout))
        .map_err(|e| match &e {
            exec::RunError::Failed {
                signal: Some(s), ..
            } => format!("{e} — {}", signal_meaning(*s)),
            _ => e.to_string(),
        })?;
    let mut result = parse_import(&out.stdout).ok_or_else(|| {
        let tail = last_lines(&out.stderr, 3);
        format!("`{statement}`: the child Python printed no result{tail}")
    })?;
    if result.import != "ok" && !result.at.is_empty() {
        result.import = format!("{} (raised at {})", result.import, result.at);
    }
    Ok((result, out.stderr))
}

/// What a signal that ends an import means.
fn signal_meaning(signal: i32) -> &'static str {
    #[cfg(unix)]
    match signal {
        libc::SIGBUS => "on import this means a shared library it maps is damaged (truncated or overwritten after install)",
        libc::SIGSEGV => "on import this means a shared library it loads is damaged or built against other libraries",
        libc::SIGILL => "on import this means a library was built for instructions this CPU lacks",
        libc::SIGABRT => "a library aborted while loading (read its message above)",
        libc::SIGKILL => "killed from outside: often the kernel's out-of-memory killer",
        _ => "the import did not finish by itself",
    }
    #[cfg(not(unix))]
    {
        let _ = signal;
        "the import did not finish by itself"
    }
}

/// The last `n` lines of text that say something, as `: a | b | c`, or nothing.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &lines[lines.len().saturating_sub(n)..];
    if tail.is_empty() {
        String::new()
    } else {
        format!(": {}", tail.join(" | "))
    }
}

/// Most warning lines a module keeps; each is cut to a readable length.
const MAX_WARNINGS: usize = 8;
const MAX_WARNING_CHARS: usize = 400;

/// What the import said worth keeping: what Python's warnings module recorded, then the lines it printed
/// on stderr that were not recorded already — packages print instead of warn ("Failed to load CPU
/// gemm_4bit_forward from kernels-community"). Whitespace collapsed; progress bars dropped; the last ones
/// kept.
pub fn warnings_of(recorded: &[String], stderr: &str) -> Vec<String> {
    let clean = |t: &str| {
        let text = t.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > MAX_WARNING_CHARS {
            let cut: String = text.chars().take(MAX_WARNING_CHARS).collect();
            format!("{cut}…")
        } else {
            text
        }
    };
    let mut out: Vec<String> = recorded
        .iter()
        .map(|w| clean(w))
        .filter(|w| !w.is_empty())
        .collect();
    let mut printed: Vec<String> = Vec::new();
    for line in stderr.lines() {
        // A carriage return rewrites the line: keep what was left on screen.
        let line = clean(line.rsplit('\r').next().unwrap_or(line));
        let progress = line.contains('█') || line.contains("it/s]") || line.ends_with('%');
        // `warnings.warn` prints the source line under the message: not news.
        let source_echo = line.starts_with("warnings.warn(");
        if line.is_empty()
            || progress
            || source_echo
            || out
                .iter()
                .any(|w| w.contains(&line) || line.contains(w.as_str()))
        {
            continue;
        }
        printed.push(line);
    }
    printed.dedup();
    let keep = MAX_WARNINGS.saturating_sub(out.len());
    out.extend(printed.split_off(printed.len().saturating_sub(keep)));
    out.dedup();
    out.truncate(MAX_WARNINGS);
    out
}

/// The child prints one JSON line last; packages may print banners before it.
pub fn parse_import(stdout: &str) -> Option<ImportResult> {
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l.trim()).ok())
}

pub fn to_torch(t: &TorchReport) -> Torch {
    Torch {
        version: t.version.parse().ok(),
        cuda: t.cuda.as_deref().and_then(|v| v.parse().ok()),
        cuda_available: Some(t.cuda_available),
        device_count: Some(t.device_count),
        device_capability: t.device_capability.as_deref().and_then(|v| v.parse().ok()),
        arch_list: t.arch_list.clone(),
        mps_available: Some(t.mps_available),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_torch_and_failures() {
        let out = "banner line\n{\"module\": \"torch\", \"import\": \"ok\", \"version\": \"2.9.0+cpu\", \"torch\": {\"version\": \"2.9.0+cpu\", \"cuda\": null, \"cuda_available\": false, \"device_count\": 0, \"device_capability\": null, \"arch_list\": [], \"mps_available\": false}}\n";
        let r = parse_import(out).unwrap();
        let t = to_torch(&r.torch.unwrap());
        assert_eq!(t.cuda, None);
        assert_eq!(t.version.unwrap().local(), "cpu");
        let fa = parse_import("{\"module\": \"flash_attn\", \"import\": \"ImportError: flash_attn_2_cuda.so: undefined symbol: _ZN2at4_ops\"}").unwrap();
        assert!(fa.import.contains("undefined symbol"));
        assert_eq!(parse_import("Segmentation fault"), None);
    }
}
