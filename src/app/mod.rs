//! The only orchestration: load the matrix, get facts (probe, file or profile), evaluate, render, and
//! pick the exit code. Findings go to stdout, problems to stderr; a closed pipe ends quietly.

mod about;
pub(crate) mod explain;
mod fleet;

pub use fleet::read_facts_file;
mod workloads;

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use crate::cli::{
    AuditArgs, AuditFormat, BenchDevice, BenchFormat, BenchWhat, Cli, ColorChoice, Command,
    DoctorFormat, ListWhat, MachineArgs, MatrixCommand, ProbeFlags, ProbeFormat,
};
use crate::error::InputError;
use crate::facts::Facts;
use crate::matrix::{self, Matrix};
use crate::probe::{self, ProbeOptions};
use crate::render::{self, Style};

/// Runs the command and returns the process exit status.
pub fn main(cli: Cli) -> u8 {
    // Ctrl-C, `timeout` or a cancelled job end the programs mlcompat is running along with it.
    #[cfg(unix)]
    crate::exec::interrupt::install();
    let stdout = io::stdout();
    let style = style_for(&cli, stdout.is_terminal());
    let buffered = io::BufWriter::new(stdout.lock());
    let inner: Box<dyn Write> = if style.ascii {
        Box::new(render::AsciiWriter::new(buffered))
    } else {
        Box::new(buffered)
    };
    // The one choke point for stdout: untrusted text cannot reach the terminal raw; under --ascii what
    // remains is transliterated to ASCII.
    let mut out = crate::terminal::SafeWriter::new(inner, crate::terminal::style_sequences(style));
    let result = run(&cli, style, &mut out)
        .and_then(|code| out.flush().map(|()| code).map_err(AppError::Output));
    match result {
        Ok(code) => code,
        Err(AppError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(AppError::Output(e)) => {
            crate::terminal::to_stderr(&format!("error: writing output: {e}"));
            2
        }
        Err(AppError::Input(e)) => {
            for line in e.to_string().lines() {
                let line = crate::terminal::escape(line);
                if style.ascii {
                    crate::terminal::to_stderr(&format!("error: {}", render::to_ascii(&line)));
                } else {
                    crate::terminal::to_stderr(&format!("error: {line}"));
                }
            }
            e.exit_code()
        }
    }
}

#[derive(Debug)]
pub(crate) enum AppError {
    Input(InputError),
    Output(io::Error),
}

impl From<InputError> for AppError {
    fn from(e: InputError) -> Self {
        AppError::Input(e)
    }
}

impl From<io::Error> for AppError {
    fn from(e: io::Error) -> Self {
        AppError::Output(e)
    }
}

fn run(cli: &Cli, style: Style, out: &mut dyn Write) -> Result<u8, AppError> {
    match &cli.command {
        Command::Doctor(args) => {
            let started = (std::time::SystemTime::now(), std::time::Instant::now());
            let matrix = load_matrix(cli)?;
            let required = software_ids(&matrix, &args.require, "--require")?;
            let nfd_expiry = nfd_expiry(args)?;
            let facts = facts_for(&matrix, &args.machine)?;
            let request = crate::eval::Request {
                required,
                strict: args.strict,
            };
            let report = crate::eval::evaluate_request(&matrix, &facts, &request);
            match args.format {
                DoctorFormat::Table => render::doctor_text(&report, style, args.all, out)?,
                DoctorFormat::Json => render::doctor_json(&report, out)?,
                DoctorFormat::Markdown => render::doctor_markdown(&report, style, out)?,
                DoctorFormat::Nfd => {
                    let file = render::nfd_file(&report, &facts, &args.nfd_prefix, &nfd_expiry);
                    if file.len() > render::NFD_MAX_FILE_BYTES {
                        return Err(InputError::Usage(format!(
                            "the feature file would be {} bytes, over Node Feature Discovery's limit of {} (a matrix with too many rows)",
                            file.len(),
                            render::NFD_MAX_FILE_BYTES
                        ))
                        .into());
                    }
                    out.write_all(file.as_bytes())?;
                }
                DoctorFormat::Prometheus => {
                    out.write_all(render::prometheus_text(&report, &facts).as_bytes())?
                }
                DoctorFormat::Junit => {
                    let run = render::RunTime {
                        started_unix_s: started
                            .0
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs()),
                        seconds: started.1.elapsed().as_secs_f64(),
                    };
                    out.write_all(render::junit_xml(&report, run).as_bytes())?
                }
            }
            Ok(report.exit_code())
        }
        Command::Table(args) => fleet::table(&load_matrix(cli)?, args, style, out),
        Command::Completions { shell } => about::completions(*shell, &load_matrix(cli)?, out),
        Command::Man { dir } => about::man(dir.as_deref(), out),
        Command::Schema { name } => about::schema_cmd(name, out),
        Command::Probe(args) => {
            let mut options = probe_options(&args.probe)?;
            options.imports = imports_of(&load_matrix(cli)?);
            let facts = probe::probe(&options);
            match args.format {
                ProbeFormat::Json => {
                    serde_json::to_writer_pretty(&mut *out, &facts).map_err(io::Error::from)?;
                    writeln!(out)?;
                }
                ProbeFormat::Yaml => {
                    let text = serde_yaml::to_string(&facts)
                        .map_err(|e| io::Error::other(e.to_string()))?;
                    out.write_all(text.as_bytes())?;
                }
            }
            Ok(0)
        }
        Command::InstallPlan(args) => install_plan(&load_matrix(cli)?, args, style, out),
        Command::Explain(args) => explain::explain(&load_matrix(cli)?, args, style, out),
        Command::Check(args) => workloads::check(&load_matrix(cli)?, args, style, out),
        Command::Estimate(args) => workloads::estimate_cmd(&load_matrix(cli)?, args, style, out),
        Command::Compare(args) => workloads::compare(&load_matrix(cli)?, args, style, out),
        Command::Matrix {
            command: MatrixCommand::Calibration,
        } => workloads::calibration(&load_matrix(cli)?, out),
        Command::Matrix {
            command: MatrixCommand::Audit(args),
        } => audit(cli, args, out),
        Command::Bench(args) => {
            if let Some(job) = &args.gpu_worker {
                return gpu_worker(job, args, out);
            }
            let use_cache = !args.no_cache && std::env::var_os("MLCOMPAT_NO_CACHE").is_none();
            let explicit = args
                .python
                .as_deref()
                .map(crate::probe::python::resolve_explicit)
                .transpose()
                .map_err(InputError::Usage)?;
            // Python is only asked where NVRTC may come from (its nvidia-cuda-nvrtc wheel): not with
            // --device cpu, where no kernel runs.
            let cpu_only = args.device == BenchDevice::Cpu;
            let py_dirs = if cpu_only && !args.compile_only {
                Vec::new()
            } else {
                crate::probe::python::probe(explicit.as_deref(), Duration::from_secs(5), use_cache)
                    .sys_path
            };
            if args.compile_only {
                let arch = args.arch.clone().unwrap_or_default();
                if args.what != BenchWhat::Fp4 {
                    return Err(
                        InputError::Usage("--compile-only applies to `bench fp4`".into()).into(),
                    );
                }
                let report =
                    crate::bench::compile_only(&arch, &py_dirs).map_err(InputError::Usage)?;
                match args.format {
                    BenchFormat::Json => {
                        serde_json::to_writer_pretty(&mut *out, &report)
                            .map_err(io::Error::from)?;
                        writeln!(out)?;
                    }
                    BenchFormat::Table => render::compile_text(&report, out)?,
                }
                return Ok(0);
            }
            let host = crate::probe::host::probe(Duration::from_secs(5), &mut Vec::new());
            // NVML's GPUs, with datasheet figures from the GPU table by name (the table's names are
            // NVML's); the bench matches the CUDA device it measures to them by UUID.
            let nvml_gpus: Vec<crate::facts::Gpu> = crate::probe::nvidia::read()
                .map(|r| {
                    r.devices
                        .iter()
                        .map(|d| crate::probe::nvidia::to_gpu(d, host.memory_gb))
                        .collect()
                })
                .unwrap_or_default();
            let matrix = load_matrix(cli)?;
            let datasheets: Vec<crate::bench::KnownGpu> = matrix
                .gpus
                .gpus
                .iter()
                .filter(|spec| spec.bandwidth_gbs.is_some())
                .flat_map(|spec| {
                    spec.names
                        .iter()
                        .map(|name| crate::bench::KnownGpu::from_table(spec, name))
                })
                .collect();
            let gpu_timeout = seconds("--gpu-timeout", args.gpu_timeout)?;
            let ctx = crate::bench::Context {
                unified_memory: host.os == Some(crate::facts::Os::Macos)
                    || nvml_gpus.iter().any(|g| g.unified_memory == Some(true)),
                memory_bytes: host
                    .memory_gb
                    .map(|g| (g * crate::units::BYTES_PER_GB) as u64),
                python_dirs: py_dirs,
                gpus: nvml_gpus
                    .iter()
                    .map(|g| crate::bench::KnownGpu::from_nvml(g).with_datasheet(&datasheets))
                    .collect(),
                datasheets,
                gpu_timeout,
                ..crate::bench::Context::new(std::env::current_exe().ok())
            };
            let what = match args.what {
                BenchWhat::Bandwidth => crate::bench::What::Bandwidth,
                BenchWhat::Fp4 => crate::bench::What::Fp4,
                BenchWhat::All => crate::bench::What::All,
            };
            let device = match args.device {
                BenchDevice::Cpu => crate::bench::Device::Cpu,
                BenchDevice::Gpu => crate::bench::Device::Gpu,
                BenchDevice::Auto => crate::bench::Device::Auto,
            };
            let report = crate::bench::run(what, device, &ctx, &mut |line| {
                crate::terminal::to_stderr(&format!("bench: {line}…"))
            });
            match args.format {
                BenchFormat::Json => {
                    serde_json::to_writer_pretty(&mut *out, &report).map_err(io::Error::from)?;
                    writeln!(out)?;
                }
                BenchFormat::Table => render::bench_text(&report, style, out)?,
            }
            Ok(0)
        }
        Command::List { what } => {
            let matrix = load_matrix(cli)?;
            match what {
                ListWhat::Models | ListWhat::Engines | ListWhat::Quants => {
                    return workloads::list(&matrix, *what, style.width, out);
                }
                ListWhat::Software => {
                    let rows: Vec<(String, String, String)> = matrix
                        .software
                        .iter()
                        .map(|sw| {
                            (
                                sw.id.clone(),
                                sw.name.clone(),
                                matrix.category_title(&sw.category).to_string(),
                            )
                        })
                        .collect();
                    render::three_columns(&rows, style.width, out)?;
                }
                ListWhat::Workloads => {
                    let rows: Vec<(String, String, String)> = matrix
                        .workloads
                        .workloads
                        .iter()
                        .map(|w| (w.id.clone(), w.name.clone(), String::new()))
                        .collect();
                    render::three_columns(&rows, style.width, out)?;
                }
                ListWhat::Profiles => {
                    let rows: Vec<(String, String, String)> = matrix
                        .profiles
                        .iter()
                        .map(|p| {
                            let m = crate::report::machine_summary(&p.facts);
                            (p.id.clone(), m.name, m.gpu.unwrap_or_default())
                        })
                        .collect();
                    render::three_columns(&rows, style.width, out)?;
                }
            }
            Ok(0)
        }
        Command::Matrix {
            command: MatrixCommand::Validate { dir },
        } => {
            let matrix = match dir.as_ref().or(cli.matrix.as_ref()) {
                Some(dir) => matrix::from_dir(dir)?,
                None => matrix::embedded()?,
            };
            for w in &matrix.warnings {
                crate::terminal::to_stderr(&format!("warning: {w}"));
            }
            let rules: usize = matrix.software.iter().map(|s| s.rules.len()).sum();
            let builds: usize = matrix
                .releases
                .projects
                .iter()
                .flat_map(|p| p.releases.iter())
                .map(|r| r.builds.len())
                .sum();
            writeln!(
                out,
                "matrix ok: {} software rows, {rules} rules, {} profiles, {} GPUs and {} GPU series, {} workloads, {} models, {} engines, {} calibration rows, {} projects with {builds} release builds",
                matrix.software.len(),
                matrix.profiles.len(),
                matrix.gpus.gpus.len(),
                matrix.gpus.series.len(),
                matrix.workloads.workloads.len(),
                matrix.workloads.models.len(),
                matrix.workloads.engines.len(),
                matrix.workloads.calibration.len(),
                matrix.releases.projects.len()
            )?;
            Ok(0)
        }
    }
}

/// `install-plan`: ids checked against the matrix, the machine's facts, the plan (pure), rendered.
fn install_plan(
    matrix: &Matrix,
    args: &crate::cli::PlanArgs,
    style: Style,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    let mut wanted = Vec::new();
    if args
        .ids
        .iter()
        .flat_map(|a| a.split(','))
        .all(|t| t.trim().is_empty())
    {
        return Err(InputError::Usage(
            "install-plan: no software named (`mlcompat list software` lists them)".into(),
        )
        .into());
    }
    for text in args.ids.iter().flat_map(|a| a.split(',')) {
        if text.trim().is_empty() {
            continue;
        }
        let mut w = crate::plan::Wanted::parse(text).map_err(InputError::Usage)?;
        w.id = software_ids(matrix, std::slice::from_ref(&w.id), "install-plan")?
            .pop()
            .unwrap_or_default();
        wanted.push(w);
    }
    let facts = facts_for(matrix, &args.machine)?;
    let request = crate::plan::Request {
        wanted,
        installer: match args.installer {
            crate::cli::InstallerChoice::Pip => crate::plan::Installer::Pip,
            crate::cli::InstallerChoice::Uv => crate::plan::Installer::Uv,
        },
    };
    let plan = crate::plan::plan(matrix, &facts, &request);
    match args.format {
        crate::cli::ReportFormat::Table => render::plan_text(&plan, style, out)?,
        crate::cli::ReportFormat::Json => render::plan_json(&plan, out)?,
    }
    Ok(u8::from(!plan.possible))
}

/// Software ids given on the command line, each checked against the matrix.
fn software_ids(matrix: &Matrix, ids: &[String], flag: &str) -> Result<Vec<String>, InputError> {
    // `--require ''` names nothing: an error, not a gate that always passes.
    if !ids.is_empty() && ids.iter().all(|id| id.trim().is_empty()) {
        return Err(InputError::Usage(format!(
            "{flag}: no software named (`mlcompat list software` lists them)"
        )));
    }
    ids.iter()
        .map(|id| id.trim())
        .filter(|id| !id.is_empty())
        .map(|id| {
            matrix
                .software_named(id)
                .map(|s| s.id.clone())
                .ok_or_else(|| {
                    let known: Vec<&str> = matrix.software.iter().map(|s| s.id.as_str()).collect();
                    InputError::Usage(format!(
                        "{flag}: unknown software `{id}` (known: {})",
                        known.join(", ")
                    ))
                })
        })
        .collect()
}

/// `matrix audit`: the findings as of today (or `--today`), exit 1 when there are any.
fn audit(cli: &Cli, args: &AuditArgs, out: &mut dyn Write) -> Result<u8, AppError> {
    let today = match &args.today {
        Some(text) => {
            matrix::Day::parse(text).map_err(|why| InputError::Usage(format!("--today: {why}")))?
        }
        None => matrix::Day::today(),
    };
    let files = match args.dir.as_ref().or(cli.matrix.as_ref()) {
        Some(dir) => matrix::from_dir(dir)?,
        None => matrix::embedded()?,
    };
    let options = matrix::audit::AuditOptions {
        today,
        older_than_days: args.older_than,
    };
    let mut findings = matrix::audit::audit(&files, options);
    findings.extend(crate::plan::agreement::audit_findings(&files));
    match args.format {
        AuditFormat::Text => render::audit_text(&findings, options, out)?,
        AuditFormat::Json => render::audit_json(&findings, options, out)?,
    }
    Ok(u8::from(!findings.is_empty()))
}

/// `bench --gpu-worker JOB`: one GPU job in this (child) process, its report as one JSON line.
fn gpu_worker(
    job: &str,
    args: &crate::cli::BenchArgs,
    out: &mut dyn Write,
) -> Result<u8, AppError> {
    use crate::gpu::worker;
    let job = worker::Job::from_name(job)
        .ok_or_else(|| InputError::Usage(format!("--gpu-worker: unknown job `{job}`")))?;
    worker::install_panic_line();
    let report = worker::serve(job, args.gpu_ordinal, &args.nvrtc);
    serde_json::to_writer(&mut *out, &report).map_err(io::Error::from)?;
    writeln!(out)?;
    Ok(0)
}

fn load_matrix(cli: &Cli) -> Result<Matrix, InputError> {
    match &cli.matrix {
        Some(dir) => matrix::from_dir(dir),
        None => matrix::embedded(),
    }
}

/// The machine's facts, completed (`matrix::complete`): what every command reads. Profiles are completed
/// when the matrix loads, files and live probes here.
pub(crate) fn facts_for(matrix: &Matrix, args: &MachineArgs) -> Result<Facts, InputError> {
    if let Some(id) = &args.profile {
        return Ok(matrix.profile(id)?.facts.clone());
    }
    if let Some(path) = &args.facts {
        return fleet::read_facts_file(matrix, path);
    }
    let mut options = probe_options(&args.probe)?;
    options.imports = imports_of(matrix);
    let mut facts = probe::probe(&options);
    crate::matrix::complete::complete(matrix, &mut facts);
    Ok(facts)
}

/// `--format nfd`: the prefix checked, and when the labels expire (now + `--nfd-expiry` hours), RFC 3339.
fn nfd_expiry(args: &crate::cli::DoctorArgs) -> Result<String, InputError> {
    if args.format != DoctorFormat::Nfd {
        return Ok(String::new());
    }
    render::check_nfd_prefix(&args.nfd_prefix).map_err(InputError::Usage)?;
    let hours = args.nfd_expiry;
    if !(hours.is_finite() && hours > 0.0 && hours <= 87_600.0) {
        return Err(InputError::Usage(format!(
            "--nfd-expiry must be between 0 and 87600 hours, got {hours}"
        )));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(render::rfc3339_utc(now + (hours * 3600.0) as u64))
}

/// The imports `--deep` runs: (distribution, statement) for each Python distribution the matrix detects
/// that names one (`from vllm import LLM`).
pub(crate) fn imports_of(matrix: &Matrix) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for sw in &matrix.software {
        for (dist, statement) in &sw.detect.imports {
            if !out.iter().any(|(d, m)| d == dist && m == statement) {
                out.push((dist.clone(), statement.clone()));
            }
        }
    }
    out
}

/// A time limit flag as a duration. The command line's parser refuses what is out of range; flags built
/// in code meet the same rule here.
fn seconds(name: &str, value: f64) -> Result<Duration, InputError> {
    if crate::cli::is_time_limit(value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(InputError::Usage(format!(
            "{name} must be between 0 and 3600 seconds, got {value}"
        )))
    }
}

fn probe_options(flags: &ProbeFlags) -> Result<ProbeOptions, InputError> {
    // A --python that names nothing is a usage error, not a fact about the machine.
    let python = flags
        .python
        .as_deref()
        .map(crate::probe::python::resolve_explicit)
        .transpose()
        .map_err(InputError::Usage)?;
    Ok(ProbeOptions {
        timeout: seconds("--timeout", flags.timeout)?,
        import_timeout: seconds("--import-timeout", flags.import_timeout)?,
        python,
        deep: flags.deep,
        use_cache: !flags.no_cache && std::env::var_os("MLCOMPAT_NO_CACHE").is_none(),
        imports: Vec::new(),
        worker: std::env::current_exe().ok(),
        gpu_timeout: seconds("--gpu-timeout", flags.gpu_timeout)?,
    })
}

/// Color: --color, then NO_COLOR / CLICOLOR_FORCE / TERM=dumb, then whether stdout is a terminal.
/// Emoji unless --ascii, or a terminal that cannot show them (TERM=dumb, a non-UTF-8 locale).
fn style_for(cli: &Cli, is_terminal: bool) -> Style {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let dumb = env("TERM").as_deref() == Some("dumb");
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env("NO_COLOR").is_some() {
                false
            } else if env("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else {
                is_terminal && !dumb
            }
        }
    };
    let locale = env("LC_ALL")
        .or_else(|| env("LC_CTYPE"))
        .or_else(|| env("LANG"));
    let utf8 = locale.is_none_or(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("utf-8") || l.contains("utf8")
    });
    let ascii = cli.ascii || (is_terminal && (dumb || !utf8));
    let (width, width_known) = terminal_width(is_terminal, env("COLUMNS").as_deref());
    Style {
        color,
        ascii,
        width,
        width_known,
    }
}

/// The columns text must fit, and whether they are known: `COLUMNS` when it is a number, else the
/// terminal's own width when stdout is one, else [`crate::render::PIPED_WIDTH`] (not known); never below
/// [`crate::render::MIN_WIDTH`].
fn terminal_width(is_terminal: bool, columns: Option<&str>) -> (usize, bool) {
    use crate::render::{MIN_WIDTH, PIPED_WIDTH};
    let from_env = columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    let known = from_env.or_else(|| if is_terminal { stdout_columns() } else { None });
    (
        known.unwrap_or(PIPED_WIDTH).clamp(MIN_WIDTH, 1000),
        known.is_some(),
    )
}

/// The width of the terminal on stdout (TIOCGWINSZ), when it says.
#[cfg(unix)]
fn stdout_columns() -> Option<usize> {
    rustix::termios::tcgetwinsize(std::io::stdout())
        .ok()
        .map(|w| usize::from(w.ws_col))
        .filter(|&c| c > 0)
}

#[cfg(not(unix))]
fn stdout_columns() -> Option<usize> {
    None
}
