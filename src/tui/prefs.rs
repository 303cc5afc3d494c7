//! The explorer's settings from the config file (`config_file` reads and checks them): the
//! theme, the key map, and how a new explorer starts (attributes, sort, hidden marks, layer
//! mode, the layer pane's width). Installed once per thread before the explorer runs, as the
//! theme and the key map are.

use super::keys::{self, Binding};
use super::state::Explorer;
use super::theme::{self, ThemeName};
use super::treeview::{mark_index, LayerMode, SortOrder};
use crate::tree::ChangeMark;
use std::cell::Cell;

/// How a new explorer starts; the defaults are the explorer without a config file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Start {
    /// Attribute columns on or off (None: shown when the tree is wide enough).
    pub attrs: Option<bool>,
    pub sort: SortOrder,
    /// Hidden change marks, by [`mark_index`].
    pub hide: [bool; 4],
    pub mode: LayerMode,
    /// The left column's (layers, details) share of the width, in percent (None: fitted to
    /// the layer commands).
    pub layer_pane_percent: Option<u16>,
}

impl Default for Start {
    fn default() -> Start {
        Start {
            attrs: None,
            sort: SortOrder::Name,
            hide: [false; 4],
            mode: LayerMode::Aggregated,
            layer_pane_percent: None,
        }
    }
}

impl Start {
    /// Set up a new explorer's tree as configured; the explorer's first layer selection
    /// refreshes the tree with them.
    pub fn apply(&self, ex: &mut Explorer) {
        let t = &mut ex.tree;
        t.attrs = self.attrs;
        t.hide = self.hide;
        t.sort = self.sort;
        t.mode = self.mode;
    }

    pub fn hide_mark(&mut self, m: ChangeMark) {
        self.hide[mark_index(m)] = true;
    }
}

/// Everything the config file sets for the explorer.
#[derive(Clone, Debug, Default)]
pub struct Prefs {
    /// None: `no-color` when `NO_COLOR` is set, else `dark`.
    pub theme: Option<ThemeName>,
    /// The key map with the file's bindings (None: the default map).
    pub keys: Option<Vec<Binding>>,
    pub start: Start,
}

thread_local! {
    static START: Cell<Start> = Cell::new(Start::default());
}

/// How a new explorer on this thread starts.
pub fn start() -> Start {
    START.with(|s| s.get())
}

/// Use `p` for the explorer on this thread: its theme, key map and start.
pub fn install(p: &Prefs) {
    let name = p
        .theme
        .unwrap_or_else(|| ThemeName::default_for(std::env::var_os("NO_COLOR").as_deref()));
    theme::set(name.theme());
    match &p.keys {
        Some(map) => keys::install(map.clone()),
        None => keys::reset(),
    }
    START.with(|s| s.set(p.start));
}
