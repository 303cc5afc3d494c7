//! The TLS settings for one registry: the system's roots plus the CAs and client certificates
//! docker and podman read for that host (`certs.d/HOST:PORT/`), or no verification at all for a
//! registry the user named insecure. Reads certificate files; opens no connection.

use crate::error::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The folders whose `HOST[:PORT]/` subfolder holds a registry's certificates, in the order
/// docker and podman read them.
pub fn certs_d_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(c) = config {
        roots.push(c.join("containers/certs.d"));
    }
    roots.push(PathBuf::from("/etc/containers/certs.d"));
    roots.push(PathBuf::from("/etc/docker/certs.d"));
    roots
}

/// Certificate files found for a registry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertFiles {
    /// `*.crt`: extra CAs.
    pub cas: Vec<PathBuf>,
    /// `NAME.cert` with its `NAME.key`: a client certificate.
    pub client: Option<(PathBuf, PathBuf)>,
}

/// What the folders say for `host` (`host:port` as written in the image name): every
/// `certs.d/host/` that exists, or only `dir` when the user named one (`--cert-dir`).
pub fn cert_files(host: &str, dir: Option<&Path>) -> CertFiles {
    let dirs: Vec<PathBuf> = match dir {
        Some(d) => vec![d.to_path_buf()],
        None => certs_d_roots().into_iter().map(|r| r.join(host)).collect(),
    };
    let mut out = CertFiles::default();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for p in names {
            match p.extension().and_then(|e| e.to_str()) {
                Some("crt") => out.cas.push(p),
                Some("cert") if out.client.is_none() => {
                    let key = p.with_extension("key");
                    if key.is_file() {
                        out.client = Some((p, key));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client config that trusts the system roots and `files.cas`, and presents `files.client`.
pub fn client_config(context: &str, files: &CertFiles) -> Result<rustls::ClientConfig> {
    let bad =
        |what: &Path, why: String| Error::Registry(format!("{context}: {}: {why}", what.display()));
    let mut roots = RootCertStore::empty();
    // unreadable system certificates are skipped, as every TLS client does
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    for ca in &files.cas {
        let certs = read_certs(ca).map_err(|e| bad(ca, e))?;
        for c in certs {
            roots
                .add(c)
                .map_err(|e| bad(ca, format!("not a usable CA certificate: {e}")))?;
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Registry(format!("{context}: TLS setup failed: {e}")))?
        .with_root_certificates(roots);
    match &files.client {
        Some((cert, key)) => {
            let chain = read_certs(cert).map_err(|e| bad(cert, e))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| bad(key, format!("no usable private key: {e}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| bad(cert, format!("unusable client certificate: {e}")))
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// For `--insecure-registry`: TLS without checking the server's certificate.
pub fn unverified_config() -> rustls::ClientConfig {
    let provider = provider();
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
                .with_no_client_auth()
        })
        // ring supports the default versions; this arm only keeps the signature total
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder()
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth()
        })
}

fn read_certs(p: &Path) -> std::result::Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(p)
        .map_err(|e| format!("cannot read certificates: {e}"))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("not a PEM certificate file: {e}"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(certs)
}

/// Accepts any certificate, still checking the handshake's signatures are well-formed.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certs_d_layout_as_docker_reads_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        for f in [
            "ca.crt",
            "client.cert",
            "client.key",
            "lonely.cert",
            "notes.txt",
        ] {
            std::fs::write(d.join(f), b"x").expect("write");
        }
        let files = cert_files("ignored:5000", Some(d));
        assert_eq!(files.cas, vec![d.join("ca.crt")]);
        assert_eq!(
            files.client,
            Some((d.join("client.cert"), d.join("client.key")))
        );
        assert_eq!(
            cert_files("ignored", Some(&d.join("absent"))),
            CertFiles::default()
        );
    }

    #[test]
    fn a_file_that_is_no_certificate_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = dir.path().join("ca.crt");
        std::fs::write(&ca, b"not pem").expect("write");
        let files = CertFiles {
            cas: vec![ca.clone()],
            client: None,
        };
        let e = client_config("registry r, repository x", &files)
            .expect_err("fails")
            .to_string();
        assert!(e.contains("ca.crt") && e.contains("registry r"), "{e}");
    }
}
