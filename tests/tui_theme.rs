//! Themes: every explorer colour comes from `src/tui/theme.rs` (checked by reading the
//! source), and each theme drawn at 80x24 gives the cells the colours written here by hand.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)]

use bathyscaphe::analysis::Analysis;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{filler, ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tui::state::{App, Explorer};
use bathyscaphe::tui::theme::{self, ThemeName};
use bathyscaphe::tui::{self as tui};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A colour or an emphasis written anywhere in the explorer but the theme is a colour the
/// themes cannot change (and `NO_COLOR` cannot remove).
#[test]
fn no_colour_literal_outside_the_theme() {
    let tui = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui");
    let mut files = Vec::new();
    rust_files(&tui, &mut files);
    assert!(files.len() > 10, "src/tui has the explorer's files");
    let mut found = Vec::new();
    for f in files.iter().filter(|f| !f.ends_with("theme.rs")) {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for pat in ["Color::", "Color,", "Modifier::", "Stylize", ".fg(", ".bg("] {
                if code.contains(pat) {
                    found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "colours outside src/tui/theme.rs (name a role in the theme instead):\n{}",
        found.join("\n")
    );
}

/// Two layers: a base with a binary and a config, and one that adds a file, modifies the
/// config and deletes the binary.
fn explorer() -> Explorer {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.tar");
    ImageSpec::new("theme/demo:1")
        .layer(
            LayerSpec::new("/bin/sh -c #(nop) ADD file:base in /")
                .dir("etc")
                .file("etc/app.conf", &filler(300, 1))
                .dir("bin")
                .file_mode("bin/old", &filler(2000, 2), 0o755),
        )
        .layer(
            LayerSpec::new("/bin/sh -c make install")
                .file("etc/app.conf", &filler(400, 3))
                .file("etc/new.txt", &filler(500, 4))
                .whiteout("bin/old"),
        )
        .write(&path, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let image = load_path(&path, &LoadOptions::default()).unwrap();
    let analysis = Analysis::run(&image);
    Explorer::new(image, analysis)
}

fn draw(app: &App, t: ThemeName) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    theme::using(t.theme(), || term.draw(|f| tui::draw(f, app)).unwrap());
    term.backend().buffer().clone()
}

fn text(b: &Buffer) -> String {
    let mut s = String::new();
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            s.push_str(b[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

/// What a cell should look like: foreground, background, emphasis.
type Look = (Color, Color, Modifier);

/// The cells each theme is checked at, on the screen of [`explorer`] at 80x24 (layer 0
/// selected, Layers focused): (column, row, what the cell shows).
const CELLS: [(u16, u16, &str); 10] = [
    (0, 0, "the focused pane's border (Layers)"),
    (40, 0, "an unfocused pane's border (the tree)"),
    (1, 1, "a table header (Layers)"),
    (1, 2, "the selected row of the focused pane (layer 0)"),
    (1, 6, "a label (Command)"),
    (12, 17, "the true waste figure"),
    (42, 22, "the legend's added"),
    (48, 22, "the legend's modified"),
    (54, 22, "the legend's removed"),
    (0, 23, "a key in the key bar"),
];

fn check(t: ThemeName, want: [Look; 10]) {
    let app = App::explorer(explorer(), Rect::new(0, 0, 80, 24));
    let b = draw(&app, t);
    let screen = text(&b);
    // the cells show what CELLS says they show
    let line = |y: usize| screen.lines().nth(y).unwrap().to_string();
    assert!(line(0).starts_with("┌ Layers"), "{screen}");
    assert!(line(2).starts_with("│  0  2.3 kB"), "{screen}");
    assert!(line(6).starts_with("│Command "), "{screen}");
    assert!(line(17).starts_with("│True waste 2.3 kB"), "{screen}");
    assert!(line(22).contains("└ ■ add ■ mod ■ rm ■ same"), "{screen}");
    assert!(line(23).starts_with(" ?  Help"), "{screen}");
    for ((x, y, what), (fg, bg, m)) in CELLS.into_iter().zip(want) {
        let c = &b[(x, y)];
        assert_eq!(
            (c.fg, c.bg, c.modifier),
            (fg, bg, m),
            "{}: {what} at ({x},{y})",
            t.as_str()
        );
    }
    // the theme in use goes back to the default after drawing
    assert_eq!(theme::current().name, ThemeName::Dark);
}

const R: Color = Color::Reset;
const NONE: Modifier = Modifier::empty();
const BOLD: Modifier = Modifier::BOLD;

#[test]
fn dark_theme_at_80x24() {
    check(
        ThemeName::Dark,
        [
            (Color::Cyan, R, BOLD),
            (Color::DarkGray, R, NONE),
            (R, R, BOLD),
            (R, R, Modifier::REVERSED),
            (Color::Cyan, R, NONE),
            (Color::Magenta, R, NONE),
            (Color::Green, R, NONE),
            (Color::Yellow, R, NONE),
            (Color::Red, R, NONE),
            (Color::Black, Color::Cyan, NONE),
        ],
    );
}

#[test]
fn light_theme_at_80x24_has_no_yellow_or_cyan_text() {
    // 256-colour cube entries: 25 = #005faf, 246 = #949494, 90 = #870087, 28 = #008700,
    // 130 = #af5f00, 160 = #d70000, 231 = #ffffff
    check(
        ThemeName::Light,
        [
            (Color::Indexed(25), R, BOLD),
            (Color::Indexed(246), R, NONE),
            (R, R, BOLD),
            (R, R, Modifier::REVERSED),
            (Color::Indexed(25), R, NONE),
            (Color::Indexed(90), R, NONE),
            (Color::Indexed(28), R, NONE),
            (Color::Indexed(130), R, NONE),
            (Color::Indexed(160), R, NONE),
            (Color::Indexed(231), Color::Indexed(25), NONE),
        ],
    );
    let app = App::explorer(explorer(), Rect::new(0, 0, 80, 24));
    let b = draw(&app, ThemeName::Light);
    for c in b.content() {
        for col in [c.fg, c.bg] {
            assert!(
                !matches!(
                    col,
                    Color::Yellow | Color::Cyan | Color::LightYellow | Color::LightCyan
                ),
                "{c:?}"
            );
        }
    }
}

#[test]
fn high_contrast_theme_at_80x24() {
    check(
        ThemeName::HighContrast,
        [
            (Color::LightYellow, R, BOLD),
            (Color::White, R, NONE),
            (Color::White, R, BOLD),
            (Color::Black, Color::White, BOLD),
            (Color::LightCyan, R, BOLD),
            (Color::LightMagenta, R, BOLD),
            (Color::LightGreen, R, BOLD),
            (Color::LightYellow, R, BOLD),
            (Color::LightRed, R, BOLD),
            (Color::Black, Color::LightYellow, BOLD),
        ],
    );
    // nothing is drawn in dark grey, the colour a high-contrast theme is for avoiding
    let app = App::explorer(explorer(), Rect::new(0, 0, 80, 24));
    let b = draw(&app, ThemeName::HighContrast);
    assert!(b.content().iter().all(|c| c.fg != Color::DarkGray));
}

#[test]
fn no_color_theme_at_80x24_has_no_colour_at_all() {
    check(
        ThemeName::NoColor,
        [
            (R, R, BOLD),
            (R, R, NONE),
            (R, R, BOLD),
            (R, R, Modifier::REVERSED),
            (R, R, NONE),
            (R, R, Modifier::UNDERLINED),
            (R, R, BOLD),
            (R, R, Modifier::ITALIC),
            (R, R, Modifier::CROSSED_OUT),
            (R, R, Modifier::REVERSED),
        ],
    );
    let app = App::explorer(explorer(), Rect::new(0, 0, 80, 24));
    let b = draw(&app, ThemeName::NoColor);
    for (i, c) in b.content().iter().enumerate() {
        assert_eq!((c.fg, c.bg), (R, R), "cell {i}: {c:?}");
    }
}
