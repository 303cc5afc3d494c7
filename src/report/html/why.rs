//! "Why is it big" as HTML: the sections of `report::why::WhyView`, laid out as tables.

use super::{layer_cell, MAX_ROWS};
use crate::report::why::{origin_total_words, origin_word, WhyView};
use crate::units::human_bytes;
use maud::{html, Markup};

pub fn sections(v: &WhyView) -> Markup {
    html! {
        section id="why" {
            h2 { "Why is it big" }
            @if v.no_contents {
                p class="note" { "The image was read without file contents: no package databases or program facts." }
            }
            (leftovers(v))
            (packages(v))
            (stages(v))
            (estimates(v))
        }
    }
}

fn leftovers(v: &WhyView) -> Markup {
    let l = &v.leftovers;
    html! {
        h3 { "Build-tool leftovers" }
        @if l.totals.is_empty() {
            p { "No leftovers found." }
        } @else {
            ul class="totals" {
                @for (c, b) in &l.totals { li { span class=(format!("cat cat-{}", c.as_str())) {} (c.as_str()) ": " (human_bytes(*b)) } }
            }
            @if !l.recommendations.is_empty() {
                h4 { "What to do" }
                ul class="advice" { @for r in &l.recommendations { li { (r) } } }
            }
            table {
                thead { tr { th class="num" { "Bytes" } th { "Category" } th { "Layer" } th { "Path" } th { "From" } } }
                tbody {
                    @for r in l.rows.iter().take(MAX_ROWS) {
                        tr {
                            td class="num" { (human_bytes(r.bytes)) }
                            td { (r.category.as_str()) }
                            td { (layer_cell(r.layer)) }
                            td class="path" { (r.path) @if let Some(p) = &r.package { " (package " (p) ")" } }
                            td class="cmd" { code { (r.command) } }
                        }
                    }
                }
            }
        }
    }
}

fn packages(v: &WhyView) -> Markup {
    html! {
        h3 { "Packages" }
        @match &v.packages {
            None => p { "No installed packages found." },
            Some(p) => {
                p { (p.installed) " installed (" (p.build_tools) " of them build tools, " (human_bytes(p.build_tool_bytes)) ")" }
                table {
                    thead { tr { th class="num" { "Bytes" } th { "Manager" } th { "Package" } th { "Version" } th { "Layer" } th { "" } } }
                    tbody {
                        @for r in p.rows.iter().take(MAX_ROWS) {
                            tr {
                                td class="num" { (human_bytes(r.bytes)) }
                                td { (r.manager.as_str()) }
                                td { (r.name) }
                                td { (r.version) }
                                td { (layer_cell(r.layer)) }
                                td { @if r.build_tool { "build tool" } }
                            }
                        }
                    }
                }
                @if let Some(rm) = &p.removed {
                    p { (rm.count) " packages removed in a later layer still ship " (human_bytes(rm.bytes)) " in lower layers:" }
                    ul { @for r in &rm.rows { li { (r.manager.as_str()) " " (r.name) ": " (human_bytes(r.shipped_bytes)) " (installed in layer " (layer_cell(r.layer)) ")" } } }
                }
            }
        }
    }
}

fn stages(v: &WhyView) -> Markup {
    let s = &v.stages;
    html! {
        h3 { "Stages" }
        p { (s.method) }
        table {
            thead { tr { th { "Layer" } th class="num" { "Bytes" } th { "Origin" } th { "Stage" } th { "Instruction" } } }
            tbody {
                @for r in &s.rows {
                    tr {
                        td { (r.layer) }
                        td class="num" { (human_bytes(r.bytes)) }
                        td { (origin_word(r.origin)) @if r.inferred { "?" } }
                        td { (r.stage.as_deref().unwrap_or("-")) }
                        td class="cmd" { code { (r.instruction) } }
                    }
                }
            }
        }
        ul {
            @for t in &s.totals {
                li { "total " (origin_total_words(t.origin)) @if let Some(st) = &t.stage { " " (st) } ": " (human_bytes(t.bytes)) " in " (t.layers) " layers" }
            }
        }
    }
}

fn estimates(v: &WhyView) -> Markup {
    let e = &v.estimates;
    html! {
        h3 { "Estimates" }
        dl class="estimates" {
            div { dt { "Final filesystem" } dd { (human_bytes(e.final_bytes)) } }
            div { dt { "Without leftovers" } dd { (human_bytes(e.without_leftovers_bytes)) } }
            @if let Some(c) = &e.closure {
                div { dt { "Runtime closure of " (c.program) } dd { (human_bytes(c.bytes)) " in " (c.files) " files on " (c.base) } }
            }
        }
        @if !e.assumptions.is_empty() {
            ul class="note" { @for a in &e.assumptions { li { (a) } } }
        }
        @if let Some(p) = &e.suggest { p class="note" { "→ " (p) } }
    }
}
