//! Read one file of one layer back out of an image, as a stream of its bytes, without keeping
//! the layer: `bathy cat`, `bathy diff` and the explorer's viewer. An uncompressed layer (a
//! range of an archive or a layout's blob file) is walked header by header, seeking over
//! contents, and read at the entry's offset, so any position of the entry is a seek away; a
//! gzip or zstd layer with access points ([`crate::source::seek_index`], recorded while the
//! explorer loaded the image, with each entry's tar offset) is decoded from the nearest point
//! before the entry, and seeks within it from the nearest point again; without them (`bathy
//! cat`, `bathy diff`), it is inflated up to the entry and the entry's bytes are then handed out
//! as they are inflated (nothing before the entry is kept). The explorer's viewer asks for
//! [`LayerFiles::entry_kept`]: a file that would be decoded from far again is kept on disk
//! ([`crate::source::spool`]) and every later read of it seeks there.

use crate::error::{Error, Result};
use crate::image::Compression;
use crate::paths::clean_entry_path;
use crate::source::archive::{Member, MemberBody, MemberIndex};
use crate::source::layer::FileRange;
use crate::source::layout::{self, ImagePlan, Selection};
use crate::source::refetch::{Activity, Reporting, Scratch};
use crate::source::seek_index::{LayerSeek, Recorder, SeekIndexes, SPAN};
use crate::source::spool::Spools;
use flate2::bufread::MultiGzDecoder;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// An image archive (or OCI layout directory) opened for reading single files: its members
/// indexed and its manifest planned once, so each file read opens only its own layer. For an
/// image read once as a stream (a registry's, a daemon's), the index is made on first need
/// and the layers are brought back into a private temporary directory
/// ([`crate::source::refetch`]). Cloning shares it.
#[derive(Clone)]
pub struct LayerFiles {
    inner: Arc<Inner>,
}

struct Inner {
    /// The members and the plan, once known.
    opened: OnceLock<Opened>,
    /// Makes the index on first need (a registry's blobs, a daemon's export); None: known.
    opener: Option<Opener>,
    /// Held while the opener runs, so it runs once.
    opening: Mutex<()>,
    selection: Selection,
    /// Where blobs fetched again, exported archives and files kept for the viewer go.
    scratch: Scratch,
    /// Files whose reads were slow, kept in `scratch` ([`LayerFiles::entry_kept`]).
    spools: Spools,
    /// Where entries of uncompressed layers were found, by (layer, cleaned path): opening
    /// one again (the viewer going back) seeks at once instead of walking the headers.
    found: Mutex<HashMap<(usize, String), (u64, u64)>>,
    /// Access points into compressed layers and their entries' offsets (the explorer's).
    seek: Option<Arc<SeekIndexes>>,
}

struct Opened {
    idx: MemberIndex,
    plan: ImagePlan,
}

/// Makes the member index of an image read once as a stream, into the scratch directory;
/// told the activity to report to.
pub type Opener = Box<dyn Fn(&Scratch, &Arc<Activity>) -> Result<MemberIndex> + Send + Sync>;

/// Which layer's entry a read wants: what [`LayerFiles::entry_watched`] is told.
#[derive(Clone, Debug)]
pub struct Wanted {
    pub layer: usize,
    /// The path in the image.
    pub path: String,
    pub at: Option<EntryAt>,
    /// The layer's diff_id in the loaded image: the layer read must be the same.
    pub diff_id: String,
}

/// Which entry of its layer a path's version is, as the image model numbers them, and the
/// size its header declares: with access points, reached without walking the layer.
#[derive(Clone, Copy, Debug)]
pub struct EntryAt {
    pub index: usize,
    pub size: u64,
}

/// How an entry's bytes are reached.
enum Body {
    /// An uncompressed layer: the entry starts at `start` of the range; any position seeks.
    Seekable { r: FileRange, start: u64 },
    /// A compressed layer, inflated from the entry's start on: positions only go forward.
    Stream(Box<dyn Read + Send>),
    /// A compressed layer with access points: any position decodes from the nearest one.
    Indexed(Box<Indexed>),
}

/// An entry of a compressed layer read through its access points.
struct Indexed {
    blob: FileRange,
    kind: Compression,
    seek: Arc<LayerSeek>,
    /// The entry's first byte in the tar stream.
    start: u64,
    reader: Box<dyn Read + Send>,
    /// Where `reader` stands in the tar stream.
    at: u64,
}

impl Indexed {
    /// Stand at tar offset `target`: read on when it is a little ahead, else start again from
    /// the nearest access point; the bytes decoded on the way count into `activity`.
    fn go_to(&mut self, target: u64, activity: Option<&Arc<Activity>>) -> io::Result<()> {
        if target < self.at || target - self.at > SPAN {
            let (reader, at) = decode_from_point(&self.blob, self.kind, &self.seek, target)?;
            self.reader = reader;
            self.at = at;
        }
        let gap = target - self.at;
        let skipped = (&mut self.reader).take(gap);
        let n = match activity {
            Some(a) => io::copy(
                &mut Reporting {
                    inner: skipped,
                    activity: a.clone(),
                },
                &mut io::sink(),
            )?,
            None => io::copy(&mut { skipped }, &mut io::sink())?,
        };
        self.at += n;
        if n < gap {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the layer ends before the entry",
            ));
        }
        Ok(())
    }
}

/// A compressed blob decoded from its last access point at or before tar offset `target`
/// (from its start when there is none), recording further points on the way; and the offset
/// it starts at.
fn decode_from_point(
    blob: &FileRange,
    kind: Compression,
    seek: &Arc<LayerSeek>,
    target: u64,
) -> io::Result<(Box<dyn Read + Send>, u64)> {
    let mut r = blob.clone_handle();
    let p = seek.nearest(target);
    r.seek(SeekFrom::Start(p.as_ref().map_or(0, |p| p.input_bit / 8)))?;
    let buffered = BufReader::with_capacity(256 * 1024, r);
    Ok(match p {
        Some(p) => (
            Box::new(Recorder::resume(kind, buffered, &p, seek.clone())?),
            p.output,
        ),
        None => (Box::new(Recorder::start(kind, buffered, seek.clone())?), 0),
    })
}

/// One entry's bytes as they are read: exactly the size its header declares, or an error
/// naming the entry when the layer ends first (a declared size larger than the data).
pub struct EntryReader {
    body: Body,
    size: u64,
    /// Bytes of the entry before the cursor.
    pos: u64,
    what: String,
}

impl EntryReader {
    /// The size the tar header declares.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where the next read starts in the entry.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Can the cursor move back (an uncompressed layer), or only forward?
    pub fn seekable(&self) -> bool {
        matches!(self.body, Body::Seekable { .. } | Body::Indexed(_))
    }

    /// Move the cursor to `pos` (clipped to the size). Forward on a compressed layer inflates
    /// and drops the bytes between; false when the cursor would have to go back there (open
    /// the entry again).
    pub fn seek_to(&mut self, pos: u64) -> io::Result<bool> {
        let pos = pos.min(self.size);
        match &mut self.body {
            Body::Seekable { r, start } => {
                r.seek(SeekFrom::Start(*start + pos))?;
                self.pos = pos;
                Ok(true)
            }
            Body::Indexed(ix) => {
                ix.go_to(ix.start + pos, None)?;
                self.pos = pos;
                Ok(true)
            }
            Body::Stream(_) if pos < self.pos => Ok(false),
            Body::Stream(_) => {
                let gap = pos - self.pos;
                let n = io::copy(&mut self.by_ref().take(gap), &mut io::sink())?;
                Ok(n == gap)
            }
        }
    }
}

impl Read for EntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.size - self.pos;
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(left.min(usize::MAX as u64) as usize);
        let n = match &mut self.body {
            Body::Seekable { r, .. } => r.read(&mut buf[..want])?,
            Body::Stream(s) => s.read(&mut buf[..want])?,
            Body::Indexed(ix) => {
                let n = ix.reader.read(&mut buf[..want])?;
                ix.at += n as u64;
                n
            }
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: the layer ends {left} bytes before the {} bytes its header declares",
                    self.what, self.size
                ),
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Counts the bytes read through it, so the tar walk knows where the stream stands.
struct Counting<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// A compressed layer whose blob is at most this large is read from its start without a
/// progress line (it takes well under a second).
const QUICK_BLOB: u64 = 4 << 20;
/// Decoding at most this many bytes before an entry takes well under a second.
const QUICK_DECODE: u64 = 8 * SPAN;

impl LayerFiles {
    /// Index `source` (an archive or an OCI layout directory) and pick its image by `selection`,
    /// as loading does.
    pub fn open(source: &Path, selection: &Selection) -> Result<LayerFiles> {
        let idx = MemberIndex::from_path(source)?;
        let plan = layout::plan(&idx, selection, false)?;
        Ok(LayerFiles::new(
            OnceLock::from(Opened { idx, plan }),
            None,
            selection,
        ))
    }

    /// An image read once as a stream: `opener` makes its index on first need, into a new
    /// private temporary directory (made when the first file goes in), which goes when the
    /// last clone is dropped.
    pub fn deferred(opener: Opener, selection: &Selection) -> LayerFiles {
        LayerFiles::new(OnceLock::new(), Some(opener), selection)
    }

    fn new(opened: OnceLock<Opened>, opener: Option<Opener>, selection: &Selection) -> LayerFiles {
        LayerFiles {
            inner: Arc::new(Inner {
                opened,
                opener,
                opening: Mutex::new(()),
                selection: selection.clone(),
                scratch: Scratch::new(),
                spools: Spools::default(),
                found: Mutex::new(HashMap::new()),
                seek: None,
            }),
        }
    }

    /// Read compressed layers through the access points `seek` holds (recorded by the load).
    pub fn with_seek(mut self, seek: Arc<SeekIndexes>) -> LayerFiles {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.seek = Some(seek);
        }
        self
    }

    /// Remove the temporary directory now (the explorer closing while a worker still holds a
    /// clone); reads after this fail.
    pub fn discard(&self) {
        self.inner.scratch.discard();
    }

    /// The index and plan, made now when they are not yet.
    fn opened(&self, activity: &Arc<Activity>) -> Result<&Opened> {
        if let Some(o) = self.inner.opened.get() {
            return Ok(o);
        }
        let _one = self.inner.opening.lock().map_err(|_| Error::Cancelled)?;
        if let Some(o) = self.inner.opened.get() {
            return Ok(o);
        }
        let Some(opener) = &self.inner.opener else {
            return Err(Error::Cancelled);
        };
        let idx = opener(&self.inner.scratch, activity)?;
        let plan = layout::plan(&idx, &self.inner.selection, false)?;
        Ok(self.inner.opened.get_or_init(|| Opened { idx, plan }))
    }

    /// Is reading `w` quick: kept on disk already, or nothing to fetch or export and at most
    /// [`QUICK_DECODE`] bytes to decode before the entry? A front end runs a slow read on a
    /// worker, with a progress line.
    pub fn is_quick(&self, w: &Wanted) -> bool {
        if self.inner.spools.get(&spool_key(w)).is_some() {
            return true;
        }
        let Some(o) = self.inner.opened.get() else {
            return false;
        };
        let member = o
            .plan
            .layers
            .get(w.layer)
            .map(|lp| o.idx.resolve(&lp.member));
        let Some(Ok(Some(m))) = member else {
            return true; // an error, said at once
        };
        // a registry's blob: quick once fetched, as a file here
        let Some(m) = self.inner.scratch.fetched(&m) else {
            return false;
        };
        let Ok(Some(blob)) = self.file_range(o, &m) else {
            return m.size <= QUICK_BLOB;
        };
        let mut head = [0u8; 4];
        let n = super::read_up_to(&mut blob.clone_handle(), &mut head).unwrap_or(0);
        if Compression::sniff(&head[..n]) == Compression::None || m.size <= QUICK_BLOB {
            return true;
        }
        let Some(seek) = self.inner.seek.as_ref() else {
            return false;
        };
        let seek = seek.layer(&o.idx.archive, &o.plan.layers[w.layer].member);
        let Some(start) = w.at.and_then(|at| seek.offset(at.index)) else {
            return false;
        };
        let from = seek.nearest(start).map_or(0, |p| p.output);
        start.saturating_sub(from) <= QUICK_DECODE
    }

    /// [`LayerFiles::entry_watched`], and, when reading `w` again would be slow as well (no
    /// access point near it), its bytes kept on disk ([`crate::source::spool`]) and read from
    /// there, now and by every later read. The note says why they could not be kept.
    pub fn entry_kept(
        &self,
        w: &Wanted,
        activity: &Arc<Activity>,
    ) -> Result<(EntryReader, Option<String>)> {
        let r = self.entry_watched(w, activity)?;
        if self.is_quick(w) {
            return Ok((r, None));
        }
        if let Err(no) = self.inner.spools.room(&self.inner.scratch, r.size())? {
            return Ok((r, Some(format!("not kept on disk: {}", no.0))));
        }
        let size = r.size();
        let what = r.what.clone();
        self.inner.spools.keep(
            &self.inner.scratch,
            spool_key(w),
            &w.path,
            r,
            size,
            activity,
        )?;
        Ok((self.spooled(w, what)?.ok_or(Error::Cancelled)?, None))
    }

    /// How many files are kept on disk for the viewer (what a test checks).
    pub fn kept_files(&self) -> usize {
        self.inner.spools.len()
    }

    /// The kept copy of `w`, when there is one, opened at its start.
    fn spooled(&self, w: &Wanted, what: String) -> Result<Option<EntryReader>> {
        let Some((path, size)) = self.inner.spools.get(&spool_key(w)) else {
            return Ok(None);
        };
        let f = std::fs::File::open(&path).map_err(|e| Error::Io { path, source: e })?;
        Ok(Some(EntryReader {
            body: Body::Seekable {
                r: FileRange::new(Arc::new(f), 0, size),
                start: 0,
            },
            size,
            pos: 0,
            what,
        }))
    }

    /// The layer's bytes as a range of a file on disk, when they are stored that way (a
    /// member of a tar archive, a blob of a layout directory).
    fn file_range(&self, o: &Opened, m: &Member) -> Result<Option<FileRange>> {
        let (file, offset, size) = match (&m.body, &o.idx.file) {
            (MemberBody::Range { offset, size }, Some(file)) => (file.clone(), *offset, *size),
            (MemberBody::File(p), _) => {
                let len = crate::small_file::regular_file(p)?.len();
                (p.clone(), 0, len)
            }
            _ => return Ok(None),
        };
        let f = std::fs::File::open(&file).map_err(|e| Error::Io {
            path: file.clone(),
            source: e,
        })?;
        Ok(Some(FileRange::new(Arc::new(f), offset, size)))
    }

    /// The bytes of the regular file `path` as stored in layer `layer` (manifest order).
    pub fn entry(&self, layer: usize, path: &str) -> Result<EntryReader> {
        self.entry_at(layer, path, None)
    }

    /// [`LayerFiles::entry`], told which entry of the layer `path` is: a compressed layer
    /// with access points is then decoded from the nearest one.
    pub fn entry_at(&self, layer: usize, path: &str, at: Option<EntryAt>) -> Result<EntryReader> {
        let w = Wanted {
            layer,
            path: path.to_string(),
            at,
            diff_id: String::new(),
        };
        self.entry_watched(&w, &Activity::new())
    }

    /// The layer `w` names, as a member that holds its bytes here: fetched again into the
    /// temporary directory when it is a registry's blob.
    fn layer_member<'o>(
        &self,
        o: &'o Opened,
        w: &Wanted,
        activity: &Arc<Activity>,
    ) -> Result<(&'o layout::LayerPlan, Member)> {
        let lp =
            o.plan.layers.get(w.layer).ok_or_else(|| {
                Error::not_image(&o.idx.archive, format!("has no layer {}", w.layer))
            })?;
        let now = o
            .plan
            .config
            .rootfs
            .as_ref()
            .and_then(|r| r.diff_ids.get(w.layer));
        if let Some(now) = now.filter(|d| !w.diff_id.is_empty() && **d != w.diff_id) {
            return Err(Error::Usage(format!(
                "{}: the image changed since it was loaded (layer {} is now {now}): open it again",
                o.idx.archive, w.layer
            )));
        }
        let m = o.idx.resolve(&lp.member)?.ok_or_else(|| {
            Error::member(
                &o.idx.archive,
                &lp.member,
                "layer listed in the manifest is missing from the archive",
            )
        })?;
        let what = format!("layer {} of {}", w.layer, o.plan.layers.len());
        let m = self.inner.scratch.local(&o.idx, &m, &what, activity)?;
        Ok((lp, m))
    }

    /// [`LayerFiles::entry_at`] for `w`, reporting what takes long (fetching the layer again,
    /// exporting the image, decoding the layer from its start) into `activity`, and stopping
    /// when it is cancelled.
    pub fn entry_watched(&self, w: &Wanted, activity: &Arc<Activity>) -> Result<EntryReader> {
        if let Some(r) = self.spooled(w, w.path.clone())? {
            return Ok(r);
        }
        let o = self.opened(activity)?;
        let (lp, m) = self.layer_member(o, w, activity)?;
        let path = w.path.as_str();
        let want = clean_entry_path(path.trim_start_matches('/'))
            .ok()
            .flatten()
            .unwrap_or_default();
        let merr = |msg: String| Error::member(&o.idx.archive, &lp.member, msg);
        let what = format!("{}: {}: {path}", o.idx.archive, lp.member);
        // an uncompressed layer on disk: walk headers, seek over contents
        if let Some(mut r) = self.file_range(o, &m)? {
            let found = self
                .indexed(o, &r, w, activity)
                .map_err(|e| merr(e.to_string()))?;
            if let Some(body) = found {
                return Ok(EntryReader {
                    body,
                    size: w.at.map_or(0, |a| a.size),
                    pos: 0,
                    what,
                });
            }
            if crate::source::layer::is_plain_tar(&mut r).map_err(|e| merr(e.to_string()))? {
                let key = (w.layer, want.clone());
                let known = self
                    .inner
                    .found
                    .lock()
                    .ok()
                    .and_then(|f| f.get(&key).copied());
                let (start, size) = match known {
                    Some(k) => k,
                    None => find_by_headers(&mut r, &want, path).map_err(merr)?,
                };
                if let Ok(mut f) = self.inner.found.lock() {
                    f.insert(key, (start, size));
                }
                r.seek(SeekFrom::Start(start))
                    .map_err(|e| merr(e.to_string()))?;
                return Ok(EntryReader {
                    body: Body::Seekable { r, start },
                    size,
                    pos: 0,
                    what,
                });
            }
        }
        activity.begin(format!("decoding layer {}", w.layer), m.size);
        let raw = Reporting {
            inner: o.idx.open(&m)?,
            activity: activity.clone(),
        };
        let found = decoded(raw).map_err(merr).and_then(|d| {
            stream_to_entry(d, &want, path, what).map_err(|e| cancelled_or(activity, merr(e)))
        });
        activity.end();
        found
    }
}

/// Which version a kept file is: its layer and its cleaned path.
fn spool_key(w: &Wanted) -> crate::source::spool::Key {
    let path = clean_entry_path(w.path.trim_start_matches('/'))
        .ok()
        .flatten()
        .unwrap_or_default();
    (w.layer, path)
}

/// `e`, unless the read stopped because the front end gave up.
fn cancelled_or(activity: &Activity, e: Error) -> Error {
    if activity.cancelled() {
        Error::Cancelled
    } else {
        e
    }
}

/// A layer's bytes decoded, by what its first bytes say it is.
fn decoded(raw: impl Read + Send + 'static) -> std::result::Result<Box<dyn Read + Send>, String> {
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let head = buffered
        .fill_buf()
        .map_err(|e| format!("read failed: {e}"))?;
    Ok(match Compression::sniff(head) {
        Compression::Gzip => Box::new(MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| format!("corrupt zstd stream: {e}"))?,
        ),
        Compression::None => Box::new(buffered),
    })
}

impl LayerFiles {
    /// Entry `w.at` of a gzip or zstd layer whose entry offsets the load recorded, positioned
    /// at its first byte; None when that is not the case.
    fn indexed(
        &self,
        o: &Opened,
        blob: &FileRange,
        w: &Wanted,
        activity: &Arc<Activity>,
    ) -> io::Result<Option<Body>> {
        let (Some(seek), Some(at)) = (&self.inner.seek, w.at) else {
            return Ok(None);
        };
        let Some(lp) = o.plan.layers.get(w.layer) else {
            return Ok(None);
        };
        let seek = seek.layer(&o.idx.archive, &lp.member);
        let Some(start) = seek.offset(at.index) else {
            return Ok(None);
        };
        let mut head = [0u8; 4];
        let mut r = blob.clone_handle();
        let n = super::read_up_to(&mut r, &mut head)?;
        let kind = Compression::sniff(&head[..n]);
        if kind == Compression::None {
            return Ok(None);
        }
        let (reader, from) = decode_from_point(blob, kind, &seek, start)?;
        let mut ix = Indexed {
            blob: blob.clone_handle(),
            kind,
            seek,
            start,
            reader,
            at: from,
        };
        activity.begin(format!("decoding layer {}", w.layer), start - from);
        let went = ix.go_to(start, Some(activity));
        activity.end();
        went?;
        Ok(Some(Body::Indexed(Box::new(ix))))
    }
}

/// Does this tar entry stand for `want` (a cleaned path)? Errors on a match that is not a
/// regular file.
fn is_wanted<R: Read>(
    entry: &tar::Entry<'_, R>,
    want: &str,
    path: &str,
) -> std::result::Result<bool, String> {
    let raw = entry.path_bytes();
    let Ok(raw) = std::str::from_utf8(&raw) else {
        return Ok(false);
    };
    if clean_entry_path(raw).ok().flatten().as_deref() != Some(want) {
        return Ok(false);
    }
    if !entry.header().entry_type().is_file() {
        return Err(format!("{path} is not a regular file in this layer"));
    }
    Ok(true)
}

/// Find `want` in an uncompressed layer by its headers: its contents' offset and size.
fn find_by_headers(
    r: &mut FileRange,
    want: &str,
    path: &str,
) -> std::result::Result<(u64, u64), String> {
    let mut found = None;
    let mut ar = tar::Archive::new(r);
    let entries = ar.entries_with_seek().map_err(|e| e.to_string())?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("corrupt tar layer ({e})"))?;
        if is_wanted(&entry, want, path)? {
            found = Some((entry.raw_file_position(), entry.size()));
            break;
        }
    }
    found.ok_or_else(|| format!("{path} is not in this layer"))
}

/// Inflate a layer up to `want`'s header and hand out its bytes from there on.
fn stream_to_entry(
    decoded: Box<dyn Read + Send>,
    want: &str,
    path: &str,
    what: String,
) -> std::result::Result<EntryReader, String> {
    let mut ar = tar::Archive::new(Counting {
        inner: decoded,
        pos: 0,
    });
    let mut found = None;
    {
        let entries = ar.entries().map_err(|e| e.to_string())?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("corrupt tar layer ({e})"))?;
            if is_wanted(&entry, want, path)? {
                found = Some((entry.raw_file_position(), entry.size()));
                break;
            }
        }
    }
    let (offset, size) = found.ok_or_else(|| format!("{path} is not in this layer"))?;
    let mut rest = ar.into_inner();
    // the tar reader stops right after the entry's header; should it have read further,
    // the entry's first bytes are gone and the read must say so rather than return others
    if rest.pos > offset {
        return Err(format!(
            "{path}: could not stop the layer's reader at the entry"
        ));
    }
    let gap = offset - rest.pos;
    io::copy(&mut (&mut rest).take(gap), &mut io::sink()).map_err(|e| e.to_string())?;
    Ok(EntryReader {
        body: Body::Stream(Box::new(rest.inner)),
        size,
        pos: 0,
        what,
    })
}
