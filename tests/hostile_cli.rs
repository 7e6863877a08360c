//! The CLI against a hostile environment (issue 13 items 8, 9, 10, 12): durations that used to
//! panic, stdout/stderr that cannot be written, names with terminal escape sequences, and a
//! `snapshot --out` directory with a planted symlink. The real binary.

#[path = "support/cluster.rs"]
mod cluster;
mod support;

use std::process::{Command, Output, Stdio};
use support::{serve::example, tempdir::TempDir};
use testapiserver::TestApiServer;

fn backupscope() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_backupscope"));
    c.env_remove("KUBECONFIG")
        .env_remove("BACKUPSCOPE_SNAPSHOT")
        .env_remove("NO_COLOR");
    c
}

/// A file every write to fails with ENOSPC.
fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
}

fn run(args: &[&str]) -> Output {
    backupscope().args(args).output().expect("run backupscope")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Clap's usage error: exit code 2, never a panic (101).
fn assert_usage_error(out: &Output, says: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(stderr(out).contains(says), "{}", stderr(out));
}

#[test]
fn durations_out_of_range_are_refused_not_panicked_on() {
    let snapshot = example("ack-cluster");
    let snapshot = snapshot.to_str().expect("utf-8 path");
    for (interval, says) in [
        (
            "99999999999999999999h",
            "\"99999999999999999999h\" is out of range: give a duration from 1s to 24h",
        ),
        (
            "0.1ns",
            "\"0.1ns\" is out of range: give a duration from 1s to 24h",
        ),
        ("5", "has a number without a unit"),
    ] {
        let out = run(&[
            "serve",
            "--snapshot",
            snapshot,
            "--remote-write-url",
            "http://127.0.0.1:1/api/v1/write",
            "--remote-write-interval",
            interval,
        ]);
        assert_usage_error(&out, says);
    }
    let out = run(&[
        "status",
        "--snapshot",
        snapshot,
        "--request-timeout",
        "0.1ns",
    ]);
    assert_usage_error(&out, "give a duration from 100ms to 10m");
}

#[test]
fn output_that_cannot_be_written_is_a_failure() {
    let full = dev_full();
    let out = backupscope()
        .args(["status", "--snapshot"])
        .arg(example("ack-cluster"))
        .stdout(full)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: cannot write the output: No space left on device (os error 28)\n"
    );
}

/// A bundle that makes `status` warn, with escape sequences in a file name and an object name.
fn hostile_bundle(dir: &TempDir) -> std::path::PathBuf {
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(&bundle).expect("bundle dir");
    std::fs::write(
        bundle.join("evil-\u{1b}]0;owned\u{7}-\u{1b}[2J.yaml"),
        "kind: [unclosed\n",
    )
    .expect("write");
    let long_name = format!("x\u{1b}[31m{}", "y".repeat(1_000_000));
    std::fs::write(
        bundle.join("backups.json"),
        serde_json::json!({
            "apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": long_name, "namespace": "velero"},
            "status": {"phase": 7},
        })
        .to_string(),
    )
    .expect("write");
    std::fs::copy(
        example("ack-cluster").join("csdr-backuplocations.yaml"),
        bundle.join("csdr-backuplocations.yaml"),
    )
    .expect("copy a readable file");
    bundle
}

#[test]
fn warnings_are_terminal_safe_and_capped() {
    let dir = TempDir::new("hostile-warnings");
    let bundle = hostile_bundle(&dir);
    let out = backupscope()
        .args(["status", "--snapshot"])
        .arg(&bundle)
        .output()
        .expect("run");
    let err = stderr(&out);
    assert!(err.contains("warning: skipped "), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    for line in err.lines() {
        // output::text keeps at most 4096 characters of a message.
        assert!(
            line.chars().count() <= 4096 + 20,
            "{} chars",
            line.chars().count()
        );
    }
}

/// Warnings to a stderr whose reader is gone (`2>&1 >/dev/null | head -1`), or to a full
/// disk: the command finishes as it would otherwise, no panic (exit 101).
#[test]
fn warnings_to_a_closed_or_full_stderr_do_not_panic() {
    let dir = TempDir::new("hostile-stderr");
    let bundle = hostile_bundle(&dir);
    let mut child = backupscope()
        .args(["status", "--snapshot"])
        .arg(&bundle)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stderr.take()); // the reader is gone before the first warning
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));

    let full = dev_full();
    let status = backupscope()
        .args(["status", "--snapshot"])
        .arg(&bundle)
        .stdout(Stdio::null())
        .stderr(full)
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_namespace_that_is_not_a_name_is_refused() {
    let out = run(&[
        "snapshot",
        "--out",
        "/nonexistent-never-written",
        "--velero-namespace",
        "../x",
    ]);
    assert_usage_error(&out, "\"../x\" is not a namespace name");
    assert!(!std::path::Path::new("/nonexistent-never-written").exists());
}

/// `snapshot --out` into a directory where someone planted a symlink at a file's name: the
/// link is replaced by the export, its target is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_never_writes_through_a_planted_symlink() {
    let server = TestApiServer::start()
        .await
        .expect("start the test API server");
    cluster::load_example(&server, "ack-cluster");
    let dir = TempDir::new("hostile-snapshot");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml("snap")).expect("kubeconfig");
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("out");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("victim");
    let planted = out_dir.join("csdr-applicationbackups.csdr.alibabacloud.com.yaml");
    std::os::unix::fs::symlink(&victim, &planted).expect("plant the link");

    let out = tokio::task::spawn_blocking(move || {
        backupscope()
            .arg("snapshot")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .expect("run")
    })
    .await
    .expect("join");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious\n"
    );
    let meta = std::fs::symlink_metadata(&planted).expect("the export");
    assert!(
        meta.file_type().is_file(),
        "the link was replaced by a file"
    );
    let text = std::fs::read_to_string(&planted).expect("read the export");
    assert!(text.contains("kind: ApplicationBackup"), "{text}");
}

/// Issue 13 item 13: each error is printed once, not once by the kube client's log and again
/// by backupscope, nor with its cause repeated.
#[test]
fn an_error_is_printed_once() {
    let out = run(&["status", "--snapshot", "/nonexistent-backupscope-bundle"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: cannot read snapshot /nonexistent-backupscope-bundle: No such file or directory \
         (os error 2)\n"
    );

    let dir = TempDir::new("hostile-exec");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: \
         http://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n\
         current-context: c\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: \
         client.authentication.k8s.io/v1beta1\n      command: no-such-exec-plugin-for-backupscope\n",
    )
    .expect("kubeconfig");
    let out = backupscope()
        .args(["status", "--request-timeout", "2s", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("unable to run auth exec"),
        "{err}"
    );
}

/// `serve` with stdout and stderr on a full disk: the address line and the log cannot be
/// written, and serve still serves (it used to panic on the address line).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_stdout_and_stderr_on_a_full_disk_still_serves() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let mut child = backupscope()
        .args(["serve", "--listen", &addr.to_string(), "--snapshot"])
        .arg(example("ack-cluster"))
        // A warning at start (the log goes to the full stderr).
        .env("BACKUPSCOPE_LOG", "debug")
        .stdout(dev_full())
        .stderr(dev_full())
        .spawn()
        .expect("spawn serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let url = format!("http://{addr}/metrics");
    let answered = loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("serve exited: {status:?}");
        }
        if let Ok(r) = support::http::try_get_with(&support::http::client(), &url, &[]).await
            && r.status == 200
        {
            break true;
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(answered, "serve never answered on {url}");
}
