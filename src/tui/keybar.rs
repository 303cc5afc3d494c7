//! The bottom line: the keys of the focused pane (from the key map) and the latest message.

use super::keys;
use super::state::{status_text, App};
use super::theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let scope = app.scope();
    let mut spans = Vec::new();
    let mut bar = keys::bar(scope);
    // `? Help` first, so the way to every key is always on screen
    if let Some(i) = bar.iter().position(|b| b.action == keys::Action::Help) {
        let h = bar.remove(i);
        bar.insert(0, h);
    }
    for b in bar {
        spans.push(Span::styled(
            format!(" {} ", keys::keys_label(b)),
            theme::key(),
        ));
        spans.push(Span::raw(format!(" {} ", b.bar.unwrap_or(""))));
    }
    let msg = status_text(app).unwrap_or_default();
    let msg_w = (msg.chars().count() as u16).min(area.width);
    let keys_w = area
        .width
        .saturating_sub(if msg_w > 0 { msg_w + 1 } else { 0 });
    f.render_widget(
        Paragraph::new(Line::from(spans)),
        Rect::new(area.x, area.y, keys_w, area.height),
    );
    if msg_w > 0 {
        let r = Rect::new(area.x + area.width - msg_w, area.y, msg_w, area.height);
        f.render_widget(Paragraph::new(Line::styled(msg, theme::warn())), r);
    }
}
