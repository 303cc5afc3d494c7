//! An archive read from a file, as `bathy IMAGE.tar` reads it: uncompressed layers by their
//! headers through one shared window with the why-capture's reads, their sha256 left running
//! and checked after the load (`source::later`). The analyses are left out: they allocate
//! enough to bring the sanitizer's quarantine near the CI's 512 MB limit.
#![no_main]
use bathyscaphe::pipeline::{self, Keep, LoadArgs, LoadConfig, Watch};
use bathyscaphe::source::later::DigestsLater;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("bathy-fuzz-{}.tar", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let later = Arc::new(DigestsLater::default());
    let config = LoadConfig::from_args(&LoadArgs {
        no_cache: true,
        ..Default::default()
    })
    .checking_digests_in(later.clone());
    // the result is an image or a one-line error; only a panic, a hang or an OOM is a finding
    let target = path.to_string_lossy();
    let _ = pipeline::load(&target, &config, Keep::Contents, &Watch::default());
    let _ = later.finish();
});
