//! Squarified treemap layout (Bruls, Huizing, van Wijk 2000) and the folding of small items,
//! over any tree given as closures. Knows nothing of images: the HTML report feeds it the final
//! filesystem (or a comparison's changed paths) and writes the result as data.

/// An axis-aligned rectangle by its edges (`x0 <= x1`, `y0 <= y1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect {
        Rect { x0, y0, x1, y1 }
    }
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }
    pub fn area(&self) -> f64 {
        self.width() * self.height()
    }
}

/// Lay out `weights` (largest first: squarified needs them sorted) in `bounds`; one rectangle
/// per weight, in the same order, each with an area proportional to its weight, together
/// tiling `bounds` (zero weights get empty rectangles).
pub fn squarify(weights: &[u64], bounds: Rect) -> Vec<Rect> {
    let total: f64 = weights.iter().map(|&w| w as f64).sum();
    let mut out = Vec::with_capacity(weights.len());
    if total <= 0.0 || bounds.area() <= 0.0 {
        out.extend(
            weights
                .iter()
                .map(|_| Rect::new(bounds.x0, bounds.y0, bounds.x0, bounds.y0)),
        );
        return out;
    }
    // area units per weight unit
    let scale = bounds.area() / total;
    let mut free = bounds;
    let mut i = 0;
    while i < weights.len() {
        let short = free.width().min(free.height());
        // grow the row while the worst aspect ratio does not get worse
        let mut end = i + 1;
        let mut row_sum = weights[i] as f64 * scale;
        let mut best = worst(&weights[i..end], row_sum, short, scale);
        while end < weights.len() {
            let s = row_sum + weights[end] as f64 * scale;
            let w = worst(&weights[i..end + 1], s, short, scale);
            if w > best {
                break;
            }
            best = w;
            row_sum = s;
            end += 1;
        }
        if end == weights.len() {
            // the last row takes whatever is left, so rounding never leaves a gap
            row_sum = free.area();
        }
        free = place_row(&weights[i..end], row_sum, free, &mut out);
        i = end;
    }
    out
}

/// The worst aspect ratio of a row of `weights` with total area `sum` along a side `short`.
fn worst(weights: &[u64], sum: f64, short: f64, scale: f64) -> f64 {
    if sum <= 0.0 || short <= 0.0 {
        return f64::INFINITY;
    }
    let max = weights.iter().copied().max().unwrap_or(0) as f64 * scale;
    let min = weights.iter().copied().min().unwrap_or(0) as f64 * scale;
    if min <= 0.0 {
        // zero weights ride along without changing the row
        return (short * short * max / (sum * sum)).max(sum * sum / (short * short * max));
    }
    let s2 = short * short;
    (s2 * max / (sum * sum)).max(sum * sum / (s2 * min))
}

/// Place one row along the short side of `free`; returns what is left of `free`.
fn place_row(weights: &[u64], row_area: f64, free: Rect, out: &mut Vec<Rect>) -> Rect {
    let row_weight: f64 = weights.iter().map(|&w| w as f64).sum();
    if free.width() >= free.height() {
        // a column at the left, as wide as the row's area needs
        let w = (row_area / free.height()).min(free.width());
        let x1 = if row_area >= free.area() {
            free.x1
        } else {
            free.x0 + w
        };
        let mut y = free.y0;
        for (k, &wt) in weights.iter().enumerate() {
            let y_end = if k + 1 == weights.len() {
                free.y1
            } else {
                y + free.height() * wt as f64 / row_weight.max(1.0)
            };
            out.push(Rect::new(free.x0, y, x1, y_end));
            y = y_end;
        }
        Rect::new(x1, free.y0, free.x1, free.y1)
    } else {
        let h = (row_area / free.width()).min(free.height());
        let y1 = if row_area >= free.area() {
            free.y1
        } else {
            free.y0 + h
        };
        let mut x = free.x0;
        for (k, &wt) in weights.iter().enumerate() {
            let x_end = if k + 1 == weights.len() {
                free.x1
            } else {
                x + free.width() * wt as f64 / row_weight.max(1.0)
            };
            out.push(Rect::new(x, free.y0, x_end, y1));
            x = x_end;
        }
        Rect::new(free.x0, y1, free.x1, free.y1)
    }
}

/// What a tree node gives the layout: its bytes (a directory: everything below it) and how
/// many files it counts (a directory: every file below it; for the "N smaller files" label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub bytes: u64,
    pub files: u64,
}

/// One node of the laid-out tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node<K> {
    /// The input node, or `None` for an "N smaller files" node.
    pub key: Option<K>,
    pub size: Size,
    /// Its children are `first .. first + count` of [`Layout::nodes`], largest first.
    pub first: u32,
    pub count: u32,
    /// Where it sits inside its parent's box, each edge in 0..=[`UNIT`] of the parent's side.
    pub rect: [u16; 4],
}

/// The side of every parent's box in the written layout.
pub const UNIT: u16 = 10_000;

/// A laid-out tree: node 0 is the root; every node's children are contiguous.
#[derive(Clone, Debug)]
pub struct Layout<K> {
    pub nodes: Vec<Node<K>>,
    /// Items under this many bytes were folded into their parent's "N smaller files" node.
    pub threshold: u64,
}

/// Lay out the tree under `root`: children of every directory squarified in a box of
/// `aspect` (width / height, the shape the page shows a zoomed directory in), items under
/// `threshold` bytes (and their subtrees) folded into one node per directory.
pub fn layout<K: Copy>(
    root: K,
    size_of: impl Fn(K) -> Size,
    children_of: impl Fn(K) -> Vec<K>,
    threshold: u64,
    aspect: f64,
) -> Layout<K> {
    let mut nodes = vec![Node {
        key: Some(root),
        size: size_of(root),
        first: 0,
        count: 0,
        rect: [0, 0, UNIT, UNIT],
    }];
    let bounds = Rect::new(0.0, 0.0, aspect, 1.0);
    let mut next = 0usize; // breadth first: children of node `next` go at the end
    while next < nodes.len() {
        let Some(key) = nodes[next].key else {
            next += 1;
            continue;
        };
        let mut kids: Vec<(K, Size)> = children_of(key)
            .into_iter()
            .map(|c| (c, size_of(c)))
            .collect();
        if kids.is_empty() {
            next += 1;
            continue;
        }
        let (kept, folded) = fold(&mut kids, threshold);
        let mut items: Vec<(Option<K>, Size)> = kept.iter().map(|&(k, s)| (Some(k), s)).collect();
        if folded.files > 0 || folded.bytes > 0 {
            items.push((None, folded));
        }
        // the fold node may outweigh kept items (many small files): sort again
        items.sort_by_key(|i| std::cmp::Reverse(i.1.bytes));
        let weights: Vec<u64> = items.iter().map(|i| i.1.bytes).collect();
        let rects = squarify(&weights, bounds);
        nodes[next].first = nodes.len() as u32;
        nodes[next].count = items.len() as u32;
        for ((key, size), r) in items.into_iter().zip(rects) {
            nodes.push(Node {
                key,
                size,
                first: 0,
                count: 0,
                rect: to_unit(r, aspect),
            });
        }
        next += 1;
    }
    Layout { nodes, threshold }
}

/// Split `kids` (sorted here, largest first) into those kept and the total of those under
/// `threshold`.
pub fn fold<K: Copy>(kids: &mut [(K, Size)], threshold: u64) -> (Vec<(K, Size)>, Size) {
    kids.sort_by_key(|k| std::cmp::Reverse(k.1.bytes));
    let mut folded = Size { bytes: 0, files: 0 };
    let mut kept = Vec::new();
    for &(k, s) in kids.iter() {
        if s.bytes >= threshold.max(1) {
            kept.push((k, s));
        } else {
            folded.bytes += s.bytes;
            folded.files += s.files;
        }
    }
    (kept, folded)
}

/// Edges in units of the box's sides, rounded edge by edge so neighbours still touch.
fn to_unit(r: Rect, aspect: f64) -> [u16; 4] {
    let u = UNIT as f64;
    let q = |v: f64| (v * u).round().clamp(0.0, u) as u16;
    [q(r.x0 / aspect), q(r.y0), q(r.x1 / aspect), q(r.y1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlap(a: &Rect, b: &Rect) -> f64 {
        let w = (a.x1.min(b.x1) - a.x0.max(b.x0)).max(0.0);
        let h = (a.y1.min(b.y1) - a.y0.max(b.y0)).max(0.0);
        w * h
    }

    fn check(weights: &[u64], bounds: Rect) {
        let rects = squarify(weights, bounds);
        assert_eq!(rects.len(), weights.len());
        let total: u64 = weights.iter().sum();
        for (r, &w) in rects.iter().zip(weights) {
            let want = bounds.area() * w as f64 / total as f64;
            assert!(
                (r.area() - want).abs() <= 1e-9 * bounds.area(),
                "weight {w}: area {} want {want}",
                r.area()
            );
            let eps = 1e-9;
            assert!(r.x0 >= bounds.x0 - eps && r.x1 <= bounds.x1 + eps);
            assert!(r.y0 >= bounds.y0 - eps && r.y1 <= bounds.y1 + eps);
            assert!(r.width() >= -eps && r.height() >= -eps);
        }
        for i in 0..rects.len() {
            for j in i + 1..rects.len() {
                assert!(
                    overlap(&rects[i], &rects[j]) <= 1e-9 * bounds.area(),
                    "{i} and {j} overlap"
                );
            }
        }
        let sum: f64 = rects.iter().map(Rect::area).sum();
        assert!((sum - bounds.area()).abs() < 1e-9 * bounds.area());
    }

    #[test]
    fn areas_are_proportional_and_tile_the_box() {
        // the paper's example: 6 6 4 3 2 2 1 in a 6 x 4 box
        check(&[6, 6, 4, 3, 2, 2, 1], Rect::new(0.0, 0.0, 6.0, 4.0));
        check(&[100], Rect::new(0.0, 0.0, 1.6, 1.0));
        check(&[5, 5, 5, 5, 5], Rect::new(0.0, 0.0, 1.0, 3.0));
        check(&[1_000_000_000, 7, 3, 1, 1], Rect::new(0.0, 0.0, 1.6, 1.0));
        let many: Vec<u64> = (1..=500u64).rev().map(|i| i * i).collect();
        check(&many, Rect::new(0.0, 0.0, 1.6, 1.0));
    }

    #[test]
    fn squarified_rows_are_squarish() {
        // the paper's example ends with aspect ratios no worse than 9/4 (its step 7)
        let rects = squarify(&[6, 6, 4, 3, 2, 2, 1], Rect::new(0.0, 0.0, 6.0, 4.0));
        for r in &rects {
            let a = (r.width() / r.height()).max(r.height() / r.width());
            assert!(a <= 4.0 + 1e-9, "{r:?} aspect {a}");
        }
        assert!((rects[0].width() - 3.0).abs() < 1e-9 && (rects[0].height() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn zero_weights_take_no_room() {
        let rects = squarify(&[10, 0, 0], Rect::new(0.0, 0.0, 2.0, 1.0));
        assert!((rects[0].area() - 2.0).abs() < 1e-12);
        assert_eq!(rects[1].area(), 0.0);
        assert!(squarify(&[0, 0], Rect::new(0.0, 0.0, 1.0, 1.0))
            .iter()
            .all(|r| r.area() == 0.0));
    }

    /// A small tree: 0 = root {1 = dir {3: 500, 4: 2, 5: 1}, 2: 300, 6: 3, 7: 0}.
    fn tree() -> (Vec<u64>, Vec<Vec<usize>>) {
        let mut bytes = vec![0, 0, 300, 500, 2, 1, 3, 0];
        let kids = vec![
            vec![1, 2, 6, 7],
            vec![3, 4, 5],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
            vec![],
        ];
        bytes[1] = 503;
        bytes[0] = 503 + 300 + 3;
        (bytes, kids)
    }

    #[test]
    fn folding_keeps_every_byte_and_file() {
        let (bytes, kids) = tree();
        let files = |k: usize| -> u64 {
            if k == 0 {
                6
            } else if k == 1 {
                3
            } else {
                1
            }
        };
        let l = layout(
            0usize,
            |k| Size {
                bytes: bytes[k],
                files: files(k),
            },
            |k| kids[k].clone(),
            10,
            1.6,
        );
        assert_eq!(l.threshold, 10);
        // root: dir 1 (503), file 2 (300), fold of 6 and 7 (3 bytes, 2 files)
        let root = &l.nodes[0];
        let children = &l.nodes[root.first as usize..(root.first + root.count) as usize];
        let keys: Vec<Option<usize>> = children.iter().map(|n| n.key).collect();
        assert_eq!(keys, vec![Some(1), Some(2), None]);
        assert_eq!(children[2].size, Size { bytes: 3, files: 2 });
        // every parent's children add up to it, folded ones included
        for n in &l.nodes {
            if n.count == 0 {
                continue;
            }
            let kids = &l.nodes[n.first as usize..(n.first + n.count) as usize];
            assert_eq!(kids.iter().map(|k| k.size.bytes).sum::<u64>(), n.size.bytes);
            assert_eq!(kids.iter().map(|k| k.size.files).sum::<u64>(), n.size.files);
        }
        // dir 1: file 3 kept, 4 and 5 folded into "2 smaller files" of 3 bytes
        let d = l
            .nodes
            .iter()
            .find(|n| n.key == Some(1))
            .expect("dir 1 laid out");
        let dk = &l.nodes[d.first as usize..(d.first + d.count) as usize];
        assert_eq!(dk.len(), 2);
        assert_eq!(dk[1].size, Size { bytes: 3, files: 2 });
    }

    #[test]
    fn written_rectangles_stay_inside_and_apart() {
        let (bytes, kids) = tree();
        let l = layout(
            0usize,
            |k| Size {
                bytes: bytes[k],
                files: 1,
            },
            |k| kids[k].clone(),
            1,
            1.6,
        );
        for n in &l.nodes {
            let kids = &l.nodes[n.first as usize..(n.first + n.count) as usize];
            let mut area = 0u64;
            for (i, a) in kids.iter().enumerate() {
                let [x0, y0, x1, y1] = a.rect;
                assert!(x0 <= x1 && y0 <= y1 && x1 <= UNIT && y1 <= UNIT);
                area += (x1 - x0) as u64 * (y1 - y0) as u64;
                for b in &kids[i + 1..] {
                    let w = x1.min(b.rect[2]).saturating_sub(x0.max(b.rect[0]));
                    let h = y1.min(b.rect[3]).saturating_sub(y0.max(b.rect[1]));
                    assert_eq!(w as u64 * h as u64, 0, "{a:?} overlaps {b:?}");
                }
                // proportional within the rounding of each edge to 1/UNIT
                let want = a.size.bytes as f64 / n.size.bytes as f64;
                let got = ((x1 - x0) as f64 * (y1 - y0) as f64) / (UNIT as f64 * UNIT as f64);
                assert!((got - want).abs() < 4.0 / UNIT as f64, "{got} vs {want}");
            }
            if !kids.is_empty() {
                assert_eq!(area, UNIT as u64 * UNIT as u64, "children tile the parent");
            }
        }
    }
}
