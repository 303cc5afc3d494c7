//! Read the layers an image needs, on every core: uncompressed layers in a file by their
//! headers (with their digest as a job of its own), others by streaming them once. The largest
//! jobs start first, so no core idles while one huge layer is read.

use super::archive::{self, Member, MemberBody, MemberIndex};
use super::later::{Hashing, Running};
use super::layer::{self, parse_layer_with_progress, FileRange, ParsedLayer};
use super::verified::{BlobKey, Digests, VerifiedCache};
use super::LoadOptions;
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A layer read: its member name, what was parsed, and whether its entries may be shared with
/// other loads by diff_id (header-only reads leave contents unhashed: not shareable).
pub type MemberRead = (String, ParsedLayer, bool);

enum Job {
    /// Headers (and what the capture asks for) of a plain tar at `offset` of the archive file.
    Headers { at: usize, offset: u64, size: u64 },
    /// sha256 of the same bytes.
    Sha { at: usize, offset: u64, size: u64 },
    /// Stream the member once: inflate, hash, parse.
    Stream { at: usize, digests: bool },
}

impl Job {
    /// Rough time to run, in bytes at sha256 speed, to start the longest first.
    fn cost(&self, members: &[&Member]) -> u64 {
        match *self {
            Job::Headers { size, .. } => size / 8,
            Job::Sha { size, .. } => size,
            Job::Stream { at, .. } => members[at].size.saturating_mul(4),
        }
    }
}

enum Done {
    Parsed(ParsedLayer),
    Sha(String),
}

/// The jobs that read `todo`, and what is known of each member before reading it.
struct Plan {
    jobs: Vec<Job>,
    /// Each member's key in the verification cache.
    keys: Vec<Option<BlobKey>>,
    /// Read by its headers (its entries then carry no content hashes: not shareable).
    plain: Vec<bool>,
    /// Plain members whose sha256 is left running: (position, offset, size).
    later: Vec<(usize, u64, u64)>,
}

/// An archive file opened once for every job, with its metadata (the verification cache's key).
type OpenFile = (Arc<std::fs::File>, std::fs::Metadata);

fn plan_jobs(
    idx: &MemberIndex,
    todo: &[&Member],
    opts: &LoadOptions,
    verified: Option<&VerifiedCache>,
    defer: bool,
    file: Option<&OpenFile>,
) -> Result<Plan> {
    // plain layers are read by their headers where no analysis needs every file's content
    // hash: a single image's analyses (capture set, no cache) compare contents only at paths
    // found in more than one layer; a compare (cache set) or a plain library load keeps every
    // hash, except without verification nor capture, as before
    let headers_only = (opts.cache.is_none() && opts.capture.is_some())
        || (!opts.verify && opts.capture.is_none());
    let mut plan = Plan {
        jobs: Vec::new(),
        keys: Vec::with_capacity(todo.len()),
        plain: vec![false; todo.len()],
        later: Vec::new(),
    };
    for (at, m) in todo.iter().enumerate() {
        let place = match (&m.body, file) {
            (MemberBody::Range { offset, size }, Some((f, md))) => Some((f, md, *offset, *size)),
            _ => None,
        };
        let key = place.and_then(|(_, md, offset, size)| BlobKey::of(md, offset, size));
        let known = opts.verify && key.as_ref().and_then(|k| verified?.get(k)).is_some();
        plan.keys.push(key);
        if let (true, Some((f, _, offset, size))) = (headers_only, place) {
            let mut r = FileRange::new(f.clone(), offset, size);
            if layer::is_plain_tar(&mut r).map_err(|e| read_failed(idx, m, e))? {
                plan.plain[at] = true;
                plan.jobs.push(Job::Headers { at, offset, size });
                if opts.verify && !known && defer {
                    plan.later.push((at, offset, size));
                } else if opts.verify && !known {
                    plan.jobs.push(Job::Sha { at, offset, size });
                }
                continue;
            }
        }
        plan.jobs.push(Job::Stream {
            at,
            digests: opts.verify && !known,
        });
    }
    Ok(plan)
}

/// Each member's parse and (for a plain member with a digest job) its sha256, in `todo`'s
/// order.
type Outcomes = (
    Vec<Option<Result<ParsedLayer>>>,
    Vec<Option<Result<String>>>,
);

/// Run `jobs` on every core, longest first.
fn run_jobs(
    idx: &MemberIndex,
    todo: &[&Member],
    opts: &LoadOptions,
    file: Option<&OpenFile>,
    mut jobs: Vec<Job>,
) -> Result<Outcomes> {
    jobs.sort_by_key(|j| j.cost(todo));
    let queue = Mutex::new(jobs);
    let done: Mutex<Vec<(usize, bool, Result<Done>)>> = Mutex::default();
    rayon::scope(|s| {
        for _ in 0..rayon::current_num_threads() {
            s.spawn(|_| {
                while let Some(job) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    let (at, is_sha, r) = run(idx, todo, opts, file.map(|f| &f.0), job);
                    // the explorer's hook: each layer as soon as it is parsed
                    if let (Some(feed), Ok(Done::Parsed(pl))) = (&opts.layer_feed, &r) {
                        feed.layer_read(&todo[at].name, pl);
                    }
                    if let Ok(mut d) = done.lock() {
                        d.push((at, is_sha, r));
                    }
                }
            });
        }
    });
    let done = done
        .into_inner()
        .map_err(|_| Error::member(&idx.archive, "", "a layer reader failed"))?;
    let mut parsed: Vec<Option<Result<ParsedLayer>>> = todo.iter().map(|_| None).collect();
    let mut shas: Vec<Option<Result<String>>> = todo.iter().map(|_| None).collect();
    for (at, is_sha, r) in done {
        match (is_sha, r) {
            (true, Ok(Done::Sha(d))) => shas[at] = Some(Ok(d)),
            (true, Err(e)) => shas[at] = Some(Err(e)),
            (_, Ok(Done::Parsed(p))) => parsed[at] = Some(Ok(p)),
            (_, Err(e)) => parsed[at] = Some(Err(e)),
            (false, Ok(Done::Sha(_))) => {}
        }
    }
    Ok((parsed, shas))
}

/// Read `todo` (members not read yet), in parallel; results in `todo`'s order. With `defer`,
/// the sha256 of a plain member read by its headers is left running on a thread of its own
/// (see [`super::later`]); its digests are then `None` here.
pub fn read_members(
    idx: &MemberIndex,
    todo: &[&Member],
    opts: &LoadOptions,
    verified: Option<&VerifiedCache>,
    defer: bool,
) -> Result<(Vec<MemberRead>, Option<Running>)> {
    let file = match &idx.file {
        Some(p) => {
            let f = std::fs::File::open(p).map_err(archive::io_at(p))?;
            let md = f.metadata().map_err(archive::io_at(p))?;
            Some((Arc::new(f), md))
        }
        None => None,
    };
    let Plan {
        jobs,
        mut keys,
        plain,
        later,
    } = plan_jobs(idx, todo, opts, verified, defer, file.as_ref())?;
    // started first: the largest of these is usually the longest job of the whole load
    let hashing = match (&file, later.is_empty()) {
        (Some((f, _)), false) => Some(hash_later(idx, f, &later, opts)?),
        _ => None,
    };
    let (mut parsed, mut shas) = run_jobs(idx, todo, opts, file.as_ref(), jobs)?;
    let later = hashing.map(|h| {
        let members = later
            .iter()
            .map(|&(at, ..)| (todo[at].name.clone(), keys[at].clone()))
            .collect();
        (members, h)
    });
    let mut out = Vec::with_capacity(todo.len());
    for (at, m) in todo.iter().enumerate() {
        let mut pl = parsed[at]
            .take()
            .ok_or_else(|| Error::member(&idx.archive, &m.name, "layer was not read"))??;
        let key = keys[at].take();
        let known = key.as_ref().and_then(|k| verified?.get(k)).cloned();
        match (shas[at].take().transpose()?, known) {
            (Some(sha), _) => {
                pl.blob_sha256 = Some(sha.clone());
                pl.diff_sha256 = Some(sha);
            }
            (None, Some(d)) if opts.verify => {
                pl.diff_sha256 = Some(d.diff.clone().unwrap_or_else(|| d.blob.clone()));
                pl.blob_sha256 = Some(d.blob);
            }
            _ => {}
        }
        if let (Some(v), Some(k), Some(blob)) = (verified, key, &pl.blob_sha256) {
            if v.get(&k).is_none() {
                let diff = pl.diff_sha256.clone().filter(|d| d != blob);
                let blob = blob.clone();
                v.record(k, Digests { blob, diff });
            }
        }
        out.push((m.name.clone(), pl, !plain[at]));
    }
    Ok((out, later))
}

/// Start the thread that hashes `later` ((position, offset, size) in the archive file): the
/// largest first, two at a time (each read on one thread and hashed on another), so a second
/// layer does not wait behind the largest. The digests come back in `later`'s order.
fn hash_later(
    idx: &MemberIndex,
    file: &Arc<std::fs::File>,
    later: &[(usize, u64, u64)],
    opts: &LoadOptions,
) -> Result<Hashing> {
    let (file, progress) = (file.clone(), opts.progress.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let mut order: Vec<(usize, u64, u64)> = (0..later.len())
        .map(|i| (i, later[i].1, later[i].2))
        .collect();
    // popped from the end: the largest last in the list
    order.sort_by_key(|&(_, _, size)| size);
    let count = later.len();
    std::thread::Builder::new()
        .name("bathy-digests".into())
        .spawn(move || {
            let queue = Mutex::new(order);
            let done: Mutex<Vec<Option<std::io::Result<String>>>> =
                Mutex::new((0..count).map(|_| None).collect());
            let work = || {
                while let Some((i, offset, size)) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    let p = progress.as_deref();
                    let quit =
                        || stopped.load(Ordering::Relaxed) || p.is_some_and(|p| p.cancelled());
                    let d = layer::sha256_range(&file, offset, size, &quit);
                    if let (Some(p), Ok(_)) = (p, &d) {
                        p.add_read(size);
                    }
                    if let Ok(mut done) = done.lock() {
                        done[i] = Some(d);
                    }
                }
            };
            std::thread::scope(|s| {
                for _ in 0..count.min(2) {
                    s.spawn(work);
                }
            });
            let done = done.into_inner().unwrap_or_else(|e| e.into_inner());
            let lost = || Err(std::io::Error::other("the hashing thread failed"));
            done.into_iter().map(|d| d.unwrap_or_else(lost)).collect()
        })
        .map(|t| Hashing::new(t, stop))
        .map_err(|e| Error::member(&idx.archive, "", format!("cannot start a thread: {e}")))
}

fn read_failed(idx: &MemberIndex, m: &Member, e: std::io::Error) -> Error {
    Error::member(&idx.archive, &m.name, format!("read failed: {e}"))
}

/// Run one job: (member position, whether it was a digest job, its outcome).
fn run(
    idx: &MemberIndex,
    todo: &[&Member],
    opts: &LoadOptions,
    file: Option<&Arc<std::fs::File>>,
    job: Job,
) -> (usize, bool, Result<Done>) {
    let progress = opts.progress.as_deref();
    if progress.is_some_and(|p| p.cancelled()) {
        let at = match job {
            Job::Headers { at, .. } | Job::Sha { at, .. } | Job::Stream { at, .. } => at,
        };
        return (
            at,
            false,
            Err(read_failed(
                idx,
                todo[at],
                std::io::Error::other("cancelled"),
            )),
        );
    }
    match job {
        Job::Headers { at, offset, size } => {
            let m = todo[at];
            let r = file
                .ok_or_else(|| Error::member(&idx.archive, &m.name, "no archive file"))
                .and_then(|f| {
                    let range = FileRange::new(f.clone(), offset, size);
                    layer::parse_plain_layer(range, &idx.archive, &m.name, opts.capture.as_deref())
                })
                .map(|pl| {
                    if let Some(p) = progress {
                        p.layers_done.fetch_add(1, Ordering::Relaxed);
                        p.entries
                            .fetch_add(pl.entries.len() as u64, Ordering::Relaxed);
                        // with verification, the digest job counts the bytes
                        if !opts.verify {
                            p.add_read(size);
                        }
                    }
                    Done::Parsed(pl)
                });
            (at, false, r)
        }
        Job::Sha { at, offset, size } => {
            let m = todo[at];
            let r = file
                .ok_or_else(|| Error::member(&idx.archive, &m.name, "no archive file"))
                .and_then(|f| {
                    let cancelled = || progress.is_some_and(|p| p.cancelled());
                    layer::sha256_range(f, offset, size, &cancelled)
                        .map_err(|e| read_failed(idx, m, e))
                })
                .map(|d| {
                    if let Some(p) = progress {
                        p.add_read(size);
                    }
                    Done::Sha(d)
                });
            (at, true, r)
        }
        Job::Stream { at, digests } => {
            let m = todo[at];
            let r = stream(idx, m, opts, digests).map(Done::Parsed);
            (at, false, r)
        }
    }
}

/// Read a member once from front to back.
fn stream(idx: &MemberIndex, m: &Member, opts: &LoadOptions, digests: bool) -> Result<ParsedLayer> {
    let rd = idx.open(m)?;
    // with a core to spare, the blob is read on it while this thread inflates and parses
    let rd: Box<dyn std::io::Read + Send> = if rayon::current_num_threads() > 1 {
        Box::new(super::read_ahead::ReadAhead::new(rd))
    } else {
        rd
    };
    let mut parse_opts = opts.parse_opts();
    parse_opts.digests = digests;
    let mut pl =
        parse_layer_with_progress(rd, &idx.archive, &m.name, parse_opts, opts.progress.clone())?;
    if pl.compressed_bytes == 0 {
        pl.compressed_bytes = m.size;
    }
    if let Some(p) = &opts.progress {
        p.layers_done.fetch_add(1, Ordering::Relaxed);
        p.entries
            .fetch_add(pl.entries.len() as u64, Ordering::Relaxed);
    }
    Ok(pl)
}
