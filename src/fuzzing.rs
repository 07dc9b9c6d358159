//! Entry points for fuzzing: the cargo-fuzz targets in `fuzz/` and the stable smoke test
//! (`tests/fuzz_smoke.rs`) feed arbitrary input to one family of parsers each. None may panic or hang;
//! an error is the expected answer to garbage. The few `assert!`s here are properties the fuzzer checks.

use std::io::Write;
use std::sync::OnceLock;

use crate::facts::load::facts_from_text;
use crate::matrix::Matrix;
use crate::version::{PyVersion, ToolVersion};

fn embedded() -> Option<&'static Matrix> {
    static MATRIX: OnceLock<Option<Matrix>> = OnceLock::new();
    MATRIX
        .get_or_init(|| crate::matrix::embedded().ok())
        .as_ref()
}

/// The YAML reader and the matrix loaders: the text as `software.yaml`, as a profile and as
/// `workloads.yaml`.
pub fn yaml(text: &str) {
    let _ = crate::yaml::parse(text);
    let files = [
        ("software.yaml".to_string(), text.to_string()),
        ("profiles/fuzz.yaml".to_string(), text.to_string()),
        ("workloads.yaml".to_string(), text.to_string()),
    ];
    if let Err(e) = crate::matrix::from_files(&files) {
        let _ = e.to_string();
    }
}

/// A facts file (JSON or YAML); facts that load are evaluated against the embedded matrix and rendered
/// in every format, through the terminal escaping.
pub fn facts(text: &str) {
    let facts = match facts_from_text("fuzz.yaml", text) {
        Ok(f) => f,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    if let Some(matrix) = embedded() {
        complete_evaluate_render(matrix, facts);
    }
}

/// What every command does with facts: complete them, evaluate, render in each doctor format through the
/// terminal escaping.
fn complete_evaluate_render(matrix: &Matrix, mut facts: crate::facts::Facts) {
    crate::matrix::complete::complete(matrix, &mut facts);
    let report = crate::eval::evaluate(matrix, &facts);
    let style = crate::render::Style {
        color: true,
        ..Default::default()
    };
    let mut out =
        crate::terminal::SafeWriter::new(Vec::new(), crate::terminal::style_sequences(style));
    let _ = crate::render::doctor_text(&report, style, true, &mut out);
    let _ = crate::render::doctor_markdown(&report, style, &mut out);
    let _ = crate::render::doctor_json(&report, &mut out);
    let _ = out.flush();
}

/// A pasted text read as dumps (every reader, on every piece it recognizes); facts that come out are
/// evaluated and rendered like a facts file's. Reading twice gives the same facts.
pub fn dumps(text: &str) {
    let _ = crate::facts::dumps::detect(text);
    let Some(matrix) = embedded() else { return };
    let Some(facts) = crate::facts::dumps::facts_from_dump(text, "fuzz") else {
        return;
    };
    complete_evaluate_render(matrix, facts);
}

/// A pasted log through `explain`: the machine read from its dumps (as the command does), every known
/// failure matched, rendered in each format through the terminal escaping.
pub fn explain(text: &str) {
    let Some(matrix) = embedded() else { return };
    let log = crate::explain::Log::whole("fuzz.log", text.to_string());
    let region = crate::app::explain::dump_region(text);
    let (facts, from, dumps) = crate::app::explain::machine_in_log(matrix, &region, &log.name);
    let explanation = crate::explain::explain(matrix, &log, &facts, &from, dumps);
    let _ = explanation.exit_code();
    let style = crate::render::Style {
        color: true,
        ..Default::default()
    };
    let mut out =
        crate::terminal::SafeWriter::new(Vec::new(), crate::terminal::style_sequences(style));
    let _ = crate::render::explain_text(&explanation, style, &mut out);
    let _ = crate::render::explain_markdown(&explanation, &mut out);
    let _ = serde_json::to_writer(&mut out, &explanation);
    let _ = out.flush();
}

/// PEP 440 and tool versions, and GPU architecture names.
pub fn versions(text: &str) {
    let (Ok(a), Ok(b)) = ("12.1".parse::<ToolVersion>(), "8.0".parse::<ToolVersion>()) else {
        return;
    };
    let fixed = [a, b];
    if let Ok(v) = text.parse::<ToolVersion>() {
        let shown = v.to_string();
        assert_eq!(
            shown.parse::<ToolVersion>().ok().as_ref(),
            Some(&v),
            "{text:?}"
        );
        let _ = (v.major(), v.minor(), v < fixed[0]);
        let _ = crate::facts::arch::nvcc_builds_for(&v, &fixed[0]);
    }
    if let Ok(v) = text.parse::<PyVersion>() {
        let _ = (v.local(), v.to_string());
        let _ = v.partial_cmp(&v);
    }
    if let Some(target) = crate::facts::arch::parse_target(text) {
        for cc in &fixed {
            let _ = crate::facts::arch::runs_on(target, cc);
        }
    }
    let list: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    let _ = crate::facts::arch::list_runs_on(&list, &fixed[0]);
    let _ = crate::facts::arch::list_has_exact(&list, &fixed[1]);
}

/// Every parser of a program's output or a system file.
pub fn tool_output(text: &str) {
    use crate::probe::{apple, binaries, deep, host, python, toolkit};
    for name in ["ollama", "llama-cli", "docker", "nvidia-ctk", "conda", "uv"] {
        let _ = binaries::parse_version(name, text);
    }
    let _ = crate::facts::dumps::smi::parse_table(text);
    let _ = crate::facts::dumps::smi::parse_query(text);
    let _ = crate::facts::dumps::smi::parse_log(text);
    let _ = binaries::parse_build_target(text);
    let _ = binaries::parse_header_arch(text.as_bytes(), "aarch64");
    let _ = binaries::parse_daemon_json(text);
    let _ = binaries::parse_docker_info(text);
    let _ = toolkit::parse_nvcc_release(text);
    let _ = toolkit::parse_gpu_code_list(text);
    let _ = toolkit::parse_header_version(text, "CUDNN");
    let _ = toolkit::parse_header_version(text, "NCCL");
    let _ = python::parse_metadata(text.as_bytes());
    let _ = host::parse_os_release(text);
    let _ = host::parse_cpuinfo(text);
    let _ = host::parse_meminfo_total_gb(text);
    let _ = host::parse_sysctl_values(text);
    let _ = apple::parse_wired_limit_mb(text);
    let _ = apple::parse_gpu_cores(text);
    let _ = apple::parse_sw_vers(text);
    if let Some(result) = deep::parse_import(text) {
        if let Some(torch) = &result.torch {
            let _ = deep::to_torch(torch);
        }
    }
}

/// The terminal escaping, fed in two pieces split anywhere: nothing unsafe comes out.
pub fn terminal(bytes: &[u8]) {
    let split = bytes
        .first()
        .map_or(0, |b| usize::from(*b) % (bytes.len() + 1));
    let mut out = crate::terminal::SafeWriter::new(Vec::new(), Vec::new());
    let _ = out.write_all(&bytes[..split]);
    let _ = out.write_all(&bytes[split..]);
    let _ = out.flush();
    let written = std::mem::take(out.get_mut());
    let text = String::from_utf8(written).expect("escaped output is UTF-8");
    assert!(
        !text.chars().any(crate::terminal::is_unsafe),
        "unsafe character passed: {text:?}"
    );
    if let Ok(s) = std::str::from_utf8(bytes) {
        assert!(!crate::terminal::escape(s)
            .chars()
            .any(crate::terminal::is_unsafe));
    }
}

pub fn yaml_parse_only(text: &str) {
    let _ = crate::yaml::parse(text);
}
