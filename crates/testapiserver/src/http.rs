//! The HTTP side: route a request to discovery or a resource verb, apply injected faults,
//! and answer JSON or `metav1.Status` as the apiserver does.

use crate::discovery;
use crate::error::ApiError;
use crate::faults::Verb;
use crate::meta::{ContinueToken, merge_patch, meta_mut};
use crate::resource::{Registry, ResourceType};
use crate::selector::{FieldSelector, LabelSelector};
use crate::server::Shared;
use crate::store::{Filter, ListPage, Writer};
use crate::watch::{self, WatchRequest, partial_metadata};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Watch length when the client gives no `timeoutSeconds` (the apiserver picks 30-60 min).
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// A resource URL, split into its parts.
#[derive(Debug, Clone, PartialEq)]
struct ResourcePath<'p> {
    group: &'p str,
    version: &'p str,
    namespace: Option<&'p str>,
    plural: &'p str,
    name: Option<&'p str>,
    subresource: Option<&'p str>,
}

#[derive(Debug, Clone, PartialEq)]
enum Route<'p> {
    Version,
    Health,
    CoreRoot,
    CoreVersion(&'p str),
    ApisRoot,
    Group(&'p str),
    GroupVersion(&'p str, &'p str),
    Resource(ResourcePath<'p>),
    Unknown,
}

fn parse_route<'p>(path: &'p str, reg: &Registry) -> Route<'p> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "livez" | "readyz"] => Route::Health,
        ["api"] => Route::CoreRoot,
        ["api", v] => Route::CoreVersion(v),
        ["api", v, rest @ ..] => resource_path("", v, rest, reg),
        ["apis"] => Route::ApisRoot,
        ["apis", g] => Route::Group(g),
        ["apis", g, v] => Route::GroupVersion(g, v),
        ["apis", g, v, rest @ ..] => resource_path(g, v, rest, reg),
        _ => Route::Unknown,
    }
}

fn resource_path<'p>(
    group: &'p str,
    version: &'p str,
    rest: &[&'p str],
    reg: &Registry,
) -> Route<'p> {
    let namespaced_plural = |p: &str| {
        reg.by_plural(group, version, p)
            .and_then(|i| reg.get(i))
            .is_some_and(|rt| rt.namespaced)
    };
    let path = |namespace, parts: &[&'p str]| match parts {
        [plural, tail @ ..] if tail.len() <= 2 => Route::Resource(ResourcePath {
            group,
            version,
            namespace,
            plural,
            name: tail.first().copied(),
            subresource: tail.get(1).copied(),
        }),
        _ => Route::Unknown,
    };
    // `/namespaces/x/...` is a namespaced resource unless `...` names none, in which case it
    // is the namespace `x` itself (or its subresource).
    match rest {
        ["namespaces", ns, plural, tail @ ..] if namespaced_plural(plural) => {
            let mut parts = vec![*plural];
            parts.extend_from_slice(tail);
            path(Some(*ns), &parts)
        }
        _ => path(None, rest),
    }
}

fn is_true(v: Option<&String>) -> bool {
    v.is_some_and(|s| s == "1" || s.eq_ignore_ascii_case("true"))
}

fn verb_of(route: &Route<'_>, method: &Method, query: &HashMap<String, String>) -> Verb {
    match route {
        Route::Version => Verb::Version,
        Route::CoreRoot
        | Route::CoreVersion(_)
        | Route::ApisRoot
        | Route::Group(_)
        | Route::GroupVersion(..) => Verb::Discovery,
        Route::Health | Route::Unknown => Verb::Other,
        Route::Resource(p) => {
            let item = p.name.is_some();
            match *method {
                Method::GET if is_true(query.get("watch")) => Verb::Watch,
                Method::GET if item => Verb::Get,
                Method::GET => Verb::List,
                Method::POST if !item => Verb::Create,
                Method::PUT if item => Verb::Update,
                Method::PATCH if item => Verb::Patch,
                Method::DELETE if item => Verb::Delete,
                Method::DELETE => Verb::DeleteCollection,
                _ => Verb::Other,
            }
        }
    }
}

fn json_response(code: StatusCode, body: Vec<u8>, content_type: &'static str) -> Response {
    let mut res = (code, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

fn value_response(code: StatusCode, v: &Value) -> Response {
    json_response(
        code,
        serde_json::to_vec(v).unwrap_or_default(),
        "application/json",
    )
}

fn error_response(err: &ApiError) -> Response {
    let code = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = value_response(code, &err.to_status());
    if err.code == 429 {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    res
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = shared.faults().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    hang_while_asked(&shared).await;
    if shared.shutting_down.load(Ordering::SeqCst) {
        return error_response(&ApiError::new(
            503,
            "ServiceUnavailable",
            "the server is shutting down",
        ));
    }
    let query: HashMap<String, String> = match Query::<Vec<(String, String)>>::try_from_uri(&uri) {
        Ok(Query(pairs)) => pairs.into_iter().collect(),
        Err(e) => return error_response(&ApiError::bad_request(format!("invalid query: {e}"))),
    };
    let path = uri.path();
    let route = parse_route(path, &shared.store().registry);
    let verb = verb_of(&route, &method, &query);
    shared.counters.count(verb);
    if let Route::Resource(p) = &route {
        shared.counters.record(crate::Access {
            verb: verb.as_str().to_string(),
            group: p.group.to_string(),
            resource: match p.subresource {
                Some(sub) => format!("{}/{sub}", p.plural),
                None => p.plural.to_string(),
            },
            namespace: p.namespace.map(str::to_string),
        });
    }
    let injected = shared.faults().take_failure();
    if let Some(code) = injected {
        shared
            .counters
            .faults_injected
            .fetch_add(1, Ordering::Relaxed);
        return error_response(&ApiError::injected(code));
    }
    let broken_group = match &route {
        Route::Group(g) | Route::GroupVersion(g, _) => shared.faults().broken_groups.contains(*g),
        _ => false,
    };
    if broken_group {
        shared
            .counters
            .faults_injected
            .fetch_add(1, Ordering::Relaxed);
        return error_response(&ApiError::new(
            500,
            "InternalError",
            "the backend of this API group does not answer (injected)",
        ));
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let result = match route {
        Route::Version => Ok(value_response(
            StatusCode::OK,
            &discovery::version_info(&shared.version()),
        )),
        Route::Health => Ok((StatusCode::OK, "ok").into_response()),
        Route::CoreRoot if discovery::wants_aggregated(accept) => Ok(aggregated(
            &discovery::aggregated_core(&shared.store().registry),
        )),
        Route::CoreRoot => Ok(value_response(
            StatusCode::OK,
            &discovery::core_versions(&shared.store().registry, &shared.addr.to_string()),
        )),
        Route::ApisRoot if discovery::wants_aggregated(accept) => Ok(aggregated(
            &discovery::aggregated_groups(&shared.store().registry),
        )),
        Route::ApisRoot => Ok(value_response(
            StatusCode::OK,
            &discovery::group_list(&shared.store().registry),
        )),
        Route::Group(g) => discovery::group(&shared.store().registry, g)
            .map(|d| value_response(StatusCode::OK, &d))
            .ok_or_else(ApiError::no_resource),
        Route::CoreVersion(v) => discovery::resource_list(&shared.store().registry, "", v)
            .map(|d| value_response(StatusCode::OK, &d))
            .ok_or_else(ApiError::no_resource),
        Route::GroupVersion(g, v) => discovery::resource_list(&shared.store().registry, g, v)
            .map(|d| value_response(StatusCode::OK, &d))
            .ok_or_else(ApiError::no_resource),
        Route::Resource(p) => {
            let request = ResourceRequest {
                shared: &shared,
                path: p,
                verb,
                query: &query,
                metadata_only: accept.contains("as=PartialObjectMetadata"),
                content_type: headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/json"),
                body: &body,
                method: &method,
            };
            request.serve()
        }
        Route::Unknown => Err(ApiError::no_resource()),
    };
    result.unwrap_or_else(|e| error_response(&e))
}

/// The continue token of the `repeat_continue` fault (not a valid token otherwise).
const REPEATED_CONTINUE: &str = "repeated-for-ever";

/// The `hang` fault: waits until it is lifted or the server stops.
async fn hang_while_asked(shared: &Shared) {
    while shared.faults().hang && !shared.shutting_down.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn aggregated(doc: &Value) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(doc).unwrap_or_default(),
        discovery::AGGREGATED_CONTENT_TYPE,
    )
}

struct ResourceRequest<'a> {
    shared: &'a Arc<Shared>,
    path: ResourcePath<'a>,
    verb: Verb,
    query: &'a HashMap<String, String>,
    metadata_only: bool,
    content_type: &'a str,
    body: &'a Bytes,
    method: &'a Method,
}

impl ResourceRequest<'_> {
    fn serve(&self) -> Result<Response, ApiError> {
        let p = &self.path;
        let (idx, rt) = {
            let store = self.shared.store();
            let idx = store
                .registry
                .by_plural(p.group, p.version, p.plural)
                .ok_or_else(ApiError::no_resource)?;
            let rt = store
                .registry
                .get(idx)
                .cloned()
                .ok_or_else(ApiError::no_resource)?;
            (idx, rt)
        };
        // A namespaced item needs its namespace; a cluster-scoped resource has none.
        if (rt.namespaced && p.namespace.is_none() && p.name.is_some())
            || (!rt.namespaced && p.namespace.is_some())
            || p.subresource.is_some_and(|s| s != "status")
        {
            return Err(ApiError::no_resource());
        }
        if self.shared.faults().forbidden.contains(&rt.plural) {
            self.shared
                .counters
                .faults_injected
                .fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::forbidden(
                self.verb.as_str(),
                &rt.group,
                &rt.plural,
                p.namespace,
            ));
        }
        let status = p.subresource == Some("status");
        match (self.verb, p.name) {
            (Verb::Get, Some(name)) => self.get(idx, &rt, name),
            (Verb::List, None) => self.list(idx, &rt),
            (Verb::Watch, name) => self.watch(idx, &rt, name),
            (Verb::Create, None) if !status && (p.namespace.is_some() || !rt.namespaced) => {
                self.create(idx)
            }
            (Verb::Update, Some(name)) => self.update(idx, &rt, name, status),
            (Verb::Patch, Some(name)) => self.patch(idx, &rt, name, status),
            (Verb::Delete, Some(name)) if !status => self.delete(idx, name),
            (Verb::DeleteCollection, None) => self.delete_collection(idx, &rt),
            _ => Err(ApiError::method_not_allowed(self.method.as_str())),
        }
    }

    fn object_response(&self, code: StatusCode, obj: &Value) -> Response {
        if self.metadata_only {
            value_response(code, &partial_metadata(obj))
        } else {
            value_response(code, obj)
        }
    }

    fn body_json(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(self.body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
    }

    fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|v| v == "All")
    }

    fn get(&self, idx: usize, rt: &ResourceType, name: &str) -> Result<Response, ApiError> {
        let obj = self
            .shared
            .store()
            .get(idx, self.path.namespace, name)
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
        Ok(self.object_response(StatusCode::OK, &obj))
    }

    fn filter(&self) -> Result<Filter, ApiError> {
        let labels = match self.query.get("labelSelector") {
            Some(s) => LabelSelector::parse(s).map_err(ApiError::bad_request)?,
            None => LabelSelector::default(),
        };
        let fields = match self.query.get("fieldSelector") {
            Some(s) => FieldSelector::parse(s).map_err(ApiError::bad_request)?,
            None => FieldSelector::default(),
        };
        Ok(Filter {
            namespace: self.path.namespace.map(str::to_string),
            labels,
            fields,
        })
    }

    fn list(&self, idx: usize, rt: &ResourceType) -> Result<Response, ApiError> {
        let filter = self.filter()?;
        let limit = match self.query.get("limit") {
            Some(l) => Some(
                l.parse::<usize>()
                    .map_err(|e| ApiError::bad_request(format!("invalid limit {l:?}: {e}")))?,
            ),
            None => None,
        };
        let repeat = self.shared.faults().repeat_continue;
        let cont = match self.query.get("continue").filter(|c| !c.is_empty() && !repeat) {
            Some(c) => Some(ContinueToken::decode(c).ok_or_else(|| {
                ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            })?),
            None => None,
        };
        let page = self
            .shared
            .store()
            .list(idx, &filter, limit, cont.as_ref())?;
        let page = if repeat {
            ListPage {
                continue_token: Some(REPEATED_CONTINUE.to_string()),
                ..page
            }
        } else {
            page
        };
        let body = list_body(rt, &page, self.metadata_only);
        Ok(json_response(StatusCode::OK, body, "application/json"))
    }

    fn watch(
        &self,
        idx: usize,
        rt: &ResourceType,
        name: Option<&str>,
    ) -> Result<Response, ApiError> {
        let mut filter = self.filter()?;
        if let Some(name) = name {
            filter.fields = FieldSelector::name(name).and(filter.fields);
        }
        let send_initial_events = is_true(self.query.get("sendInitialEvents"));
        let from = match self.query.get("resourceVersion").map(String::as_str) {
            None | Some("" | "0") => None,
            Some(_) if send_initial_events => None,
            Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("resourceVersion: Invalid value: {rv:?}"))
            })?),
        };
        let timeout = self
            .query
            .get("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|t| *t > 0)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_WATCH_TIMEOUT);
        let body = watch::open(
            self.shared.clone(),
            WatchRequest {
                resource: idx,
                api_version: rt.api_version(),
                kind: rt.kind.clone(),
                filter: Arc::new(filter),
                from,
                send_initial_events,
                bookmarks: is_true(self.query.get("allowWatchBookmarks")),
                timeout,
                metadata_only: self.metadata_only,
            },
        );
        let mut res = Response::new(body);
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(res)
    }

    fn create(&self, idx: usize) -> Result<Response, ApiError> {
        let obj = self.body_json()?;
        if self.dry_run() {
            return Ok(self.object_response(StatusCode::CREATED, &obj));
        }
        let created =
            self.shared
                .store_mut()
                .create(idx, obj, self.path.namespace, Writer::Client)?;
        Ok(self.object_response(StatusCode::CREATED, &created))
    }

    /// The stored object, or 404.
    fn existing(&self, idx: usize, rt: &ResourceType, name: &str) -> Result<Arc<Value>, ApiError> {
        self.shared
            .store()
            .get(idx, self.path.namespace, name)
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
    }

    fn update(
        &self,
        idx: usize,
        rt: &ResourceType,
        name: &str,
        status: bool,
    ) -> Result<Response, ApiError> {
        let mut obj = self.body_json()?;
        if status {
            // The status subresource changes only status; the precondition still applies.
            let mut merged = (*self.existing(idx, rt, name)?).clone();
            merged["status"] = obj.get("status").cloned().unwrap_or(Value::Null);
            let given_rv = obj.pointer("/metadata/resourceVersion").cloned();
            if let (Some(rv), Some(meta)) = (given_rv, meta_mut(&mut merged)) {
                meta.insert("resourceVersion".into(), rv);
            }
            obj = merged;
        }
        if self.dry_run() {
            return Ok(self.object_response(StatusCode::OK, &obj));
        }
        let stored = self.shared.store_mut().replace(
            idx,
            obj,
            self.path.namespace,
            Some(name),
            Writer::Client,
        )?;
        Ok(self.object_response(StatusCode::OK, &stored))
    }

    fn patch(
        &self,
        idx: usize,
        rt: &ResourceType,
        name: &str,
        status: bool,
    ) -> Result<Response, ApiError> {
        let media = self.content_type.split(';').next().unwrap_or("").trim();
        let apply = match media {
            "application/merge-patch+json" | "application/strategic-merge-patch+json" => false,
            "application/apply-patch+yaml" => true,
            other => return Err(ApiError::unsupported_media_type(other)),
        };
        let patch = self.body_json()?;
        let mut store = self.shared.store_mut();
        let Some(current) = store.get(idx, self.path.namespace, name) else {
            if apply && !status {
                let mut obj = patch;
                if let Some(meta) = meta_mut(&mut obj) {
                    meta.entry("name").or_insert_with(|| json!(name));
                }
                let created = store.create(idx, obj, self.path.namespace, Writer::Client)?;
                return Ok(self.object_response(StatusCode::CREATED, &created));
            }
            return Err(ApiError::not_found(&rt.group, &rt.plural, name));
        };
        let mut merged = (*current).clone();
        merge_patch(&mut merged, &patch);
        if status {
            let mut only_status = (*current).clone();
            only_status["status"] = merged.get("status").cloned().unwrap_or(Value::Null);
            merged = only_status;
        }
        if self.dry_run() {
            return Ok(self.object_response(StatusCode::OK, &merged));
        }
        let stored = store.replace(idx, merged, self.path.namespace, Some(name), Writer::Client)?;
        Ok(self.object_response(StatusCode::OK, &stored))
    }

    fn delete(&self, idx: usize, name: &str) -> Result<Response, ApiError> {
        let options: Value = if self.body.is_empty() {
            Value::Null
        } else {
            self.body_json()?
        };
        let pre_rv = options
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str);
        let pre_uid = options
            .pointer("/preconditions/uid")
            .and_then(Value::as_str);
        let mut store = self.shared.store_mut();
        if self.dry_run() {
            let rt = store
                .registry
                .get(idx)
                .cloned()
                .ok_or_else(ApiError::no_resource)?;
            let obj = store
                .get(idx, self.path.namespace, name)
                .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
            return Ok(self.object_response(StatusCode::OK, &obj));
        }
        let gone = store.delete(idx, self.path.namespace, name, pre_rv, pre_uid)?;
        Ok(self.object_response(StatusCode::OK, &gone))
    }

    fn delete_collection(&self, idx: usize, rt: &ResourceType) -> Result<Response, ApiError> {
        let filter = self.filter()?;
        let mut store = self.shared.store_mut();
        let page = store.list(idx, &filter, None, None)?;
        let mut deleted = Vec::with_capacity(page.items.len());
        for obj in &page.items {
            let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !self.dry_run() {
                deleted.push(store.delete(idx, ns, name, None, None)?);
            } else {
                deleted.push(obj.clone());
            }
        }
        let page = ListPage {
            resource_version: store.resource_version(),
            items: deleted,
            continue_token: None,
        };
        Ok(json_response(
            StatusCode::OK,
            list_body(rt, &page, self.metadata_only),
            "application/json",
        ))
    }
}

/// Serializes an object without `apiVersion`/`kind`, as built-in list items are sent.
struct WithoutTypeMeta<'a>(&'a Value);

impl Serialize for WithoutTypeMeta<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(m) => {
                let mut map = s.serialize_map(None)?;
                for (k, v) in m {
                    if k != "apiVersion" && k != "kind" {
                        map.serialize_entry(k, v)?;
                    }
                }
                map.end()
            }
            other => other.serialize(s),
        }
    }
}

/// A `<Kind>List` (or `PartialObjectMetadataList`), written item by item so a list of
/// 100 000 objects costs one pass and no intermediate `Value`.
fn list_body(rt: &ResourceType, page: &ListPage, metadata_only: bool) -> Vec<u8> {
    let mut metadata = json!({"resourceVersion": page.resource_version.to_string()});
    if let Some(c) = &page.continue_token {
        metadata["continue"] = json!(c);
    }
    let (kind, api_version) = if metadata_only {
        (
            "PartialObjectMetadataList".to_string(),
            "meta.k8s.io/v1".to_string(),
        )
    } else {
        (format!("{}List", rt.kind), rt.api_version())
    };
    let head = json!({"kind": kind, "apiVersion": api_version, "metadata": metadata});
    let mut buf = serde_json::to_vec(&head).unwrap_or_default();
    // Reopen the header object to append the items array.
    buf.pop();
    buf.extend_from_slice(b",\"items\":[");
    let strip = rt.is_builtin();
    for (i, item) in page.items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        let written = if metadata_only {
            serde_json::to_writer(&mut buf, &partial_metadata(item))
        } else if strip {
            serde_json::to_writer(&mut buf, &WithoutTypeMeta(item))
        } else {
            serde_json::to_writer(&mut buf, &**item)
        };
        if written.is_err() {
            buf.extend_from_slice(b"null");
        }
    }
    buf.extend_from_slice(b"]}");
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::builtins;

    fn registry() -> Registry {
        let mut r = Registry::default();
        for rt in builtins() {
            r.register(rt);
        }
        r.register(ResourceType::new(
            "velero.io",
            "v1",
            "Backup",
            "backups",
            true,
        ));
        r
    }

    fn res<'p>(
        group: &'p str,
        namespace: Option<&'p str>,
        plural: &'p str,
        name: Option<&'p str>,
        subresource: Option<&'p str>,
    ) -> Route<'p> {
        Route::Resource(ResourcePath {
            group,
            version: "v1",
            namespace,
            plural,
            name,
            subresource,
        })
    }

    #[test]
    fn routes() {
        let r = registry();
        assert_eq!(parse_route("/api", &r), Route::CoreRoot);
        assert_eq!(
            parse_route("/apis/apps/v1", &r),
            Route::GroupVersion("apps", "v1")
        );
        assert_eq!(
            parse_route("/api/v1/pods", &r),
            res("", None, "pods", None, None)
        );
        assert_eq!(
            parse_route("/api/v1/namespaces/ns/pods/p", &r),
            res("", Some("ns"), "pods", Some("p"), None)
        );
        assert_eq!(
            parse_route("/api/v1/namespaces/ns", &r),
            res("", None, "namespaces", Some("ns"), None)
        );
        assert_eq!(
            parse_route("/api/v1/namespaces/ns/status", &r),
            res("", None, "namespaces", Some("ns"), Some("status"))
        );
        assert_eq!(
            parse_route("/apis/velero.io/v1/namespaces/velero/backups/b/status", &r),
            res(
                "velero.io",
                Some("velero"),
                "backups",
                Some("b"),
                Some("status")
            )
        );
        assert_eq!(
            parse_route("/apis/velero.io/v1/a/b/c/d", &r),
            Route::Unknown
        );
        assert_eq!(parse_route("/metrics", &r), Route::Unknown);
    }

    #[test]
    fn builtin_list_items_have_no_type_meta() {
        let pod = Arc::new(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}));
        let page = ListPage {
            resource_version: 5,
            items: vec![pod.clone(), pod],
            continue_token: Some("abc".into()),
        };
        let rt = ResourceType::new("", "v1", "Pod", "pods", true);
        let v: Value = serde_json::from_slice(&list_body(&rt, &page, false)).unwrap();
        assert_eq!(v["kind"], json!("PodList"));
        assert_eq!(
            v["metadata"],
            json!({"resourceVersion": "5", "continue": "abc"})
        );
        assert_eq!(v["items"][1], json!({"metadata": {"name": "p"}}));
        let crd = ResourceType::new("velero.io", "v1", "Backup", "backups", true);
        let v: Value = serde_json::from_slice(&list_body(&crd, &page, false)).unwrap();
        assert_eq!(v["items"][0]["kind"], json!("Pod"));
        let v: Value = serde_json::from_slice(&list_body(&crd, &page, true)).unwrap();
        assert_eq!(v["kind"], json!("PartialObjectMetadataList"));
        assert_eq!(v["items"][0]["kind"], json!("PartialObjectMetadata"));
    }
}
