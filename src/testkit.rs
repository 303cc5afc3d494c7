//! Writes image archives from a short description, in every layout bathyscaphe reads, so
//! tests, benchmarks and the demo build their fixtures in code instead of committing blobs.
//!
//! ```
//! use bathyscaphe::testkit::{ImageSpec, LayerSpec, ArchiveFormat, Compression};
//! let spec = ImageSpec::new("demo:latest")
//!     .layer(LayerSpec::new("ADD rootfs /").file("etc/os-release", b"ID=demo\n"))
//!     .layer(LayerSpec::new("RUN rm /etc/os-release").whiteout("etc/os-release"));
//! let tar: Vec<u8> = spec.archive(ArchiveFormat::DockerArchive, Compression::None);
//! assert!(!tar.is_empty());
//! ```

pub use crate::image::Compression;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// The layouts the writer produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// `docker save` before Docker 25: `manifest.json`, `<id>/layer.tar`, `<id>.json`.
    DockerArchive,
    /// `docker save` from Docker 25 on: OCI layout plus `manifest.json`.
    DockerOciArchive,
    /// OCI image layout in a tar (skopeo, podman): `index.json`, no `manifest.json`.
    OciArchive,
    /// kaniko: `manifest.json` with `<digest>.tar.gz` layers and a `sha256:<hex>` config.
    Kaniko,
}

/// One entry of a layer.
#[derive(Clone, Debug)]
pub enum EntrySpec {
    File {
        path: String,
        content: Vec<u8>,
        mode: u32,
        uid: u64,
        gid: u64,
    },
    Dir {
        path: String,
        mode: u32,
        uid: u64,
        gid: u64,
    },
    Symlink {
        path: String,
        target: String,
    },
    Hardlink {
        path: String,
        target: String,
    },
    /// Writes `dir/.wh.name` for `dir/name`.
    Whiteout {
        path: String,
    },
    /// Writes `dir/.wh..wh..opq`.
    Opaque {
        dir: String,
    },
    /// A PAX extended header (`x`) for the entry after it, its records given as written
    /// (`"<len> key=value\n"` each), so a test can write bad ones.
    Pax {
        records: Vec<u8>,
    },
    /// A raw tar entry, for bad input: any name, type flag and content.
    Raw {
        name: Vec<u8>,
        typeflag: u8,
        content: Vec<u8>,
    },
}

/// Deterministic bytes of a given size; different seeds give different content.
pub fn filler(size: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'a' + (x % 26) as u8
        })
        .collect()
}

/// One layer: its history step, the empty steps before it, and its entries in tar order.
#[derive(Clone, Debug, Default)]
pub struct LayerSpec {
    pub command: String,
    pub empty_before: Vec<String>,
    pub entries: Vec<EntrySpec>,
}

impl LayerSpec {
    pub fn new(command: &str) -> Self {
        LayerSpec {
            command: command.to_string(),
            ..Default::default()
        }
    }
    /// An `empty_layer` history step (ENV, WORKDIR, …) right before this layer.
    pub fn after_empty(mut self, command: &str) -> Self {
        self.empty_before.push(command.to_string());
        self
    }
    pub fn file(self, path: &str, content: &[u8]) -> Self {
        self.file_mode(path, content, 0o644)
    }
    pub fn file_mode(mut self, path: &str, content: &[u8], mode: u32) -> Self {
        self.entries.push(EntrySpec::File {
            path: path.into(),
            content: content.to_vec(),
            mode,
            uid: 0,
            gid: 0,
        });
        self
    }
    /// A file of `size` filler bytes; `seed` picks the content.
    pub fn file_sized(self, path: &str, size: usize, seed: u64) -> Self {
        self.file(path, &filler(size, seed))
    }
    pub fn file_owned(mut self, path: &str, content: &[u8], mode: u32, uid: u64, gid: u64) -> Self {
        self.entries.push(EntrySpec::File {
            path: path.into(),
            content: content.to_vec(),
            mode,
            uid,
            gid,
        });
        self
    }
    pub fn dir(mut self, path: &str) -> Self {
        self.entries.push(EntrySpec::Dir {
            path: path.into(),
            mode: 0o755,
            uid: 0,
            gid: 0,
        });
        self
    }
    pub fn dir_mode(mut self, path: &str, mode: u32) -> Self {
        self.entries.push(EntrySpec::Dir {
            path: path.into(),
            mode,
            uid: 0,
            gid: 0,
        });
        self
    }
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.entries.push(EntrySpec::Symlink {
            path: path.into(),
            target: target.into(),
        });
        self
    }
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.entries.push(EntrySpec::Hardlink {
            path: path.into(),
            target: target.into(),
        });
        self
    }
    pub fn whiteout(mut self, path: &str) -> Self {
        self.entries.push(EntrySpec::Whiteout { path: path.into() });
        self
    }
    pub fn opaque(mut self, dir: &str) -> Self {
        self.entries.push(EntrySpec::Opaque { dir: dir.into() });
        self
    }
    /// PAX records for the next entry, written as given; see [`pax_record`] for good ones.
    pub fn pax(mut self, records: &[u8]) -> Self {
        self.entries.push(EntrySpec::Pax {
            records: records.to_vec(),
        });
        self
    }
    pub fn raw(mut self, name: &[u8], typeflag: u8, content: &[u8]) -> Self {
        self.entries.push(EntrySpec::Raw {
            name: name.to_vec(),
            typeflag,
            content: content.to_vec(),
        });
        self
    }

    /// The layer as an uncompressed tar stream.
    pub fn tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        b.mode(tar::HeaderMode::Deterministic);
        for e in &self.entries {
            let mut h = tar::Header::new_gnu();
            h.set_mtime(0);
            h.set_uid(0);
            h.set_gid(0);
            match e {
                EntrySpec::File {
                    path,
                    content,
                    mode,
                    uid,
                    gid,
                } => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_mode(*mode);
                    h.set_uid(*uid);
                    h.set_gid(*gid);
                    h.set_size(content.len() as u64);
                    append(&mut b, &mut h, path, content);
                }
                EntrySpec::Dir {
                    path,
                    mode,
                    uid,
                    gid,
                } => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(*mode);
                    h.set_uid(*uid);
                    h.set_gid(*gid);
                    h.set_size(0);
                    append(
                        &mut b,
                        &mut h,
                        &format!("{}/", path.trim_end_matches('/')),
                        &[],
                    );
                }
                EntrySpec::Symlink { path, target } => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_mode(0o777);
                    h.set_size(0);
                    b.append_link(&mut h, path, target).expect("in-memory tar");
                }
                EntrySpec::Hardlink { path, target } => {
                    h.set_entry_type(tar::EntryType::Link);
                    h.set_mode(0o644);
                    h.set_size(0);
                    b.append_link(&mut h, path, target).expect("in-memory tar");
                }
                EntrySpec::Whiteout { path } => {
                    let (dir, name) = match path.rsplit_once('/') {
                        Some((d, n)) => (format!("{d}/"), n.to_string()),
                        None => (String::new(), path.clone()),
                    };
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_mode(0);
                    h.set_size(0);
                    append(&mut b, &mut h, &format!("{dir}.wh.{name}"), &[]);
                }
                EntrySpec::Opaque { dir } => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_mode(0);
                    h.set_size(0);
                    append(
                        &mut b,
                        &mut h,
                        &format!("{}/.wh..wh..opq", dir.trim_end_matches('/')),
                        &[],
                    );
                }
                EntrySpec::Pax { records } => {
                    let mut h = tar::Header::new_ustar();
                    h.set_mtime(0);
                    h.set_mode(0o644);
                    h.set_entry_type(tar::EntryType::XHeader);
                    h.set_size(records.len() as u64);
                    append(&mut b, &mut h, "PaxHeaders/entry", records);
                }
                EntrySpec::Raw {
                    name,
                    typeflag,
                    content,
                } => {
                    let mut h = tar::Header::new_old();
                    h.set_mtime(0);
                    h.set_mode(0o644);
                    h.set_size(content.len() as u64);
                    h.set_entry_type(tar::EntryType::new(*typeflag));
                    let field = &mut h.as_old_mut().name;
                    let n = name.len().min(field.len());
                    field[..n].copy_from_slice(&name[..n]);
                    h.set_cksum();
                    b.append(&h, content.as_slice()).expect("in-memory tar");
                }
            }
        }
        b.into_inner().expect("in-memory tar")
    }
}

/// One well-formed PAX record: `"<len> key=value\n"`, the length counting itself.
pub fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}").len() + body.len() != len {
        len += 1;
    }
    format!("{len}{body}").into_bytes()
}

fn append(b: &mut tar::Builder<Vec<u8>>, h: &mut tar::Header, path: &str, content: &[u8]) {
    b.append_data(h, path, content).expect("in-memory tar");
}

/// An image: tag, layers, and the parts of the config the analyses read.
#[derive(Clone, Debug, Default)]
pub struct ImageSpec {
    pub tag: String,
    pub layers: Vec<LayerSpec>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub labels: Vec<(String, String)>,
    /// `empty_layer` history steps after the last layer.
    pub trailing: Vec<String>,
    /// `os/arch[/variant]` (OCI index entries and config).
    pub platform: Option<String>,
    /// The config's `User` (absent: none, the container runs as root).
    pub user: Option<String>,
}

/// A member of the outer archive, for tests that corrupt one before writing.
#[derive(Clone, Debug)]
pub struct Member {
    pub name: String,
    pub data: Vec<u8>,
    /// A symlink member pointing at this target.
    pub symlink: Option<String>,
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

pub fn compress(data: &[u8], c: Compression) -> Vec<u8> {
    match c {
        Compression::None => data.to_vec(),
        Compression::Gzip => {
            // a sync flush every MiB ends a deflate block there, as real encoders' blocks end
            // every few dozen KiB (the fastest level otherwise writes one block for megabytes,
            // leaving no place for an access point); a smaller layer is one block
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            for part in data.chunks(COMPRESS_CHUNK) {
                e.write_all(part).expect("in-memory gzip");
                if part.len() == COMPRESS_CHUNK {
                    e.flush().expect("in-memory gzip");
                }
            }
            e.finish().expect("in-memory gzip")
        }
        // one frame per MiB, as zstd:chunked and multi-threaded encoders write (each frame
        // start an access point); a smaller layer is one frame
        Compression::Zstd if data.len() > COMPRESS_CHUNK => data
            .chunks(COMPRESS_CHUNK)
            .flat_map(|part| zstd::encode_all(part, 3).expect("in-memory zstd"))
            .collect(),
        Compression::Zstd => zstd::encode_all(data, 3).expect("in-memory zstd"),
    }
}

/// Input bytes per deflate block or zstd frame of [`compress`].
pub const COMPRESS_CHUNK: usize = 1 << 20;

impl ImageSpec {
    pub fn new(tag: &str) -> Self {
        ImageSpec {
            tag: tag.to_string(),
            ..Default::default()
        }
    }
    pub fn user(mut self, u: &str) -> Self {
        self.user = Some(u.to_string());
        self
    }
    pub fn layer(mut self, l: LayerSpec) -> Self {
        self.layers.push(l);
        self
    }
    pub fn entrypoint(mut self, e: &[&str]) -> Self {
        self.entrypoint = Some(e.iter().map(|s| s.to_string()).collect());
        self
    }
    pub fn cmd(mut self, c: &[&str]) -> Self {
        self.cmd = Some(c.iter().map(|s| s.to_string()).collect());
        self
    }
    pub fn env(mut self, kv: &str) -> Self {
        self.env.push(kv.to_string());
        self
    }
    pub fn workdir(mut self, d: &str) -> Self {
        self.working_dir = Some(d.to_string());
        self
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.push((k.to_string(), v.to_string()));
        self
    }
    pub fn trailing(mut self, cmd: &str) -> Self {
        self.trailing.push(cmd.to_string());
        self
    }
    pub fn platform(mut self, p: &str) -> Self {
        self.platform = Some(p.to_string());
        self
    }

    fn os_arch(&self) -> (String, String, Option<String>) {
        let p = self
            .platform
            .clone()
            .unwrap_or_else(|| "linux/amd64".into());
        let mut it = p.split('/');
        let os = it.next().unwrap_or("linux").to_string();
        let arch = it.next().unwrap_or("amd64").to_string();
        (os, arch, it.next().map(str::to_string))
    }

    /// The config JSON for the given uncompressed layer tars.
    pub fn config_json(&self, tars: &[Vec<u8>]) -> Vec<u8> {
        let mut history = Vec::new();
        for l in &self.layers {
            for e in &l.empty_before {
                history.push(json!({"created": "2024-01-01T00:00:00Z", "created_by": e, "empty_layer": true}));
            }
            history.push(json!({"created": "2024-01-01T00:00:00Z", "created_by": l.command}));
        }
        for t in &self.trailing {
            history.push(
                json!({"created": "2024-01-01T00:00:00Z", "created_by": t, "empty_layer": true}),
            );
        }
        let (os, arch, variant) = self.os_arch();
        let labels: serde_json::Map<String, serde_json::Value> = self
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let mut cfg = json!({
            "architecture": arch,
            "os": os,
            "created": "2024-01-01T00:00:00Z",
            "config": {
                "Env": self.env,
                "Entrypoint": self.entrypoint,
                "Cmd": self.cmd,
                "WorkingDir": self.working_dir.clone().unwrap_or_default(),
                "Labels": labels,
            },
            "rootfs": {"type": "layers", "diff_ids": tars.iter().map(|t| format!("sha256:{}", sha(t))).collect::<Vec<_>>()},
            "history": history,
        });
        if let Some(v) = variant {
            cfg["variant"] = json!(v);
        }
        // only when set: the configs (and image ids) of every other fixture stay as they were
        if let Some(u) = &self.user {
            cfg["config"]["User"] = json!(u);
        }
        serde_json::to_vec(&cfg).expect("json")
    }

    /// The outer archive's members in the given layout.
    pub fn members(&self, format: ArchiveFormat, compression: Compression) -> Vec<Member> {
        images_members(std::slice::from_ref(self), format, compression)
    }

    /// The whole archive as tar bytes.
    pub fn archive(&self, format: ArchiveFormat, compression: Compression) -> Vec<u8> {
        tar_members(&self.members(format, compression))
    }

    /// Write the archive to a file.
    pub fn write(
        &self,
        path: &Path,
        format: ArchiveFormat,
        compression: Compression,
    ) -> std::io::Result<()> {
        std::fs::write(path, self.archive(format, compression))
    }

    /// Write an OCI image layout directory.
    pub fn write_oci_dir(&self, dir: &Path, compression: Compression) -> std::io::Result<()> {
        for m in self.members(ArchiveFormat::OciArchive, compression) {
            let p = dir.join(&m.name);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(p, &m.data)?;
        }
        Ok(())
    }
}

/// Several images in one archive (`docker save a b`, or an OCI index with several entries).
pub fn images_members(
    specs: &[ImageSpec],
    format: ArchiveFormat,
    compression: Compression,
) -> Vec<Member> {
    let mut out: Vec<Member> = Vec::new();
    let push = push_member;
    let mut manifest = Vec::new();
    let mut index_manifests = Vec::new();
    for spec in specs {
        let tars: Vec<Vec<u8>> = spec.layers.iter().map(|l| l.tar()).collect();
        let config = spec.config_json(&tars);
        let chex = sha(&config);
        match format {
            ArchiveFormat::DockerArchive => {
                let names = docker_layer_members(&mut out, &tars, compression);
                push(&mut out, format!("{chex}.json"), config.clone());
                manifest.push(json!({"Config": format!("{chex}.json"), "RepoTags": [spec.tag], "Layers": names}));
            }
            ArchiveFormat::Kaniko => {
                let mut layer_names = Vec::new();
                for t in &tars {
                    let blob = compress(t, Compression::Gzip);
                    let name = format!("{}.tar.gz", sha(&blob));
                    push(&mut out, name.clone(), blob);
                    layer_names.push(name);
                }
                push(&mut out, format!("sha256:{chex}"), config.clone());
                manifest.push(json!({"Config": format!("sha256:{chex}"), "RepoTags": [spec.tag], "Layers": layer_names}));
            }
            ArchiveFormat::DockerOciArchive | ArchiveFormat::OciArchive => {
                let media = match compression {
                    Compression::None => "application/vnd.oci.image.layer.v1.tar",
                    Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
                    Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
                };
                let mut layer_descs = Vec::new();
                let mut layer_names = Vec::new();
                for t in &tars {
                    let blob = compress(t, compression);
                    let h = sha(&blob);
                    layer_descs.push(json!({"mediaType": media, "digest": format!("sha256:{h}"), "size": blob.len()}));
                    layer_names.push(format!("blobs/sha256/{h}"));
                    push(&mut out, format!("blobs/sha256/{h}"), blob);
                }
                push(&mut out, format!("blobs/sha256/{chex}"), config.clone());
                let man = serde_json::to_vec(&json!({
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{chex}"), "size": config.len()},
                    "layers": layer_descs,
                }))
                .expect("json");
                let mhex = sha(&man);
                push(&mut out, format!("blobs/sha256/{mhex}"), man.clone());
                let (os, arch, variant) = spec.os_arch();
                let mut platform = json!({"os": os, "architecture": arch});
                if let Some(v) = variant {
                    platform["variant"] = json!(v);
                }
                index_manifests.push(json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": format!("sha256:{mhex}"),
                    "size": man.len(),
                    "platform": platform,
                    "annotations": {"org.opencontainers.image.ref.name": spec.tag, "io.containerd.image.name": spec.tag},
                }));
                manifest.push(json!({"Config": format!("blobs/sha256/{chex}"), "RepoTags": [spec.tag], "Layers": layer_names}));
            }
        }
    }
    match format {
        ArchiveFormat::DockerArchive | ArchiveFormat::Kaniko | ArchiveFormat::DockerOciArchive => {
            push(
                &mut out,
                "manifest.json".into(),
                serde_json::to_vec(&manifest).expect("json"),
            );
        }
        ArchiveFormat::OciArchive => {}
    }
    if matches!(
        format,
        ArchiveFormat::DockerOciArchive | ArchiveFormat::OciArchive
    ) {
        push(
            &mut out,
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        );
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": index_manifests});
        push(
            &mut out,
            "index.json".into(),
            serde_json::to_vec(&index).expect("json"),
        );
    }
    out
}

/// Add `name` unless a member of that name is there already (layers shared between images).
fn push_member(out: &mut Vec<Member>, name: String, data: Vec<u8>) {
    if !out.iter().any(|m| m.name == name) {
        out.push(Member {
            name,
            data,
            symlink: None,
        });
    }
}

/// The legacy `docker save` layer directories (`<id>/VERSION`, `json`, `layer.tar`) for `tars`;
/// returns the layer member names in order.
fn docker_layer_members(
    out: &mut Vec<Member>,
    tars: &[Vec<u8>],
    compression: Compression,
) -> Vec<String> {
    let mut layer_names = Vec::new();
    let mut parent = String::new();
    for t in tars {
        let id = sha(format!("{parent}{}", sha(t)).as_bytes());
        let blob = compress(t, compression);
        push_member(out, format!("{id}/VERSION"), b"1.0".to_vec());
        push_member(
            out,
            format!("{id}/json"),
            serde_json::to_vec(&json!({"id": id, "parent": parent})).expect("json"),
        );
        push_member(out, format!("{id}/layer.tar"), blob);
        layer_names.push(format!("{id}/layer.tar"));
        parent = id;
    }
    layer_names
}

/// Tar a list of members.
pub fn tar_members(members: &[Member]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.mode(tar::HeaderMode::Deterministic);
    for m in members {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        if let Some(t) = &m.symlink {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            h.set_size(0);
            b.append_link(&mut h, &m.name, t).expect("in-memory tar");
        } else {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(m.data.len() as u64);
            b.append_data(&mut h, &m.name, m.data.as_slice())
                .expect("in-memory tar");
        }
    }
    b.into_inner().expect("in-memory tar")
}

/// A minimal 64-bit little-endian x86-64 ELF file with the given `PT_INTERP` and `DT_NEEDED`
/// entries (and optional `DT_RUNPATH`), padded with zeros to `size` bytes when that is larger.
/// Enough for ld.so-style dependency walks; not runnable.
pub fn fake_elf(
    interp: Option<&str>,
    needed: &[&str],
    runpath: Option<&str>,
    size: usize,
) -> Vec<u8> {
    let phnum: u16 = if interp.is_some() { 3 } else { 2 };
    let ph_off = 64usize;
    let mut data_off = ph_off + 56 * phnum as usize;
    let interp_off = data_off;
    let interp_bytes: Vec<u8> = interp
        .map(|i| [i.as_bytes(), b"\0"].concat())
        .unwrap_or_default();
    data_off += interp_bytes.len();
    // string table: a leading NUL, then each name
    let strtab_off = data_off;
    let mut strtab = vec![0u8];
    let mut name_offs = Vec::new();
    for n in needed {
        name_offs.push(strtab.len() as u64);
        strtab.extend_from_slice(n.as_bytes());
        strtab.push(0);
    }
    let runpath_off = runpath.map(|r| {
        let o = strtab.len() as u64;
        strtab.extend_from_slice(r.as_bytes());
        strtab.push(0);
        o
    });
    data_off += strtab.len();
    let dyn_off = (data_off + 7) & !7;
    let mut dyns: Vec<(u64, u64)> = name_offs.iter().map(|&o| (1u64, o)).collect();
    if let Some(o) = runpath_off {
        dyns.push((29, o));
    }
    dyns.push((5, strtab_off as u64));
    dyns.push((10, strtab.len() as u64));
    dyns.push((0, 0));
    let dyn_len = dyns.len() * 16;
    let total = (dyn_off + dyn_len).max(size);
    let mut b = vec![0u8; total];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2; // 64-bit
    b[5] = 1; // little endian
    b[6] = 1;
    let put16 = |b: &mut Vec<u8>, o: usize, v: u16| b[o..o + 2].copy_from_slice(&v.to_le_bytes());
    let put32 = |b: &mut Vec<u8>, o: usize, v: u32| b[o..o + 4].copy_from_slice(&v.to_le_bytes());
    let put64 = |b: &mut Vec<u8>, o: usize, v: u64| b[o..o + 8].copy_from_slice(&v.to_le_bytes());
    put16(&mut b, 16, if interp.is_some() { 3 } else { 2 });
    put16(&mut b, 18, 62);
    put32(&mut b, 20, 1);
    put64(&mut b, 32, ph_off as u64);
    put16(&mut b, 52, 64);
    put16(&mut b, 54, 56);
    put16(&mut b, 56, phnum);
    put16(&mut b, 58, 64);
    let ph = |b: &mut Vec<u8>, i: usize, typ: u32, off: u64, len: u64| {
        let o = ph_off + 56 * i;
        put32(b, o, typ);
        put32(b, o + 4, 4);
        put64(b, o + 8, off);
        put64(b, o + 16, off);
        put64(b, o + 24, off);
        put64(b, o + 32, len);
        put64(b, o + 40, len);
        put64(b, o + 48, 8);
    };
    // PT_LOAD maps the file at address 0, so addresses equal offsets
    ph(&mut b, 0, 1, 0, total as u64);
    ph(&mut b, 1, 2, dyn_off as u64, dyn_len as u64);
    if interp.is_some() {
        ph(&mut b, 2, 3, interp_off as u64, interp_bytes.len() as u64);
    }
    b[interp_off..interp_off + interp_bytes.len()].copy_from_slice(&interp_bytes);
    b[strtab_off..strtab_off + strtab.len()].copy_from_slice(&strtab);
    for (i, (t, v)) in dyns.iter().enumerate() {
        put64(&mut b, dyn_off + 16 * i, *t);
        put64(&mut b, dyn_off + 16 * i + 8, *v);
    }
    b
}

/// A zstd frame that inflates to `len` zero bytes (rounded up to 128 KiB) in about
/// `len / 32768` bytes: one 4-byte RLE block per 128 KiB, written by hand so that building a
/// 32 GB bomb costs 1 MB and no compression.
pub fn zstd_zeros(len: u64) -> Vec<u8> {
    const BLOCK: u64 = 128 << 10;
    let blocks = len.div_ceil(BLOCK).max(1);
    let mut out = Vec::with_capacity(6 + 4 * blocks as usize);
    out.extend_from_slice(&0xFD2F_B528u32.to_le_bytes());
    out.push(0x00); // frame header: no content size, no checksum, a window descriptor
    out.push(0x38); // window 128 KiB (2^(10+7))
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        // bit 0 last block, bits 1-2 type (1 = RLE), bits 3.. the repeat count
        let header = last | (1 << 1) | ((BLOCK as u32) << 3);
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.push(0);
    }
    out
}

/// Line `k` (from 1) of [`write_numbered_lines_layout`]'s file: `line 000000042\n`, 15 bytes.
pub fn numbered_line(k: u64) -> String {
    format!("line {k:09}\n")
}

/// Bytes per line of [`numbered_line`].
pub const NUMBERED_LINE_LEN: u64 = 15;

/// An OCI layout directory with one layer holding `path`: `lines` numbered lines
/// ([`numbered_line`]), generated while the layer is written, never held whole (for tests and
/// benchmarks of files far larger than memory should hold).
pub fn write_numbered_lines_layout(
    dir: &Path,
    path: &str,
    lines: u64,
    compression: Compression,
) -> std::io::Result<()> {
    /// Hashes and counts what goes through it.
    struct Hashing<W> {
        inner: W,
        h: Sha256,
        n: u64,
    }
    impl<W: Write> Write for Hashing<W> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(b)?;
            self.h.update(&b[..n]);
            self.n += n as u64;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    /// The numbered lines, made as they are read.
    struct Lines {
        next: u64,
        last: u64,
        pending: Vec<u8>,
    }
    impl std::io::Read for Lines {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            while self.pending.len() < buf.len() && self.next <= self.last {
                self.pending
                    .extend_from_slice(numbered_line(self.next).as_bytes());
                self.next += 1;
            }
            let n = buf.len().min(self.pending.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            Ok(n)
        }
    }
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs)?;
    let tmp = blobs.join("layer.tmp");
    let file = Hashing {
        inner: std::io::BufWriter::new(std::fs::File::create(&tmp)?),
        h: Sha256::new(),
        n: 0,
    };
    // the uncompressed tar is hashed for the diff_id; the blob is hashed as written
    let (diff_id, blob_hash, blob_len) = {
        let mut file = file;
        let mut tar_hash = Sha256::new();
        {
            let mut w = TeeTar {
                tar_hash: &mut tar_hash,
                enc: Encoded::new(compression, &mut file)?,
            };
            let mut b = tar::Builder::new(&mut w);
            let mut h = tar::Header::new_gnu();
            h.set_mtime(0);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(lines * NUMBERED_LINE_LEN);
            let gen = Lines {
                next: 1,
                last: lines,
                pending: Vec::new(),
            };
            b.append_data(&mut h, path, gen)?;
            b.finish()?;
            drop(b);
            w.enc.finish()?;
        }
        file.flush()?;
        (
            hex::encode(tar_hash.finalize()),
            hex::encode(file.h.finalize()),
            file.n,
        )
    };
    std::fs::rename(&tmp, blobs.join(&blob_hash))?;
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{diff_id}")]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "RUN seq > big"}],
    }))
    .expect("json");
    let chex = sha(&config);
    std::fs::write(blobs.join(&chex), &config)?;
    let media = match compression {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    };
    let man = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{chex}"), "size": config.len()},
        "layers": [{"mediaType": media, "digest": format!("sha256:{blob_hash}"), "size": blob_len}],
    }))
    .expect("json");
    let mhex = sha(&man);
    std::fs::write(blobs.join(&mhex), &man)?;
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": format!("sha256:{mhex}"), "size": man.len(),
        "annotations": {"org.opencontainers.image.ref.name": "big:1"},
    }]});
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&index).expect("json"),
    )
}

/// A compressor over the blob file, or the file itself.
enum Encoded<'a, W: Write> {
    None(&'a mut W),
    Gzip(flate2::write::GzEncoder<&'a mut W>),
    Zstd(zstd::stream::write::Encoder<'static, &'a mut W>),
}

impl<'a, W: Write> Encoded<'a, W> {
    fn new(c: Compression, w: &'a mut W) -> std::io::Result<Self> {
        Ok(match c {
            Compression::None => Encoded::None(w),
            Compression::Gzip => Encoded::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::fast(),
            )),
            Compression::Zstd => Encoded::Zstd(zstd::stream::write::Encoder::new(w, 1)?),
        })
    }
    fn finish(&mut self) -> std::io::Result<()> {
        match self {
            Encoded::None(w) => w.flush(),
            Encoded::Gzip(e) => e.try_finish(),
            Encoded::Zstd(e) => e.do_finish(),
        }
    }
}

impl<W: Write> Write for Encoded<'_, W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Encoded::None(w) => w.write(b),
            Encoded::Gzip(e) => e.write(b),
            Encoded::Zstd(e) => e.write(b),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Encoded::None(w) => w.flush(),
            Encoded::Gzip(e) => e.flush(),
            Encoded::Zstd(e) => e.flush(),
        }
    }
}

/// The tar stream: hashed (the diff_id), then compressed into the blob.
struct TeeTar<'a, 'b, W: Write> {
    tar_hash: &'a mut Sha256,
    enc: Encoded<'b, W>,
}

impl<W: Write> Write for TeeTar<'_, '_, W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.enc.write(b)?;
        self.tar_hash.update(&b[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.enc.flush()
    }
}
