//! The outgoing HTTP(S) client shared by `http` integrations (`pipeline::integration`) and the
//! local engine's `http:invoke`, `apigateway:invoke` and Lambda-endpoint tasks
//! (`engine::tasks`): a hyper-util client over a hyper-rustls connector (rustls on aws-lc-rs,
//! HTTP/1.1, h2 when the server offers it through ALPN, plain `http://` as well). A server
//! certificate is trusted when it chains to the platform's native roots (rustls-native-certs,
//! which honours `SSL_CERT_FILE` / `SSL_CERT_DIR`; loaded once per process) or to the extra CA
//! bundle of a [`Trust`] (`tls: {ca_file: ...}` in stepgate.yaml). It knows nothing of the
//! gateway or the engine, and sits before both in the dependency order so both can use it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

/// The connector: TCP, then TLS for `https://` URIs.
pub(crate) type Connector = HttpsConnector<HttpConnector>;

/// The client both the gateway and the engine's tasks call endpoints with.
pub(crate) type Client = hyper_util::client::legacy::Client<Connector, Full<Bytes>>;

/// Which server certificates HTTPS calls accept: the native roots, plus the certificates of
/// an optional CA bundle. The default trusts the native roots only.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    ca_file: Option<CaBundle>,
}

#[derive(Clone)]
struct CaBundle {
    path: PathBuf,
    certs: Arc<[CertificateDer<'static>]>,
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaBundle")
            .field("path", &self.path)
            .field("certificates", &self.certs.len())
            .finish()
    }
}

impl Trust {
    /// The native roots plus every certificate of the PEM bundle at `path`. Fails, naming
    /// the file, when it cannot be read, holds no certificate, or holds one that is not a
    /// usable CA certificate.
    pub fn with_ca_file(path: &Path) -> Result<Trust, CaFileError> {
        let error = |problem: String| CaFileError {
            path: path.to_path_buf(),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| error(format!("cannot be read: {e}")))?;
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| error(format!("is not a PEM certificate bundle: {e}")))?;
        if certs.is_empty() {
            return Err(error(
                "holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".to_string(),
            ));
        }
        for (i, cert) in certs.iter().enumerate() {
            RootCertStore::empty()
                .add(cert.clone())
                .map_err(|e| error(format!("certificate #{}: {e}", i + 1)))?;
        }
        Ok(Trust {
            ca_file: Some(CaBundle {
                path: path.to_path_buf(),
                certs: certs.into(),
            }),
        })
    }

    /// The extra CA bundle, if one is configured.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_ref().map(|b| b.path.as_path())
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = native_roots().clone();
        if let Some(bundle) = &self.ca_file {
            // Every certificate was added to a store once already, in `with_ca_file`.
            let (added, _) = roots.add_parsable_certificates(bundle.certs.iter().cloned());
            tracing::debug!(file = %bundle.path.display(), added, "extra CA certificates trusted");
        } else if roots.is_empty() {
            tracing::debug!("no root certificates: every https:// call will fail to verify");
        }
        roots
    }
}

/// A CA bundle that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaFileError {
    pub path: PathBuf,
    /// What is wrong with it (“cannot be read: …”, “holds no PEM certificate …”).
    pub problem: String,
}

impl fmt::Display for CaFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CA file `{}` {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for CaFileError {}

/// The platform's root certificates, loaded on first use (at startup, when the gateway or the
/// engine builds its client). Certificates that do not load and an empty result are warnings:
/// HTTPS calls then fail to verify, with the reason in their error.
fn native_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::warn!("native root certificates: {e}");
        }
        let mut roots = RootCertStore::empty();
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        if ignored > 0 {
            tracing::warn!(
                "{ignored} native root certificate(s) could not be parsed and are ignored"
            );
        }
        if added == 0 {
            tracing::warn!(
                "no native root certificates loaded (install the system CA bundle or set \
                 SSL_CERT_FILE / SSL_CERT_DIR): https:// endpoints are trusted only through \
                 `tls.ca_file`"
            );
        }
        roots
    })
}

/// The connector for `trust`: HTTP/1.1 and h2 (by ALPN) over TLS, or plain HTTP.
pub(crate) fn connector(trust: &Trust) -> Connector {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // aws-lc-rs's default provider has suites for every default protocol version.
        .expect("aws-lc-rs supports TLS 1.2 and 1.3")
        .with_root_certificates(trust.roots())
        .with_no_client_auth();
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(tcp)
}

/// A client for `trust` (connections pooled per host).
pub(crate) fn client(trust: &Trust) -> Client {
    hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector(trust))
}

/// An error and its sources on one line, a TLS failure named as such:
/// `client error (Connect): TLS handshake failed: invalid peer certificate: UnknownIssuer`.
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            if is_tls(e) {
                out.push_str("TLS handshake failed: ");
            }
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

/// A rustls error, bare or inside the `io::Error`s tokio-rustls and hyper-rustls wrap it in
/// (`io::Error::source` skips the wrapped error itself, so the wrappers are opened here).
fn is_tls(mut e: &(dyn std::error::Error + 'static)) -> bool {
    loop {
        if e.is::<rustls::Error>() {
            return true;
        }
        match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => e = inner,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name)
    }

    #[test]
    fn a_ca_bundle_loads_and_is_named() {
        let trust = Trust::with_ca_file(&fixture("ca.pem")).unwrap();
        assert_eq!(trust.ca_file(), Some(fixture("ca.pem").as_path()));
        let native = native_roots().len();
        assert_eq!(trust.roots().len(), native + 1);
        assert_eq!(Trust::default().roots().len(), native);
    }

    #[test]
    fn unusable_ca_files_say_which_and_why() {
        let missing = Trust::with_ca_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("CA file `/nonexistent/ca.pem` cannot be read"),
            "{missing}"
        );
        // A private key is PEM, but not a certificate.
        let key = Trust::with_ca_file(&fixture("server.key")).unwrap_err();
        assert!(key.problem.contains("holds no PEM certificate"), "{key}");
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(
            &junk,
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = Trust::with_ca_file(&junk).unwrap_err();
        assert!(err.problem.starts_with("certificate #1:"), "{err}");
    }

    #[test]
    fn tls_errors_are_named_in_the_chain() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(
            describe(&io),
            "TLS handshake failed: invalid peer certificate: UnknownIssuer"
        );
        // hyper-rustls wraps tokio-rustls's error once more.
        let wrapped = std::io::Error::other(io);
        assert_eq!(
            describe(&wrapped),
            "TLS handshake failed: invalid peer certificate: UnknownIssuer"
        );
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        assert_eq!(describe(&refused), "connection refused");
    }
}
