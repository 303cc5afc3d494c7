//! A real terminal for the end-to-end explorer tests: tmux on a server of its own.

use std::process::Command;
use std::time::{Duration, Instant};

/// Our own tmux server on our own socket (`tmux -L`), killed when dropped: nobody else's
/// sessions are touched.
pub struct Tmux {
    pub socket: String,
    /// The session the pane commands address.
    pub session: &'static str,
}

impl Tmux {
    pub fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }
    /// Start the session: `shell` run in a detached `width`x`height` terminal.
    pub fn start(&self, width: u16, height: u16, shell: &str) {
        let (w, h) = (width.to_string(), height.to_string());
        let args = [
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            &w,
            "-y",
            &h,
            shell,
        ];
        let out = self.cmd(&args);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    pub fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", self.session]).stdout)
            .to_string()
    }
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session];
        args.extend_from_slice(keys);
        self.cmd(&args);
    }
    /// Wait until the screen contains all of `what` (a frame may be captured half-drawn, so
    /// one string is not proof the rest arrived); the screen on timeout.
    pub fn wait_for(&self, what: &[&str]) -> Result<String, String> {
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

/// The shell line that opens the explorer on `registry://HOST/REPO_TAG` over plain HTTP, with
/// only the credentials in `home` (none) and its temporary files there; the pane stays after
/// it exits (`EXIT=` says how).
pub fn explorer_on_registry(home: &str, host: &str, repo_tag: &str) -> String {
    format!(
        "env -u CI HOME='{home}' DOCKER_CONFIG='{home}/none' NO_PROXY='*' TMPDIR='{home}' '{}' \
         registry://{host}/{repo_tag} --insecure-registry {host} --no-cache; echo EXIT=$?; sleep 60",
        env!("CARGO_BIN_EXE_bathy")
    )
}
