//! The `?` overlay: every binding of the key map, grouped by where it works, flowed into as many
//! columns as fit.

use super::keys::{self, Scope, BINDINGS};
use super::layout::centered;
use super::strings as S;
use super::theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

const COL_W: u16 = 46;

fn lines() -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (i, scope) in Scope::ALL.iter().enumerate() {
        let (_, title) = S::HELP_SCOPES[i];
        let bs: Vec<_> = BINDINGS.iter().filter(|b| b.scope == *scope).collect();
        if bs.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.push(Line::styled(title.to_string(), theme::header()));
        for b in bs {
            out.push(Line::from(vec![
                Span::styled(format!("{:>12} ", keys::keys_label(b)), theme::label()),
                Span::raw(b.help.to_string()),
            ]));
        }
    }
    out.push(Line::raw(""));
    out.push(Line::styled(S::HELP_MOUSE.to_string(), theme::dim()));
    out.push(Line::styled(S::HELP_TYPE.to_string(), theme::dim()));
    out
}

pub fn render(f: &mut Frame, area: Rect) {
    let all = lines();
    let popup = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(S::HELP_TITLE)
        .border_style(theme::border(true));
    let inner = block.inner(popup);
    f.render_widget(Clear, popup);
    f.render_widget(block, popup);
    let h = inner.height.max(1) as usize;
    let ncols = (inner.width / COL_W).max(1) as usize;
    let col_w = inner.width / ncols as u16;
    for (c, chunk) in all.chunks(h).take(ncols).enumerate() {
        let r = Rect::new(inner.x + c as u16 * col_w, inner.y, col_w, inner.height);
        f.render_widget(Paragraph::new(chunk.to_vec()), r);
    }
}
