//! A gzip reader (one member or several, concatenated) over [`RawInflate`] that can record
//! access points as it goes and start again at one: the gzip side of
//! [`crate::source::seek_index`]. Each member's header is parsed here and its CRC-32 and length
//! (ISIZE) are checked, as the loader's decoder does; a member entered at an access point
//! cannot be checked (its start was not read) and is read unchecked to its end, the members
//! after it checked again.

use super::raw_deflate::RawInflate;
use super::seek_index::{LayerSeek, Point, SPAN};
use std::io::{self, BufRead, Read};
use std::sync::Arc;

const FTEXT_FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const RESERVED: u8 = 0xe0;

/// Where the reader stands in the gzip stream.
enum State {
    /// Before a member's header, or at the end of the blob.
    Header,
    Deflate {
        inf: Box<RawInflate>,
        /// The blob offset of the first byte given to `inf`.
        base: u64,
        /// The member's CRC-32 so far; None when entered at an access point.
        crc: Option<flate2::Crc>,
    },
    Trailer {
        crc: Option<flate2::Crc>,
    },
    Done,
}

/// Concatenated gzip members decoded from `inner`.
pub struct GzipReader<R: BufRead> {
    inner: R,
    /// Blob bytes taken from `inner` (counted from the blob's first byte).
    in_pos: u64,
    /// Output bytes given so far (counted from the layer's first).
    out_pos: u64,
    state: State,
    members: u64,
    /// Where to record points and count output; `record` says whether to look for points.
    seek: Option<Arc<LayerSeek>>,
    record: bool,
    /// Output offset from which the next point is wanted (cached from `seek`).
    next_at: u64,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn early_end() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "gzip stream ends early")
}

impl<R: BufRead> GzipReader<R> {
    /// Decode the blob from its start, checking every member.
    pub fn new(inner: R) -> Self {
        GzipReader {
            inner,
            in_pos: 0,
            out_pos: 0,
            state: State::Header,
            members: 0,
            seek: None,
            record: false,
            next_at: u64::MAX,
        }
    }

    /// Decode the blob from its start and record access points into `seek` on the way.
    pub fn recording(inner: R, seek: Arc<LayerSeek>) -> Self {
        let mut r = GzipReader::new(inner);
        r.next_at = seek.next_wanted().max(SPAN);
        r.seek = Some(seek);
        r.record = true;
        r
    }

    /// Decode from access point `p`; `inner` is the blob positioned at the byte that holds
    /// `p`'s first bit. Points past `seek`'s last one are recorded on the way.
    pub fn resume(mut inner: R, p: &Point, seek: Arc<LayerSeek>) -> io::Result<Self> {
        let mut inf = RawInflate::new().map_err(io::Error::other)?;
        let mut base = p.input_bit / 8;
        let rem = (p.input_bit % 8) as u8;
        if rem != 0 {
            let mut b = [0u8; 1];
            inner.read_exact(&mut b).map_err(|_| early_end())?;
            inf.prime(8 - rem, u32::from(b[0]) >> rem)
                .map_err(io::Error::other)?;
            base += 1;
        }
        let window = p.window()?;
        if !window.is_empty() {
            inf.set_window(&window).map_err(io::Error::other)?;
        }
        let mut r = GzipReader::recording(inner, seek);
        r.in_pos = base;
        r.out_pos = p.output;
        r.members = 1;
        r.state = State::Deflate {
            inf: Box::new(inf),
            base,
            crc: None,
        };
        Ok(r)
    }

    /// The reader, after the last byte the decoder used.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Output bytes given so far, from the layer's first.
    pub fn output_position(&self) -> u64 {
        self.out_pos
    }

    fn take(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => early_end(),
            _ => e,
        })?;
        self.in_pos += buf.len() as u64;
        Ok(())
    }

    /// Skip a NUL-terminated header field (a name or a comment), however long.
    fn skip_zero_terminated(&mut self) -> io::Result<()> {
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Err(early_end());
            }
            let (n, found) = match buf.iter().position(|&b| b == 0) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            self.inner.consume(n);
            self.in_pos += n as u64;
            if found {
                return Ok(());
            }
        }
    }

    /// A member's header (RFC 1952), up to its deflate data.
    fn read_header(&mut self) -> io::Result<()> {
        let mut h = [0u8; 10];
        let member = self.members + 1;
        let at = self.in_pos;
        // the magic first, so trailing bytes that are not gzip say so however few they are
        self.take(&mut h[..2])
            .and_then(|()| match h[..2] {
                [0x1f, 0x8b] => Ok(()),
                _ => Err(invalid(String::new())),
            })
            .map_err(|_| {
                invalid(format!(
                    "gzip member {member} at byte {at}: not a gzip header"
                ))
            })?;
        self.take(&mut h[2..])?;
        if h[2] != 8 {
            return Err(invalid(format!(
                "gzip member {member}: unsupported compression method {}",
                h[2]
            )));
        }
        let flags = h[3];
        if flags & RESERVED != 0 {
            return Err(invalid(format!(
                "gzip member {member}: reserved header flags set"
            )));
        }
        if flags & FEXTRA != 0 {
            let mut len = [0u8; 2];
            self.take(&mut len)?;
            let mut left = u64::from(u16::from_le_bytes(len));
            let got = io::copy(&mut (&mut self.inner).take(left), &mut io::sink())?;
            self.in_pos += got;
            left -= got;
            if left > 0 {
                return Err(early_end());
            }
        }
        if flags & FNAME != 0 {
            self.skip_zero_terminated()?;
        }
        if flags & FCOMMENT != 0 {
            self.skip_zero_terminated()?;
        }
        if flags & FTEXT_FHCRC != 0 {
            self.take(&mut [0u8; 2])?;
        }
        self.members = member;
        Ok(())
    }

    /// The member's trailer: CRC-32 and length of its output, checked when known.
    fn read_trailer(&mut self, crc: Option<flate2::Crc>) -> io::Result<()> {
        let mut t = [0u8; 8];
        self.take(&mut t)?;
        let Some(crc) = crc else { return Ok(()) };
        let member = self.members;
        let (want_crc, want_len) = (
            u32::from_le_bytes([t[0], t[1], t[2], t[3]]),
            u32::from_le_bytes([t[4], t[5], t[6], t[7]]),
        );
        if crc.sum() != want_crc {
            return Err(invalid(format!(
                "gzip member {member}: CRC-32 mismatch (trailer {want_crc:08x}, data {:08x})",
                crc.sum()
            )));
        }
        if crc.amount() != want_len {
            return Err(invalid(format!(
                "gzip member {member}: length mismatch (trailer {want_len}, data {})",
                crc.amount()
            )));
        }
        Ok(())
    }

    /// One inflate call into `out`; Ok(0) when it only moved the state on.
    fn inflate_some(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let State::Deflate { inf, base, crc } = &mut self.state else {
            return Ok(0);
        };
        let input = self.inner.fill_buf()?;
        if input.is_empty() {
            return Err(early_end());
        }
        let look = self.record && self.out_pos >= self.next_at;
        let step = inf.inflate(input, out, look).map_err(|e| {
            invalid(format!(
                "gzip member {}: {e} (blob byte {})",
                self.members, self.in_pos
            ))
        })?;
        self.inner.consume(step.consumed);
        self.in_pos += step.consumed as u64;
        self.out_pos += step.produced as u64;
        if let Some(c) = crc.as_mut() {
            c.update(&out[..step.produced]);
        }
        if let Some(s) = &self.seek {
            s.add_decoded(step.produced as u64);
        }
        if step.stream_end {
            let crc = crc.take();
            self.state = State::Trailer { crc };
        } else if look && step.at_block_boundary && !step.last_block {
            let bit = *base * 8 + inf.bit_position();
            let p = Point::with_window(bit, self.out_pos, &inf.window())?;
            if let Some(s) = &self.seek {
                s.offer(p, self.in_pos);
                self.next_at = s.next_wanted().max(self.out_pos + 1);
            }
        } else if step.consumed == 0 && step.produced == 0 && !look {
            return Err(invalid(format!(
                "gzip member {}: inflate makes no progress",
                self.members
            )));
        }
        Ok(step.produced)
    }
}

impl<R: BufRead> Read for GzipReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match &mut self.state {
                State::Done => return Ok(0),
                State::Header => {
                    // after the last member only the end of the blob may follow
                    if self.members > 0 && self.inner.fill_buf()?.is_empty() {
                        self.state = State::Done;
                        continue;
                    }
                    self.read_header()?;
                    let inf = RawInflate::new().map_err(io::Error::other)?;
                    self.state = State::Deflate {
                        inf: Box::new(inf),
                        base: self.in_pos,
                        crc: Some(flate2::Crc::new()),
                    };
                }
                State::Deflate { .. } => {
                    let n = self.inflate_some(out)?;
                    if n > 0 {
                        return Ok(n);
                    }
                }
                State::Trailer { crc } => {
                    let crc = crc.take();
                    self.read_trailer(crc)?;
                    self.state = State::Header;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::test_data::{read_all, sample};
    use std::io::Write;

    fn gz(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn decodes_members_and_records_points_that_resume_to_the_same_bytes() {
        let (a, b) = (sample(9 << 20, 1), sample(6 << 20, 2));
        let mut blob = gz(&a, 6);
        blob.extend_from_slice(&gz(&b, 1));
        let want = [a, b].concat();
        let seek = Arc::new(LayerSeek::default());
        let r = GzipReader::recording(io::BufReader::new(&blob[..]), seek.clone());
        assert_eq!(read_all(r).unwrap(), want);
        assert!(seek.points() >= 3, "{} points", seek.points());
        let (mem, _) = seek.memory();
        assert!(
            mem as u64 <= blob.len() as u64 / 100,
            "{mem} bytes of points"
        );
        let mut at = 0;
        while let Some(p) = seek.nearest(at) {
            if p.output < at.saturating_sub(SPAN) {
                break;
            }
            let byte = (p.input_bit / 8) as usize;
            let r = GzipReader::resume(&blob[byte..], &p, seek.clone()).unwrap();
            let got = read_all(r).unwrap();
            assert_eq!(got[..], want[p.output as usize..], "from {}", p.output);
            at = p.output + SPAN;
        }
    }

    #[test]
    fn poorly_compressible_data_still_gets_points_within_the_budget() {
        // random letters: about 0.6 compressed per byte, as in a layer of random text
        let mut x = 7u64;
        let data: Vec<u8> = (0..14 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b'a' + (x % 26) as u8
            })
            .collect();
        // level 6: zlib-rs's fastest level writes such data as one fixed-Huffman block for
        // megabytes, with no boundary to resume at (no encoder of container layers does)
        let blob = gz(&data, 6);
        let seek = Arc::new(LayerSeek::default());
        let r = GzipReader::recording(io::BufReader::new(&blob[..]), seek.clone());
        assert_eq!(read_all(r).unwrap(), data);
        let (mem, _) = seek.memory();
        assert!(
            seek.points() >= 3,
            "{} points, {mem} bytes, {} blob",
            seek.points(),
            blob.len()
        );
        assert!(
            mem as u64 <= blob.len() as u64 / 100,
            "{mem} bytes of points"
        );
    }

    #[test]
    fn header_fields_are_skipped() {
        let data = sample(100_000, 3);
        let mut e = flate2::GzBuilder::new()
            .filename("layer.tar")
            .comment("a comment")
            .extra(vec![1, 2, 3, 4])
            .write(Vec::new(), flate2::Compression::default());
        e.write_all(&data).unwrap();
        let blob = e.finish().unwrap();
        assert_eq!(read_all(GzipReader::new(&blob[..])).unwrap(), data);
    }

    #[test]
    fn damage_is_a_clear_error() {
        let data = sample(200_000, 4);
        let blob = gz(&data, 6);
        let n = blob.len();
        let cut = read_all(GzipReader::new(&blob[..n - 3])).unwrap_err();
        assert_eq!(cut.kind(), io::ErrorKind::UnexpectedEof, "{cut}");
        let mut bad = blob.clone();
        bad[n - 6] ^= 0x55;
        let e = read_all(GzipReader::new(&bad[..])).unwrap_err();
        assert!(e.to_string().contains("CRC-32 mismatch"), "{e}");
        let mut bad = blob.clone();
        bad[n - 2] ^= 0x01;
        let e = read_all(GzipReader::new(&bad[..])).unwrap_err();
        assert!(e.to_string().contains("length mismatch"), "{e}");
        let mut trailing = blob.clone();
        trailing.extend_from_slice(b"not gzip");
        let e = read_all(GzipReader::new(&trailing[..])).unwrap_err();
        assert!(e.to_string().contains("not a gzip header"), "{e}");
        let mut garbage = blob;
        for b in &mut garbage[20..60] {
            *b = 0xff;
        }
        assert!(read_all(GzipReader::new(&garbage[..])).is_err());
    }
}
