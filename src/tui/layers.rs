//! The Layers pane: one row per layer (index, size, compressed size, true waste, command), with
//! the empty history steps (ENV, WORKDIR, …) dimmed between them.

use super::state::{human, Explorer, Focus};
use super::strings as S;
use super::theme;
use crate::image::clean_command;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// Every row: `Some(layer)` for a layer, `None` for an empty history step, with its text.
fn rows(ex: &Explorer) -> Vec<(Option<usize>, String)> {
    let mut out = Vec::new();
    for l in &ex.image.layers {
        for h in &l.empty_history {
            out.push((
                None,
                format!(
                    "{:>3} {:>7} {:>7} {:>7}  {}",
                    "",
                    "",
                    "",
                    "",
                    h.display_command()
                ),
            ));
        }
        let w = ex
            .analysis
            .waste
            .layers
            .get(l.index)
            .map(|w| w.wasted_bytes)
            .unwrap_or(0);
        let cmd = l
            .history
            .as_ref()
            .and_then(|h| h.created_by.as_deref())
            .map(clean_command)
            .unwrap_or_default();
        out.push((
            Some(l.index),
            format!(
                "{:>3} {:>7} {:>7} {:>7}  {}",
                l.index,
                human(l.size_bytes),
                human(l.compressed_bytes),
                human(w),
                cmd
            ),
        ));
    }
    out
}

/// First row shown, so that the selected layer is on screen.
fn offset(rows: &[(Option<usize>, String)], sel: usize, visible: usize) -> usize {
    let sel_row = rows.iter().position(|r| r.0 == Some(sel)).unwrap_or(0);
    (sel_row + 1).saturating_sub(visible.max(1))
}

fn visible_rows(area: Rect) -> usize {
    area.height.saturating_sub(3) as usize
}

pub fn render(f: &mut Frame, area: Rect, ex: &Explorer) {
    let focused = ex.focus == Focus::Layers;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(S::LAYERS_TITLE)
        .border_style(theme::border(focused));
    let rows = rows(ex);
    let vis = visible_rows(area);
    let off = offset(&rows, ex.layer, vis);
    let h = S::LAYERS_HEADER;
    let mut lines = vec![Line::styled(
        format!("{:>3} {:>7} {:>7} {:>7}  {}", h[0], h[1], h[2], h[3], h[4]),
        theme::header(),
    )];
    for (layer, text) in rows.into_iter().skip(off).take(vis) {
        let style = match layer {
            None => theme::dim(),
            Some(l) if l == ex.layer => theme::selected(focused),
            Some(_) => Default::default(),
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// The layer drawn at screen row `y` (for mouse clicks).
pub fn layer_at_row(ex: &Explorer, area: Rect, y: u16) -> Option<usize> {
    let first = area.y + 2;
    if y < first {
        return None;
    }
    let rows = rows(ex);
    let off = offset(&rows, ex.layer, visible_rows(area));
    rows.get(off + (y - first) as usize).and_then(|r| r.0)
}
