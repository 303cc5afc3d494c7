//! Hostile images and what leaves bathy for a human (issue 11, items 1, 11, 15, 16, 20): no raw
//! control character from an image in any human-readable output, a closed stdout ends quietly,
//! output errors name the output, a long ld.so.conf is read in linear time.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::testkit::{
    fake_elf, images_members, tar_members, ArchiveFormat, Compression, ImageSpec, LayerSpec,
};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A workflow command forged at the start of a line, a terminal title set, the screen cleared.
const INJECTED: &str = "x\n::error title=injected::owned\x1b]0;title\x07\r\x1b[2J";

/// An image whose file name, tag and history command carry control characters.
fn hostile(tag: &str) -> ImageSpec {
    ImageSpec::new(tag)
        .layer(
            LayerSpec::new(&format!("RUN echo {INJECTED}"))
                .dir("app")
                .file_sized(&format!("app/{INJECTED}"), 5000, 1),
        )
        .layer(LayerSpec::new("RUN rm").whiteout(&format!("app/{INJECTED}")))
}

fn write(dir: &Path, name: &str, spec: &ImageSpec) -> PathBuf {
    let p = dir.join(name);
    spec.write(&p, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    p
}

/// No ESC, CR, BEL, and no line that starts with a GitHub workflow command but the ones we
/// write (`--ci-format github` starts its own lines with `::`).
fn assert_clean(what: &str, text: &str, own_commands: bool) {
    for c in ['\x1b', '\r', '\x07'] {
        assert!(!text.contains(c), "{what}: raw {c:?} in\n{text}");
    }
    for line in text.lines() {
        let forged = line.trim_start().starts_with("::error title=injected");
        assert!(!forged, "{what}: forged line {line:?}");
        if !own_commands {
            assert!(!line.starts_with("::"), "{what}: {line:?}");
        }
    }
    assert!(
        text.contains("\\x1b") || text.is_empty(),
        "{what}: the escape is visible: {text}"
    );
}

#[test]
fn no_raw_control_characters_in_any_human_readable_output() {
    let t = tmp();
    let evil_tag = "evil\x1b[2J:1";
    let a = write(t.path(), "a.tar", &hostile(evil_tag));
    let b = write(
        t.path(),
        "b.tar",
        &hostile("b:1").layer(LayerSpec::new("RUN add").file_sized(
            &format!("app/{INJECTED}2"),
            100,
            2,
        )),
    );
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let df = t.path().join("Dockerfile");
    std::fs::write(&df, "FROM scratch AS bu\x1bild\nRUN echo\n").unwrap();
    let df = df.to_str().unwrap();
    let cases: Vec<(&str, Vec<&str>, bool)> = vec![
        ("text report", vec!["--no-tui", a], false),
        (
            "text with Dockerfile",
            vec!["--no-tui", "--dockerfile", df, a],
            false,
        ),
        ("compare text", vec!["compare", a, b], false),
        (
            "compare --ci",
            vec!["compare", a, b, "--max-growth", "1B"],
            false,
        ),
        (
            "--ci text",
            vec!["--ci", "--lowest-efficiency", "0.99", a],
            false,
        ),
        (
            "--ci github",
            vec![
                "--ci",
                "--ci-format",
                "github",
                "--lowest-efficiency",
                "0.99",
                a,
            ],
            true,
        ),
    ];
    for (what, args, github) in cases {
        let o = run(&args, t.path());
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{what}: {}",
            stderr(&o)
        );
        assert_clean(what, &stdout(&o), github);
        assert_clean(&format!("{what} (stderr)"), &stderr(&o), false);
    }
}

#[test]
fn the_several_images_note_is_one_escaped_line() {
    let t = tmp();
    let p = t.path().join("two.tar");
    let bytes = tar_members(&images_members(
        &[hostile("one\n:1"), hostile("two:2")],
        ArchiveFormat::DockerArchive,
        Compression::None,
    ));
    std::fs::write(&p, bytes).unwrap();
    let out = t.path().join("r.json");
    let o = run(
        &["--json", out.to_str().unwrap(), p.to_str().unwrap()],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("holds 2 images") && err.contains("one\\n:1"),
        "{err}"
    );
}

/// Run with stdout a pipe whose reader is gone before bathy writes.
fn with_closed_stdout(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let mut child = bathy()
        .args(args)
        .current_dir(dir)
        .env_remove("CI")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    (o.status.code(), stderr(&o))
}

#[test]
fn a_closed_stdout_ends_quietly_as_cat_does() {
    let t = tmp();
    let a = write(t.path(), "a.tar", &hostile("a:1"));
    let b = write(t.path(), "b.tar", &hostile("b:1"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    for args in [
        vec!["--no-tui", a],
        vec!["compare", a, b],
        vec!["--json", "-", a],
        vec!["--ci", a],
        vec!["compare", a, b, "--json", "-"],
    ] {
        let (code, err) = with_closed_stdout(&args, t.path());
        assert_eq!(code, Some(141), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: nothing on stderr: {err}");
    }
}

#[test]
fn an_output_error_names_the_output() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let t = tmp();
    let a = write(t.path(), "a.tar", &hostile("a:1"));
    let o = run(&["--json", "/dev/full", a.to_str().unwrap()], t.path());
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.starts_with("bathy: /dev/full: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_huge_value_is_not_echoed_whole() {
    let t = tmp();
    let a = write(t.path(), "a.tar", &hostile("a:1"));
    // `\e` is YAML's escape for ESC
    let huge = format!("0.{}\\e", "5".repeat(5_000_000));
    let cfg = t.path().join("ci.yaml");
    std::fs::write(&cfg, format!("rules:\n  lowestEfficiency: \"{huge}x\"\n")).unwrap();
    let o = run(
        &[
            "--ci",
            "--ci-config",
            cfg.to_str().unwrap(),
            a.to_str().unwrap(),
        ],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.len() < 2100, "{} bytes", err.len());
    assert!(
        err.contains('…') && err.contains("lowest-efficiency"),
        "{err}"
    );
    assert!(!err.contains('\x1b'), "{err}");
}

/// 100,000 distinct directories in /etc/ld.so.conf, the library in the last one: found, in
/// time linear in the file (the duplicate check was a list scan, 59 s for this file).
#[test]
fn a_long_ld_so_conf_is_read_in_linear_time() {
    let ld = "/lib64/ld-linux-x86-64.so.2";
    let n = 100_000;
    let mut conf = String::new();
    for i in 0..n {
        conf.push_str(&format!("/opt/d{i}\n"));
    }
    let last = format!("opt/d{}/libfoo.so.1", n - 1);
    let spec = ImageSpec::new("ld:1")
        .layer(
            LayerSpec::new("base")
                .file(
                    "lib64/ld-linux-x86-64.so.2",
                    &fake_elf(None, &[], None, 1000),
                )
                .file("etc/ld.so.conf", conf.as_bytes())
                .file(&last, &fake_elf(None, &[], None, 3000))
                .file(
                    "usr/local/bin/server",
                    &fake_elf(Some(ld), &["libfoo.so.1"], None, 4000),
                ),
        )
        .entrypoint(&["/usr/local/bin/server"]);
    let t = tmp();
    let p = write(t.path(), "ld.tar", &spec);
    let out = t.path().join("r.json");
    let o = run(
        &["--json", out.to_str().unwrap(), p.to_str().unwrap()],
        t.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let e = &doc["bathyscaphe"]["estimates"];
    // the program 4000 + libfoo 3000 + the loader 1000
    assert_eq!(e["runtimeClosureBytes"], 8000, "{e}");
}

/// `.dive-ci` and `--rules` nested 100,000 deep: refused at once, one line naming the file.
#[test]
fn deeply_nested_yaml_is_refused_early() {
    let t = tmp();
    let a = write(t.path(), "a.tar", &hostile("a:1"));
    let deep = t.path().join("deep.yaml");
    std::fs::write(&deep, format!("rules:\n  x: {}", "[".repeat(100_000))).unwrap();
    let deep = deep.to_str().unwrap();
    let a = a.to_str().unwrap();
    for args in [
        vec!["--ci", "--ci-config", deep, a],
        vec!["--no-tui", "--rules", deep, a],
    ] {
        let o = run(&args, t.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("deep.yaml") && err.contains("nested more than"),
            "{err}"
        );
    }
}

/// A `.dive-ci` that is a directory, a dangling symlink or a FIFO is an error saying what it
/// is; an unknown top-level key warns, naming it; `--max-growth` without `--baseline` says why
/// it skipped.
#[test]
fn ci_config_that_is_not_a_file_and_unknown_keys() {
    let a = {
        let t = tmp();
        let p = write(t.path(), "a.tar", &hostile("a:1"));
        let bytes = std::fs::read(p).unwrap();
        (t, bytes)
    };
    let make = |setup: &dyn Fn(&Path)| {
        let t = tmp();
        std::fs::write(t.path().join("a.tar"), &a.1).unwrap();
        setup(t.path());
        t
    };
    type Setup = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Setup)> = vec![
        (
            "a directory",
            Box::new(|d: &Path| std::fs::create_dir(d.join(".dive-ci")).unwrap()),
        ),
        (
            "a dangling symlink",
            Box::new(|d: &Path| std::os::unix::fs::symlink("nowhere", d.join(".dive-ci")).unwrap()),
        ),
        (
            "not a regular file",
            Box::new(|d: &Path| {
                let p = d.join(".dive-ci");
                let ok = std::process::Command::new("mkfifo")
                    .arg(&p)
                    .status()
                    .unwrap();
                assert!(ok.success());
            }),
        ),
    ];
    for (what, setup) in cases {
        let t = make(&*setup);
        let o = run(&["--ci", "a.tar"], t.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(
            err.contains(".dive-ci") && err.contains(what),
            "{what}: {err}"
        );
        let o = run(&["--ci", "--ci-config", ".dive-ci", "a.tar"], t.path());
        assert!(stderr(&o).contains(what), "{what}: {}", stderr(&o));
    }
    let t = make(&|d: &Path| {
        std::fs::write(d.join(".dive-ci"), "rule:\n  lowestEfficiency: 0.5\n").unwrap()
    });
    let o = run(&["--ci", "--max-growth", "1MB", "a.tar"], t.path());
    let err = stderr(&o);
    assert!(err.contains("unknown top-level key \"rule\""), "{err}");
    let out = stdout(&o);
    let line = out.lines().find(|l| l.contains("max-growth")).unwrap();
    assert!(line.contains("SKIP"), "{out}");
    assert!(out.contains("no baseline image given"), "{out}");
}

/// The explorer's extract writes the file under its real name and speaks of it escaped.
#[cfg(feature = "tui")]
#[test]
fn extract_names_the_real_file_escaped() {
    let dir = tmp();
    let name = "a\x1b]0;t\x07b";
    bathyscaphe::tui::extract_to(dir.path(), name, &b"x"[..]).unwrap();
    assert_eq!(std::fs::read(dir.path().join(name)).unwrap(), b"x");
    let err = bathyscaphe::tui::extract_to(dir.path(), name, &b"y"[..]).unwrap_err();
    assert!(
        err.contains("a\\x1b]0;t\\x07b") && !err.contains('\x1b'),
        "{err}"
    );
}
