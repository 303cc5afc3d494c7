//! Digests computed by earlier runs, by the identity of the file that held the blob (device,
//! inode, size, mtime, ctime) and the blob's place in it, so a layer read again from the same
//! unchanged file is not hashed again. Reads and appends one small file in the user's cache
//! directory; never trusted for anything but skipping a hash the same bytes had already given.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The cache file is started afresh past this size (about 5000 layers).
const MAX_BYTES: u64 = 1 << 20;

/// A blob's place: the file's identity, then the blob's offset and length in it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// The key of `len` bytes at `offset` of the file with metadata `md`; `None` where the
    /// platform gives no inode and change time.
    pub fn of(md: &std::fs::Metadata, offset: u64, len: u64) -> Option<BlobKey> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(BlobKey(format!(
                "{}:{}:{}:{}.{}:{}.{}:{offset}:{len}",
                md.dev(),
                md.ino(),
                md.size(),
                md.mtime(),
                md.mtime_nsec(),
                md.ctime(),
                md.ctime_nsec()
            )))
        }
        #[cfg(not(unix))]
        {
            let _ = (md, offset, len);
            None
        }
    }
}

/// The sha256 of a blob and of its uncompressed stream (`None` when they are the same bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digests {
    pub blob: String,
    pub diff: Option<String>,
}

/// The cache, loaded once per image load; new digests are written by [`VerifiedCache::save`].
#[derive(Debug, Default)]
pub struct VerifiedCache {
    path: PathBuf,
    known: HashMap<BlobKey, Digests>,
    fresh: Mutex<Vec<(BlobKey, Digests)>>,
}

fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl VerifiedCache {
    /// Read the cache at `path` (a missing or unreadable file is an empty cache; lines that
    /// do not parse are ignored).
    pub fn load(path: &Path) -> VerifiedCache {
        let mut known = HashMap::new();
        let small = std::fs::metadata(path).is_ok_and(|m| m.len() <= MAX_BYTES);
        let text = if small {
            std::fs::read_to_string(path).unwrap_or_default()
        } else {
            String::new()
        };
        for line in text.lines() {
            let mut f = line.split(' ');
            let (Some(key), Some(blob), Some(diff), None) =
                (f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            let diff = (diff != "-").then(|| diff.to_string());
            if !is_digest(blob) || diff.as_deref().is_some_and(|d| !is_digest(d)) {
                continue;
            }
            known.insert(
                BlobKey(key.to_string()),
                Digests {
                    blob: blob.to_string(),
                    diff,
                },
            );
        }
        VerifiedCache {
            path: path.to_path_buf(),
            known,
            fresh: Mutex::default(),
        }
    }

    pub fn get(&self, key: &BlobKey) -> Option<&Digests> {
        self.known.get(key)
    }

    /// Remember digests computed now (written by [`VerifiedCache::save`]).
    pub fn record(&self, key: BlobKey, digests: Digests) {
        if let Ok(mut f) = self.fresh.lock() {
            f.push((key, digests));
        }
    }

    /// Append the digests recorded since loading. Best effort: a cache that cannot be written
    /// only means hashing again next time.
    pub fn save(&self) {
        let fresh = match self.fresh.lock() {
            Ok(mut f) => std::mem::take(&mut *f),
            Err(_) => return,
        };
        if fresh.is_empty() {
            return;
        }
        let mut text = String::new();
        for (k, d) in &fresh {
            let diff = d.diff.as_deref().unwrap_or("-");
            text.push_str(&format!("{} {} {diff}\n", k.0, d.blob));
        }
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let full = std::fs::metadata(&self.path).is_ok_and(|m| m.len() > MAX_BYTES);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(!full)
            .write(true)
            .truncate(full)
            .open(&self.path);
        // one write of whole lines: appends of concurrent runs do not interleave
        if let Ok(mut f) = file {
            let _ = f.write_all(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_was_recorded_and_ignores_damaged_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("verified-layers");
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        let c = VerifiedCache::load(&path);
        c.record(
            BlobKey("1:2:3:4.5:6.7:0:10".into()),
            Digests {
                blob: a.clone(),
                diff: None,
            },
        );
        c.record(
            BlobKey("1:2:3:4.5:6.7:10:20".into()),
            Digests {
                blob: a.clone(),
                diff: Some(b.clone()),
            },
        );
        c.save();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(b"garbage line\nk sha256:zz -\n")
            .expect("write");
        let again = VerifiedCache::load(&path);
        assert_eq!(again.known.len(), 2);
        assert_eq!(
            again.get(&BlobKey("1:2:3:4.5:6.7:10:20".into())),
            Some(&Digests {
                blob: a,
                diff: Some(b)
            })
        );
    }

    #[test]
    fn a_rewritten_file_has_another_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("f");
        std::fs::write(&p, b"one").expect("write");
        let k1 = BlobKey::of(&std::fs::metadata(&p).expect("md"), 0, 3);
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&p, b"two").expect("write");
        let k2 = BlobKey::of(&std::fs::metadata(&p).expect("md"), 0, 3);
        assert!(k1.is_some());
        assert_ne!(k1, k2);
    }
}
