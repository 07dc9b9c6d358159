//! Host facts: OS, architecture, CPU, memory. On Linux from /proc, /sys and /etc/os-release (no process is
//! started); on macOS from `sysctl` and `sw_vers`. Each reader has a pure parser tested on real files.

use std::time::Duration;

use crate::exec;
use crate::facts::{Arch, Host, Os};
use crate::files::read_system;
use crate::units::BYTES_PER_GB;

pub fn probe(timeout: Duration, failures: &mut Vec<(String, String)>) -> Host {
    let mut host = Host {
        arch: Arch::from_name(std::env::consts::ARCH),
        ..Host::default()
    };
    match std::env::consts::OS {
        "linux" => linux(&mut host),
        "macos" => macos(&mut host, timeout, failures),
        "windows" => host.os = Some(Os::Windows),
        _ => {}
    }
    host.hostname = hostname();
    if host.cpu_cores.is_none() {
        host.cpu_cores = std::thread::available_parallelism()
            .ok()
            .and_then(|n| u32::try_from(n.get()).ok());
    }
    host
}

/// The host name (gethostname(2)); none when it is empty or not printable text.
#[cfg(unix)]
fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is what gethostname is told.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    clean_hostname(&buf[..end])
}

#[cfg(not(unix))]
fn hostname() -> Option<String> {
    std::env::var("COMPUTERNAME")
        .ok()
        .and_then(|h| clean_hostname(h.as_bytes()))
}

/// A host name as the kernel gives it: UTF-8, no control characters, not empty, at most 253 bytes.
pub fn clean_hostname(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    (!text.is_empty() && text.len() <= 253 && !text.chars().any(char::is_control))
        .then(|| text.to_string())
}

fn linux(host: &mut Host) {
    host.os = Some(Os::Linux);
    if let Some(text) = read_system("/etc/os-release") {
        let release = parse_os_release(&text);
        host.os_version = release.version.and_then(|v| v.parse().ok());
        host.os_name = release.pretty_name;
    }
    host.kernel = read_system("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string());
    host.wsl = Some(is_wsl(
        host.kernel.as_deref().unwrap_or_default(),
        std::path::Path::new(WSL_LIB_DIR).is_dir(),
    ));
    if let Some(text) = read_system("/proc/cpuinfo") {
        let cpu = parse_cpuinfo(&text);
        host.cpu_model = cpu.model;
        host.cpu_cores = cpu.logical_cores;
    }
    if let Some(text) = read_system("/proc/meminfo") {
        host.memory_gb = parse_meminfo_total_gb(&text);
    }
    host.glibc = glibc_version().and_then(|v| v.parse().ok());
}

/// Where WSL2 mounts the Windows driver's Linux libraries (libnvidia-ml.so.1, libcuda.so.1, nvidia-smi).
pub const WSL_LIB_DIR: &str = "/usr/lib/wsl/lib";

/// WSL kernels name themselves (`5.15.167.4-microsoft-standard-WSL2`; WSL1: `4.4.0-19041-Microsoft`), and
/// WSL2 mounts the Windows GPU driver's libraries under /usr/lib/wsl/lib.
pub fn is_wsl(kernel_release: &str, wsl_lib_dir: bool) -> bool {
    let k = kernel_release.to_ascii_lowercase();
    k.contains("microsoft") || k.contains("wsl") || wsl_lib_dir
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_version() -> Option<String> {
    // SAFETY: gnu_get_libc_version returns a pointer to a static NUL-terminated string.
    let ptr = unsafe { libc::gnu_get_libc_version() };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null, static and NUL-terminated, per glibc's documentation.
    let text = unsafe { std::ffi::CStr::from_ptr(ptr) };
    text.to_str().ok().map(str::to_string)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_version() -> Option<String> {
    None
}

fn macos(host: &mut Host, timeout: Duration, failures: &mut Vec<(String, String)>) {
    host.os = Some(Os::Macos);
    // One budget for both programs (`--timeout` is per probe).
    let budget = exec::Budget::new(timeout);
    match exec::Cmd::new("sw_vers")
        .args(["-productVersion"])
        .run(&budget)
    {
        Ok(out) => {
            let version = out.stdout.trim().to_string();
            host.os_version = version.parse().ok();
            host.os_name = Some(format!("macOS {version}"));
        }
        Err(e) => failures.push(("host".into(), e.to_string())),
    }
    match exec::Cmd::new("sysctl")
        .args(["-n", "hw.memsize", "machdep.cpu.brand_string", "hw.ncpu"])
        .run(&budget)
    {
        Ok(out) => {
            let (memory, model, cores) = parse_sysctl_values(&out.stdout);
            host.memory_gb = memory;
            host.cpu_model = model;
            host.cpu_cores = cores;
        }
        Err(e) => failures.push(("host".into(), e.to_string())),
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct OsRelease {
    pub version: Option<String>,
    pub pretty_name: Option<String>,
}

pub fn parse_os_release(text: &str) -> OsRelease {
    let mut out = OsRelease::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value
            .trim()
            .trim_matches('"')
            .trim_matches('\'')
            .to_string();
        match key.trim() {
            "VERSION_ID" => out.version = Some(value),
            "PRETTY_NAME" => out.pretty_name = Some(value),
            _ => {}
        }
    }
    out
}

#[derive(Debug, Default, PartialEq)]
pub struct CpuInfo {
    pub model: Option<String>,
    pub logical_cores: Option<u32>,
}

/// Reads `/proc/cpuinfo`: x86 names the model; Arm gives implementer and part numbers, named here for the
/// cores in today's AI machines.
pub fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut model = None;
    let mut processors = 0u32;
    let mut parts: Vec<(String, String)> = Vec::new();
    let mut implementer = String::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "processor" => processors += 1,
            "model name" | "Model" if model.is_none() && !value.is_empty() => {
                model = Some(value.to_string())
            }
            "CPU implementer" => implementer = value.to_string(),
            "CPU part" => parts.push((implementer.clone(), value.to_string())),
            _ => {}
        }
    }
    if model.is_none() && !parts.is_empty() {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for (imp, part) in &parts {
            let name = arm_core_name(imp, part);
            match counts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, c)) => *c += 1,
                None => counts.push((name, 1)),
            }
        }
        let names: Vec<String> = counts.iter().map(|(n, c)| format!("{c}× {n}")).collect();
        model = Some(names.join(" + "));
    }
    CpuInfo {
        model,
        logical_cores: (processors > 0).then_some(processors),
    }
}

fn arm_core_name(implementer: &str, part: &str) -> String {
    let name = match (implementer, part) {
        ("0x41", "0xd85") => "Cortex-X925",
        ("0x41", "0xd87") => "Cortex-A725",
        ("0x41", "0xd4f") => "Neoverse V2",
        ("0x41", "0xd40") => "Neoverse V1",
        ("0x41", "0xd0c") => "Neoverse N1",
        ("0x41", "0xd49") => "Neoverse N2",
        ("0x41", "0xd42") => "Cortex-A78AE",
        ("0x41", "0xd8e") => "Neoverse V3AE",
        _ => "",
    };
    if name.is_empty() {
        format!("Arm core {implementer}/{part}")
    } else {
        name.to_string()
    }
}

/// `MemTotal` (in KiB, whatever its "kB" says) in GB.
pub fn parse_meminfo_total_gb(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0 / BYTES_PER_GB)
}

/// Output of `sysctl -n hw.memsize machdep.cpu.brand_string hw.ncpu`: one value per line.
pub fn parse_sysctl_values(text: &str) -> (Option<f64>, Option<String>, Option<u32>) {
    let mut lines = text.lines().map(str::trim);
    let memory = lines
        .next()
        .and_then(|l| l.parse::<f64>().ok())
        .map(|b| b / BYTES_PER_GB);
    let model = lines.next().filter(|l| !l.is_empty()).map(str::to_string);
    let cores = lines.next().and_then(|l| l.parse().ok());
    (memory, model, cores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_wsl_kernels() {
        // Kernel releases as `uname -r` prints them on WSL2 and WSL1 (Microsoft's WSL kernel tags).
        assert!(is_wsl("5.15.167.4-microsoft-standard-WSL2", false));
        assert!(is_wsl("6.6.87.2-microsoft-standard-WSL2", false));
        assert!(is_wsl("4.4.0-19041-Microsoft", false));
        assert!(!is_wsl("6.8.0-1015-nvidia-64k", false));
        assert!(is_wsl("6.8.0-custom", true));
    }

    #[test]
    fn reads_os_release() {
        let r = parse_os_release(
            "PRETTY_NAME=\"Ubuntu 24.04.3 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n",
        );
        assert_eq!(r.version.as_deref(), Some("24.04"));
        assert_eq!(r.pretty_name.as_deref(), Some("Ubuntu 24.04.3 LTS"));
    }

    #[test]
    fn names_gb10_cores() {
        let mut text = String::new();
        for i in 0..20 {
            let part = if i < 10 { "0xd87" } else { "0xd85" };
            text.push_str(&format!("processor\t: {i}\nBogoMIPS\t: 2000.00\nCPU implementer\t: 0x41\nCPU part\t: {part}\n\n"));
        }
        let cpu = parse_cpuinfo(&text);
        assert_eq!(
            cpu.model.as_deref(),
            Some("10× Cortex-A725 + 10× Cortex-X925")
        );
        assert_eq!(cpu.logical_cores, Some(20));
    }

    #[test]
    fn reads_x86_cpuinfo_and_meminfo() {
        let cpu = parse_cpuinfo(
            "processor\t: 0\nmodel name\t: AMD EPYC\nprocessor\t: 1\nmodel name\t: AMD EPYC\n",
        );
        assert_eq!(
            cpu,
            CpuInfo {
                model: Some("AMD EPYC".into()),
                logical_cores: Some(2)
            }
        );
        let gb = parse_meminfo_total_gb("MemTotal:       131072000 kB\nMemFree: 1 kB\n").unwrap();
        // 131,072,000 KiB is 125 GiB.
        assert!((gb - 125.0).abs() < 1e-9, "{gb}");
    }

    #[test]
    fn reads_sysctl() {
        let (m, model, cores) = parse_sysctl_values("137438953472\nApple M3 Ultra\n32\n");
        // 2^37 bytes: the "128 GB" Apple sells.
        assert_eq!(m, Some(128.0));
        assert_eq!(model.as_deref(), Some("Apple M3 Ultra"));
        assert_eq!(cores, Some(32));
    }
}
