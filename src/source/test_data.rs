//! Test-only data for the decoders' unit tests (raw deflate, gzip access points, zstd frames).

use std::io::{self, Read};

/// Text-like bytes that compress about 3:1, as layers do; the same `seed` gives the same bytes.
pub fn sample(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|i| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if i % 5 < 3 {
                b"etc/usr/lib/bin "[(x >> 16) as usize % 16]
            } else {
                (x >> 24) as u8
            }
        })
        .collect()
}

/// Everything `r` gives, through a small buffer so reads end at awkward places.
pub fn read_all(r: impl Read) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    io::BufReader::with_capacity(1000, r).read_to_end(&mut out)?;
    Ok(out)
}
