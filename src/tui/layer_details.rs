//! The Layer details pane: digest, diff_id, created time, entry count and the full command of
//! the selected layer, wrapped.

use super::state::Explorer;
use super::strings as S;
use super::theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

fn field<'a>(label: &'a str, value: String) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<8}"), theme::label()),
        Span::raw(value),
    ])
}

pub fn render(f: &mut Frame, area: Rect, ex: &Explorer) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(S::LAYER_DETAILS_TITLE)
        .border_style(theme::border(false));
    let Some(l) = ex.image.layers.get(ex.layer) else {
        f.render_widget(block, area);
        return;
    };
    let created = l
        .history
        .as_ref()
        .and_then(|h| h.created.clone())
        .unwrap_or_default();
    let command = l
        .history
        .as_ref()
        .and_then(|h| h.created_by.clone())
        .unwrap_or_default();
    let mut lines = vec![
        field(S::DETAIL_DIGEST, l.digest.clone()),
        field(S::DETAIL_DIFF_ID, l.diff_id.clone()),
        Line::from(vec![
            Span::styled(format!("{:<8}", S::DETAIL_ENTRIES), theme::label()),
            Span::raw(format!("{}  ", l.entries.len())),
            Span::styled(format!("{} ", S::DETAIL_CREATED), theme::label()),
            Span::raw(created),
        ]),
    ];
    let inner = block.inner(area);
    f.render_widget(block, area);
    let head = Rect::new(inner.x, inner.y, inner.width, 3.min(inner.height));
    f.render_widget(Paragraph::new(std::mem::take(&mut lines)), head);
    let rest = Rect::new(
        inner.x,
        inner.y + head.height,
        inner.width,
        inner.height - head.height,
    );
    let cmd = Line::from(vec![
        Span::styled(format!("{:<8}", S::DETAIL_COMMAND), theme::label()),
        Span::raw(command),
    ]);
    f.render_widget(Paragraph::new(cmd).wrap(Wrap { trim: false }), rest);
}
