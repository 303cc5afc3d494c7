//! How long the explorer's viewer takes to open a file once the image is loaded: for the
//! largest layer of IMAGE, its first and last regular files (the last is the worst case for
//! a compressed layer: everything before it is inflated). Opening is what `Enter` does:
//! resolve the version, open the entry, read the first window. Run by `benches/viewer.sh`.
//!
//!   cargo run --release --example viewer-open -- IMAGE

use bathyscaphe::analysis::capture::why_capture;
use bathyscaphe::contents::Files;
use bathyscaphe::image::EntryKind;
use bathyscaphe::source::access::LayerFiles;
use bathyscaphe::source::{load_path, LoadOptions, Selection};
use bathyscaphe::tree::MergedTree;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

/// What the viewer reads to show its first screen: a window and the read-ahead.
const FIRST_WINDOW: u64 = 128 << 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args().nth(1).ok_or("usage: viewer-open IMAGE")?;
    let path = Path::new(&arg);
    let t = Instant::now();
    let opts = LoadOptions {
        capture: Some(why_capture()),
        ..LoadOptions::default()
    };
    let image = load_path(path, &opts)?;
    let tree = MergedTree::build(&image);
    let layers = LayerFiles::open(path, &Selection::default())?;
    let load = t.elapsed();
    let files = Files {
        image: &image,
        tree: &tree,
        layers: &layers,
    };
    let (li, layer) = image
        .layers
        .iter()
        .enumerate()
        .max_by_key(|(_, l)| l.size_bytes)
        .ok_or("no layers")?;
    let regular: Vec<_> = layer
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .collect();
    println!(
        "{arg}: loaded in {:.2} s; layer {li}: {} MB, {} MB compressed, {} files",
        load.as_secs_f64(),
        layer.size_bytes / 1_000_000,
        layer.compressed_bytes / 1_000_000,
        regular.len()
    );
    for (which, e) in [("first", regular.first()), ("last", regular.last())] {
        let Some(e) = e else { continue };
        let p = image.paths.path(e.node);
        let t = Instant::now();
        let (node, v) = files.visible(&p, li)?;
        let mut r = files.read(node, &v)?;
        let mut buf = Vec::new();
        (&mut r).take(FIRST_WINDOW).read_to_end(&mut buf)?;
        println!(
            "  open {which} file ({p}, {} bytes): {:.1} ms",
            e.size,
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    Ok(())
}
