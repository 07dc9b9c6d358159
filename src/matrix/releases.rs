//! Release data for the install planner (`matrix/releases/*.yaml`): per project, the releases that matter
//! and, for each, the builds that exist — where (platforms, Python, glibc, macOS), for what (CUDA version,
//! SASS/PTX architectures, Metal, CPU), how they install (a pinned pip requirement and its index, a
//! container image, a source build with its flags and expected time) and what they pin (vLLM → torch).
//! `cuda.yaml` holds the CUDA → minimum driver table. Every build and every CUDA row carries a `source:`
//! (the page and its words) and the date it was `checked:`; the loader validates all of it like the rest
//! of the matrix, reporting every problem with its file, line and column.

use std::str::FromStr;

use serde::Deserialize;

use crate::facts::arch::{parse_target, ArchTarget};
use crate::facts::{Arch, Os};
use crate::version::{PyVersion, ToolVersion};
use crate::yaml::{self, from_node, Loc, Node, Problem, Problems};

pub const RELEASES_SCHEMA: &str = "mlcompat.releases/1";

/// All release data: the projects the planner knows and the CUDA driver table.
#[derive(Debug, Clone, Default)]
pub struct Releases {
    pub projects: Vec<Project>,
    pub cuda: Vec<CudaRelease>,
    /// Jetson (L4T) drivers, numbered apart from the others, and the CUDA each supports.
    pub tegra: Vec<TegraDriver>,
    /// The newest `checked:` date of any entry (shown with plans).
    pub checked: String,
}

/// One project: a software row of `software.yaml` and the releases the planner may choose from.
#[derive(Debug, Clone)]
pub struct Project {
    /// The software id in `software.yaml`.
    pub id: String,
    /// The Python distribution, for projects installed with pip.
    pub package: Option<String>,
    /// Software ids to suggest when no build of this project fits the machine, in order.
    pub alternatives: Vec<String>,
    /// Platforms the project's own documentation says it does not run on, and that source: a request
    /// there is impossible. On any other platform without a build here, the release data is silent (it
    /// covers recent releases), and the plan says so instead of calling it impossible.
    pub never: Vec<Platform>,
    pub never_source: Option<String>,
    /// Machines (reference profiles) where the doctor's row and this release data are known to disagree,
    /// each with why: `matrix audit` lists every other disagreement, and a gap that agrees again.
    pub gaps: Vec<Gap>,
    /// Newest first (the loader sorts them).
    pub releases: Vec<Release>,
    pub file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    pub profile: String,
    pub why: String,
}

#[derive(Debug, Clone)]
pub struct Release {
    pub version: PyVersion,
    /// How the project names this release when it is not a PEP 440 version (llama.cpp's `b9986`).
    pub tag: Option<String>,
    /// In order of preference.
    pub builds: Vec<Build>,
}

/// One way to get one release onto a machine.
#[derive(Debug, Clone)]
pub struct Build {
    /// What distinguishes this build: `cu130`, `cpu`, `metal`, `spark-image`, `source`.
    pub variant: String,
    pub method: Method,
    pub platforms: Vec<Platform>,
    /// Python versions with wheels (Requires-Python and the wheel tags); pip methods only.
    pub python: Option<pep440_rs::VersionSpecifiers>,
    pub python_text: Option<String>,
    /// Lowest glibc (the manylinux tag) on Linux.
    pub glibc: Option<ToolVersion>,
    /// A higher glibc floor that a dependency pip resolves with it brings (vLLM 0.33.0 → llguidance
    /// 1.7.x, whose wheels are manylinux_2_31 only), and which dependency: the floor of the whole
    /// resolved set, not of the top wheel's tag.
    pub dependency_glibc: Option<(ToolVersion, String)>,
    /// Lowest macOS version (the macosx tag).
    pub macos: Option<ToolVersion>,
    pub accelerator: Accelerator,
    /// The CUDA version the build was made with; the driver must support it (or its major version,
    /// under minor-version compatibility).
    pub cuda: Option<ToolVersion>,
    /// Real architectures (`sm_90`) and PTX (`compute_120`) the build carries.
    pub sass: Vec<ArchTarget>,
    pub ptx: Vec<ArchTarget>,
    /// The lowest compute capability the build supports, where the project states one instead of a list.
    pub min_compute_capability: Option<ToolVersion>,
    /// Only these GPUs (exact compute capabilities), e.g. an image made for the DGX Spark.
    pub compute_capabilities: Vec<ToolVersion>,
    /// A CUDA build that also runs, on the CPU, where there is no NVIDIA GPU (PyPI's torch: the CUDA
    /// libraries load lazily).
    pub cpu_fallback: bool,
    /// The lowest Linux driver the project states, where it is above what `cuda` alone needs.
    pub min_driver: Option<ToolVersion>,
    /// Distributions that must be removed first because they provide the same module
    /// (`onnxruntime` before `onnxruntime-gpu`).
    pub conflicts: Vec<String>,
    /// Other projects this build needs, and which of their releases.
    pub requires: Vec<Pin>,
    /// `pip`: the requirement as typed (`torch==2.15.0`, `mlx[cuda13]==0.32.4`).
    pub pip: Option<String>,
    /// `pip`: the index (absent: PyPI).
    pub index: Option<String>,
    /// `pip`: extra flags (`--no-build-isolation`).
    pub pip_flags: Vec<String>,
    /// `image`, `build`, `script`, `brew`, `download`: the command; it may use the placeholders
    /// `{arch}`, `{max_jobs}` (nvcc jobs), `{cores}` (every core), `{cc}` (`12.1`), `{sm}` (`121`) and `{cmake_arch}` (`121a-real` on
    /// Blackwell and newer, whose FP4 instructions need the arch-specific target; `86-real` before).
    pub command: Option<String>,
    pub image: Option<String>,
    /// For source builds: the architectures the build can target (`80`, `90`, `120`); `{arch}` becomes
    /// the highest one whose code runs on this GPU.
    pub arch_choices: Vec<u32>,
    /// For source builds: the time the project states, with its conditions.
    pub build_time: Option<String>,
    /// A source build that compiles CUDA code needs an nvcc of the build's CUDA major version.
    pub needs_nvcc: bool,
    /// Something the user should know when this build is chosen.
    pub note: Option<String>,
    pub source: String,
    pub checked: String,
    pub loc: Loc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Pip,
    Image,
    Build,
    Script,
    Brew,
    Download,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Pip => "pip",
            Method::Image => "image",
            Method::Build => "build",
            Method::Script => "script",
            Method::Brew => "brew",
            Method::Download => "download",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accelerator {
    Cuda,
    Metal,
    Rocm,
    /// Any GPU with a Vulkan driver (AMD, Intel, NVIDIA) on Linux or Windows.
    Vulkan,
    Cpu,
}

impl Accelerator {
    pub fn as_str(self) -> &'static str {
        match self {
            Accelerator::Cuda => "cuda",
            Accelerator::Metal => "metal",
            Accelerator::Rocm => "rocm",
            Accelerator::Vulkan => "vulkan",
            Accelerator::Cpu => "cpu",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    pub os: Os,
    pub arch: Arch,
}

impl Platform {
    pub const ALL: &'static [&'static str] = &[
        "linux-x86_64",
        "linux-aarch64",
        "macos-arm64",
        "macos-x86_64",
        "windows-x86_64",
    ];

    pub fn parse(text: &str) -> Option<Platform> {
        let (os, arch) = text.split_once('-')?;
        let os = match os {
            "linux" => Os::Linux,
            "macos" => Os::Macos,
            "windows" => Os::Windows,
            _ => return None,
        };
        let arch = match (os, arch) {
            (_, "x86_64") => Arch::X86_64,
            (Os::Linux, "aarch64") | (Os::Macos, "arm64") => Arch::Aarch64,
            _ => return None,
        };
        Some(Platform { os, arch })
    }

    pub fn name(self) -> &'static str {
        match (self.os, self.arch) {
            (Os::Linux, Arch::X86_64) => "linux-x86_64",
            (Os::Linux, Arch::Aarch64) => "linux-aarch64",
            (Os::Macos, Arch::Aarch64) => "macos-arm64",
            (Os::Macos, Arch::X86_64) => "macos-x86_64",
            (Os::Windows, Arch::X86_64) => "windows-x86_64",
            (Os::Windows, Arch::Aarch64) => "windows-arm64",
        }
    }
}

/// A requirement on another project: a version range and, optionally, which of its variants.
#[derive(Debug, Clone)]
pub struct Pin {
    pub project: String,
    pub version: pep440_rs::VersionSpecifiers,
    pub version_text: String,
    /// Empty: any variant.
    pub variants: Vec<String>,
}

/// One CUDA release: the minimum driver it needs (NVIDIA's release notes, Table 3).
#[derive(Debug, Clone)]
pub struct CudaRelease {
    pub version: ToolVersion,
    pub driver_linux: ToolVersion,
    pub driver_windows: Option<ToolVersion>,
    pub source: String,
    pub checked: String,
}

/// The lowest L4T driver of a JetPack line and the highest CUDA it supports.
#[derive(Debug, Clone)]
pub struct TegraDriver {
    pub driver: ToolVersion,
    pub cuda: ToolVersion,
    pub source: String,
    pub checked: String,
}

/// Whose numbering a driver version follows: the same CUDA needs 570.26 on Linux, 570.65 on Windows (and
/// so under WSL2, where the Linux side reports the Windows driver) and 540.4.0 on a Jetson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverFamily {
    Linux,
    Windows,
    Tegra,
}

impl DriverFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            DriverFamily::Linux => "Linux",
            DriverFamily::Windows => "Windows",
            DriverFamily::Tegra => "Jetson (L4T)",
        }
    }
}

/// The floor of minor-version compatibility for one CUDA major version (an app built with CUDA 13.2
/// runs on any driver of the 13.x family, with limits).
#[derive(Debug, Clone)]
pub struct MinorCompat {
    pub major: u64,
    pub driver_linux: ToolVersion,
    pub source: String,
}

impl Releases {
    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// The CUDA release for `version` (major.minor), if the table has it.
    pub fn cuda_release(&self, version: &ToolVersion) -> Option<&CudaRelease> {
        self.cuda
            .iter()
            .find(|c| (c.version.major(), c.version.minor()) == (version.major(), version.minor()))
    }

    /// The CUDA release that opens a major version (13.0 for 13.x): its driver is the floor of
    /// minor-version compatibility for the whole family.
    pub fn cuda_family_floor(&self, major: u64) -> Option<&CudaRelease> {
        self.cuda
            .iter()
            .filter(|c| c.version.major() == major)
            .min_by(|a, b| a.version.cmp(&b.version))
    }

    /// The highest CUDA version a driver supports, from NVIDIA's tables (when the driver did not say),
    /// with the driver floor that decided it. `None` when the driver is older than every row.
    pub fn cuda_for_driver(
        &self,
        driver: &ToolVersion,
        family: DriverFamily,
    ) -> Option<(&ToolVersion, &ToolVersion)> {
        match family {
            DriverFamily::Tegra => self
                .tegra
                .iter()
                .filter(|t| &t.driver <= driver)
                .max_by(|a, b| a.cuda.cmp(&b.cuda))
                .map(|t| (&t.cuda, &t.driver)),
            DriverFamily::Linux | DriverFamily::Windows => self
                .cuda
                .iter()
                .filter_map(|c| {
                    // NVIDIA lists no Windows floor from CUDA 13.0 on (the toolkit stopped bundling
                    // the driver); Windows drivers of a branch are numbered above its Linux ones, so the
                    // Linux floor stands in.
                    let floor = match family {
                        DriverFamily::Windows => {
                            c.driver_windows.as_ref().unwrap_or(&c.driver_linux)
                        }
                        _ => &c.driver_linux,
                    };
                    (floor <= driver).then_some((&c.version, floor))
                })
                .max_by(|a, b| a.0.cmp(b.0)),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Loading

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    schema: String,
    project: Option<String>,
    package: Option<String>,
    #[serde(default)]
    alternatives: Vec<String>,
    #[serde(default)]
    never: Vec<String>,
    never_source: Option<String>,
    #[serde(default)]
    gaps: Vec<Gap>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCuda {
    version: String,
    driver_linux: String,
    driver_windows: Option<String>,
    source: String,
    checked: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPin {
    project: String,
    version: String,
    #[serde(default)]
    variants: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuild {
    variant: String,
    method: Method,
    platforms: Vec<String>,
    python: Option<String>,
    glibc: Option<String>,
    dependency_glibc: Option<RawDependencyFloor>,
    macos: Option<String>,
    accelerator: Accelerator,
    cuda: Option<String>,
    #[serde(default)]
    sass: Vec<String>,
    #[serde(default)]
    ptx: Vec<String>,
    min_compute_capability: Option<String>,
    #[serde(default)]
    compute_capabilities: Vec<String>,
    min_driver: Option<String>,
    #[serde(default)]
    cpu_fallback: bool,
    #[serde(default)]
    conflicts: Vec<String>,
    #[serde(default)]
    requires: Vec<RawPin>,
    pip: Option<String>,
    index: Option<String>,
    #[serde(default)]
    pip_flags: Vec<String>,
    command: Option<String>,
    image: Option<String>,
    #[serde(default)]
    arch_choices: Vec<u32>,
    build_time: Option<String>,
    #[serde(default)]
    needs_nvcc: bool,
    note: Option<String>,
    source: String,
    checked: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDependencyFloor {
    glibc: String,
    /// The dependency and its wheels: "llguidance 1.7.x (manylinux_2_31 wheels only)".
    from: String,
}

/// What one release file holds once read (before the cross-file checks).
enum Loaded {
    Project(Project),
    Cuda(Vec<CudaRelease>, Vec<TegraDriver>),
}

/// Reads every release file, then checks what spans files: projects name known software rows, pins
/// name known projects and variants that exist, the CUDA table covers every CUDA version a build uses.
/// Problems are pushed per file (name, problem).
pub(crate) fn load(
    files: &[(&str, &str)],
    software_ids: &[&str],
    problems: &mut Vec<(String, Problem)>,
) -> Releases {
    let mut out = Releases::default();
    for (name, text) in files {
        let mut found = Vec::new();
        match load_file(name, text, software_ids, &mut found) {
            Some(Loaded::Project(p)) => {
                if let Some(first) = out.projects.iter().find(|q| q.id == p.id) {
                    found.push(Problem {
                        loc: None,
                        message: format!(
                            "project `{}` is also described in {}; one file per project",
                            p.id, first.file
                        ),
                    });
                } else {
                    out.projects.push(p);
                }
            }
            Some(Loaded::Cuda(rows, tegra)) => {
                out.cuda.extend(rows);
                out.tegra.extend(tegra);
            }
            None => {}
        }
        problems.extend(found.into_iter().map(|p| (name.to_string(), p)));
    }
    cross_check(&out, problems);
    out.checked = out
        .projects
        .iter()
        .flat_map(|p| p.releases.iter().flat_map(|r| r.builds.iter()))
        .map(|b| b.checked.clone())
        .chain(out.cuda.iter().map(|c| c.checked.clone()))
        .max()
        .unwrap_or_default();
    out
}

fn load_file(
    name: &str,
    text: &str,
    software_ids: &[&str],
    problems: &mut Vec<Problem>,
) -> Option<Loaded> {
    let root = yaml::parse(text).map_err(|p| problems.push(p)).ok()?;
    let collected = Problems::default();
    let header = from_node::<RawHeader>(&root.without(&["releases", "cuda", "tegra"]), &collected);
    let result = header.and_then(|h| {
        if h.schema != RELEASES_SCHEMA {
            let loc = root.get("schema").map_or(root.loc, |n| n.loc);
            problems.push(Problem::at(
                loc,
                format!("schema is `{}`, expected `{RELEASES_SCHEMA}`", h.schema),
            ));
        }
        match (&h.project, root.get("cuda")) {
            (None, Some(cuda)) => Some(Loaded::Cuda(
                load_cuda(cuda, &collected, problems),
                root.get("tegra")
                    .map(|t| load_tegra(t, &collected, problems))
                    .unwrap_or_default(),
            )),
            (Some(id), None) => {
                let loc = root.get("project").map_or(root.loc, |n| n.loc);
                if !software_ids.contains(&id.as_str()) {
                    problems.push(Problem::at(
                        loc,
                        format!("project `{id}` is not a software id of software.yaml"),
                    ));
                }
                let stem = std::path::Path::new(name)
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                if stem != id {
                    problems.push(Problem::at(
                        loc,
                        format!("project `{id}` differs from the file name `{stem}`"),
                    ));
                }
                for alt in &h.alternatives {
                    if !software_ids.contains(&alt.as_str()) {
                        let loc = root.get("alternatives").map_or(root.loc, |n| n.loc);
                        problems.push(Problem::at(
                            loc,
                            format!("alternative `{alt}` is not a software id of software.yaml"),
                        ));
                    }
                }
                let mut never = Vec::new();
                for name in &h.never {
                    match Platform::parse(name) {
                        Some(p) => never.push(p),
                        None => problems.push(Problem::at(
                            root.get("never").map_or(root.loc, |n| n.loc),
                            format!(
                                "`never` names `{name}`, not a platform (known: {})",
                                Platform::ALL.join(", ")
                            ),
                        )),
                    }
                }
                if !never.is_empty()
                    && h.never_source
                        .as_deref()
                        .is_none_or(|s| s.trim().is_empty())
                {
                    problems.push(Problem::at(
                        root.get("never").map_or(root.loc, |n| n.loc),
                        "`never` needs a `never_source` saying where the project says so",
                    ));
                }
                let releases = load_releases(&root, &collected, problems);
                Some(Loaded::Project(Project {
                    id: id.clone(),
                    package: h.package.clone(),
                    alternatives: h.alternatives.clone(),
                    never,
                    never_source: h.never_source.clone(),
                    gaps: h.gaps.clone(),
                    releases,
                    file: name.to_string(),
                }))
            }
            (Some(_), Some(n)) => {
                problems.push(Problem::at(
                    n.loc,
                    "a release file describes either one `project:` or the `cuda:` table",
                ));
                None
            }
            (None, None) => {
                problems.push(Problem::at(
                    root.loc,
                    "expected `project:` with `releases:`, or a `cuda:` table",
                ));
                None
            }
        }
    });
    problems.extend(collected.into_vec());
    result
}

fn load_cuda(node: &Node, collected: &Problems, problems: &mut Vec<Problem>) -> Vec<CudaRelease> {
    let Some(items) = node.as_seq() else {
        problems.push(Problem::at(node.loc, "`cuda` must be a list"));
        return vec![];
    };
    let mut out: Vec<CudaRelease> = Vec::new();
    for item in items {
        let Some(raw) = from_node::<RawCuda>(item, collected) else {
            continue;
        };
        let at = |field: &str| item.get(field).map_or(item.loc, |n| n.loc);
        let version = tool(&raw.version, at("version"), problems);
        let linux = tool(&raw.driver_linux, at("driver_linux"), problems);
        let windows = raw
            .driver_windows
            .as_deref()
            .and_then(|w| tool(w, at("driver_windows"), problems));
        check_sourced(&raw.source, &raw.checked, item, problems);
        if let (Some(version), Some(driver_linux)) = (version, linux) {
            if out.iter().any(|c| c.version == version) {
                problems.push(Problem::at(
                    at("version"),
                    format!("CUDA {version} is listed twice"),
                ));
            }
            out.push(CudaRelease {
                version,
                driver_linux,
                driver_windows: windows,
                source: raw.source,
                checked: raw.checked,
            });
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTegra {
    driver: String,
    cuda: String,
    source: String,
    checked: String,
}

fn load_tegra(node: &Node, collected: &Problems, problems: &mut Vec<Problem>) -> Vec<TegraDriver> {
    let Some(items) = node.as_seq() else {
        problems.push(Problem::at(node.loc, "`tegra` must be a list"));
        return vec![];
    };
    let mut out = Vec::new();
    for item in items {
        let Some(raw) = from_node::<RawTegra>(item, collected) else {
            continue;
        };
        let at = |field: &str| item.get(field).map_or(item.loc, |n| n.loc);
        let driver = tool(&raw.driver, at("driver"), problems);
        let cuda = tool(&raw.cuda, at("cuda"), problems);
        check_sourced(&raw.source, &raw.checked, item, problems);
        if let (Some(driver), Some(cuda)) = (driver, cuda) {
            out.push(TegraDriver {
                driver,
                cuda,
                source: raw.source,
                checked: raw.checked,
            });
        }
    }
    out
}

fn load_releases(root: &Node, collected: &Problems, problems: &mut Vec<Problem>) -> Vec<Release> {
    let Some(items) = root
        .get("releases")
        .and_then(Node::as_seq)
        .filter(|r| !r.is_empty())
    else {
        problems.push(Problem::at(
            root.loc,
            "expected a non-empty `releases:` list",
        ));
        return vec![];
    };
    let mut out: Vec<Release> = Vec::new();
    for item in items {
        let version_node = item.get("version");
        let unknown: Vec<&str> = item
            .as_map()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, _)| k.as_str())
                    .filter(|k| !matches!(*k, "version" | "tag" | "builds"))
                    .collect()
            })
            .unwrap_or_default();
        for key in unknown {
            problems.push(Problem::at(
                item.loc,
                format!("unknown key `{key}` in a release (expected one of: version, tag, builds)"),
            ));
        }
        let Some(version) = version_node.and_then(Node::as_str) else {
            problems.push(Problem::at(item.loc, "a release needs a `version:`"));
            continue;
        };
        let vloc = version_node.map_or(item.loc, |n| n.loc);
        let version = match PyVersion::from_str(version) {
            Ok(v) => v,
            Err(e) => {
                problems.push(Problem::at(vloc, e));
                continue;
            }
        };
        if out.iter().any(|r| r.version == version) {
            problems.push(Problem::at(
                vloc,
                format!("release {version} is listed twice"),
            ));
        }
        let Some(nodes) = item
            .get("builds")
            .and_then(Node::as_seq)
            .filter(|b| !b.is_empty())
        else {
            problems.push(Problem::at(
                item.loc,
                format!("release {version} needs a non-empty `builds:` list"),
            ));
            continue;
        };
        let builds: Vec<Build> = nodes
            .iter()
            .filter_map(|n| load_build(n, collected, problems))
            .collect();
        let tag = item.get("tag").and_then(Node::as_str).map(str::to_string);
        out.push(Release {
            version,
            tag,
            builds,
        });
    }
    out.sort_by(|a, b| b.version.cmp(&a.version));
    out
}

fn load_build(node: &Node, collected: &Problems, problems: &mut Vec<Problem>) -> Option<Build> {
    let raw = from_node::<RawBuild>(node, collected)?;
    let at = |field: &str| node.get(field).map_or(node.loc, |n| n.loc);
    let before = problems.len();
    let mut platforms = Vec::new();
    for p in &raw.platforms {
        match Platform::parse(p) {
            Some(p) => platforms.push(p),
            None => problems.push(Problem::at(
                at("platforms"),
                format!(
                    "unknown platform `{p}` (known: {})",
                    Platform::ALL.join(", ")
                ),
            )),
        }
    }
    if raw.platforms.is_empty() {
        problems.push(Problem::at(
            at("platforms"),
            "`platforms` must not be empty",
        ));
    }
    let python = raw.python.as_deref().and_then(|spec| {
        pep440_rs::VersionSpecifiers::from_str(spec)
            .map_err(|e| {
                problems.push(Problem::at(
                    at("python"),
                    format!("invalid Python range `{spec}`: {e}"),
                ))
            })
            .ok()
    });
    let glibc = raw
        .glibc
        .as_deref()
        .and_then(|v| tool(v, at("glibc"), problems));
    let dependency_glibc = raw.dependency_glibc.as_ref().and_then(|d| {
        tool(&d.glibc, at("dependency_glibc"), problems).map(|v| (v, d.from.clone()))
    });
    let macos = raw
        .macos
        .as_deref()
        .and_then(|v| tool(v, at("macos"), problems));
    let cuda = raw
        .cuda
        .as_deref()
        .and_then(|v| tool(v, at("cuda"), problems));
    let targets = |list: &[String], field: &str, ptx: bool, problems: &mut Vec<Problem>| {
        let mut out = Vec::new();
        for t in list {
            match parse_target(t) {
                Some(a) if a.ptx == ptx => out.push(a),
                _ => problems.push(Problem::at(
                    at(field),
                    format!(
                        "`{t}` is not {} (e.g. {})",
                        if ptx {
                            "a PTX target"
                        } else {
                            "a real architecture"
                        },
                        if ptx { "compute_120" } else { "sm_90, sm_90a" }
                    ),
                )),
            }
        }
        out
    };
    let sass = targets(&raw.sass, "sass", false, problems);
    let ptx = targets(&raw.ptx, "ptx", true, problems);
    let min_cc = raw
        .min_compute_capability
        .as_deref()
        .and_then(|v| tool(v, at("min_compute_capability"), problems));
    let ccs: Vec<ToolVersion> = raw
        .compute_capabilities
        .iter()
        .filter_map(|v| tool(v, at("compute_capabilities"), problems))
        .collect();
    let min_driver = raw
        .min_driver
        .as_deref()
        .and_then(|v| tool(v, at("min_driver"), problems));
    let mut requires = Vec::new();
    for pin in &raw.requires {
        match pep440_rs::VersionSpecifiers::from_str(&pin.version) {
            Ok(version) => requires.push(Pin {
                project: pin.project.clone(),
                version,
                version_text: pin.version.clone(),
                variants: pin.variants.clone(),
            }),
            Err(e) => problems.push(Problem::at(
                at("requires"),
                format!("invalid version range `{}`: {e}", pin.version),
            )),
        }
    }
    // What each method needs to say how it installs.
    match raw.method {
        Method::Pip if raw.pip.is_none() => problems.push(Problem::at(
            node.loc,
            "a `pip` build needs `pip:` (the requirement)",
        )),
        Method::Image if raw.image.is_none() || raw.command.is_none() => problems.push(
            Problem::at(node.loc, "an `image` build needs `image:` and `command:`"),
        ),
        Method::Build | Method::Script | Method::Brew | Method::Download
            if raw.command.is_none() =>
        {
            problems.push(Problem::at(
                node.loc,
                format!("a `{}` build needs `command:`", raw.method.as_str()),
            ))
        }
        _ => {}
    }
    if raw.method == Method::Pip && python.is_none() {
        problems.push(Problem::at(
            node.loc,
            "a `pip` build needs `python:` (the versions its wheels exist for)",
        ));
    }
    if raw.accelerator == Accelerator::Cuda {
        if cuda.is_none() && min_driver.is_none() {
            problems.push(Problem::at(
                node.loc,
                "a `cuda` build needs `cuda:` (the CUDA version it was built with) or `min_driver:`",
            ));
        }
        if sass.is_empty() && ptx.is_empty() && min_cc.is_none() && ccs.is_empty() {
            problems.push(Problem::at(
                node.loc,
                "a `cuda` build needs the GPUs it runs on: `sass`/`ptx`, `min_compute_capability` or `compute_capabilities`",
            ));
        }
    }
    let uses_arch = raw.command.as_deref().is_some_and(|t| t.contains("{arch}"));
    if uses_arch && raw.arch_choices.is_empty() {
        problems.push(Problem::at(
            node.loc,
            "`{arch}` is used but `arch_choices` is empty",
        ));
    }
    if let Some(text) = raw.command.as_deref() {
        check_placeholders(text, node.loc, problems);
    }
    check_sourced(&raw.source, &raw.checked, node, problems);
    if problems.len() > before {
        return None;
    }
    Some(Build {
        variant: raw.variant,
        method: raw.method,
        platforms,
        python,
        python_text: raw.python,
        glibc,
        dependency_glibc,
        macos,
        accelerator: raw.accelerator,
        cuda,
        sass,
        ptx,
        min_compute_capability: min_cc,
        compute_capabilities: ccs,
        min_driver,
        cpu_fallback: raw.cpu_fallback,
        conflicts: raw.conflicts,
        requires,
        pip: raw.pip,
        index: raw.index,
        pip_flags: raw.pip_flags,
        command: raw.command,
        image: raw.image,
        arch_choices: raw.arch_choices,
        build_time: raw.build_time,
        needs_nvcc: raw.needs_nvcc,
        note: raw.note,
        source: raw.source,
        checked: raw.checked,
        loc: node.loc,
    })
}

/// The placeholders a command may use; anything else in braces is a typo.
pub const PLACEHOLDERS: &[&str] = &[
    "{arch}",
    "{max_jobs}",
    "{cores}",
    "{cc}",
    "{sm}",
    "{cmake_arch}",
];

fn check_placeholders(text: &str, loc: Loc, problems: &mut Vec<Problem>) {
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start..=start + len];
        // `${VAR}` is the shell's, not ours.
        let shell = start > 0 && rest.as_bytes()[start - 1] == b'$';
        if !shell && !PLACEHOLDERS.contains(&name) {
            problems.push(Problem::at(
                loc,
                format!(
                    "unknown placeholder `{name}` (known: {})",
                    PLACEHOLDERS.join(", ")
                ),
            ));
        }
        rest = &rest[start + len + 1..];
    }
}

fn check_sourced(source: &str, checked: &str, node: &Node, problems: &mut Vec<Problem>) {
    let at = |field: &str| node.get(field).map_or(node.loc, |n| n.loc);
    if source.trim().len() < 10 {
        problems.push(Problem::at(
            at("source"),
            "`source` must name the page and quote its words",
        ));
    }
    if !is_date(checked) {
        problems.push(Problem::at(
            at("checked"),
            format!("`checked` must be a date YYYY-MM-DD, found `{checked}`"),
        ));
    }
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    matches!(parts.as_slice(), [y, m, d]
        if y.len() == 4 && m.len() == 2 && d.len() == 2
            && [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
            && (1..=12).contains(&m.parse::<u32>().unwrap_or(0))
            && (1..=31).contains(&d.parse::<u32>().unwrap_or(0)))
}

fn tool(text: &str, loc: Loc, problems: &mut Vec<Problem>) -> Option<ToolVersion> {
    ToolVersion::from_str(text)
        .map_err(|e| problems.push(Problem::at(loc, e)))
        .ok()
}

/// Checks across files: pins name known projects and existing variants, every CUDA version a build
/// uses is in the driver table (or its family is), and the table is there at all.
fn cross_check(releases: &Releases, problems: &mut Vec<(String, Problem)>) {
    let has_cuda_builds = releases
        .projects
        .iter()
        .flat_map(|p| p.releases.iter().flat_map(|r| r.builds.iter()))
        .any(|b| b.cuda.is_some());
    if has_cuda_builds && releases.cuda.is_empty() {
        problems.push((
            "releases/cuda.yaml".into(),
            Problem {
                loc: None,
                message: "missing: builds name CUDA versions, so the CUDA driver table is needed"
                    .into(),
            },
        ));
    }
    for project in &releases.projects {
        for build in project.releases.iter().flat_map(|r| r.builds.iter()) {
            let here = |message: String| {
                (
                    project.file.clone(),
                    Problem {
                        loc: Some(build.loc),
                        message,
                    },
                )
            };
            if let Some(cuda) = &build.cuda {
                if !releases.cuda.is_empty() && releases.cuda_family_floor(cuda.major()).is_none() {
                    problems.push(here(format!(
                        "CUDA {cuda}: no CUDA {}.x release in the driver table",
                        cuda.major()
                    )));
                }
            }
            for pin in &build.requires {
                let Some(target) = releases.project(&pin.project) else {
                    problems.push(here(format!(
                        "`requires` names `{}`, which has no release file",
                        pin.project
                    )));
                    continue;
                };
                let matching: Vec<&Build> = target
                    .releases
                    .iter()
                    .filter(|r| pin.version.contains(r.version.pep440()))
                    .flat_map(|r| r.builds.iter())
                    .collect();
                if matching.is_empty() {
                    problems.push(here(format!(
                        "`requires` {} {}: no release of it in its file matches",
                        pin.project, pin.version_text
                    )));
                }
                for v in &pin.variants {
                    if !matching.iter().any(|b| &b.variant == v) {
                        problems.push(here(format!(
                            "`requires` {} {} variant `{v}`: no such build",
                            pin.project, pin.version_text
                        )));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_one(text: &str) -> (Releases, Vec<String>) {
        let cuda = "schema: mlcompat.releases/1\ncuda:\n  - {version: \"13.0\", driver_linux: \"580.65.06\", source: \"NVIDIA release notes Table 3\", checked: 2026-11-28}\n";
        let mut problems = Vec::new();
        let r = load(
            &[
                ("releases/cuda.yaml", cuda),
                ("releases/pytorch.yaml", text),
            ],
            &["pytorch", "vllm"],
            &mut problems,
        );
        let shown = problems
            .iter()
            .map(|(f, p)| match p.loc {
                Some(l) => format!("{f}:{l}: {}", p.message),
                None => format!("{f}: {}", p.message),
            })
            .collect();
        (r, shown)
    }

    const GOOD: &str = r#"schema: mlcompat.releases/1
project: pytorch
package: torch
releases:
  - version: "2.14.0"
    builds:
      - variant: cu130
        method: pip
        platforms: [linux-x86_64]
        python: ">=3.10,<3.15"
        accelerator: cuda
        cuda: "13.0"
        sass: [sm_80, sm_120]
        pip: "torch==2.14.0"
        source: "PyPI torch-2.14.0 wheel metadata"
        checked: 2026-11-28
  - version: "2.15.0"
    builds:
      - variant: cpu
        method: pip
        platforms: [macos-arm64]
        python: ">=3.11"
        accelerator: cpu
        pip: "torch==2.15.0"
        source: "PyPI torch-2.15.0 wheel metadata"
        checked: 2026-11-28
"#;

    #[test]
    fn loads_and_sorts_newest_first() {
        let (r, problems) = load_one(GOOD);
        assert!(problems.is_empty(), "{problems:?}");
        let p = r.project("pytorch").unwrap();
        assert_eq!(p.releases[0].version.to_string(), "2.15.0");
        assert_eq!(p.releases[1].builds[0].sass.len(), 2);
        assert_eq!(r.checked, "2026-11-28");
    }

    #[test]
    fn every_problem_has_its_place() {
        let bad = GOOD
            .replace(
                "checked: 2026-11-28\n  - version",
                "checked: last week\n  - version",
            )
            .replace("sass: [sm_80, sm_120]", "sass: [sm_80, compute_120]")
            .replace("platforms: [macos-arm64]", "platforms: [macos-m4]")
            .replace("        pip: \"torch==2.15.0\"\n", "");
        let (_, problems) = load_one(&bad);
        let text = problems.join("\n");
        assert!(
            text.contains("releases/pytorch.yaml:13:15: `compute_120` is not a real architecture"),
            "{text}"
        );
        assert!(
            text.contains("releases/pytorch.yaml:16:18: `checked` must be a date"),
            "{text}"
        );
        assert!(text.contains("unknown platform `macos-m4`"), "{text}");
        assert!(text.contains("a `pip` build needs `pip:`"), "{text}");
    }

    #[test]
    fn unknown_fields_pins_and_projects_are_refused() {
        let bad = GOOD
            .replace("project: pytorch", "project: pytorch\nhomepage: x")
            .replace(
                "        pip: \"torch==2.14.0\"\n",
                "        pip: \"torch==2.14.0\"\n        requires: [{project: vllm, version: \"==1\"}]\n        colour: blue\n",
            );
        let (_, problems) = load_one(&bad);
        let text = problems.join("\n");
        assert!(text.contains("unknown key `homepage`"), "{text}");
        assert!(text.contains("unknown key `colour`"), "{text}");
        let (_, problems) = load_one(&GOOD.replace(
            "        pip: \"torch==2.14.0\"\n",
            "        pip: \"torch==2.14.0\"\n        requires: [{project: vllm, version: \"==1\"}]\n",
        ));
        assert!(
            problems
                .join("\n")
                .contains("`requires` names `vllm`, which has no release file"),
            "{problems:?}"
        );
        let (_, problems) = load_one(&GOOD.replace("project: pytorch", "project: torch"));
        assert!(
            problems.join("\n").contains("not a software id"),
            "{problems:?}"
        );
    }

    #[test]
    fn placeholders_are_checked() {
        let mut problems = Vec::new();
        check_placeholders(
            "MAX_JOBS={max_jobs} X={arch} ${HOME} {oops}",
            Loc::default(),
            &mut problems,
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("`{oops}`"));
    }

    #[test]
    fn dates() {
        assert!(is_date("2026-11-28"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("28.11.2026"));
        assert!(!is_date("2026-1-1"));
    }
}
