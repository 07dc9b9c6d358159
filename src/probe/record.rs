//! Installed files that are not what their wheel installed: each distribution's `RECORD` lists its files
//! with their sizes, and a file whose size differs was truncated or replaced after install (a full disk
//! during `pip install`, a copy cut short). An import that dies of SIGBUS on such a library is explained by
//! it, and the fix is to reinstall that one distribution. Sizes only — hashing gigabytes of CUDA libraries
//! would take seconds — and only when `--deep` saw an import die of a signal.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use crate::facts::{normalize_package, DamagedFile};
use crate::files;

/// Most files compared; a larger environment is checked up to here.
const MAX_FILES: usize = 400_000;

/// Files whose size differs from their distribution's RECORD, in the first distribution per name on
/// `path` (as Python sees them), within `budget`.
pub fn damaged_files(path: &[PathBuf], budget: Duration) -> Vec<DamagedFile> {
    let start = Instant::now();
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    let mut out = Vec::new();
    let mut checked = 0usize;
    for dir in path {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut infos: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "dist-info"))
            .collect();
        infos.sort();
        for info in infos {
            let Ok(Some(meta)) =
                crate::probe::python::read_metadata_headers(&info.join("METADATA"))
            else {
                continue;
            };
            let name = normalize_package(&meta.name);
            if seen.insert(name.clone(), ()).is_some() {
                continue;
            }
            for (rel, size) in record_sizes(&info.join("RECORD")) {
                checked += 1;
                if checked > MAX_FILES || start.elapsed() > budget {
                    return out;
                }
                let file = dir.join(&rel);
                // A RECORD entry that is a link or missing is not a size we can compare.
                let Ok(m) = std::fs::symlink_metadata(&file) else {
                    continue;
                };
                if m.is_file() && m.len() != size {
                    out.push(DamagedFile {
                        dist: name.clone(),
                        version: meta.version.clone(),
                        path: rel.display().to_string(),
                        expected_bytes: size,
                        bytes: m.len(),
                    });
                }
            }
        }
    }
    out
}

/// `RECORD` rows with a size: `path,sha256=…,size`. Paths that leave the site folder (`../../bin/x`) or
/// are absolute are skipped.
fn record_sizes(path: &Path) -> Vec<(PathBuf, u64)> {
    let Ok(file) = files::open_regular(path, files::Links::Follow) else {
        return Vec::new();
    };
    BufReader::new(file.take(files::MAX_METADATA_BYTES))
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            // The path may be quoted when it holds a comma; the size is the last field.
            let (rest, size) = line.rsplit_once(',')?;
            let size: u64 = size.trim().parse().ok()?;
            let (path, _hash) = rest.rsplit_once(',')?;
            let path = PathBuf::from(path.trim_matches('"'));
            let inside = path
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
            inside.then_some((path, size))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_file_is_found_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path();
        let info = site.join("nvidia_cublas-13.4.1.3.dist-info");
        std::fs::create_dir_all(site.join("nvidia/cu13/lib")).unwrap();
        std::fs::create_dir_all(&info).unwrap();
        std::fs::write(
            info.join("METADATA"),
            "Metadata-Version: 2.1\nName: nvidia-cublas\nVersion: 13.4.1.3\n",
        )
        .unwrap();
        std::fs::write(site.join("nvidia/cu13/lib/libcublas.so.13"), vec![0u8; 10]).unwrap();
        std::fs::write(site.join("nvidia/cu13/lib/ok.so"), vec![0u8; 4]).unwrap();
        std::fs::write(
            info.join("RECORD"),
            "nvidia/cu13/lib/libcublas.so.13,sha256=x,54198912\nnvidia/cu13/lib/ok.so,sha256=y,4\n\"a,b.txt\",sha256=z,1\n../../bin/tool,sha256=w,9\nnvidia_cublas-13.4.1.3.dist-info/RECORD,,\n",
        )
        .unwrap();
        let found = damaged_files(&[site.to_path_buf()], Duration::from_secs(5));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].dist, "nvidia-cublas");
        assert_eq!(found[0].path, "nvidia/cu13/lib/libcublas.so.13");
        assert_eq!((found[0].bytes, found[0].expected_bytes), (10, 54_198_912));
    }
}
