//! The File tree pane: the merged filesystem at the selected layer (or only that layer's
//! changes), with permissions, owner, size and name, coloured by change mark. Draws only the
//! rows on screen, asking the tree model for them one by one.

use super::cut;
use super::state::{human, Explorer, Focus};
use super::strings as S;
use super::theme;
use super::treeview::{continuation_indent, mark_index, permissions, LayerMode, SortOrder};
use crate::paths::NodeId;
use crate::text_fit;
use crate::tree::{entry_of, ChangeMark};
use ratatui::layout::Rect;
use ratatui::style::Style;
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
            style = style.patch(theme::hidden());
            text.push_str(S::LEGEND_HIDDEN_SUFFIX);
        }
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    spans
}

/// The legend in `room` columns: with the full words, else the short ones (at 80 columns the
/// pane is 40 wide), else none (never cut without a sign).
fn legend(ex: &Explorer, room: usize) -> Option<Line<'static>> {
    [&S::LEGEND, &S::LEGEND_SHORT]
        .into_iter()
        .find_map(|labels| {
            let mut spans = legend_spans(&ex.tree.hide, labels, theme::mark);
            if ex.tree.wasted_only {
                spans.push(Span::styled(S::WASTED_ONLY, theme::waste()));
            }
            if ex.tree.sort == SortOrder::SizeDesc {
                spans.push(Span::styled(S::SORT_SIZE, theme::label()));
            }
            let line = Line::from(spans);
            (line.width() <= room).then_some(line)
        })
}

/// The filter at the bottom right: being typed (with a cursor), or in force; with how many
/// paths it matches (its own place: the key bar's messages come and go). In `room` columns:
/// the hint, then the count give way before the pattern is cut.
pub fn filter_title(
    input: Option<&str>,
    active: Option<&str>,
    matches: Option<usize>,
    room: usize,
) -> Option<Line<'static>> {
    let count = matches
        .map(|n| {
            format!(
                "· {} ",
                S::fill(S::FILTER_MATCHES, &[("n", &n.to_string())])
            )
        })
        .unwrap_or_default();
    let (label, pattern, hint) = match (input, active) {
        (Some(p), _) => (S::FILTER_PROMPT, format!("{p}▏ "), String::new()),
        (None, Some(p)) => (
            S::FILTER_ACTIVE,
            format!("{p} "),
            format!("· {} ", S::FILTER_KEPT_HINT),
        ),
        (None, None) => return None,
    };
    let fits = |parts: &[&str]| {
        cut::width(label) + parts.iter().map(|p| cut::width(p)).sum::<usize>() <= room
    };
    let tail = if fits(&[&pattern, &count, &hint]) {
        format!("{pattern}{count}{hint}")
    } else if fits(&[&pattern, &count]) {
        format!("{pattern}{count}")
    } else {
        text_fit::truncate(&pattern, room.saturating_sub(cut::width(label)))
    };
    Some(Line::from(vec![Span::styled(label, theme::warn()), Span::raw(tail)]).right_aligned())
}

/// One row's text: attributes, tree guides, name (and link target).
pub fn row_text(ex: &Explorer, n: NodeId) -> (String, ChangeMark) {
    let cx = ex.cx();
    let t = &ex.tree;
    let mark = t.mark(cx, n);
    let mut s = String::new();
    let is_dir = t.is_dir(cx, n);
    if t.shows_attrs() {
        let (perms, owner) = attributes(ex, n);
        s.push_str(&format!("{perms} {owner:>7} "));
    }
    s.push_str(&format!("{:>8} ", human(t.shown_size(cx, n))));
    let (chain, more) = t.guides(cx, n);
    for c in chain {
        s.push_str(if c { "│   " } else { "    " });
    }
    s.push_str(if more { "├── " } else { "└── " });
    // a name is the image's: a terminal would obey an ESC or CR in it
    s.push_str(&text_fit::escape_controls(ex.image.paths.name(n)));
    if is_dir && t.is_collapsed(n) {
        s.push_str("/…");
    } else if is_dir {
        s.push('/');
    }
    s.push_str(&t.link_suffix(cx, n));
    (s, mark)
}

/// Permission string and `uid:gid` of a row (what a removed path was).
fn attributes(ex: &Explorer, n: NodeId) -> (String, String) {
    let cx = ex.cx();
    let t = &ex.tree;
    let mut v = t.version(cx, n);
    if t.mark(cx, n) == ChangeMark::Removed && ex.layer > 0 {
        v = ex.analysis.merged.state_at(n, ex.layer - 1);
    }
    let e = v.and_then(|v| entry_of(&ex.image, v));
    let perms = match e {
        Some(e) => permissions(e.kind, e.mode),
        None if t.is_dir(cx, n) => "drwxr-xr-x".into(),
        None => "----------".into(),
    };
    let owner = e
        .map(|e| format!("{}:{}", e.uid, e.gid))
        .unwrap_or_else(|| "0:0".into());
    (perms, owner)
}

/// A row's text in lines of `w` columns, continuation lines starting under the name.
fn wrap_row(s: &str, indent: usize, w: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    if w == 0 || chars.len() <= w {
        return vec![s.to_string()];
    }
    let indent = continuation_indent(indent, w);
    let mut out = vec![chars[..w].iter().collect::<String>()];
    for c in chars[w..].chunks(w - indent) {
        out.push(format!(
            "{}{}",
            " ".repeat(indent),
            c.iter().collect::<String>()
        ));
    }
    out
}

/// The line under the rows: the cursor's attributes, its whole size, and what the size
/// column shows instead when a filter or `w` narrows it.
fn details_line(ex: &Explorer, w: usize) -> Line<'static> {
    let cx = ex.cx();
    let t = &ex.tree;
    let n = t.cursor;
    if n == crate::paths::ROOT {
        return Line::default();
    }
    let mut text = S::fill(S::TREE_DETAIL_SIZE, &[("size", &human(t.size(cx, n)))]);
    if t.size_is_partial() {
        let what = if t.wasted_only {
            S::TREE_DETAIL_WASTED
        } else {
            S::TREE_DETAIL_MATCHING
        };
        text.push_str(&S::fill(what, &[("size", &human(t.shown_size(cx, n)))]));
    }
    let (perms, owner) = attributes(ex, n);
    text.push_str(&format!(" · {perms} {owner}"));
    if let Some(v) = t
        .version(cx, n)
        .filter(|v| v.entry != crate::tree::IMPLICIT)
    {
        text.push_str(&S::fill(
            S::TREE_DETAIL_LAYER,
            &[("n", &v.layer.to_string())],
        ));
    }
    Line::styled(text_fit::truncate(&text, w), theme::label())
}

/// Columns the cursor's path gets in the title before the title itself is shortened.
const TITLE_PATH_MIN: usize = 24;

/// The cursor's full path for the title (its middle cut when it does not fit).
fn cursor_title(ex: &Explorer, room: usize) -> Option<Line<'static>> {
    let mut p = text_fit::escape_controls(&ex.cursor_path()?).into_owned();
    if ex.tree.is_dir(ex.cx(), ex.tree.cursor) {
        p.push('/');
    }
    (room > 8).then(|| {
        Line::styled(
            format!(" {} ", text_fit::middle_cut_path(&p, room - 2)),
            theme::label(),
        )
        .right_aligned()
    })
}

pub fn render(f: &mut Frame, area: Rect, list: Rect, ex: &Explorer) {
    let focused = ex.focus == Focus::Tree;
    let layer = ex.layer.to_string();
    let (long, short) = match ex.tree.mode {
        LayerMode::Aggregated => (S::TREE_TITLE_AGGREGATED, S::TREE_TITLE_AGGREGATED_SHORT),
        LayerMode::ChangesOnly => (S::TREE_TITLE_CHANGES, S::TREE_TITLE_CHANGES_SHORT),
    };
    // the long title while the cursor's path keeps a fair room beside it
    let path_w = ex
        .cursor_path()
        .map(|p| cut::width(&text_fit::escape_controls(&p)) + 3)
        .unwrap_or(0);
    let mut title = S::fill(long, &[("n", &layer)]);
    if cut::width(&title) + 4 + path_w.min(TITLE_PATH_MIN) > area.width as usize {
        title = S::fill(short, &[("n", &layer)]);
    }
    let room = (area.width as usize).saturating_sub(cut::width(&title) + 4);
    let filter = filter_title(
        ex.filter_input.as_deref(),
        ex.tree.filter_pattern(),
        ex.tree.filter_match_count(),
        (area.width as usize).saturating_sub(3),
    );
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme::border(focused));
    // the legend gives way to the filter when both do not fit
    let legend_room =
        (area.width as usize).saturating_sub(2 + filter.as_ref().map_or(0, |f| f.width() + 1));
    if let Some(legend) = legend(ex, legend_room) {
        block = block.title_bottom(legend);
    }
    if let Some(p) = cursor_title(ex, room) {
        block = block.title(p);
    }
    if let Some(l) = filter {
        block = block.title_bottom(l);
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let header = if ex.tree.shows_attrs() {
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
    if inner.height > 2 {
        f.render_widget(
            Paragraph::new(details_line(ex, inner.width as usize)),
            Rect::new(inner.x, inner.y + inner.height - 1, inner.width, 1),
        );
    }
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
            style = style.patch(theme::emphasis());
        }
        if ex.tree.wrap {
            let indent = ex.tree.row_prefix_width(cx, n);
            for c in wrap_row(&text, indent, list.width as usize) {
                lines.push(Line::styled(c, style));
            }
        } else {
            // a name deeper than the pane is wide is cut with a sign, never silently
            lines.push(Line::styled(
                text_fit::truncate(&text, list.width as usize),
                style,
            ));
        }
    }
    lines.truncate(list.height as usize);
    f.render_widget(Paragraph::new(lines), list);
}
