//! Which NVRTC builds the kernels for a GPU, and into what: pure decisions over what each NVRTC says it
//! knows (`nvrtcGetSupportedArchs`, `nvrtcVersion`) and what the driver runs (`cuDriverGetVersion`).
//!
//! The rules, from NVIDIA's CUDA compatibility guide:
//! * a cubin for `sm_XY` runs only where NVRTC knew `sm_XY`; PTX for `compute_XY` is JIT-compiled by the
//!   driver for any GPU of compute capability X.Y or newer;
//! * a driver runs cubins from any toolkit of its own major version or older (minor-version
//!   compatibility), not from a newer major: CUDA 13 code needs a CUDA 13 driver (r580 or later);
//! * the driver's JIT understands PTX only up to its own version, so PTX must come from an NVRTC no newer
//!   than the driver.
//!
//! The native FP4 kernels need the arch-specific target (`sm_120a`), so they are only tried with an NVRTC
//! that knows the GPU; the portable kernels (emulated FP4, bandwidth) fall back to PTX.

use super::CudaVersion;

/// A real GPU architecture as `--arch` names it: `sm_90`, `sm_90a`, `sm_121a`, `sm_100f`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arch {
    /// 121 for `sm_121a`.
    pub number: u32,
    /// `a` (arch-specific) or `f` (family-specific), if any.
    pub suffix: Option<char>,
}

impl Arch {
    pub fn parse(name: &str) -> Option<Arch> {
        let rest = name.strip_prefix("sm_")?;
        let (digits, suffix) = match rest.strip_suffix(['a', 'f']) {
            Some(d) => (d, rest.chars().last()),
            None => (rest, None),
        };
        if digits.len() < 2 || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Arch {
            number: digits.parse().ok()?,
            suffix,
        })
    }

    /// The target for a GPU of compute capability `major.minor`: arch-specific (`a`) from Hopper on, so
    /// the native FP4 instructions are allowed where the hardware has them.
    pub fn for_capability(major: u32, minor: u32) -> Arch {
        Arch {
            number: major * 10 + minor,
            suffix: (major >= 9).then_some('a'),
        }
    }

    pub fn name(&self) -> String {
        match self.suffix {
            Some(s) => format!("sm_{}{s}", self.number),
            None => format!("sm_{}", self.number),
        }
    }
}

/// What one NVRTC candidate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiler {
    pub version: CudaVersion,
    pub archs: Vec<u32>,
}

/// How the kernels are built for the GPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Index of the chosen NVRTC among the candidates.
    pub compiler: usize,
    /// The target of the portable kernels: `sm_90a` (a cubin) or `compute_120` (PTX the driver JITs).
    pub portable_target: String,
    /// Whether the native FP4 kernels can be tried; when not, why (the NVRTC does not know the GPU).
    pub native: Result<String, String>,
    /// Said when the choice is a compromise (PTX, or an NVRTC newer than the driver's minor version).
    pub note: Option<String>,
}

/// Picks the NVRTC and targets for `arch` on a driver of version `driver` (`None`: no GPU, compile only).
///
/// Preference: an NVRTC that knows the GPU and whose cubins the driver loads (not newer than the driver
/// first, then newest); else PTX for the newest `compute_XX` at or below the GPU from an NVRTC no newer
/// than the driver; else an error that says which NVRTC to install.
pub fn choose(
    compilers: &[Compiler],
    arch: &Arch,
    driver: Option<CudaVersion>,
) -> Result<Plan, String> {
    if compilers.is_empty() {
        return Err(super::nvrtc::NOT_FOUND.to_string());
    }
    let not_newer = |v: CudaVersion| driver.is_none_or(|d| v <= d);
    // (class, not newer than the driver, version): bigger is better.
    let mut best: Option<((u8, bool, CudaVersion), Plan)> = None;
    for (i, c) in compilers.iter().enumerate() {
        let v = c.version;
        let knows = c.archs.contains(&arch.number);
        let cubin_loads = driver.is_none_or(|d| v.major <= d.major);
        let candidate = if knows && cubin_loads {
            Some((
                (2, not_newer(v), v),
                Plan {
                    compiler: i,
                    portable_target: arch.name(),
                    native: Ok(arch.name()),
                    note: (!not_newer(v)).then(|| {
                        format!(
                            "NVRTC {v} is newer than the driver (CUDA {}); its cubins load under minor-version compatibility",
                            driver.map(|d| d.to_string()).unwrap_or_default()
                        )
                    }),
                },
            ))
        } else if let Some(compute) = c.archs.iter().rev().find(|a| **a <= arch.number) {
            // Reached when this NVRTC does not know the GPU (or is newer than the driver, and then its PTX
            // does not load either).
            not_newer(v).then(|| {
                let why = does_not_know(c, arch);
                (
                    (1, true, v),
                    Plan {
                        compiler: i,
                        portable_target: format!("compute_{compute}"),
                        native: Err(why.clone()),
                        note: Some(format!(
                            "{why}: the portable kernels are built as compute_{compute} PTX for the driver to JIT"
                        )),
                    },
                )
            })
        } else {
            None
        };
        if let Some((rank, plan)) = candidate {
            if best.as_ref().is_none_or(|(r, _)| rank > *r) {
                best = Some((rank, plan));
            }
        }
    }
    best.map(|(_, plan)| plan)
        .ok_or_else(|| nothing_fits(compilers, arch, driver))
}

fn does_not_know(c: &Compiler, arch: &Arch) -> String {
    format!(
        "NVRTC {} does not know sm_{} (it knows sm_{}…sm_{}); native FP4 was not tried — an NVRTC that knows sm_{} is needed",
        c.version,
        arch.number,
        c.archs.first().copied().unwrap_or(0),
        c.archs.last().copied().unwrap_or(0),
        arch.number
    )
}

/// Why no candidate fits, and what to install.
fn nothing_fits(compilers: &[Compiler], arch: &Arch, driver: Option<CudaVersion>) -> String {
    let found: Vec<String> = compilers
        .iter()
        .map(|c| format!("NVRTC {}", c.version))
        .collect();
    match driver {
        Some(d) if compilers.iter().all(|c| c.version.major > d.major || c.version > d) => format!(
            "{} {} newer than this driver (CUDA {d}): its cubins and PTX would not load. Install an NVRTC for CUDA {d} — {} — or update the driver",
            found.join(", "),
            if found.len() == 1 { "is" } else { "are" },
            install_hint(d)
        ),
        _ => format!(
            "{} cannot build for sm_{} (it knows no architecture at or below it)",
            found.join(", "),
            arch.number
        ),
    }
}

/// The pip command for the NVRTC wheel matching a driver's CUDA version.
pub fn install_hint(d: CudaVersion) -> String {
    match d.major {
        12 => format!("pip install 'nvidia-cuda-nvrtc-cu12=={}.*'", d),
        11 => format!("pip install 'nvidia-cuda-nvrtc-cu11=={}.*'", d),
        _ => format!("pip install 'nvidia-cuda-nvrtc=={}.*'", d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nvrtc_12_8() -> Compiler {
        Compiler {
            version: CudaVersion::new(12, 8),
            archs: vec![
                50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90, 100, 101, 120,
            ],
        }
    }

    fn nvrtc_13_5() -> Compiler {
        Compiler {
            version: CudaVersion::new(13, 5),
            archs: vec![75, 80, 86, 87, 88, 89, 90, 100, 103, 107, 110, 120, 121],
        }
    }

    fn arch(name: &str) -> Arch {
        Arch::parse(name).expect("arch")
    }

    #[test]
    fn arch_names() {
        assert_eq!(
            arch("sm_121a"),
            Arch {
                number: 121,
                suffix: Some('a')
            }
        );
        assert_eq!(arch("sm_90").name(), "sm_90");
        assert_eq!(arch("sm_100f").name(), "sm_100f");
        for bad in [
            "compute_90",
            "sm_",
            "sm_9",
            "sm_1234",
            "sm_90b",
            "sm_a",
            "90",
        ] {
            assert!(Arch::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Arch::for_capability(12, 1).name(), "sm_121a");
        assert_eq!(Arch::for_capability(9, 0).name(), "sm_90a");
        assert_eq!(Arch::for_capability(8, 9).name(), "sm_89");
    }

    #[test]
    fn an_nvrtc_that_does_not_know_the_gpu_builds_ptx_and_says_so() {
        // PyTorch's cu128 wheel brings NVRTC 12.8, which predates sm_121 (GB10).
        let plan = choose(&[nvrtc_12_8()], &arch("sm_121a"), None).expect("a plan");
        assert_eq!(plan.portable_target, "compute_120");
        let why = plan.native.expect_err("native not tried");
        assert!(why.contains("NVRTC 12.8 does not know sm_121"), "{why}");
        assert!(why.contains("sm_50…sm_120"), "{why}");
    }

    #[test]
    fn candidates_are_chosen_by_what_they_know_not_by_order() {
        let plan = choose(&[nvrtc_12_8(), nvrtc_13_5()], &arch("sm_121a"), None).expect("plan");
        assert_eq!(plan.compiler, 1);
        assert_eq!(plan.portable_target, "sm_121a");
        assert_eq!(plan.native, Ok("sm_121a".to_string()));
        assert_eq!(plan.note, None);
    }

    #[test]
    fn a_cuda_12_driver_gets_cuda_12_code() {
        let d = Some(CudaVersion::new(12, 4));
        // With both, NVRTC 12.8 (same major: its cubins load) beats the newer 13.5.
        let plan = choose(&[nvrtc_13_5(), nvrtc_12_8()], &arch("sm_90a"), d).expect("plan");
        assert_eq!(plan.compiler, 1);
        assert_eq!(plan.portable_target, "sm_90a");
        assert!(plan
            .note
            .as_deref()
            .is_some_and(|n| n.contains("minor-version compatibility")));
        // An NVRTC not newer than the driver is preferred to a newer minor.
        let nvrtc_12_4 = Compiler {
            version: CudaVersion::new(12, 4),
            archs: vec![50, 60, 70, 75, 80, 86, 89, 90],
        };
        let plan = choose(&[nvrtc_12_8(), nvrtc_12_4], &arch("sm_90a"), d).expect("plan");
        assert_eq!((plan.compiler, plan.note), (1, None));
        // Only NVRTC 13: nothing loads; the message names what to install.
        let err = choose(&[nvrtc_13_5()], &arch("sm_90a"), d).expect_err("no fit");
        assert!(
            err.contains("NVRTC 13.5 is newer than this driver (CUDA 12.4)"),
            "{err}"
        );
        assert!(
            err.contains("pip install 'nvidia-cuda-nvrtc-cu12==12.4.*'"),
            "{err}"
        );
    }

    #[test]
    fn ptx_must_not_be_newer_than_the_driver() {
        // NVRTC 12.8 does not know sm_121; its PTX is fine on a 13.0 driver, not on a 12.6 one.
        let plan = choose(
            &[nvrtc_12_8()],
            &arch("sm_121a"),
            Some(CudaVersion::new(13, 0)),
        )
        .expect("plan");
        assert_eq!(plan.portable_target, "compute_120");
        let err = choose(
            &[nvrtc_12_8()],
            &arch("sm_121a"),
            Some(CudaVersion::new(12, 6)),
        )
        .expect_err("PTX 12.8 on a 12.6 driver");
        assert!(err.contains("install"), "{err}");
    }

    #[test]
    fn nothing_at_or_below_the_gpu() {
        let err = choose(&[nvrtc_13_5()], &arch("sm_70"), None).expect_err("13.x dropped Volta");
        assert!(err.contains("cannot build for sm_70"), "{err}");
        assert!(choose(&[], &arch("sm_90"), None)
            .expect_err("none")
            .contains("NVRTC not found"));
    }
}
