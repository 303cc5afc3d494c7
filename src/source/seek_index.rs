//! Access points into compressed layers, so the explorer's viewer reads any file of a gzip or
//! zstd layer without inflating the layer from its start. A point is a place in the blob where
//! decoding can begin again: for gzip a deflate block boundary (its bit position and the 32 KiB
//! of output before it, the window; the zran technique), for zstd a frame's start (no window).
//! Points are spaced by [`SPAN`] bytes of output and their windows are kept zstd-compressed
//! within [`BUDGET_PERCENT`] of the compressed bytes read so far.
//!
//! Recorded while the explorer loads the image (the one read that parses a layer, see
//! [`crate::source::LoadOptions::seek`]), with the tar offset of every entry, and extended as
//! the viewer reads further into a layer whose points were not recorded then (a layer served
//! from a cache). Nothing else records them: `--json`, `--ci` and the text report pay nothing.

use crate::image::Compression;
use crate::source::gzip_index::GzipReader;
use crate::source::layer::ParsedLayer;
use crate::source::zstd_frames::ZstdReader;
use std::collections::HashMap;
use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Output bytes between two access points: the most a read inflates before reaching a file.
pub const SPAN: u64 = 4 << 20;
/// Windows kept, at most, as a percentage of the compressed bytes read so far.
pub const BUDGET_PERCENT: u64 = 1;

/// A place to start decoding again.
#[derive(Debug)]
pub struct Point {
    /// Where decoding starts in the blob, in bits from its first byte.
    pub input_bit: u64,
    /// The uncompressed (tar) offset there.
    pub output: u64,
    /// The output just before it (gzip), zstd-compressed; empty for a zstd frame.
    window: Box<[u8]>,
}

impl Point {
    /// A point with no window: the start of a zstd frame.
    pub fn frame(input_byte: u64, output: u64) -> Point {
        Point {
            input_bit: input_byte * 8,
            output,
            window: Box::default(),
        }
    }

    /// A point inside a deflate stream, its window kept compressed.
    pub fn with_window(input_bit: u64, output: u64, window: &[u8]) -> io::Result<Point> {
        let kept = zstd::bulk::compress(window, 1)?;
        Ok(Point {
            input_bit,
            output,
            window: kept.into_boxed_slice(),
        })
    }

    /// The window, as it was (at most 32 KiB).
    pub fn window(&self) -> io::Result<Vec<u8>> {
        if self.window.is_empty() {
            return Ok(Vec::new());
        }
        zstd::bulk::decompress(&self.window, crate::source::raw_deflate::WINDOW)
    }

    /// Bytes this point holds.
    fn memory(&self) -> usize {
        std::mem::size_of::<Point>() + self.window.len()
    }
}

/// One layer's access points and entry offsets.
#[derive(Debug, Default)]
pub struct LayerSeek {
    state: Mutex<SeekState>,
    /// Output bytes decoded by every reader of this layer (what a test checks).
    decoded: AtomicU64,
}

#[derive(Debug, Default)]
struct SeekState {
    /// Sorted by output offset.
    points: Vec<Arc<Point>>,
    /// Compressed window bytes held by `points`.
    stored: usize,
    /// The output offset from which the next point is wanted.
    next_wanted: u64,
    /// Each entry's data offset in the tar stream, in the layer's entry order (as the image
    /// model numbers them); empty when the load did not record them.
    offsets: Vec<u64>,
}

impl LayerSeek {
    /// The last point at or before `output`.
    pub fn nearest(&self, output: u64) -> Option<Arc<Point>> {
        let s = self.state.lock().ok()?;
        let i = s.points.partition_point(|p| p.output <= output);
        i.checked_sub(1).map(|i| s.points[i].clone())
    }

    /// The output offset past which a reader should look for the next point.
    pub fn next_wanted(&self) -> u64 {
        self.state.lock().map_or(u64::MAX, |s| s.next_wanted)
    }

    /// Keep `p` if it is the next one wanted and its window fits the budget, given that
    /// `input_bytes` of the blob were read to reach it. Either way the next point is wanted
    /// [`SPAN`] further on.
    pub fn offer(&self, p: Point, input_bytes: u64) {
        let Ok(mut s) = self.state.lock() else { return };
        if p.output < s.next_wanted {
            return;
        }
        s.next_wanted = p.output.saturating_add(SPAN);
        let budget = input_bytes.saturating_mul(BUDGET_PERCENT) / 100;
        if (s.stored + p.window.len()) as u64 > budget {
            return;
        }
        s.stored += p.window.len();
        s.points.push(Arc::new(p));
    }

    /// Record the data offset of each entry (the layer's entry order).
    pub fn set_offsets(&self, offsets: Vec<u64>) {
        if let Ok(mut s) = self.state.lock() {
            s.offsets = offsets;
        }
    }

    /// The data offset of entry `i` in the tar stream, when recorded.
    pub fn offset(&self, i: usize) -> Option<u64> {
        self.state.lock().ok()?.offsets.get(i).copied()
    }

    /// Count `n` more bytes decoded.
    pub fn add_decoded(&self, n: u64) {
        self.decoded.fetch_add(n, Ordering::Relaxed);
    }

    /// Output bytes decoded by this layer's readers so far.
    pub fn decoded(&self) -> u64 {
        self.decoded.load(Ordering::Relaxed)
    }

    /// Points held.
    pub fn points(&self) -> usize {
        self.state.lock().map_or(0, |s| s.points.len())
    }

    /// Bytes held by the points (windows and bookkeeping), and by the entry offsets.
    pub fn memory(&self) -> (usize, usize) {
        self.state.lock().map_or((0, 0), |s| {
            let points = s.points.iter().map(|p| p.memory()).sum();
            (points, s.offsets.len() * std::mem::size_of::<u64>())
        })
    }
}

/// Every layer's [`LayerSeek`], by archive and member name: what the explorer's load fills
/// and its viewer reads.
#[derive(Default)]
pub struct SeekIndexes {
    layers: Mutex<HashMap<(String, String), Arc<LayerSeek>>>,
}

impl std::fmt::Debug for SeekIndexes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.layers.lock().map_or(0, |l| l.len());
        write!(f, "SeekIndexes({n} layers)")
    }
}

impl SeekIndexes {
    pub fn new() -> Arc<SeekIndexes> {
        Arc::default()
    }

    /// Layer `member` of `archive`: its points so far (created empty).
    pub fn layer(&self, archive: &str, member: &str) -> Arc<LayerSeek> {
        let Ok(mut l) = self.layers.lock() else {
            return Arc::default();
        };
        l.entry((archive.to_string(), member.to_string()))
            .or_default()
            .clone()
    }

    /// Points held, over every layer.
    pub fn points(&self) -> usize {
        self.layers
            .lock()
            .map_or(0, |l| l.values().map(|s| s.points()).sum())
    }

    /// Output bytes decoded by readers of every layer (the load's own read included).
    pub fn decoded(&self) -> u64 {
        self.layers
            .lock()
            .map_or(0, |l| l.values().map(|s| s.decoded()).sum())
    }

    /// Bytes held by every layer's points, and by the entry offsets.
    pub fn memory(&self) -> (usize, usize) {
        let Ok(l) = self.layers.lock() else {
            return (0, 0);
        };
        l.values().fold((0, 0), |(p, o), s| {
            let (a, b) = s.memory();
            (p + a, o + b)
        })
    }
}

/// A compressed layer's decoder that records access points into its [`LayerSeek`].
pub enum Recorder<R: BufRead> {
    Gzip(GzipReader<R>),
    Zstd(ZstdReader<R>),
}

impl<R: BufRead> Recorder<R> {
    /// Decode a blob of compression `c` (gzip or zstd) from its start.
    pub fn start(c: Compression, inner: R, seek: Arc<LayerSeek>) -> io::Result<Self> {
        match c {
            Compression::Gzip => Ok(Recorder::Gzip(GzipReader::recording(inner, seek))),
            Compression::Zstd => Ok(Recorder::Zstd(ZstdReader::recording(inner, seek)?)),
            Compression::None => Err(io::Error::other("an uncompressed layer has no points")),
        }
    }

    /// Decode from point `p`, `inner` positioned at the byte holding its first bit.
    pub fn resume(c: Compression, inner: R, p: &Point, seek: Arc<LayerSeek>) -> io::Result<Self> {
        match c {
            Compression::Gzip => Ok(Recorder::Gzip(GzipReader::resume(inner, p, seek)?)),
            Compression::Zstd => Ok(Recorder::Zstd(ZstdReader::resume(inner, p, seek)?)),
            Compression::None => Err(io::Error::other("an uncompressed layer has no points")),
        }
    }

    /// The reader, after the last byte the decoder used.
    pub fn into_inner(self) -> R {
        match self {
            Recorder::Gzip(d) => d.into_inner(),
            Recorder::Zstd(d) => d.into_inner(),
        }
    }
}

impl<R: BufRead> Read for Recorder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Recorder::Gzip(d) => d.read(buf),
            Recorder::Zstd(d) => d.read(buf),
        }
    }
}

/// After a layer is read (or served from a cache): the tar offset of each of its entries, for
/// a compressed layer (an uncompressed one is read by its headers).
pub fn note_offsets(
    seek: &SeekIndexes,
    archive: &str,
    member: &str,
    reused_as: Option<Compression>,
    pl: &ParsedLayer,
) {
    if reused_as.unwrap_or_else(|| pl.compression()) == Compression::None {
        return;
    }
    let offsets = pl.entries.iter().map(|e| e.data_offset).collect();
    seek.layer(archive, member).set_offsets(offsets);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_spaced_by_span_and_kept_within_the_budget() {
        let s = LayerSeek::default();
        let w = vec![7u8; 32 << 10];
        s.offer(Point::with_window(8, 0, &w).unwrap(), 10 << 20);
        // too close to the first
        s.offer(Point::with_window(80, SPAN - 1, &w).unwrap(), 20 << 20);
        s.offer(Point::with_window(800, SPAN, &w).unwrap(), 20 << 20);
        assert_eq!(s.points(), 2);
        assert_eq!(s.nearest(SPAN - 1).unwrap().input_bit, 8);
        assert_eq!(s.nearest(SPAN + 5).unwrap().input_bit, 800);
        assert_eq!(s.nearest(SPAN).unwrap().window().unwrap(), w);
        // a window larger than 1 % of the input read so far is not kept
        let mut x = 1u64;
        let noisy: Vec<u8> = (0..32 << 10)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (x >> 56) as u8
            })
            .collect();
        s.offer(Point::with_window(900, 2 * SPAN, &noisy).unwrap(), 1 << 20);
        assert_eq!(s.points(), 2);
        assert_eq!(s.next_wanted(), 3 * SPAN);
    }
}
