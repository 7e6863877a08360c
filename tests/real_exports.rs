//! Cases real exports (pasted from public Velero, OADP and Helm-chart bug reports) got wrong,
//! each with objects shaped as kubectl prints them: what `status` shows, and what `/metrics`
//! exports, for each.

mod support;

use backupscope::center::BackupCenter;
use backupscope::metrics::collector::{CollectOptions, Collector};
use backupscope::metrics::exposition::{Format, TextEncoder};
use serde_json::{Value, json};
use std::process::Command;
use support::builders::*;
use support::tempdir::TempDir;

const NOW: &str = "2026-11-25T09:00:00Z";

/// The backup-center families for these objects, as 0.0.4 text.
fn metrics(objects: &[Value]) -> String {
    let inventory = inventory(objects);
    let center = BackupCenter::new(&inventory, NOW.parse().expect("time"));
    let mut body = Vec::new();
    let mut encoder = TextEncoder::new(&mut body, Format::Prometheus004);
    Collector::new(CollectOptions::default()).collect_center(&center, &mut encoder);
    encoder.finish();
    String::from_utf8(body).expect("utf-8")
}

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

/// `backupscope <args> --snapshot DIR --now NOW` on a snapshot of `objects`.
fn run(objects: Vec<Value>, args: &[&str]) -> (String, String, bool) {
    let dir = TempDir::new("real-exports");
    write_list(dir.path(), "objects.json", objects);
    let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(args)
        .arg("--snapshot")
        .arg(dir.path())
        .args(["--now", NOW])
        .env("NO_COLOR", "1")
        .output()
        .expect("run backupscope");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

fn status_json(objects: Vec<Value>) -> Value {
    let (stdout, stderr, ok) = run(objects, &["status", "-o", "json"]);
    assert!(ok, "status failed: {stderr}");
    serde_json::from_str(&stdout).expect("status JSON")
}

#[test]
fn a_bsl_without_a_phase_was_never_validated_and_reads_unknown() {
    let objects = vec![mk_bsl("velero", "default", "velero-prod", None)];
    let status = status_json(objects.clone());
    let row = &status["backupLocations"][0];
    assert_eq!(row["phase"], "Unknown");
    assert_eq!(row["rawPhase"], "");
    assert_eq!(row["severity"], "unknown");
    let m = metrics(&objects);
    assert!(
        has_line(
            &m,
            r#"backupcenter_backuplocation_phase{namespace="velero",backuplocation="default",phase="Unknown"} 1"#
        ),
        "{m}"
    );
    assert!(
        has_line(
            &m,
            r#"backupcenter_backuplocation_phase{namespace="velero",backuplocation="default",phase="InProgress"} 0"#
        ),
        "{m}"
    );
}

#[test]
fn schedules_that_fail_validation_have_no_interval_and_no_rpo() {
    let objects = vec![
        mk_bsl("velero", "default", "b", Some("Available")),
        // Rejected by the controller, with its words.
        with(
            mk_schedule(
                "velero",
                "nightly",
                "0 0 2 * * *",
                "default",
                Some("FailedValidation"),
            ),
            "/status/validationErrors",
            json!(["invalid schedule: Expected exactly 5 fields, found 6: 0 0 2 * * *"]),
        ),
        // No status yet, but Velero will reject it: invalid all the same.
        mk_schedule("velero", "hourly-secs", "0 0 * * * *", "default", None),
        // A fine schedule that has not been picked up yet.
        mk_schedule("velero", "daily", "0 3 * * *", "default", None),
        mk_schedule("velero", "weekly", "@weekly", "default", Some("Enabled")),
        // Old runs of the broken schedule (it ran before its spec was edited).
        mk_scheduled_backup(
            "velero",
            "nightly",
            "default",
            "Completed",
            "2026-11-20T02:00:00Z",
        ),
        mk_scheduled_backup(
            "velero",
            "weekly",
            "default",
            "Completed",
            "2026-11-22T00:00:00Z",
        ),
    ];
    let status = status_json(objects.clone());
    let rows = status["schedules"].as_array().expect("schedules");
    let row = |name: &str| rows.iter().find(|r| r["name"] == name).expect(name).clone();
    assert_eq!(row("nightly")["phase"], "FailedValidation");
    assert_eq!(
        row("nightly")["problem"],
        "invalid schedule: Expected exactly 5 fields, found 6: 0 0 2 * * *"
    );
    assert_eq!(row("nightly")["intervalSeconds"], Value::Null);
    assert_eq!(row("hourly-secs")["phase"], "FailedValidation");
    assert_eq!(row("hourly-secs")["rawPhase"], "");
    assert!(
        row("hourly-secs")["problem"]
            .as_str()
            .unwrap()
            .contains("Expected exactly 5 fields, found 6")
    );
    assert_eq!(row("daily")["phase"], "New");
    assert_eq!(row("daily")["intervalSeconds"], 86400.0);
    assert_eq!(row("weekly")["phase"], "Enabled");
    assert_eq!(row("weekly")["intervalSeconds"], 7.0 * 86400.0);

    let m = metrics(&objects);
    for (schedule, phase) in [
        ("nightly", "FailedValidation"),
        ("hourly-secs", "FailedValidation"),
        ("daily", "New"),
        ("weekly", "Enabled"),
    ] {
        assert!(
            has_line(
                &m,
                &format!(
                    r#"backupcenter_schedule_phase{{namespace="velero",schedule="{schedule}",phase="{phase}"}} 1"#
                )
            ),
            "{schedule}: {m}"
        );
    }
    assert!(
        !m.contains(
            r#"backupcenter_schedule_interval_seconds{namespace="velero",schedule="nightly"}"#
        ),
        "{m}"
    );
    assert!(
        !m.contains(
            r#"backupcenter_schedule_interval_seconds{namespace="velero",schedule="hourly-secs"}"#
        ),
        "{m}"
    );
    assert!(!m.contains(r#"backupcenter_schedule_last_success_timestamp_seconds{namespace="velero",schedule="nightly"}"#), "no RPO for a schedule that cannot run: {m}");
    assert!(
        has_line(
            &m,
            r#"backupcenter_schedule_last_success_timestamp_seconds{namespace="velero",schedule="weekly"} 1795305600"#
        ),
        "{m}"
    );
}

#[test]
fn vaults_of_one_name_in_two_namespaces_stay_apart() {
    // Upstream Velero beside OADP: both have a vault called `default`.
    let objects = vec![
        mk_bsl("velero", "default", "velero-prod", Some("Available")),
        mk_bsl(
            "openshift-adp",
            "default",
            "oadp-backups",
            Some("Unavailable"),
        ),
        mk_backup(
            "velero",
            "a",
            "default",
            "Completed",
            "2026-11-24T01:00:00Z",
        ),
        mk_backup(
            "velero",
            "b",
            "default",
            "Completed",
            "2026-11-24T02:00:00Z",
        ),
        mk_backup(
            "openshift-adp",
            "c",
            "default",
            "Failed",
            "2026-11-24T03:00:00Z",
        ),
    ];
    let status = status_json(objects.clone());
    let per = status["backupOperationStatus"]["perLocation"]
        .as_array()
        .expect("rows");
    let counts: Vec<(String, u64, u64)> = per
        .iter()
        .map(|r| {
            (
                r["namespace"].as_str().unwrap().to_string(),
                r["completed"].as_u64().unwrap(),
                r["failed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![("openshift-adp".into(), 0, 1), ("velero".into(), 2, 0)]
    );

    let (table, _, ok) = run(objects.clone(), &["status"]);
    assert!(ok);
    assert!(
        table.contains("BACKUPLOCATION   NAMESPACE       OSS BUCKET"),
        "{table}"
    );
    assert!(
        table.contains("default          openshift-adp   oadp-backups"),
        "{table}"
    );

    // describe needs the namespace, and names both.
    let (_, err, ok) = run(objects.clone(), &["describe", "backuplocation", "default"]);
    assert!(!ok);
    assert!(
        err.contains("exists in several namespaces (openshift-adp, velero); pick one with -n"),
        "{err}"
    );
    let (out, err, ok) = run(
        objects.clone(),
        &[
            "describe",
            "backuplocation",
            "default",
            "-n",
            "openshift-adp",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("Backup Tasks:         1 (Failed 1)"), "{out}");
    let (out, _, _) = run(objects.clone(), &["describe", "backup", "c"]);
    assert!(
        out.contains("Backup Location:      default (Unavailable)"),
        "the task's own namespace's vault: {out}"
    );

    let m = metrics(&objects);
    assert!(
        has_line(
            &m,
            r#"backupcenter_backups{namespace="velero",backuplocation="default",backuplocation_exists="true",phase="Completed"} 2"#
        ),
        "{m}"
    );
    assert!(
        has_line(
            &m,
            r#"backupcenter_backups{namespace="openshift-adp",backuplocation="default",backuplocation_exists="true",phase="Failed"} 1"#
        ),
        "{m}"
    );
}

#[test]
fn a_task_whose_vault_does_not_exist_is_shown_as_such() {
    let objects = vec![
        mk_bsl("velero", "default", "velero-prod", Some("Available")),
        with(
            mk_backup(
                "velero",
                "to-nowhere",
                "offsite",
                "FailedValidation",
                "2026-11-24T05:00:00Z",
            ),
            "/status/validationErrors",
            json!([
                "an existing backup storage location was not specified at backup creation time and the server default offsite does not exist"
            ]),
        ),
    ];
    let status = status_json(objects.clone());
    let per = status["backupOperationStatus"]["perLocation"]
        .as_array()
        .unwrap();
    let offsite = per
        .iter()
        .find(|r| r["backupLocation"] == "offsite")
        .expect("row");
    assert_eq!(offsite["backupLocationExists"], false);
    assert_eq!(offsite["failed"], 1);
    let failed = &status["backupOperationStatus"]["failedBackups"][0];
    assert_eq!(failed["backupLocationExists"], false);
    assert_eq!(failed["reason"], "VaultError");

    let (table, _, _) = run(objects.clone(), &["status"]);
    assert!(table.contains("offsite (not found)   0"), "{table}");
    let (out, _, _) = run(objects.clone(), &["describe", "backup", "to-nowhere"]);
    assert!(
        out.contains("Backup Location:      offsite (not found)"),
        "{out}"
    );

    let m = metrics(&objects);
    assert!(
        has_line(
            &m,
            r#"backupcenter_backups{namespace="velero",backuplocation="offsite",backuplocation_exists="false",phase="Failed"} 1"#
        ),
        "{m}"
    );
    assert!(m.contains(r#"backupcenter_backup_failed_info{namespace="velero",backup="to-nowhere",backuplocation="offsite",backuplocation_exists="false","#), "{m}");
}

#[test]
fn restores_are_visible_with_their_reason() {
    let objects = vec![
        mk_restore(
            "velero",
            "drill",
            "daily-1",
            "Completed",
            "2026-11-23T01:00:00Z",
        ),
        mk_restore(
            "velero",
            "stuck",
            "daily-2",
            "InProgress",
            "2026-11-25T03:00:00Z",
        ),
        with(
            mk_restore(
                "velero",
                "broken",
                "daily-3",
                "Failed",
                "2026-11-24T01:00:00Z",
            ),
            "/status/failureReason",
            json!(
                "found a restore with status \"InProgress\" during the server starting, mark it as \"Failed\""
            ),
        ),
    ];
    let status = status_json(objects.clone());
    let r = &status["restoreStatus"];
    assert_eq!(r["counts"]["total"], 3);
    assert_eq!(r["counts"]["inProgress"], 1);
    let rows = r["restores"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        vec!["stuck", "broken"],
        "failed and unfinished only, newest first"
    );
    assert_eq!(rows[0]["runningSeconds"], 6.0 * 3600.0);
    assert_eq!(rows[1]["reason"], "ServerRestarted");

    let (table, _, _) = run(objects.clone(), &["status"]);
    assert!(
        table.contains(
            "RESTORE STATUS\n3 restores: 1 completed, 0 partially failed, 1 failed, 1 in progress"
        ),
        "{table}"
    );

    let m = metrics(&objects);
    assert!(
        has_line(
            &m,
            r#"backupcenter_restore_failed_info{namespace="velero",restore="broken",backup="daily-3",phase="Failed",reason="ServerRestarted"} 1"#
        ),
        "{m}"
    );
    assert!(
        has_line(
            &m,
            r#"backupcenter_restore_start_timestamp_seconds{namespace="velero",restore="stuck",backup="daily-2",phase="InProgress"} 1795575600"#
        ),
        "{m}"
    );
}

/// The usual paste of a bug report: the backup objects and the events, no Deployment, DaemonSet
/// or Pod. Nothing says whether the server runs, so backupscope says neither NotFound nor
/// Health, tells what to export, and still attributes the server pod's events.
#[test]
fn a_paste_without_workloads_neither_finds_nor_misses_the_components() {
    let at = "2026-11-25T08:55:00Z";
    let objects = vec![
        mk_bsl("velero", "default", "velero-prod", Some("Available")),
        mk_backup("velero", "nightly-1", "default", "Failed", at),
        mk_event(
            "velero",
            "Pod",
            "velero-6f8d9c7b5-x2x2x",
            "BackOff",
            "Back-off restarting failed container velero in pod velero-6f8d9c7b5-x2x2x",
            at,
        ),
    ];
    let status = status_json(objects.clone());
    assert_eq!(status["addonStatus"], json!([]), "{status:#}");
    assert_eq!(
        status["componentsNotExported"],
        json!([{"component": "velero", "namespace": "velero", "engine": "velero"}])
    );
    let (text, _, ok) = run(objects.clone(), &["status"]);
    assert!(ok);
    assert!(
        text.contains("velero in velero: not in the snapshot")
            && text.contains("kubectl -n velero get deployments,daemonsets,pods -o yaml"),
        "{text}"
    );
    let (doctor, stderr, _) = run(objects.clone(), &["doctor", "-o", "json"]);
    assert!(!doctor.contains("component-not-found"), "{doctor}{stderr}");
    assert!(doctor.contains("backup-failed"), "{doctor}{stderr}");
    let (events, stderr, ok) = run(objects, &["events", "-o", "json"]);
    assert!(ok, "{stderr}");
    let events: Value = serde_json::from_str(&events).expect("events JSON");
    assert_eq!(
        events["events"][0]["belongsTo"]["name"], "velero",
        "{events:#}"
    );
    assert_eq!(events["events"][0]["belongsTo"]["phase"], "Unknown");
}
