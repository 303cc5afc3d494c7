//! The compare view: `bathy compare A B` on a terminal. A headline bar with both images'
//! numbers and the deltas, the two layer stacks side by side, and the diff tree of the final
//! filesystems, with the explorer's keys where they make sense.
//!
//! Built as the explorer's views are (see `tui/mod.rs`): scopes and bindings in `keys`, strings
//! in `strings`, one file per pane (`headline`, `layers`, `files`), state changed only by
//! [`update`]. It holds the [`Comparison`] alone: the images are dropped once diffed.

pub mod difftree;
pub mod files;
pub mod headline;
pub mod layers;

use super::keys::{Action, Scope};
use crate::analysis::compare::{Comparison, LayerPair, LayerRow, LayerStatus};
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use difftree::DiffTree;
use ratatui::layout::{Position, Rect};
use ratatui::Frame;

/// The panes that take focus, in `Tab` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareFocus {
    Layers,
    Files,
}

/// What a loaded comparison brings to the view.
pub struct Compared {
    pub comparison: Comparison,
    /// The loaders' notes on either image (`A: holds 2 images; …`), for the status line.
    pub notes: Vec<String>,
}

/// How a row of the layers pane relates A and B: one of the shared prefix, or a pair after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerKind {
    Shared,
    Pair(LayerStatus),
}

/// One row of the layers pane.
pub struct LayerLine<'a> {
    pub kind: LayerKind,
    pub a: Option<&'a LayerRow>,
    pub b: Option<&'a LayerRow>,
    pub delta: i64,
}

pub struct CompareView {
    pub c: Comparison,
    pub focus: CompareFocus,
    /// Selected row of the layers pane.
    pub layer_sel: usize,
    pub tree: DiffTree,
    /// The filter being typed (None: not typing).
    pub filter_input: Option<String>,
}

/// Where each pane goes for a terminal size; drawing and mouse handling both use it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub headline: Rect,
    pub layers: Rect,
    pub files: Rect,
    /// The diff tree's rows (inside its border, below its header).
    pub files_list: Rect,
    pub keybar: Rect,
}

/// Lines of the layers pane below its rows: the selected row's full commands.
pub const COMMAND_LINES: u16 = 2;

pub fn areas(size: Rect, cv: &CompareView) -> Areas {
    let keybar = Rect::new(
        size.x,
        size.y + size.height.saturating_sub(1),
        size.width,
        1.min(size.height),
    );
    let main_h = size.height.saturating_sub(1);
    let head_h = headline::height(size.width, &cv.c).min(main_h / 3);
    let rest = main_h.saturating_sub(head_h);
    let rows = cv.layer_lines().len() as u16;
    // border, header, rows, commands
    let layers_h = (rows + 3 + COMMAND_LINES).min((rest / 2).max(6)).min(rest);
    let files_h = rest - layers_h;
    let headline = Rect::new(size.x, size.y, size.width, head_h);
    let layers = Rect::new(size.x, size.y + head_h, size.width, layers_h);
    let files = Rect::new(size.x, size.y + head_h + layers_h, size.width, files_h);
    let files_list = Rect::new(
        files.x + 1,
        files.y + 2,
        files.width.saturating_sub(2),
        files.height.saturating_sub(3),
    );
    Areas {
        headline,
        layers,
        files,
        files_list,
        keybar,
    }
}

impl CompareView {
    pub fn new(c: Comparison) -> CompareView {
        let tree = DiffTree::new(&c.files);
        CompareView {
            c,
            // the file diff is what a comparison is about
            focus: CompareFocus::Files,
            layer_sel: 0,
            tree,
            filter_input: None,
        }
    }

    pub fn scope(&self) -> Scope {
        if self.filter_input.is_some() {
            return Scope::Filter;
        }
        match self.focus {
            CompareFocus::Layers => Scope::CompareLayers,
            CompareFocus::Files => Scope::CompareTree,
        }
    }

    /// The layers pane's rows: the shared prefix, then the pairs after it.
    pub fn layer_lines(&self) -> Vec<LayerLine<'_>> {
        let l = &self.c.layers;
        let shared = l.shared.iter().map(|r| LayerLine {
            kind: LayerKind::Shared,
            a: Some(r),
            b: Some(r),
            delta: 0,
        });
        let pairs = l.rows.iter().map(|p: &LayerPair| LayerLine {
            kind: LayerKind::Pair(p.status),
            a: p.a.as_ref(),
            b: p.b.as_ref(),
            delta: p.delta_bytes(),
        });
        shared.chain(pairs).collect()
    }

    pub fn set_viewport(&mut self, areas: &Areas) {
        let h = areas.files_list.height as usize;
        if self.tree.view_h != h {
            self.tree.view_h = h;
            self.tree.scroll();
        }
    }

    /// The path under the tree cursor.
    pub fn cursor_path(&self) -> Option<String> {
        self.tree.cursor_node().map(|n| self.c.files.path(n))
    }

    fn move_by(&mut self, delta: isize) {
        match self.focus {
            CompareFocus::Layers => {
                let n = self.layer_lines().len() as isize;
                self.layer_sel =
                    (self.layer_sel as isize + delta).clamp(0, (n - 1).max(0)) as usize;
            }
            CompareFocus::Files => self.tree.move_by(delta),
        }
    }

    fn page(&self, areas: &Areas) -> isize {
        let h = match self.focus {
            CompareFocus::Layers => areas.layers.height.saturating_sub(3 + COMMAND_LINES),
            CompareFocus::Files => areas.files_list.height,
        };
        (h as isize - 1).max(1)
    }
}

/// Apply one action to the compare view (quit and help are the app's). Returns a status
/// message, if the action has one.
pub fn update(cv: &mut CompareView, action: Action, areas: &Areas) -> Option<String> {
    let files = &cv.c.files;
    match action {
        Action::NextPane | Action::PrevPane => {
            cv.focus = match cv.focus {
                CompareFocus::Layers => CompareFocus::Files,
                CompareFocus::Files => CompareFocus::Layers,
            }
        }
        Action::Up => cv.move_by(-1),
        Action::Down => cv.move_by(1),
        Action::PageUp => cv.move_by(-cv.page(areas)),
        Action::PageDown => cv.move_by(cv.page(areas)),
        Action::Home => match cv.focus {
            CompareFocus::Layers => cv.layer_sel = 0,
            CompareFocus::Files => cv.tree.home(),
        },
        Action::End => match cv.focus {
            CompareFocus::Layers => cv.layer_sel = cv.layer_lines().len().saturating_sub(1),
            CompareFocus::Files => cv.tree.end(),
        },
        Action::Left if cv.focus == CompareFocus::Files => cv.tree.left(files),
        Action::Right if cv.focus == CompareFocus::Files => cv.tree.right(files),
        Action::ToggleCollapse => cv.tree.toggle_collapse(files),
        Action::ToggleCollapseAll => cv.tree.toggle_collapse_all(files),
        Action::ToggleHide(m) => cv.tree.toggle_hide(files, m),
        Action::CycleSort | Action::SortBySize => cv.tree.toggle_sort(files),
        Action::StartFilter => {
            cv.focus = CompareFocus::Files;
            cv.filter_input = Some(cv.tree.filter_pattern().unwrap_or("").to_string());
        }
        Action::FilterInput(c) => {
            if let Some(s) = cv.filter_input.as_mut() {
                s.push(c);
                let p = s.clone();
                cv.tree.set_filter(files, &p);
            }
        }
        Action::FilterBackspace => {
            if let Some(s) = cv.filter_input.as_mut() {
                s.pop();
                let p = s.clone();
                cv.tree.set_filter(files, &p);
            }
        }
        Action::FilterDone => cv.filter_input = None,
        Action::FilterCancel => {
            cv.filter_input = None;
            cv.tree.set_filter(files, "");
        }
        // the explorer's own actions mean nothing here
        _ => {}
    }
    None
}

/// Mouse: a click focuses a pane and selects the row under it; the wheel scrolls.
pub fn mouse(cv: &mut CompareView, m: MouseEvent, areas: &Areas) {
    let pos = Position::new(m.column, m.row);
    let pane = if areas.layers.contains(pos) {
        CompareFocus::Layers
    } else if areas.files.contains(pos) {
        CompareFocus::Files
    } else {
        return;
    };
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            cv.focus = pane;
            cv.filter_input = None;
            match pane {
                CompareFocus::Layers => {
                    if let Some(i) = layers::line_at_row(cv, areas.layers, m.row) {
                        cv.layer_sel = i;
                    }
                }
                CompareFocus::Files => {
                    let l = areas.files_list;
                    if m.row >= l.y && m.row < l.y + l.height {
                        let i = cv.tree.top + (m.row - l.y) as usize;
                        if i < cv.tree.rows().len() {
                            cv.tree.cursor = i;
                        }
                    }
                }
            }
        }
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let step = if pane == CompareFocus::Files { 3 } else { 1 };
            let down = m.kind == MouseEventKind::ScrollDown;
            let prev = cv.focus;
            cv.focus = pane;
            cv.move_by(if down { step } else { -step });
            cv.focus = prev;
        }
        _ => {}
    }
}

pub fn draw(f: &mut Frame, size: Rect, cv: &CompareView) {
    let a = areas(size, cv);
    headline::render(f, a.headline, &cv.c);
    layers::render(f, a.layers, cv);
    files::render(f, a.files, a.files_list, cv);
}
