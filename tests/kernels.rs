//! The GPU kernels without a GPU: two real NVRTCs (13.x and 12.8, the one PyTorch's cu128 wheels bring;
//! `scripts/test` installs both from PyPI) compile every kernel for every target architecture. The native
//! FP4 kernels must build on Blackwell and be refused by ptxas on older GPUs — that refusal is how "no
//! native FP4" is known — while an NVRTC that does not know an architecture must say so and build the
//! portable kernels as PTX. nvdisasm checks the SASS really holds the FP4 and tensor-core instructions.
//! With a GPU present, the kernels also run and are checked (`scripts/gpu-check`).

use std::path::PathBuf;

use mlcompat::gpu::kernels::{self, Build, Kernel};
use mlcompat::gpu::{device, nvrtc, worker, CudaVersion};

/// The NVRTC libraries in the folder named by `var`, or a loud skip — a failure when
/// `MLCOMPAT_REQUIRE_NVRTC` is set, as `scripts/test` sets it.
fn nvrtc_from(var: &str) -> Option<Vec<PathBuf>> {
    let found = std::env::var_os(var)
        .map(PathBuf::from)
        .map(|p| {
            if p.is_dir() {
                nvrtc::in_folder(&p)
            } else {
                vec![p]
            }
        })
        .filter(|l| !l.is_empty());
    if found.is_none() {
        assert!(
            std::env::var_os("MLCOMPAT_REQUIRE_NVRTC").is_none(),
            "NVRTC required but ${var} names none"
        );
        eprintln!("skipped: ${var} names no NVRTC (scripts/test installs it)");
    }
    found
}

fn nvrtc_13() -> Option<Vec<PathBuf>> {
    nvrtc_from("MLCOMPAT_NVRTC")
}

fn nvrtc_12_8() -> Option<Vec<PathBuf>> {
    nvrtc_from("MLCOMPAT_NVRTC_12")
}

fn build(nvrtc: &[PathBuf], arch: &str) -> Build {
    worker::build(nvrtc, arch, None, &Kernel::ALL).unwrap_or_else(|e| panic!("{arch}: {e}"))
}

fn variant(build: &Build, k: Kernel) -> kernels::Variant {
    build.variant(k).expect("variant").clone()
}

/// What ptxas must say for each target: (native FP4 conversion, block-scaled MMA).
fn expected(arch: &str) -> (bool, bool) {
    match arch {
        // Block-scaled mma.sync exists on consumer Blackwell only; sm_100a/103a/110a have tcgen05.
        "sm_120a" | "sm_121a" => (true, true),
        "sm_100a" | "sm_103a" | "sm_110a" => (true, false),
        _ => (false, false),
    }
}

fn check_known(build: &Build, arch: &str) {
    let (native, mma) = expected(arch);
    assert_eq!(build.portable_target, arch, "{arch}: a cubin for the GPU");
    for k in [Kernel::Fp4Emulated, Kernel::Bandwidth] {
        let v = variant(build, k);
        assert!(
            v.compiled && v.cubin_bytes.unwrap_or(0) > 0,
            "{arch}: {v:?}"
        );
    }
    assert_eq!(build.native_fp4, Some(native), "{arch}: native FP4");
    assert_eq!(build.fp4_mma, Some(mma), "{arch}: FP4 MMA");
    if !native {
        let msg = variant(build, Kernel::Fp4Native)
            .message
            .unwrap_or_default();
        assert!(
            msg.contains("e2m1") && msg.contains(&format!("not supported on .target '{arch}'")),
            "{arch}: the refusal names the instruction and target: {msg}"
        );
    } else if !mma {
        let msg = variant(build, Kernel::Fp4Mma).message.unwrap_or_default();
        assert!(msg.contains("not supported on .target"), "{arch}: {msg}");
    }
}

#[test]
fn nvrtc_13_builds_every_kernel_for_every_target() {
    let Some(nvrtc) = nvrtc_13() else { return };
    for arch in kernels::CI_TARGETS {
        let b = build(&nvrtc, arch);
        assert!(b.compiler.starts_with("NVRTC 13."), "{}", b.compiler);
        check_known(&b, arch);
    }
}

#[test]
fn nvrtc_12_8_builds_what_it_knows_and_ptx_for_the_rest() {
    let Some(nvrtc) = nvrtc_12_8() else { return };
    for arch in kernels::CI_TARGETS {
        let b = build(&nvrtc, arch);
        assert!(b.compiler.starts_with("NVRTC 12.8"), "{}", b.compiler);
        // NVRTC 12.8 predates sm_103, sm_110 and sm_121 (GB10).
        let ptx_for = match *arch {
            "sm_103a" | "sm_110a" => Some("compute_101"),
            "sm_121a" => Some("compute_120"),
            _ => None,
        };
        let Some(compute) = ptx_for else {
            check_known(&b, arch);
            continue;
        };
        assert_eq!(b.native_fp4, None, "{arch}: unknown, not 'no'");
        let note = b.native_note.clone().unwrap_or_default();
        let number = arch.trim_start_matches("sm_").trim_end_matches('a');
        assert!(
            note.contains(&format!("NVRTC 12.8 does not know sm_{number}")),
            "{arch}: {note}"
        );
        assert_eq!(b.portable_target, compute, "{arch}");
        for k in [Kernel::Fp4Emulated, Kernel::Bandwidth] {
            let v = variant(&b, k);
            assert!(v.compiled && v.ptx_bytes.unwrap_or(0) > 0, "{arch}: {v:?}");
            let ptx = String::from_utf8_lossy(&v.image.expect("PTX").bytes).into_owned();
            assert!(ptx.contains(".version 8.7"), "PTX ISA 8.7 from NVRTC 12.8");
            assert!(ptx.contains(&format!(".target {}", compute.replace("compute", "sm"))));
        }
    }
}

#[test]
fn the_nvrtc_is_chosen_for_the_gpu_and_the_driver() {
    let (Some(n13), Some(n12)) = (nvrtc_13(), nvrtc_12_8()) else {
        return;
    };
    let both: Vec<PathBuf> = n12.iter().chain(&n13).cloned().collect();
    // 12.8 listed first, but it does not know sm_121: 13.x is chosen.
    let b = worker::build(&both, "sm_121a", None, &[Kernel::Fp4Native]).expect("builds");
    assert!(b.compiler.starts_with("NVRTC 13."), "{}", b.compiler);
    assert_eq!(b.native_fp4, Some(true));
    // A CUDA 12.4 driver cannot load CUDA 13 code: 12.8 is chosen (minor-version compatibility).
    let d = Some(CudaVersion::new(12, 4));
    let b = worker::build(&both, "sm_90a", d, &[Kernel::Bandwidth]).expect("builds");
    assert!(b.compiler.starts_with("NVRTC 12.8"), "{}", b.compiler);
    // With only 13.x it says which NVRTC to install.
    let err = worker::build(&n13, "sm_90a", d, &[Kernel::Bandwidth]).expect_err("no fit");
    assert!(
        err.contains("newer than this driver (CUDA 12.4)")
            && err.contains("pip install 'nvidia-cuda-nvrtc-cu12==12.4.*'"),
        "{err}"
    );
    // The report names the file actually loaded.
    assert!(b.compiler.contains("libnvrtc.so.12"), "{}", b.compiler);
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test runs nvdisasm on a cubin it wrote"
)]
fn disassemble(cubin: &[u8]) -> Option<String> {
    let nvdisasm = std::env::var_os("MLCOMPAT_NVDISASM")
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    let Some(nvdisasm) = nvdisasm else {
        assert!(
            std::env::var_os("MLCOMPAT_REQUIRE_NVRTC").is_none(),
            "nvdisasm required but MLCOMPAT_NVDISASM is not set"
        );
        eprintln!("skipped: nvdisasm not found (scripts/test installs it)");
        return None;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("k.cubin");
    std::fs::write(&file, cubin).expect("writable");
    let out = std::process::Command::new(nvdisasm)
        .arg("-c")
        .arg(&file)
        .output()
        .expect("nvdisasm runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn sass(b: &Build, k: Kernel) -> Option<String> {
    disassemble(&b.image(k).expect("a cubin").bytes)
}

#[test]
fn the_sass_holds_the_fp4_and_tensor_core_instructions() {
    let Some(nvrtc) = nvrtc_13() else { return };
    let b = build(&nvrtc, "sm_120a");
    let Some(mma) = sass(&b, Kernel::Fp4Mma) else {
        return;
    };
    // Hardware e2m1 conversions both ways, and the block-scaled FP4 tensor-core MMA.
    assert!(
        mma.contains("F2FP.SATFINITE.E2M1.F32"),
        "no e2m1 conversion in:\n{}",
        &mma[..mma.len().min(2000)]
    );
    assert!(mma.contains("F2FP.F16.E2M1.UNPACK_B"), "no e2m1 unpack");
    assert!(
        mma.contains("OMMA.SF.16864.F32.E2M1.E2M1"),
        "no block-scaled FP4 MMA"
    );
    // Software FP4 on Hopper and on Blackwell: decoded in registers, multiplied on the FP16 tensor
    // cores (HMMA), and no FP4 hardware anywhere in it.
    for arch in ["sm_90a", "sm_120a"] {
        let b = build(&nvrtc, arch);
        let emulated = sass(&b, Kernel::Fp4Emulated).expect("nvdisasm");
        assert!(
            emulated.contains("HMMA.16816.F32"),
            "{arch}: the dequantize + MMA path uses the tensor cores"
        );
        assert!(
            !emulated.contains("E2M1") && !emulated.contains("OMMA"),
            "{arch}: the emulated path uses no FP4 hardware"
        );
        // The bandwidth kernels move 16-byte vectors.
        let bw = sass(&b, Kernel::Bandwidth).expect("nvdisasm");
        assert!(bw.contains("LDG.E.128"), "{arch}: 128-bit loads");
    }
}

#[test]
fn on_a_gpu_the_kernels_run_and_match_the_cpu_reference() {
    let gpu = match device::open(0) {
        Ok(g) => g,
        // On a machine meant to have one (scripts/gpu-check sets MLCOMPAT_REQUIRE_GPU=1), no GPU is a
        // failure: a skipped GPU test must not read as a passed one there.
        Err(e) if std::env::var_os("MLCOMPAT_REQUIRE_GPU").is_some_and(|v| v == "1") => {
            panic!("MLCOMPAT_REQUIRE_GPU=1 but no GPU opened: {e}")
        }
        Err(e) => {
            eprintln!("skipped: no GPU ({e})");
            return;
        }
    };
    let candidates = nvrtc::candidates(&[]);
    let driver = mlcompat::gpu::driver::Driver::load()
        .ok()
        .and_then(|d| d.version);
    let b = worker::build(&candidates, &gpu.info.arch, driver, &Kernel::ALL)
        .expect("a GPU test needs NVRTC");
    eprintln!("{}: {} ({})", gpu.info.name, b.compiler, b.portable_target);
    let bw = gpu.bandwidth(&b).expect("bandwidth runs");
    assert!(bw.verified && bw.add_gbs > 10.0, "{bw:?}");
    let emulated = gpu.fp4_emulated(&b).expect("emulated FP4 runs");
    assert!(emulated.correct, "{emulated:?}");
    if b.native_fp4 == Some(true) {
        let native = gpu.fp4_native(&b).expect("native FP4 runs");
        assert!(native.conversion_correct, "{native:?}");
        if b.fp4_mma == Some(true) {
            assert_eq!(native.mma_correct, Some(true), "{native:?}");
        }
    }
}
