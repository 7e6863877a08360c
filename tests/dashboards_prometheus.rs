//! The committed Grafana dashboards against real data: one Prometheus scrapes `backupscope
//! serve` on both bundled examples — the ACK one with a `cluster="ack-hz"` target label, the
//! Velero one without any, as in a fleet's central Prometheus where one cluster sets no
//! external label. Every query of every panel is taken from dashboards/*.json, its variables
//! substituted the way Grafana does, evaluated through the HTTP API, and compared with what the
//! panel must show. The expected numbers are written out here from examples/README.md
//! ("Expected dashboard numbers") and the example files: an oracle independent of the code.
//!
//! `serve --now` fixes the exporter's instant, but Prometheus evaluates `time()` on the real
//! clock, so a value of the form `time() - t` is checked to lie between the clock before and
//! after the query (minus the example's `t`), to the second. Graph queries run as instant
//! queries: their newest point.
//!
//! Then the table panels as a person sees them: the results of each panel's queries, shaped
//! into the frames Grafana's Prometheus data source makes, go through the panel's
//! transformations (merge, organize) in Grafana's own implementation (npm `@grafana/data`, run
//! by tests/js/transform-panels.js), and the columns, row count and one row are checked.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::time::Duration;

use serde_json::Value;
use support::golden::repo_path;
use support::prometheus::{Prometheus, PrometheusOptions, Sample, ScrapeTarget};
use support::serve::{Serve, example};

const NOW: &str = "2026-11-25T09:00:00Z";
const ACK_CLUSTER: &str = "ack-hz";
const CLUSTER: &str = "cluster";
const WAIT: Duration = Duration::from_secs(30);
const DASHBOARDS: &[&str] = &[
    "dashboards/backup-locations.json",
    "dashboards/backup-operation-status.json",
    "dashboards/addon-status.json",
    "dashboards/backup-health.json",
];

#[derive(Debug, Clone, Copy)]
enum Want {
    Exact(f64),
    /// `time() - t`, with `t` an RFC 3339 instant of the example.
    Since(&'static str),
    /// `(time() - t) / interval`.
    Ratio(&'static str, f64),
    /// A measured value in `[lo, hi]` (a probe's duration).
    Within(f64, f64),
}
use Want::{Exact, Ratio, Since, Within};

#[derive(Debug, Clone)]
struct Row {
    key: Vec<&'static str>,
    want: Want,
    /// The vault the row belongs to, for a `$backuplocation` filter when the row's labels do
    /// not name it (a schedule's series).
    vault: Option<&'static str>,
}

fn r(key: &[&'static str], want: Want) -> Row {
    Row {
        key: key.to_vec(),
        want,
        vault: None,
    }
}

/// What one query of one panel returns on each example: the labels that tell its rows apart
/// (`cluster` first when `per_cluster`) and the rows.
struct Check {
    keys: &'static [&'static str],
    per_cluster: bool,
    ack: Vec<Row>,
    velero: Vec<Row>,
}

fn check(
    keys: &'static [&'static str],
    per_cluster: bool,
    ack: Vec<Row>,
    velero: Vec<Row>,
) -> Check {
    Check {
        keys,
        per_cluster,
        ack,
        velero,
    }
}

/// Every (panel title, query id) of the four dashboards, and what it must return.
#[allow(clippy::too_many_lines)]
fn checks() -> BTreeMap<(&'static str, &'static str), Check> {
    let mut c = BTreeMap::new();
    let phases = |a: [f64; 4]| -> Vec<Row> {
        ["Available", "Unavailable", "InProgress", "Unknown"]
            .iter()
            .zip(a)
            .map(|(p, v)| r(&[p], Exact(v)))
            .collect()
    };
    // Backup Locations.
    c.insert(
        ("Vaults by phase", "A"),
        check(
            &["phase"],
            false,
            phases([2., 1., 1., 0.]),
            phases([2., 1., 0., 0.]),
        ),
    );
    c.insert(
        ("Vaults not Available", "A"),
        check(
            &["phase"],
            false,
            phases([0., 1., 1., 0.])[1..].to_vec(),
            phases([0., 1., 0., 0.])[1..].to_vec(),
        ),
    );
    c.insert(
        ("Backuplocation Detail", "A"),
        check(
            &[
                "namespace",
                "backuplocation",
                "bucket",
                "region",
                "network_policy",
                "phase",
            ],
            true,
            vec![
                r(
                    &[
                        "csdr",
                        "audit-hz-vault",
                        "cnfs-oss-audit-archive-hz",
                        "cn-hangzhou",
                        "internal",
                        "InProgress",
                    ],
                    Exact(1.),
                ),
                r(
                    &[
                        "csdr",
                        "dr-bj-vault",
                        "cnfs-oss-dr-backup-bj",
                        "cn-beijing",
                        "public",
                        "Available",
                    ],
                    Exact(1.),
                ),
                r(
                    &[
                        "csdr",
                        "prod-hz-vault",
                        "cnfs-oss-prod-backup-hz",
                        "cn-hangzhou",
                        "internal",
                        "Available",
                    ],
                    Exact(1.),
                ),
                r(
                    &[
                        "csdr",
                        "shared-oss-vault",
                        "cnfs-oss-shared-backup",
                        "cn-hangzhou",
                        "internal",
                        "Unavailable",
                    ],
                    Exact(1.),
                ),
            ],
            vec![
                r(
                    &[
                        "velero",
                        "default",
                        "velero-prod",
                        "us-east-1",
                        "",
                        "Available",
                    ],
                    Exact(1.),
                ),
                r(
                    &[
                        "velero",
                        "gcs-archive",
                        "acme-velero-archive",
                        "",
                        "",
                        "Available",
                    ],
                    Exact(1.),
                ),
                r(
                    &[
                        "velero",
                        "offsite-s3",
                        "acme-velero-offsite-eu",
                        "eu-central-1",
                        "",
                        "Unavailable",
                    ],
                    Exact(1.),
                ),
            ],
        ),
    );
    c.insert(
        ("Backuplocation Detail", "B"),
        check(
            &["namespace", "backuplocation"],
            true,
            // audit-hz-vault was never validated: no row, an empty cell.
            vec![
                r(&["csdr", "dr-bj-vault"], Since("2026-11-25T08:56:31Z")),
                r(&["csdr", "prod-hz-vault"], Since("2026-11-25T08:58:40Z")),
                r(&["csdr", "shared-oss-vault"], Since("2026-11-25T08:57:12Z")),
            ],
            ["default", "gcs-archive", "offsite-s3"]
                .iter()
                .map(|v| r(&["velero", v], Since("2026-11-25T08:59:41Z")))
                .collect(),
        ),
    );

    // Backup Locations: backupscope's own probe and scan of the example buckets
    // (examples/buckets/README.md; the backup counts are the folders under backups/).
    let ack_vaults = [
        "audit-hz-vault",
        "dr-bj-vault",
        "prod-hz-vault",
        "shared-oss-vault",
    ];
    let velero_vaults = ["default", "gcs-archive", "offsite-s3"];
    let per_vault = |ns: &'static str, vaults: &[&'static str], values: &[f64]| -> Vec<Row> {
        vaults
            .iter()
            .zip(values)
            .map(|(v, x)| r(&[ns, v], Exact(*x)))
            .collect()
    };
    let vault_keys: &'static [&'static str] = &["namespace", "backuplocation"];
    c.insert(
        ("Bucket probe and scan", "A"),
        check(
            vault_keys,
            true,
            per_vault("csdr", &ack_vaults, &[0., 1., 1., 0.]),
            per_vault("velero", &velero_vaults, &[1., 1., 0.]),
        ),
    );
    c.insert(
        ("Bucket probe and scan", "B"),
        check(
            &["namespace", "backuplocation", "reason", "code"],
            true,
            vec![
                r(&["csdr", "audit-hz-vault", "invalid_layout", ""], Exact(1.)),
                r(
                    &["csdr", "shared-oss-vault", "no_such_bucket", ""],
                    Exact(1.),
                ),
            ],
            vec![r(
                &["velero", "offsite-s3", "no_such_bucket", ""],
                Exact(1.),
            )],
        ),
    );
    // A file:// probe takes milliseconds; the timeout (10 s) bounds any.
    let durations = || {
        check(
            vault_keys,
            true,
            ack_vaults
                .iter()
                .map(|v| r(&["csdr", v], Within(0., 10.)))
                .collect(),
            velero_vaults
                .iter()
                .map(|v| r(&["velero", v], Within(0., 10.)))
                .collect(),
        )
    };
    c.insert(("Bucket probe and scan", "C"), durations());
    c.insert(("Bucket probe duration", "A"), durations());
    // A vault whose bucket is missing has no scan counts.
    c.insert(
        ("Bucket probe and scan", "D"),
        check(
            vault_keys,
            true,
            per_vault("csdr", &ack_vaults[..3], &[0., 7., 21.]),
            per_vault("velero", &velero_vaults[..2], &[20., 2.]),
        ),
    );
    c.insert(
        ("Bucket probe and scan", "E"),
        check(
            vault_keys,
            true,
            per_vault("csdr", &ack_vaults, &[1., 1., 1., 0.]),
            per_vault("velero", &velero_vaults, &[1., 1., 0.]),
        ),
    );
    c.insert(
        ("Bucket scan findings", "A"),
        check(
            &["namespace", "backuplocation", "finding"],
            true,
            ["missing_tarball", "orphan_backup", "phase_mismatch"]
                .iter()
                .map(|f| r(&["csdr", "prod-hz-vault", f], Exact(1.)))
                .collect(),
            vec![],
        ),
    );

    // Backup Operation Status.
    let outcomes = [
        "Completed",
        "PartiallyFailed",
        "Failed",
        "InProgress",
        "Unknown",
    ];
    let totals = |a: [f64; 5]| -> Vec<Row> {
        outcomes
            .iter()
            .zip(a)
            .map(|(o, v)| r(&[o], Exact(v)))
            .collect()
    };
    c.insert(
        ("Tasks by outcome", "A"),
        check(
            &["phase"],
            false,
            totals([30., 2., 6., 2., 0.]),
            totals([22., 2., 4., 3., 0.]),
        ),
    );
    // Per vault: Completed, PartiallyFailed, Failed, InProgress, Unknown. Velero's InProgress
    // is InProgress + WaitingForPluginOperations + New; its Failed includes FailedValidation;
    // `offsite` is named by a task but does not exist.
    let ack_vaults: [(&str, [f64; 5]); 4] = [
        ("prod-hz-vault", [17., 2., 1., 1., 0.]),
        ("dr-bj-vault", [6., 0., 1., 1., 0.]),
        ("shared-oss-vault", [7., 0., 4., 0., 0.]),
        ("audit-hz-vault", [0.; 5]),
    ];
    let velero_vaults: [(&str, [f64; 5]); 4] = [
        ("default", [17., 2., 1., 3., 0.]),
        ("offsite-s3", [3., 0., 2., 0., 0.]),
        ("gcs-archive", [2., 0., 0., 0., 0.]),
        ("offsite", [0., 0., 1., 0., 0.]),
    ];
    for (i, id) in ["A", "B", "C", "D", "E"].into_iter().enumerate() {
        let rows = |ns: &'static str, vaults: &[(&'static str, [f64; 5])]| -> Vec<Row> {
            vaults
                .iter()
                .map(|(v, n)| r(&[ns, v], Exact(n[i])))
                .collect()
        };
        c.insert(
            ("Backup Overview", id),
            check(
                &["namespace", "backuplocation"],
                true,
                rows("csdr", &ack_vaults),
                rows("velero", &velero_vaults),
            ),
        );
    }
    let failing = |vaults: &[(&'static str, [f64; 5])]| -> Vec<Row> {
        vaults
            .iter()
            .map(|(v, n)| r(&[v], Exact(n[1] + n[2])))
            .collect()
    };
    c.insert(
        ("Failed tasks per vault", "A"),
        check(
            &["backuplocation"],
            false,
            failing(&ack_vaults),
            failing(&velero_vaults),
        ),
    );
    let f = |task, vault, kind, data, schedule, phase, reason| {
        r(
            &["", task, vault, kind, data, schedule, phase, reason],
            Exact(1.),
        )
    };
    let in_ns = |ns: &'static str, mut rows: Vec<Row>| -> Vec<Row> {
        for row in &mut rows {
            row.key[0] = ns;
        }
        rows
    };
    c.insert(
        ("Failed Backup Detail", "A"),
        check(
            &[
                "namespace",
                "backup",
                "backuplocation",
                "backup_type",
                "data_type",
                "from_schedule",
                "phase",
                "reason",
            ],
            true,
            in_ns(
                "csdr",
                vec![
                    f(
                        "orders-frequent-20261124173000",
                        "shared-oss-vault",
                        "AppBackup",
                        "",
                        "orders-frequent",
                        "Failed",
                        "VaultError",
                    ),
                    f(
                        "orders-frequent-20261125000000",
                        "shared-oss-vault",
                        "AppBackup",
                        "",
                        "orders-frequent",
                        "Failed",
                        "VaultError",
                    ),
                    f(
                        "orders-frequent-20261125063000",
                        "shared-oss-vault",
                        "AppBackup",
                        "",
                        "orders-frequent",
                        "Failed",
                        "VaultError",
                    ),
                    f(
                        "orders-hotfix-1124",
                        "shared-oss-vault",
                        "AppBackup",
                        "",
                        "",
                        "Failed",
                        "VaultError",
                    ),
                    f(
                        "prod-daily-20261117040100",
                        "prod-hz-vault",
                        "AppAndPvBackup",
                        "snapshot",
                        "prod-daily",
                        "Failed",
                        "Timeout",
                    ),
                    f(
                        "prod-daily-20261121040100",
                        "prod-hz-vault",
                        "AppAndPvBackup",
                        "snapshot",
                        "prod-daily",
                        "PartiallyFailed",
                        "PartialFailure",
                    ),
                    f(
                        "shop-release-1119",
                        "prod-hz-vault",
                        "AppAndPvBackup",
                        "snapshot",
                        "",
                        "PartiallyFailed",
                        "PartialFailure",
                    ),
                    f(
                        "weekly-full-20261108020000",
                        "dr-bj-vault",
                        "AppAndPvBackup",
                        "all",
                        "weekly-full",
                        "Failed",
                        "HBRError",
                    ),
                ],
            ),
            in_ns(
                "velero",
                vec![
                    f(
                        "daily-full-20261121020023",
                        "default",
                        "AppAndPvBackup",
                        "snapshot",
                        "daily-full",
                        "PartiallyFailed",
                        "PartialFailure",
                    ),
                    f(
                        "daily-full-20261125020045",
                        "default",
                        "AppAndPvBackup",
                        "Unknown",
                        "daily-full",
                        "Failed",
                        "ServerRestarted",
                    ),
                    f(
                        "every-6h-apps-20261123122102",
                        "default",
                        "AppAndPvBackup",
                        "fs",
                        "every-6h-apps",
                        "PartiallyFailed",
                        "PartialFailure",
                    ),
                    f(
                        "keycloak-offsite-1122",
                        "offsite",
                        "AppAndPvBackup",
                        "Unknown",
                        "",
                        "FailedValidation",
                        "VaultError",
                    ),
                    f(
                        "weekly-offsite-20261114030021",
                        "offsite-s3",
                        "AppBackup",
                        "",
                        "weekly-offsite",
                        "Failed",
                        "StorageError",
                    ),
                    f(
                        "weekly-offsite-20261121030014",
                        "offsite-s3",
                        "AppBackup",
                        "",
                        "weekly-offsite",
                        "FailedValidation",
                        "VaultError",
                    ),
                ],
            ),
        ),
    );
    // completionTimestamp in milliseconds; a FailedValidation task never completed.
    let done = |ns, task, vault, at: &str| r(&[ns, task, vault], Exact(millis(at)));
    c.insert(
        ("Failed Backup Detail", "B"),
        check(
            &["namespace", "backup", "backuplocation"],
            true,
            vec![
                done(
                    "csdr",
                    "orders-frequent-20261124173000",
                    "shared-oss-vault",
                    "2026-11-24T17:30:05Z",
                ),
                done(
                    "csdr",
                    "orders-frequent-20261125000000",
                    "shared-oss-vault",
                    "2026-11-25T00:00:05Z",
                ),
                done(
                    "csdr",
                    "orders-frequent-20261125063000",
                    "shared-oss-vault",
                    "2026-11-25T06:30:05Z",
                ),
                done(
                    "csdr",
                    "orders-hotfix-1124",
                    "shared-oss-vault",
                    "2026-11-24T15:12:46Z",
                ),
                done(
                    "csdr",
                    "prod-daily-20261117040100",
                    "prod-hz-vault",
                    "2026-11-17T05:01:07Z",
                ),
                done(
                    "csdr",
                    "prod-daily-20261121040100",
                    "prod-hz-vault",
                    "2026-11-21T04:24:51Z",
                ),
                done(
                    "csdr",
                    "shop-release-1119",
                    "prod-hz-vault",
                    "2026-11-19T10:31:42Z",
                ),
                done(
                    "csdr",
                    "weekly-full-20261108020000",
                    "dr-bj-vault",
                    "2026-11-08T02:03:18Z",
                ),
            ],
            vec![
                done(
                    "velero",
                    "daily-full-20261121020023",
                    "default",
                    "2026-11-21T02:23:35Z",
                ),
                done(
                    "velero",
                    "daily-full-20261125020045",
                    "default",
                    "2026-11-25T02:39:19Z",
                ),
                done(
                    "velero",
                    "every-6h-apps-20261123122102",
                    "default",
                    "2026-11-23T12:31:14Z",
                ),
                done(
                    "velero",
                    "weekly-offsite-20261114030021",
                    "offsite-s3",
                    "2026-11-14T03:00:23Z",
                ),
            ],
        ),
    );

    // Addon Status.
    let statuses = |n: f64| -> Vec<Row> {
        [("Health", n), ("UnHealth", 0.), ("NotFound", 0.)]
            .iter()
            .map(|(s, v)| r(&[s], Exact(*v)))
            .collect()
    };
    c.insert(
        ("Components by status", "A"),
        check(&["status"], false, statuses(4.), statuses(2.)),
    );
    let ack_components = [
        ("kube-system", "migrate-controller"),
        ("csdr", "csdr-controller"),
        ("csdr", "csdr-velero"),
        ("csdr", "hbr-client"),
    ];
    let velero_components = [("velero", "velero"), ("velero", "node-agent")];
    let per = |components: &[(&'static str, &'static str)], values: &[Want]| -> Vec<Row> {
        components
            .iter()
            .zip(values)
            .map(|((ns, c), w)| r(&[ns, c], *w))
            .collect()
    };
    let comp = &["namespace", "component"];
    c.insert(
        ("Components", "A"),
        check(
            &["namespace", "component", "status"],
            true,
            ack_components
                .iter()
                .map(|(ns, c)| r(&[ns, c, "Health"], Exact(1.)))
                .collect(),
            velero_components
                .iter()
                .map(|(ns, c)| r(&[ns, c, "Health"], Exact(1.)))
                .collect(),
        ),
    );
    c.insert(
        ("Components", "B"),
        check(
            comp,
            true,
            per(
                &ack_components,
                &[
                    Since("2026-10-20T05:57:36Z"),
                    Since("2026-10-20T05:58:14Z"),
                    Since("2026-10-20T05:58:15Z"),
                    Since("2026-10-20T06:02:31Z"),
                ],
            ),
            per(
                &velero_components,
                &[Since("2026-10-22T08:03:10Z"), Since("2026-10-22T08:03:10Z")],
            ),
        ),
    );
    let exact = |v: &[f64]| -> Vec<Want> { v.iter().map(|x| Exact(*x)).collect() };
    const MI: f64 = 1024. * 1024.;
    const GI: f64 = 1024. * MI;
    // node-agent declares no requests or limits: no row, empty cells.
    let columns: [(&str, [f64; 4], Vec<f64>); 8] = [
        ("C", [1., 1., 1., 3.], vec![1., 2.]),
        ("D", [1., 1., 1., 3.], vec![1., 2.]),
        (
            "E",
            [128. * MI, 256. * MI, 128. * MI, 200. * MI],
            vec![128. * MI],
        ),
        ("F", [0.1, 0.2, 0.5, 0.1], vec![0.5]),
        ("G", [512. * MI, GI, 2. * GI, GI], vec![512. * MI]),
        ("H", [1., 1., 1., 1.], vec![1.]),
        ("I", [0., 0., 2., 0.], vec![1., 1.]),
        ("", [0.; 4], vec![]),
    ];
    for (id, ack, velero) in columns.iter().filter(|(id, ..)| !id.is_empty()) {
        c.insert(
            ("Components", id),
            check(
                comp,
                true,
                per(&ack_components, &exact(ack)),
                per(&velero_components, &exact(velero)),
            ),
        );
    }
    c.insert(
        ("Components", "J"),
        check(
            &["namespace", "component", "reason"],
            true,
            vec![r(&["csdr", "csdr-velero", "OOMKilled"], Exact(1.))],
            vec![
                r(&["velero", "velero", "OOMKilled"], Exact(1.)),
                r(&["velero", "node-agent", "Unknown"], Exact(1.)),
            ],
        ),
    );
    let ack_pods: [(&str, &str, &str, &str, f64); 6] = [
        (
            "kube-system",
            "migrate-controller",
            "migrate-controller-86d5fb4c97-rcjxf",
            "cn-hangzhou.10.0.3.8",
            0.,
        ),
        (
            "csdr",
            "csdr-controller",
            "csdr-controller-5c8d7b9f64-9ldxg",
            "cn-hangzhou.10.0.1.12",
            0.,
        ),
        (
            "csdr",
            "csdr-velero",
            "csdr-velero-7f9c5d8b6d-8kx2p",
            "cn-hangzhou.10.0.2.37",
            2.,
        ),
        (
            "csdr",
            "hbr-client",
            "hbr-client-cw9vx",
            "cn-hangzhou.10.0.3.8",
            0.,
        ),
        (
            "csdr",
            "hbr-client",
            "hbr-client-v2qgl",
            "cn-hangzhou.10.0.2.37",
            0.,
        ),
        (
            "csdr",
            "hbr-client",
            "hbr-client-wjl2j",
            "cn-hangzhou.10.0.1.12",
            0.,
        ),
    ];
    let velero_pods: [(&str, &str, &str, &str, f64); 3] = [
        (
            "velero",
            "velero",
            "velero-68b9c7d5f4-tx4kz",
            "k8s-worker-01",
            1.,
        ),
        (
            "velero",
            "node-agent",
            "node-agent-58jlm",
            "k8s-worker-02",
            1.,
        ),
        (
            "velero",
            "node-agent",
            "node-agent-82bcf",
            "k8s-worker-01",
            0.,
        ),
    ];
    let info =
        |pods: &[(&'static str, &'static str, &'static str, &'static str, f64)]| -> Vec<Row> {
            pods.iter()
                .map(|(ns, c, p, n, _)| r(&[ns, c, p, n, "Running"], Exact(1.)))
                .collect()
        };
    let restarts =
        |pods: &[(&'static str, &'static str, &'static str, &'static str, f64)]| -> Vec<Row> {
            pods.iter()
                .map(|(ns, c, p, _, n)| r(&[ns, c, p], Exact(*n)))
                .collect()
        };
    c.insert(
        ("Pods", "A"),
        check(
            &["namespace", "component", "pod", "node", "phase"],
            true,
            info(&ack_pods),
            info(&velero_pods),
        ),
    );
    c.insert(
        ("Pods", "B"),
        check(
            &["namespace", "component", "pod"],
            true,
            restarts(&ack_pods),
            restarts(&velero_pods),
        ),
    );
    c.insert(
        ("Pods", "C"),
        check(
            &["namespace", "component", "pod", "reason", "exit_code"],
            true,
            vec![r(
                &[
                    "csdr",
                    "csdr-velero",
                    "csdr-velero-7f9c5d8b6d-8kx2p",
                    "OOMKilled",
                    "137",
                ],
                Exact(1.),
            )],
            vec![
                r(
                    &[
                        "velero",
                        "velero",
                        "velero-68b9c7d5f4-tx4kz",
                        "OOMKilled",
                        "137",
                    ],
                    Exact(1.),
                ),
                r(
                    &["velero", "node-agent", "node-agent-58jlm", "Unknown", "255"],
                    Exact(1.),
                ),
            ],
        ),
    );
    c.insert(
        ("Container restarts", "A"),
        check(
            &["component"],
            false,
            [
                ("migrate-controller", 0.),
                ("csdr-controller", 0.),
                ("csdr-velero", 2.),
                ("hbr-client", 0.),
            ]
            .iter()
            .map(|(c, n)| r(&[c], Exact(*n)))
            .collect(),
            vec![r(&["velero"], Exact(1.)), r(&["node-agent"], Exact(1.))],
        ),
    );

    // Backup Health.
    let schedule_phases = |n: f64| -> Vec<Row> {
        [
            ("New", 0.),
            ("Enabled", n),
            ("FailedValidation", 0.),
            ("Unknown", 0.),
        ]
        .iter()
        .map(|(p, v)| r(&[p], Exact(*v)))
        .collect()
    };
    c.insert(
        ("Schedules by phase", "A"),
        check(&["phase"], false, schedule_phases(3.), schedule_phases(3.)),
    );
    c.insert(
        ("Restores by outcome", "A"),
        check(
            &["phase"],
            false,
            totals([1., 0., 1., 1., 0.]),
            totals([1., 1., 1., 0., 0.]),
        ),
    );
    // (schedule, vault, cron, paused, interval, last success)
    type Schedule = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        f64,
        &'static str,
    );
    let ack_schedules: [Schedule; 3] = [
        (
            "orders-frequent",
            "shared-oss-vault",
            "6h30m",
            "false",
            23400.,
            "2026-11-24T11:00:43Z",
        ),
        (
            "prod-daily",
            "prod-hz-vault",
            "1 4 * * *",
            "false",
            86400.,
            "2026-11-25T04:19:33Z",
        ),
        (
            "weekly-full",
            "dr-bj-vault",
            "0 2 * * 0",
            "true",
            604800.,
            "2026-11-22T02:47:50Z",
        ),
    ];
    let velero_schedules: [Schedule; 3] = [
        (
            "daily-full",
            "default",
            "0 2 * * *",
            "false",
            86400.,
            "2026-11-24T02:20:04Z",
        ),
        (
            "every-6h-apps",
            "default",
            "@every 6h",
            "false",
            21600.,
            "2026-11-25T00:32:19Z",
        ),
        (
            "weekly-offsite",
            "offsite-s3",
            "0 3 * * 6",
            "true",
            604800.,
            "2026-11-07T03:02:55Z",
        ),
    ];
    let sched = |ns: &'static str,
                 s: &[Schedule],
                 cell: &dyn Fn(&Schedule) -> (Vec<&'static str>, Want)|
     -> Vec<Row> {
        s.iter()
            .map(|x| {
                let (extra, want) = cell(x);
                let mut key = vec![ns, x.0];
                key.extend(extra);
                Row {
                    key,
                    want,
                    vault: Some(x.1),
                }
            })
            .collect()
    };
    let both = |keys: &'static [&'static str],
                cell: &dyn Fn(&Schedule) -> (Vec<&'static str>, Want)| {
        check(
            keys,
            true,
            sched("csdr", &ack_schedules, cell),
            sched("velero", &velero_schedules, cell),
        )
    };
    c.insert(
        ("RPO per schedule", "A"),
        both(
            &["namespace", "schedule", "backuplocation", "cron", "paused"],
            &|x| (vec![x.1, x.2, x.3], Exact(1.)),
        ),
    );
    c.insert(
        ("RPO per schedule", "B"),
        both(&["namespace", "schedule", "phase"], &|_| {
            (vec!["Enabled"], Exact(1.))
        }),
    );
    c.insert(
        ("RPO per schedule", "C"),
        both(&["namespace", "schedule"], &|x| (vec![], Since(x.5))),
    );
    c.insert(
        ("RPO per schedule", "D"),
        both(&["namespace", "schedule"], &|x| (vec![], Exact(x.4))),
    );
    c.insert(
        ("RPO per schedule", "E"),
        both(&["namespace", "schedule"], &|x| (vec![], Ratio(x.5, x.4))),
    );
    c.insert(
        ("RPO against interval", "A"),
        both(&["namespace", "schedule"], &|x| (vec![], Ratio(x.5, x.4))),
    );
    c.insert(
        ("Unfinished backup tasks", "A"),
        check(
            &[
                "namespace",
                "backup",
                "backuplocation",
                "phase",
                "from_schedule",
            ],
            true,
            vec![
                r(
                    &[
                        "csdr",
                        "before-k8s-upgrade-1124",
                        "prod-hz-vault",
                        "InProgress",
                        "",
                    ],
                    Since("2026-11-24T23:02:11Z"),
                ),
                r(
                    &[
                        "csdr",
                        "payment-adhoc-1125",
                        "dr-bj-vault",
                        "InProgress",
                        "",
                    ],
                    Since("2026-11-25T08:51:09Z"),
                ),
            ],
            vec![
                r(
                    &[
                        "velero",
                        "every-6h-apps-20261125062431",
                        "default",
                        "InProgress",
                        "every-6h-apps",
                    ],
                    Since("2026-11-25T06:24:32Z"),
                ),
                r(
                    &[
                        "velero",
                        "postgres-datamover-1125",
                        "default",
                        "WaitingForPluginOperations",
                        "",
                    ],
                    Since("2026-11-25T05:58:03Z"),
                ),
                r(
                    &["velero", "gitea-adhoc-1125", "default", "New", ""],
                    Since("2026-11-25T08:47:10Z"),
                ),
            ],
        ),
    );
    c.insert(
        ("Failed restores", "A"),
        check(
            &["namespace", "restore", "backup", "phase", "reason"],
            true,
            vec![r(
                &[
                    "csdr",
                    "restore-orders-drill",
                    "weekly-full-20261122020000",
                    "Failed",
                    "RestoreError",
                ],
                Exact(1.),
            )],
            vec![
                r(
                    &[
                        "velero",
                        "drill-keycloak-20261125",
                        "daily-full-20261124020045",
                        "Failed",
                        "ServerRestarted",
                    ],
                    Exact(1.),
                ),
                r(
                    &[
                        "velero",
                        "gitea-rollback-1124",
                        "every-6h-apps-20261124002206",
                        "PartiallyFailed",
                        "PartialFailure",
                    ],
                    Exact(1.),
                ),
            ],
        ),
    );
    c.insert(
        ("Unfinished restores", "A"),
        check(
            &["namespace", "restore", "backup", "phase"],
            true,
            vec![r(
                &[
                    "csdr",
                    "restore-payment-verify",
                    "prod-daily-20261125040100",
                    "InProgress",
                ],
                Since("2026-11-25T08:40:31Z"),
            )],
            vec![],
        ),
    );
    c
}

fn unix(at: &str) -> f64 {
    let t: jiff::Timestamp = at.parse().unwrap_or_else(|e| panic!("{at}: {e}"));
    t.as_second() as f64
}

fn millis(at: &str) -> f64 {
    unix(at) * 1000.0
}

/// A choice of variable values, and which examples' rows it selects.
struct Scenario {
    cluster: &'static str,
    namespace: &'static str,
    backuplocation: &'static str,
    ack: bool,
    velero: bool,
    /// A concrete `$backuplocation`: only rows of this vault, where the query filters on it.
    vault: Option<&'static str>,
}

const SCENARIOS: &[Scenario] = &[
    // One cluster picked by its label.
    Scenario {
        cluster: ACK_CLUSTER,
        namespace: ".*",
        backuplocation: ".*",
        ack: true,
        velero: false,
        vault: None,
    },
    // The cluster without the label, picked by namespace under "All" clusters.
    Scenario {
        cluster: ".*",
        namespace: "velero",
        backuplocation: ".*",
        ack: false,
        velero: true,
        vault: None,
    },
    // Everything: the fleet.
    Scenario {
        cluster: ".*",
        namespace: ".*",
        backuplocation: ".*",
        ack: true,
        velero: true,
        vault: None,
    },
    // One vault.
    Scenario {
        cluster: ".*",
        namespace: ".*",
        backuplocation: "shared-oss-vault",
        ack: true,
        velero: true,
        vault: Some("shared-oss-vault"),
    },
];

/// A query with the scenario's variable values, as Grafana sends it.
fn substitute(expr: &str, s: &Scenario) -> String {
    let out = expr
        .replace("$cluster", s.cluster)
        .replace("$namespace", s.namespace)
        .replace("$backuplocation", s.backuplocation);
    assert!(
        !out.contains('$'),
        "a variable this test does not know: {expr}"
    );
    out
}

type Key = Vec<String>;

/// The rows `check` predicts under `s`; `None` when the query filters on a vault that its
/// rows cannot be attributed to.
fn expected(check: &Check, expr: &str, s: &Scenario) -> Option<BTreeMap<Key, Want>> {
    let vault_index = check.keys.iter().position(|k| *k == "backuplocation");
    let filters_vault = expr.contains("$backuplocation");
    let mut out: BTreeMap<Key, Want> = BTreeMap::new();
    let sources = [
        (s.ack, &check.ack, ACK_CLUSTER),
        (s.velero, &check.velero, ""),
    ];
    for (selected, rows, cluster) in sources {
        if !selected {
            continue;
        }
        for row in rows {
            if let (Some(vault), true) = (s.vault, filters_vault) {
                let of = row.vault.or(vault_index.map(|i| row.key[i]))?;
                if of != vault {
                    continue;
                }
            }
            let mut key: Key = Vec::new();
            if check.per_cluster {
                key.push(cluster.to_string());
            }
            key.extend(row.key.iter().map(|k| (*k).to_string()));
            match (out.get(&key).copied(), row.want) {
                (None, want) => {
                    out.insert(key, want);
                }
                // A sum over clusters (stats): the examples' values add up.
                (Some(Exact(a)), Exact(b)) => {
                    out.insert(key, Exact(a + b));
                }
                (Some(_), _) => panic!("two rows for {key:?} in {expr}"),
            }
        }
    }
    Some(out)
}

fn assert_matches(
    what: &str,
    check: &Check,
    result: &[Sample],
    want: &BTreeMap<Key, Want>,
    clock: (f64, f64),
) {
    let mut allowed: BTreeSet<&str> = check.keys.iter().copied().collect();
    if check.per_cluster {
        allowed.insert(CLUSTER);
    }
    let mut got: BTreeMap<Key, f64> = BTreeMap::new();
    for (labels, value) in result {
        for name in labels.keys() {
            assert!(
                allowed.contains(name.as_str()),
                "{what}: unexpected label {name} in {labels:?}"
            );
        }
        let mut key: Key = Vec::new();
        if check.per_cluster {
            key.push(labels.get(CLUSTER).cloned().unwrap_or_default());
        }
        key.extend(
            check
                .keys
                .iter()
                .map(|k| labels.get(*k).cloned().unwrap_or_default()),
        );
        if let Some(earlier) = got.insert(key.clone(), *value) {
            panic!("{what}: two series for {key:?} ({earlier}, {value})");
        }
    }
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: rows differ (got {got:?})"
    );
    let (before, after) = clock;
    for (key, value) in &got {
        let ok = match want[key] {
            Exact(x) => (value - x).abs() <= 1e-9 * x.abs().max(1.0),
            Since(at) => (before - unix(at) - 1.0..=after - unix(at) + 1.0).contains(value),
            Ratio(at, interval) => ((before - unix(at) - 1.0) / interval
                ..=(after - unix(at) + 1.0) / interval)
                .contains(value),
            Within(lo, hi) => (lo..=hi).contains(value),
        };
        assert!(
            ok,
            "{what}: {key:?} is {value}, want {:?} (clock {before}..{after})",
            want[key]
        );
    }
}

fn wall_clock() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}

/// Every panel of the committed dashboards.
fn dashboard_panels() -> Vec<Value> {
    let mut out = Vec::new();
    for file in DASHBOARDS {
        let text =
            std::fs::read_to_string(repo_path(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let dashboard: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        out.extend(
            dashboard["panels"]
                .as_array()
                .expect("panels")
                .iter()
                .cloned(),
        );
    }
    out
}

/// Every (panel title, query id, expr) of the committed dashboards.
fn panel_queries() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for panel in dashboard_panels() {
        for target in panel["targets"].as_array().expect("targets") {
            out.push((
                panel["title"].as_str().expect("title").to_string(),
                target["refId"].as_str().expect("refId").to_string(),
                target["expr"].as_str().expect("expr").to_string(),
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_query_returns_what_the_panel_must_show_on_both_examples() {
    let buckets = repo_path("examples/buckets");
    let start = |name: &str| {
        Serve::start(&[
            OsStr::new("--snapshot"),
            example(name).as_os_str(),
            OsStr::new("--now"),
            OsStr::new(NOW),
            // The probe and scan panels read backupscope's own look at the example buckets.
            OsStr::new("--vault-root"),
            buckets.as_os_str(),
            OsStr::new("--probe-interval"),
            OsStr::new("1s"),
            OsStr::new("--scan-interval"),
            OsStr::new("1s"),
        ])
    };
    let ack = start("ack-cluster");
    let velero = start("velero-cluster");
    let target = |job: &str, serve: &Serve| ScrapeTarget {
        job: job.to_owned(),
        address: serve.address().to_owned(),
        metrics_path: "/metrics".to_owned(),
        settings: String::new(),
    };
    let prometheus = Prometheus::start_labelled(
        PrometheusOptions {
            targets: vec![target("ack", &ack), target("velero", &velero)],
            scrape_interval: Duration::from_secs(1),
            ..Default::default()
        },
        &[("ack", CLUSTER, ACK_CLUSTER)],
    )
    .await;
    prometheus.wait_up("ack", WAIT, &ack.stderr()).await;
    prometheus.wait_up("velero", WAIT, &velero.stderr()).await;
    // Probes and scans start with serve; wait until Prometheus has scraped every vault's.
    let deadline = std::time::Instant::now() + WAIT;
    for family in [
        "backupcenter_backuplocation_probe_success",
        "backupcenter_backuplocation_scan_success",
    ] {
        while prometheus.query(family).await.len() < 7 {
            assert!(
                std::time::Instant::now() < deadline,
                "no {family} for all 7 vaults after {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    let checks = checks();
    let queries = panel_queries();
    let mut used = BTreeSet::new();
    let mut evaluated = 0;
    for (title, ref_id, expr) in &queries {
        let check = checks
            .get(&(title.as_str(), ref_id.as_str()))
            .unwrap_or_else(|| panic!("no expectation for panel {title:?} query {ref_id}: {expr}"));
        used.insert((title.as_str(), ref_id.as_str()));
        for (i, scenario) in SCENARIOS.iter().enumerate() {
            let Some(want) = expected(check, expr, scenario) else {
                continue;
            };
            let promql = substitute(expr, scenario);
            let before = wall_clock();
            let result = prometheus.query(&promql).await;
            let after = wall_clock();
            let what = format!("{title} [{ref_id}] scenario {i}: {promql}");
            assert_matches(&what, check, &result, &want, (before, after));
            evaluated += 1;
        }
    }
    let stale: Vec<_> = checks.keys().filter(|k| !used.contains(*k)).collect();
    assert!(
        stale.is_empty(),
        "expectations for queries the dashboards no longer have: {stale:?}"
    );
    assert_eq!(queries.len(), checks.len());
    // Four scenarios per query, less the ones a vault filter cannot be predicted for.
    assert!(evaluated >= queries.len() * 3, "{evaluated} evaluations");

    // The tables as Grafana shows them: the same results through the panels' transformations.
    for (scenario, wants) in [
        (&SCENARIOS[0], ack_tables()),
        (&SCENARIOS[1], velero_tables()),
    ] {
        let tables = transformed_tables(&prometheus, scenario).await;
        assert_eq!(
            tables.keys().collect::<BTreeSet<_>>(),
            wants.iter().map(|w| &w.panel).collect::<BTreeSet<_>>(),
            "panels with transformations"
        );
        for want in &wants {
            assert_table(want, &tables[&want.panel]);
        }
    }
}

/// What a table panel shows on one example: its columns, how many rows, and one row's cells
/// (the row whose first cell is `spot[0]`'s value); a `null` cell is empty.
struct TableWant {
    panel: String,
    columns: Vec<&'static str>,
    rows: usize,
    spot: Vec<(&'static str, Value)>,
}

fn table_want(
    panel: &str,
    columns: &[&'static str],
    rows: usize,
    spot: &[(&'static str, Value)],
) -> TableWant {
    TableWant {
        panel: panel.to_string(),
        columns: columns.to_vec(),
        rows,
        spot: spot.to_vec(),
    }
}

fn s(text: &str) -> Value {
    Value::from(text)
}

fn n(number: f64) -> Value {
    Value::from(number)
}

/// The columns of "Bucket probe and scan" (the Velero example has no Cluster). Every provider
/// code is empty on file:// buckets, so Grafana shows no Code column.
const PROBE_COLUMNS: &[&str] = &[
    "Backuplocation",
    "Probe",
    "Reason",
    "Probe duration",
    "Scan",
    "Backups in bucket",
    "Namespace",
    "Cluster",
];

fn ack_tables() -> Vec<TableWant> {
    vec![
        table_want(
            "Bucket probe and scan",
            PROBE_COLUMNS,
            4,
            &[
                ("Backuplocation", s("audit-hz-vault")),
                ("Probe", n(0.)),
                ("Reason", s("invalid_layout")),
                ("Scan", n(1.)),
                ("Backups in bucket", n(0.)),
                ("Namespace", s("csdr")),
                ("Cluster", s(ACK_CLUSTER)),
            ],
        ),
        table_want(
            "Backuplocation Detail",
            &[
                "Backuplocation",
                "OSS Bucket",
                "Region",
                "NetworkPolicy",
                "Phase",
                "Last validated",
                "Namespace",
                "Cluster",
            ],
            4,
            &[
                ("Backuplocation", s("audit-hz-vault")),
                ("OSS Bucket", s("cnfs-oss-audit-archive-hz")),
                ("Region", s("cn-hangzhou")),
                ("NetworkPolicy", s("internal")),
                ("Phase", s("InProgress")),
                ("Last validated", Value::Null),
                ("Namespace", s("csdr")),
                ("Cluster", s(ACK_CLUSTER)),
            ],
        ),
        table_want(
            "Backup Overview",
            &[
                "Backuplocation",
                "Completed",
                "PartiallyFailed",
                "Failed",
                "InProgress",
                "Unknown",
            ],
            4,
            &[
                ("Backuplocation", s("prod-hz-vault")),
                ("Completed", n(17.)),
                ("PartiallyFailed", n(2.)),
                ("Failed", n(1.)),
                ("InProgress", n(1.)),
                ("Unknown", n(0.)),
            ],
        ),
        table_want(
            "Failed Backup Detail",
            &[
                "Backup",
                "Backuplocation",
                "BackupType",
                "DataType",
                "FromSchedule",
                "Phase",
                "Reason",
                "Finished",
                "Namespace",
                "Cluster",
            ],
            8,
            &[
                ("Backup", s("orders-hotfix-1124")),
                ("Backuplocation", s("shared-oss-vault")),
                ("BackupType", s("AppBackup")),
                ("DataType", s("")),
                ("FromSchedule", s("")),
                ("Phase", s("Failed")),
                ("Reason", s("VaultError")),
                ("Finished", n(millis("2026-11-24T15:12:46Z"))),
            ],
        ),
        table_want(
            "Components",
            &[
                "Component",
                "Status",
                "Age",
                "Pods ready",
                "Pods desired",
                "Memory Request",
                "CPU Request",
                "Memory Limit",
                "CPU Limit",
                "Restarts",
                "Last termination",
                "Namespace",
                "Cluster",
            ],
            4,
            &[
                ("Component", s("csdr-velero")),
                ("Status", s("Health")),
                ("Pods ready", n(1.)),
                ("Pods desired", n(1.)),
                ("Memory Request", n(134_217_728.)),
                ("CPU Request", n(0.5)),
                ("Memory Limit", n(2_147_483_648.)),
                ("CPU Limit", n(1.)),
                ("Restarts", n(2.)),
                ("Last termination", s("OOMKilled")),
                ("Namespace", s("csdr")),
            ],
        ),
        table_want(
            "Pods",
            &[
                "Component",
                "Pod",
                "Node",
                "Phase",
                "Restarts",
                "Last termination",
                "Exit code",
                "Namespace",
                "Cluster",
            ],
            6,
            &[
                ("Component", s("csdr-velero")),
                ("Pod", s("csdr-velero-7f9c5d8b6d-8kx2p")),
                ("Node", s("cn-hangzhou.10.0.2.37")),
                ("Phase", s("Running")),
                ("Restarts", n(2.)),
                ("Last termination", s("OOMKilled")),
                ("Exit code", s("137")),
            ],
        ),
        table_want(
            "RPO per schedule",
            &[
                "Schedule",
                "Backuplocation",
                "Cron",
                "Paused",
                "Phase",
                "Since last success",
                "Interval",
                "RPO / interval",
                "Namespace",
                "Cluster",
            ],
            3,
            &[
                ("Schedule", s("orders-frequent")),
                ("Backuplocation", s("shared-oss-vault")),
                ("Cron", s("6h30m")),
                ("Paused", s("false")),
                ("Phase", s("Enabled")),
                ("Interval", n(23400.)),
            ],
        ),
        // No unfinished ACK task comes from a schedule: the label, and so the column, is absent.
        table_want(
            "Unfinished backup tasks",
            &[
                "Backup",
                "Backuplocation",
                "Phase",
                "Running for",
                "Namespace",
                "Cluster",
            ],
            2,
            &[
                ("Backup", s("before-k8s-upgrade-1124")),
                ("Backuplocation", s("prod-hz-vault")),
                ("Phase", s("InProgress")),
            ],
        ),
        table_want(
            "Failed restores",
            &[
                "Restore",
                "Backup",
                "Phase",
                "Reason",
                "Namespace",
                "Cluster",
            ],
            1,
            &[
                ("Restore", s("restore-orders-drill")),
                ("Backup", s("weekly-full-20261122020000")),
                ("Phase", s("Failed")),
                ("Reason", s("RestoreError")),
            ],
        ),
        table_want(
            "Unfinished restores",
            &[
                "Restore",
                "Backup",
                "Phase",
                "Running for",
                "Namespace",
                "Cluster",
            ],
            1,
            &[
                ("Restore", s("restore-payment-verify")),
                ("Backup", s("prod-daily-20261125040100")),
                ("Phase", s("InProgress")),
            ],
        ),
    ]
}

/// The Velero example has no `cluster` label, so no Cluster column, and no network policy.
fn velero_tables() -> Vec<TableWant> {
    vec![
        table_want(
            "Bucket probe and scan",
            &PROBE_COLUMNS[..7],
            3,
            &[
                ("Backuplocation", s("default")),
                ("Probe", n(1.)),
                // The probe succeeds: no error series, an empty cell.
                ("Reason", Value::Null),
                ("Scan", n(1.)),
                ("Backups in bucket", n(20.)),
            ],
        ),
        table_want(
            "Backuplocation Detail",
            &[
                "Backuplocation",
                "OSS Bucket",
                "Region",
                "Phase",
                "Last validated",
                "Namespace",
            ],
            3,
            &[
                ("Backuplocation", s("gcs-archive")),
                ("OSS Bucket", s("acme-velero-archive")),
                ("Region", s("")),
                ("Phase", s("Available")),
            ],
        ),
        table_want(
            "Backup Overview",
            &[
                "Backuplocation",
                "Completed",
                "PartiallyFailed",
                "Failed",
                "InProgress",
                "Unknown",
            ],
            4,
            &[
                ("Backuplocation", s("offsite")),
                ("Completed", n(0.)),
                ("Failed", n(1.)),
            ],
        ),
        table_want(
            "Failed Backup Detail",
            &[
                "Backup",
                "Backuplocation",
                "BackupType",
                "DataType",
                "FromSchedule",
                "Phase",
                "Reason",
                "Finished",
                "Namespace",
            ],
            6,
            &[
                ("Backup", s("keycloak-offsite-1122")),
                ("Backuplocation", s("offsite")),
                ("Phase", s("FailedValidation")),
                ("Reason", s("VaultError")),
                ("Finished", Value::Null),
            ],
        ),
        table_want(
            "Components",
            &[
                "Component",
                "Status",
                "Age",
                "Pods ready",
                "Pods desired",
                "Memory Request",
                "CPU Request",
                "Memory Limit",
                "CPU Limit",
                "Restarts",
                "Last termination",
                "Namespace",
            ],
            2,
            &[
                ("Component", s("node-agent")),
                ("Status", s("Health")),
                ("Pods ready", n(2.)),
                ("Pods desired", n(2.)),
                ("Memory Request", Value::Null),
                ("CPU Limit", Value::Null),
                ("Restarts", n(1.)),
                ("Last termination", s("Unknown")),
            ],
        ),
        table_want(
            "Pods",
            &[
                "Component",
                "Pod",
                "Node",
                "Phase",
                "Restarts",
                "Last termination",
                "Exit code",
                "Namespace",
            ],
            3,
            &[
                ("Component", s("velero")),
                ("Pod", s("velero-68b9c7d5f4-tx4kz")),
                ("Restarts", n(1.)),
                ("Last termination", s("OOMKilled")),
                ("Exit code", s("137")),
            ],
        ),
        table_want(
            "RPO per schedule",
            &[
                "Schedule",
                "Backuplocation",
                "Cron",
                "Paused",
                "Phase",
                "Since last success",
                "Interval",
                "RPO / interval",
                "Namespace",
            ],
            3,
            &[
                ("Schedule", s("weekly-offsite")),
                ("Backuplocation", s("offsite-s3")),
                ("Paused", s("true")),
                ("Interval", n(604_800.)),
            ],
        ),
        table_want(
            "Unfinished backup tasks",
            &[
                "Backup",
                "Backuplocation",
                "Phase",
                "FromSchedule",
                "Running for",
                "Namespace",
            ],
            3,
            &[
                ("Backup", s("every-6h-apps-20261125062431")),
                ("Phase", s("InProgress")),
                ("FromSchedule", s("every-6h-apps")),
            ],
        ),
        table_want(
            "Failed restores",
            &["Restore", "Backup", "Phase", "Reason", "Namespace"],
            2,
            &[
                ("Restore", s("gitea-rollback-1124")),
                ("Reason", s("PartialFailure")),
            ],
        ),
        // Nothing to show: Grafana's "No data".
        table_want("Unfinished restores", &[], 0, &[]),
    ]
}

/// One table: its column titles and rows.
#[derive(Debug)]
struct Shown {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

fn assert_table(want: &TableWant, tables: &[Shown]) {
    let panel = &want.panel;
    if want.rows == 0 {
        assert!(
            tables.iter().all(|t| t.rows.is_empty()),
            "{panel}: {tables:?}"
        );
        return;
    }
    assert_eq!(tables.len(), 1, "{panel}: one table, got {tables:#?}");
    let table = &tables[0];
    assert_eq!(table.columns, want.columns, "{panel}: columns");
    assert_eq!(
        table.rows.len(),
        want.rows,
        "{panel}: rows {:#?}",
        table.rows
    );
    let (first, value) = &want.spot[0];
    let first = table
        .columns
        .iter()
        .position(|c| c == first)
        .expect("spot column");
    let row = table
        .rows
        .iter()
        .find(|r| &r[first] == value)
        .unwrap_or_else(|| panic!("{panel}: no row with {value}: {:#?}", table.rows));
    for (column, value) in &want.spot {
        let i = table
            .columns
            .iter()
            .position(|c| c == column)
            .expect("spot column");
        // Grafana fills a label a series lacks with "", a value a query lacks with nothing.
        let same = match (row[i].as_f64(), value.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            _ => &row[i] == value,
        };
        assert!(
            same,
            "{panel}: {column} is {}, want {value} in {row:?}",
            row[i]
        );
    }
}

/// Every panel with transformations, evaluated under `scenario` and put through Grafana's
/// transformations: panel title → the tables it shows.
async fn transformed_tables(
    prometheus: &Prometheus,
    scenario: &Scenario,
) -> BTreeMap<String, Vec<Shown>> {
    let mut request = Vec::new();
    for panel in dashboard_panels() {
        let transformations = panel["transformations"].clone();
        if transformations.as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        let mut results = Vec::new();
        for target in panel["targets"].as_array().expect("targets") {
            let expr = substitute(target["expr"].as_str().expect("expr"), scenario);
            results.push((
                target["refId"].as_str().expect("refId").to_string(),
                prometheus.query(&expr).await,
            ));
        }
        request.push(serde_json::json!({
            "key": panel["title"],
            "transformations": transformations,
            "frames": table_frames(&results, wall_clock() * 1000.0),
        }));
    }
    let dir = support::tempdir::TempDir::new("transform");
    let file = dir.write(
        "request.json",
        serde_json::to_vec(&request).expect("request JSON"),
    );
    let out = std::process::Command::new(support::debian_binary("NODE", "/usr/bin/node", "nodejs"))
        .arg(repo_path("tests/js/transform-panels.js"))
        .arg(&file)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "transform-panels.js failed (run scripts/install-test-deps.sh?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value =
        serde_json::from_slice(&out.stdout).expect("transform-panels.js prints JSON");
    let mut tables = BTreeMap::new();
    for panel in answer.as_array().expect("an array") {
        let shown = panel["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .map(|t| Shown {
                columns: t["columns"]
                    .as_array()
                    .expect("columns")
                    .iter()
                    .map(|c| c.as_str().expect("a title").to_string())
                    .collect(),
                rows: t["rows"]
                    .as_array()
                    .expect("rows")
                    .iter()
                    .map(|r| r.as_array().expect("a row").clone())
                    .collect(),
            })
            .collect();
        tables.insert(panel["key"].as_str().expect("key").to_string(), shown);
    }
    tables
}

/// The frames Grafana's Prometheus data source makes of instant queries with `format: table`:
/// per query one frame of Time, one string field per label (each series' labels in name
/// order, first seen first; "" where a series lacks one) and the value, named `Value` when one
/// query returned data and `Value #<refId>` when several did.
fn table_frames(results: &[(String, Vec<Sample>)], time_ms: f64) -> Vec<Value> {
    let with_data: Vec<&(String, Vec<Sample>)> =
        results.iter().filter(|(_, r)| !r.is_empty()).collect();
    with_data
        .iter()
        .map(|(ref_id, samples)| {
            let mut labels: Vec<&str> = Vec::new();
            for (series, _) in samples {
                for name in series.keys() {
                    if !labels.contains(&name.as_str()) {
                        labels.push(name);
                    }
                }
            }
            let mut fields = vec![serde_json::json!({
                "name": "Time", "type": "time", "values": vec![time_ms; samples.len()]
            })];
            for name in labels {
                let values: Vec<&str> = samples
                    .iter()
                    .map(|(series, _)| series.get(name).map_or("", String::as_str))
                    .collect();
                fields
                    .push(serde_json::json!({ "name": name, "type": "string", "values": values }));
            }
            let value_name = if with_data.len() > 1 {
                format!("Value #{ref_id}")
            } else {
                "Value".to_string()
            };
            let values: Vec<f64> = samples.iter().map(|(_, v)| *v).collect();
            fields.push(
                serde_json::json!({ "name": value_name, "type": "number", "values": values }),
            );
            serde_json::json!({ "refId": ref_id, "fields": fields })
        })
        .collect()
}
