//! The pipeline between the arguments and the front ends: one load configuration for every
//! image of a run, the loaders' notes handed back as values, and loads that stop when the
//! front end cancels them (the explorer does when the user quits while images load).
#![allow(clippy::unwrap_used)]

use bathyscaphe::pipeline::{self, Keep, LoadArgs, LoadConfig, Watch, WhyArgs};
use bathyscaphe::progress::Progress;
use bathyscaphe::source::{self, LoadOptions};
use bathyscaphe::testkit::{
    images_members, tar_members, ArchiveFormat, Compression, ImageSpec, LayerSpec,
};
use bathyscaphe::Error;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn layer_a() -> LayerSpec {
    LayerSpec::new("a").file_sized("a", 10, 1)
}
fn layer_b() -> LayerSpec {
    LayerSpec::new("b").file_sized("b", 20, 2)
}

/// `two.tar` holds app:1 (one 10-byte file) and app:2 (one 20-byte file); `one.tar` holds
/// app:2 alone.
fn archives(dir: &Path) -> (PathBuf, PathBuf) {
    let a = ImageSpec::new("app:1").layer(layer_a());
    let b = ImageSpec::new("app:2").layer(layer_b());
    let two = dir.join("two.tar");
    std::fs::write(
        &two,
        tar_members(&images_members(
            &[a, b.clone()],
            ArchiveFormat::DockerArchive,
            Compression::None,
        )),
    )
    .unwrap();
    let one = dir.join("one.tar");
    b.write(&one, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    (two, one)
}

fn config(select_image: Option<&str>) -> LoadConfig {
    LoadConfig::from_args(&LoadArgs {
        select_image: select_image.map(String::from),
        ..Default::default()
    })
}

fn diff_id(l: &LayerSpec) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(l.tar())))
}

#[test]
fn one_config_selects_for_every_load_and_the_baseline_choice_drops_the_name() {
    let t = tempfile::tempdir().unwrap();
    let (two, _) = archives(t.path());
    let c = config(Some("app:2"));
    let w = Watch::default();
    let img = pipeline::load(two.to_str().unwrap(), &c, Keep::Contents, &w).unwrap();
    assert_eq!(img.tags, vec!["app:2".to_string()]);
    assert_eq!(img.size_bytes(), 20);
    assert!(img.warnings.is_empty(), "{:?}", img.warnings);
    // a CI --baseline reads the archive's first image, and says it chose
    let first = pipeline::load(
        two.to_str().unwrap(),
        &c.without_image_choice(),
        Keep::LayersOnly,
        &w,
    )
    .unwrap();
    assert_eq!(first.tags, vec!["app:1".to_string()]);
    assert_eq!(first.warnings.len(), 1);
    assert!(first.warnings[0].contains("holds 2 images; reading app:1"));
}

#[test]
fn the_base_image_is_matched_by_diff_id_and_its_notes_come_back() {
    let t = tempfile::tempdir().unwrap();
    let (two, _) = archives(t.path());
    let why = WhyArgs {
        base: Some(two.to_str().unwrap().to_string()),
        ..Default::default()
    };
    let (opts, notes) = pipeline::why_options(&why, &config(None), &Watch::default()).unwrap();
    assert_eq!(opts.stages.base_diff_ids, Some(vec![diff_id(&layer_a())]));
    assert_eq!(opts.stages.base_name.as_deref(), Some("app:1"));
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("holds 2 images; reading app:1"));
}

#[test]
fn a_comparison_keeps_each_sides_notes_apart() {
    let t = tempfile::tempdir().unwrap();
    let (two, one) = archives(t.path());
    let (w0, w1) = (Watch::default(), Watch::default());
    let pair = pipeline::compare_images(
        two.to_str().unwrap(),
        one.to_str().unwrap(),
        &config(None),
        &Default::default(),
        None,
        [&w0, &w1],
    )
    .unwrap();
    assert_eq!(pair.notes[0].len(), 1);
    assert!(pair.notes[0][0].contains("holds 2 images; reading app:1"));
    assert!(pair.notes[1].is_empty(), "{:?}", pair.notes[1]);
    // A is app:1 (10 bytes), B app:2 (20 bytes)
    assert_eq!(pair.comparison.headline.a.size_bytes, 10);
    assert_eq!(pair.comparison.headline.b.size_bytes, 20);
}

#[test]
fn pull_is_refused_for_a_file() {
    let t = tempfile::tempdir().unwrap();
    let (_, one) = archives(t.path());
    let c = LoadConfig::from_args(&LoadArgs {
        pull: true,
        ..Default::default()
    });
    let e =
        pipeline::load(one.to_str().unwrap(), &c, Keep::Contents, &Watch::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--pull needs an image in a daemon, not a file"
    );
}

#[test]
fn a_cancelled_load_does_not_start_and_a_comparison_stops_before_b() {
    let t = tempfile::tempdir().unwrap();
    let (two, one) = archives(t.path());
    let p = Arc::new(Progress::new());
    p.cancel();
    let w = Watch::counting(p);
    let r = pipeline::load(one.to_str().unwrap(), &config(None), Keep::Contents, &w);
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    let r = pipeline::compare_images(
        two.to_str().unwrap(),
        one.to_str().unwrap(),
        &config(None),
        &Default::default(),
        None,
        [&Watch::default(), &w],
    );
    assert!(matches!(r, Err(Error::Cancelled)));
}

/// Serves an archive, and cancels the load once the first tar header has been read.
struct CancelAfterFirstHeader {
    bytes: std::io::Cursor<Vec<u8>>,
    progress: Arc<Progress>,
}

impl Read for CancelAfterFirstHeader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.bytes.position() >= 512 {
            self.progress.cancel();
        }
        let n = buf.len().min(512);
        self.bytes.read(&mut buf[..n])
    }
}

#[test]
fn the_loaders_stop_reading_layers_once_cancelled() {
    let t = tempfile::tempdir().unwrap();
    let (_, one) = archives(t.path());
    // a file: every layer read fails at once
    let p = Arc::new(Progress::new());
    p.cancel();
    let opts = LoadOptions {
        progress: Some(p),
        ..Default::default()
    };
    let e = source::load_path(&one, &opts).unwrap_err();
    assert!(e.to_string().contains("cancelled"), "{e}");
    // a stream (as a daemon sends): cancelled partway through
    let p = Arc::new(Progress::new());
    let opts = LoadOptions {
        progress: Some(p.clone()),
        ..Default::default()
    };
    let reader = CancelAfterFirstHeader {
        bytes: std::io::Cursor::new(std::fs::read(&one).unwrap()),
        progress: p.clone(),
    };
    let e = source::load_stream(reader, "stream", &opts).unwrap_err();
    assert!(p.cancelled());
    assert!(e.to_string().contains("cancelled"), "{e}");
}

#[cfg(feature = "tui")]
#[test]
fn quitting_the_explorer_while_loading_cancels_the_loads() {
    use bathyscaphe::tui::{self, state};
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    use ratatui::layout::Rect;
    let q = || {
        state::AppEvent::Term(Event::Key(KeyEvent::new(
            KeyCode::Char('q'),
            KeyModifiers::NONE,
        )))
    };
    let (pa, pb) = (Arc::new(Progress::new()), Arc::new(Progress::new()));
    let mut app = state::App::loading_many(
        vec![
            ("A: a.tar".into(), pa.clone()),
            ("B: b.tar".into(), pb.clone()),
        ],
        Rect::new(0, 0, 80, 24),
    );
    state::handle_event(&mut app, q());
    assert!(app.quit);
    tui::stop_loading(&app);
    assert!(pa.cancelled() && pb.cancelled());

    // once loaded, quitting cancels nothing
    let t = tempfile::tempdir().unwrap();
    let (_, one) = archives(t.path());
    let p = Arc::new(Progress::new());
    let mut app = state::App::loading("one.tar".into(), p.clone(), Rect::new(0, 0, 80, 24));
    let img = pipeline::load(
        one.to_str().unwrap(),
        &config(None),
        Keep::Contents,
        &Watch::counting(p.clone()),
    )
    .unwrap();
    let analysis = bathyscaphe::analysis::Analysis::run(&img);
    state::handle_event(
        &mut app,
        state::AppEvent::Loaded(Box::new(Ok((img, analysis)))),
    );
    state::handle_event(&mut app, q());
    assert!(app.quit);
    tui::stop_loading(&app);
    assert!(!p.cancelled());
}

/// The sha256 of an uncompressed layer left running while the caller analyses (the report
/// path does this): the image is the one a waiting load gives, the check catches a layer that
/// is not what its diff_id says with the load's own error, and the verification cache learns
/// the digests once they are checked.
#[test]
fn digests_left_running_are_checked_by_finish_and_remembered() {
    use bathyscaphe::source::later::DigestsLater;
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (layer_a(), layer_b().file_sized("c", 300_000, 3));
    let spec = ImageSpec::new("app:1").layer(a.clone()).layer(b.clone());
    let path = t.path().join("app.tar");
    spec.write(&path, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let cache = t.path().join("cache");
    let config = LoadConfig::from_args(&LoadArgs {
        cache_dir: Some(cache.clone()),
        ..Default::default()
    });
    let load = |c: &LoadConfig, p: &Path| {
        pipeline::load(p.to_str().unwrap(), c, Keep::Contents, &Watch::default())
    };
    let no_cache = || {
        LoadConfig::from_args(&LoadArgs {
            no_cache: true,
            ..Default::default()
        })
    };

    let later = Arc::new(DigestsLater::default());
    let image = load(&config.checking_digests_in(later.clone()), &path).unwrap();
    assert!(
        !cache.join("verified-layers").exists(),
        "remembered before the check"
    );
    later.finish().unwrap();
    let ids = |i: &bathyscaphe::image::Image| -> Vec<(String, String)> {
        i.layers
            .iter()
            .map(|l| (l.digest.clone(), l.diff_id.clone()))
            .collect()
    };
    let want = vec![(diff_id(&a), diff_id(&a)), (diff_id(&b), diff_id(&b))];
    assert_eq!(ids(&image), want);
    let waiting = load(&no_cache(), &path).unwrap();
    assert_eq!(ids(&waiting), want);
    // remembered: one line per layer, with the digest computed here by the test
    let known = std::fs::read_to_string(cache.join("verified-layers")).unwrap();
    for (d, _) in &want {
        assert!(
            known.lines().any(|l| l.split(' ').nth(1) == Some(d)),
            "{known}"
        );
    }

    // layer b's bytes swapped for another tar: the load returns, finish says what the load
    // without it says
    let mut ms = spec.members(ArchiveFormat::DockerArchive, Compression::None);
    let other = LayerSpec::new("x").file_sized("c", 300_000, 4).tar();
    let name = ms
        .iter()
        .filter(|m| m.name.ends_with("layer.tar"))
        .find(|m| m.data == b.tar())
        .unwrap()
        .name
        .clone();
    ms.iter_mut().find(|m| m.name == name).unwrap().data = other;
    let bad = t.path().join("bad.tar");
    std::fs::write(&bad, tar_members(&ms)).unwrap();
    let waited = load(&no_cache(), &bad).unwrap_err().to_string();
    let later = Arc::new(DigestsLater::default());
    load(&no_cache().checking_digests_in(later.clone()), &bad).unwrap();
    let found = later.finish().unwrap_err().to_string();
    assert_eq!(found, waited);
    assert!(
        found.contains(&name) && found.contains("diff_id mismatch"),
        "{found}"
    );
    // and a finished check is not checked twice
    later.finish().unwrap();
}
