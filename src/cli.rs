//! Command-line interface (clap derive). Parsing only; `app` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit status:
  0  the command succeeded
  1  (doctor) a problem: installed software fails, or a --require'd row fails; (check, estimate) a
     workload gets FAIL; (explain) no known failure matched
  2  usage or input error: bad arguments, an unreadable or invalid matrix, facts file or profile";

const DOCTOR_EXIT: &str = "\
Exit status (for CI gates: it means \"something is wrong with this installation\"):
  0  no problem. FAIL rows for software that is not installed, or for hardware (no native FP4), are
     answers, not problems; a reference profile has nothing installed and exits 0
  1  a row for installed software fails, or a row named with --require fails or is not installed
     (with --strict: also when such a row warns); JSON lists them in summary.problems
  2  usage or input error: bad arguments, an unreadable or invalid matrix, facts file or profile";

const CHECK_EXIT: &str = "\
Exit status:
  0  every workload runs here (OK or WARN)
  1  a workload gets FAIL: it does not fit, or no engine for it runs here
  2  usage or input error: an unknown workload or profile, an unreadable facts file";

const ESTIMATE_EXIT: &str = "\
Exit status:
  0  the model runs here (OK or WARN)
  1  FAIL: it does not fit, or the engine does not run here
  2  usage or input error: an unknown model, quantization, engine or profile, a value out of range";

const PLAN_EXIT: &str = "\
Exit status:
  0  a consistent set fits this machine (possibly after the preconditions it lists)
  1  no consistent set fits: the plan lists the conflicting constraints and the alternatives
  2  usage or input error: an unknown software id or profile, an unreadable facts file";

const EXPLAIN_EXIT: &str = "\
Exit status:
  0  a known failure matched
  1  no known failure matched (the report says what was read)
  2  usage or input error: an unreadable file, an unknown profile";

const OTHER_EXIT: &str = "\
Exit status:
  0  success
  2  usage or input error";

const GLOBAL: &str = "Global options";

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
    /// Read the matrix from DIR (software.yaml, workloads.yaml, profiles/) instead of the embedded copy.
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    pub matrix: Option<PathBuf>,
    /// When to color text output (NO_COLOR and CLICOLOR_FORCE are honored under auto).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = GLOBAL)]
    pub color: ColorChoice,
    /// ASCII only: OK/WARN/FAIL instead of ✅/⚠️/❌, and plain punctuation (automatic on a terminal that
    /// cannot show UTF-8).
    #[arg(long, global = true, help_heading = GLOBAL)]
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
    #[command(after_help = DOCTOR_EXIT)]
    Doctor(DoctorArgs),
    /// The compatibility table for docs: software down, machines across.
    #[command(after_help = OTHER_EXIT)]
    Table(TableArgs),
    /// Will these workloads run here, how fast, with which engine? (`mlcompat check all` for every one.)
    #[command(after_help = CHECK_EXIT)]
    Check(CheckArgs),
    /// An ad-hoc LLM estimate: memory, decode and prefill speed, what bounds them.
    #[command(after_help = ESTIMATE_EXIT)]
    Estimate(EstimateArgs),
    /// Two machines head to head: specs, then who wins each workload, by how much and why.
    #[command(after_help = OTHER_EXIT)]
    Compare(CompareArgs),
    /// The exact commands to install software here: newest consistent versions, preconditions, the
    /// check to run afterwards (read-only: it prints, it never installs).
    #[command(name = "install-plan", after_help = PLAN_EXIT)]
    InstallPlan(PlanArgs),
    /// Explain a pasted error, log or whole bug report: the known failure, its cause, and the fix for the
    /// machine it came from.
    #[command(after_help = EXPLAIN_EXIT)]
    Explain(ExplainArgs),
    /// Print this machine's raw facts (for bug reports and for --facts FILE).
    #[command(after_help = OTHER_EXIT)]
    Probe(ProbeArgs),
    /// Measure memory bandwidth (CPU triad; GPU add/copy/triad) and run the FP4 test kernels.
    #[command(after_help = OTHER_EXIT)]
    Bench(BenchArgs),
    /// List the software rows, the reference profiles, the workloads, or the models, engines and
    /// quantizations `estimate` takes.
    #[command(after_help = OTHER_EXIT)]
    List {
        /// What to list.
        #[arg(value_enum)]
        what: ListWhat,
    },
    /// Work on the matrix itself.
    #[command(after_help = OTHER_EXIT)]
    Matrix {
        #[command(subcommand)]
        command: MatrixCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell).
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Print the man page (roff), or write one page per command into a folder.
    #[command(after_help = OTHER_EXIT)]
    Man {
        /// Write mlcompat.1 and mlcompat-COMMAND.1 pages into DIR instead of printing mlcompat.1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the JSON Schema of an output (`mlcompat schema list` names them).
    #[command(after_help = OTHER_EXIT)]
    Schema {
        /// The schema: report, facts, check, compare, estimate, table, bench, audit (or its full id, such
        /// as `mlcompat.report/1`), or `list`.
        name: String,
    },
}

const COMPLETIONS_HELP: &str = "\
Install (pick your shell):
  bash        mlcompat completions bash > ~/.local/share/bash-completion/completions/mlcompat
  zsh         mlcompat completions zsh > \"${fpath[1]}/_mlcompat\"
  fish        mlcompat completions fish > ~/.config/fish/completions/mlcompat.fish
  powershell  mlcompat completions powershell >> $PROFILE

Exit status:
  0  success
  2  usage error";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct MachineArgs {
    /// Evaluate a reference machine from the matrix (see `mlcompat list profiles`).
    #[arg(long, value_name = "NAME", conflicts_with = "facts")]
    pub profile: Option<String>,
    /// Evaluate facts saved by `mlcompat probe` (JSON or YAML), a pasted collect-env or nvidia-smi dump, or
    /// `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    #[command(flatten)]
    pub probe: ProbeFlags,
}

/// How this machine is probed.
#[derive(Debug, Args)]
pub struct ProbeFlags {
    /// The Python interpreter to inspect: a path, a virtual environment folder, or a name on PATH such as
    /// python3.11 (default: $VIRTUAL_ENV, $CONDA_PREFIX, ./.venv if yours, python3 on PATH).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Also import the heavy packages (torch, flash_attn, vllm, mlx, …), each in a child process with its
    /// own timeout, count CUDA devices, and run the benches (bandwidth, FP4 kernels).
    #[arg(long)]
    pub deep: bool,
    /// Seconds each probe may take, for all the external programs it runs together.
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value_t = 5.0)]
    pub timeout: f64,
    /// Seconds each `--deep` import may take.
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value_t = 60.0)]
    pub import_timeout: f64,
    /// Ask every interpreter and tool again instead of using the cache of their answers.
    #[arg(long)]
    pub no_cache: bool,
    /// Seconds each `--deep` GPU part (a worker process: listing CUDA devices, each bench) may take.
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value_t = 120.0)]
    pub gpu_timeout: f64,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub machine: MachineArgs,
    /// Every row of the catalogue with its reason and fix, not only problems, what is installed and a
    /// summary of the rest.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DoctorFormat::Table)]
    pub format: DoctorFormat,
    /// Software that must work here (ids from `mlcompat list software`, comma-separated): exit 1 when one
    /// of them fails, or is not installed in the inspected environment.
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub require: Vec<String>,
    /// Problems include warnings: exit 1 when installed or required software warns.
    #[arg(long)]
    pub strict: bool,
    /// Label prefix for `--format nfd`: a DNS subdomain you control, or feature.node.kubernetes.io /
    /// profile.node.kubernetes.io (nfd-master drops the rest of kubernetes.io).
    #[arg(long, value_name = "PREFIX", default_value = "mlcompat.io")]
    pub nfd_prefix: String,
    /// Hours until Node Feature Discovery drops the labels of `--format nfd` (`# +expiry-time`), so a
    /// node whose job stopped refreshing them loses them.
    #[arg(long, value_name = "HOURS", default_value_t = 24.0)]
    pub nfd_expiry: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    Table,
    Json,
    /// GitHub-flavored Markdown, also as a GitHub Actions job summary (append it to GITHUB_STEP_SUMMARY).
    Markdown,
    /// A Kubernetes Node Feature Discovery feature file (features.d), one label per software row.
    Nfd,
    /// Prometheus text format for node_exporter's textfile collector.
    Prometheus,
    /// JUnit XML, one test case per software row (GitLab, Jenkins, GitHub test reporters).
    Junit,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Software ids (see `mlcompat list software`), each optionally with a version range:
    /// `vllm`, `vllm==0.19.1`, `pytorch>=2.10`.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    #[command(flatten)]
    pub machine: MachineArgs,
    /// Write the commands for this installer.
    #[arg(long, value_enum, default_value_t = InstallerChoice::Pip)]
    pub installer: InstallerChoice,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The log, traceback or bug report (Markdown with fences and dumps is fine); `-` or nothing reads
    /// standard input. A file larger than 16 MiB is read at its head and tail.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The machine the log came from, when the log does not say: a reference profile.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["facts", "here"])]
    pub profile: Option<String>,
    /// The machine the log came from: facts saved by `mlcompat probe`, or a pasted dump.
    #[arg(long, value_name = "FILE", conflicts_with = "here")]
    pub facts: Option<PathBuf>,
    /// The log came from this machine: probe it (quick probe, no imports) for the facts.
    #[arg(long)]
    pub here: bool,
    /// Output format: text, json (schema mlcompat.explain/1) or markdown (a reply to post on an issue).
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InstallerChoice {
    Pip,
    Uv,
}

#[derive(Debug, Args)]
pub struct TableArgs {
    /// Reference profiles to compare, comma-separated (default: dgx-spark,mac-studio-m3-ultra when no
    /// --facts is given).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub profiles: Vec<String>,
    /// Saved facts of a machine (`mlcompat probe` output, or a collect-env / nvidia-smi dump), one column
    /// each, before the profiles; repeat for a fleet.
    #[arg(long, value_name = "FILE")]
    pub facts: Vec<PathBuf>,
    /// Output format.
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
    /// Output format.
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Total parameters, billions.
    #[arg(long, value_name = "B", required_unless_present = "model")]
    pub params_b: Option<f64>,
    /// Take the architecture (and parameters) of a catalog language model, as you write it:
    /// llama-3.3-70b, meta-llama/Llama-3.3-70B-Instruct, llama3.3:70b (`mlcompat list models`).
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    /// Named quantization, as you write it (Q4_K_M, Q8, IQ4_XS, fp8, nvfp4, AWQ, 4bit, exl3-4.0bpw;
    /// `mlcompat list quants`). Default: the one the model's name carries, else the one it is released in
    /// (gpt-oss: MXFP4, most models: BF16), else Q4_K_M.
    #[arg(long)]
    pub quant: Option<String>,
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
    /// Serving: prompt tokens of each request (with --output). Capacity then counts each request's
    /// prefill, sizes sequences at prompt + output tokens and shows the time to a new request's first
    /// token at each load.
    #[arg(long, value_name = "TOKENS")]
    pub prompt: Option<u32>,
    /// Serving: tokens generated for each request (with --prompt).
    #[arg(long, value_name = "TOKENS")]
    pub output: Option<u32>,
    /// Serving: the speed each user must get; capacity answers how many users get it.
    #[arg(long, value_name = "TOK_S")]
    pub target_tok_s: Option<f64>,
    /// The inference engine, as you write it (llama.cpp, mlx, vllm, sglang, trt-llm, ollama; `mlcompat
    /// list engines`).
    #[arg(long, default_value = "llama.cpp")]
    pub engine: String,
    /// Transformer layers (default: the catalog model's, else the nearest real config's in size).
    #[arg(long)]
    pub layers: Option<u32>,
    /// Key/value heads per layer (grouped-query attention).
    #[arg(long)]
    pub kv_heads: Option<u32>,
    /// Size of each attention head.
    #[arg(long)]
    pub head_dim: Option<u32>,
    #[command(flatten)]
    pub machine: MachineArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// First machine: a profile id (see `mlcompat list profiles`) or a saved facts file.
    pub a: String,
    /// Second machine: a profile id or a saved facts file.
    pub b: String,
    /// Workloads to compare (default: the eight core ones).
    #[arg(long = "workload", value_name = "ID")]
    pub workloads: Vec<String>,
    /// Output format.
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
    /// What to measure.
    #[arg(value_enum, default_value_t = BenchWhat::All)]
    pub what: BenchWhat,
    /// Where to measure: the CPU, the GPU, or both where there is one.
    #[arg(long, value_enum, default_value_t = BenchDevice::Auto)]
    pub device: BenchDevice,
    /// Output format.
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
    /// Ask the interpreter again instead of using the cache (also: MLCOMPAT_NO_CACHE).
    #[arg(long)]
    pub no_cache: bool,
    /// Seconds each GPU part (a worker process) may take before it is killed.
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value_t = 120.0)]
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
    Models,
    Engines,
    Quants,
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
    /// List rules and figures whose sources are stale, not specific, or name an outdated release.
    #[command(after_help = AUDIT_EXIT_CODES)]
    Audit(AuditArgs),
}

const AUDIT_EXIT_CODES: &str = "\
Exit status:
  0  nothing listed
  1  something is listed
  2  usage or input error (an invalid matrix, a bad --today)";

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The matrix directory (default: --matrix, else the embedded one).
    pub dir: Option<PathBuf>,
    /// List `checked` dates more than DAYS days old.
    #[arg(long, value_name = "DAYS", default_value_t = crate::matrix::audit::DEFAULT_OLDER_THAN_DAYS)]
    pub older_than: u32,
    /// Audit as of this day instead of today (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
}

/// A time limit in seconds: more than 0, at most an hour (`nan`, `inf` and negative values are refused
/// when the command line is read, whatever the command does with them).
fn seconds(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("not a number of seconds: {text}"))?;
    if is_time_limit(value) {
        Ok(value)
    } else {
        Err(format!("must be between 0 and 3600 seconds, got {text}"))
    }
}

/// More than 0 and at most an hour: what every time limit flag accepts.
pub(crate) fn is_time_limit(value: f64) -> bool {
    value.is_finite() && value > 0.0 && value <= 3600.0
}
