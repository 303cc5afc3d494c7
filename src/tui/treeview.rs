//! The file tree pane's model: which paths are visible at a layer under the current mode, filter
//! and toggles, and how the cursor walks them. Nothing is flattened: rows are produced on demand
//! from the cursor's neighbourhood (children lists are sorted by name already), so a move costs
//! the rows it touches, not the tree's size. Per-layer facts (marks, directory sizes, which
//! directories lead to something visible) are derived incrementally from `changed_in`.

use super::strings::{LIFTED_CHANGES_ONLY, LIFTED_FILTER, LIFTED_HIDDEN, LIFTED_WASTED};
use crate::analysis::Analysis;
use crate::image::{EntryKind, Image};
use crate::paths::{NodeId, ROOT};
use crate::tree::{entry_of, ChangeMark, MergedTree, Version, ABSENT, IMPLICIT};
use memchr::memmem::Finder;
use regex::Regex;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerMode {
    /// Everything up to the selected layer (dive's ctrl+a).
    Aggregated,
    /// Only what the selected layer changed (dive's ctrl+l).
    ChangesOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Name,
    SizeDesc,
}

/// The image and its analysis, borrowed for one call.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub image: &'a Image,
    pub merged: &'a MergedTree,
}

impl<'a> Ctx<'a> {
    pub fn new(image: &'a Image, analysis: &'a Analysis) -> Self {
        Ctx {
            image,
            merged: &analysis.merged,
        }
    }
}

pub fn mark_index(m: ChangeMark) -> usize {
    match m {
        ChangeMark::Added => 0,
        ChangeMark::Modified => 1,
        ChangeMark::Removed => 2,
        ChangeMark::Unchanged => 3,
    }
}

/// A compiled filter and the paths it matches (in depth-first name order).
struct Filter {
    pattern: String,
    regex: Regex,
    literal: bool,
    matches: Vec<NodeId>,
}

/// Regular-file bytes under every node at one layer, moved from layer to layer by the deltas
/// of the layers in between.
struct Sizes {
    /// Layers applied: 0 = none, k = layers 0..k.
    applied: usize,
    total: Vec<u64>,
}

fn file_bytes(image: &Image, v: Option<Version>) -> u64 {
    match v.and_then(|v| entry_of(image, v)) {
        Some(e) if e.kind == EntryKind::File => e.size,
        _ => 0,
    }
}

impl Sizes {
    fn apply(&mut self, cx: Ctx, layer: usize, forward: bool) {
        for &n in cx.merged.changed_in(layer) {
            let old = if layer == 0 {
                0
            } else {
                file_bytes(cx.image, cx.merged.state_at(n, layer - 1))
            };
            let new = file_bytes(cx.image, cx.merged.state_at(n, layer));
            if old == new {
                continue;
            }
            let d = if forward {
                new.wrapping_sub(old)
            } else {
                old.wrapping_sub(new)
            };
            let mut cur = n;
            loop {
                let t = &mut self.total[cur as usize];
                *t = t.wrapping_add(d);
                match cx.image.paths.parent(cur) {
                    Some(p) => cur = p,
                    None => break,
                }
            }
        }
    }

    fn move_to(&mut self, cx: Ctx, layer: usize) {
        let want = layer + 1;
        while self.applied < want {
            self.apply(cx, self.applied, true);
            self.applied += 1;
        }
        while self.applied > want {
            self.applied -= 1;
            self.apply(cx, self.applied, false);
        }
    }
}

/// A plain substring, tested one path component at a time. A path contains it if its parent's
/// path does, or if an occurrence ends in the last name: for a pattern without `/` that
/// occurrence lies in the name; with one, the path's last `/` must be the pattern's last `/`,
/// so the name starts with what follows it and the parent's path ends with what precedes it.
struct Substring<'p> {
    /// Pattern without `/`: searched for in each name (searcher built once).
    in_name: Option<Finder<'p>>,
    /// Pattern with `/`: (before its last `/`, after it).
    split: (&'p str, &'p str),
}

impl<'p> Substring<'p> {
    fn new(pattern: &'p str) -> Self {
        match pattern.rsplit_once('/') {
            None => Substring {
                in_name: Some(Finder::new(pattern)),
                split: ("", ""),
            },
            Some(split) => Substring {
                in_name: None,
                split,
            },
        }
    }

    /// Bytes of the parent's path the test reads (its suffix).
    fn reach(&self) -> usize {
        self.split.0.len()
    }

    /// Does an occurrence end in `name`, given (a suffix of at least `reach` bytes of) the
    /// parent's path?
    fn ends_in(&self, parent_tail: &str, name: &str) -> bool {
        match &self.in_name {
            Some(f) => f.find(name.as_bytes()).is_some(),
            None => name.starts_with(self.split.1) && parent_tail.ends_with(self.split.0),
        }
    }
}

/// Every path containing `pattern`, depth first in name order, with one path buffer and one
/// test per node on its name (and its parent's path's end).
fn scan_literal(cx: Ctx, pattern: &str) -> Vec<NodeId> {
    let paths = &cx.image.paths;
    let sub = Substring::new(pattern);
    let mut matches = Vec::new();
    let mut buf = String::new();
    let mut stack: Vec<(NodeId, usize, bool)> = paths
        .children(ROOT)
        .iter()
        .rev()
        .map(|&c| (c, 0, false))
        .collect();
    while let Some((n, len, parent_matched)) = stack.pop() {
        buf.truncate(len);
        let name = paths.name(n);
        let m = parent_matched || sub.ends_in(&buf, name);
        if m {
            matches.push(n);
        }
        let children = paths.children(n);
        if !children.is_empty() {
            buf.push('/');
            buf.push_str(name);
            let l = buf.len();
            for &c in children.iter().rev() {
                stack.push((c, l, m));
            }
        }
    }
    matches
}

/// Every path the regex matches, depth first in name order, with one path buffer.
fn scan_regex(cx: Ctx, regex: &Regex) -> Vec<NodeId> {
    let paths = &cx.image.paths;
    let mut matches = Vec::new();
    let mut buf = String::new();
    let mut stack: Vec<(NodeId, usize)> =
        paths.children(ROOT).iter().rev().map(|&c| (c, 0)).collect();
    while let Some((n, len)) = stack.pop() {
        buf.truncate(len);
        buf.push('/');
        buf.push_str(paths.name(n));
        if regex.is_match(&buf) {
            matches.push(n);
        }
        let l = buf.len();
        for &c in paths.children(n).iter().rev() {
            stack.push((c, l));
        }
    }
    matches
}

/// The previous matches (of a substring `pattern` contains) that contain `pattern`. In depth-
/// first order a match's matching ancestors come before it: one of them on the stack means a
/// match; else only the node's name (and a few names above it) are read, not its path.
fn narrow_literal(cx: Ctx, prev: Vec<NodeId>, pattern: &str) -> Vec<NodeId> {
    let paths = &cx.image.paths;
    let sub = Substring::new(pattern);
    let within = |n: NodeId, anc: NodeId| {
        paths.preorder_rank(anc) <= paths.preorder_rank(n)
            && paths.postorder_rank(anc) >= paths.postorder_rank(n)
    };
    let mut out = Vec::new();
    let mut matched: Vec<NodeId> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    let mut tail = String::new();
    for n in prev {
        while matched.last().is_some_and(|&a| !within(n, a)) {
            matched.pop();
        }
        let hit = !matched.is_empty() || {
            // the parent's path's last `reach` bytes (or all of it)
            names.clear();
            let mut have = 0;
            let mut cur = paths.parent(n);
            while have < sub.reach() {
                match cur {
                    Some(p) if p != ROOT => {
                        names.push(paths.name(p));
                        have += paths.name(p).len() + 1;
                        cur = paths.parent(p);
                    }
                    _ => break,
                }
            }
            tail.clear();
            for name in names.iter().rev() {
                tail.push('/');
                tail.push_str(name);
            }
            sub.ends_in(&tail, paths.name(n))
        };
        if hit {
            out.push(n);
            matched.push(n);
        }
    }
    out
}

/// For each directory `layer` removes, the file bytes under it at the layer below. Everything
/// under a removed directory is among the layer's changes (removed with it), so the layer's
/// changes alone give the sums: their cost, not the tree's size.
fn removed_held(cx: Ctx, layer: usize) -> HashMap<NodeId, u64> {
    let mut held = HashMap::new();
    if layer == 0 {
        return held;
    }
    let gone = |n: NodeId| cx.merged.state_at(n, layer).is_some_and(|v| !v.present());
    for &n in cx.merged.changed_in(layer) {
        if gone(n) && !cx.image.paths.children(n).is_empty() {
            held.insert(n, 0u64);
        }
    }
    if held.is_empty() {
        return held;
    }
    for &m in cx.merged.changed_in(layer) {
        if !gone(m) {
            continue;
        }
        let old = file_bytes(cx.image, cx.merged.state_at(m, layer - 1));
        if old == 0 {
            continue;
        }
        let mut cur = cx.image.paths.parent(m);
        while let Some(p) = cur {
            if let Some(h) = held.get_mut(&p) {
                *h += old;
            }
            cur = cx.image.paths.parent(p);
        }
    }
    held
}

/// Ordered children of a node: borrowed from the path table (name order) or a cached sort.
pub enum Children<'a> {
    Borrowed(&'a [NodeId]),
    Sorted(Rc<Vec<NodeId>>),
}

impl std::ops::Deref for Children<'_> {
    type Target = [NodeId];
    fn deref(&self) -> &[NodeId] {
        match self {
            Children::Borrowed(s) => s,
            Children::Sorted(v) => v.as_slice(),
        }
    }
}

pub struct TreeView {
    pub layer: usize,
    pub mode: LayerMode,
    /// Hidden change marks, by [`mark_index`].
    pub hide: [bool; 4],
    pub wasted_only: bool,
    pub sort: SortOrder,
    /// Permission and uid:gid columns: the user's choice (`Ctrl-B`), or None to show them
    /// when the name keeps enough room (see [`TreeView::shows_attrs`]).
    pub attrs: Option<bool>,
    pub wrap: bool,
    /// Directories start collapsed when set; `toggled` flips single directories.
    pub collapse_all: bool,
    toggled: HashSet<NodeId>,
    filter: Option<Filter>,
    /// The row the cursor is on (ROOT: the tree shows nothing).
    pub cursor: NodeId,
    /// The first row on screen.
    pub top: NodeId,
    /// Rows and columns of the pane's list area, for paging and wrapping.
    pub view_h: usize,
    pub view_w: usize,
    /// Stamp per node: equals `gen` when a qualifying path lies at or below it.
    keep: Vec<u32>,
    gen: u32,
    restrictive: bool,
    sizes: Sizes,
    /// What each directory the selected layer removed held at the layer below (its subtree's
    /// file bytes there): the sizes above only know what is present.
    removed_held: HashMap<NodeId, u64>,
    /// First layer holding a wasted copy of the node (u32::MAX: none).
    wasted_first: Vec<u32>,
    wasted_nodes: Vec<NodeId>,
    /// Every invisible copy: (node, layer, bytes).
    wasted_copies: Vec<(NodeId, usize, u64)>,
    /// With `w` on: wasted bytes at or below each node, copies up to the selected layer.
    wasted_under: HashMap<NodeId, u64>,
    /// Under a filter: running sums of the matches' file bytes (in match order), built when
    /// first asked for after a change.
    match_sums: RefCell<Option<Vec<u64>>>,
    sorted: RefCell<HashMap<NodeId, Rc<Vec<NodeId>>>>,
}

/// The regex of a filter that is a list of nodes (a package's files): it matches no path.
const NODE_LIST: &str = "[^\\s\\S]";

/// Columns the name (with its tree guides) keeps before the attribute columns hide by
/// themselves.
pub const NAME_ROOM: usize = 30;

impl TreeView {
    pub fn new(cx: Ctx, analysis: &Analysis) -> TreeView {
        let n = cx.image.paths.len();
        let mut wasted_first = vec![u32::MAX; n];
        let mut wasted_nodes = Vec::new();
        let wasted_copies = analysis
            .waste
            .copies
            .iter()
            .map(|c| (c.node, c.layer, c.bytes))
            .collect();
        for c in &analysis.waste.copies {
            let w = &mut wasted_first[c.node as usize];
            if *w == u32::MAX {
                wasted_nodes.push(c.node);
            }
            *w = (*w).min(c.layer as u32);
        }
        wasted_nodes.sort_unstable_by_key(|&x| cx.image.paths.preorder_rank(x));
        let mut tv = TreeView {
            layer: 0,
            mode: LayerMode::Aggregated,
            hide: [false; 4],
            wasted_only: false,
            sort: SortOrder::Name,
            attrs: None,
            wrap: false,
            collapse_all: false,
            toggled: HashSet::new(),
            filter: None,
            cursor: ROOT,
            top: ROOT,
            view_h: 20,
            view_w: 60,
            keep: vec![0; n],
            gen: 0,
            restrictive: false,
            sizes: Sizes {
                applied: 0,
                total: vec![0; n],
            },
            removed_held: HashMap::new(),
            wasted_first,
            wasted_nodes,
            wasted_copies,
            wasted_under: HashMap::new(),
            match_sums: RefCell::new(None),
            sorted: RefCell::new(HashMap::new()),
        };
        tv.refresh(cx);
        tv.cursor = tv.first(cx).unwrap_or(ROOT);
        tv.top = tv.cursor;
        tv
    }

    /// Take the user's settings and place from `old`, a view of an earlier state of the same
    /// image (fewer layers read), at `layer`. Node ids are the same in both; a filter is run
    /// again over the new paths (a package's node list is kept as it is).
    pub fn carry_over(&mut self, cx: Ctx, old: TreeView, layer: usize) {
        self.mode = old.mode;
        self.hide = old.hide;
        self.wasted_only = old.wasted_only;
        self.sort = old.sort;
        self.attrs = old.attrs;
        self.wrap = old.wrap;
        self.collapse_all = old.collapse_all;
        self.toggled = old.toggled;
        self.view_h = old.view_h;
        self.view_w = old.view_w;
        let n = cx.image.paths.len() as NodeId;
        self.cursor = if old.cursor < n { old.cursor } else { ROOT };
        self.top = if old.top < n { old.top } else { self.cursor };
        match old.filter {
            Some(f) if f.literal || f.regex.as_str() != NODE_LIST => {
                self.set_filter(cx, &f.pattern)
            }
            kept => self.filter = kept,
        }
        self.set_layer(cx, layer);
    }

    // ---- settings -------------------------------------------------------------------------

    pub fn set_layer(&mut self, cx: Ctx, layer: usize) {
        self.layer = layer.min(cx.merged.layer_count().saturating_sub(1));
        self.removed_held = removed_held(cx, self.layer);
        self.refresh(cx);
    }

    pub fn set_mode(&mut self, cx: Ctx, mode: LayerMode) {
        self.mode = mode;
        self.refresh(cx);
    }

    pub fn toggle_hide(&mut self, cx: Ctx, m: ChangeMark) {
        let i = mark_index(m);
        self.hide[i] = !self.hide[i];
        self.refresh(cx);
    }

    pub fn toggle_wasted_only(&mut self, cx: Ctx) {
        self.wasted_only = !self.wasted_only;
        self.refresh(cx);
    }

    pub fn set_sort(&mut self, cx: Ctx, sort: SortOrder) {
        self.sort = sort;
        self.refresh(cx);
    }

    pub fn filter_pattern(&self) -> Option<&str> {
        self.filter.as_ref().map(|f| f.pattern.as_str())
    }

    /// Match paths against `pattern`: a regex, or a plain substring when it is not a valid one.
    ///
    /// A plain substring is cheap to test: a path contains it if its parent's path does, or
    /// else only where an occurrence ends in the last name (see [`Substring`]), so no node is
    /// tested on its whole path. Typing more of a substring (the new pattern contains the old
    /// one) only narrows the previous matches.
    pub fn set_filter(&mut self, cx: Ctx, pattern: &str) {
        if pattern.is_empty() {
            self.filter = None;
            self.refresh(cx);
            return;
        }
        let literal = regex::escape(pattern) == pattern;
        let regex = Regex::new(pattern).or_else(|_| Regex::new(&regex::escape(pattern)));
        let Ok(regex) = regex else { return };
        // with a `/`, narrowing reads a few names above each match: a fresh scan (one path
        // buffer for all) is cheaper while most paths still match
        let narrowing = self.filter.as_ref().is_some_and(|f| {
            f.literal
                && literal
                && pattern.contains(f.pattern.as_str())
                && (!pattern.contains('/') || f.matches.len() < cx.image.paths.len() / 4)
        });
        let matches = if narrowing {
            let prev = self.filter.take().map(|f| f.matches).unwrap_or_default();
            narrow_literal(cx, prev, pattern)
        } else if literal {
            scan_literal(cx, pattern)
        } else {
            scan_regex(cx, &regex)
        };
        self.filter = Some(Filter {
            pattern: pattern.to_string(),
            regex,
            literal,
            matches,
        });
        self.refresh(cx);
    }

    /// Show only `nodes` (and the directories leading to them) as a filter named `label`: a
    /// package's own files. Typing a filter afterwards starts from the label as a pattern.
    pub fn set_node_filter(&mut self, cx: Ctx, label: &str, nodes: &[NodeId]) {
        let mut matches = nodes.to_vec();
        matches.sort_unstable_by_key(|&n| cx.image.paths.preorder_rank(n));
        matches.dedup();
        // never matches a path: the node list is the filter
        let Ok(regex) = Regex::new(NODE_LIST) else {
            return;
        };
        self.filter = Some(Filter {
            pattern: label.to_string(),
            regex,
            literal: false,
            matches,
        });
        self.refresh(cx);
    }

    pub fn is_collapsed(&self, n: NodeId) -> bool {
        self.collapse_all ^ self.toggled.contains(&n)
    }

    pub fn toggle_collapse(&mut self, cx: Ctx, n: NodeId) {
        if !self.has_children(cx, n) {
            return;
        }
        if !self.toggled.remove(&n) {
            self.toggled.insert(n);
        }
        self.fix_cursor(cx);
    }

    pub fn toggle_collapse_all(&mut self, cx: Ctx) {
        self.collapse_all = !self.collapse_all;
        self.toggled.clear();
        // collapsing everything may hide the cursor: go to its top-level directory
        if self.collapse_all {
            let mut c = self.cursor;
            while let Some(p) = cx.image.paths.parent(c) {
                if p == ROOT {
                    break;
                }
                c = p;
            }
            self.cursor = c;
        }
        self.fix_cursor(cx);
    }

    pub fn expand(&mut self, n: NodeId) {
        if self.is_collapsed(n) && !self.toggled.remove(&n) {
            self.toggled.insert(n);
        }
    }

    /// Recompute the per-layer facts after any setting changed, and keep the cursor on a row.
    fn refresh(&mut self, cx: Ctx) {
        self.sizes.move_to(cx, self.layer);
        self.sorted.borrow_mut().clear();
        self.match_sums.replace(None);
        self.wasted_under.clear();
        if self.wasted_only {
            for &(node, layer, bytes) in &self.wasted_copies {
                if layer > self.layer {
                    continue;
                }
                let mut cur = Some(node);
                while let Some(c) = cur.filter(|&c| c != ROOT) {
                    *self.wasted_under.entry(c).or_default() += bytes;
                    cur = cx.image.paths.parent(c);
                }
            }
        }
        self.restrictive = self.mode == LayerMode::ChangesOnly
            || self.filter.is_some()
            || self.wasted_only
            || self.hide.iter().any(|&h| h);
        self.gen = self.gen.wrapping_add(1);
        if self.gen == 0 {
            self.keep.fill(0);
            self.gen = 1;
        }
        if self.restrictive {
            let all: Vec<NodeId>;
            let candidates: &[NodeId] = if let Some(f) = &self.filter {
                &f.matches
            } else if self.wasted_only {
                &self.wasted_nodes
            } else if self.mode == LayerMode::ChangesOnly
                || self.hide[mark_index(ChangeMark::Unchanged)]
            {
                cx.merged.changed_in(self.layer)
            } else {
                all = (1..cx.image.paths.len() as NodeId).collect();
                &all
            };
            let mut stamped = Vec::new();
            for &c in candidates {
                if self.qualifies(cx, c) {
                    stamped.push(c);
                }
            }
            for c in stamped {
                let mut cur = c;
                loop {
                    if self.keep[cur as usize] == self.gen {
                        break;
                    }
                    self.keep[cur as usize] = self.gen;
                    match cx.image.paths.parent(cur) {
                        Some(p) if p != ROOT => cur = p,
                        _ => break,
                    }
                }
            }
        }
        self.fix_cursor(cx);
    }

    // ---- facts about a node ---------------------------------------------------------------

    /// The node's version at the selected layer.
    pub fn version(&self, cx: Ctx, n: NodeId) -> Option<Version> {
        cx.merged.state_at(n, self.layer)
    }

    fn changed_here(&self, v: Option<Version>) -> bool {
        v.is_some_and(|v| v.layer as usize == self.layer)
    }

    /// Present at the layer, or removed by it (shown in red).
    fn exists(&self, v: Option<Version>) -> bool {
        v.is_some_and(|v| v.present() || v.layer as usize == self.layer)
    }

    /// How the selected layer changed the node (Unchanged when it did not touch it).
    pub fn mark(&self, cx: Ctx, n: NodeId) -> ChangeMark {
        let v = self.version(cx, n);
        if self.changed_here(v) {
            cx.merged
                .mark_at(cx.image, n, self.layer)
                .unwrap_or(ChangeMark::Unchanged)
        } else {
            ChangeMark::Unchanged
        }
    }

    /// Passes every setting on its own (directories may still show for their descendants).
    fn qualifies(&self, cx: Ctx, n: NodeId) -> bool {
        let v = self.version(cx, n);
        if !self.exists(v) {
            return false;
        }
        if self.mode == LayerMode::ChangesOnly && !self.changed_here(v) {
            return false;
        }
        if self.wasted_only && self.wasted_first[n as usize] as usize > self.layer {
            return false;
        }
        // with a filter on, the candidates are its matches: nothing to check for it here
        if self.hide.iter().any(|&h| h) && self.hide[mark_index(self.mark(cx, n))] {
            return false;
        }
        true
    }

    pub fn visible(&self, cx: Ctx, n: NodeId) -> bool {
        if n == ROOT {
            return false;
        }
        if !self.restrictive {
            return self.exists(self.version(cx, n));
        }
        self.keep[n as usize] == self.gen
    }

    /// Regular-file bytes at or below the node at the selected layer; for a path removed by
    /// this layer, what it held just before.
    pub fn size(&self, cx: Ctx, n: NodeId) -> u64 {
        let v = self.version(cx, n);
        if v.is_some_and(|v| !v.present()) && self.layer > 0 {
            if let Some(&held) = self.removed_held.get(&n) {
                return held;
            }
            return match cx.merged.state_at(n, self.layer - 1) {
                Some(old) if old.entry != IMPLICIT => file_bytes(cx.image, Some(old)),
                _ => 0,
            };
        }
        self.sizes.total[n as usize]
    }

    /// The size column: with `w` on, the wasted bytes at or below the node; under a filter,
    /// the matches' file bytes below it (dive's way); else [`TreeView::size`].
    pub fn shown_size(&self, cx: Ctx, n: NodeId) -> u64 {
        if self.wasted_only {
            return self.wasted_under.get(&n).copied().unwrap_or(0);
        }
        if self.filter.is_some() {
            return self.match_bytes(cx, n);
        }
        self.size(cx, n)
    }

    /// Does the size column show something other than the node's whole size?
    pub fn size_is_partial(&self) -> bool {
        self.wasted_only || self.filter.is_some()
    }

    /// File bytes of the filter's matches at or below `n` at the selected layer. Matches are
    /// in depth-first order, so a subtree's are one run of them: two binary searches into
    /// running sums built once per change.
    fn match_bytes(&self, cx: Ctx, n: NodeId) -> u64 {
        let Some(f) = &self.filter else {
            return 0;
        };
        let paths = &cx.image.paths;
        let mut sums = self.match_sums.borrow_mut();
        let sums = sums.get_or_insert_with(|| {
            let mut acc = 0u64;
            let mut v = Vec::with_capacity(f.matches.len() + 1);
            v.push(0);
            for &m in &f.matches {
                // a match's descendants that match are matches of their own: count leaves
                if paths.children(m).is_empty() {
                    acc = acc.wrapping_add(self.sizes.total[m as usize]);
                }
                v.push(acc);
            }
            v
        });
        let (pre, post) = (paths.preorder_rank(n), paths.postorder_rank(n));
        let lo = f.matches.partition_point(|&m| paths.preorder_rank(m) < pre);
        let len = f.matches[lo..].partition_point(|&m| paths.postorder_rank(m) <= post);
        sums[lo + len].wrapping_sub(sums[lo])
    }

    pub fn is_dir(&self, cx: Ctx, n: NodeId) -> bool {
        match self.version(cx, n) {
            Some(v) if v.entry == IMPLICIT => true,
            Some(v) if v.entry == ABSENT => {
                // removed here: what it was just before (an empty directory has no children)
                let before = (v.layer as usize == self.layer && self.layer > 0)
                    .then(|| cx.merged.state_at(n, self.layer - 1))
                    .flatten();
                match before {
                    Some(b) if b.entry == IMPLICIT => true,
                    Some(b) if b.present() => {
                        entry_of(cx.image, b).is_some_and(|e| e.kind == EntryKind::Dir)
                    }
                    _ => !cx.image.paths.children(n).is_empty(),
                }
            }
            Some(v) => entry_of(cx.image, v).is_some_and(|e| e.kind == EntryKind::Dir),
            None => false,
        }
    }

    fn has_children(&self, cx: Ctx, n: NodeId) -> bool {
        self.is_dir(cx, n) && self.children(cx, n).iter().any(|&c| self.visible(cx, c))
    }

    pub fn carries_waste(&self, n: NodeId) -> bool {
        self.wasted_first
            .get(n as usize)
            .is_some_and(|&w| w as usize <= self.layer)
    }

    // ---- walking --------------------------------------------------------------------------

    pub fn children<'a>(&self, cx: Ctx<'a>, n: NodeId) -> Children<'a> {
        match self.sort {
            SortOrder::Name => Children::Borrowed(cx.image.paths.children(n)),
            SortOrder::SizeDesc => {
                if let Some(v) = self.sorted.borrow().get(&n) {
                    return Children::Sorted(v.clone());
                }
                let mut v = cx.image.paths.children(n).to_vec();
                // stable: equal sizes keep name order
                v.sort_by_key(|&c| std::cmp::Reverse(self.sizes.total[c as usize]));
                let v = Rc::new(v);
                self.sorted.borrow_mut().insert(n, v.clone());
                Children::Sorted(v)
            }
        }
    }

    fn position(&self, cx: Ctx, siblings: &[NodeId], n: NodeId) -> Option<usize> {
        match self.sort {
            SortOrder::Name => {
                let r = cx.image.paths.preorder_rank(n);
                siblings
                    .binary_search_by_key(&r, |&s| cx.image.paths.preorder_rank(s))
                    .ok()
            }
            SortOrder::SizeDesc => siblings.iter().position(|&s| s == n),
        }
    }

    fn expanded(&self, cx: Ctx, n: NodeId) -> bool {
        !self.is_collapsed(n) && self.is_dir(cx, n)
    }

    fn first_visible_child(&self, cx: Ctx, n: NodeId) -> Option<NodeId> {
        self.children(cx, n)
            .iter()
            .copied()
            .find(|&c| self.visible(cx, c))
    }

    fn last_visible_child(&self, cx: Ctx, n: NodeId) -> Option<NodeId> {
        self.children(cx, n)
            .iter()
            .rev()
            .copied()
            .find(|&c| self.visible(cx, c))
    }

    pub fn next_sibling(&self, cx: Ctx, n: NodeId) -> Option<NodeId> {
        let p = cx.image.paths.parent(n)?;
        let sib = self.children(cx, p);
        let i = self.position(cx, &sib, n)?;
        sib[i + 1..].iter().copied().find(|&c| self.visible(cx, c))
    }

    fn prev_sibling(&self, cx: Ctx, n: NodeId) -> Option<NodeId> {
        let p = cx.image.paths.parent(n)?;
        let sib = self.children(cx, p);
        let i = self.position(cx, &sib, n)?;
        sib[..i]
            .iter()
            .rev()
            .copied()
            .find(|&c| self.visible(cx, c))
    }

    pub fn first(&self, cx: Ctx) -> Option<NodeId> {
        self.first_visible_child(cx, ROOT)
    }

    pub fn last(&self, cx: Ctx) -> Option<NodeId> {
        let mut n = self.last_visible_child(cx, ROOT)?;
        while self.expanded(cx, n) {
            match self.last_visible_child(cx, n) {
                Some(c) => n = c,
                None => break,
            }
        }
        Some(n)
    }

    /// The row after `n`, depth first.
    pub fn next(&self, cx: Ctx, n: NodeId) -> Option<NodeId> {
        if self.expanded(cx, n) {
            if let Some(c) = self.first_visible_child(cx, n) {
                return Some(c);
            }
        }
        let mut x = n;
        loop {
            if let Some(s) = self.next_sibling(cx, x) {
                return Some(s);
            }
            x = cx.image.paths.parent(x)?;
            if x == ROOT {
                return None;
            }
        }
    }

    /// The row before `n`.
    pub fn prev(&self, cx: Ctx, n: NodeId) -> Option<NodeId> {
        match self.prev_sibling(cx, n) {
            Some(mut s) => {
                while self.expanded(cx, s) {
                    match self.last_visible_child(cx, s) {
                        Some(c) => s = c,
                        None => break,
                    }
                }
                Some(s)
            }
            None => cx.image.paths.parent(n).filter(|&p| p != ROOT),
        }
    }

    /// Is the row shown (visible, and no collapsed directory above it)?
    fn reachable(&self, cx: Ctx, n: NodeId) -> bool {
        if !self.visible(cx, n) {
            return false;
        }
        let mut cur = cx.image.paths.parent(n);
        while let Some(p) = cur {
            if p == ROOT {
                return true;
            }
            if self.is_collapsed(p) || !self.visible(cx, p) {
                return false;
            }
            cur = cx.image.paths.parent(p);
        }
        true
    }

    /// After a change: keep the cursor where it was if it still shows, else on its nearest
    /// shown ancestor, else on the first row; then keep it on screen.
    fn fix_cursor(&mut self, cx: Ctx) {
        let mut c = self.cursor;
        while c != ROOT && !self.reachable(cx, c) {
            c = cx.image.paths.parent(c).unwrap_or(ROOT);
        }
        if c == ROOT {
            c = self.first(cx).unwrap_or(ROOT);
        }
        self.cursor = c;
        if !self.reachable(cx, self.top) {
            self.top = c;
        }
        // rows that appeared above the top (a layer adding /app above /bin) stay hidden unless
        // the view goes back to the first row whenever the cursor fits on the first page
        if let Some(first) = self.first(cx) {
            let mut lines = 0;
            let mut cur = Some(first);
            while let Some(n) = cur {
                lines += self.row_height(cx, n);
                if lines > self.view_h.max(1) {
                    break;
                }
                if n == self.cursor {
                    self.top = first;
                    break;
                }
                cur = self.next(cx, n);
            }
        }
        self.scroll_to_cursor(cx, Dir::Center);
    }

    // ---- moving ---------------------------------------------------------------------------

    /// Lines a row takes (more than one only when wrapping long names).
    pub fn row_height(&self, cx: Ctx, n: NodeId) -> usize {
        if !self.wrap || self.view_w == 0 {
            return 1;
        }
        let prefix = self.row_prefix_width(cx, n);
        let w = prefix
            + crate::text_fit::escape_controls(cx.image.paths.name(n))
                .chars()
                .count()
            + self.link_suffix(cx, n).chars().count()
            + 2;
        wrapped_lines(w, prefix, self.view_w)
    }

    /// Columns before the name: attributes (when shown), size, tree guides.
    pub fn row_prefix_width(&self, cx: Ctx, n: NodeId) -> usize {
        let attrs = if self.shows_attrs() {
            ATTRS_WIDTH
        } else {
            SIZE_WIDTH
        };
        attrs + 4 * cx.image.paths.depth(n)
    }

    /// Are the permission and uid:gid columns shown? The user's choice, else only when the
    /// names keep [`NAME_ROOM`] columns beside them.
    pub fn shows_attrs(&self) -> bool {
        self.attrs.unwrap_or(self.view_w >= ATTRS_WIDTH + NAME_ROOM)
    }

    /// ` → target` of a symlink, ` link to /target` of a hardlink; control characters escaped.
    pub fn link_suffix(&self, cx: Ctx, n: NodeId) -> String {
        use crate::text_fit::escape_controls;
        match self.version(cx, n).and_then(|v| entry_of(cx.image, v)) {
            Some(e) if e.kind == EntryKind::Symlink => {
                format!(" → {}", escape_controls(cx.image.link(e.link)))
            }
            Some(e) if e.kind == EntryKind::Hardlink => {
                format!(" link to /{}", escape_controls(cx.image.link(e.link)))
            }
            _ => String::new(),
        }
    }

    /// The rows on screen, from `top`, filling `view_h` lines.
    pub fn rows(&self, cx: Ctx) -> Vec<NodeId> {
        let mut out = Vec::new();
        if self.top == ROOT {
            return out;
        }
        let mut lines = 0;
        let mut cur = Some(self.top);
        while let Some(n) = cur {
            if lines >= self.view_h {
                break;
            }
            lines += self.row_height(cx, n);
            out.push(n);
            cur = self.next(cx, n);
        }
        out
    }

    pub fn scroll_to_cursor(&mut self, cx: Ctx, dir: Dir) {
        if self.cursor == ROOT {
            self.top = ROOT;
            return;
        }
        // on screen already?
        let mut lines = 0;
        let mut cur = Some(self.top);
        let mut seen = false;
        while let Some(n) = cur {
            lines += self.row_height(cx, n);
            if lines > self.view_h.max(1) {
                break;
            }
            if n == self.cursor {
                seen = true;
            }
            cur = self.next(cx, n);
        }
        if seen {
            // the list got shorter below: pull rows from above into the empty lines
            if cur.is_none() {
                while let Some(p) = self.prev(cx, self.top) {
                    lines += self.row_height(cx, p);
                    if lines > self.view_h {
                        break;
                    }
                    self.top = p;
                }
            }
            return;
        }
        let back = match dir {
            Dir::Up => 0,
            Dir::Down => self.view_h.saturating_sub(1),
            Dir::Center => self.view_h / 2,
        };
        let mut top = self.cursor;
        let mut used = self.row_height(cx, top);
        for _ in 0..back {
            match self.prev(cx, top) {
                Some(p) if used + self.row_height(cx, p) <= self.view_h => {
                    used += self.row_height(cx, p);
                    top = p;
                }
                _ => break,
            }
        }
        self.top = top;
    }

    pub fn down(&mut self, cx: Ctx, count: usize) {
        for _ in 0..count {
            match self.next(cx, self.cursor) {
                Some(n) => self.cursor = n,
                None => break,
            }
        }
        self.scroll_to_cursor(cx, Dir::Down);
    }

    pub fn up(&mut self, cx: Ctx, count: usize) {
        for _ in 0..count {
            match self.prev(cx, self.cursor) {
                Some(n) => self.cursor = n,
                None => break,
            }
        }
        self.scroll_to_cursor(cx, Dir::Up);
    }

    pub fn home(&mut self, cx: Ctx) {
        self.cursor = self.first(cx).unwrap_or(ROOT);
        self.top = self.cursor;
    }

    pub fn end(&mut self, cx: Ctx) {
        self.cursor = self.last(cx).unwrap_or(ROOT);
        self.scroll_to_cursor(cx, Dir::Down);
    }

    /// `←`: collapse an open directory, else go to the parent.
    pub fn left(&mut self, cx: Ctx) {
        let n = self.cursor;
        if n == ROOT {
            return;
        }
        if self.expanded(cx, n) && self.has_children(cx, n) {
            self.toggle_collapse(cx, n);
        } else if let Some(p) = cx.image.paths.parent(n).filter(|&p| p != ROOT) {
            self.cursor = p;
            self.scroll_to_cursor(cx, Dir::Up);
        }
    }

    /// `→`: open a closed directory, else go to its first child.
    pub fn right(&mut self, cx: Ctx) {
        let n = self.cursor;
        if n == ROOT || !self.is_dir(cx, n) {
            return;
        }
        if self.is_collapsed(n) {
            self.toggle_collapse(cx, n);
        } else if let Some(c) = self.first_visible_child(cx, n) {
            self.cursor = c;
            self.scroll_to_cursor(cx, Dir::Down);
        }
    }

    /// Put the cursor on `n`, opening its ancestors.
    pub fn reveal(&mut self, cx: Ctx, n: NodeId) {
        let mut cur = cx.image.paths.parent(n);
        while let Some(p) = cur {
            if p == ROOT {
                break;
            }
            self.expand(p);
            cur = cx.image.paths.parent(p);
        }
        self.cursor = n;
        self.top = n;
        self.fix_cursor(cx);
        if self.cursor == n {
            self.center_on_cursor(cx);
        }
    }

    /// Put the cursor's row in the middle of the pane (as far as there are rows above it).
    pub fn center_on_cursor(&mut self, cx: Ctx) {
        let mut top = self.cursor;
        let mut used = self.row_height(cx, top);
        while let Some(p) = self.prev(cx, top) {
            let h = self.row_height(cx, p);
            if used + h > self.view_h / 2 + 1 {
                break;
            }
            used += h;
            top = p;
        }
        self.top = top;
        // rows after the cursor too few to fill the pane: pull more from above
        self.scroll_to_cursor(cx, Dir::Center);
    }

    /// Lift the settings that keep `n` from showing at the selected layer (the changes-only
    /// mode, the filter, hidden marks, wasted only), fewest first; what was lifted, named.
    pub fn lift_settings_hiding(&mut self, cx: Ctx, n: NodeId) -> Vec<String> {
        let mut lifted = Vec::new();
        if self.shows(cx, n) {
            return lifted;
        }
        if self.mode == LayerMode::ChangesOnly && !self.changed_here(self.version(cx, n)) {
            self.mode = LayerMode::Aggregated;
            lifted.push(LIFTED_CHANGES_ONLY.to_string());
        }
        if let Some(f) = &self.filter {
            if f.matches
                .binary_search_by_key(&cx.image.paths.preorder_rank(n), |&m| {
                    cx.image.paths.preorder_rank(m)
                })
                .is_err()
            {
                lifted.push(format!("{} '{}'", LIFTED_FILTER, f.pattern));
                self.filter = None;
            }
        }
        if self.wasted_only && !self.carries_waste(n) {
            self.wasted_only = false;
            lifted.push(LIFTED_WASTED.to_string());
        }
        self.refresh(cx);
        if !self.shows(cx, n) && self.hide.iter().any(|&h| h) {
            self.hide = [false; 4];
            lifted.push(LIFTED_HIDDEN.to_string());
            self.refresh(cx);
        }
        lifted
    }

    /// Would `n` show with its directories open (visible, and every ancestor visible)?
    pub fn shows(&self, cx: Ctx, n: NodeId) -> bool {
        let mut cur = Some(n);
        while let Some(c) = cur.filter(|&c| c != ROOT) {
            if !self.visible(cx, c) {
                return false;
            }
            cur = cx.image.paths.parent(c);
        }
        true
    }

    /// Which ancestors (outermost first) have rows after them, for the tree guides.
    pub fn guides(&self, cx: Ctx, n: NodeId) -> (Vec<bool>, bool) {
        let mut chain = Vec::new();
        let mut cur = cx.image.paths.parent(n);
        while let Some(p) = cur {
            if p == ROOT {
                break;
            }
            chain.push(self.next_sibling(cx, p).is_some());
            cur = cx.image.paths.parent(p);
        }
        chain.reverse();
        (chain, self.next_sibling(cx, n).is_some())
    }

    pub fn filter_match_count(&self) -> Option<usize> {
        self.filter.as_ref().map(|f| f.matches.len())
    }

    pub fn filter_regex(&self) -> Option<&Regex> {
        self.filter.as_ref().map(|f| &f.regex)
    }
}

/// Lines a row of `len` columns takes in `view_w` columns when its continuation lines start
/// under the name (`indent` columns in); a name with no room beside its prefix starts over at
/// the left.
pub fn wrapped_lines(len: usize, indent: usize, view_w: usize) -> usize {
    if len <= view_w || view_w == 0 {
        return 1;
    }
    let indent = continuation_indent(indent, view_w);
    1 + (len - view_w).div_ceil(view_w - indent)
}

/// Where continuation lines of a wrapped row start: under the name, unless that leaves fewer
/// than a quarter of the width.
pub fn continuation_indent(indent: usize, view_w: usize) -> usize {
    if indent + view_w / 4 > view_w {
        0
    } else {
        indent
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Up,
    Down,
    Center,
}

/// `drwxr-xr-x` (10) + space + `uid:gid` (7) + space + size (8) + space.
pub const ATTRS_WIDTH: usize = 10 + 1 + 7 + 1 + 8 + 1;
/// Size column without attributes.
pub const SIZE_WIDTH: usize = 8 + 1;

/// `drwxr-xr-x` for an entry.
pub fn permissions(kind: EntryKind, mode: u32) -> String {
    let t = match kind {
        EntryKind::Dir => 'd',
        EntryKind::Symlink => 'l',
        EntryKind::CharDevice => 'c',
        EntryKind::BlockDevice => 'b',
        EntryKind::Fifo => 'p',
        _ => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(t);
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (bit, c)) in bits.iter().enumerate() {
        let set = mode & bit != 0;
        let special = match i {
            2 => mode & 0o4000 != 0,
            5 => mode & 0o2000 != 0,
            8 => mode & 0o1000 != 0,
            _ => false,
        };
        s.push(match (set, special, i) {
            (true, true, 8) => 't',
            (false, true, 8) => 'T',
            (true, true, _) => 's',
            (false, true, _) => 'S',
            (true, false, _) => *c,
            (false, false, _) => '-',
        });
    }
    s
}
