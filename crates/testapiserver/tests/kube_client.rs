//! The unmodified kube-rs client and runtime watcher against the test server.

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiResource, Discovery};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Config, ResourceExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use testapiserver::{ResourceType, TestApiServer};

/// Every wait in these tests is bounded by this.
const WAIT: Duration = Duration::from_secs(20);

async fn client_for(server: &TestApiServer) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig_yaml("testapiserver"))
        .expect("generated kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig yields a config");
    Client::try_from(config).expect("client builds")
}

fn application_backup() -> ResourceType {
    ResourceType::new(
        "csdr.alibabacloud.com",
        "v1beta1",
        "ApplicationBackup",
        "applicationbackups",
        true,
    )
}

fn configmap(ns: &str, name: &str, data: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": ns}, "data": {"k": data}})
}

fn pod(ns: &str, name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": ns, "labels": labels},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
}

fn api_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// The watcher's view, maintained as a reflector would.
#[derive(Default)]
struct View {
    objects: BTreeMap<String, String>,
    init_buffer: Option<BTreeMap<String, String>>,
    inits: usize,
    errors: Vec<u16>,
}

impl View {
    fn apply(&mut self, ev: Result<Event<ConfigMap>, watcher::Error>) {
        let entry = |cm: &ConfigMap| {
            let data = cm
                .data
                .as_ref()
                .and_then(|d| d.get("k"))
                .cloned()
                .unwrap_or_default();
            (cm.name_any(), data)
        };
        match ev {
            Ok(Event::Init) => {
                self.inits += 1;
                self.init_buffer = Some(BTreeMap::new());
            }
            Ok(Event::InitApply(cm)) => {
                let (k, v) = entry(&cm);
                self.init_buffer.get_or_insert_default().insert(k, v);
            }
            Ok(Event::InitDone) => self.objects = self.init_buffer.take().unwrap_or_default(),
            Ok(Event::Apply(cm)) => {
                let (k, v) = entry(&cm);
                self.objects.insert(k, v);
            }
            Ok(Event::Delete(cm)) => {
                self.objects.remove(&cm.name_any());
            }
            Err(watcher::Error::WatchError(s)) => self.errors.push(s.code),
            Err(watcher::Error::InitialListFailed(e) | watcher::Error::WatchStartFailed(e)) => {
                self.errors.push(api_code(&e).unwrap_or(0));
            }
            Err(_) => self.errors.push(0),
        }
    }

    /// Polls the watcher until `done` holds for the view, or panics after `WAIT`.
    async fn until<S>(&mut self, stream: &mut S, what: &str, done: impl Fn(&View) -> bool)
    where
        S: Stream<Item = Result<Event<ConfigMap>, watcher::Error>> + Unpin,
    {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(self) {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(ev)) => self.apply(ev),
                Ok(None) => panic!("watcher ended while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; view: {:?}", self.objects),
            }
        }
    }
}

fn truth(server: &TestApiServer, ns: &str) -> BTreeMap<String, String> {
    server
        .list_objects("v1", "ConfigMap")
        .iter()
        .filter(|o| o["metadata"]["namespace"] == ns)
        .map(|o| {
            let name = o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let data = o["data"]["k"].as_str().unwrap_or_default().to_string();
            (name, data)
        })
        .collect()
}

#[tokio::test]
async fn discovery_finds_builtins_and_registered_crd() {
    let server = TestApiServer::start().await.unwrap();
    server.register(application_backup());
    server.set_version("v1.30.4-aliyun.1");
    let client = client_for(&server).await;

    let version = client.apiserver_version().await.unwrap();
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "30")
    );

    for discovery in [
        Discovery::new(client.clone()).run().await.unwrap(),
        Discovery::new(client.clone())
            .run_aggregated()
            .await
            .unwrap(),
    ] {
        let gvk = GroupVersionKind::gvk("csdr.alibabacloud.com", "v1beta1", "ApplicationBackup");
        let (ar, caps) = discovery.resolve_gvk(&gvk).expect("CRD is discovered");
        assert_eq!(ar.plural, "applicationbackups");
        assert!(caps.supports_operation("watch"));
        assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
        let (lease, _) = discovery
            .resolve_gvk(&GroupVersionKind::gvk("coordination.k8s.io", "v1", "Lease"))
            .expect("leases are built in");
        assert_eq!(lease.plural, "leases");
        let (ns, caps) = discovery
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"))
            .expect("namespaces are built in");
        assert_eq!(
            (ns.plural.as_str(), caps.scope),
            ("namespaces", kube::discovery::Scope::Cluster)
        );
        assert!(discovery.has_group("events.k8s.io"));
    }
    let pinned =
        kube::discovery::pinned_kind(&client, &GroupVersionKind::gvk("apps", "v1", "DaemonSet"))
            .await
            .unwrap();
    assert_eq!(pinned.0.plural, "daemonsets");
    server.shutdown().await;
}

#[tokio::test]
async fn typed_and_dynamic_lists_paginate_over_1000_objects() {
    let server = TestApiServer::start().await.unwrap();
    server.register(application_backup());
    let pods = (0..1000).map(|i| {
        pod(
            "csdr",
            &format!("pod-{i:04}"),
            json!({"n": (i % 10).to_string()}),
        )
    });
    assert_eq!(server.apply_many(pods).unwrap(), 1000);
    let backups = (0..1000).map(|i| {
        json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
               "metadata": {"name": format!("b-{i:04}"), "namespace": "csdr"},
               "status": {"phase": "Completed"}})
    });
    server.apply_many(backups).unwrap();
    let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();

    let api: Api<Pod> = Api::namespaced(client.clone(), "csdr");
    let mut names = Vec::new();
    let mut lp = ListParams::default().limit(100);
    let mut list_rv = None;
    for _ in 0..20 {
        let page = api.list(&lp).await.unwrap();
        assert!(page.items.len() <= 100);
        names.extend(page.items.iter().map(|p| p.name_any()));
        let rv = page.metadata.resource_version.clone();
        assert!(
            list_rv.is_none() || list_rv == rv,
            "every page reports the list's version"
        );
        list_rv = rv;
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..1000).map(|i| format!("pod-{i:04}")).collect();
    assert_eq!(names, expected);

    let selected = api
        .list(&ListParams::default().labels("n in (3,4)"))
        .await
        .unwrap();
    assert_eq!(selected.items.len(), 200);
    let by_name = api
        .list(&ListParams::default().fields("metadata.name=pod-0042"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);

    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("csdr.alibabacloud.com", "v1beta1", "ApplicationBackup"),
        "applicationbackups",
    );
    let dynamic: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let mut count = 0;
    let mut lp = ListParams::default().limit(300);
    for _ in 0..10 {
        let page = dynamic.list(&lp).await.unwrap();
        count += page.items.len();
        assert!(page.items.iter().all(|o| {
            o.types
                .as_ref()
                .is_some_and(|t| t.kind == "ApplicationBackup")
        }));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    assert_eq!(count, 1000);

    let metadata = api
        .list_metadata(&ListParams::default().limit(5))
        .await
        .unwrap();
    assert_eq!(metadata.items.len(), 5);
    assert!(metadata.items[0].metadata.uid.is_some());
    server.shutdown().await;
}

#[tokio::test]
async fn watcher_sees_adds_updates_deletes_and_survives_dropped_watches() {
    let server = TestApiServer::start().await.unwrap();
    server.apply(configmap("csdr", "before", "0")).unwrap();
    let client = client_for(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "csdr");
    let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
    let mut view = View::default();
    view.until(&mut stream, "initial list", |v| {
        v.inits == 1 && v.init_buffer.is_none()
    })
    .await;
    assert_eq!(view.objects, truth(&server, "csdr"));

    server.apply(configmap("csdr", "a", "1")).unwrap();
    view.until(&mut stream, "add", |v| v.objects.contains_key("a"))
        .await;
    server.apply(configmap("csdr", "a", "2")).unwrap();
    view.until(&mut stream, "update", |v| {
        v.objects.get("a").is_some_and(|d| d == "2")
    })
    .await;
    server
        .delete("v1", "ConfigMap", Some("csdr"), "before")
        .unwrap();
    view.until(&mut stream, "delete", |v| !v.objects.contains_key("before"))
        .await;
    server.apply(configmap("elsewhere", "x", "1")).unwrap();

    let opened = server.stats().watches_opened;
    server.drop_watches();
    // Written while the watcher reconnects: it must come from the replayed history.
    server.apply(configmap("csdr", "b", "1")).unwrap();
    server.apply(configmap("csdr", "a", "3")).unwrap();
    view.until(&mut stream, "events after reconnect", |v| {
        v.objects.contains_key("b") && v.objects.get("a").is_some_and(|d| d == "3")
    })
    .await;
    assert_eq!(view.inits, 1, "a resumed watch must not relist");
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    assert!(server.stats().watches_opened > opened);
    assert_eq!(view.objects, truth(&server, "csdr"));
    server.shutdown().await;
}

#[tokio::test]
async fn watcher_relists_after_compaction() {
    let server = TestApiServer::start().await.unwrap();
    server.apply(configmap("csdr", "one", "1")).unwrap();
    let client = client_for(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "csdr");
    // Without bookmarks the watcher's resourceVersion stays at its last configmap event.
    let config = watcher::Config::default().disable_bookmarks();
    let mut stream = watcher::watcher(api, config).boxed();
    let mut view = View::default();
    view.until(&mut stream, "initial list", |v| {
        v.inits == 1 && v.init_buffer.is_none()
    })
    .await;
    server.apply(configmap("csdr", "two", "2")).unwrap();
    view.until(&mut stream, "add", |v| v.objects.contains_key("two"))
        .await;

    // Writes the watcher does not see move the revision past its resourceVersion.
    server.apply(pod("csdr", "p", json!({}))).unwrap();
    server.compact();
    server.drop_watches();
    view.until(&mut stream, "relist", |v| {
        v.inits == 2 && v.init_buffer.is_none()
    })
    .await;
    assert_eq!(
        view.errors,
        [410],
        "the watcher is told its version expired"
    );
    assert_eq!(view.objects, truth(&server, "csdr"));

    server
        .delete("v1", "ConfigMap", Some("csdr"), "one")
        .unwrap();
    server.apply(configmap("csdr", "three", "3")).unwrap();
    view.until(&mut stream, "changes after relist", |v| {
        !v.objects.contains_key("one") && v.objects.contains_key("three")
    })
    .await;
    assert_eq!(view.objects, truth(&server, "csdr"));
    server.shutdown().await;
}

#[tokio::test]
async fn streaming_list_and_bookmarks() {
    let server = TestApiServer::start().await.unwrap();
    server.set_bookmark_interval(Duration::from_millis(50));
    server.apply(configmap("csdr", "one", "1")).unwrap();
    let client = client_for(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "csdr");
    let mut stream =
        watcher::watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut view = View::default();
    view.until(&mut stream, "streamed initial list", |v| {
        v.inits == 1 && v.init_buffer.is_none()
    })
    .await;
    assert_eq!(view.objects, truth(&server, "csdr"));
    server.apply(configmap("csdr", "two", "2")).unwrap();
    view.until(&mut stream, "add", |v| v.objects.contains_key("two"))
        .await;

    // A raw watch from now sees a bookmark at the current revision, then ends at its timeout.
    server.apply(pod("csdr", "p", json!({}))).unwrap();
    let now = server.current_resource_version().to_string();
    let wp = WatchParams::default().timeout(1);
    let mut raw = api.watch(&wp, &now).await.unwrap().boxed();
    let bookmark = tokio::time::timeout(WAIT, raw.next()).await.unwrap();
    match bookmark {
        Some(Ok(WatchEvent::Bookmark(b))) => assert_eq!(b.metadata.resource_version, now),
        other => panic!("expected a bookmark, got {other:?}"),
    }
    let ended = tokio::time::timeout(WAIT, async { while raw.next().await.is_some() {} }).await;
    assert!(ended.is_ok(), "the watch ends at timeoutSeconds");
    assert!(server.stats().bookmarks_sent >= 2);
    server.shutdown().await;
}

#[tokio::test]
async fn errors_carry_kubernetes_status_codes() {
    let server = TestApiServer::start().await.unwrap();
    let client = client_for(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "csdr");
    let cm: ConfigMap = serde_json::from_value(configmap("csdr", "c", "1")).unwrap();

    let created = api.create(&PostParams::default(), &cm).await.unwrap();
    let rv = created.resource_version().unwrap();
    assert!(created.uid().is_some());
    let dup = api.create(&PostParams::default(), &cm).await.unwrap_err();
    assert_eq!(api_code(&dup), Some(409));

    let mut updated = created.clone();
    updated.data = Some([("k".to_string(), "2".to_string())].into());
    let replaced = api
        .replace("c", &PostParams::default(), &updated)
        .await
        .unwrap();
    assert_ne!(replaced.resource_version().unwrap(), rv);
    let stale = api
        .replace("c", &PostParams::default(), &updated)
        .await
        .unwrap_err();
    assert!(matches!(&stale, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict"));

    let patched = api
        .patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "3"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.data.unwrap().get("k").map(String::as_str),
        Some("3")
    );
    assert_eq!(api_code(&api.get("missing").await.unwrap_err()), Some(404));

    server.forbid("configmaps", true);
    let forbidden = api.list(&ListParams::default()).await.unwrap_err();
    assert!(matches!(&forbidden, kube::Error::Api(s) if s.code == 403 && s.reason == "Forbidden"));
    assert_eq!(api_code(&api.get("c").await.unwrap_err()), Some(403));
    server.forbid("configmaps", false);

    server.fail_next(2, 500);
    assert_eq!(api_code(&api.get("c").await.unwrap_err()), Some(500));
    assert_eq!(
        api_code(&client.apiserver_version().await.unwrap_err()),
        Some(500)
    );
    assert!(api.get("c").await.is_ok());
    // kube's default client retries 503 by itself.
    let gets = server.stats().requests("get");
    server.fail_next(1, 503);
    assert!(api.get("c").await.is_ok());
    assert_eq!(server.stats().requests("get"), gets + 2);
    assert_eq!(server.stats().faults_injected, 5);

    let deleted = api.delete("c", &DeleteParams::default()).await.unwrap();
    assert!(deleted.is_left());
    assert!(server.list_objects("v1", "ConfigMap").is_empty());
    assert_eq!(
        api_code(&api.delete("c", &DeleteParams::default()).await.unwrap_err()),
        Some(404)
    );
    let stats = server.stats();
    assert_eq!(stats.requests("create"), 2);
    assert_eq!(stats.requests("delete"), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn continue_from_compacted_version_is_expired() {
    let server = TestApiServer::start().await.unwrap();
    server
        .apply_many((0..10).map(|i| configmap("csdr", &format!("c{i}"), "v")))
        .unwrap();
    let client = client_for(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "csdr");
    let first = api.list(&ListParams::default().limit(4)).await.unwrap();
    let token = first.metadata.continue_.expect("more pages");
    server.apply(configmap("csdr", "late", "v")).unwrap();
    server.compact();
    let err = api
        .list(&ListParams::default().limit(4).continue_token(&token))
        .await
        .unwrap_err();
    assert!(matches!(&err, kube::Error::Api(s) if s.code == 410 && s.reason == "Expired"));
    server.shutdown().await;
}

#[tokio::test]
async fn server_stops_when_last_handle_drops() {
    let server = TestApiServer::start().await.unwrap();
    let url = server.url();
    let clone = server.clone();
    drop(server);
    let client = Client::try_from(Config::new(url.parse().unwrap())).unwrap();
    assert!(
        client.apiserver_version().await.is_ok(),
        "a clone keeps it alive"
    );
    drop(clone);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let fresh = Client::try_from(Config::new(url.parse().unwrap())).unwrap();
        if fresh.apiserver_version().await.is_err() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "server still answering"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn server_side_apply_status_and_metadata_watch() {
    use k8s_openapi::api::coordination::v1::Lease;
    use kube::core::PartialObjectMeta;

    let server = TestApiServer::start().await.unwrap();
    let client = client_for(&server).await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), "csdr");
    let ssa = PatchParams::apply("backupscope");
    let body = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                      "metadata": {"name": "leader"}, "spec": {"holderIdentity": "a"}});
    let created = leases
        .patch("leader", &ssa, &Patch::Apply(&body))
        .await
        .unwrap();
    // Leases carry no generation, as on a real apiserver.
    assert_eq!(created.metadata.generation, None);
    let body = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                      "metadata": {"name": "leader"}, "spec": {"holderIdentity": "b"}});
    let updated = leases
        .patch("leader", &ssa, &Patch::Apply(&body))
        .await
        .unwrap();
    let holder = updated.spec.and_then(|s| s.holder_identity);
    assert_eq!(holder.as_deref(), Some("b"));
    assert_eq!(updated.metadata.generation, None);

    let pods: Api<Pod> = Api::namespaced(client.clone(), "csdr");
    server.apply(pod("csdr", "p", json!({"app": "x"}))).unwrap();
    let status = json!({"status": {"phase": "Running"}, "spec": {"nodeName": "ignored"}});
    let patched = pods
        .patch_status("p", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    assert_eq!(
        patched.status.and_then(|s| s.phase).as_deref(),
        Some("Running")
    );
    assert_eq!(
        patched.spec.and_then(|s| s.node_name),
        None,
        "status patch keeps spec"
    );

    let meta: Api<PartialObjectMeta<Pod>> = Api::namespaced(client, "csdr");
    let mut stream = watcher::watcher(meta, watcher::Config::default()).boxed();
    let mut names = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    server.apply(pod("csdr", "q", json!({}))).unwrap();
    while !names.contains(&"q".to_string()) {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(Event::InitApply(m) | Event::Apply(m)))) => names.push(m.name_any()),
            Ok(Some(Ok(_))) => {}
            other => panic!("metadata watcher: {other:?}"),
        }
    }
    assert!(names.contains(&"p".to_string()));
    server.shutdown().await;
}

#[tokio::test]
async fn hang_repeat_continue_and_broken_group_discovery() {
    let server = TestApiServer::start().await.expect("server starts");
    server.register(application_backup());
    for i in 0..5 {
        server
            .apply(configmap("ns", &format!("cm-{i}"), "x"))
            .expect("apply");
    }
    let client = client_for(&server).await;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "ns");

    // Hung: the request is accepted and never answered, until the fault is lifted.
    server.set_hang(true);
    let all = ListParams::default();
    let hung = tokio::time::timeout(Duration::from_millis(500), maps.list(&all));
    assert!(hung.await.is_err(), "a hung server must not answer");
    server.set_hang(false);
    let listed = tokio::time::timeout(WAIT, maps.list(&ListParams::default()))
        .await
        .expect("answers once lifted")
        .expect("list");
    assert_eq!(listed.items.len(), 5);

    // Repeated continue token: the first page again, with the same token, whatever is sent.
    server.set_repeat_continue(true);
    let first = maps
        .list(&ListParams::default().limit(2))
        .await
        .expect("page");
    let token = first.metadata.continue_.clone().expect("a continue token");
    let again = maps
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .expect("page");
    assert_eq!(again.metadata.continue_.as_deref(), Some(token.as_str()));
    let names = |l: &kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        l.items.iter().map(|o| o.name_any()).collect()
    };
    assert_eq!(names(&again), names(&first));
    server.set_repeat_continue(false);

    // Broken group discovery: /apis still lists the group, its discovery answers 500.
    server.break_group_discovery("csdr.alibabacloud.com", true);
    let groups = client.list_api_groups().await.expect("/apis");
    assert!(
        groups
            .groups
            .iter()
            .any(|g| g.name == "csdr.alibabacloud.com")
    );
    let broken = kube::discovery::group(&client, "csdr.alibabacloud.com").await;
    assert_eq!(broken.err().as_ref().and_then(api_code), Some(500));
    server.break_group_discovery("csdr.alibabacloud.com", false);
    kube::discovery::group(&client, "csdr.alibabacloud.com")
        .await
        .expect("discovery works again");
    assert!(server.stats().faults_injected >= 1);
}

#[tokio::test]
async fn accesses_name_each_request_as_an_rbac_rule_would() {
    let server = TestApiServer::start().await.unwrap();
    server.apply(configmap("velero", "a", "1")).unwrap();
    let client = client_for(&server).await;
    let in_ns: Api<ConfigMap> = Api::namespaced(client.clone(), "velero");
    in_ns.get("a").await.unwrap();
    in_ns.list(&ListParams::default()).await.unwrap();
    let all: Api<Pod> = Api::all(client.clone());
    all.list(&ListParams::default()).await.unwrap();
    let missing = in_ns.get("nope").await.unwrap_err();
    assert_eq!(api_code(&missing), Some(404));
    Discovery::new(client).run().await.unwrap();

    let seen: Vec<(String, String, String, Option<String>)> = server
        .accesses()
        .into_iter()
        .map(|a| (a.verb, a.group, a.resource, a.namespace))
        .collect();
    let velero = Some("velero".to_string());
    assert_eq!(
        seen,
        [
            ("get".into(), "".into(), "configmaps".into(), velero.clone()),
            ("list".into(), "".into(), "configmaps".into(), velero),
            ("list".into(), "".into(), "pods".into(), None),
        ],
        "one entry per distinct request, a 404 included; discovery is no resource request"
    );
}
