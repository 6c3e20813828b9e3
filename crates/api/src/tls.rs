//! TLS with rustls (ring): the API server's certificate (spec §12.2,
//! transport). The roots clients trust: `credex_api_types::client::tls_roots`.
//!
//! The server presents the PEM certificate chain and key of its config
//! (`--tls-cert`, `--tls-key`); without them it speaks plain HTTP (right
//! for `credex dev` on loopback, wrong anywhere else). Clients trust the
//! Web PKI roots by default, or exactly the certificates of a PEM file
//! (`--ca` / `CREDEX_CA` for the CLI, `--webhook-ca` for webhooks): a
//! partner agency's private CA.

use std::path::Path;
use std::sync::Arc;

/// Why the API's certificate cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("TLS {what} {path}: {reason}")]
pub struct TlsError {
    /// certificate or key.
    pub what: &'static str,
    /// The file.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

/// The acceptor for the API: `cert` (PEM chain, leaf first) and `key` (PEM private key).
pub fn acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let err = |what, path: &Path, reason: String| TlsError { what, path: path.display().to_string(), reason };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| err("certificate", cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| err("certificate", cert, format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(err("certificate", cert, "no certificate in it".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| err("key", key, e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| err("certificate", cert, format!("protocol versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| err("key", key, format!("does not match the certificate: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
