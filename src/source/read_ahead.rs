//! A reader that reads its source on a thread of its own, a few buffers ahead: for a layer
//! blob that is inflated on one core, the kernel's copy out of the page cache (or the
//! network stack's) happens on the other core instead of on the inflating thread, which is
//! the critical path of a compressed layer (docs/benchmarks.md: about 0.35 s of the 484 MB
//! gzip blob's 2.6 s).

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Bytes per buffer.
const CHUNK: usize = 256 * 1024;
/// Buffers read ahead at most (memory: `AHEAD + 2` buffers).
const AHEAD: usize = 4;

type Filled = io::Result<(Vec<u8>, usize)>;

/// Reads `inner` ahead on a thread; the reads here take from the filled buffers in order.
pub struct ReadAhead {
    filled: Option<Receiver<Filled>>,
    empty: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    len: usize,
    pos: usize,
    done: bool,
}

impl ReadAhead {
    pub fn new(inner: Box<dyn Read + Send>) -> ReadAhead {
        let (tx, filled) = sync_channel::<Filled>(AHEAD);
        let (empty, spare) = sync_channel::<Vec<u8>>(AHEAD + 2);
        // not joined: dropped early, this reader lets go of the receiver and the thread ends
        // after the read it is in (waiting for it could mean a network read's timeout); a
        // thread that did not start drops `tx`, and the first read here says so
        let _ = std::thread::Builder::new()
            .name("bathy-read-ahead".into())
            .spawn(move || fill(inner, &tx, &spare));
        ReadAhead {
            filled: Some(filled),
            empty,
            current: Vec::new(),
            len: 0,
            pos: 0,
            done: false,
        }
    }
}

/// The thread: fill buffers (returned ones first) until the end, an error, or the reader is
/// gone.
fn fill(mut inner: Box<dyn Read + Send>, tx: &SyncSender<Filled>, spare: &Receiver<Vec<u8>>) {
    loop {
        let mut buf = spare.try_recv().unwrap_or_else(|_| vec![0; CHUNK]);
        let mut len = 0;
        let res = loop {
            if len == buf.len() {
                break Ok(());
            }
            match inner.read(&mut buf[len..]) {
                Ok(0) => break Ok(()),
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        let end = len < buf.len();
        let msg = match res {
            Ok(()) => Ok((buf, len)),
            Err(e) => Err(e),
        };
        let failed = msg.is_err();
        if tx.send(msg).is_err() || end || failed {
            return;
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.len {
            if self.done || out.is_empty() {
                return Ok(0);
            }
            let next = self.filled.as_ref().and_then(|rx| rx.recv().ok());
            let (buf, len) = match next {
                Some(Ok(filled)) => filled,
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                None => {
                    self.done = true;
                    return Err(io::Error::other("the read-ahead thread stopped"));
                }
            };
            let old = std::mem::replace(&mut self.current, buf);
            if !old.is_empty() {
                let _ = self.empty.try_send(old);
            }
            self.done = len < self.current.len();
            self.len = len;
            self.pos = 0;
            if len == 0 {
                return Ok(0);
            }
        }
        let n = (self.len - self.pos).min(out.len());
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives at most `step` bytes a call, then fails at `fail_at` if set; says
    /// when it is dropped.
    struct Drip {
        data: Vec<u8>,
        at: usize,
        step: usize,
        fail_at: Option<usize>,
        dropped: Option<std::sync::mpsc::Sender<()>>,
    }

    impl Drop for Drip {
        fn drop(&mut self) {
            if let Some(tx) = &self.dropped {
                let _ = tx.send(());
            }
        }
    }

    fn drip(data: Vec<u8>, step: usize, fail_at: Option<usize>) -> Drip {
        Drip {
            data,
            at: 0,
            step,
            fail_at,
            dropped: None,
        }
    }

    impl Read for Drip {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.fail_at.is_some_and(|f| self.at >= f) {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.step.min(out.len()).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn gives_every_byte_in_order() {
        for (len, step) in [
            (0, 7),
            (1, 1),
            (CHUNK, 4096),
            (3 * CHUNK + 17, 1000),
            (10 * CHUNK, CHUNK),
        ] {
            let want = data(len);
            let drip = drip(want.clone(), step, None);
            let mut got = Vec::new();
            ReadAhead::new(Box::new(drip))
                .read_to_end(&mut got)
                .expect("read");
            assert!(got == want, "len {len} step {step}");
        }
    }

    #[test]
    fn passes_an_error_on_after_the_bytes_before_it() {
        let want = data(5 * CHUNK);
        let drip = drip(want.clone(), 10_000, Some(2 * CHUNK + 5));
        let mut r = ReadAhead::new(Box::new(drip));
        let mut got = vec![0u8; 2 * CHUNK];
        r.read_exact(&mut got).expect("the bytes before the error");
        assert!(got == want[..2 * CHUNK]);
        let mut rest = Vec::new();
        let e = r.read_to_end(&mut rest).expect_err("the error");
        assert!(e.to_string().contains("disk on fire"), "{e}");
    }

    #[test]
    fn dropped_early_its_thread_ends() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut d = drip(data(100 * CHUNK), CHUNK, None);
        d.dropped = Some(tx);
        let mut r = ReadAhead::new(Box::new(d));
        let mut one = [0u8; 10];
        r.read_exact(&mut one).expect("read");
        drop(r);
        // the thread drops its source when it ends
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the read-ahead thread ended");
    }
}
