//! Counters that loading bumps and a front end samples (a terminal line, the TUI's gauge).
//! Lock-free; the loader never waits on whoever watches.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct Progress {
    pub layers_total: AtomicUsize,
    pub layers_done: AtomicUsize,
    /// Bytes of blobs to read (0 when unknown, e.g. a stream of unknown length).
    pub bytes_total: AtomicU64,
    pub bytes_read: AtomicU64,
    pub entries: AtomicU64,
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
