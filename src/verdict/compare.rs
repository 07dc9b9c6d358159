//! `mlcompat compare A B`: the specs side by side, then for each workload who wins, by how much, and why
//! ("memory-bound: 819 vs 273 GB/s").

use serde::Serialize;

use super::check::{check, round, Check};
use crate::estimate::llm::Bound;
use crate::estimate::MachineView;
use crate::matrix::workloads::{Compute, Workload, Workloads};
use crate::matrix::Status;
use crate::report::Report;

pub const COMPARE_SCHEMA: &str = "mlcompat.compare/1";

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SpecRow {
    pub spec: &'static str,
    pub a: String,
    pub b: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Duel {
    pub workload: String,
    pub name: String,
    pub a: Check,
    pub b: Check,
    /// `a`, `b`, `tie` or `neither`.
    pub winner: &'static str,
    /// How many times better the winner is, when both run.
    pub factor: Option<f64>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Comparison {
    pub schema: &'static str,
    pub a: String,
    pub b: String,
    pub specs: Vec<SpecRow>,
    pub workloads: Vec<Duel>,
}

pub fn compare(
    catalog: &Workloads,
    workloads: &[&Workload],
    a: (&Report, &MachineView),
    b: (&Report, &MachineView),
) -> Comparison {
    let (ma, mb) = (a.1, b.1);
    let opt = |v: Option<f64>, unit: &str| {
        v.map_or_else(|| "—".to_string(), |x| format!("{} {unit}", round(x)))
    };
    let mut specs = vec![
        SpecRow {
            spec: "GPU memory usable",
            a: opt(ma.available_gb, "GB"),
            b: opt(mb.available_gb, "GB"),
        },
        SpecRow {
            spec: "Memory bandwidth",
            a: opt(ma.bandwidth_gbs, "GB/s"),
            b: opt(mb.bandwidth_gbs, "GB/s"),
        },
        SpecRow {
            spec: "BF16/FP16 dense",
            a: opt(ma.rate(Compute::F16).map(|t| t.0), "TFLOPS"),
            b: opt(mb.rate(Compute::F16).map(|t| t.0), "TFLOPS"),
        },
        SpecRow {
            spec: "FP8 dense",
            a: opt(ma.tflops_fp8, "TFLOPS"),
            b: opt(mb.tflops_fp8, "TFLOPS"),
        },
        SpecRow {
            spec: "FP4 dense",
            a: opt(ma.tflops_fp4, "TFLOPS"),
            b: opt(mb.tflops_fp4, "TFLOPS"),
        },
        SpecRow {
            spec: "Power (TDP)",
            a: opt(ma.power_w, "W"),
            b: opt(mb.power_w, "W"),
        },
    ];
    let price = |p: Option<f64>| p.map_or_else(|| "—".to_string(), |p| format!("${p:.0}"));
    if ma.list_price_usd.is_some() || mb.list_price_usd.is_some() {
        // Today's list price where it changed, else the launch price still stands.
        specs.push(SpecRow {
            spec: "Price (list now)",
            a: price(ma.list_price_usd.or(ma.price_usd)),
            b: price(mb.list_price_usd.or(mb.price_usd)),
        });
    }
    if ma.price_usd.is_some() || mb.price_usd.is_some() {
        specs.push(SpecRow {
            spec: "Price (launch)",
            a: price(ma.price_usd),
            b: price(mb.price_usd),
        });
    }
    let duels = workloads
        .iter()
        .map(|w| {
            let ca = check(catalog, w, a.0, ma);
            let cb = check(catalog, w, b.0, mb);
            let (winner, factor, reason) = judge(&ca, &cb, ma, mb);
            Duel {
                workload: w.id.clone(),
                name: w.name.clone(),
                a: ca,
                b: cb,
                winner,
                factor,
                reason,
            }
        })
        .collect();
    Comparison {
        schema: COMPARE_SCHEMA,
        a: ma.name.clone(),
        b: mb.name.clone(),
        specs,
        workloads: duels,
    }
}

fn judge(
    a: &Check,
    b: &Check,
    ma: &MachineView,
    mb: &MachineView,
) -> (&'static str, Option<f64>, String) {
    let runs = |c: &Check| c.verdict != Status::Fail;
    match (runs(a), runs(b)) {
        (false, false) => {
            return (
                "neither",
                None,
                format!("{}: {}; {}: {}", ma.name, a.reason, mb.name, b.reason),
            )
        }
        (true, false) => {
            return (
                "a",
                None,
                format!("only {} runs it — {}: {}", ma.name, mb.name, b.reason),
            )
        }
        (false, true) => {
            return (
                "b",
                None,
                format!("only {} runs it — {}: {}", mb.name, ma.name, a.reason),
            )
        }
        (true, true) => {}
    }
    let (Some(sa), Some(sb)) = (a.speed, b.speed) else {
        return ("tie", None, "speed unknown on one machine".into());
    };
    let a_better = if a.higher_is_better {
        sa >= sb
    } else {
        sa <= sb
    };
    let factor = if a_better {
        ratio(sa, sb, a.higher_is_better)
    } else {
        ratio(sb, sa, a.higher_is_better)
    };
    let why = match (a.bound, b.bound) {
        (Bound::MemoryBandwidth, Bound::MemoryBandwidth) => format!(
            "memory-bound: {} vs {} GB/s",
            ma.bandwidth_gbs.map_or("?".into(), round),
            mb.bandwidth_gbs.map_or("?".into(), round)
        ),
        (Bound::Compute, Bound::Compute) => format!(
            "compute-bound: {} vs {} TFLOPS dense",
            ma.rate(Compute::F16).map_or("?".into(), |t| round(t.0)),
            mb.rate(Compute::F16).map_or("?".into(), |t| round(t.0))
        ),
        (x, y) => format!("{}-bound vs {}-bound", x.text(), y.text()),
    };
    if factor < 1.05 {
        return ("tie", Some(factor), format!("within 5%: {why}"));
    }
    (
        if a_better { "a" } else { "b" },
        Some(factor),
        format!("{}× — {why}", round(factor)),
    )
}

fn ratio(better: f64, worse: f64, higher_is_better: bool) -> f64 {
    if higher_is_better {
        better / worse.max(f64::MIN_POSITIVE)
    } else {
        worse / better.max(f64::MIN_POSITIVE)
    }
}
