//! `serve --emit-events` against the in-repo test API server with the real kube client: one
//! Warning event per failed task, none again after a restart, none for ACK by default; and
//! with two replicas and a Lease, only the holder writes, and when it is killed the other takes
//! over within the lease duration and writes what was missed, with nothing written twice.

#[path = "support/cluster.rs"]
mod cluster;
mod support;

use serde_json::{Value, json};
use std::ffi::OsString;
use std::time::{Duration, Instant};
use support::serve::Serve;
use support::tempdir::TempDir;
use testapiserver::TestApiServer;

const WAIT: Duration = Duration::from_secs(30);

fn register(server: &TestApiServer) {
    cluster::register_velero(server);
    cluster::register_ack(server);
    server
        .apply(
            json!({"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": {"name": "default", "namespace": "velero"},
            "spec": {"provider": "aws", "objectStorage": {"bucket": "b"}},
            "status": {"phase": "Available"}}),
        )
        .unwrap();
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn velero_backup(name: &str, phase: &str, reason: &str) -> Value {
    json!({"apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": name, "namespace": "velero"},
        "spec": {"storageLocation": "default"},
        "status": {"phase": phase, "startTimestamp": now_rfc3339(),
                   "completionTimestamp": now_rfc3339(), "failureReason": reason}})
}

fn about<'e>(events: &'e [Value], backup: &str) -> Vec<&'e Value> {
    events
        .iter()
        .filter(|e| e["involvedObject"]["name"] == backup)
        .collect()
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn serve(kubeconfig: &std::path::Path, extra: &[&str]) -> Serve {
    let mut args: Vec<OsString> = vec!["--kubeconfig".into(), kubeconfig.into()];
    args.extend(["--event-interval", "200ms"].map(OsString::from));
    args.extend(extra.iter().map(OsString::from));
    tokio::task::spawn_blocking(move || Serve::start(&args))
        .await
        .unwrap()
}

fn kubeconfig(server: &TestApiServer, dir: &TempDir) -> std::path::PathBuf {
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, server.kubeconfig_yaml("events")).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_warning_event_per_failure_and_none_after_a_restart() {
    let server = TestApiServer::start().await.unwrap();
    register(&server);
    let dir = TempDir::new("event-writer");
    let kc = kubeconfig(&server, &dir);
    // ACK's failures are reported by its csdr-controller: none from backupscope by default.
    server
        .apply(
            json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "ApplicationBackup",
            "metadata": {"name": "ack-failed", "namespace": "csdr"},
            "spec": {"storageLocation": "v"},
            "status": {"phase": "Failed", "message": "VaultError: backup vault is unavailable"}}),
        )
        .unwrap();
    server
        .apply(velero_backup("nightly-1", "InProgress", ""))
        .unwrap();

    let first = serve(&kc, &[]).await;
    // The task fails while backupscope watches.
    server
        .apply(velero_backup(
            "nightly-1",
            "Failed",
            "found a backup with status \"InProgress\" during the server starting, mark it as \"Failed\"",
        ))
        .unwrap();
    server
        .apply(velero_backup("nightly-2", "PartiallyFailed", ""))
        .unwrap();
    wait_until("events on both failed backups", || {
        let ev = cluster::our_events(&server);
        about(&ev, "nightly-1").len() == 1 && about(&ev, "nightly-2").len() == 1
    })
    .await;
    let events = cluster::our_events(&server);
    let failed = about(&events, "nightly-1")[0];
    assert_eq!(failed["type"], "Warning");
    assert_eq!(failed["reason"], "BackupFailed");
    assert_eq!(failed["metadata"]["namespace"], "velero");
    assert_eq!(
        failed["involvedObject"],
        json!({"apiVersion": "velero.io/v1", "kind": "Backup", "name": "nightly-1", "namespace": "velero"})
    );
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .starts_with("ServerRestarted: found a backup with status"),
        "{failed}"
    );
    assert_eq!(failed["source"]["component"], "backupscope");
    let name = failed["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("nightly-1.bs") && name.len() == "nightly-1.bs".len() + 16);
    let partial = about(&events, "nightly-2")[0];
    assert_eq!(partial["reason"], "BackupPartiallyFailed");
    assert_eq!(
        partial["message"],
        "PartialFailure: backup task PartiallyFailed"
    );

    // A restart computes the same names, finds the events and writes nothing.
    drop(first);
    let second = serve(&kc, &[]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = cluster::our_events(&server);
    assert_eq!(after.len(), 2, "{after:#?}\n{}", second.stderr());
    assert_eq!(
        after[0]["metadata"]["resourceVersion"],
        events[0]["metadata"]["resourceVersion"]
    );
    assert!(about(&after, "ack-failed").is_empty());
    drop(second);

    // `--emit-events on` also covers ACK.
    let third = serve(&kc, &["--emit-events", "on"]).await;
    wait_until("the ACK task's event", || {
        about(&cluster::our_events(&server), "ack-failed").len() == 1
    })
    .await;
    let ev = cluster::our_events(&server);
    let ack = about(&ev, "ack-failed")[0];
    assert_eq!(ack["involvedObject"]["kind"], "ApplicationBackup");
    assert_eq!(ack["message"], "VaultError: backup vault is unavailable");
    drop(third);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_lease_holder_writes_and_the_other_replica_takes_over() {
    let server = TestApiServer::start().await.unwrap();
    register(&server);
    let dir = TempDir::new("event-writer-ha");
    let kc = kubeconfig(&server, &dir);
    let lease_duration = Duration::from_secs(3);
    let ha = |id: &'static str| {
        [
            "--lease",
            "velero/backupscope",
            "--lease-duration",
            "3s",
            "--identity",
            id,
        ]
    };
    let mut a = Some(serve(&kc, &ha("replica-a")).await);
    let mut b = Some(serve(&kc, &ha("replica-b")).await);
    wait_until("a lease holder", || {
        cluster::lease_holder(&server, "velero", "backupscope").is_some()
    })
    .await;
    let first_holder = cluster::lease_holder(&server, "velero", "backupscope").unwrap();

    server
        .apply(velero_backup("before-kill", "Failed", "boom"))
        .unwrap();
    wait_until("the event on before-kill", || {
        about(&cluster::our_events(&server), "before-kill").len() == 1
    })
    .await;
    let ev = cluster::our_events(&server);
    assert_eq!(
        about(&ev, "before-kill")[0]["reportingInstance"],
        first_holder.as_str()
    );

    // Kill the holder; a task fails while nobody holds the lease.
    let (killed, survivor) = if first_holder == "replica-a" {
        (a.take(), "replica-b")
    } else {
        (b.take(), "replica-a")
    };
    drop(killed);
    let killed_at = Instant::now();
    server
        .apply(velero_backup("during-handover", "Failed", "boom"))
        .unwrap();
    wait_until("the survivor to take the lease", || {
        cluster::lease_holder(&server, "velero", "backupscope").as_deref() == Some(survivor)
    })
    .await;
    let takeover = killed_at.elapsed();
    // The lease expires at most one duration after its last renewal; the survivor notices
    // within one poll (a third of the duration). A second of slack for a loaded machine.
    assert!(
        takeover <= lease_duration + lease_duration / 3 + Duration::from_secs(1),
        "took {takeover:?}"
    );
    wait_until("the event missed during the handover", || {
        about(&cluster::our_events(&server), "during-handover").len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ev = cluster::our_events(&server);
    assert_eq!(ev.len(), 2, "nothing lost, nothing twice: {ev:#?}");
    assert_eq!(about(&ev, "before-kill").len(), 1);
    assert_eq!(
        about(&ev, "during-handover")[0]["reportingInstance"],
        survivor
    );
    let lease = server
        .get(
            "coordination.k8s.io/v1",
            "Lease",
            Some("velero"),
            "backupscope",
        )
        .unwrap();
    assert_eq!(lease["spec"]["leaseTransitions"], 1, "{lease}");
    drop((a, b));
    server.shutdown().await;
}

/// A Warning event created on the API server reaches Alertmanager's webhook through the
/// forwarder as BackupCenterWarningEvent, and resolves after the quiet time; the sends are
/// counted on /metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warning_events_are_forwarded_to_alertmanager_and_resolve() {
    use support::alertmanager::{Alertmanager, Webhook};
    let server = TestApiServer::start().await.unwrap();
    register(&server);
    server
        .apply(velero_backup("nightly-9", "Failed", "boom"))
        .unwrap();
    let dir = TempDir::new("forwarding");
    let kc = kubeconfig(&server, &dir);
    let webhook = Webhook::start();
    let alertmanager = Alertmanager::start(&webhook);
    let am_url = format!("http://{}", alertmanager.address());
    let serve = serve(
        &kc,
        &[
            "--emit-events",
            "off",
            "--alertmanager-url",
            &am_url,
            "--alert-quiet-time",
            "3s",
            "--alert-resend-interval",
            "1s",
        ],
    )
    .await;
    server
        .apply(json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "nightly-9.abc", "namespace": "velero"},
            "involvedObject": {"apiVersion": "velero.io/v1", "kind": "Backup",
                               "name": "nightly-9", "namespace": "velero"},
            "type": "Warning", "reason": "BackupFailed", "message": "boom: the bucket said no",
            "count": 1, "firstTimestamp": now_rfc3339(), "lastTimestamp": now_rfc3339(),
            "source": {"component": "velero-notifier"}}))
        .unwrap();

    let mut firing = None;
    let mut resolved = None;
    let deadline = Instant::now() + WAIT;
    while resolved.is_none() && Instant::now() < deadline {
        let Some(body) = webhook.recv(Duration::from_secs(1)) else {
            continue;
        };
        for alert in body["alerts"].as_array().into_iter().flatten() {
            match alert["status"].as_str() {
                Some("firing") => firing = Some(alert.clone()),
                Some("resolved") => resolved = Some(alert.clone()),
                _ => {}
            }
        }
    }
    let firing = firing.unwrap_or_else(|| {
        panic!(
            "no firing alert\nserve:\n{}\nalertmanager:\n{}",
            serve.stderr(),
            alertmanager.log()
        )
    });
    assert_eq!(
        firing["labels"],
        json!({"alertname": "BackupCenterWarningEvent", "severity": "warning",
               "namespace": "velero", "reason": "BackupFailed", "involved_kind": "Backup",
               "involved_name": "nightly-9", "backup": "nightly-9", "backuplocation": "default"})
    );
    assert_eq!(firing["annotations"]["message"], "boom: the bucket said no");
    let resolved = resolved.expect("the alert did not resolve after the quiet time");
    assert_eq!(resolved["labels"], firing["labels"]);

    let metrics = support::http::get(&serve.url("/metrics"), &[]).await.text();
    let sent = metric(&metrics, "backupscope_alerts_sent_total", &am_url).expect("sent count");
    assert!(sent >= 2.0, "firing and resolved were sent: {sent}");
    assert_eq!(
        metric(&metrics, "backupscope_alerts_dropped_total", &am_url),
        Some(0.0)
    );
    server.shutdown().await;
}

fn metric(metrics: &str, family: &str, alertmanager: &str) -> Option<f64> {
    let prefix = format!("{family}{{alertmanager=\"{alertmanager}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

/// An Alertmanager that never answers: each alert is either dropped from the full queue
/// (capacity 1) or lost after the sender's retries; every one is counted, none sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeliverable_alerts_are_counted_as_dropped_and_send_errors() {
    let server = TestApiServer::start().await.unwrap();
    register(&server);
    let dir = TempDir::new("forwarding-down");
    let kc = kubeconfig(&server, &dir);
    // A port nobody listens on: bound, then released.
    let dead = format!("http://127.0.0.1:{}", support::prometheus::free_port());
    let serve = serve(
        &kc,
        &[
            "--emit-events",
            "off",
            "--alertmanager-url",
            &dead,
            "--alert-queue",
            "1",
        ],
    )
    .await;
    for i in 0..3 {
        server
            .apply(json!({"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": format!("bsl.{i}"), "namespace": "velero"},
                "involvedObject": {"kind": "BackupStorageLocation", "name": "default",
                                   "namespace": "velero"},
                "type": "Warning", "reason": "BackupStorageLocationUnavailable",
                "message": "403", "count": 1, "lastTimestamp": now_rfc3339()}))
            .unwrap();
    }
    let deadline = Instant::now() + WAIT;
    let last = loop {
        let text = support::http::get(&serve.url("/metrics"), &[]).await.text();
        let dropped = metric(&text, "backupscope_alerts_dropped_total", &dead);
        if dropped == Some(3.0) || Instant::now() >= deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        metric(&last, "backupscope_alerts_dropped_total", &dead),
        Some(3.0),
        "{}",
        serve.stderr()
    );
    assert_eq!(
        metric(&last, "backupscope_alerts_sent_total", &dead),
        Some(0.0)
    );
    assert!(metric(&last, "backupscope_alerts_send_errors_total", &dead).unwrap() >= 1.0);
    server.shutdown().await;
}
