//! The kernel path a quantization takes through an engine on a machine: the format the engine actually
//! runs (it may not load the one asked for), the bits it reads per weight, and the precision and
//! efficiency of its matrix math. FP8 needs FP8 tensor cores (Ada, Hopper, Blackwell), FP4 needs
//! Blackwell's; elsewhere an engine either dequantizes to BF16 (weight-only) or, where its row says so
//! (`needs_tensor_cores`), does not run the format at all. Whether that makes the engine unusable here
//! is decided in `verdict::engine_on`, which calls this.

use serde::Serialize;

use super::machine::MachineView;
use crate::matrix::workloads::{Backend, Compute, Engine, Quant, Workloads};

#[derive(Debug, Clone, Serialize)]
pub struct KernelPath {
    /// The quantization the engine runs (another than asked when it does not load that one).
    pub quant: String,
    /// Bits read per weight.
    pub bits: f64,
    /// The precision prefill's matrix math runs in.
    pub gemm: Compute,
    /// Share of that precision's dense peak the engine reaches there.
    pub gemm_eff: f64,
    /// The dense peak at that precision, and the unit that computes it.
    pub peak_tflops: Option<f64>,
    pub unit: String,
    /// What differs from the obvious path, in words.
    pub notes: Vec<String>,
}

fn precision_words(c: Compute) -> &'static str {
    match c {
        Compute::F32 => "FP32",
        Compute::F16 => "BF16",
        Compute::Int8 => "INT8",
        Compute::Fp8 => "FP8",
        Compute::Fp4 => "FP4",
    }
}

/// Where hardware for a precision starts, for messages.
fn hardware_needed(c: Compute) -> &'static str {
    match c {
        Compute::Fp8 => {
            "FP8 tensor cores (NVIDIA Ada, Hopper and Blackwell: compute capability 8.9 and up)"
        }
        Compute::Fp4 => "FP4 tensor cores (NVIDIA Blackwell: compute capability 10.0 and up)",
        Compute::Int8 => "INT8 tensor cores (NVIDIA Turing and later)",
        Compute::F16 | Compute::F32 => "FP16/BF16 units",
    }
}

/// Whether the engine has kernels that compute `c` on tensor cores.
fn engine_computes(engine: &Engine, c: Compute) -> bool {
    match c {
        Compute::Fp4 => engine.fp4_tensor_cores,
        // W8A8 INT8 comes with the same low-precision kernel families as FP8 (vLLM, SGLang, TensorRT-LLM).
        Compute::Fp8 | Compute::Int8 => engine.fp8_tensor_cores,
        Compute::F16 | Compute::F32 => true,
    }
}

/// The path `quant` takes through `engine` (efficiencies from `backend`) on `view`. `bits` overrides the
/// quantization's bits per weight (a file's measured size) unless the engine runs another format. `Err`
/// says why the engine cannot run the format here at all.
pub fn kernel_path(
    catalog: &Workloads,
    engine: &Engine,
    backend: &Backend,
    quant: &Quant,
    bits: Option<f64>,
    view: &MachineView,
) -> Result<KernelPath, String> {
    let mut notes = Vec::new();
    let mut bits = bits.unwrap_or(quant.bits);
    let quant = if engine.loads(&quant.id) {
        quant
    } else {
        let Some(other) = engine
            .instead
            .get(&quant.id)
            .and_then(|id| catalog.quant(id))
        else {
            return Err(format!(
                "{} does not load {} (it loads {})",
                engine.name,
                quant.name,
                engine.loads.join(", ")
            ));
        };
        notes.push(format!(
            "{} has no {} format: estimated with {}, the format it runs instead",
            engine.name, quant.name, other.name
        ));
        bits = other.bits;
        other
    };
    let wanted = quant.compute;
    let native = view.rate(wanted).is_some();
    let mut gemm = wanted;
    // The engine's own kernel path for the format on this machine (llama.cpp's int8 MMQ), if any.
    let kernel = backend
        .kernels
        .iter()
        .find(|k| k.quants.iter().any(|q| q == &quant.id) && view.rate(k.compute).is_some());
    if kernel.is_none()
        && matches!(wanted, Compute::Fp8 | Compute::Fp4 | Compute::Int8)
        && !(native && engine_computes(engine, wanted))
    {
        if engine.needs_tensor_cores.iter().any(|q| q == &quant.id) {
            return Err(format!(
                "{} runs {} only on {}; {} has none — use another quantization or engine",
                engine.name,
                quant.name,
                hardware_needed(wanted),
                view.gpu_words()
            ));
        }
        gemm = Compute::F16;
        notes.push(if native {
            format!(
                "{} has no {} tensor-core kernels: {} weights are dequantized and the math runs at BF16",
                engine.name,
                precision_words(wanted),
                quant.name
            )
        } else {
            format!(
                "{} has no {}: {} weights stay {:.1}-bit in memory but are dequantized, the math runs at BF16 (weight-only)",
                view.gpu_words(),
                hardware_needed(wanted),
                quant.name,
                bits
            )
        });
    }
    let mut gemm_eff = backend.compute_eff;
    let mut unit = String::new();
    if let Some(k) = kernel {
        gemm = k.compute;
        gemm_eff = k.eff;
        unit = k.name.clone();
    }
    let (peak, hw) = match view.rate(gemm) {
        Some((t, hw)) => (Some(t), hw),
        None => {
            gemm = Compute::F16;
            match view.rate(Compute::F16) {
                Some((t, hw)) => (Some(t), hw),
                None => (None, "no compute figure"),
            }
        }
    };
    if unit.is_empty() {
        unit = hw.to_string();
    } else {
        unit = format!("{unit} on {hw}");
    }
    Ok(KernelPath {
        quant: quant.id.clone(),
        bits,
        gemm,
        gemm_eff,
        peak_tflops: peak,
        unit,
        notes,
    })
}
