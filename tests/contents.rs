//! `bathy cat` and `bathy diff` through the binary, on test-helper images in every layout and
//! compression: the bytes printed are the bytes the helper wrote.

#![allow(clippy::unwrap_used)]

mod common;

use bathyscaphe::contents::Files;
use bathyscaphe::image::Image;
use bathyscaphe::source::access::LayerFiles;
use bathyscaphe::source::seek_index::{SeekIndexes, SPAN};
use bathyscaphe::source::{load_path, LoadOptions, Selection};
use bathyscaphe::testkit::{
    filler, numbered_line, ArchiveFormat, Compression, ImageSpec, LayerSpec, COMPRESS_CHUNK,
};
use bathyscaphe::tree::MergedTree;
use common::{run, stderr, stdout};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

const CONF_V1: &[u8] = b"port=80\nhost=a\nmode=slow\n";
const CONF_V2: &[u8] = b"port=8080\nhost=a\nmode=slow\n";

/// Layer 0 writes the config and a binary; layer 1 rewrites the config; layer 2 removes the
/// binary and adds links; layer 3 touches nothing of them.
fn spec() -> ImageSpec {
    ImageSpec::new("contents:1")
        .layer(
            LayerSpec::new("ADD rootfs /")
                .file("etc/app.conf", CONF_V1)
                .file_sized("bin/tool", 70_000, 7)
                .file("etc/hostile\x1b[31m", b"red\x1b[2J\xff\n"),
        )
        .layer(LayerSpec::new("RUN edit").file("etc/app.conf", CONF_V2))
        .layer(
            LayerSpec::new("RUN rm")
                .whiteout("bin/tool")
                .symlink("etc/current.conf", "app.conf")
                .symlink("etc/abs.conf", "/etc/app.conf")
                .symlink("etc/escape", "../../../../../etc/passwd")
                .hardlink("etc/hard.conf", "etc/app.conf"),
        )
        .layer(LayerSpec::new("RUN true").file("tmp/x", b"x"))
}

fn write(dir: &Path, format: Option<ArchiveFormat>, c: Compression) -> String {
    match format {
        Some(f) => {
            let p = dir.join("image.tar");
            spec().write(&p, f, c).expect("write the archive");
            p.display().to_string()
        }
        None => {
            let p = dir.join("layout");
            spec().write_oci_dir(&p, c).expect("write the layout");
            p.display().to_string()
        }
    }
}

fn cases() -> Vec<(Option<ArchiveFormat>, Compression)> {
    let mut v = Vec::new();
    for f in [
        Some(ArchiveFormat::DockerArchive),
        Some(ArchiveFormat::DockerOciArchive),
        Some(ArchiveFormat::OciArchive),
        Some(ArchiveFormat::Kaniko),
        None,
    ] {
        for c in [Compression::None, Compression::Gzip, Compression::Zstd] {
            v.push((f, c));
        }
    }
    v
}

#[test]
fn cat_prints_the_bytes_the_helper_wrote_in_every_layout_and_compression() {
    for (f, c) in cases() {
        let t = tempfile::tempdir().unwrap();
        let img = write(t.path(), f, c);
        let case = format!("{f:?} {c:?}");
        let cat = |args: &[&str]| {
            let mut a = vec!["cat", img.as_str()];
            a.extend_from_slice(args);
            run(&a, t.path())
        };
        let o = cat(&["/etc/app.conf"]);
        assert!(o.status.success(), "{case}: {}", stderr(&o));
        assert_eq!(o.stdout, CONF_V2, "{case}");
        let o = cat(&["/etc/app.conf", "--layer", "0"]);
        assert_eq!(o.stdout, CONF_V1, "{case}");
        let o = cat(&["/bin/tool", "--layer", "1"]);
        assert_eq!(o.stdout, filler(70_000, 7), "{case}");
        // through a relative symlink, an absolute one and a hardlink
        for p in ["/etc/current.conf", "/etc/abs.conf", "/etc/hard.conf"] {
            let o = cat(&[p]);
            assert_eq!(o.stdout, CONF_V2, "{case} {p}: {}", stderr(&o));
        }
        // hostile name and contents: not a terminal, so the bytes as they are
        let o = cat(&["/etc/hostile\x1b[31m"]);
        assert_eq!(o.stdout, b"red\x1b[2J\xff\n", "{case}");
    }
}

#[test]
fn cat_of_a_removed_file_names_the_layer_that_removed_it() {
    let t = tempfile::tempdir().unwrap();
    let img = write(t.path(), Some(ArchiveFormat::OciArchive), Compression::Gzip);
    let o = run(&["cat", &img, "/bin/tool"], t.path());
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("removed by layer 2"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(o.stdout.is_empty());
}

#[test]
fn cat_refuses_a_symlink_out_of_the_image() {
    let t = tempfile::tempdir().unwrap();
    let img = write(
        t.path(),
        Some(ArchiveFormat::DockerArchive),
        Compression::None,
    );
    let o = run(&["cat", &img, "/etc/escape"], t.path());
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("out of the image"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "nothing of the host is printed");
}

#[test]
fn cat_of_a_directory_or_missing_path_is_one_error_line() {
    let t = tempfile::tempdir().unwrap();
    let img = write(t.path(), Some(ArchiveFormat::OciArchive), Compression::Zstd);
    for p in ["/etc", "/nope", "/etc/app.conf/x"] {
        let o = run(&["cat", &img, p], t.path());
        assert_eq!(o.status.code(), Some(2), "{p}");
        assert_eq!(stderr(&o).lines().count(), 1, "{p}: {}", stderr(&o));
    }
    let o = run(&["cat", &img, "/etc/app.conf", "--layer", "9"], t.path());
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn diff_shows_the_last_change_by_default_in_every_layout_and_compression() {
    // by hand: line 1 changed from port=80 to port=8080, the other two lines are context
    let want = "--- /etc/app.conf (layer 0)\n+++ /etc/app.conf (layer 1)\n@@ -1,3 +1,3 @@\n\
                -port=80\n+port=8080\n host=a\n mode=slow\n";
    for (f, c) in cases() {
        let t = tempfile::tempdir().unwrap();
        let img = write(t.path(), f, c);
        let o = run(&["diff", &img, "/etc/app.conf"], t.path());
        assert!(o.status.success(), "{f:?} {c:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), want, "{f:?} {c:?}");
    }
}

#[test]
fn diff_between_chosen_layers_and_of_a_removal() {
    let t = tempfile::tempdir().unwrap();
    let img = write(
        t.path(),
        Some(ArchiveFormat::DockerArchive),
        Compression::Gzip,
    );
    // --to 0: the first version against nothing
    let o = run(&["diff", &img, "/etc/app.conf", "--to", "0"], t.path());
    assert_eq!(
        stdout(&o),
        "--- /etc/app.conf (nothing before)\n+++ /etc/app.conf (layer 0)\n@@ -0,0 +1,3 @@\n\
         +port=80\n+host=a\n+mode=slow\n"
    );
    // the same version on both sides: nothing on stdout, a note on stderr
    let o = run(
        &["diff", &img, "/etc/app.conf", "--from", "2", "--to", "3"],
        t.path(),
    );
    assert!(o.status.success());
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("are the same"), "{}", stderr(&o));
    // a removed binary: compared by size
    let o = run(
        &["diff", &img, "/bin/tool", "--from", "1", "--to", "2"],
        t.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // the helper's filler is text: every line removed
    let out = stdout(&o);
    let head = "--- /bin/tool (layer 0)\n+++ /bin/tool (layer 2, removed)\n@@ -1 +0,0 @@\n-";
    assert!(out.starts_with(head), "{}", &out[..out.len().min(200)]);
}

#[test]
fn diff_escapes_hostile_contents() {
    let t = tempfile::tempdir().unwrap();
    let img = write(t.path(), Some(ArchiveFormat::OciArchive), Compression::None);
    let o = run(&["diff", &img, "/etc/hostile\x1b[31m"], t.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains('\x1b'), "{out:?}");
    assert!(out.contains("+red\\x1b[2J\\xff"), "{out:?}");
    assert!(out.contains("/etc/hostile\\x1b[31m"), "{out:?}");
}

// ---- access points: what the explorer's viewer reads through ---------------------------------

/// The image at `path` loaded as the explorer loads it (recording access points), its tree,
/// and its layers opened for reading through the points.
fn with_points(path: &str) -> (Image, MergedTree, LayerFiles, Arc<SeekIndexes>) {
    let seek = SeekIndexes::new();
    let opts = LoadOptions {
        seek: Some(seek.clone()),
        ..LoadOptions::default()
    };
    let image = load_path(Path::new(path), &opts).expect("load");
    let tree = MergedTree::build(&image);
    let layers = LayerFiles::open(Path::new(path), &Selection::default())
        .expect("open")
        .with_seek(seek.clone());
    (image, tree, layers, seek)
}

fn read_at(files: Files<'_>, path: &str, layer: usize) -> Vec<u8> {
    let (node, v) = files.visible(path, layer).expect(path);
    let mut out = Vec::new();
    files
        .read(node, &v)
        .expect(path)
        .read_to_end(&mut out)
        .expect(path);
    out
}

#[test]
fn files_read_through_access_points_are_the_bytes_the_helper_wrote_in_every_layout() {
    for (format, c) in cases() {
        let d = tempfile::tempdir().unwrap();
        let path = write(d.path(), format, c);
        let (image, tree, layers, _seek) = with_points(&path);
        let files = Files {
            image: &image,
            tree: &tree,
            layers: &layers,
        };
        let case = format!("{format:?} {c:?}");
        assert_eq!(read_at(files, "/etc/app.conf", 0), CONF_V1, "{case}");
        assert_eq!(read_at(files, "/etc/app.conf", 3), CONF_V2, "{case}");
        assert_eq!(read_at(files, "/etc/hard.conf", 3), CONF_V2, "{case}");
        assert_eq!(read_at(files, "/bin/tool", 1), filler(70_000, 7), "{case}");
        assert_eq!(read_at(files, "/tmp/x", 3), b"x", "{case}");
    }
}

/// A layer of 15 MB (gzip: a deflate block, zstd: a frame per MiB, as the helper writes them):
/// a file far past the first access point is decoded from the nearest one, not from the
/// layer's start; the points cost at most 1 % of the compressed bytes.
fn a_file_deep_in_a_layer_is_decoded_from_the_nearest_access_point(c: Compression) {
    let want: Vec<u8> = (1..=1_000_000u64)
        .flat_map(|k| numbered_line(k * 7919 % 1_000_003).into_bytes())
        .collect();
    let big = want.len();
    let spec = ImageSpec::new("deep:1").layer(
        LayerSpec::new("ADD rootfs /")
            .file("data/big.log", &want)
            .file("etc/after.conf", CONF_V2),
    );
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("image.tar");
    spec.write(&p, ArchiveFormat::OciArchive, c).unwrap();
    let path = p.display().to_string();
    let (image, tree, layers, seek) = with_points(&path);
    // the load decoded the layer once and recorded a point every SPAN bytes
    assert!(seek.points() >= 3, "{} points", seek.points());
    let (held, _) = seek.memory();
    let compressed = image.layers[0].compressed_bytes;
    assert!(
        held as u64 * 100 <= compressed,
        "{held} bytes for {compressed}"
    );
    let files = Files {
        image: &image,
        tree: &tree,
        layers: &layers,
    };
    let before = seek.decoded();
    assert_eq!(read_at(files, "/etc/after.conf", 0), CONF_V2);
    let decoded = seek.decoded() - before;
    // points are SPAN apart, each at the first block boundary past that (the helper's blocks
    // are COMPRESS_CHUNK long): never further from a file than that
    let most = SPAN + COMPRESS_CHUNK as u64;
    assert!(
        decoded <= most,
        "{decoded} bytes decoded to reach the last file"
    );
    // a jump into the middle of the big file: decoded from the point before it, and a jump
    // back, from the one before that
    let (node, v) = files.visible("/data/big.log", 0).unwrap();
    let mut r = files.read(node, &v).unwrap();
    for at in [big as u64 - 1000, 5 << 20, 100] {
        let before = seek.decoded();
        assert!(r.seek_to(at).unwrap());
        let mut buf = vec![0u8; 1000];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(buf[..], want[at as usize..at as usize + 1000], "at {at}");
        let decoded = seek.decoded() - before;
        assert!(decoded <= most + 1000, "{decoded} decoded to reach {at}");
    }
    // gzip only: a damaged zstd block can decode to wrong bytes without an error (the
    // helper's frames carry no checksum), so damage there proves nothing
    if c == Compression::Gzip {
        extract_seeks_to_the_entry(&p, &image, &layers);
    }
}

/// The explorer's extract (`Ctrl-E`) of the layer's last file: the effect names its entry,
/// so the read starts at the nearest access point. Proved by damaging the layer's first
/// compressed bytes after the load: a read from the layer's start would fail on them.
#[cfg(feature = "tui")]
fn extract_seeks_to_the_entry(archive: &Path, image: &Image, layers: &LayerFiles) {
    let blob = format!(
        "blobs/sha256/{}",
        &image.layers[0].digest["sha256:".len()..]
    );
    let mut tar = tar::Archive::new(std::fs::File::open(archive).unwrap());
    let at = tar
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.path().unwrap().to_string_lossy() == blob)
        .map(|e| e.raw_file_position())
        .unwrap();
    let mut bytes = std::fs::read(archive).unwrap();
    // past the gzip header or zstd frame header, inside the first block
    for b in &mut bytes[at as usize + 200..at as usize + 2200] {
        *b ^= 0x5a;
    }
    std::fs::write(archive, &bytes).unwrap();
    let node = image.paths.lookup("/etc/after.conf").unwrap();
    let entry = image.layers[0].entries.iter().position(|e| e.node == node);
    let extract = |entry| {
        let e = bathyscaphe::tui::state::Effect::Extract {
            layer: 0,
            path: "/etc/after.conf".into(),
            name: "after.conf".into(),
            size: CONF_V2.len() as u64,
            entry,
        };
        let out = tempfile::tempdir().unwrap();
        let activity = bathyscaphe::source::refetch::Activity::new();
        let msg = bathyscaphe::tui::extract_file(layers, &e, out.path(), &activity);
        (std::fs::read(out.path().join("after.conf")).ok(), msg)
    };
    let (got, msg) = extract(entry);
    assert_eq!(got.as_deref(), Some(CONF_V2), "{msg}");
    // the same without the entry walks the layer from its start, and meets the damage
    let (got, msg) = extract(None);
    assert!(got.is_none(), "read past the damaged start: {msg}");
}

#[cfg(not(feature = "tui"))]
fn extract_seeks_to_the_entry(_: &Path, _: &Image, _: &LayerFiles) {}

#[test]
fn a_file_deep_in_a_gzip_layer_is_decoded_from_the_nearest_access_point() {
    a_file_deep_in_a_layer_is_decoded_from_the_nearest_access_point(Compression::Gzip);
}

#[test]
fn a_file_deep_in_a_multi_frame_zstd_layer_is_decoded_from_the_nearest_frame() {
    a_file_deep_in_a_layer_is_decoded_from_the_nearest_access_point(Compression::Zstd);
}
