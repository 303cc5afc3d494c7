//! The plain-text report for pipes and logs: image, layers, true waste, dive's numbers, the
//! paths that waste the most, and the "why is it big" view.

use crate::analysis::Analysis;
use crate::image::Image;
use crate::report::why::{
    origin_total_words, origin_word, EstimateSection, FindingRow, LeftoverSection, PackageSection,
    StageSection, WhyView,
};
use crate::text_fit::{escape_controls as esc, shown};
use crate::units::human_bytes;
use std::fmt::Write;

/// How many wasted paths the text report lists.
pub const TOP_PATHS: usize = 10;

pub fn render(image: &Image, a: &Analysis) -> String {
    let mut s = String::new();
    let w = &a.waste;
    let d = &a.dive;
    let _ = writeln!(s, "Image:   {}", esc(&image.display_name()));
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
    for l in &image.layers {
        for h in &l.empty_history {
            let _ = writeln!(
                s,
                "  {:>3}  {:>9}  {:>10}  {:>9}  {}",
                "",
                "",
                "",
                "",
                esc(&h.label())
            );
        }
        let cmd = shown(&l.label(), 100);
        let _ = writeln!(
            s,
            "  {:>3}  {:>9}  {:>10}  {:>9}  {}",
            l.index,
            human_bytes(l.size_bytes),
            human_bytes(l.compressed_bytes),
            human_bytes(w.layers[l.index].wasted_bytes),
            cmd
        );
    }
    let _ = writeln!(s);
    let pct = if w.shipped_bytes > 0 {
        100.0 * w.wasted_bytes as f64 / w.shipped_bytes as f64
    } else {
        0.0
    };
    let _ = writeln!(
        s,
        "True waste:  {} of {} shipped file bytes ({pct:.1}%) are not visible in the final filesystem ({} visible)",
        human_bytes(w.wasted_bytes),
        human_bytes(w.shipped_bytes),
        human_bytes(w.final_bytes)
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
        let _ = writeln!(s, "Top wasted paths:");
        for p in paths.iter().take(TOP_PATHS) {
            let layers: Vec<String> = p.layers.iter().map(|l| l.to_string()).collect();
            let _ = writeln!(
                s,
                "  {:>9}  {}  (layer {})",
                human_bytes(p.bytes),
                esc(&p.path),
                layers.join(", ")
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

/// The "why is it big" sections of the text report.
pub fn render_why(v: &WhyView) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Why is it big:");
    if v.no_contents {
        let _ = writeln!(
            s,
            "  (read without file contents: package databases and ELF facts are not available)"
        );
    }
    why_leftovers(&mut s, &v.leftovers);
    let _ = writeln!(s);
    if let Some(p) = &v.packages {
        why_packages(&mut s, p);
        let _ = writeln!(s);
    }
    why_stages(&mut s, &v.stages);
    let _ = writeln!(s);
    why_estimates(&mut s, &v.estimates);
    let _ = writeln!(s);
    why_findings(&mut s, &v.findings);
    s
}

fn why_findings(s: &mut String, rows: &[FindingRow]) {
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
        let _ = writeln!(s, "  {}", r.headline);
        if r.layer.is_some() && !r.instruction.is_empty() {
            let _ = writeln!(s, "      added by: {}", short(&r.instruction, 80));
        }
        let _ = writeln!(s, "      → {}", r.fix);
    }
}

fn why_leftovers(s: &mut String, l: &LeftoverSection) {
    if l.totals.is_empty() {
        let _ = writeln!(s, "  no build-tool leftovers found");
        return;
    }
    let parts: Vec<String> = l
        .totals
        .iter()
        .map(|(c, b)| format!("{} {}", c.as_str(), human_bytes(*b)))
        .collect();
    let _ = writeln!(s, "  leftovers: {}", parts.join(", "));
    let _ = writeln!(
        s,
        "  {:>9}  {:<14} {:<6} {:<48} From",
        "Bytes", "Category", "Layer", "Path"
    );
    for r in l.rows.iter().take(TOP) {
        let mut path = esc(&r.path).into_owned();
        if let Some(p) = &r.package {
            path = format!("{path} (package {})", esc(p));
        }
        let layer = r.layer.map(|x| x.to_string()).unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:>9}  {:<14} {:<6} {:<48} {}",
            human_bytes(r.bytes),
            r.category.as_str(),
            layer,
            path,
            short(&r.command, 60)
        );
    }
    if l.rows.len() > TOP {
        let _ = writeln!(s, "  … and {} more findings", l.rows.len() - TOP);
    }
    for a in &l.recommendations {
        let _ = writeln!(s, "  → {}", esc(a));
    }
}

fn why_packages(s: &mut String, p: &PackageSection) {
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
            "  {:>9}  {:<6} {} {} (layer {layer}){tool}",
            human_bytes(r.bytes),
            r.manager.as_str(),
            esc(&r.name),
            esc(&r.version)
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
                "  {:>9}  {:<6} {} (installed in layer {layer})",
                human_bytes(r.shipped_bytes),
                r.manager.as_str(),
                esc(&r.name)
            );
        }
    }
}

fn why_stages(s: &mut String, st: &StageSection) {
    let _ = writeln!(s, "Stages ({}):", st.method);
    for r in &st.rows {
        let stage = r.stage.clone().unwrap_or_else(|| "-".into());
        let guess = if r.inferred { "?" } else { "" };
        let _ = writeln!(
            s,
            "  {:>3}  {:>9}  {:<5}{guess:<1} {:<20} {}",
            r.layer,
            human_bytes(r.bytes),
            origin_word(r.origin),
            short(&stage, 20),
            short(&r.instruction, 70)
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

fn why_estimates(s: &mut String, e: &EstimateSection) {
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
        Some(c) => {
            let _ = writeln!(
                s,
                "  runtime closure of {}: {} in {} files, fits {}",
                esc(&c.program),
                human_bytes(c.bytes),
                c.files,
                esc(&c.base)
            );
        }
        None => {
            let _ = writeln!(s, "  runtime closure: not estimated");
        }
    }
    for a in &e.assumptions {
        let _ = writeln!(s, "    - {}", esc(a));
    }
    if let Some(p) = &e.suggest {
        let _ = writeln!(s, "  → {}", esc(p));
    }
}

/// `s` on one line (control characters escaped), cut to `n` characters with "…".
fn short(s: &str, n: usize) -> String {
    shown(s, n)
}
