//! Bad input: each case gives one line on stderr naming the archive member, exit status 2,
//! no panic, and no report written.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::testkit::{tar_members, ArchiveFormat, Compression, ImageSpec, LayerSpec, Member};
use common::*;
use std::path::Path;

fn spec() -> ImageSpec {
    ImageSpec::new("bad:1")
        .layer(LayerSpec::new("a").dir("etc").file_sized("etc/a", 4000, 1))
        .layer(LayerSpec::new("b").file_sized("etc/b", 3000, 2))
}

/// Run on `bytes`; assert the refusal and return the one stderr line.
fn refuse(bytes: &[u8]) -> String {
    let t = tmp();
    let p = t.path().join("in.tar");
    std::fs::write(&p, bytes).unwrap();
    refuse_path(&p, t.path())
}

fn refuse_path(p: &Path, dir: &Path) -> String {
    let out = dir.join("report.json");
    let o = run(&["--json", out.to_str().unwrap(), p.to_str().unwrap()], dir);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "status for {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("bathy: "), "{err}");
    assert!(!out.exists(), "nothing written");
    err
}

fn members(format: ArchiveFormat, c: Compression) -> Vec<Member> {
    spec().members(format, c)
}

fn layer_names(ms: &[Member]) -> Vec<String> {
    ms.iter()
        .filter(|m| {
            m.name.ends_with("layer.tar") || (m.name.starts_with("blobs/") && m.data.len() > 1000)
        })
        .map(|m| m.name.clone())
        .collect()
}

#[test]
fn truncated_archive() {
    // cut anywhere: inside a layer's bytes, between members, before the manifest
    let bytes = spec().archive(ArchiveFormat::DockerArchive, Compression::None);
    for cut in [
        bytes.len() / 4,
        bytes.len() / 2,
        bytes.len() * 3 / 4,
        bytes.len() - 1400,
    ] {
        let err = refuse(&bytes[..cut]);
        assert!(err.contains("truncated"), "cut at {cut}: {err}");
    }
}

/// Flip 16 bytes in the middle of the first layer blob; returns the refusal and the blob's name.
fn corrupt_first_layer(c: Compression, mask: u8) -> (String, String) {
    let mut ms = members(ArchiveFormat::OciArchive, c);
    let name = layer_names(&ms)[0].clone();
    let m = ms.iter_mut().find(|m| m.name == name).unwrap();
    let mid = m.data.len() / 2;
    for b in &mut m.data[mid..mid + 16] {
        *b ^= mask;
    }
    (refuse(&tar_members(&ms)), name)
}

#[test]
fn corrupt_gzip_layer() {
    let (err, name) = corrupt_first_layer(Compression::Gzip, 0x5a);
    assert!(err.contains(&name), "{err}");
    assert!(err.contains("gzip") || err.contains("mismatch"), "{err}");
}

#[test]
fn corrupt_zstd_layer() {
    let (err, name) = corrupt_first_layer(Compression::Zstd, 0xa5);
    assert!(err.contains(&name), "{err}");
}

#[test]
fn not_an_image_at_all() {
    let plain = tar_members(&[Member {
        name: "README.md".into(),
        data: b"hello".to_vec(),
        symlink: None,
    }]);
    let err = refuse(&plain);
    assert!(err.contains("not a container image archive"), "{err}");
    let err = refuse(b"this is not a tar file at all, just some words that go on and on");
    assert!(err.contains("in.tar"), "{err}");
}

#[test]
fn missing_config_and_missing_layer() {
    let mut ms = members(ArchiveFormat::DockerArchive, Compression::None);
    let config = ms
        .iter()
        .find(|m| m.name.ends_with(".json") && m.name != "manifest.json" && !m.name.contains('/'))
        .unwrap()
        .name
        .clone();
    ms.retain(|m| m.name != config);
    let err = refuse(&tar_members(&ms));
    assert!(err.contains(&config) && err.contains("missing"), "{err}");

    let mut ms = members(ArchiveFormat::DockerArchive, Compression::None);
    let layer = layer_names(&ms)[1].clone();
    ms.retain(|m| m.name != layer);
    let err = refuse(&tar_members(&ms));
    assert!(err.contains(&layer) && err.contains("missing"), "{err}");

    let mut ms = members(ArchiveFormat::OciArchive, Compression::Gzip);
    ms.retain(|m| m.name != "index.json");
    let err = refuse(&tar_members(&ms));
    assert!(err.contains("no manifest.json or index.json"), "{err}");
}

#[test]
fn digest_mismatch_names_the_layer() {
    let mut ms = members(ArchiveFormat::DockerArchive, Compression::None);
    let layer = layer_names(&ms)[1].clone();
    let other = LayerSpec::new("x").file_sized("etc/b", 3000, 99).tar();
    ms.iter_mut().find(|m| m.name == layer).unwrap().data = other;
    let err = refuse(&tar_members(&ms));
    assert!(
        err.contains(&layer) && err.contains("diff_id mismatch"),
        "{err}"
    );
    // --no-verify reads it anyway
    let t = tmp();
    let p = t.path().join("in.tar");
    std::fs::write(&p, tar_members(&ms)).unwrap();
    let o = run(&["--no-verify", p.to_str().unwrap()], t.path());
    assert!(o.status.success(), "{}", stderr(&o));

    let mut ms = members(ArchiveFormat::OciArchive, Compression::Gzip);
    let name = layer_names(&ms)[0].clone();
    let m = ms.iter_mut().find(|m| m.name == name).unwrap();
    m.data = bathyscaphe::testkit::compress(
        &LayerSpec::new("x").file("y", b"z").tar(),
        Compression::Gzip,
    );
    let err = refuse(&tar_members(&ms));
    assert!(
        err.contains(&name) && err.contains("blob digest mismatch"),
        "{err}"
    );
}

#[test]
fn layer_symlink_loop() {
    let mut ms = members(ArchiveFormat::DockerArchive, Compression::None);
    let names = layer_names(&ms);
    let (a, b) = (names[0].clone(), names[1].clone());
    let (da, db) = (
        a.split('/').next().unwrap().to_string(),
        b.split('/').next().unwrap().to_string(),
    );
    for m in ms.iter_mut() {
        if m.name == a {
            m.symlink = Some(format!("../{db}/layer.tar"));
        } else if m.name == b {
            m.symlink = Some(format!("../{da}/layer.tar"));
        }
    }
    let err = refuse(&tar_members(&ms));
    assert!(err.contains("symlink loop"), "{err}");
}

fn with_raw_entry(name: &[u8]) -> Vec<u8> {
    ImageSpec::new("bad:1")
        .layer(
            LayerSpec::new("a")
                .file("ok", b"fine")
                .raw(name, b'0', b"payload"),
        )
        .archive(ArchiveFormat::DockerArchive, Compression::None)
}

#[test]
fn entries_that_escape_or_are_not_utf8() {
    let err = refuse(&with_raw_entry(b"../etc/passwd"));
    assert!(err.contains("layer.tar") && err.contains("'..'"), "{err}");
    let err = refuse(&with_raw_entry(b"/etc/passwd"));
    assert!(
        err.contains("layer.tar") && err.contains("absolute path"),
        "{err}"
    );
    let err = refuse(&with_raw_entry(b"caf\xe9"));
    assert!(
        err.contains("layer.tar") && err.contains("non-UTF-8"),
        "{err}"
    );
}

#[test]
fn duplicate_entries_and_duplicate_members() {
    let bytes = ImageSpec::new("bad:1")
        .layer(LayerSpec::new("a").file("f", b"one").file("f", b"two"))
        .archive(ArchiveFormat::DockerArchive, Compression::None);
    let err = refuse(&bytes);
    assert!(err.contains("\"f\" appears twice"), "{err}");

    let mut ms = members(ArchiveFormat::DockerArchive, Compression::None);
    let dup = ms
        .iter()
        .find(|m| m.name == "manifest.json")
        .unwrap()
        .clone();
    ms.push(dup);
    let err = refuse(&tar_members(&ms));
    assert!(err.contains("manifest.json: appears twice"), "{err}");
}

#[test]
fn a_declared_size_larger_than_the_file() {
    // a layer whose first header claims 1,000,000 bytes it does not have
    let mut ms = members(ArchiveFormat::DockerArchive, Compression::None);
    let layer = layer_names(&ms)[1].clone();
    let m = ms.iter_mut().find(|m| m.name == layer).unwrap();
    let size_field = format!("{:011o}\0", 1_000_000u64);
    m.data[124..136].copy_from_slice(size_field.as_bytes());
    // recompute the header checksum so the header itself is valid
    m.data[148..156].copy_from_slice(b"        ");
    let sum: u32 = m.data[..512].iter().map(|&b| b as u32).sum();
    m.data[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let err = refuse(&tar_members(&ms));
    assert!(err.contains(&layer), "{err}");
    assert!(
        err.contains("truncated") || err.contains("mismatch"),
        "{err}"
    );
}

#[test]
fn a_missing_file_and_a_directory_that_is_not_a_layout() {
    let t = tmp();
    let err = refuse_path(&t.path().join("nope.tar"), t.path());
    assert!(err.contains("nope.tar"), "{err}");
    let d = t.path().join("empty-dir");
    std::fs::create_dir(&d).unwrap();
    let err = refuse_path(&d, t.path());
    assert!(err.contains("not an OCI image layout"), "{err}");
}

#[test]
fn a_missing_file_is_named_once() {
    let t = tmp();
    let o = run(&["missing.tar"], t.path());
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim_end(),
        "bathy: missing.tar: No such file or directory (os error 2)"
    );
}
