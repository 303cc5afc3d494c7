//! An image name as the docker CLI reads it: `[host[:port]/]repo[:tag][@digest]`, Docker Hub's
//! short names expanded (`alpine` → `docker.io/library/alpine:latest`). Parses only; no I/O.

use crate::error::{Error, Result};
use crate::source::reference::is_reference;

/// Docker Hub as image names spell it, and the host its API answers on.
pub const HUB: &str = "docker.io";
const HUB_API: &str = "registry-1.docker.io";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageName {
    /// `host[:port]` as written (`docker.io` for Hub names).
    pub registry: String,
    /// `library/alpine`, `owner/app`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageName {
    /// Read a name the way `docker pull` does; an untagged name means `:latest`.
    pub fn parse(s: &str) -> Result<ImageName> {
        let bad = |why: &str| {
            let s = crate::text_fit::shown(s, crate::text_fit::QUOTE_MAX);
            Error::Usage(format!("registry://{s}: {why}"))
        };
        if !is_reference(s) {
            return Err(bad(
                "not an image name ([HOST[:PORT]/]REPOSITORY[:TAG|@DIGEST])",
            ));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (s, None),
        };
        let (name, tag) = match rest.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t.to_string())),
            _ => (rest, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, repo)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_string(), repo.to_string())
            }
            _ => (HUB.to_string(), name.to_string()),
        };
        if let Some((_, port)) = registry.split_once(':') {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("the registry's port is not a number"));
            }
        }
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => HUB.to_string(),
            _ => registry,
        };
        let repository = if registry == HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        if repository.is_empty() {
            return Err(bad("no repository named"));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_string()),
            _ => tag,
        };
        Ok(ImageName {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The host the registry's API answers on.
    pub fn api_host(&self) -> &str {
        if self.registry == HUB {
            HUB_API
        } else {
            &self.registry
        }
    }

    /// What goes after `/manifests/`: the digest when there is one, else the tag.
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// `host/repo:tag` (or `@digest`) in full.
    pub fn full(&self) -> String {
        format!("{}/{}{}", self.registry, self.repository, self.suffix())
    }

    /// The short form docker prints: Hub's `docker.io/` and `library/` left out.
    pub fn familiar(&self) -> String {
        let repo = if self.registry == HUB {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_string()
        } else {
            format!("{}/{}", self.registry, self.repository)
        };
        format!("{repo}{}", self.suffix())
    }

    fn suffix(&self) -> String {
        match (&self.tag, &self.digest) {
            (_, Some(d)) => format!("@{d}"),
            (Some(t), None) => format!(":{t}"),
            (None, None) => String::new(),
        }
    }

    /// How errors begin: which registry, which repository.
    pub fn context(&self) -> String {
        format!("registry {}, repository {}", self.registry, self.repository)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> (String, String, Option<String>, Option<String>) {
        let n = ImageName::parse(s).expect("parses");
        (n.registry, n.repository, n.tag, n.digest)
    }

    #[test]
    fn hub_short_names_resolve_as_docker_does() {
        assert_eq!(
            parts("alpine:3.20"),
            (
                "docker.io".into(),
                "library/alpine".into(),
                Some("3.20".into()),
                None
            )
        );
        assert_eq!(
            parts("bitnami/redis"),
            (
                "docker.io".into(),
                "bitnami/redis".into(),
                Some("latest".into()),
                None
            )
        );
        let n = ImageName::parse("alpine:3.20").expect("parses");
        assert_eq!(n.api_host(), "registry-1.docker.io");
        assert_eq!(n.full(), "docker.io/library/alpine:3.20");
        assert_eq!(n.familiar(), "alpine:3.20");
        assert_eq!(
            ImageName::parse("index.docker.io/library/alpine")
                .expect("parses")
                .registry,
            "docker.io"
        );
    }

    #[test]
    fn hosts_ports_and_digests() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            parts(&format!("localhost:5000/team/app@{d}")),
            (
                "localhost:5000".into(),
                "team/app".into(),
                None,
                Some(d.clone())
            )
        );
        let n = ImageName::parse("ghcr.io/owner/app:v1").expect("parses");
        assert_eq!(n.api_host(), "ghcr.io");
        assert_eq!(n.reference(), "v1");
        assert_eq!(n.familiar(), "ghcr.io/owner/app:v1");
        assert_eq!(n.context(), "registry ghcr.io, repository owner/app");
        let n = ImageName::parse(&format!("127.0.0.1:5000/app:1@{d}")).expect("parses");
        assert_eq!(n.reference(), d);
    }

    #[test]
    fn what_is_no_name() {
        for bad in ["", "App:1", "/abs", "a:b:c/d", "x@sha256:zz"] {
            assert!(ImageName::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
