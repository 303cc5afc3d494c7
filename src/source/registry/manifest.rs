//! From a tag to one image manifest: Docker schema 2 and OCI manifests, manifest lists and OCI
//! indexes (the platform chosen as `--platform` says, else the host's), each checked against
//! its digest. Only JSON is read here; layers are [`super::blob`]'s.

use super::client::{one_line, Session};
use crate::error::Result;
use crate::source::layout::{host_platform, sha256_of};
use serde::Deserialize;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// What we ask for, most wanted first.
pub const ACCEPT: &[&str] = &[OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];
/// A manifest or index larger than this is refused (the spec suggests 4 MiB).
pub const MAX_MANIFEST: u64 = 4 << 20;
/// The same for a config blob.
pub const MAX_CONFIG: u64 = 64 << 20;

#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: Option<String>,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Deserialize, Clone, Debug)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    fn name(&self) -> String {
        match &self.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{v}", self.os, self.architecture),
            _ => format!("{}/{}", self.os, self.architecture),
        }
    }
    fn matches(&self, want: &str) -> bool {
        let mut w = want.split('/');
        let (os, arch, variant) = (w.next(), w.next(), w.next());
        os == Some(self.os.as_str())
            && arch == Some(self.architecture.as_str())
            && variant.is_none_or(|v| self.variant.as_deref() == Some(v))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// The image manifest chosen, as the registry sent it.
pub struct Resolved {
    pub bytes: Vec<u8>,
    pub digest: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// Follow the name's tag or digest through any index to one image manifest.
pub fn resolve(session: &Session, platform: Option<&str>) -> Result<Resolved> {
    let mut reference = session.name.reference().to_string();
    let mut expected = session.name.digest.clone();
    for _ in 0..4 {
        let (bytes, header_type) = session.manifest(&reference)?;
        let digest = sha256_of(&bytes);
        if let Some(exp) = expected.as_deref().filter(|e| e.starts_with("sha256:")) {
            if exp != digest {
                return Err(session.fail(format!(
                    "manifest {reference}: digest mismatch: expected {exp}, found {digest}"
                )));
            }
        }
        let doc: Document = serde_json::from_slice(&bytes)
            .map_err(|e| session.fail(format!("manifest {reference}: invalid JSON: {e}")))?;
        let media = doc.media_type.clone().or(header_type).unwrap_or_default();
        if doc.schema_version == Some(1)
            || media.starts_with("application/vnd.docker.distribution.manifest.v1")
        {
            return Err(session.fail(format!(
                "manifest {reference}: Docker schema 1 manifests are not supported (push the image again with a current tool)"
            )));
        }
        if let Some(list) = doc.manifests {
            for d in &list {
                check_digest(session, &d.digest)?;
            }
            let chosen = choose_platform(session, list, platform)?;
            reference = chosen.digest.clone();
            expected = Some(chosen.digest);
            continue;
        }
        if !(media.is_empty() || media == DOCKER_MANIFEST || media == OCI_MANIFEST) {
            return Err(session.fail(format!(
                "manifest {reference}: unsupported media type {}",
                one_line(&media, 100)
            )));
        }
        let config = doc
            .config
            .ok_or_else(|| session.fail(format!("manifest {reference}: has no config")))?;
        check_media_types(session, &config, doc.layers.as_deref().unwrap_or_default())?;
        return Ok(Resolved {
            bytes,
            digest,
            config,
            layers: doc.layers.unwrap_or_default(),
        });
    }
    Err(session.fail("indexes nest too deeply"))
}

/// The entry for `platform` (default: the host's); none means an error listing what there is.
fn choose_platform(
    session: &Session,
    list: Vec<Descriptor>,
    platform: Option<&str>,
) -> Result<Descriptor> {
    // attestations and signatures ride along as `unknown/unknown` entries
    let images: Vec<Descriptor> = list
        .into_iter()
        .filter(|d| d.platform.as_ref().is_none_or(|p| p.os != "unknown"))
        .collect();
    let host = host_platform();
    let want = platform.unwrap_or(&host);
    if let Some(d) = images
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| p.matches(want)))
    {
        return Ok(d.clone());
    }
    if images.len() == 1 && images[0].platform.is_none() {
        return Ok(images[0].clone());
    }
    let have: Vec<String> = images
        .iter()
        .filter_map(|d| d.platform.as_ref().map(Platform::name))
        .collect();
    let how = if platform.is_some() {
        ""
    } else {
        " (the host's; pick one with --platform)"
    };
    Err(session.fail(format!(
        "{}: no image for platform {want}{how}; the index has: {}",
        session.name.familiar(),
        if have.is_empty() {
            "no platforms".to_string()
        } else {
            have.join(", ")
        }
    )))
}

/// Refuse what is not a container image (a Helm chart, a signature) before any download.
fn check_media_types(session: &Session, config: &Descriptor, layers: &[Descriptor]) -> Result<()> {
    check_digest(session, &config.digest)?;
    for l in layers {
        check_digest(session, &l.digest)?;
    }
    let cfg = config.media_type.as_deref().unwrap_or("");
    let config_ok = cfg.is_empty()
        || cfg == "application/vnd.docker.container.image.v1+json"
        || cfg == "application/vnd.oci.image.config.v1+json";
    if !config_ok {
        return Err(session.fail(format!(
            "not a container image: its config has media type {}",
            one_line(cfg, 100)
        )));
    }
    for l in layers {
        let mt = l.media_type.as_deref().unwrap_or("");
        let layer_ok = mt.is_empty()
            || mt.starts_with("application/vnd.oci.image.layer.")
            || mt.starts_with("application/vnd.docker.image.rootfs.");
        if !layer_ok {
            return Err(session.fail(format!(
                "layer {}: unsupported media type {}",
                l.digest,
                one_line(mt, 100)
            )));
        }
    }
    Ok(())
}

/// `algorithm:encoded` as the OCI spec writes it; anything else could bend the URL it goes into.
fn check_digest(session: &Session, d: &str) -> Result<()> {
    let ok = d.split_once(':').is_some_and(|(alg, enc)| {
        !alg.is_empty()
            && !enc.is_empty()
            && alg
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
            && enc
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(session.fail(format!(
            "the manifest names a malformed digest {:?}",
            one_line(d, 80)
        )))
    }
}
