//! Shared test plumbing: run the binary, find the shared fixtures, load testkit images.
#![allow(dead_code)]

use bathyscaphe::analysis::Analysis;
use bathyscaphe::image::Image;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bathy() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bathy"))
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

/// `../shared/fixtures` next to the repository, when present (CI has it; a user's clone may not).
pub fn shared_fixtures() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/fixtures is absent");
        None
    }
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
