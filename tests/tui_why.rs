//! The explorer's "why is it big" pane without a terminal: `b` opens and closes it, the move
//! keys walk its findings, `Enter` shows a finding in the tree at its layer; a snapshot. The
//! image is built by testkit; expected bytes are worked out from the spec in the comments.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

use bathyscaphe::analysis::capture::why_capture;
use bathyscaphe::analysis::why::{WhyOptions, WhyReport};
use bathyscaphe::analysis::Analysis;
use bathyscaphe::report::{self, why::WhyView};
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tui::keys::Scope;
use bathyscaphe::tui::state::{handle_event, App, AppEvent, Explorer, Focus};
use bathyscaphe::tui::treeview::LayerMode;
use bathyscaphe::tui::why::{LineKind, WhyTarget};
use bathyscaphe::tui::{self};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

fn status(pkgs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::new();
    for (name, version) in pkgs {
        s += &format!("Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: {version}\nDescription: x\n more\n\n");
    }
    s.into_bytes()
}

/// Base (bash 1200), an install layer (gcc-12: 3000 + 9000, apt lists 5000), the app with its
/// `.git` (1000 + 23) and the server (2000).
fn spec() -> ImageSpec {
    ImageSpec::new("why/app:1")
        .layer(
            LayerSpec::new("ADD file:rootfs in /")
                .file_sized("usr/bin/bash", 1200, 1)
                .file("var/lib/dpkg/status", &status(&[("bash", "5.2-1")]))
                .file("var/lib/dpkg/info/bash.list", b"/usr/bin/bash\n"),
        )
        .layer(
            LayerSpec::new("/bin/sh -c apt-get update && apt-get install -y gcc-12")
                .file_sized("usr/bin/gcc-12", 3000, 2)
                .file_sized("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 9000, 3)
                .file(
                    "var/lib/dpkg/status",
                    &status(&[("bash", "5.2-1"), ("gcc-12", "12.2.0")]),
                )
                .file(
                    "var/lib/dpkg/info/gcc-12.list",
                    b"/usr/bin/gcc-12\n/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n",
                )
                .file_sized(
                    "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
                    5000,
                    4,
                ),
        )
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) COPY dir:abc in /app ")
                .file_sized("app/server", 2000, 5)
                .file_sized("app/.git/HEAD", 23, 6)
                .file_sized("app/.git/objects/ab/cdef", 1000, 7),
        )
        .cmd(&["/app/server"])
}

fn loaded() -> (Explorer, WhyReport) {
    loaded_from(spec())
}

fn loaded_from(spec: ImageSpec) -> (Explorer, WhyReport) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("why.tar");
    spec.write(&path, ArchiveFormat::DockerArchive, Compression::Gzip)
        .unwrap();
    let image = load_path(
        &path,
        &LoadOptions {
            capture: Some(why_capture()),
            ..Default::default()
        },
    )
    .unwrap();
    let analysis = Analysis::run(&image);
    let why = WhyReport::run(&image, &analysis, &WhyOptions::default());
    (Explorer::new(image, analysis), why)
}

fn app(w: u16, h: u16) -> App {
    let (ex, why) = loaded();
    let mut a = App::explorer(ex, Rect::new(0, 0, w, h));
    handle_event(&mut a, AppEvent::Why(Box::new(Ok(why))));
    a
}

fn key(c: KeyCode) -> AppEvent {
    AppEvent::Term(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}
fn ch(c: char) -> AppEvent {
    key(KeyCode::Char(c))
}
fn press(app: &mut App, evs: Vec<AppEvent>) {
    for e in evs {
        handle_event(app, e);
    }
}
fn ex(app: &App) -> &Explorer {
    app.explorer_ref().unwrap()
}
fn text(app: &App, w: u16, h: u16) -> (Terminal<TestBackend>, String) {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| tui::draw(f, app)).unwrap();
    let b = t.backend().buffer().clone();
    let mut s = String::new();
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            s.push_str(b[(x, y)].symbol());
        }
        s.push('\n');
    }
    (t, s)
}
/// The selected line's target.
fn target(app: &App) -> WhyTarget {
    let e = ex(app);
    e.why_lines[e.why_sel].target.clone()
}

#[test]
fn b_opens_the_pane_in_place_of_layers_and_details_and_closes_it() {
    let mut a = app(110, 32);
    press(&mut a, vec![ch('b')]);
    assert!(ex(&a).why_open);
    assert_eq!(ex(&a).focus, Focus::Why);
    assert_eq!(a.scope(), Scope::Why);
    let (_, s) = text(&a, 110, 32);
    assert!(s.contains("Why is it big"), "{s}");
    assert!(!s.contains("Image details"), "{s}");
    // Tab goes between the pane and the tree only
    press(&mut a, vec![key(KeyCode::Tab)]);
    assert_eq!(ex(&a).focus, Focus::Tree);
    press(&mut a, vec![key(KeyCode::Tab)]);
    assert_eq!(ex(&a).focus, Focus::Why);
    // Esc (or b) closes it: back to the layers
    press(&mut a, vec![key(KeyCode::Esc)]);
    assert!(!ex(&a).why_open);
    assert_eq!(ex(&a).focus, Focus::Layers);
    let (_, s) = text(&a, 110, 32);
    assert!(s.contains("Image details"), "{s}");
    press(&mut a, vec![key(KeyCode::Tab), ch('b')]);
    assert!(ex(&a).why_open, "b works from the tree too");
}

#[test]
fn findings_list_leftovers_packages_and_stages_with_bytes_and_layers() {
    let mut a = app(110, 32);
    press(&mut a, vec![ch('b')]);
    let e = ex(&a);
    let texts: Vec<&str> = e.why_lines.iter().map(|l| l.text.as_str()).collect();
    let find = |needle: &str| {
        texts
            .iter()
            .find(|t| t.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}: {texts:#?}"))
            .to_string()
    };
    // a leftover's layer heads its group: the nearest group line above it
    let group_of = |needle: &str| {
        let i = texts.iter().position(|t| t.contains(needle)).unwrap();
        e.why_lines[..i]
            .iter()
            .rev()
            .find(|l| l.kind == LineKind::Group)
            .map(|l| l.text.clone())
            .unwrap_or_default()
    };
    // apt lists: the 5000-byte InRelease, written by layer 1
    let lists = find("/var/lib/apt/lists");
    assert!(lists.contains("5.0 kB"), "{lists}");
    assert!(group_of("/var/lib/apt/lists").starts_with("L1 "));
    // .git: HEAD 23 + one object 1000 = 1023 bytes, layer 2
    let git = find("/app/.git");
    assert!(git.contains("1.0 kB"), "{git}");
    assert!(group_of("/app/.git").starts_with("L2 "));
    // gcc-12 owns 3000 + 9000 = 12000 bytes, installed by layer 1, a build tool
    let gcc = find("gcc-12 12.2.0");
    assert!(gcc.contains("12.0 kB") && gcc.contains("L1"), "{gcc}");
    assert!(gcc.contains("build tool"), "{gcc}");
    // every layer has a stage line
    assert!(texts.iter().any(|t| t.starts_with("Stages")), "{texts:#?}");
    assert!(find("Estimates").starts_with("Estimates"));
    // final files: 1200 + 3000 + 9000 + 5000 + 2000 + 23 + 1000 + the dpkg files
    assert_eq!(
        e.why
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap()
            .estimates
            .final_bytes,
        {
            let status_len = status(&[("bash", "5.2-1"), ("gcc-12", "12.2.0")]).len() as u64;
            let lists_len = b"/usr/bin/bash\n".len() as u64
                + b"/usr/bin/gcc-12\n/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n".len() as u64;
            1200 + 3000 + 9000 + 5000 + 2000 + 23 + 1000 + status_len + lists_len
        }
    );
}

#[test]
fn enter_on_a_leftover_shows_it_in_the_tree_at_its_layer() {
    let mut a = app(110, 32);
    press(&mut a, vec![ch('b')]);
    // walk to the .git finding
    for _ in 0..ex(&a).why_lines.len() {
        if matches!(target(&a), WhyTarget::Path { ref path, .. } if path == "/app/.git") {
            break;
        }
        press(&mut a, vec![ch('j')]);
    }
    assert!(matches!(target(&a), WhyTarget::Path { layer: 2, .. }));
    press(&mut a, vec![key(KeyCode::Enter)]);
    let e = ex(&a);
    assert_eq!(e.focus, Focus::Tree);
    assert_eq!(e.layer, 2);
    assert_eq!(e.tree.mode, LayerMode::Aggregated);
    assert_eq!(e.cursor_path().as_deref(), Some("/app/.git"));
    assert!(e.why_open, "the pane stays, Tab goes back to it");
    assert_eq!(a.status, None);
}

#[test]
fn enter_on_a_stage_line_shows_that_layers_changes() {
    let mut a = app(110, 32);
    press(&mut a, vec![ch('b'), key(KeyCode::End)]);
    while !matches!(target(&a), WhyTarget::Layer(1)) {
        press(&mut a, vec![ch('k')]);
    }
    press(&mut a, vec![key(KeyCode::Enter)]);
    let e = ex(&a);
    assert_eq!(
        (e.layer, e.tree.mode, e.focus),
        (1, LayerMode::ChangesOnly, Focus::Tree)
    );
}

#[test]
fn before_the_report_arrives_the_pane_says_so() {
    let (ex0, _) = loaded();
    let mut a = App::explorer(ex0, Rect::new(0, 0, 100, 30));
    press(&mut a, vec![ch('b')]);
    let (_, s) = text(&a, 100, 30);
    assert!(s.contains("Looking for leftovers"), "{s}");
    // Enter with nothing to show does nothing
    press(&mut a, vec![key(KeyCode::Enter)]);
    assert_eq!(ex(&a).focus, Focus::Why);
    handle_event(
        &mut a,
        AppEvent::Why(Box::new(Err("rules.yaml: bad".into()))),
    );
    let (_, s) = text(&a, 100, 30);
    assert!(s.contains("rules.yaml: bad"), "{s}");
}

#[test]
fn snapshot_why_pane() {
    let mut a = app(120, 34);
    press(&mut a, vec![ch('b'), ch('j')]);
    let (t, _) = text(&a, 120, 34);
    insta::assert_snapshot!("why_120x34", t.backend());
}

#[test]
fn b_is_bound_in_every_explorer_pane_and_not_in_the_compare_view() {
    use bathyscaphe::tui::keys::{bar, lookup, Action};
    let b = KeyEvent::new(KeyCode::Char('b'), KeyModifiers::NONE);
    for s in [Scope::Layers, Scope::Tree, Scope::Wasted, Scope::Why] {
        assert_eq!(lookup(s, &b), Some(Action::ToggleWhy), "{s:?}");
    }
    for s in [Scope::CompareLayers, Scope::CompareTree, Scope::Filter] {
        assert_ne!(lookup(s, &b), Some(Action::ToggleWhy), "{s:?}");
    }
    assert!(bar(Scope::Layers)
        .iter()
        .any(|x| x.action == Action::ToggleWhy));
    assert!(!bar(Scope::CompareTree)
        .iter()
        .any(|x| x.action == Action::ToggleWhy));
}

/// The pane and the text report show one view: what the text report recommends and what it
/// finds removed later but still shipped are in the pane too (the pane used to miss both).
#[test]
fn the_pane_shows_the_text_reports_recommendations_and_removed_packages() {
    // spec() plus make installed (400 bytes) in layer 3 and purged in layer 4
    let spec = spec()
        .layer(
            LayerSpec::new("/bin/sh -c apt-get install -y make")
                .file_sized("usr/bin/make", 400, 8)
                .file(
                    "var/lib/dpkg/status",
                    &status(&[("bash", "5.2-1"), ("gcc-12", "12.2.0"), ("make", "4.3")]),
                )
                .file("var/lib/dpkg/info/make.list", b"/usr/bin/make\n"),
        )
        .layer(
            LayerSpec::new("/bin/sh -c apt-get purge -y make")
                .whiteout("usr/bin/make")
                .whiteout("var/lib/dpkg/info/make.list")
                .file(
                    "var/lib/dpkg/status",
                    &status(&[("bash", "5.2-1"), ("gcc-12", "12.2.0")]),
                ),
        );
    let (ex0, why) = loaded_from(spec);
    let text = report::text::render_why(&WhyView::new(&why), 200);
    let mut a = App::explorer(ex0, Rect::new(0, 0, 110, 32));
    handle_event(&mut a, AppEvent::Why(Box::new(Ok(why))));
    press(&mut a, vec![ch('b')]);
    let pane: Vec<&str> = ex(&a).why_lines.iter().map(|l| l.text.as_str()).collect();
    let in_pane = |needle: &str| pane.iter().any(|t| t.contains(needle));

    // the apt lists (layer 1) are a leftover; the text report and the pane give the same advice
    let advice = "End the same RUN with `rm -rf /var/lib/apt/lists/*` (removing them in a later layer frees nothing).";
    assert!(text.contains(&format!("→ {advice}")), "{text}");
    assert!(in_pane(&format!("→ {advice}")), "{pane:#?}");
    for line in text.lines().filter(|l| l.trim_start().starts_with('→')) {
        assert!(in_pane(line.trim_start()), "{line:?} not in {pane:#?}");
    }
    // make: 400 bytes installed by layer 3, purged by layer 4, still shipped
    assert!(
        text.contains("removed later but still shipped in lower layers: 1 packages, 400 B"),
        "{text}"
    );
    assert!(text.contains("make (installed in layer 3)"), "{text}");
    assert!(
        in_pane("Removed later but still shipped in lower layers: 1 packages, 400 B"),
        "{pane:#?}"
    );
    let make = ex(&a)
        .why_lines
        .iter()
        .find(|l| {
            l.kind == LineKind::Finding && l.text.contains("make") && l.text.contains("400 B")
        })
        .unwrap_or_else(|| panic!("no removed-package line in {pane:#?}"));
    assert!(make.text.contains("L3"), "{}", make.text);
    assert_eq!(make.target, WhyTarget::Layer(3));
}

// ---- issue 13, items 12 and 13 ---------------------------------------------------------------

#[test]
fn i12_a_package_row_shows_its_own_files_at_its_layer_and_the_mode_comes_back() {
    let mut a = app(120, 34);
    press(&mut a, vec![ch('b')]);
    while !matches!(target(&a), WhyTarget::Package { ref name, .. } if name == "gcc-12") {
        let before = ex(&a).why_sel;
        press(&mut a, vec![ch('j')]);
        assert_ne!(ex(&a).why_sel, before, "no gcc-12 row");
    }
    press(&mut a, vec![key(KeyCode::Enter)]);
    let e = ex(&a);
    assert_eq!(e.layer, 1);
    // the user's mode stays; only gcc-12's two files (and their directories) show
    assert_eq!(e.tree.mode, LayerMode::Aggregated);
    let files: Vec<String> = e
        .tree
        .rows(e.cx())
        .into_iter()
        .filter(|&n| !e.tree.is_dir(e.cx(), n))
        .map(|n| e.image.paths.path(n))
        .collect();
    assert_eq!(
        files,
        ["/usr/bin/gcc-12", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1"]
    );
    // a stage line switches to that layer's changes; closing the pane gives the mode back
    press(&mut a, vec![key(KeyCode::Tab)]);
    while !matches!(target(&a), WhyTarget::Layer(_)) {
        press(&mut a, vec![ch('j')]);
    }
    press(&mut a, vec![key(KeyCode::Enter)]);
    assert_eq!(ex(&a).tree.mode, LayerMode::ChangesOnly);
    press(&mut a, vec![ch('b')]);
    assert!(!ex(&a).why_open);
    assert_eq!(ex(&a).tree.mode, LayerMode::Aggregated);
}

#[test]
fn i13_the_cursor_only_stops_on_rows_that_act() {
    let mut a = app(120, 34);
    press(&mut a, vec![ch('b'), key(KeyCode::Home)]);
    let n = ex(&a).why_lines.len();
    for _ in 0..n + 2 {
        assert_ne!(target(&a), WhyTarget::None, "line {}", ex(&a).why_sel);
        press(&mut a, vec![ch('j')]);
    }
    press(&mut a, vec![key(KeyCode::End)]);
    assert_ne!(target(&a), WhyTarget::None);
    for _ in 0..n + 2 {
        press(&mut a, vec![ch('k')]);
        assert_ne!(target(&a), WhyTarget::None, "line {}", ex(&a).why_sel);
    }
}
