//! Real registries for the tests: Debian's `docker-registry` (the CNCF distribution registry)
//! started on 127.0.0.1 with TLS from a CA written here, htpasswd Basic auth or token auth
//! with a token server that signs real JWTs, plus a small HTTP proxy that can answer 429, cut a
//! blob short, stop the registry, demand credentials or redirect blobs to "storage".
#![allow(dead_code)]

use base64::Engine;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const USER: &str = "tester";
pub const PASSWORD: &str = "s3cret-pw";

/// Whether the registry tools are on PATH (`.ci/run` installs them): a missing one skips the
/// test, or fails it under `CI=true`.
pub fn tools_present(tools: &[&str]) -> bool {
    tools.iter().all(|t| {
        let on_path = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(t).is_file()));
        let package = match *t {
            "htpasswd" => "apache2-utils",
            other => other,
        };
        crate::common::require(
            on_path,
            &format!("`{t}` on PATH"),
            &format!("apt-get install {package}"),
        )
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(port: u16, child: Option<&mut Child>, log: &Path) {
    let start = Instant::now();
    let mut child = child;
    while start.elapsed() < Duration::from_secs(20) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Some(c) = child.as_deref_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                panic!(
                    "docker-registry exited ({status}): {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on port {port} after 20 s");
}

/// A CA, a server certificate for 127.0.0.1 signed by it, and a folder holding only the CA
/// (what `--cert-dir` is given).
pub struct Certs {
    pub ca_dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn certs(dir: &Path) -> Certs {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "bathy test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::V4(
            std::net::Ipv4Addr::LOCALHOST,
        )));
    let cert = params.signed_by(&key, &issuer).expect("server cert");
    let ca_dir = dir.join("ca");
    std::fs::create_dir_all(&ca_dir).expect("mkdir");
    std::fs::write(ca_dir.join("ca.crt"), ca_cert.pem()).expect("write");
    let c = Certs {
        ca_dir,
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    std::fs::write(&c.cert, cert.pem()).expect("write");
    std::fs::write(&c.key, key.serialize_pem()).expect("write");
    c
}

/// How the registry checks who asks.
pub enum Auth<'a> {
    Open,
    Basic,
    Token(&'a TokenServer),
}

pub struct Registry {
    child: Arc<Mutex<Option<Child>>>,
    pub port: u16,
    pub log: PathBuf,
}

impl Registry {
    /// Serve `storage` (shared between registries started on it) from 127.0.0.1.
    pub fn start(dir: &Path, storage: &Path, tls: Option<&Certs>, auth: Auth) -> Registry {
        let port = free_port();
        let mut cfg = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: bathy-test-secret\n",
            storage.display()
        );
        if let Some(c) = tls {
            cfg += &format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                c.cert.display(),
                c.key.display()
            );
        }
        match auth {
            Auth::Open => {}
            Auth::Basic => {
                let htpasswd = dir.join(format!("htpasswd-{port}"));
                let out = Command::new("htpasswd")
                    .args(["-Bbn", USER, PASSWORD])
                    .output()
                    .expect("run htpasswd");
                assert!(out.status.success(), "htpasswd failed");
                std::fs::write(&htpasswd, out.stdout).expect("write htpasswd");
                cfg += &format!(
                    "auth:\n  htpasswd:\n    realm: bathy-test\n    path: {}\n",
                    htpasswd.display()
                );
            }
            Auth::Token(t) => {
                cfg += &format!(
                    "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    t.port,
                    TOKEN_SERVICE,
                    TOKEN_ISSUER,
                    t.bundle.display()
                );
            }
        }
        let config = dir.join(format!("registry-{port}.yml"));
        std::fs::write(&config, cfg).expect("write config");
        let log = dir.join(format!("registry-{port}.log"));
        let logf = std::fs::File::create(&log).expect("log file");
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(logf.try_clone().expect("log file"))
            .stderr(logf)
            .spawn()
            .expect("start docker-registry");
        wait_for_port(port, Some(&mut child), &log);
        Registry {
            child: Arc::new(Mutex::new(Some(child))),
            port,
            log,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A handle that stops this registry (for a proxy to call mid-transfer).
    pub fn stopper(&self) -> impl Fn() + Send + Sync + 'static {
        let child = self.child.clone();
        move || {
            if let Some(mut c) = child.lock().ok().and_then(|mut c| c.take()) {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    /// Lines of the registry's access log that contain every one of `needles`.
    pub fn log_lines(&self, needles: &[&str]) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("response completed") && needles.iter().all(|n| l.contains(n)))
            .count()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        (self.stopper())();
    }
}

/// A registry with no auth on plain HTTP over `storage`, to push into.
pub fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        // plain HTTP only; a TLS backend must still be named (reqwest has no default here)
        .tls_backend_preconfigured(bathyscaphe::source::registry::tls::unverified_config())
        .no_proxy()
        .build()
        .expect("client")
}

/// Push one blob (monolithic upload); returns its digest.
pub fn push_blob(host: &str, repo: &str, data: &[u8]) -> String {
    use sha2::Digest;
    let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)));
    let c = http_client();
    let r = c
        .post(format!("http://{host}/v2/{repo}/blobs/uploads/"))
        .send()
        .expect("start upload");
    assert_eq!(r.status().as_u16(), 202, "start upload");
    let loc = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("upload location")
        .to_string();
    let url = if loc.starts_with("http") {
        loc
    } else {
        format!("http://{host}{loc}")
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let r = c
        .put(format!("{url}{sep}digest={digest}"))
        .header("content-type", "application/octet-stream")
        .body(data.to_vec())
        .send()
        .expect("upload");
    assert_eq!(r.status().as_u16(), 201, "upload {digest}");
    digest
}

pub fn push_manifest(host: &str, repo: &str, reference: &str, media_type: &str, body: &[u8]) {
    let r = http_client()
        .put(format!("http://{host}/v2/{repo}/manifests/{reference}"))
        .header("content-type", media_type)
        .body(body.to_vec())
        .send()
        .expect("put manifest");
    let status = r.status().as_u16();
    assert_eq!(
        status,
        201,
        "put manifest {reference}: {}",
        r.text().unwrap_or_default()
    );
}

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Push the image(s) of an OCI layout's members: every blob, each manifest by digest, then
/// the index by `tag` (several images) or the one manifest by `tag`. With `docker_types`, the
/// manifest is rewritten with Docker's schema 2 media types. Returns the tagged digest.
pub fn push_members(
    host: &str,
    repo: &str,
    tag: &str,
    members: &[bathyscaphe::testkit::Member],
    docker_types: bool,
) -> String {
    let get = |name: &str| {
        members
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.data.clone())
            .unwrap_or_else(|| panic!("member {name}"))
    };
    let index: serde_json::Value = serde_json::from_slice(&get("index.json")).expect("index");
    let entries = index["manifests"].as_array().cloned().unwrap_or_default();
    let manifests: Vec<String> = entries
        .iter()
        .map(|e| {
            let d = e["digest"].as_str().unwrap_or_default();
            format!("blobs/sha256/{}", d.trim_start_matches("sha256:"))
        })
        .collect();
    for m in members {
        if m.name.starts_with("blobs/") && !manifests.contains(&m.name) {
            push_blob(host, repo, &m.data);
        }
    }
    let mut pushed = Vec::new();
    for name in &manifests {
        let mut body = get(name);
        let mut media = OCI_MANIFEST;
        if docker_types {
            let mut v: serde_json::Value = serde_json::from_slice(&body).expect("manifest");
            v["mediaType"] = DOCKER_MANIFEST.into();
            v["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json".into();
            for l in v["layers"].as_array_mut().into_iter().flatten() {
                l["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar.gzip".into();
            }
            body = serde_json::to_vec(&v).expect("json");
            media = DOCKER_MANIFEST;
        }
        use sha2::Digest;
        let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&body)));
        push_manifest(host, repo, &digest, media, &body);
        pushed.push((digest, body.len(), media));
    }
    if pushed.len() == 1 {
        let (digest, _, media) = &pushed[0];
        let name = &manifests[0];
        let body = if docker_types {
            // the rewritten manifest, fetched back by digest
            http_client()
                .get(format!("http://{host}/v2/{repo}/manifests/{digest}"))
                .header("accept", *media)
                .send()
                .and_then(|r| r.bytes())
                .expect("get manifest")
                .to_vec()
        } else {
            get(name)
        };
        push_manifest(host, repo, tag, media, &body);
        return digest.clone();
    }
    // several: an OCI index with each entry's platform
    let list: Vec<serde_json::Value> = entries
        .iter()
        .zip(&pushed)
        .map(|(e, (digest, size, media))| {
            serde_json::json!({"mediaType": media, "digest": digest, "size": size, "platform": e["platform"]})
        })
        .collect();
    let body = serde_json::to_vec(
        &serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list}),
    )
    .expect("json");
    push_manifest(host, repo, tag, OCI_INDEX, &body);
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(&body)))
}

/// `DOCKER_CONFIG` folder whose config.json holds `user:password` for `host`.
pub fn docker_config(dir: &Path, host: &str, user: &str, password: &str) -> PathBuf {
    let d = dir.join(format!("docker-config-{}", host.replace(':', "_")));
    std::fs::create_dir_all(&d).expect("mkdir");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    std::fs::write(
        d.join("config.json"),
        format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#),
    )
    .expect("write config.json");
    d
}

pub const TOKEN_SERVICE: &str = "bathy-test-registry";
pub const TOKEN_ISSUER: &str = "bathy-test-issuer";

/// The token endpoint of the Bearer flow: checks Basic credentials, answers a JWT signed
/// (ES256) by a key whose certificate the registry trusts (`rootcertbundle`).
pub struct TokenServer {
    pub port: u16,
    pub bundle: PathBuf,
    /// Requests answered, and how many of them carried the right credentials.
    pub granted: Arc<AtomicUsize>,
    pub refused: Arc<AtomicUsize>,
}

impl TokenServer {
    pub fn start(dir: &Path) -> TokenServer {
        let key = KeyPair::generate().expect("signing key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "bathy token signer");
        let cert = params.self_signed(&key).expect("signing cert");
        let bundle = dir.join("token-signer.pem");
        std::fs::write(&bundle, cert.pem()).expect("write bundle");
        let rng = ring::rand::SystemRandom::new();
        let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.serialize_der(),
            &rng,
        )
        .expect("ring key");
        let x5c = base64::engine::general_purpose::STANDARD.encode(cert.der());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let granted = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let (g, r) = (granted.clone(), refused.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let Some(req) = read_head(&mut conn) else {
                    continue;
                };
                let want = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
                );
                if req.header("authorization") != Some(want.as_str()) {
                    r.fetch_add(1, Ordering::Relaxed);
                    respond(
                        &mut conn,
                        "401 Unauthorized",
                        &[],
                        b"{\"details\":\"bad credentials\"}",
                    );
                    continue;
                }
                let scope = req.query("scope").unwrap_or_default();
                let token = sign_token(&signer, &rng, &x5c, &scope);
                g.fetch_add(1, Ordering::Relaxed);
                respond(
                    &mut conn,
                    "200 OK",
                    &[("Content-Type", "application/json")],
                    format!(r#"{{"token": "{token}", "expires_in": 300}}"#).as_bytes(),
                );
            }
        });
        TokenServer {
            port,
            bundle,
            granted,
            refused,
        }
    }
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn sign_token(
    signer: &ring::signature::EcdsaKeyPair,
    rng: &ring::rand::SystemRandom,
    x5c: &str,
    scope: &str,
) -> String {
    // scope: repository:NAME:ACTIONS
    let mut parts = scope.splitn(3, ':');
    let (kind, name, actions) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let header = serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": TOKEN_ISSUER, "sub": USER, "aud": TOKEN_SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now - 10, "jti": format!("{now}-{name}"),
        "access": [{"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}],
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = signer
        .sign(rng, signing_input.as_bytes())
        .expect("sign token");
    format!("{signing_input}.{}", b64url(sig.as_ref()))
}

/// One parsed HTTP request head.
pub struct Head {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub raw_lines: Vec<String>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn query(&self, key: &str) -> Option<String> {
        let q = self.target.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == key).then(|| {
                reqwest::Url::parse(&format!("http://x/?v={v}"))
                    .ok()
                    .and_then(|u| u.query_pairs().next().map(|(_, v)| v.to_string()))
                    .unwrap_or_default()
            })
        })
    }
}

fn read_head(conn: &mut TcpStream) -> Option<Head> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let mut it = first.split_whitespace();
    let method = it.next()?.to_string();
    let target = it.next()?.to_string();
    let mut headers = Vec::new();
    let mut raw_lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            break;
        }
        let l = line.trim_end().to_string();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        raw_lines.push(l);
    }
    Some(Head {
        method,
        target,
        headers,
        raw_lines,
    })
}

fn respond(conn: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out += &format!("{k}: {v}\r\n");
    }
    out += "\r\n";
    let _ = conn.write_all(out.as_bytes());
    let _ = conn.write_all(body);
    let _ = conn.shutdown(Shutdown::Both);
}

/// What the proxy saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub authorization: bool,
    pub range: Option<String>,
}

/// What the proxy does besides forwarding.
#[derive(Default)]
pub struct Rules {
    /// Answer this many manifest requests with 429 and `Retry-After: 7`.
    pub too_many: AtomicUsize,
    /// Cut this many blob answers short after `cut_after` body bytes.
    pub cuts: AtomicUsize,
    pub cut_after: u64,
    /// Called at a cut; the proxy then stops listening too (the registry is gone).
    pub on_cut: Option<Box<dyn Fn() + Send + Sync>>,
    /// Demand this `user:password` on `/v2/` requests (Basic), as a registry would.
    pub require_basic: Option<(String, String)>,
    /// Answer blob requests with a 307 to `http://localhost:PORT/storage/…` (another origin).
    pub redirect_blobs: bool,
    /// Pause this long after each 16 KiB of a blob answer: a slow link, so progress shows.
    pub throttle: Option<Duration>,
}

pub struct Proxy {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    pub fn start(upstream: u16, rules: Rules) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rules = Arc::new(rules);
        // the listener is shared so that a cut drops it before the client sees the cut: a
        // client that reconnects at once is refused, never queued on a listener about to close
        let listening = Arc::new(Mutex::new(Some(listener)));
        let s = seen.clone();
        std::thread::spawn(move || loop {
            let accepted = match listening.lock() {
                Ok(l) => match l.as_ref() {
                    Some(l) => l.accept(),
                    None => break,
                },
                Err(_) => break,
            };
            match accepted {
                Ok((conn, _)) => {
                    let _ = conn.set_nonblocking(false);
                    let (s, rules, l) = (s.clone(), rules.clone(), listening.clone());
                    std::thread::spawn(move || serve(conn, upstream, port, &s, &rules, &l));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        });
        Proxy { port, seen }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn serve(
    mut conn: TcpStream,
    upstream: u16,
    port: u16,
    seen: &Mutex<Vec<Seen>>,
    rules: &Rules,
    listening: &Mutex<Option<TcpListener>>,
) {
    let Some(head) = read_head(&mut conn) else {
        return;
    };
    let path = head.target.clone();
    if let Ok(mut s) = seen.lock() {
        s.push(Seen {
            method: head.method.clone(),
            path: path.clone(),
            authorization: head.header("authorization").is_some(),
            range: head.header("range").map(str::to_string),
        });
    }
    let storage = path.starts_with("/storage/");
    if let (false, Some((u, p))) = (storage, &rules.require_basic) {
        let want = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        );
        if head.header("authorization") != Some(want.as_str()) {
            respond(
                &mut conn,
                "401 Unauthorized",
                &[("WWW-Authenticate", "Basic realm=\"proxy\"")],
                b"{}",
            );
            return;
        }
    }
    if path.contains("/manifests/") && take_one(&rules.too_many) {
        respond(
            &mut conn,
            "429 Too Many Requests",
            &[("Retry-After", "7"), ("Content-Type", "application/json")],
            br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
        );
        return;
    }
    let blob = path.contains("/blobs/sha256:");
    if blob && rules.redirect_blobs && !storage {
        let loc = format!("http://localhost:{port}/storage{path}");
        respond(
            &mut conn,
            "307 Temporary Redirect",
            &[("Location", &loc)],
            b"",
        );
        return;
    }
    let up_path = path.strip_prefix("/storage").unwrap_or(&path);
    let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
        let _ = conn.shutdown(Shutdown::Both);
        return;
    };
    let mut req = format!("{} {up_path} HTTP/1.1\r\n", head.method);
    for l in &head.raw_lines {
        let lower = l.to_ascii_lowercase();
        if !lower.starts_with("connection:") && !lower.starts_with("authorization:") {
            req += l;
            req += "\r\n";
        }
    }
    req += "Connection: close\r\n\r\n";
    if up.write_all(req.as_bytes()).is_err() {
        return;
    }
    // the answer's head, with `Connection: close` so the client opens a new connection next
    let mut up_reader = BufReader::new(up);
    let mut out = String::new();
    loop {
        let mut line = String::new();
        if up_reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if line.trim_end().is_empty() {
            break;
        }
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out += &line;
        }
    }
    out += "Connection: close\r\n\r\n";
    if conn.write_all(out.as_bytes()).is_err() {
        return;
    }
    // a cut happens where a blob answer reaches `cut_after` bytes, while cuts are left
    let cuttable = blob && head.method == "GET" && rules.cuts.load(Ordering::Relaxed) > 0;
    let limit = if cuttable { rules.cut_after } else { u64::MAX };
    let mut sent = 0u64;
    let mut buf = [0u8; 16 * 1024];
    let mut cut = false;
    loop {
        if sent >= limit {
            cut = take_one(&rules.cuts);
            if cut {
                break;
            }
        }
        let room = if sent < limit { limit - sent } else { u64::MAX };
        let want = buf.len().min(room as usize);
        match up_reader.read(&mut buf[..want]) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if conn.write_all(&buf[..n]).is_err() {
                    break;
                }
                sent += n as u64;
                if let (true, Some(pause)) = (blob, rules.throttle) {
                    std::thread::sleep(pause);
                }
            }
        }
    }
    if cut {
        if let Some(f) = &rules.on_cut {
            f();
            // connections are refused from here on
            if let Ok(mut l) = listening.lock() {
                l.take();
            }
        }
    }
    let _ = conn.flush();
    let _ = conn.shutdown(Shutdown::Both);
}

fn take_one(n: &AtomicUsize) -> bool {
    n.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1))
        .is_ok()
}
