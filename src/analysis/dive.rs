//! dive's efficiency numbers, reproduced exactly (quirks included) for people whose CI
//! thresholds were tuned on them, in one linear pass: one incrementally stacked tree instead
//! of dive's re-stacking per whiteout. See DESIGN-NOTES §1 for the rules.

use crate::image::{EntryKind, Image};
use crate::paths::{NodeId, ROOT};
use serde::Serialize;

/// One path dive counts more than once.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InefficientFile {
    pub path: String,
    pub count: usize,
    pub cumulative_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiveMetrics {
    pub efficiency: f64,
    pub size_bytes: u64,
    pub user_size_bytes: u64,
    pub wasted_bytes: u64,
    /// wasted / user size; `None` when the user size is 0 (dive's NaN).
    pub user_wasted_percent: Option<f64>,
    /// Largest first (dive's export order).
    pub inefficient_files: Vec<InefficientFile>,
}

#[derive(Clone, Copy, Default)]
struct Acc {
    created: bool,
    count: u32,
    cumulative: i64,
    min: i64,
}

/// dive's per-layer tree node info: size and directory flag (intermediate nodes: 0, false).
#[derive(Clone, Copy, Default)]
struct Info {
    size: u64,
    dir: bool,
}

struct Stacked {
    present: Vec<bool>,
    info: Vec<Info>,
}

impl Stacked {
    fn remove(&mut self, image: &Image, node: NodeId) {
        if !self.present[node as usize] {
            return;
        }
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if !self.present[n as usize] {
                continue;
            }
            self.present[n as usize] = false;
            stack.extend_from_slice(image.paths.children(n));
        }
    }

    fn subtree_size(&self, image: &Image, node: NodeId) -> u64 {
        let mut total = 0;
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if !self.present[n as usize] {
                continue;
            }
            total += self.info[n as usize].size;
            stack.extend_from_slice(image.paths.children(n));
        }
        total
    }
}

/// A layer's tree as dive builds it: entry nodes (last entry wins) plus their ancestors.
struct DiveLayerTree {
    /// All nodes, children before parents, children in name order.
    postorder: Vec<NodeId>,
    /// Leaves in visiting order.
    leaves: Vec<NodeId>,
}

fn is_dropped(image: &Image, node: NodeId) -> bool {
    image.paths.name(node).starts_with(".wh..wh.")
}

fn is_whiteout_name(image: &Image, node: NodeId) -> bool {
    image.paths.name(node).starts_with(".wh.")
}

/// dive's metrics for an image.
pub fn dive_metrics(image: &Image) -> DiveMetrics {
    let n = image.paths.len();
    let mut accs: Vec<Acc> = vec![Acc::default(); n];
    let mut inefficient: Vec<NodeId> = Vec::new();
    let mut stacked = Stacked {
        present: vec![false; n],
        info: vec![Info::default(); n],
    };
    // per-layer scratch, stamped with layer+1 so it needs no clearing
    let mut in_layer: Vec<u32> = vec![0; n];
    let mut has_child: Vec<u32> = vec![0; n];
    let mut info: Vec<Info> = vec![Info::default(); n];

    for (li, layer) in image.layers.iter().enumerate() {
        let stamp = li as u32 + 1;
        let mut nodes: Vec<NodeId> = Vec::new();
        for e in &layer.entries {
            if is_dropped(image, e.node) {
                continue;
            }
            if in_layer[e.node as usize] != stamp {
                in_layer[e.node as usize] = stamp;
                nodes.push(e.node);
            }
            info[e.node as usize] = Info {
                size: e.size,
                dir: e.kind == EntryKind::Dir,
            };
            // ancestors: intermediate nodes with empty info unless they have entries
            let mut cur = image.paths.parent(e.node);
            while let Some(a) = cur {
                if a == ROOT || has_child[a as usize] == stamp {
                    break;
                }
                has_child[a as usize] = stamp;
                if in_layer[a as usize] != stamp {
                    in_layer[a as usize] = stamp;
                    nodes.push(a);
                    info[a as usize] = Info::default();
                }
                cur = image.paths.parent(a);
            }
        }
        let mut leaves: Vec<NodeId> = nodes
            .iter()
            .copied()
            .filter(|&x| has_child[x as usize] != stamp)
            .collect();
        leaves.sort_unstable_by_key(|&x| image.paths.preorder_rank(x));
        nodes.sort_unstable_by_key(|&x| image.paths.postorder_rank(x));
        let tree = DiveLayerTree {
            postorder: nodes,
            leaves,
        };

        if li == 0 {
            // dive looks layer 0's whiteouts up in a copy of layer 0's own tree
            for &x in &tree.postorder {
                stacked.present[x as usize] = true;
                stacked.info[x as usize] = info[x as usize];
            }
        }

        // score the leaves
        for &leaf in &tree.leaves {
            let whiteout = is_whiteout_name(image, leaf);
            let key = if whiteout {
                let parent = image.paths.parent(leaf).unwrap_or(ROOT);
                let target = &image.paths.name(leaf)[4..];
                image.paths.child(parent, target).unwrap_or(leaf)
            } else {
                leaf
            };
            let acc = &mut accs[key as usize];
            if !acc.created {
                *acc = Acc {
                    created: true,
                    count: 0,
                    cumulative: 0,
                    min: -1,
                };
            }
            let size: i64 = if whiteout {
                if key == leaf || !stacked.present[key as usize] {
                    // dive's GetNode fails: it stops visiting the rest of this layer
                    break;
                }
                if stacked.info[key as usize].dir {
                    stacked.subtree_size(image, key) as i64
                } else {
                    0
                }
            } else {
                info[leaf as usize].size as i64
            };
            let acc = &mut accs[key as usize];
            acc.cumulative += size;
            if acc.min < 0 || size < acc.min {
                acc.min = size;
            }
            acc.count += 1;
            if acc.count == 2 {
                inefficient.push(key);
            }
        }

        // stack this layer onto the merged tree, as dive's Stack does
        for &x in &tree.postorder {
            if is_whiteout_name(image, x) {
                let parent = image.paths.parent(x).unwrap_or(ROOT);
                if let Some(t) = image.paths.child(parent, &image.paths.name(x)[4..]) {
                    stacked.remove(image, t);
                }
            } else {
                // AddPath creates missing ancestors with empty info first
                let mut cur = image.paths.parent(x);
                while let Some(a) = cur {
                    if a == ROOT || stacked.present[a as usize] {
                        break;
                    }
                    stacked.present[a as usize] = true;
                    stacked.info[a as usize] = Info::default();
                    cur = image.paths.parent(a);
                }
                stacked.present[x as usize] = true;
                stacked.info[x as usize] = info[x as usize];
            }
        }
    }

    let mut sum_min: i64 = 0;
    let mut sum_cum: i64 = 0;
    for a in accs.iter().filter(|a| a.created) {
        sum_min += a.min;
        sum_cum += a.cumulative;
    }
    let efficiency = if sum_cum == 0 {
        1.0
    } else {
        sum_min as f64 / sum_cum as f64
    };
    // dive sorts ascending (insertion sort, stable for small lists) and exports reversed
    let mut files: Vec<InefficientFile> = inefficient
        .iter()
        .map(|&k| InefficientFile {
            path: image.paths.path(k),
            count: accs[k as usize].count as usize,
            cumulative_bytes: accs[k as usize].cumulative.max(0) as u64,
        })
        .collect();
    files.sort_by_key(|f| f.cumulative_bytes);
    files.reverse();
    let wasted_bytes: u64 = files.iter().map(|f| f.cumulative_bytes).sum();
    let size_bytes = image.size_bytes();
    let user_size_bytes: u64 = image.layers.iter().skip(1).map(|l| l.size_bytes).sum();
    let user_wasted_percent = if user_size_bytes == 0 {
        None
    } else {
        Some(wasted_bytes as f64 / user_size_bytes as f64)
    };
    DiveMetrics {
        efficiency,
        size_bytes,
        user_size_bytes,
        wasted_bytes,
        user_wasted_percent,
        inefficient_files: files,
    }
}
