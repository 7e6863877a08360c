//! Vault probe benchmark (issue 11): 1 000 vaults, 50 of them behind a listener that accepts
//! and never answers, probed by `serve`'s periodic rounds while a client scrapes /metrics of
//! the real web server. Prints each round's duration against the bound (interval + timeout)
//! and the /metrics latency during the rounds; nothing is asserted.
//!
//! Run: `cargo bench --bench vault_probe`

use backupscope::inventory::Inventory;
use backupscope::metrics::collector::{CollectOptions, Collector};
use backupscope::vault::Board;
use backupscope::vault::client::{Access, parse_override};
use backupscope::vault::http::Transport;
use backupscope::vault::periodic::{self, Cadence};
use backupscope::web::{self, AppState};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const VAULTS: usize = 1000;
const HANGING: usize = 50;
const INTERVAL: Duration = Duration::from_secs(3);
const TIMEOUT: Duration = Duration::from_secs(1);
const CONCURRENCY: usize = 64;
const ROUNDS: u64 = 4;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let root =
        std::env::temp_dir().join(format!("backupscope-bench-vaults-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    // A listener that accepts every connection and never answers.
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hang_port = hang.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = hang.accept().await {
            held.push(s);
        }
    });
    let creds = root.join("credentials");
    std::fs::create_dir_all(&root).expect("root");
    std::fs::write(
        &creds,
        "[default]\naws_access_key_id=AKIABENCH\naws_secret_access_key=bench\n",
    )
    .expect("creds");
    let mut objects = Vec::new();
    let mut endpoints = Vec::new();
    let mut credentials = Vec::new();
    for i in 0..VAULTS {
        let name = format!("vault-{i:04}");
        let bucket = format!("bucket-{i:04}");
        objects.push(json!({
            "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": {"namespace": "velero", "name": name},
            "spec": {"provider": "aws", "config": {"region": "us-east-1"},
                     "objectStorage": {"bucket": bucket, "prefix": "cluster-a"}},
            "status": {"phase": "Available"},
        }));
        if i < HANGING {
            endpoints.push(
                parse_override(&format!("{name}=http://127.0.0.1:{hang_port}")).expect("override"),
            );
            credentials
                .push(parse_override(&format!("{name}={}", creds.display())).expect("override"));
        } else {
            std::fs::create_dir_all(root.join(&bucket).join("cluster-a/backups/b1"))
                .expect("bucket");
            std::fs::write(
                root.join(&bucket)
                    .join("cluster-a/backups/b1/velero-backup.json"),
                "{}",
            )
            .expect("file");
        }
    }
    let inventory = Arc::new(RwLock::new(Inventory::from_objects(&objects)));
    let access = Access {
        root: Some(root.clone()),
        endpoints,
        credentials: credentials
            .into_iter()
            .map(|(s, f)| (s, f.into()))
            .collect(),
        timeout: TIMEOUT,
        transport: Arc::new(Transport::new().expect("transport")),
    };
    let board = Arc::new(Board::new());
    let cadence = Cadence {
        probe_interval: INTERVAL,
        scan_interval: None,
        scan_timeout: TIMEOUT,
        concurrency: CONCURRENCY,
        write: false,
    };
    let collector =
        Arc::new(Collector::new(CollectOptions::default()).with_vault_board(Some(board.clone())));
    let state = AppState::new(inventory.clone(), None, collector, None, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(web::serve(
        listener,
        state,
        None,
        None,
        web::Limits::default(),
        std::future::pending::<()>(),
    ));
    let started = Instant::now();
    let loops = periodic::spawn(inventory, None, access, cadence, board.clone());

    println!(
        "{VAULTS} vaults ({HANGING} hanging), interval {}s, timeout {}s, concurrency {CONCURRENCY}",
        INTERVAL.as_secs_f64(),
        TIMEOUT.as_secs_f64()
    );
    let client: Client<_, Empty<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let url: hyper::Uri = format!("http://{addr}/metrics").parse().expect("url");
    let mut latencies = Vec::new();
    let mut seen_round = 0;
    let mut series = 0;
    let deadline = Instant::now() + (INTERVAL + TIMEOUT) * (ROUNDS as u32 + 2);
    while seen_round < ROUNDS && Instant::now() < deadline {
        let t = Instant::now();
        let resp = client.get(url.clone()).await.expect("GET /metrics");
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        latencies.push(t.elapsed());
        series = body
            .split(|b| *b == b'\n')
            .filter(|l| l.starts_with(b"backupcenter_backuplocation_probe_success{"))
            .count();
        if let Some(r) = board.read().last_round
            && r.number > seen_round
        {
            seen_round = r.number;
            let bound = (INTERVAL + TIMEOUT).as_secs_f64();
            println!(
                "round {}: {} vaults probed, {} failed, {:.3}s (bound interval + timeout = {bound:.1}s), at {:.1}s",
                r.number,
                r.vaults,
                r.failed,
                r.seconds,
                started.elapsed().as_secs_f64()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for l in loops {
        l.abort();
    }
    // The same scrapes with no probe running: what /metrics costs anyway on this machine.
    let mut idle = Vec::new();
    for _ in 0..latencies.len() {
        let t = Instant::now();
        let resp = client.get(url.clone()).await.expect("GET /metrics");
        let _ = resp.into_body().collect().await.expect("body");
        idle.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = |what: &str, mut l: Vec<Duration>| {
        l.sort();
        let pct = |p: f64| l[((l.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
        println!(
            "/metrics {what}: {} scrapes, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            l.len(),
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
    };
    report("during the rounds", latencies);
    report("with no probe running", idle);
    println!("{series} probe_success series in the last scrape during the rounds");
    let _ = std::fs::remove_dir_all(&root);
}
