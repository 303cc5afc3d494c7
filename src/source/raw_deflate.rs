//! A raw deflate stream (no gzip or zlib wrapper) decoded through zlib-rs's zlib interface, for
//! what the plain decoders cannot do: stop at a deflate block boundary and say the exact bit
//! position there, read out the 32 KiB window, and start in the middle of a stream from a bit
//! position with a given window (the zran technique: access points into a gzip layer, and
//! decoding one stream on several cores). The only `unsafe` of this module is the calls into
//! zlib-rs's C-style functions, each on a stream this type initialised and owns.

use libz_rs_sys as z;
use std::fmt;

/// The deflate window: the most a back-reference can reach.
pub const WINDOW: usize = 32 * 1024;

/// Why the stream could not go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDeflateError(String);

impl fmt::Display for RawDeflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RawDeflateError {}

/// What one [`RawInflate::inflate`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Input bytes used (all of them are now inside the decoder).
    pub consumed: usize,
    /// Output bytes written.
    pub produced: usize,
    /// The decoder stopped at a block boundary (only when asked to, with `stop_at_block`).
    pub at_block_boundary: bool,
    /// At that boundary, the block just finished was the stream's last one.
    pub last_block: bool,
    /// The final block ended: the deflate stream is complete.
    pub stream_end: bool,
}

/// A raw inflate stream. Boxed: zlib's state points back at its stream, which must not move.
pub struct RawInflate {
    strm: Box<z::z_stream>,
}

// SAFETY: the stream and the state it owns are only reached through `&mut self` (or `&self`
// for reads); nothing in them is tied to a thread.
unsafe impl Send for RawInflate {}

fn code_error(what: &str, code: i32) -> RawDeflateError {
    let why = match code {
        z::Z_DATA_ERROR => "invalid deflate data",
        z::Z_MEM_ERROR => "out of memory",
        z::Z_STREAM_ERROR => "inconsistent stream state",
        z::Z_NEED_DICT => "a preset dictionary is needed",
        _ => "failed",
    };
    RawDeflateError(format!("{what}: {why} (zlib code {code})"))
}

impl RawInflate {
    /// A decoder of a raw deflate stream with the full 32 KiB window.
    pub fn new() -> Result<Self, RawDeflateError> {
        let mut strm = Box::new(z::z_stream::default());
        let size = i32::try_from(std::mem::size_of::<z::z_stream>()).unwrap_or(i32::MAX);
        // SAFETY: `strm` is a valid, default (zeroed allocator fields) stream; the version
        // string is zlib-rs's own, NUL-terminated.
        let code = unsafe { z::inflateInit2_(&mut *strm, -15, z::zlibVersion(), size) };
        if code != z::Z_OK {
            return Err(code_error("inflate init", code));
        }
        Ok(RawInflate { strm })
    }

    /// Feeds `bits` (0..=16) bits of `value`, low bits first, before the next input byte: how
    /// a stream that starts in the middle of a byte is resumed.
    pub fn prime(&mut self, bits: u8, value: u32) -> Result<(), RawDeflateError> {
        if bits == 0 {
            return Ok(());
        }
        let value = i32::try_from(value & ((1u32 << bits) - 1)).unwrap_or(0);
        // SAFETY: the stream was initialised by `new` and is exclusively borrowed.
        let code = unsafe { z::inflatePrime(&mut *self.strm, i32::from(bits), value) };
        if code != z::Z_OK {
            return Err(code_error("inflate prime", code));
        }
        Ok(())
    }

    /// Sets the window the next back-references read from (at most the last 32 KiB are used).
    pub fn set_window(&mut self, window: &[u8]) -> Result<(), RawDeflateError> {
        let tail = &window[window.len().saturating_sub(WINDOW)..];
        let len = u32::try_from(tail.len()).unwrap_or(0);
        // SAFETY: the stream was initialised by `new`; `tail` is valid for `len` bytes.
        let code = unsafe { z::inflateSetDictionary(&mut *self.strm, tail.as_ptr(), len) };
        if code != z::Z_OK {
            return Err(code_error("inflate set window", code));
        }
        Ok(())
    }

    /// The current window: the last (up to) 32 KiB of output.
    pub fn window(&self) -> Vec<u8> {
        let mut buf = vec![0u8; WINDOW];
        let mut len: u32 = 0;
        // SAFETY: the stream was initialised by `new`; `buf` holds the 32 KiB that zlib writes
        // at most, and `len` is a valid place for the length.
        let code = unsafe { z::inflateGetDictionary(&*self.strm, buf.as_mut_ptr(), &mut len) };
        if code != z::Z_OK {
            return Vec::new();
        }
        buf.truncate(len as usize);
        buf
    }

    /// Input bytes taken so far.
    pub fn total_in(&self) -> u64 {
        self.strm.total_in
    }

    /// Output bytes given so far.
    pub fn total_out(&self) -> u64 {
        self.strm.total_out
    }

    /// Bits taken from the input that the decoder has not used yet. zlib keeps fewer than 8,
    /// zlib-rs up to 63 (its bit buffer is 64 bits wide): the low 6 bits of `data_type` hold the
    /// count, the flags start at bit 6 (64: last block).
    pub fn unused_bits(&self) -> u8 {
        (self.strm.data_type & 63) as u8
    }

    /// The exact position in the input, in bits, after the last call: the bits of the last
    /// byte taken that the decoder has not used yet are subtracted. Only exact at a block
    /// boundary (a call with `stop_at_block` that returned `at_block_boundary`).
    pub fn bit_position(&self) -> u64 {
        self.strm.total_in * 8 - u64::from(self.unused_bits())
    }

    /// Decodes from `input` into `output`. With `stop_at_block`, returns at the end of each
    /// deflate block (and right after the block header) so the caller can note the position.
    pub fn inflate(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        stop_at_block: bool,
    ) -> Result<Step, RawDeflateError> {
        let avail_in = u32::try_from(input.len()).unwrap_or(u32::MAX);
        let avail_out = u32::try_from(output.len()).unwrap_or(u32::MAX);
        self.strm.next_in = input.as_ptr();
        self.strm.avail_in = avail_in;
        self.strm.next_out = output.as_mut_ptr();
        self.strm.avail_out = avail_out;
        let flush = if stop_at_block {
            z::Z_BLOCK
        } else {
            z::Z_NO_FLUSH
        };
        // SAFETY: the stream was initialised by `new`; next_in/next_out point into `input` and
        // `output`, valid for the lengths given, and are not kept past this call.
        let code = unsafe { z::inflate(&mut *self.strm, flush) };
        let consumed = (avail_in - self.strm.avail_in) as usize;
        let produced = (avail_out - self.strm.avail_out) as usize;
        self.strm.next_in = std::ptr::null();
        self.strm.avail_in = 0;
        self.strm.next_out = std::ptr::null_mut();
        self.strm.avail_out = 0;
        let stream_end = match code {
            z::Z_OK | z::Z_BUF_ERROR => false,
            z::Z_STREAM_END => true,
            other => {
                let msg = format!(
                    "{} at input byte {}",
                    code_error("inflate", other),
                    self.strm.total_in
                );
                return Err(RawDeflateError(msg));
            }
        };
        let dt = self.strm.data_type;
        Ok(Step {
            consumed,
            produced,
            // bit 7: stopped at a block boundary (or right after a block header, bit 8 set
            // too, which is not a place to resume from)
            at_block_boundary: stop_at_block && dt & 128 != 0 && dt & 256 == 0,
            last_block: dt & 64 != 0,
            stream_end,
        })
    }
}

impl Drop for RawInflate {
    fn drop(&mut self) {
        // SAFETY: the stream was initialised by `new` and is not used after this.
        unsafe {
            z::inflateEnd(&mut *self.strm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::test_data::sample;
    use std::io::Write;

    /// A raw deflate stream of `data` with a full flush every `every` bytes, so it holds many
    /// blocks (flate2's encoder: an independent implementation of the writing side).
    fn deflate(data: &[u8], every: usize) -> Vec<u8> {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
        for part in data.chunks(every) {
            enc.write_all(part).unwrap();
            enc.flush().unwrap();
        }
        enc.finish().unwrap()
    }

    /// A block boundary: its bit position, the output before it, the window there.
    type Point = (u64, usize, Vec<u8>);

    /// Every block boundary of the stream, and the whole output.
    fn boundaries(comp: &[u8]) -> (Vec<u8>, Vec<Point>) {
        let mut inf = RawInflate::new().unwrap();
        let mut out = Vec::new();
        let mut points = Vec::new();
        let mut buf = vec![0u8; 4096];
        let mut pos = 0;
        loop {
            let step = inf.inflate(&comp[pos..], &mut buf, true).unwrap();
            pos += step.consumed;
            out.extend_from_slice(&buf[..step.produced]);
            if step.stream_end {
                break;
            }
            if step.at_block_boundary && !step.last_block {
                points.push((inf.bit_position(), out.len(), inf.window()));
            }
        }
        (out, points)
    }

    #[test]
    fn decodes_a_whole_stream() {
        let data = sample(300_000, 7);
        let (out, points) = boundaries(&deflate(&data, 50_000));
        assert_eq!(out, data);
        assert!(points.len() >= 5, "{} boundaries", points.len());
    }

    #[test]
    fn resumes_at_every_block_boundary_from_its_bit_position_and_window() {
        let data = sample(300_000, 7);
        let comp = deflate(&data, 37_000);
        let (_, points) = boundaries(&comp);
        for (bit, out_at, window) in points {
            assert_eq!(window.len(), out_at.min(WINDOW));
            assert_eq!(window[..], data[out_at - window.len()..out_at]);
            let mut inf = RawInflate::new().unwrap();
            let (byte, rem) = ((bit / 8) as usize, (bit % 8) as u8);
            let mut start = byte;
            if rem != 0 {
                inf.prime(8 - rem, u32::from(comp[byte]) >> rem).unwrap();
                start += 1;
            }
            inf.set_window(&window).unwrap();
            let mut out = vec![0u8; data.len() - out_at + 16];
            let step = inf.inflate(&comp[start..], &mut out, false).unwrap();
            assert!(step.stream_end, "resume at bit {bit}");
            assert_eq!(
                &out[..step.produced],
                &data[out_at..],
                "resume at bit {bit}"
            );
        }
    }

    #[test]
    fn bad_data_is_an_error_not_a_panic() {
        let mut inf = RawInflate::new().unwrap();
        let mut out = vec![0u8; 1024];
        let err = inf.inflate(&[0xff; 64], &mut out, false).unwrap_err();
        assert!(err.to_string().contains("invalid deflate data"), "{err}");
    }
}
