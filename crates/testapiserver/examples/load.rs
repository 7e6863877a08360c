//! Rough load figures for the test server: bulk load, paginated list through kube, and
//! watch delivery rate through kube's watcher. Run with
//! `cargo run --release -p testapiserver --example load [objects] [updates]`.

use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use kube::discovery::ApiResource;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Config};
use serde_json::json;
use std::time::{Duration, Instant};
use testapiserver::{ResourceType, TestApiServer};

fn backup(i: usize, phase: &str) -> serde_json::Value {
    json!({"apiVersion": "velero.io/v1", "kind": "Backup",
           "metadata": {"name": format!("b-{i:06}"), "namespace": "velero",
                        "labels": {"velero.io/schedule-name": format!("s{}", i % 20)}},
           "spec": {"ttl": "720h0m0s", "storageLocation": "default"},
           "status": {"phase": phase}})
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let objects: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let updates: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(200_000);

    let server = TestApiServer::start().await?;
    server.register(ResourceType::new(
        "velero.io",
        "v1",
        "Backup",
        "backups",
        true,
    ));
    let t = Instant::now();
    server.apply_many((0..objects).map(|i| backup(i, "Completed")))?;
    println!("apply_many {objects}: {:?}", t.elapsed());

    let client = Client::try_from(Config::new(server.url().parse()?))?;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("velero.io", "v1", "Backup"),
        "backups",
    );
    let api: Api<DynamicObject> = Api::all_with(client, &ar);
    let t = Instant::now();
    let mut listed = 0;
    let mut lp = ListParams::default().limit(500);
    loop {
        let page = api.list(&lp).await?;
        listed += page.items.len();
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(c) => lp = lp.continue_token(&c),
            None => break,
        }
    }
    println!("list {listed} in pages of 500: {:?}", t.elapsed());

    let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
    let t = Instant::now();
    while let Some(ev) = stream.next().await {
        if matches!(ev?, Event::InitDone) {
            break;
        }
    }
    println!("watcher initial list: {:?}", t.elapsed());

    let writer = server.clone();
    let write = tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        for chunk in (0..updates).collect::<Vec<_>>().chunks(1000) {
            writer.apply_many(
                chunk
                    .iter()
                    .map(|i| backup(i % objects.max(1), "InProgress")),
            )?;
        }
        Ok::<_, testapiserver::Error>(t.elapsed())
    });
    let t = Instant::now();
    let mut applied = 0;
    while applied < updates {
        match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
            Ok(Some(Ok(Event::Apply(_)))) => applied += 1,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => println!("watcher error: {e}"),
            Ok(None) | Err(_) => break,
        }
    }
    let elapsed = t.elapsed();
    let write_time = write.await??;
    println!(
        "{updates} updates written in {write_time:?}; watcher applied {applied} in {elapsed:?} \
         ({:.0}/s)",
        applied as f64 / elapsed.as_secs_f64()
    );
    println!("{:?}", server.stats());
    server.shutdown().await;
    Ok(())
}
