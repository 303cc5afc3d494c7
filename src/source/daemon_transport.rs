//! The connection to a Docker or Podman daemon, under bathy's own limits: bollard builds and
//! reads the requests, this module carries them (a bollard "custom transport"), one connection
//! per request over a Unix socket, TCP or TLS.
//!
//! A daemon is a peer that answers, and a hostile or broken one can answer anything: bollard
//! reads an answer it parses (version, inspect, an error) whole into memory, and waits for a
//! body for as long as it takes. So every connection here is read through a [`Guarded`]
//! stream: at most [`REPLY_MAX`] bytes for an answer read whole, and no more than the idle
//! timeout without a byte once the answer has begun. Only a successful export or pull (a
//! stream read as it comes, its memory bounded by its reader) may run past the cap.

use crate::error::{Error, Result};
use bollard::{BollardRequest, ClientVersion, Docker};
use hyper::header::{HeaderValue, HOST};
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes of an answer read whole (headers included): a daemon's version or an image's inspect
/// is a few KB, an error a line.
pub const REPLY_MAX: u64 = 16 << 20;
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
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    #[error("an answer of more than {REPLY_MAX} bytes")]
    TooLarge,
    #[error("no byte for {0} s in the middle of an answer")]
    Idle(u64),
}

/// A failure to reach the daemon at all (as opposed to one after it answered).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub io::Error);

/// A bollard client whose requests go through [`Guarded`] connections to `address`. The idle
/// timeout is read from `idle_secs` at each request, so a caller may change it later.
pub fn client(
    address: Address,
    timeout_secs: u64,
    version: &ClientVersion,
    idle_secs: Arc<AtomicU64>,
) -> Result<Docker> {
    let address = Arc::new(address);
    let transport = move |req: BollardRequest| {
        let address = address.clone();
        let idle = Duration::from_secs(idle_secs.load(Ordering::Relaxed));
        Box::pin(send(address, req, idle))
    };
    Docker::connect_with_custom_transport(transport, Some("http://docker"), timeout_secs, version)
        .map_err(|e| Error::Daemon(format!("cannot set up the daemon client: {e}")))
}

async fn send(
    address: Arc<Address>,
    req: BollardRequest,
    idle: Duration,
) -> std::result::Result<hyper::Response<hyper::body::Incoming>, bollard::errors::Error> {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    // the export, a pull and a build (`bathy suggest --verify`) are streams, read as they
    // come; every other answer is read whole
    let stream =
        path.ends_with("/get") || path.ends_with("/images/create") || path.ends_with("/build");
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
    let guarded = Guarded::new(io, stream, idle);
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
