//! The explorer without a terminal: key handling (events in, state out), the main loop on
//! ratatui's TestBackend, snapshots of every pane, and extraction. Fixture built by testkit.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

mod common;

use bathyscaphe::analysis::Analysis;
use bathyscaphe::paths::ROOT;
use bathyscaphe::progress::Progress;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{filler, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tree::ChangeMark;
use bathyscaphe::tui::state::{handle_event, App, AppEvent, Effect, Explorer, Focus};
use bathyscaphe::tui::treeview::{LayerMode, SortOrder};
use bathyscaphe::tui::{self, keys::Action};
use common::term::*;
use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Four layers: a base, an install that modifies a file and leaves a cache, a cleanup that
/// deletes the cache and chmods a file, and an app with a hardlink.
fn spec() -> ImageSpec {
    ImageSpec::new("fixture/app:1.0")
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) ADD file:abc in /")
                .dir("bin")
                .file_mode("bin/sh", &filler(1000, 1), 0o755)
                .symlink("bin/bash", "sh")
                .dir("etc")
                .file("etc/os-release", b"ID=demo\n")
                .file("etc/passwd", &filler(100, 2)),
        )
        .layer(
            LayerSpec::new("/bin/sh -c apt-get install -y curl")
                .after_empty("/bin/sh -c #(nop)  ENV PATH=/usr/bin")
                .file_mode("usr/bin/curl", &filler(5000, 3), 0o755)
                .file("var/cache/apt/curl.deb", &filler(3000, 4))
                .file("etc/os-release", b"ID=demo2\n"),
        )
        .layer(
            LayerSpec::new("/bin/sh -c rm -rf /var/cache/apt && chmod 600 /etc/passwd")
                .whiteout("var/cache/apt")
                .file_mode("etc/passwd", &filler(100, 2), 0o600),
        )
        .layer(
            LayerSpec::new("COPY app /app # buildkit")
                .after_empty("/bin/sh -c #(nop) WORKDIR /app")
                .file("app/server", &filler(2000, 5))
                .hardlink("app/server-link", "app/server"),
        )
}

fn explorer() -> Explorer {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixture.tar");
    spec()
        .write(&path, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let image = load_path(&path, &LoadOptions::default()).unwrap();
    let analysis = Analysis::run(&image);
    Explorer::new(image, analysis)
}

fn app(w: u16, h: u16) -> App {
    App::explorer(explorer(), Rect::new(0, 0, w, h))
}

/// The tree's rows on screen, as paths.
fn rows(app: &App) -> Vec<String> {
    let e = ex(app);
    e.tree
        .rows(e.cx())
        .into_iter()
        .map(|n| e.image.paths.path(n))
        .collect()
}

// ---- keys: events in, state out ------------------------------------------------------------

#[test]
fn arrows_move_the_layer_and_tab_cycles_panes() {
    let mut a = app(100, 30);
    assert_eq!(ex(&a).focus, Focus::Layers);
    press(
        &mut a,
        vec![key(KeyCode::Down, KeyModifiers::NONE), ch('j')],
    );
    assert_eq!(ex(&a).layer, 2);
    press(&mut a, vec![key(KeyCode::End, KeyModifiers::NONE)]);
    assert_eq!(ex(&a).layer, 3);
    assert_eq!(ex(&a).tree.layer, 3);
    press(
        &mut a,
        vec![ch('k'), key(KeyCode::Home, KeyModifiers::NONE)],
    );
    assert_eq!(ex(&a).layer, 0);
    press(&mut a, vec![key(KeyCode::Tab, KeyModifiers::NONE)]);
    assert_eq!(ex(&a).focus, Focus::Tree);
    press(&mut a, vec![ch('i')]);
    assert_eq!(ex(&a).focus, Focus::Wasted);
    press(&mut a, vec![key(KeyCode::BackTab, KeyModifiers::SHIFT)]);
    assert_eq!(ex(&a).focus, Focus::Tree);
}

#[test]
fn layer_modes_show_changes_only_or_everything() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch('j'), ctrl('l')]);
    assert_eq!(ex(&a).tree.mode, LayerMode::ChangesOnly);
    // layer 1 wrote usr/bin/curl, var/cache/apt/curl.deb and etc/os-release (plus their dirs)
    assert_eq!(
        rows(&a),
        [
            "/etc",
            "/etc/os-release",
            "/usr",
            "/usr/bin",
            "/usr/bin/curl",
            "/var",
            "/var/cache",
            "/var/cache/apt",
            "/var/cache/apt/curl.deb"
        ]
    );
    press(&mut a, vec![ctrl('a')]);
    assert_eq!(ex(&a).tree.mode, LayerMode::Aggregated);
    assert_eq!(rows(&a).len(), 13, "{:?}", rows(&a));
}

#[test]
fn tree_marks_and_hiding_follow_dive() {
    let mut a = app(100, 30);
    press(
        &mut a,
        vec![ch('j'), ch('j'), key(KeyCode::Tab, KeyModifiers::NONE)],
    );
    let e = ex(&a);
    let cx = e.cx();
    let p = |s: &str| e.image.paths.lookup(s).unwrap();
    assert_eq!(e.tree.mark(cx, p("etc/passwd")), ChangeMark::Modified);
    assert_eq!(e.tree.mark(cx, p("var/cache/apt")), ChangeMark::Removed);
    assert_eq!(e.tree.mark(cx, p("bin/sh")), ChangeMark::Unchanged);
    // ctrl+u hides unmodified: only layer 2's changes and the directories leading to them
    press(&mut a, vec![ctrl('u')]);
    assert_eq!(
        rows(&a),
        [
            "/etc",
            "/etc/passwd",
            "/var",
            "/var/cache",
            "/var/cache/apt",
            "/var/cache/apt/curl.deb"
        ]
    );
    // ctrl+r also hides the removed ones
    press(&mut a, vec![ctrl('r')]);
    assert_eq!(rows(&a), ["/etc", "/etc/passwd"]);
    press(&mut a, vec![ctrl('m')]);
    assert!(rows(&a).is_empty());
    press(&mut a, vec![ctrl('m'), ctrl('r'), ctrl('u')]);
    assert_eq!(ex(&a).tree.hide, [false; 4]);
}

#[test]
fn cursor_walks_collapses_and_expands() {
    let mut a = app(100, 30);
    press(
        &mut a,
        vec![
            key(KeyCode::End, KeyModifiers::NONE),
            key(KeyCode::Tab, KeyModifiers::NONE),
        ],
    );
    let path = |a: &App| ex(a).cursor_path().unwrap();
    // the cursor stays on its path when the layer changes
    assert_eq!(path(&a), "/bin");
    press(&mut a, vec![key(KeyCode::Home, KeyModifiers::NONE)]);
    assert_eq!(path(&a), "/app");
    press(&mut a, vec![ch('j'), ch('j')]);
    assert_eq!(path(&a), "/app/server-link");
    press(&mut a, vec![ch('h')]);
    assert_eq!(path(&a), "/app");
    press(&mut a, vec![ch(' ')]);
    assert!(ex(&a).tree.is_collapsed(ex(&a).tree.cursor));
    press(&mut a, vec![ch('j')]);
    assert_eq!(path(&a), "/bin");
    // the apt cache was deleted in layer 2; its parent stays, empty
    press(&mut a, vec![key(KeyCode::End, KeyModifiers::NONE)]);
    assert_eq!(path(&a), "/var/cache");
    press(&mut a, vec![ctrl(' ')]);
    assert_eq!(rows(&a), ["/app", "/bin", "/etc", "/usr", "/var"]);
    assert_eq!(path(&a), "/var");
    press(&mut a, vec![ch('l')]);
    assert_eq!(
        rows(&a),
        ["/app", "/bin", "/etc", "/usr", "/var", "/var/cache"]
    );
    press(&mut a, vec![key(KeyCode::Home, KeyModifiers::NONE)]);
    assert_eq!(path(&a), "/app");
}

#[test]
fn filter_as_you_type_keeps_parents_and_escape_clears() {
    let mut a = app(100, 30);
    press(
        &mut a,
        vec![
            key(KeyCode::End, KeyModifiers::NONE),
            ch('/'),
            ch('c'),
            ch('u'),
            ch('r'),
            ch('l'),
        ],
    );
    assert_eq!(ex(&a).focus, Focus::Tree);
    assert_eq!(ex(&a).filter_input.as_deref(), Some("curl"));
    // the cache's curl.deb was deleted in layer 2: at layer 3 only the binary matches
    assert_eq!(rows(&a), ["/usr", "/usr/bin", "/usr/bin/curl"]);
    // `q` is text while typing
    press(&mut a, vec![ch('q')]);
    assert!(!a.quit);
    assert!(rows(&a).is_empty());
    press(
        &mut a,
        vec![
            key(KeyCode::Backspace, KeyModifiers::NONE),
            key(KeyCode::Enter, KeyModifiers::NONE),
        ],
    );
    assert_eq!(ex(&a).filter_input, None);
    assert_eq!(ex(&a).tree.filter_pattern(), Some("curl"));
    // a regex, at layer 1 where both exist
    press(
        &mut a,
        vec![key(KeyCode::Tab, KeyModifiers::NONE), ch('k'), ch('k')],
    );
    assert_eq!(ex(&a).layer, 1);
    press(&mut a, vec![ctrl('f'), ctrl('u')]); // ctrl+u is not text: ignored while typing
    for c in "|\\.deb$".chars() {
        press(&mut a, vec![ch(c)]);
    }
    assert_eq!(ex(&a).tree.filter_pattern(), Some("curl|\\.deb$"));
    assert_eq!(
        rows(&a),
        [
            "/usr",
            "/usr/bin",
            "/usr/bin/curl",
            "/var",
            "/var/cache",
            "/var/cache/apt",
            "/var/cache/apt/curl.deb"
        ]
    );
    press(&mut a, vec![key(KeyCode::Esc, KeyModifiers::NONE)]);
    assert_eq!(ex(&a).tree.filter_pattern(), None);
    // bin bin/bash bin/sh etc etc/os-release etc/passwd usr usr/bin usr/bin/curl var var/cache
    // var/cache/apt var/cache/apt/curl.deb
    assert_eq!(rows(&a).len(), 13);
}

#[test]
fn wasted_only_and_size_sort() {
    let mut a = app(100, 30);
    press(
        &mut a,
        vec![
            key(KeyCode::End, KeyModifiers::NONE),
            key(KeyCode::Tab, KeyModifiers::NONE),
            ch('w'),
        ],
    );
    // wasted copies: curl.deb (gone at layer 3), os-release's and passwd's first versions
    assert_eq!(rows(&a), ["/etc", "/etc/os-release", "/etc/passwd"]);
    press(&mut a, vec![ch('w'), ch('s'), ctrl(' ')]);
    assert_eq!(ex(&a).tree.sort, SortOrder::SizeDesc);
    // usr 5000, app 2000, bin 1000, etc 9+100, var (only an empty cache dir left) 0
    assert_eq!(rows(&a), ["/usr", "/app", "/bin", "/etc", "/var"]);
    let e = ex(&a);
    let cx = e.cx();
    assert_eq!(e.tree.size(cx, e.image.paths.lookup("etc").unwrap()), 109);
    // the root holds every visible file byte: 1000 + 9 + 100 + 5000 + 2000
    assert_eq!(e.tree.size(cx, ROOT), 8109);
    assert_eq!(e.analysis.waste.final_bytes, 8109);
    press(&mut a, vec![ctrl('o')]);
    assert_eq!(ex(&a).tree.sort, SortOrder::Name);
}

#[test]
fn directory_sizes_follow_the_layer_both_ways() {
    let mut a = app(100, 30);
    let size_of = |a: &App, p: &str| {
        let e = ex(a);
        e.tree.size(e.cx(), e.image.paths.lookup(p).unwrap())
    };
    assert_eq!(size_of(&a, "etc"), 8 + 100);
    press(&mut a, vec![ch('j')]);
    assert_eq!(size_of(&a, "etc"), 9 + 100);
    assert_eq!(size_of(&a, "var/cache"), 3000);
    press(
        &mut a,
        vec![
            key(KeyCode::End, KeyModifiers::NONE),
            key(KeyCode::Home, KeyModifiers::NONE),
        ],
    );
    assert_eq!(size_of(&a, "etc"), 108);
    assert_eq!(size_of(&a, "bin"), 1000);
    // layer 2 removes var/cache/apt: it shows what it held at layer 1 (curl.deb, 3000 bytes),
    // while var/cache, still there, holds nothing any more
    press(&mut a, vec![ch('j'), ch('j')]);
    assert_eq!(ex(&a).layer, 2);
    assert_eq!(size_of(&a, "var/cache/apt"), 3000);
    assert_eq!(size_of(&a, "var/cache/apt/curl.deb"), 3000);
    assert_eq!(size_of(&a, "var/cache"), 0);
    press(&mut a, vec![ch('j')]);
    assert_eq!(size_of(&a, "var/cache"), 0);
}

#[test]
fn enter_on_a_wasted_path_jumps_to_where_it_was_added() {
    let mut a = app(100, 30);
    press(
        &mut a,
        vec![
            key(KeyCode::End, KeyModifiers::NONE),
            ctrl('l'),
            key(KeyCode::BackTab, KeyModifiers::SHIFT),
        ],
    );
    assert_eq!(ex(&a).focus, Focus::Wasted);
    // largest first: curl.deb 3000, passwd 100, os-release 8
    let paths: Vec<_> = ex(&a)
        .wasted
        .iter()
        .map(|w| (w.path.as_str(), w.bytes, w.copies))
        .collect();
    assert_eq!(
        paths,
        [
            ("/var/cache/apt/curl.deb", 3000, 1),
            ("/etc/passwd", 100, 2),
            ("/etc/os-release", 8, 2)
        ]
    );
    press(&mut a, vec![key(KeyCode::Enter, KeyModifiers::NONE)]);
    let e = ex(&a);
    assert_eq!(e.focus, Focus::Tree);
    assert_eq!(e.layer, 1);
    // the user's changes-only view shows the path: it stays
    assert_eq!(e.tree.mode, LayerMode::ChangesOnly);
    assert_eq!(e.cursor_path().as_deref(), Some("/var/cache/apt/curl.deb"));
    press(&mut a, vec![ch('i'), ch('j'), ch('j')]);
    press(&mut a, vec![key(KeyCode::Enter, KeyModifiers::NONE)]);
    assert_eq!(ex(&a).layer, 0);
    assert_eq!(ex(&a).cursor_path().as_deref(), Some("/etc/os-release"));
}

#[test]
fn extract_asks_for_the_bytes_of_files_and_hardlink_targets_only() {
    let mut a = app(100, 30);
    press(
        &mut a,
        vec![
            key(KeyCode::End, KeyModifiers::NONE),
            key(KeyCode::Tab, KeyModifiers::NONE),
            key(KeyCode::Home, KeyModifiers::NONE),
        ],
    );
    press(&mut a, vec![ctrl('e')]);
    assert!(a.take_effects().is_empty(), "a directory is not extracted");
    assert!(a.status.as_deref().unwrap().contains("only regular files"));
    press(&mut a, vec![ch('j'), ch('j'), ctrl('e')]);
    assert_eq!(
        a.take_effects(),
        [Effect::Extract {
            layer: 3,
            path: "/app/server".into(),
            name: "server-link".into(),
            size: 2000,
            entry: Some(entry_index(&a, 3, "/app/server")),
        }]
    );
    press(&mut a, vec![ch('j'), ch('j'), ch('j'), ctrl('e')]);
    assert_eq!(ex(&a).cursor_path().as_deref(), Some("/bin/sh"));
    assert_eq!(
        a.take_effects(),
        [Effect::Extract {
            layer: 0,
            path: "/bin/sh".into(),
            name: "sh".into(),
            size: 1000,
            entry: Some(entry_index(&a, 0, "/bin/sh")),
        }]
    );
}

/// Where `path`'s entry stands in `layer`'s tar, as loaded.
fn entry_index(a: &App, layer: usize, path: &str) -> usize {
    let e = ex(a);
    let node = e.image.paths.lookup(path).unwrap();
    e.image.layers[layer]
        .entries
        .iter()
        .position(|en| en.node == node)
        .unwrap()
}

#[test]
fn mouse_focuses_selects_and_scrolls() {
    let mut a = app(100, 30);
    let areas = a.areas();
    let click = |x: u16, y: u16| {
        AppEvent::Term(Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }))
    };
    // layers pane: border, header, layer 0, the ENV step, layer 1
    press(&mut a, vec![click(areas.layers.x + 3, areas.layers.y + 4)]);
    assert_eq!(ex(&a).layer, 1);
    press(&mut a, vec![click(areas.layers.x + 3, areas.layers.y + 3)]);
    assert_eq!(ex(&a).layer, 1, "a history step is not a layer");
    press(
        &mut a,
        vec![click(areas.tree_list.x + 5, areas.tree_list.y + 2)],
    );
    assert_eq!(ex(&a).focus, Focus::Tree);
    assert_eq!(ex(&a).cursor_path().as_deref(), Some("/bin/sh"));
    let wheel = AppEvent::Term(Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: areas.layers.x + 3,
        row: areas.layers.y + 3,
        modifiers: KeyModifiers::NONE,
    }));
    press(&mut a, vec![wheel]);
    assert_eq!(ex(&a).layer, 2);
    assert_eq!(
        ex(&a).focus,
        Focus::Tree,
        "the wheel scrolls without stealing focus"
    );
}

#[test]
fn help_opens_and_closes_and_quit_quits() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch('?')]);
    assert!(a.help);
    press(&mut a, vec![ch('j')]);
    assert_eq!(
        ex(&a).layer,
        0,
        "keys do not reach the panes under the help"
    );
    press(&mut a, vec![key(KeyCode::Esc, KeyModifiers::NONE)]);
    assert!(!a.help);
    press(&mut a, vec![ch('q')]);
    assert!(a.quit);
    let mut b = app(100, 30);
    press(&mut b, vec![ch('/'), ctrl('c')]);
    assert!(b.quit, "ctrl+c quits even while typing a filter");
}

#[test]
fn every_bar_and_help_key_is_bound() {
    use bathyscaphe::tui::keys::{bar, lookup, Scope, BINDINGS};
    for b in BINDINGS {
        for k in b.keys {
            let ev = KeyEvent::new(k.code, k.mods);
            assert_eq!(
                lookup(b.scope, &ev),
                Some(b.action),
                "{:?} in {:?}",
                k,
                b.scope
            );
        }
    }
    assert!(bar(Scope::Tree)
        .iter()
        .any(|b| b.action == Action::StartFilter));
}

// ---- the loop, on a test backend -----------------------------------------------------------

#[test]
fn main_loop_loads_in_the_background_then_explores_and_quits() {
    let progress = Arc::new(Progress::new());
    progress.layers_total.store(4, Ordering::Relaxed);
    progress.layers_done.store(1, Ordering::Relaxed);
    progress.bytes_total.store(40_000, Ordering::Relaxed);
    progress.bytes_read.store(10_000, Ordering::Relaxed);
    let mut a = App::loading("fixture.tar".into(), progress, Rect::new(0, 0, 80, 24));
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // the first frame is the gauge, drawn before anything is loaded
    t.draw(|f| tui::draw(f, &a)).unwrap();
    insta::assert_snapshot!("loading", t.backend());
    let e = explorer();
    let (image, analysis) = (e.image, e.analysis);
    tx.send(AppEvent::Loaded(Box::new(Ok((image, analysis)))))
        .unwrap();
    for ev in [
        key(KeyCode::End, KeyModifiers::NONE),
        key(KeyCode::Tab, KeyModifiers::NONE),
        ch('/'),
    ] {
        tx.send(ev).unwrap();
    }
    for c in "server".chars() {
        tx.send(ch(c)).unwrap();
    }
    tx.send(key(KeyCode::Enter, KeyModifiers::NONE)).unwrap();
    let mut effects = Vec::new();
    tx.send(ctrl('e')).unwrap();
    tx.send(ch('q')).unwrap();
    tui::run_loop(&mut t, &mut a, &rx, |e| effects.push(e)).unwrap();
    assert!(a.quit);
    assert_eq!(ex(&a).layer, 3);
    assert_eq!(ex(&a).cursor_path().as_deref(), Some("/app"));
    assert_eq!(effects.len(), 0, "/app is a directory");
    insta::assert_snapshot!("after_filter_80x24", t.backend());
}

#[test]
fn a_load_error_ends_the_loop() {
    let mut a = App::loading(
        "x.tar".into(),
        Arc::new(Progress::new()),
        Rect::new(0, 0, 80, 24),
    );
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    tx.send(AppEvent::Loaded(Box::new(Err(
        "x.tar: not a tar archive".into()
    ))))
    .unwrap();
    tui::run_loop(&mut t, &mut a, &rx, |_| {}).unwrap();
    assert!(a.quit);
    assert!(
        matches!(&a.screen, bathyscaphe::tui::state::Screen::Failed(m) if m.contains("not a tar"))
    );
}

// ---- snapshots -----------------------------------------------------------------------------

fn pane(
    w: u16,
    h: u16,
    a: &App,
    draw: impl Fn(&mut ratatui::Frame, Rect, &App),
) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        let area = f.area();
        draw(f, area, a)
    })
    .unwrap();
    t
}

#[test]
fn snapshot_whole_screen() {
    let mut a = app(110, 30);
    press(&mut a, vec![ch('j'), ch('j')]);
    insta::assert_snapshot!("screen_layer2", screen(&a, 110, 30).backend());
}

#[test]
fn snapshot_layers_pane() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch('j')]);
    let t = pane(70, 10, &a, |f, r, a| tui::layers::render(f, r, ex(a)));
    insta::assert_snapshot!("layers", t.backend());
}

#[test]
fn snapshot_layer_details_pane() {
    let mut a = app(100, 30);
    press(&mut a, vec![key(KeyCode::End, KeyModifiers::NONE)]);
    let t = pane(60, 8, &a, |f, r, a| tui::layer_details::render(f, r, ex(a)));
    insta::assert_snapshot!("layer_details", t.backend());
}

#[test]
fn snapshot_image_details_pane() {
    let mut a = app(100, 30);
    press(
        &mut a,
        vec![key(KeyCode::BackTab, KeyModifiers::SHIFT), ch('j')],
    );
    let t = pane(60, 9, &a, |f, r, a| tui::image_details::render(f, r, ex(a)));
    insta::assert_snapshot!("image_details", t.backend());
}

#[test]
fn snapshot_file_tree_pane() {
    let mut a = app(100, 30);
    press(
        &mut a,
        vec![
            ch('j'),
            ch('j'),
            key(KeyCode::Tab, KeyModifiers::NONE),
            ch('j'),
        ],
    );
    let t = pane(64, 20, &a, |f, r, a| {
        let list = Rect::new(r.x + 1, r.y + 2, r.width - 2, r.height - 3);
        tui::file_tree::render(f, r, list, ex(a))
    });
    insta::assert_snapshot!("file_tree_layer2", t.backend());
    press(
        &mut a,
        vec![ctrl('b'), ctrl('u'), ch('/'), ch('a'), ch('p'), ch('t')],
    );
    let t = pane(64, 12, &a, |f, r, a| {
        let list = Rect::new(r.x + 1, r.y + 2, r.width - 2, r.height - 3);
        tui::file_tree::render(f, r, list, ex(a))
    });
    insta::assert_snapshot!("file_tree_filtered_no_attrs", t.backend());
}

#[test]
fn snapshot_keybar() {
    let mut a = app(100, 30);
    press(&mut a, vec![key(KeyCode::Tab, KeyModifiers::NONE)]);
    let t = pane(100, 1, &a, tui::keybar::render);
    insta::assert_snapshot!("keybar_tree", t.backend());
}

#[test]
fn snapshot_help_overlay() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch('?')]);
    insta::assert_snapshot!("help_100x30", screen(&a, 100, 30).backend());
}

// ---- extraction ----------------------------------------------------------------------------

#[test]
fn extract_entry_reads_one_file_from_its_layer() {
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("img.tar");
    spec()
        .write(&tar, ArchiveFormat::DockerOciArchive, Compression::Gzip)
        .unwrap();
    let sel = Default::default();
    let read = |layer, path| {
        let mut v = Vec::new();
        std::io::Read::read_to_end(
            &mut bathyscaphe::source::access::LayerFiles::open(&tar, &sel)
                .and_then(|f| f.entry(layer, path))
                .unwrap(),
            &mut v,
        )
        .unwrap();
        v
    };
    assert_eq!(read(3, "/app/server"), filler(2000, 5));
    assert_eq!(read(0, "/etc/os-release"), b"ID=demo\n");
    assert_eq!(read(1, "etc/os-release"), b"ID=demo2\n");
    let err = bathyscaphe::source::access::LayerFiles::open(&tar, &sel)
        .and_then(|f| f.entry(2, "/app/server"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("not in this layer"), "{err}");
    assert!(bathyscaphe::source::access::LayerFiles::open(&tar, &sel)
        .and_then(|f| f.entry(9, "/app/server"))
        .is_err());
}

#[test]
fn extract_to_refuses_to_overwrite_or_leave_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let p = tui::extract_to(dir.path(), "server", &b"abc"[..]).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"abc");
    let err = tui::extract_to(dir.path(), "server", &b"xyz"[..]).unwrap_err();
    assert!(err.contains("not overwriting"), "{err}");
    assert_eq!(std::fs::read(&p).unwrap(), b"abc");
    for bad in ["..", ".", "", "a/b", "../x"] {
        assert!(
            tui::extract_to(dir.path(), bad, &b"x"[..]).is_err(),
            "{bad:?}"
        );
    }
    // a symlink planted at the name is not followed
    #[cfg(unix)]
    {
        let outside = dir.path().join("outside");
        std::os::unix::fs::symlink(&outside, dir.path().join("link")).unwrap();
        assert!(tui::extract_to(dir.path(), "link", &b"x"[..]).is_err());
        assert!(!outside.exists());
    }
}

// ---- small fixes: help at 80x24, loader notes ------------------------------------------------

#[test]
fn help_at_80x24_scrolls_to_its_last_notes() {
    let mut a = app(80, 24);
    press(&mut a, vec![ch('?')]);
    let first = text(&screen(&a, 80, 24));
    assert!(first.contains("more: j/k"), "{first}");
    assert!(!first.contains("While filtering"), "{first}");
    // End (or j/PgDn as often as needed) shows the last notes, in full
    press(&mut a, vec![key(KeyCode::End, KeyModifiers::NONE)]);
    assert!(a.help, "moving does not close the help");
    let t = screen(&a, 80, 24);
    let s = text(&t);
    assert!(s.contains("the wheel scrolls."), "{s}");
    assert!(s.contains("when not a valid regex)."), "{s}");
    insta::assert_snapshot!("help_80x24_end", t.backend());
    press(
        &mut a,
        vec![ch('k'), key(KeyCode::Home, KeyModifiers::NONE)],
    );
    assert_eq!(a.help_scroll, 0);
    press(&mut a, vec![ch('j'), ch('j')]);
    assert_eq!(a.help_scroll, 2);
    press(&mut a, vec![ch('?')]);
    assert!(!a.help);
    assert_eq!(ex(&a).layer, 0, "the scroll keys did not reach the layers");
}

#[test]
fn loader_notes_go_to_the_status_line() {
    let mut a = App::loading(
        "x.tar".into(),
        Arc::new(Progress::new()),
        Rect::new(0, 0, 100, 30),
    );
    let e = explorer();
    let (mut image, analysis) = (e.image, e.analysis);
    image.warnings = vec!["x.tar holds 2 images; reading app:1".into()];
    handle_event(&mut a, AppEvent::Loaded(Box::new(Ok((image, analysis)))));
    let s = text(&screen(&a, 100, 30));
    assert!(s.contains("x.tar holds 2 images; reading app:1"), "{s}");
}

#[test]
fn typed_substrings_match_exactly_what_a_full_path_search_finds() {
    // deep paths, repeated names, multibyte names: the windowed scan and the narrowing must
    // agree with `path.contains(pattern)` on every path, at every keystroke
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.tar");
    ImageSpec::new("f:1")
        .layer(
            LayerSpec::new("ADD / /")
                .file("usr/lib/python3/site-packages/pkg/module.py", b"x")
                .file("usr/lib/python3/site-packages/pkg/data/módulo.txt", b"y")
                .file("usr/share/doc/pkg/README", b"z")
                .file("srv/app/lib/pkg-lib.so", b"w")
                .file("srv/ünï/cödé/pkg", b"v"),
        )
        .write(&path, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let image = load_path(&path, &LoadOptions::default()).unwrap();
    let analysis = Analysis::run(&image);
    let mut a = App::explorer(Explorer::new(image, analysis), Rect::new(0, 0, 100, 30));
    for pattern in [
        "pkg/d",
        "lib/pkg",
        "site-packages/pkg/m",
        "ünï/cö",
        "s/p",
        "/srv/a",
    ] {
        press(&mut a, vec![ch('/')]);
        for c in pattern.chars() {
            press(&mut a, vec![ch(c)]);
            let typed = ex(&a).filter_input.clone().unwrap();
            let e = ex(&a);
            let want: Vec<String> = (1..e.image.paths.len() as u32)
                .map(|n| e.image.paths.path(n))
                .filter(|p| p.contains(typed.as_str()))
                .collect();
            let n = e.tree.filter_match_count().unwrap();
            assert_eq!(n, want.len(), "{typed:?}: {want:?}");
        }
        // the rows are the matches and their parents
        let shown = rows(&a);
        for p in &shown {
            assert!(
                p.contains(pattern) || shown.iter().any(|q| q.starts_with(&format!("{p}/"))),
                "{pattern:?}: {p}"
            );
        }
        press(&mut a, vec![key(KeyCode::Esc, KeyModifiers::NONE)]);
    }
}

#[test]
fn rows_that_appear_above_the_first_row_show_when_the_layer_changes() {
    // at layer 0 the tree starts with /bin; layer 3 adds /app, which sorts before it: with the
    // cursor still on the first page, the new rows must not hide above the top
    // a short terminal, so the tree is longer than its pane
    let mut a = app(100, 12);
    assert_eq!(rows(&a)[0], "/bin");
    press(&mut a, vec![key(KeyCode::End, KeyModifiers::NONE)]);
    assert_eq!(ex(&a).layer, 3);
    assert_eq!(rows(&a)[0], "/app");
}
