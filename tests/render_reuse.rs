//! A scrape that copies the units which did not change (src/metrics/units.rs) must be byte for
//! byte the scrape rendered from nothing: random changes of every kind a view reads (tasks of
//! both engines, ACK tasks' velero twins, Warning events and PodVolumeBackups about tasks,
//! vaults appearing, changing and going, schedules with valid and invalid crons, removals),
//! and after each batch the reusing render is compared with a cold one, in both formats.

#[path = "support/builders.rs"]
mod builders;
#[path = "support/lcg.rs"]
mod lcg;

use backupscope::center::BackupCenter;
use backupscope::inventory::Inventory;
use backupscope::metrics::collector::{CollectOptions, Collector, Reused};
use backupscope::metrics::exposition::{Format, TextEncoder};
use backupscope::metrics::units::Units;
use backupscope::model::{Engine, RecordKey, RecordKind};
use builders::*;
use lcg::Lcg;
use serde_json::{Value, json};

const PHASES: &[&str] = &[
    "Completed",
    "Completed",
    "Failed",
    "PartiallyFailed",
    "InProgress",
    "FailedValidation",
    "New",
    "Weird",
];
const MESSAGES: &[&str] = &[
    "",
    "",
    "VaultError: backup vault is unavailable",
    "rpc error: code = Unknown desc = context deadline exceeded",
    "velero backup process timeout",
];

fn at(rng: &mut Lcg) -> String {
    format!(
        "2026-11-{:02}T{:02}:{:02}:00Z",
        1 + rng.next(24),
        rng.next(24),
        rng.next(60)
    )
}

fn apply(inv: &mut Inventory, obj: Value) {
    if let Ok(backupscope::dialect::Mapped::Record(r)) = backupscope::dialect::map(&obj) {
        inv.apply(*r);
    }
}

fn remove(inv: &mut Inventory, kind: RecordKind, engine: Engine, namespace: &str, name: &str) {
    inv.remove(&RecordKey {
        kind,
        engine: Some(engine),
        namespace: namespace.into(),
        name: name.into(),
    });
}

/// One random change.
fn change(inv: &mut Inventory, rng: &mut Lcg) {
    let phase = rng.pick(PHASES);
    let message = rng.pick(MESSAGES);
    let when = at(rng);
    match rng.next(12) {
        // Velero tasks, scheduled or manual, on vaults that exist or not.
        0..=3 => {
            let vault = format!("v{}", rng.next(5));
            let mut b = if rng.next(3) == 0 {
                mk_backup(
                    "velero",
                    &format!("b{}", rng.next(40)),
                    &vault,
                    phase,
                    &when,
                )
            } else {
                let mut b = mk_scheduled_backup("velero", "s0", &vault, phase, &when);
                b["metadata"]["name"] = json!(format!("s{}-{}", rng.next(3), rng.next(30)));
                b["metadata"]["labels"]["velero.io/schedule-name"] =
                    json!(format!("s{}", rng.next(3)));
                b
            };
            if !message.is_empty() {
                b["status"]["failureReason"] = json!(message);
            }
            apply(inv, b);
        }
        // ACK tasks and their velero twins in csdr.
        4 | 5 => {
            let name = format!("k{}", rng.next(15));
            let vault = format!("a{}", rng.next(4));
            if rng.next(2) == 0 {
                let mut b = mk_ack_backup(&name, &vault, phase, &when, message);
                if rng.next(2) == 0 {
                    b["metadata"]["labels"]["csdr/schedule-name"] = json!("plan-1");
                }
                apply(inv, b);
            } else {
                let mut twin = mk_backup("csdr", &name, &vault, phase, &when);
                twin["status"]["failureReason"] = json!(rng.pick(MESSAGES));
                twin["status"]["csiVolumeSnapshotsAttempted"] = json!(rng.next(3));
                apply(inv, twin);
            }
        }
        // Warning events about tasks (either engine's namespace).
        6 => {
            let (ns, name) = if rng.next(2) == 0 {
                ("velero", format!("b{}", rng.next(40)))
            } else {
                ("csdr", format!("k{}", rng.next(15)))
            };
            let mut e = mk_event(ns, "Backup", &name, "BackupFailed", message, &when);
            e["metadata"]["name"] = json!(format!("{name}.{}", rng.next(50)));
            apply(inv, e);
        }
        // PodVolumeBackups of tasks.
        7 => {
            let backup = format!("b{}", rng.next(40));
            apply(
                inv,
                json!({"apiVersion": "velero.io/v1", "kind": "PodVolumeBackup",
                    "metadata": {"name": format!("{backup}-pvb{}", rng.next(2)), "namespace": "velero",
                                 "labels": {"velero.io/backup-name": backup}},
                    "status": {"phase": "Completed"}}),
            );
        }
        // Vaults of both engines: new, changed (phase, validation time) or the same again.
        8 => {
            let name = format!("v{}", rng.next(4));
            let phase = ["Available", "Unavailable", "Available"][rng.index(3)];
            let mut v = mk_bsl("velero", &name, "bucket", Some(phase));
            v["status"]["lastValidationTime"] = json!(when);
            apply(inv, v);
            let name = format!("a{}", rng.next(3));
            apply(
                inv,
                mk_ack_vault(
                    &name,
                    "oss-bucket",
                    "cn-hangzhou",
                    "internal",
                    Some(phase),
                    message,
                ),
            );
        }
        // Schedules, some with crons Velero rejects.
        9 => {
            let name = format!("s{}", rng.next(4));
            let cron = ["0 2 * * *", "@every 6h", "0 2 * *", "not a cron"][rng.index(4)];
            let phase = [Some("Enabled"), None, Some("FailedValidation")][rng.index(3)];
            apply(
                inv,
                mk_schedule("velero", &name, cron, &format!("v{}", rng.next(5)), phase),
            );
            apply(inv, mk_ack_schedule("plan-1", cron, "a1", rng.next(2) == 0));
        }
        // Removals of every kind.
        _ => {
            let (kind, engine, ns, name) = match rng.next(6) {
                0 => (
                    RecordKind::Backup,
                    Engine::Velero,
                    "velero",
                    format!("b{}", rng.next(40)),
                ),
                1 => (
                    RecordKind::Backup,
                    Engine::Velero,
                    "csdr",
                    format!("k{}", rng.next(15)),
                ),
                2 => (
                    RecordKind::Backup,
                    Engine::Ack,
                    "csdr",
                    format!("k{}", rng.next(15)),
                ),
                3 => (
                    RecordKind::Vault,
                    Engine::Velero,
                    "velero",
                    format!("v{}", rng.next(4)),
                ),
                4 => (
                    RecordKind::Event,
                    Engine::Velero,
                    "velero",
                    format!("b{}.{}", rng.next(40), rng.next(50)),
                ),
                _ => (
                    RecordKind::Schedule,
                    Engine::Velero,
                    "velero",
                    format!("s{}", rng.next(4)),
                ),
            };
            remove(inv, kind, engine, ns, &name);
        }
    }
}

fn cold(collector: &Collector, center: &BackupCenter, format: Format) -> Vec<u8> {
    let mut body = Vec::new();
    collector.collect_center(center, &mut TextEncoder::new(&mut body, format));
    body
}

/// The previous rendering of one format, as `serve` keeps it.
#[derive(Default)]
struct Previous {
    body: Vec<u8>,
    units: Units,
}

fn reusing(
    collector: &Collector,
    center: &BackupCenter,
    format: Format,
    previous: &mut Previous,
) -> Reused {
    let mut body = Vec::new();
    let (_, units, reused) = collector.collect_center_reusing(
        center,
        &mut TextEncoder::new(&mut body, format),
        std::mem::take(&mut previous.units),
        &previous.body,
    );
    *previous = Previous { body, units };
    reused
}

#[test]
fn reusing_render_equals_cold_render_after_random_changes() {
    let now = NOW.parse().expect("timestamp");
    let collector = Collector::new(CollectOptions::default());
    let mut rng = Lcg(11);
    let mut inv = Inventory::new();
    let mut previous = [Previous::default(), Previous::default()];
    let (mut copied, mut rendered, mut spliced) = (0, 0, 0);
    for step in 0..400 {
        for _ in 0..=rng.next(4) {
            change(&mut inv, &mut rng);
        }
        let center = BackupCenter::new(&inv, now);
        for (format, previous) in [Format::Prometheus004, Format::OpenMetrics100]
            .into_iter()
            .zip(&mut previous)
        {
            let reused = reusing(&collector, &center, format, previous);
            copied += reused.copied;
            rendered += reused.rendered;
            spliced += reused.spliced;
            let want = cold(&collector, &center, format);
            if previous.body != want {
                let got = String::from_utf8_lossy(&previous.body);
                let want = String::from_utf8_lossy(&want);
                let diff: Vec<_> = got
                    .lines()
                    .zip(want.lines())
                    .filter(|(g, w)| g != w)
                    .take(5)
                    .collect();
                panic!("step {step}, {format:?}: reusing render differs from cold: {diff:#?}");
            }
        }
    }
    // Both paths ran, many times: a test where nothing was ever copied would prove nothing.
    assert!(copied > 10_000, "units copied: {copied}");
    assert!(rendered > 1_000, "units rendered: {rendered}");
    // And families made of only the changed flagged tasks and the previous rendering.
    assert!(spliced > 300, "families spliced: {spliced}");
}

#[test]
fn a_disabled_family_stays_out_of_a_reusing_render() {
    let now = NOW.parse().expect("timestamp");
    let collector = Collector::new(CollectOptions {
        disabled: ["backupcenter_backup_failed_info".to_string()].into(),
    });
    let mut rng = Lcg(5);
    let mut inv = Inventory::new();
    let mut previous = Previous::default();
    for _ in 0..60 {
        change(&mut inv, &mut rng);
        let center = BackupCenter::new(&inv, now);
        reusing(&collector, &center, Format::Prometheus004, &mut previous);
        assert_eq!(
            previous.body,
            cold(&collector, &center, Format::Prometheus004)
        );
    }
    let text = String::from_utf8_lossy(&previous.body);
    assert!(!text.contains("backupcenter_backup_failed_info"));
    assert!(text.contains("backupcenter_backups{"));
}

type Change = Box<dyn Fn(&mut Inventory)>;

/// Each input a flagged task's series read, changed alone after a rendering: the reusing
/// render must notice every one.
#[test]
fn every_input_of_a_failed_task_is_noticed() {
    let now = NOW.parse().expect("timestamp");
    let collector = Collector::new(CollectOptions::default());
    let when = "2026-11-25T08:00:00Z";
    let mut inv = Inventory::new();
    apply(
        &mut inv,
        mk_bsl("velero", "v1", "bucket", Some("Available")),
    );
    apply(&mut inv, mk_backup("velero", "b1", "v1", "Failed", when));
    apply(&mut inv, mk_ack_backup("k1", "a1", "Failed", when, ""));
    let changes: Vec<(&str, Change)> = vec![
        (
            "a Warning event about the task",
            Box::new(|inv: &mut Inventory| {
                apply(
                    inv,
                    mk_event(
                        "velero",
                        "Backup",
                        "b1",
                        "BackupFailed",
                        "VaultError: gone",
                        when,
                    ),
                );
            }),
        ),
        (
            "a PodVolumeBackup of the task",
            Box::new(|inv: &mut Inventory| {
                apply(
                    inv,
                    json!({"apiVersion": "velero.io/v1", "kind": "PodVolumeBackup",
                "metadata": {"name": "b1-x", "namespace": "velero",
                             "labels": {"velero.io/backup-name": "b1"}}}),
                );
            }),
        ),
        (
            "the ACK task's velero twin",
            Box::new(|inv: &mut Inventory| {
                let mut twin = mk_backup("csdr", "k1", "a1", "Failed", when);
                twin["status"]["failureReason"] = json!("velero backup process timeout");
                apply(inv, twin);
            }),
        ),
        (
            "the task's vault going away",
            Box::new(|inv: &mut Inventory| {
                remove(inv, RecordKind::Vault, Engine::Velero, "velero", "v1");
            }),
        ),
    ];
    let mut previous = Previous::default();
    for (what, change) in changes {
        let before = {
            let center = BackupCenter::new(&inv, now);
            reusing(&collector, &center, Format::Prometheus004, &mut previous);
            String::from_utf8_lossy(&previous.body).into_owned()
        };
        change(&mut inv);
        let center = BackupCenter::new(&inv, now);
        reusing(&collector, &center, Format::Prometheus004, &mut previous);
        let want =
            String::from_utf8_lossy(&cold(&collector, &center, Format::Prometheus004)).into_owned();
        assert!(
            before != want,
            "{what} changes nothing: the case proves nothing"
        );
        assert!(
            String::from_utf8_lossy(&previous.body) == want,
            "after {what}, the reusing render differs from a cold one"
        );
    }
}

#[test]
fn one_task_change_splices_every_family_it_touches() {
    let now = NOW.parse().expect("timestamp");
    let collector = Collector::new(CollectOptions::default());
    let mut rng = Lcg(5);
    let mut inv = Inventory::new();
    for _ in 0..300 {
        change(&mut inv, &mut rng);
    }
    let mut previous = Previous::default();
    reusing(
        &collector,
        &BackupCenter::new(&inv, now),
        Format::Prometheus004,
        &mut previous,
    );
    // A new failed run of a schedule: its vault's counts, the three flagged-task families
    // and the schedule's two run families change, each by one unit.
    let mut b = mk_scheduled_backup("velero", "s1", "v1", "Failed", "2026-11-24T23:00:00Z");
    b["metadata"]["name"] = json!("s1-newest");
    apply(&mut inv, b);
    let center = BackupCenter::new(&inv, now);
    let reused = reusing(&collector, &center, Format::Prometheus004, &mut previous);
    assert_eq!(
        previous.body,
        cold(&collector, &center, Format::Prometheus004)
    );
    assert_eq!(
        reused.spliced, 6,
        "counts, failed info, completion, start, last success, last phase: {reused:?}"
    );
    assert!(
        reused.rendered <= 4,
        "only the changed units render: {reused:?}"
    );
}
