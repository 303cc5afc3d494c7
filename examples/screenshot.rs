//! Renders the explorer on the demo image into `docs/explorer.svg` for the README: the real
//! drawing code on ratatui's TestBackend, its buffer written out as SVG text with colours.
//! `cargo run --example screenshot`

use bathyscaphe::analysis::Analysis;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::tui::keys::Action;
use bathyscaphe::tui::state::{update, App, Explorer};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use std::fmt::Write;
use std::path::Path;

const CELL_W: f64 = 8.4;
const CELL_H: f64 = 17.0;
const BG: &str = "#1e1e2e";
const FG: &str = "#d4d4d4";

fn color(c: Color, default: &str) -> String {
    match c {
        Color::Reset => default.into(),
        Color::Black => "#000000".into(),
        Color::Red => "#f47067".into(),
        Color::Green => "#8ddb8c".into(),
        Color::Yellow => "#e0c068".into(),
        Color::Blue => "#6cb6ff".into(),
        Color::Magenta => "#dcbdfb".into(),
        Color::Cyan => "#56d4dd".into(),
        Color::Gray | Color::White => "#e6e6e6".into(),
        Color::DarkGray => "#768390".into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        _ => default.into(),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn svg(buf: &Buffer) -> String {
    let (w, h) = (buf.area.width, buf.area.height);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14">"#,
        w as f64 * CELL_W + 16.0,
        h as f64 * CELL_H + 16.0
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" rx="6" fill="{BG}"/><g transform="translate(8,8)">"#
    );
    for y in 0..h {
        for x in 0..w {
            let c = &buf[(x, y)];
            let rev = c.modifier.contains(Modifier::REVERSED);
            let bg = if rev {
                color(c.fg, FG)
            } else {
                color(c.bg, BG)
            };
            if bg != BG {
                let _ = writeln!(
                    out,
                    r#"<rect x="{:.1}" y="{:.1}" width="{CELL_W}" height="{CELL_H}" fill="{bg}"/>"#,
                    x as f64 * CELL_W,
                    y as f64 * CELL_H
                );
            }
        }
        for x in 0..w {
            let c = &buf[(x, y)];
            let sym = c.symbol();
            if sym.trim().is_empty() {
                continue;
            }
            let rev = c.modifier.contains(Modifier::REVERSED);
            let fg = if rev {
                color(c.bg, BG)
            } else {
                color(c.fg, FG)
            };
            let weight = if c.modifier.contains(Modifier::BOLD) {
                r#" font-weight="bold""#
            } else {
                ""
            };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" fill="{fg}"{weight}>{}</text>"#,
                x as f64 * CELL_W,
                y as f64 * CELL_H + 13.0,
                esc(sym)
            );
        }
    }
    out.push_str("</g></svg>\n");
    out
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let image = load_path(&root.join("assets/demo.tar"), &LoadOptions::default())
        .expect("assets/demo.tar loads");
    let analysis = Analysis::run(&image);
    let (w, h) = (120, 34);
    let mut app = App::explorer(Explorer::new(image, analysis), Rect::new(0, 0, w, h));
    // layer 3, the Go build: the cache and the binary that are wasted later
    for a in [
        Action::Down,
        Action::Down,
        Action::Down,
        Action::NextPane,
        Action::Down,
        Action::Down,
    ] {
        update(&mut app, a);
    }
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| bathyscaphe::tui::draw(f, &app)).expect("draw");
    let out = root.join("docs/explorer.svg");
    std::fs::write(&out, svg(t.backend().buffer())).expect("write docs/explorer.svg");
    println!("wrote {}", out.display());
}
