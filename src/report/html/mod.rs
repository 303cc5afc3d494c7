//! The HTML report: one self-contained page (no fonts, scripts or styles from elsewhere) with
//! the headline, a zoomable treemap, the layers, the wasted paths and "why is it big", and the
//! same for a comparison. Rendered with `maud`, which escapes every value it is given: file
//! names are hostile input. The treemap is laid out here (`report::treemap`) and written as
//! JSON that a small script draws; the tables and headline need no script.

mod compare;
mod image_page;
pub mod tree_data;
mod why;

pub use compare::render_compare;
pub use image_page::render_image;

use crate::units::human_bytes;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// How many rows the long tables show (the JSON report has them all).
pub const MAX_ROWS: usize = 50;

/// The page around `body`: styles, the data for the script, and the script, allowed by hash
/// alone, so that markup slipped in by a name could run nothing even if escaping failed.
fn page(title: &str, body: Markup, data: &serde_json::Value) -> String {
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{}'",
        base64(&Sha256::digest(JS.as_bytes()))
    );
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                (body)
                script type="application/json" id="bathy-data" { (script_json(data)) }
                script { (PreEscaped(JS)) }
            }
        }
    }
    .into_string()
}

/// JSON to sit inside a `<script>` element: `<`, `>` and `&` written as `\u` escapes (still
/// the same JSON), so no name can close the element or open a comment; U+2028/9 too.
pub fn script_json(v: &serde_json::Value) -> PreEscaped<String> {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + 16);
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    PreEscaped(out)
}

/// Standard base64 with padding (for the script's hash in the CSP).
fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// The treemap's frame: controls, the drawing area, the hover box and the legend, filled by
/// the script; without a script, a note says so.
fn treemap_section(heading: &str, threshold: u64, colour_modes: &[(&str, &str)]) -> Markup {
    html! {
        section id="treemap-section" {
            h2 { (heading) }
            noscript { p { "The treemap needs JavaScript; the tables below do not." } }
            div class="controls" {
                label { "Colour by " select id="tm-colour" {
                    @for (value, label) in colour_modes { option value=(value) { (label) } }
                } }
                label { "Search " input id="tm-search" type="search" placeholder="file or directory name" autocomplete="off"; }
                nav id="tm-crumbs" aria-label="Treemap path" {}
            }
            div id="tm" role="img" aria-label="Treemap" {}
            div id="tm-legend" {}
            div id="tm-tip" hidden {}
            p class="note" {
                "Items under " (human_bytes(threshold)) " (1/"
                (tree_data::FOLD_DIVISOR) " of the total) are folded into \u{201c}N smaller files\u{201d}; "
                "search finds the names that are shown. Click a directory to zoom in, the path above to go back."
            }
            output id="tm-state" hidden {}
        }
    }
}

/// A horizontal bar of `parts` (bytes, CSS class), scaled to `max`.
fn bar(parts: &[(u64, &str)], max: u64) -> Markup {
    let pct = |b: u64| {
        if max == 0 {
            0.0
        } else {
            b as f64 * 100.0 / max as f64
        }
    };
    html! {
        div class="bar" {
            @for (b, class) in parts {
                @if *b > 0 { span class=(class) style=(format!("width:{:.2}%", pct(*b))) {} }
            }
        }
    }
}

/// A layer's number, or a dash.
fn layer_cell(l: Option<usize>) -> String {
    l.map_or_else(|| "-".to_string(), |l| l.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let v = serde_json::json!(["</script><script>alert(1)</script>", "<!--", "a&b\u{2028}"]);
        let s = script_json(&v).0;
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&s).expect("still JSON");
        assert_eq!(back, v);
    }
}
