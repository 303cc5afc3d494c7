//! Property: for random layer stacks (files, directories, symlinks, whiteouts, opaque
//! directories over a small set of paths), the merged tree's final filesystem and true waste
//! equal those of a naive model written here: a map from path to what is there, each layer
//! applied entry by entry.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use bathyscaphe::analysis::Analysis;
use bathyscaphe::image::EntryKind;
use bathyscaphe::source::{load_stream, LoadOptions};
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use bathyscaphe::tree::entry_of;
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    File(String),
    Dir(String),
    Symlink(String),
    Whiteout(String),
    Opaque(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    /// A regular file of this size (every file entry gets its own size: the size says which
    /// entry is visible).
    File(u64),
    Dir,
    Symlink,
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..=3)
        .prop_map(|v| v.join("/"))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => path().prop_map(Op::File),
        2 => path().prop_map(Op::Dir),
        1 => path().prop_map(Op::Symlink),
        2 => path().prop_map(Op::Whiteout),
        1 => path().prop_map(Op::Opaque),
    ]
}

/// The tar member an op writes: a layer names each at most once (the reader refuses a
/// duplicate), so later duplicates are dropped.
fn member(op: &Op) -> String {
    let wh = |p: &str, name: &str| match p.rsplit_once('/') {
        Some((d, n)) => format!("{d}/{name}{n}"),
        None => format!("{name}{p}"),
    };
    match op {
        Op::File(p) | Op::Dir(p) | Op::Symlink(p) => p.clone(),
        Op::Whiteout(p) => wh(p, ".wh."),
        Op::Opaque(d) => format!("{d}/.wh..wh..opq"),
    }
}

fn stack() -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop::collection::vec(prop::collection::vec(op(), 0..7), 1..5).prop_map(|layers| {
        layers
            .into_iter()
            .map(|ops| {
                let mut seen = std::collections::HashSet::new();
                ops.into_iter().filter(|o| seen.insert(member(o))).collect()
            })
            .collect()
    })
}

/// The size of file entry `e` of layer `l`: unique, so a size names its entry.
fn size_of(l: usize, e: usize) -> u64 {
    (l * 10 + e + 1) as u64
}

fn below(p: &str, dir: &str) -> bool {
    p.len() > dir.len() && p.starts_with(dir) && p.as_bytes()[dir.len()] == b'/'
}

/// The model: whiteouts and opaque markers of a layer hide what the layers below hold, then
/// its entries apply in tar order; a parent that is missing or not a directory becomes one, and
/// a non-directory written over a directory removes what was under it. Returns the final map
/// and, per layer, the file bytes it shipped and the bytes of its entries still visible.
/// Path → what is there and the layer that put it.
type Fs = BTreeMap<String, (Node, usize)>;

fn model(layers: &[Vec<Op>]) -> (Fs, Vec<(u64, u64)>) {
    let mut fs: Fs = BTreeMap::new();
    let mut shipped = vec![0u64; layers.len()];
    for (li, ops) in layers.iter().enumerate() {
        for op in ops {
            match op {
                Op::Whiteout(p) => fs.retain(|k, _| k != p && !below(k, p)),
                Op::Opaque(d) => fs.retain(|k, _| !below(k, d)),
                _ => {}
            }
        }
        for (ei, op) in ops.iter().enumerate() {
            let (p, node) = match op {
                Op::File(p) => {
                    shipped[li] += size_of(li, ei);
                    (p, Node::File(size_of(li, ei)))
                }
                Op::Dir(p) => (p, Node::Dir),
                Op::Symlink(p) => (p, Node::Symlink),
                Op::Whiteout(_) | Op::Opaque(_) => continue,
            };
            let parts: Vec<&str> = p.split('/').collect();
            for i in 1..parts.len() {
                let a = parts[..i].join("/");
                if fs.get(&a).map(|(n, _)| n) != Some(&Node::Dir) {
                    fs.insert(a, (Node::Dir, li));
                }
            }
            if node != Node::Dir {
                fs.retain(|k, _| !below(k, p));
            }
            fs.insert(p.clone(), (node, li));
        }
    }
    let mut per_layer: Vec<(u64, u64)> = shipped.iter().map(|&s| (s, 0)).collect();
    for (node, li) in fs.values() {
        if let Node::File(size) = node {
            per_layer[*li].1 += size;
        }
    }
    (fs, per_layer)
}

fn spec_of(layers: &[Vec<Op>]) -> ImageSpec {
    let mut spec = ImageSpec::new("model:latest");
    for (li, ops) in layers.iter().enumerate() {
        let mut l = LayerSpec::new(&format!("RUN step {li}"));
        for (ei, op) in ops.iter().enumerate() {
            l = match op {
                Op::File(p) => l.file_sized(p, size_of(li, ei) as usize, ei as u64),
                Op::Dir(p) => l.dir(p),
                Op::Symlink(p) => l.symlink(p, "elsewhere"),
                Op::Whiteout(p) => l.whiteout(p),
                Op::Opaque(d) => l.opaque(d),
            };
        }
        spec = spec.layer(l);
    }
    spec
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn merged_tree_and_true_waste_match_the_naive_model(layers in stack()) {
        let (want_fs, want_layers) = model(&layers);
        let archive = spec_of(&layers).archive(ArchiveFormat::DockerArchive, Compression::None);
        let image = load_stream(archive.as_slice(), "model.tar", &LoadOptions::default()).unwrap();
        let a = Analysis::run(&image);

        let mut got_fs: BTreeMap<String, Node> = BTreeMap::new();
        for n in 1..image.paths.len() as u32 {
            let Some(v) = a.merged.final_state(n).filter(|v| v.present()) else {
                continue;
            };
            let node = match entry_of(&image, v) {
                None => Node::Dir, // an implicit parent directory
                Some(e) => match e.kind {
                    EntryKind::File => Node::File(e.size),
                    EntryKind::Dir => Node::Dir,
                    EntryKind::Symlink => Node::Symlink,
                    other => panic!("unexpected final entry kind {other:?}"),
                },
            };
            got_fs.insert(image.paths.path(n).trim_start_matches('/').to_string(), node);
        }
        let want: BTreeMap<String, Node> =
            want_fs.iter().map(|(k, (n, _))| (k.clone(), n.clone())).collect();
        prop_assert_eq!(&got_fs, &want);

        let shipped: u64 = want_layers.iter().map(|l| l.0).sum();
        let visible: u64 = want_layers.iter().map(|l| l.1).sum();
        prop_assert_eq!(a.waste.shipped_bytes, shipped);
        prop_assert_eq!(a.waste.final_bytes, visible);
        prop_assert_eq!(a.waste.wasted_bytes, shipped - visible);
        for (li, (s, v)) in want_layers.iter().enumerate() {
            prop_assert_eq!(a.waste.layers[li].shipped_bytes, *s);
            prop_assert_eq!(a.waste.layers[li].wasted_bytes, s - v);
        }
    }
}
