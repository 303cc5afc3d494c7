//! The explorer's "why is it big" pane (`b`): the text report's view (`report::why`) as a
//! table: the headlines (packages a later layer removed that still ship) with their fix;
//! leftovers under their layer's command, their category in its colour, and the
//! recommendations; the largest packages and those removed later but still shipped; which
//! stage each layer came from; the estimates. Each table has column headers. `Enter` on a row
//! shows its path in the tree at the layer that added it (a layer's changes for a command).

use super::state::{human, Explorer, Focus};
use super::strings as S;
use super::theme;
use crate::analysis::leftovers::Category;
use crate::analysis::why::WhyReport;
use crate::image::Image;
use crate::paths::NodeId;
use crate::report::why::{
    origin_total_words, origin_word, EstimateSection, FindingRow, Headline, LeftoverSection,
    PackageSection, StageSection, WhyView,
};
use crate::text_fit::{fit_between, truncate, wrap};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use LineKind::{Columns, Finding, Group, Heading, Note, Plain};

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
    /// A section's title.
    Heading,
    /// A table's column headers.
    Columns,
    /// The command of the layer whose rows follow.
    Group,
    /// A table row.
    Finding,
    /// Readable text: advice, estimates, totals.
    Plain,
    /// A side remark (blank lines, "read without contents").
    Note,
}

/// One line of the pane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhyLine {
    pub text: String,
    pub kind: LineKind,
    pub target: WhyTarget,
    /// A leftover row's category, drawn in its colour.
    pub category: Option<Category>,
    /// Where the row's path starts and how long it is (in chars): a line too wide is cut in
    /// the path's middle, so the numbers before it, the file name and the package stay.
    pub path_from: Option<(usize, usize)>,
}

fn line(kind: LineKind, text: String, target: WhyTarget) -> WhyLine {
    WhyLine {
        text,
        kind,
        target,
        category: None,
        path_from: None,
    }
}

fn blank() -> WhyLine {
    line(Note, String::new(), WhyTarget::None)
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
    headline_lines(&mut out, &v.headlines);
    leftover_lines(&mut out, image, &v.leftovers, last);
    if let Some(p) = &v.packages {
        out.push(blank());
        package_lines(&mut out, image, p, last);
    }
    out.push(blank());
    stage_lines(&mut out, &v.stages);
    out.push(blank());
    estimate_lines(&mut out, &v.estimates);
    if !v.findings.is_empty() {
        out.push(blank());
        finding_lines(&mut out, image, &v.findings, last);
    }
    out
}

/// What to fix first: the headline (`Enter` shows the layer that installed it), then its fix.
fn headline_lines(out: &mut Vec<WhyLine>, rows: &[Headline]) {
    for h in rows {
        out.push(line(
            Heading,
            h.text.clone(),
            h.layer.map(WhyTarget::Layer).unwrap_or(WhyTarget::None),
        ));
        out.push(line(Plain, format!("  → {}", h.fix), WhyTarget::None));
    }
    if !rows.is_empty() {
        out.push(blank());
    }
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
        out.push(line(Plain, format!("  → {}", r.fix), WhyTarget::None));
    }
}

/// The leftover rows' columns: size, category, then the path (and its package).
fn leftover_cols(bytes: &str, category: &str) -> String {
    format!("{bytes:>8}  {category:<14}  ")
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
    out.push(line(
        Columns,
        format!("{}{}", leftover_cols("Size", "Category"), S::WHY_COL_PATH),
        WhyTarget::None,
    ));
    // the command once, over the rows its layer wrote
    for g in l.groups(l.rows.len()) {
        out.push(line(
            Group,
            format!("{:<4} {}", layer_col(g.layer), g.command.replace('\n', " ")),
            g.layer.map(WhyTarget::Layer).unwrap_or(WhyTarget::None),
        ));
        for r in &g.rows {
            let cols = leftover_cols(&human(r.bytes), r.category.as_str());
            let package = r
                .package
                .as_ref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            out.push(WhyLine {
                path_from: Some((cols.chars().count(), r.path.chars().count())),
                text: format!("{cols}{}{package}", r.path),
                kind: Finding,
                target: WhyTarget::Path {
                    node: r.node.or_else(|| image.paths.lookup(&r.path)),
                    path: r.path.clone(),
                    layer: r.layer.unwrap_or(last),
                },
                category: Some(r.category),
            });
        }
    }
    for a in &l.recommendations {
        out.push(line(
            Plain,
            S::fill(S::WHY_RECOMMENDATION, &[("advice", a)]),
            WhyTarget::None,
        ));
    }
}

/// The package rows' columns: size, manager, layer, then the name.
fn package_cols(bytes: &str, manager: &str, layer: &str) -> String {
    format!("{bytes:>8}  {manager:<6} {layer:<5} ")
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
    out.push(line(
        Columns,
        format!(
            "{}{}",
            package_cols("Size", "Kind", "Layer"),
            S::WHY_COL_PACKAGE
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
                "{}{} {}  {tool}",
                package_cols(&human(r.bytes), r.manager.as_str(), &layer_col(r.layer)),
                r.name,
                r.version
            )
            .trim_end()
            .to_string(),
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
    out.push(line(
        Columns,
        format!(
            "{}{}",
            package_cols("Shipped", "Kind", "Layer"),
            S::WHY_COL_REMOVED
        ),
        WhyTarget::None,
    ));
    for r in &removed.rows {
        let gone = r
            .removed_in
            .map(|l| format!("  (removed in L{l})"))
            .unwrap_or_default();
        out.push(line(
            Finding,
            format!(
                "{}{}{gone}",
                package_cols(
                    &human(r.shipped_bytes),
                    r.manager.as_str(),
                    &layer_col(r.layer)
                ),
                r.name
            ),
            r.layer.map(WhyTarget::Layer).unwrap_or(WhyTarget::None),
        ));
    }
}

fn stage_cols(bytes: &str, layer: &str, origin: &str, stage: &str) -> String {
    format!("{bytes:>8}  {layer:<5} {origin:<6} {stage:<16} ")
}

fn stage_lines(out: &mut Vec<WhyLine>, st: &StageSection) {
    out.push(line(
        Heading,
        S::fill(S::WHY_STAGES, &[("method", &st.method)]),
        WhyTarget::None,
    ));
    out.push(line(
        Columns,
        format!(
            "{}{}",
            stage_cols("Size", "Layer", "From", "Stage"),
            S::WHY_COL_COMMAND
        ),
        WhyTarget::None,
    ));
    for r in &st.rows {
        let guess = if r.inferred { "?" } else { "" };
        out.push(line(
            Finding,
            format!(
                "{}{}",
                stage_cols(
                    &human(r.bytes),
                    &layer_col(Some(r.layer)),
                    &format!("{}{guess}", origin_word(r.origin)),
                    &r.stage.clone().unwrap_or_else(|| "-".into()),
                ),
                r.instruction.replace('\n', " ")
            ),
            WhyTarget::Layer(r.layer),
        ));
    }
    for t in &st.totals {
        let stage = t.stage.clone().map(|x| format!(" {x}")).unwrap_or_default();
        out.push(line(
            Plain,
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
        Plain,
        format!("{:>8}  {}", human(e.final_bytes), S::WHY_FINAL),
        WhyTarget::None,
    ));
    out.push(line(
        Plain,
        format!(
            "{:>8}  {}",
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
    out.push(line(Plain, closure, WhyTarget::None));
    for a in &e.assumptions {
        out.push(line(Plain, format!("  - {a}"), WhyTarget::None));
    }
}

/// A line's screen rows, `width` columns wide: prose (headings, advice, estimates) wraps under
/// its first word; a table row is cut with "…", in its path's middle when it has one.
fn screen_rows(l: &WhyLine, width: usize) -> Vec<String> {
    let n = l.text.chars().count();
    if n <= width {
        return vec![l.text.clone()];
    }
    match (l.kind, l.path_from) {
        (LineKind::Heading | LineKind::Plain, _) => {
            let lead = l.text.chars().take_while(|c| *c == ' ').count();
            // a bullet's text continues under its text, a sentence one column in
            let t = l.text.trim_start();
            let bullet = t.starts_with('→') || t.starts_with("- ");
            let rest = " ".repeat(lead + if bullet { 2 } else { 1 });
            wrap(&l.text, width, &" ".repeat(lead), &rest)
                .iter()
                .map(|r| truncate(r, width))
                .collect()
        }
        (_, Some((at, len))) if at + len <= n => {
            let head: String = l.text.chars().take(at).collect();
            let path: String = l.text.chars().skip(at).take(len).collect();
            let tail: String = l.text.chars().skip(at + len).collect();
            vec![truncate(
                &fit_between(&head, &path, &tail, width, true),
                width,
            )]
        }
        _ => vec![truncate(&l.text, width)],
    }
}

/// One screen row of a line, in its style: the category word in its colour.
fn styled(l: &WhyLine, text: String, base: Style) -> Line<'static> {
    let Some(c) = l.category else {
        return Line::styled(text, base);
    };
    let word = c.as_str();
    // the category column comes right after the size: its first occurrence
    match text.find(word) {
        Some(i) => Line::from(vec![
            Span::styled(text[..i].to_string(), base),
            Span::styled(word.to_string(), base.patch(theme::category(c))),
            Span::styled(text[i + word.len()..].to_string(), base),
        ]),
        None => Line::styled(text, base),
    }
}

/// Every line's screen rows, as (line, row text), and the first row shown: the selected
/// line's rows in view, at the bottom when it is below the first screenful.
fn layout(ex: &Explorer, area: Rect) -> (Vec<(usize, String)>, usize) {
    let width = area.width.saturating_sub(2).max(1) as usize;
    let vis = area.height.saturating_sub(2).max(1) as usize;
    let mut rows = Vec::new();
    let (mut first, mut last) = (0, 0);
    for (i, l) in ex.why_lines.iter().enumerate() {
        if i == ex.why_sel {
            first = rows.len();
        }
        rows.extend(screen_rows(l, width).into_iter().map(|r| (i, r)));
        if i == ex.why_sel {
            last = rows.len().saturating_sub(1);
        }
    }
    let off = (last + 1).saturating_sub(vis).min(first);
    (rows, off)
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
            let (rows, off) = layout(ex, area);
            rows.into_iter()
                .skip(off)
                .take(area.height.saturating_sub(2) as usize)
                .map(|(i, text)| {
                    let l = &ex.why_lines[i];
                    let mut st = match l.kind {
                        LineKind::Heading | LineKind::Group => theme::header(),
                        LineKind::Columns => theme::label(),
                        LineKind::Note => theme::dim(),
                        LineKind::Finding | LineKind::Plain => Style::new(),
                    };
                    if i == ex.why_sel {
                        st = st.patch(theme::selected(focused));
                    }
                    styled(l, text, st)
                })
                .collect()
        }
    };
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// The line drawn at screen row `y` (for mouse clicks).
pub fn line_at_row(ex: &Explorer, area: Rect, y: u16) -> Option<usize> {
    let first = area.y + 1;
    if y < first || y >= area.y + area.height.saturating_sub(1) {
        return None;
    }
    let (rows, off) = layout(ex, area);
    rows.get(off + (y - first) as usize).map(|(i, _)| *i)
}
