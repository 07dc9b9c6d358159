//! The CUDA toolkit: nvcc's release and the GPU architectures it can build for, cuDNN and NCCL versions
//! from their headers, and the CUDA shared libraries present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::exec;
use crate::facts::CudaToolkit;
use crate::probe::cache;

/// Where CUDA installs live, in the order nvcc is looked for.
fn cuda_homes() -> Vec<PathBuf> {
    let mut homes: Vec<PathBuf> = ["CUDA_HOME", "CUDA_PATH"]
        .iter()
        .filter_map(|k| exec::absolute_folder_var(k))
        .collect();
    homes.push(PathBuf::from("/usr/local/cuda"));
    homes
}

/// Probes the toolkit; `timeout` is the budget for both nvcc calls together. Beside the toolkit, why
/// its build targets are unknown when `nvcc --list-gpu-code` failed (a timeout, a crash).
pub fn probe(timeout: Duration, use_cache: bool) -> Result<(CudaToolkit, Option<String>), String> {
    let budget = exec::Budget::new(timeout);
    let nvcc = cuda_homes()
        .into_iter()
        .map(|h| h.join("bin").join("nvcc"))
        .find(|p| p.is_file())
        .or_else(|| exec::resolve("nvcc"));
    let mut toolkit = CudaToolkit::default();
    let mut targets_failure = None;
    if let Some(nvcc) = &nvcc {
        let release = cache::run_parsed(
            "nvcc-release",
            nvcc,
            &["--version"],
            &budget,
            use_cache,
            parse_nvcc_release,
        )
        .map_err(|e| e.to_string())?;
        toolkit.toolkit = release.and_then(|v| v.parse().ok());
        toolkit.path = nvcc
            .parent()
            .and_then(Path::parent)
            .map(|p| p.display().to_string());
        match cache::run_parsed(
            "nvcc-targets",
            nvcc,
            &["--list-gpu-code"],
            &budget,
            use_cache,
            parse_gpu_code_list,
        ) {
            Ok(targets) => toolkit.targets = targets,
            Err(e) => targets_failure = Some(e.to_string()),
        }
    }
    let include_dirs = include_dirs(toolkit.path.as_deref());
    toolkit.cudnn =
        find_header_version(&include_dirs, "cudnn_version.h", "CUDNN").and_then(|v| v.parse().ok());
    toolkit.nccl =
        find_header_version(&include_dirs, "nccl.h", "NCCL").and_then(|v| v.parse().ok());
    Ok((toolkit, targets_failure))
}

fn include_dirs(toolkit: Option<&str>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = toolkit
        .map(|t| Path::new(t).join("include"))
        .into_iter()
        .collect();
    for d in [
        "/usr/include",
        "/usr/local/include",
        "/usr/include/x86_64-linux-gnu",
        "/usr/include/aarch64-linux-gnu",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

/// `Cuda compilation tools, release 12.8, V12.8.93` → `12.8`.
pub fn parse_nvcc_release(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.contains("release "))?;
    let after = line.split("release ").nth(1)?;
    let version: String = after
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (!version.is_empty()).then_some(version)
}

/// `nvcc --list-gpu-code`: one `sm_XY` per line.
pub fn parse_gpu_code_list(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|t| crate::facts::arch::parse_target(t).is_some_and(|a| !a.ptx))
        .map(str::to_string)
        .collect()
}

fn find_header_version(dirs: &[PathBuf], header: &str, prefix: &str) -> Option<String> {
    dirs.iter()
        .map(|d| d.join(header))
        .find(|p| p.is_file())
        .and_then(|p| parse_header_version(&crate::files::read_system(p)?, prefix))
}

/// `#define CUDNN_MAJOR 9` / `_MINOR` / `_PATCHLEVEL` (NCCL: `NCCL_MAJOR`, `NCCL_MINOR`, `NCCL_PATCH`).
pub fn parse_header_version(text: &str, prefix: &str) -> Option<String> {
    let value = |name: &str| {
        text.lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next() == Some("#define") && parts.next() == Some(name))
                .then(|| parts.next())
                .flatten()?
                .parse::<u32>()
                .ok()
        })
    };
    let major = value(&format!("{prefix}_MAJOR"))?;
    let minor = value(&format!("{prefix}_MINOR"))?;
    let patch = value(&format!("{prefix}_PATCHLEVEL"))
        .or_else(|| value(&format!("{prefix}_PATCH")))
        .unwrap_or(0);
    Some(format!("{major}.{minor}.{patch}"))
}

/// Shared libraries the matrix detects (`libcudnn.so`, …), found in the usual library folders.
pub fn find_libraries(names: &[&str], extra_dirs: &[PathBuf]) -> BTreeMap<String, String> {
    let mut dirs: Vec<PathBuf> = extra_dirs.to_vec();
    if let Some(ld) = std::env::var_os("LD_LIBRARY_PATH") {
        dirs.extend(std::env::split_paths(&ld));
    }
    for d in [
        "/usr/local/cuda/lib64",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/usr/lib/wsl/lib",
    ] {
        dirs.push(PathBuf::from(d));
    }
    let mut found = BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            for name in names {
                if (file == *name || file.starts_with(&format!("{name}.")))
                    && !found.contains_key(*name)
                {
                    found.insert((*name).to_string(), entry.path().display().to_string());
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvcc_releases_from_recorded_outputs() {
        for (file, want) in [
            ("cuda-11.8-linux.txt", "11.8"),
            ("cuda-11.8-windows.txt", "11.8"),
            ("cuda-12.4.0-windows.txt", "12.4"),
            ("cuda-12.4.1-linux.txt", "12.4"),
            ("cuda-12.8.0-linux.txt", "12.8"),
            ("cuda-12.8.1-linux-h100.txt", "12.8"),
            ("cuda-12.9.1-linux.txt", "12.9"),
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/nvcc")
                .join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(parse_nvcc_release(&text).as_deref(), Some(want), "{file}");
        }
        assert_eq!(parse_nvcc_release("garbage"), None);
    }

    #[test]
    fn gpu_code_list_and_headers() {
        assert_eq!(
            parse_gpu_code_list("sm_50\nsm_52\nsm_120\nsm_121\n"),
            vec!["sm_50", "sm_52", "sm_120", "sm_121"]
        );
        let cudnn = "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 10\n#define CUDNN_PATCHLEVEL 2\n";
        assert_eq!(
            parse_header_version(cudnn, "CUDNN").as_deref(),
            Some("9.10.2")
        );
        let nccl = "#define NCCL_MAJOR 2\n#define NCCL_MINOR 27\n#define NCCL_PATCH 3\n";
        assert_eq!(
            parse_header_version(nccl, "NCCL").as_deref(),
            Some("2.27.3")
        );
    }
}
