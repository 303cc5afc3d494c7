//! The on-disk cache of parsed layers: what bathy learned from a layer blob (entries, content
//! hashes, captured facts; never the blob's bytes), keyed by the blob digest and diff_id, so
//! the next image that shares layers reads only the ones not seen before. Bounded in size with
//! least-recently-used eviction; written atomically (a temporary file renamed into place), so
//! two processes may share it and a crash leaves no half entry. Best effort: any entry that
//! cannot be read back exactly (corrupt, truncated, another format) is ignored and removed, and
//! a cache that cannot be written is no error.

use crate::image::{Compression, EntryKind};
use crate::source::layer::{ParsedLayer, RawEntry};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Bumped whenever the encoding or what a parse keeps changes; older entries are ignored.
const FORMAT: u32 = 1;
const MAGIC: &[u8; 8] = b"BATHYLS\0";
/// The default bound on the cache's size.
pub const DEFAULT_MAX_BYTES: u64 = 2_000_000_000;

/// What a cached layer is the parse of.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LayerKey {
    /// The blob's digest (compressed bytes, as the manifest names it).
    pub blob: String,
    /// The uncompressed tar's digest (the config's diff_id).
    pub diff_id: String,
    /// Whether file contents were captured for the why-analyses (a parse without them cannot
    /// stand in for one with them).
    pub capture: bool,
}

impl LayerKey {
    fn file_name(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let text = format!(
            "{FORMAT}\n{}\n{}\n{}\n{}\n{}\n",
            env!("CARGO_PKG_VERSION"),
            build_identity(),
            self.blob,
            self.diff_id,
            self.capture
        );
        h.update(text.as_bytes());
        format!("{}.layer", hex::encode(h.finalize()))
    }
}

/// This build of the program: what a parse keeps (the capture rules, the hashing) may change
/// between builds of one version, so an entry is only good for the build that wrote it. The
/// executable's size and modification time stand for the build; unknown, the version alone.
fn build_identity() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|md| {
                let t = md
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("{}-{t}", md.len())
            })
            .unwrap_or_default()
    })
}

#[derive(Clone, Debug)]
pub struct LayerStore {
    dir: PathBuf,
    max_bytes: u64,
}

impl LayerStore {
    /// A store in `dir` (created on the first write), holding at most about `max_bytes`.
    pub fn new(dir: PathBuf, max_bytes: u64) -> LayerStore {
        LayerStore { dir, max_bytes }
    }

    /// `$BATHY_CACHE_DIR`, else `$XDG_CACHE_HOME/bathy`, else `~/.cache/bathy`.
    pub fn default_dir() -> Option<PathBuf> {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        env("BATHY_CACHE_DIR")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("bathy")))
            .or_else(|| env("HOME").map(|h| h.join(".cache/bathy")))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn layers_dir(&self) -> PathBuf {
        self.dir.join("layers")
    }

    /// The parse stored for `key`, if one reads back whole; marks it recently used.
    pub fn get(&self, key: &LayerKey) -> Option<ParsedLayer> {
        let path = self.layers_dir().join(key.file_name());
        let bytes = std::fs::read(&path).ok()?;
        match decode(&bytes, key) {
            Some(l) => {
                // the modification time is the recency the eviction goes by
                if let Ok(f) = std::fs::File::options().append(true).open(&path) {
                    let _ = f.set_modified(SystemTime::now());
                }
                Some(l)
            }
            None => {
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Keep `layer` under `key`, then evict the least recently used entries past the bound.
    pub fn put(&self, key: &LayerKey, layer: &ParsedLayer) {
        let dir = self.layers_dir();
        if std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        let bytes = encode(layer, key);
        let tmp = dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(&bytes)?;
            f.sync_data()
        });
        // rename is atomic: readers see the old entry, no entry, or the whole new one
        if written.is_err() || std::fs::rename(&tmp, dir.join(key.file_name())).is_err() {
            let _ = std::fs::remove_file(&tmp);
            return;
        }
        self.evict();
    }

    /// Remove the least recently used entries until the cache is under 90 % of its bound.
    fn evict(&self) {
        let Ok(rd) = std::fs::read_dir(self.layers_dir()) else {
            return;
        };
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = rd
            .filter_map(|e| {
                let e = e.ok()?;
                let p = e.path();
                if p.extension().and_then(|x| x.to_str()) != Some("layer") {
                    return None;
                }
                let md = e.metadata().ok()?;
                Some((md.modified().ok()?, md.len(), p))
            })
            .collect();
        let total: u64 = entries.iter().map(|e| e.1).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort();
        let target = self.max_bytes / 10 * 9;
        let mut left = total;
        for (_, len, p) in entries {
            if left <= target {
                break;
            }
            if std::fs::remove_file(&p).is_ok() {
                left -= len;
            }
        }
    }
}

fn kind_code(k: EntryKind) -> u8 {
    match k {
        EntryKind::File => 0,
        EntryKind::Dir => 1,
        EntryKind::Symlink => 2,
        EntryKind::Hardlink => 3,
        EntryKind::CharDevice => 4,
        EntryKind::BlockDevice => 5,
        EntryKind::Fifo => 6,
        EntryKind::Whiteout => 7,
        EntryKind::Opaque => 8,
        EntryKind::Other => 9,
    }
}

fn kind_of(c: u8) -> Option<EntryKind> {
    Some(match c {
        0 => EntryKind::File,
        1 => EntryKind::Dir,
        2 => EntryKind::Symlink,
        3 => EntryKind::Hardlink,
        4 => EntryKind::CharDevice,
        5 => EntryKind::BlockDevice,
        6 => EntryKind::Fifo,
        7 => EntryKind::Whiteout,
        8 => EntryKind::Opaque,
        9 => EntryKind::Other,
        _ => return None,
    })
}

struct Out(Vec<u8>);

impl Out {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn opt_str(&mut self, s: &Option<String>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.bytes(s.as_bytes());
            }
            None => self.u8(0),
        }
    }
}

fn encode(l: &ParsedLayer, key: &LayerKey) -> Vec<u8> {
    let mut o = Out(Vec::with_capacity(
        64 + l.entries.len() * 56 + l.paths.len(),
    ));
    o.0.extend_from_slice(MAGIC);
    o.u32(FORMAT);
    // the key again: a hash collision or a renamed file cannot serve the wrong layer
    o.bytes(key.blob.as_bytes());
    o.bytes(key.diff_id.as_bytes());
    o.u8(key.capture as u8);
    o.u8(match l.compression {
        None => 0,
        Some(Compression::None) => 1,
        Some(Compression::Gzip) => 2,
        Some(Compression::Zstd) => 3,
    });
    o.opt_str(&l.blob_sha256);
    o.opt_str(&l.diff_sha256);
    o.u64(l.compressed_bytes);
    o.u64(l.tar_bytes);
    o.u64(l.entries.len() as u64);
    for e in &l.entries {
        o.u32(e.path_off);
        o.u32(e.path_len);
        o.u8(kind_code(e.kind));
        o.u8(e.typeflag);
        o.u32(e.mode);
        o.u32(e.uid);
        o.u32(e.gid);
        o.u64(e.size);
        o.u64(e.hash);
        o.u32(e.link_off);
        o.u32(e.link_len);
        o.u64(e.data_offset);
    }
    o.bytes(l.paths.as_bytes());
    o.bytes(l.links.as_bytes());
    o.u64(l.captured.len() as u64);
    for (i, b) in &l.captured {
        o.u32(*i);
        o.bytes(b);
    }
    let sum = xxhash_rust::xxh3::xxh3_64(&o.0);
    o.u64(sum);
    o.0
}

/// A reader that refuses to go past the end: every length in a cache file is distrusted.
struct In<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }
    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.string()?)),
            _ => None,
        }
    }
}

fn decode(b: &[u8], key: &LayerKey) -> Option<ParsedLayer> {
    let body_len = b.len().checked_sub(8)?;
    let (body, sum) = b.split_at(body_len);
    if xxhash_rust::xxh3::xxh3_64(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut r = In { b: body, at: 0 };
    if r.take(8)? != MAGIC || r.u32()? != FORMAT {
        return None;
    }
    if r.bytes()? != key.blob.as_bytes()
        || r.bytes()? != key.diff_id.as_bytes()
        || r.u8()? != key.capture as u8
    {
        return None;
    }
    let compression = match r.u8()? {
        0 => None,
        1 => Some(Compression::None),
        2 => Some(Compression::Gzip),
        3 => Some(Compression::Zstd),
        _ => return None,
    };
    let blob_sha256 = r.opt_str()?;
    let diff_sha256 = r.opt_str()?;
    let compressed_bytes = r.u64()?;
    let tar_bytes = r.u64()?;
    let n = usize::try_from(r.u64()?).ok()?;
    // each entry takes 54 bytes: a count the file cannot hold is a corrupt one
    if n > body.len() / 54 {
        return None;
    }
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        entries.push(RawEntry {
            path_off: r.u32()?,
            path_len: r.u32()?,
            kind: kind_of(r.u8()?)?,
            typeflag: r.u8()?,
            mode: r.u32()?,
            uid: r.u32()?,
            gid: r.u32()?,
            size: r.u64()?,
            hash: r.u64()?,
            link_off: r.u32()?,
            link_len: r.u32()?,
            data_offset: r.u64()?,
        });
    }
    let paths = r.string()?;
    let links = r.string()?;
    let within = |off: u32, len: u32, s: &str| {
        let end = off as usize + len as usize;
        end <= s.len() && s.is_char_boundary(off as usize) && s.is_char_boundary(end)
    };
    let sane = entries
        .iter()
        .all(|e| within(e.path_off, e.path_len, &paths) && within(e.link_off, e.link_len, &links));
    if !sane {
        return None;
    }
    let nc = usize::try_from(r.u64()?).ok()?;
    let mut captured = Vec::with_capacity(nc.min(entries.len()));
    for _ in 0..nc {
        let i = r.u32()?;
        if i as usize >= entries.len() {
            return None;
        }
        captured.push((i, r.bytes()?.to_vec()));
    }
    if r.at != body.len() {
        return None;
    }
    Some(ParsedLayer {
        compression,
        blob_sha256,
        diff_sha256,
        compressed_bytes,
        tar_bytes,
        entries,
        paths,
        links,
        captured,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> LayerKey {
        LayerKey {
            blob: format!("sha256:{}", hex::encode([n; 32])),
            diff_id: format!("sha256:{}", hex::encode([n ^ 0xff; 32])),
            capture: true,
        }
    }

    fn layer(files: usize) -> ParsedLayer {
        let mut paths = String::new();
        let mut entries = Vec::new();
        for i in 0..files {
            let p = format!("usr/lib/f{i}.so");
            entries.push(RawEntry {
                path_off: paths.len() as u32,
                path_len: p.len() as u32,
                kind: if i % 7 == 0 {
                    EntryKind::Dir
                } else {
                    EntryKind::File
                },
                typeflag: b'0',
                mode: 0o644,
                uid: i as u32,
                gid: 3,
                size: 1000 + i as u64,
                hash: 0x1234_5678_9abc_def0 ^ i as u64,
                link_off: 0,
                link_len: 0,
                data_offset: 512 * (i as u64 + 1),
            });
            paths.push_str(&p);
        }
        ParsedLayer {
            compression: Some(Compression::Zstd),
            blob_sha256: Some("sha256:aa".into()),
            diff_sha256: Some("sha256:bb".into()),
            compressed_bytes: 4242,
            tar_bytes: 10240,
            entries,
            paths,
            links: "target".into(),
            captured: vec![(1, b"ID=debian\n".to_vec())],
        }
    }

    fn same(a: &ParsedLayer, b: &ParsedLayer) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    #[test]
    fn a_layer_reads_back_exactly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LayerStore::new(dir.path().to_path_buf(), DEFAULT_MAX_BYTES);
        let l = layer(50);
        assert!(store.get(&key(1)).is_none());
        store.put(&key(1), &l);
        let back = store.get(&key(1)).expect("cached");
        assert!(same(&l, &back));
        // another key, or the same blob parsed without captures, is another entry
        assert!(store.get(&key(2)).is_none());
        let no_capture = LayerKey {
            capture: false,
            ..key(1)
        };
        assert!(store.get(&no_capture).is_none());
    }

    #[test]
    fn a_damaged_entry_is_ignored_and_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LayerStore::new(dir.path().to_path_buf(), DEFAULT_MAX_BYTES);
        store.put(&key(1), &layer(10));
        let path = dir.path().join("layers").join(key(1).file_name());
        let good = std::fs::read(&path).expect("read");
        // one flipped byte, a truncation, an empty file, another format
        let mut flipped = good.clone();
        flipped[40] ^= 1;
        let mut other_format = good.clone();
        other_format[8] = 99;
        for bad in [
            flipped,
            good[..good.len() / 2].to_vec(),
            Vec::new(),
            other_format,
        ] {
            std::fs::write(&path, &bad).expect("write");
            assert!(store.get(&key(1)).is_none());
            assert!(!path.exists(), "a bad entry is removed");
        }
        // and nothing decodes from garbage without panicking
        for n in 0..200 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 31 + n) as u8).collect();
            assert!(decode(&junk, &key(1)).is_none());
        }
    }

    #[test]
    fn the_least_recently_used_go_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let one = encode(&layer(100), &key(1)).len() as u64;
        // room for three entries, not four
        let store = LayerStore::new(dir.path().to_path_buf(), one * 3 + one / 2);
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        for n in 1..=3 {
            store.put(&key(n), &layer(100));
            let p = dir.path().join("layers").join(key(n).file_name());
            let f = std::fs::File::options().append(true).open(p).expect("open");
            f.set_modified(old + std::time::Duration::from_secs(n as u64))
                .expect("set mtime");
        }
        // reading 1 makes it the most recent; 2 is then the oldest
        assert!(store.get(&key(1)).is_some());
        store.put(&key(4), &layer(100));
        assert!(store.get(&key(2)).is_none(), "least recently used evicted");
        for n in [1, 3, 4] {
            assert!(store.get(&key(n)).is_some(), "{n} kept");
        }
    }

    #[test]
    fn two_writers_of_one_entry_leave_a_whole_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LayerStore::new(dir.path().to_path_buf(), DEFAULT_MAX_BYTES);
        let l = layer(2000);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..5 {
                        store.put(&key(1), &l);
                        if let Some(b) = store.get(&key(1)) {
                            assert!(same(&l, &b));
                        }
                    }
                });
            }
        });
        assert!(same(&l, &store.get(&key(1)).expect("cached")));
        let leftovers = std::fs::read_dir(dir.path().join("layers"))
            .expect("dir")
            .count();
        assert_eq!(leftovers, 1, "no temporary files left behind");
    }
}
