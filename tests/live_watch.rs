//! The live source's watches against the test API server: after scripted and randomized
//! changes, dropped connections, 410 relists, injected errors and a forbidden resource, the
//! inventory equals what the server holds (mapped through the same dialects), with no ghost
//! and no lost object, and every source's health tells the truth.
//!
//! Every wait polls with a deadline and fails with a summary of the differences.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/lcg.rs"]
mod lcg;
use lcg::Lcg;

use backupscope::inventory::{Inventory, TaskIndex};
use backupscope::source::health::SourceHealth;
use backupscope::source::kube::{self as live, KubeArgs};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use testapiserver::TestApiServer;

/// Every convergence wait is bounded by this.
const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

/// backupscope watching a test API server.
struct Live {
    server: TestApiServer,
    inventory: Arc<RwLock<Inventory>>,
    health: Arc<SourceHealth>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    sources: Vec<String>,
}

impl Live {
    /// Starts a server with both backup systems' CRDs, lets `fill` load it, then plans and
    /// starts the watches exactly as `serve` does.
    async fn start(fill: impl FnOnce(&TestApiServer)) -> Live {
        let server = TestApiServer::start().await.expect("start server");
        cluster::register_ack(&server);
        cluster::register_velero(&server);
        fill(&server);
        let kubeconfig =
            Kubeconfig::from_yaml(&server.kubeconfig_yaml("live-watch")).expect("kubeconfig");
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("config");
        let args = KubeArgs {
            kubeconfig: None,
            context: None,
            ack_namespace: "csdr".into(),
            velero_namespace: vec!["velero".into()],
            page_size: 7, // small pages: every relist of the examples spans several
            request_timeout: Duration::from_secs(10),
        };
        // The client stack `serve` uses, request timeout included.
        let client = live::bounded_client(config, args.request_timeout).expect("client");
        let targets = live::plan(&client, &args).await.expect("plan").targets;
        let sources = targets.iter().map(|t| t.source.clone()).collect();
        let inventory = Arc::new(RwLock::new(Inventory::new()));
        let health = Arc::new(SourceHealth::new());
        let tasks = live::spawn_watches(
            &client,
            targets,
            args.page_size,
            inventory.clone(),
            health.clone(),
        );
        Live {
            server,
            inventory,
            health,
            tasks,
            sources,
        }
    }

    async fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
        self.server.shutdown().await;
    }

    /// Waits until the inventory equals the server's state and every source but `down` is
    /// up and synced.
    async fn converge(&self, what: &str, down: &[&str]) {
        self.converge_without(what, down, &[]).await;
    }

    /// [`converge`](Self::converge), not expecting the objects of the `unread` sources.
    async fn converge_without(&self, what: &str, down: &[&str], unread: &[&str]) {
        let deadline = Instant::now() + WAIT;
        loop {
            let want = expected(&self.server, unread);
            let mut problems = {
                let inv = self.inventory.read().expect("inventory lock");
                differences(&inv, &want)
            };
            for (source, state) in self.health.snapshot() {
                let should_be_up = !down.contains(&source.as_str());
                if should_be_up && !(state.up && state.synced) {
                    problems.push(format!("source {source} not up and synced: {state:?}"));
                }
            }
            if problems.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: not converged after {WAIT:?}:\n  {}\nserver stats: {:?}",
                    problems.join("\n  "),
                    self.server.stats()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until `check` holds for the health of `source`.
    async fn wait_health(
        &self,
        source: &str,
        what: &str,
        check: impl Fn(&backupscope::source::health::SourceState) -> bool,
    ) {
        let deadline = Instant::now() + WAIT;
        loop {
            let snapshot = self.health.snapshot();
            if snapshot.get(source).is_some_and(&check) {
                return;
            }
            if Instant::now() > deadline {
                panic!("{what}: {source} is {:?}", snapshot.get(source));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Whether backupscope's plan reads this object: the namespaces and selectors it watches with
/// `--ack-namespace csdr --velero-namespace velero` when both backup systems are installed.
fn in_scope(obj: &Value) -> bool {
    let api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let backup_namespace = ns == "csdr" || ns == "velero";
    match (api, kind) {
        (cluster::ACK_API, _) => ns == "csdr",
        (cluster::VELERO_API, _) => backup_namespace,
        ("apps/v1", "Deployment") => {
            backup_namespace || (ns == "kube-system" && name == "migrate-controller")
        }
        ("v1", "Pod") => {
            backup_namespace
                || (ns == "kube-system"
                    && obj.pointer("/metadata/labels/app").and_then(Value::as_str)
                        == Some("migrate-controller"))
        }
        _ => backup_namespace,
    }
}

/// The `source` label of the stream an object arrives on: `<namespace>/<plural>`.
fn source_of(obj: &Value) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let plural = cluster::ACK_KINDS
        .iter()
        .chain(cluster::VELERO_KINDS.iter())
        .find(|(k, _)| *k == kind)
        .map_or_else(
            || format!("{}s", kind.to_lowercase()),
            |(_, p)| p.to_string(),
        );
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    format!("{ns}/{plural}")
}

/// The server's truth, mapped through the dialects into a fresh inventory, leaving out the
/// objects of the `unread` sources.
fn expected(server: &TestApiServer, unread: &[&str]) -> Inventory {
    let objects: Vec<_> = cluster::all_kinds()
        .into_iter()
        .flat_map(|(api, kind)| server.list_objects(api, kind))
        .filter(|obj| in_scope(obj) && !unread.contains(&source_of(obj).as_str()))
        .collect();
    Inventory::from_objects(&objects)
}

fn diff_map<K: Ord + Debug, V: PartialEq + Debug>(
    name: &str,
    live: &BTreeMap<K, V>,
    want: &BTreeMap<K, V>,
    out: &mut Vec<String>,
) {
    const SHOW: usize = 3;
    let lost: Vec<&K> = want.keys().filter(|k| !live.contains_key(k)).collect();
    let ghosts: Vec<&K> = live.keys().filter(|k| !want.contains_key(k)).collect();
    let stale: Vec<&K> = want
        .iter()
        .filter(|(k, v)| live.get(k).is_some_and(|l| l != *v))
        .map(|(k, _)| k)
        .collect();
    for (label, keys) in [("lost", lost), ("ghost", ghosts), ("stale", stale)] {
        if !keys.is_empty() {
            out.push(format!(
                "{name}: {} {label}, e.g. {:?}",
                keys.len(),
                &keys[..keys.len().min(SHOW)]
            ));
        }
    }
}

fn diff_index(name: &str, live: &TaskIndex, want: &TaskIndex, out: &mut Vec<String>) {
    if live.counts != want.counts {
        out.push(format!("{name}: per-vault counts differ"));
    }
    if live.flagged != want.flagged {
        out.push(format!("{name}: flagged tasks differ"));
    }
    if live.runs != want.runs {
        out.push(format!("{name}: schedule runs differ"));
    }
}

/// Everything that differs between the live inventory and the expected one.
fn differences(live: &Inventory, want: &Inventory) -> Vec<String> {
    let mut out = Vec::new();
    diff_map("ack vaults", &live.vaults.ack, &want.vaults.ack, &mut out);
    diff_map(
        "velero vaults",
        &live.vaults.velero,
        &want.vaults.velero,
        &mut out,
    );
    diff_map("ack tasks", &live.backups.ack, &want.backups.ack, &mut out);
    diff_map(
        "velero tasks",
        &live.backups.velero,
        &want.backups.velero,
        &mut out,
    );
    diff_map(
        "ack schedules",
        &live.schedules.ack,
        &want.schedules.ack,
        &mut out,
    );
    let (ls, ws) = (&live.schedules.velero, &want.schedules.velero);
    diff_map("velero schedules", ls, ws, &mut out);
    diff_map(
        "ack restores",
        &live.restores.ack,
        &want.restores.ack,
        &mut out,
    );
    let (lr, wr) = (&live.restores.velero, &want.restores.velero);
    diff_map("velero restores", lr, wr, &mut out);
    let (lp, wp) = (&live.pod_volume_backups, &want.pod_volume_backups);
    diff_map("pod volume backups", lp, wp, &mut out);
    diff_map(
        "deployments",
        &live.deployments,
        &want.deployments,
        &mut out,
    );
    diff_map("daemonsets", &live.daemonsets, &want.daemonsets, &mut out);
    diff_map("pods", &live.pods, &want.pods, &mut out);
    diff_map("events", &live.events, &want.events, &mut out);
    diff_index(
        "task index vs rebuild",
        &live.task_index,
        &live.rebuilt_task_index(),
        &mut out,
    );
    diff_index(
        "task index vs server",
        &live.task_index,
        &want.task_index,
        &mut out,
    );
    for pvb in want.pod_volume_backups.values() {
        let (l, w) = (
            live.pod_volume_backup_count(&pvb.namespace, &pvb.backup),
            want.pod_volume_backup_count(&pvb.namespace, &pvb.backup),
        );
        if l != w {
            out.push(format!(
                "pod volume backups of {}/{}: {l}, want {w}",
                pvb.namespace, pvb.backup
            ));
        }
    }
    for e in want.events.values() {
        let ns = if e.involved_namespace.is_empty() {
            &e.namespace
        } else {
            &e.involved_namespace
        };
        let (l, w) = (
            live.events_about(ns, &e.involved_name).len(),
            want.events_about(ns, &e.involved_name).len(),
        );
        if l != w {
            out.push(format!(
                "events about {ns}/{}: {l}, want {w}",
                e.involved_name
            ));
        }
    }
    out
}

fn load_both_examples(server: &TestApiServer) {
    cluster::load_example(server, "ack-cluster");
    cluster::load_example(server, "velero-cluster");
}

fn velero_backup(ns: &str, name: &str, phase: &str, vault: &str, schedule: &str) -> Value {
    json!({"apiVersion": cluster::VELERO_API, "kind": "Backup",
        "metadata": {"name": name, "namespace": ns,
                     "labels": {"velero.io/schedule-name": schedule,
                                "velero.io/storage-location": vault}},
        "spec": {"storageLocation": vault, "ttl": "720h0m0s"},
        "status": {"phase": phase, "startTimestamp": "2026-11-25T08:00:00Z"}})
}

fn ack_backup(name: &str, phase: &str, vault: &str) -> Value {
    json!({"apiVersion": cluster::ACK_API, "kind": "ApplicationBackup",
        "metadata": {"name": name, "namespace": "csdr",
                     "labels": {"csdr/schedule-name": "daily"}},
        "spec": {"storageLocation": vault, "backupType": "AppAndPvBackup"},
        "status": {"phase": phase, "startTimestamp": "2026-11-25T08:00:00Z",
                   "message": "made by the test"}})
}

fn warning_event(ns: &str, name: &str, event_type: &str, about: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "type": event_type, "reason": "BackupFailed", "message": "test",
        "involvedObject": {"kind": "Backup", "name": about, "namespace": ns},
        "lastTimestamp": "2026-11-25T08:30:00Z", "count": 1})
}

fn apply(server: &TestApiServer, obj: Value) {
    server.apply(obj).expect("apply");
}

fn delete(server: &TestApiServer, api: &str, kind: &str, ns: &str, name: &str) {
    server
        .delete(api, kind, Some(ns), name)
        .expect("delete")
        .unwrap_or_else(|| panic!("{kind} {ns}/{name} did not exist"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_changes_converge() {
    let live = Live::start(load_both_examples).await;
    live.converge("initial sync", &[]).await;
    {
        let inv = live.inventory.read().expect("lock");
        assert!(
            inv.backups.ack.len() > 10 && inv.backups.velero.len() > 10,
            "both examples loaded"
        );
    }
    let s = &live.server;

    apply(
        s,
        velero_backup("velero", "new-1", "InProgress", "default", "daily-full"),
    );
    apply(s, ack_backup("ack-new-1", "Running", "shared-oss-vault"));
    live.converge("adds", &[]).await;

    apply(
        s,
        velero_backup("velero", "new-1", "Failed", "offsite-s3", "daily-full"),
    );
    apply(s, ack_backup("ack-new-1", "Completed", "shared-oss-vault"));
    live.converge("updates", &[]).await;

    delete(s, cluster::VELERO_API, "Backup", "velero", "new-1");
    delete(
        s,
        cluster::VELERO_API,
        "BackupStorageLocation",
        "velero",
        "gcs-archive",
    );
    delete(
        s,
        cluster::ACK_API,
        "ApplicationBackup",
        "csdr",
        "ack-new-1",
    );
    live.converge("deletes", &[]).await;

    // An event that turns Normal leaves the watched selection: it must leave the inventory.
    apply(s, warning_event("velero", "ev-1", "Warning", "new-1"));
    live.converge("warning event", &[]).await;
    apply(s, warning_event("velero", "ev-1", "Normal", "new-1"));
    live.converge("event turned Normal", &[]).await;

    // The migrate-controller pod loses its label: out of the selector, out of the inventory.
    let mut pod = s
        .list_objects("v1", "Pod")
        .into_iter()
        .find(|p| p.pointer("/metadata/namespace") == Some(&json!("kube-system")))
        .expect("the ACK example has a kube-system pod");
    pod["metadata"]["labels"] = json!({"app": "something-else"});
    apply(s, pod);
    live.converge("pod relabelled", &[]).await;

    // Objects outside the watched namespaces never show up.
    apply(
        s,
        velero_backup("default", "elsewhere", "Failed", "default", "x"),
    );
    apply(s, ack_backup("in-csdr", "Failed", "shared-oss-vault"));
    apply(
        s,
        warning_event("default", "ev-elsewhere", "Warning", "elsewhere"),
    );
    live.converge("out-of-scope objects", &[]).await;
    assert!(
        live.inventory
            .read()
            .expect("lock")
            .backups
            .velero
            .keys()
            .all(|(ns, _)| ns != "default"),
        "nothing from namespace default"
    );
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watches_resume_without_losing_changes() {
    let live = Live::start(load_both_examples).await;
    live.converge("initial sync", &[]).await;
    let s = &live.server;
    for round in 0..5 {
        s.drop_watches();
        for i in 0..20 {
            let name = format!("drop-{round}-{i}");
            apply(
                s,
                velero_backup("velero", &name, "Completed", "default", "daily-full"),
            );
        }
        delete(
            s,
            cluster::VELERO_API,
            "Backup",
            "velero",
            &format!("drop-{round}-3"),
        );
        s.drop_watches();
        live.converge(&format!("after drop round {round}"), &[])
            .await;
    }
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relist_after_410_leaves_no_ghosts() {
    let live = Live::start(load_both_examples).await;
    live.converge("initial sync", &[]).await;
    let s = &live.server;
    let lists_before = s.stats().requests("list");

    // Hold reconnects back long enough that the deletes and the compaction happen while every
    // watch is disconnected: their resume versions are then gone and they must relist.
    s.set_latency(Duration::from_millis(400));
    s.drop_watches();
    for (api, kind, ns, name) in [
        (
            cluster::VELERO_API,
            "Backup",
            "velero",
            "daily-full-20261125020045",
        ),
        (
            cluster::VELERO_API,
            "BackupStorageLocation",
            "velero",
            "offsite-s3",
        ),
        (
            cluster::ACK_API,
            "ApplicationBackup",
            "csdr",
            "orders-hotfix-1124",
        ),
        (
            cluster::ACK_API,
            "BackupLocation",
            "csdr",
            "shared-oss-vault",
        ),
    ] {
        delete(s, api, kind, ns, name);
    }
    for obj in s.list_objects(cluster::VELERO_API, "PodVolumeBackup") {
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        delete(s, cluster::VELERO_API, "PodVolumeBackup", &ns, &name);
    }
    for obj in s.list_objects("v1", "Event") {
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        delete(s, "v1", "Event", &ns, &name);
    }
    apply(
        s,
        velero_backup("velero", "born-offline", "Failed", "default", "daily-full"),
    );
    s.compact();
    s.set_latency(Duration::ZERO);
    live.converge("after 410 relist", &[]).await;
    let lists_after = s.stats().requests("list");
    assert!(
        lists_after >= lists_before + live.sources.len() as u64,
        "every source relisted ({lists_before} -> {lists_after} lists for {} sources)",
        live.sources.len()
    );
    {
        let inv = live.inventory.read().expect("lock");
        assert!(inv.events.is_empty() && inv.pod_volume_backups.is_empty());
        assert!(
            !inv.vaults
                .velero
                .contains_key(&("velero".into(), "offsite-s3".into()))
        );
    }
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_server_errors_are_survived() {
    let live = Live::start(load_both_examples).await;
    live.converge("initial sync", &[]).await;
    let s = &live.server;
    for round in 0..3 {
        s.fail_next(6, 500);
        s.drop_watches();
        apply(
            s,
            velero_backup("velero", &format!("err-{round}"), "Failed", "default", "d"),
        );
        apply(
            s,
            ack_backup(&format!("ack-err-{round}"), "Failed", "shared-oss-vault"),
        );
        live.converge(&format!("after 500s, round {round}"), &[])
            .await;
    }
    assert!(s.stats().faults_injected >= 18, "{:?}", s.stats());
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_resource_is_down_others_keep_working_then_recover() {
    let live = Live::start(load_both_examples).await;
    live.converge("initial sync", &[]).await;
    let s = &live.server;
    let source = "csdr/applicationbackups";
    assert!(live.sources.iter().any(|x| x == source));

    s.forbid("applicationbackups", true);
    s.drop_watches();
    live.wait_health(source, "forbidden source goes down", |st| {
        !st.up
            && st
                .last_error
                .contains("applicationbackups.csdr.alibabacloud.com")
            && st.last_error.contains("list and watch")
            && st.last_error.contains("csdr")
    })
    .await;
    // Everything else keeps converging while the resource stays forbidden.
    apply(
        s,
        velero_backup("velero", "while-forbidden", "Failed", "default", "d"),
    );
    delete(
        s,
        cluster::ACK_API,
        "BackupLocation",
        "csdr",
        "shared-oss-vault",
    );
    apply(s, warning_event("csdr", "ev-forbidden", "Warning", "x"));
    live.converge("others while forbidden", &[source]).await;
    assert!(!live.health.snapshot()[source].up, "still down");

    // Permission granted again: the source comes back up without any change to its objects.
    s.forbid("applicationbackups", false);
    live.converge("recovered without changes", &[]).await;

    // And changes made to it are seen again.
    apply(
        s,
        ack_backup("after-recovery", "Failed", "shared-oss-vault"),
    );
    live.converge("recovered with changes", &[]).await;

    // Forbidden while changes happen: the relist after recovery catches up, no ghosts.
    s.forbid("applicationbackups", true);
    s.drop_watches();
    live.wait_health(source, "down again", |st| !st.up).await;
    delete(
        s,
        cluster::ACK_API,
        "ApplicationBackup",
        "csdr",
        "after-recovery",
    );
    apply(
        s,
        ack_backup("while-forbidden", "Failed", "shared-oss-vault"),
    );
    s.compact();
    s.forbid("applicationbackups", false);
    live.converge("recovered after missed changes", &[]).await;
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_forbidden_from_the_start_does_not_block_readiness() {
    let source = "csdr/backupschedules";
    let live = Live::start(|s| {
        load_both_examples(s);
        s.forbid("backupschedules", true);
    })
    .await;
    live.converge_without("initial sync, one resource forbidden", &[source], &[source])
        .await;
    let state = live.health.snapshot()[source].clone();
    assert!(!state.up && !state.synced, "{state:?}");
    assert!(
        state
            .last_error
            .contains("backupschedules.csdr.alibabacloud.com"),
        "{state:?}"
    );
    assert!(
        live.health.all_settled(),
        "a refused resource must not keep the rest unready"
    );
    assert!(
        live.inventory
            .read()
            .expect("lock")
            .schedules
            .ack
            .is_empty()
    );

    live.server.forbid("backupschedules", false);
    live.converge(&format!("{source} allowed again"), &[]).await;
    assert!(
        !live
            .inventory
            .read()
            .expect("lock")
            .schedules
            .ack
            .is_empty()
    );
    live.stop().await;
}

const NAMES_PER_KIND: u64 = 25;

/// A random version of object `n` of one kind, in one of the namespaces that kind is seen
/// in (some outside backupscope's scope).
fn random_object(rng: &mut Lcg, kind: &str) -> Value {
    let n = rng.next(NAMES_PER_KIND);
    let time = |rng: &mut Lcg| {
        let h = rng.next(24 * 20);
        format!(
            "2026-11-{:02}T{:02}:{:02}:00Z",
            1 + h / 24,
            h % 24,
            rng.next(60)
        )
    };
    let vault = format!("vault-{}", rng.next(4));
    let task_phases = [
        "New",
        "InProgress",
        "Completed",
        "Failed",
        "PartiallyFailed",
        "FailedValidation",
        "Deleting",
        "Weird",
        "",
    ];
    match kind {
        "BackupLocation" | "ApplicationBackup" | "BackupSchedule" | "ApplicationRestore" => {
            let ns = rng.pick(&["csdr", "csdr", "csdr", "velero", "default"]);
            let mut obj = json!({"apiVersion": cluster::ACK_API, "kind": kind,
                "metadata": {"name": format!("{}-{n}", kind.to_lowercase()), "namespace": ns,
                             "labels": {"csdr/schedule-name": format!("schedule-{}", rng.next(3))},
                             "annotations": {"noise": "x".repeat(rng.next(40) as usize)}},
                "spec": {"storageLocation": vault, "backupType": rng.pick(&["AppBackup", "PvBackup", "AppAndPvBackup"]),
                         "schedule": rng.pick(&["0 2 * * *", "@every 6h", "bad cron"])},
                "status": {"phase": rng.pick(&task_phases), "message": format!("m{}", rng.next(5)),
                           "startTimestamp": time(rng)}});
            if rng.next(2) == 0 {
                obj["status"]["completionTimestamp"] = json!(time(rng));
            }
            obj
        }
        "BackupStorageLocation" | "Backup" | "Schedule" | "Restore" | "PodVolumeBackup" => {
            let ns = rng.pick(&["velero", "velero", "csdr", "default"]);
            let mut labels = serde_json::Map::new();
            if rng.next(3) > 0 {
                labels.insert(
                    "velero.io/schedule-name".into(),
                    json!(format!("schedule-{}", rng.next(3))),
                );
            }
            labels.insert(
                "velero.io/backup-name".into(),
                json!(format!("backup-{}", rng.next(NAMES_PER_KIND))),
            );
            let mut obj = json!({"apiVersion": cluster::VELERO_API, "kind": kind,
                "metadata": {"name": format!("{}-{n}", kind.to_lowercase()), "namespace": ns,
                             "labels": labels},
                "spec": {"storageLocation": vault, "provider": rng.pick(&["aws", "gcp"]),
                         "objectStorage": {"bucket": format!("b{}", rng.next(3))},
                         "schedule": rng.pick(&["0 2 * * *", "@every 6h"]),
                         "paused": rng.next(2) == 0,
                         "backupName": format!("backup-{}", rng.next(NAMES_PER_KIND))},
                "status": {"phase": rng.pick(&task_phases), "startTimestamp": time(rng),
                           "errors": rng.next(3), "warnings": rng.next(3)}});
            if rng.next(2) == 0 {
                obj["status"]["completionTimestamp"] = json!(time(rng));
                obj["status"]["failureReason"] = json!("velero backup process timeout");
            }
            obj
        }
        "Deployment" | "DaemonSet" => {
            let names: &[&str] = if kind == "Deployment" {
                &[
                    "csdr-controller",
                    "csdr-velero",
                    "velero",
                    "migrate-controller",
                    "nginx",
                ]
            } else {
                &["node-agent", "hbr-client", "fluentd"]
            };
            json!({"apiVersion": "apps/v1", "kind": kind,
                "metadata": {"name": rng.pick(names),
                             "namespace": rng.pick(&["csdr", "velero", "kube-system", "default"]),
                             "creationTimestamp": time(rng)},
                "spec": {"replicas": rng.next(3),
                         "template": {"spec": {"containers": [{"name": "c", "image": format!("img:v{}", rng.next(4)),
                             "resources": {"requests": {"cpu": "100m", "memory": format!("{}Mi", 64 << rng.next(3))}}}]}}},
                "status": {"readyReplicas": rng.next(3), "availableReplicas": rng.next(3),
                           "desiredNumberScheduled": rng.next(3), "numberReady": rng.next(3)}})
        }
        "Pod" => {
            let component = rng.pick(&[
                "velero",
                "node-agent",
                "csdr-velero",
                "csdr-controller",
                "migrate-controller",
                "web",
            ]);
            let labels = match rng.next(4) {
                0 => json!({}),
                1 => json!({"app": component}),
                2 => json!({"deploy": "velero", "name": "node-agent", "component": "csdr"}),
                _ => json!({"app": "migrate-controller"}),
            };
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{component}-{n}"), "labels": labels,
                             "namespace": rng.pick(&["csdr", "velero", "kube-system", "default"])},
                "spec": {"nodeName": format!("node-{}", rng.next(3)), "containers": [{"name": "c"}]},
                "status": {"phase": rng.pick(&["Running", "Pending", "Failed"]),
                           "containerStatuses": [{"name": "c", "restartCount": rng.next(5),
                               "ready": rng.next(2) == 0,
                               "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}})
        }
        _ => {
            let ns = rng.pick(&["csdr", "velero", "default"]);
            json!({"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": format!("event-{n}"), "namespace": ns},
                "type": rng.pick(&["Warning", "Warning", "Normal", ""]),
                "reason": rng.pick(&["BackupFailed", "FailedMount", "Unhealthy"]),
                "message": format!("message {}", rng.next(9)),
                "involvedObject": {"kind": "Backup", "name": format!("backup-{}", rng.next(NAMES_PER_KIND))},
                "firstTimestamp": time(rng), "lastTimestamp": time(rng), "count": rng.next(9)})
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomized_mutations_with_drops_and_relists_converge() {
    const STEPS: usize = 4_000;
    let live = Live::start(load_both_examples).await;
    live.converge("initial sync", &[]).await;
    let s = &live.server;
    let kinds: Vec<&str> = cluster::ACK_KINDS
        .iter()
        .chain(cluster::VELERO_KINDS.iter())
        .map(|(k, _)| *k)
        .chain(["Deployment", "DaemonSet", "Pod", "Event"])
        .collect();
    let lists_before = s.stats().requests("list");
    let mut rng = Lcg(0x5eed_cafe);
    let (mut applied, mut deleted, mut drops, mut compactions, mut failures) = (0, 0, 0, 0, 0);
    for step in 1..=STEPS {
        let kind = kinds[rng.next(kinds.len() as u64) as usize];
        let obj = random_object(&mut rng, kind);
        if rng.next(4) == 0 {
            let api = obj["apiVersion"].as_str().unwrap_or("");
            let ns = obj["metadata"]["namespace"].as_str().unwrap_or("");
            let name = obj["metadata"]["name"].as_str().unwrap_or("");
            if s.delete(api, kind, Some(ns), name)
                .expect("delete")
                .is_some()
            {
                deleted += 1;
            }
        } else {
            apply(s, obj);
            applied += 1;
        }
        if step % 300 == 0 {
            s.drop_watches();
            drops += 1;
        }
        if step % 700 == 0 {
            // Disconnected while the history is compacted: every watch must relist.
            s.set_latency(Duration::from_millis(100));
            s.drop_watches();
            s.compact();
            tokio::time::sleep(Duration::from_millis(20)).await;
            s.set_latency(Duration::ZERO);
            compactions += 1;
        }
        if step % 900 == 0 {
            s.fail_next(4, 500);
            failures += 1;
        }
        // Let the watchers run between bursts, so changes interleave with their work.
        if step % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    live.converge(
        &format!(
            "after {STEPS} random mutations ({applied} applies, {deleted} deletes, {drops} drops, \
             {compactions} compactions, {failures} error bursts)"
        ),
        &[],
    )
    .await;
    {
        let inv = live.inventory.read().expect("lock");
        assert!(
            !inv.backups.velero.is_empty() && !inv.events.is_empty() && !inv.pods.is_empty(),
            "the run left objects of several kinds"
        );
    }
    let lists = s.stats().requests("list") - lists_before;
    // Each compaction expires every watch, so every source relists; but a source still backing
    // off from one compaction when the next lands relists once for both (a loaded machine
    // spaces its relists out), so count at least half of compactions x sources.
    let sources = live.sources.len() as u64;
    assert!(
        lists >= compactions * sources / 2 && lists >= sources,
        "compactions made the sources relist: {lists} lists for {compactions} compactions of \
         {sources} sources"
    );
    live.stop().await;
}
