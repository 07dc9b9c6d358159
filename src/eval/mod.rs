//! The evaluator: a pure function from (matrix, facts) to a report. No I/O, no clock.
//!
//! A row's status is decided here and nowhere else, in three steps: the first rule of the row whose
//! condition holds; then the installation itself (an installed package whose declared requirements are
//! unmet, or whose `--deep` import fails, is ❌ whatever the platform allows — `requirements`,
//! `import_gate`, `damaged`); then what the row needs (`requires`: a row is never better than the
//! software it cannot work without, and a broken row it needs gives its fix). Which rows decide the exit
//! status, and what to do next, follow.

mod damaged;
mod fixes;
pub(crate) mod logic;
mod next;
mod requirements;

use crate::facts::keys::{FactKey, Lookup, Value};
use crate::facts::{normalize_package, Arch, Facts, MachineKind};
use crate::matrix::{Matrix, Rule, RunsOn, Software, Status, Support};
use crate::report::{Problem, Report, Row, Summary, REPORT_SCHEMA};

pub use fixes::fix_already_done;
pub use logic::Truth;

/// What the user asked of this evaluation besides the facts.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Software ids that must work here (`--require`): they decide the exit status whether installed or not.
    pub required: Vec<String>,
    /// Warnings count as problems too (`--strict`).
    pub strict: bool,
}

pub fn evaluate(matrix: &Matrix, facts: &Facts) -> Report {
    evaluate_request(matrix, facts, &Request::default())
}

pub fn evaluate_request(matrix: &Matrix, facts: &Facts, request: &Request) -> Report {
    let mut rows: Vec<Row> = matrix
        .software
        .iter()
        .map(|sw| evaluate_row(matrix, sw, facts))
        .collect();
    apply_requirements(matrix, facts, &mut rows);
    for row in &mut rows {
        row.required = request.required.contains(&row.id);
    }
    let mut summary = Summary::default();
    for row in &rows {
        match row.status {
            Status::Ok => summary.ok += 1,
            Status::Warn => summary.warn += 1,
            Status::Fail => summary.fail += 1,
        }
    }
    summary.problems = problems(facts, &rows, request);
    let recommendations = next::recommend(matrix, facts, &rows);
    Report {
        schema: REPORT_SCHEMA,
        machine: crate::report::machine_summary(facts),
        summary,
        rows,
        recommendations,
        matrix_checked: matrix.checked_range(),
    }
}

/// The rows that decide the exit status: installed software that fails (or warns, under `--strict`),
/// and every row named by `--require` that fails, warns under `--strict`, or is missing from an
/// environment that was inspected. Hardware facts and absent software never fail a CI gate.
fn problems(facts: &Facts, rows: &[Row], request: &Request) -> Vec<Problem> {
    let inspected = facts
        .machine
        .as_ref()
        .is_none_or(|m| m.kind != MachineKind::Profile);
    let bad = |s: Status| s == Status::Fail || (request.strict && s == Status::Warn);
    rows.iter()
        .filter_map(|row| {
            let why = if row.installed.is_some() && bad(row.status) {
                format!("{} is installed and {}", row.name, status_word(row.status))
            } else if row.required && bad(row.status) {
                format!("{} is required and {}", row.name, status_word(row.status))
            } else if row.required && inspected && row.installed.is_none() && row.detectable {
                format!("{} is required and not installed", row.name)
            } else {
                return None;
            };
            Some(Problem {
                id: row.id.clone(),
                status: row.status,
                why,
            })
        })
        .collect()
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "fine",
        Status::Warn => "warns",
        Status::Fail => "fails",
    }
}

/// Whether a row's software was found, and its version.
#[derive(Debug, Clone)]
pub(crate) enum Installed {
    Found {
        shown: String,
        version: Option<Value>,
        /// The architecture the program or interpreter was built for.
        arch: Option<Arch>,
        /// The Python distribution that was found (its import proves it works).
        dist: Option<String>,
    },
    NotFound,
    Unknown(String),
}

pub(crate) fn detect(sw: &Software, facts: &Facts) -> Installed {
    let mut unknown = None;
    if !sw.detect.python.is_empty() {
        match &facts.python {
            None => {
                unknown = Some(format!(
                    "no Python environment: {}",
                    facts.why_unknown("python")
                ))
            }
            Some(py) => {
                for name in &sw.detect.python {
                    let dist = normalize_package(name);
                    if let Some(v) = py.packages.get(&dist) {
                        return Installed::Found {
                            shown: runtime_version(facts, &dist).unwrap_or_else(|| v.to_string()),
                            version: Some(Value::Py(v.clone())),
                            arch: py.arch,
                            dist: Some(name.clone()),
                        };
                    }
                }
            }
        }
    }
    if !sw.detect.binaries.is_empty() {
        match &facts.binaries {
            None => {
                unknown = unknown.or_else(|| {
                    Some(format!(
                        "programs on PATH unknown: {}",
                        facts.why_unknown("binaries")
                    ))
                })
            }
            Some(bins) => {
                for name in &sw.detect.binaries {
                    if let Some(b) = bins.get(name) {
                        return Installed::Found {
                            shown: b
                                .version
                                .as_ref()
                                .map_or_else(|| name.clone(), ToString::to_string),
                            version: b.version.clone().map(Value::Version),
                            arch: b.arch,
                            dist: None,
                        };
                    }
                }
            }
        }
    }
    if !sw.detect.libraries.is_empty() {
        match &facts.libraries {
            None => {
                unknown = unknown.or_else(|| {
                    Some(format!(
                        "libraries unknown: {}",
                        facts.why_unknown("libraries")
                    ))
                })
            }
            Some(libs) => {
                for name in &sw.detect.libraries {
                    if let Some(path) = libs.get(name) {
                        let file = path.rsplit('/').next().unwrap_or(path).to_string();
                        return Installed::Found {
                            shown: file,
                            version: None,
                            arch: None,
                            dist: None,
                        };
                    }
                }
            }
        }
    }
    unknown.map_or(Installed::NotFound, Installed::Unknown)
}

/// torch's own `__version__` carries the build's local tag (`2.15.0+cu132`) where the wheel's metadata on
/// PyPI does not; shown when it names the same release.
fn runtime_version(facts: &Facts, dist: &str) -> Option<String> {
    if dist != "torch" {
        return None;
    }
    let runtime = facts.torch.as_ref()?.version.as_ref()?;
    let listed = facts.python.as_ref()?.packages.get(dist)?;
    let public = |t: &str| t.split('+').next().unwrap_or(t).to_string();
    (runtime.local() != "" && public(&runtime.to_string()) == public(&listed.to_string()))
        .then(|| runtime.to_string())
}

/// Facts as one row's rules see them: the machine's, plus `installed` for this row.
pub(crate) struct RowFacts<'a> {
    pub facts: &'a Facts,
    pub installed: Installed,
}

impl RowFacts<'_> {
    pub fn lookup(&self, key: &FactKey) -> Lookup {
        match (key, &self.installed) {
            (FactKey::Installed, Installed::Found { .. }) => Lookup::Known(Value::Bool(true)),
            (FactKey::Installed, Installed::NotFound) => Lookup::Known(Value::Bool(false)),
            (
                FactKey::InstalledVersion,
                Installed::Found {
                    version: Some(v), ..
                },
            ) => Lookup::Known(v.clone()),
            (FactKey::InstalledVersion, Installed::Found { .. }) => {
                Lookup::Unknown("installed version not reported".into())
            }
            (FactKey::InstalledArch, Installed::Found { arch: Some(a), .. }) => {
                Lookup::Known(Value::Text(a.as_str().into()))
            }
            (FactKey::InstalledArch, Installed::Found { .. }) => {
                Lookup::Unknown("the program's architecture was not reported".into())
            }
            (FactKey::InstalledVersion | FactKey::InstalledArch, Installed::NotFound) => {
                Lookup::Absent
            }
            (
                FactKey::Installed | FactKey::InstalledVersion | FactKey::InstalledArch,
                Installed::Unknown(why),
            ) => Lookup::Unknown(why.clone()),
            _ => key.lookup(self.facts),
        }
    }

    /// Replaces `{fact}` in a rule's text with the fact's value.
    pub fn interpolate(&self, text: &str) -> String {
        replace_placeholders(text, |name| {
            let key = FactKey::parse(name).ok()?;
            Some(match self.lookup(&key) {
                Lookup::Known(v) => v.to_string(),
                Lookup::Absent => "none".to_string(),
                Lookup::Unknown(_) => "unknown".to_string(),
            })
        })
    }
}

/// `text` with each `{name}` replaced by `value(name)`; a name it does not know (`None`), and text from an
/// unclosed `{` on, stay as written.
pub(crate) fn replace_placeholders(text: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &rest[start + 1..start + len];
        match value(name) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..=start + len]),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether a rule's condition tests what is installed (environment facts) rather than the platform.
fn judges_installation(rule: &Rule) -> bool {
    rule.when
        .as_ref()
        .is_some_and(|c| c.facts().iter().any(|k| k.is_environment()))
}

/// The first of the row's programs found on PATH whose `--version` failed (`failed.binaries.NAME`).
fn broken_binary(sw: &Software, facts: &Facts) -> Option<String> {
    let bins = facts.binaries.as_ref()?;
    sw.detect.binaries.iter().find_map(|name| {
        bins.get(name)?;
        let failure = facts.failed.get(&format!("binaries.{name}"))?;
        Some(format!(
            "{name} is on PATH but `{name} --version` failed ({failure})"
        ))
    })
}

fn evaluate_row(matrix: &Matrix, sw: &Software, facts: &Facts) -> Row {
    let ctx = RowFacts {
        facts,
        installed: detect(sw, facts),
    };
    let installed = match &ctx.installed {
        Installed::Found { shown, .. } => Some(shown.clone()),
        _ => None,
    };
    let mut row = Row {
        id: sw.id.clone(),
        name: sw.name.clone(),
        category: sw.category.clone(),
        category_title: matrix.category_title(&sw.category).to_string(),
        status: Status::Warn,
        support: Support::Unknown,
        installed,
        detectable: !(sw.detect.python.is_empty()
            && sw.detect.binaries.is_empty()
            && sw.detect.libraries.is_empty()),
        required: false,
        note: "no rule applies".into(),
        reason: "No rule of the matrix applies to this machine.".into(),
        fix: None,
        fix_matters_when_ok: false,
        source: String::new(),
        rule: String::new(),
        runs_on: RunsOn::Gpu,
        missing_fact: None,
        warnings: Vec::new(),
        import: None,
        failure: None,
    };
    // Validation guarantees a fallback rule without `when`, so the loop decides on a real matrix.
    let mut decided_by_import = false;
    for rule in &sw.rules {
        let truth = rule
            .when
            .as_ref()
            .map_or(Truth::True, |c| logic::eval(c, &ctx));
        row.rule = rule.id.clone();
        row.source = rule.source.clone();
        row.runs_on = rule.runs_on;
        decided_by_import = rule
            .when
            .as_ref()
            .is_some_and(|c| c.facts().iter().any(|k| matches!(k, FactKey::Import(_))));
        match truth {
            Truth::False => continue,
            Truth::Unknown(missing) if missing.iter().all(|(k, _)| k.is_environment()) => continue,
            Truth::Unknown(missing) => {
                let (key, why) = missing
                    .iter()
                    .find(|(k, _)| !k.is_environment())
                    .unwrap_or(&missing[0]);
                row.status = Status::Warn;
                row.support = Support::Unknown;
                row.note = format!("cannot tell ({key} unknown)");
                row.reason = format!(
                    "Cannot tell: `{key}` is unknown ({why}); it decides \"{}\".",
                    rule.note
                );
                row.fix = Some(next::how_to_supply(key, facts));
                row.missing_fact = Some(key.to_string());
                break;
            }
            Truth::True => {
                row.status = rule.status;
                row.support = rule.support;
                row.note = ctx.interpolate(&rule.note);
                row.reason = ctx.interpolate(&rule.reason);
                row.fix = rule.fix.as_deref().map(|f| ctx.interpolate(f));
                row.failure = rule.failure.clone();
                // Where the release data covers this software, the install plan writes the fix, so
                // doctor and `install-plan` cannot disagree; the rule's own advice stays where the
                // software cannot run here or the planner has nothing that fits.
                // A known failure's fix that is not an installation (a setting, a flag) stays.
                let planned_row = match rule
                    .failure
                    .as_deref()
                    .and_then(|id| matrix.failures.get(id))
                {
                    None => Some(sw.id.as_str()),
                    Some(f) => match &f.fix {
                        crate::matrix::failures::FailureFix::Install { row, .. } => {
                            Some(row.as_str())
                        }
                        crate::matrix::failures::FailureFix::Text(_) => None,
                    },
                };
                if let (Some(id), true) = (
                    planned_row,
                    row.fix.is_some() && rule.support != Support::No,
                ) {
                    if let Some(planned) = crate::plan::fix_for(matrix, facts, id, rule.runs_on) {
                        row.fix = Some(planned);
                    }
                }
                row.fix_matters_when_ok = judges_installation(rule);
                // An installed program that hangs or crashes on `--version` is not ✅, whatever the
                // platform supports.
                if let Some(why) = broken_binary(sw, facts) {
                    if row.status == Status::Ok {
                        row.status = Status::Warn;
                        row.note = "installed, but broken?".into();
                    }
                    row.reason = format!("{why}. {}", row.reason);
                }
                break;
            }
        }
    }
    if let Installed::Found {
        dist: Some(dist), ..
    } = &ctx.installed
    {
        requirements::gate(matrix, dist, facts, &mut row);
        import_gate(matrix, sw, dist, facts, decided_by_import, &mut row);
        damaged::gate(facts, &mut row);
        if let Some(statement) = sw.detect.import_of(dist) {
            row.import = Some(
                match facts.imports.as_ref().map(|i| i.get(&statement.module)) {
                    None => crate::report::ImportCheck::NotTried,
                    Some(Some(r)) if r == "ok" => crate::report::ImportCheck::Ok,
                    // Listed facts without this module: the import was not tried for it.
                    Some(None) => crate::report::ImportCheck::NotTried,
                    Some(Some(_)) => crate::report::ImportCheck::Failed,
                },
            );
        }
    }
    // A gate that overrode the deciding rule (a failed import, an unmet requirement) is not its failure.
    if row.failure.is_some()
        && sw
            .rules
            .iter()
            .find(|r| r.id == row.rule)
            .is_none_or(|r| r.failure != row.failure)
    {
        row.failure = None;
    }
    // A command that would only install what is already here is no advice.
    if row.installed.is_some()
        && row
            .fix
            .as_deref()
            .is_some_and(|f| fix_already_done(f, facts))
    {
        row.fix = None;
    }
    row
}

/// An installed distribution whose import failed under `--deep` does not work, whatever the platform
/// allows. A rule that already failed the row (with a more specific diagnosis) is kept.
fn import_gate(
    matrix: &Matrix,
    sw: &Software,
    dist: &str,
    facts: &Facts,
    decided_by_import: bool,
    row: &mut Row,
) {
    let Some(statement) = sw.detect.import_of(dist) else {
        return;
    };
    let module = &statement.module;
    row.warnings = facts
        .import_warnings
        .get(module)
        .cloned()
        .unwrap_or_default();
    let Some(result) = facts.imports.as_ref().and_then(|i| i.get(module)) else {
        return;
    };
    let timed_out = result.contains("timed out after");
    // A rule that failed the row for another reason (or for a real import error) keeps its diagnosis.
    if result == "ok" || (row.status == Status::Fail && !(timed_out && decided_by_import)) {
        return;
    }
    let version = row.installed.clone().unwrap_or_default();
    // An import that did not finish in time is not known to be broken: a loaded machine imports torch
    // and its dependents slowly.
    if timed_out {
        row.status = Status::Warn;
        row.support = crate::matrix::Support::Unknown;
        row.note = "import did not finish".into();
        row.reason = format!(
            "{} {version} is installed but `{statement}` did not finish: {result}. A healthy import can be this slow on a loaded machine; one that never finishes is broken.",
            sw.name
        );
        row.fix = Some(format!(
            "Run `python -c \"{statement}\"` to see whether it finishes, or give it longer: mlcompat doctor --deep --import-timeout 300"
        ));
        row.fix_matters_when_ok = false;
        row.rule = "import-timed-out".into();
        row.source = format!("mlcompat doctor --deep: `{statement}` in a child Python");
        return;
    }
    row.status = Status::Fail;
    row.note = "installed, import fails".into();
    row.reason = format!(
        "{} {version} is installed but `{statement}` failed: {result}",
        sw.name
    );
    // An error that names a distribution whose declared requirements are unmet (torchvision built for
    // another torch) has that root cause, and its fix.
    let named = requirements::named_in(facts, result);
    row.fix = Some(if named.is_empty() {
        fixes::for_failed_import(dist, result, facts)
    } else {
        requirements::fix_for(matrix, &named)
    });
    row.fix_matters_when_ok = false;
    row.rule = "import-failed".into();
    row.source = format!("mlcompat doctor --deep: `{statement}` in a child Python");
    row.missing_fact = None;
}

/// A row is never better than a row it requires: mlx-lm cannot be ✅ while MLX fails, and installed
/// software whose required package is missing is ❌. Applied until nothing changes (requirements chain).
fn apply_requirements(matrix: &Matrix, facts: &Facts, rows: &mut [Row]) {
    for _ in 0..matrix.software.len() {
        let mut changed = false;
        for (i, sw) in matrix.software.iter().enumerate() {
            for need in &sw.requires {
                if let Some(when) = &need.when {
                    let ctx = RowFacts {
                        facts,
                        installed: detect(sw, facts),
                    };
                    if !matches!(logic::eval(when, &ctx), Truth::True) {
                        continue;
                    }
                }
                let Some(dep) = rows.iter().find(|r| r.id == need.id).cloned() else {
                    continue;
                };
                let row = &mut rows[i];
                let missing = row.installed.is_some() && dep.installed.is_none() && dep.detectable;
                if missing {
                    if let Some((without, source)) = &need.without {
                        // An optional requirement that is absent limits what the row does, not whether
                        // it works: transformers without torch still loads tokenizers and configs.
                        let note = format!("without {}: {without}", dep.name);
                        if row.status != Status::Fail && row.note != note {
                            row.note = note;
                            row.reason = format!(
                                "{} is installed without {}, which it does not need for everything: {without}.",
                                row.name, dep.name
                            );
                            row.source.clone_from(source);
                            changed = true;
                        }
                        continue;
                    }
                }
                // Both installed and both broken as installed (an import that fails, requirements that
                // are unmet): what this row needs is the root cause, and its fix is the one to run —
                // bitsandbytes fails to import because torch does.
                let broken_install = |r: &Row| {
                    r.installed.is_some()
                        && r.status == Status::Fail
                        && (r.rule.ends_with("import-failed") || r.rule == "requirements-unmet")
                };
                let same_cause = broken_install(row) && broken_install(&dep) && row.fix != dep.fix;
                let limited = dep.status > row.status || same_cause;
                if missing
                    && row.rule != format!("requires-{}", dep.id)
                    && row.status != Status::Fail
                {
                    row.status = Status::Fail;
                    row.note = format!("needs {}, not installed", dep.name);
                    row.reason = format!(
                        "{} is installed, but {} — which it cannot work without — is not.",
                        row.name, dep.name
                    );
                    row.fix = dep.fix.clone();
                    row.source = dep.source.clone();
                    row.rule = format!("requires-{}", dep.id);
                    row.fix_matters_when_ok = false;
                    changed = true;
                } else if limited {
                    row.status = dep.status;
                    if dep.support == Support::Unknown || dep.support == Support::No {
                        row.support = dep.support;
                    }
                    row.note = format!("needs {}: {}", dep.name, dep.note);
                    row.reason = format!("{} needs {}: {}", row.name, dep.name, dep.reason);
                    row.fix = dep.fix.clone();
                    row.source = dep.source.clone();
                    row.missing_fact = dep.missing_fact.clone();
                    row.rule = format!("requires-{}", dep.id);
                    row.fix_matters_when_ok = false;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}
