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
//! Deviations from a real apiserver are listed in the crate's README section of
//! [`TestApiServer`] docs: continuation pages read current state (reported at the first
//! page's resourceVersion), lists ignore `resourceVersion`/`resourceVersionMatch`, no
//! finalizers, admission, defaulting, field ownership or namespace existence checks.

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
pub use faults::Stats;
pub use resource::ResourceType;
pub use server::TestApiServer;
