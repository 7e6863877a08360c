//! `backupscope events`: the backup center's Warning events with what each belongs to, on both
//! examples (golden table and JSON), and `--watch` against the in-repo test API server: the
//! current events first, then a new Warning event and its recurrence as they happen.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/golden.rs"]
mod golden;

use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use testapiserver::TestApiServer;

const NOW: &str = "2026-11-25T09:00:00Z";

fn events(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .arg("events")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("BACKUPSCOPE_SNAPSHOT")
        .env_remove("KUBECONFIG")
        .output()
        .expect("run backupscope events");
    assert!(
        out.status.success(),
        "backupscope events {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ack_example_events_match_golden() {
    let snap = ["--snapshot", "examples/ack-cluster", "--now", NOW];
    golden::assert_matches("tests/golden/events-ack.txt", &events(&snap));
    let json = events(&[&snap[..], &["-o", "json"]].concat());
    golden::assert_matches("tests/golden/events-ack.json", &json);
    let report: Value = serde_json::from_str(&json).unwrap();
    let list = report["events"].as_array().unwrap();
    // Every Warning event of the example and no Normal one (the file holds both).
    assert_eq!(list.len(), 11);
    assert!(list.iter().all(|e| e["type"] == "Warning"));
    let vault = list
        .iter()
        .find(|e| e["reason"] == "BackupLocationUnavailable")
        .unwrap();
    assert_eq!(
        vault["belongsTo"],
        json!({"kind": "backupLocation", "namespace": "csdr", "name": "shared-oss-vault",
               "phase": "Unavailable", "reasonClass": null, "vault": "shared-oss-vault",
               "severity": "critical"})
    );
    let restore = list
        .iter()
        .find(|e| e["reason"] == "RestoreFailed")
        .unwrap();
    assert_eq!(restore["belongsTo"]["reasonClass"], "RestoreError");
    assert_eq!(restore["belongsTo"]["vault"], "dr-bj-vault");
}

#[test]
fn velero_example_events_match_golden() {
    let snap = ["--snapshot", "examples/velero-cluster", "--now", NOW];
    golden::assert_matches("tests/golden/events-velero.txt", &events(&snap));
    let yaml = events(&[&snap[..], &["-o", "yaml"]].concat());
    let report: serde_norway::Value = serde_norway::from_str(&yaml).unwrap();
    let kinds: Vec<&str> = report["events"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| e["belongsTo"]["name"].as_str().unwrap())
        .collect();
    // Velero writes no events about its backups; the kubelet's about its pods are the ones.
    assert_eq!(kinds, ["velero", "velero", "node-agent"]);
}

#[test]
fn watch_needs_a_live_cluster() {
    let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(["events", "--watch", "--snapshot", "examples/ack-cluster"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--watch needs a live cluster"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn warning_event(name: &str, count: u64, last: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "csdr"},
        "involvedObject": {"kind": "ApplicationBackup", "namespace": "csdr",
                           "name": "prod-daily-20261117040100"},
        "type": "Warning", "reason": "BackupFailed",
        "message": "velero backup process timeout", "count": count,
        "firstTimestamp": "2026-11-25T08:59:00Z", "lastTimestamp": last,
        "source": {"component": "csdr-controller"}})
}

/// The watch prints the 11 current events, then a new one, then the same one again when it
/// recurs (count 1 -> 2); nothing for an unchanged event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_new_and_recurring_events_from_a_live_cluster() {
    let server = TestApiServer::start()
        .await
        .expect("start the test API server");
    cluster::load_example(&server, "ack-cluster");
    let dir = std::env::temp_dir().join(format!("backupscope-events-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("events")).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args([
            "events",
            "--watch",
            "-o",
            "json",
            "--now",
            NOW,
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .env_remove("KUBECONFIG")
        .env_remove("BACKUPSCOPE_SNAPSHOT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn backupscope events --watch");
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(v) = serde_json::from_str(&line) else {
                break;
            };
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| {
        lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no line for {what} within 30s"))
    };
    let first: Vec<Value> = (0..11)
        .map(|i| next(&format!("current event {i}")))
        .collect();
    assert!(first.iter().all(|e| e["type"] == "Warning"));

    server
        .apply(warning_event("prod-daily.new", 1, "2026-11-25T08:59:00Z"))
        .unwrap();
    let new = next("the new event");
    assert_eq!(new["name"], "prod-daily.new");
    assert_eq!(new["count"], 1);
    assert_eq!(new["belongsTo"]["name"], "prod-daily-20261117040100");
    assert_eq!(new["belongsTo"]["phase"], "Failed");
    assert_eq!(new["belongsTo"]["reasonClass"], "Timeout");

    server
        .apply(warning_event("prod-daily.new", 2, "2026-11-25T09:00:00Z"))
        .unwrap();
    let again = next("the recurrence");
    assert_eq!(again["name"], "prod-daily.new");
    assert_eq!(again["count"], 2);
    // Nothing else changed, so nothing else is printed.
    assert!(lines.recv_timeout(Duration::from_secs(2)).is_err());

    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    server.shutdown().await;
}
