//! The software matrix: categories, software rows with their rules, and reference machine profiles.
//! `load` reads and validates the YAML (embedded or from `--matrix DIR`); the types here are what the
//! evaluator consumes, already checked: every fact a rule names exists, every value parses.

mod condition;
mod load;
pub mod releases;
pub mod workloads;

use serde::Serialize;

pub use condition::{Condition, Test};
pub use load::{embedded, from_dir, from_files};

use crate::facts::Facts;
use crate::yaml::Loc;

pub const MATRIX_SCHEMA: &str = "mlcompat.matrix/1";

#[derive(Debug, Clone)]
pub struct Matrix {
    pub categories: Vec<Category>,
    pub software: Vec<Software>,
    pub profiles: Vec<Profile>,
    pub workloads: workloads::Workloads,
    /// Release data for `install-plan` (`releases/*.yaml`).
    pub releases: releases::Releases,
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
    /// Python distribution → the module `doctor --deep` imports to prove it works (`mlx` → `mlx.core`).
    /// An installed distribution whose import fails makes the row ❌.
    #[serde(default)]
    pub imports: std::collections::BTreeMap<String, String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// Whether the software can run on this platform at all, apart from how it is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    /// Where the software computes when this rule decides: the machine's GPU (default) or its CPU
    /// (mlx[cpu] on an AMD GPU box). Estimates use the matching engine efficiency and machine figures.
    pub runs_on: RunsOn,
    pub loc: Loc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
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
}

impl Matrix {
    pub fn profile(&self, id: &str) -> Result<&Profile, crate::error::InputError> {
        self.profiles.iter().find(|p| p.id == id).ok_or_else(|| {
            crate::error::InputError::UnknownProfile {
                name: id.to_string(),
                known: self.profile_ids().join(", "),
            }
        })
    }

    pub fn profile_ids(&self) -> Vec<&str> {
        self.profiles.iter().map(|p| p.id.as_str()).collect()
    }

    pub fn category_title<'a>(&'a self, id: &'a str) -> &'a str {
        self.categories
            .iter()
            .find(|c| c.id == id)
            .map_or(id, |c| c.title.as_str())
    }
}
