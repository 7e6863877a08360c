//! Volume: 100 000 objects listed page by page, and a write burst larger than a watcher's
//! buffer. Correctness only; speed is measured by benchmarks.

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use kube::discovery::ApiResource;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Config, ResourceExt};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use testapiserver::{ResourceType, TestApiServer};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn lists_100000_objects_in_pages_of_100() {
    let server = TestApiServer::start().await.unwrap();
    server.register(ResourceType::new(
        "velero.io",
        "v1",
        "Backup",
        "backups",
        true,
    ));
    let objects = (0..100_000).map(|i| {
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
               "metadata": {"name": format!("b-{i:06}"), "namespace": format!("ns-{}", i % 7)},
               "status": {"phase": "Completed"}})
    });
    assert_eq!(server.apply_many(objects).unwrap(), 100_000);

    let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("velero.io", "v1", "Backup"),
        "backups",
    );
    let api: Api<DynamicObject> = Api::all_with(client, &ar);
    let mut seen = HashSet::new();
    let mut pages = 0;
    let mut lp = ListParams::default().limit(100);
    loop {
        let page = api.list(&lp).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 100);
        for item in page.items {
            assert!(seen.insert(item.name_any()), "no object twice");
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
        assert!(pages <= 1001, "pagination must terminate");
    }
    assert_eq!(seen.len(), 100_000);
    assert_eq!(pages, 1000);
    server.shutdown().await;
}

#[tokio::test]
async fn watcher_behind_a_small_buffer_is_closed_and_catches_up() {
    let server = TestApiServer::start().await.unwrap();
    server.set_watch_buffer(8);
    let client = Client::try_from(Config::new(server.url().parse().unwrap())).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client, "csdr");
    let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
    let first = tokio::time::timeout(WAIT, stream.next()).await.unwrap();
    assert!(matches!(first, Some(Ok(Event::Init))));

    // Writes happen while nobody reads the stream, so the watch falls behind.
    let burst = (0..5_000).map(|i| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": format!("c{}", i % 50), "namespace": "csdr"},
               "data": {"i": i.to_string()}})
    });
    let mut view: BTreeMap<String, String> = BTreeMap::new();
    let mut init: Option<BTreeMap<String, String>> = Some(BTreeMap::new());
    let mut burst = burst.peekable();
    let deadline = tokio::time::Instant::now() + WAIT;
    let last = |m: &BTreeMap<String, String>| m.get("c49").is_some_and(|v| v == "4999");
    while !(init.is_none() && last(&view) && burst.peek().is_none()) {
        // Interleave: a slice of writes, then read whatever the watcher has.
        server.apply_many(burst.by_ref().take(500)).unwrap();
        while let Ok(Some(ev)) =
            tokio::time::timeout(Duration::from_millis(20), stream.next()).await
        {
            let entry = |cm: &ConfigMap| {
                let v = cm
                    .data
                    .as_ref()
                    .and_then(|d| d.get("i"))
                    .cloned()
                    .unwrap_or_default();
                (cm.name_any(), v)
            };
            match ev {
                Ok(Event::Init) => init = Some(BTreeMap::new()),
                Ok(Event::InitApply(cm)) => {
                    let (k, v) = entry(&cm);
                    init.get_or_insert_default().insert(k, v);
                }
                Ok(Event::InitDone) => view = init.take().unwrap_or_default(),
                Ok(Event::Apply(cm)) => {
                    let (k, v) = entry(&cm);
                    view.insert(k, v);
                }
                Ok(Event::Delete(cm)) => {
                    view.remove(&cm.name_any());
                }
                Err(e) => panic!("watcher error: {e}"),
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "watcher did not catch up"
        );
    }
    let truth: BTreeMap<String, String> = server
        .list_objects("v1", "ConfigMap")
        .iter()
        .map(|o| {
            let name = o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (
                name,
                o["data"]["i"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(view, truth);
    let stats = server.stats();
    assert!(stats.watchers_evicted >= 1, "{stats:?}");
    assert!(stats.watches_opened >= 2, "{stats:?}");
    server.shutdown().await;
}
