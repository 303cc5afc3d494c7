//! Counters that loading bumps and a front end samples (a terminal line, the TUI's gauge).
//! Lock-free; the loader never waits on whoever watches.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
pub struct Progress {
    pub layers_total: AtomicUsize,
    pub layers_done: AtomicUsize,
    /// Bytes of blobs to read (0 when unknown, e.g. a stream of unknown length).
    pub bytes_total: AtomicU64,
    pub bytes_read: AtomicU64,
    pub entries: AtomicU64,
    /// Blobs downloaded one by one (a registry's layers), in the order they started.
    downloads: Mutex<Vec<Arc<Download>>>,
    /// Set by the watcher (the explorer, when the user quits while images load); the loaders
    /// check it as they read and stop with an error.
    cancelled: AtomicBool,
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add_read(&self, n: u64) {
        self.bytes_read.fetch_add(n, Ordering::Relaxed);
    }
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            layers_total: self.layers_total.load(Ordering::Relaxed),
            layers_done: self.layers_done.load(Ordering::Relaxed),
            bytes_total: self.bytes_total.load(Ordering::Relaxed),
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            entries: self.entries.load(Ordering::Relaxed),
        }
    }
    /// Count a download of `size` bytes of blob `digest`: the handle takes its bytes as they
    /// arrive (the layer reader's own count, `bytes_read`, is the total over all of them).
    pub fn start_download(&self, digest: &str, size: u64) -> Arc<Download> {
        let d = Arc::new(Download {
            digest: digest.to_string(),
            size,
            received: AtomicU64::new(0),
        });
        if let Ok(mut all) = self.downloads.lock() {
            all.push(d.clone());
        }
        d
    }
    /// Every download started so far, finished ones too, oldest first.
    pub fn downloads(&self) -> Vec<DownloadSnapshot> {
        let all = self.downloads.lock().map(|d| d.clone()).unwrap_or_default();
        all.iter().map(|d| d.snapshot()).collect()
    }
    /// Ask the loader to stop.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    pub layers_total: usize,
    pub layers_done: usize,
    pub bytes_total: u64,
    pub bytes_read: u64,
    pub entries: u64,
}

/// One blob being downloaded: what a front end shows per layer.
#[derive(Debug)]
pub struct Download {
    digest: String,
    size: u64,
    received: AtomicU64,
}

impl Download {
    pub fn add(&self, n: u64) {
        self.received.fetch_add(n, Ordering::Relaxed);
    }
    fn snapshot(&self) -> DownloadSnapshot {
        DownloadSnapshot {
            digest: self.digest.clone(),
            size: self.size,
            received: self.received.load(Ordering::Relaxed),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadSnapshot {
    pub digest: String,
    pub size: u64,
    pub received: u64,
}

impl DownloadSnapshot {
    pub fn done(&self) -> bool {
        self.received >= self.size
    }
    /// `9f86d081884c 1.2 MB / 4.0 MB`: the digest's first 12 hex digits (as docker shows
    /// layers) and the bytes received of the blob's size.
    pub fn line(&self) -> String {
        let hex = self
            .digest
            .split_once(':')
            .map_or(&*self.digest, |(_, h)| h);
        let short: String = hex.chars().take(12).collect();
        format!(
            "{short} {} / {}",
            crate::units::human_bytes(self.received),
            crate::units::human_bytes(self.size)
        )
    }
}

/// The downloads under way, oldest first, at most `max` of them, and how many more there are.
pub fn downloads_under_way(
    all: &[DownloadSnapshot],
    max: usize,
) -> (Vec<&DownloadSnapshot>, usize) {
    let active: Vec<&DownloadSnapshot> = all.iter().filter(|d| !d.done()).collect();
    let more = active.len().saturating_sub(max);
    (active.into_iter().take(max).collect(), more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_counts_its_bytes_and_shows_its_short_digest() {
        let p = Progress::new();
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let a = p.start_download(&format!("sha256:{hex}"), 4_000_000);
        let b = p.start_download("sha256:00", 10);
        a.add(1_200_000);
        b.add(10);
        let all = p.downloads();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].line(), "9f86d081884c 1.2 MB / 4.0 MB");
        assert!(all[1].done() && !all[0].done());
        let (shown, more) = downloads_under_way(&all, 1);
        assert_eq!((shown.len(), more), (1, 0));
        assert_eq!(shown[0].digest, format!("sha256:{hex}"));
    }
}
