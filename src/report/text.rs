//! The plain-text report for pipes and logs: image, layers, true waste, dive's numbers, the
//! paths that waste the most, and the "why is it big" view. Every line fits `width` columns
//! (the terminal's, or [`PIPE_WIDTH`] on a pipe): names and commands are cut with "…", paths
//! in the middle, prose wraps; numbers are never cut.

use crate::analysis::Analysis;
use crate::image::Image;
use crate::report::why::{
    origin_total_words, origin_word, EstimateSection, FindingRow, Headline, LeftoverSection,
    PackageSection, StageSection, WhyView,
};
use crate::text_fit::{escape_controls as esc, fit_between, shown, wrap};
use crate::units::human_bytes;
use std::fmt::Write;

/// How many wasted paths the text report lists.
pub const TOP_PATHS: usize = 10;
/// The width of the report when stdout is not a terminal.
pub const PIPE_WIDTH: usize = 100;
/// Narrower than this, the report is laid out as if it were this wide.
pub const MIN_WIDTH: usize = 80;

pub fn render(image: &Image, a: &Analysis, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let mut s = String::new();
    let w = &a.waste;
    let d = &a.dive;
    let _ = writeln!(s, "Image:   {}", shown(&image.display_name(), width - 9));
    let _ = writeln!(
        s,
        "Source:  {} ({})",
        esc(&image.source),
        image.format.as_str()
    );
    let _ = writeln!(
        s,
        "Size:    {} uncompressed, {} compressed, {} layers, {} entries",
        human_bytes(d.size_bytes),
        human_bytes(image.compressed_bytes()),
        image.layers.len(),
        image.entry_count()
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Layers:");
    let _ = writeln!(
        s,
        "  {:>3}  {:>9}  {:>10}  {:>9}  Command",
        "#", "Size", "Compressed", "Wasted"
    );
    let blank = format!("  {:>3}  {:>9}  {:>10}  {:>9}  ", "", "", "", "");
    for l in &image.layers {
        for h in &l.empty_history {
            let _ = writeln!(
                s,
                "{}",
                fit_between(&blank, &esc(&h.label()), "", width, false)
            );
        }
        let cols = format!(
            "  {:>3}  {:>9}  {:>10}  {:>9}  ",
            l.index,
            human_bytes(l.size_bytes),
            human_bytes(l.compressed_bytes),
            human_bytes(w.layers[l.index].wasted_bytes),
        );
        let _ = writeln!(
            s,
            "{}",
            fit_between(&cols, &esc(&l.label()), "", width, false)
        );
    }
    let _ = writeln!(s);
    let pct = if w.shipped_bytes > 0 {
        100.0 * w.wasted_bytes as f64 / w.shipped_bytes as f64
    } else {
        0.0
    };
    prose(
        &mut s,
        &format!(
            "{} of {} shipped file bytes ({pct:.1}%) are not visible in the final filesystem ({} visible)",
            human_bytes(w.wasted_bytes),
            human_bytes(w.shipped_bytes),
            human_bytes(w.final_bytes)
        ),
        width,
        "True waste:  ",
        "             ",
    );
    let uwp = d
        .user_wasted_percent
        .map(|p| format!("{:.1}%", p * 100.0))
        .unwrap_or_else(|| "n/a".into());
    let _ = writeln!(
        s,
        "dive:        efficiency {:.4} %, wasted {}, user wasted {}",
        d.efficiency * 100.0,
        human_bytes(d.wasted_bytes),
        uwp
    );
    let paths = w.wasted_paths(image);
    if !paths.is_empty() {
        let _ = writeln!(s);
        // dive's per-path figure counts every copy; ours only the copies nobody sees
        prose(
            &mut s,
            "(true waste: the bytes of copies later layers hide; dive counts every copy):",
            width,
            "Top wasted paths ",
            "  ",
        );
        for p in paths.iter().take(TOP_PATHS) {
            let layers: Vec<String> = p.layers.iter().map(|l| l.to_string()).collect();
            let _ = writeln!(
                s,
                "{}",
                fit_between(
                    &format!("  {:>9}  ", human_bytes(p.bytes)),
                    &esc(&p.path),
                    &format!("  (layer {})", layers.join(", ")),
                    width,
                    true
                )
            );
        }
        if paths.len() > TOP_PATHS {
            let _ = writeln!(s, "  … and {} more", paths.len() - TOP_PATHS);
        }
    }
    s
}

/// How many rows each "why is it big" table shows.
pub const TOP: usize = 15;

/// The "why is it big" sections of the text report, in `width` columns.
pub fn render_why(v: &WhyView, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let mut s = String::new();
    let _ = writeln!(s, "Why is it big:");
    if v.no_contents {
        let _ = writeln!(
            s,
            "  (read without file contents: package databases and ELF facts are not available)"
        );
    }
    why_headlines(&mut s, &v.headlines, width);
    why_leftovers(&mut s, &v.leftovers, width);
    let _ = writeln!(s);
    if let Some(p) = &v.packages {
        why_packages(&mut s, p, width);
        let _ = writeln!(s);
    }
    why_stages(&mut s, &v.stages, width);
    let _ = writeln!(s);
    why_estimates(&mut s, &v.estimates, width);
    let _ = writeln!(s);
    why_findings(&mut s, &v.findings, width);
    s
}

/// Prose lines: wrapped, after `first` on the first line and `rest` on the others.
fn prose(s: &mut String, text: &str, width: usize, first: &str, rest: &str) {
    for line in wrap(&esc(text), width, first, rest) {
        let _ = writeln!(s, "{line}");
    }
}

fn why_headlines(s: &mut String, rows: &[Headline], width: usize) {
    for h in rows {
        prose(s, &h.text, width, "  ", "    ");
        prose(s, &h.fix, width, "    → ", "      ");
    }
    if !rows.is_empty() {
        let _ = writeln!(s);
    }
}

fn why_findings(s: &mut String, rows: &[FindingRow], width: usize) {
    if rows.is_empty() {
        let _ = writeln!(s, "Security: no secrets or risky files found");
        return;
    }
    let _ = writeln!(
        s,
        "Security: {} finding{}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    for r in rows {
        prose(s, &r.headline, width, "  ", "    ");
        if r.layer.is_some() && !r.instruction.is_empty() {
            let _ = writeln!(
                s,
                "{}",
                fit_between("      added by: ", &esc(&r.instruction), "", width, false)
            );
        }
        prose(s, r.fix, width, "      → ", "        ");
    }
}

fn why_leftovers(s: &mut String, l: &LeftoverSection, width: usize) {
    if l.totals.is_empty() {
        let _ = writeln!(s, "  no build-tool leftovers found");
        return;
    }
    let parts: Vec<String> = l
        .totals
        .iter()
        .map(|(c, b)| format!("{} {}", c.as_str(), human_bytes(*b)))
        .collect();
    prose(
        s,
        &parts.join(", "),
        width,
        "  leftovers: ",
        "             ",
    );
    let _ = writeln!(s, "    {:>9}  {:<14}  Path", "Bytes", "Category");
    // the command once per group of rows it wrote
    for g in l.groups(TOP) {
        let layer = g
            .layer
            .map(|x| format!("  layer {x}: "))
            .unwrap_or_else(|| "  no layer: ".into());
        let _ = writeln!(
            s,
            "{}",
            fit_between(&layer, &esc(g.command), "", width, false)
        );
        for r in &g.rows {
            let cols = format!(
                "    {:>9}  {:<14}  ",
                human_bytes(r.bytes),
                r.category.as_str()
            );
            let package = r
                .package
                .as_deref()
                .map(|p| format!(" (package {})", shown(p, 40)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "{}",
                fit_between(&cols, &esc(&r.path), &package, width, true)
            );
        }
    }
    if l.rows.len() > TOP {
        let _ = writeln!(s, "  … and {} more findings", l.rows.len() - TOP);
    }
    for a in &l.recommendations {
        prose(s, a, width, "  → ", "    ");
    }
}

fn why_packages(s: &mut String, p: &PackageSection, width: usize) {
    let _ = writeln!(
        s,
        "Packages: {} installed ({} of them build tools, {})",
        p.installed,
        p.build_tools,
        human_bytes(p.build_tool_bytes)
    );
    for r in p.rows.iter().take(TOP) {
        let layer = r.layer.map(|x| x.to_string()).unwrap_or_default();
        let tool = if r.build_tool { "  build tool" } else { "" };
        let _ = writeln!(
            s,
            "{}",
            fit_between(
                &format!("  {:>9}  {:<6} ", human_bytes(r.bytes), r.manager.as_str()),
                &format!("{} {}", esc(&r.name), esc(&r.version)),
                &format!(" (layer {layer}){tool}"),
                width,
                false
            )
        );
    }
    if let Some(removed) = &p.removed {
        let _ = writeln!(
            s,
            "  removed later but still shipped in lower layers: {} packages, {}",
            removed.count,
            human_bytes(removed.bytes)
        );
        for r in &removed.rows {
            let layer = r.layer.map(|x| x.to_string()).unwrap_or_default();
            let _ = writeln!(
                s,
                "{}",
                fit_between(
                    &format!(
                        "  {:>9}  {:<6} ",
                        human_bytes(r.shipped_bytes),
                        r.manager.as_str()
                    ),
                    &esc(&r.name),
                    &format!(" (installed in layer {layer})"),
                    width,
                    false
                )
            );
        }
    }
}

fn why_stages(s: &mut String, st: &StageSection, width: usize) {
    let _ = writeln!(s, "Stages ({}):", st.method);
    for r in &st.rows {
        let stage = r.stage.clone().unwrap_or_else(|| "-".into());
        // `base?` and `build?` in one column: the mark follows the word
        let origin = format!(
            "{}{}",
            origin_word(r.origin),
            if r.inferred { "?" } else { "" }
        );
        let cols = format!(
            "  {:>3}  {:>9}  {origin:<6} {:<20} ",
            r.layer,
            human_bytes(r.bytes),
            shown(&stage, 20),
        );
        let _ = writeln!(
            s,
            "{}",
            fit_between(&cols, &esc(&r.instruction), "", width, false)
        );
    }
    for t in &st.totals {
        let stage = t
            .stage
            .as_deref()
            .map(|x| format!(" {}", esc(x)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "  total {}{stage}: {} in {} layers",
            origin_total_words(t.origin),
            human_bytes(t.bytes),
            t.layers
        );
    }
}

fn why_estimates(s: &mut String, e: &EstimateSection, width: usize) {
    let _ = writeln!(
        s,
        "Estimates (final filesystem {}):",
        human_bytes(e.final_bytes)
    );
    let _ = writeln!(
        s,
        "  without leftovers: {}",
        human_bytes(e.without_leftovers_bytes)
    );
    match &e.closure {
        Some(c) => prose(
            s,
            &format!(
                "runtime closure of {}: {} in {} files, fits {}",
                c.program,
                human_bytes(c.bytes),
                c.files,
                c.base
            ),
            width,
            "  ",
            "    ",
        ),
        None => {
            let _ = writeln!(s, "  runtime closure: not estimated");
        }
    }
    for a in &e.assumptions {
        prose(s, a, width, "    - ", "      ");
    }
}
