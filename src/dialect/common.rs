//! What ACK's CRDs share with Velero's: the backup center mirrors Velero's BackupStorageLocation,
//! Schedule and Restore shapes, so both dialects read vaults, schedules and restores here and
//! differ only in the links they pass in.

use super::fields::{self, string};
use crate::model::{
    BackupType, Engine, RestoreTask, Schedule, SchedulePhase, TaskPhase, Vault, VaultPhase, cadence,
};
use serde_json::Value;
use std::collections::BTreeMap;

/// `spec.accessMode` of a vault that sets none.
const READ_WRITE: &str = "ReadWrite";

/// A vault (BackupLocation / BackupStorageLocation).
pub fn vault(obj: &Value, engine: Engine) -> Vault {
    let raw_phase = string(obj, &["status", "phase"]);
    Vault {
        engine,
        namespace: fields::namespace(obj),
        name: fields::name(obj),
        created: fields::created(obj),
        provider: string(obj, &["spec", "provider"]),
        bucket: string(obj, &["spec", "objectStorage", "bucket"]),
        prefix: string(obj, &["spec", "objectStorage", "prefix"]),
        region: string(obj, &["spec", "config", "region"]),
        // ACK's CR writes `internal`/`public`, its console `Public`: compare lower-cased.
        network_policy: string(obj, &["spec", "config", "network"]).to_lowercase(),
        // A vault without a phase has never been validated: Velero's own BSL controller counts
        // it as "unknown", so do we (empty parses as Unknown).
        phase: VaultPhase::parse(&raw_phase),
        raw_phase,
        last_validation: fields::time(obj, &["status", "lastValidationTime"]),
        message: string(obj, &["status", "message"]),
        default: fields::boolean(obj, &["spec", "default"]).unwrap_or(false),
        // Unset is ReadWrite: the CRD's default, and what `velero backup-location get` prints.
        access_mode: match string(obj, &["spec", "accessMode"]).trim() {
            "" => READ_WRITE.to_string(),
            mode => mode.to_string(),
        },
        credential_secret: string(obj, &["spec", "credential", "name"]),
        config: config(obj),
    }
}

/// `spec.config` as strings (Velero's type is map[string]string; hand-written YAML may leave
/// `true` unquoted). A key that names a secret, password, token or access key is dropped:
/// providers keep credentials in the Secret, and backupscope never holds one.
fn config(obj: &Value) -> BTreeMap<String, String> {
    let Some(Value::Object(map)) = fields::at(obj, &["spec", "config"]) else {
        return BTreeMap::new();
    };
    map.iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !["secret", "password", "token", "accesskey", "access_key"]
                .iter()
                .any(|w| k.contains(w))
        })
        .filter_map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((k.clone(), v))
        })
        .collect()
}

/// A schedule; `vault` and `backup_type` come from the dialect, which knows its template.
pub fn schedule(obj: &Value, engine: Engine, vault: String, backup_type: BackupType) -> Schedule {
    let cron = string(obj, &["spec", "schedule"]);
    let syntax = match engine {
        Engine::Velero => cadence::Syntax::Standard,
        Engine::Ack => cadence::Syntax::StandardOrInterval,
    };
    let raw_phase = string(obj, &["status", "phase"]);
    let (interval_seconds, cron_error) = match cadence::expected_interval_seconds(&cron, syntax) {
        Ok(s) => (Some(s), String::new()),
        Err(e) => (None, e.to_string()),
    };
    Schedule {
        engine,
        namespace: fields::namespace(obj),
        name: fields::name(obj),
        created: fields::created(obj),
        cron,
        interval_seconds,
        cron_error,
        paused: fields::boolean(obj, &["spec", "paused"]).unwrap_or(false),
        vault,
        backup_type,
        // A schedule the controller has not looked at yet is New (Velero's first phase).
        phase: if raw_phase.is_empty() {
            SchedulePhase::New
        } else {
            SchedulePhase::parse(&raw_phase)
        },
        raw_phase,
        validation_errors: fields::strings(obj, &["status", "validationErrors"]),
        last_backup: fields::time(obj, &["status", "lastBackup"]),
    }
}

/// A restore task; `schedule` is the schedule whose backup it restores, when known.
pub fn restore(obj: &Value, engine: Engine, schedule: String) -> RestoreTask {
    let raw_phase = string(obj, &["status", "phase"]);
    RestoreTask {
        engine,
        namespace: fields::namespace(obj),
        name: fields::name(obj),
        created: fields::created(obj),
        backup: string(obj, &["spec", "backupName"]),
        schedule,
        phase: TaskPhase::parse_or_new(Some(&raw_phase)),
        raw_phase,
        started: fields::time(obj, &["status", "startTimestamp"]),
        completed: fields::time(obj, &["status", "completionTimestamp"]),
        message: failure_message(obj),
        errors: fields::count(obj, &["status", "errors"]),
        warnings: fields::count(obj, &["status", "warnings"]),
    }
}

/// The phase of a backup task. One being deleted is `Deleting` whatever its status says:
/// Velero's `backup get` prints Deleting whenever `metadata.deletionTimestamp` is set
/// (backup_printer.go), and ACK deletes its tasks the same way, so a Completed backup on its
/// way out is no longer a recovery point. The status phase stays the record's raw phase.
pub fn backup_phase(obj: &Value, raw_phase: &str) -> TaskPhase {
    if being_deleted(obj) {
        TaskPhase::Deleting
    } else {
        TaskPhase::parse_or_new(Some(raw_phase))
    }
}

/// `metadata.deletionTimestamp` is set: the API server is waiting for finalizers to remove it.
fn being_deleted(obj: &Value) -> bool {
    !string(obj, &["metadata", "deletionTimestamp"])
        .trim()
        .is_empty()
}

/// The controller's own words on a failure: Velero's `failureReason` and `validationErrors`,
/// ACK's `status.message` (each system writes only its own field).
pub fn failure_message(obj: &Value) -> String {
    let reason = [&["status", "failureReason"][..], &["status", "message"][..]]
        .iter()
        .map(|p| string(obj, p))
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    let validation = fields::strings(obj, &["status", "validationErrors"]).join("; ");
    match (reason.is_empty(), validation.is_empty()) {
        (_, true) => reason,
        (true, false) => format!("validation failed: {validation}"),
        (false, false) => format!("{reason}; validation failed: {validation}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_backup_being_deleted_is_deleting_whatever_its_status() {
        let deleting =
            json!({"metadata": {"name": "old", "deletionTimestamp": "2026-11-25T08:00:00Z"}});
        assert_eq!(backup_phase(&deleting, "Completed"), TaskPhase::Deleting);
        assert_eq!(backup_phase(&deleting, ""), TaskPhase::Deleting);
        let kept = json!({"metadata": {"name": "new", "deletionTimestamp": null}});
        assert_eq!(backup_phase(&kept, "Completed"), TaskPhase::Completed);
        assert_eq!(backup_phase(&kept, ""), TaskPhase::New);
    }

    #[test]
    fn vault_config_keeps_settings_and_drops_what_could_be_a_secret() {
        let bsl = json!({
            "metadata": {"name": "minio", "namespace": "velero"},
            "spec": {
                "provider": "aws",
                "objectStorage": {"bucket": "b"},
                "config": {
                    "region": "us-east-1",
                    "s3Url": "https://minio:9000",
                    "s3ForcePathStyle": true,
                    "checksumAlgorithm": "",
                    "maxRetries": 3,
                    "nested": {"x": 1},
                    "secretAccessKey": "never",
                    "sessionToken": "never",
                    "password": "never",
                },
                "credential": {"name": "cloud", "key": "cloud"},
            },
        });
        let v = vault(&bsl, Engine::Velero);
        let got: Vec<(&str, &str)> = v
            .config
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("checksumAlgorithm", ""),
                ("maxRetries", "3"),
                ("region", "us-east-1"),
                ("s3ForcePathStyle", "true"),
                ("s3Url", "https://minio:9000"),
            ]
        );
        assert_eq!(v.credential_secret, "cloud");
        assert_eq!(v.access_mode, "ReadWrite", "unset reads as the CRD default");
        assert!(!v.read_only());
        // No config at all, or not a map: empty.
        let bare = json!({"metadata": {"name": "x"}, "spec": {"config": "odd"}});
        assert!(vault(&bare, Engine::Ack).config.is_empty());
    }
}
