//! Fix commands the evaluator writes or drops: a fix that would only install what is already installed
//! is no advice, and a failed import names the missing dependency when Python says which.

use std::str::FromStr;

use crate::facts::{normalize_package, Facts};

/// Whether `fix` is a plain `pip install` (or `uv pip install`) of requirements that are all installed
/// already, at versions that satisfy them. Anything that changes more than that — an index, a forced
/// reinstall, an upgrade, a URL — is not done. Extras (`mlx[cpu]`) count as done when the distribution is
/// installed: the facts do not record which extras were chosen, and a missing backend shows as a failed
/// import under `--deep`.
pub fn fix_already_done(fix: &str, facts: &Facts) -> bool {
    let Some(py) = &facts.python else {
        return false;
    };
    let unmet = |name: &str| super::requirements::has_unmet(facts, name);
    let command = fix.trim();
    let Some(rest) = command
        .strip_prefix("pip install ")
        .or_else(|| command.strip_prefix("uv pip install "))
        .or_else(|| command.strip_prefix("python -m pip install "))
    else {
        return false;
    };
    // The command ends where its explanation starts: two spaces, a parenthesis or a sentence.
    let end = [
        rest.find("  "),
        rest.find(" ("),
        rest.find(';'),
        rest.find(". "),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(rest.len());
    let requirements: Vec<&str> = rest[..end].split_whitespace().collect();
    if requirements.is_empty() {
        return false;
    }
    requirements.iter().all(|token| {
        let token = token.trim_matches(|c| c == '\'' || c == '"');
        if token.starts_with('-') || token.contains("://") {
            return false;
        }
        let split = token
            .find(|c: char| "<>=!~ ".contains(c))
            .unwrap_or(token.len());
        let (name, spec) = token.split_at(split);
        let name = name.split('[').next().unwrap_or(name);
        let Some(installed) = py.packages.get(&normalize_package(name)) else {
            return false;
        };
        // pip installs what an installed distribution declares and lacks.
        if unmet(name) {
            return false;
        }
        if spec.trim().is_empty() {
            return true;
        }
        pep440_rs::VersionSpecifiers::from_str(spec)
            .is_ok_and(|specs| specs.contains(installed.pep440()))
    })
}

/// The fix for an installed distribution whose import failed, read from how it failed:
/// - killed by a signal (SIGBUS, SIGSEGV, SIGILL): a damaged or mismatched shared library — reinstall
///   the files (the damaged wheel itself, when `--deep` found it, is named by the evaluator);
/// - `No module named X`: install X;
/// - `operator torchvision::… does not exist`: torchvision was built for another torch;
/// - `libcudart.so.12: cannot open shared object file`: a build for another CUDA major version;
/// - `undefined symbol`: built against another torch or CUDA.
pub(crate) fn for_failed_import(dist: &str, error: &str, facts: &Facts) -> String {
    let version = facts
        .python
        .as_ref()
        .and_then(|p| p.packages.get(&normalize_package(dist)))
        .map(ToString::to_string);
    let pinned = |d: &str| match &version {
        Some(v) => format!("'{d}=={v}'"),
        None => d.to_string(),
    };
    if let Some(signal) = ["SIGBUS", "SIGSEGV", "SIGILL", "SIGABRT"]
        .into_iter()
        .find(|s| error.contains(s))
    {
        return format!(
            "pip install --force-reinstall {}  (the import died of {signal}: a shared library it loads is damaged — truncated, overwritten — or built for another CPU or library; this puts back the files of {dist} and of what it needs)",
            pinned(dist)
        );
    }
    if let Some(module) = error
        .split("No module named ")
        .nth(1)
        .map(|rest| {
            rest.trim_start_matches(['\'', '"'])
                .split(['\'', '"'])
                .next()
                .unwrap_or_default()
        })
        .map(|m| m.split('.').next().unwrap_or(m).to_string())
        .filter(|m| !m.is_empty())
    {
        return format!(
            "pip install {}  (a dependency of {dist} is missing; or reinstall it with its dependencies: pip install {})",
            distribution_of(&module),
            pinned(dist)
        );
    }
    if error.contains("torchvision::") && error.contains("does not exist") {
        let torch = facts
            .python
            .as_ref()
            .and_then(|p| p.packages.get("torch"))
            .map_or_else(|| "torch".to_string(), |v| format!("'torch=={v}'"));
        return format!(
            "pip install -U torchvision {torch}  (torchvision was built for another torch release; this installs the one built for the installed torch)"
        );
    }
    if let Some(lib) = error
        .split_whitespace()
        .find(|w| w.starts_with("libcudart.so.") || w.starts_with("libcublas.so."))
    {
        let lib = lib.trim_end_matches(':');
        return format!(
            "{dist} was built for another CUDA major version ({lib} is not here): install the {dist} build for the CUDA of the installed torch — `mlcompat install-plan` names it — or a torch for that CUDA"
        );
    }
    format!(
        "pip install --force-reinstall {}  (an `undefined symbol` means {dist} was built against another torch or CUDA, and needs the build that matches them)",
        pinned(dist)
    )
}

/// The distribution that provides a top-level module, for the common cases where the names differ.
fn distribution_of(module: &str) -> String {
    match module {
        "yaml" => "pyyaml",
        "PIL" => "pillow",
        "cv2" => "opencv-python",
        "sklearn" => "scikit-learn",
        "google" => "protobuf",
        other => other,
    }
    .replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Python;

    fn facts_with(packages: &[(&str, &str)]) -> Facts {
        let mut py = Python::default();
        for (n, v) in packages {
            py.packages.insert(normalize_package(n), v.parse().unwrap());
        }
        Facts {
            python: Some(py),
            ..Facts::default()
        }
    }

    #[test]
    fn plain_installs_of_installed_packages_are_done() {
        let f = facts_with(&[("mlx-lm", "0.28.3"), ("mlx", "0.29.0"), ("torch", "2.15.0")]);
        assert!(fix_already_done("pip install mlx-lm", &f));
        assert!(fix_already_done("pip install mlx mlx-lm  (Metal)", &f));
        assert!(fix_already_done("pip install 'mlx>=0.29'", &f));
        assert!(!fix_already_done("pip install 'mlx>=0.30'", &f));
        assert!(fix_already_done("pip install 'mlx[cpu]' mlx-lm", &f));
        assert!(!fix_already_done("pip install 'vllm[all]'", &f));
        assert!(!fix_already_done(
            "pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cpu",
            &f
        ));
        assert!(!fix_already_done(
            "pip install torch --index-url https://x/cu130",
            &f
        ));
        assert!(!fix_already_done("pip install vllm", &f));
        assert!(!fix_already_done("Upgrade the NVIDIA driver.", &f));
        assert!(!fix_already_done("pip install mlx-lm", &Facts::default()));
    }

    #[test]
    fn a_missing_dependency_is_named() {
        let f = facts_with(&[("torch", "2.15.0"), ("flash-attn", "2.8.3")]);
        let fix = for_failed_import(
            "torch",
            "ModuleNotFoundError: No module named 'typing_extensions'",
            &f,
        );
        assert!(fix.starts_with("pip install typing-extensions  ("), "{fix}");
        let fix = for_failed_import(
            "flash-attn",
            "ImportError: x.so: undefined symbol: _ZN2at",
            &f,
        );
        assert!(
            fix.starts_with(
                "pip install --force-reinstall 'flash-attn==2.8.3'  (an `undefined symbol`"
            ),
            "{fix}"
        );
        assert!(
            for_failed_import("x", "No module named 'yaml'", &f).starts_with("pip install pyyaml")
        );
        let fix = for_failed_import("torch", "python was killed by signal 7 (SIGBUS)", &f);
        assert!(
            fix.starts_with(
                "pip install --force-reinstall 'torch==2.15.0'  (the import died of SIGBUS"
            ),
            "{fix}"
        );
        assert!(!fix.contains("undefined symbol"));
        let fix = for_failed_import(
            "transformers",
            "RuntimeError: operator torchvision::nms does not exist",
            &f,
        );
        assert!(
            fix.starts_with("pip install -U torchvision 'torch==2.15.0'"),
            "{fix}"
        );
        let fix = for_failed_import(
            "xformers",
            "OSError: libcudart.so.12: cannot open shared object file: No such file or directory",
            &f,
        );
        assert!(fix.contains("libcudart.so.12 is not here"), "{fix}");
    }
}
