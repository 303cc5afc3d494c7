//! Renders the explorer on the demo image into `docs/explorer.svg` for the README, as SVG text
//! with colours. `cargo run --example screenshot -- --real target/release/bathy` runs the real
//! binary in tmux and converts what the terminal shows (`capture-pane -e`); without `--real`
//! the same drawing code is rendered on ratatui's TestBackend.

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

/// The 256-colour or 16-colour palette index `n` as a ratatui colour.
fn indexed(n: u8) -> Color {
    match n {
        0 => Color::Black,
        1 => Color::Red,
        2 => Color::Green,
        3 => Color::Yellow,
        4 => Color::Blue,
        5 => Color::Magenta,
        6 => Color::Cyan,
        7 => Color::Gray,
        8 => Color::DarkGray,
        9..=15 => indexed(n - 8),
        n => Color::Indexed(n),
    }
}

/// Apply one SGR sequence's parameters (`1;31`, `38;5;8`, `0`) to a cell style.
fn sgr(params: &str, fg: &mut Color, bg: &mut Color, m: &mut Modifier) {
    let nums: Vec<u16> = params.split(';').map(|p| p.parse().unwrap_or(0)).collect();
    let mut i = 0;
    while i < nums.len() {
        match nums[i] {
            0 => (*fg, *bg, *m) = (Color::Reset, Color::Reset, Modifier::empty()),
            1 => *m |= Modifier::BOLD,
            2 => *m |= Modifier::DIM,
            4 => *m |= Modifier::UNDERLINED,
            7 => *m |= Modifier::REVERSED,
            9 => *m |= Modifier::CROSSED_OUT,
            22 => *m -= Modifier::BOLD | Modifier::DIM,
            24 => *m -= Modifier::UNDERLINED,
            27 => *m -= Modifier::REVERSED,
            29 => *m -= Modifier::CROSSED_OUT,
            n @ 30..=37 => *fg = indexed((n - 30) as u8),
            39 => *fg = Color::Reset,
            n @ 40..=47 => *bg = indexed((n - 40) as u8),
            49 => *bg = Color::Reset,
            n @ 90..=97 => *fg = indexed((n - 90 + 8) as u8),
            n @ 100..=107 => *bg = indexed((n - 100 + 8) as u8),
            n @ (38 | 48) => {
                let c = match nums.get(i + 1) {
                    Some(5) => {
                        i += 2;
                        nums.get(i).map(|&x| indexed(x as u8))
                    }
                    Some(2) => {
                        i += 4;
                        let g = |k: usize| nums.get(k).copied().unwrap_or(0) as u8;
                        Some(Color::Rgb(g(i - 2), g(i - 1), g(i)))
                    }
                    _ => None,
                };
                if let Some(c) = c {
                    if n == 38 {
                        *fg = c
                    } else {
                        *bg = c
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// A terminal screen captured with `tmux capture-pane -e -p` (text and SGR escapes) as a
/// buffer of `w` x `h` cells.
fn parse_capture(text: &str, w: u16, h: u16) -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
    let (mut fg, mut bg, mut m) = (Color::Reset, Color::Reset, Modifier::empty());
    for (y, line) in text.lines().take(h as usize).enumerate() {
        let mut x = 0u16;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                // CSI: parameters up to the final byte; only SGR (`m`) matters here
                if chars.peek() == Some(&'[') {
                    chars.next();
                    let mut params = String::new();
                    for p in chars.by_ref() {
                        if p.is_ascii_alphabetic() {
                            if p == 'm' {
                                sgr(&params, &mut fg, &mut bg, &mut m);
                            }
                            break;
                        }
                        params.push(p);
                    }
                }
                continue;
            }
            if x < w {
                let cell = &mut buf[(x, y as u16)];
                cell.set_char(c);
                cell.fg = fg;
                cell.bg = bg;
                cell.modifier = m;
            }
            x += 1;
        }
    }
    buf
}

/// Run the real binary on the demo image in a tmux server of our own, press the keys, and
/// capture the screen with its colours.
fn capture_real_run(bin: &Path, demo: &Path, w: u16, h: u16, keys: &[&str]) -> String {
    let socket = format!("bathy-screenshot-{}", std::process::id());
    let tmux = |args: &[&str]| {
        std::process::Command::new("tmux")
            .arg("-L")
            .arg(&socket)
            .args(args)
            .output()
            .expect("tmux runs")
    };
    let shell = format!(
        "env -u CI '{}' '{}'; sleep 60",
        bin.display(),
        demo.display()
    );
    let (ws, hs) = (w.to_string(), h.to_string());
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "shot",
        "-x",
        &ws,
        "-y",
        &hs,
        &shell,
    ]);
    let capture = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-e", "-p", "-t", "shot"]).stdout)
            .to_string()
    };
    let wait_for = |what: &str| {
        for _ in 0..200 {
            let s = capture();
            if s.contains(what) {
                return s;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the explorer never showed {what:?}:\n{}", capture());
    };
    wait_for("Image details");
    for k in keys {
        tmux(&["send-keys", "-t", "shot", k]);
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    // the frame after the last key
    std::thread::sleep(std::time::Duration::from_millis(500));
    let s = wait_for("Layer 3");
    tmux(&["kill-server"]);
    s
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = root.join("assets/demo.tar");
    let (w, h) = (120, 34);
    // `--real PATH/TO/bathy`: the binary on a terminal (tmux); else the same drawing code on
    // ratatui's TestBackend
    let args: Vec<String> = std::env::args().collect();
    let buf = if let Some(i) = args.iter().position(|a| a == "--real") {
        let bin = Path::new(args.get(i + 1).expect("--real takes the bathy binary"));
        // layer 3, the Go build: the cache and the binary that are wasted later
        let keys = ["Down", "Down", "Down", "Tab", "Down", "Down"];
        parse_capture(&capture_real_run(bin, &demo, w, h, &keys), w, h)
    } else {
        let image = load_path(&demo, &LoadOptions::default()).expect("assets/demo.tar loads");
        let analysis = Analysis::run(&image);
        let mut app = App::explorer(Explorer::new(image, analysis), Rect::new(0, 0, w, h));
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
        t.backend().buffer().clone()
    };
    let out = root.join("docs/explorer.svg");
    std::fs::write(&out, svg(&buf)).expect("write docs/explorer.svg");
    println!("wrote {}", out.display());
}
