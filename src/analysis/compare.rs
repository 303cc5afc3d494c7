//! Two analysed images side by side: headline numbers, layers (shared prefix, then the rest
//! aligned by command), the final filesystems diffed, packages and leftovers. Pure: no I/O.
//!
//! The file diff never walks whole trees: the first `k` layers of both images are the same
//! diff_ids, so both filesystems are identical after them, and a path can differ at the end
//! only if some layer past the prefix touched it on one side. Those paths
//! ([`MergedTree::changed_in`]) are the only ones compared.

use crate::analysis::leftovers::Category;
use crate::analysis::packages::Manager;
use crate::analysis::Analysis;
use crate::image::{EntryKind, Image, Layer};
use crate::paths::{NodeId, PathTable, ROOT};
use crate::tree::{self, MergedTree, IMPLICIT};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A leftover finding as the comparison needs it (from `WhyReport::compare_items`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeftoverItem {
    pub category: Category,
    pub path: String,
    /// The package owning the files, for findings matched by package: several such findings
    /// can share a directory (`/usr/bin` of gcc-12 and of g++-12) and are told apart by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    pub bytes: u64,
}

/// An installed package as the comparison needs it (from `WhyReport::compare_items`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageItem {
    pub manager: Manager,
    pub name: String,
    pub version: String,
    pub bytes: u64,
}

/// One input of a comparison: the image, its analysis, and the optional findings of other
/// analyses (`None`: not computed, so that part of the comparison is left out, not zero).
pub struct Side<'a> {
    pub image: &'a Image,
    pub analysis: &'a Analysis,
    pub leftovers: Option<Vec<LeftoverItem>>,
    pub packages: Option<Vec<PackageItem>>,
}

impl<'a> Side<'a> {
    pub fn new(image: &'a Image, analysis: &'a Analysis) -> Self {
        Side {
            image,
            analysis,
            leftovers: None,
            packages: None,
        }
    }
    pub fn with_leftovers(mut self, l: Vec<LeftoverItem>) -> Self {
        self.leftovers = Some(l);
        self
    }
    pub fn with_packages(mut self, p: Vec<PackageItem>) -> Self {
        self.packages = Some(p);
        self
    }
}

/// Everything that differs between A and B.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub headline: Headline,
    pub layers: LayerDiff,
    pub files: FileDiff,
    /// `None` when either side has no package attribution.
    pub packages: Option<PackageDiff>,
    /// `None` when either side has no leftover findings.
    pub leftovers: Option<LeftoverDiff>,
}

// ---------------------------------------------------------------------------------------------
// Headline

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SideSummary {
    pub name: String,
    pub source: String,
    pub layers: usize,
    /// dive's size: sum of the layers' tar header sizes.
    pub size_bytes: u64,
    pub compressed_bytes: u64,
    pub true_wasted_bytes: u64,
    pub final_bytes: u64,
    /// dive's efficiency score, 0–1.
    pub efficiency: f64,
    pub leftover_bytes: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadlineDelta {
    pub layers: i64,
    pub size_bytes: i64,
    pub compressed_bytes: i64,
    pub true_wasted_bytes: i64,
    pub final_bytes: i64,
    pub efficiency: f64,
    pub leftover_bytes: Option<i64>,
    /// Size growth as a percentage of A's size (`None` when A is empty).
    pub size_percent: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Headline {
    pub a: SideSummary,
    pub b: SideSummary,
    pub delta: HeadlineDelta,
}

fn delta(a: u64, b: u64) -> i64 {
    (b as i128 - a as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn summary(s: &Side) -> SideSummary {
    SideSummary {
        name: s.image.display_name(),
        source: s.image.source.clone(),
        layers: s.image.layers.len(),
        size_bytes: s.image.size_bytes(),
        compressed_bytes: s.image.compressed_bytes(),
        true_wasted_bytes: s.analysis.waste.wasted_bytes,
        final_bytes: s.analysis.waste.final_bytes,
        efficiency: s.analysis.dive.efficiency,
        leftover_bytes: s
            .leftovers
            .as_ref()
            .map(|l| l.iter().map(|x| x.bytes).sum()),
    }
}

fn headline(a: &Side, b: &Side) -> Headline {
    let (sa, sb) = (summary(a), summary(b));
    let d = HeadlineDelta {
        layers: sb.layers as i64 - sa.layers as i64,
        size_bytes: delta(sa.size_bytes, sb.size_bytes),
        compressed_bytes: delta(sa.compressed_bytes, sb.compressed_bytes),
        true_wasted_bytes: delta(sa.true_wasted_bytes, sb.true_wasted_bytes),
        final_bytes: delta(sa.final_bytes, sb.final_bytes),
        efficiency: sb.efficiency - sa.efficiency,
        leftover_bytes: match (sa.leftover_bytes, sb.leftover_bytes) {
            (Some(x), Some(y)) => Some(delta(x, y)),
            _ => None,
        },
        size_percent: (sa.size_bytes > 0)
            .then(|| 100.0 * delta(sa.size_bytes, sb.size_bytes) as f64 / sa.size_bytes as f64),
    };
    Headline {
        a: sa,
        b: sb,
        delta: d,
    }
}

// ---------------------------------------------------------------------------------------------
// Layers

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerRow {
    pub index: usize,
    pub diff_id: String,
    pub size_bytes: u64,
    pub compressed_bytes: u64,
    pub command: String,
}

impl LayerRow {
    fn of(l: &Layer) -> LayerRow {
        LayerRow {
            index: l.index,
            diff_id: l.diff_id.clone(),
            size_bytes: l.size_bytes,
            compressed_bytes: l.compressed_bytes,
            command: l.label(),
        }
    }
}

/// How a layer past the shared prefix relates to the other side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerStatus {
    /// Same diff_id on both sides (after something differed before it).
    Same,
    /// Same command, different content (a rebuilt `COPY . /app`).
    Rebuilt,
    /// A different instruction in the same place.
    Changed,
    /// Only in A.
    Removed,
    /// Only in B.
    Added,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerPair {
    pub status: LayerStatus,
    pub a: Option<LayerRow>,
    pub b: Option<LayerRow>,
}

impl LayerPair {
    /// B's bytes minus A's for this row.
    pub fn delta_bytes(&self) -> i64 {
        delta(
            self.a.as_ref().map_or(0, |r| r.size_bytes),
            self.b.as_ref().map_or(0, |r| r.size_bytes),
        )
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerDiff {
    /// The leading layers with the same diff_id on both sides.
    pub shared: Vec<LayerRow>,
    pub shared_bytes: u64,
    /// The layers after the prefix, aligned by diff_id or command.
    pub rows: Vec<LayerPair>,
}

/// Number of leading layers both images have with the same (known) diff_id.
pub fn shared_prefix(a: &Image, b: &Image) -> usize {
    a.layers
        .iter()
        .zip(&b.layers)
        .take_while(|(x, y)| !x.diff_id.is_empty() && x.diff_id == y.diff_id)
        .count()
}

/// Align two sequences by a longest common subsequence under `eq`: pairs of indices, with
/// `None` on the side that has no partner, in order.
fn align<T>(
    xs: &[T],
    ys: &[T],
    eq: impl Fn(&T, &T) -> bool,
) -> Vec<(Option<usize>, Option<usize>)> {
    // images have at most a few hundred layers: the quadratic table is small
    let (n, m) = (xs.len(), ys.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if eq(&xs[i], &ys[j]) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = Vec::with_capacity(n.max(m));
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && eq(&xs[i], &ys[j]) && lcs[i][j] == lcs[i + 1][j + 1] + 1 {
            out.push((Some(i), Some(j)));
            i += 1;
            j += 1;
        } else if j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push((Some(i), None));
            i += 1;
        } else {
            out.push((None, Some(j)));
            j += 1;
        }
    }
    out
}

/// The instruction of a cleaned command (`RUN`, `COPY`, …), for pairing changed layers.
fn instruction(command: &str) -> &str {
    command.split_whitespace().next().unwrap_or("")
}

fn layer_diff(a: &Image, b: &Image, k: usize) -> LayerDiff {
    let shared: Vec<LayerRow> = a.layers[..k].iter().map(LayerRow::of).collect();
    let shared_bytes = shared.iter().map(|r| r.size_bytes).sum();
    let ra: Vec<LayerRow> = a.layers[k..].iter().map(LayerRow::of).collect();
    let rb: Vec<LayerRow> = b.layers[k..].iter().map(LayerRow::of).collect();
    let same_id = |x: &LayerRow, y: &LayerRow| !x.diff_id.is_empty() && x.diff_id == y.diff_id;
    let mut rows = Vec::new();
    let (mut gap_a, mut gap_b): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    // between two matched layers, unmatched ones with the same instruction pair up as a changed
    // instruction in place (`RUN apt-get install gcc` → `RUN apt-get install clang`); the rest
    // are one-sided
    let flush = |rows: &mut Vec<LayerPair>, ga: &mut Vec<usize>, gb: &mut Vec<usize>| {
        let xs: Vec<&LayerRow> = ga.iter().map(|&i| &ra[i]).collect();
        let ys: Vec<&LayerRow> = gb.iter().map(|&j| &rb[j]).collect();
        for p in align(&xs, &ys, |x, y| {
            !x.command.is_empty() && instruction(&x.command) == instruction(&y.command)
        }) {
            let (x, y) = (p.0.map(|i| xs[i].clone()), p.1.map(|j| ys[j].clone()));
            let status = match (&x, &y) {
                (Some(_), Some(_)) => LayerStatus::Changed,
                (Some(_), None) => LayerStatus::Removed,
                _ => LayerStatus::Added,
            };
            rows.push(LayerPair { status, a: x, b: y });
        }
        ga.clear();
        gb.clear();
    };
    for p in align(&ra, &rb, |x, y| same_id(x, y) || x.command == y.command) {
        match p {
            (Some(i), Some(j)) => {
                flush(&mut rows, &mut gap_a, &mut gap_b);
                let status = if same_id(&ra[i], &rb[j]) {
                    LayerStatus::Same
                } else {
                    LayerStatus::Rebuilt
                };
                rows.push(LayerPair {
                    status,
                    a: Some(ra[i].clone()),
                    b: Some(rb[j].clone()),
                });
            }
            (Some(i), None) => gap_a.push(i),
            (None, Some(j)) => gap_b.push(j),
            (None, None) => {}
        }
    }
    flush(&mut rows, &mut gap_a, &mut gap_b);
    LayerDiff {
        shared,
        shared_bytes,
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// Files

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Added,
    Removed,
    Modified,
}

/// A path's final state on one side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileState {
    pub kind: EntryKind,
    pub size: u64,
    /// Permission bits (`mode & 0o7777`), written in JSON as an octal string (`"0644"`).
    #[serde(serialize_with = "octal")]
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Symlink or hardlink target; empty otherwise.
    pub link: String,
    /// The layer whose entry is on top; `None` for a directory that exists only because
    /// entries below it do (no metadata of its own).
    pub layer: Option<usize>,
    #[serde(skip)]
    pub hash: u64,
}

impl FileState {
    /// Bytes this path holds: regular files only (hardlinks share their target's bytes).
    pub fn bytes(&self) -> u64 {
        if self.kind == EntryKind::File {
            self.size
        } else {
            0
        }
    }
    fn implicit(&self) -> bool {
        self.layer.is_none()
    }
}

fn octal<S: serde::Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{mode:04o}"))
}

/// What differs at a path modified on both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// File, directory, symlink, ... became another kind.
    Type,
    Content,
    /// Permission bits.
    Mode,
    /// uid or gid.
    Owner,
    /// Symlink or hardlink target.
    Link,
}

impl ChangeKind {
    /// As in JSON: `type`, `content`, `mode`, `owner`, `link`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Type => "type",
            ChangeKind::Content => "content",
            ChangeKind::Mode => "mode",
            ChangeKind::Owner => "owner",
            ChangeKind::Link => "link",
        }
    }
    /// Whether the path holds something else now (not only other metadata).
    pub fn is_substantive(self) -> bool {
        matches!(
            self,
            ChangeKind::Type | ChangeKind::Content | ChangeKind::Link
        )
    }
}

/// One path that differs. Its path is its node in [`FileDiff::tree`], spelled out by
/// [`FileDiff::path`] where it is shown: a change holds no path string, so a path 40,000
/// directories deep costs a node per directory, not a string per directory.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChange {
    /// Index into [`FileDiff::tree`].
    #[serde(skip)]
    pub node: usize,
    pub status: FileStatus,
    pub a: Option<FileState>,
    pub b: Option<FileState>,
    /// For modified paths, what differs: any of `type`, `content`, `mode`, `owner`, `link`.
    pub changed: Vec<ChangeKind>,
    /// Modified, but the type, content and link target are the same (mode/owner only).
    pub metadata_only: bool,
    pub delta_bytes: i64,
    /// The path's node in A's and B's path tables (for jumping into either tree).
    #[serde(skip)]
    pub node_a: Option<NodeId>,
    #[serde(skip)]
    pub node_b: Option<NodeId>,
}

impl FileChange {
    /// Bytes of B at this path that A does not have there.
    pub fn added_bytes(&self) -> u64 {
        match self.status {
            FileStatus::Added => self.b.as_ref().map_or(0, FileState::bytes),
            FileStatus::Modified if !self.metadata_only => {
                self.b.as_ref().map_or(0, FileState::bytes)
            }
            _ => 0,
        }
    }
    /// Bytes of A at this path that B does not have there.
    pub fn removed_bytes(&self) -> u64 {
        match self.status {
            FileStatus::Removed => self.a.as_ref().map_or(0, FileState::bytes),
            FileStatus::Modified if !self.metadata_only => {
                self.a.as_ref().map_or(0, FileState::bytes)
            }
            _ => 0,
        }
    }
    pub fn is_dir(&self) -> bool {
        self.b
            .as_ref()
            .or(self.a.as_ref())
            .is_some_and(|s| s.kind == EntryKind::Dir)
    }
}

/// Changes under a directory, summed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollup {
    pub added: usize,
    pub removed: usize,
    pub modified: usize,
    /// Of `modified`, those where only mode or owner changed.
    pub metadata_only: usize,
    pub added_bytes: u64,
    pub removed_bytes: u64,
    pub delta_bytes: i64,
}

impl Rollup {
    /// Bytes that changed hands under this directory: what sorts by impact.
    pub fn churn_bytes(&self) -> u64 {
        self.added_bytes + self.removed_bytes
    }
    pub fn changes(&self) -> usize {
        self.added + self.removed + self.modified
    }
    fn absorb(&mut self, o: &Rollup) {
        self.added += o.added;
        self.removed += o.removed;
        self.modified += o.modified;
        self.metadata_only += o.metadata_only;
        self.added_bytes += o.added_bytes;
        self.removed_bytes += o.removed_bytes;
        self.delta_bytes += o.delta_bytes;
    }
    fn add(&mut self, c: &FileChange) {
        match c.status {
            FileStatus::Added => self.added += 1,
            FileStatus::Removed => self.removed += 1,
            FileStatus::Modified => {
                self.modified += 1;
                if c.metadata_only {
                    self.metadata_only += 1;
                }
            }
        }
        self.added_bytes += c.added_bytes();
        self.removed_bytes += c.removed_bytes();
        self.delta_bytes += c.delta_bytes;
    }
}

/// A node of the diff tree: every changed path and its ancestors, nothing else.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffNode {
    pub name: String,
    pub depth: usize,
    pub parent: Option<usize>,
    /// Children, largest churn first, then by name.
    pub children: Vec<usize>,
    /// Index into [`FileDiff::changes`] when this path itself changed.
    pub change: Option<usize>,
    /// A directory on either side (or an ancestor of changes).
    pub is_dir: bool,
    /// This path and everything below it.
    pub rollup: Rollup,
    /// Position of this node's path among the tree's paths compared as strings (`/a`, `/a-b`,
    /// `/a/b`): the order of ties in the reports, without building the strings.
    #[serde(skip)]
    pub path_order: u32,
}

/// One row of the flattened diff tree, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiffRow {
    pub node: usize,
    pub depth: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileDiff {
    /// Changed paths, in path order.
    pub changes: Vec<FileChange>,
    /// The diff tree; node 0 is `/` and holds the totals. (JSON lists its directories instead.)
    #[serde(skip)]
    pub tree: Vec<DiffNode>,
    /// How many paths were looked at (the ones touched past the shared prefix).
    pub candidates: usize,
    /// Files that left one path and arrived at another.
    pub moves: Vec<FileMove>,
}

/// A regular file removed at one path and added at another: with the same content, or with
/// the same name when no other removed file has it (a binary a multi-stage build copied
/// elsewhere, often rebuilt or stripped on the way).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileMove {
    pub from: String,
    pub to: String,
    pub same_content: bool,
    pub from_bytes: u64,
    pub to_bytes: u64,
}

/// `/a/b/c` for a node of the diff tree; `/` for its root. Linear in the path's length.
fn node_path(tree: &[DiffNode], node: usize) -> String {
    let mut names = Vec::new();
    let mut cur = node;
    while let Some(p) = tree.get(cur).and_then(|n| n.parent) {
        names.push(tree[cur].name.as_str());
        cur = p;
    }
    if names.is_empty() {
        return "/".to_string();
    }
    let mut out = String::with_capacity(names.iter().map(|n| n.len() + 1).sum());
    for n in names.iter().rev() {
        out.push('/');
        out.push_str(n);
    }
    out
}

fn find_moves(changes: &[FileChange], tree: &[DiffNode]) -> Vec<FileMove> {
    let file_name = |c: &FileChange| tree[c.node].name.as_str();
    let file = |s: &Option<FileState>| s.as_ref().filter(|x| x.kind == EntryKind::File).cloned();
    let mut by_content: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        if let (FileStatus::Removed, Some(a)) = (c.status, file(&c.a)) {
            if a.hash != 0 && a.size > 0 {
                by_content.entry((a.size, a.hash)).or_default().push(i);
            }
            by_name.entry(file_name(c)).or_default().push(i);
        }
    }
    let mut used: HashSet<usize> = HashSet::new();
    let mut out = Vec::new();
    for c in changes {
        let (FileStatus::Added, Some(b)) = (c.status, file(&c.b)) else {
            continue;
        };
        let same = (b.hash != 0 && b.size > 0)
            .then(|| by_content.get(&(b.size, b.hash)))
            .flatten()
            .and_then(|v| v.iter().copied().find(|i| !used.contains(i)));
        let pick = same.map(|i| (i, true)).or_else(|| {
            match by_name.get(file_name(c)).map(Vec::as_slice) {
                Some([only]) if !used.contains(only) => Some((*only, false)),
                _ => None,
            }
        });
        if let Some((i, same_content)) = pick {
            used.insert(i);
            let from = &changes[i];
            out.push(FileMove {
                from: node_path(tree, from.node),
                to: node_path(tree, c.node),
                same_content,
                from_bytes: from.a.as_ref().map_or(0, FileState::bytes),
                to_bytes: b.bytes(),
            });
        }
    }
    out.sort_by(|x, y| y.to_bytes.cmp(&x.to_bytes).then_with(|| x.to.cmp(&y.to)));
    out
}

impl FileDiff {
    pub fn totals(&self) -> &Rollup {
        &self.tree[0].rollup
    }

    /// The path of a node of [`FileDiff::tree`] (`/` for the root), built when asked for.
    pub fn path(&self, node: usize) -> String {
        node_path(&self.tree, node)
    }

    /// The tree flattened depth-first (children by impact), skipping the children of nodes in
    /// `collapsed`; the root itself is not a row.
    pub fn rows(&self, collapsed: &HashSet<usize>) -> Vec<DiffRow> {
        let mut out = Vec::new();
        let mut stack: Vec<DiffRow> = self.tree[0]
            .children
            .iter()
            .rev()
            .map(|&n| DiffRow { node: n, depth: 0 })
            .collect();
        while let Some(r) = stack.pop() {
            out.push(r);
            if !collapsed.contains(&r.node) {
                for &c in self.tree[r.node].children.iter().rev() {
                    stack.push(DiffRow {
                        node: c,
                        depth: r.depth + 1,
                    });
                }
            }
        }
        out
    }

    /// Directories at `depth` (1 = top level) with changes under them, largest churn first.
    pub fn dirs_at_depth(&self, depth: usize) -> Vec<&DiffNode> {
        let mut v: Vec<&DiffNode> = self
            .tree
            .iter()
            .filter(|n| n.depth == depth && n.is_dir)
            .collect();
        v.sort_by(|x, y| {
            by_impact(&x.rollup, &y.rollup).then_with(|| x.path_order.cmp(&y.path_order))
        });
        v
    }

    /// Changed non-directory paths, largest churn first (then by path).
    pub fn top_files(&self) -> Vec<&FileChange> {
        let mut v: Vec<&FileChange> = self
            .changes
            .iter()
            .filter(|c| {
                !c.is_dir()
                    || (c.a.is_some() && c.b.is_some() && c.changed.contains(&ChangeKind::Type))
            })
            .collect();
        v.sort_by(|x, y| {
            (y.added_bytes() + y.removed_bytes())
                .cmp(&(x.added_bytes() + x.removed_bytes()))
                .then_with(|| {
                    y.delta_bytes
                        .unsigned_abs()
                        .cmp(&x.delta_bytes.unsigned_abs())
                })
                .then_with(|| {
                    self.tree[x.node]
                        .path_order
                        .cmp(&self.tree[y.node].path_order)
                })
        });
        v
    }

    /// Changes by node, in A's and in B's path tables, for a tree view walking either image's
    /// merged tree to mark the paths that differ.
    pub fn index_by_node(&self) -> (HashMap<NodeId, usize>, HashMap<NodeId, usize>) {
        let (mut a, mut b) = (HashMap::new(), HashMap::new());
        for (i, c) in self.changes.iter().enumerate() {
            if let Some(n) = c.node_a {
                a.insert(n, i);
            }
            if let Some(n) = c.node_b {
                b.insert(n, i);
            }
        }
        (a, b)
    }

    /// The change at a path, if it changed.
    pub fn change(&self, path: &str) -> Option<&FileChange> {
        let mut cur = 0;
        for comp in path.split('/').filter(|s| !s.is_empty()) {
            cur = *self
                .tree
                .get(cur)?
                .children
                .iter()
                .find(|&&c| self.tree[c].name == comp)?;
        }
        self.tree.get(cur)?.change.map(|i| &self.changes[i])
    }
}

fn by_impact(x: &Rollup, y: &Rollup) -> Ordering {
    y.churn_bytes()
        .cmp(&x.churn_bytes())
        .then_with(|| {
            y.delta_bytes
                .unsigned_abs()
                .cmp(&x.delta_bytes.unsigned_abs())
        })
        .then_with(|| y.changes().cmp(&x.changes()))
}

/// Maps nodes of one path table to the same paths in another, memoised by ancestor.
struct NodeMap<'a> {
    from: &'a PathTable,
    to: &'a PathTable,
    memo: HashMap<NodeId, Option<NodeId>>,
}

impl<'a> NodeMap<'a> {
    fn new(from: &'a PathTable, to: &'a PathTable) -> Self {
        NodeMap {
            from,
            to,
            memo: HashMap::new(),
        }
    }
    fn map(&mut self, n: NodeId) -> Option<NodeId> {
        // up to the nearest ancestor already mapped, then back down (a loop, not recursion:
        // paths can be tens of thousands of directories deep)
        let mut chain = Vec::new();
        let mut cur = n;
        let mut to = loop {
            if cur == ROOT {
                break Some(ROOT);
            }
            if let Some(&r) = self.memo.get(&cur) {
                break r;
            }
            chain.push(cur);
            cur = self.from.parent(cur).unwrap_or(ROOT);
        };
        for &c in chain.iter().rev() {
            to = to.and_then(|tp| self.to.child(tp, self.from.name(c)));
            self.memo.insert(c, to);
        }
        to
    }
}

fn final_state(image: &Image, merged: &MergedTree, node: Option<NodeId>) -> Option<FileState> {
    let v = merged.final_state(node?)?;
    if !v.present() {
        return None;
    }
    if v.entry == IMPLICIT {
        return Some(FileState {
            kind: EntryKind::Dir,
            size: 0,
            mode: 0,
            uid: 0,
            gid: 0,
            link: String::new(),
            layer: None,
            hash: 0,
        });
    }
    let e = tree::entry_of(image, v)?;
    Some(FileState {
        kind: e.kind,
        size: e.size,
        mode: e.mode & 0o7777,
        uid: e.uid,
        gid: e.gid,
        link: image.link(e.link).to_string(),
        layer: Some(v.layer as usize),
        hash: e.hash,
    })
}

/// What differs between two present states; empty when nothing does. The rules of
/// [`tree::same_content`], across two images: an implicit directory matches any directory.
fn differences(a: &FileState, b: &FileState) -> Vec<ChangeKind> {
    let mut v = Vec::new();
    if a.kind != b.kind {
        v.push(ChangeKind::Type);
    }
    if a.kind == EntryKind::File && b.kind == EntryKind::File {
        // a hash of 0 means "not hashed": then only the size can tell
        let hashes_differ = a.hash != 0 && b.hash != 0 && a.hash != b.hash;
        if a.size != b.size || hashes_differ {
            v.push(ChangeKind::Content);
        }
    }
    if a.implicit() || b.implicit() {
        return v;
    }
    if a.mode != b.mode {
        v.push(ChangeKind::Mode);
    }
    if a.uid != b.uid || a.gid != b.gid {
        v.push(ChangeKind::Owner);
    }
    if a.link != b.link {
        v.push(ChangeKind::Link);
    }
    v
}

fn file_diff<'a>(a: &Side<'a>, b: &Side<'a>, k: usize) -> FileDiff {
    let (ia, ib) = (a.image, b.image);
    let (ma, mb) = (&a.analysis.merged, &b.analysis.merged);
    let mut a_to_b = NodeMap::new(&ia.paths, &ib.paths);
    let mut b_to_a = NodeMap::new(&ib.paths, &ia.paths);
    // candidate pairs (node in A, node in B), each path once
    let mut seen_a: HashSet<NodeId> = HashSet::new();
    let mut seen_b: HashSet<NodeId> = HashSet::new();
    let mut pairs: Vec<(Option<NodeId>, Option<NodeId>)> = Vec::new();
    for l in k..ia.layers.len() {
        for &na in ma.changed_in(l) {
            if seen_a.insert(na) {
                let nb = a_to_b.map(na);
                if let Some(nb) = nb {
                    seen_b.insert(nb);
                }
                pairs.push((Some(na), nb));
            }
        }
    }
    for l in k..ib.layers.len() {
        for &nb in mb.changed_in(l) {
            if seen_b.insert(nb) {
                let na = b_to_a.map(nb);
                if let Some(na) = na {
                    if !seen_a.insert(na) {
                        continue;
                    }
                }
                pairs.push((na, Some(nb)));
            }
        }
    }
    let candidates = pairs.len();
    let mut tree = TreeBuilder::new(&ia.paths, &ib.paths);
    let mut changes = Vec::new();
    for (na, nb) in pairs {
        let sa = final_state(ia, ma, na);
        let sb = final_state(ib, mb, nb);
        let (status, changed) = match (&sa, &sb) {
            (None, None) => continue,
            (None, Some(_)) => (FileStatus::Added, Vec::new()),
            (Some(_), None) => (FileStatus::Removed, Vec::new()),
            (Some(x), Some(y)) => {
                let d = differences(x, y);
                if d.is_empty() {
                    continue;
                }
                (FileStatus::Modified, d)
            }
        };
        let Some(node) = tree.node_of(na, nb) else {
            continue;
        };
        let metadata_only =
            status == FileStatus::Modified && !changed.iter().any(|c| c.is_substantive());
        let delta_bytes = delta(
            sa.as_ref().map_or(0, FileState::bytes),
            sb.as_ref().map_or(0, FileState::bytes),
        );
        changes.push(FileChange {
            node,
            status,
            a: sa,
            b: sb,
            changed,
            metadata_only,
            delta_bytes,
            node_a: na,
            node_b: nb,
        });
    }
    let tree = tree.finish(&mut changes);
    let moves = find_moves(&changes, &tree);
    FileDiff {
        changes,
        tree,
        candidates,
        moves,
    }
}

/// Builds the diff tree from the changed nodes of both path tables: a changed path's node is
/// found from its nearest ancestor already in the tree (memoised per table), so the work is
/// one step per tree node, however deep the paths.
struct TreeBuilder<'a> {
    paths_a: &'a PathTable,
    paths_b: &'a PathTable,
    nodes: Vec<DiffNode>,
    /// (parent, name) → node: the same path reached from A's table or from B's.
    index: HashMap<(usize, &'a str), usize>,
    of_a: HashMap<NodeId, usize>,
    of_b: HashMap<NodeId, usize>,
}

impl<'a> TreeBuilder<'a> {
    fn new(paths_a: &'a PathTable, paths_b: &'a PathTable) -> Self {
        TreeBuilder {
            paths_a,
            paths_b,
            nodes: vec![DiffNode {
                name: String::new(),
                depth: 0,
                parent: None,
                children: Vec::new(),
                change: None,
                is_dir: true,
                rollup: Rollup::default(),
                path_order: 0,
            }],
            index: HashMap::new(),
            of_a: HashMap::new(),
            of_b: HashMap::new(),
        }
    }

    /// The tree node of a changed path (its node in A's table, B's, or both), created with
    /// its missing ancestors.
    fn node_of(&mut self, na: Option<NodeId>, nb: Option<NodeId>) -> Option<usize> {
        match (na, nb) {
            (Some(a), b) => {
                let n = self.node_in(true, a);
                if let Some(b) = b {
                    self.of_b.insert(b, n);
                }
                Some(n)
            }
            (None, Some(b)) => Some(self.node_in(false, b)),
            (None, None) => None,
        }
    }

    fn node_in(&mut self, in_a: bool, id: NodeId) -> usize {
        let (paths, memo) = if in_a {
            (self.paths_a, &mut self.of_a)
        } else {
            (self.paths_b, &mut self.of_b)
        };
        let mut chain = Vec::new();
        let mut cur = id;
        let mut at = loop {
            if cur == ROOT {
                break 0;
            }
            if let Some(&n) = memo.get(&cur) {
                break n;
            }
            chain.push(cur);
            cur = paths.parent(cur).unwrap_or(ROOT);
        };
        for &c in chain.iter().rev() {
            let name = paths.name(c);
            let next = match self.index.get(&(at, name)) {
                Some(&n) => n,
                None => {
                    let n = self.nodes.len();
                    let depth = self.nodes[at].depth + 1;
                    self.nodes.push(DiffNode {
                        name: name.to_string(),
                        depth,
                        parent: Some(at),
                        children: Vec::new(),
                        change: None,
                        is_dir: true,
                        rollup: Rollup::default(),
                        path_order: 0,
                    });
                    self.nodes[at].children.push(n);
                    self.index.insert((at, name), n);
                    n
                }
            };
            memo.insert(c, next);
            at = next;
        }
        at
    }

    /// Sort `changes` in path order (component by component, as trees list them), point the
    /// nodes at them, sum the rollups bottom-up and order every node's children by impact.
    fn finish(self, changes: &mut [FileChange]) -> Vec<DiffNode> {
        let mut nodes = self.nodes;
        let by_name: Vec<Vec<usize>> = nodes
            .iter()
            .map(|n| {
                let mut ch = n.children.clone();
                ch.sort_by(|&x, &y| nodes[x].name.cmp(&nodes[y].name));
                ch
            })
            .collect();
        let tree_order = preorder(&by_name);
        for (n, o) in string_order(&nodes, &by_name).into_iter().enumerate() {
            nodes[n].path_order = o;
        }
        changes.sort_by_key(|c| tree_order[c.node]);
        for (i, c) in changes.iter().enumerate() {
            let n = &mut nodes[c.node];
            n.change = Some(i);
            n.is_dir = c.is_dir() || !n.children.is_empty();
            n.rollup.add(c);
        }
        // a parent is created before its children: one backward pass sums every subtree
        for n in (1..nodes.len()).rev() {
            if let Some(p) = nodes[n].parent {
                let r = nodes[n].rollup.clone();
                nodes[p].rollup.absorb(&r);
            }
        }
        let order: Vec<Vec<usize>> = nodes
            .iter()
            .map(|n| {
                let mut ch = n.children.clone();
                ch.sort_by(|&x, &y| {
                    by_impact(&nodes[x].rollup, &nodes[y].rollup)
                        .then_with(|| nodes[x].name.cmp(&nodes[y].name))
                });
                ch
            })
            .collect();
        for (n, ch) in nodes.iter_mut().zip(order) {
            n.children = ch;
        }
        nodes
    }
}

/// Rank of each node in a depth-first walk, children in name order: paths compared component
/// by component (`/a/b` before `/a-b`).
fn preorder(children: &[Vec<usize>]) -> Vec<u32> {
    let mut rank = vec![0u32; children.len()];
    let mut next = 0u32;
    let mut stack = vec![0usize];
    while let Some(n) = stack.pop() {
        rank[n] = next;
        next += 1;
        stack.extend(children[n].iter().rev());
    }
    rank
}

/// Rank of each node's path among all the tree's paths compared as strings (`/a`, `/a-b`,
/// `/a/b`: `-` sorts before `/`, so a subtree is not one run). Among siblings, a node's own
/// path sorts by its name and the paths below it by its name and `/`; placing those keys in
/// order, level by level, places every path.
fn string_order(nodes: &[DiffNode], children: &[Vec<usize>]) -> Vec<u32> {
    let key = |&(n, below): &(usize, bool)| {
        nodes[n]
            .name
            .bytes()
            .chain(below.then_some(b'/'))
            .collect::<Vec<u8>>()
    };
    let mut rank = vec![0u32; nodes.len()];
    let mut next = 1u32; // the root, `/`, is first
                         // (node, below): the node's own path, or the paths below it
    let mut stack: Vec<(usize, bool)> = vec![(0, true)];
    while let Some((n, below)) = stack.pop() {
        if !below {
            rank[n] = next;
            next += 1;
            continue;
        }
        let mut items: Vec<((usize, bool), Vec<u8>)> = children[n]
            .iter()
            .flat_map(|&c| {
                let own = (c, false);
                let sub = (!children[c].is_empty()).then_some((c, true));
                std::iter::once(own).chain(sub)
            })
            .map(|it| (it, key(&it)))
            .collect();
        items.sort_by(|x, y| x.1.cmp(&y.1));
        stack.extend(items.into_iter().rev().map(|(it, _)| it));
    }
    rank
}

// ---------------------------------------------------------------------------------------------
// Packages and leftovers

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageChange {
    pub manager: Manager,
    pub name: String,
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    pub from_bytes: u64,
    pub to_bytes: u64,
    pub delta_bytes: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageDiff {
    pub added: Vec<PackageChange>,
    pub removed: Vec<PackageChange>,
    pub upgraded: Vec<PackageChange>,
    pub downgraded: Vec<PackageChange>,
    pub delta_bytes: i64,
}

/// Compare packages by (manager, name). A name installed twice (e.g. two site-packages) counts
/// once, with its bytes summed and its first version.
pub fn package_diff(a: &[PackageItem], b: &[PackageItem]) -> PackageDiff {
    type Index = BTreeMap<(Manager, String), (String, u64)>;
    fn index(v: &[PackageItem]) -> Index {
        let mut m: Index = BTreeMap::new();
        for p in v {
            let e = m
                .entry((p.manager, p.name.clone()))
                .or_insert_with(|| (p.version.clone(), 0));
            e.1 += p.bytes;
        }
        m
    }
    let (ma, mb) = (index(a), index(b));
    let mut d = PackageDiff {
        added: vec![],
        removed: vec![],
        upgraded: vec![],
        downgraded: vec![],
        delta_bytes: 0,
    };
    let change = |k: &(Manager, String), x: Option<&(String, u64)>, y: Option<&(String, u64)>| {
        let (fb, tb) = (x.map_or(0, |v| v.1), y.map_or(0, |v| v.1));
        PackageChange {
            manager: k.0,
            name: k.1.clone(),
            from_version: x.map(|v| v.0.clone()),
            to_version: y.map(|v| v.0.clone()),
            from_bytes: fb,
            to_bytes: tb,
            delta_bytes: delta(fb, tb),
        }
    };
    for (k, x) in &ma {
        match mb.get(k) {
            None => d.removed.push(change(k, Some(x), None)),
            Some(y) => match compare_versions(&x.0, &y.0) {
                Ordering::Less => d.upgraded.push(change(k, Some(x), Some(y))),
                Ordering::Greater => d.downgraded.push(change(k, Some(x), Some(y))),
                Ordering::Equal => {}
            },
        }
    }
    for (k, y) in &mb {
        if !ma.contains_key(k) {
            d.added.push(change(k, None, Some(y)));
        }
    }
    let total = |m: &Index| m.values().map(|v| v.1).sum::<u64>();
    d.delta_bytes = delta(total(&ma), total(&mb));
    for v in [
        &mut d.added,
        &mut d.removed,
        &mut d.upgraded,
        &mut d.downgraded,
    ] {
        v.sort_by(|x, y| {
            y.delta_bytes
                .unsigned_abs()
                .cmp(&x.delta_bytes.unsigned_abs())
                .then_with(|| x.name.cmp(&y.name))
                .then_with(|| x.manager.as_str().cmp(y.manager.as_str()))
        });
    }
    d
}

/// Version order as dpkg defines it (epoch, upstream, revision; `~` sorts before anything,
/// digits compare as numbers). apk and PEP 440 versions sort the same way in common cases.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn split(v: &str) -> (u64, &str, &str) {
        let (epoch, rest) = match v.split_once(':') {
            Some((e, r)) if e.chars().all(|c| c.is_ascii_digit()) && !e.is_empty() => {
                (e.parse().unwrap_or(0), r)
            }
            _ => (0, v),
        };
        match rest.rsplit_once('-') {
            Some((u, r)) => (epoch, u, r),
            None => (epoch, rest, ""),
        }
    }
    fn order(c: Option<u8>) -> i32 {
        match c {
            None => 0,
            Some(b'~') => -1,
            Some(c) if c.is_ascii_digit() => 0,
            Some(c) if c.is_ascii_alphabetic() => c as i32,
            Some(c) => c as i32 + 256,
        }
    }
    fn verrevcmp(a: &str, b: &str) -> Ordering {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit())
            {
                let ac = order(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
                let bc = order(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
                if ac != bc {
                    return ac.cmp(&bc);
                }
                if i < a.len() && !a[i].is_ascii_digit() {
                    i += 1;
                }
                if j < b.len() && !b[j].is_ascii_digit() {
                    j += 1;
                }
            }
            while i < a.len() && a[i] == b'0' {
                i += 1;
            }
            while j < b.len() && b[j] == b'0' {
                j += 1;
            }
            let si = i;
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            // leading zeros are gone: a longer run of digits is a larger number
            let ord = (i - si)
                .cmp(&(j - sj))
                .then_with(|| a[si..i].cmp(&b[sj..j]));
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| verrevcmp(ua, ub))
        .then_with(|| verrevcmp(ra, rb))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeftoverDiff {
    /// Findings in B that A does not have (by category and path).
    pub new: Vec<LeftoverItem>,
    /// Findings in A that B no longer has.
    pub gone: Vec<LeftoverItem>,
    pub a_bytes: u64,
    pub b_bytes: u64,
    pub delta_bytes: i64,
}

pub fn leftover_diff(a: &[LeftoverItem], b: &[LeftoverItem]) -> LeftoverDiff {
    let key = |x: &LeftoverItem| (x.category, x.path.clone(), x.package.clone());
    let ka: HashSet<_> = a.iter().map(key).collect();
    let kb: HashSet<_> = b.iter().map(key).collect();
    let mut new: Vec<LeftoverItem> = b
        .iter()
        .filter(|x| !ka.contains(&key(x)))
        .cloned()
        .collect();
    let mut gone: Vec<LeftoverItem> = a
        .iter()
        .filter(|x| !kb.contains(&key(x)))
        .cloned()
        .collect();
    for v in [&mut new, &mut gone] {
        v.sort_by(|x, y| {
            y.bytes
                .cmp(&x.bytes)
                .then_with(|| x.path.cmp(&y.path))
                .then_with(|| x.package.cmp(&y.package))
        });
    }
    let (ab, bb) = (
        a.iter().map(|x| x.bytes).sum(),
        b.iter().map(|x| x.bytes).sum(),
    );
    LeftoverDiff {
        new,
        gone,
        a_bytes: ab,
        b_bytes: bb,
        delta_bytes: delta(ab, bb),
    }
}

// ---------------------------------------------------------------------------------------------

/// Compare two analysed images.
pub fn compare(a: &Side, b: &Side) -> Comparison {
    let k = shared_prefix(a.image, b.image);
    Comparison {
        headline: headline(a, b),
        layers: layer_diff(a.image, b.image, k),
        files: file_diff(a, b, k),
        packages: match (&a.packages, &b.packages) {
            (Some(x), Some(y)) => Some(package_diff(x, y)),
            _ => None,
        },
        leftovers: match (&a.leftovers, &b.leftovers) {
            (Some(x), Some(y)) => Some(leftover_diff(x, y)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_as_dpkg_orders_them() {
        use Ordering::*;
        assert_eq!(compare_versions("1.2.3-1", "1.2.10-1"), Less);
        assert_eq!(compare_versions("1:1.0", "2.0"), Greater);
        assert_eq!(compare_versions("1.0~rc1", "1.0"), Less);
        assert_eq!(compare_versions("2.36-9+deb12u4", "2.36-9+deb12u10"), Less);
        assert_eq!(compare_versions("1.0a", "1.0"), Greater);
        assert_eq!(compare_versions("1.01", "1.1"), Equal);
        assert_eq!(compare_versions("3.0.11-1~deb12u2", "3.0.11-1"), Less);
    }

    #[test]
    fn packages_split_into_added_removed_upgraded_downgraded() {
        let p = |n: &str, v: &str, b: u64| PackageItem {
            manager: Manager::Dpkg,
            name: n.into(),
            version: v.into(),
            bytes: b,
        };
        let a = vec![
            p("libc6", "2.36-9", 1000),
            p("gcc", "12.2", 5000),
            p("curl", "8.0", 300),
        ];
        let b = vec![
            p("libc6", "2.36-10", 1100),
            p("tzdata", "2024a", 400),
            p("curl", "7.9", 290),
        ];
        let d = package_diff(&a, &b);
        assert_eq!(
            d.added.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["tzdata"]
        );
        assert_eq!(
            d.removed
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["gcc"]
        );
        assert_eq!(d.upgraded.len(), 1);
        assert_eq!(d.upgraded[0].delta_bytes, 100);
        assert_eq!(d.downgraded[0].name, "curl");
        // (1100 + 400 + 290) - (1000 + 5000 + 300) = 1790 - 6300
        assert_eq!(d.delta_bytes, -4510);
    }

    #[test]
    fn leftovers_new_and_gone_by_category_and_path() {
        let l = |c: Category, p: &str, b: u64| LeftoverItem {
            category: c,
            path: p.into(),
            package: None,
            bytes: b,
        };
        let pkg = |p: &str, b: u64| LeftoverItem {
            package: Some(p.into()),
            ..l(Category::Compiler, "/usr/bin", b)
        };
        let a = vec![
            l(Category::Compiler, "/usr/local/go", 200),
            l(Category::PackageCache, "/var/lib/apt/lists", 40),
            pkg("gcc-12", 30),
        ];
        let b = vec![
            l(Category::PackageCache, "/var/lib/apt/lists", 45),
            l(Category::Vcs, "/app/.git", 7),
            pkg("gcc-12", 30),
            pkg("g++-12", 20),
        ];
        let d = leftover_diff(&a, &b);
        // g++-12's /usr/bin is new although gcc-12 had a finding at the same path
        assert_eq!(
            d.new,
            vec![pkg("g++-12", 20), l(Category::Vcs, "/app/.git", 7)]
        );
        assert_eq!(d.gone, vec![l(Category::Compiler, "/usr/local/go", 200)]);
        // A: 200 + 40 + 30 = 270; B: 45 + 7 + 30 + 20 = 102
        assert_eq!((d.a_bytes, d.b_bytes, d.delta_bytes), (270, 102, -168));
    }

    #[test]
    fn tree_orders_match_the_paths_compared_by_component_and_as_strings() {
        // /, /a, /a/b, /a/b/c, /a-b, /a.b, /a-b/x, /b
        let spec: &[(&str, usize)] = &[
            ("", 0),
            ("a", 0),
            ("b", 1),
            ("c", 2),
            ("a-b", 0),
            ("a.b", 0),
            ("x", 4),
            ("b", 0),
        ];
        let mut nodes: Vec<DiffNode> = spec
            .iter()
            .enumerate()
            .map(|(i, &(name, parent))| DiffNode {
                name: name.into(),
                depth: 0,
                parent: (i > 0).then_some(parent),
                children: Vec::new(),
                change: None,
                is_dir: true,
                rollup: Rollup::default(),
                path_order: 0,
            })
            .collect();
        for (i, &(_, p)) in spec.iter().enumerate().skip(1) {
            nodes[p].children.push(i);
        }
        let by_name: Vec<Vec<usize>> = nodes
            .iter()
            .map(|n| {
                let mut c = n.children.clone();
                c.sort_by(|&x, &y| nodes[x].name.cmp(&nodes[y].name));
                c
            })
            .collect();
        let paths: Vec<String> = (0..nodes.len()).map(|n| node_path(&nodes, n)).collect();
        let sorted_by = |rank: Vec<u32>| {
            let mut v: Vec<usize> = (0..nodes.len()).collect();
            v.sort_by_key(|&n| rank[n]);
            v.into_iter().map(|n| paths[n].as_str()).collect::<Vec<_>>()
        };
        let mut as_strings: Vec<&str> = paths.iter().map(String::as_str).collect();
        as_strings.sort();
        assert_eq!(sorted_by(string_order(&nodes, &by_name)), as_strings);
        assert_eq!(
            as_strings,
            ["/", "/a", "/a-b", "/a-b/x", "/a.b", "/a/b", "/a/b/c", "/b"]
        );
        let mut by_component: Vec<&str> = paths.iter().map(String::as_str).collect();
        by_component.sort_by(|x, y| x.split('/').cmp(y.split('/')));
        assert_eq!(sorted_by(preorder(&by_name)), by_component);
        assert_eq!(
            by_component,
            ["/", "/a", "/a/b", "/a/b/c", "/a-b", "/a-b/x", "/a.b", "/b"]
        );
    }
}
