//! Digests a load leaves running: the sha256 of uncompressed layers in an archive file, which
//! the layer parse does not need (it reads their headers only). With [`DigestsLater`] in the
//! load's options, those digests are computed on a thread of their own while the load ends and
//! the analyses run, and checked by [`DigestsLater::finish`], which the caller runs before it
//! reports anything. A `docker save` archive's largest layer is most of its bytes, so its
//! sha256 is the longest job of a first verifying read; the analyses after the load no longer
//! wait for it (docs/benchmarks.md).
//!
//! Only a layer whose expected digests are all `sha256:` is left running: the image model then
//! shows the expected digest, which is what the check proves it is, so nothing a front end
//! shows changes.

use super::verified::{BlobKey, Digests, VerifiedCache};
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Where a load leaves the digests it did not wait for; see the module's text.
#[derive(Debug, Default)]
pub struct DigestsLater {
    pending: Mutex<Vec<Pending>>,
}

impl DigestsLater {
    /// Wait for every digest left running and check it: the first mismatch or read error, as
    /// the load itself would have reported it. The verification cache learns the ones that
    /// matched.
    pub fn finish(&self) -> Result<()> {
        let pending = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            // a poisoned list still holds every check
            Err(e) => std::mem::take(&mut *e.into_inner()),
        };
        pending.into_iter().try_for_each(Pending::finish)
    }

    pub(super) fn leave(&self, p: Pending) {
        match self.pending.lock() {
            Ok(mut v) => v.push(p),
            Err(e) => e.into_inner().push(p),
        }
    }
}

/// One uncompressed layer whose sha256 is being computed.
#[derive(Debug)]
pub(super) struct Member {
    pub name: String,
    /// What it must be: (what is checked, `sha256:…`), for each place the layer is listed.
    pub expected: Vec<(&'static str, String)>,
    pub key: Option<BlobKey>,
}

/// The thread computing the sha256 of the members left running, in their order. Dropped
/// unjoined (a load that failed after starting it), it tells the thread to stop and waits for
/// it: no thread outlives the load that started it.
#[derive(Debug)]
pub(super) struct Hashing {
    thread: Option<JoinHandle<Vec<std::io::Result<String>>>>,
    stop: Arc<AtomicBool>,
}

impl Hashing {
    /// `thread` asks `stop` between reads of its blobs.
    pub(super) fn new(
        thread: JoinHandle<Vec<std::io::Result<String>>>,
        stop: Arc<AtomicBool>,
    ) -> Hashing {
        Hashing {
            thread: Some(thread),
            stop,
        }
    }

    /// The digests, in order; None if the thread failed.
    fn join(mut self) -> Option<Vec<std::io::Result<String>>> {
        self.thread.take()?.join().ok()
    }
}

impl Drop for Hashing {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.stop.store(true, Ordering::Relaxed);
            let _ = t.join();
        }
    }
}

/// Members left running: (member name, key in the verification cache) each, in the order
/// [`Hashing`] gives their digests, and that thread.
pub(super) type Running = (Vec<(String, Option<BlobKey>)>, Hashing);

/// The digests one load left running.
#[derive(Debug)]
pub(super) struct Pending {
    pub archive: String,
    pub members: Vec<Member>,
    /// The sha256 of each member, in order, from the hashing thread.
    pub hashing: Hashing,
    pub verified: Option<Arc<VerifiedCache>>,
}

impl Pending {
    fn finish(self) -> Result<()> {
        let archive = self.archive.clone();
        let shas = self
            .hashing
            .join()
            .ok_or_else(|| Error::member(&archive, "", "the hashing thread failed"))?;
        for (m, sha) in self.members.iter().zip(shas) {
            let found = sha
                .map_err(|e| Error::member(&self.archive, &m.name, format!("read failed: {e}")))?;
            for (what, expected) in &m.expected {
                super::check_digest(&self.archive, &m.name, what, expected, &found)?;
            }
            if let (Some(v), Some(k)) = (&self.verified, &m.key) {
                let blob = found.clone();
                v.record(k.clone(), Digests { blob, diff: None });
            }
        }
        if let Some(v) = &self.verified {
            v.save();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hashing thread that would run until told to stop: dropping its handle tells it and
    /// waits for it, so the drop returns and the thread is gone.
    #[test]
    fn a_dropped_hashing_thread_is_stopped_and_joined() {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = stop.clone();
        let (gone_tx, gone) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            while !seen.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            let _ = gone_tx.send(());
            Vec::new()
        });
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(Hashing::new(thread, stop));
            let _ = done_tx.send(());
        });
        let wait = std::time::Duration::from_secs(10);
        done.recv_timeout(wait).expect("the drop returned");
        gone.try_recv()
            .expect("the thread ended before the drop returned");
    }
}
