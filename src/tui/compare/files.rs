//! The compare view's diff tree pane: every path that differs between A's and B's final
//! filesystems, under its directories, with B − A, bytes in and bytes out (a directory's are
//! the sums below it), coloured by change; a change of mode or owner only says so.

use super::CompareView;
use super::{difftree::mark_of, CompareFocus};
use crate::analysis::compare::{FileChange, FileState, FileStatus};
use crate::tree::ChangeMark;
use crate::tui::file_tree::{filter_title, legend_spans};
use crate::tui::strings as S;
use crate::tui::theme;
use crate::tui::treeview::SortOrder;
use crate::units::{human_bytes, human_delta};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// What changed at a modified path: `mode 0644 → 0600`, `type file → dir`, `content`, …
pub fn details(c: &FileChange) -> String {
    let (Some(a), Some(b)) = (&c.a, &c.b) else {
        return String::new();
    };
    let one = |what: &str, a: &FileState, b: &FileState| -> String {
        match what {
            "type" => format!("type {} → {}", a.kind.name(), b.kind.name()),
            "mode" => format!("mode {:04o} → {:04o}", a.mode, b.mode),
            "owner" => format!("owner {}:{} → {}:{}", a.uid, a.gid, b.uid, b.gid),
            "link" => format!("link {} → {}", a.link, b.link),
            other => other.to_string(),
        }
    };
    c.changed
        .iter()
        .map(|w| one(w.as_str(), a, b))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mark_char(m: Option<ChangeMark>) -> char {
    match m {
        Some(ChangeMark::Added) => S::CMP_MARK_CHARS[0],
        Some(ChangeMark::Modified) => S::CMP_MARK_CHARS[1],
        Some(ChangeMark::Removed) => S::CMP_MARK_CHARS[2],
        Some(ChangeMark::Unchanged) => S::CMP_MARK_CHARS[3],
        None => ' ',
    }
}

/// One row's text and mark (None: a directory that only holds changes).
pub fn row_text(cv: &CompareView, r: &super::difftree::Row) -> (String, Option<ChangeMark>) {
    let files = &cv.c.files;
    let node = &files.tree[r.node];
    let change = node.change.map(|i| &files.changes[i]);
    let mark = change.map(mark_of);
    let ro = &node.rollup;
    let mut s = format!(
        "{} {:>9} {:>8} {:>8} {}{}",
        mark_char(mark),
        human_delta(ro.delta_bytes),
        human_bytes(ro.added_bytes),
        human_bytes(ro.removed_bytes),
        cv.tree.guides(r),
        node.name
    );
    if node.is_dir {
        s.push_str(if r.has_children && cv.tree.is_collapsed(r.node) {
            "/…"
        } else {
            "/"
        });
    }
    let mut notes = Vec::new();
    if let Some(c) = change {
        if c.status == FileStatus::Modified {
            notes.push(details(c));
        }
    }
    if r.has_children {
        let mut counts = Vec::new();
        for (n, ch) in [
            (ro.added, S::CMP_MARK_CHARS[0]),
            (ro.removed, S::CMP_MARK_CHARS[2]),
            (ro.modified, S::CMP_MARK_CHARS[1]),
        ] {
            if n > 0 {
                counts.push(format!("{ch}{n}"));
            }
        }
        notes.push(counts.join(" "));
    }
    notes.retain(|n| !n.is_empty());
    if !notes.is_empty() {
        s.push_str("  ");
        s.push_str(&notes.join("  "));
    }
    (s, mark)
}

/// The explorer's colours, and the compare view's own for a mode/owner-only change.
fn mark_style(m: ChangeMark) -> Style {
    match m {
        ChangeMark::Unchanged => theme::metadata(),
        m => theme::mark(m),
    }
}

pub fn render(f: &mut Frame, area: Rect, list: Rect, cv: &CompareView) {
    let focused = cv.focus == CompareFocus::Files;
    let t = &cv.c.files.totals();
    let title = S::fill(
        S::CMP_FILES_TITLE,
        &[
            ("n", &t.changes().to_string()),
            ("in", &human_bytes(t.added_bytes)),
            ("out", &human_bytes(t.removed_bytes)),
        ],
    );
    let mut legend = legend_spans(&cv.tree.hide, &S::CMP_LEGEND, mark_style);
    legend.push(Span::styled(
        if cv.tree.sort == SortOrder::Name {
            S::CMP_SORT_NAME
        } else {
            S::CMP_SORT_IMPACT
        },
        theme::label(),
    ));
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(theme::border(focused))
        .title_bottom(Line::from(legend));
    if let Some(l) = filter_title(
        cv.filter_input.as_deref(),
        cv.tree.filter_pattern(),
        cv.tree.filter_match_count(),
        (area.width as usize).saturating_sub(3),
    ) {
        block = block.title_bottom(l);
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let h = S::CMP_FILES_HEADER;
    f.render_widget(
        Paragraph::new(Line::styled(
            format!("  {:>9} {:>8} {:>8} {}", h[0], h[1], h[2], h[3]),
            theme::header(),
        )),
        Rect::new(inner.x, inner.y, inner.width, 1),
    );
    let rows = cv.tree.visible_rows();
    if rows.is_empty() {
        let msg = if cv.c.files.changes.is_empty() {
            S::CMP_NO_CHANGES
        } else {
            S::TREE_EMPTY
        };
        f.render_widget(Paragraph::new(Line::styled(msg, theme::dim())), list);
        return;
    }
    let mut lines = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let (text, mark) = row_text(cv, r);
        let mut style = mark.map(mark_style).unwrap_or_default();
        if cv.tree.top + i == cv.tree.cursor {
            style = style.patch(theme::selected(focused));
        }
        lines.push(Line::styled(text, style));
    }
    f.render_widget(Paragraph::new(lines), list);
}
