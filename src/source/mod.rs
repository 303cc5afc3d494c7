//! Reading images: from an archive file, an OCI layout directory or a tar stream, into the
//! [`Image`] model. Verifies digests while reading. Writes nothing anywhere.

pub mod archive;
#[cfg(feature = "daemon")]
pub mod daemon;
pub mod extract;
#[cfg(feature = "isal")]
mod inflate;
pub mod layer;
pub mod layout;
mod reading;
pub mod reference;
pub mod verified;

use crate::error::{Error, Result};
use crate::image::{EntryKind, HistoryEntry, Image, Layer, LayerEntry, LinkRef};
use crate::paths::PathTable;
use crate::progress::Progress;
use archive::{MemberBody, MemberIndex};
pub use layer::Capture;
use layer::{LayerParseOptions, ParsedLayer};
pub use layout::Selection;
use rayon::prelude::*;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Check every blob against its digest and every layer against its diff_id.
    pub verify: bool,
    pub selection: Selection,
    pub progress: Option<Arc<Progress>>,
    /// Layers already read by an earlier load (by diff_id), so comparing two images that share
    /// layers reads each shared layer once.
    pub cache: Option<LayerCache>,
    /// Files whose contents to keep in [`Image::captured`] (package databases, ELF facts).
    pub capture: Option<Arc<dyn Capture>>,
    /// A file of digests computed by earlier loads ([`verified::default_path`]): a blob of an
    /// unchanged archive file found there is not hashed again. None: hash every blob.
    pub verified_cache: Option<std::path::PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            verify: true,
            selection: Selection::default(),
            progress: None,
            cache: None,
            capture: None,
            verified_cache: None,
        }
    }
}

/// Parsed layers by diff_id, shared between loads. A layer found here is not read again: its
/// entries are the same bytes by the diff_id's sha256, which the first read verified (or which
/// the user chose not to verify with `--no-verify`); only its blob's first bytes are read, to
/// tell its compression in this archive.
#[derive(Clone, Default)]
pub struct LayerCache {
    layers: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<ParsedLayer>>>>,
    hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl std::fmt::Debug for LayerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LayerCache({} layers, {} hits)", self.len(), self.hits())
    }
}

impl LayerCache {
    pub fn new() -> Self {
        Self::default()
    }
    /// Layers held.
    pub fn len(&self) -> usize {
        self.layers.lock().map(|m| m.len()).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Layers served from the cache instead of being read.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
    fn get(&self, diff_id: &str) -> Option<Arc<ParsedLayer>> {
        let hit = self.layers.lock().ok()?.get(diff_id).cloned();
        if hit.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }
    fn insert(&self, diff_id: String, layer: Arc<ParsedLayer>) {
        if let Ok(mut m) = self.layers.lock() {
            m.entry(diff_id).or_insert(layer);
        }
    }
}

impl LoadOptions {
    pub(crate) fn parse_opts(&self) -> LayerParseOptions {
        LayerParseOptions {
            digests: self.verify,
            content_hashes: true,
            capture: self.capture.clone(),
        }
    }
}

/// Read an image from a path: a tar archive (any layout) or an OCI layout directory.
pub fn load_path(path: &Path, opts: &LoadOptions) -> Result<Image> {
    let md = std::fs::metadata(path).map_err(archive::io_at(path))?;
    let idx = if md.is_dir() {
        MemberIndex::from_dir(path)?
    } else {
        MemberIndex::from_tar_file(path)?
    };
    load_index(idx, path.display().to_string(), opts)
}

/// Read an image from a tar stream (`docker save` bytes from a daemon), once, front to back.
pub fn load_stream<R: std::io::Read>(reader: R, name: &str, opts: &LoadOptions) -> Result<Image> {
    let idx = MemberIndex::from_stream(reader, name, opts.parse_opts(), opts.progress.clone())?;
    load_index(idx, name.to_string(), opts)
}

fn load_index(mut idx: MemberIndex, source: String, opts: &LoadOptions) -> Result<Image> {
    let plan = match layout::plan(&idx, &opts.selection, opts.verify) {
        Ok(p) => p,
        Err(e) => {
            // a cut-off archive usually lost its manifest, which docker save writes last
            if let Some(last) = &idx.truncated_after {
                return Err(Error::member(
                    &idx.archive,
                    last,
                    "archive is truncated after this member (no end-of-archive blocks)",
                ));
            }
            return Err(e);
        }
    };
    // the notes travel in `Image::warnings`: each front end shows them its own way
    // resolve every layer member first, so a missing one fails before any work
    let mut members = Vec::with_capacity(plan.layers.len());
    for l in &plan.layers {
        let m = idx.resolve(&l.member)?.ok_or_else(|| {
            Error::member(
                &idx.archive,
                &l.member,
                "layer listed in the manifest is missing from the archive",
            )
        })?;
        members.push(m);
    }
    if let Some(p) = &opts.progress {
        p.layers_total.store(plan.layers.len(), Ordering::Relaxed);
        let total: u64 = members
            .iter()
            .filter(|m| !matches!(m.body, MemberBody::Parsed))
            .map(|m| m.size)
            .sum();
        p.bytes_total.fetch_add(total, Ordering::Relaxed);
    }
    let diff_ids = plan
        .config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.clone())
        .unwrap_or_default();
    // one layer may be listed twice (same blob): parse each member once
    let mut parsed_by_member: std::collections::HashMap<String, Arc<ParsedLayer>> =
        std::collections::HashMap::new();
    // members served from the cache, with their compression sniffed from this archive's blob
    let mut reused: std::collections::HashMap<String, crate::image::Compression> =
        std::collections::HashMap::new();
    let mut todo: Vec<&archive::Member> = Vec::new();
    for (i, m) in members.iter().enumerate() {
        if parsed_by_member.contains_key(&m.name) || todo.iter().any(|t| t.name == m.name) {
            continue;
        }
        let cached = match (&opts.cache, diff_ids.get(i)) {
            (Some(c), Some(d)) if !matches!(m.body, MemberBody::Parsed) => c.get(d),
            _ => None,
        };
        if let Some(pl) = cached {
            let mut head = [0u8; 4];
            let mut rd = idx.open(m)?;
            let n = read_up_to(&mut rd, &mut head)
                .map_err(|e| Error::member(&idx.archive, &m.name, format!("read failed: {e}")))?;
            reused.insert(m.name.clone(), layer::sniff_compression(&head[..n]));
            parsed_by_member.insert(m.name.clone(), pl);
            if let Some(p) = &opts.progress {
                p.layers_done.fetch_add(1, Ordering::Relaxed);
                p.add_read(m.size);
            }
            continue;
        }
        if let MemberBody::Parsed = m.body {
            let pl = idx
                .parsed
                .remove(&m.name)
                .ok_or_else(|| Error::member(&idx.archive, &m.name, "layer was not parsed"))?;
            parsed_by_member.insert(m.name.clone(), Arc::new(pl));
        } else {
            todo.push(m);
        }
    }
    let verified = opts
        .verified_cache
        .as_deref()
        .filter(|_| opts.verify)
        .map(verified::VerifiedCache::load);
    let results = reading::read_members(&idx, &todo, opts, verified.as_ref())?;
    for (name, pl, shareable) in results {
        let pl = Arc::new(pl);
        if let (true, Some(cache)) = (shareable, &opts.cache) {
            // the verified diff_id, else (with --no-verify) the one the config claims
            let i = members.iter().position(|m| m.name == name);
            if let Some(d) = pl
                .diff_sha256
                .clone()
                .or_else(|| i.and_then(|i| diff_ids.get(i).cloned()))
            {
                cache.insert(d, pl.clone());
            }
        }
        parsed_by_member.insert(name, pl);
    }
    drop(todo);

    if !diff_ids.is_empty() && diff_ids.len() != plan.layers.len() {
        return Err(Error::member(
            &idx.archive,
            &plan.config_member,
            format!(
                "config lists {} diff_ids but the manifest {} layers",
                diff_ids.len(),
                plan.layers.len()
            ),
        ));
    }

    let mut paths = PathTable::new();
    let mut links = String::new();
    let mut layers = Vec::with_capacity(plan.layers.len());
    let mut seen_layer: Vec<u32> = Vec::new();
    let mut captured = std::collections::HashMap::new();
    for (i, (lp, m)) in plan.layers.iter().zip(&members).enumerate() {
        let pl = parsed_by_member
            .get(&m.name)
            .cloned()
            .ok_or_else(|| Error::member(&idx.archive, &m.name, "layer was not parsed"))?;
        let diff_id_expected = diff_ids.get(i).cloned();
        let reused_as = reused.get(&m.name).copied();
        if opts.verify && reused_as.is_none() {
            if let (Some(exp), Some(got)) = (&lp.expected_blob, &pl.blob_sha256) {
                if exp.starts_with("sha256:") && exp != got {
                    return Err(Error::DigestMismatch {
                        archive: idx.archive.clone(),
                        member: lp.member.clone(),
                        what: "blob digest",
                        expected: exp.clone(),
                        found: got.clone(),
                    });
                }
            }
            if let (Some(exp), Some(got)) = (&diff_id_expected, &pl.diff_sha256) {
                if exp.starts_with("sha256:") && exp != got {
                    return Err(Error::DigestMismatch {
                        archive: idx.archive.clone(),
                        member: lp.member.clone(),
                        what: "diff_id",
                        expected: exp.clone(),
                        found: got.clone(),
                    });
                }
            }
        }
        let mut entries: Vec<LayerEntry> = Vec::with_capacity(pl.entries.len());
        let mut size_bytes = 0u64;
        let stamp = i as u32 + 1;
        for re in &pl.entries {
            let p = pl.path(re);
            let node = paths.intern(p);
            if seen_layer.len() <= node as usize {
                seen_layer.resize(node as usize + 1, 0);
            }
            if seen_layer[node as usize] == stamp && re.kind != EntryKind::Dir {
                return Err(Error::member(
                    &idx.archive,
                    &lp.member,
                    format!("entry {p:?} appears twice in the layer"),
                ));
            }
            seen_layer[node as usize] = stamp;
            size_bytes += re.size;
            match re.kind {
                EntryKind::Whiteout => {
                    if let (Some(parent), Some(target)) = (
                        paths.parent(node),
                        paths.name(node).strip_prefix(".wh.").map(str::to_string),
                    ) {
                        paths.intern_child(parent, &target);
                    }
                }
                EntryKind::Hardlink => {
                    if let Ok(Some(t)) = layer::clean_entry_path(pl.link(re)) {
                        paths.intern(&t);
                    }
                }
                _ => {}
            }
            let link = if re.link_len > 0 {
                let off = links.len() as u32;
                links.push_str(pl.link(re));
                LinkRef {
                    off,
                    len: re.link_len,
                }
            } else {
                LinkRef::default()
            };
            entries.push(LayerEntry {
                node,
                kind: re.kind,
                typeflag: re.typeflag,
                mode: re.mode,
                uid: re.uid,
                gid: re.gid,
                size: re.size,
                hash: re.hash,
                link,
            });
        }
        for (ei, bytes) in &pl.captured {
            if let Some(e) = entries.get(*ei as usize) {
                captured.insert((i as u32, e.node), bytes.clone());
            }
        }
        if let Some(compression) = reused_as {
            // the cached entries came from another archive's blob; this one was not read
            layers.push(Layer {
                index: i,
                id: lp.id.clone(),
                digest: lp
                    .expected_blob
                    .clone()
                    .or_else(|| {
                        (compression == crate::image::Compression::None)
                            .then(|| diff_id_expected.clone())
                            .flatten()
                    })
                    .unwrap_or_default(),
                diff_id: diff_id_expected
                    .or_else(|| pl.diff_sha256.clone())
                    .unwrap_or_default(),
                compression,
                compressed_bytes: m.size,
                tar_bytes: pl.tar_bytes,
                size_bytes,
                history: None,
                empty_history: Vec::new(),
                entries,
            });
            continue;
        }
        layers.push(Layer {
            index: i,
            id: lp.id.clone(),
            digest: pl
                .blob_sha256
                .clone()
                .or_else(|| lp.expected_blob.clone())
                .or_else(|| {
                    (pl.compression() == crate::image::Compression::None)
                        .then(|| diff_id_expected.clone())
                        .flatten()
                })
                .unwrap_or_default(),
            diff_id: pl
                .diff_sha256
                .clone()
                .or(diff_id_expected)
                .unwrap_or_default(),
            compression: pl.compression(),
            compressed_bytes: if pl.compressed_bytes > 0 {
                pl.compressed_bytes
            } else {
                m.size
            },
            tar_bytes: pl.tar_bytes,
            size_bytes,
            history: None,
            empty_history: Vec::new(),
            entries,
        });
    }
    hash_deferred(
        &idx,
        &plan,
        &members,
        &parsed_by_member,
        &mut layers,
        paths.len(),
    )?;
    drop(parsed_by_member);
    // every digest checked out: remember the ones computed now
    if let Some(v) = &verified {
        v.save();
    }
    paths.finish();
    let trailing_history = pair_history(&plan.config.history, &mut layers);
    Ok(Image {
        source,
        tags: plan.tags,
        format: plan.format,
        config_digest: plan.config_digest,
        config: plan.config,
        layers,
        paths,
        links,
        trailing_history,
        daemon: None,
        warnings: plan.notes,
        captured,
    })
}

/// Header-only layers left file contents unhashed: hash the files whose path occurs in more
/// than one layer (the only ones a comparison needs), reading just those byte ranges.
fn hash_deferred(
    idx: &MemberIndex,
    plan: &layout::ImagePlan,
    members: &[archive::Member],
    parsed: &std::collections::HashMap<String, Arc<ParsedLayer>>,
    layers: &mut [Layer],
    node_count: usize,
) -> Result<()> {
    let Some(file) = &idx.file else { return Ok(()) };
    let needs = |l: &Layer| {
        l.entries
            .iter()
            .any(|e| e.kind == EntryKind::File && e.hash == 0 && e.size > 0)
    };
    if !layers.iter().any(needs) {
        return Ok(());
    }
    // in how many layers does each path occur?
    let mut count = vec![0u8; node_count];
    let mut last = vec![u32::MAX; node_count];
    for (i, l) in layers.iter().enumerate() {
        for e in &l.entries {
            let n = e.node as usize;
            if last[n] != i as u32 {
                last[n] = i as u32;
                count[n] = count[n].saturating_add(1);
            }
        }
    }
    // per layer: (entry index, absolute offset, length) of the files to hash
    type Job = (usize, Vec<(usize, u64, u64)>);
    type Hashed = (usize, Vec<(usize, u64)>);
    let jobs: Vec<Job> = layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let MemberBody::Range { offset, .. } = members[i].body else {
                return None;
            };
            let pl = parsed.get(&members[i].name)?;
            let wanted: Vec<(usize, u64, u64)> = l
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    e.kind == EntryKind::File
                        && e.hash == 0
                        && e.size > 0
                        && count[e.node as usize] > 1
                })
                .map(|(k, e)| (k, offset + pl.entries[k].data_offset, e.size))
                .collect();
            (!wanted.is_empty()).then_some((i, wanted))
        })
        .collect();
    let hashed: Vec<Result<Hashed>> = jobs
        .into_par_iter()
        .map(|(i, wanted)| {
            let io = |e: std::io::Error| {
                Error::member(
                    &idx.archive,
                    &plan.layers[i].member,
                    format!("read failed: {e}"),
                )
            };
            let f = std::fs::File::open(file).map_err(io)?;
            let mut out = Vec::with_capacity(wanted.len());
            for (k, off, len) in wanted {
                out.push((k, layer::hash_range(&f, off, len).map_err(io)?));
            }
            Ok((i, out))
        })
        .collect();
    for r in hashed {
        let (i, hs) = r?;
        for (k, h) in hs {
            layers[i].entries[k].hash = h;
        }
    }
    Ok(())
}

/// Read until `buf` is full or the reader ends.
fn read_up_to(r: &mut dyn std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Give each layer the history step that made it and the empty steps before it; return the
/// steps left after the last layer.
pub fn pair_history(history: &[HistoryEntry], layers: &mut [Layer]) -> Vec<HistoryEntry> {
    let mut pending: Vec<HistoryEntry> = Vec::new();
    let mut li = 0;
    let mut trailing = Vec::new();
    for h in history {
        if h.empty_layer {
            pending.push(h.clone());
            continue;
        }
        if li < layers.len() {
            layers[li].history = Some(h.clone());
            layers[li].empty_history = std::mem::take(&mut pending);
            li += 1;
        } else {
            trailing.append(&mut pending);
            trailing.push(h.clone());
        }
    }
    trailing.append(&mut pending);
    trailing
}
