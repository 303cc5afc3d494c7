//! True waste: bytes of regular files shipped in some layer but not visible in the final
//! filesystem (overwritten, deleted, hidden by a whiteout or an opaque directory). Hardlinks
//! carry no bytes of their own: their content is the file they point at.

use crate::image::{EntryKind, Image};
use crate::paths::NodeId;
use crate::tree::{MergedTree, ABSENT, IMPLICIT};
use serde::Serialize;
use std::collections::HashMap;

/// Why a copy is not visible at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hidden {
    /// A later layer wrote the same path again.
    Overwritten,
    /// A later layer deleted it (whiteout, opaque directory, or a file replacing its directory).
    Removed,
}

/// One invisible copy of a file.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WastedCopy {
    pub node: NodeId,
    pub layer: usize,
    pub bytes: u64,
    pub hidden: Hidden,
    /// The layer that hid it.
    pub by_layer: usize,
}

/// A path with bytes that nobody sees.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WastedPath {
    pub path: String,
    pub bytes: u64,
    /// Layers holding the invisible copies.
    pub layers: Vec<usize>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerWaste {
    /// Regular-file bytes this layer ships.
    pub shipped_bytes: u64,
    /// Of those, bytes not visible at the end.
    pub wasted_bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrueWaste {
    pub shipped_bytes: u64,
    pub final_bytes: u64,
    pub wasted_bytes: u64,
    pub layers: Vec<LayerWaste>,
    /// Every invisible copy, in layer then entry order.
    pub copies: Vec<WastedCopy>,
}

impl TrueWaste {
    /// Wasted bytes grouped by path, largest first (ties by path).
    pub fn wasted_paths(&self, image: &Image) -> Vec<WastedPath> {
        let mut by_node: HashMap<NodeId, (u64, Vec<usize>)> = HashMap::new();
        for c in &self.copies {
            let e = by_node.entry(c.node).or_default();
            e.0 += c.bytes;
            if !e.1.contains(&c.layer) {
                e.1.push(c.layer);
            }
        }
        let mut v: Vec<WastedPath> = by_node
            .into_iter()
            .map(|(n, (bytes, layers))| WastedPath {
                path: image.paths.path(n),
                bytes,
                layers,
            })
            .collect();
        v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
        v
    }
}

/// Compute true waste from the merged tree.
pub fn true_waste(image: &Image, merged: &MergedTree) -> TrueWaste {
    let nl = image.layers.len();
    // visible content: (layer, entry) of regular files seen through some visible path
    let mut visible: Vec<Vec<bool>> = image
        .layers
        .iter()
        .map(|l| vec![false; l.entries.len()])
        .collect();
    for (li, layer) in image.layers.iter().enumerate() {
        // per layer, the last entry index of each node, to resolve hardlinks within the layer
        let mut index: Option<HashMap<NodeId, usize>> = None;
        for (ei, e) in layer.entries.iter().enumerate() {
            let Some(fv) = merged.final_state(e.node) else {
                continue;
            };
            if fv.layer as usize != li || fv.entry != ei as u32 {
                continue;
            }
            match e.kind {
                EntryKind::File => visible[li][ei] = true,
                EntryKind::Hardlink => {
                    let Some(tn) = image.hardlink_target(e) else {
                        continue;
                    };
                    let idx = index.get_or_insert_with(|| {
                        let mut m = HashMap::new();
                        for (k, x) in layer.entries.iter().enumerate() {
                            if x.kind == EntryKind::File {
                                m.insert(x.node, k);
                            }
                        }
                        m
                    });
                    if let Some(&k) = idx.get(&tn) {
                        visible[li][k] = true;
                    } else if let Some(v) = merged.state_at(tn, li) {
                        // a link to a file of a lower layer
                        if v.entry != ABSENT && v.entry != IMPLICIT {
                            let tl = v.layer as usize;
                            if image.layers[tl].entries[v.entry as usize].kind == EntryKind::File {
                                visible[tl][v.entry as usize] = true;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut layers = Vec::with_capacity(nl);
    let mut copies = Vec::new();
    let (mut shipped, mut final_bytes) = (0u64, 0u64);
    for (li, layer) in image.layers.iter().enumerate() {
        let mut lw = LayerWaste {
            shipped_bytes: 0,
            wasted_bytes: 0,
        };
        for (ei, e) in layer.entries.iter().enumerate() {
            if e.kind != EntryKind::File {
                continue;
            }
            lw.shipped_bytes += e.size;
            if visible[li][ei] {
                final_bytes += e.size;
                continue;
            }
            lw.wasted_bytes += e.size;
            // who hid it: the next version of this path after this entry
            let vs = merged.versions(e.node);
            let k = vs.iter().position(|v| v.layer as usize == li).unwrap_or(0);
            let (hidden, by_layer) = match vs.get(k + 1) {
                Some(v) if v.entry == ABSENT => (Hidden::Removed, v.layer as usize),
                Some(v) => (Hidden::Overwritten, v.layer as usize),
                // a duplicate within its own layer, or replaced in the same layer
                None => match vs.get(k) {
                    Some(v) if v.entry == ABSENT => (Hidden::Removed, li),
                    _ => (Hidden::Overwritten, li),
                },
            };
            copies.push(WastedCopy {
                node: e.node,
                layer: li,
                bytes: e.size,
                hidden,
                by_layer,
            });
        }
        shipped += lw.shipped_bytes;
        layers.push(lw);
    }
    TrueWaste {
        shipped_bytes: shipped,
        final_bytes,
        wasted_bytes: shipped - final_bytes,
        layers,
        copies,
    }
}
