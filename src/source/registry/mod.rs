//! Reading an image straight from a registry over the distribution API, no daemon: resolve the
//! name to one manifest, then hand its blobs to the same layer reader archives use, streamed.
//! Writes nothing anywhere; credentials never reach output.
//!
//! The registry is presented to the loader as an OCI layout whose small members (index,
//! manifest, config) are already in memory and whose layers are [`MemberBody::Remote`] blobs,
//! so planning, digest checks and the parallel layer reading are the ones every source uses.

mod blob;
mod client;
pub mod credentials;
mod manifest;
pub mod name;
pub mod tls;

use super::archive::{Member, MemberBody, MemberIndex, RemoteBlob};
use super::{LoadOptions, Selection};
use crate::error::Result;
use crate::image::{Image, InputFormat};
use client::Session;
use name::ImageName;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// How to reach registries, from the command line.
#[derive(Clone, Debug, Default)]
pub struct RegistrySettings {
    /// `HOST[:PORT]`s reached over plain HTTP or TLS without verification (`--insecure-registry`).
    pub insecure: Vec<String>,
    /// One folder of CAs (`*.crt`) and a client pair (`*.cert` + `*.key`) instead of the
    /// `certs.d` folders (`--cert-dir`, as skopeo's).
    pub cert_dir: Option<PathBuf>,
    /// Where to look for credentials; `None`: where the environment says.
    pub credentials: Option<credentials::Locations>,
}

impl RegistrySettings {
    fn is_insecure(&self, registry: &str) -> bool {
        let host = registry.rsplit_once(':').map_or(registry, |(h, _)| h);
        self.insecure.iter().any(|i| i == registry || i == host)
    }
}

/// Read `reference` (`[HOST[:PORT]/]REPO[:TAG|@DIGEST]`, Hub short names allowed).
pub fn load(reference: &str, settings: &RegistrySettings, opts: &LoadOptions) -> Result<Image> {
    let name = ImageName::parse(reference)?;
    let session = Arc::new(Session::open(name, settings)?);
    let resolved = manifest::resolve(&session, opts.selection.platform.as_deref())?;
    let config = session.small_blob(&resolved.config.digest, manifest::MAX_CONFIG)?;
    let fetcher = blob::Fetcher::new(session.clone(), opts.progress.clone());
    let idx = member_index(&session, &resolved, config, &fetcher)?;
    // the name chose the image and the resolver its platform: the planner sees one candidate
    let load_opts = LoadOptions {
        selection: Selection::default(),
        ..opts.clone()
    };
    let source = format!("registry://{}", session.name.full());
    let loaded = super::load_index(idx, source, &load_opts);
    if loaded.is_err() && opts.progress.as_ref().is_some_and(|p| p.cancelled()) {
        return Err(crate::error::Error::Cancelled);
    }
    if let Some(f) = fetcher.take_failure() {
        return Err(session.fail(f));
    }
    let mut image = loaded?;
    image.format = InputFormat::Registry;
    Ok(image)
}

/// `reference` resolved again as for [`load`], as an OCI layout whose layers are fetched when
/// read, named as the load names it (so the load's access points apply): for reading single
/// files ([`crate::source::refetch`]). Nothing is downloaded here but the manifest and config.
pub fn remote_index(
    reference: &str,
    settings: &RegistrySettings,
    platform: Option<&str>,
) -> Result<MemberIndex> {
    let name = ImageName::parse(reference)?;
    let session = Arc::new(Session::open(name, settings)?);
    let resolved = manifest::resolve(&session, platform)?;
    let config = session.small_blob(&resolved.config.digest, manifest::MAX_CONFIG)?;
    let fetcher = blob::Fetcher::new(session.clone(), None);
    member_index(&session, &resolved, config, &fetcher)
}

/// The resolved image as an OCI layout: JSON in memory, layers fetched when read.
fn member_index(
    session: &Arc<Session>,
    resolved: &manifest::Resolved,
    config: Vec<u8>,
    fetcher: &blob::Fetcher,
) -> Result<MemberIndex> {
    let mut members = HashMap::new();
    let mut put = |name: String, size: u64, body: MemberBody| {
        members.insert(name.clone(), Member { name, size, body });
    };
    let bytes = |b: Vec<u8>| (b.len() as u64, MemberBody::Bytes(Arc::new(b)));
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": manifest::OCI_INDEX,
        "manifests": [{
            "mediaType": manifest::OCI_MANIFEST,
            "digest": resolved.digest,
            "size": resolved.bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": session.name.familiar()},
        }],
    });
    let (n, b) = bytes(serde_json::to_vec(&index).unwrap_or_default());
    put("index.json".into(), n, b);
    let (n, b) = bytes(br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
    put("oci-layout".into(), n, b);
    let (n, b) = bytes(resolved.bytes.clone());
    put(blob_member(&resolved.digest), n, b);
    let (n, b) = bytes(config);
    put(blob_member(&resolved.config.digest), n, b);
    let fetcher: Arc<dyn super::archive::BlobFetcher> = Arc::new(fetcher.clone());
    for l in &resolved.layers {
        if l.size == 0 {
            return Err(session.fail(format!("layer {}: the manifest gives no size", l.digest)));
        }
        put(
            blob_member(&l.digest),
            l.size,
            MemberBody::Remote(RemoteBlob {
                fetcher: fetcher.clone(),
                digest: l.digest.clone(),
            }),
        );
    }
    Ok(MemberIndex {
        archive: format!("registry://{}", session.name.full()),
        members,
        file: None,
        dir: None,
        parsed: HashMap::new(),
        truncated_after: None,
    })
}

/// Where an OCI layout keeps a blob (the planner's naming).
fn blob_member(digest: &str) -> String {
    match digest.split_once(':') {
        Some((alg, hex)) => format!("blobs/{alg}/{hex}"),
        None => format!("blobs/sha256/{digest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_hosts_match_with_or_without_port() {
        let s = RegistrySettings {
            insecure: vec!["reg.local".into(), "127.0.0.1:5000".into()],
            ..Default::default()
        };
        assert!(s.is_insecure("reg.local:443"));
        assert!(s.is_insecure("reg.local"));
        assert!(s.is_insecure("127.0.0.1:5000"));
        assert!(!s.is_insecure("127.0.0.1:5001"));
        assert!(!s.is_insecure("docker.io"));
    }
}
