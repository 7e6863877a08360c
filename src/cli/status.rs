//! `backupscope status`: the three dashboards of the ACK backup center (Backup Locations,
//! Backup Operation Status, Addon Status) as tables or as a stable JSON/YAML document.

use super::output::{self, Format, Table, cell};
use crate::center::BackupCenter;
use crate::model::{Outcome, Timestamp, quantity};
use serde::Serialize;
use std::collections::BTreeMap;

/// The whole status document; field names are part of the `-o json` contract (docs/cli.md).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub now: Timestamp,
    pub engines: Vec<&'static str>,
    pub backup_locations: Vec<LocationRow>,
    pub backup_operation_status: OperationStatus,
    pub addon_status: Vec<ComponentRow>,
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
    pub phase: &'static str,
    pub raw_phase: String,
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
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationCounts {
    pub backup_location: String,
    pub completed: usize,
    pub partially_failed: usize,
    /// Failed and FailedValidation.
    pub failed: usize,
    /// Not yet finished (New, Queued, InProgress, WaitingForPluginOperations, ...).
    pub in_progress: usize,
    /// Deleting, or a phase neither system documents.
    pub other: usize,
    pub total: usize,
}

/// One row of Failed Backup Detail.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedRow {
    pub backup: String,
    pub namespace: String,
    pub engine: &'static str,
    pub backup_location: String,
    pub backup_type: &'static str,
    pub data_type: &'static str,
    pub from_schedule: String,
    pub phase: &'static str,
    pub reason: &'static str,
    pub message: String,
    pub completion_timestamp: Option<Timestamp>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRow {
    pub component: &'static str,
    pub namespace: String,
    pub engine: &'static str,
    pub status: &'static str,
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
}

impl StatusReport {
    pub fn build(center: &BackupCenter) -> StatusReport {
        let backup_locations = center
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
                phase: v.phase.as_str(),
                raw_phase: v.raw_phase.clone(),
                last_validation_time: v.last_validation,
                message: v.message.clone(),
            })
            .collect();

        let mut counts: BTreeMap<String, LocationCounts> = center
            .vaults()
            .map(|v| (v.name.clone(), LocationCounts::default()))
            .collect();
        for ((_, vault), by_outcome) in center.task_counts() {
            let c = counts.entry(vault.to_string()).or_default();
            let n = |o: Outcome| by_outcome[o as usize] as usize;
            c.completed += n(Outcome::Completed);
            c.partially_failed += n(Outcome::PartiallyFailed);
            c.failed += n(Outcome::Failed);
            c.in_progress += n(Outcome::InProgress);
            c.other += n(Outcome::Unknown);
            c.total += by_outcome.iter().sum::<u64>() as usize;
        }
        let mut failed_backups = Vec::new();
        for t in center.flagged_tasks().filter(|t| t.phase.is_failure()) {
            let view = center.view(t);
            let (reason, data_type) = center.detail(&view);
            failed_backups.push(FailedRow {
                backup: t.name.clone(),
                namespace: t.namespace.clone(),
                engine: t.engine.as_str(),
                backup_location: t.vault.clone(),
                backup_type: t.backup_type.as_str(),
                data_type: data_type.as_str(),
                from_schedule: t.schedule.clone(),
                phase: t.phase.as_str(),
                reason: reason.as_str(),
                message: center.failure_message(&view),
                completion_timestamp: t.completed,
            });
        }
        // Newest failure first, as an operator reads them.
        failed_backups.sort_by(|a, b| {
            (b.completion_timestamp, &a.backup).cmp(&(a.completion_timestamp, &b.backup))
        });
        let per_location = counts
            .into_iter()
            .map(|(name, mut c)| {
                c.backup_location = name;
                c
            })
            .collect();

        let addon_status = center
            .components()
            .into_iter()
            .map(|c| {
                let containers = c.workload.map(|w| w.containers.as_slice()).unwrap_or(&[]);
                let sum = |f: &dyn Fn(&crate::model::ContainerSpec) -> Option<f64>| {
                    containers.iter().filter_map(f).reduce(|a, b| a + b)
                };
                let created = c.workload.and_then(|w| w.created);
                ComponentRow {
                    component: c.spec.name,
                    namespace: c.namespace.clone(),
                    engine: c.spec.engine.as_str(),
                    status: c.status.as_str(),
                    created,
                    age_seconds: created.map(|t| center.now.as_second() - t.as_second()),
                    pods_ready: c.workload.map(|w| w.ready).unwrap_or_else(|| {
                        c.pods.iter().filter(|p| p.phase == "Running").count() as u64
                    }),
                    pods_desired: c.workload.map(|w| w.desired).unwrap_or(c.pods.len() as u64),
                    pods: c.pods.iter().map(|p| p.name.clone()).collect(),
                    restarts: c.restarts(),
                    cpu_request: sum(&|s| s.requests.cpu),
                    cpu_limit: sum(&|s| s.limits.cpu),
                    memory_request: sum(&|s| s.requests.memory),
                    memory_limit: sum(&|s| s.limits.memory),
                }
            })
            .collect();

        StatusReport {
            now: center.now,
            engines: center.engines().iter().map(|e| e.as_str()).collect(),
            backup_locations,
            backup_operation_status: OperationStatus {
                per_location,
                failed_backups,
            },
            addon_status,
        }
    }

    pub fn render(&self, format: Format, colour: bool) -> anyhow::Result<String> {
        if format != Format::Table {
            return output::serialize(self, format);
        }
        let mut out = String::new();
        out.push_str("BACKUP LOCATIONS\n");
        let mut t = Table::new(
            &[
                "BACKUPLOCATION",
                "OSS BUCKET",
                "REGION",
                "NETWORKPOLICY",
                "PHASE",
            ],
            colour,
        );
        for v in &self.backup_locations {
            t.row(vec![
                cell(&v.name),
                cell(&v.bucket),
                cell(&v.region),
                cell(&v.network_policy),
                v.phase.to_string(),
            ]);
        }
        out.push_str(&t.render());

        out.push_str("\nBACKUP OPERATION STATUS\n");
        let ops = &self.backup_operation_status;
        let mut t = Table::new(
            &[
                "BACKUPLOCATION",
                "COMPLETED",
                "PARTIALLYFAILED",
                "FAILED",
                "INPROGRESS",
                "TOTAL",
            ],
            colour,
        );
        for c in &ops.per_location {
            t.row(vec![
                cell(&c.backup_location),
                c.completed.to_string(),
                c.partially_failed.to_string(),
                c.failed.to_string(),
                c.in_progress.to_string(),
                c.total.to_string(),
            ]);
        }
        out.push_str(&t.render());

        out.push_str("\nFAILED BACKUP DETAIL\n");
        if ops.failed_backups.is_empty() {
            out.push_str("No failed backups.\n");
        } else {
            let mut t = Table::new(
                &[
                    "BACKUP",
                    "BACKUPLOCATION",
                    "BACKUPTYPE",
                    "DATATYPE",
                    "FROMSCHEDULE",
                    "PHASE",
                    "REASON",
                ],
                colour,
            );
            for f in &ops.failed_backups {
                t.row(vec![
                    cell(&f.backup),
                    cell(&f.backup_location),
                    f.backup_type.to_string(),
                    cell(f.data_type),
                    cell(&f.from_schedule),
                    f.phase.to_string(),
                    f.reason.to_string(),
                ]);
            }
            out.push_str(&t.render());
        }

        out.push_str("\nADDON STATUS\n");
        let mut t = Table::new(
            &[
                "COMPONENT",
                "NAMESPACE",
                "AGE",
                "STATUS",
                "PODS",
                "RESTARTS",
                "MEMORY REQUEST",
                "CPU REQUEST",
                "MEMORY LIMIT",
                "CPU LIMIT",
            ],
            colour,
        );
        let or_dash = |v: Option<f64>, f: fn(f64) -> String| v.map(f).unwrap_or_else(|| "-".into());
        for c in &self.addon_status {
            t.row(vec![
                c.component.to_string(),
                cell(&c.namespace),
                output::age(self.now, c.created),
                c.status.to_string(),
                format!("{}/{}", c.pods_ready, c.pods_desired),
                c.restarts.to_string(),
                or_dash(c.memory_request, quantity::format_bytes),
                or_dash(c.cpu_request, quantity::format_cores),
                or_dash(c.memory_limit, quantity::format_bytes),
                or_dash(c.cpu_limit, quantity::format_cores),
            ]);
        }
        out.push_str(&t.render());
        Ok(out)
    }
}
