//! `bathy compare` end to end through the binary: text, `--json`, and `--ci` exit statuses on
//! an image pair whose differences are worked out by hand.

mod common;
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::*;
use std::path::Path;

const STATUS_A: &[u8] = b"Package: curl\nVersion: 7.88.1-10\n\n";
const STATUS_B: &[u8] = b"Package: curl\nVersion: 7.88.1-10+deb12u5\n\n";

/// A: base (8 + 1000 + 34 bytes), install (2000 + 50 + 300), app (5000 + 100) = 8492 bytes.
/// B: the same base and install, app (6000 + 200), and a layer with a chmod'ed copy of
/// etc/conf (50), an upgraded dpkg status (42) and data/x (10) = 9694 bytes: +1202 (14.15%).
fn write_pair(dir: &Path) {
    let base = || {
        LayerSpec::new("ADD rootfs /")
            .dir("etc")
            .file("etc/os-release", b"ID=demo\n")
            .file_sized("usr/bin/tool", 1000, 1)
            .file("var/lib/dpkg/status", STATUS_A)
    };
    let install = || {
        LayerSpec::new("RUN apt-get install -y curl")
            .file_sized("usr/bin/curl", 2000, 2)
            .file("etc/conf", &[b'c'; 50])
            .file_sized("data", 300, 3)
    };
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
            LayerSpec::new("RUN chmod 600 /etc/conf && apt-get upgrade -y")
                .file_mode("etc/conf", &[b'c'; 50], 0o600)
                .file("var/lib/dpkg/status", STATUS_B)
                .dir("data")
                .file_sized("data/x", 10, 8),
        );
    a.write(
        &dir.join("a.tar"),
        ArchiveFormat::DockerArchive,
        Compression::None,
    )
    .expect("write a");
    b.write(
        &dir.join("b.tar"),
        ArchiveFormat::OciArchive,
        Compression::Gzip,
    )
    .expect("write b");
}

#[test]
fn sizes_in_the_comments_add_up() {
    assert_eq!(STATUS_A.len(), 34);
    assert_eq!(STATUS_B.len(), 42);
}

#[test]
fn text_report_shows_layers_files_and_metadata_only_changes() {
    let t = tmp();
    write_pair(t.path());
    let o = run(&["compare", "a.tar", "b.tar"], t.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "A: app:1 (a.tar)",
        "B: app:2 (b.tar)",
        "Layers: 2 shared",
        "COPY app /app",
        "RUN chmod 600 /etc/conf && apt-get upgrade -y",
        "Files: 2 added, 1 removed, 4 modified (1 metadata only)",
        "/app/server  (content 5.0 kB → 6.0 kB)",
        "/data  (type file → dir, mode 0644 → 0755)",
        "/var/lib/dpkg/status  (content 34 B → 42 B)",
        "/etc/conf  (mode 0644 → 0600, metadata only)",
        "Packages: not computed",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // the rebuilt layer's row: A 5.1 kB, B 6.2 kB, +1.1 kB
    assert!(
        out.lines().any(|l| l.contains("rebuilt")
            && l.contains("5.1 kB")
            && l.contains("6.2 kB")
            && l.contains("+1.1 kB")),
        "{out}"
    );
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn json_report_has_the_documented_keys_and_exact_numbers() {
    let t = tmp();
    write_pair(t.path());
    let o = run(
        &["compare", "a.tar", "b.tar", "--json", "cmp.json"],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "--json FILE prints nothing");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("cmp.json")).expect("json written"))
            .expect("valid json");
    assert_eq!(v["headline"]["a"]["sizeBytes"], 8492);
    assert_eq!(v["headline"]["b"]["sizeBytes"], 9694);
    assert_eq!(v["headline"]["delta"]["sizeBytes"], 1202);
    assert_eq!(v["headline"]["delta"]["layers"], 1);
    assert_eq!(v["layers"]["shared"].as_array().map(Vec::len), Some(2));
    let statuses: Vec<&str> = v["layers"]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["rebuilt", "added"]);
    let changes = v["files"]["changes"].as_array().expect("changes");
    let got: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap_or(""),
                c["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("/app/new.txt", "added"),
            ("/app/old.txt", "removed"),
            ("/app/server", "modified"),
            ("/data", "modified"),
            ("/data/x", "added"),
            ("/etc/conf", "modified"),
            ("/var/lib/dpkg/status", "modified"),
        ]
    );
    let conf = &changes[5];
    assert_eq!(conf["metadataOnly"], true);
    assert_eq!(conf["changed"], serde_json::json!(["mode"]));
    assert_eq!(conf["a"]["mode"], "0644");
    assert_eq!(conf["b"]["mode"], "0600");
    assert_eq!(changes[3]["a"]["kind"], "file");
    assert_eq!(changes[3]["b"]["kind"], "dir");
    // totals: net 200 - 100 + 1000 - 300 + 10 + 8 = 818
    assert_eq!(v["files"]["totals"]["deltaBytes"], 818);
    assert_eq!(v["files"]["directories"][0]["path"], "/app");
    assert_eq!(v["files"]["directories"][0]["addedBytes"], 6200);
    assert!(v["packages"].is_null() && v["leftovers"].is_null());
    assert!(v.get("ci").is_none());
}

#[test]
fn ci_growth_limits_are_strict_and_set_the_exit_status() {
    let t = tmp();
    write_pair(t.path());
    // growth 1202 B = 14.15% of 8492
    for (limit, code) in [
        ("15%", 0),
        ("14%", 1),
        ("1202", 0),
        ("1201", 1),
        ("1.202kB", 0),
        ("1KiB", 1),
        ("1MB", 0),
    ] {
        let o = run(
            &["compare", "a.tar", "b.tar", "--ci", "--max-growth", limit],
            t.path(),
        );
        assert_eq!(
            o.status.code(),
            Some(code),
            "--max-growth {limit}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        let out = stdout(&o);
        assert!(
            out.contains(if code == 0 {
                "Result: PASS"
            } else {
                "Result: FAIL"
            }),
            "{out}"
        );
        if code == 1 {
            // the failure names what grew, largest first
            assert!(out.contains("/app/server +1000 B"), "{out}");
        }
    }
    // a rule implies --ci
    let o = run(
        &["compare", "a.tar", "b.tar", "--max-growth", "14.2%"],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("PASS  max-growth"));
}

#[test]
fn ci_with_json_on_stdout_keeps_stdout_pure_json() {
    let t = tmp();
    write_pair(t.path());
    let o = run(
        &[
            "compare",
            "a.tar",
            "b.tar",
            "--max-growth",
            "1kB",
            "--json",
            "-",
        ],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["ci"]["passed"], false);
    assert_eq!(v["ci"]["rules"][0]["rule"], "max-growth");
    assert_eq!(v["ci"]["rules"][0]["verdict"], "FAIL");
    assert!(stderr(&o).contains("Result: FAIL"));
}

#[test]
fn new_leftovers_rule_is_skipped_until_leftovers_are_computed() {
    let t = tmp();
    write_pair(t.path());
    let o = run(
        &[
            "compare",
            "a.tar",
            "b.tar",
            "--ci",
            "--fail-on-new-leftovers",
        ],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("SKIP  no-new-leftovers"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn errors_are_one_line_and_exit_two() {
    let t = tmp();
    write_pair(t.path());
    let o = run(&["compare", "a.tar", "missing.tar"], t.path());
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("missing.tar"), "{err}");
    let o = run(
        &["compare", "a.tar", "b.tar", "--max-growth", "5 parsecs"],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--max-growth"), "{}", stderr(&o));
    // a corrupt B: one line naming it, no report
    std::fs::write(t.path().join("bad.tar"), b"not an archive at all").expect("write");
    let o = run(
        &["compare", "a.tar", "bad.tar", "--ci", "--max-growth", "5%"],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("bad.tar"));
}
