//! The byte count of the GB that memory figures are counted in (see `facts::Gpu::memory_gb`): a GiB.

/// Bytes in one GB of memory, as facts and estimates count it: 2^30.
pub const BYTES_PER_GB: f64 = 1_073_741_824.0;
