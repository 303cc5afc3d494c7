//! Reading the small files a user or an image names (manifests, configs, `--rules`,
//! `--dockerfile`): never more than a cap, and never from a device, FIFO, socket or directory.
//! Those are refused by name before they are opened: reading `/dev/zero` never ends and its
//! `metadata().len()` is 0, opening a FIFO blocks until a writer comes.

use crate::error::{Error, Result};
use std::fs::Metadata;
use std::io::Read;
use std::path::Path;

/// Manifests, configs and indexes larger than this are refused (real ones are KBs; a config
/// with a long history is a few hundred KB).
pub const MAX_JSON: u64 = 64 << 20;
/// `--rules`, `--dockerfile` and `.dive-ci` files larger than this are refused.
pub const MAX_TEXT: u64 = 16 << 20;

fn refuse(path: &Path, message: String) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
    }
}

/// What a non-regular file is, for the message that refuses it.
fn kind_name(md: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = md.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// The metadata of `path` (symlinks followed) when it is a regular file; otherwise an error
/// naming the path and what it is.
pub fn regular_file(path: &Path) -> Result<Metadata> {
    let md = std::fs::metadata(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if md.is_file() {
        Ok(md)
    } else {
        Err(refuse(
            path,
            format!("not a regular file ({})", kind_name(&md)),
        ))
    }
}

/// The bytes of the regular file `path`, refused when larger than `cap`. The cap holds even if
/// the file grows while it is read.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    let io = |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let md = regular_file(path)?;
    let too_large = || {
        refuse(
            path,
            format!("larger than the {} MiB limit for this file", cap >> 20),
        )
    };
    if md.len() > cap {
        return Err(too_large());
    }
    let f = std::fs::File::open(path).map_err(io)?;
    let mut out = Vec::with_capacity(md.len() as usize);
    f.take(cap + 1).read_to_end(&mut out).map_err(io)?;
    if out.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(out)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_capped_text(path: &Path, cap: u64) -> Result<String> {
    String::from_utf8(read_capped(path, cap)?)
        .map_err(|_| refuse(path, "not UTF-8 text".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_directories_are_refused_by_name() {
        let e = read_capped(Path::new("/dev/zero"), 10)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "/dev/zero: not a regular file (a character device)");
        let e = read_capped(Path::new("/"), 10).unwrap_err().to_string();
        assert_eq!(e, "/: not a regular file (a directory)");
    }
}
