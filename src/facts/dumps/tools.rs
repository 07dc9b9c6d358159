//! Programs' `--version`: `nvcc --version`, `llama-cli --version` (and llama.cpp's `build: 4020 (9f409893)
//! with cc … for x86_64-linux-gnu` log line), `ollama --version`.

use std::collections::BTreeMap;

use crate::facts::{Arch, Binary, CudaToolkit, Facts, Gpu, Vendor};

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
        // `build: …` opens a log line, after a timestamp and level (`0.00.000.321 I build: …`) in newer ones.
        let build = l
            .find("build: ")
            .filter(|&i| i == 0 || l[..i].ends_with(' '));
        if let Some(rest) = build.map(|i| &l[i + 7..]) {
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

/// llama.cpp's build line, or ggml's device list alone (`ggml_cuda_init: found 1 CUDA devices:`).
pub(super) fn is_llama(text: &str) -> bool {
    llama_build(text).is_some() || !ggml_devices(text).is_empty()
}

pub(super) fn read_llama(text: &str, facts: &mut Facts) {
    if let Some((number, target)) = llama_build(text) {
        let binary = Binary {
            path: NO_PATH.into(),
            version: number.and_then(|n| n.parse().ok()),
            arch: target.and_then(|t| Arch::from_name(t.split('-').next().unwrap_or_default())),
            target: target.map(str::to_string),
        };
        facts.binaries = Some(BTreeMap::from([("llama-cli".to_string(), binary)]));
    }
    let gpus = ggml_devices(text);
    if !gpus.is_empty() {
        facts.gpus = Some(gpus);
    }
}

/// The devices ggml's CUDA backend lists: `found 1 CUDA devices:` then `  Device 0: Tesla V100-PCIE-16GB,
/// compute capability 7.0, VMM: yes` (a ROCm build says `ROCm devices` and gives a gfx target instead).
fn ggml_devices(text: &str) -> Vec<Gpu> {
    let mut vendor = None;
    let mut gpus = Vec::new();
    for l in text.lines() {
        let t = l.trim();
        if let Some(rest) = t.strip_prefix("ggml_cuda_init: found ") {
            vendor = if rest.contains(" CUDA devices") {
                Some(Vendor::Nvidia)
            } else if rest.contains(" ROCm devices") {
                Some(Vendor::Amd)
            } else {
                None
            };
            continue;
        }
        let (Some(vendor), Some(rest)) = (vendor, t.strip_prefix("Device ")) else {
            continue;
        };
        let Some((_, rest)) = rest.split_once(": ") else {
            continue;
        };
        let mut parts = rest.split(", ");
        let Some(name) = parts.next().filter(|n| !n.is_empty()) else {
            continue;
        };
        let mut g = Gpu::new(vendor, name);
        g.source = Some("llama.cpp (ggml_cuda_init)".into());
        let parts: Vec<&str> = parts.take(8).collect();
        if vendor == Vendor::Nvidia {
            g.compute_capability = parts
                .iter()
                .find_map(|p| p.strip_prefix("compute capability "))
                .and_then(|cc| cc.parse().ok());
        }
        // Newer builds add `VRAM: 11172 MiB`.
        g.memory_gb = parts
            .iter()
            .find_map(|p| p.strip_prefix("VRAM: ")?.strip_suffix(" MiB"))
            .and_then(|m| m.trim().parse::<f64>().ok())
            .filter(|m| m.is_finite() && *m > 0.0)
            .map(|m| m / 1024.0);
        gpus.push(g);
        if gpus.len() >= super::MAX_GPUS {
            break;
        }
    }
    gpus
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
