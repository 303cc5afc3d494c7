//! A zstd reader that notes where frames start, the zstd side of
//! [`crate::source::seek_index`]: a frame is decoded without anything before it, so each frame
//! start is an access point with no window. A layer written as several frames (zstd:chunked
//! writes one or more per file; `zstd --rsyncable` and many encoders' multi-threaded modes cut
//! frames too) is then read from the frame before any file; a layer of one frame (what `zstd`
//! and `docker` write by default) can only be decoded from its start: libzstd cannot resume
//! inside a frame.

use super::seek_index::{LayerSeek, Point, SPAN};
use std::io::{self, BufRead, Read};
use std::sync::Arc;
use zstd::stream::raw::{Decoder, Operation};

/// Concatenated zstd frames (and skippable frames) decoded from `inner`.
pub struct ZstdReader<R: BufRead> {
    inner: R,
    dec: Decoder<'static>,
    /// Blob bytes taken from `inner`, counted from the blob's first byte.
    in_pos: u64,
    /// Output bytes given, counted from the layer's first.
    out_pos: u64,
    /// The decoder stands between two frames (or at the start).
    between: bool,
    seek: Arc<LayerSeek>,
    /// Output offset from which the next point is wanted (cached from `seek`).
    next_at: u64,
}

impl<R: BufRead> ZstdReader<R> {
    /// Decode from the blob's start, recording frame starts into `seek`.
    pub fn recording(inner: R, seek: Arc<LayerSeek>) -> io::Result<Self> {
        Ok(ZstdReader {
            inner,
            dec: Decoder::new()?,
            in_pos: 0,
            out_pos: 0,
            between: true,
            next_at: seek.next_wanted().max(SPAN),
            seek,
        })
    }

    /// Decode from the frame at point `p`; `inner` is the blob positioned at its first byte.
    pub fn resume(inner: R, p: &Point, seek: Arc<LayerSeek>) -> io::Result<Self> {
        let mut r = ZstdReader::recording(inner, seek)?;
        r.in_pos = p.input_bit / 8;
        r.out_pos = p.output;
        Ok(r)
    }

    /// The reader, after the last byte the decoder used.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: BufRead> Read for ZstdReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.inner.fill_buf()?;
            if input.is_empty() {
                if self.between {
                    return Ok(0);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "zstd stream ends inside a frame",
                ));
            }
            if self.between && self.out_pos >= self.next_at {
                self.seek
                    .offer(Point::frame(self.in_pos, self.out_pos), self.in_pos);
                self.next_at = self.seek.next_wanted().max(self.out_pos + 1);
            }
            let st = self.dec.run_on_buffers(input, out).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("corrupt zstd stream at blob byte {}: {e}", self.in_pos),
                )
            })?;
            self.inner.consume(st.bytes_read);
            self.in_pos += st.bytes_read as u64;
            self.out_pos += st.bytes_written as u64;
            self.seek.add_decoded(st.bytes_written as u64);
            // a hint of 0: the frame is decoded and flushed, the next byte starts another
            self.between = st.remaining == 0;
            if st.bytes_written > 0 {
                return Ok(st.bytes_written);
            }
            if st.bytes_read == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "zstd decoder makes no progress",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::test_data::{read_all, sample};

    #[test]
    fn frame_starts_are_points_that_decode_to_the_same_bytes() {
        let data = sample(13 << 20, 9);
        let mut blob = Vec::new();
        for part in data.chunks(1 << 20) {
            blob.extend_from_slice(&zstd::encode_all(part, 1).unwrap());
            // a skippable frame between two, as zstd:chunked writes its manifest
            blob.extend_from_slice(&0x184D_2A50u32.to_le_bytes());
            blob.extend_from_slice(&3u32.to_le_bytes());
            blob.extend_from_slice(b"abc");
        }
        let seek = Arc::new(LayerSeek::default());
        let r = ZstdReader::recording(io::BufReader::new(&blob[..]), seek.clone()).unwrap();
        assert_eq!(read_all(r).unwrap(), data);
        assert_eq!(seek.points(), 3, "one point per 4 MiB of frames");
        for at in [SPAN, 2 * SPAN, 3 * SPAN, 13 << 20] {
            let p = seek.nearest(at).unwrap();
            assert!(at - p.output < SPAN);
            let byte = (p.input_bit / 8) as usize;
            let got = read_all(ZstdReader::resume(&blob[byte..], &p, seek.clone()).unwrap());
            assert_eq!(
                got.unwrap()[..],
                data[p.output as usize..],
                "from {}",
                p.output
            );
        }
    }

    #[test]
    fn a_cut_or_damaged_stream_is_an_error() {
        let blob = zstd::encode_all(&sample(300_000, 1)[..], 3).unwrap();
        let seek = Arc::new(LayerSeek::default());
        let cut = &blob[..blob.len() - 10];
        let e = read_all(ZstdReader::recording(cut, seek.clone()).unwrap()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
        let mut bad = blob.clone();
        bad[0] ^= 0xff;
        let e = read_all(ZstdReader::recording(&bad[..], seek).unwrap()).unwrap_err();
        assert!(e.to_string().contains("corrupt zstd stream"), "{e}");
    }
}
