//! The `?` overlay: every binding of the view's key map, grouped by where it works, flowed into
//! as many columns as fit; when that is still too tall (80x24) it scrolls with the move keys.

use super::cut::wrap;
use super::keys::{self, Scope};
use super::strings as S;
use super::theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

/// Narrowest column, used when the text would not fit the height otherwise.
const COL_W: u16 = 46;

/// Columns a binding's line takes unwrapped: the key column and the longest help text.
fn natural_w(scopes: &[Scope]) -> u16 {
    let longest = keys::active()
        .iter()
        .filter(|b| scopes.contains(&b.scope))
        .map(|b| b.help.chars().count())
        .max()
        .unwrap_or(0);
    (key_w() + longest + 2) as u16
}

/// Width of the key column: the longest key label, and a space.
fn key_w() -> usize {
    keys::active()
        .iter()
        .map(|b| keys::keys_label(b).chars().count())
        .max()
        .unwrap_or(0)
        + 1
}

/// The overlay's lines for columns `col_w` wide: long help texts and notes wrap.
fn lines(scopes: &[Scope], col_w: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for scope in scopes {
        let i = Scope::ALL.iter().position(|s| s == scope).unwrap_or(0);
        let (_, title) = S::HELP_SCOPES[i];
        let bs: Vec<_> = keys::active()
            .iter()
            .filter(|b| b.scope == *scope)
            .collect();
        if bs.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.push(Line::styled(title.to_string(), theme::header()));
        for b in bs {
            let kw = key_w();
            let text = wrap(b.help, col_w.saturating_sub(kw + 1).max(10));
            for (j, t) in text.into_iter().enumerate() {
                let key = if j == 0 {
                    keys::keys_label(b)
                } else {
                    String::new()
                };
                out.push(Line::from(vec![
                    Span::styled(format!("{key:>w$} ", w = kw - 1), theme::label()),
                    Span::raw(t),
                ]));
            }
        }
    }
    out.push(Line::raw(""));
    for note in [S::HELP_WASTE, S::HELP_MOUSE, S::HELP_TYPE] {
        for t in wrap(note, col_w.saturating_sub(1)) {
            out.push(Line::styled(t, theme::dim()));
        }
    }
    out
}

/// Where the overlay goes and how its text is laid out for a screen size.
struct Geometry {
    /// The whole screen: nothing of the panes below shows through.
    popup: Rect,
    inner: Rect,
    col_w: u16,
    /// The text, split into columns of about equal length.
    columns: Vec<Vec<Line<'static>>>,
    /// How far the text can scroll (0: everything fits).
    max_scroll: usize,
}

/// `all` in `n` columns of about equal length, each starting at a section when one begins
/// near its share (a blank line at a column's top is dropped).
fn split(all: Vec<Line<'static>>, n: usize) -> Vec<Vec<Line<'static>>> {
    let blank = |l: &Line| l.spans.iter().all(|s| s.content.trim().is_empty());
    let share = all.len().div_ceil(n.max(1));
    let mut cols: Vec<Vec<Line<'static>>> = vec![Vec::new()];
    let total = all.len();
    for (i, l) in all.into_iter().enumerate() {
        let len = cols.last().map(Vec::len).unwrap_or(0);
        let left = total - i;
        // a section starts here and this column has (nearly) its share: go on in the next
        let start_next = cols.len() < n
            && len > 0
            && (len >= share || (blank(&l) && len + 4 >= share && left > 4));
        if start_next {
            cols.push(Vec::new());
        }
        if let Some(c) = cols.last_mut() {
            if !(c.is_empty() && blank(&l)) {
                c.push(l);
            }
        }
    }
    cols
}

fn geometry(area: Rect, scopes: &[Scope]) -> Geometry {
    let popup = area;
    let inner = Rect::new(
        popup.x + 1,
        popup.y + 1,
        popup.width.saturating_sub(2),
        popup.height.saturating_sub(2),
    );
    // as many columns as hold a binding's line unwrapped, so the text spreads over the whole
    // width; more (down to COL_W wide) when that is still too tall
    let h = inner.height.max(1) as usize;
    let most = (inner.width / COL_W).max(1);
    let mut ncols = (inner.width / natural_w(scopes)).clamp(1, most);
    let layout = |n: u16| {
        let col_w = inner.width / n;
        (
            col_w,
            split(lines(scopes, col_w.saturating_sub(1) as usize), n as usize),
        )
    };
    let (mut col_w, mut columns) = layout(ncols);
    while ncols < most && columns.iter().map(Vec::len).max().unwrap_or(0) > h {
        ncols += 1;
        (col_w, columns) = layout(ncols);
    }
    let per_col = columns.iter().map(Vec::len).max().unwrap_or(0);
    Geometry {
        popup,
        inner,
        col_w,
        columns,
        max_scroll: per_col.saturating_sub(h),
    }
}

/// How far the help can scroll at this size (0 when it fits).
pub fn max_scroll(area: Rect, scopes: &[Scope]) -> usize {
    geometry(area, scopes).max_scroll
}

pub fn render(f: &mut Frame, area: Rect, scopes: &[Scope], scroll: usize) {
    let g = geometry(area, scopes);
    let scroll = scroll.min(g.max_scroll);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(S::HELP_TITLE)
        .border_style(theme::border(true));
    if g.max_scroll > 0 {
        let hint = if scroll < g.max_scroll {
            S::HELP_MORE
        } else {
            S::HELP_TOP
        };
        block = block.title_bottom(Line::styled(hint, theme::warn()).right_aligned());
    }
    f.render_widget(Clear, g.popup);
    f.render_widget(block, g.popup);
    let h = g.inner.height as usize;
    for (c, col) in g.columns.iter().enumerate() {
        let r = Rect::new(
            g.inner.x + c as u16 * g.col_w,
            g.inner.y,
            g.col_w.saturating_sub(1),
            g.inner.height,
        );
        let shown: Vec<Line> = col.iter().skip(scroll).take(h).cloned().collect();
        f.render_widget(Paragraph::new(shown), r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_80x24_the_help_scrolls_to_its_last_note() {
        let area = Rect::new(0, 0, 80, 24);
        let m = max_scroll(area, Scope::EXPLORER);
        assert!(m > 0, "the explorer's help is taller than 20 lines");
        let g = geometry(area, Scope::EXPLORER);
        // scrolled to the end, the last line shown is the last line of the longest column
        let longest = g.columns.iter().map(Vec::len).max().unwrap();
        assert_eq!(m + g.inner.height as usize, longest);
        // at 200x50 it fits in columns: nothing to scroll
        assert_eq!(max_scroll(Rect::new(0, 0, 200, 50), Scope::EXPLORER), 0);
    }
}
