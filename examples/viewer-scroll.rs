//! The explorer's viewer on the last regular file of IMAGE's largest layer, driven by keys as
//! in the explorer: how long until its first screen (the worker's read, and, with no access
//! point near the file, keeping its bytes on disk), then `End`, then `Home` (scrolling back
//! to the top: a seek in the kept copy, where the viewer used to decode the layer from its
//! start again on the UI thread). Also times that old way, a fresh read of the file from the
//! layer to its first window, for comparison. The load records access points, as the
//! explorer's does.
//!
//!   cargo run --release --example viewer-scroll -- IMAGE

use bathyscaphe::analysis::capture::why_capture;
use bathyscaphe::analysis::Analysis;
use bathyscaphe::contents::Files;
use bathyscaphe::image::EntryKind;
use bathyscaphe::source::access::LayerFiles;
use bathyscaphe::source::seek_index::SeekIndexes;
use bathyscaphe::source::{load_path, LoadOptions, Selection};
use bathyscaphe::tui::state::{handle_event, App, AppEvent, Explorer, Focus};
use bathyscaphe::tui::treeview::Ctx;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn key(c: KeyCode) -> AppEvent {
    AppEvent::Term(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args()
        .nth(1)
        .ok_or("usage: viewer-scroll IMAGE")?;
    let path = Path::new(&arg);
    let seek = SeekIndexes::new();
    let opts = LoadOptions {
        capture: Some(why_capture()),
        seek: Some(seek.clone()),
        ..LoadOptions::default()
    };
    let image = load_path(path, &opts)?;
    let analysis = Analysis::run(&image);
    let layers = Arc::new(LayerFiles::open(path, &Selection::default())?.with_seek(seek.clone()));
    let (li, layer) = image
        .layers
        .iter()
        .enumerate()
        .max_by_key(|(_, l)| l.size_bytes)
        .ok_or("no layers")?;
    let last = layer
        .entries
        .iter()
        .rfind(|e| e.kind == EntryKind::File)
        .ok_or("no regular file")?;
    let (node, size) = (last.node, last.size);
    let name = image.paths.path(node);
    // the old way back to the top: the file read again from its layer (a reader of its own,
    // which keeps nothing), up to its first window
    let fresh = LayerFiles::open(path, &Selection::default())?.with_seek(seek.clone());
    let t = Instant::now();
    {
        let files = Files {
            image: &image,
            tree: &analysis.merged,
            layers: &fresh,
        };
        let (n, v) = files.visible(&name, li)?;
        let mut buf = Vec::new();
        files.read(n, &v)?.take(128 << 10).read_to_end(&mut buf)?;
    }
    let reread = t.elapsed();
    drop(fresh);

    let mut ex = Explorer::new(image, analysis);
    ex.layer_files = Some(Ok(layers));
    ex.select_layer(li);
    ex.focus = Focus::Tree;
    ex.tree.reveal(
        Ctx {
            image: &ex.image,
            merged: &ex.analysis.merged,
        },
        node,
    );
    let mut app = App::explorer(ex, Rect::new(0, 0, 120, 40));
    let t = Instant::now();
    handle_event(&mut app, key(KeyCode::Enter));
    let waiting = |a: &App| {
        a.explorer_ref()
            .and_then(|e| e.viewer.as_ref())
            .is_some_and(|v| v.waiting())
    };
    while waiting(&app) {
        std::thread::sleep(Duration::from_millis(2));
        handle_event(&mut app, AppEvent::Tick);
    }
    let first = t.elapsed();
    let t = Instant::now();
    handle_event(&mut app, key(KeyCode::End));
    let end = t.elapsed();
    let t = Instant::now();
    handle_event(&mut app, key(KeyCode::Home));
    let home = t.elapsed();
    println!(
        "{arg}: layer {li} ({} MB), last file {name} ({size} bytes)\n  first screen: {}\n  \
         End: {}\n  Home (back to the top): {}\n  the file read again from its layer (what \
         Home cost before): {}",
        layer_mb(&app, li),
        ms(first),
        ms(end),
        ms(home),
        ms(reread)
    );
    Ok(())
}

fn layer_mb(app: &App, li: usize) -> u64 {
    app.explorer_ref()
        .and_then(|e| e.image.layers.get(li))
        .map_or(0, |l| l.size_bytes / 1_000_000)
}
