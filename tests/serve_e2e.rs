//! End to end: a real Prometheus scrapes (or receives remote write from) the real
//! `backupscope serve --snapshot examples/...`, and the numbers a user reads on the three
//! dashboards come back through Prometheus's query API.
//!
//! Every expected value is written out here from examples/README.md and the example files, an
//! oracle independent of backupscope's code.

mod support;

use std::{collections::BTreeMap, ffi::OsStr, time::Duration};

use support::{
    http,
    prometheus::{Prometheus, PrometheusOptions, Sample, ScrapeTarget},
    promtool,
    serve::{Serve, example},
};

/// The instant both snapshots were taken (README: 2026-11-25T09:00:00Z).
const SNAPSHOT_UNIX: &str = "1795597200";
const WAIT: Duration = Duration::from_secs(30);

/// Starts `serve` on an example, checks its 0.0.4 output with promtool, and starts a Prometheus
/// scraping it every second; returns once the first scrape succeeded.
async fn scraped(name: &str) -> (Serve, Prometheus) {
    let serve = Serve::start(&[OsStr::new("--snapshot"), example(name).as_os_str()]);
    let text = http::get(&serve.url("/metrics"), &[]).await;
    assert_eq!(text.status, 200, "{}", serve.stderr());
    if let Err(complaint) = promtool::check_metrics(&text.body) {
        panic!("{name}: {complaint}");
    }
    let prometheus = Prometheus::start(PrometheusOptions {
        targets: vec![ScrapeTarget {
            job: "backupscope".to_owned(),
            address: serve.address().to_owned(),
            metrics_path: "/metrics".to_owned(),
            settings: String::new(),
        }],
        scrape_interval: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    let context = format!("{name}; serve stderr:\n{}", serve.stderr());
    prometheus.wait_up("backupscope", WAIT, &context).await;
    (serve, prometheus)
}

/// The result of `promql` keyed by the values of `keys` (an absent label reads as "", the way
/// PromQL treats it).
fn keyed<const N: usize>(
    promql: &str,
    result: &[Sample],
    keys: [&str; N],
) -> BTreeMap<[String; N], f64> {
    let mut out = BTreeMap::new();
    for (labels, value) in result {
        let key = keys.map(|k| labels.get(k).cloned().unwrap_or_default());
        if let Some(earlier) = out.insert(key.clone(), *value) {
            panic!("{promql}: two series for {key:?} ({earlier} and {value}): {result:?}");
        }
    }
    out
}

/// Asserts that `promql` returns exactly `rows`, each given as its `keys` label values and value.
async fn expect<const N: usize>(
    prometheus: &Prometheus,
    promql: &str,
    keys: [&str; N],
    rows: &[([&str; N], f64)],
) {
    let got = keyed(promql, &prometheus.query(promql).await, keys);
    let want: BTreeMap<[String; N], f64> = rows
        .iter()
        .map(|(key, value)| (key.map(str::to_owned), *value))
        .collect();
    assert_eq!(got, want, "{promql} by {keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_reads_the_ack_dashboards() {
    let (_serve, p) = scraped("ack-cluster").await;

    // Backup Locations: Backuplocation Detail.
    expect(
        &p,
        "backupcenter_backuplocation_info",
        [
            "namespace",
            "backuplocation",
            "provider",
            "bucket",
            "prefix",
            "region",
            "network_policy",
            "engine",
        ],
        &[
            (
                [
                    "csdr",
                    "audit-hz-vault",
                    "alibabacloud",
                    "cnfs-oss-audit-archive-hz",
                    "audit",
                    "cn-hangzhou",
                    "internal",
                    "ack",
                ],
                1.0,
            ),
            (
                [
                    "csdr",
                    "dr-bj-vault",
                    "alibabacloud",
                    "cnfs-oss-dr-backup-bj",
                    "ack-prod",
                    "cn-beijing",
                    "public",
                    "ack",
                ],
                1.0,
            ),
            (
                [
                    "csdr",
                    "prod-hz-vault",
                    "alibabacloud",
                    "cnfs-oss-prod-backup-hz",
                    "ack-prod",
                    "cn-hangzhou",
                    "internal",
                    "ack",
                ],
                1.0,
            ),
            (
                [
                    "csdr",
                    "shared-oss-vault",
                    "alibabacloud",
                    "cnfs-oss-shared-backup",
                    "orders",
                    "cn-hangzhou",
                    "internal",
                    "ack",
                ],
                1.0,
            ),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_backuplocation_phase == 1",
        ["backuplocation", "phase"],
        &[
            (["audit-hz-vault", "InProgress"], 1.0),
            (["dr-bj-vault", "Available"], 1.0),
            (["prod-hz-vault", "Available"], 1.0),
            (["shared-oss-vault", "Unavailable"], 1.0),
        ],
    )
    .await;
    expect(
        &p,
        r#"backupcenter_backuplocation_phase{phase="Unavailable"} == 1"#,
        ["backuplocation"],
        &[(["shared-oss-vault"], 1.0)],
    )
    .await;
    expect(
        &p,
        "sum by (phase) (backupcenter_backuplocation_phase)",
        ["phase"],
        &[
            (["Available"], 2.0),
            (["Unavailable"], 1.0),
            (["InProgress"], 1.0),
            (["Unknown"], 0.0),
        ],
    )
    .await;
    // audit-hz-vault was never validated: no series rather than a zero timestamp.
    expect(
        &p,
        "backupcenter_backuplocation_last_validation_timestamp_seconds",
        ["backuplocation"],
        &[
            (["dr-bj-vault"], 1_795_596_991.0),      // 2026-11-25T08:56:31Z
            (["prod-hz-vault"], 1_795_597_120.0),    // 2026-11-25T08:58:40Z
            (["shared-oss-vault"], 1_795_597_032.0), // 2026-11-25T08:57:12Z
        ],
    )
    .await;

    // Backup Operation Status: Backup Overview (40 ApplicationBackups; velero twins not counted).
    expect(
        &p,
        "backupcenter_backups > 0",
        ["backuplocation", "phase"],
        &[
            (["prod-hz-vault", "Completed"], 17.0),
            (["prod-hz-vault", "Failed"], 1.0),
            (["prod-hz-vault", "PartiallyFailed"], 2.0),
            (["prod-hz-vault", "InProgress"], 1.0),
            (["dr-bj-vault", "Completed"], 6.0),
            (["dr-bj-vault", "Failed"], 1.0),
            (["dr-bj-vault", "InProgress"], 1.0),
            (["shared-oss-vault", "Completed"], 7.0),
            (["shared-oss-vault", "Failed"], 4.0),
        ],
    )
    .await;
    expect(
        &p,
        "sum by (backuplocation) (backupcenter_backups)",
        ["backuplocation"],
        &[
            (["prod-hz-vault"], 21.0),
            (["dr-bj-vault"], 8.0),
            (["shared-oss-vault"], 11.0),
            (["audit-hz-vault"], 0.0),
        ],
    )
    .await;
    expect(
        &p,
        "sum by (phase) (backupcenter_backups)",
        ["phase"],
        &[
            (["Completed"], 30.0),
            (["Failed"], 6.0),
            (["PartiallyFailed"], 2.0),
            (["InProgress"], 2.0),
            (["Unknown"], 0.0),
        ],
    )
    .await;
    expect(&p, "sum(backupcenter_backups)", [], &[([], 40.0)]).await;

    // Failed Backup Detail: 8 rows.
    expect(
        &p,
        "backupcenter_backup_failed_info",
        [
            "backup",
            "backuplocation",
            "backup_type",
            "data_type",
            "from_schedule",
            "phase",
            "reason",
        ],
        &[
            (
                [
                    "orders-frequent-20261124173000",
                    "shared-oss-vault",
                    "AppBackup",
                    "",
                    "orders-frequent",
                    "Failed",
                    "VaultError",
                ],
                1.0,
            ),
            (
                [
                    "orders-frequent-20261125000000",
                    "shared-oss-vault",
                    "AppBackup",
                    "",
                    "orders-frequent",
                    "Failed",
                    "VaultError",
                ],
                1.0,
            ),
            (
                [
                    "orders-frequent-20261125063000",
                    "shared-oss-vault",
                    "AppBackup",
                    "",
                    "orders-frequent",
                    "Failed",
                    "VaultError",
                ],
                1.0,
            ),
            (
                [
                    "orders-hotfix-1124",
                    "shared-oss-vault",
                    "AppBackup",
                    "",
                    "",
                    "Failed",
                    "VaultError",
                ],
                1.0,
            ),
            (
                [
                    "prod-daily-20261117040100",
                    "prod-hz-vault",
                    "AppAndPvBackup",
                    "snapshot",
                    "prod-daily",
                    "Failed",
                    "Timeout",
                ],
                1.0,
            ),
            (
                [
                    "prod-daily-20261121040100",
                    "prod-hz-vault",
                    "AppAndPvBackup",
                    "snapshot",
                    "prod-daily",
                    "PartiallyFailed",
                    "PartialFailure",
                ],
                1.0,
            ),
            (
                [
                    "shop-release-1119",
                    "prod-hz-vault",
                    "AppAndPvBackup",
                    "snapshot",
                    "",
                    "PartiallyFailed",
                    "PartialFailure",
                ],
                1.0,
            ),
            (
                [
                    "weekly-full-20261108020000",
                    "dr-bj-vault",
                    "AppAndPvBackup",
                    "all",
                    "weekly-full",
                    "Failed",
                    "HBRError",
                ],
                1.0,
            ),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_backup_completion_timestamp_seconds",
        ["backup", "backuplocation"],
        &[
            (
                ["orders-frequent-20261124173000", "shared-oss-vault"],
                1_795_541_405.0,
            ),
            (
                ["orders-frequent-20261125000000", "shared-oss-vault"],
                1_795_564_805.0,
            ),
            (
                ["orders-frequent-20261125063000", "shared-oss-vault"],
                1_795_588_205.0,
            ),
            (["orders-hotfix-1124", "shared-oss-vault"], 1_795_533_166.0),
            (
                ["prod-daily-20261117040100", "prod-hz-vault"],
                1_794_891_667.0,
            ),
            (
                ["prod-daily-20261121040100", "prod-hz-vault"],
                1_795_235_091.0,
            ),
            (["shop-release-1119", "prod-hz-vault"], 1_795_084_302.0),
            (
                ["weekly-full-20261108020000", "dr-bj-vault"],
                1_794_103_398.0,
            ),
        ],
    )
    .await;

    // Non-terminal tasks, and how long they have run at the snapshot instant.
    expect(
        &p,
        &format!("{SNAPSHOT_UNIX} - backupcenter_backup_start_timestamp_seconds"),
        ["backup", "backuplocation", "phase", "from_schedule"],
        &[
            // 9h57m49s: stuck since csdr-velero was OOMKilled.
            (
                ["before-k8s-upgrade-1124", "prod-hz-vault", "InProgress", ""],
                35_869.0,
            ),
            // 8m51s.
            (
                ["payment-adhoc-1125", "dr-bj-vault", "InProgress", ""],
                531.0,
            ),
        ],
    )
    .await;

    // Schedules (RPO).
    expect(
        &p,
        "backupcenter_schedule_info",
        ["schedule", "backuplocation", "cron", "paused", "engine"],
        &[
            (
                ["prod-daily", "prod-hz-vault", "1 4 * * *", "false", "ack"],
                1.0,
            ),
            (
                [
                    "orders-frequent",
                    "shared-oss-vault",
                    "6h30m",
                    "false",
                    "ack",
                ],
                1.0,
            ),
            (
                ["weekly-full", "dr-bj-vault", "0 2 * * 0", "true", "ack"],
                1.0,
            ),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_schedule_interval_seconds",
        ["schedule"],
        &[
            (["prod-daily"], 86_400.0),
            (["orders-frequent"], 23_400.0),
            (["weekly-full"], 604_800.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_schedule_last_success_timestamp_seconds",
        ["schedule"],
        &[
            (["prod-daily"], 1_795_580_373.0),      // 2026-11-25T04:19:33Z
            (["orders-frequent"], 1_795_518_043.0), // 2026-11-24T11:00:43Z
            (["weekly-full"], 1_795_315_670.0),     // 2026-11-22T02:47:50Z
            ([""], 1_795_429_503.0),                // manual: payment-drcopy-1123
        ],
    )
    .await;
    // The missed-RPO rule (last success older than 2 × interval) at the snapshot instant.
    expect(
        &p,
        &format!(
            "backupcenter_schedule_last_success_timestamp_seconds \
             < {SNAPSHOT_UNIX} - 2 * backupcenter_schedule_interval_seconds"
        ),
        ["schedule"],
        &[(["orders-frequent"], 1_795_518_043.0)],
    )
    .await;
    expect(
        &p,
        "backupcenter_schedule_last_backup_phase == 1",
        ["schedule", "phase"],
        &[
            (["prod-daily", "Completed"], 1.0),
            (["orders-frequent", "Failed"], 1.0),
            (["weekly-full", "Completed"], 1.0),
            (["", "InProgress"], 1.0), // payment-adhoc-1125
        ],
    )
    .await;

    // Restores.
    expect(
        &p,
        "backupcenter_restores",
        ["phase"],
        &[
            (["Completed"], 1.0),
            (["Failed"], 1.0),
            (["InProgress"], 1.0),
            (["PartiallyFailed"], 0.0),
            (["Unknown"], 0.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_restore_failed_info",
        ["restore", "backup", "phase", "reason"],
        &[(
            [
                "restore-orders-drill",
                "weekly-full-20261122020000",
                "Failed",
                "RestoreError",
            ],
            1.0,
        )],
    )
    .await;

    // Addon Status.
    expect(
        &p,
        "backupcenter_component_status == 1",
        ["namespace", "component", "status"],
        &[
            (["kube-system", "migrate-controller", "Health"], 1.0),
            (["csdr", "csdr-controller", "Health"], 1.0),
            (["csdr", "csdr-velero", "Health"], 1.0),
            (["csdr", "hbr-client", "Health"], 1.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_created_timestamp_seconds",
        ["component"],
        &[
            (["migrate-controller"], 1_792_475_856.0), // 2026-10-20T05:57:36Z
            (["csdr-controller"], 1_792_475_894.0),    // 2026-10-20T05:58:14Z
            (["csdr-velero"], 1_792_475_895.0),        // 2026-10-20T05:58:15Z
            (["hbr-client"], 1_792_476_151.0),         // 2026-10-20T06:02:31Z
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_replicas",
        ["component", "state"],
        &[
            (["migrate-controller", "desired"], 1.0),
            (["migrate-controller", "ready"], 1.0),
            (["csdr-controller", "desired"], 1.0),
            (["csdr-controller", "ready"], 1.0),
            (["csdr-velero", "desired"], 1.0),
            (["csdr-velero", "ready"], 1.0),
            (["hbr-client", "desired"], 3.0),
            (["hbr-client", "ready"], 3.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_pod_info",
        ["namespace", "component", "pod", "node", "phase"],
        &[
            (
                [
                    "kube-system",
                    "migrate-controller",
                    "migrate-controller-86d5fb4c97-rcjxf",
                    "cn-hangzhou.10.0.3.8",
                    "Running",
                ],
                1.0,
            ),
            (
                [
                    "csdr",
                    "csdr-controller",
                    "csdr-controller-5c8d7b9f64-9ldxg",
                    "cn-hangzhou.10.0.1.12",
                    "Running",
                ],
                1.0,
            ),
            (
                [
                    "csdr",
                    "csdr-velero",
                    "csdr-velero-7f9c5d8b6d-8kx2p",
                    "cn-hangzhou.10.0.2.37",
                    "Running",
                ],
                1.0,
            ),
            (
                [
                    "csdr",
                    "hbr-client",
                    "hbr-client-cw9vx",
                    "cn-hangzhou.10.0.3.8",
                    "Running",
                ],
                1.0,
            ),
            (
                [
                    "csdr",
                    "hbr-client",
                    "hbr-client-v2qgl",
                    "cn-hangzhou.10.0.2.37",
                    "Running",
                ],
                1.0,
            ),
            (
                [
                    "csdr",
                    "hbr-client",
                    "hbr-client-wjl2j",
                    "cn-hangzhou.10.0.1.12",
                    "Running",
                ],
                1.0,
            ),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_pod_restarts_total",
        ["component", "pod", "container"],
        &[
            (
                [
                    "migrate-controller",
                    "migrate-controller-86d5fb4c97-rcjxf",
                    "migrate-controller",
                ],
                0.0,
            ),
            (
                [
                    "csdr-controller",
                    "csdr-controller-5c8d7b9f64-9ldxg",
                    "csdr-controller",
                ],
                0.0,
            ),
            (
                ["csdr-velero", "csdr-velero-7f9c5d8b6d-8kx2p", "velero"],
                2.0,
            ),
            (["hbr-client", "hbr-client-cw9vx", "hbr-client"], 0.0),
            (["hbr-client", "hbr-client-v2qgl", "hbr-client"], 0.0),
            (["hbr-client", "hbr-client-wjl2j", "hbr-client"], 0.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_pod_last_termination_info",
        ["component", "pod", "container", "reason", "exit_code"],
        &[(
            [
                "csdr-velero",
                "csdr-velero-7f9c5d8b6d-8kx2p",
                "velero",
                "OOMKilled",
                "137",
            ],
            1.0,
        )],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_resource_requests",
        ["component", "container", "resource", "unit"],
        &[
            (
                ["migrate-controller", "migrate-controller", "cpu", "core"],
                0.1,
            ),
            (
                ["migrate-controller", "migrate-controller", "memory", "byte"],
                134_217_728.0, // 128Mi
            ),
            (["csdr-controller", "csdr-controller", "cpu", "core"], 0.2),
            (
                ["csdr-controller", "csdr-controller", "memory", "byte"],
                268_435_456.0, // 256Mi
            ),
            (["csdr-velero", "velero", "cpu", "core"], 0.5),
            (["csdr-velero", "velero", "memory", "byte"], 134_217_728.0), // 128Mi
            (["hbr-client", "hbr-client", "cpu", "core"], 0.1),
            (
                ["hbr-client", "hbr-client", "memory", "byte"],
                209_715_200.0,
            ), // 200Mi
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_resource_limits",
        ["component", "container", "resource", "unit"],
        &[
            (
                ["migrate-controller", "migrate-controller", "cpu", "core"],
                1.0,
            ),
            (
                ["migrate-controller", "migrate-controller", "memory", "byte"],
                536_870_912.0, // 512Mi
            ),
            (["csdr-controller", "csdr-controller", "cpu", "core"], 1.0),
            (
                ["csdr-controller", "csdr-controller", "memory", "byte"],
                1_073_741_824.0, // 1Gi
            ),
            (["csdr-velero", "velero", "cpu", "core"], 1.0),
            (["csdr-velero", "velero", "memory", "byte"], 2_147_483_648.0), // 2Gi
            (["hbr-client", "hbr-client", "cpu", "core"], 1.0),
            (
                ["hbr-client", "hbr-client", "memory", "byte"],
                1_073_741_824.0,
            ), // 1Gi
        ],
    )
    .await;

    // Warning events (the count field summed per involved kind and reason).
    expect(
        &p,
        "backupcenter_warning_events_total",
        ["namespace", "involved_kind", "reason"],
        &[
            (["csdr", "ApplicationBackup", "BackupFailed"], 6.0),
            (["csdr", "ApplicationBackup", "BackupPartiallyFailed"], 2.0),
            (["csdr", "ApplicationRestore", "RestoreFailed"], 1.0),
            (
                ["csdr", "BackupLocation", "BackupLocationUnavailable"],
                232.0,
            ),
            (["csdr", "Pod", "BackOff"], 2.0),
        ],
    )
    .await;

    expect(
        &p,
        "backupscope_source_up",
        ["source"],
        &[(["snapshot"], 1.0)],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_reads_the_velero_dashboards() {
    let (_serve, p) = scraped("velero-cluster").await;

    // Backup locations.
    expect(
        &p,
        "backupcenter_backuplocation_info",
        [
            "namespace",
            "backuplocation",
            "provider",
            "bucket",
            "prefix",
            "region",
            "engine",
        ],
        &[
            (
                [
                    "velero",
                    "default",
                    "aws",
                    "velero-prod",
                    "cluster-a",
                    "us-east-1",
                    "velero",
                ],
                1.0,
            ),
            (
                [
                    "velero",
                    "gcs-archive",
                    "gcp",
                    "acme-velero-archive",
                    "cluster-a",
                    "",
                    "velero",
                ],
                1.0,
            ),
            (
                [
                    "velero",
                    "offsite-s3",
                    "aws",
                    "acme-velero-offsite-eu",
                    "cluster-a",
                    "eu-central-1",
                    "velero",
                ],
                1.0,
            ),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_backuplocation_phase == 1",
        ["backuplocation", "phase"],
        &[
            (["default", "Available"], 1.0),
            (["gcs-archive", "Available"], 1.0),
            (["offsite-s3", "Unavailable"], 1.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_backuplocation_last_validation_timestamp_seconds",
        ["backuplocation"],
        &[
            (["default"], 1_795_597_181.0), // 2026-11-25T08:59:41Z
            (["gcs-archive"], 1_795_597_181.0),
            (["offsite-s3"], 1_795_597_181.0),
        ],
    )
    .await;

    // Backups per location, 31 Backups. The metric's phase is the outcome: FailedValidation
    // counts as Failed; WaitingForPluginOperations and New (empty phase) as InProgress.
    expect(
        &p,
        "backupcenter_backups > 0",
        ["backuplocation", "phase"],
        &[
            (["default", "Completed"], 17.0),
            (["default", "PartiallyFailed"], 2.0),
            (["default", "Failed"], 1.0),
            (["default", "InProgress"], 3.0),
            (["offsite-s3", "Completed"], 3.0),
            (["offsite-s3", "Failed"], 2.0),
            (["gcs-archive", "Completed"], 2.0),
            // keycloak-offsite-1122 names a location without a BSL object.
            (["offsite", "Failed"], 1.0),
        ],
    )
    .await;
    expect(
        &p,
        "sum by (backuplocation) (backupcenter_backups)",
        ["backuplocation"],
        &[
            (["default"], 23.0),
            (["offsite-s3"], 5.0),
            (["gcs-archive"], 2.0),
            (["offsite"], 1.0),
        ],
    )
    .await;
    expect(&p, "sum(backupcenter_backups)", [], &[([], 31.0)]).await;

    // Failed backups: 6 rows.
    expect(
        &p,
        "backupcenter_backup_failed_info",
        [
            "backup",
            "backuplocation",
            "backup_type",
            "data_type",
            "from_schedule",
            "phase",
            "reason",
        ],
        &[
            (
                [
                    "daily-full-20261121020023",
                    "default",
                    "AppAndPvBackup",
                    "snapshot", // 6 CSI snapshots attempted
                    "daily-full",
                    "PartiallyFailed",
                    "PartialFailure",
                ],
                1.0,
            ),
            (
                [
                    "daily-full-20261125020045",
                    "default",
                    "AppAndPvBackup",
                    "Unknown", // killed before it recorded any volume counter
                    "daily-full",
                    "Failed",
                    "ServerRestarted",
                ],
                1.0,
            ),
            (
                [
                    "every-6h-apps-20261123122102",
                    "default",
                    "AppAndPvBackup",
                    "fs", // kopia PodVolumeBackups
                    "every-6h-apps",
                    "PartiallyFailed",
                    "PartialFailure",
                ],
                1.0,
            ),
            (
                [
                    "keycloak-offsite-1122",
                    "offsite",
                    "AppAndPvBackup",
                    "Unknown", // never ran
                    "",
                    "FailedValidation",
                    "VaultError",
                ],
                1.0,
            ),
            (
                [
                    "weekly-offsite-20261114030021",
                    "offsite-s3",
                    "AppBackup", // snapshotVolumes: false, no file-system backup
                    "",
                    "weekly-offsite",
                    "Failed",
                    "StorageError",
                ],
                1.0,
            ),
            (
                [
                    "weekly-offsite-20261121030014",
                    "offsite-s3",
                    "AppBackup",
                    "",
                    "weekly-offsite",
                    "FailedValidation",
                    "VaultError",
                ],
                1.0,
            ),
        ],
    )
    .await;
    // FailedValidation backups never ran, so they have no completion time.
    expect(
        &p,
        "backupcenter_backup_completion_timestamp_seconds",
        ["backup"],
        &[
            (["daily-full-20261121020023"], 1_795_227_815.0), // 2026-11-21T02:23:35Z
            (["daily-full-20261125020045"], 1_795_574_359.0), // 2026-11-25T02:39:19Z
            (["every-6h-apps-20261123122102"], 1_795_437_074.0), // 2026-11-23T12:31:14Z
            (["weekly-offsite-20261114030021"], 1_794_625_223.0), // 2026-11-14T03:00:23Z
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_backup_start_timestamp_seconds",
        ["backup", "backuplocation", "phase", "from_schedule"],
        &[
            (
                [
                    "every-6h-apps-20261125062431",
                    "default",
                    "InProgress",
                    "every-6h-apps",
                ],
                1_795_587_872.0,
            ),
            (
                [
                    "postgres-datamover-1125",
                    "default",
                    "WaitingForPluginOperations",
                    "",
                ],
                1_795_586_283.0,
            ),
            // New: no start yet, so its creation time.
            (["gitea-adhoc-1125", "default", "New", ""], 1_795_596_430.0),
        ],
    )
    .await;

    // Schedules (RPO).
    expect(
        &p,
        "backupcenter_schedule_info",
        ["schedule", "backuplocation", "cron", "paused", "engine"],
        &[
            (
                ["daily-full", "default", "0 2 * * *", "false", "velero"],
                1.0,
            ),
            (
                ["every-6h-apps", "default", "@every 6h", "false", "velero"],
                1.0,
            ),
            (
                [
                    "weekly-offsite",
                    "offsite-s3",
                    "0 3 * * 6",
                    "true",
                    "velero",
                ],
                1.0,
            ),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_schedule_interval_seconds",
        ["schedule"],
        &[
            (["daily-full"], 86_400.0),
            (["every-6h-apps"], 21_600.0),
            (["weekly-offsite"], 604_800.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_schedule_last_success_timestamp_seconds",
        ["schedule"],
        &[
            (["daily-full"], 1_795_486_804.0),     // 2026-11-24T02:20:04Z
            (["every-6h-apps"], 1_795_566_739.0),  // 2026-11-25T00:32:19Z
            (["weekly-offsite"], 1_794_020_575.0), // 2026-11-07T03:02:55Z
            ([""], 1_795_439_226.0),               // keycloak-before-realm-import-1123
        ],
    )
    .await;
    // Over 2 × interval: only weekly-offsite, which is paused (the alert rule excludes it).
    expect(
        &p,
        &format!(
            "backupcenter_schedule_last_success_timestamp_seconds \
             < {SNAPSHOT_UNIX} - 2 * backupcenter_schedule_interval_seconds"
        ),
        ["schedule"],
        &[(["weekly-offsite"], 1_794_020_575.0)],
    )
    .await;
    expect(
        &p,
        "backupcenter_schedule_last_backup_phase == 1",
        ["schedule", "phase"],
        &[
            (["daily-full", "Failed"], 1.0),
            (["every-6h-apps", "InProgress"], 1.0),
            (["weekly-offsite", "Failed"], 1.0), // FailedValidation
            (["", "InProgress"], 1.0),           // gitea-adhoc-1125, New
        ],
    )
    .await;

    // Restores.
    expect(
        &p,
        "backupcenter_restores > 0",
        ["phase"],
        &[
            (["Completed"], 1.0),
            (["PartiallyFailed"], 1.0),
            (["Failed"], 1.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_restore_failed_info",
        ["restore", "backup", "phase", "reason"],
        &[
            (
                [
                    "drill-keycloak-20261125",
                    "daily-full-20261124020045",
                    "Failed",
                    "ServerRestarted",
                ],
                1.0,
            ),
            (
                [
                    "gitea-rollback-1124",
                    "every-6h-apps-20261124002206",
                    "PartiallyFailed",
                    "PartialFailure",
                ],
                1.0,
            ),
        ],
    )
    .await;

    // Components.
    expect(
        &p,
        "backupcenter_component_status == 1",
        ["namespace", "component", "status"],
        &[
            (["velero", "velero", "Health"], 1.0),
            (["velero", "node-agent", "Health"], 1.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_created_timestamp_seconds",
        ["component"],
        &[
            (["velero"], 1_792_656_190.0), // 2026-10-22T08:03:10Z
            (["node-agent"], 1_792_656_190.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_replicas",
        ["component", "state"],
        &[
            (["velero", "desired"], 1.0),
            (["velero", "ready"], 1.0),
            (["node-agent", "desired"], 2.0),
            (["node-agent", "ready"], 2.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_pod_info",
        ["component", "pod", "node", "phase"],
        &[
            (
                [
                    "velero",
                    "velero-68b9c7d5f4-tx4kz",
                    "k8s-worker-01",
                    "Running",
                ],
                1.0,
            ),
            (
                ["node-agent", "node-agent-82bcf", "k8s-worker-01", "Running"],
                1.0,
            ),
            (
                ["node-agent", "node-agent-58jlm", "k8s-worker-02", "Running"],
                1.0,
            ),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_pod_restarts_total",
        ["component", "pod", "container"],
        &[
            (["velero", "velero-68b9c7d5f4-tx4kz", "velero"], 1.0),
            (["node-agent", "node-agent-82bcf", "node-agent"], 0.0),
            (["node-agent", "node-agent-58jlm", "node-agent"], 1.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_pod_last_termination_info",
        ["component", "pod", "container", "reason", "exit_code"],
        &[
            (
                [
                    "velero",
                    "velero-68b9c7d5f4-tx4kz",
                    "velero",
                    "OOMKilled",
                    "137",
                ],
                1.0,
            ),
            (
                [
                    "node-agent",
                    "node-agent-58jlm",
                    "node-agent",
                    "Unknown",
                    "255",
                ],
                1.0,
            ),
        ],
    )
    .await;
    // node-agent sets no resources, so it has no series.
    expect(
        &p,
        "backupcenter_component_resource_requests",
        ["component", "container", "resource", "unit"],
        &[
            (["velero", "velero", "cpu", "core"], 0.5),
            (["velero", "velero", "memory", "byte"], 134_217_728.0), // 128Mi
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_resource_limits",
        ["component", "container", "resource", "unit"],
        &[
            (["velero", "velero", "cpu", "core"], 1.0),
            (["velero", "velero", "memory", "byte"], 536_870_912.0), // 512Mi
        ],
    )
    .await;

    // Warning events: Unhealthy 4 (liveness) + 1 (readiness), FailedMount 1.
    expect(
        &p,
        "backupcenter_warning_events_total",
        ["namespace", "involved_kind", "reason"],
        &[
            (["velero", "Pod", "Unhealthy"], 5.0),
            (["velero", "Pod", "FailedMount"], 1.0),
        ],
    )
    .await;
}

/// `serve --remote-write-url` pushes the same families into a Prometheus remote-write
/// receiver, and keeps pushing on its interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_from_serve_is_queryable_in_prometheus() {
    let p = Prometheus::start(PrometheusOptions {
        remote_write_receiver: true,
        ..Default::default()
    })
    .await;
    let url = p.remote_write_url();
    let serve = Serve::start(&[
        OsStr::new("--snapshot"),
        example("velero-cluster").as_os_str(),
        OsStr::new("--remote-write-url"),
        OsStr::new(&url),
        OsStr::new("--remote-write-interval"),
        OsStr::new("1s"),
    ]);

    let completed = r#"backupcenter_backups{backuplocation="default",phase="Completed"}"#;
    let got = p.wait_for(completed, WAIT, |r| r.len() == 1).await;
    assert_eq!(
        got.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        [17.0],
        "{completed}\nserve stderr:\n{}\nprometheus log:\n{}",
        serve.stderr(),
        p.log()
    );
    // Pushed, not scraped: no job label.
    assert!(!got[0].0.contains_key("job"), "{got:?}");

    expect(
        &p,
        "backupcenter_backuplocation_phase == 1",
        ["backuplocation", "phase"],
        &[
            (["default", "Available"], 1.0),
            (["gcs-archive", "Available"], 1.0),
            (["offsite-s3", "Unavailable"], 1.0),
        ],
    )
    .await;
    expect(
        &p,
        "count by (phase) (backupcenter_backup_failed_info)",
        ["phase"],
        &[
            (["Failed"], 2.0),
            (["PartiallyFailed"], 2.0),
            (["FailedValidation"], 2.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_schedule_last_success_timestamp_seconds",
        ["schedule"],
        &[
            (["daily-full"], 1_795_486_804.0),
            (["every-6h-apps"], 1_795_566_739.0),
            (["weekly-offsite"], 1_794_020_575.0),
            ([""], 1_795_439_226.0),
        ],
    )
    .await;
    expect(
        &p,
        "backupcenter_component_pod_last_termination_info",
        ["pod", "reason", "exit_code"],
        &[
            (["velero-68b9c7d5f4-tx4kz", "OOMKilled", "137"], 1.0),
            (["node-agent-58jlm", "Unknown", "255"], 1.0),
        ],
    )
    .await;
    expect(
        &p,
        r#"backupcenter_component_resource_limits{resource="memory"}"#,
        ["component", "container", "unit"],
        &[(["velero", "velero", "byte"], 536_870_912.0)],
    )
    .await;

    // A second push a second later: the interval loop keeps running.
    let pushes = format!("count_over_time({completed}[1m])");
    let counted = p
        .wait_for(&pushes, WAIT, |r| r.len() == 1 && r[0].1 >= 2.0)
        .await;
    assert!(
        counted.len() == 1 && counted[0].1 >= 2.0,
        "{pushes}: {counted:?}\nserve stderr:\n{}",
        serve.stderr()
    );
}
