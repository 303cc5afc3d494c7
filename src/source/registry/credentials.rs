//! Finding a registry's credentials where podman, skopeo and the docker CLI keep them. Reads
//! files and runs `docker-credential-*` helpers; never prints or logs a secret.
//!
//! Not the `docker_credential` crate: it reads one file per call and cannot say which sources
//! it tried (which a 401 message needs), and it has no notion of repository-scoped keys.
//!
//! Order, as containers/image does it: `$REGISTRY_AUTH_FILE`, else
//! `$XDG_RUNTIME_DIR/containers/auth.json`; then the docker CLI's config
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): `credHelpers` for the host,
//! else `credsStore`, else `auths`.

use super::name::HUB;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A secret, kept out of `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// A refresh token for the token endpoint (`identitytoken` in config.json).
    IdentityToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, <hidden>)"),
            Credential::IdentityToken(_) => write!(f, "IdentityToken(<hidden>)"),
        }
    }
}

/// What was found, and where: the where goes into error messages, the secret never does.
#[derive(Clone, Debug)]
pub struct Found {
    pub credential: Option<Credential>,
    /// `~/.docker/config.json (auths)`, `docker-credential-pass`, or what was searched.
    pub source: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AuthFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Where the files are; taken from the environment by [`Locations::from_env`].
#[derive(Clone, Debug, Default)]
pub struct Locations {
    /// containers' auth.json files, in order.
    pub auth_files: Vec<PathBuf>,
    pub docker_config: Option<PathBuf>,
}

impl Locations {
    pub fn from_env() -> Locations {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let mut auth_files = Vec::new();
        if let Some(p) = env("REGISTRY_AUTH_FILE") {
            auth_files.push(p);
        } else if let Some(run) = env("XDG_RUNTIME_DIR") {
            auth_files.push(run.join("containers/auth.json"));
        }
        let docker_config = env("DOCKER_CONFIG")
            .map(|d| d.join("config.json"))
            .or_else(|| env("HOME").map(|h| h.join(".docker/config.json")));
        Locations {
            auth_files,
            docker_config,
        }
    }

    /// The credential for `repository` on `registry` (`host[:port]`, `docker.io` for Hub).
    pub fn find(&self, registry: &str, repository: &str) -> Found {
        let mut looked = Vec::new();
        for f in &self.auth_files {
            looked.push(f.display().to_string());
            if let Some(file) = read_auth_file(f) {
                if let Some(c) = entry_for(&file.auths, registry, repository).and_then(decode) {
                    return found(c, f.display().to_string());
                }
            }
        }
        if let Some(f) = &self.docker_config {
            looked.push(f.display().to_string());
            if let Some(file) = read_auth_file(f) {
                let helper = helper_for(&file.cred_helpers, registry)
                    .or(file.creds_store.as_deref())
                    .filter(|h| !h.is_empty());
                if let Some(h) = helper {
                    let prog = format!("docker-credential-{h}");
                    if let Some(c) = run_helper(&prog, &helper_server(registry)) {
                        return found(c, prog);
                    }
                    looked.push(prog);
                }
                if let Some(c) = entry_for(&file.auths, registry, repository).and_then(decode) {
                    return found(c, format!("{} (auths)", f.display()));
                }
            }
        }
        Found {
            credential: None,
            source: format!("none found (looked in {})", looked.join(", ")),
        }
    }
}

fn found(c: Credential, source: String) -> Found {
    Found {
        credential: Some(c),
        source,
    }
}

fn read_auth_file(p: &Path) -> Option<AuthFile> {
    let bytes = std::fs::read(p).ok()?;
    // a broken file counts as no credentials, as docker does; never echo its contents
    serde_json::from_slice(&bytes).ok()
}

/// `https://index.docker.io/v1/` → `docker.io`; `https://host:5000/v2/` → `host:5000`;
/// `host/ns/repo` stays scoped to `ns/repo`.
fn split_key(key: &str) -> (String, String) {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let (host, path) = k.split_once('/').unwrap_or((k, ""));
    let host = match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => HUB,
        h => h,
    };
    let path = path.trim_end_matches('/');
    let path = if matches!(path, "v1" | "v2") {
        ""
    } else {
        path
    };
    (host.to_string(), path.to_string())
}

/// The most specific key for this repository: `host/ns/repo` before `host/ns` before `host`.
fn entry_for<'a>(
    auths: &'a HashMap<String, AuthEntry>,
    registry: &str,
    repository: &str,
) -> Option<&'a AuthEntry> {
    auths
        .iter()
        .filter_map(|(k, v)| {
            let (host, path) = split_key(k);
            let scoped = path.is_empty()
                || repository == path
                || repository.starts_with(&format!("{path}/"));
            (host == registry && scoped).then_some((path.len(), v))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, v)| v)
}

fn helper_for<'a>(helpers: &'a HashMap<String, String>, registry: &str) -> Option<&'a str> {
    helpers
        .iter()
        .find(|(k, _)| split_key(k).0 == registry)
        .map(|(_, v)| v.as_str())
}

/// What the docker CLI hands a helper on stdin for this registry.
fn helper_server(registry: &str) -> String {
    if registry == HUB {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

fn decode(e: &AuthEntry) -> Option<Credential> {
    if let Some(t) = e.identitytoken.as_ref().filter(|t| !t.is_empty()) {
        return Some(Credential::IdentityToken(t.clone()));
    }
    if let (Some(u), Some(p)) = (&e.username, &e.password) {
        return Some(Credential::Basic {
            username: u.clone(),
            password: p.clone(),
        });
    }
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(e.auth.as_ref()?.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some(Credential::Basic {
        username: u.to_string(),
        password: p.to_string(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// `docker-credential-NAME get`: the server on stdin, `{"Username","Secret"}` on stdout; a
/// missing program or "credentials not found" both mean none.
fn run_helper(program: &str, server: &str) -> Option<Credential> {
    let mut child = Command::new(program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let a: HelperAnswer = serde_json::from_slice(&out.stdout).ok()?;
    if a.username == "<token>" {
        Some(Credential::IdentityToken(a.secret))
    } else {
        Some(Credential::Basic {
            username: a.username,
            password: a.secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    fn basic(u: &str, p: &str) -> Option<Credential> {
        Some(Credential::Basic {
            username: u.into(),
            password: p.into(),
        })
    }

    #[test]
    fn docker_keys_for_hub_and_hosts() {
        let dir = tempfile::tempdir().expect("tempdir");
        // "hub:secret" and "me:pw" in base64
        let cfg = write(
            dir.path(),
            "config.json",
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="},
                          "reg.example:5000": {"auth": "bWU6cHc="},
                          "tok.example": {"identitytoken": "refresh"}}}"#,
        );
        let loc = Locations {
            auth_files: vec![dir.path().join("absent.json")],
            docker_config: Some(cfg.clone()),
        };
        let f = loc.find("docker.io", "library/alpine");
        assert_eq!(f.credential, basic("hub", "secret"));
        assert_eq!(f.source, format!("{} (auths)", cfg.display()));
        assert_eq!(
            loc.find("reg.example:5000", "app").credential,
            basic("me", "pw")
        );
        assert_eq!(
            loc.find("tok.example", "app").credential,
            Some(Credential::IdentityToken("refresh".into()))
        );
        let none = loc.find("other.example", "app");
        assert!(none.credential.is_none());
        assert!(none.source.contains("absent.json") && none.source.contains("config.json"));
    }

    #[test]
    fn containers_auth_file_first_and_scoped_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let auth = write(
            dir.path(),
            "auth.json",
            r#"{"auths": {"reg.example": {"auth": "aG9zdDp3aWRl"},
                          "reg.example/team": {"auth": "dGVhbTpuYXJyb3c="}}}"#,
        );
        let cfg = write(
            dir.path(),
            "config.json",
            r#"{"auths": {"reg.example": {"auth": "bWU6cHc="}}}"#,
        );
        let loc = Locations {
            auth_files: vec![auth],
            docker_config: Some(cfg),
        };
        assert_eq!(
            loc.find("reg.example", "team/app").credential,
            basic("team", "narrow")
        );
        assert_eq!(
            loc.find("reg.example", "teamwork/app").credential,
            basic("host", "wide")
        );
    }

    #[test]
    fn helpers_answer_through_stdin_and_stdout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let helper = dir.path().join("docker-credential-bathytest");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 1\n\
             [ \"$server\" = reg.example ] || { echo credentials not found; exit 1; }\n\
             echo '{\"ServerURL\":\"reg.example\",\"Username\":\"helped\",\"Secret\":\"s3\"}'\n",
        )
        .expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let prog = helper.display().to_string();
        assert_eq!(run_helper(&prog, "reg.example"), basic("helped", "s3"));
        assert_eq!(run_helper(&prog, "other"), None);
        assert_eq!(run_helper("/nonexistent/docker-credential-x", "reg"), None);
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let c = basic("me", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        let t = Credential::IdentityToken("tok123".into());
        assert!(!format!("{t:?}").contains("tok123"));
    }
}
