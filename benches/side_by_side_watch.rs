//! Item (b) of the side by side: watch to inventory, backupscope's own live source against the
//! bare kube-rs reflector a user would write instead, fed the same events.
//!
//! The test API server runs in this process, loaded with the benchmark's backup center
//! (100 000 Velero Backups, 1 000 BackupStorageLocations, 1 000 Schedules). Each contender runs
//! in a child process of this binary, so its RSS and CPU are its own:
//!
//! - `backupscope`: the library's live source (`source::kube::client` and `spawn_watches`,
//!   the loop `serve` runs for each target) into an `Inventory`, for the three resources in
//!   namespace `velero`, at its default page size (100), and again at the watcher's (500);
//! - `reflector`: a `kube::runtime::reflector` store fed by `reflector(writer, stream)` from
//!   `watcher(Api::<DynamicObject>::all_with, watcher::Config::default())` (pages of 500), for
//!   the same three resources, holding the full objects.
//!
//! Discovery is left out on both sides: the targets are given. For each contender it reports
//! the time to initial sync (every list applied, store populated), peak RSS at that point and
//! steady RSS 3 s later; then N status updates of existing Backups (`fixtures::updated_task`)
//! are written while the child is stopped (SIGSTOP), so the server buffers them in the watch,
//! and the child is continued: the time until it has applied all N (a backlog drained, not
//! bounded by how fast this process writes), the child's CPU per update and its RSS after.
//! Rounds alternate the contenders; medians and ratios (backupscope / reflector) at the end.
//!
//!   scripts/side-by-side.sh                              (runs this among the others)
//!   cargo bench --bench side_by_side_watch -- [updates] [rounds]    (100 000, 3)

#[path = "support/fixtures.rs"]
mod fixtures;

use backupscope::inventory::Inventory;
use backupscope::model::{Engine, RecordKind};
use backupscope::source::health::SourceHealth;
use backupscope::source::kube::{KubeArgs, Target};
use futures::{FutureExt, StreamExt};
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::GroupVersionKind;
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use testapiserver::TestApiServer;

/// The longest any one wait of a child may take (sync, or applying the updates).
const TIMEOUT: Duration = Duration::from_secs(300);
/// backupscope at its default page size (100), backupscope at the reflector's (500), the
/// kube-rs reflector; ratios are of the first to the last.
const CONTENDERS: [&str; 3] = ["backupscope", "backupscope-page500", "reflector"];
/// (kind, plural, what backupscope makes of it).
const RESOURCES: [(&str, &str, RecordKind); 3] = [
    (
        "BackupStorageLocation",
        "backupstoragelocations",
        RecordKind::Vault,
    ),
    ("Backup", "backups", RecordKind::Backup),
    ("Schedule", "schedules", RecordKind::Schedule),
];

fn api_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("velero.io", "v1", kind), plural)
}

/// What a contender exposes to the measuring loop of its child.
trait Contender {
    /// Whether the initial list of every resource is in the store.
    fn synced(&self) -> bool;
    /// Objects received so far (list items and watch events).
    fn events(&self) -> u64;
    /// Objects held once everything received has been applied.
    fn held(&self) -> usize;
    /// Failed requests or streams so far (none expected; reported, so a run that recovered
    /// from errors is not mistaken for a clean one).
    fn errors(&self) -> u64;
}

struct Backupscope {
    inventory: Arc<RwLock<Inventory>>,
    health: Arc<SourceHealth>,
    _watches: Vec<tokio::task::JoinHandle<()>>,
}

impl Backupscope {
    fn start(rt: &tokio::runtime::Runtime, kubeconfig: &Path, page_size: u32) -> Self {
        let args = KubeArgs {
            kubeconfig: Some(kubeconfig.to_path_buf()),
            context: None,
            ack_namespace: backupscope::dialect::ack::NAMESPACE.to_string(),
            velero_namespace: vec![fixtures::NAMESPACE.to_string()],
            page_size,
            // `--request-timeout` at its default.
            request_timeout: Duration::from_secs(30),
        };
        let client = rt
            .block_on(backupscope::source::kube::client(&args))
            .expect("backupscope client");
        let targets = RESOURCES
            .iter()
            .map(|(kind, plural, record)| Target {
                source: format!("{}/{plural}", fixtures::NAMESPACE),
                resource: api_resource(kind, plural),
                namespace: fixtures::NAMESPACE.to_string(),
                labels: None,
                fields: None,
                kind: *record,
                engine: Some(Engine::Velero),
            })
            .collect();
        let inventory = Arc::new(RwLock::new(Inventory::new()));
        let health = Arc::new(SourceHealth::new());
        let _entered = rt.enter();
        let watches = backupscope::source::kube::spawn_watches(
            &client,
            targets,
            args.page_size,
            inventory.clone(),
            health.clone(),
        );
        Backupscope {
            inventory,
            health,
            _watches: watches,
        }
    }
}

impl Contender for Backupscope {
    fn synced(&self) -> bool {
        let states = self.health.snapshot();
        states.len() == RESOURCES.len() && states.values().all(|s| s.synced)
    }

    fn events(&self) -> u64 {
        self.health.snapshot().values().map(|s| s.events).sum()
    }

    fn held(&self) -> usize {
        // The read lock waits for a batch still being applied under the write lock.
        let inventory = self.inventory.read().expect("inventory lock");
        inventory.object_counts().iter().map(|(_, n)| n).sum()
    }

    fn errors(&self) -> u64 {
        let states = self.health.snapshot();
        states.values().filter(|s| !s.last_error.is_empty()).count() as u64
    }
}

struct Reflector {
    stores: Vec<reflector::Store<DynamicObject>>,
    events: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
}

impl Reflector {
    /// What a kube-rs user writes: a client from the kubeconfig, and per resource a store, a
    /// watcher with the default config and backoff, and a reflector feeding the store.
    fn start(rt: &tokio::runtime::Runtime, kubeconfig: &Path) -> Self {
        let client = rt.block_on(async {
            let kubeconfig = kube::config::Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .expect("kube config");
            kube::Client::try_from(config).expect("kube client")
        });
        let events = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let mut stores = Vec::new();
        for (kind, plural, _) in RESOURCES {
            let ar = api_resource(kind, plural);
            let writer = Writer::<DynamicObject>::new(ar.clone());
            stores.push(writer.as_reader());
            let api = Api::<DynamicObject>::all_with(client.clone(), &ar);
            let stream = watcher(api, watcher::Config::default()).default_backoff();
            let (events, errors) = (events.clone(), errors.clone());
            rt.spawn(reflector::reflector(writer, stream).for_each(move |event| {
                match event {
                    Ok(
                        watcher::Event::InitApply(_)
                        | watcher::Event::Apply(_)
                        | watcher::Event::Delete(_),
                    ) => {
                        events.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("reflector {plural}: {e}");
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                futures::future::ready(())
            }));
        }
        Reflector {
            stores,
            events,
            errors,
        }
    }
}

impl Contender for Reflector {
    fn synced(&self) -> bool {
        // A store is ready once its watcher's first InitDone has been applied.
        self.stores
            .iter()
            .all(|s| matches!(s.wait_until_ready().now_or_never(), Some(Ok(()))))
    }

    fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    fn held(&self) -> usize {
        self.stores.iter().map(|s| s.len()).sum()
    }

    fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}

/// Polls until `done`, at most [`TIMEOUT`]; `what` names the wait in the panic.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < TIMEOUT,
            "{what}: not done after {TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// One contender, in this (child) process. Prints a JSON line once synced, then reads the
/// number of updates to expect from stdin (the parent writes it while this process is
/// stopped), prints a second line once they are applied, and exits.
fn child(name: &str, kubeconfig: &Path, objects: usize) {
    let started = Instant::now();
    let rt = fixtures::runtime();
    let contender: Box<dyn Contender> = match name {
        // `--page-size` at its default, and at the watcher's default.
        "backupscope" => Box::new(Backupscope::start(&rt, kubeconfig, 100)),
        "backupscope-page500" => Box::new(Backupscope::start(&rt, kubeconfig, 500)),
        "reflector" => Box::new(Reflector::start(&rt, kubeconfig)),
        other => panic!("unknown contender {other:?}; expected one of {CONTENDERS:?}"),
    };
    wait_for("initial sync", || contender.synced());
    let sync_s = started.elapsed().as_secs_f64();
    let sync_cpu = fixtures::cpu_seconds("self");
    let (peak_sync, _) = fixtures::rss_of("self");
    let held = contender.held();
    assert_eq!(held, objects, "{name} holds {held} objects after sync");
    std::thread::sleep(Duration::from_secs(3));
    let (_, steady) = fixtures::rss_of("self");
    let base = contender.events();
    let cpu_before = fixtures::cpu_seconds("self");
    println!(
        "{}",
        json!({"sync_s": sync_s, "sync_cpu_s": sync_cpu, "peak_sync": peak_sync,
               "steady": steady, "events": base})
    );
    std::io::stdout().flush().expect("stdout");

    let mut line = String::new();
    std::io::stdin().read_line(&mut line).expect("read stdin");
    let updates: u64 = line.trim().parse().expect("the number of updates on stdin");
    wait_for("updates", || contender.events() >= base + updates);
    let held_after = contender.held();
    let cpu = fixtures::cpu_seconds("self") - cpu_before;
    let (peak, rss) = fixtures::rss_of("self");
    println!(
        "{}",
        json!({"applied": contender.events() - base, "held": held_after, "cpu_s": cpu,
               "peak": peak, "rss": rss, "errors": contender.errors()})
    );
    std::io::stdout().flush().expect("stdout");
    drop(contender);
    rt.shutdown_timeout(Duration::from_secs(1));
}

/// A contender's child process, killed if the run ends early.
struct Run {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Run {
    fn spawn(name: &str, kubeconfig: &Path, objects: usize) -> Run {
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .args(["--contender", name])
            .arg(kubeconfig)
            .arg(objects.to_string())
            .env("BACKUPSCOPE_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn a contender");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("child stdout"));
        Run {
            child,
            stdin,
            stdout,
        }
    }

    /// The child's next JSON line; it ends its own waits within [`TIMEOUT`], so this returns.
    fn report(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read the child");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("the child failed: {line:?}"))
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A line of the summary: its label and the figure of a run.
type Row = (&'static str, fn(&Figures) -> f64);

struct Figures {
    sync_s: f64,
    sync_cpu_s: f64,
    peak_sync: f64,
    steady: f64,
    rate: f64,
    cpu_us: f64,
    peak: f64,
    rss: f64,
}

fn run(
    server: &TestApiServer,
    name: &str,
    kubeconfig: &Path,
    pending: Vec<Value>,
    objects: usize,
) -> Figures {
    let updates = pending.len();
    let mut run = Run::spawn(name, kubeconfig, objects);
    let synced = run.report();
    let num = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);

    run.signal("-STOP");
    let written = Instant::now();
    let mut pending = pending;
    let mut sent = 0;
    while !pending.is_empty() {
        let batch: Vec<Value> = pending.drain(..pending.len().min(1000)).collect();
        sent += server.apply_many(batch).expect("write updates");
    }
    assert_eq!(sent, updates);
    let write_s = written.elapsed().as_secs_f64();
    let mut stdin = run.stdin.take().expect("child stdin");
    writeln!(stdin, "{updates}").expect("tell the child");
    drop(stdin);
    run.signal("-CONT");
    let continued = Instant::now();
    let applied = run.report();
    let drain_s = continued.elapsed().as_secs_f64();
    let _ = run.child.wait();

    let n = num(&applied, "applied");
    let f = Figures {
        sync_s: num(&synced, "sync_s"),
        sync_cpu_s: num(&synced, "sync_cpu_s"),
        peak_sync: fixtures::mib(num(&synced, "peak_sync") as u64),
        steady: fixtures::mib(num(&synced, "steady") as u64),
        rate: n / drain_s,
        cpu_us: num(&applied, "cpu_s") * 1e6 / n.max(1.0),
        peak: fixtures::mib(num(&applied, "peak") as u64),
        rss: fixtures::mib(num(&applied, "rss") as u64),
    };
    println!(
        "{name:>19}: initial sync {:.2} s ({:.2} s CPU), peak RSS at sync {:.1} MiB, steady {:.1} \
         MiB; {updates} updates written in {write_s:.2} s while stopped, {n} applied in \
         {drain_s:.2} s = {:.0} updates/s, {:.1} µs CPU per update, {} objects held; peak RSS \
         {:.1} MiB, RSS after {:.1} MiB; {} errors",
        f.sync_s,
        f.sync_cpu_s,
        f.peak_sync,
        f.steady,
        f.rate,
        f.cpu_us,
        applied["held"],
        f.peak,
        f.rss,
        applied["errors"]
    );
    f
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--contender") {
        let name = &args[i + 1];
        let kubeconfig = PathBuf::from(&args[i + 2]);
        let objects = args[i + 3].parse().expect("object count");
        return child(name, &kubeconfig, objects);
    }
    let mut numbers = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse::<usize>().ok());
    let updates = numbers.next().unwrap_or(100_000);
    let rounds = numbers.next().unwrap_or(3).max(1);
    let scale = fixtures::TARGET;

    let rt = fixtures::runtime();
    let (server, objects, load_time) = fixtures::loaded_server(&rt, &scale, updates);
    println!(
        "loaded {objects} objects ({} Backups, {} BSLs, {} Schedules) in {:.2} s; {updates} \
         updates per run, {rounds} rounds",
        scale.tasks,
        scale.vaults,
        scale.schedules,
        load_time.as_secs_f64()
    );
    let dir = std::env::temp_dir().join(format!("backupscope-side-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("bench")).expect("write kubeconfig");

    let mut figures: [Vec<Figures>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let waves = updates.div_ceil(scale.tasks);
    let mut wave = 0;
    for _ in 0..rounds {
        for (c, name) in CONTENDERS.iter().enumerate() {
            // Generated before the child starts, so it does not compete for the cores; every
            // run writes values no earlier run wrote, so no update is a no-op.
            let pending: Vec<Value> = (0..updates)
                .map(|k| fixtures::updated_task(k % scale.tasks, wave + k / scale.tasks))
                .collect();
            wave += waves;
            figures[c].push(run(&server, name, &kubeconfig, pending, objects));
        }
    }
    let stats = server.stats();
    println!(
        "test API server: {} lists, {} watches opened, {} watch events sent, {} watchers evicted",
        stats.requests("list"),
        stats.watches_opened,
        stats.watch_events_sent,
        stats.watchers_evicted
    );
    let median =
        |c: usize, f: fn(&Figures) -> f64| fixtures::median(figures[c].iter().map(f).collect());
    println!(
        "\nmedian of {rounds} | backupscope | backupscope, pages of 500 | kube-rs reflector | \
         backupscope / reflector | backupscope pages of 500 / reflector"
    );
    let rows: [Row; 8] = [
        ("initial sync (s)", |f| f.sync_s),
        ("CPU of the initial sync (s)", |f| f.sync_cpu_s),
        ("peak RSS at sync (MiB)", |f| f.peak_sync),
        ("steady RSS after sync (MiB)", |f| f.steady),
        ("updates/s (backlog drained)", |f| f.rate),
        ("CPU per update (µs)", |f| f.cpu_us),
        ("peak RSS after updates (MiB)", |f| f.peak),
        ("RSS after updates (MiB)", |f| f.rss),
    ];
    for (label, f) in rows {
        let (b, p, r) = (median(0, f), median(1, f), median(2, f));
        println!(
            "{label} | {b:.2} | {p:.2} | {r:.2} | {:.2} | {:.2}",
            b / r,
            p / r
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    rt.block_on(server.shutdown());
}
