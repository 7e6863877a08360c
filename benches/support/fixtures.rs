//! Synthetic backup centers at scale, as raw objects the way the API server returns them
//! (realistic metadata, labels, spec and status), for the benchmarks.

#![allow(dead_code)]

use serde_json::{Value, json};

pub struct Scale {
    pub tasks: usize,
    pub vaults: usize,
    pub schedules: usize,
    /// Per mille of tasks that failed (half Failed, half PartiallyFailed).
    pub failed_per_mille: usize,
    /// Per mille of tasks still running.
    pub active_per_mille: usize,
}

/// The target: 100 000 tasks (5 % failed, 1 % in progress), 1 000 vaults and schedules.
pub const TARGET: Scale = Scale {
    tasks: 100_000,
    vaults: 1_000,
    schedules: 1_000,
    failed_per_mille: 50,
    active_per_mille: 10,
};

pub const NAMESPACE: &str = "velero";

fn uid(kind: u32, i: usize) -> String {
    format!(
        "{kind:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        i >> 16,
        i & 0xfff,
        (i >> 4) & 0xfff,
        i
    )
}

fn time(minutes_ago: usize) -> String {
    let t = jiff::Timestamp::from_second(1_795_597_200 - (minutes_ago as i64) * 60)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn vault(i: usize) -> Value {
    json!({
        "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
        "metadata": {"name": format!("vault-{i:04}"), "namespace": NAMESPACE, "uid": uid(1, i),
                     "resourceVersion": "1", "generation": 1, "creationTimestamp": time(40_000),
                     "labels": {"component": "velero"}},
        "spec": {"provider": "aws", "default": i == 0, "accessMode": "ReadWrite",
                 "objectStorage": {"bucket": format!("backups-{i:04}"), "prefix": "cluster-a"},
                 "config": {"region": "eu-central-1", "s3Url": "https://s3.example.com"},
                 "credential": {"name": "cloud-credentials", "key": "cloud"}},
        "status": {"phase": if i % 50 == 7 { "Unavailable" } else { "Available" },
                   "lastValidationTime": time(1), "lastSyncedTime": time(1)}
    })
}

pub fn schedule(i: usize, vaults: usize) -> Value {
    let cron = [
        "0 2 * * *",
        "0 */6 * * *",
        "@every 6h",
        "0 3 * * 6",
        "30 1 * * 1-5",
    ][i % 5];
    json!({
        "apiVersion": "velero.io/v1", "kind": "Schedule",
        "metadata": {"name": format!("schedule-{i:04}"), "namespace": NAMESPACE, "uid": uid(2, i),
                     "resourceVersion": "1", "generation": 1, "creationTimestamp": time(40_000)},
        "spec": {"schedule": cron, "paused": i % 20 == 3, "useOwnerReferencesInBackup": false,
                 "template": {"storageLocation": format!("vault-{:04}", i % vaults),
                              "includedNamespaces": [format!("app-{i}")], "ttl": "720h0m0s"}},
        "status": {"phase": "Enabled", "lastBackup": time(60)}
    })
}

/// Task `i` with a given phase; names follow Velero's `<schedule>-<timestamp>`.
pub fn task(i: usize, scale: &Scale, phase: &str) -> Value {
    let schedule = i % scale.schedules;
    let started = 60 + (i % 40_000);
    let mut status = json!({
        "phase": phase, "startTimestamp": time(started), "version": 1, "formatVersion": "1.1.0",
        "expiration": time(0), "progress": {"totalItems": 812, "itemsBackedUp": 812},
        "csiVolumeSnapshotsAttempted": 2, "csiVolumeSnapshotsCompleted": 2,
    });
    if phase != "InProgress" {
        status["completionTimestamp"] = json!(time(started - 30));
    }
    if phase == "Failed" {
        status["failureReason"] = json!("velero backup process timeout");
    }
    if phase == "PartiallyFailed" {
        status["errors"] = json!(3);
        status["warnings"] = json!(1);
    }
    json!({
        "apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": format!("schedule-{schedule:04}-{i:08}"), "namespace": NAMESPACE,
                     "uid": uid(3, i), "resourceVersion": "1", "generation": 5,
                     "creationTimestamp": time(started),
                     "labels": {"velero.io/schedule-name": format!("schedule-{schedule:04}"),
                                "velero.io/storage-location": format!("vault-{:04}", i % scale.vaults)},
                     "annotations": {"velero.io/source-cluster-k8s-gitversion": "v1.33.5",
                                     "velero.io/source-cluster-k8s-major-version": "1",
                                     "velero.io/source-cluster-k8s-minor-version": "33"}},
        "spec": {"storageLocation": format!("vault-{:04}", i % scale.vaults),
                 "includedNamespaces": [format!("app-{schedule}")], "ttl": "720h0m0s",
                 "snapshotVolumes": true, "defaultVolumesToFsBackup": false,
                 "csiSnapshotTimeout": "10m0s", "itemOperationTimeout": "4h0m0s",
                 "hooks": {}, "metadata": {}},
        "status": status
    })
}

/// Task `i` as written by the `wave`-th wave of updates (one update of every task): what a
/// backup controller writes while tasks run. Every write changes the status (progress and
/// the warnings count); in odd waves one task in 50 also moves its phase (a finished task
/// back to InProgress, an unfinished one to Completed), so phase counts, flagged tasks and
/// schedule summaries change too without turning the whole fleet into per-task series.
pub fn updated_task(i: usize, wave: usize) -> Value {
    let scale = TARGET;
    let original = phase_of(i, &scale);
    let phase = match (i % 50 == wave % 50, wave % 2, original) {
        (true, 1, "InProgress") => "Completed",
        (true, 1, _) => "InProgress",
        _ => original,
    };
    let mut task = task(i, &scale, phase);
    task["status"]["progress"] = json!({"totalItems": 812, "itemsBackedUp": wave % 812});
    task["status"]["warnings"] = json!(wave % 7);
    task
}

/// The phase task `i` has at the given scale.
pub fn phase_of(i: usize, scale: &Scale) -> &'static str {
    let m = i % 1000;
    if m < scale.failed_per_mille / 2 {
        "Failed"
    } else if m < scale.failed_per_mille {
        "PartiallyFailed"
    } else if m < scale.failed_per_mille + scale.active_per_mille {
        "InProgress"
    } else {
        "Completed"
    }
}

/// Every object of a backup center at `scale`, one at a time.
pub fn for_each_object(scale: &Scale, mut f: impl FnMut(Value)) {
    (0..scale.vaults).map(vault).for_each(&mut f);
    (0..scale.schedules)
        .map(|i| schedule(i, scale.vaults))
        .for_each(&mut f);
    (0..scale.tasks)
        .map(|i| task(i, scale, phase_of(i, scale)))
        .for_each(&mut f);
}

/// Status updates to `k` tasks spread over the inventory, as the watch applies them between two
/// scrapes: a phase change for most (moving counts, flagged sets and schedule runs), a new
/// failure message for the failed. `round` varies which tasks and phases.
pub fn change_tasks(
    inventory: &mut backupscope::inventory::Inventory,
    scale: &Scale,
    k: usize,
    round: usize,
) {
    change_tasks_at(inventory, scale, k, round, round);
}

/// [`change_tasks`] of `round`'s tasks with the failure message of `tick`: the same tasks
/// changed again and again (a profiler's loop that does not flag ever more tasks).
pub fn change_tasks_at(
    inventory: &mut backupscope::inventory::Inventory,
    scale: &Scale,
    k: usize,
    round: usize,
    tick: usize,
) {
    let phases = ["Completed", "Failed", "PartiallyFailed", "InProgress"];
    for j in 0..k {
        let i = (j * 7919 + round * 104_729) % scale.tasks;
        let phase = phases[(j + round) % phases.len()];
        let mut task = task(i, scale, phase);
        if phase == "Failed" {
            task["status"]["failureReason"] =
                format!("round {tick}: velero backup process timeout").into();
        }
        if let Ok(backupscope::dialect::Mapped::Record(r)) = backupscope::dialect::map(&task) {
            inventory.apply(*r);
        }
    }
}

/// The inventory of a synthetic backup center. Objects are generated and mapped one at a time,
/// so RSS figures taken after it are the inventory's, not the generator's.
pub fn inventory(scale: &Scale) -> backupscope::inventory::Inventory {
    let mut inventory = backupscope::inventory::Inventory::new();
    for_each_object(scale, |o| {
        if let Ok(backupscope::dialect::Mapped::Record(r)) = backupscope::dialect::map(&o) {
            inventory.apply(*r);
        }
    });
    inventory
}

/// Peak and current resident memory of a process (`"self"` or a pid), in bytes (Linux /proc).
pub fn rss_of(process: &str) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// A process's CPU time so far (user + system), from /proc/<pid>/stat.
pub fn cpu_seconds(process: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

/// One sample of a text exposition, by family name and exact label text.
pub fn metric(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}{{{labels}}} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

/// The address in the line `backupscope serve` prints once it listens.
pub fn listen_address(line: &str) -> std::net::SocketAddr {
    line.trim()
        .rsplit("//")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Velero's CRDs on the test API server.
pub fn register_velero(server: &testapiserver::TestApiServer) {
    for (kind, plural) in [
        ("BackupStorageLocation", "backupstoragelocations"),
        ("Backup", "backups"),
        ("Schedule", "schedules"),
        ("Restore", "restores"),
        ("PodVolumeBackup", "podvolumebackups"),
    ] {
        server.register(testapiserver::ResourceType::new(
            "velero.io",
            "v1",
            kind,
            plural,
            true,
        ));
    }
}

/// The runtime the benches drive the test API server (and clients) on: two workers, one per
/// core of the machines the figures come from.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A test API server with Velero's CRDs and the backup center of `scale`, sized so that
/// `updates` status updates stay in every watch's buffer and in the history: the figures are
/// the apply rate, not the cost of being evicted and relisting. Returns it, the objects
/// written and how long writing them took.
pub fn loaded_server(
    rt: &tokio::runtime::Runtime,
    scale: &Scale,
    updates: usize,
) -> (testapiserver::TestApiServer, usize, std::time::Duration) {
    let server = rt
        .block_on(testapiserver::TestApiServer::start())
        .expect("start test API server");
    register_velero(&server);
    server.set_watch_buffer(updates + 1000);
    server.set_history_limit(updates * 2 + 200_000);
    let started = std::time::Instant::now();
    let objects = load(&server, scale);
    (server, objects, started.elapsed())
}

/// Writes the backup center of `scale` into the server; returns the number of objects.
pub fn load(server: &testapiserver::TestApiServer, scale: &Scale) -> usize {
    let objects = (0..scale.vaults)
        .map(vault)
        .chain((0..scale.schedules).map(|i| schedule(i, scale.vaults)))
        .chain((0..scale.tasks).map(|i| task(i, scale, phase_of(i, scale))));
    server.apply_many(objects).expect("load objects")
}
