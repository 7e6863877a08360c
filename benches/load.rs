//! `/metrics`, the web UI and its JSON API under concurrent clients while the inventory
//! changes underneath: the real `backupscope serve --kubeconfig` binary watches the in-repo
//! test API server holding the benchmark backup center (`fixtures::TARGET`: 100 000 tasks,
//! 1 000 vaults, 1 000 schedules), a writer updates tasks at `RATE` per second, and `CLIENTS`
//! keep-alive clients on loopback request a mix of endpoints for `SECONDS`. Prints requests,
//! errors, p50/p99/max latency per endpoint and the server's RSS. Bounded: it stops by itself.
//!
//!   cargo bench --bench load [-- SECONDS CLIENTS RATE]

#[path = "support/fixtures.rs"]
mod fixtures;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use testapiserver::TestApiServer;

/// (name, path, share of clients in 1/16).
const MIX: [(&str, &str, usize); 5] = [
    ("/metrics", "/metrics", 8),
    (
        "/api/v1/backups (page)",
        "/api/v1/backups?phase=Failed&limit=50",
        3,
    ),
    ("/api/v1/overview", "/api/v1/overview", 2),
    ("/api/v1/backuplocations", "/api/v1/backuplocations", 2),
    ("/ (UI page)", "/", 1),
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse::<u64>().ok());
    let seconds = args.next().unwrap_or(20);
    let clients = args.next().unwrap_or(16) as usize;
    let rate = args.next().unwrap_or(500);
    let scale = fixtures::TARGET;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(TestApiServer::start())
        .expect("start test API server");
    fixtures::register_velero(&server);
    fixtures::load(&server, &scale);

    let dir = std::env::temp_dir().join(format!("backupscope-bench-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("bench")).expect("write kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(["serve", "--listen", "127.0.0.1:0", "--kubeconfig"])
        .arg(&kubeconfig)
        .env("BACKUPSCOPE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn backupscope serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the listen line");
    let addr = fixtures::listen_address(&line);
    let pid = child.id().to_string();

    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let get = {
        let client = client.clone();
        move |path: &str| {
            let client = client.clone();
            let uri: hyper::Uri = format!("http://{addr}{path}").parse().expect("uri");
            async move {
                let response = tokio::time::timeout(Duration::from_secs(30), client.get(uri))
                    .await
                    .map_err(|_| "timeout".to_string())?
                    .map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                Ok::<_, String>((status, body.len()))
            }
        }
    };
    let started = Instant::now();
    runtime.block_on(async {
        loop {
            if matches!(get("/readyz").await, Ok((200, _))) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(300), "not ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let synced = started.elapsed().as_secs_f64();

    // The writer: status updates of random tasks, one in 20 also changing its phase.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let tasks = scale.tasks;
    let writer = {
        let (server, stop, written) = (server.clone(), stop.clone(), written.clone());
        let scale = fixtures::TARGET;
        std::thread::spawn(move || {
            let mut i = 0usize;
            let tick = Duration::from_millis(20);
            let per_tick = (rate as usize * 20 / 1000).max(1);
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                for _ in 0..per_tick {
                    i = (i * 7919 + 13) % scale.tasks;
                    let phase = if i.is_multiple_of(20) {
                        "InProgress"
                    } else {
                        fixtures::phase_of(i, &scale)
                    };
                    let mut task = fixtures::task(i, &scale, phase);
                    task["status"]["progress"] = serde_json::json!({"itemsBackedUp": i % 997});
                    if server.apply(task).is_ok() {
                        written.fetch_add(1, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(tick.saturating_sub(t0.elapsed()));
            }
        })
    };

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let results = runtime.block_on(async {
        let mut handles = Vec::new();
        let weights: usize = MIX.iter().map(|m| m.2).sum();
        for c in 0..clients {
            // Client c takes the endpoint whose share covers slot c (round robin over 16).
            let slot = c % weights;
            let mut acc = 0;
            let (name, path, _) = *MIX
                .iter()
                .find(|m| {
                    acc += m.2;
                    slot < acc
                })
                .expect("a mix entry");
            let get = get.clone();
            handles.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = Vec::new();
                let mut bytes = 0usize;
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    match get(path).await {
                        Ok((200, n)) => {
                            latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
                            bytes = n;
                        }
                        Ok((status, _)) => errors.push(format!("HTTP {status}")),
                        Err(e) => errors.push(e),
                    }
                }
                (name, latencies, errors, bytes)
            }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("client task"));
        }
        out
    });
    let (peak, rss) = fixtures::rss_of(&pid);
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    let writes = written.load(Ordering::Relaxed);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "load: {} tasks, {clients} keep-alive clients for {seconds} s, {writes} task updates \
         written meanwhile ({:.0}/s); initial sync {synced:.1} s",
        tasks,
        writes as f64 / seconds as f64
    );
    println!("| endpoint | clients | requests | errors | body | p50 | p99 | max |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut total_errors = 0;
    for (name, _, _) in MIX {
        let of: Vec<_> = results.iter().filter(|r| r.0 == name).collect();
        if of.is_empty() {
            continue;
        }
        let mut all: Vec<f64> = of.iter().flat_map(|r| r.1.iter().copied()).collect();
        all.sort_by(f64::total_cmp);
        let errors: Vec<&String> = of.iter().flat_map(|r| r.2.iter()).collect();
        total_errors += errors.len();
        let body = of.iter().map(|r| r.3).max().unwrap_or(0);
        println!(
            "| {name} | {} | {} | {} | {:.0} KiB | {:.1} ms | {:.1} ms | {:.1} ms |",
            of.len(),
            all.len(),
            errors.len(),
            body as f64 / 1024.0,
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            all.last().copied().unwrap_or(0.0)
        );
        for e in errors.iter().take(3) {
            println!("  error: {e}");
        }
    }
    println!(
        "server RSS at the end {:.0} MiB, peak {:.0} MiB",
        fixtures::mib(rss),
        fixtures::mib(peak)
    );
    assert_eq!(total_errors, 0, "requests failed under load");
}
