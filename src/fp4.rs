//! FP4 (OCP MX `E2M1`) reference arithmetic: the CPU side of the FP4 probe kernels in `probes/fp4.cu`.
//!
//! Pure Rust, no dependencies. Everything here is the ground truth that GPU results are checked
//! against:
//!
//! * **Codes.** An `E2M1` value is a 4-bit code: bit 3 sign, bits 2–1 exponent (bias 1), bit 0
//!   mantissa. The eight magnitudes are 0, 0.5, 1, 1.5, 2, 3, 4, 6 ([`E2M1_VALUES`]); there is no
//!   infinity and no NaN.
//! * **Encoding** ([`encode_e2m1`]) matches PTX `cvt.rn.satfinite.e2m1x2.f32`: round to nearest, ties
//!   to the even mantissa bit; finite values beyond ±6 and ±∞ saturate to ±6; NaN becomes +6 (code
//!   `0x7`); the sign of a zero result is kept (−0.0 and tiny negatives give code `0x8`).
//! * **Packing** ([`pack`], [`unpack`]): byte `i` holds element `2i` in its **low** nibble (bits 3–0)
//!   and element `2i+1` in its **high** nibble (bits 7–4). Read as a little-endian `u32`, nibble `j`
//!   is element `j`, the order the m16n8k64 MMA fragments use. (PTX `cvt…e2m1x2.f32 d, a, b` puts
//!   `a` in the high nibble, so the kernel passes element `2i+1` as `a`.)
//! * **Scales** ([`ue8m0_scale`]): one `UE8M0` byte `e` per 32 elements along K means `2^(e−127)`;
//!   `e = 255` is NaN (OCP MX v1.0, §5.4.1 "E8M0").
//! * **GEMM** ([`reference_mxf4_gemm`]): `A` is `m×k` row-major, `B` is given transposed as `n×k`
//!   row-major (the MMA's "col" operand), `sa` is `m×(k/32)`, `sb` is `n×(k/32)`, and
//!   `d[i·n+j] = Σ_kk dec(a[i][kk])·2^(sa[i][kk/32]−127) · dec(b[j][kk])·2^(sb[j][kk/32]−127)`,
//!   accumulated in `f64` and rounded once to `f32`. GPU results (f32 accumulation in the hardware's
//!   order) are compared output by output within what that summation can move each one
//!   (`gpu::inputs::GemmProblem::check`), not bit for bit.
//! * **Quantizing** ([`quantize_block_mxf4`]) picks the shared scale per OCP MX v1.0 §6.3, for
//!   generating realistic test inputs.

/// Value of each 4-bit `E2M1` code (index = code).
pub const E2M1_VALUES: [f32; 16] = [
    0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0,
];

/// Largest finite `E2M1` magnitude (MAX_NORM).
pub const E2M1_MAX: f32 = 6.0;

/// Number of elements that share one `UE8M0` scale in MXFP4 (OCP MX block size).
pub const MX_BLOCK: usize = 32;

/// Code of +6.0, the result of a NaN input under `.satfinite`.
const CODE_POS_MAX: u8 = 0x7;
const SIGN: u8 = 0x8;

/// Decodes a 4-bit `E2M1` code (only the low 4 bits of `code` are used).
pub fn decode_e2m1(code: u8) -> f32 {
    E2M1_VALUES[(code & 0xF) as usize]
}

/// Encodes an `f32` as an `E2M1` code exactly like PTX `cvt.rn.satfinite.e2m1x2.f32` does for each
/// of its two inputs.
///
/// * Round to nearest, ties to even (the code with mantissa bit 0): 0.25 → 0, 0.75 → 1.0,
///   1.25 → 1.0, 1.75 → 2.0, 2.5 → 2.0, 3.5 → 4.0, 5.0 → 4.0.
/// * `.satfinite`: magnitudes beyond 6 (including ±∞) give ±6.
/// * NaN gives **+6** (code `0x7`). PTX ISA, "Data Movement and Conversion Instructions: cvt",
///   `.satfinite` modifier: for destination formats without a NaN encoding (`.e2m1x2`, `.e2m3x2`,
///   `.e3m2x2`) "NaN results are converted to positive MAX_NORM".
/// * The sign is kept when the result is zero: −0.0 and negatives of magnitude ≤ 0.25 give code
///   `0x8` (IEEE-style conversion; the hardware result was not observed here, see
///   `probes/fp4.cu` `fp4_roundtrip`, which checks it on a GPU).
pub fn encode_e2m1(x: f32) -> u8 {
    if x.is_nan() {
        return CODE_POS_MAX;
    }
    let sign = if x.is_sign_negative() { SIGN } else { 0 };
    let a = x.abs();
    // Decision points are the midpoints between neighbouring magnitudes; a midpoint itself goes to
    // the even code (the inclusive bounds below). All comparisons are exact in f32.
    let mag = if a <= 0.25 {
        0 // 0.0 (tie 0.25 -> 0, even)
    } else if a < 0.75 {
        1 // 0.5
    } else if a <= 1.25 {
        2 // 1.0 (ties 0.75 and 1.25 -> 1.0, even)
    } else if a < 1.75 {
        3 // 1.5
    } else if a <= 2.5 {
        4 // 2.0 (ties 1.75 and 2.5 -> 2.0)
    } else if a < 3.5 {
        5 // 3.0
    } else if a <= 5.0 {
        6 // 4.0 (ties 3.5 and 5.0 -> 4.0)
    } else {
        7 // 6.0, and saturation of everything larger, +inf included
    };
    sign | mag
}

/// Packs 4-bit codes two per byte: element `2i` in the low nibble of byte `i`, element `2i+1` in the
/// high nibble. An odd count leaves the last high nibble 0. Only the low 4 bits of each code are
/// used.
pub fn pack(codes: &[u8]) -> Vec<u8> {
    codes
        .chunks(2)
        .map(|pair| {
            let lo = pair[0] & 0xF;
            let hi = pair.get(1).map_or(0, |c| c & 0xF);
            lo | (hi << 4)
        })
        .collect()
}

/// Unpacks the first `n` 4-bit codes from `packed` (inverse of [`pack`]).
///
/// # Panics
/// If `packed` holds fewer than `n` codes (`packed.len() * 2 < n`).
pub fn unpack(packed: &[u8], n: usize) -> Vec<u8> {
    assert!(
        packed.len() * 2 >= n,
        "unpack: {} bytes hold {} codes, {n} asked",
        packed.len(),
        packed.len() * 2
    );
    (0..n)
        .map(|j| {
            let byte = packed[j / 2];
            if j % 2 == 0 {
                byte & 0xF
            } else {
                byte >> 4
            }
        })
        .collect()
}

/// Value of a `UE8M0` scale byte: `2^(e−127)` (exact in `f32`: `e = 0` is the subnormal 2^−127,
/// `e = 254` is 2^127). `e = 255` is NaN (OCP MX v1.0, §5.4.1: E8M0 has no zero, no infinity, and
/// encodes NaN as `0xFF`).
pub fn ue8m0_scale(e: u8) -> f32 {
    match e {
        255 => f32::NAN,
        0 => f32::from_bits(0x0040_0000),
        _ => f32::from_bits((e as u32) << 23),
    }
}

/// Reference block-scaled FP4 GEMM, the result definition of the `fp4_mma_mxf4` and
/// `fp4_emulated_gemm` kernels.
///
/// `a`: `m×k` codes packed row-major (`k/2` bytes a row); `b`: `n×k` codes packed row-major (B
/// transposed); `sa`: `m×(k/32)` and `sb`: `n×(k/32)` `UE8M0` bytes. Returns `m×n` row-major:
/// `d[i·n+j] = Σ_kk dec(a[i][kk])·2^(sa[i][kk/32]−127) · dec(b[j][kk])·2^(sb[j][kk/32]−127)`,
/// accumulated in `f64` (exact for realistic scales) and rounded once to `f32`.
///
/// # Panics
/// If `k` is not a multiple of 32 or a slice is shorter than its shape needs.
pub fn reference_mxf4_gemm(
    a: &[u8],
    b: &[u8],
    sa: &[u8],
    sb: &[u8],
    m: usize,
    n: usize,
    k: usize,
) -> Vec<f32> {
    assert!(
        k % MX_BLOCK == 0,
        "reference_mxf4_gemm: k = {k} is not a multiple of {MX_BLOCK}"
    );
    let row_bytes = k / 2;
    let kb = k / MX_BLOCK;
    assert!(a.len() >= m * row_bytes, "reference_mxf4_gemm: a too short");
    assert!(b.len() >= n * row_bytes, "reference_mxf4_gemm: b too short");
    assert!(sa.len() >= m * kb, "reference_mxf4_gemm: sa too short");
    assert!(sb.len() >= n * kb, "reference_mxf4_gemm: sb too short");
    let a_dec: Vec<f64> = (0..m)
        .flat_map(|i| {
            unpack(&a[i * row_bytes..(i + 1) * row_bytes], k)
                .into_iter()
                .enumerate()
                .map(move |(kk, c)| {
                    decode_e2m1(c) as f64 * ue8m0_scale(sa[i * kb + kk / MX_BLOCK]) as f64
                })
        })
        .collect();
    let b_dec: Vec<f64> = (0..n)
        .flat_map(|j| {
            unpack(&b[j * row_bytes..(j + 1) * row_bytes], k)
                .into_iter()
                .enumerate()
                .map(move |(kk, c)| {
                    decode_e2m1(c) as f64 * ue8m0_scale(sb[j * kb + kk / MX_BLOCK]) as f64
                })
        })
        .collect();
    let mut d = Vec::with_capacity(m * n);
    for i in 0..m {
        let ar = &a_dec[i * k..(i + 1) * k];
        for j in 0..n {
            let br = &b_dec[j * k..(j + 1) * k];
            let sum: f64 = ar.iter().zip(br).map(|(x, y)| x * y).sum();
            d.push(sum as f32);
        }
    }
    d
}

/// Quantizes one block (normally [`MX_BLOCK`] = 32 values) to MXFP4: returns the `UE8M0` shared
/// scale byte and one `E2M1` code per value.
///
/// OCP MX v1.0 §6.3: shared exponent = ⌊log2(amax)⌋ − emax_elem, with emax_elem = 2 for `E2M1`
/// (its largest value is 1.5·2²), clamped to the `E8M0` range [−127, 127]; each value is divided
/// by 2^shared_exponent and encoded with [`encode_e2m1`] (round to nearest even, saturating at ±6,
/// so values up to 8·2^shared_exp clip to 6·2^shared_exp, as the spec's method does).
/// An all-zero (or empty) block gets the smallest scale, byte 0 (⌊log2 0⌋ = −∞ clamps to −127).
/// A block containing NaN or ±∞ gets the NaN scale byte 255 (the codes are still each value's
/// [`encode_e2m1`], which is meaningless under a NaN scale).
pub fn quantize_block_mxf4(values: &[f32]) -> (u8, Vec<u8>) {
    if values.iter().any(|v| !v.is_finite()) {
        return (255, values.iter().map(|&v| encode_e2m1(v)).collect());
    }
    let amax = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let shared_exp: i32 = if amax == 0.0 {
        -127
    } else {
        // Exact floor(log2(amax)) from the f64 exponent field (f32 subnormals are normal in f64).
        let bits = (amax as f64).to_bits();
        let e = ((bits >> 52) & 0x7ff) as i32 - 1023;
        (e - 2).clamp(-127, 127)
    };
    let scale = 2f64.powi(shared_exp);
    let codes = values
        .iter()
        .map(|&v| encode_e2m1((v as f64 / scale) as f32))
        .collect();
    ((shared_exp + 127) as u8, codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent encoder for the brute-force checks: the nearest of the 16 values, ties to the
    /// even mantissa bit, saturating at ±6, NaN -> +6, sign kept on zero.
    fn nearest_even(x: f32) -> u8 {
        if x.is_nan() {
            return 0x7;
        }
        let sign = if x.is_sign_negative() { 0x8 } else { 0 };
        let a = (x as f64).abs();
        if a > 6.0 {
            return sign | 0x7;
        }
        let mut best = 0u8;
        let mut best_dist = f64::INFINITY;
        for code in 0u8..8 {
            let dist = (a - E2M1_VALUES[code as usize] as f64).abs();
            if dist < best_dist || (dist == best_dist && code & 1 == 0) {
                best = code;
                best_dist = dist;
            }
        }
        sign | best
    }

    /// xorshift64* — deterministic, dependency-free.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    #[test]
    fn values_table_matches_bit_layout() {
        for code in 0u8..16 {
            let s = if code & 8 != 0 { -1.0 } else { 1.0 };
            let e = ((code >> 1) & 3) as i32;
            let m = (code & 1) as f32;
            let mag = if e == 0 {
                0.5 * m
            } else {
                (1.0 + 0.5 * m) * 2f32.powi(e - 1)
            };
            assert_eq!(
                decode_e2m1(code).to_bits(),
                (s * mag).to_bits(),
                "code {code:#x}"
            );
        }
        assert_eq!(decode_e2m1(0x7), 6.0);
        assert_eq!(decode_e2m1(0xF), -6.0);
        assert_eq!(decode_e2m1(0x17), 6.0, "high bits ignored");
    }

    #[test]
    fn all_codes_round_trip() {
        for code in 0u8..16 {
            assert_eq!(encode_e2m1(decode_e2m1(code)), code, "code {code:#x}");
        }
    }

    #[test]
    fn every_tie_goes_to_even() {
        let ties = [
            (0.25, 0.0),
            (0.75, 1.0),
            (1.25, 1.0),
            (1.75, 2.0),
            (2.5, 2.0),
            (3.5, 4.0),
            (5.0, 4.0),
        ];
        for (x, want) in ties {
            assert_eq!(decode_e2m1(encode_e2m1(x)), want, "{x}");
            assert_eq!(decode_e2m1(encode_e2m1(-x)), -want, "-{x}");
            assert_eq!(encode_e2m1(x) & 1, 0, "tie {x} must land on an even code");
        }
        // Just off each tie rounds to the nearer value.
        for (x, _) in ties {
            let up = f32::from_bits(x.to_bits() + 1);
            let down = f32::from_bits(x.to_bits() - 1);
            assert_eq!(encode_e2m1(up), nearest_even(up), "{up}");
            assert_eq!(encode_e2m1(down), nearest_even(down), "{down}");
            assert_ne!(
                encode_e2m1(up),
                encode_e2m1(down),
                "{x} separates two codes"
            );
        }
    }

    #[test]
    fn saturates_beyond_six_and_infinity() {
        for x in [6.0f32, 6.5, 7.0, 8.0, 1e6, f32::MAX, f32::INFINITY] {
            assert_eq!(encode_e2m1(x), 0x7, "{x}");
            assert_eq!(encode_e2m1(-x), 0xF, "-{x}");
        }
        assert_eq!(encode_e2m1(5.0001), 0x7);
        assert_eq!(encode_e2m1(4.9999), 0x6);
    }

    #[test]
    fn nan_is_positive_max() {
        assert_eq!(encode_e2m1(f32::NAN), 0x7);
        assert_eq!(encode_e2m1(-f32::NAN), 0x7);
        assert_eq!(
            encode_e2m1(f32::from_bits(0x7f80_0001)),
            0x7,
            "signalling NaN"
        );
        assert_eq!(
            encode_e2m1(f32::from_bits(0xffc0_0000)),
            0x7,
            "negative quiet NaN"
        );
    }

    #[test]
    fn zero_keeps_its_sign() {
        assert_eq!(encode_e2m1(0.0), 0x0);
        assert_eq!(encode_e2m1(-0.0), 0x8);
        assert_eq!(encode_e2m1(-0.1), 0x8);
        assert_eq!(encode_e2m1(-0.25), 0x8);
        assert_eq!(encode_e2m1(-f32::from_bits(1)), 0x8, "negative subnormal");
        assert_eq!(encode_e2m1(f32::from_bits(1)), 0x0);
        assert!(decode_e2m1(0x8).is_sign_negative() && decode_e2m1(0x8) == 0.0);
    }

    #[test]
    fn brute_force_sweep_minus8_to_8() {
        let mut i = -8 * 1024;
        while i <= 8 * 1024 {
            let x = i as f32 / 1024.0;
            assert_eq!(encode_e2m1(x), nearest_even(x), "{x}");
            i += 1;
        }
    }

    #[test]
    fn brute_force_random() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..1_000_000 {
            let r = rng.next();
            // Half arbitrary bit patterns (NaN, inf, subnormals, huge), half uniform in [-8, 8).
            let x = if r & 1 == 0 {
                f32::from_bits((r >> 32) as u32)
            } else {
                ((r >> 11) as f64 / (1u64 << 53) as f64 * 16.0 - 8.0) as f32
            };
            assert_eq!(
                encode_e2m1(x),
                nearest_even(x),
                "{x:e} ({:#010x})",
                x.to_bits()
            );
        }
    }

    #[test]
    fn pack_low_nibble_first() {
        assert_eq!(pack(&[0x1, 0x2]), vec![0x21]);
        assert_eq!(pack(&[0x7, 0xF, 0x8]), vec![0xF7, 0x08]);
        assert_eq!(pack(&[]), Vec::<u8>::new());
        assert_eq!(
            pack(&[0x31, 0x42]),
            vec![0x21],
            "only the low nibble of a code is used"
        );
        assert_eq!(unpack(&[0x21], 2), vec![0x1, 0x2]);
        assert_eq!(unpack(&[0xF7, 0x08], 3), vec![0x7, 0xF, 0x8]);
        assert_eq!(unpack(&[0xF7, 0x08], 0), Vec::<u8>::new());
        // As a little-endian u32, nibble j is element j.
        let codes: Vec<u8> = (0u8..8).collect();
        let word = u32::from_le_bytes(pack(&codes).try_into().unwrap());
        for j in 0..8 {
            assert_eq!((word >> (4 * j)) & 0xF, j as u32);
        }
    }

    #[test]
    fn pack_unpack_round_trip() {
        let mut rng = Rng(42);
        for n in 0usize..70 {
            let codes: Vec<u8> = (0..n).map(|_| (rng.next() & 0xF) as u8).collect();
            let packed = pack(&codes);
            assert_eq!(packed.len(), n.div_ceil(2));
            assert_eq!(unpack(&packed, n), codes);
        }
    }

    #[test]
    #[should_panic(expected = "unpack")]
    fn unpack_too_short_panics() {
        unpack(&[0x11], 3);
    }

    #[test]
    fn ue8m0_values() {
        assert_eq!(ue8m0_scale(127), 1.0);
        assert_eq!(ue8m0_scale(128), 2.0);
        assert_eq!(ue8m0_scale(126), 0.5);
        assert_eq!(ue8m0_scale(254), 2f32.powi(127));
        assert_eq!(ue8m0_scale(1), 2f32.powi(-126));
        assert_eq!(ue8m0_scale(0) as f64, 2f64.powi(-127));
        assert!(ue8m0_scale(255).is_nan());
        for e in 0u8..255 {
            assert_eq!(ue8m0_scale(e) as f64, 2f64.powi(e as i32 - 127), "e = {e}");
        }
    }

    #[test]
    fn gemm_hand_computed() {
        // m = 2, n = 2, k = 64 (two scale blocks a row).
        // A row 0: all 1.0 (code 2); row 1: first block 0.5 (code 1), second block -6 (code 0xF).
        // B row 0 (column 0 of B): all 2.0 (code 4); row 1: 1.5 (code 3) at even K, 0 at odd K.
        let k = 64;
        let mut a_codes = vec![0x2u8; k];
        a_codes.extend((0..k).map(|kk| if kk < 32 { 0x1 } else { 0xF }));
        let mut b_codes = vec![0x4u8; k];
        b_codes.extend((0..k).map(|kk| if kk % 2 == 0 { 0x3 } else { 0x0 }));
        let a = pack(&a_codes);
        let b = pack(&b_codes);
        // Scales: sa row 0 = [2^0, 2^1], row 1 = [2^-1, 2^0]; sb row 0 = [2^0, 2^0], row 1 = [2^2, 2^-2].
        let sa = [127u8, 128, 126, 127];
        let sb = [127u8, 127, 129, 125];
        let d = reference_mxf4_gemm(&a, &b, &sa, &sb, 2, 2, k);
        // d00 = 32*(1*2) + 32*(1*2*2)           = 64 + 128   = 192
        // d01 = 16*(1*1.5*4) + 16*(1*2*1.5*0.25) = 96 + 12   = 108
        // d10 = 32*(0.5*0.5*2) + 32*(-6*2)       = 16 - 384  = -368
        // d11 = 16*(0.25*1.5*4) + 16*(-6*1.5*0.25) = 24 - 36 = -12
        assert_eq!(d, vec![192.0, 108.0, -368.0, -12.0]);
    }

    #[test]
    fn gemm_matches_naive_f64_on_random_input() {
        let (m, n, k) = (16, 8, 128);
        let mut rng = Rng(7);
        let a_codes: Vec<u8> = (0..m * k).map(|_| (rng.next() & 0xF) as u8).collect();
        let b_codes: Vec<u8> = (0..n * k).map(|_| (rng.next() & 0xF) as u8).collect();
        let sa: Vec<u8> = (0..m * k / 32)
            .map(|_| 120 + (rng.next() % 15) as u8)
            .collect();
        let sb: Vec<u8> = (0..n * k / 32)
            .map(|_| 120 + (rng.next() % 15) as u8)
            .collect();
        let d = reference_mxf4_gemm(&pack(&a_codes), &pack(&b_codes), &sa, &sb, m, n, k);
        for i in 0..m {
            for j in 0..n {
                let mut want = 0f64;
                for kk in 0..k {
                    want += decode_e2m1(a_codes[i * k + kk]) as f64
                        * 2f64.powi(sa[i * (k / 32) + kk / 32] as i32 - 127)
                        * decode_e2m1(b_codes[j * k + kk]) as f64
                        * 2f64.powi(sb[j * (k / 32) + kk / 32] as i32 - 127);
                }
                assert_eq!(d[i * n + j], want as f32, "({i}, {j})");
            }
        }
    }

    #[test]
    fn gemm_nan_scale_propagates() {
        let a = pack(&[0x2; 32]);
        let d = reference_mxf4_gemm(&a, &a, &[255], &[127], 1, 1, 32);
        assert!(d[0].is_nan());
    }

    #[test]
    #[should_panic(expected = "multiple of 32")]
    fn gemm_rejects_ragged_k() {
        reference_mxf4_gemm(&[0; 8], &[0; 8], &[127], &[127], 1, 1, 16);
    }

    #[test]
    fn quantize_picks_ocp_scale() {
        // amax = 6 -> floor(log2 6) = 2 -> shared exp 0 -> byte 127, values encode as themselves.
        let vals: Vec<f32> = (0..32).map(|i| E2M1_VALUES[i % 16]).collect();
        let (e, codes) = quantize_block_mxf4(&vals);
        assert_eq!(e, 127);
        for (v, c) in vals.iter().zip(&codes) {
            assert_eq!(decode_e2m1(*c), *v);
        }
        // amax = 100 -> floor(log2 100) = 6 -> shared exp 4 -> scale 16; 100/16 = 6.25 -> 6.
        let (e, codes) = quantize_block_mxf4(&[100.0, -40.0, 8.0, 0.1]);
        assert_eq!(e, 127 + 4);
        let back: Vec<f32> = codes
            .iter()
            .map(|&c| decode_e2m1(c) * ue8m0_scale(e))
            .collect();
        assert_eq!(back, vec![96.0, -32.0, 8.0, 0.0]);
        // amax just under a power of two: 7.99 -> floor(log2) = 2 -> scale 1, clips to 6.
        let (e, codes) = quantize_block_mxf4(&[7.99]);
        assert_eq!((e, codes), (127, vec![0x7]));
    }

    #[test]
    fn quantize_edge_cases() {
        assert_eq!(quantize_block_mxf4(&[0.0; 32]).0, 0);
        assert_eq!(quantize_block_mxf4(&[]).0, 0);
        assert_eq!(quantize_block_mxf4(&[1.0, f32::NAN]).0, 255);
        assert_eq!(quantize_block_mxf4(&[f32::INFINITY]).0, 255);
        // Clamped at the top: amax = f32::MAX -> floor(log2) = 127 -> 125, within range.
        assert_eq!(quantize_block_mxf4(&[f32::MAX]).0, 127 + 125);
        // Clamped at the bottom: the smallest subnormal, floor(log2) = -149 -> -151 -> -127.
        let (e, codes) = quantize_block_mxf4(&[f32::from_bits(1)]);
        assert_eq!(e, 0);
        assert_eq!(codes, vec![0x0]);
        // Smallest amax whose shared exponent is exactly -127 (no clamping): 2^-125.
        let (e, codes) = quantize_block_mxf4(&[2f32.powi(-125)]);
        assert_eq!(e, 0);
        assert_eq!(
            decode_e2m1(codes[0]) as f64 * ue8m0_scale(e) as f64,
            2f64.powi(-125)
        );
    }

    #[test]
    fn quantize_error_is_bounded() {
        let mut rng = Rng(3);
        for _ in 0..2000 {
            let vals: Vec<f32> = (0..32)
                .map(|_| {
                    ((rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32 * 37.0
                })
                .collect();
            let (e, codes) = quantize_block_mxf4(&vals);
            let s = ue8m0_scale(e);
            let amax = vals.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (v, c) in vals.iter().zip(&codes) {
                let q = decode_e2m1(*c) * s;
                // Worst case is clipping of [6, 8) * s to 6 * s; otherwise half a step (<= 1 * s).
                assert!(
                    (q - v).abs() <= (2.0 * s).max(amax * 0.25),
                    "{v} -> {q} (scale {s})"
                );
            }
        }
    }
}
