//! One target's list+watch loop, keeping its share of the inventory equal to the cluster.
//!
//! kube-runtime's `watcher` hides successful reconnects, so a source that failed once (a 403
//! later lifted, a 500, a network blip) would read as down until its next object change, which
//! for a vault may be days. This loop reports every state it is in: a completed list or an
//! established watch marks the source up, a failed request marks it down with the reason.
//!
//! Objects are decoded straight into `serde_json::Value` (the dialects' input): no detour
//! through typed objects, and a list page one object at a time (`page.rs`). A list is applied
//! page by page, so a relist never holds the whole collection, then everything the list did
//! not contain is removed: no ghosts after a 410.

use super::health::SourceHealth;
use super::kube::{Change, Target, describe_error};
use crate::inventory::Inventory;
use futures::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, FutureExt, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::Client;
use kube::api::{ListParams, WatchEvent, WatchParams};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Server-side watch timeout; the apiserver's own default is 30-60 min, a shorter one bounds
/// how long a silently broken connection can go unnoticed.
const WATCH_TIMEOUT_SECONDS: u32 = 290;
/// A watch that sends nothing (not even a bookmark) for this long is treated as dead.
const WATCH_IDLE: Duration = Duration::from_secs(WATCH_TIMEOUT_SECONDS as u64 + 5);
/// Watch events applied under one lock of the inventory, when they arrive together.
const APPLY_BATCH: usize = 256;

/// Pages one list may take. 10 000 pages (a million objects at the default page size) is far
/// beyond any backup center; a server that keeps handing out fresh continue tokens must not
/// make a list grow without end.
const MAX_LIST_PAGES: usize = 10_000;

/// A list that does not end: the server repeated a continue token (which would loop for ever,
/// adding the same objects again and again) or sent more than [`MAX_LIST_PAGES`] pages.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EndlessList(String);

/// Why a list failed.
enum ListError {
    /// The continue token expired (410): the list must start again.
    Gone,
    Failed(String),
}

/// How a watch ended.
enum WatchEnd {
    /// Closed or timed out normally: resume from this version.
    Resume(String),
    /// The version is too old (410 Gone): relist.
    Gone,
    /// The request or the stream failed: back off, then resume from this version.
    Failed(String, String),
}

/// Exponential backoff, 0.5 s doubling to 30 s with jitter, reset by any success.
pub(super) struct Backoff {
    next: Duration,
}

impl Backoff {
    const MIN: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(30);

    pub(super) fn new() -> Self {
        Backoff { next: Self::MIN }
    }

    fn reset(&mut self) {
        self.next = Self::MIN;
    }

    pub(super) async fn wait(&mut self) {
        // Up to +25 % jitter, so sources that failed together do not retry in lockstep.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = self.next.mul_f64(f64::from(nanos % 1000) / 4000.0);
        tokio::time::sleep(self.next + jitter).await;
        self.next = (self.next * 2).min(Self::MAX);
    }
}

/// Lists and watches one target for ever.
pub async fn run(
    client: Client,
    t: Target,
    page_size: u32,
    inventory: Arc<RwLock<Inventory>>,
    health: Arc<SourceHealth>,
) {
    let mut backoff = Backoff::new();
    let mut resume: Option<String> = None;
    loop {
        let fresh = resume.is_none();
        let version = match resume.take() {
            Some(v) => v,
            None => match relist(&client, &t, page_size, &inventory, &health).await {
                Ok(v) => {
                    health.synced(&t.source);
                    v
                }
                Err(ListError::Gone) => {
                    // The list outlived its snapshot; start over, but never in a tight loop.
                    backoff.wait().await;
                    continue;
                }
                Err(ListError::Failed(message)) => {
                    health.down(&t.source, &message);
                    backoff.wait().await;
                    continue;
                }
            },
        };
        let started = Instant::now();
        let (end, delivered) = watch(&client, &t, version, &inventory, &health).await;
        if delivered > 0 {
            backoff.reset();
        }
        match end {
            WatchEnd::Resume(v) => {
                // A watch that the server closes at once, again and again, must not spin.
                if delivered == 0 && started.elapsed() < Duration::from_secs(1) {
                    backoff.wait().await;
                }
                resume = Some(v);
            }
            WatchEnd::Gone => {
                // A list that is already too old to watch from (heavy churn, a lagging
                // apiserver cache) waits before the next one instead of relisting in a loop.
                if fresh && delivered == 0 {
                    backoff.wait().await;
                }
            }
            WatchEnd::Failed(v, message) => {
                health.down(&t.source, &message);
                backoff.wait().await;
                resume = Some(v);
            }
        }
    }
}

fn list_params(t: &Target, page_size: u32) -> ListParams {
    let mut params = ListParams::default().limit(page_size);
    if let Some(l) = &t.labels {
        params = params.labels(l);
    }
    if let Some(f) = &t.fields {
        params = params.fields(f);
    }
    params
}

/// What a list hands over as it reads.
pub(super) enum Listed {
    /// An object (type filled in), as soon as it is decoded.
    Object(Value),
    /// Every object of the page before this was handed over. The objects of a page that fails
    /// half-way come without it: they must be dropped, as the list fails.
    PageEnd,
}

/// Lists a target page by page, handing each object (type filled in) to `listed` as it is
/// decoded. Returns the list's resourceVersion.
pub async fn list_pages(
    client: &Client,
    t: &Target,
    page_size: u32,
    mut listed: impl FnMut(Listed),
) -> Result<String, (kube::Error, bool)> {
    let params = list_params(t, page_size);
    let mut continue_token: Option<String> = None;
    // Hashes of the tokens seen: a repeated one means the list would never end.
    let mut tokens_seen: HashSet<u64> = HashSet::new();
    let mut pages = 0;
    loop {
        pages += 1;
        if pages > MAX_LIST_PAGES {
            let e = EndlessList(format!(
                "the list did not end after {MAX_LIST_PAGES} pages; giving up on it"
            ));
            return Err((kube::Error::Service(Box::new(e)), true));
        }
        let mut page_params = params.clone();
        if let Some(c) = &continue_token {
            page_params = page_params.continue_token(c);
        }
        let mut request = t
            .request()
            .list(&page_params)
            .map_err(|e| (kube::Error::BuildRequest(e), false))?;
        request.extensions_mut().insert("list");
        let meta = list_page(client, request, &mut |o| listed(Listed::Object(t.typed(o))))
            .await
            .map_err(|e| (e, continue_token.is_some()))?;
        listed(Listed::PageEnd);
        continue_token = meta.continue_.filter(|c| !c.is_empty());
        let Some(token) = &continue_token else {
            return Ok(meta.resource_version.unwrap_or_default());
        };
        if !tokens_seen.insert(token_hash(token)) {
            let e = EndlessList(format!(
                "the API server repeated a continue token after {pages} pages (a list that \
                 would never end); giving up on it"
            ));
            return Err((kube::Error::Service(Box::new(e)), true));
        }
    }
}

/// Reads one page and decodes it object by object (`page::decode`).
async fn list_page(
    client: &Client,
    request: hyper::Request<Vec<u8>>,
    object: &mut impl FnMut(Value),
) -> Result<ListMeta, kube::Error> {
    let mut body = Vec::new();
    let mut stream = std::pin::pin!(client.request_stream(request).await?);
    stream.read_to_end(&mut body).await.map_err(body_error)?;
    super::page::decode(&body, object).map_err(kube::Error::SerdeError)
}

/// The client's own error (a stalled body, a reset connection) out of the reader that wraps
/// it, so a failed read is reported as a whole-body read would report it.
fn body_error(e: std::io::Error) -> kube::Error {
    match e.into_inner() {
        Some(inner) => inner
            .downcast::<kube::Error>()
            .map_or_else(kube::Error::Service, |e| *e),
        None => kube::Error::Service("the list response could not be read".into()),
    }
}

fn token_hash(token: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(token)
}

/// Lists the target into the inventory and removes what the list no longer holds.
async fn relist(
    client: &Client,
    t: &Target,
    page_size: u32,
    inventory: &RwLock<Inventory>,
    health: &SourceHealth,
) -> Result<String, ListError> {
    // Names suffice: every object of a target has the target's kind and namespace.
    let mut seen: HashSet<String> = HashSet::new();
    // Reused for every page, as the watch reuses its batch.
    let mut changes: Vec<Change> = Vec::new();
    let mut objects = 0;
    let listed = list_pages(client, t, page_size, |listed| match listed {
        Listed::Object(o) => {
            objects += 1;
            changes.extend(t.change(&o));
        }
        Listed::PageEnd => {
            health.events(&t.source, std::mem::take(&mut objects));
            if let Ok(mut inv) = inventory.write() {
                for change in changes.drain(..) {
                    seen.insert(change.apply(&mut inv).name);
                }
            }
            changes.clear();
        }
    })
    .await;
    let version = list_outcome(t, listed)?;
    if let Ok(mut inv) = inventory.write() {
        for key in inv.keys(t.kind, t.engine) {
            if key.namespace == t.namespace && !seen.contains(&key.name) {
                inv.remove(&key);
            }
        }
    }
    Ok(version)
}

/// What a finished list means for the loop: the version to watch from, a list to start
/// again (its continue token expired), or a failure described for the user.
fn list_outcome(
    t: &Target,
    listed: Result<String, (kube::Error, bool)>,
) -> Result<String, ListError> {
    match listed {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(ListError::Failed(format!(
            "listing {} returned no resourceVersion",
            t.source
        ))),
        Err((kube::Error::Api(status), true)) if status.code == 410 => {
            tracing::debug!(source = %t.source, "list continuation expired; listing again");
            Err(ListError::Gone)
        }
        Err((e, _)) => Err(ListError::Failed(describe_error(t, &e))),
    }
}

/// Watches from `version` until the stream ends; returns how it ended and how many events
/// (bookmarks included) it delivered.
async fn watch(
    client: &Client,
    t: &Target,
    mut version: String,
    inventory: &RwLock<Inventory>,
    health: &SourceHealth,
) -> (WatchEnd, usize) {
    let mut params = WatchParams::default().timeout(WATCH_TIMEOUT_SECONDS);
    if let Some(l) = &t.labels {
        params = params.labels(l);
    }
    if let Some(f) = &t.fields {
        params = params.fields(f);
    }
    let mut request = match t.request().watch(&params, &version) {
        Ok(r) => r,
        Err(e) => {
            let message = describe_error(t, &kube::Error::BuildRequest(e));
            return (WatchEnd::Failed(version, message), 0);
        }
    };
    request.extensions_mut().insert("watch");
    // One gzip member per event (Kubernetes >= 1.37) would need a multi-member decoder.
    request.headers_mut().insert(
        hyper::header::ACCEPT_ENCODING,
        hyper::header::HeaderValue::from_static("identity"),
    );
    let stream = match client.request_stream(request).await {
        Ok(body) => watch_events(body),
        Err(kube::Error::Api(status)) if status.code == 410 => return (WatchEnd::Gone, 0),
        Err(e) => {
            let message = describe_error(t, &e);
            return (WatchEnd::Failed(version, message), 0);
        }
    };
    health.up(&t.source);
    let mut stream = std::pin::pin!(stream);
    let mut delivered = 0;
    // Reused for every batch: a fresh large buffer per batch, freed right after, made glibc
    // consolidate its free lists each time.
    let mut changes: Vec<Change> = Vec::new();
    loop {
        let mut next = match tokio::time::timeout(WATCH_IDLE, stream.next()).await {
            Ok(Some(item)) => Some(item),
            Ok(None) => return (WatchEnd::Resume(version), delivered),
            Err(_) => {
                tracing::debug!(source = %t.source, "watch idle too long; reconnecting");
                return (WatchEnd::Resume(version), delivered);
            }
        };
        let mut end = None;
        let mut taken = 0;
        // Take what has already arrived, up to a batch, to apply it under one lock.
        while let Some(item) = next.take() {
            delivered += 1;
            taken += 1;
            match item {
                Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)) => {
                    version = resource_version(&o).unwrap_or(version);
                    changes.extend(t.change(&t.typed(o)));
                }
                Ok(WatchEvent::Deleted(o)) => {
                    version = resource_version(&o).unwrap_or(version);
                    changes.extend(t.deletion(&o));
                }
                Ok(WatchEvent::Bookmark(b)) => version = b.metadata.resource_version,
                Ok(WatchEvent::Error(status)) if status.code == 410 => {
                    end = Some(WatchEnd::Gone);
                    break;
                }
                Ok(WatchEvent::Error(status)) => {
                    let message = describe_error(t, &kube::Error::Api(status));
                    end = Some(WatchEnd::Failed(version.clone(), message));
                    break;
                }
                Err(e) => {
                    end = Some(WatchEnd::Failed(version.clone(), describe_error(t, &e)));
                    break;
                }
            }
            if taken < APPLY_BATCH {
                match stream.next().now_or_never() {
                    Some(Some(item)) => next = Some(item),
                    Some(None) => end = Some(WatchEnd::Resume(version.clone())),
                    None => {}
                }
            }
        }
        if !changes.is_empty() {
            health.events(&t.source, changes.len() as u64);
            if let Ok(mut inv) = inventory.write() {
                for change in changes.drain(..) {
                    change.apply(&mut inv);
                }
            }
            changes.clear();
        }
        if let Some(end) = end {
            return (end, delivered);
        }
    }
}

/// The events of a watch response: one JSON document per line, read into one reused buffer.
/// (kube's own decoder allocates a fresh string per event; at thousands of events per second
/// those large allocations kept glibc's allocator consolidating its free lists, a fifth of
/// the CPU time.)
fn watch_events(
    body: impl AsyncBufRead + Unpin,
) -> impl futures::Stream<Item = Result<WatchEvent<Value>, kube::Error>> {
    futures::stream::unfold(Some((body, Vec::with_capacity(16 * 1024))), |state| async {
        let (mut body, mut line) = state?;
        loop {
            line.clear();
            match body.read_until(b'\n', &mut line).await {
                Ok(0) => return None,
                Ok(_) if line.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(_) => {
                    let event = serde_json::from_slice::<WatchEvent<Value>>(&line).map_err(|e| {
                        // A failing apiserver may answer a Status instead of an event.
                        match serde_json::from_slice::<kube::core::Status>(&line) {
                            Ok(status) => kube::Error::Api(Box::new(status)),
                            Err(_) => kube::Error::SerdeError(e),
                        }
                    });
                    return Some((event, Some((body, line))));
                }
                Err(e) => return Some((Err(kube::Error::ReadEvents(e)), None)),
            }
        }
    })
}

fn resource_version(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Engine, RecordKind};
    use kube::api::ApiResource;
    use kube::core::GroupVersionKind;
    use serde_json::json;
    use testapiserver::{ResourceType, TestApiServer};

    const SOURCE: &str = "velero/backups";

    fn backup(name: &str) -> Value {
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
               "metadata": {"name": name, "namespace": "velero",
                            "managedFields": [{"manager": "velero"}]},
               "spec": {"storageLocation": "default"},
               "status": {"phase": "Completed"}})
    }

    /// A server holding `objects` as Velero Backups, a client of it, and the target of them.
    async fn cluster(objects: impl IntoIterator<Item = Value>) -> (TestApiServer, Client, Target) {
        let server = TestApiServer::start()
            .await
            .expect("start the test API server");
        server.register(ResourceType::new(
            "velero.io",
            "v1",
            "Backup",
            "backups",
            true,
        ));
        for obj in objects {
            server.apply(obj).expect("store an object");
        }
        let kubeconfig =
            kube::config::Kubeconfig::from_yaml(&server.kubeconfig_yaml("t")).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("config");
        let client =
            super::super::kube::bounded_client(config, Duration::from_secs(10)).expect("client");
        let target = Target {
            source: SOURCE.into(),
            resource: ApiResource::from_gvk_with_plural(
                &GroupVersionKind::gvk("velero.io", "v1", "Backup"),
                "backups",
            ),
            namespace: "velero".into(),
            labels: None,
            fields: None,
            kind: RecordKind::Backup,
            engine: Some(Engine::Velero),
        };
        (server, client, target)
    }

    fn names(inv: &Inventory) -> Vec<String> {
        let mut names: Vec<_> = inv
            .keys(RecordKind::Backup, Some(Engine::Velero))
            .into_iter()
            .map(|k| k.name)
            .collect();
        names.sort();
        names
    }

    /// Pages of 7 over 23 objects, some of them unreadable: what can be read is applied, the
    /// rest is skipped without failing the list, and an object the list no longer holds goes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_relist_over_several_pages_skips_unreadable_objects_and_removes_ghosts() {
        let mut objects: Vec<Value> = (0..20).map(|i| backup(&format!("b-{i:02}"))).collect();
        let mut broken = backup("broken-status");
        broken["status"] = json!("not an object");
        objects.push(broken);
        let mut broken = backup("broken-spec");
        broken["spec"] = json!([1, 2, {"storageLocation": 5}]);
        objects.push(broken);
        let mut broken = backup("broken-labels");
        broken["metadata"]["labels"] = json!("x");
        objects.push(broken);
        let (server, client, t) = cluster(objects).await;

        let inventory = RwLock::new(Inventory::new());
        let ghost = t.change(&backup("ghost")).expect("a readable object");
        ghost.apply(&mut inventory.write().expect("lock"));
        let health = SourceHealth::new();
        health.register(SOURCE);

        let version = match relist(&client, &t, 7, &inventory, &health).await {
            Ok(v) => v,
            Err(ListError::Gone) => panic!("the list expired"),
            Err(ListError::Failed(e)) => panic!("the list failed: {e}"),
        };
        assert_eq!(version, server.current_resource_version().to_string());
        assert_eq!(health.snapshot()[SOURCE].events, 23, "every item counted");
        assert_eq!(
            server.stats().requests("list"),
            4,
            "23 objects in pages of 7"
        );

        // What the one-shot path (every object mapped alone) makes of the server's objects.
        let mut want = Inventory::new();
        for obj in server.list_objects("velero.io/v1", "Backup") {
            if let Some(change) = t.change(&t.typed(obj)) {
                change.apply(&mut want);
            }
        }
        let held = names(&inventory.read().expect("lock"));
        assert_eq!(held, names(&want));
        assert!(!held.contains(&"ghost".to_string()));
        assert!(held.contains(&"b-19".to_string()));
        server.shutdown().await;
    }

    /// A continue token that expires between pages (a compaction while the list is read) is
    /// a 410 on a continuation, which `relist` turns into "list again", not into a failure.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_continuation_that_expires_is_told_apart() {
        let (server, client, t) = cluster((0..20).map(|i| backup(&format!("b-{i:02}")))).await;
        let (mut objects, mut pages) = (0, 0);
        let listed = list_pages(&client, &t, 7, |listed| match listed {
            Listed::Object(o) => {
                assert!(o["metadata"].get("managedFields").is_none());
                objects += 1;
            }
            Listed::PageEnd => {
                pages += 1;
                server.apply(backup("new")).expect("store an object");
                server.compact();
            }
        })
        .await;
        assert_eq!((objects, pages), (7, 1));
        match list_outcome(&t, listed) {
            Err(ListError::Gone) => {}
            Err(ListError::Failed(e)) => panic!("the expiry read as a failure: {e}"),
            Ok(v) => panic!("the list ended at version {v}"),
        }
        // The same 410 on a first page is a failure: there is no token to have expired.
        let first = Err((
            kube::Error::Api(Box::new(
                kube::core::Status::failure("gone", "Expired").with_code(410),
            )),
            false,
        ));
        assert!(
            matches!(list_outcome(&t, first), Err(ListError::Failed(e)) if e.contains("HTTP 410"))
        );
        server.shutdown().await;
    }
}
