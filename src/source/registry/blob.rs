//! A layer blob as a `Read` for the layer reader: bytes straight off the socket, never the
//! whole blob in memory, the size held to the manifest's, one resume with a Range request
//! when the registry stops sending, and a stop when the user cancels.

use super::client::{io_detail, Session};
use crate::error::Result;
use crate::progress::{Download, Progress};
use crate::source::archive::BlobFetcher;
use reqwest::blocking::Response;
use reqwest::StatusCode;
use std::io::{self, ErrorKind, Read};
use std::sync::Arc;

/// Hands the layer reader a stream per blob of one repository.
#[derive(Clone)]
pub struct Fetcher {
    pub session: Arc<Session>,
    pub progress: Option<Arc<Progress>>,
    /// The first transfer that failed for good, said plainly: the layer reader would wrap it
    /// in a decoder's words ("corrupt gzip layer"), which blame the blob for the network.
    pub failure: Arc<std::sync::Mutex<Option<String>>>,
}

impl Fetcher {
    pub fn new(session: Arc<Session>, progress: Option<Arc<Progress>>) -> Fetcher {
        Fetcher {
            session,
            progress,
            failure: Arc::default(),
        }
    }
    pub fn take_failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|mut f| f.take())
    }
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fetcher({})", self.session.name.full())
    }
}

impl BlobFetcher for Fetcher {
    fn open(&self, digest: &str, size: u64) -> Result<Box<dyn Read + Send>> {
        let resp = self.session.blob(digest, 0)?;
        let download = self
            .progress
            .as_ref()
            .map(|p| p.start_download(digest, size));
        Ok(Box::new(BlobReader {
            session: self.session.clone(),
            digest: digest.to_string(),
            size,
            resp: Some(resp),
            received: 0,
            resumed: false,
            progress: self.progress.clone(),
            download,
            failure: self.failure.clone(),
        }))
    }
}

pub struct BlobReader {
    session: Arc<Session>,
    digest: String,
    /// From the manifest: more is refused, less is a cut-off transfer.
    size: u64,
    resp: Option<Response>,
    received: u64,
    resumed: bool,
    progress: Option<Arc<Progress>>,
    /// This blob's bytes received, for the per-layer progress.
    download: Option<Arc<Download>>,
    failure: Arc<std::sync::Mutex<Option<String>>>,
}

impl BlobReader {
    /// Record the failure for [`Fetcher::take_failure`] and hand it to the reader.
    fn give_up(&self, message: String) -> io::Error {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert_with(|| format!("layer {}: {message}", self.digest));
        }
        io::Error::other(message)
    }

    /// The transfer broke (`why`): ask once for the rest, then give up naming the layer.
    fn resume(&mut self, why: String) -> io::Result<()> {
        self.resp = None;
        let at = format!("after {} of {} bytes", self.received, self.size);
        if self.resumed {
            return Err(self.give_up(format!(
                "the registry stopped sending {at} again after a resume ({why})"
            )));
        }
        self.resumed = true;
        let resp = match self.session.blob(&self.digest, self.received) {
            Ok(r) => r,
            Err(e) => {
                let e = self.session.strip_context(&e, &self.digest);
                return Err(self.give_up(format!(
                    "the registry stopped sending {at} ({why}); resuming failed: {e}"
                )));
            }
        };
        let mut resp = resp;
        if resp.status() == StatusCode::PARTIAL_CONTENT {
            let start = resp
                .headers()
                .get(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("bytes "))
                .and_then(|v| v.split('-').next())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if start != Some(self.received) {
                return Err(self.give_up(format!(
                    "the registry stopped sending {at} ({why}); the resumed answer starts elsewhere"
                )));
            }
        } else {
            // no Range support: the whole blob again, skipping what we have
            let skip = self.received;
            let skipped = io::copy(&mut (&mut resp).take(skip), &mut io::sink())?;
            if skipped != skip {
                return Err(self.give_up(format!(
                    "the registry stopped sending {at} ({why}), and the retry ended sooner"
                )));
            }
        }
        self.resp = Some(resp);
        Ok(())
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.progress.as_ref().is_some_and(|p| p.cancelled()) {
                // not `Interrupted`: readers retry that kind
                return Err(io::Error::other("cancelled"));
            }
            let Some(resp) = self.resp.as_mut() else {
                return Ok(0);
            };
            // never past the manifest's size, so a lying registry cannot flood the parser
            let room = (self.size - self.received).min(buf.len() as u64) as usize;
            if room == 0 {
                let mut one = [0u8; 1];
                return match resp.read(&mut one) {
                    Ok(0) | Err(_) => {
                        self.resp = None;
                        Ok(0)
                    }
                    Ok(_) => Err(self.give_up(format!(
                        "the registry sent more than the {} bytes the manifest declares",
                        self.size
                    ))),
                };
            }
            match resp.read(&mut buf[..room]) {
                Ok(0) => self.resume("connection closed".into())?,
                Ok(n) => {
                    self.received += n as u64;
                    if let Some(d) = &self.download {
                        d.add(n as u64);
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => self.resume(io_detail(&e))?,
            }
        }
    }
}
