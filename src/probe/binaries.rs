//! Engines and tools on PATH (ollama, llama.cpp, docker, nvidia-ctk, conda, uv, …) with their versions,
//! the Docker daemon's runtimes, and nvidia-smi's table as a fallback when NVML cannot be read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use crate::exec;
use crate::facts::{Arch, Binary, Docker};
use crate::probe::cache;

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
    let budget = &budget;
    let answers: Vec<_> = thread::scope(|s| {
        let started: Vec<_> = found
            .into_iter()
            .map(|(name, args, path)| {
                crate::threads::scoped_or_here(s, move || {
                    // The version and the build target from the same output; the cache keeps both.
                    let answer = args.map(|a| {
                        cache::run_parsed("version-target", &path, &[a], budget, use_cache, |out| {
                            (parse_version(name, out), parse_build_target(out))
                        })
                    });
                    let ((version, target), failure) = match answer {
                        Some(Ok(parsed)) => (parsed, None),
                        Some(Err(e)) => ((None, None), Some(e.to_string())),
                        None => ((None, None), None),
                    };
                    let arch = target
                        .as_deref()
                        .and_then(arch_of_target)
                        .or_else(|| header_arch(&path));
                    (
                        name.to_string(),
                        Binary {
                            path: path.display().to_string(),
                            version: version.and_then(|v| v.parse().ok()),
                            arch,
                            target,
                        },
                        failure,
                    )
                })
            })
            .collect();
        started
            .into_iter()
            .filter_map(crate::threads::Started::join)
            .collect()
    });
    let mut binaries = BTreeMap::new();
    let mut failed = BTreeMap::new();
    for (name, binary, failure) in answers {
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

/// The target triple a build line names: llama.cpp prints `built with Apple clang version 15.0.0
/// (clang-1500.1.0.2.5) for arm64-apple-darwin23.6.0`.
pub fn parse_build_target(text: &str) -> Option<String> {
    text.lines()
        .filter(|l| l.trim_start().starts_with("built with"))
        .find_map(|l| l.rsplit_once(" for ").map(|(_, t)| t.trim().to_string()))
        .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
}

/// The architecture a target triple starts with (`x86_64-apple-darwin`, `aarch64-linux-gnu`).
pub fn arch_of_target(target: &str) -> Option<Arch> {
    Arch::from_name(target.split('-').next().unwrap_or_default())
}

/// The architecture in a program's ELF or Mach-O header; for a universal (fat) Mach-O, the slice this
/// machine runs natively when present. Scripts and unknown formats give `None`.
pub fn header_arch(path: &Path) -> Option<Arch> {
    let mut head = [0u8; 256];
    let n = read_head(path, &mut head)?;
    parse_header_arch(&head[..n], std::env::consts::ARCH)
}

fn read_head(path: &Path, buf: &mut [u8]) -> Option<usize> {
    use std::io::Read;
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Never block on a FIFO swapped in after the check above.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = options.open(path).ok()?;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    Some(filled)
}

/// ELF `e_machine` (EM_X86_64 62, EM_AARCH64 183) or Mach-O `cputype` (CPU_TYPE_X86_64 0x01000007,
/// CPU_TYPE_ARM64 0x0100000c), as `<elf.h>` and `<mach-o/loader.h>` define them.
pub fn parse_header_arch(head: &[u8], native: &str) -> Option<Arch> {
    let u16_at = |i: usize, le: bool| {
        let b: [u8; 2] = head.get(i..i + 2)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |i: usize, le: bool| {
        let b: [u8; 4] = head.get(i..i + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let cpu = |t: u32| match t {
        0x0100_0007 => Some(Arch::X86_64),
        0x0100_000c => Some(Arch::Aarch64),
        _ => None,
    };
    match head.get(..4)? {
        [0x7f, b'E', b'L', b'F'] => {
            let le = *head.get(5)? == 1;
            match u16_at(18, le)? {
                62 => Some(Arch::X86_64),
                183 => Some(Arch::Aarch64),
                _ => None,
            }
        }
        [0xcf, 0xfa, 0xed, 0xfe] => cpu(u32_at(4, true)?),
        [0xfe, 0xed, 0xfa, 0xcf] => cpu(u32_at(4, false)?),
        [0xca, 0xfe, 0xba, 0xbe] => {
            // fat_header, big-endian: nfat_arch, then 20-byte fat_arch entries (cputype first).
            let count = u32_at(4, false)?.min(8) as usize;
            let slices: Vec<Arch> = (0..count)
                .filter_map(|i| cpu(u32_at(8 + 20 * i, false)?))
                .collect();
            let native = Arch::from_name(native);
            native
                .filter(|n| slices.contains(n))
                .or_else(|| slices.first().copied())
        }
        _ => None,
    }
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
    // A daemon.json that is there but cannot be read (a FIFO, no permission) is said so, not taken for
    // no daemon.json.
    let mut unreadable: Vec<String> = Vec::new();
    for path in configs {
        match crate::files::read_text(
            &path,
            crate::files::MAX_SYSTEM_BYTES,
            crate::files::Links::Follow,
        ) {
            Ok(text) => {
                let (runtimes, default) = parse_daemon_json(&text);
                docker.runtimes.extend(runtimes);
                docker.default_runtime = docker.default_runtime.or(default);
                docker.source = Some(path.display().to_string());
            }
            Err(crate::files::ReadError::NotFound) => {}
            Err(e) => unreadable.push(format!("{} not read: {e}", path.display())),
        }
    }
    if docker.source.is_none() && !unreadable.is_empty() {
        docker.source = Some(unreadable.join("; "));
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::probe::fixture;

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
    fn build_targets_and_headers_give_the_architecture() {
        let arm = fixture("tools/llama-cli-version-arm64-apple-darwin.txt");
        assert_eq!(
            parse_build_target(&arm).as_deref(),
            Some("arm64-apple-darwin23.6.0")
        );
        assert_eq!(parse_version("llama-cli", &arm).as_deref(), Some("3930"));
        let x86 = fixture("tools/llama-cli-version-x86_64-apple-darwin.txt");
        let target = parse_build_target(&x86).unwrap();
        assert_eq!(arch_of_target(&target), Some(Arch::X86_64));
        assert_eq!(
            arch_of_target("arm64-apple-darwin23.6.0"),
            Some(Arch::Aarch64)
        );
        assert_eq!(parse_build_target("ollama version is 0.12.6"), None);
        // This test binary's own ELF header.
        let me = std::env::current_exe().unwrap();
        assert_eq!(header_arch(&me), Arch::from_name(std::env::consts::ARCH));
        // Mach-O headers as <mach-o/loader.h> and <mach-o/fat.h> lay them out.
        let thin_x86 = [0xcf, 0xfa, 0xed, 0xfe, 0x07, 0x00, 0x00, 0x01];
        assert_eq!(parse_header_arch(&thin_x86, "aarch64"), Some(Arch::X86_64));
        let thin_arm = [0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0x00, 0x00, 0x01];
        assert_eq!(parse_header_arch(&thin_arm, "aarch64"), Some(Arch::Aarch64));
        let mut fat = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2];
        fat.extend([0x01, 0, 0, 0x07]);
        fat.extend([0u8; 16]);
        fat.extend([0x01, 0, 0, 0x0c]);
        fat.extend([0u8; 16]);
        assert_eq!(parse_header_arch(&fat, "aarch64"), Some(Arch::Aarch64));
        assert_eq!(parse_header_arch(&fat, "x86_64"), Some(Arch::X86_64));
        assert_eq!(parse_header_arch(b"#!/bin/sh\n", "aarch64"), None);
        assert_eq!(parse_header_arch(b"", "aarch64"), None);
        // A FIFO is not read (it would block).
        let dir = std::env::temp_dir().join(format!("mlcompat-fifo-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let fifo = dir.join("llama-cli");
        let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
        assert_eq!(header_arch(&fifo), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
