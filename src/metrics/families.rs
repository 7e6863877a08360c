//! Every metric family backupscope exports: the one place for each name and its help text.
//! Names are the API (DESIGN.md §2): add families and labels, rename none.

use super::sink::Family;

// Backup Locations dashboard (vaults).
pub const BACKUPLOCATION_INFO: Family = Family::info(
    "backupcenter_backuplocation_info",
    "Backup vault (ACK BackupLocation, Velero BackupStorageLocation) and where it stores data.",
);
pub const BACKUPLOCATION_PHASE: Family = Family::gauge(
    "backupcenter_backuplocation_phase",
    "Phase of the backup vault; one series per phase, the current one is 1.",
);
pub const BACKUPLOCATION_LAST_VALIDATION: Family = Family::gauge(
    "backupcenter_backuplocation_last_validation_timestamp_seconds",
    "When the backup center last checked the vault's bucket (Unix seconds).",
);

// Backup Operation Status dashboard (tasks).
pub const BACKUPS: Family = Family::gauge(
    "backupcenter_backups",
    "Backup tasks per vault by outcome (Completed, PartiallyFailed, Failed, InProgress, Unknown).",
);
pub const BACKUP_FAILED_INFO: Family = Family::info(
    "backupcenter_backup_failed_info",
    "A failed or partially failed backup task (Failed Backup Detail); reason is a bounded class.",
);
pub const BACKUP_COMPLETION: Family = Family::gauge(
    "backupcenter_backup_completion_timestamp_seconds",
    "When a failed backup task ended (Unix seconds).",
);
pub const BACKUP_START: Family = Family::gauge(
    "backupcenter_backup_start_timestamp_seconds",
    "When a backup task that has not finished started, else was created (Unix seconds).",
);
pub const SCHEDULE_INFO: Family = Family::info(
    "backupcenter_schedule_info",
    "A backup schedule (ACK BackupSchedule, Velero Schedule).",
);
pub const SCHEDULE_INTERVAL: Family = Family::gauge(
    "backupcenter_schedule_interval_seconds",
    "Longest expected gap between two runs of the schedule, from its cron or interval.",
);
pub const SCHEDULE_LAST_SUCCESS: Family = Family::gauge(
    "backupcenter_schedule_last_success_timestamp_seconds",
    "Completion time of the schedule's newest Completed backup (Unix seconds); schedule=\"\" is manual backups.",
);
pub const SCHEDULE_LAST_BACKUP_PHASE: Family = Family::gauge(
    "backupcenter_schedule_last_backup_phase",
    "Outcome of the schedule's newest backup; one series per outcome, the current one is 1.",
);
pub const RESTORES: Family = Family::gauge("backupcenter_restores", "Restore tasks by outcome.");
pub const RESTORE_FAILED_INFO: Family = Family::info(
    "backupcenter_restore_failed_info",
    "A failed or partially failed restore task; reason is a bounded class.",
);

// Addon Status dashboard (working components).
pub const COMPONENT_STATUS: Family = Family::gauge(
    "backupcenter_component_status",
    "Status of a working component (Health, UnHealth, NotFound); the current one is 1.",
);
pub const COMPONENT_CREATED: Family = Family::gauge(
    "backupcenter_component_created_timestamp_seconds",
    "When the component's workload was created (Unix seconds); Age = time() - value.",
);
pub const COMPONENT_REPLICAS: Family = Family::gauge(
    "backupcenter_component_replicas",
    "Desired and ready pods of the component.",
);
pub const COMPONENT_POD_INFO: Family = Family::info(
    "backupcenter_component_pod_info",
    "A pod of a working component.",
);
pub const COMPONENT_POD_RESTARTS: Family = Family::counter(
    "backupcenter_component_pod_restarts_total",
    "Container restarts of a component pod, as the kubelet counts them.",
);
pub const COMPONENT_POD_LAST_TERMINATION: Family = Family::info(
    "backupcenter_component_pod_last_termination_info",
    "How a component container last ended (e.g. OOMKilled, exit code 137).",
);
pub const COMPONENT_REQUESTS: Family = Family::gauge(
    "backupcenter_component_resource_requests",
    "Resources a component container requests (cpu in cores, memory in bytes).",
);
pub const COMPONENT_LIMITS: Family = Family::gauge(
    "backupcenter_component_resource_limits",
    "Resource limits of a component container (cpu in cores, memory in bytes).",
);

// Events.
pub const WARNING_EVENTS: Family = Family::counter(
    "backupcenter_warning_events_total",
    "Warning events observed about the backup center since backupscope started.",
);

// backupscope itself.
pub const BUILD_INFO: Family = Family::info("backupscope_build_info", "backupscope build.");
pub const SOURCE_UP: Family = Family::gauge(
    "backupscope_source_up",
    "Whether a source (a watched resource, or the snapshot) can be read: 1 yes, 0 no.",
);
pub const OBJECTS: Family = Family::gauge(
    "backupscope_objects",
    "Objects of each resource backupscope holds.",
);
pub const WATCH_EVENTS: Family = Family::counter(
    "backupscope_watch_events_total",
    "Watch events received per source.",
);
pub const LAST_SCRAPE_DURATION: Family = Family::gauge(
    "backupscope_last_scrape_duration_seconds",
    "How long the previous collection of all metrics took.",
);
pub const SERIES: Family = Family::gauge(
    "backupscope_series",
    "Series each family exported in this scrape (what a metrics bill counts).",
);

/// Families a user may turn off (`--disable-metric`) to cut cost; the per-object ones.
pub const OPTIONAL: &[Family] = &[
    BACKUP_FAILED_INFO,
    BACKUP_COMPLETION,
    BACKUP_START,
    RESTORE_FAILED_INFO,
    COMPONENT_POD_INFO,
    COMPONENT_POD_RESTARTS,
    COMPONENT_POD_LAST_TERMINATION,
    SCHEDULE_LAST_BACKUP_PHASE,
    WARNING_EVENTS,
];
