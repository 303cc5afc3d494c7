//! The connection to a Docker or Podman daemon, under bathy's own limits: bollard builds and
//! reads the requests, this module carries them (a bollard "custom transport"), one connection
//! per request over a Unix socket, TCP or TLS.
//!
//! A daemon is a peer that answers, and a hostile or broken one can answer anything: bollard
//! reads an answer it parses (version, inspect, an error) whole into memory, and waits for a
//! body for as long as it takes. So every connection here is read through a [`Guarded`]
//! stream: at most [`REPLY_MAX`] bytes for an answer read whole, and no more than the idle
//! timeout without a byte once the answer has begun. Only a successful export or pull (a
//! stream read as it comes, its memory bounded by its reader) may run past the cap. The
//! progress of a pull or a build is JSON, one value a line, which bollard gathers line by
//! line: there each line is capped at [`LINE_MAX`] bytes of the body.

use crate::error::{Error, Result};
use bollard::{BollardRequest, ClientVersion, Docker};
use hyper::header::{HeaderValue, HOST};
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes of an answer read whole (headers included): a daemon's version or an image's inspect
/// is a few KB, an error a line.
pub const REPLY_MAX: u64 = 16 << 20;
/// Bytes of a streamed JSON answer (pull or build progress) between two ends of line outside
/// a JSON value: bollard keeps them all until the value ends. A progress line is a few
/// hundred bytes, a build's output arrives in pieces of a few KB.
pub const LINE_MAX: u64 = 1 << 20;
/// Seconds without a byte, once an answer has begun, before the daemon is given up on. Not
/// counted before the first byte: Docker 20.10 writes a whole image to its disk before it
/// sends the export's headers.
pub const IDLE_SECS: u64 = 60;

/// Where the daemon listens.
#[derive(Clone)]
pub enum Address {
    Unix(PathBuf),
    Tcp(String),
    Tls {
        addr: String,
        server: rustls::pki_types::ServerName<'static>,
        config: Arc<rustls::ClientConfig>,
    },
}

/// What the guard stopped, found in the chain of causes of a failed request.
#[derive(Clone, Copy, Debug, thiserror::Error)]
pub enum Stopped {
    #[error("an answer of more than {REPLY_MAX} bytes")]
    TooLarge,
    #[error("no byte for {0} s in the middle of an answer")]
    Idle(u64),
    #[error("a line of more than {LINE_MAX} bytes in a streamed answer")]
    LongLine,
}

/// A failure to reach the daemon at all (as opposed to one after it answered).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub io::Error);

/// A bollard client whose requests go through [`Guarded`] connections to `address`. The idle
/// timeout is read from `idle_secs` at each request, so a caller may change it later.
/// `long_line` is set when a streamed answer is stopped at [`LINE_MAX`]: bollard passes that
/// failure on as a bare message ("error reading a body"), without its cause.
pub fn client(
    address: Address,
    timeout_secs: u64,
    version: &ClientVersion,
    idle_secs: Arc<AtomicU64>,
    long_line: Arc<AtomicBool>,
) -> Result<Docker> {
    let address = Arc::new(address);
    let transport = move |req: BollardRequest| {
        let address = address.clone();
        let idle = Duration::from_secs(idle_secs.load(Ordering::Relaxed));
        Box::pin(send(address, req, idle, long_line.clone()))
    };
    Docker::connect_with_custom_transport(transport, Some("http://docker"), timeout_secs, version)
        .map_err(|e| Error::Daemon(format!("cannot set up the daemon client: {e}")))
}

async fn send(
    address: Arc<Address>,
    req: BollardRequest,
    idle: Duration,
    long_line: Arc<AtomicBool>,
) -> std::result::Result<hyper::Response<hyper::body::Incoming>, bollard::errors::Error> {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    // the export, a pull and a build (`bathy suggest --verify`) are streams, read as they
    // come; every other answer is read whole. A pull's and a build's are JSON lines.
    let lines = path.ends_with("/images/create") || path.ends_with("/build");
    let stream = lines || path.ends_with("/get");
    // one connection per request, so each answer has its own budget; origin-form URI and a
    // Host header, as the docker CLI sends them
    let origin = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = origin.parse().map_err(|e: hyper::http::uri::InvalidUri| {
        bollard::errors::Error::IOError {
            err: io::Error::other(e),
        }
    })?;
    parts
        .headers
        .insert(HOST, HeaderValue::from_static("docker"));
    let io = connect(&address)
        .await
        .map_err(|e| bollard::errors::Error::IOError {
            err: io::Error::new(e.kind(), Unreachable(e)),
        })?;
    let mut guarded = Guarded::new(io, stream, idle);
    if lines {
        guarded.lines = Some(JsonLines {
            stopped: long_line,
            ..JsonLines::default()
        });
    }
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(guarded))
            .await
            .map_err(|err| bollard::errors::Error::HyperResponseError { err })?;
    tokio::spawn(async move {
        // ends with the body (or the error the guard raised, which the body reader sees)
        let _ = conn.await;
    });
    sender
        .send_request(hyper::Request::from_parts(parts, body))
        .await
        .map_err(|err| bollard::errors::Error::HyperResponseError { err })
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn connect(address: &Address) -> io::Result<Box<dyn Stream>> {
    Ok(match address {
        Address::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
        Address::Tcp(addr) => Box::new(tokio::net::TcpStream::connect(addr.as_str()).await?),
        Address::Tls {
            addr,
            server,
            config,
        } => {
            let tcp = tokio::net::TcpStream::connect(addr.as_str()).await?;
            let tls = tokio_rustls::TlsConnector::from(config.clone());
            Box::new(tls.connect(server.clone(), tcp).await?)
        }
    })
}

/// A connection read under the limits: bytes counted against [`REPLY_MAX`] (unless the answer
/// is a stream whose status says success), and an idle timer armed while a read waits once
/// the answer has begun.
struct Guarded {
    inner: Box<dyn Stream>,
    /// A streamed answer: uncapped once its status line says 2xx.
    stream: bool,
    /// The first bytes of the answer, until the status code is in.
    head: Vec<u8>,
    capped: bool,
    received: u64,
    idle: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// For an answer of JSON lines: the length of the line being read.
    lines: Option<JsonLines>,
}

impl Guarded {
    fn new(inner: Box<dyn Stream>, stream: bool, idle: Duration) -> Guarded {
        Guarded {
            inner,
            stream,
            head: Vec::new(),
            capped: true,
            received: 0,
            idle,
            timer: None,
            lines: None,
        }
    }

    /// Count `got`; read the status code from the first bytes (`HTTP/1.1 200 …`).
    fn take(&mut self, got: &[u8]) -> io::Result<()> {
        self.received += got.len() as u64;
        if self.stream && self.head.len() < 12 {
            let more = (12 - self.head.len()).min(got.len());
            self.head.extend_from_slice(&got[..more]);
            if self.head.len() >= 12 && self.head.get(9) == Some(&b'2') {
                self.capped = false;
            }
        }
        if self.capped && self.received > REPLY_MAX {
            return Err(io::Error::other(Stopped::TooLarge));
        }
        if let Some(l) = &mut self.lines {
            l.take(got)?;
        }
        Ok(())
    }
}

/// Follows an HTTP/1.1 answer to the bytes of its body (headers skipped, chunk framing taken
/// off, as the framing's own line ends must not count) and counts the body's bytes since the
/// last end of line outside a JSON value (a line end inside a string or between brackets
/// does not end what bollard gathers).
#[derive(Default)]
struct JsonLines {
    /// Set when the cap is hit.
    stopped: Arc<AtomicBool>,
    at: Framing,
    /// The start of the header line being read (enough to tell `Transfer-Encoding`).
    header: Vec<u8>,
    chunked: bool,
    chunk_left: u64,
    depth: u64,
    in_string: bool,
    escaped: bool,
    open: u64,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Framing {
    #[default]
    Headers,
    /// A body without chunks: every byte is the body's.
    Plain,
    ChunkSize,
    /// The rest of a chunk-size line (extensions) up to its `\n`.
    ChunkLineEnd,
    ChunkData,
    /// The `\r\n` after a chunk's data.
    ChunkDataEnd,
}

impl JsonLines {
    fn take(&mut self, got: &[u8]) -> io::Result<()> {
        for &b in got {
            match self.at {
                Framing::Headers => self.header_byte(b),
                Framing::Plain => self.body_byte(b)?,
                Framing::ChunkSize => match b {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        let digit = (b as char).to_digit(16).unwrap_or(0) as u64;
                        self.chunk_left = self.chunk_left.saturating_mul(16).saturating_add(digit);
                    }
                    b'\n' => self.end_chunk_line(),
                    _ => self.at = Framing::ChunkLineEnd,
                },
                Framing::ChunkLineEnd => {
                    if b == b'\n' {
                        self.end_chunk_line();
                    }
                }
                Framing::ChunkData => {
                    self.body_byte(b)?;
                    self.chunk_left -= 1;
                    if self.chunk_left == 0 {
                        self.at = Framing::ChunkDataEnd;
                    }
                }
                Framing::ChunkDataEnd => {
                    if b == b'\n' {
                        self.at = Framing::ChunkSize;
                    }
                }
            }
        }
        Ok(())
    }

    fn header_byte(&mut self, b: u8) {
        if b != b'\n' {
            if self.header.len() < 256 {
                self.header.push(b.to_ascii_lowercase());
            }
            return;
        }
        let line = std::mem::take(&mut self.header);
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        if line.is_empty() {
            self.at = if self.chunked {
                Framing::ChunkSize
            } else {
                Framing::Plain
            };
        } else if let Some(v) = line.strip_prefix(b"transfer-encoding:") {
            self.chunked = v.windows(7).any(|w| w == b"chunked");
        }
    }

    fn end_chunk_line(&mut self) {
        // a zero-size chunk ends the body; what follows (trailers) is not counted
        self.at = if self.chunk_left == 0 {
            Framing::ChunkLineEnd
        } else {
            Framing::ChunkData
        };
    }

    fn body_byte(&mut self, b: u8) -> io::Result<()> {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
        } else {
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                b'\n' if self.depth == 0 => {
                    self.open = 0;
                    return Ok(());
                }
                _ => {}
            }
        }
        self.open += 1;
        if self.open > LINE_MAX {
            self.stopped.store(true, Ordering::Relaxed);
            return Err(io::Error::other(Stopped::LongLine));
        }
        Ok(())
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                self.timer = None;
                let got = buf.filled()[before..].to_vec();
                Poll::Ready(self.take(&got))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if self.received == 0 => Poll::Pending,
            Poll::Pending => {
                let idle = self.idle;
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        Stopped::Idle(idle.as_secs()),
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The guard's verdict anywhere in the chain of causes of `e`.
pub fn stopped<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Stopped> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(s) = c.downcast_ref::<Stopped>() {
            return Some(s);
        }
        // io::Error's source() skips the custom error it wraps; look inside it too
        if let Some(inner) = c
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<Stopped>())
        {
            return Some(inner);
        }
        cur = c.source();
    }
    None
}

/// The I/O error kind when the request failed before the daemon could be reached (connect
/// refused, no socket, no permission), as opposed to after it answered.
pub fn connect_failure(e: &bollard::errors::Error) -> Option<io::ErrorKind> {
    match e {
        bollard::errors::Error::IOError { err }
            if err.get_ref().is_some_and(|i| i.is::<Unreachable>()) =>
        {
            Some(err.kind())
        }
        _ => None,
    }
}
