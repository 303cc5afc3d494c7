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
    /// Its smallest copy: what the score counts as needed (the CI rules' `ignore-paths` count
    /// the rest as needed too).
    #[serde(skip)]
    pub min_bytes: u64,
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
    /// The score's terms: efficiency = needed / counted (Σ smallest copy, Σ all copies of
    /// each path), kept so a rule can recompute it without some paths' waste.
    #[serde(skip)]
    pub needed_bytes: u64,
    #[serde(skip)]
    pub counted_bytes: u64,
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

/// A layer's tree as dive builds it: entry nodes (last entry wins) plus their ancestors. Built
/// once here for both dive's metrics and the JSON export's per-layer file lists.
pub struct DiveLayerTree {
    /// All nodes, children before parents, children in name order, each with the index in
    /// the layer's entries of its (last) entry; `None` for intermediate directories.
    pub postorder: Vec<(NodeId, Option<usize>)>,
    /// Leaves in visiting order.
    pub leaves: Vec<NodeId>,
}

/// Builds [`DiveLayerTree`]s with per-node scratch that is stamped per call instead of cleared,
/// so one builder serves every layer of an image in time proportional to each layer.
pub struct DiveTreeBuilder {
    stamp: u32,
    in_layer: Vec<u32>,
    has_child: Vec<u32>,
    /// The entry index + 1 of each node in the current layer (0: intermediate).
    entry: Vec<usize>,
}

impl DiveTreeBuilder {
    pub fn new(image: &Image) -> DiveTreeBuilder {
        let n = image.paths.len();
        DiveTreeBuilder {
            stamp: 0,
            in_layer: vec![0; n],
            has_child: vec![0; n],
            entry: vec![0; n],
        }
    }

    pub fn build(&mut self, image: &Image, layer: usize) -> DiveLayerTree {
        self.stamp += 1;
        let stamp = self.stamp;
        let mut nodes: Vec<NodeId> = Vec::new();
        let entries = image
            .layers
            .get(layer)
            .map(|l| &l.entries[..])
            .unwrap_or(&[]);
        for (i, e) in entries.iter().enumerate() {
            if is_dropped(image, e.node) {
                continue;
            }
            if self.in_layer[e.node as usize] != stamp {
                self.in_layer[e.node as usize] = stamp;
                nodes.push(e.node);
            }
            self.entry[e.node as usize] = i + 1;
            // ancestors: intermediate nodes unless they have entries
            let mut cur = image.paths.parent(e.node);
            while let Some(a) = cur {
                if a == ROOT || self.has_child[a as usize] == stamp {
                    break;
                }
                self.has_child[a as usize] = stamp;
                if self.in_layer[a as usize] != stamp {
                    self.in_layer[a as usize] = stamp;
                    nodes.push(a);
                    self.entry[a as usize] = 0;
                }
                cur = image.paths.parent(a);
            }
        }
        let mut leaves: Vec<NodeId> = nodes
            .iter()
            .copied()
            .filter(|&x| self.has_child[x as usize] != stamp)
            .collect();
        leaves.sort_unstable_by_key(|&x| image.paths.preorder_rank(x));
        nodes.sort_unstable_by_key(|&x| image.paths.postorder_rank(x));
        let postorder = nodes
            .into_iter()
            .map(|x| (x, self.entry[x as usize].checked_sub(1)))
            .collect();
        DiveLayerTree { postorder, leaves }
    }
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
    let mut builder = DiveTreeBuilder::new(image);
    // this layer's info per node: written for every node of its tree before it is read
    let mut info: Vec<Info> = vec![Info::default(); n];

    for (li, layer) in image.layers.iter().enumerate() {
        let tree = builder.build(image, li);
        for &(x, e) in &tree.postorder {
            info[x as usize] = match e.and_then(|i| layer.entries.get(i)) {
                Some(e) => Info {
                    size: e.size,
                    dir: e.kind == EntryKind::Dir,
                },
                None => Info::default(),
            };
        }
        if li == 0 {
            // dive looks layer 0's whiteouts up in a copy of layer 0's own tree
            for &(x, _) in &tree.postorder {
                stacked.present[x as usize] = true;
                stacked.info[x as usize] = info[x as usize];
            }
        }
        score_leaves(image, &tree, &info, &stacked, &mut accs, &mut inefficient);
        stack_layer(image, &tree, &info, &mut stacked);
    }
    summarize(image, &accs, &inefficient)
}

/// Count each leaf of one layer against the path it stands for (a whiteout: its target).
fn score_leaves(
    image: &Image,
    tree: &DiveLayerTree,
    info: &[Info],
    stacked: &Stacked,
    accs: &mut [Acc],
    inefficient: &mut Vec<NodeId>,
) {
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
}

/// Stack one layer onto the merged tree, as dive's Stack does.
fn stack_layer(image: &Image, tree: &DiveLayerTree, info: &[Info], stacked: &mut Stacked) {
    for &(x, _) in &tree.postorder {
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

/// Efficiency, wasted bytes and the inefficient files from the per-path counts.
fn summarize(image: &Image, accs: &[Acc], inefficient: &[NodeId]) -> DiveMetrics {
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
            min_bytes: accs[k as usize].min.max(0) as u64,
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
        needed_bytes: sum_min.max(0) as u64,
        counted_bytes: sum_cum.max(0) as u64,
    }
}
