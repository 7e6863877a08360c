//! The server handle: start, the fixture API, faults, shutdown.

use crate::error::Error;
use crate::faults::{Counters, Faults, Stats};
use crate::resource::{ResourceType, builtins};
use crate::store::Store;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// Default Kubernetes version served at `/version`.
const DEFAULT_VERSION: &str = "v1.33.0";

/// Default capacity of each watch's event buffer; a watcher that lets more pile up is closed.
const DEFAULT_WATCH_BUFFER: usize = 10_000;

/// Objects applied under one lock acquisition by `apply_many`, so HTTP readers still get in.
const APPLY_BATCH: usize = 1024;

/// State shared by the handle and every request handler.
pub(crate) struct Shared {
    store: RwLock<Store>,
    faults: Mutex<Faults>,
    version: Mutex<String>,
    pub(crate) counters: Counters,
    /// Bumped by `drop_watches`; every open watch stream ends when it changes.
    pub(crate) epoch: watch::Sender<u64>,
    pub(crate) watch_buffer: AtomicUsize,
    pub(crate) shutting_down: AtomicBool,
    pub(crate) addr: SocketAddr,
}

impl Shared {
    // A panic elsewhere must not wedge every later request: the data stays consistent
    // because each write is applied completely before the guard drops.
    pub(crate) fn store(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn version(&self) -> String {
        self.version
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn drop_watches(&self) {
        self.epoch.send_modify(|e| *e += 1);
        self.store_mut().drop_watchers();
    }
}

/// Stops the server when the last handle goes away.
struct Lifetime {
    shared: Arc<Shared>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Lifetime {
    fn signal_stop(&self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        self.shared.drop_watches();
        if let Some(tx) = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = tx.send(());
        }
    }
}

impl Drop for Lifetime {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

/// A Kubernetes API server on `127.0.0.1`, in this process, holding its objects in memory.
///
/// Clones share one server. It stops when the last clone is dropped or on
/// [`shutdown`](Self::shutdown).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use testapiserver::{ResourceType, TestApiServer};
/// let server = TestApiServer::start().await?;
/// server.register(ResourceType::new(
///     "csdr.alibabacloud.com", "v1beta1", "ApplicationBackup", "applicationbackups", true,
/// ));
/// server.apply(serde_json::json!({
///     "apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
///     "metadata": {"name": "daily-1", "namespace": "csdr"},
///     "status": {"phase": "Completed"},
/// }))?;
/// let kubeconfig = server.kubeconfig_yaml("test");
/// # let _ = kubeconfig;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TestApiServer {
    shared: Arc<Shared>,
    lifetime: Arc<Lifetime>,
}

impl std::fmt::Debug for TestApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApiServer")
            .field("url", &self.url())
            .finish()
    }
}

impl TestApiServer {
    /// Binds `127.0.0.1` on a free port and serves in a background task of the current
    /// Tokio runtime. Registers the built-in resources: core/v1 pods, events, namespaces,
    /// secrets, configmaps; apps/v1 deployments, daemonsets; coordination.k8s.io/v1 leases;
    /// events.k8s.io/v1 events.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Like [`start`](Self::start), on a chosen address: a test can hand a client the address
    /// first and start the server later, as an API server that comes back after an outage.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        // Different servers in one process hand out different uids.
        let seed = crate::meta::splitmix(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
                ^ u64::from(addr.port()),
        );
        let mut store = Store::new(seed);
        for rt in builtins() {
            store.register(rt);
        }
        let (epoch, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            store: RwLock::new(store),
            faults: Mutex::new(Faults::default()),
            version: Mutex::new(DEFAULT_VERSION.to_string()),
            counters: Counters::default(),
            epoch,
            watch_buffer: AtomicUsize::new(DEFAULT_WATCH_BUFFER),
            shutting_down: AtomicBool::new(false),
            addr,
        });
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let app = crate::http::router(shared.clone());
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            });
            if let Err(error) = serve.await {
                report_error(&format!("testapiserver stopped with an error: {error}"));
            }
        });
        let lifetime = Arc::new(Lifetime {
            shared: shared.clone(),
            stop: Mutex::new(Some(stop_tx)),
            task: Mutex::new(Some(task)),
        });
        Ok(Self { shared, lifetime })
    }

    /// Base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// A kubeconfig whose current context `context` points at this server without
    /// credentials, default namespace `default`.
    pub fn kubeconfig_yaml(&self, context: &str) -> String {
        Self::kubeconfig_for(self.shared.addr, context)
    }

    /// [`kubeconfig_yaml`](Self::kubeconfig_yaml) for a server that will listen on `addr`
    /// (see [`start_on`](Self::start_on)).
    pub fn kubeconfig_for(addr: SocketAddr, context: &str) -> String {
        // JSON strings are valid YAML scalars, so any context name is quoted safely.
        let name = Value::String(context.to_string()).to_string();
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: {name}\n  cluster:\n    server: http://{addr}\n\
             contexts:\n\
             - name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n    namespace: default\n\
             current-context: {name}\n\
             users:\n\
             - name: {name}\n  user: {{}}\n\
             preferences: {{}}\n",
        )
    }

    /// Serves another resource (e.g. a CRD), visible to discovery at once. Registering the
    /// same group/version/plural again replaces its description and keeps its objects.
    pub fn register(&self, rt: ResourceType) {
        self.shared.store_mut().register(rt);
    }

    /// Sets the `gitVersion` served at `/version` (major and minor are derived from it).
    pub fn set_version(&self, git_version: &str) {
        *self
            .shared
            .version
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = git_version.to_string();
    }

    fn resource_of(store: &Store, obj: &Value) -> Result<usize, Error> {
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        store
            .registry
            .by_kind(api_version, kind)
            .ok_or_else(|| Error::UnknownKind {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
            })
    }

    /// Creates or replaces the object named by its `apiVersion`, `kind`,
    /// `metadata.namespace` and `metadata.name`, without preconditions. Sets uid,
    /// creationTimestamp and generation when missing (keeping the stored ones on replace)
    /// and always a new resourceVersion. Watchers see ADDED or MODIFIED. Returns the
    /// stored object.
    pub fn apply(&self, obj: Value) -> Result<Value, Error> {
        let mut store = self.shared.store_mut();
        let idx = Self::resource_of(&store, &obj)?;
        Ok((*store.upsert(idx, obj)?).clone())
    }

    /// [`apply`](Self::apply) for many objects, taking the lock once per batch. Stops at the
    /// first invalid object (those before it stay applied). Returns how many were applied.
    pub fn apply_many(&self, objs: impl IntoIterator<Item = Value>) -> Result<usize, Error> {
        let mut applied = 0;
        let mut iter = objs.into_iter().peekable();
        while iter.peek().is_some() {
            let mut store = self.shared.store_mut();
            for obj in iter.by_ref().take(APPLY_BATCH) {
                let idx = Self::resource_of(&store, &obj)?;
                store.upsert(idx, obj)?;
                applied += 1;
            }
        }
        Ok(applied)
    }

    /// Deletes an object, telling watchers DELETED with a new resourceVersion. Returns the
    /// object as it was, or `None` if it did not exist.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, Error> {
        let mut store = self.shared.store_mut();
        let idx = store
            .registry
            .by_kind(api_version, kind)
            .ok_or_else(|| Error::UnknownKind {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
            })?;
        if store.get(idx, namespace, name).is_none() {
            return Ok(None);
        }
        Ok(Some(
            (*store.delete(idx, namespace, name, None, None)?).clone(),
        ))
    }

    /// The stored object, if any.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let store = self.shared.store();
        let idx = store.registry.by_kind(api_version, kind)?;
        store.get(idx, namespace, name).map(|o| (*o).clone())
    }

    /// Every stored object of one kind, in (namespace, name) order: the server's truth.
    /// Empty if the kind is not registered.
    pub fn list_objects(&self, api_version: &str, kind: &str) -> Vec<Value> {
        let store = self.shared.store();
        match store.registry.by_kind(api_version, kind) {
            Some(idx) => store.all(idx).into_iter().map(|o| (*o).clone()).collect(),
            None => Vec::new(),
        }
    }

    /// The global resourceVersion: bumped by every write, like etcd's revision.
    pub fn current_resource_version(&self) -> u64 {
        self.shared.store().resource_version()
    }

    /// Abruptly ends every open watch stream (pending events are not flushed). Clients
    /// resume from the last resourceVersion they saw.
    pub fn drop_watches(&self) {
        self.shared.drop_watches();
    }

    /// Forgets all history: a watch or list continuation from a resourceVersion older than
    /// the current one gets 410 Expired. Open watches are not affected.
    pub fn compact(&self) {
        self.shared.store_mut().compact();
    }

    /// How many past events are kept for watch replay (default 200 000); older ones are
    /// compacted away, as etcd compaction does.
    pub fn set_history_limit(&self, events: usize) {
        self.shared.store_mut().set_history_limit(events);
    }

    /// Capacity of each new watch's buffer (default 10 000 events). A watcher that falls
    /// further behind has its stream closed and must resume.
    pub fn set_watch_buffer(&self, events: usize) {
        self.shared
            .watch_buffer
            .store(events.max(1), Ordering::Relaxed);
    }

    /// The next `n` requests, on any path, answer HTTP `status` with a `Status` body
    /// (reason chosen as the apiserver would: 500 InternalError, 503 ServiceUnavailable,
    /// 429 TooManyRequests, 410 Expired, ...). Replaces any failures still pending.
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut f = self.shared.faults();
        f.fail_remaining = n;
        f.fail_status = status;
    }

    /// Delay before every response (watches: before the stream starts).
    pub fn set_latency(&self, d: Duration) {
        self.shared.faults().latency = d;
    }

    /// Answers 403 Forbidden for every verb on resources with this plural name (in any
    /// group), or lifts that. Open watches are not affected.
    pub fn forbid(&self, plural: &str, forbidden: bool) {
        toggle(&mut self.shared.faults().forbidden, plural, forbidden);
    }

    /// Accepts every request and never answers it (a hung API server behind a working TCP
    /// stack), or lifts that; requests already hanging answer once it is lifted.
    pub fn set_hang(&self, hang: bool) {
        self.shared.faults().hang = hang;
    }

    /// Discovery of this API group (`/apis/<group>` and its versions) answers 500, as an
    /// aggregated API whose backend is down does; or lifts that. `/apis` still lists it.
    pub fn break_group_discovery(&self, group: &str, broken: bool) {
        toggle(&mut self.shared.faults().broken_groups, group, broken);
    }

    /// Every list answers its first page with the same `continue` token, whatever token the
    /// client sends: a client that follows continue tokens blindly never ends. Or lifts that.
    pub fn set_repeat_continue(&self, repeat: bool) {
        self.shared.faults().repeat_continue = repeat;
    }

    /// Period of BOOKMARK events on watches that allow them (default 1 s; zero disables).
    /// Applies to watches opened afterwards.
    pub fn set_bookmark_interval(&self, d: Duration) {
        self.shared.faults().bookmark_interval = d;
    }

    /// Every distinct (verb, group, resource, namespace) of the resource requests received so
    /// far, including those answered by an injected fault; discovery and `/version` are not
    /// resource requests and are absent.
    pub fn accesses(&self) -> std::collections::BTreeSet<crate::Access> {
        self.shared.counters.accesses()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        let evicted = self.shared.store().evicted_watchers;
        self.shared.counters.snapshot(evicted)
    }

    /// Stops the server now, even if other clones exist: open watches end, new requests
    /// are refused, and this returns once the listener is closed (waiting at most a few
    /// seconds for connections to finish).
    pub async fn shutdown(self) {
        self.lifetime.signal_stop();
        let task = self
            .lifetime
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut task) = task
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

fn toggle(set: &mut std::collections::HashSet<String>, name: &str, on: bool) {
    if on {
        set.insert(name.to_string());
    } else {
        set.remove(name);
    }
}

/// The crate has no logging dependency; a server error only matters when debugging tests.
fn report_error(msg: &str) {
    eprintln!("{msg}");
}
