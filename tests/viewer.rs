//! The explorer's file viewer without a terminal: keys in, state out (search, versions,
//! diff), TestBackend snapshots of text, binary and diff at 80x24 and 160x45, hostile bytes,
//! and a file far larger than the viewer may hold, generated while written and paged lazily.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

mod common;
use bathyscaphe::analysis::capture::why_capture;
use bathyscaphe::analysis::Analysis;
use bathyscaphe::source::access::{LayerFiles, Opener};
use bathyscaphe::source::archive::MemberIndex;
use bathyscaphe::source::refetch::Activity;
use bathyscaphe::source::{load_path, LoadOptions, Selection};
use bathyscaphe::testkit::{
    fake_elf, numbered_line, write_numbered_lines_layout, ArchiveFormat, Compression, ImageSpec,
    LayerSpec, NUMBERED_LINE_LEN,
};
use bathyscaphe::tui::keys::Scope;
use bathyscaphe::tui::state::{handle_event, App, AppEvent, Explorer};
use bathyscaphe::tui::treeview::Ctx;
use bathyscaphe::tui::viewer::{Body, Page, Viewer, MAX_ROW, READ_AHEAD};

use common::term::{screen, text};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use std::path::Path;
use std::sync::Arc;

/// The config's three versions; the third is long enough to page.
const V1: &str = "port=80\nhost=a\n";
const V2: &str = "port=8080\nhost=a\n";

fn v3() -> String {
    let mut s = String::from("# app config\nport=8080\nhost=b\n");
    for i in 1..=60 {
        s.push_str(&format!("option{i}=value {i}\n"));
    }
    s.push_str("port_admin=9090\n");
    s
}

const HOSTILE: &[u8] = b"title\x1b]0;pwned\x07 red\x1b[31mRED\x1b[0m\r\nbad \xff\xfe utf8\n";

fn elf() -> Vec<u8> {
    fake_elf(
        Some("/lib64/ld-linux-x86-64.so.2"),
        &["libc.so.6", "libz.so.1"],
        None,
        600,
    )
}

/// Layer 0 writes the config, a program and a hostile file; 1 and 2 rewrite the config; 3
/// removes it.
fn spec() -> ImageSpec {
    ImageSpec::new("viewer:1")
        .layer(
            LayerSpec::new("ADD rootfs /")
                .file("etc/app.conf", V1.as_bytes())
                .file_mode("usr/bin/tool", &elf(), 0o755)
                .file("etc/evil\x1b[2Jname", HOSTILE),
        )
        .layer(LayerSpec::new("RUN sed -i s/80/8080/").file("etc/app.conf", V2.as_bytes()))
        .layer(LayerSpec::new("COPY app.conf /etc/").file("etc/app.conf", v3().as_bytes()))
        .layer(LayerSpec::new("RUN rm /etc/app.conf").whiteout("etc/app.conf"))
}

fn loaded(path: &Path) -> Explorer {
    let opts = LoadOptions {
        capture: Some(why_capture()),
        ..LoadOptions::default()
    };
    let image = load_path(path, &opts).unwrap();
    let analysis = Analysis::run(&image);
    let mut ex = Explorer::new(image, analysis);
    let files = LayerFiles::open(path, &Selection::default()).unwrap();
    ex.layer_files = Some(Ok(Arc::new(files)));
    ex
}

/// The explorer at `w`x`h` on the fixture written as `c`, the layer `layer` selected, the tree
/// focused with its cursor on `path`.
fn app_at(dir: &Path, c: Compression, layer: usize, path: &str, w: u16, h: u16) -> App {
    let p = dir.join("image.tar");
    spec().write(&p, ArchiveFormat::OciArchive, c).unwrap();
    let mut a = App::explorer(loaded(&p), Rect::new(0, 0, w, h));
    cursor_to(&mut a, layer, path);
    a
}

fn cursor_to(a: &mut App, layer: usize, path: &str) {
    let e = a.explorer_mut().unwrap();
    e.select_layer(layer);
    e.focus = bathyscaphe::tui::state::Focus::Tree;
    let node = e.image.paths.lookup(path).unwrap();
    let cx = Ctx {
        image: &e.image,
        merged: &e.analysis.merged,
    };
    e.tree.reveal(cx, node);
    assert_eq!(e.tree.cursor, node, "{path} shown at layer {layer}");
}

fn key(c: KeyCode) -> AppEvent {
    AppEvent::Term(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}
fn ch(c: char) -> AppEvent {
    key(KeyCode::Char(c))
}
fn press(a: &mut App, evs: Vec<AppEvent>) {
    for e in evs {
        handle_event(a, e);
    }
}
fn typed(a: &mut App, s: &str) {
    for c in s.chars() {
        handle_event(a, ch(c));
    }
}
fn viewer(a: &App) -> &Viewer {
    a.explorer_ref().unwrap().viewer.as_deref().unwrap()
}
fn page(a: &App) -> &Page {
    match &viewer(a).body {
        Body::Page(p) => p,
        _ => panic!("not a page"),
    }
}

// ---- keys: events in, state out ------------------------------------------------------------

#[test]
fn enter_opens_the_version_at_the_selected_layer_and_q_closes_it() {
    let d = tempfile::tempdir().unwrap();
    let mut a = app_at(d.path(), Compression::None, 1, "/etc/app.conf", 100, 30);
    press(&mut a, vec![key(KeyCode::Enter)]);
    let v = viewer(&a);
    assert_eq!(
        v.versions.iter().map(|v| v.layer).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(v.version().unwrap().layer, 1);
    assert_eq!(a.scope(), Scope::Viewer);
    let s = text(&screen(&a, 100, 30));
    assert!(s.contains("   1 port=8080"), "{s}");
    assert!(s.contains("   2 host=a"), "{s}");
    assert!(s.contains("layer 1 (version 2 of 4)"), "{s}");
    // q closes the viewer, it does not quit
    press(&mut a, vec![ch('q')]);
    assert!(a.explorer_ref().unwrap().viewer.is_none());
    assert!(!a.quit);
    // v opens it too; Esc closes
    press(&mut a, vec![ch('v')]);
    assert!(a.explorer_ref().unwrap().viewer.is_some());
    press(&mut a, vec![key(KeyCode::Esc)]);
    assert!(a.explorer_ref().unwrap().viewer.is_none());
}

#[test]
fn enter_on_a_directory_is_still_dives_hide_modified() {
    let d = tempfile::tempdir().unwrap();
    let mut a = app_at(d.path(), Compression::None, 1, "/etc", 100, 30);
    press(&mut a, vec![key(KeyCode::Enter)]);
    let e = a.explorer_ref().unwrap();
    assert!(e.viewer.is_none());
    assert!(e.tree.hide[1], "modified hidden: {:?}", e.tree.hide);
}

#[test]
fn search_finds_forward_and_back_and_says_when_there_is_nothing() {
    let d = tempfile::tempdir().unwrap();
    let mut a = app_at(d.path(), Compression::Gzip, 2, "/etc/app.conf", 80, 24);
    press(&mut a, vec![key(KeyCode::Enter), ch('/')]);
    assert_eq!(a.scope(), Scope::ViewerSearch);
    typed(&mut a, "port");
    press(&mut a, vec![key(KeyCode::Enter)]);
    let t = v3();
    let first = t.find("port").unwrap() as u64;
    let last = t.rfind("port").unwrap() as u64;
    assert_eq!(viewer(&a).found, Some(first));
    // n: the next one, at line 64, brought to the top with its number
    press(&mut a, vec![ch('n')]);
    assert_eq!(viewer(&a).found, Some(last));
    let line_of_last = t[..last as usize].matches('\n').count() as u64 + 1;
    assert_eq!(line_of_last, 64);
    assert_eq!(page(&a).top, last);
    assert_eq!(page(&a).top_line, Some(line_of_last));
    // nothing after the last: a note, the position stays
    press(&mut a, vec![ch('n')]);
    assert_eq!(viewer(&a).found, Some(last));
    assert_eq!(a.status.as_deref(), Some("'port' not found"));
    // N: back to the first
    press(&mut a, vec![ch('N')]);
    assert_eq!(viewer(&a).found, Some(first));
    assert_eq!(page(&a).top_line, Some(2));
    // Esc while typing cancels the search, not the viewer
    press(&mut a, vec![ch('/'), ch('x'), key(KeyCode::Esc)]);
    assert_eq!(a.scope(), Scope::Viewer);
    assert_eq!(viewer(&a).pattern.as_deref(), Some("port"));
}

#[test]
fn brackets_step_through_every_version_and_d_diffs_with_the_one_before() {
    let d = tempfile::tempdir().unwrap();
    let mut a = app_at(d.path(), Compression::Zstd, 2, "/etc/app.conf", 100, 30);
    press(&mut a, vec![key(KeyCode::Enter)]);
    assert_eq!(viewer(&a).version().unwrap().layer, 2);
    press(&mut a, vec![ch('[')]);
    assert_eq!(viewer(&a).version().unwrap().layer, 1);
    assert_eq!(page(&a).size, V2.len() as u64);
    press(&mut a, vec![ch('[')]);
    assert_eq!(viewer(&a).version().unwrap().layer, 0);
    press(&mut a, vec![ch('[')]);
    assert_eq!(viewer(&a).at, 0);
    assert_eq!(a.status.as_deref(), Some("this is the first version"));
    // d: layer 0 had nothing before it
    press(&mut a, vec![ch(']'), ch('d')]);
    let Body::Diff(diff) = &viewer(&a).body else {
        panic!("no diff")
    };
    assert_eq!(diff.title, "layer 0 → layer 1");
    assert!(
        diff.lines.iter().any(|l| l == "-port=80"),
        "{:?}",
        diff.lines
    );
    assert!(diff.lines.iter().any(|l| l == "+port=8080"));
    // ] keeps the diff on: layer 1 → layer 2, then the removal
    press(&mut a, vec![ch(']')]);
    let Body::Diff(diff) = &viewer(&a).body else {
        panic!("no diff")
    };
    assert_eq!(diff.title, "layer 1 → layer 2");
    press(&mut a, vec![ch(']')]);
    let Body::Diff(diff) = &viewer(&a).body else {
        panic!("no diff")
    };
    assert_eq!(diff.title, "layer 2 → layer 3, removed");
    // d again: the removed version's contents, which is a message
    press(&mut a, vec![ch('d')]);
    let Body::Message(m) = &viewer(&a).body else {
        panic!("not a message")
    };
    assert!(m.contains("removed by layer 3"), "{m}");
    press(&mut a, vec![ch(']')]);
    assert_eq!(a.status.as_deref(), Some("this is the last version"));
}

#[test]
fn a_binary_shows_its_type_the_captured_elf_facts_and_a_hex_dump() {
    let d = tempfile::tempdir().unwrap();
    let mut a = app_at(d.path(), Compression::Gzip, 3, "/usr/bin/tool", 120, 30);
    press(&mut a, vec![key(KeyCode::Enter)]);
    let p = page(&a);
    assert!(p.binary);
    assert_eq!(
        p.kind,
        "ELF 64-bit LSB x86-64 · interp /lib64/ld-linux-x86-64.so.2 · needs libc.so.6, libz.so.1"
    );
    let s = text(&screen(&a, 120, 30));
    assert!(s.contains("00000000  7f 45 4c 46 02 01 01 00  "), "{s}");
    assert!(s.contains("|.ELF"), "{s}");
    // End: the last row holds the last bytes (600 bytes: rows of 16, the last at 0x250)
    press(&mut a, vec![key(KeyCode::End)]);
    let s = text(&screen(&a, 120, 30));
    assert!(s.contains("00000250  "), "{s}");
}

#[test]
fn hostile_names_and_contents_are_shown_escaped() {
    let d = tempfile::tempdir().unwrap();
    let mut a = app_at(
        d.path(),
        Compression::None,
        0,
        "/etc/evil\x1b[2Jname",
        100,
        30,
    );
    press(&mut a, vec![key(KeyCode::Enter)]);
    let s = text(&screen(&a, 100, 30));
    assert!(
        !s.contains('\x1b') && !s.contains('\x07') && !s.contains('\r'),
        "{s:?}"
    );
    assert!(s.contains("/etc/evil\\x1b[2Jname"), "{s}");
    assert!(
        s.contains("title\\x1b]0;pwned\\x07 red\\x1b[31mRED\\x1b[0m\\x0d"),
        "{s}"
    );
    assert!(s.contains("bad \\xff\\xfe utf8"), "{s}");
}

/// A line wider than the viewer is cut with a sign at the side where it goes on, and ← →
/// scroll to the rest.
#[test]
fn a_line_wider_than_the_viewer_says_it_is_cut() {
    let d = tempfile::tempdir().unwrap();
    let mut a = app_at(
        d.path(),
        Compression::None,
        0,
        "/etc/evil\x1b[2Jname",
        40,
        20,
    );
    press(&mut a, vec![key(KeyCode::Enter)]);
    let row = |a: &App| {
        text(&screen(a, 40, 20))
            .lines()
            .find(|l| l.contains(" 1 "))
            .unwrap_or_default()
            .trim_end_matches(['│', ' '])
            .to_string()
    };
    let first = row(&a);
    assert!(
        first.contains("title\\x1b") && first.ends_with('…'),
        "{first:?}"
    );
    press(&mut a, vec![key(KeyCode::Right), key(KeyCode::Right)]);
    let scrolled = row(&a);
    assert!(scrolled.contains(" 1 …"), "cut on the left: {scrolled:?}");
    assert!(!scrolled.contains("title"), "{scrolled:?}");
    // the end of the line (47 cells escaped) is on screen: no sign on the right
    assert!(
        scrolled.ends_with("\\x0d") && !scrolled.ends_with('…'),
        "{scrolled:?}"
    );
}

#[test]
fn layers_that_cannot_be_opened_say_why_in_the_viewer() {
    let d = tempfile::tempdir().unwrap();
    let mut a = app_at(d.path(), Compression::None, 1, "/etc/app.conf", 100, 30);
    // what the loader sends when the archive went away after the load
    let gone = d.path().join("gone.tar");
    let refusal = bathyscaphe::contents::layer_files(gone.to_str().unwrap(), &Default::default())
        .err()
        .unwrap();
    assert!(refusal.contains("gone.tar"), "{refusal}");
    a.explorer_mut().unwrap().layer_files = Some(Err(refusal.clone()));
    press(&mut a, vec![key(KeyCode::Enter)]);
    assert!(a.explorer_ref().unwrap().viewer.is_none());
    assert_eq!(a.status.as_deref(), Some(refusal.as_str()));
    // before the loader sent anything: it says so
    a.explorer_mut().unwrap().layer_files = None;
    press(&mut a, vec![ch('v')]);
    assert_eq!(
        a.status.as_deref(),
        Some("the image's layers are still being indexed for reading")
    );
}

// ---- snapshots -----------------------------------------------------------------------------

fn snapshot(name: &str, path: &str, layer: usize, keys: fn() -> Vec<AppEvent>) {
    let d = tempfile::tempdir().unwrap();
    for (w, h) in [(80u16, 24u16), (160, 45)] {
        let mut a = app_at(d.path(), Compression::None, layer, path, w, h);
        press(&mut a, vec![key(KeyCode::Enter)]);
        press(&mut a, keys());
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&a, w, h).backend());
    }
}

#[test]
fn snapshot_text() {
    snapshot("viewer_text", "/etc/app.conf", 2, || {
        vec![key(KeyCode::Down)]
    });
}

#[test]
fn snapshot_binary() {
    snapshot("viewer_binary", "/usr/bin/tool", 0, Vec::new);
}

#[test]
fn snapshot_diff() {
    snapshot("viewer_diff", "/etc/app.conf", 2, || vec![ch('d')]);
}

// ---- a file far larger than what the viewer holds ------------------------------------------

/// Open the one file of a generated layout and page through it; the bytes read and held are
/// checked against what was on screen.
fn open_big(c: Compression, lines: u64) -> (tempfile::TempDir, App) {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("layout");
    write_numbered_lines_layout(&dir, "data/big.log", lines, c).unwrap();
    let mut a = App::explorer(loaded(&dir), Rect::new(0, 0, 80, 24));
    cursor_to(&mut a, 0, "/data/big.log");
    press(&mut a, vec![key(KeyCode::Enter)]);
    (d, a)
}

/// At most the rows on screen and the read-ahead on both sides.
fn window_bound(a: &App) -> usize {
    viewer(a).view_h * (MAX_ROW + 1) + 2 * READ_AHEAD
}

#[test]
fn a_very_large_file_opens_and_pages_without_being_read_whole() {
    let lines = 1_500_000u64;
    let size = lines * NUMBERED_LINE_LEN;
    let (_d, mut a) = open_big(Compression::None, lines);
    assert_eq!(page(&a).size, size);
    let opened = page(&a).bytes_read;
    assert!(
        opened <= window_bound(&a) as u64,
        "{opened} bytes read to open"
    );
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("   1 line 000000001"), "{s}");
    // 20 rows on screen (24 - key bar - border - header): a page is 19 rows
    press(&mut a, vec![key(KeyCode::PageDown)]);
    assert_eq!(page(&a).top_line, Some(20));
    assert_eq!(page(&a).top, 19 * NUMBERED_LINE_LEN);
    // End: the last line at the bottom; the lines before it are too many to count, so the
    // gutter shows byte offsets
    press(&mut a, vec![key(KeyCode::End)]);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains(numbered_line(lines).trim_end()), "{s}");
    assert_eq!(page(&a).top_line, None);
    let top = size - 20 * NUMBERED_LINE_LEN;
    assert_eq!(page(&a).top, top);
    assert!(s.contains(&format!("+{top:x} line")), "{s}");
    // up from the end and home again, by seeks: a few windows read in all, never the file
    press(
        &mut a,
        vec![key(KeyCode::PageUp), key(KeyCode::Up), key(KeyCode::Home)],
    );
    assert_eq!(page(&a).top_line, Some(1));
    let p = page(&a);
    assert!(
        p.bytes_read < 8 * window_bound(&a) as u64,
        "{} read",
        p.bytes_read
    );
    assert!(p.peak_window <= window_bound(&a), "{} held", p.peak_window);
    assert!(p.bytes_read < size / 50);
}

#[test]
fn a_large_file_in_a_compressed_layer_holds_a_bounded_window() {
    let lines = 200_000u64;
    let size = lines * NUMBERED_LINE_LEN;
    let (_d, mut a) = open_big(Compression::Gzip, lines);
    assert!(page(&a).bytes_read <= window_bound(&a) as u64);
    // End inflates the whole entry once (counting its lines on the way), holds a window
    press(&mut a, vec![key(KeyCode::End)]);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains(numbered_line(lines).trim_end()), "{s}");
    // the lines before the end are counted (3 MB is under the counting limit)
    assert_eq!(page(&a).top_line, Some(lines - 19));
    let p = page(&a);
    assert!(p.bytes_read >= size, "{}", p.bytes_read);
    assert!(
        p.bytes_read < size + 4 * window_bound(&a) as u64,
        "read once: {}",
        p.bytes_read
    );
    assert!(p.peak_window <= window_bound(&a), "{} held", p.peak_window);
}

#[test]
fn a_line_longer_than_a_row_continues_and_up_retraces_down() {
    // a 3000-byte line (rows at 0, 1024, 2048), then short lines from 3001 on
    let mut body = vec![b'x'; 3000];
    body.push(b'\n');
    for i in 2..=40 {
        body.extend_from_slice(format!("short {i}\n").as_bytes());
    }
    let spec = ImageSpec::new("long:1").layer(LayerSpec::new("ADD long /").file("long.txt", &body));
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("image.tar");
    spec.write(&p, ArchiveFormat::DockerArchive, Compression::Gzip)
        .unwrap();
    let mut a = App::explorer(loaded(&p), Rect::new(0, 0, 80, 24));
    cursor_to(&mut a, 0, "/long.txt");
    press(&mut a, vec![key(KeyCode::Enter)]);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("   1 xxxx"), "{s}");
    assert!(s.contains("   ↪ xxxx"), "{s}");
    assert!(s.contains("   2 short 2"), "{s}");
    let mut tops = vec![page(&a).top];
    for _ in 0..4 {
        press(&mut a, vec![key(KeyCode::Down)]);
        tops.push(page(&a).top);
    }
    assert_eq!(tops, [0, 1024, 2048, 3001, 3009]);
    assert_eq!(page(&a).top_line, Some(3));
    for want in tops.iter().rev().skip(1) {
        press(&mut a, vec![key(KeyCode::Up)]);
        assert_eq!(page(&a).top, *want);
    }
    assert_eq!(page(&a).top_line, Some(1));
}

// ---- a slow read: on a worker, with a progress line; Esc cancels it -----------------------

/// Layers that are not there until an opener made them (as a daemon's export is): `open`
/// runs on the viewer's worker, told the activity to report into.
fn deferred(
    open: impl Fn(&Arc<Activity>) -> bathyscaphe::error::Result<MemberIndex> + Send + Sync + 'static,
) -> Option<Result<Arc<LayerFiles>, String>> {
    let opener: Opener = Box::new(move |_, a| open(a));
    Some(Ok(Arc::new(LayerFiles::deferred(
        opener,
        &Selection::default(),
    ))))
}

#[test]
fn a_slow_read_runs_on_a_worker_and_shows_what_it_does() {
    let d = tempfile::tempdir().unwrap();
    let mut a = app_at(d.path(), Compression::Gzip, 2, "/etc/app.conf", 100, 30);
    let p = d.path().join("image.tar");
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let wait = std::sync::Mutex::new(wait);
    a.explorer_mut().unwrap().layer_files = deferred(move |act| {
        act.begin("exporting viewer:1 from the test".into(), 0);
        act.add(1234);
        let _ = wait.lock().unwrap().recv();
        MemberIndex::from_path(&p)
    });
    press(&mut a, vec![key(KeyCode::Enter)]);
    assert!(matches!(viewer(&a).body, Body::Waiting(_)));
    assert!(a
        .wake_in(
            std::time::Instant::now(),
            std::time::Duration::from_millis(50)
        )
        .is_some());
    // the worker's line, once a tick has laid it out
    let start = std::time::Instant::now();
    let mut s = String::new();
    while start.elapsed() < std::time::Duration::from_secs(10) {
        handle_event(&mut a, AppEvent::Tick);
        s = text(&screen(&a, 100, 30));
        if s.contains("exporting viewer:1 from the test: 1.2 kB") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        s.contains("exporting viewer:1 from the test: 1.2 kB"),
        "{s}"
    );
    // the keys still work meanwhile (the UI is not blocked), and the read then arrives
    press(&mut a, vec![key(KeyCode::Down)]);
    go.send(()).unwrap();
    while start.elapsed() < std::time::Duration::from_secs(20) && viewer(&a).waiting() {
        handle_event(&mut a, AppEvent::Tick);
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let s = text(&screen(&a, 100, 30));
    assert!(s.contains("# app config"), "{s}");
    // `d` on layers now open is quick again: no worker
    press(&mut a, vec![ch('d')]);
    assert!(matches!(viewer(&a).body, Body::Diff(_)));
}

#[test]
fn esc_while_a_read_is_under_way_cancels_it_and_closes() {
    let d = tempfile::tempdir().unwrap();
    let mut a = app_at(d.path(), Compression::Gzip, 2, "/etc/app.conf", 100, 30);
    let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stopped.clone();
    a.explorer_mut().unwrap().layer_files = deferred(move |act| {
        act.begin("fetching layer 2 of 4 from the test".into(), 1000);
        while !act.cancelled() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        s2.store(true, std::sync::atomic::Ordering::SeqCst);
        Err(bathyscaphe::error::Error::Cancelled)
    });
    press(&mut a, vec![key(KeyCode::Enter)]);
    assert!(viewer(&a).waiting());
    press(&mut a, vec![key(KeyCode::Esc)]);
    assert!(a.explorer_ref().unwrap().viewer.is_none());
    let start = std::time::Instant::now();
    while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the worker never stopped"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn a_file_deep_in_a_compressed_layer_without_access_points_is_decoded_on_a_worker() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("deep.tar");
    // 34 MiB of the layer before the file, and no access points (no explorer load recorded
    // them): more than the viewer decodes while the screen waits
    ImageSpec::new("deep:1")
        .layer(
            LayerSpec::new("ADD . /")
                .file("data/blob", &bathyscaphe::testkit::filler(34 << 20, 7))
                .file("etc/app.conf", b"deep=1\n"),
        )
        .write(&p, ArchiveFormat::OciArchive, Compression::Gzip)
        .unwrap();
    let mut a = App::explorer(loaded(&p), Rect::new(0, 0, 100, 30));
    cursor_to(&mut a, 0, "/etc/app.conf");
    press(&mut a, vec![key(KeyCode::Enter)]);
    assert!(viewer(&a).waiting());
    let start = std::time::Instant::now();
    let mut lines = Vec::new();
    while viewer(&a).waiting() {
        assert!(start.elapsed().as_secs() < 120, "the decode never ended");
        handle_event(&mut a, AppEvent::Tick);
        let s = text(&screen(&a, 100, 30));
        lines.extend(
            s.lines()
                .find(|l| l.contains("decoding layer 0"))
                .map(str::to_string),
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let s = text(&screen(&a, 100, 30));
    assert!(s.contains("deep=1"), "{s}");
    // the compressed bytes read of the blob's, while it decoded
    assert!(lines.iter().any(|l| l.contains(" MB of ")), "{lines:?}");
}

// ---- a file whose reads would decode its layer from the start: kept on disk ----------------

/// Wait (ticking) until the viewer's worker is done.
fn settle(a: &mut App) {
    let start = std::time::Instant::now();
    while viewer(a).waiting() {
        assert!(start.elapsed().as_secs() < 120, "the read never ended");
        handle_event(a, AppEvent::Tick);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn a_file_after_a_long_decode_is_kept_on_disk_and_going_back_reads_only_that() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("deep.tar");
    let lines = 100_000u64;
    let body: String = (1..=lines).map(numbered_line).collect();
    let size = lines * NUMBERED_LINE_LEN;
    // 34 MiB of a single-frame zstd layer before the file, and no access points: each read of
    // the file would decode the layer from its start
    ImageSpec::new("deep:2")
        .layer(
            LayerSpec::new("ADD . /")
                .file("data/blob", &bathyscaphe::testkit::filler(34 << 20, 7))
                .file("data/log.txt", body.as_bytes()),
        )
        .write(&p, ArchiveFormat::OciArchive, Compression::Zstd)
        .unwrap();
    let mut a = App::explorer(loaded(&p), Rect::new(0, 0, 80, 24));
    cursor_to(&mut a, 0, "/data/log.txt");
    press(&mut a, vec![key(KeyCode::Enter)]);
    assert!(viewer(&a).waiting());
    settle(&mut a);
    assert_eq!(page(&a).size, size);
    assert_eq!(page(&a).error, None);
    let layers = match &a.explorer_ref().unwrap().layer_files {
        Some(Ok(l)) => l.clone(),
        _ => panic!("no layers"),
    };
    assert_eq!(layers.kept_files(), 1);
    // the image goes away: from now on, a read of the layer would fail, a read of the kept
    // copy cannot
    std::fs::rename(&p, d.path().join("gone.tar")).unwrap();
    press(&mut a, vec![key(KeyCode::End)]);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains(numbered_line(lines).trim_end()), "{s}");
    press(&mut a, vec![key(KeyCode::PageUp), key(KeyCode::Home)]);
    assert!(!viewer(&a).waiting(), "going back is quick: no worker");
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("   1 line 000000001"), "{s}");
    // a search and the other keys read the copy too
    press(&mut a, vec![ch('/')]);
    typed(&mut a, "line 000050000");
    press(&mut a, vec![key(KeyCode::Enter)]);
    assert_eq!(viewer(&a).found, Some(49_999 * NUMBERED_LINE_LEN));
    assert_eq!(page(&a).error, None);
    let p = page(&a);
    // End counted the lines (the file is under the counting limit), the search scanned half of
    // it, the rest were windows: all from the copy (the layer is gone), none of it held
    assert!(p.bytes_read < 3 * size, "{} read", p.bytes_read);
    assert!(p.peak_window <= window_bound(&a), "{} held", p.peak_window);
    // closed and opened again: the kept copy, at once
    press(&mut a, vec![key(KeyCode::Esc), key(KeyCode::Enter)]);
    assert!(!viewer(&a).waiting());
    assert!(text(&screen(&a, 80, 24)).contains("   1 line 000000001"));
    assert_eq!(layers.kept_files(), 1);
}
