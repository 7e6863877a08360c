//! The CLI against a live cluster (the in-repo test API server, reached through a kubeconfig):
//! `status`, `describe` and `snapshot` print exactly what they print on a snapshot of the same
//! objects; a cluster without either backup system and a forbidden resource degrade, not fail.

#[path = "support/cluster.rs"]
mod cluster;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use testapiserver::TestApiServer;

/// The instant both example snapshots were taken (examples/README.md).
const NOW: &str = "2026-11-25T09:00:00Z";

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "backupscope-live-cli-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Output {
    stdout: String,
    stderr: String,
    ok: bool,
}

/// Runs the real binary off the async workers, so the in-process server keeps answering.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("NO_COLOR")
            .env_remove("BACKUPSCOPE_SNAPSHOT")
            .env_remove("KUBECONFIG")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run backupscope");
        Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            ok: out.status.success(),
        }
    })
    .await
    .expect("join command")
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

async fn run_ok(parts: Vec<String>) -> Output {
    let out = run(parts.clone()).await;
    assert!(out.ok, "backupscope {parts:?} failed:\n{}", out.stderr);
    out
}

/// The server, with its kubeconfig written to a file in `dir`.
fn kubeconfig(server: &TestApiServer, dir: &TempDir) -> String {
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, server.kubeconfig_yaml("live-cli")).expect("write kubeconfig");
    path.display().to_string()
}

fn assert_same(what: &str, live: &str, snapshot: &str) {
    if live == snapshot {
        return;
    }
    for (i, (a, b)) in live.lines().zip(snapshot.lines()).enumerate() {
        assert_eq!(a, b, "{what}: live and snapshot differ at line {}", i + 1);
    }
    panic!(
        "{what}: live has {} lines, snapshot {}",
        live.lines().count(),
        snapshot.lines().count()
    );
}

/// Runs `command` once against the live server and once against `snapshot`; the outputs must
/// be byte-identical.
async fn compare(kubeconfig: &str, snapshot: &str, command: &[&str]) {
    let mut live = args(command);
    live.extend(args(&["--kubeconfig", kubeconfig, "--now", NOW]));
    let mut snap = args(command);
    snap.extend(args(&["--snapshot", snapshot, "--now", NOW]));
    let live_out = run_ok(live).await;
    let snap_out = run_ok(snap).await;
    assert!(!snap_out.stdout.is_empty(), "{command:?} printed nothing");
    assert_same(&format!("{command:?}"), &live_out.stdout, &snap_out.stdout);
}

async fn live_equals_snapshot(example: &str, describes: [&[&str]; 2]) {
    let server = TestApiServer::start().await.expect("start server");
    cluster::load_example(&server, example);
    let dir = TempDir::new(example);
    let kc = kubeconfig(&server, &dir);
    let snapshot = format!("examples/{example}");
    compare(&kc, &snapshot, &["status"]).await;
    compare(&kc, &snapshot, &["status", "-o", "json"]).await;
    for describe in describes {
        compare(&kc, &snapshot, describe).await;
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_live_output_equals_snapshot_output() {
    live_equals_snapshot(
        "ack-cluster",
        [
            &["describe", "backup", "orders-hotfix-1124"],
            &["describe", "backuplocation", "shared-oss-vault"],
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn velero_live_output_equals_snapshot_output() {
    live_equals_snapshot(
        "velero-cluster",
        [
            &["describe", "backup", "daily-full-20261125020045"],
            &["describe", "bsl", "offsite-s3"],
        ],
    )
    .await;
}

/// Every file under `dir`, with its text.
fn files_in(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read export dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_in(&path));
        } else {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            out.push((path, text));
        }
    }
    out
}

async fn snapshot_round_trip(example: &str) {
    let server = TestApiServer::start().await.expect("start server");
    cluster::load_example(&server, example);
    let ns = if example == "ack-cluster" {
        "csdr"
    } else {
        "velero"
    };
    // A Secret right where backupscope reads: it must never reach the bundle.
    server
        .apply(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "cloud-credentials-canary", "namespace": ns},
            "type": "Opaque", "data": {"cloud": "U0VDUkVULUNBTkFSWS03NzE="}}))
        .expect("apply secret");
    let dir = TempDir::new(&format!("{example}-export"));
    let kc = kubeconfig(&server, &dir);
    let out_dir = dir.path().join("bundle");
    let out_str = out_dir.display().to_string();
    let out = run_ok(args(&["snapshot", "--kubeconfig", &kc, "--out", &out_str])).await;
    assert!(out.stdout.starts_with("wrote "), "{}", out.stdout);

    let files = files_in(&out_dir);
    assert!(!files.is_empty(), "nothing exported");
    for (path, text) in &files {
        assert!(
            !text.contains("kind: Secret")
                && !text.contains("cloud-credentials-canary")
                && !text.contains("U0VDUkVULUNBTkFSWS03NzE="),
            "{} holds the Secret",
            path.display()
        );
    }
    let snapshot = format!("examples/{example}");
    for format in [&["status"][..], &["status", "-o", "json"]] {
        let mut from_bundle = args(format);
        from_bundle.extend(args(&["--snapshot", &out_str, "--now", NOW]));
        let mut from_example = args(format);
        from_example.extend(args(&["--snapshot", &snapshot, "--now", NOW]));
        let a = run_ok(from_bundle).await;
        let b = run_ok(from_example).await;
        assert_same(&format!("{format:?} of the bundle"), &a.stdout, &b.stdout);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_snapshot_export_reads_back_identically_without_secrets() {
    snapshot_round_trip("ack-cluster").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn velero_snapshot_export_reads_back_identically_without_secrets() {
    snapshot_round_trip("velero-cluster").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_without_backup_systems_shows_empty_dashboards() {
    let server = TestApiServer::start().await.expect("start server");
    // Unrelated objects, some in the namespaces backupscope would read.
    server
        .apply(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "default"}}))
        .expect("apply pod");
    let dir = TempDir::new("empty");
    let kc = kubeconfig(&server, &dir);
    let table = run_ok(args(&["status", "--kubeconfig", &kc, "--now", NOW])).await;
    assert!(
        table.stdout.contains("BACKUP LOCATIONS"),
        "{}",
        table.stdout
    );
    let json_out = run_ok(args(&[
        "status",
        "--kubeconfig",
        &kc,
        "--now",
        NOW,
        "-o",
        "json",
    ]))
    .await;
    assert!(
        json_out.stderr.contains("neither the ACK backup center"),
        "{}",
        json_out.stderr
    );
    let report: Value = serde_json::from_str(&json_out.stdout).expect("status json");
    for key in ["backupLocations", "engines"] {
        assert_eq!(
            report[key].as_array().map(Vec::len),
            Some(0),
            "{key} in {report}"
        );
    }
    let export = dir.path().join("bundle");
    let export_str = export.display().to_string();
    let out = run_ok(args(&[
        "snapshot",
        "--kubeconfig",
        &kc,
        "--out",
        &export_str,
    ]))
    .await;
    assert!(out.stdout.starts_with("wrote 0 objects"), "{}", out.stdout);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_resource_warns_and_the_rest_still_prints() {
    let server = TestApiServer::start().await.expect("start server");
    cluster::load_example(&server, "ack-cluster");
    server.forbid("applicationbackups", true);
    let dir = TempDir::new("forbidden");
    let kc = kubeconfig(&server, &dir);

    // The same example without the forbidden resource, as a snapshot.
    let partial = dir.path().join("partial");
    std::fs::create_dir_all(&partial).expect("create partial dir");
    for entry in std::fs::read_dir(cluster::example_dir("ack-cluster"))
        .expect("read example")
        .flatten()
    {
        let name = entry.file_name();
        if name != "csdr-applicationbackups.yaml" {
            std::fs::copy(entry.path(), partial.join(&name)).expect("copy example file");
        }
    }
    let partial_str = partial.display().to_string();

    for format in [&["status"][..], &["status", "-o", "json"]] {
        let mut live = args(format);
        live.extend(args(&["--kubeconfig", &kc, "--now", NOW]));
        let live_out = run_ok(live).await;
        assert!(
            live_out
                .stderr
                .contains("applicationbackups.csdr.alibabacloud.com")
                && live_out.stderr.contains("list")
                && live_out.stderr.contains("csdr"),
            "the warning must name the missing permission:\n{}",
            live_out.stderr
        );
        let mut snap = args(format);
        snap.extend(args(&["--snapshot", &partial_str, "--now", NOW]));
        let snap_out = run_ok(snap).await;
        assert_same(
            &format!("{format:?} with applicationbackups forbidden"),
            &live_out.stdout,
            &snap_out.stdout,
        );
    }
    let table = run_ok(args(&["status", "--kubeconfig", &kc, "--now", NOW])).await;
    assert!(
        table.stdout.contains("shared-oss-vault"),
        "vaults still shown:\n{}",
        table.stdout
    );
    server.shutdown().await;
}
