//! The object store: ordered objects per resource, one global resourceVersion counter, a
//! bounded event log for watch replay, and the registry of open watches.
//!
//! Everything here runs under one lock held by the caller, so a write, its log entry and its
//! fan-out to watchers are atomic with respect to list and watch starts: a watch registered
//! at revision N sees exactly the events after N.

use crate::error::ApiError;
use crate::meta::{ContinueToken, make_uid, meta_mut, meta_str, name_suffix, now_rfc3339};
use crate::resource::{Registry, ResourceType};
use crate::selector::{FieldSelector, LabelSelector};
use axum::body::Bytes;
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc;

/// How many events the log keeps before the oldest are compacted away.
pub(crate) const DEFAULT_HISTORY_LIMIT: usize = 200_000;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    Added,
    Modified,
    Deleted,
}

impl EventKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One committed write, as kept in the log and sent to watchers.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) rv: u64,
    pub(crate) resource: usize,
    pub(crate) kind: EventKind,
    pub(crate) object: Arc<Value>,
    /// The state before a modification, so selector watchers see objects enter and leave.
    pub(crate) old: Option<Arc<Value>>,
    json: OnceLock<Bytes>,
}

impl Event {
    /// The object serialized once, shared by every watcher that receives it.
    pub(crate) fn object_json(&self) -> Bytes {
        self.json
            .get_or_init(|| Bytes::from(serde_json::to_vec(&*self.object).unwrap_or_default()))
            .clone()
    }
}

/// An event as one watcher sees it: the kind can differ from the event's own kind when a
/// modification moves the object into or out of the watcher's selectors.
pub(crate) type Delivery = (EventKind, Arc<Event>);

/// Which objects a list or watch is about.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub(crate) namespace: Option<String>,
    pub(crate) labels: LabelSelector,
    pub(crate) fields: FieldSelector,
}

impl Filter {
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        if let Some(ns) = &self.namespace
            && meta_str(obj, "namespace") != Some(ns.as_str())
        {
            return false;
        }
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    /// What this watcher should be told about `ev`, if anything (the watch cache's rules).
    pub(crate) fn deliver(&self, ev: &Event) -> Option<EventKind> {
        let now = self.matches(&ev.object);
        match ev.kind {
            EventKind::Added | EventKind::Deleted => now.then_some(ev.kind),
            EventKind::Modified => {
                let before = ev.old.as_deref().is_some_and(|o| self.matches(o));
                match (before, now) {
                    (true, true) => Some(EventKind::Modified),
                    (false, true) => Some(EventKind::Added),
                    (true, false) => Some(EventKind::Deleted),
                    (false, false) => None,
                }
            }
        }
    }
}

struct Watcher {
    id: u64,
    filter: Arc<Filter>,
    tx: mpsc::Sender<Delivery>,
}

/// One page of a list.
#[derive(Debug)]
pub(crate) struct ListPage {
    pub(crate) resource_version: u64,
    pub(crate) items: Vec<Arc<Value>>,
    pub(crate) continue_token: Option<String>,
}

/// What a new watch starts with.
pub(crate) struct WatchStart {
    pub(crate) id: u64,
    /// Current objects to announce as synthetic ADDED events (watch from "0" or "").
    pub(crate) initial: Vec<Arc<Value>>,
    /// Logged events after the requested resourceVersion.
    pub(crate) backlog: Vec<Delivery>,
    pub(crate) rx: mpsc::Receiver<Delivery>,
    /// The revision the watch starts at; everything later arrives through `rx`.
    pub(crate) resource_version: u64,
}

/// Who may set identity fields (uid, creationTimestamp, generation) of a written object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    /// The test itself through the Rust API: its values are kept.
    Fixture,
    /// An HTTP client: the server owns these fields, as the apiserver does.
    Client,
}

pub(crate) struct Store {
    pub(crate) registry: Registry,
    objects: Vec<BTreeMap<String, Arc<Value>>>,
    watchers: Vec<Vec<Watcher>>,
    rv: u64,
    log: VecDeque<Arc<Event>>,
    history_limit: usize,
    /// Resource versions below this are gone from the log: watching or continuing from
    /// them answers 410 Expired.
    compacted: u64,
    next_watcher_id: u64,
    uid_seed: u64,
    uid_counter: u64,
    pub(crate) evicted_watchers: u64,
}

/// The key objects are ordered by, as etcd orders `/registry/<resource>/<ns>/<name>`.
pub(crate) fn object_key(rt: &ResourceType, namespace: Option<&str>, name: &str) -> String {
    match (rt.namespaced, namespace) {
        (true, Some(ns)) => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

impl Store {
    pub(crate) fn new(uid_seed: u64) -> Self {
        Self {
            registry: Registry::default(),
            objects: Vec::new(),
            watchers: Vec::new(),
            rv: 1,
            log: VecDeque::new(),
            history_limit: DEFAULT_HISTORY_LIMIT,
            compacted: 0,
            next_watcher_id: 0,
            uid_seed,
            uid_counter: 0,
            evicted_watchers: 0,
        }
    }

    pub(crate) fn register(&mut self, rt: ResourceType) {
        let (_, added) = self.registry.register(rt);
        if added {
            self.objects.push(BTreeMap::new());
            self.watchers.push(Vec::new());
        }
    }

    pub(crate) fn resource_version(&self) -> u64 {
        self.rv
    }

    pub(crate) fn set_history_limit(&mut self, limit: usize) {
        self.history_limit = limit;
        self.trim_log();
    }

    /// Forgets all history: only watches and continues from the current revision work.
    pub(crate) fn compact(&mut self) {
        self.log.clear();
        self.compacted = self.rv;
    }

    fn rt(&self, idx: usize) -> Result<&ResourceType, ApiError> {
        self.registry.get(idx).ok_or_else(ApiError::no_resource)
    }

    pub(crate) fn get(
        &self,
        idx: usize,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Arc<Value>> {
        let rt = self.registry.get(idx)?;
        self.objects
            .get(idx)?
            .get(&object_key(rt, namespace, name))
            .cloned()
    }

    /// All objects of a resource, in key order.
    pub(crate) fn all(&self, idx: usize) -> Vec<Arc<Value>> {
        self.objects
            .get(idx)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Checks and completes an object about to be written to resource `idx`: type meta,
    /// namespace and name consistent with the request.
    fn normalize(
        &mut self,
        idx: usize,
        mut obj: Value,
        path_namespace: Option<&str>,
        path_name: Option<&str>,
        allow_generate_name: bool,
    ) -> Result<(Value, String), ApiError> {
        let rt = self.rt(idx)?.clone();
        let Some(map) = obj.as_object_mut() else {
            return Err(ApiError::bad_request(
                "the request body is not a JSON object",
            ));
        };
        let api_version = rt.api_version();
        for (field, expected) in [("apiVersion", &api_version), ("kind", &rt.kind)] {
            match map.get(field).and_then(Value::as_str) {
                None | Some("") => {
                    map.insert(field.to_string(), json!(expected));
                }
                Some(given) if given != expected => {
                    return Err(ApiError::bad_request(format!(
                        "the {field} of the provided object ({given}) does not match the \
                         expected {field} ({expected})"
                    )));
                }
                Some(_) => {}
            }
        }
        let counter = self.uid_counter;
        let seed = self.uid_seed;
        let meta = meta_mut(&mut obj)
            .ok_or_else(|| ApiError::bad_request("the request body is not a JSON object"))?;
        if rt.namespaced {
            let body_ns = meta
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty());
            match (body_ns, path_namespace) {
                (Some(b), Some(p)) if b != p => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace \
                         sent on the request",
                    ));
                }
                (None, Some(p)) => {
                    meta.insert("namespace".into(), json!(p));
                }
                (None, None) => {
                    return Err(ApiError::invalid(format!(
                        "{} is namespaced: metadata.namespace is required",
                        rt.kind
                    )));
                }
                _ => {}
            }
        } else {
            meta.remove("namespace");
        }
        let body_name = meta
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let name = match (body_name, path_name) {
            (Some(b), Some(p)) if b != p => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({b}) does not match the name on the URL ({p})"
                )));
            }
            (Some(b), _) => b,
            (None, Some(p)) => {
                meta.insert("name".into(), json!(p));
                p.to_string()
            }
            (None, None) => {
                let prefix = meta
                    .get("generateName")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty() && allow_generate_name);
                let Some(prefix) = prefix else {
                    return Err(ApiError::invalid(format!(
                        "{} is invalid: metadata.name: Required value: name or generateName is \
                         required",
                        rt.kind
                    )));
                };
                let name = format!("{prefix}{}", name_suffix(seed, counter));
                meta.insert("name".into(), json!(name));
                name
            }
        };
        Ok((obj, name))
    }

    fn next_uid(&mut self) -> String {
        self.uid_counter += 1;
        make_uid(self.uid_seed, self.uid_counter)
    }

    /// Creates an object; 409 AlreadyExists if the key is taken.
    pub(crate) fn create(
        &mut self,
        idx: usize,
        obj: Value,
        path_namespace: Option<&str>,
        writer: Writer,
    ) -> Result<Arc<Value>, ApiError> {
        let (mut obj, name) = self.normalize(idx, obj, path_namespace, None, true)?;
        let rt = self.rt(idx)?.clone();
        let ns = meta_str(&obj, "namespace").map(str::to_string);
        let key = object_key(&rt, ns.as_deref(), &name);
        if self.objects[idx].contains_key(&key) {
            return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
        }
        let uid = self.next_uid();
        let rv = self.rv + 1;
        if let Some(meta) = meta_mut(&mut obj) {
            let keep = writer == Writer::Fixture;
            if !(keep
                && meta
                    .get("uid")
                    .is_some_and(|u| u.as_str().is_some_and(|s| !s.is_empty())))
            {
                meta.insert("uid".into(), json!(uid));
            }
            if !(keep && meta.contains_key("creationTimestamp")) {
                meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
            }
            if rt.has_generation() && !(keep && meta.contains_key("generation")) {
                meta.insert("generation".into(), json!(1));
            }
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        let obj = Arc::new(obj);
        self.commit(idx, key, EventKind::Added, obj.clone(), None);
        Ok(obj)
    }

    /// Replaces an existing object. With `check_rv`, a non-empty `metadata.resourceVersion`
    /// must equal the stored one (optimistic concurrency), else 409 Conflict.
    pub(crate) fn replace(
        &mut self,
        idx: usize,
        obj: Value,
        path_namespace: Option<&str>,
        path_name: Option<&str>,
        writer: Writer,
    ) -> Result<Arc<Value>, ApiError> {
        let (mut obj, name) = self.normalize(idx, obj, path_namespace, path_name, false)?;
        let rt = self.rt(idx)?.clone();
        let ns = meta_str(&obj, "namespace").map(str::to_string);
        let key = object_key(&rt, ns.as_deref(), &name);
        let Some(old) = self.objects[idx].get(&key).cloned() else {
            return Err(ApiError::not_found(&rt.group, &rt.plural, &name));
        };
        if writer == Writer::Client {
            let given = meta_str(&obj, "resourceVersion").filter(|s| !s.is_empty());
            if given.is_some_and(|g| Some(g) != meta_str(&old, "resourceVersion")) {
                return Err(ApiError::conflict(&rt.group, &rt.plural, &name));
            }
        }
        let rv = self.rv + 1;
        let changed = spec_changed(&old, &obj);
        let old_generation = old
            .get("metadata")
            .and_then(|m| m.get("generation"))
            .and_then(Value::as_i64)
            .unwrap_or(1);
        if let Some(meta) = meta_mut(&mut obj) {
            let keep = writer == Writer::Fixture;
            for field in ["uid", "creationTimestamp"] {
                if !(keep && meta.contains_key(field))
                    && let Some(v) = old.get("metadata").and_then(|m| m.get(field))
                {
                    meta.insert(field.into(), v.clone());
                }
            }
            if rt.has_generation() && !(keep && meta.contains_key("generation")) {
                let generation = if changed {
                    old_generation + 1
                } else {
                    old_generation
                };
                meta.insert("generation".into(), json!(generation));
            }
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
        }
        let obj = Arc::new(obj);
        self.commit(idx, key, EventKind::Modified, obj.clone(), Some(old));
        Ok(obj)
    }

    /// Create-or-replace without preconditions, for the fixture's `apply`.
    pub(crate) fn upsert(&mut self, idx: usize, obj: Value) -> Result<Arc<Value>, ApiError> {
        let rt = self.rt(idx)?.clone();
        let ns = meta_str(&obj, "namespace").filter(|s| !s.is_empty());
        let name = meta_str(&obj, "name").filter(|s| !s.is_empty());
        let exists = name.is_some_and(|n| self.objects[idx].contains_key(&object_key(&rt, ns, n)));
        if exists {
            self.replace(idx, obj, None, None, Writer::Fixture)
        } else {
            self.create(idx, obj, None, Writer::Fixture)
        }
    }

    /// Deletes an object; returns it as last seen, with the deletion's resourceVersion.
    pub(crate) fn delete(
        &mut self,
        idx: usize,
        namespace: Option<&str>,
        name: &str,
        precondition_rv: Option<&str>,
        precondition_uid: Option<&str>,
    ) -> Result<Arc<Value>, ApiError> {
        let rt = self.rt(idx)?.clone();
        let key = object_key(&rt, namespace, name);
        let Some(old) = self.objects[idx].get(&key).cloned() else {
            return Err(ApiError::not_found(&rt.group, &rt.plural, name));
        };
        if precondition_rv.is_some_and(|p| Some(p) != meta_str(&old, "resourceVersion")) {
            return Err(ApiError::conflict(&rt.group, &rt.plural, name));
        }
        if precondition_uid.is_some_and(|p| Some(p) != meta_str(&old, "uid")) {
            return Err(ApiError::conflict(&rt.group, &rt.plural, name));
        }
        let mut gone = (*old).clone();
        if let Some(meta) = meta_mut(&mut gone) {
            meta.insert("resourceVersion".into(), json!((self.rv + 1).to_string()));
        }
        let gone = Arc::new(gone);
        self.commit(idx, key, EventKind::Deleted, gone.clone(), Some(old));
        Ok(gone)
    }

    /// Applies a write: bumps the revision, updates the map, logs the event and offers it to
    /// every watcher of the resource. A watcher whose buffer is full is dropped: its stream
    /// ends and the client resumes from the last event it saw, as with the real watch cache.
    fn commit(
        &mut self,
        idx: usize,
        key: String,
        kind: EventKind,
        object: Arc<Value>,
        old: Option<Arc<Value>>,
    ) {
        self.rv += 1;
        match kind {
            EventKind::Deleted => {
                self.objects[idx].remove(&key);
            }
            EventKind::Added | EventKind::Modified => {
                self.objects[idx].insert(key, object.clone());
            }
        }
        let event = Arc::new(Event {
            rv: self.rv,
            resource: idx,
            kind,
            object,
            old: if kind == EventKind::Modified {
                old
            } else {
                None
            },
            json: OnceLock::new(),
        });
        let mut evicted = 0;
        self.watchers[idx].retain(|w| match w.filter.deliver(&event) {
            None => true,
            Some(k) => match w.tx.try_send((k, event.clone())) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    evicted += 1;
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            },
        });
        self.evicted_watchers += evicted;
        self.log.push_back(event);
        self.trim_log();
    }

    fn trim_log(&mut self) {
        while self.log.len() > self.history_limit {
            if let Some(old) = self.log.pop_front() {
                self.compacted = self.compacted.max(old.rv);
            }
        }
        if self.history_limit == 0 {
            self.compacted = self.rv;
        }
    }

    /// One page of objects in key order, filtered. A continue token resumes after its key at
    /// its own resourceVersion (410 if that was compacted). Later pages read current state:
    /// the apiserver serves a snapshot, but since the list reports the first page's revision,
    /// a watch started from it replays whatever changed in between.
    pub(crate) fn list(
        &self,
        idx: usize,
        filter: &Filter,
        limit: Option<usize>,
        cont: Option<&ContinueToken>,
    ) -> Result<ListPage, ApiError> {
        let map = self.objects.get(idx).ok_or_else(ApiError::no_resource)?;
        let resource_version = match cont {
            Some(c) if c.resource_version < self.compacted => {
                return Err(ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list \
                     result. You can start a new list without the continue parameter.",
                ));
            }
            Some(c) => c.resource_version,
            None => self.rv,
        };
        let prefix = filter.namespace.as_ref().map(|ns| format!("{ns}/"));
        let lower = match (cont, &prefix) {
            (Some(c), Some(p)) if c.start_after.as_str() < p.as_str() => Bound::Included(p.clone()),
            (Some(c), _) => Bound::Excluded(c.start_after.clone()),
            (None, Some(p)) => Bound::Included(p.clone()),
            (None, None) => Bound::Unbounded,
        };
        let limit = limit.filter(|l| *l > 0);
        let mut items = Vec::new();
        let mut last_key: Option<&String> = None;
        let mut more = false;
        for (key, obj) in map.range((lower, Bound::Unbounded)) {
            if prefix
                .as_ref()
                .is_some_and(|p| !key.starts_with(p.as_str()))
            {
                break;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                more = true;
                break;
            }
            if filter.labels.matches(obj) && filter.fields.matches(obj) {
                items.push(obj.clone());
                last_key = Some(key);
            }
        }
        let continue_token = match (more, last_key) {
            (true, Some(key)) => Some(
                ContinueToken {
                    resource_version,
                    start_after: key.clone(),
                }
                .encode(),
            ),
            _ => None,
        };
        Ok(ListPage {
            resource_version,
            items,
            continue_token,
        })
    }

    /// Registers a watch. `from: None` starts at the current revision with the current
    /// objects as synthetic ADDED events; `from: Some(n)` replays logged events after `n`,
    /// or fails with 410 Expired if they were compacted away.
    pub(crate) fn start_watch(
        &mut self,
        idx: usize,
        filter: Arc<Filter>,
        from: Option<u64>,
        buffer: usize,
    ) -> Result<WatchStart, ApiError> {
        let map = self.objects.get(idx).ok_or_else(ApiError::no_resource)?;
        let mut initial = Vec::new();
        let mut backlog = Vec::new();
        match from {
            None => {
                let prefix = filter.namespace.as_ref().map(|ns| format!("{ns}/"));
                let lower = match &prefix {
                    Some(p) => Bound::Included(p.clone()),
                    None => Bound::Unbounded,
                };
                for (key, obj) in map.range((lower, Bound::Unbounded)) {
                    if prefix
                        .as_ref()
                        .is_some_and(|p| !key.starts_with(p.as_str()))
                    {
                        break;
                    }
                    if filter.matches(obj) {
                        initial.push(obj.clone());
                    }
                }
            }
            Some(n) if n < self.compacted => {
                return Err(ApiError::expired(format!(
                    "too old resource version: {n} ({})",
                    self.compacted
                )));
            }
            Some(n) => {
                let first = self.log.partition_point(|e| e.rv <= n);
                for ev in self.log.range(first..) {
                    if ev.resource == idx
                        && let Some(kind) = filter.deliver(ev)
                    {
                        backlog.push((kind, ev.clone()));
                    }
                }
            }
        }
        let (tx, rx) = mpsc::channel(buffer.max(1));
        self.next_watcher_id += 1;
        let id = self.next_watcher_id;
        self.watchers[idx].push(Watcher { id, filter, tx });
        Ok(WatchStart {
            id,
            initial,
            backlog,
            rx,
            resource_version: self.rv,
        })
    }

    pub(crate) fn remove_watcher(&mut self, idx: usize, id: u64) {
        if let Some(ws) = self.watchers.get_mut(idx) {
            ws.retain(|w| w.id != id);
        }
    }

    /// Closes every watch channel.
    pub(crate) fn drop_watchers(&mut self) {
        for ws in &mut self.watchers {
            ws.clear();
        }
    }
}

/// Whether anything outside metadata and status changed (what bumps `generation`).
fn spec_changed(old: &Value, new: &Value) -> bool {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return true;
    };
    let relevant = |k: &&String| !matches!(k.as_str(), "metadata" | "status");
    let old_keys = old.keys().filter(relevant).count();
    let new_keys = new.keys().filter(relevant).count();
    old_keys != new_keys
        || new
            .iter()
            .filter(|(k, _)| relevant(k))
            .any(|(k, v)| old.get(k) != Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::builtins;

    fn store() -> Store {
        let mut s = Store::new(7);
        for rt in builtins() {
            s.register(rt);
        }
        s
    }

    fn pod(ns: &str, name: &str, labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns, "labels": labels},
               "spec": {"containers": []}})
    }

    const PODS: usize = 0;
    /// `apps/v1` Deployment, the sixth built-in.
    const DEPLOYMENTS: usize = 5;

    #[test]
    fn create_assigns_metadata_and_conflicts() {
        let mut s = store();
        let p = s
            .create(PODS, pod("a", "p1", json!({})), None, Writer::Client)
            .unwrap();
        assert_eq!(meta_str(&p, "resourceVersion"), Some("2"));
        assert!(meta_str(&p, "uid").is_some());
        assert!(meta_str(&p, "creationTimestamp").is_some());
        let err = s
            .create(PODS, pod("a", "p1", json!({})), None, Writer::Client)
            .unwrap_err();
        assert_eq!((err.code, err.reason), (409, "AlreadyExists"));
        assert_eq!(s.resource_version(), 2);
    }

    #[test]
    fn replace_checks_resource_version_and_bumps_generation() {
        let mut s = store();
        s.create(PODS, pod("a", "p1", json!({})), None, Writer::Client)
            .unwrap();
        let mut stale = pod("a", "p1", json!({}));
        stale["metadata"]["resourceVersion"] = json!("1");
        let err = s
            .replace(PODS, stale, Some("a"), Some("p1"), Writer::Client)
            .unwrap_err();
        assert_eq!((err.code, err.reason), (409, "Conflict"));
        let mut fresh = pod("a", "p1", json!({}));
        fresh["metadata"]["resourceVersion"] = json!("2");
        fresh["spec"] = json!({"containers": [{"name": "c"}]});
        let p = s
            .replace(PODS, fresh, Some("a"), Some("p1"), Writer::Client)
            .unwrap();
        // Pods carry no generation (a 1.33 apiserver without PodObservedGenerationTracking).
        assert_eq!(p["metadata"].get("generation"), None);
        assert_eq!(meta_str(&p, "resourceVersion"), Some("3"));
        // A Deployment's generation counts its spec changes.
        let deployment = |replicas: u64| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "namespace": "a"}, "spec": {"replicas": replicas}})
        };
        let d = s
            .create(DEPLOYMENTS, deployment(1), None, Writer::Client)
            .unwrap();
        assert_eq!(d["metadata"]["generation"], json!(1));
        let d = s
            .replace(
                DEPLOYMENTS,
                deployment(2),
                Some("a"),
                Some("d"),
                Writer::Client,
            )
            .unwrap();
        assert_eq!(d["metadata"]["generation"], json!(2));
    }

    #[test]
    fn namespace_and_name_rules() {
        let mut s = store();
        let err = s
            .create(PODS, pod("a", "p", json!({})), Some("b"), Writer::Client)
            .unwrap_err();
        assert_eq!(err.code, 400);
        let no_ns = json!({"metadata": {"name": "x"}});
        assert_eq!(
            s.create(PODS, no_ns, None, Writer::Fixture)
                .unwrap_err()
                .code,
            422
        );
        let gen_name = json!({"metadata": {"generateName": "x-"}});
        let p = s.create(PODS, gen_name, Some("a"), Writer::Client).unwrap();
        assert!(meta_str(&p, "name").is_some_and(|n| n.starts_with("x-") && n.len() == 7));
        let wrong_kind = json!({"kind": "Secret", "metadata": {"name": "x", "namespace": "a"}});
        assert_eq!(
            s.create(PODS, wrong_kind, None, Writer::Client)
                .unwrap_err()
                .code,
            400
        );
    }

    #[test]
    fn pagination_and_selectors() {
        let mut s = store();
        for i in 0..25 {
            let ns = if i % 2 == 0 { "even" } else { "odd" };
            let labels = json!({"i": i.to_string(), "parity": ns});
            s.create(
                PODS,
                pod(ns, &format!("p{i:02}"), labels),
                None,
                Writer::Fixture,
            )
            .unwrap();
        }
        let mut all = Vec::new();
        let mut cont = None;
        for _ in 0..10 {
            let page = s
                .list(PODS, &Filter::default(), Some(10), cont.as_ref())
                .unwrap();
            all.extend(page.items);
            match page.continue_token {
                Some(t) => cont = ContinueToken::decode(&t),
                None => break,
            }
        }
        assert_eq!(all.len(), 25);
        let filter = Filter {
            namespace: Some("odd".into()),
            labels: LabelSelector::parse("i in (1,3,5,24)").unwrap(),
            ..Default::default()
        };
        let page = s.list(PODS, &filter, None, None).unwrap();
        let names: Vec<_> = page
            .items
            .iter()
            .filter_map(|o| meta_str(o, "name"))
            .collect();
        assert_eq!(names, ["p01", "p03", "p05"]);
    }

    #[test]
    fn compaction_expires_old_versions() {
        let mut s = store();
        s.create(PODS, pod("a", "p1", json!({})), None, Writer::Fixture)
            .unwrap();
        let page = s.list(PODS, &Filter::default(), Some(1), None).unwrap();
        assert!(page.continue_token.is_none());
        let token = ContinueToken {
            resource_version: 1,
            start_after: String::new(),
        };
        s.create(PODS, pod("a", "p2", json!({})), None, Writer::Fixture)
            .unwrap();
        s.compact();
        let err = s
            .list(PODS, &Filter::default(), Some(1), Some(&token))
            .unwrap_err();
        assert_eq!((err.code, err.reason), (410, "Expired"));
        let f = Arc::new(Filter::default());
        assert_eq!(
            s.start_watch(PODS, f.clone(), Some(2), 8)
                .err()
                .map(|e| e.code),
            Some(410)
        );
        assert!(
            s.start_watch(PODS, f, Some(s.resource_version()), 8)
                .is_ok()
        );
    }

    #[test]
    fn history_limit_moves_compaction_point() {
        let mut s = store();
        s.set_history_limit(2);
        for i in 0..5 {
            s.create(
                PODS,
                pod("a", &format!("p{i}"), json!({})),
                None,
                Writer::Fixture,
            )
            .unwrap();
        }
        // Revisions 2..=6 were written; the log keeps 5 and 6.
        let f = Arc::new(Filter::default());
        assert!(s.start_watch(PODS, f.clone(), Some(3), 8).is_err());
        let w = s.start_watch(PODS, f, Some(4), 8).unwrap();
        assert_eq!(w.backlog.len(), 2);
    }

    #[test]
    fn watchers_see_selector_transitions_and_slow_ones_are_dropped() {
        let mut s = store();
        let filter = Arc::new(Filter {
            labels: LabelSelector::parse("app=x").unwrap(),
            ..Default::default()
        });
        let mut w = s.start_watch(PODS, filter, None, 2).unwrap();
        s.create(
            PODS,
            pod("a", "p", json!({"app": "y"})),
            None,
            Writer::Fixture,
        )
        .unwrap();
        s.upsert(PODS, pod("a", "p", json!({"app": "x"}))).unwrap();
        s.upsert(PODS, pod("a", "p", json!({"app": "z"}))).unwrap();
        let kinds: Vec<_> = std::iter::from_fn(|| w.rx.try_recv().ok())
            .map(|(k, _)| k)
            .collect();
        assert_eq!(kinds, [EventKind::Added, EventKind::Deleted]);
        s.upsert(PODS, pod("a", "p", json!({"app": "x"}))).unwrap();
        s.upsert(PODS, pod("a", "p", json!({"app": "x", "b": "1"})))
            .unwrap();
        s.upsert(PODS, pod("a", "p", json!({"app": "x", "b": "2"})))
            .unwrap();
        assert_eq!(s.evicted_watchers, 1);
        assert!(s.watchers[PODS].is_empty());
    }

    #[test]
    fn delete_reports_new_resource_version() {
        let mut s = store();
        s.create(PODS, pod("a", "p", json!({})), None, Writer::Fixture)
            .unwrap();
        let err = s.delete(PODS, Some("a"), "p", Some("1"), None).unwrap_err();
        assert_eq!(err.code, 409);
        let gone = s.delete(PODS, Some("a"), "p", None, None).unwrap();
        assert_eq!(meta_str(&gone, "resourceVersion"), Some("3"));
        assert!(s.get(PODS, Some("a"), "p").is_none());
        assert_eq!(
            s.delete(PODS, Some("a"), "p", None, None).unwrap_err().code,
            404
        );
    }
}
