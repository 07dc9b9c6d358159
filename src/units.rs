//! The byte count of the GB that memory figures are counted in (see `facts::Gpu::memory_gb`): a GiB.

/// Bytes in one GB of memory, as facts and estimates count it: 2^30.
pub const BYTES_PER_GB: f64 = 1_073_741_824.0;

/// A figure with the digits that matter: 1,979 → "1979", 62.5 → "62.5", 0.2 → "0.20".
pub fn significant(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}
