//! Hostile images in the explorer (issue 11): names from the image shown escaped in the file
//! tree, and a file extracted with `Ctrl-E` streamed to disk in bounded memory.
#![cfg(feature = "tui")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::analysis::Analysis;
use bathyscaphe::source::{load_path, LoadOptions};
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tui::{self, state::App, state::Explorer};
use common::*;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

fn screen_text(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| tui::draw(f, app)).unwrap();
    let b = t.backend().buffer();
    let mut s = String::new();
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            s.push_str(b[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

// a name that sets the terminal's title (ESC ] 0 ; … BEL) and breaks the row (\n): before, the
// row showed what was left of it (`t]0;pwnedxy`), a name that is not the file's; escaped, the
// row shows the name exactly and no control character reaches the terminal
#[test]
fn the_file_tree_shows_control_characters_escaped() {
    let t = tmp();
    let name = "t\x1b]0;pwned\x07x\ny";
    let spec = ImageSpec::new("hostile:tree").layer(
        LayerSpec::new("ADD app /app")
            .dir("app")
            .file(&format!("app/{name}"), b"12345")
            .symlink("app/link", "\x1b[2Jz"),
    );
    let p = t.path().join("tree.tar");
    spec.write(&p, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let image = load_path(&p, &LoadOptions::default()).unwrap();
    let analysis = Analysis::run(&image);
    let app = App::explorer(Explorer::new(image, analysis), Rect::new(0, 0, 80, 24));
    let text = screen_text(&app, 80, 24);
    for c in ['\x1b', '\x07', '\r'] {
        assert!(!text.contains(c), "raw {c:?} on screen:\n{text}");
    }
    assert!(text.contains("t\\x1b]0;pwned\\x07x\\ny"), "{text}");
    assert!(text.contains("link → \\x1b[2Jz"), "{text}");
    // the row is one line of the screen: nothing of the name spills onto the next
    let row = text.lines().find(|l| l.contains("pwned")).unwrap();
    assert!(row.contains("\\ny"), "{row}");
}
