//! The real binary in a real terminal (tmux): open the demo image, go to the last layer, filter
//! for a path, quit; the screen shows each step and the shell gets its terminal back.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

mod common;
use common::tmux::Tmux;
use common::{require_tool, TMUX};
use std::path::Path;

/// The tree's rows: the right-hand pane's lines with a tree guide.
fn tree_half(s: &str) -> Vec<&str> {
    s.lines()
        .filter_map(|l| l.rsplit("││").next())
        .filter(|l| l.contains("── "))
        .collect()
}

#[test]
fn explorer_in_tmux_moves_filters_survives_resizes_and_quits_cleanly() {
    if !require_tool(&TMUX) {
        return;
    }
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.tar");
    let bin = env!("CARGO_BIN_EXE_bathy");
    let t = Tmux {
        session: "e2e",
        socket: format!("bathy-e2e-{}", std::process::id()),
    };
    // CI=true would ask for the CI verdict instead of the explorer
    let shell = format!(
        "env -u CI '{bin}' '{}'; echo EXIT=$?; sleep 60",
        demo.display()
    );
    // the smallest size the explorer is made for
    t.start(80, 24, &shell);

    let s = t
        .wait_for(&["Image details", "bathyscaphe/demo:latest", "Layer 0: all"])
        .unwrap_or_else(|s| panic!("the explorer did not open at 80x24:\n{s}"));
    // at 80 columns the attribute columns make room for the names
    assert!(!s.contains("Permission"), "{s}");
    assert!(
        s.contains("ca-certificates.crt") || s.contains("os-release"),
        "{s}"
    );

    // End in the layers pane: the last layer (5: chmod +x /app/server)
    t.keys(&["End"]);
    t.wait_for(&["Layer 5: all", "chmod +x"])
        .unwrap_or_else(|s| panic!("no layer 5:\n{s}"));

    // the window grows while it runs: the frame follows, attributes and long titles return
    t.cmd(&["resize-window", "-t", "e2e", "-x", "200", "-y", "60"]);
    let s = t
        .wait_for(&["Layer 5: everything up to it", "Permission", "ENTRYPOINT"])
        .unwrap_or_else(|s| panic!("no redraw at 200x60:\n{s}"));
    assert_eq!(s.lines().count(), 60, "{s}");
    assert!(
        s.lines()
            .any(|l| l.chars().count() == 200 && l.ends_with('┐')),
        "the tree's border reaches column 200:\n{s}"
    );

    // filter for the build cache's path as you type: only it and its parents remain
    t.keys(&["/"]);
    t.keys(&["-l", "objects"]);
    let s = t
        .wait_for(&["matches", "Filter: objects"])
        .unwrap_or_else(|s| panic!("no filter:\n{s}"));
    // at layer 5 the cache is gone (deleted in layer 4): the tree shows only the git pack
    // (Image details still lists the cache's wasted bytes)
    let tree_rows: Vec<&str> = tree_half(&s);
    assert!(!tree_rows.iter().any(|l| l.contains("objects.bin")), "{s}");
    assert!(tree_rows.iter().any(|l| l.contains("pack-1.pack")), "{s}");

    // and shrinks back to 80x24 while the filter is on
    t.cmd(&["resize-window", "-t", "e2e", "-x", "80", "-y", "24"]);
    t.wait_for(&["Layer 5: all"])
        .unwrap_or_else(|s| panic!("no redraw at 80x24:\n{s}"));
    // back to layer 3, where it was written: the filter keeps it and its parents
    t.keys(&["Enter", "Tab", "k", "k"]);
    let s = t
        .wait_for(&["objects.bin", "Layer 3: all"])
        .unwrap_or_else(|s| panic!("no match at layer 3:\n{s}"));
    assert!(s.lines().all(|l| l.chars().count() <= 80), "{s}");
    let tree_rows: Vec<&str> = tree_half(&s);
    assert!(tree_rows.iter().any(|l| l.contains("tmp/")), "{s}");
    assert!(tree_rows.iter().any(|l| l.contains("build-cache/")), "{s}");
    assert!(
        !tree_rows.iter().any(|l| l.contains("usr/")),
        "unrelated paths are filtered out:\n{s}"
    );

    t.keys(&["q"]);
    let s = t
        .wait_for(&["EXIT="])
        .unwrap_or_else(|s| panic!("bathy did not exit:\n{s}"));
    assert!(s.contains("EXIT=0"), "{s}");
    // the alternate screen is gone: the explorer's frame is not on the shell's screen
    assert!(!s.contains("Image details"), "{s}");
}

/// `bathy compare A B` on a terminal opens the compare view: the diff tree, a filter, the
/// layers pane, quit; the shell gets its screen back.
#[test]
fn compare_view_in_tmux_filters_shows_layers_and_quits_cleanly() {
    use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
    if !require_tool(&TMUX) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = || {
        LayerSpec::new("ADD rootfs /")
            .dir("etc")
            .file("etc/os-release", b"ID=demo\n")
    };
    ImageSpec::new("app:1")
        .layer(base())
        .layer(
            LayerSpec::new("COPY app /app")
                .file_sized("app/server", 5000, 1)
                .file_sized("app/old.txt", 100, 2),
        )
        .write(
            &dir.path().join("a.tar"),
            ArchiveFormat::DockerArchive,
            Compression::None,
        )
        .unwrap();
    ImageSpec::new("app:2")
        .layer(base())
        .layer(
            LayerSpec::new("COPY app /app")
                .file_sized("app/server", 6000, 3)
                .file_sized("app/new.txt", 200, 4),
        )
        .layer(LayerSpec::new("RUN chmod 600 /etc/os-release").file_mode(
            "etc/os-release",
            b"ID=demo\n",
            0o600,
        ))
        .write(
            &dir.path().join("b.tar"),
            ArchiveFormat::OciArchive,
            Compression::Gzip,
        )
        .unwrap();
    let bin = env!("CARGO_BIN_EXE_bathy");
    // its own server: the explorer's test may run at the same time
    let t = Tmux {
        session: "e2e",
        socket: format!("bathy-e2e-compare-{}", std::process::id()),
    };
    // CI=true asks for the text report instead of the view
    let shell = format!(
        "cd '{}' && env -u CI '{bin}' compare a.tar b.tar; echo EXIT=$?; sleep 60",
        dir.path().display()
    );
    t.start(100, 30, &shell);
    let s = t
        .wait_for(&["Files: 4 changed", "added", "os-release  mode 0644 → 0600"])
        .unwrap_or_else(|s| panic!("the compare view did not open:\n{s}"));
    // 1 shared layer; COPY rebuilt; the chmod layer only in B
    assert!(s.contains("A app:1  →  B app:2"), "{s}");
    assert!(s.contains("rebuilt"), "{s}");
    assert!(s.contains("added"), "{s}");
    assert!(s.contains("os-release  mode 0644 → 0600"), "{s}");

    t.keys(&["/"]);
    t.keys(&["-l", "txt"]);
    let s = t
        .wait_for(&["2 matches", "old.txt"])
        .unwrap_or_else(|s| panic!("no filter:\n{s}"));
    let rows: Vec<&str> = s
        .lines()
        .filter(|l| l.contains("├── ") || l.contains("└── "))
        .collect();
    assert_eq!(rows.len(), 3, "app/, new.txt, old.txt:\n{s}");
    assert!(!s.contains("server"), "{s}");

    // the layers pane: the last row is B's chmod layer, its command in full below
    t.keys(&["Enter", "Tab", "End"]);
    let s = t
        .wait_for(&[
            "B: RUN chmod 600 /etc/os-release",
            "A: (no layer on this side)",
        ])
        .unwrap_or_else(|s| panic!("no layer selection:\n{s}"));
    assert!(s.contains("A: (no layer on this side)"), "{s}");

    t.keys(&["q"]);
    let s = t
        .wait_for(&["EXIT="])
        .unwrap_or_else(|s| panic!("bathy did not exit:\n{s}"));
    assert!(s.contains("EXIT=0"), "{s}");
    assert!(!s.contains("Files: 4 changed"), "{s}");
}
