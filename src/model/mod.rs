//! The dialect-neutral model of a backup center: what both ACK's backup center and Velero
//! have, in the backup center's own words (vault, backup task, schedule, restore, component).
//!
//! Records hold only what the views need; dialects (`crate::dialect`) fill them from raw
//! objects, the inventory (`crate::inventory`) stores them, views read them.

#[macro_use]
mod phase;
pub mod cadence;
pub mod quantity;
mod reason;
mod shared;
mod workload;

pub use phase::{
    BackupType, ComponentStatus, DataType, Outcome, PodPhase, SchedulePhase, TaskPhase, VaultPhase,
};
pub use reason::ReasonClass;
pub use shared::{Interner, SharedList, SharedStr};
pub use workload::{
    ComponentMatch, ContainerSpec, ContainerStatus, MatchedBy, Pod, PodOwner, Resources,
    Termination, Workload, WorkloadKind,
};

use serde::Serialize;
use std::collections::BTreeMap;

pub type Timestamp = jiff::Timestamp;

/// Which backup system wrote an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Ack,
    Velero,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Ack => "ack",
            Engine::Velero => "velero",
        }
    }
}

/// A backup vault: ACK BackupLocation or Velero BackupStorageLocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vault {
    pub engine: Engine,
    pub namespace: String,
    pub name: String,
    pub created: Option<Timestamp>,
    pub provider: String,
    pub bucket: String,
    pub prefix: String,
    pub region: String,
    /// ACK `spec.config.network`, lower-cased (`internal` / `public`); empty for Velero.
    pub network_policy: String,
    pub phase: VaultPhase,
    pub raw_phase: String,
    pub last_validation: Option<Timestamp>,
    /// Why the controller marked it unavailable (Velero `status.message`).
    pub message: String,
    /// `spec.default`: the vault a backup naming none goes to.
    pub default: bool,
    /// `spec.accessMode`: `ReadWrite` (also when unset) or `ReadOnly`, a vault to restore
    /// from only, which Velero refuses backups to.
    pub access_mode: String,
    /// Name of the Secret holding the credentials; never its content.
    pub credential_secret: String,
    /// `spec.config` (provider settings: `region`, `s3Url`, `s3ForcePathStyle`, `network`,
    /// ...), scalars as strings; keys that could hold a secret are left out.
    pub config: BTreeMap<String, String>,
}

impl Vault {
    /// A vault the engine only restores from: backups naming it fail validation.
    pub fn read_only(&self) -> bool {
        self.access_mode == "ReadOnly"
    }
}

/// Evidence about where a backup's volume data went, collected from the task itself; the
/// view combines it with its twin and PodVolumeBackups into a [`DataType`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VolumeEvidence {
    /// A data type the controller stated itself (`status.dataType`/`spec.dataType`).
    pub stated: Option<DataType>,
    /// Disk/CSI snapshots attempted (`volumeSnapshotsAttempted + csiVolumeSnapshotsAttempted
    /// + backupItemOperationsAttempted`), when the status carries the counters.
    pub snapshots: Option<u64>,
}

/// A backup task: ACK ApplicationBackup or Velero Backup.
///
/// There are 100 000s of these, so the texts are [`SharedStr`]s: the inventory interns the
/// repeated ones (namespace, vault, schedule, raw phase, message, ttl) and shares the name
/// with its key and task index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupTask {
    pub engine: Engine,
    pub namespace: SharedStr,
    pub name: SharedStr,
    pub created: Option<Timestamp>,
    /// The vault the task writes to; empty when the object names none.
    pub vault: SharedStr,
    /// The schedule that created it (FromSchedule); empty for a manual backup.
    pub schedule: SharedStr,
    pub backup_type: BackupType,
    pub volumes: VolumeEvidence,
    pub phase: TaskPhase,
    pub raw_phase: SharedStr,
    pub started: Option<Timestamp>,
    pub completed: Option<Timestamp>,
    pub expiration: Option<Timestamp>,
    /// The controller's own words on a failure (ACK status message, Velero failureReason and
    /// validationErrors).
    pub message: SharedStr,
    pub errors: Option<u64>,
    pub warnings: Option<u64>,
    pub included_namespaces: SharedList,
    pub ttl: SharedStr,
}

impl BackupTask {
    /// The phase as reports name it to a person ([`TaskPhase::shown`]).
    pub fn shown_phase(&self) -> String {
        self.phase.shown(&self.raw_phase)
    }
}

/// A schedule: ACK BackupSchedule or Velero Schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    pub engine: Engine,
    pub namespace: String,
    pub name: String,
    pub created: Option<Timestamp>,
    /// As written: a 5-field cron or an interval such as `6h30m`.
    pub cron: String,
    /// Longest expected gap between two runs; `None` when the schedule string is invalid.
    pub interval_seconds: Option<f64>,
    /// Why `interval_seconds` is missing.
    pub cron_error: String,
    pub paused: bool,
    pub vault: String,
    pub backup_type: BackupType,
    /// `status.phase` as the controller wrote it; the center decides the effective phase.
    pub phase: SchedulePhase,
    pub raw_phase: String,
    /// `status.validationErrors`: why the controller refused the schedule.
    pub validation_errors: Vec<String>,
    pub last_backup: Option<Timestamp>,
}

/// A restore task: ACK ApplicationRestore or Velero Restore.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestoreTask {
    pub engine: Engine,
    pub namespace: String,
    pub name: String,
    pub created: Option<Timestamp>,
    pub backup: String,
    pub schedule: String,
    pub phase: TaskPhase,
    pub raw_phase: String,
    pub started: Option<Timestamp>,
    pub completed: Option<Timestamp>,
    pub message: String,
    pub errors: Option<u64>,
    pub warnings: Option<u64>,
}

impl RestoreTask {
    /// The phase as reports name it to a person ([`TaskPhase::shown`]).
    pub fn shown_phase(&self) -> String {
        self.phase.shown(&self.raw_phase)
    }
}

/// A Velero PodVolumeBackup: file-system (on ACK: Cloud Backup) evidence for a backup task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodVolumeBackup {
    pub namespace: String,
    pub name: String,
    pub backup: String,
    pub raw_phase: String,
}

/// A non-Normal Kubernetes event (the backup center reports failures this way).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarningEvent {
    pub namespace: String,
    pub name: String,
    pub event_type: String,
    pub involved_kind: String,
    pub involved_name: String,
    pub involved_namespace: String,
    pub reason: String,
    pub message: String,
    pub count: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub source: String,
}

/// One object as the model understands it; what a dialect produces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Record {
    Vault(Vault),
    Backup(BackupTask),
    Schedule(Schedule),
    Restore(RestoreTask),
    PodVolumeBackup(PodVolumeBackup),
    Workload(Workload),
    Pod(Pod),
    Event(WarningEvent),
}

/// What kind of record a key addresses; with engine, namespace and name it identifies a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum RecordKind {
    Vault,
    Backup,
    Schedule,
    Restore,
    PodVolumeBackup,
    Workload(WorkloadKind),
    Pod,
    Event,
}

/// Identity of a record in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RecordKey {
    pub kind: RecordKind,
    pub engine: Option<Engine>,
    pub namespace: String,
    pub name: String,
}

impl Record {
    pub fn key(&self) -> RecordKey {
        let (kind, engine, namespace, name) = match self {
            Record::Vault(v) => (RecordKind::Vault, Some(v.engine), &*v.namespace, &*v.name),
            Record::Backup(b) => (RecordKind::Backup, Some(b.engine), &*b.namespace, &*b.name),
            Record::Schedule(s) => (
                RecordKind::Schedule,
                Some(s.engine),
                &*s.namespace,
                &*s.name,
            ),
            Record::Restore(r) => (RecordKind::Restore, Some(r.engine), &*r.namespace, &*r.name),
            Record::PodVolumeBackup(p) => (
                RecordKind::PodVolumeBackup,
                Some(Engine::Velero),
                &*p.namespace,
                &*p.name,
            ),
            Record::Workload(w) => (RecordKind::Workload(w.kind), None, &*w.namespace, &*w.name),
            Record::Pod(p) => (RecordKind::Pod, None, &*p.namespace, &*p.name),
            Record::Event(e) => (RecordKind::Event, None, &*e.namespace, &*e.name),
        };
        RecordKey {
            kind,
            engine,
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}
