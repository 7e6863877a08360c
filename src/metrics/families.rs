//! Every metric family backupscope exports, declared once: name, type, help, labels and their
//! bounded values. Names are the API (DESIGN.md §2): add families and labels, rename none.
//! docs/metrics.md, the alert rules and the dashboards are generated from these declarations.

use super::contract::{Declared, Describe, Label, Scope, Section};
use super::sink::Family;
use crate::model::{
    BackupType, ComponentStatus, DataType, Outcome, PodPhase, ReasonClass, SchedulePhase,
    TaskPhase, VaultPhase,
};

/// Values of the `engine` label.
pub const ENGINES: &[&str] = &["ack", "velero"];
const BOOLEANS: &[&str] = &["true", "false"];

// The labels most families share; a family that means something more specific by one of them
// says so with `.meaning(..)`.
pub const NAMESPACE: Label = Label::open("namespace", "namespace of the object");
pub const BACKUPLOCATION: Label = Label::open(
    "backuplocation",
    "vault name (ACK BackupLocation, Velero BackupStorageLocation)",
);
pub const BACKUPLOCATION_EXISTS: Label = Label::bounded(
    "backuplocation_exists",
    "`false` when the task names a vault that does not exist in its namespace (or none)",
    BOOLEANS,
);
pub const BACKUP: Label = Label::open("backup", "backup task name");
pub const SCHEDULE: Label = Label::open(
    "schedule",
    "schedule name; `\"\"` stands for the manual backups of a namespace",
);
pub const FROM_SCHEDULE: Label = Label::open(
    "from_schedule",
    "schedule that created the task; empty for a manual backup",
);
pub const ENGINE: Label = Label::bounded("engine", "backup system that owns the object", ENGINES);
pub const COMPONENT: Label = Label::open(
    "component",
    "working component (migrate-controller, csdr-controller, csdr-velero, hbr-client, velero, node-agent)",
);
pub const POD: Label = Label::open("pod", "pod name");
pub const CONTAINER: Label = Label::open("container", "container name");
pub const REASON_CLASS: Label = Label::bounded(
    "reason",
    "failure reason class derived from the controller's message (never the message itself)",
    ReasonClass::NAMES,
);
pub const TASK_PHASE: Label = Label::bounded(
    "phase",
    "the task's phase as the engine wrote it (undocumented phases read `Unknown`)",
    TaskPhase::NAMES,
);
pub const OUTCOME: Label = Label::bounded(
    "phase",
    "outcome group: every in-flight phase is `InProgress`, FailedValidation is `Failed`, Deleting and undocumented phases are `Unknown`",
    Outcome::NAMES,
);

const fn gauge(name: &'static str, help: &'static str) -> Family {
    Family::gauge(name, help)
}

// Backup Locations dashboard (vaults).
pub const BACKUPLOCATION_INFO: Declared<8> = Declared::new(
    Family::info(
        "backupcenter_backuplocation_info",
        "Backup vault (ACK BackupLocation, Velero BackupStorageLocation) and where it stores data.",
    ),
    Section::BackupLocations,
    Scope::Core,
    [
        NAMESPACE,
        BACKUPLOCATION,
        Label::open(
            "provider",
            "object storage plugin (alibabacloud, aws, velero.io/aws, …)",
        ),
        Label::open("bucket", "bucket name"),
        Label::open("prefix", "path prefix inside the bucket"),
        Label::open("region", "`spec.config.region`"),
        Label::open(
            "network_policy",
            "ACK `spec.config.network`, lower-cased (`internal`, `public`); empty for Velero",
        ),
        ENGINE,
    ],
);
pub const BACKUPLOCATION_PHASE: Declared<3> = Declared::new(
    gauge(
        "backupcenter_backuplocation_phase",
        "Phase of the backup vault; one series per phase, the current one is 1.",
    ),
    Section::BackupLocations,
    Scope::Core,
    [
        NAMESPACE,
        BACKUPLOCATION,
        Label::bounded(
            "phase",
            "vault phase; `Unknown` also for a vault that was never validated (no status.phase)",
            VaultPhase::NAMES,
        ),
    ],
);
pub const BACKUPLOCATION_LAST_VALIDATION: Declared<2> = Declared::new(
    gauge(
        "backupcenter_backuplocation_last_validation_timestamp_seconds",
        "When the backup center last checked the vault's bucket (Unix seconds).",
    ),
    Section::BackupLocations,
    Scope::Core,
    [NAMESPACE, BACKUPLOCATION],
);

// Backup Operation Status dashboard (tasks).
pub const BACKUPS: Declared<4> = Declared::new(
    gauge(
        "backupcenter_backups",
        "Backup tasks per vault by outcome (Completed, PartiallyFailed, Failed, InProgress, Unknown).",
    ),
    Section::BackupOperations,
    Scope::Core,
    [NAMESPACE, BACKUPLOCATION, BACKUPLOCATION_EXISTS, OUTCOME],
);
pub const BACKUP_FAILED_INFO: Declared<10> = Declared::new(
    Family::info(
        "backupcenter_backup_failed_info",
        "A failed or partially failed backup task (Failed Backup Detail); reason is a bounded class.",
    ),
    Section::BackupOperations,
    Scope::PerObject,
    [
        NAMESPACE,
        BACKUP,
        BACKUPLOCATION,
        BACKUPLOCATION_EXISTS,
        Label::bounded(
            "backup_type",
            "what the task copies: applications only, or applications and volume data",
            BackupType::NAMES,
        ),
        Label::bounded(
            "data_type",
            "where volume data went (`\"\"` for an AppBackup); docs/model.md gives the rules",
            DataType::NAMES,
        ),
        FROM_SCHEDULE,
        TASK_PHASE.meaning("the failed phase: Failed, PartiallyFailed or FailedValidation"),
        REASON_CLASS,
        ENGINE,
    ],
);
pub const BACKUP_COMPLETION: Declared<3> = Declared::new(
    gauge(
        "backupcenter_backup_completion_timestamp_seconds",
        "When a failed backup task ended (Unix seconds).",
    ),
    Section::BackupOperations,
    Scope::PerObject,
    [NAMESPACE, BACKUP, BACKUPLOCATION],
);
pub const BACKUP_START: Declared<5> = Declared::new(
    gauge(
        "backupcenter_backup_start_timestamp_seconds",
        "When a backup task that has not finished started, else was created (Unix seconds).",
    ),
    Section::BackupOperations,
    Scope::PerObject,
    [
        NAMESPACE,
        BACKUP,
        BACKUPLOCATION,
        TASK_PHASE.meaning("the unfinished phase (New, Queued, InProgress, Finalizing, …)"),
        FROM_SCHEDULE,
    ],
);

// Schedules.
pub const SCHEDULE_INFO: Declared<6> = Declared::new(
    Family::info(
        "backupcenter_schedule_info",
        "A backup schedule (ACK BackupSchedule, Velero Schedule).",
    ),
    Section::Schedules,
    Scope::Core,
    [
        NAMESPACE,
        SCHEDULE.meaning("schedule name"),
        BACKUPLOCATION.meaning("vault the schedule's template writes to"),
        Label::open(
            "cron",
            "the schedule as written: 5-field cron, descriptor or interval",
        ),
        Label::bounded("paused", "`spec.paused`", BOOLEANS),
        ENGINE,
    ],
);
pub const SCHEDULE_PHASE: Declared<3> = Declared::new(
    gauge(
        "backupcenter_schedule_phase",
        "Phase of the schedule; one series per phase, the current one is 1. FailedValidation never runs.",
    ),
    Section::Schedules,
    Scope::Core,
    [
        NAMESPACE,
        SCHEDULE.meaning("schedule name"),
        Label::bounded(
            "phase",
            "schedule phase; FailedValidation also when the engine would reject the cron although no status says so yet",
            SchedulePhase::NAMES,
        ),
    ],
);
pub const SCHEDULE_INTERVAL: Declared<2> = Declared::new(
    gauge(
        "backupcenter_schedule_interval_seconds",
        "Longest expected gap between two runs of the schedule, from its cron or interval; absent when it cannot run.",
    ),
    Section::Schedules,
    Scope::Core,
    [NAMESPACE, SCHEDULE.meaning("schedule name")],
);
pub const SCHEDULE_LAST_SUCCESS: Declared<2> = Declared::new(
    gauge(
        "backupcenter_schedule_last_success_timestamp_seconds",
        "Completion time of the schedule's newest Completed backup (Unix seconds); schedule=\"\" is manual backups.",
    ),
    Section::Schedules,
    Scope::Core,
    [NAMESPACE, SCHEDULE],
);
pub const SCHEDULE_LAST_BACKUP_PHASE: Declared<3> = Declared::new(
    gauge(
        "backupcenter_schedule_last_backup_phase",
        "Outcome of the schedule's newest backup; one series per outcome, the current one is 1.",
    ),
    Section::Schedules,
    Scope::PerObject,
    [
        NAMESPACE,
        SCHEDULE,
        OUTCOME.meaning("outcome group of the newest task"),
    ],
);

// Restores.
pub const RESTORES: Declared<2> = Declared::new(
    gauge("backupcenter_restores", "Restore tasks by outcome."),
    Section::Restores,
    Scope::Core,
    [NAMESPACE, OUTCOME],
);
pub const RESTORE_FAILED_INFO: Declared<5> = Declared::new(
    Family::info(
        "backupcenter_restore_failed_info",
        "A failed or partially failed restore task; reason is a bounded class.",
    ),
    Section::Restores,
    Scope::PerObject,
    [
        NAMESPACE,
        Label::open("restore", "restore task name"),
        BACKUP.meaning("the backup it restores"),
        TASK_PHASE.meaning("the failed phase: Failed, PartiallyFailed or FailedValidation"),
        REASON_CLASS,
    ],
);
pub const RESTORE_START: Declared<4> = Declared::new(
    gauge(
        "backupcenter_restore_start_timestamp_seconds",
        "When a restore task that has not finished started, else was created (Unix seconds).",
    ),
    Section::Restores,
    Scope::PerObject,
    [
        NAMESPACE,
        Label::open("restore", "restore task name"),
        BACKUP.meaning("the backup it restores"),
        TASK_PHASE.meaning("the unfinished phase"),
    ],
);

// Addon Status dashboard (working components).
pub const COMPONENT_STATUS: Declared<3> = Declared::new(
    gauge(
        "backupcenter_component_status",
        "Status of a working component (Health, UnHealth, NotFound); the current one is 1.",
    ),
    Section::AddonStatus,
    Scope::Core,
    [
        NAMESPACE,
        COMPONENT,
        Label::bounded(
            "status",
            "Health: all desired pods ready, none crash-looping",
            ComponentStatus::KNOWN,
        ),
    ],
);
pub const COMPONENT_CREATED: Declared<2> = Declared::new(
    gauge(
        "backupcenter_component_created_timestamp_seconds",
        "When the component's workload (pods only: its oldest pod) was created (Unix seconds); Age = time() - value.",
    ),
    Section::AddonStatus,
    Scope::Core,
    [NAMESPACE, COMPONENT],
);
pub const COMPONENT_REPLICAS: Declared<3> = Declared::new(
    gauge(
        "backupcenter_component_replicas",
        "Desired and ready pods of the component.",
    ),
    Section::AddonStatus,
    Scope::Core,
    [
        NAMESPACE,
        COMPONENT,
        Label::bounded("state", "desired or ready", &["desired", "ready"]),
    ],
);
pub const COMPONENT_POD_INFO: Declared<5> = Declared::new(
    Family::info(
        "backupcenter_component_pod_info",
        "A pod of a working component.",
    ),
    Section::AddonStatus,
    Scope::PerObject,
    [
        NAMESPACE,
        COMPONENT,
        POD,
        Label::open("node", "node the pod runs on"),
        Label::bounded("phase", "the pod's phase", PodPhase::NAMES),
    ],
);
pub const COMPONENT_POD_RESTARTS: Declared<4> = Declared::new(
    Family::counter(
        "backupcenter_component_pod_restarts_total",
        "Container restarts of a component pod, as the kubelet counts them.",
    ),
    Section::AddonStatus,
    Scope::PerObject,
    [NAMESPACE, COMPONENT, POD, CONTAINER],
);
pub const COMPONENT_POD_LAST_TERMINATION: Declared<6> = Declared::new(
    Family::info(
        "backupcenter_component_pod_last_termination_info",
        "How a component container last ended (e.g. OOMKilled, exit code 137).",
    ),
    Section::AddonStatus,
    Scope::PerObject,
    [
        NAMESPACE,
        COMPONENT,
        POD,
        CONTAINER,
        Label::open(
            "reason",
            "the kubelet's termination reason (OOMKilled, Error, Completed, …)",
        ),
        Label::open("exit_code", "the container's exit code (137: killed)"),
    ],
);
const RESOURCE: Label = Label::bounded("resource", "cpu or memory", &["cpu", "memory"]);
const UNIT: Label = Label::bounded(
    "unit",
    "`core` for cpu, `byte` for memory",
    &["core", "byte"],
);
pub const COMPONENT_REQUESTS: Declared<5> = Declared::new(
    gauge(
        "backupcenter_component_resource_requests",
        "Resources a component container requests (cpu in cores, memory in bytes).",
    ),
    Section::AddonStatus,
    Scope::Core,
    [NAMESPACE, COMPONENT, CONTAINER, RESOURCE, UNIT],
);
pub const COMPONENT_LIMITS: Declared<5> = Declared::new(
    gauge(
        "backupcenter_component_resource_limits",
        "Resource limits of a component container (cpu in cores, memory in bytes).",
    ),
    Section::AddonStatus,
    Scope::Core,
    [NAMESPACE, COMPONENT, CONTAINER, RESOURCE, UNIT],
);

// Events.
pub const WARNING_EVENTS: Declared<3> = Declared::new(
    Family::counter(
        "backupcenter_warning_events_total",
        "Warning events observed about the backup center since backupscope started.",
    ),
    Section::Events,
    Scope::PerObject,
    [
        NAMESPACE.meaning("namespace of the event"),
        Label::open(
            "involved_kind",
            "kind of the object the event is about (ApplicationBackup, Backup, Pod, …)",
        ),
        Label::open("reason", "the event's reason as its controller wrote it"),
    ],
);

// backupscope itself.
pub const BUILD_INFO: Declared<1> = Declared::new(
    Family::info("backupscope_build_info", "backupscope build."),
    Section::Own,
    Scope::Own,
    [Label::open("version", "backupscope version")],
);
pub const SOURCE: Label = Label::open(
    "source",
    "`<namespace>/<resource>` of a watched resource, `discovery`, or `snapshot`",
);
pub const SOURCE_UP: Declared<1> = Declared::new(
    gauge(
        "backupscope_source_up",
        "Whether a source (a watched resource, or the snapshot) can be read: 1 yes, 0 no.",
    ),
    Section::Own,
    Scope::Own,
    [SOURCE],
);
pub const OBJECTS: Declared<1> = Declared::new(
    gauge(
        "backupscope_objects",
        "Objects of each resource backupscope holds.",
    ),
    Section::Own,
    Scope::Own,
    [Label::bounded(
        "resource",
        "resource (plural)",
        crate::inventory::RESOURCES,
    )],
);
pub const WATCH_EVENTS: Declared<1> = Declared::new(
    Family::counter(
        "backupscope_watch_events_total",
        "Watch events received per source.",
    ),
    Section::Own,
    Scope::Own,
    [SOURCE],
);
pub const LAST_SCRAPE_DURATION: Declared<0> = Declared::new(
    gauge(
        "backupscope_last_scrape_duration_seconds",
        "How long the previous collection of all metrics took.",
    ),
    Section::Own,
    Scope::Own,
    [],
);
pub const SERIES: Declared<1> = Declared::new(
    gauge(
        "backupscope_series",
        "Series each family exported in this scrape (what a metrics bill counts).",
    ),
    Section::Own,
    Scope::Own,
    [Label::open("family", "metric family name")],
);

// Alert forwarding (issue 8): the backup center's Warning events sent to Alertmanager.
pub const ALERTMANAGER: Label = Label::open(
    "alertmanager",
    "Alertmanager URL, as given to `--alertmanager-url`",
);
pub const ALERTS_SENT: Declared<1> = Declared::new(
    Family::counter(
        "backupscope_alerts_sent_total",
        "Alerts (forwarded Warning events, firing or resolved) Alertmanager accepted.",
    ),
    Section::Own,
    Scope::Own,
    [ALERTMANAGER],
);
pub const ALERTS_SEND_ERRORS: Declared<1> = Declared::new(
    Family::counter(
        "backupscope_alerts_send_errors_total",
        "Requests to Alertmanager that failed after their retries, or that it rejected.",
    ),
    Section::Own,
    Scope::Own,
    [ALERTMANAGER],
);
pub const ALERTS_DROPPED: Declared<1> = Declared::new(
    Family::counter(
        "backupscope_alerts_dropped_total",
        "Alerts lost: the send queue was full, or Alertmanager did not take them after the retries.",
    ),
    Section::Own,
    Scope::Own,
    [ALERTMANAGER],
);

// Vault probe and scan (backupscope's own look at each bucket, `crate::vault`); exported only
// while `serve --probe-interval` runs the probes.
pub const PROBE_SUCCESS: Declared<2> = Declared::new(
    gauge(
        "backupcenter_backuplocation_probe_success",
        "Whether backupscope's last probe of the vault's bucket (a list at the prefix root, as Velero validates) succeeded: 1 yes, 0 no.",
    ),
    Section::BackupLocations,
    Scope::Core,
    [NAMESPACE, BACKUPLOCATION],
);
pub const PROBE_DURATION: Declared<2> = Declared::new(
    gauge(
        "backupcenter_backuplocation_probe_duration_seconds",
        "How long the last probe of the vault's bucket took (at most the probe timeout).",
    ),
    Section::BackupLocations,
    Scope::Core,
    [NAMESPACE, BACKUPLOCATION],
);
pub const PROBE_ERROR_INFO: Declared<4> = Declared::new(
    Family::info(
        "backupcenter_backuplocation_probe_error_info",
        "Why the last probe of the vault's bucket failed; present only while it fails.",
    ),
    Section::BackupLocations,
    Scope::Core,
    [
        NAMESPACE,
        BACKUPLOCATION,
        Label::bounded(
            "reason",
            "failure class (invalid_layout: top-level folders Velero does not allow)",
            crate::vault::ProbeReason::NAMES,
        ),
        Label::open(
            "code",
            "the provider's error code (AccessDenied, NoSuchBucket, SignatureDoesNotMatch, …); empty when it sent none",
        ),
    ],
);
pub const SCAN_BACKUPS: Declared<2> = Declared::new(
    gauge(
        "backupcenter_backuplocation_scan_backups",
        "Backups (folders under backups/) the last scan found in the vault's bucket.",
    ),
    Section::BackupLocations,
    Scope::Core,
    [NAMESPACE, BACKUPLOCATION],
);
pub const SCAN_FINDINGS: Declared<3> = Declared::new(
    gauge(
        "backupcenter_backuplocation_scan_findings",
        "What the last scan of the vault's bucket found against the cluster's tasks, by kind (details: `backupscope scan -o json`).",
    ),
    Section::BackupLocations,
    Scope::Core,
    [
        NAMESPACE,
        BACKUPLOCATION,
        Label::bounded(
            "finding",
            "missing_metadata, missing_tarball, orphan_backup (in the bucket only), missing_artefacts (Completed in the cluster, nothing in the bucket), phase_mismatch",
            crate::vault::FindingKind::NAMES,
        ),
    ],
);
pub const SCAN_SUCCESS: Declared<2> = Declared::new(
    gauge(
        "backupcenter_backuplocation_scan_success",
        "Whether the last scan could list the vault's bucket: 1 yes, 0 no.",
    ),
    Section::BackupLocations,
    Scope::Core,
    [NAMESPACE, BACKUPLOCATION],
);
pub const PROBE_ROUND_DURATION: Declared<0> = Declared::new(
    gauge(
        "backupscope_vault_probe_round_duration_seconds",
        "How long the last complete round of vault probes took (bounded by the timeout when the concurrency covers the hanging vaults).",
    ),
    Section::Own,
    Scope::Own,
    [],
);
// doctor: findings per rule, so alerts can fire on what `backupscope doctor` finds.
/// Severities a finding can have (`ok` never: a finding is a problem or a note).
pub const FINDING_SEVERITIES: &[&str] = &["unknown", "warning", "critical"];
pub const DOCTOR_FINDINGS: Declared<3> = Declared::new(
    gauge(
        "backupcenter_doctor_findings",
        "Findings of `backupscope doctor` per rule and severity (one per root cause; `doctor --explain RULE` documents each rule). Diagnosed at scrape time, at most once a minute.",
    ),
    Section::Events,
    Scope::Core,
    [
        NAMESPACE
            .meaning("namespace of the object at the root of the finding; empty for the cluster"),
        Label::bounded("rule", "doctor rule id", crate::doctor::RULE_IDS),
        Label::bounded("severity", "severity of the finding", FINDING_SEVERITIES),
    ],
);

/// Every family, in exposition order.
pub const ALL: &[&dyn Describe] = &[
    &BACKUPLOCATION_INFO,
    &BACKUPLOCATION_PHASE,
    &BACKUPLOCATION_LAST_VALIDATION,
    &BACKUPS,
    &BACKUP_FAILED_INFO,
    &BACKUP_COMPLETION,
    &BACKUP_START,
    &SCHEDULE_INFO,
    &SCHEDULE_PHASE,
    &SCHEDULE_INTERVAL,
    &SCHEDULE_LAST_SUCCESS,
    &SCHEDULE_LAST_BACKUP_PHASE,
    &RESTORES,
    &RESTORE_FAILED_INFO,
    &RESTORE_START,
    &COMPONENT_STATUS,
    &COMPONENT_CREATED,
    &COMPONENT_REPLICAS,
    &COMPONENT_POD_INFO,
    &COMPONENT_POD_RESTARTS,
    &COMPONENT_POD_LAST_TERMINATION,
    &COMPONENT_REQUESTS,
    &COMPONENT_LIMITS,
    &WARNING_EVENTS,
    &BUILD_INFO,
    &SOURCE_UP,
    &OBJECTS,
    &WATCH_EVENTS,
    &LAST_SCRAPE_DURATION,
    &SERIES,
    &ALERTS_SENT,
    &ALERTS_SEND_ERRORS,
    &ALERTS_DROPPED,
    &PROBE_SUCCESS,
    &PROBE_DURATION,
    &PROBE_ERROR_INFO,
    &SCAN_BACKUPS,
    &SCAN_FINDINGS,
    &SCAN_SUCCESS,
    &PROBE_ROUND_DURATION,
    // doctor
    &DOCTOR_FINDINGS,
];

/// Families a user may turn off (`--disable-metric`) to cut cost: the per-object ones.
pub fn optional() -> impl Iterator<Item = &'static Family> {
    ALL.iter()
        .filter(|f| f.scope() == Scope::PerObject)
        .map(|f| f.family())
}

const INTRO: &str = "# Metrics

Served on `/metrics` by `backupscope serve` (and pushed with `--remote-write-url`). Names are
the API: families and labels may be added, none renamed. Every per-object family carries
`namespace`. StateSet-shaped gauges have one series per state, exactly one of them 1.
Timestamps are Unix seconds. Label values are escaped and capped at 512 bytes; a longer value
keeps its start and ends in `~` plus a hash of the whole value, so two long names never merge.

Per-task series exist only for failed and unfinished tasks, so the series count stays bounded at
any number of Completed tasks. Everything is derived from the objects' current state at scrape
time (nothing is counted in process and can drift or reset), except
`backupcenter_warning_events_total`, which adds each Warning event's count once, because
Kubernetes expires events after an hour. The backup-center families are rendered once per
change of the inventory and reused until the next change.

The label `phase` carries a different vocabulary per family (an outcome group, a task phase, a
vault, schedule or pod phase); each family's table below names the one it uses and lists its
values. This page is generated from the declarations in `src/metrics/families.rs`
(`backupscope metrics > docs/metrics.md`); CI fails when it differs.
";

const QUERIES: &str = "## Queries

- Time since the last good backup per schedule (RPO):
  `time() - backupcenter_schedule_last_success_timestamp_seconds`
- Schedules that missed their own interval twice:
  `time() - backupcenter_schedule_last_success_timestamp_seconds > 2 * on(namespace, schedule) backupcenter_schedule_interval_seconds`
- Tasks running for more than an hour: `time() - backupcenter_backup_start_timestamp_seconds > 3600`
- Failed tasks per vault: `sum by (backuplocation) (backupcenter_backups{phase=~\"Failed|PartiallyFailed\"})`
- Tasks that name a vault that does not exist: `backupcenter_backups{backuplocation_exists=\"false\"} > 0`
";

/// docs/metrics.md.
pub fn reference() -> String {
    super::contract::reference_markdown(ALL, INTRO, QUERIES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_every_family_has_namespace_or_is_own() {
        let mut seen = HashSet::new();
        for f in ALL {
            assert!(seen.insert(f.family().name), "{} twice", f.family().name);
            let labels: Vec<&str> = f.label_set().iter().map(|l| l.name).collect();
            let unique: HashSet<&&str> = labels.iter().collect();
            assert_eq!(unique.len(), labels.len(), "{}", f.family().name);
            if f.section() != Section::Own {
                assert_eq!(labels.first(), Some(&"namespace"), "{}", f.family().name);
            }
        }
    }
}
