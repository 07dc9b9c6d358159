//! `doctor --deep`: import the heavy packages, each in its own child Python with its own timeout, so a
//! broken or slow package cannot take the doctor down. The import error text becomes a fact
//! (`import.flash_attn`), and torch reports its CUDA build, devices and architecture list.

use std::collections::BTreeMap;
use std::path::Path;
use std::thread;
use std::time::Duration;

use serde::Deserialize;

use crate::facts::{normalize_package, Python, Torch};
use crate::probe::exec;

const IMPORT_SCRIPT: &str = include_str!("../../probes/deep_import.py");

/// Module imported → the distribution that provides it (only installed ones are tried).
pub const MODULES: &[(&str, &str)] = &[
    ("torch", "torch"),
    ("flash_attn", "flash-attn"),
    ("bitsandbytes", "bitsandbytes"),
    ("vllm", "vllm"),
    ("mlx", "mlx"),
    ("jax", "jax"),
    ("triton", "triton"),
    ("xformers", "xformers"),
];

#[derive(Debug, Deserialize, PartialEq)]
pub struct ImportResult {
    pub module: String,
    pub import: String,
    #[serde(default)]
    pub torch: Option<TorchReport>,
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
    pub torch: Option<Torch>,
}

/// Imports each installed heavy package with `interpreter` — the one the Python probe chose and ran,
/// never a path read back from facts or the cache.
pub fn probe(python: &Python, interpreter: &Path, timeout: Duration) -> DeepProbe {
    let cwd = std::env::current_dir().unwrap_or_default();
    let wanted: Vec<&str> = MODULES
        .iter()
        .filter(|(_, dist)| python.packages.contains_key(&normalize_package(dist)))
        .map(|(module, _)| *module)
        .collect();
    let handles: Vec<_> = wanted
        .into_iter()
        .map(|module| {
            let interpreter = interpreter.to_path_buf();
            let cwd = cwd.clone();
            thread::spawn(move || {
                (
                    module.to_string(),
                    import(&interpreter, &cwd, module, timeout),
                )
            })
        })
        .collect();
    let mut imports = BTreeMap::new();
    let mut torch = None;
    for handle in handles {
        let Ok((module, result)) = handle.join() else {
            continue;
        };
        match result {
            Ok(r) => {
                if let Some(t) = r.torch {
                    torch = Some(to_torch(&t));
                }
                imports.insert(module, r.import);
            }
            Err(e) => {
                imports.insert(module, e);
            }
        }
    }
    DeepProbe { imports, torch }
}

fn import(
    python: &Path,
    cwd: &Path,
    module: &str,
    timeout: Duration,
) -> Result<ImportResult, String> {
    // Isolated from the current folder: `./torch.py` is never what gets imported.
    let out = crate::probe::python::isolated(python, cwd)
        .args(["-c", IMPORT_SCRIPT, module])
        .run(&exec::Budget::new(timeout))
        .map_err(|e| e.to_string())?;
    parse_import(&out.stdout)
        .ok_or_else(|| format!("import {module}: no result from the child process"))
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
