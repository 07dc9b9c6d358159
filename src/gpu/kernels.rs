//! The kernel sources, and what one NVRTC builds from them for one architecture.
//!
//! `probes/fp4.cu` holds three kinds of kernel behind macros: software-emulated FP4 (always), the native
//! e2m1 conversion (`MLCOMPAT_NATIVE_FP4`, Blackwell's arch-specific targets) and the block-scaled FP4
//! tensor-core product (`MLCOMPAT_FP4_MMA`). Whether an architecture has native FP4 is not looked up in a
//! table: NVRTC is asked to compile the native kernels for it, and ptxas's refusal ("… not supported on
//! .target …") is the answer — which is how `bench fp4 --compile-only` works without a GPU. Any other
//! failure is a failure, not a "no"; and an NVRTC that does not know the architecture at all cannot say
//! (see `plan`).

use serde::{Deserialize, Serialize};

use super::nvrtc::{Image, Nvrtc};
use super::plan::Plan;

pub const FP4_SOURCE: &str = include_str!("../../probes/fp4.cu");
pub const BANDWIDTH_SOURCE: &str = include_str!("../../probes/bandwidth.cu");

/// FLOPs one warp does per iteration of `fp4_mma_throughput` and `fp4_emulated_throughput`: one m16n8k64
/// product, 2·16·8·64.
pub const FLOPS_PER_WARP_ITERATION: f64 = 2.0 * 16.0 * 8.0 * 64.0;

/// FLOPs one warp does per iteration of `fp4_dequant_mma_throughput`: a 64×32 tile over K = 64, 64
/// m16n8k16 products.
pub const DEQUANT_MMA_FLOPS_PER_WARP_ITERATION: f64 = 64.0 * 2.0 * 16.0 * 8.0 * 16.0;

/// Every architecture the test suite compiles for: Ampere, Ada, Hopper (plain and arch-specific, as
/// H100/H200 run), data-centre Blackwell (B200, B300), Thor, consumer Blackwell (RTX 50), GB10.
pub const CI_TARGETS: &[&str] = &[
    "sm_80", "sm_89", "sm_90", "sm_90a", "sm_100a", "sm_103a", "sm_110a", "sm_120a", "sm_121a",
];

/// The ptxas words that mean "this architecture has no such instruction" — the only refusal that
/// answers "no native FP4".
const NOT_ON_TARGET: &str = "not supported on .target";

/// The kernel modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kernel {
    /// The hardware e2m1 conversions (`fp4_roundtrip`).
    Fp4Native,
    /// The native kernels plus the block-scaled FP4 MMA (`fp4_mma_mxf4`, `fp4_mma_throughput`).
    Fp4Mma,
    /// Software FP4: lookup-table and dequantize-to-FP16 + MMA kernels.
    Fp4Emulated,
    /// `bw_add`, `bw_copy`, `bw_triad`.
    Bandwidth,
}

impl Kernel {
    pub const ALL: [Kernel; 4] = [
        Kernel::Fp4Native,
        Kernel::Fp4Mma,
        Kernel::Fp4Emulated,
        Kernel::Bandwidth,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Fp4Native => "fp4-native",
            Kernel::Fp4Mma => "fp4-mma",
            Kernel::Fp4Emulated => "fp4-emulated",
            Kernel::Bandwidth => "bandwidth",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Kernel::Bandwidth => BANDWIDTH_SOURCE,
            _ => FP4_SOURCE,
        }
    }

    fn defines(self) -> &'static [&'static str] {
        match self {
            Kernel::Fp4Native => &["MLCOMPAT_NATIVE_FP4=1"],
            Kernel::Fp4Mma => &["MLCOMPAT_NATIVE_FP4=1", "MLCOMPAT_FP4_MMA=1"],
            _ => &[],
        }
    }
}

/// One kernel module as built (or not) for one architecture.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Variant {
    pub kernel: Kernel,
    pub compiled: bool,
    /// `sm_90a` for a cubin, `compute_120` for PTX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cubin_bytes: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptx_bytes: Option<usize>,
    /// The compiler's message when it refused, or why the variant was not tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip)]
    pub image: Option<Image>,
}

impl Variant {
    fn not_tried(kernel: Kernel, why: String) -> Variant {
        Variant {
            kernel,
            compiled: false,
            target: None,
            cubin_bytes: None,
            ptx_bytes: None,
            message: Some(why),
            image: None,
        }
    }
}

/// What NVRTC built for one architecture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Build {
    pub arch: String,
    /// "NVRTC 13.0 (/path/libnvrtc.so.13)".
    pub compiler: String,
    /// Where the portable kernels went: `sm_90a` (cubin) or `compute_120` (PTX the driver JITs).
    pub portable_target: String,
    /// `Some(true)`: the native FP4 kernels compiled; `Some(false)`: ptxas refused the instructions for
    /// this target; `None`: not known (this NVRTC does not know the architecture, or the compile failed
    /// for another reason — `native_note` says which).
    pub native_fp4: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_note: Option<String>,
    /// The block-scaled FP4 MMA, as for `native_fp4` (`Some(false)` on sm_100a, whose FP4 MMA is tcgen05).
    pub fp4_mma: Option<bool>,
    /// Said when the build is a compromise (PTX, or an NVRTC newer than the driver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub variants: Vec<Variant>,
}

impl Build {
    pub fn variant(&self, kernel: Kernel) -> Option<&Variant> {
        self.variants.iter().find(|v| v.kernel == kernel)
    }

    pub fn image(&self, kernel: Kernel) -> Option<&Image> {
        self.variant(kernel).and_then(|v| v.image.as_ref())
    }
}

enum Outcome {
    Built(Variant),
    /// ptxas: the instruction does not exist on this target.
    NotOnTarget(Variant),
    Failed(Variant),
}

fn compile(nvrtc: &Nvrtc, kernel: Kernel, target: &str) -> Result<Outcome, String> {
    let file = format!("{}.cu", kernel.name());
    Ok(
        match nvrtc.compile(kernel.source(), &file, target, kernel.defines())? {
            Ok(image) => Outcome::Built(Variant {
                kernel,
                compiled: true,
                target: Some(target.to_string()),
                cubin_bytes: (!image.ptx).then_some(image.bytes.len()),
                ptx_bytes: image.ptx.then_some(image.bytes.len()),
                message: None,
                image: Some(image),
            }),
            Err(refused) => {
                let variant = Variant {
                    target: Some(target.to_string()),
                    ..Variant::not_tried(kernel, first_error(&refused.log))
                };
                if refused.log.contains(NOT_ON_TARGET) {
                    Outcome::NotOnTarget(variant)
                } else {
                    Outcome::Failed(variant)
                }
            }
        },
    )
}

/// Builds `kernels` for `arch` with `nvrtc` as `plan` says: the native ones for the arch-specific target
/// when the plan allows, the portable ones for the plan's cubin or PTX target.
pub fn build(nvrtc: &Nvrtc, plan: &Plan, arch: &str, kernels: &[Kernel]) -> Result<Build, String> {
    let mut build = Build {
        arch: arch.to_string(),
        compiler: nvrtc.describe(),
        portable_target: plan.portable_target.clone(),
        native_fp4: None,
        native_note: None,
        fp4_mma: None,
        note: plan.note.clone(),
        variants: vec![],
    };
    let wants = |k: Kernel| kernels.contains(&k);
    if wants(Kernel::Fp4Native) || wants(Kernel::Fp4Mma) {
        match &plan.native {
            Err(why) => {
                build.native_note = Some(why.clone());
                // The variants carry the short reason ("NVRTC 12.8 does not know sm_121"), the build the
                // whole of it.
                let short = why.split(" (").next().unwrap_or(why).to_string();
                for k in [Kernel::Fp4Native, Kernel::Fp4Mma]
                    .into_iter()
                    .filter(|k| wants(*k))
                {
                    build.variants.push(Variant::not_tried(k, short.clone()));
                }
            }
            Ok(target) => {
                let (native, variant) = match compile(nvrtc, Kernel::Fp4Native, target)? {
                    Outcome::Built(v) => (Some(true), v),
                    Outcome::NotOnTarget(v) => (Some(false), v),
                    Outcome::Failed(v) => (None, v),
                };
                build.native_fp4 = native;
                build.native_note = match native {
                    Some(true) => None,
                    Some(false) => variant.message.clone(),
                    None => Some(format!(
                        "the native FP4 kernels did not compile: {}",
                        variant.message.as_deref().unwrap_or("no log")
                    )),
                };
                if wants(Kernel::Fp4Native) {
                    build.variants.push(variant);
                }
                if wants(Kernel::Fp4Mma) {
                    if native == Some(true) {
                        let (mma, v) = match compile(nvrtc, Kernel::Fp4Mma, target)? {
                            Outcome::Built(v) => (Some(true), v),
                            Outcome::NotOnTarget(v) => (Some(false), v),
                            Outcome::Failed(v) => (None, v),
                        };
                        build.fp4_mma = mma;
                        build.variants.push(v);
                    } else {
                        build.fp4_mma = native;
                        build.variants.push(Variant::not_tried(
                            Kernel::Fp4Mma,
                            "no native FP4 conversion on this architecture".into(),
                        ));
                    }
                }
            }
        }
    }
    for k in [Kernel::Fp4Emulated, Kernel::Bandwidth] {
        if wants(k) {
            build
                .variants
                .push(match compile(nvrtc, k, &plan.portable_target)? {
                    Outcome::Built(v) | Outcome::NotOnTarget(v) | Outcome::Failed(v) => v,
                });
        }
    }
    Ok(build)
}

/// The first `error` line of an NVRTC log (the rest repeats it for every instantiation).
fn first_error(log: &str) -> String {
    log.lines()
        .find(|l| l.contains("error"))
        .unwrap_or(log)
        .trim()
        .to_string()
}

/// A cubin's ELF OS/ABI byte and ABI version. Measured: NVRTC 12.8 writes 0x33 / 7 for sm_80–sm_90 and
/// 0x41 / 8 for Blackwell; NVRTC 13 writes 0x41 / 8 for every target. So the header does not tell the
/// toolkit apart; `plan` compares NVRTC's major version with the driver's instead.
pub fn cubin_abi(cubin: &[u8]) -> Option<(u8, u8)> {
    (cubin.len() > 8 && cubin.starts_with(b"\x7fELF")).then(|| (cubin[7], cubin[8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_error_line() {
        let log =
            "fp4.cu(12): error: instruction not supported on .target 'sm_90'\n1 error detected";
        assert_eq!(
            first_error(log),
            "fp4.cu(12): error: instruction not supported on .target 'sm_90'"
        );
    }

    #[test]
    fn kernel_names_round_trip_through_json() {
        for k in Kernel::ALL {
            let json = serde_json::to_string(&k).expect("json");
            assert_eq!(json, format!("\"{}\"", k.name()));
            assert_eq!(serde_json::from_str::<Kernel>(&json).expect("back"), k);
        }
    }

    #[test]
    fn cubin_abi_reads_the_elf_header() {
        let mut header = b"\x7fELF\x02\x01\x01\x41\x08".to_vec();
        header.extend([0; 8]);
        assert_eq!(cubin_abi(&header), Some((0x41, 8)));
        assert_eq!(cubin_abi(b".version 8.7"), None);
    }
}
