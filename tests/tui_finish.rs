//! Issue 13, "the explorer, finished": one test per numbered item (`i01_…` is item 1), each
//! failing before its fix: a TestBackend screen at the size the issue names, or keys in and
//! state out. Then snapshots of every pane at 80x24 and 200x60, and the README's key table
//! against the help overlay. Fixture built by testkit; figures computed by hand below.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

mod common;

use bathyscaphe::analysis::leftovers::Category;
use bathyscaphe::analysis::Analysis;
use bathyscaphe::progress::Progress;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{filler, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tui::keys::{Scope, BINDINGS};
use bathyscaphe::tui::state::{handle_event, App, AppEvent, Explorer, Focus, STATUS_TTL};
use bathyscaphe::tui::treeview::LayerMode;
use bathyscaphe::tui::{self};
use common::term::*;
use crossterm::event::{KeyCode, KeyModifiers};
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
    let report = bathyscaphe::report::text::render(&e.image, &e.analysis, 100);
    assert!(report.contains("(no history)"), "{report}");
    // a history comment names what was imported, in the explorer and the report alike
    let (mut image, analysis) = load();
    image.layers[0].history.as_mut().unwrap().comment = Some("debootstrap minbase".into());
    assert_eq!(image.layers[0].label(), "(imported: debootstrap minbase)");
    let report = bathyscaphe::report::text::render(&image, &analysis, 100);
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

// ---- items 23-29: "why is it big" and the text reports ---------------------------------------

const WHY_INSTALL: &str =
    "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends \
gcc gcc-12 cpp-12 make libc6-dev git && echo installed the compilers and the libraries git needs";
const WHY_PURGE: &str = "/bin/sh -c apt-get purge -y gcc make && apt-get autoremove -y";

fn dpkg_status(pkgs: &[&str]) -> Vec<u8> {
    let mut s = String::new();
    for name in pkgs {
        let deps = if *name == "git" {
            "Depends: libcurl3-gnutls\n"
        } else {
            ""
        };
        s += &format!("Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 1.0\n{deps}Description: x\n more\n\n");
    }
    s.into_bytes()
}

/// Layer 0: bash (1200). Layer 1 installs gcc (/usr/bin/gcc 100), gcc-12 (cc1 9000), cpp-12
/// (2000), make (400), libc6-dev (stdio.h 800), git (3000) and, automatically for git alone,
/// libcurl3-gnutls (700). Layer 2 builds /usr/local/bin/noop (300). Layer 3 purges gcc and
/// make, and autoremove takes cpp-12: 100 + 2000 + 400 = 2500 bytes still ship in layer 1.
fn why_spec() -> ImageSpec {
    let all = [
        "bash",
        "gcc",
        "gcc-12",
        "cpp-12",
        "make",
        "libc6-dev",
        "git",
        "libcurl3-gnutls",
    ];
    let kept = ["bash", "gcc-12", "libc6-dev", "git", "libcurl3-gnutls"];
    let mut install = LayerSpec::new(WHY_INSTALL)
        .file("var/lib/dpkg/status", &dpkg_status(&all))
        .file(
            "var/lib/apt/extended_states",
            b"Package: libcurl3-gnutls\nArchitecture: amd64\nAuto-Installed: 1\n\n",
        );
    let files: [(&str, &str, usize); 7] = [
        ("gcc", "usr/bin/gcc", 100),
        ("gcc-12", "usr/lib/gcc/x86_64-linux-gnu/12/cc1", 9000),
        ("cpp-12", "usr/bin/cpp-12", 2000),
        ("make", "usr/bin/make", 400),
        ("libc6-dev", "usr/include/stdio.h", 800),
        ("git", "usr/bin/git", 3000),
        (
            "libcurl3-gnutls",
            "usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4",
            700,
        ),
    ];
    for (i, (pkg, path, size)) in files.iter().enumerate() {
        install = install.file(path, &filler(*size, 20 + i as u64)).file(
            &format!("var/lib/dpkg/info/{pkg}.list"),
            format!("/{path}\n").as_bytes(),
        );
    }
    let mut purge = LayerSpec::new(WHY_PURGE).file("var/lib/dpkg/status", &dpkg_status(&kept));
    for (pkg, path, _) in files
        .iter()
        .filter(|f| ["gcc", "cpp-12", "make"].contains(&f.0))
    {
        purge = purge
            .whiteout(path)
            .whiteout(&format!("var/lib/dpkg/info/{pkg}.list"));
    }
    ImageSpec::new("fixture/why-finish:1")
        .layer(
            LayerSpec::new("")
                .file("usr/bin/bash", &filler(1200, 10))
                .file("var/lib/dpkg/status", &dpkg_status(&["bash"]))
                .file("var/lib/dpkg/info/bash.list", b"/usr/bin/bash\n"),
        )
        .layer(install)
        .layer(
            LayerSpec::new("/bin/sh -c gcc -o /usr/local/bin/noop /tmp/a.c")
                .file("usr/local/bin/noop", &filler(300, 30)),
        )
        .layer(purge)
        .cmd(&["/usr/local/bin/noop"])
}

fn why_loaded() -> (
    bathyscaphe::image::Image,
    Analysis,
    bathyscaphe::analysis::why::WhyReport,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("why.tar");
    why_spec()
        .write(&path, ArchiveFormat::DockerArchive, Compression::Gzip)
        .unwrap();
    let image = load_path(
        &path,
        &LoadOptions {
            capture: Some(bathyscaphe::analysis::capture::why_capture()),
            ..Default::default()
        },
    )
    .unwrap();
    let analysis = Analysis::run(&image);
    let why = bathyscaphe::analysis::why::WhyReport::run(&image, &analysis, &Default::default());
    (image, analysis, why)
}

fn why_app(w: u16, h: u16) -> App {
    let (image, analysis, why) = why_loaded();
    let mut a = App::explorer(Explorer::new(image, analysis), Rect::new(0, 0, w, h));
    handle_event(&mut a, AppEvent::Why(Box::new(Ok(why))));
    press(&mut a, vec![ch('b')]);
    a
}

fn why_text(width: usize) -> String {
    let (_, _, why) = why_loaded();
    bathyscaphe::report::text::render_why(&bathyscaphe::report::why::WhyView::new(&why), width)
}

/// The screen row holding `needle`, and the column (in cells) where it starts.
fn find_on(t: &Terminal<TestBackend>, needle: &str) -> Option<(u16, u16)> {
    let b = t.backend().buffer();
    for y in 0..b.area.height {
        let row: Vec<&str> = (0..b.area.width).map(|x| b[(x, y)].symbol()).collect();
        let line: String = row.concat();
        if let Some(i) = line.find(needle) {
            let col = line[..i].chars().count() as u16;
            return Some((y, col));
        }
    }
    None
}

#[test]
fn i23_the_why_pane_is_a_table() {
    use bathyscaphe::tui::why::LineKind;
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        let a = why_app(w, h);
        let e = ex(&a);
        let lines: Vec<&str> = e.why_lines.iter().map(|l| l.text.as_str()).collect();
        // column headers over the leftovers, the packages and the stages
        for header in ["Category", "Name and version", "Command"] {
            let l = e
                .why_lines
                .iter()
                .find(|l| l.text.contains(header))
                .unwrap_or_else(|| panic!("no {header:?} header in {lines:#?}"));
            assert_eq!(l.kind, LineKind::Columns, "{}", l.text);
        }
        // the install command heads its group once; its rows do not repeat it
        let install = "apt-get update && apt-get install";
        let groups: Vec<_> = e
            .why_lines
            .iter()
            .filter(|l| l.kind == LineKind::Group && l.text.contains(install))
            .collect();
        assert_eq!(groups.len(), 1, "{lines:#?}");
        assert!(e
            .why_lines
            .iter()
            .filter(|l| l.category.is_some())
            .all(|l| !l.text.contains(install)));
        // the headline and the recommendations of the text report are in the pane
        assert!(
            lines[0].starts_with("gcc and 2 other packages"),
            "{lines:#?}"
        );
        assert!(lines
            .iter()
            .any(|l| l.starts_with("→ Compile in a build stage")));
        // estimates are plain text, not dimmed notes
        let est = e
            .why_lines
            .iter()
            .find(|l| l.text.contains("without leftovers"))
            .unwrap();
        assert_eq!(est.kind, LineKind::Plain);
        insta::assert_snapshot!(format!("why_{w}x{h}"), screen(&a, w, h).backend());
    }
    // on screen: the category word in its colour, the estimates not in dim grey
    let a = why_app(200, 60);
    let t = screen(&a, 200, 60);
    let b = t.backend().buffer();
    let (y, x) = find_on(&t, "build-deps  ").expect("a build-deps row");
    let want = bathyscaphe::tui::theme::category(Category::BuildDeps).fg;
    assert_eq!(b[(x, y)].fg, want.unwrap());
    let (y, x) = find_on(&t, "without leftovers").expect("the estimate");
    assert_ne!(b[(x, y)].fg, ratatui::style::Color::DarkGray);
}

#[test]
fn i24_what_build_tools_pull_in_is_build_deps_documented_everywhere() {
    let (_, _, why) = why_loaded();
    // libcurl3-gnutls: 700 bytes, installed automatically, only git (a build tool) needs it
    let curl = why
        .leftovers
        .iter()
        .find(|l| l.package.as_deref() == Some("libcurl3-gnutls"))
        .expect("a libcurl finding");
    assert_eq!((curl.category, curl.bytes), (Category::BuildDeps, 700));
    assert_eq!(curl.category.as_str(), "build-deps");
    // text, JSON and the pane name it so
    assert!(
        why_text(100)
            .contains("build-deps      /usr/lib/x86_64-linux-gnu (package libcurl3-gnutls)"),
        "{}",
        why_text(100)
    );
    let json = serde_json::to_value(&why.leftovers).unwrap();
    assert!(json
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["category"] == "build-deps"));
    let a = why_app(120, 40);
    assert!(ex(&a)
        .why_lines
        .iter()
        .any(|l| l.category == Some(Category::BuildDeps) && l.text.contains("libcurl3-gnutls")));
    // every category is documented for JSON readers, the CI and rules-file writers
    let root = env!("CARGO_MANIFEST_DIR");
    for doc in ["docs/json.md", "docs/ci.md", "assets/leftover-rules.yaml"] {
        let text = std::fs::read_to_string(format!("{root}/{doc}")).unwrap();
        for c in Category::ALL {
            assert!(
                text.contains(c.as_str()),
                "{doc} does not name {}",
                c.as_str()
            );
        }
    }
}

#[test]
fn i25_text_columns_fit_the_width_and_cut_with_an_ellipsis() {
    for width in [80usize, 100] {
        let text = why_text(width);
        for l in text.lines() {
            assert!(l.chars().count() <= width, "{width}: {l:?}");
        }
        // the install command is longer than the width: cut with "…"
        let group = text
            .lines()
            .find(|l| l.starts_with("  layer 1: "))
            .expect("the install group");
        assert!(group.ends_with('…'), "{group}");
    }
    // the libcurl row at 80 columns: size and category whole, the path cut in its middle
    let text = why_text(80);
    let row = text.lines().find(|l| l.contains("libcurl")).unwrap();
    assert!(
        row.starts_with("        700 B  build-deps      /usr"),
        "{row}"
    );
    assert!(
        row.contains('…') && row.ends_with("(package libcurl3-gnutls)"),
        "{row}"
    );
    // stages: `base?` and `build?` take the same column, the stage column after it lines up
    let stages: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Stages ("))
        .skip(1)
        .take_while(|l| !l.starts_with("  total"))
        .collect();
    assert_eq!(stages.len(), 4, "{text}");
    let col = |l: &str| l.find(" - ").unwrap();
    assert!(
        stages.iter().all(|l| col(l) == col(stages[0])),
        "{stages:#?}"
    );
    // the whole report on a pipe: 100 columns
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("why.tar");
    why_spec()
        .write(&img, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let out = common::run(&[img.to_str().unwrap(), "--no-tui"], dir.path());
    let stdout = common::stdout(&out);
    assert!(out.status.success(), "{}", common::stderr(&out));
    for l in stdout.lines() {
        assert!(l.chars().count() <= 100, "{l:?}");
    }
    assert!(stdout.contains("apt-get install -y --no-install-recommends gcc"));
}

#[test]
fn i26_one_build_stage_tip_that_names_this_images_case() {
    let text = why_text(200);
    let tips: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  → ") && l.contains("stage"))
        .collect();
    // compiler (gcc-toolchain), dev-files (headers) and build-deps advice: one tip, the
    // largest finding's, with what a build stage keeps here: cc1 9000 + stdio.h 800 +
    // libcurl 700 = 10500 bytes
    assert_eq!(tips.len(), 1, "{text}");
    assert!(tips[0].contains("Compile in a build stage"), "{}", tips[0]);
    assert!(
        tips[0].ends_with(
            "Here it would keep 10.5 kB out of the image: gcc, include, libcurl3-gnutls."
        ),
        "{}",
        tips[0]
    );
}

#[test]
fn i27_packages_removed_in_a_later_layer_are_the_headline() {
    let text = why_text(100);
    let lines: Vec<&str> = text.lines().collect();
    // gcc (100), cpp-12 (2000) and make (400): installed by layer 1, purged by layer 3
    assert_eq!(lines[0], "Why is it big:");
    assert_eq!(
        lines[1],
        "  gcc and 2 other packages installed in layer 1 and removed in layer 3: 2.5 kB still ship"
    );
    assert!(lines[2].starts_with("    → Install, use and remove them in one RUN (`apt-get"));
    assert!(text.contains("or build in a separate stage"), "{text}");
    // in the pane: the first line, and Enter on it shows layer 1
    let a = why_app(200, 60);
    let first = &ex(&a).why_lines[0];
    assert!(first
        .text
        .ends_with("removed in layer 3: 2.5 kB still ship"));
    assert_eq!(first.target, bathyscaphe::tui::why::WhyTarget::Layer(1));
}

/// A file rewritten by layer 1: dive counts both copies (20000 bytes), true waste the hidden
/// one (10000); both dive rules fail on it.
fn ci_image(dir: &std::path::Path) -> std::path::PathBuf {
    let img = dir.join("ci.tar");
    ImageSpec::new("fixture/ci:1")
        .layer(LayerSpec::new("ADD file:x in /").file("data/a.bin", &filler(10_000, 1)))
        .layer(LayerSpec::new("/bin/sh -c make").file("data/a.bin", &filler(10_000, 2)))
        .write(&img, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    img
}

#[test]
fn i28_the_ci_text_prints_each_culprit_once() {
    let dir = tempfile::tempdir().unwrap();
    let img = ci_image(dir.path());
    let out = common::run(&[img.to_str().unwrap(), "--ci"], dir.path());
    let s = common::stdout(&out);
    assert!(s.contains("FAIL  lowest-efficiency"), "{s}");
    assert!(s.contains("FAIL  highest-user-wasted-percent"), "{s}");
    assert_eq!(s.matches("/data/a.bin").count(), 1, "{s}");
    assert!(
        s.contains("the same 1 culprit listed under lowest-efficiency above"),
        "{s}"
    );
}

#[test]
fn i29_dives_figure_and_true_waste_are_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let img = ci_image(dir.path());
    let ci = common::stdout(&common::run(&[img.to_str().unwrap(), "--ci"], dir.path()));
    let label = ci
        .lines()
        .position(|l| {
            l.trim_start()
                .starts_with("dive's figure, every copy counted")
        })
        .unwrap_or_else(|| panic!("{ci}"));
    let row = ci.lines().nth(label + 1).unwrap();
    assert!(row.contains("20.0 kB  /data/a.bin"), "{ci}");
    let text = common::stdout(&common::run(
        &[img.to_str().unwrap(), "--no-tui"],
        dir.path(),
    ));
    let head = text
        .lines()
        .position(|l| l.starts_with("Top wasted paths (true waste"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        text.lines()
            .nth(head + 1)
            .unwrap()
            .contains("10.0 kB  /data/a.bin"),
        "{text}"
    );
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
