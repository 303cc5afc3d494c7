//! The image so far, while it loads: a front end that wants to show the first layers before
//! the last ones are read hands the loader a [`LayerFeed`]. The loader tells it the plan, then
//! each layer as it is parsed (in whatever order the readers finish); the feed's own thread
//! interns the layers in image order as their run from the first one grows and sends a
//! [`Partial`] image: the finished run with its entries, every later layer listed without.
//!
//! The run is interned as the final load interns it (same order, same rules), so a node of a
//! partial image has the same [`crate::paths::NodeId`] in every later one and in the final
//! image: a front end keeps its cursor and marks across them. Nothing here checks digests:
//! the load itself does, and fails if a layer shown here was not what the manifest names.

use super::layer::ParsedLayer;
use super::{layout, new_layer, pair_history, Interner, ReadLayer};
use crate::image::{Compression, Image, Layer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// An image part way through loading.
pub struct Partial {
    /// Every layer of the image; those from `loaded` on have no entries yet.
    pub image: Image,
    /// Layers `0..loaded` are read and in `image` (the run from the first one).
    pub loaded: usize,
    /// Per layer: parsed already (a later layer may finish before an earlier one).
    pub read: Vec<bool>,
}

/// What the loader knows before reading layers: enough to name and list them all.
pub(crate) struct PlanInfo {
    pub source: String,
    pub archive: String,
    pub plan: layout::ImagePlan,
    pub member_sizes: Vec<u64>,
    pub diff_ids: Vec<String>,
}

enum Msg {
    Plan(Box<PlanInfo>),
    Layer(String, ParsedLayer),
}

/// The loader's side: where it sends the plan and each layer parsed. Cheap to call from the
/// reading threads (a copy of the layer's entries and a channel send); the work happens on the
/// feed's thread.
pub struct LayerFeed {
    tx: Mutex<Option<Sender<Msg>>>,
    /// Set when the load is over: the feed's thread stops building partial images.
    done: Arc<AtomicBool>,
}

impl std::fmt::Debug for LayerFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LayerFeed")
    }
}

impl LayerFeed {
    /// A feed whose thread calls `on_partial` each time the run of read layers grows (several
    /// layers finished together make one call; a call still running when more arrive makes
    /// the next one cover them all).
    pub fn new(on_partial: impl FnMut(Partial) + Send + 'static) -> Arc<LayerFeed> {
        let (tx, rx) = mpsc::channel();
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        std::thread::spawn(move || feed_thread(rx, stop, on_partial));
        Arc::new(LayerFeed {
            tx: Mutex::new(Some(tx)),
            done,
        })
    }

    /// The load is over (done or failed): nothing more is built or sent.
    pub fn close(&self) {
        self.done.store(true, Ordering::Relaxed);
        if let Ok(mut tx) = self.tx.lock() {
            *tx = None;
        }
    }

    fn send(&self, m: Msg) {
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        if let Some(tx) = self.tx.lock().ok().and_then(|t| t.clone()) {
            let _ = tx.send(m);
        }
    }

    pub(crate) fn plan(&self, info: PlanInfo) {
        self.send(Msg::Plan(Box::new(info)));
    }

    /// Member `name` was parsed into `pl`.
    pub(crate) fn layer_read(&self, name: &str, pl: &ParsedLayer) {
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        self.send(Msg::Layer(name.to_string(), copy_of(pl)));
    }
}

/// What the feed needs of a parsed layer (its captured contents are left to the load).
fn copy_of(pl: &ParsedLayer) -> ParsedLayer {
    ParsedLayer {
        compression: pl.compression,
        blob_sha256: None,
        diff_sha256: None,
        compressed_bytes: pl.compressed_bytes,
        tar_bytes: pl.tar_bytes,
        entries: pl.entries.clone(),
        paths: pl.paths.clone(),
        links: pl.links.clone(),
        captured: Vec::new(),
    }
}

/// The feed's state: the plan, the layers parsed (by member name) and the run interned.
struct Builder {
    info: PlanInfo,
    /// Members parsed and not interned yet (a copy is dropped once its layer is interned).
    parsed: std::collections::HashMap<String, Arc<ParsedLayer>>,
    /// Every member parsed so far.
    read: std::collections::HashSet<String>,
    interner: Interner,
    built: Vec<Layer>,
    /// The run stopped at a layer the final load will refuse: nothing more to show.
    broken: bool,
}

fn feed_thread(rx: Receiver<Msg>, done: Arc<AtomicBool>, mut on_partial: impl FnMut(Partial)) {
    let mut builder: Option<Builder> = None;
    let mut early: Vec<(String, ParsedLayer)> = Vec::new();
    let mut sent = None;
    while let Ok(first) = rx.recv() {
        // take everything that arrived meanwhile: one partial image for all of it
        for m in std::iter::once(first).chain(rx.try_iter()) {
            match m {
                Msg::Plan(info) => {
                    let mut b = Builder {
                        info: *info,
                        parsed: Default::default(),
                        read: Default::default(),
                        interner: Interner::default(),
                        built: Vec::new(),
                        broken: false,
                    };
                    for (name, pl) in early.drain(..) {
                        b.add(name, pl);
                    }
                    builder = Some(b);
                }
                Msg::Layer(name, pl) => match &mut builder {
                    Some(b) => b.add(name, pl),
                    None => early.push((name, pl)),
                },
            }
        }
        if done.load(Ordering::Relaxed) {
            return;
        }
        let Some(b) = &mut builder else { continue };
        b.advance();
        // the first frame needs a layer to show; later ones, more read
        let now = (b.built.len(), b.read.len());
        if !b.built.is_empty() && sent != Some(now) {
            sent = Some(now);
            on_partial(b.snapshot());
        }
    }
}

impl Builder {
    fn add(&mut self, name: String, pl: ParsedLayer) {
        self.read.insert(name.clone());
        self.parsed.insert(name, Arc::new(pl));
    }

    /// Intern the layers that extend the run from the first one.
    fn advance(&mut self) {
        while !self.broken && self.built.len() < self.info.plan.layers.len() {
            let i = self.built.len();
            let lp = &self.info.plan.layers[i];
            let Some(pl) = self.parsed.get(&lp.member).cloned() else {
                return;
            };
            let Ok((entries, size_bytes)) =
                self.interner.layer_entries(i, &pl, &self.info.archive, lp)
            else {
                self.broken = true;
                return;
            };
            let rl = ReadLayer {
                parsed: pl,
                reused_as: None,
            };
            let size = self.info.member_sizes.get(i).copied().unwrap_or(0);
            let diff_id = self.info.diff_ids.get(i).cloned();
            self.built
                .push(new_layer(i, lp, size, &rl, diff_id, entries, size_bytes));
            // a member listed again later is read once: keep its copy until its last use
            if !self.info.plan.layers[i + 1..]
                .iter()
                .any(|l| l.member == lp.member)
            {
                self.parsed.remove(&lp.member);
            }
        }
    }

    /// The image with the run read so far, every later layer listed without its entries.
    fn snapshot(&self) -> Partial {
        let info = &self.info;
        let mut layers = self.built.clone();
        for (i, lp) in info.plan.layers.iter().enumerate().skip(layers.len()) {
            layers.push(Layer {
                index: i,
                id: lp.id.clone(),
                digest: lp.expected_blob.clone().unwrap_or_default(),
                diff_id: info.diff_ids.get(i).cloned().unwrap_or_default(),
                compression: Compression::None,
                compressed_bytes: info.member_sizes.get(i).copied().unwrap_or(0),
                tar_bytes: 0,
                size_bytes: 0,
                history: None,
                history_index: None,
                empty_history: Vec::new(),
                entries: Vec::new(),
            });
        }
        let trailing_history = pair_history(&info.plan.config.history, &mut layers);
        let mut paths = self.interner.paths.clone();
        paths.finish();
        let read = info
            .plan
            .layers
            .iter()
            .map(|lp| self.read.contains(&lp.member))
            .collect();
        Partial {
            image: Image {
                source: info.source.clone(),
                tags: info.plan.tags.clone(),
                format: info.plan.format,
                config_digest: info.plan.config_digest.clone(),
                config: info.plan.config.clone(),
                layers,
                paths,
                links: self.interner.links.clone(),
                trailing_history,
                daemon: None,
                warnings: info.plan.notes.clone(),
                captured: Default::default(),
            },
            loaded: self.built.len(),
            read,
        }
    }
}
