//! Live source benchmark (issue: "Live cluster source"): the real `backupscope serve` binary,
//! as a child process so that its memory is measured alone, watches the in-repo test API
//! server loaded with 100 000 backup tasks, 1 000 vaults and 1 000 schedules. Reports
//! - time to initial sync: from spawning the child until /readyz answers 200;
//! - peak RSS (VmHWM) and steady RSS (VmRSS after settling) of the child;
//! - the rate at which it applies watch updates: N status updates are written to existing
//!   tasks and the child's `backupscope_watch_events_total` is polled until it grew by N.
//!
//! Run: `cargo bench --bench sync` (prints figures; nothing is asserted on time).
//! Optional arguments: `cargo bench --bench sync -- [updates] [rounds]`.

#[path = "support/fixtures.rs"]
mod fixtures;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(180);

/// One plain HTTP/1.0 GET; returns (status, body).
fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Sum of every sample of one metric family in a text exposition.
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

struct Serve {
    child: Child,
    addr: SocketAddr,
}

impl Serve {
    fn spawn(kubeconfig: &std::path::Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_backupscope"))
            .args(["serve", "--listen", "127.0.0.1:0", "--kubeconfig"])
            .arg(kubeconfig)
            .env("BACKUPSCOPE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn backupscope serve");
        let stdout = child.stdout.take().expect("child stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listen line");
        let addr = fixtures::listen_address(&line);
        Serve { child, addr }
    }

    fn metrics(&self) -> String {
        get(self.addr, "/metrics")
            .map(|(_, b)| b)
            .unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse::<usize>().ok());
    let updates = args.next().unwrap_or(200_000);
    let rounds = args.next().unwrap_or(3).max(1);
    let scale = fixtures::TARGET;

    let runtime = fixtures::runtime();
    let (server, count, load_time) = fixtures::loaded_server(&runtime, &scale, updates);
    println!(
        "loaded {count} objects ({} tasks, {} vaults, {} schedules) into the test API server in {:.2} s",
        scale.tasks,
        scale.vaults,
        scale.schedules,
        load_time.as_secs_f64()
    );

    let dir = std::env::temp_dir().join(format!("backupscope-bench-sync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("bench")).expect("write kubeconfig");

    let mut syncs = Vec::new();
    let mut peaks = Vec::new();
    let mut steadies = Vec::new();
    let mut rates = Vec::new();
    for round in 1..=rounds {
        let started = Instant::now();
        let serve = Serve::spawn(&kubeconfig);
        let pid = serve.child.id();
        loop {
            if matches!(get(serve.addr, "/readyz"), Ok((200, _))) {
                break;
            }
            assert!(started.elapsed() < TIMEOUT, "not ready after {TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
        let sync = started.elapsed().as_secs_f64();
        let sync_cpu = fixtures::cpu_seconds(&pid.to_string());
        let (peak_at_sync, _) = fixtures::rss_of(&pid.to_string());
        std::thread::sleep(Duration::from_secs(3));
        let (_, steady) = fixtures::rss_of(&pid.to_string());
        let text = serve.metrics();
        let tasks = fixtures::metric(&text, "backupscope_objects", "resource=\"backups\"");
        let before = metric_sum(&text, "backupscope_watch_events_total");
        println!(
            "round {round}: initial sync {sync:.2} s ({sync_cpu:.2} s CPU), {tasks} tasks in the \
             inventory, peak RSS {:.1} MiB, steady RSS {:.1} MiB",
            fixtures::mib(peak_at_sync),
            fixtures::mib(steady)
        );

        // Updates: generated first, so that building JSON in this process does not compete
        // with the child for the two cores during the measurement; then written by this
        // thread in batches while another polls the child.
        // Every wave (one update of each task) writes values no earlier wave wrote, so no
        // update is a no-op for the model.
        let waves = updates.div_ceil(scale.tasks);
        let mut pending: Vec<Value> = (0..updates)
            .map(|k| fixtures::updated_task(k % scale.tasks, (round - 1) * waves + k / scale.tasks))
            .collect();
        let cpu_before = fixtures::cpu_seconds(&pid.to_string());
        let addr = serve.addr;
        let target = before + updates as f64;
        let poller = std::thread::spawn(move || {
            let t = Instant::now();
            loop {
                let text = get(addr, "/metrics").map(|(_, b)| b).unwrap_or_default();
                let events = metric_sum(&text, "backupscope_watch_events_total");
                if events >= target || t.elapsed() > TIMEOUT {
                    return (t.elapsed().as_secs_f64(), events);
                }
                // A scrape renders every per-task series, so polling often would measure
                // scrapes: poll slowly until the end is near, then finely.
                let near = target - events < updates as f64 / 10.0;
                std::thread::sleep(Duration::from_millis(if near { 20 } else { 500 }));
            }
        });
        let written = Instant::now();
        let mut sent = 0;
        while !pending.is_empty() {
            let batch: Vec<Value> = pending.drain(..pending.len().min(1000)).collect();
            sent += server.apply_many(batch).expect("write updates");
        }
        assert_eq!(sent, updates);
        let write_time = written.elapsed().as_secs_f64();
        let (applied_time, events) = poller.join().expect("poller");
        let applied = events - before;
        let rate = applied / applied_time;
        let cpu = fixtures::cpu_seconds(&pid.to_string()) - cpu_before;
        let (peak, rss_after) = fixtures::rss_of(&pid.to_string());
        let text = serve.metrics();
        let tasks_after = fixtures::metric(&text, "backupscope_objects", "resource=\"backups\"");
        println!(
            "round {round}: {updates} updates written in {write_time:.2} s; backupscope applied \
             {applied} in {applied_time:.2} s = {rate:.0} updates/s ({cpu:.2} s CPU, {:.1} µs \
             CPU per update); {tasks_after} tasks after; peak RSS {:.1} MiB, RSS {:.1} MiB",
            cpu * 1e6 / applied.max(1.0),
            fixtures::mib(peak),
            fixtures::mib(rss_after)
        );
        syncs.push(sync);
        peaks.push(fixtures::mib(peak));
        steadies.push(fixtures::mib(steady));
        rates.push(rate);
        drop(serve);
    }
    let stats = server.stats();
    println!(
        "test API server: {} lists, {} watches opened, {} watch events sent, {} watchers evicted",
        stats.requests("list"),
        stats.watches_opened,
        stats.watch_events_sent,
        stats.watchers_evicted
    );
    println!(
        "median of {rounds}: initial sync {:.2} s (target <= 10 s), peak RSS {:.1} MiB (target <= \
         250 MB = 238.4 MiB), steady RSS {:.1} MiB, {:.0} updates/s (target >= 20 000)",
        fixtures::median(syncs),
        fixtures::median(peaks),
        fixtures::median(steadies),
        fixtures::median(rates)
    );
    let _ = std::fs::remove_dir_all(&dir);
    runtime.block_on(server.shutdown());
}
