//! TLS with rustls (ring): the API server's certificate, and the roots the
//! CLI and the webhook client trust (spec §12.2, transport).
//!
//! The server presents the PEM certificate chain and key of its config
//! (`--tls-cert`, `--tls-key`); without them it speaks plain HTTP (right
//! for `credex dev` on loopback, wrong anywhere else). Clients trust the
//! Web PKI roots by default, or exactly the certificates of a PEM file
//! (`--ca` / `CREDEX_CA` for the CLI, `--webhook-ca` for webhooks): a
//! partner agency's private CA.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

/// The acceptor for the API: `cert` (PEM chain, leaf first) and `key` (PEM private key).
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("TLS certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("TLS certificate {}: not PEM", cert.display()))?;
    anyhow::ensure!(!certs.is_empty(), "TLS certificate {}: no certificate in it", cert.display());
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("TLS key {}", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("TLS certificate and key do not match")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// The roots a client trusts: Web PKI, or exactly the certificates in `ca`.
pub fn client_config(ca: Option<&Path>) -> anyhow::Result<ureq::tls::TlsConfig> {
    let Some(ca) = ca else { return Ok(ureq::tls::TlsConfig::default()) };
    let pem = std::fs::read(ca).with_context(|| format!("CA file {}", ca.display()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let ureq::tls::PemItem::Certificate(c) =
            item.map_err(|e| anyhow::anyhow!("CA file {}: not PEM: {e}", ca.display()))?
        {
            certs.push(c.to_owned());
        }
    }
    anyhow::ensure!(!certs.is_empty(), "CA file {}: no certificate in it", ca.display());
    Ok(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs))).build())
}
