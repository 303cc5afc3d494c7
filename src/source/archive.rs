//! The outer container of an image: a tar file (indexed by headers, contents read later by
//! byte range), an OCI layout directory, or a tar stream read once (from a daemon). Gives the
//! layout resolver small members' bytes and the layer reader each blob.

use crate::error::{Error, Result};
use crate::small_file;
use crate::source::layer::{parse_layer_with_progress, LayerParseOptions, ParsedLayer};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Members up to this size are kept in memory while indexing (manifests, configs).
pub const SMALL_MEMBER: u64 = 1 << 20;
/// A JSON member in a stream or a tar file may be this large.
const MAX_JSON_MEMBER: u64 = small_file::MAX_JSON;
/// Members of an outer archive, at most: an image of [`super::MAX_LAYERS`] layers saved by
/// Docker has about a thousand; a stream that goes on sending small members is no image.
pub const MAX_MEMBERS: usize = 100_000;
/// Bytes of member names, all told (a name may be long, their sum is not).
pub const MAX_NAME_BYTES: usize = 16 << 20;
/// Bytes of members kept in memory while indexing (manifests, configs, small files), all told.
pub const MAX_KEPT_BYTES: u64 = 256 << 20;

/// What an index has taken in so far, against the bounds above: memory grows with the members
/// an archive holds, and an archive (or an endless stream) may hold any number.
#[derive(Default)]
struct Budget {
    members: usize,
    name_bytes: usize,
    kept: u64,
}

impl Budget {
    /// Count one more member named `raw` (as its header spells it).
    fn member(&mut self, archive: &str, raw: &[u8]) -> Result<()> {
        self.members += 1;
        self.name_bytes += raw.len();
        if self.members > MAX_MEMBERS {
            return Err(Error::not_image(
                archive,
                format!("holds more than {MAX_MEMBERS} members: no image has that many"),
            ));
        }
        if self.name_bytes > MAX_NAME_BYTES {
            return Err(Error::not_image(
                archive,
                format!("its member names take more than {MAX_NAME_BYTES} bytes"),
            ));
        }
        Ok(())
    }

    /// Count `body` if it is kept in memory.
    fn keep(&mut self, archive: &str, name: &str, body: &MemberBody) -> Result<()> {
        if let MemberBody::Bytes(b) = body {
            self.kept += b.len() as u64;
        }
        if self.kept > MAX_KEPT_BYTES {
            return Err(Error::member(
                archive,
                name,
                format!("the small members up to this one take more than {MAX_KEPT_BYTES} bytes"),
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub enum MemberBody {
    Bytes(Arc<Vec<u8>>),
    /// Byte range of a tar file.
    Range {
        offset: u64,
        size: u64,
    },
    /// A file of a layout directory.
    File(PathBuf),
    /// A layer already parsed while streaming.
    Parsed,
    Symlink(String),
    Hardlink(String),
    Dir,
    /// A blob held elsewhere (a registry), fetched as a stream when the layer is read.
    Remote(RemoteBlob),
}

/// Opens a blob that lives outside the archive, as a stream read once front to back.
pub trait BlobFetcher: Send + Sync + std::fmt::Debug {
    /// A reader over the blob's `size` bytes (digest checks are the layer reader's job).
    fn open(&self, digest: &str, size: u64) -> Result<Box<dyn Read + Send>>;
}

#[derive(Clone, Debug)]
pub struct RemoteBlob {
    pub fetcher: Arc<dyn BlobFetcher>,
    pub digest: String,
}

#[derive(Clone, Debug)]
pub struct Member {
    pub name: String,
    pub size: u64,
    pub body: MemberBody,
}

/// All members of the outer archive, by cleaned name.
pub struct MemberIndex {
    /// How errors name the archive.
    pub archive: String,
    pub members: HashMap<String, Member>,
    /// The tar file whose ranges `Range` bodies point into.
    pub file: Option<PathBuf>,
    /// A layout directory, for members not indexed up front.
    pub dir: Option<PathBuf>,
    /// Layers parsed while streaming, by member name.
    pub parsed: HashMap<String, ParsedLayer>,
    /// The archive ended without its end-of-archive blocks, right after this member.
    pub truncated_after: Option<String>,
}

/// Map an I/O error to one that names the file.
pub fn io_at(path: &Path) -> impl Fn(std::io::Error) -> Error + Copy + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

fn clean_member_name(raw: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.join("/")
}

impl MemberIndex {
    /// Index `source`: an OCI layout directory, or an archive file.
    pub fn from_path(source: &Path) -> Result<MemberIndex> {
        let md = std::fs::metadata(source).map_err(|e| Error::Io {
            path: source.to_path_buf(),
            source: e,
        })?;
        if md.is_dir() {
            MemberIndex::from_dir(source)
        } else {
            MemberIndex::from_tar_file(source)
        }
    }

    /// Index a tar file: read headers, seek over contents, keep small members' bytes.
    pub fn from_tar_file(path: &Path) -> Result<MemberIndex> {
        let archive = path.display().to_string();
        let io_err = io_at(path);
        let file = File::open(path).map_err(io_err)?;
        let file_len = file.metadata().map_err(io_err)?.len();
        let mut ar = tar::Archive::new(file);
        let mut members = HashMap::new();
        let entries = ar
            .entries_with_seek()
            .map_err(|e| Error::not_image(&archive, format!("not a tar archive: {e}")))?;
        let mut last_name = String::new();
        let mut last_end = 0u64;
        let mut budget = Budget::default();
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                if last_name.is_empty() {
                    Error::not_image(&archive, format!("not a tar archive: {e}"))
                } else {
                    Error::member(
                        &archive,
                        &last_name,
                        format!("archive is truncated or corrupt after this member: {e}"),
                    )
                }
            })?;
            let raw = entry.path_bytes();
            budget.member(&archive, &raw)?;
            let raw = String::from_utf8_lossy(&raw).to_string();
            let name = clean_member_name(&raw);
            let size = entry.size();
            let offset = entry.raw_file_position();
            if offset.saturating_add(size) > file_len {
                return Err(Error::member(
                    &archive,
                    &name,
                    format!(
                        "declares {size} bytes but the archive ends {} bytes into it (truncated)",
                        file_len.saturating_sub(offset)
                    ),
                ));
            }
            last_end = offset + size.div_ceil(512) * 512;
            let et = entry.header().entry_type();
            let body = if et.is_symlink() {
                let t = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).to_string())
                    .unwrap_or_default();
                MemberBody::Symlink(t)
            } else if et.is_hard_link() {
                let t = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).to_string())
                    .unwrap_or_default();
                MemberBody::Hardlink(clean_member_name(&t))
            } else if et.is_dir() {
                MemberBody::Dir
            } else if et.is_pax_global_extensions() || et.is_pax_local_extensions() {
                continue;
            } else if size <= SMALL_MEMBER {
                // keep JSON (manifests, configs) in memory; layers stay ranges of the file
                let mut first = [0u8; 1];
                let n = entry.read(&mut first).map_err(|e| {
                    Error::member(&archive, &name, format!("read failed (truncated?): {e}"))
                })?;
                if n == 1 && matches!(first[0], b'{' | b'[') {
                    let mut bytes = Vec::with_capacity(size as usize);
                    bytes.push(first[0]);
                    entry.read_to_end(&mut bytes).map_err(|e| {
                        Error::member(&archive, &name, format!("read failed (truncated?): {e}"))
                    })?;
                    MemberBody::Bytes(Arc::new(bytes))
                } else {
                    MemberBody::Range { offset, size }
                }
            } else {
                MemberBody::Range { offset, size }
            };
            budget.keep(&archive, &name, &body)?;
            if name.is_empty() {
                continue;
            }
            if let Some(prev) = members.get(&name) {
                let both_dirs = matches!(
                    (&prev, &body),
                    (
                        Member {
                            body: MemberBody::Dir,
                            ..
                        },
                        MemberBody::Dir
                    )
                );
                if !both_dirs {
                    return Err(Error::member(
                        &archive,
                        &name,
                        "appears twice in the archive",
                    ));
                }
            }
            last_name = name.clone();
            members.insert(name.clone(), Member { name, size, body });
        }
        if members.is_empty() {
            return Err(Error::not_image(&archive, "empty or not a tar archive"));
        }
        let truncated_after = (file_len <= last_end).then_some(last_name);
        Ok(MemberIndex {
            archive,
            members,
            file: Some(path.to_path_buf()),
            dir: None,
            parsed: HashMap::new(),
            truncated_after,
        })
    }

    /// An OCI layout directory: members are files below it, looked up on demand.
    pub fn from_dir(path: &Path) -> Result<MemberIndex> {
        let archive = path.display().to_string();
        let mut members = HashMap::new();
        for name in ["index.json", "oci-layout", "manifest.json"] {
            let p = path.join(name);
            // present but a device, FIFO or directory: refused by name, not skipped
            if std::fs::symlink_metadata(&p).is_ok() {
                let bytes = small_file::read_capped(&p, small_file::MAX_JSON)?;
                members.insert(
                    name.to_string(),
                    Member {
                        name: name.to_string(),
                        size: bytes.len() as u64,
                        body: MemberBody::Bytes(Arc::new(bytes)),
                    },
                );
            }
        }
        Ok(MemberIndex {
            archive,
            members,
            file: None,
            dir: Some(path.to_path_buf()),
            parsed: HashMap::new(),
            truncated_after: None,
        })
    }

    /// Read a tar stream once: keep JSON-looking members, parse every other regular member as a
    /// layer on the spot (its name is matched to the manifest once that arrives).
    pub fn from_stream<R: Read>(
        reader: R,
        archive: &str,
        opts: LayerParseOptions,
        progress: Option<Arc<crate::progress::Progress>>,
    ) -> Result<MemberIndex> {
        let mut ar = tar::Archive::new(reader);
        let mut members = HashMap::new();
        let mut parsed = HashMap::new();
        let mut last_name = String::new();
        let mut budget = Budget::default();
        let entries = ar
            .entries()
            .map_err(|e| Error::not_image(archive, format!("not a tar stream: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                if last_name.is_empty() {
                    Error::not_image(archive, format!("not a tar stream: {e}"))
                } else {
                    Error::member(
                        archive,
                        &last_name,
                        format!("stream broke after this member: {e}"),
                    )
                }
            })?;
            let raw = entry.path_bytes();
            budget.member(archive, &raw)?;
            let name = clean_member_name(&String::from_utf8_lossy(&raw));
            let size = entry.size();
            let et = entry.header().entry_type();
            if name.is_empty() || et.is_pax_global_extensions() || et.is_pax_local_extensions() {
                continue;
            }
            let body = if et.is_symlink() {
                MemberBody::Symlink(
                    entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).to_string())
                        .unwrap_or_default(),
                )
            } else if et.is_hard_link() {
                MemberBody::Hardlink(clean_member_name(
                    &entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).to_string())
                        .unwrap_or_default(),
                ))
            } else if et.is_dir() {
                MemberBody::Dir
            } else {
                // peek: JSON metadata or a layer?
                let mut first = [0u8; 1];
                let mut head = Vec::new();
                let n = entry
                    .read(&mut first)
                    .map_err(|e| Error::member(archive, &name, format!("read failed: {e}")))?;
                head.extend_from_slice(&first[..n]);
                let jsonish = n == 1 && matches!(first[0], b'{' | b'[' | b' ' | b'\n');
                if (jsonish && size <= MAX_JSON_MEMBER) || size <= 512 {
                    entry.read_to_end(&mut head).map_err(|e| {
                        Error::member(archive, &name, format!("read failed (truncated?): {e}"))
                    })?;
                    MemberBody::Bytes(Arc::new(head))
                } else {
                    let chained = std::io::Cursor::new(head).chain(&mut entry);
                    let layer = parse_layer_with_progress(
                        chained,
                        archive,
                        &name,
                        opts.clone(),
                        progress.clone(),
                    )?;
                    parsed.insert(name.clone(), layer);
                    MemberBody::Parsed
                }
            };
            budget.keep(archive, &name, &body)?;
            if members.contains_key(&name) && !matches!(body, MemberBody::Dir) {
                return Err(Error::member(
                    archive,
                    &name,
                    "appears twice in the archive",
                ));
            }
            last_name = name.clone();
            members.insert(name.clone(), Member { name, size, body });
        }
        if members.is_empty() {
            return Err(Error::not_image(archive, "empty stream: no image in it"));
        }
        Ok(MemberIndex {
            archive: archive.to_string(),
            members,
            file: None,
            dir: None,
            parsed,
            truncated_after: None,
        })
    }

    /// Follow symlinks and hardlinks to the member that holds bytes.
    pub fn resolve(&self, name: &str) -> Result<Option<Member>> {
        let mut cur = clean_member_name(name);
        for _ in 0..32 {
            if let Some(dir) = &self.dir {
                if !self.members.contains_key(&cur) {
                    let p = dir.join(&cur);
                    return match std::fs::symlink_metadata(&p) {
                        Ok(md) if md.is_file() || md.file_type().is_symlink() => {
                            // a blob symlinked to /dev/zero or a FIFO would never end
                            let md = small_file::regular_file(&p)?;
                            Ok(Some(Member {
                                name: cur,
                                size: md.len(),
                                body: MemberBody::File(p),
                            }))
                        }
                        _ => Ok(None),
                    };
                }
            }
            let Some(m) = self.members.get(&cur) else {
                return Ok(None);
            };
            match &m.body {
                MemberBody::Symlink(target) => {
                    let base = match cur.rfind('/') {
                        Some(i) => &cur[..i],
                        None => "",
                    };
                    cur = if target.starts_with('/') {
                        clean_member_name(target)
                    } else {
                        clean_member_name(&format!("{base}/{target}"))
                    };
                }
                MemberBody::Hardlink(target) => cur = target.clone(),
                _ => return Ok(Some(m.clone())),
            }
        }
        Err(Error::member(
            &self.archive,
            name,
            "symlink loop among archive members",
        ))
    }

    /// The bytes of a small member (manifests, configs).
    pub fn read_small(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(m) = self.resolve(name)? else {
            return Ok(None);
        };
        match &m.body {
            MemberBody::Bytes(b) => Ok(Some(b.as_ref().clone())),
            MemberBody::File(p) => small_file::read_capped(p, small_file::MAX_JSON).map(Some),
            MemberBody::Range { size, .. } => {
                if *size > MAX_JSON_MEMBER {
                    return Err(Error::member(
                        &self.archive,
                        name,
                        "too large for a manifest or config",
                    ));
                }
                let mut v = Vec::with_capacity(*size as usize);
                let mut rd = self.open(&m)?;
                rd.read_to_end(&mut v)
                    .map_err(|e| Error::member(&self.archive, name, format!("read failed: {e}")))?;
                Ok(Some(v))
            }
            MemberBody::Parsed | MemberBody::Remote(_) => Err(Error::member(
                &self.archive,
                name,
                "expected JSON, found a layer",
            )),
            MemberBody::Dir | MemberBody::Symlink(_) | MemberBody::Hardlink(_) => Ok(None),
        }
    }

    /// A reader over a member's bytes (for layers), plus its size.
    pub fn open(&self, m: &Member) -> Result<Box<dyn Read + Send>> {
        match &m.body {
            MemberBody::Bytes(b) => Ok(Box::new(std::io::Cursor::new(ArcBytes(b.clone())))),
            MemberBody::File(p) => {
                small_file::regular_file(p)?;
                let f = File::open(p).map_err(io_at(p))?;
                Ok(Box::new(f))
            }
            MemberBody::Range { offset, size } => {
                let path = self
                    .file
                    .as_ref()
                    .ok_or_else(|| Error::member(&self.archive, &m.name, "no backing file"))?;
                let mut f = File::open(path).map_err(io_at(path))?;
                f.seek(SeekFrom::Start(*offset)).map_err(io_at(path))?;
                Ok(Box::new(f.take(*size)))
            }
            MemberBody::Remote(r) => r.fetcher.open(&r.digest, m.size),
            _ => Err(Error::member(
                &self.archive,
                &m.name,
                "is not a regular file",
            )),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        matches!(self.resolve(name), Ok(Some(_)))
    }
}

struct ArcBytes(Arc<Vec<u8>>);
impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}
