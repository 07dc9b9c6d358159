//! One answer per question: on every reference machine, a software row with release data is ❌ exactly
//! when `install-plan` finds nothing that fits, and where both say it runs on a machine with a GPU, the
//! plan computes on the side of the machine the row speaks of (a row that promises the GPU is not
//! answered with a CPU build). `matrix audit` lists each pair that does not hold, unless the release file
//! names it as a known gap (`gaps:`), and each known gap that holds again.

use crate::facts::Facts;
use crate::matrix::audit::{Finding, FindingKind};
use crate::matrix::{Matrix, RunsOn, Status};

use super::{Installer, Request};

/// Where a row and the plan for it disagree on one machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub machine: String,
    pub id: String,
    pub text: String,
}

/// Every (project with release data) on which the doctor's row and `install-plan` disagree for `facts`.
pub fn disagreements(matrix: &Matrix, machine: &str, facts: &Facts) -> Vec<Disagreement> {
    let report = crate::eval::evaluate(matrix, facts);
    let has_gpu = facts.primary_gpu().is_some();
    let mut out = Vec::new();
    let mut push = |id: &str, text: String| {
        out.push(Disagreement {
            machine: machine.to_string(),
            id: id.to_string(),
            text,
        })
    };
    for project in &matrix.releases.projects {
        let id = project.id.as_str();
        let Some(row) = report.rows.iter().find(|r| r.id == id) else {
            push(id, "release data but no doctor row".into());
            continue;
        };
        let request = Request::one(id, Installer::Pip);
        let plan = super::plan(matrix, facts, &request);
        // "Not planned here" (no release data for this platform) is no verdict: it agrees with any row.
        if plan.not_planned.iter().any(|n| n.id == id) {
            continue;
        }
        let row_text = format!("row {:?} \"{}\" (rule {})", row.status, row.note, row.rule);
        if (row.status == Status::Fail) == plan.possible {
            let plan_text = if plan.possible {
                plan.resolved
                    .get(id)
                    .map_or(String::new(), |r| format!("{} {}", r.version, r.variant))
            } else {
                plan.blockers
                    .first()
                    .map_or("no blocker".to_string(), |b| b.constraint.clone())
            };
            push(
                id,
                format!(
                    "{row_text} vs plan possible={} ({plan_text})",
                    plan.possible
                ),
            );
            continue;
        }
        if !plan.possible || !has_gpu {
            continue;
        }
        let Some(resolved) = plan.resolved.get(id) else {
            continue;
        };
        let plan_side = if resolved.accelerator == "cpu" {
            RunsOn::Cpu
        } else {
            RunsOn::Gpu
        };
        if plan_side != row.runs_on {
            push(
                id,
                format!(
                    "{row_text} runs on the {} vs plan {} {} ({}) on the {}",
                    runs_on(row.runs_on),
                    resolved.version,
                    resolved.variant,
                    resolved.accelerator,
                    runs_on(plan_side)
                ),
            );
        }
    }
    out
}

fn runs_on(side: RunsOn) -> &'static str {
    match side {
        RunsOn::Gpu => "GPU",
        RunsOn::Cpu => "CPU",
    }
}

/// `matrix audit`'s findings: each disagreement on a reference profile that its release file does not
/// name as a gap, each named gap that agrees now, and each gap naming no profile.
pub fn audit_findings(matrix: &Matrix) -> Vec<Finding> {
    let mut found: Vec<Disagreement> = Vec::new();
    for p in &matrix.profiles {
        found.extend(disagreements(matrix, &p.id, &p.facts));
    }
    let mut out = Vec::new();
    for project in &matrix.releases.projects {
        let finding = |subject: String, message: String| Finding {
            file: project.file.clone(),
            line: None,
            column: None,
            subject,
            kind: FindingKind::ReleaseData,
            message,
        };
        for d in found.iter().filter(|d| d.id == project.id) {
            if project.gaps.iter().any(|g| g.profile == d.machine) {
                continue;
            }
            out.push(finding(
                format!("release data {} on profile {}", d.id, d.machine),
                format!(
                    "{}: add the build that runs there, correct the rule, or name it under `gaps:` with why",
                    d.text
                ),
            ));
        }
        for gap in &project.gaps {
            if matrix.profiles.iter().all(|p| p.id != gap.profile) {
                out.push(finding(
                    format!("gap {} on profile {}", project.id, gap.profile),
                    "names no reference profile".into(),
                ));
            } else if !found
                .iter()
                .any(|d| d.id == project.id && d.machine == gap.profile)
            {
                out.push(finding(
                    format!("gap {} on profile {}", project.id, gap.profile),
                    format!("row and plan agree now ({}): take it off `gaps:`", gap.why),
                ));
            }
        }
    }
    out
}
