//! The Backup Overview bar chart and the Backup Health page as documents: per vault, its task
//! counts as bars that carry their outcome's severity; per schedule, how old its last good
//! backup is against its own interval.

use super::OutcomeCounts;
use super::status::{self, LocationCounts, RestoreStatus, ScheduleRow};
use crate::center::{BackupCenter, Graded, Severity, severity_of_word};
use crate::model::{Outcome, Timestamp};
use serde::Serialize;

/// One bar: the tasks of one outcome group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bar {
    pub outcome: &'static str,
    pub count: u64,
    pub severity: Severity,
}

/// The bars of one vault.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultBars {
    pub backup_location: String,
    pub namespace: String,
    pub backup_location_exists: bool,
    pub total: u64,
    pub bars: Vec<Bar>,
}

/// Backup Overview: task counts per vault by outcome (from the task index).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupOverview {
    pub now: Timestamp,
    pub vaults: Vec<VaultBars>,
    pub totals: VaultBars,
}

/// Bars of a count set, in display order (Completed, PartiallyFailed, Failed, InProgress,
/// Unknown).
pub fn bars(counts: &OutcomeCounts) -> Vec<Bar> {
    counts
        .groups()
        .into_iter()
        .map(|(outcome, count)| Bar {
            outcome,
            count,
            severity: Outcome::ALL
                .iter()
                .find(|o| o.as_str() == outcome)
                .map_or(Severity::Unknown, |o| o.severity()),
        })
        .collect()
}

impl VaultBars {
    fn new(row: &LocationCounts) -> Self {
        VaultBars {
            backup_location: row.backup_location.clone(),
            namespace: row.namespace.clone(),
            backup_location_exists: row.backup_location_exists,
            total: row.counts.total,
            bars: bars(&row.counts),
        }
    }
}

impl BackupOverview {
    pub fn build(center: &BackupCenter) -> Self {
        let per_location = status::per_location(center);
        let mut all = OutcomeCounts::default();
        for row in &per_location {
            let c = &row.counts;
            all.completed += c.completed;
            all.partially_failed += c.partially_failed;
            all.failed += c.failed;
            all.in_progress += c.in_progress;
            all.other += c.other;
            all.total += c.total;
        }
        BackupOverview {
            now: center.now,
            vaults: per_location.iter().map(VaultBars::new).collect(),
            totals: VaultBars {
                backup_location: String::new(),
                namespace: String::new(),
                backup_location_exists: false,
                total: all.total,
                bars: bars(&all),
            },
        }
    }
}

/// A schedule with its RPO against its interval.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleHealth {
    #[serde(flatten)]
    pub schedule: ScheduleRow,
    pub last_backup_severity: Option<Severity>,
    /// Time since the last good backup in multiples of the interval (1 = one interval old);
    /// none without an interval or a success.
    pub rpo_intervals: Option<f64>,
}

impl ScheduleHealth {
    pub fn new(schedule: ScheduleRow) -> Self {
        let rpo_intervals = match (
            schedule.seconds_since_last_success,
            schedule.interval_seconds,
        ) {
            (Some(since), Some(interval)) if interval > 0.0 => Some(since / interval),
            _ => None,
        };
        ScheduleHealth {
            last_backup_severity: schedule.last_backup_outcome.and_then(severity_of_word),
            rpo_intervals,
            schedule,
        }
    }
}

/// Backup Health: every schedule's RPO and state, and the restores. Unfinished tasks are a
/// task-list query (`set=unfinished`), paginated like every task list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupHealth {
    pub now: Timestamp,
    pub schedules: Vec<ScheduleHealth>,
    pub restore_status: RestoreStatus,
}

impl BackupHealth {
    pub fn build(center: &BackupCenter) -> Self {
        BackupHealth {
            now: center.now,
            schedules: status::schedules(center)
                .into_iter()
                .map(ScheduleHealth::new)
                .collect(),
            restore_status: status::restores(center),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_their_outcome_severity() {
        let counts = OutcomeCounts {
            completed: 17,
            partially_failed: 2,
            failed: 1,
            in_progress: 1,
            other: 0,
            total: 21,
        };
        let got: Vec<(&str, u64, Severity)> = bars(&counts)
            .into_iter()
            .map(|b| (b.outcome, b.count, b.severity))
            .collect();
        assert_eq!(
            got,
            [
                ("Completed", 17, Severity::Ok),
                ("PartiallyFailed", 2, Severity::Warning),
                ("Failed", 1, Severity::Critical),
                ("InProgress", 1, Severity::Warning),
                ("Unknown", 0, Severity::Unknown),
            ]
        );
    }
}
