//! Image references and `scheme://` targets as the command line reads them.
#![no_main]
use bathyscaphe::source::reference::{looks_like_reference, pull_reference, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Target::parse(text, None);
    let _ = Target::parse(text, Some("docker"));
    if looks_like_reference(text) {
        let _ = pull_reference(text);
    }
});
