//! The `?` overlay: every binding of the view's key map, grouped by where it works, flowed into
//! as many columns as fit; when that is still too tall (80x24) it scrolls with the move keys.

use super::keys::{self, Scope, BINDINGS};
use super::layout::centered;
use super::strings as S;
use super::theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

const COL_W: u16 = 46;
/// Width of the key column (`{:>12} `).
const KEY_W: usize = 13;

/// Words of `text` in lines of at most `w` characters (a longer word is cut).
fn wrap(text: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let (cl, wl) = (cur.chars().count(), word.chars().count());
        if cl > 0 && cl + 1 + wl > w {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
        while cur.chars().count() > w {
            let head: String = cur.chars().take(w).collect();
            cur = cur.chars().skip(w).collect();
            out.push(head);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The overlay's lines for columns `col_w` wide: long help texts and notes wrap.
fn lines(scopes: &[Scope], col_w: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for scope in scopes {
        let i = Scope::ALL.iter().position(|s| s == scope).unwrap_or(0);
        let (_, title) = S::HELP_SCOPES[i];
        let bs: Vec<_> = BINDINGS.iter().filter(|b| b.scope == *scope).collect();
        if bs.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.push(Line::styled(title.to_string(), theme::header()));
        for b in bs {
            let text = wrap(b.help, col_w.saturating_sub(KEY_W + 1).max(10));
            for (j, t) in text.into_iter().enumerate() {
                let key = if j == 0 {
                    keys::keys_label(b)
                } else {
                    String::new()
                };
                out.push(Line::from(vec![
                    Span::styled(format!("{key:>12} "), theme::label()),
                    Span::raw(t),
                ]));
            }
        }
    }
    out.push(Line::raw(""));
    for note in [S::HELP_MOUSE, S::HELP_TYPE] {
        for t in wrap(note, col_w.saturating_sub(1)) {
            out.push(Line::styled(t, theme::dim()));
        }
    }
    out
}

/// Where the overlay goes and how its text is laid out for a screen size.
struct Geometry {
    popup: Rect,
    inner: Rect,
    ncols: usize,
    col_w: u16,
    /// Lines per column.
    per_col: usize,
    /// How far the text can scroll (0: everything fits).
    max_scroll: usize,
}

fn geometry(area: Rect, scopes: &[Scope]) -> (Geometry, Vec<Line<'static>>) {
    let popup = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    let inner = Rect::new(
        popup.x + 1,
        popup.y + 1,
        popup.width.saturating_sub(2),
        popup.height.saturating_sub(2),
    );
    let ncols = (inner.width / COL_W).max(1) as usize;
    let col_w = inner.width / ncols as u16;
    let all = lines(scopes, col_w as usize);
    let h = inner.height.max(1) as usize;
    // fill columns top to bottom; when they overflow, split evenly and scroll them together
    let per_col = if all.len() <= h * ncols {
        h
    } else {
        all.len().div_ceil(ncols)
    };
    let max_scroll = per_col.saturating_sub(h);
    (
        Geometry {
            popup,
            inner,
            ncols,
            col_w,
            per_col,
            max_scroll,
        },
        all,
    )
}

/// How far the help can scroll at this size (0 when it fits).
pub fn max_scroll(area: Rect, scopes: &[Scope]) -> usize {
    geometry(area, scopes).0.max_scroll
}

pub fn render(f: &mut Frame, area: Rect, scopes: &[Scope], scroll: usize) {
    let (g, all) = geometry(area, scopes);
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
    for (c, chunk) in all.chunks(g.per_col.max(1)).take(g.ncols).enumerate() {
        let r = Rect::new(
            g.inner.x + c as u16 * g.col_w,
            g.inner.y,
            g.col_w,
            g.inner.height,
        );
        let shown: Vec<Line> = chunk.iter().skip(scroll).take(h).cloned().collect();
        f.render_widget(Paragraph::new(shown), r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_and_cuts_only_longer_ones() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert!(wrap("", 4).is_empty());
    }

    #[test]
    fn at_80x24_the_help_scrolls_to_its_last_note() {
        let area = Rect::new(0, 0, 80, 24);
        let m = max_scroll(area, Scope::EXPLORER);
        assert!(m > 0, "the explorer's help is taller than 20 lines");
        let (g, all) = geometry(area, Scope::EXPLORER);
        // scrolled to the end, the last line shown is the last line of the text
        assert_eq!(m + g.inner.height as usize, all.len());
        // at 200x50 it fits in columns: nothing to scroll
        assert_eq!(max_scroll(Rect::new(0, 0, 200, 50), Scope::EXPLORER), 0);
    }
}
