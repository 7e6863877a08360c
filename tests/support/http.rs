//! A bounded HTTP(S) GET for tests, with the hyper-util client the product already depends on.

use std::{path::Path, sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{
        Client,
        connect::{Connect, HttpConnector},
    },
    rt::TokioExecutor,
};
use tokio_rustls::rustls::{
    ClientConfig, RootCertStore,
    crypto::ring::default_provider,
    pki_types::{CertificateDer, pem::PemObject as _},
};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A whole response.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// A header's value, `None` when missing or not text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).expect("response body is UTF-8")
    }
}

pub fn client() -> Client<HttpConnector, Empty<Bytes>> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// An HTTPS-only client that trusts exactly the certificates in `ca_pem`.
pub fn https_client(ca_pem: &Path) -> Client<HttpsConnector<HttpConnector>, Empty<Bytes>> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_pem).expect("read the CA certificate") {
        roots
            .add(cert.expect("parse the CA certificate"))
            .expect("trust the CA certificate");
    }
    let config = ClientConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(connector)
}

/// GET `url` over plain HTTP; panics on any failure.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Response {
    get_with(&client(), url, headers).await
}

/// GET `url` with `client`; panics on any failure.
pub async fn get_with<C>(
    client: &Client<C, Empty<Bytes>>,
    url: &str,
    headers: &[(&str, &str)],
) -> Response
where
    C: Connect + Clone + Send + Sync + 'static,
{
    try_get_with(client, url, headers)
        .await
        .unwrap_or_else(|error| panic!("GET {url}: {error}"))
}

/// GET `url` with `client`; `Err` says why it failed (including a timeout).
pub async fn try_get_with<C>(
    client: &Client<C, Empty<Bytes>>,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Response, String>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Empty::new())
        .map_err(|error| format!("bad request: {error}"))?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| format!("reading the body: {e}"))?
            .to_bytes();
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {REQUEST_TIMEOUT:?}"))?
}
