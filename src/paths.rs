//! Interned paths: every path component of every layer is stored once, as a node of a trie
//! with a `u32` id. Knows nothing of layers or tar; it only maps names to ids and back.

use hashbrown::HashTable;
use std::hash::{BuildHasher, Hasher};

/// Id of a node in the [`PathTable`]. The root (`/`) is [`ROOT`].
pub type NodeId = u32;
pub const ROOT: NodeId = 0;

#[derive(Clone, Copy, Debug)]
struct PathNode {
    parent: NodeId,
    name_off: u32,
    name_len: u32,
}

/// A trie of path components, one string arena and one hash index.
#[derive(Clone)]
pub struct PathTable {
    nodes: Vec<PathNode>,
    names: String,
    index: HashTable<NodeId>,
    hasher: std::hash::RandomState,
    /// Children of each node sorted by name (CSR), built by [`PathTable::finish`].
    child_start: Vec<u32>,
    child_list: Vec<NodeId>,
    /// Position of each node in a depth-first walk with children in byte order of names.
    preorder: Vec<u32>,
    /// Position in a depth-first walk with children in name order, children before parents.
    postorder: Vec<u32>,
}

impl Default for PathTable {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for PathTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PathTable({} nodes)", self.nodes.len())
    }
}

impl PathTable {
    pub fn new() -> Self {
        PathTable {
            nodes: vec![PathNode {
                parent: ROOT,
                name_off: 0,
                name_len: 0,
            }],
            names: String::new(),
            index: HashTable::new(),
            hasher: std::hash::RandomState::new(),
            child_start: Vec::new(),
            child_list: Vec::new(),
            preorder: Vec::new(),
            postorder: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    fn key_hash(&self, parent: NodeId, name: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_u32(parent);
        h.write(name.as_bytes());
        h.finish()
    }

    pub fn name(&self, id: NodeId) -> &str {
        let n = &self.nodes[id as usize];
        &self.names[n.name_off as usize..(n.name_off + n.name_len) as usize]
    }

    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        if id == ROOT {
            None
        } else {
            Some(self.nodes[id as usize].parent)
        }
    }

    /// The child `name` of `parent`, if it was ever interned.
    pub fn child(&self, parent: NodeId, name: &str) -> Option<NodeId> {
        let hash = self.key_hash(parent, name);
        self.index
            .find(hash, |&id| {
                self.nodes[id as usize].parent == parent && self.name(id) == name
            })
            .copied()
    }

    /// The child `name` of `parent`, created when missing.
    pub fn intern_child(&mut self, parent: NodeId, name: &str) -> NodeId {
        if let Some(id) = self.child(parent, name) {
            return id;
        }
        let id = self.nodes.len() as NodeId;
        let name_off = self.names.len() as u32;
        self.names.push_str(name);
        self.nodes.push(PathNode {
            parent,
            name_off,
            name_len: name.len() as u32,
        });
        let hash = self.key_hash(parent, name);
        let nodes = &self.nodes;
        let names = &self.names;
        let hasher = &self.hasher;
        self.index.insert_unique(hash, id, |&other| {
            let n = &nodes[other as usize];
            let mut h = hasher.build_hasher();
            h.write_u32(n.parent);
            h.write(&names.as_bytes()[n.name_off as usize..(n.name_off + n.name_len) as usize]);
            h.finish()
        });
        // children lists are stale once a node is added
        self.child_start.clear();
        id
    }

    /// Intern a clean relative path (`a/b/c`, no empty, `.` or `..` components).
    pub fn intern(&mut self, path: &str) -> NodeId {
        let mut node = ROOT;
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            node = self.intern_child(node, comp);
        }
        node
    }

    /// Look a clean path up without creating it.
    pub fn lookup(&self, path: &str) -> Option<NodeId> {
        let mut node = ROOT;
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            node = self.child(node, comp)?;
        }
        Some(node)
    }

    /// `/a/b/c` for a node; `/` for the root.
    pub fn path(&self, id: NodeId) -> String {
        if id == ROOT {
            return "/".to_string();
        }
        let mut comps = Vec::new();
        let mut cur = id;
        while cur != ROOT {
            comps.push(self.name(cur));
            cur = self.nodes[cur as usize].parent;
        }
        let mut out = String::new();
        for c in comps.iter().rev() {
            out.push('/');
            out.push_str(c);
        }
        out
    }

    /// Depth of a node (root = 0).
    pub fn depth(&self, id: NodeId) -> usize {
        let mut d = 0;
        let mut cur = id;
        while cur != ROOT {
            d += 1;
            cur = self.nodes[cur as usize].parent;
        }
        d
    }

    /// Build the sorted children lists and the depth-first order. Call once all paths are in.
    pub fn finish(&mut self) {
        let n = self.nodes.len();
        let mut counts = vec![0u32; n + 1];
        for id in 1..n {
            counts[self.nodes[id].parent as usize + 1] += 1;
        }
        for i in 1..=n {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let mut list = vec![0 as NodeId; n.saturating_sub(1)];
        for id in 1..n {
            let p = self.nodes[id].parent as usize;
            list[fill[p] as usize] = id as NodeId;
            fill[p] += 1;
        }
        for p in 0..n {
            let (s, e) = (counts[p] as usize, counts[p + 1] as usize);
            if e - s > 1 {
                let slice = &mut list[s..e];
                let nodes = &self.nodes;
                let names = &self.names;
                slice.sort_unstable_by(|&a, &b| {
                    let na = &nodes[a as usize];
                    let nb = &nodes[b as usize];
                    names.as_bytes()[na.name_off as usize..(na.name_off + na.name_len) as usize]
                        .cmp(
                            &names.as_bytes()
                                [nb.name_off as usize..(nb.name_off + nb.name_len) as usize],
                        )
                });
            }
        }
        self.child_start = counts;
        self.child_list = list;
        // pre-order ranks
        let mut preorder = vec![0u32; n];
        let mut stack = vec![ROOT];
        let mut rank = 0u32;
        while let Some(id) = stack.pop() {
            preorder[id as usize] = rank;
            rank += 1;
            let (s, e) = (
                self.child_start[id as usize] as usize,
                self.child_start[id as usize + 1] as usize,
            );
            for &c in self.child_list[s..e].iter().rev() {
                stack.push(c);
            }
        }
        self.preorder = preorder;
        // post-order ranks: children (in name order) before their parent
        let mut postorder = vec![0u32; n];
        let mut rank = 0u32;
        let mut stack: Vec<(NodeId, bool)> = vec![(ROOT, false)];
        while let Some((id, expanded)) = stack.pop() {
            if expanded {
                postorder[id as usize] = rank;
                rank += 1;
                continue;
            }
            stack.push((id, true));
            let (s, e) = (
                self.child_start[id as usize] as usize,
                self.child_start[id as usize + 1] as usize,
            );
            for &c in self.child_list[s..e].iter().rev() {
                stack.push((c, false));
            }
        }
        self.postorder = postorder;
    }

    /// Rank in a depth-first walk, children in name order, children before their parent.
    pub fn postorder_rank(&self, id: NodeId) -> u32 {
        self.ensure_finished();
        self.postorder[id as usize]
    }

    fn ensure_finished(&self) {
        debug_assert!(
            self.child_start.len() == self.nodes.len() + 1,
            "PathTable::finish must run before children are asked for"
        );
    }

    /// Children of a node in byte order of their names (all that were ever interned).
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        self.ensure_finished();
        let i = id as usize;
        if i + 1 >= self.child_start.len() {
            return &[];
        }
        &self.child_list[self.child_start[i] as usize..self.child_start[i + 1] as usize]
    }

    /// Rank of a node in a depth-first walk with children in name order: sorting leaves by it
    /// sorts them as paths compared component by component.
    pub fn preorder_rank(&self, id: NodeId) -> u32 {
        self.ensure_finished();
        self.preorder[id as usize]
    }

    /// Is `anc` an ancestor of (or equal to) `id`?
    pub fn is_within(&self, id: NodeId, anc: NodeId) -> bool {
        let mut cur = id;
        loop {
            if cur == anc {
                return true;
            }
            if cur == ROOT {
                return false;
            }
            cur = self.nodes[cur as usize].parent;
        }
    }
}

/// Clean a tar path: drop leading `./`, trailing `/`, `.` components. `None` for the root
/// itself. `..` components and absolute paths are bad input.
pub fn clean_entry_path(raw: &str) -> std::result::Result<Option<String>, String> {
    // kaniko writes the root as "/": that is the root, not an escape
    if raw.starts_with('/')
        && !raw.trim_matches('/').is_empty()
        && raw.trim_start_matches('/') != "."
    {
        return Err(format!("entry {raw:?} has an absolute path"));
    }
    let mut out = String::with_capacity(raw.len());
    for comp in raw.split('/') {
        match comp {
            "" | "." => continue,
            ".." => return Err(format!("entry {raw:?} climbs out of the layer with '..'")),
            c => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(c);
            }
        }
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_walks_in_name_order() {
        let mut t = PathTable::new();
        let c = t.intern("etc/nginx/nginx.conf");
        let b = t.intern("etc/b");
        let wh = t.intern("etc/.wh.nginx");
        assert_eq!(t.path(c), "/etc/nginx/nginx.conf");
        assert_eq!(t.lookup("etc/nginx/nginx.conf"), Some(c));
        assert_eq!(t.lookup("etc/none"), None);
        t.finish();
        let etc = t.lookup("etc").unwrap();
        let names: Vec<&str> = t.children(etc).iter().map(|&n| t.name(n)).collect();
        assert_eq!(names, vec![".wh.nginx", "b", "nginx"]);
        assert!(t.preorder_rank(wh) < t.preorder_rank(b));
        assert!(t.preorder_rank(b) < t.preorder_rank(c));
        assert!(t.is_within(c, etc));
        assert!(!t.is_within(b, c));
    }

    #[test]
    fn cleans_paths_like_dive_and_refuses_escapes() {
        assert_eq!(
            clean_entry_path("./etc/passwd").unwrap().as_deref(),
            Some("etc/passwd")
        );
        assert_eq!(
            clean_entry_path("usr/lib/").unwrap().as_deref(),
            Some("usr/lib")
        );
        assert_eq!(clean_entry_path("./").unwrap(), None);
        assert!(clean_entry_path("/etc/passwd").is_err());
        assert_eq!(clean_entry_path("/").unwrap(), None);
        assert!(clean_entry_path("a/../../etc").is_err());
    }
}
