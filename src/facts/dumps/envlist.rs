//! Environments as people type them in an issue: Markdown bullets and plain lines such as `- PyTorch:
//! 2.7.0+cu128`, `**OS**: Ubuntu 22.04`, `- GPU: 2x RTX 5090`, `- Driver: 570.124.06`, `Python: 3.10`,
//! `GPU：Tesla V100S`, `python 3.12.4`, pins (`flash-attn==2.6.0.post1`), and, once a list is recognized,
//! bullets without a key that are plainly an OS (`- Ubuntu 24.04.4 LTS`) or GPUs (`- 2xRTX 5000 16GB
//! (driver version: 590.48.01)`).
//!
//! Conservative: a piece is such a list only when at least two lines each state an environment fact
//! (pins count once); a lone `GPU: DGX Spark` is read only beside another dump. A name is kept as written
//! (`RTX 5090`); what it implies is the completion step's.

use crate::facts::{normalize_package, CudaToolkit, Facts, Gpu, Nvidia, Os, Python, Torch, Vendor};
use crate::version::{PyVersion, ToolVersion};

use super::collect_env::first_version;

/// Packages whose version a list may give as `Name: version`.
const PACKAGES: &[&str] = &[
    "xformers",
    "transformers",
    "vllm",
    "sglang",
    "flash-attn",
    "flash_attn",
    "triton",
    "bitsandbytes",
    "diffusers",
    "accelerate",
    "deepspeed",
    "jax",
    "jaxlib",
    "tensorflow",
    "onnxruntime",
    "onnxruntime-gpu",
    "llama-cpp-python",
    "mlx",
    "mlx-lm",
    "peft",
    "numpy",
    "tensorrt",
    "tensorrt-llm",
    "torchvision",
    "torchaudio",
    "flashinfer",
    "sgl-kernel",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Torch,
    TorchCuda,
    TorchIndex,
    Toolkit,
    Gpu,
    Driver,
    Os,
    Python,
    Package,
}

fn key(k: &str) -> Option<Key> {
    let k = k.trim().to_ascii_lowercase();
    Some(match k.as_str() {
        "pytorch" | "pytorch version" | "torch" | "torch version" => Key::Torch,
        "cuda (pytorch)" | "cuda (torch)" | "torch cuda" | "pytorch cuda"
        | "torch.version.cuda" => Key::TorchCuda,
        "pytorch index" | "torch index" => Key::TorchIndex,
        "cuda toolkit" | "cuda toolkit version" | "nvcc" | "nvcc version" => Key::Toolkit,
        "gpu" | "gpus" | "gpu model" | "gpu models" | "graphics card" | "graphics" => Key::Gpu,
        "driver" | "driver version" | "nvidia driver" | "nvidia driver version" | "gpu driver" => {
            Key::Driver
        }
        "os" | "operating system" | "os version" | "system" | "platform" | "distro" => Key::Os,
        "python" | "python version" => Key::Python,
        _ if PACKAGES.contains(&k.as_str()) => Key::Package,
        _ => return None,
    })
}

/// A line without its bullet, bold markers and surrounding backticks; whether it had a bullet.
fn undecorate(line: &str) -> (String, bool) {
    let t = line.trim();
    let (t, bullet) = match ["- ", "* ", "• ", "+ "]
        .iter()
        .find_map(|b| t.strip_prefix(b))
    {
        Some(rest) => (rest.trim_start(), true),
        None => (t, false),
    };
    let t = t.replace("**", "");
    (t.trim().trim_matches('`').trim().to_string(), bullet)
}

/// The first word of a value, without quotes, backticks and trailing punctuation.
fn first_word(v: &str) -> &str {
    v.trim()
        .trim_start_matches(['`', '"', '\''])
        .split(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | ',' | ';' | '('))
        .next()
        .unwrap_or_default()
        .trim_end_matches(['.', ')'])
}

fn version_word(v: &str) -> Option<PyVersion> {
    let w = first_word(v);
    w.starts_with(|c: char| c.is_ascii_digit())
        .then(|| w.parse().ok())
        .flatten()
}

/// `cu121` → 12.1.
fn cuda_tag(tag: &str) -> Option<ToolVersion> {
    let digits = tag.strip_prefix("cu")?;
    if !(3..=4).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (major, minor) = digits.split_at(digits.len() - 1);
    format!("{major}.{minor}").parse().ok()
}

/// An NVIDIA driver's number after "driver" (`driver 570.124.06`, `driver version: 590.48.01`).
fn driver_in(s: &str) -> Option<ToolVersion> {
    let lower = s.to_ascii_lowercase();
    for (i, _) in lower.match_indices("driver").take(8) {
        let rest = &s[i + "driver".len()..];
        let rest = rest.trim_start();
        let rest = rest
            .strip_prefix("version")
            .or_else(|| rest.strip_prefix("Version"))
            .unwrap_or(rest);
        let rest = rest.trim_start_matches([' ', ':', '：', '=']);
        let w = first_word(rest);
        if let Ok(v) = w.parse::<ToolVersion>() {
            if w.contains('.') && (100..1000).contains(&v.major()) {
                return Some(v);
            }
        }
    }
    None
}

fn vendor_of(name: &str) -> Option<Vendor> {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect();
    let model = |w: &str, prefixes: &str| {
        let mut c = w.chars();
        c.next().is_some_and(|f| prefixes.contains(f))
            && c.next().is_some_and(|d| d.is_ascii_digit())
    };
    if words.iter().any(|w| {
        [
            "nvidia", "geforce", "rtx", "gtx", "tesla", "quadro", "titan", "dgx", "jetson",
        ]
        .contains(w)
            || w.starts_with("rtx")
            || w.starts_with("gtx")
            || model(w, "ahblvtp")
            || w.starts_with("gb10")
            || w.starts_with("gh200")
    }) {
        Some(Vendor::Nvidia)
    } else if words.iter().any(|w| {
        ["amd", "radeon", "instinct"].contains(w) || (w.starts_with("mi") && model(&w[1..], "i"))
    }) {
        Some(Vendor::Amd)
    } else if words.first() == Some(&"apple") {
        Some(Vendor::Apple)
    } else if words.contains(&"intel") || words.contains(&"arc") {
        Some(Vendor::Intel)
    } else {
        None
    }
}

/// `2× RTX 5090 (32 GB each)`, `2xRTX 5000 16GB (…) with nvlink`, `NVIDIA GeForce RTX 5090 (SM_120)`:
/// the GPUs, named as written, with a compute capability the text states (`SM_120`).
fn gpus_in(v: &str) -> Vec<Gpu> {
    let v = v.trim();
    // A count first: `2x`, `2 x `, `2×`, `2 * `.
    let digits = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (mut count, mut rest) = (1usize, v);
    if digits > 0 && digits <= 2 {
        let after = v[digits..].trim_start();
        if let Some(r) = ["x", "X", "×", "*"]
            .iter()
            .find_map(|m| after.strip_prefix(m))
        {
            count = v[..digits].parse().unwrap_or(1);
            rest = r.trim_start();
        }
    }
    let head = rest.split(['(', ',', ';', '[']).next().unwrap_or_default();
    let head = head.split(" with ").next().unwrap_or_default();
    // The model as written, less the memory people add after it (`RTX 5000 16GB`, `RTX 3090 24 GB`); a
    // size inside the model's name stays (`NVIDIA A100 80GB PCIe`).
    let mut words: Vec<&str> = head
        .split_whitespace()
        .take_while(|w| !w.eq_ignore_ascii_case("each"))
        .take(8)
        .collect();
    let size = |w: &str| {
        let lw = w.to_ascii_lowercase();
        ["gb", "gib", "g"].iter().any(|u| {
            lw.strip_suffix(u)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    if words
        .last()
        .is_some_and(|w| w.eq_ignore_ascii_case("gb") || w.eq_ignore_ascii_case("gib"))
    {
        words.pop();
        if words
            .last()
            .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()))
        {
            words.pop();
        }
    } else if words.last().is_some_and(|w| size(w)) {
        words.pop();
    }
    let name = words.join(" ");
    let Some(vendor) = vendor_of(&name) else {
        return Vec::new();
    };
    // The model comes first: `Device-1: NVIDIA AD102 …` (inxi's Graphics line) is no GPU's name.
    let first = name.split_whitespace().next().unwrap_or_default();
    if vendor_of(first).is_none() {
        return Vec::new();
    }
    let lower = v.to_ascii_lowercase();
    let cc = lower.find("sm_").and_then(|i| {
        let d: String = lower[i + 3..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        ((2..=3).contains(&d.len()))
            .then(|| {
                let (major, minor) = d.split_at(d.len() - 1);
                format!("{major}.{minor}").parse::<ToolVersion>().ok()
            })
            .flatten()
    });
    (0..count.clamp(1, 64))
        .map(|_| {
            let mut g = Gpu::new(vendor, name.clone());
            if vendor == Vendor::Nvidia {
                g.compute_capability = cc.clone();
            }
            g.source = Some("environment list".into());
            g
        })
        .collect()
}

/// `Ubuntu 22.04.5 LTS (kernel 6.8.0-64-generic)`, `Windows 11`, `macOS 14.5`.
fn os_in(v: &str, facts: &mut Facts) -> bool {
    let v = v.trim();
    let lower = v.to_ascii_lowercase();
    const LINUX: &[&str] = &[
        "ubuntu",
        "debian",
        "fedora",
        "centos",
        "rocky",
        "almalinux",
        "rhel",
        "red hat",
        "arch linux",
        "manjaro",
        "opensuse",
        "suse",
        "linux mint",
        "pop!_os",
        "nixos",
        "amazon linux",
        "tencentos",
        "linux",
    ];
    let os = if LINUX.iter().any(|d| lower.starts_with(d)) {
        Os::Linux
    } else if lower.starts_with("windows") || lower.starts_with("win1") {
        Os::Windows
    } else if lower.starts_with("macos") || lower.starts_with("mac os") || lower.starts_with("os x")
    {
        Os::Macos
    } else {
        return false;
    };
    let name = v.split('(').next().unwrap_or(v).trim();
    facts.host.os = Some(os);
    facts.host.os_name = Some(name.to_string());
    facts.host.os_version = first_version(name);
    if let Some(i) = lower.find("kernel ") {
        let k = first_word(&v[i + "kernel ".len()..]);
        if k.starts_with(|c: char| c.is_ascii_digit()) {
            facts.host.kernel = Some(k.to_string());
        }
    }
    true
}

/// `name==version` (a pin people paste as their environment), spaces allowed after `==`.
fn pin(t: &str) -> Option<(&str, PyVersion)> {
    let (n, v) = t.split_once("==")?;
    let n = n.trim();
    let ok = n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let v = v.trim();
    (ok && !v.contains(char::is_whitespace))
        .then(|| v.parse().ok().map(|v| (n, v)))
        .flatten()
}

/// What one list reads: its facts and how many of its keys stated one.
struct Read {
    facts: Facts,
    keys: usize,
}

fn read_list(text: &str) -> Read {
    let mut facts = Facts::default();
    let mut keys: Vec<Key> = Vec::new();
    let mut python = Python::default();
    let mut torch = Torch::default();
    let mut torch_version: Option<PyVersion> = None;
    let mut index: Option<String> = None;
    let mut toolkit: Option<ToolVersion> = None;
    let mut driver: Option<ToolVersion> = None;
    let mut gpus: Vec<Gpu> = Vec::new();
    let mut bullets: Vec<String> = Vec::new();
    for line in text.lines().take(10_000) {
        if line.len() > 1000 {
            continue;
        }
        let (t, bullet) = undecorate(line);
        if let Some((n, v)) = pin(&t) {
            python.packages.entry(normalize_package(n)).or_insert(v);
            if !keys.contains(&Key::Package) {
                keys.push(Key::Package);
            }
            continue;
        }
        // `python 3.12.4`: the word and a version, nothing else.
        if let Some(v) = t
            .strip_prefix("python ")
            .or_else(|| t.strip_prefix("Python "))
            .filter(|r| !r.trim().contains(' '))
            .and_then(version_word)
        {
            python.version.get_or_insert(v);
            if !keys.contains(&Key::Python) {
                keys.push(Key::Python);
            }
            continue;
        }
        let mut stated = false;
        for segment in t.split(", ") {
            let Some((k, v)) = segment.split_once(':').or_else(|| segment.split_once('：')) else {
                continue;
            };
            if k.len() > 40 {
                continue;
            }
            let Some(key) = key(k) else { continue };
            let done = match key {
                Key::Torch => version_word(v).map(|v| torch_version = Some(v)).is_some(),
                Key::TorchCuda => first_word(v)
                    .parse::<ToolVersion>()
                    .ok()
                    .map(|v| torch.cuda = Some(v))
                    .is_some(),
                Key::TorchIndex => {
                    let w = first_word(v).trim_end_matches('/');
                    let tag = w.rsplit('/').next().unwrap_or(w);
                    cuda_tag(tag)
                        .map(|_| index = Some(tag.to_string()))
                        .is_some()
                }
                Key::Toolkit => first_word(v)
                    .parse::<ToolVersion>()
                    .ok()
                    .map(|v| toolkit = Some(v))
                    .is_some(),
                Key::Gpu => {
                    let found = gpus_in(v);
                    let any = !found.is_empty();
                    if gpus.is_empty() {
                        gpus = found;
                    }
                    any
                }
                Key::Driver => driver_in(segment).map(|d| driver = Some(d)).is_some(),
                Key::Os => os_in(v, &mut facts),
                Key::Python => version_word(v).map(|v| python.version = Some(v)).is_some(),
                Key::Package => version_word(v)
                    .map(|ver| {
                        python.packages.entry(normalize_package(k)).or_insert(ver);
                    })
                    .is_some(),
            };
            if done {
                stated = true;
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        if let Some(d) = driver_in(&t) {
            driver.get_or_insert(d);
        }
        if bullet && !stated {
            bullets.push(t);
        }
    }
    // Bullets without a key, read once the list is known to be one.
    if keys.len() >= 2 {
        for b in bullets.iter().take(64) {
            if facts.host.os.is_none() && os_in(b, &mut facts) {
                continue;
            }
            if gpus.is_empty() {
                gpus = gpus_in(b);
            }
        }
    }
    let mut torch_version = torch_version.or_else(|| python.packages.get("torch").cloned());
    // `torch==2.5.1` from the `cu121` index is 2.5.1+cu121.
    if let (Some(tag), Some(v)) = (&index, &torch_version) {
        if v.local().is_empty() {
            torch_version = format!("{v}+{tag}").parse().ok().or(torch_version.clone());
        }
    }
    if let Some(v) = torch_version {
        python.packages.insert("torch".into(), v);
    }
    if torch.cuda.is_some() {
        facts.torch = Some(torch);
    }
    if !python.packages.is_empty() || python.version.is_some() {
        facts.python = Some(python);
        facts.failed.insert(
            "python.packages".into(),
            "an environment list names only the packages its writer typed; others may be installed"
                .into(),
        );
    }
    if !gpus.is_empty() {
        facts.gpus = Some(gpus);
    }
    if let Some(d) = driver {
        facts.nvidia = Some(Nvidia {
            driver: Some(d),
            source: Some("environment list".into()),
            ..Nvidia::default()
        });
    }
    if toolkit.is_some() {
        facts.cuda = Some(CudaToolkit {
            toolkit,
            ..CudaToolkit::default()
        });
    }
    Read {
        facts,
        keys: keys.len(),
    }
}

/// How many environment keys `text` states a fact for (pins count once).
pub(super) fn keys(text: &str) -> usize {
    read_list(text).keys
}

pub(super) fn read(text: &str, facts: &mut Facts) {
    *facts = read_list(text).facts;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(f: &Facts) -> Vec<String> {
        f.gpus.iter().flatten().map(|g| g.name.clone()).collect()
    }

    #[test]
    fn bullets_and_keys() {
        let r = read_list("## Environment\n\n- PyTorch: `2.7.0.dev20250310+cu124` (nightly wheel)\n- CUDA toolkit: 12.4 (driver 570.124.06 from NVIDIA)\n- GPU: 2× RTX 5090 (32 GB each)\n- OS: Ubuntu 22.04.5 LTS (kernel 6.8.0-64-generic)\n- Python: 3.11.9\n");
        assert_eq!(r.keys, 5);
        assert_eq!(names(&r.facts), ["RTX 5090", "RTX 5090"]);
        let n = r.facts.nvidia.as_ref().and_then(|n| n.driver.as_ref());
        assert_eq!(n.map(ToString::to_string).as_deref(), Some("570.124.06"));
        assert_eq!(r.facts.host.kernel.as_deref(), Some("6.8.0-64-generic"));
        let r = read_list("- Ubuntu 24.04.4 LTS\n- PyTorch: 2.9.1+cu130, CUDA (PyTorch): 13.0\n- 2xRTX 5000 16GB (driver version: 590.48.01) with nvlink\n- Ram 117GB\n");
        assert_eq!(names(&r.facts), ["RTX 5000", "RTX 5000"]);
        assert_eq!(r.facts.host.os, Some(Os::Linux));
        for (line, name) in [
            (
                "- GPU: NVIDIA A100 80GB PCIe\n- Python: 3.10\n",
                "NVIDIA A100 80GB PCIe",
            ),
            ("- GPU: RTX 3090 24 GB\n- Python: 3.10\n", "RTX 3090"),
            ("Graphics: Device-1: NVIDIA AD102 [GeForce RTX 4090]\nPython: 3.10\nOS: Ubuntu 22.04\n", ""),
        ] {
            let want: Vec<&str> = [name].into_iter().filter(|n| !n.is_empty()).collect();
            assert_eq!(names(&read_list(line).facts), want);
        }
        let r = read_list(
            "- GPU: NVIDIA GeForce RTX 5090 (SM_120)\n- `torch==2.5.1`\n- PyTorch index: `cu121`\n",
        );
        let g = &r.facts.gpus.as_ref().expect("gpus")[0];
        assert_eq!(
            g.compute_capability
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("12.0")
        );
        let p = &r.facts.python.as_ref().expect("python").packages;
        assert_eq!(p["torch"].to_string(), "2.5.1+cu121");
        let r =
            read_list("env:\nflash-attn==2.6.0.post1\ntransformers== 4.42.4\n\nGPU：Tesla V100S\n");
        assert_eq!(r.keys, 2);
        assert_eq!(names(&r.facts), ["Tesla V100S"]);
    }

    #[test]
    fn prose_is_no_list() {
        for text in [
            "I tried the GPU: it crashed.\nThe driver: who knows.\n",
            "- Install the driver\n- Reboot\n- Run python 3 times\n",
            "OS: the one from work\nPython: latest\n",
            "- GPU: yes\n- Python: sure\n",
        ] {
            assert!(read_list(text).keys < 2, "{text}");
        }
    }
}
