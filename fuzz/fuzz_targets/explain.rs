//! `mlcompat::fuzzing::explain` on whatever libFuzzer makes of the seeds (see `scripts/fuzz`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        mlcompat::fuzzing::explain(text);
    }
});
