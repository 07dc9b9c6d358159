//! A resolved set turned into what to type: the preconditions first (reboot, driver, Python, macOS,
//! toolkit, container runtime), then the installs in dependency order — one pip command per index, the
//! container, the source builds with their flags filled in for this GPU and this machine's cores and
//! memory — and last the check that proves it worked.

use crate::facts::arch::runs_on;
use crate::facts::normalize_package;
use crate::matrix::releases::{Accelerator, Build, Method, Releases};
use crate::matrix::Matrix;
use crate::version::ToolVersion;

use super::machine::{best_arch, Target};
use super::resolve::{
    driver_need, is_apple_silicon, python_minors, shown_version, spec_words, unmet_text, Choice,
    Unmet,
};
use super::{Installer, Precondition, Step};

pub(crate) struct Made {
    pub python_need: Option<String>,
    pub preconditions: Vec<Precondition>,
    pub steps: Vec<Step>,
    pub notes: Vec<String>,
}

const NVIDIA_DRIVERS: &str = "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html — Table 3: the minimum driver for each CUDA release";
const REBOOT_SOURCE: &str = "nvidia-smi 'Failed to initialize NVML: Driver/library version mismatch': the driver's libraries were updated while the old kernel module is still loaded (https://github.com/tinygrad/open-gpu-kernel-modules/issues/47)";

pub(crate) fn make(
    choices: &[Choice],
    target: &Target,
    releases: &Releases,
    installer: Installer,
    matrix: &Matrix,
) -> Made {
    let ordered = dependency_order(choices);
    let mut made = Made {
        python_need: None,
        preconditions: Vec::new(),
        steps: Vec::new(),
        notes: Vec::new(),
    };
    let pip_specs: Vec<&str> = ordered
        .iter()
        .filter(|c| c.build.method == Method::Pip || c.build.python.is_some())
        .filter_map(|c| c.build.python_text.as_deref())
        .collect();
    let python_ok = common_python(&pip_specs);
    made.python_need = python_ok
        .as_ref()
        .map(|v| python_range_words(v))
        .filter(|w| !w.is_empty());
    preconditions(&ordered, target, releases, &python_ok, &mut made);
    installs(&ordered, target, installer, &mut made);
    check(&ordered, matrix, target, &mut made);
    notes(&ordered, &mut made);
    made
}

/// Dependencies before what depends on them, otherwise the resolver's order.
fn dependency_order<'a, 'm>(choices: &'a [Choice<'m>]) -> Vec<&'a Choice<'m>> {
    let mut out: Vec<&Choice> = Vec::new();
    let mut left: Vec<&Choice> = choices.iter().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|c| {
            c.build.requires.iter().all(|p| {
                out.iter().any(|o| o.project.id == p.project)
                    || !left.iter().any(|l| l.project.id == p.project)
            })
        });
        let i = ready.unwrap_or(0);
        out.push(left.remove(i));
    }
    out
}

/// The Python minor versions every pip build allows.
fn common_python(specs: &[&str]) -> Option<Vec<String>> {
    if specs.is_empty() {
        return None;
    }
    let mut allowed: Vec<String> = python_minors(specs[0]);
    for s in &specs[1..] {
        let these = python_minors(s);
        allowed.retain(|v| these.contains(v));
    }
    Some(allowed)
}

fn python_range_words(minors: &[String]) -> String {
    match (minors.first(), minors.last()) {
        (Some(a), Some(b)) if a == b => a.clone(),
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => String::new(),
    }
}

/// The Python to create an environment with: 3.12 where allowed (the one every current wheel has),
/// else the nearest allowed.
fn recommended_python(minors: &[String]) -> Option<String> {
    ["3.12", "3.13", "3.11", "3.14", "3.10", "3.15", "3.9"]
        .iter()
        .find(|v| minors.iter().any(|m| m == *v))
        .map(|v| v.to_string())
}

fn preconditions(
    ordered: &[&Choice],
    target: &Target,
    releases: &Releases,
    python_ok: &Option<Vec<String>>,
    made: &mut Made,
) {
    let uses_nvidia = ordered
        .iter()
        .any(|c| target.accelerator_of(c.build) == Accelerator::Cuda);
    if let (Some(said), true) = (&target.reboot_pending, uses_nvidia) {
        push_pre(
            made,
            "reboot",
            "the loaded NVIDIA kernel module to match the installed driver".into(),
            format!("nvidia-smi: {said}"),
            "sudo reboot   (or, with no process using the GPU: sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia)".into(),
            "a driver update replaced the libraries, and the old kernel module is still loaded: nothing CUDA works until they match".into(),
            REBOOT_SOURCE.into(),
        );
    }
    let unmet: Vec<(&Choice, &Unmet)> = ordered
        .iter()
        .flat_map(|c| c.fit.unmet.iter().map(move |u| (*c, u)))
        .collect();
    // The driver: the strictest need of any chosen build.
    let driver = unmet
        .iter()
        .filter_map(|(c, u)| match u {
            Unmet::Driver { cuda, min_driver } => Some((c, cuda, min_driver)),
            _ => None,
        })
        .max_by(|a, b| {
            let floor = |x: &Option<ToolVersion>| {
                x.as_ref()
                    .and_then(|c| releases.cuda_family_floor(c.major()))
                    .map(|f| f.driver_linux.clone())
            };
            (floor(a.1), a.2.clone()).cmp(&(floor(b.1), b.2.clone()))
        });
    if let Some((c, cuda, min_driver)) = driver {
        let need = driver_need(cuda.as_ref(), min_driver.as_ref(), releases);
        let have = match (&target.driver, &target.driver_cuda) {
            (Some(d), Some(cu)) => format!("driver {d} (CUDA {cu})"),
            (Some(d), None) => format!("driver {d}"),
            _ => "unknown".into(),
        };
        let branch = cuda
            .as_ref()
            .and_then(|c| releases.cuda_family_floor(c.major()))
            .map(|f| f.driver_linux.major())
            .or_else(|| min_driver.as_ref().map(ToolVersion::major))
            .unwrap_or(580);
        let command = if target.wsl {
            format!("Update the NVIDIA driver on Windows (NVIDIA App, or nvidia.com/drivers) to one that supports {}; inside WSL install no Linux driver", need.trim_start_matches("an NVIDIA driver that supports "))
        } else {
            format!("Upgrade the NVIDIA driver to the {branch} branch or newer (Ubuntu: sudo apt install nvidia-driver-{branch}, or sudo ubuntu-drivers install), then reboot")
        };
        push_pre(
            made,
            "driver",
            need.clone(),
            have,
            command,
            format!(
                "{} {} ({}) needs {need}",
                c.project.id,
                shown_version(c.release),
                c.build.variant
            ),
            NVIDIA_DRIVERS.into(),
        );
    }
    if let Some((c, Unmet::Macos { need })) =
        unmet.iter().find(|(_, u)| matches!(u, Unmet::Macos { .. }))
    {
        push_pre(
            made,
            "macos",
            format!("macOS {need} or newer"),
            target
                .macos
                .as_ref()
                .map_or("unknown".into(), |v| format!("macOS {v}")),
            format!(
                "Update macOS to {need} or newer (System Settings → General → Software Update)"
            ),
            format!(
                "{} {} needs macOS {need}",
                c.project.id,
                shown_version(c.release)
            ),
            c.build.source.clone(),
        );
    }
    let needs_python = ordered
        .iter()
        .any(|c| c.build.method == Method::Pip || c.build.python.is_some());
    let python_unmet = unmet
        .iter()
        .find(|(_, u)| matches!(u, Unmet::Python { .. }));
    let foreign = target
        .foreign_python()
        .filter(|_| needs_python && is_apple_silicon(target));
    if python_unmet.is_some() || foreign.is_some() {
        let minors = python_ok.clone().unwrap_or_default();
        let version = recommended_python(&minors).unwrap_or_else(|| "3.12".into());
        let words = python_range_words(&minors);
        let venv = format!("uv venv --python {version} --seed .venv && source .venv/bin/activate");
        let (command, why, source) = if foreign.is_some() {
            (
                format!("Use a native arm64 Python: uv python install {version} (from an arm64 shell: `uname -m` prints arm64), then {venv}"),
                "this Python is an x86_64 build running under Rosetta: it gets Intel wheels, and MLX or PyTorch's MPS cannot use the GPU".to_string(),
                "https://ml-explore.github.io/mlx/build/html/install.html — 'you need to use a native Python' on Apple silicon; python -c \"import platform; print(platform.processor())\" must print arm".to_string(),
            )
        } else if let Some((c, Unmet::Python { spec })) = python_unmet {
            (
                venv,
                format!(
                    "{} {} has wheels for Python {} only",
                    c.project.id,
                    shown_version(c.release),
                    spec_words(spec)
                ),
                c.build.source.clone(),
            )
        } else {
            (venv, String::new(), String::new())
        };
        let have = match (&target.python, target.python_arch) {
            (Some(v), Some(a)) => format!("Python {v} ({})", a.as_str()),
            (Some(v), None) => format!("Python {v}"),
            _ => "unknown".into(),
        };
        push_pre(
            made,
            "python",
            if words.is_empty() {
                format!("a native Python {version}")
            } else {
                format!("a native Python {words}")
            },
            have,
            command,
            why,
            source,
        );
    }
    if let Some((c, u @ Unmet::Nvcc { major })) =
        unmet.iter().find(|(_, u)| matches!(u, Unmet::Nvcc { .. }))
    {
        let torch_cuda = ordered
            .iter()
            .find(|o| o.project.id == "pytorch")
            .and_then(|o| o.build.cuda.clone())
            .or_else(|| c.build.cuda.clone());
        let version = match (major, &torch_cuda) {
            (Some(m), Some(t)) if t.major() == *m => format!("{}.{}", t.major(), t.minor()),
            (Some(m), _) => format!("{m}.0"),
            (None, _) => "13.0".into(),
        };
        push_pre(
            made,
            "toolkit",
            format!("the CUDA {version} toolkit (nvcc)"),
            target
                .nvcc
                .as_ref()
                .map_or("no nvcc".into(), |v| format!("nvcc {v}")),
            format!("Install the CUDA {version} toolkit (NVIDIA's cuda-toolkit-{} package) and use it: export CUDA_HOME=/usr/local/cuda-{version} PATH=/usr/local/cuda-{version}/bin:$PATH", version.replace('.', "-")),
            format!("{} {} ({}) {}", c.project.id, shown_version(c.release), c.build.variant, unmet_text(u, target, &Releases::default())),
            "https://pytorch.org/docs/stable/cpp_extension.html — extensions are compiled with the CUDA toolkit found at CUDA_HOME, whose major version must match torch.version.cuda".into(),
        );
    }
    let images = ordered.iter().any(|c| gpu_container(c, target));
    if images && target.docker_nvidia == Some(false) && !target.wsl {
        push_pre(
            made,
            "container-runtime",
            "Docker with the NVIDIA runtime".into(),
            "Docker without the nvidia runtime".into(),
            "sudo apt-get install -y nvidia-container-toolkit && sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker".into(),
            "`docker run --gpus all` needs the NVIDIA Container Toolkit".into(),
            "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html".into(),
        );
    }
}

fn push_pre(
    made: &mut Made,
    kind: &'static str,
    need: String,
    have: String,
    command: String,
    why: String,
    source: String,
) {
    made.preconditions.push(super::Precondition {
        kind,
        need,
        have,
        source: source.clone(),
    });
    made.steps.push(Step {
        kind,
        command,
        why,
        source,
    });
}

/// A requirement quoted for the shell when it has brackets or comparison signs.
fn quoted(req: &str) -> String {
    // A build may need two distributions (`mlx==0.32.4 mlx-cuda-13==0.32.4` on Windows, where the
    // backend extra is Linux-only): each is its own word.
    if req.contains(' ') {
        return req
            .split_whitespace()
            .map(quoted)
            .collect::<Vec<_>>()
            .join(" ");
    }
    if req.contains(['[', '<', '>', '!', '*']) {
        format!("'{req}'")
    } else {
        req.to_string()
    }
}

/// The distribution name and version a pip requirement pins (`mlx[cuda13]==0.32.4` → mlx, 0.32.4).
fn pinned(req: &str) -> Option<(String, String)> {
    let (name, version) = req.split_once("==")?;
    let name = name.split('[').next().unwrap_or(name);
    Some((normalize_package(name), version.trim().to_string()))
}

/// What is already installed of a requirement: `Same` (nothing to do), `Other` (pip changes it),
/// `Rebuild` (same release, another build: pip would keep it unless forced).
enum Installed {
    Missing,
    Same,
    Rebuild,
    Other,
}

fn installed(req: &str, target: &Target) -> Installed {
    let (Some((name, want)), Some(pkgs)) = (pinned(req), &target.packages) else {
        return Installed::Missing;
    };
    let Some(have) = pkgs.get(&name) else {
        return Installed::Missing;
    };
    let public = |v: &str| v.split('+').next().unwrap_or(v).to_string();
    let have = have.to_string();
    if have == want {
        Installed::Same
    } else if public(&have) == public(&want) {
        Installed::Rebuild
    } else {
        Installed::Other
    }
}

fn installs(ordered: &[&Choice], target: &Target, installer: Installer, made: &mut Made) {
    let pip = match installer {
        Installer::Pip => "pip install",
        Installer::Uv => "uv pip install",
    };
    // Conflicting distributions that are installed go first.
    for c in ordered {
        for other in &c.build.conflicts {
            let present = target
                .packages
                .as_ref()
                .is_some_and(|p| p.contains_key(&normalize_package(other)));
            if present {
                made.steps.push(Step {
                    kind: "uninstall",
                    command: match installer {
                        Installer::Pip => format!("pip uninstall -y {other}"),
                        Installer::Uv => format!("uv pip uninstall {other}"),
                    },
                    why: format!(
                        "{other} and {} install the same module; keep only one",
                        c.build.pip.as_deref().unwrap_or(&c.project.id)
                    ),
                    source: c.build.source.clone(),
                });
            }
        }
    }
    // pip installs grouped by index, in the order their first member is needed.
    struct Group<'a> {
        index: Option<String>,
        flags: Vec<String>,
        members: Vec<&'a Choice<'a>>,
    }
    // Containers, builds and installers come after the pip installs: a source build compiles
    // against what pip installed, and nothing pip installs needs them.
    let mut groups: Vec<Group> = Vec::new();
    let mut others: Vec<&Choice> = Vec::new();
    for c in ordered {
        if c.build.method != Method::Pip {
            others.push(c);
            continue;
        }
        match groups
            .iter_mut()
            .find(|g| g.index == c.build.index && g.flags == c.build.pip_flags)
        {
            Some(g) => g.members.push(c),
            None => groups.push(Group {
                index: c.build.index.clone(),
                flags: c.build.pip_flags.clone(),
                members: vec![c],
            }),
        }
    }
    for g in &groups {
        let mut reqs = Vec::new();
        let mut force = false;
        // A CPU build replacing an installed CUDA one: pip would leave the CUDA wheels (~4 GB for
        // torch 2.15) behind, so the CPU build goes into a fresh environment.
        let mut fresh = false;
        let mut whys = Vec::new();
        let mut sources = Vec::new();
        for c in &g.members {
            let req = c.build.pip.clone().unwrap_or_default();
            let replaces_cuda = c.build.accelerator == Accelerator::Cpu
                && matches!(
                    installed(&req, target),
                    Installed::Rebuild | Installed::Other
                )
                && target
                    .packages
                    .as_ref()
                    .is_some_and(|p| p.keys().any(|n| crate::facts::is_cuda_wheel(n)));
            if replaces_cuda {
                fresh = true;
                reqs.push(quoted(&req));
                whys.push(format!(
                    "{}; in a fresh environment, because installing it over the CUDA build leaves that build's nvidia-* and triton wheels behind (~4 GB for torch 2.15)",
                    why_build(c, target)
                ));
                sources.push(c.build.source.clone());
                continue;
            }
            match installed(&req, target) {
                Installed::Same => {
                    made.notes.push(format!(
                        "{} {} is already installed ({req})",
                        c.project.id,
                        shown_version(c.release)
                    ));
                    continue;
                }
                Installed::Rebuild => force = true,
                Installed::Missing | Installed::Other => {}
            }
            reqs.push(quoted(&req));
            whys.push(why_build(c, target));
            sources.push(c.build.source.clone());
        }
        if reqs.is_empty() {
            continue;
        }
        let mut command = if fresh {
            match installer {
                Installer::Pip => format!(
                    "python3 -m venv .venv-cpu && .venv-cpu/bin/pip install {}",
                    reqs.join(" ")
                ),
                Installer::Uv => format!(
                    "uv venv .venv-cpu && VIRTUAL_ENV=.venv-cpu uv pip install {}",
                    reqs.join(" ")
                ),
            }
        } else {
            format!("{pip} {}", reqs.join(" "))
        };
        if fresh {
            force = false;
        }
        if let Some(index) = &g.index {
            let flag = if index.contains("download.pytorch.org") {
                "--index-url"
            } else {
                "--extra-index-url"
            };
            command.push_str(&format!(" {flag} {index}"));
        }
        for f in &g.flags {
            command.push(' ');
            command.push_str(f);
        }
        if force {
            command.push_str(match installer {
                Installer::Pip => " --force-reinstall",
                Installer::Uv => " --reinstall",
            });
        }
        made.steps.push(Step {
            kind: "pip",
            command,
            why: whys.join("; "),
            source: sources.join(" | "),
        });
    }
    for c in others {
        made.steps.push(other_step(c, target));
    }
}

/// Why this build: what it is, and what covers this GPU.
fn why_build(c: &Choice, target: &Target) -> String {
    let mut text = format!(
        "{} {} ({}",
        c.project.id,
        shown_version(c.release),
        c.build.variant
    );
    if let Some(cuda) = &c.build.cuda {
        text.push_str(&format!(", CUDA {cuda}"));
    }
    text.push(')');
    if let Some(dep) = c.build.requires.first() {
        text.push_str(&format!(", pins {} {}", dep.project, dep.version_text));
    }
    let cc = target.gpu.as_ref().and_then(|g| g.cc.as_ref());
    let accelerator = target.accelerator_of(c.build);
    if let (Accelerator::Cuda, Some(cc)) = (accelerator, cc) {
        let sass = c.build.sass.iter().rev().find(|t| runs_on(**t, cc));
        let ptx = c.build.ptx.iter().rev().find(|t| runs_on(**t, cc));
        if let Some(t) = sass.or(ptx) {
            text.push_str(&format!(
                ", {}_{}{}{} code runs on CC {cc}",
                if t.ptx { "compute" } else { "sm" },
                t.major,
                t.minor,
                if t.specific { "a" } else { "" }
            ));
        }
    }
    match accelerator {
        Accelerator::Metal => text.push_str(", Metal GPU"),
        Accelerator::Cpu => text.push_str(", runs on the CPU"),
        _ => {}
    }
    text
}

fn fill(command: &str, build: &Build, target: &Target) -> String {
    let cc = target.gpu.as_ref().and_then(|g| g.cc.clone());
    let arch = cc
        .as_ref()
        .and_then(|cc| best_arch(&build.arch_choices, cc))
        .map_or("<arch>".to_string(), |a| a.to_string());
    let (cc_text, sm, cmake) = match &cc {
        Some(cc) => {
            let sm = format!("{}{}", cc.major(), cc.minor());
            let cmake = if cc.major() >= 10 {
                format!("{sm}a-real")
            } else {
                format!("{sm}-real")
            };
            (format!("{}.{}", cc.major(), cc.minor()), sm, cmake)
        }
        None => (
            "<compute capability>".into(),
            "<sm>".into(),
            "native".into(),
        ),
    };
    command
        .replace("{arch}", &arch)
        .replace("{max_jobs}", &target.max_jobs().to_string())
        // A C/C++ build (llama.cpp) has no nvcc memory rule: every core.
        .replace(
            "{cores}",
            &target
                .cores
                .map_or_else(|| "$(nproc)".to_string(), |c| c.to_string()),
        )
        .replace("{cc}", &cc_text)
        .replace("{sm}", &sm)
        .replace("{cmake_arch}", &cmake)
}

fn other_step(c: &Choice, target: &Target) -> Step {
    let command = fill(
        c.build.command.as_deref().unwrap_or_default(),
        c.build,
        target,
    );
    let mut why = why_build(c, target);
    if c.build.method == Method::Build {
        let cores = target
            .cores
            .map_or(String::new(), |n| format!("{n} cores, "));
        let memory = target
            .memory_gb
            .map_or(String::new(), |m| format!("{m:.0} GB, "));
        let raw = c.build.command.as_deref().unwrap_or_default();
        let jobs = if raw.contains("{max_jobs}") {
            format!(
                "{} parallel jobs: at most one per 20 GB of memory, as nvcc needs",
                target.max_jobs()
            )
        } else {
            "one job per core".to_string()
        };
        why.push_str(&format!("; compiled here ({cores}{memory}{jobs})"));
        if raw.contains("export PATH") {
            why.push_str(
                "; the last command puts the built programs on PATH in this shell (add build/bin to PATH in your shell profile to keep them there)",
            );
        }
        if let Some(t) = &c.build.build_time {
            why.push_str(&format!("; expected build time: {t}"));
        }
    }
    Step {
        kind: c.build.method.as_str(),
        command,
        why,
        source: c.build.source.clone(),
    }
}

/// A container that uses the NVIDIA GPU: it needs Docker's NVIDIA runtime (a CPU image does not).
fn gpu_container(c: &Choice, target: &Target) -> bool {
    c.build.method == Method::Image && target.accelerator_of(c.build) == Accelerator::Cuda
}

/// The check afterwards: doctor imports what was installed and judges it against this GPU.
fn check(ordered: &[&Choice], matrix: &Matrix, target: &Target, made: &mut Made) {
    let mut ids: Vec<String> = Vec::new();
    let mut images = false;
    for c in ordered.iter().rev() {
        if c.build.method == Method::Image {
            images |= gpu_container(c, target);
            continue;
        }
        let detectable = matrix.software.iter().any(|s| {
            s.id == c.project.id
                && !(s.detect.python.is_empty()
                    && s.detect.binaries.is_empty()
                    && s.detect.libraries.is_empty())
        });
        if detectable && !ids.contains(&c.project.id) {
            ids.push(c.project.id.clone());
        }
    }
    if images {
        ids.push("nvidia-container-toolkit".into());
    }
    if ids.is_empty() {
        return;
    }
    let deep = ordered.iter().any(|c| c.build.method != Method::Image);
    // Installed into a fresh environment: check that one.
    let python =
        if made.steps.iter().any(|s| {
            s.command.contains(".venv-cpu/") || s.command.contains("VIRTUAL_ENV=.venv-cpu")
        }) {
            " --python .venv-cpu/bin/python"
        } else {
            ""
        };
    made.steps.push(Step {
        kind: "check",
        command: format!(
            "mlcompat doctor{}{python} --require {}",
            if deep { " --deep" } else { "" },
            ids.join(",")
        ),
        why: if deep {
            format!(
                "imports each package in its own child Python{}, and exits 1 if any of them fails or is missing",
                if ids.iter().any(|i| i == "pytorch") {
                    ", checks torch's CUDA architectures against this GPU"
                } else {
                    ""
                }
            )
        } else {
            "checks that containers can use the GPU (exits 1 if not)".into()
        },
        source: "docs/commands/doctor.md — mlcompat doctor --deep, and its exit status".into(),
    });
}

fn notes(ordered: &[&Choice], made: &mut Made) {
    for c in ordered {
        for caveat in &c.fit.caveats {
            if !made.notes.contains(caveat) {
                made.notes.push(caveat.clone());
            }
        }
        match (c.build.method, &c.build.index, &c.build.image) {
            (Method::Pip, Some(index), _) => made.notes.push(format!(
                "{} {} ({}) comes from {index}, which mlcompat could not check (release data: its `source:`)",
                c.project.id,
                shown_version(c.release),
                c.build.variant
            )),
            (Method::Image, _, Some(image)) => made.notes.push(format!(
                "the image {image} could not be checked from here (its registry is not reachable)"
            )),
            _ => {}
        }
    }
}
