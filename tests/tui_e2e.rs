//! The real binary in a real terminal (tmux): open the demo image, go to the last layer, filter
//! for a path, quit; the screen shows each step and the shell gets its terminal back.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }
    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "e2e"]).stdout).to_string()
    }
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }
    /// Wait until the screen contains all of `what` (a frame may be captured half-drawn, so
    /// one string is not proof the rest arrived); the screen on timeout.
    fn wait_for(&self, what: &[&str]) -> Result<String, String> {
        let start = Instant::now();
        loop {
            let s = self.capture();
            if what.iter().all(|w| s.contains(w)) {
                return Ok(s);
            }
            if start.elapsed() > Duration::from_secs(20) {
                return Err(s);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // our own server on our own socket: nobody else's sessions
        let _ = self.cmd(&["kill-server"]);
    }
}

#[test]
fn explorer_in_tmux_moves_filters_and_quits_cleanly() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed (the CI script installs it)");
        return;
    }
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.tar");
    let bin = env!("CARGO_BIN_EXE_bathy");
    let t = Tmux {
        socket: format!("bathy-e2e-{}", std::process::id()),
    };
    // CI=true would ask for the CI verdict instead of the explorer
    let shell = format!(
        "env -u CI '{bin}' '{}'; echo EXIT=$?; sleep 60",
        demo.display()
    );
    let out = t.cmd(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "100",
        "-y",
        "30",
        &shell,
    ]);
    assert!(
        out.status.success(),
        "tmux: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let s = t
        .wait_for(&[
            "Image details",
            "bathyscaphe/demo:latest",
            "Layer 0: everything up to it",
        ])
        .unwrap_or_else(|s| panic!("the explorer did not open:\n{s}"));
    assert!(s.contains("bathyscaphe/demo:latest"), "{s}");
    assert!(s.contains("Layer 0: everything up to it"), "{s}");

    // End in the layers pane: the last layer (5: chmod +x /app/server)
    t.keys(&["End"]);
    let s = t
        .wait_for(&["Layer 5: everything up to it", "chmod +x"])
        .unwrap_or_else(|s| panic!("no layer 5:\n{s}"));
    assert!(s.contains("chmod +x"), "{s}");

    // filter for the build cache's path as you type: only it and its parents remain
    t.keys(&["/"]);
    t.keys(&["-l", "objects"]);
    let s = t
        .wait_for(&["filter matches", "Filter: objects"])
        .unwrap_or_else(|s| panic!("no filter:\n{s}"));
    // at layer 5 the cache is gone (deleted in layer 4): nothing shows
    assert!(s.contains("Filter: objects"), "{s}");
    assert!(!s.contains("objects.bin"), "{s}");
    // back to layer 3, where it was written: the filter keeps it and its parents
    t.keys(&["Enter", "Tab", "Tab", "k", "k"]);
    let s = t
        .wait_for(&["objects.bin", "Layer 3: everything up to it"])
        .unwrap_or_else(|s| panic!("no match at layer 3:\n{s}"));
    assert!(s.contains("Layer 3: everything up to it"), "{s}");
    let tree_rows: Vec<&str> = s.lines().filter(|l| l.contains("── ")).collect();
    assert!(tree_rows.iter().any(|l| l.contains("tmp/")), "{s}");
    assert!(tree_rows.iter().any(|l| l.contains("build-cache/")), "{s}");
    assert!(
        !tree_rows.iter().any(|l| l.contains("usr/")),
        "unrelated paths are filtered out:\n{s}"
    );

    t.keys(&["q"]);
    let s = t
        .wait_for(&["EXIT="])
        .unwrap_or_else(|s| panic!("bathy did not exit:\n{s}"));
    assert!(s.contains("EXIT=0"), "{s}");
    // the alternate screen is gone: the explorer's frame is not on the shell's screen
    assert!(!s.contains("Image details"), "{s}");
}
