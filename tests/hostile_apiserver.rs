//! An API server that misbehaves (issue 13 item 7, issue 7 C.2): one that accepts connections
//! and never answers, one that repeats a `continue` token for ever, one whose API group
//! discovery fails. The real binary against the in-repo test API server, through a kubeconfig.

#[path = "support/cluster.rs"]
mod cluster;
mod support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::{http, serve::Serve, tempdir::TempDir};
use testapiserver::TestApiServer;

/// What `--request-timeout` is set to here, and how long a command given it may take at most:
/// discovery is the first request, so a hung server must fail it after one timeout (plus
/// process start), far below this.
const REQUEST_TIMEOUT: &str = "1s";
const FAIL_WITHIN: Duration = Duration::from_secs(8);

struct Cluster {
    server: TestApiServer,
    kubeconfig: std::path::PathBuf,
    _dir: TempDir,
}

async fn cluster(tag: &str) -> Cluster {
    let server = TestApiServer::start()
        .await
        .expect("start the test API server");
    cluster::load_example(&server, "ack-cluster");
    let dir = TempDir::new(tag);
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml(tag)).expect("kubeconfig");
    Cluster {
        server,
        kubeconfig,
        _dir: dir,
    }
}

/// Runs `backupscope <args>` off the async workers (the server runs in this process) and
/// returns its output and how long it took.
async fn run(args: Vec<String>) -> (Output, Duration) {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
            .args(&args)
            .env_remove("KUBECONFIG")
            .env_remove("BACKUPSCOPE_SNAPSHOT")
            .output()
            .expect("run backupscope");
        (out, started.elapsed())
    })
    .await
    .expect("join")
}

fn status_args(c: &Cluster) -> Vec<String> {
    vec![
        "status".into(),
        "--kubeconfig".into(),
        c.kubeconfig.display().to_string(),
        "--request-timeout".into(),
        REQUEST_TIMEOUT.into(),
    ]
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_fails_within_the_request_timeout_when_the_server_never_answers() {
    let c = cluster("hang-status").await;
    c.server.set_hang(true);
    let (out, took) = run(status_args(&c)).await;
    assert!(!out.status.success(), "must fail: {}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: API discovery failed: the API server did not answer within 1s (--request-timeout)\n"
    );
    assert!(took < FAIL_WITHIN, "took {took:?}, bound {FAIL_WITHIN:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_binds_and_reports_a_server_that_never_answers() {
    let c = cluster("hang-serve").await;
    c.server.set_hang(true);
    let serve = Serve::start(&[
        "--kubeconfig".as_ref(),
        c.kubeconfig.as_os_str(),
        "--request-timeout".as_ref(),
        REQUEST_TIMEOUT.as_ref(),
    ]);
    assert_eq!(http::get(&serve.url("/healthz"), &[]).await.status, 200);
    let deadline = Instant::now() + FAIL_WITHIN;
    loop {
        let r = http::get(&serve.url("/readyz"), &[]).await;
        if r.text()
            == "not ready; waiting for:\ndiscovery: API discovery failed: the API server did \
                not answer within 1s (--request-timeout)\n"
        {
            assert_eq!(r.status, 503);
            break;
        }
        assert!(Instant::now() < deadline, "readyz: {}", r.text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = http::get(&serve.url("/metrics"), &[]).await.text();
    assert!(
        text.lines()
            .any(|l| l == r#"backupscope_source_up{source="discovery"} 0"#),
        "{text}"
    );
    // The server answers again: serve recovers by itself.
    c.server.set_hang(false);
    serve.wait_ready(Duration::from_secs(30)).await;
}

/// A server that hands back the same continue token for ever: every list stops at the
/// repetition (after 2 pages) with a warning naming it, instead of growing without end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_stops_a_list_whose_continue_token_repeats() {
    let c = cluster("repeat").await;
    c.server.set_repeat_continue(true);
    let mut args = status_args(&c);
    args.extend(["--page-size".into(), "2".into()]);
    let (out, took) = run(args).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(
            "warning: csdr/applicationbackups not read: reading \
             applicationbackups.csdr.alibabacloud.com in namespace csdr: the API server repeated \
             a continue token after 2 pages (a list that would never end); giving up on it\n"
        ),
        "{err}"
    );
    assert!(took < FAIL_WITHIN, "took {took:?}");
    let lists = c.server.stats().requests("list");
    // 2 pages for each target, and 2 for the cluster-wide look for Velero's namespaces; no more.
    let targets = err.matches(" not read: ").count() as u64;
    assert!(targets > 0);
    assert_eq!(lists, 2 * targets + 2, "{err}");
}

/// One API group's discovery fails: `status` warns about that group and shows the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_the_rest_when_one_api_group_fails_discovery() {
    let c = cluster("group").await;
    cluster::register_velero(&c.server);
    c.server.break_group_discovery(cluster::VELERO_GROUP, true);
    let (out, _) = run(status_args(&c)).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.starts_with(
            "warning: API group velero.io not read: HTTP 500 InternalError: the backend of \
             this API group does not answer (injected)\n"
        ),
        "{err}"
    );
    assert!(!err.contains("neither the ACK backup center"), "{err}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("prod-hz-vault"), "{text}");
}

/// The request timeout bounds the answer to a request, not a watch's life: with a 1 s timeout
/// and no bookmarks, watches idle for 3 s stay up (no "source down" in the log) and still
/// deliver the next change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_watches_outlive_the_request_timeout() {
    let c = cluster("idle-watch").await;
    c.server.set_bookmark_interval(Duration::ZERO);
    let serve = Serve::start(&[
        "--kubeconfig".as_ref(),
        c.kubeconfig.as_os_str(),
        "--request-timeout".as_ref(),
        REQUEST_TIMEOUT.as_ref(),
    ]);
    serve.wait_ready(Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut vault = c
        .server
        .get(
            cluster::ACK_API,
            "BackupLocation",
            Some("csdr"),
            "audit-hz-vault",
        )
        .expect("a vault in the example");
    vault["status"]["phase"] = "Unavailable".into();
    c.server.apply(vault).expect("update the vault");
    let series = r#"backupcenter_backuplocation_phase{namespace="csdr",backuplocation="audit-hz-vault",phase="Unavailable"} 1"#;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !http::get(&serve.url("/metrics"), &[])
        .await
        .text()
        .lines()
        .any(|l| l == series)
    {
        assert!(
            Instant::now() < deadline,
            "change not seen:\n{}",
            serve.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !serve.stderr().contains("source down"),
        "a watch was cut:\n{}",
        serve.stderr()
    );
}
