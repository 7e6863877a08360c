//! The HTTP transport object_store talks through: hyper + hyper-rustls (ring), the stack the
//! rest of backupscope already builds, instead of object_store's reqwest + aws-lc-rs default
//! (a second HTTP client and a slow C build). One client is shared by every vault.

use async_trait::async_trait;
use http_body_util::BodyExt;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use object_store::client::{
    ClientOptions, HttpClient, HttpError, HttpErrorKind, HttpRequest, HttpRequestBody,
    HttpResponse, HttpResponseBody, HttpService,
};
use std::sync::Arc;

/// What went wrong below HTTP; [`super::classify`] finds it in the error chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// Name resolution, connection refused or reset.
    Network,
    /// The TLS handshake or certificate check failed.
    Tls,
}

/// A transport error with its [`TransportFailure`]; the message never holds request headers.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    pub failure: TransportFailure,
    pub message: String,
}

type HyperClient = Client<HttpsConnector<HttpConnector>, HttpRequestBody>;

/// The hyper client every vault store sends its requests with.
#[derive(Clone)]
pub struct Transport {
    client: HyperClient,
    /// For vaults whose spec sets `insecureSkipTLSVerify` (a self-signed MinIO): the probe
    /// must see what Velero sees, or it would report a TLS failure Velero never has.
    unverified: HyperClient,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").finish_non_exhaustive()
    }
}

impl Transport {
    /// Builds the client; `https://` endpoints are checked against the system's root
    /// certificates, which must be loadable.
    pub fn new() -> std::io::Result<Self> {
        let http = || {
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            http
        };
        let connector = HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(tokio_rustls::rustls::crypto::ring::default_provider())?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http());
        let unverified = HttpsConnectorBuilder::new()
            .with_tls_config(unverified_tls()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http());
        Ok(Transport {
            client: Client::builder(TokioExecutor::new()).build(connector),
            unverified: Client::builder(TokioExecutor::new()).build(unverified),
        })
    }

    /// The same transport without certificate checks (`insecureSkipTLSVerify: "true"`).
    pub fn skipping_verification(&self) -> Transport {
        Transport {
            client: self.unverified.clone(),
            unverified: self.unverified.clone(),
        }
    }
}

/// A TLS client config that accepts any server certificate but still checks the handshake's
/// signatures, as Go's `InsecureSkipVerify` does.
fn unverified_tls() -> std::io::Result<tokio_rustls::rustls::ClientConfig> {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(
        tokio_rustls::rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
    )
}

#[derive(Debug)]
struct AnyCertificate(Arc<tokio_rustls::rustls::crypto::CryptoProvider>);

mod any_certificate {
    use super::AnyCertificate;
    use tokio_rustls::rustls::client::danger::{
        HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
    };
    use tokio_rustls::rustls::crypto::{verify_tls12_signature, verify_tls13_signature};
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use tokio_rustls::rustls::{DigitallySignedStruct, Error, SignatureScheme};

    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls12_signature(
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
        ) -> Result<HandshakeSignatureValid, Error> {
            verify_tls13_signature(
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
}

#[async_trait]
impl HttpService for Transport {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let response = self
            .client
            .request(req)
            .await
            .map_err(|e| HttpError::new(kind_of(&e), describe(&e)))?;
        let (parts, body) = response.into_parts();
        let body = body.map_err(|e| HttpError::new(HttpErrorKind::Interrupted, e));
        Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body)))
    }
}

/// Hands object_store the shared [`Transport`].
#[derive(Debug, Clone)]
pub struct Connector(pub Arc<Transport>);

impl object_store::client::HttpConnector for Connector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(self.0.as_ref().clone()))
    }
}

fn kind_of(e: &hyper_util::client::legacy::Error) -> HttpErrorKind {
    if e.is_connect() {
        HttpErrorKind::Connect
    } else {
        HttpErrorKind::Request
    }
}

/// What rustls says when a handshake or certificate check fails.
const TLS_WORDS: &[&str] = &[
    "invalid peer certificate",
    "certificate",
    "handshake",
    "corrupt message",
    "received fatal alert",
    "tls",
];

/// Names the failure (network or TLS) from the error chain, keeping the innermost message.
fn describe(e: &hyper_util::client::legacy::Error) -> TransportError {
    let mut failure = TransportFailure::Network;
    let mut message = e.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<tokio_rustls::rustls::Error>().is_some() {
            failure = TransportFailure::Tls;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.is::<tokio_rustls::rustls::Error>())
        {
            failure = TransportFailure::Tls;
        }
        message = format!("{message}: {s}");
        source = s.source();
    }
    // hyper-util boxes the connector's error twice, and a boxed io::Error's `source()` skips
    // the rustls error inside it, so the type is often out of reach: rustls's own words are
    // the fallback.
    let lower = message.to_ascii_lowercase();
    if TLS_WORDS.iter().any(|w| lower.contains(w)) {
        failure = TransportFailure::Tls;
    }
    TransportError { failure, message }
}
