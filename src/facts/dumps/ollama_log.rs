//! Ollama's server log (Go's `log/slog` text lines: `time=… level=INFO source=types.go:71 msg="inference
//! compute" id=GPU-… library=cuda compute=7.5 driver=12.9 name="Tesla T4" total="15.0 GiB" …`).
//!
//! `inference compute` names each GPU Ollama will use: its name (newer logs put the model in
//! `description=` and a `CUDA0` in `name=`), compute capability, memory (GiB) and, for CUDA, `driver=`:
//! the CUDA driver API version, not the driver's number. A `libcuda.so.575.64.05` path names the driver;
//! "no nvidia devices detected by library …" is the driver stack's failure; "no compatible GPUs were
//! discovered" leaves the GPUs unknown rather than none.

use crate::facts::{Facts, Gpu, Nvidia, Os, Vendor};
use crate::version::ToolVersion;

/// `key=value` and `key="quoted value"` pairs of one slog line, in order; `None` when the line is not
/// one (it needs `level=`, a `source=file.go:N` and a `msg=`).
fn fields(line: &str) -> Option<Vec<(&str, &str)>> {
    let t = line.trim();
    // journald's prefix (`Aug 29 12:00:56 host ollama[12550]: time=…`) comes off.
    let start = t.find("time=").or_else(|| t.find("level="))?;
    let mut rest = &t[start..];
    let mut out = Vec::new();
    // Bounded: each step scans what is left of the line, so a hostile line gets a few hundred steps.
    let mut steps = 0;
    while !rest.is_empty() && out.len() < 64 && steps < 256 {
        steps += 1;
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else { break };
        let key = &rest[..eq];
        if key.is_empty() {
            rest = &rest[1..];
            continue;
        }
        if let Some((ws, c)) = key.char_indices().rev().find(|(_, c)| c.is_whitespace()) {
            // Words that are no pair: go straight to the word before the `=`.
            rest = &rest[ws + c.len_utf8()..];
            continue;
        }
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            // Go quotes with backslash escapes; the value ends at the first unescaped quote.
            let mut escaped = false;
            let end = q
                .char_indices()
                .find(|&(_, c)| {
                    let closes = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    closes
                })
                .map_or(q.len(), |(i, _)| i);
            (&q[..end], q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        out.push((key, value));
        rest = next;
    }
    let get = |k: &str| out.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let source_ok = get("source").is_some_and(|s| s.contains(".go:"));
    (get("level").is_some() && source_ok && get("msg").is_some()).then_some(out)
}

pub(super) fn is_log(text: &str) -> bool {
    text.lines().any(|l| {
        l.contains("msg=")
            && l.contains("source=")
            && fields(l).is_some_and(|f| {
                f.iter().any(|(k, v)| {
                    *k == "msg"
                        && (*v == "inference compute"
                            || *v == "looking for compatible GPUs"
                            || *v == "no compatible GPUs were discovered"
                            || *v == "server config"
                            || v.starts_with("no nvidia devices detected"))
                }) || l.contains("OLLAMA_")
                    || l.contains("libcuda.so.")
            })
    })
}

/// The driver's number in a `libcuda.so.575.64.05` file name.
fn libcuda_driver(s: &str) -> Option<ToolVersion> {
    let i = s.find("libcuda.so.")?;
    let rest = &s[i + "libcuda.so.".len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let v = rest[..end].trim_end_matches('.');
    let parsed: ToolVersion = v.parse().ok()?;
    (v.contains('.') && (100..1000).contains(&parsed.major())).then_some(parsed)
}

/// `7.5 GiB`, `11172 MiB` → GiB.
fn gib(s: &str) -> Option<f64> {
    let (n, unit) = s.trim().split_once(' ')?;
    let n: f64 = n.parse().ok()?;
    let gib = match unit {
        "GiB" => n,
        "MiB" => n / 1024.0,
        "TiB" => n * 1024.0,
        _ => return None,
    };
    (gib.is_finite() && gib > 0.0).then_some(gib)
}

fn is_windows_path(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\'
}

pub(super) fn read(text: &str, facts: &mut Facts) {
    let mut gpus: Vec<Gpu> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut nvidia = Nvidia::default();
    let mut os = None;
    let mut none_found = false;
    for line in text.lines() {
        let Some(f) = fields(line) else { continue };
        let get = |k: &str| f.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
        let msg = get("msg").unwrap_or_default();
        if let Some(d) = libcuda_driver(line) {
            nvidia.driver.get_or_insert(d);
            os = os.or(Some(Os::Linux));
        }
        if f.iter().any(|(_, v)| is_windows_path(v)) {
            os = Some(Os::Windows);
        }
        if msg.starts_with("no nvidia devices detected") && nvidia.error.is_none() {
            nvidia.error = Some(format!("Ollama: {msg}"));
        }
        if msg == "no compatible GPUs were discovered" {
            none_found = true;
        }
        if msg != "inference compute" || gpus.len() >= super::MAX_GPUS {
            continue;
        }
        let id = get("id").unwrap_or_default();
        if !id.is_empty() && ids.iter().any(|i| i == id) {
            continue;
        }
        let library = get("library").unwrap_or_default().to_ascii_lowercase();
        let vendor = match library.as_str() {
            "cuda" => Vendor::Nvidia,
            "rocm" => Vendor::Amd,
            "metal" => Vendor::Apple,
            _ => continue,
        };
        let name = get("description")
            .filter(|d| !d.is_empty())
            .or_else(|| get("name"))
            .filter(|n| !n.is_empty());
        let Some(name) = name else { continue };
        let mut g = Gpu::new(vendor, name);
        g.source = Some("ollama log (inference compute)".into());
        g.memory_gb = get("total").and_then(gib);
        if vendor == Vendor::Nvidia {
            g.compute_capability = get("compute").and_then(|c| c.parse().ok());
            if let Some(d) = get("driver").and_then(|d| d.parse::<ToolVersion>().ok()) {
                if d.major() > 0 {
                    nvidia.cuda_driver.get_or_insert(d);
                }
            }
        }
        if !id.is_empty() {
            ids.push(id.to_string());
        }
        gpus.push(g);
    }
    if !gpus.is_empty() {
        facts.gpus = Some(gpus);
    } else if none_found {
        facts.failed.insert(
            "gpus".into(),
            "Ollama's log says no compatible GPUs were discovered".into(),
        );
    }
    if nvidia.driver.is_some() || nvidia.cuda_driver.is_some() || nvidia.error.is_some() {
        nvidia.source = Some("ollama log".into());
        facts.nvidia = Some(nvidia);
    }
    facts.host.os = os;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slog_lines() {
        let f = fields("time=2024-06-03T10:25:05.390+08:00 level=INFO source=types.go:71 msg=\"inference compute\" id=GPU-08 library=cuda compute=7.5 driver=11.7 name=\"Tesla T4\" total=\"7.5 GiB\"").expect("line");
        assert!(f.contains(&("name", "Tesla T4")));
        assert!(f.contains(&("total", "7.5 GiB")));
        assert!(fields("level=INFO msg=hello").is_none());
        assert!(fields("the time=now level=high source=me msg=x").is_none());
        assert_eq!(
            libcuda_driver("library /usr/lib64/libcuda.so.575.64.05\"")
                .map(|v| v.to_string())
                .as_deref(),
            Some("575.64.05")
        );
        assert_eq!(libcuda_driver("libcuda.so.1"), None);
        assert_eq!(
            gib("11172 MiB").map(|g| (g * 10.0).round() / 10.0),
            Some(10.9)
        );
        // An unterminated quote or a lone backslash ends the line, no more.
        assert!(fields("time=x level=INFO source=a.go:1 msg=\"abc\\").is_some());
    }
}
