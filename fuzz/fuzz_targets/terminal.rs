//! `mlcompat::fuzzing::terminal`: no unsafe character passes the terminal escaping, however the bytes
//! are split.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mlcompat::fuzzing::terminal(data);
});
