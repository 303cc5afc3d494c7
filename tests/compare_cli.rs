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
/// The status records have no `Status:` field, so dpkg would not count curl as installed and
/// neither side has packages; [`write_upgrade_pair`] is the package upgrade.
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
        // both sides were analysed and have no packages or leftovers: zeros, not "not computed"
        "Packages: 0 added, 0 removed, 0 upgraded, 0 downgraded; net 0 B",
        "Leftovers: 0 new in B, 0 gone; 0 B → 0 B (0 B)",
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
    // computed on both sides, and empty: no installed package (see write_pair), no leftover
    let empty: &[serde_json::Value] = &[];
    for list in ["added", "removed", "upgraded", "downgraded"] {
        assert_eq!(
            v["packages"][list].as_array().map(Vec::as_slice),
            Some(empty)
        );
    }
    assert_eq!(v["packages"]["deltaBytes"], 0);
    assert_eq!(
        v["leftovers"]["new"].as_array().map(Vec::as_slice),
        Some(empty)
    );
    assert_eq!(
        v["leftovers"]["gone"].as_array().map(Vec::as_slice),
        Some(empty)
    );
    assert_eq!(
        (
            &v["headline"]["a"]["leftoverBytes"],
            &v["headline"]["b"]["leftoverBytes"]
        ),
        (&serde_json::json!(0), &serde_json::json!(0))
    );
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

/// `--max-growth` reads sizes as `bathy IMAGE --ci` and dive do (issue 10): thousands commas are
/// dropped, fractions of a byte truncated (not rounded), PB/EB known.
#[test]
fn growth_limits_take_the_one_size_grammar() {
    let t = tmp();
    write_pair(t.path());
    // growth 1202 B; `1,201.9` is 1201 bytes (rounding would have made it 1202, a pass)
    for (limit, code) in [("1,202", 0), ("1,201.9", 1), ("1PB", 0), ("1EiB", 0)] {
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
    }
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

/// dpkg's status file listing `pkgs` (name, version) as installed.
fn dpkg_status(pkgs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::new();
    for (name, version) in pkgs {
        s += &format!(
            "Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\nDescription: x\n\n"
        );
    }
    s.into_bytes()
}

const CURL_LIST: &[u8] =
    b"/.\n/usr\n/usr/bin\n/usr/bin/curl\n/usr/lib/x86_64-linux-gnu/libcurl.so.4\n";

/// A: one layer with bash 5.2-1 (/usr/bin/bash, 1200 B) and curl 7.88.1-10 (/usr/bin/curl
/// 2000 B + libcurl.so.4 3000 B), their dpkg status and file lists.
/// B: A's layer, then `apt-get install --only-upgrade curl`: curl's two files rewritten (2500 B
/// and 3100 B), its file list again, and the status with curl 7.88.1-10+deb12u5.
fn write_upgrade_pair(dir: &Path) {
    let a = ImageSpec::new("pkgs:1").layer(
        LayerSpec::new("ADD rootfs /")
            .file_sized("usr/bin/bash", 1200, 1)
            .file_sized("usr/bin/curl", 2000, 2)
            .file_sized("usr/lib/x86_64-linux-gnu/libcurl.so.4", 3000, 3)
            .file(
                "var/lib/dpkg/status",
                &dpkg_status(&[("bash", "5.2-1"), ("curl", "7.88.1-10")]),
            )
            .file("var/lib/dpkg/info/bash.list", b"/.\n/usr/bin/bash\n")
            .file("var/lib/dpkg/info/curl.list", CURL_LIST),
    );
    let b = a.clone().layer(
        LayerSpec::new("RUN apt-get update && apt-get install -y --only-upgrade curl")
            .file_sized("usr/bin/curl", 2500, 4)
            .file_sized("usr/lib/x86_64-linux-gnu/libcurl.so.4", 3100, 5)
            .file(
                "var/lib/dpkg/status",
                &dpkg_status(&[("bash", "5.2-1"), ("curl", "7.88.1-10+deb12u5")]),
            )
            .file("var/lib/dpkg/info/curl.list", CURL_LIST),
    );
    for (spec, name) in [(a, "a.tar"), (b, "b.tar")] {
        spec.write(
            &dir.join(name),
            ArchiveFormat::DockerArchive,
            Compression::None,
        )
        .expect("write");
    }
}

#[test]
fn package_upgrade_with_versions_and_byte_delta() {
    let t = tmp();
    write_upgrade_pair(t.path());
    let o = run(&["compare", "a.tar", "b.tar", "--json", "-"], t.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let p = &v["packages"];
    // curl: 2000 + 3000 = 5000 bytes in A, 2500 + 3100 = 5600 in B: +600; bash is unchanged
    // (1200 on both sides) and not listed. Totals: 1200 + 5000 = 6200 → 1200 + 5600 = 6800.
    assert_eq!(
        p["upgraded"],
        serde_json::json!([{
            "manager": "dpkg",
            "name": "curl",
            "fromVersion": "7.88.1-10",
            "toVersion": "7.88.1-10+deb12u5",
            "fromBytes": 5000,
            "toBytes": 5600,
            "deltaBytes": 600
        }])
    );
    let empty: &[serde_json::Value] = &[];
    for list in ["added", "removed", "downgraded"] {
        assert_eq!(p[list].as_array().map(Vec::as_slice), Some(empty), "{list}");
    }
    assert_eq!(p["deltaBytes"], 600);

    let o = run(&["compare", "a.tar", "b.tar"], t.path());
    let out = stdout(&o);
    assert!(
        out.contains("Packages: 0 added, 0 removed, 1 upgraded, 0 downgraded; net +600 B"),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("upgraded")
            && l.contains("+600 B")
            && l.ends_with("dpkg curl (7.88.1-10 → 7.88.1-10+deb12u5)")),
        "{out}"
    );

    // the other way round it is a downgrade of 600 bytes
    let o = run(&["compare", "b.tar", "a.tar", "--json", "-"], t.path());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["packages"]["downgraded"][0]["name"], "curl");
    assert_eq!(v["packages"]["downgraded"][0]["toVersion"], "7.88.1-10");
    assert_eq!(v["packages"]["downgraded"][0]["deltaBytes"], -600);
    assert_eq!(v["packages"]["upgraded"].as_array().map(Vec::len), Some(0));
}

/// A: a shell (700 B) and an app (3000 B). `gcc`: A plus gcc's cc1 (9000 B, a `compiler`
/// leftover at /usr/lib/gcc). `gcc2`: `gcc` plus a config file. `conf`: A plus that config file.
fn write_leftover_images(dir: &Path) {
    let a = ImageSpec::new("app:1")
        .layer(LayerSpec::new("ADD rootfs /").file_sized("usr/bin/sh", 700, 1))
        .layer(LayerSpec::new("COPY server /app/server").file_sized("app/server", 3000, 2))
        .cmd(&["/app/server"]);
    let gcc = a
        .clone()
        .layer(LayerSpec::new("RUN apt-get install -y gcc-12").file_sized(
            "usr/lib/gcc/x86_64-linux-gnu/12/cc1",
            9000,
            3,
        ));
    let conf = |s: ImageSpec| {
        s.layer(LayerSpec::new("COPY app.conf /etc/").file_sized("etc/app.conf", 100, 4))
    };
    for (spec, name) in [
        (a.clone(), "a.tar"),
        (gcc.clone(), "gcc.tar"),
        (conf(gcc), "gcc2.tar"),
        (conf(a), "conf.tar"),
    ] {
        spec.write(
            &dir.join(name),
            ArchiveFormat::DockerArchive,
            Compression::None,
        )
        .expect("write");
    }
}

#[test]
fn new_leftovers_fail_the_gate_and_old_or_gone_ones_do_not() {
    let t = tmp();
    write_leftover_images(t.path());
    let gate = |a: &str, b: &str| {
        run(
            &[
                "compare",
                a,
                b,
                "--fail-on-new-leftovers",
                "--json",
                "cmp.json",
            ],
            t.path(),
        )
    };
    let json = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(t.path().join("cmp.json")).expect("json"))
            .expect("valid json")
    };

    // B adds cc1: one new compiler leftover of 9000 bytes; the gate fails naming it
    let o = gate("a.tar", "gcc.tar");
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("FAIL  no-new-leftovers"), "{out}");
    assert!(out.contains("compiler /usr/lib/gcc (9000 B)"), "{out}");
    let v = json();
    assert_eq!(
        v["leftovers"]["new"],
        serde_json::json!([{"category": "compiler", "path": "/usr/lib/gcc", "bytes": 9000}])
    );
    // A has none: 0 → 9000
    assert_eq!(
        (
            &v["leftovers"]["aBytes"],
            &v["leftovers"]["bBytes"],
            &v["leftovers"]["deltaBytes"]
        ),
        (
            &serde_json::json!(0),
            &serde_json::json!(9000),
            &serde_json::json!(9000)
        )
    );
    assert_eq!(v["headline"]["delta"]["leftoverBytes"], 9000);
    assert_eq!(v["ci"]["passed"], false);

    // B adds only a config file: nothing new, the gate passes
    let o = gate("a.tar", "conf.tar");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("PASS  no-new-leftovers"),
        "{}",
        stdout(&o)
    );
    assert_eq!(json()["leftovers"]["new"].as_array().map(Vec::len), Some(0));

    // cc1 on both sides is not new
    let o = gate("gcc.tar", "gcc2.tar");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(json()["leftovers"]["new"].as_array().map(Vec::len), Some(0));

    // B without A's cc1: gone, which passes
    let o = gate("gcc.tar", "a.tar");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v = json();
    assert_eq!(v["leftovers"]["gone"][0]["path"], "/usr/lib/gcc");
    assert_eq!(v["leftovers"]["deltaBytes"], -9000);
}

#[test]
fn user_rules_apply_to_both_sides() {
    let t = tmp();
    write_leftover_images(t.path());
    // a user rule makes /etc/app.conf a leftover: new in `conf`, which then fails the gate (a
    // pattern without `/**` names the directory of the files it matched)
    let rules = t.path().join("rules.yaml");
    std::fs::write(
        &rules,
        "rules:\n  - id: app-conf\n    category: dev-files\n    severity: low\n    paths: ['/etc/app.conf']\n    advice: drop it\n",
    )
    .expect("write rules");
    let r = rules.to_str().expect("utf-8");
    let o = run(
        &[
            "compare",
            "a.tar",
            "conf.tar",
            "--fail-on-new-leftovers",
            "--rules",
            r,
        ],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("dev-files /etc (100 B)"),
        "{}",
        stdout(&o)
    );
    // applied to A too: comparing conf with itself finds nothing new
    let o = run(
        &[
            "compare",
            "conf.tar",
            "conf.tar",
            "--fail-on-new-leftovers",
            "--rules",
            r,
        ],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
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
