//! How long the explorer takes per frame on a 1,000,000-entry image (ignored by default: it
//! builds a ~600 MB archive). Run with
//! `cargo test --release --test tui_perf -- --ignored --nocapture`; prints ms per frame.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

use bathyscaphe::analysis::Analysis;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tui::keys::Action;
use bathyscaphe::tui::state::{update, App, Explorer};
use bathyscaphe::tui::{self};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::time::Instant;

const DIRS: usize = 1000;
const FILES: usize = 1000;

fn spec() -> ImageSpec {
    let mut base = LayerSpec::new("ADD big /");
    for d in 0..DIRS {
        base = base.dir(&format!("d{d:04}"));
        for f in 0..FILES {
            // most files empty (the archive stays small); every tenth carries bytes
            let content: &[u8] = if f % 10 == 0 {
                b"0123456789abcdef"
            } else {
                b""
            };
            base = base.file(&format!("d{d:04}/f{f:04}"), content);
        }
    }
    let mut upd = LayerSpec::new("RUN update");
    for d in 0..10 {
        for f in 0..FILES {
            upd = upd.file(&format!("d{d:04}/f{f:04}"), b"changed");
        }
    }
    upd = upd.whiteout("d0500");
    ImageSpec::new("big:1")
        .layer(base)
        .layer(upd)
        .layer(LayerSpec::new("RUN touch").file("new", b"x"))
}

fn time<F: FnMut()>(label: &str, reps: usize, mut f: F) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    let ms = t.elapsed().as_secs_f64() * 1000.0 / reps as f64;
    println!("{label:<58} {ms:>8.3} ms");
    ms
}

#[test]
#[ignore]
fn one_million_entries_stay_under_16ms_per_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.tar");
    let t = Instant::now();
    spec()
        .write(&path, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    println!("write archive: {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let image = load_path(&path, &LoadOptions::default()).unwrap();
    let analysis = Analysis::run(&image);
    println!(
        "load + analyse ({} entries): {:.1} s",
        image.entry_count(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let ex = Explorer::new(image, analysis);
    println!(
        "explorer state (first layer's sizes): {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let (w, h) = (160u16, 50u16);
    let mut app = App::explorer(ex, Rect::new(0, 0, w, h));
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut frame = |app: &mut App, a: Action| {
        update(app, a);
        term.draw(|f| tui::draw(f, app)).unwrap();
    };
    let mut worst: f64 = 0.0;
    println!("--- per frame (update + draw), {w}x{h} ---");
    worst = worst.max(
        time("layers: switch layer down/up (0↔1)", 20, || {
            frame(&mut app, Action::Down);
            frame(&mut app, Action::Up);
        }) / 2.0,
    );
    worst = worst.max(
        time("layers: switch 0 → 2 → 0 (End/Home)", 10, || {
            frame(&mut app, Action::End);
            frame(&mut app, Action::Home);
        }) / 2.0,
    );
    frame(&mut app, Action::NextPane);
    worst = worst.max(time("tree: cursor down", 500, || {
        frame(&mut app, Action::Down)
    }));
    worst = worst.max(time("tree: cursor up", 200, || frame(&mut app, Action::Up)));
    worst = worst.max(time("tree: page down", 100, || {
        frame(&mut app, Action::PageDown)
    }));
    worst = worst.max(
        time("tree: end / home", 10, || {
            frame(&mut app, Action::End);
            frame(&mut app, Action::Home);
        }) / 2.0,
    );
    worst = worst.max(
        time("tree: collapse all / expand all (ctrl+space)", 5, || {
            frame(&mut app, Action::ToggleCollapseAll);
            frame(&mut app, Action::ToggleCollapseAll);
        }) / 2.0,
    );
    worst = worst.max(
        time("tree: size sort on / off", 5, || {
            frame(&mut app, Action::SortBySize);
            frame(&mut app, Action::SortBySize);
        }) / 2.0,
    );
    println!("--- rebuilds (not per cursor move) ---");
    time(
        "layers: ctrl+l changes only, at layer 1 (10k changes + a deleted dir)",
        1,
        || {
            frame(&mut app, Action::PrevPane);
            frame(&mut app, Action::Down);
            frame(&mut app, Action::LayerChangesOnly);
        },
    );
    frame(&mut app, Action::NextPane);
    time("tree (changes only): cursor down", 200, || {
        frame(&mut app, Action::Down)
    });
    time("hide unmodified (ctrl+u) at layer 1", 1, || {
        frame(
            &mut app,
            Action::ToggleHide(bathyscaphe::tree::ChangeMark::Unchanged),
        )
    });
    frame(
        &mut app,
        Action::ToggleHide(bathyscaphe::tree::ChangeMark::Unchanged),
    );
    // each keystroke timed on its own (its prefix typed untimed first), median of 5
    let mut key_ms = |app: &mut App, prefix: &str, key: char, label: &str| -> f64 {
        let mut v = Vec::new();
        for _ in 0..5 {
            frame(app, Action::FilterCancel);
            frame(app, Action::StartFilter);
            for c in prefix.chars() {
                frame(app, Action::FilterInput(c));
            }
            let t = Instant::now();
            frame(app, Action::FilterInput(key));
            v.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        v.sort_by(|a, b| a.total_cmp(b));
        println!("{label:<58} {:>8.3} ms", v[2]);
        v[2]
    };
    let mut filter_worst: f64 = 0.0;
    for (prefix, key, label) in [
        ("", 'f', "filter: `f` over 1M paths (1M match)"),
        ("f", '0', "filter: `f0` narrows the 1M matches (1M match)"),
        ("f0", '0', "filter: `f00` narrows (100k match)"),
        ("f00", '0', "filter: `f000` narrows (10k match)"),
        ("", '/', "filter: `/` over 1M paths (1M match)"),
        ("/", 'f', "filter: `/f` (1M match: scanned again)"),
        ("/f", '0', "filter: `/f0` (1M match: scanned again)"),
        ("/f0", '0', "filter: `/f00` (100k match: scanned again)"),
        ("d00", '1', "filter: `d001` narrows (10k match)"),
    ] {
        filter_worst = filter_worst.max(key_ms(&mut app, prefix, key, label));
    }
    println!("worst filter keystroke: {filter_worst:.3} ms");
    frame(&mut app, Action::FilterCancel);
    frame(&mut app, Action::StartFilter);
    for c in "f00".chars() {
        frame(&mut app, Action::FilterInput(c));
    }
    time("filter: cursor down with filter on", 100, || {
        frame(&mut app, Action::Down)
    });
    println!("worst per-frame cursor/layer figure: {worst:.3} ms");
    assert!(
        worst < 16.0,
        "a cursor move or layer switch took {worst:.3} ms per frame"
    );
}
