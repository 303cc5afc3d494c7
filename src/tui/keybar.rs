//! The bottom line: the keys of the focused pane (from the key map) and the latest message.

use super::cut;
use super::keys;
use super::state::{status_text, App};
use super::theme;
use crate::text_fit;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(f: &mut Frame, area: Rect, app: &App) {
    let scope = app.scope();
    let mut bar = keys::bar(scope);
    // `? Help` first, so the way to every key is always on screen
    if let Some(i) = bar.iter().position(|b| b.action == keys::Action::Help) {
        let h = bar.remove(i);
        bar.insert(0, h);
    }
    let w = area.width as usize;
    // the message takes the right end, at most what leaves `? Help` its room; the keys
    // that still fit stay whole (never a cut label under the message)
    let msg = status_text(app).unwrap_or_default();
    let help_w = bar.first().map(|b| entry_width(b)).unwrap_or(0);
    let msg = text_fit::truncate(&msg, w.saturating_sub(help_w + 1));
    let msg_w = cut::width(&msg);
    let mut room = w.saturating_sub(if msg_w > 0 { msg_w + 1 } else { 0 });
    let mut spans = Vec::new();
    for b in bar {
        let bw = entry_width(b);
        if bw > room {
            break;
        }
        room -= bw;
        spans.push(Span::styled(
            format!(" {} ", keys::keys_label(b)),
            theme::key(),
        ));
        spans.push(Span::raw(format!(" {} ", b.bar.unwrap_or(""))));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
    if msg_w > 0 {
        let r = Rect::new(
            area.x + area.width - msg_w as u16,
            area.y,
            msg_w as u16,
            area.height,
        );
        f.render_widget(Paragraph::new(Line::styled(msg, theme::warn())), r);
    }
}

/// Columns one key's entry takes: ` key `, ` label `.
fn entry_width(b: &keys::Binding) -> usize {
    cut::width(&keys::keys_label(b)) + 2 + cut::width(b.bar.unwrap_or("")) + 2
}
