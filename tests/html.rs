//! The HTML report: written next to JSON from one analysis, self-contained, readable without
//! scripts, and, opened in a real headless Chromium, drawn without console errors, with no
//! script from a hostile file name run, the expected top-level rectangles and search hits.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Names that would run script if they reached the page as markup: each payload sets the
/// title, which the test reads back after load.
const IMG: &str = "<img src=x onerror=document.title='pwned-img'>";
const SCRIPT_PATH: &str = "data/</script><script>document.title='pwned-script'</script>";
const QUOTES: &str = "q/\"quo'tes\" \u{1}ctl\u{7f} <!-- x";

/// Four top-level directories of known, distinct sizes; the `</script>` path is overwritten
/// by a second layer, so it is also in the wasted-paths table.
fn hostile_spec() -> ImageSpec {
    ImageSpec::new("hostile/names:1")
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) ADD file:0 in / ")
                .dir("app")
                .file_sized("app/server", 50_000, 1)
                .file_sized(&format!("app/{IMG}"), 20_000, 2)
                .dir("data")
                .file_sized(SCRIPT_PATH, 10_000, 3)
                .dir("q")
                .file_sized(QUOTES, 15_000, 4)
                .dir("docs")
                .file_sized("docs/readme", 8_000, 5),
        )
        .layer(
            LayerSpec::new("/bin/sh -c echo '<b>x</b>' > data").file_sized(SCRIPT_PATH, 30_000, 6),
        )
}

fn manifest(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn write_report(image: &Path, dir: &Path) -> String {
    let html = dir.join("report.html");
    let json = dir.join("report.json");
    let o = run(
        &[
            image.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
        dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "files only: {}", stdout(&o));
    let _: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    std::fs::read_to_string(&html).unwrap()
}

#[test]
fn one_run_writes_html_and_json_and_the_page_fetches_nothing() {
    let t = tmp();
    let page = write_report(&manifest("assets/demo.tar"), t.path());
    for remote in ["http:", "https:", "//", "<link", " src="] {
        // `//` only as a scheme-relative URL: the page's own script has no comments
        let found = page.match_indices(remote).any(|(i, _)| {
            let before = &page[..i];
            remote != "//" || before.ends_with('"') || before.ends_with('=')
        });
        assert!(!found, "the page refers to something outside it: {remote}");
    }
    // headline and tables are markup, readable with scripts off
    assert!(page.contains("<dt>True waste</dt>"));
    assert!(page.contains("/tmp/build-cache/objects.bin"));
    assert!(page.contains("RUN rm -rf /tmp/build-cache"));
    assert!(page.contains("@media print"));
}

#[test]
fn hostile_names_are_text_in_the_markup() {
    let t = tmp();
    let img = t.path().join("hostile.tar");
    hostile_spec()
        .write(&img, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let page = write_report(&img, t.path());
    assert!(!page.contains("<img"), "a name became an element");
    assert!(!page.contains("<script>document"), "a name opened a script");
    assert_eq!(
        page.matches("</script>").count(),
        2,
        "only the page's own two scripts close"
    );
    assert!(page.contains("/data/&lt;/script&gt;&lt;script&gt;document.title="));
}

/// Open `url` in headless Chromium, let its scripts run, and return the DOM after load and
/// the browser's log.
fn chromium_dom(url: &str, profile: &Path) -> (String, String) {
    let o = Command::new("chromium")
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1000",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(o.status.success(), "chromium failed: {}", stderr(&o));
    (stdout(&o), stderr(&o))
}

/// The treemap's state the page writes after drawing: `data-NAME` of `#tm-state`.
fn state(dom: &str, name: &str) -> Option<String> {
    let start = dom
        .find("id=\"tm-state\"")
        .or_else(|| dom.find("<output"))?;
    let tag = &dom[dom[..start].rfind('<')?..];
    let tag = &tag[..tag.find('>')?];
    let key = format!("data-{name}=\"");
    let v = &tag[tag.find(&key)? + key.len()..];
    Some(v[..v.find('"')?].to_string())
}

fn title(dom: &str) -> String {
    let s = dom.find("<title>").map(|i| i + 7).unwrap_or(0);
    dom[s..s + dom[s..].find("</title>").unwrap_or(0)].to_string()
}

/// Open the page at `#q=QUERY`, check it ran cleanly, and return (top rectangles, hits).
fn open(page: &Path, query: &str, profile: &Path) -> (String, usize, usize) {
    let url = format!("file://{}#q={query}", page.display());
    let (dom, log) = chromium_dom(&url, profile);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    assert_eq!(
        state(&dom, "ready").as_deref(),
        Some("1"),
        "the treemap was drawn"
    );
    assert_eq!(state(&dom, "errors"), None, "script errors on the page");
    let top = state(&dom, "top").unwrap().parse().unwrap();
    let hits = state(&dom, "hits").unwrap().parse().unwrap();
    (title(&dom), top, hits)
}

#[test]
fn chromium_draws_the_demo_and_the_hostile_image() {
    if !require_tool(&CHROMIUM) {
        return;
    }
    let t = tmp();
    let profile = t.path().join("profile");
    let demo_dir = t.path().join("demo");
    std::fs::create_dir_all(&demo_dir).unwrap();
    write_report(&manifest("assets/demo.tar"), &demo_dir);
    let demo = demo_dir.join("report.html");
    // the demo's final filesystem holds bytes under bin etc lib usr var (base layer) and app
    // src root (build layers); tmp is emptied by `rm -rf /tmp/build-cache`: 8 rectangles
    let (title_demo, top, hits) = open(&demo, "", &profile);
    assert_eq!(title_demo, "bathy: bathyscaphe/demo:latest");
    assert_eq!((top, hits), (8, 0));
    // go-build is only under /root/.cache; .git only under /src
    assert_eq!(open(&demo, "go-build", &profile).1, 8);
    assert_eq!(open(&demo, "go-build", &profile).2, 1);
    assert_eq!(open(&demo, ".git", &profile).2, 1);

    let host_dir = t.path().join("hostile");
    std::fs::create_dir_all(&host_dir).unwrap();
    let img = host_dir.join("hostile.tar");
    hostile_spec()
        .write(&img, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    write_report(&img, &host_dir);
    let page = host_dir.join("report.html");
    // app, data, q, docs; each search term is in one of them only, `r` in app (server),
    // data (script…) and docs (readme)
    for (query, hits) in [
        ("", 0),
        ("onerror", 1),
        ("%3Cscript", 1),
        ("quo'tes", 1),
        ("readme", 1),
        ("r", 3),
    ] {
        let (title, top, h) = open(&page, query, &profile);
        assert_eq!(
            title, "bathy: hostile/names:1",
            "a name's script ran ({query})"
        );
        assert_eq!((top, h), (4, hits), "search {query:?}");
    }
}

#[test]
fn chromium_draws_a_comparison_of_hostile_images() {
    if !require_tool(&CHROMIUM) {
        return;
    }
    let t = tmp();
    let (a, b) = (t.path().join("a.tar"), t.path().join("b.tar"));
    hostile_spec()
        .write(&a, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    // B: one more layer that adds a hostile name under /grow and deletes /docs/readme
    hostile_spec()
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) COPY grow /grow")
                .dir("grow")
                .file_sized(&format!("grow/{IMG}"), 40_000, 7)
                .whiteout("docs/readme"),
        )
        .write(&b, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let html = t.path().join("compare.html");
    let o = run(
        &[
            "compare",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
        t.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<img"), "a name became an element");
    assert!(page.contains("<th>Size</th>"), "the headline is a table");
    let profile = t.path().join("profile");
    // what changed: /grow (grew) and /docs (shrank)
    for (query, hits) in [("", 0), ("readme", 1), ("onerror", 1)] {
        let (title, top, h) = open(&html, query, &profile);
        assert_eq!(title, "bathy compare: hostile/names:1 → hostile/names:1");
        assert_eq!((top, h), (2, hits), "search {query:?}");
    }
}

#[test]
fn ci_gate_and_html_come_from_one_run() {
    let t = tmp();
    let html = t.path().join("r.html");
    let demo = manifest("assets/demo.tar");
    // the demo wastes 100 kB of 685 kB: a 5% true-waste limit fails, and the page is written
    let o = run(
        &[
            demo.to_str().unwrap(),
            "--ci",
            "--max-true-waste",
            "5%",
            "--html",
            html.to_str().unwrap(),
        ],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>Wasted paths</h2>"));
}
