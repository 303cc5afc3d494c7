//! The compare view's layers pane: A's and B's layer stacks side by side, the shared prefix
//! dimmed, then each pair after it with how it relates (same, rebuilt, changed, added,
//! removed) and B − A; below, the selected row's full commands.

use super::{CompareFocus, CompareView, LayerKind, LayerLine, COMMAND_LINES};
use crate::analysis::compare::{LayerRow, LayerStatus};
use crate::text_fit::fit;
use crate::tree::ChangeMark;
use crate::tui::strings as S;
use crate::tui::theme;
use crate::units::{human_bytes, human_delta};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

const STATUS_W: usize = 8;
const DELTA_W: usize = 9;

fn status_label(k: LayerKind) -> &'static str {
    let i = match k {
        LayerKind::Shared => 0,
        LayerKind::Pair(LayerStatus::Same) => 1,
        LayerKind::Pair(LayerStatus::Rebuilt) => 2,
        LayerKind::Pair(LayerStatus::Changed) => 3,
        LayerKind::Pair(LayerStatus::Added) => 4,
        LayerKind::Pair(LayerStatus::Removed) => 5,
    };
    S::CMP_LAYER_STATUS[i]
}

fn style(k: LayerKind) -> Style {
    match k {
        LayerKind::Shared => theme::dim(),
        LayerKind::Pair(LayerStatus::Same) => Style::new(),
        LayerKind::Pair(LayerStatus::Rebuilt | LayerStatus::Changed) => {
            theme::mark(ChangeMark::Modified)
        }
        LayerKind::Pair(LayerStatus::Added) => theme::mark(ChangeMark::Added),
        LayerKind::Pair(LayerStatus::Removed) => theme::mark(ChangeMark::Removed),
    }
}

fn side(r: Option<&LayerRow>, w: usize) -> String {
    match r {
        Some(r) => {
            let cmd = if r.command.is_empty() {
                S::CMP_NO_HISTORY
            } else {
                &r.command
            };
            fit(
                &format!("{:>3} {:>7}  {cmd}", r.index, human_bytes(r.size_bytes)),
                w,
            )
        }
        None => fit("", w),
    }
}

/// Width of each side's column for a pane width.
fn side_w(width: u16) -> usize {
    let inner = width.saturating_sub(2) as usize;
    inner.saturating_sub(STATUS_W + DELTA_W + 4) / 2
}

fn line_text(l: &LayerLine, sw: usize) -> String {
    let d = if l.delta == 0 && l.kind == LayerKind::Shared {
        String::new()
    } else {
        human_delta(l.delta)
    };
    format!(
        "{:<STATUS_W$} {} │ {} {:>DELTA_W$}",
        status_label(l.kind),
        side(l.a, sw),
        side(l.b, sw),
        d
    )
}

fn rows_h(area: Rect) -> usize {
    area.height.saturating_sub(3 + COMMAND_LINES) as usize
}

fn offset(sel: usize, vis: usize) -> usize {
    (sel + 1).saturating_sub(vis.max(1))
}

pub fn render(f: &mut Frame, area: Rect, cv: &CompareView) {
    let focused = cv.focus == CompareFocus::Layers;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(S::fill(
            S::CMP_LAYERS_TITLE,
            &[("a", &cv.c.headline.a.name), ("b", &cv.c.headline.b.name)],
        ))
        .border_style(theme::border(focused));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let sw = side_w(area.width);
    let h = S::CMP_LAYERS_HEADER;
    let head = format!(
        "{:<STATUS_W$} {} │ {} {:>DELTA_W$}",
        h[0],
        fit(&format!("{:>3} {:>7}  {}", h[1], h[2], h[3]), sw),
        fit(&format!("{:>3} {:>7}  {}", h[1], h[2], h[4]), sw),
        h[5]
    );
    let mut lines = vec![Line::styled(head, theme::header())];
    let all = cv.layer_lines();
    let vis = rows_h(area);
    let off = offset(cv.layer_sel, vis);
    for (i, l) in all.iter().enumerate().skip(off).take(vis) {
        let mut st = style(l.kind);
        if i == cv.layer_sel {
            st = st.patch(theme::selected(focused));
        }
        lines.push(Line::styled(line_text(l, sw), st));
    }
    f.render_widget(
        Paragraph::new(lines),
        Rect::new(
            inner.x,
            inner.y,
            inner.width,
            inner.height.saturating_sub(COMMAND_LINES),
        ),
    );
    // the selected row's commands in full (as far as the width goes)
    if let Some(l) = all.get(cv.layer_sel) {
        let cmd = |r: Option<&LayerRow>| match r {
            Some(r) if !r.command.is_empty() => r.command.clone(),
            Some(_) => S::CMP_NO_HISTORY.to_string(),
            None => S::CMP_NO_LAYER.to_string(),
        };
        let w = inner.width.saturating_sub(3) as usize;
        let cmds = vec![
            Line::from(vec![
                Span::styled("A: ", theme::label()),
                Span::raw(fit(&cmd(l.a), w)),
            ]),
            Line::from(vec![
                Span::styled("B: ", theme::label()),
                Span::raw(fit(&cmd(l.b), w)),
            ]),
        ];
        let y = inner.y + inner.height.saturating_sub(COMMAND_LINES);
        if inner.height > COMMAND_LINES {
            f.render_widget(
                Paragraph::new(cmds),
                Rect::new(inner.x, y, inner.width, COMMAND_LINES),
            );
        }
    }
}

/// The row drawn at screen row `y` (for mouse clicks).
pub fn line_at_row(cv: &CompareView, area: Rect, y: u16) -> Option<usize> {
    let first = area.y + 2;
    let vis = rows_h(area);
    if y < first || (y - first) as usize >= vis {
        return None;
    }
    let i = offset(cv.layer_sel, vis) + (y - first) as usize;
    (i < cv.layer_lines().len()).then_some(i)
}
