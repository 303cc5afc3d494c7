//! The image model: layers in manifest order, each with its tar entries as compact records over
//! interned paths, plus the config's history. Built by `source`; read by `tree` and `analysis`.

use crate::paths::{NodeId, PathTable, ROOT};
use serde::{Deserialize, Serialize};

/// Which layout an image was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputFormat {
    /// `docker save`, legacy: `manifest.json` + `<id>/layer.tar`.
    DockerArchive,
    /// `docker save` by Docker 25+: OCI layout with `manifest.json` beside it.
    DockerOciArchive,
    /// OCI image layout in a tar (skopeo, buildah, podman), no `manifest.json`.
    OciArchive,
    /// OCI image layout directory.
    OciDir,
    /// kaniko tarball: `manifest.json` listing `*.tar.gz` layers.
    Kaniko,
    /// Read from a registry over the distribution API.
    Registry,
}

impl InputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::DockerArchive => "docker-archive",
            InputFormat::DockerOciArchive => "docker-oci-archive",
            InputFormat::OciArchive => "oci-archive",
            InputFormat::OciDir => "oci-dir",
            InputFormat::Kaniko => "kaniko",
            InputFormat::Registry => "registry",
        }
    }
}

/// Compression of a layer blob, detected from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// A blob's compression from its first bytes (gzip and zstd magic numbers; anything else
    /// is taken for a plain tar). Four bytes suffice.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The name reports use (`none`, `gzip`, `zstd`), as serde writes it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// What a tar entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// `.wh.NAME`: hides NAME of lower layers. The entry's node is the `.wh.NAME` node.
    Whiteout,
    /// `.wh..wh..opq`: hides all lower content of its directory.
    Opaque,
    Other,
}

impl EntryKind {
    pub fn is_dir(self) -> bool {
        self == EntryKind::Dir
    }

    /// The kind in words, as reports show a type change (`file → dir`).
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Dir => "dir",
            EntryKind::Symlink => "symlink",
            EntryKind::Hardlink => "hardlink",
            EntryKind::CharDevice => "char device",
            EntryKind::BlockDevice => "block device",
            EntryKind::Fifo => "fifo",
            _ => "other",
        }
    }
}

/// Index into [`Image::links`]: offset and length of a link target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkRef {
    pub off: u32,
    pub len: u32,
}

/// One tar entry of one layer.
#[derive(Clone, Copy, Debug)]
pub struct LayerEntry {
    pub node: NodeId,
    pub kind: EntryKind,
    /// The tar type flag byte, as dive reports it.
    pub typeflag: u8,
    /// Permission and special bits from the tar header (`mode & 0o7777`), plus the type bits
    /// from the header mode when present.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Size from the tar header.
    pub size: u64,
    /// Fast content hash of regular files (0 when not hashed).
    pub hash: u64,
    pub link: LinkRef,
    /// A hardlink's target, cleaned and interned once at load ([`ROOT`] for every other kind:
    /// the root is never a hardlink's target). Read it with [`Image::hardlink_target`].
    pub link_node: NodeId,
}

/// One step of the config's history.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HistoryEntry {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub empty_layer: bool,
}

impl HistoryEntry {
    /// The command as dive shows it: `created_by` without the `/bin/sh -c ` prefix.
    pub fn dive_command(&self) -> String {
        let c = self.created_by.as_deref().unwrap_or("");
        c.strip_prefix("/bin/sh -c ").unwrap_or(c).to_string()
    }

    /// The command cleaned for display: no `/bin/sh -c`, no `#(nop)`, trimmed.
    pub fn display_command(&self) -> String {
        clean_command(self.created_by.as_deref().unwrap_or(""))
    }

    /// What every front end calls the step: its cleaned command, else what the history's
    /// comment says it imported, else [`NO_HISTORY`].
    pub fn label(&self) -> String {
        label_or_fallback(self.display_command(), Some(self))
    }
}

/// The label of a layer without any history (one word for it everywhere).
pub const NO_HISTORY: &str = "(no history)";

/// A cleaned command, or when it is empty the history's comment (`(imported: debootstrap …)`),
/// else [`NO_HISTORY`].
pub fn label_or_fallback(command: String, h: Option<&HistoryEntry>) -> String {
    if !command.is_empty() {
        return command;
    }
    match h.and_then(|h| h.comment.as_deref()).map(str::trim) {
        Some(c) if !c.is_empty() => format!("(imported: {c})"),
        _ => NO_HISTORY.to_string(),
    }
}

/// `/bin/sh -c #(nop)  CMD ["sh"]` → `CMD ["sh"]`; `/bin/sh -c apt-get …` → `RUN apt-get …`.
pub fn clean_command(created_by: &str) -> String {
    let s = created_by.trim();
    let (s, shell) = match s.strip_prefix("/bin/sh -c ") {
        Some(rest) => (rest.trim(), true),
        None => match s.strip_prefix("|") {
            // buildkit RUN with build args: `|2 A=1 B=2 /bin/sh -c cmd`
            Some(_) => match s.find("/bin/sh -c ") {
                Some(i) => (s[i + "/bin/sh -c ".len()..].trim(), true),
                None => (s, false),
            },
            None => (s, false),
        },
    };
    if let Some(rest) = s.strip_prefix("#(nop)") {
        return rest.trim().to_string();
    }
    if shell {
        format!("RUN {s}")
    } else {
        s.to_string()
    }
}

/// The parts of the image config the analyses read.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub config: Option<RunConfig>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    /// `EXPOSE`d ports (`"8080/tcp"`), their values empty objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// One layer in manifest order.
#[derive(Clone, Debug)]
pub struct Layer {
    pub index: usize,
    /// dive's layer id: the layer's directory (legacy) or blob name.
    pub id: String,
    /// Digest of the blob as stored (`sha256:…`); for uncompressed layers equal to the diff_id.
    pub digest: String,
    /// Digest of the uncompressed tar stream.
    pub diff_id: String,
    pub compression: Compression,
    /// Bytes of the blob in the archive (what a pull transfers).
    pub compressed_bytes: u64,
    /// Bytes of the uncompressed tar stream.
    pub tar_bytes: u64,
    /// Sum of the tar header sizes of all entries (dive's layer size).
    pub size_bytes: u64,
    /// The history step that made this layer.
    pub history: Option<HistoryEntry>,
    /// Where that step is in [`ImageConfig::history`].
    pub history_index: Option<usize>,
    /// The `empty_layer` history steps right before this layer.
    pub empty_history: Vec<HistoryEntry>,
    pub entries: Vec<LayerEntry>,
}

impl Layer {
    /// dive's command string for this layer.
    pub fn dive_command(&self) -> String {
        self.history
            .as_ref()
            .map(|h| h.dive_command())
            .unwrap_or_default()
    }
    pub fn display_command(&self) -> String {
        self.history
            .as_ref()
            .map(|h| h.display_command())
            .unwrap_or_default()
    }

    /// The layer's label in every front end (see [`HistoryEntry::label`]).
    pub fn label(&self) -> String {
        label_or_fallback(self.display_command(), self.history.as_ref())
    }
}

/// A whole image: layers over one shared path table.
#[derive(Clone, Debug)]
pub struct Image {
    /// What the user named (path or reference).
    pub source: String,
    /// Tags known for the image (`RepoTags`, OCI ref names).
    pub tags: Vec<String>,
    pub format: InputFormat,
    /// `sha256:…` of the config blob (the image id).
    pub config_digest: String,
    pub config: ImageConfig,
    pub layers: Vec<Layer>,
    pub paths: PathTable,
    /// Arena of link targets.
    pub links: String,
    /// History steps after the last layer (e.g. CMD at the end), and any unpaired ones.
    pub trailing_history: Vec<HistoryEntry>,
    /// Extra facts from a daemon (inspect), when read from one.
    pub daemon: Option<DaemonInfo>,
    /// Warnings met while reading (one line each).
    pub warnings: Vec<String>,
    /// What [`crate::source::LoadOptions::capture`] kept, by (layer index, node).
    pub captured: std::collections::HashMap<(u32, NodeId), Vec<u8>>,
}

/// What the daemon's inspect says about an image.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonInfo {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: Option<String>,
    pub engine: String,
}

impl Image {
    pub fn link(&self, r: LinkRef) -> &str {
        self.links
            .get(r.off as usize..(r.off + r.len) as usize)
            .unwrap_or("")
    }

    /// The target node of a whiteout entry (`.wh.X` → `X`).
    pub fn whiteout_target(&self, e: &LayerEntry) -> Option<NodeId> {
        let name = self.paths.name(e.node);
        let target = name.strip_prefix(".wh.")?;
        let parent = self.paths.parent(e.node)?;
        self.paths.child(parent, target)
    }

    /// The node a hardlink entry points at (its target cleaned like an entry name, at load).
    pub fn hardlink_target(&self, e: &LayerEntry) -> Option<NodeId> {
        (e.kind == EntryKind::Hardlink && e.link_node != ROOT).then_some(e.link_node)
    }

    /// Captured content of `node`'s entry in `layer`, if it was captured.
    pub fn captured(&self, layer: usize, node: NodeId) -> Option<&[u8]> {
        self.captured
            .get(&(layer as u32, node))
            .map(|v| v.as_slice())
    }

    /// dive's size: sum of layer sizes.
    pub fn size_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.size_bytes).sum()
    }

    pub fn compressed_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.compressed_bytes).sum()
    }

    pub fn entry_count(&self) -> usize {
        self.layers.iter().map(|l| l.entries.len()).sum()
    }

    /// A short name for the image: first tag, else the source.
    pub fn display_name(&self) -> String {
        self.tags
            .first()
            .cloned()
            .unwrap_or_else(|| self.source.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_commands_like_people_write_them() {
        assert_eq!(
            clean_command("/bin/sh -c #(nop)  CMD [\"sh\"]"),
            "CMD [\"sh\"]"
        );
        assert_eq!(
            clean_command("/bin/sh -c apt-get update"),
            "RUN apt-get update"
        );
        assert_eq!(clean_command("|1 X=1 /bin/sh -c make"), "RUN make");
        assert_eq!(
            clean_command("COPY /out /app # buildkit"),
            "COPY /out /app # buildkit"
        );
        let h = HistoryEntry {
            created_by: Some("/bin/sh -c #(nop) ADD x in / ".into()),
            ..Default::default()
        };
        assert_eq!(h.dive_command(), "#(nop) ADD x in / ");
    }
}
