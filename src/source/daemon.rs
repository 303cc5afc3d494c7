//! Reading an image from a Docker or Podman daemon: connect the way the docker CLI does, inspect,
//! and stream the export (`docker save` bytes) into the archive reader, with no temporary file.
//!
//! The daemon speaks async HTTP (bollard on tokio); the archive reader is a blocking `Read`.
//! A small runtime drives the response body into a bounded channel that the calling thread
//! reads, so at most `CHANNEL_CHUNKS` body chunks are in memory whatever the image's size.

use super::daemon_transport::{self as transport, Address, Stopped};
use super::reference::{pull_reference, Engine};
use super::LoadOptions;
use crate::error::{Error, Result};
use crate::image::{DaemonInfo, Image};
use crate::progress::Progress;
use bollard::query_parameters::CreateImageOptions;
use bollard::{Docker, API_DEFAULT_VERSION};
use futures_util::{Stream, StreamExt};
use std::io::{ErrorKind, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Seconds to wait for a daemon to start answering a request (not for a whole transfer).
const ANSWER_TIMEOUT_SECS: u64 = 120;
/// The same for the export: Docker 20.10 writes the whole image to its own disk before the
/// first byte (and header) goes out, which takes minutes for a big image on a slow disk.
const EXPORT_TIMEOUT_SECS: u64 = 3600;
/// Body chunks (each at most a few hundred KiB from hyper) buffered between the network and the
/// reader: enough to keep the socket busy while a layer is hashed, small enough to bound memory.
pub const CHANNEL_CHUNKS: usize = 32;
const DOCKER_SOCKET: &str = "unix:///var/run/docker.sock";
const PODMAN_SYSTEM_SOCKET: &str = "/run/podman/podman.sock";

/// A connected client and how to name the daemon in messages.
pub struct Connection {
    pub docker: Docker,
    pub engine: Engine,
    /// Where the daemon was reached (`unix:///var/run/docker.sock`, `tcp://host:2376`).
    pub endpoint: String,
    runtime: tokio::runtime::Runtime,
    /// Seconds without a byte in the middle of an answer before it is given up on.
    idle_secs: Arc<AtomicU64>,
    /// Set by the transport when a streamed line passed [`transport::LINE_MAX`].
    long_line: Arc<AtomicBool>,
}

/// One status line of a pull (`<layer id>: Downloading`, 12 MB of 40 MB).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullStatus {
    pub id: Option<String>,
    pub status: String,
    /// Bytes done and expected of the step, when the daemon says.
    pub current: Option<u64>,
    pub total: Option<u64>,
}

/// Read `reference` (a name, name:tag or id the daemon knows) from the daemon of `engine`.
pub fn load(engine: Engine, reference: &str, opts: &LoadOptions) -> Result<Image> {
    Connection::open(engine)?.load(reference, opts)
}

/// Ask the daemon to pull `reference` from its registry, reporting each status line.
pub fn pull(
    engine: Engine,
    reference: &str,
    platform: Option<&str>,
    on_status: impl FnMut(&PullStatus),
) -> Result<()> {
    Connection::open(engine)?.pull(reference, platform, on_status)
}

impl Connection {
    /// Connect as the engine's own CLI would, and agree on an API version with the daemon.
    pub fn open(engine: Engine) -> Result<Connection> {
        Connection::open_at(engine, &endpoint(engine)?)
    }

    /// Connect to the daemon at `endpoint` (`unix://PATH`, `tcp://HOST:PORT`, `https://…`).
    pub fn open_at(engine: Engine, endpoint: &str) -> Result<Connection> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bathy-daemon")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::Daemon(format!(
                    "cannot start the I/O runtime for the daemon connection: {e}"
                ))
            })?;
        let idle_secs = Arc::new(AtomicU64::new(transport::IDLE_SECS));
        let long_line = Arc::new(AtomicBool::new(false));
        let docker = transport::client(
            address(engine, endpoint)?,
            ANSWER_TIMEOUT_SECS,
            API_DEFAULT_VERSION,
            idle_secs.clone(),
            long_line.clone(),
        )?;
        // a newer client than the daemon is refused outright, so settle on the lower version
        let docker = runtime
            .block_on(docker.negotiate_version())
            .map_err(|e| request_error(engine, endpoint, "/version", e))?;
        Ok(Connection {
            docker,
            engine,
            endpoint: endpoint.to_string(),
            runtime,
            idle_secs,
            long_line,
        })
    }

    /// Run a request of `docker` on the connection's runtime (builds and containers, for
    /// `bathy suggest --verify`).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Give up on an answer that sends nothing for `idle` once begun (default
    /// [`transport::IDLE_SECS`]); the time before an answer begins is not counted.
    pub fn set_idle_timeout(&self, idle: std::time::Duration) {
        self.idle_secs
            .store(idle.as_secs().max(1), Ordering::Relaxed);
    }

    /// The daemon's name and version, for the report (`docker 20.10.24`).
    pub fn engine_version(&self) -> String {
        let kind = self.engine.scheme();
        match self.runtime.block_on(self.docker.version()) {
            Ok(v) => {
                let podman = v
                    .components
                    .iter()
                    .flatten()
                    .any(|c| c.name.to_lowercase().contains("podman"));
                let kind = if podman { "podman" } else { kind };
                match v.version {
                    Some(ver) => format!("{kind} {ver}"),
                    None => kind.to_string(),
                }
            }
            Err(_) => kind.to_string(),
        }
    }

    /// Inspect, then stream the export into the archive reader.
    pub fn load(&self, reference: &str, opts: &LoadOptions) -> Result<Image> {
        let inspect = self
            .runtime
            .block_on(self.docker.inspect_image(&url_segment(reference)))
            .map_err(|e| self.image_error(reference, "the inspect", e))?;
        let size = inspect
            .size
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(0);
        if let Some(p) = &opts.progress {
            // received bytes against the image's size: the export is that plus tar headers
            p.bytes_total.store(size, Ordering::Relaxed);
        }
        let name = format!("{}://{reference}", self.engine.scheme());
        let mut reader = self.export_stream(reference, opts.progress.clone());
        // the reader counts received bytes itself; the layer parser would count them again
        let stream_opts = LoadOptions {
            progress: None,
            ..opts.clone()
        };
        let result = super::load_stream(&mut reader, &name, &stream_opts);
        if let Some(e) = reader.take_failure() {
            return Err(self.stream_error(reference, reader.received(), e));
        }
        let mut image = result.map_err(|e| {
            Error::Daemon(format!(
                "broken export from the {} daemon: {e}",
                self.engine.title()
            ))
        })?;
        drop(reader);

        let id = inspect.id.clone().unwrap_or_default();
        if !id.is_empty()
            && !image.config_digest.is_empty()
            && strip_algo(&id) != strip_algo(&image.config_digest)
        {
            image.warnings.push(format!(
                "{name}: the daemon exported config {} but inspect said {id} (was the tag moved meanwhile?)",
                image.config_digest
            ));
        }
        let repo_tags = inspect.repo_tags.clone().unwrap_or_default();
        if image.tags.is_empty() {
            image.tags = repo_tags
                .iter()
                .filter(|t| t.as_str() != "<none>:<none>")
                .cloned()
                .collect();
        }
        image.daemon = Some(DaemonInfo {
            id,
            repo_tags,
            repo_digests: inspect.repo_digests.clone().unwrap_or_default(),
            created: inspect.created.clone(),
            engine: self.engine_version(),
        });
        Ok(image)
    }

    /// The export of `reference` (what `docker save` sends) as a stream, its received bytes
    /// counted into `progress`.
    fn export_stream(
        &self,
        reference: &str,
        progress: Option<Arc<Progress>>,
    ) -> ChannelReader<hyper::body::Bytes, bollard::errors::Error> {
        ChannelReader::spawn(
            &self.runtime,
            self.docker
                .clone()
                .with_timeout(std::time::Duration::from_secs(EXPORT_TIMEOUT_SECS))
                .export_image(&url_segment(reference)),
            CHANNEL_CHUNKS,
            progress,
        )
    }

    /// Write the export of `reference` (what `docker save` sends) to `to`, counting its bytes
    /// into `activity` and stopping when it is cancelled: a daemon's image kept as an archive,
    /// to read single files of it ([`crate::source::refetch`]).
    pub fn export_to(
        &self,
        reference: &str,
        to: &mut dyn std::io::Write,
        activity: &Arc<super::refetch::Activity>,
    ) -> Result<u64> {
        let mut reader = self.export_stream(reference, None);
        let copied = std::io::copy(
            &mut super::refetch::Reporting {
                inner: &mut reader,
                activity: activity.clone(),
            },
            to,
        );
        if let Some(e) = reader.take_failure() {
            return Err(self.stream_error(reference, reader.received(), e));
        }
        copied.map_err(|e| match activity.cancelled() {
            true => Error::Cancelled,
            false => Error::Daemon(format!(
                "{reference}: keeping the export of the {} daemon failed: {e}",
                self.engine.title()
            )),
        })
    }

    /// Pull `reference` through the daemon (untagged means `:latest`, as the docker CLI does).
    pub fn pull(
        &self,
        reference: &str,
        platform: Option<&str>,
        mut on_status: impl FnMut(&PullStatus),
    ) -> Result<()> {
        let from_image = pull_reference(reference);
        let options = CreateImageOptions {
            from_image: Some(from_image.clone()),
            platform: platform.unwrap_or_default().to_string(),
            ..Default::default()
        };
        self.runtime.block_on(async {
            let mut stream = self.docker.create_image(Some(options), None, None);
            while let Some(item) = stream.next().await {
                match item {
                    Ok(info) => {
                        if let Some(msg) = info.error_detail.and_then(|d| d.message) {
                            return Err(self.pull_error(&from_image, msg));
                        }
                        let detail = info.progress_detail.unwrap_or_default();
                        on_status(&PullStatus {
                            id: info.id,
                            status: info.status.unwrap_or_default(),
                            current: detail.current.and_then(|n| u64::try_from(n).ok()),
                            total: detail
                                .total
                                .and_then(|n| u64::try_from(n).ok())
                                .filter(|&n| n > 0),
                        });
                    }
                    Err(bollard::errors::Error::DockerStreamError { error }) => {
                        return Err(self.pull_error(&from_image, error))
                    }
                    Err(bollard::errors::Error::DockerResponseServerError { message, .. }) => {
                        return Err(self.pull_error(&from_image, message))
                    }
                    Err(e) => return Err(self.request_failed("the pull", e)),
                }
            }
            Ok(())
        })
    }

    /// Why a request made on this connection (`asked`: "the build", …) failed, in one line
    /// naming the daemon.
    pub fn request_failed(&self, asked: &str, e: bollard::errors::Error) -> Error {
        if self.long_line.swap(false, Ordering::Relaxed) {
            return long_line_error(self.engine, &self.endpoint, asked);
        }
        request_error(self.engine, &self.endpoint, asked, e)
    }

    fn pull_error(&self, reference: &str, message: String) -> Error {
        Error::Daemon(format!(
            "{}: the {} daemon could not pull it: {}",
            reference,
            self.engine.title(),
            one_line(&message)
        ))
    }

    /// What went wrong with a request about one image (`asked`: "the inspect", "the export").
    fn image_error(&self, reference: &str, asked: &str, e: bollard::errors::Error) -> Error {
        match e {
            bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => Error::Daemon(format!(
                "{reference}: no such image in the {} daemon at {} (pull it, or run again with --pull)",
                self.engine.title(),
                self.endpoint
            )),
            bollard::errors::Error::DockerResponseServerError { status_code, message } => {
                Error::Daemon(format!("{reference}: the {} daemon answered {status_code}: {}", self.engine.title(), one_line(&message)))
            }
            e => request_error(self.engine, &self.endpoint, &format!("{asked} of {reference}"), e),
        }
    }

    /// The export broke off: the daemon died, the connection dropped, or it refused to start.
    fn stream_error(&self, reference: &str, received: u64, e: bollard::errors::Error) -> Error {
        if let Some(Stopped::Idle(secs)) = transport::stopped(&e) {
            return Error::Daemon(format!(
                "{reference}: the {} daemon stopped sending the image after {received} bytes (nothing for {secs} s)",
                self.engine.title()
            ));
        }
        if let bollard::errors::Error::RequestTimeoutError = e {
            return Error::Daemon(format!(
                "{reference}: the {} daemon did not start sending the image within {EXPORT_TIMEOUT_SECS} s",
                self.engine.title()
            ));
        }
        if received == 0 {
            return self.image_error(reference, "the export", e);
        }
        Error::Daemon(format!(
            "{reference}: the {} daemon stopped sending the image after {received} bytes: {}",
            self.engine.title(),
            one_line(&error_chain(&e))
        ))
    }
}

/// Where to find the daemon: `DOCKER_HOST` or the default socket for Docker; `CONTAINER_HOST` or
/// the rootless, then the system socket for Podman.
fn endpoint(engine: Engine) -> Result<String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match engine {
        Engine::Docker => Ok(env("DOCKER_HOST").unwrap_or_else(|| DOCKER_SOCKET.to_string())),
        Engine::Podman => {
            if let Some(h) = env("CONTAINER_HOST") {
                return Ok(h);
            }
            let mut tried = Vec::new();
            if let Some(xdg) = env("XDG_RUNTIME_DIR") {
                tried.push(PathBuf::from(xdg).join("podman/podman.sock"));
            }
            tried.push(PathBuf::from(PODMAN_SYSTEM_SOCKET));
            match tried.iter().find(|p| p.exists()) {
                Some(p) => Ok(format!("unix://{}", p.display())),
                None => Err(Error::Daemon(format!(
                    "no Podman socket found (tried {}): start one with `systemctl --user start podman.socket` or `podman system service`, or set CONTAINER_HOST",
                    tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                ))),
            }
        }
    }
}

/// Where `endpoint` listens, TLS when the docker CLI would use it (`DOCKER_TLS_VERIFY` or
/// `DOCKER_TLS` set, or an `https://` host), with certificates from `DOCKER_CERT_PATH` or
/// `~/.docker`.
fn address(engine: Engine, endpoint: &str) -> Result<Address> {
    let title = engine.title();
    let flag = |k: &str| std::env::var(k).map(|v| !v.is_empty()).unwrap_or(false);
    let unreachable = |why: String| {
        Error::Daemon(format!(
            "cannot connect to the {title} daemon at {endpoint}: {why}"
        ))
    };
    let (scheme, rest) = match endpoint.split_once("://") {
        Some((s, r)) => (s, r),
        // a bare path is what people mean by a socket
        None if endpoint.starts_with('/') => ("unix", endpoint),
        None => {
            return Err(unreachable(
                "not a URL (expected unix://PATH, tcp://HOST:PORT or https://HOST:PORT)".into(),
            ))
        }
    };
    match scheme {
        "unix" => {
            not_a_socket(rest).map_err(unreachable)?;
            Ok(Address::Unix(PathBuf::from(rest)))
        }
        "tcp" | "http" | "https" => {
            let tls = scheme == "https" || (engine == Engine::Docker && (flag("DOCKER_TLS_VERIFY") || flag("DOCKER_TLS")));
            let hostport = rest.trim_end_matches('/');
            let (host, addr) = match hostport.rsplit_once(':') {
                Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, hostport.to_string()),
                // the docker CLI's default ports
                _ => (hostport, format!("{hostport}:{}", if tls { 2376 } else { 2375 })),
            };
            if !tls {
                return Ok(Address::Tcp(addr));
            }
            let dir = match std::env::var_os("DOCKER_CERT_PATH").filter(|v| !v.is_empty()) {
                Some(d) => PathBuf::from(d),
                None => match std::env::var_os("HOME") {
                    Some(h) => PathBuf::from(h).join(".docker"),
                    None => return Err(unreachable("TLS needs certificates: set DOCKER_CERT_PATH".into())),
                },
            };
            let (key, cert, ca) = (dir.join("key.pem"), dir.join("cert.pem"), dir.join("ca.pem"));
            if let Some(missing) = [&key, &cert, &ca].into_iter().find(|p| !p.is_file()) {
                return Err(unreachable(format!("TLS certificate {} is missing (set DOCKER_CERT_PATH)", missing.display())));
            }
            let files = crate::source::registry::tls::CertFiles { cas: vec![ca], client: Some((cert, key)) };
            let context = format!("cannot connect to the {title} daemon at {endpoint}");
            let config = crate::source::registry::tls::client_config(&context, &files).map_err(|e| Error::Daemon(e.to_string()))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let server = rustls::pki_types::ServerName::try_from(host.to_string())
                .map_err(|e| unreachable(format!("{host} is no host name for TLS: {e}")))?;
            Ok(Address::Tls { addr, server, config: Arc::new(config) })
        }
        "ssh" => Err(unreachable(
            "ssh:// hosts are not supported: forward the socket (`ssh -NL /tmp/d.sock:/var/run/docker.sock HOST`) and set DOCKER_HOST=unix:///tmp/d.sock"
                .into(),
        )),
        other => Err(unreachable(format!("unsupported scheme {other}:// (use unix://, tcp:// or https://)"))),
    }
}

/// Why `path` is no socket to connect to: missing, a directory, a plain file (a daemon's
/// socket is what it listens on, not a file someone wrote).
fn not_a_socket(path: &str) -> std::result::Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err("no such socket (is the daemon running?)".into())
        }
        // permission and the like: the connect says it in its own words
        Err(_) => return Ok(()),
    };
    let t = meta.file_type();
    let kind = if t.is_socket() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else if t.is_fifo() {
        "a FIFO"
    } else {
        "a device"
    };
    Err(format!("{path} is {kind}, not a socket"))
}

/// Why a request to the daemon failed, in one line: it could not be reached (what to do about
/// it), or it was reached and its answer to `asked` was wrong (what was wrong).
fn request_error(engine: Engine, endpoint: &str, asked: &str, e: bollard::errors::Error) -> Error {
    use bollard::errors::Error as B;
    let title = engine.title();
    let reached = |what: String| Error::Daemon(format!("the {title} daemon at {endpoint} {what}"));
    match transport::stopped(&e) {
        Some(Stopped::TooLarge) => {
            return reached(format!(
                "answered {asked} with more than {} (a daemon's answer is a few KB)",
                crate::units::human_bytes(transport::REPLY_MAX)
            ))
        }
        Some(Stopped::Idle(secs)) => {
            return reached(format!(
                "stopped in the middle of its answer to {asked} (nothing for {secs} s)"
            ))
        }
        Some(Stopped::LongLine) => return long_line_error(engine, endpoint, asked),
        None => {}
    }
    if let Some(kind) = transport::connect_failure(&e) {
        let why = match kind {
            ErrorKind::PermissionDenied => {
                return Error::Daemon(format!(
                    "permission denied on the {title} socket {endpoint}: add your user to the `{}` group, or run as root",
                    engine.scheme()
                ))
            }
            ErrorKind::ConnectionRefused => "connection refused (is the daemon running?)".to_string(),
            ErrorKind::NotFound => "no such socket (is the daemon running?)".to_string(),
            _ => one_line(&error_chain(&e)),
        };
        return Error::Daemon(format!(
            "cannot connect to the {title} daemon at {endpoint}: {why}"
        ));
    }
    match &e {
        B::RequestTimeoutError => reached(format!(
            "did not answer {asked} within {ANSWER_TIMEOUT_SECS} s"
        )),
        B::DockerResponseServerError {
            status_code,
            message,
        } => reached(format!(
            "answered {asked} with {status_code}: {}",
            one_line(message)
        )),
        B::JsonDataError { message, .. } => reached(format!(
            "answered {asked} with JSON bathy cannot read: {}",
            one_line(message)
        )),
        B::APIVersionParseError {} => reached(format!(
            "answered {asked} without an API version bathy can read"
        )),
        B::HyperResponseError { err } if err.is_parse() => reached(format!(
            "answered {asked} with something that is not HTTP ({})",
            one_line(&err.to_string())
        )),
        B::HyperResponseError { err } if err.is_incomplete_message() || err.is_canceled() => {
            reached(format!("closed the connection before answering {asked}"))
        }
        _ => reached(format!(
            "failed to answer {asked}: {}",
            one_line(&error_chain(&e))
        )),
    }
}

fn long_line_error(engine: Engine, endpoint: &str, asked: &str) -> Error {
    Error::Daemon(format!(
        "the {} daemon at {endpoint} sent a line of more than {} in its answer to {asked} (a progress line is a few hundred bytes)",
        engine.title(),
        crate::units::human_bytes(transport::LINE_MAX)
    ))
}

/// An error and its causes, `a: b: c` (hyper's top-level messages alone say little).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.join(": ")
}

/// A message from the daemon (or about its answer) as one line: whitespace runs as one space,
/// control characters escaped, cut to a length a terminal line can take.
fn one_line(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::text_fit::shown(&joined, MESSAGE_MAX)
}

/// Characters of a daemon's message repeated in ours (a 50 MB error is not echoed whole).
const MESSAGE_MAX: usize = 400;

/// `reference` as one segment of the Docker API's URL: every byte outside the reference
/// grammar's characters percent-encoded, so none can end the path (`?`, `#`) or climb out of
/// it (`%2e%2e` stays encoded, `..` never forms). A reference that passed
/// [`super::reference::is_reference`] comes out unchanged.
fn url_segment(reference: &str) -> String {
    let mut out = String::with_capacity(reference.len());
    for b in reference.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'@' | b'_' | b'-' | b'+') {
            out.push(b as char);
        } else if b == b'.' && !out.ends_with('/') && !out.is_empty() {
            // a dot inside a component; one that starts a segment could begin `..`
            out.push('.');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn strip_algo(d: &str) -> &str {
    d.split_once(':').map(|(_, h)| h).unwrap_or(d)
}

/// A blocking `Read` over an async stream of byte chunks. A task on the runtime pulls the stream
/// into a bounded channel; `read` takes from it on the calling thread. Dropping the reader drops
/// the channel, which ends the task and with it the stream (and its connection).
pub struct ChannelReader<B, E> {
    rx: tokio::sync::mpsc::Receiver<std::result::Result<B, E>>,
    current: Option<B>,
    pos: usize,
    received: u64,
    failure: Option<E>,
    ended: bool,
    progress: Option<Arc<Progress>>,
}

impl<B, E> ChannelReader<B, E>
where
    B: AsRef<[u8]> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    /// Start pulling `stream` on `runtime`, at most `capacity` chunks ahead of the reader.
    pub fn spawn<S>(
        runtime: &tokio::runtime::Runtime,
        stream: S,
        capacity: usize,
        progress: Option<Arc<Progress>>,
    ) -> Self
    where
        S: Stream<Item = std::result::Result<B, E>> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
        runtime.spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(item) = stream.next().await {
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    return;
                }
            }
        });
        ChannelReader {
            rx,
            current: None,
            pos: 0,
            received: 0,
            failure: None,
            ended: false,
            progress,
        }
    }

    /// Bytes handed over so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The stream's own error, if it broke off (as opposed to the reader's caller giving up).
    pub fn take_failure(&mut self) -> Option<E> {
        self.failure.take()
    }
}

impl<B: AsRef<[u8]>, E: std::fmt::Display> Read for ChannelReader<B, E> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(chunk) = &self.current {
                let bytes = chunk.as_ref();
                if self.pos < bytes.len() {
                    let n = buf.len().min(bytes.len() - self.pos);
                    buf[..n].copy_from_slice(&bytes[self.pos..self.pos + n]);
                    self.pos += n;
                    return Ok(n);
                }
                self.current = None;
            }
            if self.ended {
                return Ok(0);
            }
            if self.progress.as_ref().is_some_and(|p| p.cancelled()) {
                // not `Interrupted`: readers retry that kind, and the load must end
                return Err(std::io::Error::other("cancelled"));
            }
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => {
                    let n = chunk.as_ref().len() as u64;
                    self.received += n;
                    if let Some(p) = &self.progress {
                        p.add_read(n);
                    }
                    self.current = Some(chunk);
                    self.pos = 0;
                }
                Some(Err(e)) => {
                    let msg = e.to_string();
                    self.failure = Some(e);
                    self.ended = true;
                    return Err(std::io::Error::other(msg));
                }
                None => {
                    self.ended = true;
                    return Ok(0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn reads_every_byte_in_order_across_chunks() {
        let rt = runtime();
        let chunks: Vec<std::result::Result<Vec<u8>, String>> = vec![
            Ok(b"ab".to_vec()),
            Ok(Vec::new()),
            Ok(b"cde".to_vec()),
            Ok(b"f".to_vec()),
        ];
        let progress = Arc::new(Progress::new());
        let mut r = ChannelReader::spawn(
            &rt,
            futures_util::stream::iter(chunks),
            2,
            Some(progress.clone()),
        );
        let mut out = Vec::new();
        let mut small = [0u8; 2];
        // reads smaller than a chunk must split it, not drop the rest
        loop {
            let n = r.read(&mut small).expect("read");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&small[..n]);
        }
        assert_eq!(out, b"abcdef");
        assert_eq!(r.received(), 6);
        assert_eq!(progress.snapshot().bytes_read, 6);
        assert!(r.take_failure().is_none());
    }

    #[test]
    fn a_stream_that_breaks_off_is_an_error_not_an_end() {
        let rt = runtime();
        let chunks: Vec<std::result::Result<Vec<u8>, String>> = vec![
            Ok(b"abc".to_vec()),
            Err("connection reset".to_string()),
            Ok(b"never".to_vec()),
        ];
        let mut r = ChannelReader::spawn(&rt, futures_util::stream::iter(chunks), 4, None);
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).expect_err("must fail");
        assert_eq!(out, b"abc");
        assert!(err.to_string().contains("connection reset"));
        assert_eq!(r.take_failure().as_deref(), Some("connection reset"));
        // and it stays ended
        assert_eq!(r.read(&mut [0u8; 4]).expect("ended"), 0);
    }

    #[test]
    fn memory_is_bounded_by_the_channel() {
        let rt = runtime();
        let pulled = Arc::new(AtomicUsize::new(0));
        let counter = pulled.clone();
        let endless = futures_util::stream::repeat_with(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>(vec![0u8; 1024])
        });
        let capacity = 4;
        let mut r = ChannelReader::spawn(&rt, endless, capacity, None);
        std::thread::sleep(std::time::Duration::from_millis(300));
        // the channel holds `capacity` chunks and the task holds one more waiting to be sent
        assert!(
            pulled.load(Ordering::SeqCst) <= capacity + 1,
            "pulled {}",
            pulled.load(Ordering::SeqCst)
        );
        let mut buf = vec![0u8; 1024 * 10];
        let mut got = 0;
        while got < buf.len() {
            got += r.read(&mut buf[got..]).expect("read");
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        // 10 chunks consumed: still at most capacity + 1 beyond what was read
        assert!(
            pulled.load(Ordering::SeqCst) <= 10 + capacity + 1,
            "pulled {}",
            pulled.load(Ordering::SeqCst)
        );
        // dropping the reader ends the task, which stops pulling
        drop(r);
        std::thread::sleep(std::time::Duration::from_millis(100));
        let after_drop = pulled.load(Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(pulled.load(Ordering::SeqCst), after_drop);
    }

    #[test]
    fn unreachable_endpoints_say_why_in_one_line() {
        let e = Connection::open_at(Engine::Docker, "unix:///nonexistent/bathy.sock")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(e, "cannot connect to the Docker daemon at unix:///nonexistent/bathy.sock: no such socket (is the daemon running?)");
        let e = Connection::open_at(Engine::Docker, "ssh://me@host")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("cannot connect to the Docker daemon at ssh://me@host: ssh:// hosts are not supported"), "{e}");
        let e = Connection::open_at(Engine::Docker, "npipe:////./pipe/docker")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("unsupported scheme npipe://"), "{e}");
        // a socket file nobody listens on
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("dead.sock");
        drop(std::os::unix::net::UnixListener::bind(&sock).expect("bind"));
        let endpoint = format!("unix://{}", sock.display());
        let e = Connection::open_at(Engine::Docker, &endpoint)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(e, format!("cannot connect to the Docker daemon at {endpoint}: connection refused (is the daemon running?)"));
    }
}
