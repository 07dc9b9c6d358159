//! One-line messages that state a fact wherever they are in a paste: PyTorch's "The NVIDIA driver on your
//! system is too old (found version 12080)", flash-attn's `torch.__version__  = 2.3.1+cu121`, xFormers'
//! "built for … (you have …)" warning and `python -m xformers.info`, bitsandbytes' "Could not find the
//! bitsandbytes CUDA binary at …libbitsandbytes_cuda128.dll", ptxas' "Value 'sm_121a' is not defined for
//! option 'gpu-name'", macOS' "incompatible architecture (have 'arm64', need 'x86_64')" loading mlx, and
//! AMD's `rocm/pytorch:…_py3.12_pytorch_release_2.6.0` image tag with the devices a script found in it.
//!
//! A traceback alone, a `site-packages/<pkg>` path or a package named in prose is no fact: each message
//! here is the program's own words about what it found.

use crate::facts::{normalize_package, Arch, Facts, Gpu, Nvidia, Os, Python, Torch, Vendor};
use crate::version::{PyVersion, ToolVersion};

use super::DumpKind;

/// The kinds of message in `text`.
pub(super) fn detect(text: &str) -> Vec<DumpKind> {
    let mut kinds = Vec::new();
    let mut add = |k: DumpKind| {
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    };
    for line in text.lines() {
        if driver_warning(line).is_some() {
            add(DumpKind::TorchDriverWarning);
        }
        if torch_version_line(line).is_some() {
            add(DumpKind::TorchVersionLine);
        }
        if xformers_line(line) {
            add(DumpKind::XformersInfo);
        }
        if bnb_binary(line).is_some() {
            add(DumpKind::Bitsandbytes);
        }
        if ptxas_target(line).is_some() {
            add(DumpKind::Ptxas);
        }
        if mlx_arch(line).is_some() {
            add(DumpKind::MlxLoad);
        }
        if rocm_image(line).is_some() || rocm_devices_line(line) {
            add(DumpKind::RocmImage);
        }
    }
    kinds
}

pub(super) fn read(kind: DumpKind, text: &str, facts: &mut Facts) {
    match kind {
        DumpKind::TorchDriverWarning => read_driver_warning(text, facts),
        DumpKind::TorchVersionLine => {
            if let Some(v) = text.lines().find_map(torch_version_line) {
                set_package(facts, "torch", v);
            }
        }
        DumpKind::XformersInfo => read_xformers(text, facts),
        DumpKind::Bitsandbytes => read_bnb(text, facts),
        DumpKind::Ptxas => {
            if let Some(cc) = ptxas_capability(text) {
                let mut g = Gpu::new(Vendor::Nvidia, super::UNNAMED_NVIDIA_GPU);
                g.compute_capability = Some(cc);
                g.source = Some("ptxas target".into());
                facts.gpus = Some(vec![g]);
            }
            // Triton's "Repro command: …/lib/python3.10/site-packages/triton/backends/nvidia/bin/ptxas …".
            let repro = text
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("Repro command: ") && l.contains("/triton/"))
                .find_map(python_in_path);
            set_python(facts, repro);
        }
        DumpKind::MlxLoad => read_mlx(text, facts),
        DumpKind::RocmImage => read_rocm_image(text, facts),
        _ => {}
    }
}

/// Why a message's facts list no packages but the ones it names.
const FEW_PACKAGES: &str = "a message names only the packages it is about; others may be installed";

fn set_package(facts: &mut Facts, name: &str, version: PyVersion) {
    facts
        .failed
        .entry("python.packages".into())
        .or_insert_with(|| FEW_PACKAGES.into());
    facts
        .python
        .get_or_insert_with(Python::default)
        .packages
        .entry(normalize_package(name))
        .or_insert(version);
}

fn set_python(facts: &mut Facts, version: Option<PyVersion>) {
    if let Some(v) = version {
        facts
            .failed
            .entry("python.packages".into())
            .or_insert_with(|| FEW_PACKAGES.into());
        let p = facts.python.get_or_insert_with(Python::default);
        p.version = p.version.take().or(Some(v));
    }
}

/// `…/lib/python3.10/site-packages/…` (or `dist-packages`): the Python a module was loaded by.
pub(super) fn python_in_path(line: &str) -> Option<PyVersion> {
    for (i, _) in line.match_indices("/python").take(16) {
        let rest = &line[i + 7..];
        let end = rest.find('/')?;
        let after = &rest[end..];
        if !(after.starts_with("/site-packages") || after.starts_with("/dist-packages")) {
            continue;
        }
        let v = &rest[..end];
        if v.starts_with('3')
            && v.contains('.')
            && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        {
            return v.parse().ok();
        }
    }
    None
}

/// The digits right after `needle` in `line`, if any.
fn digits_after<'a>(line: &'a str, needle: &str) -> Option<&'a str> {
    let i = line.find(needle)?;
    let rest = &line[i + needle.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// PyTorch's "The NVIDIA driver on your system is too old (found version 11040)": the CUDA version the
/// driver supports, in CUDA's encoding (1000 × major + 10 × minor).
fn driver_warning(line: &str) -> Option<ToolVersion> {
    if !line.contains("NVIDIA driver on your system is too old") {
        return None;
    }
    let n: u64 = digits_after(line, "(found version ")?.parse().ok()?;
    if !(1000..100_000).contains(&n) {
        return None;
    }
    format!("{}.{}", n / 1000, (n % 1000) / 10).parse().ok()
}

fn read_driver_warning(text: &str, facts: &mut Facts) {
    for line in text.lines() {
        if let Some(cuda) = driver_warning(line) {
            facts.nvidia = Some(Nvidia {
                cuda_driver: Some(cuda),
                source: Some("PyTorch warning (driver too old)".into()),
                ..Nvidia::default()
            });
            set_python(facts, python_in_path(line));
            // The warning itself is what PyTorch said on import: rules read it as `warning.torch`.
            let said: String = line.trim().chars().take(400).collect();
            facts
                .import_warnings
                .entry("torch".into())
                .or_default()
                .push(said);
            return;
        }
    }
}

/// `torch.__version__  = 2.3.1+cu121`, as flash-attn's setup prints it (or quoted in a sentence).
fn torch_version_line(line: &str) -> Option<PyVersion> {
    let i = line.find("torch.__version__")?;
    let rest = line[i + "torch.__version__".len()..].trim_start();
    let rest = rest
        .strip_prefix("==")
        .or_else(|| rest.strip_prefix('='))
        .or_else(|| rest.strip_prefix(':'))?;
    let token = rest
        .trim_start_matches([' ', '\'', '"', '`'])
        .split(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '`' | ',' | ')'))
        .next()?;
    if !token.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

/// xFormers' own lines: its warning ("xFormers was built for:") or `python -m xformers.info`'s first line
/// (`xFormers 0.0.25.dev741`) and its `pytorch.version:` field.
fn xformers_line(line: &str) -> bool {
    let t = line.trim();
    t.contains("xFormers was built for:")
        || xformers_version(t).is_some()
        || t.starts_with("pytorch.version:")
}

/// `xFormers 0.0.25.dev741`, the whole line.
fn xformers_version(t: &str) -> Option<PyVersion> {
    let v = t.strip_prefix("xFormers ")?;
    if v.contains(char::is_whitespace) || !v.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// `    PyTorch 2.2.0+cu121 with CUDA 1201 (you have 2.2.0+cpu)` → `2.2.0+cpu`.
fn you_have(t: &str) -> Option<&str> {
    let i = t.find("(you have ")?;
    let rest = &t[i + "(you have ".len()..];
    Some(rest.split(')').next()?.trim())
}

fn read_xformers(text: &str, facts: &mut Facts) {
    let mut gpu_name: Option<&str> = None;
    let mut cc: Option<ToolVersion> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(v) = xformers_version(t) {
            set_package(facts, "xformers", v);
            continue;
        }
        if t.starts_with("PyTorch ") && t.contains(" with CUDA ") {
            if let Some(v) = you_have(t).and_then(|v| v.parse::<PyVersion>().ok()) {
                set_package(facts, "torch", v);
            }
            continue;
        }
        if t.starts_with("Python ") {
            set_python(facts, you_have(t).and_then(|v| v.parse().ok()));
            continue;
        }
        let Some((key, value)) = t.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "pytorch.version" => {
                if let Ok(v) = value.parse::<PyVersion>() {
                    set_package(facts, "torch", v);
                }
            }
            "pytorch.cuda" => {
                let available = match value {
                    "available" => Some(true),
                    "not available" => Some(false),
                    _ => None,
                };
                if available.is_some() {
                    facts
                        .torch
                        .get_or_insert_with(Torch::default)
                        .cuda_available = available;
                }
            }
            "gpu.name" if !value.is_empty() && value != "None" => gpu_name = Some(value),
            "gpu.compute_capability" => cc = value.parse().ok(),
            _ => {}
        }
    }
    if let Some(name) = gpu_name {
        let amd = ["AMD", "Radeon", "Instinct"]
            .iter()
            .any(|w| name.contains(w));
        let mut g = Gpu::new(if amd { Vendor::Amd } else { Vendor::Nvidia }, name);
        if !amd {
            g.compute_capability = cc;
        }
        g.source = Some("xformers.info".into());
        facts.gpus = Some(vec![g]);
    }
}

/// bitsandbytes' "Could not find the bitsandbytes CUDA binary at …/libbitsandbytes_cuda128.dll" (or
/// "Configured CUDA binary not found at …"): it looks for the binary of torch's CUDA version. The CUDA
/// version and the library's suffix.
fn bnb_binary(line: &str) -> Option<(ToolVersion, &str)> {
    if !(line.contains("bitsandbytes CUDA binary") || line.contains("Configured CUDA binary")) {
        return None;
    }
    let i = line.find("libbitsandbytes_cuda")?;
    let rest = &line[i + "libbitsandbytes_cuda".len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let digits = &rest[..end];
    if !(3..=4).contains(&digits.len()) {
        return None;
    }
    let (major, minor) = digits.split_at(digits.len() - 1);
    let cuda = format!("{major}.{minor}").parse().ok()?;
    let suffix = rest[end..]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .next()
        .unwrap_or_default();
    Some((cuda, suffix))
}

fn read_bnb(text: &str, facts: &mut Facts) {
    // `BNB_CUDA_VERSION=…` makes bitsandbytes load another CUDA's binary than torch's.
    if text.contains("BNB_CUDA_VERSION") {
        return;
    }
    for line in text.lines() {
        let Some((cuda, suffix)) = bnb_binary(line) else {
            continue;
        };
        facts.torch.get_or_insert_with(Torch::default).cuda = Some(cuda);
        facts.host.os = if suffix.starts_with(".dll") || line.contains("WindowsPath(") {
            Some(Os::Windows)
        } else if suffix.starts_with(".dylib") {
            Some(Os::Macos)
        } else if suffix.starts_with(".so") {
            Some(Os::Linux)
        } else {
            None
        };
        return;
    }
}

/// ptxas refusing the GPU Triton compiles for: `ptxas fatal   : Value 'sm_121a' is not defined for option
/// 'gpu-name'`.
fn ptxas_target(line: &str) -> Option<ToolVersion> {
    let t = line.trim();
    if !t.starts_with("ptxas") || !t.contains("for option 'gpu-name'") {
        return None;
    }
    let digits = digits_after(t, "Value 'sm_")?;
    if !(2..=3).contains(&digits.len()) {
        return None;
    }
    let (major, minor) = digits.split_at(digits.len() - 1);
    format!("{major}.{minor}").parse().ok()
}

/// The compute capability of the GPU ptxas was asked to build for, wherever the message is.
pub(super) fn ptxas_capability(text: &str) -> Option<ToolVersion> {
    text.lines().find_map(ptxas_target)
}

/// macOS' loader on an mlx module: "incompatible architecture (have 'arm64', need 'x86_64')": the module's
/// architecture and the Python process's.
fn mlx_arch(line: &str) -> Option<(Arch, Arch)> {
    if !line.contains("mlx") {
        return None;
    }
    let i = line.find("incompatible architecture (have '")?;
    let rest = &line[i + "incompatible architecture (have '".len()..];
    let (have, rest) = rest.split_once('\'')?;
    let need = rest.strip_prefix(", need '")?.split('\'').next()?;
    Some((Arch::from_name(have)?, Arch::from_name(need)?))
}

fn read_mlx(text: &str, facts: &mut Facts) {
    for line in text.lines() {
        let Some((_, need)) = mlx_arch(line) else {
            continue;
        };
        facts.host.os = Some(Os::Macos);
        facts
            .failed
            .entry("python.packages".into())
            .or_insert_with(|| FEW_PACKAGES.into());
        let p = facts.python.get_or_insert_with(Python::default);
        p.arch = Some(need);
        set_python(facts, python_in_path(line));
        return;
    }
}

/// AMD's PyTorch image, `rocm/pytorch:rocm6.4.1_ubuntu24.04_py3.12_pytorch_release_2.6.0`: its Python and
/// PyTorch versions.
fn rocm_image(line: &str) -> Option<(Option<PyVersion>, Option<PyVersion>, Option<&str>)> {
    let i = line.find("rocm/pytorch:")?;
    let tag = line[i + "rocm/pytorch:".len()..]
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .next()?;
    let parts: Vec<&str> = tag.split('_').take(16).collect();
    let mut python = None;
    let mut torch = None;
    let ubuntu = parts.iter().copied().find(|p| p.starts_with("ubuntu"));
    for (j, p) in parts.iter().enumerate() {
        if let Some(v) = p.strip_prefix("py") {
            python = python.or_else(|| v.parse::<PyVersion>().ok());
        }
        if *p == "pytorch" {
            let next = parts[j + 1..].iter().find(|q| **q != "release");
            torch = torch.or_else(|| next.and_then(|q| q.parse::<PyVersion>().ok()));
        }
    }
    (python.is_some() || torch.is_some()).then_some((python, torch, ubuntu))
}

/// `Found 1 ROCm device(s).`, a script's line over the devices' names.
fn rocm_devices_line(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("Found ") && t.contains(" ROCm device")
}

fn read_rocm_image(text: &str, facts: &mut Facts) {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if let Some((python, torch, ubuntu)) = lines.iter().find_map(|l| rocm_image(l)) {
        // The image's Ubuntu is where its Python runs: `ubuntu24.04`.
        facts.host.os = Some(Os::Linux);
        if let Some(v) = ubuntu.and_then(|u| u.strip_prefix("ubuntu")) {
            facts.host.os_name = Some(format!("Ubuntu {v}"));
            facts.host.os_version = v.parse().ok();
        }
        set_python(facts, python);
        if let Some(v) = torch {
            set_package(facts, "torch", v);
        }
    }
    // A script's "Found 1 ROCm device(s)." then "Device 0 Name: AMD Radeon Graphics".
    let mut gpus = Vec::new();
    let mut listing = false;
    for l in &lines {
        if rocm_devices_line(l) {
            listing = true;
            continue;
        }
        if !listing {
            continue;
        }
        let Some(rest) = l.strip_prefix("Device ") else {
            continue;
        };
        let Some((index, name)) = rest.split_once(" Name: ") else {
            continue;
        };
        if index.bytes().all(|b| b.is_ascii_digit()) && !name.trim().is_empty() {
            let mut g = Gpu::new(Vendor::Amd, name.trim());
            g.source = Some("PyTorch (ROCm device name)".into());
            gpus.push(g);
            if gpus.len() >= super::MAX_GPUS {
                break;
            }
        }
    }
    if !gpus.is_empty() {
        facts.gpus = Some(gpus);
    }
}

/// A PowerShell prompt (`PS C:\Users\me> …`, `(venv) PS E:\PIA> …`) says the commands ran on Windows,
/// unless the paste talks about WSL.
pub(super) fn windows_prompt(paste: &str) -> bool {
    let prompt = paste.lines().take(100_000).any(|l| {
        let t = l.trim_start_matches(['>', ' ']);
        let t = match t.strip_prefix('(') {
            Some(rest) => rest.split_once(") ").map_or("", |(_, r)| r),
            None => t,
        };
        t.strip_prefix("PS ").is_some_and(|r| {
            let b = r.as_bytes();
            b.len() > 3
                && b[0].is_ascii_alphabetic()
                && b[1] == b':'
                && b[2] == b'\\'
                && r.contains('>')
        })
    });
    prompt && !paste.contains("WSL") && !paste.contains("wsl")
}

/// Packages a reader saw, keyed by normalized name.
#[cfg(test)]
fn packages(f: &Facts) -> std::collections::BTreeMap<String, String> {
    f.python
        .as_ref()
        .map(|p| {
            p.packages
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_warning_encodes_cuda() {
        let v = |s: &str| driver_warning(s).map(|v| v.to_string());
        assert_eq!(
            v("UserWarning: CUDA initialization: The NVIDIA driver on your system is too old (found version 11040). Please").as_deref(),
            Some("11.4")
        );
        assert_eq!(
            v("The NVIDIA driver on your system is too old (found version 12080)").as_deref(),
            Some("12.8")
        );
        assert_eq!(
            v("The NVIDIA driver on your system is too old (found version x)"),
            None
        );
        assert_eq!(v("my driver is too old"), None);
        assert_eq!(
            python_in_path("/usr/local/lib/python3.10/dist-packages/torch/cuda/__init__.py:124")
                .map(|v| v.to_string())
                .as_deref(),
            Some("3.10")
        );
        assert_eq!(python_in_path("/usr/bin/python3.10 -m x"), None);
    }

    #[test]
    fn small_messages() {
        assert_eq!(
            torch_version_line("My environment is \"torch.__version__  = 2.3.1+cu121\"")
                .map(|v| v.to_string())
                .as_deref(),
            Some("2.3.1+cu121")
        );
        assert_eq!(torch_version_line("print(torch.__version__)"), None);
        let (cuda, suffix) = bnb_binary("WARNING:bitsandbytes.cextension:Could not find the bitsandbytes CUDA binary at WindowsPath('E:/x/libbitsandbytes_cuda129.dll')").expect("bnb");
        assert_eq!((cuda.to_string().as_str(), suffix), ("12.9", ".dll"));
        assert_eq!(
            ptxas_target("ptxas fatal   : Value 'sm_121a' is not defined for option 'gpu-name'")
                .map(|v| v.to_string())
                .as_deref(),
            Some("12.1")
        );
        assert_eq!(
            mlx_arch("ImportError: dlopen(/x/mlx/core.cpython-311-darwin.so, 0x0002): tried: '/x' (mach-o file, but is an incompatible architecture (have 'arm64', need 'x86_64'))"),
            Some((Arch::Aarch64, Arch::X86_64))
        );
        let (py, torch, _) =
            rocm_image("`rocm/pytorch:rocm6.4.1_ubuntu24.04_py3.12_pytorch_release_2.6.0`")
                .expect("tag");
        assert_eq!(py.map(|v| v.to_string()).as_deref(), Some("3.12"));
        assert_eq!(torch.map(|v| v.to_string()).as_deref(), Some("2.6.0"));
        assert!(windows_prompt("(pia) PS E:\\PIA> python x.py\n"));
        assert!(!windows_prompt("PS: see above\n"));
    }

    #[test]
    fn xformers_warning_and_info() {
        let mut f = Facts::default();
        read_xformers(
            "WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.2.0+cu121 with CUDA 1201 (you have 2.2.0+cpu)\n    Python  3.11.7 (you have 3.11.0)\nxFormers 0.0.25.dev741\npytorch.cuda:          not available\n",
            &mut f,
        );
        let p = packages(&f);
        assert_eq!(p["torch"], "2.2.0+cpu");
        assert_eq!(p["xformers"], "0.0.25.dev741");
        assert_eq!(
            f.python
                .as_ref()
                .and_then(|p| p.version.as_ref())
                .map(ToString::to_string)
                .as_deref(),
            Some("3.11.0")
        );
        assert_eq!(f.torch.and_then(|t| t.cuda_available), Some(false));
    }
}
