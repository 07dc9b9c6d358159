//! Programs' `--version`: `nvcc --version`, `llama-cli --version` (and llama.cpp's `build: 4020 (9f409893)
//! with cc … for x86_64-linux-gnu` log line), `ollama --version`.

use std::collections::BTreeMap;

use crate::facts::{Arch, Binary, CudaToolkit, Facts};

/// Where a program's path would be: a pasted `--version` does not say.
const NO_PATH: &str = "(not in the paste)";

pub(super) fn is_nvcc(text: &str) -> bool {
    nvcc_release(text).is_some()
}

/// `Cuda compilation tools, release 12.8, V12.8.93` → `12.8`.
fn nvcc_release(text: &str) -> Option<&str> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("Cuda compilation tools, release ")?;
        let v = rest.split(',').next()?.trim();
        v.parse::<crate::version::ToolVersion>()
            .is_ok()
            .then_some(v)
    })
}

pub(super) fn read_nvcc(text: &str, facts: &mut Facts) {
    facts.cuda = Some(CudaToolkit {
        toolkit: nvcc_release(text).and_then(|v| v.parse().ok()),
        ..CudaToolkit::default()
    });
}

/// llama.cpp's build number and target: `version: 4020 (9f409893)` then `built with … for
/// arm64-apple-darwin23.6.0`, or one log line `build: 4020 (9f409893) with cc (…) for x86_64-linux-gnu`.
fn llama_build(text: &str) -> Option<(Option<&str>, Option<&str>)> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for (i, l) in lines.iter().enumerate() {
        if let Some(rest) = l.strip_prefix("build: ") {
            if let (Some(n), true) = (build_number(rest), rest.contains(" with ")) {
                return Some((Some(n), build_target(rest)));
            }
        }
        if let Some(rest) = l.strip_prefix("version: ") {
            let built = lines.get(i + 1).filter(|n| n.starts_with("built with "));
            if let (Some(n), Some(built)) = (build_number(rest), built) {
                return Some((Some(n), build_target(built)));
            }
        }
    }
    None
}

pub(super) fn is_llama(text: &str) -> bool {
    llama_build(text).is_some()
}

pub(super) fn read_llama(text: &str, facts: &mut Facts) {
    let Some((number, target)) = llama_build(text) else {
        return;
    };
    let binary = Binary {
        path: NO_PATH.into(),
        version: number.and_then(|n| n.parse().ok()),
        arch: target.and_then(|t| Arch::from_name(t.split('-').next().unwrap_or_default())),
        target: target.map(str::to_string),
    };
    facts.binaries = Some(BTreeMap::from([("llama-cli".to_string(), binary)]));
}

fn build_number(s: &str) -> Option<&str> {
    let n = s.trim_start();
    let end = n.find(|c: char| !c.is_ascii_digit()).unwrap_or(n.len());
    (end > 0 && n[end..].starts_with(" (")).then(|| &n[..end])
}

fn build_target(s: &str) -> Option<&str> {
    s.rsplit_once(" for ")
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
}

/// `ollama version is 0.30.5` (the server's; a differing client adds "Warning: client version is …").
pub(super) fn ollama_version(text: &str) -> Option<&str> {
    text.lines().find_map(|l| {
        let v = l
            .trim()
            .strip_prefix("ollama version is ")?
            .split_whitespace()
            .next()?;
        v.starts_with(|c: char| c.is_ascii_digit()).then_some(v)
    })
}

pub(super) fn read_ollama(text: &str, facts: &mut Facts) {
    let Some(v) = ollama_version(text) else {
        return;
    };
    let binary = Binary {
        path: NO_PATH.into(),
        version: v.parse().ok(),
        ..Binary::default()
    };
    facts.binaries = Some(BTreeMap::from([("ollama".to_string(), binary)]));
}
