//! The header line of a report: what machine this is, in a few readable fields. It lives beside
//! [`MachineSummary`] rather than in `eval`, so that `plan` (whose reports carry it too) needs nothing
//! from `eval`.

use super::MachineSummary;
use crate::facts::{Facts, MachineKind, Vendor};

/// Where the completion step got a fact of the primary GPU (`gpus[i].field`), when it derived it.
fn gpu_origin<'a>(facts: &'a Facts, field: &str) -> Option<&'a str> {
    let primary = facts.primary_gpu()?;
    let i = facts
        .gpus
        .iter()
        .flatten()
        .position(|g| std::ptr::eq(g, primary))?;
    facts
        .derived
        .get(&format!("gpus[{i}].{field}"))
        .map(String::as_str)
}

pub fn machine_summary(facts: &Facts) -> MachineSummary {
    let host = &facts.host;
    let gpu = match (&facts.gpus, facts.primary_gpu()) {
        (None, _) => None,
        (Some(_), None) => Some("none".to_string()),
        (Some(all), Some(g)) => {
            let mut text = g.name.clone();
            if let Some(cc) = &g.compute_capability {
                match gpu_origin(facts, "compute_capability") {
                    Some(_) => text.push_str(&format!(" (CC {cc}, from its name)")),
                    None => text.push_str(&format!(" (CC {cc})")),
                }
            }
            let same = all.iter().filter(|o| o.name == g.name).count();
            if same > 1 {
                text = format!("{same}× {text}");
            }
            match (g.unified_memory, g.memory_gb.or(host.memory_gb)) {
                (Some(true), Some(gb)) => {
                    text.push_str(&format!(", {} unified memory", gb_text(gb)))
                }
                (_, _) if g.memory_gb.is_some() => {
                    text.push_str(&format!(", {}", gb_text(g.memory_gb.unwrap_or_default())))
                }
                _ => {}
            }
            Some(text)
        }
    };
    let measured = facts.benchmarks.as_ref().and_then(|b| b.gpu_bandwidth_gbs);
    // A bandwidth the completion step computed from clocks is not a datasheet figure, and says so.
    let peak = match gpu_origin(facts, "bandwidth_gbs") {
        Some(why) if !why.starts_with("datasheet") => "memory clock × bus width",
        _ => "datasheet",
    };
    let bandwidth = match (measured, facts.primary_gpu().and_then(|g| g.bandwidth_gbs)) {
        (Some(m), Some(d)) => Some(format!("{m:.0} GB/s measured ({d:.0} GB/s {peak})")),
        (Some(m), None) => Some(format!("{m:.0} GB/s measured")),
        (None, Some(d)) => Some(format!("{d:.0} GB/s ({peak})")),
        (None, None) => facts
            .benchmarks
            .as_ref()
            .and_then(|b| b.cpu_bandwidth_gbs)
            .map(|c| format!("{c:.0} GB/s CPU measured"))
            .or_else(|| {
                host.memory_bandwidth_gbs
                    .map(|b| format!("{b:.0} GB/s host memory (datasheet)"))
            }),
    };
    let driver = facts
        .nvidia
        .as_ref()
        .and_then(|n| match (&n.driver, &n.cuda_driver) {
            (Some(d), Some(c)) if facts.derived.contains_key("nvidia.cuda_driver") => Some(
                format!("NVIDIA {d}, CUDA {c} (from the driver version, NVIDIA's table)"),
            ),
            (Some(d), Some(c)) => Some(format!("NVIDIA {d}, CUDA {c}")),
            (Some(d), None) => Some(format!("NVIDIA {d}")),
            (None, Some(c)) => Some(format!("NVIDIA (version not shown), CUDA {c}")),
            _ => None,
        });
    let driver = driver.or_else(|| {
        let has_nvidia = facts
            .gpus
            .as_ref()
            .map(|g| g.iter().any(|g| g.vendor == Vendor::Nvidia));
        (has_nvidia == Some(false) && facts.failed.contains_key("nvidia"))
            .then(|| facts.failed.get("nvidia").cloned().unwrap_or_default())
    });
    let profile = facts
        .machine
        .as_ref()
        .is_some_and(|m| m.kind == MachineKind::Profile);
    let driver = driver.or_else(|| match facts.primary_gpu().map(|g| g.vendor) {
        Some(Vendor::Apple) => Some("Metal (no NVIDIA driver on Apple silicon)".to_string()),
        _ if facts.gpus.as_ref().is_some_and(Vec::is_empty) => Some("none (no GPU)".to_string()),
        _ => None,
    });
    let os = host
        .os_name
        .clone()
        .or_else(|| host.os.map(|o| o.as_str().to_string()))
        .map(|name| match host.arch {
            Some(a) => format!("{name}, {}", a.as_str()),
            None => name,
        })
        .map(|text| {
            // An x86_64 Python on Apple silicon: the dump said x86_64, the machine is arm64.
            let rosetta = facts
                .python
                .as_ref()
                .and_then(|p| p.arch)
                .is_some_and(|a| Some(a) != host.arch)
                && host.os == Some(crate::facts::Os::Macos);
            if rosetta {
                format!("{text} (the Python is x86_64, under Rosetta)")
            } else {
                text
            }
        });
    let python = facts.python.as_ref().map(|p| {
        let mut text = p
            .version
            .as_ref()
            .map_or_else(|| "Python".to_string(), |v| format!("Python {v}"));
        // Which interpreter and why: a ./.venv from the current folder is never a silent choice.
        let by = p.chosen_by.as_deref().map(|by| match by {
            "PATH" => "python3 on PATH",
            "./.venv" => "./.venv in the current folder",
            "VIRTUAL_ENV" => "$VIRTUAL_ENV",
            "CONDA_PREFIX" => "$CONDA_PREFIX",
            other => other,
        });
        match (&p.path, by) {
            (Some(path), Some(by)) => text.push_str(&format!(" ({path}, from {by})")),
            (Some(path), None) => text.push_str(&format!(" ({path})")),
            (None, Some(by)) => text.push_str(&format!(" (from {by})")),
            (None, None) => {}
        }
        text.push_str(&format!(", {} packages", p.packages.len()));
        text
    });
    let python = python.or_else(|| {
        profile
            .then(|| "not part of a reference profile (software is judged by platform)".to_string())
    });
    let memory = host.memory_gb.map(|gb| {
        let mut text = gb_text(gb);
        if let Some(cpu) = &host.cpu_model {
            text.push_str(&format!(", {cpu}"));
        }
        if let Some(cores) = host.cpu_cores {
            text.push_str(&format!(" ({cores} cores)"));
        }
        text
    });
    let (id, name, origin) = match &facts.machine {
        Some(m) => (
            Some(m.id.clone()),
            m.name.clone(),
            match m.kind {
                MachineKind::Profile => "profile",
                MachineKind::Live => "live",
                MachineKind::Saved => "facts",
            },
        ),
        None => (None, "saved facts".to_string(), "facts"),
    };
    // A failure already shown as the driver line is not repeated.
    let unknown = facts
        .failed
        .iter()
        .filter(|(_, v)| driver.as_deref() != Some(v.as_str()))
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    // What the interpreter choice passed over or noticed: information, not a failure.
    let notes = facts
        .probe_notes
        .iter()
        .cloned()
        .chain(
            facts
                .python
                .iter()
                .flat_map(|p| &p.notes)
                .map(|n| format!("python: {n}")),
        )
        .collect();
    MachineSummary {
        id,
        name,
        origin: origin.to_string(),
        hostname: host.hostname.clone(),
        gpu,
        memory,
        bandwidth,
        driver,
        os,
        python,
        unknown,
        notes,
        derived: facts.derived.clone(),
    }
}

fn gb_text(gb: f64) -> String {
    if gb >= 10.0 {
        format!("{gb:.0} GB")
    } else {
        format!("{gb:.1} GB")
    }
}
