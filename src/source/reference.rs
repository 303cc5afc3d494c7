//! What the user named on the command line: a file or directory, or an image in a daemon.
//! Decides from the scheme (`docker://`, `oci://`, …), dive's `--source`, and whether the path exists.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Which daemon an image lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    /// The name people know it by, capitalised for messages.
    pub fn title(self) -> &'static str {
        match self {
            Engine::Docker => "Docker",
            Engine::Podman => "Podman",
        }
    }
    /// The scheme that names it in a reference (`docker://x`).
    pub fn scheme(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }
}

/// Where to read an image from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// An archive file or an OCI layout directory.
    Path(PathBuf),
    /// An image held by a daemon, by the reference the daemon knows it by (name, name:tag, id).
    Daemon { engine: Engine, reference: String },
    /// An image in a registry, read over the distribution API (`[host/]repo[:tag|@digest]`).
    Registry { reference: String },
}

/// Schemes that name a file or directory, as dive and skopeo spell them.
const PATH_SCHEMES: &[&str] = &["docker-archive", "oci-archive", "oci", "file"];
/// What `--source` accepts, for the error that lists them.
const SOURCES: &str = "docker, podman, registry, docker-archive, oci-archive, oci";

impl Target {
    /// Read `target` with the `--source` flag: a scheme in the target wins over the flag; with
    /// neither, an existing path is a file and anything else that reads as an image reference
    /// is an image in the Docker daemon.
    pub fn parse(target: &str, source: Option<&str>) -> Result<Target> {
        let (scheme, rest) = match target.split_once("://") {
            Some((s, r)) => (Some(s), r),
            None => (source, target),
        };
        let shown = || crate::text_fit::shown(target, crate::text_fit::QUOTE_MAX);
        if rest.is_empty() {
            return Err(Error::Usage(format!("{}: no image named", shown())));
        }
        let daemon = |engine: Engine| {
            if !is_reference(rest) {
                return Err(Error::Usage(format!(
                    "{}: not an image reference ([HOST[:PORT]/]NAME[:TAG][@DIGEST], or an image id)",
                    shown()
                )));
            }
            Ok(Target::Daemon {
                engine,
                reference: rest.to_string(),
            })
        };
        match scheme {
            Some("docker") => daemon(Engine::Docker),
            Some("podman") => daemon(Engine::Podman),
            Some("registry") => Ok(Target::Registry {
                reference: rest.to_string(),
            }),
            Some(s) if PATH_SCHEMES.contains(&s) => Ok(Target::Path(PathBuf::from(rest))),
            Some(other) => Err(Error::Usage(format!(
                "{}: unknown source {:?} (use one of: {SOURCES})",
                shown(),
                crate::text_fit::truncate(other, 40)
            ))),
            None => {
                let p = Path::new(rest);
                if p.exists() || !looks_like_reference(rest) {
                    // a missing file is reported by the reader, naming the path
                    Ok(Target::Path(p.to_path_buf()))
                } else {
                    Ok(Target::Daemon {
                        engine: Engine::Docker,
                        reference: rest.to_string(),
                    })
                }
            }
        }
    }
}

/// Whether `s` can name an image in a daemon rather than a file someone mistyped: a reference
/// by [`is_reference`], and nothing that only paths have (`./`, a leading `/` or `~`, an
/// archive extension).
pub fn looks_like_reference(s: &str) -> bool {
    const ARCHIVE_ENDINGS: &[&str] = &[
        ".tar",
        ".tar.gz",
        ".tgz",
        ".tar.zst",
        ".tar.zstd",
        ".oci",
        ".docker",
    ];
    let pathish = s.starts_with(['/', '.', '~'])
        || s.ends_with('/')
        || ARCHIVE_ENDINGS.iter().any(|e| s.ends_with(e));
    !pathish && is_reference(s)
}

/// The longest repository name, host included (distribution's `NameTotalLengthMax`).
const NAME_MAX: usize = 255;

/// The distribution reference grammar (`[host[:port]/]path[:tag][@digest]`), or an image id
/// (64 hex digits, with or without `sha256:`, or a prefix of 12 or more). The one check for
/// every image reference: `docker://`, `podman://` and `registry://` all pass through it, so
/// nothing outside the grammar (`..`, `?`, `%`, spaces, control characters) reaches a URL.
pub fn is_reference(s: &str) -> bool {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !is_digest(d)) {
        return false;
    }
    // an image id, full or short
    if digest.is_none() {
        let id = rest.strip_prefix("sha256:").unwrap_or(rest);
        if id.len() >= 12
            && id.len() <= 64
            && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return true;
        }
    }
    let (name, tag) = match rest.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, Some(t)),
        _ => (rest, None),
    };
    // `[\w][\w.-]{0,127}`
    let tag_ok = |t: &str| {
        t.len() <= 128
            && t.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    };
    if name.is_empty() || name.len() > NAME_MAX || tag.is_some_and(|t| !tag_ok(t)) {
        return false;
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // the first part is a registry host when it could not be a repository's: it has a dot,
    // a port or is `localhost`
    if parts.len() > 1 {
        let first = parts[0];
        if first.contains(['.', ':']) || first == "localhost" {
            if !is_host(first) {
                return false;
            }
            parts.remove(0);
        }
    }
    !parts.is_empty() && parts.iter().all(|p| is_path_component(p))
}

/// `domain-component ('.' domain-component)* [':' port]`, a component being letters, digits
/// and inner hyphens.
fn is_host(h: &str) -> bool {
    let (domain, port) = match h.rsplit_once(':') {
        Some((d, p)) => (d, Some(p)),
        None => (h, None),
    };
    let component = |c: &str| {
        !c.is_empty()
            && !c.starts_with('-')
            && !c.ends_with('-')
            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    domain.split('.').all(component)
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `algorithm:hex`: the algorithm `[A-Za-z][A-Za-z0-9]*` components joined by `+._-`, the hex
/// at least 32 digits.
fn is_digest(d: &str) -> bool {
    let Some((algo, hex)) = d.split_once(':') else {
        return false;
    };
    let algo_ok = algo.split(['+', '.', '_', '-']).all(|c| {
        c.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && c.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    algo_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, the grammar of one component of a repository name.
fn is_path_component(p: &str) -> bool {
    let b = p.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Split a reference for a pull: docker pulls every tag of an untagged name, so an untagged
/// name means `:latest`, as the docker CLI does.
pub fn pull_reference(reference: &str) -> String {
    if reference.contains('@') {
        return reference.to_string();
    }
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if last.contains(':') {
        reference.to_string()
    } else {
        format!("{reference}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon(engine: Engine, r: &str) -> Target {
        Target::Daemon {
            engine,
            reference: r.to_string(),
        }
    }

    #[test]
    fn schemes_choose_the_source() {
        assert_eq!(
            Target::parse("docker://app:1.2", None).ok(),
            Some(daemon(Engine::Docker, "app:1.2"))
        );
        assert_eq!(
            Target::parse("podman://app", None).ok(),
            Some(daemon(Engine::Podman, "app"))
        );
        assert_eq!(
            Target::parse("docker-archive://x.tar", None).ok(),
            Some(Target::Path("x.tar".into()))
        );
        assert_eq!(
            Target::parse("oci-archive:///tmp/x.tar", None).ok(),
            Some(Target::Path("/tmp/x.tar".into()))
        );
        assert_eq!(
            Target::parse("oci://dir", None).ok(),
            Some(Target::Path("dir".into()))
        );
        // the scheme wins over the flag
        assert_eq!(
            Target::parse("docker-archive://x", Some("docker")).ok(),
            Some(Target::Path("x".into()))
        );
        assert!(matches!(
            Target::parse("ftp://x", None),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            Target::parse("docker://", None),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn the_source_flag_means_the_same_as_a_scheme() {
        assert_eq!(
            Target::parse("app:1.2", Some("docker")).ok(),
            Some(daemon(Engine::Docker, "app:1.2"))
        );
        assert_eq!(
            Target::parse("app", Some("podman")).ok(),
            Some(daemon(Engine::Podman, "app"))
        );
        assert_eq!(
            Target::parse("app", Some("docker-archive")).ok(),
            Some(Target::Path("app".into()))
        );
        assert_eq!(
            Target::parse("reg.example/app:1", Some("registry")).ok(),
            Some(Target::Registry {
                reference: "reg.example/app:1".into()
            })
        );
        assert_eq!(
            Target::parse("registry://alpine:3.20", None).ok(),
            Some(Target::Registry {
                reference: "alpine:3.20".into()
            })
        );
    }

    #[test]
    fn a_name_that_is_no_path_goes_to_docker() {
        assert_eq!(
            Target::parse("myapp:1.2", None).ok(),
            Some(daemon(Engine::Docker, "myapp:1.2"))
        );
        assert_eq!(
            Target::parse("corpus/go-single-stage", None).ok(),
            Some(daemon(Engine::Docker, "corpus/go-single-stage"))
        );
        // a mistyped file stays a file, so the error names the path
        assert_eq!(
            Target::parse("missing.tar", None).ok(),
            Some(Target::Path("missing.tar".into()))
        );
        assert_eq!(
            Target::parse("./app", None).ok(),
            Some(Target::Path("./app".into()))
        );
        // an existing path is a file even when it reads as a name
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("app");
        std::fs::write(&p, b"x").expect("write");
        let s = p.display().to_string();
        assert_eq!(Target::parse(&s, None).ok(), Some(Target::Path(p.clone())));
    }

    #[test]
    fn reference_grammar() {
        for ok in [
            "alpine",
            "alpine:3.19",
            "library/alpine:latest",
            "ghcr.io/owner/app:v1.2-rc_1",
            "localhost:5000/app",
            "registry.example.com:443/a/b/c:tag",
            "a__b/c-d---e.f",
            "9c6021f006ee",
            "sha256:9c6021f006ee9c6021f006ee9c6021f006ee9c6021f006ee9c6021f006ee1234",
            "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(looks_like_reference(ok), "{ok} should read as a reference");
        }
        for bad in [
            "/abs/app",
            "./app",
            "~/app",
            "app.tar",
            "img.tar.gz",
            "App",
            "app:",
            "app:-x",
            "a..b",
            "-a",
            "dir/",
            "app@sha256:xyz",
        ] {
            assert!(
                !looks_like_reference(bad),
                "{bad} should not read as a reference"
            );
        }
    }

    #[test]
    fn daemon_references_outside_the_grammar_are_refused() {
        // these once went into the Docker API's URL as they were: `..` climbed out of
        // /images/ (to /events, /info) and `?` cut the path
        let long = format!("docker://{}", "a".repeat(120_000));
        for bad in [
            "docker://x/../../events?",
            "docker://x/../../info?",
            "podman://x/%2e%2e/info",
            "docker://app:1 x",
            "docker://app\n:1",
            "docker://-x.com/app",
            "docker://reg.example:port/app",
            "docker://app@md5:abc",
            long.as_str(),
        ] {
            let e = Target::parse(bad, None).err().map(|e| e.to_string());
            let e = e.unwrap_or_else(|| panic!("{bad:?} was taken"));
            assert!(e.contains("not an image reference"), "{e}");
            assert!(e.len() < 400, "a long reference is cut: {} bytes", e.len());
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(Target::parse("app:1 x", Some("docker")).is_err());
        // a name of 255 is the longest
        assert!(is_reference(&"a".repeat(255)));
        assert!(!is_reference(&"a".repeat(256)));
        assert!(is_reference("Reg.Example-1.com:5000/a/b:V1_x"));
        assert!(is_reference(&format!("a@sha256+b64.x:{}", "f".repeat(32))));
    }

    #[test]
    fn untagged_pulls_mean_latest() {
        assert_eq!(pull_reference("alpine"), "alpine:latest");
        assert_eq!(
            pull_reference("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(pull_reference("alpine:3"), "alpine:3");
        assert_eq!(pull_reference("alpine@sha256:ab"), "alpine@sha256:ab");
    }
}
