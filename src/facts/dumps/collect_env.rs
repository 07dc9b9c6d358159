//! `python -m torch.utils.collect_env` and `vllm collect-env` (the same report in titled sections, plus
//! vLLM's version): `Key: value` lines in the plain or the aligned layout, whole or any piece of it.
//!
//! A GPU's compute capability comes only from the dump itself: PyTorch's "Found GPU0 NVIDIA GB10 which is
//! of cuda capability 12.1" warning, or "… with CUDA capability sm_120 is not compatible …". collect_env
//! lists only the packages it filters for (torch, numpy, triton, nvidia-*, …), so the facts say that the
//! package list is partial.

use std::collections::BTreeMap;

use super::DumpKind;
use crate::facts::{Apple, Arch, CudaToolkit, Facts, Gpu, Nvidia, Os, Python, Torch, Vendor};
use crate::version::{PyVersion, ToolVersion};

/// The keys only collect_env prints, in either layout.
const KEYS: &[&str] = &[
    "PyTorch version",
    "Is debug build",
    "CUDA used to build PyTorch",
    "ROCM used to build PyTorch",
    "GCC version",
    "Clang version",
    "CMake version",
    "Libc version",
    "Python version",
    "Python platform",
    "Is CUDA available",
    "CUDA runtime version",
    "CUDA_MODULE_LOADING set to",
    "GPU models and configuration",
    "Nvidia driver version",
    "cuDNN version",
    "HIP runtime version",
    "MIOpen runtime version",
    "Is XNNPACK available",
    "Versions of relevant libraries",
];

/// vLLM's logger line, printed before its collect_env starts (a piece of its own in a paste).
pub(super) fn vllm_logged(paste: &str) -> bool {
    paste.contains("Automatically detected platform")
}

/// A collect_env, or a piece of one: two of its keys (a piece that starts mid-way has no `PyTorch
/// version`), its `[pip3]`/`[conda]` lines counting as one.
pub(super) fn detect(text: &str) -> Option<DumpKind> {
    let f = Fields::parse(text);
    let mut found = KEYS.iter().filter(|k| f.get(k).is_some()).count();
    if text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("[pip3] ") || l.starts_with("[pip] ") || l.starts_with("[conda] ")
    }) {
        found += 1;
    }
    if found < 2 {
        return None;
    }
    let vllm = f.get("vLLM Version").is_some()
        || text.lines().any(|l| {
            let l = l.trim();
            l == "vLLM Info" || l == "System Info" || l == "PyTorch Info"
        });
    Some(if vllm {
        DumpKind::VllmCollectEnv
    } else {
        DumpKind::TorchCollectEnv
    })
}

/// `Key: value` lines, both the plain layout (`OS: Ubuntu 24.04`) and the aligned one (`OS    : …`). A
/// key whose value is empty keeps the indented or following lines (`GPU models and configuration:` then
/// `GPU 0: …`), up to the next blank line.
struct Fields<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Fields<'a> {
    fn parse(text: &'a str) -> Fields<'a> {
        Fields {
            lines: text.lines().map(|l| l.trim_end_matches('\r')).collect(),
        }
    }

    fn position(&self, key: &str) -> Option<(usize, &'a str)> {
        self.lines
            .iter()
            .copied()
            .enumerate()
            .find_map(|(i, line)| {
                let (k, v) = line.split_once(':')?;
                (k.trim() == key && !k.starts_with(' ')).then(|| (i, v.trim()))
            })
    }

    /// The value on the key's own line.
    fn get(&self, key: &str) -> Option<&'a str> {
        self.position(key).map(|(_, v)| v)
    }

    /// A meaningful value: not empty, "N/A", "None", "Could not collect" or "No CUDA".
    fn value(&self, key: &str) -> Option<&'a str> {
        self.get(key).filter(|v| meaningful(v))
    }

    /// The value and the lines under it, for keys whose value may continue on the next lines.
    fn block(&self, key: &str) -> Vec<&'a str> {
        let Some((i, first)) = self.position(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if !first.is_empty() {
            out.push(first);
        }
        for line in &self.lines[i + 1..] {
            let t = line.trim();
            if t.is_empty() || t.starts_with("==") {
                break;
            }
            // The next `Key : value` field ends the block; continuation lines are paths or `GPU n: name`.
            let continues = t.starts_with('/')
                || t.starts_with("GPU ")
                || t.contains(":\\")
                || t.starts_with("Probably");
            if !continues {
                break;
            }
            out.push(t);
        }
        out
    }
}

fn meaningful(v: &str) -> bool {
    let v = v.trim();
    !(v.is_empty()
        || v.eq_ignore_ascii_case("N/A")
        || v == "None"
        || v.starts_with("Could not collect")
        || v == "No CUDA")
}

pub(super) fn read(text: &str, facts: &mut Facts) {
    let f = Fields::parse(text);
    let platform = f.value("Python platform").unwrap_or_default();
    let os_line = f.value("OS").unwrap_or_default();

    // OS, from the platform string Python reports, else the OS line.
    let os = if platform.starts_with("Linux") {
        Some(Os::Linux)
    } else if platform.starts_with("macOS") || platform.starts_with("Darwin") {
        Some(Os::Macos)
    } else if platform.starts_with("Windows") {
        Some(Os::Windows)
    } else if os_line.starts_with("macOS") || os_line.starts_with("Mac OS") {
        Some(Os::Macos)
    } else if os_line.contains("Windows") {
        Some(Os::Windows)
    } else if f
        .value("Libc version")
        .is_some_and(|l| l.starts_with("glibc"))
    {
        Some(Os::Linux)
    } else {
        None
    };
    facts.host.os = os;
    // "Ubuntu 24.04.2 LTS (x86_64)": the name, then the machine architecture in parentheses.
    let (name, arch) = match os_line.rsplit_once(" (") {
        Some((n, a)) if Arch::from_name(a.trim_end_matches(')')).is_some() => {
            (n.trim(), Arch::from_name(a.trim_end_matches(')')))
        }
        _ => (os_line.trim(), None),
    };
    if !name.is_empty() {
        facts.host.os_name = Some(name.to_string());
        facts.host.os_version = match os {
            Some(Os::Windows) => first_version(os_line.split_once('(').map_or("", |p| p.1)),
            _ => first_version(name),
        };
    }
    facts.host.arch = arch;
    facts.host.glibc = f
        .value("Libc version")
        .and_then(|l| l.strip_prefix("glibc-"))
        .and_then(|v| v.parse().ok());
    if let Some(rest) = platform.strip_prefix("Linux-") {
        let rest = rest.split("-with-").next().unwrap_or(rest);
        let kernel = ["-x86_64", "-aarch64"]
            .iter()
            .find_map(|a| rest.strip_suffix(a))
            .unwrap_or(rest);
        facts.host.kernel = Some(kernel.to_string());
        facts.host.wsl = Some(kernel.to_ascii_lowercase().contains("microsoft"));
    }
    read_cpu(&f, text, facts);

    // Python and the packages the dump lists.
    // On macOS the OS line's architecture is `platform.machine()` of the Python process too (x86_64
    // under Rosetta), so it stands for the interpreter when the platform line is missing (torch < 1.9).
    let python_arch = ["x86_64", "aarch64", "arm64", "AMD64"]
        .iter()
        .find(|a| platform.split('-').any(|part| part == **a))
        .and_then(|a| Arch::from_name(a))
        .or(if os == Some(Os::Macos) { arch } else { None });
    let mut packages: BTreeMap<String, PyVersion> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line
            .strip_prefix("[pip3]")
            .or_else(|| line.strip_prefix("[pip]"))
        {
            if let Some((n, v)) = rest.trim().split_once("==") {
                if let Ok(v) = v.trim().parse::<PyVersion>() {
                    packages.insert(n.trim().to_string(), v);
                }
            }
        } else if let Some(rest) = line.strip_prefix("[conda]") {
            // `name version build channel`: only a pip install inside conda names a PyPI distribution.
            let cols: Vec<&str> = rest.split_whitespace().collect();
            if cols.len() >= 4 && cols[3] == "pypi" {
                if let Ok(v) = cols[1].parse::<PyVersion>() {
                    packages.entry(cols[0].to_string()).or_insert(v);
                }
            }
        }
    }
    let torch_version = f
        .value("PyTorch version")
        .and_then(|v| v.parse::<PyVersion>().ok());
    if let Some(v) = &torch_version {
        packages.entry("torch".into()).or_insert_with(|| v.clone());
    }
    if let Some(v) = f
        .value("vLLM Version")
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<PyVersion>().ok())
    {
        packages.entry("vllm".into()).or_insert(v);
    }
    facts.python = Some(Python {
        version: f
            .value("Python version")
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok()),
        arch: python_arch,
        packages,
        ..Python::default()
    });
    facts.failed.insert(
        "python.packages".into(),
        "collect_env lists only the packages it looks for (torch, numpy, triton, nvidia-*, …); others may be installed".into(),
    );

    // PyTorch as it reported itself.
    let rocm = f.value("ROCM used to build PyTorch").is_some();
    if torch_version.is_some() {
        facts.torch = Some(Torch {
            version: torch_version,
            cuda: f
                .value("CUDA used to build PyTorch")
                .and_then(|v| v.parse().ok()),
            cuda_available: match f.get("Is CUDA available") {
                Some("True") => Some(true),
                Some("False") => Some(false),
                _ => None,
            },
            ..Torch::default()
        });
        facts.imports = Some(BTreeMap::from([("torch".to_string(), "ok".to_string())]));
    }

    // CUDA: "CUDA runtime version" is what `nvcc --version` says (the toolkit); cuDNN from its library file.
    let toolkit = f
        .value("CUDA runtime version")
        .and_then(|v| v.parse::<ToolVersion>().ok())
        .and_then(|v| format!("{}.{}", v.major(), v.minor()).parse().ok());
    let cudnn = cudnn_version(text);
    if toolkit.is_some() || cudnn.is_some() {
        facts.cuda = Some(CudaToolkit {
            toolkit,
            cudnn,
            ..CudaToolkit::default()
        });
    }
    if let Some(driver) = f
        .value("Nvidia driver version")
        .and_then(|v| v.parse().ok())
    {
        facts.nvidia = Some(Nvidia {
            driver: Some(driver),
            source: Some("collect_env (nvidia-smi)".into()),
            ..Nvidia::default()
        });
    }

    // GPUs: `nvidia-smi -L` lines (`GPU 0: NVIDIA A100-SXM4-40GB`), or the device name PyTorch gives for
    // ROCm and Apple builds.
    let gpu_block = f.block("GPU models and configuration");
    let mut gpus: Vec<Gpu> = Vec::new();
    for line in gpu_block.iter().take(super::MAX_GPUS) {
        if let Some(rest) = line.strip_prefix("GPU ") {
            if let Some((index, name)) = rest.split_once(':') {
                if index.trim().bytes().all(|b| b.is_ascii_digit()) && !name.trim().is_empty() {
                    let mut g = Gpu::new(Vendor::Nvidia, name.trim());
                    g.source = Some("collect_env (nvidia-smi -L)".into());
                    gpus.push(g);
                }
            }
        }
    }
    let single = gpu_block.first().copied().unwrap_or_default();
    if gpus.is_empty() && meaningful(single) && !single.starts_with("GPU ") {
        let vendor = if rocm
            || ["AMD", "Radeon", "Instinct"]
                .iter()
                .any(|w| single.contains(w))
        {
            Some(Vendor::Amd)
        } else if single.starts_with("NVIDIA") {
            Some(Vendor::Nvidia)
        } else {
            None
        };
        if let Some(vendor) = vendor {
            let mut g = Gpu::new(vendor, single);
            g.source = Some("collect_env (PyTorch)".into());
            gpus.push(g);
        }
    }
    for (name, cc) in capabilities_in_warnings(text) {
        if let Some(g) = gpus.iter_mut().find(|g| g.name == name) {
            g.compute_capability.get_or_insert(cc);
        } else if gpus.is_empty() || !gpus.iter().any(|g| g.vendor == Vendor::Nvidia) {
            let mut g = Gpu::new(Vendor::Nvidia, name);
            g.compute_capability = Some(cc);
            g.source = Some("collect_env (PyTorch warning)".into());
            gpus.push(g);
        }
    }
    if let (Some(t), Some(g)) = (facts.torch.as_mut(), gpus.first()) {
        t.device_capability = g.compute_capability.clone();
    }
    let warnings = torch_warnings(text);
    if !warnings.is_empty() {
        facts.import_warnings.insert("torch".into(), warnings);
    }
    if !gpus.is_empty() {
        facts.gpus = Some(gpus);
    } else if os == Some(Os::Macos) && python_arch == Some(Arch::Aarch64) {
        // An arm64 Python on macOS runs on Apple silicon, whose GPU is part of the chip.
        let chip = facts
            .host
            .cpu_model
            .clone()
            .filter(|c| c.starts_with("Apple"));
        let mut g = Gpu::new(
            Vendor::Apple,
            chip.clone().unwrap_or_else(|| "Apple silicon GPU".into()),
        );
        g.unified_memory = Some(true);
        g.source = Some("collect_env (macOS arm64)".into());
        facts.gpus = Some(vec![g]);
        facts.apple = Some(Apple {
            chip,
            ..Apple::default()
        });
    } else if f
        .get("GPU models and configuration")
        .is_some_and(|v| v.starts_with("Could not collect"))
    {
        facts.failed.insert(
            "gpus".into(),
            "the dump says GPU models: Could not collect".into(),
        );
    }
    if facts.host.memory_gb.is_none() {
        facts
            .failed
            .insert("host".into(), "collect_env does not report memory".into());
    }
}

/// PyTorch's warnings about the GPU wherever they are in the paste: printed when torch is imported, they
/// may come before the dump starts ("Collecting environment information..." opens a piece of its own).
/// GPUs they name with a capability, as their own facts, and the warnings as `import torch` printed them.
pub(super) fn read_torch_warnings(paste: &str, facts: &mut Facts) {
    let gpus: Vec<Gpu> = capabilities_in_warnings(paste)
        .into_iter()
        .map(|(name, cc)| {
            let mut g = Gpu::new(Vendor::Nvidia, name);
            g.compute_capability = Some(cc);
            g.source = Some("PyTorch warning".into());
            g
        })
        .collect();
    if !gpus.is_empty() {
        facts.gpus = Some(gpus);
    }
    let warnings = torch_warnings(paste);
    if !warnings.is_empty() {
        facts.import_warnings.insert("torch".into(), warnings);
    }
}

/// The CPU: lscpu's `Model name:` and `CPU(s):` on Linux, the line under the CPU heading on macOS, `Name:`
/// on Windows.
fn read_cpu(f: &Fields, text: &str, facts: &mut Facts) {
    let mut models: Vec<&str> = Vec::new();
    for line in &f.lines {
        if let Some((k, v)) = line.split_once(':') {
            if k.trim() == "Model name" && !v.trim().is_empty() && !models.contains(&v.trim()) {
                models.push(v.trim());
                if models.len() >= 8 {
                    break;
                }
            }
        }
    }
    if models.is_empty() && facts.host.os == Some(Os::Windows) {
        if let Some(n) = f.value("Name") {
            models.push(n);
        }
    }
    if models.is_empty() {
        // macOS: `sysctl -n machdep.cpu.brand_string` alone under "CPU:" or the "CPU Info" section.
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        if let Some(i) = lines.iter().position(|l| *l == "CPU:" || *l == "CPU Info") {
            if let Some(model) = lines[i + 1..]
                .iter()
                .find(|l| !l.is_empty() && !l.starts_with("=="))
                .filter(|l| l.starts_with("Apple") || l.starts_with("Intel"))
            {
                models.push(model);
            }
        }
    }
    if !models.is_empty() {
        facts.host.cpu_model = Some(models.join(" + "));
    }
    facts.host.cpu_cores = f.value("CPU(s)").and_then(|v| v.parse().ok());
}

/// cuDNN's version when every `libcudnn.so.X.Y.Z` the dump lists agrees (collect_env "cannot tell which
/// one is being used" when there are several).
fn cudnn_version(text: &str) -> Option<ToolVersion> {
    let mut found: Vec<String> = Vec::new();
    for part in text.split(|c: char| c.is_whitespace()) {
        if let Some((_, v)) = part.rsplit_once("/libcudnn.so.") {
            if v.parse::<ToolVersion>().is_ok() && !found.iter().any(|f| f == v) {
                found.push(v.to_string());
                if found.len() > 1 {
                    // Two versions: ambiguous, whatever else follows.
                    return None;
                }
            }
        }
    }
    match found.as_slice() {
        [one] => one.parse().ok(),
        _ => None,
    }
}

/// GPUs whose compute capability PyTorch's own warnings state: "Found GPU0 NVIDIA GB10 which is of cuda
/// capability 12.1." and "NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible …".
fn capabilities_in_warnings(text: &str) -> Vec<(String, ToolVersion)> {
    let mut out: Vec<(String, ToolVersion)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let found = if let Some(rest) = line.strip_prefix("Found GPU") {
            rest.split_once(" which is of cuda capability ")
                .and_then(|(head, cc)| {
                    let name = head.trim_start_matches(|c: char| c.is_ascii_digit()).trim();
                    let cc = cc.trim().trim_end_matches('.');
                    Some((name.to_string(), cc.parse::<ToolVersion>().ok()?))
                })
        } else if let Some((name, rest)) = line.split_once(" with CUDA capability sm_") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (digits.len() >= 2)
                .then(|| {
                    let (major, minor) = digits.split_at(digits.len() - 1);
                    format!("{major}.{minor}").parse::<ToolVersion>().ok()
                })
                .flatten()
                // A quoted or listed warning (`- \`NVIDIA GeForce RTX 5090 with …\``): the name alone.
                .map(|cc| {
                    (
                        name.trim_start_matches(['-', '*', '`', '>', ' '])
                            .trim()
                            .to_string(),
                        cc,
                    )
                })
        } else {
            None
        };
        if let Some((name, cc)) = found.filter(|(n, _)| !n.is_empty()) {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, cc));
                // One warning per GPU model; a paste with more is not a machine's.
                if out.len() >= 64 {
                    break;
                }
            }
        }
    }
    out
}

/// PyTorch's warnings about this GPU, as `doctor --deep` would record them from `import torch`.
fn torch_warnings(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let starts =
            |l: &str| l.starts_with("Found GPU") || l.contains(" with CUDA capability sm_");
        if starts(line) {
            // A warning quoted in a Markdown list: without its bullet and backticks.
            let mut warning = vec![line
                .trim_start_matches(['-', '*', '`', ' '])
                .trim_end_matches('`')];
            // PyTorch's warnings run a few lines; a paste's run of them is not one warning.
            for next in lines[i + 1..].iter().take(8) {
                if next.is_empty()
                    || next.starts_with("- ")
                    || next.starts_with("* ")
                    || next.starts_with("warnings.warn")
                    || next.starts_with("==")
                    || starts(next)
                {
                    break;
                }
                warning.push(next);
            }
            out.push(warning.join(" "));
            if out.len() >= 64 {
                break;
            }
        }
    }
    out
}

/// The first dotted number in a text: `24.04.2` in "Ubuntu 24.04.2 LTS", `9` in "CentOS Stream 9".
pub(super) fn first_version(text: &str) -> Option<ToolVersion> {
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_digit())
                .split('.')
                .take(3)
                .collect::<Vec<_>>()
                .join(".")
        })
        .and_then(|w| w.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_in_os_names() {
        let v = |s: &str| first_version(s).map(|v| v.to_string());
        assert_eq!(v("Ubuntu 24.04.2 LTS").as_deref(), Some("24.04.2"));
        assert_eq!(v("CentOS Stream 9").as_deref(), Some("9"));
        assert_eq!(
            v("Red Hat Enterprise Linux release 8.4 (Ootpa)").as_deref(),
            Some("8.4")
        );
        assert_eq!(v("10.0.22631 64-bit)").as_deref(), Some("10.0.22631"));
        assert_eq!(v("Arch Linux"), None);
    }

    #[test]
    fn warnings_state_capabilities() {
        let found = capabilities_in_warnings(
            "  Found GPU0 NVIDIA GB10 which is of cuda capability 12.1.\nNVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current PyTorch installation.\n",
        );
        assert_eq!(found[0].0, "NVIDIA GB10");
        assert_eq!(found[0].1.to_string(), "12.1");
        assert_eq!(found[1].0, "NVIDIA GeForce RTX 5090");
        assert_eq!(found[1].1.to_string(), "12.0");
    }

    #[test]
    fn cudnn_only_when_unambiguous() {
        assert_eq!(
            cudnn_version("/usr/lib/x/libcudnn.so.8.9.0\n/usr/lib/x/libcudnn_adv_infer.so.8.9.0")
                .unwrap()
                .to_string(),
            "8.9.0"
        );
        assert!(cudnn_version("/a/libcudnn.so.8.9.2\n/a/libcudnn.so.9.7.1").is_none());
    }
}
