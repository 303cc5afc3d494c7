//! Which image an archive holds and where its pieces are: `manifest.json` (docker save, legacy
//! and OCI-era, kaniko) or `index.json` (OCI layout, nested indexes, platforms). Reads only
//! small JSON members; never touches layer bytes.

use crate::error::{Error, Result};
use crate::image::{ImageConfig, InputFormat};
use crate::source::archive::MemberIndex;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

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
}

#[derive(Clone, Debug)]
pub struct ImagePlan {
    pub format: InputFormat,
    pub tags: Vec<String>,
    pub config_member: String,
    pub config_digest: String,
    pub config: ImageConfig,
    pub layers: Vec<LayerPlan>,
    /// Said on stderr: which of several images was taken, and how to pick another.
    pub notes: Vec<String>,
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

/// Work out which image to read and where its config and layers are: by `manifest.json` when
/// there is one (docker save, kaniko), else by an OCI layout's `index.json`.
pub fn plan(idx: &MemberIndex, sel: &Selection, verify: bool) -> Result<ImagePlan> {
    if let Some(bytes) = idx.read_small("manifest.json")? {
        plan_docker(idx, sel, verify, &bytes)
    } else if let Some(bytes) = idx.read_small("index.json")? {
        plan_oci(idx, sel, verify, &bytes)
    } else {
        let what = if idx.dir.is_some() {
            "no index.json: not an OCI image layout directory"
        } else {
            "no manifest.json or index.json: not a container image archive"
        };
        Err(Error::not_image(&idx.archive, what))
    }
}

/// The docker planner: `manifest.json` names each image's config and layer members.
fn plan_docker(
    idx: &MemberIndex,
    sel: &Selection,
    verify: bool,
    manifest: &[u8],
) -> Result<ImagePlan> {
    let entries: Vec<DockerManifestEntry> = parse_json(idx, "manifest.json", manifest)?;
    let mut notes = Vec::new();
    let chosen = choose_docker_entry(idx, sel, &entries, &mut notes)?;
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
    let layers = chosen.layers.iter().map(|m| docker_layer_plan(m)).collect();
    let config_digest = sha256_of(&config_bytes);
    check_config_digest(
        idx,
        &chosen.config,
        &config_digest,
        digest_from_name(&chosen.config).as_deref(),
        verify,
    )?;
    Ok(ImagePlan {
        format,
        tags: chosen.repo_tags.clone().unwrap_or_default(),
        config_member: chosen.config.clone(),
        config_digest,
        config,
        layers,
        notes,
    })
}

/// The image of `manifest.json` the selection names, else the first (with a note when there
/// are several).
fn choose_docker_entry<'a>(
    idx: &MemberIndex,
    sel: &Selection,
    entries: &'a [DockerManifestEntry],
    notes: &mut Vec<String>,
) -> Result<&'a DockerManifestEntry> {
    let name_of = |e: &DockerManifestEntry| {
        e.repo_tags
            .as_ref()
            .and_then(|t| t.first().cloned())
            .unwrap_or_else(|| e.config.clone())
    };
    let Some(first) = entries.first() else {
        return Err(Error::member(
            &idx.archive,
            "manifest.json",
            "lists no images",
        ));
    };
    let Some(want) = &sel.image else {
        if entries.len() > 1 {
            notes.push(format!(
                "{}: holds {} images; reading {} (pick another with --image NAME:TAG)",
                idx.archive,
                entries.len(),
                name_of(first)
            ));
        }
        return Ok(first);
    };
    entries
        .iter()
        .find(|e| {
            e.repo_tags.iter().flatten().any(|t| tag_matches(want, t))
                || digest_from_name(&e.config).is_some_and(|d| digest_matches(want, &d))
        })
        .ok_or_else(|| {
            let have: Vec<String> = entries.iter().map(name_of).collect();
            Error::member(
                &idx.archive,
                "manifest.json",
                format!("no image {want:?} here; it holds: {}", have.join(", ")),
            )
        })
}

/// A layer member of `manifest.json`: dive's id is its directory (legacy) or blob name; its
/// digest is known from names that carry one (OCI blobs, kaniko's `<hex>.tar.gz`).
fn docker_layer_plan(m: &str) -> LayerPlan {
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
        member: m.to_string(),
        id,
        expected_blob,
    }
}

/// The OCI planner: `index.json` (maybe nested indexes) → one image manifest → config and
/// layer blobs.
fn plan_oci(idx: &MemberIndex, sel: &Selection, verify: bool, index: &[u8]) -> Result<ImagePlan> {
    let index: OciIndexOrManifest = parse_json(idx, "index.json", index)?;
    let format = if idx.dir.is_some() {
        InputFormat::OciDir
    } else {
        InputFormat::OciArchive
    };
    let candidates = oci_candidates(idx, &index, verify)?;
    let mut notes = Vec::new();
    let (desc, name) = choose_oci_manifest(idx, sel, candidates, &mut notes)?;
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
            expected_blob: Some(d.digest),
        })
        .collect();
    Ok(ImagePlan {
        format,
        tags: name.into_iter().collect(),
        config_member: cmember,
        config_digest,
        config,
        layers,
        notes,
    })
}

/// An index (nested ones included) listing more manifests than this is refused; real
/// multi-platform indexes list tens.
pub const MAX_DESCRIPTORS: usize = 10_000;

/// The image manifests an index lists, nested indexes flattened, attestations left out; each
/// with the name its annotations give (inherited from the index that lists it).
///
/// Each nested index is read and parsed once however often it is listed, its digest checked
/// when verifying, and the walk stops past [`MAX_DESCRIPTORS`]: a 30 KB archive of indexes
/// listing each other 10 times over 5 levels once spelled out a million images.
fn oci_candidates(
    idx: &MemberIndex,
    index: &OciIndexOrManifest,
    verify: bool,
) -> Result<Vec<(Descriptor, Option<String>)>> {
    let mut nested_seen: HashMap<String, Vec<Descriptor>> = HashMap::new();
    let mut walked = 0usize;
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
        walked += 1;
        if walked > MAX_DESCRIPTORS {
            return Err(Error::member(
                &idx.archive,
                "index.json",
                format!("lists more than {MAX_DESCRIPTORS} manifests (nested indexes included)"),
            ));
        }
        let mt = d.media_type.as_deref().unwrap_or("");
        if !(mt.contains("index") || mt.contains("manifest.list")) {
            candidates.push((d, name));
            continue;
        }
        let member = blob_member(&d.digest);
        if depth > 8 {
            return Err(Error::member(
                &idx.archive,
                &member,
                "indexes nest too deeply",
            ));
        }
        if !nested_seen.contains_key(&member) {
            let b = idx
                .read_small(&member)?
                .ok_or_else(|| Error::member(&idx.archive, &member, "nested index is missing"))?;
            if verify {
                let got = sha256_of(&b);
                if d.digest.starts_with("sha256:") && got != d.digest {
                    return Err(Error::DigestMismatch {
                        archive: idx.archive.clone(),
                        member,
                        what: "index digest",
                        expected: d.digest.clone(),
                        found: got,
                    });
                }
            }
            let nested: OciIndexOrManifest = parse_json(idx, &member, &b)?;
            nested_seen.insert(member.clone(), nested.manifests.unwrap_or_default());
        }
        let children = nested_seen.get(&member).cloned().unwrap_or_default();
        for n in children.into_iter().rev() {
            let nn = ref_name(&n).or_else(|| name.clone());
            stack.push((n, nn, depth + 1));
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
    Ok(candidates)
}

/// The manifest the selection names (by name or digest, then platform; the host's platform
/// when several and none asked), with notes saying which was taken.
fn choose_oci_manifest(
    idx: &MemberIndex,
    sel: &Selection,
    mut candidates: Vec<(Descriptor, Option<String>)>,
    notes: &mut Vec<String>,
) -> Result<(Descriptor, Option<String>)> {
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
    let on = |want: &str, d: &Descriptor| {
        d.platform
            .as_ref()
            .is_some_and(|p| platform_matches(want, p))
    };
    if let Some(want) = &sel.platform {
        candidates.retain(|(d, _)| on(want, d));
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
        if candidates.iter().any(|(d, _)| on(&host, d)) {
            candidates.retain(|(d, _)| on(&host, d));
        }
        // each platform once, in index order: a huge index repeats them
        let mut listed: Vec<&str> = Vec::new();
        for p in &platforms {
            if !listed.contains(&p.as_str()) {
                listed.push(p);
            }
        }
        notes.push(format!(
            "{}: multi-platform index ({}); reading {} (pick another with --platform)",
            idx.archive,
            listed.join(", "),
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
    Ok(candidates.swap_remove(0))
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
