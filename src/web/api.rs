//! The read-only JSON API under `/api/v1/` (docs/api.md): the report documents of
//! `crate::report`, built from one consistent view of the inventory per request. Task lists
//! are paginated; every other list is bounded by the number of vaults, schedules, restores
//! or components.

use super::AppState;
use crate::center::BackupCenter;
use crate::metrics::exposition;
use crate::model::{Engine, Timestamp};
use crate::report::describe::DescribeError;
use crate::report::detail;
use crate::report::doctor::DoctorReport;
use crate::report::overview::{BackupHealth, BackupOverview};
use crate::report::status::{self, ComponentRow, LocationRow};
use crate::report::tasks::{TaskQuery, task_page};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1", get(index))
        .route("/api/v1/info", get(info))
        .route("/api/v1/backuplocations", get(locations))
        .route("/api/v1/backuplocations/{namespace}/{name}", get(location))
        .route("/api/v1/overview", get(overview))
        .route("/api/v1/backups", get(backups))
        .route("/api/v1/backups/{namespace}/{name}", get(backup))
        .route("/api/v1/health", get(health))
        .route("/api/v1/schedules/{namespace}/{name}", get(schedule))
        .route("/api/v1/components", get(components))
        .route("/api/v1/components/{namespace}/{name}", get(component))
        .route("/api/v1/doctor", get(doctor))
        .route("/api/v1/{*rest}", get(unknown))
}

/// An error as the API returns it: a status and a sentence for the person reading it.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body {
            error: String,
        }
        json(self.0, &Body { error: self.1 })
    }
}

impl From<DescribeError> for ApiError {
    fn from(e: DescribeError) -> Self {
        let status = match e {
            DescribeError::NotFound { .. } => StatusCode::NOT_FOUND,
            DescribeError::Ambiguous { .. } => StatusCode::CONFLICT,
        };
        ApiError(status, e.to_string())
    }
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "serializing an API document failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "serialization failed\n").into_response()
        }
    }
}

fn json_gzip<T: Serialize>(body: &T) -> Response {
    match serde_json::to_vec(body)
        .map_err(std::io::Error::other)
        .and_then(|b| exposition::gzip(&[&b]))
    {
        Ok(bytes) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json; charset=utf-8"),
                (header::CONTENT_ENCODING, "gzip"),
                (header::VARY, "accept-encoding"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "encoding an API document failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "encoding failed\n").into_response()
        }
    }
}

/// Builds a document from a consistent view, off the async workers (a task list may walk
/// every task); gzipped when the client accepts it (JSON of 1 000 vaults shrinks ~10x).
async fn respond<T, F>(state: AppState, headers: HeaderMap, build: F) -> Response
where
    T: Serialize + Send + 'static,
    F: FnOnce(&BackupCenter) -> Result<T, ApiError> + Send + 'static,
{
    let gzip = exposition::accepts_gzip(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let built = tokio::task::spawn_blocking(move || {
        let inventory = state.inventory.read().map_err(|_| {
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                "inventory unavailable".into(),
            )
        })?;
        let center = BackupCenter::for_engine(
            &inventory,
            state.now.unwrap_or_else(Timestamp::now),
            state.engine,
        );
        let doc = build(&center)?;
        drop(center);
        drop(inventory);
        Ok::<_, ApiError>(if gzip {
            json_gzip(&doc)
        } else {
            json(StatusCode::OK, &doc)
        })
    })
    .await;
    match built {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => e.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "building an API document failed");
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "building the document failed".into(),
            )
            .into_response()
        }
    }
}

/// A bounded list with the instant it was evaluated at.
#[derive(Serialize)]
struct Listing<T> {
    now: Timestamp,
    items: Vec<T>,
}

async fn index() -> Response {
    #[derive(Serialize)]
    struct Index {
        version: &'static str,
        documentation: &'static str,
        endpoints: &'static [&'static str],
    }
    json(
        StatusCode::OK,
        &Index {
            version: env!("CARGO_PKG_VERSION"),
            documentation: "docs/api.md",
            endpoints: &[
                "/api/v1/info",
                "/api/v1/backuplocations?namespace=&name=",
                "/api/v1/backuplocations/{namespace}/{name}",
                "/api/v1/overview",
                "/api/v1/backups?set=&namespace=&backupLocation=&schedule=&phase=&q=&sort=&order=&offset=&limit=",
                "/api/v1/backups/{namespace}/{name}",
                "/api/v1/health",
                "/api/v1/schedules/{namespace}/{name}",
                "/api/v1/components",
                "/api/v1/components/{namespace}/{name}",
                "/api/v1/doctor",
            ],
        },
    )
}

async fn info(State(state): State<AppState>, headers: HeaderMap) -> Response {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Info {
        version: &'static str,
        now: Timestamp,
        engines: Vec<&'static str>,
        /// Changes whenever the inventory does.
        revision: u64,
        /// Whether the data comes from a fixed snapshot rather than a live cluster.
        snapshot: bool,
    }
    let snapshot = state.health.is_none();
    respond(state, headers, move |center| {
        Ok(Info {
            version: env!("CARGO_PKG_VERSION"),
            now: center.now,
            engines: center
                .engines()
                .iter()
                .map(|e: &Engine| e.as_str())
                .collect(),
            revision: center.inventory.revision(),
            snapshot,
        })
    })
    .await
}

/// `?namespace=&name=` narrow the list (exact match), so a page can ask whether one vault
/// exists without a 404 or the whole list.
async fn locations(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let mut namespace = None;
    let mut name = None;
    for (key, value) in pairs {
        match key.as_str() {
            "namespace" => namespace = Some(value),
            "name" => name = Some(value),
            _ => {
                return ApiError(
                    StatusCode::BAD_REQUEST,
                    format!("query parameter {key}={value:?}: not a parameter of the backup location list (namespace, name)"),
                )
                .into_response();
            }
        }
    }
    respond(state, headers, move |center| {
        let wanted = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        Ok(Listing::<LocationRow> {
            now: center.now,
            items: status::locations(center)
                .into_iter()
                .filter(|v| wanted(&namespace, &v.namespace) && wanted(&name, &v.name))
                .collect(),
        })
    })
    .await
}

async fn location(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    respond(state, headers, move |center| {
        Ok(detail::vault_detail(center, &namespace, &name)?)
    })
    .await
}

async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(state, headers, |center| Ok(BackupOverview::build(center))).await
}

async fn backups(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let query = match TaskQuery::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(query) => query,
        Err(e) => return ApiError(StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    respond(state, headers, move |center| Ok(task_page(center, &query))).await
}

async fn backup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    respond(state, headers, move |center| {
        Ok(detail::backup_detail(center, &namespace, &name)?)
    })
    .await
}

async fn health(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(state, headers, |center| Ok(BackupHealth::build(center))).await
}

async fn schedule(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    respond(state, headers, move |center| {
        Ok(detail::schedule_detail(center, &namespace, &name)?)
    })
    .await
}

async fn components(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(state, headers, |center| {
        Ok(Listing::<ComponentRow> {
            now: center.now,
            items: status::components(center),
        })
    })
    .await
}

async fn component(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    respond(state, headers, move |center| {
        Ok(detail::component_detail(center, &namespace, &name)?)
    })
    .await
}

/// The findings of `backupscope doctor -o json`, from the same report type.
async fn doctor(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let facts = state.cluster_facts();
    respond(state, headers, move |center| {
        Ok(DoctorReport::build(center, &facts))
    })
    .await
}

async fn unknown(Path(rest): Path<String>) -> Response {
    ApiError(
        StatusCode::NOT_FOUND,
        format!("no API document at /api/v1/{rest}; GET /api/v1 lists them"),
    )
    .into_response()
}
