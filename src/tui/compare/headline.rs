//! The compare view's headline bar: which images, then each number of A and B with B − A
//! (size, compressed, layers, final files, true waste, efficiency, leftovers), flowed into as
//! many lines as the width needs.

use crate::analysis::compare::Comparison;
use crate::tui::strings as S;
use crate::tui::theme;
use crate::units::{human_bytes, human_delta};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Whether a growth is bad (sizes, waste) or good (efficiency).
#[derive(Clone, Copy)]
enum Sense {
    LowerIsBetter,
    HigherIsBetter,
}

/// One number of the headline: label, A → B, and the delta.
struct Cell {
    label: &'static str,
    values: String,
    delta: String,
    /// Sign of the delta (-1, 0, 1).
    sign: i8,
    sense: Sense,
}

impl Cell {
    fn width(&self) -> usize {
        self.label.chars().count()
            + 1
            + self.values.chars().count()
            + 1
            + self.delta.chars().count()
    }
}

fn pct(a: u64, d: i64) -> String {
    if a == 0 || d == 0 {
        return String::new();
    }
    format!(" ({:+.1}%)", 100.0 * d as f64 / a as f64)
}

fn bytes_cell(label: &'static str, a: u64, b: u64, d: i64, with_pct: bool) -> Cell {
    Cell {
        label,
        values: format!("{} → {}", human_bytes(a), human_bytes(b)),
        delta: format!(
            "{}{}",
            human_delta(d),
            if with_pct { pct(a, d) } else { String::new() }
        ),
        sign: d.signum() as i8,
        sense: Sense::LowerIsBetter,
    }
}

fn cells(c: &Comparison) -> Vec<Cell> {
    let (a, b, d) = (&c.headline.a, &c.headline.b, &c.headline.delta);
    let mut v = vec![
        bytes_cell(S::CMP_SIZE, a.size_bytes, b.size_bytes, d.size_bytes, true),
        bytes_cell(
            S::CMP_COMPRESSED,
            a.compressed_bytes,
            b.compressed_bytes,
            d.compressed_bytes,
            false,
        ),
        Cell {
            label: S::CMP_LAYERS,
            values: format!("{} → {}", a.layers, b.layers),
            delta: format!("{:+}", d.layers),
            sign: d.layers.signum() as i8,
            sense: Sense::LowerIsBetter,
        },
        bytes_cell(
            S::CMP_FINAL,
            a.final_bytes,
            b.final_bytes,
            d.final_bytes,
            false,
        ),
        bytes_cell(
            S::CMP_WASTE,
            a.true_wasted_bytes,
            b.true_wasted_bytes,
            d.true_wasted_bytes,
            false,
        ),
        Cell {
            label: S::CMP_EFFICIENCY,
            values: format!(
                "{:.2}% → {:.2}%",
                a.efficiency * 100.0,
                b.efficiency * 100.0
            ),
            delta: S::fill(
                S::CMP_POINTS,
                &[("d", &format!("{:+.2}", d.efficiency * 100.0))],
            ),
            // below a hundredth of a point is noise from float sums
            sign: if (d.efficiency * 100.0).abs() < 0.005 {
                0
            } else {
                d.efficiency.signum() as i8
            },
            sense: Sense::HigherIsBetter,
        },
    ];
    if let (Some(x), Some(y), Some(z)) = (a.leftover_bytes, b.leftover_bytes, d.leftover_bytes) {
        v.push(bytes_cell(S::CMP_LEFTOVERS, x, y, z, false));
    }
    v
}

/// Cells flowed into lines of at most `w` columns (two spaces between cells).
fn flow(cells: &[Cell], w: usize) -> Vec<Vec<&Cell>> {
    let mut lines: Vec<Vec<&Cell>> = Vec::new();
    let mut used = 0;
    for c in cells {
        let cw = c.width();
        match lines.last_mut() {
            Some(l) if used + 3 + cw <= w => {
                l.push(c);
                used += 3 + cw;
            }
            _ => {
                lines.push(vec![c]);
                used = cw;
            }
        }
    }
    lines
}

/// Rows the headline takes at a width: the names line, then the flowed cells.
pub fn height(width: u16, c: &Comparison) -> u16 {
    1 + flow(&cells(c), width as usize).len() as u16
}

fn delta_style(cell: &Cell) -> Style {
    let good = match cell.sense {
        Sense::LowerIsBetter => cell.sign < 0,
        Sense::HigherIsBetter => cell.sign > 0,
    };
    if cell.sign == 0 {
        theme::dim()
    } else if good {
        theme::better()
    } else {
        theme::worse()
    }
}

pub fn render(f: &mut Frame, area: Rect, c: &Comparison) {
    let (a, b) = (&c.headline.a, &c.headline.b);
    let mut lines = vec![Line::from(vec![
        Span::styled(S::CMP_TITLE, theme::key()),
        Span::styled(" A ", theme::label()),
        Span::styled(a.name.clone(), theme::header()),
        Span::styled("  →  B ", theme::label()),
        Span::styled(b.name.clone(), theme::header()),
        Span::styled(
            format!(
                "   {}",
                S::fill(
                    S::CMP_SHARED,
                    &[
                        ("n", &c.layers.shared.len().to_string()),
                        ("bytes", &human_bytes(c.layers.shared_bytes)),
                    ],
                )
            ),
            theme::dim(),
        ),
    ])];
    let all = cells(c);
    for row in flow(&all, area.width as usize) {
        let mut spans = Vec::new();
        for (i, cell) in row.into_iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" │ ", theme::dim()));
            }
            spans.push(Span::styled(format!("{} ", cell.label), theme::label()));
            spans.push(Span::raw(format!("{} ", cell.values)));
            spans.push(Span::styled(cell.delta.clone(), delta_style(cell)));
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(Paragraph::new(lines), area);
}
