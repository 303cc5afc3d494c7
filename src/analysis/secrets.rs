//! Secrets recognised in a file's first bytes: which files are candidates (by name, or by a
//! small header sniff), and what kind of secret a candidate holds. Only the kind and a short
//! fingerprint ever leave this module: the capture keeps those instead of the file's bytes, so
//! no secret value reaches the image model, an analysis or a report.

use sha2::{Digest, Sha256};

/// How much of a candidate file is read (the rest of the file streams past unread by us).
pub const SECRET_HEAD: u64 = 64 * 1024;
/// Prefix of what the capture keeps for a candidate in which a secret was found.
pub const SECRET_TAG: &[u8] = b"SECRET\n";
/// JSON files are only sniffed for credentials up to this size (key files are small).
const JSON_SNIFF_CAP: u64 = 64 * 1024;

/// What kind of secret a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretKind {
    PrivateKey,
    NpmToken,
    PypiPassword,
    NetrcPassword,
    GitCredentials,
    DockerAuth,
    AwsCredentials,
    GcpServiceAccount,
    AzureCredentials,
    EnvFile,
    Kubeconfig,
}

impl SecretKind {
    pub const ALL: [SecretKind; 11] = [
        SecretKind::PrivateKey,
        SecretKind::NpmToken,
        SecretKind::PypiPassword,
        SecretKind::NetrcPassword,
        SecretKind::GitCredentials,
        SecretKind::DockerAuth,
        SecretKind::AwsCredentials,
        SecretKind::GcpServiceAccount,
        SecretKind::AzureCredentials,
        SecretKind::EnvFile,
        SecretKind::Kubeconfig,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::PrivateKey => "private-key",
            SecretKind::NpmToken => "npm-token",
            SecretKind::PypiPassword => "pypi-password",
            SecretKind::NetrcPassword => "netrc-password",
            SecretKind::GitCredentials => "git-credentials",
            SecretKind::DockerAuth => "docker-auth",
            SecretKind::AwsCredentials => "aws-credentials",
            SecretKind::GcpServiceAccount => "gcp-service-account",
            SecretKind::AzureCredentials => "azure-credentials",
            SecretKind::EnvFile => "env-file",
            SecretKind::Kubeconfig => "kubeconfig",
        }
    }
    pub fn from_name(name: &str) -> Option<SecretKind> {
        SecretKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A secret found: its kind and the first 8 hex digits of the sha256 of the secret material
/// (the key block, or the token and password values): the same secret gives the same
/// fingerprint wherever it is copied, and 32 bits say nothing of the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    pub kind: SecretKind,
    pub fingerprint: String,
}

impl Detected {
    /// What the capture keeps: the tag, the kind and the fingerprint, one per line.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = SECRET_TAG.to_vec();
        v.extend_from_slice(self.kind.as_str().as_bytes());
        v.push(b'\n');
        v.extend_from_slice(self.fingerprint.as_bytes());
        v
    }
    pub fn decode(kept: &[u8]) -> Option<Detected> {
        let rest = std::str::from_utf8(kept.strip_prefix(SECRET_TAG)?).ok()?;
        let (kind, fp) = rest.split_once('\n')?;
        Some(Detected {
            kind: SecretKind::from_name(kind)?,
            fingerprint: fp.to_string(),
        })
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The kinds a file's name (or the place it sits in) makes it a candidate for.
fn kind_by_name(path: &str) -> Option<SecretKind> {
    let name = file_name(path);
    let parent_is = |dir: &str| {
        path.strip_suffix(name)
            .is_some_and(|p| p.trim_end_matches('/').ends_with(dir))
    };
    Some(match name {
        ".npmrc" | "npmrc" => SecretKind::NpmToken,
        ".pypirc" => SecretKind::PypiPassword,
        ".netrc" | "_netrc" => SecretKind::NetrcPassword,
        ".git-credentials" => SecretKind::GitCredentials,
        "config.json" if parent_is(".docker") => SecretKind::DockerAuth,
        "credentials" | "config" if parent_is(".aws") => SecretKind::AwsCredentials,
        "accessTokens.json" | "msal_token_cache.json" | "service_principal_entries.json"
            if parent_is(".azure") =>
        {
            SecretKind::AzureCredentials
        }
        "config" if parent_is(".kube") => SecretKind::Kubeconfig,
        "kubeconfig" | "kubeconfig.yaml" | "kubeconfig.yml" => SecretKind::Kubeconfig,
        n if n.ends_with(".kubeconfig") => SecretKind::Kubeconfig,
        ".env" => SecretKind::EnvFile,
        // `.env.production` holds values; `.env.example` and friends hold placeholders
        n if n.starts_with(".env.")
            && !matches!(
                &n[5..],
                "example" | "sample" | "template" | "dist" | "defaults"
            ) =>
        {
            SecretKind::EnvFile
        }
        "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" | "id_ecdsa_sk" | "id_ed25519_sk" => {
            SecretKind::PrivateKey
        }
        n if n.ends_with(".pem") || n.ends_with(".key") || n.ends_with(".p8") => {
            SecretKind::PrivateKey
        }
        _ => return None,
    })
}

/// Should the capture read this file's head? By name, or for a file that starts like a PEM
/// block or is a small JSON file mentioning a service account's key.
pub fn is_candidate(path: &str, size: u64, head: &[u8]) -> bool {
    if size == 0 {
        return false;
    }
    if kind_by_name(path).is_some() {
        return true;
    }
    let start = head.trim_ascii_start();
    if start.starts_with(b"-----BEGIN ") {
        return true;
    }
    file_name(path).ends_with(".json")
        && size <= JSON_SNIFF_CAP
        && start.starts_with(b"{")
        && memchr::memmem::find(head, b"\"private_key\"").is_some()
}

fn fingerprint(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
        h.update(b"\n");
    }
    let d = h.finalize();
    d.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// What secret a candidate's head holds (None: nothing recognisable, e.g. a file that only
/// mentions "PRIVATE KEY" in prose, or holds placeholders and environment references).
pub fn scan(path: &str, head: &[u8]) -> Option<Detected> {
    let text = String::from_utf8_lossy(head);
    if let Some(block) = private_key_block(&text) {
        return Some(Detected {
            kind: SecretKind::PrivateKey,
            fingerprint: fingerprint(&[block.as_bytes()]),
        });
    }
    let kind = kind_by_name(path).or_else(|| {
        file_name(path)
            .ends_with(".json")
            .then_some(SecretKind::GcpServiceAccount)
    })?;
    let values: Vec<String> = match kind {
        SecretKind::PrivateKey => return None,
        SecretKind::NpmToken => assignments(&text, '=')
            .filter(|(k, _)| {
                let k = k.rsplit(':').next().unwrap_or(k);
                matches!(k, "_authToken" | "_auth" | "_password")
            })
            .map(|(_, v)| v)
            .collect(),
        SecretKind::PypiPassword => assignments(&text, '=')
            .chain(assignments(&text, ':'))
            .filter(|(k, _)| k == "password")
            .map(|(_, v)| v)
            .collect(),
        SecretKind::NetrcPassword => netrc_passwords(&text),
        SecretKind::GitCredentials => text.lines().filter_map(url_password).collect(),
        SecretKind::DockerAuth => json_values(head, &["auths", "*", "auth"])
            .into_iter()
            .chain(json_values(head, &["auths", "*", "identitytoken"]))
            .collect(),
        SecretKind::AwsCredentials => assignments(&text, '=')
            .filter(|(k, _)| k == "aws_secret_access_key" || k == "aws_session_token")
            .map(|(_, v)| v)
            .collect(),
        SecretKind::GcpServiceAccount => {
            let is_sa = json_values(head, &["type"]) == ["service_account"];
            if !is_sa {
                return None;
            }
            json_values(head, &["private_key"])
        }
        SecretKind::AzureCredentials => {
            let t = text.trim();
            if t.is_empty() || t == "[]" || t == "{}" {
                return None;
            }
            vec![t.to_string()]
        }
        SecretKind::EnvFile => assignments(&text, '=').map(|(_, v)| v).collect(),
        SecretKind::Kubeconfig => assignments(&text, ':')
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "token" | "client-key-data" | "password" | "client-key"
                )
            })
            .map(|(_, v)| v)
            .collect(),
    };
    let values: Vec<&[u8]> = values
        .iter()
        .map(|v| v.as_bytes())
        .filter(|v| !is_placeholder(v))
        .collect();
    if values.is_empty() {
        return None;
    }
    Some(Detected {
        kind,
        fingerprint: fingerprint(&values),
    })
}

/// Not a secret: empty, an environment reference (`${NPM_TOKEN}`), or a quoted empty string.
fn is_placeholder(v: &[u8]) -> bool {
    let v = v.trim_ascii();
    let v = v
        .strip_prefix(b"\"")
        .and_then(|x| x.strip_suffix(b"\""))
        .or_else(|| v.strip_prefix(b"'").and_then(|x| x.strip_suffix(b"'")))
        .unwrap_or(v);
    v.is_empty() || v.starts_with(b"${") || v.starts_with(b"$(")
}

/// A PEM private key: a `-----BEGIN … PRIVATE KEY-----` line, base64 lines (or PEM headers),
/// and the matching END line. Text that only names the markers is not a key.
fn private_key_block(text: &str) -> Option<&str> {
    let mut start = None;
    let mut body = 0usize;
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let l = line.trim();
        match start {
            None => {
                if l.starts_with("-----BEGIN ") && l.ends_with("PRIVATE KEY-----") {
                    start = Some(offset);
                    body = 0;
                }
            }
            Some(s) => {
                if l.starts_with("-----END ") && l.ends_with("PRIVATE KEY-----") {
                    if body > 0 {
                        return text.get(s..offset + line.len());
                    }
                    start = None;
                } else if is_base64_line(l) {
                    body += 1;
                } else if !(l.is_empty() || l.contains(": ")) {
                    start = None;
                }
            }
        }
        offset += line.len();
    }
    None
}

fn is_base64_line(l: &str) -> bool {
    l.len() >= 16
        && l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
}

/// `key SEP value` lines (comments skipped), key trimmed, `export ` dropped.
fn assignments(text: &str, sep: char) -> impl Iterator<Item = (String, String)> + '_ {
    text.lines().filter_map(move |l| {
        let l = l.trim();
        if l.starts_with('#') || l.starts_with(';') {
            return None;
        }
        let l = l.strip_prefix("export ").unwrap_or(l);
        let (k, v) = l.split_once(sep)?;
        let k = k.trim().trim_start_matches("- ").trim();
        if k.is_empty() || k.contains(' ') {
            return None;
        }
        Some((k.to_string(), v.trim().to_string()))
    })
}

/// `password VALUE` tokens of a `.netrc` (its tokens may share lines).
fn netrc_passwords(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == "password")
        .map(|w| w[1].to_string())
        .collect()
}

/// The password of `scheme://user:password@host`.
fn url_password(line: &str) -> Option<String> {
    let rest = line.trim().split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    let (_, pass) = userinfo.split_once(':')?;
    Some(pass.to_string())
}

/// String values at a path of object keys (`*`: every key) of a JSON document.
fn json_values(bytes: &[u8], path: &[&str]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Vec::new();
    };
    let mut cur = vec![&v];
    for key in path {
        cur = cur
            .into_iter()
            .filter_map(|x| x.as_object())
            .flat_map(|o| -> Vec<&serde_json::Value> {
                if *key == "*" {
                    o.values().collect()
                } else {
                    o.get(*key).into_iter().collect()
                }
            })
            .collect();
    }
    cur.into_iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDx4pHkqPZ0u7xZy8mB5nN2Yw==\n-----END OPENSSH PRIVATE KEY-----\n";

    #[test]
    fn a_key_block_is_found_and_prose_is_not() {
        let d = scan("root/.ssh/id_ed25519", KEY.as_bytes()).unwrap();
        assert_eq!(d.kind, SecretKind::PrivateKey);
        // the fingerprint is of the block itself, computed independently here
        let want: String = Sha256::digest(format!("{KEY}\n").as_bytes())
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(d.fingerprint, want);
        let prose = "A PRIVATE KEY starts with -----BEGIN RSA PRIVATE KEY----- and ends\nwith -----END RSA PRIVATE KEY-----; never copy one.\n";
        assert_eq!(scan("docs/server.key", prose.as_bytes()), None);
        let markers_only =
            "-----BEGIN RSA PRIVATE KEY-----\n(paste it here)\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(scan("x.pem", markers_only.as_bytes()), None);
    }

    #[test]
    fn tokens_need_a_value_not_a_reference() {
        let npm = "registry=https://r.example/\n//r.example/:_authToken=npm_abcdef123456\n";
        assert_eq!(
            scan("app/.npmrc", npm.as_bytes()).map(|d| d.kind),
            Some(SecretKind::NpmToken)
        );
        let env_ref = "//r.example/:_authToken=${NPM_TOKEN}\n";
        assert_eq!(scan("app/.npmrc", env_ref.as_bytes()), None);
        let kube =
            "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: eyJhbGciOi\n";
        assert_eq!(
            scan("root/.kube/config", kube.as_bytes()).map(|d| d.kind),
            Some(SecretKind::Kubeconfig)
        );
        let docker = br#"{"auths":{"registry.example":{"auth":"dXNlcjpwYXNz"}}}"#;
        assert_eq!(
            scan("root/.docker/config.json", docker).map(|d| d.kind),
            Some(SecretKind::DockerAuth)
        );
        assert_eq!(scan("root/.docker/config.json", br#"{"auths":{}}"#), None);
        assert_eq!(
            scan(
                "h/.git-credentials",
                b"https://me:ghp_secretvalue@github.com\n"
            )
            .map(|d| d.kind),
            Some(SecretKind::GitCredentials)
        );
        assert_eq!(
            scan("h/.netrc", b"machine x login me password hunter22\n").map(|d| d.kind),
            Some(SecretKind::NetrcPassword)
        );
        assert_eq!(
            scan("app/.env", b"# settings\nDB_PASSWORD=s3cr3t\n").map(|d| d.kind),
            Some(SecretKind::EnvFile)
        );
        assert!(!is_candidate("app/.env.example", 10, b"A=1\n"));
        let sa = br#"{"type": "service_account", "private_key": "abc"}"#;
        assert!(is_candidate("srv/key.json", sa.len() as u64, sa));
        assert_eq!(
            scan("srv/key.json", sa).map(|d| d.kind),
            Some(SecretKind::GcpServiceAccount)
        );
    }

    #[test]
    fn what_is_kept_names_no_value() {
        let d = scan("a/.env", b"TOKEN=hunter2hunter2\n").unwrap();
        let kept = d.encode();
        assert!(memchr::memmem::find(&kept, b"hunter2").is_none());
        assert_eq!(Detected::decode(&kept), Some(d));
    }
}
