//! `backupscope describe backuplocation|backup NAME`: what `kubectl describe` shows, plus what
//! backupscope knows (the reason class, the vault's other tasks, related events, the twin).

use super::output::{self, Format, cell};
use crate::center::{BackupCenter, TaskView};
use crate::model::{TaskPhase, Timestamp, Vault, WarningEvent};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A backup vault (ACK BackupLocation, Velero BackupStorageLocation); alias: bsl, vault.
    #[value(
        alias = "backuplocations",
        alias = "bsl",
        alias = "vault",
        alias = "backupstoragelocation"
    )]
    Backuplocation,
    /// A backup task (ACK ApplicationBackup, Velero Backup).
    #[value(alias = "backups", alias = "applicationbackup")]
    Backup,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRow {
    pub event_type: String,
    pub reason: String,
    pub last_timestamp: Option<Timestamp>,
    pub count: u64,
    pub source: String,
    pub message: String,
}

impl EventRow {
    fn from(e: &WarningEvent) -> Self {
        EventRow {
            event_type: e.event_type.clone(),
            reason: e.reason.clone(),
            last_timestamp: e.last,
            count: e.count,
            source: e.source.clone(),
            message: e.message.clone(),
        }
    }
}

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
    pub task_counts: BTreeMap<&'static str, usize>,
    pub recent_tasks: Vec<TaskLine>,
    pub events: Vec<EventRow>,
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
            let names: Vec<&str> = known.take(5).collect();
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
    let mut task_counts = BTreeMap::new();
    let mut tasks: Vec<TaskView> = center
        .tasks()
        .filter(|t| t.vault == vault.name && t.namespace == vault.namespace)
        .map(|t| center.view(t))
        .collect();
    for t in &tasks {
        *task_counts.entry(t.task.phase.as_str()).or_default() += 1;
    }
    tasks.sort_by(|a, b| {
        (b.task.started.or(b.task.created), &a.task.name)
            .cmp(&(a.task.started.or(a.task.created), &b.task.name))
    });
    let recent_tasks = tasks
        .iter()
        .take(10)
        .map(|t| TaskLine {
            name: t.task.name.clone(),
            phase: t.task.phase.as_str(),
            from_schedule: t.task.schedule.clone(),
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
        name: t.name.clone(),
        namespace: t.namespace.clone(),
        engine: t.engine.as_str(),
        phase: t.phase.as_str(),
        raw_phase: t.raw_phase.clone(),
        backup_location: t.vault.clone(),
        backup_location_phase: center.vault(&t.vault).map(|v| v.phase.as_str()),
        from_schedule: t.schedule.clone(),
        backup_type: t.backup_type.as_str(),
        data_type: center.data_type(&view).as_str(),
        included_namespaces: t.included_namespaces.clone(),
        ttl: t.ttl.clone(),
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
            t.message.clone()
        },
        twin: view.twin.map(|w| TwinDetail {
            phase: w.raw_phase.clone(),
            errors: w.errors,
            warnings: w.warnings,
            failure_reason: w.message.clone(),
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

fn when(now: Timestamp, t: Option<Timestamp>) -> String {
    match t {
        Some(t) => format!("{} ({} ago)", t, output::age(now, Some(t))),
        None => "<none>".into(),
    }
}

fn field(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "{:<22}{}", format!("{label}:"), value);
}

fn events_section(out: &mut String, now: Timestamp, events: &[EventRow]) {
    if events.is_empty() {
        out.push_str("Events:               <none>\n");
        return;
    }
    out.push_str("Events:\n");
    let mut t = output::Table::new(
        &["  TYPE", "REASON", "AGE", "COUNT", "FROM", "MESSAGE"],
        false,
    );
    for e in events {
        t.row(vec![
            format!("  {}", cell(&e.event_type)),
            cell(&e.reason),
            output::age(now, e.last_timestamp),
            e.count.to_string(),
            cell(&e.source),
            e.message
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        ]);
    }
    out.push_str(&t.render());
}

impl VaultDescription {
    pub fn render(&self, now: Timestamp, format: Format) -> anyhow::Result<String> {
        if format != Format::Table {
            return output::serialize(self, format);
        }
        let v = &self.vault;
        let mut out = String::new();
        field(&mut out, "Name", &cell(&v.name));
        field(&mut out, "Namespace", &cell(&v.namespace));
        field(&mut out, "Engine", v.engine.as_str());
        field(&mut out, "Provider", &cell(&v.provider));
        field(&mut out, "Bucket", &cell(&v.bucket));
        field(&mut out, "Prefix", &cell(&v.prefix));
        field(&mut out, "Region", &cell(&v.region));
        if !v.network_policy.is_empty() {
            field(&mut out, "Network Policy", &cell(&v.network_policy));
        }
        let phase = if v.phase.as_str() == v.raw_phase || v.raw_phase.is_empty() {
            v.phase.to_string()
        } else {
            format!("{} (raw: {})", v.phase, cell(&v.raw_phase))
        };
        field(&mut out, "Phase", &phase);
        field(&mut out, "Last Validated", &when(now, v.last_validation));
        field(&mut out, "Message", &output::text(&v.message));
        if !v.credential_secret.is_empty() {
            field(&mut out, "Credential Secret", &cell(&v.credential_secret));
        }
        if let Some(p) = &self.twin_phase {
            field(&mut out, "Velero Twin Phase", &cell(p));
        }
        let total: usize = self.task_counts.values().sum();
        let counts: Vec<String> = self
            .task_counts
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        field(
            &mut out,
            "Backup Tasks",
            &format!("{total} ({})", counts.join(", ")),
        );
        if !self.recent_tasks.is_empty() {
            out.push_str("Recent Tasks:\n");
            let mut t = output::Table::new(
                &["  NAME", "PHASE", "FROMSCHEDULE", "STARTED", "REASON"],
                false,
            );
            for task in &self.recent_tasks {
                t.row(vec![
                    format!("  {}", cell(&task.name)),
                    task.phase.to_string(),
                    cell(&task.from_schedule),
                    output::age(now, task.started),
                    cell(task.reason),
                ]);
            }
            out.push_str(&t.render());
        }
        events_section(&mut out, now, &self.events);
        Ok(out)
    }
}

impl BackupDescription {
    pub fn render(&self, now: Timestamp, format: Format) -> anyhow::Result<String> {
        if format != Format::Table {
            return output::serialize(self, format);
        }
        let mut out = String::new();
        field(&mut out, "Name", &cell(&self.name));
        field(&mut out, "Namespace", &cell(&self.namespace));
        field(&mut out, "Engine", self.engine);
        let phase = if self.phase == self.raw_phase || self.raw_phase.is_empty() {
            self.phase.to_string()
        } else {
            format!("{} (raw: {})", self.phase, cell(&self.raw_phase))
        };
        field(&mut out, "Phase", &phase);
        let vault_phase = self.backup_location_phase.unwrap_or("not found");
        field(
            &mut out,
            "Backup Location",
            &format!("{} ({vault_phase})", cell(&self.backup_location)),
        );
        field(&mut out, "From Schedule", &cell(&self.from_schedule));
        field(&mut out, "Backup Type", self.backup_type);
        field(&mut out, "Data Type", &cell(self.data_type));
        field(
            &mut out,
            "Included Namespaces",
            &cell(&self.included_namespaces.join(", ")),
        );
        field(&mut out, "TTL", &cell(&self.ttl));
        field(&mut out, "Created", &when(now, self.created));
        field(&mut out, "Started", &when(now, self.started));
        field(&mut out, "Completed", &when(now, self.completed));
        if let Some(s) = self.running_seconds {
            field(&mut out, "Running For", &output::human_duration(s as i64));
        }
        let count = |c: Option<u64>| c.map(|n| n.to_string()).unwrap_or_else(|| "<none>".into());
        field(&mut out, "Errors", &count(self.errors));
        field(&mut out, "Warnings", &count(self.warnings));
        if !self.reason.is_empty() {
            field(&mut out, "Reason", self.reason);
        }
        field(&mut out, "Message", &output::text(&self.message));
        if let Some(t) = &self.twin {
            field(
                &mut out,
                "Velero Backup",
                &format!(
                    "phase {}, errors {}, warnings {}",
                    cell(&t.phase),
                    count(t.errors),
                    count(t.warnings)
                ),
            );
            if !t.failure_reason.is_empty() {
                field(&mut out, "Velero Failure", &output::text(&t.failure_reason));
            }
        }
        if self.phase == TaskPhase::PartiallyFailed.as_str() && self.engine == "ack" {
            field(
                &mut out,
                "Next Step",
                &format!(
                    "kubectl -n {ns} exec deploy/csdr-velero -c velero -- ./velero describe backup {n} --details",
                    ns = cell(&self.namespace),
                    n = cell(&self.name)
                ),
            );
        }
        events_section(&mut out, now, &self.events);
        Ok(out)
    }
}
