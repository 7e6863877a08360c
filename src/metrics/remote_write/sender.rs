//! Sending remote-write requests: headers, batching, staleness; the retries are the shared
//! outbound client's (`crate::outbound`).

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    time::Duration,
};

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::outbound::{Endpoint, EndpointError, Failure, Retry};

use super::{
    Label, TimeSeries,
    proto::{compress, encode_write_request, stale_marker},
};

const USER_AGENT: &str = concat!("backupscope/", env!("CARGO_PKG_VERSION"));
const REMOTE_WRITE_VERSION_HEADER: &str = "x-prometheus-remote-write-version";
const REMOTE_WRITE_VERSION: &str = "0.1.0";

/// Headers the spec or the transport owns; user-supplied headers may not set them.
const RESERVED_HEADERS: [&str; 7] = [
    "content-encoding",
    "content-type",
    "user-agent",
    REMOTE_WRITE_VERSION_HEADER,
    "content-length",
    "host",
    "transfer-encoding",
];

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct RemoteWriteConfig {
    /// `http://` or `https://` URL of the receiver, e.g. `http://prometheus:9090/api/v1/write`.
    pub url: String,
    /// Per request, from sending to the end of the response body.
    pub timeout: Duration,
    /// Extra headers (e.g. `X-Scope-OrgID` for multi-tenant receivers); the reserved ones are
    /// refused.
    pub headers: Vec<(String, String)>,
    /// File holding a bearer token, read once when the writer is built.
    pub bearer_token_file: Option<PathBuf>,
    /// Series (stale markers included) per request.
    pub max_series_per_request: usize,
    /// Attempts per request, the first one included.
    pub max_attempts: u32,
    /// Delay before the first retry; it doubles after each retry up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl RemoteWriteConfig {
    /// Defaults close to Prometheus' own queue settings (2000 samples per send, 5 s max backoff).
    pub fn new(url: impl Into<String>) -> Self {
        RemoteWriteConfig {
            url: url.into(),
            timeout: Duration::from_secs(30),
            headers: Vec::new(),
            bearer_token_file: None,
            max_series_per_request: 2000,
            max_attempts: 5,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// What a successful push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// Series sent with their current value.
    pub series: usize,
    /// Series of the previous push that are gone now, sent as stale markers.
    pub stale_markers: usize,
    /// HTTP requests that got a final answer (one per batch).
    pub requests: usize,
    /// Extra attempts made after retryable failures.
    pub retries: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RemoteWriteError {
    #[error("invalid remote write URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: &'static str },
    #[error("invalid remote write header {name:?}: {reason}")]
    InvalidHeader { name: String, reason: &'static str },
    // The token itself never appears in errors or logs.
    #[error("cannot use the bearer token file {}: {reason}", path.display())]
    TokenFile { path: PathBuf, reason: String },
    #[error("cannot load the system's root certificates for {url}: {source}")]
    RootCertificates { url: String, source: std::io::Error },
    #[error("cannot compress a remote write request: {0}")]
    Compress(#[from] snap::Error),
    /// A 4xx other than 429: resending the same data cannot help, so those series are dropped.
    #[error(
        "{url} rejected {rejected_series} series with HTTP {status} \
         ({accepted_series} accepted): {body}"
    )]
    Rejected {
        url: String,
        status: u16,
        body: String,
        rejected_series: usize,
        accepted_series: usize,
    },
    /// 5xx, 429 or transport errors until the attempts ran out; the rest of the push was not
    /// sent.
    #[error(
        "{url} did not accept a remote write request after {attempts} attempts \
         ({unsent_series} series unsent): {last_error}"
    )]
    Unavailable {
        url: String,
        attempts: u32,
        last_error: String,
        unsent_series: usize,
    },
}

/// Pushes series to one remote-write receiver.
///
/// Remembers which series the receiver holds, so a series that disappears between two pushes
/// (a deleted backup task) is ended with a stale marker rather than lingering for the five
/// minutes of Prometheus' lookback.
pub struct RemoteWriter {
    endpoint: Endpoint,
    max_series_per_request: usize,
    /// Label sets the receiver may hold a live (non-stale) value for.
    live: HashSet<Vec<Label>>,
}

impl std::fmt::Debug for RemoteWriter {
    // Not derived: the headers may hold a token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteWriter")
            .field("url", &self.endpoint.url())
            .field("live_series", &self.live.len())
            .finish_non_exhaustive()
    }
}

impl RemoteWriter {
    /// Validates the configuration, reads the bearer token file and builds the HTTP client.
    ///
    /// `https://` URLs use the system's root certificates; they must be loadable.
    pub fn new(config: RemoteWriteConfig) -> Result<Self, RemoteWriteError> {
        let retry = Retry {
            timeout: config.timeout,
            max_attempts: config.max_attempts,
            min_backoff: config.min_backoff,
            max_backoff: config.max_backoff,
        };
        let endpoint =
            Endpoint::new(&config.url, "Remote write", retry).map_err(|error| match error {
                EndpointError::InvalidUrl { reason } => RemoteWriteError::InvalidUrl {
                    url: config.url.clone(),
                    reason,
                },
                EndpointError::RootCertificates(source) => RemoteWriteError::RootCertificates {
                    url: config.url.clone(),
                    source,
                },
            })?;

        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let invalid = |reason| RemoteWriteError::InvalidHeader {
                name: name.clone(),
                reason,
            };
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid("not a valid header name"))?;
            let reserved = RESERVED_HEADERS.contains(&header_name.as_str())
                || (header_name == header::AUTHORIZATION && config.bearer_token_file.is_some());
            if reserved {
                return Err(invalid(
                    "reserved by the remote write protocol or the transport",
                ));
            }
            let mut header_value =
                HeaderValue::from_str(value).map_err(|_| invalid("not a valid header value"))?;
            header_value.set_sensitive(header_name == header::AUTHORIZATION);
            headers.append(header_name, header_value);
        }
        if let Some(path) = &config.bearer_token_file {
            headers.insert(header::AUTHORIZATION, bearer_header(path)?);
        }
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("snappy"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        headers.insert(
            HeaderName::from_static(REMOTE_WRITE_VERSION_HEADER),
            HeaderValue::from_static(REMOTE_WRITE_VERSION),
        );

        Ok(RemoteWriter {
            endpoint: endpoint.with_headers(headers),
            max_series_per_request: config.max_series_per_request.max(1),
            live: HashSet::new(),
        })
    }

    /// Sends every series with `timestamp_ms` (Unix milliseconds), plus a stale marker for each
    /// series of earlier pushes that is absent now, in batches of at most
    /// `max_series_per_request`.
    ///
    /// A batch answered with 5xx or 429 (or lost in transport) is retried with exponential
    /// backoff; when the attempts run out the push stops there. A batch answered with another
    /// 4xx is logged and dropped, the remaining batches are still sent, and the push returns
    /// [`RemoteWriteError::Rejected`].
    ///
    /// Series with the same labels twice in `series` are sent twice; the receiver may reject
    /// the duplicate.
    pub async fn push(
        &mut self,
        series: Vec<TimeSeries>,
        timestamp_ms: i64,
    ) -> Result<PushOutcome, RemoteWriteError> {
        let result = self.send_all(&series, timestamp_ms).await;
        let current = series.into_iter().map(|s| s.labels);
        if result.is_ok() {
            self.live = current.collect();
        } else {
            // Some of these may have reached the receiver, and the stale markers of the vanished
            // ones may not have: keep all of them so the next push ends them.
            self.live.extend(current);
        }
        result
    }

    async fn send_all(
        &self,
        series: &[TimeSeries],
        timestamp_ms: i64,
    ) -> Result<PushOutcome, RemoteWriteError> {
        let current: HashSet<&[Label]> = series.iter().map(|s| s.labels.as_slice()).collect();
        let stale = self
            .live
            .iter()
            .map(Vec::as_slice)
            .filter(|labels| !current.contains(labels))
            .map(|labels| (labels, stale_marker()));
        let items: Vec<(&[Label], f64)> = series
            .iter()
            .map(|s| (s.labels.as_slice(), s.value))
            .chain(stale)
            .collect();

        let mut outcome = PushOutcome {
            series: series.len(),
            stale_markers: items.len() - series.len(),
            ..PushOutcome::default()
        };
        let mut rejected: Option<(u16, String)> = None;
        let mut rejected_series = 0;
        let mut request = Vec::new();
        for (index, batch) in items.chunks(self.max_series_per_request).enumerate() {
            request.clear();
            encode_write_request(batch.iter().copied(), timestamp_ms, &mut request);
            let body = Bytes::from(compress(&request)?);
            match self.endpoint.send(body).await {
                Ok(retries) => {
                    outcome.requests += 1;
                    outcome.retries += retries;
                }
                Err(Failure::Rejected {
                    status,
                    body,
                    retries,
                }) => {
                    outcome.requests += 1;
                    outcome.retries += retries;
                    rejected_series += batch.len();
                    rejected.get_or_insert((status.as_u16(), body));
                }
                Err(Failure::Unavailable {
                    attempts,
                    last_error,
                }) => {
                    let sent = index * self.max_series_per_request;
                    return Err(RemoteWriteError::Unavailable {
                        url: self.endpoint.url().to_string(),
                        attempts,
                        last_error,
                        unsent_series: items.len() - sent,
                    });
                }
            }
        }
        match rejected {
            None => Ok(outcome),
            Some((status, body)) => Err(RemoteWriteError::Rejected {
                url: self.endpoint.url().to_string(),
                status,
                body,
                rejected_series,
                accepted_series: items.len() - rejected_series,
            }),
        }
    }
}

fn bearer_header(path: &Path) -> Result<HeaderValue, RemoteWriteError> {
    let token_error = |reason: String| RemoteWriteError::TokenFile {
        path: path.to_owned(),
        reason,
    };
    let content = std::fs::read_to_string(path).map_err(|error| token_error(error.to_string()))?;
    let token = content.trim();
    if token.is_empty() {
        return Err(token_error("the file is empty".to_owned()));
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| token_error("the token holds characters a header cannot carry".to_owned()))?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests;
