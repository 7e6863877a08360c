//! Upstream Velero (`velero.io/v1`): BackupStorageLocation, Backup, Schedule, Restore and
//! PodVolumeBackup, per ../shared/reference/velero.md §1.

use super::common;
use super::fields::{self, string};
use crate::model::{BackupTask, BackupType, Engine, PodVolumeBackup, Record, VolumeEvidence};
use serde_json::Value;

pub const GROUP: &str = "velero.io";
const SCHEDULE_LABEL: &str = "velero.io/schedule-name";
const STORAGE_LOCATION_LABEL: &str = "velero.io/storage-location";
const BACKUP_NAME_LABEL: &str = "velero.io/backup-name";

pub fn map(kind: &str, obj: &Value) -> Option<Record> {
    Some(match kind {
        "BackupStorageLocation" => Record::Vault(common::vault(obj, Engine::Velero)),
        "Backup" => Record::Backup(backup(obj)),
        "Schedule" => {
            let template = fields::at(obj, &["spec", "template"]);
            let vault = template
                .map(|t| string(t, &["storageLocation"]))
                .unwrap_or_default();
            Record::Schedule(common::schedule(
                obj,
                Engine::Velero,
                vault,
                backup_type(template),
            ))
        }
        "Restore" => {
            // The schedule whose latest good backup is restored (`velero restore create
            // --from-schedule`), else the label Velero copies from it.
            let mut schedule = string(obj, &["spec", "scheduleName"]);
            if schedule.is_empty() {
                schedule = fields::label(obj, SCHEDULE_LABEL);
            }
            Record::Restore(common::restore(obj, Engine::Velero, schedule))
        }
        "PodVolumeBackup" => Record::PodVolumeBackup(PodVolumeBackup {
            namespace: fields::namespace(obj),
            name: fields::name(obj),
            backup: fields::label(obj, BACKUP_NAME_LABEL),
            raw_phase: string(obj, &["status", "phase"]),
        }),
        _ => return None,
    })
}

/// Velero has no BackupType field: a backup copies volume data unless it turns both volume
/// snapshots and file-system backup off.
fn backup_type(spec: Option<&Value>) -> BackupType {
    let Some(spec) = spec else {
        return BackupType::AppAndPvBackup;
    };
    let snapshots = fields::boolean(spec, &["snapshotVolumes"]).unwrap_or(true);
    let fs = fields::boolean(spec, &["defaultVolumesToFsBackup"]).unwrap_or(false)
        || fields::boolean(spec, &["defaultVolumesToRestic"]).unwrap_or(false);
    if snapshots || fs {
        BackupType::AppAndPvBackup
    } else {
        BackupType::AppBackup
    }
}

fn snapshot_count(obj: &Value) -> Option<u64> {
    let counts: Vec<u64> = [
        "volumeSnapshotsAttempted",
        "csiVolumeSnapshotsAttempted",
        "backupItemOperationsAttempted",
    ]
    .iter()
    .filter_map(|f| fields::count(obj, &["status", f]))
    .collect();
    (!counts.is_empty()).then(|| counts.iter().sum())
}

fn backup(obj: &Value) -> BackupTask {
    let raw_phase = string(obj, &["status", "phase"]);
    let mut vault = string(obj, &["spec", "storageLocation"]);
    if vault.is_empty() {
        vault = fields::label(obj, STORAGE_LOCATION_LABEL);
    }
    BackupTask {
        engine: Engine::Velero,
        namespace: fields::namespace(obj).into(),
        name: fields::name(obj).into(),
        created: fields::created(obj),
        vault: vault.into(),
        schedule: fields::label(obj, SCHEDULE_LABEL).into(),
        backup_type: backup_type(obj.get("spec")),
        volumes: VolumeEvidence {
            stated: None,
            snapshots: snapshot_count(obj),
        },
        phase: common::backup_phase(obj, &raw_phase),
        raw_phase: raw_phase.into(),
        started: fields::time(obj, &["status", "startTimestamp"]),
        completed: fields::time(obj, &["status", "completionTimestamp"]),
        expiration: fields::time(obj, &["status", "expiration"]),
        message: common::failure_message(obj).into(),
        errors: fields::count(obj, &["status", "errors"]),
        warnings: fields::count(obj, &["status", "warnings"]),
        included_namespaces: fields::strings(obj, &["spec", "includedNamespaces"]).into(),
        ttl: string(obj, &["spec", "ttl"]).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TaskPhase, VaultPhase};
    use serde_json::json;

    fn task(v: Value) -> BackupTask {
        match map("Backup", &v) {
            Some(Record::Backup(b)) => b,
            other => panic!("not a backup: {other:?}"),
        }
    }

    #[test]
    fn backup_fields_and_labels() {
        let b = task(json!({
            "metadata": {"name": "daily-20261124020000", "namespace": "velero",
                         "labels": {"velero.io/schedule-name": "daily", "velero.io/storage-location": "default"}},
            "spec": {"ttl": "720h0m0s"},
            "status": {"phase": "PartiallyFailed", "errors": 3, "warnings": 1,
                       "csiVolumeSnapshotsAttempted": 2, "volumeSnapshotsAttempted": 1}
        }));
        assert_eq!(b.vault, "default", "storage-location label is the fallback");
        assert_eq!(b.schedule, "daily");
        assert_eq!(b.phase, TaskPhase::PartiallyFailed);
        assert_eq!(b.volumes.snapshots, Some(3));
        assert_eq!(b.errors, Some(3));
        assert_eq!(b.backup_type, BackupType::AppAndPvBackup);
    }

    #[test]
    fn v118_phases_and_validation_errors() {
        let b = task(json!({"metadata": {"name": "q"}, "status": {"phase": "Queued"}}));
        assert_eq!(b.phase, TaskPhase::Queued);
        let b = task(
            json!({"metadata": {"name": "v"}, "spec": {"snapshotVolumes": false},
            "status": {"phase": "FailedValidation", "validationErrors": ["a", "b"]}}),
        );
        assert_eq!(b.message, "validation failed: a; b");
        assert_eq!(b.backup_type, BackupType::AppBackup);
        assert_eq!(b.volumes.snapshots, None);
    }

    #[test]
    fn v1_10_uploading_phases_are_unfinished_and_keep_their_raw_text() {
        let b = task(json!({"metadata": {"name": "u"}, "status": {"phase": "Uploading"}}));
        assert_eq!(b.phase, TaskPhase::WaitingForPluginOperations);
        assert_eq!(b.raw_phase, "Uploading");
        let b = task(
            json!({"metadata": {"name": "p"}, "status": {"phase": "UploadingPartialFailure"}}),
        );
        assert_eq!(
            b.phase,
            TaskPhase::WaitingForPluginOperationsPartiallyFailed
        );
        assert_eq!(b.raw_phase, "UploadingPartialFailure");
    }

    #[test]
    fn a_completed_backup_being_deleted_is_deleting() {
        let b = task(json!({
            "metadata": {"name": "old-being-deleted", "namespace": "velero",
                         "deletionTimestamp": "2026-11-25T08:00:00Z",
                         "finalizers": ["velero.io/backup-deletion"]},
            "status": {"phase": "Completed", "completionTimestamp": "2026-10-01T00:00:00Z"}
        }));
        assert_eq!(b.phase, TaskPhase::Deleting);
        assert_eq!(
            b.raw_phase, "Completed",
            "describe still shows the status phase"
        );
    }

    #[test]
    fn never_validated_bsl_is_unknown() {
        let Some(Record::Vault(v)) = map(
            "BackupStorageLocation",
            &json!({"metadata": {"name": "d"},
            "spec": {"default": true, "provider": "aws", "objectStorage": {"bucket": "b"}}}),
        ) else {
            panic!("not a vault")
        };
        assert_eq!(v.phase, VaultPhase::Unknown, "Velero counts it as unknown");
        assert_eq!(v.raw_phase, "");
        assert!(v.default);
    }
}
