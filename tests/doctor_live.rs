//! `doctor` against a live cluster (the in-repo test API server through a kubeconfig): the same
//! findings as on a snapshot of the same objects, plus the Kubernetes version read from the API
//! server's `/version`.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/tempdir.rs"]
#[allow(dead_code)]
mod tempdir;

use serde_json::Value;
use std::process::Command;
use testapiserver::TestApiServer;

const NOW: &str = "2026-11-25T09:00:00Z";

/// Runs the real binary off the async workers, so the in-process server keeps answering.
async fn doctor_json(source: Vec<String>) -> (Value, Option<i32>, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
            .args(["doctor", "-o", "json", "--now", NOW])
            .args(&source)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("BACKUPSCOPE_SNAPSHOT")
            .env_remove("KUBECONFIG")
            .output()
            .expect("run backupscope");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let doc = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("doctor printed no JSON ({e}): {stderr}"));
        (doc, out.status.code(), stderr)
    })
    .await
    .expect("join command")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_findings_equal_snapshot_findings_and_the_version_is_read() {
    let server = TestApiServer::start().await.expect("start server");
    cluster::load_example(&server, "ack-cluster");
    let dir = tempdir::TempDir::new("doctor-live");
    let kc = dir.write("kubeconfig", server.kubeconfig_yaml("doctor-live"));
    let live_args = vec!["--kubeconfig".to_string(), kc.display().to_string()];

    let (live, code, stderr) = doctor_json(live_args.clone()).await;
    assert_eq!(code, Some(1), "{stderr}");
    let (snapshot, _, _) =
        doctor_json(vec!["--snapshot".into(), "examples/ack-cluster".into()]).await;
    assert_eq!(live["kubernetesVersion"], "v1.33.0");
    assert_eq!(snapshot["kubernetesVersion"], Value::Null);
    assert_eq!(live["findings"], snapshot["findings"]);

    // Kubernetes 1.19: the latest migrate-controller cannot be installed.
    server.set_version("v1.19.16-aliyun.1");
    let (live, code, stderr) = doctor_json(live_args).await;
    assert_eq!(code, Some(1), "{stderr}");
    let rules: Vec<&str> = live["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(
        rules
            .iter()
            .filter(|r| **r == "ack-kubernetes-too-old")
            .count(),
        1,
        "{rules:?}"
    );
    assert_eq!(
        rules.len(),
        snapshot["findings"].as_array().unwrap().len() + 1
    );
    server.shutdown().await;
}
