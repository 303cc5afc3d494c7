//! The Image details pane: name and tags, sizes, true waste and dive's efficiency, and the
//! biggest wasted paths; `Enter` on one shows it in the tree at the layer that added it.

use super::state::{human, Explorer, Focus};
use super::strings as S;
use super::theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// Lines above the wasted list (summary, then the list header).
const SUMMARY_LINES: usize = 4;

fn visible(area: Rect) -> usize {
    (area.height as usize).saturating_sub(2 + SUMMARY_LINES)
}

fn offset(ex: &Explorer, vis: usize) -> usize {
    (ex.wasted_sel + 1).saturating_sub(vis.max(1))
}

pub fn render(f: &mut Frame, area: Rect, ex: &Explorer) {
    let focused = ex.focus == Focus::Wasted;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(S::IMAGE_DETAILS_TITLE)
        .border_style(theme::border(focused));
    let img = &ex.image;
    let w = &ex.analysis.waste;
    let pct = if w.shipped_bytes > 0 {
        100.0 * w.wasted_bytes as f64 / w.shipped_bytes as f64
    } else {
        0.0
    };
    let mut name = img.display_name();
    if img.tags.len() > 1 {
        name = format!("{name} (+{})", img.tags[1..].join(", "));
    }
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<11}", S::IMG_NAME), theme::label()),
            Span::raw(name),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<11}", S::IMG_SIZE), theme::label()),
            Span::raw(format!(
                "{}, {} {}",
                human(img.size_bytes()),
                S::IMG_COMPRESSED,
                human(img.compressed_bytes())
            )),
        ]),
        Line::from(vec![
            Span::styled(format!("{:<11}", S::IMG_TRUE_WASTE), theme::label()),
            Span::styled(
                format!("{} ({pct:.1}%)", human(w.wasted_bytes)),
                theme::waste(),
            ),
            Span::styled(format!("  {} ", S::IMG_EFFICIENCY), theme::label()),
            Span::raw(format!("{:.2}%", ex.analysis.dive.efficiency * 100.0)),
        ]),
    ];
    if ex.wasted.is_empty() {
        lines.push(Line::styled(S::IMG_NO_WASTE, theme::dim()));
    } else {
        let h = S::WASTED_HEADER;
        lines.push(Line::styled(
            format!("{:>6} {:>8}  {}", h[0], h[1], h[2]),
            theme::header(),
        ));
        let vis = visible(area);
        for (i, r) in ex.wasted.iter().enumerate().skip(offset(ex, vis)).take(vis) {
            let style = if i == ex.wasted_sel {
                theme::selected(focused)
            } else {
                Default::default()
            };
            lines.push(Line::styled(
                format!("{:>6} {:>8}  {}", r.copies, human(r.bytes), r.path),
                style,
            ));
        }
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// The wasted path drawn at screen row `y` (for mouse clicks).
pub fn wasted_at_row(ex: &Explorer, area: Rect, y: u16) -> Option<usize> {
    let first = area.y + 1 + SUMMARY_LINES as u16;
    if y < first || y >= area.y + area.height.saturating_sub(1) {
        return None;
    }
    let i = offset(ex, visible(area)) + (y - first) as usize;
    (i < ex.wasted.len()).then_some(i)
}
