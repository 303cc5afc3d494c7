//! The page for a comparison: both headlines with the deltas, a treemap of what grew and
//! shrank, the layers side by side, and the package and leftover changes.

use super::{page, tree_data, treemap_section, MAX_ROWS};
use crate::analysis::compare::{
    Comparison, LayerPair, LayerRow, LayerStatus, LeftoverItem, PackageChange,
};
use crate::units::{human_bytes, human_delta};
use maud::{html, Markup};

/// The whole page for `c` (A is the baseline, B the image after).
pub fn render_compare(c: &Comparison) -> String {
    let data = tree_data::compare_tree(c);
    let threshold = data["threshold"].as_u64().unwrap_or(1);
    let (a, b) = (&c.headline.a, &c.headline.b);
    let body = html! {
        header {
            h1 { "bathy compare" }
            p class="source" { "A: " (a.name) " (" (a.source) ")" br; "B: " (b.name) " (" (b.source) ")" }
        }
        (headline(c))
        (treemap_section("What grew and shrank", threshold, &[("change", "grew / shrank")]))
        (layers(c))
        (packages(c))
        (leftovers(c))
        footer { p { "Written by bathy " (env!("CARGO_PKG_VERSION")) "." } }
    };
    page(
        &format!("bathy compare: {} → {}", a.name, b.name),
        body,
        &data,
    )
}

fn headline(c: &Comparison) -> Markup {
    let rows = crate::report::compare_text::headline_rows(c);
    html! {
        section id="headline" {
            h2 { "Headline" }
            table class="headline-table" {
                thead { tr { th {} th class="num" { "A" } th class="num" { "B" } th class="num" { "B − A" } } }
                tbody {
                    @for r in &rows {
                        tr { th { (r.label) } td class="num" { (r.a) } td class="num" { (r.b) } td class="num delta" { (r.delta) } }
                    }
                }
            }
        }
    }
}

fn status_word(s: LayerStatus) -> &'static str {
    match s {
        LayerStatus::Same => "same",
        LayerStatus::Rebuilt => "rebuilt",
        LayerStatus::Changed => "changed",
        LayerStatus::Removed => "removed",
        LayerStatus::Added => "added",
    }
}

fn side(r: Option<&LayerRow>) -> Markup {
    html! {
        @match r {
            Some(r) => { td { (r.index) } td class="num" { (human_bytes(r.size_bytes)) } td class="cmd" { code { (r.command) } } }
            None => { td {} td {} td {} }
        }
    }
}

fn layers(c: &Comparison) -> Markup {
    let l = &c.layers;
    html! {
        section id="layers" {
            h2 { "Layers side by side" }
            @if !l.shared.is_empty() {
                p { (l.shared.len()) " leading layers are the same in both (" (human_bytes(l.shared_bytes)) ")." }
            }
            table class="side-by-side" {
                thead { tr { th { "Status" } th { "A #" } th class="num" { "A size" } th { "A command" } th { "B #" } th class="num" { "B size" } th { "B command" } th class="num" { "Delta" } } }
                tbody {
                    @for p in &l.rows {
                        (layer_row(p))
                    }
                }
            }
        }
    }
}

fn layer_row(p: &LayerPair) -> Markup {
    html! {
        tr class=(format!("st-{}", status_word(p.status))) {
            td { (status_word(p.status)) }
            (side(p.a.as_ref()))
            (side(p.b.as_ref()))
            td class="num delta" { (human_delta(p.delta_bytes())) }
        }
    }
}

fn package_rows(title: &str, rows: &[PackageChange]) -> Markup {
    html! {
        @if !rows.is_empty() {
            h3 { (title) " (" (rows.len()) ")" }
            table {
                thead { tr { th { "Manager" } th { "Package" } th { "A version" } th { "B version" } th class="num" { "Delta" } } }
                tbody {
                    @for r in rows.iter().take(MAX_ROWS) {
                        tr {
                            td { (r.manager.as_str()) }
                            td { (r.name) }
                            td { (r.from_version.as_deref().unwrap_or("-")) }
                            td { (r.to_version.as_deref().unwrap_or("-")) }
                            td class="num delta" { (human_delta(r.delta_bytes)) }
                        }
                    }
                }
            }
        }
    }
}

fn packages(c: &Comparison) -> Markup {
    html! {
        section id="packages" {
            h2 { "Packages" }
            @match &c.packages {
                None => p { "Packages were not compared." },
                Some(p) => {
                    p { "Package bytes: " (human_delta(p.delta_bytes)) }
                    (package_rows("Added", &p.added))
                    (package_rows("Removed", &p.removed))
                    (package_rows("Upgraded", &p.upgraded))
                    (package_rows("Downgraded", &p.downgraded))
                    @if p.added.is_empty() && p.removed.is_empty() && p.upgraded.is_empty() && p.downgraded.is_empty() {
                        p { "No package changes." }
                    }
                }
            }
        }
    }
}

fn leftover_rows(title: &str, rows: &[LeftoverItem]) -> Markup {
    html! {
        @if !rows.is_empty() {
            h3 { (title) " (" (rows.len()) ")" }
            table {
                thead { tr { th class="num" { "Bytes" } th { "Category" } th { "Path" } } }
                tbody {
                    @for r in rows.iter().take(MAX_ROWS) {
                        tr {
                            td class="num" { (human_bytes(r.bytes)) }
                            td { (r.category.as_str()) }
                            td class="path" { (r.path) @if let Some(p) = &r.package { " (package " (p) ")" } }
                        }
                    }
                }
            }
        }
    }
}

fn leftovers(c: &Comparison) -> Markup {
    html! {
        section id="leftovers" {
            h2 { "Leftovers" }
            @match &c.leftovers {
                None => p { "Leftovers were not compared." },
                Some(l) => {
                    p { "A: " (human_bytes(l.a_bytes)) ", B: " (human_bytes(l.b_bytes)) " (" (human_delta(l.delta_bytes)) ")" }
                    (leftover_rows("New in B", &l.new))
                    (leftover_rows("Gone from A", &l.gone))
                }
            }
        }
    }
}
