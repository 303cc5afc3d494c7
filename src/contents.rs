//! One file's contents across the layers: which version is visible at a layer (symlinks
//! followed inside the image, never out of it), every version of a path, their bytes read
//! back from the image (through [`crate::source::access`]), a unified diff between two of
//! them, and the one way hostile bytes are made safe for a terminal. For `bathy cat`,
//! `bathy diff` and the explorer's viewer; prints nothing.

use crate::error::{Error, Result};
use crate::image::{EntryKind, Image};
use crate::paths::{NodeId, ROOT};
use crate::pipeline::{self, Keep, LoadConfig, Watch};
use crate::source::access::{EntryAt, EntryReader, LayerFiles, Wanted};
use crate::source::reference::{Engine, Target};
use crate::source::refetch::Activity;
use crate::tree::{entry_of, MergedTree};
use std::io::Read;

/// Symlinks followed while resolving one path, at most (Linux's limit).
const MAX_SYMLINKS: usize = 40;
/// A version larger than this is not diffed (both sides are held in memory to diff them).
pub const MAX_DIFF_BYTES: u64 = 64 << 20;

/// An image opened for reading file contents: its model, its merged tree, and its layers
/// indexed for single-file reads.
pub struct ImageFiles {
    pub image: Image,
    pub tree: MergedTree,
    files: LayerFiles,
    /// What a slow read is doing (a layer fetched again, decoded from its start), for a
    /// progress line.
    pub activity: std::sync::Arc<Activity>,
}

/// What reading a file's versions needs, borrowed: the explorer keeps its own image and tree
/// and adds the layers opened for reading.
#[derive(Clone, Copy)]
pub struct Files<'a> {
    pub image: &'a Image,
    pub tree: &'a MergedTree,
    pub layers: &'a LayerFiles,
}

/// What a path is at one layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileVersion {
    /// The layer whose entry this is (or which removed the path).
    pub layer: usize,
    /// The file's bytes by its header; None: removed by this layer (or not a regular file).
    pub size: Option<u64>,
}

/// Load `target` and open its layers for reading files. An image read once as a stream (a
/// registry's, a daemon's) is read again only as far as a file asks: see [`layer_files`].
pub fn open(target: &str, config: &LoadConfig, watch: &Watch) -> Result<ImageFiles> {
    let image = pipeline::load(target, config, Keep::LayersOnly, watch)?;
    let files = reader(target, config)?;
    let tree = MergedTree::build(&image);
    Ok(ImageFiles {
        image,
        tree,
        files,
        activity: Activity::new(),
    })
}

/// The layers of `target` opened for reading files, for the explorer's viewer (which has
/// loaded the image already, recording access points); the message says why not.
pub fn layer_files(
    target: &str,
    config: &LoadConfig,
) -> std::result::Result<std::sync::Arc<LayerFiles>, String> {
    reader(target, config)
        .map(|files| match config.seek_points() {
            Some(seek) => files.with_seek(seek.clone()),
            None => files,
        })
        .map(std::sync::Arc::new)
        .map_err(|e| e.to_string())
}

/// How single files of `target` are read: an archive or layout directory in place; a
/// registry's layer blob fetched again when a file of it is read, a daemon's image exported
/// once to an archive when the first file is read, both into a private temporary directory
/// that goes with the reader (see [`crate::source::refetch`]).
fn reader(target: &str, config: &LoadConfig) -> Result<LayerFiles> {
    match config.target(target)? {
        Target::Path(p) => LayerFiles::open(&p, config.selection()),
        Target::Registry { reference } => registry_reader(reference, config),
        Target::Daemon { engine, reference } => daemon_reader(engine, reference, config),
    }
}

#[cfg(feature = "registry")]
fn registry_reader(reference: String, config: &LoadConfig) -> Result<LayerFiles> {
    let settings = config.registry_settings();
    let platform = config.selection().platform.clone();
    let opener: crate::source::access::Opener = Box::new(move |_, _| {
        crate::source::registry::remote_index(&reference, &settings, platform.as_deref())
    });
    // the platform chose the manifest: the planner sees one image, as when loading
    Ok(LayerFiles::deferred(
        opener,
        &crate::source::Selection::default(),
    ))
}

#[cfg(not(feature = "registry"))]
fn registry_reader(reference: String, _: &LoadConfig) -> Result<LayerFiles> {
    Err(Error::Usage(format!(
        "registry://{reference}: this build cannot read from a registry"
    )))
}

#[cfg(feature = "daemon")]
fn daemon_reader(engine: Engine, reference: String, config: &LoadConfig) -> Result<LayerFiles> {
    let opener: crate::source::access::Opener = Box::new(move |scratch, activity| {
        let path = scratch.path("image.tar")?;
        let mut file = std::fs::File::create(&path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        let what = format!("exporting {reference} from the {} daemon", engine.title());
        activity.begin(what, 0);
        let conn = crate::source::daemon::Connection::open(engine);
        let done = conn.and_then(|c| c.export_to(&reference, &mut file, activity));
        activity.end();
        done?;
        drop(file);
        let mut idx = crate::source::archive::MemberIndex::from_path(&path)?;
        // named as the load named it, so errors name the image and the load's points apply
        idx.archive = format!("{}://{reference}", engine.scheme());
        Ok(idx)
    });
    Ok(LayerFiles::deferred(opener, config.selection()))
}

#[cfg(not(feature = "daemon"))]
fn daemon_reader(_: Engine, reference: String, _: &LoadConfig) -> Result<LayerFiles> {
    Err(Error::Usage(format!(
        "{reference}: this build cannot read from a daemon"
    )))
}

/// Follow `path` at `layer` through the merged tree: each symlink met on the way is resolved
/// inside the image (absolute targets from the image's root); a target that climbs above the
/// root is refused, as is a loop.
pub fn resolve(image: &Image, tree: &MergedTree, path: &str, layer: usize) -> Result<NodeId> {
    let mut todo: Vec<String> = components(path).rev().map(str::to_string).collect();
    let mut node = ROOT;
    let mut hops = 0;
    while let Some(comp) = todo.pop() {
        if comp == ".." {
            node = image.paths.parent(node).ok_or_else(|| {
                Error::Usage(format!(
                    "{path}: a symlink on the way leads out of the image"
                ))
            })?;
            continue;
        }
        let child = image
            .paths
            .child(node, &comp)
            .filter(|&c| tree.state_at(c, layer).is_some_and(|v| v.present()));
        let Some(child) = child else {
            return Err(Error::Usage(format!(
                "{path}: no such file at layer {layer}{}",
                removed_note(image, tree, node, &comp, layer)
            )));
        };
        let entry = tree.state_at(child, layer).and_then(|v| entry_of(image, v));
        match entry {
            Some(e) if e.kind == EntryKind::Symlink => {
                hops += 1;
                if hops > MAX_SYMLINKS {
                    return Err(Error::Usage(format!("{path}: too many symlinks (a loop?)")));
                }
                let target = image.link(e.link);
                todo.extend(components(target).rev().map(str::to_string));
                if !target.starts_with('/') {
                    continue; // relative: from the link's directory, where `node` still is
                }
                node = ROOT;
            }
            _ => node = child,
        }
    }
    Ok(node)
}

fn components(p: &str) -> impl DoubleEndedIterator<Item = &str> {
    p.split('/').filter(|c| !c.is_empty() && *c != ".")
}

/// ", removed by layer N" when `name` under `dir` was there before `layer` and is not now.
fn removed_note(image: &Image, tree: &MergedTree, dir: NodeId, name: &str, layer: usize) -> String {
    let Some(node) = image.paths.child(dir, name) else {
        return String::new();
    };
    match tree.state_at(node, layer) {
        Some(v) if !v.present() => format!(", removed by layer {}", v.layer),
        _ => String::new(),
    }
}

impl ImageFiles {
    /// The image, its tree and its layers, borrowed.
    pub fn files(&self) -> Files<'_> {
        Files {
            image: &self.image,
            tree: &self.tree,
            layers: &self.files,
        }
    }

    /// The last layer's index (the final filesystem).
    pub fn top(&self) -> usize {
        self.image.layers.len().saturating_sub(1)
    }

    /// See [`Files::visible`].
    pub fn visible(&self, path: &str, layer: usize) -> Result<(NodeId, FileVersion)> {
        self.files().visible(path, layer)
    }

    /// See [`Files::versions`].
    pub fn versions(&self, node: NodeId) -> Vec<FileVersion> {
        self.files().versions(node)
    }

    /// See [`Files::read`]; slow work reports into [`ImageFiles::activity`].
    pub fn read(&self, node: NodeId, v: &FileVersion) -> Result<EntryReader> {
        self.files().read_watched(node, v, &self.activity)
    }

    /// See [`Files::node_for_diff`].
    pub fn node_for_diff(&self, path: &str, layer: usize) -> Result<NodeId> {
        self.files().node_for_diff(path, layer)
    }

    /// See [`Files::diff`].
    pub fn diff(
        &self,
        node: NodeId,
        old: Option<&FileVersion>,
        new: Option<&FileVersion>,
    ) -> Result<String> {
        self.files().diff_watched(node, old, new, &self.activity)
    }
}

impl Files<'_> {
    /// The version of `path` visible at `layer` (symlinks followed); an error when the path
    /// is missing there, names the layer that removed it.
    pub fn visible(&self, path: &str, layer: usize) -> Result<(NodeId, FileVersion)> {
        if layer >= self.image.layers.len() {
            return Err(Error::Usage(format!(
                "there is no layer {layer} (the image has {})",
                self.image.layers.len()
            )));
        }
        let node = resolve(self.image, self.tree, path, layer)?;
        let v = self
            .tree
            .state_at(node, layer)
            .ok_or_else(|| Error::Usage(format!("{path}: no such file at layer {layer}")))?;
        Ok((node, self.version(v)))
    }

    fn version(&self, v: crate::tree::Version) -> FileVersion {
        let size = entry_of(self.image, v).and_then(|e| match e.kind {
            EntryKind::File => Some(e.size),
            EntryKind::Hardlink => self.hardlink_size(v.layer as usize, e),
            _ => None,
        });
        FileVersion {
            layer: v.layer as usize,
            size,
        }
    }

    fn hardlink_size(&self, layer: usize, e: &crate::image::LayerEntry) -> Option<u64> {
        let t = self.image.hardlink_target(e)?;
        let v = self.tree.state_at(t, layer)?;
        entry_of(self.image, v).map(|t| t.size)
    }

    /// Every version of `node` in layer order: each layer that wrote or removed it.
    pub fn versions(&self, node: NodeId) -> Vec<FileVersion> {
        self.tree
            .versions(node)
            .iter()
            .map(|&v| self.version(v))
            .collect()
    }

    /// Is the path a regular file (or a hardlink to one) at `v`?
    fn check_file(&self, node: NodeId, v: &FileVersion) -> Result<()> {
        let path = self.image.paths.path(node);
        let st = self.tree.state_at(node, v.layer);
        match st.and_then(|s| entry_of(self.image, s)) {
            _ if st.is_some_and(|s| !s.present()) => Err(Error::Usage(format!(
                "{path} was removed by layer {}",
                v.layer
            ))),
            Some(e) if matches!(e.kind, EntryKind::File | EntryKind::Hardlink) => Ok(()),
            Some(e) => Err(Error::Usage(format!(
                "{path} is a {} at layer {}, not a file",
                e.kind.name(),
                v.layer
            ))),
            None => Err(Error::Usage(format!("{path} is a directory, not a file"))),
        }
    }

    /// A reader over the bytes of `node`'s version `v`. A hardlink reads the version of its
    /// target visible at that layer (usually an entry of the same layer).
    pub fn read(&self, node: NodeId, v: &FileVersion) -> Result<EntryReader> {
        self.read_watched(node, v, &Activity::new())
    }

    /// [`Files::read`], reporting a slow read (a layer fetched again, decoded from its start)
    /// into `activity`.
    pub fn read_watched(
        &self,
        node: NodeId,
        v: &FileVersion,
        activity: &std::sync::Arc<Activity>,
    ) -> Result<EntryReader> {
        let w = self.locate(node, v)?;
        self.layers.entry_watched(&w, activity)
    }

    /// Which entry of which layer holds the bytes of `node`'s version `v`.
    pub fn locate(&self, node: NodeId, v: &FileVersion) -> Result<Wanted> {
        self.check_file(node, v)?;
        let st = self.tree.state_at(node, v.layer);
        let mut at = (node, v.layer, st);
        if let Some(e) = st.and_then(|s| entry_of(self.image, s)) {
            if let Some(t) = self.image.hardlink_target(e) {
                let tv = self.tree.state_at(t, v.layer).filter(|tv| tv.present());
                let tv = tv.ok_or_else(|| {
                    Error::Usage(format!(
                        "{}: its hardlink target is not in the image",
                        self.image.paths.path(node)
                    ))
                })?;
                at = (t, tv.layer as usize, Some(tv));
            }
        }
        // which entry of the layer it is: a compressed layer with access points seeks to it
        let entry = at.2.filter(|s| s.layer as usize == at.1).and_then(|s| {
            entry_of(self.image, s).map(|e| EntryAt {
                index: s.entry as usize,
                size: e.size,
            })
        });
        Ok(Wanted {
            layer: at.1,
            path: self.image.paths.path(at.0),
            at: entry,
            diff_id: self
                .image
                .layers
                .get(at.1)
                .map(|l| l.diff_id.clone())
                .unwrap_or_default(),
        })
    }

    /// The node `bathy diff` shows: `path` resolved at `layer`, or, when it is missing there
    /// (removed), the path as written, if the image ever had it.
    pub fn node_for_diff(&self, path: &str, layer: usize) -> Result<NodeId> {
        match self.visible(path, layer) {
            Ok((node, _)) => Ok(node),
            Err(e) => self
                .image
                .paths
                .lookup(path)
                .filter(|&n| !self.tree.versions(n).is_empty())
                .ok_or(e),
        }
    }

    /// The unified diff of `node` from `old` to `new` (empty: the same bytes), titled by
    /// [`version_label`]; the one way `bathy diff` and the viewer's `d` make it.
    pub fn diff(
        &self,
        node: NodeId,
        old: Option<&FileVersion>,
        new: Option<&FileVersion>,
    ) -> Result<String> {
        self.diff_watched(node, old, new, &Activity::new())
    }

    /// [`Files::diff`], reporting slow reads into `activity`.
    pub fn diff_watched(
        &self,
        node: NodeId,
        old: Option<&FileVersion>,
        new: Option<&FileVersion>,
        activity: &std::sync::Arc<Activity>,
    ) -> Result<String> {
        let a = side_bytes(self.layers, self.diff_side(node, old)?.as_ref(), activity)?;
        let b = side_bytes(self.layers, self.diff_side(node, new)?.as_ref(), activity)?;
        let path = self.image.paths.path(node);
        Ok(unified_diff(
            &path,
            (&version_label(old), &a),
            (&version_label(new), &b),
        ))
    }

    /// What one side of a diff reads: nothing for a removed or absent version; an error
    /// above [`MAX_DIFF_BYTES`].
    pub fn diff_side(&self, node: NodeId, v: Option<&FileVersion>) -> Result<Option<Wanted>> {
        let Some(v) = v.filter(|v| v.size.is_some()) else {
            return Ok(None);
        };
        let path = self.image.paths.path(node);
        if v.size.unwrap_or(0) > MAX_DIFF_BYTES {
            return Err(Error::Usage(format!(
                "{path} at layer {} is {} bytes: too large to diff (at most {MAX_DIFF_BYTES})",
                v.layer,
                v.size.unwrap_or(0)
            )));
        }
        self.locate(node, v).map(Some)
    }
}

/// The bytes of one side of a diff ([`Files::diff_side`]): empty for none.
pub fn side_bytes(
    layers: &LayerFiles,
    side: Option<&Wanted>,
    activity: &std::sync::Arc<Activity>,
) -> Result<Vec<u8>> {
    let Some(w) = side else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    layers
        .entry_watched(w, activity)?
        .take(MAX_DIFF_BYTES)
        .read_to_end(&mut out)
        .map_err(|e| Error::Usage(e.to_string()))?;
    Ok(out)
}

/// How a version is named in a diff's title: `layer 3`, `layer 3, removed`, `nothing before`.
pub fn version_label(v: Option<&FileVersion>) -> String {
    match v {
        Some(v) if v.size.is_some() => format!("layer {}", v.layer),
        Some(v) => format!("layer {}, removed", v.layer),
        None => "nothing before".to_string(),
    }
}

/// The pair `bathy diff` compares: `from` and `to` are layers (the versions visible there);
/// by default the last two versions of the path. `None` on the left: nothing before.
pub fn diff_pair(
    versions: &[FileVersion],
    from: Option<usize>,
    to: Option<usize>,
) -> (Option<usize>, usize) {
    let visible = |layer: usize| versions.iter().rposition(|v| v.layer <= layer);
    let last = versions.len().saturating_sub(1);
    let to_i = to.and_then(visible).unwrap_or(last);
    let from_i = match from {
        Some(l) => visible(l),
        None => to_i.checked_sub(1),
    };
    (from_i, to_i)
}

/// A unified diff of two versions' bytes, titled by their layers; binary contents (NUL bytes)
/// are compared by size only. Every line is escaped for a terminal.
pub fn unified_diff(path: &str, old: (&str, &[u8]), new: (&str, &[u8])) -> String {
    if old.1 == new.1 {
        return String::new();
    }
    if is_binary(old.1) || is_binary(new.1) {
        return format!(
            "Binary file {} differs: {} ({} bytes) → {} ({} bytes)\n",
            escape_text(path.as_bytes()),
            old.0,
            old.1.len(),
            new.0,
            new.1.len()
        );
    }
    let a = escape_text(old.1);
    let b = escape_text(new.1);
    let diff = similar::TextDiff::from_lines(&a, &b);
    let p = escape_text(path.as_bytes());
    diff.unified_diff()
        .context_radius(3)
        .header(&format!("{p} ({})", old.0), &format!("{p} ({})", new.0))
        .to_string()
}

/// Does this look like binary data (a NUL in its first 8 KiB, as git decides)?
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}

/// Bytes made safe for a terminal: UTF-8 text kept, newlines and tabs kept, every other
/// control character (ESC, CR, BEL, C1 controls, DEL) as `\xNN` or `\u{…}`, and bytes that are
/// not UTF-8 as `\xNN`. The one escaping for file contents and names shown by `bathy diff`,
/// `bathy cat` on a terminal and the viewer.
pub fn escape_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' | '\t' => out.push(c),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if c.is_control() || is_bidi_control(c) => {
                    out.push_str(&format!("\\u{{{:x}}}", c as u32))
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Characters that reorder the text around them (the "Trojan Source" ones).
fn is_bidi_control(c: char) -> bool {
    matches!(c as u32, 0x202a..=0x202e | 0x2066..=0x2069 | 0x200e | 0x200f | 0x061c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_invalid_utf8() {
        assert_eq!(escape_text(b"a\x1b[2Jb\tc\n"), "a\\x1b[2Jb\tc\n");
        assert_eq!(escape_text(b"\xff\xfeok"), "\\xff\\xfeok");
        assert_eq!(escape_text("é\u{202e}".as_bytes()), "é\\u{202e}");
        assert_eq!(escape_text(b"\r\x07\x7f"), "\\x0d\\x07\\x7f");
        assert_eq!(escape_text("\u{9b}".as_bytes()), "\\u{9b}");
    }

    #[test]
    fn diff_pair_defaults_to_the_last_two_versions() {
        let v = |layer, size| FileVersion { layer, size };
        let vs = [v(0, Some(1)), v(2, Some(2)), v(4, None)];
        assert_eq!(diff_pair(&vs, None, None), (Some(1), 2));
        assert_eq!(diff_pair(&vs, Some(1), Some(3)), (Some(0), 1));
        assert_eq!(diff_pair(&vs[..1], None, None), (None, 0));
    }
}
