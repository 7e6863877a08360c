//! `backupscope serve --kubeconfig`: the real binary follows a live cluster (the in-repo test
//! API server holding the ACK example) and its /metrics change as the cluster changes, also
//! across a dropped watch and a 410 relist.

#[path = "support/cluster.rs"]
mod cluster;
mod support;

use std::time::{Duration, Instant};
use support::{http, serve::Serve, tempdir::TempDir};
use testapiserver::TestApiServer;

const WAIT: Duration = Duration::from_secs(30);

async fn metrics(serve: &Serve) -> String {
    http::get(&serve.url("/metrics"), &[]).await.text()
}

/// The value of one exact series (`name{labels}` as backupscope prints it), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Polls /metrics until `check` holds; panics with what was seen last.
async fn wait_until(serve: &Serve, what: &str, check: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = metrics(serve).await;
        if check(&text) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "timed out waiting for {what}\nserve stderr:\n{}",
                serve.stderr()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const PROD_COMPLETED: &str = r#"backupcenter_backups{namespace="csdr",backuplocation="prod-hz-vault",backuplocation_exists="true",phase="Completed"}"#;
const PROD_FAILED: &str = r#"backupcenter_backups{namespace="csdr",backuplocation="prod-hz-vault",backuplocation_exists="true",phase="Failed"}"#;
const TASK: &str = "payment-db-migration-1113";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_follows_the_cluster() {
    let server = TestApiServer::start()
        .await
        .expect("start the test API server");
    server.set_bookmark_interval(Duration::from_millis(200));
    cluster::load_example(&server, "ack-cluster");
    let dir = TempDir::new("live-serve");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("live-serve")).expect("kubeconfig");
    let serve = Serve::start(&["--kubeconfig".as_ref(), kubeconfig.as_os_str()]);

    serve.wait_ready(WAIT).await;
    let text = metrics(&serve).await;
    assert_eq!(value(&text, PROD_COMPLETED), Some(17.0));
    assert_eq!(value(&text, PROD_FAILED), Some(1.0));
    assert!(
        text.lines()
            .any(|l| l.starts_with("backupscope_source_up{source=\"csdr/applicationbackups\"} 1")),
        "sources up"
    );

    // A Completed task fails: counts move and a Failed Backup Detail series appears.
    let mut task = server
        .get(cluster::ACK_API, "ApplicationBackup", Some("csdr"), TASK)
        .expect("task in the example");
    task["status"]["phase"] = "Failed".into();
    task["status"]["message"] =
        "VaultError: backup vault is unavailable: oss: StatusCode=403, ErrorCode=AccessDenied"
            .into();
    server.apply(task).expect("update the task");
    wait_until(&serve, "the task to count as Failed", |t| {
        value(t, PROD_COMPLETED) == Some(16.0) && value(t, PROD_FAILED) == Some(2.0)
    })
    .await;
    let text = metrics(&serve).await;
    let detail = text
        .lines()
        .find(|l| l.starts_with("backupcenter_backup_failed_info{") && l.contains(TASK))
        .expect("a failed-info series for the task");
    assert!(detail.contains(r#"reason="VaultError""#), "{detail}");

    // The watch drops and history is compacted: the relist must also remove what was deleted
    // in between (no ghosts).
    server.compact();
    server.drop_watches();
    server
        .delete(
            cluster::ACK_API,
            "BackupLocation",
            Some("csdr"),
            "audit-hz-vault",
        )
        .expect("delete")
        .expect("the vault existed");
    server
        .delete(cluster::ACK_API, "ApplicationBackup", Some("csdr"), TASK)
        .expect("delete")
        .expect("the task existed");
    wait_until(&serve, "the deleted vault and task to disappear", |t| {
        !t.contains(r#"backuplocation="audit-hz-vault""#)
            && !t.contains(TASK)
            && value(t, PROD_FAILED) == Some(1.0)
    })
    .await;
    assert_eq!(value(&metrics(&serve).await, PROD_COMPLETED), Some(16.0));
}

/// Polls `path` until `check(status, body)` holds; panics with what was seen last.
async fn wait_for(serve: &Serve, path: &str, what: &str, check: impl Fn(u16, &str) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let r = http::get(&serve.url(path), &[]).await;
        let text = r.text();
        if check(r.status.as_u16(), &text) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}; {path} answered {} {text}\nserve stderr:\n{}",
            r.status,
            serve.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const DISCOVERY_DOWN: &str = r#"backupscope_source_up{source="discovery"} 0"#;
const DISCOVERY_UP: &str = r#"backupscope_source_up{source="discovery"} 1"#;

/// Issue 7 C.2: the API server is not there when `serve` starts. `serve` binds its port, answers
/// /healthz, says on /readyz why it is not ready, exports `backupscope_source_up 0` for
/// discovery, and converges once the API server comes up (within WAIT), with no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_rides_out_an_api_server_that_starts_late() {
    // A loopback port nobody listens on yet: the API server will take it later.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let dir = TempDir::new("live-serve-late");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, TestApiServer::kubeconfig_for(addr, "late")).expect("kubeconfig");
    let serve = Serve::start(&[
        "--kubeconfig".as_ref(),
        kubeconfig.as_os_str(),
        "--request-timeout".as_ref(),
        "2s".as_ref(),
    ]);

    let health = http::get(&serve.url("/healthz"), &[]).await;
    assert_eq!(
        (health.status.as_u16(), health.text().as_str()),
        (200, "ok\n")
    );
    wait_for(
        &serve,
        "/readyz",
        "the reason discovery fails",
        |status, text| {
            status == 503
                && text.starts_with("not ready; waiting for:\ndiscovery: API discovery failed: ")
        },
    )
    .await;
    let text = metrics(&serve).await;
    assert!(text.lines().any(|l| l == DISCOVERY_DOWN), "{text}");
    assert_eq!(value(&text, PROD_COMPLETED), None, "nothing read yet");

    let server = TestApiServer::start_on(addr)
        .await
        .expect("start the test API server on the kubeconfig's port");
    cluster::load_example(&server, "ack-cluster");
    serve.wait_ready(WAIT).await;
    wait_until(&serve, "the example's tasks", |t| {
        value(t, PROD_COMPLETED) == Some(17.0) && t.lines().any(|l| l == DISCOVERY_UP)
    })
    .await;
    assert!(
        serve.stderr().contains("API discovery failed"),
        "the outage is logged:\n{}",
        serve.stderr()
    );
}

/// One backup system's API group fails discovery (an aggregated API that is down): `serve`
/// reads the other one, is ready, shows discovery down with the group and the reason, and
/// picks up the failed group once its discovery works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_degrades_when_one_api_group_fails_discovery() {
    let server = TestApiServer::start()
        .await
        .expect("start the test API server");
    cluster::load_example(&server, "ack-cluster");
    cluster::register_velero(&server);
    server
        .apply(serde_json::json!({
            "apiVersion": cluster::VELERO_API, "kind": "BackupStorageLocation",
            "metadata": {"name": "default", "namespace": "velero"},
            "spec": {"provider": "aws", "objectStorage": {"bucket": "b"}},
            "status": {"phase": "Available"},
        }))
        .expect("a Velero vault");
    server.break_group_discovery(cluster::VELERO_GROUP, true);
    let dir = TempDir::new("live-serve-group");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("group")).expect("kubeconfig");
    let serve = Serve::start(&["--kubeconfig".as_ref(), kubeconfig.as_os_str()]);

    wait_for(&serve, "/readyz", "readiness without velero.io", |s, _| {
        s == 200
    })
    .await;
    wait_until(&serve, "the ACK tasks while velero.io is unreadable", |t| {
        value(t, PROD_COMPLETED) == Some(17.0) && t.lines().any(|l| l == DISCOVERY_DOWN)
    })
    .await;
    let text = metrics(&serve).await;
    assert!(!text.contains("source=\"velero/backups\""), "{text}");
    assert!(
        serve.stderr().contains(
            "error=\"API group velero.io: HTTP 500 InternalError: the backend of this API group \
             does not answer (injected)\""
        ),
        "{}",
        serve.stderr()
    );

    server.break_group_discovery(cluster::VELERO_GROUP, false);
    wait_until(&serve, "velero.io read after its discovery recovers", |t| {
        t.lines().any(|l| l == DISCOVERY_UP)
            && t.lines()
                .any(|l| l == r#"backupscope_source_up{source="velero/backupstoragelocations"} 1"#)
            && value(t, PROD_COMPLETED) == Some(17.0)
    })
    .await;
}
