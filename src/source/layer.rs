//! Parse one layer blob: detect its compression from the first bytes, inflate, hash (blob and
//! diff_id with sha256, file contents with xxh3) and read the tar headers into compact records.
//! Reads a stream once, front to back; never writes anything.

use super::digests::{self, Chunked, Feed, Stream};
use crate::error::{Error, Result};
use crate::image::{Compression, EntryKind};
use crate::paths::clean_entry_path;
use crate::progress::Progress;
use std::io::{self, BufRead, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use xxhash_rust::xxh3::Xxh3;

/// One tar entry before its path is interned.
#[derive(Clone, Copy, Debug)]
pub struct RawEntry {
    pub path_off: u32,
    pub path_len: u32,
    pub kind: EntryKind,
    pub typeflag: u8,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub hash: u64,
    pub link_off: u32,
    pub link_len: u32,
    /// Where a regular file's bytes start in the uncompressed tar stream (header-only reads).
    pub data_offset: u64,
}

/// A parsed layer: entries, plus the arenas their paths and link targets live in.
#[derive(Debug, Default)]
pub struct ParsedLayer {
    pub compression: Option<Compression>,
    pub blob_sha256: Option<String>,
    pub diff_sha256: Option<String>,
    pub compressed_bytes: u64,
    pub tar_bytes: u64,
    pub entries: Vec<RawEntry>,
    pub paths: String,
    pub links: String,
    /// What the [`Capture`] kept, by entry index.
    pub captured: Vec<(u32, Vec<u8>)>,
}

impl ParsedLayer {
    pub fn path(&self, e: &RawEntry) -> &str {
        &self.paths[e.path_off as usize..(e.path_off + e.path_len) as usize]
    }
    pub fn link(&self, e: &RawEntry) -> &str {
        &self.links[e.link_off as usize..(e.link_off + e.link_len) as usize]
    }
    pub fn compression(&self) -> Compression {
        self.compression.unwrap_or(Compression::None)
    }
}

#[derive(Clone, Debug)]
pub struct LayerParseOptions {
    /// Compute sha256 of the blob and of the uncompressed stream.
    pub digests: bool,
    /// Hash the contents of regular files.
    pub content_hashes: bool,
    /// Keep (part of) the contents of some files, during the same single read.
    pub capture: Option<Arc<dyn Capture>>,
    /// Stop a compressed layer that inflates to more than this many times the compressed
    /// bytes read so far (past [`INFLATE_FLOOR`]): a zip-bomb guard.
    pub max_inflate_ratio: u64,
    /// Record access points into compressed layers (the explorer's load only).
    pub seek: Option<Arc<super::seek_index::SeekIndexes>>,
}

/// The default of [`LayerParseOptions::max_inflate_ratio`]. Above the most any gzip stream can
/// reach (about 1,032 to 1), so only a zstd layer of very long runs meets it; `--max-inflate-ratio`
/// raises it for a trusted image.
pub const DEFAULT_MAX_INFLATE_RATIO: u64 = 5_000;
/// The ratio is checked only past this many uncompressed bytes: a small layer costs little
/// whatever its ratio.
pub const INFLATE_FLOOR: u64 = 16 << 20;

impl Default for LayerParseOptions {
    fn default() -> Self {
        LayerParseOptions {
            digests: true,
            content_hashes: true,
            capture: None,
            max_inflate_ratio: DEFAULT_MAX_INFLATE_RATIO,
            seek: None,
        }
    }
}

/// How many bytes of a file [`Capture::wants`] sees before deciding.
pub const CAPTURE_HEAD: usize = 64 * 1024;

/// Which file contents to keep while a layer is read: the model otherwise keeps only content
/// hashes, and some analyses (package databases, ELF dependencies) need a few files' bytes.
pub trait Capture: Send + Sync + std::fmt::Debug {
    /// Might [`Capture::wants`] keep this file? `sniff` is its first [`SNIFF`] bytes (fewer for
    /// a smaller file). Readers that seek over contents read a file's head only when this says
    /// yes, so it must say yes whenever `wants` could.
    fn may_want(&self, _path: &str, _size: u64, _sniff: &[u8]) -> bool {
        true
    }
    /// Keep this regular file? `path` is clean and relative (`var/lib/dpkg/status`); `head` is
    /// its first bytes (all of it for files up to [`CAPTURE_HEAD`] bytes).
    fn wants(&self, path: &str, size: u64, head: &[u8]) -> bool;
    /// Turn the whole content of a wanted file into what the image keeps (None: nothing).
    fn keep(&self, path: &str, content: Vec<u8>) -> Option<Vec<u8>>;
    /// For a wanted file: keep only these byte ranges instead of the whole content (None: all).
    /// Big files whose analysis needs a few known spans (ELF headers) then cost no buffer.
    fn ranges(&self, _path: &str, _size: u64, _head: &[u8]) -> Option<Vec<Range<u64>>> {
        None
    }
    /// Like `keep`, for a file read by `ranges`: the kept spans as (offset, bytes), sorted,
    /// disjoint, and clipped to the file.
    fn keep_parts(&self, _path: &str, _parts: Vec<(u64, Vec<u8>)>) -> Option<Vec<u8>> {
        None
    }
}

/// Sort and merge ranges (touching ones too), dropping empty ones.
fn merge_ranges(mut r: Vec<Range<u64>>) -> Vec<Range<u64>> {
    r.retain(|x| x.start < x.end);
    r.sort_by_key(|x| x.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(r.len());
    for x in r {
        match out.last_mut() {
            Some(last) if x.start <= last.end => last.end = last.end.max(x.end),
            _ => out.push(x),
        }
    }
    out
}

/// What is being kept of a wanted file while it streams past.
enum Kept {
    Whole(Vec<u8>),
    Parts(Vec<Range<u64>>, Vec<(u64, Vec<u8>)>),
}

impl Kept {
    /// Take the chunk that starts at file offset `pos`.
    fn take(&mut self, pos: u64, chunk: &[u8]) {
        match self {
            Kept::Whole(v) => v.extend_from_slice(chunk),
            Kept::Parts(ranges, parts) => {
                let end = pos + chunk.len() as u64;
                for (r, (_, bytes)) in ranges.iter().zip(parts.iter_mut()) {
                    let (a, b) = (r.start.max(pos), r.end.min(end));
                    if a < b {
                        bytes.extend_from_slice(&chunk[(a - pos) as usize..(b - pos) as usize]);
                    }
                }
            }
        }
    }
}

/// Read until `buf` is full or the reader ends.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A reader that counts what passes through it, reports it to the progress gauge and, on the
/// uncompressed side, stops a decompression bomb.
struct Tap<R> {
    inner: R,
    count: u64,
    progress: Option<Arc<Progress>>,
    /// On the uncompressed side: the compressed bytes the decoder took so far (from
    /// [`Consumed`]) and the ratio past which to stop.
    inflate: Option<(Arc<AtomicU64>, u64)>,
}

/// A buffered reader that counts the bytes its reader consumed (not the read-ahead in its
/// buffer), so the inflate guard measures what the decoder really took.
struct Consumed<B> {
    inner: B,
    used: Arc<AtomicU64>,
}

impl<B: BufRead> Read for Consumed<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.used.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<B: BufRead> BufRead for Consumed<B> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.used.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// What the inflate guard's error says; `io_err` recognises it to pass it on as it is.
const INFLATE_STOP: &str = "inflates to more than";

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.progress.as_ref().is_some_and(|p| p.cancelled()) {
            // not `Interrupted`: readers retry that kind, and the load must end
            return Err(io::Error::other("cancelled"));
        }
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if let Some(p) = &self.progress {
            p.add_read(n as u64);
        }
        if let Some((compressed, ratio)) = &self.inflate {
            let c = compressed.load(Ordering::Relaxed).max(1);
            if self.count > INFLATE_FLOOR && self.count / c >= *ratio {
                return Err(io::Error::other(format!(
                    "{INFLATE_STOP} {ratio} times its compressed size ({} from {}): \
                     a decompression bomb? --max-inflate-ratio raises the limit",
                    crate::units::human_bytes(self.count),
                    crate::units::human_bytes(c)
                )));
            }
        }
        Ok(n)
    }
}

fn kind_of(typeflag: u8, name: &str) -> EntryKind {
    if name == ".wh..wh..opq" {
        return EntryKind::Opaque;
    }
    if name.starts_with(".wh.") {
        // `.wh..wh.` names other than the opaque marker are whiteout-internal files: dive drops
        // them; we record them as Other so the overlay ignores them too.
        if name.starts_with(".wh..wh.") {
            return EntryKind::Other;
        }
        return EntryKind::Whiteout;
    }
    match typeflag {
        b'0' | 0 | b'7' => EntryKind::File,
        b'1' => EntryKind::Hardlink,
        b'2' => EntryKind::Symlink,
        b'3' => EntryKind::CharDevice,
        b'4' => EntryKind::BlockDevice,
        b'5' => EntryKind::Dir,
        b'6' => EntryKind::Fifo,
        _ => EntryKind::Other,
    }
}

/// Parse a layer blob from `reader`. `member` names the blob in errors.
pub fn parse_layer_with_progress<R: Read>(
    reader: R,
    archive: &str,
    member: &str,
    opts: LayerParseOptions,
    progress: Option<Arc<Progress>>,
) -> Result<ParsedLayer> {
    let merr = |m: String| Error::member(archive, member, m);
    // sniff the first block; a stream may hand it over in pieces
    let mut reader = reader;
    let mut head = Vec::with_capacity(512);
    (&mut reader)
        .take(512)
        .read_to_end(&mut head)
        .map_err(|e| merr(format!("read failed: {e}")))?;
    let compression = Compression::sniff(&head);
    if compression == Compression::None {
        let looks_tar = head.is_empty()
            || (head.len() >= 263 && &head[257..262] == b"ustar")
            || (head.len() >= 512 && head[..512].iter().all(|&b| b == 0))
            || (head.len() >= 512 && tar_checksum_ok(&head[..512]));
        if !looks_tar {
            return Err(merr(
                "not a tar layer (neither tar, gzip nor zstd)".to_string(),
            ));
        }
    }
    let blob = io::Cursor::new(head).chain(reader);
    let names = (archive, member);
    if !opts.digests {
        return parse_stream(blob, compression, names, &opts, progress, None);
    }
    let (parsed, (blob_sha, diff_sha)) = digests::hashing(|feed| {
        parse_stream(blob, compression, names, &opts, progress, Some(feed))
    })
    .map_err(|e| merr(format!("read failed: {e}")))?;
    let mut out = parsed?;
    // an uncompressed blob is its own diff: hashed once
    out.diff_sha256 = Some(if compression == Compression::None {
        blob_sha.clone()
    } else {
        diff_sha
    });
    out.blob_sha256 = Some(blob_sha);
    Ok(out)
}

/// The uncompressed stream as the tar reader sees it: straight from the decoder, or through
/// buffers that go to the hashing thread once read (a compressed blob's diff_id).
enum DiffReader<D: Read> {
    Direct(Tap<D>),
    Hashed(Chunked<Tap<D>>),
}

impl<D: Read> Read for DiffReader<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            DiffReader::Direct(t) => t.read(buf),
            DiffReader::Hashed(c) => c.read(buf),
        }
    }
}

impl<D: Read> DiffReader<D> {
    /// Send what is left to hash; the counting reader underneath.
    fn finish(self) -> Tap<D> {
        match self {
            DiffReader::Direct(t) => t,
            DiffReader::Hashed(c) => c.finish(),
        }
    }
}

/// Inflate, parse and (with a `feed`) hand both streams' bytes to the hashing thread; the
/// digests are filled in by the caller.
fn parse_stream<B: Read>(
    blob: B,
    compression: Compression,
    (archive, member): (&str, &str),
    opts: &LayerParseOptions,
    progress: Option<Arc<Progress>>,
    feed: Option<&Feed>,
) -> Result<ParsedLayer> {
    let merr = |m: String| Error::member(archive, member, m);
    let compressed = Arc::new(AtomicU64::new(0));
    let guarded = compression != Compression::None && opts.max_inflate_ratio > 0;
    let blob_tap = Tap {
        inner: blob,
        count: 0,
        progress,
        inflate: None,
    };
    // the blob's buffer is the decoder's input: hashed where it lies, no copy
    let buffered = Consumed {
        inner: Chunked::new(blob_tap, feed.map(|f| (f, Stream::Blob))),
        used: compressed.clone(),
    };
    let decoded = match compression {
        // the explorer's load: the same read records access points for its viewer
        c @ (Compression::Gzip | Compression::Zstd) if opts.seek.is_some() => {
            let seek = opts.seek.as_ref().map(|s| s.layer(archive, member));
            let rec = super::seek_index::Recorder::start(c, buffered, seek.unwrap_or_default());
            Decoder::Indexed(rec.map_err(|e| merr(format!("corrupt {c:?} stream: {e}")))?)
        }
        #[cfg(bathy_isal)]
        Compression::Gzip => Decoder::Gzip(super::inflate::IsalGzDecoder::new(buffered)),
        #[cfg(not(bathy_isal))]
        Compression::Gzip => Decoder::Gzip(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Decoder::Zstd(
            zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| merr(format!("corrupt zstd stream: {e}")))?,
        ),
        Compression::None => Decoder::Plain(buffered),
    };
    let comp_name = match compression {
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
        Compression::None => "tar",
    };
    let diff_tap = Tap {
        inner: decoded,
        count: 0,
        progress: None,
        inflate: guarded.then_some((compressed, opts.max_inflate_ratio)),
    };
    let diff = match feed {
        Some(f) if compression != Compression::None => {
            DiffReader::Hashed(Chunked::new(diff_tap, Some((f, Stream::Diff))))
        }
        _ => DiffReader::Direct(diff_tap),
    };
    let mut archive_rd = tar::Archive::new(diff);
    let mut out = ParsedLayer {
        compression: Some(compression),
        ..Default::default()
    };
    let io_err = |e: io::Error| -> String {
        let text = e.to_string();
        if let Some(i) = text.find(INFLATE_STOP) {
            // the guard's own words, without what the tar reader wrapped around them
            return format!("{comp_name} layer {}", text[i..].trim_end_matches(')'));
        }
        if e.kind() == io::ErrorKind::UnexpectedEof || text.contains("EOF") {
            format!("truncated {comp_name} layer ({text})")
        } else if compression != Compression::None {
            // a damaged stream often inflates to garbage before its checksum is reached
            format!("corrupt {comp_name} layer ({text})")
        } else {
            format!("corrupt tar layer ({text})")
        }
    };
    read_entries(&mut archive_rd, opts, &mut out, &merr, &io_err)?;
    // drain what follows the tar's end so the digests cover the whole stream
    let mut diff = archive_rd.into_inner();
    io::copy(&mut diff, &mut io::sink()).map_err(|e| merr(io_err(e)))?;
    let diff_tap = diff.finish();
    out.tar_bytes = diff_tap.count;
    let mut buffered = diff_tap.inner.into_inner();
    io::copy(&mut buffered, &mut io::sink()).map_err(|e| merr(format!("read failed: {e}")))?;
    out.compressed_bytes = buffered.inner.finish().count;
    Ok(out)
}

/// Every entry of the tar stream into `out`, with its contents read as `opts` asks.
fn read_entries<R: Read>(
    archive_rd: &mut tar::Archive<R>,
    opts: &LayerParseOptions,
    out: &mut ParsedLayer,
    merr: &dyn Fn(String) -> Error,
    io_err: &dyn Fn(io::Error) -> String,
) -> Result<()> {
    let mut buf = vec![0u8; CAPTURE_HEAD];
    let entries = archive_rd.entries().map_err(|e| merr(io_err(e)))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| merr(io_err(e)))?;
        let Some(h) = read_header(&mut entry, merr)? else {
            continue;
        };
        let size = entry.size();
        let (kind, raw_path) = (h.kind, h.raw_path.clone());
        let mut hash = 0u64;
        if kind == EntryKind::File && (opts.content_hashes || opts.capture.is_some()) {
            let entry_err = |e: io::Error| merr(format!("entry {raw_path:?}: {}", io_err(e)));
            hash = read_file_contents(&mut entry, &h, size, opts, &mut buf, out, &entry_err)?;
        }
        out.push(h, size, hash, entry.raw_file_position());
    }
    Ok(())
}

/// A regular file's bytes, read once: its content hash (when asked for; 0 means "not hashed",
/// so a real 0 becomes 1) and what the capture keeps of it, pushed onto `out.captured`.
fn read_file_contents<R: Read>(
    entry: &mut R,
    h: &HeaderFields,
    size: u64,
    opts: &LayerParseOptions,
    buf: &mut [u8],
    out: &mut ParsedLayer,
    entry_err: &dyn Fn(io::Error) -> Error,
) -> Result<u64> {
    let mut hasher = Xxh3::new();
    let mut kept: Option<Kept> = None;
    let mut first = true;
    let mut pos = 0u64;
    loop {
        // the first read fills the buffer, so `wants` sees a whole head
        let n = if first {
            read_full(entry, buf)
        } else {
            entry.read(buf)
        }
        .map_err(entry_err)?;
        if first {
            first = false;
            kept = opts
                .capture
                .as_ref()
                .and_then(|c| start_keeping(c.as_ref(), &h.path, size, &buf[..n]));
        }
        if n == 0 {
            break;
        }
        if opts.content_hashes {
            hasher.update(&buf[..n]);
        }
        if let Some(k) = kept.as_mut() {
            k.take(pos, &buf[..n]);
        }
        pos += n as u64;
    }
    if let (Some(c), Some(k)) = (&opts.capture, kept) {
        let v = match k {
            Kept::Whole(k) => c.keep(&h.path, k),
            Kept::Parts(_, mut parts) => {
                // ranges past the end of the file stay empty
                parts.retain(|p| !p.1.is_empty());
                c.keep_parts(&h.path, parts)
            }
        };
        if let Some(v) = v {
            out.captured.push((out.entries.len() as u32, v));
        }
    }
    if !opts.content_hashes {
        return Ok(0);
    }
    Ok(match hasher.digest() {
        0 => 1,
        d => d,
    })
}

/// What the capture wants of a file, judged from its head: nothing, all of it, or some ranges.
fn start_keeping(c: &dyn Capture, path: &str, size: u64, head: &[u8]) -> Option<Kept> {
    if !c.wants(path, size, head) {
        return None;
    }
    Some(match c.ranges(path, size, head) {
        Some(r) => {
            let r = merge_ranges(r);
            let parts = r.iter().map(|x| (x.start, Vec::new())).collect();
            Kept::Parts(r, parts)
        }
        None => Kept::Whole(Vec::with_capacity(size.min(1 << 24) as usize)),
    })
}

/// The decompressor, kept as an enum so the blob reader can be taken back to finish its hash.
#[allow(clippy::large_enum_variant)] // one per layer, never moved in a hot loop
enum Decoder<R: BufRead> {
    #[cfg(bathy_isal)]
    Gzip(super::inflate::IsalGzDecoder<R>),
    #[cfg(not(bathy_isal))]
    Gzip(flate2::bufread::MultiGzDecoder<R>),
    Zstd(zstd::stream::read::Decoder<'static, R>),
    Plain(R),
    /// gzip or zstd, recording access points.
    Indexed(super::seek_index::Recorder<R>),
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Gzip(d) => d.read(buf),
            Decoder::Zstd(d) => d.read(buf),
            Decoder::Plain(d) => d.read(buf),
            Decoder::Indexed(d) => d.read(buf),
        }
    }
}

impl<R: BufRead> Decoder<R> {
    fn into_inner(self) -> R {
        match self {
            Decoder::Gzip(d) => d.into_inner(),
            Decoder::Zstd(d) => d.finish(),
            Decoder::Plain(d) => d,
            Decoder::Indexed(d) => d.into_inner(),
        }
    }
}

/// What both parsers take from a tar header.
struct HeaderFields {
    raw_path: String,
    path: String,
    kind: EntryKind,
    typeflag: u8,
    mode: u32,
    uid: u32,
    gid: u32,
    /// The header's link name as written (dive reports it raw; hardlinks are cleaned on use).
    link: String,
}

/// Read an entry's header; `None` for entries that are not files (PAX headers, the root).
fn read_header<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    merr: &dyn Fn(String) -> Error,
) -> Result<Option<HeaderFields>> {
    let typeflag = entry.header().entry_type().as_byte();
    if matches!(typeflag, b'g' | b'x' | b'L' | b'K') {
        return Ok(None);
    }
    check_pax(entry, merr)?;
    let header = entry.header();
    let raw = entry.path_bytes();
    let raw_path = std::str::from_utf8(&raw)
        .map_err(|_| {
            merr(format!(
                "entry {:?} has a non-UTF-8 name",
                String::from_utf8_lossy(&raw)
            ))
        })?
        .to_string();
    let Some(path) = clean_entry_path(&raw_path).map_err(merr)? else {
        return Ok(None);
    };
    let name = path.rsplit('/').next().unwrap_or(&path);
    let kind = kind_of(typeflag, name);
    let link = entry
        .link_name_bytes()
        .map(|b| b.into_owned())
        .unwrap_or_default();
    let link = String::from_utf8(link)
        .map_err(|_| merr(format!("entry {raw_path:?} has a non-UTF-8 link target")))?;
    if kind == EntryKind::Hardlink {
        // a hardlink names a path inside the image: the same rules as entry names
        clean_entry_path(&link).map_err(merr)?;
    }
    Ok(Some(HeaderFields {
        path,
        kind,
        typeflag,
        // an empty numeric field means 0 to Go's and GNU's tar readers
        mode: header.mode().unwrap_or(0),
        uid: owner_id(header.uid(), "uid", &raw_path, merr)?,
        gid: owner_id(header.gid(), "gid", &raw_path, merr)?,
        raw_path,
        link,
    }))
}

/// A uid or gid as Docker reads it: a PAX value (already laid into the header by the tar
/// reader) or a base-256 or octal field. One that does not fit in 32 bits is refused, as
/// Docker's chown refuses it, never wrapped (99999999999999 once read as 276447231, 2^52 as
/// root).
fn owner_id(
    value: io::Result<u64>,
    what: &str,
    raw_path: &str,
    merr: &dyn Fn(String) -> Error,
) -> Result<u32> {
    // an empty numeric field means 0 to Go's and GNU's tar readers
    let v = value.unwrap_or(0);
    u32::try_from(v).map_err(|_| {
        merr(format!(
            "entry {raw_path:?}: {what} {v} is out of range (over 32 bits)"
        ))
    })
}

/// The entry's PAX records, checked as Go's archive/tar checks them: a record the tar reader
/// cannot parse (a wrong length, a value holding a newline) or a uid, gid or size that is not
/// a decimal number would otherwise be dropped silently and the plain header's value used.
fn check_pax<R: Read>(entry: &mut tar::Entry<'_, R>, merr: &dyn Fn(String) -> Error) -> Result<()> {
    let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    let bad = |what: String| merr(format!("entry {name:?}: invalid PAX record ({what})"));
    let Some(records) = entry.pax_extensions().map_err(|e| bad(e.to_string()))? else {
        return Ok(());
    };
    for r in records {
        let r = r.map_err(|e| bad(e.to_string()))?;
        let key = r.key().map_err(|_| bad("a non-UTF-8 key".into()))?;
        if matches!(key, "uid" | "gid" | "size") {
            let value = r.value().unwrap_or("");
            if value.parse::<u64>().is_err() {
                return Err(bad(format!("{key}={value:?}")));
            }
        }
    }
    Ok(())
}

impl ParsedLayer {
    fn push(&mut self, h: HeaderFields, size: u64, hash: u64, data_offset: u64) {
        let path_off = self.paths.len() as u32;
        self.paths.push_str(&h.path);
        let link_off = self.links.len() as u32;
        self.links.push_str(&h.link);
        self.entries.push(RawEntry {
            path_off,
            path_len: h.path.len() as u32,
            kind: h.kind,
            typeflag: h.typeflag,
            mode: h.mode,
            uid: h.uid,
            gid: h.gid,
            size,
            hash,
            link_off,
            link_len: h.link.len() as u32,
            data_offset,
        });
    }
}

/// Positioned read of a whole buffer (no shared cursor, so one open file serves every reader).
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::Seek;
        let mut f = file;
        f.seek(io::SeekFrom::Start(offset))?;
        f.read_exact(buf)
    }
}

/// Bytes read at once by [`FileRange`] where reads follow each other closely: a run of small
/// files with their headers.
const WINDOW: usize = 64 * 1024;
/// Bytes read at once after a jump (over a big file's contents): its next header and the first
/// bytes of the next file. A whole window there would copy 64 KiB of the big file's bytes.
const HOP: usize = 4 * 1024;

/// The bytes last read by a [`FileRange`] (or by the readers sharing its window).
#[derive(Default)]
struct Window {
    bytes: Vec<u8>,
    /// Where `bytes` start in the range.
    at: u64,
}

/// A byte range of a file, seekable within the range. Reads come from a window refilled by
/// positioned reads, and seeking costs nothing: walking a layer's headers reads the headers and
/// the small files between them, never the big files' bytes it seeks over.
pub struct FileRange {
    file: Arc<std::fs::File>,
    start: u64,
    len: u64,
    pos: u64,
    window: Arc<Mutex<Window>>,
}

impl FileRange {
    pub fn new(file: Arc<std::fs::File>, start: u64, len: u64) -> FileRange {
        FileRange {
            file,
            start,
            len,
            pos: 0,
            window: Arc::default(),
        }
    }

    /// Another reader of the same range, with its own cursor and window.
    pub fn clone_handle(&self) -> FileRange {
        FileRange::new(self.file.clone(), self.start, self.len)
    }

    /// Another reader of the same range with its own cursor, sharing this one's window: a
    /// file's first bytes read beside the header walk come from the window the header came in.
    pub fn sharing_window(&self) -> FileRange {
        FileRange {
            window: self.window.clone(),
            ..self.clone_handle()
        }
    }

    /// Read `buf.len()` bytes at `at` in the range (clipped to its end); the cursor stays.
    fn read_at(&mut self, at: u64, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.len.saturating_sub(at)) as usize;
        if n == 0 {
            return Ok(0);
        }
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let end = w.at + w.bytes.len() as u64;
        let in_window = at >= w.at && at + n as u64 <= end;
        if !in_window {
            if n >= WINDOW {
                // a big read goes straight to the caller's buffer
                read_exact_at(&self.file, &mut buf[..n], self.start + at)?;
                return Ok(n);
            }
            // a short hop past the window continues a dense run; a far jump reads little
            let near = !w.bytes.is_empty() && at >= w.at && at < end + WINDOW as u64;
            let want = if near { WINDOW } else { HOP.max(n) };
            let size = (want as u64).min(self.len - at) as usize;
            w.bytes.resize(size, 0);
            if let Err(e) = read_exact_at(&self.file, &mut w.bytes, self.start + at) {
                // nothing half-read stays in the window
                w.bytes.clear();
                return Err(e);
            }
            w.at = at;
        }
        let off = (at - w.at) as usize;
        buf[..n].copy_from_slice(&w.bytes[off..off + n]);
        Ok(n)
    }
}

impl Read for FileRange {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for FileRange {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let target = match to {
            io::SeekFrom::Start(n) => i128::from(n),
            io::SeekFrom::Current(d) => i128::from(self.pos) + i128::from(d),
            io::SeekFrom::End(d) => i128::from(self.len) + i128::from(d),
        };
        self.pos = u64::try_from(target).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of a layer",
            )
        })?;
        Ok(self.pos)
    }
}

/// Is this blob an uncompressed tar? (Reads its first bytes.)
pub fn is_plain_tar(r: &mut FileRange) -> io::Result<bool> {
    let mut head = [0u8; 4];
    let n = r.read_at(0, &mut head)?;
    Ok(Compression::sniff(&head[..n]) == Compression::None)
}

/// Read an uncompressed layer by its headers, seeking over file contents. Contents are hashed
/// later, and only where an analysis needs them ([`hash_range`]); of the files a capture may
/// want, only the bytes it asks for are read. Keeps exactly what [`parse_layer_with_progress`] keeps.
pub fn parse_plain_layer(
    r: FileRange,
    archive: &str,
    member: &str,
    capture: Option<&dyn Capture>,
) -> Result<ParsedLayer> {
    let merr = |m: String| Error::member(archive, member, m);
    let len = r.len;
    let mut contents = r.sharing_window();
    let mut ar = tar::Archive::new(r);
    let mut out = ParsedLayer {
        compression: Some(Compression::None),
        compressed_bytes: len,
        tar_bytes: len,
        ..Default::default()
    };
    let entries = ar
        .entries_with_seek()
        .map_err(|e| merr(format!("corrupt tar layer ({e})")))?;
    let mut sniff = [0u8; SNIFF];
    for entry in entries {
        let mut entry = entry.map_err(|e| merr(format!("corrupt or truncated tar layer ({e})")))?;
        let Some(h) = read_header(&mut entry, &merr)? else {
            continue;
        };
        let size = entry.size();
        let data_offset = entry.raw_file_position();
        if data_offset.saturating_add(size) > len {
            return Err(merr(format!(
                "entry {:?} declares {size} bytes past the end of the layer (truncated)",
                h.raw_path
            )));
        }
        let mut hash = 0;
        if h.kind == EntryKind::File {
            if size == 0 {
                // the content hash of nothing costs nothing
                hash = Xxh3::new().digest().max(1);
            }
            if let Some(c) = capture {
                let n = contents
                    .read_at(data_offset, &mut sniff[..size.min(SNIFF as u64) as usize])
                    .map_err(|e| merr(format!("entry {:?}: read failed: {e}", h.raw_path)))?;
                if c.may_want(&h.path, size, &sniff[..n]) {
                    let kept = capture_by_reads(c, &h.path, size, |at, buf| {
                        contents.read_at(data_offset + at, buf)
                    })
                    .map_err(|e| merr(format!("entry {:?}: read failed: {e}", h.raw_path)))?;
                    if let Some(v) = kept {
                        out.captured.push((out.entries.len() as u32, v));
                    }
                }
            }
        }
        out.push(h, size, hash, data_offset);
    }
    Ok(out)
}

/// How many first bytes of a file [`Capture::may_want`] sees.
pub const SNIFF: usize = 8;

/// What a capture keeps of one file, reading only what it asks for through `read(at, buf)`.
fn capture_by_reads(
    c: &dyn Capture,
    path: &str,
    size: u64,
    mut read: impl FnMut(u64, &mut [u8]) -> io::Result<usize>,
) -> io::Result<Option<Vec<u8>>> {
    let mut exact = |at: u64, len: u64| -> io::Result<Vec<u8>> {
        let mut v = vec![0u8; len as usize];
        let n = read(at, &mut v)?;
        if n < v.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "layer ends inside the file",
            ));
        }
        Ok(v)
    };
    let head = exact(0, size.min(CAPTURE_HEAD as u64))?;
    if !c.wants(path, size, &head) {
        return Ok(None);
    }
    match c.ranges(path, size, &head) {
        Some(r) => {
            let mut parts = Vec::new();
            for x in merge_ranges(r) {
                // what streaming keeps: the part of each range inside the file, empty ones dropped
                let end = x.end.min(size);
                if x.start >= end {
                    continue;
                }
                let bytes = if end <= head.len() as u64 {
                    head[x.start as usize..end as usize].to_vec()
                } else {
                    exact(x.start, end - x.start)?
                };
                parts.push((x.start, bytes));
            }
            Ok(c.keep_parts(path, parts))
        }
        None => {
            let mut all = head;
            if size > all.len() as u64 {
                let rest = exact(all.len() as u64, size - all.len() as u64)?;
                all.extend_from_slice(&rest);
            }
            Ok(c.keep(path, all))
        }
    }
}

/// sha256 of `len` bytes at `offset` of a file, as `sha256:HEX` (a plain blob's digest, which
/// is also its diff_id): read here, hashed on a thread beside, so the two overlap. `cancelled`
/// is asked between buffers.
pub fn sha256_range(
    file: &Arc<std::fs::File>,
    offset: u64,
    len: u64,
    cancelled: &dyn Fn() -> bool,
) -> io::Result<String> {
    digests::sha256_of(FileRange::new(file.clone(), offset, len), cancelled)
}

/// xxh3 of `len` bytes at `offset` of a file (the deferred content hash of header-only reads).
pub fn hash_range(file: &std::fs::File, offset: u64, len: u64) -> io::Result<u64> {
    let mut h = Xxh3::new();
    let mut buf = vec![0u8; (64 * 1024).min(len as usize).max(1)];
    let mut done = 0u64;
    while done < len {
        let n = (buf.len() as u64).min(len - done) as usize;
        read_exact_at(file, &mut buf[..n], offset + done)?;
        h.update(&buf[..n]);
        done += n as u64;
    }
    Ok(h.digest().max(1))
}

fn tar_checksum_ok(block: &[u8]) -> bool {
    let field = &block[148..156];
    let s = std::str::from_utf8(field)
        .unwrap_or("")
        .trim_matches(|c: char| c == '\0' || c == ' ');
    let Ok(expected) = u32::from_str_radix(s, 8) else {
        return false;
    };
    let mut sum: u32 = 0;
    for (i, &b) in block.iter().enumerate() {
        sum += if (148..156).contains(&i) {
            b' ' as u32
        } else {
            b as u32
        };
    }
    sum == expected
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{compress, filler, Compression as Pack, LayerSpec};
    use sha2::{Digest, Sha256};

    fn sha(b: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(b)))
    }

    /// A reader handing out at most 1000 bytes a call, as a socket does.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(1000);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn digests_of_blob_and_stream_span_many_buffers_for_every_compression() {
        // several hashing buffers long, with small files between big ones
        let tar = LayerSpec::new("RUN build")
            .file_sized("big/a", 3 * digests::CHUNK + 17, 1)
            .file("small", b"x")
            .file_sized("big/b", digests::CHUNK / 2, 2)
            .tar();
        for pack in [Pack::None, Pack::Gzip, Pack::Zstd] {
            let blob = compress(&tar, pack);
            let pl = parse_layer_with_progress(
                Trickle(&blob),
                "a.tar",
                "layer",
                LayerParseOptions::default(),
                None,
            )
            .expect("parse");
            assert_eq!(pl.blob_sha256, Some(sha(&blob)), "{pack:?}");
            assert_eq!(pl.diff_sha256, Some(sha(&tar)), "{pack:?}");
            assert_eq!(pl.compressed_bytes, blob.len() as u64);
            assert_eq!(pl.tar_bytes, tar.len() as u64);
            assert_eq!(pl.entries.len(), 3, "{pack:?}");
            let big = pl.entries.iter().find(|e| pl.path(e) == "big/a");
            assert_eq!(big.map(|e| e.size), Some(3 * digests::CHUNK as u64 + 17));
        }
        let unverified = LayerParseOptions {
            digests: false,
            ..Default::default()
        };
        let pl =
            parse_layer_with_progress(&tar[..], "a.tar", "layer", unverified, None).expect("parse");
        assert_eq!((pl.blob_sha256, pl.diff_sha256), (None, None));
        assert_eq!(pl.entries.len(), 3);
    }

    #[test]
    fn a_plain_range_hashes_as_its_bytes_and_a_short_file_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("blob");
        let data = filler(2 * digests::CHUNK + 999, 7);
        std::fs::write(&p, &data).expect("write");
        let f = Arc::new(std::fs::File::open(&p).expect("open"));
        let got = sha256_range(&f, 100, (data.len() - 200) as u64, &|| false).expect("hash");
        assert_eq!(got, sha(&data[100..data.len() - 100]));
        assert!(sha256_range(&f, 100, data.len() as u64, &|| false).is_err());
    }

    /// Two readers sharing one window, reading in the patterns of a header walk (short hops,
    /// far jumps, big reads, reads at the end), give the file's own bytes (a slice of the
    /// data written is the model); a failed read leaves nothing stale behind.
    #[test]
    fn readers_sharing_a_window_read_the_files_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("blob");
        let data = filler(3 * WINDOW + 5000, 11);
        std::fs::write(&p, &data).expect("write");
        let f = Arc::new(std::fs::File::open(&p).expect("open"));
        let (start, len) = (300u64, data.len() as u64 - 300);
        let mut walk = FileRange::new(f.clone(), start, len);
        let mut sniff = walk.sharing_window();
        let model = &data[start as usize..];
        let reads: &[(bool, u64, usize)] = &[
            (true, 0, 512),
            (false, 512, 8),
            (true, 1024, 512),
            (false, 1536, 8),
            (true, 150_000, 512),
            (false, 150_512, 8),
            (true, 150_512 + 600, 512),
            (false, 10, WINDOW + 3),
            (true, 70_000, 100),
            (false, len - 7, 8),
            (true, len - 512, 512),
            (true, len, 8),
        ];
        for &(first, at, n) in reads {
            let r = if first { &mut walk } else { &mut sniff };
            let mut buf = vec![0u8; n];
            let got = r.read_at(at, &mut buf).expect("read");
            let want = &model[(at as usize).min(model.len())..(at as usize + n).min(model.len())];
            assert_eq!(&buf[..got], want, "{n} bytes at {at}");
        }
        // a range past the file's end fails, and a read inside it afterwards is still right
        let mut long = FileRange::new(f, 0, data.len() as u64 + 10_000);
        let mut buf = vec![0u8; 16];
        assert!(long.read_at(data.len() as u64 - 8, &mut buf).is_err());
        let got = long.read_at(1000, &mut buf).expect("read");
        assert_eq!(&buf[..got], &data[1000..1016]);
    }
}
