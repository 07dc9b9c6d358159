//! Engines and tools on PATH (ollama, llama.cpp, docker, nvidia-ctk, conda, uv, …) with their versions,
//! the Docker daemon's runtimes, and nvidia-smi's table as a fallback when NVML cannot be read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use crate::facts::{Binary, Docker};
use crate::probe::{cache, exec};

/// Programs looked for, with the arguments that print their version (`None`: presence only).
const PROGRAMS: &[(&str, Option<&str>)] = &[
    ("ollama", Some("--version")),
    ("llama-cli", Some("--version")),
    ("llama-server", Some("--version")),
    ("nvidia-smi", None),
    ("nvcc", None),
    ("docker", Some("--version")),
    ("podman", Some("--version")),
    ("nvidia-ctk", Some("--version")),
    ("nvidia-container-runtime", None),
    ("nvidia-container-runtime-hook", None),
    ("conda", Some("--version")),
    ("uv", Some("--version")),
    ("trtllm-serve", None),
    ("vllm", None),
    ("mlx_lm.generate", None),
];

/// Finds each program on PATH and reads versions in parallel, all within one `timeout` budget (and cached
/// by the program file's identity, so a repeated doctor starts nothing). A program that hangs, crashes or
/// fails on `--version` is still listed, and the failure is returned by name (`binaries.NAME`) for `failed`.
pub fn probe(
    timeout: Duration,
    use_cache: bool,
) -> (BTreeMap<String, Binary>, BTreeMap<String, String>) {
    let budget = exec::Budget::new(timeout);
    let found: Vec<(&str, Option<&str>, PathBuf)> = PROGRAMS
        .iter()
        .filter_map(|(name, args)| exec::resolve(name).map(|p| (*name, *args, p)))
        .collect();
    let handles: Vec<_> = found
        .into_iter()
        .map(|(name, args, path)| {
            thread::spawn(move || {
                let answer = args.map(|a| {
                    cache::run_parsed("version", &path, &[a], &budget, use_cache, |out| {
                        parse_version(name, out)
                    })
                });
                let (version, failure) = match answer {
                    Some(Ok(version)) => (version, None),
                    Some(Err(e)) => (None, Some(e.to_string())),
                    None => (None, None),
                };
                (
                    name.to_string(),
                    Binary {
                        path: path.display().to_string(),
                        version: version.and_then(|v| v.parse().ok()),
                    },
                    failure,
                )
            })
        })
        .collect();
    let mut binaries = BTreeMap::new();
    let mut failed = BTreeMap::new();
    for (name, binary, failure) in handles.into_iter().filter_map(|h| h.join().ok()) {
        if let Some(failure) = failure {
            failed.insert(format!("binaries.{name}"), failure);
        }
        binaries.insert(name, binary);
    }
    (binaries, failed)
}

/// The first version-looking token of a tool's `--version` output; llama.cpp prints a build number.
pub fn parse_version(name: &str, text: &str) -> Option<String> {
    if name.starts_with("llama-") {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("version:"))?;
        let number: String = line
            .trim_start()
            .trim_start_matches("version:")
            .trim()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        return (!number.is_empty()).then_some(number);
    }
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .map(|t| t.trim_start_matches('v'))
        .find(|t| {
            let mut parts = t.split('.');
            let first = parts.next().unwrap_or_default();
            t.contains('.')
                && !first.is_empty()
                && first.bytes().all(|b| b.is_ascii_digit())
                && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_string)
}

/// Docker's runtimes from the daemon configuration (no process started). `--gpus` also works through
/// the legacy `nvidia-container-runtime-hook`, which counts as the NVIDIA runtime being present.
pub fn docker(binaries: &BTreeMap<String, Binary>) -> Option<Docker> {
    if !binaries.contains_key("docker") {
        return None;
    }
    let mut configs = vec![PathBuf::from("/etc/docker/daemon.json")];
    if let Some(home) = std::env::var_os("HOME") {
        configs.push(Path::new(&home).join(".config/docker/daemon.json"));
    }
    let mut docker = Docker::default();
    for path in configs {
        if let Some(text) = crate::files::read_system(&path) {
            let (runtimes, default) = parse_daemon_json(&text);
            docker.runtimes.extend(runtimes);
            docker.default_runtime = docker.default_runtime.or(default);
            docker.source = Some(path.display().to_string());
        }
    }
    if binaries.contains_key("nvidia-container-runtime-hook")
        && !docker.runtimes.iter().any(|r| r == "nvidia")
    {
        docker.runtimes.push("nvidia".into());
        docker
            .source
            .get_or_insert_with(|| "nvidia-container-runtime-hook on PATH".into());
    }
    docker
        .source
        .get_or_insert_with(|| "no daemon.json and no nvidia-container-runtime-hook".into());
    Some(docker)
}

/// `{"runtimes": {"nvidia": {...}}, "default-runtime": "nvidia"}`.
pub fn parse_daemon_json(text: &str) -> (Vec<String>, Option<String>) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return (vec![], None);
    };
    let runtimes = value
        .get("runtimes")
        .and_then(|r| r.as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let default = value
        .get("default-runtime")
        .and_then(|d| d.as_str())
        .map(str::to_string);
    (runtimes, default)
}

/// `docker info` lines: ` Runtimes: io.containerd.runc.v2 nvidia runc` and ` Default Runtime: runc`.
pub fn parse_docker_info(text: &str) -> Docker {
    let mut docker = Docker {
        source: Some("docker info".into()),
        ..Docker::default()
    };
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("Runtimes:") {
            docker.runtimes = rest.split_whitespace().map(str::to_string).collect();
        } else if let Some(rest) = line.strip_prefix("Default Runtime:") {
            docker.default_runtime = Some(rest.trim().to_string());
        }
    }
    docker
}

/// What nvidia-smi's default table says, for when NVML could not be read by mlcompat itself.
#[derive(Debug, Default, PartialEq)]
pub struct SmiTable {
    pub driver: Option<String>,
    pub cuda: Option<String>,
    pub gpus: Vec<(String, Option<u64>)>,
    /// A failure nvidia-smi printed instead of the table.
    pub error: Option<String>,
}

/// Parses `nvidia-smi` (no arguments). GPU rows are `|   0  NVIDIA GB10   On  |`; the next row holds
/// memory as `74199MiB /  81559MiB` or `Not Supported`.
pub fn parse_nvidia_smi(text: &str) -> SmiTable {
    let mut table = SmiTable::default();
    if let Some(line) = text
        .lines()
        .find(|l| l.starts_with("Failed to initialize NVML"))
    {
        let library = text
            .lines()
            .find_map(|l| l.strip_prefix("NVML library version:"))
            .map(str::trim);
        table.error = Some(match library {
            Some(v) => format!("{} (NVML library {v}: the loaded kernel driver differs; reboot after a driver update)", line.trim()),
            None => line.trim().to_string(),
        });
        return table;
    }
    let field = |line: &str, key: &str| {
        line.split(key)
            .nth(1)
            .map(|r| r.split_whitespace().next().unwrap_or_default().to_string())
    };
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("Driver Version:") {
            table.driver = field(line, "Driver Version:");
            table.cuda = field(line, "CUDA Version:");
        }
        let cells: Vec<&str> = line.split('|').collect();
        if cells.len() >= 3 {
            let first = cells[1].trim();
            let mut words = first.split_whitespace();
            if let (Some(index), Some(_)) = (words.next(), words.clone().next()) {
                if index.bytes().all(|b| b.is_ascii_digit()) && !first.contains("MiB") {
                    let rest: Vec<&str> = words.collect();
                    // The last word is the persistence mode (On/Off).
                    let name = rest[..rest.len().saturating_sub(1)].join(" ");
                    let memory = lines.get(i + 1).and_then(|next| {
                        let cell = next.split('|').nth(2)?;
                        let total = cell.split('/').nth(1)?.trim().trim_end_matches("MiB");
                        total.trim().parse::<u64>().ok()
                    });
                    if name.chars().any(char::is_alphabetic) {
                        table.gpus.push((name, memory));
                    }
                }
            }
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(path),
        )
        .unwrap()
    }

    #[test]
    fn versions_of_tools() {
        assert_eq!(
            parse_version("ollama", "ollama version is 0.12.6\n").as_deref(),
            Some("0.12.6")
        );
        assert_eq!(
            parse_version("docker", "Docker version 28.2.2, build e6534b4").as_deref(),
            Some("28.2.2")
        );
        assert_eq!(
            parse_version(
                "nvidia-ctk",
                &fixture("tools/nvidia-ctk-version-1.19.0.txt")
            )
            .as_deref(),
            Some("1.19.0")
        );
        assert_eq!(
            parse_version("uv", "uv 0.9.5 (d5f39331a 2025-10-21)").as_deref(),
            Some("0.9.5")
        );
        assert_eq!(
            parse_version(
                "llama-cli",
                "ggml_cuda_init: found 1 CUDA devices\nversion: 6078 (2241453a)\nbuilt with cc"
            )
            .as_deref(),
            Some("6078")
        );
        assert_eq!(parse_version("conda", "garbage"), None);
    }

    #[test]
    fn docker_runtimes() {
        let d = parse_docker_info(&fixture("tools/docker-info-grep-runtime-nvidia-gb10.txt"));
        assert!(d.runtimes.contains(&"nvidia".to_string()));
        assert_eq!(d.default_runtime.as_deref(), Some("runc"));
        let (runtimes, default) = parse_daemon_json(
            r#"{"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}}, "default-runtime": "nvidia"}"#,
        );
        assert_eq!(runtimes, vec!["nvidia"]);
        assert_eq!(default.as_deref(), Some("nvidia"));
        assert_eq!(parse_daemon_json("not json"), (vec![], None));
    }

    #[test]
    fn nvidia_smi_tables() {
        let gb10 = parse_nvidia_smi(&fixture(
            "nvidia-smi/gb10-dgx-spark-driver580.95-processes.txt",
        ));
        assert_eq!(gb10.driver.as_deref(), Some("580.95.05"));
        assert_eq!(gb10.cuda.as_deref(), Some("13.0"));
        assert_eq!(gb10.gpus, vec![("NVIDIA GB10".to_string(), None)]);
        let h100 = parse_nvidia_smi(&fixture(
            "nvidia-smi/h100-sxm-single-74GiB-used-driver580.105.txt",
        ));
        assert_eq!(h100.driver.as_deref(), Some("580.105.08"));
        assert_eq!(h100.gpus.len(), 1);
        assert_eq!(h100.gpus[0].1, Some(81559));
        let four = parse_nvidia_smi(&fixture("nvidia-smi/h100-sxm-x4-idle-driver560.35.txt"));
        assert_eq!(four.gpus.len(), 4);
        let mig = parse_nvidia_smi(&fixture("nvidia-smi/mig-devices-section-PARTIAL.txt"));
        assert!(mig.gpus.is_empty(), "{mig:?}");
        let rtx = parse_nvidia_smi(&fixture(
            "nvidia-smi/rtx5090-desktop-xorg-processes-driver580.65.txt",
        ));
        assert_eq!(rtx.gpus[0].0, "NVIDIA GeForce RTX 5090");
        let mismatch = parse_nvidia_smi(&fixture(
            "nvidia-smi/driver-library-mismatch-with-nvml-version.txt",
        ));
        assert!(mismatch
            .error
            .unwrap()
            .contains("Driver/library version mismatch (NVML library 550.144"));
    }
}
