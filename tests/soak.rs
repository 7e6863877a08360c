//! A long production run compressed into a bounded test: two `backupscope serve` replicas
//! (leader election with a Lease, Warning events on) watch the in-repo test API server while
//! it takes ~200 mutations a second for `SOAK_SECONDS` (default 30) with faults: dropped
//! watches, compaction (410 on resume), bursts of 500s, slow responses, and the leader killed
//! and replaced mid-run. Afterwards:
//! - every replica's backup-center metrics equal what the library renders from the server's
//!   final objects (the inventory equals the server's state);
//! - every failed task got exactly one Warning event, and nothing else got one;
//! - `/metrics` answered every scrape of a running replica;
//! - the survivor's memory levelled off (its RSS in the last third of the run is within a
//!   bound of the first third's).

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/lcg.rs"]
mod lcg;
mod support;

use backupscope::center::BackupCenter;
use backupscope::inventory::Inventory;
use backupscope::metrics::collector::{CollectOptions, Collector};
use backupscope::metrics::exposition::{Format, TextEncoder};
use lcg::Lcg;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::serve::Serve;
use support::tempdir::TempDir;
use testapiserver::TestApiServer;

const NS: &str = "velero";
const VAULTS: usize = 12;
const SCHEDULES: usize = 6;
/// Live backups kept around this many: creations and deletions balance, so memory must too.
const POOL: usize = 400;
const RATE_PER_SECOND: u64 = 200;
const CONVERGE: Duration = Duration::from_secs(60);

fn soak_seconds() -> u64 {
    std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn vault(i: usize, phase: &str) -> Value {
    json!({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
        "metadata": {"name": format!("vault-{i}"), "namespace": NS},
        "spec": {"provider": "aws", "objectStorage": {"bucket": format!("bucket-{i}")},
                 "config": {"region": "eu-west-1"}},
        "status": {"phase": phase, "lastValidationTime": now_rfc3339()}})
}

fn schedule(i: usize) -> Value {
    json!({"apiVersion": "velero.io/v1", "kind": "Schedule",
        "metadata": {"name": format!("sched-{i}"), "namespace": NS},
        "spec": {"schedule": "0 */6 * * *",
                 "template": {"storageLocation": format!("vault-{}", i % VAULTS)}},
        "status": {"phase": "Enabled"}})
}

/// A task in the soak's life cycle: New -> InProgress -> Completed | Failed | PartiallyFailed.
#[derive(Clone)]
struct Task {
    name: String,
    vault: usize,
    schedule: Option<usize>,
    phase: &'static str,
    progress: u64,
}

impl Task {
    fn object(&self) -> Value {
        let mut labels = serde_json::Map::new();
        if let Some(s) = self.schedule {
            labels.insert(
                "velero.io/schedule-name".into(),
                json!(format!("sched-{s}")),
            );
        }
        let mut status = json!({"phase": self.phase, "startTimestamp": now_rfc3339(),
            "progress": {"itemsBackedUp": self.progress, "totalItems": 1000}});
        if matches!(self.phase, "Completed" | "Failed" | "PartiallyFailed") {
            status["completionTimestamp"] = json!(now_rfc3339());
        }
        if self.phase == "Failed" {
            status["failureReason"] = json!("soak: injected failure");
        }
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": self.name, "namespace": NS, "labels": labels},
            "spec": {"storageLocation": format!("vault-{}", self.vault)},
            "status": status})
    }

    fn failed(&self) -> bool {
        matches!(self.phase, "Failed" | "PartiallyFailed")
    }
}

/// Drives the server: one mutation per call; failures stay (only Completed tasks are deleted),
/// so the set of tasks that must get an event only grows.
struct Driver {
    rng: Lcg,
    live: BTreeMap<String, Task>,
    next: u64,
    mutations: u64,
}

impl Driver {
    fn step(&mut self, server: &TestApiServer) {
        self.mutations += 1;
        let roll = self.rng.next(100);
        let open: Vec<String> = self
            .live
            .values()
            .filter(|t| matches!(t.phase, "New" | "InProgress"))
            .map(|t| t.name.clone())
            .collect();
        if roll < 5 {
            let i = self.rng.index(VAULTS);
            let phase = if self.rng.next(3) == 0 {
                "Unavailable"
            } else {
                "Available"
            };
            server.apply(vault(i, phase)).expect("apply vault");
        } else if roll < 35 || open.is_empty() {
            if self.live.values().filter(|t| !t.failed()).count() >= POOL {
                return self.delete_completed(server);
            }
            self.next += 1;
            let task = Task {
                name: format!("soak-{:06}", self.next),
                vault: self.rng.index(VAULTS),
                schedule: (self.rng.next(2) == 0).then(|| self.rng.index(SCHEDULES)),
                phase: "New",
                progress: 0,
            };
            server.apply(task.object()).expect("apply new backup");
            self.live.insert(task.name.clone(), task);
        } else if roll < 85 {
            let name = &open[self.rng.index(open.len())];
            let task = self.live.get_mut(name).expect("open task");
            task.phase = match (task.phase, self.rng.next(20)) {
                ("New", _) => "InProgress",
                (_, 0..=13) => "Completed",
                (_, 14..=16) => "Failed",
                (_, 17..=18) => "PartiallyFailed",
                _ => "InProgress",
            };
            task.progress += 1 + self.rng.next(100);
            server.apply(task.object()).expect("apply backup update");
        } else {
            self.delete_completed(server);
        }
    }

    fn delete_completed(&mut self, server: &TestApiServer) {
        let done: Vec<String> = self
            .live
            .values()
            .filter(|t| t.phase == "Completed")
            .map(|t| t.name.clone())
            .collect();
        if done.is_empty() {
            return;
        }
        let name = done[self.rng.index(done.len())].clone();
        server
            .delete("velero.io/v1", "Backup", Some(NS), &name)
            .expect("delete backup");
        self.live.remove(&name);
    }
}

/// The backup-center families a replica must agree on with the library. Left out: the
/// warning-event totals (counters since the process started) and doctor findings (they use
/// the API server's version, which a snapshot of objects does not carry).
fn center_lines(exposition: &str) -> Vec<String> {
    exposition
        .lines()
        .filter(|l| l.starts_with("backupcenter_"))
        .filter(|l| {
            !l.starts_with("backupcenter_warning_events_total")
                && !l.starts_with("backupcenter_doctor_findings")
        })
        .map(str::to_string)
        .collect()
}

/// What the library renders from the server's objects right now.
fn expected_lines(server: &TestApiServer) -> Vec<String> {
    let objects: Vec<Value> = cluster::all_kinds()
        .into_iter()
        .flat_map(|(api, kind)| server.list_objects(api, kind))
        .collect();
    let inventory = Inventory::from_objects(&objects);
    let center = BackupCenter::new(&inventory, jiff::Timestamp::now());
    let mut out = Vec::new();
    let mut encoder = TextEncoder::new(&mut out, Format::Prometheus004);
    Collector::new(CollectOptions::default()).collect_center(&center, &mut encoder);
    encoder.finish();
    center_lines(&String::from_utf8(out).expect("UTF-8"))
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn start_replica(kubeconfig: &std::path::Path, id: &str) -> Serve {
    let args: Vec<OsString> = [
        "--kubeconfig",
        &kubeconfig.to_string_lossy(),
        "--event-interval",
        "200ms",
        "--lease",
        "velero/backupscope",
        "--lease-duration",
        "3s",
        "--identity",
        id,
    ]
    .iter()
    .map(OsString::from)
    .collect();
    tokio::task::spawn_blocking(move || Serve::start(&args))
        .await
        .expect("start serve")
}

/// The scrapes of one replica: every 250 ms until stopped, answers and failures counted.
struct Scrapes {
    id: String,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Scrapes {
    fn start(id: &str, serve: &Serve) -> Scrapes {
        let scrapes = Scrapes {
            id: id.to_string(),
            ok: Arc::default(),
            failed: Arc::default(),
            stop: Arc::default(),
        };
        let (url, ok, failed, stop) = (
            serve.url("/metrics"),
            scrapes.ok.clone(),
            scrapes.failed.clone(),
            scrapes.stop.clone(),
        );
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match support::http::try_get_with(&support::http::client(), &url, &[]).await {
                    Ok(r) if r.status == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        scrapes
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_with_faults_converges_with_one_event_per_failure() {
    let server = TestApiServer::start().await.expect("test API server");
    cluster::register_velero(&server);
    cluster::register_ack(&server);
    for i in 0..VAULTS {
        server.apply(vault(i, "Available")).expect("vault");
    }
    for i in 0..SCHEDULES {
        server.apply(schedule(i)).expect("schedule");
    }
    let dir = TempDir::new("soak");
    let kubeconfig = dir.write("kubeconfig", server.kubeconfig_yaml("soak"));
    let mut replicas: BTreeMap<String, Serve> = BTreeMap::new();
    for id in ["replica-a", "replica-b"] {
        replicas.insert(id.into(), start_replica(&kubeconfig, id).await);
    }
    let mut scrapes: Vec<Scrapes> = replicas
        .iter()
        .map(|(id, serve)| Scrapes::start(id, serve))
        .collect();

    let seconds = soak_seconds();
    let total = Duration::from_secs(seconds);
    let mut driver = Driver {
        rng: Lcg(0x50a4_0001),
        live: BTreeMap::new(),
        next: 0,
        mutations: 0,
    };
    let started = Instant::now();
    let mut faults_done = BTreeSet::new();
    let mut rss: BTreeMap<String, Vec<(Duration, u64)>> = BTreeMap::new();
    let mut killed: Option<String> = None;
    let tick = Duration::from_millis(50);
    let per_tick = RATE_PER_SECOND * tick.as_millis() as u64 / 1000;
    while started.elapsed() < total {
        for _ in 0..per_tick {
            driver.step(&server);
        }
        let at = started.elapsed().as_secs_f64() / seconds as f64;
        // Each fault once, at its point of the run.
        let mut once = |name: &'static str, from: f64| at >= from && faults_done.insert(name);
        if once("drop watches", 0.15) {
            server.drop_watches();
        }
        if once("compact", 0.25) {
            server.set_history_limit(50);
            server.compact();
            server.drop_watches();
        }
        if once("500s", 0.35) {
            server.fail_next(8, 500);
        }
        if once("slow", 0.45) {
            server.set_latency(Duration::from_millis(300));
        }
        if once("fast again", 0.55) {
            server.set_latency(Duration::ZERO);
        }
        if once("kill leader", 0.5) {
            let leader = cluster::lease_holder(&server, NS, "backupscope")
                .expect("a lease holder by mid-run");
            let entry = scrapes.iter().find(|s| s.id == leader).expect("leader");
            entry.stop.store(true, Ordering::Relaxed);
            drop(replicas.remove(&leader));
            killed = Some(leader);
            let fresh = start_replica(&kubeconfig, "replica-c").await;
            scrapes.push(Scrapes::start("replica-c", &fresh));
            replicas.insert("replica-c".into(), fresh);
        }
        if once("drop again", 0.8) {
            server.drop_watches();
        }
        for (id, replica) in &replicas {
            if let Some(kib) = rss_kib(replica.pid()) {
                rss.entry(id.clone())
                    .or_default()
                    .push((started.elapsed(), kib));
            }
        }
        tokio::time::sleep(tick).await;
    }
    let mutations = driver.mutations;
    let elapsed = started.elapsed();

    // Convergence: every replica's metrics equal the library's rendering of the server.
    let want = expected_lines(&server);
    assert!(want.len() > 50, "too little state to compare: {want:?}");
    for (id, serve) in &replicas {
        let deadline = Instant::now() + CONVERGE;
        loop {
            let body = support::http::get(&serve.url("/metrics"), &[]).await.text();
            let got = center_lines(&body);
            if got == want {
                break;
            }
            if Instant::now() > deadline {
                let missing: Vec<_> = want.iter().filter(|l| !got.contains(l)).take(10).collect();
                let extra: Vec<_> = got.iter().filter(|l| !want.contains(l)).take(10).collect();
                panic!(
                    "{id} did not converge within {CONVERGE:?}: missing {missing:#?}\nextra \
                     {extra:#?}\n{}",
                    serve.stderr()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    // One Warning event per failed task, none for anything else.
    let must: BTreeSet<&str> = driver
        .live
        .values()
        .filter(|t| t.failed())
        .map(|t| t.name.as_str())
        .collect();
    assert!(
        must.len() > 20,
        "too few failures to prove anything: {}",
        must.len()
    );
    let deadline = Instant::now() + CONVERGE;
    loop {
        let events = cluster::our_events(&server);
        let mut per_task: BTreeMap<String, usize> = BTreeMap::new();
        for e in &events {
            let about = e["involvedObject"]["name"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            *per_task.entry(about).or_default() += 1;
        }
        let twice: Vec<_> = per_task.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "events written twice: {twice:?}");
        let strays: Vec<_> = per_task
            .keys()
            .filter(|k| !must.contains(k.as_str()))
            .collect();
        assert!(
            strays.is_empty(),
            "events about tasks that did not fail: {strays:?}"
        );
        if per_task.len() == must.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} failed tasks have their event",
            per_task.len(),
            must.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Every scrape of a running replica answered.
    let mut answered = 0;
    for s in &scrapes {
        s.stop.store(true, Ordering::Relaxed);
        let (ok, failed) = (
            s.ok.load(Ordering::Relaxed),
            s.failed.load(Ordering::Relaxed),
        );
        if Some(&s.id) == killed.as_ref() {
            continue;
        }
        assert_eq!(
            failed,
            0,
            "{}: {failed} of {} scrapes failed",
            s.id,
            ok + failed
        );
        answered += ok;
    }
    assert!(answered > 2 * seconds, "only {answered} scrapes answered");

    // Memory levelled off: the last third's peak within 25 % (+16 MiB of allocator slack)
    // of the first third's, for the replica that ran the whole time.
    let third = elapsed / 3;
    let survivor = ["replica-a", "replica-b"]
        .into_iter()
        .find(|id| Some(*id) != killed.as_deref())
        .expect("one of the first two replicas survives");
    let rss = &rss[survivor];
    let peak = |from: Duration, to: Duration| {
        rss.iter()
            .filter(|(t, _)| *t >= from && *t < to)
            .map(|(_, k)| *k)
            .max()
            .unwrap_or(0)
    };
    let (early, late) = (peak(Duration::ZERO, third), peak(2 * third, elapsed));
    assert!(early > 0 && late > 0, "no RSS samples: {rss:?}");
    assert!(
        late <= early + early / 4 + 16 * 1024,
        "RSS grew from {early} KiB to {late} KiB"
    );
    eprintln!(
        "soak: {mutations} mutations in {elapsed:?} ({:.0}/s), {} failed tasks, {answered} \
         scrapes answered, {survivor} RSS {early} KiB early / {late} KiB late, leader killed: \
         {killed:?}",
        mutations as f64 / elapsed.as_secs_f64(),
        must.len()
    );
    drop(replicas);
    server.shutdown().await;
}
