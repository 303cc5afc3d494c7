//! The final filesystem as the why-analyses read it: final entries, sizes, symlink-following
//! lookups and captured contents. A thin layer over `tree::MergedTree`.

use crate::image::{EntryKind, Image, LayerEntry};
use crate::paths::{NodeId, ROOT};
use crate::tree::{entry_of, MergedTree};
use std::collections::BTreeMap;

/// Symlink hops before a lookup gives up (Linux's limit is 40).
const MAX_HOPS: usize = 40;

pub struct FinalFs<'a> {
    pub image: &'a Image,
    pub merged: &'a MergedTree,
}

impl<'a> FinalFs<'a> {
    pub fn new(image: &'a Image, merged: &'a MergedTree) -> Self {
        FinalFs { image, merged }
    }

    /// The final entry of a node and its layer (None: absent or an implicit directory).
    pub fn entry(&self, node: NodeId) -> Option<(usize, &'a LayerEntry)> {
        let v = self.merged.final_state(node)?;
        entry_of(self.image, v).map(|e| (v.layer as usize, e))
    }

    pub fn present(&self, node: NodeId) -> bool {
        node == ROOT || self.merged.final_state(node).is_some_and(|v| v.present())
    }

    pub fn is_dir(&self, node: NodeId) -> bool {
        self.present(node)
            && self
                .entry(node)
                .is_none_or(|(_, e)| e.kind == EntryKind::Dir)
    }

    /// Bytes a final regular file holds (hardlinks and everything else: 0).
    pub fn file_bytes(&self, node: NodeId) -> u64 {
        match self.entry(node) {
            Some((_, e)) if e.kind == EntryKind::File => e.size,
            _ => 0,
        }
    }

    /// The captured content of the node's final version.
    pub fn captured(&self, node: NodeId) -> Option<&'a [u8]> {
        let (layer, _) = self.entry(node)?;
        self.image.captured(layer, node)
    }

    /// Node of an absolute or relative (to `/`) path, as stored (no symlink following).
    pub fn node(&self, path: &str) -> Option<NodeId> {
        self.image.paths.lookup(path.trim_start_matches('/'))
    }

    /// Resolve a path like the kernel: symlinks in every component, the last one too when
    /// `follow_last`. Returns the node and every symlink node met on the way.
    pub fn resolve(&self, path: &str, follow_last: bool) -> Option<(NodeId, Vec<NodeId>)> {
        let mut links = Vec::new();
        let mut hops = 0;
        let mut pending: Vec<String> = split(path).into_iter().rev().collect();
        let mut cur = ROOT;
        while let Some(comp) = pending.pop() {
            match comp.as_str() {
                "." => continue,
                ".." => {
                    cur = self.image.paths.parent(cur).unwrap_or(ROOT);
                    continue;
                }
                _ => {}
            }
            let next = self.image.paths.child(cur, &comp)?;
            if !self.present(next) {
                return None;
            }
            let is_last = pending.is_empty();
            if let Some((_, e)) = self.entry(next) {
                if e.kind == EntryKind::Symlink && (!is_last || follow_last) {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return None;
                    }
                    links.push(next);
                    let target = self.image.link(e.link);
                    if target.starts_with('/') {
                        cur = ROOT;
                    }
                    for c in split(target).into_iter().rev() {
                        pending.push(c);
                    }
                    continue;
                }
                if e.kind == EntryKind::Hardlink && is_last {
                    // a hardlink is its target's content
                    cur = self.image.hardlink_target(e).unwrap_or(next);
                    continue;
                }
            }
            cur = next;
        }
        Some((cur, links))
    }

    /// Every present node strictly below `node`, depth first.
    pub fn walk(&self, node: NodeId, mut f: impl FnMut(NodeId)) {
        let mut stack: Vec<NodeId> = self.image.paths.children(node).to_vec();
        while let Some(n) = stack.pop() {
            if !self.present(n) {
                continue;
            }
            f(n);
            stack.extend_from_slice(self.image.paths.children(n));
        }
    }

    /// Every present regular file of the final filesystem.
    pub fn files(&self) -> Vec<NodeId> {
        let mut v = Vec::new();
        self.walk(ROOT, |n| {
            if matches!(self.entry(n), Some((_, e)) if e.kind == EntryKind::File) {
                v.push(n);
            }
        });
        v
    }
}

/// The layer holding the most of some bytes (ties: the lowest layer), from bytes per layer.
pub fn heaviest_layer(per_layer: &BTreeMap<usize, u64>) -> Option<usize> {
    per_layer
        .iter()
        .max_by_key(|(l, b)| (**b, usize::MAX - **l))
        .map(|(l, _)| *l)
}

fn split(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// `/a/b` joined with `c/d` (absolute `c` wins), cleaned of `.` and `..`.
pub fn join(base: &str, rel: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let full = if rel.starts_with('/') {
        rel.to_string()
    } else {
        format!("{base}/{rel}")
    };
    for c in full.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    format!("/{}", out.join("/"))
}
