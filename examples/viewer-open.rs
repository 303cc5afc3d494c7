//! How long the explorer's viewer takes to open a file once the image is loaded: for the
//! largest layer of IMAGE, its first and last regular files (the last is the worst case for
//! a compressed layer without access points). Opening is what `Enter` does: resolve the
//! version, open the entry, read the first window. The load records access points, as the
//! explorer's does; `--no-points` loads as `--json` does and reads from the layer's start.
//! Also prints the load's CPU time and the points' memory. Run by `benches/viewer.sh`.
//!
//!   cargo run --release --example viewer-open -- IMAGE [--no-points]

use bathyscaphe::analysis::capture::why_capture;
use bathyscaphe::contents::Files;
use bathyscaphe::image::EntryKind;
use bathyscaphe::source::access::LayerFiles;
use bathyscaphe::source::seek_index::SeekIndexes;
use bathyscaphe::source::{load_path, LoadOptions, Selection};
use bathyscaphe::tree::MergedTree;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

/// What the viewer reads to show its first screen: a window and the read-ahead.
const FIRST_WINDOW: u64 = 128 << 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args()
        .nth(1)
        .ok_or("usage: viewer-open IMAGE [--no-points]")?;
    let points = std::env::args().nth(2).as_deref() != Some("--no-points");
    let path = Path::new(&arg);
    let t = Instant::now();
    let cpu = cpu_seconds();
    let seek = SeekIndexes::new();
    let opts = LoadOptions {
        capture: Some(why_capture()),
        seek: points.then(|| seek.clone()),
        ..LoadOptions::default()
    };
    let image = load_path(path, &opts)?;
    let load_cpu = cpu_seconds() - cpu;
    let tree = MergedTree::build(&image);
    let mut layers = LayerFiles::open(path, &Selection::default())?;
    if points {
        layers = layers.with_seek(seek.clone());
    }
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
        "{arg}: loaded in {:.2} s ({load_cpu:.2} s CPU, access points {}); layer {li}: {} MB, \
         {} MB compressed, {} files",
        load.as_secs_f64(),
        if points { "recorded" } else { "not recorded" },
        layer.size_bytes / 1_000_000,
        layer.compressed_bytes / 1_000_000,
        regular.len()
    );
    let (point_bytes, offset_bytes) = seek.memory();
    let compressed: u64 = image.layers.iter().map(|l| l.compressed_bytes).sum();
    println!(
        "  access points: {point_bytes} bytes ({:.3} % of the {compressed} compressed bytes); \
         entry offsets: {offset_bytes} bytes",
        point_bytes as f64 * 100.0 / compressed.max(1) as f64
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

/// User and system CPU time of this process so far, in seconds (Linux's /proc).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // fields after the command's closing parenthesis: utime and stime are the 12th and 13th
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
