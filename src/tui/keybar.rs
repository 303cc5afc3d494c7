//! The bottom line: the keys of the focused pane (from the key map) and the latest message.

use super::keys::{self, Scope};
use super::state::{status_text, App};
use super::theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let scope = app.explorer_ref().map(|e| e.scope()).unwrap_or(Scope::Global);
    let mut spans = Vec::new();
    let mut bar = keys::bar(scope);
    // `? Help` first, so the way to every key is always on screen
    if let Some(i) = bar.iter().position(|b| b.action == keys::Action::Help) {
        let h = bar.remove(i);
        bar.insert(0, h);
    }
    for b in bar {
        spans.push(Span::styled(format!(" {} ", keys::keys_label(b)), theme::key()));
        spans.push(Span::raw(format!(" {} ", b.bar.unwrap_or(""))));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    if let Some(msg) = status_text(app) {
        let room = (area.width as usize).saturating_sub(used + 1);
        let msg: String = if msg.chars().count() > room && room > 20 {
            msg.chars().take(room).collect()
        } else {
            msg
        };
        if msg.chars().count() <= room {
            let pad = room - msg.chars().count();
            spans.push(Span::raw(" ".repeat(pad)));
            spans.push(Span::styled(msg, theme::warn()));
        } else {
            spans = vec![Span::styled(msg, theme::warn())];
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}
