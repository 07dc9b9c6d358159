//! nvidia-smi's text, read as facts: its default GPU table (also when only the header with the driver and
//! CUDA line was pasted), its failure message — printed on stdout, one or two lines ("Failed to initialize
//! NVML: Driver/library version mismatch" / "NVML library version: 570.124"), kept whole — the
//! `--query-gpu` CSV the probe asks for the compute capability, and `nvidia-smi -q`. Pure text in, plain
//! data out: the probe (`probe::smi`) runs the program and hands its output here.

use crate::facts::{Facts, Gpu, Nvidia, Vendor};

pub const SOURCE: &str = "nvidia-smi";

/// What nvidia-smi's default table says.
#[derive(Debug, Default, PartialEq)]
pub struct SmiTable {
    pub driver: Option<String>,
    pub cuda: Option<String>,
    /// Name and total memory in MiB (`None` for "Not Supported", a GB10's unified memory).
    pub gpus: Vec<(String, Option<u64>)>,
    /// Every line of a failure nvidia-smi printed instead of the table.
    pub error: Option<String>,
}

/// One row of [`QUERY`].
#[derive(Debug, Clone, PartialEq)]
pub struct SmiQueryRow {
    pub name: String,
    pub uuid: Option<String>,
    pub compute_cap: Option<String>,
    pub memory_mib: Option<u64>,
    pub driver: Option<String>,
}

/// The columns, in the order a real GB10 answered them: `GPU-e24bed87-…, NVIDIA GB10, 12.1, [N/A],
/// 580.159.03` (tests/fixtures/SOURCES.md).
pub const QUERY: &str = "--query-gpu=uuid,name,compute_cap,memory.total,driver_version";

pub struct SmiFacts {
    pub gpus: Vec<Gpu>,
    pub nvidia: Option<Nvidia>,
    /// nvidia-smi's failure, every line of it.
    pub error: Option<String>,
}

/// Facts from the table, completed by the query rows where they line up (same count, same names).
pub fn to_facts(table: &SmiTable, query: &[SmiQueryRow], host_memory_gb: Option<f64>) -> SmiFacts {
    let aligned = query.len() == table.gpus.len()
        && query
            .iter()
            .zip(&table.gpus)
            .all(|(q, (n, _))| &q.name == n);
    let gpus = table
        .gpus
        .iter()
        .enumerate()
        .map(|(i, (name, mib))| {
            let mut gpu = Gpu::new(Vendor::Nvidia, name.clone());
            gpu.source = Some(SOURCE.into());
            match mib {
                Some(m) => gpu.memory_gb = Some(*m as f64 / 1024.0),
                None => {
                    // GB10 reports "Not Supported": no framebuffer, the GPU uses system memory.
                    gpu.unified_memory = Some(true);
                    gpu.memory_gb = host_memory_gb;
                    gpu.memory_note = Some(
                        "nvidia-smi reports memory as Not Supported: unified system memory".into(),
                    );
                }
            }
            if let Some(q) = query.get(i).filter(|_| aligned) {
                gpu.uuid = q.uuid.clone();
                gpu.compute_capability = q.compute_cap.as_deref().and_then(|c| c.parse().ok());
            }
            gpu
        })
        .collect();
    let nvidia = (table.driver.is_some() || table.cuda.is_some()).then(|| Nvidia {
        driver: table.driver.as_deref().and_then(|d| d.parse().ok()),
        cuda_driver: table.cuda.as_deref().and_then(|c| c.parse().ok()),
        source: Some(SOURCE.into()),
        ..Nvidia::default()
    });
    SmiFacts {
        gpus,
        nvidia,
        error: table.error.clone(),
    }
}

/// Parses `nvidia-smi` (no arguments), from both output streams. GPU rows are `|   0  NVIDIA GB10   On
/// |`; the next row holds memory as `74199MiB /  81559MiB` or `Not Supported`.
pub fn parse_table(text: &str) -> SmiTable {
    let mut table = SmiTable::default();
    let lines: Vec<&str> = text.lines().collect();
    if let Some(first) = lines.iter().position(|l| {
        let l = l.trim();
        l.starts_with("Failed to initialize NVML")
            || l.starts_with("NVIDIA-SMI has failed")
            || l.starts_with("Unable to determine the device handle")
    }) {
        // Keep the message whole: newer drivers add "NVML library version: 570.124" on the next line.
        let message: Vec<&str> = lines[first..]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .take(8)
            .collect();
        table.error = Some(message.join("\n"));
        return table;
    }
    let field = |line: &str, key: &str| {
        line.split(key)
            .nth(1)
            .map(|r| r.split_whitespace().next().unwrap_or_default().to_string())
    };
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
                    // No machine has more; a hostile paste stops here.
                    if name.chars().any(char::is_alphabetic) && table.gpus.len() < 1024 {
                        table.gpus.push((name, memory));
                    }
                }
            }
        }
    }
    table
}

/// Parses the CSV of [`QUERY`] with `--format=csv,noheader,nounits`; `[N/A]` and `[Not Supported]`
/// fields are absent.
pub fn parse_query(text: &str) -> Vec<SmiQueryRow> {
    let value = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && !s.starts_with('[')).then(|| s.to_string())
    };
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            if f.len() != 5 || !f[0].trim().starts_with("GPU-") {
                return None;
            }
            Some(SmiQueryRow {
                uuid: value(f[0]),
                name: value(f[1])?,
                compute_cap: value(f[2]).filter(|c| c.parse::<f64>().is_ok()),
                memory_mib: value(f[3]).and_then(|m| m.parse().ok()),
                driver: value(f[4]),
            })
        })
        .collect()
}

/// What `nvidia-smi -q` says: the driver, the highest CUDA it supports, and per GPU its name, UUID, total
/// framebuffer and MIG mode.
#[derive(Debug, Default, PartialEq)]
pub struct SmiLog {
    pub driver: Option<String>,
    pub cuda: Option<String>,
    pub gpus: Vec<SmiLogGpu>,
}

#[derive(Debug, Default, PartialEq)]
pub struct SmiLogGpu {
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub memory_mib: Option<u64>,
    pub mig_enabled: Option<bool>,
}

/// Parses `nvidia-smi -q` (`==============NVSMI LOG==============`): `Key : value` lines, indented under
/// a `GPU 00000000:01:00.0` line per GPU and under untitled-value section lines (`FB Memory Usage`,
/// `MIG Mode`) whose keys repeat elsewhere (`Total`, `Current`).
pub fn parse_log(text: &str) -> SmiLog {
    let mut log = SmiLog::default();
    let mut section = String::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if indent == 0 && t.starts_with("GPU ") && !t.contains(" : ") {
            log.gpus.push(SmiLogGpu::default());
            section.clear();
            continue;
        }
        let Some((key, value)) = t.split_once(" : ").or_else(|| t.split_once(':')) else {
            if !t.is_empty() {
                section = t.to_string();
            }
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let known = |v: &str| (!v.is_empty() && v != "N/A").then(|| v.to_string());
        if indent == 0 {
            match key {
                "Driver Version" => log.driver = known(value),
                "CUDA Version" => log.cuda = known(value),
                _ => {}
            }
            continue;
        }
        let Some(gpu) = log.gpus.last_mut() else {
            continue;
        };
        // Keys directly under the GPU line have the smallest indent; deeper ones belong to `section`.
        if indent <= 4 {
            section.clear();
            match key {
                "Product Name" => gpu.name = known(value),
                "GPU UUID" => gpu.uuid = known(value),
                _ => {}
            }
        } else {
            match (section.as_str(), key) {
                ("FB Memory Usage", "Total") => {
                    gpu.memory_mib = value.trim_end_matches("MiB").trim().parse().ok();
                }
                ("MIG Mode", "Current") => {
                    gpu.mig_enabled = match value {
                        "Enabled" => Some(true),
                        "Disabled" => Some(false),
                        _ => None,
                    };
                }
                _ => {}
            }
        }
    }
    log
}

/// The table, or only its header: `| NVIDIA-SMI 580.95.05   Driver Version: 580.95.05   CUDA Version: 13.0 |`.
pub(super) fn is_table(text: &str) -> bool {
    text.lines()
        .any(|l| l.contains("NVIDIA-SMI") && l.contains("Driver Version:"))
}

/// `NVIDIA-SMI 535.103   Driver Version: 537.13`: under WSL2 nvidia-smi is the Linux side's build and the
/// driver is Windows'; elsewhere the two are one driver's number (a mismatch on Linux is an NVML failure,
/// not a table).
fn wsl_header(text: &str) -> bool {
    text.lines().take(10_000).any(|l| {
        let Some(i) = l.find("NVIDIA-SMI ") else {
            return false;
        };
        let smi = l[i + "NVIDIA-SMI ".len()..].split_whitespace().next();
        let driver = l
            .split_once("Driver Version:")
            .and_then(|(_, r)| r.split_whitespace().next());
        match (smi, driver) {
            (Some(a), Some(b)) => {
                a != b
                    && a.parse::<crate::version::ToolVersion>().is_ok()
                    && b.parse::<crate::version::ToolVersion>().is_ok()
            }
            _ => false,
        }
    })
}

/// nvidia-smi's own failure, printed instead of the table.
pub(super) fn is_failure(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.starts_with("Failed to initialize NVML") || l.starts_with("NVIDIA-SMI has failed")
    })
}

/// `nvidia-smi -q`: its banner, or the `Attached GPUs` and `Product Name` lines of a piece of it.
pub(super) fn is_log(text: &str) -> bool {
    let mut attached = false;
    let mut product = false;
    for l in text.lines() {
        let t = l.trim();
        if t == "==============NVSMI LOG==============" {
            return true;
        }
        attached |= t.starts_with("Attached GPUs") && t.contains(':');
        product |= l.starts_with("    Product Name") && t.contains(" : ");
    }
    attached && product
}

/// The table's facts: driver, highest CUDA, GPUs with their memory; or nvidia-smi's failure. A header with
/// no GPU rows (the rows were not pasted) still says the driver found an NVIDIA GPU: one GPU whose model
/// is not shown, rather than "no GPU".
pub(super) fn read_table(text: &str, facts: &mut Facts) {
    let table = parse_table(text);
    let from_smi = to_facts(&table, &[], None);
    if let Some(error) = from_smi.error {
        facts
            .failed
            .insert("nvidia".into(), error.replace('\n', " / "));
        facts.nvidia = Some(Nvidia {
            error: Some(error),
            source: Some(SOURCE.into()),
            ..Nvidia::default()
        });
        return;
    }
    facts.nvidia = from_smi.nvidia;
    if wsl_header(text) {
        facts.host.os = Some(crate::facts::Os::Linux);
        facts.host.wsl = Some(true);
    }
    if from_smi.gpus.is_empty() {
        if table.driver.is_some() {
            let mut g = Gpu::new(Vendor::Nvidia, super::UNNAMED_NVIDIA_GPU);
            g.source = Some("nvidia-smi header (no GPU rows in the paste)".into());
            facts.gpus = Some(vec![g]);
        }
    } else {
        facts.gpus = Some(from_smi.gpus);
    }
}

/// `nvidia-smi -q`'s facts: driver, highest CUDA, and each GPU by name with its UUID, memory and MIG mode.
pub(super) fn read_log(text: &str, facts: &mut Facts) {
    let log = parse_log(text);
    if log.driver.is_some() || log.cuda.is_some() {
        facts.nvidia = Some(Nvidia {
            driver: log.driver.as_deref().and_then(|d| d.parse().ok()),
            cuda_driver: log.cuda.as_deref().and_then(|c| c.parse().ok()),
            source: Some("nvidia-smi -q".into()),
            ..Nvidia::default()
        });
    }
    let gpus: Vec<Gpu> = log
        .gpus
        .into_iter()
        .map(|g| {
            let mut gpu = Gpu::new(
                Vendor::Nvidia,
                g.name.unwrap_or_else(|| super::UNNAMED_NVIDIA_GPU.into()),
            );
            gpu.uuid = g.uuid;
            gpu.memory_gb = g.memory_mib.map(|m| m as f64 / 1024.0);
            gpu.mig_enabled = g.mig_enabled;
            gpu.source = Some("nvidia-smi -q".into());
            gpu
        })
        .collect();
    if !gpus.is_empty() {
        facts.gpus = Some(gpus);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(path),
        )
        .unwrap_or_else(|e| panic!("fixture {path}: {e}"))
    }

    #[test]
    fn tables_become_facts() {
        let gb10 = parse_table(&fixture(
            "nvidia-smi/gb10-dgx-spark-driver580.95-processes.txt",
        ));
        assert_eq!(gb10.driver.as_deref(), Some("580.95.05"));
        assert_eq!(gb10.cuda.as_deref(), Some("13.0"));
        assert_eq!(gb10.gpus, vec![("NVIDIA GB10".to_string(), None)]);
        let facts = to_facts(&gb10, &[], Some(128.0));
        assert_eq!(facts.gpus.len(), 1);
        assert_eq!(facts.gpus[0].unified_memory, Some(true));
        assert_eq!(facts.gpus[0].memory_gb, Some(128.0));
        assert_eq!(facts.gpus[0].source.as_deref(), Some("nvidia-smi"));
        let nvidia = facts.nvidia.unwrap();
        assert_eq!(nvidia.driver.unwrap().to_string(), "580.95.05");
        assert_eq!(nvidia.cuda_driver.unwrap().to_string(), "13.0");

        let h100 = parse_table(&fixture(
            "nvidia-smi/h100-sxm-single-74GiB-used-driver580.105.txt",
        ));
        assert_eq!(h100.driver.as_deref(), Some("580.105.08"));
        assert_eq!(h100.gpus[0].1, Some(81559));
        let f = to_facts(&h100, &[], None);
        // 81559 MiB in GiB (memory figures are GiB).
        assert!((f.gpus[0].memory_gb.unwrap() - 79.65).abs() < 0.01);
        let four = parse_table(&fixture("nvidia-smi/h100-sxm-x4-idle-driver560.35.txt"));
        assert_eq!(four.gpus.len(), 4);
        let mig = parse_table(&fixture("nvidia-smi/mig-devices-section-PARTIAL.txt"));
        assert!(mig.gpus.is_empty(), "{mig:?}");
        let rtx = parse_table(&fixture(
            "nvidia-smi/rtx5090-desktop-xorg-processes-driver580.65.txt",
        ));
        assert_eq!(rtx.gpus[0].0, "NVIDIA GeForce RTX 5090");
    }

    #[test]
    fn failures_keep_every_line() {
        let mismatch = parse_table(&fixture(
            "nvidia-smi/driver-library-mismatch-with-nvml-version.txt",
        ));
        assert_eq!(
            mismatch.error.as_deref(),
            Some("Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.144")
        );
        assert!(mismatch.gpus.is_empty());
        let facts = to_facts(&mismatch, &[], None);
        assert!(facts.gpus.is_empty() && facts.nvidia.is_none());
        assert!(facts.error.unwrap().contains("550.144"));
        // The same message arriving on stderr after a blank stdout.
        let t = parse_table("\nFailed to initialize NVML: Driver/library version mismatch\n");
        assert!(t.error.unwrap().ends_with("version mismatch"));
    }

    #[test]
    fn query_rows_add_compute_capability() {
        let rows = parse_query(&fixture("nvidia-smi/gb10-query-compute-cap.txt"));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].compute_cap.as_deref(), Some("12.1"));
        assert_eq!(rows[0].memory_mib, None);
        let table = parse_table(&fixture(
            "nvidia-smi/gb10-dgx-spark-driver580.95-processes.txt",
        ));
        let facts = to_facts(&table, &rows, Some(128.0));
        assert_eq!(
            facts.gpus[0]
                .compute_capability
                .as_ref()
                .unwrap()
                .to_string(),
            "12.1"
        );
        // The recorded five-column query (no compute_cap) is not mistaken for ours.
        assert!(parse_query(&fixture(
            "nvidia-smi/gb10-query-gpu-csv-noheader-nounits.txt"
        ))
        .is_empty());
    }

    #[test]
    fn query_logs_name_their_gpus() {
        let log = parse_log(&fixture(
            "dumps/nvidia-smi-q/sysmon12-gtx780-driver450.66-HEAD.txt",
        ));
        assert_eq!(log.driver.as_deref(), Some("450.66"));
        assert_eq!(log.cuda.as_deref(), Some("11.0"));
        assert_eq!(log.gpus.len(), 1);
        assert_eq!(log.gpus[0].name.as_deref(), Some("GeForce GTX 780"));
        assert_eq!(
            log.gpus[0].uuid.as_deref(),
            Some("GPU-a230e637-c9e1-1b61-3830-a437b874d88d")
        );
        // "MIG Mode / Current : N/A": not said.
        assert_eq!(log.gpus[0].mig_enabled, None);
        let old = parse_log("Driver Version : 396.54\n\nAttached GPUs : 1\nGPU 00000000:01:00.0\n    Product Name : GeForce GTX 1080\n    FB Memory Usage\n        Total : 8119 MiB\n        Used : 0 MiB\n");
        assert_eq!(old.cuda, None);
        assert_eq!(old.gpus[0].memory_mib, Some(8119));
    }
}
