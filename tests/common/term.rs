//! The explorer's test plumbing, shared by its test files: key events, feeding them, and the
//! screen drawn on ratatui's TestBackend as text.
#![cfg(feature = "tui")]

use bathyscaphe::tui::state::{handle_event, App, AppEvent, Explorer};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

pub fn key(c: KeyCode, m: KeyModifiers) -> AppEvent {
    AppEvent::Term(Event::Key(KeyEvent::new(c, m)))
}
pub fn code(c: KeyCode) -> AppEvent {
    key(c, KeyModifiers::NONE)
}
pub fn ch(c: char) -> AppEvent {
    key(KeyCode::Char(c), KeyModifiers::NONE)
}
pub fn ctrl(c: char) -> AppEvent {
    key(KeyCode::Char(c), KeyModifiers::CONTROL)
}
pub fn press(app: &mut App, evs: Vec<AppEvent>) {
    for e in evs {
        handle_event(app, e);
    }
}
pub fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        handle_event(app, ch(c));
    }
}
pub fn ex(app: &App) -> &Explorer {
    app.explorer_ref().expect("the explorer")
}
pub fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| bathyscaphe::tui::draw(f, app)).expect("draw");
    t
}
/// The whole screen as text, a line per row.
pub fn text(t: &Terminal<TestBackend>) -> String {
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
/// The text of one rectangle of the screen, line by line.
pub fn region(t: &Terminal<TestBackend>, r: Rect) -> Vec<String> {
    let b = t.backend().buffer();
    (r.y..r.y + r.height)
        .map(|y| (r.x..r.x + r.width).map(|x| b[(x, y)].symbol()).collect())
        .collect()
}
