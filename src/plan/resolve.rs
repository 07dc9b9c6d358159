//! The resolver: picks, for every project asked for and every project those pin, one release and one
//! build so that each build fits this machine and every pin between them holds. Candidates are tried
//! in order of preference — builds that use this machine's GPU before generic GPU paths before the
//! CPU, then newest release first, then the release file's own order — and the search backtracks, so
//! the first complete answer is the newest consistent set.
//!
//! A build fits or misses in stages (platform, accelerator, GPU architecture, glibc, macOS, driver,
//! Python, nvcc). The first four are the machine itself. The last four can be changed by the user —
//! upgrade the driver, use another Python — so a `Relaxed` search accepts them and records them as
//! preconditions, while a `Strict` one refuses them.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::str::FromStr;

use crate::facts::arch::{nvcc_builds_for, runs_on};
use crate::facts::{Os, Vendor};
use crate::matrix::releases::{Accelerator, Build, Method, Pin, Project, Release, Releases};
use crate::version::ToolVersion;

use super::machine::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The machine as it is.
    Strict,
    /// Driver, Python, macOS and nvcc may be changed first (preconditions).
    Relaxed,
}

/// One chosen build.
#[derive(Debug, Clone)]
pub(crate) struct Choice<'m> {
    pub project: &'m Project,
    pub release: &'m Release,
    pub build: &'m Build,
    pub fit: Fit,
}

/// How a build fits: what the user should know, and what must change first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fit {
    pub caveats: Vec<String>,
    pub unmet: Vec<Unmet>,
}

/// Something this machine must change before the build works.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unmet {
    /// A driver that supports this CUDA version (its family, at least), or this Linux driver.
    Driver {
        cuda: Option<ToolVersion>,
        min_driver: Option<ToolVersion>,
    },
    /// A Python inside this range.
    Python {
        spec: String,
    },
    Macos {
        need: ToolVersion,
    },
    /// An nvcc of this CUDA major version (any, when `None`) that can build for this GPU.
    Nvcc {
        major: Option<u64>,
    },
}

/// Why a build does not fit: the furthest stage reached, in words, with the build's source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Miss {
    pub stage: u8,
    pub text: String,
    pub source: String,
}

/// The most candidates one search evaluates before giving up (a real request needs a few hundred).
const BUDGET: u32 = 50_000;

pub(crate) struct Solver<'m> {
    pub releases: &'m Releases,
    pub target: &'m Target,
    pub mode: Mode,
    /// Version ranges the user asked for (`vllm==0.19.1`).
    pub pins: &'m BTreeMap<String, pep440_rs::VersionSpecifiers>,
    budget: Cell<u32>,
}

impl<'m> Solver<'m> {
    pub fn new(
        releases: &'m Releases,
        target: &'m Target,
        mode: Mode,
        pins: &'m BTreeMap<String, pep440_rs::VersionSpecifiers>,
    ) -> Self {
        Solver {
            releases,
            target,
            mode,
            pins,
            budget: Cell::new(BUDGET),
        }
    }

    /// The newest consistent set for `ids`, or `None`. First the projects that pin others get their
    /// newest releases (the newest vLLM decides the torch); then, with those releases kept, what they
    /// pin gets its newest (xFormers and bitsandbytes allow several torch builds: the newest wins, not
    /// the one their first-listed build happens to want).
    pub fn solve(&self, ids: &[String]) -> Option<Vec<Choice<'m>>> {
        let first = self.search(ids, true, self.pins, &BTreeMap::new())?;
        let mut kept = self.pins.clone();
        let mut methods = BTreeMap::new();
        for c in first.iter().filter(|c| !c.build.requires.is_empty()) {
            if let Ok(exact) =
                pep440_rs::VersionSpecifiers::from_str(&format!("=={}", c.release.version))
            {
                kept.entry(c.project.id.clone()).or_insert(exact);
            }
            // The same way of installing (a wheel stays a wheel) on the same side of the machine (a
            // GPU build does not become a CPU one): only which build of it may change.
            methods.insert(
                c.project.id.clone(),
                (c.build.method, self.target.accelerator_of(c.build)),
            );
        }
        let all: Vec<String> = first.iter().map(|c| c.project.id.clone()).collect();
        Some(self.search(&all, false, &kept, &methods).unwrap_or(first))
    }

    fn search(
        &self,
        ids: &[String],
        dependents_first: bool,
        pins: &BTreeMap<String, pep440_rs::VersionSpecifiers>,
        methods: &BTreeMap<String, (Method, Accelerator)>,
    ) -> Option<Vec<Choice<'m>>> {
        let mut order: Vec<String> = ids.to_vec();
        order.sort_by_key(|id| {
            let d = depth(self.releases, id, &mut Vec::new());
            if dependents_first {
                usize::MAX - d
            } else {
                d
            }
        });
        let mut chosen = Vec::new();
        self.solve_rest(&order, &mut chosen, pins, methods)
            .then_some(chosen)
    }

    fn solve_rest(
        &self,
        pending: &[String],
        chosen: &mut Vec<Choice<'m>>,
        pins: &BTreeMap<String, pep440_rs::VersionSpecifiers>,
        methods: &BTreeMap<String, (Method, Accelerator)>,
    ) -> bool {
        let Some((first, rest)) = pending.split_first() else {
            return true;
        };
        if chosen.iter().any(|c| &c.project.id == first) {
            return self.solve_rest(rest, chosen, pins, methods);
        }
        let Some(project) = self.releases.project(first) else {
            return false;
        };
        let constraints: Vec<&Pin> = chosen
            .iter()
            .flat_map(|c| c.build.requires.iter())
            .filter(|p| &p.project == first)
            .collect();
        for (release, build) in candidates(project, self.target) {
            let left = self.budget.get();
            if left == 0 {
                return false;
            }
            self.budget.set(left - 1);
            if let Some(pin) = pins.get(first) {
                if !pin.contains(release.version.pep440()) {
                    continue;
                }
            }
            if methods.get(first).is_some_and(|(method, accelerator)| {
                *method != build.method || *accelerator != self.target.accelerator_of(build)
            }) {
                continue;
            }
            if !constraints.iter().all(|p| satisfies(p, release, build)) {
                continue;
            }
            let Ok(fit) = fit(
                build,
                project,
                release,
                self.target,
                self.mode,
                self.releases,
            ) else {
                continue;
            };
            let breaks_chosen = build.requires.iter().any(|pin| {
                chosen
                    .iter()
                    .find(|c| c.project.id == pin.project)
                    .is_some_and(|c| !satisfies(pin, c.release, c.build))
            });
            if breaks_chosen {
                continue;
            }
            chosen.push(Choice {
                project,
                release,
                build,
                fit,
            });
            let mut next: Vec<String> = rest.to_vec();
            for pin in &build.requires {
                if !chosen.iter().any(|c| c.project.id == pin.project)
                    && !next.contains(&pin.project)
                {
                    next.push(pin.project.clone());
                }
            }
            if self.solve_rest(&next, chosen, pins, methods) {
                return true;
            }
            chosen.pop();
        }
        false
    }

    /// Why no build of `project` (within `pin`, when another project asks for it) fits: the misses of
    /// the builds that got furthest, each once. Empty when some build fits on its own (then what it
    /// pins is the problem; see [`Solver::explain_pins`]).
    pub fn explain(&self, project: &'m Project, pin: Option<&Pin>) -> Vec<Miss> {
        let mut best: Vec<Miss> = Vec::new();
        for (release, build) in candidates(project, self.target) {
            if let Some(user) = self.pins.get(&project.id) {
                if !user.contains(release.version.pep440()) {
                    continue;
                }
            }
            if pin.is_some_and(|p| !satisfies(p, release, build)) {
                continue;
            }
            match fit(
                build,
                project,
                release,
                self.target,
                self.mode,
                self.releases,
            ) {
                Ok(_) => return Vec::new(),
                Err(miss) => {
                    let top = best.first().map_or(0, |m| m.stage);
                    if miss.stage > top {
                        best = vec![miss];
                    } else if miss.stage == top && !best.iter().any(|m| m.text == miss.text) {
                        best.push(miss);
                    }
                }
            }
        }
        best.truncate(3);
        best
    }

    /// For a project some build of which fits: why what it pins does not, for its newest fitting build.
    pub fn explain_pins(&self, project: &'m Project) -> Vec<(String, Miss)> {
        for (release, build) in candidates(project, self.target) {
            if let Some(user) = self.pins.get(&project.id) {
                if !user.contains(release.version.pep440()) {
                    continue;
                }
            }
            if fit(
                build,
                project,
                release,
                self.target,
                self.mode,
                self.releases,
            )
            .is_err()
            {
                continue;
            }
            let mut out = Vec::new();
            for pin in &build.requires {
                let Some(dep) = self.releases.project(&pin.project) else {
                    continue;
                };
                for miss in self.explain(dep, Some(pin)) {
                    let what = format!(
                        "{} {} needs {} {}{}",
                        project.id,
                        shown_version(release),
                        pin.project,
                        pin.version_text,
                        if pin.variants.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", pin.variants.join(" or "))
                        }
                    );
                    out.push((what, miss));
                }
            }
            if !out.is_empty() {
                return out;
            }
        }
        Vec::new()
    }
}

/// A release as its project names it: `b9986` for llama.cpp, the version otherwise.
pub(crate) fn shown_version(release: &Release) -> String {
    release
        .tag
        .clone()
        .unwrap_or_else(|| release.version.to_string())
}

/// How many levels of pins lie under a project (vLLM → torch: 1), so dependents are chosen first.
fn depth(releases: &Releases, id: &str, seen: &mut Vec<String>) -> usize {
    if seen.iter().any(|s| s == id) {
        return 0;
    }
    seen.push(id.to_string());
    let Some(project) = releases.project(id) else {
        return 0;
    };
    let mut targets: Vec<&str> = project
        .releases
        .iter()
        .flat_map(|r| r.builds.iter())
        .flat_map(|b| b.requires.iter())
        .map(|p| p.project.as_str())
        .collect();
    targets.sort_unstable();
    targets.dedup();
    targets
        .into_iter()
        .map(|t| 1 + depth(releases, t, seen))
        .max()
        .unwrap_or(0)
}

/// Every build of a project in order of preference: this machine's GPU first, then newest first.
fn candidates<'m>(project: &'m Project, target: &Target) -> Vec<(&'m Release, &'m Build)> {
    let mut all: Vec<(u8, usize, u8, usize, &Release, &Build)> = Vec::new();
    for (ri, release) in project.releases.iter().enumerate() {
        for (bi, build) in release.builds.iter().enumerate() {
            let effective = target.accelerator_of(build);
            let rank = target.accelerator_rank(effective).unwrap_or(9);
            // On the CPU, a CPU build of a release before its CUDA build running on the CPU: the same
            // code without gigabytes of libraries this machine cannot use.
            let fallback = u8::from(effective != build.accelerator);
            all.push((rank, ri, fallback, bi, release, build));
        }
    }
    all.sort_by_key(|(rank, ri, fallback, bi, _, _)| (*rank, *ri, *fallback, *bi));
    all.into_iter().map(|(_, _, _, _, r, b)| (r, b)).collect()
}

pub(crate) fn satisfies(pin: &Pin, release: &Release, build: &Build) -> bool {
    pin.version.contains(release.version.pep440())
        && (pin.variants.is_empty() || pin.variants.contains(&build.variant))
}

/// Whether `build` fits the machine, stage by stage.
pub(crate) fn fit(
    build: &Build,
    project: &Project,
    release: &Release,
    target: &Target,
    mode: Mode,
    releases: &Releases,
) -> Result<Fit, Miss> {
    let label = format!(
        "{} {} ({})",
        project.id,
        shown_version(release),
        build.variant
    );
    let miss = |stage: u8, text: String| Miss {
        stage,
        text,
        source: build.source.clone(),
    };
    let mut fit = Fit::default();
    let accelerator = target.accelerator_of(build);
    if accelerator != build.accelerator {
        fit.caveats.push(format!(
            "{label} carries CUDA libraries this machine cannot use (no NVIDIA GPU); it runs on the CPU"
        ));
    }
    // 1. Platform.
    match target.platform {
        Some(p) if !build.platforms.contains(&p) => {
            return Err(miss(
                1,
                format!(
                    "{} has builds for {} only; this machine is {}",
                    project.id,
                    platforms_of(project).join(", "),
                    p.name()
                ),
            ));
        }
        Some(_) => {}
        None => fit
            .caveats
            .push("the OS or CPU architecture is unknown; the plan assumes it fits".into()),
    }
    // 2. Accelerator.
    if target.accelerator_rank(accelerator).is_none() {
        let have = target
            .gpu
            .as_ref()
            .map_or("no GPU".to_string(), |g| g.name.clone());
        let need = match accelerator {
            Accelerator::Cuda => "an NVIDIA GPU (CUDA)",
            Accelerator::Metal => "an Apple silicon GPU (Metal)",
            Accelerator::Rocm => "an AMD GPU (ROCm)",
            Accelerator::Vulkan => "a GPU with a Vulkan driver",
            Accelerator::Cpu => "a CPU",
        };
        return Err(miss(
            2,
            format!("{} needs {need}; this machine has {have}", project.id),
        ));
    }
    if target.gpu.is_none() && accelerator != Accelerator::Cpu {
        fit.caveats.push(format!(
            "whether this machine has a GPU is unknown ({}); the plan assumes {}",
            target.gpu_unknown_why,
            accelerator.as_str()
        ));
    }
    // 3. GPU architecture.
    if accelerator == Accelerator::Cuda {
        let gpu = target.gpu.as_ref();
        match gpu.and_then(|g| g.cc.as_ref()) {
            Some(cc) if !covers(build, cc) => {
                let name = gpu.map_or("this GPU", |g| g.name.as_str());
                return Err(miss(
                    3,
                    format!(
                        "{name} (CC {cc}) is not covered by {label}, built for {}",
                        coverage_text(build)
                    ),
                ));
            }
            Some(_) => {}
            None if target.vendor() == Some(Vendor::Nvidia) || target.gpu.is_none() => {
                fit.caveats.push(format!(
                    "the GPU's compute capability is unknown; {label} covers {}",
                    coverage_text(build)
                ));
            }
            None => {}
        }
    }
    // 4. glibc: the wheel's own tag, then the floor of what pip resolves with it.
    if let (Some(need), Some(have)) = (&build.glibc, &target.glibc) {
        if have < need {
            return Err(miss(
                4,
                format!("{label} needs glibc {need} or newer (manylinux); this system has {have}"),
            ));
        }
    }
    if let (Some((need, from)), Some(have)) = (&build.dependency_glibc, &target.glibc) {
        if have < need {
            return Err(miss(
                4,
                format!(
                    "{label} needs glibc {need} or newer through its dependency {from}; this system has {have}"
                ),
            ));
        }
    }
    // 5. macOS.
    if let (Some(need), Some(have)) = (&build.macos, &target.macos) {
        if have < need {
            fit.unmet.push(Unmet::Macos { need: need.clone() });
        }
    }
    // 6. Driver.
    if accelerator == Accelerator::Cuda {
        driver_fit(build, &label, target, &mut fit);
    }
    // 7. Python (pip installs into the user's environment; images bring their own).
    if build.method == Method::Pip || (build.method == Method::Build && build.python.is_some()) {
        if let (Some(spec), Some(have)) = (&build.python, &target.python) {
            if !spec.contains(have.pep440()) {
                fit.unmet.push(Unmet::Python {
                    spec: build.python_text.clone().unwrap_or_default(),
                });
            }
        }
    }
    // 8. nvcc for source builds.
    if build.needs_nvcc {
        let major = build.cuda.as_ref().map(ToolVersion::major);
        match &target.nvcc {
            Some(nvcc) => {
                let right_major = major.is_none_or(|m| nvcc.major() == m);
                let builds_here = target
                    .gpu
                    .as_ref()
                    .and_then(|g| g.cc.as_ref())
                    .and_then(|cc| nvcc_builds_for(nvcc, cc))
                    != Some(false);
                if !(right_major && builds_here) {
                    fit.unmet.push(Unmet::Nvcc { major });
                }
            }
            None => fit.caveats.push(format!(
                "{label} compiles CUDA code: it needs the CUDA {} toolkit (nvcc) for this GPU, which was not found or not recorded",
                major.map_or("12.8+".to_string(), |m| format!("{m}.x"))
            )),
        }
    }
    if mode == Mode::Strict && !fit.unmet.is_empty() {
        let stage = match fit.unmet[0] {
            Unmet::Macos { .. } => 5,
            Unmet::Driver { .. } => 6,
            Unmet::Python { .. } => 7,
            Unmet::Nvcc { .. } => 8,
        };
        return Err(miss(
            stage,
            format!("{label}: {}", unmet_text(&fit.unmet[0], target, releases)),
        ));
    }
    if let Some(note) = &build.note {
        fit.caveats.push(format!("{label}: {note}"));
    }
    Ok(fit)
}

fn driver_fit(build: &Build, label: &str, target: &Target, fit: &mut Fit) {
    // Derived from the driver by the completion step when the facts did not say.
    let driver_cuda = target.driver_cuda.clone();
    let mut unmet = false;
    match (&build.cuda, &driver_cuda) {
        (Some(need), Some(have)) => {
            if have >= need {
            } else if have.major() == need.major() {
                fit.caveats.push(format!(
                    "{label} is built with CUDA {need}; this driver supports CUDA {have}, so it runs under CUDA minor-version compatibility (no JIT of PTX newer than the driver)"
                ));
            } else {
                unmet = true;
            }
        }
        (Some(need), None) => fit.caveats.push(format!(
            "{label} needs a driver that supports CUDA {need} (or CUDA {}.x under minor-version compatibility); the driver is unknown ({})",
            need.major(),
            target.driver_unknown_why
        )),
        (None, _) => {}
    }
    if let Some(min) = &build.min_driver {
        match &target.driver {
            // Under WSL2 the driver is Windows', on a Jetson L4T's, each numbered differently: its CUDA
            // version decides.
            Some(have) if !target.wsl && !target.tegra && have < min => unmet = true,
            Some(_) => {}
            None if build.cuda.is_none() => fit.caveats.push(format!(
                "{label} needs NVIDIA driver {min} or newer; the driver is unknown ({})",
                target.driver_unknown_why
            )),
            None => {}
        }
    }
    // A GPU newer than the driver is not run by it, whatever the build: Blackwell needs a driver of the
    // CUDA 12.8 generation (R570) even for a CUDA 12.6 build under minor-version compatibility.
    let arch_cuda = target
        .gpu
        .as_ref()
        .filter(|g| g.vendor == Some(Vendor::Nvidia))
        .and_then(|g| g.cc.as_ref())
        .and_then(crate::facts::arch::first_cuda_for);
    let mut cuda = build.cuda.clone();
    if build.accelerator == Accelerator::Cuda {
        if let (Some(first), Some(have)) = (&arch_cuda, &driver_cuda) {
            if have < first {
                unmet = true;
                if cuda.as_ref().is_none_or(|c| c < first) {
                    cuda = Some(first.clone());
                }
                fit.caveats.push(format!(
                    "this GPU's architecture came with CUDA {first}; the driver supports CUDA {have}, which does not know it"
                ));
            }
        }
    }
    if unmet {
        fit.unmet.push(Unmet::Driver {
            cuda,
            min_driver: build.min_driver.clone(),
        });
    }
}

/// Whether the build has code for a GPU of compute capability `cc`.
pub(crate) fn covers(build: &Build, cc: &ToolVersion) -> bool {
    if !build.compute_capabilities.is_empty() {
        return build
            .compute_capabilities
            .iter()
            .any(|c| (c.major(), c.minor()) == (cc.major(), cc.minor()));
    }
    if !build.sass.is_empty() || !build.ptx.is_empty() {
        return build
            .sass
            .iter()
            .chain(build.ptx.iter())
            .any(|t| runs_on(*t, cc));
    }
    build
        .min_compute_capability
        .as_ref()
        .is_some_and(|min| cc >= min)
}

fn coverage_text(build: &Build) -> String {
    if !build.compute_capabilities.is_empty() {
        let list: Vec<String> = build
            .compute_capabilities
            .iter()
            .map(ToString::to_string)
            .collect();
        return format!("CC {} only", list.join(", "));
    }
    if !build.sass.is_empty() || !build.ptx.is_empty() {
        let name = |t: &crate::facts::arch::ArchTarget| {
            format!(
                "{}_{}{}{}",
                if t.ptx { "compute" } else { "sm" },
                t.major,
                t.minor,
                if t.specific { "a" } else { "" }
            )
        };
        let list: Vec<String> = build
            .sass
            .iter()
            .chain(build.ptx.iter())
            .map(name)
            .collect();
        return list.join(", ");
    }
    build
        .min_compute_capability
        .as_ref()
        .map_or("no GPU".to_string(), |m| format!("CC {m} and newer"))
}

fn platforms_of(project: &Project) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = project
        .releases
        .iter()
        .flat_map(|r| r.builds.iter())
        .flat_map(|b| b.platforms.iter().map(|p| p.name()))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// What must change, in words.
pub(crate) fn unmet_text(unmet: &Unmet, target: &Target, releases: &Releases) -> String {
    match unmet {
        Unmet::Driver { cuda, min_driver } => {
            let have = match (&target.driver, &target.driver_cuda) {
                (Some(d), Some(c)) => format!("driver {d} supports CUDA {c}"),
                (Some(d), None) => format!("driver {d}"),
                _ => "the driver is unknown".into(),
            };
            let need = driver_need(cuda.as_ref(), min_driver.as_ref(), releases);
            if target.wsl {
                format!("needs {need} — under WSL2 that is the Windows driver; this {have}")
            } else {
                format!("needs {need}; this {have}")
            }
        }
        Unmet::Python { spec } => format!(
            "needs Python {}; this environment has {}",
            spec_words(spec),
            target
                .python
                .as_ref()
                .map_or("an unknown Python".to_string(), |p| format!("Python {p}"))
        ),
        Unmet::Macos { need } => format!(
            "needs macOS {need} or newer; this Mac runs {}",
            target
                .macos
                .as_ref()
                .map_or("an unknown version".to_string(), ToString::to_string)
        ),
        Unmet::Nvcc { major } => format!(
            "compiles CUDA code and needs {}; this machine has nvcc {}",
            major.map_or(
                "an nvcc that can build for this GPU".to_string(),
                |m| format!(
                    "the CUDA {m}.x toolkit (nvcc of the same major version as torch's CUDA)"
                )
            ),
            target
                .nvcc
                .as_ref()
                .map_or("unknown".to_string(), ToString::to_string)
        ),
    }
}

/// "a driver supporting CUDA 13.0 (Linux >= 580.65.06)" for one build's needs.
pub(crate) fn driver_need(
    cuda: Option<&ToolVersion>,
    min_driver: Option<&ToolVersion>,
    releases: &Releases,
) -> String {
    let family = cuda.and_then(|c| releases.cuda_family_floor(c.major()));
    match (cuda, family, min_driver) {
        (Some(c), Some(f), min) => {
            let linux = match min {
                Some(m) if m > &f.driver_linux => m.clone(),
                _ => f.driver_linux.clone(),
            };
            let exact = releases
                .cuda_release(c)
                .filter(|r| r.version > f.version)
                .map(|r| {
                    format!(
                        "; >= {} runs CUDA {} without minor-version limits",
                        r.driver_linux, r.version
                    )
                })
                .unwrap_or_default();
            format!(
                "an NVIDIA driver that supports CUDA {} (Linux >= {linux}{exact})",
                f.version
            )
        }
        (Some(c), None, _) => format!("an NVIDIA driver that supports CUDA {c}"),
        (None, _, Some(m)) => format!("NVIDIA driver {m} or newer"),
        (None, _, None) => "a working NVIDIA driver".into(),
    }
}

/// `>=3.11,<3.14` → "3.11 to 3.13".
pub(crate) fn spec_words(spec: &str) -> String {
    let range = python_minors(spec);
    match (range.first(), range.last()) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => spec.to_string(),
    }
}

/// The Python minor versions (3.9 … 3.15) a range allows, in order.
pub(crate) fn python_minors(spec: &str) -> Vec<String> {
    use std::str::FromStr;
    let Ok(specs) = pep440_rs::VersionSpecifiers::from_str(spec) else {
        return Vec::new();
    };
    (9..=15)
        .map(|m| format!("3.{m}"))
        .filter(|v| {
            pep440_rs::Version::from_str(&format!("{v}.0")).is_ok_and(|v| specs.contains(&v))
        })
        .collect()
}

/// Whether a platform is the host's (macOS arm64 wants a native Python).
pub(crate) fn is_apple_silicon(target: &Target) -> bool {
    target
        .platform
        .is_some_and(|p| p.os == Os::Macos && p.arch == crate::facts::Arch::Aarch64)
}
