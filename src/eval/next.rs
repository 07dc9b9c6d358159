//! "What to do next": the fixes that matter on this machine, most urgent first — installed software
//! that is broken, then what `--require` asked for, then installed software that needs care, then the
//! facts that would let mlcompat judge the rows it cannot. Software that is neither installed nor asked
//! for is left to its row. All steps are kept; a renderer that shows fewer says how many it left out.

use std::collections::BTreeMap;

use crate::facts::keys::FactKey;
use crate::facts::{Facts, MachineKind};
use crate::matrix::{Matrix, Status};
use crate::report::{ImportCheck, Recommendation, Row};

pub(crate) fn recommend(matrix: &Matrix, facts: &Facts, rows: &[Row]) -> Vec<Recommendation> {
    let category_rank: BTreeMap<&str, usize> = matrix
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let inspected = facts
        .machine
        .as_ref()
        .is_none_or(|m| m.kind != MachineKind::Profile);
    let tier = |r: &Row| -> Option<u8> {
        let installed = r.installed.is_some();
        if installed && r.status == Status::Fail {
            Some(0)
        } else if r.required
            && (r.status != Status::Ok || (inspected && !installed && r.detectable))
        {
            Some(1)
        } else if installed && r.status == Status::Warn && r.missing_fact.is_none() {
            Some(2)
        } else if r.missing_fact.is_some() {
            Some(3)
        } else {
            None
        }
    };
    let mut candidates: Vec<(u8, usize, &Row)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.fix.is_some())
        .filter_map(|(i, r)| tier(r).map(|t| (t, i, r)))
        .collect();
    candidates.sort_by_key(|(t, i, r)| {
        (
            *t,
            category_rank
                .get(r.category.as_str())
                .copied()
                .unwrap_or(usize::MAX),
            *i,
        )
    });
    let mut out: Vec<Recommendation> = Vec::new();
    // Rows that cannot be judged are grouped by the fact they lack: one step supplies it for all.
    let mut unjudged: Vec<(String, Vec<&Row>)> = Vec::new();
    for (_, _, row) in candidates {
        if let Some(fact) = &row.missing_fact {
            match unjudged.iter_mut().find(|(f, _)| f == fact) {
                Some((_, rows)) => rows.push(row),
                None => unjudged.push((fact.clone(), vec![row])),
            }
            continue;
        }
        let fix = row.fix.clone().unwrap_or_default();
        if let Some(existing) = out.iter_mut().find(|r| r.text.ends_with(&fix)) {
            existing.software.push(row.id.clone());
            existing.status = existing.status.max(row.status);
            continue;
        }
        out.push(Recommendation {
            status: row.status,
            software: vec![row.id.clone()],
            text: format!("{}: {fix}", row.name),
        });
    }
    for (fact, rows) in unjudged {
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let fix = rows[0].fix.clone().unwrap_or_default();
        out.push(Recommendation {
            status: Status::Warn,
            software: rows.iter().map(|r| r.id.clone()).collect(),
            text: format!(
                "{} cannot be judged without `{fact}`: {fix}",
                list_names(&names)
            ),
        });
    }
    out.extend(deep_step(facts, rows));
    out
}

/// Installed packages judged from their metadata alone: an import could still fail (a lazy package, a
/// damaged library), so say what `--deep` would prove — unless every such row fails already.
fn deep_step(facts: &Facts, rows: &[Row]) -> Option<Recommendation> {
    let untried: Vec<&Row> = rows
        .iter()
        .filter(|r| r.import == Some(ImportCheck::NotTried) && r.status != Status::Fail)
        .collect();
    if untried.is_empty() {
        return None;
    }
    let names: Vec<&str> = untried.iter().map(|r| r.name.as_str()).collect();
    let how = match facts.machine.as_ref().map(|m| m.kind) {
        Some(MachineKind::Live) | None => "run `mlcompat doctor --deep`".to_string(),
        _ => "run `mlcompat probe --deep > facts.json` on that machine and read that file"
            .to_string(),
    };
    Some(Recommendation {
        status: Status::Warn,
        software: untried.iter().map(|r| r.id.clone()).collect(),
        text: format!(
            "{} judged from package metadata; imports not tried: {how}, which imports each one in a child Python, as your code would.",
            list_names(&names)
        ),
    })
}

/// "A", "A and B", "A, B and 3 more".
fn list_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [a, b] => format!("{a} and {b}"),
        [a, b, c] => format!("{a}, {b} and {c}"),
        [a, b, rest @ ..] => format!("{a}, {b} and {} more rows", rest.len()),
    }
}

/// How to supply a fact the rules needed and the facts lack, said for where the facts came from.
pub(crate) fn how_to_supply(key: &FactKey, facts: &Facts) -> String {
    let kind = facts.machine.as_ref().map(|m| m.kind);
    let field = facts_field(key);
    match kind {
        Some(MachineKind::Live) => match key {
            FactKey::GpuComputeCapability
            | FactKey::GpuMemoryGb
            | FactKey::NvidiaDriver
            | FactKey::NvidiaCudaDriver => format!(
                "mlcompat could not read it from the NVIDIA driver ({}). Make `nvidia-smi` work (install or repair the driver; reboot after a driver update), then run mlcompat doctor again.",
                facts.why_unknown("nvidia")
            ),
            FactKey::AppleChip | FactKey::AppleMetalLimitGb => format!(
                "mlcompat could not read it from macOS ({}); run `sysctl machdep.cpu.brand_string iogpu.wired_limit_mb` to see why.",
                facts.why_unknown("apple")
            ),
            _ => format!(
                "mlcompat could not read it on this machine ({}).",
                facts.why_unknown(key.to_string().split('.').next().unwrap_or_default())
            ),
        },
        Some(MachineKind::Profile) => format!(
            "The profile does not record `{field}`; add it with its source to the profile's YAML."
        ),
        _ => format!(
            "Run `mlcompat probe > facts.json` on that machine, or add `{field}` to the facts file."
        ),
    }
}

/// Where a fact lives in a facts file.
fn facts_field(key: &FactKey) -> String {
    let name = key.to_string();
    match key {
        FactKey::Os => "host.os".into(),
        FactKey::OsVersion => "host.os_version".into(),
        FactKey::Arch => "host.arch".into(),
        FactKey::CpuCores => "host.cpu_cores".into(),
        FactKey::MemoryGb => "host.memory_gb".into(),
        FactKey::Glibc => "host.glibc".into(),
        FactKey::Wsl => "host.wsl".into(),
        FactKey::GpuVendor | FactKey::GpuCount => "gpus".into(),
        _ if name.starts_with("gpu.") => format!("gpus[0].{}", &name[4..]),
        _ => name,
    }
}
