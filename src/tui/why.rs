//! The explorer's "why is it big" pane (`b`): leftovers by category with bytes, layer and
//! command; the largest packages; which stage each layer came from; the estimates. `Enter` on a
//! finding shows its path in the tree at the layer that added it.

use super::state::{human, Explorer, Focus};
use super::strings as S;
use super::theme;
use crate::analysis::stages::Origin;
use crate::analysis::why::WhyReport;
use crate::image::Image;
use crate::paths::NodeId;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// How many packages the pane lists.
pub const TOP_PACKAGES: usize = 15;

/// Where `Enter` on a line goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WhyTarget {
    None,
    /// A path, shown in the tree at `layer`.
    Path {
        node: Option<NodeId>,
        path: String,
        layer: usize,
    },
    /// A layer, its changes shown in the tree.
    Layer(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Heading,
    Finding,
    Note,
}

/// One line of the pane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhyLine {
    pub text: String,
    pub kind: LineKind,
    pub target: WhyTarget,
}

fn line(kind: LineKind, text: String, target: WhyTarget) -> WhyLine {
    WhyLine { text, kind, target }
}

fn layer_col(l: Option<usize>) -> String {
    l.map(|x| format!("L{x}")).unwrap_or_default()
}

/// The pane's lines, built once when the report arrives.
pub fn lines(image: &Image, r: &WhyReport) -> Vec<WhyLine> {
    use LineKind::*;
    let last = image.layers.len().saturating_sub(1);
    let mut out = Vec::new();
    if r.no_contents {
        out.push(line(Note, S::WHY_NO_CONTENTS.into(), WhyTarget::None));
    }
    let cats = r.by_category();
    if cats.is_empty() {
        out.push(line(Heading, S::WHY_NO_LEFTOVERS.into(), WhyTarget::None));
    } else {
        let total = cats
            .iter()
            .map(|(c, b)| format!("{} {}", c.as_str(), human(*b)))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(line(
            Heading,
            S::fill(S::WHY_LEFTOVERS, &[("total", &total)]),
            WhyTarget::None,
        ));
        for l in &r.leftovers {
            let mut path = l.path.clone();
            if let Some(p) = &l.package {
                path = format!("{path} ({p})");
            }
            out.push(line(
                Finding,
                format!(
                    "{:>8} {:<14} {:<4} {path}  {}",
                    human(l.bytes),
                    l.category.as_str(),
                    layer_col(l.layer),
                    l.command.replace('\n', " ")
                ),
                WhyTarget::Path {
                    node: l.node.or_else(|| image.paths.lookup(&l.path)),
                    path: l.path.clone(),
                    layer: l.layer.unwrap_or(last),
                },
            ));
        }
    }
    let installed: Vec<_> = r.packages.iter().filter(|p| !p.removed).collect();
    if !installed.is_empty() {
        out.push(line(Note, String::new(), WhyTarget::None));
        let tools: Vec<_> = installed.iter().filter(|p| p.build_tool).collect();
        out.push(line(
            Heading,
            S::fill(
                S::WHY_PACKAGES,
                &[
                    ("n", &installed.len().to_string()),
                    ("tools", &tools.len().to_string()),
                    ("bytes", &human(tools.iter().map(|p| p.bytes).sum())),
                ],
            ),
            WhyTarget::None,
        ));
        for p in installed.iter().take(TOP_PACKAGES) {
            let tool = if p.build_tool { S::WHY_BUILD_TOOL } else { "" };
            let target = match (p.dir, p.layer) {
                (Some(d), l) => WhyTarget::Path {
                    node: Some(d),
                    path: image.paths.path(d),
                    layer: l.unwrap_or(last),
                },
                (None, Some(l)) => WhyTarget::Layer(l),
                (None, None) => WhyTarget::None,
            };
            out.push(line(
                Finding,
                format!(
                    "{:>8} {:<6} {:<4} {} {}  {tool}",
                    human(p.bytes),
                    p.manager.as_str(),
                    layer_col(p.layer),
                    p.name,
                    p.version
                ),
                target,
            ));
        }
    }
    out.push(line(Note, String::new(), WhyTarget::None));
    out.push(line(
        Heading,
        S::fill(S::WHY_STAGES, &[("method", &r.stages.method)]),
        WhyTarget::None,
    ));
    for l in &r.stages.layers {
        let origin = match l.origin {
            Origin::Base => "base",
            Origin::Build => "build",
        };
        let guess = if l.inferred { "?" } else { "" };
        out.push(line(
            Finding,
            format!(
                "{:>8} {:<4} {:<6} {:<16} {}",
                human(l.bytes),
                layer_col(Some(l.layer)),
                format!("{origin}{guess}"),
                l.stage.clone().unwrap_or_else(|| "-".into()),
                l.instruction.replace('\n', " ")
            ),
            WhyTarget::Layer(l.layer),
        ));
    }
    for s in &r.stages.summary {
        let origin = match s.origin {
            Origin::Base => "base image",
            Origin::Build => "build",
        };
        let stage = s.stage.clone().map(|x| format!(" {x}")).unwrap_or_default();
        out.push(line(
            Note,
            S::fill(
                S::WHY_TOTAL_STAGE,
                &[
                    ("origin", origin),
                    ("stage", &stage),
                    ("bytes", &human(s.bytes)),
                    ("n", &s.layers.to_string()),
                ],
            ),
            WhyTarget::None,
        ));
    }
    let e = &r.estimates;
    out.push(line(Note, String::new(), WhyTarget::None));
    out.push(line(Heading, S::WHY_ESTIMATES.into(), WhyTarget::None));
    out.push(line(
        Note,
        format!("{:>8} {}", human(e.final_bytes), S::WHY_FINAL),
        WhyTarget::None,
    ));
    out.push(line(
        Note,
        format!(
            "{:>8} {}",
            human(e.without_leftovers_bytes),
            S::WHY_WITHOUT_LEFTOVERS
        ),
        WhyTarget::None,
    ));
    let closure = match (e.runtime_closure_bytes, &e.runtime_closure_base) {
        (Some(b), Some(base)) => S::fill(
            S::WHY_CLOSURE,
            &[
                ("prog", e.program.as_deref().unwrap_or("")),
                ("bytes", &human(b)),
                ("files", &e.runtime_closure_files.to_string()),
                ("base", base),
            ],
        ),
        _ => S::WHY_NO_CLOSURE.to_string(),
    };
    out.push(line(Note, closure, WhyTarget::None));
    for a in &e.assumptions {
        out.push(line(Note, format!("  - {a}"), WhyTarget::None));
    }
    out
}

fn visible(area: Rect) -> usize {
    area.height.saturating_sub(2) as usize
}

fn offset(sel: usize, vis: usize) -> usize {
    (sel + 1).saturating_sub(vis.max(1))
}

pub fn render(f: &mut Frame, area: Rect, ex: &Explorer) {
    let focused = ex.focus == Focus::Why;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(S::WHY_TITLE)
        .border_style(theme::border(focused));
    let lines: Vec<Line> = match &ex.why {
        None => vec![Line::styled(S::WHY_COMPUTING, theme::dim())],
        Some(Err(e)) => vec![Line::styled(
            S::fill(S::WHY_FAILED, &[("err", e)]),
            theme::warn(),
        )],
        Some(Ok(_)) => {
            let vis = visible(area);
            let off = offset(ex.why_sel, vis);
            ex.why_lines
                .iter()
                .enumerate()
                .skip(off)
                .take(vis)
                .map(|(i, l)| {
                    let mut st = match l.kind {
                        LineKind::Heading => theme::header(),
                        LineKind::Note => theme::dim(),
                        LineKind::Finding => Style::new(),
                    };
                    if i == ex.why_sel {
                        st = st.patch(theme::selected(focused));
                    }
                    Line::styled(l.text.clone(), st)
                })
                .collect()
        }
    };
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// The line drawn at screen row `y` (for mouse clicks).
pub fn line_at_row(ex: &Explorer, area: Rect, y: u16) -> Option<usize> {
    let first = area.y + 1;
    let vis = visible(area);
    if y < first || (y - first) as usize >= vis {
        return None;
    }
    let i = offset(ex.why_sel, vis) + (y - first) as usize;
    (i < ex.why_lines.len()).then_some(i)
}
