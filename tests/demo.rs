//! The committed demo image is exactly what its generator writes, and tells its story.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::analysis::Analysis;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{ArchiveFormat, Compression};
use common::*;
use std::path::Path;

#[test]
fn assets_demo_tar_is_what_the_generator_writes() {
    let committed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.tar")).unwrap();
    let fresh =
        bathyscaphe::demo::demo_spec().archive(ArchiveFormat::DockerArchive, Compression::None);
    assert!(
        committed == fresh,
        "assets/demo.tar is stale: run `cargo run --example make-demo`"
    );
    assert!(committed.len() < 1_000_000);
}

#[test]
fn the_demo_tells_the_story() {
    let img = load_path(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.tar"),
        &LoadOptions::default(),
    )
    .unwrap();
    let a = Analysis::run(&img);
    // wasted: the build cache deleted in layer 4 (30,000), the server copy replaced by
    // chmod (70,000), and the first dpkg status replaced by the toolchain's longer one.
    let status_first = bathyscaphe::demo::demo_spec().layers[0]
        .entries
        .iter()
        .find_map(|e| match e {
            bathyscaphe::testkit::EntrySpec::File { path, content, .. }
                if path == "var/lib/dpkg/status" =>
            {
                Some(content.len() as u64)
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(a.waste.wasted_bytes, 30_000 + 70_000 + status_first);
    assert_eq!(a.waste.layers[3].wasted_bytes, 100_000);
    let t = tmp();
    let o = run(
        &[Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/demo.tar")
            .to_str()
            .unwrap()],
        t.path(),
    );
    assert!(o.status.success());
    assert!(stdout(&o).contains("/tmp/build-cache/objects.bin"));
}
