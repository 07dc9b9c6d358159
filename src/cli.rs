//! Command-line interface (clap derive). Parsing only; `app` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit status:
  0  nothing fails (doctor), or the command succeeded
  1  doctor found a failing row (with --strict: also a warning)
  2  usage or input error: bad arguments, an unreadable or invalid matrix, facts file or profile";

#[derive(Debug, Parser)]
#[command(
    name = "mlcompat",
    version,
    about = "What will actually run on this AI machine, and how fast.",
    long_about = "mlcompat checks a sourced software matrix (PyTorch, vLLM, FlashAttention, MLX, TensorRT-LLM, …) against \
this machine — or a saved or reference one — and says what runs (✅), what needs care (⚠️) and what does not (❌).",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Read the matrix from DIR (software.yaml, profiles/) instead of the embedded copy.
    #[arg(long, global = true, value_name = "DIR")]
    pub matrix: Option<PathBuf>,
    /// When to color text output (NO_COLOR and CLICOLOR_FORCE are honored under auto).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Print OK/WARN/FAIL instead of ✅/⚠️/❌.
    #[arg(long, global = true)]
    pub ascii: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe this machine (or read --profile/--facts) and show what runs, with what to do next.
    #[command(after_help = EXIT_CODES)]
    Doctor(DoctorArgs),
    /// The compatibility table for docs: software down, machines across.
    Table(TableArgs),
    /// Will these workloads run here, how fast, with which engine? (`mlcompat check all` for every one.)
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// An ad-hoc LLM estimate: memory, decode and prefill speed, what bounds them.
    Estimate(EstimateArgs),
    /// Two machines head to head: specs, then who wins each workload, by how much and why.
    Compare(CompareArgs),
    /// Print this machine's raw facts (for bug reports and for --facts FILE).
    Probe(ProbeArgs),
    /// Measure memory bandwidth (CPU triad; GPU add/copy/triad) and run the FP4 test kernels.
    Bench(BenchArgs),
    /// List the software rows or the reference profiles.
    List {
        #[arg(value_enum)]
        what: ListWhat,
    },
    /// Work on the matrix itself.
    Matrix {
        #[command(subcommand)]
        command: MatrixCommand,
    },
}

#[derive(Debug, Args)]
pub struct MachineArgs {
    /// Evaluate a reference machine from the matrix (see `mlcompat list profiles`).
    #[arg(long, value_name = "NAME", conflicts_with = "facts")]
    pub profile: Option<String>,
    /// Evaluate facts saved by `mlcompat probe` (JSON or YAML).
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    #[command(flatten)]
    pub probe: ProbeFlags,
}

/// How this machine is probed.
#[derive(Debug, Args)]
pub struct ProbeFlags {
    /// The Python interpreter to inspect (default: $VIRTUAL_ENV, $CONDA_PREFIX, ./.venv, python3 on PATH).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Also import the heavy packages (torch, flash_attn, vllm, mlx, …), each in a child process with its
    /// own timeout, count CUDA devices, and run the benches (bandwidth, FP4 kernels).
    #[arg(long)]
    pub deep: bool,
    /// Seconds each external program may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub timeout: f64,
    /// Seconds each `--deep` import may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub import_timeout: f64,
    /// Ask every interpreter and tool again instead of using the cache of their answers.
    #[arg(long)]
    pub no_cache: bool,
    /// Seconds each `--deep` GPU part (a worker process: listing CUDA devices, each bench) may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    pub gpu_timeout: f64,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub machine: MachineArgs,
    #[arg(long, value_enum, default_value_t = DoctorFormat::Table)]
    pub format: DoctorFormat,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct TableArgs {
    /// Reference profiles to compare, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "dgx-spark,mac-studio-m3-ultra",
        value_name = "NAMES"
    )]
    pub profiles: Vec<String>,
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Markdown,
    Html,
    Json,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    #[arg(long, value_enum, default_value_t = ProbeFormat::Json)]
    pub format: ProbeFormat,
    #[command(flatten)]
    pub probe: ProbeFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeFormat {
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Workload ids (see `mlcompat list workloads`), or `all`.
    #[arg(required = true, value_name = "WORKLOAD")]
    pub workloads: Vec<String>,
    #[command(flatten)]
    pub machine: MachineArgs,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Total parameters, billions.
    #[arg(long, value_name = "B", required_unless_present = "model")]
    pub params_b: Option<f64>,
    /// Take the architecture (and parameters) of a catalog model, e.g. llama-3.3-70b.
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    /// Named quantization: f32, f16, bf16, fp8, int8, q8_0, q6_k, q5_k_m, q4_k_m, q4_0, int4, nvfp4, mxfp4.
    #[arg(long, default_value = "q4_k_m")]
    pub quant: String,
    /// Bits per weight, overriding the quantization's.
    #[arg(long)]
    pub bits: Option<f64>,
    /// Parameters read per token (mixture of experts), billions.
    #[arg(long, value_name = "B")]
    pub active_params_b: Option<f64>,
    /// Concurrent sequences.
    #[arg(long, default_value_t = 1)]
    pub batch: u32,
    /// Tokens of context per sequence.
    #[arg(long, default_value_t = 8192)]
    pub context: u32,
    #[arg(long, default_value = "llama.cpp")]
    pub engine: String,
    #[arg(long)]
    pub layers: Option<u32>,
    #[arg(long)]
    pub kv_heads: Option<u32>,
    #[arg(long)]
    pub head_dim: Option<u32>,
    #[command(flatten)]
    pub machine: MachineArgs,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// First machine: a profile id (see `mlcompat list profiles`).
    pub a: String,
    /// Second machine.
    pub b: String,
    /// Workloads to compare (default: the eight core ones).
    #[arg(long = "workload", value_name = "ID")]
    pub workloads: Vec<String>,
    #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
    pub format: CompareFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    Table,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(value_enum, default_value_t = BenchWhat::All)]
    pub what: BenchWhat,
    #[arg(long, value_enum, default_value_t = BenchDevice::Auto)]
    pub device: BenchDevice,
    #[arg(long, value_enum, default_value_t = BenchFormat::Table)]
    pub format: BenchFormat,
    /// Only compile the FP4 kernels for --arch with NVRTC (no GPU needed) and report what was built.
    #[arg(long, requires = "arch")]
    pub compile_only: bool,
    /// Target architecture for --compile-only, e.g. sm_90, sm_120a.
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<String>,
    /// The Python environment whose nvidia-cuda-nvrtc wheel may provide NVRTC.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Seconds each GPU part (a worker process) may take before it is killed.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    pub gpu_timeout: f64,
    /// Internal: run one GPU job in this process and print its JSON report (what `bench` starts).
    #[arg(long, hide = true, value_name = "JOB")]
    pub gpu_worker: Option<String>,
    /// Internal: the CUDA device ordinal for --gpu-worker.
    #[arg(long, hide = true, value_name = "N", default_value_t = 0)]
    pub gpu_ordinal: u32,
    /// Internal: an NVRTC candidate for --gpu-worker (repeatable).
    #[arg(long, hide = true, value_name = "PATH")]
    pub nvrtc: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchWhat {
    Bandwidth,
    Fp4,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchDevice {
    Cpu,
    Gpu,
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    Software,
    Profiles,
    Workloads,
}

#[derive(Debug, Subcommand)]
pub enum MatrixCommand {
    /// The estimator against every published measurement in the calibration set (Markdown table).
    Calibration,
    /// Check a matrix directory (default: --matrix, else the embedded one) and report every problem.
    Validate {
        /// The directory holding software.yaml and profiles/.
        dir: Option<PathBuf>,
    },
}
