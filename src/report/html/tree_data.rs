//! The treemaps' data: a tree laid out by `report::treemap`, written as compact JSON rows that
//! the page's script draws. One row per node:
//! `[name, bytes, files, kind, first, count, x0, y0, x1, y1, ...attributes]`.

use crate::analysis::compare::{Comparison, DiffNode};
use crate::analysis::fsview::FinalFs;
use crate::analysis::why::WhyReport;
use crate::analysis::Analysis;
use crate::image::{EntryKind, Image};
use crate::paths::{NodeId, ROOT};
use crate::report::treemap::{self, Layout, Size};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Width over height of the box every directory's children are laid out in (the page's).
pub const ASPECT: f64 = 1.6;
/// Items smaller than the tree's total over this fold into "N smaller files": with at most
/// this many kept items per level the page stays small for any image.
pub const FOLD_DIVISOR: u64 = 50_000;

/// Row kinds.
const FILE: u8 = 0;
const DIR: u8 = 1;
const FOLDED: u8 = 2;
const OTHER: u8 = 3;

/// Sizes of every node of the final filesystem, and the largest file below each (whose layer,
/// package and category colour a directory).
struct FinalSizes {
    size: Vec<Size>,
    largest: Vec<NodeId>,
}

fn final_sizes(fs: &FinalFs) -> FinalSizes {
    let n = fs.image.paths.len();
    let mut size = vec![Size { bytes: 0, files: 0 }; n];
    let mut largest = vec![ROOT; n];
    let mut stack: Vec<(NodeId, bool)> = vec![(ROOT, false)];
    while let Some((node, done)) = stack.pop() {
        let i = node as usize;
        if !done {
            stack.push((node, true));
            for &c in fs.image.paths.children(node) {
                if fs.present(c) {
                    stack.push((c, false));
                }
            }
            continue;
        }
        if fs.is_dir(node) {
            let mut s = Size { bytes: 0, files: 0 };
            let mut big: Option<(u64, NodeId)> = None;
            for &c in fs.image.paths.children(node) {
                if !fs.present(c) {
                    continue;
                }
                let cs = size[c as usize];
                s.bytes += cs.bytes;
                s.files += cs.files;
                let cand = (cs.bytes, largest[c as usize]);
                if big.is_none_or(|b| cand.0 > b.0) {
                    big = Some(cand);
                }
            }
            size[i] = s;
            largest[i] = big.map_or(node, |b| b.1);
        } else {
            size[i] = Size {
                bytes: fs.file_bytes(node),
                files: 1,
            };
            largest[i] = node;
        }
    }
    FinalSizes { size, largest }
}

/// The final filesystem's treemap: rows with attributes `[own layer, layer, package,
/// category]` (-1: none), where the last three are the node's largest file's; plus the
/// package and category tables they index.
pub fn image_tree(image: &Image, analysis: &Analysis, why: &WhyReport) -> Value {
    let fs = FinalFs::new(image, &analysis.merged);
    let sizes = final_sizes(&fs);
    let threshold = (sizes.size[ROOT as usize].bytes / FOLD_DIVISOR).max(1);
    let layout = treemap::layout(
        ROOT,
        |k: NodeId| sizes.size[k as usize],
        |k: NodeId| {
            if !fs.is_dir(k) {
                return Vec::new();
            }
            let kids = image.paths.children(k).iter();
            kids.copied().filter(|&c| fs.present(c)).collect()
        },
        threshold,
        ASPECT,
    );
    let mut package_of: HashMap<NodeId, usize> = HashMap::new();
    let mut packages = Vec::new();
    for p in why.packages.iter().filter(|p| !p.removed) {
        for &n in &p.nodes {
            package_of.insert(n, packages.len());
        }
        packages.push(json!([p.manager.as_str(), p.name, p.version]));
    }
    let mut category_of: HashMap<NodeId, usize> = HashMap::new();
    let categories: Vec<&str> = crate::analysis::leftovers::Category::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    for l in &why.leftovers {
        let ci = categories.iter().position(|c| *c == l.category.as_str());
        for &n in &l.nodes {
            if let Some(ci) = ci {
                category_of.entry(n).or_insert(ci);
            }
        }
    }
    let opt = |v: Option<usize>| v.map_or(-1, |v| v as i64);
    let rows = rows(&layout, |key| match key {
        None => (String::new(), FOLDED, vec![-1, -1, -1, -1]),
        Some(k) => {
            let kind = match fs.entry(k) {
                _ if fs.is_dir(k) => DIR,
                Some((_, e)) if e.kind == EntryKind::File => FILE,
                _ => OTHER,
            };
            let big = sizes.largest[k as usize];
            let attrs = vec![
                opt(fs.entry(k).map(|(l, _)| l)),
                opt(fs.entry(big).map(|(l, _)| l)),
                opt(package_of.get(&big).copied()),
                opt(category_of.get(&big).copied()),
            ];
            let name = if k == ROOT {
                "/".to_string()
            } else {
                image.paths.name(k).to_string()
            };
            (name, kind, attrs)
        }
    });
    let layers: Vec<Value> = image
        .layers
        .iter()
        .map(|l| json!(l.display_command()))
        .collect();
    json!({
        "kind": "image",
        "threshold": layout.threshold,
        "layers": layers,
        "packages": packages,
        "categories": categories,
        "n": rows,
    })
}

/// A comparison's treemap: the diff tree weighted by bytes that changed hands (added plus
/// removed); attributes `[added bytes, removed bytes, delta]`.
pub fn compare_tree(c: &Comparison) -> Value {
    let tree: &[DiffNode] = &c.files.tree;
    let size_of = |i: usize| {
        let r = &tree[i].rollup;
        Size {
            bytes: r.churn_bytes(),
            files: (r.added + r.removed + r.modified) as u64,
        }
    };
    let total = if tree.is_empty() { 0 } else { size_of(0).bytes };
    let threshold = (total / FOLD_DIVISOR).max(1);
    let layout = if tree.is_empty() {
        Layout {
            nodes: Vec::new(),
            threshold,
        }
    } else {
        treemap::layout(
            0usize,
            size_of,
            |i| tree[i].children.clone(),
            threshold,
            ASPECT,
        )
    };
    let rows = rows(&layout, |key| match key {
        None => (String::new(), FOLDED, vec![0, 0, 0]),
        Some(i) => {
            let n = &tree[i];
            let r = &n.rollup;
            let name = if i == 0 {
                "/".to_string()
            } else {
                n.name.clone()
            };
            let kind = if n.is_dir { DIR } else { FILE };
            (
                name,
                kind,
                vec![r.added_bytes as i64, r.removed_bytes as i64, r.delta_bytes],
            )
        }
    });
    json!({ "kind": "compare", "threshold": layout.threshold, "n": rows })
}

/// One JSON row per laid-out node; `describe` gives its name, kind and attributes.
fn rows<K: Copy>(
    layout: &Layout<K>,
    describe: impl Fn(Option<K>) -> (String, u8, Vec<i64>),
) -> Vec<Value> {
    layout
        .nodes
        .iter()
        .map(|n| {
            let (name, kind, attrs) = describe(n.key);
            let mut row = vec![
                json!(name),
                json!(n.size.bytes),
                json!(n.size.files),
                json!(kind),
                json!(n.first),
                json!(n.count),
            ];
            row.extend(n.rect.iter().map(|&v| json!(v)));
            row.extend(attrs.into_iter().map(|v| json!(v)));
            Value::Array(row)
        })
        .collect()
}
