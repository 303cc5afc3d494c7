//! `--rules` YAML: parsed, laid over the built-in rules, and every glob turned into a regex.
#![no_main]
use bathyscaphe::analysis::leftovers::{glob_to_regex, RuleSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(user) = RuleSet::parse(text, "fuzz.yaml") else {
        return;
    };
    let all = RuleSet::builtin().with_overrides(user);
    for r in &all.rules {
        for g in r.paths.iter().chain(&r.exclude) {
            let _ = regex::Regex::new(&glob_to_regex(g));
        }
    }
});
