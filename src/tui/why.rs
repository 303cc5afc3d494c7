//! The explorer's "why is it big" pane (`b`): the text report's view (`report::why`) as lines:
//! leftovers by category with bytes, layer and command, and the recommendations; the largest
//! packages and those removed later but still shipped; which stage each layer came from; the
//! estimates. `Enter` on a finding shows its path in the tree at the layer that added it.

use super::state::{human, Explorer, Focus};
use super::strings as S;
use super::theme;
use crate::analysis::why::WhyReport;
use crate::image::Image;
use crate::paths::NodeId;
use crate::report::why::{
    origin_total_words, origin_word, EstimateSection, FindingRow, LeftoverSection, PackageSection,
    StageSection, WhyView,
};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use LineKind::{Finding, Heading, Note};

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
    /// A package's own files, shown alone in the tree at the layer that installed it.
    Package {
        name: String,
        nodes: Vec<NodeId>,
        layer: usize,
    },
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

/// The pane's lines, built once when the report arrives, from the view the text report shows.
pub fn lines(image: &Image, r: &WhyReport) -> Vec<WhyLine> {
    let v = WhyView::new(r);
    let last = image.layers.len().saturating_sub(1);
    let mut out = Vec::new();
    if v.no_contents {
        out.push(line(Note, S::WHY_NO_CONTENTS.into(), WhyTarget::None));
    }
    leftover_lines(&mut out, image, &v.leftovers, last);
    if let Some(p) = &v.packages {
        out.push(line(Note, String::new(), WhyTarget::None));
        package_lines(&mut out, image, p, last);
    }
    out.push(line(Note, String::new(), WhyTarget::None));
    stage_lines(&mut out, &v.stages);
    out.push(line(Note, String::new(), WhyTarget::None));
    estimate_lines(&mut out, &v.estimates);
    if !v.findings.is_empty() {
        out.push(line(Note, String::new(), WhyTarget::None));
        finding_lines(&mut out, image, &v.findings, last);
    }
    out
}

/// Secrets and risky files: the view's headline, then its fix.
fn finding_lines(out: &mut Vec<WhyLine>, image: &Image, rows: &[FindingRow], last: usize) {
    out.push(line(
        Heading,
        format!(
            "Security: {} finding{}",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        ),
        WhyTarget::None,
    ));
    for r in rows {
        let target = match &r.path {
            Some(p) => WhyTarget::Path {
                node: image.paths.lookup(p),
                path: p.clone(),
                layer: r.layer.unwrap_or(last),
            },
            None => WhyTarget::None,
        };
        out.push(line(Finding, r.headline.clone(), target));
        out.push(line(Note, format!("  → {}", r.fix), WhyTarget::None));
    }
}

fn leftover_lines(out: &mut Vec<WhyLine>, image: &Image, l: &LeftoverSection, last: usize) {
    if l.totals.is_empty() {
        out.push(line(Heading, S::WHY_NO_LEFTOVERS.into(), WhyTarget::None));
        return;
    }
    let total = l
        .totals
        .iter()
        .map(|(c, b)| format!("{} {}", c.as_str(), human(*b)))
        .collect::<Vec<_>>()
        .join(", ");
    out.push(line(
        Heading,
        S::fill(S::WHY_LEFTOVERS, &[("total", &total)]),
        WhyTarget::None,
    ));
    for r in &l.rows {
        let mut path = r.path.clone();
        if let Some(p) = &r.package {
            path = format!("{path} ({p})");
        }
        out.push(line(
            Finding,
            format!(
                "{:>8} {:<14} {:<4} {path}  {}",
                human(r.bytes),
                r.category.as_str(),
                layer_col(r.layer),
                r.command.replace('\n', " ")
            ),
            WhyTarget::Path {
                node: r.node.or_else(|| image.paths.lookup(&r.path)),
                path: r.path.clone(),
                layer: r.layer.unwrap_or(last),
            },
        ));
    }
    for a in &l.recommendations {
        out.push(line(
            Note,
            S::fill(S::WHY_RECOMMENDATION, &[("advice", a)]),
            WhyTarget::None,
        ));
    }
}

fn package_lines(out: &mut Vec<WhyLine>, image: &Image, p: &PackageSection, last: usize) {
    out.push(line(
        Heading,
        S::fill(
            S::WHY_PACKAGES,
            &[
                ("n", &p.installed.to_string()),
                ("tools", &p.build_tools.to_string()),
                ("bytes", &human(p.build_tool_bytes)),
            ],
        ),
        WhyTarget::None,
    ));
    for r in p.rows.iter().take(TOP_PACKAGES) {
        let tool = if r.build_tool { S::WHY_BUILD_TOOL } else { "" };
        let target = match (r.dir, r.layer) {
            (Some(d), l) => WhyTarget::Path {
                node: Some(d),
                path: image.paths.path(d),
                layer: l.unwrap_or(last),
            },
            (None, l) if !r.nodes.is_empty() => WhyTarget::Package {
                name: r.name.clone(),
                nodes: r.nodes.clone(),
                layer: l.unwrap_or(last),
            },
            (None, Some(l)) => WhyTarget::Layer(l),
            (None, None) => WhyTarget::None,
        };
        out.push(line(
            Finding,
            format!(
                "{:>8} {:<6} {:<4} {} {}  {tool}",
                human(r.bytes),
                r.manager.as_str(),
                layer_col(r.layer),
                r.name,
                r.version
            ),
            target,
        ));
    }
    let Some(removed) = &p.removed else { return };
    out.push(line(
        Heading,
        S::fill(
            S::WHY_REMOVED,
            &[
                ("n", &removed.count.to_string()),
                ("bytes", &human(removed.bytes)),
            ],
        ),
        WhyTarget::None,
    ));
    for r in &removed.rows {
        out.push(line(
            Finding,
            format!(
                "{:>8} {:<6} {:<4} {}",
                human(r.shipped_bytes),
                r.manager.as_str(),
                layer_col(r.layer),
                r.name
            ),
            r.layer.map(WhyTarget::Layer).unwrap_or(WhyTarget::None),
        ));
    }
}

fn stage_lines(out: &mut Vec<WhyLine>, st: &StageSection) {
    out.push(line(
        Heading,
        S::fill(S::WHY_STAGES, &[("method", &st.method)]),
        WhyTarget::None,
    ));
    for r in &st.rows {
        let guess = if r.inferred { "?" } else { "" };
        out.push(line(
            Finding,
            format!(
                "{:>8} {:<4} {:<6} {:<16} {}",
                human(r.bytes),
                layer_col(Some(r.layer)),
                format!("{}{guess}", origin_word(r.origin)),
                r.stage.clone().unwrap_or_else(|| "-".into()),
                r.instruction.replace('\n', " ")
            ),
            WhyTarget::Layer(r.layer),
        ));
    }
    for t in &st.totals {
        let stage = t.stage.clone().map(|x| format!(" {x}")).unwrap_or_default();
        out.push(line(
            Note,
            S::fill(
                S::WHY_TOTAL_STAGE,
                &[
                    ("origin", origin_total_words(t.origin)),
                    ("stage", &stage),
                    ("bytes", &human(t.bytes)),
                    ("n", &t.layers.to_string()),
                ],
            ),
            WhyTarget::None,
        ));
    }
}

fn estimate_lines(out: &mut Vec<WhyLine>, e: &EstimateSection) {
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
    let closure = match &e.closure {
        Some(c) => S::fill(
            S::WHY_CLOSURE,
            &[
                ("prog", &c.program),
                ("bytes", &human(c.bytes)),
                ("files", &c.files.to_string()),
                ("base", &c.base),
            ],
        ),
        None => S::WHY_NO_CLOSURE.to_string(),
    };
    out.push(line(Note, closure, WhyTarget::None));
    for a in &e.assumptions {
        out.push(line(Note, format!("  - {a}"), WhyTarget::None));
    }
    if let Some(p) = &e.suggest {
        out.push(line(Note, format!("→ {p}"), WhyTarget::None));
    }
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
