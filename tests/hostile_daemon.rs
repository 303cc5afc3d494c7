//! Hostile daemons (issue 11, items 8, 14 and 21): answers read whole are capped, a stalled
//! answer ends at the idle timeout, an export of endless small members stops at the archive
//! bounds, references outside the grammar never reach a URL, and each failure after the
//! daemon answered says what happened rather than "cannot connect".
//!
//! The daemon here is a stand-in written in this file, listening on a Unix socket: the one
//! stand-in these tests allow, because a real dockerd cannot be made to answer with an endless
//! body, stall half way or speak something that is not HTTP. tests/daemon.rs talks to the
//! real one.
#![cfg(feature = "daemon")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::source::daemon::Connection;
use bathyscaphe::source::reference::Engine;
use bathyscaphe::source::LoadOptions;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A stand-in daemon: each connection on its own thread (a stalled answer holds only its
/// own), each request's path recorded, the answer written by `answer`.
struct Fake {
    host: String,
    paths: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

fn fake(answer: impl Fn(&str, &mut UnixStream) + Send + Sync + 'static) -> Fake {
    let dir = tmp();
    let sock = dir.path().join("fake.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let paths = Arc::new(Mutex::new(Vec::new()));
    let seen = paths.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let (seen, answer) = (seen.clone(), answer.clone());
            std::thread::spawn(move || {
                let mut rd = BufReader::new(conn.try_clone().unwrap());
                let mut request_line = String::new();
                if rd.read_line(&mut request_line).is_err() {
                    return;
                }
                // the headers; bollard sends no body with these requests
                let mut line = String::new();
                while rd.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or_default();
                seen.lock().unwrap().push(path.to_string());
                answer(path, &mut conn);
            });
        }
    });
    Fake {
        host: format!("unix://{}", sock.display()),
        paths,
        _dir: dir,
    }
}

fn reply(conn: &mut UnixStream, status: &str, body: &str) {
    let _ = conn.write_all(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}

/// What Docker 20.10 says to `/version`.
fn version(conn: &mut UnixStream) {
    reply(
        conn,
        "200 OK",
        r#"{"Version":"20.10.0","ApiVersion":"1.41","MinAPIVersion":"1.12"}"#,
    );
}

fn inspect(conn: &mut UnixStream) {
    let body = format!(
        r#"{{"Id":"sha256:{}","RepoTags":["fake/app:1"],"Size":1000}}"#,
        "ab".repeat(32)
    );
    reply(conn, "200 OK", &body);
}

/// Headers, then a chunked body of `piece` repeated until the reader hangs up (or 512 MiB);
/// the bytes written go to `sent`.
fn endless(conn: &mut UnixStream, status: &str, piece: &[u8], sent: &AtomicU64) {
    endless_after(conn, status, b"", piece, sent)
}

/// [`endless`], the body opening with `opening`.
fn endless_after(
    conn: &mut UnixStream,
    status: &str,
    opening: &[u8],
    piece: &[u8],
    sent: &AtomicU64,
) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    if !opening.is_empty() {
        head.extend(
            [
                format!("{:x}\r\n", opening.len()).as_bytes(),
                opening,
                b"\r\n",
            ]
            .concat(),
        );
    }
    if conn.write_all(&head).is_err() {
        return;
    }
    let chunk: Vec<u8> = piece.iter().copied().cycle().take(64 << 10).collect();
    while sent.load(Ordering::SeqCst) < 512 << 20 {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if conn.write_all(&framed).is_err() {
            return;
        }
        sent.fetch_add(chunk.len() as u64, Ordering::SeqCst);
    }
}

fn bathy_at(host: &str, args: &[&str]) -> (Option<i32>, String) {
    let o = bathy()
        .args(args)
        .env("DOCKER_HOST", host)
        .env_remove("CI")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    (o.status.code(), err.trim_end().to_string())
}

// item 8: bollard reads version, inspect and error answers whole; an endless one grew by
// 0.5 GB/s until the process aborted
#[test]
fn answers_read_whole_are_capped() {
    type Case = (&'static str, &'static str);
    let cases: [Case; 4] = [
        ("/version", "answered /version with more than 16.8 MB"),
        (
            "/json",
            "answered the inspect of fake/app:1 with more than 16.8 MB",
        ),
        (
            "/json 500",
            "answered the inspect of fake/app:1 with more than 16.8 MB",
        ),
        (
            "/get 500",
            "answered the export of fake/app:1 with more than 16.8 MB",
        ),
    ];
    for (hostile, expected) in cases {
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let d = fake(move |path, c| {
            let (which, status) = match hostile.split_once(' ') {
                Some((w, code)) => (w, format!("{code} Internal Server Error")),
                None => (hostile, "200 OK".to_string()),
            };
            if path.ends_with(which) {
                endless(c, &status, b"[\"endless\",", &counter);
            } else if path.ends_with("/version") {
                version(c);
            } else if path.ends_with("/json") {
                inspect(c);
            }
        });
        let (code, err) = bathy_at(&d.host, &["--json", "-", "docker://fake/app:1"]);
        assert_eq!(code, Some(2), "{hostile}: {err}");
        assert!(err.contains(expected), "{hostile}: {err}");
        // bathy hung up at the cap: what the stand-in got out is the cap and socket buffers
        let out = sent.load(Ordering::SeqCst);
        assert!(
            out < 48 << 20,
            "{hostile}: {out} bytes sent before bathy hung up"
        );
    }
}

/// A tar stream of endless one-byte members `m0`, `m1`, …, in a chunked export body.
fn endless_members(conn: &mut UnixStream, sent: &AtomicU64) {
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n";
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut i = 0u64;
    while i < 1_000_000 {
        let mut chunk = Vec::with_capacity(64 << 10);
        for _ in 0..64 {
            let mut h = tar::Header::new_ustar();
            h.set_path(format!("m{i}")).unwrap();
            h.set_size(1);
            h.set_mode(0o644);
            h.set_cksum();
            chunk.extend_from_slice(h.as_bytes());
            chunk.extend_from_slice(&[b'x'; 512]);
            i += 1;
        }
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if conn.write_all(&framed).is_err() {
            return;
        }
        sent.fetch_add(64, Ordering::SeqCst);
    }
}

// item 8: an export that streams small members forever grew by 10 MB/s for up to the hour of
// the export's timeout; a stream is bounded like any archive
#[test]
fn an_export_of_endless_small_members_stops_at_the_archive_bounds() {
    let members = Arc::new(AtomicU64::new(0));
    let counter = members.clone();
    let d = fake(move |path, c| {
        if path.ends_with("/version") {
            version(c);
        } else if path.ends_with("/json") {
            inspect(c);
        } else if path.ends_with("/get") {
            endless_members(c, &counter);
        }
    });
    let (code, err) = bathy_at(&d.host, &["--json", "-", "docker://fake/app:1"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("holds more than 100000 members: no image has that many"),
        "{err}"
    );
    let sent = members.load(Ordering::SeqCst);
    assert!(sent < 200_000, "{sent} members sent before bathy hung up");
}

// item 14: a daemon that sent headers and then nothing kept bathy waiting for up to an hour
// (the export) or for ever (an answer read whole: bollard times only the headers)
#[test]
fn a_stalled_answer_ends_at_the_idle_timeout() {
    let archive = bathyscaphe::testkit::ImageSpec::new("fake/app:1")
        .layer(bathyscaphe::testkit::LayerSpec::new("ADD a /").file_sized("a", 50_000, 1))
        .archive(
            bathyscaphe::testkit::ArchiveFormat::DockerArchive,
            bathyscaphe::testkit::Compression::None,
        );
    for stall in ["/json", "/get"] {
        let part = archive[..4096].to_vec();
        let d = fake(move |path, c| {
            if path.ends_with(stall) {
                let head = if stall == "/json" {
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"Id\":".to_string()
                } else {
                    format!("HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n", part.len())
                };
                let _ = c.write_all(head.as_bytes());
                if stall == "/get" {
                    let _ = c.write_all(&part);
                    let _ = c.write_all(b"\r\n");
                }
                // then nothing, far longer than the idle timeout
                std::thread::sleep(Duration::from_secs(60));
            } else if path.ends_with("/version") {
                version(c);
            } else if path.ends_with("/json") {
                inspect(c);
            }
        });
        let conn = Connection::open_at(Engine::Docker, &d.host).unwrap();
        conn.set_idle_timeout(Duration::from_secs(1));
        let err = conn
            .load("fake/app:1", &LoadOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let expected = if stall == "/json" {
            format!(
                "the Docker daemon at {} stopped in the middle of its answer to the inspect of fake/app:1 (nothing for 1 s)",
                d.host
            )
        } else {
            "fake/app:1: the Docker daemon stopped sending the image after 4096 bytes (nothing for 1 s)".to_string()
        };
        assert_eq!(err, expected, "{stall}");
    }
}

// item 21: "cannot connect to the Docker daemon" was said of daemons that did answer
#[test]
fn what_went_wrong_after_the_daemon_answered_is_said() {
    // something that is not HTTP at all
    let d = fake(|_, c| {
        let _ = c.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n");
    });
    let (code, err) = bathy_at(&d.host, &["docker://fake/app:1"]);
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with(&format!(
            "bathy: the Docker daemon at {} answered /version with something that is not HTTP (",
            d.host
        )),
        "{err}"
    );
    // an inspect that is not JSON
    let d = fake(|path, c| {
        if path.ends_with("/version") {
            version(c);
        } else {
            reply(c, "200 OK", "{\"Id\": 12, oops");
        }
    });
    let (code, err) = bathy_at(&d.host, &["docker://fake/app:1"]);
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with(&format!(
            "bathy: the Docker daemon at {} answered the inspect of fake/app:1 with JSON bathy cannot read: ",
            d.host
        )),
        "{err}"
    );
    // a daemon that hangs up without a word
    let d = fake(|_, _| {});
    let (_, err) = bathy_at(&d.host, &["docker://fake/app:1"]);
    assert_eq!(
        err,
        format!(
            "bathy: the Docker daemon at {} closed the connection before answering /version",
            d.host
        )
    );
    // a 120 KB reference: refused as one, cut, and never sent
    let d = fake(|_, c| version(c));
    let long = format!("docker://{}", "a".repeat(120_000));
    let (code, err) = bathy_at(&d.host, &[&long]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not an image reference"), "{err}");
    assert!(err.len() < 500, "{} bytes", err.len());
    assert!(d.paths.lock().unwrap().is_empty());
}

#[test]
fn a_socket_path_that_is_a_file_or_a_directory_says_so() {
    let t = tmp();
    let file = t.path().join("docker.sock");
    std::fs::write(&file, b"not a socket").unwrap();
    for (path, kind) in [
        (file, "a regular file"),
        (t.path().to_path_buf(), "a directory"),
    ] {
        let host = format!("unix://{}", path.display());
        let (code, err) = bathy_at(&host, &["docker://app:1"]);
        assert_eq!(code, Some(2));
        assert_eq!(
            err,
            format!(
                "bathy: cannot connect to the Docker daemon at {host}: {} is {kind}, not a socket",
                path.display()
            )
        );
    }
}

// item 14: `docker://x/../../events?` sent the inspect to /events (and hung); `…/info?`
// printed the daemon's /info in the error
#[test]
fn references_outside_the_grammar_never_reach_the_daemon() {
    let d = fake(|path, c| {
        if path.ends_with("/version") {
            version(c);
        } else {
            reply(c, "404 Not Found", r#"{"message":"no such image"}"#);
        }
    });
    for bad in [
        "docker://x/../../events?",
        "docker://x/../../info?",
        "podman://x/%2e%2e/info",
    ] {
        let o = bathy()
            .args([bad])
            .env("DOCKER_HOST", &d.host)
            .env("CONTAINER_HOST", &d.host)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("not an image reference"),
            "{}",
            stderr(&o)
        );
    }
    assert!(d.paths.lock().unwrap().is_empty(), "{:?}", d.paths);
    // a reference with a registry, a port and a tag goes into the path as it is
    let (code, err) = bathy_at(&d.host, &["docker://localhost:5000/team/app:v1.2"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no such image"), "{err}");
    let paths = d.paths.lock().unwrap().clone();
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("/images/localhost:5000/team/app:v1.2/json")),
        "{paths:?}"
    );
}

// item 8, the pull's progress: bollard gathers a JSON line until it ends, so a line that never
// ends grew without bound. Neither the chunk framing's line ends nor those inside an unclosed
// value end what bollard holds.
#[test]
fn a_pull_progress_line_that_never_ends_is_capped() {
    let cases: [(&[u8], &[u8]); 2] = [(b"{\"status\":\"", b"x"), (b"{\"later\":[", b"1,\n")];
    for (opening, piece) in cases {
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let d = fake(move |path, c| {
            if path.contains("/images/create") {
                endless_after(c, "200 OK", opening, piece, &counter);
            } else if path.ends_with("/version") {
                version(c);
            }
        });
        let (code, err) = bathy_at(&d.host, &["--pull", "--json", "-", "docker://fake/app:1"]);
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(
            err,
            format!(
                "bathy: the Docker daemon at {} sent a line of more than 1.0 MB in its answer to the pull (a progress line is a few hundred bytes)",
                d.host
            )
        );
        let out = sent.load(Ordering::SeqCst);
        assert!(out < 16 << 20, "{out} bytes sent before bathy hung up");
    }
}

// ... while a long pull of short lines, in chunks that cut lines anywhere, goes through
#[test]
fn a_long_pull_progress_of_short_lines_goes_through() {
    let archive = bathyscaphe::testkit::ImageSpec::new("fake/app:1")
        .layer(bathyscaphe::testkit::LayerSpec::new("ADD a /").file_sized("a", 5000, 1))
        .archive(
            bathyscaphe::testkit::ArchiveFormat::DockerArchive,
            bathyscaphe::testkit::Compression::None,
        );
    let d = fake(move |path, c| {
        if path.contains("/images/create") {
            // 4 MB of progress, 48-byte lines in 1000-byte chunks
            let line = b"{\"status\": \"Downloading\", \"id\":\"0123456789ab\"}\r\n";
            assert_eq!(line.len(), 48);
            let body: Vec<u8> = line.iter().copied().cycle().take(48 * 87_381).collect();
            let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            for chunk in body.chunks(1000) {
                out.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend(chunk);
                out.extend(b"\r\n");
            }
            out.extend(b"0\r\n\r\n");
            let _ = c.write_all(&out);
        } else if path.ends_with("/version") {
            version(c);
        } else if path.ends_with("/json") {
            inspect(c);
        } else if path.ends_with("/get") {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\n\r\n",
                archive.len()
            );
            let _ = c.write_all(&[head.as_bytes(), &archive].concat());
        }
    });
    let o = bathy()
        .args(["--pull", "--json", "-", "docker://fake/app:1"])
        .env("DOCKER_HOST", &d.host)
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["image"]["sizeBytes"], 5000, "{report}");
}
