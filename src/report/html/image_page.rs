//! The page for one image: headline, treemap of the final filesystem, layers, wasted paths
//! and "why is it big".

use super::{bar, page, tree_data, treemap_section, why, MAX_ROWS};
use crate::analysis::why::WhyReport;
use crate::analysis::Analysis;
use crate::image::Image;
use crate::report::why::WhyView;
use crate::units::{human_bytes, percent};
use maud::{html, Markup};

/// The whole page for `image`.
pub fn render_image(image: &Image, analysis: &Analysis, why_report: &WhyReport) -> String {
    let data = tree_data::image_tree(image, analysis, why_report);
    let threshold = data["threshold"].as_u64().unwrap_or(1);
    let view = WhyView::new(why_report);
    let name = image.display_name();
    let body = html! {
        header {
            h1 { "bathy: " (name) }
            p class="source" { (image.source) " (" (image.format.as_str()) ")" }
        }
        (headline(image, analysis, &view))
        (treemap_section("Final filesystem", threshold, &[
            ("layer", "adding layer"),
            ("category", "leftover category"),
            ("manager", "package manager"),
        ]))
        (layers(image, analysis))
        (wasted(image, analysis))
        (why::sections(&view))
        footer { p { "Written by bathy " (env!("CARGO_PKG_VERSION")) "." } }
    };
    page(&format!("bathy: {name}"), body, &data)
}

fn headline(image: &Image, a: &Analysis, view: &WhyView) -> Markup {
    let w = &a.waste;
    let d = &a.dive;
    let leftovers: u64 = view.leftovers.totals.iter().map(|t| t.1).sum();
    let waste_pct = if w.shipped_bytes > 0 {
        w.wasted_bytes as f64 / w.shipped_bytes as f64
    } else {
        0.0
    };
    html! {
        section id="headline" {
            h2 { "Headline" }
            dl class="headline" {
                div { dt { "Size" } dd { (human_bytes(d.size_bytes)) } }
                div { dt { "Compressed" } dd { (human_bytes(image.compressed_bytes())) } }
                div { dt { "Layers" } dd { (image.layers.len()) } }
                div { dt { "Entries" } dd { (image.entry_count()) } }
                div { dt { "True waste" } dd { (human_bytes(w.wasted_bytes)) " (" (percent(waste_pct)) " of shipped)" } }
                div { dt { "Visible" } dd { (human_bytes(w.final_bytes)) } }
                div { dt { "dive efficiency" } dd { (percent(d.efficiency)) } }
                div { dt { "dive wasted" } dd { (human_bytes(d.wasted_bytes)) } }
                div { dt { "Leftovers" } dd { (human_bytes(leftovers)) } }
            }
        }
    }
}

fn layers(image: &Image, a: &Analysis) -> Markup {
    let max = image.layers.iter().map(|l| l.size_bytes).max().unwrap_or(0);
    html! {
        section id="layers" {
            h2 { "Layers" }
            p class="legend-inline" {
                span class="swatch visible" {} " still visible " span class="swatch wasted" {} " wasted (hidden by a later layer)"
            }
            table {
                thead { tr { th { "#" } th class="num" { "Size" } th class="num" { "Compressed" } th class="num" { "Wasted" } th { "" } th { "Command" } } }
                tbody {
                    @for l in &image.layers {
                        @let wasted = a.waste.layers.get(l.index).map_or(0, |w| w.wasted_bytes);
                        tr {
                            td { (l.index) }
                            td class="num" { (human_bytes(l.size_bytes)) }
                            td class="num" { (human_bytes(l.compressed_bytes)) }
                            td class="num" { (human_bytes(wasted)) }
                            td class="barcell" { (bar(&[(l.size_bytes.saturating_sub(wasted), "visible"), (wasted, "wasted")], max)) }
                            td class="cmd" { code { (l.display_command()) } }
                        }
                    }
                }
            }
        }
    }
}

fn wasted(image: &Image, a: &Analysis) -> Markup {
    let paths = a.waste.wasted_paths(image);
    html! {
        section id="wasted" {
            h2 { "Wasted paths" }
            @if paths.is_empty() {
                p { "No bytes are hidden: every file shipped is visible in the final filesystem." }
            } @else {
                table {
                    thead { tr { th class="num" { "Bytes" } th { "Path" } th { "Layers" } } }
                    tbody {
                        @for p in paths.iter().take(MAX_ROWS) {
                            tr {
                                td class="num" { (human_bytes(p.bytes)) }
                                td class="path" { (p.path) }
                                td { (p.layers.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ")) }
                            }
                        }
                    }
                }
                @if paths.len() > MAX_ROWS { p class="note" { "… and " (paths.len() - MAX_ROWS) " more (all of them are in the JSON report)." } }
            }
        }
    }
}
