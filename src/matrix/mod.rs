//! The software matrix: categories, software rows with their rules, and reference machine profiles.
//! `load` reads and validates the YAML (embedded or from `--matrix DIR`); the types here are what the
//! evaluator consumes, already checked: every fact a rule names exists, every value parses.

pub mod audit;
mod checked;
pub mod complete;
mod condition;
pub mod failures;
pub mod gpus;
mod load;
pub mod names;
pub mod releases;
pub mod workloads;

use serde::Serialize;

pub use checked::{CheckedRange, Day};

/// A software id is also a label name (`doctor --format nfd`): at most this long, Kubernetes' limit.
pub const LABEL_MAX: usize = 63;
/// The labels `doctor --format nfd` writes besides one per software row: no software id may be one of
/// them (the loader refuses it), or Node Feature Discovery would keep only the last of the two.
pub const RESERVED_LABELS: &[&str] = &[
    "problems",
    "fp4-verified",
    "fp4-native",
    "gpu-bandwidth-gbs",
    "cpu-bandwidth-gbs",
    "version",
];
pub use condition::{Condition, Test};
pub use load::{embedded, from_dir, from_files, from_files_on};

use crate::facts::Facts;
use crate::yaml::Loc;

pub const MATRIX_SCHEMA: &str = "mlcompat.matrix/1";
pub const LATEST_SCHEMA: &str = "mlcompat.latest/1";

#[derive(Debug, Clone)]
pub struct Matrix {
    pub categories: Vec<Category>,
    pub software: Vec<Software>,
    pub profiles: Vec<Profile>,
    pub workloads: workloads::Workloads,
    /// The newest release of each watched project (`latest.yaml`), for `matrix audit`.
    pub latest: Vec<Release>,
    /// The file the software rows came from, for `file:line:col` in audit findings.
    pub software_file: String,
    /// The file the latest releases came from (empty when there is none).
    pub latest_file: String,
    /// Release data for `install-plan` (`releases/*.yaml`).
    pub releases: releases::Releases,
    /// What a GPU's name says about it (`gpus.yaml`), for the completion step.
    pub gpus: gpus::GpuTable,
    /// Known failures (`failures.yaml`): what `explain` matches in a log, and what rules cite.
    pub failures: failures::Failures,
    /// Things that load but look wrong (unreachable rules); `matrix validate` prints them.
    pub warnings: Vec<crate::error::FileProblem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone)]
pub struct Software {
    pub id: String,
    pub name: String,
    pub category: String,
    pub homepage: Option<String>,
    pub detect: Detect,
    /// Software rows this one cannot work without (mlx-lm → mlx, vLLM → PyTorch): a row is never
    /// better than what it needs.
    pub requires: Vec<Requirement>,
    pub rules: Vec<Rule>,
    pub loc: Loc,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detect {
    #[serde(default)]
    pub python: Vec<String>,
    #[serde(default)]
    pub binaries: Vec<String>,
    #[serde(default)]
    pub libraries: Vec<String>,
    /// Python distribution → the import `doctor --deep` runs to prove it works, as users write it:
    /// `import mlx.core`, `from vllm import LLM` (a bare module name means `import` it). Validated at
    /// load ([`ImportStatement`]). An installed distribution whose import fails makes the row ❌.
    #[serde(default)]
    pub imports: std::collections::BTreeMap<String, String>,
    /// Distributions built for one exact release of this row's package (torchvision for torch): when one
    /// pins another release, it is the one to change.
    #[serde(default)]
    pub companions: Vec<String>,
}

impl Detect {
    /// The import `--deep` runs for `dist`, when the matrix names one (validated at load).
    pub fn import_of(&self, dist: &str) -> Option<ImportStatement> {
        self.imports.get(dist).and_then(|s| s.parse().ok())
    }
}

/// `import a.b` or `from a.b import C, D`: what a user's code runs first. Only dotted identifiers — no
/// relative import, no `*`, no `as`, nothing after — so the text is data, never code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportStatement {
    /// The module imported; its result is the fact `import.<module>`.
    pub module: String,
    /// Names taken from it (`from … import`), each resolved as Python does: an attribute (a lazy
    /// module's `__getattr__` runs) or else a submodule.
    pub names: Vec<String>,
}

impl std::str::FromStr for ImportStatement {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let identifier = |w: &str| {
            let mut chars = w.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let dotted = |w: &str| !w.is_empty() && w.split('.').all(identifier);
        let words: Vec<&str> = text.split_whitespace().collect();
        let bad = || {
            format!(
                "`{text}` is not an import: write `import a.b` or `from a.b import C, D` (dotted names only)"
            )
        };
        match words.as_slice() {
            [module] | ["import", module] if dotted(module) => Ok(ImportStatement {
                module: (*module).to_string(),
                names: Vec::new(),
            }),
            ["from", module, "import", rest @ ..] if dotted(module) && !rest.is_empty() => {
                let names: Vec<String> = rest
                    .join(" ")
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .collect();
                if names.iter().all(|n| identifier(n)) {
                    Ok(ImportStatement {
                        module: (*module).to_string(),
                        names,
                    })
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for ImportStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.names.is_empty() {
            write!(f, "import {}", self.module)
        } else {
            write!(f, "from {} import {}", self.module, self.names.join(", "))
        }
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// Whether the software can run on this platform at all, apart from how it is installed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Support {
    Yes,
    Partial,
    No,
    Unknown,
}

impl Status {
    pub fn default_support(self) -> Support {
        match self {
            Status::Ok => Support::Yes,
            Status::Warn => Support::Partial,
            Status::Fail => Support::No,
        }
    }
}

/// One software row another needs, where `when` holds (Unsloth needs bitsandbytes on NVIDIA only).
#[derive(Debug, Clone)]
pub struct Requirement {
    pub id: String,
    pub when: Option<Condition>,
    /// Set for an optional requirement: what the row still does without it installed ("tokenizers and
    /// configs only; models need PyTorch"), and the source that says so. Installed and broken, it limits
    /// the row like any other.
    pub without: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub when: Option<Condition>,
    pub status: Status,
    pub support: Support,
    pub note: String,
    /// May quote facts as `{gpu.name}`; checked at load.
    pub reason: String,
    pub fix: Option<String>,
    pub source: String,
    /// The known failure (`failures.yaml`) the rule predicts, when it names one.
    pub failure: Option<String>,
    /// Where the software computes when this rule decides: the machine's GPU (default) or its CPU
    /// (mlx[cpu] on an AMD GPU box). Estimates use the matching engine efficiency and machine figures.
    pub runs_on: RunsOn,
    /// The day `source` was read.
    pub checked: Day,
    pub loc: Loc,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RunsOn {
    #[default]
    Gpu,
    Cpu,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub id: String,
    pub facts: Facts,
    /// The file the profile came from.
    pub file: String,
    /// Each sourced figure with the day its source was read (`machine.sources` in the file).
    pub figures: Vec<Figure>,
}

/// One hardware figure's source in a profile, e.g. `bandwidth_gbs`.
#[derive(Debug, Clone)]
pub struct Figure {
    pub key: String,
    pub source: String,
    pub checked: Day,
    pub loc: Loc,
}

/// The newest release of a project the matrix knows, and the names that project goes by in sources
/// (`torch`, `PyTorch`). `matrix audit` flags sources that describe an older release series.
#[derive(Debug, Clone)]
pub struct Release {
    pub project: String,
    pub names: Vec<String>,
    pub version: String,
    pub checked: Day,
    pub source: String,
    pub loc: Loc,
    /// `latest.yaml`, or the release file it was derived from.
    pub file: String,
}

impl Matrix {
    /// A reference profile by its id, or by a name as people type it (`spark`, `DGX Spark`, `4090`,
    /// `RTX 5090`, `M3 Ultra`, `thor`, `gb10`): every word of the name must be a word of the profile's id,
    /// machine name or GPU (chip) name. A name several profiles answer to is an error that lists them.
    pub fn profile(&self, name: &str) -> Result<&Profile, crate::error::InputError> {
        if let Some(p) = self.profile_by_id(name) {
            return Ok(p);
        }
        let wanted = name_words(name);
        let found: Vec<&Profile> = if wanted.is_empty() {
            Vec::new()
        } else {
            self.profiles
                .iter()
                .filter(|p| {
                    let words = profile_words(p);
                    wanted.iter().all(|w| words.contains(w))
                })
                .collect()
        };
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(crate::error::InputError::UnknownProfile {
                name: name.to_string(),
                known: self.profile_ids().join(", "),
            }),
            several => Err(crate::error::InputError::Usage(format!(
                "profile `{name}` could be any of {}: name one by its id",
                several
                    .iter()
                    .map(|p| format!("{} ({})", p.id, profile_title(p)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// A software row by its id, its name (`LM Studio`), or a Python distribution or program it detects
    /// (`torch`, `flash-attn`, `llama-server`), as people type them.
    pub fn software_named(&self, name: &str) -> Option<&Software> {
        let name = name.trim();
        let dist = crate::facts::normalize_package(name);
        self.software
            .iter()
            .find(|s| s.id == name || s.name.eq_ignore_ascii_case(name))
            .or_else(|| {
                self.software.iter().find(|s| {
                    s.detect
                        .python
                        .iter()
                        .any(|d| crate::facts::normalize_package(d) == dist)
                        || s.detect.binaries.iter().any(|b| b == name)
                })
            })
    }

    /// A reference profile by its exact id.
    pub fn profile_by_id(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    pub fn profile_ids(&self) -> Vec<&str> {
        self.profiles.iter().map(|p| p.id.as_str()).collect()
    }

    /// The oldest and newest `checked` day of every rule, figure and release: how old the knowledge is.
    pub fn checked_range(&self) -> Option<CheckedRange> {
        let rules = self
            .software
            .iter()
            .flat_map(|s| s.rules.iter().map(|r| r.checked));
        let figures = self
            .profiles
            .iter()
            .flat_map(|p| p.figures.iter().map(|f| f.checked));
        let releases = self.latest.iter().map(|r| r.checked);
        let gpus = (self.gpus.gpus.iter().map(|g| g.checked))
            .chain(self.gpus.series.iter().map(|s| s.checked));
        CheckedRange::of(rules.chain(figures).chain(releases).chain(gpus))
    }

    pub fn category_title<'a>(&'a self, id: &'a str) -> &'a str {
        self.categories
            .iter()
            .find(|c| c.id == id)
            .map_or(id, |c| c.title.as_str())
    }
}

/// Words that name nobody in particular: vendors and form factors.
const NOISE_WORDS: &[&str] = &[
    "nvidia", "geforce", "apple", "amd", "intel", "desktop", "r", "tm",
];

/// The words of a profile name, vendor words dropped.
fn name_words(name: &str) -> Vec<String> {
    let mut words = names::words(name);
    words.retain(|w| !NOISE_WORDS.contains(&w.as_str()));
    words
}

fn profile_title(p: &Profile) -> String {
    p.facts
        .machine
        .as_ref()
        .map_or_else(|| p.id.clone(), |m| m.name.clone())
}

/// Every word a profile answers to: its id, its machine's name, its GPUs' and chip's names.
fn profile_words(p: &Profile) -> Vec<String> {
    let mut text = format!("{} {}", p.id, profile_title(p));
    for g in p.facts.gpus.iter().flatten() {
        text.push(' ');
        text.push_str(&g.name);
    }
    if let Some(chip) = p.facts.apple.as_ref().and_then(|a| a.chip.as_ref()) {
        text.push(' ');
        text.push_str(chip);
    }
    name_words(&text)
}

#[cfg(test)]
mod name_tests {
    #[test]
    fn profiles_answer_to_the_names_people_type() {
        let m = super::embedded().expect("the embedded matrix loads");
        for (typed, id) in [
            ("dgx-spark", "dgx-spark"),
            ("spark", "dgx-spark"),
            ("DGX Spark", "dgx-spark"),
            ("gb10", "dgx-spark"),
            ("4090", "rtx-4090"),
            ("RTX 4090", "rtx-4090"),
            ("rtx4090", "rtx-4090"),
            ("NVIDIA GeForce RTX 5090", "rtx-5090"),
            ("5090", "rtx-5090"),
            ("M3 Ultra", "mac-studio-m3-ultra"),
            ("thor", "jetson-agx-thor"),
            ("H200", "h200"),
            ("MI300X", "mi300x"),
            ("strix halo", "strix-halo"),
        ] {
            match m.profile(typed) {
                Ok(p) => assert_eq!(p.id, id, "{typed}"),
                Err(e) => panic!("{typed}: {e}"),
            }
        }
        let err = m
            .profile("H100")
            .expect_err("two H100 profiles")
            .to_string();
        assert!(
            err.contains("h100-pcie") && err.contains("h100-sxm"),
            "{err}"
        );
        assert!(m.profile("no such machine").is_err());
        assert!(m.profile("").is_err());
        assert!(m.profile("NVIDIA").is_err());
    }

    #[test]
    fn software_answers_to_its_pip_and_program_names() {
        let m = super::embedded().expect("the embedded matrix loads");
        for (typed, id) in [
            ("pytorch", "pytorch"),
            ("torch", "pytorch"),
            ("flash-attn", "flash-attention"),
            ("flash_attn", "flash-attention"),
            ("LM Studio", "lm-studio"),
            ("onnxruntime-gpu", "onnxruntime"),
            ("ai-dynamo", "dynamo"),
        ] {
            assert_eq!(
                m.software_named(typed).map(|s| s.id.as_str()),
                Some(id),
                "{typed}"
            );
        }
        assert!(m.software_named("no-such-thing").is_none());
    }
}
