//! The outer archive read as a stream: member index, manifest/index JSON, planner and every
//! layer, through `load_stream` as `bathy -` reads stdin.
#![no_main]
use bathyscaphe::source::{load_stream, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // the result is an image or a one-line error; only a panic, a hang or an OOM is a finding
    let _ = load_stream(data, "fuzz.tar", &LoadOptions::default());
});
