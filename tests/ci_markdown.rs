//! `--ci-format markdown` and `--summary FILE`: the pull-request summary against a snapshot,
//! read back by a Markdown parser (pulldown-cmark) to check its tables, its collapsed
//! sections, and that a hostile file name stays one inert piece of text.

mod common;
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::units::human_bytes;
use common::*;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::path::{Path, PathBuf};

/// A file name with every character Markdown (GitHub's flavour) gives a meaning to.
/// (No `/`: that would make it a directory and a file.)
const HOSTILE: &str = "x|y`<img src=x>*z*_$m$_@team[l](h)#!~&amp;";

fn base_layer() -> LayerSpec {
    LayerSpec::new("ADD rootfs /").file_sized("usr/bin/sh", 700, 4)
}

/// Layer 1: gcc's cc1 (9000 B, a compiler leftover) and an apt index (5000 B, a package
/// cache); layer 2: the hostile file (100 B) and /app/data (200 B, mode 777: world-writable).
/// 700 + 9000 + 5000 + 100 + 200 = 15000 bytes, no path twice: efficiency 1, nothing wasted.
fn layers() -> Vec<LayerSpec> {
    vec![
        base_layer(),
        LayerSpec::new("RUN apt-get update && apt-get install -y gcc-12")
            .file_sized("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 9000, 1)
            .file_sized(
                "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
                5000,
                2,
            ),
        LayerSpec::new("COPY . /app")
            .file_sized(&format!("app/{HOSTILE}"), 100, 3)
            .file_mode("app/data", &[b'd'; 200], 0o777),
    ]
}

fn images(dir: &Path) -> (PathBuf, PathBuf) {
    let mut spec = ImageSpec::new("md:1");
    for l in layers() {
        spec = spec.layer(l);
    }
    let img = dir.join("md1.tar");
    spec.write(&img, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write image");
    let base = dir.join("md0.tar");
    ImageSpec::new("md:0")
        .layer(base_layer())
        .write(&base, ArchiveFormat::DockerArchive, Compression::None)
        .expect("write baseline");
    (img, base)
}

/// The summary of md:1 against md:0, forbidding /app/** (2 paths), with dive's rules at
/// their defaults (pass: efficiency 1, nothing wasted) and forbidden-findings at its default
/// (fails: /app/data is world-writable).
fn summary_of(dir: &Path, extra: &[&str]) -> std::process::Output {
    let (img, base) = images(dir);
    let mut args = vec![
        img.to_str().expect("utf-8").to_string(),
        "--baseline".into(),
        base.to_str().expect("utf-8").into(),
        "--forbid-paths".into(),
        "/app/**".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args, dir)
}

#[test]
fn markdown_summary_snapshot() {
    let dir = tmp();
    let o = summary_of(dir.path(), &["--ci-format", "markdown"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    insta::assert_snapshot!("markdown_summary", stdout(&o));
}

/// A table as the parser read it: the header cells and each row's cells, as text.
#[derive(Debug, Default)]
struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Everything the parser found that matters here.
#[derive(Debug, Default)]
struct Read {
    tables: Vec<Table>,
    /// Raw HTML, block or inline.
    html: Vec<String>,
    /// The text of each list item (nested items separately).
    items: Vec<String>,
    /// Text inside strong emphasis.
    strong: Vec<String>,
    emphasis: usize,
    math: usize,
    links: usize,
    headings: Vec<String>,
}

fn read(md: &str) -> Read {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_MATH;
    let mut r = Read::default();
    let mut cell: Option<String> = None;
    let mut row: Vec<String> = Vec::new();
    let mut items: Vec<String> = Vec::new();
    let mut strong: Option<String> = None;
    let mut heading: Option<String> = None;
    for ev in Parser::new_ext(md, opts) {
        match ev {
            Event::Start(Tag::Table(_)) => r.tables.push(Table::default()),
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => row.push(cell.take().unwrap_or_default()),
            Event::End(TagEnd::TableHead) => {
                if let Some(t) = r.tables.last_mut() {
                    t.head = std::mem::take(&mut row);
                }
            }
            Event::End(TagEnd::TableRow) => {
                if let Some(t) = r.tables.last_mut() {
                    t.rows.push(std::mem::take(&mut row));
                }
            }
            Event::Start(Tag::Item) => items.push(String::new()),
            Event::End(TagEnd::Item) => r.items.push(items.pop().unwrap_or_default()),
            Event::Start(Tag::Strong) => strong = Some(String::new()),
            Event::End(TagEnd::Strong) => r.strong.push(strong.take().unwrap_or_default()),
            Event::Start(Tag::Emphasis) | Event::Start(Tag::Strikethrough) => r.emphasis += 1,
            Event::Start(Tag::Link { .. }) | Event::Start(Tag::Image { .. }) => r.links += 1,
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => r.headings.push(heading.take().unwrap_or_default()),
            Event::InlineMath(_) | Event::DisplayMath(_) => r.math += 1,
            Event::Html(h) | Event::InlineHtml(h) => r.html.push(h.to_string()),
            Event::Text(t) | Event::Code(t) => {
                for s in [
                    cell.as_mut(),
                    items.last_mut(),
                    strong.as_mut(),
                    heading.as_mut(),
                ]
                .into_iter()
                .flatten()
                {
                    s.push_str(&t);
                }
            }
            Event::SoftBreak => {
                if let Some(i) = items.last_mut() {
                    i.push(' ');
                }
            }
            _ => {}
        }
    }
    r
}

fn table_with_head<'a>(r: &'a Read, first: &str) -> &'a Table {
    r.tables
        .iter()
        .find(|t| {
            t.head.first().map(String::as_str) == Some(first)
                || t.head.get(1).map(String::as_str) == Some(first)
        })
        .unwrap_or_else(|| panic!("no table headed {first:?}: {:?}", r.tables))
}

#[test]
fn markdown_summary_parses_into_its_tables() {
    let dir = tmp();
    let o = summary_of(dir.path(), &["--ci-format", "markdown"]);
    let md = stdout(&o);
    let r = read(&md);

    // the verdict: 2 of the 4 rules that ran fail (lowest-efficiency and
    // highest-user-wasted-percent pass, forbidden-findings and forbid-paths fail)
    assert_eq!(
        r.headings,
        ["❌ bathy: md:1 fails 2 of its 4 CI rules", "Failed rules"]
    );

    // the headline numbers against the baseline: 15000 against 700 bytes; the layers are
    // uncompressed tars, so the compressed size is their length
    let tar_len = |ls: &[LayerSpec]| ls.iter().map(|l| l.tar().len() as u64).sum::<u64>();
    let (now_c, base_c) = (tar_len(&layers()), tar_len(&[base_layer()]));
    let numbers = table_with_head(&r, "this image");
    assert_eq!(numbers.head, ["", "this image", "baseline: md:0", "change"]);
    assert_eq!(
        numbers.rows,
        [
            vec!["size", "15.0 kB", "700 B", "+14.3 kB"],
            [
                "compressed".to_string(),
                human_bytes(now_c),
                human_bytes(base_c),
                format!("+{}", human_bytes(now_c - base_c)),
            ]
            .iter()
            .map(String::as_str)
            .collect(),
            vec!["efficiency (dive)", "100.00 %", "100.00 %", "+0.00 pts"],
            vec!["wasted bytes (dive)", "0 B", "0 B", "0 B"],
            vec!["true waste", "0 B", "0 B", "0 B"],
        ]
    );

    // the failed rules, bold, with their culprits: the hostile name comes back as one text
    assert_eq!(r.strong, ["forbidden-findings", "forbid-paths"]);
    let hostile = format!("/app/{HOSTILE} (100 B, layer 2, matches /app/**)");
    assert!(r.items.contains(&hostile), "{:?}", r.items);
    assert!(
        r.items
            .contains(&"/app/data (200 B, layer 2, matches /app/**)".to_string()),
        "{:?}",
        r.items
    );

    // every rule that is listed, in the collapsed table
    let rules = table_with_head(&r, "rule");
    let row = |key: &str| {
        rules
            .rows
            .iter()
            .find(|x| x[1] == key)
            .cloned()
            .unwrap_or_else(|| panic!("{key} not in {:?}", rules.rows))
    };
    assert_eq!(rules.rows.len(), 5);
    assert_eq!(
        row("forbid-paths"),
        ["FAIL", "forbid-paths", "/app/**", "2"]
    );
    assert_eq!(
        row("lowest-efficiency"),
        ["PASS", "lowest-efficiency", "0.9", "1"]
    );
    assert_eq!(row("highest-wasted-bytes")[0], "SKIP");

    // leftovers, largest first, with their fixes
    let left = table_with_head(&r, "category");
    assert_eq!(
        left.rows
            .iter()
            .map(|x| (x[0].as_str(), x[1].as_str(), x[2].as_str(), x[3].as_str()))
            .collect::<Vec<_>>(),
        [
            ("compiler", "/usr/lib/gcc", "9.0 kB", "1"),
            ("package-cache", "/var/lib/apt/lists", "5.0 kB", "1"),
        ]
    );
    assert!(left.rows.iter().all(|x| !x[4].is_empty()), "a fix for each");

    // the findings: /app/data world-writable, and the image runs as root
    let findings = table_with_head(&r, "check");
    let checks: Vec<(&str, &str)> = findings
        .rows
        .iter()
        .map(|x| (x[0].as_str(), x[1].as_str()))
        .collect();
    assert!(
        checks.contains(&("world-writable", "/app/data")),
        "{checks:?}"
    );
    assert!(
        findings
            .rows
            .iter()
            .any(|x| x[0] == "world-writable" && x[4] == "chmod o-w"),
        "{:?}",
        findings.rows
    );

    // nothing of the name became markup: no emphasis, link, maths or HTML but the collapsed
    // sections' own tags
    assert_eq!((r.emphasis, r.links, r.math), (0, 0, 0));
    for line in r.html.iter().flat_map(|h| h.lines()) {
        let ours = line == "<details>"
            || line == "</details>"
            || (line.starts_with("<summary>") && line.ends_with("</summary>"));
        assert!(ours, "unexpected HTML {line:?}");
    }
    // every row of a table has as many unescaped pipes as its header
    let mut want: Option<usize> = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            want = None;
            continue;
        }
        let pipes = line
            .char_indices()
            .filter(|&(i, c)| c == '|' && !line[..i].ends_with('\\'))
            .count();
        assert_eq!(*want.get_or_insert(pipes), pipes, "{line}");
    }
}

#[test]
fn summary_file_is_appended_next_to_any_format() {
    let dir = tmp();
    let file = dir.path().join("step-summary.md");
    std::fs::write(&file, "earlier step\n").expect("write");
    let o = summary_of(
        dir.path(),
        &[
            "--ci-format",
            "json",
            "--summary",
            file.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    // stdout keeps the chosen format
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json on stdout");
    assert_eq!(v["pass"], false);
    let direct = summary_of(dir.path(), &["--ci-format", "markdown"]);
    let written = std::fs::read_to_string(&file).expect("summary written");
    assert_eq!(
        written,
        format!(
            "earlier step\n{}",
            stdout(&direct).trim_end_matches('\n').to_owned() + "\n"
        )
    );
    // --summary alone implies --ci
    let (img, _) = images(dir.path());
    let o = run(
        &[
            img.to_str().expect("utf-8"),
            "--summary",
            "-",
            "--forbidden-findings",
            "disabled",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("### ✅ bathy: md\\:1 passes its 2 CI rules"),
        "{}",
        stdout(&o)
    );
}
