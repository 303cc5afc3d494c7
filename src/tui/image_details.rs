//! The Image details pane: name and tags, sizes, true waste beside dive's wasted bytes and
//! efficiency (each labelled), and the paths that waste the most with both figures; `Enter` on
//! one shows it in the tree at the layer that added it. Numbers are never cut: lines wrap,
//! a narrow pane drops dive's columns (its totals stay in the summary), paths lose their
//! middle.

use super::cut;
use super::state::{human, Explorer, Focus, WastedRow};
use super::strings as S;
use super::theme;
use crate::text_fit;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// Width of the summary's labels.
const LABEL_W: usize = 11;
/// Columns of the list: true waste, copies, dive's count and total.
const WASTE_W: usize = 8;
const COPIES_W: usize = 6;
const DIVE_COUNT_W: usize = 5;
const DIVE_TOTAL_W: usize = 10;
/// A path keeps at least this many columns before dive's columns go.
const PATH_MIN_W: usize = 24;

/// `label value` pieces flowed into lines of `w` columns: a piece joins the line before it
/// when it fits there, else starts its own; a value longer than a line wraps at spaces.
fn flow(pieces: &[(&str, String, Style)], w: usize) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Vec::new();
    // columns used on the last line, when another piece may join it
    let mut joinable: Option<usize> = None;
    for (label, value, style) in pieces {
        let len = cut::width(label) + 1 + cut::width(value);
        // a label longer than the column keeps a space after it
        let label_w = LABEL_W.max(cut::width(label) + 1);
        if let (Some(used), Some(line)) = (joinable, out.last_mut()) {
            if used + 2 + len <= w {
                line.spans.push(Span::raw("  "));
                line.spans
                    .push(Span::styled(format!("{label} "), theme::label()));
                line.spans.push(Span::styled(value.clone(), *style));
                joinable = Some(used + 2 + len);
                continue;
            }
        }
        let parts = cut::wrap(value, w.saturating_sub(label_w).max(8));
        for (i, p) in parts.iter().enumerate() {
            let l = if i == 0 { *label } else { "" };
            out.push(Line::from(vec![
                Span::styled(format!("{l:<label_w$}"), theme::label()),
                Span::styled(p.clone(), *style),
            ]));
        }
        // a wrapped value ends its line
        joinable = match parts.as_slice() {
            [one] => Some(label_w + cut::width(one)),
            _ => None,
        };
    }
    out
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0 %".into();
    }
    format!("{:.1} %", 100.0 * part as f64 / whole as f64)
}

/// The summary above the list, for a text width of `w`.
fn summary(ex: &Explorer, w: usize) -> Vec<Line<'static>> {
    let img = &ex.image;
    let waste = &ex.analysis.waste;
    let dive = &ex.analysis.dive;
    let mut name = img.display_name();
    if img.tags.len() > 1 {
        name = format!("{name} (+{})", img.tags[1..].join(", "));
    }
    let name = text_fit::truncate(&name, w.saturating_sub(LABEL_W));
    let plain = Style::new();
    let mut lines = flow(&[(S::IMG_NAME, name, plain)], w);
    lines.extend(flow(
        &[
            (S::IMG_SIZE, human(img.size_bytes()), plain),
            (S::IMG_COMPRESSED, human(img.compressed_bytes()), plain),
        ],
        w,
    ));
    lines.extend(flow(
        &[
            (
                S::IMG_TRUE_WASTE,
                format!(
                    "{} ({})",
                    human(waste.wasted_bytes),
                    pct(waste.wasted_bytes, waste.shipped_bytes)
                ),
                theme::waste(),
            ),
            (S::IMG_DIVE_WASTED, human(dive.wasted_bytes), plain),
            (
                S::IMG_EFFICIENCY,
                format!("{:.2} %", dive.efficiency * 100.0),
                plain,
            ),
        ],
        w,
    ));
    lines
}

/// Which of the list's columns fit in `w`: (dive's columns, copies).
fn columns(w: usize) -> (bool, bool) {
    let base = WASTE_W + 1 + COPIES_W + 2;
    let dive = DIVE_COUNT_W + 1 + DIVE_TOTAL_W + 2;
    (w >= base + dive + PATH_MIN_W, w >= base + PATH_MIN_W)
}

fn list_line(cells: [&str; 5], w: usize) -> String {
    let (dive, copies) = columns(w);
    let mut s = format!("{:>WASTE_W$} ", cells[0]);
    if copies {
        s.push_str(&format!("{:>COPIES_W$}  ", cells[1]));
    } else {
        s.push(' ');
    }
    if dive {
        s.push_str(&format!(
            "{:>DIVE_COUNT_W$} {:>DIVE_TOTAL_W$}  ",
            cells[2], cells[3]
        ));
    }
    let room = w.saturating_sub(cut::width(&s));
    s.push_str(&text_fit::middle_cut_path(cells[4], room));
    s
}

fn row_line(r: &WastedRow, w: usize) -> String {
    let (count, total) = if r.dive_count > 0 {
        (format!("{}×", r.dive_count), human(r.dive_bytes))
    } else {
        ("-".to_string(), "-".to_string())
    };
    list_line(
        [
            &human(r.bytes),
            &r.copies.to_string(),
            &count,
            &total,
            &r.path,
        ],
        w,
    )
}

/// Lines above the list (summary and the list header) at this pane size.
fn head_lines(ex: &Explorer, area: Rect) -> usize {
    summary(ex, area.width.saturating_sub(2) as usize).len() + 1
}

fn visible(ex: &Explorer, area: Rect) -> usize {
    (area.height as usize).saturating_sub(2 + head_lines(ex, area))
}

fn offset(ex: &Explorer, vis: usize) -> usize {
    (ex.wasted_sel + 1).saturating_sub(vis.max(1))
}

pub fn render(f: &mut Frame, area: Rect, ex: &Explorer) {
    let focused = ex.focus == Focus::Wasted;
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(S::IMAGE_DETAILS_TITLE)
        .border_style(theme::border(focused));
    let w = area.width.saturating_sub(2) as usize;
    let mut lines = summary(ex, w);
    if ex.wasted.is_empty() {
        lines.push(Line::styled(S::IMG_NO_WASTE, theme::dim()));
    } else {
        let h = S::WASTED_HEADER;
        lines.push(Line::styled(list_line(h, w), theme::header()));
        let vis = visible(ex, area);
        let off = offset(ex, vis);
        for (i, r) in ex.wasted.iter().enumerate().skip(off).take(vis) {
            let style = if i == ex.wasted_sel {
                theme::selected(focused)
            } else {
                Default::default()
            };
            lines.push(Line::styled(row_line(r, w), style));
        }
        let hidden = ex.wasted.len().saturating_sub(off + vis);
        if hidden > 0 {
            let more = S::fill(S::MORE_BELOW, &[("n", &hidden.to_string())]);
            block = block.title_bottom(Line::styled(more, theme::dim()).right_aligned());
        }
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// The wasted path drawn at screen row `y` (for mouse clicks).
pub fn wasted_at_row(ex: &Explorer, area: Rect, y: u16) -> Option<usize> {
    let first = area.y + 1 + head_lines(ex, area) as u16;
    if y < first || y >= area.y + area.height.saturating_sub(1) {
        return None;
    }
    let i = offset(ex, visible(ex, area)) + (y - first) as usize;
    (i < ex.wasted.len()).then_some(i)
}
