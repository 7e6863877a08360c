//! The one outbound HTTP client of backupscope: an endpoint (http or https with the system's
//! roots, no credentials in the URL), a per-request timeout, and POSTs retried with exponential
//! backoff on 5xx, 429 and transport errors. Remote write and the Alertmanager forwarder both
//! send through it, so there is one retry loop to get right.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::{
    Method, Request, StatusCode, Uri,
    header::{self, HeaderMap},
};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

/// How much of a receiver's answer is kept for the log: receivers explain a rejection in the
/// body, and a few KiB of it is all anyone reads.
const MAX_RESPONSE_BODY_BYTES: usize = 4096;

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Per request, from sending to the end of the response body.
    pub timeout: Duration,
    /// Attempts per request, the first one included.
    pub max_attempts: u32,
    /// Delay before the first retry; it doubles after each retry up to `max_backoff`. A
    /// `Retry-After` (seconds) answer is honoured up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("{reason}")]
    InvalidUrl { reason: &'static str },
    #[error("cannot load the system's root certificates: {0}")]
    RootCertificates(std::io::Error),
}

/// Why a request got no success.
#[derive(Debug)]
pub enum Failure {
    /// A 4xx other than 429: sending the same body again cannot help.
    Rejected {
        status: StatusCode,
        body: String,
        retries: usize,
    },
    /// 5xx, 429 or transport errors until the attempts ran out.
    Unavailable { attempts: u32, last_error: String },
}

/// One receiver.
pub struct Endpoint {
    transport: Transport,
    uri: Uri,
    url: String,
    headers: HeaderMap,
    retry: Retry,
    /// What is sent, for the log (`Remote write`, `Alertmanager`).
    what: &'static str,
}

impl std::fmt::Debug for Endpoint {
    // Not derived: the headers may hold a token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("what", &self.what)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Validates the URL and builds the client; `https://` needs loadable system roots.
    pub fn new(url: &str, what: &'static str, retry: Retry) -> Result<Self, EndpointError> {
        let invalid = |reason| EndpointError::InvalidUrl { reason };
        let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid(
                "credentials in the URL are not supported; use a header or a bearer token file",
            ));
        }
        let transport = match uri.scheme_str() {
            Some("http") => Transport::Http(client(HttpConnector::new())),
            Some("https") => {
                let connector = HttpsConnectorBuilder::new()
                    .with_provider_and_native_roots(
                        tokio_rustls::rustls::crypto::ring::default_provider(),
                    )
                    .map_err(EndpointError::RootCertificates)?
                    .https_only()
                    .enable_http1()
                    .build();
                Transport::Https(client(connector))
            }
            _ => return Err(invalid("the scheme must be http or https")),
        };
        Ok(Endpoint {
            transport,
            uri,
            url: url.to_string(),
            headers: HeaderMap::new(),
            retry: Retry {
                max_attempts: retry.max_attempts.max(1),
                max_backoff: retry.max_backoff.max(retry.min_backoff),
                ..retry
            },
            what,
        })
    }

    /// The headers every request carries (replacing any set before).
    pub fn with_headers(self, headers: HeaderMap) -> Self {
        Endpoint { headers, ..self }
    }

    /// The URL as it may appear in logs and labels (no credentials are allowed in it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// POSTs `body` until it gets a final answer; returns the number of retries.
    pub async fn send(&self, body: Bytes) -> Result<usize, Failure> {
        let mut backoff = self.retry.min_backoff;
        let mut attempt = 1;
        loop {
            let (error, retry_after) = match self.send_once(body.clone()).await {
                Ok(Answer { status, .. }) if status.is_success() => return Ok(attempt as usize - 1),
                Ok(Answer {
                    status,
                    body,
                    retry_after,
                }) if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
                    (format!("HTTP {status}: {body}"), retry_after)
                }
                Ok(Answer { status, body, .. }) => {
                    tracing::error!(
                        url = %self.url,
                        status = status.as_u16(),
                        error = %body,
                        "{} receiver rejected a request; its content is dropped.",
                        self.what
                    );
                    return Err(Failure::Rejected {
                        status,
                        body,
                        retries: attempt as usize - 1,
                    });
                }
                Err(error) => (error, None),
            };
            if attempt >= self.retry.max_attempts {
                tracing::error!(
                    url = %self.url,
                    attempts = attempt,
                    error = %error,
                    "{} receiver kept failing; giving up on this request.",
                    self.what
                );
                return Err(Failure::Unavailable {
                    attempts: attempt,
                    last_error: error,
                });
            }
            let delay = retry_after.unwrap_or(backoff).min(self.retry.max_backoff);
            tracing::warn!(
                url = %self.url,
                attempt,
                retry_in_ms = delay.as_millis() as u64,
                error = %error,
                "{} request failed; retrying.",
                self.what
            );
            tokio::time::sleep(delay).await;
            backoff = (backoff * 2).min(self.retry.max_backoff);
            attempt += 1;
        }
    }

    /// One HTTP exchange; `Err` is a transport failure or a timeout, described for the log.
    async fn send_once(&self, body: Bytes) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .body(Full::new(body))
            .map_err(|error| format!("cannot build the request: {error}"))?;
        *request.headers_mut() = self.headers.clone();
        let exchange = async {
            let response = self.transport.request(request).await.map_err(|error| {
                // The legacy client's Display hides the cause (refused, reset, ...).
                let cause = std::error::Error::source(&error).map(|c| format!(": {c}"));
                format!("{error}{}", cause.unwrap_or_default())
            })?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = match Limited::new(response.into_body(), MAX_RESPONSE_BODY_BYTES)
                .collect()
                .await
            {
                Ok(collected) => String::from_utf8_lossy(&collected.to_bytes())
                    .trim()
                    .to_owned(),
                Err(_) => {
                    format!("(response body unreadable or over {MAX_RESPONSE_BODY_BYTES} bytes)")
                }
            };
            Ok(Answer {
                status,
                body,
                retry_after,
            })
        };
        tokio::time::timeout(self.retry.timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {:?}", self.retry.timeout))?
    }
}

struct Answer {
    status: StatusCode,
    body: String,
    retry_after: Option<Duration>,
}

enum Transport {
    Http(Client<HttpConnector, Full<Bytes>>),
    Https(Client<HttpsConnector<HttpConnector>, Full<Bytes>>),
}

impl Transport {
    async fn request(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, hyper_util::client::legacy::Error> {
        match self {
            Transport::Http(client) => client.request(request).await,
            Transport::Https(client) => client.request(request).await,
        }
    }
}

fn client<C>(connector: C) -> Client<C, Full<Bytes>>
where
    C: hyper_util::client::legacy::connect::Connect + Clone,
{
    Client::builder(TokioExecutor::new()).build(connector)
}
