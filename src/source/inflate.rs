//! gzip inflate with ISA-L's igzip, when the build found the system's library (build.rs;
//! about a quarter less CPU than zlib-rs on the corpus's 484 MB layer, docs/benchmarks.md).
//! Without it gzip layers inflate with zlib-rs through flate2. ISA-L is reached through a
//! small C shim (src/source/isal_shim.c) compiled against the system's header, so nothing
//! here depends on the layout of ISA-L's state. Holds the crate's calls into that C code.

use std::ffi::{c_int, c_void};
use std::io::{self, BufRead, Read};
use std::ptr::NonNull;

extern "C" {
    fn bathy_isal_new() -> *mut c_void;
    fn bathy_isal_free(state: *mut c_void);
    fn bathy_isal_reset(state: *mut c_void);
    fn bathy_isal_finished(state: *const c_void) -> c_int;
    #[allow(clippy::too_many_arguments)]
    fn bathy_isal_inflate(
        state: *mut c_void,
        input: *const u8,
        in_len: u32,
        used: *mut u32,
        out: *mut u8,
        out_len: u32,
        made: *mut u32,
        finished: *mut c_int,
    ) -> c_int;
}

/// ISA-L's error codes (igzip_lib.h).
const ISAL_INVALID_BLOCK: c_int = -1;
const ISAL_INVALID_SYMBOL: c_int = -2;
const ISAL_INVALID_LOOKBACK: c_int = -3;
const ISAL_INVALID_WRAPPER: c_int = -4;
const ISAL_UNSUPPORTED_METHOD: c_int = -5;
const ISAL_INCORRECT_CHECKSUM: c_int = -6;

/// One ISA-L decoder state, owned (freed on drop).
struct State(NonNull<c_void>);

// SAFETY: the state is plain memory owned by this value alone; ISA-L keeps no thread-local
// or shared data in it, so it may move to another thread.
unsafe impl Send for State {}

impl Drop for State {
    fn drop(&mut self) {
        // SAFETY: made by bathy_isal_new, freed once
        unsafe { bathy_isal_free(self.0.as_ptr()) }
    }
}

/// A decoder of concatenated gzip members over a buffered reader (as
/// `flate2::bufread::MultiGzDecoder`), checking each member's CRC-32 and length.
pub struct IsalGzDecoder<R: BufRead> {
    inner: R,
    state: State,
}

impl<R: BufRead> IsalGzDecoder<R> {
    pub fn new(inner: R) -> Self {
        // SAFETY: no arguments; returns a fresh state or NULL
        let raw = unsafe { bathy_isal_new() };
        let Some(state) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<[u8; 1 << 16]>())
        };
        IsalGzDecoder {
            inner,
            state: State(state),
        }
    }

    /// The reader, positioned after the last byte the decoder used.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn member_finished(&self) -> bool {
        // SAFETY: a live state
        unsafe { bathy_isal_finished(self.state.0.as_ptr()) != 0 }
    }
}

fn corrupt(code: c_int) -> io::Error {
    let what = match code {
        ISAL_INVALID_BLOCK => "invalid deflate block",
        ISAL_INVALID_SYMBOL => "invalid deflate symbol",
        ISAL_INVALID_LOOKBACK => "invalid back-reference distance",
        ISAL_INVALID_WRAPPER => "invalid gzip header",
        ISAL_UNSUPPORTED_METHOD => "unsupported gzip compression method",
        ISAL_INCORRECT_CHECKSUM => "gzip CRC-32 or length mismatch",
        _ => "inflate failed",
    };
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{what} (ISA-L code {code})"),
    )
}

impl<R: BufRead> Read for IsalGzDecoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let finished = self.member_finished();
            let input = self.inner.fill_buf()?;
            if finished {
                if input.is_empty() {
                    return Ok(0);
                }
                // another member follows
                // SAFETY: a live state
                unsafe { bathy_isal_reset(self.state.0.as_ptr()) };
            }
            let avail_in = input.len().min(u32::MAX as usize) as u32;
            let avail_out = out.len().min(u32::MAX as usize) as u32;
            let (mut used, mut made, mut ended) = (0u32, 0u32, 0 as c_int);
            // SAFETY: input/avail_in and out/avail_out describe live buffers that the call
            // reads and writes only within; the shim leaves no pointer to them in the state
            let ret = unsafe {
                bathy_isal_inflate(
                    self.state.0.as_ptr(),
                    input.as_ptr(),
                    avail_in,
                    &mut used,
                    out.as_mut_ptr(),
                    avail_out,
                    &mut made,
                    &mut ended,
                )
            };
            let (used, made) = (used.min(avail_in) as usize, made.min(avail_out) as usize);
            self.inner.consume(used);
            if ret < 0 {
                return Err(corrupt(ret));
            }
            if made > 0 {
                return Ok(made);
            }
            if ended != 0 {
                continue;
            }
            if avail_in == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "gzip stream ends early",
                ));
            }
            if used == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "inflate makes no progress",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("compress");
        e.finish().expect("compress")
    }

    fn inflate(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        IsalGzDecoder::new(io::BufReader::with_capacity(7, bytes)).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn inflates_what_flate2_deflates_and_concatenated_members() {
        let a: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut both = gz(&a);
        both.extend_from_slice(&gz(b"second member"));
        let mut want = a.clone();
        want.extend_from_slice(b"second member");
        assert_eq!(inflate(&both).expect("inflate"), want);
    }

    #[test]
    fn refuses_truncated_and_damaged_streams() {
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 7).to_le_bytes())
            .collect();
        let z = gz(&data);
        let cut = inflate(&z[..z.len() - 3]).expect_err("truncated");
        assert_eq!(cut.kind(), io::ErrorKind::UnexpectedEof);
        let mut bad = z.clone();
        let n = bad.len();
        bad[n - 6] ^= 0x55; // the CRC-32 in the trailer
        let e = inflate(&bad).expect_err("damaged");
        assert!(e.to_string().contains("CRC-32"), "{e}");
        let mut trailing = z;
        trailing.extend_from_slice(b"not gzip");
        assert!(inflate(&trailing).is_err());
    }

    /// ISA-L and zlib-rs (flate2, an independent implementation) agree on members of every
    /// size and level, read through buffers of odd sizes.
    #[test]
    fn agrees_with_flate2() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for case in 0..40u32 {
            let mut bytes = Vec::new();
            let mut want = Vec::new();
            for member in 0..(1 + case % 3) {
                let len = (case * 7919 + member * 104_729) as usize % 300_000;
                let data: Vec<u8> = (0..len)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // runs and noise, so both literals and matches occur
                        if i % 64 < 40 {
                            (i / 64) as u8
                        } else {
                            seed as u8
                        }
                    })
                    .collect();
                let level = flate2::Compression::new(case % 10);
                let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
                e.write_all(&data).expect("compress");
                bytes.extend_from_slice(&e.finish().expect("compress"));
                want.extend_from_slice(&data);
            }
            let mut flate = Vec::new();
            flate2::bufread::MultiGzDecoder::new(bytes.as_slice())
                .read_to_end(&mut flate)
                .expect("flate2");
            assert_eq!(flate, want, "case {case}: flate2");
            let mut out = Vec::new();
            let reader = io::BufReader::with_capacity(1 + case as usize * 997, bytes.as_slice());
            IsalGzDecoder::new(reader)
                .read_to_end(&mut out)
                .expect("isal");
            assert!(out == want, "case {case}: ISA-L differs from flate2");
        }
    }
}
