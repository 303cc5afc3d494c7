//! Hostile images (issue 11): inputs built small in code that once took memory or time growing
//! with what they declare, not with their size. Each ends with one line on stderr naming the
//! file or member, exit status 2, within the memory and time of an ordinary image.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::testkit::{
    tar_members, zstd_zeros, ArchiveFormat, Compression, ImageSpec, LayerSpec,
};
use common::*;
use std::path::Path;

fn spec() -> ImageSpec {
    ImageSpec::new("hostile:1").layer(LayerSpec::new("ADD a /").file("etc/a", b"a\n"))
}

/// Run bathy on `args` in `dir`; assert exit 2 with one stderr line and return it.
fn refused(args: &[&str], dir: &Path) -> String {
    let o = run(args, dir);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "status for {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err.trim_end().to_string()
}

/// A docker archive whose one layer blob is `blob`.
fn with_layer_blob(blob: Vec<u8>) -> Vec<u8> {
    let mut ms = spec().members(ArchiveFormat::DockerArchive, Compression::None);
    let layer = ms
        .iter_mut()
        .find(|m| m.name.ends_with("/layer.tar"))
        .unwrap();
    layer.data = blob;
    tar_members(&ms)
}

// item 13: 1 MB of zstd holding 32 GB of zeros read all 32 GB (33 s) before the diff_id
// mismatch; the inflate guard stops it past INFLATE_FLOOR (16 MiB) and names the layer
#[test]
fn a_zstd_bomb_stops_at_the_inflate_ratio_naming_the_layer() {
    let t = tmp();
    let bomb = zstd_zeros(32 << 30);
    assert!(
        bomb.len() < 1_100_000,
        "the bomb is about 1 MB: {}",
        bomb.len()
    );
    let p = t.path().join("bomb.tar");
    std::fs::write(&p, with_layer_blob(bomb)).unwrap();
    let err = refused(&["--json", "-", p.to_str().unwrap()], t.path());
    assert!(
        err.contains("/layer.tar: zstd layer inflates to more than 5000 times"),
        "{err}"
    );
    assert!(err.contains("--max-inflate-ratio"), "{err}");
}

#[test]
fn max_inflate_ratio_raises_the_guard() {
    let t = tmp();
    // 24 MiB of zeros in 774 bytes: a ratio over 30,000, past the floor
    let p = t.path().join("zeros.tar");
    std::fs::write(&p, with_layer_blob(zstd_zeros(24 << 20))).unwrap();
    let err = refused(&["--json", "-", p.to_str().unwrap()], t.path());
    assert!(err.contains("inflates to more than 5000 times"), "{err}");
    // raised, the layer inflates to the end, where its diff_id is found wrong
    let err = refused(
        &[
            "--json",
            "-",
            "--max-inflate-ratio",
            "100000",
            p.to_str().unwrap(),
        ],
        t.path(),
    );
    assert!(err.contains("diff_id mismatch"), "{err}");
}

// items 6 and 9: in an OCI layout directory, a blob symlinked to /dev/zero looped forever (also
// with --no-verify) and a config grew without limit; a FIFO blocked forever
#[test]
fn layout_blobs_that_are_devices_or_fifos_are_refused_by_name() {
    for verify in [true, false] {
        let t = tmp();
        let dir = t.path().join("oci");
        spec().write_oci_dir(&dir, Compression::Gzip).unwrap();
        let blobs = dir.join("blobs/sha256");
        let layer = std::fs::read_dir(&blobs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| std::fs::read(p).unwrap().starts_with(&[0x1f, 0x8b]))
            .unwrap();
        std::fs::remove_file(&layer).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &layer).unwrap();
        let mut args = vec!["--json", "-", dir.to_str().unwrap()];
        if !verify {
            args.push("--no-verify");
        }
        let err = refused(&args, t.path());
        let name = layer.file_name().unwrap().to_str().unwrap();
        assert!(
            err.contains(name) && err.contains("not a regular file (a character device)"),
            "{err}"
        );
    }
}

#[test]
fn a_layout_index_that_is_a_fifo_or_too_large_is_refused() {
    let t = tmp();
    let dir = t.path().join("oci");
    spec().write_oci_dir(&dir, Compression::None).unwrap();
    let index = dir.join("index.json");
    std::fs::remove_file(&index).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&index)
        .status()
        .unwrap();
    assert!(made.success());
    let err = refused(&["--json", "-", dir.to_str().unwrap()], t.path());
    assert!(
        err.ends_with("index.json: not a regular file (a FIFO)"),
        "{err}"
    );

    // a sparse 1.5 GB index.json was read whole (3 GB peak)
    std::fs::remove_file(&index).unwrap();
    let f = std::fs::File::create(&index).unwrap();
    f.set_len(1536 << 20).unwrap();
    let err = refused(&["--json", "-", dir.to_str().unwrap()], t.path());
    assert!(
        err.ends_with("index.json: larger than the 64 MiB limit for this file"),
        "{err}"
    );
}

#[test]
fn rules_and_dockerfile_that_are_devices_are_refused_by_name() {
    let t = tmp();
    let p = t.path().join("img.tar");
    spec()
        .write(&p, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    for flag in ["--rules", "--dockerfile"] {
        let err = refused(
            &["--json", "-", flag, "/dev/zero", p.to_str().unwrap()],
            t.path(),
        );
        assert_eq!(
            err,
            "bathy: /dev/zero: not a regular file (a character device)"
        );
    }
}

fn app_source_leftovers(spec: &ImageSpec) -> Vec<String> {
    use bathyscaphe::analysis::capture::why_capture;
    use bathyscaphe::analysis::why::{WhyOptions, WhyReport};
    use bathyscaphe::analysis::Analysis;
    use bathyscaphe::source::{load_stream, LoadOptions};
    let archive = spec.archive(ArchiveFormat::DockerArchive, Compression::None);
    let opts = LoadOptions {
        capture: Some(why_capture()),
        ..Default::default()
    };
    let image = load_stream(archive.as_slice(), "img.tar", &opts).unwrap();
    let a = Analysis::run(&image);
    let why = WhyReport::run(&image, &a, &WhyOptions::default());
    let mut paths: Vec<String> = why
        .leftovers
        .iter()
        .filter(|l| l.rule == "app-sources")
        .flat_map(|l| l.nodes.iter().map(|&n| image.paths.path(n)))
        .collect();
    paths.sort();
    paths
}

// item 5: WorkingDir went into the `{workdir}` patterns as glob syntax (and a 30 MB one took
// 3 GB building them): it is a literal path, escaped, and one longer than PATH_MAX fills none
#[test]
fn workdir_is_a_literal_path_in_the_leftover_patterns_and_bounded() {
    let layer = LayerSpec::new("COPY . .")
        .file("src/main.go", b"package main\n")
        .file("s{rc,x}/main.go", b"package main\n");
    let spec = ImageSpec::new("w:1")
        .workdir("/s{rc,x}")
        .layer(layer.clone());
    assert_eq!(app_source_leftovers(&spec), ["/s{rc,x}/main.go"]);

    let long = format!("/{}", "d".repeat(5000));
    let spec = ImageSpec::new("w:2")
        .workdir(&long)
        .layer(layer.file(&format!("{}/main.go", &long[1..]), b"package main\n"));
    assert_eq!(app_source_leftovers(&spec), Vec::<String>::new());
}

fn load_layer(layer: LayerSpec) -> Result<bathyscaphe::image::Image, String> {
    use bathyscaphe::source::{load_stream, LoadOptions};
    let spec = ImageSpec::new("o:1").layer(layer);
    let archive = spec.archive(ArchiveFormat::DockerArchive, Compression::None);
    load_stream(archive.as_slice(), "img.tar", &LoadOptions::default()).map_err(|e| e.to_string())
}

// item 18: a PAX uid of 99999999999999 read as 276447231 and a base-256 uid of 2^52 as 0 (root);
// invalid PAX records were dropped and the plain header's values used
#[test]
fn owners_past_32_bits_and_invalid_pax_records_are_refused_naming_the_entry() {
    use bathyscaphe::testkit::pax_record;
    let err = load_layer(
        LayerSpec::new("a")
            .pax(&pax_record("uid", "99999999999999"))
            .file("etc/x", b"x"),
    )
    .unwrap_err();
    assert!(
        err.contains("\"etc/x\": uid 99999999999999 is out of range"),
        "{err}"
    );

    let err =
        load_layer(LayerSpec::new("a").file_owned("etc/y", b"y", 0o644, 0, 1 << 52)).unwrap_err();
    assert!(
        err.contains("\"etc/y\": gid 4503599627370496 is out of range"),
        "{err}"
    );

    for (record, shown) in [
        (pax_record("size", "-5"), "size=\"-5\""),
        (
            pax_record("size", "99999999999999999999"),
            "size=\"99999999999999999999\"",
        ),
        (
            pax_record("path", "etc/new\nline"),
            "malformed pax extension",
        ),
    ] {
        let err = load_layer(LayerSpec::new("a").pax(&record).file("etc/z", b"z")).unwrap_err();
        assert!(
            err.contains("invalid PAX record") && err.contains(shown),
            "{err}"
        );
        assert!(err.contains("etc/z"), "names the entry: {err}");
    }

    // a valid PAX uid above the octal field's range is read as Docker reads it
    let image = load_layer(
        LayerSpec::new("a")
            .pax(&[pax_record("uid", "3000000000"), pax_record("gid", "70000")].concat())
            .file("etc/w", b"w"),
    )
    .unwrap();
    let e = &image.layers[0].entries[0];
    assert_eq!((e.uid, e.gid), (3_000_000_000, 70_000));
}

/// An OCI archive of `spec` whose index.json lists `fanout` times a nested index, which lists
/// `fanout` times the next, `levels` deep, the last listing the image's manifest: each level a
/// single blob, so the archive stays small. `corrupt` changes one byte of the top nested index
/// after its digest is taken.
fn nested_index_archive(levels: usize, fanout: usize, corrupt: bool) -> Vec<u8> {
    use bathyscaphe::source::layout::sha256_of;
    use bathyscaphe::testkit::Member;
    let mut ms = spec().members(ArchiveFormat::OciArchive, Compression::None);
    let index_at = ms.iter().position(|m| m.name == "index.json").unwrap();
    let index: serde_json::Value = serde_json::from_slice(&ms[index_at].data).unwrap();
    let mut child = index["manifests"][0].clone();
    let mut top = Vec::new();
    for level in 0..levels {
        let nested = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": vec![child.clone(); fanout],
        });
        let mut bytes = serde_json::to_vec(&nested).unwrap();
        let digest = sha256_of(&bytes);
        if corrupt && level + 1 == levels {
            bytes.push(b' ');
        }
        ms.push(Member {
            name: format!("blobs/sha256/{}", &digest[7..]),
            data: bytes.clone(),
            symlink: None,
        });
        child = serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest,
            "size": bytes.len(),
        });
        top = vec![child.clone(); fanout];
    }
    ms[index_at].data = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": top,
    }))
    .unwrap();
    tar_members(&ms)
}

// item 3: 5 levels of 10 indexes (a 30 KB archive) spelled out a million images (1.07 GB), and
// nested indexes were never checked against their digests
#[test]
fn nested_indexes_are_bounded_and_their_digests_checked() {
    let t = tmp();
    let p = t.path().join("nested.tar");
    let bytes = nested_index_archive(5, 10, false);
    assert!(bytes.len() < 40_000, "{}", bytes.len());
    std::fs::write(&p, bytes).unwrap();
    let err = refused(&["--json", "-", p.to_str().unwrap()], t.path());
    assert!(
        err.ends_with("index.json: lists more than 10000 manifests (nested indexes included)"),
        "{err}"
    );

    // within the bound: read, with one note for the 1,000 listings of the one image
    std::fs::write(&p, nested_index_archive(2, 10, false)).unwrap();
    let o = run(&["--json", "-", p.to_str().unwrap()], t.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    std::fs::write(&p, nested_index_archive(2, 2, true)).unwrap();
    let err = refused(&["--json", "-", p.to_str().unwrap()], t.path());
    assert!(err.contains("index digest mismatch"), "{err}");
}

// item 4: one layer listed 1,000 times in a manifest with no diff_ids took 34 s and 1 GB
#[test]
fn a_manifest_with_too_many_layers_or_no_diff_ids_is_refused() {
    let t = tmp();
    let p = t.path().join("many.tar");
    let mut ms = spec().members(ArchiveFormat::DockerArchive, Compression::None);
    let manifest_at = ms.iter().position(|m| m.name == "manifest.json").unwrap();
    let mut manifest: serde_json::Value = serde_json::from_slice(&ms[manifest_at].data).unwrap();
    let layer = manifest[0]["Layers"][0].clone();
    manifest[0]["Layers"] = serde_json::json!(vec![layer; 1000]);
    ms[manifest_at].data = serde_json::to_vec(&manifest).unwrap();
    std::fs::write(&p, tar_members(&ms)).unwrap();
    let err = refused(
        &["--json", "-", "--no-verify", p.to_str().unwrap()],
        t.path(),
    );
    assert!(
        err.contains("the manifest lists 1000 layers, more than the 256"),
        "{err}"
    );

    // a config without diff_ids checks nothing: refused unless --no-verify
    let mut ms = spec().members(ArchiveFormat::DockerArchive, Compression::None);
    let config_at = ms
        .iter()
        .position(|m| {
            m.name.ends_with(".json") && m.name != "manifest.json" && !m.name.contains('/')
        })
        .unwrap();
    let mut config: serde_json::Value = serde_json::from_slice(&ms[config_at].data).unwrap();
    config["rootfs"]["diff_ids"] = serde_json::json!([]);
    // the config's name is its digest: rename it, and the manifest's reference to it
    let data = serde_json::to_vec(&config).unwrap();
    let name = format!(
        "{}.json",
        &bathyscaphe::source::layout::sha256_of(&data)[7..]
    );
    ms[config_at].data = data;
    ms[config_at].name = name.clone();
    let manifest_at = ms.iter().position(|m| m.name == "manifest.json").unwrap();
    let mut manifest: serde_json::Value = serde_json::from_slice(&ms[manifest_at].data).unwrap();
    manifest[0]["Config"] = serde_json::json!(name);
    ms[manifest_at].data = serde_json::to_vec(&manifest).unwrap();
    std::fs::write(&p, tar_members(&ms)).unwrap();
    let err = refused(&["--json", "-", p.to_str().unwrap()], t.path());
    assert!(err.contains("config lists no diff_ids"), "{err}");
    let o = run(
        &["--json", "-", "--no-verify", p.to_str().unwrap()],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

// item 2: an ELF whose program headers lie past the first 64 KB was buffered whole and handed
// to goblin, whose string-table parsing took 1.65 GB for a 64 MB file (and aborted at 160 MB);
// and a segment's declared size was kept whole
#[test]
fn elf_facts_come_from_bounded_spans_never_the_whole_file() {
    use bathyscaphe::analysis::capture::{why_capture, ELF_SPAN_CAP};
    use bathyscaphe::testkit::fake_elf;
    let c = why_capture();
    let size = ELF_SPAN_CAP as usize + (4 << 20);
    let elf = fake_elf(Some("/lib/ld.so"), &["libc.so.6"], None, size);
    let head = &elf[..64 << 10];
    let spans = c.ranges("bin/x", size as u64, head).unwrap();
    assert!(
        spans.iter().all(|r| r.end - r.start <= ELF_SPAN_CAP),
        "{spans:?}"
    );

    // the program headers moved past the head: the head alone, never the whole file
    let mut far = elf.clone();
    let phoff = 100_000usize;
    far.copy_within(64..64 + 3 * 56, phoff);
    far[32..40].copy_from_slice(&(phoff as u64).to_le_bytes());
    let spans = c.ranges("bin/x", size as u64, &far[..64 << 10]).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!((spans[0].start, spans[0].end), (0, 64 << 10));
}
