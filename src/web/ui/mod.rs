//! The built-in web UI: one HTML page, a stylesheet and a script, embedded in the binary (no
//! CDN, works air-gapped). The script reads the JSON API (`super::api`) and builds every page
//! with DOM calls that set text, never markup, so names from the cluster cannot inject any.
//! The Content-Security-Policy allows only these same-origin files as a second line of defence.

use super::AppState;
use crate::metrics::exposition;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::OnceLock;

/// A file of the UI, compressed once on first request for clients that accept gzip.
struct Asset {
    content_type: &'static str,
    body: &'static str,
    gzipped: OnceLock<Option<Vec<u8>>>,
}

impl Asset {
    const fn new(content_type: &'static str, body: &'static str) -> Self {
        Asset {
            content_type,
            body,
            gzipped: OnceLock::new(),
        }
    }
}

static INDEX_HTML: Asset = Asset::new(
    "text/html; charset=utf-8",
    include_str!("assets/index.html"),
);
static APP_JS: Asset = Asset::new(
    "text/javascript; charset=utf-8",
    include_str!("assets/app.js"),
);
static STYLE_CSS: Asset = Asset::new("text/css; charset=utf-8", include_str!("assets/style.css"));
static FAVICON_SVG: Asset = Asset::new("image/svg+xml", include_str!("assets/favicon.svg"));

/// Only same-origin scripts, styles, images and fetches; no inline script or style, no
/// frames, forms or plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The pages and their assets, with the API routes, under the security headers.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|h: HeaderMap| asset(&INDEX_HTML, h)))
        .route("/assets/app.js", get(|h: HeaderMap| asset(&APP_JS, h)))
        .route(
            "/assets/style.css",
            get(|h: HeaderMap| asset(&STYLE_CSS, h)),
        )
        .route(
            "/assets/favicon.svg",
            get(|h: HeaderMap| asset(&FAVICON_SVG, h)),
        )
        .merge(super::api::routes())
        .layer(axum::middleware::map_response(security_headers))
}

async fn asset(asset: &'static Asset, headers: HeaderMap) -> Response {
    let gzip = exposition::accepts_gzip(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let zipped = gzip
        .then(|| {
            asset
                .gzipped
                .get_or_init(|| exposition::gzip(&[asset.body.as_bytes()]).ok())
                .as_deref()
        })
        .flatten();
    let common = [
        (header::CONTENT_TYPE, asset.content_type),
        // The binary is the version: revalidate rather than keep an old script.
        (header::CACHE_CONTROL, "no-cache"),
        (header::VARY, "accept-encoding"),
    ];
    match zipped {
        Some(body) => (common, [(header::CONTENT_ENCODING, "gzip")], body).into_response(),
        None => (common, asset.body).into_response(),
    }
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
