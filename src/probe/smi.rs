//! nvidia-smi, for when mlcompat cannot load NVML itself: its GPU table (and a `--query-gpu` CSV for the
//! compute capability) become facts marked as coming from nvidia-smi, and its own failure message — which
//! it prints on stdout, exit status 18, one or two lines ("Failed to initialize NVML: Driver/library
//! version mismatch" / "NVML library version: 570.124") — is kept whole.

use std::path::Path;

use crate::exec;
use crate::facts::{Gpu, Nvidia, Vendor};

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

/// nvidia-smi's facts, or why there are none; `program` is its path. Both calls share `budget`.
pub fn read(program: &Path, budget: &exec::Budget, host_memory_gb: Option<f64>) -> SmiFacts {
    let program = program.display().to_string();
    let table = match exec::Cmd::new(program.as_str()).run_to_end(budget) {
        Ok(done) => parse_table(&format!("{}\n{}", done.stdout, done.stderr)),
        Err(e) => SmiTable {
            error: Some(e.to_string()),
            ..SmiTable::default()
        },
    };
    let query = if table.error.is_none() && !table.gpus.is_empty() && !budget.left().is_zero() {
        exec::Cmd::new(program.as_str())
            .args([QUERY, "--format=csv,noheader,nounits"])
            .run(budget)
            .map(|o| parse_query(&o.stdout))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    to_facts(&table, &query, host_memory_gb)
}

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
                    if name.chars().any(char::is_alphabetic) {
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::probe::fixture;

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
        // 81,559 MiB: the H100's "80 GB".
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
}
