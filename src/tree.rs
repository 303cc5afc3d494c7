//! The merged filesystem: the layers applied in order by the OCI rules, kept as each path's
//! history of versions (which layer's entry is on top from which layer on), so the tree at any
//! layer and the change marks against the layer below are lookups, not replays.
//! Knows nothing of tar, terminals or reports.

use crate::image::{EntryKind, Image, LayerEntry};
use crate::paths::{NodeId, ROOT};

/// The node is not in the merged filesystem (never was, or was removed).
pub const ABSENT: u32 = u32::MAX;
/// A directory that exists because entries below it do, with no entry of its own.
pub const IMPLICIT: u32 = u32::MAX - 1;

/// What a path is, from some layer on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    pub layer: u32,
    /// Index into that layer's entries, or [`ABSENT`] / [`IMPLICIT`].
    pub entry: u32,
}

impl Version {
    pub fn present(&self) -> bool {
        self.entry != ABSENT
    }
}

/// How a path changed in a layer, against the merged filesystem below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeMark {
    Added,
    Modified,
    Removed,
    Unchanged,
}

/// Every path's versions across the layers, plus each layer's changed paths.
#[derive(Debug)]
pub struct MergedTree {
    starts: Vec<u32>,
    versions: Vec<Version>,
    layer_changes: Vec<Vec<NodeId>>,
    layers: usize,
}

struct Builder<'a> {
    image: &'a Image,
    cur: Vec<u32>, // entry index or ABSENT / IMPLICIT; layer in cur_layer
    cur_layer: Vec<u32>,
    log: Vec<(NodeId, Version)>,
}

impl<'a> Builder<'a> {
    fn is_dirlike(&self, node: NodeId) -> bool {
        let e = self.cur[node as usize];
        if e == IMPLICIT {
            return true;
        }
        if e == ABSENT {
            return false;
        }
        let l = self.cur_layer[node as usize] as usize;
        self.image.layers[l].entries[e as usize].kind == EntryKind::Dir
    }

    fn set(&mut self, node: NodeId, layer: u32, entry: u32) {
        self.cur[node as usize] = entry;
        self.cur_layer[node as usize] = layer;
        self.log.push((node, Version { layer, entry }));
    }

    /// Remove every present node strictly below `node`.
    fn remove_below(&mut self, node: NodeId, layer: u32) {
        let mut stack: Vec<NodeId> = self.image.paths.children(node).to_vec();
        while let Some(n) = stack.pop() {
            if self.cur[n as usize] == ABSENT {
                continue; // nothing below an absent node is present
            }
            self.set(n, layer, ABSENT);
            stack.extend_from_slice(self.image.paths.children(n));
        }
    }

    fn remove(&mut self, node: NodeId, layer: u32) {
        if self.cur[node as usize] == ABSENT {
            return;
        }
        self.remove_below(node, layer);
        self.set(node, layer, ABSENT);
    }

    /// Make every ancestor of `node` a present directory.
    fn ensure_parents(&mut self, node: NodeId, layer: u32) {
        let mut chain = Vec::new();
        let mut cur = self.image.paths.parent(node);
        while let Some(a) = cur {
            if a == ROOT {
                break;
            }
            chain.push(a);
            cur = self.image.paths.parent(a);
        }
        for &a in chain.iter().rev() {
            if self.cur[a as usize] == ABSENT {
                self.set(a, layer, IMPLICIT);
            } else if !self.is_dirlike(a) {
                // a file or link where a directory must be: the directory replaces it
                self.set(a, layer, IMPLICIT);
            }
        }
    }
}

impl MergedTree {
    /// Apply every layer in order. Linear in entries plus removed paths.
    pub fn build(image: &Image) -> MergedTree {
        let n = image.paths.len();
        let mut b = Builder {
            image,
            cur: vec![ABSENT; n],
            cur_layer: vec![0; n],
            log: Vec::new(),
        };
        let mut layer_bounds = Vec::with_capacity(image.layers.len() + 1);
        layer_bounds.push(0usize);
        for (li, layer) in image.layers.iter().enumerate() {
            let li = li as u32;
            // first what this layer hides of the layers below
            for e in &layer.entries {
                match e.kind {
                    EntryKind::Whiteout => {
                        if let Some(t) = image.whiteout_target(e) {
                            b.remove(t, li);
                        }
                    }
                    EntryKind::Opaque => {
                        if let Some(dir) = image.paths.parent(e.node) {
                            b.remove_below(dir, li);
                        }
                    }
                    _ => {}
                }
            }
            // then its entries
            for (ei, e) in layer.entries.iter().enumerate() {
                if matches!(
                    e.kind,
                    EntryKind::Whiteout | EntryKind::Opaque | EntryKind::Other
                ) {
                    continue;
                }
                b.ensure_parents(e.node, li);
                if e.kind != EntryKind::Dir && b.is_dirlike(e.node) {
                    b.remove_below(e.node, li);
                }
                b.set(e.node, li, ei as u32);
            }
            layer_bounds.push(b.log.len());
        }
        // keep the last version per (node, layer); group by node
        let log = std::mem::take(&mut b.log);
        let mut counts = vec![0u32; n + 1];
        let mut layer_changes: Vec<Vec<NodeId>> = vec![Vec::new(); image.layers.len()];
        let mut last_seen: Vec<u32> = vec![u32::MAX; n];
        // walk backwards: the first time we meet (node, layer) is its last version
        let mut keep = vec![false; log.len()];
        for li in (0..image.layers.len()).rev() {
            for k in (layer_bounds[li]..layer_bounds[li + 1]).rev() {
                let (node, _) = log[k];
                if last_seen[node as usize] != li as u32 {
                    last_seen[node as usize] = li as u32;
                    keep[k] = true;
                    counts[node as usize + 1] += 1;
                    layer_changes[li].push(node);
                }
            }
        }
        for i in 1..=n {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let total = counts[n] as usize;
        let mut versions = vec![
            Version {
                layer: 0,
                entry: ABSENT
            };
            total
        ];
        for (k, &(node, v)) in log.iter().enumerate() {
            if keep[k] {
                versions[fill[node as usize] as usize] = v;
                fill[node as usize] += 1;
            }
        }
        for lc in &mut layer_changes {
            lc.sort_unstable_by_key(|&n| image.paths.preorder_rank(n));
        }
        MergedTree {
            starts: counts,
            versions,
            layer_changes,
            layers: image.layers.len(),
        }
    }

    /// All versions of a node, in layer order.
    pub fn versions(&self, node: NodeId) -> &[Version] {
        let i = node as usize;
        if i + 1 >= self.starts.len() {
            return &[];
        }
        &self.versions[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    /// The version of a node on top after `layer` was applied (None: never present so far).
    pub fn state_at(&self, node: NodeId, layer: usize) -> Option<Version> {
        if node == ROOT {
            return Some(Version {
                layer: 0,
                entry: IMPLICIT,
            });
        }
        let vs = self.versions(node);
        let k = vs.partition_point(|v| v.layer as usize <= layer);
        if k == 0 {
            None
        } else {
            Some(vs[k - 1])
        }
    }

    /// Is the node in the merged filesystem after `layer`?
    pub fn present_at(&self, node: NodeId, layer: usize) -> bool {
        self.state_at(node, layer).is_some_and(|v| v.present())
    }

    /// The version at the end (final filesystem).
    pub fn final_state(&self, node: NodeId) -> Option<Version> {
        self.versions(node).last().copied()
    }

    pub fn layer_count(&self) -> usize {
        self.layers
    }

    /// Paths changed by `layer`, in depth-first name order.
    pub fn changed_in(&self, layer: usize) -> &[NodeId] {
        self.layer_changes
            .get(layer)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// How `layer` changed `node` (None: it did not touch it).
    pub fn mark_at(&self, image: &Image, node: NodeId, layer: usize) -> Option<ChangeMark> {
        let vs = self.versions(node);
        let k = vs.iter().position(|v| v.layer as usize == layer)?;
        let new = vs[k];
        let old = if k > 0 { Some(vs[k - 1]) } else { None };
        Some(match (old.filter(|o| o.present()), new.present()) {
            (_, false) => ChangeMark::Removed,
            (None, true) => ChangeMark::Added,
            (Some(o), true) => {
                if same_content(entry_of(image, o), entry_of(image, new), image) {
                    ChangeMark::Unchanged
                } else {
                    ChangeMark::Modified
                }
            }
        })
    }
}

/// The entry a version points at (None for implicit directories and absent paths).
pub fn entry_of(image: &Image, v: Version) -> Option<&LayerEntry> {
    if v.entry == ABSENT || v.entry == IMPLICIT {
        return None;
    }
    image
        .layers
        .get(v.layer as usize)?
        .entries
        .get(v.entry as usize)
}

/// Same type, content, mode, owner and link target.
pub fn same_content(a: Option<&LayerEntry>, b: Option<&LayerEntry>, image: &Image) -> bool {
    match (a, b) {
        (None, None) => true,
        // an implicit directory against a real one: only the metadata is new
        (None, Some(x)) | (Some(x), None) => x.kind == EntryKind::Dir,
        (Some(a), Some(b)) => {
            a.kind == b.kind
                && a.mode == b.mode
                && a.uid == b.uid
                && a.gid == b.gid
                && (a.kind != EntryKind::File || (a.size == b.size && a.hash == b.hash))
                && image.link(a.link) == image.link(b.link)
        }
    }
}

/// What about two entries differs, for a "modified" path.
pub fn change_detail(a: &LayerEntry, b: &LayerEntry, image: &Image) -> Vec<&'static str> {
    let mut v = Vec::new();
    if a.kind != b.kind {
        v.push("type");
    }
    if a.kind == EntryKind::File
        && b.kind == EntryKind::File
        && (a.size != b.size || a.hash != b.hash)
    {
        v.push("content");
    }
    if a.mode != b.mode {
        v.push("mode");
    }
    if a.uid != b.uid || a.gid != b.gid {
        v.push("owner");
    }
    if image.link(a.link) != image.link(b.link) {
        v.push("link");
    }
    v
}
