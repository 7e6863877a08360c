//! ACK backup center (`csdr.alibabacloud.com`): BackupLocation, ApplicationBackup,
//! BackupSchedule, ApplicationRestore. Field paths follow ../shared/reference/ack-backup-center.md;
//! several are RECALLED there, so each has a lenient fallback and a missing field reads empty.

use super::common;
use super::fields::{self, at, string};
use crate::model::{BackupTask, BackupType, DataType, Engine, Record, Schedule, VolumeEvidence};
use serde_json::Value;

pub const GROUP: &str = "csdr.alibabacloud.com";
/// The namespace the backup center runs in; velero.io objects here mirror csdr objects.
pub const NAMESPACE: &str = "csdr";
const SCHEDULE_LABEL: &str = "csdr/schedule-name";
const VAULT_ANNOTATION: &str = "csdr.alibabacloud.com/backuplocations";

pub fn map(kind: &str, obj: &Value) -> Option<Record> {
    Some(match kind {
        "BackupLocation" => Record::Vault(common::vault(obj, Engine::Ack)),
        "ApplicationBackup" => Record::Backup(backup(obj)),
        "BackupSchedule" => Record::Schedule(schedule(obj)),
        "ApplicationRestore" => Record::Restore(common::restore(obj, Engine::Ack, String::new())),
        _ => return None,
    })
}

/// The vault named by the JSON annotation the console writes, the fallback vault link.
fn annotated_vault(obj: &Value) -> String {
    let raw = fields::annotation(obj, VAULT_ANNOTATION);
    if raw.is_empty() || raw.len() > 64 * 1024 {
        return String::new();
    }
    serde_json::from_str::<Value>(&raw)
        .map(|v| string(&v, &["name"]))
        .unwrap_or_default()
}

fn backup_type(spec: Option<&Value>) -> BackupType {
    match spec.map(|s| string(s, &["backupType"])) {
        Some(t) if !t.is_empty() => BackupType::parse(&t),
        // Without the field, volume data is backed up exactly when pvBackup asks for it.
        _ => match spec.and_then(|s| fields::boolean(s, &["pvBackup", "defaultPvBackup"])) {
            Some(true) => BackupType::AppAndPvBackup,
            Some(false) => BackupType::AppBackup,
            None => BackupType::Unknown,
        },
    }
}

fn stated_data_type(obj: &Value) -> Option<DataType> {
    [&["status", "dataType"][..], &["spec", "dataType"][..]]
        .iter()
        .map(|path| string(obj, path))
        .find(|s| !s.is_empty())
        .map(|s| DataType::parse(&s.to_lowercase()))
}

fn backup(obj: &Value) -> BackupTask {
    let raw_phase = string(obj, &["status", "phase"]);
    let mut vault = string(obj, &["spec", "storageLocation"]);
    if vault.is_empty() {
        vault = annotated_vault(obj);
    }
    BackupTask {
        engine: Engine::Ack,
        namespace: fields::namespace(obj).into(),
        name: fields::name(obj).into(),
        created: fields::created(obj),
        vault: vault.into(),
        schedule: fields::label(obj, SCHEDULE_LABEL).into(),
        backup_type: backup_type(obj.get("spec")),
        volumes: VolumeEvidence {
            stated: stated_data_type(obj),
            snapshots: None,
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

fn schedule(obj: &Value) -> Schedule {
    let template = at(obj, &["spec", "template"]);
    let mut vault = template
        .map(|t| string(t, &["storageLocation"]))
        .unwrap_or_default();
    if vault.is_empty() {
        vault = annotated_vault(obj);
    }
    common::schedule(obj, Engine::Ack, vault, backup_type(template))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TaskPhase, VaultPhase};
    use serde_json::json;

    fn task(v: Value) -> BackupTask {
        match map("ApplicationBackup", &v) {
            Some(Record::Backup(b)) => b,
            other => panic!("not a backup: {other:?}"),
        }
    }

    #[test]
    fn backup_links_vault_schedule_and_type() {
        let b = task(json!({
            "metadata": {"name": "plan-a-20261125040100", "namespace": "csdr",
                         "labels": {"csdr/schedule-name": "plan-a"}},
            "spec": {"backupType": "AppAndPvBackup", "storageLocation": "vault-1",
                     "includedNamespaces": ["shop"], "ttl": "720h0m0s"},
            "status": {"phase": "Failed", "message": "VaultError: backup vault is unavailable"}
        }));
        assert_eq!(b.vault, "vault-1");
        assert_eq!(b.schedule, "plan-a");
        assert_eq!(b.backup_type, BackupType::AppAndPvBackup);
        assert_eq!(b.phase, TaskPhase::Failed);
        assert_eq!(b.message, "VaultError: backup vault is unavailable");
    }

    #[test]
    fn vault_falls_back_to_the_annotation() {
        let b = task(json!({
            "metadata": {"name": "x", "annotations": {
                "csdr.alibabacloud.com/backuplocations":
                    "{\"name\":\"vault-2\",\"region\":\"cn-beijing\",\"bucket\":\"b\"}"}},
            "spec": {"pvBackup": {"defaultPvBackup": false}}
        }));
        assert_eq!(b.vault, "vault-2");
        assert_eq!(b.backup_type, BackupType::AppBackup);
        assert_eq!(b.schedule, "");
        assert_eq!(
            b.phase,
            TaskPhase::New,
            "missing status reads as not started"
        );
    }

    #[test]
    fn broken_annotation_unknown_phase_and_wrong_types_do_not_panic() {
        let b = task(json!({
            "metadata": {"name": 42, "annotations": {"csdr.alibabacloud.com/backuplocations": "{not json"}},
            "spec": {"backupType": ["AppBackup"], "storageLocation": {"a": 1}},
            "status": {"phase": "Exploding", "startTimestamp": 17}
        }));
        assert_eq!(b.name, "42");
        assert_eq!(b.vault, "");
        assert_eq!(b.backup_type, BackupType::Unknown);
        assert_eq!(b.phase, TaskPhase::Unknown);
        assert_eq!(b.raw_phase, "Exploding");
        assert_eq!(b.started, None);
    }

    #[test]
    fn a_task_being_deleted_is_deleting() {
        let b = task(json!({
            "metadata": {"name": "d", "namespace": "csdr", "deletionTimestamp": "2026-11-25T08:00:00Z"},
            "status": {"phase": "Completed"}
        }));
        assert_eq!(b.phase, TaskPhase::Deleting);
        assert_eq!(b.raw_phase, "Completed");
    }

    #[test]
    fn vault_fields_and_network_case() {
        let Some(Record::Vault(v)) = map(
            "BackupLocation",
            &json!({
                "metadata": {"name": "v", "namespace": "csdr"},
                "spec": {"provider": "alibabacloud", "objectStorage": {"bucket": "cnfs-oss-x", "prefix": "p"},
                         "config": {"network": "Public", "region": "cn-hangzhou"}},
                "status": {"phase": "Unavailable", "message": "403"}
            }),
        ) else {
            panic!("not a vault")
        };
        assert_eq!(v.network_policy, "public");
        assert_eq!(v.bucket, "cnfs-oss-x");
        assert_eq!(v.phase, VaultPhase::Unavailable);
    }

    #[test]
    fn schedule_interval_from_cron_or_interval() {
        let Some(Record::Schedule(s)) = map(
            "BackupSchedule",
            &json!({"metadata": {"name": "s"}, "spec": {"schedule": "6h30m", "paused": "true",
                    "template": {"storageLocation": "v", "backupType": "AppBackup"}}}),
        ) else {
            panic!("not a schedule")
        };
        assert_eq!(s.interval_seconds, Some(6.5 * 3600.0));
        assert!(s.paused);
        assert_eq!(s.vault, "v");
        let Some(Record::Schedule(bad)) = map(
            "BackupSchedule",
            &json!({"metadata": {"name": "s"}, "spec": {"schedule": "every tuesday"}}),
        ) else {
            panic!("not a schedule")
        };
        assert_eq!(bad.interval_seconds, None);
        assert!(!bad.cron_error.is_empty());
    }
}
