//! A hardlink whose target is written `./usr/bin/x` (as `tar -C dir .` writes them) names the
//! same file as `usr/bin/x`: it is resolved once, at load, and counts alike for true waste,
//! packages, the runtime closure and extraction, through the library and through the binary.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

mod common;

use bathyscaphe::analysis::capture::why_capture;
use bathyscaphe::analysis::why::{WhyOptions, WhyReport};
use bathyscaphe::analysis::Analysis;
use bathyscaphe::image::{EntryKind, Image};
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{fake_elf, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tui::state::{handle_event, App, AppEvent, Effect, Explorer, Focus};
use bathyscaphe::tui::treeview::Ctx;
use common::*;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use std::path::Path;

/// Layer 0: a 7000-byte static program `usr/bin/x`, started through its hardlink
/// `usr/bin/app`, which is all the dpkg package `tool` lists; a 500-byte `opt/old` kept by
/// its hardlink `opt/keep`. Layer 1 deletes `opt/old`: its bytes still show through `opt/keep`.
fn spec() -> ImageSpec {
    ImageSpec::new("links:1")
        .layer(
            LayerSpec::new("ADD file:rootfs in /")
                .file("usr/bin/x", &fake_elf(None, &[], None, 7000))
                .hardlink("usr/bin/app", "./usr/bin/x")
                .file_sized("opt/old", 500, 1)
                .hardlink("opt/keep", "./opt/old")
                .file(
                    "var/lib/dpkg/status",
                    b"Package: tool\nStatus: install ok installed\nVersion: 1\n\n",
                )
                .file("var/lib/dpkg/info/tool.list", b"/usr/bin/app\n"),
        )
        .layer(LayerSpec::new("/bin/sh -c rm /opt/old").whiteout("opt/old"))
        .cmd(&["/usr/bin/app"])
}

fn write(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("links.tar");
    spec()
        .write(&p, ArchiveFormat::DockerArchive, Compression::Gzip)
        .unwrap();
    p
}

fn load(p: &Path) -> Image {
    let opts = LoadOptions {
        capture: Some(why_capture()),
        ..Default::default()
    };
    load_path(p, &opts).unwrap()
}

#[test]
fn a_dot_slash_hardlink_target_is_its_file_everywhere() {
    let d = tmp();
    let img = load(&write(d.path()));
    // the target is stored as written, and resolved to the node of `usr/bin/x`
    let app = img.paths.lookup("usr/bin/app").unwrap();
    let e = img.layers[0]
        .entries
        .iter()
        .find(|e| e.node == app)
        .unwrap();
    assert_eq!(
        (e.kind, img.link(e.link)),
        (EntryKind::Hardlink, "./usr/bin/x")
    );
    assert_eq!(img.hardlink_target(e), img.paths.lookup("usr/bin/x"));

    let a = Analysis::run(&img);
    // nothing is waste: /opt/old's 500 bytes are still reachable as /opt/keep
    assert_eq!(a.waste.wasted_bytes, 0);
    let w = WhyReport::run(&img, &a, &WhyOptions::default());
    let tool = w.packages.iter().find(|p| p.name == "tool").unwrap();
    assert_eq!((tool.bytes, tool.files, tool.layer), (7000, 1, Some(0)));
    // the program is x's 7000 bytes, static: nothing else to run it
    assert_eq!(w.estimates.runtime_closure_bytes, Some(7000));
    assert_eq!(w.estimates.runtime_closure_base.as_deref(), Some("scratch"));

    // extraction of the link asks for the target's bytes
    let mut ex = Explorer::new(img, a);
    ex.tree.reveal(Ctx::new(&ex.image, &ex.analysis), app);
    ex.focus = Focus::Tree;
    // where x's entry stands in layer 0's tar, as loaded
    let x = ex.image.paths.lookup("/usr/bin/x").unwrap();
    let x_entry = ex.image.layers[0].entries.iter().position(|e| e.node == x);
    let mut ui = App::explorer(ex, Rect::new(0, 0, 100, 30));
    let ctrl_e = KeyEvent::new(KeyCode::Char('e'), KeyModifiers::CONTROL);
    handle_event(&mut ui, AppEvent::Term(Event::Key(ctrl_e)));
    assert_eq!(
        ui.take_effects(),
        [Effect::Extract {
            layer: 0,
            path: "/usr/bin/x".into(),
            name: "app".into(),
            size: 7000,
            entry: x_entry,
        }]
    );
}

#[test]
fn the_binary_counts_a_dot_slash_hardlink_like_its_file() {
    let d = tmp();
    let p = write(d.path());
    let out = run(&[p.to_str().unwrap(), "--json", "-"], d.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let b = &v["bathyscaphe"];
    assert_eq!(b["trueWastedBytes"], 0);
    let tool = b["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tool")
        .unwrap();
    assert_eq!(
        (tool["bytes"].as_u64(), tool["files"].as_u64()),
        (Some(7000), Some(1))
    );
    assert_eq!(b["estimates"]["runtimeClosureBytes"], 7000);
}
