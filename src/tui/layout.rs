//! Where each pane goes for a terminal size. One function, used by drawing and by mouse
//! handling, so a click lands on what is drawn. Usable from 80x24 up.

use super::state::Explorer;
use super::treeview::{ATTRS_WIDTH, NAME_ROOM};
use ratatui::layout::Rect;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub layers: Rect,
    pub layer_details: Rect,
    pub image_details: Rect,
    pub tree: Rect,
    /// The tree's rows (inside its border, below its header).
    pub tree_list: Rect,
    pub keybar: Rect,
    /// "Why is it big", in place of the left column while open (else empty).
    pub why: Rect,
}

/// Rows of Image details that stay when Layer details grows (border, summary, a few paths).
const IMAGE_MIN_H: u16 = 9;
/// Lines of Layer details that stay when the left column is short (border and 4 lines).
const DETAILS_MIN_H: u16 = 6;

/// Width of the left column (layers, details): what the layer commands need, between 2/5 of
/// the screen (at least 40 columns) and what leaves the tree its attributes and
/// [`NAME_ROOM`] columns for names; wider while "why is it big" is open.
fn left_width(w: u16, ex: Option<&Explorer>) -> u16 {
    let min = (w * 2 / 5)
        .max(w.min(40))
        .min(w.saturating_sub(30).max(w / 2));
    let tree_need = (ATTRS_WIDTH + NAME_ROOM + 2) as u16;
    let max = w.saturating_sub(tree_need.max(w * 2 / 5)).max(min);
    let need = ex.map(super::layers::width_needed).unwrap_or(0) as u16;
    let mut left = match super::prefs::start().layer_pane_percent {
        // the config file's share, leaving each side at least 20 columns
        Some(p) => {
            let lo = w.min(20);
            ((w as u32 * p as u32 / 100) as u16).clamp(lo, w.saturating_sub(20).max(lo))
        }
        None => need.clamp(min, max),
    };
    if ex.is_some_and(|e| e.why_open) {
        // findings are long lines (size, category, layer, path, command): more room for them
        left = left.max(w * 11 / 20);
    }
    left
}

pub fn areas(size: Rect, ex: Option<&Explorer>) -> Areas {
    let keybar = Rect::new(
        size.x,
        size.y + size.height.saturating_sub(1),
        size.width,
        1.min(size.height),
    );
    let main = Rect::new(size.x, size.y, size.width, size.height.saturating_sub(1));
    let left_w = left_width(main.width, ex);
    let left = Rect::new(main.x, main.y, left_w, main.height);
    let tree = Rect::new(main.x + left_w, main.y, main.width - left_w, main.height);
    let rows = ex.map(super::layers::row_count).unwrap_or(1) as u16;
    let h = left.height;
    let layers_max = (h * 2 / 5).max(6);
    let layers_h = (rows + 3).min(layers_max).min(h);
    // Layer details grows to its text while Image details keeps its minimum
    let details_need = ex
        .map(|e| super::layer_details::line_count(e, left_w.saturating_sub(2)) as u16 + 2)
        .unwrap_or(DETAILS_MIN_H);
    let details_room = h
        .saturating_sub(layers_h + IMAGE_MIN_H)
        .max(DETAILS_MIN_H.min(h / 3));
    let details_h = details_need
        .min(details_room)
        .min(h.saturating_sub(layers_h));
    let image_h = h.saturating_sub(layers_h + details_h);
    let layers = Rect::new(left.x, left.y, left.width, layers_h);
    let layer_details = Rect::new(left.x, left.y + layers_h, left.width, details_h);
    let image_details = Rect::new(left.x, left.y + layers_h + details_h, left.width, image_h);
    let inner = Rect::new(
        tree.x + 1,
        tree.y + 1,
        tree.width.saturating_sub(2),
        tree.height.saturating_sub(2),
    );
    // below the header; the last line is the cursor's details
    let tree_list = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(2),
    );
    if ex.is_some_and(|e| e.why_open) {
        return Areas {
            tree,
            tree_list,
            keybar,
            why: left,
            ..Default::default()
        };
    }
    Areas {
        layers,
        layer_details,
        image_details,
        tree,
        tree_list,
        keybar,
        why: Rect::default(),
    }
}

/// A centered rectangle of at most `w` x `h`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
