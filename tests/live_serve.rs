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

    let deadline = Instant::now() + WAIT;
    while http::get(&serve.url("/readyz"), &[]).await.status != 200 {
        assert!(
            Instant::now() < deadline,
            "never ready:\n{}",
            serve.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
