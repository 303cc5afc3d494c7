//! The Layers pane: one row per layer (index, size, compressed size, true waste, command), with
//! the empty history steps (ENV, WORKDIR, …) dimmed between them and the config-only steps
//! after the last layer (CMD, ENTRYPOINT, EXPOSE) dimmed below it. Numbers are never cut: a
//! narrow pane drops the compressed column, and commands end in "…".

use super::cut;
use super::state::{human, Explorer, Focus};
use super::strings as S;
use super::theme;
use crate::image::HistoryEntry;
use crate::text_fit;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// Columns before the command: `#` (3), size, compressed, waste (7 each), spaces.
const NUMBERS_W: usize = 3 + 1 + 7 + 1 + 7 + 1 + 7 + 2;
/// Without the compressed column.
const NUMBERS_NARROW_W: usize = NUMBERS_W - 8;
/// Below this many columns for commands, the compressed column goes.
const COMMAND_MIN_W: usize = 30;

/// One row: a layer, or a history step that made no layer.
struct Row {
    layer: Option<usize>,
    numbers: [String; 4],
    command: String,
}

fn step(h: &HistoryEntry) -> Row {
    Row {
        layer: None,
        numbers: Default::default(),
        command: h.label(),
    }
}

/// Every row, in history order.
fn rows(ex: &Explorer) -> Vec<Row> {
    let mut out = Vec::new();
    for l in &ex.image.layers {
        out.extend(l.empty_history.iter().map(step));
        let w = ex
            .analysis
            .waste
            .layers
            .get(l.index)
            .map(|w| w.wasted_bytes)
            .unwrap_or(0);
        let numbers = match &ex.loading {
            // while loading: no waste yet, and the layers not shown say why
            Some(ld) if l.index >= ld.loaded => {
                let read = ld.read.get(l.index).copied().unwrap_or(false);
                let state = if read {
                    S::LAYER_READ
                } else {
                    S::LAYER_LOADING
                };
                let c = human(l.compressed_bytes);
                [l.index.to_string(), state.to_string(), c, String::new()]
            }
            Some(_) => [
                l.index.to_string(),
                human(l.size_bytes),
                human(l.compressed_bytes),
                String::new(),
            ],
            None => [
                l.index.to_string(),
                human(l.size_bytes),
                human(l.compressed_bytes),
                human(w),
            ],
        };
        out.push(Row {
            layer: Some(l.index),
            numbers,
            command: l.label(),
        });
    }
    out.extend(ex.image.trailing_history.iter().map(step));
    out
}

/// Rows the pane lists (layers and history steps).
pub fn row_count(ex: &Explorer) -> usize {
    ex.image
        .layers
        .iter()
        .map(|l| 1 + l.empty_history.len())
        .sum::<usize>()
        + ex.image.trailing_history.len()
}

/// Columns the pane needs to show every command whole (borders included).
pub fn width_needed(ex: &Explorer) -> usize {
    let longest = ex
        .image
        .layers
        .iter()
        .map(|l| cut::width(&l.label()))
        .chain(
            ex.image
                .layers
                .iter()
                .flat_map(|l| &l.empty_history)
                .chain(&ex.image.trailing_history)
                .map(|h| cut::width(&h.label())),
        )
        .max()
        .unwrap_or(0);
    NUMBERS_W + longest + 2
}

fn format_row(numbers: &[String; 4], command: &str, w: usize) -> String {
    let narrow = w < NUMBERS_W + COMMAND_MIN_W;
    let n = numbers;
    let (lead, used) = if narrow {
        (
            format!("{:>3} {:>7} {:>7}  ", n[0], n[1], n[3]),
            NUMBERS_NARROW_W,
        )
    } else {
        (
            format!("{:>3} {:>7} {:>7} {:>7}  ", n[0], n[1], n[2], n[3]),
            NUMBERS_W,
        )
    };
    format!(
        "{lead}{}",
        text_fit::truncate(command, w.saturating_sub(used))
    )
}

/// First row shown, so that the selected layer is on screen with the steps after it (the
/// last layer's CMD and ENTRYPOINT) as far as they fit.
fn offset(rows: &[Row], sel: usize, visible: usize) -> usize {
    let sel_row = rows.iter().position(|r| r.layer == Some(sel)).unwrap_or(0);
    let steps_after = rows
        .get(sel_row + 1..)
        .unwrap_or_default()
        .iter()
        .take_while(|r| r.layer.is_none())
        .count();
    (sel_row + 1 + steps_after)
        .saturating_sub(visible.max(1))
        .min(sel_row)
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
    let w = area.width.saturating_sub(2) as usize;
    let h = S::LAYERS_HEADER;
    let header = [h[0], h[1], h[2], h[3]].map(str::to_string);
    let mut lines = vec![Line::styled(format_row(&header, h[4], w), theme::header())];
    for r in rows.iter().skip(off).take(vis) {
        let style = match r.layer {
            None => theme::dim(),
            Some(l) if l == ex.layer => theme::selected(focused),
            Some(l) if l >= ex.browsable() => theme::dim(),
            Some(_) => Default::default(),
        };
        lines.push(Line::from(Span::styled(
            format_row(&r.numbers, &r.command, w),
            style,
        )));
    }
    if rows.len() > off + vis {
        let more = S::fill(
            S::MORE_BELOW,
            &[("n", &(rows.len() - off - vis).to_string())],
        );
        let block = block.title_bottom(Line::styled(more, theme::dim()).right_aligned());
        f.render_widget(Paragraph::new(lines).block(block), area);
        return;
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
    rows.get(off + (y - first) as usize).and_then(|r| r.layer)
}
