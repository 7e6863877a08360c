//! End to end, all real: `backupscope serve --snapshot examples/<cluster>` is scraped by a real
//! Prometheus evaluating the rules `backupscope rules` generates (every `for:` set to 0s through
//! the generator's flags), which sends to a real Alertmanager, whose webhook is a listener in
//! this test. The alerts that reach it are the example's broken vault and failed tasks, with
//! the labels and annotations an operator reads.
//!
//! `--now` fixes the exporter's instant, but Prometheus evaluates `time()` on the real clock,
//! days after the examples were taken (2026-11-25T09:00:00Z): every unfinished task is then
//! past the 6 h stuck bound and the time-based alerts may fire too. The test asserts exactly
//! the state-based alerts and only that nothing outside the expected alert names fires; the
//! time-based conditions are covered exactly by tests/alerting_rules/*.yaml.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::process::Command;
use std::time::{Duration, Instant};
use support::alertmanager::{Alertmanager, Webhook};
use support::prometheus::{AlertingOptions, Prometheus, PrometheusOptions, ScrapeTarget};
use support::serve::{Serve, example};
use support::tempdir::TempDir;

const NOW: &str = "2026-11-25T09:00:00Z";
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(90);

type Labels = BTreeMap<String, String>;

/// A firing alert as the webhook received it.
#[derive(Debug, Clone)]
struct Received {
    labels: Labels,
    annotations: Labels,
}

fn strings(value: &serde_json::Value) -> Labels {
    value
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The generated rules with every `for:` at 0s, written where Prometheus reads them.
fn rules_file(dir: &TempDir) -> std::path::PathBuf {
    let mut args = vec!["rules"];
    for flag in [
        "--failed-for",
        "--vault-for",
        "--stuck-for",
        "--schedule-for",
        "--component-for",
        "--restarting-for",
        "--crashloop-for",
        "--source-for",
    ] {
        args.extend([flag, "0s"]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(&args)
        .output()
        .expect("run backupscope rules");
    assert!(
        out.status.success(),
        "backupscope rules failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.path().join("backupscope.rules.yaml");
    std::fs::write(&path, &out.stdout).expect("write the rule file");
    path
}

struct Pipeline {
    // Dropped in reverse order of start: Prometheus, Alertmanager, serve.
    prometheus: Prometheus,
    alertmanager: Alertmanager,
    webhook: Webhook,
    serve: Serve,
    _dir: TempDir,
}

async fn pipeline(cluster: &str) -> Pipeline {
    let dir = TempDir::new("alerts-e2e");
    let rules = rules_file(&dir);
    let serve = Serve::start(&[
        OsStr::new("--snapshot"),
        example(cluster).as_os_str(),
        OsStr::new("--now"),
        OsStr::new(NOW),
    ]);
    let webhook = Webhook::start();
    let alertmanager = Alertmanager::start(&webhook);
    let prometheus = Prometheus::start_alerting(
        PrometheusOptions {
            targets: vec![ScrapeTarget {
                job: "backupscope".to_owned(),
                address: serve.address().to_owned(),
                metrics_path: "/metrics".to_owned(),
                settings: String::new(),
            }],
            scrape_interval: Duration::from_secs(1),
            ..Default::default()
        },
        AlertingOptions {
            rule_files: vec![rules],
            alertmanagers: vec![alertmanager.address().to_owned()],
            evaluation_interval: Duration::from_secs(1),
        },
    )
    .await;
    Pipeline {
        prometheus,
        alertmanager,
        webhook,
        serve,
        _dir: dir,
    }
}

impl Pipeline {
    /// Collects firing alerts from the webhook, keyed by (alertname, object), until every
    /// expected key arrived or the timeout passed.
    fn collect(
        &self,
        expected: &BTreeSet<(String, String)>,
    ) -> BTreeMap<(String, String), Received> {
        let deadline = Instant::now() + DELIVERY_TIMEOUT;
        let mut got = BTreeMap::new();
        while !expected.iter().all(|k| got.contains_key(k)) {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(body) = self.webhook.recv(left) else {
                break;
            };
            for alert in body["alerts"].as_array().into_iter().flatten() {
                if alert["status"] != "firing" {
                    continue;
                }
                let labels = strings(&alert["labels"]);
                let object = labels
                    .get("backup")
                    .or_else(|| labels.get("backuplocation"))
                    .cloned()
                    .unwrap_or_default();
                let key = (labels["alertname"].clone(), object);
                got.insert(
                    key,
                    Received {
                        labels,
                        annotations: strings(&alert["annotations"]),
                    },
                );
            }
        }
        got
    }

    fn context(&self) -> String {
        format!(
            "serve stderr:\n{}\nprometheus log:\n{}\nalertmanager log:\n{}",
            self.serve.stderr(),
            self.prometheus.log(),
            self.alertmanager.log()
        )
    }

    /// Names of the alerts Prometheus holds (pending or firing) once the rules have run.
    async fn alert_names(&self) -> BTreeSet<String> {
        self.prometheus
            .query("ALERTS")
            .await
            .into_iter()
            .map(|(labels, _)| labels["alertname"].clone())
            .collect()
    }
}

fn keys(alert: &str, objects: &[&str]) -> Vec<(String, String)> {
    objects
        .iter()
        .map(|o| (alert.to_string(), o.to_string()))
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The alert names the example's state may raise: the state-based ones it must, and the
/// time-based ones the real clock adds. Component, crash-loop and source alerts must not fire.
const ALLOWED: &[&str] = &[
    "BackupCenterBackupFailed",
    "BackupCenterBackupPartiallyFailed",
    "BackupCenterVaultUnavailable",
    "BackupCenterBackupStuck",
    "BackupCenterScheduleMissed",
];

async fn check_names(p: &Pipeline) {
    let names = p.alert_names().await;
    for must in [
        "BackupCenterBackupFailed",
        "BackupCenterBackupPartiallyFailed",
        "BackupCenterVaultUnavailable",
    ] {
        assert!(names.contains(must), "{must} not in ALERTS: {names:?}");
    }
    let unexpected: Vec<&String> = names
        .iter()
        .filter(|n| !ALLOWED.contains(&n.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected alerts {unexpected:?}\n{}",
        p.context()
    );
}

/// Waits for the failed, partially failed and vault alerts the example must raise; panics
/// naming the ones that did not arrive.
fn delivered(
    p: &Pipeline,
    failed: &[&str],
    partial: &[&str],
    vault: &str,
) -> BTreeMap<(String, String), Received> {
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    expected.extend(keys("BackupCenterBackupFailed", failed));
    expected.extend(keys("BackupCenterBackupPartiallyFailed", partial));
    expected.extend(keys("BackupCenterVaultUnavailable", &[vault]));
    let got = p.collect(&expected);
    let missing: Vec<_> = expected.iter().filter(|k| !got.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "not delivered: {missing:?}\ngot: {:?}\n{}",
        got.keys(),
        p.context()
    );
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_example_raises_the_broken_vault_and_the_failed_tasks() {
    let p = pipeline("ack-cluster").await;
    let failed = [
        "orders-frequent-20261124173000",
        "orders-frequent-20261125000000",
        "orders-frequent-20261125063000",
        "orders-hotfix-1124",
        "prod-daily-20261117040100",
        "weekly-full-20261108020000",
    ];
    let partial = ["prod-daily-20261121040100", "shop-release-1119"];
    let got = delivered(&p, &failed, &partial, "shared-oss-vault");

    let instance = p.serve.address().to_string();
    let vault = &got[&(
        "BackupCenterVaultUnavailable".into(),
        "shared-oss-vault".into(),
    )];
    assert_eq!(
        vault.labels,
        labels(&[
            ("alertname", "BackupCenterVaultUnavailable"),
            ("severity", "critical"),
            ("namespace", "csdr"),
            ("backuplocation", "shared-oss-vault"),
            ("phase", "Unavailable"),
            ("provider", "alibabacloud"),
            ("bucket", "cnfs-oss-shared-backup"),
            ("prefix", "orders"),
            ("job", "backupscope"),
            ("instance", &instance),
        ])
    );
    assert_eq!(
        vault.annotations["summary"],
        "Backup vault csdr/shared-oss-vault is Unavailable"
    );
    assert_eq!(
        vault.annotations["runbook_url"],
        "docs/runbook.md#backupcentervaultunavailable"
    );

    let task = &got[&(
        "BackupCenterBackupFailed".into(),
        "orders-frequent-20261125000000".into(),
    )];
    assert_eq!(
        task.labels,
        labels(&[
            ("alertname", "BackupCenterBackupFailed"),
            ("severity", "critical"),
            ("namespace", "csdr"),
            ("backup", "orders-frequent-20261125000000"),
            ("backuplocation", "shared-oss-vault"),
            ("backuplocation_exists", "true"),
            ("backup_type", "AppBackup"),
            ("from_schedule", "orders-frequent"),
            ("phase", "Failed"),
            ("reason", "VaultError"),
            ("engine", "ack"),
            ("job", "backupscope"),
            ("instance", &instance),
        ])
    );
    assert_eq!(
        task.annotations["description"],
        "Backup task orders-frequent-20261125000000 in namespace csdr ended Failed, reason class \
         VaultError, on vault shared-oss-vault, run by schedule orders-frequent. The failure \
         message: backupscope describe backup orders-frequent-20261125000000 -n csdr"
    );
    // The reason class of each failed task, as the ACK dashboard's Failed Backup Detail shows.
    let reasons: BTreeMap<&str, &str> = failed
        .iter()
        .map(|b| {
            let r = &got[&("BackupCenterBackupFailed".to_string(), b.to_string())];
            (*b, r.labels["reason"].as_str())
        })
        .collect();
    assert_eq!(reasons["prod-daily-20261117040100"], "Timeout");
    assert_eq!(reasons["weekly-full-20261108020000"], "HBRError");
    assert_eq!(reasons["orders-hotfix-1124"], "VaultError");
    check_names(&p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn velero_example_raises_the_broken_vault_and_the_failed_tasks() {
    let p = pipeline("velero-cluster").await;
    let failed = [
        "daily-full-20261125020045",
        "keycloak-offsite-1122",
        "weekly-offsite-20261114030021",
        "weekly-offsite-20261121030014",
    ];
    let partial = ["daily-full-20261121020023", "every-6h-apps-20261123122102"];
    let got = delivered(&p, &failed, &partial, "offsite-s3");

    let instance = p.serve.address().to_string();
    let vault = &got[&("BackupCenterVaultUnavailable".into(), "offsite-s3".into())];
    assert_eq!(
        vault.labels,
        labels(&[
            ("alertname", "BackupCenterVaultUnavailable"),
            ("severity", "critical"),
            ("namespace", "velero"),
            ("backuplocation", "offsite-s3"),
            ("phase", "Unavailable"),
            ("provider", "aws"),
            ("bucket", "acme-velero-offsite-eu"),
            ("prefix", "cluster-a"),
            ("job", "backupscope"),
            ("instance", &instance),
        ])
    );

    // The backup Velero marked Failed because its server restarted.
    let restarted = &got[&(
        "BackupCenterBackupFailed".into(),
        "daily-full-20261125020045".into(),
    )];
    assert_eq!(restarted.labels["reason"], "ServerRestarted");
    assert_eq!(restarted.labels["from_schedule"], "daily-full");
    // The task on the vault `offsite` that does not exist: FailedValidation, and said so.
    let missing_vault = &got[&(
        "BackupCenterBackupFailed".into(),
        "keycloak-offsite-1122".into(),
    )];
    assert_eq!(
        missing_vault.labels,
        labels(&[
            ("alertname", "BackupCenterBackupFailed"),
            ("severity", "critical"),
            ("namespace", "velero"),
            ("backup", "keycloak-offsite-1122"),
            ("backuplocation", "offsite"),
            ("backuplocation_exists", "false"),
            ("backup_type", "AppAndPvBackup"),
            ("data_type", "Unknown"),
            ("phase", "FailedValidation"),
            ("reason", "VaultError"),
            ("engine", "velero"),
            ("job", "backupscope"),
            ("instance", &instance),
        ])
    );
    assert_eq!(
        missing_vault.annotations["description"],
        "Backup task keycloak-offsite-1122 in namespace velero ended FailedValidation, reason \
         class VaultError, on vault offsite (which does not exist in velero), a manual backup. \
         The failure message: backupscope describe backup keycloak-offsite-1122 -n velero"
    );
    check_names(&p).await;
}
