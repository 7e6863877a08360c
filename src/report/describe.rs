//! The `describe` documents: what `kubectl describe` shows of a vault or a backup task, plus
//! what backupscope knows (the reason class, the vault's other tasks, related events, the twin).

use super::{EventRow, OutcomeCounts};
use crate::center::{BackupCenter, TaskView};
use crate::model::{Timestamp, Vault};
use serde::Serialize;

/// A task in the vault's recent-task list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskLine {
    pub name: String,
    pub phase: &'static str,
    pub from_schedule: String,
    pub started: Option<Timestamp>,
    pub reason: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultDescription {
    #[serde(flatten)]
    pub vault: Vault,
    pub twin_phase: Option<String>,
    /// The vault's tasks by outcome group.
    pub task_counts: OutcomeCounts,
    pub recent_tasks: Vec<TaskLine>,
    pub events: Vec<EventRow>,
    /// backupscope's own probe of the bucket, when one ran (`describe --probe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<crate::vault::ProbeResult>,
    /// backupscope's scan of the bucket against the cluster, when one ran (`describe --scan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<crate::vault::ScanResult>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupDescription {
    pub name: String,
    pub namespace: String,
    pub engine: &'static str,
    pub phase: &'static str,
    pub raw_phase: String,
    pub backup_location: String,
    pub backup_location_phase: Option<&'static str>,
    pub from_schedule: String,
    pub backup_type: &'static str,
    pub data_type: &'static str,
    pub included_namespaces: Vec<String>,
    pub ttl: String,
    pub created: Option<Timestamp>,
    pub started: Option<Timestamp>,
    pub completed: Option<Timestamp>,
    pub expiration: Option<Timestamp>,
    pub running_seconds: Option<f64>,
    pub errors: Option<u64>,
    pub warnings: Option<u64>,
    pub reason: &'static str,
    pub message: String,
    pub twin: Option<TwinDetail>,
    pub events: Vec<EventRow>,
}

/// What the velero.io twin of an ACK task adds.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TwinDetail {
    pub phase: String,
    pub errors: Option<u64>,
    pub warnings: Option<u64>,
    pub failure_reason: String,
    pub volume_snapshots_attempted: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum DescribeError {
    #[error("{kind} {name:?} not found{hint}")]
    NotFound {
        kind: &'static str,
        name: String,
        hint: String,
    },
    #[error("{kind} {name:?} exists in several namespaces ({namespaces}); pick one with -n")]
    Ambiguous {
        kind: &'static str,
        name: String,
        namespaces: String,
    },
}

fn pick<'a, T>(
    kind: &'static str,
    name: &str,
    namespace: Option<&str>,
    candidates: Vec<(&'a str, T)>,
    known: impl Iterator<Item = &'a str>,
) -> Result<T, DescribeError> {
    let mut matching: Vec<(&str, T)> = candidates
        .into_iter()
        .filter(|(ns, _)| namespace.is_none_or(|n| n == *ns))
        .collect();
    match matching.len() {
        1 => Ok(matching.remove(0).1),
        0 => {
            // Names come from the cluster: shown only terminal-safe and short.
            let names: Vec<String> = known.take(5).map(crate::cli::output::cell).collect();
            let hint = if names.is_empty() {
                String::new()
            } else {
                format!("; known: {}", names.join(", "))
            };
            Err(DescribeError::NotFound {
                kind,
                name: name.to_string(),
                hint,
            })
        }
        _ => Err(DescribeError::Ambiguous {
            kind,
            name: name.to_string(),
            namespaces: matching
                .iter()
                .map(|(ns, _)| *ns)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

pub fn describe_vault(
    center: &BackupCenter,
    name: &str,
    namespace: Option<&str>,
) -> Result<VaultDescription, DescribeError> {
    let candidates = center
        .vaults()
        .filter(|v| v.name == name)
        .map(|v| (v.namespace.as_str(), v))
        .collect();
    let vault = pick(
        "backuplocation",
        name,
        namespace,
        candidates,
        center.vaults().map(|v| v.name.as_str()),
    )?;
    let task_counts =
        OutcomeCounts::from_index(&center.vault_counts(&vault.namespace, &vault.name));
    let mut tasks: Vec<TaskView> = center
        .tasks()
        .filter(|t| t.vault == vault.name && t.namespace == vault.namespace)
        .map(|t| center.view(t))
        .collect();
    tasks.sort_by(|a, b| {
        (b.task.started.or(b.task.created), &a.task.name)
            .cmp(&(a.task.started.or(a.task.created), &b.task.name))
    });
    let recent_tasks = tasks
        .iter()
        .take(10)
        .map(|t| TaskLine {
            name: t.task.name.to_string(),
            phase: t.task.phase.as_str(),
            from_schedule: t.task.schedule.to_string(),
            started: t.task.started,
            reason: if t.task.phase.is_failure() {
                center.reason(t).as_str()
            } else {
                ""
            },
        })
        .collect();
    Ok(VaultDescription {
        twin_phase: center.vault_twin(vault).map(|t| t.raw_phase.clone()),
        vault: vault.clone(),
        task_counts,
        recent_tasks,
        events: center
            .inventory
            .events_about(&vault.namespace, &vault.name)
            .into_iter()
            .map(EventRow::from)
            .collect(),
        probe: None,
        scan: None,
    })
}

pub fn describe_backup(
    center: &BackupCenter,
    name: &str,
    namespace: Option<&str>,
) -> Result<BackupDescription, DescribeError> {
    let candidates = center
        .tasks()
        .filter(|t| t.name == name)
        .map(|t| (t.namespace.as_str(), center.view(t)))
        .collect();
    let view = pick(
        "backup",
        name,
        namespace,
        candidates,
        center.tasks().map(|t| t.name.as_str()),
    )?;
    let t = view.task;
    Ok(BackupDescription {
        name: t.name.to_string(),
        namespace: t.namespace.to_string(),
        engine: t.engine.as_str(),
        phase: t.phase.as_str(),
        raw_phase: t.raw_phase.to_string(),
        backup_location: t.vault.to_string(),
        backup_location_phase: center.task_vault(t).map(|v| v.phase.as_str()),
        from_schedule: t.schedule.to_string(),
        backup_type: t.backup_type.as_str(),
        data_type: center.data_type(&view).as_str(),
        included_namespaces: t
            .included_namespaces
            .iter()
            .map(|n| n.to_string())
            .collect(),
        ttl: t.ttl.to_string(),
        created: t.created,
        started: t.started,
        completed: t.completed,
        expiration: t.expiration,
        running_seconds: t
            .phase
            .is_active()
            .then(|| center.running_seconds(t))
            .flatten(),
        errors: t.errors.or(view.twin.and_then(|w| w.errors)),
        warnings: t.warnings.or(view.twin.and_then(|w| w.warnings)),
        reason: if t.phase.is_failure() {
            center.reason(&view).as_str()
        } else {
            ""
        },
        // A running task's twin may already report a failure; it is shown as the twin's, not
        // as this task's message.
        message: if t.phase.is_failure() {
            center.failure_message(&view)
        } else {
            t.message.to_string()
        },
        twin: view.twin.map(|w| TwinDetail {
            phase: w.raw_phase.to_string(),
            errors: w.errors,
            warnings: w.warnings,
            failure_reason: w.message.to_string(),
            volume_snapshots_attempted: w.volumes.snapshots,
        }),
        events: center
            .inventory
            .events_about(&t.namespace, &t.name)
            .into_iter()
            .map(EventRow::from)
            .collect(),
    })
}
