//! HTTPS for `serve --tls-cert/--tls-key`: rustls (already in the build through the kube client)
//! in front of the same axum router; connections are accepted and bounded in [`super::conn`].

use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// PEM files of the serving certificate (chain) and its private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA bundle that client certificates must chain to; `None`: no client certificates.
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    pub fn acceptor(&self) -> anyhow::Result<TlsAcceptor> {
        let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(&self.cert)
            .with_context(|| format!("cannot read TLS certificate {}", self.cert.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("invalid PEM in {}", self.cert.display()))?;
        if certs.is_empty() {
            anyhow::bail!("no certificate in {}", self.cert.display());
        }
        // Never print the key or its content in errors: only the path.
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .with_context(|| format!("cannot read TLS private key {}", self.key.display()))?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => builder.with_client_cert_verifier(client_verifier(ca, provider)?),
        };
        let config = builder
            .with_single_cert(certs, key)
            .context("TLS certificate and key do not match")?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// Accepts only clients whose certificate chains to a CA in `ca` (no anonymous clients).
fn client_verifier(
    ca: &std::path::Path,
    provider: Arc<tokio_rustls::rustls::crypto::CryptoProvider>,
) -> anyhow::Result<Arc<dyn tokio_rustls::rustls::server::danger::ClientCertVerifier>> {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)
        .with_context(|| format!("cannot read --tls-client-ca {}", ca.display()))?
    {
        let cert = cert.with_context(|| format!("invalid PEM in {}", ca.display()))?;
        roots
            .add(cert)
            .with_context(|| format!("not a CA certificate in {}", ca.display()))?;
    }
    anyhow::ensure!(
        !roots.is_empty(),
        "no certificate in --tls-client-ca {}",
        ca.display()
    );
    tokio_rustls::rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider,
    )
    .build()
    .with_context(|| format!("cannot use --tls-client-ca {}", ca.display()))
}
