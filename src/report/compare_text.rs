//! The plain-text report of `bathy compare`: headline table (also the top of the `--ci`
//! evaluation, see `report::ci`), layers past the shared prefix, files by directory and by
//! size, packages, leftovers.

use crate::analysis::compare::{
    ChangeKind, Comparison, FileChange, FileDiff, FileStatus, LayerDiff, LayerPair, LayerStatus,
    LeftoverDiff, PackageDiff,
};
use crate::text_fit::{escape_controls as esc, shown};
use crate::units::{human_bytes, human_delta};
use std::fmt::Write;

/// How many directories per level (top level, then below) the report lists.
pub const DIRS_PER_LEVEL: [usize; 3] = [10, 4, 3];
/// A directory is listed below the top level only with at least this share of the total churn.
pub const MIN_SHARE: f64 = 0.01;
/// How many changed files the report lists.
pub const TOP_FILES: usize = 10;
/// How many metadata-only changes the report lists.
pub const TOP_METADATA: usize = 5;
/// Longest command shown before it is cut.
pub const COMMAND_WIDTH: usize = 90;

use crate::image::NO_HISTORY;
const NO_PACKAGES: &str = "not computed (needs the package attribution of both images)";
const NO_LEFTOVERS: &str = "not computed (needs the leftover findings of both images)";

/// A layer's command for a table row.
fn command(s: &str) -> String {
    if s.is_empty() {
        return NO_HISTORY.to_string();
    }
    shown(s, COMMAND_WIDTH)
}

fn pct(a: u64, d: i64) -> String {
    if a == 0 {
        return String::new();
    }
    format!(" ({:+.1}%)", 100.0 * d as f64 / a as f64)
}

/// One row of the comparison's headline: A, B and B − A, written for people. The text report
/// and the HTML page both show these rows.
pub struct HeadlineRow {
    pub label: &'static str,
    pub a: String,
    pub b: String,
    pub delta: String,
}

/// The headline's rows: sizes, layers, final files, true waste, dive's efficiency, leftovers.
pub fn headline_rows(c: &Comparison) -> Vec<HeadlineRow> {
    let (a, b, d) = (&c.headline.a, &c.headline.b, &c.headline.delta);
    let row = |label, a: String, b: String, delta: String| HeadlineRow { label, a, b, delta };
    let bytes = |label, x: u64, y: u64, dz: i64, with_pct: bool| {
        let extra = if with_pct { pct(x, dz) } else { String::new() };
        row(
            label,
            human_bytes(x),
            human_bytes(y),
            format!("{}{extra}", human_delta(dz)),
        )
    };
    vec![
        bytes("Size", a.size_bytes, b.size_bytes, d.size_bytes, true),
        bytes(
            "Compressed",
            a.compressed_bytes,
            b.compressed_bytes,
            d.compressed_bytes,
            true,
        ),
        row(
            "Layers",
            a.layers.to_string(),
            b.layers.to_string(),
            format!("{:+}", d.layers),
        ),
        bytes(
            "Final files",
            a.final_bytes,
            b.final_bytes,
            d.final_bytes,
            false,
        ),
        bytes(
            "True waste",
            a.true_wasted_bytes,
            b.true_wasted_bytes,
            d.true_wasted_bytes,
            false,
        ),
        row(
            "dive efficiency",
            format!("{:.2} %", a.efficiency * 100.0),
            format!("{:.2} %", b.efficiency * 100.0),
            format!("{:+.2} points", d.efficiency * 100.0),
        ),
        row(
            "Leftovers",
            a.leftover_bytes.map_or("n/a".into(), human_bytes),
            b.leftover_bytes.map_or("n/a".into(), human_bytes),
            d.leftover_bytes.map_or(String::new(), human_delta),
        ),
    ]
}

/// The headline table alone (also the top of the `--ci` output).
pub fn render_headline(c: &Comparison) -> String {
    let mut s = String::new();
    let (a, b) = (&c.headline.a, &c.headline.b);
    let _ = writeln!(s, "A: {} ({})", esc(&a.name), esc(&a.source));
    let _ = writeln!(s, "B: {} ({})", esc(&b.name), esc(&b.source));
    let _ = writeln!(s);
    let row = |s: &mut String, label: &str, x: &str, y: &str, z: &str| {
        let _ = writeln!(s, "  {label:<15} {x:>12} {y:>12}  {z}");
    };
    row(&mut s, "", "A", "B", "B − A");
    for r in headline_rows(c) {
        row(&mut s, r.label, &r.a, &r.b, &r.delta);
    }
    s
}

fn layer_line(s: &mut String, p: &LayerPair) {
    let status = match p.status {
        LayerStatus::Same => "same",
        LayerStatus::Rebuilt => "rebuilt",
        LayerStatus::Changed => "changed",
        LayerStatus::Removed => "removed",
        LayerStatus::Added => "added",
    };
    let ia =
        p.a.as_ref()
            .map(|r| r.index.to_string())
            .unwrap_or_default();
    let ib =
        p.b.as_ref()
            .map(|r| r.index.to_string())
            .unwrap_or_default();
    let sa =
        p.a.as_ref()
            .map(|r| human_bytes(r.size_bytes))
            .unwrap_or_default();
    let sb =
        p.b.as_ref()
            .map(|r| human_bytes(r.size_bytes))
            .unwrap_or_default();
    let head = format!(
        "  {ia:>3} {ib:>3}  {status:<8} {sa:>9} {sb:>9} {:>10}  ",
        human_delta(p.delta_bytes())
    );
    match (&p.a, &p.b) {
        // a changed instruction: both commands, one above the other, so the difference shows
        (Some(x), Some(y)) if x.command != y.command => {
            let _ = writeln!(s, "{head}A: {}", command(&x.command));
            let _ = writeln!(
                s,
                "{:width$}B: {}",
                "",
                command(&y.command),
                width = head.chars().count()
            );
        }
        (Some(x), _) | (None, Some(x)) => {
            let _ = writeln!(s, "{head}{}", command(&x.command));
        }
        (None, None) => {}
    }
}

fn change_note(c: &FileChange) -> String {
    let (a, b) = (c.a.as_ref(), c.b.as_ref());
    match c.status {
        FileStatus::Added => b.map(|x| x.kind.name().to_string()).unwrap_or_default(),
        FileStatus::Removed => a.map(|x| x.kind.name().to_string()).unwrap_or_default(),
        FileStatus::Modified => {
            let (Some(a), Some(b)) = (a, b) else {
                return String::new();
            };
            let mut parts = Vec::new();
            for what in &c.changed {
                parts.push(match what {
                    ChangeKind::Type => format!("type {} → {}", a.kind.name(), b.kind.name()),
                    ChangeKind::Content => {
                        format!("content {} → {}", human_bytes(a.size), human_bytes(b.size))
                    }
                    ChangeKind::Mode => format!("mode {:04o} → {:04o}", a.mode, b.mode),
                    ChangeKind::Owner => {
                        format!("owner {}:{} → {}:{}", a.uid, a.gid, b.uid, b.gid)
                    }
                    ChangeKind::Link => format!("link {} → {}", esc(&a.link), esc(&b.link)),
                });
            }
            if c.metadata_only {
                parts.push("metadata only".into());
            }
            parts.join(", ")
        }
    }
}

fn signed(n: u64, sign: char) -> String {
    if n == 0 {
        "0 B".into()
    } else {
        format!("{sign}{}", human_bytes(n))
    }
}

fn dir_line(s: &mut String, f: &FileDiff, node: usize, indent: usize) {
    let r = &f.tree[node].rollup;
    let mut counts = Vec::new();
    for (k, w) in [
        (r.added, "added"),
        (r.removed, "removed"),
        (r.modified, "modified"),
    ] {
        if k > 0 {
            counts.push(format!("{k} {w}"));
        }
    }
    let _ = writeln!(
        s,
        "  {:>10} {:>10} {:>10}  {:indent$}{}/  ({})",
        signed(r.added_bytes, '+'),
        signed(r.removed_bytes, '-'),
        human_delta(r.delta_bytes),
        "",
        esc(&f.path(node)),
        counts.join(", "),
        indent = indent * 2
    );
}

fn dirs(s: &mut String, c: &Comparison, node: usize, level: usize, total: u64) {
    let Some(&per) = DIRS_PER_LEVEL.get(level) else {
        return;
    };
    let tree = &c.files.tree;
    let kids: Vec<usize> = tree[node]
        .children
        .iter()
        .copied()
        .filter(|&k| tree[k].is_dir && !tree[k].children.is_empty())
        .filter(|&k| {
            level == 0
                || (tree[k].rollup.churn_bytes() as f64) >= MIN_SHARE * total as f64
                    && tree[k].rollup.churn_bytes() > 0
        })
        .collect();
    for &k in kids.iter().take(per) {
        dir_line(s, &c.files, k, level);
        dirs(s, c, k, level + 1, total);
    }
    if level == 0 && kids.len() > per {
        let _ = writeln!(s, "  … and {} more directories", kids.len() - per);
    }
}

/// The whole comparison report.
pub fn render(c: &Comparison) -> String {
    let mut s = render_headline(c);
    layers(&mut s, &c.layers);
    let _ = writeln!(s);
    if c.files.changes.is_empty() {
        let _ = writeln!(s, "Files: the final filesystems are the same.");
    } else {
        files(&mut s, c);
    }
    let _ = writeln!(s);
    match &c.packages {
        None => {
            let _ = writeln!(s, "Packages: {NO_PACKAGES}");
        }
        Some(p) => packages(&mut s, p),
    }
    match &c.leftovers {
        None => {
            let _ = writeln!(s, "Leftovers: {NO_LEFTOVERS}");
        }
        Some(lo) => leftovers(&mut s, lo),
    }
    s
}

/// The shared prefix (its last layer) and the aligned layers after it.
fn layers(s: &mut String, l: &LayerDiff) {
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Layers: {} shared ({}), then {} differing:",
        l.shared.len(),
        human_bytes(l.shared_bytes),
        l.rows.len()
    );
    if let Some(last) = l.shared.last() {
        let _ = writeln!(
            s,
            "  {:>3} {:>3}  {:<8} {:>9} {:>9} {:>10}  {}",
            last.index,
            last.index,
            "shared",
            "",
            "",
            "",
            command(&last.command)
        );
    }
    if !l.rows.is_empty() {
        let _ = writeln!(
            s,
            "  {:>3} {:>3}  {:<8} {:>9} {:>9} {:>10}  Command",
            "#A", "#B", "", "Size A", "Size B", "Delta"
        );
        for p in &l.rows {
            layer_line(s, p);
        }
    }
}

/// The file diff: totals, directories, moves, the largest changes, metadata-only changes.
fn files(s: &mut String, c: &Comparison) {
    let f = &c.files;
    let t = f.totals();
    let _ = writeln!(
        s,
        "Files: {} added, {} removed, {} modified ({} metadata only); {} in, {} out, net {}",
        t.added,
        t.removed,
        t.modified,
        t.metadata_only,
        signed(t.added_bytes, '+'),
        signed(t.removed_bytes, '-'),
        human_delta(t.delta_bytes)
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "  By directory, largest change first:");
    let _ = writeln!(s, "  {:>10} {:>10} {:>10}  Directory", "In", "Out", "Net");
    dirs(s, c, 0, 0, t.churn_bytes());
    moves(s, f);
    largest_changes(s, f);
    metadata_changes(s, f);
}

fn moves(s: &mut String, f: &FileDiff) {
    if f.moves.is_empty() {
        return;
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "  Moved (removed at one path, added at another):");
    for m in f.moves.iter().take(TOP_FILES) {
        let how = if m.same_content {
            "same content"
        } else {
            "same name, content differs"
        };
        let _ = writeln!(
            s,
            "  {} ({}) → {} ({})  [{how}]",
            esc(&m.from),
            human_bytes(m.from_bytes),
            esc(&m.to),
            human_bytes(m.to_bytes)
        );
    }
}

/// The largest of each kind, so a few added files are not drowned by many removed ones.
fn largest_changes(s: &mut String, f: &FileDiff) {
    let top = f.top_files();
    for (status, title) in [
        (FileStatus::Added, "Largest additions"),
        (FileStatus::Removed, "Largest removals"),
        (FileStatus::Modified, "Largest modifications"),
    ] {
        let files: Vec<&&FileChange> = top
            .iter()
            .filter(|x| x.status == status && !x.metadata_only)
            .collect();
        if files.is_empty() {
            continue;
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "  {title}:");
        for x in files.iter().take(TOP_FILES) {
            let _ = writeln!(
                s,
                "  {:>10}  {}  ({})",
                human_delta(x.delta_bytes),
                esc(&f.path(x.node)),
                change_note(x)
            );
        }
        if files.len() > TOP_FILES {
            let _ = writeln!(s, "  … and {} more", files.len() - TOP_FILES);
        }
    }
}

fn metadata_changes(s: &mut String, f: &FileDiff) {
    let meta: Vec<&FileChange> = f.changes.iter().filter(|x| x.metadata_only).collect();
    if meta.is_empty() {
        return;
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "  Metadata-only changes:");
    for x in meta.iter().take(TOP_METADATA) {
        let _ = writeln!(s, "  {}  ({})", esc(&f.path(x.node)), change_note(x));
    }
    if meta.len() > TOP_METADATA {
        let _ = writeln!(s, "  … and {} more", meta.len() - TOP_METADATA);
    }
}

fn packages(s: &mut String, p: &PackageDiff) {
    let _ = writeln!(
        s,
        "Packages: {} added, {} removed, {} upgraded, {} downgraded; net {}",
        p.added.len(),
        p.removed.len(),
        p.upgraded.len(),
        p.downgraded.len(),
        human_delta(p.delta_bytes)
    );
    for (word, list) in [
        ("added", &p.added),
        ("removed", &p.removed),
        ("upgraded", &p.upgraded),
        ("downgraded", &p.downgraded),
    ] {
        for x in list.iter().take(TOP_FILES) {
            let from = x.from_version.as_deref().unwrap_or("");
            let to = x.to_version.as_deref().unwrap_or("");
            let arrow = if from.is_empty() || to.is_empty() {
                format!("{}{}", esc(from), esc(to))
            } else {
                format!("{} → {}", esc(from), esc(to))
            };
            let _ = writeln!(
                s,
                "  {word:<10} {:>10}  {} {} ({arrow})",
                human_delta(x.delta_bytes),
                x.manager.as_str(),
                esc(&x.name)
            );
        }
    }
}

fn leftovers(s: &mut String, lo: &LeftoverDiff) {
    let _ = writeln!(
        s,
        "Leftovers: {} new in B, {} gone; {} → {} ({})",
        lo.new.len(),
        lo.gone.len(),
        human_bytes(lo.a_bytes),
        human_bytes(lo.b_bytes),
        human_delta(lo.delta_bytes)
    );
    for (word, list) in [("new", &lo.new), ("gone", &lo.gone)] {
        for x in list.iter().take(TOP_FILES) {
            let pkg = x
                .package
                .as_ref()
                .map(|p| format!(" (package {})", esc(p)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {word:<5} {:>10}  {:<14} {}{pkg}",
                human_bytes(x.bytes),
                x.category.as_str(),
                esc(&x.path)
            );
        }
    }
}
