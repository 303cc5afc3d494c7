//! The compare view without a terminal: key handling (events in, state out), the loop on
//! ratatui's TestBackend from the two gauges to the view, and snapshots. The image pair is built
//! by testkit; every expected number is worked out from the specs in the comment above it.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

mod common;
use bathyscaphe::pipeline::{self, LoadArgs, LoadConfig, Watch};
use bathyscaphe::progress::Progress;
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tree::ChangeMark;
use bathyscaphe::tui::compare::{CompareFocus, CompareView, Compared};
use bathyscaphe::tui::keys::Scope;
use bathyscaphe::tui::state::{handle_event, App, AppEvent, Screen};
use bathyscaphe::tui::treeview::SortOrder;
use bathyscaphe::tui::{self};
use common::term::{screen, text};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn base() -> LayerSpec {
    LayerSpec::new("ADD rootfs /")
        .dir("etc")
        .file("etc/os-release", b"ID=demo\n")
        .dir("usr")
        .dir("usr/bin")
        .file_sized("usr/bin/tool", 1000, 1)
}

fn install() -> LayerSpec {
    LayerSpec::new("RUN apt-get install -y curl")
        .file_sized("usr/bin/curl", 2000, 2)
        .file("etc/conf", &[b'c'; 50])
        .file_sized("data", 300, 3)
}

/// A: base, install, app v1. B: base, install, app v2 (server 5000 → 6000 bytes, old.txt
/// 100 gone, new.txt 200 new), then a layer that chmods `etc/conf` (content the same) and turns
/// the 300-byte file `data` into a directory holding a 10-byte `x`.
pub fn pair() -> (ImageSpec, ImageSpec) {
    let a = ImageSpec::new("app:1")
        .layer(base())
        .layer(install())
        .layer(
            LayerSpec::new("COPY app /app")
                .file_sized("app/server", 5000, 4)
                .file_sized("app/old.txt", 100, 5),
        );
    let b = ImageSpec::new("app:2")
        .layer(base())
        .layer(install())
        .layer(
            LayerSpec::new("COPY app /app")
                .file_sized("app/server", 6000, 6)
                .file_sized("app/new.txt", 200, 7),
        )
        .layer(
            LayerSpec::new("RUN chmod 600 /etc/conf")
                .file_mode("etc/conf", &[b'c'; 50], 0o600)
                .dir("data")
                .file_sized("data/x", 10, 8),
        );
    (a, b)
}

/// The pair written as archives and loaded, analysed and diffed as `bathy compare` does.
fn compared() -> Compared {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair();
    let (pa, pb) = (dir.path().join("a.tar"), dir.path().join("b.tar"));
    a.write(&pa, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    b.write(&pb, ArchiveFormat::DockerOciArchive, Compression::Gzip)
        .unwrap();
    let progress = (Arc::new(Progress::new()), Arc::new(Progress::new()));
    let watch = [
        Watch::counting(progress.0.clone()),
        Watch::counting(progress.1.clone()),
    ];
    let pair = pipeline::compare_images(
        pa.to_str().unwrap(),
        pb.to_str().unwrap(),
        &LoadConfig::from_args(&LoadArgs::default()),
        &Default::default(),
        None,
        [&watch[0], &watch[1]],
    )
    .unwrap();
    let r = tui::for_view(pair);
    // both gauges saw their image: A 3 layers, B 4
    assert_eq!(progress.0.layers_total.load(Ordering::Relaxed), 3);
    assert_eq!(progress.1.layers_total.load(Ordering::Relaxed), 4);
    r
}

fn app(w: u16, h: u16) -> App {
    App::compare(
        CompareView::new(compared().comparison),
        Rect::new(0, 0, w, h),
    )
}

fn key(c: KeyCode, m: KeyModifiers) -> AppEvent {
    AppEvent::Term(Event::Key(KeyEvent::new(c, m)))
}
fn ch(c: char) -> AppEvent {
    key(KeyCode::Char(c), KeyModifiers::NONE)
}
fn ctrl(c: char) -> AppEvent {
    key(KeyCode::Char(c), KeyModifiers::CONTROL)
}
fn code(c: KeyCode) -> AppEvent {
    key(c, KeyModifiers::NONE)
}
fn press(app: &mut App, evs: Vec<AppEvent>) {
    for e in evs {
        handle_event(app, e);
    }
}
fn cv(app: &App) -> &CompareView {
    app.compare_ref().unwrap()
}
/// The diff tree's rows, as paths.
fn rows(app: &App) -> Vec<String> {
    let v = cv(app);
    v.tree
        .rows()
        .iter()
        .map(|r| v.c.files.path(r.node))
        .collect()
}
fn cursor(app: &App) -> String {
    cv(app).cursor_path().unwrap_or_default()
}

// ---- the comparison the view shows ---------------------------------------------------------

#[test]
fn the_view_starts_on_the_diff_tree_by_impact() {
    let a = app(100, 30);
    assert_eq!(cv(&a).focus, CompareFocus::Files);
    assert_eq!(a.scope(), Scope::CompareTree);
    // churn (bytes in + out): /app 6000+200 in, 5000+100 out = 11300; /data 10 in, 300 out =
    // 310; /etc 0 (a mode change). Under /app: server 11000, new.txt 200, old.txt 100
    assert_eq!(
        rows(&a),
        [
            "/app",
            "/app/server",
            "/app/new.txt",
            "/app/old.txt",
            "/data",
            "/data/x",
            "/etc",
            "/etc/conf"
        ]
    );
    let t = cv(&a).c.files.totals();
    // in: 6000 + 200 + 10; out: 5000 + 100 + 300 (the file `data`)
    assert_eq!((t.added_bytes, t.removed_bytes), (6210, 5400));
    // layers: 2 shared (base, install), then COPY rebuilt and the chmod layer added
    assert_eq!(cv(&a).layer_lines().len(), 4);
}

// ---- keys: events in, state out ------------------------------------------------------------

#[test]
fn tab_switches_panes_and_arrows_move_in_each() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch('j'), code(KeyCode::Down)]);
    assert_eq!(cursor(&a), "/app/new.txt");
    press(&mut a, vec![code(KeyCode::End)]);
    assert_eq!(cursor(&a), "/etc/conf");
    press(&mut a, vec![ch('g')]);
    assert_eq!(cursor(&a), "/app");
    press(&mut a, vec![code(KeyCode::PageDown)]);
    assert_eq!(cursor(&a), "/etc/conf", "a page is longer than the 8 rows");
    press(&mut a, vec![code(KeyCode::Tab)]);
    assert_eq!(cv(&a).focus, CompareFocus::Layers);
    assert_eq!(a.scope(), Scope::CompareLayers);
    press(&mut a, vec![ch('j'), ch('j'), ch('j'), ch('j'), ch('j')]);
    assert_eq!(cv(&a).layer_sel, 3, "stops on the last of 4 rows");
    press(&mut a, vec![code(KeyCode::Home)]);
    assert_eq!(cv(&a).layer_sel, 0);
    press(&mut a, vec![key(KeyCode::BackTab, KeyModifiers::SHIFT)]);
    assert_eq!(cv(&a).focus, CompareFocus::Files);
    assert_eq!(cursor(&a), "/etc/conf", "the tree kept its cursor");
}

#[test]
fn space_collapses_and_arrows_walk_the_tree() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch(' ')]);
    assert_eq!(
        rows(&a),
        ["/app", "/data", "/data/x", "/etc", "/etc/conf"],
        "space collapsed /app"
    );
    press(&mut a, vec![ch('l')]);
    assert_eq!(rows(&a).len(), 8, "→ opens it again");
    press(&mut a, vec![ch('l')]);
    assert_eq!(cursor(&a), "/app/server", "→ on an open directory goes in");
    press(&mut a, vec![ch('h')]);
    assert_eq!(cursor(&a), "/app", "← on a file goes to the parent");
    press(&mut a, vec![ch('h')]);
    assert!(cv(&a).tree.is_collapsed(cv(&a).tree.cursor_node().unwrap()));
    press(&mut a, vec![ch('j'), ch('j'), ctrl(' ')]);
    assert_eq!(rows(&a), ["/app", "/data", "/etc"], "ctrl+space: all");
    assert_eq!(cursor(&a), "/data/x".rsplit_once('/').unwrap().0);
    press(&mut a, vec![ctrl(' ')]);
    assert_eq!(rows(&a).len(), 8);
}

#[test]
fn hide_toggles_follow_the_explorer_keys() {
    let mut a = app(100, 30);
    // ^A hides what B added: new.txt and data/x (data itself changed type: modified)
    press(&mut a, vec![ctrl('a')]);
    assert_eq!(
        rows(&a),
        [
            "/app",
            "/app/server",
            "/app/old.txt",
            "/data",
            "/etc",
            "/etc/conf"
        ]
    );
    // ^R: old.txt too
    press(&mut a, vec![ctrl('r')]);
    assert_eq!(
        rows(&a),
        ["/app", "/app/server", "/data", "/etc", "/etc/conf"]
    );
    // ^U hides the mode-only change of etc/conf, and with it /etc
    press(&mut a, vec![ctrl('u')]);
    assert_eq!(rows(&a), ["/app", "/app/server", "/data"]);
    // ^M (Enter): content modified: nothing left
    press(&mut a, vec![code(KeyCode::Enter)]);
    assert!(rows(&a).is_empty());
    let t = screen(&a, 100, 30);
    assert!(text(&t).contains("Nothing to show"), "{}", text(&t));
    press(&mut a, vec![ctrl('m'), ctrl('r'), ctrl('u'), ctrl('a')]);
    assert_eq!(cv(&a).tree.hide, [false; 4]);
    assert_eq!(rows(&a).len(), 8);
    let e = cv(&a);
    let conf = e.c.files.change("/etc/conf").unwrap();
    assert!(conf.metadata_only);
    assert_eq!(
        bathyscaphe::tui::compare::difftree::mark_of(conf),
        ChangeMark::Unchanged
    );
}

#[test]
fn sort_by_name_and_back_with_s_or_ctrl_o() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch('j'), ch('s')]);
    assert_eq!(cv(&a).tree.sort, SortOrder::Name);
    assert_eq!(
        rows(&a),
        [
            "/app",
            "/app/new.txt",
            "/app/old.txt",
            "/app/server",
            "/data",
            "/data/x",
            "/etc",
            "/etc/conf"
        ]
    );
    assert_eq!(cursor(&a), "/app/server", "the cursor stays on its path");
    press(&mut a, vec![ctrl('o')]);
    assert_eq!(cv(&a).tree.sort, SortOrder::SizeDesc);
    assert_eq!(rows(&a)[1], "/app/server");
}

#[test]
fn filter_as_you_type_keeps_parents_and_escape_clears() {
    let mut a = app(100, 30);
    press(&mut a, vec![code(KeyCode::Tab), ch('/')]);
    assert_eq!(cv(&a).focus, CompareFocus::Files, "/ goes to the tree");
    assert_eq!(a.scope(), Scope::Filter);
    for c in "txt".chars() {
        press(&mut a, vec![ch(c)]);
    }
    assert_eq!(rows(&a), ["/app", "/app/new.txt", "/app/old.txt"]);
    let t = screen(&a, 100, 30);
    let s = text(&t);
    assert!(s.contains("Filter: txt"), "{s}");
    assert!(s.contains("2 matches"), "{s}");
    // q is text while typing; a regex works too
    press(&mut a, vec![code(KeyCode::Backspace)]);
    press(&mut a, vec![code(KeyCode::Backspace)]);
    press(&mut a, vec![code(KeyCode::Backspace)]);
    for c in "^/(data|etc)$".chars() {
        press(&mut a, vec![ch(c)]);
    }
    assert!(!a.quit);
    // the directories match, not what is under them
    assert_eq!(rows(&a), ["/data"], "/etc did not change itself");
    press(&mut a, vec![code(KeyCode::Enter)]);
    assert_eq!(cv(&a).filter_input, None);
    assert_eq!(cv(&a).tree.filter_pattern(), Some("^/(data|etc)$"));
    press(&mut a, vec![ctrl('f'), code(KeyCode::Esc)]);
    assert_eq!(cv(&a).tree.filter_pattern(), None);
    assert_eq!(rows(&a).len(), 8);
}

#[test]
fn help_lists_the_compare_keys_and_quit_quits() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch('?')]);
    assert!(a.help);
    let s = text(&screen(&a, 100, 30));
    assert!(s.contains("Files: B against A"), "{s}");
    assert!(s.contains("by impact"), "{s}");
    assert!(
        !s.contains("extract"),
        "explorer-only keys are not listed:\n{s}"
    );
    press(&mut a, vec![ch('j')]);
    assert_eq!(
        cursor(&a),
        "/app",
        "keys do not reach the view under the help"
    );
    press(&mut a, vec![code(KeyCode::Esc), ch('q')]);
    assert!(a.quit);
    let mut b = app(100, 30);
    press(&mut b, vec![ch('/'), ctrl('c')]);
    assert!(b.quit, "ctrl+c quits even while typing a filter");
}

#[test]
fn clicks_focus_and_select_and_the_wheel_scrolls() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut a = app(100, 30);
    let ar = bathyscaphe::tui::compare::areas(a.size, cv(&a));
    let click = |x: u16, y: u16| {
        AppEvent::Term(Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }))
    };
    // the third layer row (border, header, then rows)
    press(&mut a, vec![click(5, ar.layers.y + 4)]);
    assert_eq!(cv(&a).focus, CompareFocus::Layers);
    assert_eq!(cv(&a).layer_sel, 2);
    press(&mut a, vec![click(20, ar.files_list.y + 4)]);
    assert_eq!(cv(&a).focus, CompareFocus::Files);
    assert_eq!(cursor(&a), "/data");
    press(
        &mut a,
        vec![AppEvent::Term(Event::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollUp,
            column: 20,
            row: ar.files_list.y,
            modifiers: KeyModifiers::NONE,
        }))],
    );
    assert_eq!(cursor(&a), "/app/server");
}

// ---- the loop, on a test backend -----------------------------------------------------------

#[test]
fn main_loop_shows_two_gauges_then_the_view_and_the_notes() {
    let (pa, pb) = (Arc::new(Progress::new()), Arc::new(Progress::new()));
    pa.layers_total.store(3, Ordering::Relaxed);
    pa.layers_done.store(3, Ordering::Relaxed);
    pb.layers_total.store(4, Ordering::Relaxed);
    pb.layers_done.store(1, Ordering::Relaxed);
    pb.bytes_total.store(40_000, Ordering::Relaxed);
    pb.bytes_read.store(10_000, Ordering::Relaxed);
    let mut a = App::loading_many(
        vec![("A: a.tar".into(), pa), ("B: b.tar".into(), pb)],
        Rect::new(0, 0, 80, 24),
    );
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| tui::draw(f, &a)).unwrap();
    insta::assert_snapshot!("compare_loading", t.backend());
    let (tx, rx) = std::sync::mpsc::channel();
    let mut c = compared();
    // a loader note goes to the status line (stderr would scramble the screen)
    c.notes = vec!["B: b.tar holds 2 images; reading app:2".into()];
    handle_event(&mut a, AppEvent::Compared(Box::new(Ok(c))));
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("B: b.tar holds 2 images; reading app:2"), "{s}");
    assert_eq!(cursor(&a), "/app");
    tx.send(ch('j')).unwrap();
    tx.send(ch('q')).unwrap();
    tui::run_loop(&mut t, &mut a, &rx, |_| {}).unwrap();
    assert!(a.quit);
    assert_eq!(cursor(&a), "/app/server");
}

#[test]
fn a_load_error_ends_the_loop() {
    let mut a = App::loading_many(Vec::new(), Rect::new(0, 0, 80, 24));
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    tx.send(AppEvent::Compared(Box::new(Err("b.tar: not a tar".into()))))
        .unwrap();
    tui::run_loop(&mut t, &mut a, &rx, |_| {}).unwrap();
    assert!(a.quit);
    assert!(matches!(&a.screen, Screen::Failed(m) if m.contains("not a tar")));
}

// ---- snapshots -----------------------------------------------------------------------------

#[test]
fn snapshot_compare_view() {
    let mut a = app(110, 30);
    press(&mut a, vec![ch('j')]);
    insta::assert_snapshot!("compare_110x30", screen(&a, 110, 30).backend());
}

#[test]
fn snapshot_compare_view_80x24_layers_focused() {
    let mut a = app(80, 24);
    press(&mut a, vec![code(KeyCode::Tab), code(KeyCode::End)]);
    insta::assert_snapshot!("compare_80x24_layers", screen(&a, 80, 24).backend());
}
