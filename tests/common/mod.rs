//! Shared test plumbing: run the binary, load testkit images, and ask for what a test needs
//! from outside the repository (`require`: tools, a daemon, the shared fixtures).
#![allow(dead_code)]

#[cfg(feature = "daemon")]
pub mod docker;
pub mod require;
#[cfg(feature = "tui")]
pub mod term;
pub mod tmux;
#[allow(unused_imports)]
pub use require::*;

use bathyscaphe::analysis::Analysis;
use bathyscaphe::image::Image;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec};
use std::path::Path;
use std::process::{Command, Output};

/// The binary, without the user's config file (`~/.config/bathy/config.yaml` could set CI
/// defaults or keys the tests do not expect); a test of the config file names one.
pub fn bathy() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bathy"));
    c.env_remove("BATHY_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent/bathy-tests");
    c
}

pub fn run(args: &[&str], cwd: &Path) -> Output {
    bathy()
        .args(args)
        .current_dir(cwd)
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .output()
        .expect("run bathy")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Write `spec` in `format` into `dir` and load it back.
pub fn load_spec(dir: &Path, spec: &ImageSpec, format: ArchiveFormat, c: Compression) -> Image {
    let p = dir.join("image.tar");
    spec.write(&p, format, c).expect("write archive");
    load_path(&p, &LoadOptions::default()).expect("load archive")
}

pub fn analyse(dir: &Path, spec: &ImageSpec) -> (Image, Analysis) {
    let img = load_spec(dir, spec, ArchiveFormat::DockerArchive, Compression::None);
    let a = Analysis::run(&img);
    (img, a)
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}
