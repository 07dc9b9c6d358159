//! `doctor --format prometheus`: the Prometheus text exposition format (version 0.0.4) for
//! node_exporter's textfile collector.
//!
//! Every metric has `# HELP` and `# TYPE` lines and all its samples together; names carry the `mlcompat_`
//! prefix and base units (bytes per second, not GB/s); label values escape `\`, `"` and newlines; and no
//! sample has a timestamp, which the textfile collector refuses. Every software row has a sample in each
//! per-row metric, so a row never vanishes from a series when its verdict changes.

use std::fmt::Write as _;

use super::nfd::fp4_native;
use crate::facts::Facts;
use crate::matrix::Status;
use crate::report::Report;

pub fn prometheus_text(report: &Report, facts: &Facts) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, help: &str, samples: &[(String, String)]| {
        if samples.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    metric(
        "mlcompat_build_info",
        "The mlcompat version that wrote these metrics (always 1).",
        &[(
            labels(&[("version", env!("CARGO_PKG_VERSION"))]),
            "1".into(),
        )],
    );
    let per_row = |value: &dyn Fn(&crate::report::Row) -> String, with_category: bool| {
        report
            .rows
            .iter()
            .map(|r| {
                let l = if with_category {
                    labels(&[("id", &r.id), ("category", &r.category)])
                } else {
                    labels(&[("id", &r.id)])
                };
                (l, value(r))
            })
            .collect::<Vec<_>>()
    };
    metric(
        "mlcompat_check_status",
        "Verdict of each software row on this machine: 0 ok, 1 warn, 2 fail.",
        &per_row(
            &|r| {
                match r.status {
                    Status::Ok => "0",
                    Status::Warn => "1",
                    Status::Fail => "2",
                }
                .into()
            },
            true,
        ),
    );
    metric(
        "mlcompat_check_installed",
        "Whether the row's software is installed in the inspected environment (1) or not (0).",
        &per_row(&|r| u8::from(r.installed.is_some()).to_string(), false),
    );
    metric(
        "mlcompat_check_problem",
        "Whether the row is a problem that makes `mlcompat doctor` exit 1 (installed software that fails, or a --require'd row).",
        &per_row(
            &|r| {
                u8::from(report.summary.problems.iter().any(|p| p.id == r.id)).to_string()
            },
            false,
        ),
    );
    metric(
        "mlcompat_problems",
        "Rows that make `mlcompat doctor` exit 1; 0 when nothing installed is broken.",
        &[(String::new(), report.summary.problems.len().to_string())],
    );
    if let Some(range) = report.matrix_checked {
        let at = |d: crate::matrix::Day| (d.days_since_epoch() * 86_400).to_string();
        metric(
            "mlcompat_matrix_checked_timestamp_seconds",
            "When the matrix's sources were last read: the oldest and the newest `checked` day (Unix time).",
            &[
                (labels(&[("bound", "oldest")]), at(range.oldest)),
                (labels(&[("bound", "newest")]), at(range.newest)),
            ],
        );
    }
    if let Some(fp4) = fp4_native(facts) {
        metric(
            "mlcompat_fp4_native",
            "Whether the GPU has native FP4 tensor cores (1) or not (0).",
            &[(String::new(), u8::from(fp4).to_string())],
        );
    }
    let bench = facts.benchmarks.as_ref();
    if let Some(v) = bench.and_then(|b| b.fp4_native_verified) {
        metric(
            "mlcompat_fp4_native_verified",
            "Whether mlcompat's native FP4 kernels ran on the GPU and matched the CPU reference (1) or not (0).",
            &[(String::new(), u8::from(v).to_string())],
        );
    }
    let mut bandwidth = Vec::new();
    let gpu_sheet = facts.primary_gpu().and_then(|g| g.bandwidth_gbs);
    for (device, source, gbs) in [
        ("gpu", "measured", bench.and_then(|b| b.gpu_bandwidth_gbs)),
        ("gpu", "datasheet", gpu_sheet),
        ("cpu", "measured", bench.and_then(|b| b.cpu_bandwidth_gbs)),
        ("cpu", "datasheet", facts.host.memory_bandwidth_gbs),
    ] {
        if let Some(gbs) = gbs.filter(|g| g.is_finite() && *g >= 0.0) {
            bandwidth.push((
                labels(&[("device", device), ("source", source)]),
                format!("{:.0}", gbs * 1e9),
            ));
        }
    }
    metric(
        "mlcompat_memory_bandwidth_bytes_per_second",
        "Memory bandwidth: measured by `mlcompat bench`, or the datasheet figure.",
        &bandwidth,
    );
    let mut flops = Vec::new();
    for (path, tflops) in [
        ("native", bench.and_then(|b| b.fp4_native_tflops)),
        ("emulated", bench.and_then(|b| b.fp4_emulated_tflops)),
    ] {
        if let Some(t) = tflops.filter(|t| t.is_finite() && *t >= 0.0) {
            flops.push((labels(&[("path", path)]), format!("{:.0}", t * 1e12)));
        }
    }
    metric(
        "mlcompat_fp4_flops_per_second",
        "FP4 throughput measured by `mlcompat bench fp4`, by path (native tensor cores, or emulated: software FP4 as mlcompat's test kernel decodes it, not the GPU's best).",
        &flops,
    );
    out
}

/// `{a="x",b="y"}`, values escaped as the exposition format requires.
fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("id", "a\"b\\c\nd")]), r#"{id="a\"b\\c\nd"}"#);
    }
}
