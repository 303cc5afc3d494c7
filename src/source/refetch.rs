//! Layers of an image that was read once as a stream (a registry's blobs, a daemon's
//! export), brought back when a file's bytes are needed (`bathy cat`, `bathy diff`, the
//! explorer's viewer): a registry's layer blob is fetched again, only the layers read from and
//! each once, its digest checked; a daemon's image is exported once to an archive file. Both
//! are kept in a private temporary directory (mode 0700 under `$TMPDIR`, never the layer
//! cache), with the files the viewer keeps ([`crate::source::spool`]), removed when the reader
//! is dropped or [`Scratch::discard`]ed. And [`Activity`], the
//! one progress line of such slow work (fetching, exporting, decoding a layer from its start),
//! which a front end shows while it waits.

use super::archive::{Member, MemberBody, MemberIndex};
use crate::error::{Error, Result};
use crate::units::human_bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes copied at once (and between two looks at the cancel flag).
const CHUNK: usize = 256 << 10;

/// What slow work is under way and how far it got: `fetching layer 3 of 7 from
/// registry.example/app: 12.3 MB of 48.1 MB`. Shared by the worker and the front end that
/// shows it; the front end's cancel stops the work at its next chunk.
#[derive(Debug, Default)]
pub struct Activity {
    what: Mutex<Option<String>>,
    done: AtomicU64,
    /// 0: not known.
    total: AtomicU64,
    cancelled: AtomicBool,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::default()
    }

    /// Start a step named `what` of `total` bytes (0: unknown).
    pub fn begin(&self, what: String, total: u64) {
        if let Ok(mut w) = self.what.lock() {
            *w = Some(what);
        }
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    /// `n` more bytes of the step done.
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// The step is over: nothing to show.
    pub fn end(&self) {
        if let Ok(mut w) = self.what.lock() {
            *w = None;
        }
    }

    /// The line to show, while a step is under way.
    pub fn line(&self) -> Option<String> {
        let what = self.what.lock().ok()?.clone()?;
        let done = human_bytes(self.done.load(Ordering::Relaxed));
        Some(match self.total.load(Ordering::Relaxed) {
            0 => format!("{what}: {done}"),
            t => format!("{what}: {done} of {}", human_bytes(t)),
        })
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// An error to stop a read with when the front end gave up.
    pub fn check(&self) -> io::Result<()> {
        if self.cancelled() {
            // not `Interrupted`: readers retry that kind
            return Err(io::Error::other("cancelled"));
        }
        Ok(())
    }
}

/// A reader that counts its bytes into an [`Activity`] and stops when it is cancelled.
pub struct Reporting<R> {
    pub inner: R,
    pub activity: Arc<Activity>,
}

impl<R: Read> Read for Reporting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.activity.check()?;
        let n = self.inner.read(buf)?;
        self.activity.add(n as u64);
        Ok(n)
    }
}

/// The private temporary directory of one reader, made when the first file goes in, and the
/// blobs fetched into it.
#[derive(Debug, Default)]
pub struct Scratch {
    dir: Mutex<Dir>,
    /// Fetched blobs by digest; the lock is held while one is fetched, so each is fetched once.
    blobs: Mutex<HashMap<String, PathBuf>>,
}

#[derive(Debug, Default)]
enum Dir {
    #[default]
    NotYet,
    Made(tempfile::TempDir),
    Discarded,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch::default()
    }

    /// Where a file named `name` goes: in `bathy-XXXXXX` under `$TMPDIR`, readable by this
    /// user only, made now if need be; an error once discarded.
    pub fn path(&self, name: &str) -> Result<PathBuf> {
        let mut dir = self.dir.lock().map_err(|_| Error::Cancelled)?;
        if let Dir::NotYet = *dir {
            *dir = Dir::Made(make_dir()?);
        }
        match &*dir {
            Dir::Made(d) => Ok(d.path().join(name)),
            _ => Err(Error::Cancelled),
        }
    }

    /// Remove the directory and everything in it now (the explorer closing while a worker
    /// still holds the reader); later files are refused.
    pub fn discard(&self) {
        if let Ok(mut d) = self.dir.lock() {
            if let Dir::Made(d) = std::mem::replace(&mut *d, Dir::Discarded) {
                let _ = d.close();
            }
        }
    }

    /// `m` as a file here, when it is one already (a local member, a blob fetched); never
    /// waits for a fetch under way (the front end asks on its own thread).
    pub fn fetched(&self, m: &Member) -> Option<Member> {
        let MemberBody::Remote(r) = &m.body else {
            return Some(m.clone());
        };
        let path = self.blobs.try_lock().ok()?.get(&r.digest)?.clone();
        Some(Member {
            name: m.name.clone(),
            size: m.size,
            body: MemberBody::File(path),
        })
    }

    /// `m` as a file of the directory: a remote blob is fetched the first time, its bytes
    /// checked against its digest. `what` names the layer in the progress line and errors.
    pub fn local(
        &self,
        idx: &MemberIndex,
        m: &Member,
        what: &str,
        activity: &Arc<Activity>,
    ) -> Result<Member> {
        let MemberBody::Remote(r) = &m.body else {
            return Ok(m.clone());
        };
        let mut blobs = self.blobs.lock().map_err(|_| Error::Cancelled)?;
        let path = match blobs.get(&r.digest) {
            Some(p) => p.clone(),
            None => {
                let p = self.path(&r.digest.replace(':', "-"))?;
                activity.begin(format!("fetching {what} from {}", idx.archive), m.size);
                let fetched = fetch_blob(idx, m, &r.digest, &p, activity);
                activity.end();
                if let Err(e) = fetched {
                    let _ = std::fs::remove_file(&p);
                    return Err(match e {
                        Fetch::Cancelled => Error::Cancelled,
                        Fetch::Failed(e) => {
                            Error::Registry(format!("{}: {what} ({}): {e}", idx.archive, r.digest))
                        }
                    });
                }
                blobs.insert(r.digest.clone(), p.clone());
                p
            }
        };
        Ok(Member {
            name: m.name.clone(),
            size: m.size,
            body: MemberBody::File(path),
        })
    }
}

fn make_dir() -> Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("bathy-")
        .tempdir()
        .map_err(|e| Error::Io {
            path: std::env::temp_dir(),
            source: e,
        })?;
    #[cfg(unix)]
    {
        // tempfile makes it 0700 already; said here, since it is what keeps the bytes private
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700));
    }
    Ok(dir)
}

/// Why a fetch stopped.
enum Fetch {
    Cancelled,
    Failed(String),
}

/// Copy blob `digest` into a new file at `to`, its sha256 checked.
fn fetch_blob(
    idx: &MemberIndex,
    m: &Member,
    digest: &str,
    to: &Path,
    activity: &Arc<Activity>,
) -> std::result::Result<(), Fetch> {
    let fail = |e: &dyn std::fmt::Display| Fetch::Failed(e.to_string());
    let mut from = idx.open(m).map_err(|e| {
        let s = e.to_string();
        // the registry's `registry H, repository R: blob D: ` start: the caller says it
        let s = s
            .split_once(&format!("blob {digest}: "))
            .map_or(&*s, |(_, t)| t);
        Fetch::Failed(s.to_string())
    })?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| fail(&e))?;
    let mut out = io::BufWriter::new(file);
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        if activity.cancelled() {
            return Err(Fetch::Cancelled);
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(&e)),
        };
        hash.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| fail(&e))?;
        activity.add(n as u64);
    }
    out.flush().map_err(|e| fail(&e))?;
    let got = format!("sha256:{:x}", hash.finalize());
    if digest.starts_with("sha256:") && got != digest {
        return Err(Fetch::Failed(format!(
            "the blob fetched again has digest {got}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_what_and_how_far() {
        let a = Activity::new();
        assert_eq!(a.line(), None);
        a.begin(
            "fetching layer 3 of 7 from registry://h/r:t".into(),
            48_100_000,
        );
        a.add(12_300_000);
        assert_eq!(
            a.line().as_deref(),
            Some("fetching layer 3 of 7 from registry://h/r:t: 12.3 MB of 48.1 MB")
        );
        a.begin("exporting the image from the daemon".into(), 0);
        a.add(2_000);
        assert_eq!(
            a.line().as_deref(),
            Some("exporting the image from the daemon: 2.0 kB")
        );
        a.end();
        assert_eq!(a.line(), None);
    }

    #[test]
    fn the_scratch_directory_is_private_and_goes_away() {
        let s = Scratch::new();
        let p = s.path("x").unwrap();
        let dir = p.parent().unwrap().to_path_buf();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        std::fs::write(&p, b"x").unwrap();
        s.discard();
        assert!(!dir.exists());
        assert!(s.path("y").is_err());
    }
}
