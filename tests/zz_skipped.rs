//! The end of a `cargo test` run: prints, once, the tests that skipped because what they need
//! is missing here (see `tests/common/require.rs`). cargo runs test binaries in the order of
//! their names, so this one, named to sort last, runs after every other integration test.
//! No test harness: it has nothing to check, only a list to print, and its output is not
//! captured.

#[path = "common/require.rs"]
mod require;

fn main() {
    let file = require::skipped_file();
    let Ok(text) = std::fs::read_to_string(&file) else {
        return;
    };
    match require::summary(&text, &require::run_header(), &file) {
        Some(s) => print!("{s}"),
        // an older run's list: this run skipped nothing
        None => {
            let _ = std::fs::remove_file(&file);
        }
    }
}
