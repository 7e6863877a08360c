//! Dialects turn raw Kubernetes objects (as `kubectl get -o json|yaml` or the API server
//! returns them) into model records. Every decision about what a field means lives here.

pub mod ack;
mod common;
pub mod components;
mod fields;
pub mod velero;

use crate::model::{Record, WorkloadKind};
use serde_json::Value;

/// What became of one raw object.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    Record(Box<Record>),
    /// A kind backupscope reads, but this object does not concern the backup center
    /// (a Normal event, a pod of another application).
    Irrelevant,
    /// A kind backupscope does not read; counted, not an error.
    UnknownKind,
}

/// Why an object cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    #[error("not a Kubernetes object (expected a mapping with apiVersion and kind)")]
    NotAnObject,
    #[error("{kind} object has no metadata.name")]
    NoName { kind: String },
}

/// `apiVersion` and `kind` of a raw object, and its group.
pub struct TypeMeta<'a> {
    pub group: &'a str,
    pub kind: &'a str,
}

pub fn type_meta(obj: &Value) -> Option<TypeMeta<'_>> {
    let api_version = obj.get("apiVersion")?.as_str()?;
    let kind = obj.get("kind")?.as_str()?;
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    Some(TypeMeta { group, kind })
}

/// Maps a raw object into the model.
pub fn map(obj: &Value) -> Result<Mapped, ObjectError> {
    let meta = type_meta(obj).ok_or(ObjectError::NotAnObject)?;
    let known = matches!(
        (meta.group, meta.kind),
        (ack::GROUP, _)
            | (velero::GROUP, _)
            | ("apps", "Deployment" | "DaemonSet")
            | ("", "Pod" | "Event")
            | ("events.k8s.io", "Event")
    );
    if !known {
        return Ok(Mapped::UnknownKind);
    }
    if fields::name(obj).is_empty() {
        return Err(ObjectError::NoName {
            kind: meta.kind.to_string(),
        });
    }
    let record = match (meta.group, meta.kind) {
        (ack::GROUP, kind) => match ack::map(kind, obj) {
            Some(r) => Some(r),
            None => return Ok(Mapped::UnknownKind),
        },
        (velero::GROUP, kind) => match velero::map(kind, obj) {
            Some(r) => Some(r),
            None => return Ok(Mapped::UnknownKind),
        },
        ("apps", "Deployment") => components::map_workload(WorkloadKind::Deployment, obj),
        ("apps", "DaemonSet") => components::map_workload(WorkloadKind::DaemonSet, obj),
        ("", "Pod") => components::map_pod(obj),
        ("", "Event") => components::map_event(obj, false),
        _ => components::map_event(obj, true),
    };
    Ok(match record {
        Some(r) => Mapped::Record(Box::new(r)),
        None => Mapped::Irrelevant,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn routes_by_group_and_kind() {
        let v = json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "BackupLocation",
                       "metadata": {"name": "v"}});
        assert!(matches!(map(&v), Ok(Mapped::Record(r)) if matches!(*r, Record::Vault(_))));
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert_eq!(map(&cm), Ok(Mapped::UnknownKind));
        let dr = json!({"apiVersion": "csdr.alibabacloud.com/v1beta1", "kind": "DeleteRequest",
                        "metadata": {"name": "x"}});
        assert_eq!(map(&dr), Ok(Mapped::UnknownKind));
    }

    #[test]
    fn malformed_objects_are_errors_not_panics() {
        assert_eq!(map(&json!([1, 2])), Err(ObjectError::NotAnObject));
        assert_eq!(
            map(&json!({"kind": "Backup"})),
            Err(ObjectError::NotAnObject)
        );
        let nameless = json!({"apiVersion": "velero.io/v1", "kind": "Backup", "metadata": {}});
        assert!(matches!(map(&nameless), Err(ObjectError::NoName { .. })));
    }

    #[test]
    fn huge_names_survive() {
        let long = "n".repeat(10_000);
        let v = json!({"apiVersion": "velero.io/v1", "kind": "Backup",
                       "metadata": {"name": long, "namespace": "velero"},
                       "status": {"phase": long}});
        let Ok(Mapped::Record(r)) = map(&v) else {
            panic!("not mapped")
        };
        let Record::Backup(b) = *r else {
            panic!("not a backup")
        };
        assert_eq!(b.name.len(), 10_000);
        assert_eq!(b.phase, crate::model::TaskPhase::Unknown);
    }
}
