//! The File tree pane: the merged filesystem at the selected layer (or only that layer's
//! changes), with permissions, owner, size and name, coloured by change mark. Draws only the
//! rows on screen, asking the tree model for them one by one.

use super::state::{human, Explorer, Focus};
use super::strings as S;
use super::theme;
use super::treeview::{mark_index, permissions, LayerMode, SortOrder};
use crate::paths::NodeId;
use crate::tree::{entry_of, ChangeMark};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

const MARKS: [ChangeMark; 4] = [
    ChangeMark::Added,
    ChangeMark::Modified,
    ChangeMark::Removed,
    ChangeMark::Unchanged,
];

/// `■ added ■ modified …` with the hidden marks struck through; shared with the compare view.
pub fn legend_spans(
    hide: &[bool; 4],
    labels: &[&str; 4],
    style_of: fn(ChangeMark) -> Style,
) -> Vec<Span<'static>> {
    let mut spans = vec![Span::raw(" ")];
    for (i, m) in MARKS.iter().enumerate() {
        let hidden = hide[mark_index(*m)];
        let mut style = style_of(*m);
        let mut text = format!("■ {}", labels[i]);
        if hidden {
            style = style.add_modifier(Modifier::CROSSED_OUT | Modifier::DIM);
            text.push_str(S::LEGEND_HIDDEN_SUFFIX);
        }
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    spans
}

fn legend(ex: &Explorer) -> Line<'static> {
    let mut spans = legend_spans(&ex.tree.hide, &S::LEGEND, theme::mark);
    if ex.tree.wasted_only {
        spans.push(Span::styled(S::WASTED_ONLY, theme::waste()));
    }
    if ex.tree.sort == SortOrder::SizeDesc {
        spans.push(Span::styled(S::SORT_SIZE, theme::label()));
    }
    Line::from(spans)
}

/// The filter at the bottom right: being typed (with a cursor), or in force.
pub fn filter_title(input: Option<&str>, active: Option<&str>) -> Option<Line<'static>> {
    if let Some(p) = input {
        return Some(
            Line::from(vec![
                Span::styled(S::FILTER_PROMPT, theme::warn()),
                Span::raw(format!("{p}▏")),
            ])
            .right_aligned(),
        );
    }
    active.map(|p| {
        Line::from(vec![
            Span::styled(S::FILTER_ACTIVE, theme::warn()),
            Span::raw(format!("{p} ")),
        ])
        .right_aligned()
    })
}

/// One row's text: attributes, tree guides, name (and link target).
pub fn row_text(ex: &Explorer, n: NodeId) -> (String, ChangeMark) {
    let cx = ex.cx();
    let t = &ex.tree;
    let mark = t.mark(cx, n);
    let mut v = t.version(cx, n);
    if mark == ChangeMark::Removed && ex.layer > 0 {
        // a removed path shows what it was
        v = ex.analysis.merged.state_at(n, ex.layer - 1);
    }
    let e = v.and_then(|v| entry_of(&ex.image, v));
    let mut s = String::new();
    let is_dir = t.is_dir(cx, n);
    if t.show_attrs {
        let perms = match e {
            Some(e) => permissions(e.kind, e.mode),
            None if is_dir => "drwxr-xr-x".into(),
            None => "----------".into(),
        };
        let owner = e
            .map(|e| format!("{}:{}", e.uid, e.gid))
            .unwrap_or_else(|| "0:0".into());
        s.push_str(&format!("{perms} {owner:>7} "));
    }
    s.push_str(&format!("{:>8} ", human(t.size(cx, n))));
    let (chain, more) = t.guides(cx, n);
    for c in chain {
        s.push_str(if c { "│   " } else { "    " });
    }
    s.push_str(if more { "├── " } else { "└── " });
    s.push_str(ex.image.paths.name(n));
    if is_dir && t.is_collapsed(n) {
        s.push_str("/…");
    } else if is_dir {
        s.push('/');
    }
    s.push_str(&t.link_suffix(cx, n));
    (s, mark)
}

fn chunks(s: &str, w: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    if w == 0 || chars.len() <= w {
        return vec![s.to_string()];
    }
    chars.chunks(w).map(|c| c.iter().collect()).collect()
}

pub fn render(f: &mut Frame, area: Rect, list: Rect, ex: &Explorer) {
    let focused = ex.focus == Focus::Tree;
    let layer = ex.layer.to_string();
    let title = match ex.tree.mode {
        LayerMode::Aggregated => S::fill(S::TREE_TITLE_AGGREGATED, &[("n", &layer)]),
        LayerMode::ChangesOnly => S::fill(S::TREE_TITLE_CHANGES, &[("n", &layer)]),
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme::border(focused))
        .title_bottom(legend(ex));
    if let Some(l) = filter_title(ex.filter_input.as_deref(), ex.tree.filter_pattern()) {
        block = block.title_bottom(l);
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let header = if ex.tree.show_attrs {
        let h = S::TREE_HEADER_ATTRS;
        format!("{:<10} {:>7} {:>8} {}", h[0], h[1], h[2], h[3])
    } else {
        let h = S::TREE_HEADER_PLAIN;
        format!("{:>8} {}", h[0], h[1])
    };
    f.render_widget(
        Paragraph::new(Line::styled(header, theme::header())),
        Rect::new(inner.x, inner.y, inner.width, 1),
    );
    let cx = ex.cx();
    let rows = ex.tree.rows(cx);
    if rows.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled(S::TREE_EMPTY, theme::dim())),
            list,
        );
        return;
    }
    let mut lines = Vec::with_capacity(list.height as usize);
    for n in rows {
        let (text, mark) = row_text(ex, n);
        let mut style = theme::mark(mark);
        if n == ex.tree.cursor {
            style = style.patch(theme::selected(focused));
        } else if ex.tree.wasted_only && ex.tree.carries_waste(n) {
            style = style.patch(Style::new().add_modifier(Modifier::BOLD));
        }
        if ex.tree.wrap {
            for c in chunks(&text, list.width as usize) {
                lines.push(Line::styled(c, style));
            }
        } else {
            lines.push(Line::styled(text, style));
        }
    }
    lines.truncate(list.height as usize);
    f.render_widget(Paragraph::new(lines), list);
}
