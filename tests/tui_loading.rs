//! The explorer while the image loads: it opens on the first layers read, lists every layer
//! (those still loading marked), browses the ones read, says in the status line what a key
//! needs that is not read yet, and takes the whole image in place. Keys in, state out on a
//! half-loaded image from a real load (one layer of four is unreadable, so the load stops
//! there for good), snapshots at 80x24, and the real thing in tmux against a registry behind
//! a throttling proxy.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

mod common;
#[cfg(feature = "registry")]
mod registry_kit;

use bathyscaphe::analysis::Analysis;
use bathyscaphe::image::Image;
use bathyscaphe::progress::Progress;
use bathyscaphe::source::preview::{LayerFeed, Partial};
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{filler, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tui::state::{handle_event, status_text, App, AppEvent, Focus};
use common::term::*;
use crossterm::event::KeyCode;
use ratatui::layout::Rect;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Four layers: a base, an install, a cleanup, an app.
fn spec() -> ImageSpec {
    ImageSpec::new("fixture/loading:1.0")
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) ADD file:abc in /")
                .dir("bin")
                .file_mode("bin/sh", &filler(1000, 1), 0o755)
                .dir("etc")
                .file("etc/os-release", b"ID=demo\n")
                .file("etc/passwd", &filler(100, 2)),
        )
        .layer(
            LayerSpec::new("/bin/sh -c apt-get install -y curl")
                .file_mode("usr/bin/curl", &filler(5000, 3), 0o755)
                .file("var/cache/apt/curl.deb", &filler(3000, 4))
                .file("etc/os-release", b"ID=demo2\n"),
        )
        .layer(
            LayerSpec::new("/bin/sh -c rm -rf /var/cache/apt")
                .whiteout("var/cache/apt")
                .file("etc/motd", b"hello\n"),
        )
        .layer(LayerSpec::new("COPY app /app").file("app/server", &filler(2000, 5)))
}

/// The image as an OCI layout in `dir`; with `break_layer`, that layer's blob is overwritten
/// with bytes no tar reader takes, so a load reads every other layer and then fails.
fn write(dir: &Path, break_layer: Option<usize>) {
    let s = spec();
    s.write_oci_dir(dir, Compression::None).unwrap();
    if let Some(i) = break_layer {
        let tar = s.layers[i].tar();
        let hex = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&tar));
        let blob = dir.join("blobs/sha256").join(hex);
        std::fs::write(&blob, vec![0x5a; tar.len()]).unwrap();
    }
}

/// A real load of the image with layer 2 unreadable, through a layer feed: the last image
/// the feed sends (layers 0 and 1 read, 3 read too but waiting for 2).
fn half_loaded() -> Partial {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), Some(2));
    let (tx, rx) = std::sync::mpsc::channel();
    let feed = LayerFeed::new(move |p| {
        let _ = tx.send(p);
    });
    let opts = LoadOptions {
        layer_feed: Some(feed.clone()),
        ..Default::default()
    };
    let err = load_path(dir.path(), &opts).unwrap_err();
    assert!(err.to_string().contains("blobs/sha256"), "{err}");
    // the feed's thread sends as it catches up; the last word has every layer parsed
    loop {
        let p = rx.recv_timeout(Duration::from_secs(30)).unwrap();
        if p.read == [true, true, false, true] {
            let mut p = p;
            // the temporary directory's name is no part of what is checked
            p.image.source = "fixture.oci".into();
            return p;
        }
        assert!(p.loaded <= 2, "layer 2 was never read: {}", p.loaded);
    }
}

fn full() -> Image {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), None);
    load_path(dir.path(), &LoadOptions::default()).unwrap()
}

/// The explorer on the half-loaded image, from the loading screen, with its gauge at 60 %.
fn app(w: u16, h: u16) -> (App, Arc<Progress>) {
    let progress = Arc::new(Progress::new());
    progress.layers_total.store(4, Ordering::Relaxed);
    progress.layers_done.store(3, Ordering::Relaxed);
    progress.bytes_total.store(10_000, Ordering::Relaxed);
    progress.bytes_read.store(6_000, Ordering::Relaxed);
    let mut a = App::loading(
        "fixture.oci".into(),
        progress.clone(),
        Rect::new(0, 0, w, h),
    );
    let p = half_loaded();
    let analysis = Analysis::run(&p.image);
    handle_event(&mut a, AppEvent::Partial(Box::new((p, analysis))));
    (a, progress)
}

fn loaded(a: &mut App) {
    let image = full();
    let analysis = Analysis::run(&image);
    handle_event(a, AppEvent::Loaded(Box::new(Ok((image, analysis)))));
}

#[test]
fn the_first_layers_read_open_the_explorer_listing_every_layer() {
    let (a, _) = app(80, 24);
    let e = ex(&a);
    let l = e.loading.as_ref().expect("still loading");
    assert_eq!((l.loaded, e.image.layers.len(), e.browsable()), (2, 4, 2));
    assert_eq!(e.layer, 0);
    // the base layer's files, not the later ones
    let paths: Vec<String> = e
        .tree
        .rows(e.cx())
        .into_iter()
        .map(|n| e.image.paths.path(n))
        .collect();
    assert!(paths.contains(&"/etc".to_string()), "{paths:?}");
    assert!(!paths.iter().any(|p| p.starts_with("/app")), "{paths:?}");
    // every layer listed by its command, the ones not shown marked
    let t = screen(&a, 80, 24);
    let s = text(&t);
    // layer 2 never comes (its blob is broken); layer 3 was read but waits for it
    for (cmd, mark) in [
        ("RUN rm -rf", " 2 loading "),
        ("COPY app /app", " 3    read "),
    ] {
        let row = s
            .lines()
            .find(|l| l.contains(cmd))
            .unwrap_or_else(|| panic!("{s}"));
        assert!(row.contains(mark), "{row}");
    }
    assert_eq!(
        status_text(&a).as_deref(),
        Some("loading 60 % · 2 of 4 layers shown")
    );
}

#[test]
fn the_layers_read_are_browsed_and_the_rest_say_they_load() {
    let (mut a, _) = app(80, 24);
    press(&mut a, vec![code(KeyCode::Down)]);
    assert_eq!(ex(&a).layer, 1);
    assert!(ex(&a).cursor_path().is_some());
    // the merged tree up to layer 1: curl is there
    let e = ex(&a);
    let n = e.image.paths.lookup("/usr/bin/curl").unwrap();
    assert!(e.tree.version(e.cx(), n).is_some_and(|v| v.present()));
    // no further: layer 2 is not read
    press(&mut a, vec![code(KeyCode::Down)]);
    assert_eq!(ex(&a).layer, 1);
    assert_eq!(
        status_text(&a).as_deref(),
        Some("layer 2 is still loading (60 %)")
    );
    press(&mut a, vec![code(KeyCode::End)]);
    assert_eq!(ex(&a).layer, 1);
    press(&mut a, vec![code(KeyCode::Home)]);
    assert_eq!(ex(&a).layer, 0);
}

#[test]
fn keys_that_need_the_whole_image_say_so_and_change_nothing() {
    let (mut a, _) = app(80, 24);
    press(&mut a, vec![ch('i')]);
    assert_eq!(ex(&a).focus, Focus::Layers);
    assert_eq!(
        status_text(&a).as_deref(),
        Some("Image details come once every layer is read (60 %)")
    );
    press(&mut a, vec![ch('b')]);
    assert!(!ex(&a).why_open);
    assert!(status_text(&a)
        .unwrap()
        .starts_with("\"Why is it big\" comes"));
    press(&mut a, vec![code(KeyCode::Tab), ch('w')]);
    assert_eq!(ex(&a).focus, Focus::Tree);
    assert!(!ex(&a).tree.wasted_only);
    assert!(status_text(&a).unwrap().starts_with("Wasted paths come"));
}

#[test]
fn keys_typed_on_the_loading_screen_apply_to_the_first_frame() {
    let progress = Arc::new(Progress::new());
    let mut a = App::loading("x".into(), progress, Rect::new(0, 0, 80, 24));
    press(&mut a, vec![code(KeyCode::Tab), code(KeyCode::Down)]);
    let p = half_loaded();
    let analysis = Analysis::run(&p.image);
    handle_event(&mut a, AppEvent::Partial(Box::new((p, analysis))));
    assert_eq!(ex(&a).focus, Focus::Tree);
    assert!(a.pending_keys.is_empty());
}

#[test]
fn the_whole_image_comes_in_place_keeping_the_users_place() {
    let (mut a, _) = app(80, 24);
    // layer 1, the tree focused on /etc/os-release, filtered to "etc"
    press(
        &mut a,
        vec![code(KeyCode::Down), code(KeyCode::Tab), ch('/')],
    );
    typed(&mut a, "etc");
    press(&mut a, vec![code(KeyCode::Enter)]);
    let before = ex(&a).tree.rows(ex(&a).cx()).len();
    press(&mut a, vec![code(KeyCode::Down), code(KeyCode::Down)]);
    let cursor = ex(&a).cursor_path();
    assert!(cursor.is_some());
    loaded(&mut a);
    let e = ex(&a);
    assert!(e.loading.is_none());
    assert_eq!((e.layer, e.focus), (1, Focus::Tree));
    assert_eq!(e.cursor_path(), cursor);
    assert_eq!(e.tree.filter_pattern(), Some("etc"));
    assert_eq!(e.tree.rows(e.cx()).len(), before, "layer 1 shows the same");
    // now the rest opens: layer 3, the image details
    press(&mut a, vec![code(KeyCode::Tab), code(KeyCode::End)]);
    assert_eq!(ex(&a).layer, 3);
    press(&mut a, vec![ch('i')]);
    assert_eq!(ex(&a).focus, Focus::Wasted);
    assert!(!ex(&a).wasted.is_empty(), "the apt cache is wasted");
    // a late partial image changes nothing
    let p = half_loaded();
    let analysis = Analysis::run(&p.image);
    handle_event(&mut a, AppEvent::Partial(Box::new((p, analysis))));
    assert!(ex(&a).loading.is_none());
    assert_eq!(ex(&a).layer, 3);
}

/// What lets the explorer keep its place by node: every path of the image so far has the
/// same id in the whole image.
#[test]
fn the_layers_shown_keep_their_node_ids_in_the_whole_image() {
    let p = half_loaded();
    let whole = full();
    assert!(p.image.paths.len() < whole.paths.len());
    for n in 0..p.image.paths.len() as bathyscaphe::paths::NodeId {
        assert_eq!(p.image.paths.path(n), whole.paths.path(n), "node {n}");
    }
    for (a, b) in p.image.layers.iter().zip(&whole.layers).take(p.loaded) {
        assert_eq!((a.size_bytes, &a.diff_id), (b.size_bytes, &b.diff_id));
        let nodes =
            |l: &bathyscaphe::image::Layer| l.entries.iter().map(|e| e.node).collect::<Vec<_>>();
        assert_eq!(nodes(a), nodes(b));
    }
}

#[test]
fn a_load_that_fails_after_the_first_frame_ends_with_its_error() {
    let (mut a, _) = app(80, 24);
    handle_event(&mut a, AppEvent::Loaded(Box::new(Err("bad layer".into()))));
    assert!(a.quit);
}

#[test]
fn snapshot_half_loaded_80x24() {
    let (a, _) = app(80, 24);
    let t = screen(&a, 80, 24);
    insta::assert_snapshot!("half_loaded_80x24", t.backend());
}

#[test]
fn snapshot_half_loaded_tree_at_layer_1_80x24() {
    let (mut a, _) = app(80, 24);
    press(&mut a, vec![code(KeyCode::Down), code(KeyCode::Down)]);
    let t = screen(&a, 80, 24);
    insta::assert_snapshot!("half_loaded_layer1_80x24", t.backend());
}

/// In a real terminal: `bathy registry://…` through a proxy that sends blobs slowly shows the
/// base layer's files while the big layer is still arriving, then the whole image.
#[cfg(feature = "registry")]
#[test]
fn a_slow_registry_shows_the_first_layer_while_the_next_one_downloads() {
    use registry_kit::*;
    if !tools_present(&["docker-registry", "htpasswd"]) || !common::require_tool(&common::TMUX) {
        return;
    }
    let dir = common::tmp();
    let storage = dir.path().join("storage");
    std::fs::create_dir_all(&storage).unwrap();
    let registry = Registry::start(dir.path(), &storage, None, Auth::Open);
    let spec = ImageSpec::new("slow:1")
        .layer(LayerSpec::new("ADD base /").file("etc/first-layer-file", b"ID=slow\n"))
        .layer(LayerSpec::new("ADD blob /").file("data/late-blob", &filler(2_000_000, 9)));
    let members = spec.members(ArchiveFormat::OciArchive, Compression::Gzip);
    push_members(&registry.host(), "slow", "1", &members, false);
    // 2 MB in 16 KiB steps 30 ms apart: about four seconds for the big layer
    let rules = Rules {
        throttle: Some(Duration::from_millis(30)),
        ..Default::default()
    };
    let proxy = Proxy::start(registry.port, rules);
    let host = proxy.host();
    let socket = format!("bathy-loading-{}", std::process::id());
    let t = common::tmux::Tmux {
        socket,
        session: "s",
    };
    let home = dir.path().display().to_string();
    let shell = common::tmux::explorer_on_registry(&home, &host, "slow:1");
    t.start(100, 30, &shell);
    let wait_for = |what: &dyn Fn(&str) -> bool| {
        let start = std::time::Instant::now();
        let mut screen = String::new();
        while start.elapsed() < Duration::from_secs(30) {
            screen = t.capture();
            if what(&screen) {
                return Ok(screen);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(screen)
    };
    // the base layer's file on screen while the big layer is still loading (and the status
    // line drawn: a capture can land between the rows of one frame being written)
    let early = wait_for(&|s| s.contains("first-layer-file") && s.contains("layers shown"));
    let early = match early {
        Ok(s) => s,
        Err(s) => {
            let _ = t.cmd(&["kill-server"]);
            panic!("the first layer never showed:\n{s}");
        }
    };
    let blob_row = early
        .lines()
        .find(|l| l.contains("ADD blob /"))
        .unwrap_or("");
    let status_loading = early.contains("1 of 2 layers shown");
    // then the whole image: the big layer's size in its row, no loading line
    let late = wait_for(&|s| !s.contains("layers shown") && s.contains("2.0 MB"));
    let _ = t.cmd(&["kill-server"]);
    assert!(
        blob_row.contains("loading") && status_loading,
        "the big layer was not marked as loading:\n{early}"
    );
    assert!(!early.contains("late-blob"), "{early}");
    let late = late.unwrap_or_else(|s| panic!("the whole image never came:\n{s}"));
    assert!(late.contains("first-layer-file"), "{late}");
}
