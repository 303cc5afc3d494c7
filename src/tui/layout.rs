//! Where each pane goes for a terminal size. One function, used by drawing and by mouse
//! handling, so a click lands on what is drawn. Usable from 80x24 up.

use super::state::Explorer;
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

/// Height of the layer details pane (border, digest, diff_id, created/entries, 3 command lines).
const DETAILS_H: u16 = 8;

pub fn areas(size: Rect, ex: Option<&Explorer>) -> Areas {
    let keybar = Rect::new(
        size.x,
        size.y + size.height.saturating_sub(1),
        size.width,
        1.min(size.height),
    );
    let main = Rect::new(size.x, size.y, size.width, size.height.saturating_sub(1));
    let mut left_w = (main.width * 2 / 5)
        .max(main.width.min(40))
        .min(main.width.saturating_sub(30).max(main.width / 2));
    if ex.is_some_and(|e| e.why_open) {
        // findings are long lines (size, category, layer, path, command): more room for them
        left_w = left_w.max(main.width * 11 / 20);
    }
    let left = Rect::new(main.x, main.y, left_w, main.height);
    let tree = Rect::new(main.x + left_w, main.y, main.width - left_w, main.height);
    let rows = ex
        .map(|e| {
            e.image
                .layers
                .iter()
                .map(|l| 1 + l.empty_history.len())
                .sum::<usize>()
        })
        .unwrap_or(1) as u16;
    let h = left.height;
    let details_h = DETAILS_H.min(h / 3);
    let layers_max = (h * 2 / 5).max(6);
    let layers_h = (rows + 3).min(layers_max).min(h.saturating_sub(details_h));
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
    let tree_list = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(1),
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
