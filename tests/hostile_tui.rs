//! Hostile images in the explorer (issue 11): names from the image shown escaped in the file
//! tree, and a file extracted with `Ctrl-E` streamed to disk in bounded memory.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::analysis::Analysis;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{
    compress, tar_members, zstd_zeros, ArchiveFormat, Compression, ImageSpec, LayerSpec,
};
use bathyscaphe::tui::{self, state::App, state::Explorer};
use common::*;
use ratatui::layout::Rect;

// a name that sets the terminal's title (ESC ] 0 ; … BEL) and breaks the row (\n): before, the
// row showed what was left of it (`t]0;pwnedxy`), a name that is not the file's; escaped, the
// row shows the name exactly and no control character reaches the terminal
#[test]
fn the_file_tree_shows_control_characters_escaped() {
    let t = tmp();
    let name = "t\x1b]0;pwned\x07x\ny";
    let spec = ImageSpec::new("hostile:tree").layer(
        LayerSpec::new("ADD app /app")
            .dir("app")
            .file(&format!("app/{name}"), b"12345")
            .symlink("app/link", "\x1b[2Jz"),
    );
    let p = t.path().join("tree.tar");
    spec.write(&p, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let image = load_path(&p, &LoadOptions::default()).unwrap();
    let analysis = Analysis::run(&image);
    let app = App::explorer(Explorer::new(image, analysis), Rect::new(0, 0, 80, 24));
    let text = common::term::text(&common::term::screen(&app, 80, 24));
    for c in ['\x1b', '\x07', '\r'] {
        assert!(!text.contains(c), "raw {c:?} on screen:\n{text}");
    }
    assert!(text.contains("t\\x1b]0;pwned\\x07x\\ny"), "{text}");
    assert!(text.contains("link → \\x1b[2Jz"), "{text}");
    // the row is one line of the screen: nothing of the name spills onto the next
    let row = text.lines().find(|l| l.contains("pwned")).unwrap();
    assert!(row.contains("\\ny"), "{row}");
}

/// The file extracted by the memory test: 2 GiB of zeros.
const BIG: u64 = 2 << 30;
/// Set in the child process the memory test runs the extraction in.
const CHILD: &str = "BATHY_TEST_EXTRACT_CHILD";

/// A docker archive whose one layer is a zstd stream holding a `BIG`-byte file `big`: its
/// header, then the zeros written by hand as RLE blocks, so the archive is about 64 KB and
/// the 2 GiB exist only while a reader inflates them.
fn big_file_archive(path: &std::path::Path) {
    let mut ms = ImageSpec::new("hostile:big")
        .layer(LayerSpec::new("ADD big /").file("big", b"placeholder"))
        .members(ArchiveFormat::DockerArchive, Compression::None);
    let mut h = tar::Header::new_gnu();
    h.set_path("big").unwrap();
    h.set_size(BIG);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    // the zeros go on past the file: its padding and the tar's two end blocks are zeros too
    let mut blob = compress(h.as_bytes(), Compression::Zstd);
    blob.extend_from_slice(&zstd_zeros(BIG + 1024));
    let layer = ms
        .iter_mut()
        .find(|m| m.name.ends_with("/layer.tar"))
        .unwrap();
    layer.data = blob;
    std::fs::write(path, tar_members(&ms)).unwrap();
}

/// The peak resident memory of this process, from /proc (Linux), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

// item 7: the extract read the whole file into a Vec (a 2 GB file took the explorer to 2.1 GB).
// The extraction runs in a child process (this test, run again) so that the peak memory
// measured is the extraction's alone, not that of other tests running beside it.
#[test]
fn extract_streams_a_multi_gb_file_in_bounded_memory() {
    if let Ok(dir) = std::env::var(CHILD) {
        let dir = std::path::Path::new(&dir);
        let reader = bathyscaphe::source::access::LayerFiles::open(
            &dir.join("big.tar"),
            &Default::default(),
        )
        .and_then(|f| f.entry(0, "/big"))
        .unwrap();
        tui::extract_to(dir, "big", reader).unwrap();
        println!("\npeak-rss={}", peak_rss());
        return;
    }
    let t = tmp();
    big_file_archive(&t.path().join("big.tar"));
    assert!(std::fs::metadata(t.path().join("big.tar")).unwrap().len() < 200_000);
    let o = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "extract_streams_a_multi_gb_file_in_bounded_memory",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, t.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let peak: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss="))
        .unwrap_or_else(|| panic!("no peak in {out}"))
        .parse()
        .unwrap();
    // the whole file on disk, its bytes all zeros at both ends
    let big = t.path().join("big");
    assert_eq!(std::fs::metadata(&big).unwrap().len(), BIG);
    let mut f = std::fs::File::open(&big).unwrap();
    let mut buf = vec![1u8; 1 << 16];
    std::io::Read::read_exact(&mut f, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
    std::io::Seek::seek(&mut f, std::io::SeekFrom::End(-(1 << 16))).unwrap();
    std::io::Read::read_exact(&mut f, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
    // a test process, its index and buffers: tens of MB; the file itself would be 2 GiB
    assert!(peak < 256 << 20, "extracting 2 GiB peaked at {peak} bytes");
}
