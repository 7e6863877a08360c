//! Verdicts: what a state means, decided once for every view (metrics, CLI, web, doctor).
//! A task's failure reason and data type, a restore's reason, a schedule's effective phase,
//! which vault a task writes to, how many pods of a component are ready, and how severe any
//! state is (the colour a person sees, the severity a finding or alert gets).

use super::{BackupCenter, ComponentView, RestoreView, TaskView};
use crate::model::{
    BackupTask, BackupType, ComponentStatus, DataType, Engine, Outcome, PodPhase, ReasonClass,
    Schedule, SchedulePhase, TaskPhase, Vault, VaultPhase,
};
use serde::Serialize;

/// How much a state needs a person, in rising order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Working as it should.
    Ok,
    /// Not known to be good or bad (never validated, an undocumented phase).
    Unknown,
    /// Needs a look soon: in progress for now, partially failed, restarting.
    Warning,
    /// Broken: failed, unavailable, not found.
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Unknown => "unknown",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// A state with a severity.
pub trait Graded: Copy {
    fn severity(self) -> Severity;
}

impl Graded for VaultPhase {
    fn severity(self) -> Severity {
        match self {
            VaultPhase::Available => Severity::Ok,
            VaultPhase::Unavailable => Severity::Critical,
            VaultPhase::InProgress => Severity::Warning,
            VaultPhase::Unknown => Severity::Unknown,
        }
    }
}

impl Graded for Outcome {
    fn severity(self) -> Severity {
        match self {
            Outcome::Completed => Severity::Ok,
            Outcome::Failed => Severity::Critical,
            Outcome::PartiallyFailed | Outcome::InProgress => Severity::Warning,
            Outcome::Unknown => Severity::Unknown,
        }
    }
}

impl Graded for TaskPhase {
    fn severity(self) -> Severity {
        self.outcome().severity()
    }
}

impl Graded for ComponentStatus {
    fn severity(self) -> Severity {
        match self {
            ComponentStatus::Health => Severity::Ok,
            ComponentStatus::UnHealth | ComponentStatus::NotFound => Severity::Critical,
            ComponentStatus::Unknown => Severity::Unknown,
        }
    }
}

impl Graded for SchedulePhase {
    fn severity(self) -> Severity {
        match self {
            SchedulePhase::Enabled => Severity::Ok,
            SchedulePhase::New => Severity::Warning,
            SchedulePhase::FailedValidation => Severity::Critical,
            SchedulePhase::Unknown => Severity::Unknown,
        }
    }
}

impl Graded for PodPhase {
    fn severity(self) -> Severity {
        match self {
            PodPhase::Running | PodPhase::Succeeded => Severity::Ok,
            PodPhase::Pending => Severity::Warning,
            PodPhase::Failed => Severity::Critical,
            PodPhase::Unknown => Severity::Unknown,
        }
    }
}

/// The severity of a state word as the tables print it (`Available`, `Failed`, `UnHealth`,
/// …), for renderers that only hold the text; `None` for a word of no vocabulary.
pub fn severity_of_word(word: &str) -> Option<Severity> {
    if word == "Unknown" {
        return Some(Severity::Unknown);
    }
    let graded = [
        (VaultPhase::parse(word) != VaultPhase::Unknown)
            .then(|| VaultPhase::parse(word).severity()),
        (TaskPhase::parse(word) != TaskPhase::Unknown).then(|| TaskPhase::parse(word).severity()),
        (ComponentStatus::parse(word) != ComponentStatus::Unknown)
            .then(|| ComponentStatus::parse(word).severity()),
        (SchedulePhase::parse(word) != SchedulePhase::Unknown)
            .then(|| SchedulePhase::parse(word).severity()),
    ];
    graded.into_iter().flatten().next()
}

impl<'a> BackupCenter<'a> {
    /// The vault `name` in `namespace` (vaults of one name in two namespaces stay apart).
    pub fn vault_in(&self, namespace: &str, name: &str) -> Option<&'a Vault> {
        // Looked up where the inventory keeps them, the first in view order (ACK's, then
        // Velero's) winning as a scan of `vaults()` would: an index built per view cost a
        // tenth of a scrape after a change, and a scan per task was quadratic at fleet scale.
        [Engine::Ack, Engine::Velero]
            .into_iter()
            .filter(|e| !self.is_mirror(*e, namespace))
            .find_map(|e| self.inventory.vaults.get_named(e, namespace, name))
    }

    /// The vault a task writes to, when it exists; `None` for a task naming none or one that
    /// was never created (Velero fails such a task with FailedValidation).
    pub fn task_vault(&self, task: &BackupTask) -> Option<&'a Vault> {
        self.named_vault(&task.namespace, &task.vault)
    }

    /// The vault a task or schedule names, when it names one and it exists.
    pub fn named_vault(&self, namespace: &str, vault: &str) -> Option<&'a Vault> {
        if vault.is_empty() {
            return None;
        }
        self.vault_in(namespace, vault)
    }

    /// Task counts by outcome of one vault (index `Outcome as usize`).
    pub fn vault_counts(&self, namespace: &str, vault: &str) -> [u64; Outcome::ALL.len()] {
        self.task_counts()
            .get(&(namespace, vault))
            .copied()
            .unwrap_or_default()
    }

    /// The phase a schedule is in: its controller's word, except that a schedule whose cron
    /// the engine rejects has failed validation even before any status says so.
    pub fn schedule_phase(&self, schedule: &Schedule) -> SchedulePhase {
        if schedule.interval_seconds.is_none() {
            SchedulePhase::FailedValidation
        } else {
            schedule.phase
        }
    }

    /// Whether the schedule produces backups at all: one that failed validation never runs,
    /// so it has no interval and no RPO.
    pub fn schedule_can_run(&self, schedule: &Schedule) -> bool {
        self.schedule_phase(schedule) != SchedulePhase::FailedValidation
    }

    /// Why a schedule cannot run, in the controller's words when it gave any.
    pub fn schedule_problem(&self, schedule: &Schedule) -> String {
        if !schedule.validation_errors.is_empty() {
            return schedule.validation_errors.join("; ");
        }
        schedule.cron_error.clone()
    }

    /// Reason class and data type together, deciding the reason once.
    pub fn detail(&self, view: &TaskView) -> (ReasonClass, DataType) {
        let reason = self.reason(view);
        (reason, self.data_type_given(view, reason))
    }

    /// Volume data type of a task (see docs/model.md for the rules).
    pub fn data_type(&self, view: &TaskView) -> DataType {
        self.data_type_given(view, self.reason(view))
    }

    fn data_type_given(&self, view: &TaskView, reason: ReasonClass) -> DataType {
        let t = view.task;
        if t.backup_type == BackupType::AppBackup {
            return DataType::NotApplicable;
        }
        if let Some(stated) = t
            .volumes
            .stated
            .or(view.twin.and_then(|w| w.volumes.stated))
        {
            return stated;
        }
        let snapshots = t
            .volumes
            .snapshots
            .or(view.twin.and_then(|w| w.volumes.snapshots));
        let file_system = self
            .inventory
            .pod_volume_backup_count(&t.namespace, &t.name);
        // ACK sends file-system volumes to Cloud Backup (HBR), which leaves no PodVolumeBackup;
        // an HBR failure is evidence that such volumes were part of the task.
        let files = file_system > 0 || reason == ReasonClass::HbrError;
        let files_type = match t.engine {
            Engine::Ack => DataType::Hbr,
            Engine::Velero => DataType::FileSystem,
        };
        match (snapshots.map(|n| n > 0), files) {
            (Some(true), true) => DataType::All,
            (Some(true), false) => DataType::Snapshot,
            (_, true) => files_type,
            (Some(false), false) if t.phase.is_terminal() => DataType::None,
            _ => DataType::Unknown,
        }
    }

    /// The controller's words on why a task failed: its own message, its twin's, or the newest
    /// Warning event about it.
    pub fn failure_message(&self, view: &TaskView) -> String {
        if !view.task.message.is_empty() {
            return view.task.message.to_string();
        }
        if let Some(twin) = view.twin.filter(|t| !t.message.is_empty()) {
            return twin.message.to_string();
        }
        self.inventory
            .events_about(&view.task.namespace, &view.task.name)
            .last()
            .map(|e| e.message.clone())
            .unwrap_or_default()
    }

    pub fn reason(&self, view: &TaskView) -> ReasonClass {
        if !view.task.phase.is_failure() {
            return ReasonClass::Unknown;
        }
        let class = ReasonClass::classify(&self.failure_message(view));
        match (class, view.task.phase) {
            (ReasonClass::Unknown, TaskPhase::FailedValidation) => ReasonClass::ValidationError,
            (ReasonClass::Unknown, TaskPhase::PartiallyFailed) => ReasonClass::PartialFailure,
            (class, _) => class,
        }
    }

    /// Seconds a non-terminal task has been running (since start, else creation).
    pub fn running_seconds(&self, task: &BackupTask) -> Option<f64> {
        task.started
            .or(task.created)
            .map(|since| self.seconds_since(since))
    }

    /// The controller's words on why a restore failed: its own, else its velero twin's.
    pub fn restore_failure_message(&self, view: &RestoreView) -> String {
        if !view.restore.message.is_empty() {
            return view.restore.message.clone();
        }
        view.twin.map(|t| t.message.clone()).unwrap_or_default()
    }

    /// Reason class of a failed restore; `Unknown` for one that has not failed.
    pub fn restore_reason(&self, view: &RestoreView) -> ReasonClass {
        if !view.restore.phase.is_failure() {
            return ReasonClass::Unknown;
        }
        match (
            ReasonClass::classify(&self.restore_failure_message(view)),
            view.restore.phase,
        ) {
            (ReasonClass::Unknown, TaskPhase::FailedValidation) => ReasonClass::ValidationError,
            (ReasonClass::Unknown, TaskPhase::PartiallyFailed) => ReasonClass::PartialFailure,
            (class, _) => class,
        }
    }

    /// Seconds since a timestamp, at the center's instant.
    pub fn seconds_since(&self, then: crate::model::Timestamp) -> f64 {
        (self.now.as_millisecond() - then.as_millisecond()) as f64 / 1000.0
    }
}

/// A schedule missed its RPO when its last good backup is older than this many intervals.
const RPO_FACTOR: f64 = 2.0;

impl BackupCenter<'_> {
    /// The RPO of a schedule: its own interval × 2; `None` for one that cannot run.
    pub fn schedule_rpo_seconds(&self, schedule: &Schedule) -> Option<f64> {
        if !self.schedule_can_run(schedule) {
            return None;
        }
        schedule.interval_seconds.map(|i| i * RPO_FACTOR)
    }

    /// Whether a schedule's newest good backup (`last_success`; with none, its creation) is
    /// older than its RPO. False when the RPO or both times are unknown.
    pub fn schedule_missed_rpo(
        &self,
        schedule: &Schedule,
        last_success: Option<crate::model::Timestamp>,
    ) -> bool {
        match (
            self.schedule_rpo_seconds(schedule),
            last_success.or(schedule.created),
        ) {
            (Some(rpo), Some(since)) => self.seconds_since(since) > rpo,
            _ => false,
        }
    }

    /// How long a task may stay unfinished before it is stuck. ACK: 2 h, twice the 60-minute
    /// velero subtask timeout after which csdr gives up. Velero: 1 h in Finalizing, else 4 h,
    /// its default item-operation and pod-volume timeouts.
    pub fn stuck_bound_seconds(&self, engine: Engine, phase: TaskPhase) -> f64 {
        const HOUR: f64 = 3600.0;
        match (engine, phase) {
            (Engine::Ack, _) => 2.0 * HOUR,
            (Engine::Velero, TaskPhase::Finalizing | TaskPhase::FinalizingPartiallyFailed) => HOUR,
            (Engine::Velero, _) => 4.0 * HOUR,
        }
    }
}

impl ComponentView<'_> {
    /// Ready pods: the workloads' count, else (pods only) the pods that run with every
    /// container ready; a crash-looping pod is in phase Running but not ready.
    pub fn pods_ready(&self) -> u64 {
        if !self.workloads.is_empty() {
            return self.workloads.iter().map(|w| w.ready).sum();
        }
        self.live_pods()
            .filter(|p| {
                PodPhase::parse(&p.phase) == PodPhase::Running
                    && !p.containers.is_empty()
                    && p.containers.iter().all(|c| c.ready)
            })
            .count() as u64
    }

    /// Desired pods: the workloads' count, else every pod found that has not ended.
    pub fn pods_desired(&self) -> u64 {
        if !self.workloads.is_empty() {
            return self.workloads.iter().map(|w| w.desired).sum();
        }
        self.live_pods().count() as u64
    }
}

#[cfg(test)]
mod doctor_verdict_tests {
    use crate::center::BackupCenter;
    use crate::center::tests::{inventory, now};
    use crate::model::{Engine, TaskPhase};
    use serde_json::json;

    #[test]
    fn stuck_bounds_and_rpo() {
        let inv = inventory(vec![
            json!({"apiVersion": "velero.io/v1", "kind": "Schedule",
            "metadata": {"name": "six", "namespace": "velero", "creationTimestamp": "2026-11-01T00:00:00Z"},
            "spec": {"schedule": "@every 6h"}, "status": {"phase": "Enabled"}}),
        ]);
        let c = BackupCenter::new(&inv, now());
        assert_eq!(
            c.stuck_bound_seconds(Engine::Ack, TaskPhase::InProgress),
            7200.0
        );
        assert_eq!(
            c.stuck_bound_seconds(Engine::Velero, TaskPhase::Finalizing),
            3600.0
        );
        assert_eq!(
            c.stuck_bound_seconds(Engine::Velero, TaskPhase::WaitingForPluginOperations),
            14400.0
        );
        let s = c.schedules().next().unwrap();
        assert_eq!(c.schedule_rpo_seconds(s), Some(43200.0));
        // 11h ago is within 2 × 6h; 13h ago is not; none since creation 24 days ago is not.
        assert!(!c.schedule_missed_rpo(s, Some("2026-11-24T22:00:00Z".parse().unwrap())));
        assert!(c.schedule_missed_rpo(s, Some("2026-11-24T20:00:00Z".parse().unwrap())));
        assert!(c.schedule_missed_rpo(s, None));
    }
}
