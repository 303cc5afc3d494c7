//! gzip inflate with ISA-L's igzip (the opt-in `isal` feature: 23 % less CPU than zlib-rs on
//! the corpus's 484 MB layer, but its build needs nasm and autotools). Without the feature,
//! gzip layers inflate with zlib-rs through flate2 (see docs/benchmarks.md for the comparison).
//! Holds the only `unsafe` code of the crate: the calls into the C library.

use isal_sys::igzip_lib as isal;
use std::io::{self, BufRead, Read};
use std::mem::MaybeUninit;

/// A decoder of concatenated gzip members over a buffered reader (as
/// `flate2::bufread::MultiGzDecoder`), checking each member's CRC-32 and length.
pub struct IsalGzDecoder<R: BufRead> {
    inner: R,
    /// Boxed: the state holds 64 KiB of history.
    state: Box<isal::inflate_state>,
}

impl<R: BufRead> IsalGzDecoder<R> {
    pub fn new(inner: R) -> Self {
        let mut state: Box<MaybeUninit<isal::inflate_state>> = Box::new_uninit();
        // SAFETY: isal_inflate_init writes every field the decoder reads before it reads it
        // (its documented way to make a state); the pointer is valid and exclusive.
        let mut state = unsafe {
            isal::isal_inflate_init(state.as_mut_ptr());
            state.assume_init()
        };
        state.crc_flag = isal::ISAL_GZIP;
        IsalGzDecoder { inner, state }
    }

    /// The reader, positioned after the last byte the decoder used.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

fn corrupt(code: i32) -> io::Error {
    let what = match code {
        isal::ISAL_INVALID_BLOCK => "invalid deflate block",
        isal::ISAL_INVALID_SYMBOL => "invalid deflate symbol",
        isal::ISAL_INVALID_LOOKBACK => "invalid back-reference distance",
        isal::ISAL_INVALID_WRAPPER => "invalid gzip header",
        isal::ISAL_UNSUPPORTED_METHOD => "unsupported gzip compression method",
        isal::ISAL_INCORRECT_CHECKSUM => "gzip CRC-32 or length mismatch",
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
            let finished = self.state.block_state == isal::isal_block_state_ISAL_BLOCK_FINISH;
            let input = self.inner.fill_buf()?;
            if finished {
                if input.is_empty() {
                    return Ok(0);
                }
                // another member follows
                // SAFETY: the state was initialised by isal_inflate_init
                unsafe { isal::isal_inflate_reset(&mut *self.state) };
            }
            let avail_in = input.len().min(u32::MAX as usize);
            let avail_out = out.len().min(u32::MAX as usize);
            self.state.next_in = input.as_ptr().cast_mut();
            self.state.avail_in = avail_in as u32;
            self.state.next_out = out.as_mut_ptr();
            self.state.avail_out = avail_out as u32;
            // SAFETY: next_in/avail_in and next_out/avail_out describe live buffers that the
            // call reads and writes only within; ISA-L copies what it keeps into the state
            let ret = unsafe { isal::isal_inflate(&mut *self.state) };
            let used = avail_in - self.state.avail_in as usize;
            let made = avail_out - self.state.avail_out as usize;
            // no pointers into buffers the state does not own outlive the call
            self.state.next_in = std::ptr::null_mut();
            self.state.next_out = std::ptr::null_mut();
            self.state.avail_in = 0;
            self.inner.consume(used);
            if ret < 0 {
                return Err(corrupt(ret));
            }
            if made > 0 {
                return Ok(made);
            }
            if self.state.block_state == isal::isal_block_state_ISAL_BLOCK_FINISH {
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
}
