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
        self.vaults()
            .find(|v| v.namespace == namespace && v.name == name)
    }

    /// The vault a task writes to, when it exists; `None` for a task naming none or one that
    /// was never created (Velero fails such a task with FailedValidation).
    pub fn task_vault(&self, task: &BackupTask) -> Option<&'a Vault> {
        if task.vault.is_empty() {
            return None;
        }
        self.vault_in(&task.namespace, &task.vault)
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
            return view.task.message.clone();
        }
        if let Some(twin) = view.twin.filter(|t| !t.message.is_empty()) {
            return twin.message.clone();
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
        let since = task.started.or(task.created)?;
        Some((self.now.as_millisecond() - since.as_millisecond()) as f64 / 1000.0)
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

impl ComponentView<'_> {
    /// Ready pods: the workload's count, else (pods only) the pods that run with every
    /// container ready; a crash-looping pod is in phase Running but not ready.
    pub fn pods_ready(&self) -> u64 {
        match self.workload {
            Some(w) => w.ready,
            None => self
                .pods
                .iter()
                .filter(|p| {
                    PodPhase::parse(&p.phase) == PodPhase::Running
                        && !p.containers.is_empty()
                        && p.containers.iter().all(|c| c.ready)
                })
                .count() as u64,
        }
    }

    /// Desired pods: the workload's count, else every pod found.
    pub fn pods_desired(&self) -> u64 {
        match self.workload {
            Some(w) => w.desired,
            None => self.pods.len() as u64,
        }
    }
}
