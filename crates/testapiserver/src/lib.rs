//! A stateful, in-process Kubernetes API server for tests and benchmarks.
//!
//! The unmodified kube-rs client talks to it over HTTP on `127.0.0.1`: discovery (legacy
//! and aggregated), list with `limit`/`continue` pagination and label/field selectors,
//! watch with resourceVersion replay, bookmarks and 410 Expired, get, create, replace with
//! optimistic concurrency, merge patch and delete. Objects are plain JSON; any resource can
//! be registered at run time. Faults (dropped watches, compaction, injected errors,
//! latency, 403) are switched on from the test.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = testapiserver::TestApiServer::start().await?;
//! server.apply(serde_json::json!({
//!     "apiVersion": "v1", "kind": "Pod",
//!     "metadata": {"name": "velero-0", "namespace": "velero"},
//! }))?;
//! // Point a kube client at server.url() or server.kubeconfig_yaml("test").
//! server.drop_watches();
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Protocol notes
//!
//! - Watches from a compacted resourceVersion answer HTTP 200 with one in-stream `ERROR`
//!   event (Status 410 Expired), as the apiserver does; kube's watcher relists only on that.
//!   An HTTP 410 (e.g. from `fail_next(_, 410)`) makes it retry the same version instead.
//! - kube's default client retries 429/503/504 by itself, so `fail_next(n, 503)` is mostly
//!   invisible to callers; use 500 to surface an error.
//! - List items of built-in groups (core, `apps`, `*.k8s.io`) carry no `apiVersion`/`kind`,
//!   like the apiserver's typed lists; custom resources keep them. Watch events and single
//!   objects always carry them.
//!
//! # Deviations from a real apiserver
//!
//! - Continuation pages read the current objects (after the continue key), while reporting
//!   the first page's resourceVersion; a watch from that version replays whatever changed in
//!   between, so list+watch still converges. Lists ignore `resourceVersion` and
//!   `resourceVersionMatch` (always served at the latest revision).
//! - A MODIFIED that moves an object out of a watch's selector is sent as DELETED carrying
//!   the new object (the apiserver sends the previous one).
//! - Any dotted path is accepted in field selectors; a missing field compares as `""`.
//! - Patch: JSON merge patch; strategic merge patch is treated as merge patch; server-side
//!   apply is create-or-merge-patch without field ownership; JSON patch answers 415.
//! - No finalizers, admission, defaulting, validation beyond name/namespace/type, managed
//!   fields, namespace existence checks or cascading deletion. The `status` subresource works
//!   for get/replace/patch, but the main resource also accepts status changes.

#![warn(missing_docs)]

mod discovery;
mod error;
mod faults;
mod http;
mod meta;
mod resource;
mod selector;
mod server;
mod store;
mod watch;

pub use error::Error;
pub use faults::{Access, Stats};
pub use resource::ResourceType;
pub use server::TestApiServer;
