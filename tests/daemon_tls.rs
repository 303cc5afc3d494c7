//! A Docker daemon over TLS, as `DOCKER_HOST=tcp://…:2376`, `DOCKER_TLS_VERIFY=1` and
//! `DOCKER_CERT_PATH` reach it: a second, real dockerd started here beside the machine's own
//! (its own data root, exec root, pidfile and empty config file; vfs storage, no bridge, no
//! iptables), listening on 127.0.0.1 with `--tlsverify` and a CA, server and client
//! certificates written here. Needs root, dockerd and the docker CLI: skipped without them,
//! failed under `CI=true`.
#![cfg(feature = "daemon")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;
use bathyscaphe::testkit::{ArchiveFormat, Compression, ImageSpec, LayerSpec};
use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, SanType,
};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const DOCKERD: Tool = Tool {
    name: "dockerd",
    version_arg: "--version",
    install: "apt-get install docker.io",
};
const DOCKER: Tool = Tool {
    name: "docker",
    version_arg: "--version",
    install: "apt-get install docker.io",
};

/// A CA's certificate and the means to sign with it.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let pem = params.self_signed(&key).unwrap().pem();
    Ca {
        pem,
        issuer: Issuer::new(params, key),
    }
}

/// `ca.pem`, `cert.pem` and `key.pem` in `dir` (the layout of `DOCKER_CERT_PATH`): a
/// certificate for `usage` signed by `signer`, next to the CA `trusted`.
fn cert_dir(dir: &Path, trusted: &Ca, signer: &Ca, usage: ExtendedKeyUsagePurpose) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, &signer.issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), &trusted.pem).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    dir.to_path_buf()
}

/// The second daemon; stopped with SIGTERM (so it stops its containerd too) when dropped.
struct TlsDaemon {
    child: Child,
    host: String,
    log: PathBuf,
}

impl Drop for TlsDaemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The docker CLI against `host` with the client certificates in `certs`.
fn docker_cli(host: &str, certs: &Path, args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .env("DOCKER_HOST", host)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", certs)
        .output()
        .unwrap()
}

/// Start dockerd on a free port of 127.0.0.1 under `dir`; None (the test skipped, or failed
/// under CI) when it does not answer within a minute, with the end of its log.
fn start(dir: &Path, server: &Path, client: &Path) -> Option<TlsDaemon> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let host = format!("tcp://127.0.0.1:{port}");
    let d = dir.join("dockerd");
    for sub in ["root", "exec"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    std::fs::write(d.join("daemon.json"), "{}").unwrap();
    let log = d.join("log");
    let path = |p: PathBuf| p.display().to_string();
    let child = Command::new("dockerd")
        .args(["--config-file", &path(d.join("daemon.json"))])
        .args(["--data-root", &path(d.join("root"))])
        .args(["--exec-root", &path(d.join("exec"))])
        .args(["--pidfile", &path(d.join("pid"))])
        .args(["-H", &host, "--tlsverify"])
        .args(["--tlscacert", &path(server.join("ca.pem"))])
        .args(["--tlscert", &path(server.join("cert.pem"))])
        .args(["--tlskey", &path(server.join("key.pem"))])
        .args(["--iptables=false", "--bridge=none", "--storage-driver=vfs"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(d.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let mut daemon = TlsDaemon { child, host, log };
    let start = Instant::now();
    let why = loop {
        if docker_cli(&daemon.host, client, &["version"])
            .status
            .success()
        {
            return Some(daemon);
        }
        if let Ok(Some(status)) = daemon.child.try_wait() {
            break format!("it exited ({status})");
        }
        if start.elapsed() > Duration::from_secs(60) {
            break "it did not answer within 60 s".to_string();
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let text = std::fs::read_to_string(d.join("stderr")).unwrap_or_default()
        + &std::fs::read_to_string(&daemon.log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(5).collect();
    require(
        false,
        &format!("a second dockerd with TLS beside the first ({why})"),
        &format!("its log ends: {}", tail.join(" | ")),
    );
    None
}

#[test]
fn an_image_reads_through_a_daemon_over_tls_and_a_wrong_ca_is_one_line() {
    if !(require_root() && require_tool(&DOCKERD) && require_tool(&DOCKER)) {
        return;
    }
    let t = tmp();
    let (ours, other) = (ca("bathy test CA"), ca("someone else's CA"));
    let server = cert_dir(
        &t.path().join("server"),
        &ours,
        &ours,
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let client = cert_dir(
        &t.path().join("client"),
        &ours,
        &ours,
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let Some(daemon) = start(t.path(), &server, &client) else {
        return;
    };

    // one layer: 5000 + 3000 bytes of files
    let tag = "bathy-test/tls:1";
    let archive = t.path().join("image.tar");
    ImageSpec::new(tag)
        .layer(
            LayerSpec::new("ADD files /")
                .file_sized("a", 5000, 1)
                .file_sized("b/c", 3000, 2),
        )
        .write(&archive, ArchiveFormat::DockerArchive, Compression::None)
        .unwrap();
    let load = docker_cli(
        &daemon.host,
        &client,
        &["load", "-i", archive.to_str().unwrap()],
    );
    assert!(load.status.success(), "docker load: {}", stderr(&load));

    let bathy_with = |certs: &Path| {
        bathy()
            .args(["--json", "-", &format!("docker://{tag}")])
            .env("DOCKER_HOST", &daemon.host)
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", certs)
            .output()
            .unwrap()
    };
    let o = bathy_with(&client);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["image"]["sizeBytes"], 8000, "{v}");
    assert_eq!(v["layer"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["bathyscaphe"]["image"]["tags"][0], tag, "{v}");

    // the same client certificate, but trusting another CA: the daemon's certificate is
    // refused before a request is sent
    let wrong = cert_dir(
        &t.path().join("wrong-ca"),
        &other,
        &ours,
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let o = bathy_with(&wrong);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        format!(
            "bathy: cannot connect to the Docker daemon at {}: invalid peer certificate: UnknownIssuer\n",
            daemon.host
        )
    );
}
