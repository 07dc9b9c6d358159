//! The machine itself: `system_profiler SPHardwareDataType` (macOS), `rocminfo` and `rocm-smi` (AMD),
//! `uname -a` and `/etc/os-release`.

use crate::facts::{Arch, Facts, Gpu, Os, Vendor};

/// `  Key:   value` lines, trimmed, whatever their indentation.
fn pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|l| {
        let (k, v) = l.trim().split_once(':')?;
        Some((k.trim(), v.trim()))
    })
}

// ---- rocminfo ----

pub(super) fn is_rocminfo(text: &str) -> bool {
    let mut marketing = false;
    let mut device_type = false;
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with("ROCk module is") || t == "HSA System Attributes" || t == "HSA Agents" {
            return true;
        }
        marketing |= t.starts_with("Marketing Name:");
        device_type |= t.starts_with("Device Type:");
    }
    marketing && device_type
}

/// Each HSA agent: a GPU (`Device Type: GPU`) by its marketing name and gfx target, e.g. "AMD Radeon 8060S
/// Graphics (gfx1151)"; a CPU agent names the host's CPU.
pub(super) fn read_rocminfo(text: &str, facts: &mut Facts) {
    #[derive(Default)]
    struct Agent<'a> {
        name: Option<&'a str>,
        marketing: Option<&'a str>,
        device: Option<&'a str>,
    }
    let mut agents: Vec<Agent> = Vec::new();
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with("Agent ") && t[6..].bytes().all(|b| b.is_ascii_digit()) {
            agents.push(Agent::default());
            continue;
        }
        let Some((k, v)) = t.split_once(':') else {
            continue;
        };
        let v = v.trim();
        // Only the agent's own lines (two spaces in); pools and ISAs below repeat `Name:`.
        let own = l.starts_with("  ") && !l.starts_with("   ");
        if !own || v.is_empty() {
            continue;
        }
        if agents.is_empty() {
            agents.push(Agent::default());
        }
        let Some(a) = agents.last_mut() else { continue };
        match k.trim() {
            "Name" => a.name = a.name.or(Some(v)),
            "Marketing Name" => a.marketing = a.marketing.or(Some(v)),
            "Device Type" => a.device = a.device.or(Some(v)),
            _ => {}
        }
    }
    let mut gpus = Vec::new();
    for a in &agents {
        match a.device {
            Some("GPU") => {
                let name = match (a.marketing, a.name) {
                    (Some(m), Some(n)) if n.starts_with("gfx") => format!("{m} ({n})"),
                    (Some(m), _) => m.to_string(),
                    (None, Some(n)) => n.to_string(),
                    (None, None) => continue,
                };
                let mut g = Gpu::new(Vendor::Amd, name);
                g.source = Some("rocminfo".into());
                gpus.push(g);
            }
            Some("CPU") if facts.host.cpu_model.is_none() => {
                facts.host.cpu_model = a.marketing.or(a.name).map(str::to_string);
            }
            _ => {}
        }
    }
    if !gpus.is_empty() {
        facts.gpus = Some(gpus);
    }
}

// ---- rocm-smi ----

pub(super) fn is_rocm_smi(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        t.contains("ROCm System Management Interface")
            || t.contains("ROCM System Management Interface")
    })
}

/// The GPUs rocm-smi lists: by `GPU[0] : Card series: …` (`--showproductname`) where it names them, else
/// by index (`GPU[0] : …` lines, or the rows of its concise table) as AMD GPUs whose model is not shown.
pub(super) fn read_rocm_smi(text: &str, facts: &mut Facts) {
    let mut gpus: Vec<(String, Option<String>)> = Vec::new();
    let mut concise = false;
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with('=') {
            concise = false;
            continue;
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        if words.first() == Some(&"GPU") && words.get(1).is_some_and(|w| w.starts_with("Temp")) {
            concise = true;
            continue;
        }
        if concise {
            if let Some(index) = words
                .first()
                .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
            {
                if !gpus.iter().any(|(i, _)| i == index) {
                    gpus.push((index.to_string(), None));
                }
            }
            continue;
        }
        let Some(rest) = t.strip_prefix("GPU[") else {
            continue;
        };
        let Some((index, rest)) = rest.split_once(']') else {
            continue;
        };
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let series = rest
            .trim_start_matches([' ', '\t', ':'])
            .split_once(':')
            .filter(|(k, v)| {
                matches!(k.trim(), "Card series" | "Card Series") && !v.trim().is_empty()
            })
            .map(|(_, v)| v.trim().to_string());
        match gpus.iter_mut().find(|(i, _)| i == index) {
            Some((_, name)) => *name = name.take().or(series),
            None => gpus.push((index.to_string(), series)),
        }
    }
    if !gpus.is_empty() {
        facts.gpus = Some(
            gpus.into_iter()
                .map(|(_, name)| {
                    let mut g = Gpu::new(
                        Vendor::Amd,
                        name.unwrap_or_else(|| super::UNNAMED_AMD_GPU.into()),
                    );
                    g.source = Some("rocm-smi".into());
                    g
                })
                .collect(),
        );
    }
}

// ---- system_profiler ----

pub(super) fn is_system_profiler(text: &str) -> bool {
    let mut keys = 0;
    let mut own = false;
    for (k, _) in pairs(text) {
        match k {
            "Model Identifier"
            | "Chip"
            | "Hardware UUID"
            | "System Firmware Version"
            | "Provisioning UDID" => {
                own = true;
                keys += 1;
            }
            "Model Name" | "Processor Name" | "Total Number of Cores" | "Memory" => keys += 1,
            _ => {}
        }
    }
    own && keys >= 3
}

/// The chip (Apple silicon) or processor, the cores and the memory. system_profiler's "Memory: 8 GB" is
/// GiB, the unit facts count memory in.
pub(super) fn read_system_profiler(text: &str, facts: &mut Facts) {
    facts.host.os = Some(Os::Macos);
    for (k, v) in pairs(text) {
        match k {
            "Chip" if !v.is_empty() => {
                // The GPU of an Apple chip (and `apple.chip`) is the completion step's to add, as for
                // any Mac whose CPU is named.
                facts.host.cpu_model.get_or_insert_with(|| v.to_string());
            }
            "Processor Name" if !v.is_empty() => {
                facts.host.cpu_model.get_or_insert_with(|| v.to_string());
            }
            "Total Number of Cores" => {
                facts.host.cpu_cores = facts
                    .host
                    .cpu_cores
                    .or_else(|| v.split_whitespace().next()?.parse().ok());
            }
            "Memory" => {
                let mut words = v.split_whitespace();
                let (n, unit) = (words.next(), words.next());
                let gib = match (n.and_then(|n| n.parse::<f64>().ok()), unit) {
                    (Some(n), Some("GB")) => Some(n),
                    (Some(n), Some("TB")) => Some(n * 1024.0),
                    _ => None,
                };
                if let Some(gib) = gib.filter(|g| *g > 0.0 && *g < 1e6) {
                    facts.host.memory_gb.get_or_insert(gib);
                }
            }
            _ => {}
        }
    }
}

// ---- /etc/os-release ----

const OS_RELEASE_KEYS: &[&str] = &[
    "NAME",
    "VERSION",
    "ID",
    "ID_LIKE",
    "PRETTY_NAME",
    "VERSION_ID",
    "VERSION_CODENAME",
    "HOME_URL",
    "SUPPORT_URL",
    "BUG_REPORT_URL",
    "UBUNTU_CODENAME",
];

fn os_release_pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|l| {
        let (k, v) = l.trim().split_once('=')?;
        OS_RELEASE_KEYS
            .contains(&k)
            .then(|| (k, v.trim().trim_matches('"').trim_matches('\'')))
    })
}

pub(super) fn is_os_release(text: &str) -> bool {
    let keys: Vec<&str> = os_release_pairs(text).map(|(k, _)| k).collect();
    keys.len() >= 2
        && keys
            .iter()
            .any(|k| matches!(*k, "PRETTY_NAME" | "VERSION_ID" | "NAME"))
}

pub(super) fn read_os_release(text: &str, facts: &mut Facts) {
    facts.host.os = Some(Os::Linux);
    let mut name = None;
    for (k, v) in os_release_pairs(text) {
        match k {
            "PRETTY_NAME" if !v.is_empty() => facts.host.os_name = Some(v.to_string()),
            "NAME" if !v.is_empty() => name = Some(v.to_string()),
            "VERSION_ID" => facts.host.os_version = v.parse().ok(),
            _ => {}
        }
    }
    if facts.host.os_name.is_none() {
        facts.host.os_name = name;
    }
}

// ---- uname -a ----

/// `Linux box 6.8.0-52-generic #53-Ubuntu SMP … x86_64 x86_64 x86_64 GNU/Linux` or `Darwin box 23.6.0
/// Darwin Kernel Version 23.6.0: …; root:xnu-…/RELEASE_ARM64_T6000 arm64`: system, kernel, machine.
pub(super) fn uname_line(text: &str) -> Option<(Os, &str, Option<Arch>)> {
    text.lines().find_map(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        let os = match words.first() {
            Some(&"Linux") => Os::Linux,
            Some(&"Darwin") => Os::Macos,
            _ => return None,
        };
        let kernel = *words.get(2)?;
        let numbered = kernel.starts_with(|c: char| c.is_ascii_digit()) && kernel.contains('.');
        if words.len() < 5 || !numbered || !l.contains(" #") && os == Os::Linux {
            return None;
        }
        if os == Os::Macos && !l.contains("Darwin Kernel Version") {
            return None;
        }
        // The machine: the word before `GNU/Linux`, or Darwin's last word.
        let machine = match os {
            Os::Linux => words
                .iter()
                .position(|w| *w == "GNU/Linux")
                .and_then(|i| words.get(i.checked_sub(1)?)),
            _ => words.last(),
        };
        Some((os, kernel, machine.and_then(|m| Arch::from_name(m))))
    })
}

pub(super) fn read_uname(text: &str, facts: &mut Facts) {
    let Some((os, kernel, arch)) = uname_line(text) else {
        return;
    };
    facts.host.os = Some(os);
    facts.host.kernel = Some(kernel.to_string());
    facts.host.arch = arch;
    if os == Os::Linux {
        facts.host.wsl = Some(kernel.to_ascii_lowercase().contains("microsoft"));
    }
}
