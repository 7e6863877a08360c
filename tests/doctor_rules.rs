//! Scenario tests of every doctor rule: objects as kubectl prints them (tests/support/builders),
//! a case where the rule fires with its evidence and fix, and healthy sets where nothing fires.
//! The correlations (tasks failed on one vault, a task stuck while the server was OOMKilled)
//! must each yield one finding.

mod support;

use backupscope::center::{BackupCenter, Severity};
use backupscope::report::doctor::{ClusterFacts, Finding};
use serde_json::{Value, json};
use support::builders::*;

const NOW: &str = "2026-11-25T09:00:00Z";

fn diagnose_with(objects: &[Value], facts: &ClusterFacts) -> Vec<Finding> {
    let inv = inventory(objects);
    let center = BackupCenter::new(&inv, NOW.parse().unwrap());
    backupscope::doctor::diagnose(&center, facts)
}

fn diagnose(objects: &[Value]) -> Vec<Finding> {
    diagnose_with(objects, &ClusterFacts::default())
}

/// (rule, severity, object) of every finding, in report order.
fn summary(findings: &[Finding]) -> Vec<(&'static str, Severity, String)> {
    findings
        .iter()
        .map(|f| (f.rule, f.severity, f.object.to_string()))
        .collect()
}

fn only<'a>(findings: &'a [Finding], rule: &str) -> &'a Finding {
    let matching: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(matching.len(), 1, "{rule} in {:#?}", summary(findings));
    matching[0]
}

fn commands(f: &Finding) -> Vec<&str> {
    f.fix
        .iter()
        .flat_map(|s| s.commands.iter().map(String::as_str))
        .collect()
}

fn facts(f: &Finding) -> String {
    f.evidence
        .iter()
        .map(|e| format!("{} {}", e.object, e.fact))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces the healthy csdr-velero with one that has no ready pod and waits in
/// CrashLoopBackOff after `restarts` restarts ending `last`.
fn break_csdr_velero(objects: &mut Vec<Value>, restarts: u64, last: LastEnd) {
    objects.retain(|o| {
        o["metadata"]["name"] != "csdr-velero"
            && o["metadata"]["name"] != "csdr-velero-7f9c5d8b6d-8kx2p"
    });
    objects.push(mk_component_deployment(
        "csdr",
        "csdr-velero",
        csdr_velero_labels(),
        "velero",
        "velero:v1",
        "2Gi",
        0,
    ));
    objects.push(mk_component_pod(
        "csdr",
        "csdr-velero-x",
        csdr_velero_labels(),
        "velero",
        restarts,
        last,
        Some("CrashLoopBackOff"),
    ));
}

fn ack_healthy() -> Vec<Value> {
    let mut objects = mk_ack_components(mk_csdr_velero_pod(0, None));
    objects.extend([
        mk_ack_vault(
            "prod-hz-vault",
            "cnfs-oss-prod-backup-hz",
            "cn-hangzhou",
            "internal",
            Some("Available"),
            "",
        ),
        mk_ack_schedule("prod-daily", "1 4 * * *", "prod-hz-vault", false),
        mk_ack_scheduled_backup(
            "prod-daily",
            "prod-hz-vault",
            "Completed",
            "2026-11-24T04:01:00Z",
            "",
        ),
        mk_ack_scheduled_backup(
            "prod-daily",
            "prod-hz-vault",
            "Completed",
            "2026-11-25T04:01:00Z",
            "",
        ),
        mk_ack_backup(
            "payment-adhoc-1125",
            "prod-hz-vault",
            "InProgress",
            "2026-11-25T08:51:09Z",
            "",
        ),
        mk_ack_restore(
            "restore-shop-1118",
            "prod-daily-20261124040100",
            "Completed",
            "2026-11-24T10:00:00Z",
            "",
        ),
    ]);
    objects
}

fn velero_labels() -> Value {
    json!({"deploy": "velero"})
}

fn velero_pod(restarts: u64, last: LastEnd) -> Value {
    mk_component_pod(
        "velero",
        "velero-68b9c7d5f4-tx4kz",
        velero_labels(),
        "velero",
        restarts,
        last,
        None,
    )
}

fn velero_components(pod: Value) -> Vec<Value> {
    vec![
        mk_component_deployment(
            "velero",
            "velero",
            velero_labels(),
            "velero",
            "velero/velero:v1.17.1",
            "512Mi",
            1,
        ),
        pod,
    ]
}

fn velero_healthy() -> Vec<Value> {
    let mut objects = velero_components(velero_pod(0, None));
    objects.extend([
        mk_bsl("velero", "default", "velero-prod", Some("Available")),
        mk_schedule(
            "velero",
            "daily-full",
            "0 2 * * *",
            "default",
            Some("Enabled"),
        ),
        mk_scheduled_backup(
            "velero",
            "daily-full",
            "default",
            "Completed",
            "2026-11-24T02:00:45Z",
        ),
        mk_scheduled_backup(
            "velero",
            "daily-full",
            "default",
            "Completed",
            "2026-11-25T02:00:45Z",
        ),
        mk_backup(
            "velero",
            "gitea-adhoc-1125",
            "default",
            "InProgress",
            "2026-11-25T08:47:10Z",
        ),
        mk_restore(
            "velero",
            "keycloak-verify-1123",
            "daily-full-20261124020045",
            "Completed",
            "2026-11-23T13:30:00Z",
        ),
    ]);
    objects
}

#[test]
fn healthy_sets_yield_nothing() {
    assert_eq!(summary(&diagnose(&ack_healthy())), vec![]);
    assert_eq!(summary(&diagnose(&velero_healthy())), vec![]);
    // A supported Kubernetes version says nothing either.
    let facts = ClusterFacts {
        kubernetes_version: Some("v1.33.3-aliyun.1".into()),
        ..ClusterFacts::default()
    };
    assert_eq!(summary(&diagnose_with(&ack_healthy(), &facts)), vec![]);
}

const NOT_OWNED: &str = "VaultError: backup vault is unavailable: oss: service returned error: StatusCode=403, ErrorCode=AccessDenied, ErrorMessage=\"The bucket you access does not belong to you.\", RequestId=668516BC35F915";

#[test]
fn five_tasks_failed_on_one_unavailable_vault_are_one_vault_finding() {
    let mut objects = ack_healthy();
    objects.push(mk_ack_vault(
        "shared-oss-vault", "cnfs-oss-shared-backup", "cn-hangzhou", "internal",
        Some("Unavailable"), "oss: service returned error: StatusCode=403, ErrorCode=AccessDenied, ErrorMessage=\"The bucket you access does not belong to you.\"",
    ));
    objects.push(mk_ack_schedule(
        "orders-frequent",
        "6h30m",
        "shared-oss-vault",
        false,
    ));
    objects.push(mk_ack_scheduled_backup(
        "orders-frequent",
        "shared-oss-vault",
        "Completed",
        "2026-11-24T11:00:00Z",
        "",
    ));
    for at in [
        "2026-11-24T17:30:00Z",
        "2026-11-25T00:00:00Z",
        "2026-11-25T06:30:00Z",
    ] {
        objects.push(mk_ack_scheduled_backup(
            "orders-frequent",
            "shared-oss-vault",
            "Failed",
            at,
            NOT_OWNED,
        ));
    }
    objects.push(mk_ack_backup(
        "orders-hotfix-1124",
        "shared-oss-vault",
        "Failed",
        "2026-11-24T15:12:46Z",
        NOT_OWNED,
    ));
    objects.push(mk_ack_backup(
        "orders-hotfix-1125",
        "shared-oss-vault",
        "Failed",
        "2026-11-25T01:00:00Z",
        NOT_OWNED,
    ));
    let findings = diagnose(&objects);
    // The schedule's missed RPO and the five failures are all in the vault's finding.
    assert_eq!(
        summary(&findings),
        vec![(
            "vault-access-denied",
            Severity::Critical,
            "csdr/BackupLocation/shared-oss-vault".to_string()
        )]
    );
    let f = &findings[0];
    assert_eq!(f.affected.len(), 6, "{:#?}", f.affected);
    assert_eq!(
        f.affected
            .iter()
            .filter(|a| a.kind == "ApplicationBackup")
            .count(),
        5
    );
    assert!(
        f.affected
            .iter()
            .any(|a| a.to_string() == "csdr/BackupSchedule/orders-frequent")
    );
    assert!(
        f.summary.contains("5 task(s) failed on it"),
        "{}",
        f.summary
    );
    assert!(
        facts(f).contains("last success 22h ago, bound 13h (2 × 6h30m): RPO missed"),
        "{}",
        facts(f)
    );
    assert!(
        f.cause.contains("belongs to another account"),
        "{}",
        f.cause
    );
    assert_eq!(
        commands(f),
        vec!["kubectl -n csdr describe backuplocation shared-oss-vault"]
    );
    assert!(
        f.fix[1].text.contains("new vault with a new name"),
        "{}",
        f.fix[1].text
    );
}

#[test]
fn internal_vault_across_regions_gets_the_public_network_patch() {
    let mut objects = ack_healthy();
    objects.push(mk_ack_vault(
        "dr-bj-vault",
        "cnfs-oss-dr-backup-bj",
        "cn-beijing",
        "internal",
        Some("Unavailable"),
        "dial tcp 100.118.102.1:443: i/o timeout",
    ));
    // The cluster's region comes from the ACK node name.
    let mut pod = mk_component_pod(
        "csdr",
        "hbr-client-abcde",
        json!({"app": "hbr-client"}),
        "hbr-client",
        0,
        None,
        None,
    );
    set(&mut pod, "/spec/nodeName", json!("cn-hangzhou.10.0.3.8"));
    objects.push(pod);
    let findings = diagnose(&objects);
    let f = only(&findings, "vault-internal-cross-region");
    assert_eq!(f.object.to_string(), "csdr/BackupLocation/dr-bj-vault");
    assert!(
        f.cause
            .contains("in cn-beijing and the cluster in cn-hangzhou"),
        "{}",
        f.cause
    );
    let patch = r#"'[{"op":"replace","path":"/spec/config","value":{"network":"public","region":"cn-beijing"}}]'"#;
    assert_eq!(
        commands(f),
        vec![
            "kubectl -n csdr describe backuplocation dr-bj-vault".to_string(),
            format!("kubectl -n csdr patch backuplocation dr-bj-vault --type json -p {patch}"),
            format!(
                "kubectl -n csdr patch backupstoragelocation.velero.io dr-bj-vault --type json -p {patch}"
            ),
        ]
    );
    assert_eq!(findings.len(), 1, "{:#?}", summary(&findings));
}

#[test]
fn velero_vault_messages_pick_their_rule() {
    let cases = [
        (
            "rpc error: code = Unknown desc = NoSuchBucket: The specified bucket does not exist",
            "vault-no-such-bucket",
            "Bucket velero-offsite does not exist",
        ),
        (
            "rpc error: dial tcp: lookup minio.storage.corp.example: no such host",
            "vault-network",
            "cannot be reached",
        ),
        (
            "Backup store contains invalid top-level directories: [junk other]",
            "vault-invalid-layout",
            "not Velero's",
        ),
        (
            "something new and strange",
            "vault-unavailable",
            "does not name",
        ),
        (
            "api error AccessDenied: Access Denied",
            "vault-access-denied",
            "refuses the credentials",
        ),
    ];
    for (message, rule, cause) in cases {
        let mut objects = velero_healthy();
        objects.push(with(
            mk_bsl(
                "velero",
                "offsite-s3",
                "velero-offsite",
                Some("Unavailable"),
            ),
            "/status/message",
            json!(message),
        ));
        let findings = diagnose(&objects);
        assert_eq!(
            summary(&findings),
            vec![(
                rule,
                Severity::Critical,
                "velero/BackupStorageLocation/offsite-s3".to_string()
            )],
            "{message}"
        );
        assert!(
            findings[0].cause.contains(cause),
            "{rule}: {}",
            findings[0].cause
        );
        assert!(facts(&findings[0]).contains(message), "{rule}");
        assert_eq!(
            commands(&findings[0])[0],
            "velero backup-location get offsite-s3 -o yaml"
        );
    }
}

#[test]
fn a_vault_never_validated_fires_only_after_its_grace() {
    let mut objects = velero_healthy();
    objects.push(mk_bsl("velero", "gcs-archive", "acme-velero-archive", None));
    let findings = diagnose(&objects);
    let f = only(&findings, "vault-never-validated");
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.summary.contains("never validated in the 36d"),
        "{}",
        f.summary
    );
    // Created 12 s ago (the ACK example's audit vault): still being checked, not a finding.
    let mut fresh = ack_healthy();
    let mut v = mk_ack_vault(
        "audit-hz-vault",
        "cnfs-oss-audit",
        "cn-hangzhou",
        "internal",
        None,
        "",
    );
    set(
        &mut v,
        "/metadata/creationTimestamp",
        json!("2026-11-25T08:59:48Z"),
    );
    set(&mut v, "/status/phase", json!("InProgress"));
    fresh.push(v);
    assert_eq!(summary(&diagnose(&fresh)), vec![]);
    // Velero before 1.5 never wrote a BSL phase: a backup that completed on the vault since
    // it was created shows it works.
    let mut old_velero = velero_healthy();
    old_velero.push(mk_bsl("velero", "gcs-archive", "acme-velero-archive", None));
    old_velero.push(mk_backup(
        "velero",
        "archive-1124",
        "gcs-archive",
        "Completed",
        "2026-11-24T06:30:00Z",
    ));
    assert_eq!(summary(&diagnose(&old_velero)), vec![]);
}

#[test]
fn a_task_naming_a_missing_vault_suggests_the_closest() {
    let mut objects = velero_healthy();
    objects.push(mk_bsl(
        "velero",
        "offsite-s3",
        "velero-offsite",
        Some("Available"),
    ));
    let mut b = mk_backup(
        "velero",
        "keycloak-offsite-1122",
        "offsite",
        "FailedValidation",
        "2026-11-22T11:17:45Z",
    );
    set(&mut b, "/spec/includedNamespaces", json!(["keycloak"]));
    set(
        &mut b,
        "/status/validationErrors",
        json!([
            "an existing backup storage location was not specified at backup creation time and the default offsite was not found"
        ]),
    );
    objects.push(b);
    let findings = diagnose(&objects);
    assert_eq!(
        summary(&findings),
        vec![(
            "backup-vault-missing",
            Severity::Critical,
            "velero/BackupStorageLocation/offsite".to_string()
        )]
    );
    let f = &findings[0];
    assert!(
        f.fix[0].text.contains("did you mean offsite-s3?"),
        "{}",
        f.fix[0].text
    );
    assert_eq!(
        commands(f),
        vec![
            "kubectl -n velero get backupstoragelocation",
            "velero backup create keycloak-offsite-1122-retry --storage-location offsite-s3 --include-namespaces keycloak",
        ]
    );
}

#[test]
fn failed_ack_tasks_get_their_catalogue_row() {
    let cases = [
        (
            "velero backup process timeout",
            "Timeout",
            "velero_timeout_minutes",
            "kubectl -n csdr edit configmap csdr-config",
        ),
        (
            "HBRError: check HBR vault error",
            "HBRError",
            "Cloud Backup",
            "kubectl -n csdr get pod -l app=hbr-client",
        ),
        (
            "hbr task finished with unexpected status: FAILED, errMsg ClientNotExist",
            "HBRError",
            "hbr-client",
            "kubectl -n csdr get pod -l app=hbr-client -o wide",
        ),
        (
            "get target namespace failed",
            "NamespaceNotFound",
            "namespace selection",
            "",
        ),
        (
            "upload backup files to OSS bucket failed",
            "StorageError",
            "KMS",
            "kubectl -n kube-system delete pod -l app=migrate-controller",
        ),
        (
            "create cluster resources timeout",
            "Timeout",
            "FAQ #8",
            "kubectl get pvc -A --field-selector status.phase=Pending",
        ),
        (
            "deleterequests.csdr.alibabacloud.com \"weekly-full-dbr\" already exists",
            "Unknown",
            "FAQ #2",
            "kubectl -n csdr get deleterequests",
        ),
    ];
    for (message, class, fix_word, command) in cases {
        let mut objects = ack_healthy();
        objects.push(mk_ack_backup(
            "weekly-full-20261108020000",
            "prod-hz-vault",
            "Failed",
            "2026-11-08T02:03:18Z",
            message,
        ));
        let findings = diagnose(&objects);
        let f = only(&findings, "backup-failed");
        assert_eq!(findings.len(), 1, "{message}: {:#?}", summary(&findings));
        assert_eq!(f.severity, Severity::Critical);
        assert!(
            f.summary.contains(&format!("Failed ({class})")),
            "{}",
            f.summary
        );
        let all_text: String = f
            .fix
            .iter()
            .map(|s| s.text.clone())
            .collect::<Vec<_>>()
            .join(" ")
            + &f.cause;
        assert!(all_text.contains(fix_word), "{message}: {all_text}");
        let cmds = commands(f);
        assert_eq!(
            cmds[0],
            "kubectl -n csdr describe applicationbackup weekly-full-20261108020000"
        );
        assert!(cmds.contains(&"kubectl -n csdr exec deploy/csdr-velero -c velero -- ./velero backup logs weekly-full-20261108020000"));
        if !command.is_empty() {
            assert!(cmds.contains(&command), "{message}: {cmds:?}");
        }
    }
}

#[test]
fn partially_failed_backup_shows_its_twin_counts() {
    let mut objects = ack_healthy();
    objects.push(mk_ack_backup(
        "shop-release-1119",
        "prod-hz-vault",
        "PartiallyFailed",
        "2026-11-19T10:31:42Z",
        "PROCESS velero partially completed",
    ));
    let mut twin = mk_backup(
        "csdr",
        "shop-release-1119",
        "prod-hz-vault",
        "PartiallyFailed",
        "2026-11-19T10:31:19Z",
    );
    set(&mut twin, "/status/errors", json!(1));
    set(&mut twin, "/status/warnings", json!(2));
    objects.push(twin);
    let findings = diagnose(&objects);
    let f = only(&findings, "backup-partially-failed");
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        facts(f).contains(
            "csdr/Backup/shop-release-1119 velero twin phase PartiallyFailed, errors 1, warnings 2"
        ),
        "{}",
        facts(f)
    );
    assert!(f.cause.contains("ACK FAQ #24"), "{}", f.cause);
    assert_eq!(findings.len(), 1);
}

#[test]
fn a_completed_backup_with_a_stale_failure_reason_is_not_a_failure() {
    let mut objects = velero_healthy();
    objects.push(with(
        mk_backup("velero", "daily-full-20261120020000", "default", "Completed", "2026-11-20T02:00:00Z"),
        "/status/failureReason",
        json!("found a backup with status \"InProgress\" during the server starting, mark it as \"Failed\""),
    ));
    assert_eq!(summary(&diagnose(&objects)), vec![]);
}

#[test]
fn failed_and_partially_failed_restores() {
    let mut objects = ack_healthy();
    objects.push(mk_ack_restore(
        "restore-orders-drill",
        "weekly-full-20261122020000",
        "Failed",
        "2026-11-23T03:14:40Z",
        "RestoreError: snapshot cross region request failed",
    ));
    let findings = diagnose(&objects);
    let f = only(&findings, "restore-failed");
    assert!(f.cause.contains("ECS snapshot permissions"), "{}", f.cause);
    assert_eq!(
        commands(f)[0],
        "kubectl -n csdr describe applicationrestore restore-orders-drill"
    );

    let mut objects = velero_healthy();
    let mut r = mk_restore(
        "velero",
        "gitea-rollback-1124",
        "every-6h-apps-20261124002206",
        "PartiallyFailed",
        "2026-11-24T10:48:26Z",
    );
    set(&mut r, "/status/errors", json!(2));
    set(&mut r, "/status/warnings", json!(9));
    objects.push(r);
    let findings = diagnose(&objects);
    let f = only(&findings, "restore-partially-failed");
    assert_eq!(f.severity, Severity::Warning);
    assert!(facts(f).contains("errors 2, warnings 9"));
    assert_eq!(
        commands(f),
        vec![
            "velero restore describe gitea-rollback-1124 --details",
            "velero restore logs gitea-rollback-1124"
        ]
    );
}

const RESTARTED: &str =
    "found a backup with status \"InProgress\" during the server starting, mark it as \"Failed\"";

#[test]
fn backup_and_restore_failed_by_one_oom_restart_are_one_finding() {
    let mut objects = velero_components(velero_pod(
        1,
        Some(("OOMKilled", 137, "2026-11-25T02:38:52Z")),
    ));
    objects.extend(velero_healthy().into_iter().skip(2));
    objects.push(with(
        mk_scheduled_backup(
            "velero",
            "daily-full",
            "default",
            "Failed",
            "2026-11-25T02:39:19Z",
        ),
        "/status/failureReason",
        json!(RESTARTED),
    ));
    objects.push(with(
        mk_restore("velero", "drill-keycloak-20261125", "daily-full-20261124020045", "Failed", "2026-11-25T02:39:19Z"),
        "/status/failureReason",
        json!("found a restore with status \"InProgress\" during the server starting, mark it as \"Failed\""),
    ));
    set(
        objects.last_mut().unwrap(),
        "/status/completionTimestamp",
        json!("2026-11-25T02:39:19Z"),
    );
    objects.push(mk_event(
        "velero",
        "Pod",
        "velero-68b9c7d5f4-tx4kz",
        "Unhealthy",
        "Liveness probe failed: context deadline exceeded",
        "2026-11-25T02:38:47Z",
    ));
    let findings = diagnose(&objects);
    // No separate component-restarting finding: the restart is this finding's cause.
    assert_eq!(
        summary(&findings),
        vec![(
            "server-restarted",
            Severity::Critical,
            "velero/Backup/daily-full-20261125023919".to_string()
        )]
    );
    let f = &findings[0];
    assert_eq!(
        f.affected.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        vec!["velero/Restore/drill-keycloak-20261125"]
    );
    let ev = facts(f);
    assert!(ev.contains("container velero restarted 1 time(s); last terminated OOMKilled (exit code 137) at 2026-11-25T02:38:52Z; memory limit 512Mi"), "{ev}");
    assert!(
        ev.contains("Warning event Unhealthy: Liveness probe failed"),
        "{ev}"
    );
    assert!(
        f.fix[0].text.contains("from 512Mi to 1Gi"),
        "{}",
        f.fix[0].text
    );
    let cmds = commands(f);
    assert_eq!(
        cmds[0],
        r#"kubectl -n velero patch deployment velero --patch '{"spec":{"template":{"spec":{"containers":[{"name":"velero","resources":{"limits":{"memory":"1Gi"}}}]}}}}'"#
    );
    assert!(cmds.contains(&"velero backup create --from-schedule daily-full"));
    assert!(cmds.contains(&"velero restore create --from-backup daily-full-20261124020045"));

    // Without the pod's record (it was replaced) the finding still stands, cause unknown.
    let mut replaced = velero_healthy();
    replaced.push(with(
        mk_backup(
            "velero",
            "nightly-1",
            "default",
            "Failed",
            "2026-11-25T02:39:19Z",
        ),
        "/status/failureReason",
        json!(RESTARTED),
    ));
    let findings = diagnose(&replaced);
    let f = only(&findings, "server-restarted");
    assert!(f.cause.contains("no longer shows why"), "{}", f.cause);
}

#[test]
fn a_task_stuck_while_csdr_velero_was_oomkilled_is_one_finding() {
    let mut objects = mk_ack_components(mk_csdr_velero_pod(
        2,
        Some(("OOMKilled", 137, "2026-11-24T23:09:47Z")),
    ));
    objects.extend(ack_healthy().into_iter().skip(6));
    objects.push(mk_ack_backup(
        "before-k8s-upgrade-1124",
        "prod-hz-vault",
        "InProgress",
        "2026-11-24T23:02:11Z",
        "",
    ));
    objects.push(with(
        mk_backup(
            "csdr",
            "before-k8s-upgrade-1124",
            "prod-hz-vault",
            "Failed",
            "2026-11-24T23:06:27Z",
        ),
        "/status/failureReason",
        json!(RESTARTED),
    ));
    let findings = diagnose(&objects);
    assert_eq!(
        summary(&findings),
        vec![(
            "task-stuck",
            Severity::Critical,
            "csdr/ApplicationBackup/before-k8s-upgrade-1124".to_string()
        )]
    );
    let f = &findings[0];
    assert!(f.summary.contains("InProgress for 9h57m49s (bound 2h) after csdr-velero was OOMKilled at 2026-11-24T23:09:47Z"), "{}", f.summary);
    let ev = facts(f);
    assert!(
        ev.contains("csdr/ApplicationBackup/before-k8s-upgrade-1124 phase InProgress"),
        "{ev}"
    );
    assert!(
        ev.contains("csdr/Backup/before-k8s-upgrade-1124 velero twin phase Failed: found a backup"),
        "{ev}"
    );
    assert!(ev.contains("csdr/Pod/csdr-velero-7f9c5d8b6d-8kx2p container velero restarted 2 time(s); last terminated OOMKilled (exit code 137)"), "{ev}");
    assert!(
        f.fix[0].text.contains("from 2Gi to 4Gi"),
        "{}",
        f.fix[0].text
    );
    assert!(commands(f).contains(&"kubectl -n kube-system edit deployment migrate-controller"));
}

#[test]
fn stuck_bounds_fit_the_engine_and_phase() {
    // Velero: 2h35m InProgress and 3h WaitingForPluginOperations are within the 4h bound.
    let mut objects = velero_healthy();
    objects.push(mk_backup(
        "velero",
        "every-6h-apps-20261125062431",
        "default",
        "InProgress",
        "2026-11-25T06:24:32Z",
    ));
    objects.push(mk_backup(
        "velero",
        "postgres-datamover-1125",
        "default",
        "WaitingForPluginOperations",
        "2026-11-25T05:58:03Z",
    ));
    assert_eq!(summary(&diagnose(&objects)), vec![]);
    // 5h in InProgress with no restart to blame: a warning.
    objects.push(mk_backup(
        "velero",
        "huge-1125",
        "default",
        "InProgress",
        "2026-11-25T04:00:00Z",
    ));
    let findings = diagnose(&objects);
    assert_eq!(
        summary(&findings),
        vec![(
            "task-stuck",
            Severity::Warning,
            "velero/Backup/huge-1125".to_string()
        )]
    );
    assert!(
        findings[0].summary.contains("InProgress for 5h (bound 4h)"),
        "{}",
        findings[0].summary
    );
    // A restore stuck on ACK (bound 2h).
    let mut ack = ack_healthy();
    ack.push(mk_ack_restore(
        "restore-payment-verify",
        "prod-daily-20261125040100",
        "InProgress",
        "2026-11-25T05:00:00Z",
        "",
    ));
    let findings = diagnose(&ack);
    assert_eq!(
        summary(&findings),
        vec![(
            "task-stuck",
            Severity::Warning,
            "csdr/ApplicationRestore/restore-payment-verify".to_string()
        )]
    );
}

#[test]
fn schedule_rules() {
    // Missed RPO: daily, last success 3 days ago, newer runs failed.
    let mut objects = velero_healthy();
    objects.push(mk_schedule(
        "velero",
        "every-6h-apps",
        "@every 6h",
        "default",
        Some("Enabled"),
    ));
    objects.push(mk_scheduled_backup(
        "velero",
        "every-6h-apps",
        "default",
        "Completed",
        "2026-11-24T06:00:00Z",
    ));
    objects.push(with(
        mk_scheduled_backup(
            "velero",
            "every-6h-apps",
            "default",
            "Failed",
            "2026-11-24T12:00:00Z",
        ),
        "/status/failureReason",
        json!("some item timed out"),
    ));
    let findings = diagnose(&objects);
    let f = only(&findings, "schedule-missed-rpo");
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.summary.contains("no good backup for 1d3h (RPO 12h)"),
        "{}",
        f.summary
    );
    assert!(
        facts(f).contains("velero/Backup/every-6h-apps-20261124120000 Failed: some item timed out"),
        "{}",
        facts(f)
    );
    assert!(commands(f).contains(&"velero schedule describe every-6h-apps"));

    // Failed validation: a cron Velero rejects.
    let mut objects = velero_healthy();
    objects.push(mk_schedule(
        "velero",
        "typo",
        "0 2 * *",
        "default",
        Some("FailedValidation"),
    ));
    let findings = diagnose(&objects);
    let f = only(&findings, "schedule-failed-validation");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(findings.len(), 1, "{:#?}", summary(&findings));

    // Paused: a note within the RPO, a warning past it.
    let mut objects = ack_healthy();
    objects.push(mk_ack_schedule(
        "weekly-full",
        "0 2 * * 0",
        "prod-hz-vault",
        true,
    ));
    objects.push(mk_ack_scheduled_backup(
        "weekly-full",
        "prod-hz-vault",
        "Completed",
        "2026-11-22T02:00:00Z",
        "",
    ));
    let findings = diagnose(&objects);
    let f = only(&findings, "schedule-paused");
    assert_eq!(f.severity, Severity::Unknown);
    assert_eq!(
        commands(f),
        vec![
            r#"kubectl -n csdr patch backupschedule weekly-full --type merge -p '{"spec":{"paused":false}}'"#
        ]
    );
    let mut objects = velero_healthy();
    objects.push(with(
        mk_schedule(
            "velero",
            "weekly-offsite",
            "0 3 * * 6",
            "default",
            Some("Enabled"),
        ),
        "/spec/paused",
        json!(true),
    ));
    objects.push(mk_scheduled_backup(
        "velero",
        "weekly-offsite",
        "default",
        "Completed",
        "2026-11-07T03:00:00Z",
    ));
    let findings = diagnose(&objects);
    let f = only(&findings, "schedule-paused");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(commands(f), vec!["velero schedule unpause weekly-offsite"]);
}

#[test]
fn component_rules() {
    // NotFound: Velero objects, no velero Deployment or pod.
    let objects: Vec<Value> = velero_healthy().into_iter().skip(2).collect();
    let findings = diagnose(&objects);
    assert_eq!(
        summary(&findings),
        vec![(
            "component-not-found",
            Severity::Critical,
            "velero/Deployment/velero".to_string()
        )]
    );

    // UnHealth: csdr-velero has no ready pod and waits in CrashLoopBackOff.
    let mut objects = ack_healthy();
    break_csdr_velero(&mut objects, 7, Some(("Error", 1, "2026-11-25T08:55:00Z")));
    let findings = diagnose(&objects);
    let f = only(&findings, "component-unhealthy");
    assert_eq!(f.object.to_string(), "csdr/Deployment/csdr-velero");
    assert!(
        facts(f).contains("waiting CrashLoopBackOff"),
        "{}",
        facts(f)
    );
    assert!(commands(f).contains(&"kubectl -n csdr describe pod csdr-velero-x"));
    assert!(commands(f).contains(&"kubectl -n csdr logs csdr-velero-x -c velero --previous"));

    // Health with restarts, OOMKilled: raise the memory.
    let mut objects = mk_ack_components(mk_csdr_velero_pod(
        2,
        Some(("OOMKilled", 137, "2026-11-20T23:09:47Z")),
    ));
    objects.extend(ack_healthy().into_iter().skip(6));
    let findings = diagnose(&objects);
    assert_eq!(
        summary(&findings),
        vec![(
            "component-restarting",
            Severity::Warning,
            "csdr/Deployment/csdr-velero".to_string()
        )]
    );
    assert!(findings[0].fix[0].text.contains("from 2Gi to 4Gi"));

    // A restart that ended Unknown (the node rebooted) is not a problem.
    let mut objects = velero_healthy();
    objects.push(mk_component_pod(
        "velero",
        "node-agent-58jlm",
        json!({"name": "node-agent"}),
        "node-agent",
        1,
        Some(("Unknown", 255, "2026-11-25T06:02:44Z")),
        None,
    ));
    assert_eq!(summary(&diagnose(&objects)), vec![]);
}

#[test]
fn migrate_controller_rules() {
    // CrashLoopBackOff: the precheck failed.
    let mut objects = ack_healthy();
    objects.retain(|o| o["metadata"]["name"] != "migrate-controller-86d5fb4c97-rcjxf");
    objects.push(mk_component_pod(
        "kube-system",
        "migrate-controller-86d5fb4c97-zzzzz",
        mc_labels(),
        "migrate-controller",
        5,
        Some(("Error", 1, "2026-11-25T08:58:00Z")),
        Some("CrashLoopBackOff"),
    ));
    let findings = diagnose(&objects);
    let f = only(&findings, "ack-migrate-controller-crashloop");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.cause.contains("FlexVolume"), "{}", f.cause);
    assert!(
        commands(f).contains(&"kubectl -n kube-system logs deploy/migrate-controller --previous")
    );
    // Not also reported as a plain unhealthy component.
    assert!(
        findings.iter().all(|f| f.rule != "component-unhealthy"),
        "{:#?}",
        summary(&findings)
    );

    // Too old for the monitoring.
    let mut objects = ack_healthy();
    objects[0] = mk_component_deployment(
        "kube-system",
        "migrate-controller",
        mc_labels(),
        "migrate-controller",
        "registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/migrate-controller:v1.7.9-0a1b2c3-aliyun",
        "512Mi",
        1,
    );
    let findings = diagnose(&objects);
    let f = only(&findings, "ack-migrate-controller-too-old");
    assert!(f.summary.contains("v1.7.9"), "{}", f.summary);
    assert_eq!(findings.len(), 1);
}

#[test]
fn kubernetes_version_check_needs_the_version() {
    let old = ClusterFacts {
        kubernetes_version: Some("v1.19.3-aliyun.1".into()),
        ..ClusterFacts::default()
    };
    let findings = diagnose_with(&ack_healthy(), &old);
    assert_eq!(
        summary(&findings),
        vec![(
            "ack-kubernetes-too-old",
            Severity::Warning,
            "Cluster/kubernetes".to_string()
        )]
    );
    // Only an ACK backup center needs it.
    assert_eq!(summary(&diagnose_with(&velero_healthy(), &old)), vec![]);
}

#[test]
fn every_finding_names_a_documented_rule_and_has_a_fix() {
    let mut objects = velero_healthy();
    objects.push(with(
        mk_bsl("velero", "offsite-s3", "b", Some("Unavailable")),
        "/status/message",
        json!("x"),
    ));
    objects.push(mk_backup(
        "velero",
        "huge-1125",
        "default",
        "InProgress",
        "2026-11-25T01:00:00Z",
    ));
    for f in diagnose(&objects) {
        assert!(backupscope::doctor::rule(f.rule).is_some(), "{}", f.rule);
        assert!(
            !f.fix.is_empty() && !f.evidence.is_empty() && !f.cause.is_empty(),
            "{}",
            f.rule
        );
    }
}

#[test]
fn failed_runs_of_one_schedule_with_one_cause_are_one_finding() {
    let mut objects = ack_healthy();
    for at in [
        "2026-11-20T04:01:00Z",
        "2026-11-21T04:01:00Z",
        "2026-11-22T04:01:00Z",
    ] {
        objects.push(mk_ack_scheduled_backup(
            "prod-daily",
            "prod-hz-vault",
            "Failed",
            at,
            "velero backup process timeout",
        ));
    }
    // A manual task with the same reason stands alone.
    objects.push(mk_ack_backup(
        "shop-release-1119",
        "prod-hz-vault",
        "Failed",
        "2026-11-19T10:31:42Z",
        "velero backup process timeout",
    ));
    let findings = diagnose(&objects);
    assert_eq!(
        summary(&findings),
        vec![
            (
                "backup-failed",
                Severity::Critical,
                "csdr/ApplicationBackup/shop-release-1119".to_string()
            ),
            // prod-daily has succeeded since (11-24, 11-25): history, so a warning.
            (
                "backup-failed",
                Severity::Warning,
                "csdr/ApplicationBackup/prod-daily-20261122040100".to_string()
            ),
        ]
    );
    let f = &findings[1];
    assert!(
        f.summary.starts_with(
            "3 runs of schedule prod-daily Failed, newest prod-daily-20261122040100 (Timeout)"
        ),
        "{}",
        f.summary
    );
    assert!(
        f.summary.ends_with("; the schedule has succeeded since"),
        "{}",
        f.summary
    );
    assert_eq!(f.affected.len(), 2);
    assert!(facts(f).contains("csdr/BackupSchedule/prod-daily schedule has succeeded since: last success 2026-11-25T04:01:00Z"), "{}", facts(f));
}

#[test]
fn a_component_down_now_is_reported_even_when_a_task_finding_blames_its_restart() {
    // csdr-velero OOMKilled during a stuck task, and crash-looping right now.
    let mut objects = mk_ack_components(mk_csdr_velero_pod(0, None));
    break_csdr_velero(
        &mut objects,
        9,
        Some(("OOMKilled", 137, "2026-11-25T08:50:00Z")),
    );
    objects.push(mk_ack_vault(
        "prod-hz-vault",
        "cnfs-oss-prod",
        "cn-hangzhou",
        "internal",
        Some("Available"),
        "",
    ));
    objects.push(mk_ack_backup(
        "big-1125",
        "prod-hz-vault",
        "InProgress",
        "2026-11-25T05:00:00Z",
        "",
    ));
    let findings = diagnose(&objects);
    assert_eq!(
        summary(&findings),
        vec![
            (
                "task-stuck",
                Severity::Critical,
                "csdr/ApplicationBackup/big-1125".to_string()
            ),
            (
                "component-unhealthy",
                Severity::Critical,
                "csdr/Deployment/csdr-velero".to_string()
            ),
        ]
    );
}

#[test]
fn backups_stuck_new_behind_a_stuck_running_backup_are_its_finding() {
    let mut objects = velero_healthy();
    objects.push(mk_backup(
        "velero",
        "huge-1125",
        "default",
        "InProgress",
        "2026-11-25T03:00:00Z",
    ));
    let mut waiting = mk_backup(
        "velero",
        "adhoc-1125",
        "default",
        "New",
        "2026-11-25T04:00:00Z",
    );
    set(&mut waiting, "/status", json!({}));
    objects.push(waiting);
    let findings = diagnose(&objects);
    assert_eq!(
        summary(&findings),
        vec![(
            "task-stuck",
            Severity::Warning,
            "velero/Backup/huge-1125".to_string()
        )]
    );
    let f = &findings[0];
    assert_eq!(
        f.affected.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        vec!["velero/Backup/adhoc-1125"]
    );
    assert!(
        f.cause
            .ends_with("Backup(s) adhoc-1125 wait behind it: Velero runs one backup at a time."),
        "{}",
        f.cause
    );
}

#[test]
fn a_stuck_backup_names_each_task_with_its_phase_and_fixes_with_diagnostics_only() {
    let mut objects = velero_healthy();
    objects.push(mk_schedule(
        "velero",
        "hourly",
        "0 * * * *",
        "default",
        Some("Enabled"),
    ));
    objects.push(mk_scheduled_backup(
        "velero",
        "hourly",
        "default",
        "Completed",
        "2026-11-25T01:00:00Z",
    ));
    objects.push(mk_scheduled_backup(
        "velero",
        "hourly",
        "default",
        "InProgress",
        "2026-11-25T03:00:00Z",
    ));
    objects.push(mk_scheduled_backup(
        "velero",
        "hourly",
        "default",
        "New",
        "2026-11-25T04:00:00Z",
    ));
    // Created 3h ago, within its own bound, and never looked at: Velero prints it New.
    let mut untouched =
        mk_scheduled_backup("velero", "hourly", "default", "New", "2026-11-25T06:00:00Z");
    set(&mut untouched, "/status", json!({}));
    objects.push(untouched);
    let findings = diagnose(&objects);
    let stuck = only(&findings, "task-stuck");
    assert_eq!(
        stuck.object.to_string(),
        "velero/Backup/hourly-20261125030000"
    );
    assert_eq!(
        stuck.summary,
        "backup hourly-20261125030000 InProgress for 6h (bound 4h); backup \
         hourly-20261125040000 New, backup hourly-20261125060000 New wait behind it"
    );
    assert_eq!(
        stuck
            .affected
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>(),
        [
            "velero/Backup/hourly-20261125040000",
            "velero/Backup/hourly-20261125060000"
        ]
    );
    assert!(
        stuck.cause.ends_with(
            "Backup(s) hourly-20261125040000, hourly-20261125060000 wait behind it: Velero \
             runs one backup at a time."
        ),
        "{}",
        stuck.cause
    );
    // Another backup would only queue behind the stuck one; each diagnostic once.
    assert_eq!(
        commands(stuck),
        [
            "velero backup describe hourly-20261125030000 --details",
            "kubectl -n velero logs deploy/velero | grep hourly-20261125030000",
        ]
    );
    // The schedule's evidence names the untouched backup New, not an empty phase.
    let missed = only(&findings, "schedule-missed-rpo");
    let evidence = facts(missed);
    assert!(
        evidence.contains("velero/Backup/hourly-20261125060000 New"),
        "{evidence}"
    );
    assert!(
        !commands(missed)
            .iter()
            .any(|c| c.contains("backup logs hourly-20261125060000")),
        "an unfinished backup has no log yet: {:?}",
        commands(missed)
    );
}

#[test]
fn a_task_in_an_undocumented_phase_is_named_by_its_own_phase_string() {
    let mut objects = velero_healthy();
    objects.push(mk_backup(
        "velero",
        "odd-1124",
        "default",
        "Exploding",
        "2026-11-24T08:00:00Z",
    ));
    let findings = diagnose(&objects);
    let stuck = only(&findings, "task-stuck");
    assert_eq!(
        stuck.summary,
        r#"backup odd-1124 Unknown ("Exploding") for 1d1h (bound 4h)"#
    );
    assert!(
        facts(stuck).contains(r#"velero/Backup/odd-1124 phase Unknown ("Exploding")"#),
        "{}",
        facts(stuck)
    );
    assert!(
        stuck
            .cause
            .contains(r#"has been Unknown ("Exploding") for"#)
    );
}

#[test]
fn a_backup_refused_by_a_read_only_vault_says_so() {
    let mut objects = velero_healthy();
    let mut vault = mk_bsl("velero", "dr-readonly", "velero-dr", Some("Available"));
    set(&mut vault, "/spec/accessMode", json!("ReadOnly"));
    objects.push(vault);
    let mut refused = mk_backup(
        "velero",
        "to-dr-1125",
        "dr-readonly",
        "FailedValidation",
        "2026-11-25T07:00:00Z",
    );
    set(
        &mut refused,
        "/status/validationErrors",
        json!([
            "backup can't be created because BackupStorageLocation dr-readonly is in read-only mode"
        ]),
    );
    objects.push(refused);
    let findings = diagnose(&objects);
    let f = only(&findings, "backup-failed");
    assert!(
        facts(f).contains(
            "velero/BackupStorageLocation/dr-readonly accessMode ReadOnly: vault dr-readonly \
             takes no backups"
        ),
        "{}",
        facts(f)
    );
    assert!(commands(f).contains(&"velero backup-location get dr-readonly -o yaml"));
    // A ReadWrite vault adds nothing.
    let plain = diagnose(&velero_healthy());
    assert!(plain.iter().all(|f| !facts(f).contains("accessMode")));
}

/// `backupcenter_doctor_findings` lines of one scrape by `collector` at `now`.
fn doctor_series(
    collector: &backupscope::metrics::collector::Collector,
    inv: &backupscope::inventory::Inventory,
    now: &str,
) -> Vec<String> {
    use backupscope::metrics::exposition::{Format, TextEncoder};
    let center = BackupCenter::new(inv, now.parse().unwrap());
    let mut buf = Vec::new();
    let mut encoder = TextEncoder::new(&mut buf, Format::Prometheus004);
    collector.collect(&center, None, &mut encoder);
    encoder.finish();
    String::from_utf8(buf)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("backupcenter_doctor_findings{"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_findings_metric_counts_per_rule_and_is_reused_for_a_minute() {
    use backupscope::metrics::collector::{CollectOptions, Collector};
    // Started 1h59m30s before NOW: stuck (past 2h) from 09:00:30 on.
    let mut objects = ack_healthy();
    objects.push(mk_ack_backup(
        "slow-1125",
        "prod-hz-vault",
        "InProgress",
        "2026-11-25T07:00:30Z",
        "",
    ));
    let inv = inventory(&objects);
    let collector = Collector::new(CollectOptions::default());
    assert_eq!(doctor_series(&collector, &inv, NOW), Vec::<String>::new());
    // 40 s later the task is stuck, but the counts are reused...
    assert_eq!(
        doctor_series(&collector, &inv, "2026-11-25T09:00:40Z"),
        Vec::<String>::new()
    );
    // ...for a minute only.
    assert_eq!(
        doctor_series(&collector, &inv, "2026-11-25T09:01:10Z"),
        vec![
            r#"backupcenter_doctor_findings{namespace="csdr",rule="task-stuck",severity="warning"} 1"#
        ]
    );
    // A fresh collector diagnoses at once.
    let fresh = Collector::new(CollectOptions::default());
    assert_eq!(doctor_series(&fresh, &inv, "2026-11-25T09:00:40Z").len(), 1);
}

#[test]
fn a_task_stuck_because_hbr_client_has_no_token() {
    let mut objects = ack_healthy();
    objects.push(mk_ack_backup(
        "media-1125",
        "prod-hz-vault",
        "InProgress",
        "2026-11-25T05:00:00Z",
        "",
    ));
    // The hbr-client pod cannot start (it was created a minute ago: not yet UnHealth).
    let mut hbr = mk_component_pod(
        "csdr",
        "hbr-client-7xk2p",
        json!({"app": "hbr-client"}),
        "hbr-client",
        0,
        None,
        Some("CreateContainerConfigError"),
    );
    set(
        &mut hbr,
        "/metadata/creationTimestamp",
        json!("2026-11-25T08:58:00Z"),
    );
    objects.push(hbr);
    objects.push(mk_event(
        "csdr",
        "Pod",
        "hbr-client-7xk2p",
        "Failed",
        "Error: couldn't find key HBR_TOKEN in Secret csdr/hbr-client-token",
        "2026-11-25T08:59:00Z",
    ));
    let findings = diagnose(&objects);
    let f = only(&findings, "task-stuck");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.cause.contains("ACK FAQ #15"), "{}", f.cause);
    assert!(
        facts(f).contains(
            "csdr/Pod/hbr-client-7xk2p Warning event Failed: Error: couldn't find key HBR_TOKEN"
        ),
        "{}",
        facts(f)
    );
    assert!(
        commands(f).contains(
            &"kubectl label node k8s-worker-01 csdr.alibabacloud.com/agent-enable=false --overwrite"
        ),
        "{:?}",
        commands(f)
    );
}

#[test]
fn a_workload_left_beside_the_component_is_a_finding_and_companions_are_not() {
    let agent = |name: &str, ready: u64| {
        let labels = json!({"name": name, "role": "node-agent"});
        let mut ds = mk_daemonset(
            "velero",
            name,
            json!({"component": "velero"}),
            labels.clone(),
            labels,
            vec![mk_container(name, "velero/velero:v1.17.1")],
            2,
        );
        ds["status"]["numberReady"] = json!(ready);
        ds
    };
    // Velero 1.16+: the Linux and the Windows node agent belong together.
    let mut objects = velero_healthy();
    objects.extend([agent("node-agent", 2), agent("node-agent-windows", 2)]);
    assert!(
        diagnose(&objects).is_empty(),
        "{:#?}",
        summary(&diagnose(&objects))
    );
    // A restic DaemonSet the upgrade to 1.10 left behind (its pods crash on the new image).
    let mut objects = velero_healthy();
    objects.extend([agent("node-agent", 2), agent("restic", 0)]);
    let findings = diagnose(&objects);
    let f = only(&findings, "component-leftover-workload");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.object.to_string(), "velero/DaemonSet/node-agent");
    assert!(
        f.summary.contains("restic is left beside node-agent"),
        "{}",
        f.summary
    );
    assert!(f.cause.contains("Velero 1.10"), "{}", f.cause);
    assert_eq!(
        commands(f),
        [
            "kubectl -n velero get daemonset --show-labels",
            "kubectl -n velero delete daemonset restic"
        ]
    );
    let facts = facts(f);
    assert!(
        facts.contains("restic 0/2 ready") && facts.contains("node-agent 2/2 ready"),
        "{facts}"
    );
    // The leftover's pods count: the node agent is 2/4 ready.
    let unhealthy = only(&findings, "component-unhealthy");
    assert!(
        unhealthy.summary.contains("2/4 pods ready"),
        "{}",
        unhealthy.summary
    );
}
