//! What `pip check` reports, from the METADATA the Python probe already reads: every installed
//! distribution's declared requirements (`Requires-Dist`, markers evaluated for this interpreter) that the
//! environment does not meet — missing, or at a version the requirement excludes. Beyond pip check, the
//! requirements of an extra count where an installed requirer asks for it (`vllm` needs `xgrammar` through
//! `outlines[…]`), and each finding lists what needs the broken distribution, so a row can be judged by
//! the distributions it imports.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::facts::UnmetRequirement;
use crate::pep508::{MarkerEnv, Requirement};
use crate::version::PyVersion;

/// One installed distribution as its METADATA declares it (the first one per name on `sys.path`).
#[derive(Debug, Clone)]
pub struct Distribution {
    pub version: PyVersion,
    /// `Requires-Dist` lines, verbatim.
    pub requires: Vec<String>,
}

/// Every distribution's requirements: those that apply without an extra parsed once, those of an extra
/// (three in four lines of a large environment: test and dev dependencies) kept as text and parsed when
/// an installed requirer asks for that extra. A line that is not PEP 508 is skipped, as pip skips what
/// it cannot parse.
pub struct Parsed<'a> {
    base: BTreeMap<&'a str, Vec<Requirement>>,
    extra_lines: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> Parsed<'a> {
    pub fn new(installed: &'a BTreeMap<String, Distribution>) -> Parsed<'a> {
        let mut base: BTreeMap<&str, Vec<Requirement>> = BTreeMap::new();
        let mut extra_lines: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, d) in installed {
            let (mut b, mut e) = (Vec::new(), Vec::new());
            for line in &d.requires {
                let marker = line.split_once(';').map_or("", |(_, m)| m);
                if marker.contains("extra") {
                    e.push(line.as_str());
                } else if let Ok(r) = line.parse::<Requirement>() {
                    b.push(r);
                }
            }
            base.insert(name.as_str(), b);
            extra_lines.insert(name.as_str(), e);
        }
        Parsed { base, extra_lines }
    }

    fn base(&self, name: &str) -> &[Requirement] {
        self.base.get(name).map_or(&[], Vec::as_slice)
    }

    /// The requirements of `name`'s extras: all of them, or those whose marker may name `only` (a
    /// normalized extra; the marker's evaluation decides, this only spares parsing the others).
    fn of_extras(&self, name: &str, only: Option<&str>) -> Vec<Requirement> {
        self.extra_lines
            .get(name)
            .into_iter()
            .flatten()
            .filter(|l| {
                only.is_none_or(|extra| {
                    let marker = l.split_once(';').map_or("", |(_, m)| m);
                    marker
                        .to_ascii_lowercase()
                        .replace(['_', '.'], "-")
                        .contains(extra)
                })
            })
            .filter_map(|l| l.parse::<Requirement>().ok())
            .collect()
    }
}

/// The unmet requirements of `installed` (normalized name → distribution; `parsed`: their requirements),
/// sorted by requirer.
pub fn check(
    installed: &BTreeMap<String, Distribution>,
    parsed: &Parsed,
    env: &MarkerEnv,
) -> Vec<UnmetRequirement> {
    // Extras each distribution is asked for by an installed requirer, to a fixed point.
    let mut extras: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut queue: VecDeque<(&str, Option<String>)> =
        installed.keys().map(|n| (n.as_str(), None)).collect();
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut unmet: Vec<UnmetRequirement> = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    while let Some((name, extra)) = queue.pop_front() {
        let Some(dist) = installed.get(name) else {
            continue;
        };
        let asked: Vec<String> = extra.iter().cloned().collect();
        let of_extra;
        let reqs: &[Requirement] = match &extra {
            None => parsed.base(name),
            Some(e) => {
                of_extra = parsed.of_extras(name, Some(e));
                &of_extra
            }
        };
        for req in reqs {
            let applies = match &extra {
                None => req.applies(env, &[]),
                // Only what this extra adds: the base requirements were checked without it.
                Some(_) => req.applies(env, &asked) && !req.applies(env, &[]),
            };
            if !applies {
                continue;
            }
            let key = || (name.to_string(), req.spec());
            match installed.get_key_value(req.name.as_str()) {
                Some((dep_name, dep)) => {
                    edges.entry(name).or_default().insert(dep_name.as_str());
                    for e in &req.extras {
                        if extras
                            .entry(dep_name.as_str())
                            .or_default()
                            .insert(e.clone())
                        {
                            queue.push_back((dep_name.as_str(), Some(e.clone())));
                        }
                    }
                    if !req.accepts(dep.version.pep440()) && seen.insert(key()) {
                        unmet.push(finding(
                            name,
                            dist,
                            req,
                            Some(dep.version.to_string()),
                            &extra,
                        ));
                    }
                }
                None => {
                    if seen.insert(key()) {
                        unmet.push(finding(name, dist, req, None, &extra));
                    }
                }
            }
        }
    }
    // What needs each requirer, directly or through others: the reverse closure of the edges.
    let mut needed_by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, tos) in &edges {
        for to in tos {
            needed_by.entry(to).or_default().insert(from);
        }
    }
    for u in &mut unmet {
        let mut found: BTreeSet<&str> = BTreeSet::new();
        let mut todo: Vec<&str> = vec![u.dist.as_str()];
        while let Some(n) = todo.pop() {
            for parent in needed_by.get(n).into_iter().flatten() {
                if *parent != u.dist && found.insert(parent) {
                    todo.push(parent);
                }
            }
        }
        u.needed_by = found.into_iter().map(str::to_string).collect();
    }
    unmet.sort_by(|a, b| (&a.dist, &a.requires).cmp(&(&b.dist, &b.requires)));
    unmet
}

/// The CUDA wheels (`nvidia-*`, `triton`, `cuda-toolkit`) that no other installed distribution needs,
/// directly or through other CUDA wheels: what a CPU torch installed over a CUDA one leaves behind.
pub fn unused_cuda_wheels(
    installed: &BTreeMap<String, Distribution>,
    parsed: &Parsed,
    env: &MarkerEnv,
) -> Vec<String> {
    let is_cuda = crate::facts::is_cuda_wheel;
    // A requirement with a marker counts wherever it applies; a CUDA wheel's extras count too
    // (`cuda-toolkit[cublas]` brings nvidia-cublas through one).
    let requires = |name: &str| -> Vec<String> {
        let mut names: Vec<String> = parsed
            .base(name)
            .iter()
            .filter(|r| r.marker.is_some() || r.applies(env, &[]))
            .map(|r| r.name.clone())
            .collect();
        if is_cuda(name) {
            names.extend(parsed.of_extras(name, None).into_iter().map(|r| r.name));
        }
        names
    };
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = installed
        .keys()
        .filter(|n| !is_cuda(n))
        .flat_map(|n| requires(n))
        .collect();
    while let Some(n) = todo.pop() {
        if installed.contains_key(&n) && used.insert(n.clone()) {
            todo.extend(requires(&n));
        }
    }
    installed
        .keys()
        .filter(|n| is_cuda(n) && !used.contains(*n))
        .cloned()
        .collect()
}

fn finding(
    name: &str,
    dist: &Distribution,
    req: &Requirement,
    installed: Option<String>,
    extra: &Option<String>,
) -> UnmetRequirement {
    UnmetRequirement {
        dist: name.to_string(),
        version: dist.version.to_string(),
        requires: req.spec(),
        installed,
        extra: extra.clone(),
        needed_by: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> MarkerEnv {
        MarkerEnv::for_interpreter("3.11.7", "x86_64", "cpython")
    }

    fn dists(list: &[(&str, &str, &[&str])]) -> BTreeMap<String, Distribution> {
        list.iter()
            .map(|(n, v, r)| {
                (
                    n.to_string(),
                    Distribution {
                        version: v.parse().unwrap(),
                        requires: r.iter().map(|s| s.to_string()).collect(),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn leftover_cuda_wheels_are_the_libraries_nothing_needs() {
        // A CPU torch over a CUDA one; nvidia-ml-py (NVML bindings, seen on the H200 box) is no CUDA
        // library wheel, and a CUDA wheel another package needs stays.
        let installed = dists(&[
            ("torch", "2.15.0+cpu", &["filelock"]),
            ("filelock", "3.20.0", &[]),
            (
                "cuda-toolkit",
                "13.2.2",
                &["nvidia-cublas==13.4.1.3.*; extra == 'cublas'"],
            ),
            ("nvidia-cublas", "13.4.1.3", &[]),
            ("nvidia-ml-py", "13.615.71", &[]),
            ("cupy-cuda13x", "14.2.0", &["nvidia-cufft"]),
            ("nvidia-cufft", "12.2.0.57", &[]),
            ("triton", "3.9.0", &[]),
        ]);
        let unused = unused_cuda_wheels(&installed, &Parsed::new(&installed), &env());
        assert_eq!(unused, ["cuda-toolkit", "nvidia-cublas", "triton"]);
    }

    #[test]
    fn missing_conflicting_and_extras() {
        let installed = dists(&[
            (
                "vllm",
                "0.34.0",
                &[
                    "torch==2.14.0",
                    "cloudpickle",
                    "outlines-core[x]==0.2.11",
                    "pywin32; sys_platform == 'win32'",
                    "pytest; extra == 'test'",
                ],
            ),
            ("torch", "2.15.0", &["sympy>=1.13.3", "filelock"]),
            ("filelock", "3.20.0", &[]),
            (
                "outlines-core",
                "0.2.11",
                &["interegular; extra == 'x'", "jsonschema; extra == 'y'"],
            ),
            ("peft", "0.18.0", &["torch>=1.13.0", "transformers"]),
        ]);
        let unmet = check(&installed, &Parsed::new(&installed), &env());
        let lines: Vec<String> = unmet
            .iter()
            .map(|u| {
                format!(
                    "{} {} {} {:?} {:?} {:?}",
                    u.dist, u.version, u.requires, u.installed, u.extra, u.needed_by
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                "outlines-core 0.2.11 interegular Some(\"x\") None [\"vllm\"]"
                    .replace(" Some(\"x\") None", " None Some(\"x\")"),
                "peft 0.18.0 transformers None None []".into(),
                "torch 2.15.0 sympy>=1.13.3 None None [\"peft\", \"vllm\"]".into(),
                "vllm 0.34.0 cloudpickle None None []".into(),
                "vllm 0.34.0 torch==2.14.0 Some(\"2.15.0\") None []".into(),
            ]
        );
    }
}
