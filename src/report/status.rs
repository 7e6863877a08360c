//! The `status` document: the three dashboards of the ACK backup center (Backup Locations,
//! Backup Operation Status, Addon Status), plus the schedules and restores behind them.

use super::OutcomeCounts;
use crate::center::{BackupCenter, ComponentView, Graded, Severity};
use crate::model::{ContainerSpec, Outcome, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub now: Timestamp,
    pub engines: Vec<&'static str>,
    pub backup_locations: Vec<LocationRow>,
    pub backup_operation_status: OperationStatus,
    pub schedules: Vec<ScheduleRow>,
    pub restore_status: RestoreStatus,
    pub addon_status: Vec<ComponentRow>,
    /// Required components a snapshot holds no workload or pod of their namespace for: not
    /// exported, so neither found nor missing (never on a live cluster).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components_not_exported: Vec<ComponentRef>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRef {
    pub component: &'static str,
    pub namespace: String,
    pub engine: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationRow {
    pub name: String,
    pub namespace: String,
    pub engine: &'static str,
    pub provider: String,
    pub bucket: String,
    pub prefix: String,
    pub region: String,
    pub network_policy: String,
    /// `ReadWrite` or `ReadOnly` (restore only: backups to it fail validation).
    pub access_mode: String,
    /// The vault backups that name none go to.
    pub default: bool,
    pub phase: &'static str,
    pub raw_phase: String,
    pub severity: Severity,
    pub last_validation_time: Option<Timestamp>,
    pub message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    pub per_location: Vec<LocationCounts>,
    pub failed_backups: Vec<FailedRow>,
}

/// Task counts of one vault by outcome (the Backup Overview histogram).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationCounts {
    pub backup_location: String,
    pub namespace: String,
    /// False for a vault that tasks name but that does not exist (or no vault at all).
    pub backup_location_exists: bool,
    #[serde(flatten)]
    pub counts: OutcomeCounts,
}

/// One row of Failed Backup Detail.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedRow {
    pub backup: String,
    pub namespace: String,
    pub engine: &'static str,
    pub backup_location: String,
    pub backup_location_exists: bool,
    pub backup_type: &'static str,
    pub data_type: &'static str,
    pub from_schedule: String,
    pub phase: &'static str,
    pub severity: Severity,
    pub reason: &'static str,
    pub message: String,
    pub completion_timestamp: Option<Timestamp>,
}

/// A schedule and how recent its last good backup is (RPO).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRow {
    pub name: String,
    pub namespace: String,
    pub engine: &'static str,
    pub backup_location: String,
    pub cron: String,
    pub paused: bool,
    /// Effective phase: FailedValidation also for a cron the engine rejects.
    pub phase: &'static str,
    pub raw_phase: String,
    pub severity: Severity,
    /// Why it cannot run (validation errors, or the cron problem); empty when it can.
    pub problem: String,
    pub interval_seconds: Option<f64>,
    pub last_success: Option<Timestamp>,
    pub seconds_since_last_success: Option<f64>,
    /// Outcome of the newest task.
    pub last_backup_outcome: Option<&'static str>,
    pub backups: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreStatus {
    pub counts: OutcomeCounts,
    /// Failed and unfinished restores, newest first.
    pub restores: Vec<RestoreRow>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreRow {
    pub name: String,
    pub namespace: String,
    pub engine: &'static str,
    pub backup: String,
    pub phase: &'static str,
    pub severity: Severity,
    /// Reason class of a failed restore; empty for an unfinished one.
    pub reason: &'static str,
    pub message: String,
    /// `status.errors` and `status.warnings` (ACK: its velero twin's), as `velero restore get`
    /// shows them; null when the controller wrote none.
    pub errors: Option<u64>,
    pub warnings: Option<u64>,
    pub started: Option<Timestamp>,
    pub completed: Option<Timestamp>,
    /// How long an unfinished restore has been running.
    pub running_seconds: Option<f64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRow {
    pub component: &'static str,
    pub namespace: String,
    pub engine: &'static str,
    pub status: &'static str,
    pub severity: Severity,
    pub created: Option<Timestamp>,
    pub age_seconds: Option<i64>,
    pub pods_ready: u64,
    pub pods_desired: u64,
    pub pods: Vec<String>,
    pub restarts: u64,
    /// Sum over the component's containers, cores.
    pub cpu_request: Option<f64>,
    pub cpu_limit: Option<f64>,
    /// Sum over the component's containers, bytes.
    pub memory_request: Option<f64>,
    pub memory_limit: Option<f64>,
    /// How a container of the component last ended (e.g. OOMKilled), newest first.
    pub last_termination_reason: String,
}

impl StatusReport {
    pub fn build(center: &BackupCenter) -> StatusReport {
        let (views, not_exported) = center.components_and_not_exported();
        StatusReport {
            now: center.now,
            engines: center.engines().iter().map(|e| e.as_str()).collect(),
            backup_locations: locations(center),
            backup_operation_status: operations(center),
            schedules: schedules(center),
            restore_status: restores(center),
            addon_status: component_rows(center, views),
            components_not_exported: not_exported
                .into_iter()
                .map(|c| ComponentRef {
                    component: c.spec.name,
                    namespace: c.namespace,
                    engine: c.spec.engine.as_str(),
                })
                .collect(),
        }
    }

    /// Whether any row spans more than one namespace, so tables must show which.
    pub fn namespaces(&self) -> usize {
        let mut all: Vec<&str> = self
            .backup_locations
            .iter()
            .map(|l| l.namespace.as_str())
            .chain(
                self.backup_operation_status
                    .per_location
                    .iter()
                    .map(|l| l.namespace.as_str()),
            )
            .collect();
        all.sort_unstable();
        all.dedup();
        all.len()
    }
}

/// Backup Locations rows.
pub fn locations(center: &BackupCenter) -> Vec<LocationRow> {
    center
        .vaults()
        .map(|v| LocationRow {
            name: v.name.clone(),
            namespace: v.namespace.clone(),
            engine: v.engine.as_str(),
            provider: v.provider.clone(),
            bucket: v.bucket.clone(),
            prefix: v.prefix.clone(),
            region: v.region.clone(),
            network_policy: v.network_policy.clone(),
            access_mode: v.access_mode.clone(),
            default: v.default,
            phase: v.phase.as_str(),
            raw_phase: v.raw_phase.clone(),
            severity: v.phase.severity(),
            last_validation_time: v.last_validation,
            message: v.message.clone(),
        })
        .collect()
}

/// Task counts per vault (every vault, plus the vaults only tasks name), from the task index.
pub fn per_location(center: &BackupCenter) -> Vec<LocationCounts> {
    // Every vault, plus the vaults only tasks name, each per (namespace, name).
    let mut counts: BTreeMap<(&str, &str), [u64; Outcome::ALL.len()]> = center
        .vaults()
        .map(|v| ((v.namespace.as_str(), v.name.as_str()), Default::default()))
        .collect();
    for (key, by_outcome) in center.task_counts() {
        let c = counts.entry(key).or_default();
        for (total, n) in c.iter_mut().zip(by_outcome) {
            *total += n;
        }
    }
    counts
        .into_iter()
        .map(|((ns, vault), by_outcome)| LocationCounts {
            backup_location: vault.to_string(),
            namespace: ns.to_string(),
            backup_location_exists: !vault.is_empty() && center.vault_in(ns, vault).is_some(),
            counts: OutcomeCounts::from_index(&by_outcome),
        })
        .collect()
}

fn operations(center: &BackupCenter) -> OperationStatus {
    let per_location = per_location(center);
    let mut failed_backups: Vec<FailedRow> = center
        .flagged_tasks()
        .filter(|t| t.phase.is_failure())
        .map(|t| {
            let view = center.view(t);
            let (reason, data_type) = center.detail(&view);
            FailedRow {
                backup: t.name.to_string(),
                namespace: t.namespace.to_string(),
                engine: t.engine.as_str(),
                backup_location: t.vault.to_string(),
                backup_location_exists: center.task_vault(t).is_some(),
                backup_type: t.backup_type.as_str(),
                data_type: data_type.as_str(),
                from_schedule: t.schedule.to_string(),
                phase: t.phase.as_str(),
                severity: t.phase.severity(),
                reason: reason.as_str(),
                message: center.failure_message(&view),
                completion_timestamp: t.completed,
            }
        })
        .collect();
    // Newest failure first, as an operator reads them.
    failed_backups.sort_by(|a, b| {
        (b.completion_timestamp, &a.namespace, &a.backup).cmp(&(
            a.completion_timestamp,
            &b.namespace,
            &b.backup,
        ))
    });
    OperationStatus {
        per_location,
        failed_backups,
    }
}

/// Every schedule with its RPO, by namespace and name.
pub fn schedules(center: &BackupCenter) -> Vec<ScheduleRow> {
    let runs = center.schedule_runs();
    let mut rows: Vec<ScheduleRow> = center
        .schedules()
        .map(|s| {
            let run = runs.get(&(s.engine, s.namespace.as_str(), s.name.as_str()));
            let can_run = center.schedule_can_run(s);
            let phase = center.schedule_phase(s);
            let last_success = run.and_then(|r| r.last_success);
            ScheduleRow {
                name: s.name.clone(),
                namespace: s.namespace.clone(),
                engine: s.engine.as_str(),
                backup_location: s.vault.clone(),
                cron: s.cron.clone(),
                paused: s.paused,
                phase: phase.as_str(),
                raw_phase: s.raw_phase.clone(),
                severity: phase.severity(),
                problem: if can_run {
                    String::new()
                } else {
                    center.schedule_problem(s)
                },
                interval_seconds: s.interval_seconds.filter(|_| can_run),
                last_success,
                seconds_since_last_success: last_success.map(|t| center.seconds_since(t)),
                last_backup_outcome: run
                    .and_then(|r| r.last_task)
                    .map(|t| t.phase.outcome().as_str()),
                backups: run.map_or(0, |r| r.total),
            }
        })
        .collect();
    rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    rows
}

/// Restore counts, and the failed and unfinished restores.
pub fn restores(center: &BackupCenter) -> RestoreStatus {
    let mut counts = OutcomeCounts::default();
    let mut rows = Vec::new();
    for view in center.restores() {
        let r = view.restore;
        counts.add(r.phase.outcome());
        if !(r.phase.is_failure() || r.phase.is_active()) {
            continue;
        }
        let failed = r.phase.is_failure();
        rows.push(RestoreRow {
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            engine: r.engine.as_str(),
            backup: r.backup.clone(),
            phase: r.phase.as_str(),
            severity: r.phase.severity(),
            reason: if failed {
                center.restore_reason(&view).as_str()
            } else {
                ""
            },
            message: if failed {
                center.restore_failure_message(&view)
            } else {
                r.message.clone()
            },
            errors: r.errors.or(view.twin.and_then(|t| t.errors)),
            warnings: r.warnings.or(view.twin.and_then(|t| t.warnings)),
            started: r.started,
            completed: r.completed,
            running_seconds: r
                .phase
                .is_active()
                .then(|| r.started.or(r.created).map(|t| center.seconds_since(t)))
                .flatten(),
        });
    }
    rows.sort_by(|a, b| {
        let at = |r: &RestoreRow| r.completed.or(r.started);
        (at(b), &a.namespace, &a.name).cmp(&(at(a), &b.namespace, &b.name))
    });
    RestoreStatus {
        counts,
        restores: rows,
    }
}

/// Addon Status rows, in the order of [`BackupCenter::components`].
pub fn components(center: &BackupCenter) -> Vec<ComponentRow> {
    component_rows(center, center.components())
}

fn component_rows(center: &BackupCenter, views: Vec<ComponentView>) -> Vec<ComponentRow> {
    views
        .into_iter()
        .map(|c| {
            let containers = c.workload().map(|w| w.containers.as_slice()).unwrap_or(&[]);
            let sum = |f: &dyn Fn(&ContainerSpec) -> Option<f64>| {
                containers.iter().filter_map(f).reduce(|a, b| a + b)
            };
            let created = c.created();
            let last_termination_reason = c
                .pods
                .iter()
                .flat_map(|p| &p.containers)
                .filter_map(|k| k.last_termination.as_ref())
                .max_by_key(|t| t.finished)
                .map(|t| t.reason.clone())
                .unwrap_or_default();
            ComponentRow {
                component: c.spec.name,
                namespace: c.namespace.clone(),
                engine: c.spec.engine.as_str(),
                status: c.status.as_str(),
                severity: c.status.severity(),
                created,
                age_seconds: created.map(|t| center.now.as_second() - t.as_second()),
                pods_ready: c.pods_ready(),
                pods_desired: c.pods_desired(),
                pods: c.pods.iter().map(|p| p.name.clone()).collect(),
                restarts: c.restarts(),
                cpu_request: sum(&|s| s.requests.cpu),
                cpu_limit: sum(&|s| s.limits.cpu),
                memory_request: sum(&|s| s.requests.memory),
                memory_limit: sum(&|s| s.limits.memory),
                last_termination_reason,
            }
        })
        .collect()
}
