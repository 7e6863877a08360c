//! One object in full, as a detail page shows it: a vault, a backup task, a schedule or a
//! component, with its fields, its severity, its events and what relates to it. Vaults and
//! tasks extend the `describe` documents; the task lists behind them are [`super::tasks`]
//! queries, so a vault of 100 000 tasks is still shown a page at a time.

use super::EventRow;
use super::describe::{self, BackupDescription, DescribeError, VaultDescription};
use super::overview::{self, Bar, ScheduleHealth};
use super::status::{self, ComponentRow};
use crate::center::{BackupCenter, Graded, Severity};
use crate::model::{PodPhase, Timestamp, WorkloadKind};
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultDetail {
    #[serde(flatten)]
    pub description: VaultDescription,
    pub severity: Severity,
    pub bars: Vec<Bar>,
}

pub fn vault_detail(
    center: &BackupCenter,
    namespace: &str,
    name: &str,
) -> Result<VaultDetail, DescribeError> {
    let description = describe::describe_vault(center, name, Some(namespace))?;
    Ok(VaultDetail {
        severity: description.vault.phase.severity(),
        bars: overview::bars(&description.task_counts),
        description,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupDetail {
    #[serde(flatten)]
    pub description: BackupDescription,
    pub severity: Severity,
    /// Severity of the vault's phase; none when the vault does not exist.
    pub backup_location_severity: Option<Severity>,
    /// Severity of the velero twin's phase, when there is a twin.
    pub twin_severity: Option<Severity>,
}

pub fn backup_detail(
    center: &BackupCenter,
    namespace: &str,
    name: &str,
) -> Result<BackupDetail, DescribeError> {
    let description = describe::describe_backup(center, name, Some(namespace))?;
    let task = center
        .tasks()
        .find(|t| t.namespace == namespace && t.name == name);
    Ok(BackupDetail {
        severity: task.map_or(Severity::Unknown, |t| t.phase.severity()),
        backup_location_severity: task
            .and_then(|t| center.task_vault(t))
            .map(|v| v.phase.severity()),
        twin_severity: task
            .and_then(|t| center.view(t).twin)
            .map(|w| w.phase.severity()),
        description,
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDetail {
    #[serde(flatten)]
    pub health: ScheduleHealth,
    pub created: Option<Timestamp>,
    pub backup_type: &'static str,
    pub validation_errors: Vec<String>,
    /// The controller's own record of its last run (`status.lastBackup`).
    pub status_last_backup: Option<Timestamp>,
    pub events: Vec<EventRow>,
}

pub fn schedule_detail(
    center: &BackupCenter,
    namespace: &str,
    name: &str,
) -> Result<ScheduleDetail, DescribeError> {
    let not_found = || DescribeError::NotFound {
        kind: "schedule",
        name: name.to_string(),
        hint: format!(" in namespace {namespace:?}"),
    };
    let schedule = center
        .schedules()
        .find(|s| s.namespace == namespace && s.name == name)
        .ok_or_else(not_found)?;
    let row = status::schedules(center)
        .into_iter()
        .find(|r| r.namespace == namespace && r.name == name)
        .ok_or_else(not_found)?;
    Ok(ScheduleDetail {
        health: ScheduleHealth::new(row),
        created: schedule.created,
        backup_type: schedule.backup_type.as_str(),
        validation_errors: schedule.validation_errors.clone(),
        status_last_backup: schedule.last_backup,
        events: events(center, namespace, [name]),
    })
}

/// A container as the workload declares it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerLine {
    pub name: String,
    pub image: String,
    pub cpu_request: Option<f64>,
    pub cpu_limit: Option<f64>,
    pub memory_request: Option<f64>,
    pub memory_limit: Option<f64>,
}

/// A container of a pod as it runs.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerState {
    pub name: String,
    pub ready: bool,
    pub restarts: u64,
    pub waiting_reason: String,
    pub last_termination_reason: String,
    pub last_termination_exit_code: Option<i64>,
    pub last_termination_finished: Option<Timestamp>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodLine {
    pub name: String,
    pub node: String,
    pub phase: String,
    pub severity: Severity,
    pub created: Option<Timestamp>,
    pub containers: Vec<ContainerState>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentDetail {
    #[serde(flatten)]
    pub component: ComponentRow,
    pub kind: &'static str,
    /// The Deployment or DaemonSet found; empty when only pods (or nothing) were found.
    pub workload: String,
    pub containers: Vec<ContainerLine>,
    pub pod_states: Vec<PodLine>,
    /// Non-Normal events about the workload and its pods, newest last.
    pub events: Vec<EventRow>,
}

pub fn component_detail(
    center: &BackupCenter,
    namespace: &str,
    name: &str,
) -> Result<ComponentDetail, DescribeError> {
    let views = center.components();
    // Rows come in the order of the views.
    let rows = status::components(center);
    let (view, component) = views
        .into_iter()
        .zip(rows)
        .find(|(v, _)| v.namespace == namespace && v.spec.name == name)
        .ok_or_else(|| DescribeError::NotFound {
            kind: "component",
            name: name.to_string(),
            hint: format!(" in namespace {namespace:?}"),
        })?;
    let workload = view.workload().map(|w| w.name.clone()).unwrap_or_default();
    let containers = view
        .workload()
        .map(|w| w.containers.as_slice())
        .unwrap_or(&[])
        .iter()
        .map(|c| ContainerLine {
            name: c.name.clone(),
            image: c.image.clone(),
            cpu_request: c.requests.cpu,
            cpu_limit: c.limits.cpu,
            memory_request: c.requests.memory,
            memory_limit: c.limits.memory,
        })
        .collect();
    let pod_states = view
        .pods
        .iter()
        .map(|p| PodLine {
            name: p.name.clone(),
            node: p.node.clone(),
            phase: p.phase.clone(),
            severity: PodPhase::parse(&p.phase).severity(),
            created: p.created,
            containers: p
                .containers
                .iter()
                .map(|c| ContainerState {
                    name: c.name.clone(),
                    ready: c.ready,
                    restarts: c.restarts,
                    waiting_reason: c.waiting_reason.clone(),
                    last_termination_reason: c
                        .last_termination
                        .as_ref()
                        .map(|t| t.reason.clone())
                        .unwrap_or_default(),
                    last_termination_exit_code: c.last_termination.as_ref().map(|t| t.exit_code),
                    last_termination_finished: c.last_termination.as_ref().and_then(|t| t.finished),
                })
                .collect(),
        })
        .collect();
    let involved =
        std::iter::once(workload.as_str()).chain(view.pods.iter().map(|p| p.name.as_str()));
    Ok(ComponentDetail {
        kind: match view.spec.kind {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::DaemonSet => "DaemonSet",
        },
        events: events(center, namespace, involved),
        workload,
        containers,
        pod_states,
        component,
    })
}

/// Non-Normal events about any of `names` in `namespace`, newest last.
fn events<'n>(
    center: &BackupCenter,
    namespace: &str,
    names: impl IntoIterator<Item = &'n str>,
) -> Vec<EventRow> {
    let mut all: Vec<_> = names
        .into_iter()
        .filter(|n| !n.is_empty())
        .flat_map(|n| center.inventory.events_about(namespace, n))
        .collect();
    all.sort_by_key(|e| (e.last, e.first));
    all.into_iter().map(EventRow::from).collect()
}
