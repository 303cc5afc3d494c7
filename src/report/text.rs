//! The plain-text report for pipes and logs: image, layers, true waste, dive's numbers, and
//! the paths that waste the most.

use crate::analysis::Analysis;
use crate::image::Image;
use crate::units::human_bytes;
use std::fmt::Write;

/// How many wasted paths the text report lists.
pub const TOP_PATHS: usize = 10;

pub fn render(image: &Image, a: &Analysis) -> String {
    let mut s = String::new();
    let w = &a.waste;
    let d = &a.dive;
    let _ = writeln!(s, "Image:   {}", image.display_name());
    let _ = writeln!(s, "Source:  {} ({})", image.source, image.format.as_str());
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
                h.display_command()
            );
        }
        let cmd = crate::text_fit::truncate(&l.display_command(), 100);
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
                p.path,
                layers.join(", ")
            );
        }
        if paths.len() > TOP_PATHS {
            let _ = writeln!(s, "  … and {} more", paths.len() - TOP_PATHS);
        }
    }
    s
}
