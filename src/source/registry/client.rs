//! One repository on one registry over the distribution API: requests with the right
//! credentials (Basic, or a Bearer token fetched after a 401 challenge), redirects followed
//! without the registry's credentials once they leave its host, and every failure turned into
//! one line that names the registry and repository and never holds a secret.
//!
//! Built on blocking `reqwest` rather than `oci-client`: oci-client is async and owns its TLS
//! setup (no client certificates, no certs.d), hides the response headers we need (Retry-After,
//! Content-Range), and would bring a second HTTP stack; the layer reader wants a plain `Read`.

use super::credentials::{Credential, Found, Locations};
use super::name::ImageName;
use super::tls;
use super::RegistrySettings;
use crate::error::{Error, Result};
use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, LOCATION, RANGE, WWW_AUTHENTICATE};
use reqwest::{StatusCode, Url};
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

/// Waiting for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Waiting for an answer, or for the next bytes of one (not a whole transfer).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_REDIRECTS: usize = 5;
/// The most of an error body or token answer we read.
const SMALL_BODY: u64 = 1 << 20;

/// A connection to one repository, shared by the threads that read its layers.
pub struct Session {
    http: Client,
    /// `https://host:port` (or `http://` for an insecure registry that has no TLS).
    base: Url,
    pub name: ImageName,
    credential: Option<Credential>,
    /// Where the credential came from (or where none was found), for 401 messages.
    credential_source: String,
    /// The `Authorization` value the last challenge earned.
    auth: Mutex<Option<HeaderValue>>,
}

/// What a request is for, so a 404 says what was missing.
#[derive(Clone, Copy)]
pub enum Want<'a> {
    Manifest(&'a str),
    Blob(&'a str),
}

impl Want<'_> {
    fn describe(self) -> String {
        match self {
            Want::Manifest(r) => format!("manifest {r}"),
            Want::Blob(d) => format!("blob {d}"),
        }
    }
}

impl Session {
    pub fn open(name: ImageName, settings: &RegistrySettings) -> Result<Session> {
        let context = name.context();
        let insecure = settings.is_insecure(&name.registry);
        let tls = if insecure {
            tls::unverified_config()
        } else {
            let files = tls::cert_files(&name.registry, settings.cert_dir.as_deref());
            tls::client_config(&context, &files)?
        };
        let http = Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(IDLE_TIMEOUT)
            // redirects are followed by hand, to decide where credentials may go
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("bathyscaphe/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Registry(format!("{context}: cannot set up HTTP: {e}")))?;
        let found: Found = settings
            .credentials
            .clone()
            .unwrap_or_else(Locations::from_env)
            .find(&name.registry, &name.repository);
        let mut session = Session {
            http,
            base: base_url("https", name.api_host(), &context)?,
            name,
            credential: found.credential,
            credential_source: found.source,
            auth: Mutex::new(None),
        };
        if insecure {
            session.pick_scheme()?;
        }
        Ok(session)
    }

    /// An insecure registry may speak plain HTTP: try TLS first, as docker does.
    fn pick_scheme(&mut self) -> Result<()> {
        let ping = self
            .base
            .join("/v2/")
            .map_err(|e| self.fail(e.to_string()))?;
        if self.http.get(ping).send().is_err() {
            self.base = base_url("http", self.name.api_host(), &self.name.context())?;
        }
        Ok(())
    }

    /// An error of ours without its `context: blob DIGEST: ` start, to nest in another.
    pub fn strip_context(&self, e: &Error, digest: &str) -> String {
        let s = e.to_string();
        let s = s
            .strip_prefix(&format!("{}: ", self.name.context()))
            .unwrap_or(&s);
        s.strip_prefix(&format!("blob {digest}: "))
            .unwrap_or(s)
            .to_string()
    }

    /// `context: message`, the shape of every registry error.
    pub fn fail(&self, message: impl std::fmt::Display) -> Error {
        Error::Registry(format!("{}: {message}", self.name.context()))
    }

    fn repo_url(&self, tail: &str) -> Result<Url> {
        self.base
            .join(&format!("/v2/{}/{tail}", self.name.repository))
            .map_err(|e| self.fail(format!("cannot form a URL: {e}")))
    }

    /// GET a manifest by tag or digest, with the media types we read.
    pub fn manifest(&self, reference: &str) -> Result<(Vec<u8>, Option<String>)> {
        let url = self.repo_url(&format!("manifests/{reference}"))?;
        let resp = self.get(
            url,
            super::manifest::ACCEPT,
            None,
            Want::Manifest(reference),
        )?;
        let media = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
        let body = read_limited(resp, super::manifest::MAX_MANIFEST)
            .map_err(|e| self.fail(format!("manifest {reference}: {e}")))?;
        Ok((body, media))
    }

    /// A small blob (a config) in memory.
    pub fn small_blob(&self, digest: &str, limit: u64) -> Result<Vec<u8>> {
        let resp = self.blob(digest, 0)?;
        read_limited(resp, limit).map_err(|e| self.fail(format!("blob {digest}: {e}")))
    }

    /// A blob from byte `from` on (a Range request when `from > 0`).
    pub fn blob(&self, digest: &str, from: u64) -> Result<Response> {
        let url = self.repo_url(&format!("blobs/{digest}"))?;
        self.get(
            url,
            &["*/*"],
            (from > 0).then_some(from),
            Want::Blob(digest),
        )
    }

    /// Send with the current credentials; on a 401 answer the challenge once and send again.
    fn get(&self, url: Url, accept: &[&str], from: Option<u64>, want: Want) -> Result<Response> {
        let mut answered = false;
        loop {
            let auth = self.auth.lock().ok().and_then(|a| a.clone());
            let resp = self.send_following(url.clone(), accept, from, auth, want)?;
            if resp.status() == StatusCode::UNAUTHORIZED && !answered {
                answered = true;
                let challenge = resp
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let value = self.answer(&challenge)?;
                if let Ok(mut a) = self.auth.lock() {
                    *a = Some(value);
                }
                continue;
            }
            return self.check_status(resp, want);
        }
    }

    /// One GET, following redirects; the registry's `Authorization` goes only to its own host.
    fn send_following(
        &self,
        mut url: Url,
        accept: &[&str],
        from: Option<u64>,
        auth: Option<HeaderValue>,
        want: Want,
    ) -> Result<Response> {
        let mut with_auth = true;
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self.http.get(url.clone()).header(ACCEPT, accept.join(", "));
            if let Some(f) = from {
                req = req.header(RANGE, format!("bytes={f}-"));
            }
            if let (true, Some(a)) = (with_auth, &auth) {
                req = req.header(AUTHORIZATION, a.clone());
            }
            let resp = req
                .send()
                .map_err(|e| self.fail(format!("{}: {}", want.describe(), describe(&e))))?;
            if !resp.status().is_redirection() {
                return Ok(resp);
            }
            let next = resp
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| {
                    self.fail(format!(
                        "redirect ({}) without a usable Location",
                        resp.status()
                    ))
                })?;
            if next.origin() != self.base.origin() {
                // blob storage elsewhere (S3, a CDN) gets no registry credentials, ever after
                with_auth = false;
            }
            url = next;
        }
        Err(self.fail(format!("more than {MAX_REDIRECTS} redirects")))
    }

    /// Turn a 401's `WWW-Authenticate` into an `Authorization` value.
    fn answer(&self, challenge: &str) -> Result<HeaderValue> {
        let (scheme, params) = parse_challenge(challenge);
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => match &self.credential {
                Some(Credential::Basic { username, password }) => {
                    header(&basic_value(username, password)).map_err(|e| self.fail(e))
                }
                _ => Err(self.fail(format!(
                    "the registry asks for a username and password (401); credentials: {}",
                    self.credential_source
                ))),
            },
            "bearer" => self.fetch_token(&params),
            _ => Err(self.fail(format!(
                "authentication required (401) with an unknown scheme {:?}",
                one_line(&scheme, 40)
            ))),
        }
    }

    /// The token flow: realm?service=…&scope=… with our credentials (or none), then Bearer.
    fn fetch_token(&self, params: &[(String, String)]) -> Result<HeaderValue> {
        let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let realm =
            param("realm").ok_or_else(|| self.fail("a Bearer challenge without a realm (401)"))?;
        let mut url = Url::parse(realm)
            .map_err(|_| self.fail(format!("token realm {:?} is no URL", one_line(realm, 80))))?;
        let scope = param("scope")
            .map(str::to_string)
            .unwrap_or_else(|| format!("repository:{}:pull", self.name.repository));
        let service = param("service").unwrap_or("");
        let token_host = url.host_str().unwrap_or("").to_string();
        let req = match &self.credential {
            Some(Credential::IdentityToken(t)) => {
                // an urlencoded form, built with the URL's own encoder
                let mut form = Url::parse("form:").map_err(|e| self.fail(e))?;
                form.query_pairs_mut()
                    .append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", t)
                    .append_pair("service", service)
                    .append_pair("scope", &scope)
                    .append_pair("client_id", "bathyscaphe");
                self.http
                    .post(url)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form.query().unwrap_or("").to_string())
            }
            other => {
                url.query_pairs_mut()
                    .append_pair("service", service)
                    .append_pair("scope", &scope);
                let req = self.http.get(url);
                match other {
                    Some(Credential::Basic { username, password }) => {
                        req.basic_auth(username, Some(password))
                    }
                    _ => req,
                }
            }
        };
        let resp = req
            .send()
            .map_err(|e| self.fail(format!("token server {token_host}: {}", describe(&e))))?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(self.fail(format!(
                "the token server {token_host} refused the credentials ({}); credentials: {}",
                status.as_u16(),
                self.credential_source
            )));
        }
        if !status.is_success() {
            return Err(self.fail(format!(
                "the token server {token_host} answered {}",
                status.as_u16()
            )));
        }
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let body = read_limited(resp, SMALL_BODY)
            .map_err(|e| self.fail(format!("token server {token_host}: {e}")))?;
        let t: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| self.fail(format!("token server {token_host} sent no token JSON")))?;
        let token = t
            .token
            .or(t.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.fail(format!("token server {token_host} sent an empty token")))?;
        header(&format!("Bearer {token}")).map_err(|e| self.fail(e))
    }

    /// Success passes; anything else becomes the one line that says what happened.
    fn check_status(&self, resp: Response, want: Want) -> Result<Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(|v| one_line(v, 40));
        let detail = error_detail(resp);
        let what = want.describe();
        let msg = match status.as_u16() {
            401 => format!(
                "{what}: authentication failed (401); credentials: {}",
                self.credential_source
            ),
            403 => format!(
                "{what}: access denied (403); credentials: {}",
                self.credential_source
            ),
            404 => match want {
                Want::Manifest(r) => format!("no manifest for {r} (no such tag or digest) (404)"),
                Want::Blob(d) => format!("blob {d} not found (404)"),
            },
            429 => match retry_after {
                Some(s) => format!(
                    "{what}: too many requests (429); the registry says retry after {s} seconds"
                ),
                None => format!("{what}: too many requests (429)"),
            },
            416 => format!("{what}: the registry refused to resume (416)"),
            code => format!("{what}: the registry answered {code}"),
        };
        Err(self.fail(match detail {
            Some(d) => format!("{msg}: {d}"),
            None => msg,
        }))
    }
}

fn base_url(scheme: &str, host: &str, context: &str) -> Result<Url> {
    Url::parse(&format!("{scheme}://{host}/"))
        .map_err(|e| Error::Registry(format!("{context}: {host:?} is no host: {e}")))
}

fn header(v: &str) -> std::result::Result<HeaderValue, String> {
    let mut h = HeaderValue::from_str(v)
        .map_err(|_| "the credential holds characters HTTP cannot carry".to_string())?;
    h.set_sensitive(true);
    Ok(h)
}

fn basic_value(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// `Bearer realm="https://…",service="…",scope="…"` → (`Bearer`, [(realm, …), …]).
pub fn parse_challenge(h: &str) -> (String, Vec<(String, String)>) {
    let h = h.trim();
    let (scheme, rest) = h.split_once(char::is_whitespace).unwrap_or((h, ""));
    let mut params = Vec::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || b[i].is_ascii_whitespace()) {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = rest[ks..i].trim().to_ascii_lowercase();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                // push whole UTF-8 characters
                let ch_len = rest[i..].chars().next().map_or(1, char::len_utf8);
                val.push_str(&rest[i..i + ch_len]);
                i += ch_len;
            }
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val = rest[vs..i].trim().to_string();
        }
        if !key.is_empty() {
            params.push((key, val));
        }
    }
    (scheme.to_string(), params)
}

/// The first `{"errors":[{"code","message"}]}` entry of an error body, on one short line.
fn error_detail(resp: Response) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let body = read_limited(resp, 64 << 10).ok()?;
    let e: Errors = serde_json::from_slice(&body).ok()?;
    let first = e.errors.into_iter().next()?;
    let text = match (first.code.is_empty(), first.message.is_empty()) {
        (false, false) => format!("{} ({})", first.message, first.code),
        (true, false) => first.message,
        (false, true) => first.code,
        (true, true) => return None,
    };
    Some(one_line(&text, 200))
}

/// Read a whole body, refusing one larger than `limit`.
fn read_limited(resp: Response, limit: u64) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    resp.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("read failed: {}", io_detail(&e)))?;
    if out.len() as u64 > limit {
        return Err(format!("larger than the {limit} bytes allowed"));
    }
    Ok(out)
}

/// Hostile text made safe for one line of a terminal.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// What a failed request means, in words: unknown host, refused, TLS (with rustls's reason),
/// timed out. The URL is left out: it would repeat the registry and could carry a token.
pub fn describe(e: &reqwest::Error) -> String {
    let mut chain = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        chain.push(err);
        cur = err.source();
    }
    for err in &chain {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return format!("TLS failure: {t}");
        }
    }
    let text = chain
        .iter()
        .skip(1)
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    let lower = text.to_lowercase();
    let what = if e.is_timeout() {
        format!("timed out (no answer within {} s)", IDLE_TIMEOUT.as_secs())
    } else if lower.contains("dns error") || lower.contains("failed to lookup") {
        "unknown host".to_string()
    } else if lower.contains("connection refused") {
        "connection refused".to_string()
    } else if lower.contains("certificate") || lower.contains("tls") {
        format!("TLS failure: {text}")
    } else if e.is_connect() {
        format!("cannot connect: {text}")
    } else {
        text
    };
    one_line(&what, 300)
}

/// An I/O error's message with its cause, URL-free.
pub fn io_detail(e: &std::io::Error) -> String {
    if let Some(r) = e.get_ref().and_then(|r| r.downcast_ref::<reqwest::Error>()) {
        return describe(r);
    }
    one_line(&e.to_string(), 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_as_registries_send_them() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(s, "Bearer");
        assert_eq!(
            p,
            vec![
                ("realm".into(), "https://auth.docker.io/token".into()),
                ("service".into(), "registry.docker.io".into()),
                ("scope".into(), "repository:library/alpine:pull".into()),
            ]
        );
        let (s, p) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!((s.as_str(), p.len()), ("Basic", 1));
        // unquoted values, spaces after commas, an escaped quote
        let (_, p) = parse_challenge(r#"Bearer realm=http://t/x, service="a\"b""#);
        assert_eq!(p[0].1, "http://t/x");
        assert_eq!(p[1].1, "a\"b");
        // garbage does not panic
        let _ = parse_challenge("Bearer =,,=\"");
        let _ = parse_challenge("Bearer realm=\"é");
    }

    #[test]
    fn hostile_text_stays_on_one_line() {
        assert_eq!(one_line("a\nb\x1b[2J", 10), "a b [2J");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
