//! `backupscope doctor` as a user runs it: golden output on both bundled examples (table and
//! JSON), the exit status (0 healthy, 1 findings, 2 could not run), `--explain`, and the
//! Kubernetes version read from a `kubectl version -o json` file in a snapshot. Regenerate the
//! goldens deliberately with `UPDATE_GOLDEN=1 cargo test --test doctor_cli`.

mod support;

use serde_json::json;
use std::process::Command;
use support::builders::*;
use support::tempdir::TempDir;

const NOW: &str = "2026-11-25T09:00:00Z";

fn run(args: &[&str]) -> (String, String, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("BACKUPSCOPE_SNAPSHOT")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("run backupscope");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn doctor(snapshot: &str, extra: &[&str]) -> (String, String, Option<i32>) {
    let mut args = vec!["doctor", "--snapshot", snapshot, "--now", NOW];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn ack_example_golden_and_exit_status() {
    let (table, stderr, code) = doctor("examples/ack-cluster", &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr, "");
    support::golden::assert_matches("tests/golden/doctor-ack.txt", &table);
    let (json_out, _, code) = doctor("examples/ack-cluster", &["-o", "json"]);
    assert_eq!(code, Some(1));
    support::golden::assert_matches("tests/golden/doctor-ack.json", &json_out);
}

#[test]
fn velero_example_golden_and_exit_status() {
    let (table, stderr, code) = doctor("examples/velero-cluster", &[]);
    assert_eq!(code, Some(1), "{stderr}");
    support::golden::assert_matches("tests/golden/doctor-velero.txt", &table);
    let (json_out, _, code) = doctor("examples/velero-cluster", &["-o", "json"]);
    assert_eq!(code, Some(1));
    support::golden::assert_matches("tests/golden/doctor-velero.json", &json_out);
}

/// What a careful operator writes about each example: every problem of the story in
/// examples/README.md once, nothing else.
#[test]
fn examples_yield_exactly_the_operators_findings() {
    let findings = |dir: &str| -> Vec<(String, String, String)> {
        let (out, _, _) = doctor(dir, &["-o", "json"]);
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["severity"].as_str().unwrap().to_string(),
                    format!(
                        "{}/{}",
                        f["object"]["kind"].as_str().unwrap(),
                        f["object"]["name"].as_str().unwrap()
                    ),
                )
            })
            .collect()
    };
    let s = |r: &str, sev: &str, o: &str| (r.to_string(), sev.to_string(), o.to_string());
    assert_eq!(
        findings("examples/ack-cluster"),
        vec![
            s(
                "task-stuck",
                "critical",
                "ApplicationBackup/before-k8s-upgrade-1124"
            ),
            s(
                "restore-failed",
                "critical",
                "ApplicationRestore/restore-orders-drill"
            ),
            s(
                "vault-access-denied",
                "critical",
                "BackupLocation/shared-oss-vault"
            ),
            // prod-daily and weekly-full have succeeded since these failures.
            s(
                "backup-failed",
                "warning",
                "ApplicationBackup/prod-daily-20261117040100"
            ),
            s(
                "backup-partially-failed",
                "warning",
                "ApplicationBackup/prod-daily-20261121040100"
            ),
            s(
                "backup-partially-failed",
                "warning",
                "ApplicationBackup/shop-release-1119"
            ),
            s(
                "backup-failed",
                "warning",
                "ApplicationBackup/weekly-full-20261108020000"
            ),
            s("schedule-paused", "unknown", "BackupSchedule/weekly-full"),
        ]
    );
    assert_eq!(
        findings("examples/velero-cluster"),
        vec![
            s(
                "server-restarted",
                "critical",
                "Backup/daily-full-20261125020045"
            ),
            s(
                "backup-vault-missing",
                "critical",
                "BackupStorageLocation/offsite"
            ),
            s(
                "vault-access-denied",
                "critical",
                "BackupStorageLocation/offsite-s3"
            ),
            s(
                "backup-partially-failed",
                "warning",
                "Backup/daily-full-20261121020023"
            ),
            s(
                "backup-partially-failed",
                "warning",
                "Backup/every-6h-apps-20261123122102"
            ),
            s(
                "restore-partially-failed",
                "warning",
                "Restore/gitea-rollback-1124"
            ),
        ]
    );
}

#[test]
fn a_healthy_snapshot_exits_zero_and_says_so() {
    let dir = TempDir::new("doctor-healthy");
    write_snapshot(
        dir.path(),
        vec![(
            "velero.json",
            vec![
                mk_component_deployment(
                    "velero",
                    "velero",
                    json!({"deploy": "velero"}),
                    "velero",
                    "velero/velero:v1.17.1",
                    "512Mi",
                    1,
                ),
                mk_component_pod(
                    "velero",
                    "velero-1",
                    json!({"deploy": "velero"}),
                    "velero",
                    0,
                    None,
                    None,
                ),
                mk_bsl("velero", "default", "velero-prod", Some("Available")),
                mk_backup(
                    "velero",
                    "b1",
                    "default",
                    "Completed",
                    "2026-11-25T02:00:00Z",
                ),
            ],
        )],
    );
    let (out, stderr, code) = doctor(dir.path().to_str().unwrap(), &[]);
    assert_eq!(code, Some(0), "{out}{stderr}");
    assert_eq!(out, "No problems found (velero at 2026-11-25T09:00:00Z).\n");
    let (out, _, code) = doctor(dir.path().to_str().unwrap(), &["-o", "yaml"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("findings: []"), "{out}");
}

#[test]
fn a_source_that_cannot_be_read_exits_two() {
    let (out, stderr, code) = doctor("/nonexistent/snapshot", &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(out, "");
    assert!(
        stderr.starts_with("error: doctor could not read the backup center"),
        "{stderr}"
    );
    // No snapshot and no cluster either.
    let (_, stderr, code) = run(&["doctor"]);
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn explain_prints_a_rule_and_rejects_unknown_ones() {
    let (out, _, code) = run(&["doctor", "--explain", "task-stuck"]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("task-stuck (both): Backup or restore stuck past its bound\n\n"),
        "{out}"
    );
    assert!(out.contains("ACK 2 h"), "{out}");
    let (out, stderr, code) = run(&["doctor", "--explain", "no-such-rule"]);
    assert_eq!(code, Some(2));
    assert_eq!(out, "");
    assert!(
        stderr.contains("no rule \"no-such-rule\"; the rules are: vault-access-denied,"),
        "{stderr}"
    );
}

#[test]
fn kubernetes_version_file_in_a_snapshot_is_read() {
    let dir = TempDir::new("doctor-version");
    write_snapshot(
        dir.path(),
        vec![(
            "csdr.json",
            mk_ack_components(mk_csdr_velero_pod(0, None))
                .into_iter()
                .chain([mk_ack_vault(
                    "prod-hz-vault",
                    "cnfs-oss-prod",
                    "cn-hangzhou",
                    "internal",
                    Some("Available"),
                    "",
                )])
                .collect(),
        )],
    );
    let (out, stderr, code) = doctor(dir.path().to_str().unwrap(), &[]);
    assert_eq!(code, Some(0), "{out}{stderr}");
    dir.write(
        "kubectl-version.json",
        r#"{"clientVersion":{"major":"1","minor":"33","gitVersion":"v1.33.5"},"kustomizeVersion":"v5.6.0","serverVersion":{"major":"1","minor":"19","gitVersion":"v1.19.6-aliyun.1"}}"#,
    );
    let (out, stderr, code) = doctor(dir.path().to_str().unwrap(), &["-o", "json"]);
    assert_eq!(code, Some(1), "{stderr}");
    // The version file is no Kubernetes object, and no reason for a warning either.
    assert_eq!(stderr, "");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kubernetesVersion"], "v1.19.6-aliyun.1");
    assert_eq!(v["findings"][0]["rule"], "ack-kubernetes-too-old");
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn readme_shows_the_real_output_on_the_ack_example() {
    let golden = std::fs::read_to_string("tests/golden/doctor-ack.txt").unwrap();
    let head = golden[..golden.find("\n2. [").expect("a second finding")].trim_end();
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(
        readme.contains(&format!(
            "$ backupscope doctor --snapshot examples/ack-cluster --now 2026-11-25T09:00:00Z\n{head}\n…\n"
        )),
        "README.md's doctor section differs from tests/golden/doctor-ack.txt; copy its first finding"
    );
}
