//! The only orchestration: load the matrix, get facts (probe, file or profile), evaluate, render, and
//! pick the exit code. Findings go to stdout, problems to stderr; a closed pipe ends quietly.

mod workloads;

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use crate::cli::{
    BenchDevice, BenchFormat, BenchWhat, Cli, ColorChoice, Command, DoctorFormat, ListWhat,
    MachineArgs, MatrixCommand, ProbeFlags, ProbeFormat, TableFormat,
};
use crate::error::{read_input, InputError};
use crate::facts::load::facts_from_text;
use crate::facts::Facts;
use crate::matrix::{self, Matrix};
use crate::probe::{self, ProbeOptions};
use crate::render::{self, Grid, Style};

/// Runs the command and returns the process exit status.
pub fn main(cli: Cli) -> u8 {
    let stdout = io::stdout();
    let style = style_for(&cli, stdout.is_terminal());
    let buffered = io::BufWriter::new(stdout.lock());
    let mut out: Box<dyn Write> = if style.ascii {
        Box::new(render::AsciiWriter::new(buffered))
    } else {
        Box::new(buffered)
    };
    let result = run(&cli, style, &mut out)
        .and_then(|code| out.flush().map(|()| code).map_err(AppError::Output));
    match result {
        Ok(code) => code,
        Err(AppError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(AppError::Output(e)) => {
            eprintln!("error: writing output: {e}");
            2
        }
        Err(AppError::Input(e)) => {
            for line in e.to_string().lines() {
                if style.ascii {
                    eprintln!("error: {}", render::to_ascii(line));
                } else {
                    eprintln!("error: {line}");
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
            let matrix = load_matrix(cli)?;
            let required = software_ids(&matrix, &args.require, "--require")?;
            let facts = facts_for(&matrix, &args.machine)?;
            let request = crate::eval::Request {
                required,
                strict: args.strict,
            };
            let report = crate::eval::evaluate_request(&matrix, &facts, &request);
            match args.format {
                DoctorFormat::Table => render::doctor_text(&report, style, out)?,
                DoctorFormat::Json => render::doctor_json(&report, out)?,
                DoctorFormat::Markdown => render::doctor_markdown(&report, style, out)?,
            }
            Ok(report.exit_code())
        }
        Command::Table(args) => {
            let matrix = load_matrix(cli)?;
            let mut reports = Vec::new();
            for id in &args.profiles {
                let profile = matrix.profile(id.trim())?;
                reports.push(crate::eval::evaluate(&matrix, &profile.facts));
            }
            let grid = Grid::from_reports(&reports);
            match args.format {
                TableFormat::Table => render::grid_text(&grid, style, out)?,
                TableFormat::Markdown => render::grid_markdown(&grid, style, out)?,
                TableFormat::Html => render::grid_html(&grid, out)?,
                TableFormat::Json => render::grid_json(&grid, out)?,
            }
            Ok(0)
        }
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
        Command::Check(args) => workloads::check(&load_matrix(cli)?, args, style, out),
        Command::Estimate(args) => workloads::estimate_cmd(&load_matrix(cli)?, args, style, out),
        Command::Compare(args) => workloads::compare(&load_matrix(cli)?, args, style, out),
        Command::Matrix {
            command: MatrixCommand::Calibration,
        } => workloads::calibration(&load_matrix(cli)?, out),
        Command::Bench(args) => {
            let py =
                crate::probe::python::probe(args.python.as_deref(), Duration::from_secs(5), true);
            if args.compile_only {
                let arch = args.arch.clone().unwrap_or_default();
                if args.what != BenchWhat::Fp4 {
                    return Err(
                        InputError::Usage("--compile-only applies to `bench fp4`".into()).into(),
                    );
                }
                let report =
                    crate::bench::compile_only(&arch, &py.sys_path).map_err(InputError::Usage)?;
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
            // The GPU as NVML reports it, matched to a reference profile by name for its datasheet figures.
            let nvml_gpu = crate::probe::nvidia::read().ok().and_then(|r| {
                r.devices
                    .first()
                    .map(|d| crate::probe::nvidia::to_gpu(d, host.memory_gb))
            });
            let matrix = load_matrix(cli)?;
            let datasheet = nvml_gpu.as_ref().and_then(|g| {
                matrix
                    .profiles
                    .iter()
                    .filter_map(|p| p.facts.primary_gpu())
                    .find(|pg| pg.name.eq_ignore_ascii_case(&g.name))
                    .cloned()
            });
            let ctx = crate::bench::Context {
                unified_memory: host.os == Some(crate::facts::Os::Macos)
                    || nvml_gpu
                        .as_ref()
                        .and_then(|g| g.unified_memory)
                        .unwrap_or(false),
                memory_bytes: host.memory_gb.map(|g| (g * 1e9) as u64),
                python_dirs: py.sys_path,
                peak_bandwidth_gbs: datasheet
                    .as_ref()
                    .and_then(|g| g.bandwidth_gbs)
                    .or(nvml_gpu.as_ref().and_then(|g| g.bandwidth_gbs)),
                peak_fp4_dense_tflops: datasheet
                    .as_ref()
                    .and_then(|g| g.tflops.as_ref())
                    .and_then(|t| t.fp4_dense),
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
            let report =
                crate::bench::run(what, device, &ctx, &mut |line| eprintln!("bench: {line}…"));
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
                ListWhat::Software => {
                    for sw in &matrix.software {
                        writeln!(
                            out,
                            "{:<26} {:<32} {}",
                            sw.id,
                            sw.name,
                            matrix.category_title(&sw.category)
                        )?;
                    }
                }
                ListWhat::Workloads => {
                    for w in &matrix.workloads.workloads {
                        writeln!(out, "{:<18} {}", w.id, w.name)?;
                    }
                }
                ListWhat::Profiles => {
                    let rows: Vec<(String, String, String)> = matrix
                        .profiles
                        .iter()
                        .map(|p| {
                            let m = crate::eval::machine_summary(&p.facts);
                            (p.id.clone(), m.name, m.gpu.unwrap_or_default())
                        })
                        .collect();
                    let id_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
                    let name_w = rows
                        .iter()
                        .map(|r| render::display_width(&r.1))
                        .max()
                        .unwrap_or(0);
                    for (id, name, gpu) in rows {
                        let pad = name_w.saturating_sub(render::display_width(&name));
                        writeln!(out, "{id:<id_w$}  {name}{}  {gpu}", " ".repeat(pad))?;
                    }
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
                eprintln!("warning: {w}");
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
                "matrix ok: {} software rows, {rules} rules, {} profiles, {} workloads, {} models, {} engines, {} calibration rows, {} projects with {builds} release builds",
                matrix.software.len(),
                matrix.profiles.len(),
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
    ids.iter()
        .map(|id| id.trim())
        .filter(|id| !id.is_empty())
        .map(|id| {
            matrix
                .software
                .iter()
                .find(|s| s.id == id || s.name.eq_ignore_ascii_case(id))
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

fn load_matrix(cli: &Cli) -> Result<Matrix, InputError> {
    match &cli.matrix {
        Some(dir) => matrix::from_dir(dir),
        None => matrix::embedded(),
    }
}

pub(crate) fn facts_for(matrix: &Matrix, args: &MachineArgs) -> Result<Facts, InputError> {
    if let Some(id) = &args.profile {
        return Ok(matrix.profile(id)?.facts.clone());
    }
    if let Some(path) = &args.facts {
        let text = read_input(path)?;
        return facts_from_text(&path.display().to_string(), &text);
    }
    let mut options = probe_options(&args.probe)?;
    options.imports = imports_of(matrix);
    Ok(probe::probe(&options))
}

/// The modules `--deep` imports: each Python distribution the matrix detects that names its module.
pub(crate) fn imports_of(matrix: &Matrix) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for sw in &matrix.software {
        for (dist, module) in &sw.detect.imports {
            if !out.iter().any(|(d, m)| d == dist && m == module) {
                out.push((dist.clone(), module.clone()));
            }
        }
    }
    out
}

fn probe_options(flags: &ProbeFlags) -> Result<ProbeOptions, InputError> {
    let seconds = |name: &str, value: f64| {
        if value.is_finite() && value > 0.0 && value <= 3600.0 {
            Ok(Duration::from_secs_f64(value))
        } else {
            Err(InputError::Usage(format!(
                "{name} must be between 0 and 3600 seconds, got {value}"
            )))
        }
    };
    Ok(ProbeOptions {
        timeout: seconds("--timeout", flags.timeout)?,
        import_timeout: seconds("--import-timeout", flags.import_timeout)?,
        python: flags.python.clone(),
        deep: flags.deep,
        use_cache: !flags.no_cache && std::env::var_os("MLCOMPAT_NO_CACHE").is_none(),
        imports: Vec::new(),
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
    Style { color, ascii }
}
