//! Test inputs for the GPU checks: a small deterministic generator (fresh seed each run), random FP4
//! problems, conversion inputs that cover every rounding case, and the error measure.

use crate::fp4;

/// The relative part of the tolerance of a GPU FP4 product (see [`GemmProblem::check`]): the rounding of
/// the result to f32, on the GPU and once in the reference (2⁻²⁴ each), with room to spare.
const GEMM_RTOL: f64 = 1.0 / (1u64 << 22) as f64;
/// The absolute part, per term of an output's sum and per f32 addition: one ulp (2⁻²³ relative) of a
/// partial sum, whether the adder rounds or truncates.
const GEMM_ATOL_PER_ADDITION: f64 = 1.0 / (1u64 << 23) as f64;

/// xorshift64*: small, fast, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// Seeded from the clock, so every run tests new inputs.
    pub fn fresh() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng::new(nanos ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A GPU product checked against the reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GemmCheck {
    /// Outputs beyond their tolerance (see [`GemmProblem::check`]); 0 is correct.
    pub wrong: usize,
    /// The largest |got − want| relative to the largest |want|: how close the product came, for the
    /// report; not what decides it.
    pub max_rel_error: f64,
}

/// An MXFP4 product: packed codes for A (m×k) and B (n×k), ue8m0 scales per 32 K-elements.
pub struct GemmProblem {
    pub a: Vec<u8>,
    pub b: Vec<u8>,
    pub sa: Vec<u8>,
    pub sb: Vec<u8>,
    pub m: usize,
    pub n: usize,
    pub k: usize,
}

impl GemmProblem {
    /// The CPU reference product (`fp4::reference_mxf4_gemm`).
    pub fn expected(&self) -> Vec<f32> {
        fp4::reference_mxf4_gemm(&self.a, &self.b, &self.sa, &self.sb, self.m, self.n, self.k)
    }

    /// For each output, the sum of the magnitudes of its terms, Σ|a·b·scales|: the same product with
    /// every sign bit cleared (bit 3 of each nibble).
    fn magnitudes(&self) -> Vec<f32> {
        let unsigned = |codes: &[u8]| codes.iter().map(|c| c & 0x77).collect::<Vec<u8>>();
        fp4::reference_mxf4_gemm(
            &unsigned(&self.a),
            &unsigned(&self.b),
            &self.sa,
            &self.sb,
            self.m,
            self.n,
            self.k,
        )
    }

    /// Checks a GPU product output by output: each must satisfy |got − want| ≤ rtol·|want| + atol, where
    /// atol = k·2⁻²³·Σ|terms| of that output.
    ///
    /// Why these bounds: each term is a product of two e2m1 values (at most two significant bits each) and
    /// two power-of-two scales, exact in f32 (and in FP16 where a kernel decodes to it), so the GPU sums
    /// the reference's terms; only the summation differs, f32 in an order the hardware picks against f64
    /// rounded once. Each of the k − 1 f32 additions errs by less than one ulp of its result, 2⁻²³ of
    /// it whether the adder rounds or truncates, and no partial sum exceeds Σ|terms|: whatever the order,
    /// the GPU's sum is within k·2⁻²³·Σ|terms| of the exact one (Higham, "Accuracy and Stability of
    /// Numerical Algorithms", §4.2). That is atol, and it is per output because it depends on the output's
    /// own terms (one near zero by cancellation may err by more than its size; one of small terms may
    /// not). rtol covers the final rounding to f32 on both sides. A wrong fragment layout, scale or decode
    /// moves an output by whole terms, far beyond both; a check relative to the largest output (as this
    /// was) let any error in the small outputs through.
    pub fn check(&self, got: &[f32]) -> GemmCheck {
        let want = self.expected();
        let magnitudes = self.magnitudes();
        if got.len() != want.len() {
            return GemmCheck {
                wrong: want.len(),
                max_rel_error: f64::INFINITY,
            };
        }
        let atol_per_magnitude = self.k as f64 * GEMM_ATOL_PER_ADDITION;
        let wrong = got
            .iter()
            .zip(&want)
            .zip(&magnitudes)
            .filter(|((g, w), m)| {
                let (g, w, m) = (f64::from(**g), f64::from(**w), f64::from(**m));
                let within = (g - w).abs() <= GEMM_RTOL * w.abs() + atol_per_magnitude * m;
                // A NaN is never within.
                !within
            })
            .count();
        GemmCheck {
            wrong,
            max_rel_error: max_rel_error(got, &want),
        }
    }

    /// Random non-zero-heavy codes and scales around 2^0 (2^-7 … 2^7), so nothing overflows.
    pub fn random(rng: &mut Rng, m: usize, n: usize, k: usize) -> GemmProblem {
        let mut codes = |rows: usize| -> Vec<u8> {
            let c: Vec<u8> = (0..rows * k).map(|_| rng.below(16) as u8).collect();
            fp4::pack(&c)
        };
        let a = codes(m);
        let b = codes(n);
        let mut scales = |rows: usize| -> Vec<u8> {
            (0..rows * k / 32)
                .map(|_| 120 + rng.below(15) as u8)
                .collect()
        };
        let sa = scales(m);
        let sb = scales(n);
        GemmProblem {
            a,
            b,
            sa,
            sb,
            m,
            n,
            k,
        }
    }
}

/// `n` conversion inputs: every rounding tie and saturation case, then random values over ±8.
pub fn conversion_inputs(rng: &mut Rng, n: usize) -> Vec<f32> {
    let special = [
        0.25,
        0.75,
        1.25,
        1.75,
        2.5,
        3.5,
        5.0,
        -0.25,
        -0.75,
        -1.25,
        -1.75,
        -2.5,
        -3.5,
        -5.0,
        6.0,
        -6.0,
        6.5,
        -6.5,
        100.0,
        -100.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.5,
        1.0,
        1.5,
        2.0,
        3.0,
        4.0,
        -0.5,
        1e-8,
        -1e-8,
        5.999,
    ];
    let mut v: Vec<f32> = special.to_vec();
    while v.len() < n {
        v.push(rng.uniform(-8.0, 8.0));
    }
    v.truncate(n & !1);
    v
}

/// The largest |got − want|, relative to the largest |want|; a NaN anywhere is an infinite error.
pub fn max_rel_error(got: &[f32], want: &[f32]) -> f64 {
    if got.len() != want.len() || got.iter().any(|g| g.is_nan()) {
        return f64::INFINITY;
    }
    let scale = want
        .iter()
        .map(|w| f64::from(w.abs()))
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    got.iter()
        .zip(want)
        .map(|(g, w)| (f64::from(*g) - f64::from(*w)).abs())
        .fold(0.0, f64::max)
        / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_and_errors() {
        let mut rng = Rng::new(7);
        let p = GemmProblem::random(&mut rng, 16, 8, 64);
        assert_eq!(
            (p.a.len(), p.b.len(), p.sa.len(), p.sb.len()),
            (16 * 32, 8 * 32, 32, 16)
        );
        let v = conversion_inputs(&mut rng, 101);
        assert_eq!(v.len(), 100);
        assert!(v.iter().all(|x| !x.is_nan()));
        assert_eq!(max_rel_error(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert!(max_rel_error(&[f32::NAN], &[1.0]).is_infinite());
        assert!((max_rel_error(&[1.0, 4.0], &[1.0, 2.0]) - 1.0).abs() < 1e-12);
    }

    /// Two outputs, one 4096 times smaller than the other (its row's scale is 2⁻¹²): the small one 50%
    /// off while the large one is right is wrong. Relative to the largest output the error is 1.2e-4,
    /// which the old check (1e-3 of the largest) let through.
    #[test]
    fn a_small_output_wrong_by_half_is_caught_when_the_largest_is_right() {
        let p = GemmProblem {
            a: fp4::pack(&[0x2; 2 * 32]),
            b: fp4::pack(&[0x2; 32]),
            sa: vec![127, 127 - 12],
            sb: vec![127],
            m: 2,
            n: 1,
            k: 32,
        };
        let want = p.expected();
        assert_eq!(want, [32.0, 32.0 / 4096.0]);
        assert_eq!(p.check(&want).wrong, 0);
        let got = [want[0], want[1] * 1.5];
        let check = p.check(&got);
        assert!(check.max_rel_error < 1e-3, "{check:?}");
        assert_eq!(check.wrong, 1, "{check:?}");
        assert_eq!(p.check(&[want[0], f32::NAN]).wrong, 1);
        assert_eq!(p.check(&want[..1]).wrong, 2);
    }

    /// What a GPU may return: the exact terms summed in f32, in orders other than the reference's (here
    /// forwards and backwards), with the cancellation random signs give. None of it is wrong.
    #[test]
    fn f32_sums_in_any_order_pass() {
        let mut rng = Rng::new(42);
        let p = GemmProblem::random(&mut rng, 64, 64, 512);
        let (a, b) = (fp4::unpack(&p.a, p.m * p.k), fp4::unpack(&p.b, p.n * p.k));
        let terms = |i: usize, j: usize| -> Vec<f32> {
            (0..p.k)
                .map(|kk| {
                    let s = fp4::ue8m0_scale(p.sa[i * p.k / 32 + kk / 32])
                        * fp4::ue8m0_scale(p.sb[j * p.k / 32 + kk / 32]);
                    fp4::decode_e2m1(a[i * p.k + kk]) * fp4::decode_e2m1(b[j * p.k + kk]) * s
                })
                .collect()
        };
        let (mut forwards, mut backwards) = (Vec::new(), Vec::new());
        for i in 0..p.m {
            for j in 0..p.n {
                let t = terms(i, j);
                forwards.push(t.iter().fold(0f32, |acc, x| acc + x));
                backwards.push(t.iter().rev().fold(0f32, |acc, x| acc + x));
            }
        }
        assert_eq!(p.check(&forwards).wrong, 0);
        assert_eq!(p.check(&backwards).wrong, 0);
        assert_ne!(forwards, p.expected(), "the orders should differ somewhere");
    }
}
