//! The two modes of `tests/common/require.rs`, seen from outside: this binary runs its own
//! ignored test, which needs a tool that exists nowhere, once without CI (it passes and the
//! skip is listed) and once with CI=true (it fails, naming the tool).

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use common::require::{self, Tool};
use std::process::{Command, Output};

const NOWHERE: Tool = Tool {
    name: "bathy-test-no-such-tool",
    version_arg: "--version",
    install: "nothing installs it",
};

#[test]
#[ignore = "run by the tests below, in a child process"]
fn needs_a_tool_that_is_nowhere() {
    if !require::require_tool(&NOWHERE) {
        return;
    }
    panic!("found {}", NOWHERE.name);
}

/// This binary again, running only the ignored test above, its skips listed in `list`.
fn run_needing_nowhere(ci: Option<&str>, list: &std::path::Path) -> Output {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--ignored", "--exact", "needs_a_tool_that_is_nowhere"])
        .env("BATHY_SKIPPED_FILE", list)
        .env_remove("CI");
    if let Some(v) = ci {
        c.env("CI", v);
    }
    c.output().unwrap()
}

#[test]
fn outside_ci_a_missing_tool_is_a_listed_skip() {
    let t = common::tmp();
    let list = t.path().join("skipped.txt");
    let o = run_needing_nowhere(None, &list);
    assert!(o.status.success(), "{}", common::stdout(&o));
    let text = std::fs::read_to_string(&list).unwrap();
    let mut lines = text.lines();
    // the run is the child's parent: this process
    assert_eq!(
        lines.next(),
        Some(format!("# skipped in the cargo test run {}", std::process::id()).as_str())
    );
    assert_eq!(
        lines.collect::<Vec<_>>(),
        [
            "require::needs_a_tool_that_is_nowhere: needs `bathy-test-no-such-tool` on PATH \
          (nothing installs it)"
        ]
    );
    // a second skip in the same run is added to the list, not written over it
    let o = run_needing_nowhere(Some("false"), &list);
    assert!(o.status.success(), "{}", common::stdout(&o));
    let text = std::fs::read_to_string(&list).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
}

#[test]
fn under_ci_a_missing_tool_fails_the_test_naming_it() {
    let t = common::tmp();
    let list = t.path().join("skipped.txt");
    for ci in ["true", "1"] {
        let o = run_needing_nowhere(Some(ci), &list);
        assert_eq!(o.status.code(), Some(101), "CI={ci}");
        let out = common::stdout(&o) + &common::stderr(&o);
        assert!(
            out.contains(
                "require::needs_a_tool_that_is_nowhere cannot run: it needs \
                 `bathy-test-no-such-tool` on PATH (nothing installs it)"
            ),
            "{out}"
        );
        assert!(out.contains("test result: FAILED"), "{out}");
    }
    assert!(!list.exists(), "a failed test is not a skip");
}

#[test]
fn the_summary_lists_this_runs_skips_only() {
    let file = std::path::Path::new("target/skipped-tests.txt");
    let text =
        "# skipped in the cargo test run 7\na::x: needs `tmux` on PATH (apt-get install tmux)\n\
                b::y: needs root (run the tests as root, as CI does)\n";
    assert_eq!(
        require::summary(text, "# skipped in the cargo test run 7", file).unwrap(),
        "\n2 test(s) skipped: what they need is missing here (under CI=true they fail):\n\
         \x20 a::x: needs `tmux` on PATH (apt-get install tmux)\n\
         \x20 b::y: needs root (run the tests as root, as CI does)\n\
         (this list is kept in target/skipped-tests.txt)\n"
    );
    // another run's list: this run skipped nothing
    assert_eq!(
        require::summary(text, "# skipped in the cargo test run 8", file),
        None
    );
    assert_eq!(
        require::summary("", "# skipped in the cargo test run 7", file),
        None
    );
}
