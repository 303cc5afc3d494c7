//! sha256 of a layer's blob and of its uncompressed stream (the diff_id), on one thread of their
//! own beside the thread that reads, inflates and parses, so verifying overlaps the rest on the
//! core it does not use. The hashing thread is handed the very buffers the reader filled
//! (a [`Chunked`] reader's), not copies, and hands them back for reuse: no allocation per chunk.
//! One thread for both streams: with a reader beside it, two cores are busy, not three threads
//! fighting over two.

use sha2::{Digest, Sha256};
use std::io::{self, BufRead, Read};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};

/// Bytes per buffer: large enough that a hand-over costs nothing next to hashing it, small
/// enough that the buffers in flight stay in the shared cache.
pub const CHUNK: usize = 256 * 1024;
/// Buffers waiting for the hashing thread at most; past that the reader waits (memory stays
/// bounded when hashing is the slower side).
const QUEUE: usize = 8;

/// Which of the two digests a buffer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The blob's bytes as stored (compressed or not).
    Blob,
    /// The uncompressed tar stream (a compressed blob's diff_id).
    Diff,
}

/// Where a reader sends the buffers it has read through, and takes empty ones from.
#[derive(Clone)]
pub struct Feed {
    tx: SyncSender<(Stream, Vec<u8>, usize)>,
    spare: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Feed {
    /// An empty buffer of [`CHUNK`] bytes: a returned one, else a new one.
    fn buffer(&self) -> Vec<u8> {
        self.spare
            .lock()
            .ok()
            .and_then(|mut s| s.pop())
            .unwrap_or_else(|| vec![0; CHUNK])
    }

    /// Hash `buf[..len]` as the next bytes of `stream`.
    fn send(&self, stream: Stream, buf: Vec<u8>, len: usize) {
        // a send fails only if the hashing thread died; its join reports that
        let _ = self.tx.send((stream, buf, len));
    }
}

/// The two digests as `sha256:HEX`: (blob, diff). A stream sent nothing has the digest of no
/// bytes.
pub type Pair = (String, String);

/// Run `f` with a [`Feed`] to a hashing thread; then the digests of what was sent. The thread
/// lives inside this call (scoped): every [`Chunked`] made from the feed must be gone when `f`
/// returns, which it is when `f` owns them.
pub fn hashing<T>(f: impl FnOnce(&Feed) -> T) -> io::Result<(T, Pair)> {
    let (tx, rx) = sync_channel::<(Stream, Vec<u8>, usize)>(QUEUE);
    let spare: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let back = spare.clone();
    std::thread::scope(|s| {
        let worker = s.spawn(move || {
            let (mut blob, mut diff) = (Sha256::new(), Sha256::new());
            while let Ok((stream, buf, len)) = rx.recv() {
                let h = match stream {
                    Stream::Blob => &mut blob,
                    Stream::Diff => &mut diff,
                };
                h.update(&buf[..len.min(buf.len())]);
                if let Ok(mut s) = back.lock() {
                    s.push(buf);
                }
            }
            (hex_digest(blob), hex_digest(diff))
        });
        let feed = Feed { tx, spare };
        let out = f(&feed);
        // the last sender gone, the thread finishes its queue and ends
        drop(feed);
        let pair = worker
            .join()
            .map_err(|_| io::Error::other("the hashing thread failed"))?;
        Ok((out, pair))
    })
}

pub fn hex_digest(s: Sha256) -> String {
    format!("sha256:{}", hex::encode(s.finalize()))
}

/// A buffered reader over `inner` whose buffers, once read through, go to the hashing thread
/// (when it has a feed). Buffers are filled whole where the reader allows, so the thread gets
/// few large hand-overs. Call [`Chunked::finish`] after reading to the end: it sends the last
/// buffer.
pub struct Chunked<R> {
    inner: R,
    buf: Vec<u8>,
    filled: usize,
    pos: usize,
    feed: Option<(Feed, Stream)>,
}

impl<R: Read> Chunked<R> {
    pub fn new(inner: R, feed: Option<(&Feed, Stream)>) -> Chunked<R> {
        let buf = match feed {
            Some((f, _)) => f.buffer(),
            None => vec![0; CHUNK],
        };
        Chunked {
            inner,
            buf,
            filled: 0,
            pos: 0,
            feed: feed.map(|(f, s)| (f.clone(), s)),
        }
    }

    /// Hand the buffer (all of it read through) to the hashing thread and take an empty one.
    fn hand_over(&mut self) {
        if let Some((feed, stream)) = &self.feed {
            if self.filled > 0 {
                let full = std::mem::replace(&mut self.buf, feed.buffer());
                feed.send(*stream, full, self.filled);
            }
        }
        self.filled = 0;
        self.pos = 0;
    }

    /// Send what is left to hash; the reader, positioned where the buffer's last read ended.
    pub fn finish(mut self) -> R {
        self.hand_over();
        self.inner
    }
}

impl<R: Read> BufRead for Chunked<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            self.hand_over();
            while self.filled < self.buf.len() {
                match self.inner.read(&mut self.buf[self.filled..]) {
                    Ok(0) => break,
                    Ok(n) => self.filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.filled);
    }
}

impl<R: Read> Read for Chunked<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// sha256 of everything `r` gives, read on this thread and hashed on another (as `sha256:HEX`).
/// `cancelled` is asked between buffers.
pub fn sha256_of(r: impl Read, cancelled: &dyn Fn() -> bool) -> io::Result<String> {
    let (res, (blob, _)) = hashing(|feed| -> io::Result<()> {
        let mut c = Chunked::new(r, Some((feed, Stream::Blob)));
        loop {
            if cancelled() {
                return Err(io::Error::other("cancelled"));
            }
            let n = c.fill_buf()?.len();
            if n == 0 {
                break;
            }
            c.consume(n);
        }
        c.finish();
        Ok(())
    })?;
    res?;
    Ok(blob)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sha256 of `data` computed by the sha2 crate in one call, the independent reference.
    fn direct(data: &[u8]) -> String {
        hex_digest(Sha256::new_with_prefix(data))
    }

    /// A reader that gives at most `step` bytes a call, as a decoder or a socket does.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(self.1);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn both_streams_hash_what_was_read_through_across_many_buffers() {
        let blob: Vec<u8> = (0..(3 * CHUNK + 12_345) as u32)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let diff: Vec<u8> = blob.iter().rev().copied().collect();
        let ((), (b, d)) = hashing(|feed| {
            let mut a = Chunked::new(Trickle(&blob, 70_000), Some((feed, Stream::Blob)));
            let mut z = Chunked::new(&diff[..], Some((feed, Stream::Diff)));
            let (mut ra, mut rz) = (Vec::new(), Vec::new());
            // small interleaved reads, as a tar reader's headers and a decoder's input
            let mut small = [0u8; 511];
            loop {
                let n = a.read(&mut small).expect("read");
                ra.extend_from_slice(&small[..n]);
                let m = z.read(&mut small).expect("read");
                rz.extend_from_slice(&small[..m]);
                if n == 0 && m == 0 {
                    break;
                }
            }
            assert_eq!(ra, blob);
            assert_eq!(rz, diff);
            a.finish();
            z.finish();
        })
        .expect("hashing");
        assert_eq!(b, direct(&blob));
        assert_eq!(d, direct(&diff));
    }

    #[test]
    fn sha256_of_matches_and_an_empty_stream_has_the_empty_digest() {
        let data = vec![0x5a_u8; CHUNK * 2];
        assert_eq!(
            sha256_of(&data[..], &|| false).expect("hash"),
            direct(&data)
        );
        assert_eq!(
            sha256_of(io::empty(), &|| false).expect("hash"),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(sha256_of(&data[..], &|| true).is_err());
    }
}
