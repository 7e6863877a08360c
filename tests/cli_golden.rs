//! Golden tests for what users read: `status` and `describe` on the bundled examples, in every
//! output format. Regenerate deliberately with `UPDATE_GOLDEN=1 cargo test --test cli_golden`
//! and review the diff.

use std::process::Command;

mod support;

/// The instant both example snapshots were taken (examples/README.md).
const NOW: &str = "2026-11-25T09:00:00Z";

fn run(args: &[&str]) -> (String, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("BACKUPSCOPE_SNAPSHOT")
        .output()
        .expect("run backupscope");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

fn golden(name: &str, args: &[&str]) {
    let (stdout, stderr, ok) = run(args);
    assert!(ok, "backupscope {args:?} failed: {stderr}");
    support::golden::assert_matches(&format!("tests/golden/{name}"), &stdout);
}

#[test]
fn status_ack_table() {
    golden(
        "status-ack.txt",
        &["status", "--snapshot", "examples/ack-cluster", "--now", NOW],
    );
}

#[test]
fn status_velero_table() {
    golden(
        "status-velero.txt",
        &[
            "status",
            "--snapshot",
            "examples/velero-cluster",
            "--now",
            NOW,
        ],
    );
}

#[test]
fn status_json_and_yaml() {
    for (ext, fmt) in [("json", "json"), ("yaml", "yaml")] {
        for example in ["ack", "velero"] {
            golden(
                &format!("status-{example}.{ext}"),
                &[
                    "status",
                    "--snapshot",
                    &format!("examples/{example}-cluster"),
                    "--now",
                    NOW,
                    "-o",
                    fmt,
                ],
            );
        }
    }
}

#[test]
fn describe_failed_and_stuck_backups() {
    let ack = ["--snapshot", "examples/ack-cluster", "--now", NOW];
    let velero = ["--snapshot", "examples/velero-cluster", "--now", NOW];
    let cases: [(&str, &[&str], &[&str]); 5] = [
        (
            "describe-backup-vaulterror.txt",
            &["describe", "backup", "orders-hotfix-1124"],
            &ack,
        ),
        (
            "describe-backup-stuck.txt",
            &["describe", "backup", "before-k8s-upgrade-1124"],
            &ack,
        ),
        (
            "describe-backuplocation-unavailable.txt",
            &["describe", "backuplocation", "shared-oss-vault"],
            &ack,
        ),
        (
            "describe-backup-velero-restart.txt",
            &["describe", "backup", "daily-full-20261125020045"],
            &velero,
        ),
        (
            "describe-bsl-velero.txt",
            &["describe", "bsl", "offsite-s3"],
            &velero,
        ),
    ];
    for (name, cmd, source) in cases {
        let args: Vec<&str> = cmd.iter().chain(source.iter()).copied().collect();
        golden(name, &args);
    }
}

#[test]
fn json_output_is_valid_and_carries_the_dashboard_numbers() {
    let (stdout, stderr, ok) = run(&[
        "status",
        "--snapshot",
        "examples/ack-cluster",
        "--now",
        NOW,
        "-o",
        "json",
    ]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    let prod = v["backupOperationStatus"]["perLocation"]
        .as_array()
        .and_then(|a| a.iter().find(|l| l["backupLocation"] == "prod-hz-vault"))
        .expect("prod-hz-vault row");
    assert_eq!(prod["completed"], 17);
    assert_eq!(prod["failed"], 1);
    assert_eq!(prod["partiallyFailed"], 2);
    assert_eq!(
        v["backupOperationStatus"]["failedBackups"]
            .as_array()
            .map(Vec::len),
        Some(8)
    );
}

#[test]
fn errors_go_to_stderr_with_a_nonzero_exit() {
    let (stdout, stderr, ok) = run(&[
        "describe",
        "backup",
        "no-such-task",
        "--snapshot",
        "examples/ack-cluster",
    ]);
    assert!(!ok);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("backup \"no-such-task\" not found"),
        "{stderr}"
    );
    let (_, stderr, ok) = run(&["status", "--snapshot", "/nonexistent/bundle"]);
    assert!(!ok);
    assert!(stderr.contains("/nonexistent/bundle"), "{stderr}");
}

#[test]
fn colour_only_on_a_terminal() {
    // Test processes capture stdout, so no escape sequence may appear even without NO_COLOR.
    let (stdout, _, ok) = run(&["status", "--snapshot", "examples/ack-cluster", "--now", NOW]);
    assert!(ok);
    assert!(!stdout.contains('\x1b'));
}
