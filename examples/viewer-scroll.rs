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
    // the last file, and the last larger than what the viewer holds (scrolling back in it
    // leaves the window)
    let files_of = |min: u64| {
        layer
            .entries
            .iter()
            .rfind(|e| e.kind == EntryKind::File && e.size >= min)
            .map(|e| (e.node, e.size))
    };
    let picks = [files_of(0), files_of(4 << 20)];
    let mut ex = Explorer::new(image, analysis);
    ex.layer_files = Some(Ok(layers));
    let mut app = App::explorer(ex, Rect::new(0, 0, 120, 40));
    println!("{arg}: layer {li} ({} MB)", layer_mb(&app, li));
    for (node, size) in picks.into_iter().flatten() {
        let ex = app.explorer_mut().ok_or("no explorer")?;
        let reread = read_again(path, ex, &seek, node, li)?;
        ex.viewer = None;
        ex.select_layer(li);
        ex.focus = Focus::Tree;
        let cx = Ctx {
            image: &ex.image,
            merged: &ex.analysis.merged,
        };
        ex.tree.reveal(cx, node);
        let name = ex.image.paths.path(node);
        let first = timed(&mut app, KeyCode::Enter);
        let end = timed(&mut app, KeyCode::End);
        let home = timed(&mut app, KeyCode::Home);
        timed(&mut app, KeyCode::Esc);
        let again = timed(&mut app, KeyCode::Enter);
        println!(
            "  {name} ({size} bytes): first screen {}, End {}, Home (back to the top) {}, \
             closed and opened again {}; the file read again from its layer (what going back \
             out of the window, or opening again, cost before): {}",
            ms(first),
            ms(end),
            ms(home),
            ms(again),
            ms(reread)
        );
    }
    Ok(())
}

/// Press `c` and wait for the viewer's worker, if it started one.
fn timed(app: &mut App, c: KeyCode) -> Duration {
    let t = Instant::now();
    handle_event(app, key(c));
    let waiting = |a: &App| {
        a.explorer_ref()
            .and_then(|e| e.viewer.as_ref())
            .is_some_and(|v| v.waiting())
    };
    while waiting(app) {
        std::thread::sleep(Duration::from_millis(2));
        handle_event(app, AppEvent::Tick);
    }
    t.elapsed()
}

/// The old way back to the top: the file read again from its layer (a reader of its own,
/// which keeps nothing), up to its first window.
fn read_again(
    path: &Path,
    ex: &Explorer,
    seek: &Arc<SeekIndexes>,
    node: bathyscaphe::paths::NodeId,
    li: usize,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let fresh = LayerFiles::open(path, &Selection::default())?.with_seek(seek.clone());
    let t = Instant::now();
    let files = Files {
        image: &ex.image,
        tree: &ex.analysis.merged,
        layers: &fresh,
    };
    let (n, v) = files.visible(&ex.image.paths.path(node), li)?;
    let mut buf = Vec::new();
    files.read(n, &v)?.take(128 << 10).read_to_end(&mut buf)?;
    Ok(t.elapsed())
}

fn layer_mb(app: &App, li: usize) -> u64 {
    app.explorer_ref()
        .and_then(|e| e.image.layers.get(li))
        .map_or(0, |l| l.size_bytes / 1_000_000)
}
