//! Issue 13, "the explorer, finished": one test per numbered item (`i01_…` is item 1), each
//! failing before its fix: a TestBackend screen at the size the issue names, or keys in and
//! state out. Then snapshots of every pane at 80x24 and 200x60, and the README's key table
//! against the help overlay. Fixture built by testkit; figures computed by hand below.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

use bathyscaphe::analysis::Analysis;
use bathyscaphe::progress::Progress;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{filler, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tui::keys::{Scope, BINDINGS};
use bathyscaphe::tui::state::{handle_event, App, AppEvent, Explorer, Focus, STATUS_TTL};
use bathyscaphe::tui::treeview::LayerMode;
use bathyscaphe::tui::{self};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

const LISTS: &str = "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_";
const INSTALL: &str = "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends \
gcc-12 libc6-dev golang-1.19-go make ca-certificates git && rm -rf /var/lib/apt/lists/*";

/// Layer 0 has no history command; it ships two apt lists (1510 and 1490 bytes, names that
/// differ only at their end) that layer 1 deletes, an empty directory `nested` that layer 1
/// removes, Go under /usr (5000 + 3000 + 700 bytes matching "go-1", /usr/bin/other 2000 not).
/// Layer 1 is a long RUN; CMD and EXPOSE come after it.
fn spec() -> ImageSpec {
    ImageSpec::new("fixture/finish:1")
        .layer(
            LayerSpec::new("")
                .dir("bin")
                .file_mode("bin/sh", &filler(1000, 1), 0o755)
                .dir("etc")
                .file("etc/os-release", b"ID=demo\n")
                .dir("nested")
                .file(&format!("{LISTS}binary-amd64_Packages"), &filler(1510, 2))
                .file(&format!("{LISTS}i18n_Translation-en"), &filler(1490, 3))
                .file("var/lib/dpkg/status", &filler(500, 4))
                .file("usr/lib/go-1.19/bin/go", &filler(5000, 5))
                .file("usr/lib/go-1.19/src/x.go", &filler(3000, 6))
                .file("usr/share/doc/go-1.19/README", &filler(700, 7))
                .file("usr/bin/other", &filler(2000, 8)),
        )
        .layer(
            LayerSpec::new(INSTALL)
                .after_empty("/bin/sh -c #(nop)  ENV PATH=/usr/lib/go-1.19/bin:/usr/bin")
                .whiteout(&format!("{LISTS}binary-amd64_Packages"))
                .whiteout(&format!("{LISTS}i18n_Translation-en"))
                .whiteout("nested")
                .file("app/server", &filler(4000, 9)),
        )
        .trailing("/bin/sh -c #(nop)  EXPOSE 8080")
        .trailing("/bin/sh -c #(nop)  CMD [\"/app/server\"]")
}

fn load() -> (bathyscaphe::image::Image, Analysis) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("finish.tar");
    spec()
        .write(&path, ArchiveFormat::DockerArchive, Compression::Gzip)
        .unwrap();
    let image = load_path(&path, &LoadOptions::default()).unwrap();
    let analysis = Analysis::run(&image);
    (image, analysis)
}

fn app(w: u16, h: u16) -> App {
    let (image, analysis) = load();
    App::explorer(Explorer::new(image, analysis), Rect::new(0, 0, w, h))
}

fn key(c: KeyCode, m: KeyModifiers) -> AppEvent {
    AppEvent::Term(Event::Key(KeyEvent::new(c, m)))
}
fn code(c: KeyCode) -> AppEvent {
    key(c, KeyModifiers::NONE)
}
fn ch(c: char) -> AppEvent {
    key(KeyCode::Char(c), KeyModifiers::NONE)
}
fn ctrl(c: char) -> AppEvent {
    key(KeyCode::Char(c), KeyModifiers::CONTROL)
}
fn press(app: &mut App, evs: Vec<AppEvent>) {
    for e in evs {
        handle_event(app, e);
    }
}
fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        handle_event(app, ch(c));
    }
}
fn ex(app: &App) -> &Explorer {
    app.explorer_ref().unwrap()
}
fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| tui::draw(f, app)).unwrap();
    t
}
fn text(t: &Terminal<TestBackend>) -> String {
    let b = t.backend().buffer();
    let mut s = String::new();
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            s.push_str(b[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}
/// The text of one rectangle of the screen, line by line.
fn region(t: &Terminal<TestBackend>, r: Rect) -> Vec<String> {
    let b = t.backend().buffer();
    (r.y..r.y + r.height)
        .map(|y| (r.x..r.x + r.width).map(|x| b[(x, y)].symbol()).collect())
        .collect()
}
fn node(app: &App, p: &str) -> u32 {
    ex(app).image.paths.lookup(p).unwrap()
}

// ---- layout and text -----------------------------------------------------------------------

#[test]
fn i01_help_covers_the_screen_and_uses_its_width() {
    let mut a = app(160, 45);
    press(&mut a, vec![ch('?')]);
    let t = screen(&a, 160, 45);
    let s = text(&t);
    let lines: Vec<&str> = s.lines().collect();
    // nothing of the panes shows at the sides: the overlay's border is the screen's edge
    for l in &lines[1..44] {
        assert!(l.starts_with('│') && l.ends_with('│'), "{l}");
        let inner: String = l.chars().skip(1).take(158).collect();
        assert!(!inner.contains('┘') && !inner.contains('┐'), "{l}");
    }
    // the text spreads over the width: something is written in the right third
    assert!(
        lines[1..44]
            .iter()
            .any(|l| l.chars().skip(107).take(50).any(|c| c.is_alphanumeric())),
        "{s}"
    );
    // and help texts are not wrapped at ~50 columns: a long one stays on one line
    assert!(
        s.contains("why is it big: leftovers, packages, stages"),
        "{s}"
    );
}

#[test]
fn i02_digest_efficiency_and_paths_are_never_cut_without_a_sign() {
    let mut a = app(200, 60);
    let digest = ex(&a).image.layers[0].digest.clone();
    assert_eq!(digest.len(), 71);
    assert!(text(&screen(&a, 200, 60)).contains(&digest));
    // efficiency with its two decimals and its unit at 120x40
    let a2 = app(120, 40);
    let eff = format!("{:.2} %", ex(&a2).analysis.dive.efficiency * 100.0);
    assert!(text(&screen(&a2, 120, 40)).contains(&eff), "{eff}");
    // at 160x45 the two lists, which differ only at their end, stay apart: middle-cut
    a.resize(Rect::new(0, 0, 160, 45));
    let t = screen(&a, 160, 45);
    let s = text(&t);
    assert!(s.contains("binary-amd64_Packages"), "{s}");
    assert!(s.contains("i18n_Translation-en"), "{s}");
}

#[test]
fn i03_layer_details_grow_or_say_what_they_hide() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch('j')]);
    let areas = a.areas();
    let t = screen(&a, 100, 30);
    let details = region(&t, areas.layer_details).join("\n");
    // the whole command (its last word) is there, or the pane says how many lines are not
    assert!(
        details.contains("ca-certificates git") || details.contains("more lines"),
        "{details}"
    );
    // at 200x60 there is room: the pane grows to show all of it
    a.resize(Rect::new(0, 0, 200, 60));
    let areas = a.areas();
    let details = region(&screen(&a, 200, 60), areas.layer_details).join("\n");
    assert!(details.contains("/var/lib/apt/lists/*"), "{details}");
    assert!(!details.contains("more lines"), "{details}");
}

#[test]
fn i04_attributes_hide_by_themselves_on_a_narrow_tree() {
    let mut a = app(80, 24);
    assert!(!ex(&a).tree.shows_attrs());
    let areas = a.areas();
    let tree = region(&screen(&a, 80, 24), areas.tree).join("\n");
    assert!(!tree.contains("Permission"), "{tree}");
    assert!(tree.contains("os-release"), "{tree}");
    // Ctrl-B still shows them
    press(&mut a, vec![code(KeyCode::Tab), ctrl('b')]);
    assert!(ex(&a).tree.shows_attrs());
    // a wide tree shows them by default
    assert!(ex(&app(200, 60)).tree.shows_attrs());
}

#[test]
fn i05_wrapped_names_continue_under_the_name() {
    let mut a = app(80, 24);
    press(&mut a, vec![code(KeyCode::Tab), ctrl('p'), ch('/')]);
    typed(&mut a, "Packages");
    press(&mut a, vec![code(KeyCode::Enter)]);
    let areas = a.areas();
    let rows = region(&screen(&a, 80, 24), areas.tree_list);
    let i = rows
        .iter()
        .position(|l| l.contains("└── deb."))
        .unwrap_or_else(|| panic!("{rows:#?}"));
    // in columns (the guides are several bytes each)
    let name_col = rows[i][..rows[i].find("deb.").unwrap()].chars().count();
    let next: Vec<char> = rows[i + 1].chars().collect();
    let (before, after): (String, String) = (
        next[..name_col].iter().collect(),
        next[name_col..].iter().collect(),
    );
    assert!(
        before.trim().is_empty() && after.starts_with("n.org"),
        "continuation starts under the name:\n{}\n{}",
        rows[i],
        rows[i + 1]
    );
}

#[test]
fn i06_the_layer_list_gets_the_room_the_tree_does_not_need() {
    for (w, h) in [(120, 40), (160, 45), (200, 60)] {
        let a = app(w, h);
        let areas = a.areas();
        assert!(
            areas.layers.width > w * 2 / 5,
            "{w}x{h}: layers {}",
            areas.layers.width
        );
        // the tree keeps its attributes and room for names
        assert!(ex(&a).tree.shows_attrs(), "{w}x{h}");
    }
}

#[test]
fn i07_messages_expire_and_never_cut_a_key_label() {
    let mut a = app(80, 24);
    press(&mut a, vec![code(KeyCode::Tab), ctrl('f')]);
    typed(&mut a, "go-1");
    press(&mut a, vec![code(KeyCode::Enter)]);
    // what the filter matches is in the tree's title, not a message that stays
    assert_eq!(a.status, None);
    let s = text(&screen(&a, 80, 24));
    assert!(s.contains("matches"), "{s}");
    // a message: the key bar keeps whole labels before it, and it goes away
    handle_event(
        &mut a,
        AppEvent::Status("extracted /etc/os-release to ./os-release (8 B)".into()),
    );
    let t = screen(&a, 80, 24);
    let bar = region(&t, Rect::new(0, 23, 80, 1)).remove(0);
    assert!(bar.contains("extracted /etc/os-release"), "{bar}");
    let keys = bar
        .split("extracted")
        .next()
        .unwrap()
        .trim_end()
        .to_string();
    for b in bathyscaphe::tui::keys::bar(a.scope()) {
        let label = b.bar.unwrap();
        let first = label.split(' ').next().unwrap();
        if keys.contains(first) {
            assert!(keys.contains(label), "{label} cut in {bar:?}");
        }
    }
    let now = Instant::now();
    assert!(
        a.wake_in(now, std::time::Duration::from_millis(100))
            .unwrap()
            <= STATUS_TTL
    );
    assert!(!a.expire_status(now));
    assert!(a.expire_status(now + STATUS_TTL));
    assert_eq!(a.status, None);
}

#[test]
fn i08_loading_shows_bytes_beside_the_bar() {
    let progress = Arc::new(Progress::new());
    progress.layers_total.store(6, Ordering::Relaxed);
    progress.layers_done.store(5, Ordering::Relaxed);
    progress.bytes_total.store(1_400_000_000, Ordering::Relaxed);
    progress.bytes_read.store(1_000_000_000, Ordering::Relaxed);
    let a = App::loading("big.tar".into(), progress, Rect::new(0, 0, 80, 24));
    let s = text(&screen(&a, 80, 24));
    let bar = s.lines().find(|l| l.contains('█')).unwrap();
    // the bytes are beside the bar, whole, not printed over it
    let after = bar.rsplit('█').next().unwrap();
    assert!(after.contains("1.0 GB / 1.4 GB (71 %)"), "{bar}");
    assert!(s.contains("5 of 6"), "{s}");
}

// ---- behaviour -----------------------------------------------------------------------------

#[test]
fn i09_esc_clears_a_kept_filter() {
    let mut a = app(100, 30);
    press(&mut a, vec![code(KeyCode::Tab), ctrl('f')]);
    typed(&mut a, "zzz");
    press(&mut a, vec![code(KeyCode::Enter)]);
    assert_eq!(ex(&a).tree.filter_pattern(), Some("zzz"));
    press(&mut a, vec![code(KeyCode::Esc)]);
    assert_eq!(ex(&a).tree.filter_pattern(), None);
    assert_eq!(ex(&a).focus, Focus::Tree);
}

#[test]
fn i10_esc_in_the_tree_closes_why_is_it_big() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch('b'), code(KeyCode::Tab)]);
    assert!(ex(&a).why_open);
    assert_eq!(ex(&a).focus, Focus::Tree);
    press(&mut a, vec![code(KeyCode::Esc)]);
    assert!(!ex(&a).why_open);
}

#[test]
fn i11_jumps_centre_the_target_and_keep_the_settings() {
    let mut a = app(100, 30);
    // a filter that shows the target is kept; the target is centred, its path in the title
    press(&mut a, vec![code(KeyCode::Tab), ch('/')]);
    typed(&mut a, "lists");
    press(&mut a, vec![code(KeyCode::Enter), ch('i')]);
    assert_eq!(ex(&a).focus, Focus::Wasted);
    let first = ex(&a).wasted[0].path.clone();
    assert!(first.ends_with("binary-amd64_Packages"), "{first}");
    press(&mut a, vec![code(KeyCode::Enter)]);
    let e = ex(&a);
    assert_eq!(e.cursor_path().as_deref(), Some(first.as_str()));
    assert_eq!(e.tree.filter_pattern(), Some("lists"));
    assert_eq!(a.status, None);
    // its parent folders are on screen above it
    let rows: Vec<String> = e
        .tree
        .rows(e.cx())
        .into_iter()
        .map(|n| e.image.paths.path(n))
        .collect();
    assert!(rows.contains(&"/var".to_string()), "{rows:?}");
    let s = text(&screen(&a, 100, 30));
    assert!(
        s.contains("binary-amd64_Packages ┐") || s.contains("Packages ┐"),
        "{s}"
    );

    // a filter that hides it is lifted, and the message says so
    let mut a = app(100, 30);
    press(&mut a, vec![code(KeyCode::Tab), ch('/')]);
    typed(&mut a, "go-1");
    press(&mut a, vec![code(KeyCode::Enter), ctrl('u'), ch('i')]);
    press(&mut a, vec![code(KeyCode::Enter)]);
    let e = ex(&a);
    assert!(e.cursor_path().unwrap().ends_with("binary-amd64_Packages"));
    assert_eq!(e.tree.filter_pattern(), None);
    assert!(
        e.tree.hide[3],
        "the user's hidden unmodified paths stay hidden"
    );
    let msg = a.status.clone().unwrap();
    assert!(msg.contains("filter 'go-1' lifted"), "{msg}");

    // in a tall pane the target is in the middle, not on the top row
    let mut a = app(100, 12);
    press(&mut a, vec![ch('i'), ch('j'), code(KeyCode::Enter)]);
    let e = ex(&a);
    let rows = e.tree.rows(e.cx());
    let at = rows.iter().position(|&n| n == e.tree.cursor).unwrap();
    assert!(at >= e.tree.view_h / 2 - 1, "row {at} of {}", e.tree.view_h);
}

#[test]
fn i14_wasted_only_sizes_are_the_wasted_bytes_below() {
    let mut a = app(100, 30);
    press(&mut a, vec![code(KeyCode::Tab), ch('w')]);
    let e = ex(&a);
    let cx = e.cx();
    // layer 0: /var holds 1510 + 1490 + 500 bytes, of which the two lists are wasted later
    let var = node(&a, "var");
    assert_eq!(e.tree.size(cx, var), 3500);
    assert_eq!(e.tree.shown_size(cx, var), 3000);
    let row = tui::file_tree::row_text(e, var).0;
    assert!(row.contains("3.0 kB"), "{row}");
}

#[test]
fn i15_a_filtered_directory_shows_the_sum_of_its_matches() {
    let mut a = app(100, 30);
    press(&mut a, vec![code(KeyCode::Tab), ch('/')]);
    typed(&mut a, "go-1");
    let e = ex(&a);
    let cx = e.cx();
    let usr = node(&a, "usr");
    // go 5000 + x.go 3000 + README 700; /usr/bin/other does not match
    assert_eq!(e.tree.shown_size(cx, usr), 8700);
    assert_eq!(e.tree.size(cx, usr), 10700);
    assert_eq!(e.tree.shown_size(cx, node(&a, "usr/share")), 700);
    assert_eq!(
        e.tree.shown_size(cx, node(&a, "usr/lib/go-1.19/bin/go")),
        5000
    );
    // the whole size is in the details line under the rows
    press(&mut a, vec![code(KeyCode::Enter), code(KeyCode::Home)]);
    let s = text(&screen(&a, 100, 30));
    assert!(
        s.contains("10.7 kB in all · 8.7 kB match the filter"),
        "{s}"
    );
}

#[test]
fn i16_a_removed_empty_directory_keeps_its_slash() {
    let mut a = app(100, 30);
    press(&mut a, vec![ch('j'), ctrl('l')]);
    assert_eq!(ex(&a).tree.mode, LayerMode::ChangesOnly);
    let e = ex(&a);
    let row = tui::file_tree::row_text(e, node(&a, "nested")).0;
    assert!(row.ends_with("nested/"), "{row}");
}

#[test]
fn i17_keys_typed_while_loading_apply_once_loaded() {
    let mut a = App::loading(
        "f.tar".into(),
        Arc::new(Progress::new()),
        Rect::new(0, 0, 100, 30),
    );
    press(
        &mut a,
        vec![code(KeyCode::End), code(KeyCode::Tab), ch('w')],
    );
    assert!(!a.quit);
    assert_eq!(a.pending_keys.len(), 3);
    let s = text(&screen(&a, 100, 30));
    assert!(s.contains("3 keys typed"), "{s}");
    let (image, analysis) = load();
    handle_event(&mut a, AppEvent::Loaded(Box::new(Ok((image, analysis)))));
    let e = ex(&a);
    assert_eq!(e.layer, 1);
    assert_eq!(e.focus, Focus::Tree);
    assert!(e.tree.wasted_only);
    // q still quits at once
    let mut b = App::loading(
        "f.tar".into(),
        Arc::new(Progress::new()),
        Rect::new(0, 0, 100, 30),
    );
    press(&mut b, vec![ch('q')]);
    assert!(b.quit);
}

#[test]
fn i18_idle_the_loop_draws_nothing() {
    let mut a = app(80, 24);
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..20 {
        tx.send(AppEvent::Tick).unwrap();
    }
    tx.send(ch('j')).unwrap();
    for _ in 0..20 {
        tx.send(AppEvent::Tick).unwrap();
    }
    tx.send(ch('q')).unwrap();
    tui::run_loop(&mut t, &mut a, &rx, |_| {}).unwrap();
    // the first frame, one after `j` (with the ticks queued around it), one after `q`
    assert!(a.frames <= 3, "{} frames", a.frames);
    // exploring with no message, nothing wakes the loop but an event
    assert_eq!(
        a.wake_in(Instant::now(), std::time::Duration::from_millis(100)),
        None
    );
}

#[test]
fn i19_tab_goes_layers_and_tree_as_dive_details_have_their_own_key() {
    let mut a = app(100, 30);
    assert_eq!(ex(&a).focus, Focus::Layers);
    press(&mut a, vec![code(KeyCode::Tab)]);
    assert_eq!(ex(&a).focus, Focus::Tree);
    press(&mut a, vec![code(KeyCode::Tab)]);
    assert_eq!(ex(&a).focus, Focus::Layers);
    press(&mut a, vec![ch('i')]);
    assert_eq!(ex(&a).focus, Focus::Wasted);
    press(&mut a, vec![ch('i')]);
    assert_eq!(ex(&a).focus, Focus::Layers);
    // Shift-Tab goes backwards through all three
    press(&mut a, vec![key(KeyCode::BackTab, KeyModifiers::SHIFT)]);
    assert_eq!(ex(&a).focus, Focus::Wasted);
    press(&mut a, vec![key(KeyCode::BackTab, KeyModifiers::SHIFT)]);
    assert_eq!(ex(&a).focus, Focus::Tree);
    // the help says so
    press(&mut a, vec![ch('?')]);
    let s = text(&screen(&a, 200, 60));
    assert!(s.contains("Layers ⇄ file tree"), "{s}");
    assert!(s.contains("Image details: the wasted paths"), "{s}");
}

// ---- content: parity and one name for one thing ----------------------------------------------

#[test]
fn i20_dive_figures_beside_ours_each_labelled() {
    let a = app(200, 60);
    let e = ex(&a);
    let s = text(&screen(&a, 200, 60));
    // dive's rules (DESIGN-NOTES §1): each list is a leaf in layer 0 (1510 and 1490 bytes)
    // and a whiteout leaf in layer 1 (a file: 0), so both count twice: 3000 in all
    assert_eq!(e.analysis.dive.wasted_bytes, 3000);
    assert!(s.contains("dive's wasted 3.0 kB"), "{s}");
    assert!(s.contains("True waste 3.0 kB"), "{s}");
    assert!(s.contains("dive total"), "{s}");
    let mut a = a;
    press(&mut a, vec![ch('?')]);
    let s = text(&screen(&a, 200, 60));
    // (the note wraps where the help's columns put it: its words, not its line breaks)
    assert!(s.contains("wasted bytes add up every copy"), "{s}");
}

#[test]
fn i21_a_layer_without_history_has_one_label_everywhere() {
    let a = app(100, 30);
    let e = ex(&a);
    assert_eq!(e.image.layers[0].label(), "(no history)");
    let s = text(&screen(&a, 100, 30));
    assert!(s.contains("(no history)"), "{s}");
    let report = bathyscaphe::report::text::render(&e.image, &e.analysis);
    assert!(report.contains("(no history)"), "{report}");
    // a history comment names what was imported, in the explorer and the report alike
    let (mut image, analysis) = load();
    image.layers[0].history.as_mut().unwrap().comment = Some("debootstrap minbase".into());
    assert_eq!(image.layers[0].label(), "(imported: debootstrap minbase)");
    let report = bathyscaphe::report::text::render(&image, &analysis);
    assert!(
        report.contains("(imported: debootstrap minbase)"),
        "{report}"
    );
    let b = App::explorer(Explorer::new(image, analysis), Rect::new(0, 0, 200, 60));
    let s = text(&screen(&b, 200, 60));
    assert!(s.contains("(imported: debootstrap minbase)"), "{s}");
}

#[test]
fn i22_config_steps_after_the_last_layer_show_dimmed() {
    let mut a = app(120, 40);
    press(&mut a, vec![code(KeyCode::End)]);
    let areas = a.areas();
    let t = screen(&a, 120, 40);
    let rows = region(&t, areas.layers);
    let i = rows.iter().position(|l| l.contains("EXPOSE 8080")).unwrap();
    assert!(rows[i + 1].contains("CMD [\"/app/server\"]"), "{rows:#?}");
    let y = areas.layers.y + i as u16;
    let b = t.backend().buffer();
    let cell = &b[(areas.layers.x + 30, y)];
    assert_eq!(cell.fg, ratatui::style::Color::DarkGray);
}

// ---- snapshots of every pane at 80x24 and 200x60 ---------------------------------------------

#[test]
fn snapshots_at_80x24_and_200x60() {
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        let mut a = app(w, h);
        press(&mut a, vec![ch('j')]);
        insta::assert_snapshot!(format!("layers_{w}x{h}"), screen(&a, w, h).backend());
        press(&mut a, vec![code(KeyCode::Tab), ch('/')]);
        typed(&mut a, "go-1");
        press(&mut a, vec![code(KeyCode::Enter), ch('j'), ch('j')]);
        insta::assert_snapshot!(format!("tree_filtered_{w}x{h}"), screen(&a, w, h).backend());
        press(&mut a, vec![code(KeyCode::Esc), ch('i')]);
        insta::assert_snapshot!(format!("image_details_{w}x{h}"), screen(&a, w, h).backend());
        press(&mut a, vec![ch('?')]);
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen(&a, w, h).backend());
        let progress = Arc::new(Progress::new());
        progress.layers_total.store(2, Ordering::Relaxed);
        progress.layers_done.store(1, Ordering::Relaxed);
        progress.bytes_total.store(40_000, Ordering::Relaxed);
        progress.bytes_read.store(10_000, Ordering::Relaxed);
        let l = App::loading("finish.tar".into(), progress, Rect::new(0, 0, w, h));
        insta::assert_snapshot!(format!("loading_{w}x{h}"), screen(&l, w, h).backend());
    }
}

// ---- the README's key table and the help overlay list the same keys -------------------------

/// How the README writes a key the help shows as `label`.
fn readme_spelling(label: &str) -> String {
    match label {
        "S-Tab" => "Shift-Tab".into(),
        "Bksp" => "Backspace".into(),
        l if l.starts_with('^') => format!("Ctrl-{}", &l[1..]),
        l => l.into(),
    }
}

#[test]
fn readme_key_table_and_help_list_the_same_keys() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## The explorer")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    // every `key` in the first column of the key table
    let mut in_readme = std::collections::BTreeSet::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split(" | ").next().unwrap();
        for (i, part) in first.split('`').enumerate() {
            if i % 2 == 1 {
                in_readme.insert(part.to_string());
            }
        }
    }
    // every key the explorer's help lists
    let mut in_help = std::collections::BTreeSet::new();
    for b in BINDINGS
        .iter()
        .filter(|b| Scope::EXPLORER.contains(&b.scope))
    {
        for k in b.keys {
            in_help.insert(readme_spelling(&k.label()));
        }
    }
    for k in bathyscaphe::tui::keys::HELP_CLOSE {
        in_help.insert(readme_spelling(&k.label()));
    }
    assert_eq!(in_readme, in_help);
    // and the overlay really shows each of them
    let mut a = app(200, 60);
    press(&mut a, vec![ch('?')]);
    let s = text(&screen(&a, 200, 60));
    for b in BINDINGS
        .iter()
        .filter(|b| Scope::EXPLORER.contains(&b.scope))
    {
        let l = bathyscaphe::tui::keys::keys_label(b);
        assert!(s.contains(&l), "{l} not in the help:\n{s}");
    }
}
