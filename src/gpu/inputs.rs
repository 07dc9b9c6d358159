//! Test inputs for the GPU checks: a small deterministic generator (fresh seed each run), random FP4
//! problems, conversion inputs that cover every rounding case, and the error measure.

use crate::fp4;

/// Largest accepted error of a GPU FP4 product, relative to the largest expected magnitude. Products of
/// e2m1 values and power-of-two scales are exact in f32; only the order of the f32 sums differs, which for
/// k = 512 moves a result by at most ~512 · 2⁻²⁴ of the sum of magnitudes. A wrong fragment layout or
/// scale errs by O(1), far above this.
pub const GEMM_TOLERANCE: f64 = 1e-3;

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
}
