//! Our dive numbers against the real dive 0.13.1 on archives written by the test helper.
//! Needs `dive` on PATH (see `tests/common/require.rs`); CI installs it.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::*;
use std::process::Command;

fn specs() -> Vec<(&'static str, ImageSpec)> {
    vec![
        (
            "nginx-example",
            ImageSpec::new("t:1")
                .layer(
                    LayerSpec::new("a")
                        .file_sized("etc/nginx/nginx.conf", 2000, 1)
                        .file_sized("etc/nginx/public", 3000, 2),
                )
                .layer(
                    LayerSpec::new("b")
                        .file_sized("etc/nginx/nginx.conf", 5000, 3)
                        .file_sized("etc/athing", 10000, 4),
                )
                .layer(LayerSpec::new("c").whiteout("etc/nginx")),
        ),
        (
            "whiteout-of-nothing-stops-layer",
            ImageSpec::new("t:1")
                .layer(LayerSpec::new("a").file_sized("a", 10, 1))
                .layer(
                    LayerSpec::new("b")
                        .file_sized(".a", 5, 2)
                        .whiteout("b")
                        .file_sized("c", 20, 3),
                ),
        ),
        (
            "deleted-real-directory",
            ImageSpec::new("t:1")
                .layer(
                    LayerSpec::new("a")
                        .dir("d")
                        .file_sized("d/a", 100, 1)
                        .file_sized("d/b", 50, 2)
                        .dir("d/e")
                        .file_sized("d/e/f", 7, 3),
                )
                .layer(LayerSpec::new("b").dir("x").file_sized("x/y", 3, 4))
                .layer(LayerSpec::new("c").whiteout("d").file_sized("x/y", 9, 5)),
        ),
        (
            "opaque-and-overwrites",
            ImageSpec::new("t:1")
                .layer(
                    LayerSpec::new("a")
                        .dir("usr")
                        .dir("usr/lib")
                        .file_sized("usr/lib/a.so", 400, 1)
                        .file_sized("usr/lib/b.so", 300, 2),
                )
                .layer(
                    LayerSpec::new("b")
                        .dir("usr/lib")
                        .opaque("usr/lib")
                        .file_sized("usr/lib/c.so", 200, 3),
                )
                .layer(
                    LayerSpec::new("c")
                        .file_mode("usr/lib/c.so", &bathyscaphe::testkit::filler(200, 3), 0o755)
                        .symlink("usr/lib/d.so", "c.so"),
                )
                .layer(
                    LayerSpec::new("d")
                        .hardlink("usr/lib/e.so", "usr/lib/c.so")
                        .whiteout("usr/lib/b.so"),
                ),
        ),
    ]
}

#[test]
fn our_dive_numbers_equal_dives_own() {
    if !require_tool(&DIVE) {
        return;
    }
    let t = tmp();
    for (name, spec) in specs() {
        let archive = t.path().join(format!("{name}.tar"));
        spec.write(&archive, ArchiveFormat::DockerArchive, Compression::None)
            .unwrap();
        let theirs_path = t.path().join(format!("{name}.dive.json"));
        let o = Command::new("dive")
            .args(["--source", "docker-archive", "--json"])
            .arg(&theirs_path)
            .arg(&archive)
            .current_dir(t.path())
            .env_remove("CI")
            .output()
            .unwrap();
        assert!(
            theirs_path.exists(),
            "{name}: dive wrote no JSON: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let ours_path = t.path().join(format!("{name}.ours.json"));
        let o = run(
            &[
                "--json",
                ours_path.to_str().unwrap(),
                archive.to_str().unwrap(),
            ],
            t.path(),
        );
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let theirs: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&theirs_path).unwrap()).unwrap();
        let ours: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&ours_path).unwrap()).unwrap();
        for key in ["sizeBytes", "inefficientBytes", "efficiencyScore"] {
            assert_eq!(
                ours["image"][key], theirs["image"][key],
                "{name}: image.{key}"
            );
        }
        let refs = |v: &serde_json::Value| {
            let mut r: Vec<String> = v["image"]["fileReference"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| format!("{} {} {}", f["file"], f["count"], f["sizeBytes"]))
                .collect();
            r.sort();
            r
        };
        assert_eq!(refs(&ours), refs(&theirs), "{name}: fileReference");
        let layers_t = theirs["layer"].as_array().unwrap();
        let layers_o = ours["layer"].as_array().unwrap();
        assert_eq!(layers_o.len(), layers_t.len());
        for (lo, lt) in layers_o.iter().zip(layers_t) {
            assert_eq!(lo["sizeBytes"], lt["sizeBytes"], "{name}: layer sizeBytes");
            assert_eq!(lo["digestId"], lt["digestId"], "{name}: layer digestId");
            assert_eq!(lo["command"], lt["command"], "{name}: layer command");
            assert_eq!(
                lo["fileList"], lt["fileList"],
                "{name}: layer {} fileList",
                lo["index"]
            );
        }
    }
}
