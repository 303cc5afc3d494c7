//! The Layer details pane: the full command of the selected layer, its entry count, created
//! time, digest and diff_id. Every value wraps (a digest is split, never cut); the pane grows to its
//! text while the left column has room, and says how many lines it could not show.

use super::cut;
use super::state::Explorer;
use super::strings as S;
use super::theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// Width of the labels (`Command `).
const LABEL_W: usize = 8;

/// `label` then `value` wrapped in the columns after the label, continuation lines under it.
fn field(out: &mut Vec<Line<'static>>, label: &str, value: &str, w: usize) {
    let parts = cut::wrap(value, w.saturating_sub(LABEL_W).max(8));
    for (i, p) in parts.into_iter().enumerate() {
        let l = if i == 0 { label } else { "" };
        out.push(Line::from(vec![
            Span::styled(format!("{l:<LABEL_W$}"), theme::label()),
            Span::raw(p),
        ]));
    }
    if value.is_empty() {
        out.push(Line::styled(format!("{label:<LABEL_W$}"), theme::label()));
    }
}

/// The pane's lines for a text width of `w` columns.
pub fn lines(ex: &Explorer, w: u16) -> Vec<Line<'static>> {
    let w = w as usize;
    let mut out = Vec::new();
    let Some(l) = ex.image.layers.get(ex.layer) else {
        return out;
    };
    field(&mut out, S::DETAIL_COMMAND, &l.label(), w);
    let created = l
        .history
        .as_ref()
        .and_then(|h| h.created.clone())
        .unwrap_or_default();
    let entries = l.entries.len().to_string();
    let both = LABEL_W + entries.len() + 2 + S::DETAIL_CREATED.len() + 1 + created.len();
    if both <= w {
        out.push(Line::from(vec![
            Span::styled(format!("{:<LABEL_W$}", S::DETAIL_ENTRIES), theme::label()),
            Span::raw(format!("{entries}  ")),
            Span::styled(format!("{} ", S::DETAIL_CREATED), theme::label()),
            Span::raw(created),
        ]));
    } else {
        field(&mut out, S::DETAIL_ENTRIES, &entries, w);
        field(&mut out, S::DETAIL_CREATED, &created, w);
    }
    // the digests last: at a small size they are what the "more lines" mark hides
    field(&mut out, S::DETAIL_DIGEST, &l.digest, w);
    let diff_id = if l.diff_id == l.digest {
        S::DETAIL_SAME_AS_DIGEST
    } else {
        &l.diff_id
    };
    field(&mut out, S::DETAIL_DIFF_ID, diff_id, w);
    out
}

/// Lines of text the pane needs at a text width (for the layout).
pub fn line_count(ex: &Explorer, w: u16) -> usize {
    lines(ex, w).len()
}

pub fn render(f: &mut Frame, area: Rect, ex: &Explorer) {
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(S::LAYER_DETAILS_TITLE)
        .border_style(theme::border(false));
    let inner = block.inner(area);
    let mut text = lines(ex, inner.width);
    let room = inner.height as usize;
    if text.len() > room {
        let hidden = text.len() - room;
        text.truncate(room);
        block = block.title_bottom(
            Line::styled(
                S::fill(S::MORE_LINES, &[("n", &hidden.to_string())]),
                theme::warn(),
            )
            .right_aligned(),
        );
    }
    f.render_widget(Paragraph::new(text).block(block), area);
}
