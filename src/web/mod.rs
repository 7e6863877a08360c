//! The HTTP server of `backupscope serve`: `/metrics` (Prometheus text 0.0.4 or OpenMetrics,
//! gzip when asked), `/healthz`, `/readyz`, the web UI at `/` and its JSON API under `/api/v1/`.

mod api;
mod auth;
mod conn;
mod tls;
mod ui;

use crate::center::BackupCenter;
use crate::inventory::Inventory;
use crate::metrics::collector::Collector;
use crate::metrics::exposition::{self, Format, TextEncoder};
use crate::metrics::units::Units;
use crate::model::{Engine, Timestamp};
use crate::report::doctor::ClusterFacts;
use crate::source::health::SourceHealth;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

pub use auth::{AccessArgs, Token};
pub use conn::Limits;
pub use tls::TlsFiles;

/// What every request reads: the inventory the source keeps current, and how to render it.
#[derive(Clone)]
pub struct AppState {
    pub inventory: Arc<RwLock<Inventory>>,
    /// The live source's health; `None` when serving a snapshot.
    pub health: Option<Arc<SourceHealth>>,
    pub collector: Arc<Collector>,
    pub engine: Option<Engine>,
    /// Fixed evaluation instant (`--now`), for reproducible output.
    pub now: Option<Timestamp>,
    /// The backup-center part of the last rendering per format, reused while the inventory is
    /// unchanged (Prometheus servers of different versions may ask for different formats).
    pub cache: Arc<Mutex<Vec<Rendered>>>,
    /// The cluster's Kubernetes version for the doctor's version checks, once known (a
    /// snapshot's `kubectl version` file, or the live API server's answer).
    pub kubernetes_version: Arc<OnceLock<String>>,
}

/// Rendered backup-center families of one inventory revision in one format, with the units
/// they are made of (the next rendering copies those that did not change).
pub struct Rendered {
    revision: u64,
    format: Format,
    /// Shared with the responses that send it: a scrape does not copy it.
    body: Arc<Vec<u8>>,
    series: Vec<(&'static str, u64)>,
    units: Units,
    /// The body before `body`: its allocation is written again by the next rendering (unless
    /// a response still sends it), whose fresh 5 MB would otherwise page-fault in on every
    /// change.
    spare: Arc<Vec<u8>>,
}

/// One scrape's exposition: the backup center's families as last rendered (shared, not
/// copied) followed by backupscope's own, rendered for this scrape.
#[derive(Default)]
pub struct Scrape {
    pub center: Arc<Vec<u8>>,
    pub own: Vec<u8>,
}

impl Scrape {
    pub fn len(&self) -> usize {
        self.center.len() + self.own.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The two parts as one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        [&self.center[..], &self.own].concat()
    }

    /// The response body: both parts as they are, without joining them.
    fn into_body(self) -> axum::body::Body {
        let center = bytes::Bytes::from_owner(SharedBody(self.center));
        let parts = [center, bytes::Bytes::from(self.own)];
        axum::body::Body::from_stream(futures::stream::iter(
            parts.map(Ok::<_, std::convert::Infallible>),
        ))
    }
}

/// A rendered body as the owner of the bytes a response sends.
struct SharedBody(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBody {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl AppState {
    pub fn new(
        inventory: Arc<RwLock<Inventory>>,
        health: Option<Arc<SourceHealth>>,
        collector: Arc<Collector>,
        engine: Option<Engine>,
        now: Option<Timestamp>,
    ) -> Self {
        AppState {
            inventory,
            health,
            collector,
            engine,
            now,
            cache: Arc::default(),
            kubernetes_version: Arc::default(),
        }
    }

    /// What the doctor knows beyond the inventory: the Kubernetes version and the latest
    /// probe of each vault, when serve probes them.
    pub fn cluster_facts(&self) -> ClusterFacts {
        let probes = self
            .collector
            .vault_board()
            .map(|b| crate::metrics::collector::probes_of(b))
            .unwrap_or_default();
        ClusterFacts {
            kubernetes_version: self.kubernetes_version.get().cloned(),
            ..ClusterFacts::default()
        }
        .with_probes(probes)
    }

    /// Renders all metrics in the given format, as `/metrics` sends them; `None` when a
    /// writer panicked while holding the inventory or the rendering cache.
    ///
    /// Like kube-state-metrics, a scrape should cost little more than copying bytes: the
    /// backup-center families are rendered once per inventory revision (only the units that
    /// changed) and shared while nothing changes; only backupscope's own few families are
    /// rendered every time.
    pub fn scrape(&self, format: Format) -> Option<Scrape> {
        let started = std::time::Instant::now();
        let inventory = self.inventory.read().ok()?;
        let center = BackupCenter::for_engine(
            &inventory,
            self.now.unwrap_or_else(Timestamp::now),
            self.engine,
        );
        let mut cache = self.cache.lock().ok()?;
        let revision = inventory.revision();
        let slot = match cache.iter().position(|c| c.format == format) {
            Some(i) => i,
            None => {
                cache.push(Rendered {
                    revision: u64::MAX,
                    format,
                    body: Arc::default(),
                    series: Vec::new(),
                    units: Units::default(),
                    spare: Arc::default(),
                });
                cache.len() - 1
            }
        };
        let rendered = &mut cache[slot];
        if rendered.revision != revision {
            let mut body = Arc::try_unwrap(std::mem::take(&mut rendered.spare)).unwrap_or_default();
            body.clear();
            // Room for growth, so the body is not reallocated (and copied) mid-render.
            let len = rendered.body.len();
            body.reserve((len + len / 8).max(64 * 1024));
            // Not finished here: `finish` closes an OpenMetrics exposition, and the own
            // families still follow; the combined output is finished below.
            let (series, units, _) = self.collector.collect_center_reusing(
                &center,
                &mut TextEncoder::new(&mut body, format),
                std::mem::take(&mut rendered.units),
                &rendered.body,
            );
            rendered.spare = std::mem::replace(&mut rendered.body, Arc::new(body));
            rendered.revision = revision;
            rendered.series = series;
            rendered.units = units;
        }
        let mut own = Vec::with_capacity(16 * 1024);
        let mut encoder = TextEncoder::new(&mut own, format);
        self.collector.collect_own(
            &center,
            self.health.as_deref(),
            &rendered.series,
            &mut encoder,
        );
        encoder.finish();
        self.collector.record_duration(started.elapsed());
        Some(Scrape {
            center: rendered.body.clone(),
            own,
        })
    }

    fn ready(&self) -> bool {
        self.health.as_ref().is_none_or(|h| h.all_settled())
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ui::routes())
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(state)
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let header_str = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let format = Format::negotiate(header_str(header::ACCEPT));
    let gzip = exposition::accepts_gzip(header_str(header::ACCEPT_ENCODING));
    // Rendering is CPU work on a consistent view; keep it off the async workers.
    let rendered = tokio::task::spawn_blocking(move || {
        let scrape = state.scrape(format).unwrap_or_default();
        if gzip {
            let parts = [&scrape.center[..], &scrape.own];
            exposition::gzip(&parts).map(|b| (axum::body::Body::from(b), true))
        } else {
            Ok((scrape.into_body(), false))
        }
    })
    .await;
    match rendered {
        Ok(Ok((body, gzipped))) => {
            let mut response =
                ([(header::CONTENT_TYPE, format.content_type())], body).into_response();
            if gzipped {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "compressing /metrics failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "compression failed\n").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering /metrics failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n").into_response()
        }
    }
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let waiting: Vec<String> = state
            .health
            .as_ref()
            .map(|h| {
                h.snapshot()
                    .into_iter()
                    .filter(|(_, s)| !s.settled)
                    .map(|(source, s)| {
                        format!(
                            "{source}: {}",
                            if s.last_error.is_empty() {
                                "listing"
                            } else {
                                &s.last_error
                            }
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready; waiting for:\n{}\n", waiting.join("\n")),
        )
            .into_response()
    }
}

/// Serves until `shutdown` resolves; plain HTTP, or HTTPS when TLS files are given; with a
/// token, only to requests that carry it (see [`auth`]). Every connection is held to
/// `limits`; on shutdown, open connections get `limits.shutdown_deadline` to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Option<TlsFiles>,
    token: Option<Token>,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let acceptor = tls.as_ref().map(TlsFiles::acceptor).transpose()?;
    let mut app = router(state);
    if let Some(token) = token {
        app = app.layer(axum::middleware::from_fn(move |request, next| {
            auth::require(token.clone(), request, next)
        }));
    }
    conn::serve(listener, app, acceptor, limits, shutdown).await
}
