//! The explorer's state and its one way of changing: `update(app, action)` (and `handle_event`
//! for raw terminal events). No terminal and no I/O here: side effects leave as [`Effect`]s
//! for the runner, so every key can be tested by feeding events and looking at the state.

use super::compare::{self as cmp, CompareView, Compared};
use super::keys::{self, Action, Scope};
use super::layout::{self, Areas};
use super::strings as S;
use super::treeview::{Ctx, Dir, LayerMode, SortOrder, TreeView};
use super::why::{WhyLine, WhyTarget};
use crate::analysis::why::WhyReport;
use crate::analysis::Analysis;
use crate::image::{EntryKind, Image};
use crate::paths::{NodeId, ROOT};
use crate::progress::Progress;
use crate::source::preview::Partial;
use crate::tree::entry_of;
use crate::units::human_bytes;
use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a message stays in the key bar (any key clears it sooner).
pub const STATUS_TTL: Duration = Duration::from_secs(6);
/// Keys kept while the image loads, applied once it is ready.
const PENDING_KEYS_MAX: usize = 256;

/// The panes that take focus, in `Tab` order (dive's: layers, then the tree).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Layers,
    Tree,
    Wasted,
    /// The "why is it big" pane, in place of the layers and details while open.
    Why,
}

impl Focus {
    pub const ORDER: [Focus; 3] = [Focus::Layers, Focus::Tree, Focus::Wasted];
    /// `Tab` order while "why is it big" is open.
    pub const WHY_ORDER: [Focus; 2] = [Focus::Why, Focus::Tree];
    pub fn scope(self) -> Scope {
        match self {
            Focus::Layers => Scope::Layers,
            Focus::Tree => Scope::Tree,
            Focus::Wasted => Scope::Wasted,
            Focus::Why => Scope::Why,
        }
    }
}

/// What reaches the main loop: terminal input, the loader's result, background messages.
pub enum AppEvent {
    Term(Event),
    Loaded(Box<Result<(Image, Analysis), String>>),
    /// The image so far (its first layers read), while the rest loads: the explorer opens on
    /// the first one and takes each later one in place, keeping the user's place.
    Partial(Box<(Partial, Analysis)>),
    /// "Why is it big" for the loaded image (computed after it, sent after `Loaded`).
    Why(Box<Result<WhyReport, String>>),
    /// The loaded image's layers opened for reading files (the viewer), or why they cannot be.
    Files(Box<super::viewer::LayerFilesResult>),
    /// `bathy compare`: both images loaded, analysed and diffed.
    Compared(Box<Result<Compared, String>>),
    Status(String),
    Tick,
}

/// Work `update` asks the runner to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Write the bytes of `path` as found in `layer` to `./name`.
    Extract {
        layer: usize,
        path: String,
        name: String,
        size: u64,
        /// Which entry of the layer holds them (as the image model numbers the layer's
        /// entries): with access points, the read seeks there instead of walking the layer.
        /// None: not known, the layer is walked to the path.
        entry: Option<usize>,
    },
}

/// One path of the Image details list: its true waste and dive's figures for it.
#[derive(Clone, Debug)]
pub struct WastedRow {
    pub path: String,
    pub node: Option<NodeId>,
    /// True waste: bytes of its copies nobody sees at the end.
    pub bytes: u64,
    /// Regular-file copies of the path shipped across all layers.
    pub copies: usize,
    /// dive's count and total for the path (0: dive does not list it).
    pub dive_count: usize,
    pub dive_bytes: u64,
    /// The first layer holding a wasted copy (else the first holding the path): where the
    /// jump goes.
    pub layer: usize,
}

/// The Image details list: every path with true waste or in dive's inefficient files, with
/// both figures; largest true waste first, then dive's largest.
fn wasted_rows(image: &Image, analysis: &Analysis) -> Vec<WastedRow> {
    let mut rows: Vec<WastedRow> = analysis
        .waste
        .wasted_paths(image)
        .into_iter()
        .map(|w| WastedRow {
            node: image.paths.lookup(&w.path),
            layer: w.layers.iter().copied().min().unwrap_or(usize::MAX),
            path: w.path,
            bytes: w.bytes,
            copies: 0,
            dive_count: 0,
            dive_bytes: 0,
        })
        .collect();
    let mut by_path: std::collections::HashMap<String, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.path.clone(), i))
        .collect();
    for f in &analysis.dive.inefficient_files {
        let i = *by_path.entry(f.path.clone()).or_insert_with(|| {
            rows.push(WastedRow {
                node: image.paths.lookup(&f.path),
                layer: usize::MAX,
                path: f.path.clone(),
                bytes: 0,
                copies: 0,
                dive_count: 0,
                dive_bytes: 0,
            });
            rows.len() - 1
        });
        rows[i].dive_count = f.count;
        rows[i].dive_bytes = f.cumulative_bytes;
    }
    let idx: std::collections::HashMap<NodeId, usize> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.node.map(|n| (n, i)))
        .collect();
    for l in &image.layers {
        for e in &l.entries {
            if let Some(&i) = idx.get(&e.node) {
                if e.kind == EntryKind::File {
                    rows[i].copies += 1;
                }
                if rows[i].layer == usize::MAX {
                    rows[i].layer = l.index;
                }
            }
        }
    }
    for r in &mut rows {
        if r.layer == usize::MAX {
            r.layer = 0;
        }
    }
    rows.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.dive_bytes.cmp(&a.dive_bytes))
            .then_with(|| a.path.cmp(&b.path))
    });
    rows
}

/// What the explorer shows while the image still loads: its first layers, the gauge.
pub struct Loading {
    pub progress: Arc<Progress>,
    /// Layers `0..loaded` are read and browsable (the run from the first one).
    pub loaded: usize,
    /// Per layer: parsed already (a later layer may finish before an earlier one).
    pub read: Vec<bool>,
}

impl Loading {
    /// How far the load is, in the words the status line uses (`45 %`, or bytes read when
    /// the total is unknown).
    pub fn percent(&self) -> String {
        let s = self.progress.snapshot();
        if s.bytes_total > 0 {
            let pct = (s.bytes_read as f64 * 100.0 / s.bytes_total as f64).min(100.0);
            format!("{pct:.0} %")
        } else {
            human_bytes(s.bytes_read)
        }
    }
}

/// A loaded image being explored (or its first layers, while the rest loads).
pub struct Explorer {
    pub image: Image,
    pub analysis: Analysis,
    pub focus: Focus,
    /// The selected layer.
    pub layer: usize,
    pub tree: TreeView,
    pub wasted: Vec<WastedRow>,
    pub wasted_sel: usize,
    /// The filter being typed (None: not typing).
    pub filter_input: Option<String>,
    /// "Why is it big" (None: still being computed) and its pane's lines.
    pub why: Option<Result<WhyReport, String>>,
    pub why_lines: Vec<WhyLine>,
    pub why_open: bool,
    pub why_sel: usize,
    /// Where `i` goes back to from Image details.
    pub focus_before_details: Focus,
    /// The tree's mode before a jump from "why is it big" changed it: restored on closing.
    pub mode_before_why: Option<LayerMode>,
    /// The file viewer, while open (src/tui/viewer.rs), and the layers it reads from (None:
    /// not sent by the loader yet).
    pub viewer: Option<Box<super::viewer::Viewer>>,
    pub layer_files: Option<super::viewer::LayerFilesResult>,
    /// Set while the image loads: `image` holds its first layers only.
    pub loading: Option<Loading>,
}

pub enum Screen {
    /// One gauge per image being loaded (two for a comparison).
    Loading {
        items: Vec<(String, Arc<Progress>)>,
    },
    Explore(Box<Explorer>),
    Compare(Box<CompareView>),
    Failed(String),
}

pub struct App {
    pub screen: Screen,
    pub size: Rect,
    pub help: bool,
    /// First line of the help shown (it scrolls when it does not fit).
    pub help_scroll: usize,
    pub quit: bool,
    /// The latest message, shown in the key bar until `status_until` or the next key.
    pub status: Option<String>,
    pub status_until: Option<Instant>,
    pub effects: Vec<Effect>,
    /// Keys typed while loading, applied when the image is ready.
    pub pending_keys: Vec<KeyEvent>,
    /// Frames drawn by the main loop (it draws on events and progress only).
    pub frames: u64,
    /// Redraw everything next frame (something else may have written to the terminal).
    pub clear: bool,
}

impl Explorer {
    pub fn new(image: Image, analysis: Analysis) -> Explorer {
        let cx = Ctx::new(&image, &analysis);
        let tree = TreeView::new(cx, &analysis);
        let wasted = wasted_rows(&image, &analysis);
        let mut ex = Explorer {
            image,
            analysis,
            focus: Focus::Layers,
            layer: 0,
            tree,
            wasted,
            wasted_sel: 0,
            filter_input: None,
            why: None,
            why_lines: Vec::new(),
            why_open: false,
            why_sel: 0,
            focus_before_details: Focus::Layers,
            mode_before_why: None,
            viewer: None,
            layer_files: None,
            loading: None,
        };
        super::prefs::start().apply(&mut ex);
        ex.select_layer(0);
        ex
    }

    /// The explorer on the first layers of an image still loading.
    pub fn partial(p: Partial, analysis: Analysis, progress: Arc<Progress>) -> Explorer {
        let loading = Loading {
            progress,
            loaded: p.loaded,
            read: p.read,
        };
        let mut ex = Explorer::new(p.image, analysis);
        // the whole-image figures wait for the whole image
        ex.wasted.clear();
        ex.loading = Some(loading);
        ex.select_layer(0);
        ex
    }

    /// Take a later state of the same image (more layers read, or all of them and the
    /// analyses): the user's layer, focus, tree cursor, scroll, marks, filter and open
    /// viewer stay as they are. Node ids of the layers read before are the same in the new
    /// image (see `source::preview`), so everything kept by node still points right.
    pub fn take_image(&mut self, image: Image, analysis: Analysis, loading: Option<Loading>) {
        self.image = image;
        self.analysis = analysis;
        self.loading = loading;
        let fresh = TreeView::new(self.cx(), &self.analysis);
        let old = std::mem::replace(&mut self.tree, fresh);
        let layer = self.layer.min(self.browsable().saturating_sub(1));
        self.layer = layer;
        let (t, cx) = self.tree_cx();
        t.carry_over(cx, old, layer);
        if self.loading.is_none() {
            self.wasted = wasted_rows(&self.image, &self.analysis);
            self.wasted_sel = self.wasted_sel.min(self.wasted.len().saturating_sub(1));
        }
    }

    /// Layers the user can select: all of them, or while loading the run read so far.
    pub fn browsable(&self) -> usize {
        match &self.loading {
            Some(l) => l.loaded.min(self.image.layers.len()),
            None => self.image.layers.len(),
        }
    }

    /// Why `action` cannot run yet, while the image loads (None: it can).
    fn not_loaded_yet(&self, action: Action) -> Option<String> {
        let l = self.loading.as_ref()?;
        let what = match action {
            Action::FocusDetails if self.focus != Focus::Wasted => S::NEEDS_IMAGE_DETAILS,
            Action::ToggleWhy if !self.why_open => S::NEEDS_WHY,
            Action::WastedOnly if !self.tree.wasted_only => S::NEEDS_WASTE,
            Action::Down | Action::PageDown | Action::End
                if self.focus == Focus::Layers
                    && self.layer + 1 >= l.loaded
                    && l.loaded < self.image.layers.len() =>
            {
                // the move still happens, as far as the layers read
                return Some(S::fill(
                    S::LAYER_NOT_LOADED_YET,
                    &[("n", &l.loaded.to_string()), ("pct", &l.percent())],
                ));
            }
            _ => return None,
        };
        Some(S::fill(
            S::NOT_LOADED_YET,
            &[("what", what), ("pct", &l.percent())],
        ))
    }

    /// Take the "why is it big" report (or why it failed).
    pub fn set_why(&mut self, r: Result<WhyReport, String>) {
        self.why_lines = match &r {
            Ok(w) => super::why::lines(&self.image, w),
            Err(_) => Vec::new(),
        };
        // start on the first line that leads somewhere
        self.why_sel = self
            .why_lines
            .iter()
            .position(|l| l.target != WhyTarget::None)
            .unwrap_or(0);
        self.why = Some(r);
    }

    /// Where `Tab` goes: Layers ⇄ tree as in dive (⇄ "why is it big" while it is open);
    /// from Image details, to the tree.
    fn next_pane(&self) -> Focus {
        match self.focus {
            Focus::Tree if self.why_open => Focus::Why,
            Focus::Tree => Focus::Layers,
            Focus::Layers | Focus::Wasted | Focus::Why => Focus::Tree,
        }
    }

    /// The panes `Shift-Tab` cycles through.
    pub fn focus_order(&self) -> &'static [Focus] {
        if self.why_open {
            &Focus::WHY_ORDER
        } else {
            &Focus::ORDER
        }
    }

    pub fn cx(&self) -> Ctx<'_> {
        Ctx::new(&self.image, &self.analysis)
    }

    /// Split borrow: the tree and the image it walks.
    fn tree_cx(&mut self) -> (&mut TreeView, Ctx<'_>) {
        (
            &mut self.tree,
            Ctx {
                image: &self.image,
                merged: &self.analysis.merged,
            },
        )
    }

    pub fn scope(&self) -> Scope {
        if let Some(v) = &self.viewer {
            return if v.search_input.is_some() {
                Scope::ViewerSearch
            } else {
                Scope::Viewer
            };
        }
        if self.filter_input.is_some() {
            Scope::Filter
        } else {
            self.focus.scope()
        }
    }

    pub fn select_layer(&mut self, l: usize) {
        let l = l.min(self.browsable().saturating_sub(1));
        self.layer = l;
        let (t, cx) = self.tree_cx();
        t.set_layer(cx, l);
    }

    pub fn set_viewport(&mut self, areas: &Areas) {
        let (t, cx) = self.tree_cx();
        let (h, w) = (
            areas.tree_list.height as usize,
            areas.tree_list.width as usize,
        );
        if t.view_h != h || t.view_w != w {
            t.view_h = h;
            t.view_w = w;
            t.scroll_to_cursor(cx, Dir::Center);
        }
    }

    /// The path under the tree cursor, if any.
    pub fn cursor_path(&self) -> Option<String> {
        (self.tree.cursor != ROOT).then(|| self.image.paths.path(self.tree.cursor))
    }

    fn move_by(&mut self, delta: isize, areas: &Areas) {
        match self.focus {
            Focus::Layers => {
                let n = self.browsable() as isize;
                let l = (self.layer as isize + delta).clamp(0, (n - 1).max(0));
                self.select_layer(l as usize);
            }
            Focus::Wasted => {
                let n = self.wasted.len() as isize;
                self.wasted_sel =
                    (self.wasted_sel as isize + delta).clamp(0, (n - 1).max(0)) as usize;
            }
            Focus::Why => self.move_why(delta),
            Focus::Tree => {
                let (t, cx) = self.tree_cx();
                if delta > 0 {
                    t.down(cx, delta as usize);
                } else {
                    t.up(cx, delta.unsigned_abs());
                }
            }
        }
        let _ = areas;
    }

    /// Close "why is it big": back to the layers, in the tree's mode from before its jumps.
    fn close_why(&mut self) {
        self.why_open = false;
        self.focus = Focus::Layers;
        if let Some(m) = self.mode_before_why.take() {
            let (t, cx) = self.tree_cx();
            t.set_mode(cx, m);
        }
    }

    /// The "why is it big" lines `Enter` acts on (headers and notes are passed over).
    fn why_actionable(&self) -> Vec<usize> {
        self.why_lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.target != WhyTarget::None)
            .map(|(i, _)| i)
            .collect()
    }

    /// Move `delta` actionable lines in "why is it big", stopping at the first and last.
    fn move_why(&mut self, delta: isize) {
        let acts = self.why_actionable();
        if acts.is_empty() {
            return;
        }
        let at = acts.partition_point(|&i| i < self.why_sel) as isize;
        let j = (at + delta).clamp(0, acts.len() as isize - 1) as usize;
        self.why_sel = acts[j];
    }

    fn page(&self, areas: &Areas) -> isize {
        let h = match self.focus {
            Focus::Layers => areas.layers.height,
            Focus::Tree => areas.tree_list.height,
            Focus::Wasted => areas.image_details.height,
            Focus::Why => areas.why.height,
        };
        (h as isize - 3).max(1)
    }

    fn jump_to_wasted(&mut self) -> Option<String> {
        let row = self.wasted.get(self.wasted_sel)?.clone();
        self.jump_to(row.node, &row.path, row.layer)
    }

    /// Focus the tree at `layer` in `mode`, with no filter and nothing hidden.
    fn show_layer(&mut self, layer: usize, mode: LayerMode) {
        self.filter_input = None;
        self.select_layer(layer);
        let (t, cx) = self.tree_cx();
        t.set_filter(cx, "");
        t.hide = [false; 4];
        t.wasted_only = false;
        t.set_mode(cx, mode);
        self.focus = Focus::Tree;
    }

    /// Show `path` in the tree at `layer`, centred, keeping the user's mode, filter and
    /// hidden marks; a setting that hides the path is lifted, and the message says which.
    fn jump_to(&mut self, node: Option<NodeId>, path: &str, layer: usize) -> Option<String> {
        let Some(node) = node else {
            return Some(S::fill(S::JUMP_MISSING, &[("path", path)]));
        };
        self.filter_input = None;
        self.select_layer(layer);
        self.focus = Focus::Tree;
        let (t, cx) = self.tree_cx();
        let lifted = t.lift_settings_hiding(cx, node);
        t.reveal(cx, node);
        if self.tree.cursor != node {
            return Some(S::fill(
                S::WHY_NOT_AT_LAYER,
                &[("path", path), ("layer", &layer.to_string())],
            ));
        }
        (!lifted.is_empty()).then(|| {
            S::fill(
                S::JUMP_LIFTED,
                &[("what", &lifted.join(", ")), ("path", path)],
            )
        })
    }

    /// `Enter` in "why is it big": a path at its layer, or a layer's changes.
    fn jump_to_why(&mut self) -> Option<String> {
        match self.why_lines.get(self.why_sel)?.target.clone() {
            WhyTarget::None => None,
            WhyTarget::Path { node, path, layer } => self.jump_to(node, &path, layer),
            WhyTarget::Layer(l) => {
                // the user's mode comes back when "why is it big" closes
                self.mode_before_why.get_or_insert(self.tree.mode);
                self.show_layer(l, LayerMode::ChangesOnly);
                None
            }
            WhyTarget::Package { name, nodes, layer } => {
                // its files alone, at the layer that installed it, in the user's mode
                self.filter_input = None;
                self.select_layer(layer);
                self.focus = Focus::Tree;
                let label = S::fill(S::PACKAGE_FILTER, &[("name", &name)]);
                let (t, cx) = self.tree_cx();
                t.set_node_filter(cx, &label, &nodes);
                let first = t.first(cx);
                if let Some(n) = first {
                    t.reveal(cx, n);
                }
                Some(S::fill(
                    S::PACKAGE_SHOWN,
                    &[("name", &name), ("n", &nodes.len().to_string())],
                ))
            }
        }
    }

    /// The move keys, in the focused pane.
    fn move_action(&mut self, action: Action, areas: &Areas) {
        match action {
            Action::Up => self.move_by(-1, areas),
            Action::Down => self.move_by(1, areas),
            Action::PageUp => {
                let p = self.page(areas);
                self.move_by(-p, areas)
            }
            Action::PageDown => {
                let p = self.page(areas);
                self.move_by(p, areas)
            }
            Action::Home | Action::End => {
                let first = action == Action::Home;
                match self.focus {
                    Focus::Layers => self.select_layer(if first { 0 } else { usize::MAX }),
                    Focus::Wasted => {
                        self.wasted_sel = if first {
                            0
                        } else {
                            self.wasted.len().saturating_sub(1)
                        }
                    }
                    Focus::Why => {
                        let acts = self.why_actionable();
                        let pick = if first { acts.first() } else { acts.last() };
                        if let Some(&i) = pick {
                            self.why_sel = i;
                        }
                    }
                    Focus::Tree => {
                        let (t, cx) = self.tree_cx();
                        if first {
                            t.home(cx)
                        } else {
                            t.end(cx)
                        }
                    }
                }
            }
            Action::Left | Action::Right if self.focus == Focus::Tree => {
                let (t, cx) = self.tree_cx();
                if action == Action::Left {
                    t.left(cx)
                } else {
                    t.right(cx)
                }
            }
            _ => {}
        }
    }

    /// The tree's own keys: modes, collapsing, the filter, hiding, sorting, wrapping.
    fn tree_action(&mut self, action: Action) {
        match action {
            Action::LayerChangesOnly | Action::LayerAggregated => {
                let mode = if action == Action::LayerChangesOnly {
                    LayerMode::ChangesOnly
                } else {
                    LayerMode::Aggregated
                };
                let (t, cx) = self.tree_cx();
                t.set_mode(cx, mode);
            }
            Action::ToggleCollapse => {
                let (t, cx) = self.tree_cx();
                let c = t.cursor;
                t.toggle_collapse(cx, c);
            }
            Action::ToggleCollapseAll => {
                let (t, cx) = self.tree_cx();
                t.toggle_collapse_all(cx);
            }
            Action::StartFilter => {
                self.focus = Focus::Tree;
                self.filter_input = Some(self.tree.filter_pattern().unwrap_or("").to_string());
            }
            Action::FilterInput(c) => {
                if let Some(s) = self.filter_input.as_mut() {
                    s.push(c);
                    let p = s.clone();
                    let (t, cx) = self.tree_cx();
                    t.set_filter(cx, &p);
                }
            }
            Action::FilterBackspace => {
                if let Some(s) = self.filter_input.as_mut() {
                    s.pop();
                    let p = s.clone();
                    let (t, cx) = self.tree_cx();
                    t.set_filter(cx, &p);
                }
            }
            Action::FilterDone => self.filter_input = None,
            Action::FilterCancel => {
                self.filter_input = None;
                let (t, cx) = self.tree_cx();
                t.set_filter(cx, "");
            }
            Action::ToggleHide(m) => {
                let (t, cx) = self.tree_cx();
                t.toggle_hide(cx, m);
            }
            Action::ToggleAttributes => {
                let (t, cx) = self.tree_cx();
                t.attrs = Some(!t.shows_attrs());
                t.scroll_to_cursor(cx, Dir::Center);
            }
            Action::ToggleWrap => {
                let (t, cx) = self.tree_cx();
                t.wrap = !t.wrap;
                t.scroll_to_cursor(cx, Dir::Center);
            }
            Action::CycleSort | Action::SortBySize => {
                let (t, cx) = self.tree_cx();
                let next = if t.sort == SortOrder::Name {
                    SortOrder::SizeDesc
                } else {
                    SortOrder::Name
                };
                t.set_sort(cx, next);
            }
            Action::WastedOnly => {
                let (t, cx) = self.tree_cx();
                t.toggle_wasted_only(cx);
            }
            _ => {}
        }
    }

    fn extract(&mut self) -> Result<Effect, String> {
        let n = self.tree.cursor;
        let cx = self.cx();
        let v = self
            .tree
            .version(cx, n)
            .filter(|v| v.present())
            .ok_or(S::EXTRACT_NOT_FILE)?;
        let e = entry_of(&self.image, v).ok_or(S::EXTRACT_NOT_FILE)?;
        // a hardlink's bytes are its target's
        let (layer, path, size, entry) = match e.kind {
            EntryKind::File => (v.layer, self.image.paths.path(n), e.size, v.entry),
            EntryKind::Hardlink => {
                let t = self.image.hardlink_target(e).ok_or(S::EXTRACT_NOT_FILE)?;
                let tv = self
                    .analysis
                    .merged
                    .state_at(t, v.layer as usize)
                    .ok_or(S::EXTRACT_NOT_FILE)?;
                let te = entry_of(&self.image, tv)
                    .filter(|te| te.kind == EntryKind::File)
                    .ok_or(S::EXTRACT_NOT_FILE)?;
                (tv.layer, self.image.paths.path(t), te.size, tv.entry)
            }
            _ => return Err(S::EXTRACT_NOT_FILE.to_string()),
        };
        Ok(Effect::Extract {
            layer: layer as usize,
            path,
            name: self.image.paths.name(n).to_string(),
            size,
            entry: Some(entry as usize),
        })
    }
}

impl App {
    pub fn loading(name: String, progress: Arc<Progress>, size: Rect) -> App {
        App::loading_many(vec![(name, progress)], size)
    }

    /// Loading several images, a gauge each.
    pub fn loading_many(items: Vec<(String, Arc<Progress>)>, size: Rect) -> App {
        App {
            screen: Screen::Loading { items },
            size,
            help: false,
            help_scroll: 0,
            quit: false,
            status: None,
            status_until: None,
            effects: Vec::new(),
            pending_keys: Vec::new(),
            frames: 0,
            clear: false,
        }
    }

    pub fn explorer(ex: Explorer, size: Rect) -> App {
        let mut app = App::loading(String::new(), Arc::new(Progress::new()), size);
        app.screen = Screen::Explore(Box::new(ex));
        app.resize(size);
        app
    }

    pub fn compare(cv: CompareView, size: Rect) -> App {
        let mut app = App::loading_many(Vec::new(), size);
        app.screen = Screen::Compare(Box::new(cv));
        app.resize(size);
        app
    }

    pub fn compare_ref(&self) -> Option<&CompareView> {
        match &self.screen {
            Screen::Compare(c) => Some(c),
            _ => None,
        }
    }

    /// The key scope of what has focus.
    pub fn scope(&self) -> Scope {
        match &self.screen {
            Screen::Explore(e) => e.scope(),
            Screen::Compare(c) => c.scope(),
            _ => Scope::Global,
        }
    }

    /// The sections the help lists for the current view.
    pub fn help_scopes(&self) -> &'static [Scope] {
        match &self.screen {
            Screen::Compare(_) => Scope::COMPARE,
            _ => Scope::EXPLORER,
        }
    }

    pub fn explorer_ref(&self) -> Option<&Explorer> {
        match &self.screen {
            Screen::Explore(e) => Some(e),
            _ => None,
        }
    }

    pub fn explorer_mut(&mut self) -> Option<&mut Explorer> {
        match &mut self.screen {
            Screen::Explore(e) => Some(e),
            _ => None,
        }
    }

    pub fn areas(&self) -> Areas {
        layout::areas(self.size, self.explorer_ref())
    }

    pub fn resize(&mut self, size: Rect) {
        self.size = size;
        let areas = self.areas();
        match &mut self.screen {
            Screen::Explore(ex) => {
                ex.set_viewport(&areas);
                ex.resize_viewer(size);
            }
            Screen::Compare(cv) => {
                let a = cmp::areas(size, cv);
                cv.set_viewport(&a);
            }
            _ => {}
        }
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Show a message in the key bar for a while.
    pub fn set_status(&mut self, msg: String) {
        self.status = Some(msg);
        self.status_until = Some(Instant::now() + STATUS_TTL);
    }

    pub fn clear_status(&mut self) {
        self.status = None;
        self.status_until = None;
    }

    /// Drop the message once its time is up; true when that changed the screen.
    pub fn expire_status(&mut self, now: Instant) -> bool {
        if self.status_until.is_some_and(|t| now >= t) {
            self.clear_status();
            return true;
        }
        false
    }

    /// How long the loop may sleep before something changes on screen by itself: the
    /// loading gauge moves, a message expires. None: only an event changes anything.
    pub fn wake_in(&self, now: Instant, tick: Duration) -> Option<Duration> {
        let loading = matches!(self.screen, Screen::Loading { .. })
            || self
                .explorer_ref()
                .is_some_and(|e| e.loading.is_some() || e.viewer_waiting());
        let status = self.status_until.map(|t| t.saturating_duration_since(now));
        match (loading, status) {
            (true, Some(s)) => Some(s.min(tick)),
            (true, None) => Some(tick),
            (false, s) => s,
        }
    }

    /// What the loading gauges show (empty once loaded): the loop redraws when it moves.
    pub fn progress_snapshot(&self) -> Vec<crate::progress::ProgressSnapshot> {
        match &self.screen {
            Screen::Loading { items } => items.iter().map(|(_, p)| p.snapshot()).collect(),
            Screen::Explore(ex) => ex.loading.iter().map(|l| l.progress.snapshot()).collect(),
            _ => Vec::new(),
        }
    }

    /// Apply the keys typed while loading, now that there is something to apply them to.
    fn replay_pending_keys(&mut self) {
        for k in std::mem::take(&mut self.pending_keys) {
            handle_key(self, k);
        }
    }
}

/// An action while the help overlay is open: it scrolls or closes the overlay.
fn help_action(app: &mut App, action: Action) {
    let max = super::help::max_scroll(app.size, app.help_scopes());
    let page = (app.size.height as usize).saturating_sub(6).max(1);
    let s = app.help_scroll;
    app.help_scroll = match action {
        Action::Help | Action::CloseHelp => {
            app.help = false;
            0
        }
        Action::Up => s.saturating_sub(1),
        Action::Down => s + 1,
        Action::PageUp => s.saturating_sub(page),
        Action::PageDown => s + page,
        Action::Home => 0,
        Action::End => max,
        _ => s,
    }
    .min(max);
}

/// Apply one action.
pub fn update(app: &mut App, action: Action) {
    if action == Action::Quit {
        app.quit = true;
        return;
    }
    if app.help {
        help_action(app, action);
        return;
    }
    if action == Action::Help {
        app.help = true;
        app.help_scroll = 0;
        return;
    }
    let size = app.size;
    if let Screen::Compare(cv) = &mut app.screen {
        let areas = cmp::areas(size, cv);
        if let Some(s) = cmp::update(cv, action, &areas) {
            app.set_status(s);
        }
        return;
    }
    let areas = app.areas();
    let Screen::Explore(ex) = &mut app.screen else {
        return;
    };
    let ex = ex.as_mut();
    let mut status: Option<String> = None;
    if ex.viewer.is_none() {
        if let Some(s) = ex.not_loaded_yet(action) {
            // a move still happens, as far as the layers read; the rest waits
            let moves = matches!(action, Action::Down | Action::PageDown | Action::End);
            if moves {
                ex.move_action(action, &areas);
            }
            app.set_status(s);
            return;
        }
    }
    if ex.viewer.is_some() {
        let s = ex.viewer_action(action);
        app.clear |= ex.viewer.is_none();
        if let Some(s) = s {
            app.set_status(s);
        }
        return;
    }
    match action {
        Action::NextPane => ex.focus = ex.next_pane(),
        Action::PrevPane => {
            let order = ex.focus_order();
            let i = order.iter().position(|&f| f == ex.focus).unwrap_or(0);
            ex.focus = order[(i + order.len() - 1) % order.len()];
        }
        Action::FocusDetails => {
            if ex.focus == Focus::Wasted {
                ex.focus = ex.focus_before_details;
            } else if !ex.why_open {
                ex.focus_before_details = ex.focus;
                ex.focus = Focus::Wasted;
            }
        }
        Action::Back => {
            if let Some(p) = ex.tree.filter_pattern().map(str::to_string) {
                let (t, cx) = ex.tree_cx();
                t.set_filter(cx, "");
                status = Some(S::fill(S::FILTER_CLEARED, &[("pattern", &p)]));
            } else if ex.why_open {
                ex.close_why();
                app.clear = true;
            }
        }
        Action::ToggleWhy => {
            if ex.why_open {
                ex.close_why();
            } else {
                ex.why_open = true;
                ex.focus = Focus::Why;
            }
            // the panes changed size
            app.clear = true;
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Home
        | Action::End
        | Action::Left
        | Action::Right => ex.move_action(action, &areas),
        Action::Extract => match ex.extract() {
            Ok(eff) => {
                let Effect::Extract { path, .. } = &eff;
                status = Some(S::fill(S::EXTRACTING, &[("path", path)]));
                app.effects.push(eff);
            }
            Err(e) => status = Some(e),
        },
        Action::Jump => {
            status = if ex.focus == Focus::Why {
                ex.jump_to_why()
            } else {
                ex.jump_to_wasted()
            }
        }
        Action::Quit | Action::Help | Action::CloseHelp => {}
        Action::ViewOrToggleModified if !ex.cursor_on_file() => {
            ex.tree_action(Action::ToggleHide(crate::tree::ChangeMark::Modified))
        }
        Action::View | Action::ViewOrToggleModified => {
            status = ex.open_viewer(size);
            app.clear |= ex.viewer.is_some();
        }
        _ => ex.tree_action(action),
    }
    if let Some(s) = status {
        app.set_status(s);
    }
}

/// Turn a terminal (or loader) event into state changes. False when nothing on screen can
/// have changed (a tick with no message expiring, the mouse moving), so the loop need not
/// draw.
pub fn handle_event(app: &mut App, ev: AppEvent) -> bool {
    match ev {
        AppEvent::Tick => {
            let expired = app.expire_status(Instant::now());
            let polled = app.explorer_mut().is_some_and(|e| e.poll_viewer());
            return expired || polled;
        }
        AppEvent::Term(Event::Mouse(m)) if m.kind == MouseEventKind::Moved => return false,
        AppEvent::Status(s) => app.set_status(s),
        AppEvent::Partial(p) => take_partial(app, *p),
        AppEvent::Loaded(r) => match *r {
            Ok((image, analysis)) if app.explorer_ref().is_some_and(|e| e.loading.is_some()) => {
                if !image.warnings.is_empty() {
                    app.set_status(image.warnings.join("; "));
                }
                if let Some(ex) = app.explorer_mut() {
                    ex.take_image(image, analysis, None);
                }
                let size = app.size;
                app.resize(size);
                app.clear = true;
            }
            Ok((image, analysis)) => {
                // the loader's notes (which image of several was read, …) go to the status
                // line: stderr would write over the screen
                if !image.warnings.is_empty() {
                    app.set_status(image.warnings.join("; "));
                }
                app.screen = Screen::Explore(Box::new(Explorer::new(image, analysis)));
                let size = app.size;
                app.resize(size);
                app.clear = true;
                app.replay_pending_keys();
            }
            Err(e) => {
                app.screen = Screen::Failed(e);
                app.quit = true;
            }
        },
        AppEvent::Why(r) => {
            if let Some(ex) = app.explorer_mut() {
                ex.set_why(*r);
            }
        }
        AppEvent::Files(r) => {
            if let Some(ex) = app.explorer_mut() {
                ex.layer_files = Some(*r);
            }
        }
        AppEvent::Compared(r) => match *r {
            Ok(c) => {
                if !c.notes.is_empty() {
                    app.set_status(c.notes.join("; "));
                }
                app.screen = Screen::Compare(Box::new(CompareView::new(c.comparison)));
                let size = app.size;
                app.resize(size);
                app.clear = true;
                app.replay_pending_keys();
            }
            Err(e) => {
                app.screen = Screen::Failed(e);
                app.quit = true;
            }
        },
        AppEvent::Term(Event::Resize(w, h)) => app.resize(Rect::new(0, 0, w, h)),
        AppEvent::Term(Event::Key(k)) => handle_key(app, k),
        AppEvent::Term(Event::Mouse(m)) => handle_mouse(app, m),
        AppEvent::Term(_) => {}
    }
    true
}

/// The image so far: the explorer opens on the first one (the keys typed meanwhile apply),
/// and takes each later one in place. One older than what is shown is dropped.
fn take_partial(app: &mut App, (p, analysis): (Partial, Analysis)) {
    match &mut app.screen {
        Screen::Loading { items } => {
            let Some((_, progress)) = items.first() else {
                return;
            };
            let ex = Explorer::partial(p, analysis, progress.clone());
            app.screen = Screen::Explore(Box::new(ex));
            let size = app.size;
            app.resize(size);
            app.clear = true;
            app.replay_pending_keys();
        }
        Screen::Explore(ex) => {
            let Some(l) = &ex.loading else { return };
            if p.loaded <= l.loaded {
                return;
            }
            let loading = Loading {
                progress: l.progress.clone(),
                loaded: p.loaded,
                read: p.read,
            };
            ex.take_image(p.image, analysis, Some(loading));
            let size = app.size;
            app.resize(size);
        }
        _ => {}
    }
}

pub fn handle_key(app: &mut App, k: KeyEvent) {
    if k.kind == KeyEventKind::Release {
        return;
    }
    if app.help {
        if keys::HELP_CLOSE.iter().any(|h| h.code == k.code) {
            update(app, Action::CloseHelp);
        } else if let Some(
            a @ (Action::Quit
            | Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Home
            | Action::End),
        ) = keys::lookup(Scope::Global, &k)
        {
            // the move keys scroll the help when it does not fit
            update(app, a);
        }
        return;
    }
    if matches!(app.screen, Screen::Loading { .. }) {
        // nothing to apply keys to yet: keep them (quitting still quits at once)
        if keys::lookup(Scope::Global, &k) == Some(Action::Quit) {
            update(app, Action::Quit);
        } else if app.pending_keys.len() < PENDING_KEYS_MAX {
            app.pending_keys.push(k);
        }
        return;
    }
    let scope = app.scope();
    if let Some(a) = keys::lookup(scope, &k) {
        app.clear_status();
        update(app, a);
    }
}

fn handle_mouse(app: &mut App, m: MouseEvent) {
    if app.help {
        return;
    }
    let size = app.size;
    if let Screen::Compare(cv) = &mut app.screen {
        let areas = cmp::areas(size, cv);
        cmp::mouse(cv, m, &areas);
        return;
    }
    let areas = app.areas();
    let pos = Position::new(m.column, m.row);
    let Screen::Explore(ex) = &mut app.screen else {
        return;
    };
    let ex = ex.as_mut();
    if ex.viewer.is_some() {
        // the viewer covers the panes: the wheel scrolls it, clicks do nothing
        let a = match m.kind {
            MouseEventKind::ScrollDown => Action::Down,
            MouseEventKind::ScrollUp => Action::Up,
            _ => return,
        };
        for _ in 0..3 {
            ex.viewer_action(a);
        }
        return;
    }
    let pane = if areas.why.contains(pos) {
        Focus::Why
    } else if areas.layers.contains(pos) {
        Focus::Layers
    } else if areas.tree.contains(pos) {
        Focus::Tree
    } else if areas.image_details.contains(pos) && ex.loading.is_none() {
        Focus::Wasted
    } else {
        return;
    };
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            ex.focus = pane;
            ex.filter_input = None;
            match pane {
                Focus::Layers => {
                    if let Some(l) = super::layers::layer_at_row(ex, areas.layers, m.row) {
                        ex.select_layer(l);
                    }
                }
                Focus::Wasted => {
                    if let Some(i) =
                        super::image_details::wasted_at_row(ex, areas.image_details, m.row)
                    {
                        ex.wasted_sel = i;
                    }
                }
                Focus::Why => {
                    // only a row that acts takes the cursor
                    if let Some(i) = super::why::line_at_row(ex, areas.why, m.row)
                        .filter(|&i| ex.why_lines[i].target != WhyTarget::None)
                    {
                        ex.why_sel = i;
                    }
                }
                Focus::Tree => {
                    let cx = ex.cx();
                    let mut y = areas.tree_list.y;
                    let mut hit = None;
                    for n in ex.tree.rows(cx) {
                        let h = ex.tree.row_height(cx, n) as u16;
                        if m.row >= y && m.row < y + h {
                            hit = Some(n);
                            break;
                        }
                        y += h;
                    }
                    if let Some(n) = hit {
                        ex.tree.cursor = n;
                    }
                }
            }
        }
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let down = m.kind == MouseEventKind::ScrollDown;
            let prev = ex.focus;
            ex.focus = pane;
            let step = if pane == Focus::Tree { 3 } else { 1 };
            ex.move_by(if down { step } else { -step }, &areas);
            ex.focus = prev;
        }
        _ => {}
    }
}

/// The key bar's message, while it lasts (what a filter matches is in the tree's title);
/// else, while the image loads, how far it is.
pub fn status_text(app: &App) -> Option<String> {
    app.status.clone().or_else(|| {
        let ex = app.explorer_ref()?;
        let l = ex.loading.as_ref()?;
        let mut s = S::fill(
            S::LOADING_STATUS,
            &[
                ("pct", &l.percent()),
                ("loaded", &l.loaded.to_string()),
                ("total", &ex.image.layers.len().to_string()),
            ],
        );
        let downloads = l.progress.downloads();
        if let Some(d) = crate::progress::downloads_under_way(&downloads, 1)
            .0
            .first()
        {
            s.push_str(&S::fill(
                S::LOADING_STATUS_DOWNLOAD,
                &[("layer", &d.line())],
            ));
        }
        Some(s)
    })
}

pub fn human(n: u64) -> String {
    human_bytes(n)
}
