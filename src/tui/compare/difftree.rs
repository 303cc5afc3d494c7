//! The compare view's diff tree: the changed paths of a comparison and the directories above
//! them, under the filter, the hidden marks, the collapsed directories and the sort order.
//! Flattened once per setting change (the diff holds only changed paths); a cursor move is
//! index arithmetic.

use crate::analysis::compare::{FileChange, FileDiff, FileStatus};
use crate::tree::ChangeMark;
use crate::tui::treeview::{mark_index, SortOrder};
use regex::Regex;
use std::collections::HashSet;

/// How a changed path shows, in the explorer's marks: a modification that kept the content
/// (mode or owner only) is `Unchanged`, the content being what the explorer's marks are about.
pub fn mark_of(c: &FileChange) -> ChangeMark {
    match c.status {
        FileStatus::Added => ChangeMark::Added,
        FileStatus::Removed => ChangeMark::Removed,
        FileStatus::Modified if c.metadata_only => ChangeMark::Unchanged,
        FileStatus::Modified => ChangeMark::Modified,
    }
}

/// One row on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Index into `FileDiff::tree`.
    pub node: usize,
    pub depth: usize,
    /// The row of its parent directory (None at the top level).
    pub parent: Option<usize>,
    /// The last of its parent's rows (its guide is `└── `).
    pub last: bool,
    /// Has rows under it that are shown or collapsed.
    pub has_children: bool,
}

struct Filter {
    pattern: String,
    regex: Regex,
}

pub struct DiffTree {
    pub sort: SortOrder,
    /// Hidden marks, by [`mark_index`].
    pub hide: [bool; 4],
    /// Directories start collapsed when set; `toggled` flips single directories.
    pub collapse_all: bool,
    toggled: HashSet<usize>,
    filter: Option<Filter>,
    /// Changed paths passing the filter and the hidden marks.
    matched: usize,
    rows: Vec<Row>,
    /// Row index of the cursor.
    pub cursor: usize,
    /// First row on screen.
    pub top: usize,
    pub view_h: usize,
}

impl DiffTree {
    pub fn new(files: &FileDiff) -> DiffTree {
        let mut t = DiffTree {
            sort: SortOrder::SizeDesc,
            hide: [false; 4],
            collapse_all: false,
            toggled: HashSet::new(),
            filter: None,
            matched: 0,
            rows: Vec::new(),
            cursor: 0,
            top: 0,
            view_h: 10,
        };
        t.rebuild(files);
        t
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The rows on screen.
    pub fn visible_rows(&self) -> &[Row] {
        let end = (self.top + self.view_h).min(self.rows.len());
        &self.rows[self.top.min(end)..end]
    }

    /// The tree node under the cursor.
    pub fn cursor_node(&self) -> Option<usize> {
        self.rows.get(self.cursor).map(|r| r.node)
    }

    pub fn is_collapsed(&self, n: usize) -> bool {
        self.collapse_all ^ self.toggled.contains(&n)
    }

    pub fn filter_pattern(&self) -> Option<&str> {
        self.filter.as_ref().map(|f| f.pattern.as_str())
    }

    pub fn filter_regex(&self) -> Option<&Regex> {
        self.filter.as_ref().map(|f| &f.regex)
    }

    /// Changed paths shown when filtering (None without a filter).
    pub fn filter_match_count(&self) -> Option<usize> {
        self.filter.as_ref().map(|_| self.matched)
    }

    /// A regex, or a plain substring when the pattern is not a valid one (as the explorer).
    pub fn set_filter(&mut self, files: &FileDiff, pattern: &str) {
        self.filter = if pattern.is_empty() {
            None
        } else {
            match Regex::new(pattern).or_else(|_| Regex::new(&regex::escape(pattern))) {
                Ok(regex) => Some(Filter {
                    pattern: pattern.to_string(),
                    regex,
                }),
                Err(_) => return,
            }
        };
        self.rebuild(files);
    }

    pub fn toggle_hide(&mut self, files: &FileDiff, m: ChangeMark) {
        let i = mark_index(m);
        self.hide[i] = !self.hide[i];
        self.rebuild(files);
    }

    pub fn toggle_sort(&mut self, files: &FileDiff) {
        self.sort = match self.sort {
            SortOrder::SizeDesc => SortOrder::Name,
            SortOrder::Name => SortOrder::SizeDesc,
        };
        self.rebuild(files);
    }

    pub fn toggle_collapse(&mut self, files: &FileDiff) {
        let Some(r) = self.rows.get(self.cursor) else {
            return;
        };
        if !r.has_children {
            return;
        }
        let n = r.node;
        if !self.toggled.remove(&n) {
            self.toggled.insert(n);
        }
        self.rebuild(files);
    }

    pub fn toggle_collapse_all(&mut self, files: &FileDiff) {
        self.collapse_all = !self.collapse_all;
        self.toggled.clear();
        // collapsing everything hides the cursor unless it is on a top-level row
        if self.collapse_all {
            if let Some(mut n) = self.cursor_node() {
                while let Some(p) = files.tree[n].parent.filter(|&p| p != 0) {
                    n = p;
                }
                self.cursor = self.rows.iter().position(|r| r.node == n).unwrap_or(0);
            }
        }
        self.rebuild(files);
    }

    /// Tree guides before a row's name (`│   ├── `), made for the rows on screen only: a row
    /// 40,000 directories deep has 160,000 characters of them.
    pub fn guides(&self, r: &Row) -> String {
        let mut lasts = vec![r.last];
        let mut cur = r.parent;
        while let Some(p) = cur.and_then(|i| self.rows.get(i)) {
            lasts.push(p.last);
            cur = p.parent;
        }
        let mut g = String::new();
        for (i, &last) in lasts.iter().rev().enumerate() {
            g.push_str(match (i + 1 == lasts.len(), last) {
                (true, true) => "└── ",
                (true, false) => "├── ",
                (false, true) => "    ",
                (false, false) => "│   ",
            });
        }
        g
    }

    /// Nodes whose own change passes the filter and the hidden marks. The filter sees each
    /// path, built in one buffer on a walk down the tree.
    fn selected(&self, files: &FileDiff) -> Vec<bool> {
        let tree = &files.tree;
        let mut sel = vec![false; tree.len()];
        let mut path = String::new();
        // (node, length of the path above it); None: leave the node
        let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
        while let Some((n, above)) = stack.pop() {
            path.truncate(above);
            if n != 0 {
                path.push('/');
                path.push_str(&tree[n].name);
            }
            if let Some(ci) = tree[n].change {
                let shown = !self.hide[mark_index(mark_of(&files.changes[ci]))];
                sel[n] = shown
                    && match &self.filter {
                        Some(f) => f.regex.is_match(if n == 0 { "/" } else { &path }),
                        None => true,
                    };
            }
            let len = path.len();
            stack.extend(tree[n].children.iter().map(|&c| (c, len)));
        }
        sel
    }

    /// Flatten the tree again after a setting changed; the cursor stays on its node (or the
    /// nearest shown ancestor).
    pub fn rebuild(&mut self, files: &FileDiff) {
        let tree = &files.tree;
        let before = self.cursor_node();
        // children come after their parent in the arena: one backward pass marks every node
        // with a selected path at or below it
        let selected = self.selected(files);
        let mut keep = vec![false; tree.len()];
        let mut matched = 0;
        for n in (1..tree.len()).rev() {
            if selected[n] {
                keep[n] = true;
                matched += 1;
            }
            if keep[n] {
                if let Some(p) = tree[n].parent {
                    keep[p] = true;
                }
            }
        }
        self.matched = matched;
        let children = |n: usize| -> Vec<usize> {
            let mut v: Vec<usize> = tree[n]
                .children
                .iter()
                .copied()
                .filter(|&c| keep[c])
                .collect();
            if self.sort == SortOrder::Name {
                v.sort_by(|&x, &y| tree[x].name.cmp(&tree[y].name));
            }
            v
        };
        let mut rows: Vec<Row> = Vec::new();
        // (node, depth, parent row, is last)
        let top = children(0);
        let mut stack: Vec<(usize, usize, Option<usize>, bool)> = top
            .iter()
            .enumerate()
            .rev()
            .map(|(i, &c)| (c, 0, None, i + 1 == top.len()))
            .collect();
        let mut row_of: Vec<Option<usize>> = vec![None; tree.len()];
        while let Some((n, depth, parent, last)) = stack.pop() {
            let kids = children(n);
            let me = rows.len();
            row_of[n] = Some(me);
            rows.push(Row {
                node: n,
                depth,
                parent,
                last,
                has_children: !kids.is_empty(),
            });
            if !self.is_collapsed(n) {
                for (i, &c) in kids.iter().enumerate().rev() {
                    stack.push((c, depth + 1, Some(me), i + 1 == kids.len()));
                }
            }
        }
        self.rows = rows;
        self.cursor = 0;
        let mut want = before;
        while let Some(n) = want {
            if let Some(i) = row_of.get(n).copied().flatten() {
                self.cursor = i;
                break;
            }
            want = tree.get(n).and_then(|t| t.parent).filter(|&p| p != 0);
        }
        self.scroll();
    }

    /// Keep the cursor on screen.
    pub fn scroll(&mut self) {
        let h = self.view_h.max(1);
        if self.cursor < self.top {
            self.top = self.cursor;
        } else if self.cursor >= self.top + h {
            self.top = self.cursor + 1 - h;
        }
        // no empty lines below the last row while rows above are hidden
        let max_top = self.rows.len().saturating_sub(h);
        self.top = self.top.min(max_top);
    }

    pub fn move_by(&mut self, delta: isize) {
        let n = self.rows.len() as isize;
        self.cursor = (self.cursor as isize + delta).clamp(0, (n - 1).max(0)) as usize;
        self.scroll();
    }

    pub fn home(&mut self) {
        self.cursor = 0;
        self.scroll();
    }

    pub fn end(&mut self) {
        self.cursor = self.rows.len().saturating_sub(1);
        self.scroll();
    }

    /// `←`: collapse an open directory, else go to the parent.
    pub fn left(&mut self, files: &FileDiff) {
        let Some(r) = self.rows.get(self.cursor) else {
            return;
        };
        if r.has_children && !self.is_collapsed(r.node) {
            self.toggle_collapse(files);
            return;
        }
        let depth = r.depth;
        if depth > 0 {
            if let Some(i) = self.rows[..self.cursor]
                .iter()
                .rposition(|p| p.depth < depth)
            {
                self.cursor = i;
                self.scroll();
            }
        }
    }

    /// `→`: open a closed directory, else go to its first child.
    pub fn right(&mut self, files: &FileDiff) {
        let Some(r) = self.rows.get(self.cursor) else {
            return;
        };
        if !r.has_children {
            return;
        }
        if self.is_collapsed(r.node) {
            self.toggle_collapse(files);
        } else {
            self.move_by(1);
        }
    }
}
