//! One file's bytes kept on disk for the explorer's viewer, when reading them again would be
//! slow: a file of a compressed layer with no access point near it (a single-frame zstd
//! layer, a gzip layer read without recorded points) is decoded from the layer's start each
//! time the viewer goes back. The first (slow) read, on the viewer's worker, copies the file's
//! bytes into the reader's private temporary directory ([`crate::source::refetch::Scratch`],
//! mode 0700, removed when the explorer closes); every later read of that version (scrolling
//! back, search, the hex dump, a diff) seeks in that copy. Disk use is the file's size;
//! memory stays the viewer's window. A file larger than [`MAX_SPOOL`], or than the free space
//! minus [`FREE_MARGIN`], is not kept: the viewer says so and reads the layer again.

use super::refetch::{Activity, Reporting, Scratch};
use crate::error::{Error, Result};
use crate::units::human_bytes;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A file larger than this is never kept on disk.
pub const MAX_SPOOL: u64 = 8 << 30;
/// Free space left on the temporary directory's file system after a file is kept.
pub const FREE_MARGIN: u64 = 1 << 30;

/// Which version a kept file is: (layer, cleaned path in the layer).
pub type Key = (usize, String);

/// The files kept so far, for the life of the reader (the explorer's session).
#[derive(Debug, Default)]
pub struct Spools {
    kept: Mutex<HashMap<Key, (PathBuf, u64)>>,
    /// Numbers the files, so two workers keeping the same version never share one.
    next: AtomicUsize,
}

/// Why a file was not kept: a note for the viewer, which reads the layer again instead.
#[derive(Debug)]
pub struct Refused(pub String);

impl Spools {
    /// The kept copy of `key`, if any: its path and size.
    pub fn get(&self, key: &Key) -> Option<(PathBuf, u64)> {
        self.kept.lock().ok()?.get(key).cloned()
    }

    /// How many files are kept (what a test checks).
    pub fn len(&self) -> usize {
        self.kept.lock().map_or(0, |k| k.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Is there room for `size` bytes in the scratch directory? The refusal says why not.
    pub fn room(&self, scratch: &Scratch, size: u64) -> Result<std::result::Result<(), Refused>> {
        let dir = scratch.path("")?;
        Ok(fits(size, free_bytes(&dir), &dir))
    }

    /// Copy the `size` bytes `from` reads into a new file of `scratch` and keep it as `key`,
    /// reporting into `activity` (`what` names the file); a cancelled or failed copy leaves
    /// no file behind. The path of the kept copy.
    pub fn keep(
        &self,
        scratch: &Scratch,
        key: Key,
        what: &str,
        from: impl Read,
        size: u64,
        activity: &Arc<Activity>,
    ) -> Result<PathBuf> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = scratch.path(&format!("file-{n}"))?;
        activity.begin(format!("keeping {what} on disk"), size);
        let copied = copy_new(&path, from, activity);
        activity.end();
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&path);
            return Err(if activity.cancelled() {
                Error::Cancelled
            } else {
                Error::Io { path, source: e }
            });
        }
        let mut kept = self.kept.lock().map_err(|_| Error::Cancelled)?;
        // another worker kept it meanwhile: its copy stays, ours goes
        if let Some((p, _)) = kept.get(&key) {
            let _ = std::fs::remove_file(&path);
            return Ok(p.clone());
        }
        kept.insert(key, (path.clone(), size));
        Ok(path)
    }
}

/// Does a file of `size` bytes fit under [`MAX_SPOOL`] and in `free` bytes (unknown: yes)
/// less [`FREE_MARGIN`]?
fn fits(size: u64, free: Option<u64>, dir: &Path) -> std::result::Result<(), Refused> {
    if size > MAX_SPOOL {
        return Err(Refused(format!(
            "{} is more than the {} the viewer keeps on disk",
            human_bytes(size),
            human_bytes(MAX_SPOOL)
        )));
    }
    match free {
        Some(free) if size.saturating_add(FREE_MARGIN) > free => Err(Refused(format!(
            "{} does not fit in the {} free in {} (less a {} margin)",
            human_bytes(size),
            human_bytes(free),
            dir.display(),
            human_bytes(FREE_MARGIN)
        ))),
        _ => Ok(()),
    }
}

/// Copy `from` into a new file at `to` (never over one), checking `activity` for a cancel.
fn copy_new(to: &Path, from: impl Read, activity: &Arc<Activity>) -> io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)?;
    let mut out = io::BufWriter::with_capacity(256 << 10, file);
    let mut from = Reporting {
        inner: from,
        activity: activity.clone(),
    };
    io::copy(&mut from, &mut out)?;
    out.flush()
}

/// Bytes free for this user on the file system of `dir`; None when it cannot be told.
#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a NUL-terminated path and `st` a buffer of the size statvfs writes
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled `st`
    let st = unsafe { st.assume_init() };
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

#[cfg(not(unix))]
fn free_bytes(_: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_copy_once_and_refuses_what_does_not_fit() {
        let scratch = Scratch::new();
        let spools = Spools::default();
        let key = (3, "app/log".to_string());
        let a = Activity::new();
        let p = spools
            .keep(&scratch, key.clone(), "/app/log", &b"hello"[..], 5, &a)
            .unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        assert_eq!(spools.get(&key), Some((p.clone(), 5)));
        // a second copy of the same version is dropped, the first stays
        let q = spools
            .keep(&scratch, key.clone(), "/app/log", &b"hello"[..], 5, &a)
            .unwrap();
        assert_eq!(q, p);
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
        assert!(spools.room(&scratch, 5).unwrap().is_ok());
        assert!(spools.room(&scratch, MAX_SPOOL + 1).unwrap().is_err());
        assert!(free_bytes(p.parent().unwrap()).is_some_and(|f| f > 0));
        let dir = Path::new("/tmp");
        assert!(fits(MAX_SPOOL, None, dir).is_ok());
        assert!(fits(10, Some(FREE_MARGIN + 10), dir).is_ok());
        let no = fits(11, Some(FREE_MARGIN + 10), dir).unwrap_err();
        assert!(no.0.contains("does not fit"), "{}", no.0);
    }

    #[test]
    fn a_cancelled_copy_leaves_nothing() {
        let scratch = Scratch::new();
        let spools = Spools::default();
        let a = Activity::new();
        a.cancel();
        let key = (0, "big".to_string());
        let r = spools.keep(&scratch, key.clone(), "/big", &[0u8; 1000][..], 1000, &a);
        assert!(matches!(r, Err(Error::Cancelled)));
        assert_eq!(spools.get(&key), None);
        let dir = scratch.path("").unwrap();
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
    }
}
