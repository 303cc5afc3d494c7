//! Reading images: from an archive file, an OCI layout directory or a tar stream, into the
//! [`Image`] model. Verifies digests while reading. Writes nothing anywhere.

pub mod access;
pub mod archive;
#[cfg(feature = "daemon")]
pub mod daemon;
#[cfg(feature = "daemon")]
pub mod daemon_transport;
mod digests;
pub mod gzip_index;
#[cfg(bathy_isal)]
mod inflate;
pub mod later;
pub mod layer;
pub mod layer_store;
pub mod layout;
pub mod preview;
pub mod raw_deflate;
mod read_ahead;
mod reading;
pub mod reference;
pub mod refetch;
#[cfg(feature = "registry")]
pub mod registry;
pub mod seek_index;
pub mod spool;
#[cfg(test)]
mod test_data;
pub mod verified;
pub mod zstd_frames;

use crate::error::{Error, Result};
use crate::image::{Compression, EntryKind, HistoryEntry, Image, Layer, LayerEntry, LinkRef};
use crate::paths::{clean_entry_path, PathTable, ROOT};
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
    /// A file of digests computed by earlier loads (`verified-layers` in the layer cache's directory): a blob of an
    /// unchanged archive file found there is not hashed again. None: hash every blob.
    pub verified_cache: Option<std::path::PathBuf>,
    /// The zip-bomb guard: see [`LayerParseOptions::max_inflate_ratio`].
    pub max_inflate_ratio: u64,
    /// Parsed layers kept on disk between runs (`--cache-dir`, `--no-cache`).
    pub store: Option<Arc<layer_store::LayerStore>>,
    /// Record access points into compressed layers and every entry's tar offset, for the
    /// explorer's viewer ([`seek_index`]); None everywhere else.
    pub seek: Option<Arc<seek_index::SeekIndexes>>,
    /// Told the plan and each layer as it is parsed, for a front end that shows the image
    /// while it loads (see [`preview`]).
    pub layer_feed: Option<Arc<preview::LayerFeed>>,
    /// Where to leave the sha256 of uncompressed layers in an archive file running while the
    /// caller goes on (see [`later`]); the caller must [`later::DigestsLater::finish`] before
    /// it reports anything. None: the load waits for every digest.
    pub digests_later: Option<Arc<later::DigestsLater>>,
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
            max_inflate_ratio: layer::DEFAULT_MAX_INFLATE_RATIO,
            store: None,
            seek: None,
            layer_feed: None,
            digests_later: None,
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
            max_inflate_ratio: self.max_inflate_ratio,
            seek: self.seek.clone(),
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

pub(crate) fn load_index(
    mut idx: MemberIndex,
    source: String,
    opts: &LoadOptions,
) -> Result<Image> {
    let plan = plan_image(&idx, opts)?;
    let members = resolve_members(&idx, &plan)?;
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
    check_layer_count(&idx, &plan, &diff_ids, opts.verify)?;
    // the explorer's hook: the plan now, each layer as it is parsed (see `preview`)
    if let Some(feed) = &opts.layer_feed {
        feed.plan(preview::PlanInfo {
            source: source.clone(),
            archive: idx.archive.clone(),
            plan: plan.clone(),
            member_sizes: members.iter().map(|m| m.size).collect(),
            diff_ids: diff_ids.clone(),
        });
    }
    let verified = opts
        .verified_cache
        .as_deref()
        .filter(|_| opts.verify)
        .map(|p| Arc::new(verified::VerifiedCache::load(p)));
    let defer = opts.verify && opts.digests_later.is_some() && all_sha256(&plan, &diff_ids);
    let (read, later) = read_layers(
        &mut idx,
        &members,
        &plan.layers,
        &diff_ids,
        opts,
        verified.as_deref(),
        defer,
    )?;
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
    let read: Vec<&ReadLayer> = members
        .iter()
        .map(|m| {
            read.get(&m.name)
                .ok_or_else(|| Error::member(&idx.archive, &m.name, "layer was not parsed"))
        })
        .collect::<Result<_>>()?;
    if opts.verify {
        verify_layers(&idx.archive, &plan, &read, &diff_ids)?;
        // every digest checked out: remember the ones computed now
        if let Some(v) = &verified {
            v.save();
        }
    }
    if let (Some(running), Some(slot)) = (later, &opts.digests_later) {
        slot.leave(pending_checks(
            &idx.archive,
            &plan,
            &members,
            &diff_ids,
            running,
            verified,
        ));
    }
    let mut interner = Interner::default();
    let mut layers = Vec::with_capacity(plan.layers.len());
    let mut captured = std::collections::HashMap::new();
    for (i, ((lp, m), rl)) in plan.layers.iter().zip(&members).zip(&read).enumerate() {
        let (entries, size_bytes) = interner.layer_entries(i, &rl.parsed, &idx.archive, lp)?;
        if let Some(seek) = &opts.seek {
            seek_index::note_offsets(seek, &idx.archive, &m.name, rl.reused_as, &rl.parsed);
        }
        for (ei, bytes) in &rl.parsed.captured {
            if let Some(e) = entries.get(*ei as usize) {
                captured.insert((i as u32, e.node), bytes.clone());
            }
        }
        let diff_id_expected = diff_ids.get(i).cloned();
        layers.push(new_layer(
            i,
            lp,
            m.size,
            rl,
            diff_id_expected,
            entries,
            size_bytes,
        ));
    }
    let Interner {
        mut paths, links, ..
    } = interner;
    hash_deferred(&idx, &plan, &members, &read, &mut layers, paths.len())?;
    drop(read);
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

/// Which image to read and where its pieces are; the notes travel in `Image::warnings`, each
/// front end shows them its own way.
fn plan_image(idx: &MemberIndex, opts: &LoadOptions) -> Result<layout::ImagePlan> {
    layout::plan(idx, &opts.selection, opts.verify).map_err(|e| {
        // a cut-off archive usually lost its manifest, which docker save writes last
        match &idx.truncated_after {
            Some(last) => Error::member(
                &idx.archive,
                last,
                "archive is truncated after this member (no end-of-archive blocks)",
            ),
            None => e,
        }
    })
}

/// Every layer member of the plan, resolved first, so a missing one fails before any work.
fn resolve_members(idx: &MemberIndex, plan: &layout::ImagePlan) -> Result<Vec<archive::Member>> {
    plan.layers
        .iter()
        .map(|l| {
            idx.resolve(&l.member)?.ok_or_else(|| {
                Error::member(
                    &idx.archive,
                    &l.member,
                    "layer listed in the manifest is missing from the archive",
                )
            })
        })
        .collect()
}

/// One layer blob as this load has it: parsed here, or served from the [`LayerCache`] (then
/// only its first bytes were read from this archive, for `reused_as`, its compression here).
struct ReadLayer {
    parsed: Arc<ParsedLayer>,
    reused_as: Option<Compression>,
}

impl ReadLayer {
    /// What was measured while reading this archive's blob (None: served from the cache).
    fn measured(&self) -> Option<&ParsedLayer> {
        self.reused_as.is_none().then_some(&*self.parsed)
    }
}

/// More layers than this are refused: overlay2 stacks at most 128, so no image Docker can
/// run has more than this; a manifest listing one blob a thousand times would otherwise cost a
/// thousand copies of its entries.
pub const MAX_LAYERS: usize = 256;

/// The manifest's layer count against [`MAX_LAYERS`], and, when verifying, the config's
/// diff_ids that the layers are checked against: a config without them checks nothing.
fn check_layer_count(
    idx: &MemberIndex,
    plan: &layout::ImagePlan,
    diff_ids: &[String],
    verify: bool,
) -> Result<()> {
    if plan.layers.len() > MAX_LAYERS {
        return Err(Error::member(
            &idx.archive,
            &plan.config_member,
            format!(
                "the manifest lists {} layers, more than the {MAX_LAYERS} bathy reads \
                 (Docker's overlay2 runs at most 128)",
                plan.layers.len()
            ),
        ));
    }
    if verify && diff_ids.is_empty() && !plan.layers.is_empty() {
        return Err(Error::member(
            &idx.archive,
            &plan.config_member,
            "config lists no diff_ids to check the layers against (--no-verify reads it anyway)",
        ));
    }
    Ok(())
}

/// Read every distinct layer member once: from the cache, from what the stream already
/// parsed, else from the archive (in parallel). Fresh full reads go into the cache.
/// Every layer (blob) listed with a `sha256:` diff_id, and a `sha256:` blob digest where the
/// manifest names one: the expected digests stand in for ones left running.
fn all_sha256(plan: &layout::ImagePlan, diff_ids: &[String]) -> bool {
    let sha = |d: &str| d.starts_with("sha256:");
    diff_ids.len() == plan.layers.len()
        && diff_ids.iter().all(|d| sha(d))
        && plan
            .layers
            .iter()
            .all(|l| l.expected_blob.as_deref().is_none_or(sha))
}

/// What [`later::DigestsLater::finish`] checks: for each member left running, the digests
/// expected at every place it is listed.
fn pending_checks(
    archive: &str,
    plan: &layout::ImagePlan,
    members: &[archive::Member],
    diff_ids: &[String],
    (names, hashing): later::Running,
    verified: Option<Arc<verified::VerifiedCache>>,
) -> later::Pending {
    let members = names
        .into_iter()
        .map(|(name, key)| {
            let mut expected = Vec::new();
            for (i, lp) in plan.layers.iter().enumerate() {
                if members.get(i).is_some_and(|m| m.name == name) {
                    if let Some(b) = &lp.expected_blob {
                        expected.push(("blob digest", b.clone()));
                    }
                    if let Some(d) = diff_ids.get(i) {
                        expected.push(("diff_id", d.clone()));
                    }
                }
            }
            later::Member {
                name,
                expected,
                key,
            }
        })
        .collect();
    later::Pending {
        archive: archive.to_string(),
        members,
        hashing,
        verified,
    }
}

fn read_layers(
    idx: &mut MemberIndex,
    members: &[archive::Member],
    plans: &[layout::LayerPlan],
    diff_ids: &[String],
    opts: &LoadOptions,
    verified: Option<&verified::VerifiedCache>,
    defer: bool,
) -> Result<(
    std::collections::HashMap<String, ReadLayer>,
    Option<later::Running>,
)> {
    // one layer may be listed twice (same blob): read each member once
    let mut done: std::collections::HashMap<String, ReadLayer> = std::collections::HashMap::new();
    let mut todo: Vec<&archive::Member> = Vec::new();
    for (i, m) in members.iter().enumerate() {
        if done.contains_key(&m.name) || todo.iter().any(|t| t.name == m.name) {
            continue;
        }
        let cached = match (&opts.cache, diff_ids.get(i)) {
            (Some(c), Some(d)) if !matches!(m.body, MemberBody::Parsed) => c.get(d),
            _ => None,
        };
        if let Some(parsed) = cached {
            let mut head = [0u8; 4];
            let mut rd = idx.open(m)?;
            let n = read_up_to(&mut rd, &mut head)
                .map_err(|e| Error::member(&idx.archive, &m.name, format!("read failed: {e}")))?;
            let reused_as = Some(Compression::sniff(&head[..n]));
            done.insert(m.name.clone(), ReadLayer { parsed, reused_as });
            if let Some(p) = &opts.progress {
                p.layers_done.fetch_add(1, Ordering::Relaxed);
                p.add_read(m.size);
            }
        } else if let Some(pl) = stored_layer(idx, m, store_key(plans, i, diff_ids, opts), opts)? {
            let parsed = Arc::new(pl);
            done.insert(
                m.name.clone(),
                ReadLayer {
                    parsed,
                    reused_as: None,
                },
            );
            if let Some(p) = &opts.progress {
                p.layers_done.fetch_add(1, Ordering::Relaxed);
                p.add_read(m.size);
            }
        } else if let MemberBody::Parsed = m.body {
            let pl = idx
                .parsed
                .remove(&m.name)
                .ok_or_else(|| Error::member(&idx.archive, &m.name, "layer was not parsed"))?;
            let parsed = Arc::new(pl);
            done.insert(
                m.name.clone(),
                ReadLayer {
                    parsed,
                    reused_as: None,
                },
            );
        } else {
            todo.push(m);
        }
    }
    if let Some(feed) = &opts.layer_feed {
        for (name, rl) in &done {
            feed.layer_read(name, &rl.parsed);
        }
    }
    let (results, later) = reading::read_members(idx, &todo, opts, verified, defer)?;
    for (name, pl, shareable) in results {
        let parsed = Arc::new(pl);
        if let (true, Some(cache)) = (shareable, &opts.cache) {
            // the verified diff_id, else (with --no-verify) the one the config claims
            let i = members.iter().position(|m| m.name == name);
            if let Some(d) = parsed
                .diff_sha256
                .clone()
                .or_else(|| i.and_then(|i| diff_ids.get(i).cloned()))
            {
                cache.insert(d, parsed.clone());
            }
        }
        if let (true, Some(store)) = (shareable, &opts.store) {
            let i = members.iter().position(|m| m.name == name);
            if let Some(k) = i.and_then(|i| store_key(plans, i, diff_ids, opts)) {
                // only a read that checked both digests may stand in for a later one
                if parsed.blob_sha256.as_ref() == Some(&k.blob)
                    && parsed.diff_sha256.as_ref() == Some(&k.diff_id)
                {
                    store.put(&k, &parsed);
                }
            }
        }
        done.insert(
            name,
            ReadLayer {
                parsed,
                reused_as: None,
            },
        );
    }
    Ok((done, later))
}

/// Check each blob read here against its manifest digest and each layer against its diff_id
/// (layers served from the cache were checked when first read).
fn verify_layers(
    archive: &str,
    plan: &layout::ImagePlan,
    read: &[&ReadLayer],
    diff_ids: &[String],
) -> Result<()> {
    for (i, (lp, rl)) in plan.layers.iter().zip(read).enumerate() {
        let Some(pl) = rl.measured() else { continue };
        let checks = [
            ("blob digest", lp.expected_blob.as_ref(), &pl.blob_sha256),
            ("diff_id", diff_ids.get(i), &pl.diff_sha256),
        ];
        for (what, expected, found) in checks {
            if let (Some(exp), Some(got)) = (expected, found) {
                check_digest(archive, &lp.member, what, exp, got)?;
            }
        }
    }
    Ok(())
}

/// A digest computed from `member` against the one expected (`what`: "blob digest" or
/// "diff_id"); only a `sha256:` expectation is checked.
fn check_digest(
    archive: &str,
    member: &str,
    what: &'static str,
    expected: &str,
    found: &str,
) -> Result<()> {
    if expected.starts_with("sha256:") && expected != found {
        return Err(Error::DigestMismatch {
            archive: archive.to_string(),
            member: member.to_string(),
            what,
            expected: expected.to_string(),
            found: found.to_string(),
        });
    }
    Ok(())
}

/// The one path table and link arena of an image, filled layer by layer.
#[derive(Default)]
struct Interner {
    paths: PathTable,
    links: String,
    /// Per node, the last layer (1-based) that had an entry for it: finds duplicates.
    seen_layer: Vec<u32>,
}

impl Interner {
    /// A parsed layer's entries over interned paths, and the sum of their sizes. Whiteouts
    /// intern the path they hide and hardlinks their target, so both have a node.
    fn layer_entries(
        &mut self,
        i: usize,
        pl: &ParsedLayer,
        archive: &str,
        lp: &layout::LayerPlan,
    ) -> Result<(Vec<LayerEntry>, u64)> {
        let paths = &mut self.paths;
        let mut entries: Vec<LayerEntry> = Vec::with_capacity(pl.entries.len());
        let mut size_bytes = 0u64;
        let stamp = i as u32 + 1;
        for re in &pl.entries {
            let p = pl.path(re);
            let node = paths.intern(p);
            if self.seen_layer.len() <= node as usize {
                self.seen_layer.resize(node as usize + 1, 0);
            }
            if self.seen_layer[node as usize] == stamp && re.kind != EntryKind::Dir {
                return Err(Error::member(
                    archive,
                    &lp.member,
                    format!("entry {p:?} appears twice in the layer"),
                ));
            }
            self.seen_layer[node as usize] = stamp;
            size_bytes += re.size;
            let mut link_node = ROOT;
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
                    if let Ok(Some(t)) = clean_entry_path(pl.link(re)) {
                        link_node = paths.intern(&t);
                    }
                }
                _ => {}
            }
            let link = if re.link_len > 0 {
                let off = self.links.len() as u32;
                self.links.push_str(pl.link(re));
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
                link_node,
            });
        }
        Ok((entries, size_bytes))
    }
}

/// The model's layer `i`. What was measured reading this archive's blob comes first; a layer
/// served from the cache falls back on what the manifest and config claim.
fn new_layer(
    i: usize,
    lp: &layout::LayerPlan,
    member_size: u64,
    rl: &ReadLayer,
    diff_id_expected: Option<String>,
    entries: Vec<LayerEntry>,
    size_bytes: u64,
) -> Layer {
    let measured = rl.measured();
    let compression = rl.reused_as.unwrap_or_else(|| rl.parsed.compression());
    let measured_bytes = measured.map_or(0, |pl| pl.compressed_bytes);
    Layer {
        index: i,
        id: lp.id.clone(),
        // an uncompressed blob is its diff
        digest: measured
            .and_then(|pl| pl.blob_sha256.clone())
            .or_else(|| lp.expected_blob.clone())
            .or_else(|| {
                (compression == Compression::None)
                    .then(|| diff_id_expected.clone())
                    .flatten()
            })
            .unwrap_or_default(),
        diff_id: measured
            .and_then(|pl| pl.diff_sha256.clone())
            .or(diff_id_expected)
            .or_else(|| rl.parsed.diff_sha256.clone())
            .unwrap_or_default(),
        compression,
        compressed_bytes: if measured_bytes > 0 {
            measured_bytes
        } else {
            member_size
        },
        tar_bytes: rl.parsed.tar_bytes,
        size_bytes,
        history: None,
        history_index: None,
        empty_history: Vec::new(),
        entries,
    }
}

/// The on-disk cache's key for layer `i`: its blob digest and diff_id, both sha256 and known
/// before reading (a legacy `docker save` names no blob digest: its layers are not cached).
fn store_key(
    plans: &[layout::LayerPlan],
    i: usize,
    diff_ids: &[String],
    opts: &LoadOptions,
) -> Option<layer_store::LayerKey> {
    opts.store.as_ref()?;
    let blob = plans
        .get(i)?
        .expected_blob
        .clone()
        .filter(|b| b.starts_with("sha256:"))?;
    let diff_id = diff_ids
        .get(i)
        .filter(|d| d.starts_with("sha256:"))?
        .clone();
    Some(layer_store::LayerKey {
        blob,
        diff_id,
        capture: opts.capture.is_some(),
    })
}

/// The layer from the on-disk cache, when it holds it. A registry's blob is addressed by its
/// digest, so a hit is not downloaded at all; a blob in a file is still hashed (its compressed
/// bytes only, no inflating or parsing), so a changed file is never trusted, and with
/// `--no-verify` a file's layers are read as before.
fn stored_layer(
    idx: &MemberIndex,
    m: &archive::Member,
    key: Option<layer_store::LayerKey>,
    opts: &LoadOptions,
) -> Result<Option<ParsedLayer>> {
    let (Some(store), Some(key)) = (&opts.store, key) else {
        return Ok(None);
    };
    let remote = matches!(m.body, MemberBody::Remote(_));
    // a stream was parsed as it came; a file unverified is read (headers only) as asked
    if matches!(m.body, MemberBody::Parsed) || (!remote && !opts.verify) {
        return Ok(None);
    }
    let Some(pl) = store.get(&key) else {
        return Ok(None);
    };
    if !remote {
        let rd = idx.open(m)?;
        let cancelled = || opts.progress.as_ref().is_some_and(|p| p.cancelled());
        let blob = digests::sha256_of(rd, &cancelled)
            .map_err(|e| Error::member(&idx.archive, &m.name, format!("read failed: {e}")))?;
        if blob != key.blob {
            // read it the long way, which reports the mismatch
            return Ok(None);
        }
    }
    Ok(Some(pl))
}

/// Header-only layers left file contents unhashed: hash the files whose path occurs in more
/// than one layer (the only ones a comparison needs), reading just those byte ranges.
fn hash_deferred(
    idx: &MemberIndex,
    plan: &layout::ImagePlan,
    members: &[archive::Member],
    read: &[&ReadLayer],
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
            let pl = &read.get(i)?.parsed;
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

/// Give each layer the history step that made it (and its index) and the empty steps before
/// it; return the steps left after the last layer. The one place history meets layers.
pub fn pair_history(history: &[HistoryEntry], layers: &mut [Layer]) -> Vec<HistoryEntry> {
    let mut pending: Vec<HistoryEntry> = Vec::new();
    let mut li = 0;
    let mut trailing = Vec::new();
    for (hi, h) in history.iter().enumerate() {
        if h.empty_layer {
            pending.push(h.clone());
            continue;
        }
        if li < layers.len() {
            layers[li].history = Some(h.clone());
            layers[li].history_index = Some(hi);
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
