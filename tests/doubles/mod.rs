//! Builds the C stand-ins of `libcuda.so.1` and `libnvidia-ml.so.1` in this folder with gcc, once per
//! test process, into folders `LD_LIBRARY_PATH` can point at.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The two builds of the stand-ins: a CUDA 13.0 driver and a CUDA 12.4 one.
pub struct Doubles {
    pub cuda_13: PathBuf,
    #[allow(
        dead_code,
        reason = "not every test binary that includes this module uses both"
    )]
    pub cuda_12_4: PathBuf,
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test compiles its C stand-ins with gcc"
)]
fn gcc(out: &Path, source: &str, defines: &[&str]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/doubles");
    let status = std::process::Command::new("gcc")
        .args(["-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC"])
        .args(defines)
        .arg("-o")
        .arg(out)
        .arg(dir.join(source))
        .arg("-lm")
        .status()
        .expect("gcc runs (the GPU doubles are C)");
    assert!(status.success(), "gcc failed on {source}");
}

pub fn doubles() -> &'static Doubles {
    static BUILT: OnceLock<Doubles> = OnceLock::new();
    BUILT.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        // One folder per test process; those of processes that are gone are removed.
        for e in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("gpu-doubles-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let root = tmp.join(format!("gpu-doubles-{}", std::process::id()));
        let build = |name: &str, defines: &[&str]| {
            let dir = root.join(name);
            std::fs::create_dir_all(&dir).expect("doubles dir");
            gcc(&dir.join("libcuda.so.1"), "fake_cuda.c", defines);
            gcc(&dir.join("libnvidia-ml.so.1"), "fake_nvml.c", &[]);
            // cudarc tries the unversioned name first; on a machine with a real driver it must find ours.
            let _ = std::fs::remove_file(dir.join("libcuda.so"));
            std::os::unix::fs::symlink("libcuda.so.1", dir.join("libcuda.so")).expect("symlink");
            dir
        };
        Doubles {
            cuda_13: build("cuda-13.0", &[]),
            cuda_12_4: build("cuda-12.4", &["-DCUDA_12_4"]),
        }
    })
}
