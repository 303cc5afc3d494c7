//! The Dockerfile parser and the stage chain it answers.
#![no_main]
use bathyscaphe::analysis::dockerfile::Dockerfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = Dockerfile::parse(text) {
        let _ = d.chain(None);
        for s in &d.stages {
            let _ = s.label();
            let _ = d.chain(Some(&s.label()));
        }
    }
});
