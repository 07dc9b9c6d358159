//! The environment dumps people paste into bug reports, read as facts, so a maintainer can run `mlcompat
//! doctor --facts issue.txt` on what a reporter posted: torch `collect_env`, `vllm collect-env`, `python -m
//! sglang.check_env`, the `nvidia-smi` table and `nvidia-smi -q`, `pip list` / `pip freeze` / `uv pip list`
//! / `conda list`, `nvcc --version`, `llama-cli --version`, `ollama --version`, `system_profiler
//! SPHardwareDataType`, `rocminfo` / `rocm-smi`, `uname -a` and `/etc/os-release`; Ollama's server log,
//! `python -m xformers.info`, ggml's device list; the one-line messages that state a fact wherever they
//! are ([`messages`]: PyTorch's "driver too old (found version 12080)", bitsandbytes' missing
//! `libbitsandbytes_cuda128`, …); and environments typed as Markdown lists ([`envlist`]).
//!
//! Each is recognized by what it contains, anywhere in the paste: Markdown fences, `<details>`, quoted
//! lines, issue prose, warnings printed first, shell prompts and other dumps around it. The paste is cut
//! into pieces at fences, prompts and the lines that start a dump ([`paste`]); each reader sees only the
//! pieces it recognized, so one dump's lines cannot be read as another's; the facts of all pieces are
//! merged, the more specific reader first.
//!
//! Only what a dump says becomes a fact: no compute capability or memory from a GPU's name, no CUDA
//! version from a driver number. Figures a GPU's name implies are the completion step's job.

mod collect_env;
mod envlist;
mod messages;
mod ollama_log;
mod packages;
mod paste;
mod sglang;
pub mod smi;
mod system;
mod tools;

use std::collections::BTreeMap;

use crate::facts::{Facts, Gpu, Machine, MachineKind, FACTS_SCHEMA};

/// What a pasted text contains, in the order their facts are merged (the more specific first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DumpKind {
    /// `python -m torch.utils.collect_env` (also `python collect_env.py`), whole or a piece of it.
    TorchCollectEnv,
    /// `vllm collect-env` / vLLM's `collect_env.py`: sections under `=====` rules, a "vLLM Info" part.
    VllmCollectEnv,
    /// `python -m sglang.check_env`.
    SglangCheckEnv,
    /// The `nvidia-smi` table (or only its header), or its failure message.
    NvidiaSmi,
    /// `nvidia-smi -q`.
    NvidiaSmiQuery,
    /// `rocminfo`.
    Rocminfo,
    /// `rocm-smi`.
    RocmSmi,
    /// `system_profiler SPHardwareDataType`.
    SystemProfiler,
    /// `/etc/os-release`.
    OsRelease,
    /// `uname -a`.
    Uname,
    /// `pip list` / `uv pip list`.
    PipList,
    /// `pip freeze`.
    PipFreeze,
    /// `conda list`.
    CondaList,
    /// `pip check`: declared requirements that are not met.
    PipCheck,
    /// `nvcc --version`.
    Nvcc,
    /// `llama-cli --version`, or llama.cpp's `build: … with … for …` log line.
    LlamaCpp,
    /// `ollama --version`.
    Ollama,
    /// Ollama's server log (`msg="inference compute" … library=cuda compute=7.5 driver=12.9 …`).
    OllamaLog,
    /// `python -m xformers.info`, or xFormers' "built for … (you have …)" warning.
    XformersInfo,
    /// AMD's `rocm/pytorch:…_py3.12_pytorch_release_2.6.0` image tag, with the ROCm devices a script lists.
    RocmImage,
    /// PyTorch's "The NVIDIA driver on your system is too old (found version 12080)".
    TorchDriverWarning,
    /// `torch.__version__  = 2.3.1+cu121` (flash-attn's setup prints it).
    TorchVersionLine,
    /// bitsandbytes' "Could not find the bitsandbytes CUDA binary at …libbitsandbytes_cuda128.dll".
    Bitsandbytes,
    /// ptxas' "Value 'sm_121a' is not defined for option 'gpu-name'".
    Ptxas,
    /// macOS' loader on mlx: "incompatible architecture (have 'arm64', need 'x86_64')".
    MlxLoad,
    /// An environment typed as a list (`- PyTorch: 2.7.0`, `- GPU: 2x RTX 5090`, `- OS: Ubuntu 22.04`).
    EnvList,
}

impl DumpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DumpKind::TorchCollectEnv => "torch collect_env",
            DumpKind::VllmCollectEnv => "vllm collect-env",
            DumpKind::SglangCheckEnv => "sglang check_env",
            DumpKind::NvidiaSmi => "nvidia-smi",
            DumpKind::NvidiaSmiQuery => "nvidia-smi -q",
            DumpKind::Rocminfo => "rocminfo",
            DumpKind::RocmSmi => "rocm-smi",
            DumpKind::SystemProfiler => "system_profiler",
            DumpKind::OsRelease => "os-release",
            DumpKind::Uname => "uname -a",
            DumpKind::PipList => "pip list",
            DumpKind::PipFreeze => "pip freeze",
            DumpKind::PipCheck => "pip check",
            DumpKind::CondaList => "conda list",
            DumpKind::Nvcc => "nvcc --version",
            DumpKind::LlamaCpp => "llama.cpp",
            DumpKind::Ollama => "ollama --version",
            DumpKind::OllamaLog => "ollama log",
            DumpKind::XformersInfo => "xformers.info",
            DumpKind::RocmImage => "rocm/pytorch image",
            DumpKind::TorchDriverWarning => "PyTorch driver warning",
            DumpKind::TorchVersionLine => "torch.__version__",
            DumpKind::Bitsandbytes => "bitsandbytes warning",
            DumpKind::Ptxas => "ptxas error",
            DumpKind::MlxLoad => "mlx load error",
            DumpKind::EnvList => "environment list",
        }
    }
}

/// A line of a paste as the readers see it: quoting (`> `) and terminal colour codes taken off.
pub fn clean_line(line: &str) -> String {
    paste::clean(line)
}

/// The OS a log's file paths show, when they all show one: `C:\Users\…` (Windows), `/Users/…`,
/// `/opt/homebrew/`, `dlopen(…)` (macOS), `…-linux-gnu.so`, `dist-packages`, `/home/…` (Linux). For
/// `explain`, whose tracebacks often come without any dump; a dump's OS always wins.
pub fn os_from_paths(text: &str) -> Option<crate::facts::Os> {
    use crate::facts::Os;
    let windows = text.lines().any(|l| {
        let b = l.as_bytes();
        l.contains(":\\Users\\")
            || l.contains(":\\Program Files")
            || b.windows(3)
                .any(|w| w[0].is_ascii_alphabetic() && w[1] == b':' && w[2] == b'\\')
                && (l.contains("File \"") || l.contains(".dll") || l.contains(".exe"))
    });
    let macos = [
        "/Users/",
        "/opt/homebrew/",
        "dlopen(",
        ".dylib",
        "/Library/Frameworks/Python.framework",
    ]
    .iter()
    .any(|m| text.contains(m));
    let linux = [
        "-linux-gnu.so",
        "/dist-packages/",
        "/home/",
        ".so.",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
    ]
    .iter()
    .any(|m| text.contains(m));
    match (windows, macos, linux) {
        (true, false, false) => Some(Os::Windows),
        (false, true, false) => Some(Os::Macos),
        (false, false, true) => Some(Os::Linux),
        _ => None,
    }
}

/// What mlcompat recognizes in a pasted text, for the message that says a file is none of them.
pub const RECOGNIZED: &str = "torch collect_env, vllm collect-env, python -m sglang.check_env, nvidia-smi, \
nvidia-smi -q, pip list, pip freeze, uv pip list, conda list, nvcc --version, llama-cli --version, ollama \
--version, system_profiler SPHardwareDataType, rocminfo, rocm-smi, uname -a, /etc/os-release, an Ollama server log, \
python -m xformers.info, PyTorch's \"driver too old\" warning, an environment list (- PyTorch: …, - GPU: …)";

/// The name given to a GPU that a dump shows exists without naming its model: nvidia-smi's header without
/// its rows, rocm-smi's temperatures and clocks.
pub const UNNAMED_NVIDIA_GPU: &str = "NVIDIA GPU (model not shown)";
pub const UNNAMED_AMD_GPU: &str = "AMD GPU (model not shown)";

fn unnamed(gpus: &[Gpu]) -> bool {
    gpus.iter()
        .all(|g| g.name == UNNAMED_NVIDIA_GPU || g.name == UNNAMED_AMD_GPU)
}

/// The kinds found in one piece of a paste; `vllm` when vLLM's logger line is anywhere in it.
fn kinds_in(piece: &paste::Piece, vllm: bool) -> Vec<DumpKind> {
    let text = piece.text.as_str();
    let mut kinds = Vec::new();
    kinds.extend(collect_env::detect(text).map(|k| match k {
        DumpKind::TorchCollectEnv if vllm => DumpKind::VllmCollectEnv,
        k => k,
    }));
    if sglang::detect(text) {
        kinds.push(DumpKind::SglangCheckEnv);
    }
    // collect_env prints nvidia-smi's failure as its own; alone it is nvidia-smi's.
    if smi::is_table(text) || (kinds.is_empty() && smi::is_failure(text)) {
        kinds.push(DumpKind::NvidiaSmi);
    }
    if smi::is_log(text) {
        kinds.push(DumpKind::NvidiaSmiQuery);
    }
    if system::is_rocminfo(text) {
        kinds.push(DumpKind::Rocminfo);
    }
    if system::is_rocm_smi(text) {
        kinds.push(DumpKind::RocmSmi);
    }
    if system::is_system_profiler(text) {
        kinds.push(DumpKind::SystemProfiler);
    }
    if system::is_os_release(text) {
        kinds.push(DumpKind::OsRelease);
    }
    if system::uname_line(text).is_some() {
        kinds.push(DumpKind::Uname);
    }
    kinds.extend(packages::detect(text, piece.command.as_deref()));
    if tools::is_nvcc(text) {
        kinds.push(DumpKind::Nvcc);
    }
    if tools::is_llama(text) {
        kinds.push(DumpKind::LlamaCpp);
    }
    if tools::ollama_version(text).is_some() {
        kinds.push(DumpKind::Ollama);
    }
    if ollama_log::is_log(text) {
        kinds.push(DumpKind::OllamaLog);
    }
    kinds.extend(messages::detect(text));
    if list_keys(&kinds, text) >= 2 {
        kinds.push(DumpKind::EnvList);
    }
    kinds
}

/// The environment keys a piece states a fact for, none when the piece is a dump of `Key: value` lines
/// whose keys an environment list shares.
fn list_keys(kinds: &[DumpKind], text: &str) -> usize {
    let keyed = kinds.iter().any(|k| {
        matches!(
            k,
            DumpKind::TorchCollectEnv
                | DumpKind::VllmCollectEnv
                | DumpKind::SglangCheckEnv
                | DumpKind::NvidiaSmiQuery
                | DumpKind::Rocminfo
                | DumpKind::SystemProfiler
                | DumpKind::OsRelease
                | DumpKind::PipList
                | DumpKind::PipFreeze
                | DumpKind::CondaList
                | DumpKind::PipCheck
        )
    });
    if keyed {
        0
    } else {
        envlist::keys(text)
    }
}

/// The kinds in each piece of a paste, with the piece. A piece that only states one environment fact
/// (`GPU: DGX Spark`) is read as a list when another dump is in the paste.
fn found_in(pieces: &[paste::Piece], vllm: bool) -> Vec<(DumpKind, &str)> {
    let mut found: Vec<(DumpKind, &str)> = Vec::new();
    let mut lone: Vec<&str> = Vec::new();
    for piece in pieces {
        let kinds = kinds_in(piece, vllm);
        if !kinds.contains(&DumpKind::EnvList) && list_keys(&kinds, &piece.text) == 1 {
            lone.push(piece.text.as_str());
        }
        for kind in kinds {
            found.push((kind, piece.text.as_str()));
        }
    }
    if !found.is_empty() {
        found.extend(lone.into_iter().map(|t| (DumpKind::EnvList, t)));
    }
    found
}

/// The dumps found in `text`, in a stable order; empty when it is none of them (a facts file, say).
pub fn detect(text: &str) -> Vec<DumpKind> {
    let vllm = collect_env::vllm_logged(text);
    let pieces = paste::pieces(text);
    let mut kinds: Vec<DumpKind> = found_in(&pieces, vllm)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Facts from a dump, or `None` when `text` is not one. `name` names the machine (the file's stem);
/// `known_gpus` are the reference profiles' GPUs, whose figures complete a GPU of exactly the same name.
pub fn facts_from_dump(text: &str, name: &str) -> Option<Facts> {
    facts_and_kinds(text, name).map(|(facts, _)| facts)
}

/// [`facts_from_dump`], with the kinds of dump it read (in merge order, each once).
pub fn facts_and_kinds(text: &str, name: &str) -> Option<(Facts, Vec<DumpKind>)> {
    let vllm = collect_env::vllm_logged(text);
    let pieces = paste::pieces(text);
    let mut found = found_in(&pieces, vllm);
    if found.is_empty() {
        return None;
    }
    // The more specific reader first: what it says stands, later ones fill the gaps.
    found.sort_by_key(|(kind, _)| *kind);
    let mut facts = Facts {
        schema: FACTS_SCHEMA.into(),
        ..Facts::default()
    };
    for (kind, piece) in &found {
        let mut one = Facts::default();
        read(*kind, piece, &mut one);
        merge(&mut facts, one);
    }
    // Last, PyTorch's warnings from anywhere in the paste: a capability for a GPU already named, or the
    // GPU itself when no dump named one.
    let mut warned = Facts::default();
    collect_env::read_torch_warnings(text, &mut warned);
    merge(&mut facts, warned);
    if let (Some(t), Some(g)) = (
        facts.torch.as_mut(),
        facts.gpus.as_ref().and_then(|g| g.first()),
    ) {
        t.device_capability = t
            .device_capability
            .take()
            .or_else(|| g.compute_capability.clone());
    }
    share_capabilities(&mut facts);
    complete_from_paste(text, &mut facts);
    let mut kinds: Vec<DumpKind> = found.iter().map(|(k, _)| *k).collect();
    kinds.dedup();
    settle_failures(&mut facts, &kinds);
    let described: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    facts.machine = Some(Machine {
        id: name.to_string(),
        name: format!("{name} ({})", described.join(" + ")),
        kind: MachineKind::Saved,
        ..Machine::default()
    });
    facts.normalize();
    Some((facts, kinds))
}

/// A capability stated for one GPU (a warning names the model once) holds for every GPU of that name.
fn share_capabilities(facts: &mut Facts) {
    let Some(gpus) = facts.gpus.as_mut() else {
        return;
    };
    let mut known: BTreeMap<String, crate::version::ToolVersion> = BTreeMap::new();
    for g in gpus.iter() {
        if let Some(cc) = &g.compute_capability {
            known.entry(g.name.clone()).or_insert_with(|| cc.clone());
        }
    }
    for g in gpus.iter_mut() {
        if g.compute_capability.is_none() {
            g.compute_capability = known.get(&g.name).cloned();
        }
    }
}

/// What the paste as a whole says once its dumps are merged: the GPU ptxas was asked to build for, a
/// PowerShell prompt's Windows, and torch's CUDA from its version's local tag (`2.3.1+cu121`).
fn complete_from_paste(text: &str, facts: &mut Facts) {
    if let Some(cc) = messages::ptxas_capability(text) {
        if let Some(gpus) = facts.gpus.as_mut() {
            let nvidia: Vec<&mut Gpu> = gpus
                .iter_mut()
                .filter(|g| g.vendor == crate::facts::Vendor::Nvidia)
                .collect();
            let one_model = nvidia.windows(2).all(|w| w[0].name == w[1].name);
            if one_model {
                for g in nvidia {
                    g.compute_capability.get_or_insert_with(|| cc.clone());
                }
            }
        }
    }
    if facts.host.os.is_none() && messages::windows_prompt(text) {
        facts.host.os = Some(crate::facts::Os::Windows);
    }
    // A traceback's file paths (C:\Users\…, /Users/…, …-linux-gnu.so) where no dump named the OS.
    if facts.host.os.is_none() {
        if let Some(os) = os_from_paths(text) {
            facts.host.os = Some(os);
            facts
                .derived
                .insert("os".into(), "from the file paths in the paste".into());
        }
    }
    let tagged = facts
        .python
        .as_ref()
        .and_then(|p| p.packages.get("torch"))
        .and_then(|v| {
            let local = v.local();
            let digits = local.strip_prefix("cu")?;
            if !(3..=4).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let (major, minor) = digits.split_at(digits.len() - 1);
            format!("{major}.{minor}").parse().ok()
        });
    if let Some(cuda) = tagged {
        let t = facts.torch.get_or_insert_with(Default::default);
        t.cuda = t.cuda.take().or(Some(cuda));
    }
}

fn read(kind: DumpKind, text: &str, facts: &mut Facts) {
    match kind {
        DumpKind::TorchCollectEnv | DumpKind::VllmCollectEnv => collect_env::read(text, facts),
        DumpKind::SglangCheckEnv => sglang::read(text, facts),
        DumpKind::NvidiaSmi => smi::read_table(text, facts),
        DumpKind::NvidiaSmiQuery => smi::read_log(text, facts),
        DumpKind::Rocminfo => system::read_rocminfo(text, facts),
        DumpKind::RocmSmi => system::read_rocm_smi(text, facts),
        DumpKind::SystemProfiler => system::read_system_profiler(text, facts),
        DumpKind::OsRelease => system::read_os_release(text, facts),
        DumpKind::Uname => system::read_uname(text, facts),
        DumpKind::PipList | DumpKind::PipFreeze | DumpKind::CondaList => {
            packages::read(kind, text, facts)
        }
        DumpKind::PipCheck => packages::read_pip_check(text, facts),
        DumpKind::Nvcc => tools::read_nvcc(text, facts),
        DumpKind::LlamaCpp => tools::read_llama(text, facts),
        DumpKind::Ollama => tools::read_ollama(text, facts),
        DumpKind::OllamaLog => ollama_log::read(text, facts),
        DumpKind::XformersInfo
        | DumpKind::RocmImage
        | DumpKind::TorchDriverWarning
        | DumpKind::TorchVersionLine
        | DumpKind::Bitsandbytes
        | DumpKind::Ptxas
        | DumpKind::MlxLoad => messages::read(kind, text, facts),
        DumpKind::EnvList => envlist::read(text, facts),
    }
}

/// A failure a reader recorded that another dump answered is no failure: memory from system_profiler,
/// the whole package list from pip, GPUs from nvidia-smi.
fn settle_failures(facts: &mut Facts, kinds: &[DumpKind]) {
    if facts.host.memory_gb.is_some() {
        facts.failed.remove("host");
    }
    if facts.gpus.as_ref().is_some_and(|g| !g.is_empty()) {
        facts.failed.remove("gpus");
    }
    let whole_list = kinds
        .iter()
        .any(|k| matches!(k, DumpKind::PipList | DumpKind::PipFreeze));
    if whole_list {
        facts.failed.remove("python.packages");
    }
}

/// The same model named in full or as people shorten it: `NVIDIA GeForce RTX 5090` and `RTX 5090`.
fn same_model(a: &str, b: &str) -> bool {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    long == short
        || (!short.is_empty()
            && long
                .to_ascii_lowercase()
                .strip_suffix(&short.to_ascii_lowercase())
                .is_some_and(|head| head.ends_with(' ')))
}

/// More GPUs than any machine has: a hostile paste's lists are cut here, before GPUs are matched by name.
pub(super) const MAX_GPUS: usize = 1024;

/// Fills what `into` does not know from `from`; GPUs by [`merge_gpus`].
fn merge(into: &mut Facts, mut from: Facts) {
    if let Some(gpus) = from.gpus.as_mut() {
        gpus.truncate(MAX_GPUS);
    }
    let h = &mut into.host;
    let f = from.host;
    h.os = h.os.or(f.os);
    h.os_version = h.os_version.take().or(f.os_version);
    h.os_name = h.os_name.take().or(f.os_name);
    h.kernel = h.kernel.take().or(f.kernel);
    h.arch = h.arch.or(f.arch);
    h.cpu_model = h.cpu_model.take().or(f.cpu_model);
    h.cpu_cores = h.cpu_cores.or(f.cpu_cores);
    h.memory_gb = h.memory_gb.or(f.memory_gb);
    h.glibc = h.glibc.take().or(f.glibc);
    h.wsl = h.wsl.or(f.wsl);
    merge_gpus(&mut into.gpus, from.gpus);
    if let Some(n) = from.nvidia {
        let m = into.nvidia.get_or_insert_with(Default::default);
        m.driver = m.driver.take().or(n.driver);
        m.cuda_driver = m.cuda_driver.take().or(n.cuda_driver);
        m.error = m.error.take().or(n.error);
        m.source = m.source.take().or(n.source);
    }
    if let Some(c) = from.cuda {
        let m = into.cuda.get_or_insert_with(Default::default);
        m.toolkit = m.toolkit.take().or(c.toolkit);
        m.path = m.path.take().or(c.path);
        m.cudnn = m.cudnn.take().or(c.cudnn);
        m.nccl = m.nccl.take().or(c.nccl);
        if m.targets.is_empty() {
            m.targets = c.targets;
        }
    }
    if let Some(a) = from.apple {
        let m = into.apple.get_or_insert_with(Default::default);
        m.chip = m.chip.take().or(a.chip);
        m.gpu_cores = m.gpu_cores.or(a.gpu_cores);
        m.metal_limit_gb = m.metal_limit_gb.or(a.metal_limit_gb);
    }
    if let Some(p) = from.python {
        let m = into.python.get_or_insert_with(Default::default);
        m.version = m.version.take().or(p.version);
        m.arch = m.arch.or(p.arch);
        m.path = m.path.take().or(p.path);
        for (name, version) in p.packages {
            m.packages.entry(name).or_insert(version);
        }
        if m.unmet_requirements.is_none() {
            m.unmet_requirements = p.unmet_requirements;
        }
    }
    if let Some(t) = from.torch {
        let m = into.torch.get_or_insert_with(Default::default);
        m.version = m.version.take().or(t.version);
        m.cuda = m.cuda.take().or(t.cuda);
        m.cuda_available = m.cuda_available.or(t.cuda_available);
        m.device_count = m.device_count.or(t.device_count);
        m.device_capability = m.device_capability.take().or(t.device_capability);
        if m.arch_list.is_empty() {
            m.arch_list = t.arch_list;
        }
    }
    merge_map(&mut into.binaries, from.binaries);
    merge_map(&mut into.imports, from.imports);
    for (k, v) in from.import_warnings {
        into.import_warnings.entry(k).or_insert(v);
    }
    for (k, v) in from.failed {
        into.failed.entry(k).or_insert(v);
    }
}

fn merge_map<V>(into: &mut Option<BTreeMap<String, V>>, from: Option<BTreeMap<String, V>>) {
    if let Some(from) = from {
        let m = into.get_or_insert_with(BTreeMap::new);
        for (k, v) in from {
            m.entry(k).or_insert(v);
        }
    }
}

/// GPUs from two dumps: a list that shows more (memory, UUID: nvidia-smi) replaces a names-only one
/// (collect_env) of no more GPUs, keeping a compute capability the other stated; otherwise the first list
/// stands and takes the other's figures for the same name. A GPU whose model was not shown gives way to
/// any named one.
fn merge_gpus(into: &mut Option<Vec<Gpu>>, from: Option<Vec<Gpu>>) {
    let Some(mut from) = from else { return };
    let Some(have) = into.as_mut() else {
        *into = Some(from);
        return;
    };
    if have.is_empty() || (unnamed(have) && !from.is_empty() && !unnamed(&from)) {
        *into = Some(from);
        return;
    }
    if from.is_empty() || unnamed(&from) {
        return;
    }
    let richer = |g: &Gpu| g.memory_gb.is_some() || g.uuid.is_some() || g.unified_memory.is_some();
    let replace = from.len() >= have.len() && from.iter().any(richer) && !have.iter().any(richer);
    if replace {
        std::mem::swap(have, &mut from);
    }
    let (keep, other) = (have, from);
    let mut used = vec![false; other.len()];
    for g in keep.iter_mut() {
        let Some(i) = (0..other.len()).find(|&i| !used[i] && same_model(&other[i].name, &g.name))
        else {
            continue;
        };
        used[i] = true;
        let o = &other[i];
        g.compute_capability = g
            .compute_capability
            .take()
            .or_else(|| o.compute_capability.clone());
        g.memory_gb = g.memory_gb.or(o.memory_gb);
        g.uuid = g.uuid.take().or_else(|| o.uuid.clone());
        g.unified_memory = g.unified_memory.or(o.unified_memory);
        g.mig_enabled = g.mig_enabled.or(o.mig_enabled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_text_is_not_a_dump() {
        assert!(detect("schema: mlcompat.facts/1\nhost: {os: linux}\n").is_empty());
        assert!(detect("{\"schema\": \"mlcompat.facts/1\"}").is_empty());
        assert!(detect("PyTorch version: 2.1\n").is_empty());
        assert!(detect("hello world\n").is_empty());
    }
}
