//! Which image an archive holds and where its pieces are: `manifest.json` (docker save, legacy
//! and OCI-era, kaniko) or `index.json` (OCI layout, nested indexes, platforms). Reads only
//! small JSON members; never touches layer bytes.

use crate::error::{Error, Result};
use crate::image::{ImageConfig, InputFormat};
use crate::source::archive::MemberIndex;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Which image to take when an archive holds several.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// `NAME:TAG` or a digest (`sha256:…`, or a unique prefix of the hex).
    pub image: Option<String>,
    /// `os/arch[/variant]`; default: the host's.
    pub platform: Option<String>,
}

#[derive(Clone, Debug)]
pub struct LayerPlan {
    pub member: String,
    /// dive's layer id.
    pub id: String,
    pub expected_blob: Option<String>,
    pub media_type: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ImagePlan {
    pub format: InputFormat,
    pub tags: Vec<String>,
    pub config_member: String,
    pub config_digest: String,
    pub expected_config_digest: Option<String>,
    pub config: ImageConfig,
    pub layers: Vec<LayerPlan>,
    /// Said on stderr: which of several images was taken, and how to pick another.
    pub notes: Vec<String>,
    /// Annotations and labels that name a base image.
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: Option<String>,
    digest: String,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Clone, Debug)]
struct Platform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
}

impl Platform {
    fn as_string(&self) -> String {
        match &self.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{}", self.os, self.architecture, v),
            _ => format!("{}/{}", self.os, self.architecture),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OciIndexOrManifest {
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// The host's platform as OCI names it.
pub fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        other => other,
    };
    format!("linux/{arch}")
}

fn blob_member(digest: &str) -> String {
    match digest.split_once(':') {
        Some((alg, hex)) => format!("blobs/{alg}/{hex}"),
        None => format!("blobs/sha256/{digest}"),
    }
}

/// A digest named by a member's path: `blobs/sha256/<hex>`, kaniko's `<hex>.tar.gz`,
/// legacy `<hex>.json` configs, kaniko's `sha256:<hex>` configs.
fn digest_from_name(name: &str) -> Option<String> {
    let base = name.rsplit('/').next().unwrap_or(name);
    if let Some(rest) = name.strip_prefix("blobs/sha256/") {
        return is_hex64(rest).then(|| format!("sha256:{rest}"));
    }
    let stem = base.strip_prefix("sha256:").unwrap_or(base);
    let stem = stem
        .strip_suffix(".tar.gz")
        .or_else(|| stem.strip_suffix(".json"))
        .unwrap_or(stem);
    is_hex64(stem).then(|| format!("sha256:{stem}"))
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn sha256_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn parse_json<T: for<'de> Deserialize<'de>>(
    idx: &MemberIndex,
    member: &str,
    bytes: &[u8],
) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::member(&idx.archive, member, format!("invalid JSON: {e}")))
}

fn digest_matches(wanted: &str, digest: &str) -> bool {
    let w = wanted.strip_prefix("sha256:").unwrap_or(wanted);
    let d = digest.strip_prefix("sha256:").unwrap_or(digest);
    w.len() >= 6 && d.starts_with(w)
}

fn tag_matches(wanted: &str, tag: &str) -> bool {
    if wanted == tag {
        return true;
    }
    // `name` means `name:latest`; `docker.io/library/x:t` and `x:t` are the same image
    let norm = |s: &str| {
        let s = s.strip_prefix("docker.io/").unwrap_or(s);
        let s = s.strip_prefix("library/").unwrap_or(s).to_string();
        let last = s.rsplit('/').next().unwrap_or(&s);
        if last.contains(':') || last.contains('@') {
            s
        } else {
            format!("{s}:latest")
        }
    };
    norm(wanted) == norm(tag)
}

/// Work out which image to read and where its config and layers are.
pub fn plan(idx: &MemberIndex, sel: &Selection, verify: bool) -> Result<ImagePlan> {
    if let Some(bytes) = idx.read_small("manifest.json")? {
        let entries: Vec<DockerManifestEntry> = parse_json(idx, "manifest.json", &bytes)?;
        if entries.is_empty() {
            return Err(Error::member(
                &idx.archive,
                "manifest.json",
                "lists no images",
            ));
        }
        let mut notes = Vec::new();
        let chosen = match &sel.image {
            Some(want) => entries
                .iter()
                .find(|e| {
                    e.repo_tags.iter().flatten().any(|t| tag_matches(want, t))
                        || digest_from_name(&e.config).is_some_and(|d| digest_matches(want, &d))
                })
                .ok_or_else(|| {
                    let have: Vec<String> = entries
                        .iter()
                        .map(|e| {
                            e.repo_tags
                                .as_ref()
                                .and_then(|t| t.first().cloned())
                                .unwrap_or_else(|| e.config.clone())
                        })
                        .collect();
                    Error::member(
                        &idx.archive,
                        "manifest.json",
                        format!("no image {want:?} here; it holds: {}", have.join(", ")),
                    )
                })?,
            None => {
                let first = &entries[0];
                if entries.len() > 1 {
                    let name = first
                        .repo_tags
                        .as_ref()
                        .and_then(|t| t.first().cloned())
                        .unwrap_or_else(|| first.config.clone());
                    notes.push(format!(
                        "{}: holds {} images; reading {name} (pick another with --image NAME:TAG)",
                        idx.archive,
                        entries.len()
                    ));
                }
                first
            }
        };
        let has_oci = idx.contains("index.json") || idx.contains("oci-layout");
        let kaniko = !has_oci && chosen.layers.iter().any(|l| l.ends_with(".tar.gz"));
        let format = if has_oci {
            InputFormat::DockerOciArchive
        } else if kaniko {
            InputFormat::Kaniko
        } else {
            InputFormat::DockerArchive
        };
        let config_bytes = idx.read_small(&chosen.config)?.ok_or_else(|| {
            Error::member(
                &idx.archive,
                &chosen.config,
                "config listed in manifest.json is missing",
            )
        })?;
        let config: ImageConfig = parse_json(idx, &chosen.config, &config_bytes)?;
        let layers = chosen
            .layers
            .iter()
            .map(|m| {
                let id = if let Some(rest) = m.strip_prefix("blobs/") {
                    rest.rsplit('/').next().unwrap_or(rest).to_string()
                } else if m.contains('/') {
                    m.split('/').next().unwrap_or(m).to_string()
                } else {
                    m.strip_suffix(".tar.gz")
                        .or_else(|| m.strip_suffix(".tar"))
                        .unwrap_or(m)
                        .to_string()
                };
                let expected_blob = if m.starts_with("blobs/") || m.ends_with(".tar.gz") {
                    digest_from_name(m)
                } else {
                    None
                };
                LayerPlan {
                    member: m.clone(),
                    id,
                    expected_blob,
                    media_type: None,
                }
            })
            .collect();
        let config_digest = sha256_of(&config_bytes);
        let expected_config_digest = digest_from_name(&chosen.config);
        check_config_digest(
            idx,
            &chosen.config,
            &config_digest,
            expected_config_digest.as_deref(),
            verify,
        )?;
        let mut annotations = BTreeMap::new();
        if let Some(labels) = config.config.as_ref().and_then(|c| c.labels.clone()) {
            annotations.extend(labels);
        }
        return Ok(ImagePlan {
            format,
            tags: chosen.repo_tags.clone().unwrap_or_default(),
            config_member: chosen.config.clone(),
            config_digest,
            expected_config_digest,
            config,
            layers,
            notes,
            annotations,
        });
    }
    if let Some(bytes) = idx.read_small("index.json")? {
        let index: OciIndexOrManifest = parse_json(idx, "index.json", &bytes)?;
        let format = if idx.dir.is_some() {
            InputFormat::OciDir
        } else {
            InputFormat::OciArchive
        };
        // flatten nested indexes into candidate manifests
        let mut candidates: Vec<(Descriptor, Option<String>)> = Vec::new();
        let mut stack: Vec<(Descriptor, Option<String>, usize)> = index
            .manifests
            .clone()
            .unwrap_or_default()
            .into_iter()
            .rev()
            .map(|d| {
                let name = ref_name(&d);
                (d, name, 0)
            })
            .collect();
        if stack.is_empty() && index.config.is_some() {
            return Err(Error::member(
                &idx.archive,
                "index.json",
                "is a manifest, not an index",
            ));
        }
        while let Some((d, name, depth)) = stack.pop() {
            let mt = d.media_type.as_deref().unwrap_or("");
            if mt.contains("index") || mt.contains("manifest.list") {
                if depth > 8 {
                    return Err(Error::member(
                        &idx.archive,
                        &blob_member(&d.digest),
                        "indexes nest too deeply",
                    ));
                }
                let member = blob_member(&d.digest);
                let b = idx.read_small(&member)?.ok_or_else(|| {
                    Error::member(&idx.archive, &member, "nested index is missing")
                })?;
                let nested: OciIndexOrManifest = parse_json(idx, &member, &b)?;
                for n in nested.manifests.unwrap_or_default().into_iter().rev() {
                    let nn = ref_name(&n).or_else(|| name.clone());
                    stack.push((n, nn, depth + 1));
                }
            } else {
                candidates.push((d, name));
            }
        }
        // attestations are not images
        candidates.retain(|(d, _)| {
            d.platform
                .as_ref()
                .map(|p| p.os != "unknown")
                .unwrap_or(true)
                && d.annotations.as_ref().is_none_or(|a| {
                    a.get("vnd.docker.reference.type")
                        .is_none_or(|t| t != "attestation-manifest")
                })
        });
        if candidates.is_empty() {
            return Err(Error::member(
                &idx.archive,
                "index.json",
                "lists no image manifests",
            ));
        }
        let mut notes = Vec::new();
        if let Some(want) = &sel.image {
            candidates.retain(|(d, n)| {
                n.as_deref()
                    .is_some_and(|n| tag_matches(want, n) || n == want)
                    || digest_matches(want, &d.digest)
            });
            if candidates.is_empty() {
                return Err(Error::member(
                    &idx.archive,
                    "index.json",
                    format!("no image {want:?} here"),
                ));
            }
        }
        let platforms: Vec<String> = candidates
            .iter()
            .filter_map(|(d, _)| d.platform.as_ref().map(|p| p.as_string()))
            .collect();
        let distinct: std::collections::BTreeSet<&String> = platforms.iter().collect();
        if let Some(want) = &sel.platform {
            candidates.retain(|(d, _)| {
                d.platform
                    .as_ref()
                    .is_some_and(|p| platform_matches(want, p))
            });
            if candidates.is_empty() {
                return Err(Error::member(
                    &idx.archive,
                    "index.json",
                    format!(
                        "no image for platform {want}; it has: {}",
                        platforms.join(", ")
                    ),
                ));
            }
        } else if distinct.len() > 1 {
            let host = host_platform();
            let keep: Vec<_> = candidates
                .iter()
                .filter(|(d, _)| {
                    d.platform
                        .as_ref()
                        .is_some_and(|p| platform_matches(&host, p))
                })
                .cloned()
                .collect();
            if !keep.is_empty() {
                candidates = keep;
            }
            notes.push(format!(
                "{}: multi-platform index ({}); reading {} (pick another with --platform)",
                idx.archive,
                platforms.join(", "),
                candidates[0]
                    .0
                    .platform
                    .as_ref()
                    .map(|p| p.as_string())
                    .unwrap_or_default()
            ));
        }
        if candidates.len() > 1 {
            notes.push(format!(
                "{}: holds {} images; reading {} (pick another with --image)",
                idx.archive,
                candidates.len(),
                candidates[0]
                    .1
                    .clone()
                    .unwrap_or_else(|| candidates[0].0.digest.clone())
            ));
        }
        let (desc, name) = candidates.swap_remove(0);
        let mmember = blob_member(&desc.digest);
        let mbytes = idx.read_small(&mmember)?.ok_or_else(|| {
            Error::member(
                &idx.archive,
                &mmember,
                "image manifest listed in index.json is missing",
            )
        })?;
        if verify {
            let got = sha256_of(&mbytes);
            if desc.digest.starts_with("sha256:") && got != desc.digest {
                return Err(Error::DigestMismatch {
                    archive: idx.archive.clone(),
                    member: mmember,
                    what: "manifest digest",
                    expected: desc.digest.clone(),
                    found: got,
                });
            }
        }
        let manifest: OciIndexOrManifest = parse_json(idx, &mmember, &mbytes)?;
        let cdesc = manifest
            .config
            .ok_or_else(|| Error::member(&idx.archive, &mmember, "manifest has no config"))?;
        let cmember = blob_member(&cdesc.digest);
        let cbytes = idx
            .read_small(&cmember)?
            .ok_or_else(|| Error::member(&idx.archive, &cmember, "config blob is missing"))?;
        let config: ImageConfig = parse_json(idx, &cmember, &cbytes)?;
        let config_digest = sha256_of(&cbytes);
        check_config_digest(idx, &cmember, &config_digest, Some(&cdesc.digest), verify)?;
        let layers = manifest
            .layers
            .unwrap_or_default()
            .into_iter()
            .map(|d| LayerPlan {
                member: blob_member(&d.digest),
                id: d
                    .digest
                    .split_once(':')
                    .map(|(_, h)| h.to_string())
                    .unwrap_or_else(|| d.digest.clone()),
                expected_blob: Some(d.digest.clone()),
                media_type: d.media_type.clone(),
            })
            .collect();
        let mut annotations = BTreeMap::new();
        if let Some(labels) = config.config.as_ref().and_then(|c| c.labels.clone()) {
            annotations.extend(labels);
        }
        annotations.extend(manifest.annotations.unwrap_or_default());
        return Ok(ImagePlan {
            format,
            tags: name.into_iter().collect(),
            config_member: cmember,
            config_digest,
            expected_config_digest: Some(cdesc.digest),
            config,
            layers,
            notes,
            annotations,
        });
    }
    let what = if idx.dir.is_some() {
        "no index.json: not an OCI image layout directory"
    } else {
        "no manifest.json or index.json: not a container image archive"
    };
    Err(Error::not_image(&idx.archive, what))
}

fn check_config_digest(
    idx: &MemberIndex,
    member: &str,
    got: &str,
    expected: Option<&str>,
    verify: bool,
) -> Result<()> {
    if let (true, Some(exp)) = (verify, expected) {
        if exp.starts_with("sha256:") && exp != got {
            return Err(Error::DigestMismatch {
                archive: idx.archive.clone(),
                member: member.to_string(),
                what: "config digest",
                expected: exp.to_string(),
                found: got.to_string(),
            });
        }
    }
    Ok(())
}

fn ref_name(d: &Descriptor) -> Option<String> {
    let a = d.annotations.as_ref()?;
    a.get("io.containerd.image.name")
        .or_else(|| a.get("org.opencontainers.image.ref.name"))
        .cloned()
}

fn platform_matches(want: &str, p: &Platform) -> bool {
    let mut parts = want.split('/');
    let os = parts.next().unwrap_or("");
    let arch = parts.next().unwrap_or("");
    let variant = parts.next();
    os == p.os && arch == p.architecture && variant.is_none_or(|v| p.variant.as_deref() == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_from_member_names() {
        let h = "a".repeat(64);
        assert_eq!(
            digest_from_name(&format!("blobs/sha256/{h}")),
            Some(format!("sha256:{h}"))
        );
        assert_eq!(
            digest_from_name(&format!("{h}.tar.gz")),
            Some(format!("sha256:{h}"))
        );
        assert_eq!(
            digest_from_name(&format!("sha256:{h}")),
            Some(format!("sha256:{h}"))
        );
        assert_eq!(digest_from_name(&format!("{h}/layer.tar")), None);
    }

    #[test]
    fn tags_match_the_way_docker_names_them() {
        assert!(tag_matches("app", "app:latest"));
        assert!(tag_matches("docker.io/library/app:1", "app:1"));
        assert!(!tag_matches("app:1", "app:2"));
    }
}
