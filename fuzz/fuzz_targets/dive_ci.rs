//! A `.dive-ci` file read as `--ci-config FILE` reads it (written to a temporary file, since
//! the reader takes a path), rules validated.
#![no_main]
use bathyscaphe::ci_config::{load, CiArgs};
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let Ok(mut f) = tempfile::NamedTempFile::new() else {
        return;
    };
    if f.write_all(data).is_err() {
        return;
    }
    let args = CiArgs {
        ci: Some(true),
        ci_config: Some(f.path().to_path_buf()),
        ..Default::default()
    };
    let _ = load(&args, std::path::Path::new("/"));
});
